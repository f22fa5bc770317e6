//! Rehearsal: world files (an account in memory), scenarios (a day in the
//! life of a fleet, played on a world) and snapshots (a world read from a
//! live account).

pub mod fault_plan;
pub mod fleet;
pub mod gate;
pub mod latency;
pub mod limiter;
pub mod memory;
pub mod scenario;
pub mod schedule;
pub mod snapshot;
pub mod world;
