//! Shared test harness: the same scenario runs on the in-memory account and
//! on a moto server (MOTO_ENDPOINT, started by scripts/test).
//!
//! Tests that need moto or cargo-lambda are `#[ignore]`d with the reason, so
//! a plain `cargo test` reports them ignored; `scripts/test` runs them with
//! `--include-ignored`, and there a missing tool fails the test. None of
//! them returns early as passed.
#![allow(dead_code)]

use ec2_ddns::adapters::aws::{
    self, dynamodb::DynamoRegistry, ec2::Ec2, route53::Route53, ConnectOptions,
};
use ec2_ddns::calls::CallLog;
use ec2_ddns::event::{self, InstanceEvent};
use ec2_ddns::model::{self, InstanceState, RecordSet};
use ec2_ddns::plan::{Change, ChangeAction, ZoneChanges};
use ec2_ddns::ports::{Dns, Instances, Registry};
use ec2_ddns::registrar::Registrar;
use ec2_ddns::sim::memory::MemoryAccount;
use ec2_ddns::sim::world::World;
use ec2_ddns::summary::Summary;
use ec2_ddns::Config;
use std::collections::BTreeMap;
use std::path::PathBuf;

pub mod faults;
pub mod runtime;

pub fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// The Lambda function's `bootstrap` (crates/lambda), built into this
/// test's target directory by ./scripts/test before the tests run (`cargo
/// build -p ec2-ddns-lambda`): it is another package's binary, so
/// `CARGO_BIN_EXE_bootstrap` can't name it and `cargo test` does not build
/// it as a program.
pub fn bootstrap_binary() -> PathBuf {
    let test = std::env::current_exe().expect("the test's own path");
    // target/debug/deps/<test> → target/debug/bootstrap
    let path = test
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test runs from target/<profile>/deps")
        .join(format!("bootstrap{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is not built: run ./scripts/test, or build it first with `cargo build -p ec2-ddns-lambda`",
        path.display()
    );
    path
}

/// The reason on every test that needs the emulator.
pub const NEEDS_MOTO: &str = "needs the emulator: run through scripts/test";

/// Reads a zone's full contents, the way a person would check it.
pub trait ZoneDump {
    async fn dump(&self, zone_id: &str) -> Vec<RecordSet>;
}

impl ZoneDump for MemoryAccount {
    async fn dump(&self, zone_id: &str) -> Vec<RecordSet> {
        self.zone_records().remove(zone_id).unwrap_or_default()
    }
}

impl ZoneDump for Route53 {
    async fn dump(&self, zone_id: &str) -> Vec<RecordSet> {
        self.zone_records(zone_id).await.expect("list zone on moto")
    }
}

/// A registrar on some backend, with the ids the backend gave the world's
/// instances and zones, and the world's zone names.
pub struct Env<E, D, R> {
    pub registrar: Registrar<E, D, R>,
    pub instances: BTreeMap<String, String>,
    pub zones: BTreeMap<String, String>,
    pub zone_names: BTreeMap<String, String>,
    pub calls: CallLog,
    pub backend: &'static str,
}

fn load_world(world_file: &str) -> World {
    World::load(repo(world_file).to_str().expect("UTF-8 path")).expect("world loads")
}

fn zone_names(world: &World) -> BTreeMap<String, String> {
    world
        .zones
        .iter()
        .map(|z| (z.id.clone(), z.info().name.to_string()))
        .collect()
}

pub fn memory_env(
    world_file: &str,
) -> (
    Env<MemoryAccount, MemoryAccount, MemoryAccount>,
    MemoryAccount,
) {
    memory_env_with(world_file, Config::default())
}

/// [`memory_env`] with the registrar built with `config`.
pub fn memory_env_with(
    world_file: &str,
    config: Config,
) -> (
    Env<MemoryAccount, MemoryAccount, MemoryAccount>,
    MemoryAccount,
) {
    let world = load_world(world_file);
    let account = MemoryAccount::new(world.clone());
    let env = Env {
        registrar: account.registrar(config),
        instances: world
            .instances
            .iter()
            .map(|i| (i.id.clone(), i.id.clone()))
            .collect(),
        zones: world
            .zones
            .iter()
            .map(|z| (z.id.clone(), z.id.clone()))
            .collect(),
        zone_names: zone_names(&world),
        calls: account.calls.clone(),
        backend: "memory",
    };
    (env, account)
}

/// Serializes moto scenarios: each resets the server and seeds its world.
pub static MOTO_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The moto endpoint that scripts/test started. A test that needs it and
/// does not find it fails: it never passes without having run.
pub fn moto_endpoint() -> String {
    match std::env::var("MOTO_ENDPOINT") {
        Ok(e) if !e.is_empty() => e,
        _ => panic!("MOTO_ENDPOINT is not set: this test needs the emulator; run it through ./scripts/test, which starts moto"),
    }
}

pub fn python() -> PathBuf {
    let venv = repo(".venv/bin/python");
    if venv.exists() {
        venv
    } else {
        PathBuf::from("python3")
    }
}

/// Resets moto and seeds `world_file` into it; returns the id mapping. The
/// world is checked by the Rust loader first: the seeder checks nothing.
pub fn seed_moto(endpoint: &str, world_file: &std::path::Path) -> serde_json::Value {
    World::load(world_file.to_str().expect("UTF-8 path"))
        .unwrap_or_else(|e| panic!("the world does not load: {e}"));
    let out = std::process::Command::new(python())
        .arg(repo("tests/emulator/seed.py"))
        .args(["--reset", "--endpoint-url", endpoint])
        .arg(world_file)
        .output()
        .expect("run seed.py");
    assert!(
        out.status.success(),
        "seed.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("seed.py prints JSON")
}

fn mapping(value: &serde_json::Value, key: &str) -> BTreeMap<String, String> {
    value[key]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// Connects to moto with the region the seeder used.
pub async fn moto_account(endpoint: &str, region: &str) -> aws::AwsAccount {
    let options = ConnectOptions {
        endpoint_url: Some(endpoint.to_string()),
        region: Some(region.to_string()),
    };
    aws::connect(&options, &Config::default().table).await
}

pub async fn moto_env(endpoint: &str, world_file: &str) -> Env<Ec2, Route53, DynamoRegistry> {
    moto_env_with(endpoint, world_file, Config::default()).await
}

/// [`moto_env`] with the registrar built with `config`.
pub async fn moto_env_with(
    endpoint: &str,
    world_file: &str,
    config: Config,
) -> Env<Ec2, Route53, DynamoRegistry> {
    let ids = seed_moto(endpoint, &repo(world_file));
    let region = ids["region"].as_str().unwrap_or("us-east-1").to_string();
    let account = moto_account(endpoint, &region).await;
    let calls = account.calls.clone();
    Env {
        registrar: account.registrar(config),
        instances: mapping(&ids, "instances"),
        zones: mapping(&ids, "zones"),
        zone_names: zone_names(&load_world(world_file)),
        calls,
        backend: "moto",
    }
}

/// An EventBridge state change, built and parsed as any other.
pub fn state_change(instance_id: &str, state: InstanceState, time: &str) -> InstanceEvent {
    let id = format!("evt-{instance_id}-{state}-{time}");
    let time = model::parse_time(time).expect("test time");
    event::parse_instance(event::state_change_json(
        &id,
        instance_id,
        state,
        Some(time),
        "us-east-1",
    ))
    .expect("valid event")
}

/// A tag-change event as the tag service sends it, naming `key` as changed.
pub fn tag_change(instance_id: &str, key: &str, time: &str) -> InstanceEvent {
    let id = format!("evt-{instance_id}-tag-{key}-{time}");
    let time = model::parse_time(time).expect("test time");
    event::parse_instance(event::tag_change_json(
        &id,
        instance_id,
        &[key],
        &BTreeMap::new(),
        Some(time),
        "us-east-1",
    ))
    .expect("valid event")
}

/// A hand on the account that sends no event: EC2 changing an instance,
/// a person editing a zone. On memory it edits the world; on moto it calls
/// the EC2 and Route 53 APIs as a person's script would.
pub trait Hand {
    /// `Running` starts, `Stopped` stops, `Terminated` terminates.
    async fn set_state(&self, instance_id: &str, state: InstanceState);
    /// Sets a tag; an empty value removes it.
    async fn set_tag(&self, instance_id: &str, key: &str, value: &str);
    /// Deletes the record set exactly as given.
    async fn delete_record(&self, zone_id: &str, record: &RecordSet);
    /// Creates or replaces a record set (an UPSERT).
    async fn put_record(&self, zone_id: &str, record: &RecordSet);
}

impl Hand for Env<MemoryAccount, MemoryAccount, MemoryAccount> {
    async fn set_state(&self, instance_id: &str, state: InstanceState) {
        self.registrar.ec2.edit(|w| {
            let i = w.find_instance_mut(instance_id).expect("instance in world");
            i.state = state;
        });
    }

    async fn set_tag(&self, instance_id: &str, key: &str, value: &str) {
        self.registrar.ec2.edit(|w| {
            let i = w.find_instance_mut(instance_id).expect("instance in world");
            if value.is_empty() {
                i.tags.remove(key);
            } else {
                i.tags.insert(key.to_string(), value.to_string());
            }
        });
    }

    async fn delete_record(&self, zone_id: &str, record: &RecordSet) {
        self.registrar.ec2.edit(|w| {
            let z = w.zones.iter_mut().find(|z| z.id == zone_id).expect("zone");
            let before = z.records.len();
            z.records.retain(|r| r != record);
            assert_eq!(z.records.len() + 1, before, "{record} was not in {zone_id}");
        });
    }

    async fn put_record(&self, zone_id: &str, record: &RecordSet) {
        self.registrar.ec2.edit(|w| {
            let z = w.zones.iter_mut().find(|z| z.id == zone_id).expect("zone");
            z.records.retain(|r| !r.same_slot(record));
            z.records.push(record.clone());
        });
    }
}

impl Hand for Env<Ec2, Route53, DynamoRegistry> {
    async fn set_state(&self, instance_id: &str, state: InstanceState) {
        moto_set_state(&self.registrar.ec2.client, instance_id, state).await;
    }

    async fn set_tag(&self, instance_id: &str, key: &str, value: &str) {
        moto_set_tag(&self.registrar.ec2.client, instance_id, key, value).await;
    }

    async fn delete_record(&self, zone_id: &str, record: &RecordSet) {
        self.change(zone_id, ChangeAction::Delete, record).await;
    }

    async fn put_record(&self, zone_id: &str, record: &RecordSet) {
        self.change(zone_id, ChangeAction::Upsert, record).await;
    }
}

/// Whether an SDK call went through, with the error in full if not.
fn done<T, E: std::fmt::Debug>(result: Result<T, E>) -> Result<(), String> {
    result.map(drop).map_err(|e| format!("{e:?}"))
}

/// What EC2 does when an instance starts (`Running`), stops (`Stopped`)
/// or is terminated, done to moto through the SDK; no event is sent.
pub async fn moto_set_state(ec2: &aws_sdk_ec2::Client, instance_id: &str, state: InstanceState) {
    let result = match state {
        InstanceState::Running => {
            done(ec2.start_instances().instance_ids(instance_id).send().await)
        }
        InstanceState::Stopped => done(ec2.stop_instances().instance_ids(instance_id).send().await),
        InstanceState::Terminated => done(
            ec2.terminate_instances()
                .instance_ids(instance_id)
                .send()
                .await,
        ),
        other => panic!("no moto action for state {other}"),
    };
    result.unwrap_or_else(|e| panic!("moto refused {state} for {instance_id}: {e}"));
}

/// Sets a tag on moto (an empty value deletes the key, whatever its value).
pub async fn moto_set_tag(ec2: &aws_sdk_ec2::Client, instance_id: &str, key: &str, value: &str) {
    let result = if value.is_empty() {
        let tag = aws_sdk_ec2::types::Tag::builder().key(key).build();
        done(
            ec2.delete_tags()
                .resources(instance_id)
                .tags(tag)
                .send()
                .await,
        )
    } else {
        let tag = aws_sdk_ec2::types::Tag::builder()
            .key(key)
            .value(value)
            .build();
        done(
            ec2.create_tags()
                .resources(instance_id)
                .tags(tag)
                .send()
                .await,
        )
    };
    result.unwrap_or_else(|e| panic!("moto refused tag {key} on {instance_id}: {e}"));
}

impl Env<Ec2, Route53, DynamoRegistry> {
    async fn change(&self, zone_id: &str, action: ChangeAction, record: &RecordSet) {
        let batch = ZoneChanges {
            zone_id: zone_id.into(),
            zone_name: Default::default(),
            changes: vec![Change {
                action,
                record: record.clone(),
            }],
        };
        self.registrar
            .dns
            .apply(&batch)
            .await
            .unwrap_or_else(|e| panic!("moto refused {action} {record}: {e}"));
    }
}

impl<E: Instances + Sync, D: Dns + ZoneDump + Sync, R: Registry + Sync> Env<E, D, R>
where
    Self: Hand,
{
    /// EC2 changes the instance's state, and its event is sent.
    pub async fn act(&self, world_id: &str, state: InstanceState, time: &str) -> Summary {
        self.set_state(&self.instance(world_id), state).await;
        self.send(world_id, state, time).await
    }

    /// A tag is set (an empty value removes it), and its tag-change event is sent.
    pub async fn tag(&self, world_id: &str, key: &str, value: &str, time: &str) -> Summary {
        let id = self.instance(world_id);
        self.set_tag(&id, key, value).await;
        self.registrar
            .handle(&tag_change(&id, key, time))
            .await
            .unwrap_or_else(|e| panic!("[{}] {world_id} tag {key}: {e}", self.backend))
    }
}

impl<E: Instances + Sync, D: Dns + ZoneDump + Sync, R: Registry + Sync> Env<E, D, R> {
    /// The full reconcile; panics when it fails outright.
    pub async fn reconcile(&self) -> ec2_ddns::registrar::Reconciled {
        self.registrar
            .reconcile("test-reconcile")
            .await
            .unwrap_or_else(|e| panic!("[{}] reconcile: {e}", self.backend))
    }

    pub fn instance(&self, world_id: &str) -> String {
        self.instances[world_id].clone()
    }

    pub fn zone(&self, world_id: &str) -> String {
        self.zones[world_id].clone()
    }

    pub async fn send(&self, world_id: &str, state: InstanceState, time: &str) -> Summary {
        let change = state_change(&self.instance(world_id), state, time);
        self.registrar
            .handle(&change)
            .await
            .unwrap_or_else(|e| panic!("[{}] {world_id} {state}: {e}", self.backend))
    }

    /// A zone's records as `name TYPE ttl values`, without the apex SOA and
    /// NS (Route 53 and moto make them, world files leave them out).
    pub async fn zone_lines(&self, world_zone: &str) -> Vec<String> {
        let apex = &self.zone_names[world_zone];
        let mut lines: Vec<String> = self
            .registrar
            .dns
            .dump(&self.zone(world_zone))
            .await
            .into_iter()
            .filter(|r| !r.is_apex_housekeeping(apex))
            .map(|r| r.to_string())
            .collect();
        lines.sort();
        lines
    }

    /// Expected lines with `{pub:ID}` replaced by the instance's actual
    /// public IPv4 (moto picks its own).
    pub async fn expect(&self, lines: &[&str]) -> Vec<String> {
        let mut out = Vec::new();
        for line in lines {
            let mut line = line.to_string();
            for (world_id, real) in &self.instances {
                let tag = format!("{{pub:{world_id}}}");
                if line.contains(&tag) {
                    let facts = self.registrar.ec2.instance(real).await.unwrap().unwrap();
                    line = line.replace(
                        &tag,
                        &facts.public_ip.map(|i| i.to_string()).unwrap_or_default(),
                    );
                }
            }
            out.push(line);
        }
        out.sort();
        out
    }

    pub async fn owns(&self, world_id: &str) -> usize {
        self.registrar
            .registry
            .load(&self.instance(world_id).as_str().into())
            .await
            .unwrap()
            .map(|i| i.records.len())
            .unwrap_or(0)
    }
}

/// Runs `$scenario(env)` on the in-memory account and on moto, with the
/// default configuration or the one given.
#[macro_export]
macro_rules! on_memory_and_moto {
    ($name:ident, $world:expr, $scenario:ident) => {
        on_memory_and_moto!($name, $world, ec2_ddns::Config::default(), $scenario);
    };
    ($name:ident, $world:expr, $config:expr, $scenario:ident) => {
        mod $name {
            use super::*;
            #[tokio::test]
            async fn memory() {
                let (env, _account) = common::memory_env_with($world, $config);
                $scenario(&env).await;
            }
            #[tokio::test]
            #[ignore = "needs the emulator: run through scripts/test"]
            async fn moto() {
                let endpoint = common::moto_endpoint();
                let _guard = common::MOTO_LOCK.lock().await;
                let env = common::moto_env_with(&endpoint, $world, $config).await;
                $scenario(&env).await;
            }
        }
    };
}

/// An SQS batch (buffered mode) whose messages carry `events`, as Lambda's
/// event source mapping hands it over: message ids `m0`, `m1`, ….
pub fn sqs_batch(events: &[serde_json::Value]) -> serde_json::Value {
    serde_json::json!({
        "Records": events.iter().enumerate().map(|(k, body)| serde_json::json!({
            "messageId": format!("m{k}"),
            "receiptHandle": "r",
            "body": body.to_string(),
            "attributes": {},
            "messageAttributes": {},
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:ec2-ddns",
            "awsRegion": "us-east-1"
        })).collect::<Vec<_>>()
    })
}
