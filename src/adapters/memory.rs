//! An AWS account in memory, with AWS's rules. It backs `replay --world`,
//! scenarios and snapshots rehearsed offline, and the tests. Its Route 53
//! refuses what Route 53 refuses (a CREATE of an existing record, a CNAME
//! beside another record, a DELETE that does not match exactly, a name
//! outside the zone) with Route 53's codes and words, and its registry
//! refuses a conditional write on a changed item; so a test that passes here
//! means something.
//!
//! Faults can be injected per operation or at the n-th call from now:
//! throttling, a 500 before or after the change commits, a refusal, and a
//! crash (the invocation dies at that call, before or after it commits, and
//! every later call fails until [`MemoryAccount::revive`]). Each record
//! remembers who wrote it ([`MemoryAccount::set_writer`]), so a test can
//! check that no one's record was touched by another.

use crate::calls::CallLog;
use crate::ddns::decide::Counters;
use crate::error::{Error, Failure, Result};
use crate::model::{
    ForeignItem, InstanceFacts, InstanceListing, InstanceState, RecordSet, RecordType,
    RegistryItem, VpcFacts, ZoneInfo,
};
use crate::names;
use crate::plan::{ChangeAction, ZoneChanges};
use crate::ports::{Dns, Guards, Instances, Registry, Write, MAX_WRITES_AT_ONCE};
use crate::registrar::Registrar;
use crate::sim::world::World;
use crate::Config;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// A failure the next call of one operation meets, as AWS would answer it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// `Throttling: Rate exceeded`, before anything is done.
    Throttling,
    /// HTTP 500 `InternalFailure`; with `after_commit` the change is made
    /// first, as when Route 53 applies a batch and the answer is lost.
    InternalError { after_commit: bool },
    /// A refusal with this code and message (Route 53's change batches only).
    Refused(&'static str, &'static str),
    /// The invocation dies at this call: with `after_commit` the call's
    /// change is made first. This call and every later one fail, with no
    /// answer, until `revive`.
    Crash { after_commit: bool },
}

impl Fault {
    fn error(&self, operation: &str, zone_id: Option<&str>) -> Error {
        match self {
            Fault::Throttling => Error::Aws {
                operation: operation.into(),
                code: Some("Throttling".into()),
                message: "Rate exceeded".into(),
                kind: Failure::Throttled,
            },
            Fault::InternalError { .. } => Error::Aws {
                operation: operation.into(),
                code: Some("InternalFailure".into()),
                message: "The request processing has failed because of an unknown error (HTTP 500)"
                    .into(),
                kind: Failure::Transient,
            },
            Fault::Refused(code, message) => {
                Error::route53_refusal(zone_id.unwrap_or_default(), code, message)
            }
            Fault::Crash { .. } => crashed(operation),
        }
    }

    /// Whether the call's change is made before the fault strikes.
    fn after_commit(&self) -> bool {
        matches!(
            self,
            Fault::InternalError { after_commit: true } | Fault::Crash { after_commit: true }
        )
    }
}

/// What a call made by a dead invocation gets: no answer at all.
fn crashed(operation: &str) -> Error {
    Error::Aws {
        operation: operation.into(),
        code: None,
        message: "no answer: the invocation died here (injected crash)".into(),
        kind: Failure::NoAnswer,
    }
}

/// A record set's slot in a zone: zone id, name and type.
pub type Slot = (String, String, String);

/// The registry table holds our items and, maybe, others'.
#[derive(Debug, Clone)]
enum Stored {
    Ours(Box<RegistryItem>),
    Foreign(ForeignItem),
}

#[derive(Debug)]
struct State {
    world: World,
    registry: BTreeMap<String, Stored>,
    /// The endpoint's nonces (`host#nonce`) and when each expires.
    nonces: BTreeMap<String, i64>,
    faults: BTreeMap<String, VecDeque<Fault>>,
    /// Faults by call number (all operations counted).
    planned: BTreeMap<u64, Fault>,
    calls_made: u64,
    crashed: bool,
    writer: String,
    authors: BTreeMap<Slot, String>,
    /// Items `release` marked, by key: the mark (unique to that call) and
    /// the item as it was, as the real table keeps both in the item (its
    /// lists untouched beside a `Releasing` mark). Any save or removal of
    /// the item clears it.
    releasing: BTreeMap<String, (String, RegistryItem)>,
}

/// A handle on one in-memory account; clone it for each port.
#[derive(Debug, Clone)]
pub struct MemoryAccount {
    state: Arc<Mutex<State>>,
    /// Calls per AWS operation this account stood in for.
    pub calls: CallLog,
}

impl MemoryAccount {
    /// An account holding `world`; its `registry` items become the
    /// in-memory registry table.
    pub fn new(mut world: World) -> MemoryAccount {
        let mut registry: BTreeMap<String, Stored> = std::mem::take(&mut world.registry)
            .into_iter()
            .map(|item| (item.instance_id.clone(), Stored::Ours(Box::new(item))))
            .collect();
        for found in std::mem::take(&mut world.foreign_registry) {
            registry.insert(found.instance_id.clone(), Stored::Foreign(found));
        }
        let authors = world
            .zones
            .iter()
            .flat_map(|z| {
                let id = z.info().id;
                z.records
                    .iter()
                    .map(move |r| (slot(&id, r), "world".to_string()))
            })
            .collect();
        MemoryAccount {
            state: Arc::new(Mutex::new(State {
                world,
                registry,
                nonces: BTreeMap::new(),
                faults: BTreeMap::new(),
                planned: BTreeMap::new(),
                calls_made: 0,
                crashed: false,
                writer: "someone".into(),
                authors,
                releasing: BTreeMap::new(),
            })),
            calls: CallLog::default(),
        }
    }

    /// An account holding a world of `fixtures/worlds/` (unit tests).
    #[cfg(test)]
    pub(crate) fn fixture(world: &str) -> MemoryAccount {
        let path = format!(
            "{}/fixtures/worlds/{world}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        MemoryAccount::new(World::load(&path).expect("fixture world"))
    }

    /// The registrar with this account behind all three ports.
    pub fn registrar(&self, config: Config) -> Registrar<Self, Self, Self> {
        let region = self.lock().world.region.clone();
        Registrar::new(self.clone(), self.clone(), self.clone(), config, region)
            .with_backoff(std::time::Duration::ZERO)
            .with_calls(self.calls.clone())
    }

    /// A poisoned lock only means a test thread panicked; the account is
    /// still consistent, because every change is made in one step.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The world as it is now, zones included (the registry is apart: see
    /// [`MemoryAccount::registry_items`]).
    pub fn world(&self) -> World {
        self.lock().world.clone()
    }

    /// Changes the world: a test's or scenario's hand on the account.
    pub fn edit<T>(&self, f: impl FnOnce(&mut World) -> T) -> T {
        f(&mut self.lock().world)
    }

    /// The registry table; a foreign item reads as [`RegistryItem::foreign`].
    pub fn registry_items(&self) -> BTreeMap<String, RegistryItem> {
        self.lock()
            .registry
            .iter()
            .map(|(id, stored)| (id.clone(), stored.read()))
            .collect()
    }

    /// Whom later record writes are credited to (an instance id, "foreign").
    pub fn set_writer(&self, writer: &str) {
        self.lock().writer = writer.to_string();
    }

    /// Who wrote the record set now in each slot ("world" for records the
    /// world file brought).
    pub fn authors(&self) -> BTreeMap<Slot, String> {
        self.lock().authors.clone()
    }

    /// The call `n` calls from now (0: the next one, whatever its
    /// operation) meets `fault`.
    pub fn inject_at(&self, n: u64, fault: Fault) {
        let mut state = self.lock();
        let at = state.calls_made + n;
        state.planned.insert(at, fault);
    }

    /// A new invocation after a crash: calls work again, and faults
    /// planned for calls not yet made are dropped.
    pub fn revive(&self) {
        let mut state = self.lock();
        state.crashed = false;
        state.planned.clear();
        state.faults.clear();
    }

    /// Zone id → its records, sorted.
    pub fn zone_records(&self) -> BTreeMap<String, Vec<RecordSet>> {
        self.lock()
            .world
            .zones
            .iter()
            .map(|z| {
                let mut records = z.records.clone();
                records.sort();
                (z.info().id, records)
            })
            .collect()
    }

    /// The next call of `operation` (`route53:ChangeResourceRecordSets`)
    /// meets `fault`; several queue up in order.
    pub fn inject(&self, operation: &str, fault: Fault) {
        self.lock()
            .faults
            .entry(operation.to_string())
            .or_default()
            .push_back(fault);
    }

    /// The next change batch sent to zone `zone_id` meets `fault`; several
    /// queue up in order, and they come before those of `inject`. Each
    /// zone's batch is sent at once with the others', so a fault meant for
    /// one zone is injected for that zone.
    pub fn inject_in_zone(&self, zone_id: &str, fault: Fault) {
        self.inject(
            &format!("route53:ChangeResourceRecordSets@{zone_id}"),
            fault,
        );
    }

    /// Counts a call and takes its injected fault: `Err` for one that strikes
    /// before the call does anything, `Ok(Some)` for one after it commits.
    fn enter(&self, operation: &str, zone_id: Option<&str>) -> Result<Option<Fault>> {
        let mut state = self.lock();
        if state.crashed {
            return Err(crashed(operation));
        }
        self.calls.count(operation);
        let n = state.calls_made;
        state.calls_made += 1;
        let in_zone = zone_id.map(|z| format!("{operation}@{z}"));
        let fault = match state.planned.remove(&n) {
            Some(fault) => Some(fault),
            None => in_zone
                .and_then(|key| state.faults.get_mut(&key).and_then(VecDeque::pop_front))
                .or_else(|| {
                    state
                        .faults
                        .get_mut(operation)
                        .and_then(VecDeque::pop_front)
                }),
        };
        match fault {
            Some(fault) if fault.after_commit() => Ok(Some(fault)),
            Some(fault) => {
                if matches!(fault, Fault::Crash { .. }) {
                    state.crashed = true;
                }
                Err(fault.error(operation, zone_id))
            }
            None => Ok(None),
        }
    }

    /// A paginated read of `pages` pages (at least one call).
    fn pages(&self, operation: &str, pages: usize) -> Result<()> {
        for _ in 0..pages.max(1) {
            self.read_call(operation, None)?;
        }
        Ok(())
    }

    /// A call that changes nothing: any fault it meets strikes.
    fn read_call(&self, operation: &str, zone_id: Option<&str>) -> Result<()> {
        let after = self.enter(operation, zone_id)?;
        self.leave(operation, after)
    }

    /// Ends a call that committed: the injected after-commit fault, if any.
    fn leave(&self, operation: &str, fault: Option<Fault>) -> Result<()> {
        match fault {
            Some(fault) => {
                if matches!(fault, Fault::Crash { .. }) {
                    self.lock().crashed = true;
                }
                Err(fault.error(operation, None))
            }
            None => Ok(()),
        }
    }
}

impl Instances for MemoryAccount {
    async fn instance(&self, instance_id: &str) -> Result<Option<InstanceFacts>> {
        self.read_call("ec2:DescribeInstances", None)?;
        let state = self.lock();
        Ok(state
            .world
            .instances
            .iter()
            .find(|i| i.id == instance_id)
            .map(|i| state.world.instance_facts(i)))
    }

    /// The same four reads the real client makes: the VPC, its DHCP option
    /// set (when it has one of its own) and its two DNS attributes.
    async fn vpc(&self, vpc_id: &str) -> Result<Option<VpcFacts>> {
        self.read_call("ec2:DescribeVpcs", None)?;
        let Some(vpc) = self.lock().world.vpc_facts(vpc_id) else {
            return Ok(None);
        };
        if vpc.dhcp_domain.is_some() {
            self.read_call("ec2:DescribeDhcpOptions", None)?;
        }
        self.read_call("ec2:DescribeVpcAttribute", None)?;
        self.read_call("ec2:DescribeVpcAttribute", None)?;
        Ok(Some(vpc))
    }

    /// One DescribeInstances per 200 ids, as the real client filters them.
    async fn instances(&self, instance_ids: &[String]) -> Result<InstanceListing> {
        self.pages(
            "ec2:DescribeInstances",
            instance_ids
                .len()
                .div_ceil(crate::adapters::aws::ec2::IDS_PER_DESCRIBE),
        )?;
        Ok(self.listing(|id| instance_ids.iter().any(|i| i == id)))
    }

    /// One DescribeInstances per page of 1,000 (the API's largest page).
    async fn all_instances(&self) -> Result<InstanceListing> {
        let count = self.lock().world.instances.len();
        self.pages("ec2:DescribeInstances", count.div_ceil(1000))?;
        Ok(self.listing(|_| true))
    }
}

impl MemoryAccount {
    /// The world's instances whose id `wanted` takes, as EC2 lists them.
    fn listing(&self, wanted: impl Fn(&str) -> bool) -> InstanceListing {
        let state = self.lock();
        InstanceListing {
            instances: state
                .world
                .instances
                .iter()
                .filter(|i| wanted(&i.id))
                .map(|i| state.world.instance_facts(i))
                .collect(),
            unreadable: Vec::new(),
        }
    }
}

impl Dns for MemoryAccount {
    async fn zones_visible_from(
        &self,
        vpc_id: Option<&str>,
        _region: &str,
    ) -> Result<Vec<ZoneInfo>> {
        self.read_call("route53:ListHostedZones", None)?;
        if vpc_id.is_some() {
            self.read_call("route53:ListHostedZonesByVPC", None)?;
        }
        Ok(self
            .lock()
            .world
            .zones
            .iter()
            .filter(|z| !z.private || vpc_id.is_some_and(|v| z.vpcs.iter().any(|zv| zv == v)))
            .map(|z| z.info())
            .collect())
    }

    async fn records_at(&self, zone_id: &str, names: &BTreeSet<String>) -> Result<Vec<RecordSet>> {
        // As the real client: one listing per zone (a small zone fits one page).
        self.read_call("route53:ListResourceRecordSets", Some(zone_id))?;
        let state = self.lock();
        let Some(zone) = state.world.zones.iter().find(|z| z.info().id == zone_id) else {
            return Ok(Vec::new());
        };
        Ok(zone
            .records
            .iter()
            .filter(|r| names.contains(&r.name))
            .cloned()
            .collect())
    }

    /// One ListResourceRecordSets per page of 300 (the API's largest page).
    async fn records_in(&self, zone_id: &str) -> Result<Vec<RecordSet>> {
        let found = {
            let state = self.lock();
            let zone = state.world.zones.iter().find(|z| z.info().id == zone_id);
            zone.map(|z| z.records.clone()).unwrap_or_default()
        };
        self.pages("route53:ListResourceRecordSets", found.len().div_ceil(300))?;
        Ok(found)
    }

    async fn apply(&self, batch: &ZoneChanges) -> Result<()> {
        let operation = "route53:ChangeResourceRecordSets";
        let after = self.enter(operation, Some(&batch.zone_id))?;
        {
            let mut state = self.lock();
            let Some(zone) = state
                .world
                .zones
                .iter_mut()
                .find(|z| z.info().id == batch.zone_id)
            else {
                return Err(Error::Aws {
                    operation: operation.into(),
                    code: Some("NoSuchHostedZone".into()),
                    message: format!("No hosted zone found with ID: {}", batch.zone_id),
                    kind: Failure::NotFound,
                });
            };
            // The whole batch passes or nothing changes, as in Route 53.
            zone.records = apply_strictly(&zone.info().name, &zone.records, batch).map_err(
                |(code, message)| Error::route53_refusal(&batch.zone_id, code, &message),
            )?;
            let writer = state.writer.clone();
            for c in &batch.changes {
                let slot = slot(&batch.zone_id, &c.record);
                match c.action {
                    ChangeAction::Delete => state.authors.remove(&slot),
                    ChangeAction::Create | ChangeAction::Upsert => {
                        state.authors.insert(slot, writer.clone())
                    }
                };
            }
        }
        self.leave(operation, after)
    }
}

/// The zone's records after `batch`, applied with Route 53's rules; or the
/// rule it broke, with Route 53's error code and words, and the zone as it
/// was (a batch is atomic).
pub fn apply_strictly(
    zone_name: &str,
    current: &[RecordSet],
    batch: &ZoneChanges,
) -> Result<Vec<RecordSet>, (&'static str, String)> {
    let mut records = current.to_vec();
    const INVALID_BATCH: &str = "InvalidChangeBatch";
    if batch.changes.is_empty() {
        return Err(("InvalidInput", "1 validation error detected: Value '[]' at 'changeBatch.changes' failed to satisfy constraint: Member must have length greater than or equal to 1".into()));
    }
    if batch.changes.len() > 1000 {
        return Err((
            INVALID_BATCH,
            "Number of records in the ChangeBatch exceeds the maximum allowed (1000)".into(),
        ));
    }
    for change in &batch.changes {
        let r = &change.record;
        if !names::is_within(&r.name, zone_name) {
            return Err((
                INVALID_BATCH,
                format!(
                    "[RRSet with DNS name {} is not permitted in zone {zone_name}]",
                    r.name
                ),
            ));
        }
        if r.alias_target().is_none() && r.values().is_empty() {
            return Err((
                INVALID_BATCH,
                format!(
                    "[Invalid Resource Record: RRSet {} {} has no values]",
                    r.name, r.rtype
                ),
            ));
        }
        let same = records.iter().position(|x| x.same_slot(r));
        match change.action {
            ChangeAction::Delete => match same {
                Some(i) if records[i] == *r => {
                    records.remove(i);
                }
                Some(_) => {
                    return Err((INVALID_BATCH, format!(
                        "[Tried to delete resource record set [name='{}', type='{}'] but the values provided do not match the current values]",
                        r.name, r.rtype
                    )))
                }
                None => {
                    return Err((INVALID_BATCH, format!(
                        "[Tried to delete resource record set [name='{}', type='{}'] but it was not found]",
                        r.name, r.rtype
                    )))
                }
            },
            ChangeAction::Create | ChangeAction::Upsert => {
                if change.action == ChangeAction::Create && same.is_some() {
                    return Err((INVALID_BATCH, format!(
                        "[Tried to create resource record set [name='{}', type='{}'] but it already exists]",
                        r.name, r.rtype
                    )));
                }
                let others: Vec<&RecordSet> =
                    records.iter().filter(|x| x.name == r.name && x.rtype != r.rtype).collect();
                let cname_clash = if r.rtype == RecordType::Cname {
                    !others.is_empty()
                } else {
                    others.iter().any(|x| x.rtype == RecordType::Cname)
                };
                if cname_clash {
                    return Err((INVALID_BATCH, format!(
                        "[RRSet of type {} with DNS name {} is not permitted because a conflicting RRSet of type {} with the same DNS name already exists in zone {zone_name}]",
                        r.rtype,
                        r.name,
                        others.iter().map(|x| x.rtype.as_str()).collect::<Vec<_>>().join(",")
                    )));
                }
                if let Some(i) = same {
                    records.remove(i);
                }
                records.push(r.clone());
            }
        }
    }
    Ok(records)
}

impl Stored {
    fn read(&self) -> RegistryItem {
        match self {
            Stored::Ours(item) => (**item).clone(),
            Stored::Foreign(found) => RegistryItem::foreign(found.clone()),
        }
    }

    /// Whether a write that read `item` may replace or remove this.
    fn is_as_read(&self, item: &RegistryItem, version: u64) -> bool {
        match self {
            Stored::Ours(stored) => stored.version == version,
            Stored::Foreign(found) => version == 0 && item.replaces.as_ref() == Some(found),
        }
    }
}

fn slot(zone_id: &str, r: &RecordSet) -> Slot {
    (zone_id.to_string(), r.name.clone(), r.rtype.to_string())
}

impl Registry for MemoryAccount {
    async fn load(&self, instance_id: &str) -> Result<Option<RegistryItem>> {
        let after = self.enter("dynamodb:GetItem", None)?;
        let item = self.lock().registry.get(instance_id).map(Stored::read);
        self.leave("dynamodb:GetItem", after)?;
        Ok(item)
    }

    async fn save(&self, item: &RegistryItem) -> Result<()> {
        let operation = "dynamodb:PutItem";
        let after = self.enter(operation, None)?;
        {
            let mut state = self.lock();
            state.check(&Write::Save(item))?;
            state.write(&Write::Save(item));
        }
        self.leave(operation, after)
    }

    /// One BatchGetItem per 100 keys (DynamoDB's limit); one key is a
    /// GetItem, as the real client makes it.
    async fn load_many(&self, instance_ids: &[String]) -> Result<Vec<RegistryItem>> {
        if let [only] = instance_ids {
            return Ok(self.load(only).await?.into_iter().collect());
        }
        let operation = "dynamodb:BatchGetItem";
        let mut found = Vec::new();
        for chunk in instance_ids.chunks(crate::adapters::aws::dynamodb::KEYS_PER_BATCH_GET) {
            let after = self.enter(operation, None)?;
            {
                let state = self.lock();
                found.extend(
                    chunk
                        .iter()
                        .filter_map(|id| state.registry.get(id))
                        .map(Stored::read),
                );
            }
            self.leave(operation, after)?;
        }
        Ok(found)
    }

    /// One TransactWriteItems: every condition holds, or nothing is written.
    async fn write_all(&self, writes: &[Write<'_>]) -> Result<()> {
        let operation = "dynamodb:TransactWriteItems";
        let ids: BTreeSet<&str> = writes.iter().map(Write::instance_id).collect();
        if writes.len() > MAX_WRITES_AT_ONCE || ids.len() < writes.len() {
            return Err(Error::Aws {
                operation: operation.into(),
                code: Some("ValidationException".into()),
                message: format!(
                    "{} writes to {} items: at most {MAX_WRITES_AT_ONCE}, each item once",
                    writes.len(),
                    ids.len()
                ),
                kind: Failure::Final,
            });
        }
        let after = self.enter(operation, None)?;
        {
            let mut state = self.lock();
            for write in writes {
                state.check(write)?;
            }
            for write in writes {
                state.write(write);
            }
        }
        self.leave(operation, after)
    }

    /// One Scan per megabyte of items (DynamoDB's page), items measured
    /// as their JSON.
    async fn all(&self) -> Result<Vec<RegistryItem>> {
        let items: Vec<RegistryItem> = self.lock().registry.values().map(Stored::read).collect();
        let bytes: usize = items
            .iter()
            .map(|i| serde_json::to_string(i).map_or(0, |j| j.len()))
            .sum();
        self.pages("dynamodb:Scan", bytes.div_ceil(1 << 20))?;
        Ok(items)
    }

    /// One UpdateItem, as the real table's: only an item of ours that no
    /// release marked yet; an answer lost after it committed is settled by
    /// reading the item back (its mark is this call's), as the real
    /// client does.
    async fn release(
        &self,
        instance_id: &str,
        event_id: &str,
        state: InstanceState,
    ) -> Result<Option<RegistryItem>> {
        let operation = "dynamodb:UpdateItem";
        let after = self.enter(operation, None)?;
        let (mark, before) = {
            let mut now = self.lock();
            let mark = format!("{event_id}#{}", now.calls_made);
            let before = match now.registry.get(instance_id) {
                Some(Stored::Ours(item)) if !now.releasing.contains_key(instance_id) => {
                    Some((**item).clone())
                }
                _ => None,
            };
            if let Some(before) = &before {
                let after = crate::ports::released(before, event_id, state);
                now.registry
                    .insert(instance_id.to_string(), Stored::Ours(Box::new(after)));
                now.releasing
                    .insert(instance_id.to_string(), (mark.clone(), before.clone()));
            }
            (mark, before)
        };
        match self.leave(operation, after) {
            Ok(()) => Ok(before),
            Err(err) => {
                let back = self.enter("dynamodb:GetItem", None);
                let ours = self
                    .lock()
                    .releasing
                    .get(instance_id)
                    .filter(|(m, _)| *m == mark)
                    .map(|(_, before)| before.clone());
                match (back, ours) {
                    (Ok(None), Some(before)) => Ok(Some(before)),
                    _ => Err(err),
                }
            }
        }
    }

    async fn remove(&self, item: &RegistryItem) -> Result<()> {
        let operation = "dynamodb:DeleteItem";
        let after = self.enter(operation, None)?;
        {
            let mut state = self.lock();
            state.check(&Write::Remove(item))?;
            state.write(&Write::Remove(item));
        }
        self.leave(operation, after)
    }
}

impl State {
    /// Whether the table lets `write` through: a save replaces the version
    /// it read (or nothing, or exactly the foreign item it read); a remove
    /// finds the item as read, or none.
    fn check(&self, write: &Write<'_>) -> Result<()> {
        let stored = self.registry.get(write.instance_id());
        let allowed = match (write, stored) {
            (Write::Save(item), None) => item.version <= 1,
            (Write::Save(item), Some(stored)) => {
                stored.is_as_read(item, item.version.saturating_sub(1))
            }
            (Write::Remove(_), None) => true,
            (Write::Remove(item), Some(stored)) => stored.is_as_read(item, item.version),
        };
        if allowed {
            Ok(())
        } else {
            Err(Error::RegistryRace {
                instance_id: write.instance_id().to_string(),
            })
        }
    }

    fn write(&mut self, write: &Write<'_>) {
        self.releasing.remove(write.instance_id());
        match write {
            Write::Save(item) => {
                let mut saved = (*item).clone();
                saved.replaces = None;
                self.registry
                    .insert(item.instance_id.clone(), Stored::Ours(Box::new(saved)));
            }
            Write::Remove(item) => {
                self.registry.remove(&item.instance_id);
            }
        }
    }
}

impl Guards for MemoryAccount {
    async fn first_use(&self, host: &str, nonce: &str, now: i64, expires_at: i64) -> Result<bool> {
        let operation = "dynamodb:PutItem";
        let after = self.enter(operation, None)?;
        let fresh = {
            let mut state = self.lock();
            let key = format!("{host}#{nonce}");
            let fresh = state.nonces.get(&key).is_none_or(|e| *e < now);
            if fresh {
                state.nonces.insert(key, expires_at);
            }
            fresh
        };
        self.leave(operation, after)?;
        Ok(fresh)
    }

    async fn count(&self, host_key: &str, counters: Counters) -> Result<()> {
        let operation = "dynamodb:UpdateItem";
        let after = self.enter(operation, None)?;
        if let Some(Stored::Ours(item)) = self.lock().registry.get_mut(host_key) {
            if let Some(host) = item.host.as_mut() {
                host.counters = counters;
            }
        }
        self.leave(operation, after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Change;
    use rstest::rstest;
    use ChangeAction::*;

    fn r(name: &str, rtype: &str, ttl: u32, value: &str) -> RecordSet {
        RecordSet::new(name, RecordType::from(rtype), ttl, vec![value.into()])
    }

    fn batch(changes: Vec<(ChangeAction, RecordSet)>) -> ZoneChanges {
        ZoneChanges {
            zone_id: "Z1".into(),
            zone_name: "corp.example.".into(),
            changes: changes
                .into_iter()
                .map(|(action, record)| Change { action, record })
                .collect(),
        }
    }

    /// What Route 53 refuses, the in-memory Route 53 refuses, with its code,
    /// and the zone is untouched; what it accepts goes through.
    #[rstest]
    #[case::create_of_an_existing_record(vec![(Create, r("a.corp.example.", "A", 60, "10.0.0.2"))], Some("already exists"))]
    #[case::cname_beside_an_a(vec![(Create, r("a.corp.example.", "CNAME", 60, "y.example."))], Some("conflicting RRSet"))]
    #[case::a_beside_a_cname(vec![(Upsert, r("c.corp.example.", "A", 60, "10.0.0.3"))], Some("conflicting RRSet"))]
    #[case::delete_with_other_values(vec![(Delete, r("a.corp.example.", "A", 60, "10.0.0.9"))], Some("do not match"))]
    #[case::delete_with_another_ttl(vec![(Delete, r("a.corp.example.", "A", 300, "10.0.0.1"))], Some("do not match"))]
    #[case::delete_of_a_missing_record(vec![(Delete, r("b.corp.example.", "A", 60, "10.0.0.1"))], Some("not found"))]
    #[case::name_outside_the_zone(vec![(Create, r("a.xcorp.example.", "A", 60, "10.0.0.1"))], Some("not permitted in zone"))]
    #[case::empty_batch(vec![], Some("at 'changeBatch.changes'"))]
    #[case::good_then_bad_applies_nothing(vec![(Create, r("b.corp.example.", "A", 60, "10.0.0.5")), (Delete, r("z.corp.example.", "A", 60, "1.1.1.1"))], Some("not found"))]
    #[case::delete_then_create_changes_the_type(vec![(Delete, r("c.corp.example.", "CNAME", 60, "x.example.")), (Create, r("c.corp.example.", "A", 60, "10.0.0.7"))], None)]
    #[case::exact_delete(vec![(Delete, r("a.corp.example.", "A", 60, "10.0.0.1"))], None)]
    fn refuses_what_route53_refuses(
        #[case] changes: Vec<(ChangeAction, RecordSet)>,
        #[case] refusal: Option<&str>,
    ) {
        let existing = vec![
            r("a.corp.example.", "A", 60, "10.0.0.1"),
            r("c.corp.example.", "CNAME", 60, "x.example."),
        ];
        match (
            apply_strictly("corp.example.", &existing, &batch(changes)),
            refusal,
        ) {
            (Err((_, message)), Some(needle)) => assert!(message.contains(needle), "{message}"),
            (Ok(after), None) => assert_ne!(after, existing),
            (got, want) => panic!("got {got:?}, want {want:?}"),
        }
    }

    #[tokio::test]
    async fn registry_refuses_stale_versions() {
        let account = MemoryAccount::new(World::empty("us-east-1"));
        let mut item = RegistryItem {
            instance_id: "i-1".into(),
            version: 1,
            ..RegistryItem::default()
        };
        account.save(&item).await.unwrap();
        assert!(
            matches!(account.save(&item).await, Err(Error::RegistryRace { .. })),
            "version 1 twice"
        );
        item.version = 2;
        account.save(&item).await.unwrap();
        let stale = RegistryItem {
            version: 1,
            ..item.clone()
        };
        assert!(matches!(
            account.remove(&stale).await,
            Err(Error::RegistryRace { .. })
        ));
        account.remove(&item).await.unwrap();
        assert!(account.load("i-1").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_world_registry_becomes_the_registry_table() {
        let item = RegistryItem {
            instance_id: "i-1".into(),
            version: 4,
            ..RegistryItem::default()
        };
        let account = MemoryAccount::new(World {
            registry: vec![item.clone()],
            ..World::empty("us-east-1")
        });
        assert_eq!(account.load("i-1").await.unwrap(), Some(item.clone()));
        assert!(
            account.world().registry.is_empty(),
            "held once, in the table"
        );
        // The loaded version is the one a conditional save must follow.
        let stale = RegistryItem {
            version: 4,
            ..item.clone()
        };
        assert!(matches!(
            account.save(&stale).await,
            Err(Error::RegistryRace { .. })
        ));
        account
            .save(&RegistryItem { version: 5, ..item })
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn injected_faults_strike_once_before_or_after_the_commit() {
        let account = MemoryAccount::new(World::empty("us-east-1"));
        let item = RegistryItem {
            instance_id: "i-1".into(),
            version: 1,
            ..RegistryItem::default()
        };
        account.inject("dynamodb:PutItem", Fault::Throttling);
        account.inject(
            "dynamodb:PutItem",
            Fault::InternalError { after_commit: true },
        );
        let err = account.save(&item).await.unwrap_err();
        assert!(
            err.is_retryable() && err.to_string().contains("Throttling"),
            "{err}"
        );
        assert!(
            account.load("i-1").await.unwrap().is_none(),
            "throttled: nothing saved"
        );
        let err = account.save(&item).await.unwrap_err();
        assert!(err.to_string().contains("InternalFailure"), "{err}");
        assert_eq!(
            account.load("i-1").await.unwrap(),
            Some(item),
            "saved, then the answer was lost"
        );
        assert_eq!(account.calls.take()["dynamodb:PutItem"], 2);
    }
}
