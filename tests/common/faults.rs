//! Faults on both backends, so a case that needs Route 53 to fail is written
//! once and run on the in-memory account and on the strict moto launcher.
//!
//! [`Faults`] is implemented for [`MemoryAccount`] (its `inject`, `revive`,
//! `edit`, `set_writer` and `authors`) and for the moto env (the launcher's
//! control endpoint `POST/DELETE {MOTO_ENDPOINT}/_ec2ddns/faults`, reached
//! with a tiny HTTP/1.1 request, and the EC2 client for tags). The moto env
//! built here also puts the world's `foreign_registry` items into the table,
//! which the seeder leaves out, and waits only a few milliseconds between
//! retried changes.

use super::{moto_endpoint, state_change, Env, ZoneDump};
use ec2_ddns::adapters::aws::dynamodb::{self, DynamoRegistry};
use ec2_ddns::adapters::aws::ec2::Ec2;
use ec2_ddns::adapters::aws::route53::Route53;
use ec2_ddns::model::{InstanceState, RegistryItem};
use ec2_ddns::ports::{Dns, Instances, Registry};
use ec2_ddns::sim::memory::{Fault, MemoryAccount, Slot};
use ec2_ddns::sim::world::World;
use ec2_ddns::summary::Summary;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// The operation every fault here strikes.
pub const CHANGE: &str = "route53:ChangeResourceRecordSets";

/// What one change call meets, in the launcher's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeFault {
    /// HTTP 500 InternalFailure; nothing applied.
    Before,
    /// Applied, then HTTP 500 InternalFailure: the answer is lost.
    After,
    /// 400 Throttling; nothing applied.
    Throttle,
}

impl ChangeFault {
    fn launcher_kind(self) -> &'static str {
        match self {
            ChangeFault::Before => "before",
            ChangeFault::After => "after",
            ChangeFault::Throttle => "throttle",
        }
    }

    fn memory(self) -> Fault {
        match self {
            ChangeFault::Before => Fault::InternalError {
                after_commit: false,
            },
            ChangeFault::After => Fault::InternalError { after_commit: true },
            ChangeFault::Throttle => Fault::Throttling,
        }
    }
}

/// A backend's hand on its own failures and facts.
pub trait Faults {
    /// The next change calls meet `faults`, in order (after any queued).
    async fn fail_changes(&self, faults: &[ChangeFault]);
    /// Drops every fault not met yet.
    async fn clear_faults(&self);
    /// Sets a tag on an instance (its backend id), as a person would.
    async fn set_tag(&self, instance_id: &str, key: &str, value: &str);
    /// Credits later record writes to `writer` (memory only).
    fn credit(&self, writer: &str);
    /// Who wrote each record set (memory only; `None` on moto).
    fn authors(&self) -> Option<BTreeMap<Slot, String>>;
}

impl Faults for MemoryAccount {
    async fn fail_changes(&self, faults: &[ChangeFault]) {
        for f in faults {
            self.inject(CHANGE, f.memory());
        }
    }

    async fn clear_faults(&self) {
        self.revive();
    }

    async fn set_tag(&self, instance_id: &str, key: &str, value: &str) {
        self.edit(|w| {
            let instance = w
                .instances
                .iter_mut()
                .find(|i| i.id == instance_id)
                .unwrap_or_else(|| panic!("no instance {instance_id} in the world"));
            instance.tags.insert(key.to_string(), value.to_string());
        });
    }

    fn credit(&self, writer: &str) {
        self.set_writer(writer);
    }

    fn authors(&self) -> Option<BTreeMap<Slot, String>> {
        Some(MemoryAccount::authors(self))
    }
}

/// The moto env: the registrar on the AWS clients, pointed at moto.
pub type MotoEnv = Env<Ec2, Route53, DynamoRegistry>;

impl Faults for MotoEnv {
    async fn fail_changes(&self, faults: &[ChangeFault]) {
        let kinds: Vec<&str> = faults.iter().map(|f| f.launcher_kind()).collect();
        let body = serde_json::json!({ CHANGE: kinds }).to_string();
        fault_control("POST", &body);
    }

    async fn clear_faults(&self) {
        fault_control("DELETE", "");
    }

    async fn set_tag(&self, instance_id: &str, key: &str, value: &str) {
        let tag = aws_sdk_ec2::types::Tag::builder()
            .key(key)
            .value(value)
            .build();
        self.registrar
            .ec2
            .client
            .create_tags()
            .resources(instance_id)
            .tags(tag)
            .send()
            .await
            .unwrap_or_else(|e| panic!("create_tags on moto: {e:?}"));
    }

    fn credit(&self, _writer: &str) {}

    fn authors(&self) -> Option<BTreeMap<Slot, String>> {
        None
    }
}

/// The faults still queued on the launcher, per operation.
pub fn launcher_queues() -> serde_json::Value {
    serde_json::from_str(&fault_control("GET", "")).expect("the launcher answers JSON")
}

/// One request to the launcher's fault control endpoint; the body of a 200
/// answer, or a panic.
fn fault_control(method: &str, body: &str) -> String {
    launcher_control(method, "/_ec2ddns/faults", body)
}

/// One request to one of the strict launcher's control endpoints
/// (`/_ec2ddns/...`: faults, lifecycle actions, ECS tasks), over a plain
/// HTTP/1.1 connection that the server closes after its answer; the body of
/// a 200 answer, or a panic.
pub fn launcher_control(method: &str, path: &str, body: &str) -> String {
    let endpoint = moto_endpoint();
    let host = endpoint
        .strip_prefix("http://")
        .unwrap_or_else(|| panic!("MOTO_ENDPOINT {endpoint} is not http://host:port"))
        .trim_end_matches('/');
    let mut stream =
        TcpStream::connect(host).unwrap_or_else(|e| panic!("connect to moto at {host}: {e}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("read timeout");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .expect("send the control request");
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .expect("read the control answer");
    let (head, rest) = answer
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer:?}"));
    let status = head.lines().next().unwrap_or_default();
    assert!(
        status.split_whitespace().nth(1) == Some("200"),
        "{method} {path} {body}: {status}: {rest}"
    );
    rest.to_string()
}

/// The moto env for `world_file` (reset, seeded), with the world's foreign
/// registry items put into the table as the Python function would have left
/// them (world instance ids, also inside the attributes, replaced by moto's).
pub async fn moto_env(endpoint: &str, world_file: &str) -> MotoEnv {
    let mut env = super::moto_env(endpoint, world_file).await;
    env.registrar.backoff = Duration::from_millis(10);
    let world =
        World::load(super::repo(world_file).to_str().expect("UTF-8 path")).expect("world loads");
    for found in &world.foreign_registry {
        let mut text = serde_json::to_string(&found.attributes).expect("attributes as JSON");
        for (world_id, real) in &env.instances {
            text = text.replace(world_id.as_str(), real);
        }
        let attributes: BTreeMap<String, serde_json::Value> =
            serde_json::from_str(&text).expect("attributes back");
        let id = env
            .instances
            .get(&found.key.stored())
            .cloned()
            .unwrap_or_else(|| found.key.stored());
        let mut request = env
            .registrar
            .registry
            .client
            .put_item()
            .table_name(&env.registrar.registry.table)
            .item(
                "InstanceId",
                aws_sdk_dynamodb::types::AttributeValue::S(id.clone()),
            );
        for (name, value) in &attributes {
            let value = dynamodb::json_to_av(value)
                .unwrap_or_else(|| panic!("{id}: {name} is not DynamoDB JSON: {value}"));
            request = request.item(name, value);
        }
        request
            .send()
            .await
            .unwrap_or_else(|e| panic!("put the foreign item of {id}: {e:?}"));
    }
    env
}

impl<E: Instances + Sync, D: Dns + ZoneDump + Sync, R: Registry + Sync> Env<E, D, R> {
    /// As [`Env::send`], but a failed invocation is returned, not a panic.
    pub async fn try_send(
        &self,
        world_id: &str,
        state: InstanceState,
        time: &str,
    ) -> ec2_ddns::Result<Summary> {
        let change = state_change(&self.instance(world_id), state, time);
        self.registrar.handle(&change).await
    }

    /// The instance's registry item as the registrar reads it.
    pub async fn item(&self, world_id: &str) -> Option<RegistryItem> {
        self.registrar
            .registry
            .load(&self.instance(world_id).as_str().into())
            .await
            .unwrap_or_else(|e| panic!("[{}] load the item of {world_id}: {e}", self.backend))
    }

    /// Change calls made since the last look (counted attempts).
    pub fn change_calls(&self) -> usize {
        self.calls.take().get(CHANGE).copied().unwrap_or(0)
    }
}

/// Runs `$scenario(env, faults)` on the in-memory account and on moto; the
/// second argument is the backend's [`Faults`].
#[macro_export]
macro_rules! with_faults_on_memory_and_moto {
    ($name:ident, $world:expr, $scenario:ident) => {
        mod $name {
            use super::*;
            #[tokio::test]
            async fn memory() {
                let (env, account) = common::memory_env($world);
                $scenario(&env, &account).await;
            }
            #[tokio::test]
            #[ignore = "needs the emulator: run through scripts/test"]
            async fn moto() {
                let endpoint = common::moto_endpoint();
                let _guard = common::MOTO_LOCK.lock().await;
                let env = common::faults::moto_env(&endpoint, $world).await;
                $scenario(&env, &env).await;
            }
        }
    };
}
