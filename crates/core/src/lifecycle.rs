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

use crate::config::HookOnConflict;
use crate::error::{Error, Result};
use crate::event::{InstanceEvent, LifecycleAction, Transition};
use crate::ports::{Dns, Instances, LifecycleHooks, Registry};
use crate::registrar::Registrar;
use crate::summary::{Outcome, Summary};
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
    /// hook's note added to a summary).
    pub converged: Result<Summary>,
    pub hook: HookOutcome,
}

/// Converges the instance of a lifecycle action's `event`, then completes
/// the action as [`decide`] says. Only a failure a retry may fix (the
/// convergence's, or the completion's) leaves it waiting.
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
    let converged = registrar.handle(event).await;
    let ended = Ended::of(&converged);
    let hook = match decide(action.transition, ended, registrar.config.hook_on_conflict) {
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
    let converged = converged.map(|s| s.note(hook.note(action)));
    Hooked { converged, hook }
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
