//! The registry item as one invocation knows it: what is stored, and what
//! the next save will say. Every outcome of a batch moves its records
//! between owned and pending here (the table of states is in the module
//! docs of `registrar`).

use crate::model::{
    InstanceFacts, InstanceState, OwnedRecord, RegistryItem, RegistryKey, IN_FLIGHT,
};
use crate::plan::{Plan, ZoneChanges};
use chrono::{DateTime, Utc};

/// The registry item as this invocation knows it, kept in step with every
/// call: what is stored, and what the next save will say.
#[derive(Clone)]
pub(crate) struct Book {
    /// As last loaded or saved; `None` when the table has no item.
    pub stored: Option<RegistryItem>,
    pub owned: Vec<OwnedRecord>,
    pub pending: Vec<OwnedRecord>,
    /// Everything else the next save writes (event, addresses).
    pub meta: RegistryItem,
    /// Pending when the item was opened, or in another invocation's item
    /// this one's write was merged into: that invocation (an event and the
    /// reconcile, or two events) may still be sending these.
    pub pending_at_open: Vec<OwnedRecord>,
    /// When set, a batch that applies moves the item's time to this (a
    /// DDNS host's "last update": the time its record last changed, not
    /// the time of a request that was refused).
    pub stamp_applied: Option<DateTime<Utc>>,
    /// What this invocation's applied batches created and deleted: proven
    /// by Route 53, whatever another invocation wrote to the item since.
    pub created_here: Vec<OwnedRecord>,
    pub deleted_here: Vec<OwnedRecord>,
}

/// A new save's [`RegistryItem::write_id`]: random, else (no randomness
/// on this machine) the time and a count, unique within this process.
fn write_id() -> String {
    let mut bytes = [0u8; 8];
    match getrandom::getrandom(&mut bytes) {
        Ok(()) => bytes.iter().map(|b| format!("{b:02x}")).collect(),
        Err(_) => {
            static COUNT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
            let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let nanos = Utc::now().timestamp_nanos_opt().unwrap_or_default();
            format!("{nanos:x}-{n}")
        }
    }
}

/// What started this convergence, as the item remembers it.
#[derive(Debug, Clone)]
pub(crate) struct Cause<'a> {
    pub key: RegistryKey,
    pub event_id: &'a str,
    /// The event's time; `None` for a reconcile or an event without one.
    pub time: Option<DateTime<Utc>>,
    /// The live state, else the state the event named.
    pub state: Option<InstanceState>,
}

impl Book {
    pub fn open(change: Cause, stored: Option<RegistryItem>) -> Book {
        let (owned, pending) = stored
            .as_ref()
            .map(|i| (i.records.clone(), i.pending.clone()))
            .unwrap_or_default();
        // The stored time only moves forward: an event without a time (or an
        // equal one) never lets an older event through afterwards.
        let last_event_time = stored
            .as_ref()
            .and_then(|i| i.last_event_time)
            .max(change.time);
        let mut meta = stored.clone().unwrap_or_default();
        meta.key = change.key;
        meta.last_event_time = last_event_time;
        meta.last_event_id = Some(change.event_id.to_string());
        if change.state.is_some() {
            meta.last_state = change.state;
        }
        Book {
            stored,
            owned,
            pending_at_open: pending.clone(),
            stamp_applied: None,
            pending,
            meta,
            created_here: Vec::new(),
            deleted_here: Vec::new(),
        }
    }

    pub fn facts(&mut self, instance: &InstanceFacts) {
        self.meta.private_ip = instance.private_ip;
        self.meta.public_ip = instance.public_ip;
        self.meta.vpc_id = instance.vpc_id.clone();
    }

    /// The item the next save writes.
    pub fn next(&self) -> RegistryItem {
        let mut owned = self.owned.clone();
        owned.sort();
        let mut pending = self.pending.clone();
        pending.sort();
        let pending_since = self.meta.pending_since.filter(|_| !pending.is_empty());
        RegistryItem {
            records: owned,
            pending,
            pending_since,
            version: self.stored.as_ref().map_or(0, |i| i.version) + 1,
            replaces: self.stored.as_ref().and_then(|i| i.replaces.clone()),
            write_id: Some(write_id()),
            ..self.meta.clone()
        }
    }

    /// Whether the stored item already lists what the next save would
    /// (owned, pending, the host's settings): nothing to write ahead. The
    /// event it names may be older; that is said at the finish.
    pub fn lists_as_stored(&self) -> bool {
        self.stored.as_ref().is_some_and(|s| {
            let next = self.next();
            s.replaces.is_none()
                && s.records == next.records
                && s.pending == next.pending
                && s.pending_since == next.pending_since
                && s.host == next.host
        })
    }

    /// Whether the stored item already says what the next save would.
    pub fn unchanged(&self) -> bool {
        self.stored.as_ref().is_some_and(|s| {
            let next = self.next();
            s.replaces.is_none()
                && s.records == next.records
                && s.pending == next.pending
                && s.pending_since == next.pending_since
                && s.last_event_time == next.last_event_time
                && s.host == next.host
        })
    }

    /// A batch is in: its deletes are released, its creates owned.
    pub fn applied(&mut self, batch: &ZoneChanges) {
        if self.stamp_applied.is_some() {
            self.meta.last_event_time = self.stamp_applied;
        }
        let deleted: Vec<OwnedRecord> = batch.deletes().collect();
        self.owned.retain(|o| !deleted.contains(o));
        self.pending.retain(|p| !deleted.contains(p));
        self.created_here.retain(|c| !deleted.contains(c));
        self.deleted_here.extend(deleted);
        for created in batch.creates() {
            self.pending.retain(|p| *p != created);
            self.deleted_here.retain(|d| *d != created);
            if !self.owned.contains(&created) {
                self.owned.push(created.clone());
            }
            if !self.created_here.contains(&created) {
                self.created_here.push(created);
            }
        }
    }

    /// The item another invocation wrote since this one read it (`newer`;
    /// `None`: it removed it), with what this invocation proved on top:
    /// its creates owned, its deletes gone (unless written again since). So a record this invocation
    /// wrote stays listed even when the other settled it away while its
    /// change was still in flight. `None` when there is nothing to add, or
    /// the newer item is not one of ours.
    pub fn merged_into(&self, newer: Option<&RegistryItem>) -> Option<RegistryItem> {
        if self.created_here.is_empty() && self.deleted_here.is_empty() {
            return None;
        }
        let mut item = match newer {
            Some(newer) if newer.replaces.is_some() => return None,
            Some(newer) => newer.clone(),
            None => RegistryItem {
                records: Vec::new(),
                pending: Vec::new(),
                version: 0,
                replaces: None,
                ..self.meta.clone()
            },
        };
        // A record this invocation deleted that the newer item lists as
        // owned was written again since, and proven, by its writer (a
        // record this invocation was deleting was pending in every item
        // after its write-ahead, and only a writer's own applied CREATE
        // makes a pending record owned): it stays. One it lists pending
        // goes, unless the newer item gained pending records since this
        // invocation's write-ahead (`pending_since` moved): then it may be
        // another writer's create in flight, and it stays listed, to be
        // settled by a later read (found by the property test with tasks:
        // a stale stop beside a start of the same task).
        let ours_since = self.stored.as_ref().and_then(|s| s.pending_since);
        let pending_gained = item.pending_since.is_some() && item.pending_since != ours_since;
        let created = |r: &OwnedRecord| self.created_here.contains(r);
        let deleted = |r: &OwnedRecord| self.deleted_here.contains(r);
        item.records.retain(|r| !created(r));
        item.pending
            .retain(|r| !created(r) && (pending_gained || !deleted(r)));
        item.records.extend(self.created_here.iter().cloned());
        item.records.sort();
        item.pending.sort();
        item.version += 1;
        if item.pending.is_empty() {
            item.pending_since = None;
        }
        item.write_id = Some(write_id());
        Some(item)
    }

    /// Reads showed `absent` records gone: an owned one is no one's now
    /// (the caller warns), a pending one was never created, or was
    /// deleted. Except a record pending when the item was opened and
    /// dated less than [`IN_FLIGHT`] before `now`: the invocation that
    /// wrote it ahead may still be sending it, and if it lands after this
    /// read and that invocation dies before it saves, only this listing
    /// keeps it. The owned records that went, returned.
    pub fn settle_absent(
        &mut self,
        absent: impl Fn(&OwnedRecord) -> bool,
        now: DateTime<Utc>,
    ) -> Vec<OwnedRecord> {
        let in_flight = self
            .stored
            .as_ref()
            .and_then(|s| s.pending_since)
            .is_some_and(|since| now < since + IN_FLIGHT);
        let at_open = &self.pending_at_open;
        self.pending
            .retain(|p| !absent(p) || (in_flight && at_open.contains(p)));
        let (kept, vanished) = std::mem::take(&mut self.owned)
            .into_iter()
            .partition(|o| !absent(o));
        self.owned = kept;
        vanished
    }

    /// A batch certainly changed nothing: its creates are not pending
    /// (unless they were when the item was opened: another invocation may
    /// have written them, even if this one read them absent before), and
    /// the records it meant to delete are still ours.
    pub fn not_applied(&mut self, batch: &ZoneChanges) {
        let created: Vec<OwnedRecord> = batch.creates().collect();
        let at_open = &self.pending_at_open;
        self.pending
            .retain(|p| !created.contains(p) || at_open.contains(p));
        for deleted in batch.deletes() {
            if let Some(i) = self.pending.iter().position(|p| *p == deleted) {
                self.pending.remove(i);
                self.owned.push(deleted);
            }
        }
    }

    /// Before the batches go: what they create is listed as pending, and
    /// what they delete moves from owned to pending, so that whatever
    /// becomes of them the item lists every record we may have written,
    /// and claims none that may be gone (a crash after a DELETE commits
    /// must not leave a claim on a name someone may take next). A batch
    /// that creates anything dates the pending records `now`: another
    /// invocation that reads one absent before it lands keeps it listed
    /// ([`Book::settle_absent`]). `true` when the item must be saved first.
    pub fn prepare(&mut self, plan: &Plan, now: DateTime<Utc>) -> bool {
        let mut changed = false;
        for created in plan.creates() {
            if !self.pending.contains(&created) {
                self.pending.push(created);
            }
            changed = true;
        }
        if changed {
            self.meta.pending_since = Some(now);
        }
        for zone in &plan.zones {
            for deleted in zone.deletes() {
                if let Some(i) = self.owned.iter().position(|o| *o == deleted) {
                    self.owned.remove(i);
                    self.pending.push(deleted);
                    changed = true;
                }
            }
        }
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{RecordSet, RecordType};
    use crate::plan::{Change, ChangeAction};

    fn record(name: &str) -> OwnedRecord {
        OwnedRecord {
            zone_id: "Z1".into(),
            zone_name: "corp.example.".into(),
            record: RecordSet::new(name, RecordType::A, 60, vec!["10.1.2.4".into()]),
        }
    }

    /// An event for i-1, without a time or a state.
    fn cause() -> Cause<'static> {
        Cause {
            key: "i-1".into(),
            event_id: "e",
            time: None,
            state: None,
        }
    }

    fn creating(r: &OwnedRecord) -> ZoneChanges {
        ZoneChanges {
            zone_id: r.zone_id.clone(),
            zone_name: r.zone_name.clone(),
            changes: vec![Change {
                action: ChangeAction::Create,
                record: r.record.clone(),
            }],
        }
    }

    /// Another invocation listed X pending and may be sending it; this one
    /// read X absent, sent it too and was refused. X stays listed: the
    /// other's CREATE may be what refused ours.
    #[test]
    fn a_create_refused_stays_pending_if_it_was_pending_when_opened() {
        let x = record("x.corp.example.");
        let y = record("y.corp.example.");
        let stored = RegistryItem {
            key: "i-1".into(),
            pending: vec![x.clone()],
            version: 2,
            ..RegistryItem::default()
        };
        let mut book = Book::open(cause(), Some(stored));
        book.pending.clear(); // read absent: settled away
        let plan = Plan {
            zones: vec![creating(&x), creating(&y)],
            ..Plan::default()
        };
        book.prepare(&plan, Utc::now());
        assert_eq!(book.pending, [x.clone(), y.clone()]);
        book.not_applied(&creating(&x));
        book.not_applied(&creating(&y));
        assert_eq!(
            book.pending,
            [x],
            "x was pending when opened; y only by this invocation"
        );
    }

    /// A pending record read absent: settled away, unless it was pending
    /// when the item was opened and dated within `IN_FLIGHT` (another
    /// invocation may still be sending it). Owned records read absent go.
    #[rstest::rstest]
    #[case::fresh_and_at_open(Some(1), true, true)]
    #[case::just_inside(Some(19), true, true)]
    #[case::stale(Some(21), true, false)]
    #[case::undated_old_item(None, true, false)]
    #[case::added_by_this_invocation(Some(1), false, false)]
    fn a_pending_record_read_absent(
        #[case] minutes_ago: Option<i64>,
        #[case] at_open: bool,
        #[case] kept: bool,
    ) {
        let now = Utc::now();
        let x = record("x.corp.example.");
        let owned = record("owned.corp.example.");
        let stored = RegistryItem {
            key: "i-1".into(),
            records: vec![owned.clone()],
            pending: if at_open { vec![x.clone()] } else { vec![] },
            pending_since: minutes_ago.map(|m| now - chrono::TimeDelta::minutes(m)),
            version: 2,
            ..RegistryItem::default()
        };
        let mut book = Book::open(cause(), Some(stored));
        if !at_open {
            book.pending.push(x.clone());
        }
        let vanished = book.settle_absent(|_| true, now);
        assert_eq!(vanished, [owned]);
        assert!(book.owned.is_empty());
        assert_eq!(book.pending.contains(&x), kept, "{:?}", book.pending);
    }

    /// This invocation deleted X and lost the race to finish its item: the
    /// newer item keeps X when its writer wrote X again (owned), or may be
    /// writing it (pending added since this one's write-ahead); a pending
    /// X that is only this invocation's own release goes.
    #[rstest::rstest]
    #[case::written_again_and_owned(true, false, false, true)]
    #[case::our_release_still_pending(false, true, false, false)]
    #[case::pending_again_since(false, true, true, true)]
    fn a_merge_keeps_what_was_written_again_after_our_delete(
        #[case] newer_owns: bool,
        #[case] newer_pending: bool,
        #[case] pending_gained: bool,
        #[case] kept: bool,
    ) {
        let x = record("x.corp.example.");
        let ours_since = Utc::now() - chrono::TimeDelta::minutes(2);
        let stored = RegistryItem {
            key: "i-1".into(),
            pending: vec![x.clone()],
            pending_since: Some(ours_since),
            version: 3,
            ..RegistryItem::default()
        };
        let mut book = Book::open(cause(), Some(stored));
        book.deleted_here.push(x.clone());
        let newer = RegistryItem {
            key: "i-1".into(),
            records: if newer_owns { vec![x.clone()] } else { vec![] },
            pending: if newer_pending {
                vec![x.clone()]
            } else {
                vec![]
            },
            pending_since: match (newer_pending, pending_gained) {
                (false, _) => None,
                (true, false) => Some(ours_since),
                (true, true) => Some(Utc::now()),
            },
            version: 4,
            ..RegistryItem::default()
        };
        let merged = book.merged_into(Some(&newer)).expect("a merge");
        assert_eq!(merged.version, 5);
        assert_eq!(merged.listed().any(|r| *r == x), kept, "{merged:?}");
    }

    /// A batch that creates dates the pending records; a save with none
    /// pending carries no date.
    #[test]
    fn creating_dates_the_pending_records() {
        let x = record("x.corp.example.");
        let mut book = Book::open(cause(), None);
        let now = Utc::now();
        let plan = Plan {
            zones: vec![creating(&x)],
            ..Plan::default()
        };
        assert!(book.prepare(&plan, now));
        assert_eq!(book.next().pending_since, Some(now));
        book.applied(&creating(&x));
        assert_eq!(book.next().pending_since, None, "nothing pending");
    }
}
