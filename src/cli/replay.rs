//! `ec2-ddns replay`: each event file, in order, through the registrar.

use super::output::{print, println};
use super::{render, status, usage_error, AwsArgs, OutputArgs};
use crate::adapters::aws;
use crate::calls::{self, CallLog};
use crate::event::{self, Event};
use crate::ports::{Dns, Instances, Registry, Tasks};
use crate::registrar::Registrar;
use crate::sim::memory::MemoryAccount;
use crate::sim::world::{read_file, World};
use crate::summary::{Outcome, Summary};
use crate::Error;
use clap::Args;
use std::process::ExitCode;

/// Handle each event file in order, against a world file, an emulator or the account
#[derive(Debug, Args)]
#[command(
    after_help = "Each file holds one EventBridge event (see fixtures/events/). Output: one JSON line per event;
with --world, readable lines and then the zones as tables. Without --world or --endpoint-url,
the account in the environment is used, and said so on stderr."
)]
pub(crate) struct ReplayArgs {
    /// EventBridge event files, handled in order
    #[arg(value_name = "EVENT.json", required = true)]
    events: Vec<String>,
    /// An account in memory, loaded from a world file: nothing leaves this machine
    #[arg(long, value_name = "FILE", conflicts_with_all = ["endpoint_url", "region"])]
    world: Option<String>,
    #[command(flatten)]
    aws: AwsArgs,
    /// Read and plan, write nothing
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    output: OutputArgs,
    /// Print the AWS calls of each event to stderr
    #[arg(long)]
    stats: bool,
    #[command(flatten)]
    config: crate::config::ConfigArgs,
}

pub(crate) async fn run(args: ReplayArgs) -> ExitCode {
    let config = crate::Config::from(args.config.clone());
    match &args.world {
        Some(world_file) => {
            let world = match World::load(world_file) {
                Ok(w) => w,
                Err(e) => return usage_error("replay", e),
            };
            let account = MemoryAccount::new(world.clone());
            let registrar = account.registrar(config).with_dry_run(args.dry_run);
            let json = args.output.json_unless_text(false);
            let ok = replay(&registrar, &account, &args, json, &account.calls).await;
            if !json {
                println("");
                print(&render::zone_tables(&world, &account.world()));
            }
            status(ok)
        }
        None => {
            args.aws.announce(if args.dry_run {
                "dry run: reads only"
            } else {
                "records WILL be written"
            });
            let account = match aws::connect_for(&args.aws.options(), &config).await {
                Ok(account) => account,
                Err(e) => return usage_error("replay", e),
            };
            let calls = account.calls.clone();
            let tasks = account.tasks.clone();
            let registrar = account.registrar(config).with_dry_run(args.dry_run);
            status(
                replay(
                    &registrar,
                    &tasks,
                    &args,
                    args.output.json_unless_text(true),
                    &calls,
                )
                .await,
            )
        }
    }
}

/// Replays every event file through `registrar` (ECS tasks through
/// `tasks`), printing as asked; true when no event ended in error.
async fn replay<E, D, R, T>(
    registrar: &Registrar<E, D, R>,
    tasks: &T,
    args: &ReplayArgs,
    json: bool,
    calls: &CallLog,
) -> bool
where
    E: Instances + Sync,
    D: Dns + Sync,
    R: Registry + Sync,
    T: Tasks + Sync,
{
    let mut all_ok = true;
    for file in &args.events {
        let change = read_file(file).and_then(|text| {
            event::parse_str(&text).map_err(|e| match e {
                Error::BadEvent(m) => Error::BadEvent(format!("{file}: {m}")),
                other => other,
            })
        });
        let mut summary = match change {
            Err(e) => Summary::unreadable_event(&e),
            Ok(Event::Scheduled { event_id, .. }) => {
                // A schedule's event: the full reconcile, printed as the
                // reconcile command prints it.
                all_ok &= super::reconcile::reconcile(registrar, tasks, &event_id, json).await;
                continue;
            }
            Ok(Event::Ignored { event_id, reason }) => Summary::ignored(&event_id, reason),
            Ok(Event::Instance(change)) => match registrar.handle_anywhere(&change).await {
                Ok(s) => s,
                Err(e) => Summary::failed(Some(&change), &e),
            },
            Ok(Event::Task(change)) => match registrar.handle_task_anywhere(tasks, &change).await {
                Ok(s) => s,
                Err(e) => Summary::of_task(&change).with_error(&e),
            },
        };
        summary.source = Some(file.clone());
        all_ok &= summary.outcome != Outcome::Error;
        for w in &summary.warnings {
            eprintln!(
                "ec2-ddns: warning: {file}: {}",
                crate::names::escape_controls(w)
            );
        }
        if json {
            println(&serde_json::to_string(&summary).unwrap_or_default());
        } else {
            print(&render::summary_text(&summary));
        }
        if args.stats {
            eprintln!("aws calls for {file}: {}", calls::stats_line(&calls.take()));
        }
    }
    all_ok
}
