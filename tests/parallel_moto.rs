//! The worst concurrent cases of `tests/interleavings.rs` and the
//! concurrent property test, with real invocations at once on the strict
//! emulator: each invocation its own registrar (its own AWS clients, as
//! each Lambda invocation has), all started together as tokio tasks on a
//! multi-threaded runtime, their requests in flight together to moto
//! behind our strict launcher. Here the order is whatever the machine
//! gives, not a schedule: a smoke check that the scheduler models what
//! matters. Each case runs `PARALLEL_ROUNDS` rounds (default 4) on a fresh
//! seed of its world, and after each round:
//!
//! 1. the world's own records are all there, unchanged;
//! 2. every other record in the zones is listed by a registry item (owned
//!    or pending);
//! 3. no two items own one record;
//! 4. every invocation ended in a summary or a retryable error;
//!
//! then a reconcile converges, and a second changes nothing.

mod common;

use common::{moto_account, moto_endpoint, moto_env, state_change, tag_change, ZoneDump};
use ec2_ddns::adapters::aws::{dynamodb::DynamoRegistry, ec2::Ec2, route53::Route53};
use ec2_ddns::model::{InstanceState, RecordSet, ZoneId};
use ec2_ddns::ports::Registry;
use ec2_ddns::registrar::Reconciled;
use ec2_ddns::sim::world::World;
use ec2_ddns::summary::Summary;
use ec2_ddns::{Config, Error};
use std::collections::BTreeMap;

type MotoEnv = common::Env<Ec2, Route53, DynamoRegistry>;

/// How an invocation ended.
enum Ended {
    Event(Result<Summary, Error>),
    Reconcile(Result<Reconciled, Error>),
}

impl Ended {
    /// The error that fails it with no retry to come, if any.
    fn failed_for_good(&self) -> Option<String> {
        let err = match self {
            Ended::Event(Err(e)) | Ended::Reconcile(Err(e)) => e,
            Ended::Reconcile(Ok(done)) => {
                return done
                    .summaries
                    .iter()
                    .find(|s| s.retryable == Some(false))
                    .map(|s| format!("{s:?}"))
            }
            Ended::Event(Ok(_)) => return None,
        };
        (!err.is_retryable()).then(|| err.to_string())
    }
}

/// What one invocation does.
#[derive(Clone)]
enum Job {
    Running(&'static str),
    Stopped(&'static str),
    Terminated(&'static str),
    /// A tag-change event for the instance's `key`.
    Tagged(&'static str, &'static str),
    Reconcile,
}

/// What EC2 does before the invocations start (the live state they read).
#[derive(Clone, Copy)]
enum Live {
    Nothing,
    State(&'static str, InstanceState),
    Tag(&'static str, &'static str, &'static str),
}

struct Case {
    name: &'static str,
    world: &'static str,
    /// Run alone first: what the case starts from.
    before: &'static [Job],
    live: &'static [Live],
    /// Started together.
    at_once: &'static [Job],
}

fn rounds() -> usize {
    std::env::var("PARALLEL_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4)
}

const TIME: &str = "2026-11-21T10:00:00Z";

/// Runs `case` on a fresh seed of its world; panics with the round's
/// outcomes when an invariant breaks. Returns how many invocations ended
/// in a retryable error (a lost race on an item, mostly): evidence that
/// they did overlap.
async fn round(endpoint: &str, case: &Case, round: usize) -> usize {
    let env = moto_env(endpoint, case.world).await;
    let world = World::load(common::repo(case.world).to_str().expect("UTF-8 path"))
        .expect("the world loads");
    let region = world.region.clone();
    let id = |w: &str| env.instance(w);
    let event = |job: &Job| match job {
        Job::Running(w) => Some(state_change(&id(w), InstanceState::Running, TIME)),
        Job::Stopped(w) => Some(state_change(&id(w), InstanceState::Stopped, TIME)),
        Job::Terminated(w) => Some(state_change(&id(w), InstanceState::Terminated, TIME)),
        Job::Tagged(w, key) => Some(tag_change(&id(w), key, TIME)),
        Job::Reconcile => None,
    };
    for job in case.before {
        match event(job) {
            Some(e) => {
                env.registrar.handle(&e).await.expect("the setup converges");
            }
            None => {
                env.reconcile().await;
            }
        }
    }
    let ec2 = moto_account(endpoint, &region).await.ec2.client.clone();
    for live in case.live {
        match *live {
            Live::Nothing => {}
            Live::State(w, state) => common::moto_set_state(&ec2, &id(w), state).await,
            Live::Tag(w, key, value) => common::moto_set_tag(&ec2, &id(w), key, value).await,
        }
    }
    let mut tasks = Vec::new();
    for job in case.at_once {
        let registrar = moto_account(endpoint, &region)
            .await
            .registrar(Config::default());
        let event = event(job);
        tasks.push(tokio::spawn(async move {
            match event {
                Some(e) => Ended::Event(registrar.handle(&e).await),
                None => Ended::Reconcile(registrar.reconcile("parallel").await),
            }
        }));
    }
    let mut ended = Vec::new();
    for task in tasks {
        ended.push(task.await.expect("no invocation panicked"));
    }
    let label = format!("{} (round {round})", case.name);
    for (i, end) in ended.iter().enumerate() {
        if let Some(e) = end.failed_for_good() {
            panic!("{label}: invocation {i} failed for good: {e}");
        }
    }
    let retryable = ended
        .iter()
        .filter(|end| matches!(end, Ended::Event(Err(_)) | Ended::Reconcile(Err(_))))
        .count();
    check(&env, &world, &label).await;
    let first = env.reconcile().await;
    assert!(
        first.summaries.iter().all(|s| s.error.is_none()),
        "{label}: the reconcile after: {:?}",
        first.summaries
    );
    check(&env, &world, &label).await;
    let again = env.reconcile().await;
    assert!(
        again.totals.records_created == 0 && again.totals.records_deleted == 0,
        "{label}: a second reconcile changed {:?}",
        again.reported().collect::<Vec<_>>()
    );
    retryable
}

/// Invariants 1 to 3 of the module docs.
async fn check(env: &MotoEnv, world: &World, label: &str) {
    let items = env
        .registrar
        .registry
        .all()
        .await
        .expect("scan the registry");
    let mut owners: BTreeMap<(ZoneId, String), Vec<String>> = BTreeMap::new();
    for item in &items {
        for o in &item.records {
            owners
                .entry((o.zone_id.clone(), o.record.to_string()))
                .or_default()
                .push(item.key.to_string());
        }
    }
    for (record, who) in &owners {
        assert!(who.len() <= 1, "{label}: {record:?} owned by {who:?}");
    }
    for zone in &world.zones {
        let real = env.zone(&zone.id);
        let apex = zone.info().name.to_string();
        let held: Vec<RecordSet> = env
            .registrar
            .dns
            .dump(&real)
            .await
            .into_iter()
            .filter(|r| !r.is_apex_housekeeping(&apex))
            .collect();
        for theirs in &zone.records {
            assert!(
                held.contains(theirs),
                "{label}: {theirs} in {} changed or gone: {held:?}",
                zone.id
            );
        }
        for record in held.iter().filter(|r| !zone.records.contains(r)) {
            let listed = items.iter().any(|item| {
                item.listed()
                    .any(|o| o.zone_id.as_str() == real && o.record == *record)
            });
            assert!(
                listed,
                "{label}: {record} in {} is listed by no item: {items:?}",
                zone.id
            );
        }
    }
}

const CASES: &[Case] = &[
    Case {
        name: "running, a tag change and a duplicate running at once",
        world: "fixtures/worlds/split-horizon.json",
        before: &[],
        live: &[Live::Tag("i-0web1", "HOSTNAME", "web")],
        at_once: &[
            Job::Running("i-0web1"),
            Job::Tagged("i-0web1", "HOSTNAME"),
            Job::Running("i-0web1"),
        ],
    },
    Case {
        name: "running and terminated at once",
        world: "fixtures/worlds/split-horizon.json",
        before: &[Job::Running("i-0web1")],
        live: &[Live::State("i-0web1", InstanceState::Terminated)],
        at_once: &[Job::Running("i-0web1"), Job::Terminated("i-0web1")],
    },
    Case {
        name: "three instances claim one alias at once",
        world: "fixtures/worlds/converge.json",
        before: &[],
        live: &[Live::Nothing],
        at_once: &[
            Job::Running("i-0holder"),
            Job::Running("i-0aaa"),
            Job::Running("i-0zzz"),
        ],
    },
    Case {
        name: "two instances with one address (two VPCs, shared zones) at once, a duplicate stop and two reconciles",
        world: "fixtures/worlds/shared-cidr.json",
        before: &[Job::Running("i-0hostb")],
        live: &[Live::State("i-0hostb", InstanceState::Stopped)],
        at_once: &[
            Job::Running("i-0hosta"),
            Job::Stopped("i-0hostb"),
            Job::Stopped("i-0hostb"),
            Job::Reconcile,
            Job::Reconcile,
        ],
    },
];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs the emulator: run through scripts/test"]
async fn the_worst_cases_at_once_on_the_strict_emulator() {
    let endpoint = moto_endpoint();
    let _guard = common::MOTO_LOCK.lock().await;
    let rounds = rounds();
    let started = std::time::Instant::now();
    let mut invocations = 0;
    let mut retryable = 0;
    for case in CASES {
        for r in 0..rounds {
            retryable += round(&endpoint, case, r).await;
            invocations += case.at_once.len();
        }
    }
    println!(
        "parallel on the strict emulator: {} cases x {rounds} rounds, {invocations} invocations ({retryable} ended retryably), {:.1} s",
        CASES.len(),
        started.elapsed().as_secs_f64()
    );
}
