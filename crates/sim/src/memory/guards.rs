//! The DDNS endpoint's guards in memory: a nonce's first use and a host's
//! counters.

use super::registry::Stored;
use super::MemoryAccount;
use ec2_ddns_core::error::Result;
use ec2_ddns_core::model::Counters;
use ec2_ddns_core::ports::Guards;

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

    /// One UpdateItem, as the real table's increment: a failure added to
    /// the window still open, else a new window with it.
    async fn count_failure(&self, host_key: &str, now: i64, window_seconds: i64) -> Result<()> {
        let operation = "dynamodb:UpdateItem";
        let after = self.enter(operation, None)?;
        if let Some(Stored::Ours(item)) = self.lock().registry.get_mut(host_key) {
            if let Some(host) = item.host.as_mut() {
                // The version moves, as the real table's: a save that read
                // the item before must not write the old count back.
                item.version += 1;
                let c = &mut host.counters;
                if c.window_start > now - window_seconds {
                    c.failures += 1;
                } else {
                    *c = Counters {
                        window_start: now,
                        failures: 1,
                        changes: 0,
                    };
                }
            }
        }
        self.leave(operation, after)
    }
}
