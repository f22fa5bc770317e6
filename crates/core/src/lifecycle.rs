//! Auto Scaling lifecycle hooks: an instance of a group with a hook waits
//! (`Pending:Wait`, `Terminating:Wait`) until someone completes its
//! lifecycle action. ec2-ddns converges the instance with the one engine,
//! as for any event (the live state decides; a terminate action deletes
//! what the instance owns although it still runs), and completes the action
//! only then: on launch once its records are written, on terminate once
//! they are deleted, so a name never points at an instance that is not in
//! service.
//!
//! What to answer is a pure decision ([`decide`], table-tested below); the
//! one call is behind [`LifecycleHooks`]. A failure a retry may fix
//! completes nothing: the invocation fails, Lambda delivers the event
//! again, and the hook's heartbeat timeout bounds the wait. A failure for
//! good (a conflict at the instance's name, a rejected tag, an error no
//! retry fixes) completes a launch with `CONTINUE`, or `ABANDON` under
//! `DDNS_HOOK_ON_CONFLICT=abandon`: by default an instance without a name
//! is better than no instance. A terminate always continues: the instance
//! goes either way.
//!
//! Route 53 takes a change batch at once but its name servers answer with
//! the new records some seconds later (`PENDING`, then `INSYNC`, usually
//! within a minute). With `DDNS_WAIT_INSYNC=true` a launch that continues
//! is completed only once Route 53 reports every batch this invocation
//! applied `INSYNC` (GetChange, [`wait_for_insync`]), polling with growing
//! pauses, and at most until the invocation's deadline (less a margin for
//! the completion itself): the hook's own remaining time is not in the
//! event, and the function's timeout, kept below the hook's heartbeat
//! timeout, bounds it instead. Time running out, or a GetChange failing
//! for good, completes the hook all the same, with a warning and a note:
//! the records are written, and a hook never waits on a read. A terminate,
//! an abandoned launch and a dry run never wait.

use crate::config::HookOnConflict;
use crate::error::{Error, Result};
use crate::event::{InstanceEvent, LifecycleAction, Transition};
use crate::ports::{Dns, Instances, LifecycleHooks, Registry};
use crate::registrar::Registrar;
use crate::summary::{Outcome, Summary};
use std::time::Duration;
use tokio::time::Instant;
use tracing::{info, warn};

/// The result a lifecycle action is completed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum HookResult {
    /// The instance goes on (into service, or away).
    Continue,
    /// A launching instance is terminated instead.
    Abandon,
}

impl HookResult {
    /// As CompleteLifecycleAction spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            HookResult::Continue => "CONTINUE",
            HookResult::Abandon => "ABANDON",
        }
    }
}

/// What Auto Scaling made of a completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    /// The action was waiting and is completed now.
    Completed,
    /// No such action is waiting (completed before, or timed out).
    NotWaiting,
}

/// How the convergence of a lifecycle action's instance ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Converged, with this outcome (never `Error`).
    Converged(Outcome),
    /// Failed with an error a retry would meet again.
    FailedForGood,
    /// Failed with an error a later attempt may not meet.
    FailedRetryably,
}

impl Ended {
    /// How `result` (what `Registrar::handle` answered) ended.
    pub fn of(result: &Result<Summary>) -> Ended {
        match result {
            Ok(s) if s.outcome == Outcome::Error && s.retryable == Some(true) => {
                Ended::FailedRetryably
            }
            Ok(s) if s.outcome == Outcome::Error => Ended::FailedForGood,
            Ok(s) => Ended::Converged(s.outcome),
            Err(e) if e.is_retryable() => Ended::FailedRetryably,
            Err(_) => Ended::FailedForGood,
        }
    }
}

/// What to do with the lifecycle action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Complete it with this result.
    Complete(HookResult),
    /// Complete nothing: the invocation fails and the event comes again.
    Retry,
}

/// The decision for an action whose instance's convergence ended so.
pub fn decide(transition: Transition, ended: Ended, on_conflict: HookOnConflict) -> Decision {
    let for_good = match on_conflict {
        HookOnConflict::Continue => HookResult::Continue,
        HookOnConflict::Abandon => HookResult::Abandon,
    };
    match (ended, transition) {
        (Ended::FailedRetryably, _) => Decision::Retry,
        (_, Transition::Terminating) => Decision::Complete(HookResult::Continue),
        (Ended::Converged(Outcome::Applied | Outcome::NothingToDo), _) => {
            Decision::Complete(HookResult::Continue)
        }
        (
            Ended::Converged(Outcome::Conflict | Outcome::Rejected | Outcome::Error)
            | Ended::FailedForGood,
            Transition::Launching,
        ) => Decision::Complete(for_good),
    }
}

/// Whether completing the action as `decision` says waits first for
/// Route 53 to report the instance's changes `INSYNC` (`wait_insync`:
/// `DDNS_WAIT_INSYNC`): only a launch that continues, since only there a
/// name is wanted to resolve the moment the instance goes into service. A
/// launch that wrote nothing waits for nothing (no change to ask about).
pub fn waits_for_insync(transition: Transition, decision: Decision, wait_insync: bool) -> bool {
    wait_insync
        && transition == Transition::Launching
        && decision == Decision::Complete(HookResult::Continue)
}

/// Time kept back from the invocation's deadline when waiting for
/// `INSYNC`: the last GetChange and the CompleteLifecycleAction call go in
/// it. (The deadline handed in is already the handler's, which keeps its
/// own margin for the answer.)
pub const INSYNC_MARGIN: Duration = Duration::from_secs(1);

/// The longest wait for `INSYNC` when the invocation's deadline allows
/// more (or none is known: the command line, tests): twice the minute in
/// which Route 53 usually has every name server in sync.
pub const MAX_INSYNC_WAIT: Duration = Duration::from_secs(120);

/// The moment to stop waiting for `INSYNC`, for a wait that starts at
/// `now`: [`MAX_INSYNC_WAIT`] later, or the invocation's `deadline` less
/// [`INSYNC_MARGIN`] when that comes first (it may be past already).
pub fn insync_bound(now: Instant, deadline: Option<Instant>) -> Instant {
    let longest = now + MAX_INSYNC_WAIT;
    match deadline {
        Some(deadline) => longest.min(deadline.checked_sub(INSYNC_MARGIN).unwrap_or(deadline)),
        None => longest,
    }
}

/// The pause after poll `polls` (1: the first) of a wait for `INSYNC`, in
/// units of the registrar's backoff (200 ms; zero in the in-memory
/// account's tests, as for its change retries): 10 (2 s) after the first
/// poll, doubled after each, at most 50 (10 s). Route 53 usually syncs
/// within a minute, so a few polls see it.
pub fn insync_pause(backoff: Duration, polls: u32) -> Duration {
    let first = backoff.saturating_mul(10);
    let longest = backoff.saturating_mul(50);
    first
        .saturating_mul(2u32.saturating_pow(polls.saturating_sub(1).min(16)))
        .min(longest)
}

/// How a wait for Route 53's `INSYNC` ended.
#[derive(Debug, Clone)]
pub enum Propagation {
    /// Every change batch is `INSYNC` (or there was none to ask about).
    InSync { polls: u32, waited: Duration },
    /// Time ran out with a batch still `PENDING` (or GetChange still
    /// failing in a way a retry may fix).
    TimedOut { polls: u32, waited: Duration },
    /// GetChange failed for good (a missing permission): the wait stopped.
    Unknown(Error),
}

impl Propagation {
    /// A line for the summary's notes.
    fn note(&self) -> String {
        match self {
            Propagation::InSync { polls, waited } => format!(
                "Route 53 reports the changes INSYNC after {} s ({polls} GetChange polls)",
                waited.as_secs()
            ),
            Propagation::TimedOut { polls, waited } => format!(
                "Route 53's changes not yet INSYNC after {} s ({polls} GetChange polls): the wait's time is up (the invocation's deadline, or 2 minutes); the hook is completed all the same (the records are written)",
                waited.as_secs()
            ),
            Propagation::Unknown(e) => format!(
                "whether Route 53's changes are INSYNC is unknown ({e}); the hook is completed all the same (the records are written)"
            ),
        }
    }
}

/// Polls `dns.applied_in_sync(since)` until it is true, pausing between
/// polls as [`insync_pause`] says, until [`insync_bound`]: the first poll
/// goes whatever the time left. A GetChange failure a retry may fix is
/// polled again; one for good ends the wait.
pub async fn wait_for_insync<D: Dns + Sync>(
    dns: &D,
    since: Instant,
    deadline: Option<Instant>,
    backoff: Duration,
) -> Propagation {
    let start = Instant::now();
    let bound = insync_bound(start, deadline);
    let mut polls = 0;
    loop {
        polls += 1;
        match dns.applied_in_sync(since).await {
            Ok(true) => {
                return Propagation::InSync {
                    polls,
                    waited: start.elapsed(),
                }
            }
            Ok(false) => {}
            Err(e) if e.is_retryable() => {
                info!(error = %e, "GetChange failed; polled again")
            }
            Err(e) => return Propagation::Unknown(e),
        }
        let now = Instant::now();
        if now >= bound {
            return Propagation::TimedOut {
                polls,
                waited: now - start,
            };
        }
        tokio::time::sleep(insync_pause(backoff, polls).min(bound - now)).await;
    }
}

/// What became of a lifecycle action: the `Result` dimension of the
/// `LifecycleHooks` metric.
#[derive(Debug, Clone)]
pub enum HookOutcome {
    /// Completed with this result.
    Completed(HookResult),
    /// Auto Scaling held no such action any more; nothing was completed.
    NotWaiting,
    /// Not completed: the invocation fails so that the event comes again.
    Retry(Error),
    /// Completing it failed for good (a missing permission, a hook that
    /// does not exist): the hook's own timeout and default result decide.
    Failed(Error),
    /// A dry run completes nothing.
    DryRun(HookResult),
}

impl HookOutcome {
    /// As the metric's `Result` dimension spells it.
    pub fn as_str(&self) -> &'static str {
        match self {
            HookOutcome::Completed(HookResult::Continue) => "CONTINUE",
            HookOutcome::Completed(HookResult::Abandon) => "ABANDON",
            HookOutcome::NotWaiting => "NotWaiting",
            HookOutcome::Retry(_) => "Retry",
            HookOutcome::Failed(_) => "Error",
            HookOutcome::DryRun(_) => "DryRun",
        }
    }

    /// A line for the summary's notes.
    fn note(&self, action: &LifecycleAction) -> String {
        match self {
            HookOutcome::Completed(r) => format!("{action}: completed with {}", r.as_str()),
            HookOutcome::NotWaiting => format!(
                "{action}: Auto Scaling holds no such action any more (completed before, or timed out); nothing completed"
            ),
            HookOutcome::Retry(e) => format!("{action}: not completed; the event comes again ({e})"),
            HookOutcome::Failed(e) => format!(
                "{action}: completing it failed ({e}); the hook's heartbeat timeout and default result decide"
            ),
            HookOutcome::DryRun(r) => format!("{action}: would be completed with {}", r.as_str()),
        }
    }
}

/// What handling a lifecycle action did.
#[derive(Debug)]
pub struct Hooked {
    /// The instance's convergence, as `Registrar::handle` answers it (the
    /// hook's note, and the wait's, added to a summary).
    pub converged: Result<Summary>,
    pub hook: HookOutcome,
    /// How the wait for Route 53's `INSYNC` ended, when there was one
    /// ([`waits_for_insync`]).
    pub propagation: Option<Propagation>,
}

/// Converges the instance of a lifecycle action's `event`, then completes
/// the action as [`decide`] says. Only a failure a retry may fix (the
/// convergence's, or the completion's) leaves it waiting. With no
/// deadline: [`handle_until`].
pub async fn handle<E, D, R, H>(
    registrar: &Registrar<E, D, R>,
    hooks: &H,
    event: &InstanceEvent,
    action: &LifecycleAction,
) -> Hooked
where
    E: Instances + Sync,
    D: Dns + Sync,
    R: Registry + Sync,
    H: LifecycleHooks + Sync,
{
    handle_until(registrar, hooks, event, action, None).await
}

/// [`handle`] within an invocation that ends at `deadline` (less the
/// handler's margin): under `DDNS_WAIT_INSYNC=true` a launch that
/// continues waits for Route 53's `INSYNC` until then at most
/// ([`wait_for_insync`]), then is completed whatever the wait found.
pub async fn handle_until<E, D, R, H>(
    registrar: &Registrar<E, D, R>,
    hooks: &H,
    event: &InstanceEvent,
    action: &LifecycleAction,
    deadline: Option<Instant>,
) -> Hooked
where
    E: Instances + Sync,
    D: Dns + Sync,
    R: Registry + Sync,
    H: LifecycleHooks + Sync,
{
    // Only the change batches of this convergence are waited for.
    let since = Instant::now();
    let converged = registrar.handle(event).await;
    let ended = Ended::of(&converged);
    let decision = decide(action.transition, ended, registrar.config.hook_on_conflict);
    let mut propagation = None;
    let hook = match decision {
        Decision::Retry => HookOutcome::Retry(match &converged {
            Err(e) => e.clone(),
            Ok(s) => Error::NotReady {
                instance_id: s.instance_id.clone(),
                message: s.error.clone().unwrap_or_default(),
            },
        }),
        Decision::Complete(result) if registrar.dry_run => HookOutcome::DryRun(result),
        Decision::Complete(result) => {
            if result == HookResult::Abandon {
                warn!(instance = %action.instance_id, hook = %action, "registration failed for good; the launch is abandoned (DDNS_HOOK_ON_CONFLICT=abandon)");
            }
            if waits_for_insync(action.transition, decision, registrar.config.wait_insync) {
                let waited =
                    wait_for_insync(&registrar.dns, since, deadline, registrar.backoff).await;
                match &waited {
                    Propagation::InSync { .. } => {
                        info!(instance = %action.instance_id, hook = %action, "{}", waited.note())
                    }
                    _ => warn!(instance = %action.instance_id, hook = %action, "{}", waited.note()),
                }
                propagation = Some(waited);
            }
            match hooks.complete(action, result).await {
                Ok(Completion::Completed) => HookOutcome::Completed(result),
                Ok(Completion::NotWaiting) => HookOutcome::NotWaiting,
                Err(e) if e.is_retryable() => HookOutcome::Retry(e),
                Err(e) => HookOutcome::Failed(e),
            }
        }
    };
    match &hook {
        HookOutcome::Failed(e) => {
            warn!(instance = %action.instance_id, error = %e, "{}", hook.note(action))
        }
        _ => info!(instance = %action.instance_id, result = hook.as_str(), "{}", hook.note(action)),
    }
    let converged = converged.map(|s| {
        let s = match &propagation {
            Some(p) => s.note(p.note()),
            None => s,
        };
        s.note(hook.note(action))
    });
    Hooked {
        converged,
        hook,
        propagation,
    }
}

/// Ports that complete nothing: for callers with no Auto Scaling client (a
/// lifecycle action reaching them is converged, and its hook is left to
/// its timeout, with an error that says so).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHooks;

impl LifecycleHooks for NoHooks {
    async fn complete(&self, action: &LifecycleAction, _result: HookResult) -> Result<Completion> {
        Err(Error::Aws {
            operation: "autoscaling:CompleteLifecycleAction".into(),
            code: None,
            message: format!(
                "{action}: this caller has no Auto Scaling client; the hook's timeout and default result decide"
            ),
            kind: crate::error::Failure::Final,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;
    use Decision::{Complete, Retry};
    use HookResult::{Abandon, Continue};
    use Transition::{Launching, Terminating};

    #[rstest]
    #[case(
        Launching,
        Ended::Converged(Outcome::Applied),
        HookOnConflict::Abandon,
        Complete(Continue)
    )]
    #[case(
        Launching,
        Ended::Converged(Outcome::NothingToDo),
        HookOnConflict::Abandon,
        Complete(Continue)
    )]
    #[case(
        Launching,
        Ended::Converged(Outcome::Conflict),
        HookOnConflict::Continue,
        Complete(Continue)
    )]
    #[case(
        Launching,
        Ended::Converged(Outcome::Conflict),
        HookOnConflict::Abandon,
        Complete(Abandon)
    )]
    #[case(
        Launching,
        Ended::Converged(Outcome::Rejected),
        HookOnConflict::Abandon,
        Complete(Abandon)
    )]
    #[case(
        Launching,
        Ended::FailedForGood,
        HookOnConflict::Continue,
        Complete(Continue)
    )]
    #[case(
        Launching,
        Ended::FailedForGood,
        HookOnConflict::Abandon,
        Complete(Abandon)
    )]
    #[case(Launching, Ended::FailedRetryably, HookOnConflict::Continue, Retry)]
    #[case(
        Terminating,
        Ended::Converged(Outcome::Applied),
        HookOnConflict::Abandon,
        Complete(Continue)
    )]
    #[case(
        Terminating,
        Ended::Converged(Outcome::Conflict),
        HookOnConflict::Abandon,
        Complete(Continue)
    )]
    #[case(
        Terminating,
        Ended::FailedForGood,
        HookOnConflict::Abandon,
        Complete(Continue)
    )]
    #[case(Terminating, Ended::FailedRetryably, HookOnConflict::Abandon, Retry)]
    fn the_decision_table(
        #[case] transition: Transition,
        #[case] ended: Ended,
        #[case] on_conflict: HookOnConflict,
        #[case] want: Decision,
    ) {
        assert_eq!(decide(transition, ended, on_conflict), want);
    }

    #[rstest]
    #[case(Launching, Complete(Continue), true, true)]
    #[case(Launching, Complete(Continue), false, false)]
    #[case(Launching, Complete(Abandon), true, false)]
    #[case(Launching, Retry, true, false)]
    #[case(Terminating, Complete(Continue), true, false)]
    #[case(Terminating, Retry, true, false)]
    fn only_a_launch_that_continues_waits_for_insync(
        #[case] transition: Transition,
        #[case] decision: Decision,
        #[case] wait_insync: bool,
        #[case] waits: bool,
    ) {
        assert_eq!(waits_for_insync(transition, decision, wait_insync), waits);
    }

    #[rstest]
    // No deadline: two minutes at most.
    #[case(None, 120)]
    // A deadline far off: still two minutes.
    #[case(Some(900), 120)]
    // A deadline 30 s off: a second kept for the last poll and the completion.
    #[case(Some(30), 29)]
    #[case(Some(1), 0)]
    fn the_wait_for_insync_ends_by_the_deadline_less_a_margin(
        #[case] deadline_in: Option<u64>,
        #[case] bound_in: u64,
    ) {
        let now = Instant::now();
        let deadline = deadline_in.map(|s| now + Duration::from_secs(s));
        assert_eq!(
            insync_bound(now, deadline),
            now + Duration::from_secs(bound_in)
        );
    }

    #[test]
    fn a_deadline_already_past_bounds_the_wait_in_the_past() {
        let now = Instant::now();
        assert!(insync_bound(now, Some(now)) <= now);
    }

    #[rstest]
    #[case(1, 2_000)]
    #[case(2, 4_000)]
    #[case(3, 8_000)]
    #[case(4, 10_000)]
    #[case(40, 10_000)]
    fn the_pauses_between_polls_double_up_to_ten_seconds(#[case] polls: u32, #[case] ms: u64) {
        let backoff = Duration::from_millis(200);
        assert_eq!(insync_pause(backoff, polls), Duration::from_millis(ms));
        assert_eq!(insync_pause(Duration::ZERO, polls), Duration::ZERO);
    }

    /// A Route 53 whose GetChange answers from a script, then `INSYNC`.
    struct Scripted(std::sync::Mutex<Vec<Result<bool>>>);

    impl Scripted {
        fn new(mut answers: Vec<Result<bool>>) -> Scripted {
            answers.reverse();
            Scripted(std::sync::Mutex::new(answers))
        }
    }

    impl Dns for Scripted {
        async fn zones_visible_from(
            &self,
            _vpc_id: Option<&str>,
            _region: &str,
        ) -> Result<Vec<crate::model::ZoneInfo>> {
            unreachable!()
        }
        async fn records_at(
            &self,
            _zone_id: &crate::model::ZoneId,
            _names: &std::collections::BTreeSet<crate::model::DnsName>,
        ) -> Result<Vec<crate::model::RecordSet>> {
            unreachable!()
        }
        async fn records_in(
            &self,
            _zone_id: &crate::model::ZoneId,
        ) -> Result<Vec<crate::model::RecordSet>> {
            unreachable!()
        }
        async fn apply(&self, _changes: &crate::changes::ZoneChanges) -> Result<()> {
            unreachable!()
        }
        async fn applied_in_sync(&self, _since: Instant) -> Result<bool> {
            self.0.lock().unwrap().pop().unwrap_or(Ok(true))
        }
    }

    fn get_change_failed(kind: crate::error::Failure) -> Error {
        Error::Aws {
            operation: "route53:GetChange".into(),
            code: Some("Throttling".into()),
            message: "Rate exceeded".into(),
            kind,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_wait_polls_through_pending_and_retryable_failures_until_insync() {
        use crate::error::Failure;
        let dns = Scripted::new(vec![
            Ok(false),
            Err(get_change_failed(Failure::Throttled)),
            Ok(false),
        ]);
        let backoff = Duration::from_millis(200);
        let start = Instant::now();
        match wait_for_insync(&dns, start, None, backoff).await {
            Propagation::InSync { polls, waited } => {
                assert_eq!(polls, 4);
                // 2 s, 4 s, 8 s between the four polls.
                assert_eq!(waited, Duration::from_secs(14));
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_wait_ends_at_the_deadline_and_on_a_failure_for_good() {
        use crate::error::Failure;
        let backoff = Duration::from_millis(200);
        let start = Instant::now();
        let never = Scripted::new(vec![Ok(false); 100]);
        let deadline = Some(start + Duration::from_secs(20));
        match wait_for_insync(&never, start, deadline, backoff).await {
            Propagation::TimedOut { polls, waited } => {
                // Polls at 0, 2, 6, 14 s, and at the bound, 19 s.
                assert_eq!((polls, waited), (5, Duration::from_secs(19)));
                assert!(Propagation::TimedOut { polls, waited }
                    .note()
                    .contains("not yet INSYNC after 19 s"));
            }
            other => panic!("{other:?}"),
        }
        // A deadline already past: one poll, no pause.
        let past = Some(Instant::now());
        match wait_for_insync(&never, start, past, backoff).await {
            Propagation::TimedOut { polls, waited } => {
                assert_eq!((polls, waited), (1, Duration::ZERO))
            }
            other => panic!("{other:?}"),
        }
        let denied = Scripted::new(vec![Ok(false), Err(get_change_failed(Failure::Final))]);
        match wait_for_insync(&denied, start, None, backoff).await {
            Propagation::Unknown(e) => assert!(!e.is_retryable(), "{e}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn how_a_convergence_ended() {
        let retryable = Error::RegistryRace {
            instance_id: "i-1".into(),
        };
        let for_good = Error::BadEvent("x".into());
        assert_eq!(Ended::of(&Err(retryable)), Ended::FailedRetryably);
        assert_eq!(Ended::of(&Err(for_good.clone())), Ended::FailedForGood);
        let failed = Summary::failed(None, &for_good);
        assert_eq!(Ended::of(&Ok(failed)), Ended::FailedForGood);
    }
}
