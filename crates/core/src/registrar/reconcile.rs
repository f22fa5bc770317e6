//! The full reconcile: every instance of the region and every registry item
//! converged at once, by the same planner an event uses
//! (`docs/convergence.md`). A schedule runs it in the Lambda
//! function, and `ec2-ddns reconcile` from the command line.
//!
//! 1. **List**: every instance (pages of 1,000), every registry item (a
//!    scan), then every zone an instance wants or an item lists, each once.
//! 2. **Converge them together** in the engine (`together.rs`), every
//!    zone they touch listed whole: ordered by claim (deregistrations
//!    first, then the earliest launched, so that among several claimants
//!    of a free name the earliest gets it, and a later one is told it is
//!    held), settled, planned, written ahead, sent merged per zone,
//!    finished; every other source shares this.

use super::book::{Book, Cause};
use super::read::{Reads, Surroundings};
use super::subject::{Subject, Wants};
use super::together::{failed, Converged};
use super::Registrar;
use crate::error::Result;
use crate::event::is_instance_id;
use crate::model::{InstanceFacts, InstanceState, Place, RegistryItem, RegistryKey, ZoneId};
use crate::plan::{self, ChangeAction, Intent};
use crate::ports::{Dns, Instances, NoTasks, Registry, Tasks};
use crate::summary::{Outcome, Summary};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use tracing::info;

/// What a reconcile did, in numbers: the last line of its output.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Always `"reconcile"`, so the line is told from an instance's.
    pub totals: &'static str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub dry_run: bool,
    /// Instances EC2 listed.
    pub instances_seen: usize,
    /// Registry items of instances (those of other keys are left alone).
    pub items_seen: usize,
    /// ECS tasks listed running (none when tasks are not covered).
    #[serde(skip_serializing_if = "is_zero")]
    pub tasks_seen: usize,
    /// Instances with at least one record created or deleted.
    pub changed: usize,
    /// Wanted records held by someone else, over all instances.
    pub conflicts: usize,
    pub records_created: usize,
    pub records_deleted: usize,
    /// ChangeResourceRecordSets calls that changed records.
    pub change_batches: usize,
    /// Instances whose convergence failed (the next reconcile tries again),
    /// and places that could not be reconciled (the organization mode).
    pub errors: usize,
    /// Places reconciled besides the deployment's own (the organization
    /// mode).
    #[serde(skip_serializing_if = "is_zero")]
    pub places: usize,
    /// Places whose role could not be assumed or whose listing failed.
    #[serde(skip_serializing_if = "is_zero")]
    pub unreachable_places: usize,
    /// AWS calls per operation, when the clients count them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws_calls: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws_calls_by_operation: Option<BTreeMap<String, usize>>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The outcome of a reconcile: a summary per instance it looked at, the
/// totals, and what it left alone and why.
#[derive(Debug, Clone)]
pub struct Reconciled {
    pub summaries: Vec<Summary>,
    pub totals: Totals,
    pub warnings: Vec<String>,
}

impl Reconciled {
    /// The summaries worth a line: instances changed, in conflict, with a
    /// rejected name, in error, or with a warning (a record that vanished or
    /// that two items claimed is let go).
    pub fn reported(&self) -> impl Iterator<Item = &Summary> {
        self.summaries
            .iter()
            .filter(|s| s.outcome != Outcome::NothingToDo || !s.warnings.is_empty())
    }
}

impl<E: Instances + Sync, D: Dns + Sync, R: Registry + Sync> Registrar<E, D, R> {
    /// Converges every instance of the region and every registry item.
    /// `Err` only when the listing fails; an instance that fails is
    /// counted in `errors`, and the rest go on.
    pub async fn reconcile(&self, event_id: &str) -> Result<Reconciled> {
        self.reconcile_until(event_id, None).await
    }

    /// [`Registrar::reconcile`] without ECS: the items of tasks are left
    /// alone (a caller with no ECS client cannot tell a task gone).
    pub async fn reconcile_until(
        &self,
        event_id: &str,
        deadline: Option<tokio::time::Instant>,
    ) -> Result<Reconciled> {
        self.reconcile_with(&NoTasks, event_id, deadline).await
    }

    /// [`Registrar::reconcile`], sending no change after `deadline`: the
    /// instances left are reported failed (retryable) and nothing is left
    /// half-done.
    ///
    /// One pass converges every instance; a second follows only when the
    /// first left an instance in conflict over a name another instance's
    /// changes in that pass freed or took (a name handed over between
    /// instances with equal records: one gives its PTR up after the other
    /// reads it held), so that one reconcile leaves what the live state
    /// wants (found by the concurrent property test, seed 0x10).
    ///
    /// ECS tasks are converged in the same pass when `tasks` covers them
    /// and `DDNS_TASKS` is on (`reconcile_tasks`): a listing ECS refuses
    /// is a warning, and the items of tasks are then left alone.
    pub async fn reconcile_with<T: Tasks + Sync>(
        &self,
        tasks: &T,
        event_id: &str,
        deadline: Option<tokio::time::Instant>,
    ) -> Result<Reconciled> {
        if let Some(calls) = &self.calls {
            calls.take();
        }
        let mut pass = self.reconcile_pass(tasks, event_id, deadline).await?;
        if !self.dry_run && another_pass_helps(&pass.summaries) {
            let again = self.reconcile_pass(tasks, event_id, deadline).await?;
            pass = pass.then(again);
        }
        let mut done = self.reconciled(
            pass.summaries,
            pass.batches_sent,
            pass.instances_seen,
            pass.items_seen,
            pass.warnings,
        );
        done.totals.tasks_seen = pass.tasks_seen;
        Ok(done)
    }

    /// One pass of the reconcile: every instance listed and every item.
    async fn reconcile_pass<T: Tasks + Sync>(
        &self,
        tasks: &T,
        event_id: &str,
        deadline: Option<tokio::time::Instant>,
    ) -> Result<Pass> {
        let gathered = self.gather_pass(tasks, event_id, None).await?;
        Ok(self.converge_gathered(gathered, deadline).await)
    }

    /// The first half of a pass: this registrar's place's instances,
    /// tasks and items, listed, as subjects (the summaries of those that
    /// could not be read apart). An organization's reconcile gathers every
    /// place so, then converges them all together (`organization.rs`),
    /// each from the one scan it made (`scanned`; `None`: scan here).
    pub(super) async fn gather_pass<T: Tasks + Sync>(
        &self,
        tasks: &T,
        event_id: &str,
        scanned: Option<Vec<RegistryItem>>,
    ) -> Result<Gathered> {
        let mut warnings = Vec::new();
        // Items first, instances second: an item the scan sees belongs to
        // an instance launched before the listing, so the listing shows it
        // unless it is gone (and each one missing is described to be sure).
        let items = match scanned {
            Some(items) => items,
            None => self.registry.all().await?,
        };
        let (task_items, items): (Vec<RegistryItem>, Vec<RegistryItem>) =
            items.into_iter().partition(|i| i.key.task_arn().is_some());
        // Another place's items of tasks are its own reconcile's.
        let task_items = task_items
            .into_iter()
            .filter(|i| i.key.task_arn().is_some_and(|arn| self.holds_task(arn)))
            .collect();
        let tasks_found = self.reconcile_tasks(tasks, task_items, &mut warnings).await;
        let mut listing = self.ec2.all_instances().await?;
        let listed_ids: BTreeSet<String> = listing
            .instances
            .iter()
            .map(|i| i.instance_id.clone())
            .collect();
        for item in &items {
            let Some(id) = self.own_instance(&item.key) else {
                continue;
            };
            if !listed_ids.contains(id) {
                if let Some(found) = self.ec2.instance(id).await? {
                    listing.instances.push(found);
                }
            }
        }

        // Items of instances EC2 listed but could not read are left alone:
        // an instance that cannot be read is not an instance that is gone.
        let unreadable: BTreeSet<&str> = listing
            .unreadable
            .iter()
            .filter_map(|u| u.instance_id.as_deref())
            .collect();
        let anonymous = listing.unreadable.iter().any(|u| u.instance_id.is_none());
        for u in &listing.unreadable {
            warnings.push(format!(
                "instance {} left alone: {}",
                u.instance_id.as_deref().unwrap_or("(no id)"),
                u.why
            ));
        }
        let mut items: BTreeMap<String, RegistryItem> = items
            .into_iter()
            .filter_map(|i| {
                let id = self.own_instance(&i.key)?;
                Some((id.to_string(), i))
            })
            .collect();
        let items_seen = items.len();
        // Items ec2-ddns did not write (the Python function's), or cannot
        // read, are left to the instances' own events, which replace or
        // remove them with a note; the reconcile does not touch them.
        let foreign: BTreeSet<String> = items
            .iter()
            .filter(|(_, i)| i.replaces.is_some())
            .map(|(id, _)| id.clone())
            .collect();
        for id in &foreign {
            if let Some(found) = items.get(id).and_then(|i| i.replaces.as_ref()) {
                warnings.push(format!(
                    "{id} left alone by the reconcile: {}",
                    found.note()
                ));
            }
            items.remove(id);
        }
        let live: Vec<InstanceFacts> = listing
            .instances
            .into_iter()
            .filter(|i| !unreadable.contains(i.instance_id.as_str()))
            .filter(|i| !foreign.contains(&i.instance_id))
            .collect();
        let instances_seen = listed_ids.len() + listing.unreadable.len();
        items.retain(|id, _| !unreadable.contains(id.as_str()));
        let listed: BTreeSet<String> = live.iter().map(|i| i.instance_id.clone()).collect();
        if anonymous {
            warnings.push(
                "EC2 listed an instance without an id: items of instances not listed are left alone this time".into(),
            );
            items.retain(|id, _| listed.contains(id));
        }

        // Who is converged, and to what: the items of instances gone, and
        // every instance listed.
        let mut intents: Vec<InstanceIntent> = Vec::new();
        let gone: Vec<String> = items
            .keys()
            .filter(|id| !listed.contains(*id))
            .cloned()
            .collect();
        for instance_id in gone {
            intents.push(InstanceIntent {
                item: items.remove(&instance_id),
                instance_id,
                live_state: None,
                intent: plan::intent(None, self.config.on_stop),
            });
        }
        for instance in live {
            intents.push(InstanceIntent {
                item: items.remove(&instance.instance_id),
                live_state: Some(instance.state),
                intent: plan::intent(Some(&instance), self.config.on_stop),
                instance_id: instance.instance_id,
            });
        }
        let surroundings = Surroundings::of_registrations(
            self,
            intents
                .iter()
                .map(|one| &one.intent)
                .chain(tasks_found.intents.iter().map(|one| &one.intent)),
        )
        .await;
        let mut subjects: Vec<Subject> = Vec::new();
        let mut unreachable: Vec<Summary> = Vec::new();
        self.task_subjects(
            tasks_found.intents,
            &surroundings,
            event_id,
            &mut subjects,
            &mut unreachable,
        );
        for one in intents {
            let id = one.instance_id;
            let cause = Cause {
                key: self.instance_key(&id),
                event_id,
                time: None,
                state: one.live_state,
            };
            let mut summary = Summary::reconciled(event_id, &id);
            summary.live_state = one.live_state;
            match (one.intent, one.item) {
                (Intent::Register(facts), item) => {
                    // A VPC or its zones that cannot be read fail this
                    // instance alone; the rest go on.
                    match surroundings.targets(&self.config, &facts) {
                        Ok(targets) => {
                            let mut book = Book::open(cause, item);
                            book.facts(&facts);
                            let subject =
                                Subject::new(book, summary, Wants::Instance(Box::new(targets)), 0);
                            subjects.push(subject.launched(facts.launch_time));
                        }
                        Err(e) => unreachable.push(failed(summary, &e)),
                    }
                }
                (Intent::Deregister(why), Some(item)) => {
                    let summary = summary.note(format!("{why}: deleting what it owns"));
                    let book = Book::open(cause, Some(item));
                    subjects.push(Subject::new(book, summary, Wants::Nothing, 0));
                }
                (Intent::Deregister(_) | Intent::Hold(_), _) => {}
            }
        }

        // Each summary says where its subject lives (the organization
        // mode converges several places' subjects together).
        for s in subjects
            .iter_mut()
            .map(|s| &mut s.summary)
            .chain(&mut unreachable)
        {
            s.place = self.place.clone();
        }
        Ok(Gathered {
            subjects,
            unreachable,
            instances_seen,
            items_seen,
            tasks_seen: tasks_found.seen,
            warnings,
        })
    }

    /// The second half of a pass: the subjects gathered converged
    /// together, every zone any of them needs listed whole, once.
    pub(super) async fn converge_gathered(
        &self,
        gathered: Gathered,
        deadline: Option<tokio::time::Instant>,
    ) -> Pass {
        let Gathered {
            mut subjects,
            unreachable,
            instances_seen,
            items_seen,
            tasks_seen,
            warnings,
        } = gathered;
        disown_double_claims(&mut subjects);
        let done = self
            .converge_subjects(subjects, Reads::WholeZones, deadline)
            .await;
        let summaries = done
            .results
            .into_iter()
            .map(Converged::into_summary)
            .chain(unreachable)
            .collect();
        Pass {
            summaries,
            batches_sent: done.batches_sent,
            instances_seen,
            items_seen,
            tasks_seen,
            warnings,
        }
    }

    /// The instance id of an item of this registrar's place; `None` for
    /// any other item (a host's, a task's, another place's instance's).
    fn own_instance<'k>(&self, key: &'k RegistryKey) -> Option<&'k str> {
        key.instance_id_at(self.place.as_ref())
            .filter(|id| is_instance_id(id))
    }

    /// Whether the task `arn` names is of this registrar's place: its
    /// account and region, from the ARN. Without a known home account
    /// (one account, no organization mode) every task is the home's.
    fn holds_task(&self, arn: &str) -> bool {
        let Some((region, account)) = crate::event::task_arn_place(arn) else {
            return self.place.is_none();
        };
        match (&self.place, &self.home_account) {
            (Some(place), _) => place.account == account && place.region == region,
            (None, Some(home)) => home == account && self.region == region,
            (None, None) => true,
        }
    }

    pub(super) fn reconciled(
        &self,
        summaries: Vec<Summary>,
        change_batches: usize,
        instances_seen: usize,
        items_seen: usize,
        warnings: Vec<String>,
    ) -> Reconciled {
        let mut totals = Totals {
            totals: "reconcile",
            dry_run: self.dry_run,
            instances_seen,
            items_seen,
            change_batches,
            ..Totals::default()
        };
        for s in &summaries {
            let created = s
                .changes
                .iter()
                .filter(|c| c.action != ChangeAction::Delete)
                .count();
            let deleted = s.changes.len() - created;
            totals.records_created += created;
            totals.records_deleted += deleted;
            totals.changed += usize::from(!s.changes.is_empty());
            totals.conflicts += s.conflicts.len();
            totals.errors += usize::from(s.outcome == Outcome::Error);
        }
        if let Some(calls) = &self.calls {
            let counts = calls.take();
            totals.aws_calls = Some(counts.values().sum());
            totals.aws_calls_by_operation = Some(counts);
        }
        info!(
            instances = totals.instances_seen,
            changed = totals.changed,
            conflicts = totals.conflicts,
            errors = totals.errors,
            "reconcile done"
        );
        Reconciled {
            summaries,
            totals,
            warnings,
        }
    }
}

/// What one place's part of a reconcile pass gathered: its subjects, the
/// summaries of those that could not be read, its counts and warnings.
#[derive(Default)]
pub(super) struct Gathered {
    pub subjects: Vec<Subject>,
    pub unreachable: Vec<Summary>,
    pub instances_seen: usize,
    pub items_seen: usize,
    pub tasks_seen: usize,
    pub warnings: Vec<String>,
}

impl Gathered {
    /// Another place's gathering beside this one's.
    pub fn absorb(&mut self, other: Gathered) {
        self.subjects.extend(other.subjects);
        self.unreachable.extend(other.unreachable);
        self.instances_seen += other.instances_seen;
        self.items_seen += other.items_seen;
        self.tasks_seen += other.tasks_seen;
        self.warnings.extend(other.warnings);
    }
}

/// What one pass of the reconcile did.
pub(super) struct Pass {
    pub summaries: Vec<Summary>,
    pub batches_sent: usize,
    pub instances_seen: usize,
    pub items_seen: usize,
    pub tasks_seen: usize,
    pub warnings: Vec<String>,
}

impl Pass {
    /// This pass, then `again`: each instance's changes of both, and what
    /// the second found (conflicts, rejections, outcome).
    pub(super) fn then(self, again: Pass) -> Pass {
        let mut first: BTreeMap<(Option<Place>, String), Summary> = self
            .summaries
            .into_iter()
            .map(|s| ((s.place.clone(), s.instance_id.clone()), s))
            .collect();
        let mut summaries = Vec::new();
        for mut second in again.summaries {
            let key = (second.place.clone(), second.instance_id.clone());
            if let Some(mut before) = first.remove(&key) {
                before.changes.append(&mut second.changes);
                second.changes = before.changes;
                for note in before.notes.into_iter().rev() {
                    if !second.notes.contains(&note) {
                        second.notes.insert(0, note);
                    }
                }
                for warning in before.warnings.into_iter().rev() {
                    if !second.warnings.contains(&warning) {
                        second.warnings.insert(0, warning);
                    }
                }
                if second.outcome == Outcome::NothingToDo && !second.changes.is_empty() {
                    second.outcome = Outcome::Applied;
                }
            }
            summaries.push(second);
        }
        summaries.extend(first.into_values());
        let mut warnings = self.warnings;
        for w in again.warnings {
            if !warnings.contains(&w) {
                warnings.push(w);
            }
        }
        Pass {
            summaries,
            batches_sent: self.batches_sent + again.batches_sent,
            instances_seen: self.instances_seen,
            items_seen: self.items_seen,
            tasks_seen: self.tasks_seen,
            warnings,
        }
    }
}

/// Whether an instance ended in conflict over a name that another
/// instance's changes in the same pass touched: what it read may be gone.
pub(super) fn another_pass_helps(summaries: &[Summary]) -> bool {
    summaries.iter().any(|s| {
        s.conflicts.iter().any(|c| {
            summaries.iter().any(|other| {
                (&other.place, &other.instance_id) != (&s.place, &s.instance_id)
                    && other
                        .changes
                        .iter()
                        .any(|ch| ch.zone_id == c.zone_id && ch.record.name == c.name)
            })
        })
    })
}

/// One instance the reconcile looked at (listed, or gone with an item
/// left): what its live state asks for.
struct InstanceIntent {
    instance_id: String,
    /// EC2's state; `None` for an instance gone.
    live_state: Option<InstanceState>,
    item: Option<RegistryItem>,
    intent: Intent,
}

/// A record two items own can be only one's: one wrote it, a person deleted
/// it, and the other wrote the identical record again (Route 53 compares
/// values, so no one can tell them apart). Neither may delete it on the
/// strength of its value, so both let it go, and it is left to a person.
fn disown_double_claims(subjects: &mut [Subject]) {
    let mut claims: BTreeMap<(ZoneId, String), Vec<usize>> = BTreeMap::new();
    for (i, s) in subjects.iter().enumerate() {
        for o in &s.book.owned {
            claims
                .entry((o.zone_id.clone(), o.record.to_string()))
                .or_default()
                .push(i);
        }
    }
    for ((zone_id, record), who) in claims.into_iter().filter(|(_, w)| w.len() > 1) {
        let ids: Vec<String> = who
            .iter()
            .map(|i| subjects[*i].book.meta.key.to_string())
            .collect();
        for i in who {
            let s = &mut subjects[i];
            s.book
                .owned
                .retain(|o| !(o.zone_id == zone_id && o.record.to_string() == record));
            s.summary.warnings.push(format!(
                "{record} in {zone_id} is claimed by {}: someone deleted it and it was written again identically, so it cannot be told whose it is; no longer owned by either, and left alone (delete it by hand if it is stale)",
                ids.join(" and ")
            ));
        }
    }
}
