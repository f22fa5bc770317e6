//! Route 53's request rate, in memory: one token bucket for the whole
//! account (Route 53 allows an account a few requests per second, shared
//! by every caller), in front of any [`Dns`]. Rehearsals of bursts
//! (`examples/burst.rs`, `./scripts/bench`) run on it, so they meet the
//! limit the way a fleet does.
//!
//! A change call that finds the bucket empty fails with `Throttling`, as
//! Route 53 answers, and is not made: the registrar's own backoff decides
//! what happens next (the SDK never retries a change call by itself, see
//! `apply`). A read that finds it empty waits for a token instead, as the
//! SDK's adaptive retry mode does for reads (it slows the client down), and
//! is counted as having met the limit. Time is tokio's, so a rehearsal on a
//! paused clock measures simulated seconds.

use ec2_ddns_core::changes::ZoneChanges;
use ec2_ddns_core::error::{Error, Result};
use ec2_ddns_core::model::{DnsName, RecordSet, ZoneId, ZoneInfo};
use ec2_ddns_core::ports::Dns;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::time::Instant;

/// What the bucket saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LimiterCounts {
    /// Change calls that found a token (and went to Route 53).
    pub changes_admitted: usize,
    /// Change calls refused with `Throttling`.
    pub changes_throttled: usize,
    /// Reads that had to wait for a token.
    pub reads_delayed: usize,
}

#[derive(Debug)]
struct Bucket {
    capacity: f64,
    tokens: f64,
    per_second: f64,
    last: Instant,
    counts: LimiterCounts,
}

impl Bucket {
    /// Refills for the time passed; `Ok` takes a token, `Err` says how long
    /// until there is one.
    fn take(&mut self, now: Instant) -> std::result::Result<(), Duration> {
        let passed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + passed * self.per_second).min(self.capacity);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            // At least a millisecond: a wait that rounds to nothing would
            // spin on a paused clock.
            Err(
                Duration::from_secs_f64((1.0 - self.tokens) / self.per_second)
                    .max(Duration::from_millis(1)),
            )
        }
    }
}

/// A [`Dns`] behind one account-wide token bucket; clones share it.
#[derive(Debug, Clone)]
pub struct RateLimited<D> {
    pub inner: D,
    bucket: Arc<Mutex<Bucket>>,
}

impl<D> RateLimited<D> {
    /// `burst` tokens at most, `per_second` added each second; full at first.
    pub fn new(inner: D, burst: u32, per_second: f64) -> RateLimited<D> {
        let burst = f64::from(burst.max(1));
        RateLimited {
            inner,
            bucket: Arc::new(Mutex::new(Bucket {
                capacity: burst,
                tokens: burst,
                per_second: per_second.max(0.001),
                last: Instant::now(),
                counts: LimiterCounts::default(),
            })),
        }
    }

    /// The same bucket in front of another port (each Lambda execution
    /// environment has its own clients; the account's limit is one).
    pub fn sharing<T>(&self, inner: T) -> RateLimited<T> {
        RateLimited {
            inner,
            bucket: Arc::clone(&self.bucket),
        }
    }

    pub fn counts(&self) -> LimiterCounts {
        self.lock().counts
    }

    fn lock(&self) -> MutexGuard<'_, Bucket> {
        self.bucket.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until a read may go.
    async fn read_token(&self) {
        let mut delayed = false;
        loop {
            let wait = {
                let mut bucket = self.lock();
                match bucket.take(Instant::now()) {
                    Ok(()) => {
                        if delayed {
                            bucket.counts.reads_delayed += 1;
                        }
                        return;
                    }
                    Err(wait) => wait,
                }
            };
            delayed = true;
            tokio::time::sleep(wait).await;
        }
    }
}

impl<D: Dns + Sync> Dns for RateLimited<D> {
    async fn zones_visible_from(
        &self,
        vpc_id: Option<&str>,
        region: &str,
    ) -> Result<Vec<ZoneInfo>> {
        self.read_token().await;
        self.inner.zones_visible_from(vpc_id, region).await
    }

    async fn records_at(
        &self,
        zone_id: &ZoneId,
        names: &BTreeSet<DnsName>,
    ) -> Result<Vec<RecordSet>> {
        self.read_token().await;
        self.inner.records_at(zone_id, names).await
    }

    async fn records_in(&self, zone_id: &ZoneId) -> Result<Vec<RecordSet>> {
        self.read_token().await;
        self.inner.records_in(zone_id).await
    }

    async fn apply(&self, changes: &ZoneChanges) -> Result<()> {
        let admitted = {
            let mut bucket = self.lock();
            let admitted = bucket.take(Instant::now()).is_ok();
            if admitted {
                bucket.counts.changes_admitted += 1;
            } else {
                bucket.counts.changes_throttled += 1;
            }
            admitted
        };
        if !admitted {
            return Err(Error::Aws {
                operation: "route53:ChangeResourceRecordSets".into(),
                code: Some("Throttling".into()),
                message: "Rate exceeded".into(),
                kind: ec2_ddns_core::error::Failure::Throttled,
            });
        }
        self.inner.apply(changes).await
    }

    /// GetChange is a read: it waits for its token.
    async fn applied_in_sync(&self, since: Instant) -> Result<bool> {
        self.read_token().await;
        self.inner.applied_in_sync(since).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemoryAccount;

    fn empty_batch() -> ZoneChanges {
        ZoneChanges {
            zone_id: "Z0CORPPRIVATE".into(),
            zone_name: "corp.example.".into(),
            changes: Vec::new(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_passes_then_changes_are_throttled_until_the_bucket_refills() {
        let dns = RateLimited::new(MemoryAccount::fixture("split-horizon"), 3, 2.0);
        for _ in 0..3 {
            // An empty batch: the limiter admits it, the account refuses it.
            let _ = dns.apply(&empty_batch()).await;
        }
        let throttled = dns.apply(&empty_batch()).await.unwrap_err();
        assert!(throttled.to_string().contains("Throttling"), "{throttled}");
        tokio::time::advance(Duration::from_millis(500)).await;
        let _ = dns.apply(&empty_batch()).await;
        assert_eq!(
            dns.counts(),
            LimiterCounts {
                changes_admitted: 4,
                changes_throttled: 1,
                reads_delayed: 0
            }
        );
        // A read waits for its token (simulated time passes) instead.
        let before = Instant::now();
        dns.records_in(&"Z0CORPPRIVATE".into()).await.unwrap();
        assert!(Instant::now() - before >= Duration::from_millis(499));
        assert_eq!(dns.counts().reads_delayed, 1);
    }
}
