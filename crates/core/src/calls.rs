//! How many AWS calls an event cost, per operation (`route53:ListHostedZones`),
//! and how many of them were throttled. The real clients count through one
//! SDK interceptor (`ec2_ddns_aws::CallCounter`), which sees every attempt,
//! the SDK's own retries included; the in-memory account counts each
//! operation it stands in for and each throttle it answers. `--stats`, the
//! function's metrics and the tests read the same log.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Calls per operation, shared by every client of one account.
#[derive(Debug, Clone, Default)]
pub struct CallLog(Arc<Mutex<Counts>>);

#[derive(Debug, Default)]
struct Counts {
    calls: BTreeMap<String, usize>,
    throttled: BTreeMap<String, usize>,
}

impl CallLog {
    pub fn count(&self, operation: &str) {
        *self.lock().calls.entry(operation.to_string()).or_default() += 1;
    }

    /// A call of `operation` (counted already by [`CallLog::count`]) that
    /// the service throttled: a throttle later retried away still says the
    /// account is near its rate.
    pub fn throttled(&self, operation: &str) {
        *self
            .lock()
            .throttled
            .entry(operation.to_string())
            .or_default() += 1;
    }

    /// Calls per operation since the last `take`, and resets.
    pub fn take(&self) -> BTreeMap<String, usize> {
        std::mem::take(&mut self.lock().calls)
    }

    /// Throttled calls per operation since the last `take_throttled`, and
    /// resets. Apart from [`CallLog::take`], which a reconcile uses to
    /// report its own calls: the throttles stay for the invocation's count.
    pub fn take_throttled(&self) -> BTreeMap<String, usize> {
        std::mem::take(&mut self.lock().throttled)
    }

    /// A poisoned lock only means another thread panicked while counting;
    /// the counts are still good for a report.
    fn lock(&self) -> MutexGuard<'_, Counts> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// `12 {"ec2:DescribeInstances":1,…}`: the total and the counts, one line.
pub fn stats_line(counts: &BTreeMap<String, usize>) -> String {
    let total: usize = counts.values().sum();
    format!(
        "{total} {}",
        serde_json::to_string(counts).unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_and_throttles_are_taken_apart() {
        let log = CallLog::default();
        log.count("route53:ChangeResourceRecordSets");
        log.throttled("route53:ChangeResourceRecordSets");
        log.count("route53:ChangeResourceRecordSets");
        assert_eq!(log.take()["route53:ChangeResourceRecordSets"], 2);
        assert!(log.take().is_empty());
        assert_eq!(
            log.take_throttled(),
            [("route53:ChangeResourceRecordSets".to_string(), 1)].into()
        );
        assert!(log.take_throttled().is_empty());
    }
}
