//! How many AWS calls an event cost, per operation (`route53:ListHostedZones`).
//! The real clients count through one SDK interceptor
//! (`adapters::aws::CallCounter`); the in-memory account counts each
//! operation it stands in for. `--stats` and the tests read the same log.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Calls per operation, shared by every client of one account.
#[derive(Debug, Clone, Default)]
pub struct CallLog(Arc<Mutex<BTreeMap<String, usize>>>);

impl CallLog {
    pub fn count(&self, operation: &str) {
        *self.lock().entry(operation.to_string()).or_default() += 1;
    }

    /// Calls per operation since the last `take`, and resets.
    pub fn take(&self) -> BTreeMap<String, usize> {
        std::mem::take(&mut *self.lock())
    }

    /// A poisoned lock only means another thread panicked while counting;
    /// the counts are still good for a report.
    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, usize>> {
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
