//! Buffered mode's convergence: the instances a batch of events names,
//! converged together. Each event is a hint, as in `handle`; what changes
//! is the number of calls:
//!
//! - the items are read together (BatchGetItem, 100 keys a call);
//! - the instances are described together (DescribeInstances, 200 ids a
//!   call), those EC2 does not show ready yet described again together;
//! - each VPC's zones and facts are read once (and the process cache keeps
//!   them warm);
//! - only the names of unsettled records, and names two or more of the
//!   batch's instances touch, are read (an event reads nothing else
//!   either: Route 53 refuses what the plan did not expect, and the
//!   refusal's names are read then); a shared name read lets the plans
//!   agree who gets it, so it is handed over in one merged change;
//! - the rest is the reconcile's merged apply (`together.rs`): items
//!   written ahead and finished 100 a transaction, every change of the
//!   batch merged per zone.

use super::book::{Book, Cause};
use super::together::{failed, Subject, Surroundings};
use super::{not_ready, Registrar, DESCRIBE_ATTEMPTS};
use crate::error::Error;
use crate::event::InstanceEvent;
use crate::model::{InstanceFacts, InstanceState, RegistryItem};
use crate::plan::{self, Intent, Observed};
use crate::ports::{Dns, Instances, Registry};
use crate::summary::Summary;
use std::collections::{BTreeMap, BTreeSet};
use tokio::time::Instant;
use tracing::warn;

impl<E: Instances + Sync, D: Dns + Sync, R: Registry + Sync> Registrar<E, D, R> {
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
        let mut results: Vec<Option<Summary>> = vec![None; events.len()];
        let mut work: Vec<usize> = Vec::new();
        let mut named: BTreeSet<&str> = BTreeSet::new();
        for (k, event) in events.iter().enumerate() {
            let summary = Summary::of(event);
            if let Some(why) = self.needs_nothing(event) {
                results[k] = Some(summary.note(why));
            } else if !named.insert(event.instance_id.as_str()) {
                results[k] = Some(summary.note(
                    "another event of this instance in the batch speaks for it: converged once",
                ));
            } else {
                work.push(k);
            }
        }
        let subjects = self.gather(events, &work, &mut results).await;
        let (ks, subjects): (Vec<usize>, Vec<Subject>) = subjects.into_iter().unzip();
        let seen = self.read_unsettled(&subjects).await;
        let (seen, subjects) = match seen {
            Ok(seen) => (seen, subjects),
            Err((seen, failures)) => {
                let mut subjects = subjects;
                for (i, e) in failures {
                    subjects[i].failure = Some(e);
                }
                (seen, subjects)
            }
        };
        let done = self.converge_together(subjects, seen, deadline).await;
        for (k, summary) in ks.into_iter().zip(done.summaries) {
            results[k] = Some(summary);
        }
        results
            .into_iter()
            .zip(events)
            .map(|(r, e)| {
                let mut summary = r.unwrap_or_else(|| Summary::of(e));
                summary.dry_run = self.dry_run;
                summary
            })
            .collect()
    }

    /// Items, descriptions and surroundings of the events in `work`: a
    /// subject for each instance that needs converging, with the index of
    /// its event. Events decided here (stale, nothing registered, held,
    /// failed) get their summary in `results`.
    async fn gather(
        &self,
        events: &[&InstanceEvent],
        work: &[usize],
        results: &mut [Option<Summary>],
    ) -> Vec<(usize, Subject)> {
        if work.is_empty() {
            return Vec::new();
        }
        let ids: Vec<String> = work
            .iter()
            .map(|k| events[*k].instance_id.clone())
            .collect();
        let mut items: BTreeMap<String, RegistryItem> = match self.registry.load_many(&ids).await {
            Ok(found) => found
                .into_iter()
                .map(|i| (i.instance_id.clone(), i))
                .collect(),
            Err(e) => {
                for k in work {
                    results[*k] = Some(failed(Summary::of(events[*k]), &e));
                }
                return Vec::new();
            }
        };

        // Stale events, and terminations with nothing registered, need no
        // description.
        let mut live_work: Vec<usize> = Vec::new();
        let mut notes: BTreeMap<usize, Vec<String>> = BTreeMap::new();
        for k in work.iter().copied() {
            let event = events[k];
            let item = items.get(&event.instance_id);
            if let Some(found) = item.and_then(|i| i.replaces.as_ref()) {
                warn!(instance = %event.instance_id, "{}", found.note());
                notes.entry(k).or_default().push(found.note());
            }
            let summary = || {
                let mut s = Summary::of(event);
                s.notes.extend(notes.get(&k).cloned().unwrap_or_default());
                s
            };
            if let Some(note) = Self::stale(event, item) {
                results[k] = Some(summary().note(note));
            } else if event.state == Some(InstanceState::Terminated) && item.is_none() {
                results[k] = Some(summary().note("no records registered for this instance"));
            } else {
                live_work.push(k);
            }
        }
        let live = self.describe_many(events, &live_work, results).await;

        let mut surroundings = Surroundings::default();
        // Deregistrations first, then registrations from the earliest
        // launched (ties by id), as the reconcile orders them: a name one
        // frees is handed to the earliest claimant in the same batch.
        type Order = (bool, bool, Option<chrono::DateTime<chrono::Utc>>, String);
        let mut subjects: Vec<(Order, usize, Subject)> = Vec::new();
        for k in live_work {
            if results[k].is_some() {
                continue; // failed to describe
            }
            let event = events[k];
            let terminated = event.state == Some(InstanceState::Terminated);
            let facts = if terminated {
                None
            } else {
                live.get(&event.instance_id)
            };
            let mut summary = Summary::of(event);
            summary.notes.extend(notes.remove(&k).unwrap_or_default());
            summary.live_state = facts.map(|i| i.state);
            let cause = Cause {
                instance_id: &event.instance_id,
                event_id: &event.event_id,
                time: event.time,
                state: summary.live_state.or(event.state),
            };
            let item = items.remove(&event.instance_id);
            match plan::intent(facts, self.config.on_stop) {
                Intent::Hold(why) => results[k] = Some(summary.note(why)),
                Intent::Deregister(why) => match item {
                    Some(item) => {
                        let summary = summary.note(format!("{why}: deleting what it owns"));
                        let order = (false, false, None, event.instance_id.clone());
                        let subject = Subject::new(Book::open(cause, Some(item)), summary, None);
                        subjects.push((order, k, subject));
                    }
                    None => {
                        results[k] =
                            Some(self.nothing_registered(summary, event, &why, facts.is_some()))
                    }
                },
                Intent::Register(facts) => {
                    if let Err(e) = surroundings.learn(self, &facts).await {
                        results[k] = Some(failed(summary, &e));
                        continue;
                    }
                    let targets = surroundings.targets(&self.config, &facts);
                    let mut book = Book::open(cause, item);
                    book.facts(&facts);
                    let order = (
                        true,
                        facts.launch_time.is_none(),
                        facts.launch_time,
                        event.instance_id.clone(),
                    );
                    subjects.push((order, k, Subject::new(book, summary, Some(targets))));
                }
            }
        }
        subjects.sort_by(|a, b| a.0.cmp(&b.0));
        subjects.into_iter().map(|(_, k, s)| (k, s)).collect()
    }

    /// Describes the instances of `work` together; those EC2 does not show
    /// ready yet are described again together, with backoff. Still not
    /// ready at the end: `NotReady` in `results` (retryable).
    async fn describe_many(
        &self,
        events: &[&InstanceEvent],
        work: &[usize],
        results: &mut [Option<Summary>],
    ) -> BTreeMap<String, InstanceFacts> {
        let mut live: BTreeMap<String, InstanceFacts> = BTreeMap::new();
        let mut asking: Vec<usize> = work
            .iter()
            .copied()
            .filter(|k| events[*k].state != Some(InstanceState::Terminated))
            .collect();
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
                    for (id, why) in found.unreadable {
                        let Some(k) = asking
                            .iter()
                            .copied()
                            .find(|k| Some(&events[*k].instance_id) == id.as_ref())
                        else {
                            continue;
                        };
                        let e = Error::Aws {
                            operation: "ec2:DescribeInstances".into(),
                            code: None,
                            message: why,
                            retryable: false,
                        };
                        results[k] = Some(failed(Summary::of(events[k]), &e));
                        asking.retain(|a| *a != k);
                    }
                }
                Err(e) => {
                    for k in asking {
                        results[k] = Some(failed(Summary::of(events[k]), &e));
                    }
                    return live;
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
                        let e = Error::NotReady {
                            instance_id: event.instance_id.clone(),
                            message: format!("{why} after {DESCRIBE_ATTEMPTS} attempts"),
                        };
                        results[k] = Some(failed(Summary::of(event), &e));
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
        live
    }

    /// Reads the names of the subjects' unsettled records and the names
    /// more than one of them touches (in a dry run, every name their plans
    /// need), one read per zone. A zone that cannot
    /// be read fails the subjects that needed it: `Err` carries what was
    /// read and those failures (by subject index).
    async fn read_unsettled(
        &self,
        subjects: &[Subject],
    ) -> Result<Observed, (Observed, Vec<(usize, Error)>)> {
        // Every name a subject's plan touches, and how many subjects touch
        // it: a name several touch (an alias two instances want, a name
        // one lets go and another takes) is read, so that the plans can
        // hand it over in one merged change; unread, each would plan as
        // if alone, and Route 53 would refuse all but one.
        let touched: Vec<BTreeMap<String, BTreeSet<String>>> =
            subjects.iter().map(Subject::names_touched).collect();
        let mut touches: BTreeMap<(&str, &str), usize> = BTreeMap::new();
        for names in &touched {
            for (zone, names) in names {
                for name in names {
                    *touches.entry((zone, name)).or_default() += 1;
                }
            }
        }
        let mut wanted: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut needs: Vec<BTreeSet<String>> = Vec::new();
        for (s, all) in subjects.iter().zip(&touched) {
            let mut names = plan::names_of(&s.book.pending);
            for (zone, zone_names) in all {
                for name in zone_names {
                    if self.dry_run || touches[&(zone.as_str(), name.as_str())] > 1 {
                        names.entry(zone.clone()).or_default().insert(name.clone());
                    }
                }
            }
            needs.push(names.keys().cloned().collect());
            for (zone, names) in names {
                wanted.entry(zone).or_default().extend(names);
            }
        }
        let mut seen = Observed::default();
        let mut unread: BTreeMap<String, Error> = BTreeMap::new();
        for (zone_id, names) in wanted {
            match self.dns.records_at(&zone_id, &names).await {
                Ok(found) => seen.learn(&zone_id, &names, found),
                Err(e) => {
                    warn!(zone = %zone_id, error = %e, "names not read; the instances that need them wait for the next attempt");
                    unread.insert(zone_id, e);
                }
            }
        }
        if unread.is_empty() {
            return Ok(seen);
        }
        let failures = needs
            .iter()
            .enumerate()
            .filter_map(|(i, zones)| {
                zones
                    .iter()
                    .find_map(|z| unread.get(z))
                    .map(|e| (i, e.again()))
            })
            .collect();
        Err((seen, failures))
    }
}
