//! Calls per ECS task event: a Fargate service's task started (a cold
//! process, then a warm one), the same event again, a task stopped, a
//! buffered batch of 100 task launches, and the reconcile over them. The
//! in-memory account of `fixtures/worlds/fargate.json`, behind the warm
//! process's cache as `bootstrap` runs it, every AWS call delayed by the
//! same amount on a paused clock, as in `examples/critical_path.rs`.
//!
//! ```sh
//! cargo run --example task_calls                       # print the figures
//! cargo run --example task_calls -- --write BENCHMARKS.md
//! ```
//!
//! `--write` puts the figures into that file between the
//! `<!-- examples/task_calls -->` markers (`./scripts/bench` keeps them);
//! figures, never a test.

use clap::Parser;
use ec2_ddns::adapters::cache::Cached;
use ec2_ddns::event;
use ec2_ddns::ports::HooksAndTasks;
use ec2_ddns::registrar::Registrar;
use ec2_ddns::sim::latency::Delayed;
use ec2_ddns::sim::memory::MemoryAccount;
use ec2_ddns::sim::world::{TaskStatus, World};
use ec2_ddns::Config;
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::time::Instant;

#[derive(Parser, Debug)]
#[command(about = "AWS calls and round trips per ECS task event (simulated time)")]
struct Args {
    /// The delay of every AWS call, in milliseconds.
    #[arg(long, default_value_t = 100)]
    delay_ms: u64,
    /// The world file: a cluster `prod` with the service `web`'s tasks.
    #[arg(long, default_value = "fixtures/worlds/fargate.json")]
    world: std::path::PathBuf,
    /// Tasks launched at once in the buffered batch.
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// Write the figures into this Markdown file, between the markers.
    #[arg(long)]
    write: Option<std::path::PathBuf>,
}

const START: &str = "<!-- examples/task_calls -->";
const END: &str = "<!-- /examples/task_calls -->";

type Ports = Cached<Delayed<MemoryAccount>>;
type Service = Registrar<Ports, Ports, Delayed<MemoryAccount>>;

/// One invocation, in figures.
struct Figures {
    what: String,
    process: &'static str,
    outcome: String,
    calls: BTreeMap<String, usize>,
    order: Vec<String>,
    round_trips: f64,
}

fn config() -> Config {
    Config::from_lookup(|k| (k == "DDNS_DEFAULT_ZONE").then(|| "corp.example".to_string()))
        .expect("settings")
}

/// A registrar as a new Lambda process has it: caches empty.
fn registrar(account: &MemoryAccount, delay: Duration) -> Service {
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
        config(),
        region,
    )
    .with_backoff(Duration::ZERO)
}

/// What `run` did: its calls (by operation and in order) and its
/// simulated time over the delay.
async fn measure<F: std::future::Future<Output = String>>(
    account: &MemoryAccount,
    what: impl Into<String>,
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
        what: what.into(),
        process,
        outcome,
        calls: account.calls.take(),
        order: account.journal()[before..].to_vec(),
        round_trips: elapsed.as_secs_f64() / delay.as_secs_f64(),
    }
}

/// The task `name` at `status`, and its state change as ECS sends it.
fn task_event(account: &MemoryAccount, name: &str, status: TaskStatus) -> serde_json::Value {
    account.edit(|w| w.find_task_mut(name).expect("a task").status = status);
    let world = account.world();
    let task = world.task_facts(world.find_task(name).expect("a task"));
    event::task_state_change_json(
        &format!("bench-{name}-{}", status.as_str()),
        &task,
        None,
        &world.region,
    )
}

/// The ports `bootstrap` lends each invocation beside the registrar: Auto
/// Scaling's hooks (unused here) and ECS, behind the same delay.
type Lent = HooksAndTasks<MemoryAccount, Delayed<MemoryAccount>>;

fn lent(account: &MemoryAccount, delay: Duration) -> Lent {
    HooksAndTasks {
        hooks: account.clone(),
        tasks: Delayed::new(account.clone(), delay),
    }
}

/// One event through the Lambda handler, as `bootstrap` runs it.
async fn direct(service: &Service, ports: &Lent, payload: serde_json::Value) -> String {
    let answer = ec2_ddns_lambda::handle_hooked(
        service,
        ports,
        payload,
        None,
        &mut ec2_ddns_lambda::tally::Tally::default(),
    )
    .await;
    match answer {
        Ok(summary) => summary["outcome"].as_str().unwrap_or("?").to_string(),
        Err(e) => format!("error: {e}"),
    }
}

#[tokio::main(flavor = "current_thread", start_paused = true)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let delay = Duration::from_millis(args.delay_ms.max(1));
    let world = World::load(&args.world.to_string_lossy())?;
    let account = MemoryAccount::new(world);
    let mut figures = Vec::new();

    let cold = registrar(&account, delay);
    let ports = lent(&account, delay);
    let payload = task_event(&account, "web-1", TaskStatus::Running);
    figures.push(
        measure(
            &account,
            "service task `RUNNING` (group name, both views)",
            "cold",
            delay,
            direct(&cold, &ports, payload.clone()),
        )
        .await,
    );
    figures.push(
        measure(
            &account,
            "the same event again",
            "warm",
            delay,
            direct(&cold, &ports, payload),
        )
        .await,
    );
    let payload = task_event(&account, "web-2", TaskStatus::Running);
    figures.push(
        measure(
            &account,
            "service task `RUNNING`",
            "warm",
            delay,
            direct(&cold, &ports, payload),
        )
        .await,
    );
    let payload = task_event(&account, "web-2", TaskStatus::Stopped);
    figures.push(
        measure(
            &account,
            "service task `STOPPED`",
            "warm",
            delay,
            direct(&cold, &ports, payload),
        )
        .await,
    );

    // The service scales out by `batch` tasks at once; buffered mode hands
    // their events to one invocation.
    let names: Vec<String> = account.edit(|w| {
        let template = w.find_task("web-1").expect("web-1").clone();
        (0..args.batch)
            .map(|k| {
                let mut task = template.clone();
                task.id = format!("{:032x}", 0xbe_0000 + k);
                task.name = Some(format!("web-x{k}"));
                task.private_ip = Some(std::net::Ipv4Addr::new(
                    10,
                    20,
                    1 + (k / 200) as u8,
                    20 + (k % 200) as u8,
                ));
                task.public_ip = Some(std::net::Ipv4Addr::new(
                    34,
                    201,
                    (k / 250) as u8,
                    1 + (k % 250) as u8,
                ));
                task.status = TaskStatus::Provisioning;
                w.tasks.push(task);
                format!("web-x{k}")
            })
            .collect()
    });
    let bodies: Vec<serde_json::Value> = names
        .iter()
        .map(|name| task_event(&account, name, TaskStatus::Running))
        .collect();
    let batch = serde_json::json!({
        "Records": bodies.iter().enumerate().map(|(k, body)| serde_json::json!({
            "messageId": format!("m{k}"),
            "receiptHandle": "r",
            "body": body.to_string(),
            "attributes": {},
            "messageAttributes": {},
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:ec2-ddns",
            "awsRegion": "us-east-1"
        })).collect::<Vec<_>>()
    });
    let batched = async {
        let answer = ec2_ddns_lambda::buffered::handle_batch(
            &cold,
            &ports,
            &batch,
            None,
            &mut ec2_ddns_lambda::tally::Tally::default(),
        )
        .await;
        let redelivered = answer["batchItemFailures"].as_array().map_or(0, Vec::len);
        format!("applied, {redelivered} redelivered")
    };
    figures.push(
        measure(
            &account,
            format!("SQS batch of {} task launches", args.batch),
            "warm",
            delay,
            batched,
        )
        .await,
    );
    let reconciled = async {
        match cold.reconcile_with(&ports, "bench", None).await {
            Ok(done) => format!(
                "{} tasks seen, {} changed",
                done.totals.tasks_seen, done.totals.changed
            ),
            Err(e) => format!("error: {e}"),
        }
    };
    figures.push(
        measure(
            &account,
            "the reconcile (every task listed)",
            "warm",
            delay,
            reconciled,
        )
        .await,
    );

    let lines = report(&figures, args.batch, delay);
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
fn report(figures: &[Figures], batch: usize, delay: Duration) -> Vec<String> {
    let mut lines = vec![
        START.to_string(),
        "## 6. ECS tasks: calls per task event".into(),
        String::new(),
        format!(
            "`examples/task_calls.rs` (`cargo run --example task_calls -- --write BENCHMARKS.md`): `fixtures/worlds/fargate.json` on the in-memory account, behind the warm process's cache, every AWS call delayed by {} ms on a paused clock, as in section 2, through the Lambda handler (`handle_hooked`, the ECS port lent as `bootstrap` lends it). The service `web`'s public Fargate tasks share `web.corp.example.` (`GROUP`): each task its own multivalue A record set in the private and in the public zone. A task's read is `ecs:DescribeTasks` then `ec2:DescribeNetworkInterfaces` (its public address); both wait behind one delay here, so a task event's round trips are one fewer than in AWS.",
            delay.as_millis()
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
            f.calls.values().sum::<usize>(),
            f.round_trips,
            by.join(", ")
        ));
    }
    if let Some(f) = figures.iter().find(|f| f.process == "cold") {
        lines.push(String::new());
        lines.push(format!("Order of calls, {} ({}):", f.what, f.process));
        lines.push(String::new());
        lines.push("```text".into());
        for (i, call) in f.order.iter().enumerate() {
            lines.push(format!("{:>2}. {call}", i + 1));
        }
        lines.push("```".into());
    }
    lines.push(String::new());
    lines.push(format!("A task costs what an instance costs, with `DescribeTasks` and `DescribeNetworkInterfaces` where an instance has `DescribeInstances`; a stop is final (a task never runs again), so it is not described. The batch of {batch} launches is one `DescribeTasks` (100 tasks a call) and one `DescribeNetworkInterfaces` (200 a call), the items read and written 100 at a time, and one `ChangeResourceRecordSets` per zone for all of them."));
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
