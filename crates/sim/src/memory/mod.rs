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
//!
//! One file per job: `faults` (injection and the bookkeeping of every
//! call, in order), `ec2`, `route53` (the strict change rules, and each
//! change batch's propagation to the name servers), `registry` (the table
//! and its conditional writes), `guards` (the DDNS endpoint's),
//! `autoscaling` (lifecycle hooks) and `ecs` (tasks).

mod autoscaling;
mod ec2;
pub mod ecs;
pub(crate) mod faults;
mod guards;
mod members;
mod registry;
mod route53;

pub use autoscaling::Completed;
pub use faults::Fault;
pub use route53::apply_strictly;

use crate::world::World;
use ec2_ddns_core::calls::CallLog;
use ec2_ddns_core::model::{DnsName, RecordSet, RecordType, RegistryItem, ZoneId};
use ec2_ddns_core::registrar::Registrar;
use ec2_ddns_core::Config;
use registry::Stored;
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// A record set's slot in a zone: what Route 53 keeps one record set at.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Slot {
    pub zone_id: ZoneId,
    pub name: DnsName,
    pub rtype: RecordType,
    /// A group member's set identifier; `None` for a simple record set.
    pub set_id: Option<String>,
}

impl Slot {
    pub fn new(zone_id: &str, name: &str, rtype: RecordType) -> Slot {
        Slot {
            zone_id: ZoneId::new(zone_id),
            name: DnsName::new(name),
            rtype,
            set_id: None,
        }
    }

    /// A group member's slot: its record set at `name` and `rtype`.
    pub fn member(zone_id: &str, name: &str, rtype: RecordType, set_id: &str) -> Slot {
        Slot {
            set_id: Some(set_id.into()),
            ..Slot::new(zone_id, name, rtype)
        }
    }

    /// The slot `record` takes in the zone.
    pub fn of(zone_id: &ZoneId, record: &RecordSet) -> Slot {
        Slot {
            zone_id: zone_id.clone(),
            name: record.name.clone(),
            rtype: record.rtype.clone(),
            set_id: record.routing.set_id().map(str::to_string),
        }
    }
}

#[derive(Debug)]
struct State {
    world: World,
    registry: BTreeMap<String, Stored>,
    /// The endpoint's nonces (`host#nonce`) and when each expires.
    nonces: BTreeMap<String, i64>,
    /// The endpoint's failure counters (`guard#…` keys): the count, and
    /// when the counter expires.
    guards: BTreeMap<String, (u32, i64)>,
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
    /// Every call made, in order (`faults::enter`).
    journal: Vec<String>,
    /// Member accounts whose role was assumed: credentials kept, as a
    /// warm process keeps them (`members`).
    assumed: std::collections::BTreeSet<String>,
    /// Auto Scaling's lifecycle hooks (`autoscaling`).
    hooks: autoscaling::Hooks,
    /// Route 53's propagation of the change batches applied (`route53`).
    changes: route53::Changes,
}

/// A handle on one in-memory account; clone it for each port.
#[derive(Debug, Clone)]
pub struct MemoryAccount {
    state: Arc<Mutex<State>>,
    /// Where the EC2 and ECS this handle reads are: `None`, the world's
    /// own; else a member's (`World::members`), through `at`.
    place: Option<ec2_ddns_core::model::Place>,
    /// Calls per AWS operation this account stood in for.
    pub calls: CallLog,
}

impl MemoryAccount {
    /// An account holding `world`; its `registry` items become the
    /// in-memory registry table.
    pub fn new(mut world: World) -> MemoryAccount {
        let mut registry: BTreeMap<String, Stored> = std::mem::take(&mut world.registry)
            .into_iter()
            .map(|item| (item.key.stored(), Stored::Ours(Box::new(item))))
            .collect();
        for found in std::mem::take(&mut world.foreign_registry) {
            registry.insert(found.key.stored(), Stored::Foreign(found));
        }
        let world_polls = world.route53_pending_polls;
        let authors = world
            .zones
            .iter()
            .flat_map(|z| {
                let id = z.info().id;
                z.records
                    .iter()
                    .map(move |r| (Slot::of(&id, r), "world".to_string()))
            })
            .collect();
        MemoryAccount {
            state: Arc::new(Mutex::new(State {
                world,
                registry,
                nonces: BTreeMap::new(),
                guards: BTreeMap::new(),
                faults: BTreeMap::new(),
                planned: BTreeMap::new(),
                calls_made: 0,
                crashed: false,
                writer: "someone".into(),
                authors,
                releasing: BTreeMap::new(),
                journal: Vec::new(),
                assumed: Default::default(),
                hooks: autoscaling::Hooks::default(),
                changes: route53::Changes::pending_for(world_polls),
            })),
            place: None,
            calls: CallLog::default(),
        }
    }

    /// An account holding a world of the repository's `fixtures/worlds/`
    /// (tests of this and the other crates).
    pub fn fixture(world: &str) -> MemoryAccount {
        let path = format!(
            "{}/../../fixtures/worlds/{world}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        MemoryAccount::new(World::load(&path).expect("fixture world"))
    }

    /// The registrar with this account behind all three ports. With
    /// members configured (the organization mode) it knows the world's
    /// account as its own.
    pub fn registrar(&self, config: Config) -> Registrar<Self, Self, Self> {
        let (region, account) = {
            let state = self.lock();
            (
                state.world.region.clone(),
                state.world.account_id().to_string(),
            )
        };
        let organized = config.members.is_some();
        let mut registrar =
            Registrar::new(self.clone(), self.clone(), self.clone(), config, region)
                .with_backoff(std::time::Duration::ZERO)
                .with_calls(self.calls.clone());
        if organized {
            registrar.home_account = Some(account);
        }
        registrar
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

    /// Zone id → its records, sorted.
    pub fn zone_records(&self) -> BTreeMap<ZoneId, Vec<RecordSet>> {
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
}
