//! One subject converged on its own, in rounds: plan, write the item
//! ahead, send each zone's batch and settle it; after a refusal (its names
//! now read) or a change that was certainly not applied, plan again, until
//! nothing is left to do. The merged pass (`together.rs`) hands a subject
//! here when Route 53 refuses its part of a merged batch, so that one
//! refused change never blocks the rest. Zones with host A records go
//! first: the PTR and the aliases depend on whether the host A is ours,
//! and a refusal there changes their plan.

use super::book::Book;
use super::subject::{Refusal, Wants};
use super::{retry, Registrar, ROUNDS};
use crate::apply::{self, Sent};
use crate::error::{Error, Result};
use crate::model::RecordType;
use crate::names::clip;
use crate::plan::{ChangeAction, Conflict, ConflictKind, Observed, Plan, ZoneChanges};
use crate::ports::{Dns, Registry};
use crate::summary::Summary;
use tracing::warn;

impl<E: Sync, D: Dns + Sync, R: Registry + Sync> Registrar<E, D, R> {
    /// Plans, writes the item ahead, sends each zone's batch and settles it,
    /// and plans again after a refusal (its names read) or a change that was
    /// certainly not applied, until nothing is left to do. Ends by saving
    /// the item (or, for a deregistration that leaves nothing listed,
    /// removing it).
    pub(crate) async fn converge_alone(
        &self,
        book: &mut Book,
        seen: &mut Observed,
        summary: Summary,
        wants: &Wants,
        mut refused_before: Vec<Refusal>,
    ) -> Result<Summary> {
        let deregister = matches!(wants, Wants::Nothing);
        let ttl = self.config.ttl;
        let mut applied: Vec<ZoneChanges> = Vec::new();
        let mut refused: Vec<Conflict> = Vec::new();
        let mut last_failure: Option<Error> = None;
        let mut settled = false;
        let mut tries = 0;
        let mut plan = Plan::default();
        let mut round = 0;
        while round < ROUNDS {
            round += 1;
            plan = wants.plan(book, seen, ttl);
            book.owned.retain(|o| !plan.dropped.contains(o));
            if self.dry_run {
                return Ok(summary.with_plan(&plan));
            }
            if plan.change_count() == 0 {
                settled = true;
                break;
            }
            // Written ahead unless the table lists it all already (the
            // merged pass wrote it before a refusal sent the subject here).
            if book.prepare(&plan, (self.clock)()) && !book.lists_as_stored() {
                self.save(book).await?;
            }
            let mut again = false;
            let batches = ordered(&plan.zones);
            for (i, batch) in batches.iter().copied().enumerate() {
                // Batches not sent this round created nothing.
                let unsent = &batches[i + 1..];
                // A batch Route 53 refused already, unchanged, is not sent
                // again: its refusal is taken as it was.
                let known = refused_before.iter().position(|r| {
                    r.changes.zone_id == batch.zone_id && r.changes.changes == batch.changes
                });
                let sent = match known {
                    Some(k) => Sent::Refused(refused_before.remove(k).error),
                    None => apply::send(&self.dns, batch, seen).await,
                };
                match sent {
                    Sent::Applied => {
                        book.applied(batch);
                        applied.push(batch.clone());
                    }
                    Sent::Refused(err) => {
                        let mut unchanged = book.clone();
                        unchanged.not_applied(batch);
                        let replanned = wants.plan(&unchanged, seen, ttl);
                        let same = replanned
                            .zones
                            .iter()
                            .any(|z| z.zone_id == batch.zone_id && z.changes == batch.changes);
                        if same {
                            // The read does not explain the refusal: send
                            // the batch a name at a time, so the rest goes in.
                            let units =
                                self.send_units(batch, book, seen, &mut applied, &err).await;
                            refused.extend(units);
                            continue;
                        }
                        *book = unchanged;
                        unsent.iter().for_each(|b| book.not_applied(b));
                        again = true;
                        break;
                    }
                    Sent::NotApplied(err) => {
                        book.not_applied(batch);
                        unsent.iter().for_each(|b| book.not_applied(b));
                        if !err.is_retryable() {
                            self.finish(book, deregister).await?;
                            return Err(err);
                        }
                        let key = book.meta.key.to_string();
                        match retry::next_try(&err, tries, self.backoff, &key) {
                            Some(retry::NextTry { wait, free }) => {
                                warn!(zone = %batch.zone_id, error = %err, wait_ms = wait.as_millis() as u64, "change not applied; trying again");
                                tokio::time::sleep(wait).await;
                                tries += 1;
                                if free {
                                    round -= 1;
                                }
                            }
                            None => round = ROUNDS,
                        }
                        last_failure = Some(err);
                        again = true;
                        break;
                    }
                    Sent::Unknown(err) => {
                        // The batch's creates stay pending; whatever else is
                        // known is saved, if the registry lets us.
                        unsent.iter().for_each(|b| book.not_applied(b));
                        if let Err(save_err) = self.finish(book, deregister).await {
                            warn!(error = %save_err, "could not save the registry item after a change whose outcome is unknown");
                        }
                        return Err(err);
                    }
                }
            }
            if !again {
                settled = true;
                break;
            }
        }
        self.finish(book, deregister).await?;
        if !settled {
            return Err(last_failure.unwrap_or_else(|| Error::ZoneChanged {
                zone_id: plan
                    .zones
                    .first()
                    .map(|z| z.zone_id.to_string())
                    .unwrap_or_default(),
                message: format!("the zones kept changing over {ROUNDS} plans"),
            }));
        }
        plan.conflicts.extend(refused);
        Ok(summary.with_plan(&Plan {
            zones: applied,
            ..plan
        }))
    }

    /// Sends a refused batch one name at a time; a unit refused alone is
    /// reported as a conflict with Route 53's words.
    async fn send_units(
        &self,
        batch: &ZoneChanges,
        book: &mut Book,
        seen: &mut Observed,
        applied: &mut Vec<ZoneChanges>,
        refusal: &Error,
    ) -> Vec<Conflict> {
        warn!(zone = %batch.zone_id, error = %refusal, "Route 53 refused a batch the zone as read does not explain; sending it a name at a time");
        let mut refused = Vec::new();
        for unit in apply::units(batch) {
            match apply::send(&self.dns, &unit, seen).await {
                Sent::Applied => {
                    book.applied(&unit);
                    applied.push(unit);
                }
                Sent::Refused(err) | Sent::NotApplied(err) => {
                    book.not_applied(&unit);
                    refused.extend(
                        unit.changes
                            .iter()
                            .filter(|c| c.action != ChangeAction::Delete)
                            .map(|c| Conflict {
                                zone_id: unit.zone_id.clone(),
                                zone_name: unit.zone_name.clone(),
                                name: c.record.name.clone(),
                                rtype: c.record.rtype.clone(),
                                set_id: c.record.routing.set_id().map(str::to_string),
                                kind: ConflictKind::Refused,
                                reason: refusal_reason(&err),
                            }),
                    );
                }
                // Its creates stay pending; the next event settles them.
                Sent::Unknown(_) => {}
            }
        }
        refused
    }
}

/// A refusal in a conflict's few words: Route 53's code and message,
/// clipped.
fn refusal_reason(err: &Error) -> String {
    match err {
        Error::BatchRefused { code, message, .. } => {
            format!("Route 53 refused the change: {code}: {}", clip(message))
        }
        Error::ZoneChanged { message, .. } => {
            format!(
                "Route 53 refused the change: the zone changed ({})",
                clip(message)
            )
        }
        other => format!(
            "Route 53 did not take the change: {}",
            clip(&other.to_string())
        ),
    }
}

/// Batches with host A records first: the PTR and the aliases depend on
/// whether the host A is ours, and a refusal there changes their plan.
fn ordered(zones: &[ZoneChanges]) -> Vec<&ZoneChanges> {
    let mut ordered: Vec<&ZoneChanges> = zones.iter().collect();
    ordered.sort_by_key(|z| !z.changes.iter().any(|c| c.record.rtype == RecordType::A));
    ordered
}
