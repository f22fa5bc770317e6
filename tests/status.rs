//! `ec2-ddns status` (crates/core/src/status/): one subject as it stands.
//! Each case runs on the in-memory account and on moto, on
//! `fixtures/worlds/status.json` (web-1 registered and whole, web-2 whose A
//! a person deleted, web-3 whose HOSTNAME is someone else's A, and a
//! public zone for a DDNS host):
//!
//! 1. a healthy instance; then a person deletes its A: drifted, and the
//!    reconcile the report names makes it healthy again;
//! 2. an instance in conflict with a foreign record, named in the fix;
//!    once a person removes it, the reconcile makes it healthy;
//! 3. an unknown id, and a name that is no DDNS host but an instance's;
//! 4. a DDNS host: unknown, added, updated, its record deleted, then
//!    someone else's.
//!
//! Every report is checked read-only: the zones and the table are as they
//! were, and the call log holds read operations only. The real binary runs
//! last, for its text, its JSON, its exit status and docs/cli.md's example.

mod common;

use assert_cmd::Command;
use common::{Env, Hand, ZoneDump};
use ec2_ddns::ddns::manage::{self, NewHost};
use ec2_ddns::model::{RecordSet, RecordType, RegistryKey};
use ec2_ddns::plan::ConflictKind;
use ec2_ddns::ports::{Dns, Instances, Registry};
use ec2_ddns::status::{self, Asked, Fix, Listed, Standing, Status, Verdict};
use std::process::Output;

const WORLD: &str = "fixtures/worlds/status.json";
const HOST: &str = "home.dyn.example.";

fn a(name: &str, ttl: u32, ip: &str) -> RecordSet {
    RecordSet::new(name, RecordType::A, ttl, vec![ip.into()])
}

/// Everything `status` could change: every zone of the world, and the
/// registry table, as lines.
async fn everything<E, D, R>(env: &Env<E, D, R>) -> (Vec<Vec<String>>, Vec<String>)
where
    E: Instances + Sync,
    D: Dns + ZoneDump + Sync,
    R: Registry + Sync,
{
    let mut zones = Vec::new();
    for world_zone in env.zones.keys() {
        zones.push(env.zone_lines(world_zone).await);
    }
    let mut items: Vec<String> = env
        .registrar
        .registry
        .all()
        .await
        .unwrap_or_else(|e| panic!("[{}] scan: {e}", env.backend))
        .iter()
        .map(|i| format!("{i:?}"))
        .collect();
    items.sort();
    (zones, items)
}

/// Whether an AWS operation only reads (`ec2:DescribeInstances`,
/// `dynamodb:GetItem`, `route53:ListResourceRecordSets`, …).
fn reads_only(operation: &str) -> bool {
    let verb = operation.split(':').nth(1).unwrap_or(operation);
    ["Describe", "List", "Get", "BatchGet", "Scan", "Query"]
        .iter()
        .any(|read| verb.starts_with(read))
}

/// The status of `subject` (a world instance id, or a name), checked
/// read-only: nothing in the zones or the table changed, and only read
/// operations were called.
async fn status_of<E, D, R>(env: &Env<E, D, R>, subject: &str) -> Status
where
    E: Instances + Sync,
    D: Dns + ZoneDump + Sync,
    R: Registry + Sync,
{
    let backend = env.backend;
    let subject = env.instances.get(subject).map_or(subject, String::as_str);
    let asked = Asked::parse(subject).unwrap_or_else(|e| panic!("{e}"));
    let before = everything(env).await;
    env.calls.take();
    let report = status::status(&env.registrar, &asked)
        .await
        .unwrap_or_else(|e| panic!("[{backend}] status {subject}: {e}"));
    let calls = env.calls.take();
    assert!(!calls.is_empty(), "[{backend}] the calls are counted");
    for operation in calls.keys() {
        assert!(
            reads_only(operation),
            "[{backend}] status {subject} called {operation}: {calls:?}"
        );
    }
    assert_eq!(
        everything(env).await,
        before,
        "[{backend}] status {subject} changed nothing"
    );
    assert_eq!(report.subject, asked.as_str());
    report
}

/// Each listed record as `name TYPE: standing`.
fn standings(s: &Status) -> Vec<String> {
    s.records
        .iter()
        .map(|r| {
            let standing = match &r.standing {
                Standing::AsWritten => "as written".to_string(),
                Standing::Changed(now) => format!("changed to {}", now.values().join(",")),
                Standing::Gone => "gone".to_string(),
            };
            format!("{} {}: {standing}", r.record.name, r.record.rtype)
        })
        .collect()
}

/// The plan's changes as `ACTION name TYPE`, sorted.
fn changes(s: &Status) -> Vec<String> {
    let mut lines: Vec<String> = s
        .plan
        .changes
        .iter()
        .map(|c| format!("{} {} {}", c.action.as_str(), c.record.name, c.record.rtype))
        .collect();
    lines.sort();
    lines
}

/// 1. Healthy, drifted by a person's delete, healthy again after the
///    reconcile the fix names.
async fn healthy_then_drifted<E, D, R>(env: &Env<E, D, R>)
where
    E: Instances + Sync,
    D: Dns + ZoneDump + Sync,
    R: Registry + Sync,
    Env<E, D, R>: Hand,
{
    let backend = env.backend;
    let web1 = env.instance("i-0web1");
    let s = status_of(env, "i-0web1").await;
    assert_eq!(s.verdict, Verdict::Healthy, "[{backend}] {s:#?}");
    assert!(s.healthy());
    assert_eq!(
        standings(&s),
        [
            "api.corp.example. CNAME: as written",
            "ip-10-1-2-4.corp.example. A: as written",
            "4.2.1.10.in-addr.arpa. PTR: as written",
        ],
        "[{backend}]"
    );
    assert!(s.records.iter().all(|r| r.listed == Listed::Owned));
    assert!(
        s.fixes.is_empty() && s.plan.changes.is_empty(),
        "[{backend}] {s:#?}"
    );
    assert!(s.plan.conflicts.is_empty() && s.plan.rejected.is_empty());
    let item = s.item.as_ref().expect("an item");
    assert_eq!(item.key, web1);
    assert_eq!(
        item.last_event_time.as_deref(),
        Some("2026-11-21T10:00:00Z")
    );
    let i = s.instance.as_ref().expect("EC2 knows it");
    assert_eq!(
        i.private_ip.map(|ip| ip.to_string()).as_deref(),
        Some("10.1.2.4")
    );
    assert_eq!(
        i.tags.get("CNAME").map(String::as_str),
        Some("api.corp.example.")
    );
    let vpc = s.vpc.as_ref().expect("its VPC");
    assert_eq!(
        (vpc.dns_support, vpc.dns_hostnames),
        (Some(true), Some(true))
    );
    let mut private: Vec<&str> = vpc
        .private_zones
        .iter()
        .map(|z| z.zone_name.as_str())
        .collect();
    private.sort();
    assert_eq!(
        private,
        ["10.in-addr.arpa.", "corp.example."],
        "[{backend}]"
    );

    // A person deletes web-1's A: drifted; the reconcile re-creates it.
    env.delete_record(
        &env.zone("Z0CORPPRIVATE"),
        &a("ip-10-1-2-4.corp.example.", 60, "10.1.2.4"),
    )
    .await;
    let s = status_of(env, "i-0web1").await;
    assert_eq!(s.verdict, Verdict::Drifted, "[{backend}] {s:#?}");
    assert!(!s.healthy());
    assert_eq!(
        standings(&s)[1],
        "ip-10-1-2-4.corp.example. A: gone",
        "[{backend}]"
    );
    assert_eq!(
        changes(&s),
        ["CREATE ip-10-1-2-4.corp.example. A"],
        "[{backend}]"
    );
    assert_eq!(s.fixes, [Fix::Reconcile], "[{backend}]");
    assert!(s.reason.contains("1 of 3 listed records"), "{}", s.reason);

    // web-2 came that way in the world.
    let s = status_of(env, "i-0web2").await;
    assert_eq!(s.verdict, Verdict::Drifted, "[{backend}] {s:#?}");
    assert_eq!(
        changes(&s),
        ["CREATE ip-10-1-2-5.corp.example. A"],
        "[{backend}]"
    );

    let done = env.reconcile().await;
    assert_eq!(done.totals.errors, 0, "[{backend}] {:?}", done.totals);
    for id in ["i-0web1", "i-0web2"] {
        let s = status_of(env, id).await;
        assert_eq!(s.verdict, Verdict::Healthy, "[{backend}] {id}: {s:#?}");
    }
}

/// 2. A foreign record at web-3's name: a conflict naming it; removed by a
///    person, the reconcile takes the name.
async fn conflict_named<E, D, R>(env: &Env<E, D, R>)
where
    E: Instances + Sync,
    D: Dns + ZoneDump + Sync,
    R: Registry + Sync,
    Env<E, D, R>: Hand,
{
    let backend = env.backend;
    let private = env.zone("Z0CORPPRIVATE");
    let theirs = a("app.corp.example.", 300, "10.1.9.7");
    let s = status_of(env, "i-0web3").await;
    assert_eq!(s.verdict, Verdict::Conflict, "[{backend}] {s:#?}");
    assert!(
        s.item.is_none() && s.records.is_empty(),
        "[{backend}] {s:#?}"
    );
    let c = &s.plan.conflicts;
    assert_eq!(c.len(), 1, "[{backend}] {c:?}");
    assert_eq!(
        (c[0].name.as_str(), &c[0].rtype, c[0].kind),
        ("app.corp.example.", &RecordType::A, ConflictKind::Held),
        "[{backend}]"
    );
    assert_eq!(
        s.fixes,
        [
            Fix::RemoveForeign {
                zone_id: private.as_str().into(),
                zone_name: "corp.example.".into(),
                record: theirs.clone(),
            },
            Fix::Reconcile
        ],
        "[{backend}]"
    );

    env.delete_record(&private, &theirs).await;
    let s = status_of(env, "i-0web3").await;
    assert_eq!(
        s.verdict,
        Verdict::Drifted,
        "[{backend}] the name is free: {s:#?}"
    );
    assert_eq!(
        changes(&s),
        [
            "CREATE 6.2.1.10.in-addr.arpa. PTR",
            "CREATE app.corp.example. A"
        ],
        "[{backend}]"
    );
    env.reconcile().await;
    let s = status_of(env, "i-0web3").await;
    assert_eq!(s.verdict, Verdict::Healthy, "[{backend}] {s:#?}");
    assert_eq!(s.records.len(), 2, "[{backend}] {s:#?}");
}

/// 3. An id neither EC2 nor the registry knows; a name that is no host.
async fn unknown<E, D, R>(env: &Env<E, D, R>)
where
    E: Instances + Sync,
    D: Dns + ZoneDump + Sync,
    R: Registry + Sync,
{
    let backend = env.backend;
    let s = status_of(env, "i-0123456789abcdef0").await;
    assert_eq!(s.verdict, Verdict::UnknownSubject, "[{backend}] {s:#?}");
    assert!(s.instance.is_none() && s.item.is_none() && s.vpc.is_none());
    assert!(s.records.is_empty() && s.fixes.is_empty() && s.plan.changes.is_empty());

    let s = status_of(env, "ip-10-1-2-5.corp.example").await;
    assert_eq!(s.verdict, Verdict::UnknownSubject, "[{backend}] {s:#?}");
    assert_eq!(s.listed_by, [env.instance("i-0web2")], "[{backend}]");
}

/// 4. A DDNS host through its life: unknown, added, updated, its record
///    deleted by a person, then someone else's.
async fn ddns_host<E, D, R>(env: &Env<E, D, R>)
where
    E: Instances + Sync,
    D: Dns + ZoneDump + Sync,
    R: Registry + Sync,
    Env<E, D, R>: Hand,
{
    let backend = env.backend;
    let public = env.zone("Z0DYNPUBLIC");
    let now = ec2_ddns::model::parse_time("2026-11-21T11:00:00Z").unwrap();
    let s = status_of(env, HOST).await;
    assert_eq!(s.verdict, Verdict::UnknownSubject, "[{backend}] {s:#?}");
    assert!(s.listed_by.is_empty());

    let new = NewHost {
        host: HOST.into(),
        zone: "dyn.example".into(),
        ttl: 60,
        login: None,
        secret: None,
        iam_principals: Vec::new(),
    };
    manage::add(&env.registrar, &new, now)
        .await
        .unwrap_or_else(|e| panic!("[{backend}] hosts add: {e}"));
    let s = status_of(env, HOST).await;
    assert_eq!(s.verdict, Verdict::NotRegistered, "[{backend}] {s:#?}");
    let host = s.item.as_ref().and_then(|i| i.host.as_ref()).expect("host");
    assert_eq!((host.zone_name.as_str(), host.ttl), ("dyn.example.", 60));

    // The endpoint's update, as it makes it.
    let item = env
        .registrar
        .registry
        .load(&RegistryKey::host(HOST))
        .await
        .unwrap()
        .expect("the host's item");
    let settings = item.host.clone().expect("host settings");
    let set = env
        .registrar
        .set_host_address(item, settings, "203.0.113.7".parse().unwrap(), "req-1", now)
        .await
        .unwrap_or_else(|e| panic!("[{backend}] update: {e}"));
    assert_eq!(set.changes.len(), 1, "[{backend}] {set:?}");
    let s = status_of(env, HOST).await;
    assert_eq!(s.verdict, Verdict::Healthy, "[{backend}] {s:#?}");
    assert_eq!(
        standings(&s),
        ["home.dyn.example. A: as written"],
        "[{backend}]"
    );
    let item = s.item.as_ref().expect("item");
    assert_eq!(
        (
            item.last_event_time.as_deref(),
            item.last_event_id.as_deref()
        ),
        (Some("2026-11-21T11:00:00Z"), Some("req-1")),
        "[{backend}] last update and its request"
    );
    assert!(s.instance.is_none() && s.vpc.is_none());

    let ours = a(HOST, 60, "203.0.113.7");
    env.delete_record(&public, &ours).await;
    let s = status_of(env, HOST).await;
    assert_eq!(s.verdict, Verdict::Drifted, "[{backend}] {s:#?}");
    assert_eq!(standings(&s), ["home.dyn.example. A: gone"], "[{backend}]");
    assert_eq!(s.fixes, [Fix::HostUpdate], "[{backend}]");

    let theirs = a(HOST, 300, "198.51.100.1");
    env.put_record(&public, &theirs).await;
    let s = status_of(env, HOST).await;
    assert_eq!(s.verdict, Verdict::Conflict, "[{backend}] {s:#?}");
    assert_eq!(
        standings(&s),
        ["home.dyn.example. A: changed to 198.51.100.1"],
        "[{backend}]"
    );
    assert_eq!(
        s.fixes,
        [
            Fix::RemoveForeign {
                zone_id: public.as_str().into(),
                zone_name: "dyn.example.".into(),
                record: theirs,
            },
            Fix::HostUpdate
        ],
        "[{backend}]"
    );
}

on_memory_and_moto!(
    status_of_a_healthy_then_drifted_instance,
    WORLD,
    healthy_then_drifted
);
on_memory_and_moto!(status_of_an_instance_in_conflict, WORLD, conflict_named);
on_memory_and_moto!(status_of_an_unknown_subject, WORLD, unknown);
on_memory_and_moto!(status_of_a_ddns_host, WORLD, ddns_host);

/// The binary, from the repository root, with no emulator or settings
/// from the environment.
fn command() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ec2-ddns"));
    cmd.current_dir(common::repo(""))
        .env_remove("AWS_ENDPOINT_URL");
    for (key, _) in std::env::vars() {
        if key.starts_with("DDNS_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

fn ec2_ddns(args: &[&str]) -> Output {
    command().args(args).output().expect("run ec2-ddns")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The real binary: text and JSON, exit status 0 healthy, 1 not, 2 usage.
#[test]
fn status_command_prints_text_and_json_with_its_exit_status() {
    let o = ec2_ddns(&["status", "--world", WORLD, "i-0web1"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with("instance i-0web1 (web-1): running"),
        "{out}"
    );
    assert!(out.contains("verdict: healthy: 3 records"), "{out}");
    assert!(!out.contains("fix:"), "{out}");

    let o = ec2_ddns(&["status", "--world", WORLD, "i-0web2"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains(
            "ip-10-1-2-5.corp.example. A 60 10.1.2.5 in corp.example. (Z0CORPPRIVATE): gone"
        ),
        "{out}"
    );
    assert!(out.contains("\nverdict: drifted: "), "{out}");
    assert!(
        out.contains("\nfix: ec2-ddns reconcile --world fixtures/worlds/status.json  #"),
        "{out}"
    );

    let o = ec2_ddns(&["status", "--world", WORLD, "--json", "i-0web3"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON document");
    assert_eq!(v["verdict"], "conflict", "{v}");
    assert_eq!(v["kind"], "instance", "{v}");
    assert_eq!(v["item"], serde_json::Value::Null, "{v}");
    assert_eq!(v["plan"]["conflicts"][0]["kind"], "held", "{v}");
    assert_eq!(v["fixes"][0]["action"], "remove-foreign", "{v}");
    assert_eq!(v["fixes"][0]["record"]["values"][0], "10.1.9.7", "{v}");
    assert_eq!(v["fixes"][1]["action"], "reconcile", "{v}");

    let o = ec2_ddns(&["status", "--world", WORLD, "--json", "i-0web2"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON document");
    assert_eq!(v["records"][0]["standing"], "gone", "{v}");
    assert_eq!(v["records"][1]["standing"], "as-written", "{v}");
    assert_eq!(v["plan"]["changes"][0]["action"], "CREATE", "{v}");

    let o = ec2_ddns(&["status", "--world", WORLD, "i-0nothere"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("verdict: unknown subject"),
        "{}",
        stdout(&o)
    );

    for (args, needle) in [
        (
            vec!["status", "--world", WORLD, "i-0we!"],
            "is not an instance id",
        ),
        (
            vec!["status", "--world", WORLD, "*.corp.example"],
            "wildcard",
        ),
        (vec!["status", "--world", WORLD], "required arguments"),
        (
            vec!["status", "--world", "missing.json", "i-0web1"],
            "missing.json",
        ),
        (
            vec!["status", "--dry-run", "i-0web1"],
            "unexpected argument '--dry-run'",
        ),
    ] {
        let o = ec2_ddns(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
        assert!(stdout(&o).is_empty(), "{args:?}");
    }
}

/// An AWS read that fails is exit status 2, one line on stderr.
#[test]
fn status_command_fails_with_2_when_aws_cannot_be_read() {
    let o = command()
        .args([
            "status",
            "--endpoint-url",
            "http://127.0.0.1:9",
            "--region",
            "us-east-1",
            "i-0web1",
        ])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("run ec2-ddns");
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("ec2-ddns: status of i-0web1: "), "{err}");
    assert!(stdout(&o).is_empty(), "{}", stdout(&o));
}

/// docs/cli.md's example is what the binary prints for it.
#[test]
fn status_example_in_the_docs_is_real_output() {
    let page = std::fs::read_to_string(common::repo("docs/cli.md")).unwrap();
    for id in ["i-0web2", "i-0web3"] {
        let o = ec2_ddns(&["status", "--world", WORLD, id]);
        let block = format!(
            "```text\n$ ec2-ddns status --world {WORLD} {id}\n{}```",
            stdout(&o)
        );
        assert!(
            page.contains(&block),
            "docs/cli.md lacks the output of `ec2-ddns status --world {WORLD} {id}`; paste this:\n{block}"
        );
    }
}
