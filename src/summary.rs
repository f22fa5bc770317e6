//! What one event did, as printed by the CLI (one JSON line) and returned by
//! the Lambda function.

use crate::event::InstanceEvent;
use crate::model::{InstanceState, RecordSet};
use crate::plan::{ChangeAction, Conflict, Plan, Rejection};
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

impl Outcome {
    /// As the JSON and the text output spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Error => "error",
            Outcome::Conflict => "conflict",
            Outcome::Rejected => "rejected",
            Outcome::Applied => "applied",
            Outcome::NothingToDo => "nothing-to-do",
        }
    }
}

/// One change: the zone, the action and the record set, flattened for
/// reading (`zone_id`, `zone_name`, `action`, `name`, `type`, `ttl`, `values`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeLine {
    pub zone_id: String,
    pub zone_name: String,
    pub action: ChangeAction,
    #[serde(flatten)]
    pub record: RecordSet,
}

/// The report of one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// The file the event came from, when the CLI read one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    pub event_id: String,
    pub instance_id: String,
    /// The state the event named; absent for a tag change, a reconcile, or
    /// an event that could not be read.
    pub state: Option<InstanceState>,
    /// The tag keys a tag-change event named.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changed_tags: Vec<String>,
    /// The state EC2 reported when the instance was described, which is
    /// what decided (the event is only a hint); absent when not described.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live_state: Option<InstanceState>,
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub dry_run: bool,
    pub changes: Vec<ChangeLine>,
    pub conflicts: Vec<Conflict>,
    pub rejected: Vec<Rejection>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Things the user must look at although the event succeeded: an
    /// instance EC2 does not know, a VPC whose DNS settings break private
    /// zones. The CLI prints them on stderr; the Lambda logs them as warnings.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Only on errors: whether the same event may succeed later (Lambda
    /// retries those), or fails the same way every time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retryable: Option<bool>,
}

impl Summary {
    /// A summary with nothing in it yet.
    fn blank(event_id: &str, instance_id: &str, state: Option<InstanceState>) -> Summary {
        Summary {
            source: None,
            event_id: event_id.to_string(),
            instance_id: instance_id.to_string(),
            state,
            changed_tags: Vec::new(),
            live_state: None,
            outcome: Outcome::NothingToDo,
            dry_run: false,
            changes: Vec::new(),
            conflicts: Vec::new(),
            rejected: Vec::new(),
            notes: Vec::new(),
            warnings: Vec::new(),
            error: None,
            retryable: None,
        }
    }

    /// A summary of `change` with nothing in it yet.
    pub fn of(change: &InstanceEvent) -> Summary {
        let mut summary = Summary::blank(&change.event_id, &change.instance_id, change.state());
        summary.changed_tags = change.changed_tags().to_vec();
        summary
    }

    /// A summary of what a reconcile (event `event_id`) did to one instance.
    pub fn reconciled(event_id: &str, instance_id: &str) -> Summary {
        Summary::blank(event_id, instance_id, None)
    }

    /// The summary of an event that failed; `change` is `None` when the
    /// event itself could not be read.
    pub fn failed(change: Option<&InstanceEvent>, error: &crate::Error) -> Summary {
        let mut summary = match change {
            Some(change) => Summary::of(change),
            None => Summary::blank("", "", None),
        };
        summary.outcome = Outcome::Error;
        summary.error = Some(error.to_string());
        summary.retryable = Some(error.is_retryable());
        summary
    }

    /// Fills in a plan's changes and findings and derives the outcome.
    pub fn with_plan(mut self, plan: &Plan) -> Summary {
        for zone in &plan.zones {
            for c in &zone.changes {
                self.changes.push(ChangeLine {
                    zone_id: zone.zone_id.clone(),
                    zone_name: zone.zone_name.clone(),
                    action: c.action,
                    record: c.record.clone(),
                });
            }
        }
        self.conflicts.extend(plan.conflicts.iter().cloned());
        self.rejected.extend(plan.rejected.iter().cloned());
        self.notes.extend(plan.notes.iter().cloned());
        self.warnings.extend(plan.warnings.iter().cloned());
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

    pub fn note(mut self, note: impl Into<String>) -> Summary {
        self.notes.push(note.into());
        self
    }

    pub fn warning(mut self, warning: impl Into<String>) -> Summary {
        self.warnings.push(warning.into());
        self
    }
}
