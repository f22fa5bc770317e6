//! What one invocation did, counted for its metrics: the events it handled
//! by kind and outcome, the records its summaries changed, the conflicts
//! and rejections they met, the failures a retry may fix, what a reconcile
//! had to repair, the DDNS endpoint's answers, and the AWS calls and Route
//! 53 throttles the call log saw. The handler feeds it from what it has
//! anyway (each summary, a reconcile's totals, the endpoint's answers, the
//! call log), so counting changes nothing of the work; `metrics` turns it
//! into lines.

use ec2_ddns_core::changes::ChangeAction;
use ec2_ddns_core::ddns::endpoint::Answer;
use ec2_ddns_core::error::Error;
use ec2_ddns_core::event::InstanceEvent;
use ec2_ddns_core::lifecycle::{HookOutcome, Propagation};
use ec2_ddns_core::registrar::Totals;
use ec2_ddns_core::summary::{Outcome, Summary};
use std::collections::BTreeMap;

/// What an invocation was asked: the `Kind` dimension of `Events`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// An EC2 instance state-change notification.
    StateChange,
    /// A tag change on an instance.
    TagChange,
    /// An Auto Scaling lifecycle action (launch or terminate).
    Lifecycle,
    /// An ECS task state change.
    Task,
    /// The schedule's event: the full reconcile.
    Scheduled,
    /// A request to the DDNS endpoint.
    Ddns,
    /// Anything else: an event about no instance, or not an event at all.
    Other,
}

impl Kind {
    /// As the metric's dimension spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::StateChange => "state-change",
            Kind::TagChange => "tag-change",
            Kind::Lifecycle => "lifecycle",
            Kind::Task => "task",
            Kind::Scheduled => "scheduled",
            Kind::Ddns => "ddns",
            Kind::Other => "other",
        }
    }

    /// The kind of an instance event.
    pub fn of(event: &InstanceEvent) -> Kind {
        if event.is_tag_change() {
            Kind::TagChange
        } else if event.lifecycle().is_some() {
            Kind::Lifecycle
        } else {
            Kind::StateChange
        }
    }
}

/// The outcome of work made of several summaries (a reconcile, a DDNS
/// request naming several hosts): the most serious; nothing to do when
/// there was nothing.
pub fn most_serious(outcomes: impl IntoIterator<Item = Outcome>) -> Outcome {
    outcomes.into_iter().min().unwrap_or(Outcome::NothingToDo)
}

/// The counts of one invocation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Events handled, by kind and outcome (an SQS batch: one per message,
    /// by the kind of event it carries).
    pub events: BTreeMap<(Kind, Outcome), usize>,
    /// Records created and deleted, every source (the registrar never sends
    /// UPSERT; a DDNS answer counts what it changed).
    pub records_created: usize,
    pub records_deleted: usize,
    /// Wanted records held by someone else, and names never writable.
    pub conflicts: usize,
    pub rejections: usize,
    /// Subjects (or a whole reconcile, a DDNS update) that failed with an
    /// error a retry may fix.
    pub retryable_failures: usize,
    /// Records a scheduled reconcile created or deleted: each one an event
    /// lost, or a record changed behind the function's back.
    pub reconcile_repairs: usize,
    /// Member accounts that could not be read (the organization mode): an
    /// event's whose role could not be assumed, or a reconcile's places.
    pub members_unreachable: usize,
    /// DDNS answers by word (`good`, `badauth`, …), and how many refused
    /// the caller ([`Answer::is_refusal`]).
    pub ddns_requests: BTreeMap<&'static str, usize>,
    pub ddns_refusals: usize,
    /// Lifecycle actions by what became of them (`CONTINUE`, `ABANDON`,
    /// `NotWaiting`, `Retry`, `Error`): the `LifecycleHooks` metric.
    pub hooks: BTreeMap<&'static str, usize>,
    /// How long each wait for Route 53's `INSYNC` took, when it got there
    /// (`DDNS_WAIT_INSYNC`): the `TimeToInsync` metric.
    pub insync_waits: Vec<std::time::Duration>,
    /// AWS calls by operation (every attempt), and the throttled ones.
    pub aws_calls: BTreeMap<String, usize>,
    pub throttled: BTreeMap<String, usize>,
    /// The first invocation of the process.
    pub cold_start: bool,
}

impl Tally {
    /// One event handled.
    pub fn event(&mut self, kind: Kind, outcome: Outcome) {
        *self.events.entry((kind, outcome)).or_default() += 1;
    }

    /// What one summary did: its record changes, conflicts, rejections,
    /// and a retryable failure.
    pub fn summary(&mut self, summary: &Summary) {
        let deleted = summary
            .changes
            .iter()
            .filter(|c| c.action == ChangeAction::Delete)
            .count();
        self.records_deleted += deleted;
        self.records_created += summary.changes.len() - deleted;
        self.conflicts += summary.conflicts.len();
        self.rejections += summary.rejected.len();
        if summary.outcome == Outcome::Error && summary.retryable == Some(true) {
            self.retryable_failures += 1;
        }
        self.members_unreachable += usize::from(summary.member_unreachable);
    }

    /// A failure with no summary (the invocation fails, or a reconcile's
    /// listing did): counted when a retry may fix it.
    pub fn failure(&mut self, error: &Error) {
        if error.is_retryable() {
            self.retryable_failures += 1;
        }
        self.members_unreachable += usize::from(matches!(error, Error::MemberUnreachable { .. }));
    }

    /// A reconcile's totals (its summaries are counted one by one): what it
    /// repaired, and the calls it took from the log for its own report.
    pub fn reconciled(&mut self, totals: &Totals) {
        self.reconcile_repairs += totals.records_created + totals.records_deleted;
        self.members_unreachable += totals.unreachable_places;
        if let Some(calls) = &totals.aws_calls_by_operation {
            self.calls(calls.clone());
        }
    }

    /// What became of one lifecycle action (a failure to complete it for
    /// good is its own `Result`, `Error`: the hook's timeout decides then).
    pub fn hook(&mut self, outcome: &HookOutcome) {
        *self.hooks.entry(outcome.as_str()).or_default() += 1;
    }

    /// How a wait for Route 53's `INSYNC` ended: its time, when it got
    /// there (a wait cut short says nothing of Route 53's time).
    pub fn propagation(&mut self, propagation: Option<&Propagation>) {
        if let Some(Propagation::InSync { waited, .. }) = propagation {
            self.insync_waits.push(*waited);
        }
    }

    /// One answer of the DDNS endpoint.
    pub fn answer(&mut self, answer: &Answer) {
        *self.ddns_requests.entry(answer.word()).or_default() += 1;
        self.ddns_refusals += usize::from(answer.is_refusal());
        self.retryable_failures += usize::from(answer.outcome() == Outcome::Error);
    }

    /// Calls taken from the call log.
    pub fn calls(&mut self, counts: BTreeMap<String, usize>) {
        for (operation, n) in counts {
            *self.aws_calls.entry(operation).or_default() += n;
        }
    }

    /// Throttles taken from the call log.
    pub fn throttles(&mut self, counts: BTreeMap<String, usize>) {
        for (operation, n) in counts {
            *self.throttled.entry(operation).or_default() += n;
        }
    }

    pub fn events_total(&self) -> usize {
        self.events.values().sum()
    }

    pub fn aws_calls_total(&self) -> usize {
        self.aws_calls.values().sum()
    }

    /// Throttles Route 53 answered (its operations are `route53:…`).
    pub fn route53_throttles(&self) -> usize {
        self.throttled
            .iter()
            .filter(|(operation, _)| operation.starts_with("route53:"))
            .map(|(_, n)| n)
            .sum()
    }

    pub fn ddns_requests_total(&self) -> usize {
        self.ddns_requests.values().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ec2_ddns_core::ddns::endpoint::Outcome as Ddns;

    #[test]
    fn the_outcome_of_several_is_the_most_serious_and_of_none_nothing_to_do() {
        let table = [
            (vec![], Outcome::NothingToDo),
            (
                vec![Outcome::Applied, Outcome::NothingToDo],
                Outcome::Applied,
            ),
            (vec![Outcome::Applied, Outcome::Conflict], Outcome::Conflict),
            (vec![Outcome::Rejected, Outcome::Error], Outcome::Error),
        ];
        for (outcomes, want) in table {
            assert_eq!(most_serious(outcomes.clone()), want, "{outcomes:?}");
        }
    }

    #[test]
    fn answers_count_by_word_refusals_and_failures() {
        let mut tally = Tally::default();
        for answer in [
            Answer::Host(Ddns::Set("203.0.113.7".parse().unwrap())),
            Answer::Host(Ddns::BadAuth("bad hash")),
            Answer::Host(Ddns::Replay),
            Answer::Host(Ddns::Failed("throttled".into())),
            Answer::Unreadable,
        ] {
            tally.answer(&answer);
        }
        assert_eq!(
            tally.ddns_requests,
            [("good", 1), ("badauth", 2), ("911", 1), ("refused", 1)].into()
        );
        assert_eq!(tally.ddns_requests_total(), 5);
        assert_eq!(tally.ddns_refusals, 3);
        assert_eq!(tally.retryable_failures, 1);
    }

    #[test]
    fn only_route53s_throttles_are_route53_throttles() {
        let mut tally = Tally::default();
        tally.throttles(
            [
                ("route53:ChangeResourceRecordSets".to_string(), 2),
                ("route53:ListHostedZones".to_string(), 1),
                ("dynamodb:PutItem".to_string(), 4),
            ]
            .into(),
        );
        tally.throttles([("route53:ChangeResourceRecordSets".to_string(), 1)].into());
        assert_eq!(tally.route53_throttles(), 4);
    }
}
