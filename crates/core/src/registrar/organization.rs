//! The organization mode: instances and tasks of many accounts and
//! regions, named in this (the central) account's zones.
//!
//! A subject's place is where its event says it lives (EventBridge's
//! `account` and `region`). The deployment's own place is read with its
//! own clients and keeps the keys it always had; any other place gets a
//! registrar of its own ([`Registrar::at`]) whose reading ports act there
//! (the real client assumes `DDNS_MEMBER_ROLE` in the member account,
//! cached until shortly before its credentials expire) while zones and
//! the registry stay the central ones, lent. Its items are keyed by the
//! place (`instance#ACCOUNT#REGION#ID`), so two accounts never share one.
//!
//! The reconcile gathers every configured place in turn, the deployment's
//! own first, until the deadline, and converges them all in one pass of
//! the engine: zones are shared, so a name one account frees is taken by
//! another in the same reconcile, and a record two accounts' items own is
//! let go by both, exactly as within one account (both found by the
//! property test with a member account). A place whose role cannot be
//! assumed, or whose listing fails, is a warning and an error counted for
//! it alone, never a failure of the rest.

use super::reconcile::{another_pass_helps, Gathered, Pass, Reconciled};
use super::Registrar;
use crate::config::MemberAccounts;
use crate::error::{Error, Result};
use crate::event::{InstanceEvent, TaskEvent};
use crate::model::Place;
use crate::ports::{Dns, Instances, Registry, Tasks};
use crate::summary::Summary;
use std::collections::BTreeMap;
use tokio::time::Instant;
use tracing::warn;

/// Where an event's subject is, as the organization mode reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Whereabouts {
    /// The deployment's own account and region (every event outside the
    /// organization mode).
    Home,
    /// Another configured account, or another configured region.
    At(Place),
    /// An account or region this deployment is not set up for: the event
    /// is skipped with this note.
    Elsewhere(String),
}

impl<E, D, R> Registrar<E, D, R> {
    /// Where the subject of an event from `account` in `region` lives.
    /// Without members configured every event is the deployment's own, as
    /// it always was; with them, an account or region not configured is
    /// skipped (never read with the wrong account's clients).
    pub fn whereabouts(&self, account: Option<&str>, region: Option<&str>) -> Whereabouts {
        let Some(members) = &self.config.members else {
            return Whereabouts::Home;
        };
        let region = region.unwrap_or(&self.region);
        let account = match (account, &self.home_account) {
            (Some(a), _) => a,
            (None, Some(home)) => home.as_str(),
            (None, None) => return Whereabouts::Home,
        };
        let home = self.home_account.as_deref() == Some(account);
        if home && region == self.region {
            return Whereabouts::Home;
        }
        if !Place::is_account_id(account) || !Place::is_region(region) {
            return Whereabouts::Elsewhere(format!(
                "the event names account '{}' in region '{}', which is no account id and region: skipped",
                crate::names::clip(account),
                crate::names::clip(region)
            ));
        }
        if !home && !members.includes(account) {
            return Whereabouts::Elsewhere(format!(
                "account {account} is not among DDNS_MEMBER_ACCOUNTS: its event is skipped (add it to converge its instances)"
            ));
        }
        if !members.regions_or(&self.region).iter().any(|r| r == region) {
            return Whereabouts::Elsewhere(format!(
                "region {region} is not among DDNS_MEMBER_REGIONS: the event from account {account} is skipped (add the region to converge it)"
            ));
        }
        Whereabouts::At(Place::new(account, region))
    }

    /// Where the instance of `event` lives: its `account` and `region`.
    pub fn event_whereabouts(&self, event: &InstanceEvent) -> Whereabouts {
        self.whereabouts(event.account.as_deref(), event.region.as_deref())
    }

    /// Where the task of `event` lives: the account and region its ARN
    /// names (the event's own, when the ARN names none).
    pub fn task_whereabouts(&self, event: &TaskEvent) -> Whereabouts {
        match crate::event::task_arn_place(&event.task_arn) {
            Some((region, account)) => self.whereabouts(Some(account), Some(region)),
            None => self.whereabouts(event.account.as_deref(), event.region.as_deref()),
        }
    }

    /// Every place the reconcile covers besides the deployment's own:
    /// each configured region of the central account but its own, then
    /// each member account in each configured region. `accounts` are the
    /// member accounts (listed, or the organization's).
    pub fn places(&self, accounts: &[String]) -> Vec<Place> {
        match &self.config.members {
            Some(members) => members.places(self.home_account.as_deref(), &self.region, accounts),
            None => Vec::new(),
        }
    }
}

impl<E: Instances + Sync, D: Dns + Sync, R: Registry + Sync> Registrar<E, D, R> {
    /// The registrar of `place`: its reading ports act there (the member
    /// role assumed), zones and registry are this one's, lent; its items
    /// are keyed by the place. A role that cannot be assumed is
    /// [`Error::MemberUnreachable`].
    pub async fn at(&self, place: &Place) -> Result<Registrar<E, &D, &R>> {
        let ec2 = self
            .ec2
            .at(place)
            .await
            .map_err(|e| unreachable(place, e))?;
        Ok(Registrar {
            ec2,
            dns: &self.dns,
            registry: &self.registry,
            config: self.config.clone(),
            region: place.region.clone(),
            place: Some(place.clone()),
            home_account: self.home_account.clone(),
            dry_run: self.dry_run,
            backoff: self.backoff,
            calls: None,
            clock: self.clock.clone(),
        })
    }

    /// [`Registrar::at`], with `tasks` read at `place` too: the two
    /// reading ports of a member, either failing as the place's own
    /// failure ([`Error::MemberUnreachable`]).
    pub async fn at_with<T: Tasks + Sync>(
        &self,
        place: &Place,
        tasks: &T,
    ) -> Result<(Registrar<E, &D, &R>, T)> {
        let there = self.at(place).await?;
        let tasks = tasks.at(place).await.map_err(|e| unreachable(place, e))?;
        Ok((there, tasks))
    }

    /// [`Registrar::handle`] wherever the event's instance lives: the
    /// deployment's own place, a member's (through its registrar), or
    /// skipped with a note when it is not this deployment's. A member
    /// whose role cannot be assumed fails this event alone.
    pub async fn handle_anywhere(&self, event: &InstanceEvent) -> Result<Summary> {
        match self.event_whereabouts(event) {
            Whereabouts::Home => self.handle(event).await,
            Whereabouts::At(place) => self.at(&place).await?.handle(event).await,
            Whereabouts::Elsewhere(note) => Ok(Summary::of(event).note(note)),
        }
    }

    /// [`Registrar::handle_task`] wherever the task lives (its ARN's
    /// account and region), as [`Registrar::handle_anywhere`].
    pub async fn handle_task_anywhere<T: Tasks + Sync>(
        &self,
        tasks: &T,
        event: &TaskEvent,
    ) -> Result<Summary> {
        match self.task_whereabouts(event) {
            Whereabouts::Home => self.handle_task(tasks, event).await,
            Whereabouts::At(place) => {
                let (there, tasks) = self.at_with(&place, tasks).await?;
                there.handle_task(&tasks, event).await
            }
            Whereabouts::Elsewhere(note) => Ok(Summary::of_task(event).note(note)),
        }
    }

    /// [`Registrar::handle_batch`] wherever each event's subject lives:
    /// the events grouped by place, each group converged by its place's
    /// registrar (the deployment's own first), the summaries in the
    /// events' order. A place that cannot be read fails its events alone.
    pub async fn handle_batch_anywhere<T: Tasks + Sync>(
        &self,
        events: &[&InstanceEvent],
        tasks: &T,
        task_events: &[&TaskEvent],
        deadline: Option<Instant>,
    ) -> (Vec<Summary>, Vec<Summary>) {
        if self.config.members.is_none() {
            return self
                .handle_batch(events, tasks, task_events, deadline)
                .await;
        }
        let mut groups: BTreeMap<Option<Place>, (Vec<usize>, Vec<usize>)> = BTreeMap::new();
        let mut instances: Vec<Option<Summary>> = vec![None; events.len()];
        let mut task_summaries: Vec<Option<Summary>> = vec![None; task_events.len()];
        for (k, event) in events.iter().enumerate() {
            match self.event_whereabouts(event) {
                Whereabouts::Home => groups.entry(None).or_default().0.push(k),
                Whereabouts::At(place) => groups.entry(Some(place)).or_default().0.push(k),
                Whereabouts::Elsewhere(note) => instances[k] = Some(Summary::of(event).note(note)),
            }
        }
        for (j, event) in task_events.iter().enumerate() {
            match self.task_whereabouts(event) {
                Whereabouts::Home => groups.entry(None).or_default().1.push(j),
                Whereabouts::At(place) => groups.entry(Some(place)).or_default().1.push(j),
                Whereabouts::Elsewhere(note) => {
                    task_summaries[j] = Some(Summary::of_task(event).note(note))
                }
            }
        }
        for (place, (ks, js)) in groups {
            let mine: Vec<&InstanceEvent> = ks.iter().map(|k| events[*k]).collect();
            let my_tasks: Vec<&TaskEvent> = js.iter().map(|j| task_events[*j]).collect();
            let (done, done_tasks) = match &place {
                None => self.handle_batch(&mine, tasks, &my_tasks, deadline).await,
                Some(place) => match self.at_with(place, tasks).await {
                    Ok((there, tasks)) => {
                        there.handle_batch(&mine, &tasks, &my_tasks, deadline).await
                    }
                    Err(e) => failed_all(&mine, &my_tasks, &e),
                },
            };
            for (k, s) in ks.into_iter().zip(done) {
                instances[k] = Some(s);
            }
            for (j, s) in js.into_iter().zip(done_tasks) {
                task_summaries[j] = Some(s);
            }
        }
        let all = |v: Vec<Option<Summary>>| v.into_iter().flatten().collect();
        (all(instances), all(task_summaries))
    }

    /// The full reconcile, wherever this deployment converges: its own
    /// place alone outside the organization mode; else its own, then every
    /// configured region of its account and of each member account
    /// (listed, or the organization's: a listing that fails is a warning
    /// and an error, and the rest is reconciled).
    pub async fn reconcile_everywhere<T: Tasks + Sync>(
        &self,
        tasks: &T,
        event_id: &str,
        deadline: Option<Instant>,
    ) -> Result<Reconciled> {
        let Some(members) = &self.config.members else {
            return self.reconcile_with(tasks, event_id, deadline).await;
        };
        let (accounts, unlisted) = match &members.accounts {
            MemberAccounts::Listed(ids) => (ids.clone(), None),
            MemberAccounts::Organization => match self.ec2.organization_accounts().await {
                Ok(ids) => (ids, None),
                Err(e) => (Vec::new(), Some(e)),
            },
        };
        let places = self.places(&accounts);
        let mut done = self
            .reconcile_places(tasks, &places, event_id, deadline)
            .await?;
        if let Some(e) = unlisted {
            warn!(error = %e, "the organization's accounts could not be listed");
            done.warnings.push(format!(
                "the organization's accounts could not be listed ({e}): only this account was reconciled"
            ));
            done.totals.errors += 1;
        }
        Ok(done)
    }

    /// The reconcile of the deployment's own place and of each of
    /// `places` (tasks through `tasks`, read at each place), converged
    /// together: every place's instances, tasks and items are gathered
    /// (one scan of the table for all of them, each place's listings
    /// through its role), then converged in one pass of the engine, so a
    /// name one account frees is taken by another in the same reconcile,
    /// and a record two accounts' items both own is let go by both, as
    /// within one account (`reconcile.rs`). A second pass follows when it
    /// helps, as there. Places are gathered one at a time until
    /// `deadline`; a place that cannot be read (its role, its listing) is
    /// a warning and one error, and the rest go on; the places the
    /// deadline leaves are a warning too. `Err` only when the scan fails,
    /// or the deployment's own listing fails and there are no other
    /// places.
    pub async fn reconcile_places<T: Tasks + Sync>(
        &self,
        tasks: &T,
        places: &[Place],
        event_id: &str,
        deadline: Option<Instant>,
    ) -> Result<Reconciled> {
        if places.is_empty() {
            return self.reconcile_with(tasks, event_id, deadline).await;
        }
        if let Some(calls) = &self.calls {
            calls.take();
        }
        let (mut pass, mut reach) = self.places_pass(tasks, places, event_id, deadline).await?;
        if !self.dry_run && another_pass_helps(&pass.summaries) {
            let (again, _) = self.places_pass(tasks, places, event_id, deadline).await?;
            pass = pass.then(again);
        }
        let mut warnings = std::mem::take(&mut pass.warnings);
        warnings.append(&mut reach.warnings);
        let mut done = self.reconciled(
            pass.summaries,
            pass.batches_sent,
            pass.instances_seen,
            pass.items_seen,
            warnings,
        );
        done.totals.tasks_seen = pass.tasks_seen;
        done.totals.places = reach.places;
        done.totals.unreachable_places = reach.unreachable;
        done.totals.errors += reach.errors;
        Ok(done)
    }

    /// One pass over every place: one scan, each place gathered, all
    /// converged together.
    async fn places_pass<T: Tasks + Sync>(
        &self,
        tasks: &T,
        places: &[Place],
        event_id: &str,
        deadline: Option<Instant>,
    ) -> Result<(Pass, Reach)> {
        // One scan for every place (each takes its own items from it): a
        // hundred accounts in three regions would otherwise read the whole
        // table three hundred times.
        let scanned = self.registry.all().await?;
        let mut reach = Reach::default();
        let mut all = match self
            .gather_pass(tasks, event_id, Some(scanned.clone()))
            .await
        {
            Ok(gathered) => gathered,
            Err(e) => {
                reach.failed(None, &e);
                Gathered::default()
            }
        };
        for (k, place) in places.iter().enumerate() {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                let left: Vec<String> = places[k..].iter().map(ToString::to_string).collect();
                reach.warnings.push(format!(
                    "the invocation's time ran out before {} was reconciled; the next reconcile goes on",
                    left.join(", ")
                ));
                reach.errors += left.len();
                break;
            }
            reach.places += 1;
            let gathered = match self.at_with(place, tasks).await {
                Ok((registrar, tasks)) => {
                    registrar
                        .gather_pass(&tasks, event_id, Some(scanned.clone()))
                        .await
                }
                Err(e) => Err(e),
            };
            match gathered {
                Ok(gathered) => all.absorb(gathered),
                Err(e) => reach.failed(Some(place), &e),
            }
        }
        Ok((self.converge_gathered(all, deadline).await, reach))
    }
}

/// Which places a reconcile reached: how many besides the deployment's
/// own, those it could not read, and why.
#[derive(Default)]
struct Reach {
    places: usize,
    unreachable: usize,
    errors: usize,
    warnings: Vec<String>,
}

impl Reach {
    /// A place (`None`: the deployment's own) that could not be read.
    fn failed(&mut self, place: Option<&Place>, e: &Error) {
        let where_ = place.map_or_else(|| "this account".to_string(), ToString::to_string);
        self.warnings.push(format!("{where_} not reconciled: {e}"));
        self.errors += 1;
        self.unreachable += usize::from(place.is_some());
    }
}

/// `e`, met while reaching `place`, as the place's own failure.
fn unreachable(place: &Place, e: Error) -> Error {
    match e {
        Error::MemberUnreachable { .. } => e,
        e => Error::MemberUnreachable {
            account: place.account.clone(),
            region: place.region.clone(),
            cause: Box::new(e),
        },
    }
}

/// Every event of a place that cannot be read, failed with `e`.
fn failed_all(
    events: &[&InstanceEvent],
    task_events: &[&TaskEvent],
    e: &Error,
) -> (Vec<Summary>, Vec<Summary>) {
    (
        events
            .iter()
            .map(|ev| Summary::of(ev).with_error(e))
            .collect(),
        task_events
            .iter()
            .map(|ev| Summary::of_task(ev).with_error(e))
            .collect(),
    )
}
