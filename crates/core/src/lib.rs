//! ec2-ddns's core: everything that decides, and the one engine that
//! carries the decisions out, with AWS behind small traits.
//!
//! The flow is one way: `event` → facts (through `ports`) → `plan` →
//! `apply` → registry, wired together in `registrar`. Decisions live in
//! pure modules (`names`, `plan`, `ddns::decide`); AWS sits behind the
//! traits of `ports`, implemented by the `ec2-ddns-aws` crate and by the
//! in-memory account of `ec2-ddns-sim`. This crate depends on neither, nor
//! on the command line: the compiler keeps the layers (ARCHITECTURE.md).

pub mod apply;
pub mod cache;
pub mod calls;
pub mod changes;
pub mod config;
pub mod ddns;
pub mod error;
pub mod event;
pub mod ids;
pub mod lifecycle;
pub mod model;
pub mod names;
pub mod plan;
pub mod ports;
pub mod registrar;
pub mod status;
pub mod summary;

pub use config::Config;
pub use error::{Error, Result};
