//! `ec2-ddns scenario`: a world and its steps, played in memory.

use super::output::{print, println};
use super::{render, status, usage_error, OutputArgs};
use crate::sim::memory::MemoryAccount;
use crate::sim::scenario::{self, Performed, Scenario};
use crate::summary::{Outcome, Summary};
use clap::Args;
use std::process::ExitCode;

/// Run a scenario (a world and its steps) in memory, then print the zones
#[derive(Debug, Args)]
#[command(
    after_help = "A scenario file names a world file and lists steps: launch NAME, start NAME, stop NAME,
terminate NAME, tag NAME KEY=VALUE (an empty value removes the tag). Each step changes the world
as EC2 would and sends the matching event through the real registrar.

ECS tasks (the world's tasks): run-task NAME and stop-task NAME send a task state change;
tag-task NAME KEY=VALUE sends nothing (ECS sends no event for a tag); tag-service SERVICE
KEY=VALUE tags the service's tasks not started yet (ECS copies a service's tags at launch).

Drift: lose STEP (the change without its event), delete-record NAME TYPE [ZONE] and
set-record NAME TYPE TTL VALUE[,VALUE] [ZONE] (a person's edit; ZONE is a zone id, needed when
the name falls in several zones), and reconcile (the full pass the schedule runs)."
)]
pub(crate) struct ScenarioArgs {
    /// The scenario file (see fixtures/scenarios/)
    #[arg(value_name = "SCENARIO.json")]
    file: String,
    #[command(flatten)]
    output: OutputArgs,
    #[command(flatten)]
    config: crate::config::ConfigArgs,
}

pub(crate) async fn run(args: ScenarioArgs) -> ExitCode {
    let config = crate::Config::from(args.config.clone());
    let loaded = match Scenario::load(&args.file) {
        Ok(s) => s,
        Err(e) => return usage_error("scenario", e),
    };
    let json = args.output.json_unless_text(false);
    if let (Some(d), false) = (&loaded.description, json) {
        println(&format!("{d}\n"));
    }
    let account = MemoryAccount::new(loaded.world.clone());
    let registrar = account.registrar(config);
    let mut all_ok = true;
    for (n, (text, step)) in loaded.steps.iter().enumerate() {
        if !json {
            println(&format!("> {}", crate::names::escape_controls(text)));
        }
        let performed = account.edit(|world| scenario::perform(world, step, n as u32 + 1));
        let summary = match performed {
            Ok(Performed::Event(change)) => registrar
                .handle(&change)
                .await
                .unwrap_or_else(|e| Summary::failed(Some(&change), &e)),
            Ok(Performed::Task(event)) => registrar
                .handle_task(&account, &event)
                .await
                .unwrap_or_else(|e| Summary::of_task(&event).with_error(&e)),
            Ok(Performed::Reconcile) => {
                let event_id = format!("scenario-{:04}", n + 1);
                all_ok &= super::reconcile::reconcile(&registrar, &account, &event_id, json).await;
                continue;
            }
            Ok(Performed::Quiet(what)) => {
                if json {
                    let line = serde_json::json!({"step": text, "quiet": what});
                    println(&line.to_string());
                } else {
                    println(&format!("    ({})", crate::names::escape_controls(&what)));
                }
                continue;
            }
            Err(e) => Summary::failed(None, &e),
        };
        all_ok &= summary.outcome != Outcome::Error;
        if json {
            println(&serde_json::to_string(&summary).unwrap_or_default());
        } else {
            print(&render::summary_text(&summary));
        }
    }
    if !json {
        println("");
        print(&render::zone_tables(&loaded.world, &account.world()));
    }
    status(all_ok)
}
