//! `ec2-ddns reconcile`: the full pass the schedule runs in the Lambda
//! function: every instance and registry item converged to the live state.

use super::output::{print, println};
use super::{render, status, usage_error, AwsArgs, OutputArgs};
use crate::adapters::aws;
use crate::ports::{Dns, Instances, Registry, Tasks};
use crate::registrar::{Reconciled, Registrar};
use crate::sim::memory::MemoryAccount;
use crate::sim::world::World;
use clap::Args;
use std::process::ExitCode;

/// Converge every instance and registry item to the live state, as the schedule does
#[derive(Debug, Args)]
#[command(
    after_help = "Lists every instance, every registry item and the zones they need; registers running instances
that were missed, removes what gone or stopped instances still own, re-creates an owned record
someone deleted, releases one someone changed, and hands a free name to the earliest-launched
claimant. ECS tasks are converged in the same pass (DDNS_TASKS=false: left alone).
Output: one line per instance or task changed, in conflict or in error (the shape of replay),
then a line of totals. With --world, text and then the zones as tables; else JSON lines.
Exit status: 0 when it completed (conflicts included), 1 when an instance or a read failed."
)]
pub(crate) struct ReconcileArgs {
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
    #[command(flatten)]
    config: crate::config::ConfigArgs,
}

pub(crate) async fn run(args: ReconcileArgs) -> ExitCode {
    let config = crate::Config::from(args.config.clone());
    match &args.world {
        Some(world_file) => {
            let world = match World::load(world_file) {
                Ok(w) => w,
                Err(e) => return usage_error("reconcile", e),
            };
            let account = MemoryAccount::new(world.clone());
            let registrar = account.registrar(config).with_dry_run(args.dry_run);
            let json = args.output.json_unless_text(false);
            // A rehearsal's output does not depend on the clock.
            let ok = reconcile(&registrar, &account, "reconcile", json).await;
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
                Err(e) => return usage_error("reconcile", e),
            };
            let tasks = account.tasks.clone();
            let registrar = account.registrar(config).with_dry_run(args.dry_run);
            let event_id = format!(
                "reconcile-{}",
                crate::model::format_time(&chrono::Utc::now())
            );
            let json = args.output.json_unless_text(true);
            status(reconcile(&registrar, &tasks, &event_id, json).await)
        }
    }
}

/// Runs one reconcile (ECS tasks through `tasks`) and prints it; true
/// when nothing failed.
pub(crate) async fn reconcile<E, D, R, T>(
    registrar: &Registrar<E, D, R>,
    tasks: &T,
    event_id: &str,
    json: bool,
) -> bool
where
    E: Instances + Sync,
    D: Dns + Sync,
    R: Registry + Sync,
    T: Tasks + Sync,
{
    match registrar.reconcile_everywhere(tasks, event_id, None).await {
        Ok(done) => {
            print_reconciled(&done, json);
            done.totals.errors == 0
        }
        Err(e) => {
            eprintln!("ec2-ddns: reconcile failed: {e}");
            false
        }
    }
}

/// One line per instance reported, then the totals; warnings on stderr.
pub(crate) fn print_reconciled(done: &Reconciled, json: bool) {
    for w in &done.warnings {
        eprintln!("ec2-ddns: warning: {}", crate::names::escape_controls(w));
    }
    for s in done.reported() {
        for w in &s.warnings {
            eprintln!(
                "ec2-ddns: warning: {}: {}",
                s.instance_id,
                crate::names::escape_controls(w)
            );
        }
        if json {
            println(&serde_json::to_string(s).unwrap_or_default());
        } else {
            print(&render::summary_text(s));
        }
    }
    if json {
        println(&serde_json::to_string(&done.totals).unwrap_or_default());
    } else {
        println(&render::totals_text(&done.totals));
    }
}
