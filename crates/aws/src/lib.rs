//! The real ports: thin adapters from the domain operations of `ports` to
//! the AWS SDK. Clients are built once (`connect`) and reused for every
//! event; each carries one interceptor that counts its calls.

pub mod dynamodb;
pub mod ec2;
pub mod route53;

use aws_runtime::retries::classifiers::{THROTTLING_ERRORS, TRANSIENT_ERRORS};
use aws_sdk_ec2::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_ec2::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_ec2::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use ec2_ddns_core::cache::Cached;
use ec2_ddns_core::calls::CallLog;
use ec2_ddns_core::error::{Error, Failure};
use ec2_ddns_core::registrar::Registrar;
use ec2_ddns_core::Config;

/// Counts every attempt of every call a client makes, as
/// `service:Operation` (`route53:ChangeResourceRecordSets`): the one place
/// AWS calls are counted, registered once per client in [`connect`]. A retry
/// by the SDK is a call too: it costs time and quota like the first.
#[derive(Debug, Clone)]
pub struct CallCounter(pub CallLog);

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "CallCounter"
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(meta) = cfg.load::<Metadata>() {
            // The SDK names services as people write them ("Route 53").
            let service: String = meta
                .service()
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect::<String>()
                .to_ascii_lowercase();
            self.0.count(&format!("{service}:{}", meta.name()));
        }
        Ok(())
    }
}

/// An SDK error as one line of ours: the operation, the service's error
/// code and message. Retryable, as the SDK's own retry classifiers decide
/// (`aws_runtime::retries::classifiers::THROTTLING_ERRORS` and
/// `TRANSIENT_ERRORS`, used by the SDK's `AwsErrorCodeClassifier`), plus
/// any 5xx answer, time-out, network failure or unreadable response. The
/// SDK's full account of the error (its debug form, some 600 characters) is
/// logged at debug level.
pub fn aws_error<E>(operation: &str, err: SdkError<E>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    tracing::debug!(operation, error = %DisplayErrorContext(&err), "AWS call failed");
    let (code, message, kind) = match &err {
        SdkError::ServiceError(service) => {
            let code = service.err().code().map(str::to_string);
            let kind = classify(code.as_deref(), service.raw().status().is_server_error());
            let message = service
                .err()
                .message()
                .map(str::to_string)
                .unwrap_or_else(|| "no message".into());
            (code, message, kind)
        }
        SdkError::TimeoutError(_) => (None, "the call timed out".into(), Failure::NoAnswer),
        SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            (None, error_chain(&err), Failure::NoAnswer)
        }
        _ => (None, error_chain(&err), Failure::Final),
    };
    Error::Aws {
        operation: operation.to_string(),
        code,
        message,
        kind,
    }
}

/// The kind of a service's answer, by the SDK's own lists of throttling
/// and transient codes (`aws_runtime::retries::classifiers`, as the SDK's
/// `AwsErrorCodeClassifier` uses them) and its HTTP status.
fn classify(code: Option<&str>, server_error: bool) -> Failure {
    match code {
        // Route 53: an earlier change to the zone is still being applied
        // (HTTP 400, but it passes; the change was not made).
        Some(c) if THROTTLING_ERRORS.contains(&c) || c == "PriorRequestNotComplete" => {
            Failure::Throttled
        }
        Some(c) if TRANSIENT_ERRORS.contains(&c) => Failure::Transient,
        Some(_) if server_error => Failure::Transient,
        // A 5xx without a code of the service's: a proxy's, perhaps; the
        // service may still be at work.
        None if server_error => Failure::NoAnswer,
        Some("NoSuchHostedZone" | "ResourceNotFoundException") => Failure::NotFound,
        _ => Failure::Final,
    }
}

/// An error and its causes, one line: `dispatch failure: io error: …:
/// Connection refused (os error 111)`, without the debug dump.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut parts = vec![err.to_string()];
    let mut source = err.source();
    while let Some(e) = source {
        let text = e.to_string();
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        source = e.source();
    }
    parts.join(": ")
}

/// The code of a service error, e.g. `InvalidInstanceID.NotFound`.
pub fn error_code<E: ProvideErrorMetadata>(err: &SdkError<E>) -> Option<&str> {
    err.code()
}

/// The three real ports, the region they were built for and their call log.
pub struct AwsAccount {
    pub ec2: ec2::Ec2,
    pub dns: route53::Route53,
    pub registry: dynamodb::DynamoRegistry,
    pub region: String,
    pub calls: CallLog,
}

impl AwsAccount {
    /// The registrar over these clients, for the region they were built for.
    pub fn registrar(
        self,
        config: Config,
    ) -> Registrar<ec2::Ec2, route53::Route53, dynamodb::DynamoRegistry> {
        Registrar::new(self.ec2, self.dns, self.registry, config, self.region)
            .with_calls(self.calls)
    }

    /// The registrar of a Lambda process: zones and VPC facts remembered
    /// for `config.cache_seconds` across invocations (`adapters::cache`).
    pub fn cached_registrar(
        self,
        config: Config,
    ) -> Registrar<Cached<ec2::Ec2>, Cached<route53::Route53>, dynamodb::DynamoRegistry> {
        let ttl = std::time::Duration::from_secs(config.cache_seconds);
        Registrar::new(
            Cached::new(self.ec2, ttl),
            Cached::new(self.dns, ttl),
            self.registry,
            config,
            self.region,
        )
        .with_calls(self.calls)
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

/// Builds the SDK clients once, each with the call counter.
pub async fn connect(options: &ConnectOptions, table: &str) -> AwsAccount {
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
    let calls = CallLog::default();
    let counter = CallCounter(calls.clone());
    let ec2 = aws_sdk_ec2::config::Builder::from(&shared)
        .interceptor(counter.clone())
        .build();
    // Route 53's change rate is a token bucket shared by the whole account:
    // adaptive retry also slows this client down after a throttle, instead
    // of only backing off each attempt.
    let route53 = aws_sdk_route53::config::Builder::from(&shared)
        .retry_config(aws_sdk_route53::config::retry::RetryConfig::adaptive())
        .interceptor(counter.clone())
        .build();
    let dynamodb = aws_sdk_dynamodb::config::Builder::from(&shared)
        .interceptor(counter)
        .build();
    AwsAccount {
        ec2: ec2::Ec2 {
            client: aws_sdk_ec2::Client::from_conf(ec2),
        },
        dns: route53::Route53 {
            client: aws_sdk_route53::Client::from_conf(route53),
        },
        registry: dynamodb::DynamoRegistry {
            client: aws_sdk_dynamodb::Client::from_conf(dynamodb),
            table: table.to_string(),
        },
        region,
        calls,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    /// Every failure kind the engine decides on, from the codes and
    /// statuses AWS answers with: classified here, once.
    #[rstest]
    #[case::throttling(Some("Throttling"), false, Failure::Throttled)]
    #[case::throttling_exception(Some("ThrottlingException"), false, Failure::Throttled)]
    #[case::request_limit(Some("RequestLimitExceeded"), false, Failure::Throttled)]
    #[case::prior_request(Some("PriorRequestNotComplete"), false, Failure::Throttled)]
    #[case::throughput(
        Some("ProvisionedThroughputExceededException"),
        false,
        Failure::Throttled
    )]
    #[case::internal_failure(Some("InternalFailure"), true, Failure::Transient)]
    #[case::service_unavailable(Some("ServiceUnavailable"), true, Failure::Transient)]
    #[case::any_code_on_a_5xx(Some("SomethingNew"), true, Failure::Transient)]
    #[case::a_5xx_without_a_code(None, true, Failure::NoAnswer)]
    #[case::no_such_zone(Some("NoSuchHostedZone"), false, Failure::NotFound)]
    #[case::no_such_table(Some("ResourceNotFoundException"), false, Failure::NotFound)]
    #[case::denied(Some("AccessDenied"), false, Failure::Final)]
    #[case::invalid_input(Some("InvalidInput"), false, Failure::Final)]
    #[case::condition(Some("ConditionalCheckFailedException"), false, Failure::Final)]
    fn failures_are_classified_once(
        #[case] code: Option<&str>,
        #[case] server_error: bool,
        #[case] kind: Failure,
    ) {
        assert_eq!(classify(code, server_error), kind);
        assert_eq!(
            kind.is_retryable(),
            matches!(
                kind,
                Failure::Throttled | Failure::Transient | Failure::NoAnswer
            )
        );
        // A call that may have been made is never taken as not made.
        assert!(
            !(kind.changed_nothing() && matches!(kind, Failure::Transient | Failure::NoAnswer))
        );
    }
}
