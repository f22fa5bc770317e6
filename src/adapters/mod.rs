//! Implementations of the ports for the real account: the AWS clients, and
//! the warm process's cache in front of them. The account in memory with
//! AWS's rules is the rehearsal's (`sim::memory`).

pub mod aws;
pub mod cache;
