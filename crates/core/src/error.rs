//! The one error type. Each message says what was wanted, what was found and
//! what to do; `is_retryable` decides whether Lambda (or SQS, or the caller)
//! should try the same event again.
//!
//! Retryable means a later attempt can succeed without anyone changing
//! anything: throttling, 5xx, time-outs and network failures, Route 53
//! refusing a batch because the zone changed since it was read, and a
//! concurrent registry write. Everything else (a malformed batch, a bad
//! event, an unreadable registry item, a missing permission) fails the same
//! way every time, so it is reported once and not retried.

/// Every failure the registrar reports. Cloned when one failure stops
/// several subjects (a zone that cannot be read fails every instance that
/// needs it).
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// The input is not an event we handle, or is malformed. Retrying cannot help.
    #[error("bad event: {0}")]
    BadEvent(String),

    /// A `DDNS_*` variable (or its flag) has a value we cannot use.
    #[error("configuration: {variable}: {message}")]
    Config { variable: String, message: String },

    /// An AWS call failed: `operation` is `service:Operation`, `code` the
    /// service's error code when it answered with one, `kind` what the
    /// engine decides on (classified once, by the adapter that made the
    /// call).
    #[error(
        "{operation} failed: {}{message}{}",
        code.as_deref().map(|c| format!("{c}: ")).unwrap_or_default(),
        if kind.is_retryable() { " (a later attempt may succeed)" } else { "" }
    )]
    Aws {
        operation: String,
        code: Option<String>,
        message: String,
        kind: Failure,
    },

    /// Route 53 refused a change batch with an answer that means the zone
    /// changed between our read and our write (`already exists`, `not
    /// found`, `do not match`). The next attempt reads the zone again.
    #[error("Route 53 refused the change batch for zone {zone_id}: the zone changed since it was read ({message}); the next attempt reads it again")]
    ZoneChanged { zone_id: String, message: String },

    /// Route 53 refused a change batch for any other reason. The same batch
    /// would be refused again, so this is not retried.
    #[error("Route 53 refused the change batch for zone {zone_id}: {code}: {message}; a retry would be refused the same way, so the event is not retried")]
    BatchRefused {
        zone_id: String,
        code: String,
        message: String,
    },

    /// An event says the instance runs, but EC2 does not show it ready to
    /// register (still pending, or no private address yet): the next
    /// attempt describes it again.
    #[error("instance {instance_id} {message}; the next attempt describes it again")]
    NotReady {
        instance_id: String,
        message: String,
    },

    /// Another invocation saved the instance's registry item between our read
    /// and our write; the next attempt starts from what it wrote.
    #[error(
        "registry item for {instance_id} was changed by another invocation; the next attempt starts from what it wrote"
    )]
    RegistryRace { instance_id: String },

    /// The invocation's time ran out before this instance's changes were
    /// sent. Nothing was left half-done (what was written ahead is put
    /// back), and the next attempt converges it.
    #[error("instance {instance_id}: the invocation's time ran out before its changes were sent; nothing is left half-done, and the next attempt converges it")]
    OutOfTime { instance_id: String },

    /// The registry item could not be understood; it is left as it is.
    #[error("registry item for {instance_id} is unreadable: {message}; fix or delete the item in the table")]
    BadRegistryItem {
        instance_id: String,
        message: String,
    },

    /// A `hosts` command cannot do what was asked about a DDNS host.
    #[error("DDNS host {host}: {message}")]
    Host { host: String, message: String },

    /// A world, scenario or event file is not what was expected.
    #[error("{file}: {path}: {message}")]
    BadFile {
        file: String,
        path: String,
        message: String,
    },

    /// EC2 lists the instance but it cannot be read (a state this version
    /// does not know): its records are left as they are.
    #[error("instance {instance_id} cannot be read: {message}; its records are left as they are")]
    UnreadableInstance {
        instance_id: String,
        message: String,
    },

    /// A read-only command (`status`) met a write: refused before it
    /// reached AWS, so nothing was written. A bug, never the user's doing.
    #[error("{operation} refused: this command only reads, so nothing was written; please report this as a bug")]
    ReadOnly { operation: String },

    /// A member account's role could not be assumed (the organization
    /// mode): only that account's subjects wait; the rest go on.
    #[error("account {account} in {region} cannot be read: {cause}; its instances and tasks are left as they are until it can (is infra/member.yaml deployed there, and does its role trust this function's role with DDNS_MEMBER_EXTERNAL_ID?)")]
    MemberUnreachable {
        account: String,
        region: String,
        cause: Box<Error>,
    },

    /// Reading a file failed.
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::sync::Arc<std::io::Error>,
    },
}

/// What kind of failure an AWS call met. The adapters classify each
/// failure once, with the SDK's own classifiers; nothing else reads an
/// error code to decide what to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The service asked us to slow down: the call was not made.
    Throttled,
    /// The service answered with a failure that may pass (a 5xx, a
    /// transient code): a write may or may not have been made.
    Transient,
    /// No answer at all (a time-out, a dropped connection, an unreadable
    /// response): a write may have been made, and may still be at work.
    NoAnswer,
    /// What the call names does not exist (a zone or table deleted): the
    /// call changed nothing, and the same call fails the same way.
    NotFound,
    /// Anything else (denied, bad input): the call changed nothing, and
    /// the same call fails the same way.
    Final,
}

impl Failure {
    /// Whether a later attempt of the same call may succeed.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            Failure::Throttled | Failure::Transient | Failure::NoAnswer
        )
    }

    /// Whether the call certainly changed nothing.
    pub fn changed_nothing(self) -> bool {
        matches!(
            self,
            Failure::Throttled | Failure::NotFound | Failure::Final
        )
    }

    /// The kind of a failure that was classified as retryable or not.
    pub fn from_retryable(retryable: bool) -> Failure {
        if retryable {
            Failure::Transient
        } else {
            Failure::Final
        }
    }
}

/// Route 53's words for a batch that lost a race: a record appeared, or one
/// we meant to delete vanished or changed. Every other refusal is final.
const RACE_PHRASES: &[&str] = &["already exists", "not found", "do not match"];

impl Error {
    /// The variant's name: the `errorType` a failed Lambda invocation
    /// reports (`ec2_ddns::Aws`, …), so a dead-letter queue reads at a glance.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Error::BadEvent(_) => "BadEvent",
            Error::Config { .. } => "Config",
            Error::Aws { .. } => "Aws",
            Error::ZoneChanged { .. } => "ZoneChanged",
            Error::BatchRefused { .. } => "BatchRefused",
            Error::RegistryRace { .. } => "RegistryRace",
            Error::NotReady { .. } => "NotReady",
            Error::OutOfTime { .. } => "OutOfTime",
            Error::BadRegistryItem { .. } => "BadRegistryItem",
            Error::UnreadableInstance { .. } => "UnreadableInstance",
            Error::Host { .. } => "Host",
            Error::BadFile { .. } => "BadFile",
            Error::Io { .. } => "Io",
            Error::ReadOnly { .. } => "ReadOnly",
            Error::MemberUnreachable { .. } => "MemberUnreachable",
        }
    }

    /// Whether the service asked us to slow down (the call was not made).
    pub fn is_throttle(&self) -> bool {
        matches!(
            self,
            Error::Aws {
                kind: Failure::Throttled,
                ..
            }
        )
    }

    /// Whether retrying the same event later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Aws { kind, .. } => kind.is_retryable(),
            Error::MemberUnreachable { cause, .. } => cause.is_retryable(),
            Error::ZoneChanged { .. }
            | Error::RegistryRace { .. }
            | Error::NotReady { .. }
            | Error::OutOfTime { .. } => true,
            _ => false,
        }
    }

    /// Classifies Route 53's refusal of a change batch (`InvalidChangeBatch`,
    /// `InvalidInput`, …). The real client and the in-memory Route 53 both
    /// call this, so a refusal is retried, or not, the same way on both.
    pub fn route53_refusal(zone_id: &str, code: &str, message: &str) -> Error {
        let race = code == "InvalidChangeBatch" && RACE_PHRASES.iter().any(|p| message.contains(p));
        if race {
            Error::ZoneChanged {
                zone_id: zone_id.to_string(),
                message: message.to_string(),
            }
        } else {
            Error::BatchRefused {
                zone_id: zone_id.to_string(),
                code: code.to_string(),
                message: message.to_string(),
            }
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case::create_of_an_existing_record(
        "InvalidChangeBatch",
        "[Tried to create resource record set [name='a.corp.example.', type='A'] but it already exists]",
        true
    )]
    #[case::delete_of_a_missing_record(
        "InvalidChangeBatch",
        "[Tried to delete resource record set [name='a.corp.example.', type='A'] but it was not found]",
        true
    )]
    #[case::delete_with_other_values(
        "InvalidChangeBatch",
        "[Tried to delete resource record set [name='a.corp.example.', type='A'] but the values provided do not match the current values]",
        true
    )]
    #[case::name_outside_the_zone(
        "InvalidChangeBatch",
        "[RRSet with DNS name a.xcorp.example. is not permitted in zone corp.example.]",
        false
    )]
    #[case::malformed_value(
        "InvalidChangeBatch",
        "[Invalid Resource Record: 'FATAL problem: ARRDATAIllegalIPv4Address (Value is not a valid IPv4 address) encountered with '10.1.2''']",
        false
    )]
    #[case::invalid_input_never_races(
        "InvalidInput",
        "Invalid XML ; cvc-complex-type.2.4.b: … not found",
        false
    )]
    fn route53_refusals_are_retried_only_for_races(
        #[case] code: &str,
        #[case] message: &str,
        #[case] retryable: bool,
    ) {
        let err = Error::route53_refusal("Z1", code, message);
        assert_eq!(err.is_retryable(), retryable, "{err}");
        assert!(
            err.to_string().contains(message),
            "says what Route 53 said: {err}"
        );
        if !retryable {
            assert!(err.to_string().contains(code), "{err}");
        }
    }

    #[test]
    fn aws_errors_are_one_line_with_service_code_and_message() {
        let err = Error::Aws {
            operation: "route53:ChangeResourceRecordSets".into(),
            code: Some("Throttling".into()),
            message: "Rate exceeded".into(),
            kind: Failure::Throttled,
        };
        assert_eq!(
            err.to_string(),
            "route53:ChangeResourceRecordSets failed: Throttling: Rate exceeded (a later attempt may succeed)"
        );
    }
}
