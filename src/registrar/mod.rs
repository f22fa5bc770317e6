//! The one place where event, facts, plan, apply and registry meet. The
//! Lambda handler, the CLI and the scenarios all call `Registrar::handle`.
//!
//! The states a record of an instance goes through, as the registry item
//! lists it:
//!
//! | state     | how it gets there                                                   | what may be done to it                      |
//! |-----------|---------------------------------------------------------------------|---------------------------------------------|
//! | wanted    | the plan wants it; nothing listed yet                               | nothing: it is not written yet              |
//! | pending   | listed *before* the batch that creates it is sent                   | nothing until the batch is settled          |
//! | owned     | the batch answered OK, or a read in the same invocation proved it   | kept while equal; replaced (DELETE exactly it + CREATE) or deleted |
//! | releasing | an owned record moved to pending *before* the batch that deletes it | nothing until the batch is settled          |
//! | unlisted  | deleted (proven), or read changed or gone (someone else's now)      | —                                           |
//! | unsettled | pending or releasing, and the invocation ended without knowing      | read by the next event: gone or different → unlisted; still equal → stays listed, never deleted, a conflict if wanted |
//!
//! A batch whose outcome is settled puts its records back where they
//! belong: applied → creates owned, deletes unlisted; certainly not applied
//! → creates unlisted, deletes owned again. So the stored item always lists
//! every record this instance may have written (owned, or pending), and it
//! claims as owned only records whose write is proven and that no batch of
//! ours may have deleted. A crash between any two calls keeps both. One
//! exception, on purpose: a record two items own (someone deleted it and
//! an identical one was written again) is let go by both in the reconcile,
//! because no read can tell whose it is (`reconcile.rs`).
//!
//! Every event is a hint: the instance is described and its live state
//! decides (`plan::intent`); `reconcile.rs` does the same for every
//! instance at once.

use crate::apply::{self, Sent};
use crate::calls::CallLog;
use crate::config::Config;
use crate::error::{Error, Result};
mod batch;
mod book;
mod host;
mod reconcile;
mod retry;
mod together;

pub use retry::within;

pub use reconcile::{Reconciled, Totals};

use crate::event::InstanceEvent;
use crate::model::{InstanceFacts, InstanceState, OwnedRecord, RegistryItem, VpcFacts, ZoneInfo};
use crate::plan::{self, ChangeAction, Conflict, Intent, Observed, Plan, PlanInput, ZoneChanges};
use crate::ports::{Dns, Instances, Registry};
use crate::summary::Summary;
use book::{Book, Cause};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use tracing::{info, warn};

/// Plans made per event at most: the first, and one after each refusal or
/// retried failure. Each refusal teaches the plan something (the names are
/// read), so a few rounds converge unless the zone keeps changing.
const ROUNDS: u32 = 4;

/// Describes of an instance per event when EC2 does not know it yet, or
/// knows it running without a private address (eventual consistency).
pub(crate) const DESCRIBE_ATTEMPTS: u32 = 3;

/// The registrar, generic over its three ports so the in-memory account
/// and the real AWS clients are interchangeable.
pub struct Registrar<E, D, R> {
    pub ec2: E,
    pub dns: D,
    pub registry: R,
    pub config: Config,
    /// Region of the VPCs, for private-zone associations.
    pub region: String,
    /// Read everything, plan, write nothing.
    pub dry_run: bool,
    /// First wait after a throttled change; doubled each time.
    pub backoff: Duration,
    /// The clients' call counter, when they count: a reconcile reports it.
    pub calls: Option<CallLog>,
}

impl<E, D, R> Registrar<E, D, R> {
    /// The only way to build one: every adapter (AWS clients, the in-memory
    /// account, a test's fault-injecting wrapper) comes through here.
    pub fn new(ec2: E, dns: D, registry: R, config: Config, region: impl Into<String>) -> Self {
        Registrar {
            ec2,
            dns,
            registry,
            config,
            region: region.into(),
            dry_run: false,
            backoff: Duration::from_millis(200),
            calls: None,
        }
    }

    /// The same registrar, reporting the calls `calls` counts.
    pub fn with_calls(mut self, calls: CallLog) -> Self {
        self.calls = Some(calls);
        self
    }

    /// The same registrar, reading and planning but writing nothing.
    pub fn with_dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    /// The same registrar, waiting `backoff` (then twice as long, …) after a
    /// throttled change before it tries again.
    pub fn with_backoff(mut self, backoff: Duration) -> Self {
        self.backoff = backoff;
        self
    }
}

impl<E: Instances + Sync, D: Dns + Sync, R: Registry + Sync> Registrar<E, D, R> {
    /// Converges the instance an event names to its live state (the event
    /// is only a hint). `Err` only for failures; conflicts and rejections
    /// are part of a successful summary.
    pub async fn handle(&self, event: &InstanceEvent) -> Result<Summary> {
        let summary = Summary::of(event);
        let mut summary = match self.needs_nothing(event) {
            Some(why) => summary.note(why),
            None => self.converge_instance(event, summary).await?,
        };
        summary.dry_run = self.dry_run;
        info!(
            instance = %summary.instance_id,
            state = summary.state.map(|s| s.as_str()).unwrap_or("tag change"),
            live_state = summary.live_state.map(|s| s.as_str()).unwrap_or("-"),
            outcome = summary.outcome.as_str(),
            changes = summary.changes.len(),
            conflicts = summary.conflicts.len(),
            "event handled"
        );
        Ok(summary)
    }

    /// Why an event needs no work at all, when it needs none: a tag change
    /// of tags the registrar does not read, or `pending`.
    fn needs_nothing(&self, event: &InstanceEvent) -> Option<String> {
        if event.is_tag_change() && !self.config.watches_any(&event.changed_tags) {
            Some(format!(
                "none of the tags the registrar reads ({}, {}, {}) changed: nothing to do",
                self.config.zone_tag, self.config.cname_tag, self.config.hostname_tag
            ))
        } else if event.state == Some(InstanceState::Pending) {
            Some("state 'pending' needs nothing: the running event follows".into())
        } else {
            None
        }
    }

    /// `Some(note)` when the registry has already applied a newer event.
    /// An event without a time is never stale; it is judged by the live
    /// state alone. The live state decides in any case; this only saves
    /// the calls for an event that can teach nothing new: the convergence
    /// that stored the newer time described the instance after it.
    fn stale(event: &InstanceEvent, item: Option<&RegistryItem>) -> Option<String> {
        let last = item?.last_event_time?;
        let time = event.time?;
        (time < last).then(|| {
            format!(
                "event time {} is older than the last event applied ({}); nothing changed",
                crate::model::format_time(&time),
                crate::model::format_time(&last)
            )
        })
    }

    /// The instance's item, and the note a foreign or damaged one earns.
    async fn load(&self, instance_id: &str, summary: &mut Summary) -> Result<Option<RegistryItem>> {
        let item = self.registry.load(instance_id).await?;
        if let Some(found) = item.as_ref().and_then(|i| i.replaces.as_ref()) {
            warn!(instance = instance_id, "{}", found.note());
            summary.notes.push(found.note());
        }
        Ok(item)
    }

    /// Describes the instance. EC2 is eventually consistent: right after a
    /// launch it may not know the instance, or know it without its private
    /// address yet. Both are described again, with backoff; a running
    /// instance still without an address fails retryably (`NotReady`), an
    /// instance still unknown is `None`.
    async fn describe(&self, event: &InstanceEvent) -> Result<Option<InstanceFacts>> {
        let mut wait = self.backoff * 5;
        let mut attempt = 1;
        loop {
            let live = self.ec2.instance(&event.instance_id).await?;
            let not_ready = not_ready(event, live.as_ref());
            let Some(message) = not_ready else {
                return Ok(live);
            };
            if attempt == DESCRIBE_ATTEMPTS {
                return match live {
                    None => Ok(None),
                    Some(_) => Err(Error::NotReady {
                        instance_id: event.instance_id.clone(),
                        message: format!("{message} after {DESCRIBE_ATTEMPTS} attempts"),
                    }),
                };
            }
            warn!(instance = %event.instance_id, "the instance {message}; describing it again");
            tokio::time::sleep(wait).await;
            wait *= 2;
            attempt += 1;
        }
    }

    /// Load, describe, decide, converge: one instance, as an event asks.
    async fn converge_instance(
        &self,
        event: &InstanceEvent,
        mut summary: Summary,
    ) -> Result<Summary> {
        let item = self.load(&event.instance_id, &mut summary).await?;
        if let Some(note) = Self::stale(event, item.as_ref()) {
            return Ok(summary.note(note));
        }
        // `terminated` is final: no describe.
        let terminated = event.state == Some(InstanceState::Terminated);
        if terminated && item.is_none() {
            return Ok(summary.note("no records registered for this instance"));
        }
        let live = if terminated {
            None
        } else {
            self.describe(event).await?
        };
        summary.live_state = live.as_ref().map(|i| i.state);
        let cause = Cause {
            instance_id: &event.instance_id,
            event_id: &event.event_id,
            time: event.time,
            state: summary.live_state.or(event.state),
        };
        match plan::intent(live.as_ref(), self.config.on_stop) {
            Intent::Hold(why) => Ok(summary.note(why)),
            Intent::Deregister(why) => match item {
                Some(item) => {
                    let mut book = Book::open(cause, Some(item));
                    let mut seen = Observed::default();
                    let summary = summary.note(format!("{why}: deleting what it owns"));
                    self.deregister(&mut book, &mut seen, summary).await
                }
                None => Ok(self.nothing_registered(summary, event, &why, live.is_some())),
            },
            Intent::Register(facts) => {
                let (zones, vpc) = self.surroundings(&facts).await?;
                let mut book = Book::open(cause, item);
                let mut seen = Observed::default();
                self.register(&mut book, &mut seen, &facts, &zones, vpc.as_ref(), summary)
                    .await
            }
        }
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
        if !known && event.state != Some(InstanceState::Terminated) {
            summary.warning(format!(
                "EC2 does not know instance {} in {}; nothing was registered (is the event from another account or region, or the instance id a placeholder?)",
                event.instance_id, self.region
            ))
        } else {
            summary.note(format!("{why}; no records registered for this instance"))
        }
    }

    /// The zones the instance can be written into, and its VPC's facts.
    async fn surroundings(
        &self,
        instance: &InstanceFacts,
    ) -> Result<(Vec<ZoneInfo>, Option<VpcFacts>)> {
        let zones = self
            .dns
            .zones_visible_from(instance.vpc_id.as_deref(), &self.region)
            .await?;
        let vpc = match &instance.vpc_id {
            Some(vpc_id) => self.ec2.vpc(vpc_id).await?,
            None => None,
        };
        Ok((zones, vpc))
    }

    /// Converges `book` to the records `instance` should have. `seen` may
    /// already hold what was read (the reconcile lists zones whole).
    pub(crate) async fn register(
        &self,
        book: &mut Book,
        seen: &mut Observed,
        instance: &InstanceFacts,
        zones: &[ZoneInfo],
        vpc: Option<&VpcFacts>,
        summary: Summary,
    ) -> Result<Summary> {
        let targets = plan::targets(&PlanInput {
            config: &self.config,
            instance,
            vpc,
            zones,
        });
        book.facts(instance);
        self.settle_unsettled(book, seen).await?;
        if self.dry_run {
            let listed: Vec<OwnedRecord> =
                book.owned.iter().chain(&book.pending).cloned().collect();
            self.read(seen, targets.names_to_read(&listed)).await?;
        }
        let ttl = self.config.ttl;
        self.converge(book, seen, summary, false, |owned, unsettled, seen| {
            plan::plan_register(&targets, owned, unsettled, seen, ttl)
        })
        .await
    }
}

/// What needs no EC2: reading names, settling, converging one item's
/// records, saving it. The DDNS endpoint's hosts use this too.
impl<E: Sync, D: Dns + Sync, R: Registry + Sync> Registrar<E, D, R> {
    /// Reads the names in `wanted` not read yet into `seen`.
    pub(crate) async fn read(
        &self,
        seen: &mut Observed,
        wanted: BTreeMap<String, BTreeSet<String>>,
    ) -> Result<()> {
        for (zone_id, names) in seen.unread(wanted) {
            let found = self.dns.records_at(&zone_id, &names).await?;
            seen.learn(&zone_id, &names, found);
        }
        Ok(())
    }

    /// Records an earlier invocation sent without learning the outcome: each
    /// is read; one that is gone or different is unlisted (whatever it was,
    /// it is not ours now), one still there stays pending.
    pub(crate) async fn settle_unsettled(
        &self,
        book: &mut Book,
        seen: &mut Observed,
    ) -> Result<()> {
        if book.pending.is_empty() {
            return Ok(());
        }
        self.read(seen, plan::names_of(&book.pending)).await?;
        book.pending.retain(|p| seen.holds(p) != Some(false));
        Ok(())
    }

    /// Deletes what `book` owns (each record only while it is still as
    /// written) and removes the item when nothing is left listed.
    pub(crate) async fn deregister(
        &self,
        book: &mut Book,
        seen: &mut Observed,
        summary: Summary,
    ) -> Result<Summary> {
        self.settle_unsettled(book, seen).await?;
        if self.dry_run {
            self.read(seen, plan::names_of(&book.owned)).await?;
        }
        let mut summary = self
            .converge(book, seen, summary, true, |owned, _, seen| {
                plan::plan_deregister(owned, seen)
            })
            .await?;
        note_left_pending(book, &mut summary);
        Ok(summary)
    }

    /// Plans, writes the item ahead, sends each zone's batch and settles it,
    /// and plans again after a refusal (its names read) or a change that was
    /// certainly not applied, until nothing is left to do. Ends by saving
    /// the item (or, for a deregistration that leaves nothing listed,
    /// removing it).
    pub(crate) async fn converge(
        &self,
        book: &mut Book,
        seen: &mut Observed,
        summary: Summary,
        deregister: bool,
        plan_with: impl Fn(&[OwnedRecord], &[OwnedRecord], &Observed) -> Plan,
    ) -> Result<Summary> {
        let mut applied: Vec<ZoneChanges> = Vec::new();
        let mut refused: Vec<Conflict> = Vec::new();
        let mut last_failure: Option<Error> = None;
        let mut settled = false;
        let mut tries = 0;
        let mut plan = Plan::default();
        let mut round = 0;
        while round < ROUNDS {
            round += 1;
            plan = plan_with(&book.owned, &book.pending, seen);
            book.owned.retain(|o| !plan.dropped.contains(o));
            if self.dry_run {
                return Ok(summary.with_plan(&plan));
            }
            if plan.change_count() == 0 {
                settled = true;
                break;
            }
            if book.prepare(&plan) {
                self.save(book).await?;
            }
            let mut again = false;
            let batches = ordered(&plan.zones);
            for (i, batch) in batches.iter().copied().enumerate() {
                // Batches not sent this round created nothing.
                let unsent = &batches[i + 1..];
                match apply::send(&self.dns, batch, seen).await {
                    Sent::Applied => {
                        book.applied(batch);
                        applied.push(batch.clone());
                    }
                    Sent::Refused(err) => {
                        let mut unchanged = book.clone();
                        unchanged.not_applied(batch);
                        let replanned = plan_with(&unchanged.owned, &unchanged.pending, seen);
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
                        let key = &book.meta.instance_id;
                        match retry::next_try(&err, tries, self.backoff, key) {
                            Some((wait, free)) => {
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
                    .map(|z| z.zone_id.clone())
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
    pub(crate) async fn send_units(
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
                                reason: format!("Route 53 refused the change: {err}"),
                            }),
                    );
                }
                // Its creates stay pending; the next event settles them.
                Sent::Unknown(_) => {}
            }
        }
        refused
    }

    /// Saves the item, or removes it when a deregistration leaves nothing
    /// listed; skipped when the stored item already says it all.
    pub(crate) async fn finish(&self, book: &mut Book, deregister: bool) -> Result<()> {
        if deregister && book.owned.is_empty() && book.pending.is_empty() {
            if let Some(stored) = book.stored.take() {
                if let Err(err) = self.registry.remove(&stored).await {
                    book.stored = Some(stored);
                    return Err(err);
                }
            }
            return Ok(());
        }
        if book.unchanged() {
            return Ok(());
        }
        self.save(book).await
    }

    /// A conditional save. When its answer is lost, the item is read back:
    /// if it says what we saved, the save happened.
    async fn save(&self, book: &mut Book) -> Result<()> {
        let item = book.next();
        // As the table holds it once saved: ours, replacing nothing.
        let saved = RegistryItem {
            replaces: None,
            ..item.clone()
        };
        match self.registry.save(&item).await {
            Ok(()) => {}
            Err(err @ Error::Aws { .. }) if err.is_retryable() => {
                let back = self.registry.load(&item.instance_id).await?;
                if back.as_ref() != Some(&saved) {
                    return Err(err);
                }
            }
            Err(err) => return Err(err),
        }
        book.stored = Some(saved);
        Ok(())
    }
}

/// Why a description does not show the instance ready to register yet,
/// when it does not: EC2 is eventually consistent right after a launch.
fn not_ready(event: &InstanceEvent, live: Option<&InstanceFacts>) -> Option<&'static str> {
    match live {
        Some(i) if i.state == InstanceState::Running && i.private_ip.is_none() => {
            Some("is running but has no private IPv4 address yet")
        }
        // A `running` event before EC2's own view has caught up.
        Some(i)
            if i.state == InstanceState::Pending && event.state == Some(InstanceState::Running) =>
        {
            Some("was reported running but is still pending in EC2's view")
        }
        None if event.state == Some(InstanceState::Running) => {
            Some("was reported running but is not known to EC2 yet")
        }
        _ => None,
    }
}

/// After a deregistration: the records left listed as pending, named, so a
/// person can delete them if they are stale.
fn note_left_pending(book: &Book, summary: &mut Summary) {
    for p in &book.pending {
        summary.notes.push(format!(
            "{} {} in {} is left alone and stays listed as pending: an earlier invocation sent it but never learned whether Route 53 applied it, so it cannot be proven this instance's (delete it by hand if it is)",
            p.record.name, p.record.rtype, p.zone_name
        ));
    }
}

/// Batches with host A records first: the PTR and the aliases depend on
/// whether the host A is ours, and a refusal there changes their plan.
fn ordered(zones: &[ZoneChanges]) -> Vec<&ZoneChanges> {
    let mut ordered: Vec<&ZoneChanges> = zones.iter().collect();
    ordered.sort_by_key(|z| {
        !z.changes
            .iter()
            .any(|c| c.record.rtype == crate::model::RecordType::A)
    });
    ordered
}

#[cfg(test)]
mod tests {
    use crate::adapters::memory::MemoryAccount;
    use crate::event::{self, InstanceEvent};
    use crate::model::{self, InstanceState};
    use crate::sim::world::World;
    use crate::summary::Outcome;
    use crate::Config;

    /// One private VPC with DHCP domain corp.example, its zone and reverse
    /// zone, and one instance whose tags each test sets.
    fn account(tags: serde_json::Value) -> MemoryAccount {
        let world = serde_json::json!({
            "vpcs": [{"id": "vpc-1", "cidr": "10.1.0.0/16", "dhcp_domain": "corp.example"}],
            "subnets": [{"id": "s-1", "vpc": "vpc-1", "cidr": "10.1.2.0/24"}],
            "zones": [
                {"id": "ZPRIV", "name": "corp.example.", "private": true, "vpcs": ["vpc-1"]},
                {"id": "ZREV", "name": "10.in-addr.arpa.", "private": true, "vpcs": ["vpc-1"]}
            ],
            "instances": [{"id": "i-1", "subnet": "s-1", "private_ip": "10.1.2.4", "tags": tags}]
        });
        MemoryAccount::new(World::parse("test world", &world.to_string()).expect("valid world"))
    }

    fn change(state: InstanceState, time: Option<&str>) -> InstanceEvent {
        let time = time.map(|t| model::parse_time(t).expect("time"));
        event::parse_instance(event::state_change_json(
            "e",
            "i-1",
            state,
            time,
            "us-east-1",
        ))
        .expect("event")
    }

    fn names(account: &MemoryAccount, zone: &str) -> Vec<String> {
        account.zone_records()[zone]
            .iter()
            .map(|r| r.to_string())
            .collect()
    }

    #[tokio::test]
    async fn a_zone_tag_naming_aws_s_own_suffix_still_reads_the_dhcp_domain() {
        for suffix in ["ec2.internal", "us-east-1.compute.internal"] {
            let account = account(serde_json::json!({"ZONE": suffix}));
            let s = account
                .registrar(Config::default())
                .handle(&change(
                    InstanceState::Running,
                    Some("2026-11-21T10:00:00Z"),
                ))
                .await
                .unwrap();
            assert_eq!(s.outcome, Outcome::Applied, "ZONE={suffix}: {s:?}");
            assert_eq!(
                names(&account, "ZPRIV"),
                ["ip-10-1-2-4.corp.example. A 60 10.1.2.4"]
            );
        }
    }

    #[tokio::test]
    async fn an_event_without_a_time_never_lets_an_older_event_through() {
        let account = account(serde_json::json!({}));
        let registrar = account.registrar(Config::default());
        registrar
            .handle(&change(
                InstanceState::Running,
                Some("2026-11-21T10:00:00Z"),
            ))
            .await
            .unwrap();
        // A tag is added and a running event without a time arrives: the
        // item is saved again, and must keep the newest time it knew.
        account.edit(|w| {
            w.instances[0]
                .tags
                .insert("CNAME".into(), "api.corp.example".into());
        });
        let s = registrar
            .handle(&change(InstanceState::Running, None))
            .await
            .unwrap();
        assert_eq!(s.outcome, Outcome::Applied, "{s:?}");
        let item = account.registry_items()["i-1"].clone();
        assert_eq!(
            item.last_event_time,
            model::parse_time("2026-11-21T10:00:00Z").ok()
        );
        // A stop from before the first event arrives late: nothing is deleted.
        let s = registrar
            .handle(&change(
                InstanceState::Stopped,
                Some("2026-11-21T09:00:00Z"),
            ))
            .await
            .unwrap();
        assert_eq!(s.outcome, Outcome::NothingToDo, "{s:?}");
        assert!(s.notes.iter().any(|n| n.contains("older")), "{s:?}");
        assert_eq!(names(&account, "ZPRIV").len(), 2, "A and CNAME still there");
    }

    #[tokio::test]
    async fn an_instance_ec2_does_not_know_is_a_warning() {
        let account = account(serde_json::json!({}));
        let mut unknown = change(InstanceState::Running, None);
        unknown.instance_id = "i-0nobody".into();
        let s = account
            .registrar(Config::default())
            .handle(&unknown)
            .await
            .unwrap();
        assert_eq!(s.outcome, Outcome::NothingToDo);
        assert!(
            s.warnings
                .iter()
                .any(|w| w.contains("EC2 does not know instance i-0nobody")),
            "{s:?}"
        );
    }

    /// EC2 lagging behind: for the first `blank` describes the instance
    /// has no private address (or, with `pending`, is still pending); and
    /// `unlisted` is missing from the listing (a launch between the
    /// reconcile's scan and its listing, or an eventually consistent list).
    struct LaggingEc2 {
        account: MemoryAccount,
        blank: std::sync::atomic::AtomicUsize,
        pending: bool,
        unlisted: Option<&'static str>,
    }

    impl LaggingEc2 {
        fn new(account: &MemoryAccount, blank: usize) -> LaggingEc2 {
            LaggingEc2 {
                account: account.clone(),
                blank: blank.into(),
                pending: false,
                unlisted: None,
            }
        }
    }

    impl crate::ports::Instances for LaggingEc2 {
        async fn instance(&self, id: &str) -> crate::Result<Option<crate::model::InstanceFacts>> {
            let mut facts = self.account.instance(id).await?;
            let left = self.blank.load(std::sync::atomic::Ordering::SeqCst);
            if left > 0 {
                self.blank
                    .store(left - 1, std::sync::atomic::Ordering::SeqCst);
                if let Some(f) = facts.as_mut() {
                    if self.pending {
                        f.state = InstanceState::Pending;
                    } else {
                        f.private_ip = None;
                    }
                }
            }
            Ok(facts)
        }
        async fn vpc(&self, id: &str) -> crate::Result<Option<crate::model::VpcFacts>> {
            self.account.vpc(id).await
        }
        async fn all_instances(&self) -> crate::Result<crate::model::InstanceListing> {
            let mut listing = self.account.all_instances().await?;
            listing
                .instances
                .retain(|i| Some(i.instance_id.as_str()) != self.unlisted);
            Ok(listing)
        }
    }

    fn lagging(
        account: &MemoryAccount,
        ec2: LaggingEc2,
    ) -> super::Registrar<LaggingEc2, MemoryAccount, MemoryAccount> {
        super::Registrar::new(
            ec2,
            account.clone(),
            account.clone(),
            Config::default(),
            "us-east-1",
        )
        .with_backoff(std::time::Duration::ZERO)
    }

    #[tokio::test]
    async fn a_running_event_while_ec2_still_says_pending_is_described_again() {
        let account = account(serde_json::json!({}));
        let ec2 = LaggingEc2 {
            pending: true,
            ..LaggingEc2::new(&account, 2)
        };
        let s = lagging(&account, ec2)
            .handle(&change(
                InstanceState::Running,
                Some("2026-11-21T10:00:00Z"),
            ))
            .await
            .expect("the third describe shows it running");
        assert_eq!(s.outcome, Outcome::Applied, "{s:?}");

        let account = self::account(serde_json::json!({}));
        let ec2 = LaggingEc2 {
            pending: true,
            ..LaggingEc2::new(&account, 3)
        };
        let err = lagging(&account, ec2)
            .handle(&change(
                InstanceState::Running,
                Some("2026-11-21T10:00:00Z"),
            ))
            .await
            .expect_err("still pending: retried later, not dropped");
        assert!(
            err.is_retryable() && err.to_string().contains("still pending"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn the_reconcile_describes_an_instance_its_listing_missed_before_deleting_anything() {
        let account = account(serde_json::json!({}));
        let registrar = account.registrar(Config::default());
        registrar
            .handle(&change(
                InstanceState::Running,
                Some("2026-11-21T10:00:00Z"),
            ))
            .await
            .unwrap();
        let before = account.zone_records();
        let ec2 = LaggingEc2 {
            unlisted: Some("i-1"),
            ..LaggingEc2::new(&account, 0)
        };
        let done = lagging(&account, ec2).reconcile("r").await.unwrap();
        assert_eq!(done.totals.records_deleted, 0, "{:?}", done.summaries);
        assert_eq!(account.zone_records(), before);
        assert_eq!(account.registry_items()["i-1"].records.len(), 2);
    }

    #[tokio::test]
    async fn a_running_instance_without_an_address_is_described_again_then_fails_retryably() {
        for (blank, registers) in [(2, true), (3, false)] {
            let account = account(serde_json::json!({}));
            let registrar = lagging(&account, LaggingEc2::new(&account, blank));
            let result = registrar
                .handle(&change(
                    InstanceState::Running,
                    Some("2026-11-21T10:00:00Z"),
                ))
                .await;
            let described = account.calls.take()["ec2:DescribeInstances"];
            if registers {
                let s = result.expect("the third describe has the address");
                assert_eq!(s.outcome, Outcome::Applied, "{s:?}");
                assert_eq!(described, 3);
            } else {
                let err = result.expect_err("still no address after 3 describes");
                assert!(err.is_retryable(), "{err}");
                assert!(
                    err.to_string().contains("no private IPv4 address yet"),
                    "{err}"
                );
                assert_eq!(described, 3);
                assert!(
                    account.zone_records()["ZPRIV"].is_empty(),
                    "nothing written"
                );
            }
        }
    }

    /// Route 53 where one zone cannot be listed (a permission taken away).
    struct OneZoneDenied(MemoryAccount, &'static str);

    impl crate::ports::Dns for OneZoneDenied {
        async fn zones_visible_from(
            &self,
            vpc: Option<&str>,
            region: &str,
        ) -> crate::Result<Vec<crate::model::ZoneInfo>> {
            self.0.zones_visible_from(vpc, region).await
        }
        async fn records_at(
            &self,
            zone: &str,
            names: &std::collections::BTreeSet<String>,
        ) -> crate::Result<Vec<crate::model::RecordSet>> {
            self.0.records_at(zone, names).await
        }
        async fn records_in(&self, zone: &str) -> crate::Result<Vec<crate::model::RecordSet>> {
            if zone == self.1 {
                return Err(crate::Error::Aws {
                    operation: "route53:ListResourceRecordSets".into(),
                    code: Some("AccessDenied".into()),
                    message: "not authorized".into(),
                    retryable: false,
                });
            }
            self.0.records_in(zone).await
        }
        async fn apply(&self, batch: &crate::plan::ZoneChanges) -> crate::Result<()> {
            self.0.apply(batch).await
        }
    }

    #[tokio::test]
    async fn a_zone_the_reconcile_cannot_list_fails_only_the_instances_that_need_it() {
        let world = serde_json::json!({
            "vpcs": [
                {"id": "vpc-1", "cidr": "10.1.0.0/16", "dhcp_domain": "corp.example"},
                {"id": "vpc-2", "cidr": "10.2.0.0/16", "dhcp_domain": "lab.example"}
            ],
            "subnets": [
                {"id": "s-1", "vpc": "vpc-1", "cidr": "10.1.2.0/24"},
                {"id": "s-2", "vpc": "vpc-2", "cidr": "10.2.2.0/24"}
            ],
            "zones": [
                {"id": "ZPRIV", "name": "corp.example.", "private": true, "vpcs": ["vpc-1"]},
                {"id": "ZLAB", "name": "lab.example.", "private": true, "vpcs": ["vpc-2"]}
            ],
            "instances": [
                {"id": "i-1", "subnet": "s-1", "private_ip": "10.1.2.4"},
                {"id": "i-2", "subnet": "s-2", "private_ip": "10.2.2.4"}
            ]
        });
        let account = MemoryAccount::new(World::parse("two zones", &world.to_string()).unwrap());
        let registrar = super::Registrar::new(
            account.clone(),
            OneZoneDenied(account.clone(), "ZLAB"),
            account.clone(),
            Config::default(),
            "us-east-1",
        );
        let done = registrar.reconcile("r").await.expect("the pass completes");
        assert_eq!(done.totals.errors, 1, "{:?}", done.summaries);
        assert_eq!(done.totals.records_created, 1, "i-1 registered");
        let failed = done
            .summaries
            .iter()
            .find(|s| s.instance_id == "i-2")
            .unwrap();
        assert!(
            failed
                .error
                .as_deref()
                .unwrap_or_default()
                .contains("AccessDenied"),
            "{failed:?}"
        );
        assert!(account.zone_records()["ZLAB"].is_empty());
        assert!(
            !account.registry_items().contains_key("i-2"),
            "nothing written ahead for i-2"
        );
    }
}
