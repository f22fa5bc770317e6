//! The DDNS endpoint's guards in memory: a nonce's first use and the
//! failure counters per source address.

use super::MemoryAccount;
use ec2_ddns_core::error::Result;
use ec2_ddns_core::ports::{failure_keys, Failures, Guards};
use std::net::IpAddr;

impl Guards for MemoryAccount {
    async fn first_use(&self, host: &str, nonce: &str, now: i64, expires_at: i64) -> Result<bool> {
        let operation = "dynamodb:PutItem";
        let after = self.enter(operation, None)?;
        let fresh = {
            let mut state = self.lock();
            let key = format!("{host}#{nonce}");
            let fresh = state.nonces.get(&key).is_none_or(|e| *e < now);
            if fresh {
                state.nonces.insert(key, expires_at);
            }
            fresh
        };
        self.leave(operation, after)?;
        Ok(fresh)
    }

    /// Two UpdateItems, as the real table's increments (`ADD` to the
    /// counters of the window).
    async fn count_failure(
        &self,
        host: &str,
        source: IpAddr,
        now: i64,
        window_seconds: i64,
    ) -> Result<()> {
        let (keys, expires_at) = failure_keys(host, source, now, window_seconds);
        for key in keys {
            let operation = "dynamodb:UpdateItem";
            let after = self.enter(operation, None)?;
            {
                let mut state = self.lock();
                state.guards.retain(|_, (_, expires)| *expires > now);
                let counter = state.guards.entry(key.stored()).or_insert((0, expires_at));
                counter.0 += 1;
            }
            self.leave(operation, after)?;
        }
        Ok(())
    }

    /// Two GetItems: the counters of the window that holds `now`.
    async fn failures(
        &self,
        host: &str,
        source: IpAddr,
        now: i64,
        window_seconds: i64,
    ) -> Result<Failures> {
        let (keys, _) = failure_keys(host, source, now, window_seconds);
        let mut counts = [0u32; 2];
        for (count, key) in counts.iter_mut().zip(keys) {
            self.read_call("dynamodb:GetItem", None)?;
            let state = self.lock();
            *count = state
                .guards
                .get(&key.stored())
                .filter(|(_, expires)| *expires > now)
                .map_or(0, |(n, _)| *n);
        }
        Ok(Failures {
            from_source: counts[0],
            host_from_source: counts[1],
        })
    }
}
