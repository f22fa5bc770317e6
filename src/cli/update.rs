//! `ec2-ddns update`: a DDNS client for the signed protocol, for cron.

use super::output::println;
use super::usage_error;
use crate::cli::client;
use clap::Args;
use secrecy::{ExposeSecret, SecretString};
use std::net::IpAddr;
use std::process::ExitCode;

/// Update a host's record through the DDNS endpoint (signed, never replayable)
#[derive(Debug, Args)]
#[command(
    after_help = "Asks the endpoint for this machine's address (unless --ip), then sends an update signed with
the host's secret over the host, the address, the time and a fresh nonce. Prints what happened;
exit status 0 when the record holds the address, 1 when the endpoint refused or could not be
reached, 2 for bad usage. With --wait, after a change it asks the endpoint (signed, every 2 s)
until Route 53's name servers all answer with the new record (INSYNC) and prints the seconds it
took; exit status 1 when --wait-timeout passes first. With --iam there is no secret: the request
is signed with this machine's AWS credentials (SigV4, service lambda) for the endpoint's AWS_IAM
function URL, which allows the principals the host lists (hosts add --iam-principal). For cron:

  */5 * * * * ec2-ddns update --url https://abc.lambda-url.us-east-1.on.aws/ --host home.example.com --secret-file ~/.ddns-secret
  */5 * * * * ec2-ddns update --url https://xyz.lambda-url.us-east-1.on.aws/ --host home.example.com --iam"
)]
pub(crate) struct UpdateArgs {
    /// The endpoint's function URL
    #[arg(long, value_name = "URL")]
    url: String,
    /// The host to update
    #[arg(long, value_name = "HOST")]
    host: String,
    /// A file holding the host's secret (as `hosts add` printed it)
    #[arg(long, value_name = "FILE", required_unless_present = "iam")]
    secret_file: Option<String>,
    /// Sign with this machine's AWS credentials instead of a secret, for the endpoint's AWS_IAM function URL
    #[arg(long, conflicts_with = "secret_file")]
    iam: bool,
    /// The region to sign for with --iam [default: the function URL's, else AWS_REGION]
    #[arg(long, value_name = "REGION", requires = "iam")]
    region: Option<String>,
    /// The address to set [default: this machine's, as the endpoint sees it]
    #[arg(long, value_name = "IP")]
    ip: Option<IpAddr>,
    /// After a change, wait until Route 53's name servers all have it (INSYNC), and say how long it took
    #[arg(long)]
    wait: bool,
    /// The longest --wait waits, in seconds
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 120,
        requires = "wait",
        allow_negative_numbers = true
    )]
    wait_timeout: u64,
    /// Seconds between two status asks of --wait
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 2,
        requires = "wait",
        hide = true,
        allow_negative_numbers = true
    )]
    wait_interval: u64,
}

pub(crate) async fn run(args: UpdateArgs) -> ExitCode {
    let host = args.host.trim_end_matches('.');
    let endpoint = match client::Endpoint::new(&args.url) {
        Ok(endpoint) => endpoint,
        Err(e) => return failed(&e),
    };
    // The proof: the host's secret, or the request's AWS signature.
    let (endpoint, secret) = if args.iam {
        match client::Signer::from_environment(&args.url, args.region.as_deref()).await {
            Ok(signer) => (endpoint.signed_by(signer), None),
            Err(e) => return failed(&e),
        }
    } else {
        match read_secret(args.secret_file.as_deref()) {
            Ok(secret) => (endpoint, Some(secret)),
            Err(code) => return code,
        }
    };
    let proof = match &secret {
        Some(secret) => StatusProof::Secret(secret),
        None => StatusProof::Iam,
    };
    let ip = match args.ip {
        Some(ip) => ip,
        None => match endpoint.my_address().await {
            Ok(ip) => ip,
            Err(e) => return failed(&e),
        },
    };
    let body = match &proof {
        StatusProof::Iam => client::iam_set(host, ip),
        StatusProof::Secret(secret) => match client::new_nonce() {
            Ok(nonce) => {
                client::signed_set(secret, host, ip, chrono::Utc::now().timestamp(), &nonce)
            }
            Err(e) => return failed(&e),
        },
    };
    let started = std::time::Instant::now();
    match endpoint.post(&body).await {
        Ok(answer) if answer.success => {
            let what = if answer.status == 201 {
                "updated"
            } else {
                "unchanged"
            };
            println(&format!("{host} {what}: {ip}"));
            match (&answer.change_id, args.wait) {
                (Some(change_id), true) => {
                    let wait = Wait {
                        endpoint: &endpoint,
                        proof,
                        host,
                        ip,
                        change_id,
                        timeout: std::time::Duration::from_secs(args.wait_timeout),
                        interval: std::time::Duration::from_secs(args.wait_interval.max(1)),
                    };
                    wait.until_in_sync(started).await
                }
                (None, true) => {
                    println(&format!("{host}: nothing changed, so nothing to wait for"));
                    ExitCode::SUCCESS
                }
                _ => ExitCode::SUCCESS,
            }
        }
        Ok(answer) => refused(host, &answer),
        Err(e) => failed(&e),
    }
}

/// The host's secret from `--secret-file`; a usage error (exit status 2)
/// when there is none, it cannot be read, or it is empty.
fn read_secret(file: Option<&str>) -> Result<SecretString, ExitCode> {
    let Some(file) = file else {
        return Err(usage_error("update", "give --secret-file, or --iam"));
    };
    let secret = match std::fs::read_to_string(file) {
        Ok(text) => SecretString::from(text.trim()),
        Err(e) => return Err(usage_error("update", format!("{file}: {e}"))),
    };
    if secret.expose_secret().is_empty() {
        return Err(usage_error(
            "update",
            format!("{file}: the file is empty; it should hold the host's secret"),
        ));
    }
    warn_if_readable_by_others(file);
    Ok(secret)
}

/// The endpoint refused: exit status 1, and why on stderr.
fn refused(host: &str, answer: &client::Answer) -> ExitCode {
    eprintln!(
        "ec2-ddns: {host}: the endpoint refused (HTTP {}): {}",
        answer.status,
        crate::names::escape_controls(&answer.message)
    );
    ExitCode::from(1)
}

/// The endpoint could not be reached or read: exit status 1.
fn failed(e: &crate::Error) -> ExitCode {
    eprintln!("ec2-ddns: {e}");
    ExitCode::from(1)
}

/// How a status ask is proven: signed with the host's secret (a fresh
/// nonce each), or by the request's AWS signature (`--iam`).
enum StatusProof<'a> {
    Secret(&'a SecretString),
    Iam,
}

/// `--wait`: status asks (each signed, with a fresh nonce) until the
/// change is INSYNC or the time is up.
struct Wait<'a> {
    endpoint: &'a client::Endpoint,
    proof: StatusProof<'a>,
    host: &'a str,
    ip: IpAddr,
    change_id: &'a str,
    timeout: std::time::Duration,
    interval: std::time::Duration,
}

impl Wait<'_> {
    /// Exit 0 with the seconds since `started` once INSYNC; 1 when the
    /// time is up, or the endpoint refuses or cannot be reached.
    async fn until_in_sync(&self, started: std::time::Instant) -> ExitCode {
        let host = self.host;
        loop {
            tokio::time::sleep(self.interval).await;
            let body = match self.proof {
                StatusProof::Iam => client::iam_status(host, self.ip, self.change_id),
                StatusProof::Secret(secret) => {
                    let nonce = match client::new_nonce() {
                        Ok(n) => n,
                        Err(e) => return failed(&e),
                    };
                    client::signed_status(
                        secret,
                        host,
                        self.ip,
                        chrono::Utc::now().timestamp(),
                        &nonce,
                        self.change_id,
                    )
                }
            };
            match self.endpoint.post(&body).await {
                Ok(answer) if answer.change_status.as_deref() == Some("INSYNC") => {
                    println(&format!(
                        "{host} in sync after {:.0} s (change {})",
                        started.elapsed().as_secs_f64(),
                        self.change_id
                    ));
                    return ExitCode::SUCCESS;
                }
                Ok(answer) if answer.success => {}
                Ok(answer) => {
                    eprintln!(
                        "ec2-ddns: {host}: the endpoint refused the status ask (HTTP {}): {}",
                        answer.status,
                        crate::names::escape_controls(&answer.message)
                    );
                    return ExitCode::from(1);
                }
                Err(e) => {
                    eprintln!("ec2-ddns: {e}");
                    return ExitCode::from(1);
                }
            }
            if started.elapsed() >= self.timeout {
                eprintln!(
                    "ec2-ddns: {host}: not in sync after {} s (change {} still PENDING); Route 53 usually takes under a minute",
                    self.timeout.as_secs(),
                    self.change_id
                );
                return ExitCode::from(1);
            }
        }
    }
}

/// A secret file others can read is said, not refused (it may be on a
/// file system without modes).
fn warn_if_readable_by_others(path: &str) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                eprintln!("ec2-ddns: warning: {path} can be read by others; chmod 600 it");
            }
        }
    }
}
