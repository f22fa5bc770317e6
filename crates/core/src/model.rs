//! Plain data read from AWS (or a world file) that the plan is made of.
//! No SDK types cross this line, so planning stays pure and testable, and
//! no field holds a placeholder: what was not read is not here.

pub use crate::ids::{DnsName, NamesByZone, Place, RegistryKey, ZoneId};
use crate::names;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// An EC2 instance state, as events and DescribeInstances name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InstanceState {
    Pending,
    Running,
    Stopping,
    Stopped,
    ShuttingDown,
    Terminated,
}

impl InstanceState {
    pub const ALL: [InstanceState; 6] = [
        InstanceState::Pending,
        InstanceState::Running,
        InstanceState::Stopping,
        InstanceState::Stopped,
        InstanceState::ShuttingDown,
        InstanceState::Terminated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            InstanceState::Pending => "pending",
            InstanceState::Running => "running",
            InstanceState::Stopping => "stopping",
            InstanceState::Stopped => "stopped",
            InstanceState::ShuttingDown => "shutting-down",
            InstanceState::Terminated => "terminated",
        }
    }
}

impl FromStr for InstanceState {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        InstanceState::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| {
                let all: Vec<&str> = InstanceState::ALL.iter().map(|s| s.as_str()).collect();
                format!(
                    "'{}' is not an EC2 instance state; expected one of {}",
                    names::clip(s),
                    all.join(", ")
                )
            })
    }
}

impl fmt::Display for InstanceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Event and registry times: RFC 3339 in UTC, compared as times.
pub fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            format!(
                "'{}' is not an RFC 3339 time ({e}); expected e.g. 2026-11-21T10:00:00Z",
                names::clip(text)
            )
        })
}

/// The text form of a time, as stored in the registry: `2026-11-21T10:00:00Z`.
pub fn format_time(time: &DateTime<Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// Serde for `Option<DateTime<Utc>>` with [`parse_time`]'s message, so a
/// world file's `"last_event_time": "garbage"` says what was expected.
pub mod opt_time {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&super::format_time(t)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|text| super::parse_time(&text).map_err(serde::de::Error::custom))
            .transpose()
    }
}

/// What the registrar needs to know about one instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceFacts {
    pub instance_id: String,
    /// The live state as DescribeInstances reports it now, which may be newer
    /// than the event being handled.
    pub state: InstanceState,
    pub vpc_id: Option<String>,
    pub subnet_id: Option<String>,
    pub private_ip: Option<Ipv4Addr>,
    pub public_ip: Option<Ipv4Addr>,
    /// The primary IPv6 address (EC2's `Ipv6Address`, else the primary
    /// network interface's first): global, so it serves both views.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6: Option<Ipv6Addr>,
    pub private_dns_name: Option<String>,
    pub public_dns_name: Option<String>,
    pub tags: BTreeMap<String, String>,
    /// When the instance was last started (EC2's `LaunchTime`): among
    /// instances that want the same free name, the earliest gets it.
    pub launch_time: Option<DateTime<Utc>>,
}

/// What the registrar needs to know about one ECS task (`awsvpc` network
/// mode: Fargate, or EC2 with a task ENI): its own addresses, from its
/// elastic network interface, and its tags (a service's or task
/// definition's, when ECS propagates them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskFacts {
    /// `arn:aws:ecs:REGION:ACCOUNT:task/CLUSTER/ID`: the registry key.
    pub task_arn: String,
    pub cluster_arn: String,
    /// ECS's `lastStatus`: PROVISIONING, PENDING, ACTIVATING, RUNNING,
    /// DEACTIVATING, STOPPING, DEPROVISIONING, STOPPED, DELETED.
    pub last_status: String,
    /// ECS's `desiredStatus`: RUNNING or STOPPED.
    pub desired_status: String,
    /// `service:NAME` for a service's task, `family:NAME` for one run alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The task definition's family (`web` of `…:task-definition/web:7`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    /// FARGATE, EC2 or EXTERNAL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_type: Option<String>,
    /// Its elastic network interface; `None` for a task in `bridge` or
    /// `host` mode, whose address is its instance's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eni: Option<TaskEni>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// When it started running: among subjects that want one free name,
    /// the earliest gets it, as for instances.
    #[serde(default, with = "opt_time", skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
}

/// A task's elastic network interface and its addresses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskEni {
    pub eni_id: String,
    pub subnet_id: Option<String>,
    pub vpc_id: Option<String>,
    pub private_ip: Option<Ipv4Addr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6: Option<Ipv6Addr>,
    /// From DescribeNetworkInterfaces (the task's own description and
    /// event do not carry it): a task with `assignPublicIp` ENABLED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_ip: Option<Ipv4Addr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_dns_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_dns_name: Option<String>,
}

impl TaskFacts {
    /// The task's id: the last part of its ARN.
    pub fn task_id(&self) -> &str {
        self.task_arn.rsplit('/').next().unwrap_or(&self.task_arn)
    }

    /// The cluster's name: the last part of its ARN.
    pub fn cluster_name(&self) -> &str {
        self.cluster_arn
            .rsplit('/')
            .next()
            .unwrap_or(&self.cluster_arn)
    }

    /// Whether its records are wanted: it runs, and ECS does not mean to
    /// stop it. Every other status wants none (a task never runs again
    /// once it leaves RUNNING: a service starts a new task instead).
    pub fn is_running(&self) -> bool {
        self.last_status == "RUNNING" && self.desired_status == "RUNNING"
    }

    /// Whether it is still on its way to RUNNING (PROVISIONING, PENDING,
    /// ACTIVATING): its records wait for the RUNNING event.
    pub fn is_starting(&self) -> bool {
        matches!(
            self.last_status.as_str(),
            "PROVISIONING" | "PENDING" | "ACTIVATING"
        ) && self.desired_status == "RUNNING"
    }
}

/// Every task of the region's clusters, as the reconcile lists them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskListing {
    pub tasks: Vec<TaskFacts>,
    /// Clusters or tasks ECS listed that could not be read: the reconcile
    /// leaves the items of their tasks alone.
    pub unreadable: Vec<String>,
}

/// Every instance of a region, as the reconcile lists them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstanceListing {
    pub instances: Vec<InstanceFacts>,
    /// Instances EC2 listed that could not be read. The reconcile leaves
    /// their items alone: an instance it cannot read is not an instance
    /// that is gone.
    pub unreadable: Vec<Unreadable>,
}

/// An instance EC2 listed but that could not be read into facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// Its id, or `None` when EC2 did not give even that.
    pub instance_id: Option<String>,
    /// Why it could not be read.
    pub why: String,
}

impl InstanceFacts {
    /// An instance with nothing but an id and a state: the base of test
    /// builders and of facts filled in field by field.
    pub fn bare(instance_id: &str, state: InstanceState) -> InstanceFacts {
        InstanceFacts {
            instance_id: instance_id.to_string(),
            state,
            vpc_id: None,
            subnet_id: None,
            private_ip: None,
            public_ip: None,
            ipv6: None,
            private_dns_name: None,
            public_dns_name: None,
            tags: BTreeMap::new(),
            launch_time: None,
        }
    }
}

/// The VPC settings that decide the home domain and whether private zones
/// resolve inside it, all read from EC2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VpcFacts {
    pub vpc_id: String,
    /// First name of the DHCP option set's `domain-name`, as written there.
    pub dhcp_domain: Option<String>,
    /// `enableDnsSupport`.
    pub dns_support: bool,
    /// `enableDnsHostnames`.
    pub dns_hostnames: bool,
}

/// A hosted zone the instance can see: every public zone, and the private
/// zones associated with its VPC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneInfo {
    pub id: ZoneId,
    pub name: DnsName,
    pub private: bool,
}

/// Record types the registrar writes or must recognise; anything else found
/// in a zone is kept as `Other` so that conflicts can name it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", from = "String")]
pub enum RecordType {
    A,
    Aaaa,
    Ptr,
    Cname,
    Other(String),
}

impl RecordType {
    pub fn as_str(&self) -> &str {
        match self {
            RecordType::A => "A",
            RecordType::Aaaa => "AAAA",
            RecordType::Ptr => "PTR",
            RecordType::Cname => "CNAME",
            RecordType::Other(s) => s,
        }
    }

    /// "an A record", "a CNAME record": the article follows the sound.
    pub fn with_article(&self) -> String {
        let vowel_sound = matches!(
            self.as_str().chars().next(),
            Some('A' | 'E' | 'F' | 'H' | 'I' | 'L' | 'M' | 'N' | 'O' | 'R' | 'S' | 'X')
        );
        format!("{} {}", if vowel_sound { "an" } else { "a" }, self)
    }
}

impl From<String> for RecordType {
    fn from(s: String) -> Self {
        RecordType::from(s.as_str())
    }
}

impl From<&str> for RecordType {
    fn from(s: &str) -> Self {
        match s.to_ascii_uppercase().as_str() {
            "A" => RecordType::A,
            "AAAA" => RecordType::Aaaa,
            "PTR" => RecordType::Ptr,
            "CNAME" => RecordType::Cname,
            other => RecordType::Other(other.to_string()),
        }
    }
}

impl From<RecordType> for String {
    fn from(t: RecordType) -> Self {
        t.as_str().to_string()
    }
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The most Route 53 allows for a TTL.
pub const MAX_TTL: u32 = 2_147_483_647;

/// What a record set holds: a TTL and values, or (a Route 53 alias, pointing
/// at a load balancer, CloudFront, another record…) only a target. The
/// registrar never writes or deletes an alias; it only has to see that the
/// name is taken, and a person reading a zone should see where it points.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RecordData {
    Values { ttl: u32, values: Vec<String> },
    Alias { target: DnsName },
}

/// One resource record set, in the form in which records are stored and
/// compared: normalized name, values canonical and sorted. Two sets are equal
/// exactly when Route 53 would accept a DELETE of one for the other.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "RecordSetWire", into = "RecordSetWire")]
pub struct RecordSet {
    pub name: DnsName,
    pub rtype: RecordType,
    pub data: RecordData,
    pub routing: Routing,
}

/// How Route 53 answers for a record set. A simple record set is alone at
/// its name and type; the others share a name and type with record sets of
/// the same policy, each told apart by its set identifier. The registrar
/// writes simple record sets and, for group names, multivalue-answer ones
/// (set identifier: the instance id); any other policy is someone else's.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Routing {
    #[default]
    Simple,
    /// `MultiValueAnswer: true`: Route 53 answers with up to eight of the
    /// name's record sets (all of them when eight or fewer).
    MultiValue { set_id: String },
    /// Weighted, latency, failover, geolocation, IP-based, geoproximity:
    /// `policy` names it as world files do (`weighted`, `latency`, …).
    Other { policy: String, set_id: String },
}

impl Routing {
    /// The set identifier; a simple record set has none.
    pub fn set_id(&self) -> Option<&str> {
        match self {
            Routing::Simple => None,
            Routing::MultiValue { set_id } | Routing::Other { set_id, .. } => Some(set_id),
        }
    }

    /// The policy's name, as world files and messages write it.
    pub fn policy(&self) -> &str {
        match self {
            Routing::Simple => "simple",
            Routing::MultiValue { .. } => "multivalue",
            Routing::Other { policy, .. } => policy,
        }
    }

    /// Whether two record sets of these policies may share a name and
    /// type: only record sets of one policy, each with a set identifier.
    pub fn mixes_with(&self, other: &Routing) -> bool {
        !matches!(self, Routing::Simple) && self.policy() == other.policy()
    }

    /// From a policy name and a set identifier, as read from a file or the
    /// registry; `Err` says what is expected.
    pub fn parse(policy: Option<&str>, set_id: Option<&str>) -> Result<Routing, String> {
        match (policy.map(str::trim), set_id) {
            (None | Some("simple"), None) => Ok(Routing::Simple),
            (Some("simple"), Some(_)) => {
                Err("a simple record has no set_identifier; remove it, or give a routing such as multivalue".into())
            }
            (_, Some(id)) if id.is_empty() || id.len() > 128 => Err(format!(
                "set_identifier '{}' must be 1 to 128 characters",
                names::clip(id)
            )),
            (None, Some(_)) => Err(
                "a record with a set_identifier needs a routing (multivalue, weighted, latency, failover, geolocation, …)".into(),
            ),
            (Some(p), None) => Err(format!(
                "a {p} record needs a set_identifier, which tells it from the others at its name and type"
            )),
            (Some("multivalue"), Some(id)) => Ok(Routing::MultiValue { set_id: id.into() }),
            (Some(p), Some(_)) if p.is_empty() || !p.chars().all(|c| c.is_ascii_lowercase() || c == '-') => {
                Err(format!(
                    "routing '{}' is not a policy name; expected multivalue, weighted, latency, failover, geolocation, …",
                    names::clip(p)
                ))
            }
            (Some(p), Some(id)) => Ok(Routing::Other {
                policy: p.into(),
                set_id: id.into(),
            }),
        }
    }
}

impl RecordSet {
    /// A plain record set; DNS-name values (CNAME, PTR) are normalized.
    pub fn new(name: &str, rtype: RecordType, ttl: u32, values: Vec<String>) -> Self {
        let mut values: Vec<String> = values
            .iter()
            .map(|v| match rtype {
                RecordType::Cname | RecordType::Ptr => names::normalize(v).into(),
                _ => v.trim().to_string(),
            })
            .collect();
        values.sort();
        values.dedup();
        RecordSet {
            name: DnsName::new(name),
            rtype,
            data: RecordData::Values { ttl, values },
            routing: Routing::Simple,
        }
    }

    /// A multivalue-answer record set: one of many at its name and type,
    /// told apart by `set_id` (a group member's: its instance id).
    pub fn multivalue(
        name: &str,
        rtype: RecordType,
        ttl: u32,
        value: String,
        set_id: &str,
    ) -> Self {
        RecordSet::new(name, rtype, ttl, vec![value]).with_routing(Routing::MultiValue {
            set_id: set_id.into(),
        })
    }

    /// The same record set under another routing policy.
    pub fn with_routing(self, routing: Routing) -> Self {
        RecordSet { routing, ..self }
    }

    /// An alias record set pointing at `target`.
    pub fn alias(name: &str, rtype: RecordType, target: &str) -> Self {
        RecordSet {
            name: DnsName::new(name),
            rtype,
            data: RecordData::Alias {
                target: DnsName::new(target),
            },
            routing: Routing::Simple,
        }
    }

    pub fn ttl(&self) -> Option<u32> {
        match &self.data {
            RecordData::Values { ttl, .. } => Some(*ttl),
            RecordData::Alias { .. } => None,
        }
    }

    /// The values; an alias has none of its own.
    pub fn values(&self) -> &[String] {
        match &self.data {
            RecordData::Values { values, .. } => values,
            RecordData::Alias { .. } => &[],
        }
    }

    pub fn alias_target(&self) -> Option<&str> {
        match &self.data {
            RecordData::Alias { target } => Some(target),
            RecordData::Values { .. } => None,
        }
    }

    /// Same name, type and set identifier: the identity of a record set in
    /// a zone (Route 53's; a simple record set has no set identifier).
    pub fn same_slot(&self, other: &RecordSet) -> bool {
        self.name == other.name
            && self.rtype == other.rtype
            && self.routing.set_id() == other.routing.set_id()
    }

    /// The SOA and NS at a zone's apex: Route 53 makes them with the zone,
    /// the registrar never writes at an apex, and world files leave them out.
    pub fn is_apex_housekeeping(&self, zone_name: &str) -> bool {
        self.name == names::normalize(zone_name)
            && matches!(&self.rtype, RecordType::Other(t) if t == "SOA" || t == "NS")
    }
}

impl fmt::Display for RecordSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.data {
            RecordData::Values { ttl, values } => {
                write!(f, "{} {} {ttl} {}", self.name, self.rtype, values.join(","))?
            }
            RecordData::Alias { target } => {
                write!(f, "{} {} ALIAS {target}", self.name, self.rtype)?
            }
        }
        match &self.routing {
            Routing::Simple => Ok(()),
            r => write!(f, " ({} {})", r.policy(), r.set_id().unwrap_or_default()),
        }
    }
}

/// A record set as JSON (world files, summaries): `{"name", "type", "ttl",
/// "values"}`, or `{"name", "type", "alias"}` for an alias; a record set
/// with a routing policy adds `"routing"` (`multivalue`, `weighted`, …) and
/// `"set_identifier"`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordSetWire {
    name: String,
    #[serde(rename = "type")]
    rtype: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ttl: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    values: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    alias: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    routing: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    set_identifier: Option<String>,
}

impl From<RecordSet> for RecordSetWire {
    fn from(r: RecordSet) -> Self {
        let (ttl, values, alias) = match r.data {
            RecordData::Values { ttl, values } => (Some(i64::from(ttl)), Some(values), None),
            RecordData::Alias { target } => (None, None, Some(target.into())),
        };
        let set_identifier = r.routing.set_id().map(str::to_string);
        let routing = set_identifier
            .as_ref()
            .map(|_| r.routing.policy().to_string());
        RecordSetWire {
            name: r.name.into(),
            rtype: r.rtype.to_string(),
            ttl,
            values,
            alias,
            routing,
            set_identifier,
        }
    }
}

/// Checks a record set read from a file the way Route 53 would check it
/// when it was created; the message says what was expected.
impl TryFrom<RecordSetWire> for RecordSet {
    type Error = String;

    fn try_from(w: RecordSetWire) -> Result<Self, String> {
        let routing = Routing::parse(w.routing.as_deref(), w.set_identifier.as_deref())?;
        let record = RecordSet::checked(w)?;
        if matches!(routing, Routing::MultiValue { .. })
            && (record.alias_target().is_some()
                || matches!(&record.rtype, RecordType::Cname)
                || matches!(&record.rtype, RecordType::Other(t) if t == "NS"))
        {
            return Err(format!(
                "a multivalue record can't be {}",
                if record.alias_target().is_some() {
                    "an alias".to_string()
                } else {
                    record.rtype.with_article()
                }
            ));
        }
        Ok(record.with_routing(routing))
    }
}

impl RecordSet {
    /// The name, type and data of a record set read from a file.
    fn checked(w: RecordSetWire) -> Result<RecordSet, String> {
        let name = names::normalize(&w.name);
        names::check_dns_name(&name).map_err(|p| format!("name: {p}"))?;
        let rtype = RecordType::from(w.rtype.as_str());
        if w.rtype.trim().is_empty() {
            return Err("type is empty; expected A, AAAA, CNAME, PTR, TXT, …".into());
        }
        match (w.alias, w.ttl, w.values) {
            (Some(target), None, None) => {
                names::check_dns_name(&names::normalize(&target))
                    .map_err(|p| format!("alias: {p}"))?;
                Ok(RecordSet::alias(&name, rtype, &target))
            }
            (Some(_), _, _) => {
                Err("an alias record has no ttl or values of its own; give either alias, or ttl and values".into())
            }
            (None, None, _) => Err(format!(
                "{} {rtype} record needs a ttl (seconds, 0 to {MAX_TTL})",
                names::clip(&name)
            )),
            (None, Some(ttl), _) if !(0..=i64::from(MAX_TTL)).contains(&ttl) => Err(format!(
                "ttl {ttl} is out of range; expected seconds from 0 to {MAX_TTL}"
            )),
            (None, Some(_), None) => Err("a record needs values (or an alias)".into()),
            (None, Some(_), Some(values)) if values.is_empty() => {
                Err("a record needs at least one value (or an alias)".into())
            }
            (None, Some(ttl), Some(values)) => {
                check_values(&rtype, &values)?;
                Ok(RecordSet::new(&name, rtype, ttl as u32, values))
            }
        }
    }
}

/// The value rules Route 53 enforces for the types the registrar writes.
fn check_values(rtype: &RecordType, values: &[String]) -> Result<(), String> {
    for v in values {
        let ok = match rtype {
            RecordType::A => v.trim().parse::<Ipv4Addr>().is_ok(),
            RecordType::Aaaa => v.trim().parse::<Ipv6Addr>().is_ok(),
            RecordType::Cname | RecordType::Ptr => {
                names::check_dns_name(&names::normalize(v)).is_ok()
            }
            RecordType::Other(_) => !v.is_empty(),
        };
        if !ok {
            let expected = match rtype {
                RecordType::A => "an IPv4 address",
                RecordType::Aaaa => "an IPv6 address",
                RecordType::Cname | RecordType::Ptr => "a domain name",
                RecordType::Other(_) => "a value",
            };
            return Err(format!(
                "value '{}' of {} record is not {expected}",
                names::clip(v),
                rtype.with_article()
            ));
        }
    }
    if *rtype == RecordType::Cname && values.len() != 1 {
        return Err(format!(
            "a CNAME record holds exactly one value, found {}",
            values.len()
        ));
    }
    Ok(())
}

/// A record the registrar wrote, with the zone it lives in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnedRecord {
    pub zone_id: ZoneId,
    pub zone_name: DnsName,
    pub record: RecordSet,
}

/// How long after a record is written ahead its change may still land: an
/// invocation sends no change after its deadline, and Lambda ends every
/// invocation within 15 minutes; five more cover clocks that differ and
/// a request still on its way.
pub const IN_FLIGHT: chrono::TimeDelta = chrono::TimeDelta::minutes(20);

/// The registry item of one instance: what it owns, what it may have
/// written, and the last event applied. In a world file a typo in a field
/// name is an error, and fields left out take their defaults (no records,
/// version 0).
///
/// `records` are proven: a change call that wrote them answered OK, or a
/// read in the same invocation showed the whole batch applied. `pending`
/// records were sent in a batch whose outcome is not known (the invocation
/// failed or died before it learned it); they are listed so that nothing
/// this instance may have written is ever unlisted, but they are never
/// deleted on the strength of their value, because an equal record may be
/// someone else's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegistryItem {
    /// Whose item: an instance's, a host's. World files hold instances'
    /// items only, and call it `instance_id`.
    #[serde(rename = "instance_id")]
    pub key: RegistryKey,
    pub records: Vec<OwnedRecord>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<OwnedRecord>,
    /// When `pending` last gained a record about to be sent: until
    /// [`IN_FLIGHT`] has passed, a pending record read absent may still be
    /// on its way (another invocation's change), so it stays listed.
    /// `None` with no pending record, or in an item written before this
    /// was kept (its pending records are old).
    #[serde(with = "opt_time", skip_serializing_if = "Option::is_none")]
    pub pending_since: Option<DateTime<Utc>>,
    /// Time of the newest event applied. It only moves forward: an event
    /// without a time leaves it as it is.
    #[serde(with = "opt_time", skip_serializing_if = "Option::is_none")]
    pub last_event_time: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_event_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_state: Option<InstanceState>,
    /// Bumped on every save; a save expects the version it loaded, so two
    /// invocations for one instance cannot overwrite each other.
    pub version: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_ip: Option<Ipv4Addr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_ip: Option<Ipv4Addr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<String>,
    /// The item in the table under this key is not one of ours (version 0):
    /// the first save replaces it, and a removal removes it, only while it
    /// is still exactly this.
    #[serde(skip)]
    pub replaces: Option<ForeignItem>,
    /// Set on the item of a host outside EC2 (key `host#NAME.`): its
    /// settings, secret and abuse counters. Never in a world file, so a
    /// secret is never written to one.
    #[serde(skip)]
    pub host: Option<HostSettings>,
    /// Unique to the save that wrote the item: a save whose answer was
    /// lost reads the item back to learn whether it was made, and two
    /// invocations handling the same event would otherwise write equal
    /// items (same version, same lists). Bookkeeping, never in a world
    /// file.
    #[serde(skip)]
    pub write_id: Option<String>,
}

/// A DDNS host's failed proofs and changes in the current abuse window
/// (`ddns::decide` counts them and says when they block the host). Plain
/// data of the host's item, so the registry stores it without knowing the
/// endpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Unix seconds the window began; 0: no window yet.
    pub window_start: i64,
    pub failures: u32,
    pub changes: u32,
}

/// What the DDNS endpoint keeps about a host besides the records it owns.
/// The addresses last set are the item's own records: an update that asks
/// for the address a settled record already holds makes no call.
#[derive(Debug, Clone, Default)]
pub struct HostSettings {
    pub zone_id: ZoneId,
    pub zone_name: DnsName,
    pub ttl: u32,
    /// Compared in constant time; never logged: a `SecretString`, whose
    /// `Debug` prints `[REDACTED]`, exposed only where it is used (the
    /// proofs' hash and HMAC, the DynamoDB attribute, `hosts add`'s print).
    pub secret: secrecy::SecretString,
    /// The dyndns2 login; `None`: the host name without its trailing dot.
    pub login: Option<String>,
    /// Failed proofs and changes in the current abuse window.
    pub counters: Counters,
    /// When the host was added.
    pub created: Option<DateTime<Utc>>,
    /// The last updates whose proof held, newest first, at most
    /// [`HOST_HISTORY`]: the host owners' page shows them.
    pub history: Vec<HostUpdate>,
    /// The AWS principals whose SigV4-signed requests (the endpoint's
    /// `AWS_IAM` function URL) may update the host without its secret:
    /// an account's root (any principal of that account), a role (its
    /// sessions), or a user, by ARN (`hosts add --iam-principal`).
    pub iam_principals: Vec<String>,
}

/// How many updates a host's history keeps.
pub const HOST_HISTORY: usize = 20;

/// One update of a DDNS host whose proof held: when, the address it asked
/// for, and the address it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostUpdate {
    pub at: DateTime<Utc>,
    pub ip: std::net::IpAddr,
    pub source: std::net::IpAddr,
}

impl HostSettings {
    /// The settings with `update` first in the history, the oldest
    /// beyond [`HOST_HISTORY`] dropped.
    pub fn remembering(mut self, update: HostUpdate) -> HostSettings {
        self.history.insert(0, update);
        self.history.truncate(HOST_HISTORY);
        self
    }
}

/// By hand because `SecretString` has no `PartialEq` (secrecy leaves
/// comparing secrets to the caller, who should do it in constant time).
/// This equality is `RegistryItem`'s (tests, the in-memory registry), never
/// a proof's check, so the secrets are compared as plain bytes here; the
/// endpoint compares a caller's secret in `ddns::auth`, in constant time.
impl PartialEq for HostSettings {
    fn eq(&self, other: &Self) -> bool {
        use secrecy::ExposeSecret;
        // Destructured, so a new field cannot be left out of the comparison.
        let HostSettings {
            zone_id,
            zone_name,
            ttl,
            secret,
            login,
            counters,
            created,
            history,
            iam_principals,
        } = self;
        *zone_id == other.zone_id
            && *zone_name == other.zone_name
            && *ttl == other.ttl
            && secret.expose_secret() == other.secret.expose_secret()
            && *login == other.login
            && *counters == other.counters
            && *created == other.created
            && *history == other.history
            && *iam_principals == other.iam_principals
    }
}

impl Eq for HostSettings {}

impl RegistryItem {
    /// How a foreign or damaged item reads: it owns nothing we can prove.
    pub fn foreign(found: ForeignItem) -> RegistryItem {
        RegistryItem {
            key: found.key.clone(),
            replaces: Some(found),
            ..RegistryItem::default()
        }
    }

    /// Every record this item lists, proven or not.
    pub fn listed(&self) -> impl Iterator<Item = &OwnedRecord> {
        self.records.iter().chain(&self.pending)
    }
}

/// An item in the registry table that ec2-ddns did not write, or cannot
/// read: the Python aws-lambda-ddns-function's (`InstanceAttributes`, no
/// `Version`), or a damaged one. Kept whole so that replacing or removing it
/// can be made conditional on it being unchanged.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForeignItem {
    /// The item's `InstanceId`, as the table keys it.
    #[serde(rename = "instance_id")]
    pub key: RegistryKey,
    /// The item's attributes other than `InstanceId`, in DynamoDB JSON
    /// (`{"S": "…"}`, `{"M": {…}}`, …; binary values as lists of bytes).
    #[serde(default)]
    pub attributes: BTreeMap<String, serde_json::Value>,
    /// Why it was not read as ours, for the note.
    #[serde(default)]
    pub why: String,
}

impl ForeignItem {
    /// The note a summary carries when such an item is met.
    pub fn note(&self) -> String {
        let names: Vec<&str> = self.attributes.keys().map(String::as_str).collect();
        format!(
            "the registry item for {} is not one ec2-ddns wrote ({}; attributes: {}); it owns nothing that can be proven, so records it may name are left alone, and the item is replaced (or removed) only while it is unchanged",
            self.key,
            self.why,
            if names.is_empty() { "none".to_string() } else { names.join(", ") }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn wire(json: &str) -> Result<RecordSet, String> {
        serde_json::from_str::<RecordSet>(json).map_err(|e| e.to_string())
    }

    #[rstest]
    #[case::plain(
        r#"{"name": "DB.corp.example", "type": "a", "ttl": 300, "values": ["10.0.0.1"]}"#,
        None
    )]
    #[case::alias(
        r#"{"name": "www.corp.example.", "type": "A", "alias": "LB-1.elb.amazonaws.com"}"#,
        None
    )]
    #[case::alias_with_ttl(
        r#"{"name": "www.corp.example.", "type": "A", "ttl": 60, "alias": "lb."}"#,
        Some("no ttl or values of its own")
    )]
    #[case::no_ttl(
        r#"{"name": "db.corp.example.", "type": "A", "values": ["10.0.0.1"]}"#,
        Some("needs a ttl")
    )]
    #[case::negative_ttl(
        r#"{"name": "db.corp.example.", "type": "A", "ttl": -5, "values": ["10.0.0.1"]}"#,
        Some("ttl -5 is out of range")
    )]
    #[case::no_values(
        r#"{"name": "db.corp.example.", "type": "A", "ttl": 60}"#,
        Some("needs values")
    )]
    #[case::empty_values(
        r#"{"name": "db.corp.example.", "type": "A", "ttl": 60, "values": []}"#,
        Some("at least one value")
    )]
    #[case::a_not_an_ip(
        r#"{"name": "db.corp.example.", "type": "A", "ttl": 60, "values": ["banana"]}"#,
        Some("value 'banana' of an A record is not an IPv4 address")
    )]
    #[case::aaaa_not_an_ip(
        r#"{"name": "db.corp.example.", "type": "AAAA", "ttl": 60, "values": ["10.0.0.1"]}"#,
        Some("of an AAAA record is not an IPv6 address")
    )]
    #[case::two_cname_values(r#"{"name": "c.corp.example.", "type": "CNAME", "ttl": 60, "values": ["a.example.", "b.example."]}"#, Some("exactly one value"))]
    #[case::empty_label(
        r#"{"name": "a..corp.example.", "type": "A", "ttl": 60, "values": ["10.0.0.1"]}"#,
        Some("empty label")
    )]
    #[case::typo(
        r#"{"name": "a.corp.example.", "type": "A", "tll": 60, "values": ["10.0.0.1"]}"#,
        Some("unknown field `tll`")
    )]
    fn record_sets_from_files_are_checked(#[case] json: &str, #[case] problem: Option<&str>) {
        match (wire(json), problem) {
            (Ok(_), None) => {}
            (Err(e), Some(needle)) => assert!(e.contains(needle), "{e}"),
            (got, want) => panic!("{json}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn record_sets_round_trip_in_canonical_form() {
        let r = wire(
            r#"{"name": "DB.corp.example", "type": "cname", "ttl": 300, "values": ["X.Example"]}"#,
        )
        .unwrap();
        assert_eq!(
            r,
            RecordSet::new(
                "db.corp.example.",
                RecordType::Cname,
                300,
                vec!["x.example.".into()]
            )
        );
        let back: RecordSet = serde_json::from_value(serde_json::to_value(&r).unwrap()).unwrap();
        assert_eq!(back, r);
        let alias = wire(
            r#"{"name": "www.corp.example.", "type": "A", "alias": "LB-1.elb.amazonaws.com"}"#,
        )
        .unwrap();
        assert_eq!(alias.alias_target(), Some("lb-1.elb.amazonaws.com."));
        assert_eq!((alias.ttl(), alias.values().len()), (None, 0));
        assert_eq!(
            serde_json::to_value(&alias).unwrap(),
            serde_json::json!({"name": "www.corp.example.", "type": "A", "alias": "lb-1.elb.amazonaws.com."})
        );
    }

    #[rstest]
    #[case::soa_at_apex("corp.example.", "SOA", true)]
    #[case::ns_at_apex("corp.example.", "NS", true)]
    #[case::apex_in_other_case("Corp.Example", "NS", true)]
    #[case::delegation_below_apex("sub.corp.example.", "NS", false)]
    #[case::txt_at_apex("corp.example.", "TXT", false)]
    #[case::a_at_apex("corp.example.", "A", false)]
    fn only_apex_soa_and_ns_are_housekeeping(
        #[case] name: &str,
        #[case] t: &str,
        #[case] expected: bool,
    ) {
        let r = RecordSet::new(name, RecordType::from(t), 300, vec!["x".into()]);
        assert_eq!(r.is_apex_housekeeping("corp.example."), expected);
    }

    #[test]
    fn states_and_times_parse_or_say_what_was_expected() {
        assert_eq!(
            "shutting-down".parse::<InstanceState>(),
            Ok(InstanceState::ShuttingDown)
        );
        let err = "exploded".parse::<InstanceState>().unwrap_err();
        assert!(
            err.contains("'exploded'") && err.contains("running"),
            "{err}"
        );
        let t = parse_time("2026-11-21T10:00:00Z").unwrap();
        assert!(parse_time("2026-11-21T09:59:59Z").unwrap() < t);
        assert_eq!(
            parse_time("2026-11-21T11:00:00+01:00").unwrap(),
            t,
            "compared as times, not text"
        );
        assert_eq!(format_time(&t), "2026-11-21T10:00:00Z");
        let err = parse_time("yesterday").unwrap_err();
        assert!(
            err.contains("'yesterday'") && err.contains("RFC 3339"),
            "{err}"
        );
    }

    #[test]
    fn articles_follow_the_sound() {
        assert_eq!(RecordType::A.with_article(), "an A");
        assert_eq!(RecordType::Aaaa.with_article(), "an AAAA");
        assert_eq!(RecordType::Cname.with_article(), "a CNAME");
        assert_eq!(RecordType::Ptr.with_article(), "a PTR");
        assert_eq!(RecordType::from("TXT").with_article(), "a TXT");
        assert_eq!(RecordType::from("MX").with_article(), "an MX");
        assert_eq!(RecordType::from("NS").with_article(), "an NS");
    }
}
