//! Implementations of the ports: the real AWS clients, and an account in
//! memory with AWS's rules (world files, scenarios and tests run on it).

pub mod aws;
pub mod cache;
pub mod memory;
