//! The Lambda function: configuration and SDK clients are built once, at
//! cold start, and lent to the handler in `ec2_ddns::lambda` for every
//! invocation.
// The handler's future nests deeply enough (generic ports, the apply
// loop) to pass the default query depth when its layout is computed.
#![recursion_limit = "256"]

use ec2_ddns_aws::{self as aws, ConnectOptions};
use ec2_ddns_core::ports::HooksAndTasks;
use ec2_ddns_core::Config;

fn main() -> Result<(), lambda_runtime::Error> {
    // JSON lines with Powertools' keys under AWS_LAMBDA_LOG_FORMAT=JSON,
    // plain text (never colour codes) otherwise; the filter is
    // AWS_LAMBDA_LOG_LEVEL, else RUST_LOG, else info.
    ec2_ddns_lambda::logs::init();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(async {
            let config = Config::from_env()?;
            // With DDNS_MEMBER_ACCOUNTS (the organization mode), the central
            // account's id too; member roles are assumed when first read.
            let account = aws::connect_for(&ConnectOptions::default(), &config).await?;
            // Auto Scaling's hooks and ECS's tasks, lent to every invocation.
            let ports = HooksAndTasks {
                hooks: account.hooks.clone(),
                tasks: account.tasks.clone(),
            };
            ec2_ddns_lambda::run(account.cached_registrar(config), ports).await
        })
}
