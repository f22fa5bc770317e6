//! A fleet launched at once, then terminated at once, under Route 53's rate
//! limit: direct invocation (one event per invocation, N at a time, Lambda's
//! asynchronous retries) against buffered mode (an SQS queue feeding batches,
//! redelivery of the failed messages). On the in-memory account with a token
//! bucket in front of Route 53 (`sim::limiter`), on a paused clock: the time
//! printed is simulated, spent waiting for Route 53's tokens, in backoffs and
//! in redeliveries (AWS calls themselves take no time here).
//!
//! ```sh
//! cargo run --release --example burst -- --instances 1000
//! ```
//!
//! `./scripts/bench` runs it and writes the table into BENCHMARKS.md.

use clap::Parser;
use ec2_ddns::adapters::cache::Cached;
use ec2_ddns::event;
use ec2_ddns::model::InstanceState;
use ec2_ddns::registrar::Registrar;
use ec2_ddns::sim::fleet;
use ec2_ddns::sim::limiter::RateLimited;
use ec2_ddns::sim::memory::MemoryAccount;
use ec2_ddns::Config;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::{BTreeSet, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

#[derive(Parser, Debug, Clone)]
#[command(
    about = "A fleet launched then terminated at once, direct against buffered, under Route 53's rate limit (simulated time)"
)]
struct Args {
    /// Instances launched into one VPC, each with an alias.
    #[arg(long, default_value_t = 1000)]
    instances: usize,
    /// Route 53's bucket: requests at once.
    #[arg(long, default_value_t = 5)]
    burst: u32,
    /// Route 53's bucket: requests added per second (the account's rate).
    #[arg(long, default_value_t = 5.0)]
    refill: f64,
    /// Direct mode: invocations at once (Lambda's concurrency for the function).
    #[arg(long, default_value_t = 100)]
    concurrency: usize,
    /// Buffered mode: messages per batch (BatchSize).
    #[arg(long, default_value_t = 1000)]
    batch_size: usize,
    /// Buffered mode: seconds a batch waits to fill (MaximumBatchingWindowInSeconds).
    #[arg(long, default_value_t = 5)]
    window: u64,
    /// Buffered mode: batches at once (ScalingConfig MaximumConcurrency).
    #[arg(long, default_value_t = 2)]
    max_concurrency: usize,
    /// Buffered mode: seconds before a failed message is delivered again.
    #[arg(long, default_value_t = 900)]
    visibility: u64,
    /// Buffered mode: deliveries before a message goes to the dead-letter queue.
    #[arg(long, default_value_t = 5)]
    max_receive: u32,
    /// The function's timeout, in seconds.
    #[arg(long, default_value_t = 60)]
    timeout: u64,
    /// Also write the figures as JSON here.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
}

/// One phase of one mode, in figures.
#[derive(Debug, Clone, Serialize)]
struct Figures {
    mode: &'static str,
    phase: &'static str,
    invocations: usize,
    /// ChangeResourceRecordSets calls Route 53 took (applied or refused).
    change_calls: usize,
    /// Change calls answered `Throttling`.
    throttled: usize,
    /// Reads that waited for a token.
    reads_delayed: usize,
    /// Every AWS call made, all services.
    aws_calls: usize,
    /// Simulated seconds from the first event to the last invocation.
    seconds: f64,
    /// Events given up: Lambda's two retries spent (direct), or the queue's
    /// receives (buffered); they wait in a dead-letter queue for the
    /// reconcile.
    dead_lettered: usize,
    /// Records missing, extra, or not owned by exactly one item at the end.
    records_wrong: usize,
}

type Env = Registrar<Cached<MemoryAccount>, Cached<RateLimited<MemoryAccount>>, MemoryAccount>;

/// One Lambda execution environment: its own clients and cache, the
/// account's one bucket.
fn environment(account: &MemoryAccount, limiter: &RateLimited<MemoryAccount>) -> Env {
    let ttl = Duration::from_secs(60);
    Registrar::new(
        Cached::new(account.clone(), ttl),
        Cached::new(limiter.sharing(account.clone()), ttl),
        account.clone(),
        Config::default(),
        "us-east-1",
    )
}

fn event_json(k: usize, state: InstanceState, seconds: u64) -> Value {
    let time = chrono::DateTime::from_timestamp(1_795_255_200 + seconds as i64, 0);
    event::state_change_json(
        &format!("evt-{k}-{state}"),
        &fleet::instance_id(k),
        state,
        time,
        "us-east-1",
    )
}

/// Records wrong: expected and missing, present and unexpected, or not
/// listed by exactly one registry item.
fn records_wrong(account: &MemoryAccount, expected: &BTreeSet<(String, String)>) -> usize {
    let items = account.registry_items();
    let mut actual = BTreeSet::new();
    let mut unowned = 0;
    for (zone, records) in account.zone_records() {
        for r in records {
            let listed = items
                .values()
                .filter(|i| i.records.iter().any(|o| o.zone_id == zone && o.record == r))
                .count();
            unowned += usize::from(listed != 1);
            actual.insert((zone.to_string(), r.to_string()));
        }
    }
    expected.symmetric_difference(&actual).count() + unowned
}

/// What the invocations of one mode share: how many are at work, how many
/// were made, how many events were given up.
#[derive(Default)]
struct Tally {
    busy: AtomicUsize,
    invocations: AtomicUsize,
    lost: AtomicUsize,
}

impl Tally {
    /// Invocations made, and events given up.
    fn totals(&self) -> (usize, usize) {
        (
            self.invocations.load(Ordering::SeqCst),
            self.lost.load(Ordering::SeqCst),
        )
    }
}

/// Nothing to take now: waits until `next` (at most a second), and says
/// whether to look again; `false` when the queue is empty and no one is
/// at work (nothing can come back).
async fn wait_for_work(next: Option<Instant>, busy: &AtomicUsize) -> bool {
    match next {
        Some(at) => {
            tokio::time::sleep_until(at.min(Instant::now() + Duration::from_secs(1))).await;
            true
        }
        None if busy.load(Ordering::SeqCst) == 0 => false,
        None => {
            tokio::time::sleep(Duration::from_millis(100)).await;
            true
        }
    }
}

/// Direct mode: each event one invocation, `concurrency` at a time; an
/// invocation that fails retryably is retried twice by Lambda (after 1 and 2
/// minutes), then given up.
async fn direct(
    args: &Args,
    account: &MemoryAccount,
    limiter: &RateLimited<MemoryAccount>,
    events: Vec<Value>,
) -> (usize, usize) {
    let queue: Arc<Mutex<VecDeque<(Instant, Value, u32)>>> = Arc::new(Mutex::new(
        events.into_iter().map(|e| (Instant::now(), e, 0)).collect(),
    ));
    let tally = Arc::new(Tally::default());
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..args.concurrency {
        let (queue, tally) = (Arc::clone(&queue), Arc::clone(&tally));
        let env = environment(account, limiter);
        let timeout = args.timeout;
        workers.spawn(async move {
            loop {
                let next = {
                    let mut q = queue.lock().unwrap();
                    let now = Instant::now();
                    match q.iter().position(|(at, _, _)| *at <= now) {
                        Some(i) => {
                            tally.busy.fetch_add(1, Ordering::SeqCst);
                            Ok(q.remove(i).expect("present"))
                        }
                        None => Err(q.iter().map(|(at, _, _)| *at).min()),
                    }
                };
                let (_, payload, attempt) = match next {
                    Ok(work) => work,
                    Err(next) if wait_for_work(next, &tally.busy).await => continue,
                    Err(_) => return,
                };
                tally.invocations.fetch_add(1, Ordering::SeqCst);
                let deadline = Instant::now() + Duration::from_secs(timeout);
                let failed = ec2_ddns_lambda::handle_until(&env, payload.clone(), Some(deadline))
                    .await
                    .is_err();
                if failed {
                    if attempt < 2 {
                        let delay = Duration::from_secs(60 * u64::from(attempt + 1));
                        queue.lock().unwrap().push_back((
                            Instant::now() + delay,
                            payload,
                            attempt + 1,
                        ));
                    } else {
                        tally.lost.fetch_add(1, Ordering::SeqCst);
                    }
                }
                tally.busy.fetch_sub(1, Ordering::SeqCst);
            }
        });
    }
    while workers.join_next().await.is_some() {}
    tally.totals()
}

/// One message in the queue.
struct Message {
    id: String,
    body: String,
    visible_at: Instant,
    received: u32,
    sent_at: Instant,
}

/// Buffered mode: the events go to a queue; up to `max_concurrency`
/// invocations take batches of up to `batch_size` visible messages (a batch
/// goes when full, or when its oldest message has waited `window`); the
/// messages an invocation names in `batchItemFailures` come back after the
/// visibility timeout, up to `max_receive` deliveries.
async fn buffered(
    args: &Args,
    account: &MemoryAccount,
    limiter: &RateLimited<MemoryAccount>,
    events: Vec<Value>,
) -> (usize, usize) {
    let start = Instant::now();
    let queue: Arc<Mutex<Vec<Message>>> = Arc::new(Mutex::new(
        events
            .iter()
            .enumerate()
            .map(|(i, e)| Message {
                id: format!("m-{i}"),
                body: e.to_string(),
                visible_at: start,
                received: 0,
                sent_at: start,
            })
            .collect(),
    ));
    let tally = Arc::new(Tally::default());
    let mut pollers = tokio::task::JoinSet::new();
    for _ in 0..args.max_concurrency {
        let (queue, tally) = (Arc::clone(&queue), Arc::clone(&tally));
        let env = environment(account, limiter);
        let args = args.clone();
        pollers.spawn(async move {
            loop {
                let batch: Result<Vec<(String, String)>, Option<Instant>> = {
                    let mut q = queue.lock().unwrap();
                    let now = Instant::now();
                    let visible: Vec<usize> =
                        (0..q.len()).filter(|i| q[*i].visible_at <= now).collect();
                    let oldest = visible
                        .iter()
                        .map(|i| q[*i].sent_at.max(q[*i].visible_at))
                        .min();
                    let full = visible.len() >= args.batch_size;
                    let waited =
                        oldest.is_some_and(|o| now >= o + Duration::from_secs(args.window));
                    if !visible.is_empty() && (full || waited) {
                        tally.busy.fetch_add(1, Ordering::SeqCst);
                        let taken: Vec<usize> = visible.into_iter().take(args.batch_size).collect();
                        let mut out = Vec::new();
                        for i in taken.iter().rev() {
                            let mut m = q.remove(*i);
                            m.received += 1;
                            out.push((m.id.clone(), m.body.clone()));
                            // In flight: invisible until deleted or the timeout.
                            m.visible_at = now + Duration::from_secs(args.visibility);
                            q.push(m);
                        }
                        Ok(out)
                    } else {
                        let next = q
                            .iter()
                            .map(|m| {
                                if m.visible_at <= now {
                                    m.sent_at.max(m.visible_at) + Duration::from_secs(args.window)
                                } else {
                                    m.visible_at
                                }
                            })
                            .min();
                        Err(next)
                    }
                };
                let batch = match batch {
                    Ok(batch) => batch,
                    Err(next) if wait_for_work(next, &tally.busy).await => continue,
                    Err(_) => return,
                };
                tally.invocations.fetch_add(1, Ordering::SeqCst);
                let payload = json!({"Records": batch.iter().map(|(id, body)| json!({
                    "messageId": id, "receiptHandle": id, "body": body, "attributes": {},
                    "messageAttributes": {}, "eventSource": "aws:sqs",
                    "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:ec2-ddns-events",
                    "awsRegion": "us-east-1"
                })).collect::<Vec<_>>()});
                let deadline = Instant::now() + Duration::from_secs(args.timeout);
                let answer = ec2_ddns_lambda::handle_until(&env, payload, Some(deadline))
                    .await
                    .unwrap_or_default();
                let failed: BTreeSet<String> = answer["batchItemFailures"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|f| f["itemIdentifier"].as_str().map(str::to_string))
                    .collect();
                {
                    let mut q = queue.lock().unwrap();
                    let ids: BTreeSet<&String> = batch.iter().map(|(id, _)| id).collect();
                    let mut dead = 0;
                    q.retain(|m| {
                        if !ids.contains(&m.id) {
                            return true;
                        }
                        // Deleted when done; a failed one waits out its
                        // visibility timeout, or goes to the dead-letter queue.
                        let keep = failed.contains(&m.id) && m.received < args.max_receive;
                        dead += usize::from(failed.contains(&m.id) && !keep);
                        keep
                    });
                    tally.lost.fetch_add(dead, Ordering::SeqCst);
                }
                tally.busy.fetch_sub(1, Ordering::SeqCst);
            }
        });
    }
    while pollers.join_next().await.is_some() {}
    tally.totals()
}

async fn phase(
    args: &Args,
    mode: &'static str,
    name: &'static str,
    account: &MemoryAccount,
    limiter: &RateLimited<MemoryAccount>,
    state: InstanceState,
) -> Figures {
    let offset = if state == InstanceState::Running {
        0
    } else {
        3600
    };
    let events: Vec<Value> = (0..args.instances)
        .map(|k| event_json(k, state, offset))
        .collect();
    account.calls.take();
    let before = limiter.counts();
    let start = Instant::now();
    let (invocations, dead_lettered) = match mode {
        "direct" => direct(args, account, limiter, events).await,
        _ => buffered(args, account, limiter, events).await,
    };
    let seconds = (Instant::now() - start).as_secs_f64();
    let calls = account.calls.take();
    let after = limiter.counts();
    let running: Vec<usize> = if state == InstanceState::Running {
        (0..args.instances).collect()
    } else {
        Vec::new()
    };
    Figures {
        mode,
        phase: name,
        invocations,
        change_calls: calls
            .get("route53:ChangeResourceRecordSets")
            .copied()
            .unwrap_or(0),
        throttled: after.changes_throttled - before.changes_throttled,
        reads_delayed: after.reads_delayed - before.reads_delayed,
        aws_calls: calls.values().sum(),
        seconds,
        dead_lettered,
        records_wrong: records_wrong(account, &fleet::expected_records(running, 60)),
    }
}

async fn mode(args: &Args, mode: &'static str) -> Vec<Figures> {
    let account = MemoryAccount::new(fleet::world(args.instances));
    account.set_writer("ec2-ddns");
    let limiter = RateLimited::new(account.clone(), args.burst, args.refill);
    let launch = phase(
        args,
        mode,
        "launch",
        &account,
        &limiter,
        InstanceState::Running,
    )
    .await;
    account.edit(|w| {
        w.instances
            .iter_mut()
            .for_each(|i| i.state = InstanceState::Terminated)
    });
    let terminate = phase(
        args,
        mode,
        "terminate",
        &account,
        &limiter,
        InstanceState::Terminated,
    )
    .await;
    vec![launch, terminate]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    // Quiet: the registrar's warnings about throttles would be thousands of lines.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()?;
    let figures = runtime.block_on(async {
        let mut all = mode(&args, "direct").await;
        all.extend(mode(&args, "buffered").await);
        all
    });
    println!(
        "{} instances, Route 53 bucket {} at once + {}/s; direct: {} at once; buffered: batches of {}, window {} s, {} at once",
        args.instances, args.burst, args.refill, args.concurrency, args.batch_size, args.window, args.max_concurrency
    );
    println!(
        "{:<9} {:<10} {:>11} {:>12} {:>10} {:>13} {:>9} {:>10} {:>11} {:>13}",
        "mode",
        "phase",
        "invocations",
        "change calls",
        "throttled",
        "reads delayed",
        "AWS calls",
        "seconds",
        "dead-letter",
        "records wrong"
    );
    for f in &figures {
        println!(
            "{:<9} {:<10} {:>11} {:>12} {:>10} {:>13} {:>9} {:>10.1} {:>11} {:>13}",
            f.mode,
            f.phase,
            f.invocations,
            f.change_calls,
            f.throttled,
            f.reads_delayed,
            f.aws_calls,
            f.seconds,
            f.dead_lettered,
            f.records_wrong
        );
    }
    if let Some(path) = &args.json {
        let out = json!({
            "instances": args.instances, "burst": args.burst, "refill_per_second": args.refill,
            "concurrency": args.concurrency, "batch_size": args.batch_size, "window_seconds": args.window,
            "max_concurrency": args.max_concurrency, "figures": figures
        });
        std::fs::write(path, serde_json::to_string_pretty(&out)?)?;
    }
    Ok(())
}
