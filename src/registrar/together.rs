//! Many instances converged at once, their changes merged per zone: the
//! reconcile (every instance of the region) and buffered mode (the
//! instances a batch of events names) gather their subjects differently
//! and share everything after that:
//!
//! 1. **Settle** from what was read: unsettled records read gone are
//!    unlisted, owned records read changed or gone are no one's now.
//! 2. **Plan**, subject by subject, against the zones as read *plus* what
//!    the subjects before it will change: deregistrations first (a name
//!    they free can be handed over in the same pass), then registrations
//!    in the order given (the earliest launched first), so that among
//!    several claimants of a free name the first gets it.
//! 3. **Write ahead** the items whose lists change (creates and deletes go
//!    to pending), 100 items per TransactWriteItems, each write under its
//!    own condition.
//! 4. **Send** per zone, zones with host A records first, the subjects'
//!    changes merged into as few batches as Route 53 takes (1,000 values,
//!    32,000 characters of values); each subject's changes in a zone stay
//!    in one batch. When Route 53 refuses a merged batch, each half goes
//!    again on its own, down to a single subject, which is set aside: k
//!    refused subjects among n cost about k·log2(n) calls, not n. A
//!    subject set aside is converged on its own afterwards, exactly as an
//!    event would (read, re-plan, split by name), so one refused change
//!    never blocks the rest.
//! 5. **Finish** each item: saved, or removed when nothing is left
//!    listed, 100 per TransactWriteItems.
//!
//! A deadline (the invocation's remaining time) stops the sends: what was
//! not sent is put back as not applied and its subject fails retryably.

use super::book::Book;
use super::Registrar;
use crate::apply::{self, Sent};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::model::{InstanceFacts, OwnedRecord, RecordType, RegistryItem, VpcFacts, ZoneInfo};
use crate::plan::{self, Change, ChangeAction, Observed, Plan, PlanInput, Targets, ZoneChanges};
use crate::ports::{Dns, Instances, Registry, Write, MAX_WRITES_AT_ONCE};
use crate::summary::{Outcome, Summary};
use std::collections::{BTreeMap, BTreeSet};
use tokio::time::Instant;
use tracing::warn;

/// Route 53's limits for one ChangeResourceRecordSets call.
pub const MAX_BATCH_VALUES: usize = 1000;
pub const MAX_BATCH_CHARACTERS: usize = 32_000;

/// Planning passes at most: each learns the names the others let go.
const PLAN_PASSES: usize = 3;

/// One instance (or one item without an instance) converged with others.
pub(crate) struct Subject {
    pub book: Book,
    pub summary: Summary,
    /// `None` for a deregistration.
    pub targets: Option<Targets>,
    pub plan: Plan,
    /// This instance's changes that went in, zone by zone.
    pub applied: Vec<ZoneChanges>,
    /// Its changes were refused or not applied in the merged pass: it is
    /// converged on its own afterwards.
    pub deferred: bool,
    /// The merged pass failed for it and left it to the next convergence.
    pub failure: Option<Error>,
    /// Its item was written ahead: it must be saved again at the end.
    pub ahead: bool,
}

impl Subject {
    pub fn new(book: Book, summary: Summary, targets: Option<Targets>) -> Subject {
        Subject {
            book,
            summary,
            targets,
            plan: Plan::default(),
            applied: Vec::new(),
            deferred: false,
            failure: None,
            ahead: false,
        }
    }

    fn deregister(&self) -> bool {
        self.targets.is_none()
    }

    /// The names, per zone, its plan may touch: those it wants and those
    /// it lists (owned or pending).
    pub fn names_touched(&self) -> BTreeMap<String, BTreeSet<String>> {
        let listed: Vec<OwnedRecord> = self
            .book
            .owned
            .iter()
            .chain(&self.book.pending)
            .cloned()
            .collect();
        match &self.targets {
            Some(t) => t.names_to_read(&listed),
            None => plan::names_of(&listed),
        }
    }

    /// Still taking part in the merged sends.
    fn active(&self) -> bool {
        !self.deferred && self.failure.is_none()
    }
}

/// What converging subjects together did.
pub(crate) struct Together {
    /// One per subject, in the order given.
    pub summaries: Vec<Summary>,
    /// ChangeResourceRecordSets calls that went in.
    pub batches_sent: usize,
}

/// The zones and VPC facts of several instances, each VPC read once.
#[derive(Default)]
pub(crate) struct Surroundings {
    zones_of: BTreeMap<Option<String>, Vec<ZoneInfo>>,
    vpcs: BTreeMap<String, Option<VpcFacts>>,
}

impl Surroundings {
    /// Reads what `facts` needs and was not read yet.
    pub async fn learn<E: Instances, D: Dns, R>(
        &mut self,
        registrar: &Registrar<E, D, R>,
        facts: &InstanceFacts,
    ) -> Result<()> {
        if !self.zones_of.contains_key(&facts.vpc_id) {
            let zones = registrar
                .dns
                .zones_visible_from(facts.vpc_id.as_deref(), &registrar.region)
                .await?;
            self.zones_of.insert(facts.vpc_id.clone(), zones);
        }
        if let Some(vpc_id) = &facts.vpc_id {
            if !self.vpcs.contains_key(vpc_id) {
                let vpc = registrar.ec2.vpc(vpc_id).await?;
                self.vpcs.insert(vpc_id.clone(), vpc);
            }
        }
        Ok(())
    }

    /// What `facts` should have, in the zones learned for it.
    pub fn targets(&self, config: &Config, facts: &InstanceFacts) -> Targets {
        plan::targets(&PlanInput {
            config,
            instance: facts,
            vpc: facts
                .vpc_id
                .as_ref()
                .and_then(|v| self.vpcs.get(v))
                .and_then(Option::as_ref),
            zones: self
                .zones_of
                .get(&facts.vpc_id)
                .map(Vec::as_slice)
                .unwrap_or_default(),
        })
    }
}

fn past(deadline: Option<Instant>) -> bool {
    deadline.is_some_and(|d| Instant::now() >= d)
}

impl<E: Sync, D: Dns + Sync, R: Registry + Sync> Registrar<E, D, R> {
    /// Steps 1 to 5 of the module docs. `seen` holds what was read of the
    /// zones (whole zones for the reconcile, some names for a batch); a
    /// subject that already failed is reported as failed and not touched.
    pub(crate) async fn converge_together(
        &self,
        mut subjects: Vec<Subject>,
        mut seen: Observed,
        deadline: Option<Instant>,
    ) -> Together {
        let deadline = deadline.or_else(super::retry::deadline);
        // What was read settles unsettled records (no call), and shows which
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
            if !self.dry_run && s.failure.is_none() && s.book.prepare(&plan) {
                ahead.push(i);
            }
            s.plan = plan;
        }
        if self.dry_run {
            let summaries = subjects
                .into_iter()
                .map(|s| match s.failure {
                    Some(e) => failed(s.summary, &e),
                    None => {
                        let mut summary = s.summary.with_plan(&s.plan);
                        summary.dry_run = true;
                        summary
                    }
                })
                .collect();
            return Together {
                summaries,
                batches_sent: 0,
            };
        }

        // Write ahead: what the batches create or delete is listed pending.
        let writes = ahead
            .iter()
            .map(|i| (*i, ItemWrite::Save(subjects[*i].book.next())))
            .collect();
        let results = self.write_items(&mut subjects, writes).await;
        for (i, result) in results {
            let s = &mut subjects[i];
            match result {
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
                if past(deadline) {
                    for (i, part) in chunk {
                        let s = &mut subjects[i];
                        s.book.not_applied(&part);
                        if s.failure.is_none() {
                            s.failure = Some(Error::OutOfTime {
                                instance_id: s.book.meta.instance_id.clone(),
                            });
                        }
                    }
                    continue;
                }
                batches_sent += self.send_merged(&mut subjects, chunk, &mut seen).await;
            }
        }

        // Finish: the ones done are saved together; failed ones save what
        // is known now (if written ahead), deferred ones converge on their
        // own, as an event would.
        let writes = subjects
            .iter()
            .enumerate()
            .filter(|(_, s)| s.active())
            .filter_map(|(i, s)| Some((i, finishing(&s.book, s.deregister())?)))
            .collect();
        let mut finished: BTreeMap<usize, Result<()>> = self
            .write_items(&mut subjects, writes)
            .await
            .into_iter()
            .collect();
        let ttl = self.config.ttl;
        for (i, s) in subjects.iter_mut().enumerate() {
            let deregister = s.deregister();
            let summary = std::mem::replace(&mut s.summary, Summary::reconciled("", ""));
            let merged = Plan {
                zones: std::mem::take(&mut s.applied),
                ..Plan::default()
            };
            if s.deferred && past(deadline) {
                s.deferred = false;
                s.failure = Some(Error::OutOfTime {
                    instance_id: s.book.meta.instance_id.clone(),
                });
            }
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
                match finished.remove(&i).unwrap_or(Ok(())) {
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
        Together {
            summaries: subjects.into_iter().map(|s| s.summary).collect(),
            batches_sent,
        }
    }

    /// Plans every subject in order, each against the zones as read, plus
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
                let plan = plan_for(s.targets.as_ref(), &s.book, &view, ttl);
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

    /// Sends one merged batch; on a refusal, each half on its own, down to
    /// one subject, which is then set aside (converged on its own later).
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
        let mut tries = 0;
        let outcome = loop {
            match apply::send(&self.dns, &batch, seen).await {
                Sent::NotApplied(e) => {
                    match super::retry::next_try(&e, tries, self.backoff, &batch.zone_id) {
                        Some((wait, _)) => {
                            warn!(zone = %batch.zone_id, error = %e, wait_ms = wait.as_millis() as u64, "merged batch not applied; trying again");
                            tokio::time::sleep(wait).await;
                            tries += 1;
                        }
                        None => break Sent::NotApplied(e),
                    }
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
                // Each half again, in order, down to one subject: the
                // halves that go in keep their changes merged, and a
                // subject refused alone is set aside. (Re-planning each
                // member against the names read cannot pick out the
                // culprit: a member's plan was made against what the
                // others planned, so it differs from a lone re-plan
                // whenever the subjects share a name.)
                let mut first = members;
                let second = first.split_off(first.len() / 2);
                let mut sent = 0;
                for half in [first, second] {
                    sent += Box::pin(self.send_merged(subjects, half, seen)).await;
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

    /// Makes each subject's item write, up to 100 in one
    /// TransactWriteItems (one alone by PutItem or DeleteItem). A
    /// transaction that fails is followed by each write alone; a write
    /// refused or unanswered then counts as made when the item read back
    /// shows it (a transaction that committed before its answer was lost).
    async fn write_items(
        &self,
        subjects: &mut [Subject],
        writes: Vec<(usize, ItemWrite)>,
    ) -> Vec<(usize, Result<()>)> {
        let mut results = Vec::with_capacity(writes.len());
        let mut writes = writes.into_iter().peekable();
        while writes.peek().is_some() {
            let chunk: Vec<(usize, ItemWrite)> = writes.by_ref().take(MAX_WRITES_AT_ONCE).collect();
            if chunk.len() > 1 {
                let all: Vec<Write<'_>> = chunk.iter().map(|(_, w)| w.as_write()).collect();
                match self.registry.write_all(&all).await {
                    Ok(()) => {
                        for (i, w) in chunk {
                            w.made(&mut subjects[i].book);
                            results.push((i, Ok(())));
                        }
                        continue;
                    }
                    Err(e) => {
                        warn!(error = %e, items = chunk.len(), "the registry items could not be written together; writing each alone")
                    }
                }
            }
            for (i, w) in chunk {
                let result = self.write_item(&w).await;
                if result.is_ok() {
                    w.made(&mut subjects[i].book);
                }
                results.push((i, result));
            }
        }
        results
    }

    /// One item write alone, confirmed by a read when its answer is a race
    /// or an AWS failure.
    async fn write_item(&self, w: &ItemWrite) -> Result<()> {
        let result = match w {
            ItemWrite::Save(item) => self.registry.save(item).await,
            ItemWrite::Remove(item) => self.registry.remove(item).await,
        };
        match result {
            Err(err @ (Error::RegistryRace { .. } | Error::Aws { .. })) => {
                match self.registry.load(&w.item().instance_id).await {
                    Ok(back) if w.shown_by(back.as_ref()) => Ok(()),
                    _ => Err(err),
                }
            }
            other => other,
        }
    }
}

/// The write an item needs: save the book's next item, or remove it.
enum ItemWrite {
    Save(RegistryItem),
    Remove(RegistryItem),
}

impl ItemWrite {
    fn item(&self) -> &RegistryItem {
        match self {
            ItemWrite::Save(item) | ItemWrite::Remove(item) => item,
        }
    }

    fn as_write(&self) -> Write<'_> {
        match self {
            ItemWrite::Save(item) => Write::Save(item),
            ItemWrite::Remove(item) => Write::Remove(item),
        }
    }

    /// The item as the table holds it once this write is made.
    fn stored(&self) -> Option<RegistryItem> {
        match self {
            ItemWrite::Save(item) => Some(RegistryItem {
                replaces: None,
                ..item.clone()
            }),
            ItemWrite::Remove(_) => None,
        }
    }

    /// Whether the item read back shows this write made.
    fn shown_by(&self, back: Option<&RegistryItem>) -> bool {
        back == self.stored().as_ref()
    }

    /// The book, once this write is made.
    fn made(&self, book: &mut Book) {
        book.stored = self.stored();
    }
}

/// The write finishing a book takes, as `finish` decides it: removed when
/// a deregistration leaves nothing listed, saved unless the stored item
/// already says it all.
fn finishing(book: &Book, deregister: bool) -> Option<ItemWrite> {
    if deregister && book.owned.is_empty() && book.pending.is_empty() {
        return book.stored.clone().map(ItemWrite::Remove);
    }
    (!book.unchanged()).then(|| ItemWrite::Save(book.next()))
}

/// The plan for a book against `view`: registration to `targets`, or
/// deregistration.
fn plan_for(targets: Option<&Targets>, book: &Book, view: &Observed, ttl: u32) -> Plan {
    match targets {
        Some(t) => plan::plan_register(t, &book.owned, &book.pending, view, ttl),
        None => plan::plan_deregister(&book.owned, view),
    }
}

/// A subject the merged pass could not converge: the next convergence
/// tries again.
pub(crate) fn failed(mut summary: Summary, e: &Error) -> Summary {
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
