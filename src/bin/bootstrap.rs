//! The Lambda function: configuration and SDK clients are built once, at
//! cold start, and lent to the handler in `ec2_ddns::lambda` for every
//! invocation.

use ec2_ddns::adapters::aws::{self, ConnectOptions};
use ec2_ddns::Config;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    // Honours AWS_LAMBDA_LOG_FORMAT=JSON and AWS_LAMBDA_LOG_LEVEL (else RUST_LOG, else info).
    lambda_runtime::tracing::init_default_subscriber();
    let config = Config::from_env()?;
    let account = aws::connect(&ConnectOptions::default(), &config.table).await;
    ec2_ddns::lambda::run(account.registrar(config)).await
}
