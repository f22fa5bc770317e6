//! World files: a JSON description of an account (VPCs, subnets, zones with
//! their records, instances, the registry table) that the in-memory account
//! loads, so the real handler can run with no AWS account. `snapshot`
//! writes the same format from a live account.
//!
//! Loading checks everything AWS itself would refuse to hold (two record sets
//! with one name and type, a CNAME beside another record, an address outside
//! its subnet, …), so a rehearsal never runs on an account that could not
//! exist. Each problem is an error naming the file, the JSON path and what
//! was expected. This is the only validation of world files: the moto seeder
//! trusts what this accepts.

use ec2_ddns_core::error::{Error, Result};
use ec2_ddns_core::model::{
    DnsName, ForeignItem, InstanceFacts, InstanceState, RecordSet, RecordType, RegistryItem,
    RegistryKey, TaskEni, TaskFacts, VpcFacts, ZoneId, ZoneInfo,
};
use ec2_ddns_core::names::{self, clip};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

fn yes() -> bool {
    true
}
fn default_region() -> String {
    "us-east-1".into()
}
fn running() -> InstanceState {
    InstanceState::Running
}
fn is_true(b: &bool) -> bool {
    *b
}
fn is_false(b: &bool) -> bool {
    !*b
}

/// An IPv4 network in CIDR notation (`10.1.0.0/16`), as VPCs and subnets have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Cidr {
    network: Ipv4Addr,
    prefix: u8,
}

impl Cidr {
    fn mask(&self) -> u32 {
        u32::MAX
            .checked_shl(32 - u32::from(self.prefix))
            .unwrap_or(0)
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & self.mask() == u32::from(self.network)
    }

    /// Whether `other` lies wholly inside this network.
    pub fn covers(&self, other: &Cidr) -> bool {
        other.prefix >= self.prefix && self.contains(other.network)
    }
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let expected = "expected an IPv4 network such as 10.1.0.0/16";
        let (ip, prefix) = s
            .split_once('/')
            .ok_or_else(|| format!("'{}' is not a CIDR block; {expected}", clip(s)))?;
        let network: Ipv4Addr = ip.parse().map_err(|_| {
            format!(
                "'{}' is not a CIDR block: '{}' is not an IPv4 address; {expected}",
                clip(s),
                clip(ip)
            )
        })?;
        let prefix: u8 = prefix.parse().ok().filter(|p| *p <= 32).ok_or_else(|| {
            format!(
                "'{}' is not a CIDR block: the prefix length must be 0 to 32; {expected}",
                clip(s)
            )
        })?;
        let cidr = Cidr { network, prefix };
        let bare = Ipv4Addr::from(u32::from(network) & cidr.mask());
        if bare != network {
            return Err(format!(
                "'{s}' has host bits set; the network is {bare}/{prefix}"
            ));
        }
        Ok(cidr)
    }
}

impl TryFrom<String> for Cidr {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<Cidr> for String {
    fn from(c: Cidr) -> String {
        c.to_string()
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// An IPv6 network in CIDR notation (`2600:1f18:abcd:100::/56`), as a
/// VPC's and a subnet's IPv6 block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Cidr6 {
    network: Ipv6Addr,
    prefix: u8,
}

impl Cidr6 {
    fn mask(&self) -> u128 {
        u128::MAX
            .checked_shl(128 - u32::from(self.prefix))
            .unwrap_or(0)
    }

    pub fn contains(&self, ip: Ipv6Addr) -> bool {
        u128::from(ip) & self.mask() == u128::from(self.network)
    }

    /// Whether `other` lies wholly inside this network.
    pub fn covers(&self, other: &Cidr6) -> bool {
        other.prefix >= self.prefix && self.contains(other.network)
    }
}

impl FromStr for Cidr6 {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let expected = "expected an IPv6 network such as 2600:1f18:abcd:100::/56";
        let (ip, prefix) = s
            .split_once('/')
            .ok_or_else(|| format!("'{}' is not an IPv6 CIDR block; {expected}", clip(s)))?;
        let network: Ipv6Addr = ip.parse().map_err(|_| {
            format!(
                "'{}' is not an IPv6 CIDR block: '{}' is not an IPv6 address; {expected}",
                clip(s),
                clip(ip)
            )
        })?;
        let prefix: u8 = prefix.parse().ok().filter(|p| *p <= 128).ok_or_else(|| {
            format!(
                "'{}' is not an IPv6 CIDR block: the prefix length must be 0 to 128; {expected}",
                clip(s)
            )
        })?;
        let cidr = Cidr6 { network, prefix };
        let bare = Ipv6Addr::from(u128::from(network) & cidr.mask());
        if bare != network {
            return Err(format!(
                "'{}' has host bits set; the network is {bare}/{prefix}",
                clip(s)
            ));
        }
        Ok(cidr)
    }
}

impl TryFrom<String> for Cidr6 {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<Cidr6> for String {
    fn from(c: Cidr6) -> String {
        c.to_string()
    }
}

impl fmt::Display for Cidr6 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// An account, as far as the registrar can see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct World {
    #[serde(default = "default_region")]
    pub region: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default)]
    pub vpcs: Vec<WorldVpc>,
    #[serde(default)]
    pub subnets: Vec<WorldSubnet>,
    #[serde(default)]
    pub zones: Vec<WorldZone>,
    #[serde(default)]
    pub instances: Vec<WorldInstance>,
    /// ECS clusters, by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clusters: Vec<WorldCluster>,
    /// ECS tasks, in the clusters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tasks: Vec<WorldTask>,
    /// What the registrar already owns (its DynamoDB table), so a rehearsal
    /// on a snapshot of a live account deletes and keeps what the real one
    /// would. Loaded into the in-memory registry, not kept in the world.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub registry: Vec<RegistryItem>,
    /// Items in the registry table that ec2-ddns did not write, such as the
    /// Python aws-lambda-ddns-function's (`InstanceAttributes`, no
    /// `Version`), with their attributes in DynamoDB JSON.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub foreign_registry: Vec<ForeignItem>,
    /// How long a change batch takes to reach Route 53's name servers, in
    /// GetChange answers: each batch answers `PENDING` to this many of its
    /// id, then `INSYNC` (0, the default: in sync at once).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub route53_pending_polls: u32,
    /// Other accounts' (or other regions') EC2 and ECS, read through the
    /// member role (the organization mode): each a world of its own, with
    /// its `account` and `region`, and no zones or registry (those are
    /// this, the central, account's).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<World>,
    /// A member account whose role cannot be assumed (its stack is
    /// missing, or its role does not trust the central one): every read
    /// of it is refused with AccessDenied.
    #[serde(default, skip_serializing_if = "is_false")]
    pub role_refused: bool,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorldVpc {
    pub id: String,
    pub cidr: Cidr,
    /// The VPC's IPv6 block, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6_cidr: Option<Cidr6>,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub dns_support: bool,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub dns_hostnames: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dhcp_domain: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorldSubnet {
    pub id: String,
    pub vpc: String,
    /// The subnet's IPv4 block; absent for an IPv6-only subnet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cidr: Option<Cidr>,
    /// The subnet's IPv6 block, inside its VPC's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6_cidr: Option<Cidr6>,
    /// An IPv6-only subnet (EC2's `Ipv6Native`): no IPv4 block, and its
    /// instances have no private IPv4. EC2 launches IPv6-only instances
    /// only into such subnets.
    #[serde(default, skip_serializing_if = "is_false")]
    pub ipv6_native: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub public: bool,
}

/// A hosted zone; each record is `{"name", "type", "ttl", "values"}`, or
/// `{"name", "type", "alias"}` for a Route 53 alias.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorldZone {
    pub id: String,
    pub name: String,
    pub private: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vpcs: Vec<String>,
    #[serde(default)]
    pub records: Vec<RecordSet>,
}

impl WorldZone {
    /// The zone as the planner sees it: bare id, normalized name.
    pub fn info(&self) -> ZoneInfo {
        ZoneInfo {
            id: ZoneId::new(&self.id),
            name: DnsName::new(&self.name),
            private: self.private,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorldInstance {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub subnet: String,
    /// The primary private IPv4; absent for an IPv6-only instance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_ip: Option<Ipv4Addr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_ip: Option<Ipv4Addr>,
    /// The primary IPv6 address, inside the subnet's IPv6 block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6: Option<Ipv6Addr>,
    #[serde(default = "running")]
    pub state: InstanceState,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_dns_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_dns_name: Option<String>,
    /// When the instance was last started (RFC 3339); among instances that
    /// want the same free name, the earliest gets it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "ec2_ddns_core::model::opt_time"
    )]
    pub launch_time: Option<chrono::DateTime<chrono::Utc>>,
}

impl WorldInstance {
    /// The instance as a world file holds it; `None` for one with no subnet
    /// or no address of either family (terminated, or not yet placed),
    /// which no event could register. The `Name` tag becomes `name`, so scenario steps can
    /// say `stop web-1`; `World::instance_facts` puts the tag back.
    pub fn from_facts(facts: &InstanceFacts) -> Option<WorldInstance> {
        let mut tags = facts.tags.clone();
        Some(WorldInstance {
            id: facts.instance_id.clone(),
            name: tags.remove("Name"),
            subnet: facts
                .subnet_id
                .clone()
                .filter(|_| facts.private_ip.is_some() || facts.ipv6.is_some())?,
            private_ip: facts.private_ip,
            public_ip: facts.public_ip,
            ipv6: facts.ipv6,
            state: facts.state,
            tags,
            private_dns_name: facts.private_dns_name.clone(),
            public_dns_name: facts.public_dns_name.clone(),
            launch_time: facts.launch_time,
        })
    }
}

/// An ECS cluster; its ARN is made from the world's region and account, as
/// ECS writes it (`arn:aws:ecs:REGION:ACCOUNT:cluster/NAME`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorldCluster {
    pub name: String,
}

/// An ECS task's `lastStatus`, as ECS writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskStatus {
    Provisioning,
    Pending,
    Activating,
    Running,
    Deactivating,
    Stopping,
    Deprovisioning,
    Stopped,
    Deleted,
}

impl TaskStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            TaskStatus::Provisioning => "PROVISIONING",
            TaskStatus::Pending => "PENDING",
            TaskStatus::Activating => "ACTIVATING",
            TaskStatus::Running => "RUNNING",
            TaskStatus::Deactivating => "DEACTIVATING",
            TaskStatus::Stopping => "STOPPING",
            TaskStatus::Deprovisioning => "DEPROVISIONING",
            TaskStatus::Stopped => "STOPPED",
            TaskStatus::Deleted => "DELETED",
        }
    }

    /// Whether the task has not started running yet (a scenario's
    /// `tag-service` reaches it: ECS copies a service's tags at launch).
    pub fn is_starting(&self) -> bool {
        matches!(
            self,
            TaskStatus::Provisioning | TaskStatus::Pending | TaskStatus::Activating
        )
    }

    /// ECS's `desiredStatus` for a task at this status: RUNNING on the way
    /// up and while it runs, STOPPED from the moment ECS means to stop it.
    pub fn desired(&self) -> &'static str {
        match self {
            TaskStatus::Provisioning
            | TaskStatus::Pending
            | TaskStatus::Activating
            | TaskStatus::Running => "RUNNING",
            _ => "STOPPED",
        }
    }

    /// Whether the task's elastic network interface is gone (deleted when
    /// the task deprovisioned): EC2 no longer describes it, so its public
    /// address is unknown, though ECS still lists the private one.
    pub fn eni_deleted(&self) -> bool {
        matches!(self, TaskStatus::Stopped | TaskStatus::Deleted)
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where ECS runs a task: on Fargate, on the cluster's EC2 instances, or
/// on an external (ECS Anywhere) host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LaunchType {
    Fargate,
    Ec2,
    External,
}

impl LaunchType {
    pub fn as_str(&self) -> &'static str {
        match self {
            LaunchType::Fargate => "FARGATE",
            LaunchType::Ec2 => "EC2",
            LaunchType::External => "EXTERNAL",
        }
    }
}

/// A task definition's network mode: only `awsvpc` gives a task an
/// elastic network interface, and so addresses, of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NetworkMode {
    Awsvpc,
    Bridge,
    Host,
    None,
}

impl NetworkMode {
    pub fn as_str(&self) -> &'static str {
        match self {
            NetworkMode::Awsvpc => "awsvpc",
            NetworkMode::Bridge => "bridge",
            NetworkMode::Host => "host",
            NetworkMode::None => "none",
        }
    }
}

fn task_running() -> TaskStatus {
    TaskStatus::Running
}
fn fargate() -> LaunchType {
    LaunchType::Fargate
}
fn awsvpc() -> NetworkMode {
    NetworkMode::Awsvpc
}
fn is_awsvpc(mode: &NetworkMode) -> bool {
    *mode == NetworkMode::Awsvpc
}
fn is_fargate(launch: &LaunchType) -> bool {
    *launch == LaunchType::Fargate
}
fn is_task_running(status: &TaskStatus) -> bool {
    *status == TaskStatus::Running
}

/// An ECS task: a service's (`service`) or one run alone, in `awsvpc` mode
/// with addresses of its own in `subnet`, or in `bridge` or `host` mode on
/// an instance, with none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorldTask {
    /// The task's id, the last part of its ARN: 32 hex digits as ECS
    /// writes them, or a short readable one (letters, digits, hyphens).
    pub id: String,
    /// A handle for scenario steps (`run-task web-1`); ECS has no such thing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The cluster's name (one of the world's `clusters`).
    pub cluster: String,
    /// The task definition's family.
    pub family: String,
    /// The service that started it: its group is `service:NAME`, else
    /// `family:FAMILY`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(default = "fargate", skip_serializing_if = "is_fargate")]
    pub launch_type: LaunchType,
    #[serde(default = "awsvpc", skip_serializing_if = "is_awsvpc")]
    pub network_mode: NetworkMode,
    /// The subnet of its network interface (`awsvpc` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_ip: Option<Ipv4Addr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6: Option<Ipv6Addr>,
    /// Its public IPv4 (`assignPublicIp` ENABLED).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_ip: Option<Ipv4Addr>,
    /// `lastStatus`; RUNNING unless given.
    #[serde(default = "task_running", skip_serializing_if = "is_task_running")]
    pub status: TaskStatus,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// When it started running (RFC 3339).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "ec2_ddns_core::model::opt_time"
    )]
    pub started_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl WorldTask {
    /// The task as a world file holds it, from what ECS and EC2 describe
    /// (a snapshot's view): its cluster and id from its ARN, its service
    /// from its group, `awsvpc` when it has a network interface and
    /// `bridge` when not (ECS's description does not tell bridge from
    /// host). `None` for a status or launch type a world does not know.
    pub fn from_facts(facts: &TaskFacts) -> Option<WorldTask> {
        let quoted = |s: &str| serde_json::Value::String(s.to_string());
        let status: TaskStatus = serde_json::from_value(quoted(&facts.last_status)).ok()?;
        let launch_type: LaunchType = match facts.launch_type.as_deref() {
            Some(l) => serde_json::from_value(quoted(l)).ok()?,
            None => LaunchType::Fargate,
        };
        let service = facts
            .group
            .as_deref()
            .and_then(|g| g.strip_prefix("service:"))
            .map(str::to_string);
        let family = facts.family.clone().or_else(|| {
            facts
                .group
                .as_deref()
                .and_then(|g| g.strip_prefix("family:"))
                .map(str::to_string)
        })?;
        let eni = facts.eni.as_ref();
        Some(WorldTask {
            id: facts.task_id().to_string(),
            name: None,
            cluster: facts.cluster_name().to_string(),
            family,
            service,
            launch_type,
            network_mode: if eni.is_some() {
                NetworkMode::Awsvpc
            } else {
                NetworkMode::Bridge
            },
            subnet: eni.and_then(|e| e.subnet_id.clone()),
            private_ip: eni.and_then(|e| e.private_ip),
            ipv6: eni.and_then(|e| e.ipv6),
            public_ip: eni.and_then(|e| e.public_ip),
            status,
            tags: facts.tags.clone(),
            started_at: facts.started_at,
        })
    }
}

/// Whether `id` is a task id a world may use: 32 hex digits as ECS writes
/// them, or a short readable id of 1 to 36 letters, digits and hyphens
/// (either fits in a task ARN).
pub fn is_world_task_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 36
        && !id.starts_with('-')
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Whether `name` is a cluster name ECS accepts: 1 to 255 letters, digits,
/// hyphens and underscores.
pub fn is_cluster_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The account id a world without `account` stands for (moto's, and the
/// events' in tests).
pub const DEFAULT_ACCOUNT: &str = "123456789012";

/// Parses a JSON file that must hold one object (`what` names it for the
/// error), naming the file and the path of any problem
/// (`instances[0].tags`) with what was expected.
pub fn parse_json<T: serde::de::DeserializeOwned>(file: &str, what: &str, text: &str) -> Result<T> {
    let bad = |path: String, message: String| Error::BadFile {
        file: file.to_string(),
        path,
        message,
    };
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| bad("(top)".into(), format!("not JSON: {e}")))?;
    if !value.is_object() {
        let found = match value {
            serde_json::Value::Array(_) => "an array",
            serde_json::Value::String(_) => "a string",
            serde_json::Value::Number(_) => "a number",
            serde_json::Value::Bool(_) => "a boolean",
            _ => "null",
        };
        return Err(bad(
            "(top)".into(),
            format!("expected {what} (a JSON object), found {found}"),
        ));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        bad(
            if path == "." { "(top)".into() } else { path },
            e.into_inner().to_string(),
        )
    })
}

/// Reads a file to a string, naming it on failure.
pub fn read_file(path: &str) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_string(),
        source: source.into(),
    })
}

/// Remembers where each key was first seen, to name both places of a duplicate.
struct Seen(BTreeMap<String, String>);

impl Seen {
    fn new() -> Seen {
        Seen(BTreeMap::new())
    }

    /// `Err(first place)` when `key` was seen before.
    fn first(&mut self, key: String, at: String) -> Result<(), String> {
        match self.0.get(&key) {
            Some(first) => Err(first.clone()),
            None => {
                self.0.insert(key, at);
                Ok(())
            }
        }
    }
}

impl World {
    /// An account with nothing in it.
    pub fn empty(region: &str) -> World {
        World {
            region: region.to_string(),
            account: None,
            vpcs: Vec::new(),
            subnets: Vec::new(),
            zones: Vec::new(),
            instances: Vec::new(),
            clusters: Vec::new(),
            tasks: Vec::new(),
            registry: Vec::new(),
            foreign_registry: Vec::new(),
            route53_pending_polls: 0,
            members: Vec::new(),
            role_refused: false,
        }
    }

    /// The member world of `account` in `region`, if the world has one.
    pub fn member(&self, account: &str, region: &str) -> Option<&World> {
        self.members
            .iter()
            .find(|m| m.account_id() == account && m.region == region)
    }

    /// [`World::member`], to change it.
    pub fn member_mut(&mut self, account: &str, region: &str) -> Option<&mut World> {
        self.members
            .iter_mut()
            .find(|m| m.account_id() == account && m.region == region)
    }

    /// Loads and checks a world file.
    pub fn load(path: &str) -> Result<World> {
        World::parse(path, &read_file(path)?)
    }

    /// Parses and checks a world given as text; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<World> {
        let world: World = parse_json(
            file,
            "a world with region, vpcs, subnets, zones and instances",
            text,
        )?;
        world.check(file)?;
        Ok(world)
    }

    /// Everything a JSON schema cannot say: references resolve, ids are
    /// unique, addresses lie in their networks, zones hold what Route 53
    /// would let them hold.
    pub fn check(&self, file: &str) -> Result<()> {
        self.check_inner()
            .map_err(|(path, message)| Error::BadFile {
                file: file.to_string(),
                path,
                message,
            })
    }

    /// Each part of the world in turn (VPCs, subnets, zones, instances, the
    /// registry's items); the first problem found is the one reported.
    fn check_inner(&self) -> Result<(), (String, String)> {
        self.check_vpcs()?;
        self.check_subnets()?;
        self.check_zones()?;
        self.check_instances()?;
        self.check_clusters()?;
        self.check_tasks()?;
        // One table: no two items, ours or others', share a key.
        let mut owners = Seen::new();
        self.check_registry(&mut owners)?;
        self.check_foreign_registry(&mut owners)?;
        self.check_members()
    }

    /// Members: each a place of its own (an account id, a region, once),
    /// holding EC2 and ECS only, and sound by the same checks.
    fn check_members(&self) -> Result<(), (String, String)> {
        let mut places = Seen::new();
        places
            .first(
                format!("{}/{}", self.account_id(), self.region),
                "the world".into(),
            )
            .ok();
        for (i, m) in self.members.iter().enumerate() {
            let at = |field: &str| format!("members[{i}].{field}");
            let Some(account) = m.account.as_deref() else {
                return Err((
                    at("account"),
                    "a member names its account: 12 digits".into(),
                ));
            };
            if !ec2_ddns_core::model::Place::is_account_id(account) {
                return Err((
                    at("account"),
                    format!("'{}' is not 12 digits", clip(account)),
                ));
            }
            if !m.zones.is_empty() || !m.registry.is_empty() || !m.foreign_registry.is_empty() {
                return Err((
                    at("zones"),
                    "zones and the registry are the central account's: a member holds vpcs, subnets, instances, clusters and tasks only".into(),
                ));
            }
            if !m.members.is_empty() {
                return Err((at("members"), "a member has no members of its own".into()));
            }
            if let Err(first) = places.first(format!("{account}/{}", m.region), at("")) {
                return Err((
                    at("region"),
                    format!(
                        "{account} in {} is described twice (first at {first})",
                        m.region
                    ),
                ));
            }
            m.check_inner()
                .map_err(|(path, message)| (format!("members[{i}].{path}"), message))?;
        }
        Ok(())
    }

    /// VPCs: each id once.
    fn check_vpcs(&self) -> Result<(), (String, String)> {
        let mut vpcs = Seen::new();
        for (i, v) in self.vpcs.iter().enumerate() {
            let at = format!("vpcs[{i}].id");
            vpcs.first(v.id.clone(), format!("vpcs[{i}]"))
                .map_err(|first| {
                    (
                        at,
                        format!("VPC id '{}' appears twice (first at {first})", clip(&v.id)),
                    )
                })?;
        }
        Ok(())
    }

    /// Subnets: each id once, in a known VPC, its block inside the VPC's.
    fn check_subnets(&self) -> Result<(), (String, String)> {
        let vpc_ids: Vec<&str> = self.vpcs.iter().map(|v| v.id.as_str()).collect();
        let mut subnets = Seen::new();
        for (i, s) in self.subnets.iter().enumerate() {
            subnets
                .first(s.id.clone(), format!("subnets[{i}]"))
                .map_err(|first| {
                    (
                        format!("subnets[{i}].id"),
                        format!(
                            "subnet id '{}' appears twice (first at {first})",
                            clip(&s.id)
                        ),
                    )
                })?;
            let vpc = self.vpcs.iter().find(|v| v.id == s.vpc).ok_or_else(|| {
                (
                    format!("subnets[{i}].vpc"),
                    format!(
                        "unknown VPC '{}'; expected one of {vpc_ids:?}",
                        clip(&s.vpc)
                    ),
                )
            })?;
            match (&s.cidr, s.ipv6_native) {
                (Some(cidr), false) if !vpc.cidr.covers(cidr) => {
                    return Err((
                        format!("subnets[{i}].cidr"),
                        format!(
                            "{cidr} is not inside VPC {} ({}); a subnet's block lies within its VPC's",
                            vpc.id, vpc.cidr
                        ),
                    ))
                }
                (Some(_), true) => {
                    return Err((
                        format!("subnets[{i}].cidr"),
                        "an IPv6-only subnet (ipv6_native) has no IPv4 block; remove cidr, or ipv6_native".into(),
                    ))
                }
                (None, false) => {
                    return Err((
                        format!("subnets[{i}].cidr"),
                        "missing; a subnet has an IPv4 block unless it is IPv6-only (\"ipv6_native\": true)".into(),
                    ))
                }
                (None, true) if s.ipv6_cidr.is_none() => {
                    return Err((
                        format!("subnets[{i}].ipv6_cidr"),
                        "missing; an IPv6-only subnet (ipv6_native) needs an IPv6 block".into(),
                    ))
                }
                _ => {}
            }
            if let Some(block) = &s.ipv6_cidr {
                let within = vpc.ipv6_cidr.is_some_and(|v| v.covers(block));
                if !within {
                    let vpc_block = vpc
                        .ipv6_cidr
                        .map_or("no IPv6 block".to_string(), |b| b.to_string());
                    return Err((
                        format!("subnets[{i}].ipv6_cidr"),
                        format!(
                            "{block} is not inside VPC {}'s IPv6 block ({vpc_block}); give the VPC an ipv6_cidr that holds it",
                            vpc.id
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Zones: each one as Route 53 would hold it (`check_zone`), each id once.
    fn check_zones(&self) -> Result<(), (String, String)> {
        let mut zones = Seen::new();
        for (i, z) in self.zones.iter().enumerate() {
            self.check_zone(i, z)?;
            zones
                .first(z.info().id.to_string(), format!("zones[{i}]"))
                .map_err(|first| {
                    (
                        format!("zones[{i}].id"),
                        format!("zone id '{}' appears twice (first at {first})", clip(&z.id)),
                    )
                })?;
        }
        Ok(())
    }

    /// Instances: a well-formed id, each id and name once, in a known
    /// subnet, the private address inside it.
    fn check_instances(&self) -> Result<(), (String, String)> {
        let mut instances = Seen::new();
        let mut names_seen = Seen::new();
        let subnet_ids: Vec<&str> = self.subnets.iter().map(|s| s.id.as_str()).collect();
        for (i, inst) in self.instances.iter().enumerate() {
            if !ec2_ddns_core::event::is_instance_id(&inst.id) {
                return Err((
                    format!("instances[{i}].id"),
                    format!(
                        "'{}' is not an instance id; expected i- and 1 to 32 letters or digits",
                        clip(&inst.id)
                    ),
                ));
            }
            instances
                .first(inst.id.clone(), format!("instances[{i}]"))
                .map_err(|first| {
                    (
                        format!("instances[{i}].id"),
                        format!("'{}' appears twice (first at {first})", inst.id),
                    )
                })?;
            if let Some(name) = &inst.name {
                names_seen.first(name.clone(), format!("instances[{i}]")).map_err(|first| {
                    (format!("instances[{i}].name"), format!("'{}' is also the name of {first}; scenario steps find instances by name, so names are unique", clip(name)))
                })?;
            }
            let subnet = self
                .subnets
                .iter()
                .find(|s| s.id == inst.subnet)
                .ok_or_else(|| {
                    (
                        format!("instances[{i}].subnet"),
                        format!(
                            "unknown subnet '{}'; expected one of {subnet_ids:?}",
                            clip(&inst.subnet)
                        ),
                    )
                })?;
            match (inst.private_ip, &subnet.cidr) {
                (None, Some(_)) => {
                    return Err((
                        format!("instances[{i}].private_ip"),
                        format!("missing; an instance in subnet {} has a private IPv4 (only an IPv6-only subnet's instances have none)", subnet.id),
                    ))
                }
                (Some(ip), None) => {
                    return Err((
                        format!("instances[{i}].private_ip"),
                        format!("{ip}: subnet {} is IPv6-only, so its instances have no private IPv4; remove private_ip", subnet.id),
                    ))
                }
                (Some(ip), Some(cidr)) if !cidr.contains(ip) => {
                    return Err((
                        format!("instances[{i}].private_ip"),
                        format!("{ip} is not inside subnet {} ({cidr})", subnet.id),
                    ))
                }
                (None, None) if inst.ipv6.is_none() => {
                    return Err((
                        format!("instances[{i}].ipv6"),
                        format!("missing; an instance in IPv6-only subnet {} has an IPv6 address", subnet.id),
                    ))
                }
                _ => {}
            }
            if let Some(ip) = inst.ipv6 {
                if !subnet.ipv6_cidr.is_some_and(|b| b.contains(ip)) {
                    let block = subnet
                        .ipv6_cidr
                        .map_or("no IPv6 block".to_string(), |b| b.to_string());
                    return Err((
                        format!("instances[{i}].ipv6"),
                        format!(
                            "{ip} is not inside subnet {}'s IPv6 block ({block})",
                            subnet.id
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Clusters: a name ECS accepts, each once.
    fn check_clusters(&self) -> Result<(), (String, String)> {
        let mut clusters = Seen::new();
        for (i, c) in self.clusters.iter().enumerate() {
            if !is_cluster_name(&c.name) {
                return Err((
                    format!("clusters[{i}].name"),
                    format!(
                        "'{}' is not a cluster name; expected 1 to 255 letters, digits, hyphens and underscores",
                        clip(&c.name)
                    ),
                ));
            }
            clusters
                .first(c.name.clone(), format!("clusters[{i}]"))
                .map_err(|first| {
                    (
                        format!("clusters[{i}].name"),
                        format!(
                            "cluster '{}' appears twice (first at {first})",
                            clip(&c.name)
                        ),
                    )
                })?;
        }
        Ok(())
    }

    /// Tasks: a well-formed id, each id and name once, in a known cluster;
    /// in `awsvpc` mode in a known subnet with its addresses inside it, in
    /// `bridge` or `host` mode with no addresses of its own (Fargate runs
    /// only `awsvpc` tasks).
    fn check_tasks(&self) -> Result<(), (String, String)> {
        let mut ids = Seen::new();
        let mut names_seen = Seen::new();
        let cluster_names: Vec<&str> = self.clusters.iter().map(|c| c.name.as_str()).collect();
        let subnet_ids: Vec<&str> = self.subnets.iter().map(|s| s.id.as_str()).collect();
        for (i, t) in self.tasks.iter().enumerate() {
            let at = |field: &str| format!("tasks[{i}].{field}");
            if !is_world_task_id(&t.id) {
                return Err((
                    at("id"),
                    format!(
                        "'{}' is not a task id; expected 32 hex digits as ECS writes them, or a short id of 1 to 36 letters, digits and hyphens",
                        clip(&t.id)
                    ),
                ));
            }
            ids.first(t.id.clone(), format!("tasks[{i}]"))
                .map_err(|first| {
                    (
                        at("id"),
                        format!("task id '{}' appears twice (first at {first})", t.id),
                    )
                })?;
            if let Some(name) = &t.name {
                names_seen.first(name.clone(), format!("tasks[{i}]")).map_err(|first| {
                    (at("name"), format!("'{}' is also the name of {first}; scenario steps find tasks by name, so names are unique", clip(name)))
                })?;
            }
            if !self.clusters.iter().any(|c| c.name == t.cluster) {
                return Err((
                    at("cluster"),
                    format!(
                        "unknown cluster '{}'; expected one of {cluster_names:?} (add it to clusters)",
                        clip(&t.cluster)
                    ),
                ));
            }
            if t.family.is_empty() || t.family.len() > 255 {
                return Err((
                    at("family"),
                    "expected a task definition family of 1 to 255 characters".into(),
                ));
            }
            if t.service.as_deref().is_some_and(str::is_empty) {
                return Err((
                    at("service"),
                    "is empty; give the service's name, or leave service out for a task run alone"
                        .into(),
                ));
            }
            if t.network_mode != NetworkMode::Awsvpc {
                if t.launch_type == LaunchType::Fargate {
                    return Err((
                        at("network_mode"),
                        format!(
                            "a FARGATE task runs in awsvpc mode only, not {}",
                            t.network_mode.as_str()
                        ),
                    ));
                }
                let own = [
                    ("subnet", t.subnet.is_some()),
                    ("private_ip", t.private_ip.is_some()),
                    ("ipv6", t.ipv6.is_some()),
                    ("public_ip", t.public_ip.is_some()),
                ];
                if let Some((field, _)) = own.iter().find(|(_, given)| *given) {
                    return Err((
                        at(field),
                        format!(
                            "a task in {} mode has no network interface or addresses of its own (its address is its instance's); remove {field}, or use network_mode awsvpc",
                            t.network_mode.as_str()
                        ),
                    ));
                }
                continue;
            }
            let Some(subnet_id) = &t.subnet else {
                return Err((
                    at("subnet"),
                    "missing; a task in awsvpc mode has a network interface in a subnet".into(),
                ));
            };
            let subnet = self
                .subnets
                .iter()
                .find(|s| s.id == *subnet_id)
                .ok_or_else(|| {
                    (
                        at("subnet"),
                        format!(
                            "unknown subnet '{}'; expected one of {subnet_ids:?}",
                            clip(subnet_id)
                        ),
                    )
                })?;
            match (t.private_ip, &subnet.cidr) {
                (None, Some(_)) => {
                    return Err((
                        at("private_ip"),
                        format!("missing; a task in subnet {} has a private IPv4 (only an IPv6-only subnet's tasks have none)", subnet.id),
                    ))
                }
                (Some(ip), None) => {
                    return Err((
                        at("private_ip"),
                        format!("{ip}: subnet {} is IPv6-only, so its tasks have no private IPv4; remove private_ip", subnet.id),
                    ))
                }
                (Some(ip), Some(cidr)) if !cidr.contains(ip) => {
                    return Err((
                        at("private_ip"),
                        format!("{ip} is not inside subnet {} ({cidr})", subnet.id),
                    ))
                }
                (None, None) if t.ipv6.is_none() => {
                    return Err((
                        at("ipv6"),
                        format!("missing; a task in IPv6-only subnet {} has an IPv6 address", subnet.id),
                    ))
                }
                _ => {}
            }
            if let Some(ip) = t.ipv6 {
                if !subnet.ipv6_cidr.is_some_and(|b| b.contains(ip)) {
                    let block = subnet
                        .ipv6_cidr
                        .map_or("no IPv6 block".to_string(), |b| b.to_string());
                    return Err((
                        at("ipv6"),
                        format!(
                            "{ip} is not inside subnet {}'s IPv6 block ({block})",
                            subnet.id
                        ),
                    ));
                }
            }
            if let Some(ip) = t.public_ip {
                if ip.is_private() || ip.is_loopback() || ip.is_unspecified() {
                    return Err((at("public_ip"), format!("{ip} is not a public address")));
                }
            }
        }
        Ok(())
    }

    /// Our registry items: keyed by an instance id (or a task's ARN), one item per key
    /// (`owners` remembers the keys), each listed record as
    /// `check_item_records` wants it.
    fn check_registry(&self, owners: &mut Seen) -> Result<(), (String, String)> {
        let zones: Vec<ZoneInfo> = self.zones.iter().map(WorldZone::info).collect();
        let zone_ids: Vec<&str> = zones.iter().map(|z| z.id.as_str()).collect();
        for (i, item) in self.registry.iter().enumerate() {
            let keyed = match &item.key {
                RegistryKey::Task(_) => true,
                key => ec2_ddns_core::event::is_instance_id(&key.stored()),
            };
            if !keyed {
                return Err((
                    format!("registry[{i}].instance_id"),
                    format!(
                        "'{}' is not an instance id (nor task# and a task's ARN)",
                        clip(&item.key.stored())
                    ),
                ));
            }
            owners
                .first(item.key.stored(), format!("registry[{i}]"))
                .map_err(|first| {
                    (
                        format!("registry[{i}].instance_id"),
                        format!("'{}' has two registry items (first at {first})", item.key),
                    )
                })?;
            Self::check_item_records(i, item, &zones, &zone_ids)?;
        }
        Ok(())
    }

    /// Registry item `i`'s records and pending records: each in a known zone
    /// (`zones`, whose ids are `zone_ids`), under that zone's name, inside it.
    fn check_item_records(
        i: usize,
        item: &RegistryItem,
        zones: &[ZoneInfo],
        zone_ids: &[&str],
    ) -> Result<(), (String, String)> {
        let listed = item
            .records
            .iter()
            .enumerate()
            .map(|(j, o)| (format!("records[{j}]"), o))
            .chain(
                item.pending
                    .iter()
                    .enumerate()
                    .map(|(j, o)| (format!("pending[{j}]"), o)),
            );
        for (j, owned) in listed {
            match zones.iter().find(|z| z.id == owned.zone_id) {
                None => {
                    return Err((
                        format!("registry[{i}].{j}.zone_id"),
                        format!(
                            "unknown zone '{}'; expected one of {zone_ids:?}",
                            clip(&owned.zone_id)
                        ),
                    ))
                }
                Some(z) if z.name != names::normalize(&owned.zone_name) => {
                    return Err((
                        format!("registry[{i}].{j}.zone_name"),
                        format!(
                            "'{}' is not the name of zone {} ({})",
                            clip(&owned.zone_name),
                            z.id,
                            z.name
                        ),
                    ))
                }
                Some(z) if !names::is_within(&owned.record.name, &z.name) => {
                    return Err((
                        format!("registry[{i}].{j}.record.name"),
                        format!(
                            "'{}' is not inside zone {}",
                            clip(&owned.record.name),
                            z.name
                        ),
                    ))
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// Others' registry items: a key that is not blank, and not the key of
    /// another item (ours, seen in `owners`, or theirs).
    fn check_foreign_registry(&self, owners: &mut Seen) -> Result<(), (String, String)> {
        for (i, item) in self.foreign_registry.iter().enumerate() {
            let path = format!("foreign_registry[{i}].instance_id");
            if item.key.stored().trim().is_empty() {
                return Err((path, "is empty; give the item's InstanceId".into()));
            }
            owners
                .first(item.key.stored(), format!("foreign_registry[{i}]"))
                .map_err(|first| {
                    (
                        path,
                        format!(
                            "'{}' has two registry items (first at {first})",
                            clip(&item.key.stored())
                        ),
                    )
                })?;
        }
        Ok(())
    }

    fn check_zone(&self, i: usize, z: &WorldZone) -> Result<(), (String, String)> {
        let zone_name = names::normalize(&z.name);
        names::check_hostname(&zone_name).map_err(|p| {
            (
                format!("zones[{i}].name"),
                format!("'{}' is not a zone name: {p}", clip(&z.name)),
            )
        })?;
        match (z.private, z.vpcs.is_empty()) {
            (true, true) => {
                return Err((
                    format!("zones[{i}].vpcs"),
                    "a private zone needs at least one associated VPC".into(),
                ))
            }
            (false, false) => {
                return Err((
                    format!("zones[{i}].vpcs"),
                    "a public zone is not associated with VPCs; remove vpcs or set private: true"
                        .into(),
                ))
            }
            _ => {}
        }
        let mut associated = BTreeSet::new();
        // A private zone may be associated with member accounts' VPCs
        // too (by authorization, across accounts).
        let all_vpcs = || {
            self.vpcs
                .iter()
                .chain(self.members.iter().flat_map(|m| m.vpcs.iter()))
        };
        for (j, v) in z.vpcs.iter().enumerate() {
            if !all_vpcs().any(|known| known.id == *v) {
                let vpc_ids: Vec<&str> = all_vpcs().map(|v| v.id.as_str()).collect();
                return Err((
                    format!("zones[{i}].vpcs[{j}]"),
                    format!("unknown VPC '{}'; expected one of {vpc_ids:?}", clip(v)),
                ));
            }
            if !associated.insert(v) {
                return Err((
                    format!("zones[{i}].vpcs[{j}]"),
                    format!("VPC '{v}' is listed twice"),
                ));
            }
        }
        let mut slots = Seen::new();
        for (j, r) in z.records.iter().enumerate() {
            let at = format!("zones[{i}].records[{j}]");
            if !names::is_within(&r.name, &zone_name) {
                return Err((
                    format!("{at}.name"),
                    format!("'{}' is not inside zone '{zone_name}'", clip(&r.name)),
                ));
            }
            let set = r
                .routing
                .set_id()
                .map(|id| format!(" {id}"))
                .unwrap_or_default();
            slots
                .first(format!("{} {}{set}", r.name, r.rtype), at.clone())
                .map_err(|first| {
                    let what = match r.routing.set_id() {
                        None => "one record set holds all values of a name and type".to_string(),
                        Some(id) => format!("set identifier {id} is taken at this name and type"),
                    };
                    (
                        at.clone(),
                        format!(
                            "a second {} record set at {} (first at {first}); {what}",
                            r.rtype, r.name
                        ),
                    )
                })?;
            if let Some(other) = z.records.iter().find(|o| {
                o.name == r.name
                    && o.rtype == r.rtype
                    && !o.same_slot(r)
                    && !o.routing.mixes_with(&r.routing)
            }) {
                return Err((
                    at,
                    format!(
                        "{} {} record sets under two routing policies ({} and {}); record sets of one name and type share one policy, each with its own set_identifier",
                        r.name,
                        r.rtype,
                        r.routing.policy(),
                        other.routing.policy()
                    ),
                ));
            }
            if r.rtype == RecordType::Cname && r.name == zone_name {
                return Err((
                    at,
                    format!("a CNAME at the zone apex {zone_name}; Route 53 refuses it"),
                ));
            }
            let beside = z.records.iter().find(|o| {
                o.name == r.name
                    && o.rtype != r.rtype
                    && (o.rtype == RecordType::Cname || r.rtype == RecordType::Cname)
            });
            if let Some(other) = beside {
                return Err((
                    at,
                    format!(
                        "{} holds a CNAME and {} record; a CNAME stands alone at its name",
                        r.name,
                        if other.rtype == RecordType::Cname {
                            r.rtype.with_article()
                        } else {
                            other.rtype.with_article()
                        }
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The instance whose id or `name` is `who`.
    pub fn find_instance(&self, who: &str) -> Option<&WorldInstance> {
        self.instances
            .iter()
            .find(|i| i.id == who || i.name.as_deref() == Some(who))
    }

    /// The instance whose id or `name` is `who`, to change it.
    pub fn find_instance_mut(&mut self, who: &str) -> Option<&mut WorldInstance> {
        self.instances
            .iter_mut()
            .find(|i| i.id == who || i.name.as_deref() == Some(who))
    }

    fn vpc_of_subnet(&self, subnet: &str) -> Option<&WorldVpc> {
        let s = self.subnets.iter().find(|s| s.id == subnet)?;
        self.vpcs.iter().find(|v| v.id == s.vpc)
    }

    /// The instance as DescribeInstances would show it, with AWS's default
    /// DNS names where the world does not give them.
    pub fn instance_facts(&self, inst: &WorldInstance) -> InstanceFacts {
        let vpc = self.vpc_of_subnet(&inst.subnet);
        let dashed = |ip: Ipv4Addr| ip.to_string().replace('.', "-");
        // EC2 names an instance by its IPv4 (`ip-10-1-2-4`); one without
        // IPv4 gets a resource-based name (`i-0abc….region.compute.internal`,
        // `i-0abc….ec2.internal` in us-east-1).
        let private_dns = inst.private_dns_name.clone().unwrap_or_else(|| {
            let label = match inst.private_ip {
                Some(ip) => format!("ip-{}", dashed(ip)),
                None => inst.id.clone(),
            };
            if self.region == "us-east-1" {
                format!("{label}.ec2.internal")
            } else {
                format!("{label}.{}.compute.internal", self.region)
            }
        });
        let public_dns = inst.public_dns_name.clone().or_else(|| {
            let ip = inst.public_ip?;
            if !vpc.is_some_and(|v| v.dns_hostnames) {
                return None;
            }
            Some(if self.region == "us-east-1" {
                format!("ec2-{}.compute-1.amazonaws.com", dashed(ip))
            } else {
                format!("ec2-{}.{}.compute.amazonaws.com", dashed(ip), self.region)
            })
        });
        let mut tags = inst.tags.clone();
        if let Some(name) = &inst.name {
            tags.entry("Name".into()).or_insert_with(|| name.clone());
        }
        InstanceFacts {
            instance_id: inst.id.clone(),
            state: inst.state,
            vpc_id: vpc.map(|v| v.id.clone()),
            subnet_id: Some(inst.subnet.clone()),
            private_ip: inst.private_ip,
            public_ip: inst.public_ip,
            ipv6: inst.ipv6,
            private_dns_name: Some(private_dns),
            public_dns_name: public_dns.filter(|d| !d.is_empty()),
            tags,
            launch_time: inst.launch_time,
        }
    }

    /// The account id: the world's `account`, else [`DEFAULT_ACCOUNT`].
    pub fn account_id(&self) -> &str {
        self.account.as_deref().unwrap_or(DEFAULT_ACCOUNT)
    }

    /// A cluster's ARN, as ECS writes it.
    pub fn cluster_arn(&self, cluster: &str) -> String {
        format!(
            "arn:aws:ecs:{}:{}:cluster/{cluster}",
            self.region,
            self.account_id()
        )
    }

    /// A task's ARN, in the long form that names its cluster.
    pub fn task_arn(&self, task: &WorldTask) -> String {
        format!(
            "arn:aws:ecs:{}:{}:task/{}/{}",
            self.region,
            self.account_id(),
            task.cluster,
            task.id
        )
    }

    /// The task whose id, `name` or ARN is `who`.
    pub fn find_task(&self, who: &str) -> Option<&WorldTask> {
        self.tasks
            .iter()
            .find(|t| t.id == who || t.name.as_deref() == Some(who) || self.task_arn(t) == who)
    }

    /// The task whose id or `name` is `who`, to change it.
    pub fn find_task_mut(&mut self, who: &str) -> Option<&mut WorldTask> {
        self.tasks
            .iter_mut()
            .find(|t| t.id == who || t.name.as_deref() == Some(who))
    }

    /// The task as DescribeTasks (and, for its public address,
    /// DescribeNetworkInterfaces) would show it: its ENI's id made up from
    /// its ARN (the same each time), the VPC its subnet's, EC2's default DNS
    /// names. A stopped task's ENI is deleted, so EC2 no longer describes
    /// it: its VPC and public address are not known (ECS still lists the
    /// subnet and private address in the attachment).
    pub fn task_facts(&self, task: &WorldTask) -> TaskFacts {
        let arn = self.task_arn(task);
        let eni = task.subnet.as_ref().map(|subnet| {
            let live = !task.status.eni_deleted();
            let vpc = self.vpc_of_subnet(subnet).filter(|_| live);
            let public_ip = task.public_ip.filter(|_| live);
            TaskEni {
                eni_id: format!("eni-0{:016x}", fnv1a(arn.as_bytes())),
                subnet_id: Some(subnet.clone()),
                vpc_id: vpc.map(|v| v.id.clone()),
                private_ip: task.private_ip,
                ipv6: task.ipv6,
                public_ip,
                private_dns_name: task.private_ip.map(|ip| self.private_dns_name(ip)),
                public_dns_name: public_ip
                    .filter(|_| vpc.is_some_and(|v| v.dns_hostnames))
                    .map(|ip| self.public_dns_name(ip)),
            }
        });
        TaskFacts {
            task_arn: arn,
            cluster_arn: self.cluster_arn(&task.cluster),
            last_status: task.status.as_str().to_string(),
            desired_status: task.status.desired().to_string(),
            group: Some(match &task.service {
                Some(service) => format!("service:{service}"),
                None => format!("family:{}", task.family),
            }),
            family: Some(task.family.clone()),
            launch_type: Some(task.launch_type.as_str().to_string()),
            eni,
            tags: task.tags.clone(),
            started_at: task.started_at,
        }
    }

    /// EC2's private DNS name for an address (`ip-10-1-2-4.ec2.internal`
    /// in us-east-1, `ip-10-1-2-4.REGION.compute.internal` elsewhere).
    fn private_dns_name(&self, ip: Ipv4Addr) -> String {
        let label = format!("ip-{}", ip.to_string().replace('.', "-"));
        if self.region == "us-east-1" {
            format!("{label}.ec2.internal")
        } else {
            format!("{label}.{}.compute.internal", self.region)
        }
    }

    /// EC2's public DNS name for a public address.
    fn public_dns_name(&self, ip: Ipv4Addr) -> String {
        let dashed = ip.to_string().replace('.', "-");
        if self.region == "us-east-1" {
            format!("ec2-{dashed}.compute-1.amazonaws.com")
        } else {
            format!("ec2-{dashed}.{}.compute.amazonaws.com", self.region)
        }
    }

    pub fn vpc_facts(&self, vpc_id: &str) -> Option<VpcFacts> {
        let v = self.vpcs.iter().find(|v| v.id == vpc_id)?;
        Some(VpcFacts {
            vpc_id: v.id.clone(),
            dhcp_domain: v.dhcp_domain.clone(),
            dns_support: v.dns_support,
            dns_hostnames: v.dns_hostnames,
        })
    }
}

/// FNV-1a: a made-up id that is the same on every run and platform.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    /// A small valid world; each case breaks one thing in it.
    fn base() -> serde_json::Value {
        serde_json::json!({
            "region": "us-east-1",
            "vpcs": [{"id": "vpc-1", "cidr": "10.0.0.0/16"}],
            "subnets": [{"id": "s-1", "vpc": "vpc-1", "cidr": "10.0.1.0/24"}],
            "zones": [
                {"id": "Z1", "name": "corp.example.", "private": true, "vpcs": ["vpc-1"],
                 "records": [{"name": "db.corp.example.", "type": "A", "ttl": 300, "values": ["10.0.9.9"]}]},
                {"id": "Z2", "name": "corp.example.", "private": false}
            ],
            "instances": [{"id": "i-1", "name": "web", "subnet": "s-1", "private_ip": "10.0.1.5"}],
            "clusters": [{"name": "prod"}],
            "tasks": [{"id": "0123456789abcdef0123456789abcdef", "name": "web-1", "cluster": "prod",
                       "family": "web", "service": "web", "subnet": "s-1", "private_ip": "10.0.1.9",
                       "public_ip": "34.1.2.9", "tags": {"GROUP": "web.corp.example"}}],
            "registry": [{"instance_id": "i-1", "version": 1, "last_event_time": "2026-11-21T10:00:00Z",
                          "records": [{"zone_id": "Z1", "zone_name": "corp.example.",
                                       "record": {"name": "ip-10-0-1-5.corp.example.", "type": "A", "ttl": 60, "values": ["10.0.1.5"]}}]}]
        })
    }

    fn load(value: &serde_json::Value) -> Result<World> {
        World::parse("w.json", &value.to_string())
    }

    /// An IPv6-only instance in an IPv6-only subnet loads, and EC2 would
    /// show it with a resource-based private DNS name and no IPv4.
    #[test]
    fn an_ipv6_only_instance_loads_with_a_resource_name() {
        let mut w = base();
        w["vpcs"][0]["ipv6_cidr"] = "2600:1f18::/56".into();
        w["subnets"][0] = serde_json::json!({"id": "s-1", "vpc": "vpc-1", "ipv6_native": true, "ipv6_cidr": "2600:1f18:0:1::/64"});
        w["instances"][0]
            .as_object_mut()
            .unwrap()
            .remove("private_ip");
        w["instances"][0]["ipv6"] = "2600:1f18:0:1::5".into();
        // The base's task had IPv4 there; an IPv6-only task has none either.
        w["tasks"][0].as_object_mut().unwrap().remove("private_ip");
        w["tasks"][0]["ipv6"] = "2600:1f18:0:1::9".into();
        let world = load(&w).unwrap();
        let facts = world.instance_facts(&world.instances[0]);
        assert_eq!(facts.private_ip, None);
        assert_eq!(facts.ipv6, Some("2600:1f18:0:1::5".parse().unwrap()));
        assert_eq!(facts.private_dns_name.as_deref(), Some("i-1.ec2.internal"));
    }

    #[test]
    fn the_base_world_loads() {
        let world = load(&base()).unwrap();
        assert_eq!(
            world.instances[0].state,
            InstanceState::Running,
            "state defaults to running"
        );
        assert_eq!(
            world.registry[0]
                .last_event_time
                .map(|t| ec2_ddns_core::model::format_time(&t))
                .as_deref(),
            Some("2026-11-21T10:00:00Z")
        );
    }

    type Edit = fn(&mut serde_json::Value);

    /// Appends to the array at `key` (indexing past the end would panic).
    fn push(w: &mut serde_json::Value, key: &str, item: serde_json::Value) {
        if let Some(list) = w[key].as_array_mut() {
            list.push(item);
        }
    }

    #[rstest]
    #[case::an_array_as_the_world(|w: &mut serde_json::Value| *w = serde_json::json!([]), "(top): expected a world")]
    #[case::duplicate_vpc(|w: &mut serde_json::Value| push(w, "vpcs", w["vpcs"][0].clone()), "vpcs[1].id: VPC id 'vpc-1' appears twice (first at vpcs[0])")]
    #[case::duplicate_subnet(|w: &mut serde_json::Value| push(w, "subnets", w["subnets"][0].clone()), "subnets[1].id: subnet id 's-1' appears twice")]
    #[case::duplicate_zone(|w: &mut serde_json::Value| w["zones"][1]["id"] = "/hostedzone/Z1".into(), "zones[1].id: zone id '/hostedzone/Z1' appears twice")]
    #[case::two_record_sets_one_name_and_type(|w: &mut serde_json::Value| push(&mut w["zones"][0], "records", serde_json::json!({"name": "DB.corp.example", "type": "A", "ttl": 60, "values": ["10.0.9.8"]})), "zones[0].records[1]: a second A record set at db.corp.example.")]
    #[case::a_group_member_beside_a_simple_record(|w: &mut serde_json::Value| push(&mut w["zones"][0], "records", serde_json::json!({"name": "db.corp.example.", "type": "A", "ttl": 60, "values": ["10.0.9.8"], "routing": "multivalue", "set_identifier": "i-1"})), "db.corp.example. A record sets under two routing policies (simple and multivalue)")]
    #[case::one_set_identifier_twice(|w: &mut serde_json::Value| { for ip in ["10.0.9.7", "10.0.9.8"] { push(&mut w["zones"][0], "records", serde_json::json!({"name": "g.corp.example.", "type": "A", "ttl": 60, "values": [ip], "routing": "multivalue", "set_identifier": "i-1"})); } }, "set identifier i-1 is taken at this name and type")]
    #[case::a_set_identifier_without_routing(|w: &mut serde_json::Value| push(&mut w["zones"][0], "records", serde_json::json!({"name": "g.corp.example.", "type": "A", "ttl": 60, "values": ["10.0.9.8"], "set_identifier": "i-1"})), "a record with a set_identifier needs a routing")]
    #[case::a_multivalue_cname(|w: &mut serde_json::Value| push(&mut w["zones"][0], "records", serde_json::json!({"name": "g.corp.example.", "type": "CNAME", "ttl": 60, "values": ["x.example."], "routing": "multivalue", "set_identifier": "i-1"})), "a multivalue record can't be a CNAME")]
    #[case::cname_beside_another_record(|w: &mut serde_json::Value| push(&mut w["zones"][0], "records", serde_json::json!({"name": "db.corp.example.", "type": "CNAME", "ttl": 60, "values": ["x.example."]})), "a CNAME stands alone")]
    #[case::zone_name_empty(|w: &mut serde_json::Value| w["zones"][0]["name"] = "".into(), "zones[0].name: '' is not a zone name: the name is empty")]
    #[case::zone_name_empty_label(|w: &mut serde_json::Value| w["zones"][0]["name"] = "bad..example".into(), "zones[0].name: 'bad..example' is not a zone name: the name has an empty label")]
    #[case::zone_name_wildcard(|w: &mut serde_json::Value| w["zones"][0]["name"] = "*.x".into(), "zones[0].name: '*.x' is not a zone name: wildcard")]
    #[case::a_value_not_an_ip(|w: &mut serde_json::Value| w["zones"][0]["records"][0]["values"][0] = "banana".into(), "zones[0].records[0]: value 'banana' of an A record is not an IPv4 address")]
    #[case::negative_ttl(|w: &mut serde_json::Value| w["zones"][0]["records"][0]["ttl"] = (-1).into(), "zones[0].records[0]: ttl -1 is out of range")]
    #[case::ip_outside_its_subnet(|w: &mut serde_json::Value| w["instances"][0]["private_ip"] = "10.0.2.5".into(), "instances[0].private_ip: 10.0.2.5 is not inside subnet s-1 (10.0.1.0/24)")]
    #[case::cidr_banana(|w: &mut serde_json::Value| w["vpcs"][0]["cidr"] = "banana".into(), "vpcs[0].cidr: 'banana' is not a CIDR block")]
    #[case::cidr_with_host_bits(|w: &mut serde_json::Value| w["subnets"][0]["cidr"] = "10.0.1.7/24".into(), "subnets[0].cidr: '10.0.1.7/24' has host bits set")]
    #[case::ipv6_cidr_banana(|w: &mut serde_json::Value| w["vpcs"][0]["ipv6_cidr"] = "banana".into(), "vpcs[0].ipv6_cidr: 'banana' is not an IPv6 CIDR block")]
    #[case::ipv6_cidr_with_host_bits(|w: &mut serde_json::Value| { w["vpcs"][0]["ipv6_cidr"] = "2600:1f18::1/56".into(); }, "has host bits set")]
    #[case::subnet_ipv6_without_a_vpc_block(|w: &mut serde_json::Value| w["subnets"][0]["ipv6_cidr"] = "2600:1f18:0:1::/64".into(), "subnets[0].ipv6_cidr: 2600:1f18:0:1::/64 is not inside VPC vpc-1's IPv6 block (no IPv6 block)")]
    #[case::instance_ipv6_outside_its_subnet(|w: &mut serde_json::Value| { w["vpcs"][0]["ipv6_cidr"] = "2600:1f18::/56".into(); w["subnets"][0]["ipv6_cidr"] = "2600:1f18:0:1::/64".into(); w["instances"][0]["ipv6"] = "2600:1f18:0:2::5".into(); }, "instances[0].ipv6: 2600:1f18:0:2::5 is not inside subnet s-1's IPv6 block (2600:1f18:0:1::/64)")]
    #[case::no_ipv4_in_a_dual_stack_subnet(|w: &mut serde_json::Value| { w["instances"][0].as_object_mut().unwrap().remove("private_ip"); }, "instances[0].private_ip: missing; an instance in subnet s-1 has a private IPv4")]
    #[case::ipv6_native_subnet_with_ipv4(|w: &mut serde_json::Value| { w["subnets"][0]["ipv6_native"] = true.into(); }, "subnets[0].cidr: an IPv6-only subnet (ipv6_native) has no IPv4 block")]
    #[case::ipv6_native_subnet_without_ipv6(|w: &mut serde_json::Value| { w["subnets"][0]["ipv6_native"] = true.into(); w["subnets"][0].as_object_mut().unwrap().remove("cidr"); }, "subnets[0].ipv6_cidr: missing; an IPv6-only subnet (ipv6_native) needs an IPv6 block")]
    #[case::subnet_outside_its_vpc(|w: &mut serde_json::Value| w["subnets"][0]["cidr"] = "10.9.1.0/24".into(), "subnets[0].cidr: 10.9.1.0/24 is not inside VPC vpc-1")]
    #[case::registry_time_garbage(|w: &mut serde_json::Value| w["registry"][0]["last_event_time"] = "garbage".into(), "registry[0].last_event_time: 'garbage' is not an RFC 3339 time")]
    #[case::registry_unknown_zone(|w: &mut serde_json::Value| w["registry"][0]["records"][0]["zone_id"] = "Z9".into(), "registry[0].records[0].zone_id: unknown zone 'Z9'")]
    #[case::registry_typo(|w: &mut serde_json::Value| w["registry"][0]["verison"] = 2.into(), "registry[0].verison: unknown field `verison`, expected one of")]
    #[case::unknown_subnet(|w: &mut serde_json::Value| w["instances"][0]["subnet"] = "s-2".into(), "instances[0].subnet: unknown subnet 's-2'")]
    #[case::unknown_state(|w: &mut serde_json::Value| w["instances"][0]["state"] = "runing".into(), "instances[0].state: unknown variant `runing`")]
    #[case::public_zone_with_vpcs(|w: &mut serde_json::Value| w["zones"][1]["vpcs"] = serde_json::json!(["vpc-1"]), "zones[1].vpcs: a public zone is not associated with VPCs")]
    #[case::record_outside_its_zone(|w: &mut serde_json::Value| w["zones"][0]["records"][0]["name"] = "db.xcorp.example.".into(), "zones[0].records[0].name: 'db.xcorp.example.' is not inside zone")]
    #[case::typo_in_a_vpc(|w: &mut serde_json::Value| w["vpcs"][0]["dhcp_domian"] = "x".into(), "vpcs[0].dhcp_domian: unknown field `dhcp_domian`, expected one of")]
    #[case::task_typo(|w: &mut serde_json::Value| w["tasks"][0]["famly"] = "web".into(), "tasks[0].famly: unknown field `famly`, expected one of")]
    #[case::cluster_typo(|w: &mut serde_json::Value| w["clusters"][0]["nmae"] = "x".into(), "clusters[0].nmae: unknown field `nmae`")]
    #[case::cluster_name_bad(|w: &mut serde_json::Value| w["clusters"][0]["name"] = "prod cluster".into(), "clusters[0].name: 'prod cluster' is not a cluster name")]
    #[case::duplicate_cluster(|w: &mut serde_json::Value| push(w, "clusters", serde_json::json!({"name": "prod"})), "clusters[1].name: cluster 'prod' appears twice (first at clusters[0])")]
    #[case::task_in_an_unknown_cluster(|w: &mut serde_json::Value| w["tasks"][0]["cluster"] = "stage".into(), "tasks[0].cluster: unknown cluster 'stage'; expected one of [\"prod\"]")]
    #[case::task_id_bad(|w: &mut serde_json::Value| w["tasks"][0]["id"] = "web/1".into(), "tasks[0].id: 'web/1' is not a task id")]
    #[case::task_id_too_long(|w: &mut serde_json::Value| w["tasks"][0]["id"] = "0123456789abcdef0123456789abcdef01234".into(), "is not a task id; expected 32 hex digits")]
    #[case::duplicate_task_id(|w: &mut serde_json::Value| { let mut second = w["tasks"][0].clone(); second["name"] = "web-2".into(); push(w, "tasks", second); }, "tasks[1].id: task id '0123456789abcdef0123456789abcdef' appears twice (first at tasks[0])")]
    #[case::duplicate_task_name(|w: &mut serde_json::Value| { let mut second = w["tasks"][0].clone(); second["id"] = "web2".into(); push(w, "tasks", second); }, "tasks[1].name: 'web-1' is also the name of tasks[0]")]
    #[case::task_ip_outside_its_subnet(|w: &mut serde_json::Value| w["tasks"][0]["private_ip"] = "10.0.2.9".into(), "tasks[0].private_ip: 10.0.2.9 is not inside subnet s-1 (10.0.1.0/24)")]
    #[case::task_without_ip(|w: &mut serde_json::Value| { w["tasks"][0].as_object_mut().unwrap().remove("private_ip"); }, "tasks[0].private_ip: missing; a task in subnet s-1 has a private IPv4")]
    #[case::task_without_subnet(|w: &mut serde_json::Value| { w["tasks"][0].as_object_mut().unwrap().remove("subnet"); }, "tasks[0].subnet: missing; a task in awsvpc mode has a network interface in a subnet")]
    #[case::task_unknown_subnet(|w: &mut serde_json::Value| w["tasks"][0]["subnet"] = "s-9".into(), "tasks[0].subnet: unknown subnet 's-9'")]
    #[case::task_ipv6_outside(|w: &mut serde_json::Value| w["tasks"][0]["ipv6"] = "2600:1f18:0:2::5".into(), "tasks[0].ipv6: 2600:1f18:0:2::5 is not inside subnet s-1's IPv6 block (no IPv6 block)")]
    #[case::task_public_ip_private(|w: &mut serde_json::Value| w["tasks"][0]["public_ip"] = "10.0.1.10".into(), "tasks[0].public_ip: 10.0.1.10 is not a public address")]
    #[case::task_status_unknown(|w: &mut serde_json::Value| w["tasks"][0]["status"] = "RUNING".into(), "tasks[0].status: unknown variant `RUNING`, expected one of")]
    #[case::task_launch_type_unknown(|w: &mut serde_json::Value| w["tasks"][0]["launch_type"] = "LAMBDA".into(), "tasks[0].launch_type: unknown variant `LAMBDA`")]
    #[case::task_family_empty(|w: &mut serde_json::Value| w["tasks"][0]["family"] = "".into(), "tasks[0].family: expected a task definition family")]
    #[case::task_service_empty(|w: &mut serde_json::Value| w["tasks"][0]["service"] = "".into(), "tasks[0].service: is empty")]
    #[case::fargate_in_bridge_mode(|w: &mut serde_json::Value| w["tasks"][0]["network_mode"] = "bridge".into(), "tasks[0].network_mode: a FARGATE task runs in awsvpc mode only, not bridge")]
    #[case::bridge_task_with_a_subnet(|w: &mut serde_json::Value| { w["tasks"][0]["network_mode"] = "bridge".into(); w["tasks"][0]["launch_type"] = "EC2".into(); }, "tasks[0].subnet: a task in bridge mode has no network interface or addresses of its own")]
    #[case::host_task_with_an_address(|w: &mut serde_json::Value| { let t = w["tasks"][0].as_object_mut().unwrap(); t.remove("subnet"); t.remove("private_ip"); t.insert("network_mode".into(), "host".into()); t.insert("launch_type".into(), "EC2".into()); }, "tasks[0].public_ip: a task in host mode has no network interface or addresses of its own (its address is its instance's); remove public_ip")]
    #[case::task_registry_key_garbage(|w: &mut serde_json::Value| w["registry"][0]["instance_id"] = "task#arn:aws:ecs:us-east-1:1:task/x".into(), "registry[0].instance_id: 'task#arn:aws:ecs:us-east-1:1:task/x' is not an instance id (nor task# and a task's ARN)")]
    #[case::duplicate_names(|w: &mut serde_json::Value| { let mut second = w["instances"][0].clone(); second["id"] = "i-2".into(); second["private_ip"] = "10.0.1.6".into(); push(w, "instances", second); }, "instances[1].name: 'web' is also the name of instances[0]")]
    fn broken_worlds_name_the_file_path_and_what_was_expected(
        #[case] edit: Edit,
        #[case] needle: &str,
    ) {
        let mut world = base();
        edit(&mut world);
        let err = load(&world).expect_err(needle).to_string();
        assert!(err.starts_with("w.json: "), "{err}");
        assert!(err.contains(needle), "{err}\n  lacks: {needle}");
    }

    /// A group's record sets share a name and type, each with its own set
    /// identifier, and read back as written.
    #[test]
    fn group_record_sets_share_a_name() {
        let mut world = base();
        for (ip, id) in [("10.0.9.7", "i-1"), ("10.0.9.8", "i-2")] {
            push(
                &mut world["zones"][0],
                "records",
                serde_json::json!({"name": "g.corp.example.", "type": "A", "ttl": 60, "values": [ip], "routing": "multivalue", "set_identifier": id}),
            );
        }
        let loaded = load(&world).expect("two members at one name");
        let members: Vec<&RecordSet> = loaded.zones[0]
            .records
            .iter()
            .filter(|r| r.name == "g.corp.example.")
            .collect();
        assert_eq!(members.len(), 2);
        assert_eq!(members[0].routing.set_id(), Some("i-1"));
        let json = serde_json::to_value(members[1]).unwrap();
        assert_eq!(json["routing"], "multivalue");
        assert_eq!(json["set_identifier"], "i-2");
    }

    /// A task as ECS and EC2 would describe it: ARNs from the region and
    /// account, its group, its ENI (the id the same on every load), EC2's
    /// DNS names; a stopped one keeps its private address but not its
    /// public one (its interface is deleted).
    #[test]
    fn task_facts_follow_ecs_and_ec2() {
        let mut w = base();
        w["region"] = "eu-west-1".into();
        w["account"] = "210987654321".into();
        push(
            &mut w,
            "tasks",
            serde_json::json!({"id": "job1", "cluster": "prod", "family": "batch",
                               "launch_type": "EC2", "network_mode": "bridge", "status": "PENDING"}),
        );
        let world = load(&w).unwrap();
        let facts = world.task_facts(&world.tasks[0]);
        assert_eq!(
            facts.task_arn,
            "arn:aws:ecs:eu-west-1:210987654321:task/prod/0123456789abcdef0123456789abcdef"
        );
        assert!(ec2_ddns_core::ids::is_task_arn(&facts.task_arn));
        assert_eq!(
            facts.cluster_arn,
            "arn:aws:ecs:eu-west-1:210987654321:cluster/prod"
        );
        assert_eq!(facts.task_id(), "0123456789abcdef0123456789abcdef");
        assert_eq!(facts.cluster_name(), "prod");
        assert!(facts.is_running());
        assert_eq!(facts.group.as_deref(), Some("service:web"));
        assert_eq!(facts.family.as_deref(), Some("web"));
        assert_eq!(facts.launch_type.as_deref(), Some("FARGATE"));
        assert_eq!(facts.tags["GROUP"], "web.corp.example");
        let eni = facts.eni.clone().expect("awsvpc: an ENI");
        assert!(
            eni.eni_id.starts_with("eni-0") && eni.eni_id.len() == 21,
            "{}",
            eni.eni_id
        );
        assert_eq!(
            eni,
            world.task_facts(&world.tasks[0]).eni.unwrap(),
            "deterministic"
        );
        assert_eq!(eni.vpc_id.as_deref(), Some("vpc-1"));
        assert_eq!(eni.subnet_id.as_deref(), Some("s-1"));
        assert_eq!(eni.private_ip, Some(Ipv4Addr::new(10, 0, 1, 9)));
        assert_eq!(eni.public_ip, Some(Ipv4Addr::new(34, 1, 2, 9)));
        assert_eq!(
            eni.private_dns_name.as_deref(),
            Some("ip-10-0-1-9.eu-west-1.compute.internal")
        );
        assert_eq!(
            eni.public_dns_name.as_deref(),
            Some("ec2-34-1-2-9.eu-west-1.compute.amazonaws.com")
        );

        let alone = world.task_facts(world.find_task("job1").unwrap());
        assert_eq!(alone.group.as_deref(), Some("family:batch"));
        assert_eq!(alone.eni, None, "bridge mode: no interface of its own");
        assert!(alone.is_starting());
        assert_eq!(alone.launch_type.as_deref(), Some("EC2"));

        let mut stopped = world.tasks[0].clone();
        stopped.status = TaskStatus::Stopped;
        let facts = world.task_facts(&stopped);
        assert_eq!(
            (facts.last_status.as_str(), facts.desired_status.as_str()),
            ("STOPPED", "STOPPED")
        );
        let eni = facts.eni.unwrap();
        assert_eq!(
            (
                eni.private_ip.is_some(),
                eni.public_ip,
                eni.public_dns_name,
                eni.vpc_id
            ),
            (true, None, None, None)
        );
    }

    /// A task's registry item (`task#` and its ARN) loads beside an
    /// instance's, and a world with tasks reads back as written.
    #[test]
    fn task_items_load_and_tasks_round_trip() {
        let mut w = base();
        let arn = "arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef0123456789abcdef";
        let mut item = w["registry"][0].clone();
        item["instance_id"] = format!("task#{arn}").into();
        push(&mut w, "registry", item);
        let world = load(&w).unwrap();
        assert_eq!(world.registry[1].key, RegistryKey::task(arn));
        assert_eq!(world.task_arn(&world.tasks[0]), arn);
        assert_eq!(
            world.find_task(arn).map(|t| t.id.as_str()),
            world.find_task("web-1").map(|t| t.id.as_str())
        );
        let again = World::parse("again.json", &serde_json::to_string(&world).unwrap()).unwrap();
        assert_eq!(again, world);
        let written = serde_json::to_value(&world.tasks[0]).unwrap();
        assert!(
            written.get("status").is_none() && written.get("network_mode").is_none(),
            "defaults are left out: {written}"
        );
    }

    /// A task described by ECS becomes a world task that describes the
    /// same (its ENI's made-up id aside); unknown statuses are not guessed.
    #[test]
    fn tasks_from_facts_describe_the_same_task() {
        let world = load(&base()).unwrap();
        let mut bridged = world.tasks[0].clone();
        bridged.id = "job1".into();
        bridged.service = None;
        bridged.launch_type = LaunchType::Ec2;
        bridged.network_mode = NetworkMode::Bridge;
        bridged.subnet = None;
        bridged.private_ip = None;
        bridged.public_ip = None;
        bridged.status = TaskStatus::Pending;
        for task in [world.tasks[0].clone(), bridged] {
            let facts = world.task_facts(&task);
            let back = WorldTask::from_facts(&facts).expect("a world task");
            assert_eq!(back, WorldTask { name: None, ..task });
            assert_eq!(world.task_facts(&back), facts);
        }
        let mut odd = world.task_facts(&world.tasks[0]);
        odd.last_status = "HIBERNATING".into();
        assert_eq!(WorldTask::from_facts(&odd), None);
    }

    #[test]
    fn instances_from_facts_keep_what_an_event_needs() {
        let mut facts = InstanceFacts::bare("i-1", InstanceState::Running);
        facts.subnet_id = Some("s-1".into());
        facts.private_ip = Some(Ipv4Addr::new(10, 0, 1, 5));
        facts.tags = BTreeMap::from([
            ("Name".into(), "web".into()),
            ("CNAME".into(), "api".into()),
        ]);
        let inst = WorldInstance::from_facts(&facts).unwrap();
        assert_eq!(inst.name.as_deref(), Some("web"));
        assert!(!inst.tags.contains_key("Name"));
        let world = World::empty("us-east-1");
        assert_eq!(
            world.instance_facts(&inst).tags,
            facts.tags,
            "Name comes back"
        );
        let placeless = InstanceFacts {
            subnet_id: None,
            ..facts
        };
        assert!(WorldInstance::from_facts(&placeless).is_none());
    }

    #[test]
    fn default_dns_names_follow_aws() {
        let mut w = base();
        w["region"] = "eu-west-1".into();
        w["instances"][0]["public_ip"] = "34.1.2.3".into();
        let world = load(&w).unwrap();
        let facts = world.instance_facts(&world.instances[0]);
        assert_eq!(
            facts.private_dns_name.as_deref(),
            Some("ip-10-0-1-5.eu-west-1.compute.internal")
        );
        assert_eq!(
            facts.public_dns_name.as_deref(),
            Some("ec2-34-1-2-3.eu-west-1.compute.amazonaws.com")
        );
        assert_eq!(facts.vpc_id.as_deref(), Some("vpc-1"));
        assert_eq!(facts.tags.get("Name").map(String::as_str), Some("web"));
    }

    #[rstest]
    #[case("10.0.0.0/8", "10.255.1.1", true)]
    #[case("10.0.0.0/8", "11.0.0.1", false)]
    #[case("0.0.0.0/0", "192.168.1.1", true)]
    #[case("10.1.2.4/32", "10.1.2.4", true)]
    fn cidr_membership(#[case] cidr: &str, #[case] ip: &str, #[case] inside: bool) {
        assert_eq!(
            cidr.parse::<Cidr>().unwrap().contains(ip.parse().unwrap()),
            inside
        );
    }
}
