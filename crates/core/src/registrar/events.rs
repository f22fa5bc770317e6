//! Events as a source of subjects: one event (direct mode, the CLI, the
//! scenarios) is a batch of one, and an SQS batch (buffered mode) is many.
//! Each event is a hint: the instance is described and its live state
//! decides (`plan::intent`); the event's time never stops a convergence
//! that the live state asks for. What changes with the batch's size is
//! the number of calls:
//!
//! - the items are read (GetItem, or BatchGetItem 100 keys a call) while
//!   the instances are described (DescribeInstances, 200 ids a call):
//!   neither waits for the other; those EC2 does not show ready yet are
//!   described again together;
//! - each VPC's zones and facts are read once, all at once (and the
//!   process cache keeps them warm);
//! - the rest is the engine (`together.rs`).

use super::book::{Book, Cause};
use super::read::{Reads, Surroundings};
use super::subject::{Subject, Wants};
use super::together::Converged;
use super::{not_ready, Registrar, DESCRIBE_ATTEMPTS};
use crate::error::{Error, Result};
use crate::event::{InstanceEvent, TaskEvent};
use crate::model::{InstanceFacts, InstanceState, RegistryItem, RegistryKey};
use crate::plan::{self, Intent};
use crate::ports::{Dns, Instances, NoTasks, Registry, Tasks};
use crate::summary::Summary;
use futures_util::future::join_all;
use std::collections::{BTreeMap, BTreeSet};
use tokio::time::Instant;
use tracing::{info, warn};

impl<E: Instances + Sync, D: Dns + Sync, R: Registry + Sync> Registrar<E, D, R> {
    /// Converges the instance an event names to its live state (the event
    /// is only a hint): the batch path with one event. `Err` only for
    /// failures; conflicts and rejections are part of a successful
    /// summary.
    pub async fn handle(&self, event: &InstanceEvent) -> Result<Summary> {
        let (converged, _) = self.converge_batch(&[event], &NoTasks, &[], None).await;
        let summary = converged.into_iter().next().map_or_else(
            || Ok(Summary::of(event)),
            |c| c.into_result().map(|s| self.finished(s)),
        )?;
        info!(
            instance = %summary.instance_id,
            state = summary.state.map(|s| s.as_str()).unwrap_or(match event.lifecycle() {
                Some(_) => "lifecycle action",
                None => "tag change",
            }),
            live_state = summary.live_state.map(|s| s.as_str()).unwrap_or("-"),
            outcome = summary.outcome.as_str(),
            changes = summary.changes.len(),
            conflicts = summary.conflicts.len(),
            "event handled"
        );
        Ok(summary)
    }

    /// Converges the instances `events` name, together; one summary per
    /// event, in order. An instance that could not be converged has a
    /// summary with outcome `error` (and says whether a retry may help);
    /// the others are not held back by it. Each instance should be named
    /// once (the latest event speaks for it); a second event of the same
    /// instance is answered by the first's convergence. No change is sent
    /// after `deadline`.
    pub async fn handle_many(
        &self,
        events: &[&InstanceEvent],
        deadline: Option<Instant>,
    ) -> Vec<Summary> {
        self.handle_batch(events, &NoTasks, &[], deadline).await.0
    }

    /// [`Registrar::handle_many`] with the batch's ECS task events beside
    /// its instance events (`tasks.rs`), all converged in one pass: their
    /// changes merged per zone, so a batch of any mix makes at most one
    /// change call per zone (within Route 53's limits). One summary per
    /// event, in order, for each kind.
    pub async fn handle_batch<T: Tasks + Sync>(
        &self,
        events: &[&InstanceEvent],
        tasks: &T,
        task_events: &[&TaskEvent],
        deadline: Option<Instant>,
    ) -> (Vec<Summary>, Vec<Summary>) {
        let (instances, tasks) = self
            .converge_batch(events, tasks, task_events, deadline)
            .await;
        let finish = |done: Vec<Converged>| -> Vec<Summary> {
            done.into_iter()
                .map(|c| self.finished(c.into_summary()))
                .collect()
        };
        (finish(instances), finish(tasks))
    }

    pub(super) fn finished(&self, mut summary: Summary) -> Summary {
        summary.dry_run = self.dry_run;
        summary.place = self.place.clone();
        summary
    }

    /// One result per event, in order: the instance events', then the task
    /// events'. Task event `j` is tagged `events.len() + j` in the engine.
    pub(super) async fn converge_batch<T: Tasks + Sync>(
        &self,
        events: &[&InstanceEvent],
        tasks: &T,
        task_events: &[&TaskEvent],
        deadline: Option<Instant>,
    ) -> (Vec<Converged>, Vec<Converged>) {
        let n = events.len();
        let mut results: Vec<Option<Converged>> =
            (0..n + task_events.len()).map(|_| None).collect();
        let mut work: Vec<usize> = Vec::new();
        let mut named: BTreeSet<&str> = BTreeSet::new();
        for (k, event) in events.iter().enumerate() {
            let summary = Summary::of(event);
            let done = if let Some(why) = self.needs_nothing(event) {
                summary.note(why)
            } else if !named.insert(event.instance_id.as_str()) {
                summary.note(
                    "another event of this instance in the batch speaks for it: converged once",
                )
            } else {
                work.push(k);
                continue;
            };
            results[k] = Some(done_with(k, done));
        }
        let (mut subjects, task_subjects) = {
            let (instance_results, task_results) = results.split_at_mut(n);
            tokio::join!(
                self.gather(events, &work, instance_results),
                self.gather_tasks(tasks, task_events, n, task_results)
            )
        };
        subjects.extend(task_subjects);
        let done = self
            .converge_subjects(subjects, Reads::Names, deadline)
            .await;
        for c in done.results {
            let k = c.tag;
            results[k] = Some(c);
        }
        let mut results = results.into_iter();
        let instances = results
            .by_ref()
            .take(n)
            .zip(events)
            .enumerate()
            .map(|(k, (r, e))| r.unwrap_or_else(|| done_with(k, Summary::of(e))))
            .collect();
        let tasks = results
            .zip(task_events)
            .enumerate()
            .map(|(j, (r, e))| r.unwrap_or_else(|| done_with(n + j, Summary::of_task(e))))
            .collect();
        (instances, tasks)
    }

    /// Why an event needs no work at all, when it needs none: a tag change
    /// of tags the registrar does not read, or `pending`.
    fn needs_nothing(&self, event: &InstanceEvent) -> Option<String> {
        if event.is_tag_change() && !self.config.watches_any(event.changed_tags()) {
            Some(format!(
                "none of the tags the registrar reads ({}) changed: nothing to do",
                self.config.tag_keys().map(String::as_str).join(", ")
            ))
        } else if event.state() == Some(InstanceState::Pending) {
            Some("state 'pending' needs nothing: the running event follows".into())
        } else {
            None
        }
    }

    /// Items, descriptions and surroundings of the events in `work`: a
    /// subject for each instance that needs converging, tagged with the
    /// index of its event. Events decided here (nothing registered, held,
    /// failed) get their result in `results`.
    async fn gather(
        &self,
        events: &[&InstanceEvent],
        work: &[usize],
        results: &mut [Option<Converged>],
    ) -> Vec<Subject> {
        if work.is_empty() {
            return Vec::new();
        }
        // `terminated` is final, and so is a terminate lifecycle action
        // (the instance still runs, but its group waits for its name to
        // go): no describe; and (unless a dry run) its item is released in
        // the call that reads it, so that its deletes need no write ahead.
        let terminated = |k: &usize| events[*k].is_final();
        let to_describe: Vec<usize> = work.iter().copied().filter(|k| !terminated(k)).collect();
        let to_release: Vec<usize> = match self.dry_run {
            true => Vec::new(),
            false => work.iter().copied().filter(terminated).collect(),
        };
        let release_keys: Vec<RegistryKey> = to_release
            .iter()
            .map(|k| self.instance_key(&events[*k].instance_id))
            .collect();
        let releases = join_all(to_release.iter().zip(&release_keys).map(|(k, key)| {
            self.registry
                .release(key, &events[*k].event_id, InstanceState::Terminated)
        }));
        let to_load: Vec<String> = work
            .iter()
            .filter(|k| !to_release.contains(k))
            .map(|k| events[*k].instance_id.clone())
            .collect();
        let (items, described, releases) = tokio::join!(
            self.load_items(&to_load),
            self.describe_many(events, &to_describe),
            releases
        );
        let Described { mut live, failures } = described;
        for EventFailure { event: k, error } in failures {
            results[k] = Some(failure(k, Summary::of(events[k]), error));
        }
        // The items that could not be read fail their events; those
        // released go on (their release is in, and only finishing them
        // lists their records as this instance's again).
        let mut items = match items {
            Ok(items) => items,
            Err(e) => {
                for k in work.iter().filter(|k| !to_release.contains(k)) {
                    results[*k] = Some(failure(*k, Summary::of(events[*k]), e.clone()));
                }
                BTreeMap::new()
            }
        };
        // Released: the item as it was, and as it is now. Not released
        // (no item of ours): read as any other.
        let mut released: BTreeMap<String, RegistryItem> = BTreeMap::new();
        let mut unreleased: Vec<String> = Vec::new();
        for (k, result) in to_release.iter().zip(releases) {
            let event = events[*k];
            match result {
                Ok(Some(before)) => {
                    let after = released_item(&before, &event.event_id);
                    released.insert(event.instance_id.clone(), after);
                    items.insert(event.instance_id.clone(), before);
                }
                Ok(None) => unreleased.push(event.instance_id.clone()),
                Err(e) => results[*k] = Some(failure(*k, Summary::of(event), e)),
            }
        }
        match self.load_items(&unreleased).await {
            Ok(found) => items.extend(found),
            Err(e) => {
                for k in &to_release {
                    if unreleased.contains(&events[*k].instance_id) {
                        results[*k] = Some(failure(*k, Summary::of(events[*k]), e.clone()));
                    }
                }
            }
        }

        let mut intents: Vec<EventIntent> = Vec::new();
        for k in work.iter().copied() {
            if results[k].is_some() {
                continue; // failed to describe
            }
            let event = events[k];
            let mut summary = Summary::of(event);
            if let Some(found) = items
                .get(&event.instance_id)
                .and_then(|i| i.replaces.as_ref())
            {
                warn!(instance = %event.instance_id, "{}", found.note());
                summary.notes.push(found.note());
            }
            let facts = live.remove(&event.instance_id);
            summary.live_state = facts.as_ref().map(|i| i.state);
            let intent = match event.lifecycle() {
                // Its own intent: whatever EC2 shows, the group is taking
                // the instance out, and its hook waits for the name to go.
                Some(action) if event.is_final() => Intent::Deregister(format!(
                    "its Auto Scaling group {} is terminating it",
                    crate::names::clip(&action.group)
                )),
                _ => plan::intent(facts.as_ref(), self.config.on_stop),
            };
            intents.push(EventIntent {
                event: k,
                summary,
                intent,
            });
        }

        let surroundings =
            Surroundings::of_registrations(self, intents.iter().map(|one| &one.intent)).await;
        let mut subjects = Vec::new();
        for EventIntent {
            event: k,
            summary,
            intent,
        } in intents
        {
            let event = events[k];
            let item = items.remove(&event.instance_id);
            let cause = Cause {
                key: self.instance_key(&event.instance_id),
                event_id: &event.event_id,
                time: event.time,
                state: summary.live_state.or(event.state()),
            };
            match intent {
                Intent::Hold(why) => results[k] = Some(done_with(k, summary.note(why))),
                Intent::Deregister(why) => match item {
                    Some(item) => {
                        let summary = summary.note(format!("{why}: deleting what it owns"));
                        let mut book = Book::open(cause, Some(item));
                        // Released: written ahead already, so a failure
                        // saves what is known then, as after any write ahead.
                        let after = released.remove(&event.instance_id);
                        let ahead = after.is_some();
                        if after.is_some() {
                            book.stored = after;
                        }
                        let mut subject = Subject::new(book, summary, Wants::Nothing, k);
                        subject.ahead = ahead;
                        subjects.push(subject);
                    }
                    None => {
                        let known = summary.live_state.is_some();
                        let done = self.nothing_registered(summary, event, &why, known);
                        results[k] = Some(done_with(k, done));
                    }
                },
                Intent::Register(facts) => match surroundings.targets(&self.config, &facts) {
                    Ok(targets) => {
                        let mut book = Book::open(cause, item);
                        book.facts(&facts);
                        let subject =
                            Subject::new(book, summary, Wants::Instance(Box::new(targets)), k);
                        subjects.push(subject.launched(facts.launch_time));
                    }
                    Err(e) => results[k] = Some(failure(k, summary, e)),
                },
            }
        }
        subjects
    }

    /// The items of `ids` that exist, by instance id; no call for none.
    async fn load_items(&self, ids: &[String]) -> Result<BTreeMap<String, RegistryItem>> {
        if ids.is_empty() {
            return Ok(BTreeMap::new());
        }
        let keys: Vec<RegistryKey> = ids.iter().map(|id| self.instance_key(id)).collect();
        let found = self.registry.load_many(&keys).await?;
        Ok(found
            .into_iter()
            .filter_map(|i| {
                let id = i.key.instance_id_at(self.place.as_ref())?.to_string();
                Some((id, i))
            })
            .collect())
    }

    /// The summary of an instance to deregister that has no item: nothing
    /// to do, but an instance EC2 does not know (and that is not
    /// terminated) earns a warning.
    fn nothing_registered(
        &self,
        summary: Summary,
        event: &InstanceEvent,
        why: &str,
        known: bool,
    ) -> Summary {
        if event.is_final() {
            summary.note("no records registered for this instance")
        } else if !known {
            summary.warning(format!(
                "EC2 does not know instance {} in {}; nothing was registered (is the event from another account or region, or the instance id a placeholder?)",
                event.instance_id, self.region
            ))
        } else {
            summary.note(format!("{why}; no records registered for this instance"))
        }
    }

    /// Describes the instances of `work` together; those EC2 does not show
    /// ready yet are described again together, with backoff. Still not
    /// ready at the end is a `NotReady` failure (retryable).
    async fn describe_many(&self, events: &[&InstanceEvent], work: &[usize]) -> Described {
        let mut live: BTreeMap<String, InstanceFacts> = BTreeMap::new();
        let mut failures: Vec<EventFailure> = Vec::new();
        let mut asking: Vec<usize> = work.to_vec();
        let mut wait = self.backoff * 5;
        for attempt in 1..=DESCRIBE_ATTEMPTS {
            if asking.is_empty() {
                break;
            }
            let ids: Vec<String> = asking
                .iter()
                .map(|k| events[*k].instance_id.clone())
                .collect();
            match self.ec2.instances(&ids).await {
                Ok(found) => {
                    for id in &ids {
                        live.remove(id);
                    }
                    live.extend(
                        found
                            .instances
                            .into_iter()
                            .map(|i| (i.instance_id.clone(), i)),
                    );
                    // An instance EC2 lists but that cannot be read is not an
                    // instance that is gone: its event fails, nothing changes.
                    for unreadable in found.unreadable {
                        let Some(k) = asking.iter().copied().find(|k| {
                            Some(&events[*k].instance_id) == unreadable.instance_id.as_ref()
                        }) else {
                            continue;
                        };
                        let error = Error::UnreadableInstance {
                            instance_id: events[k].instance_id.clone(),
                            message: unreadable.why,
                        };
                        failures.push(EventFailure { event: k, error });
                        asking.retain(|a| *a != k);
                    }
                }
                Err(e) => {
                    failures.extend(asking.into_iter().map(|k| EventFailure {
                        event: k,
                        error: e.clone(),
                    }));
                    return Described { live, failures };
                }
            }
            asking.retain(|k| not_ready(events[*k], live.get(&events[*k].instance_id)).is_some());
            if asking.is_empty() {
                break;
            }
            if attempt == DESCRIBE_ATTEMPTS {
                for k in asking {
                    let event = events[k];
                    let found = live.get(&event.instance_id);
                    if let (Some(why), Some(_)) = (not_ready(event, found), found) {
                        let error = Error::NotReady {
                            instance_id: event.instance_id.clone(),
                            message: format!("{why} after {DESCRIBE_ATTEMPTS} attempts"),
                        };
                        failures.push(EventFailure { event: k, error });
                    }
                }
                break;
            }
            warn!(
                instances = asking.len(),
                "instances not ready in EC2's view yet; describing them again"
            );
            tokio::time::sleep(wait).await;
            wait *= 2;
        }
        Described { live, failures }
    }
}

/// One event to converge and what its instance's live state asks for.
struct EventIntent {
    /// The event's index in the batch.
    event: usize,
    summary: Summary,
    intent: Intent,
}

/// What describing a batch's instances found.
struct Described {
    /// The instances EC2 knows, by id.
    live: BTreeMap<String, InstanceFacts>,
    /// The events whose instance could not be described, and why.
    failures: Vec<EventFailure>,
}

/// An event whose instance could not be described.
struct EventFailure {
    /// The event's index in the batch.
    event: usize,
    error: Error,
}

/// The item a release leaves of `before` (`ports::released`).
fn released_item(before: &RegistryItem, event_id: &str) -> RegistryItem {
    crate::ports::released(before, event_id, InstanceState::Terminated)
}

/// An event decided without converging anything.
pub(super) fn done_with(tag: usize, summary: Summary) -> Converged {
    Converged {
        tag,
        summary,
        error: None,
    }
}

/// An event whose subject could not be converged.
pub(super) fn failure(tag: usize, summary: Summary, error: Error) -> Converged {
    Converged {
        tag,
        summary,
        error: Some(error),
    }
}
