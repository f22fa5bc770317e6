//! A failure between the DNS change and the registry write must never leave
//! a record that no one owns: the write-ahead item claims it first.

mod common;

use ec2_ddns::adapters::memory::MemoryAccount;
use ec2_ddns::model::{InstanceState, RecordSet, ZoneInfo};
use ec2_ddns::plan::ZoneChanges;
use ec2_ddns::ports::{Dns, Registry};
use ec2_ddns::registrar::Registrar;
use ec2_ddns::summary::Outcome;
use ec2_ddns::{Config, Error, Result};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Route 53 that dies after `ok_batches` successful batches, as a Lambda
/// that times out mid-event would.
struct DyingDns {
    inner: MemoryAccount,
    ok_batches: usize,
    applied: AtomicUsize,
}

impl Dns for DyingDns {
    async fn zones_visible_from(
        &self,
        vpc_id: Option<&str>,
        region: &str,
    ) -> Result<Vec<ZoneInfo>> {
        self.inner.zones_visible_from(vpc_id, region).await
    }
    async fn records_at(&self, zone_id: &str, names: &BTreeSet<String>) -> Result<Vec<RecordSet>> {
        self.inner.records_at(zone_id, names).await
    }
    async fn apply(&self, changes: &ZoneChanges) -> Result<()> {
        if self.applied.fetch_add(1, Ordering::SeqCst) >= self.ok_batches {
            return Err(Error::Aws {
                operation: "route53:ChangeResourceRecordSets".into(),
                code: None,
                message: "the call timed out".into(),
                retryable: true,
            });
        }
        self.inner.apply(changes).await
    }
}

#[tokio::test]
async fn a_crash_mid_apply_leaves_every_written_record_owned() {
    for ok_batches in 0..3 {
        let (_, account) = common::memory_env("fixtures/worlds/split-horizon.json");
        let before = account.zone_records();
        let dying = Registrar::new(
            account.clone(),
            DyingDns {
                inner: account.clone(),
                ok_batches,
                applied: AtomicUsize::new(0),
            },
            account.clone(),
            Config::default(),
            "us-east-1",
        );
        let running =
            common::state_change("i-0web1", InstanceState::Running, "2026-11-21T10:00:00Z");
        let err = dying.handle(&running).await.unwrap_err();
        assert!(err.is_retryable(), "{err}");

        // Every record now in the zones that was not there before is owned.
        let owned = account
            .load("i-0web1")
            .await
            .unwrap()
            .expect("write-ahead item")
            .records;
        let mut new_records = 0;
        for (zone, records) in account.zone_records() {
            for r in records.iter().filter(|r| !before[&zone].contains(r)) {
                new_records += 1;
                assert!(
                    owned.iter().any(|o| o.zone_id == zone && o.record == *r),
                    "after {ok_batches} batches: {r} in {zone} is not owned"
                );
            }
        }
        assert!(
            new_records >= ok_batches,
            "after {ok_batches} batches only {new_records} records appeared"
        );

        // Lambda retries the event: it completes, then terminate cleans up all.
        let healthy = account.registrar(Config::default());
        let s = healthy.handle(&running).await.unwrap();
        assert_eq!(s.outcome, Outcome::Applied, "{s:?}");
        assert!(
            s.conflicts.is_empty(),
            "own half-written records are not foreign: {s:?}"
        );
        assert_eq!(
            account
                .load("i-0web1")
                .await
                .unwrap()
                .unwrap()
                .records
                .len(),
            5
        );
        let terminated =
            common::state_change("i-0web1", InstanceState::Terminated, "2026-11-21T12:00:00Z");
        healthy.handle(&terminated).await.unwrap();
        assert_eq!(
            account.zone_records(),
            before,
            "after {ok_batches} batches, terminate restores the zones"
        );
    }
}
