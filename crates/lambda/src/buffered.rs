//! Buffered mode: the EventBridge rules target an SQS queue, and the queue
//! hands the function a batch of messages whose bodies are the events. An
//! event is only a hint (the live state decides), so a batch converges each
//! instance it names once, however many of its events name it, and runs at
//! most one reconcile. The answer names in `batchItemFailures` only the
//! messages whose work did not complete (a retryable failure), so only
//! those are delivered again; a message that can never succeed (not an
//! event, or a permanent error) is logged and not redelivered, as a bad
//! event is in direct mode.
//!
//! The instances and ECS tasks are converged together
//! (`Registrar::handle_batch`): one DescribeInstances per 200 instances,
//! one DescribeTasks per cluster and 100 tasks, registry items read and
//! written 100 at a time, and every record change of the batch merged per
//! zone into as few Route 53 calls as its limits allow (a service scaling
//! from 0 to 100 tasks: one change call per zone).

use crate::tally::{Kind, Tally};
use aws_lambda_events::sqs::{SqsBatchResponse, SqsMessage};
use ec2_ddns_core::error::Error;
use ec2_ddns_core::event::{self, Event, InstanceEvent, TaskEvent};
use ec2_ddns_core::model::InstanceState;
use ec2_ddns_core::ports::{Dns, Instances, Registry, Tasks};
use ec2_ddns_core::registrar::Registrar;
use ec2_ddns_core::summary::Outcome;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use tokio::time::Instant;
use tracing::{error, info, warn};

/// Whether an invocation's payload is an SQS batch: `Records` whose first
/// message comes from `aws:sqs`.
pub fn is_sqs_batch(payload: &Value) -> bool {
    payload
        .pointer("/Records/0/eventSource")
        .and_then(Value::as_str)
        == Some("aws:sqs")
}

/// One message of a batch: its id and the event its body holds.
struct Message {
    id: String,
    event: Result<Event, Error>,
}

/// The batch's messages, each read on its own as an [`SqsMessage`] (not the
/// whole payload as one `SqsEvent`): a record that is not a message is then
/// rejected alone, and the others are still handled and answered for.
fn messages(payload: &Value) -> Vec<Message> {
    let records = payload
        .get("Records")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    records
        .iter()
        .enumerate()
        .map(|(i, record)| {
            let message = SqsMessage::deserialize(record);
            let id = message
                .as_ref()
                .ok()
                .and_then(|m| m.message_id.as_deref())
                .or_else(|| record.get("messageId").and_then(Value::as_str))
                .map(|id| ec2_ddns_core::names::clip(id).to_string())
                .unwrap_or_else(|| format!("#{i}"));
            let event = message
                .map_err(|e| {
                    Error::BadEvent(format!(
                        "not an SQS message: {}",
                        ec2_ddns_core::names::clip(&e.to_string())
                    ))
                })
                .and_then(|m| {
                    m.body
                        .ok_or_else(|| Error::BadEvent("the SQS message has no body".into()))
                })
                .and_then(|body| event::parse_str(&body));
            Message { id, event }
        })
        .collect()
}

/// The event that speaks for an instance's events in a batch: one that
/// needs work (not `pending`), the latest by time, the later in the batch
/// on a tie.
fn representative<'a>(events: &[&'a InstanceEvent]) -> &'a InstanceEvent {
    let needs_work: Vec<&&InstanceEvent> = events
        .iter()
        .filter(|e| e.state() != Some(InstanceState::Pending))
        .collect();
    let pool: Vec<&&InstanceEvent> = if needs_work.is_empty() {
        events.iter().collect()
    } else {
        needs_work
    };
    pool.into_iter()
        .enumerate()
        .max_by_key(|(i, e)| (e.time, *i))
        .map(|(_, e)| *e)
        .expect("a group has at least one event")
}

/// The event that speaks for a task's events in a batch: one that says it
/// stops (a task never runs again), else the latest by time, the later in
/// the batch on a tie.
fn task_representative<'a>(events: &[&'a TaskEvent]) -> &'a TaskEvent {
    events
        .iter()
        .enumerate()
        .max_by_key(|(i, e)| (e.is_final(), e.time, *i))
        .map(|(_, e)| *e)
        .expect("a group has at least one event")
}

/// What became of one subject's events in a batch: logged, counted, and
/// their messages named for redelivery when the failure is retryable.
fn answer_group<'m>(
    summary: &ec2_ddns_core::summary::Summary,
    group: impl Iterator<Item = (&'m str, Kind)> + Clone,
    tally: &mut Tally,
    failed: &mut Vec<&'m str>,
) {
    let subject = &summary.instance_id;
    for w in &summary.warnings {
        warn!(instance = %subject, "{w}");
    }
    crate::summarized(tally, summary);
    // Each message by the kind of event it carries, as if it had come
    // alone: the alarms and the dashboard read the same kinds in both
    // modes.
    for (_, kind) in group.clone() {
        tally.event(kind, summary.outcome);
    }
    match (summary.outcome, summary.retryable) {
        (Outcome::Error, Some(true)) => {
            warn!(instance = %subject, error = summary.error.as_deref().unwrap_or_default(), "batch: retryable failure; its messages are delivered again");
            failed.extend(group.map(|(id, _)| id));
        }
        (Outcome::Error, _) => {
            error!(instance = %subject, error = summary.error.as_deref().unwrap_or_default(), "batch: failed; not retried");
        }
        (outcome, _) => {
            info!(instance = %subject, events = group.count(), outcome = outcome.as_str(), changes = summary.changes.len(), "batch: converged");
        }
    }
}

/// Handles a batch; the answer is an [`SqsBatchResponse`] as JSON,
/// `{"batchItemFailures": [{"itemIdentifier": …}]}`, naming only the
/// messages of retryable failures. Each message is one event in `tally`
/// (kind `sqs`), with the outcome of the work that answered it: its
/// instance's, the reconcile's, or its own when it was not an event.
pub async fn handle_batch<E, D, R, T>(
    registrar: &Registrar<E, D, R>,
    tasks: &T,
    payload: &Value,
    deadline: Option<Instant>,
    tally: &mut Tally,
) -> Value
where
    E: Instances + Sync,
    D: Dns + Sync,
    R: Registry + Sync,
    T: Tasks + Sync,
{
    let messages = messages(payload);
    let mut by_instance: BTreeMap<&str, Vec<(&str, &InstanceEvent)>> = BTreeMap::new();
    let mut by_task: BTreeMap<&str, Vec<(&str, &TaskEvent)>> = BTreeMap::new();
    let mut scheduled: Vec<(&str, &str)> = Vec::new();
    for m in &messages {
        match &m.event {
            Ok(Event::Instance(change)) => by_instance
                .entry(change.instance_id.as_str())
                .or_default()
                .push((m.id.as_str(), change)),
            Ok(Event::Task(change)) => by_task
                .entry(change.task_arn.as_str())
                .or_default()
                .push((m.id.as_str(), change)),
            Ok(Event::Scheduled { event_id, .. }) => scheduled.push((m.id.as_str(), event_id)),
            Ok(Event::Ignored { reason, .. }) => {
                info!(message_id = %m.id, "{reason}");
                tally.event(Kind::Other, Outcome::NothingToDo);
            }
            Err(e) => {
                error!(message_id = %m.id, error = %e, "message rejected: not an event this function handles; not redelivered");
                tally.event(Kind::Other, Outcome::Error);
            }
        }
    }
    let mut failed: Vec<&str> = Vec::new();
    let groups: Vec<&Vec<(&str, &InstanceEvent)>> = by_instance.values().collect();
    let speakers: Vec<&InstanceEvent> = groups
        .iter()
        .map(|group| {
            let events: Vec<&InstanceEvent> = group.iter().map(|(_, e)| *e).collect();
            representative(&events)
        })
        .collect();
    let task_groups: Vec<&Vec<(&str, &TaskEvent)>> = by_task.values().collect();
    let task_speakers: Vec<&TaskEvent> = task_groups
        .iter()
        .map(|group| {
            let events: Vec<&TaskEvent> = group.iter().map(|(_, e)| *e).collect();
            task_representative(&events)
        })
        .collect();
    let (summaries, task_summaries) = registrar
        .handle_batch_anywhere(&speakers, tasks, &task_speakers, deadline)
        .await;
    for (group, summary) in groups.iter().zip(&summaries) {
        let kinds = group.iter().map(|(id, event)| (*id, Kind::of(event)));
        answer_group(summary, kinds, tally, &mut failed);
    }
    for (group, summary) in task_groups.iter().zip(&task_summaries) {
        let kinds = group.iter().map(|(id, _)| (*id, Kind::Task));
        answer_group(summary, kinds, tally, &mut failed);
    }
    if let Some((_, event_id)) = scheduled.last() {
        let outcome = match crate::reconcile_counted(registrar, tasks, event_id, deadline, tally)
            .await
        {
            Ok(done) => {
                info!(totals = %serde_json::to_string(&done.totals).unwrap_or_default(), "batch: reconcile done");
                crate::reconcile_outcome(&done)
            }
            Err(e) if e.is_retryable() => {
                warn!(error = %e, "batch: reconcile failed; its messages are delivered again");
                failed.extend(scheduled.iter().map(|(id, _)| *id));
                Outcome::Error
            }
            Err(e) => {
                error!(error = %e, "batch: reconcile failed; not retried");
                Outcome::Error
            }
        };
        for _ in &scheduled {
            tally.event(Kind::Scheduled, outcome);
        }
    }
    let mut answer = SqsBatchResponse::default();
    answer.set_failures(failed);
    serde_json::to_value(answer).unwrap_or_else(|_| unreachable!("a batch response is JSON"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ec2_ddns_core::model;
    use ec2_ddns_core::Config;
    use ec2_ddns_sim::memory::{Fault, MemoryAccount};
    use serde_json::json;

    fn sqs(bodies: &[(&str, String)]) -> Value {
        json!({
            "Records": bodies.iter().map(|(id, body)| json!({
                "messageId": id,
                "receiptHandle": "r",
                "body": body,
                "attributes": {},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:ec2-ddns",
                "awsRegion": "us-east-1"
            })).collect::<Vec<_>>()
        })
    }

    fn state(id: &str, state: InstanceState, time: &str) -> String {
        event::state_change_json(
            id,
            "i-0web1",
            state,
            model::parse_time(time).ok(),
            "us-east-1",
        )
        .to_string()
    }

    fn failures(answer: &Value) -> Vec<String> {
        answer["batchItemFailures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["itemIdentifier"].as_str().unwrap().to_string())
            .collect()
    }

    #[tokio::test]
    async fn a_batch_converges_each_instance_once_and_fails_only_what_did_not_complete() {
        let account = MemoryAccount::fixture("split-horizon");
        let registrar = account.registrar(Config::default());
        let batch = sqs(&[
            (
                "m1",
                state("e1", InstanceState::Pending, "2026-11-21T10:00:00Z"),
            ),
            (
                "m2",
                state("e2", InstanceState::Running, "2026-11-21T10:00:05Z"),
            ),
            (
                "m3",
                state("e2", InstanceState::Running, "2026-11-21T10:00:05Z"),
            ),
            ("m4", "not json".to_string()),
            (
                "m5",
                json!({"source": "aws.s3", "detail-type": "Object Created", "detail": {}})
                    .to_string(),
            ),
        ]);
        assert!(is_sqs_batch(&batch));
        account.calls.take();
        let answer = handle_batch(&registrar, &account, &batch, None, &mut Tally::default()).await;
        assert_eq!(failures(&answer), Vec::<String>::new(), "{answer}");
        let calls = account.calls.take();
        assert_eq!(
            calls.get("ec2:DescribeInstances"),
            Some(&1),
            "one converge: {calls:?}"
        );
        let owned = account.registry_items()["i-0web1"].records.len();
        assert_eq!(owned, 5, "web-1 registered");

        // Route 53 throttles every change: web-1's messages come back, the
        // others don't.
        for _ in 0..20 {
            account.inject("route53:ChangeResourceRecordSets", Fault::Throttling);
        }
        let batch = sqs(&[
            (
                "t1",
                state("e3", InstanceState::Terminated, "2026-11-21T11:00:00Z"),
            ),
            ("t2", "{}".to_string()),
        ]);
        let answer = handle_batch(&registrar, &account, &batch, None, &mut Tally::default()).await;
        assert_eq!(failures(&answer), ["t1"], "{answer}");
        assert_eq!(
            answer,
            json!({"batchItemFailures": [{"itemIdentifier": "t1"}]}),
            "the answer's JSON is exactly what Lambda reads"
        );
        assert_eq!(
            account.registry_items()["i-0web1"].records.len(),
            5,
            "nothing half-owned"
        );
    }

    #[tokio::test]
    async fn a_record_that_is_not_an_sqs_message_is_rejected_alone() {
        let account = MemoryAccount::fixture("split-horizon");
        let registrar = account.registrar(Config::default());
        let mut batch = sqs(&[
            (
                "d1",
                state("e1", InstanceState::Running, "2026-11-21T10:00:00Z"),
            ),
            (
                "g1",
                state("e2", InstanceState::Running, "2026-11-21T10:00:05Z"),
            ),
        ]);
        // Damaged: attributes must be a map of strings.
        batch["Records"][0]["attributes"] = json!(7);
        let answer = handle_batch(&registrar, &account, &batch, None, &mut Tally::default()).await;
        assert_eq!(answer, json!({"batchItemFailures": []}), "not redelivered");
        assert_eq!(messages(&batch)[0].id, "d1", "named by its messageId still");
        assert!(messages(&batch)[0].event.is_err());
        let owned = account.registry_items()["i-0web1"].records.len();
        assert_eq!(owned, 5, "the good message converged web-1");
        // No Records at all, or a record without messageId or body.
        let answer = handle_batch(
            &registrar,
            &account,
            &json!({"Records": [{}]}),
            None,
            &mut Tally::default(),
        )
        .await;
        assert_eq!(answer, json!({"batchItemFailures": []}));
        assert_eq!(messages(&json!({"Records": [{}]}))[0].id, "#0");
    }
}
