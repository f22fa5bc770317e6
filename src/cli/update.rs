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
reached, 2 for bad usage. For cron:

  */5 * * * * ec2-ddns update --url https://abc.lambda-url.us-east-1.on.aws/ --host home.example.com --secret-file ~/.ddns-secret"
)]
pub(crate) struct UpdateArgs {
    /// The endpoint's function URL
    #[arg(long, value_name = "URL")]
    url: String,
    /// The host to update
    #[arg(long, value_name = "HOST")]
    host: String,
    /// A file holding the host's secret (as `hosts add` printed it)
    #[arg(long, value_name = "FILE")]
    secret_file: String,
    /// The address to set [default: this machine's, as the endpoint sees it]
    #[arg(long, value_name = "IP")]
    ip: Option<IpAddr>,
}

pub(crate) async fn run(args: UpdateArgs) -> ExitCode {
    let secret = match std::fs::read_to_string(&args.secret_file) {
        Ok(text) => SecretString::from(text.trim()),
        Err(e) => return usage_error("update", format!("{}: {e}", args.secret_file)),
    };
    if secret.expose_secret().is_empty() {
        return usage_error(
            "update",
            format!(
                "{}: the file is empty; it should hold the host's secret",
                args.secret_file
            ),
        );
    }
    warn_if_readable_by_others(&args.secret_file);
    let host = args.host.trim_end_matches('.');
    let endpoint = match client::Endpoint::new(&args.url) {
        Ok(endpoint) => endpoint,
        Err(e) => {
            eprintln!("ec2-ddns: {e}");
            return ExitCode::from(1);
        }
    };
    let ip = match args.ip {
        Some(ip) => ip,
        None => match endpoint.my_address().await {
            Ok(ip) => ip,
            Err(e) => {
                eprintln!("ec2-ddns: {e}");
                return ExitCode::from(1);
            }
        },
    };
    let nonce = match client::new_nonce() {
        Ok(n) => n,
        Err(e) => {
            eprintln!("ec2-ddns: {e}");
            return ExitCode::from(1);
        }
    };
    let body = client::signed_set(&secret, host, ip, chrono::Utc::now().timestamp(), &nonce);
    match endpoint.post(&body).await {
        Ok(answer) if answer.success => {
            let what = if answer.status == 201 {
                "updated"
            } else {
                "unchanged"
            };
            println(&format!("{host} {what}: {ip}"));
            ExitCode::SUCCESS
        }
        Ok(answer) => {
            eprintln!(
                "ec2-ddns: {host}: the endpoint refused (HTTP {}): {}",
                answer.status,
                crate::names::escape_controls(&answer.message)
            );
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("ec2-ddns: {e}");
            ExitCode::from(1)
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
