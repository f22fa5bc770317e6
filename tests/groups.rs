//! Group names (`GROUP` tag, spec records.md "Group names"), each case on
//! the in-memory account and on the strict moto launcher: every running
//! member owns its own multivalue-answer A record set at the group name
//! (set identifier: its instance id), beside a record set someone else
//! keeps there (`legacy-lb` in fixtures/worlds/group.json), which is never
//! touched.
//!
//! a. The scenario of fixtures/scenarios/group.json step by step: ten
//!    members join, one leaves by its tag, one stops, one moves to another
//!    name, one is terminated with its event lost and the reconcile removes
//!    exactly its record set. After every step the name holds exactly the
//!    running members' record sets and `legacy-lb`, and each item lists
//!    its own.
//! b. Conflicts: a group name held by a simple A (mixed-routing, the A
//!    untouched, the member's other records written); a HOSTNAME that is a
//!    group name other members hold (its host A conflicts); a HOSTNAME and
//!    GROUP of one instance naming one name (the host A goes in, its own
//!    group record set conflicts, and so does a later member's).
//!    Under `DDNS_ON_STOP=keep` a stopped member keeps its host A and PTR
//!    and leaves its groups; started again, it joins again.
//! c. 25 members at one name on one listing page of 20 and the next (the
//!    SDK adapter pages by NextRecordIdentifier): a reconcile after they
//!    joined changes nothing, one leaving deletes only its set, and joining
//!    again creates only it.
//! d. A 500 after the commit while a member joins (and, on memory, a crash
//!    there): the retry writes no second record set, the item lists the
//!    set once, nothing foreign is touched; a 500 before the commit is
//!    tried again in the same invocation and the set is owned once.
//! e. `ec2-ddns scenario fixtures/scenarios/group.json`, the binary: its
//!    output names the group's record sets and ends with the terminated
//!    member's gone.

mod common;

use common::faults::{ChangeFault, Faults};
use common::{Env, Hand, ZoneDump};
use ec2_ddns::config::OnStop;
use ec2_ddns::model::InstanceState::{Running, Stopped, Terminated};
use ec2_ddns::model::{OwnedRecord, RecordSet, RecordType, RegistryItem};
use ec2_ddns::plan::ConflictKind;
use ec2_ddns::ports::{Dns, Instances, Registry};
use ec2_ddns::sim::memory::Fault;
use ec2_ddns::summary::{Outcome, Summary};
use ec2_ddns::Config;
use std::collections::BTreeSet;

const WORLD: &str = "fixtures/worlds/group.json";
const PRIVATE: &str = "Z0CORPPRIVATE";
const REVERSE: &str = "Z0REVERSE10";
const GROUP: &str = "web.corp.example.";
/// The record sets in group.json that no instance owns.
const LEGACY: &str = "web.corp.example. A 60 10.1.9.80 (multivalue legacy-lb)";
const DB: &str = "db.corp.example. A 300 10.1.9.9";

/// web-N's world id and private IPv4 (10.1.2.1N in group.json; the world
/// made for case c continues the same way).
fn web(n: u32) -> String {
    format!("i-0web{n}")
}

fn ip(n: u32) -> String {
    format!("10.1.2.{}", 10 + n)
}

/// An event time, `n` seconds into the day's run.
fn at(n: u32) -> String {
    format!("2026-11-21T10:{:02}:{:02}Z", n / 60, n % 60)
}

/// web-N's own record set at `name`, as the zone lists it (the set
/// identifier is the backend's instance id).
fn member_set<E, D, R>(env: &Env<E, D, R>, name: &str, n: u32) -> RecordSet
where
    E: Instances + Sync,
    D: Dns + ZoneDump + Sync,
    R: Registry + Sync,
{
    RecordSet::multivalue(name, RecordType::A, 60, ip(n), &env.instance(&web(n)))
}

fn member_line<E, D, R>(env: &Env<E, D, R>, name: &str, n: u32) -> String
where
    E: Instances + Sync,
    D: Dns + ZoneDump + Sync,
    R: Registry + Sync,
{
    member_set(env, name, n).to_string()
}

/// The private zone's A record sets at `name`, as lines, sorted.
async fn sets_at<E, D, R>(env: &Env<E, D, R>, name: &str) -> Vec<String>
where
    E: Instances + Sync,
    D: Dns + ZoneDump + Sync,
    R: Registry + Sync,
{
    sets_in(env, PRIVATE, name).await
}

/// A zone's A record sets at `name`, as lines, sorted.
async fn sets_in<E, D, R>(env: &Env<E, D, R>, zone: &str, name: &str) -> Vec<String>
where
    E: Instances + Sync,
    D: Dns + ZoneDump + Sync,
    R: Registry + Sync,
{
    let prefix = format!("{name} A ");
    env.zone_lines(zone)
        .await
        .into_iter()
        .filter(|l| l.starts_with(&prefix))
        .collect()
}

/// What `legacy-lb` and the members `members` make of the group name.
fn group_lines<E, D, R>(env: &Env<E, D, R>, members: &[u32]) -> Vec<String>
where
    E: Instances + Sync,
    D: Dns + ZoneDump + Sync,
    R: Registry + Sync,
{
    group_lines_at(env, GROUP, members)
}

/// What a `legacy-lb` record set (10.1.9.80) and the members `members`
/// make of the group name `name`.
fn group_lines_at<E, D, R>(env: &Env<E, D, R>, name: &str, members: &[u32]) -> Vec<String>
where
    E: Instances + Sync,
    D: Dns + ZoneDump + Sync,
    R: Registry + Sync,
{
    let mut lines: Vec<String> = members.iter().map(|n| member_line(env, name, *n)).collect();
    lines.push(format!("{name} A 60 10.1.9.80 (multivalue legacy-lb)"));
    lines.sort();
    lines
}

/// The records of an item at `name`, as `ZONE line`, sorted.
fn listed_at<E, D, R>(env: &Env<E, D, R>, records: &[OwnedRecord], name: &str) -> Vec<String> {
    let mut lines: Vec<String> = records
        .iter()
        .filter(|o| o.record.name.as_str() == name)
        .map(|o| {
            let zone = env
                .zones
                .iter()
                .find(|(_, real)| o.zone_id.as_str() == real.as_str())
                .map(|(world, _)| world.clone())
                .unwrap_or_else(|| o.zone_id.to_string());
            format!("{zone} {}", o.record)
        })
        .collect();
    lines.sort();
    lines
}

/// The group name holds exactly the running members' record sets and
/// `legacy-lb`; each of web-1..`of` lists its own set at the name when it
/// is a member, and nothing there when not.
async fn assert_group<E, D, R>(env: &Env<E, D, R>, members: &[u32], of: u32, when: &str)
where
    E: Instances + Sync,
    D: Dns + ZoneDump + Sync,
    R: Registry + Sync,
{
    assert_group_at(env, PRIVATE, GROUP, members, of, when).await
}

/// [`assert_group`] for the group name `name` in the zone `zone`.
async fn assert_group_at<E, D, R>(
    env: &Env<E, D, R>,
    zone: &str,
    name: &str,
    members: &[u32],
    of: u32,
    when: &str,
) where
    E: Instances + Sync,
    D: Dns + ZoneDump + Sync,
    R: Registry + Sync,
{
    let b = env.backend;
    assert_eq!(
        sets_in(env, zone, name).await,
        group_lines_at(env, name, members),
        "[{b}] {when}: the group name"
    );
    for n in 1..=of {
        let listed = match env.item(&web(n)).await {
            Some(item) => {
                assert!(item.pending.is_empty(), "[{b}] {when}: web-{n} {item:?}");
                listed_at(env, &item.records, name)
            }
            None => Vec::new(),
        };
        let own: Vec<String> = if members.contains(&n) {
            vec![format!("{zone} {}", member_line(env, name, n))]
        } else {
            Vec::new()
        };
        assert_eq!(listed, own, "[{b}] {when}: web-{n}'s item at {name}");
    }
}

/// A summary's changes as `ACTION line`, sorted.
fn changes(s: &Summary) -> Vec<String> {
    let mut c: Vec<String> = s
        .changes
        .iter()
        .map(|c| format!("{} {}", c.action.as_str(), c.record))
        .collect();
    c.sort();
    c
}

/// web-N's host A and PTR, as the zones list them.
fn host_a(n: u32) -> String {
    format!("ip-10-1-2-{}.corp.example. A 60 {}", 10 + n, ip(n))
}

fn ptr(n: u32) -> String {
    format!(
        "{}.2.1.10.in-addr.arpa. PTR 60 ip-10-1-2-{}.corp.example.",
        10 + n,
        10 + n
    )
}

// --- a. the scenario, step by step -------------------------------------------

async fn scenario_step_by_step<E, D, R>(env: &Env<E, D, R>)
where
    E: Instances + Sync,
    D: Dns + ZoneDump + Sync,
    R: Registry + Sync,
    Env<E, D, R>: Hand,
{
    let b = env.backend;
    assert_eq!(env.zone_lines(PRIVATE).await, [DB, LEGACY], "[{b}] before");
    assert_group(env, &[], 10, "before").await;

    let mut members: Vec<u32> = Vec::new();
    for n in 1..=10 {
        let s = env.act(&web(n), Running, &at(n)).await;
        assert_eq!(s.outcome, Outcome::Applied, "[{b}] launch web-{n}: {s:?}");
        let mut want = vec![
            format!("CREATE {}", host_a(n)),
            format!("CREATE {}", member_line(env, GROUP, n)),
            format!("CREATE {}", ptr(n)),
        ];
        want.sort();
        assert_eq!(changes(&s), want, "[{b}] launch web-{n}");
        members.push(n);
        assert_group(env, &members, 10, &format!("after launch web-{n}")).await;
    }

    // web-3's GROUP tag is removed: only its record set goes.
    let s = env.tag(&web(3), "GROUP", "", &at(20)).await;
    assert_eq!(
        changes(&s),
        [format!("DELETE {}", member_line(env, GROUP, 3))],
        "[{b}] {s:?}"
    );
    members.retain(|m| *m != 3);
    assert_group(env, &members, 10, "after web-3's GROUP tag is removed").await;
    assert!(
        env.zone_lines(PRIVATE).await.contains(&host_a(3)),
        "[{b}] web-3 keeps its host A"
    );

    // web-4 stops: its set goes with its host records.
    let s = env.act(&web(4), Stopped, &at(21)).await;
    let mut want = vec![
        format!("DELETE {}", host_a(4)),
        format!("DELETE {}", member_line(env, GROUP, 4)),
        format!("DELETE {}", ptr(4)),
    ];
    want.sort();
    assert_eq!(changes(&s), want, "[{b}] stop web-4");
    members.retain(|m| *m != 4);
    assert_group(env, &members, 10, "after web-4 stops").await;

    // web-5's GROUP moves to api.corp.example: its set there, none here.
    let s = env.tag(&web(5), "GROUP", "api.corp.example", &at(22)).await;
    let mut want = vec![
        format!("DELETE {}", member_line(env, GROUP, 5)),
        format!("CREATE {}", member_line(env, "api.corp.example.", 5)),
    ];
    want.sort();
    assert_eq!(changes(&s), want, "[{b}] web-5 moves");
    members.retain(|m| *m != 5);
    assert_group(env, &members, 10, "after web-5 moves").await;
    assert_eq!(
        sets_at(env, "api.corp.example.").await,
        [member_line(env, "api.corp.example.", 5)],
        "[{b}]"
    );
    let item = env.item(&web(5)).await.expect("web-5's item");
    assert_eq!(
        listed_at(env, &item.records, "api.corp.example."),
        [format!(
            "{PRIVATE} {}",
            member_line(env, "api.corp.example.", 5)
        )],
        "[{b}]"
    );

    // web-6 is terminated and the event is lost: its set stays...
    env.set_state(&env.instance(&web(6)), Terminated).await;
    assert_group(env, &members, 10, "after web-6's lost terminate").await;

    // ...until the reconcile, which removes exactly web-6's records.
    let r = env.reconcile().await;
    let changed: Vec<&Summary> = r
        .summaries
        .iter()
        .filter(|s| !s.changes.is_empty())
        .collect();
    assert_eq!(changed.len(), 1, "[{b}] {:?}", r.summaries);
    assert_eq!(changed[0].instance_id, env.instance(&web(6)), "[{b}]");
    let mut want = vec![
        format!("DELETE {}", host_a(6)),
        format!("DELETE {}", member_line(env, GROUP, 6)),
        format!("DELETE {}", ptr(6)),
    ];
    want.sort();
    assert_eq!(changes(changed[0]), want, "[{b}] the reconcile");
    assert_eq!(
        (
            r.totals.records_created,
            r.totals.records_deleted,
            r.totals.conflicts,
            r.totals.errors
        ),
        (0, 3, 0, 0),
        "[{b}] {:?}",
        r.totals
    );
    members.retain(|m| *m != 6);
    assert_group(env, &members, 10, "after the reconcile").await;
    assert!(env.item(&web(6)).await.is_none(), "[{b}] web-6's item");

    // The zones as a whole: only the running instances' records, and the
    // foreign ones as they were.
    let mut private: Vec<String> = vec![DB.into(), LEGACY.into()];
    let mut reverse = Vec::new();
    for n in [1, 2, 3, 5, 7, 8, 9, 10] {
        private.push(host_a(n));
        reverse.push(ptr(n));
    }
    for n in &members {
        private.push(member_line(env, GROUP, *n));
    }
    private.push(member_line(env, "api.corp.example.", 5));
    private.sort();
    reverse.sort();
    assert_eq!(env.zone_lines(PRIVATE).await, private, "[{b}] the end");
    assert_eq!(env.zone_lines(REVERSE).await, reverse, "[{b}] the end");

    // A second reconcile finds nothing to do.
    let r = env.reconcile().await;
    assert!(
        r.summaries
            .iter()
            .all(|s| s.changes.is_empty() && s.conflicts.is_empty()),
        "[{b}] {:?}",
        r.summaries
    );
    assert_eq!(env.zone_lines(PRIVATE).await, private, "[{b}] unchanged");
}

// --- b. conflicts ------------------------------------------------------------

/// A conflict's kind as the JSON spells it (`mixed-routing`, …).
fn kind(k: ConflictKind) -> String {
    serde_json::to_value(k)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .expect("a kind serializes as a string")
}

/// The conflicts of a summary as `name TYPE kind set-id`, sorted.
fn conflicts(s: &Summary) -> Vec<String> {
    let mut c: Vec<String> = s
        .conflicts
        .iter()
        .map(|c| {
            format!(
                "{} {} {} {}",
                c.name,
                c.rtype,
                kind(c.kind),
                c.set_id.as_deref().unwrap_or("-")
            )
        })
        .collect();
    c.sort();
    c
}

async fn conflicts_leave_others_alone<E, D, R>(env: &Env<E, D, R>)
where
    E: Instances + Sync,
    D: Dns + ZoneDump + Sync,
    R: Registry + Sync,
    Env<E, D, R>: Hand,
{
    let b = env.backend;
    for n in [1, 2] {
        let s = env.act(&web(n), Running, &at(n)).await;
        assert_eq!(s.outcome, Outcome::Applied, "[{b}] {s:?}");
    }
    assert_group(env, &[1, 2], 2, "two members").await;

    // web-3's GROUP also names db (a bare label: db.corp.example.), where
    // someone keeps a simple A.
    env.set_tag(&env.instance(&web(3)), "GROUP", "web.corp.example, db")
        .await;
    let s = env.act(&web(3), Running, &at(3)).await;
    assert_eq!(s.outcome, Outcome::Conflict, "[{b}] {s:?}");
    assert_eq!(
        conflicts(&s),
        [format!(
            "db.corp.example. A mixed-routing {}",
            env.instance(&web(3))
        )],
        "[{b}] {s:?}"
    );
    let mut want = vec![
        format!("CREATE {}", host_a(3)),
        format!("CREATE {}", member_line(env, GROUP, 3)),
        format!("CREATE {}", ptr(3)),
    ];
    want.sort();
    assert_eq!(changes(&s), want, "[{b}] its other records go in");
    assert_eq!(
        sets_at(env, "db.corp.example.").await,
        [DB],
        "[{b}] the simple A is as it was"
    );
    assert_group(env, &[1, 2, 3], 3, "web-3 joined web, not db").await;
    let item = env.item(&web(3)).await.expect("web-3's item");
    assert!(
        listed_at(env, &item.records, "db.corp.example.").is_empty(),
        "[{b}] {item:?}"
    );
    // Its retry (or any later event) changes nothing and says it again.
    let s = env.send(&web(3), Running, &at(4)).await;
    assert_eq!(
        (s.outcome, s.changes.len(), s.conflicts.len()),
        (Outcome::Conflict, 0, 1),
        "[{b}] {s:?}"
    );

    // app-1's HOSTNAME is the group name (bare label web): a simple A can't
    // join the members' record sets, so its host A conflicts; with no host
    // A of its own it keeps no PTR either. (An event plans without reading
    // the names first, so its PTR may go in beside the refused host A and
    // come out again once the refusal is read: its own reverse name only.)
    env.set_tag(&env.instance("i-0app1"), "HOSTNAME", "web")
        .await;
    let before = env.zone_lines(PRIVATE).await;
    let s = env.act("i-0app1", Running, &at(5)).await;
    assert_eq!(s.outcome, Outcome::Conflict, "[{b}] {s:?}");
    assert_eq!(
        conflicts(&s),
        ["web.corp.example. A mixed-routing -"],
        "[{b}] {s:?}"
    );
    assert!(
        s.changes
            .iter()
            .all(|c| c.record.name.as_str() == "30.2.1.10.in-addr.arpa."),
        "[{b}] nothing but its own PTR: {s:?}"
    );
    assert_eq!(env.zone_lines(PRIVATE).await, before, "[{b}] nothing moved");
    assert!(
        !env.zone_lines(REVERSE)
            .await
            .iter()
            .any(|l| l.starts_with("30.2.1.10.in-addr.arpa.")),
        "[{b}] no PTR for a host A it does not hold"
    );
    assert_eq!(env.owns("i-0app1").await, 0, "[{b}]");

    // web-4's HOSTNAME and GROUP name one name nobody holds: its host's
    // simple A goes in, its own group record set conflicts.
    env.set_tag(&env.instance(&web(4)), "GROUP", "api.corp.example")
        .await;
    env.set_tag(&env.instance(&web(4)), "HOSTNAME", "api.corp.example")
        .await;
    let s = env.act(&web(4), Running, &at(6)).await;
    assert_eq!(s.outcome, Outcome::Conflict, "[{b}] {s:?}");
    assert_eq!(
        conflicts(&s),
        [format!(
            "api.corp.example. A mixed-routing {}",
            env.instance(&web(4))
        )],
        "[{b}] {s:?}"
    );
    let api_host = format!("api.corp.example. A 60 {}", ip(4));
    let api_ptr = "14.2.1.10.in-addr.arpa. PTR 60 api.corp.example.".to_string();
    let mut want = vec![format!("CREATE {api_host}"), format!("CREATE {api_ptr}")];
    want.sort();
    assert_eq!(changes(&s), want, "[{b}] the host A and its PTR");
    assert_eq!(
        sets_at(env, "api.corp.example.").await,
        std::slice::from_ref(&api_host),
        "[{b}]"
    );

    // web-5 then joins api: the name holds web-4's simple A.
    env.set_tag(&env.instance(&web(5)), "GROUP", "api.corp.example")
        .await;
    let s = env.act(&web(5), Running, &at(7)).await;
    assert_eq!(s.outcome, Outcome::Conflict, "[{b}] {s:?}");
    assert_eq!(
        conflicts(&s),
        [format!(
            "api.corp.example. A mixed-routing {}",
            env.instance(&web(5))
        )],
        "[{b}] {s:?}"
    );
    assert_eq!(sets_at(env, "api.corp.example.").await, [api_host], "[{b}]");

    // Through all of it: the foreign record sets as they were, the web
    // group as its three members made it.
    let zone = env.zone_lines(PRIVATE).await;
    assert!(
        zone.contains(&DB.to_string()) && zone.contains(&LEGACY.to_string()),
        "[{b}] {zone:?}"
    );
    assert_group(env, &[1, 2, 3], 5, "the end").await;
}

// --- b2. DDNS_ON_STOP=keep: a stopped member keeps its host, not its groups ---

/// The registrar settings of the keep case.
fn keep() -> Config {
    Config {
        on_stop: OnStop::Keep,
        ..Config::default()
    }
}

async fn a_kept_stopped_member_leaves_its_groups<E, D, R>(env: &Env<E, D, R>)
where
    E: Instances + Sync,
    D: Dns + ZoneDump + Sync,
    R: Registry + Sync,
    Env<E, D, R>: Hand,
{
    let b = env.backend;
    assert_eq!(env.registrar.config.on_stop, OnStop::Keep, "[{b}]");
    for n in [1, 2] {
        let s = env.act(&web(n), Running, &at(n)).await;
        assert_eq!(s.outcome, Outcome::Applied, "[{b}] {s:?}");
    }
    assert_group(env, &[1, 2], 2, "two members").await;

    // web-2 stops: only its group record set goes; its host A and PTR stay.
    let s = env.act(&web(2), Stopped, &at(3)).await;
    assert_eq!(
        changes(&s),
        [format!("DELETE {}", member_line(env, GROUP, 2))],
        "[{b}] {s:?}"
    );
    assert_group(env, &[1], 2, "web-2 stopped").await;
    let private = env.zone_lines(PRIVATE).await;
    assert!(private.contains(&host_a(2)), "[{b}] {private:?}");
    assert!(
        env.zone_lines(REVERSE).await.contains(&ptr(2)),
        "[{b}] its PTR is kept"
    );
    // A later event for the stopped instance changes nothing.
    let s = env.send(&web(2), Stopped, &at(4)).await;
    assert_eq!(s.outcome, Outcome::NothingToDo, "[{b}] {s:?}");

    // It starts again and joins again.
    let s = env.act(&web(2), Running, &at(5)).await;
    assert_eq!(
        changes(&s),
        [format!("CREATE {}", member_line(env, GROUP, 2))],
        "[{b}] {s:?}"
    );
    assert_group(env, &[1, 2], 2, "web-2 started again").await;
}

// --- c. many members: listings that page ---------------------------------------

/// Members in case c: more than one page of 20 at one name.
const MANY: u32 = 25;
/// Case c's group name, alone in its zone: an event that reads one name of
/// a zone lists it from that name, 20 record sets a page, following
/// NextRecordIdentifier (crates/aws/src/route53.rs, `records_named`); reads
/// of several names of a zone take one page of 300 of the whole zone, which
/// would not page here.
const POOL: &str = "Z0POOL";
const POOL_GROUP: &str = "web.pool.corp.example.";

/// group.json with web-1..web-25 running (10.1.2.11..35), all in the
/// group web.pool.corp.example, none registered yet, and a private zone
/// pool.corp.example. holding a `legacy-lb` record set at that name;
/// written once into the test's target directory and loaded from there.
fn many_members_world() -> String {
    static PATH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PATH.get_or_init(|| {
        let mut world: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(common::repo(WORLD)).unwrap()).unwrap();
        let instances: Vec<serde_json::Value> = (1..=MANY)
            .map(|n| {
                serde_json::json!({
                    "id": web(n), "name": format!("web-{n}"), "subnet": "subnet-0corpa",
                    "private_ip": ip(n), "state": "running",
                    "tags": { "GROUP": "web.pool.corp.example" }
                })
            })
            .collect();
        world["instances"] = instances.into();
        world["zones"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({
                "id": POOL, "name": "pool.corp.example.", "private": true, "vpcs": ["vpc-0corp"],
                "records": [{
                    "name": POOL_GROUP, "type": "A", "ttl": 60, "values": ["10.1.9.80"],
                    "routing": "multivalue", "set_identifier": "legacy-lb"
                }]
            }));
        let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("group-25.json");
        std::fs::write(&path, serde_json::to_string_pretty(&world).unwrap()).unwrap();
        path.to_str().unwrap().to_string()
    })
    .clone()
}

/// ListResourceRecordSets calls since the last look.
fn listings<E, D, R>(env: &Env<E, D, R>) -> usize {
    env.calls
        .take()
        .get("route53:ListResourceRecordSets")
        .copied()
        .unwrap_or(0)
}

async fn many_members<E, D, R, F>(env: &Env<E, D, R>, faults: &F)
where
    E: Instances + Sync,
    D: Dns + ZoneDump + Sync,
    R: Registry + Sync,
    F: Faults,
    Env<E, D, R>: Hand,
{
    let b = env.backend;
    let all: Vec<u32> = (1..=MANY).collect();
    let private_before = env.zone_lines(PRIVATE).await;
    assert_eq!(private_before, [DB, LEGACY], "[{b}]");
    // The instances run already: the reconcile registers them all.
    let r = env.reconcile().await;
    assert_eq!(
        (
            r.totals.records_created,
            r.totals.conflicts,
            r.totals.errors
        ),
        (3 * MANY as usize, 0, 0),
        "[{b}] {:?}",
        r.totals
    );
    assert_group_at(env, POOL, POOL_GROUP, &all, MANY, "25 members").await;

    // Nothing to do after: every member finds its own set among 26.
    env.calls.take();
    let r = env.reconcile().await;
    let busy: Vec<&Summary> = r
        .summaries
        .iter()
        .filter(|s| s.outcome != Outcome::NothingToDo)
        .collect();
    assert!(busy.is_empty(), "[{b}] {busy:?}");
    assert_eq!(
        env.calls
            .take()
            .get("route53:ChangeResourceRecordSets")
            .copied()
            .unwrap_or(0),
        0,
        "[{b}] no change call"
    );
    assert_group_at(
        env,
        POOL,
        POOL_GROUP,
        &all,
        MANY,
        "after a second reconcile",
    )
    .await;

    // One in the middle leaves: only its set goes (a DELETE of exactly
    // what it wrote, sent without reading the name).
    let s = env.tag(&web(13), "GROUP", "", &at(1)).await;
    assert_eq!(
        changes(&s),
        [format!("DELETE {}", member_line(env, POOL_GROUP, 13))],
        "[{b}] {s:?}"
    );
    let rest: Vec<u32> = all.iter().copied().filter(|n| *n != 13).collect();
    assert_group_at(env, POOL, POOL_GROUP, &rest, MANY, "web-13 left").await;

    // And joins again: only its set is created, nothing else conflicts.
    let s = env
        .tag(&web(13), "GROUP", "web.pool.corp.example", &at(2))
        .await;
    assert_eq!(
        (s.outcome, changes(&s)),
        (
            Outcome::Applied,
            vec![format!("CREATE {}", member_line(env, POOL_GROUP, 13))]
        ),
        "[{b}] {s:?}"
    );
    assert_group_at(env, POOL, POOL_GROUP, &all, MANY, "web-13 is back").await;
    let r = env.reconcile().await;
    assert!(
        r.summaries
            .iter()
            .all(|s| s.outcome == Outcome::NothingToDo),
        "[{b}] {:?}",
        r.totals
    );

    // The member whose set is listed last before legacy-lb (set
    // identifiers sort; on moto, the 25th of 26: the second page) leaves
    // and joins again, and its change's answer is lost. The retry must
    // read the name to settle its pending set, finds it (on moto, past
    // the first page) and claims nothing: no second set, no write.
    let last = *all
        .iter()
        .max_by_key(|n| env.instance(&web(**n)))
        .expect("members");
    let s = env.tag(&web(last), "GROUP", "", &at(3)).await;
    assert_eq!(
        changes(&s),
        [format!("DELETE {}", member_line(env, POOL_GROUP, last))],
        "[{b}] {s:?}"
    );
    faults.fail_changes(&[ChangeFault::After]).await;
    env.set_tag(&env.instance(&web(last)), "GROUP", "web.pool.corp.example")
        .await;
    let lost = env.try_send(&web(last), Running, &at(4)).await;
    faults.clear_faults().await;
    let err = lost.expect_err("a lost answer no read settles fails the invocation");
    assert!(err.is_retryable(), "[{b}] {err}");
    assert_eq!(
        sets_in(env, POOL, POOL_GROUP).await,
        group_lines_at(env, POOL_GROUP, &all),
        "[{b}] it went in, once"
    );
    env.calls.take();
    let s = env.send(&web(last), Running, &at(4)).await;
    let listed = listings(env);
    assert_eq!(
        conflicts(&s),
        [format!(
            "{POOL_GROUP} A unsettled {}",
            env.instance(&web(last))
        )],
        "[{b}] {s:?}"
    );
    assert!(s.changes.is_empty(), "[{b}] {s:?}");
    if b == "moto" {
        assert!(
            listed >= 2,
            "[{b}] 26 record sets at the name, 20 a page: {listed} listings"
        );
    }
    assert_eq!(
        sets_in(env, POOL, POOL_GROUP).await,
        group_lines_at(env, POOL_GROUP, &all),
        "[{b}] still once, and every other set as it was"
    );
    let item = env.item(&web(last)).await.expect("its item");
    assert_eq!(
        (
            listed_at(env, &item.records, POOL_GROUP),
            listed_at(env, &item.pending, POOL_GROUP)
        ),
        (
            vec![],
            vec![format!("{POOL} {}", member_line(env, POOL_GROUP, last))]
        ),
        "[{b}] listed once, unproven: {item:?}"
    );

    // The other zone: the hosts, and what was there before.
    let mut private: Vec<String> = all.iter().map(|n| host_a(*n)).collect();
    private.extend(private_before);
    private.sort();
    assert_eq!(env.zone_lines(PRIVATE).await, private, "[{b}]");
}

// --- d. a lost answer or a crash while a member joins --------------------------

/// More failed change calls than one invocation makes.
const EVERY_ATTEMPT: [ChangeFault; 8] = [ChangeFault::Before; 8];

/// The foreign records and web-1's, to compare after each fault.
async fn others<E, D, R>(env: &Env<E, D, R>, except: u32) -> Vec<String>
where
    E: Instances + Sync,
    D: Dns + ZoneDump + Sync,
    R: Registry + Sync,
{
    let mine = [host_a(except), ptr(except), member_line(env, GROUP, except)];
    let mut lines = env.zone_lines(PRIVATE).await;
    lines.extend(env.zone_lines(REVERSE).await);
    lines.retain(|l| !mine.contains(l));
    lines
}

async fn faults_while_joining<E, D, R, F>(env: &Env<E, D, R>, faults: &F)
where
    E: Instances + Sync,
    D: Dns + ZoneDump + Sync,
    R: Registry + Sync,
    F: Faults,
    Env<E, D, R>: Hand,
{
    let b = env.backend;
    for n in 1..=4 {
        env.set_state(&env.instance(&web(n)), Running).await;
    }
    let s = env.send(&web(1), Running, &at(1)).await;
    assert_eq!(s.outcome, Outcome::Applied, "[{b}] {s:?}");
    let before = others(env, 2).await;

    // web-2 joins and both zones' change calls commit and lose their
    // answers (the order of the zones is the backend's).
    faults
        .fail_changes(&[ChangeFault::After, ChangeFault::After])
        .await;
    let err = env
        .try_send(&web(2), Running, &at(2))
        .await
        .expect_err("a lost answer no read settles fails the invocation");
    faults.clear_faults().await;
    assert!(err.is_retryable(), "[{b}] {err}");
    let mine = member_line(env, GROUP, 2);
    let count = |lines: &[String]| lines.iter().filter(|l| **l == mine).count();
    assert_eq!(
        count(&sets_at(env, GROUP).await),
        1,
        "[{b}] it went in once"
    );
    assert_eq!(others(env, 2).await, before, "[{b}] nothing else touched");
    let listed_once = |item: &RegistryItem| {
        let owned = listed_at(env, &item.records, GROUP);
        let pending = listed_at(env, &item.pending, GROUP);
        let line = format!("{PRIVATE} {mine}");
        (
            owned.iter().chain(&pending).filter(|l| **l == line).count(),
            owned.len() + pending.len(),
        )
    };
    let item = env.item(&web(2)).await.expect("web-2's item");
    assert_eq!(listed_once(&item), (1, 1), "[{b}] listed once: {item:?}");
    assert!(
        listed_at(env, &item.records, GROUP).is_empty(),
        "[{b}] a read after a lost answer proves nothing ours: {item:?}"
    );

    // Lambda retries: no second record set, no write at the name, the set
    // named as unsettled for a person, nothing else touched.
    let s = env.send(&web(2), Running, &at(2)).await;
    assert!(
        s.changes.iter().all(|c| c.record.name.as_str() != GROUP),
        "[{b}] {s:?}"
    );
    assert!(
        conflicts(&s).contains(&format!("{GROUP} A unsettled {}", env.instance(&web(2)))),
        "[{b}] {s:?}"
    );
    assert_eq!(count(&sets_at(env, GROUP).await), 1, "[{b}] still once");
    assert_eq!(others(env, 2).await, before, "[{b}] nothing else touched");
    let item = env.item(&web(2)).await.expect("web-2's item");
    assert_eq!(
        listed_once(&item),
        (1, 1),
        "[{b}] still listed once: {item:?}"
    );

    // web-3 joins and its first change call fails before it commits: it is
    // tried again in the same invocation, and its set is owned once.
    let before3 = others(env, 3).await;
    faults.fail_changes(&[ChangeFault::Before]).await;
    env.change_calls();
    let s = env.send(&web(3), Running, &at(3)).await;
    faults.clear_faults().await;
    assert_eq!(s.outcome, Outcome::Applied, "[{b}] {s:?}");
    assert!(env.change_calls() >= 3, "[{b}] two zones, one tried again");
    let mine3 = member_line(env, GROUP, 3);
    assert_eq!(
        sets_at(env, GROUP)
            .await
            .iter()
            .filter(|l| **l == mine3)
            .count(),
        1,
        "[{b}]"
    );
    let item = env.item(&web(3)).await.expect("web-3's item");
    assert_eq!(
        (listed_at(env, &item.records, GROUP), item.pending.len()),
        (vec![format!("{PRIVATE} {mine3}")], 0),
        "[{b}] owned once: {item:?}"
    );
    assert_eq!(others(env, 3).await, before3, "[{b}] nothing else touched");

    // web-4's every attempt fails before committing: nothing of it in the
    // zones, nothing claimed; its retry joins cleanly.
    let before4 = others(env, 4).await;
    faults.fail_changes(&EVERY_ATTEMPT).await;
    let err = env
        .try_send(&web(4), Running, &at(4))
        .await
        .expect_err("every change attempt failed");
    faults.clear_faults().await;
    assert!(err.is_retryable(), "[{b}] {err}");
    assert!(
        !sets_at(env, GROUP)
            .await
            .contains(&member_line(env, GROUP, 4)),
        "[{b}]"
    );
    let s = env.send(&web(4), Running, &at(4)).await;
    assert_eq!(s.outcome, Outcome::Applied, "[{b}] {s:?}");
    let item = env.item(&web(4)).await.expect("web-4's item");
    assert_eq!(
        listed_at(env, &item.records, GROUP),
        [format!("{PRIVATE} {}", member_line(env, GROUP, 4))],
        "[{b}] {item:?}"
    );
    assert_eq!(others(env, 4).await, before4, "[{b}] nothing else touched");
    assert!(
        sets_at(env, GROUP).await.contains(&LEGACY.to_string()),
        "[{b}]"
    );
}

/// On memory only: the invocation dies at its first change call, the
/// private zone's, after Route 53 applied it (the reverse zone's is never
/// sent). The retry writes no second record set and claims nothing it
/// cannot prove: the set and the host A are unsettled conflicts, listed
/// once; the terminate leaves the set, named for a person, rather than
/// delete what it cannot prove its own; legacy-lb and web-1's set stay.
#[tokio::test]
async fn groups_a_crash_after_the_commit_while_joining_writes_no_second_set() {
    let (env, account) = common::memory_env(WORLD);
    env.act(&web(1), Running, &at(1)).await;
    env.set_state(&web(2), Running).await;
    let before = others(&env, 2).await;
    account.inject(
        "route53:ChangeResourceRecordSets",
        Fault::Crash { after_commit: true },
    );
    let err = env
        .try_send(&web(2), Running, &at(2))
        .await
        .expect_err("the invocation died");
    account.revive();
    assert!(err.is_retryable(), "{err}");
    let mine = member_line(&env, GROUP, 2);
    let once = |lines: &[String]| lines.iter().filter(|l| **l == mine).count();
    assert_eq!(
        (
            once(&sets_at(&env, GROUP).await),
            env.zone_lines(REVERSE).await.len()
        ),
        (1, 1),
        "the private zone's batch went in, the reverse zone's was never sent"
    );
    let item = env.item(&web(2)).await.expect("listed before the batch");
    assert_eq!(
        (
            listed_at(&env, &item.records, GROUP),
            listed_at(&env, &item.pending, GROUP)
        ),
        (vec![], vec![format!("{PRIVATE} {mine}")]),
        "{item:?}"
    );

    let s = env.send(&web(2), Running, &at(2)).await;
    assert_eq!(once(&sets_at(&env, GROUP).await), 1, "{s:?}");
    assert!(
        s.changes.iter().all(|c| c.record.name.as_str() != GROUP),
        "{s:?}"
    );
    assert_eq!(
        conflicts(&s),
        [
            "ip-10-1-2-12.corp.example. A unsettled -".to_string(),
            format!("{GROUP} A unsettled i-0web2"),
        ],
        "{s:?}"
    );
    assert_eq!(others(&env, 2).await, before, "nothing else touched");
    let item = env.item(&web(2)).await.expect("item");
    assert_eq!(
        (
            listed_at(&env, &item.records, GROUP),
            listed_at(&env, &item.pending, GROUP)
        ),
        (vec![], vec![format!("{PRIVATE} {mine}")]),
        "still listed once, pending: {item:?}"
    );

    let end = env.send(&web(2), Terminated, &at(3)).await;
    assert!(
        end.notes
            .iter()
            .any(|n| n.starts_with(GROUP) && n.contains("delete it by hand")),
        "the unproven set is named for a person: {end:?}"
    );
    assert_eq!(
        sets_at(&env, GROUP).await,
        group_lines(&env, &[1, 2]),
        "left, with web-1's set and legacy-lb"
    );
    assert_eq!(others(&env, 2).await, before, "nothing else touched");
}

// --- e. the binary ------------------------------------------------------------

/// `ec2-ddns scenario fixtures/scenarios/group.json [--json]`: stdout, after
/// checking that it ran cleanly.
fn run_scenario(json: bool) -> String {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ec2-ddns"));
    cmd.current_dir(common::repo(""))
        .args(["scenario", "fixtures/scenarios/group.json"]);
    if json {
        cmd.arg("--json");
    }
    for (var, _) in std::env::vars() {
        if var.starts_with("DDNS_") || var.starts_with("AWS_") {
            cmd.env_remove(var);
        }
    }
    let out = cmd.output().expect("run ec2-ddns");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// The JSON lines name each member's record set (its set identifier and
/// policy); the group's sets are created once each, the leavers' deleted
/// once each, the terminated member's by the reconcile, legacy-lb never.
#[test]
fn groups_scenario_binary_json_names_each_record_set() {
    let out = run_scenario(true);
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let mut at_group = Vec::new();
    for line in &lines {
        for c in line["changes"].as_array().into_iter().flatten() {
            if c["name"] == GROUP {
                assert_eq!(c["type"], "A", "{c}");
                assert_eq!(c["routing"], "multivalue", "{c}");
                assert_eq!(c["ttl"], 60, "{c}");
                at_group.push(format!(
                    "{} {} {} {}",
                    line["instance_id"].as_str().unwrap_or_default(),
                    c["action"].as_str().unwrap_or_default(),
                    c["set_identifier"].as_str().unwrap_or_default(),
                    c["values"]
                ));
            }
        }
    }
    let mut want: Vec<String> = (1..=10)
        .map(|n| format!("{} CREATE {} [\"{}\"]", web(n), web(n), ip(n)))
        .collect();
    for n in [3, 4, 5, 6] {
        want.push(format!("{} DELETE {} [\"{}\"]", web(n), web(n), ip(n)));
    }
    assert_eq!(at_group, want, "{out}");
    // The last event is the reconcile's for web-6, then its totals.
    let last_event = &lines[lines.len() - 2];
    assert_eq!(last_event["instance_id"], "i-0web6", "{last_event}");
    assert_eq!(last_event["live_state"], "terminated", "{last_event}");
    assert_eq!(lines[lines.len() - 1]["totals"], "reconcile");
    assert_eq!(lines[lines.len() - 1]["records_deleted"], 3);
    assert!(!out.contains("legacy-lb"), "never touched: {out}");
}

/// The text output: each launch creates a record set at the group name,
/// and the closing zone table holds the six members still there, legacy-lb
/// and no set of web-6 (nor of the three that left).
#[test]
fn groups_scenario_binary_text_ends_without_the_terminated_member() {
    let out = run_scenario(false);
    for n in 1..=10 {
        let create = format!("CREATE web.corp.example. A 60 {}", ip(n));
        assert_eq!(out.matches(&create).count(), 1, "{create}: {out}");
    }
    let table = out
        .split("zone corp.example. (private, Z0CORPPRIVATE)")
        .nth(1)
        .and_then(|rest| rest.split("zone ").next())
        .unwrap_or_else(|| panic!("no private zone table: {out}"));
    let rows: BTreeSet<String> = table
        .lines()
        .map(|l| {
            l.trim_start_matches([' ', '+', '-'])
                .split_whitespace()
                .collect::<Vec<_>>()
        })
        .filter(|w| w.first() == Some(&GROUP) && w.get(1) == Some(&"A"))
        .map(|w| w[3].to_string())
        .collect();
    let mut want: BTreeSet<String> = [1, 2, 7, 8, 9, 10].into_iter().map(ip).collect();
    want.insert("10.1.9.80".into());
    assert_eq!(rows, want, "{table}");
    let row_count = table
        .lines()
        .filter(|l| l.trim_start_matches([' ', '+', '-']).starts_with(GROUP))
        .count();
    assert_eq!(row_count, 7, "one row per record set: {table}");
    assert!(!table.contains(&ip(6)), "web-6 is gone: {table}");
}

/// The text output tells the group's record sets apart: the sets at
/// web.corp.example. differ only by their set identifier (the instance id,
/// or legacy-lb), as RecordSet's Display writes them (` (multivalue i-…)`).
#[test]
fn groups_scenario_binary_text_names_set_identifiers() {
    let out = run_scenario(false);
    // Each member's CREATE line at the group name names its set.
    for n in 1..=10 {
        let named = out.lines().any(|l| {
            l.contains(&format!("CREATE web.corp.example. A 60 {} ", ip(n)))
                && l.split(|c: char| !c.is_alphanumeric() && c != '-')
                    .any(|word| word == web(n))
        });
        assert!(named, "web-{n}'s set: {out}");
    }
    // The closing table tells legacy-lb's row from the members'.
    let table = out
        .split("zone corp.example. (private")
        .nth(1)
        .unwrap_or_default();
    assert!(
        table.contains("legacy-lb"),
        "the foreign set in the zone table: {table}"
    );
}

// --- the cases, on both backends -----------------------------------------------

/// Named so that `./scripts/test groups` picks them.
mod groups {
    use super::*;

    on_memory_and_moto!(
        the_scenario_step_by_step_keeps_exactly_the_running_members,
        "fixtures/worlds/group.json",
        scenario_step_by_step
    );
    on_memory_and_moto!(
        conflicts_are_reported_and_nothing_foreign_changes,
        "fixtures/worlds/group.json",
        conflicts_leave_others_alone
    );
    on_memory_and_moto!(
        a_stopped_member_kept_under_on_stop_keep_leaves_its_groups,
        "fixtures/worlds/group.json",
        keep(),
        a_kept_stopped_member_leaves_its_groups
    );
    with_faults_on_memory_and_moto!(
        twenty_five_members_page_and_one_leaving_deletes_only_its_set,
        &many_members_world(),
        many_members
    );
    with_faults_on_memory_and_moto!(
        a_lost_answer_while_joining_writes_no_second_set,
        "fixtures/worlds/group.json",
        faults_while_joining
    );
}
