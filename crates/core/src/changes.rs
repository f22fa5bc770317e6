//! The changes a plan sends: Route 53's actions, one change, and one zone's
//! batch (sent as one compare-and-swap ChangeResourceRecordSets call).
//! Plain data below the plan, so that the ports and the adapters that
//! carry a batch need nothing of the planner.

use crate::model::{DnsName, OwnedRecord, RecordSet, ZoneId};
use serde::Serialize;
use std::collections::BTreeSet;

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
    pub zone_id: ZoneId,
    pub zone_name: DnsName,
    pub changes: Vec<Change>,
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
    pub fn names(&self) -> BTreeSet<DnsName> {
        self.changes.iter().map(|c| c.record.name.clone()).collect()
    }
}
