//! The command line: clap arguments, one struct per command (so a flag that
//! means nothing to a command is refused there), one file per command, and
//! the rendering they share. `bin/ec2-ddns.rs` only calls [`main`].
//!
//! Exit status: 0 when every event was handled (conflicts included), 1 when
//! some event ended in error or an AWS read failed, 2 for bad usage,
//! configuration or input files. `status` answers with its verdict: 0
//! healthy, 1 not, 2 bad usage or a failed read.

pub mod client;
mod hosts;
mod output;
mod reconcile;
mod reference;
pub mod render;
mod replay;
mod scenario;
mod snapshot;
mod status;
mod update;

use crate::adapters::aws::ConnectOptions;
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use std::process::ExitCode;

/// Dynamic DNS for Route 53, driven by EC2 state and tag changes
#[derive(Debug, Parser)]
#[command(
    name = "ec2-ddns",
    version,
    max_term_width = 100,
    after_help = "The commands run the registrar the Lambda function runs, against a world file (an account in\nmemory), an emulator, or the account in your environment.\n\nExit status: 0 every event handled (conflicts included), 1 some event ended in error or an AWS\nread failed, 2 bad usage, configuration or input file (status: 0 healthy, 1 not, 2 a failed read).\nMore: ec2-ddns help COMMAND, docs/cli.md."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Replay(replay::ReplayArgs),
    Reconcile(reconcile::ReconcileArgs),
    Status(status::StatusArgs),
    Scenario(scenario::ScenarioArgs),
    Snapshot(snapshot::SnapshotArgs),
    Hosts(hosts::HostsArgs),
    Update(update::UpdateArgs),
    Completions(reference::CompletionsArgs),
    Manpage(reference::ManpageArgs),
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
    let cli = parse();
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
            Command::Status(args) => status::run(args).await,
            Command::Scenario(args) => scenario::run(args).await,
            Command::Snapshot(args) => snapshot::run(args).await,
            Command::Hosts(args) => hosts::run(args).await,
            Command::Update(args) => update::run(args).await,
            Command::Completions(args) => reference::completions(args),
            Command::Manpage(args) => reference::manpage(args),
        }
    })
}

/// The command line, parsed as `Cli::parse` would, except that a blank
/// variable counts as unset (`config::blank_variables_unset`), as the Lambda
/// function reads it.
fn parse() -> Cli {
    let mut command = crate::config::blank_variables_unset(Cli::command());
    let parsed = command
        .try_get_matches_from_mut(std::env::args_os())
        .and_then(|matches| Cli::from_arg_matches(&matches));
    parsed.unwrap_or_else(|e| e.format(&mut command).exit())
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

    /// Every numeric flag of every command takes `-1` as its value (not as
    /// a flag), so that its parser answers with the valid range rather than
    /// clap's "to pass '-1' as a value, use '-- -1'" (found by attack).
    #[test]
    fn every_numeric_flag_takes_a_negative_value_to_refuse_it() {
        fn walk(command: &clap::Command, path: &str, numeric: &mut Vec<String>) {
            let numbers = [
                clap::builder::ValueParser::from(clap::value_parser!(u8)).type_id(),
                clap::builder::ValueParser::from(clap::value_parser!(u16)).type_id(),
                clap::builder::ValueParser::from(clap::value_parser!(u32)).type_id(),
                clap::builder::ValueParser::from(clap::value_parser!(u64)).type_id(),
                clap::builder::ValueParser::from(clap::value_parser!(usize)).type_id(),
                clap::builder::ValueParser::from(clap::value_parser!(i32)).type_id(),
                clap::builder::ValueParser::from(clap::value_parser!(i64)).type_id(),
            ];
            for arg in command.get_arguments() {
                if numbers.contains(&arg.get_value_parser().type_id()) {
                    let flag = format!("{path} --{}", arg.get_long().unwrap_or_default());
                    assert!(arg.is_allow_negative_numbers_set(), "{flag}");
                    numeric.push(flag);
                }
            }
            for sub in command.get_subcommands() {
                walk(sub, &format!("{path} {}", sub.get_name()), numeric);
            }
        }
        let mut numeric = Vec::new();
        walk(&Cli::command(), "ec2-ddns", &mut numeric);
        assert!(
            numeric.contains(&"ec2-ddns replay --ttl".to_string()),
            "the walk finds them: {numeric:?}"
        );
    }
}
