//! What one event did, as printed by the CLI (one JSON line) and returned by
//! the Lambda function.

use crate::event::InstanceEvent;
use crate::model::{DnsName, InstanceState, RecordSet, ZoneId};
use crate::plan::{ChangeAction, Conflict, Plan, Rejection};
use serde::Serialize;

/// The overall result of one event, most serious first: ordered so, the
/// least of several outcomes (`min`) is the most serious, the outcome of
/// work made of several (a reconcile, a DDNS request naming several hosts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
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
    pub zone_id: ZoneId,
    pub zone_name: DnsName,
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
    /// The event's id; empty, and left out of the JSON, when the event
    /// could not be read.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub event_id: String,
    /// The instance (or DDNS host's key) the summary is about; empty, and
    /// left out of the JSON, when it is about none: an ignored event, an
    /// event that could not be read, a reconcile that failed.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub instance_id: String,
    /// The account and region the instance lives in, when it is not the
    /// deployment's own (the organization mode): ids are unique only
    /// within an account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place: Option<crate::model::Place>,
    /// Whether its error is a member account that could not be read (the
    /// organization mode): counted apart (`MemberAccountsUnreachable`).
    #[serde(skip)]
    pub member_unreachable: bool,
    /// The state the event named; absent for a tag change, a reconcile, or
    /// an event that could not be read.
    pub state: Option<InstanceState>,
    /// The tag keys a tag-change event named.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changed_tags: Vec<String>,
    /// The Auto Scaling lifecycle action an event carried (its token
    /// shortened): `launch hook H of Auto Scaling group G (token 1a2b3c4d…)`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<String>,
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
    /// A summary of no event and no instance, with nothing in it yet.
    fn empty() -> Summary {
        Summary {
            source: None,
            event_id: String::new(),
            instance_id: String::new(),
            place: None,
            member_unreachable: false,
            state: None,
            changed_tags: Vec::new(),
            lifecycle: None,
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
        Summary {
            event_id: change.event_id.clone(),
            instance_id: change.instance_id.clone(),
            state: change.state(),
            changed_tags: change.changed_tags().to_vec(),
            lifecycle: change.lifecycle().map(ToString::to_string),
            ..Summary::empty()
        }
    }

    /// A summary of an ECS task's `event` with nothing in it yet: its
    /// subject is the task's registry key (`task#ARN`), so that it is
    /// never read as an instance's.
    pub fn of_task(event: &crate::event::TaskEvent) -> Summary {
        Summary {
            event_id: event.event_id.clone(),
            instance_id: crate::model::RegistryKey::task(&event.task_arn).to_string(),
            ..Summary::empty()
        }
    }

    /// A summary of what a reconcile (event `event_id`) did to one instance.
    pub fn reconciled(event_id: &str, instance_id: &str) -> Summary {
        Summary {
            event_id: event_id.to_string(),
            instance_id: instance_id.to_string(),
            ..Summary::empty()
        }
    }

    /// The summary of an event that is not about an instance (a tag change
    /// on a volume): nothing to do, and `reason` says why.
    pub fn ignored(event_id: &str, reason: impl Into<String>) -> Summary {
        Summary {
            event_id: event_id.to_string(),
            ..Summary::empty()
        }
        .note(reason)
    }

    /// The summary of an event that failed; `change` is `None` when the
    /// event itself could not be read ([`Summary::unreadable_event`]).
    pub fn failed(change: Option<&InstanceEvent>, error: &crate::Error) -> Summary {
        match change {
            Some(change) => Summary::of(change).with_error(error),
            None => Summary::unreadable_event(error),
        }
    }

    /// The summary of an event that could not be read: no event id, no
    /// instance, only the error.
    pub fn unreadable_event(error: &crate::Error) -> Summary {
        Summary::empty().with_error(error)
    }

    /// The summary of an event whose work as a whole failed, not one
    /// instance's (a schedule's reconcile whose listing failed).
    pub fn invocation_failed(event_id: &str, error: &crate::Error) -> Summary {
        Summary {
            event_id: event_id.to_string(),
            ..Summary::empty()
        }
        .with_error(error)
    }

    /// The outcome `error`, why, and whether a retry may help.
    pub fn with_error(mut self, error: &crate::Error) -> Summary {
        self.outcome = Outcome::Error;
        self.error = Some(error.to_string());
        self.retryable = Some(error.is_retryable());
        self.member_unreachable = matches!(error, crate::Error::MemberUnreachable { .. });
        self
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    fn json(summary: &Summary) -> serde_json::Value {
        serde_json::to_value(summary).unwrap()
    }

    #[test]
    fn a_summary_of_no_instance_has_no_instance_id_rather_than_an_empty_one() {
        let ignored = json(&Summary::ignored("e-1", "a tag change on ec2 volume"));
        assert_eq!(ignored["event_id"], "e-1", "{ignored}");
        assert_eq!(ignored["outcome"], "nothing-to-do", "{ignored}");
        assert_eq!(
            ignored["notes"][0], "a tag change on ec2 volume",
            "{ignored}"
        );
        assert!(ignored.get("instance_id").is_none(), "{ignored}");

        let bad = Error::BadEvent("not JSON".into());
        let unread = json(&Summary::unreadable_event(&bad));
        assert_eq!(unread["outcome"], "error", "{unread}");
        assert_eq!(unread["retryable"], false, "{unread}");
        assert!(unread.get("event_id").is_none(), "{unread}");
        assert!(unread.get("instance_id").is_none(), "{unread}");
        assert_eq!(json(&Summary::failed(None, &bad)), unread);

        let failed = json(&Summary::invocation_failed("s-1", &bad));
        assert_eq!(failed["event_id"], "s-1", "{failed}");
        assert_eq!(failed["outcome"], "error", "{failed}");
        assert_eq!(failed["retryable"], false, "{failed}");
        assert!(failed.get("instance_id").is_none(), "{failed}");
    }

    #[test]
    fn the_least_of_several_outcomes_is_the_most_serious() {
        use Outcome::*;
        let table = [
            (vec![Applied, NothingToDo], Applied),
            (vec![NothingToDo, Conflict, Applied], Conflict),
            (vec![Rejected, Conflict], Conflict),
            (vec![Applied, Error, Conflict], Error),
            (vec![NothingToDo], NothingToDo),
        ];
        for (outcomes, most_serious) in table {
            assert_eq!(outcomes.iter().min(), Some(&most_serious), "{outcomes:?}");
        }
    }

    #[test]
    fn a_summary_of_an_instance_names_it() {
        let reconciled = json(&Summary::reconciled("s-1", "i-0web1"));
        assert_eq!(reconciled["event_id"], "s-1", "{reconciled}");
        assert_eq!(reconciled["instance_id"], "i-0web1", "{reconciled}");
    }
}
