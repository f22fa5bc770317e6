//! The plan: which records an instance should have (the rules of
//! `docs/records.md`), diffed against what exists and what it owns.
//! Pure functions only: no async, no SDK types, no clock.
//!
//! How one wanted record is decided against the zone (as read, or as
//! assumed: see below):
//!
//! | at the wanted name and type            | this instance's claim     | action              |
//! |----------------------------------------|---------------------------|---------------------|
//! | nothing                                | —                         | CREATE              |
//! | the same record                        | owned (proven)            | keep                |
//! | the same record                        | pending (never settled)   | conflict            |
//! | the same record                        | none                      | conflict            |
//! | a different record                     | owned, exactly as written | DELETE old + CREATE |
//! | a different record                     | none, or changed since    | conflict            |
//! | a CNAME (wanting another type)         | none                      | conflict            |
//! | any other type (wanting a CNAME)       | none                      | conflict            |
//!
//! Owned records that are no longer wanted are deleted only while they still
//! equal what was written; otherwise they are left to whoever changed them
//! and are no longer owned (`Plan::dropped`). A pending record is never
//! deleted: its equal value proves nothing.
//!
//! Every write is compare-and-swap: there is no UPSERT. A DELETE names
//! exactly the values written and a CREATE needs the name and type free, so
//! Route 53 itself refuses a batch that would overwrite or delete what
//! someone changed since. That is why the plan may be made without reading
//! the zones: a name not read ([`Observed`]) is assumed to hold exactly what
//! this instance owns there, and nothing else. If that is wrong, Route 53
//! refuses the batch, the registrar reads the names, and plans again.

mod intent;
pub use intent::{intent, Intent};

use crate::config::Config;
use crate::model::{InstanceFacts, OwnedRecord, RecordSet, RecordType, VpcFacts, ZoneInfo};
use crate::names::{self, clip};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

/// Everything the first planning step needs: the instance, its VPC and the
/// zones it can see (every public zone, and the private zones associated
/// with its VPC).
#[derive(Debug, Clone, Copy)]
pub struct PlanInput<'a> {
    pub config: &'a Config,
    pub instance: &'a InstanceFacts,
    pub vpc: Option<&'a VpcFacts>,
    pub zones: &'a [ZoneInfo],
}

/// A wanted name that will not be written, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    pub name: String,
    /// Why, in one word a script can match.
    pub kind: RejectionKind,
    /// Why, for people.
    pub reason: String,
}

/// Why a wanted name is never written (until its tag or the zones change).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RejectionKind {
    /// A `ZONE` or `HOSTNAME` tag that gives no usable name.
    BadTag,
    /// Not a hostname (RFC 1123), a wildcard, too long.
    InvalidName,
    /// Inside `in-addr.arpa.` or `ip6.arpa.`: another address's PTR name.
    ReverseTree,
    /// At a zone's apex.
    Apex,
    /// Its zone is one `DDNS_ALLOWED_ZONES` leaves out.
    ZoneNotAllowed,
    /// In no zone visible to the instance (or only in a public one, and it
    /// has nothing public to put there).
    NoZone,
}

impl RejectionKind {
    /// The kind of a name that fails the hostname rules.
    fn of(problem: &names::NameProblem) -> RejectionKind {
        match problem {
            names::NameProblem::ReverseTree(_) => RejectionKind::ReverseTree,
            _ => RejectionKind::InvalidName,
        }
    }
}

/// A wanted record that is not written, because the name is not free for
/// it; it is skipped, and the rest goes in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conflict {
    pub zone_id: String,
    pub zone_name: String,
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: RecordType,
    /// Why, in one word a script can match.
    pub kind: ConflictKind,
    /// Why, for people: under 200 characters (names and values clipped).
    pub reason: String,
}

/// Why a wanted record is not written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConflictKind {
    /// Someone else's record is at the name (any value, an alias, or one
    /// identical to the wanted one: equal is not ours).
    Held,
    /// A CNAME must stand alone, and the name holds (or this subject
    /// wants) another record there.
    CnameNotAlone,
    /// The name is a CNAME, so no other record may share it.
    NameIsCname,
    /// An identical record an earlier invocation sent without learning
    /// whether it applied: never proven this subject's, so left alone.
    Unsettled,
    /// Route 53 refused the change on its own.
    Refused,
}

/// Route 53 change actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ChangeAction {
    Delete,
    Create,
    /// Never planned by the registrar (it would overwrite what someone
    /// changed); other writers, such as a person in a scenario, use it.
    Upsert,
}

impl ChangeAction {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeAction::Delete => "DELETE",
            ChangeAction::Create => "CREATE",
            ChangeAction::Upsert => "UPSERT",
        }
    }
}

impl std::fmt::Display for ChangeAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One change in a zone's batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub action: ChangeAction,
    pub record: RecordSet,
}

/// All changes for one zone: sent as one ChangeResourceRecordSets call so the
/// zone never shows half of an instance's records. Deletes come first, so a
/// name can change type (CNAME → A) within one batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ZoneChanges {
    pub zone_id: String,
    pub zone_name: String,
    pub changes: Vec<Change>,
}

/// Where one host name goes in each view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostTarget {
    pub name: String,
    pub private_ip: Ipv4Addr,
    pub private_zone: Option<ZoneInfo>,
    pub public: Option<(ZoneInfo, Ipv4Addr)>,
}

/// Where one alias goes in each view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasTarget {
    pub name: String,
    pub private_zone: Option<ZoneInfo>,
    pub public_zone: Option<ZoneInfo>,
}

/// The first planning step: the names wanted and their zones, before any
/// record is read. It tells the caller which names to read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Targets {
    pub host: Option<HostTarget>,
    /// Reverse zone and PTR name, written only if the private host A is.
    pub ptr: Option<(ZoneInfo, String)>,
    pub aliases: Vec<AliasTarget>,
    pub rejected: Vec<Rejection>,
    /// Things worth telling the user that are not errors.
    pub notes: Vec<String>,
    /// Settings that keep written records from working (a VPC without DNS
    /// support); shown on stderr and logged at warn level.
    pub warnings: Vec<String>,
    private_dns_name: Option<String>,
    public_dns_name: Option<String>,
}

/// Records as read from the zones: zone id → the record sets found at the
/// names that were asked for.
pub type CurrentRecords = BTreeMap<String, Vec<RecordSet>>;

/// What the registrar has read of the zones, name by name. A name not read
/// is assumed to hold what this instance owns there and nothing else (see
/// the module docs); a compare-and-swap batch finds out if it does not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observed {
    read: BTreeMap<String, BTreeSet<String>>,
    /// Zones listed whole (the reconcile): every name in them is read.
    whole: BTreeSet<String>,
    records: CurrentRecords,
}

impl Observed {
    /// Everything at these names, read from Route 53: `found` replaces what
    /// was known there before.
    pub fn learn(&mut self, zone_id: &str, names: &BTreeSet<String>, found: Vec<RecordSet>) {
        let records = self.records.entry(zone_id.to_string()).or_default();
        records.retain(|r| !names.contains(&r.name));
        records.extend(found.into_iter().filter(|r| names.contains(&r.name)));
        self.read
            .entry(zone_id.to_string())
            .or_default()
            .extend(names.iter().cloned());
    }

    /// Every record of a zone, listed whole: every name in it is read,
    /// those not found hold nothing.
    pub fn learn_zone(&mut self, zone_id: &str, found: Vec<RecordSet>) {
        self.records.insert(zone_id.to_string(), found);
        self.whole.insert(zone_id.to_string());
    }

    /// What was read of one zone alone: each zone's sends run at once, each
    /// with its own view, given back by [`Observed::absorb_zone`].
    pub fn zone(&self, zone_id: &str) -> Observed {
        let mut one = Observed::default();
        if let Some(names) = self.read.get(zone_id) {
            one.read.insert(zone_id.to_string(), names.clone());
        }
        if self.whole.contains(zone_id) {
            one.whole.insert(zone_id.to_string());
        }
        if let Some(records) = self.records.get(zone_id) {
            one.records.insert(zone_id.to_string(), records.clone());
        }
        one
    }

    /// Takes back what `one` (a view from [`Observed::zone`]) knows of
    /// that zone, in place of what this knew.
    pub fn absorb_zone(&mut self, zone_id: &str, mut one: Observed) {
        match one.read.remove(zone_id) {
            Some(names) => self.read.insert(zone_id.to_string(), names),
            None => self.read.remove(zone_id),
        };
        if one.whole.contains(zone_id) {
            self.whole.insert(zone_id.to_string());
        }
        match one.records.remove(zone_id) {
            Some(records) => self.records.insert(zone_id.to_string(), records),
            None => self.records.remove(zone_id),
        };
    }

    /// Whether `name` in the zone was read (on its own, or with the zone).
    fn was_read(&self, zone_id: &str, name: &str) -> bool {
        self.whole.contains(zone_id) || self.read.get(zone_id).is_some_and(|r| r.contains(name))
    }

    /// A batch Route 53 applied: where its names were read, the zone now
    /// holds what the batch left (a read before the batch is stale after it).
    pub fn applied(&mut self, batch: &ZoneChanges) {
        let read: Vec<bool> = batch
            .changes
            .iter()
            .map(|c| self.was_read(&batch.zone_id, &c.record.name))
            .collect();
        if !read.contains(&true) {
            return;
        }
        let records = self.records.entry(batch.zone_id.clone()).or_default();
        for (c, _) in batch.changes.iter().zip(read).filter(|(_, read)| *read) {
            records.retain(|r| !r.same_slot(&c.record));
            if c.action != ChangeAction::Delete {
                records.push(c.record.clone());
            }
        }
    }

    /// Of `wanted` (zone id → names), the names not read yet.
    pub fn unread(
        &self,
        wanted: BTreeMap<String, BTreeSet<String>>,
    ) -> BTreeMap<String, BTreeSet<String>> {
        wanted
            .into_iter()
            .map(|(zone, names)| {
                let left = names
                    .into_iter()
                    .filter(|n| !self.was_read(&zone, n))
                    .collect::<BTreeSet<_>>();
                (zone, left)
            })
            .filter(|(_, names)| !names.is_empty())
            .collect()
    }

    /// The record sets read at `name`; `None` when the name was not read.
    pub fn at(&self, zone_id: &str, name: &str) -> Option<Vec<&RecordSet>> {
        if !self.was_read(zone_id, name) {
            return None;
        }
        Some(
            self.records
                .get(zone_id)
                .into_iter()
                .flatten()
                .filter(|r| r.name == name)
                .collect(),
        )
    }

    /// Whether the zone holds exactly `record`: `None` when not read.
    pub fn holds(&self, record: &OwnedRecord) -> Option<bool> {
        self.at(&record.zone_id, &record.record.name)
            .map(|found| found.contains(&&record.record))
    }

    /// The zones as the plan sees them: what was read, and at names not read,
    /// what `owned` says is there.
    pub fn assume(&self, owned: &[OwnedRecord]) -> CurrentRecords {
        let mut current = self.records.clone();
        for o in owned {
            if self.at(&o.zone_id, &o.record.name).is_none() {
                current
                    .entry(o.zone_id.clone())
                    .or_default()
                    .push(o.record.clone());
            }
        }
        current
    }

    /// An observer that has read every name in `current` (tests, and the
    /// dry run, which reads everything it plans over).
    pub fn everything(
        names: &BTreeMap<String, BTreeSet<String>>,
        current: &CurrentRecords,
    ) -> Observed {
        let mut seen = Observed::default();
        for (zone, names) in names {
            seen.learn(zone, names, current.get(zone).cloned().unwrap_or_default());
        }
        seen
    }
}

/// The outcome of planning one event.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Plan {
    pub zones: Vec<ZoneChanges>,
    pub conflicts: Vec<Conflict>,
    pub rejected: Vec<Rejection>,
    pub notes: Vec<String>,
    pub warnings: Vec<String>,
    /// What the instance owns once the changes are applied.
    #[serde(skip)]
    pub owned_after: Vec<OwnedRecord>,
    /// Owned records found changed or gone: someone else's now, or no one's.
    /// They are no longer owned, and no change touches them.
    #[serde(skip)]
    pub dropped: Vec<OwnedRecord>,
}

impl Plan {
    pub fn change_count(&self) -> usize {
        self.zones.iter().map(|z| z.changes.len()).sum()
    }

    /// The records the batches create, with their zones: listed as pending
    /// before the batches are sent.
    pub fn creates(&self) -> Vec<OwnedRecord> {
        self.zones.iter().flat_map(ZoneChanges::creates).collect()
    }

    fn deletes(&self, o: &OwnedRecord) -> bool {
        self.zones.iter().any(|z| {
            z.zone_id == o.zone_id
                && z.changes
                    .iter()
                    .any(|c| c.action == ChangeAction::Delete && c.record == o.record)
        })
    }
}

impl ZoneChanges {
    /// The records this batch creates, as owned records of its zone.
    pub fn creates(&self) -> impl Iterator<Item = OwnedRecord> + '_ {
        self.with_action(ChangeAction::Create)
    }

    /// The records this batch deletes, as owned records of its zone.
    pub fn deletes(&self) -> impl Iterator<Item = OwnedRecord> + '_ {
        self.with_action(ChangeAction::Delete)
    }

    fn with_action(&self, action: ChangeAction) -> impl Iterator<Item = OwnedRecord> + '_ {
        self.changes
            .iter()
            .filter(move |c| c.action == action)
            .map(|c| OwnedRecord {
                zone_id: self.zone_id.clone(),
                zone_name: self.zone_name.clone(),
                record: c.record.clone(),
            })
    }

    /// The names this batch touches: what to read when its outcome is in doubt.
    pub fn names(&self) -> BTreeSet<String> {
        self.changes.iter().map(|c| c.record.name.clone()).collect()
    }
}

/// The zone for `name` in one view: the visible zone whose name is the
/// longest suffix of it, label-wise, whether or not it is managed. A name
/// whose most specific zone is not managed must not fall back to a parent
/// zone, where the child zone would hide it from every resolver.
fn zone_for<'z>(name: &str, zones: &'z [ZoneInfo], private: bool) -> Option<&'z ZoneInfo> {
    zones
        .iter()
        .filter(|z| z.private == private && names::is_within(name, &z.name))
        .max_by_key(|z| names::label_count(&z.name))
}

/// Splits a tag value into names: commas and white space separate.
pub fn split_names(value: &str) -> Vec<String> {
    value
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(names::normalize)
        .collect()
}

/// The home domain, from the ZONE tag, then DHCP, then the default; AWS's
/// own suffixes never count. `Err` carries a rejection for a bad ZONE tag.
fn home_domain(input: &PlanInput, notes: &mut Vec<String>) -> Result<Option<String>, Rejection> {
    let config = input.config;
    if let Some(tag) = input.instance.tags.get(&config.zone_tag) {
        let domain = names::normalize(tag);
        if tag.trim().is_empty() {
            return Err(Rejection {
                name: format!("tag {}", clip(&config.zone_tag)),
                kind: RejectionKind::BadTag,
                reason: format!(
                    "the {} tag is empty; give a domain such as corp.example, or remove the tag",
                    config.zone_tag
                ),
            });
        } else if names::is_aws_default_suffix(&domain) {
            notes.push(format!(
                "the {} tag names AWS's own suffix {}, which no zone serves; the home domain comes from the VPC's DHCP options or DDNS_DEFAULT_ZONE",
                config.zone_tag,
                clip(tag)
            ));
        } else if let Err(problem) = names::check_hostname(&domain) {
            return Err(Rejection {
                name: clip(tag),
                kind: RejectionKind::BadTag,
                reason: format!(
                    "the {} tag is not a domain name: {problem}",
                    config.zone_tag
                ),
            });
        } else {
            return Ok(Some(domain));
        }
    }
    let dhcp = input
        .vpc
        .and_then(|v| v.dhcp_domain.as_deref())
        .and_then(|d| d.split_whitespace().next())
        .map(names::normalize)
        .filter(|d| !names::is_aws_default_suffix(d) && names::check_hostname(d).is_ok());
    Ok(dhcp.or_else(|| config.default_zone.clone()))
}

/// Checks a name against the zone found for it in one view: `Ok(None)` when
/// no zone of that view holds it, `Err` when it must never be written.
fn place(
    name: &str,
    zone: Option<&ZoneInfo>,
    config: &Config,
) -> Result<Option<ZoneInfo>, (RejectionKind, String)> {
    match zone {
        Some(z) if z.name == name => Err((
            RejectionKind::Apex,
            format!(
                "{name} is the apex of zone {} ({}); the registrar never writes at a zone apex",
                z.name, z.id
            ),
        )),
        Some(z) if !config.allows_zone(&z.id, &z.name) => Err((
            RejectionKind::ZoneNotAllowed,
            format!(
                "the zone for {name} is {} ({}), which DDNS_ALLOWED_ZONES leaves out; not written into a parent zone, where it would be hidden",
                z.name, z.id
            ),
        )),
        Some(z) => Ok(Some(z.clone())),
        None => Ok(None),
    }
}

/// First planning step: the names an instance should have and the zones they
/// go to, per `docs/records.md`.
pub fn targets(input: &PlanInput) -> Targets {
    let config = input.config;
    let instance = input.instance;
    let zones = input.zones;
    let mut t = Targets {
        private_dns_name: instance.private_dns_name.as_deref().map(names::normalize),
        public_dns_name: instance.public_dns_name.as_deref().map(names::normalize),
        ..Targets::default()
    };

    let home = match home_domain(input, &mut t.notes) {
        Ok(home) => home,
        Err(rejection) => {
            t.rejected.push(rejection);
            None
        }
    };
    let host_name = match instance.tags.get(&config.hostname_tag) {
        Some(tag) if tag.trim().is_empty() => {
            t.rejected.push(Rejection {
                name: format!("tag {}", clip(&config.hostname_tag)),
                kind: RejectionKind::BadTag,
                reason: format!(
                    "the {} tag is empty; give a host name such as web-1 or web-1.corp.example, or remove the tag",
                    config.hostname_tag
                ),
            });
            None
        }
        Some(tag) => {
            let name = names::normalize(tag);
            if name.trim_end_matches('.').contains('.') {
                Some(name)
            } else if let Some(home) = &home {
                // A bare label in HOSTNAME is taken as a label in the home domain.
                Some(format!("{name}{home}"))
            } else {
                t.rejected.push(Rejection {
                    name: clip(tag),
                    kind: RejectionKind::BadTag,
                    reason: format!(
                        "the {} tag is a single label and the instance has no home domain; give a full name such as web-1.corp.example",
                        config.hostname_tag
                    ),
                });
                None
            }
        }
        None => match (&home, &t.private_dns_name) {
            (Some(home), Some(private_dns)) => {
                names::first_label(private_dns).map(|label| format!("{label}.{home}"))
            }
            _ => None,
        },
    };

    if let Some(name) = host_name {
        host_target(&mut t, zones, config, instance, name);
    }
    if let Some(host) = &t.host {
        if host.private_zone.is_some() {
            let ptr_name = names::reverse_name(host.private_ip);
            match place(&ptr_name, zone_for(&ptr_name, zones, true), config) {
                Ok(Some(zone)) => t.ptr = Some((zone, ptr_name)),
                Ok(None) => {}
                Err((_, reason)) => t.notes.push(format!("no PTR: {reason}")),
            }
        }
    }

    let mut seen = BTreeSet::new();
    for alias in instance
        .tags
        .get(&config.cname_tag)
        .map(|v| split_names(v))
        .unwrap_or_default()
    {
        if seen.insert(alias.clone()) {
            alias_target(&mut t, zones, config, alias);
        }
    }
    if let Some(vpc) = input.vpc {
        let uses_private = t.host.as_ref().is_some_and(|h| h.private_zone.is_some())
            || t.aliases.iter().any(|a| a.private_zone.is_some());
        if uses_private && !(vpc.dns_support && vpc.dns_hostnames) {
            t.warnings.push(format!(
                "VPC {} has enableDnsSupport={}, enableDnsHostnames={}: private hosted zones do not resolve inside it until both are true",
                vpc.vpc_id, vpc.dns_support, vpc.dns_hostnames
            ));
        }
    }
    t
}

fn host_target(
    t: &mut Targets,
    zones: &[ZoneInfo],
    config: &Config,
    instance: &InstanceFacts,
    name: String,
) {
    if let Err(problem) = names::check_wanted_name(&name) {
        t.rejected.push(Rejection {
            name: clip(&name),
            kind: RejectionKind::of(&problem),
            reason: problem.to_string(),
        });
        return;
    }
    let Some(private_ip) = instance.private_ip else {
        t.notes.push(format!(
            "{name}: the instance has no private IPv4, so it gets no host record"
        ));
        return;
    };
    let placed = place(&name, zone_for(&name, zones, true), config).and_then(|private_zone| {
        let public = match instance.public_ip {
            Some(ip) => place(&name, zone_for(&name, zones, false), config)?.map(|z| (z, ip)),
            None => None,
        };
        Ok((private_zone, public))
    });
    match placed {
        Err((kind, reason)) => t.rejected.push(Rejection { name, kind, reason }),
        Ok((None, None)) => {
            let public_only =
                instance.public_ip.is_none() && zone_for(&name, zones, false).is_some();
            let reason = if public_only {
                format!("{name} is only in a public zone, and the instance has no public IPv4 to put there")
            } else {
                format!("{name} is outside every zone visible to this instance's VPC")
            };
            let kind = RejectionKind::NoZone;
            t.rejected.push(Rejection { name, kind, reason });
        }
        Ok((private_zone, public)) => {
            t.host = Some(HostTarget {
                name,
                private_ip,
                private_zone,
                public,
            });
        }
    }
}

fn alias_target(t: &mut Targets, zones: &[ZoneInfo], config: &Config, alias: String) {
    if let Err(problem) = names::check_wanted_name(&alias) {
        t.rejected.push(Rejection {
            name: clip(&alias),
            kind: RejectionKind::of(&problem),
            reason: problem.to_string(),
        });
        return;
    }
    let private_zone = place(&alias, zone_for(&alias, zones, true), config);
    let public_zone = if t.public_dns_name.is_some() {
        place(&alias, zone_for(&alias, zones, false), config)
    } else {
        Ok(None)
    };
    match (private_zone, public_zone) {
        (Err((kind, reason)), _) | (_, Err((kind, reason))) => t.rejected.push(Rejection {
            name: alias,
            kind,
            reason,
        }),
        (Ok(None), Ok(None)) => {
            let reason = if zone_for(&alias, zones, false).is_some() {
                format!("{alias} is only in a public zone, and the instance has no public DNS name to point it at")
            } else {
                format!("{alias} is outside every zone visible to this instance's VPC")
            };
            t.rejected.push(Rejection {
                name: alias,
                kind: RejectionKind::NoZone,
                reason,
            });
        }
        (Ok(private_zone), Ok(public_zone)) => t.aliases.push(AliasTarget {
            name: alias,
            private_zone,
            public_zone,
        }),
    }
}

impl Targets {
    /// Every (zone id → names) the second step must see the current records
    /// of: wanted names, plus the names of records already owned.
    pub fn names_to_read(&self, owned: &[OwnedRecord]) -> BTreeMap<String, BTreeSet<String>> {
        let mut read: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut add = |zone: &ZoneInfo, name: &str| {
            read.entry(zone.id.clone())
                .or_default()
                .insert(name.to_string());
        };
        if let Some(host) = &self.host {
            if let Some(z) = &host.private_zone {
                add(z, &host.name);
            }
            if let Some((z, _)) = &host.public {
                add(z, &host.name);
            }
        }
        if let Some((z, name)) = &self.ptr {
            add(z, name);
        }
        for alias in &self.aliases {
            for z in [&alias.private_zone, &alias.public_zone]
                .into_iter()
                .flatten()
            {
                add(z, &alias.name);
            }
        }
        for (zone, names) in names_of(owned) {
            read.entry(zone).or_default().extend(names);
        }
        read
    }
}

/// Zone id → the names of `records`: what to read to see them.
pub fn names_of<'r>(
    records: impl IntoIterator<Item = &'r OwnedRecord>,
) -> BTreeMap<String, BTreeSet<String>> {
    let mut names: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for o in records {
        names
            .entry(o.zone_id.clone())
            .or_default()
            .insert(o.record.name.clone());
    }
    names
}

/// Builds the second step's state: one wanted record at a time, checked
/// against the zone as read and against what this plan already wants.
struct Differ<'a> {
    ttl: u32,
    owned: &'a [OwnedRecord],
    /// Records an earlier invocation sent without learning the outcome.
    unsettled: &'a [OwnedRecord],
    /// Current records, less the owned ones this plan deletes.
    current: BTreeMap<String, Vec<RecordSet>>,
    /// zone id → records this plan will hold after apply.
    planned: BTreeMap<String, Vec<RecordSet>>,
    plan: Plan,
}

impl Differ<'_> {
    fn is_owned(&self, zone_id: &str, record: &RecordSet) -> bool {
        self.owned
            .iter()
            .any(|o| o.zone_id == zone_id && o.record == *record)
    }

    /// Decides one wanted record; true when it will be in place after apply.
    fn want(&mut self, zone: &ZoneInfo, rtype: RecordType, name: &str, value: String) -> bool {
        let record = RecordSet::new(name, rtype.clone(), self.ttl, vec![value]);
        let conflict = |kind: ConflictKind, reason: String| Conflict {
            zone_id: zone.id.clone(),
            zone_name: zone.name.clone(),
            name: record.name.clone(),
            rtype: rtype.clone(),
            kind,
            reason,
        };
        let planned_here: Vec<&RecordSet> = self
            .planned
            .get(&zone.id)
            .into_iter()
            .flatten()
            .filter(|r| r.name == record.name)
            .collect();
        if let Some(p) = planned_here.first() {
            let c = conflict(
                ConflictKind::CnameNotAlone,
                format!(
                    "this instance already gets {} record here; a CNAME must stand alone",
                    p.rtype.with_article()
                ),
            );
            self.plan.conflicts.push(c);
            return false;
        }
        let at_name: Vec<RecordSet> = self
            .current
            .get(&zone.id)
            .into_iter()
            .flatten()
            .filter(|r| r.name == record.name)
            .cloned()
            .collect();
        let same_type = at_name.iter().find(|r| r.rtype == record.rtype);
        let others: Vec<&RecordSet> = at_name.iter().filter(|r| r.rtype != record.rtype).collect();
        if rtype == RecordType::Cname && !others.is_empty() {
            let types: Vec<String> = others.iter().map(|r| r.rtype.with_article()).collect();
            self.plan.conflicts.push(conflict(
                ConflictKind::CnameNotAlone,
                format!(
                    "the name already holds {} record; a CNAME must stand alone",
                    types.join(" and ")
                ),
            ));
            return false;
        }
        if let Some(cname) = others.iter().find(|r| r.rtype == RecordType::Cname) {
            self.plan.conflicts.push(conflict(
                ConflictKind::NameIsCname,
                format!(
                    "the name is a CNAME to {}; no other record may share it",
                    clip(&cname.values().join(","))
                ),
            ));
            return false;
        }
        let action = match same_type {
            None => Some(ChangeAction::Create),
            Some(cur) if *cur == record && self.is_owned(&zone.id, cur) => None,
            Some(cur)
                if *cur == record
                    && self
                        .unsettled
                        .iter()
                        .any(|p| p.zone_id == zone.id && p.record == *cur) =>
            {
                self.plan.conflicts.push(conflict(
                    ConflictKind::Unsettled,
                    "an identical record an earlier invocation sent but never learned was applied; unproven, so left alone (delete it by hand to free the name)".into(),
                ));
                return false;
            }
            Some(cur) if *cur == record => {
                self.plan.conflicts.push(conflict(
                    ConflictKind::Held,
                    format!(
                        "an identical record this instance did not write ({}); it is left to its owner",
                        clip(&cur.values().join(","))
                    ),
                ));
                return false;
            }
            Some(cur) if self.is_owned(&zone.id, cur) => {
                // Compare-and-swap: the DELETE names exactly what was
                // written, so a record changed since makes Route 53 refuse.
                push_change(
                    &mut self.plan.zones,
                    zone,
                    ChangeAction::Delete,
                    cur.clone(),
                );
                Some(ChangeAction::Create)
            }
            Some(cur) => {
                self.plan.conflicts.push(conflict(
                    ConflictKind::Held,
                    format!(
                        "{} is held by someone else ({}); it is left alone",
                        cur.rtype,
                        clip(&match cur.alias_target() {
                            Some(target) => format!("an alias to {target}"),
                            None => cur.values().join(","),
                        })
                    ),
                ));
                return false;
            }
        };
        if let Some(action) = action {
            push_change(&mut self.plan.zones, zone, action, record.clone());
        }
        self.planned
            .entry(zone.id.clone())
            .or_default()
            .push(record.clone());
        self.plan.owned_after.push(OwnedRecord {
            zone_id: zone.id.clone(),
            zone_name: zone.name.clone(),
            record,
        });
        true
    }
}

fn push_change(
    zones: &mut Vec<ZoneChanges>,
    zone: &ZoneInfo,
    action: ChangeAction,
    record: RecordSet,
) {
    push_change_by_id(zones, &zone.id, &zone.name, action, record);
}

fn push_change_by_id(
    zones: &mut Vec<ZoneChanges>,
    zone_id: &str,
    zone_name: &str,
    action: ChangeAction,
    record: RecordSet,
) {
    let idx = match zones.iter().position(|z| z.zone_id == zone_id) {
        Some(i) => i,
        None => {
            zones.push(ZoneChanges {
                zone_id: zone_id.to_string(),
                zone_name: zone_name.to_string(),
                changes: Vec::new(),
            });
            zones.len() - 1
        }
    };
    zones[idx].changes.push(Change { action, record });
}

/// Whether `current` (read or assumed) still holds exactly `owned` (name,
/// type, TTL, values).
fn still_as_written(current: &CurrentRecords, owned: &OwnedRecord) -> bool {
    current
        .get(&owned.zone_id)
        .into_iter()
        .flatten()
        .any(|r| *r == owned.record)
}

/// Deletes owned records not in `keep`, each only while it is as written.
fn release(plan: &mut Plan, owned: &[OwnedRecord], current: &CurrentRecords, keep: &[OwnedRecord]) {
    for o in owned {
        let kept = keep
            .iter()
            .any(|k| k.zone_id == o.zone_id && k.record.same_slot(&o.record));
        if kept {
            continue;
        }
        if still_as_written(current, o) {
            push_change_by_id(
                &mut plan.zones,
                &o.zone_id,
                &o.zone_name,
                ChangeAction::Delete,
                o.record.clone(),
            );
        } else {
            plan.dropped.push(o.clone());
            plan.notes.push(format!(
                "{} {} in {} changed or vanished since this instance wrote it; left alone and no longer owned",
                o.record.name, o.record.rtype, o.zone_name
            ));
        }
    }
}

/// Orders each zone's batch (deletes first) and the zones by name, so plans
/// compare and print the same way every time.
fn finish(mut plan: Plan) -> Plan {
    for z in &mut plan.zones {
        z.changes
            .sort_by(|a, b| (a.action, &a.record).cmp(&(b.action, &b.record)));
    }
    plan.zones.retain(|z| !z.changes.is_empty());
    plan.zones
        .sort_by(|a, b| (&a.zone_name, &a.zone_id).cmp(&(&b.zone_name, &b.zone_id)));
    plan.owned_after.sort();
    plan.dropped.sort();
    plan.dropped.dedup();
    plan
}

/// Second planning step for `running`: diff the targets against the zones
/// (as read, or assumed where not read), the records owned, and the records
/// left unsettled by an earlier invocation.
pub fn plan_register(
    targets: &Targets,
    owned: &[OwnedRecord],
    unsettled: &[OwnedRecord],
    seen: &Observed,
    ttl: u32,
) -> Plan {
    let current = &seen.assume(owned);
    // Slots this event may want; owned records outside them are released first,
    // so their names are free for the wanted records in the same batch.
    let mut candidate_slots: Vec<OwnedRecord> = Vec::new();
    let slot = |zone: &ZoneInfo, name: &str, rtype: RecordType| OwnedRecord {
        zone_id: zone.id.clone(),
        zone_name: zone.name.clone(),
        record: RecordSet::new(name, rtype, ttl, vec![]),
    };
    if let Some(h) = &targets.host {
        if let Some(z) = &h.private_zone {
            candidate_slots.push(slot(z, &h.name, RecordType::A));
        }
        if let Some((z, _)) = &h.public {
            candidate_slots.push(slot(z, &h.name, RecordType::A));
        }
    }
    if let Some((z, name)) = &targets.ptr {
        candidate_slots.push(slot(z, name, RecordType::Ptr));
    }
    for a in &targets.aliases {
        for z in [&a.private_zone, &a.public_zone].into_iter().flatten() {
            candidate_slots.push(slot(z, &a.name, RecordType::Cname));
        }
    }

    let mut plan = Plan {
        rejected: targets.rejected.clone(),
        notes: targets.notes.clone(),
        warnings: targets.warnings.clone(),
        ..Plan::default()
    };
    release(&mut plan, owned, current, &candidate_slots);
    let released: Vec<(&str, &RecordSet)> = owned
        .iter()
        .filter(|o| plan.deletes(o))
        .map(|o| (o.zone_id.as_str(), &o.record))
        .collect();
    let effective: BTreeMap<String, Vec<RecordSet>> = current
        .iter()
        .map(|(zone, records)| {
            let kept = records
                .iter()
                .filter(|r| !released.contains(&(zone.as_str(), *r)))
                .cloned()
                .collect();
            (zone.clone(), kept)
        })
        .collect();

    let mut d = Differ {
        ttl,
        owned,
        unsettled,
        current: effective,
        planned: BTreeMap::new(),
        plan,
    };

    let mut private_host: Option<String> = None;
    let mut public_host: Option<String> = None;
    if let Some(h) = &targets.host {
        if let Some(z) = &h.private_zone {
            if d.want(z, RecordType::A, &h.name, h.private_ip.to_string()) {
                private_host = Some(h.name.clone());
            }
        }
        if let Some((z, ip)) = &h.public {
            if d.want(z, RecordType::A, &h.name, ip.to_string()) {
                public_host = Some(h.name.clone());
            }
        }
    }
    if let (Some((zone, ptr_name)), Some(host)) = (&targets.ptr, &private_host) {
        d.want(zone, RecordType::Ptr, ptr_name, host.clone());
    }
    for alias in &targets.aliases {
        if let Some(z) = &alias.private_zone {
            match private_host
                .clone()
                .or_else(|| targets.private_dns_name.clone())
            {
                Some(value) => {
                    d.want(z, RecordType::Cname, &alias.name, value);
                }
                None => d.plan.notes.push(format!(
                    "{}: no private host name or private DNS name to point the alias at",
                    alias.name
                )),
            }
        }
        if let Some(z) = &alias.public_zone {
            if let Some(value) = public_host
                .clone()
                .or_else(|| targets.public_dns_name.clone())
            {
                d.want(z, RecordType::Cname, &alias.name, value);
            }
        }
    }

    // Candidate slots that ended up unwanted (a PTR whose host A conflicted)
    // are released too, if owned.
    let mut plan = d.plan;
    let owned_after = plan.owned_after.clone();
    let not_yet_released: Vec<OwnedRecord> = owned
        .iter()
        .filter(|o| {
            !plan.deletes(o)
                && !plan.dropped.contains(o)
                && !owned_after.contains(o)
                && candidate_slots
                    .iter()
                    .any(|c| c.zone_id == o.zone_id && c.record.same_slot(&o.record))
        })
        .cloned()
        .collect();
    release(&mut plan, &not_yet_released, current, &owned_after);
    drop_vanished(&mut plan, owned);
    finish(plan)
}

/// An owned record whose slot gets a new record by a plain CREATE: the old
/// one was read gone (had it been there, it would be deleted exactly). It
/// is no one's now, and no longer owned.
fn drop_vanished(plan: &mut Plan, owned: &[OwnedRecord]) {
    let owned_after = plan.owned_after.clone();
    for o in owned {
        let replaced = owned_after
            .iter()
            .any(|k| k.zone_id == o.zone_id && k.record.same_slot(&o.record));
        if replaced && !owned_after.contains(o) && !plan.deletes(o) && !plan.dropped.contains(o) {
            plan.dropped.push(o.clone());
            plan.notes.push(format!(
                "{} {} in {} vanished since it was written; written again with the new value",
                o.record.name, o.record.rtype, o.zone_name
            ));
        }
    }
}

/// Plan for a host outside EC2 (the DDNS endpoint): one record at its name
/// in its zone, `A` for an IPv4 address and `AAAA` for an IPv6 one, decided
/// by the same rules as an instance's (a name held by anyone else is a
/// conflict, an owned record is swapped by DELETE exactly + CREATE). Its
/// owned record of the other type is kept: a host may hold both.
pub fn plan_host(
    zone: &ZoneInfo,
    name: &str,
    ip: std::net::IpAddr,
    owned: &[OwnedRecord],
    unsettled: &[OwnedRecord],
    seen: &Observed,
    ttl: u32,
) -> Plan {
    let rtype = match ip {
        std::net::IpAddr::V4(_) => RecordType::A,
        std::net::IpAddr::V6(_) => RecordType::Aaaa,
    };
    let current = seen.assume(owned);
    let mut d = Differ {
        ttl,
        owned,
        unsettled,
        current: current.clone(),
        planned: BTreeMap::new(),
        plan: Plan::default(),
    };
    d.want(zone, rtype.clone(), name, ip.to_string());
    let mut plan = d.plan;
    let name = names::normalize(name);
    let (here, elsewhere): (Vec<OwnedRecord>, Vec<OwnedRecord>) = owned
        .iter()
        .cloned()
        .partition(|o| o.zone_id == zone.id && o.record.name == name && o.record.rtype == rtype);
    // Its record at the wanted slot that the plan neither keeps nor swaps
    // (someone changed it: a conflict) is let go, as an instance's is.
    let owned_after = plan.owned_after.clone();
    let unkept: Vec<OwnedRecord> = here
        .into_iter()
        .filter(|o| !owned_after.contains(o) && !plan.deletes(o))
        .collect();
    release(&mut plan, &unkept, &current, &owned_after);
    plan.owned_after.extend(elsewhere);
    drop_vanished(&mut plan, owned);
    finish(plan)
}

/// Plan for `stopping`/`stopped`/`shutting-down`/`terminated`: delete each
/// owned record that is still exactly as written (as read, or assumed where
/// not read: the DELETE itself is the compare-and-swap).
pub fn plan_deregister(owned: &[OwnedRecord], seen: &Observed) -> Plan {
    let mut plan = Plan::default();
    release(&mut plan, owned, &seen.assume(owned), &[]);
    finish(plan)
}

#[cfg(test)]
mod tests;
