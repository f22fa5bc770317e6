//! Calls per event for fleets: a group member (`GROUP`: its own
//! multivalue-answer record set among nine others at one name) and an
//! Auto Scaling lifecycle launch and terminate (the instance converged,
//! then `CompleteLifecycleAction`). The in-memory account of
//! `fixtures/worlds/bench-fleet.json`, behind the warm process's cache as
//! `bootstrap` runs it, every AWS call delayed by the same amount on a
//! paused clock, as in `examples/critical_path.rs`: the simulated time over
//! the delay is the round trips waited for one after another.
//!
//! ```sh
//! cargo run --example fleet_calls                       # print the figures
//! cargo run --example fleet_calls -- --write BENCHMARKS.md
//! ```
//!
//! `--write` puts the figures into that file between the
//! `<!-- examples/fleet_calls -->` markers (`./scripts/bench` keeps them);
//! figures, never a test.

use clap::Parser;
use ec2_ddns::adapters::cache::Cached;
use ec2_ddns::event::{self, LifecycleAction, Transition};
use ec2_ddns::lifecycle::{self, Completion, HookResult};
use ec2_ddns::model::InstanceState;
use ec2_ddns::ports::LifecycleHooks;
use ec2_ddns::registrar::Registrar;
use ec2_ddns::sim::latency::Delayed;
use ec2_ddns::sim::memory::MemoryAccount;
use ec2_ddns::sim::world::World;
use ec2_ddns::Config;
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::time::Instant;

#[derive(Parser, Debug)]
#[command(
    about = "AWS calls and round trips per event for a group member and a lifecycle hook (simulated time)"
)]
struct Args {
    /// The delay of every AWS call, in milliseconds.
    #[arg(long, default_value_t = 100)]
    delay_ms: u64,
    /// The world file: members web-1 … web-10 of one group.
    #[arg(long, default_value = "fixtures/worlds/bench-fleet.json")]
    world: std::path::PathBuf,
    /// Write the figures into this Markdown file, between the markers.
    #[arg(long)]
    write: Option<std::path::PathBuf>,
}

const START: &str = "<!-- examples/fleet_calls -->";
const END: &str = "<!-- /examples/fleet_calls -->";
const GROUP: &str = "web";
const HOOK: &str = "ec2-ddns-launch";

type Ports = Cached<Delayed<MemoryAccount>>;
type Fleet = Registrar<Ports, Ports, Delayed<MemoryAccount>>;

/// Auto Scaling behind the same delay as the other calls.
struct DelayedHooks {
    account: MemoryAccount,
    delay: Duration,
}

impl LifecycleHooks for DelayedHooks {
    async fn complete(
        &self,
        action: &LifecycleAction,
        result: HookResult,
    ) -> ec2_ddns::Result<Completion> {
        tokio::time::sleep(self.delay).await;
        self.account.complete(action, result).await
    }
}

/// One invocation, in figures.
struct Figures {
    what: &'static str,
    process: &'static str,
    outcome: String,
    calls: BTreeMap<String, usize>,
    /// The calls in the order made.
    order: Vec<String>,
    round_trips: f64,
}

impl Figures {
    fn total(&self) -> usize {
        self.calls.values().sum()
    }
}

fn registrar(account: &MemoryAccount, delay: Duration) -> Fleet {
    registrar_with(account, delay, Config::default())
}

fn registrar_with(account: &MemoryAccount, delay: Duration, config: Config) -> Fleet {
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
        config,
        region,
    )
    .with_backoff(Duration::ZERO)
}

fn instance_id(account: &MemoryAccount, n: usize) -> String {
    account.world().instances[n].id.clone()
}

/// What `run` did, measured: its calls (by operation and in order) and
/// its simulated time over the delay.
async fn measure<F: std::future::Future<Output = String>>(
    account: &MemoryAccount,
    what: &'static str,
    process: &'static str,
    delay: Duration,
    run: F,
) -> Figures {
    account.calls.take();
    let before = account.journal().len();
    let start = Instant::now();
    let outcome = run.await;
    let elapsed = start.elapsed();
    Figures {
        what,
        process,
        outcome,
        calls: account.calls.take(),
        order: account.journal()[before..].to_vec(),
        round_trips: elapsed.as_secs_f64() / delay.as_secs_f64(),
    }
}

async fn state_event(
    fleet: &Fleet,
    account: &MemoryAccount,
    n: usize,
    state: InstanceState,
) -> String {
    let id = instance_id(account, n);
    account.edit(|w| w.instances[n].state = state);
    let change = event::parse_instance(event::state_change_json(
        &format!("fleet-{id}-{state}"),
        &id,
        state,
        None,
        &account.world().region,
    ))
    .expect("a state-change event");
    match fleet.handle(&change).await {
        Ok(summary) => summary.outcome.as_str().to_string(),
        Err(e) => format!("error: {e}"),
    }
}

async fn hooked(
    fleet: &Fleet,
    hooks: &DelayedHooks,
    account: &MemoryAccount,
    n: usize,
    transition: Transition,
) -> String {
    let id = instance_id(account, n);
    let token = format!("bench-token-{transition:?}");
    let action = account.start_lifecycle_action(GROUP, HOOK, &id, transition, &token);
    let change = event::parse_instance(event::lifecycle_json(
        &format!("fleet-{id}-{transition:?}"),
        &action,
        None,
        &account.world().region,
    ))
    .expect("a lifecycle event");
    let done = lifecycle::handle(fleet, hooks, &change, &action).await;
    let outcome = match done.converged {
        Ok(s) => s.outcome.as_str().to_string(),
        Err(e) => format!("error: {e}"),
    };
    format!("{outcome}, hook {}", done.hook.as_str())
}

#[tokio::main(flavor = "current_thread", start_paused = true)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let delay = Duration::from_millis(args.delay_ms.max(1));
    let world = World::load(&args.world.to_string_lossy())?;
    let account = MemoryAccount::new(world);
    let members = account.world().instances.len();
    let last = members - 1;
    account.edit(|w| {
        for i in &mut w.instances {
            i.state = InstanceState::Stopped;
        }
    });
    // The other members join first (not measured), through a process of
    // their own, so the measured one's first event is a new process's.
    let others = registrar(&account, delay);
    for n in 0..last {
        state_event(&others, &account, n, InstanceState::Running).await;
    }
    let fleet = registrar(&account, delay);
    let hooks = DelayedHooks {
        account: account.clone(),
        delay,
    };
    let mut figures = vec![
        measure(
            &account,
            "group member `running`",
            "cold",
            delay,
            state_event(&fleet, &account, last, InstanceState::Running),
        )
        .await,
        measure(
            &account,
            "group member `terminated`",
            "warm",
            delay,
            state_event(&fleet, &account, last, InstanceState::Terminated),
        )
        .await,
    ];
    account.edit(|w| w.instances[last].state = InstanceState::Stopped);
    figures.push(
        measure(
            &account,
            "group member `running`",
            "warm",
            delay,
            state_event(&fleet, &account, last, InstanceState::Running),
        )
        .await,
    );
    figures.push(
        measure(
            &account,
            "group member `stopped`",
            "warm",
            delay,
            state_event(&fleet, &account, last, InstanceState::Stopped),
        )
        .await,
    );
    // A lifecycle launch: the instance runs (Pending:Wait) and waits for
    // its records, then for the hook's completion.
    account.edit(|w| w.instances[last].state = InstanceState::Running);
    figures.push(
        measure(
            &account,
            "lifecycle launch",
            "warm",
            delay,
            hooked(&fleet, &hooks, &account, last, Transition::Launching),
        )
        .await,
    );
    figures.push(
        measure(
            &account,
            "lifecycle terminate",
            "warm",
            delay,
            hooked(&fleet, &hooks, &account, last, Transition::Terminating),
        )
        .await,
    );
    // The same launch with DDNS_WAIT_INSYNC=true, in a process of its own
    // (cold), each batch PENDING for two GetChange reads (the pauses
    // between polls are left out here).
    let waiting = registrar_with(
        &account,
        delay,
        Config::from_lookup(|k| (k == "DDNS_WAIT_INSYNC").then(|| "true".to_string()))?,
    );
    account.set_propagation_polls(2);
    figures.push(
        measure(
            &account,
            "lifecycle launch, `DDNS_WAIT_INSYNC=true`",
            "cold",
            delay,
            hooked(&waiting, &hooks, &account, last, Transition::Launching),
        )
        .await,
    );

    let lines = report(&figures, members, delay);
    for line in &lines {
        println!("{line}");
    }
    if let Some(path) = &args.write {
        write_between_markers(path, &lines)?;
        println!("written into {}", path.display());
    }
    Ok(())
}

/// The section, in Markdown.
fn report(figures: &[Figures], members: usize, delay: Duration) -> Vec<String> {
    let mut lines = vec![
        START.to_string(),
        "## 5. Fleets: a group member and a lifecycle hook".into(),
        String::new(),
        format!(
            "`examples/fleet_calls.rs` (`cargo run --example fleet_calls -- --write BENCHMARKS.md`): `fixtures/worlds/bench-fleet.json` on the in-memory account, behind the warm process's cache, every AWS call delayed by {} ms on a paused clock, as in section 2. {} instances share the group name `web.fleet.example.` (`GROUP` tag: one multivalue-answer record set each); the other {} join first, then the last one's events are measured. Its records: host A and PTR, and its own A record set at the group name (3 records, 2 zones).",
            delay.as_millis(),
            members,
            members - 1
        ),
        String::new(),
        "| event | process | outcome | AWS calls | round trips | calls by operation |".into(),
        "|---|---|---|---:|---:|---|".into(),
    ];
    for f in figures {
        let by: Vec<String> = f
            .calls
            .iter()
            .map(|(op, n)| format!("{} {n}", op.split(':').nth(1).unwrap_or(op)))
            .collect();
        lines.push(format!(
            "| {} | {} | {} | {} | {:.1} | {} |",
            f.what,
            f.process,
            f.outcome,
            f.total(),
            f.round_trips,
            by.join(", ")
        ));
    }
    for f in figures
        .iter()
        .filter(|f| f.what.starts_with("lifecycle launch"))
    {
        lines.push(String::new());
        lines.push(format!("Order of calls, {}:", f.what));
        lines.push(String::new());
        lines.push("```text".into());
        for (i, call) in f.order.iter().enumerate() {
            lines.push(format!("{:>2}. {call}", i + 1));
        }
        lines.push("```".into());
    }
    lines.push(String::new());
    lines.push("A member costs what any instance costs: its group record set rides in the same batch as its host A (one change call per zone), and the other members' record sets are neither read one by one nor touched. The lifecycle launch is a warm `running` plus `CompleteLifecycleAction`, last, after the item is finished: one round trip more. With `DDNS_WAIT_INSYNC=true` and every batch PENDING for two reads, the launch asks `GetChange` until each of its two batches reads INSYNC, then completes the hook; in AWS the polls are 2 s, 4 s, 8 s, then 10 s apart (left out of the round trips here), and Route 53 usually syncs within a minute.".into());
    lines.push(END.to_string());
    lines
}

/// Replaces the section between the markers in `path` (or appends it).
fn write_between_markers(path: &std::path::Path, lines: &[String]) -> std::io::Result<()> {
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let section = lines.join("\n");
    let new = match (old.find(START), old.find(END)) {
        (Some(s), Some(e)) if s < e => format!("{}{section}{}", &old[..s], &old[e + END.len()..]),
        _ => format!("{}\n{section}\n", old.trim_end()),
    };
    std::fs::write(path, new)
}
