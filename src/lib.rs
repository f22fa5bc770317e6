//! ec2-ddns: dynamic DNS for Amazon Route 53, driven by EC2 state changes.
//!
//! The flow is one way: `event` → `facts` → `plan` → apply → registry.
//! Decisions live in pure modules (`names`, `plan`); AWS I/O sits behind the
//! small traits of `backend`, implemented for real in `aws` and in memory in
//! `fake`.

pub mod backend;
pub mod config;
pub mod error;
pub mod event;
pub mod facts;
pub mod names;
pub mod plan;

pub use config::Config;
pub use error::{Error, Result};
pub mod aws;
pub mod fake;
pub mod registrar;
pub mod report;
pub mod scenario;
pub mod summary;
pub mod world;
