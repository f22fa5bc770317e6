//! ec2-ddns: dynamic DNS for Amazon Route 53, driven by EC2 state changes.
//!
//! The flow is one way: `event` → facts (through `ports`) → `plan` → apply
//! → registry, wired together in `registrar`. Decisions live in pure
//! modules (`names`, `plan`); AWS sits behind the small traits of `ports`,
//! implemented by `adapters::aws` and by the in-memory account of
//! `sim::memory`. `sim` holds world files, scenarios and snapshots;
//! `lambda` the function's handler; `cli` the command line.

pub mod adapters;
pub mod apply;
pub mod buffered;
pub mod calls;
pub mod changes;
pub mod cli;
pub mod config;
pub mod ddns;
pub mod error;
pub mod event;
pub mod lambda;
pub mod model;
pub mod names;
pub mod plan;
pub mod ports;
pub mod registrar;
pub mod sim;
pub mod summary;

pub use config::Config;
pub use error::{Error, Result};
