//! The critical path of one event: how many AWS round trips an invocation
//! waits for one after the other. Every AWS call of the in-memory account
//! takes the same delay (`sim::latency`), the clock is paused, and the
//! simulated time an invocation takes, divided by the delay, is its round
//! trips: calls made at once count once. The world is the benchmark's
//! (`fixtures/worlds/bench.json`: one instance with an alias, a forward and
//! a reverse zone), behind the warm process's cache, as `bootstrap` runs.
//!
//! ```sh
//! cargo run --example critical_path -- --json target/bench/critical.json
//! ```
//!
//! `./scripts/bench` runs it and writes the figures into BENCHMARKS.md.

use clap::Parser;
use ec2_ddns::adapters::cache::Cached;
use ec2_ddns::event;
use ec2_ddns::model::InstanceState;
use ec2_ddns::registrar::Registrar;
use ec2_ddns::sim::latency::Delayed;
use ec2_ddns::sim::memory::MemoryAccount;
use ec2_ddns::sim::world::World;
use ec2_ddns::Config;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::time::Instant;

#[derive(Parser, Debug)]
#[command(about = "Round trips of one event on the critical path, warm and cold (simulated time)")]
struct Args {
    /// The delay of every AWS call, in milliseconds.
    #[arg(long, default_value_t = 100)]
    delay_ms: u64,
    /// The world file.
    #[arg(long, default_value = "fixtures/worlds/bench.json")]
    world: std::path::PathBuf,
    /// Also write the figures as JSON here.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
}

/// One invocation, in figures.
#[derive(Debug, Serialize)]
struct Figures {
    event: &'static str,
    /// `cold` (a new process: nothing cached) or `warm`.
    process: &'static str,
    outcome: String,
    aws_calls: usize,
    calls_by_operation: BTreeMap<String, usize>,
    /// Simulated time over the delay: calls waited for one after another.
    round_trips: f64,
}

type Ports = Cached<Delayed<MemoryAccount>>;

fn registrar(
    account: &MemoryAccount,
    delay: Duration,
) -> Registrar<Ports, Ports, Delayed<MemoryAccount>> {
    let region = account.world().region;
    let cached = || {
        Cached::new(
            Delayed::new(account.clone(), delay),
            Duration::from_secs(3600),
        )
    };
    Registrar::new(
        cached(),
        cached(),
        Delayed::new(account.clone(), delay),
        Config::default(),
        region,
    )
}

async fn invoke(
    registrar: &Registrar<Ports, Ports, Delayed<MemoryAccount>>,
    account: &MemoryAccount,
    state: InstanceState,
    process: &'static str,
    delay: Duration,
) -> Result<Figures, Box<dyn std::error::Error>> {
    let instance_id = account.world().instances[0].id.clone();
    let change = event::parse_instance(event::state_change_json(
        &format!("bench-{state}-{process}"),
        &instance_id,
        state,
        None,
        &account.world().region,
    ))?;
    account.edit(|w| w.instances[0].state = state);
    account.calls.take();
    let start = Instant::now();
    let summary = registrar.handle(&change).await?;
    let elapsed = start.elapsed();
    let calls = account.calls.take();
    Ok(Figures {
        event: state.as_str(),
        process,
        outcome: summary.outcome.as_str().to_string(),
        aws_calls: calls.values().sum(),
        calls_by_operation: calls,
        round_trips: elapsed.as_secs_f64() / delay.as_secs_f64(),
    })
}

#[tokio::main(flavor = "current_thread", start_paused = true)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let delay = Duration::from_millis(args.delay_ms.max(1));
    let world = World::load(&args.world.to_string_lossy())?;
    let account = MemoryAccount::new(world);
    // A new process, then the same process again (its cache warm); the
    // terminated event reads no zones, so a new process's is the same.
    let process = registrar(&account, delay);
    let figures = vec![
        invoke(&process, &account, InstanceState::Running, "cold", delay).await?,
        invoke(&process, &account, InstanceState::Terminated, "warm", delay).await?,
        invoke(&process, &account, InstanceState::Running, "warm", delay).await?,
        invoke(&process, &account, InstanceState::Terminated, "warm", delay).await?,
    ];
    println!(
        "{:<11} {:<5} {:<9} {:>5} {:>11}  calls",
        "event", "", "outcome", "calls", "round trips"
    );
    for f in &figures {
        let by: Vec<String> = f
            .calls_by_operation
            .iter()
            .map(|(op, n)| format!("{op} {n}"))
            .collect();
        println!(
            "{:<11} {:<5} {:<9} {:>5} {:>11.1}  {}",
            f.event,
            f.process,
            f.outcome,
            f.aws_calls,
            f.round_trips,
            by.join(", ")
        );
    }
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&figures)?)?;
    }
    Ok(())
}
