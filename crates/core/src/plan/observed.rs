//! What has been read of the zones, name by name, and what the plan assumes
//! at the names not read (see [`crate::plan`]).

use super::{ChangeAction, ZoneChanges};
use crate::model::NamesByZone;
use crate::model::{DnsName, OwnedRecord, RecordSet, ZoneId};
use std::collections::{BTreeMap, BTreeSet};

/// Records as read from the zones: zone id → the record sets found at the
/// names that were asked for.
pub type CurrentRecords = BTreeMap<ZoneId, Vec<RecordSet>>;

/// What the registrar has read of the zones, name by name. A name not read
/// is assumed to hold what this instance owns there and nothing else (see
/// the docs of [`crate::plan`]); a compare-and-swap batch finds out if it does not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observed {
    read: BTreeMap<ZoneId, BTreeSet<DnsName>>,
    /// Zones listed whole (the reconcile): every name in them is read.
    whole: BTreeSet<ZoneId>,
    records: CurrentRecords,
}

impl Observed {
    /// Everything at these names, read from Route 53: `found` replaces what
    /// was known there before.
    pub fn learn(&mut self, zone_id: &ZoneId, names: &BTreeSet<DnsName>, found: Vec<RecordSet>) {
        let records = self.records.entry(zone_id.clone()).or_default();
        records.retain(|r| !names.contains(&r.name));
        records.extend(found.into_iter().filter(|r| names.contains(&r.name)));
        self.read
            .entry(zone_id.clone())
            .or_default()
            .extend(names.iter().cloned());
    }

    /// Every record of a zone, listed whole: every name in it is read,
    /// those not found hold nothing.
    pub fn learn_zone(&mut self, zone_id: &ZoneId, found: Vec<RecordSet>) {
        self.records.insert(zone_id.clone(), found);
        self.whole.insert(zone_id.clone());
    }

    /// What was read of one zone alone: each zone's sends run at once, each
    /// with its own view, given back by [`Observed::absorb_zone`].
    pub fn zone(&self, zone_id: &ZoneId) -> Observed {
        let mut one = Observed::default();
        if let Some(names) = self.read.get(zone_id) {
            one.read.insert(zone_id.clone(), names.clone());
        }
        if self.whole.contains(zone_id) {
            one.whole.insert(zone_id.clone());
        }
        if let Some(records) = self.records.get(zone_id) {
            one.records.insert(zone_id.clone(), records.clone());
        }
        one
    }

    /// Takes back what `one` (a view from [`Observed::zone`]) knows of
    /// that zone, in place of what this knew.
    pub fn absorb_zone(&mut self, zone_id: &ZoneId, mut one: Observed) {
        match one.read.remove(zone_id) {
            Some(names) => self.read.insert(zone_id.clone(), names),
            None => self.read.remove(zone_id),
        };
        if one.whole.contains(zone_id) {
            self.whole.insert(zone_id.clone());
        }
        match one.records.remove(zone_id) {
            Some(records) => self.records.insert(zone_id.clone(), records),
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
    pub fn unread(&self, wanted: NamesByZone) -> NamesByZone {
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
        names: &BTreeMap<ZoneId, BTreeSet<DnsName>>,
        current: &CurrentRecords,
    ) -> Observed {
        let mut seen = Observed::default();
        for (zone, names) in names {
            seen.learn(zone, names, current.get(zone).cloned().unwrap_or_default());
        }
        seen
    }
}
