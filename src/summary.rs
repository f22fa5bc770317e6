//! What one event did, as printed by the CLI (one JSON line) and returned by
//! the Lambda function.

use crate::plan::{Conflict, Plan, Rejection};
use serde::Serialize;

/// The overall result of one event, most serious first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The event could not be handled; `error` says why.
    Error,
    /// Some wanted record is held by someone else and was skipped.
    Conflict,
    /// Some wanted name can never be written (apex, wildcard, no zone…).
    Rejected,
    /// Changes were made (or, with `--dry-run`, would be).
    Applied,
    /// Nothing needed doing.
    NothingToDo,
}

/// One change, flattened for reading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeLine {
    pub zone_id: String,
    pub zone_name: String,
    pub action: String,
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: String,
    pub ttl: i64,
    pub values: Vec<String>,
}

/// The report of one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub event_id: String,
    pub instance_id: String,
    pub state: String,
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub dry_run: bool,
    pub changes: Vec<ChangeLine>,
    pub conflicts: Vec<Conflict>,
    pub rejected: Vec<Rejection>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Summary {
    /// A summary with nothing in it yet.
    pub fn new(event_id: &str, instance_id: &str, state: &str) -> Summary {
        Summary {
            event_id: event_id.to_string(),
            instance_id: instance_id.to_string(),
            state: state.to_string(),
            outcome: Outcome::NothingToDo,
            dry_run: false,
            changes: Vec::new(),
            conflicts: Vec::new(),
            rejected: Vec::new(),
            notes: Vec::new(),
            error: None,
        }
    }

    /// Fills in a plan's changes and findings and derives the outcome.
    pub fn with_plan(mut self, plan: &Plan) -> Summary {
        for zone in &plan.zones {
            for c in &zone.changes {
                self.changes.push(ChangeLine {
                    zone_id: zone.zone_id.clone(),
                    zone_name: zone.zone_name.clone(),
                    action: c.action.as_str().to_string(),
                    name: c.record.name.clone(),
                    rtype: c.record.rtype.to_string(),
                    ttl: c.record.ttl,
                    values: c.record.values.clone(),
                });
            }
        }
        self.conflicts.extend(plan.conflicts.iter().cloned());
        self.rejected.extend(plan.rejected.iter().cloned());
        self.notes.extend(plan.notes.iter().cloned());
        self.outcome = if !self.conflicts.is_empty() {
            Outcome::Conflict
        } else if !self.rejected.is_empty() {
            Outcome::Rejected
        } else if !self.changes.is_empty() {
            Outcome::Applied
        } else {
            Outcome::NothingToDo
        };
        self
    }

    /// Marks the summary failed with `error`.
    pub fn failed(mut self, error: &crate::Error) -> Summary {
        self.outcome = Outcome::Error;
        self.error = Some(error.to_string());
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Summary {
        self.notes.push(note.into());
        self
    }
}
