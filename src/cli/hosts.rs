//! `ec2-ddns hosts`: the DDNS endpoint's hosts (add, list, remove, rotate),
//! kept in the registry table beside the instances' items.

use super::output::println;
use super::{usage_error, AwsArgs};
use crate::adapters::aws;
use crate::ddns::manage::{self, HostLine, NewHost};
use crate::error::Error;
use crate::names::escape_controls;
use clap::{Args, Subcommand};
use secrecy::{ExposeSecret, SecretString};
use std::process::ExitCode;

/// Manage the hosts outside EC2 that the DDNS endpoint updates
#[derive(Debug, Args)]
#[command(
    after_help = "A host's secret is printed once, alone on stdout, by `add` and `rotate`; it is never shown again.
Give it to the client (ddclient's password, `ec2-ddns update --secret-file`, the hash of the
route53-dynamic-dns-with-lambda clients). See docs/ddns-endpoint.md."
)]
pub(crate) struct HostsArgs {
    #[command(subcommand)]
    command: HostsCommand,
}

#[derive(Debug, Subcommand)]
enum HostsCommand {
    Add(AddArgs),
    List(ListArgs),
    /// Delete a host and the records it owns (each only while still as written)
    Remove(NameArgs),
    /// Give a host a new secret (alone, on stdout); the old one stops working
    Rotate(RotateArgs),
}

/// Where the hosts are kept.
#[derive(Debug, Args)]
struct TableArgs {
    #[command(flatten)]
    aws: AwsArgs,
    /// The registry table (DDNS_TABLE) [default: DDNS]
    #[arg(long, env = "DDNS_TABLE", hide_env_values = true, value_name = "NAME")]
    table: Option<String>,
}

/// Add a host and print its new secret (alone, on stdout)
#[derive(Debug, Args)]
struct AddArgs {
    /// The host's name, inside ZONE (not its apex, not a wildcard)
    host: String,
    /// The public hosted zone: its name or its id
    #[arg(long, value_name = "ZONE")]
    zone: String,
    /// TTL of the host's record, in seconds
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 60,
        value_parser = crate::config::ttl_seconds(),
        allow_negative_numbers = true
    )]
    ttl: u32,
    /// The dyndns2 login [default: the host name]
    #[arg(long, value_name = "NAME")]
    login: Option<String>,
    /// An AWS principal that may update the host without its secret, by a request signed with its credentials (SigV4) to the endpoint's AWS_IAM function URL: an account's root, a role or a user ARN (repeat for several; no wildcards)
    #[arg(long = "iam-principal", value_name = "ARN")]
    iam_principals: Vec<String>,
    #[command(flatten)]
    secret: SecretArgs,
    #[command(flatten)]
    at: TableArgs,
}

/// A secret to reuse instead of a new one.
#[derive(Debug, Args)]
struct SecretArgs {
    /// Use the secret in FILE instead of a new one, and print nothing (for
    /// several hosts that one router updates with one login and password)
    #[arg(long, value_name = "FILE")]
    secret_file: Option<String>,
}

impl SecretArgs {
    fn read(&self) -> Result<Option<SecretString>, String> {
        self.secret_file
            .as_ref()
            .map(|path| {
                std::fs::read_to_string(path)
                    .map(|s| SecretString::from(s.trim()))
                    .map_err(|e| format!("{path}: {e}"))
            })
            .transpose()
    }
}

/// List the hosts: values as their zones hold them now, last update (never secrets)
#[derive(Debug, Args)]
struct ListArgs {
    /// A JSON array instead of a table
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    at: TableArgs,
}

/// A host by name
#[derive(Debug, Args)]
struct NameArgs {
    /// The host's name
    host: String,
    #[command(flatten)]
    at: TableArgs,
}

/// A host by name, and maybe a secret to give it
#[derive(Debug, Args)]
struct RotateArgs {
    /// The host's name
    host: String,
    #[command(flatten)]
    secret: SecretArgs,
    #[command(flatten)]
    at: TableArgs,
}

pub(crate) async fn run(args: HostsArgs) -> ExitCode {
    let (at, what) = match &args.command {
        HostsCommand::Add(a) => (&a.at, "writing a host"),
        HostsCommand::List(a) => (&a.at, "reading only"),
        HostsCommand::Remove(a) => (&a.at, "deleting a host and its record"),
        HostsCommand::Rotate(a) => (&a.at, "changing a host's secret"),
    };
    let config = match crate::Config::from_lookup(|k| {
        (k == "DDNS_TABLE").then(|| at.table.clone()).flatten()
    }) {
        Ok(c) => c,
        Err(e) => return usage_error("hosts", e),
    };
    at.aws.announce(what);
    let account = aws::connect(&at.aws.options(), &config.table).await;
    let registrar = account.registrar(config);
    let now = chrono::Utc::now();
    let done = match args.command {
        HostsCommand::Add(a) => {
            let given = match a.secret.read() {
                Ok(given) => given,
                Err(e) => return usage_error("hosts", e),
            };
            let printed = given.is_none();
            let new = NewHost {
                host: a.host,
                zone: a.zone,
                ttl: a.ttl,
                login: a.login,
                secret: given,
                iam_principals: a.iam_principals,
            };
            manage::add(&registrar, &new, now).await.map(|secret| {
                let name = crate::names::normalize(&new.host);
                if printed {
                    eprintln!(
                        "ec2-ddns: added {name}; its secret is on stdout and is not shown again"
                    );
                    println(secret.expose_secret());
                } else {
                    eprintln!("ec2-ddns: added {name} with the secret from the file");
                }
            })
        }
        HostsCommand::List(a) => manage::list(&registrar).await.map(|lines| {
            if a.json {
                println(&serde_json::to_string_pretty(&lines).unwrap_or_default());
            } else {
                println(&table(&lines));
            }
        }),
        HostsCommand::Remove(a) => match manage::remove(&registrar, &a.host, now).await {
            Ok(removal) => {
                let name = crate::names::normalize(&a.host);
                for c in &removal.summary.changes {
                    println(&format!(
                        "{} {} in {}",
                        c.action.as_str().to_lowercase(),
                        c.record,
                        c.zone_name
                    ));
                }
                if removal.kept.is_empty() {
                    eprintln!("ec2-ddns: removed {name}");
                    Ok(())
                } else {
                    eprintln!(
                        "ec2-ddns: {name} is kept: {} may be its (an earlier update never learned whether Route 53 applied it), so it is neither deleted nor forgotten; delete it in Route 53 if it is stale, then remove the host again",
                        escape_controls(&removal.kept.join("; "))
                    );
                    return ExitCode::from(1);
                }
            }
            Err(e) => Err(e),
        },
        HostsCommand::Rotate(a) => {
            let given = match a.secret.read() {
                Ok(given) => given,
                Err(e) => return usage_error("hosts", e),
            };
            let printed = given.is_none();
            manage::rotate(&registrar, &a.host, given).await.map(|secret| {
                let name = crate::names::normalize(&a.host);
                if printed {
                    eprintln!("ec2-ddns: {name} has a new secret (on stdout); the old one no longer works");
                    println(secret.expose_secret());
                } else {
                    eprintln!("ec2-ddns: {name} has the secret from the file; the old one no longer works");
                }
            })
        }
    };
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(e @ (Error::Config { .. } | Error::Host { .. })) => usage_error("hosts", e),
        Err(e) => {
            eprintln!("ec2-ddns: {e}");
            ExitCode::from(1)
        }
    }
}

/// The hosts as aligned columns.
fn table(lines: &[HostLine]) -> String {
    let mut rows = vec![[
        "HOST".to_string(),
        "ZONE".into(),
        "TYPE".into(),
        "VALUE".into(),
        "OWNED".into(),
        "LAST UPDATE".into(),
    ]];
    for l in lines {
        rows.push([
            l.host.clone(),
            l.zone.clone(),
            l.rtype.clone(),
            l.value.clone(),
            if l.owned { "yes" } else { "no" }.into(),
            l.last_update.clone(),
        ]);
    }
    let widths: Vec<usize> = (0..6)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    rows.iter()
        .map(|r| {
            r.iter()
                .zip(&widths)
                .map(|(cell, w)| format!("{:<w$}", escape_controls(cell), w = *w))
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}
