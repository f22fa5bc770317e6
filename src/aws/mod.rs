//! The real backends: thin adapters from the `backend` traits to the AWS SDK.
//! Clients are built once (`connect`) and reused for every event.

pub mod dynamodb;
pub mod ec2;
pub mod route53;
pub mod snapshot;

use crate::error::Error;
use crate::fake::CallLog;
use aws_sdk_ec2::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

/// Error codes that mean "slow down", whatever the service.
const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "TooManyRequestsException",
    "PriorRequestNotComplete",
    "ProvisionedThroughputExceededException",
    "RequestThrottledException",
    "SlowDown",
];

/// Converts an SDK error into ours, deciding whether a retry may help:
/// time-outs, network failures, throttling and 5xx are retryable.
pub(crate) fn aws_error<E>(operation: &str, err: SdkError<E>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let status = err.raw_response().map(|r| r.status().as_u16());
    let code = err.code().map(str::to_string);
    let retryable = match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(_) => {
            code.as_deref().is_some_and(|c| THROTTLING.contains(&c))
                || status.is_some_and(|s| s >= 500)
        }
        _ => false,
    };
    Error::Aws {
        operation: operation.to_string(),
        message: DisplayErrorContext(&err).to_string(),
        retryable,
    }
}

/// The code of a service error, e.g. `InvalidInstanceID.NotFound`.
pub(crate) fn error_code<E: ProvideErrorMetadata>(err: &SdkError<E>) -> Option<&str> {
    err.code()
}

/// The three real backends plus the region they were built for.
pub struct AwsBackends {
    pub ec2: ec2::Ec2Backend,
    pub dns: route53::Route53Backend,
    pub registry: dynamodb::DynamoRegistry,
    pub region: String,
}

impl AwsBackends {
    /// The registrar over these clients, for the region they were built for.
    pub fn into_registrar(
        self,
        config: crate::Config,
        dry_run: bool,
    ) -> crate::registrar::Registrar<
        ec2::Ec2Backend,
        route53::Route53Backend,
        dynamodb::DynamoRegistry,
    > {
        crate::registrar::Registrar {
            ec2: self.ec2,
            dns: self.dns,
            registry: self.registry,
            config,
            region: self.region,
            dry_run,
        }
    }
}

/// Where to connect: the standard AWS chain (environment, profile, IMDS),
/// optionally overridden.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// An emulator such as moto (`http://127.0.0.1:5000`); `AWS_ENDPOINT_URL`
    /// is honoured without it.
    pub endpoint_url: Option<String>,
    pub region: Option<String>,
}

/// Builds the SDK clients once.
pub async fn connect(options: &ConnectOptions, table: &str, calls: CallLog) -> AwsBackends {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(url) = &options.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if let Some(region) = &options.region {
        loader = loader.region(aws_config::Region::new(region.clone()));
    }
    let shared = loader.load().await;
    let region = shared
        .region()
        .map(|r| r.to_string())
        .unwrap_or_else(|| "us-east-1".to_string());
    AwsBackends {
        ec2: ec2::Ec2Backend {
            client: aws_sdk_ec2::Client::new(&shared),
            calls: calls.clone(),
        },
        dns: route53::Route53Backend {
            client: aws_sdk_route53::Client::new(&shared),
            calls: calls.clone(),
        },
        registry: dynamodb::DynamoRegistry {
            client: aws_sdk_dynamodb::Client::new(&shared),
            table: table.to_string(),
            calls,
        },
        region,
    }
}
