//! Shared test harness: the same scenario runs on the strict fakes and on a
//! moto server (MOTO_ENDPOINT, started by scripts/test).
#![allow(dead_code)]

use ec2_ddns::aws::{
    self, dynamodb::DynamoRegistry, ec2::Ec2Backend, route53::Route53Backend, ConnectOptions,
};
use ec2_ddns::backend::{Dns, Instances, Registry};
use ec2_ddns::event::{self, StateChange};
use ec2_ddns::facts::{RecordSet, RecordType};
use ec2_ddns::fake::{CallLog, Fake};
use ec2_ddns::registrar::Registrar;
use ec2_ddns::world::World;
use ec2_ddns::Config;
use std::collections::BTreeMap;
use std::path::PathBuf;

pub fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// Reads a zone's full contents, the way a person would check it.
pub trait ZoneDump {
    async fn dump(&self, zone_id: &str) -> Vec<RecordSet>;
}

impl ZoneDump for Fake {
    async fn dump(&self, zone_id: &str) -> Vec<RecordSet> {
        self.zone_records().remove(zone_id).unwrap_or_default()
    }
}

impl ZoneDump for Route53Backend {
    async fn dump(&self, zone_id: &str) -> Vec<RecordSet> {
        self.zone_records(zone_id).await.expect("list zone on moto")
    }
}

/// A registrar on some backend, with the ids the backend gave the world's
/// instances and zones.
pub struct Env<E, D, R> {
    pub registrar: Registrar<E, D, R>,
    pub instances: BTreeMap<String, String>,
    pub zones: BTreeMap<String, String>,
    pub calls: CallLog,
    pub backend: &'static str,
}

pub fn fake_env(world_file: &str) -> (Env<Fake, Fake, Fake>, Fake) {
    let world = World::load(repo(world_file).to_str().unwrap()).expect("world loads");
    let fake = Fake::new(world.clone());
    let env = Env {
        registrar: fake.registrar(Config::default(), &world.region, false),
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
        calls: fake.0.calls.clone(),
        backend: "fakes",
    };
    (env, fake)
}

/// Serializes moto scenarios: each resets the server and seeds its world.
pub static MOTO_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The moto endpoint, or `None` (with a note) outside the test script.
/// Under CI the emulator is required: a missing one fails the test.
pub fn moto_endpoint() -> Option<String> {
    match std::env::var("MOTO_ENDPOINT") {
        Ok(e) if !e.is_empty() => Some(e),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("MOTO_ENDPOINT is not set under CI: run the tests through scripts/test")
        }
        _ => {
            eprintln!("MOTO_ENDPOINT not set: moto scenario not run (scripts/test runs it)");
            None
        }
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

/// Resets moto and seeds `world_file` into it; returns the id mapping.
pub fn seed_moto(endpoint: &str, world_file: &str) -> serde_json::Value {
    let out = std::process::Command::new(python())
        .arg(repo("tests/emulator/seed.py"))
        .args(["--reset", "--endpoint-url", endpoint])
        .arg(repo(world_file))
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

pub async fn moto_env(
    endpoint: &str,
    world_file: &str,
) -> Env<Ec2Backend, Route53Backend, DynamoRegistry> {
    let ids = seed_moto(endpoint, world_file);
    let region = ids["region"].as_str().unwrap_or("us-east-1").to_string();
    let calls = CallLog::default();
    let options = ConnectOptions {
        endpoint_url: Some(endpoint.to_string()),
        region: Some(region.clone()),
    };
    let config = Config::default();
    let b = aws::connect(&options, &config.table, calls.clone()).await;
    Env {
        registrar: b.into_registrar(config, false),
        instances: mapping(&ids, "instances"),
        zones: mapping(&ids, "zones"),
        calls,
        backend: "moto",
    }
}

/// An EventBridge state change for a world instance, parsed like any other.
pub fn state_change(instance_id: &str, state: &str, time: &str) -> StateChange {
    event::parse(serde_json::json!({
        "version": "0",
        "id": format!("evt-{instance_id}-{state}-{time}"),
        "detail-type": "EC2 Instance State-change Notification",
        "source": "aws.ec2",
        "account": "123456789012",
        "time": time,
        "region": "us-east-1",
        "resources": [],
        "detail": {"instance-id": instance_id, "state": state}
    }))
    .expect("valid event")
}

impl<E: Instances + Sync, D: Dns + ZoneDump + Sync, R: Registry + Sync> Env<E, D, R> {
    pub fn instance(&self, world_id: &str) -> String {
        self.instances[world_id].clone()
    }

    pub fn zone(&self, world_id: &str) -> String {
        self.zones[world_id].clone()
    }

    pub async fn send(
        &self,
        world_id: &str,
        state: &str,
        time: &str,
    ) -> ec2_ddns::summary::Summary {
        let change = state_change(&self.instance(world_id), state, time);
        self.registrar
            .handle(&change)
            .await
            .unwrap_or_else(|e| panic!("[{}] {world_id} {state}: {e}", self.backend))
    }

    /// A zone's records as `name TYPE ttl values`, without SOA and NS (moto
    /// adds them, the fakes do not), with `{…}` placeholders resolved.
    pub async fn zone_lines(&self, world_zone: &str) -> Vec<String> {
        let mut lines: Vec<String> = self
            .registrar
            .dns
            .dump(&self.zone(world_zone))
            .await
            .into_iter()
            .filter(|r| !matches!(&r.rtype, RecordType::Other(t) if t == "SOA" || t == "NS"))
            .map(|r| {
                let r = r.canonical();
                format!("{} {} {} {}", r.name, r.rtype, r.ttl, r.values.join(","))
            })
            .collect();
        lines.sort();
        lines
    }

    /// Expected lines with `{pub:ID}` and `{pubdns:ID}` replaced by the
    /// instance's actual public IPv4 and DNS name (moto picks its own).
    pub async fn expect(&self, lines: &[&str]) -> Vec<String> {
        let mut out = Vec::new();
        for line in lines {
            let mut line = line.to_string();
            for (world_id, real) in &self.instances {
                for (key, pick) in [("pub", 0), ("pubdns", 1)] {
                    let tag = format!("{{{key}:{world_id}}}");
                    if line.contains(&tag) {
                        let facts = self.registrar.ec2.instance(real).await.unwrap().unwrap();
                        let value = if pick == 0 {
                            facts.public_ip.map(|i| i.to_string()).unwrap_or_default()
                        } else {
                            ec2_ddns::names::normalize(&facts.public_dns_name.unwrap_or_default())
                        };
                        line = line.replace(&tag, &value);
                    }
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
            .load(&self.instance(world_id))
            .await
            .unwrap()
            .map(|i| i.records.len())
            .unwrap_or(0)
    }
}

/// Runs `$scenario(env)` on the fakes and on moto.
#[macro_export]
macro_rules! on_fakes_and_moto {
    ($name:ident, $world:expr, $scenario:ident) => {
        mod $name {
            use super::*;
            #[tokio::test]
            async fn fakes() {
                let (env, _fake) = common::fake_env($world);
                $scenario(&env).await;
            }
            #[tokio::test]
            async fn moto() {
                let Some(endpoint) = common::moto_endpoint() else {
                    return;
                };
                let _guard = common::MOTO_LOCK.lock().await;
                let env = common::moto_env(&endpoint, $world).await;
                $scenario(&env).await;
            }
        }
    };
}
