//! Parses and classifies incoming events. Pure: no AWS call is made for an
//! event that ends here.

use crate::error::{Error, Result};
use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use serde::{Deserialize, Serialize};

/// The detail-type EventBridge gives EC2 state changes.
pub const STATE_CHANGE_DETAIL_TYPE: &str = "EC2 Instance State-change Notification";

/// `detail` of an EC2 state-change event.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub struct StateChangeDetail {
    pub instance_id: String,
    pub state: String,
}

/// What an event asks of the registrar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// `running`: write the instance's records.
    Register,
    /// `stopping`, `stopped`, `shutting-down`, `terminated`: delete what it owns.
    Deregister,
    /// `pending`: nothing to do yet.
    Ignore,
}

/// A parsed EC2 state change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StateChange {
    pub event_id: String,
    pub instance_id: String,
    pub state: String,
    pub action: Action,
    /// RFC 3339 UTC, seconds precision: comparable as a string.
    pub time: Option<String>,
    pub region: Option<String>,
}

/// Formats a time the way it is stored and compared in the registry.
pub fn format_time(time: &chrono::DateTime<chrono::Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Parses an EventBridge event given as JSON text.
pub fn parse_str(text: &str) -> Result<StateChange> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| Error::BadEvent(format!("not JSON: {e}")))?;
    parse(value)
}

/// Parses an EventBridge event of detail-type
/// `EC2 Instance State-change Notification`; anything else is a `BadEvent`.
pub fn parse(value: serde_json::Value) -> Result<StateChange> {
    if !value.is_object() {
        return Err(Error::BadEvent(
            "expected an EventBridge event (a JSON object with source, detail-type and detail)"
                .into(),
        ));
    }
    let event: EventBridgeEvent<serde_json::Value> =
        serde_json::from_value(value).map_err(|e| {
            Error::BadEvent(format!(
                "not an EventBridge event ({e}); expected keys source, detail-type, detail"
            ))
        })?;
    if event.source != "aws.ec2" || event.detail_type != STATE_CHANGE_DETAIL_TYPE {
        return Err(Error::BadEvent(format!(
            "unsupported event: source '{}', detail-type '{}'; expected source 'aws.ec2' and detail-type '{STATE_CHANGE_DETAIL_TYPE}'",
            clip(&event.source),
            clip(&event.detail_type)
        )));
    }
    let detail: StateChangeDetail = serde_json::from_value(event.detail).map_err(|e| {
        Error::BadEvent(format!(
            "detail: {e}; expected {{\"instance-id\": \"i-…\", \"state\": \"running\"}}"
        ))
    })?;
    if !is_instance_id(&detail.instance_id) {
        return Err(Error::BadEvent(format!(
            "detail.instance-id '{}' is not an EC2 instance id (i-…)",
            clip(&detail.instance_id)
        )));
    }
    let action = match detail.state.as_str() {
        "running" => Action::Register,
        "stopping" | "stopped" | "shutting-down" | "terminated" => Action::Deregister,
        "pending" => Action::Ignore,
        other => {
            return Err(Error::BadEvent(format!(
                "detail.state '{}' is not an EC2 instance state (pending, running, stopping, stopped, shutting-down, terminated)",
                clip(other)
            )))
        }
    };
    Ok(StateChange {
        event_id: event.id.unwrap_or_default(),
        instance_id: detail.instance_id,
        state: detail.state,
        action,
        time: event.time.as_ref().map(format_time),
        region: event.region,
    })
}

/// `i-` followed by 1 to 32 letters or digits. Real ids are hex; world files
/// may use readable ones.
pub fn is_instance_id(id: &str) -> bool {
    id.strip_prefix("i-").is_some_and(|rest| {
        (1..=32).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

/// Keeps hostile values short in messages.
fn clip(s: &str) -> String {
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(80).collect::<String>())
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(state: &str) -> serde_json::Value {
        json!({
            "version": "0",
            "id": "7bf73129-1428-4cd3-a780-95db273d1602",
            "detail-type": "EC2 Instance State-change Notification",
            "source": "aws.ec2",
            "account": "123456789012",
            "time": "2026-11-21T10:15:30Z",
            "region": "us-east-1",
            "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-0abcd1111"],
            "detail": {"instance-id": "i-0abcd1111", "state": state}
        })
    }

    #[test]
    fn states_map_to_actions() {
        for (state, action) in [
            ("running", Action::Register),
            ("stopping", Action::Deregister),
            ("stopped", Action::Deregister),
            ("shutting-down", Action::Deregister),
            ("terminated", Action::Deregister),
            ("pending", Action::Ignore),
        ] {
            let parsed = parse(event(state)).unwrap();
            assert_eq!(parsed.action, action, "{state}");
            assert_eq!(parsed.instance_id, "i-0abcd1111");
            assert_eq!(parsed.time.as_deref(), Some("2026-11-21T10:15:30Z"));
            assert_eq!(parsed.event_id, "7bf73129-1428-4cd3-a780-95db273d1602");
        }
    }

    #[test]
    fn bad_events_are_clear_errors() {
        let mut other_source = event("running");
        other_source["source"] = json!("aws.s3");
        let mut bad_state = event("running");
        bad_state["detail"]["state"] = json!("exploded");
        let mut bad_id = event("running");
        bad_id["detail"]["instance-id"] = json!("i-'; DROP TABLE");
        let mut no_detail = event("running");
        no_detail["detail"] = json!({"state": "running"});
        for (value, needle) in [
            (other_source, "unsupported event"),
            (bad_state, "exploded"),
            (bad_id, "not an EC2 instance id"),
            (no_detail, "instance-id"),
            (json!([1, 2]), "expected an EventBridge event"),
            (json!({"detail": {}}), "not an EventBridge event"),
        ] {
            let err = parse(value).unwrap_err();
            assert!(matches!(err, Error::BadEvent(_)), "{err}");
            assert!(!err.is_retryable());
            assert!(err.to_string().contains(needle), "{err} lacks {needle}");
        }
        assert!(parse_str("{not json")
            .unwrap_err()
            .to_string()
            .contains("not JSON"));
    }
}
