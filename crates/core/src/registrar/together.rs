//! The engine: subjects converged together, their changes merged per zone.
//! Every source comes here: one event (a batch of one), an SQS batch, the
//! reconcile's listing and a DDNS request gather their subjects
//! differently and share everything after that:
//!
//! 1. **Order** the subjects by claim (`Subject::claim_order`):
//!    deregistrations first, then the earliest launched, so that among
//!    several claimants of a free name the first gets it, whatever the
//!    source.
//! 2. **Read** what the plans need, every zone at once (`read.rs`): whole
//!    zones for the reconcile, else only the names that must be read.
//! 3. **Settle** from what was read: unsettled records read gone are
//!    unlisted, owned records read changed or gone are no one's now.
//! 4. **Plan**, subject by subject, against the zones as read *plus* what
//!    the subjects before it will change, so that a name one lets go is
//!    free for a claimant in the same pass.
//! 5. **Write ahead** the items whose lists change (creates and deletes go
//!    to pending), 100 items per TransactWriteItems (`items.rs`).
//! 6. **Send** every zone at once (each zone's batch is its own
//!    compare-and-swap), the subjects' changes merged into as few batches
//!    as Route 53 takes (1,000 values, 32,000 characters of values); each
//!    subject's changes in a zone stay in one batch. When Route 53 refuses
//!    a merged batch, each half goes again on its own, down to a single
//!    subject, which is set aside: k refused subjects among n cost about
//!    k·log2(n) calls, not n. A subject set aside is converged on its own
//!    afterwards (`alone.rs`: read, re-plan, split by name), so one
//!    refused change never blocks the rest.
//! 7. **Finish** each item: saved, or removed when nothing is left
//!    listed, 100 per TransactWriteItems.
//!
//! A deadline (the invocation's remaining time) stops the sends: what was
//! not sent is put back as not applied and its subject fails retryably.

use super::items::ItemWrite;
use super::read::Reads;
use super::subject::{Refusal, Subject};
use super::Registrar;
use crate::apply::{self, Sent};
use crate::error::{Error, Result};
use crate::model::ZoneId;
use crate::plan::{Change, ChangeAction, Observed, Plan, ZoneChanges};
use crate::ports::{Dns, Registry};
use crate::summary::{Outcome, Summary};
use futures_util::future::join_all;
use std::collections::BTreeMap;
use tokio::time::Instant;
use tracing::warn;

/// Route 53's limits for one ChangeResourceRecordSets call.
pub const MAX_BATCH_VALUES: usize = 1000;
pub const MAX_BATCH_CHARACTERS: usize = 32_000;

/// Planning passes at most: each learns the names the others let go.
const PLAN_PASSES: usize = 3;

/// What became of one subject.
pub(crate) struct Converged {
    /// The source's index for it (`Subject::tag`).
    pub tag: usize,
    pub summary: Summary,
    /// Why it was not converged; the next convergence tries again.
    pub error: Option<Error>,
}

impl Converged {
    /// The summary, with the failure (if any) in it.
    pub fn into_summary(self) -> Summary {
        match self.error {
            Some(e) => failed(self.summary, &e),
            None => self.summary,
        }
    }

    /// The summary, or the failure.
    pub fn into_result(self) -> Result<Summary> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.summary),
        }
    }
}

/// What converging subjects together did.
pub(crate) struct Together {
    /// One per subject, in claim order.
    pub results: Vec<Converged>,
    /// ChangeResourceRecordSets calls that went in.
    pub batches_sent: usize,
}

/// One subject's changes in one zone: its part of a merged batch, kept
/// whole in one batch.
struct Part {
    /// The subject's index in the engine's list.
    subject: usize,
    changes: ZoneChanges,
}

/// A part and what became of it.
struct PartOutcome {
    part: Part,
    sent: PartSent,
}

/// What became of one subject's part of a merged batch.
enum PartSent {
    Applied,
    /// Refused: converged on its own later, its names now read.
    Deferred(Error),
    /// Certainly not applied (denied, or throttled past every try): the
    /// subject fails, retryably or not as the error says.
    Failed(Error),
    /// The batch's outcome is unknown: its creates and deletes stay
    /// pending, for the next convergence to settle by reading.
    Unknown(Error),
    /// Not sent: the deadline had passed.
    OutOfTime,
}

/// One zone's sends: what became of each part, what was read of the
/// zone, and how many batches went in.
struct ZoneSent {
    zone_id: ZoneId,
    parts: Vec<PartOutcome>,
    seen: Observed,
    batches: usize,
}

fn past(deadline: Option<Instant>) -> bool {
    deadline.is_some_and(|d| Instant::now() >= d)
}

impl<E: Sync, D: Dns + Sync, R: Registry + Sync> Registrar<E, D, R> {
    /// Steps 1 to 7 of the module docs. A subject that already failed (its
    /// facts could not be read) is reported as failed and not touched.
    pub(crate) async fn converge_subjects(
        &self,
        mut subjects: Vec<Subject>,
        reads: Reads,
        deadline: Option<Instant>,
    ) -> Together {
        subjects.sort_by_cached_key(Subject::claim_order);
        let seen = self.read_for(&mut subjects, reads).await;
        self.converge_together(subjects, seen, deadline).await
    }

    /// Steps 3 to 7 of the module docs, with `seen` read.
    async fn converge_together(
        &self,
        mut subjects: Vec<Subject>,
        mut seen: Observed,
        deadline: Option<Instant>,
    ) -> Together {
        let deadline = deadline.or_else(super::retry::deadline);
        // What was read settles unsettled records (no call), and shows which
        // owned records vanished: those are no one's now, before anyone
        // plans (else a claimant's planned record would look like theirs).
        let now = (self.clock)();
        for s in &mut subjects {
            let vanished = s.book.settle_absent(|r| seen.holds(r) == Some(false), now);
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
            if !self.dry_run && s.failure.is_none() && s.book.prepare(&plan, now) {
                // Written ahead, unless the table lists it all already.
                match s.book.lists_as_stored() {
                    true => s.ahead = true,
                    false => ahead.push(i),
                }
            }
            s.plan = plan;
        }
        if self.dry_run {
            let results = subjects
                .into_iter()
                .map(|s| {
                    let mut summary = s.summary.with_plan(&s.plan);
                    summary.dry_run = true;
                    Converged {
                        tag: s.tag,
                        summary,
                        error: s.failure,
                    }
                })
                .collect();
            return Together {
                results,
                batches_sent: 0,
            };
        }

        // Write ahead: what the batches create or delete is listed pending.
        let writes = ahead
            .iter()
            .map(|i| (*i, ItemWrite::Save(subjects[*i].book.next())))
            .collect();
        let results = self.write_items(&mut subjects, writes, true).await;
        for (i, result) in results {
            let s = &mut subjects[i];
            match result {
                Ok(()) => s.ahead = true,
                Err(e) => {
                    warn!(subject = %s.book.meta.key, error = %e, "could not write the registry item ahead; left to the next convergence");
                    s.failure = Some(e);
                }
            }
        }

        // Send every zone at once, merged within limits.
        let mut by_zone: BTreeMap<ZoneId, Vec<Part>> = BTreeMap::new();
        for (i, s) in subjects.iter_mut().enumerate() {
            for z in std::mem::take(&mut s.plan.zones) {
                if s.active() {
                    by_zone.entry(z.zone_id.clone()).or_default().push(Part {
                        subject: i,
                        changes: z,
                    });
                } else {
                    // Not sent: it created nothing and deleted nothing.
                    s.book.not_applied(&z);
                }
            }
        }
        let sends = by_zone.into_iter().map(|(zone_id, members)| {
            let view = seen.zone(&zone_id);
            self.send_zone(zone_id, members, view, deadline)
        });
        let mut batches_sent = 0;
        for zone in join_all(sends).await {
            batches_sent += zone.batches;
            seen.absorb_zone(&zone.zone_id, zone.seen);
            for PartOutcome { part, sent } in zone.parts {
                let Part { subject, changes } = part;
                let s = &mut subjects[subject];
                match sent {
                    PartSent::Applied => {
                        s.book.applied(&changes);
                        s.applied.push(changes);
                    }
                    PartSent::Deferred(refusal) => {
                        s.book.not_applied(&changes);
                        s.deferred = true;
                        s.refused.push(Refusal {
                            changes,
                            error: refusal,
                        });
                    }
                    PartSent::Failed(e) => {
                        s.book.not_applied(&changes);
                        s.failure.get_or_insert(e);
                    }
                    PartSent::Unknown(e) => {
                        s.failure.get_or_insert(e);
                    }
                    PartSent::OutOfTime => {
                        s.book.not_applied(&changes);
                        s.failure.get_or_insert(Error::OutOfTime {
                            instance_id: s.book.meta.key.to_string(),
                        });
                    }
                }
            }
        }

        // Finish: the ones done are saved together; failed ones save what
        // is known now (if written ahead), deferred ones converge on their
        // own.
        let writes = subjects
            .iter()
            .enumerate()
            .filter(|(_, s)| s.active())
            .filter_map(|(i, s)| Some((i, ItemWrite::finishing(&s.book, s.deregister())?)))
            .collect();
        let mut finished = self.write_items(&mut subjects, writes, false).await;
        let mut results = Vec::with_capacity(subjects.len());
        for (i, mut s) in subjects.into_iter().enumerate() {
            let deregister = s.deregister();
            let merged = Plan {
                zones: std::mem::take(&mut s.applied),
                ..Plan::default()
            };
            if s.deferred && s.failure.is_none() && past(deadline) {
                s.failure = Some(Error::OutOfTime {
                    instance_id: s.book.meta.key.to_string(),
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
                let summary = s.summary.clone().with_plan(&merged);
                let refused = std::mem::take(&mut s.refused);
                self.converge_alone(&mut s.book, &mut seen, summary, &s.wants, refused)
                    .await
            } else {
                match finished.remove(&i).unwrap_or(Ok(())) {
                    Ok(()) => Ok(s.summary.clone().with_plan(&Plan {
                        zones: merged.zones,
                        ..std::mem::take(&mut s.plan)
                    })),
                    Err(e) => Err(e),
                }
            };
            results.push(match result {
                Ok(mut done) => {
                    if deregister {
                        super::note_left_pending(&s.book, &seen, &mut done);
                    }
                    Converged {
                        tag: s.tag,
                        summary: done,
                        error: None,
                    }
                }
                Err(e) => Converged {
                    tag: s.tag,
                    summary: s.summary,
                    error: Some(e),
                },
            });
        }
        Together {
            results,
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
                let plan = s.wants.plan(&s.book, &view, ttl);
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

    /// Sends one zone's parts, merged within Route 53's limits, in order;
    /// `seen` is what was read of this zone.
    async fn send_zone(
        &self,
        zone_id: ZoneId,
        members: Vec<Part>,
        mut seen: Observed,
        deadline: Option<Instant>,
    ) -> ZoneSent {
        let mut parts = Vec::with_capacity(members.len());
        let mut batches = 0;
        for chunk in chunks(members) {
            if past(deadline) {
                parts.extend(chunk.into_iter().map(|part| PartOutcome {
                    part,
                    sent: PartSent::OutOfTime,
                }));
                continue;
            }
            batches += self.send_merged(chunk, &mut seen, &mut parts).await;
        }
        ZoneSent {
            zone_id,
            parts,
            seen,
            batches,
        }
    }

    /// Sends one merged batch; on a refusal, each half on its own, down to
    /// one subject, which is then set aside (converged on its own later).
    /// What became of each part goes to `parts`; returns the number of
    /// batches that went in.
    async fn send_merged(
        &self,
        members: Vec<Part>,
        seen: &mut Observed,
        parts: &mut Vec<PartOutcome>,
    ) -> usize {
        let Some(first) = members.first() else {
            return 0;
        };
        let batch = merge(&first.changes, &members);
        let mut tries = 0;
        let outcome = loop {
            match apply::send(&self.dns, &batch, seen).await {
                Sent::NotApplied(e) => {
                    match super::retry::next_try(&e, tries, self.backoff, &batch.zone_id) {
                        Some(super::retry::NextTry { wait, .. }) => {
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
                parts.extend(members.into_iter().map(|part| PartOutcome {
                    part,
                    sent: PartSent::Applied,
                }));
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
                    sent += Box::pin(self.send_merged(half, seen, parts)).await;
                }
                sent
            }
            Sent::Refused(e) => {
                if let Some(part) = members.into_iter().next() {
                    parts.push(PartOutcome {
                        part,
                        sent: PartSent::Deferred(e),
                    });
                }
                0
            }
            Sent::NotApplied(e) => {
                parts.extend(members.into_iter().map(|part| PartOutcome {
                    part,
                    sent: PartSent::Failed(e.clone()),
                }));
                0
            }
            Sent::Unknown(e) => {
                parts.extend(members.into_iter().map(|part| PartOutcome {
                    part,
                    sent: PartSent::Unknown(e.clone()),
                }));
                0
            }
        }
    }
}

/// A subject the engine could not converge: the next convergence tries
/// again.
pub(crate) fn failed(mut summary: Summary, e: &Error) -> Summary {
    warn!(subject = %summary.instance_id, error = %e, "not converged; the next convergence tries again");
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
fn merge(first: &ZoneChanges, members: &[Part]) -> ZoneChanges {
    let all = || members.iter().flat_map(|m| m.changes.changes.iter());
    let deletes = all().filter(|c| c.action == ChangeAction::Delete);
    let others = all().filter(|c| c.action != ChangeAction::Delete);
    ZoneChanges {
        zone_id: first.zone_id.clone(),
        zone_name: first.zone_name.clone(),
        changes: deletes.chain(others).cloned().collect::<Vec<Change>>(),
    }
}

/// What a part adds to a batch, in the units of Route 53's limits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Weight {
    /// Values (a change without values, an alias, counts as one).
    values: usize,
    /// Characters of values.
    characters: usize,
}

impl Weight {
    /// Whether a batch this heavy is within Route 53's limits.
    fn fits(self) -> bool {
        self.values <= MAX_BATCH_VALUES && self.characters <= MAX_BATCH_CHARACTERS
    }
}

impl std::ops::Add for Weight {
    type Output = Weight;
    fn add(self, other: Weight) -> Weight {
        Weight {
            values: self.values + other.values,
            characters: self.characters + other.characters,
        }
    }
}

/// What `part` adds to a batch.
fn weight(part: &ZoneChanges) -> Weight {
    part.changes
        .iter()
        .map(|c| {
            let values = c.record.values();
            Weight {
                values: values.len().max(1),
                characters: values.iter().map(String::len).sum(),
            }
        })
        .fold(Weight::default(), |total, w| total + w)
}

/// Members grouped into batches within Route 53's limits, in order; a part
/// too big for any batch goes alone (and Route 53 says why).
fn chunks(members: Vec<Part>) -> Vec<Vec<Part>> {
    let mut out: Vec<Vec<Part>> = Vec::new();
    let mut filled = Weight::default();
    for member in members {
        let w = weight(&member.changes);
        match out.last_mut() {
            Some(batch) if (filled + w).fits() => {
                batch.push(member);
                filled = filled + w;
            }
            _ => {
                out.push(vec![member]);
                filled = w;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{RecordSet, RecordType};

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

    fn member(subject: usize, changes: ZoneChanges) -> Part {
        Part { subject, changes }
    }

    #[test]
    fn batches_stay_within_route_53_s_limits_and_keep_each_part_whole() {
        // 300 parts of 4 one-value changes: 1,200 values → two batches.
        let members: Vec<_> = (0..300).map(|i| member(i, part("Z1", 4, 10))).collect();
        let batches = chunks(members);
        assert_eq!(batches.iter().map(Vec::len).collect::<Vec<_>>(), [250, 50]);
        // Long values: 32,000 characters at most.
        let members: Vec<_> = (0..10).map(|i| member(i, part("Z1", 2, 4000))).collect();
        let batches = chunks(members);
        assert_eq!(batches.iter().map(Vec::len).collect::<Vec<_>>(), [4, 4, 2]);
        for b in &batches {
            let total = b
                .iter()
                .map(|m| weight(&m.changes))
                .fold(Weight::default(), |a, w| a + w);
            assert!(total.fits(), "{total:?}");
        }
        // A part bigger than a batch goes alone.
        let batches = chunks(vec![
            member(0, part("Z1", 2, 10)),
            member(1, part("Z1", 1001, 1)),
            member(2, part("Z1", 2, 10)),
        ]);
        assert_eq!(batches.iter().map(Vec::len).collect::<Vec<_>>(), [1, 1, 1]);
        // The subjects stay in order, each part whole.
        let order: Vec<usize> = batches.iter().flatten().map(|m| m.subject).collect();
        assert_eq!(order, [0, 1, 2]);
    }

    #[test]
    fn a_merged_batch_deletes_before_it_creates() {
        let merged = merge(
            &part("Z1", 2, 1),
            &[member(0, part("Z1", 2, 1)), member(1, part("Z1", 2, 1))],
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
