//! The Lambda function. Configuration and SDK clients are built once at
//! start; each invocation handles one EventBridge event.

use ec2_ddns::aws::{self, ConnectOptions};
use ec2_ddns::fake::CallLog;
use ec2_ddns::registrar::{error_summary, Registrar};
use ec2_ddns::{event, Config};
use lambda_runtime::{service_fn, Error as LambdaError, LambdaEvent};
use serde_json::Value;

type AwsRegistrar =
    Registrar<aws::ec2::Ec2Backend, aws::route53::Route53Backend, aws::dynamodb::DynamoRegistry>;

/// Handles one invocation. Non-retryable failures (a malformed or foreign
/// event, a bad registry item) return a summary with outcome `error`, so
/// Lambda does not retry what cannot succeed; retryable ones fail the
/// invocation.
async fn handle(registrar: &AwsRegistrar, event: LambdaEvent<Value>) -> Result<Value, LambdaError> {
    let change = match event::parse(event.payload) {
        Ok(change) => change,
        Err(e) => {
            tracing::error!(error = %e, "event rejected");
            return Ok(serde_json::to_value(error_summary(None, &e))?);
        }
    };
    match registrar.handle(&change).await {
        Ok(summary) => Ok(serde_json::to_value(summary)?),
        Err(e) if e.is_retryable() => {
            tracing::warn!(error = %e, instance = %change.instance_id, "retryable failure");
            Err(Box::new(e))
        }
        Err(e) => {
            tracing::error!(error = %e, instance = %change.instance_id, "event failed");
            Ok(serde_json::to_value(error_summary(Some(&change), &e))?)
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), LambdaError> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_ansi(false)
        .without_time()
        .init();
    let config = Config::from_env()?;
    let backends = aws::connect(
        &ConnectOptions::default(),
        &config.table,
        CallLog::default(),
    )
    .await;
    let registrar = &backends.into_registrar(config, false);
    lambda_runtime::run(service_fn(move |event| handle(registrar, event))).await
}
