//! The one error type. Each message says what was wanted, what was found and
//! what to do; `is_retryable` decides whether Lambda should try again.

/// Every failure the registrar reports.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input is not an event we handle, or is malformed. Retrying cannot help.
    #[error("bad event: {0}")]
    BadEvent(String),

    /// A `DDNS_*` variable (or its flag) has a value we cannot use.
    #[error("configuration: {variable}: {message}")]
    Config { variable: String, message: String },

    /// An AWS call failed. `retryable` is true for throttling, 5xx and
    /// time-outs, where a later attempt may succeed.
    #[error("{operation} failed{}: {message}", if *.retryable { " (retryable)" } else { "" })]
    Aws {
        operation: String,
        message: String,
        retryable: bool,
    },

    /// A Route 53 change batch was refused because the zone changed under us
    /// (a record appeared, or one we meant to delete changed). The next
    /// attempt reads the zone again, so this one is retryable.
    #[error("Route 53 refused the change batch for zone {zone_id}: {message}; the zone changed since it was read, retry to plan again")]
    ZoneChanged { zone_id: String, message: String },

    /// Another invocation saved the instance's registry item between our read
    /// and our write; the next attempt starts from what it wrote.
    #[error(
        "registry item for {instance_id} was changed by another invocation; retry to plan again"
    )]
    RegistryRace { instance_id: String },

    /// The registry item could not be understood; it is left as it is.
    #[error("registry item for {instance_id} is unreadable: {message}; fix or delete the item in the table")]
    BadRegistryItem {
        instance_id: String,
        message: String,
    },

    /// A world or scenario file is not what was expected.
    #[error("{file}: {path}: {message}")]
    BadFile {
        file: String,
        path: String,
        message: String,
    },

    /// Reading a file failed.
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// Whether retrying the same event later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Aws { retryable, .. } => *retryable,
            Error::ZoneChanged { .. } | Error::RegistryRace { .. } => true,
            _ => false,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
