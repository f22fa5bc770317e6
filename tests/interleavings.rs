//! The one promise when invocations run at once: two invocations on one
//! in-memory account, every order of their AWS calls (`sim::schedule`'s
//! exhaustive walk). After every order:
//!
//! 1. no record someone else wrote was changed or deleted;
//! 2. every record an invocation wrote is listed by a registry item (owned
//!    or pending), so a later convergence can always delete it;
//! 3. no two items own the same record;
//! 4. no invocation panicked; each ended in a summary or a retryable error;
//!
//! and after the two, one reconcile converges and a second changes
//! nothing. Where no name is contested, what the zones hold then is what a
//! reconcile of the same live state on a fresh account writes.
//!
//! The walk chooses which invocation goes next (the calls one invocation
//! makes at once go in the order it made them: `schedule::Exhaustive`).
//! Each case prints how many orders it ran: all of them, or the first
//! `INTERLEAVINGS` (default 3,000) of a case with more.
//! `INTERLEAVINGS_SEEDS=N` runs N random orders over every waiting call
//! instead (`schedule::Seeded`, seeds 0 to N-1; a failure names its seed).

use ec2_ddns::event::{self, InstanceEvent};
use ec2_ddns::model::{DnsName, InstanceState, RecordSet, ZoneId};
use ec2_ddns::registrar::Registrar;
use ec2_ddns::sim::memory::{MemoryAccount, Slot};
use ec2_ddns::sim::schedule::{self, Exhaustive, Invocation, Scheduled, Scheduler, Seeded};
use ec2_ddns::sim::world::World;
use ec2_ddns::summary::Summary;
use ec2_ddns::{Config, Error};
use futures_util::FutureExt;
use std::collections::BTreeMap;
use std::time::Duration;

const REGION: &str = "us-east-1";

/// One VPC, its private zone with a record someone else keeps, the public
/// zone and the reverse zone; instances as each case wants them.
fn world(instances: serde_json::Value) -> World {
    let world = serde_json::json!({
        "region": REGION,
        "vpcs": [{"id": "vpc-a", "cidr": "10.1.0.0/16", "dhcp_domain": "corp.example"}],
        "subnets": [{"id": "subnet-a", "vpc": "vpc-a", "cidr": "10.1.2.0/24"}],
        "zones": [
            {"id": "ZPRIV", "name": "corp.example.", "private": true, "vpcs": ["vpc-a"],
             "records": [{"name": "db.corp.example.", "type": "A", "ttl": 300, "values": ["10.1.9.9"]}]},
            {"id": "ZPUB", "name": "corp.example.", "private": false},
            {"id": "ZREV", "name": "10.in-addr.arpa.", "private": true, "vpcs": ["vpc-a"]}
        ],
        "instances": instances
    });
    World::parse("interleavings", &world.to_string()).expect("a valid world")
}

type Ports = Scheduled<MemoryAccount>;

/// A scheduler over `account` that names the account's writer after the
/// invocation whose call goes ("invN"; `person`'s calls, "person").
fn naming_writers(account: &MemoryAccount, person: Option<usize>) -> Scheduler {
    let writers = account.clone();
    Scheduler::with_on_turn(move |step| match step.invocation {
        i if Some(i) == person => writers.set_writer("person"),
        i => writers.set_writer(&format!("inv{i}")),
    })
}

/// One change batch creating `record` in `zone`, as a person sends it.
fn creating(zone: &str, record: RecordSet) -> ec2_ddns::plan::ZoneChanges {
    use ec2_ddns::plan::{Change, ChangeAction, ZoneChanges};
    ZoneChanges {
        zone_id: zone.into(),
        zone_name: DnsName::default(),
        changes: vec![Change {
            action: ChangeAction::Create,
            record,
        }],
    }
}

/// [`naming_writers`] without a person, and the two invocations'
/// registrars.
fn two_registrars(account: &MemoryAccount) -> (Scheduler, [Registrar<Ports, Ports, Ports>; 2]) {
    let scheduler = naming_writers(account, None);
    let registrars = [
        registrar(&scheduler, account, 0),
        registrar(&scheduler, account, 1),
    ];
    (scheduler, registrars)
}

/// Invocation `i`'s registrar: its calls wait for their turns.
fn registrar(
    scheduler: &Scheduler,
    account: &MemoryAccount,
    i: usize,
) -> Registrar<Ports, Ports, Ports> {
    Registrar::new(
        scheduler.ports(account.clone(), i),
        scheduler.ports(account.clone(), i),
        scheduler.ports(account.clone(), i),
        Config::default(),
        REGION,
    )
    .with_backoff(Duration::from_millis(10))
}

fn state(id: &str, event_id: &str, state: InstanceState) -> InstanceEvent {
    event::parse_instance(event::state_change_json(event_id, id, state, None, REGION))
        .expect("a state change")
}

fn tag_change(id: &str, event_id: &str, tags: &[(&str, &str)]) -> InstanceEvent {
    let tags: BTreeMap<String, String> = tags
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let changed: Vec<&str> = tags.keys().map(String::as_str).collect();
    event::parse_instance(event::tag_change_json(
        event_id, id, &changed, &tags, None, REGION,
    ))
    .expect("a tag change")
}

/// What an invocation ended in: its summaries, or the error that fails it
/// (Lambda delivers it again).
type Ended = Result<Vec<Summary>, Error>;

/// An invocation's end, as invariant 4 sees it.
trait Ended_ {
    /// The error that fails it with no retry to come, if any.
    fn failed_for_good(&self) -> Option<String>;
}

impl Ended_ for Ended {
    fn failed_for_good(&self) -> Option<String> {
        match self {
            Err(e) if !e.is_retryable() => Some(e.to_string()),
            _ => None,
        }
    }
}

/// A DDNS request's answer: its status and body. A 5xx is the client's to
/// retry, a 4xx an answer; neither breaks the promise.
impl Ended_ for (u16, String) {
    fn failed_for_good(&self) -> Option<String> {
        None
    }
}

/// Writes `account`'s changes as `writer` from now on.
fn writing_as(account: &MemoryAccount, writer: &str) {
    account.set_writer(writer);
}

/// The records someone else keeps: authored by the world or a person.
fn foreign(account: &MemoryAccount) -> BTreeMap<Slot, Option<RecordSet>> {
    let zones = account.zone_records();
    account
        .authors()
        .into_iter()
        .filter(|(_, author)| {
            !author.starts_with("inv") && author != "setup" && author != "reconcile"
        })
        .map(|(slot, _)| {
            let held = held(&zones, &slot);
            (slot, held)
        })
        .collect()
}

fn held(zones: &BTreeMap<ZoneId, Vec<RecordSet>>, slot: &Slot) -> Option<RecordSet> {
    zones
        .get(&slot.zone_id)?
        .iter()
        .find(|r| r.name == slot.name && r.rtype == slot.rtype)
        .cloned()
}

/// Invariants 1 to 3; the order's steps in the message.
fn check_promise(account: &MemoryAccount, before: &BTreeMap<Slot, Option<RecordSet>>, order: &str) {
    let zones = account.zone_records();
    for (slot, record) in before {
        assert_eq!(
            &held(&zones, slot),
            record,
            "someone else's record at {slot:?} changed; order {order}"
        );
    }
    let items = account.registry_items();
    let authors = account.authors();
    let mut owners: BTreeMap<(ZoneId, String), Vec<&str>> = BTreeMap::new();
    for (key, item) in &items {
        for o in &item.records {
            owners
                .entry((o.zone_id.clone(), o.record.to_string()))
                .or_default()
                .push(key);
        }
    }
    for (record, who) in &owners {
        assert!(who.len() <= 1, "{record:?} owned by {who:?}; order {order}");
    }
    for (slot, author) in &authors {
        if before.contains_key(slot) {
            continue;
        }
        let Some(record) = held(&zones, slot) else {
            continue;
        };
        let listed = items.values().any(|item| {
            item.listed()
                .any(|o| o.zone_id == slot.zone_id && o.record == record)
        });
        assert!(
            listed,
            "{record} in {} written by {author} is listed by no item; order {order}",
            slot.zone_id
        );
    }
}

/// A reconcile converges (no error), and a second changes nothing.
async fn converge(account: &MemoryAccount, order: &str) {
    writing_as(account, "reconcile");
    let registrar = account.registrar(Config::default());
    let first = registrar.reconcile("converge").await;
    let first = first.unwrap_or_else(|e| panic!("the reconcile failed: {e}; order {order}"));
    assert!(
        first.summaries.iter().all(|s| s.error.is_none()),
        "{:?}; order {order}",
        first.summaries
    );
    let second = registrar
        .reconcile("again")
        .await
        .expect("a second reconcile");
    let changed: Vec<&Summary> = second
        .summaries
        .iter()
        .filter(|s| !s.changes.is_empty())
        .collect();
    assert!(
        changed.is_empty(),
        "the second reconcile changed {changed:?}; order {order}"
    );
}

/// A reconcile converges, a second changes nothing, and the promise still
/// holds for what someone else kept (`before`).
async fn converged_keeping(
    account: &MemoryAccount,
    before: &BTreeMap<Slot, Option<RecordSet>>,
    order: &str,
) {
    converge(account, order).await;
    check_promise(account, before, order);
}

/// What a reconcile of `account`'s live state writes on a fresh account
/// (the world's own records, no item): the zones as convergence leaves them.
async fn fresh(world: &World, live: &MemoryAccount) -> BTreeMap<ZoneId, Vec<RecordSet>> {
    let mut world = world.clone();
    world.instances = live.world().instances;
    world.registry.clear();
    let account = MemoryAccount::new(world);
    account
        .registrar(Config::default())
        .reconcile("fresh")
        .await
        .expect("a fresh reconcile");
    account.zone_records()
}

/// A case: the world, what runs before the two (sequentially), the two
/// invocations, and a check of their outcomes.
struct Case<'a> {
    name: &'a str,
    world: World,
    /// Run before the two, alone (registers what the case starts from).
    before: Vec<InstanceEvent>,
    /// Changes the live state after `before` (a termination, new tags).
    live: &'a dyn Fn(&mut World),
    /// Whether the zones after convergence must be what a fresh reconcile
    /// writes (no name contested).
    same_as_fresh: bool,
    /// DDNS hosts added before the two (the fixtures' secret).
    hosts: &'a [&'a str],
}

/// Every order of `invocations` (built anew for each run), with the
/// invariants after each; returns the number of orders.
async fn explore<T, F>(
    case: &Case<'_>,
    invocations: F,
    check: impl Fn(&MemoryAccount, &[T], &str),
) -> u64
where
    F: for<'r> Fn(&'r [Registrar<Ports, Ports, Ports>; 2]) -> Vec<Invocation<'r, T>>,
    T: Ended_,
{
    let mut walk = Exhaustive::new();
    // INTERLEAVINGS_SEEDS=N: N random orders over every waiting call
    // instead (seeds 0..N, each printed on failure), beside the walk.
    let seeds: Option<u64> = std::env::var("INTERLEAVINGS_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok());
    let mut seed = 0;
    loop {
        let account = MemoryAccount::new(case.world.clone());
        writing_as(&account, "setup");
        let setup = account.registrar(Config::default());
        for event in &case.before {
            setup.handle(event).await.expect("the setup converges");
        }
        for host in case.hosts {
            add_host(&account, host).await;
        }
        account.edit(case.live);
        let before = foreign(&account);
        let (scheduler, registrars) = two_registrars(&account);
        let (ended, trace) = match seeds {
            Some(_) => {
                let mut seeded = Seeded::new(seed);
                schedule::run(&scheduler, invocations(&registrars), &mut seeded).await
            }
            None => schedule::run(&scheduler, invocations(&registrars), &mut walk).await,
        };
        let order = schedule::order(&trace);
        let order = match seeds {
            Some(_) => format!("(INTERLEAVINGS_SEEDS seed {seed}) {order}"),
            None => order,
        };
        for (i, end) in ended.iter().enumerate() {
            if let Some(e) = end.failed_for_good() {
                panic!("invocation {i} failed for good: {e}; order {order}");
            }
        }
        check_promise(&account, &before, &order);
        check(&account, &ended, &order);
        converged_keeping(&account, &before, &order).await;
        if case.same_as_fresh {
            assert_eq!(
                account.zone_records(),
                fresh(&case.world, &account).await,
                "converged zones differ from a fresh reconcile's; order {order}"
            );
        }
        if let Some(n) = seeds {
            seed += 1;
            if seed == n {
                eprintln!("{}: {n} seeded orders over every call", case.name);
                return n;
            }
            continue;
        }
        if !walk.advance() {
            eprintln!("{}: all {} orders", case.name, walk.runs());
            return walk.runs();
        }
        if walk.runs() == budget() {
            eprintln!(
                "{}: the first {} orders (more exist; INTERLEAVINGS raises the budget)",
                case.name,
                walk.runs()
            );
            return walk.runs();
        }
    }
}

/// How many orders a case runs at most: `INTERLEAVINGS`, else 3,000.
fn budget() -> u64 {
    std::env::var("INTERLEAVINGS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3_000)
}

fn one(end: Result<Summary, Error>) -> Ended {
    end.map(|s| vec![s])
}

/// Invocation: `registrar` handles `event`.
fn handling<'r>(
    registrar: &'r Registrar<Ports, Ports, Ports>,
    event: InstanceEvent,
) -> Invocation<'r, Ended> {
    Box::pin(async move { one(registrar.handle(&event).await) })
}

/// Invocation: `registrar` runs the scheduled reconcile.
fn reconciling<'r>(
    registrar: &'r Registrar<Ports, Ports, Ports>,
    event_id: &'static str,
) -> Invocation<'r, Ended> {
    Box::pin(async move {
        registrar
            .reconcile(event_id)
            .await
            .map(|done| done.summaries)
    })
}

fn running_world(tags: serde_json::Value) -> World {
    world(serde_json::json!([
        {"id": "i-1", "subnet": "subnet-a", "private_ip": "10.1.2.4", "public_ip": "54.0.0.1", "tags": tags}
    ]))
}

#[tokio::test(start_paused = true)]
async fn running_and_a_tag_change_at_once() {
    let case = Case {
        name: "running + tag change",
        world: running_world(serde_json::json!({})),
        before: vec![],
        live: &|w: &mut World| {
            w.instances[0].tags.insert("CNAME".into(), "api".into());
        },
        same_as_fresh: true,
        hosts: &[],
    };
    let runs = explore(
        &case,
        |r| {
            vec![
                handling(&r[0], state("i-1", "e-run", InstanceState::Running)),
                handling(&r[1], tag_change("i-1", "e-tag", &[("CNAME", "api")])),
            ]
        },
        |_, _, _| {},
    )
    .await;
    assert!(runs > 1);
}

#[tokio::test(start_paused = true)]
async fn running_and_terminated_at_once_in_both_delivery_orders() {
    for terminated_first in [false, true] {
        let case = Case {
            name: if terminated_first {
                "terminated + running"
            } else {
                "running + terminated"
            },
            world: running_world(serde_json::json!({"CNAME": "api"})),
            before: vec![state("i-1", "e-0", InstanceState::Running)],
            live: &|w: &mut World| w.instances[0].state = InstanceState::Terminated,
            same_as_fresh: true,
            hosts: &[],
        };
        let runs = explore(
            &case,
            move |r| {
                // Invocation 0 is delivered (and asks) first.
                let [first, second] = if terminated_first {
                    [InstanceState::Terminated, InstanceState::Running]
                } else {
                    [InstanceState::Running, InstanceState::Terminated]
                };
                vec![
                    handling(&r[0], state("i-1", "e-a", first)),
                    handling(&r[1], state("i-1", "e-b", second)),
                ]
            },
            |account, _, order| {
                // Converged or not, nothing of i-1 may be left unlisted
                // (checked above); once reconciled, nothing is left at all.
                let _ = (account, order);
            },
        )
        .await;
        assert!(runs > 1);
    }
}

#[tokio::test(start_paused = true)]
async fn two_instances_claim_one_alias_at_once() {
    let case = Case {
        name: "two claim one alias",
        world: world(serde_json::json!([
            {"id": "i-1", "subnet": "subnet-a", "private_ip": "10.1.2.4", "tags": {"CNAME": "api"}, "launch_time": "2026-01-01T00:00:00Z"},
            {"id": "i-2", "subnet": "subnet-a", "private_ip": "10.1.2.5", "tags": {"CNAME": "api"}, "launch_time": "2026-01-02T00:00:00Z"}
        ])),
        before: vec![],
        live: &|_: &mut World| {},
        same_as_fresh: false,
        hosts: &[],
    };
    let runs = explore(
        &case,
        |r| {
            vec![
                handling(&r[0], state("i-1", "e-1", InstanceState::Running)),
                handling(&r[1], state("i-2", "e-2", InstanceState::Running)),
            ]
        },
        |account, ended, order| {
            let zones = account.zone_records();
            let cnames: Vec<&RecordSet> = zones[&ZoneId::new("ZPRIV")]
                .iter()
                .filter(|r| r.name == "api.corp.example.")
                .collect();
            assert!(cnames.len() <= 1, "{cnames:?}; order {order}");
            let owners: Vec<String> = account
                .registry_items()
                .into_iter()
                .filter(|(_, item)| {
                    item.records
                        .iter()
                        .any(|o| o.record.name == "api.corp.example.")
                })
                .map(|(key, _)| key)
                .collect();
            assert!(owners.len() <= 1, "api owned by {owners:?}; order {order}");
            // The one without it says why (a conflict), unless it failed
            // retryably and the next delivery will.
            if owners.len() == 1 {
                let loser = if owners[0] == "i-1" { 1 } else { 0 };
                if let Ok(summaries) = &ended[loser] {
                    assert!(
                        summaries
                            .iter()
                            .any(|s| s.conflicts.iter().any(|c| c.name == "api.corp.example.")),
                        "the other claimant reports no conflict: {summaries:?}; order {order}"
                    );
                }
            }
        },
    )
    .await;
    assert!(runs > 1);
}

#[tokio::test(start_paused = true)]
async fn an_event_and_the_reconcile_at_once() {
    let case = Case {
        name: "event + reconcile",
        world: running_world(serde_json::json!({"CNAME": "api"})),
        before: vec![],
        live: &|_: &mut World| {},
        same_as_fresh: true,
        hosts: &[],
    };
    let runs = explore(
        &case,
        |r| {
            vec![
                handling(&r[0], state("i-1", "e-run", InstanceState::Running)),
                reconciling(&r[1], "schedule"),
            ]
        },
        |_, _, _| {},
    )
    .await;
    assert!(runs > 1);
}

#[tokio::test(start_paused = true)]
async fn two_reconciles_at_once() {
    let case = Case {
        name: "reconcile + reconcile",
        world: world(serde_json::json!([
            {"id": "i-1", "subnet": "subnet-a", "private_ip": "10.1.2.4", "tags": {"CNAME": "api"}},
            {"id": "i-2", "subnet": "subnet-a", "private_ip": "10.1.2.5", "state": "terminated"}
        ])),
        before: vec![],
        live: &|_: &mut World| {},
        same_as_fresh: true,
        hosts: &[],
    };
    let runs = explore(
        &case,
        |r| vec![reconciling(&r[0], "s-1"), reconciling(&r[1], "s-2")],
        |_, _, _| {},
    )
    .await;
    assert!(runs > 1);
}

#[tokio::test(start_paused = true)]
async fn a_batch_and_a_single_event_for_an_instance_in_it_at_once() {
    let case = Case {
        name: "batch + single event",
        world: world(serde_json::json!([
            {"id": "i-1", "subnet": "subnet-a", "private_ip": "10.1.2.4", "tags": {"CNAME": "api"}},
            {"id": "i-2", "subnet": "subnet-a", "private_ip": "10.1.2.5"}
        ])),
        before: vec![],
        live: &|_: &mut World| {},
        same_as_fresh: true,
        hosts: &[],
    };
    let runs = explore(
        &case,
        |r| {
            vec![
                // The engine's batch path, as buffered mode calls it for an
                // SQS batch naming both instances.
                Box::pin(async {
                    let one = state("i-1", "e-b1", InstanceState::Running);
                    let two = state("i-2", "e-b2", InstanceState::Running);
                    Ok(r[0].handle_many(&[&one, &two], None).await)
                }),
                handling(&r[1], state("i-1", "e-1", InstanceState::Running)),
            ]
        },
        |_, ended, order| {
            // A batch never fails as a whole; an instance in it that could
            // not be converged says whether a retry may help.
            if let Ok(summaries) = &ended[0] {
                for s in summaries {
                    if let Some(e) = &s.error {
                        assert_eq!(s.retryable, Some(true), "{e}; order {order}");
                    }
                }
            }
        },
    )
    .await;
    assert!(runs > 1);
}

/// The DDNS fixtures' secret and time.
const SECRET: &str = "test-secret-not-for-production";
const T: i64 = 1_795_255_200;

/// A DDNS host in the public zone, with the fixtures' secret.
async fn add_host(account: &MemoryAccount, name: &str) {
    use ec2_ddns::model::{HostSettings, RegistryItem, RegistryKey};
    use ec2_ddns::ports::Registry;
    account
        .save(&RegistryItem {
            key: RegistryKey::host(name),
            version: 1,
            host: Some(HostSettings {
                zone_id: "ZPUB".into(),
                zone_name: "corp.example.".into(),
                ttl: 60,
                secret: SECRET.into(),
                ..HostSettings::default()
            }),
            ..RegistryItem::default()
        })
        .await
        .expect("host saved");
}

/// Serves the function URL request of `fixtures/ddns/NAME.json`.
async fn serve(registrar: &Registrar<Ports, Ports, Ports>, name: &str) -> (u16, String) {
    use ec2_ddns::ddns::{endpoint, request::HttpRequest};
    let path = format!("{}/fixtures/ddns/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let request: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect(&path)).expect(&path);
    let request = HttpRequest::from_function_url(request).expect("a function URL request");
    let now = chrono::DateTime::from_timestamp(T, 0).expect("a time");
    let response = endpoint::serve(registrar, &request, name, now).await;
    (
        response.status_code as u16,
        response.body.unwrap_or_default(),
    )
}

/// The failed proofs counted from the fixtures' address about the host,
/// at the time `serve` answers.
async fn counted_failures(account: &MemoryAccount) -> u32 {
    use ec2_ddns::ports::Guards;
    let source = "203.0.113.7".parse().expect("an address");
    account
        .failures(
            "home.corp.example.",
            source,
            T,
            ec2_ddns::ddns::decide::WINDOW_SECONDS,
        )
        .await
        .expect("the counters")
        .host_from_source
}

fn ddns_case(name: &str) -> Case<'_> {
    Case {
        name,
        world: world(serde_json::json!([])),
        before: vec![],
        live: &|_: &mut World| {},
        same_as_fresh: false,
        hosts: &["home.corp.example."],
    }
}

/// Found bug 1 (a pending record settled away while its change is in
/// flight) within its first few orders: the IPv4 update writes its A ahead,
/// the IPv6 update reads the zone before that A lands and drops the
/// pending A from the item it saves, the A lands, and the IPv4 update's
/// finish loses its race: the A was listed by no item. A finish that loses
/// its race now writes what it proved on top of the newer item.
#[tokio::test(start_paused = true)]
async fn a_dual_stack_client_sets_ipv4_and_ipv6_at_once() {
    let runs = explore(
        &ddns_case("DDNS IPv4 + IPv6"),
        |r| {
            vec![
                Box::pin(serve(&r[0], "set-legacy")),
                Box::pin(serve(&r[1], "set-ipv6")),
            ]
        },
        |account, answers, order| {
            // Each request that answered 201 left its record, owned by the
            // host; one that did not answered why: 409 (the other update
            // won the item's race: try again) or a 5xx the client retries.
            let zones = account.zone_records();
            let item = &account.registry_items()["host#home.corp.example."];
            for ((status, body), rtype) in answers.iter().zip(["A", "AAAA"]) {
                let held = zones[&ZoneId::new("ZPUB")]
                    .iter()
                    .find(|r| r.name == "home.corp.example." && r.rtype.to_string() == rtype)
                    .cloned();
                match status {
                    201 => {
                        let held = held.unwrap_or_else(|| {
                            panic!("{rtype} answered 201 but is absent; order {order}")
                        });
                        assert!(
                            item.records.iter().any(|o| o.record == held),
                            "{rtype} is not owned by the host: {item:?}; order {order}"
                        );
                    }
                    409 | 500..=599 => {}
                    _ => panic!("{rtype}: {status} {body}; order {order}"),
                }
            }
        },
    )
    .await;
    assert!(runs > 1);
}

/// Bug 2, fixed: the endpoint stored a host's failure count as the value
/// it had read plus one, so two failed proofs at once counted one. It is
/// now an increment (`Guards::count_failure`), per source address.
#[tokio::test(start_paused = true)]
async fn failed_proofs_at_once_are_each_counted() {
    let runs = explore(
        &ddns_case("DDNS two failed proofs"),
        |r| {
            vec![
                Box::pin(serve(&r[0], "set-legacy-wrong-hash")),
                Box::pin(serve(&r[1], "set-legacy-wrong-hash")),
            ]
        },
        |account, answers, order| {
            let failed = answers.iter().filter(|(status, _)| *status == 401).count();
            let counted = counted_failures(account)
                .now_or_never()
                .expect("memory answers at once");
            assert_eq!(counted as usize, failed, "{answers:?}; order {order}");
        },
    )
    .await;
    assert!(runs > 1);
}

/// Bug 8: a good update and a failed proof of one host at once. The
/// update read the item, the failure was counted in it, and the update's
/// save wrote the whole item back with the old count: the failure was
/// lost. A failure is now counted apart from the host's item (per source
/// address), so both are kept: the update is made and the failure counted,
/// in every order.
#[tokio::test(start_paused = true)]
async fn an_update_and_a_failed_proof_at_once_count_the_failure() {
    let runs = explore(
        &ddns_case("DDNS update + failed proof"),
        |r| {
            vec![
                Box::pin(serve(&r[0], "set-legacy")),
                Box::pin(serve(&r[1], "set-legacy-wrong-hash")),
            ]
        },
        |account, answers, order| {
            let failed = answers.iter().filter(|(status, _)| *status == 401).count();
            assert_eq!(failed, 1, "{answers:?}; order {order}");
            assert_eq!(answers[0].0, 201, "{answers:?}; order {order}");
            let counted = counted_failures(account)
                .now_or_never()
                .expect("memory answers at once");
            assert_eq!(counted, 1, "{answers:?}; order {order}");
        },
    )
    .await;
    assert!(runs > 1);
}

/// Bug 1's order, replayed: the IPv4 update's A must stay listed although
/// the IPv6 update settled it away before it landed.
#[tokio::test(start_paused = true)]
async fn a_record_settled_away_while_its_change_is_in_flight_stays_listed() {
    use ec2_ddns::sim::schedule::Replay;
    let account = MemoryAccount::new(world(serde_json::json!([])));
    add_host(&account, "home.corp.example.").await;
    let before = foreign(&account);
    let (scheduler, r) = two_registrars(&account);
    // 0:GetItem×2 (the host, the failures from its address) 0:ListRRS
    // 0:PutItem 1:GetItem×2 1:ListRRS 0:Change 1:PutItem 0:PutItem (its
    // finish loses the race) …
    let order = [0, 0, 0, 0, 1, 1, 1, 0, 1, 0];
    let invocations: Vec<Invocation<'_, (u16, String)>> = vec![
        Box::pin(serve(&r[0], "set-legacy")),
        Box::pin(serve(&r[1], "set-ipv6")),
    ];
    let (answers, trace) = schedule::run(&scheduler, invocations, &mut Replay(order.into())).await;
    let order = schedule::order(&trace);
    assert!(
        order.starts_with("0:dynamodb:GetItem 0:dynamodb:GetItem 0:route53:ListResourceRecordSets 0:dynamodb:PutItem 1:dynamodb:GetItem 1:dynamodb:GetItem 1:route53:ListResourceRecordSets 0:route53:ChangeResourceRecordSets 1:dynamodb:PutItem 0:dynamodb:PutItem"),
        "the order of bug 1: {order}"
    );
    check_promise(&account, &before, &order);
    assert_eq!(answers[0].0, 201, "{answers:?}");
    let item = &account.registry_items()["host#home.corp.example."];
    assert!(
        item.records
            .iter()
            .any(|o| o.record.to_string().contains("203.0.113.7")),
        "the A is owned: {item:?}"
    );
}

/// Bug 3 (found by the concurrent property test, seed 0xec2dd5 of
/// `tests/fault_sequences.rs`): one invocation writes its record ahead as
/// pending and sends it; another for the same instance reads the item and
/// the zone before that change lands, finds the record absent and settles
/// it away; the change lands and its invocation dies before it saves. The
/// record was listed by no item. A pending record read absent now stays
/// listed while its change may still be on its way (`model::IN_FLIGHT`).
/// Here the other is the instance's stop, which wants nothing.
#[tokio::test(start_paused = true)]
async fn a_record_whose_writer_dies_after_another_read_it_absent_stays_listed() {
    use ec2_ddns::sim::fault_plan::FaultPlan;
    use ec2_ddns::sim::gate::Gated;
    use ec2_ddns::sim::memory::Fault;
    use ec2_ddns::sim::schedule::{ByRule, Step};

    // Invocation 0 until it waits to send its change; then 1 until it has
    // read the zone; then 0's change (it commits, and 0 dies); then 1.
    let mut one_read_the_zone = false;
    let mut race = ByRule(|waiting: &[Step]| {
        let of = |i: usize| schedule::first_waiting(waiting, i);
        let zero_sends = waiting
            .iter()
            .any(|s| s.invocation == 0 && s.operation == "route53:ChangeResourceRecordSets");
        if !zero_sends {
            return of(0).or(of(1)).unwrap_or(0);
        }
        if !one_read_the_zone {
            if let Some(k) = of(1) {
                one_read_the_zone = waiting[k].operation == "route53:ListResourceRecordSets";
                return k;
            }
        }
        of(0).unwrap_or(0)
    });

    let account = MemoryAccount::new(running_world(serde_json::json!({})));
    let before = foreign(&account);
    let writers = account.clone();
    let scheduler = Scheduler::with_on_turn(move |step| {
        writers.set_writer(&format!("inv{}", step.invocation));
        // The instance stops between 0's description and 1's: 1 wants
        // nothing, so it lists only what it finds.
        if step.invocation == 1 {
            writers.edit(|w| w.instances[0].state = InstanceState::Stopped);
        }
    });
    let ports = |i: usize, plan: FaultPlan| Gated {
        inner: account.clone(),
        gate: (scheduler.turn(i), plan),
    };
    let registrar = |i: usize, plan: FaultPlan| {
        let p = ports(i, plan);
        Registrar::new(p.clone(), p.clone(), p, Config::default(), REGION)
            .with_backoff(Duration::from_millis(10))
    };
    // Its calls: GetItem, DescribeInstances, ListHostedZones (…), the
    // write-ahead PutItem, then the changes; the first change dies.
    let crash = Fault::Crash { after_commit: true };
    let dying = registrar(0, FaultPlan::on("route53:ChangeResourceRecordSets", crash));
    let reader = registrar(1, FaultPlan::none());
    let first = state("i-1", "e-1", InstanceState::Running);
    let stopped = state("i-1", "e-2", InstanceState::Stopped);
    let invocations: Vec<Invocation<'_, Ended>> = vec![
        Box::pin(async { one(dying.handle(&first).await) }),
        Box::pin(async { one(reader.handle(&stopped).await) }),
    ];
    let (ended, trace) = schedule::run(&scheduler, invocations, &mut race).await;
    let order = schedule::order(&trace);
    let read = order.find("1:route53:ListResourceRecordSets");
    let sent = order.find("0:route53:ChangeResourceRecordSets");
    assert!(
        read.is_some() && sent.is_some() && read < sent,
        "the race: 1 reads the zone before 0's change lands: {order}"
    );
    assert!(ended[0].is_err(), "invocation 0 died: {:?}", ended[0]);
    check_promise(&account, &before, &order);
    converged_keeping(&account, &before, &order).await;
}

/// Bug 4 (found by the concurrent property test, seed 0x1 with 20,000
/// sequences): the same `stopped` event handled twice at once (a
/// duplicate delivery, or a batch holding it beside the single event).
/// Both read the item; the first writes it ahead and deletes the A; a
/// person creates an equal A; the second's write-ahead loses the race, and
/// the item it reads back equals the one it meant to write (same version,
/// same lists, same event), so it took the write as its own and deleted
/// the person's A. Every save now carries a `WriteId` of its own.
#[tokio::test(start_paused = true)]
async fn a_duplicate_event_at_once_never_deletes_what_a_person_wrote_meanwhile() {
    use ec2_ddns::ports::Dns;
    use ec2_ddns::sim::schedule::{ByRule, Step};

    // 1 reads; then 0 until its first change is made; then the person;
    // then 1, then 0.
    let mut zero_changed = false;
    let mut chooser = ByRule(|waiting: &[Step]| {
        let of = |i: usize| schedule::first_waiting(waiting, i);
        let writes = |s: &Step| {
            s.operation.starts_with("route53:Change") || s.operation == "dynamodb:PutItem"
        };
        if let Some(k) = of(1).filter(|&k| !writes(&waiting[k])) {
            return k;
        }
        if !zero_changed {
            if let Some(k) = of(0) {
                zero_changed = waiting[k].operation.starts_with("route53:Change");
                return k;
            }
        }
        of(2).or(of(1)).or(of(0)).unwrap_or(0)
    });

    let account = MemoryAccount::new(running_world(serde_json::json!({})));
    writing_as(&account, "setup");
    account
        .registrar(Config::default())
        .handle(&state("i-1", "e-0", InstanceState::Running))
        .await
        .expect("registered");
    account.edit(|w| w.instances[0].state = InstanceState::Stopped);
    let a = account.zone_records()[&ZoneId::new("ZPRIV")]
        .iter()
        .find(|r| r.name == "ip-10-1-2-4.corp.example.")
        .cloned()
        .expect("the instance's A");
    let scheduler = naming_writers(&account, Some(2));
    let [first, second] = [
        registrar(&scheduler, &account, 0),
        registrar(&scheduler, &account, 1),
    ];
    let person = scheduler.ports(account.clone(), 2);
    let stopped = state("i-1", "e-stop", InstanceState::Stopped);
    let equal_a = creating("ZPRIV", a.clone());
    let invocations: Vec<Invocation<'_, Ended>> = vec![
        Box::pin(async { one(first.handle(&stopped).await) }),
        Box::pin(async { one(second.handle(&stopped).await) }),
        Box::pin(async { person.apply(&equal_a).await.map(|()| Vec::new()) }),
    ];
    let (ended, trace) = schedule::run(&scheduler, invocations, &mut chooser).await;
    let order = schedule::order(&trace);
    assert!(
        ended[2].is_ok(),
        "the person's A went in: {:?}; {order}",
        ended[2]
    );
    let slot = Slot::new("ZPRIV", "ip-10-1-2-4.corp.example.", a.rtype.clone());
    assert_eq!(
        held(&account.zone_records(), &slot),
        Some(a),
        "the person's A is gone; order {order}"
    );
    assert_eq!(account.authors()[&slot], "person", "order {order}");
    let before = foreign(&account);
    converged_keeping(&account, &before, &order).await;
}

/// Bug 6 (the concurrent property test, seed 0x2 with 20,000 sequences):
/// a CREATE at a name read free failed with a 500 before Route 53 made
/// it; meanwhile someone else wrote an equal record there (another
/// instance with the same address in a shared zone, or a person); the
/// read that settles the 500 found it and took it for this invocation's,
/// so a later deregistration deleted it. A create found equal after a
/// lost answer now stays pending: never owned, never deleted.
#[tokio::test(start_paused = true)]
async fn an_equal_record_written_while_a_create_fails_is_never_taken() {
    use ec2_ddns::ports::Dns;
    use ec2_ddns::sim::fault_plan::FaultPlan;
    use ec2_ddns::sim::gate::Gated;
    use ec2_ddns::sim::memory::Fault;
    use ec2_ddns::sim::schedule::{ByRule, Step};

    // 0 until its first change call has failed; then the person; then 0.
    let mut zero_sent = false;
    let mut chooser = ByRule(|waiting: &[Step]| {
        let of = |i: usize| schedule::first_waiting(waiting, i);
        if !zero_sent {
            if let Some(k) = of(0) {
                zero_sent = waiting[k].operation.starts_with("route53:Change");
                return k;
            }
        }
        of(1).or(of(0)).unwrap_or(0)
    });

    // No public address: an A in ZPRIV and a PTR in ZREV.
    let world = world(serde_json::json!([
        {"id": "i-1", "subnet": "subnet-a", "private_ip": "10.1.2.4"}
    ]));
    let account = MemoryAccount::new(world.clone());
    let wanted = fresh(&world, &account).await;
    let equal = |zone: &str| {
        let record = wanted[&ZoneId::new(zone)]
            .iter()
            .find(|r| !world.zones.iter().any(|z| z.records.contains(r)))
            .cloned()
            .expect("the instance's record");
        creating(zone, record)
    };
    // An earlier attempt died before its changes were made: its records
    // are listed pending, so this one reads their names (free) first.
    writing_as(&account, "setup");
    account.inject(
        "route53:ChangeResourceRecordSets",
        Fault::Crash {
            after_commit: false,
        },
    );
    let died = account
        .registrar(Config::default())
        .handle(&state("i-1", "e-0", InstanceState::Running))
        .await;
    assert!(died.is_err(), "{died:?}");
    account.revive();
    let scheduler = naming_writers(&account, Some(1));
    let failing = FaultPlan::on(
        "route53:ChangeResourceRecordSets",
        Fault::InternalError {
            after_commit: false,
        },
    );
    let ports = Gated {
        inner: account.clone(),
        gate: (scheduler.turn(0), failing),
    };
    let instance = Registrar::new(
        ports.clone(),
        ports.clone(),
        ports,
        Config::default(),
        REGION,
    )
    .with_backoff(Duration::from_millis(10));
    let person = scheduler.ports(account.clone(), 1);
    let (a, ptr) = (equal("ZPRIV"), equal("ZREV"));
    let running = state("i-1", "e-1", InstanceState::Running);
    let invocations: Vec<Invocation<'_, Ended>> = vec![
        Box::pin(async { one(instance.handle(&running).await) }),
        Box::pin(async {
            person.apply(&a).await?;
            person.apply(&ptr).await?;
            Ok(Vec::new())
        }),
    ];
    let (ended, trace) = schedule::run(&scheduler, invocations, &mut chooser).await;
    let order = schedule::order(&trace);
    assert!(
        ended[1].is_ok(),
        "the person's records went in: {ended:?}; {order}"
    );
    assert!(
        order.starts_with("0:dynamodb:BatchGetItem 0:ec2:DescribeInstances")
            && order.contains("0:route53:ListResourceRecordSets 0:route53:ListResourceRecordSets 0:dynamodb:PutItem 0:route53:ChangeResourceRecordSets 1:"),
        "the names read free, the write-ahead, the failed change, then the person: {order}"
    );
    let persons = foreign(&account);
    assert_eq!(
        persons.len(),
        3,
        "the world's record and the person's two: {persons:?}; {order}"
    );
    let item = account.registry_items().get("i-1").cloned();
    assert!(
        item.iter().all(|i| i.records.is_empty()),
        "i-1 owns what the person wrote: {item:?}; order {order}"
    );
    // The instance goes; the person's records stay.
    account.edit(|w| w.instances[0].state = InstanceState::Terminated);
    writing_as(&account, "reconcile");
    account
        .registrar(Config::default())
        .handle(&state("i-1", "e-2", InstanceState::Terminated))
        .await
        .expect("terminated");
    converge(&account, &order).await;
    check_promise(&account, &persons, &order);
}
