//! ec2-ddns's command line (`cli`), and one place to reach every layer.
//!
//! The layers are the workspace's crates (ARCHITECTURE.md): `ec2-ddns-core`
//! (model, names, plan, ports, the engine), `ec2-ddns-aws` (the SDK
//! adapters), `ec2-ddns-sim` (rehearsal) and `ec2-ddns-lambda` (the
//! function). The command line uses them all; their modules are re-exported
//! here under the paths the integration tests and examples use
//! (`ec2_ddns::model`, `ec2_ddns::sim::memory`, `ec2_ddns::adapters::aws`).

pub use ec2_ddns_core::*;
pub use ec2_ddns_sim as sim;

/// The ports' implementations that talk to AWS, and the cache in front of them.
pub mod adapters {
    pub use ec2_ddns_aws as aws;
    pub use ec2_ddns_core::cache;
}

pub mod cli;
