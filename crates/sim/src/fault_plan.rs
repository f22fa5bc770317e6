//! One invocation's faults, in front of its own ports: the n-th call it
//! makes (counted from its first) meets a fault, and after a crash every
//! later call of that invocation fails, while other invocations on the
//! same account go on. The account's own injection
//! ([`MemoryAccount::inject_at`](crate::memory::MemoryAccount::inject_at))
//! counts every call of the account and crashes the whole account: right
//! for one invocation at a time, wrong for several at once.

use crate::gate::{Gate, Gated, Pass};
use crate::memory::faults::crashed;
use crate::memory::Fault;
use ec2_ddns_core::error::Result;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// The faults planned for one invocation's calls; clones share the count.
#[derive(Debug, Clone, Default)]
pub struct FaultPlan {
    state: Arc<Mutex<PlanState>>,
}

#[derive(Debug, Default)]
struct PlanState {
    calls: u64,
    planned: BTreeMap<u64, Fault>,
    /// Faults for the next call of an operation, whatever its number.
    by_operation: BTreeMap<&'static str, Fault>,
    crashed: bool,
}

/// Ports that meet one invocation's planned faults.
pub type Faulty<T> = Gated<T, FaultPlan>;

impl FaultPlan {
    /// No fault.
    pub fn none() -> FaultPlan {
        FaultPlan::default()
    }

    /// The invocation's call `n` (0: its first) meets `fault`.
    pub fn at(n: u64, fault: Fault) -> FaultPlan {
        let plan = FaultPlan::default();
        plan.lock().planned.insert(n, fault);
        plan
    }

    /// The invocation's first call of `operation`
    /// (`route53:ChangeResourceRecordSets`) meets `fault`.
    pub fn on(operation: &'static str, fault: Fault) -> FaultPlan {
        let plan = FaultPlan::default();
        plan.lock().by_operation.insert(operation, fault);
        plan
    }

    /// `inner` as this invocation's ports.
    pub fn ports<T>(&self, inner: T) -> Faulty<T> {
        Gated {
            inner,
            gate: self.clone(),
        }
    }

    /// Calls made so far, up to and including the one that crashed.
    pub fn calls(&self) -> u64 {
        self.lock().calls
    }

    /// Whether the invocation died at one of its calls.
    pub fn crashed(&self) -> bool {
        self.lock().crashed
    }

    fn lock(&self) -> MutexGuard<'_, PlanState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Gate for FaultPlan {
    async fn before(&self, operation: &'static str) -> Result<Pass> {
        let mut state = self.lock();
        if state.crashed {
            return Err(crashed(operation));
        }
        let n = state.calls;
        state.calls += 1;
        let planned = state.planned.remove(&n);
        let Some(fault) = planned.or_else(|| state.by_operation.remove(operation)) else {
            return Ok(Pass::Go);
        };
        if matches!(fault, Fault::Crash { .. }) {
            state.crashed = true;
        }
        let err = fault.error(operation, None);
        if fault.after_commit() {
            Ok(Pass::ThenFail(err))
        } else {
            Err(err)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemoryAccount;
    use crate::world::World;
    use ec2_ddns_core::model::RegistryItem;
    use ec2_ddns_core::ports::Registry;

    fn item(key: &str) -> RegistryItem {
        RegistryItem {
            key: key.into(),
            version: 1,
            ..RegistryItem::default()
        }
    }

    #[tokio::test]
    async fn a_crash_after_the_commit_ends_one_invocation_and_not_the_other() {
        let account = MemoryAccount::new(World::empty("us-east-1"));
        let dying = FaultPlan::at(1, Fault::Crash { after_commit: true }).ports(account.clone());
        let living = FaultPlan::none().ports(account.clone());
        dying
            .save(&item("i-1"))
            .await
            .expect("call 0 meets nothing");
        let err = dying.save(&item("i-2")).await.unwrap_err();
        assert!(err.to_string().contains("invocation died"), "{err}");
        assert!(
            account.load(&"i-2".into()).await.unwrap().is_some(),
            "the crashing call committed"
        );
        let err = dying.load(&"i-1".into()).await.unwrap_err();
        assert!(err.to_string().contains("invocation died"), "{err}");
        assert!(dying.gate.crashed() && dying.gate.calls() == 2);
        living.save(&item("i-3")).await.expect("the other goes on");
        assert!(living.load(&"i-1".into()).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn a_fault_before_the_commit_changes_nothing_and_strikes_once() {
        let account = MemoryAccount::new(World::empty("us-east-1"));
        let ports = FaultPlan::at(
            0,
            Fault::InternalError {
                after_commit: false,
            },
        )
        .ports(account.clone());
        let err = ports.save(&item("i-1")).await.unwrap_err();
        assert!(
            err.is_retryable() && err.to_string().contains("InternalFailure"),
            "{err}"
        );
        assert!(account.load(&"i-1".into()).await.unwrap().is_none());
        ports
            .save(&item("i-1"))
            .await
            .expect("the retry goes through");
        let throttled = FaultPlan::at(0, Fault::Throttling).ports(account.clone());
        let err = throttled.load(&"i-1".into()).await.unwrap_err();
        assert!(err.to_string().contains("Throttling"), "{err}");
    }
}
