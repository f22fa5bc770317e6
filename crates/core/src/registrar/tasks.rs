//! ECS tasks as a source of subjects: a task state change is a hint to
//! converge that task to its live state, as an instance's state change is
//! (`docs/convergence.md`). The tasks of a batch are described together
//! (one DescribeTasks per cluster and 100 tasks, unless the event says the
//! task is stopping: a task never runs again), their items read together,
//! their intent decided by `plan::task`, and the one engine converges them
//! under the key `task#ARN`, beside the batch's instances, with the same
//! book, write-ahead, compare-and-swap and settling as an instance's
//! records.

use super::book::{Book, Cause};
use super::events::{done_with, failure};
use super::read::Surroundings;
use super::subject::{Subject, Wants};
use super::together::Converged;
use super::Registrar;
use crate::error::{Error, Result};
use crate::event::TaskEvent;
use crate::model::{InstanceFacts, RegistryItem, RegistryKey, TaskFacts};
use crate::plan::task::{default_label, task_intent};
use crate::plan::{DefaultName, Intent};
use crate::ports::{Dns, Instances, Registry, Tasks};
use crate::summary::Summary;
use futures_util::future::join_all;
use std::collections::{BTreeMap, BTreeSet};
use tokio::time::Instant;
use tracing::info;

impl<E: Instances + Sync, D: Dns + Sync, R: Registry + Sync> Registrar<E, D, R> {
    /// Converges the task `event` names to its live state, as `tasks`
    /// describes it: the batch path with one task event. `Err` only for
    /// failures; conflicts and rejections are part of a successful
    /// summary.
    pub async fn handle_task<T: Tasks + Sync>(
        &self,
        tasks: &T,
        event: &TaskEvent,
    ) -> Result<Summary> {
        let (_, done) = self.converge_batch(&[], tasks, &[event], None).await;
        let summary = done.into_iter().next().map_or_else(
            || Ok(Summary::of_task(event)),
            |c| c.into_result().map(|s| self.finished(s)),
        )?;
        info!(
            task = %event.task_arn,
            status = %event.last_status,
            outcome = summary.outcome.as_str(),
            changes = summary.changes.len(),
            conflicts = summary.conflicts.len(),
            "task event handled"
        );
        Ok(summary)
    }

    /// Converges the tasks `events` name, together; one summary per event,
    /// in order (buffered mode's batches of task events alone; a batch of
    /// both kinds goes to [`Registrar::handle_batch`]).
    pub async fn handle_tasks<T: Tasks + Sync>(
        &self,
        tasks: &T,
        events: &[&TaskEvent],
        deadline: Option<Instant>,
    ) -> Vec<Summary> {
        self.handle_batch(&[], tasks, events, deadline).await.1
    }

    /// Subjects for the task events of a batch, the `j`-th tagged
    /// `offset + j` in the engine; the events decided here (nothing
    /// registered, held, failed, not covered) get their result in
    /// `results[j]` (so tagged too).
    pub(super) async fn gather_tasks<T: Tasks + Sync>(
        &self,
        tasks: &T,
        events: &[&TaskEvent],
        offset: usize,
        results: &mut [Option<Converged>],
    ) -> Vec<Subject> {
        let mut work: Vec<usize> = Vec::new();
        let mut named: BTreeSet<&str> = BTreeSet::new();
        for (j, event) in events.iter().enumerate() {
            let summary = Summary::of_task(event);
            let done = if !self.config.tasks {
                summary.note("ECS tasks are not converged (DDNS_TASKS=false): nothing to do")
            } else if !tasks.covered() {
                summary.note("no ECS client here, so tasks are not converged: nothing to do")
            } else if !named.insert(event.task_arn.as_str()) {
                summary
                    .note("another event of this task in the batch speaks for it: converged once")
            } else {
                work.push(j);
                continue;
            };
            results[j] = Some(done_with(offset + j, done));
        }
        if work.is_empty() {
            return Vec::new();
        }

        // Described (unless stopping) while their items are read.
        let mut by_cluster: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for j in work.iter().filter(|j| !events[**j].is_final()) {
            by_cluster
                .entry(events[*j].cluster_arn.as_str())
                .or_default()
                .push(events[*j].task_arn.clone());
        }
        let keys: Vec<RegistryKey> = work
            .iter()
            .map(|j| RegistryKey::task(&events[*j].task_arn))
            .collect();
        let describe =
            join_all(by_cluster.iter().map(|(cluster, arns)| async move {
                (*cluster, tasks.tasks_in(cluster, arns).await)
            }));
        let (items, described) = tokio::join!(self.registry.load_many(&keys), describe);
        let mut live: BTreeMap<String, TaskFacts> = BTreeMap::new();
        let mut unreadable: BTreeMap<&str, Error> = BTreeMap::new();
        for (cluster, found) in described {
            match found {
                Ok(found) => live.extend(found.into_iter().map(|t| (t.task_arn.clone(), t))),
                Err(e) => {
                    unreadable.insert(cluster, e);
                }
            }
        }
        let mut items: BTreeMap<String, RegistryItem> = match items {
            Ok(items) => items
                .into_iter()
                .filter_map(|i| Some((i.key.task_arn()?.to_string(), i)))
                .collect(),
            Err(e) => {
                for j in &work {
                    let summary = Summary::of_task(events[*j]);
                    results[*j] = Some(failure(offset + j, summary, e.clone()));
                }
                return Vec::new();
            }
        };

        let mut intents: Vec<(usize, Summary, Intent, Option<&TaskFacts>)> = Vec::new();
        for j in work {
            let (k, event) = (offset + j, events[j]);
            if let Some(e) = unreadable.get(event.cluster_arn.as_str()) {
                results[j] = Some(failure(k, Summary::of_task(event), e.clone()));
                continue;
            }
            let found = live.get(&event.task_arn);
            let mut summary = Summary::of_task(event).note(format!(
                "the event says {} (desired {}){}",
                event.last_status,
                event.desired_status,
                found
                    .map(|t| format!(
                        "; ECS says {} (desired {})",
                        t.last_status, t.desired_status
                    ))
                    .unwrap_or_default()
            ));
            if let Some(foreign) = items.get(&event.task_arn).and_then(|i| i.replaces.as_ref()) {
                summary.notes.push(foreign.note());
            }
            let intent = match event.is_final() {
                true => Intent::Deregister(format!("the task is {}", event.last_status)),
                false => task_intent(found),
            };
            intents.push((j, summary, intent, found));
        }
        let surroundings = Surroundings::of_registrations(self, intents.iter().map(|i| &i.2)).await;
        let mut subjects = Vec::new();
        for (j, summary, intent, found) in intents {
            let (k, event) = (offset + j, events[j]);
            let key = RegistryKey::task(&event.task_arn);
            let item = items.remove(&event.task_arn);
            let cause = Cause {
                key,
                event_id: &event.event_id,
                time: event.time,
                state: None,
            };
            match intent {
                Intent::Hold(why) => results[j] = Some(done_with(k, summary.note(why))),
                Intent::Deregister(why) => match item {
                    Some(item) => {
                        let summary = summary.note(format!("{why}: deleting what it owns"));
                        let book = Book::open(cause, Some(item));
                        subjects.push(Subject::new(book, summary, Wants::Nothing, k));
                    }
                    None => {
                        let summary =
                            summary.note(format!("{why}: no records registered for this task"));
                        results[j] = Some(done_with(k, summary));
                    }
                },
                Intent::Register(facts) => {
                    let label = found.and_then(|task| self.task_label(task));
                    let registering = Registering {
                        facts: &facts,
                        label: label.as_deref(),
                        cause,
                        item,
                        summary,
                        tag: k,
                    };
                    match self.task_registration(&surroundings, registering) {
                        Ok(subject) => subjects.push(subject),
                        Err(failed) => {
                            let (summary, e) = *failed;
                            results[j] = Some(failure(k, summary, e));
                        }
                    }
                }
            }
        }
        subjects
    }

    /// The subject of a task to register: its targets by its tags, else
    /// its default label; the summary back with the failure when its VPC
    /// or zones could not be read.
    pub(super) fn task_registration(
        &self,
        surroundings: &Surroundings,
        r: Registering<'_>,
    ) -> std::result::Result<Subject, Box<(Summary, Error)>> {
        let default_name = match r.label {
            Some(label) => DefaultName::Label(label),
            None => DefaultName::Nothing,
        };
        match surroundings.targets_named(&self.config, r.facts, default_name) {
            Ok(targets) => {
                let mut book = Book::open(r.cause, r.item);
                book.facts(r.facts);
                let subject =
                    Subject::new(book, r.summary, Wants::Instance(Box::new(targets)), r.tag);
                Ok(subject.launched(r.facts.launch_time))
            }
            Err(e) => Err(Box::new((r.summary, e))),
        }
    }

    /// The task's default host label, from `DDNS_TASK_DEFAULT_NAME`.
    pub(super) fn task_label(&self, task: &TaskFacts) -> Option<String> {
        let template = self.config.task_default_name.as_deref()?;
        default_label(template, task)
    }
}

/// A running task about to become a subject.
pub(super) struct Registering<'a> {
    /// Its facts in the planner's form (`plan::task::task_facts`).
    pub facts: &'a InstanceFacts,
    /// Its default host label, when `DDNS_TASK_DEFAULT_NAME` gives one.
    pub label: Option<&'a str>,
    pub cause: Cause<'a>,
    pub item: Option<RegistryItem>,
    pub summary: Summary,
    /// Its source's index for it (`Subject::tag`).
    pub tag: usize,
}
