//! Plain data read from AWS (or a world file) that the plan is made of.
//! No SDK types cross this line, so planning stays pure and testable.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::net::Ipv4Addr;

/// What the registrar needs to know about one instance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceFacts {
    pub instance_id: String,
    /// The live state as DescribeInstances reports it now, which may be newer
    /// than the event being handled.
    pub state: String,
    pub vpc_id: Option<String>,
    pub subnet_id: Option<String>,
    pub private_ip: Option<Ipv4Addr>,
    pub public_ip: Option<Ipv4Addr>,
    pub private_dns_name: Option<String>,
    pub public_dns_name: Option<String>,
    pub tags: BTreeMap<String, String>,
}

/// The VPC settings that decide the home domain and whether private zones resolve.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VpcFacts {
    pub vpc_id: String,
    /// First name of the DHCP option set's `domain-name`, as written there.
    pub dhcp_domain: Option<String>,
    pub dns_support: bool,
    pub dns_hostnames: bool,
}

/// A hosted zone. `visible` is only meaningful for private zones: whether the
/// instance's VPC is associated with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneInfo {
    /// Bare id, without the `/hostedzone/` prefix.
    pub id: String,
    /// Normalized name (lower-case, trailing dot).
    pub name: String,
    pub private: bool,
}

/// Record types the registrar writes; anything else found in a zone is kept
/// as `Other` so that conflicts can name it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", from = "String")]
pub enum RecordType {
    A,
    Ptr,
    Cname,
    Other(String),
}

impl RecordType {
    pub fn as_str(&self) -> &str {
        match self {
            RecordType::A => "A",
            RecordType::Ptr => "PTR",
            RecordType::Cname => "CNAME",
            RecordType::Other(s) => s,
        }
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

/// One resource record set, compared exactly as Route 53 compares a DELETE:
/// name, type, TTL and the set of values.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RecordSet {
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: RecordType,
    pub ttl: i64,
    pub values: Vec<String>,
}

/// How an alias record set (Route 53's pointer to an AWS resource, which has
/// no TTL or values of its own) is held: one value naming the target. The
/// registrar never writes or deletes one; it only has to see that the name
/// is taken, and a person reading a zone table should see where it points.
pub const ALIAS_VALUE_PREFIX: &str = "ALIAS ";

impl RecordSet {
    /// An alias record set pointing at `target` (held as described at
    /// [`ALIAS_VALUE_PREFIX`]).
    pub fn alias(name: &str, rtype: RecordType, target: &str) -> Self {
        RecordSet::new(
            name,
            rtype,
            0,
            vec![format!(
                "{ALIAS_VALUE_PREFIX}{}",
                crate::names::normalize(target)
            )],
        )
    }

    /// The target, when this is an alias record set.
    pub fn alias_target(&self) -> Option<&str> {
        match self.values.as_slice() {
            [only] => only.strip_prefix(ALIAS_VALUE_PREFIX),
            _ => None,
        }
    }

    /// Builds a record with a normalized name and sorted values, the form in
    /// which records are stored and compared.
    pub fn new(name: &str, rtype: RecordType, ttl: i64, mut values: Vec<String>) -> Self {
        values.sort();
        values.dedup();
        RecordSet {
            name: crate::names::normalize(name),
            rtype,
            ttl,
            values,
        }
    }

    /// Same name and type: the identity of a record set in a zone.
    pub fn same_slot(&self, other: &RecordSet) -> bool {
        self.name == other.name && self.rtype == other.rtype
    }

    /// Values as a sorted, comparable form (DNS names lower-cased).
    pub fn canonical(&self) -> RecordSet {
        if self.alias_target().is_some() {
            return RecordSet::new(
                &self.name,
                self.rtype.clone(),
                self.ttl,
                self.values.clone(),
            );
        }
        let values = self
            .values
            .iter()
            .map(|v| match self.rtype {
                RecordType::Cname | RecordType::Ptr => crate::names::normalize(v),
                _ => v.trim().to_string(),
            })
            .collect();
        RecordSet::new(&self.name, self.rtype.clone(), self.ttl, values)
    }
}

impl fmt::Display for RecordSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {}",
            self.name,
            self.rtype,
            self.ttl,
            self.values.join(",")
        )
    }
}

/// A record the registrar wrote, with the zone it lives in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnedRecord {
    pub zone_id: String,
    pub zone_name: String,
    pub record: RecordSet,
}

/// The registry item of one instance: what it owns, and the last event applied.
/// In a world file a typo in a field name is an error, and fields left out
/// take their defaults (no records, version 0).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegistryItem {
    pub instance_id: String,
    pub records: Vec<OwnedRecord>,
    /// RFC 3339 UTC time of the last event applied (`2026-11-21T10:00:00Z`).
    pub last_event_time: Option<String>,
    pub last_event_id: Option<String>,
    pub last_state: Option<String>,
    /// Bumped on every save; a save expects the version it loaded, so two
    /// invocations for one instance cannot overwrite each other.
    pub version: u64,
    pub private_ip: Option<String>,
    pub public_ip: Option<String>,
    pub vpc_id: Option<String>,
}
