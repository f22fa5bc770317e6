//! When to try a change again that Route 53 did not apply. A throttle is
//! Route 53 asking the account to slow down (its change rate is shared by
//! everything in the account), so when the invocation's deadline is known
//! a throttled change waits and tries again for as long as time is left,
//! each wait longer (up to 5 s) and jittered so that many invocations
//! throttled together do not come back together; the rounds a plan gets
//! are left for refusals. Without a deadline (the CLI, tests) and for
//! other retryable failures, a few rounds with doubling waits.
//!
//! The deadline is the invocation's, carried by a task-local value that
//! `within` sets, so every convergence under one invocation sees it.

use super::ROUNDS;
use crate::error::Error;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::time::Duration;
use tokio::time::Instant;

tokio::task_local! {
    static DEADLINE: Instant;
}

/// The longest wait between two tries of a throttled change.
const MAX_THROTTLE_WAIT: Duration = Duration::from_secs(5);

/// Tries of one change at most, whatever the time left.
const MAX_TRIES: u32 = 40;

/// Runs `work` with `deadline` as the time by which changes must be sent.
pub async fn within<F: Future>(deadline: Option<Instant>, work: F) -> F::Output {
    match deadline {
        Some(deadline) => DEADLINE.scope(deadline, work).await,
        None => work.await,
    }
}

/// The deadline `within` set, if any.
pub fn deadline() -> Option<Instant> {
    DEADLINE.try_with(|d| *d).ok()
}

/// When to try a failed change again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NextTry {
    pub wait: Duration,
    /// This try costs no planning round (a throttle, with time left).
    pub free: bool,
}

/// The wait before try `tries + 1` of a change that failed with `err`
/// (`key` spreads the jitter: an instance or a zone), or `None` to stop
/// trying.
pub fn next_try(err: &Error, tries: u32, base: Duration, key: &str) -> Option<NextTry> {
    if !err.is_retryable() || tries + 1 >= MAX_TRIES {
        return None;
    }
    let doubled = base.saturating_mul(2u32.saturating_pow(tries.min(16)));
    match deadline() {
        Some(deadline) if err.is_throttle() => {
            let wait = doubled.min(MAX_THROTTLE_WAIT).mul_f64(jitter(key, tries));
            (Instant::now() + wait < deadline).then_some(NextTry { wait, free: true })
        }
        _ if tries + 1 < ROUNDS => Some(NextTry {
            wait: doubled.mul_f64(jitter(key, tries)),
            free: false,
        }),
        _ => None,
    }
}

/// A factor in [0.5, 1.5), the same for the same key and try: runs are
/// reproducible, and invocations of different instances spread out.
fn jitter(key: &str, tries: u32) -> f64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (key, tries).hash(&mut hasher);
    0.5 + (hasher.finish() % 1000) as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttled() -> Error {
        Error::Aws {
            operation: "route53:ChangeResourceRecordSets".into(),
            code: Some("Throttling".into()),
            message: "Rate exceeded".into(),
            kind: crate::error::Failure::Throttled,
        }
    }

    fn failed_500() -> Error {
        Error::Aws {
            operation: "route53:ChangeResourceRecordSets".into(),
            code: Some("InternalFailure".into()),
            message: "HTTP 500".into(),
            kind: crate::error::Failure::Transient,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn throttles_wait_while_time_is_left_other_failures_get_the_rounds() {
        let base = Duration::from_millis(200);
        // No deadline: rounds only.
        assert!(next_try(&throttled(), 0, base, "i-1").is_some());
        assert_eq!(next_try(&throttled(), ROUNDS - 1, base, "i-1"), None);
        let deadline = Instant::now() + Duration::from_secs(30);
        within(Some(deadline), async {
            // A throttle with time left costs no round, waits at most 7.5 s.
            let NextTry { wait, free } = next_try(&throttled(), 10, base, "i-1").unwrap();
            assert!(free && wait < Duration::from_millis(7500), "{wait:?}");
            // A 500 gets the rounds, deadline or not.
            assert_eq!(next_try(&failed_500(), ROUNDS - 1, base, "i-1"), None);
            // Not past the deadline.
            tokio::time::advance(Duration::from_secs(29)).await;
            assert_eq!(next_try(&throttled(), 10, base, "i-1"), None);
        })
        .await;
        // Never a refusal.
        let refused = Error::BatchRefused {
            zone_id: "Z".into(),
            code: "InvalidInput".into(),
            message: "no".into(),
        };
        assert_eq!(next_try(&refused, 0, base, "i-1"), None);
        // Jitter spreads keys.
        let spread: std::collections::BTreeSet<u64> = (0..20)
            .map(|k| (jitter(&format!("i-{k}"), 0) * 1000.0) as u64)
            .collect();
        assert!(spread.len() > 10);
    }
}
