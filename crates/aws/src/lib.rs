//! The real ports: thin adapters from the domain operations of `ports` to
//! the AWS SDK. Clients are built once (`connect`) and reused for every
//! event; each carries one interceptor that counts its calls.

pub mod autoscaling;
pub mod dynamodb;
pub mod ec2;
pub mod ecs;
pub mod members;
pub mod route53;

use aws_runtime::retries::classifiers::{THROTTLING_ERRORS, TRANSIENT_ERRORS};
use aws_sdk_ec2::config::interceptors::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_sdk_ec2::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_ec2::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::Error as AttemptError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use ec2_ddns_core::cache::Cached;
use ec2_ddns_core::calls::CallLog;
use ec2_ddns_core::error::{Error, Failure};
use ec2_ddns_core::registrar::Registrar;
use ec2_ddns_core::Config;

/// Counts every attempt of every call a client makes, as
/// `service:Operation` (`route53:ChangeResourceRecordSets`): the one place
/// AWS calls are counted, registered once per client in [`connect`]. A retry
/// by the SDK is a call too: it costs time and quota like the first. On a
/// client told how to read its errors ([`CallCounter::with_throttles`]:
/// Route 53's), each attempt the service throttled is counted as well, the
/// ones the SDK retried away included: the function's `Route53Throttles`
/// metric says how near the account is to its rate before anything fails.
#[derive(Debug, Clone)]
pub struct CallCounter {
    log: CallLog,
    error_code: Option<ErrorCode>,
}

/// Reads the service's error code out of a failed attempt's error, which
/// an interceptor only sees type-erased: it tries the error types of one
/// client's operations (`route53::attempt_error_code`).
pub type ErrorCode = for<'a> fn(&'a AttemptError) -> Option<&'a str>;

impl CallCounter {
    pub fn new(log: CallLog) -> CallCounter {
        CallCounter {
            log,
            error_code: None,
        }
    }

    /// Also counts the attempts throttled, reading their codes with `code`.
    pub fn with_throttles(self, code: ErrorCode) -> CallCounter {
        CallCounter {
            error_code: Some(code),
            ..self
        }
    }
}

/// The operation an attempt is of, as `service:Operation`. The SDK names
/// services as people write them ("Route 53").
fn operation(cfg: &ConfigBag) -> Option<String> {
    let meta = cfg.load::<Metadata>()?;
    let service: String = meta
        .service()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    Some(format!("{service}:{}", meta.name()))
}

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
        if let Some(operation) = operation(cfg) {
            self.log.count(&operation);
        }
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(error_code) = self.error_code else {
            return Ok(());
        };
        let code = match context.output_or_error() {
            Some(Err(e)) => e.as_operation_error().and_then(error_code),
            _ => None,
        };
        // Throttled by the same list that classifies a failure once.
        if code.is_some() && classify(code, false) == Failure::Throttled {
            if let Some(operation) = operation(cfg) {
                self.log.throttled(&operation);
            }
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

/// The code of one failed attempt, seen type-erased by the call counter's
/// interceptor, if it is an error of operation type `E`: each adapter's
/// `attempt_error_code` tries its operations' error types in turn.
/// (`ProvideErrorMetadata` is the one trait of aws-smithy-types that every
/// SDK crate re-exports.)
pub(crate) fn attempt_code<E>(
    err: &aws_smithy_runtime_api::client::interceptors::context::Error,
) -> Option<&str>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + std::fmt::Debug + 'static,
{
    err.downcast_ref::<E>()?.code()
}

/// The real ports, the region they were built for and their call log.
pub struct AwsAccount {
    pub ec2: ec2::Ec2,
    pub dns: route53::Route53,
    pub registry: dynamodb::DynamoRegistry,
    /// Auto Scaling's lifecycle hooks (the registrar does not hold it: only
    /// the handler completes hooks).
    pub hooks: autoscaling::AutoScaling,
    /// ECS tasks (and DescribeNetworkInterfaces for their ENIs), for the
    /// `Tasks` port.
    pub tasks: ecs::Ecs,
    pub region: String,
    pub calls: CallLog,
    /// The organization mode's member accounts, once [`AwsAccount::organize`]d.
    pub members: Option<std::sync::Arc<members::Members>>,
    /// What the clients were built from, for the member accounts' clients.
    shared: aws_config::SdkConfig,
    counter: CallCounter,
}

impl AwsAccount {
    /// The organization mode (`settings`, from `DDNS_MEMBER_*`): asks STS
    /// for this account's id (GetCallerIdentity), and lends the EC2 and
    /// ECS ports the member accounts' clients (an AssumeRole per account,
    /// kept while its credentials last). Fails when STS cannot say.
    pub async fn organize(
        &mut self,
        settings: &ec2_ddns_core::config::Members,
    ) -> ec2_ddns_core::error::Result<()> {
        let members = std::sync::Arc::new(
            members::Members::new(&self.shared, settings, self.counter.clone()).await?,
        );
        self.ec2.members = Some(members.clone());
        self.tasks.members = Some(members.clone());
        self.members = Some(members);
        Ok(())
    }

    /// The central account's id, in the organization mode.
    fn home_account(&self) -> Option<String> {
        self.members.as_ref().map(|m| m.home_account.clone())
    }

    /// The registrar over these clients, for the region they were built for.
    pub fn registrar(
        self,
        config: Config,
    ) -> Registrar<ec2::Ec2, route53::Route53, dynamodb::DynamoRegistry> {
        let home_account = self.home_account();
        let mut registrar = Registrar::new(self.ec2, self.dns, self.registry, config, self.region)
            .with_calls(self.calls);
        registrar.home_account = home_account;
        registrar
    }

    /// The registrar of a Lambda process: zones and VPC facts remembered
    /// for `config.cache_seconds` across invocations (`adapters::cache`).
    pub fn cached_registrar(
        self,
        config: Config,
    ) -> Registrar<Cached<ec2::Ec2>, Cached<route53::Route53>, dynamodb::DynamoRegistry> {
        let ttl = std::time::Duration::from_secs(config.cache_seconds);
        let home_account = self.home_account();
        let mut registrar = Registrar::new(
            Cached::new(self.ec2, ttl),
            Cached::new(self.dns, ttl),
            self.registry,
            config,
            self.region,
        )
        .with_calls(self.calls);
        registrar.home_account = home_account;
        registrar
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

/// [`connect`], then the organization mode when `config` sets it up
/// (`DDNS_MEMBER_ACCOUNTS`: [`AwsAccount::organize`]).
pub async fn connect_for(
    options: &ConnectOptions,
    config: &Config,
) -> ec2_ddns_core::error::Result<AwsAccount> {
    let mut account = connect(options, &config.table).await;
    if let Some(members) = &config.members {
        account.organize(members).await?;
    }
    Ok(account)
}

/// Builds the SDK clients once, each with the call counter.
pub async fn connect(options: &ConnectOptions, table: &str) -> AwsAccount {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(url) = &options.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    // An explicit region, else the SDK's chain (AWS_REGION, the profile,
    // IMDS), else us-east-1, as `--help` says: without the last, a machine
    // with no region configured fails every call with "missing signing
    // region" instead.
    loader = match &options.region {
        Some(region) => loader.region(aws_config::Region::new(region.clone())),
        None => loader.region(
            aws_config::meta::region::RegionProviderChain::default_provider().or_else("us-east-1"),
        ),
    };
    let shared = loader.load().await;
    let region = shared
        .region()
        .map(|r| r.to_string())
        .unwrap_or_else(|| "us-east-1".to_string());
    let calls = CallLog::default();
    let counter = CallCounter::new(calls.clone());
    let ec2 = aws_sdk_ec2::config::Builder::from(&shared)
        .interceptor(counter.clone())
        .build();
    // Route 53's change rate is a token bucket shared by the whole account:
    // adaptive retry also slows this client down after a throttle, instead
    // of only backing off each attempt.
    let route53 = aws_sdk_route53::config::Builder::from(&shared)
        .retry_config(aws_sdk_route53::config::retry::RetryConfig::adaptive())
        .interceptor(counter.clone().with_throttles(route53::attempt_error_code))
        .build();
    let dynamodb = aws_sdk_dynamodb::config::Builder::from(&shared)
        .interceptor(counter.clone())
        .build();
    // ECS's throttles are counted as Route 53's are: a reconcile over many
    // clusters makes many ListTasks and DescribeTasks calls.
    let ecs = aws_sdk_ecs::config::Builder::from(&shared)
        .interceptor(counter.clone().with_throttles(ecs::attempt_error_code))
        .build();
    let autoscaling = aws_sdk_autoscaling::config::Builder::from(&shared)
        .interceptor(counter.clone())
        .build();
    AwsAccount {
        // Its own EC2 client (DescribeNetworkInterfaces), of the same
        // configuration and call counter as the instances' one.
        tasks: ecs::Ecs::new(
            aws_sdk_ecs::Client::from_conf(ecs),
            aws_sdk_ec2::Client::from_conf(ec2.clone()),
        ),
        ec2: ec2::Ec2 {
            client: aws_sdk_ec2::Client::from_conf(ec2),
            members: None,
        },
        dns: route53::Route53::new(aws_sdk_route53::Client::from_conf(route53)),
        registry: dynamodb::DynamoRegistry {
            client: aws_sdk_dynamodb::Client::from_conf(dynamodb),
            table: table.to_string(),
        },
        hooks: autoscaling::AutoScaling {
            client: aws_sdk_autoscaling::Client::from_conf(autoscaling),
        },
        region,
        calls,
        members: None,
        shared,
        counter,
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

    /// A local stand-in for Route 53 that throttles the first `throttles`
    /// requests and then lists no zones; each request on its own
    /// connection, so the test needs nothing but the standard library.
    fn route53_stand_in(throttles: usize) -> String {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for n in 0..=throttles {
                let Ok((mut stream, _)) = listener.accept() else {
                    return;
                };
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(read) => request.extend_from_slice(&buf[..read]),
                    }
                }
                let (status, body) = if n < throttles {
                    ("400 Bad Request", "<?xml version=\"1.0\"?><ErrorResponse xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>r</RequestId></ErrorResponse>")
                } else {
                    ("200 OK", "<?xml version=\"1.0\"?><ListHostedZonesResponse xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><HostedZones></HostedZones><IsTruncated>false</IsTruncated><MaxItems>100</MaxItems></ListHostedZonesResponse>")
                };
                let answer = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes());
            }
        });
        url
    }

    /// Route 53 throttles twice and the SDK's retries take the call
    /// through: three calls counted, and the two throttles, although no
    /// error ever reached the adapter.
    #[tokio::test]
    async fn throttles_the_sdk_retried_away_are_counted() {
        let calls = CallLog::default();
        let config = aws_sdk_route53::Config::builder()
            .behavior_version(aws_sdk_route53::config::BehaviorVersion::latest())
            .endpoint_url(route53_stand_in(2))
            .region(aws_sdk_route53::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_route53::config::Credentials::new(
                "AKIDTEST", "secret", None, None, "test",
            ))
            .retry_config(
                aws_sdk_route53::config::retry::RetryConfig::standard()
                    .with_max_attempts(3)
                    .with_initial_backoff(std::time::Duration::from_millis(1)),
            )
            .interceptor(
                CallCounter::new(calls.clone()).with_throttles(route53::attempt_error_code),
            )
            .build();
        let client = aws_sdk_route53::Client::from_conf(config);
        let listed = client.list_hosted_zones().send().await;
        assert!(listed.is_ok(), "{listed:?}");
        assert_eq!(
            calls.take(),
            [("route53:ListHostedZones".to_string(), 3)].into()
        );
        assert_eq!(
            calls.take_throttled(),
            [("route53:ListHostedZones".to_string(), 2)].into()
        );
    }
}
