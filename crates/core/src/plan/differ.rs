//! The second planning step: each wanted record decided against the zones
//! (as read, or assumed) and the records owned, by the table in
//! [`crate::plan`]; the entry points for an instance, a DDNS host and a
//! deregistration.

use super::{
    Change, ChangeAction, Conflict, ConflictKind, CurrentRecords, Observed, Plan, PtrTarget,
    PublicHost, Targets, ZoneChanges,
};
use crate::model::{DnsName, OwnedRecord, RecordSet, RecordType, Routing, ZoneId, ZoneInfo};
use crate::names::{self, clip};
use std::collections::BTreeMap;

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
    let slot = |zone: &ZoneInfo, name: &str, rtype: RecordType, routing: &Routing| OwnedRecord {
        zone_id: zone.id.clone(),
        zone_name: zone.name.clone(),
        record: RecordSet::new(name, rtype, ttl, vec![]).with_routing(routing.clone()),
    };
    let simple = Routing::Simple;
    let hosts = targets
        .host
        .iter()
        .map(|h| (h, simple.clone()))
        .chain(targets.groups.iter().map(|g| {
            (
                &g.at,
                Routing::MultiValue {
                    set_id: g.set_id.clone(),
                },
            )
        }));
    for (h, routing) in hosts {
        let slot = |z: &ZoneInfo, rtype: RecordType| slot(z, &h.name, rtype, &routing);
        if let Some(z) = &h.private_zone {
            if h.private_ip.is_some() {
                candidate_slots.push(slot(z, RecordType::A));
            }
            if h.ipv6.is_some() {
                candidate_slots.push(slot(z, RecordType::Aaaa));
            }
        }
        if let Some(PublicHost { zone: z, ip, ipv6 }) = &h.public {
            if ip.is_some() {
                candidate_slots.push(slot(z, RecordType::A));
            }
            if ipv6.is_some() {
                candidate_slots.push(slot(z, RecordType::Aaaa));
            }
        }
    }
    for PtrTarget { zone: z, name, .. } in &targets.ptrs {
        candidate_slots.push(slot(z, name, RecordType::Ptr, &simple));
    }
    for a in &targets.aliases {
        for z in [&a.private_zone, &a.public_zone].into_iter().flatten() {
            candidate_slots.push(slot(z, &a.name, RecordType::Cname, &simple));
        }
    }
    // The instance's own names that collide are decided by the targets
    // alone, whatever the zones hold: its host record before a group
    // record set of the same name and type, both before an alias at their
    // name. So the loser is never a candidate, and an owned record of it
    // is let go, not kept against the winner.
    let shadowed = |c: &OwnedRecord, all: &[OwnedRecord]| {
        all.iter().any(|w| {
            w.zone_id == c.zone_id
                && w.record.name == c.record.name
                && match (&c.record.rtype, &c.record.routing) {
                    (RecordType::Cname, _) => w.record.rtype != RecordType::Cname,
                    (rtype, Routing::MultiValue { .. }) => {
                        w.record.rtype == *rtype && w.record.routing == Routing::Simple
                    }
                    _ => false,
                }
        })
    };
    for _ in 0..2 {
        // Groups lose to hosts first; then aliases to what is left.
        let kept: Vec<OwnedRecord> = candidate_slots
            .iter()
            .filter(|c| !shadowed(c, &candidate_slots))
            .cloned()
            .collect();
        candidate_slots = kept;
    }
    let is_candidate = |zone: &ZoneInfo, record: &RecordSet| {
        candidate_slots
            .iter()
            .any(|c| c.zone_id == zone.id && c.record.same_slot(record))
    };

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
    let effective: BTreeMap<ZoneId, Vec<RecordSet>> = current
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

    // The host name counts as written in a view when its A or its AAAA
    // is; a PTR needs the host record of its own address's family.
    let mut private_host: Option<DnsName> = None;
    let mut public_host: Option<DnsName> = None;
    let mut private_a = false;
    let mut private_aaaa = false;
    if let Some(h) = &targets.host {
        if let Some(z) = &h.private_zone {
            if let Some(ip) = h.private_ip {
                private_a = d.want(z, RecordType::A, &h.name, ip.to_string());
            }
            if let Some(ip) = h.ipv6 {
                private_aaaa = d.want(z, RecordType::Aaaa, &h.name, ip.to_string());
            }
            if private_a || private_aaaa {
                private_host = Some(h.name.clone());
            }
        }
        if let Some(PublicHost { zone: z, ip, ipv6 }) = &h.public {
            let a = ip.is_some_and(|ip| d.want(z, RecordType::A, &h.name, ip.to_string()));
            let aaaa = ipv6.is_some_and(|ip| d.want(z, RecordType::Aaaa, &h.name, ip.to_string()));
            if a || aaaa {
                public_host = Some(h.name.clone());
            }
        }
    }
    // Each group name: this member's own record set per address and view.
    for g in &targets.groups {
        let h = &g.at;
        let mut member = |z: &ZoneInfo, rtype: RecordType, ip: String| {
            let record = RecordSet::multivalue(&h.name, rtype, ttl, ip, &g.set_id);
            if is_candidate(z, &record) {
                d.want_record(z, record);
            } else {
                d.self_conflict(
                    z,
                    &record,
                    ConflictKind::MixedRouting,
                    "this instance already gets a simple record of this type here (its host name); record sets of one name and type share one routing policy",
                );
            }
        };
        if let Some(z) = &h.private_zone {
            if let Some(ip) = h.private_ip {
                member(z, RecordType::A, ip.to_string());
            }
            if let Some(ip) = h.ipv6 {
                member(z, RecordType::Aaaa, ip.to_string());
            }
        }
        if let Some(PublicHost { zone: z, ip, ipv6 }) = &h.public {
            if let Some(ip) = ip {
                member(z, RecordType::A, ip.to_string());
            }
            if let Some(ip) = ipv6 {
                member(z, RecordType::Aaaa, ip.to_string());
            }
        }
    }
    if let Some(host) = &private_host {
        for ptr in &targets.ptrs {
            let host_written = match ptr.ip {
                std::net::IpAddr::V4(_) => private_a,
                std::net::IpAddr::V6(_) => private_aaaa,
            };
            if host_written {
                d.want(&ptr.zone, RecordType::Ptr, &ptr.name, host.to_string());
            }
        }
    }
    for alias in &targets.aliases {
        if let Some(z) = &alias.private_zone {
            match private_host
                .clone()
                .or_else(|| targets.private_dns_name.clone())
            {
                Some(value) => {
                    d.want_alias(z, &alias.name, value.into(), &is_candidate);
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
                d.want_alias(z, &alias.name, value.into(), &is_candidate);
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

/// Builds the second step's state: one wanted record at a time, checked
/// against the zone as read and against what this plan already wants.
struct Differ<'a> {
    ttl: u32,
    owned: &'a [OwnedRecord],
    /// Records an earlier invocation sent without learning the outcome.
    unsettled: &'a [OwnedRecord],
    /// Current records, less the owned ones this plan deletes.
    current: BTreeMap<ZoneId, Vec<RecordSet>>,
    /// zone id → records this plan will hold after apply.
    planned: BTreeMap<ZoneId, Vec<RecordSet>>,
    plan: Plan,
}

impl Differ<'_> {
    fn is_owned(&self, zone_id: &str, record: &RecordSet) -> bool {
        self.owned
            .iter()
            .any(|o| o.zone_id == zone_id && o.record == *record)
    }

    /// An alias, unless the instance's own host or group record takes its
    /// name (then a conflict, whatever the zone holds).
    fn want_alias(
        &mut self,
        zone: &ZoneInfo,
        name: &str,
        value: String,
        is_candidate: &dyn Fn(&ZoneInfo, &RecordSet) -> bool,
    ) {
        let record = RecordSet::new(name, RecordType::Cname, self.ttl, vec![value]);
        if is_candidate(zone, &record) {
            self.want_record(zone, record);
        } else {
            self.self_conflict(
                zone,
                &record,
                ConflictKind::CnameNotAlone,
                "this instance already gets its host or group record here; a CNAME must stand alone",
            );
        }
    }

    /// A wanted record that loses to another of this instance's own.
    fn self_conflict(
        &mut self,
        zone: &ZoneInfo,
        record: &RecordSet,
        kind: ConflictKind,
        reason: &str,
    ) {
        self.plan.conflicts.push(Conflict {
            zone_id: zone.id.clone(),
            zone_name: zone.name.clone(),
            name: record.name.clone(),
            rtype: record.rtype.clone(),
            set_id: record.routing.set_id().map(str::to_string),
            kind,
            reason: reason.into(),
        });
    }

    /// Decides one wanted simple record; true when it will be in place
    /// after apply.
    fn want(&mut self, zone: &ZoneInfo, rtype: RecordType, name: &str, value: String) -> bool {
        let record = RecordSet::new(name, rtype, self.ttl, vec![value]);
        self.want_record(zone, record)
    }

    /// Decides one wanted record set (simple, or a group member's); true
    /// when it will be in place after apply.
    fn want_record(&mut self, zone: &ZoneInfo, record: RecordSet) -> bool {
        let rtype = record.rtype.clone();
        let conflict = |kind: ConflictKind, reason: String| Conflict {
            zone_id: zone.id.clone(),
            zone_name: zone.name.clone(),
            name: record.name.clone(),
            rtype: rtype.clone(),
            set_id: record.routing.set_id().map(str::to_string),
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
        // An A and an AAAA share a name; a CNAME shares it with nothing; a
        // group's record sets share a name and type with no simple record.
        if let Some(p) = planned_here
            .iter()
            .find(|p| p.rtype == rtype && p.routing.policy() != record.routing.policy())
        {
            let c = conflict(
                ConflictKind::MixedRouting,
                format!(
                    "this instance already gets a {} {} record here; record sets of one name and type share one routing policy",
                    p.routing.policy(),
                    p.rtype
                ),
            );
            self.plan.conflicts.push(c);
            return false;
        }
        if let Some(p) = planned_here.iter().find(|p| {
            rtype == RecordType::Cname || p.rtype == RecordType::Cname || p.rtype == rtype
        }) {
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
        let same_type = at_name.iter().find(|r| r.same_slot(&record));
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
        if let Some(other) = at_name.iter().find(|r| {
            r.rtype == record.rtype
                && !r.same_slot(&record)
                && !r.routing.mixes_with(&record.routing)
        }) {
            self.plan.conflicts.push(conflict(
                ConflictKind::MixedRouting,
                format!(
                    "the name holds a {} {} record set ({}), and record sets of one name and type share one routing policy; it is left alone",
                    other.routing.policy(),
                    other.rtype,
                    clip(&match (other.alias_target(), other.routing.set_id()) {
                        (Some(target), _) => format!("an alias to {target}"),
                        (None, Some(id)) => format!("{} of {id}", other.values().join(",")),
                        (None, None) => other.values().join(","),
                    })
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
    zone_id: &ZoneId,
    zone_name: &DnsName,
    action: ChangeAction,
    record: RecordSet,
) {
    let idx = match zones.iter().position(|z| z.zone_id == *zone_id) {
        Some(i) => i,
        None => {
            zones.push(ZoneChanges {
                zone_id: zone_id.clone(),
                zone_name: zone_name.clone(),
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
