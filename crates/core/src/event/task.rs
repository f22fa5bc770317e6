//! ECS task state changes (`ECS Task State Change`, source `aws.ecs`): a
//! hint to converge one task, as an instance's state change is for an
//! instance. The event's own fields (its status, its attachments) are not
//! trusted for the records: the task is described again, and its live
//! state decides (`docs/convergence.md`). Only what names the task is read
//! here, and checked.

use super::{detail, envelope};
use crate::error::{Error, Result};
use crate::ids::is_task_arn;
use crate::model::{self, TaskFacts};
use crate::names::clip;
use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

/// The `detail-type` of an ECS task's state change.
pub const TASK_STATE_CHANGE_DETAIL_TYPE: &str = "ECS Task State Change";

/// An event about one ECS task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskEvent {
    pub event_id: String,
    pub task_arn: String,
    pub cluster_arn: String,
    /// What the event says the task's status is (`lastStatus`): a hint.
    pub last_status: String,
    /// What ECS means it to be (`desiredStatus`).
    pub desired_status: String,
    pub time: Option<DateTime<Utc>>,
    pub region: Option<String>,
    /// The account the event came from (EventBridge's `account`).
    pub account: Option<String>,
}

impl TaskEvent {
    /// Whether the task is leaving for good: a task never runs again once
    /// it stops (a service starts another), so its records go whatever a
    /// describe shows.
    pub fn is_final(&self) -> bool {
        matches!(
            self.last_status.as_str(),
            "DEACTIVATING" | "STOPPING" | "DEPROVISIONING" | "STOPPED" | "DELETED"
        ) || self.desired_status == "STOPPED"
    }
}

/// `detail` of an ECS task state change: only what names the task.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TaskDetail {
    task_arn: String,
    cluster_arn: String,
    last_status: String,
    desired_status: String,
}

/// Parses an ECS task state change (an EventBridge event as JSON).
pub fn parse_task_event(mut value: Value) -> Result<TaskEvent> {
    let time = super::take_time(&mut value)?;
    let event = super::envelope_of(value)?;
    match (event.source.as_str(), event.detail_type.as_str()) {
        ("aws.ecs", TASK_STATE_CHANGE_DETAIL_TYPE) => task_state_change(event, time),
        (source, detail_type) => Err(Error::BadEvent(format!(
            "source '{}', detail-type '{}' is not an ECS task state change (aws.ecs, '{TASK_STATE_CHANGE_DETAIL_TYPE}')",
            clip(source),
            clip(detail_type)
        ))),
    }
}

/// Reads an ECS task state change.
pub(super) fn task_state_change(
    event: EventBridgeEvent<Value>,
    time: Option<DateTime<Utc>>,
) -> Result<TaskEvent> {
    let d: TaskDetail = detail(
        event.detail,
        "{\"taskArn\": \"arn:aws:ecs:…:task/CLUSTER/ID\", \"clusterArn\": \"arn:aws:ecs:…:cluster/CLUSTER\", \"lastStatus\": \"RUNNING\", \"desiredStatus\": \"RUNNING\"}",
    )?;
    if !is_task_arn(&d.task_arn) {
        return Err(Error::BadEvent(format!(
            "detail.taskArn '{}' is not an ECS task ARN (arn:aws:ecs:REGION:ACCOUNT:task/CLUSTER/ID)",
            clip(&d.task_arn)
        )));
    }
    if !is_cluster_arn(&d.cluster_arn) {
        return Err(Error::BadEvent(format!(
            "detail.clusterArn '{}' is not an ECS cluster ARN (arn:aws:ecs:REGION:ACCOUNT:cluster/NAME)",
            clip(&d.cluster_arn)
        )));
    }
    for (field, status) in [
        ("lastStatus", &d.last_status),
        ("desiredStatus", &d.desired_status),
    ] {
        if status.is_empty()
            || status.len() > 32
            || !status.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
        {
            return Err(Error::BadEvent(format!(
                "detail.{field} '{}' is not an ECS task status (RUNNING, STOPPED, …)",
                clip(status)
            )));
        }
    }
    Ok(TaskEvent {
        event_id: event.id.unwrap_or_default(),
        task_arn: d.task_arn,
        cluster_arn: d.cluster_arn,
        last_status: d.last_status,
        desired_status: d.desired_status,
        time,
        region: event.region,
        account: event.account,
    })
}

/// The region and account an ECS ARN (a task's, a cluster's) names:
/// where the task lives. `None` for text that is not such an ARN.
pub fn task_arn_place(arn: &str) -> Option<(&str, &str)> {
    match arn.splitn(6, ':').collect::<Vec<_>>().as_slice() {
        ["arn", _, "ecs", region, account, _]
            if crate::ids::Place::is_region(region)
                && crate::ids::Place::is_account_id(account) =>
        {
            Some((region, account))
        }
        _ => None,
    }
}

/// Whether `arn` is an ECS cluster's ARN.
fn is_cluster_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    matches!(parts.as_slice(), ["arn", _, "ecs", region, account, resource]
    if !region.is_empty()
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && resource.strip_prefix("cluster/").is_some_and(|name| {
            !name.is_empty()
                && name.len() <= 255
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        }))
}

/// A task state change as ECS sends it for `task` (tests, scenarios).
pub fn task_state_change_json(
    event_id: &str,
    task: &TaskFacts,
    time: Option<DateTime<Utc>>,
    region: &str,
) -> Value {
    let mut event = envelope(
        event_id,
        TASK_STATE_CHANGE_DETAIL_TYPE,
        "aws.ecs",
        time,
        region,
    );
    event["resources"] = json!([task.task_arn]);
    let mut detail = json!({
        "taskArn": task.task_arn,
        "clusterArn": task.cluster_arn,
        "lastStatus": task.last_status,
        "desiredStatus": task.desired_status,
        "launchType": task.launch_type,
        "group": task.group,
        "attachments": [],
    });
    if let Some(eni) = &task.eni {
        let mut details = vec![json!({"name": "networkInterfaceId", "value": eni.eni_id})];
        if let Some(subnet) = &eni.subnet_id {
            details.push(json!({"name": "subnetId", "value": subnet}));
        }
        if let Some(ip) = eni.private_ip {
            details.push(json!({"name": "privateIPv4Address", "value": ip.to_string()}));
        }
        detail["attachments"] = json!([{
            "id": format!("attachment-{}", task.task_id()),
            "type": "eni",
            "status": "ATTACHED",
            "details": details,
        }]);
    }
    if let Some(started) = task.started_at {
        detail["startedAt"] = json!(model::format_time(&started));
    }
    event["detail"] = detail;
    event
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    const TASK: &str =
        "arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef0123456789abcdef";
    const CLUSTER: &str = "arn:aws:ecs:us-east-1:123456789012:cluster/prod";

    fn task(last: &str, desired: &str) -> TaskFacts {
        TaskFacts {
            task_arn: TASK.into(),
            cluster_arn: CLUSTER.into(),
            last_status: last.into(),
            desired_status: desired.into(),
            group: Some("service:web".into()),
            family: Some("web".into()),
            launch_type: Some("FARGATE".into()),
            eni: Some(model::TaskEni {
                eni_id: "eni-0abc".into(),
                subnet_id: Some("subnet-1".into()),
                vpc_id: Some("vpc-1".into()),
                private_ip: "10.1.2.4".parse().ok(),
                ipv6: None,
                public_ip: None,
                private_dns_name: None,
                public_dns_name: None,
            }),
            tags: Default::default(),
            started_at: None,
        }
    }

    fn parse(value: Value) -> Result<TaskEvent> {
        parse_task_event(value)
    }

    /// What the builder writes, the parser reads back.
    #[test]
    fn a_task_state_change_round_trips() {
        let time = model::parse_time("2026-12-07T10:00:00Z").ok();
        let e = parse(task_state_change_json(
            "evt-1",
            &task("RUNNING", "RUNNING"),
            time,
            "us-east-1",
        ))
        .unwrap();
        assert_eq!(e.task_arn, TASK);
        assert_eq!(e.cluster_arn, CLUSTER);
        assert_eq!(
            (e.last_status.as_str(), e.desired_status.as_str()),
            ("RUNNING", "RUNNING")
        );
        assert_eq!((e.event_id.as_str(), e.time), ("evt-1", time));
        assert!(!e.is_final());
    }

    /// `R`: running or on its way; `F`: leaving for good.
    #[rstest]
    #[case("PROVISIONING", "RUNNING", 'R')]
    #[case("RUNNING", "RUNNING", 'R')]
    #[case("RUNNING", "STOPPED", 'F')]
    #[case("DEACTIVATING", "STOPPED", 'F')]
    #[case("DEPROVISIONING", "STOPPED", 'F')]
    #[case("STOPPED", "STOPPED", 'F')]
    fn a_stopping_task_is_final(#[case] last: &str, #[case] desired: &str, #[case] want: char) {
        let e = parse(task_state_change_json(
            "e",
            &task(last, desired),
            None,
            "us-east-1",
        ))
        .unwrap();
        assert_eq!(
            if e.is_final() { 'F' } else { 'R' },
            want,
            "{last}/{desired}"
        );
    }

    /// Hostile or broken details are refused with what was expected.
    #[rstest]
    #[case::no_task_arn(|d: &mut Value| { d.as_object_mut().unwrap().remove("taskArn"); }, "missing field `taskArn`")]
    #[case::task_arn_of_an_instance(|d: &mut Value| d["taskArn"] = json!("arn:aws:ec2:us-east-1:123456789012:instance/i-0abc"), "is not an ECS task ARN")]
    #[case::task_arn_with_a_newline(|d: &mut Value| d["taskArn"] = json!(format!("{TASK}\nx")), "is not an ECS task ARN")]
    #[case::cluster_arn_of_a_service(|d: &mut Value| d["clusterArn"] = json!("arn:aws:ecs:us-east-1:123456789012:service/prod/web"), "is not an ECS cluster ARN")]
    #[case::status_lower_case(|d: &mut Value| d["lastStatus"] = json!("running"), "detail.lastStatus 'running' is not an ECS task status")]
    #[case::status_a_number(|d: &mut Value| d["desiredStatus"] = json!(7), "detail.desiredStatus")]
    fn broken_task_events_are_refused(#[case] edit: fn(&mut Value), #[case] needle: &str) {
        let mut event = task_state_change_json("e", &task("RUNNING", "RUNNING"), None, "us-east-1");
        edit(&mut event["detail"]);
        let err = parse(event).expect_err(needle).to_string();
        assert!(err.contains(needle), "{err}\n  lacks: {needle}");
    }
}
