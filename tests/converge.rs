//! Convergence (`docs/convergence.md`, spec `records.md` "Convergence"):
//! events are hints and the live state is the truth. Each scenario runs on
//! the in-memory account and on the strict moto emulator.
//!
//! 1. Level-triggered: a `stopped` event for a running instance changes
//!    nothing; a real stop deletes; a late `running` for a stopped instance
//!    registers nothing; a real start registers again.
//! 2. Tag changes on a running instance move its records with no stop or
//!    start (`CNAME` added, changed, removed; `HOSTNAME` set and removed); a
//!    tag the registrar does not read costs no AWS call.
//! 3. The reconcile repairs drift: a lost tag change is written, an owned
//!    record someone deleted is re-created, one someone changed is released
//!    as a conflict; a second reconcile changes nothing.
//! 4. The reconcile registers running instances whose events were lost and
//!    removes what stopped or terminated instances still own.
//! 5. Handover: a name two instances want stays with its holder, even
//!    against instances launched earlier; when the holder is gone, the
//!    reconcile gives it to the earliest-launched claimant; when a holder
//!    lets go by a tag change, a claimant's own event takes it.
//! 6. `DDNS_ON_STOP=keep`: a stopped instance keeps its private records
//!    (which still follow its tags) and loses its public ones; a start
//!    writes those again; terminate removes the rest.
//!
//! Changes are compared as `ACTION name TYPE WORLDZONE` (moto picks its own
//! zone ids and public addresses), zones as their full contents.

mod common;

use common::{Env, Hand, ZoneDump};
use ec2_ddns::config::OnStop;
use ec2_ddns::model::InstanceState::{Running, Stopped, Stopping, Terminated};
use ec2_ddns::model::{RecordSet, RecordType};
use ec2_ddns::ports::{Dns, Instances, Registry};
use ec2_ddns::registrar::Reconciled;
use ec2_ddns::summary::{Outcome, Summary};
use ec2_ddns::Config;

/// split-horizon's records that are not web-1's.
const PRIVATE_FOREIGN: &str = "db.corp.example. A 300 10.1.9.9";
const PUBLIC_FOREIGN: &str = "www.corp.example. CNAME 300 lb.example.net.";
/// web-1's host name from its private DNS name and the DHCP domain.
const WEB1_HOST: &str = "ip-10-1-2-4.corp.example.";

/// The three zones of split-horizon as they should be when web-1 has
/// `host` as host name, `aliases` (full names) in both views, and a public
/// host A when `public` (`None`: web-1 has no records at all).
fn web1_zones(registered: Option<(&str, &[&str], bool)>) -> Vec<(&'static str, Vec<String>)> {
    let mut private = vec![PRIVATE_FOREIGN.to_string()];
    let mut public_zone = vec![PUBLIC_FOREIGN.to_string()];
    let mut reverse = Vec::new();
    if let Some((host, aliases, public)) = registered {
        private.push(format!("{host} A 60 10.1.2.4"));
        reverse.push(format!("4.2.1.10.in-addr.arpa. PTR 60 {host}"));
        if public {
            public_zone.push(format!("{host} A 60 {{pub:i-0web1}}"));
        }
        for alias in aliases {
            private.push(format!("{alias} CNAME 60 {host}"));
            if public {
                public_zone.push(format!("{alias} CNAME 60 {host}"));
            }
        }
    }
    vec![
        ("Z0CORPPRIVATE", private),
        ("Z0CORPPUBLIC", public_zone),
        ("Z0REVERSE10", reverse),
    ]
}

/// Asserts every zone's full contents; `{pub:ID}` stands for the public
/// IPv4 the instance has now.
async fn assert_zones<E, D, R>(env: &Env<E, D, R>, zones: &[(&str, Vec<String>)], when: &str)
where
    E: Instances + Sync,
    D: Dns + ZoneDump + Sync,
    R: Registry + Sync,
{
    for (zone, lines) in zones {
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        assert_eq!(
            env.zone_lines(zone).await,
            env.expect(&lines).await,
            "[{}] {zone} {when}",
            env.backend
        );
    }
}

/// The world's id of a zone the backend calls `zone_id`.
fn world_zone<E, D, R>(env: &Env<E, D, R>, zone_id: &str) -> String {
    env.zones
        .iter()
        .find(|(_, real)| *real == zone_id)
        .map(|(world, _)| world.clone())
        .unwrap_or_else(|| zone_id.to_string())
}

/// A summary's changes as sorted `ACTION name TYPE WORLDZONE` lines.
fn changes<E, D, R>(env: &Env<E, D, R>, s: &Summary) -> Vec<String> {
    let mut lines: Vec<String> = s
        .changes
        .iter()
        .map(|c| {
            format!(
                "{} {} {} {}",
                c.action,
                c.record.name,
                c.record.rtype,
                world_zone(env, &c.zone_id)
            )
        })
        .collect();
    lines.sort();
    lines
}

/// A summary's conflicts as sorted `name TYPE WORLDZONE` lines.
fn conflicts<E, D, R>(env: &Env<E, D, R>, s: &Summary) -> Vec<String> {
    let mut lines: Vec<String> = s
        .conflicts
        .iter()
        .map(|c| format!("{} {} {}", c.name, c.rtype, world_zone(env, &c.zone_id)))
        .collect();
    lines.sort();
    lines
}

/// The reconcile's summary for a world instance; panics when it has none.
fn summary_of<'a, E, D, R>(env: &Env<E, D, R>, r: &'a Reconciled, world_id: &str) -> &'a Summary {
    let id = &env.instances[world_id];
    r.summaries
        .iter()
        .find(|s| &s.instance_id == id)
        .unwrap_or_else(|| panic!("[{}] no summary for {world_id}: {r:?}", env.backend))
}

/// The world ids of the instances the reconcile reports (changed, in
/// conflict, rejected or in error), sorted.
fn reported<E, D, R>(env: &Env<E, D, R>, r: &Reconciled) -> Vec<String> {
    let mut ids: Vec<String> = r
        .reported()
        .map(|s| {
            env.instances
                .iter()
                .find(|(_, real)| **real == s.instance_id)
                .map(|(world, _)| world.clone())
                .unwrap_or_else(|| s.instance_id.clone())
        })
        .collect();
    ids.sort();
    ids
}

/// Asserts that a reconcile wrote nothing and failed nowhere.
fn assert_quiet<E, D, R>(env: &Env<E, D, R>, r: &Reconciled) {
    let t = &r.totals;
    assert_eq!(
        (t.records_created, t.records_deleted, t.changed, t.errors),
        (0, 0, 0, 0),
        "[{}] a converged account needs nothing: {r:?}",
        env.backend
    );
}

fn lines(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

// 1. Level-triggered -------------------------------------------------------

async fn level_triggered<E, D, R>(env: &Env<E, D, R>)
where
    Env<E, D, R>: Hand,
    E: Instances + Sync,
    D: Dns + ZoneDump + Sync,
    R: Registry + Sync,
{
    let registered = web1_zones(Some((WEB1_HOST, &["api.corp.example."], true)));
    let s = env.send("i-0web1", Running, "2026-11-21T10:00:00Z").await;
    assert_eq!(s.outcome, Outcome::Applied, "[{}] {s:?}", env.backend);
    assert_eq!(s.changes.len(), 5, "{s:?}");
    assert_zones(env, &registered, "after running").await;

    // A `stopped` event while EC2 says running: the live state decides.
    let s = env.send("i-0web1", Stopped, "2026-11-21T10:05:00Z").await;
    assert_eq!(s.outcome, Outcome::NothingToDo, "[{}] {s:?}", env.backend);
    assert_eq!(s.live_state, Some(Running), "{s:?}");
    assert!(s.changes.is_empty(), "{s:?}");
    assert_zones(
        env,
        &registered,
        "after a stopped event for a running instance",
    )
    .await;
    assert_eq!(env.owns("i-0web1").await, 5);

    // EC2 really stops it: everything it owns goes.
    let s = env.act("i-0web1", Stopped, "2026-11-21T10:10:00Z").await;
    assert_eq!(s.outcome, Outcome::Applied, "[{}] {s:?}", env.backend);
    assert!(
        matches!(s.live_state, Some(Stopping | Stopped)),
        "[{}] {s:?}",
        env.backend
    );
    assert_eq!(
        changes(env, &s),
        [
            "DELETE 4.2.1.10.in-addr.arpa. PTR Z0REVERSE10",
            "DELETE api.corp.example. CNAME Z0CORPPRIVATE",
            "DELETE api.corp.example. CNAME Z0CORPPUBLIC",
            "DELETE ip-10-1-2-4.corp.example. A Z0CORPPRIVATE",
            "DELETE ip-10-1-2-4.corp.example. A Z0CORPPUBLIC",
        ]
    );
    assert_zones(env, &web1_zones(None), "after the stop").await;
    assert_eq!(env.owns("i-0web1").await, 0);

    // A late `running` (newer time, so past the stale guard) while EC2 says
    // stopped registers nothing.
    let s = env.send("i-0web1", Running, "2026-11-21T10:15:00Z").await;
    assert_eq!(s.outcome, Outcome::NothingToDo, "[{}] {s:?}", env.backend);
    assert!(
        matches!(s.live_state, Some(Stopping | Stopped)),
        "[{}] {s:?}",
        env.backend
    );
    assert!(s.changes.is_empty(), "{s:?}");
    assert_zones(
        env,
        &web1_zones(None),
        "after a running event for a stopped instance",
    )
    .await;
    assert_eq!(env.owns("i-0web1").await, 0);

    // A real start writes the same records again (moto gives a new public
    // address; the re-created records are identical to deleted ones).
    let s = env.act("i-0web1", Running, "2026-11-21T10:20:00Z").await;
    assert_eq!(s.outcome, Outcome::Applied, "[{}] {s:?}", env.backend);
    assert_eq!(s.live_state, Some(Running), "{s:?}");
    assert_eq!(s.changes.len(), 5, "{s:?}");
    assert_zones(env, &registered, "after the start").await;
    assert_eq!(env.owns("i-0web1").await, 5);
}

// 2. Tag changes move records without a stop or start ---------------------

async fn tag_changes<E, D, R>(env: &Env<E, D, R>)
where
    Env<E, D, R>: Hand,
    E: Instances + Sync,
    D: Dns + ZoneDump + Sync,
    R: Registry + Sync,
{
    let s = env.send("i-0web1", Running, "2026-11-21T10:00:00Z").await;
    assert_eq!(s.outcome, Outcome::Applied, "[{}] {s:?}", env.backend);

    // A second alias: added in both views.
    let s = env
        .tag(
            "i-0web1",
            "CNAME",
            "api.corp.example,app.corp.example",
            "2026-11-21T10:01:00Z",
        )
        .await;
    assert_eq!(s.outcome, Outcome::Applied, "[{}] {s:?}", env.backend);
    assert_eq!(s.changed_tags, ["CNAME"], "{s:?}");
    assert_eq!(s.live_state, Some(Running), "{s:?}");
    assert_eq!(
        changes(env, &s),
        [
            "CREATE app.corp.example. CNAME Z0CORPPRIVATE",
            "CREATE app.corp.example. CNAME Z0CORPPUBLIC",
        ]
    );
    let both = ["api.corp.example.", "app.corp.example."];
    assert_zones(env, &web1_zones(Some((WEB1_HOST, &both, true))), "api,app").await;

    // Only the second: the first goes from both views.
    let s = env
        .tag(
            "i-0web1",
            "CNAME",
            "app.corp.example",
            "2026-11-21T10:02:00Z",
        )
        .await;
    assert_eq!(s.outcome, Outcome::Applied, "[{}] {s:?}", env.backend);
    assert_eq!(
        changes(env, &s),
        [
            "DELETE api.corp.example. CNAME Z0CORPPRIVATE",
            "DELETE api.corp.example. CNAME Z0CORPPUBLIC",
        ]
    );
    let app = ["app.corp.example."];
    assert_zones(env, &web1_zones(Some((WEB1_HOST, &app, true))), "app").await;

    // The tag removed: no aliases left; the host records stay.
    let s = env
        .tag("i-0web1", "CNAME", "", "2026-11-21T10:03:00Z")
        .await;
    assert_eq!(s.outcome, Outcome::Applied, "[{}] {s:?}", env.backend);
    assert_eq!(
        changes(env, &s),
        [
            "DELETE app.corp.example. CNAME Z0CORPPRIVATE",
            "DELETE app.corp.example. CNAME Z0CORPPUBLIC",
        ]
    );
    assert_zones(
        env,
        &web1_zones(Some((WEB1_HOST, &[], true))),
        "no CNAME tag",
    )
    .await;
    assert_eq!(env.owns("i-0web1").await, 3);

    // A tag the registrar does not read: nothing to do, and no AWS call.
    let id = env.instance("i-0web1");
    env.set_tag(&id, "Owner", "x").await;
    env.calls.take();
    let s = env
        .registrar
        .handle(&common::tag_change(&id, "Owner", "2026-11-21T10:04:00Z"))
        .await
        .unwrap_or_else(|e| panic!("[{}] Owner tag: {e}", env.backend));
    assert_eq!(s.outcome, Outcome::NothingToDo, "[{}] {s:?}", env.backend);
    assert!(s.changes.is_empty(), "{s:?}");
    assert_eq!(
        env.calls.take(),
        Default::default(),
        "[{}] no AWS call for an unwatched tag",
        env.backend
    );
    assert_zones(env, &web1_zones(Some((WEB1_HOST, &[], true))), "Owner tag").await;

    // The alias back (records identical to ones deleted above), then a
    // HOSTNAME tag: the host A in both views and the PTR move to the new
    // name, and the alias follows.
    let s = env
        .tag(
            "i-0web1",
            "CNAME",
            "api.corp.example",
            "2026-11-21T10:05:00Z",
        )
        .await;
    assert_eq!(s.outcome, Outcome::Applied, "[{}] {s:?}", env.backend);
    let api = ["api.corp.example."];
    assert_zones(env, &web1_zones(Some((WEB1_HOST, &api, true))), "api again").await;

    let s = env
        .tag(
            "i-0web1",
            "HOSTNAME",
            "web.corp.example",
            "2026-11-21T10:06:00Z",
        )
        .await;
    assert_eq!(s.outcome, Outcome::Applied, "[{}] {s:?}", env.backend);
    assert_eq!(
        changes(env, &s),
        [
            "CREATE 4.2.1.10.in-addr.arpa. PTR Z0REVERSE10",
            "CREATE api.corp.example. CNAME Z0CORPPRIVATE",
            "CREATE api.corp.example. CNAME Z0CORPPUBLIC",
            "CREATE web.corp.example. A Z0CORPPRIVATE",
            "CREATE web.corp.example. A Z0CORPPUBLIC",
            "DELETE 4.2.1.10.in-addr.arpa. PTR Z0REVERSE10",
            "DELETE api.corp.example. CNAME Z0CORPPRIVATE",
            "DELETE api.corp.example. CNAME Z0CORPPUBLIC",
            "DELETE ip-10-1-2-4.corp.example. A Z0CORPPRIVATE",
            "DELETE ip-10-1-2-4.corp.example. A Z0CORPPUBLIC",
        ]
    );
    let renamed = web1_zones(Some(("web.corp.example.", &api, true)));
    assert_zones(env, &renamed, "HOSTNAME=web").await;
    assert_eq!(env.owns("i-0web1").await, 5);

    // HOSTNAME removed: back to the name from the private DNS name.
    let s = env
        .tag("i-0web1", "HOSTNAME", "", "2026-11-21T10:07:00Z")
        .await;
    assert_eq!(s.outcome, Outcome::Applied, "[{}] {s:?}", env.backend);
    assert_eq!(s.changes.len(), 10, "{s:?}");
    assert_zones(
        env,
        &web1_zones(Some((WEB1_HOST, &api, true))),
        "no HOSTNAME",
    )
    .await;

    // Nothing drifted: a reconcile agrees.
    assert_quiet(env, &env.reconcile().await);
}

// 3. The reconcile repairs drift ------------------------------------------

async fn drift_repaired<E, D, R>(env: &Env<E, D, R>)
where
    Env<E, D, R>: Hand,
    E: Instances + Sync,
    D: Dns + ZoneDump + Sync,
    R: Registry + Sync,
{
    let s = env.send("i-0web1", Running, "2026-11-21T10:00:00Z").await;
    assert_eq!(s.outcome, Outcome::Applied, "[{}] {s:?}", env.backend);
    assert_eq!(env.owns("i-0web1").await, 5);

    // No events from here on. A tag change whose event is lost:
    let id = env.instance("i-0web1");
    env.set_tag(&id, "CNAME", "api.corp.example,app.corp.example")
        .await;
    // a person deletes web-1's private host A:
    let host_a = RecordSet::new(WEB1_HOST, RecordType::A, 60, vec!["10.1.2.4".into()]);
    env.delete_record(&env.zone("Z0CORPPRIVATE"), &host_a).await;
    // and repoints its PTR.
    let theirs = RecordSet::new(
        "4.2.1.10.in-addr.arpa.",
        RecordType::Ptr,
        300,
        vec!["mail.corp.example.".into()],
    );
    env.put_record(&env.zone("Z0REVERSE10"), &theirs).await;

    let r = env.reconcile().await;
    assert_eq!(reported(env, &r), ["i-0web1"], "[{}] {r:?}", env.backend);
    let s = summary_of(env, &r, "i-0web1");
    assert_eq!(s.outcome, Outcome::Conflict, "[{}] {s:?}", env.backend);
    assert_eq!(s.live_state, Some(Running), "{s:?}");
    assert_eq!(
        changes(env, s),
        [
            "CREATE app.corp.example. CNAME Z0CORPPRIVATE",
            "CREATE app.corp.example. CNAME Z0CORPPUBLIC",
            "CREATE ip-10-1-2-4.corp.example. A Z0CORPPRIVATE",
        ],
        "[{}]",
        env.backend
    );
    assert_eq!(
        conflicts(env, s),
        ["4.2.1.10.in-addr.arpa. PTR Z0REVERSE10"],
        "[{}]",
        env.backend
    );
    assert!(
        s.warnings
            .iter()
            .any(|n| n.contains("4.2.1.10.in-addr.arpa.")),
        "the released PTR is named in a warning: {s:?}"
    );
    let t = &r.totals;
    assert_eq!(
        (
            t.records_created,
            t.records_deleted,
            t.conflicts,
            t.changed,
            t.errors
        ),
        (3, 0, 1, 1, 0),
        "[{}] {t:?}",
        env.backend
    );
    assert_eq!(t.change_batches, 2, "private and public zone: {t:?}");

    let both = ["api.corp.example.", "app.corp.example."];
    let mut want = web1_zones(Some((WEB1_HOST, &both, true)));
    want[2].1 = lines(&["4.2.1.10.in-addr.arpa. PTR 300 mail.corp.example."]);
    assert_zones(env, &want, "after the reconcile").await;
    // Owned: host A and both aliases in both views; the PTR is released.
    assert_eq!(env.owns("i-0web1").await, 6);

    // A second reconcile changes nothing; the PTR is still someone else's.
    let r = env.reconcile().await;
    assert_quiet(env, &r);
    assert_eq!(r.totals.conflicts, 1, "[{}] {r:?}", env.backend);
    assert_zones(env, &want, "after a second reconcile").await;
    assert_eq!(env.owns("i-0web1").await, 6);
}

// 4. Missed instances registered, stopped and terminated ones cleaned ----

fn runner_zones(runner1: bool, runner2: bool) -> Vec<(&'static str, Vec<String>)> {
    let mut build = Vec::new();
    let mut reverse = Vec::new();
    if runner1 {
        build.push("ip-10-20-1-11.build.internal.example. A 60 10.20.1.11".to_string());
        reverse.push(
            "11.1.20.10.in-addr.arpa. PTR 60 ip-10-20-1-11.build.internal.example.".to_string(),
        );
    }
    if runner2 {
        build.push("ip-10-20-1-12.build.internal.example. A 60 10.20.1.12".to_string());
        build.push(
            "cache.build.internal.example. CNAME 60 ip-10-20-1-12.build.internal.example."
                .to_string(),
        );
        reverse.push(
            "12.1.20.10.in-addr.arpa. PTR 60 ip-10-20-1-12.build.internal.example.".to_string(),
        );
    }
    vec![("Z0BUILD", build), ("Z0REV20", reverse)]
}

async fn missed_and_gone<E, D, R>(env: &Env<E, D, R>)
where
    Env<E, D, R>: Hand,
    E: Instances + Sync,
    D: Dns + ZoneDump + Sync,
    R: Registry + Sync,
{
    // runner-1 is stopped and runner-2 running, and no event was ever heard.
    env.set_state(&env.instance("i-0runner1"), Stopped).await;
    assert_zones(env, &runner_zones(false, false), "before anything").await;

    let r = env.reconcile().await;
    assert_eq!(reported(env, &r), ["i-0runner2"], "[{}] {r:?}", env.backend);
    let s = summary_of(env, &r, "i-0runner2");
    assert_eq!(s.outcome, Outcome::Applied, "[{}] {s:?}", env.backend);
    assert_eq!(s.live_state, Some(Running), "{s:?}");
    let t = &r.totals;
    assert_eq!(
        (t.records_created, t.records_deleted, t.changed, t.errors),
        (3, 0, 1, 0),
        "[{}] {t:?}",
        env.backend
    );
    assert_eq!(t.instances_seen, 2, "{t:?}");
    assert_zones(env, &runner_zones(false, true), "runner-2 registered").await;
    assert_eq!(env.owns("i-0runner1").await, 0);
    assert_eq!(env.owns("i-0runner2").await, 3);

    // runner-1 is started; its event is lost.
    env.set_state(&env.instance("i-0runner1"), Running).await;
    let r = env.reconcile().await;
    assert_eq!(reported(env, &r), ["i-0runner1"], "[{}] {r:?}", env.backend);
    assert_eq!(
        changes(env, summary_of(env, &r, "i-0runner1")),
        [
            "CREATE 11.1.20.10.in-addr.arpa. PTR Z0REV20",
            "CREATE ip-10-20-1-11.build.internal.example. A Z0BUILD",
        ]
    );
    assert_zones(env, &runner_zones(true, true), "runner-1 registered").await;
    assert_eq!(env.owns("i-0runner1").await, 2);

    // runner-2 is stopped; its event is lost.
    env.set_state(&env.instance("i-0runner2"), Stopped).await;
    let r = env.reconcile().await;
    assert_eq!(reported(env, &r), ["i-0runner2"], "[{}] {r:?}", env.backend);
    let s = summary_of(env, &r, "i-0runner2");
    assert!(
        matches!(s.live_state, Some(Stopping | Stopped)),
        "[{}] {s:?}",
        env.backend
    );
    assert_eq!(
        changes(env, s),
        [
            "DELETE 12.1.20.10.in-addr.arpa. PTR Z0REV20",
            "DELETE cache.build.internal.example. CNAME Z0BUILD",
            "DELETE ip-10-20-1-12.build.internal.example. A Z0BUILD",
        ]
    );
    assert_zones(env, &runner_zones(true, false), "runner-2 stopped").await;
    assert_eq!(env.owns("i-0runner2").await, 0);

    // runner-1 is terminated; its event is lost.
    env.set_state(&env.instance("i-0runner1"), Terminated).await;
    let r = env.reconcile().await;
    assert_eq!(reported(env, &r), ["i-0runner1"], "[{}] {r:?}", env.backend);
    assert_eq!(r.totals.records_deleted, 2, "[{}] {r:?}", env.backend);
    assert_zones(env, &runner_zones(false, false), "runner-1 terminated").await;
    assert_eq!(env.owns("i-0runner1").await, 0);

    // Nothing left to do, and no item left.
    let r = env.reconcile().await;
    assert_quiet(env, &r);
    assert_eq!(r.totals.items_seen, 0, "[{}] {r:?}", env.backend);
}

// 5. Handover of a name two instances want --------------------------------

/// converge.json's host names: `ip-10-30-1-N.lab.example.`.
fn lab_host(n: u8) -> String {
    format!("ip-10-30-1-{n}.lab.example.")
}

/// converge.json's zones with the host records of the instances whose last
/// address octet is in `hosts`, and `svc` pointing at `holder`'s host name.
fn lab_zones(hosts: &[u8], holder: Option<u8>) -> Vec<(&'static str, Vec<String>)> {
    let mut lab = vec!["ns1.lab.example. A 300 10.30.0.2".to_string()];
    let mut reverse = Vec::new();
    for n in hosts {
        lab.push(format!("{} A 60 10.30.1.{n}", lab_host(*n)));
        reverse.push(format!("{n}.1.30.10.in-addr.arpa. PTR 60 {}", lab_host(*n)));
    }
    if let Some(n) = holder {
        lab.push(format!("svc.lab.example. CNAME 60 {}", lab_host(n)));
    }
    vec![("Z0LAB", lab), ("Z0REV30", reverse)]
}

/// The last octet of a converge.json instance's private address.
fn octet(world_id: &str) -> u8 {
    match world_id {
        "i-0holder" => 10,
        "i-0aaa" => 20,
        "i-0zzz" => 30,
        other => panic!("not in converge.json: {other}"),
    }
}

async fn handover<E, D, R>(env: &Env<E, D, R>)
where
    Env<E, D, R>: Hand,
    E: Instances + Sync,
    D: Dns + ZoneDump + Sync,
    R: Registry + Sync,
{
    // The holder registers first and gets svc.
    let s = env.send("i-0holder", Running, "2026-11-21T10:00:00Z").await;
    assert_eq!(s.outcome, Outcome::Applied, "[{}] {s:?}", env.backend);
    assert_eq!(s.changes.len(), 3, "A, PTR and svc: {s:?}");

    // The others want svc too: their host records go in, svc is a conflict.
    for (id, time) in [
        ("i-0aaa", "2026-11-21T10:01:00Z"),
        ("i-0zzz", "2026-11-21T10:02:00Z"),
    ] {
        let s = env.send(id, Running, time).await;
        assert_eq!(
            s.outcome,
            Outcome::Conflict,
            "[{}] {id}: {s:?}",
            env.backend
        );
        assert_eq!(
            conflicts(env, &s),
            ["svc.lab.example. CNAME Z0LAB"],
            "{s:?}"
        );
        assert_eq!(s.changes.len(), 2, "A and PTR: {s:?}");
    }
    let all = [10, 20, 30];
    assert_zones(env, &lab_zones(&all, Some(10)), "three claimants").await;

    // A reconcile leaves svc with its holder, although (on memory) the
    // holder launched last.
    let r = env.reconcile().await;
    assert_quiet(env, &r);
    assert_eq!(r.totals.conflicts, 2, "[{}] {r:?}", env.backend);
    assert_eq!(reported(env, &r), ["i-0aaa", "i-0zzz"], "{r:?}");
    assert_zones(env, &lab_zones(&all, Some(10)), "reconcile with the holder").await;

    // Who should get svc next: the earliest launched, ties by id (moto's
    // launch times have whole seconds).
    let mut claimants = Vec::new();
    for world_id in ["i-0aaa", "i-0zzz"] {
        let facts = env
            .registrar
            .ec2
            .instance(&env.instance(world_id))
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("[{}] {world_id} unknown", env.backend));
        assert!(facts.launch_time.is_some(), "{facts:?}");
        claimants.push((facts.launch_time, facts.instance_id, world_id));
    }
    claimants.sort();
    let (winner, loser) = (claimants[0].2, claimants[1].2);
    if env.backend == "memory" {
        // Launched earliest, though last by id and in the world file.
        assert_eq!(winner, "i-0zzz");
    }

    // The holder is terminated; its event is lost. The reconcile deletes
    // its records and hands svc to the earliest-launched claimant.
    env.set_state(&env.instance("i-0holder"), Terminated).await;
    let r = env.reconcile().await;
    let t = &r.totals;
    assert_eq!(
        (
            t.records_created,
            t.records_deleted,
            t.conflicts,
            t.changed,
            t.errors
        ),
        (1, 3, 1, 2, 0),
        "[{}] {r:?}",
        env.backend
    );
    let s = summary_of(env, &r, "i-0holder");
    assert_eq!(
        changes(env, s),
        [
            "DELETE 10.1.30.10.in-addr.arpa. PTR Z0REV30",
            "DELETE ip-10-30-1-10.lab.example. A Z0LAB",
            "DELETE svc.lab.example. CNAME Z0LAB",
        ]
    );
    let s = summary_of(env, &r, winner);
    assert_eq!(changes(env, s), ["CREATE svc.lab.example. CNAME Z0LAB"]);
    assert!(s.conflicts.is_empty(), "{s:?}");
    let s = summary_of(env, &r, loser);
    assert_eq!(s.outcome, Outcome::Conflict, "{s:?}");
    assert_eq!(conflicts(env, s), ["svc.lab.example. CNAME Z0LAB"]);
    let rest = [20, 30];
    let handed = lab_zones(&rest, Some(octet(winner)));
    assert_zones(env, &handed, "svc handed over").await;
    assert_eq!(env.owns("i-0holder").await, 0);
    assert_eq!(env.owns(winner).await, 3);
    assert_eq!(env.owns(loser).await, 2);

    let r = env.reconcile().await;
    assert_quiet(env, &r);
    assert_zones(env, &handed, "a second reconcile").await;

    // The new holder lets go (its CNAME tag removed); the other claimant's
    // own next event takes the name.
    let s = env.tag(winner, "CNAME", "", "2026-11-21T11:00:00Z").await;
    assert_eq!(changes(env, &s), ["DELETE svc.lab.example. CNAME Z0LAB"]);
    assert_zones(env, &lab_zones(&rest, None), "svc let go").await;
    let s = env.send(loser, Running, "2026-11-21T11:01:00Z").await;
    assert_eq!(s.outcome, Outcome::Applied, "[{}] {s:?}", env.backend);
    assert_eq!(changes(env, &s), ["CREATE svc.lab.example. CNAME Z0LAB"]);
    assert_zones(env, &lab_zones(&rest, Some(octet(loser))), "svc taken").await;
}

// 6. DDNS_ON_STOP=keep ------------------------------------------------------

async fn keep_on_stop<E, D, R>(env: &Env<E, D, R>)
where
    Env<E, D, R>: Hand,
    E: Instances + Sync,
    D: Dns + ZoneDump + Sync,
    R: Registry + Sync,
{
    assert_eq!(env.registrar.config.on_stop, OnStop::Keep);
    let api = ["api.corp.example."];
    let s = env.send("i-0web1", Running, "2026-11-21T10:00:00Z").await;
    assert_eq!(s.outcome, Outcome::Applied, "[{}] {s:?}", env.backend);
    assert_zones(env, &web1_zones(Some((WEB1_HOST, &api, true))), "running").await;

    // Stopped: the public host A and the public alias go, the rest stays.
    let s = env.act("i-0web1", Stopped, "2026-11-21T10:10:00Z").await;
    assert_eq!(s.outcome, Outcome::Applied, "[{}] {s:?}", env.backend);
    assert_eq!(
        changes(env, &s),
        [
            "DELETE api.corp.example. CNAME Z0CORPPUBLIC",
            "DELETE ip-10-1-2-4.corp.example. A Z0CORPPUBLIC",
        ],
        "[{}]",
        env.backend
    );
    let kept = web1_zones(Some((WEB1_HOST, &api, false)));
    assert_zones(env, &kept, "stopped, keep").await;
    assert_eq!(env.owns("i-0web1").await, 3);

    // The reconcile agrees: a stopped instance keeps its private records.
    assert_quiet(env, &env.reconcile().await);
    assert_zones(env, &kept, "reconcile while stopped").await;

    // The kept records follow its tags while it is stopped.
    let s = env
        .tag(
            "i-0web1",
            "CNAME",
            "api.corp.example,app.corp.example",
            "2026-11-21T10:15:00Z",
        )
        .await;
    assert_eq!(s.outcome, Outcome::Applied, "[{}] {s:?}", env.backend);
    assert_eq!(
        changes(env, &s),
        ["CREATE app.corp.example. CNAME Z0CORPPRIVATE"]
    );
    let both = ["api.corp.example.", "app.corp.example."];
    assert_zones(
        env,
        &web1_zones(Some((WEB1_HOST, &both, false))),
        "tagged while stopped",
    )
    .await;

    // Started again: the public records come back (moto: a new address).
    let s = env.act("i-0web1", Running, "2026-11-21T10:20:00Z").await;
    assert_eq!(s.outcome, Outcome::Applied, "[{}] {s:?}", env.backend);
    assert_eq!(
        changes(env, &s),
        [
            "CREATE api.corp.example. CNAME Z0CORPPUBLIC",
            "CREATE app.corp.example. CNAME Z0CORPPUBLIC",
            "CREATE ip-10-1-2-4.corp.example. A Z0CORPPUBLIC",
        ],
        "[{}]",
        env.backend
    );
    assert_zones(env, &web1_zones(Some((WEB1_HOST, &both, true))), "started").await;
    assert_eq!(env.owns("i-0web1").await, 7);

    // Stopped again, then terminated: the rest goes.
    let s = env.act("i-0web1", Stopped, "2026-11-21T10:30:00Z").await;
    assert_eq!(s.changes.len(), 3, "[{}] {s:?}", env.backend);
    assert_zones(
        env,
        &web1_zones(Some((WEB1_HOST, &both, false))),
        "stopped again",
    )
    .await;
    let s = env.act("i-0web1", Terminated, "2026-11-21T10:40:00Z").await;
    assert_eq!(s.outcome, Outcome::Applied, "[{}] {s:?}", env.backend);
    assert_eq!(
        changes(env, &s),
        [
            "DELETE 4.2.1.10.in-addr.arpa. PTR Z0REVERSE10",
            "DELETE api.corp.example. CNAME Z0CORPPRIVATE",
            "DELETE app.corp.example. CNAME Z0CORPPRIVATE",
            "DELETE ip-10-1-2-4.corp.example. A Z0CORPPRIVATE",
        ]
    );
    assert_zones(env, &web1_zones(None), "terminated").await;
    assert_eq!(env.owns("i-0web1").await, 0);
}

/// The registrar settings of the keep scenario.
fn keep() -> Config {
    Config {
        on_stop: OnStop::Keep,
        ..Config::default()
    }
}

on_memory_and_moto!(
    converge_level_triggered_live_state_decides,
    "fixtures/worlds/split-horizon.json",
    level_triggered
);
on_memory_and_moto!(
    converge_tag_changes_move_records,
    "fixtures/worlds/split-horizon.json",
    tag_changes
);
on_memory_and_moto!(
    converge_reconcile_repairs_drift,
    "fixtures/worlds/split-horizon.json",
    drift_repaired
);
on_memory_and_moto!(
    converge_reconcile_registers_missed_and_cleans_stopped,
    "fixtures/worlds/private-dhcp.json",
    missed_and_gone
);
on_memory_and_moto!(
    converge_handover_to_earliest_launched,
    "fixtures/worlds/converge.json",
    handover
);
on_memory_and_moto!(
    converge_on_stop_keep,
    "fixtures/worlds/split-horizon.json",
    keep(),
    keep_on_stop
);
