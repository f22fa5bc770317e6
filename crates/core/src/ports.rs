//! The narrow doors to AWS. Each trait names domain operations, not SDK
//! calls, so the in-memory account (`sim::memory`) and the real clients
//! (`adapters::aws`) stand in for each other and the registrar cannot tell
//! them apart.

use crate::changes::ZoneChanges;
use crate::error::Result;
use crate::event::LifecycleAction;
use crate::lifecycle::{Completion, HookResult};
use crate::model::{DnsName, Place, RegistryKey, ZoneId};
use crate::model::{
    InstanceFacts, InstanceListing, InstanceState, OwnedRecord, RecordSet, RegistryItem, TaskFacts,
    TaskListing, Unreadable, VpcFacts, ZoneInfo,
};
use std::collections::BTreeSet;
use std::future::Future;
use std::net::IpAddr;
use tokio::time::Instant;

/// EC2: the instance and its VPC.
pub trait Instances {
    /// The instance as it is now; `None` when EC2 does not know it.
    fn instance(
        &self,
        instance_id: &str,
    ) -> impl Future<Output = Result<Option<InstanceFacts>>> + Send;
    /// The VPC's DHCP domain and DNS attributes; `None` when EC2 does not know it.
    fn vpc(&self, vpc_id: &str) -> impl Future<Output = Result<Option<VpcFacts>>> + Send;
    /// Every instance of the region, all pages (the reconcile).
    fn all_instances(&self) -> impl Future<Output = Result<InstanceListing>> + Send;
    /// The instances among `instance_ids` that EC2 knows, as they are now
    /// (buffered mode: one call for a batch, chunked to the API's limits).
    /// An id EC2 does not know is left out, never an error; one it lists
    /// but cannot read is in `unreadable`.
    fn instances(
        &self,
        instance_ids: &[String],
    ) -> impl Future<Output = Result<InstanceListing>> + Send
    where
        Self: Sync,
    {
        async move {
            let mut found = InstanceListing::default();
            for id in instance_ids {
                match self.instance(id).await {
                    Ok(live) => found.instances.extend(live),
                    Err(e) if !e.is_retryable() => found.unreadable.push(Unreadable {
                        instance_id: Some(id.clone()),
                        why: e.to_string(),
                    }),
                    Err(e) => return Err(e),
                }
            }
            Ok(found)
        }
    }
    /// The same port, reading `place`'s account and region instead (the
    /// organization mode): the real client assumes the member role there
    /// (its credentials cached until shortly before they expire). A port
    /// that reads one account only says so.
    fn at(&self, place: &Place) -> impl Future<Output = Result<Self>> + Send
    where
        Self: Sized,
    {
        let refused = one_account_only(place);
        async move { Err(refused) }
    }
    /// Every active account of the organization but this one
    /// (`DDNS_MEMBER_ACCOUNTS=organization`: organizations:ListAccounts).
    /// A port that cannot list them says so.
    fn organization_accounts(&self) -> impl Future<Output = Result<Vec<String>>> + Send {
        async {
            Err(crate::error::Error::Config {
                variable: "DDNS_MEMBER_ACCOUNTS".into(),
                message: "organization: this caller cannot list the organization's accounts; list the member accounts instead".into(),
            })
        }
    }
}

/// What a port that reads one account only answers when asked for another.
pub fn one_account_only(place: &Place) -> crate::error::Error {
    crate::error::Error::Config {
        variable: "DDNS_MEMBER_ACCOUNTS".into(),
        message: format!(
            "account {} in {} was asked for, but this caller reads one account only; run the organization mode where it is set up (the Lambda function, or the CLI against an account or a world with members)",
            place.account, place.region
        ),
    }
}

/// ECS: tasks in `awsvpc` mode, which have addresses of their own (their
/// elastic network interface's), so they can have names as instances do.
pub trait Tasks {
    /// The task as ECS describes it now (DescribeTasks with its tags), its
    /// ENI's public address from EC2 (DescribeNetworkInterfaces: neither
    /// the task nor its event carries it); `None` when ECS no longer knows
    /// it (stopped an hour or more ago).
    fn task(
        &self,
        cluster_arn: &str,
        task_arn: &str,
    ) -> impl Future<Output = Result<Option<TaskFacts>>> + Send;
    /// Every task of every cluster of the region, all pages (ListClusters,
    /// ListTasks, DescribeTasks 100 at a time): the reconcile.
    fn all_tasks(&self) -> impl Future<Output = Result<TaskListing>> + Send;
    /// The tasks among `task_arns` (all of the cluster `cluster_arn`) that
    /// ECS knows, as they are now: a batch of task events, and the
    /// reconcile's items of tasks it did not list. The real client makes
    /// one DescribeTasks per 100 and one DescribeNetworkInterfaces per 200
    /// of their ENIs. A task ECS does not know (or whose cluster is gone)
    /// is left out, never an error.
    fn tasks_in(
        &self,
        cluster_arn: &str,
        task_arns: &[String],
    ) -> impl Future<Output = Result<Vec<TaskFacts>>> + Send
    where
        Self: Sync,
    {
        async move {
            let mut found = Vec::new();
            for arn in task_arns {
                found.extend(self.task(cluster_arn, arn).await?);
            }
            Ok(found)
        }
    }
    /// Whether this port reaches ECS at all. [`NoTasks`] does not: a
    /// caller without an ECS client ignores task events (with a note), and
    /// its reconcile leaves the items of tasks alone rather than taking
    /// them for tasks that are gone.
    fn covered(&self) -> bool {
        true
    }
    /// The same port, reading `place`'s account and region instead
    /// ([`Instances::at`]).
    fn at(&self, place: &Place) -> impl Future<Output = Result<Self>> + Send
    where
        Self: Sized,
    {
        let refused = one_account_only(place);
        async move { Err(refused) }
    }
}

/// No ECS client: tasks are not covered ([`Tasks::covered`]). Asked
/// anyway, it says so rather than answering "no such task", which would
/// delete the task's records.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoTasks;

impl Tasks for NoTasks {
    async fn task(&self, _cluster_arn: &str, task_arn: &str) -> Result<Option<TaskFacts>> {
        Err(not_covered(&format!("ECS task {task_arn}")))
    }

    async fn all_tasks(&self) -> Result<TaskListing> {
        Err(not_covered("ECS tasks"))
    }

    fn covered(&self) -> bool {
        false
    }

    async fn at(&self, _place: &Place) -> Result<NoTasks> {
        Ok(NoTasks)
    }
}

fn not_covered(what: &str) -> crate::error::Error {
    crate::error::Error::Config {
        variable: "DDNS_TASKS".into(),
        message: format!(
            "{what}: this caller has no ECS client, so tasks are not covered; run it where tasks are (the Lambda function, or the CLI against an account or a world)"
        ),
    }
}

/// The ports an invocation may need beside the registrar's own: Auto
/// Scaling's lifecycle hooks and ECS's tasks. The Lambda function lends
/// both to every invocation.
#[derive(Debug, Clone, Default)]
pub struct HooksAndTasks<H, T> {
    pub hooks: H,
    pub tasks: T,
}

impl<H: LifecycleHooks + Sync, T: Sync> LifecycleHooks for HooksAndTasks<H, T> {
    fn complete(
        &self,
        action: &LifecycleAction,
        result: HookResult,
    ) -> impl Future<Output = Result<Completion>> + Send {
        self.hooks.complete(action, result)
    }
}

impl<H: Clone + Send + Sync, T: Tasks + Send + Sync> Tasks for HooksAndTasks<H, T> {
    fn task(
        &self,
        cluster_arn: &str,
        task_arn: &str,
    ) -> impl Future<Output = Result<Option<TaskFacts>>> + Send {
        self.tasks.task(cluster_arn, task_arn)
    }

    fn all_tasks(&self) -> impl Future<Output = Result<TaskListing>> + Send {
        self.tasks.all_tasks()
    }

    fn tasks_in(
        &self,
        cluster_arn: &str,
        task_arns: &[String],
    ) -> impl Future<Output = Result<Vec<TaskFacts>>> + Send {
        self.tasks.tasks_in(cluster_arn, task_arns)
    }

    fn covered(&self) -> bool {
        self.tasks.covered()
    }

    /// The tasks of `place`; the hooks stay the deployment's own.
    async fn at(&self, place: &Place) -> Result<Self> {
        Ok(HooksAndTasks {
            hooks: self.hooks.clone(),
            tasks: self.tasks.at(place).await?,
        })
    }
}

/// Route 53: zones, the records at given names, and atomic change batches.
pub trait Dns {
    /// Every public zone, and the private zones associated with `vpc_id` in
    /// `region`: the zones this instance can be written into.
    fn zones_visible_from(
        &self,
        vpc_id: Option<&str>,
        region: &str,
    ) -> impl Future<Output = Result<Vec<ZoneInfo>>> + Send;
    /// All record sets (any type) at the given names in a zone. A zone that
    /// no longer exists holds nothing.
    fn records_at(
        &self,
        zone_id: &ZoneId,
        names: &BTreeSet<DnsName>,
    ) -> impl Future<Output = Result<Vec<RecordSet>>> + Send;
    /// Every record set of a zone, all pages (the reconcile lists each zone
    /// it needs once). A zone that no longer exists holds nothing.
    fn records_in(&self, zone_id: &ZoneId) -> impl Future<Output = Result<Vec<RecordSet>>> + Send;
    /// Applies one zone's changes as one atomic batch.
    fn apply(&self, changes: &ZoneChanges) -> impl Future<Output = Result<()>> + Send;
    /// Whether every change batch this client applied at or after `since`
    /// has reached all of Route 53's name servers (GetChange answers
    /// `INSYNC`). Route 53 answers a change batch at once, but its name
    /// servers answer with the new records only some seconds later (within
    /// about a minute): a launch lifecycle hook completed in between puts
    /// an instance into service under a name that does not resolve yet, so
    /// with `DDNS_WAIT_INSYNC=true` the hook waits for this
    /// (`crate::lifecycle`). Batches applied before `since` (an earlier
    /// invocation's) are forgotten unasked, and each one found in sync is
    /// forgotten, so the next call asks only about the ones still pending;
    /// the asking stops at the first one still pending. `true` at once,
    /// with no call, when there is none. A batch whose answer was lost has
    /// no known change id and is not waited for.
    fn applied_in_sync(&self, since: Instant) -> impl Future<Output = Result<bool>> + Send;
    /// The change ids (Route 53's `ChangeInfo.Id`) of the batches this
    /// client applied at or after `since`, oldest first: a DDNS update
    /// answers with its batch's, for the client to ask about. A batch
    /// whose answer was lost has none.
    fn applied_since(&self, _since: Instant) -> Vec<String> {
        Vec::new()
    }
    /// Whether change `id` has reached all of Route 53's name servers
    /// (GetChange: `Some(true)` INSYNC, `Some(false)` PENDING); `None` when
    /// Route 53 knows no such change.
    fn change_in_sync(&self, _id: &str) -> impl Future<Output = Result<Option<bool>>> + Send {
        async { Ok(None) }
    }
}

/// DynamoDB: what each instance owns.
pub trait Registry {
    /// The instance's item. One that ec2-ddns did not write, or cannot read,
    /// comes back as [`RegistryItem::foreign`]: it owns nothing, and its
    /// `replaces` holds it whole. Never an error for what the item holds.
    fn load(&self, key: &RegistryKey) -> impl Future<Output = Result<Option<RegistryItem>>> + Send;
    /// Saves `item` if the stored item still has version `item.version - 1`;
    /// for version 1, if there is none, or it is still exactly
    /// `item.replaces`. Else `Error::RegistryRace`.
    fn save(&self, item: &RegistryItem) -> impl Future<Output = Result<()>> + Send;
    /// Removes the item if it is still at `item.version` (or still exactly
    /// `item.replaces`); no item is fine.
    fn remove(&self, item: &RegistryItem) -> impl Future<Output = Result<()>> + Send;
    /// The items of `keys` that exist, each as `load` gives it
    /// (buffered mode: batched reads within DynamoDB's limits).
    fn load_many(
        &self,
        keys: &[RegistryKey],
    ) -> impl Future<Output = Result<Vec<RegistryItem>>> + Send
    where
        Self: Sync,
    {
        async move {
            let mut found = Vec::new();
            for key in keys {
                found.extend(self.load(key).await?);
            }
            Ok(found)
        }
    }
    /// Makes every write of `writes` (at most [`MAX_WRITES_AT_ONCE`], each
    /// item once) under the same conditions as `save` and `remove`, all or
    /// none: one refused condition makes none (`Error::RegistryRace` naming
    /// it, when the table says which). An answer lost after the writes
    /// committed leaves them made, as with `save`.
    fn write_all(&self, writes: &[Write<'_>]) -> impl Future<Output = Result<()>> + Send
    where
        Self: Sync,
    {
        async move {
            for write in writes {
                match write {
                    Write::Save(item) => self.save(item).await?,
                    Write::Remove(item) => self.remove(item).await?,
                }
            }
            Ok(())
        }
    }
    /// Marks every record of the instance's item releasing, in one call,
    /// before a deregistration deletes them: the item becomes
    /// [`released`] of what it was, and comes back as it was (what it
    /// owned, what was pending). A crash after this never leaves a claim
    /// on a record that may be deleted. `None` when nothing was released:
    /// no item of ours (none, or foreign), or a registry that cannot do
    /// it in one call; `load` then tells, and the deregistration writes
    /// its item ahead as any convergence does.
    fn release(
        &self,
        _key: &RegistryKey,
        _event_id: &str,
        _state: InstanceState,
    ) -> impl Future<Output = Result<Option<RegistryItem>>> + Send {
        async { Ok(None) }
    }
    /// Every item of the table, all pages (the reconcile), each as `load`
    /// gives it. Keys that are not instance ids come back too (hosts,
    /// `host#…`), except the endpoint's nonces.
    fn all(&self) -> impl Future<Output = Result<Vec<RegistryItem>>> + Send;
}

/// The item `Registry::release` leaves of `item`: nothing owned, every
/// record it listed pending (sorted, once each), the next version, and the
/// event that released it. Everything else is as it was.
pub fn released(item: &RegistryItem, event_id: &str, state: InstanceState) -> RegistryItem {
    let mut pending: Vec<OwnedRecord> = item.listed().cloned().collect();
    pending.sort();
    pending.dedup();
    RegistryItem {
        records: Vec::new(),
        pending,
        version: item.version + 1,
        last_event_id: Some(event_id.to_string()),
        last_state: Some(state),
        replaces: None,
        ..item.clone()
    }
}

/// DynamoDB's limit of actions in one TransactWriteItems call.
pub const MAX_WRITES_AT_ONCE: usize = 100;

/// One conditional write of [`Registry::write_all`].
#[derive(Debug, Clone, Copy)]
pub enum Write<'a> {
    /// As `Registry::save`.
    Save(&'a RegistryItem),
    /// As `Registry::remove`.
    Remove(&'a RegistryItem),
}

impl Write<'_> {
    /// The key of the item written.
    pub fn key(&self) -> &RegistryKey {
        match self {
            Write::Save(item) | Write::Remove(item) => &item.key,
        }
    }
}

/// DynamoDB again: the DDNS endpoint's guards, written apart from the
/// hosts' items so they never race an update: nonces accepted once, and
/// failed proofs counted per source address.
pub trait Guards {
    /// Records that `host` used `nonce`, kept until `expires_at` (Unix
    /// seconds; the table's TTL deletes it later). `false` when it was used
    /// before and has not expired at `now`: a replay.
    fn first_use(
        &self,
        host: &str,
        nonce: &str,
        now: i64,
        expires_at: i64,
    ) -> impl Future<Output = Result<bool>> + Send;
    /// Counts one failed proof from `source` about `host` (a normalized
    /// name), in the fixed window of `window_seconds` that holds `now`:
    /// against the source, and against the host from that source
    /// ([`failure_keys`]). Each an increment (`ADD`), never a value read
    /// and written back, so parallel requests lose no count; the counters
    /// expire with their window. The host's own item is not touched: a
    /// stranger's failures never lock its owner out, nor race its update.
    fn count_failure(
        &self,
        host: &str,
        source: IpAddr,
        now: i64,
        window_seconds: i64,
    ) -> impl Future<Output = Result<()>> + Send;
    /// The failed proofs counted in that window: from `source`, and about
    /// `host` from it.
    fn failures(
        &self,
        host: &str,
        source: IpAddr,
        now: i64,
        window_seconds: i64,
    ) -> impl Future<Output = Result<Failures>> + Send;
}

/// Failed proofs counted in the current window ([`Guards::failures`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Failures {
    /// From the source address, about any host.
    pub from_source: u32,
    /// From the source address, about this host.
    pub host_from_source: u32,
}

/// The keys of the counters a failure from `source` about `host` at `now`
/// adds to, and when they expire: `guard#SOURCE#W` and
/// `guard#HOST#SOURCE#W`, `W` the start of the fixed window that holds
/// `now`; expiring when the window after it ends.
pub fn failure_keys(
    host: &str,
    source: IpAddr,
    now: i64,
    window_seconds: i64,
) -> ([RegistryKey; 2], i64) {
    let window = window_seconds.max(1);
    let start = now - now.rem_euclid(window);
    (
        [
            RegistryKey::Guard(format!("{source}#{start}")),
            RegistryKey::Guard(format!("{host}#{source}#{start}")),
        ],
        start + 2 * window,
    )
}

/// Auto Scaling: the lifecycle hooks an instance waits on.
pub trait LifecycleHooks {
    /// Completes `action` with `result` (CompleteLifecycleAction, by its
    /// token). [`Completion::NotWaiting`] when Auto Scaling holds no such
    /// action any more (completed before: a duplicate delivery, or a retry
    /// after an answer lost; or its heartbeat timed out): nothing is left
    /// to do, and that is not an error.
    fn complete(
        &self,
        action: &LifecycleAction,
        result: HookResult,
    ) -> impl Future<Output = Result<Completion>> + Send;
}

/// A lent Route 53 port: the organization mode's registrar of a member
/// account writes through the central one's (`Registrar::at`). Every
/// method forwards, the defaulted ones too, so nothing the lender
/// overrides is lost.
impl<T: Dns + Sync> Dns for &T {
    fn zones_visible_from(
        &self,
        vpc_id: Option<&str>,
        region: &str,
    ) -> impl Future<Output = Result<Vec<ZoneInfo>>> + Send {
        (**self).zones_visible_from(vpc_id, region)
    }
    fn records_at(
        &self,
        zone_id: &ZoneId,
        names: &BTreeSet<DnsName>,
    ) -> impl Future<Output = Result<Vec<RecordSet>>> + Send {
        (**self).records_at(zone_id, names)
    }
    fn records_in(&self, zone_id: &ZoneId) -> impl Future<Output = Result<Vec<RecordSet>>> + Send {
        (**self).records_in(zone_id)
    }
    fn apply(&self, changes: &ZoneChanges) -> impl Future<Output = Result<()>> + Send {
        (**self).apply(changes)
    }
    fn applied_in_sync(&self, since: Instant) -> impl Future<Output = Result<bool>> + Send {
        (**self).applied_in_sync(since)
    }
    fn applied_since(&self, since: Instant) -> Vec<String> {
        (**self).applied_since(since)
    }
    fn change_in_sync(&self, id: &str) -> impl Future<Output = Result<Option<bool>>> + Send {
        (**self).change_in_sync(id)
    }
}

/// A lent registry: the member account's registrar keeps its items in the
/// central table ([`Dns` for `&T`](#impl-Dns-for-%26T)).
impl<T: Registry + Sync> Registry for &T {
    fn load(&self, key: &RegistryKey) -> impl Future<Output = Result<Option<RegistryItem>>> + Send {
        (**self).load(key)
    }
    fn save(&self, item: &RegistryItem) -> impl Future<Output = Result<()>> + Send {
        (**self).save(item)
    }
    fn remove(&self, item: &RegistryItem) -> impl Future<Output = Result<()>> + Send {
        (**self).remove(item)
    }
    fn load_many(
        &self,
        keys: &[RegistryKey],
    ) -> impl Future<Output = Result<Vec<RegistryItem>>> + Send {
        (**self).load_many(keys)
    }
    fn write_all(&self, writes: &[Write<'_>]) -> impl Future<Output = Result<()>> + Send {
        (**self).write_all(writes)
    }
    fn release(
        &self,
        key: &RegistryKey,
        event_id: &str,
        state: InstanceState,
    ) -> impl Future<Output = Result<Option<RegistryItem>>> + Send {
        (**self).release(key, event_id, state)
    }
    fn all(&self) -> impl Future<Output = Result<Vec<RegistryItem>>> + Send {
        (**self).all()
    }
}
