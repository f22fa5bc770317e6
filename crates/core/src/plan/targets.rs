//! The first planning step: the names an instance wants and the zones they
//! go to (`docs/records.md`), before any record is read, and so which names
//! to read.

use super::{Rejection, RejectionKind};
use crate::config::Config;
use crate::model::{DnsName, NamesByZone};
use crate::model::{InstanceFacts, InstanceState, OwnedRecord, VpcFacts, ZoneInfo};
use crate::names::{self, clip};
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Everything the first planning step needs: the instance, its VPC and the
/// zones it can see (every public zone, and the private zones associated
/// with its VPC).
#[derive(Debug, Clone, Copy)]
pub struct PlanInput<'a> {
    pub config: &'a Config,
    pub instance: &'a InstanceFacts,
    pub vpc: Option<&'a VpcFacts>,
    pub zones: &'a [ZoneInfo],
    /// Where its host name comes from when no `HOSTNAME` tag gives one.
    pub default_name: DefaultName<'a>,
}

/// The label of a subject's host name in its home domain when no
/// `HOSTNAME` tag gives one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultName<'a> {
    /// The first label of its private DNS name (`ip-10-1-2-4`, or an
    /// IPv6-only instance's `i-0abc…`): an instance's.
    FromPrivateDns,
    /// This label: a task's, from `DDNS_TASK_DEFAULT_NAME`.
    Label(&'a str),
    /// None: a task without a `HOSTNAME` tag and without
    /// `DDNS_TASK_DEFAULT_NAME` gets no host name of its own.
    Nothing,
}

/// Where one host name goes in each view: an A for the private IPv4 and
/// an AAAA for the IPv6 address, at least one of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostTarget {
    pub name: DnsName,
    pub private_ip: Option<Ipv4Addr>,
    pub ipv6: Option<Ipv6Addr>,
    pub private_zone: Option<ZoneInfo>,
    pub public: Option<PublicHost>,
}

/// The public view of a host name: its public zone and addresses (the
/// public IPv4, and the IPv6 unless `DDNS_PUBLIC_IPV6=false`; at least one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicHost {
    pub zone: ZoneInfo,
    pub ip: Option<Ipv4Addr>,
    pub ipv6: Option<Ipv6Addr>,
}

/// The PTR of one address: its reverse zone and name, and the address
/// (whose host record, A or AAAA, must be written for the PTR to be).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PtrTarget {
    pub zone: ZoneInfo,
    pub name: DnsName,
    pub ip: IpAddr,
}

/// Where one group name goes: the same views and addresses as a host name,
/// each written as this member's own multivalue-answer record set, told
/// apart from the other members' by `set_id` (the instance id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupTarget {
    pub set_id: String,
    pub at: HostTarget,
}

/// Where one alias goes in each view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasTarget {
    pub name: DnsName,
    pub private_zone: Option<ZoneInfo>,
    pub public_zone: Option<ZoneInfo>,
}

/// The first planning step: the names wanted and their zones, before any
/// record is read. It tells the caller which names to read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Targets {
    pub host: Option<HostTarget>,
    /// The PTRs of the private IPv4 (`in-addr.arpa.`) and of the IPv6
    /// (`ip6.arpa.`), in that order; each written only if the private host
    /// record of its family (A, AAAA) is.
    pub ptrs: Vec<PtrTarget>,
    pub aliases: Vec<AliasTarget>,
    /// The group names (`GROUP` tag) of a running instance.
    pub groups: Vec<GroupTarget>,
    pub rejected: Vec<Rejection>,
    /// Things worth telling the user that are not errors.
    pub notes: Vec<String>,
    /// Settings that keep written records from working (a VPC without DNS
    /// support); shown on stderr and logged at warn level.
    pub warnings: Vec<String>,
    pub(super) private_dns_name: Option<DnsName>,
    pub(super) public_dns_name: Option<DnsName>,
}

impl Targets {
    /// Every (zone id → names) the second step must see the current records
    /// of: wanted names, plus the names of records already owned.
    pub fn names_to_read(&self, owned: &[OwnedRecord]) -> NamesByZone {
        let mut read: NamesByZone = BTreeMap::new();
        let mut add = |zone: &ZoneInfo, name: &str| {
            read.entry(zone.id.clone())
                .or_default()
                .insert(DnsName::new(name));
        };
        for host in self.host.iter().chain(self.groups.iter().map(|g| &g.at)) {
            if let Some(z) = &host.private_zone {
                add(z, &host.name);
            }
            if let Some(PublicHost { zone: z, .. }) = &host.public {
                add(z, &host.name);
            }
        }
        for PtrTarget { zone: z, name, .. } in &self.ptrs {
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
        Some(tag) => in_home_domain(&mut t, &config.hostname_tag, tag, home.as_ref(), "web-1"),
        None => {
            let label = match input.default_name {
                DefaultName::FromPrivateDns => t
                    .private_dns_name
                    .as_deref()
                    .and_then(names::first_label)
                    .map(str::to_string),
                DefaultName::Label(label) => Some(label.to_string()),
                DefaultName::Nothing => None,
            };
            match (&home, label) {
                (Some(home), Some(label)) => Some(DnsName::new(&format!("{label}.{home}"))),
                _ => None,
            }
        }
    };

    if let Some(name) = host_name {
        t.host = address_target(&mut t, zones, config, instance, name);
    }
    if let Some(host) = &t.host {
        if host.private_zone.is_some() {
            let addresses = [host.private_ip.map(IpAddr::V4), host.ipv6.map(IpAddr::V6)];
            for ip in addresses.into_iter().flatten() {
                let ptr_name = names::reverse_name_of(ip);
                match place(&ptr_name, zone_for(&ptr_name, zones, true), config) {
                    Ok(Some(zone)) => t.ptrs.push(PtrTarget {
                        zone,
                        name: ptr_name,
                        ip,
                    }),
                    Ok(None) => {}
                    Err((_, reason)) => t.notes.push(format!("no PTR: {reason}")),
                }
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
    group_targets(&mut t, input, home.as_ref());
    if let Some(vpc) = input.vpc {
        let uses_private = t.host.as_ref().is_some_and(|h| h.private_zone.is_some())
            || t.groups.iter().any(|g| g.at.private_zone.is_some())
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

/// A name from a tag: a full name as it is, a bare label as a label in the
/// home domain; `None` (with a rejection) for a bare label and no home.
fn in_home_domain(
    t: &mut Targets,
    tag_key: &str,
    value: &str,
    home: Option<&DnsName>,
    example: &str,
) -> Option<DnsName> {
    let name = names::normalize(value);
    if name.trim_end_matches('.').contains('.') {
        Some(name)
    } else if let Some(home) = home {
        Some(DnsName::new(&format!("{name}{home}")))
    } else {
        t.rejected.push(Rejection {
            name: clip(value),
            kind: RejectionKind::BadTag,
            reason: format!(
                "the {tag_key} tag holds the single label {} and the instance has no home domain; give a full name such as {example}.corp.example",
                clip(value)
            ),
        });
        None
    }
}

/// The group names of the `GROUP` tag: each placed as a host name is. A
/// group lists running instances only: a stopped one kept under
/// `DDNS_ON_STOP=keep` keeps its host name and leaves its groups, since a
/// group name answers for instances that serve.
fn group_targets(t: &mut Targets, input: &PlanInput, home: Option<&DnsName>) {
    let config = input.config;
    let instance = input.instance;
    let Some(value) = instance.tags.get(&config.group_tag) else {
        return;
    };
    let wanted: Vec<&str> = value
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .collect();
    if wanted.is_empty() {
        t.rejected.push(Rejection {
            name: format!("tag {}", clip(&config.group_tag)),
            kind: RejectionKind::BadTag,
            reason: format!(
                "the {} tag is empty; give group names such as web.corp.example, or remove the tag",
                config.group_tag
            ),
        });
        return;
    }
    if instance.state != InstanceState::Running {
        t.notes.push(format!(
            "the instance is {}: it leaves its groups ({}) until it runs again",
            instance.state,
            clip(value)
        ));
        return;
    }
    let mut seen = BTreeSet::new();
    for group in wanted {
        let Some(name) = in_home_domain(t, &config.group_tag, group, home, "web") else {
            continue;
        };
        if !seen.insert(name.clone()) {
            continue;
        }
        if let Some(at) = address_target(t, input.zones, config, instance, name) {
            t.groups.push(GroupTarget {
                set_id: instance.instance_id.to_string(),
                at,
            });
        }
    }
}

/// Where a name that answers with the instance's own addresses goes (its
/// host name, a group name), in each view; `None`, with the rejection or
/// note said in `t`, when nowhere.
fn address_target(
    t: &mut Targets,
    zones: &[ZoneInfo],
    config: &Config,
    instance: &InstanceFacts,
    name: DnsName,
) -> Option<HostTarget> {
    if let Err(problem) = names::check_wanted_name(&name) {
        t.rejected.push(Rejection {
            name: clip(&name),
            kind: RejectionKind::of(&problem),
            reason: problem.to_string(),
        });
        return None;
    }
    let private_ip = instance.private_ip;
    let ipv6 = instance.ipv6;
    if private_ip.is_none() && ipv6.is_none() {
        t.notes.push(format!(
            "{name}: the instance has no private IPv4 or IPv6 address, so it gets no host record"
        ));
        return None;
    }
    let (public_ip, public_ipv6) = public_addresses(instance, config);
    let placed = place(&name, zone_for(&name, zones, true), config).and_then(|private_zone| {
        let public = if public_ip.is_some() || public_ipv6.is_some() {
            place(&name, zone_for(&name, zones, false), config)?.map(|zone| PublicHost {
                zone,
                ip: public_ip,
                ipv6: public_ipv6,
            })
        } else {
            None
        };
        Ok((private_zone, public))
    });
    match placed {
        Err((kind, reason)) => {
            t.rejected.push(Rejection {
                name: name.to_string(),
                kind,
                reason,
            });
            None
        }
        Ok((None, None)) => {
            let public_only = public_ip.is_none()
                && public_ipv6.is_none()
                && zone_for(&name, zones, false).is_some();
            let reason = if public_only {
                let what = if ipv6.is_some() {
                    "no public IPv4, and DDNS_PUBLIC_IPV6=false keeps its IPv6 address out of public zones"
                } else {
                    "no public IPv4"
                };
                format!("{name} is only in a public zone, and the instance has {what} to put there")
            } else {
                format!("{name} is outside every zone visible to this instance's VPC")
            };
            let kind = RejectionKind::NoZone;
            t.rejected.push(Rejection {
                name: name.to_string(),
                kind,
                reason,
            });
            None
        }
        Ok((private_zone, public)) => Some(HostTarget {
            name,
            private_ip,
            ipv6,
            private_zone,
            public,
        }),
    }
}

fn alias_target(t: &mut Targets, zones: &[ZoneInfo], config: &Config, alias: DnsName) {
    if let Err(problem) = names::check_wanted_name(&alias) {
        t.rejected.push(Rejection {
            name: clip(&alias),
            kind: RejectionKind::of(&problem),
            reason: problem.to_string(),
        });
        return;
    }
    let private_zone = place(&alias, zone_for(&alias, zones, true), config);
    // The public view takes an alias when there is something public to
    // point it at: the public DNS name, or the host's own public records.
    let public_target =
        t.public_dns_name.is_some() || t.host.as_ref().is_some_and(|h| h.public.is_some());
    let public_zone = if public_target {
        place(&alias, zone_for(&alias, zones, false), config)
    } else {
        Ok(None)
    };
    match (private_zone, public_zone) {
        (Err((kind, reason)), _) | (_, Err((kind, reason))) => t.rejected.push(Rejection {
            name: alias.to_string(),
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
                name: alias.to_string(),
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

/// The addresses the public view gets: the public IPv4, and the IPv6
/// address unless `DDNS_PUBLIC_IPV6=false` (it is global, so it answers
/// from outside as from inside).
fn public_addresses(
    instance: &InstanceFacts,
    config: &Config,
) -> (Option<Ipv4Addr>, Option<Ipv6Addr>) {
    (
        instance.public_ip,
        instance.ipv6.filter(|_| config.public_ipv6),
    )
}

/// The home domain, from the ZONE tag, then DHCP, then the default; AWS's
/// own suffixes never count. `Err` carries a rejection for a bad ZONE tag.
fn home_domain(input: &PlanInput, notes: &mut Vec<String>) -> Result<Option<DnsName>, Rejection> {
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
pub fn split_names(value: &str) -> Vec<DnsName> {
    value
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(names::normalize)
        .collect()
}

/// Zone id → the names of `records`: what to read to see them.
pub fn names_of<'r>(records: impl IntoIterator<Item = &'r OwnedRecord>) -> NamesByZone {
    let mut names: NamesByZone = BTreeMap::new();
    for o in records {
        names
            .entry(o.zone_id.clone())
            .or_default()
            .insert(o.record.name.clone());
    }
    names
}
