//! Route 53 in memory: zones visible from a VPC, record listings, and
//! change batches applied with Route 53's strict rules (`apply_strictly`),
//! each record credited to its writer. Each batch applied then reaches the
//! name servers ([`Changes`]): `PENDING` for as many GetChange calls of its
//! id as [`MemoryAccount::set_propagation_polls`] says (none by default:
//! `INSYNC` at once), as Route 53's answer `PENDING` for some seconds.

use super::{MemoryAccount, Slot};
use ec2_ddns_core::changes::{ChangeAction, ZoneChanges};
use ec2_ddns_core::error::{Error, Failure, Result};
use ec2_ddns_core::model::{DnsName, RecordSet, RecordType, Routing, ZoneId, ZoneInfo};
use ec2_ddns_core::names;
use ec2_ddns_core::ports::Dns;
use std::collections::BTreeSet;
use tokio::time::Instant;

/// The change batches applied and not yet found in sync, in the order
/// applied, and how long a new one stays `PENDING`.
#[derive(Debug, Default)]
pub(super) struct Changes {
    /// GetChange calls of its id a new batch answers `PENDING` to.
    polls: u32,
    /// Change ids given so far.
    made: u64,
    propagating: Vec<Propagating>,
    /// Every batch answered, with when: `Dns::applied_since`, and
    /// GetChange of an id no longer propagating (`INSYNC`).
    answered: Vec<(Instant, String)>,
}

impl Changes {
    /// No batch yet; each new one `PENDING` for `polls` GetChange calls.
    pub(super) fn pending_for(polls: u32) -> Changes {
        Changes {
            polls,
            ..Changes::default()
        }
    }
}

#[derive(Debug)]
struct Propagating {
    id: String,
    applied_at: Instant,
    /// GetChange calls of this id still to answer `PENDING`.
    pending_polls: u32,
}

impl MemoryAccount {
    /// Each change batch applied from now on answers `PENDING` to the
    /// first `polls` GetChange calls of its id, then `INSYNC` (0, the
    /// default: in sync at once).
    pub fn set_propagation_polls(&self, polls: u32) {
        self.lock().changes.polls = polls;
    }

    /// The ids of the change batches applied and not yet found in sync,
    /// in the order applied.
    pub fn changes_propagating(&self) -> Vec<String> {
        let state = self.lock();
        state
            .changes
            .propagating
            .iter()
            .map(|c| c.id.clone())
            .collect()
    }
}

impl Dns for MemoryAccount {
    async fn zones_visible_from(
        &self,
        vpc_id: Option<&str>,
        _region: &str,
    ) -> Result<Vec<ZoneInfo>> {
        self.read_call("route53:ListHostedZones", None)?;
        if vpc_id.is_some() {
            self.read_call("route53:ListHostedZonesByVPC", None)?;
        }
        Ok(self
            .lock()
            .world
            .zones
            .iter()
            .filter(|z| !z.private || vpc_id.is_some_and(|v| z.vpcs.iter().any(|zv| zv == v)))
            .map(|z| z.info())
            .collect())
    }

    async fn records_at(
        &self,
        zone_id: &ZoneId,
        names: &BTreeSet<DnsName>,
    ) -> Result<Vec<RecordSet>> {
        // As the real client: one listing per zone (a small zone fits one page).
        self.read_call("route53:ListResourceRecordSets", Some(zone_id))?;
        let state = self.lock();
        let Some(zone) = state.world.zones.iter().find(|z| z.info().id == *zone_id) else {
            return Ok(Vec::new());
        };
        Ok(zone
            .records
            .iter()
            .filter(|r| names.contains(&r.name))
            .cloned()
            .collect())
    }

    /// One ListResourceRecordSets per page of 300 (the API's largest page).
    async fn records_in(&self, zone_id: &ZoneId) -> Result<Vec<RecordSet>> {
        let found = {
            let state = self.lock();
            let zone = state.world.zones.iter().find(|z| z.info().id == *zone_id);
            zone.map(|z| z.records.clone()).unwrap_or_default()
        };
        self.pages("route53:ListResourceRecordSets", found.len().div_ceil(300))?;
        Ok(found)
    }

    async fn apply(&self, batch: &ZoneChanges) -> Result<()> {
        let operation = "route53:ChangeResourceRecordSets";
        let after = self.enter(operation, Some(&batch.zone_id))?;
        {
            let mut state = self.lock();
            let Some(zone) = state
                .world
                .zones
                .iter_mut()
                .find(|z| z.info().id == batch.zone_id)
            else {
                return Err(Error::Aws {
                    operation: operation.into(),
                    code: Some("NoSuchHostedZone".into()),
                    message: format!("No hosted zone found with ID: {}", batch.zone_id),
                    kind: Failure::NotFound,
                });
            };
            // The whole batch passes or nothing changes, as in Route 53.
            zone.records = apply_strictly(&zone.info().name, &zone.records, batch).map_err(
                |(code, message)| Error::route53_refusal(&batch.zone_id, code, &message),
            )?;
            let writer = state.writer.clone();
            for c in &batch.changes {
                let slot = Slot::of(&batch.zone_id, &c.record);
                match c.action {
                    ChangeAction::Delete => state.authors.remove(&slot),
                    ChangeAction::Create | ChangeAction::Upsert => {
                        state.authors.insert(slot, writer.clone())
                    }
                };
            }
        }
        self.leave(operation, after)?;
        // Answered: the caller holds the batch's change id (a lost answer
        // gives none).
        let mut state = self.lock();
        let changes = &mut state.changes;
        changes.made += 1;
        let change = Propagating {
            id: format!("C{:013}", changes.made),
            applied_at: Instant::now(),
            pending_polls: changes.polls,
        };
        changes
            .answered
            .push((change.applied_at, change.id.clone()));
        changes.propagating.push(change);
        Ok(())
    }

    fn applied_since(&self, since: Instant) -> Vec<String> {
        self.lock()
            .changes
            .answered
            .iter()
            .filter(|(at, _)| *at >= since)
            .map(|(_, id)| id.clone())
            .collect()
    }

    /// One GetChange: `PENDING` while the batch still has polls to
    /// answer so, then `INSYNC`; `None` for an id never given.
    async fn change_in_sync(&self, id: &str) -> Result<Option<bool>> {
        self.read_call("route53:GetChange", None)?;
        let id = id.trim_start_matches("/change/");
        let mut state = self.lock();
        let changes = &mut state.changes;
        if let Some(at) = changes.propagating.iter().position(|c| c.id == id) {
            if changes.propagating[at].pending_polls > 0 {
                changes.propagating[at].pending_polls -= 1;
                return Ok(Some(false));
            }
            changes.propagating.remove(at);
            return Ok(Some(true));
        }
        Ok(changes
            .answered
            .iter()
            .any(|(_, known)| known == id)
            .then_some(true))
    }

    /// One GetChange per batch still propagating, oldest first, until one
    /// answers `PENDING`.
    async fn applied_in_sync(&self, since: Instant) -> Result<bool> {
        let ids: Vec<String> = {
            let mut state = self.lock();
            let propagating = &mut state.changes.propagating;
            propagating.retain(|c| c.applied_at >= since);
            propagating.iter().map(|c| c.id.clone()).collect()
        };
        for id in ids {
            self.read_call("route53:GetChange", None)?;
            let mut state = self.lock();
            let propagating = &mut state.changes.propagating;
            let Some(at) = propagating.iter().position(|c| c.id == id) else {
                continue;
            };
            if propagating[at].pending_polls > 0 {
                propagating[at].pending_polls -= 1;
                return Ok(false);
            }
            propagating.remove(at);
        }
        Ok(true)
    }
}

/// The zone's records after `batch`, applied with Route 53's rules; or the
/// rule it broke, with Route 53's error code and words, and the zone as it
/// was (a batch is atomic).
pub fn apply_strictly(
    zone_name: &str,
    current: &[RecordSet],
    batch: &ZoneChanges,
) -> Result<Vec<RecordSet>, (&'static str, String)> {
    let mut records = current.to_vec();
    const INVALID_BATCH: &str = "InvalidChangeBatch";
    if batch.changes.is_empty() {
        return Err(("InvalidInput", "1 validation error detected: Value '[]' at 'changeBatch.changes' failed to satisfy constraint: Member must have length greater than or equal to 1".into()));
    }
    if batch.changes.len() > 1000 {
        return Err((
            INVALID_BATCH,
            "Number of records in the ChangeBatch exceeds the maximum allowed (1000)".into(),
        ));
    }
    for change in &batch.changes {
        let r = &change.record;
        if !names::is_within(&r.name, zone_name) {
            return Err((
                INVALID_BATCH,
                format!(
                    "[RRSet with DNS name {} is not permitted in zone {zone_name}]",
                    r.name
                ),
            ));
        }
        if r.alias_target().is_none() && r.values().is_empty() {
            return Err((
                INVALID_BATCH,
                format!(
                    "[Invalid Resource Record: RRSet {} {} has no values]",
                    r.name, r.rtype
                ),
            ));
        }
        if matches!(r.routing, Routing::MultiValue { .. })
            && (r.alias_target().is_some() || matches!(r.rtype, RecordType::Cname))
        {
            return Err((
                INVALID_BATCH,
                format!(
                    "[Invalid request: MultiValueAnswer is not supported for {} {} record sets]",
                    if r.alias_target().is_some() {
                        "alias"
                    } else {
                        "CNAME"
                    },
                    r.name
                ),
            ));
        }
        let slot = slot_words(r);
        let same = records.iter().position(|x| x.same_slot(r));
        match change.action {
            ChangeAction::Delete => match same {
                Some(i) if records[i] == *r => {
                    records.remove(i);
                }
                Some(_) => {
                    return Err((INVALID_BATCH, format!(
                        "[Tried to delete resource record set {slot} but the values provided do not match the current values]"
                    )))
                }
                None => {
                    return Err((INVALID_BATCH, format!(
                        "[Tried to delete resource record set {slot} but it was not found]"
                    )))
                }
            },
            ChangeAction::Create | ChangeAction::Upsert => {
                if change.action == ChangeAction::Create && same.is_some() {
                    return Err((INVALID_BATCH, format!(
                        "[Tried to create resource record set {slot} but it already exists]"
                    )));
                }
                // One name and type: one simple record set, or record sets
                // of one routing policy, each with its own identifier.
                if let Some(x) = records.iter().find(|x| {
                    x.name == r.name
                        && x.rtype == r.rtype
                        && !x.same_slot(r)
                        && !x.routing.mixes_with(&r.routing)
                }) {
                    return Err((INVALID_BATCH, format!(
                        "[RRSet {slot} cannot be created because a {} RRSet exists with the same name and type]",
                        x.routing.policy()
                    )));
                }
                let others: Vec<&RecordSet> =
                    records.iter().filter(|x| x.name == r.name && x.rtype != r.rtype).collect();
                let cname_clash = if r.rtype == RecordType::Cname {
                    !others.is_empty()
                } else {
                    others.iter().any(|x| x.rtype == RecordType::Cname)
                };
                if cname_clash {
                    return Err((INVALID_BATCH, format!(
                        "[RRSet of type {} with DNS name {} is not permitted because a conflicting RRSet of type {} with the same DNS name already exists in zone {zone_name}]",
                        r.rtype,
                        r.name,
                        others.iter().map(|x| x.rtype.as_str()).collect::<Vec<_>>().join(",")
                    )));
                }
                if let Some(i) = same {
                    records.remove(i);
                }
                records.push(r.clone());
            }
        }
    }
    Ok(records)
}

/// A record set's identity as Route 53's messages write it.
fn slot_words(r: &RecordSet) -> String {
    match r.routing.set_id() {
        None => format!("[name='{}', type='{}']", r.name, r.rtype),
        Some(id) => format!(
            "[name='{}', type='{}', set-identifier='{id}']",
            r.name, r.rtype
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ec2_ddns_core::changes::Change;
    use rstest::rstest;
    use ChangeAction::*;

    fn r(name: &str, rtype: &str, ttl: u32, value: &str) -> RecordSet {
        RecordSet::new(name, RecordType::from(rtype), ttl, vec![value.into()])
    }

    /// A group member's record set at g.corp.example.
    fn m(rtype: &str, value: &str, id: &str) -> RecordSet {
        RecordSet::multivalue(
            "g.corp.example.",
            RecordType::from(rtype),
            60,
            value.into(),
            id,
        )
    }

    fn weighted(value: &str, id: &str) -> RecordSet {
        r("g.corp.example.", "A", 60, value).with_routing(Routing::Other {
            policy: "weighted".into(),
            set_id: id.into(),
        })
    }

    fn batch(changes: Vec<(ChangeAction, RecordSet)>) -> ZoneChanges {
        ZoneChanges {
            zone_id: "Z1".into(),
            zone_name: "corp.example.".into(),
            changes: changes
                .into_iter()
                .map(|(action, record)| Change { action, record })
                .collect(),
        }
    }

    /// What Route 53 refuses, the in-memory Route 53 refuses, with its code,
    /// and the zone is untouched; what it accepts goes through.
    #[rstest]
    #[case::create_of_an_existing_record(vec![(Create, r("a.corp.example.", "A", 60, "10.0.0.2"))], Some("already exists"))]
    #[case::cname_beside_an_a(vec![(Create, r("a.corp.example.", "CNAME", 60, "y.example."))], Some("conflicting RRSet"))]
    #[case::a_beside_a_cname(vec![(Upsert, r("c.corp.example.", "A", 60, "10.0.0.3"))], Some("conflicting RRSet"))]
    #[case::delete_with_other_values(vec![(Delete, r("a.corp.example.", "A", 60, "10.0.0.9"))], Some("do not match"))]
    #[case::delete_with_another_ttl(vec![(Delete, r("a.corp.example.", "A", 300, "10.0.0.1"))], Some("do not match"))]
    #[case::delete_of_a_missing_record(vec![(Delete, r("b.corp.example.", "A", 60, "10.0.0.1"))], Some("not found"))]
    #[case::name_outside_the_zone(vec![(Create, r("a.xcorp.example.", "A", 60, "10.0.0.1"))], Some("not permitted in zone"))]
    #[case::empty_batch(vec![], Some("at 'changeBatch.changes'"))]
    #[case::good_then_bad_applies_nothing(vec![(Create, r("b.corp.example.", "A", 60, "10.0.0.5")), (Delete, r("z.corp.example.", "A", 60, "1.1.1.1"))], Some("not found"))]
    #[case::delete_then_create_changes_the_type(vec![(Delete, r("c.corp.example.", "CNAME", 60, "x.example.")), (Create, r("c.corp.example.", "A", 60, "10.0.0.7"))], None)]
    #[case::exact_delete(vec![(Delete, r("a.corp.example.", "A", 60, "10.0.0.1"))], None)]
    #[case::another_member_joins(vec![(Create, m("A", "10.0.0.12", "i-2"))], None)]
    #[case::a_member_of_another_type(vec![(Create, m("AAAA", "2001:db8::1", "i-1"))], None)]
    #[case::a_member_twice(vec![(Create, m("A", "10.0.0.12", "i-1"))], Some("set-identifier='i-1'] but it already exists"))]
    #[case::a_simple_record_beside_members(vec![(Create, r("g.corp.example.", "A", 60, "10.0.0.9"))], Some("a multivalue RRSet exists"))]
    #[case::a_member_beside_a_simple_record(vec![(Create, RecordSet::multivalue("a.corp.example.", RecordType::A, 60, "10.0.0.9".into(), "i-1"))], Some("a simple RRSet exists"))]
    #[case::weighted_beside_multivalue(vec![(Create, weighted("10.0.0.9", "w"))], Some("a multivalue RRSet exists"))]
    #[case::a_cname_beside_members(vec![(Create, r("g.corp.example.", "CNAME", 60, "x.example."))], Some("conflicting RRSet"))]
    #[case::a_multivalue_cname(vec![(Create, RecordSet::multivalue("n.corp.example.", RecordType::Cname, 60, "x.example.".into(), "i-1"))], Some("MultiValueAnswer is not supported"))]
    #[case::a_member_leaves_exactly(vec![(Delete, m("A", "10.0.0.11", "i-1"))], None)]
    #[case::a_member_deleted_by_another_id(vec![(Delete, m("A", "10.0.0.11", "i-3"))], Some("set-identifier='i-3'] but it was not found"))]
    #[case::a_member_deleted_as_simple(vec![(Delete, r("g.corp.example.", "A", 60, "10.0.0.11"))], Some("not found"))]
    #[case::the_last_members_leave_then_a_simple_record(vec![(Delete, m("A", "10.0.0.11", "i-1")), (Create, r("g.corp.example.", "A", 60, "10.0.0.9"))], None)]
    fn refuses_what_route53_refuses(
        #[case] changes: Vec<(ChangeAction, RecordSet)>,
        #[case] refusal: Option<&str>,
    ) {
        let existing = vec![
            r("a.corp.example.", "A", 60, "10.0.0.1"),
            r("c.corp.example.", "CNAME", 60, "x.example."),
            m("A", "10.0.0.11", "i-1"),
        ];
        match (
            apply_strictly("corp.example.", &existing, &batch(changes)),
            refusal,
        ) {
            (Err((_, message)), Some(needle)) => assert!(message.contains(needle), "{message}"),
            (Ok(after), None) => assert_ne!(after, existing),
            (got, want) => panic!("got {got:?}, want {want:?}"),
        }
    }
}
