//! The command line: clap arguments, one struct per command (so a flag that
//! means nothing to a command is refused there), one file per command, and
//! the rendering they share. `bin/ec2-ddns.rs` only calls [`main`].
//!
//! Exit status: 0 when every event was handled (conflicts included), 1 when
//! some event ended in error or an AWS read failed, 2 for bad usage,
//! configuration or input files.

mod hosts;
mod output;
mod reconcile;
pub mod render;
mod replay;
mod scenario;
mod snapshot;
mod update;

use crate::adapters::aws::ConnectOptions;
use crate::Config;
use clap::{Args, Parser, Subcommand};
use std::process::ExitCode;

/// Dynamic DNS for Route 53, driven by EC2 state and tag changes
#[derive(Debug, Parser)]
#[command(
    name = "ec2-ddns",
    version,
    max_term_width = 100,
    after_help = "The commands run the registrar the Lambda function runs, against a world file (an account in\nmemory), an emulator, or the account in your environment.\n\nExit status: 0 every event handled (conflicts included), 1 some event ended in error or an AWS\nread failed, 2 bad usage, configuration or input file. More: ec2-ddns help COMMAND, docs/cli.md."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Replay(replay::ReplayArgs),
    Reconcile(reconcile::ReconcileArgs),
    Scenario(scenario::ScenarioArgs),
    Snapshot(snapshot::SnapshotArgs),
    Hosts(hosts::HostsArgs),
    Update(update::UpdateArgs),
}

/// Where the AWS clients connect when no world file is given.
#[derive(Debug, Clone, Args)]
pub(crate) struct AwsArgs {
    /// An AWS emulator such as moto (AWS_ENDPOINT_URL works too)
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
    /// AWS region [default: AWS_REGION, the profile's, or us-east-1]
    #[arg(long, value_name = "REGION")]
    region: Option<String>,
}

impl AwsArgs {
    pub(crate) fn options(&self) -> ConnectOptions {
        ConnectOptions {
            endpoint_url: self.endpoint_url.clone(),
            region: self.region.clone(),
        }
    }

    /// Says on stderr when the real account is about to be used, so no one
    /// reaches it by forgetting a flag.
    pub(crate) fn announce(&self, what: &str) {
        let emulator = self.endpoint_url.is_some()
            || std::env::var("AWS_ENDPOINT_URL").is_ok_and(|v| !v.is_empty());
        if !emulator {
            eprintln!("ec2-ddns: no --world or --endpoint-url: using the AWS account in the environment; {what}");
        }
    }
}

/// `--json` or `--text`; each command has its own default.
#[derive(Debug, Clone, Copy, Args)]
#[group(multiple = false)]
pub(crate) struct OutputArgs {
    /// One JSON line per event
    #[arg(long)]
    json: bool,
    /// Readable lines per event, then the zones as tables
    #[arg(long)]
    text: bool,
}

impl OutputArgs {
    pub(crate) fn json_unless_text(self, default_json: bool) -> bool {
        if self.json {
            true
        } else if self.text {
            false
        } else {
            default_json
        }
    }
}

/// The registrar's settings: each flag, else its environment variable
/// (empty counts as unset), else the default. Checked by `Config`, which
/// names the variable of a bad value.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Registrar settings (flag, else environment variable, else default)")]
pub(crate) struct ConfigArgs {
    /// DynamoDB table of what each instance owns [default: DDNS]
    #[arg(long, env = "DDNS_TABLE", hide_env_values = true, value_name = "NAME")]
    table: Option<String>,
    /// TTL of every record written, in seconds [default: 60]
    #[arg(long, env = "DDNS_TTL", hide_env_values = true, value_name = "SECONDS")]
    ttl: Option<String>,
    /// Tag naming the instance's home zone [default: ZONE]
    #[arg(
        long,
        env = "DDNS_ZONE_TAG",
        hide_env_values = true,
        value_name = "KEY"
    )]
    zone_tag: Option<String>,
    /// Tag listing aliases (CNAMEs) [default: CNAME]
    #[arg(
        long,
        env = "DDNS_CNAME_TAG",
        hide_env_values = true,
        value_name = "KEY"
    )]
    cname_tag: Option<String>,
    /// Tag giving a vanity host name [default: HOSTNAME]
    #[arg(
        long,
        env = "DDNS_HOSTNAME_TAG",
        hide_env_values = true,
        value_name = "KEY"
    )]
    hostname_tag: Option<String>,
    /// Zones that may be written: names or ids, comma-separated [default: all]
    #[arg(
        long,
        env = "DDNS_ALLOWED_ZONES",
        hide_env_values = true,
        value_name = "LIST"
    )]
    allowed_zones: Option<String>,
    /// Home domain when no ZONE tag or DHCP domain gives one
    #[arg(
        long,
        env = "DDNS_DEFAULT_ZONE",
        hide_env_values = true,
        value_name = "NAME"
    )]
    default_zone: Option<String>,
    /// What a stopped instance keeps: deregister (nothing) or keep (its
    /// private records) [default: deregister]
    #[arg(
        long,
        env = "DDNS_ON_STOP",
        hide_env_values = true,
        value_name = "POLICY"
    )]
    on_stop: Option<String>,
}

impl ConfigArgs {
    pub(crate) fn config(&self) -> crate::Result<Config> {
        Config::from_lookup(|variable| {
            match variable {
                "DDNS_TABLE" => &self.table,
                "DDNS_TTL" => &self.ttl,
                "DDNS_ZONE_TAG" => &self.zone_tag,
                "DDNS_CNAME_TAG" => &self.cname_tag,
                "DDNS_HOSTNAME_TAG" => &self.hostname_tag,
                "DDNS_ALLOWED_ZONES" => &self.allowed_zones,
                "DDNS_DEFAULT_ZONE" => &self.default_zone,
                "DDNS_ON_STOP" => &self.on_stop,
                _ => &None,
            }
            .clone()
        })
    }
}

/// A usage, configuration or input-file error: the message and a one-line
/// hint, then exit status 2.
pub(crate) fn usage_error(command: &str, error: impl std::fmt::Display) -> ExitCode {
    eprintln!("ec2-ddns: {error}");
    eprintln!("For more information, try 'ec2-ddns {command} --help'.");
    ExitCode::from(2)
}

/// Parses the command line (clap answers `--help`, `--version` and usage
/// errors itself, with status 0 or 2, before anything is connected) and runs
/// the command.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("ec2-ddns: could not start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(async {
        match cli.command {
            Command::Replay(args) => replay::run(args).await,
            Command::Reconcile(args) => reconcile::run(args).await,
            Command::Scenario(args) => scenario::run(args).await,
            Command::Snapshot(args) => snapshot::run(args).await,
            Command::Hosts(args) => hosts::run(args).await,
            Command::Update(args) => update::run(args).await,
        }
    })
}

/// Exit status 0 when every event was handled, else 1.
pub(crate) fn status(all_ok: bool) -> ExitCode {
    if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
