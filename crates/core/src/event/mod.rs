//! Parses and classifies incoming events. Pure: no AWS call is made for an
//! event that ends here, and every refusal names the field at fault.
//!
//! Five kinds of EventBridge event reach the registrar, and each is only a
//! hint (`docs/convergence.md`): an EC2 state change, a tag change and an
//! Auto Scaling lifecycle action all mean "converge this instance now"
//! (a lifecycle action also waits for its hook to be completed,
//! `crate::lifecycle`); an ECS task state change means "converge this
//! task now" (`task`); a scheduled event means "converge everything"
//! (the full reconcile).

pub mod task;

pub use task::{
    parse_task_event, task_arn_place, task_state_change_json, TaskEvent,
    TASK_STATE_CHANGE_DETAIL_TYPE,
};

use crate::error::{Error, Result};
use crate::model::{self, InstanceState};
use crate::names::clip;
use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

/// The detail-type EventBridge gives EC2 state changes.
pub const STATE_CHANGE_DETAIL_TYPE: &str = "EC2 Instance State-change Notification";
/// The detail-type of the tag service's events (source `aws.tag`).
pub const TAG_CHANGE_DETAIL_TYPE: &str = "Tag Change on Resource";
/// The detail-type of an EventBridge schedule (source `aws.events`).
pub const SCHEDULED_DETAIL_TYPE: &str = "Scheduled Event";

/// The detail-type of an Auto Scaling launch lifecycle action (source
/// `aws.autoscaling`): an instance waits in `Pending:Wait` for its hook.
pub const LAUNCH_ACTION_DETAIL_TYPE: &str = "EC2 Instance-launch Lifecycle Action";
/// The detail-type of an Auto Scaling terminate lifecycle action: the
/// instance, still running, waits in `Terminating:Wait` for its hook.
pub const TERMINATE_ACTION_DETAIL_TYPE: &str = "EC2 Instance-terminate Lifecycle Action";

/// `detail` of an EC2 state-change event, as EventBridge sends it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct StateChangeDetail {
    instance_id: String,
    state: String,
}

/// `detail` of a tag-change event. `tags` (the tags after the change) is
/// not read: the registrar describes the instance, because a later change
/// may already have overtaken this one.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct TagChangeDetail {
    service: String,
    resource_type: String,
    #[serde(default)]
    changed_tag_keys: Vec<String>,
}

/// `detail` of a lifecycle action, as Auto Scaling sends it to EventBridge
/// (`NotificationMetadata`, `Origin` and `Destination` are not read: the
/// live state decides, whatever the hook was for).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LifecycleDetail {
    lifecycle_action_token: String,
    auto_scaling_group_name: String,
    lifecycle_hook_name: String,
    #[serde(rename = "EC2InstanceId")]
    ec2_instance_id: String,
    lifecycle_transition: String,
}

/// Which way an instance is going through its Auto Scaling group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Transition {
    /// `autoscaling:EC2_INSTANCE_LAUNCHING`: register, then continue.
    Launching,
    /// `autoscaling:EC2_INSTANCE_TERMINATING`: deregister, then continue,
    /// so the name is gone before the instance is.
    Terminating,
}

impl Transition {
    pub fn as_str(self) -> &'static str {
        match self {
            Transition::Launching => "launch",
            Transition::Terminating => "terminate",
        }
    }
}

/// A lifecycle action's token: the proof that completes the action. Never
/// printed whole ([`std::fmt::Debug`] and [`std::fmt::Display`] show its
/// first 8 characters): whoever holds it can complete the action.
#[derive(Clone, PartialEq, Eq)]
pub struct LifecycleToken(String);

impl LifecycleToken {
    pub fn new(token: impl Into<String>) -> LifecycleToken {
        LifecycleToken(token.into())
    }

    /// The whole token, for the one call that needs it.
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for LifecycleToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown: String = self.0.chars().take(8).collect();
        write!(f, "{}…", clip(&shown))
    }
}

impl std::fmt::Debug for LifecycleToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LifecycleToken({self})")
    }
}

/// An Auto Scaling lifecycle action waiting on a hook for one instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifecycleAction {
    pub transition: Transition,
    pub group: String,
    pub hook: String,
    pub instance_id: String,
    pub token: LifecycleToken,
}

impl std::fmt::Display for LifecycleAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} hook {} of Auto Scaling group {} (token {})",
            self.transition.as_str(),
            clip(&self.hook),
            clip(&self.group),
            self.token
        )
    }
}

/// An event about one instance: a state change, a tag change or a
/// lifecycle action. Either way it is a hint to converge that instance to
/// its live state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceEvent {
    pub event_id: String,
    pub instance_id: String,
    pub kind: EventKind,
    /// When AWS says the change happened; absent in some hand-made events.
    pub time: Option<DateTime<Utc>>,
    pub region: Option<String>,
    /// The account the event came from (EventBridge's `account`): where
    /// the instance lives, when a member account forwards its events to
    /// the central bus (the organization mode).
    pub account: Option<String>,
}

/// What an instance event says happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// "EC2 Instance State-change Notification": the state it names.
    StateChange(InstanceState),
    /// "Tag Change on Resource": the tag keys it names as changed.
    TagChange(Vec<String>),
    /// "EC2 Instance-launch/terminate Lifecycle Action": an Auto Scaling
    /// hook waits for the instance's records (or their removal).
    Lifecycle(LifecycleAction),
}

impl InstanceEvent {
    /// Whether this is a tag change rather than a state change.
    pub fn is_tag_change(&self) -> bool {
        matches!(self.kind, EventKind::TagChange(_))
    }

    /// The state a state change names; `None` for a tag change or a
    /// lifecycle action.
    pub fn state(&self) -> Option<InstanceState> {
        match self.kind {
            EventKind::StateChange(state) => Some(state),
            EventKind::TagChange(_) | EventKind::Lifecycle(_) => None,
        }
    }

    /// The tag keys a tag change names; none for any other event.
    pub fn changed_tags(&self) -> &[String] {
        match &self.kind {
            EventKind::TagChange(keys) => keys,
            EventKind::StateChange(_) | EventKind::Lifecycle(_) => &[],
        }
    }

    /// The lifecycle action this event waits on, if it is one.
    pub fn lifecycle(&self) -> Option<&LifecycleAction> {
        match &self.kind {
            EventKind::Lifecycle(action) => Some(action),
            _ => None,
        }
    }

    /// Whether the instance is leaving for good, so its records go
    /// whatever EC2 shows now: a `terminated` state change, or a terminate
    /// lifecycle action (the instance is still running then, and its hook
    /// waits for the name to be gone).
    pub fn is_final(&self) -> bool {
        match &self.kind {
            EventKind::StateChange(state) => *state == InstanceState::Terminated,
            EventKind::Lifecycle(action) => action.transition == Transition::Terminating,
            EventKind::TagChange(_) => false,
        }
    }

    /// Whether the event says the instance runs (or is about to), so that
    /// EC2 not showing it ready yet is worth describing it again: a
    /// `running` state change, or a launch lifecycle action (EC2 may still
    /// show it `pending` while its group waits in `Pending:Wait`).
    pub fn expects_running(&self) -> bool {
        match &self.kind {
            EventKind::StateChange(state) => *state == InstanceState::Running,
            EventKind::Lifecycle(action) => action.transition == Transition::Launching,
            EventKind::TagChange(_) => false,
        }
    }
}

/// A parsed event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Converge one instance.
    Instance(InstanceEvent),
    /// Converge one ECS task (`registrar::tasks`).
    Task(TaskEvent),
    /// Converge every instance: the full reconcile.
    Scheduled {
        event_id: String,
        time: Option<DateTime<Utc>>,
    },
    /// A well-formed event that is not about an EC2 instance (a tag change
    /// on a volume, say): nothing to do, and no AWS call.
    Ignored { event_id: String, reason: String },
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
    let mut event = envelope(event_id, STATE_CHANGE_DETAIL_TYPE, "aws.ec2", time, region);
    event["resources"] = json!([instance_arn(region, instance_id)]);
    event["detail"] = json!({"instance-id": instance_id, "state": state.as_str()});
    event
}

/// A tag-change event as the tag service sends it for an EC2 instance:
/// `tags` are the instance's tags after the change.
pub fn tag_change_json(
    event_id: &str,
    instance_id: &str,
    changed: &[&str],
    tags: &std::collections::BTreeMap<String, String>,
    time: Option<DateTime<Utc>>,
    region: &str,
) -> Value {
    let mut event = envelope(event_id, TAG_CHANGE_DETAIL_TYPE, "aws.tag", time, region);
    event["resources"] = json!([instance_arn(region, instance_id)]);
    event["detail"] = json!({
        "changed-tag-keys": changed,
        "service": "ec2",
        "resource-type": "instance",
        "version": 1,
        "tags": tags,
    });
    event
}

/// A lifecycle action as Auto Scaling sends it to EventBridge (the group's
/// ARN in `resources`).
pub fn lifecycle_json(
    event_id: &str,
    action: &LifecycleAction,
    time: Option<DateTime<Utc>>,
    region: &str,
) -> Value {
    let (detail_type, transition, origin, destination) = match action.transition {
        Transition::Launching => (
            LAUNCH_ACTION_DETAIL_TYPE,
            "autoscaling:EC2_INSTANCE_LAUNCHING",
            "EC2",
            "AutoScalingGroup",
        ),
        Transition::Terminating => (
            TERMINATE_ACTION_DETAIL_TYPE,
            "autoscaling:EC2_INSTANCE_TERMINATING",
            "AutoScalingGroup",
            "EC2",
        ),
    };
    let mut event = envelope(event_id, detail_type, "aws.autoscaling", time, region);
    event["resources"] = json!([format!(
        "arn:aws:autoscaling:{region}:123456789012:autoScalingGroup:5a0c1d2e-0000-4000-8000-000000000001:autoScalingGroupName/{}",
        action.group
    )]);
    event["detail"] = json!({
        "LifecycleActionToken": action.token.secret(),
        "AutoScalingGroupName": action.group,
        "LifecycleHookName": action.hook,
        "EC2InstanceId": action.instance_id,
        "LifecycleTransition": transition,
        "Origin": origin,
        "Destination": destination,
    });
    event
}

/// The event an EventBridge schedule sends.
pub fn scheduled_json(event_id: &str, time: Option<DateTime<Utc>>, region: &str) -> Value {
    let mut event = envelope(event_id, SCHEDULED_DETAIL_TYPE, "aws.events", time, region);
    event["resources"] = json!([format!(
        "arn:aws:events:{region}:123456789012:rule/ec2-ddns-reconcile"
    )]);
    event
}

fn envelope(
    event_id: &str,
    detail_type: &str,
    source: &str,
    time: Option<DateTime<Utc>>,
    region: &str,
) -> Value {
    let mut event = json!({
        "version": "0",
        "id": event_id,
        "detail-type": detail_type,
        "source": source,
        "account": "123456789012",
        "region": region,
        "resources": [],
        "detail": {}
    });
    if let Some(time) = time {
        event["time"] = json!(model::format_time(&time));
    }
    event
}

fn instance_arn(region: &str, instance_id: &str) -> String {
    format!("arn:aws:ec2:{region}:123456789012:instance/{instance_id}")
}

/// Parses an EventBridge event given as JSON text.
pub fn parse_str(text: &str) -> Result<Event> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| Error::BadEvent(format!("not JSON: {e}")))?;
    parse(value)
}

/// Parses an event about one instance; a schedule or an ignored event is a
/// `BadEvent` here (for callers that only handle instance events).
pub fn parse_instance(value: Value) -> Result<InstanceEvent> {
    match parse(value)? {
        Event::Instance(e) => Ok(e),
        Event::Scheduled { .. } => Err(Error::BadEvent(
            "a scheduled event is not about one instance".into(),
        )),
        Event::Task(e) => Err(Error::BadEvent(format!(
            "an ECS task state change ({}) is not about an instance",
            clip(&e.task_arn)
        ))),
        Event::Ignored { reason, .. } => Err(Error::BadEvent(reason)),
    }
}

/// Takes the event's `time` out of it, checked, so that a bad one is
/// named as such rather than as the whole event failing to parse.
fn take_time(value: &mut Value) -> Result<Option<DateTime<Utc>>> {
    let Some(object) = value.as_object_mut() else {
        return Err(Error::BadEvent(
            "expected an EventBridge event (a JSON object with source, detail-type and detail)"
                .into(),
        ));
    };
    match object.remove("time") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(
            model::parse_time(&text).map_err(|e| Error::BadEvent(format!("time: {e}")))?,
        )),
        Some(other) => Err(Error::BadEvent(format!(
            "time: expected an RFC 3339 time such as 2026-11-21T10:00:00Z, found {}",
            clip(&other.to_string())
        ))),
    }
}

/// The EventBridge envelope, its `detail` left as JSON.
fn envelope_of(value: Value) -> Result<EventBridgeEvent<Value>> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let at = match e.path().to_string().as_str() {
            "." => "event".to_string(),
            path => path.to_string(),
        };
        Error::BadEvent(format!(
            "{at}: {}; expected an EventBridge event with source, detail-type and detail",
            clip(&e.inner().to_string())
        ))
    })
}

/// Parses an EventBridge event: an EC2 state change, a tag change, a
/// lifecycle action, an ECS task state change or a schedule; anything
/// else is a `BadEvent` that names the field at fault.
pub fn parse(mut value: Value) -> Result<Event> {
    let time = take_time(&mut value)?;
    let event = envelope_of(value)?;
    let event_id = event.id.clone().unwrap_or_default();
    match (event.source.as_str(), event.detail_type.as_str()) {
        ("aws.ec2", STATE_CHANGE_DETAIL_TYPE) => state_change(event, time).map(Event::Instance),
        ("aws.tag", TAG_CHANGE_DETAIL_TYPE) => tag_change(event, time),
        ("aws.events", SCHEDULED_DETAIL_TYPE) => Ok(Event::Scheduled { event_id, time }),
        ("aws.autoscaling", LAUNCH_ACTION_DETAIL_TYPE | TERMINATE_ACTION_DETAIL_TYPE) => {
            lifecycle_action(event, time).map(Event::Instance)
        }
        ("aws.ecs", TASK_STATE_CHANGE_DETAIL_TYPE) => {
            task::task_state_change(event, time).map(Event::Task)
        }
        (source, detail_type) => Err(Error::BadEvent(format!(
            "unsupported event: source '{}', detail-type '{}'; expected an EC2 state change (aws.ec2, '{STATE_CHANGE_DETAIL_TYPE}'), a tag change (aws.tag, '{TAG_CHANGE_DETAIL_TYPE}'), a lifecycle action (aws.autoscaling, '{LAUNCH_ACTION_DETAIL_TYPE}' or '{TERMINATE_ACTION_DETAIL_TYPE}'), an ECS task state change (aws.ecs, '{TASK_STATE_CHANGE_DETAIL_TYPE}') or a schedule (aws.events, '{SCHEDULED_DETAIL_TYPE}')",
            clip(source),
            clip(detail_type)
        ))),
    }
}

/// `detail` as `T`, or a `BadEvent` naming the field and what was expected.
fn detail<T: serde::de::DeserializeOwned>(detail: Value, expected: &str) -> Result<T> {
    serde_path_to_error::deserialize(detail).map_err(|e| {
        let at = match e.path().to_string().as_str() {
            "." => "detail".to_string(),
            path => format!("detail.{path}"),
        };
        Error::BadEvent(format!(
            "{at}: {}; expected {expected}",
            clip(&e.inner().to_string())
        ))
    })
}

fn state_change(
    event: EventBridgeEvent<Value>,
    time: Option<DateTime<Utc>>,
) -> Result<InstanceEvent> {
    let d: StateChangeDetail = detail(
        event.detail,
        "{\"instance-id\": \"i-…\", \"state\": \"running\"}",
    )?;
    if !is_instance_id(&d.instance_id) {
        return Err(Error::BadEvent(format!(
            "detail.instance-id '{}' is not an EC2 instance id (i-…)",
            clip(&d.instance_id)
        )));
    }
    let state: InstanceState = d
        .state
        .parse()
        .map_err(|e| Error::BadEvent(format!("detail.state: {e}")))?;
    Ok(InstanceEvent {
        event_id: event.id.unwrap_or_default(),
        instance_id: d.instance_id,
        kind: EventKind::StateChange(state),
        time,
        region: event.region,
        account: event.account,
    })
}

/// A tag change on an EC2 instance; one on anything else is ignored. The
/// instance id comes from the ARN in `resources`
/// (`arn:aws:ec2:REGION:ACCOUNT:instance/i-…`).
fn tag_change(event: EventBridgeEvent<Value>, time: Option<DateTime<Utc>>) -> Result<Event> {
    let event_id = event.id.clone().unwrap_or_default();
    let d: TagChangeDetail = detail(
        event.detail,
        "{\"service\": \"ec2\", \"resource-type\": \"instance\", \"changed-tag-keys\": [\"CNAME\"]}",
    )?;
    if d.service != "ec2" || d.resource_type != "instance" {
        return Ok(Event::Ignored {
            event_id,
            reason: format!(
                "a tag change on {} {}, not on an EC2 instance: nothing to do",
                clip(&d.service),
                clip(&d.resource_type)
            ),
        });
    }
    let ids: Vec<&str> = event
        .resources
        .as_deref()
        .unwrap_or_default()
        .iter()
        .filter_map(|arn| arn.rsplit_once(":instance/").map(|(_, id)| id))
        .collect();
    let instance_id = match ids.as_slice() {
        [id] if is_instance_id(id) => id.to_string(),
        [id] => {
            return Err(Error::BadEvent(format!(
                "resources: '{}' is not an EC2 instance id (i-…)",
                clip(id)
            )))
        }
        _ => {
            return Err(Error::BadEvent(format!(
                "resources: expected one instance ARN (arn:aws:ec2:REGION:ACCOUNT:instance/i-…), found {}",
                clip(&format!("{:?}", event.resources.unwrap_or_default()))
            )))
        }
    };
    Ok(Event::Instance(InstanceEvent {
        event_id,
        instance_id,
        kind: EventKind::TagChange(d.changed_tag_keys),
        time,
        region: event.region,
        account: event.account,
    }))
}

/// A lifecycle action. Its transition must agree with its detail-type: a
/// launch hook completed as a terminate one (or the reverse) would act on
/// the wrong belief, so a mismatch is refused, as is an empty token, group
/// or hook (nothing could complete the action).
fn lifecycle_action(
    event: EventBridgeEvent<Value>,
    time: Option<DateTime<Utc>>,
) -> Result<InstanceEvent> {
    let d: LifecycleDetail = detail(
        event.detail,
        "{\"LifecycleActionToken\": \"…\", \"AutoScalingGroupName\": \"…\", \"LifecycleHookName\": \"…\", \"EC2InstanceId\": \"i-…\", \"LifecycleTransition\": \"autoscaling:EC2_INSTANCE_LAUNCHING\"}",
    )?;
    if !is_instance_id(&d.ec2_instance_id) {
        return Err(Error::BadEvent(format!(
            "detail.EC2InstanceId '{}' is not an EC2 instance id (i-…)",
            clip(&d.ec2_instance_id)
        )));
    }
    let (transition, expected) = match event.detail_type.as_str() {
        LAUNCH_ACTION_DETAIL_TYPE => (Transition::Launching, "autoscaling:EC2_INSTANCE_LAUNCHING"),
        _ => (
            Transition::Terminating,
            "autoscaling:EC2_INSTANCE_TERMINATING",
        ),
    };
    if d.lifecycle_transition != expected {
        return Err(Error::BadEvent(format!(
            "detail.LifecycleTransition: expected {expected} for detail-type '{}', found '{}'",
            event.detail_type,
            clip(&d.lifecycle_transition)
        )));
    }
    for (field, value) in [
        ("LifecycleActionToken", &d.lifecycle_action_token),
        ("AutoScalingGroupName", &d.auto_scaling_group_name),
        ("LifecycleHookName", &d.lifecycle_hook_name),
    ] {
        if value.trim().is_empty() {
            return Err(Error::BadEvent(format!(
                "detail.{field}: expected a non-empty string, found an empty one"
            )));
        }
    }
    Ok(InstanceEvent {
        event_id: event.id.unwrap_or_default(),
        instance_id: d.ec2_instance_id.clone(),
        kind: EventKind::Lifecycle(LifecycleAction {
            transition,
            group: d.auto_scaling_group_name,
            hook: d.lifecycle_hook_name,
            instance_id: d.ec2_instance_id,
            token: LifecycleToken::new(d.lifecycle_action_token),
        }),
        time,
        region: event.region,
        account: event.account,
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
    fn every_state_parses(
        #[values(
            "running",
            "stopping",
            "stopped",
            "shutting-down",
            "terminated",
            "pending"
        )]
        state: &str,
    ) {
        let parsed = parse_instance(event(state)).unwrap();
        let named = parsed.state().expect("a state change names a state");
        assert_eq!(named.as_str(), state);
        assert!(!parsed.is_tag_change());
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
        let err = parse(value).map(|_| ()).unwrap_err();
        assert!(matches!(err, Error::BadEvent(_)), "{err}");
        assert!(!err.is_retryable());
        assert!(err.to_string().contains(needle), "{err} lacks {needle}");
    }

    #[test]
    fn an_event_without_a_time_parses_with_none() {
        let parsed = parse_instance(with(event("stopped"), |e| {
            e.as_object_mut().unwrap().remove("time");
        }))
        .unwrap();
        assert_eq!(parsed.time, None);
        assert!(parse_str("{not json")
            .unwrap_err()
            .to_string()
            .contains("not JSON"));
    }

    fn tag_event() -> Value {
        let tags = [("CNAME".to_string(), "api.corp.example".to_string())].into();
        tag_change_json(
            "tag-1",
            "i-0abcd1111",
            &["CNAME", "Owner"],
            &tags,
            Some(model::parse_time("2026-11-21T10:20:00Z").unwrap()),
            "us-east-1",
        )
    }

    #[test]
    fn a_tag_change_on_an_instance_names_the_instance_and_the_changed_keys() {
        let parsed = parse_instance(tag_event()).unwrap();
        assert!(parsed.is_tag_change());
        assert_eq!(parsed.instance_id, "i-0abcd1111");
        assert_eq!(parsed.changed_tags(), ["CNAME", "Owner"]);
        assert_eq!(parsed.event_id, "tag-1");
    }

    #[test]
    fn the_shipped_fixtures_parse_as_what_their_names_say() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/events/");
        let read = |f: &str| parse_str(&std::fs::read_to_string(format!("{dir}{f}")).unwrap());
        let tag = read("web-1-tag-cname-added.json").unwrap();
        assert!(
            matches!(&tag, Event::Instance(e) if e.instance_id == "i-0web1" && e.changed_tags() == ["CNAME"]),
            "{tag:?}"
        );
        assert!(matches!(
            read("scheduled.json").unwrap(),
            Event::Scheduled { .. }
        ));
        assert!(matches!(
            read("tag-change-volume.json").unwrap(),
            Event::Ignored { .. }
        ));
    }

    #[test]
    fn a_tag_change_on_something_else_is_ignored_and_a_schedule_is_a_reconcile() {
        let volume = with(tag_event(), |e| {
            e["detail"]["resource-type"] = json!("volume");
            e["resources"] = json!(["arn:aws:ec2:us-east-1:123456789012:volume/vol-1"]);
        });
        assert!(
            matches!(parse(volume).unwrap(), Event::Ignored { ref reason, .. } if reason.contains("volume")),
        );
        let scheduled = parse(scheduled_json("s-1", None, "us-east-1")).unwrap();
        assert_eq!(
            scheduled,
            Event::Scheduled {
                event_id: "s-1".into(),
                time: None
            }
        );
        assert!(parse_instance(scheduled_json("s-1", None, "us-east-1"))
            .unwrap_err()
            .to_string()
            .contains("not about one instance"));
    }

    #[test]
    fn the_lifecycle_fixtures_parse_as_lifecycle_actions_and_hide_their_token() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/events/");
        let read = |f: &str| {
            parse_instance(
                serde_json::from_str(&std::fs::read_to_string(format!("{dir}{f}")).unwrap())
                    .unwrap(),
            )
            .unwrap()
        };
        let launch = read("asg-launch-lifecycle.json");
        let action = launch.lifecycle().expect("a lifecycle action");
        assert_eq!(action.transition, Transition::Launching);
        assert_eq!(
            (action.group.as_str(), action.hook.as_str()),
            ("web", "ec2-ddns-launch")
        );
        assert_eq!(launch.instance_id, "i-0web1");
        assert!(launch.expects_running() && !launch.is_final());
        assert_eq!(launch.state(), None);
        assert_eq!(
            action.token.secret(),
            "c613620e-07e2-4ed2-a9e2-ef8258911ade"
        );
        for shown in [format!("{launch:?}"), action.to_string()] {
            assert!(
                !shown.contains("07e2-4ed2"),
                "the token is never shown whole: {shown}"
            );
            assert!(shown.contains("c613620e…"), "{shown}");
        }
        let terminate = read("asg-terminate-lifecycle.json");
        assert_eq!(
            terminate.lifecycle().unwrap().transition,
            Transition::Terminating
        );
        assert!(terminate.is_final() && !terminate.expects_running());
        // The builder writes the same shape.
        let again = parse_instance(lifecycle_json(
            "x",
            terminate.lifecycle().unwrap(),
            None,
            "us-east-1",
        ))
        .unwrap();
        assert_eq!(again.lifecycle(), terminate.lifecycle());
    }

    fn launch_event() -> Value {
        let action = LifecycleAction {
            transition: Transition::Launching,
            group: "web".into(),
            hook: "h".into(),
            instance_id: "i-0abcd1111".into(),
            token: LifecycleToken::new("tok-123456789"),
        };
        lifecycle_json("l-1", &action, None, "us-east-1")
    }

    #[rstest]
    #[case::wrong_transition(with(launch_event(), |e| e["detail"]["LifecycleTransition"] = json!("autoscaling:EC2_INSTANCE_TERMINATING")), "detail.LifecycleTransition: expected autoscaling:EC2_INSTANCE_LAUNCHING")]
    #[case::test_notification(with(launch_event(), |e| e["detail"]["LifecycleTransition"] = json!("autoscaling:TEST_NOTIFICATION")), "found 'autoscaling:TEST_NOTIFICATION'")]
    #[case::no_token(with(launch_event(), |e| { e["detail"].as_object_mut().unwrap().remove("LifecycleActionToken"); }), "detail: missing field `LifecycleActionToken`")]
    #[case::empty_token(with(launch_event(), |e| e["detail"]["LifecycleActionToken"] = json!(" ")), "detail.LifecycleActionToken: expected a non-empty string")]
    #[case::empty_hook(with(launch_event(), |e| e["detail"]["LifecycleHookName"] = json!("")), "detail.LifecycleHookName")]
    #[case::hostile_id(with(launch_event(), |e| e["detail"]["EC2InstanceId"] = json!("i-$(reboot)")), "detail.EC2InstanceId 'i-$(reboot)' is not an EC2 instance id")]
    #[case::id_a_number(with(launch_event(), |e| e["detail"]["EC2InstanceId"] = json!(7)), "detail.EC2InstanceId: invalid type")]
    #[case::other_detail_type(with(launch_event(), |e| e["detail-type"] = json!("EC2 Instance Launch Successful")), "unsupported event")]
    fn bad_lifecycle_actions_name_the_field(#[case] value: Value, #[case] needle: &str) {
        let err = parse(value).map(|_| ()).unwrap_err();
        assert!(matches!(err, Error::BadEvent(_)), "{err}");
        assert!(err.to_string().contains(needle), "{err} lacks {needle}");
        assert!(!err.to_string().contains("tok-123456789"), "{err}");
    }

    #[rstest]
    #[case::no_resources(with(tag_event(), |e| e["resources"] = json!([])), "resources: expected one instance ARN")]
    #[case::two_instances(with(tag_event(), |e| e["resources"] = json!(["arn:aws:ec2:r:1:instance/i-1", "arn:aws:ec2:r:1:instance/i-2"])), "expected one instance ARN")]
    #[case::hostile_id(with(tag_event(), |e| e["resources"] = json!(["arn:aws:ec2:r:1:instance/i-$(reboot)"])), "is not an EC2 instance id")]
    #[case::keys_not_a_list(with(tag_event(), |e| e["detail"]["changed-tag-keys"] = json!("CNAME")), "detail.changed-tag-keys: invalid type")]
    #[case::no_service(with(tag_event(), |e| e["detail"] = json!({"resource-type": "instance"})), "detail: missing field `service`")]
    fn bad_tag_changes_name_the_field(#[case] value: Value, #[case] needle: &str) {
        let err = parse(value).map(|_| ()).unwrap_err();
        assert!(matches!(err, Error::BadEvent(_)), "{err}");
        assert!(err.to_string().contains(needle), "{err} lacks {needle}");
    }
}
