//! Identifiers that can only hold what they name, in the one form every
//! comparison uses: a DNS name lower-case and absolute, a hosted zone's id
//! bare, a registry item's key by the kind of subject it belongs to. Built
//! from text only through their constructors (deserializing included), so
//! no code needs to remember to normalize before it compares.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Borrow;
use std::fmt;
use std::net::Ipv4Addr;
use std::ops::Deref;

/// A DNS name as Route 53 compares it: trimmed, lower-case, absolute (one
/// trailing dot). `Corp.Example` and `corp.example.` are the same
/// `DnsName`. It says nothing about whether the name is a valid hostname:
/// `names::check_*` decide that (the reverse trees included), where a name
/// is wanted.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct DnsName(String);

impl DnsName {
    /// `name` normalized.
    pub fn new(name: &str) -> DnsName {
        let trimmed = name.trim().trim_end_matches('.').to_ascii_lowercase();
        DnsName(format!("{trimmed}."))
    }

    /// `10.1.2.4` → `4.2.1.10.in-addr.arpa.`, the name of its PTR record.
    pub fn reverse_of(ip: Ipv4Addr) -> DnsName {
        let [a, b, c, d] = ip.octets();
        DnsName(format!("{d}.{c}.{b}.{a}.in-addr.arpa."))
    }

    /// `2001:db8::7` → `7.0.0.0.…8.b.d.0.1.0.0.2.ip6.arpa.`: every nibble of
    /// the address, lowest first (RFC 3596's nibble format).
    pub fn reverse_of_v6(ip: std::net::Ipv6Addr) -> DnsName {
        let mut name = String::with_capacity(72);
        for byte in ip.octets().iter().rev() {
            for nibble in [byte & 0x0f, byte >> 4] {
                name.push(char::from_digit(u32::from(nibble), 16).unwrap_or('0'));
                name.push('.');
            }
        }
        name.push_str("ip6.arpa.");
        DnsName(name)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for DnsName {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for DnsName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Maps and sets keyed by `DnsName` can be read with a `&str` that is
/// already normalized (`String` and `DnsName` hash and order alike).
impl Borrow<str> for DnsName {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl From<&str> for DnsName {
    fn from(name: &str) -> DnsName {
        DnsName::new(name)
    }
}

impl From<&String> for DnsName {
    fn from(name: &String) -> DnsName {
        DnsName::new(name)
    }
}

impl From<String> for DnsName {
    fn from(name: String) -> DnsName {
        DnsName::new(&name)
    }
}

impl From<DnsName> for String {
    fn from(name: DnsName) -> String {
        name.0
    }
}

/// For the SDK's builders, which take `impl Into<String>`.
impl From<&DnsName> for String {
    fn from(name: &DnsName) -> String {
        name.0.clone()
    }
}

impl PartialEq<str> for DnsName {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for DnsName {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<String> for DnsName {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

impl PartialEq<DnsName> for String {
    fn eq(&self, other: &DnsName) -> bool {
        *self == other.0
    }
}

impl PartialEq<DnsName> for &str {
    fn eq(&self, other: &DnsName) -> bool {
        *self == other.0
    }
}

impl fmt::Display for DnsName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for DnsName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl Serialize for DnsName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// Read names are normalized like built ones: a world file's or a stored
/// item's `Corp.Example` is `corp.example.`.
impl<'de> Deserialize<'de> for DnsName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<DnsName, D::Error> {
        String::deserialize(d).map(|s| DnsName::new(&s))
    }
}

/// A zone named by its id or by its name, as `DDNS_ALLOWED_ZONES` and
/// `--zone` take them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum ZoneRef {
    Id(ZoneId),
    Name(DnsName),
}

impl ZoneRef {
    /// Whether this names the zone `id` / `name`: ids compare without
    /// regard to case, as people type them.
    pub fn names(&self, id: &ZoneId, name: &DnsName) -> bool {
        match self {
            ZoneRef::Id(wanted) => wanted.eq_ignore_ascii_case(id),
            ZoneRef::Name(wanted) => wanted == name,
        }
    }
}

impl fmt::Display for ZoneRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ZoneRef::Id(id) => id.fmt(f),
            ZoneRef::Name(name) => name.fmt(f),
        }
    }
}

/// Where a subject lives: an AWS account and a region. Instance ids (and
/// VPC ids) are unique in practice, but AWS promises only that they are
/// unique within an account, so a subject of the organization mode is
/// named by its place as well as its id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Place {
    pub account: String,
    pub region: String,
}

impl Place {
    pub fn new(account: &str, region: &str) -> Place {
        Place {
            account: account.to_string(),
            region: region.to_string(),
        }
    }

    /// Whether `text` is an AWS account id: twelve digits.
    pub fn is_account_id(text: &str) -> bool {
        text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
    }

    /// Whether `text` looks like a region name (`eu-west-1`,
    /// `us-gov-west-1`): lowercase letters and digits between dashes, a
    /// digit last. Keeps a hostile event's text out of keys and clients.
    pub fn is_region(text: &str) -> bool {
        (4..=32).contains(&text.len())
            && text.contains('-')
            && text.ends_with(|c: char| c.is_ascii_digit())
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.account, self.region)
    }
}

/// A registry item's key: whose item it is. Stored as the table's
/// partition key (`InstanceId`), as text: an instance's id as it is
/// (`i-…`), a host outside EC2 (the DDNS endpoint's) as `host#NAME.`, a
/// nonce the endpoint has seen as `nonce#NAME.#NONCE`, an ECS task as
/// `task#` and its ARN (which names its account, region and cluster: a
/// task id is unique only within them). An instance of another account
/// or region than the deployment's own (the organization mode) is
/// `instance#ACCOUNT#REGION#ID`; an instance id alone is the deployment's
/// own account and region (every item written before the organization
/// mode). A new kind of subject gets a prefix of its own, so no key can be
/// mistaken for another kind's.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RegistryKey {
    Instance(String),
    /// An instance of another account, or of another region, than the
    /// deployment's own (`instance#ACCOUNT#REGION#ID`).
    Placed {
        place: Place,
        instance_id: String,
    },
    Host(DnsName),
    Nonce {
        host: DnsName,
        nonce: String,
    },
    /// An ECS task, by its ARN (`arn:aws:ecs:REGION:ACCOUNT:task/CLUSTER/ID`).
    Task(String),
    /// A DDNS endpoint's failure counter (`guard#SOURCE#WINDOW` or
    /// `guard#HOST#SOURCE#WINDOW`): never a subject's item.
    Guard(String),
}

impl RegistryKey {
    pub const HOST_PREFIX: &'static str = "host#";
    pub const NONCE_PREFIX: &'static str = "nonce#";
    pub const TASK_PREFIX: &'static str = "task#";
    pub const GUARD_PREFIX: &'static str = "guard#";
    pub const PLACED_PREFIX: &'static str = "instance#";

    /// The key stored as `text`, exactly: it reads back as the same text.
    /// Text without a known prefix, or with a name not in the form this
    /// tool writes (`host#Foo`), is kept as an instance's key, whose id
    /// checks (`event::is_instance_id`) then refuse it: an item someone
    /// else keyed so is never taken for a host's.
    pub fn parse(text: &str) -> RegistryKey {
        let normal = |name: &str| DnsName::new(name).as_str() == name;
        if let Some(host) = text.strip_prefix(Self::HOST_PREFIX).filter(|h| normal(h)) {
            return RegistryKey::Host(DnsName::new(host));
        }
        if let Some((host, nonce)) = text
            .strip_prefix(Self::NONCE_PREFIX)
            .and_then(|rest| rest.split_once('#'))
            .filter(|(host, _)| normal(host))
        {
            return RegistryKey::Nonce {
                host: DnsName::new(host),
                nonce: nonce.to_string(),
            };
        }
        if let Some(arn) = text
            .strip_prefix(Self::TASK_PREFIX)
            .filter(|arn| is_task_arn(arn))
        {
            return RegistryKey::Task(arn.to_string());
        }
        if let Some(counter) = text.strip_prefix(Self::GUARD_PREFIX) {
            return RegistryKey::Guard(counter.to_string());
        }
        if let Some([account, region, id]) = text
            .strip_prefix(Self::PLACED_PREFIX)
            .map(|rest| rest.splitn(3, '#').collect::<Vec<_>>())
            .and_then(|parts| <[&str; 3]>::try_from(parts).ok())
            .filter(|[a, r, id]| {
                Place::is_account_id(a) && Place::is_region(r) && crate::event::is_instance_id(id)
            })
        {
            return RegistryKey::Placed {
                place: Place::new(account, region),
                instance_id: id.to_string(),
            };
        }
        RegistryKey::Instance(text.to_string())
    }

    /// An instance's key at `place`: its id alone when `place` is `None`
    /// (the deployment's own account and region).
    pub fn instance_at(place: Option<&Place>, instance_id: &str) -> RegistryKey {
        match place {
            None => RegistryKey::Instance(instance_id.to_string()),
            Some(place) => RegistryKey::Placed {
                place: place.clone(),
                instance_id: instance_id.to_string(),
            },
        }
    }

    /// The instance id of an instance's key at `place` (`None`: the
    /// deployment's own); `None` for any other key, an instance's
    /// elsewhere included.
    pub fn instance_id_at(&self, place: Option<&Place>) -> Option<&str> {
        match (self, place) {
            (RegistryKey::Instance(id), None) => Some(id),
            (
                RegistryKey::Placed {
                    place: here,
                    instance_id,
                },
                Some(place),
            ) if here == place => Some(instance_id),
            _ => None,
        }
    }

    /// A task's key: `task#` and its ARN.
    pub fn task(arn: &str) -> RegistryKey {
        RegistryKey::Task(arn.to_string())
    }

    pub fn task_arn(&self) -> Option<&str> {
        match self {
            RegistryKey::Task(arn) => Some(arn),
            _ => None,
        }
    }

    /// A host's key: `host#` and its name, normalized.
    pub fn host(name: &str) -> RegistryKey {
        RegistryKey::Host(DnsName::new(name))
    }

    /// The text stored in the table.
    pub fn stored(&self) -> String {
        self.to_string()
    }

    /// The id of an instance of the deployment's own account and region.
    pub fn instance_id(&self) -> Option<&str> {
        match self {
            RegistryKey::Instance(id) => Some(id),
            RegistryKey::Placed { .. }
            | RegistryKey::Host(_)
            | RegistryKey::Nonce { .. }
            | RegistryKey::Task(_)
            | RegistryKey::Guard(_) => None,
        }
    }

    /// Whether the key is a guard's (a nonce or a failure counter), never
    /// a subject's item: scans leave them out.
    pub fn is_guard(&self) -> bool {
        matches!(self, RegistryKey::Nonce { .. } | RegistryKey::Guard(_))
    }

    pub fn host_name(&self) -> Option<&DnsName> {
        match self {
            RegistryKey::Host(name) => Some(name),
            RegistryKey::Instance(_)
            | RegistryKey::Placed { .. }
            | RegistryKey::Nonce { .. }
            | RegistryKey::Task(_)
            | RegistryKey::Guard(_) => None,
        }
    }
}

impl Default for RegistryKey {
    fn default() -> RegistryKey {
        RegistryKey::Instance(String::new())
    }
}

impl From<&str> for RegistryKey {
    fn from(text: &str) -> RegistryKey {
        RegistryKey::parse(text)
    }
}

impl fmt::Display for RegistryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegistryKey::Instance(id) => f.write_str(id),
            RegistryKey::Placed { place, instance_id } => write!(
                f,
                "{}{}#{}#{instance_id}",
                Self::PLACED_PREFIX,
                place.account,
                place.region
            ),
            RegistryKey::Host(name) => write!(f, "{}{name}", Self::HOST_PREFIX),
            RegistryKey::Nonce { host, nonce } => {
                write!(f, "{}{host}#{nonce}", Self::NONCE_PREFIX)
            }
            RegistryKey::Task(arn) => write!(f, "{}{arn}", Self::TASK_PREFIX),
            RegistryKey::Guard(counter) => write!(f, "{}{counter}", Self::GUARD_PREFIX),
        }
    }
}

impl fmt::Debug for RegistryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.to_string(), f)
    }
}

/// Compared with stored text (which parses back to exactly one key).
impl PartialEq<str> for RegistryKey {
    fn eq(&self, other: &str) -> bool {
        *self == RegistryKey::parse(other)
    }
}

impl PartialEq<&str> for RegistryKey {
    fn eq(&self, other: &&str) -> bool {
        *self == RegistryKey::parse(other)
    }
}

impl Serialize for RegistryKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for RegistryKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<RegistryKey, D::Error> {
        String::deserialize(d).map(|s| RegistryKey::parse(&s))
    }
}

/// Names per zone: what a subject touches or needs read, what a read
/// covers.
pub type NamesByZone = std::collections::BTreeMap<ZoneId, std::collections::BTreeSet<DnsName>>;

/// A hosted zone's id, bare (`Z0ABC…`): Route 53 answers
/// `/hostedzone/Z0ABC…` in some places and takes either, so the prefix is
/// dropped once, here.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ZoneId(String);

impl ZoneId {
    pub fn new(id: &str) -> ZoneId {
        ZoneId(id.trim().trim_start_matches("/hostedzone/").to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for ZoneId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for ZoneId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for ZoneId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl From<&str> for ZoneId {
    fn from(id: &str) -> ZoneId {
        ZoneId::new(id)
    }
}

impl From<&String> for ZoneId {
    fn from(id: &String) -> ZoneId {
        ZoneId::new(id)
    }
}

impl From<String> for ZoneId {
    fn from(id: String) -> ZoneId {
        ZoneId::new(&id)
    }
}

impl From<ZoneId> for String {
    fn from(id: ZoneId) -> String {
        id.0
    }
}

impl From<&ZoneId> for String {
    fn from(id: &ZoneId) -> String {
        id.0.clone()
    }
}

impl PartialEq<str> for ZoneId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for ZoneId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<String> for ZoneId {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

impl fmt::Display for ZoneId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ZoneId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl Serialize for ZoneId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ZoneId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ZoneId, D::Error> {
        String::deserialize(d).map(|s| ZoneId::new(&s))
    }
}

/// Whether `arn` is an ECS task's ARN in the long form ECS writes today,
/// `arn:PARTITION:ecs:REGION:ACCOUNT:task/CLUSTER/ID`, which names the
/// cluster (the old short form, `task/ID`, is accepted too: ECS still
/// returns it for accounts that never opted in).
pub fn is_task_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [arn_word, partition, service, region, account, resource] = parts.as_slice() else {
        return false;
    };
    let id = resource
        .strip_prefix("task/")
        .map(|rest| rest.rsplit('/').next().unwrap_or_default());
    *arn_word == "arn"
        && !partition.is_empty()
        && *service == "ecs"
        && !region.is_empty()
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && id.is_some_and(|id| {
            !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        && arn.len() <= 1600
        && !arn.chars().any(char::is_control)
}

/// The ARN of the cluster of the task `task_arn` names, from the ARN
/// itself (`…:task/CLUSTER/ID` → `…:cluster/CLUSTER`): a task's registry
/// key carries its cluster so. `None` for a task ARN of the old form
/// (`…:task/ID`), which does not name it.
pub fn cluster_arn_of_task(task_arn: &str) -> Option<String> {
    let (head, resource) = task_arn.rsplit_once(":task/")?;
    let (cluster, _id) = resource.split_once('/')?;
    (!cluster.is_empty() && is_task_arn(task_arn)).then(|| format!("{head}:cluster/{cluster}"))
}

#[cfg(test)]
mod tests {

    /// The cluster is read from a task's ARN; the old form names none.
    #[test]
    fn a_tasks_cluster_is_read_from_its_arn() {
        use super::cluster_arn_of_task;
        assert_eq!(
            cluster_arn_of_task(
                "arn:aws:ecs:eu-west-1:123456789012:task/prod/0123456789abcdef0123456789abcdef"
            )
            .as_deref(),
            Some("arn:aws:ecs:eu-west-1:123456789012:cluster/prod")
        );
        assert_eq!(
            cluster_arn_of_task("arn:aws:ecs:eu-west-1:123456789012:task/0123456789abcdef"),
            None
        );
        assert_eq!(cluster_arn_of_task("i-0123456789abcdef0"), None);
    }

    /// A task's key is `task#` and its ARN, and reads back as the same
    /// key; text that only looks like one stays an instance's key (which
    /// the id checks then refuse), never a task's.
    #[test]
    fn task_keys_round_trip_and_are_never_mistaken() {
        let arn = "arn:aws:ecs:us-east-1:123456789012:task/web/0123456789abcdef0123456789abcdef";
        let key = RegistryKey::task(arn);
        assert_eq!(key.stored(), format!("task#{arn}"));
        assert_eq!(RegistryKey::parse(&key.stored()), key);
        assert_eq!(key.task_arn(), Some(arn));
        assert_eq!(key.instance_id(), None);
        let short = "arn:aws:ecs:us-east-1:123456789012:task/0123456789abcdef";
        assert_eq!(
            RegistryKey::parse(&format!("task#{short}")),
            RegistryKey::task(short)
        );
        for text in [
            "task#i-0abc",
            "task#arn:aws:ec2:us-east-1:123456789012:instance/i-0abc",
            "task#arn:aws:ecs:us-east-1:1234:task/web/0123",
            "task#arn:aws:ecs:us-east-1:123456789012:task/web/",
            "task#arn:aws:ecs:us-east-1:123456789012:service/web/x",
            "task#arn:aws:ecs:us-east-1:123456789012:task/web/a\nb",
        ] {
            assert!(
                matches!(RegistryKey::parse(text), RegistryKey::Instance(_)),
                "{text}"
            );
        }
    }
    use super::*;

    #[test]
    fn a_name_is_normalized_however_it_is_built() {
        for (input, want) in [
            ("Corp.Example", "corp.example."),
            ("corp.example.", "corp.example."),
            ("  corp.example..", "corp.example."),
        ] {
            assert_eq!(DnsName::new(input), want, "{input}");
            assert_eq!(DnsName::from(input.to_string()), want, "{input}");
            let read: DnsName = serde_json::from_value(input.into()).unwrap();
            assert_eq!(read, want, "{input}");
            assert_eq!(serde_json::to_value(&read).unwrap(), want);
        }
        assert_eq!(
            DnsName::reverse_of("10.1.2.4".parse().unwrap()),
            "4.2.1.10.in-addr.arpa."
        );
    }

    #[test]
    fn a_registry_key_reads_back_as_it_is_stored() {
        for (stored, want) in [
            ("i-0abc", RegistryKey::Instance("i-0abc".into())),
            (
                "host#home.dyn.example.",
                RegistryKey::host("Home.Dyn.Example"),
            ),
            (
                "nonce#home.dyn.example.#n1",
                RegistryKey::Nonce {
                    host: "home.dyn.example.".into(),
                    nonce: "n1".into(),
                },
            ),
        ] {
            let key = RegistryKey::parse(stored);
            assert_eq!(key, want, "{stored}");
            assert_eq!(key.stored(), stored);
            assert_eq!(serde_json::to_value(&key).unwrap(), stored);
        }
        assert_eq!(RegistryKey::parse("i-1").instance_id(), Some("i-1"));
        // Not as this tool writes it: kept as it is, never a host's.
        for odd in [
            "host#Home.example",
            "host#home.example",
            "nonce#X#1",
            "task#1",
        ] {
            let key = RegistryKey::parse(odd);
            assert_eq!(key.stored(), odd);
            assert_eq!(key.host_name(), None, "{odd}");
        }
        assert_eq!(RegistryKey::parse("host#h.example.").instance_id(), None);
    }

    #[test]
    fn an_instance_elsewhere_is_keyed_by_its_account_and_region() {
        let place = Place::new("111111111111", "eu-west-1");
        let key = RegistryKey::instance_at(Some(&place), "i-0abc");
        assert_eq!(key.stored(), "instance#111111111111#eu-west-1#i-0abc");
        assert_eq!(RegistryKey::parse(&key.stored()), key);
        assert_eq!(key.instance_id_at(Some(&place)), Some("i-0abc"));
        assert_eq!(key.instance_id(), None, "not the deployment's own");
        let other = Place::new("222222222222", "eu-west-1");
        assert_eq!(key.instance_id_at(Some(&other)), None);
        assert_eq!(key.instance_id_at(None), None);
        // The migration rule: an id alone is the deployment's own.
        let own = RegistryKey::parse("i-0abc");
        assert_eq!(own, RegistryKey::instance_at(None, "i-0abc"));
        assert_eq!(own.instance_id_at(None), Some("i-0abc"));
        assert_eq!(own.instance_id_at(Some(&place)), None);
        // Not as this tool writes it: kept as it is, an id no instance has.
        for odd in [
            "instance#1111#eu-west-1#i-0abc",
            "instance#111111111111#EU#i-0abc",
            "instance#111111111111#eu-west-1#x",
            "instance#111111111111#eu-west-1",
        ] {
            let key = RegistryKey::parse(odd);
            assert_eq!(key.stored(), odd);
            assert!(matches!(key, RegistryKey::Instance(_)), "{odd}");
        }
    }

    #[test]
    fn a_zone_id_is_bare() {
        for input in ["Z0ABC", "/hostedzone/Z0ABC", " Z0ABC "] {
            assert_eq!(ZoneId::new(input), "Z0ABC", "{input}");
            let read: ZoneId = serde_json::from_value(input.into()).unwrap();
            assert_eq!(read, "Z0ABC", "{input}");
        }
    }
}
