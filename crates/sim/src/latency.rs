//! A fixed delay in front of every AWS call, for measuring the critical
//! path: with tokio's clock paused, the simulated time an invocation takes,
//! divided by the delay, is the number of round trips it waited for one
//! after the other (calls made at once wait together). Figures, never a
//! timed assertion: `examples/critical_path.rs` prints them.

use crate::gate::{Gate, Gated, Pass};
use ec2_ddns_core::error::Result;
use std::time::Duration;

/// A delay before each call.
#[derive(Debug, Clone, Copy)]
pub struct Delay(pub Duration);

impl Gate for Delay {
    async fn before(&self, _operation: &'static str) -> Result<Pass> {
        tokio::time::sleep(self.0).await;
        Ok(Pass::Go)
    }
}

/// `inner` with a delay before each call.
pub type Delayed<T> = Gated<T, Delay>;

impl<T> Delayed<T> {
    pub fn new(inner: T, delay: Duration) -> Delayed<T> {
        Gated {
            inner,
            gate: Delay(delay),
        }
    }
}
