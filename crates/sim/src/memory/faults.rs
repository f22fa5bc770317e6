//! Fault injection: what an injected failure looks like, how tests plan
//! one, and the bookkeeping every call of the in-memory account goes
//! through (counting it and its throttle, meeting its fault before or after
//! it commits, and failing every call after a crash).

use super::MemoryAccount;
use ec2_ddns_core::error::{Error, Failure, Result};
use std::collections::VecDeque;

/// A failure the next call of one operation meets, as AWS would answer it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// `Throttling: Rate exceeded`, before anything is done.
    Throttling,
    /// HTTP 500 `InternalFailure`; with `after_commit` the change is made
    /// first, as when Route 53 applies a batch and the answer is lost.
    InternalError { after_commit: bool },
    /// A refusal with this code and message (Route 53's change batches only).
    Refused(&'static str, &'static str),
    /// The invocation dies at this call: with `after_commit` the call's
    /// change is made first. This call and every later one fail, with no
    /// answer, until `revive`.
    Crash { after_commit: bool },
}

impl Fault {
    pub(crate) fn error(&self, operation: &str, zone_id: Option<&str>) -> Error {
        match self {
            Fault::Throttling => Error::Aws {
                operation: operation.into(),
                code: Some("Throttling".into()),
                message: "Rate exceeded".into(),
                kind: Failure::Throttled,
            },
            Fault::InternalError { .. } => Error::Aws {
                operation: operation.into(),
                code: Some("InternalFailure".into()),
                message: "The request processing has failed because of an unknown error (HTTP 500)"
                    .into(),
                kind: Failure::Transient,
            },
            Fault::Refused(code, message) => {
                Error::route53_refusal(zone_id.unwrap_or_default(), code, message)
            }
            Fault::Crash { .. } => crashed(operation),
        }
    }

    /// Whether the call's change is made before the fault strikes.
    pub(crate) fn after_commit(&self) -> bool {
        matches!(
            self,
            Fault::InternalError { after_commit: true } | Fault::Crash { after_commit: true }
        )
    }
}

/// What a call made by a dead invocation gets: no answer at all.
pub(crate) fn crashed(operation: &str) -> Error {
    Error::Aws {
        operation: operation.into(),
        code: None,
        message: "no answer: the invocation died here (injected crash)".into(),
        kind: Failure::NoAnswer,
    }
}

impl MemoryAccount {
    /// The call `n` calls from now (0: the next one, whatever its
    /// operation) meets `fault`.
    pub fn inject_at(&self, n: u64, fault: Fault) {
        let mut state = self.lock();
        let at = state.calls_made + n;
        state.planned.insert(at, fault);
    }

    /// A new invocation after a crash: calls work again, and faults
    /// planned for calls not yet made are dropped.
    pub fn revive(&self) {
        let mut state = self.lock();
        state.crashed = false;
        state.planned.clear();
        state.faults.clear();
    }

    /// Every call made so far, in order (`service:Operation`), a crashed
    /// invocation's refused calls left out: what order the engine called
    /// AWS in.
    pub fn journal(&self) -> Vec<String> {
        self.lock().journal.clone()
    }

    /// The next call of `operation` (`route53:ChangeResourceRecordSets`)
    /// meets `fault`; several queue up in order.
    pub fn inject(&self, operation: &str, fault: Fault) {
        self.lock()
            .faults
            .entry(operation.to_string())
            .or_default()
            .push_back(fault);
    }

    /// The next change batch sent to zone `zone_id` meets `fault`; several
    /// queue up in order, and they come before those of `inject`. Each
    /// zone's batch is sent at once with the others', so a fault meant for
    /// one zone is injected for that zone.
    pub fn inject_in_zone(&self, zone_id: &str, fault: Fault) {
        self.inject(
            &format!("route53:ChangeResourceRecordSets@{zone_id}"),
            fault,
        );
    }

    /// Counts a call and takes its injected fault: `Err` for one that strikes
    /// before the call does anything, `Ok(Some)` for one after it commits.
    pub(super) fn enter(&self, operation: &str, zone_id: Option<&str>) -> Result<Option<Fault>> {
        let mut state = self.lock();
        if state.crashed {
            return Err(crashed(operation));
        }
        self.calls.count(operation);
        state.journal.push(operation.to_string());
        let n = state.calls_made;
        state.calls_made += 1;
        let in_zone = zone_id.map(|z| format!("{operation}@{z}"));
        let fault = match state.planned.remove(&n) {
            Some(fault) => Some(fault),
            None => in_zone
                .and_then(|key| state.faults.get_mut(&key).and_then(VecDeque::pop_front))
                .or_else(|| {
                    state
                        .faults
                        .get_mut(operation)
                        .and_then(VecDeque::pop_front)
                }),
        };
        match fault {
            Some(fault) if fault.after_commit() => Ok(Some(fault)),
            Some(fault) => {
                match fault {
                    Fault::Crash { .. } => state.crashed = true,
                    // As the SDK's interceptor counts them on the real clients.
                    Fault::Throttling => self.calls.throttled(operation),
                    _ => {}
                }
                Err(fault.error(operation, zone_id))
            }
            None => Ok(None),
        }
    }

    /// A paginated read of `pages` pages (at least one call).
    pub(super) fn pages(&self, operation: &str, pages: usize) -> Result<()> {
        for _ in 0..pages.max(1) {
            self.read_call(operation, None)?;
        }
        Ok(())
    }

    /// A call that changes nothing: any fault it meets strikes.
    pub(super) fn read_call(&self, operation: &str, zone_id: Option<&str>) -> Result<()> {
        let after = self.enter(operation, zone_id)?;
        self.leave(operation, after)
    }

    /// Ends a call that committed: the injected after-commit fault, if any.
    pub(super) fn leave(&self, operation: &str, fault: Option<Fault>) -> Result<()> {
        match fault {
            Some(fault) => {
                if matches!(fault, Fault::Crash { .. }) {
                    self.lock().crashed = true;
                }
                Err(fault.error(operation, None))
            }
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::World;
    use ec2_ddns_core::model::RegistryItem;
    use ec2_ddns_core::ports::Registry;

    #[tokio::test]
    async fn injected_faults_strike_once_before_or_after_the_commit() {
        let account = MemoryAccount::new(World::empty("us-east-1"));
        let item = RegistryItem {
            key: "i-1".into(),
            version: 1,
            ..RegistryItem::default()
        };
        account.inject("dynamodb:PutItem", Fault::Throttling);
        account.inject(
            "dynamodb:PutItem",
            Fault::InternalError { after_commit: true },
        );
        let err = account.save(&item).await.unwrap_err();
        assert!(
            err.is_retryable() && err.to_string().contains("Throttling"),
            "{err}"
        );
        assert!(
            account.load(&"i-1".into()).await.unwrap().is_none(),
            "throttled: nothing saved"
        );
        let err = account.save(&item).await.unwrap_err();
        assert!(err.to_string().contains("InternalFailure"), "{err}");
        assert_eq!(
            account.load(&"i-1".into()).await.unwrap(),
            Some(item),
            "saved, then the answer was lost"
        );
        assert_eq!(account.calls.take()["dynamodb:PutItem"], 2);
        assert_eq!(
            account.calls.take_throttled(),
            [("dynamodb:PutItem".to_string(), 1)].into(),
            "the throttle is counted, the 500 is not"
        );
    }
}
