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
//! | the type under another routing policy  | none                      | conflict            |
//!
//! A record set's slot is its name, type and set identifier: a group
//! member's multivalue record set (set identifier: its instance id) is
//! decided by the same table, beside the other members' record sets.
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
//!
//! One job per file, in the order a plan is made: `intent.rs` (what the
//! live state asks for), `targets.rs` (the names wanted and their zones),
//! `observed.rs` (what was read of the zones), `differ.rs` (wanted against
//! current and owned), `crate::changes` (the batches sent, data the adapters share). This file holds the
//! outcome: [`Plan`], its conflicts and its rejections.

mod differ;
mod intent;
mod observed;
mod targets;
pub mod task;

pub use crate::changes::{Change, ChangeAction, ZoneChanges};
pub use differ::{plan_deregister, plan_host, plan_register};
pub use intent::{intent, Intent};
pub use observed::{CurrentRecords, Observed};
pub use targets::{
    names_of, split_names, targets, AliasTarget, DefaultName, GroupTarget, HostTarget, PlanInput,
    PtrTarget, PublicHost, Targets,
};

use crate::model::{DnsName, OwnedRecord, RecordType, ZoneId};
use crate::names;
use serde::Serialize;
// What tests.rs (`use super::*`) took from this file's imports before the split.
#[cfg(test)]
use crate::config::Config;
#[cfg(test)]
use std::collections::{BTreeMap, BTreeSet};

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
    pub zone_id: ZoneId,
    pub zone_name: DnsName,
    pub name: DnsName,
    #[serde(rename = "type")]
    pub rtype: RecordType,
    /// The wanted record set's set identifier: a group member's (its id);
    /// `None` for a simple record.
    #[serde(rename = "set_identifier", skip_serializing_if = "Option::is_none")]
    pub set_id: Option<String>,
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
    /// Record sets of one name and type must share one routing policy: a
    /// group's multivalue record sets can't join a simple record (or a
    /// weighted one…), and a simple record can't join a group.
    MixedRouting,
    /// An identical record an earlier invocation sent without learning
    /// whether it applied: never proven this subject's, so left alone.
    Unsettled,
    /// Route 53 refused the change on its own.
    Refused,
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

#[cfg(test)]
mod tests;
