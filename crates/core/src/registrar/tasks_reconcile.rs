//! The reconcile's ECS part: every task ECS runs, and every item of a task,
//! converged in the same pass as the instances (`reconcile.rs`), so a lost
//! stop is repaired and a task and an instance that want one name meet in
//! one plan.
//!
//! 1. **List** every running task (`Tasks::all_tasks`: ListClusters,
//!    ListTasks, DescribeTasks 100 at a time, DescribeNetworkInterfaces).
//! 2. **Describe** the tasks of items the listing did not show, by cluster
//!    (the cluster is read from the task's ARN): a task stopped within the
//!    hour is still described (STOPPED), one ECS has forgotten is not.
//! 3. Each is converged by its live state (`plan::task::task_intent`): the
//!    records of a task gone, stopped or without a network interface go.
//!
//! A listing ECS refuses (no permission, throttled) or a cluster whose
//! tasks cannot be described leaves the items of those tasks alone, with
//! a warning: a task that cannot be read is not a task that is gone.

use super::book::{Book, Cause};
use super::read::Surroundings;
use super::subject::{Subject, Wants};
use super::tasks::Registering;
use super::together::failed;
use super::Registrar;
use crate::ids::cluster_arn_of_task;
use crate::model::{RegistryItem, RegistryKey, TaskFacts};
use crate::plan::task::task_intent;
use crate::plan::Intent;
use crate::ports::{Dns, Instances, Registry, Tasks};
use crate::summary::Summary;
use std::collections::{BTreeMap, BTreeSet};

/// What the reconcile found of ECS tasks.
#[derive(Default)]
pub(super) struct TasksFound {
    pub intents: Vec<TaskIntent>,
    /// Tasks ECS listed running.
    pub seen: usize,
}

/// One task the reconcile looked at (listed, or with an item left): what
/// its live state asks for.
pub(super) struct TaskIntent {
    pub task_arn: String,
    pub item: Option<RegistryItem>,
    pub intent: Intent,
    /// Its default host label (`DDNS_TASK_DEFAULT_NAME`), when it runs.
    pub label: Option<String>,
}

impl<E: Instances + Sync, D: Dns + Sync, R: Registry + Sync> Registrar<E, D, R> {
    /// Lists the tasks and pairs them with `items` (the items of tasks, as
    /// the reconcile's scan partitioned them);
    /// nothing when tasks are not covered (`DDNS_TASKS=false`, or no ECS
    /// client), and then the items are left alone.
    pub(super) async fn reconcile_tasks<T: Tasks + Sync>(
        &self,
        tasks: &T,
        items: Vec<RegistryItem>,
        warnings: &mut Vec<String>,
    ) -> TasksFound {
        if !self.config.tasks || !tasks.covered() {
            return TasksFound::default();
        }
        let listing = match tasks.all_tasks().await {
            Ok(listing) => listing,
            Err(e) => {
                warnings.push(format!(
                    "ECS tasks left alone this time ({} items of tasks untouched): {e}",
                    items.len()
                ));
                return TasksFound::default();
            }
        };
        for why in &listing.unreadable {
            warnings.push(format!("ECS task left alone: {why}"));
        }
        let seen = listing.tasks.len();
        let mut live: BTreeMap<String, TaskFacts> = listing
            .tasks
            .into_iter()
            .map(|t| (t.task_arn.clone(), t))
            .collect();
        // Items ec2-ddns did not write under a task's key are not touched.
        let mut ours: BTreeMap<String, RegistryItem> = BTreeMap::new();
        for item in items {
            match &item.replaces {
                Some(foreign) => warnings.push(format!(
                    "{} left alone by the reconcile: {}",
                    item.key,
                    foreign.note()
                )),
                None => {
                    if let Some(arn) = item.key.task_arn() {
                        ours.insert(arn.to_string(), item);
                    }
                }
            }
        }
        let mut items = ours;
        // The items' tasks not listed: described, by cluster.
        let mut unlisted: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for arn in items.keys().filter(|arn| !live.contains_key(*arn)) {
            match cluster_arn_of_task(arn) {
                Some(cluster) => unlisted.entry(cluster).or_default().push(arn.clone()),
                None => warnings.push(format!(
                    "{arn}: a task ARN that names no cluster; its item is left alone"
                )),
            }
        }
        let mut unreadable: BTreeSet<String> = BTreeSet::new();
        for (cluster, arns) in &unlisted {
            match tasks.tasks_in(cluster, arns).await {
                Ok(found) => live.extend(found.into_iter().map(|t| (t.task_arn.clone(), t))),
                Err(e) => {
                    warnings.push(format!(
                        "the tasks of {} items in {cluster} left alone: {e}",
                        arns.len()
                    ));
                    unreadable.extend(arns.iter().cloned());
                }
            }
        }
        let listed_or_described: BTreeSet<String> = live.keys().cloned().collect();
        let mut intents: Vec<TaskIntent> = Vec::new();
        for (task_arn, item) in items
            .iter()
            .filter(|(arn, _)| !listed_or_described.contains(*arn) && !unreadable.contains(*arn))
        {
            intents.push(TaskIntent {
                task_arn: task_arn.clone(),
                item: Some(item.clone()),
                intent: task_intent(None),
                label: None,
            });
        }
        for (task_arn, task) in live {
            let item = items.remove(&task_arn);
            intents.push(TaskIntent {
                label: self.task_label(&task),
                intent: task_intent(Some(&task)),
                item,
                task_arn,
            });
        }
        TasksFound { intents, seen }
    }

    /// The reconcile's subjects for `intents`, into `subjects`; a task
    /// whose VPC or zones could not be read fails alone, into
    /// `unreachable`.
    pub(super) fn task_subjects(
        &self,
        intents: Vec<TaskIntent>,
        surroundings: &Surroundings,
        event_id: &str,
        subjects: &mut Vec<Subject>,
        unreachable: &mut Vec<Summary>,
    ) {
        for one in intents {
            let key = RegistryKey::task(&one.task_arn);
            let summary = Summary::reconciled(event_id, &key.to_string());
            let cause = Cause {
                key,
                event_id,
                time: None,
                state: None,
            };
            match (one.intent, one.item) {
                (Intent::Register(facts), item) => {
                    let registering = Registering {
                        facts: &facts,
                        label: one.label.as_deref(),
                        cause,
                        item,
                        summary,
                        tag: 0,
                    };
                    match self.task_registration(surroundings, registering) {
                        Ok(subject) => subjects.push(subject),
                        Err(why) => {
                            let (summary, e) = *why;
                            unreachable.push(failed(summary, &e));
                        }
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
    }
}
