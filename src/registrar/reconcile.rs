//! The full reconcile: every instance of the region and every registry item
//! converged at once, by the same planner an event uses
//! (`docs/records.md`, "Convergence"). A schedule runs it in the Lambda
//! function, and `ec2-ddns reconcile` from the command line.
//!
//! 1. **List**: every instance (pages of 1,000), every registry item (a
//!    scan), then every zone an instance wants or an item lists, each once.
//! 2. **Plan**, instance by instance, against the zones as listed *plus*
//!    what the instances planned before it will change: deregistrations
//!    first (a name they free can be handed over in the same pass), then
//!    registrations from the earliest launched, so that among several
//!    claimants of a free name the earliest gets it, and a later one is
//!    told it is held.
//! 3. **Write ahead** the items whose lists change (creates and deletes go
//!    to pending), as an event does.
//! 4. **Send** per zone, zones with host A records first, the instances'
//!    changes merged into as few batches as Route 53 takes (1,000 values,
//!    32,000 characters of values); each instance's changes in a zone stay
//!    in one batch. A refused batch is split by instance; an instance whose
//!    own changes are refused or not applied is converged on its own
//!    afterwards, exactly as an event would (read, re-plan, split by name),
//!    so one refused change never blocks the rest.
//! 5. **Finish** each item: saved, or removed when nothing is left listed.

use super::book::{Book, Cause};
use super::Registrar;
use crate::apply::{self, Sent};
use crate::error::{Error, Result};
use crate::event::is_instance_id;
use crate::model::{InstanceFacts, OwnedRecord, RecordType, RegistryItem, VpcFacts, ZoneInfo};
use crate::plan::{
    self, Change, ChangeAction, Intent, Observed, Plan, PlanInput, Targets, ZoneChanges,
};
use crate::ports::{Dns, Instances, Registry};
use crate::summary::{Outcome, Summary};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use tracing::{info, warn};

/// Route 53's limits for one ChangeResourceRecordSets call.
pub const MAX_BATCH_VALUES: usize = 1000;
pub const MAX_BATCH_CHARACTERS: usize = 32_000;

/// Planning passes at most: each learns the names the others let go.
const PLAN_PASSES: usize = 3;

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
    /// Instances with at least one record created or deleted.
    pub changed: usize,
    /// Wanted records held by someone else, over all instances.
    pub conflicts: usize,
    pub records_created: usize,
    pub records_deleted: usize,
    /// ChangeResourceRecordSets calls that changed records.
    pub change_batches: usize,
    /// Instances whose convergence failed (the next reconcile tries again).
    pub errors: usize,
    /// AWS calls per operation, when the clients count them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws_calls: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws_calls_by_operation: Option<BTreeMap<String, usize>>,
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

/// One instance (or one item without an instance) in the pass.
struct Subject {
    book: Book,
    summary: Summary,
    /// `None` for a deregistration.
    targets: Option<Targets>,
    plan: Plan,
    /// This instance's changes that went in, zone by zone.
    applied: Vec<ZoneChanges>,
    /// Its changes were refused or not applied in the merged pass: it is
    /// converged on its own afterwards.
    deferred: bool,
    /// The merged pass failed for it and left it to the next convergence.
    failure: Option<Error>,
    /// Its item was written ahead: it must be saved again at the end.
    ahead: bool,
}

impl Subject {
    fn deregister(&self) -> bool {
        self.targets.is_none()
    }

    /// Still taking part in the merged sends.
    fn active(&self) -> bool {
        !self.deferred && self.failure.is_none()
    }
}

impl<E: Instances + Sync, D: Dns + Sync, R: Registry + Sync> Registrar<E, D, R> {
    /// Converges every instance of the region and every registry item.
    /// `Err` only when the listing fails; an instance that fails is
    /// counted in `errors`, and the rest go on.
    pub async fn reconcile(&self, event_id: &str) -> Result<Reconciled> {
        if let Some(calls) = &self.calls {
            calls.take();
        }
        let mut warnings = Vec::new();
        // Items first, instances second: an item the scan sees belongs to
        // an instance launched before the listing, so the listing shows it
        // unless it is gone (and each one missing is described to be sure).
        let items = self.registry.all().await?;
        let mut listing = self.ec2.all_instances().await?;
        let listed_ids: BTreeSet<String> = listing
            .instances
            .iter()
            .map(|i| i.instance_id.clone())
            .collect();
        for item in &items {
            let id = &item.instance_id;
            if is_instance_id(id) && !listed_ids.contains(id) {
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
            .filter_map(|(id, _)| id.as_deref())
            .collect();
        let anonymous = listing.unreadable.iter().any(|(id, _)| id.is_none());
        for (id, why) in &listing.unreadable {
            warnings.push(format!(
                "instance {} left alone: {why}",
                id.as_deref().unwrap_or("(no id)")
            ));
        }
        let mut items: BTreeMap<String, RegistryItem> = items
            .into_iter()
            .filter(|i| is_instance_id(&i.instance_id))
            .map(|i| (i.instance_id.clone(), i))
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
        let mut live: Vec<InstanceFacts> = listing
            .instances
            .into_iter()
            .filter(|i| !unreadable.contains(i.instance_id.as_str()))
            .filter(|i| !foreign.contains(&i.instance_id))
            .collect();
        let instances_seen = listed_ids.len() + listing.unreadable.len();
        items.retain(|id, _| !unreadable.contains(id.as_str()));
        // Earliest launched first; ties by id, so every run plans alike.
        live.sort_by(|a, b| {
            (a.launch_time.is_none(), a.launch_time, &a.instance_id).cmp(&(
                b.launch_time.is_none(),
                b.launch_time,
                &b.instance_id,
            ))
        });
        let listed: BTreeSet<String> = live.iter().map(|i| i.instance_id.clone()).collect();
        if anonymous {
            warnings.push(
                "EC2 listed an instance without an id: items of instances not listed are left alone this time".into(),
            );
            items.retain(|id, _| listed.contains(id));
        }

        // Who is converged, and to what: gone instances' items first.
        let mut gone: Vec<(String, RegistryItem)> = items
            .iter()
            .filter(|(id, _)| !listed.contains(*id))
            .map(|(id, item)| (id.clone(), item.clone()))
            .collect();
        gone.sort_by(|a, b| a.0.cmp(&b.0));
        let mut deregistrations = Vec::new();
        let mut registrations = Vec::new();
        for (id, item) in gone {
            deregistrations.push((id, None, item, "the instance is gone".to_string()));
        }
        for instance in live {
            let item = items.remove(&instance.instance_id);
            match plan::intent(Some(&instance), self.config.on_stop) {
                Intent::Register(facts) => registrations.push((facts, instance.state, item)),
                Intent::Deregister(why) => {
                    if let Some(item) = item {
                        let id = instance.instance_id.clone();
                        deregistrations.push((id, Some(instance.state), item, why));
                    }
                }
                Intent::Hold(_) => {}
            }
        }

        // The surroundings of every registration, each VPC read once.
        let mut zones_of: BTreeMap<Option<String>, Vec<ZoneInfo>> = BTreeMap::new();
        let mut vpcs: BTreeMap<String, Option<VpcFacts>> = BTreeMap::new();
        let mut subjects: Vec<Subject> = Vec::new();
        for (id, state, item, why) in deregistrations {
            let cause = Cause {
                instance_id: &id,
                event_id,
                time: None,
                state,
            };
            let mut summary =
                Summary::reconciled(event_id, &id).note(format!("{why}: deleting what it owns"));
            summary.live_state = state;
            subjects.push(Subject {
                book: Book::open(cause, Some(item)),
                summary,
                targets: None,
                plan: Plan::default(),
                applied: Vec::new(),
                deferred: false,
                failure: None,
                ahead: false,
            });
        }
        let mut unreachable: Vec<Summary> = Vec::new();
        for (facts, state, item) in registrations {
            // A VPC or its zones that cannot be read fail this instance
            // alone; the rest go on.
            let surroundings: Result<()> = async {
                if !zones_of.contains_key(&facts.vpc_id) {
                    let zones = self
                        .dns
                        .zones_visible_from(facts.vpc_id.as_deref(), &self.region)
                        .await?;
                    zones_of.insert(facts.vpc_id.clone(), zones);
                }
                if let Some(vpc_id) = &facts.vpc_id {
                    if !vpcs.contains_key(vpc_id) {
                        vpcs.insert(vpc_id.clone(), self.ec2.vpc(vpc_id).await?);
                    }
                }
                Ok(())
            }
            .await;
            if let Err(e) = surroundings {
                let mut summary = Summary::reconciled(event_id, &facts.instance_id);
                summary.live_state = Some(state);
                unreachable.push(failed(summary, &e));
                continue;
            }
            let targets = plan::targets(&PlanInput {
                config: &self.config,
                instance: &facts,
                vpc: facts
                    .vpc_id
                    .as_ref()
                    .and_then(|v| vpcs.get(v))
                    .and_then(Option::as_ref),
                zones: zones_of
                    .get(&facts.vpc_id)
                    .map(Vec::as_slice)
                    .unwrap_or_default(),
            });
            let cause = Cause {
                instance_id: &facts.instance_id,
                event_id,
                time: None,
                state: Some(state),
            };
            let mut book = Book::open(cause, item);
            book.facts(&facts);
            let mut summary = Summary::reconciled(event_id, &facts.instance_id);
            summary.live_state = Some(state);
            subjects.push(Subject {
                book,
                summary,
                targets: Some(targets),
                plan: Plan::default(),
                applied: Vec::new(),
                deferred: false,
                failure: None,
                ahead: false,
            });
        }

        disown_double_claims(&mut subjects);

        // Every zone any of them needs, listed once. A zone that cannot be
        // listed fails the instances that need it, and no one else.
        let needs: Vec<BTreeSet<String>> = subjects
            .iter()
            .map(|s| {
                let listed: Vec<OwnedRecord> = s
                    .book
                    .owned
                    .iter()
                    .chain(&s.book.pending)
                    .cloned()
                    .collect();
                let needed = match &s.targets {
                    Some(t) => t.names_to_read(&listed),
                    None => plan::names_of(&listed),
                };
                needed.into_keys().collect()
            })
            .collect();
        let zones: BTreeSet<&String> = needs.iter().flatten().collect();
        let mut seen = Observed::default();
        let mut unlisted: BTreeMap<String, (String, bool)> = BTreeMap::new();
        for zone_id in zones {
            match self.dns.records_in(zone_id).await {
                Ok(records) => seen.learn_zone(zone_id, records),
                Err(e) => {
                    warn!(zone = %zone_id, error = %e, "zone not listed; the instances that need it wait for the next reconcile");
                    unlisted.insert(zone_id.clone(), (e.to_string(), e.is_retryable()));
                }
            }
        }
        for (s, needed) in subjects.iter_mut().zip(&needs) {
            if let Some((message, retryable)) = needed.iter().find_map(|z| unlisted.get(z)) {
                s.failure = Some(Error::Aws {
                    operation: "route53:ListResourceRecordSets".into(),
                    code: None,
                    message: message.clone(),
                    retryable: *retryable,
                });
            }
        }

        // The listing settles unsettled records (no call), and shows which
        // owned records vanished: those are no one's now, before anyone
        // plans (else a claimant's planned record would look like theirs).
        for s in &mut subjects {
            s.book.pending.retain(|p| seen.holds(p) != Some(false));
            let (kept, vanished): (Vec<OwnedRecord>, Vec<OwnedRecord>) =
                std::mem::take(&mut s.book.owned)
                    .into_iter()
                    .partition(|o| seen.holds(o) != Some(false));
            s.book.owned = kept;
            for o in vanished {
                s.summary.warnings.push(format!(
                    "{} {} in {} changed or vanished since this instance wrote it; no longer owned",
                    o.record.name, o.record.rtype, o.zone_name
                ));
            }
        }
        let plans = self.plan_all(&subjects, &seen);
        let mut ahead: Vec<usize> = Vec::new();
        for (i, (s, plan)) in subjects.iter_mut().zip(plans).enumerate() {
            s.book.owned.retain(|o| !plan.dropped.contains(o));
            if !self.dry_run && s.book.prepare(&plan) {
                ahead.push(i);
            }
            s.plan = plan;
        }
        if self.dry_run {
            let summaries = subjects
                .into_iter()
                .map(|s| {
                    let mut summary = s.summary.with_plan(&s.plan);
                    summary.dry_run = true;
                    summary
                })
                .collect();
            return Ok(self.reconciled(summaries, 0, instances_seen, items_seen, warnings));
        }

        // Write ahead: what the batches create or delete is listed pending.
        for i in ahead {
            let s = &mut subjects[i];
            match self.save(&mut s.book).await {
                Ok(()) => s.ahead = true,
                Err(e) => {
                    warn!(instance = %s.book.meta.instance_id, error = %e, "could not write the registry item ahead; left to the next convergence");
                    s.failure = Some(e);
                }
            }
        }

        // Send, zone by zone, host A zones first, merged within limits.
        let mut by_zone: BTreeMap<String, Vec<(usize, ZoneChanges)>> = BTreeMap::new();
        for (i, s) in subjects.iter().enumerate() {
            for z in &s.plan.zones {
                by_zone
                    .entry(z.zone_id.clone())
                    .or_default()
                    .push((i, z.clone()));
            }
        }
        let mut order: Vec<&String> = by_zone.keys().collect();
        order.sort_by_key(|zone| {
            !by_zone[*zone]
                .iter()
                .any(|(_, z)| z.changes.iter().any(|c| c.record.rtype == RecordType::A))
        });
        let order: Vec<String> = order.into_iter().cloned().collect();
        let mut batches_sent = 0;
        for zone_id in order {
            let parts = by_zone.remove(&zone_id).unwrap_or_default();
            let mut members = Vec::new();
            for (i, part) in parts {
                if subjects[i].active() {
                    members.push((i, part));
                } else {
                    // Not sent: it created nothing and deleted nothing.
                    subjects[i].book.not_applied(&part);
                }
            }
            for chunk in chunks(members) {
                batches_sent += self.send_merged(&mut subjects, chunk, &mut seen).await;
            }
        }

        // Finish each: deferred ones converge on their own, as an event would.
        let ttl = self.config.ttl;
        for s in &mut subjects {
            let deregister = s.deregister();
            let summary = std::mem::replace(&mut s.summary, Summary::reconciled("", ""));
            let merged = Plan {
                zones: std::mem::take(&mut s.applied),
                ..Plan::default()
            };
            let result = if let Some(e) = s.failure.take() {
                // Written ahead: what is known now is saved, if the table
                // lets us. Never written: nothing to say yet.
                if s.ahead {
                    if let Err(save_err) = self.finish(&mut s.book, deregister).await {
                        warn!(error = %save_err, "could not save the registry item after a failed change");
                    }
                }
                Err(e)
            } else if s.deferred {
                let summary = summary.clone().with_plan(&merged);
                match &s.targets {
                    Some(t) => {
                        self.converge(
                            &mut s.book,
                            &mut seen,
                            summary,
                            false,
                            |owned, unsettled, seen| {
                                plan::plan_register(t, owned, unsettled, seen, ttl)
                            },
                        )
                        .await
                    }
                    None => {
                        self.converge(&mut s.book, &mut seen, summary, true, |owned, _, seen| {
                            plan::plan_deregister(owned, seen)
                        })
                        .await
                    }
                }
            } else {
                match self.finish(&mut s.book, deregister).await {
                    Ok(()) => Ok(summary.clone().with_plan(&Plan {
                        zones: merged.zones,
                        ..std::mem::take(&mut s.plan)
                    })),
                    Err(e) => Err(e),
                }
            };
            s.summary = match result {
                Ok(mut done) => {
                    if deregister {
                        super::note_left_pending(&s.book, &mut done);
                    }
                    done
                }
                Err(e) => failed(summary, &e),
            };
        }
        let summaries = subjects
            .into_iter()
            .map(|s| s.summary)
            .chain(unreachable)
            .collect();
        Ok(self.reconciled(
            summaries,
            batches_sent,
            instances_seen,
            items_seen,
            warnings,
        ))
    }

    /// Plans every subject in order, each against the zones as listed, plus
    /// what the subjects before it create, minus what every other subject
    /// deletes: a name one instance lets go (terminated, renamed, released)
    /// is free for any claimant in the same pass, the earliest first. The
    /// deletions are those of the previous pass, so passes repeat (at most
    /// `PLAN_PASSES`) until they stop changing.
    fn plan_all(&self, subjects: &[Subject], seen: &Observed) -> Vec<Plan> {
        let ttl = self.config.ttl;
        let deletes_of = |plan: &Plan| -> Vec<ZoneChanges> {
            plan.zones
                .iter()
                .map(|z| ZoneChanges {
                    changes: z
                        .changes
                        .iter()
                        .filter(|c| c.action == ChangeAction::Delete)
                        .cloned()
                        .collect(),
                    ..z.clone()
                })
                .filter(|z| !z.changes.is_empty())
                .collect()
        };
        let mut freed: Vec<Vec<ZoneChanges>> = vec![Vec::new(); subjects.len()];
        let mut plans = Vec::new();
        for _pass in 0..PLAN_PASSES {
            let mut view = seen.clone();
            freed.iter().flatten().for_each(|z| view.applied(z));
            plans = Vec::with_capacity(subjects.len());
            for (s, own) in subjects.iter().zip(&freed) {
                if s.failure.is_some() {
                    plans.push(Plan::default());
                    continue;
                }
                // Its own deletions are its to plan: put them back.
                for z in own {
                    view.applied(&as_creates(z));
                }
                let plan = match &s.targets {
                    Some(t) => plan::plan_register(t, &s.book.owned, &s.book.pending, &view, ttl),
                    None => plan::plan_deregister(&s.book.owned, &view),
                };
                plan.zones.iter().for_each(|z| view.applied(z));
                plans.push(plan);
            }
            let now: Vec<Vec<ZoneChanges>> = plans.iter().map(deletes_of).collect();
            if now == freed {
                break;
            }
            freed = now;
        }
        plans
    }

    /// Sends one merged batch; on a refusal, each instance's part alone.
    /// Returns the number of batches that went in.
    async fn send_merged(
        &self,
        subjects: &mut [Subject],
        members: Vec<(usize, ZoneChanges)>,
        seen: &mut Observed,
    ) -> usize {
        let members: Vec<(usize, ZoneChanges)> = members
            .into_iter()
            .filter(|(i, _)| subjects[*i].active())
            .collect();
        let Some((_, first)) = members.first() else {
            return 0;
        };
        let batch = merge(first, &members);
        let mut wait = self.backoff;
        let mut tries = 0;
        let outcome = loop {
            match apply::send(&self.dns, &batch, seen).await {
                Sent::NotApplied(e) if e.is_retryable() && tries + 1 < super::ROUNDS => {
                    warn!(zone = %batch.zone_id, error = %e, "merged batch not applied; trying again");
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                    tries += 1;
                }
                other => break other,
            }
        };
        match outcome {
            Sent::Applied => {
                for (i, part) in members {
                    subjects[i].book.applied(&part);
                    subjects[i].applied.push(part);
                }
                1
            }
            Sent::Refused(_) if members.len() > 1 => {
                let mut sent = 0;
                for member in members {
                    sent += Box::pin(self.send_merged(subjects, vec![member], seen)).await;
                }
                sent
            }
            Sent::Refused(_) | Sent::NotApplied(_) => {
                for (i, part) in members {
                    subjects[i].book.not_applied(&part);
                    subjects[i].deferred = true;
                }
                0
            }
            Sent::Unknown(e) => {
                // Their creates and deletes stay pending, for the next
                // convergence to settle by reading.
                for (i, _) in &members {
                    subjects[*i].failure = Some(Error::Aws {
                        operation: "route53:ChangeResourceRecordSets".into(),
                        code: None,
                        message: format!("the outcome of a merged batch is unknown: {e}"),
                        retryable: true,
                    });
                }
                0
            }
        }
    }

    fn reconciled(
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

/// A record two items own can be only one's: one wrote it, a person deleted
/// it, and the other wrote the identical record again (Route 53 compares
/// values, so no one can tell them apart). Neither may delete it on the
/// strength of its value, so both let it go, and it is left to a person.
fn disown_double_claims(subjects: &mut [Subject]) {
    let mut claims: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
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
            .map(|i| subjects[*i].book.meta.instance_id.clone())
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

/// An instance the reconcile could not converge: the next one tries again.
fn failed(mut summary: Summary, e: &Error) -> Summary {
    warn!(instance = %summary.instance_id, error = %e, "instance not converged; the next convergence tries again");
    summary.outcome = Outcome::Error;
    summary.error = Some(e.to_string());
    summary.retryable = Some(e.is_retryable());
    summary
}

/// `batch`'s changes as creates: what it deletes, put back.
fn as_creates(batch: &ZoneChanges) -> ZoneChanges {
    ZoneChanges {
        changes: batch
            .changes
            .iter()
            .map(|c| Change {
                action: ChangeAction::Create,
                record: c.record.clone(),
            })
            .collect(),
        ..batch.clone()
    }
}

/// One batch of several instances' changes in a zone: every DELETE first,
/// then every CREATE, so a name one instance frees can be taken by another
/// in the same batch (Route 53 applies a batch's changes in order).
fn merge(first: &ZoneChanges, members: &[(usize, ZoneChanges)]) -> ZoneChanges {
    let all = || members.iter().flat_map(|(_, z)| z.changes.iter());
    let deletes = all().filter(|c| c.action == ChangeAction::Delete);
    let others = all().filter(|c| c.action != ChangeAction::Delete);
    ZoneChanges {
        zone_id: first.zone_id.clone(),
        zone_name: first.zone_name.clone(),
        changes: deletes.chain(others).cloned().collect::<Vec<Change>>(),
    }
}

/// Values and characters of values a part adds to a batch.
fn weight(part: &ZoneChanges) -> (usize, usize) {
    part.changes.iter().fold((0, 0), |(n, chars), c| {
        let values = c.record.values();
        (
            n + values.len().max(1),
            chars + values.iter().map(String::len).sum::<usize>(),
        )
    })
}

/// Members grouped into batches within Route 53's limits, in order; a part
/// too big for any batch goes alone (and Route 53 says why).
fn chunks(members: Vec<(usize, ZoneChanges)>) -> Vec<Vec<(usize, ZoneChanges)>> {
    let mut out: Vec<Vec<(usize, ZoneChanges)>> = Vec::new();
    let (mut values, mut chars) = (0, 0);
    for member in members {
        let (v, c) = weight(&member.1);
        let fits = values + v <= MAX_BATCH_VALUES && chars + c <= MAX_BATCH_CHARACTERS;
        match out.last_mut() {
            Some(batch) if fits => {
                batch.push(member);
                values += v;
                chars += c;
            }
            _ => {
                out.push(vec![member]);
                (values, chars) = (v, c);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RecordSet;

    fn part(zone: &str, n: usize, value_len: usize) -> ZoneChanges {
        ZoneChanges {
            zone_id: zone.into(),
            zone_name: "corp.example.".into(),
            changes: (0..n)
                .map(|k| Change {
                    action: if k % 2 == 0 {
                        ChangeAction::Delete
                    } else {
                        ChangeAction::Create
                    },
                    record: RecordSet::new(
                        &format!("h{k}.corp.example."),
                        RecordType::Other("TXT".into()),
                        60,
                        vec!["x".repeat(value_len)],
                    ),
                })
                .collect(),
        }
    }

    #[test]
    fn batches_stay_within_route_53_s_limits_and_keep_each_part_whole() {
        // 300 parts of 4 one-value changes: 1,200 values → two batches.
        let members: Vec<_> = (0..300).map(|i| (i, part("Z1", 4, 10))).collect();
        let batches = chunks(members);
        assert_eq!(batches.iter().map(Vec::len).collect::<Vec<_>>(), [250, 50]);
        // Long values: 32,000 characters at most.
        let members: Vec<_> = (0..10).map(|i| (i, part("Z1", 2, 4000))).collect();
        let batches = chunks(members);
        assert_eq!(batches.iter().map(Vec::len).collect::<Vec<_>>(), [4, 4, 2]);
        for b in &batches {
            let (v, c) = b
                .iter()
                .map(|(_, p)| weight(p))
                .fold((0, 0), |a, w| (a.0 + w.0, a.1 + w.1));
            assert!(
                v <= MAX_BATCH_VALUES && c <= MAX_BATCH_CHARACTERS,
                "{v} {c}"
            );
        }
        // A part bigger than a batch goes alone.
        let batches = chunks(vec![
            (0, part("Z1", 2, 10)),
            (1, part("Z1", 1001, 1)),
            (2, part("Z1", 2, 10)),
        ]);
        assert_eq!(batches.iter().map(Vec::len).collect::<Vec<_>>(), [1, 1, 1]);
    }

    #[test]
    fn a_merged_batch_deletes_before_it_creates() {
        let merged = merge(
            &part("Z1", 2, 1),
            &[(0, part("Z1", 2, 1)), (1, part("Z1", 2, 1))],
        );
        let actions: Vec<_> = merged.changes.iter().map(|c| c.action).collect();
        assert_eq!(
            actions,
            [
                ChangeAction::Delete,
                ChangeAction::Delete,
                ChangeAction::Create,
                ChangeAction::Create
            ]
        );
    }
}
