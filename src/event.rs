//! Parses and classifies incoming events. Pure: no AWS call is made for an
//! event that ends here, and every refusal names the field at fault.

use crate::error::{Error, Result};
use crate::model::{self, InstanceState};
use crate::names::clip;
use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

/// The detail-type EventBridge gives EC2 state changes.
pub const STATE_CHANGE_DETAIL_TYPE: &str = "EC2 Instance State-change Notification";

/// `detail` of an EC2 state-change event, as EventBridge sends it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct StateChangeDetail {
    instance_id: String,
    state: String,
}

/// What an event asks of the registrar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `running`: write the instance's records.
    Register,
    /// `stopping`, `stopped`, `shutting-down`, `terminated`: delete what it owns.
    Deregister,
    /// `pending`: nothing to do yet.
    Ignore,
}

impl Action {
    pub fn for_state(state: InstanceState) -> Action {
        match state {
            InstanceState::Running => Action::Register,
            InstanceState::Pending => Action::Ignore,
            InstanceState::Stopping
            | InstanceState::Stopped
            | InstanceState::ShuttingDown
            | InstanceState::Terminated => Action::Deregister,
        }
    }
}

/// A parsed EC2 state change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateChange {
    pub event_id: String,
    pub instance_id: String,
    pub state: InstanceState,
    /// When EC2 says the change happened; absent in some hand-made events.
    pub time: Option<DateTime<Utc>>,
    pub region: Option<String>,
}

impl StateChange {
    pub fn action(&self) -> Action {
        Action::for_state(self.state)
    }
}

/// The one builder of EC2 state-change event JSON, in the shape EventBridge
/// delivers it: scenarios, tests and fixtures all make events here.
pub fn state_change_json(
    event_id: &str,
    instance_id: &str,
    state: InstanceState,
    time: Option<DateTime<Utc>>,
    region: &str,
) -> Value {
    let mut event = json!({
        "version": "0",
        "id": event_id,
        "detail-type": STATE_CHANGE_DETAIL_TYPE,
        "source": "aws.ec2",
        "account": "123456789012",
        "region": region,
        "resources": [format!("arn:aws:ec2:{region}:123456789012:instance/{instance_id}")],
        "detail": {"instance-id": instance_id, "state": state.as_str()}
    });
    if let Some(time) = time {
        event["time"] = json!(model::format_time(&time));
    }
    event
}

/// Parses an EventBridge event given as JSON text.
pub fn parse_str(text: &str) -> Result<StateChange> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| Error::BadEvent(format!("not JSON: {e}")))?;
    parse(value)
}

/// Parses an EventBridge event of detail-type
/// `EC2 Instance State-change Notification`; anything else is a `BadEvent`
/// that names the field at fault.
pub fn parse(mut value: Value) -> Result<StateChange> {
    let Some(object) = value.as_object_mut() else {
        return Err(Error::BadEvent(
            "expected an EventBridge event (a JSON object with source, detail-type and detail)"
                .into(),
        ));
    };
    // The time is checked here, so that a bad one is named as such rather
    // than as the whole event failing to parse.
    let time = match object.remove("time") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => {
            Some(model::parse_time(&text).map_err(|e| Error::BadEvent(format!("time: {e}")))?)
        }
        Some(other) => {
            return Err(Error::BadEvent(format!(
                "time: expected an RFC 3339 time such as 2026-11-21T10:00:00Z, found {}",
                clip(&other.to_string())
            )))
        }
    };
    let event: EventBridgeEvent<Value> = serde_path_to_error::deserialize(value).map_err(|e| {
        let at = match e.path().to_string().as_str() {
            "." => "event".to_string(),
            path => path.to_string(),
        };
        Error::BadEvent(format!(
            "{at}: {}; expected an EventBridge event with source, detail-type and detail",
            clip(&e.inner().to_string())
        ))
    })?;
    if event.source != "aws.ec2" || event.detail_type != STATE_CHANGE_DETAIL_TYPE {
        return Err(Error::BadEvent(format!(
            "unsupported event: source '{}', detail-type '{}'; expected source 'aws.ec2' and detail-type '{STATE_CHANGE_DETAIL_TYPE}'",
            clip(&event.source),
            clip(&event.detail_type)
        )));
    }
    let detail: StateChangeDetail =
        serde_path_to_error::deserialize(event.detail).map_err(|e| {
            let at = match e.path().to_string().as_str() {
                "." => "detail".to_string(),
                path => format!("detail.{path}"),
            };
            Error::BadEvent(format!(
                "{at}: {}; expected {{\"instance-id\": \"i-…\", \"state\": \"running\"}}",
                clip(&e.inner().to_string())
            ))
        })?;
    if !is_instance_id(&detail.instance_id) {
        return Err(Error::BadEvent(format!(
            "detail.instance-id '{}' is not an EC2 instance id (i-…)",
            clip(&detail.instance_id)
        )));
    }
    let state: InstanceState = detail
        .state
        .parse()
        .map_err(|e| Error::BadEvent(format!("detail.state: {e}")))?;
    Ok(StateChange {
        event_id: event.id.unwrap_or_default(),
        instance_id: detail.instance_id,
        state,
        time,
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

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn event(state: &str) -> Value {
        let mut e = state_change_json(
            "7bf73129-1428-4cd3-a780-95db273d1602",
            "i-0abcd1111",
            InstanceState::Running,
            Some(model::parse_time("2026-11-21T10:15:30Z").unwrap()),
            "us-east-1",
        );
        e["detail"]["state"] = json!(state);
        e
    }

    #[rstest]
    #[case::running("running", Action::Register)]
    #[case::stopping("stopping", Action::Deregister)]
    #[case::stopped("stopped", Action::Deregister)]
    #[case::shutting_down("shutting-down", Action::Deregister)]
    #[case::terminated("terminated", Action::Deregister)]
    #[case::pending("pending", Action::Ignore)]
    fn states_map_to_actions(#[case] state: &str, #[case] action: Action) {
        let parsed = parse(event(state)).unwrap();
        assert_eq!(parsed.action(), action);
        assert_eq!(parsed.state.as_str(), state);
        assert_eq!(parsed.instance_id, "i-0abcd1111");
        assert_eq!(
            parsed.time,
            Some(model::parse_time("2026-11-21T10:15:30Z").unwrap())
        );
        assert_eq!(parsed.event_id, "7bf73129-1428-4cd3-a780-95db273d1602");
    }

    fn with(mut value: Value, edit: impl FnOnce(&mut Value)) -> Value {
        edit(&mut value);
        value
    }

    #[rstest]
    #[case::other_source(with(event("running"), |e| e["source"] = json!("aws.s3")), "unsupported event")]
    #[case::unknown_state(with(event("running"), |e| e["detail"]["state"] = json!("exploded")), "detail.state: 'exploded' is not an EC2 instance state")]
    #[case::hostile_id(with(event("running"), |e| e["detail"]["instance-id"] = json!("i-'; DROP TABLE")), "not an EC2 instance id")]
    #[case::no_instance_id(with(event("running"), |e| e["detail"] = json!({"state": "running"})), "detail: missing field `instance-id`")]
    #[case::state_not_a_string(with(event("running"), |e| e["detail"]["state"] = json!(7)), "detail.state: invalid type")]
    #[case::not_an_object(json!([1, 2]), "expected an EventBridge event")]
    #[case::no_detail_type(json!({"detail": {}}), "event: missing field `detail-type`")]
    #[case::time_not_a_time(with(event("running"), |e| e["time"] = json!("yesterday")), "time: 'yesterday' is not an RFC 3339 time")]
    #[case::time_a_number(with(event("running"), |e| e["time"] = json!(1700000000)), "time: expected an RFC 3339 time")]
    #[case::control_characters_escaped(with(event("running"), |e| e["source"] = json!("aws.\u{1b}[31m\nevil")), "aws.\\u{1b}[31m\\nevil")]
    fn bad_events_name_the_field(#[case] value: Value, #[case] needle: &str) {
        let err = parse(value).unwrap_err();
        assert!(matches!(err, Error::BadEvent(_)), "{err}");
        assert!(!err.is_retryable());
        assert!(err.to_string().contains(needle), "{err} lacks {needle}");
    }

    #[test]
    fn an_event_without_a_time_parses_with_none() {
        let parsed = parse(with(event("stopped"), |e| {
            e.as_object_mut().unwrap().remove("time");
        }))
        .unwrap();
        assert_eq!(parsed.time, None);
        assert!(parse_str("{not json")
            .unwrap_err()
            .to_string()
            .contains("not JSON"));
    }
}
