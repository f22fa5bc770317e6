//! The Lambda handler, generic over the ports so its two outcomes (answer
//! with a summary, or fail the invocation so Lambda retries) are unit-tested
//! on the in-memory account. `bin/bootstrap.rs` only builds the AWS clients
//! and hands them to [`run`]. Each invocation is counted as it goes
//! ([`tally`]) for its CloudWatch metrics ([`metrics`]), and logs one line
//! per record it changes, every line with the invocation's keys ([`logs`]).

pub mod buffered;
#[cfg(test)]
mod capture;
pub mod logs;
pub mod metrics;
pub mod tally;
#[cfg(test)]
mod telemetry_tests;

use ec2_ddns_core::ddns;
use ec2_ddns_core::ddns::endpoint::{Answer, Served};
use ec2_ddns_core::error::Error;
use ec2_ddns_core::event::{self, Event, TaskEvent};
use ec2_ddns_core::lifecycle::{self, HookOutcome, NoHooks};
use ec2_ddns_core::ports::{
    Dns, Guards, HooksAndTasks, Instances, LifecycleHooks, NoTasks, Registry, Tasks,
};
use ec2_ddns_core::registrar::{Reconciled, Registrar, Whereabouts};
use ec2_ddns_core::summary::{Outcome, Summary};
use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use metrics::Emitter;
use serde_json::Value;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tally::{most_serious, Kind, Tally};
use tokio::time::Instant;
use tracing::{error, info, warn, Instrument};

/// What Lambda reports as `errorType` for a failed invocation: the kind of
/// failure (`ec2_ddns::Aws`, …), so a dead-letter queue can be read at a
/// glance.
pub fn diagnostic(e: Error) -> Diagnostic {
    Diagnostic {
        error_type: format!("ec2_ddns::{}", e.kind_name()),
        error_message: e.to_string(),
    }
}

/// Handles one invocation's payload. A retryable failure fails the
/// invocation (`Err`), so Lambda, EventBridge or SQS delivers the event
/// again; anything else, a bad event included, answers with the summary
/// (outcome `error`, `"retryable": false`), because a retry would fail the
/// same way and only reach the dead-letter queue with a false explanation.
/// A scheduled event runs the full reconcile and answers with its totals
/// and the instances it reported on. A function URL request (told apart by
/// its shape) is the DDNS endpoint's, answered with a function URL
/// response; it never fails the invocation. An SQS batch (buffered mode)
/// is answered with the messages to deliver again (`buffered`).
pub async fn handle<E, D, R>(registrar: &Registrar<E, D, R>, payload: Value) -> Result<Value, Error>
where
    E: Instances + Sync,
    D: Dns + Sync,
    R: Registry + Guards + Sync,
{
    handle_until(registrar, payload, None).await
}

/// [`handle`], sending no Route 53 change after `deadline` in a batch or a
/// reconcile (the instances left are failed retryably, nothing half-done),
/// and waiting out Route 53's throttles while time is left
/// (`registrar::retry`).
pub async fn handle_until<E, D, R>(
    registrar: &Registrar<E, D, R>,
    payload: Value,
    deadline: Option<Instant>,
) -> Result<Value, Error>
where
    E: Instances + Sync,
    D: Dns + Sync,
    R: Registry + Guards + Sync,
{
    handle_counted(registrar, payload, deadline, &mut Tally::default()).await
}

/// [`handle_until`], counting into `tally` what the invocation did. A
/// lifecycle action is converged, and its hook left to its timeout, and a
/// task event is answered "not covered" (no Auto Scaling or ECS client
/// here: [`handle_hooked`] has them).
pub async fn handle_counted<E, D, R>(
    registrar: &Registrar<E, D, R>,
    payload: Value,
    deadline: Option<Instant>,
    tally: &mut Tally,
) -> Result<Value, Error>
where
    E: Instances + Sync,
    D: Dns + Sync,
    R: Registry + Guards + Sync,
{
    handle_hooked(registrar, &no_ports(), payload, deadline, tally).await
}

/// No Auto Scaling client and no ECS client.
fn no_ports() -> HooksAndTasks<NoHooks, NoTasks> {
    HooksAndTasks {
        hooks: NoHooks,
        tasks: NoTasks,
    }
}

/// [`handle_counted`], converging ECS tasks through `ports` (their events,
/// and the reconcile's listing) and completing the lifecycle actions of
/// Auto Scaling events through `ports` once their instance is converged
/// (`ec2_ddns_core::lifecycle`): a failure a retry may fix fails the
/// invocation, so Lambda delivers the event again, and the hook's
/// heartbeat timeout bounds the wait. Under `DDNS_WAIT_INSYNC=true` a
/// launch is completed once Route 53 reports its changes `INSYNC`, or at
/// `deadline` at the latest.
pub async fn handle_hooked<E, D, R, H>(
    registrar: &Registrar<E, D, R>,
    hooks: &H,
    payload: Value,
    deadline: Option<Instant>,
    tally: &mut Tally,
) -> Result<Value, Error>
where
    E: Instances + Sync,
    D: Dns + Sync,
    R: Registry + Guards + Sync,
    H: LifecycleHooks + Tasks + Sync,
{
    ec2_ddns_core::registrar::within(
        deadline,
        dispatch(registrar, hooks, payload, deadline, tally),
    )
    .await
}

async fn dispatch<E, D, R, H>(
    registrar: &Registrar<E, D, R>,
    hooks: &H,
    payload: Value,
    deadline: Option<Instant>,
    tally: &mut Tally,
) -> Result<Value, Error>
where
    E: Instances + Sync,
    D: Dns + Sync,
    R: Registry + Guards + Sync,
    H: LifecycleHooks + Tasks + Sync,
{
    if ddns::request::is_function_url(&payload) {
        return Ok(ddns_request(registrar, payload, tally).await);
    }
    if crate::buffered::is_sqs_batch(&payload) {
        return Ok(
            crate::buffered::handle_batch(registrar, hooks, &payload, deadline, tally).await,
        );
    }
    let change = match event::parse(payload) {
        Ok(Event::Instance(change)) => change,
        Ok(Event::Task(task)) => return task_event(registrar, hooks, &task, tally).await,
        Ok(Event::Scheduled { event_id, .. }) => {
            return reconcile(registrar, hooks, &event_id, deadline, tally).await
        }
        Ok(Event::Ignored { event_id, reason }) => {
            info!(event = %event_id, "{reason}");
            tally.event(Kind::Other, Outcome::NothingToDo);
            return Ok(to_json(&Summary::ignored(&event_id, reason)));
        }
        Err(e) => {
            error!(error = %e, "event rejected");
            tally.event(Kind::Other, Outcome::Error);
            return Ok(to_json(&Summary::unreadable_event(&e)));
        }
    };
    let kind = Kind::of(&change);
    let home = registrar.event_whereabouts(&change) == Whereabouts::Home;
    let converged = match change.lifecycle() {
        // A member account's lifecycle action is converged like any other
        // event of its instance; its hook is the member's to complete (the
        // central function holds no Auto Scaling role there), so it ends
        // by its heartbeat timeout's default result.
        Some(_) if !home => registrar.handle_anywhere(&change).await.map(|s| {
            s.note("a member account's lifecycle action is not completed by the central function: its hook ends by its heartbeat timeout")
        }),
        Some(action) => {
            // A wait for Route 53's INSYNC (DDNS_WAIT_INSYNC) ends by the
            // deadline, so that the hook is completed in this invocation.
            let hooked = lifecycle::handle_until(registrar, hooks, &change, action, deadline).await;
            tally.hook(&hooked.hook);
            tally.propagation(hooked.propagation.as_ref());
            match hooked.hook {
                // The convergence's own failure, or the completion's: the
                // event comes again, and the hook waits.
                HookOutcome::Retry(e) => Err(hooked.converged.err().unwrap_or(e)),
                _ => hooked.converged,
            }
        }
        None => registrar.handle_anywhere(&change).await,
    };
    answered(&Summary::of(&change), kind, converged, tally)
}

/// An ECS task state change, converged through `tasks`.
async fn task_event<E, D, R, T>(
    registrar: &Registrar<E, D, R>,
    tasks: &T,
    event: &TaskEvent,
    tally: &mut Tally,
) -> Result<Value, Error>
where
    E: Instances + Sync,
    D: Dns + Sync,
    R: Registry + Sync,
    T: Tasks + Sync,
{
    let converged = registrar.handle_task_anywhere(tasks, event).await;
    answered(&Summary::of_task(event), Kind::Task, converged, tally)
}

/// The invocation's answer for one event about one subject (an instance, a
/// task), whose summary before any work is `before`: its summary, or a
/// retryable failure that fails the invocation.
fn answered(
    before: &Summary,
    kind: Kind,
    converged: Result<Summary, Error>,
    tally: &mut Tally,
) -> Result<Value, Error> {
    let subject = before.instance_id.as_str();
    match converged {
        Ok(summary) => {
            for w in &summary.warnings {
                warn!(instance = %subject, "{w}");
            }
            summarized(tally, &summary);
            tally.event(kind, summary.outcome);
            Ok(to_json(&summary))
        }
        Err(e) if e.is_retryable() => {
            warn!(error = %e, instance = %subject, "retryable failure; the invocation fails so the event is delivered again");
            tally.failure(&e);
            tally.event(kind, Outcome::Error);
            Err(e)
        }
        Err(e) => {
            error!(error = %e, instance = %subject, "event failed; not retried");
            let summary = before.clone().with_error(&e);
            summarized(tally, &summary);
            tally.event(kind, summary.outcome);
            Ok(to_json(&summary))
        }
    }
}

/// Counts a summary and logs each record it changed.
fn summarized(tally: &mut Tally, summary: &Summary) {
    tally.summary(summary);
    logs::changes(summary);
}

/// One request to the DDNS endpoint: one event, whose outcome is its most
/// serious answer's.
async fn ddns_request<E, D, R>(
    registrar: &Registrar<E, D, R>,
    payload: Value,
    tally: &mut Tally,
) -> Value
where
    E: Sync,
    D: Dns + Sync,
    R: Registry + Guards + Sync,
{
    let request_id = payload
        .pointer("/requestContext/requestId")
        .and_then(Value::as_str)
        .map(|id| ec2_ddns_core::names::clip(id).to_string())
        .unwrap_or_else(|| "ddns".to_string());
    let served = match ddns::request::HttpRequest::from_function_url(payload) {
        Ok(request) => {
            ddns::endpoint::serve_counted(registrar, &request, &request_id, chrono::Utc::now())
                .await
        }
        Err(refused) => {
            info!(status = refused.status, reason = %refused.reason, "request refused");
            Served {
                response: ddns::answer::refusal(&refused),
                answers: vec![Answer::Unreadable],
                summaries: Vec::new(),
            }
        }
    };
    for summary in &served.summaries {
        summarized(tally, summary);
    }
    for answer in &served.answers {
        tally.answer(answer);
    }
    tally.event(
        Kind::Ddns,
        most_serious(served.answers.iter().map(Answer::outcome)),
    );
    ddns::answer::to_json(&served.response)
}

/// The full reconcile. Each instance reported is logged as one line; the
/// answer holds the totals. A listing that fails retryably fails the
/// invocation; an instance that fails is counted and left to the next run.
async fn reconcile<E, D, R, T>(
    registrar: &Registrar<E, D, R>,
    tasks: &T,
    event_id: &str,
    deadline: Option<Instant>,
    tally: &mut Tally,
) -> Result<Value, Error>
where
    E: Instances + Sync,
    D: Dns + Sync,
    R: Registry + Sync,
    T: Tasks + Sync,
{
    match reconcile_counted(registrar, tasks, event_id, deadline, tally).await {
        Ok(done) => {
            for w in &done.warnings {
                warn!("{w}");
            }
            let reported: Vec<&Summary> = done.reported().collect();
            for s in &reported {
                info!(instance = %s.instance_id, outcome = s.outcome.as_str(), summary = %serde_json::to_string(s).unwrap_or_default(), "reconciled");
            }
            tally.event(Kind::Scheduled, reconcile_outcome(&done));
            Ok(serde_json::json!({"totals": done.totals, "instances": reported}))
        }
        Err(e) if e.is_retryable() => {
            warn!(error = %e, "reconcile failed; the invocation fails so the schedule's event is delivered again");
            tally.event(Kind::Scheduled, Outcome::Error);
            Err(e)
        }
        Err(e) => {
            error!(error = %e, "reconcile failed; not retried");
            tally.event(Kind::Scheduled, Outcome::Error);
            Ok(to_json(&Summary::invocation_failed(event_id, &e)))
        }
    }
}

/// Runs the reconcile and counts what it did: each instance's summary, the
/// records it repaired, its calls. The reconcile reports its own calls and
/// starts by clearing the log, so the calls made before it are taken first.
pub(crate) async fn reconcile_counted<E, D, R, T>(
    registrar: &Registrar<E, D, R>,
    tasks: &T,
    event_id: &str,
    deadline: Option<Instant>,
    tally: &mut Tally,
) -> Result<Reconciled, Error>
where
    E: Instances + Sync,
    D: Dns + Sync,
    R: Registry + Sync,
    T: Tasks + Sync,
{
    if let Some(calls) = &registrar.calls {
        tally.calls(calls.take());
    }
    let done = registrar
        .reconcile_everywhere(tasks, event_id, deadline)
        .await;
    match &done {
        Ok(done) => {
            for summary in &done.summaries {
                summarized(tally, summary);
            }
            tally.reconciled(&done.totals);
        }
        Err(e) => tally.failure(e),
    }
    done
}

/// A reconcile's outcome: its most serious instance's.
pub(crate) fn reconcile_outcome(done: &Reconciled) -> Outcome {
    most_serious(done.summaries.iter().map(|s| s.outcome))
}

/// A summary as the invocation's answer. Serializing plain data cannot
/// fail; if it ever did, the answer says so rather than panicking.
fn to_json(summary: &Summary) -> Value {
    serde_json::to_value(summary)
        .unwrap_or_else(|e| serde_json::json!({"outcome": "error", "error": e.to_string()}))
}

/// One process serving invocations, one at a time: the first is its cold
/// start, and each one's metrics go to `metrics` (none outside Lambda).
pub struct Function {
    invocations: AtomicUsize,
    metrics: Option<Emitter>,
}

impl Function {
    pub fn new(metrics: Option<Emitter>) -> Function {
        Function {
            invocations: AtomicUsize::new(0),
            metrics,
        }
    }

    /// Metrics on stdout inside Lambda (`metrics::Settings::from_env`).
    pub fn from_env() -> Function {
        Function::new(Emitter::from_env())
    }

    /// Serves one invocation: handles it within its span (every line
    /// logged carries the request id, trace id and cold start), logs its
    /// AWS calls, and writes its metrics before answering.
    pub async fn invoke<E, D, R>(
        &self,
        registrar: &Registrar<E, D, R>,
        event: LambdaEvent<Value>,
    ) -> Result<Value, Diagnostic>
    where
        E: Instances + Sync,
        D: Dns + Sync,
        R: Registry + Guards + Sync,
    {
        self.invoke_hooked(registrar, &no_ports(), event).await
    }

    /// [`Function::invoke`], completing lifecycle actions and converging
    /// tasks through `hooks` (`HooksAndTasks`).
    pub async fn invoke_hooked<E, D, R, H>(
        &self,
        registrar: &Registrar<E, D, R>,
        hooks: &H,
        event: LambdaEvent<Value>,
    ) -> Result<Value, Diagnostic>
    where
        E: Instances + Sync,
        D: Dns + Sync,
        R: Registry + Guards + Sync,
        H: LifecycleHooks + Tasks + Sync,
    {
        let cold_start = self.invocations.fetch_add(1, Ordering::Relaxed) == 0;
        let span = logs::invocation_span(&event.context, cold_start);
        self.serve(registrar, hooks, event, cold_start)
            .instrument(span)
            .await
    }

    async fn serve<E, D, R, H>(
        &self,
        registrar: &Registrar<E, D, R>,
        hooks: &H,
        event: LambdaEvent<Value>,
        cold_start: bool,
    ) -> Result<Value, Diagnostic>
    where
        E: Instances + Sync,
        D: Dns + Sync,
        R: Registry + Guards + Sync,
        H: LifecycleHooks + Tasks + Sync,
    {
        let deadline = send_deadline(event.context.deadline, SystemTime::now());
        let mut tally = Tally {
            cold_start,
            ..Tally::default()
        };
        if let Some(calls) = &registrar.calls {
            calls.take();
            calls.take_throttled();
        }
        let answer = handle_hooked(registrar, hooks, event.payload, deadline, &mut tally).await;
        // One invocation at a time per process: what the log counted since
        // the start is this invocation's (a reconcile's are in the tally).
        if let Some(calls) = &registrar.calls {
            tally.calls(calls.take());
            tally.throttles(calls.take_throttled());
        }
        if !tally.aws_calls.is_empty() {
            info!(
                aws_calls = tally.aws_calls_total(),
                by_operation = %serde_json::to_string(&tally.aws_calls).unwrap_or_default(),
                route53_throttles = tally.route53_throttles(),
                "invocation done"
            );
        }
        if let Some(metrics) = &self.metrics {
            metrics.emit(&tally, SystemTime::now());
        }
        answer.map_err(diagnostic)
    }
}

/// Serves invocations until the runtime stops, with one registrar (and so
/// one set of clients) for all of them, and `hooks` to complete Auto
/// Scaling's lifecycle actions and converge ECS tasks.
pub async fn run<E, D, R, H>(
    registrar: Registrar<E, D, R>,
    hooks: H,
) -> Result<(), lambda_runtime::Error>
where
    E: Instances + Sync,
    D: Dns + Sync,
    R: Registry + Guards + Sync,
    H: LifecycleHooks + Tasks + Sync,
{
    let function = Function::from_env();
    let (registrar, hooks, function) = (&registrar, &hooks, &function);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        function.invoke_hooked(registrar, hooks, event)
    }))
    .await
}

/// Time kept back from the invocation's end (at most; a fifth of what is
/// left when that is less): after the last change is sent, the items are
/// saved and the answer is given.
const FINISH_MARGIN: Duration = Duration::from_secs(3);

/// The last moment to send a change: the invocation's deadline (Unix
/// milliseconds, as Lambda gives it) less the finishing margin. `None`
/// when the deadline is not ahead of `now` at all: Lambda never starts an
/// invocation past its deadline, but emulators send a duration there
/// (cargo-lambda sends 600000), and no bound beats a wrong one.
fn send_deadline(deadline_ms: u64, now: SystemTime) -> Option<Instant> {
    let end = UNIX_EPOCH + Duration::from_millis(deadline_ms);
    let left = end.duration_since(now).ok()?;
    Some(Instant::now() + left - FINISH_MARGIN.min(left / 5))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ec2_ddns_core::model::{self, InstanceState};
    use ec2_ddns_core::Config;
    use ec2_ddns_sim::memory::{Fault, MemoryAccount};

    fn account() -> MemoryAccount {
        MemoryAccount::fixture("split-horizon")
    }

    fn running() -> Value {
        let time = model::parse_time("2026-11-21T10:00:00Z").ok();
        event::state_change_json("e-1", "i-0web1", InstanceState::Running, time, "us-east-1")
    }

    #[test]
    fn the_send_deadline_keeps_a_margin_and_ignores_a_deadline_in_the_past() {
        let now = UNIX_EPOCH + Duration::from_secs(1_795_000_000);
        let ms = |d: Duration| (now + d).duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
        let start = Instant::now();
        let left = |deadline: Option<Instant>| deadline.map(|d| d - start);
        // 60 s left: 57 s to send.
        let sixty = left(send_deadline(ms(Duration::from_secs(60)), now)).unwrap();
        assert!(sixty >= Duration::from_secs(57) && sixty < Duration::from_secs(58));
        // 5 s left: a fifth kept back, 4 s to send.
        let five = left(send_deadline(ms(Duration::from_secs(5)), now)).unwrap();
        assert!(five >= Duration::from_secs(4) && five < Duration::from_secs(5));
        // cargo-lambda's 600000: not a time ahead, no bound.
        assert_eq!(send_deadline(600_000, now), None);
    }

    #[tokio::test]
    async fn a_handled_event_answers_with_its_summary() {
        let account = account();
        let answer = handle(&account.registrar(Config::default()), running())
            .await
            .unwrap();
        assert_eq!(answer["outcome"], "applied", "{answer}");
        assert_eq!(
            answer["changes"].as_array().map(Vec::len),
            Some(5),
            "{answer}"
        );
        assert!(
            answer.get("retryable").is_none(),
            "only failures say: {answer}"
        );
    }

    #[tokio::test]
    async fn a_bad_event_answers_not_retryable_and_calls_nothing() {
        let account = account();
        let answer = handle(
            &account.registrar(Config::default()),
            serde_json::json!({"source": "aws.s3"}),
        )
        .await
        .unwrap();
        assert_eq!(answer["outcome"], "error", "{answer}");
        assert_eq!(answer["retryable"], false, "{answer}");
        assert!(
            answer.get("event_id").is_none() && answer.get("instance_id").is_none(),
            "an event not read names neither: {answer}"
        );
        assert!(
            account.calls.take().is_empty(),
            "no AWS call for a bad event"
        );
    }

    #[tokio::test]
    async fn an_event_about_no_instance_answers_nothing_to_do_without_an_instance_id() {
        let account = account();
        let volume = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/events/tag-change-volume.json"
        ))
        .unwrap();
        let answer = handle(
            &account.registrar(Config::default()),
            serde_json::from_str(&volume).unwrap(),
        )
        .await
        .unwrap();
        assert_eq!(answer["outcome"], "nothing-to-do", "{answer}");
        assert_eq!(
            answer["event_id"], "3c8e2f61-7b5a-4d2e-b1c9-000000000013",
            "{answer}"
        );
        assert!(answer.get("instance_id").is_none(), "{answer}");
        assert!(account.calls.take().is_empty(), "no AWS call");
    }

    #[tokio::test]
    async fn throttling_is_waited_out_then_fails_the_invocation_so_lambda_retries() {
        let account = account();
        // One throttle is absorbed within the invocation.
        account.inject("route53:ChangeResourceRecordSets", Fault::Throttling);
        let answer = handle(&account.registrar(Config::default()), running())
            .await
            .unwrap();
        assert_eq!(answer["outcome"], "applied", "{answer}");

        // Throttling that outlasts every try of every zone (the three zones'
        // changes go at once, each tried 4 times) fails the invocation.
        let account = self::account();
        for _ in 0..12 {
            account.inject("route53:ChangeResourceRecordSets", Fault::Throttling);
        }
        let err = handle(&account.registrar(Config::default()), running())
            .await
            .unwrap_err();
        assert!(err.is_retryable(), "{err}");
        assert_eq!(diagnostic(err).error_type, "ec2_ddns::Aws");
        assert!(
            account.registry_items()["i-0web1"].pending.is_empty(),
            "throttled changes changed nothing, so nothing is pending: {:?}",
            account.registry_items()
        );
        // The retry, with Route 53 healthy again, completes.
        let answer = handle(&account.registrar(Config::default()), running())
            .await
            .unwrap();
        assert_eq!(answer["outcome"], "applied", "{answer}");
    }

    #[tokio::test]
    async fn a_refusal_the_zone_does_not_explain_is_split_and_the_rest_goes_in() {
        let account = account();
        let refusal = Fault::Refused(
            "InvalidChangeBatch",
            "[Invalid Resource Record: 'FATAL problem: ARRDATAIllegalIPv4Address']",
        );
        // The private zone's batch, then its first unit (the host A)
        // alone, are refused.
        account.inject_in_zone("Z0CORPPRIVATE", refusal.clone());
        account.inject_in_zone("Z0CORPPRIVATE", refusal);
        let answer = handle(&account.registrar(Config::default()), running())
            .await
            .unwrap();
        assert_eq!(answer["outcome"], "conflict", "{answer}");
        let conflicts = answer["conflicts"].as_array().unwrap();
        assert_eq!(conflicts.len(), 1, "{answer}");
        assert!(
            conflicts[0]["reason"]
                .as_str()
                .unwrap_or_default()
                .contains("ARRDATAIllegalIPv4Address"),
            "{answer}"
        );
        assert!(
            answer["changes"].as_array().unwrap().len() >= 3,
            "the other records went in: {answer}"
        );
    }

    #[tokio::test]
    async fn a_schedule_runs_the_reconcile_and_answers_its_totals() {
        let account = account();
        let scheduled = event::scheduled_json("s-1", None, "us-east-1");
        let answer = handle(&account.registrar(Config::default()), scheduled)
            .await
            .unwrap();
        assert_eq!(answer["totals"]["totals"], "reconcile", "{answer}");
        assert_eq!(answer["totals"]["records_created"], 5, "{answer}");
        assert_eq!(answer["instances"][0]["instance_id"], "i-0web1", "{answer}");
        assert_eq!(account.registry_items()["i-0web1"].records.len(), 5);
    }

    #[tokio::test]
    async fn a_tag_change_the_registrar_does_not_read_calls_nothing() {
        let account = account();
        let tags = [("Owner".to_string(), "team-a".to_string())].into();
        let owner = event::tag_change_json("t-1", "i-0web1", &["Owner"], &tags, None, "us-east-1");
        let answer = handle(&account.registrar(Config::default()), owner)
            .await
            .unwrap();
        assert_eq!(answer["outcome"], "nothing-to-do", "{answer}");
        assert!(account.calls.take().is_empty(), "no AWS call");

        let cname = event::tag_change_json("t-2", "i-0web1", &["CNAME"], &tags, None, "us-east-1");
        let answer = handle(&account.registrar(Config::default()), cname)
            .await
            .unwrap();
        assert_eq!(answer["outcome"], "applied", "{answer}");
        assert_eq!(answer["changed_tags"][0], "CNAME", "{answer}");
    }
}
