//! A subject: anything that wants records (an EC2 instance, a DDNS host,
//! and whatever kind comes next), in the one shape the engine converges.
//! A source (one event, an SQS batch, the reconcile's listing, a DDNS
//! request) only gathers subjects; everything after that is the same.
//!
//! A new kind of subject is a new [`Wants`] variant: the records it wants
//! (a pure plan) and the names that plan must see read. Nothing else in
//! the engine changes.

use super::book::Book;
use crate::error::Error;
use crate::model::{DnsName, NamesByZone};
use crate::model::{OwnedRecord, RecordType, ZoneInfo};
use crate::plan::{self, Conflict, ConflictKind, Observed, Plan, Targets, ZoneChanges};
use crate::summary::Summary;
use chrono::{DateTime, Utc};
use std::net::IpAddr;

/// What a subject wants now, as its live state says.
#[derive(Debug, Clone)]
pub(crate) enum Wants {
    /// Nothing any more (stopped, terminated, gone, removed): delete what
    /// it owns, each record only while it is still as written.
    Nothing,
    /// An instance's A, PTR and CNAME records (`plan::targets`).
    Instance(Box<Targets>),
    /// A DDNS host's one address record.
    Host(HostWants),
}

/// A DDNS host's record: `A` or `AAAA` (by the address's family) at its
/// name, in its zone.
#[derive(Debug, Clone)]
pub(crate) struct HostWants {
    pub zone: ZoneInfo,
    pub name: DnsName,
    pub ip: IpAddr,
    pub ttl: u32,
}

impl Wants {
    /// The plan for `book` against the zones as `seen`.
    pub fn plan(&self, book: &Book, seen: &Observed, ttl: u32) -> Plan {
        match self {
            Wants::Nothing => plan::plan_deregister(&book.owned, seen),
            Wants::Instance(t) => plan::plan_register(t, &book.owned, &book.pending, seen, ttl),
            Wants::Host(h) => match h.foreign_at_name(book, seen) {
                Some(conflict) => Plan {
                    conflicts: vec![conflict],
                    ..Plan::default()
                },
                None => plan::plan_host(
                    &h.zone,
                    &h.name,
                    h.ip,
                    &book.owned,
                    &book.pending,
                    seen,
                    h.ttl,
                ),
            },
        }
    }

    /// The names, per zone, its plan may touch, given what it lists.
    fn names_touched(&self, listed: &[OwnedRecord]) -> NamesByZone {
        let mut names = match self {
            Wants::Instance(t) => return t.names_to_read(listed),
            Wants::Nothing | Wants::Host(_) => plan::names_of(listed),
        };
        for (zone, more) in self.must_read() {
            names.entry(zone).or_default().extend(more);
        }
        names
    }

    /// The name its plan cannot be made without reading (not just assumed
    /// from what it owns), with its zone: a host's name, which is its own
    /// only if everything at it is.
    fn must_read(&self) -> NamesByZone {
        match self {
            Wants::Host(h) => NamesByZone::from([(h.zone.id.clone(), [h.name.clone()].into())]),
            Wants::Nothing | Wants::Instance(_) => NamesByZone::new(),
        }
    }
}

/// Where a subject stands among claimants of one name: compared field by
/// field, in this order. Deregistrations first (a name they free can be
/// handed over in the same pass), then the earliest launched (unknown
/// launch times last), ties by key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ClaimOrder {
    registers: bool,
    launch_unknown: bool,
    launch_time: Option<DateTime<Utc>>,
    key: String,
}

impl HostWants {
    /// A conflict when the name holds a record of any type that this host
    /// did not write (an instance's A, a person's TXT): the name is the
    /// host's only if everything at it is. `None` when unread or free.
    fn foreign_at_name(&self, book: &Book, seen: &Observed) -> Option<Conflict> {
        let foreign: Vec<String> = seen
            .at(&self.zone.id, &self.name)
            .unwrap_or_default()
            .into_iter()
            .filter(|r| {
                !book
                    .owned
                    .iter()
                    .chain(&book.pending)
                    .any(|o| o.zone_id == self.zone.id && o.record == **r)
            })
            .map(|r| r.rtype.to_string())
            .collect();
        let rtype = foreign.first()?;
        Some(Conflict {
            zone_id: self.zone.id.clone(),
            zone_name: self.zone.name.clone(),
            name: self.name.clone(),
            rtype: RecordType::from(rtype.clone()),
            set_id: None,
            kind: ConflictKind::Held,
            reason: format!(
                "the name holds {} this host did not write; it is never overwritten",
                foreign.join(", ")
            ),
        })
    }
}

/// A subject's changes in one zone that Route 53 refused, and its words.
pub(crate) struct Refusal {
    pub changes: ZoneChanges,
    pub error: Error,
}

/// One subject as the engine converges it, with what became of it.
pub(crate) struct Subject {
    pub book: Book,
    pub summary: Summary,
    pub wants: Wants,
    /// When the instance was last started: among claimants of one free
    /// name, the earliest gets it.
    pub launch_time: Option<DateTime<Utc>>,
    /// The source's own index for it (an event's place in its batch).
    pub tag: usize,
    pub plan: Plan,
    /// Its changes that went in, zone by zone.
    pub applied: Vec<ZoneChanges>,
    /// Its changes were refused in the merged pass: it is converged on its
    /// own afterwards.
    pub deferred: bool,
    /// Its parts Route 53 refused, and why: not sent again unchanged.
    pub refused: Vec<Refusal>,
    /// The merged pass failed for it and left it to the next convergence.
    pub failure: Option<Error>,
    /// Its item was written ahead: it must be saved again at the end.
    pub ahead: bool,
}

impl Subject {
    pub fn new(book: Book, summary: Summary, wants: Wants, tag: usize) -> Subject {
        Subject {
            book,
            summary,
            wants,
            launch_time: None,
            tag,
            plan: Plan::default(),
            applied: Vec::new(),
            deferred: false,
            refused: Vec::new(),
            failure: None,
            ahead: false,
        }
    }

    /// The same subject, placed among claimants by its launch time.
    pub fn launched(mut self, launch_time: Option<DateTime<Utc>>) -> Subject {
        self.launch_time = launch_time;
        self
    }

    pub fn deregister(&self) -> bool {
        matches!(self.wants, Wants::Nothing)
    }

    /// The order in which subjects plan, so that every source hands a
    /// contested name to the same claimant.
    pub fn claim_order(&self) -> ClaimOrder {
        ClaimOrder {
            registers: !self.deregister(),
            launch_unknown: self.launch_time.is_none(),
            launch_time: self.launch_time,
            key: self.book.meta.key.to_string(),
        }
    }

    /// Every record its item lists, proven or not.
    fn listed(&self) -> Vec<OwnedRecord> {
        self.book
            .owned
            .iter()
            .chain(&self.book.pending)
            .cloned()
            .collect()
    }

    /// The names, per zone, its plan may touch: those it wants and those
    /// it lists (owned or pending).
    pub fn names_touched(&self) -> NamesByZone {
        self.wants.names_touched(&self.listed())
    }

    /// The names it needs read before planning when the zones are not
    /// listed whole: its unsettled records (to settle them) and the names
    /// its plan cannot assume.
    pub fn names_needed(&self) -> NamesByZone {
        let mut names = plan::names_of(&self.book.pending);
        for (zone, more) in self.wants.must_read() {
            names.entry(zone).or_default().extend(more);
        }
        names
    }

    /// Still taking part in the merged sends.
    pub fn active(&self) -> bool {
        !self.deferred && self.failure.is_none()
    }
}
