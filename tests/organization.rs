//! The organization mode on the in-memory account
//! (`fixtures/worlds/organization.json`): the central account
//! 123456789012 holds the private zone corp.example. and the registry; its
//! members 111111111111 and 222222222222 have VPCs with the same CIDR and
//! an instance with the same id each; 333333333333's role cannot be
//! assumed. Events carry the account they came from, as the central bus
//! delivers them.

mod common;

use ec2_ddns::event::{self, InstanceEvent};
use ec2_ddns::model::{InstanceState, Place, RegistryKey};
use ec2_ddns::registrar::Whereabouts;
use ec2_ddns::sim::memory::MemoryAccount;
use ec2_ddns::summary::Outcome;
use ec2_ddns::Config;

const WORLD: &str = "organization";
const ZONE: &str = "Z0CORPPRIVATE";
const REVERSE: &str = "Z0REVERSE10";
const SAME_ID: &str = "i-0aaaa00000000001";
const CENTRAL: &str = "123456789012";

fn config(accounts: &str) -> Config {
    Config::from_lookup(|k| match k {
        "DDNS_MEMBER_ACCOUNTS" => Some(accounts.to_string()),
        _ => None,
    })
    .expect("config")
}

fn members() -> Config {
    config("111111111111,222222222222,333333333333")
}

/// A state change of `instance_id` as the central bus delivers it from
/// `account`.
fn from(account: &str, instance_id: &str, state: InstanceState, n: usize) -> InstanceEvent {
    let mut json =
        event::state_change_json(&format!("evt-{n}"), instance_id, state, None, "us-east-1");
    json["account"] = account.into();
    event::parse_instance(json).expect("valid event")
}

fn records(account: &MemoryAccount, zone: &str) -> Vec<String> {
    let mut lines: Vec<String> = account
        .zone_records()
        .remove(zone)
        .unwrap_or_default()
        .iter()
        .filter(|r| {
            !r.is_apex_housekeeping("corp.example.") && !r.is_apex_housekeeping("10.in-addr.arpa.")
        })
        .map(|r| r.to_string())
        .collect();
    lines.sort();
    lines
}

fn keys(account: &MemoryAccount) -> Vec<String> {
    account.registry_items().into_keys().collect()
}

fn calls(account: &MemoryAccount, operation: &str) -> usize {
    account.journal().iter().filter(|c| *c == operation).count()
}

#[tokio::test]
async fn an_instance_in_a_member_account_gets_its_records_in_the_central_private_zone() {
    let account = MemoryAccount::fixture(WORLD);
    let registrar = account.registrar(members());
    let summary = registrar
        .handle_anywhere(&from("111111111111", SAME_ID, InstanceState::Running, 1))
        .await
        .expect("handled");
    assert_eq!(summary.outcome, Outcome::Applied, "{summary:?}");
    assert_eq!(summary.place, Some(Place::new("111111111111", "us-east-1")));
    assert_eq!(
        records(&account, ZONE),
        [
            "db.corp.example. A 300 10.0.9.9",
            "web.corp.example. A 60 10.1.2.4"
        ]
    );
    assert_eq!(
        records(&account, REVERSE),
        ["4.2.1.10.in-addr.arpa. PTR 60 web.corp.example."]
    );
    assert_eq!(
        keys(&account),
        ["instance#111111111111#us-east-1#i-0aaaa00000000001"]
    );
    assert_eq!(calls(&account, "sts:AssumeRole"), 1);
}

#[tokio::test]
async fn two_accounts_with_the_same_cidr_and_instance_id_share_the_zone_without_collision() {
    let account = MemoryAccount::fixture(WORLD);
    let registrar = account.registrar(members());
    for (n, member) in ["111111111111", "222222222222"].iter().enumerate() {
        let s = registrar
            .handle_anywhere(&from(member, SAME_ID, InstanceState::Running, n))
            .await
            .expect("handled");
        assert_eq!(s.outcome, Outcome::Applied, "{s:?}");
    }
    assert_eq!(
        keys(&account),
        [
            "instance#111111111111#us-east-1#i-0aaaa00000000001",
            "instance#222222222222#us-east-1#i-0aaaa00000000001",
        ]
    );
    assert_eq!(
        records(&account, ZONE),
        [
            "api.corp.example. A 60 10.1.2.5",
            "db.corp.example. A 300 10.0.9.9",
            "web.corp.example. A 60 10.1.2.4",
        ]
    );
    // 111's instance goes: only its own records go with it.
    account.edit(|w| {
        let m = w.member_mut("111111111111", "us-east-1").expect("member");
        m.instances[0].state = InstanceState::Terminated;
    });
    let s = registrar
        .handle_anywhere(&from("111111111111", SAME_ID, InstanceState::Terminated, 3))
        .await
        .expect("handled");
    assert_eq!(s.outcome, Outcome::Applied, "{s:?}");
    assert_eq!(
        records(&account, ZONE),
        [
            "api.corp.example. A 60 10.1.2.5",
            "db.corp.example. A 300 10.0.9.9"
        ]
    );
    assert_eq!(
        records(&account, REVERSE),
        ["5.2.1.10.in-addr.arpa. PTR 60 api.corp.example."]
    );
    assert_eq!(
        keys(&account),
        ["instance#222222222222#us-east-1#i-0aaaa00000000001"]
    );
}

#[tokio::test]
async fn the_same_address_in_two_accounts_is_a_conflict_never_an_overwrite() {
    let account = MemoryAccount::fixture(WORLD);
    account.edit(|w| {
        let m = w.member_mut("222222222222", "us-east-1").expect("member");
        m.instances[0].private_ip = Some("10.1.2.4".parse().unwrap());
        m.instances[0].tags.insert("HOSTNAME".into(), "web".into());
    });
    let registrar = account.registrar(members());
    registrar
        .handle_anywhere(&from("111111111111", SAME_ID, InstanceState::Running, 1))
        .await
        .expect("handled");
    let second = registrar
        .handle_anywhere(&from("222222222222", SAME_ID, InstanceState::Running, 2))
        .await
        .expect("handled");
    assert_eq!(second.outcome, Outcome::Conflict, "{second:?}");
    assert_eq!(
        records(&account, ZONE),
        [
            "db.corp.example. A 300 10.0.9.9",
            "web.corp.example. A 60 10.1.2.4"
        ]
    );
    // The first account's records stay its own: its termination deletes them.
    account.edit(|w| {
        let m = w.member_mut("111111111111", "us-east-1").expect("member");
        m.instances[0].state = InstanceState::Terminated;
    });
    registrar
        .handle_anywhere(&from("111111111111", SAME_ID, InstanceState::Terminated, 3))
        .await
        .expect("handled");
    assert_eq!(records(&account, ZONE), ["db.corp.example. A 300 10.0.9.9"]);
}

#[tokio::test]
async fn a_member_whose_role_cannot_be_assumed_fails_only_its_own_events() {
    let account = MemoryAccount::fixture(WORLD);
    let registrar = account.registrar(members());
    let lost = from(
        "333333333333",
        "i-0cccc00000000001",
        InstanceState::Running,
        1,
    );
    let web = from("111111111111", SAME_ID, InstanceState::Running, 2);
    let own = from(CENTRAL, "i-0central0000001", InstanceState::Running, 3);
    let (done, _) = registrar
        .handle_batch_anywhere(&[&lost, &web, &own], &ec2_ddns::ports::NoTasks, &[], None)
        .await;
    assert_eq!(done[0].outcome, Outcome::Error, "{:?}", done[0]);
    let error = done[0].error.clone().unwrap_or_default();
    assert!(
        error.contains("account 333333333333 in us-east-1 cannot be read"),
        "{error}"
    );
    assert!(error.contains("AccessDenied"), "{error}");
    assert_eq!(done[0].retryable, Some(false));
    assert_eq!(done[1].outcome, Outcome::Applied, "{:?}", done[1]);
    assert_eq!(done[2].outcome, Outcome::Applied, "{:?}", done[2]);
    assert_eq!(done[2].place, None, "the central account's own");
    assert_eq!(
        records(&account, ZONE),
        [
            "db.corp.example. A 300 10.0.9.9",
            "ops.corp.example. A 60 10.0.1.4",
            "web.corp.example. A 60 10.1.2.4",
        ]
    );
    // The central account's own item keeps the key it always had.
    assert_eq!(
        keys(&account),
        [
            "i-0central0000001",
            "instance#111111111111#us-east-1#i-0aaaa00000000001"
        ]
    );
}

#[tokio::test]
async fn an_account_or_region_not_configured_is_skipped_with_a_note_and_no_call() {
    let account = MemoryAccount::fixture(WORLD);
    let registrar = account.registrar(config("111111111111"));
    assert_eq!(
        registrar.whereabouts(Some("222222222222"), Some("us-east-1")),
        Whereabouts::Elsewhere(
            "account 222222222222 is not among DDNS_MEMBER_ACCOUNTS: its event is skipped (add it to converge its instances)".into()
        )
    );
    assert!(matches!(
        registrar.whereabouts(Some("111111111111"), Some("eu-west-1")),
        Whereabouts::Elsewhere(note) if note.contains("DDNS_MEMBER_REGIONS")
    ));
    assert!(matches!(
        registrar.whereabouts(Some("1111; DROP"), Some("us-east-1")),
        Whereabouts::Elsewhere(note) if note.contains("no account id")
    ));
    assert_eq!(
        registrar.whereabouts(Some(CENTRAL), Some("us-east-1")),
        Whereabouts::Home
    );
    assert_eq!(registrar.whereabouts(None, None), Whereabouts::Home);
    let before = account.journal().len();
    let s = registrar
        .handle_anywhere(&from("222222222222", SAME_ID, InstanceState::Running, 1))
        .await
        .expect("handled");
    assert_eq!(s.outcome, Outcome::NothingToDo);
    assert!(
        s.notes[0].contains("not among DDNS_MEMBER_ACCOUNTS"),
        "{s:?}"
    );
    assert_eq!(account.journal().len(), before, "no call");
    // Without the organization mode, every event is the account's own.
    let single = account.registrar(Config::default());
    assert_eq!(
        single.whereabouts(Some("222222222222"), Some("eu-west-1")),
        Whereabouts::Home
    );
}

#[tokio::test]
async fn a_warm_process_assumes_each_member_role_once() {
    let account = MemoryAccount::fixture(WORLD);
    let registrar = account.registrar(members());
    let mut per_event = Vec::new();
    for (n, state) in [
        InstanceState::Running,
        InstanceState::Running,
        InstanceState::Running,
    ]
    .into_iter()
    .enumerate()
    {
        account.calls.take();
        registrar
            .handle_anywhere(&from("111111111111", SAME_ID, state, n))
            .await
            .expect("handled");
        per_event.push(account.calls.take());
    }
    assert_eq!(
        per_event[0].get("sts:AssumeRole"),
        Some(&1),
        "{:?}",
        per_event[0]
    );
    for later in &per_event[1..] {
        assert_eq!(later.get("sts:AssumeRole"), None, "{later:?}");
        assert_eq!(later.get("ec2:DescribeInstances"), Some(&1), "{later:?}");
    }
    // A cold start assumes it again.
    account.forget_member_credentials();
    account.calls.take();
    registrar
        .handle_anywhere(&from("111111111111", SAME_ID, InstanceState::Running, 9))
        .await
        .expect("handled");
    assert_eq!(account.calls.take().get("sts:AssumeRole"), Some(&1));
}

#[tokio::test]
async fn the_reconcile_repairs_a_lost_member_event_and_leaves_an_unreachable_member_alone() {
    let account = MemoryAccount::fixture(WORLD);
    let registrar = account.registrar(members());
    // 333's instance was registered while its role still trusted us.
    account.edit(|w| w.members[2].role_refused = false);
    registrar
        .handle_anywhere(&from(
            "333333333333",
            "i-0cccc00000000001",
            InstanceState::Running,
            1,
        ))
        .await
        .expect("handled");
    account.edit(|w| w.members[2].role_refused = true);
    account.forget_member_credentials();
    // 111's instance launched with no event delivered; 222's was registered
    // and then terminated, its event lost too.
    registrar
        .handle_anywhere(&from("222222222222", SAME_ID, InstanceState::Running, 2))
        .await
        .expect("handled");
    account.edit(|w| {
        w.member_mut("222222222222", "us-east-1")
            .expect("member")
            .instances[0]
            .state = InstanceState::Terminated;
    });
    let places = registrar.places(&[
        "111111111111".into(),
        "222222222222".into(),
        "333333333333".into(),
    ]);
    assert_eq!(places.len(), 3);
    let done = registrar
        .reconcile_places(&ec2_ddns::ports::NoTasks, &places, "sched-1", None)
        .await
        .expect("reconciled");
    assert_eq!(done.totals.places, 3);
    assert_eq!(done.totals.unreachable_places, 1);
    let by_operation = done
        .totals
        .aws_calls_by_operation
        .clone()
        .unwrap_or_default();
    assert_eq!(
        by_operation.get("dynamodb:Scan"),
        Some(&1),
        "one scan for all places: {by_operation:?}"
    );
    assert_eq!(done.totals.errors, 1, "{:?}", done.totals);
    assert!(
        done.warnings
            .iter()
            .any(|w| w.starts_with("333333333333/us-east-1 not reconciled")),
        "{:?}",
        done.warnings
    );
    assert_eq!(
        records(&account, ZONE),
        [
            "db.corp.example. A 300 10.0.9.9",
            "lost.corp.example. A 60 10.3.2.4",
            "ops.corp.example. A 60 10.0.1.4",
            "web.corp.example. A 60 10.1.2.4",
        ]
    );
    assert_eq!(
        keys(&account),
        [
            "i-0central0000001",
            "instance#111111111111#us-east-1#i-0aaaa00000000001",
            "instance#333333333333#us-east-1#i-0cccc00000000001",
        ]
    );
    let by_place: Vec<(Option<String>, String)> = done
        .reported()
        .map(|s| {
            (
                s.place.as_ref().map(|p| p.account.clone()),
                s.instance_id.clone(),
            )
        })
        .collect();
    assert!(
        by_place.contains(&(Some("111111111111".into()), SAME_ID.into())),
        "{by_place:?}"
    );
    assert!(
        by_place.contains(&(Some("222222222222".into()), SAME_ID.into())),
        "{by_place:?}"
    );
    // A second reconcile has nothing to do.
    let again = registrar
        .reconcile_places(&ec2_ddns::ports::NoTasks, &places, "sched-2", None)
        .await
        .expect("reconciled");
    assert_eq!(again.totals.changed, 0, "{:?}", again.totals);
}

#[test]
fn a_legacy_item_without_an_account_is_the_central_accounts() {
    let key = RegistryKey::parse("i-0central0000001");
    assert_eq!(key.instance_id_at(None), Some("i-0central0000001"));
    assert_eq!(
        key.instance_id_at(Some(&Place::new(CENTRAL, "us-east-1"))),
        None
    );
}

#[tokio::test]
async fn status_reads_a_member_instance_where_it_lives() {
    use ec2_ddns::status::{self, Asked, Verdict};
    let account = MemoryAccount::fixture(WORLD);
    let registrar = account.registrar(members());
    registrar
        .handle_anywhere(&from("111111111111", SAME_ID, InstanceState::Running, 1))
        .await
        .expect("handled");
    let asked = Asked::parse("111111111111/us-east-1/i-0aaaa00000000001").expect("asked");
    let report = status::status(&registrar, &asked).await.expect("status");
    assert_eq!(report.subject, "111111111111/us-east-1/i-0aaaa00000000001");
    assert_eq!(report.verdict, Verdict::Healthy, "{report:#?}");
    assert_eq!(report.records.len(), 2, "{report:#?}");
    // 222's instance of the same id has registered nothing.
    let other = Asked::parse("222222222222/us-east-1/i-0aaaa00000000001").expect("asked");
    let report = status::status(&registrar, &other).await.expect("status");
    assert_ne!(report.verdict, Verdict::Healthy, "{report:#?}");
    assert!(report.records.is_empty(), "{report:#?}");
    // The unreachable member: the read fails, with the reason.
    let lost = Asked::parse("333333333333/us-east-1/i-0cccc00000000001").expect("asked");
    let e = status::status(&registrar, &lost)
        .await
        .expect_err("refused");
    assert!(e.to_string().contains("cannot be read"), "{e}");
    for bad in [
        "1111/us-east-1/i-0abc",
        "111111111111/EU/i-0abc",
        "111111111111/us-east-1/x",
    ] {
        assert!(Asked::parse(bad).is_err(), "{bad}");
    }
}

/// An ECS task of a member account: its event (its ARN names the account)
/// converged through the member's ECS, keyed by that ARN, and its status
/// read there too.
#[tokio::test]
async fn a_member_task_is_named_and_its_status_read_where_it_lives() {
    use ec2_ddns::status::{self, Asked, Verdict};
    let account = MemoryAccount::fixture(WORLD);
    account.edit(|w| {
        let m = w.member_mut("111111111111", "us-east-1").expect("member");
        m.clusters.push(ec2_ddns::sim::world::WorldCluster {
            name: "prod".into(),
        });
        m.tasks.push(
            serde_json::from_value(serde_json::json!({
                "id": "0123456789abcdef0123456789abcdef", "cluster": "prod", "family": "jobs",
                "subnet": "subnet-0member1", "private_ip": "10.1.2.40",
                "tags": {"HOSTNAME": "jobs"}
            }))
            .expect("a task"),
        );
    });
    let member = account.world().members[0].clone();
    let facts = member.task_facts(&member.tasks[0]);
    assert!(
        facts.task_arn.contains(":111111111111:"),
        "{}",
        facts.task_arn
    );
    let event = event::parse_task_event(event::task_state_change_json(
        "evt-t",
        &facts,
        None,
        "us-east-1",
    ))
    .expect("a task event");
    let registrar = account.registrar(members());
    let s = registrar
        .handle_task_anywhere(&account, &event)
        .await
        .expect("handled");
    assert_eq!(s.outcome, Outcome::Applied, "{s:?}");
    assert!(records(&account, ZONE).contains(&"jobs.corp.example. A 60 10.1.2.40".to_string()));
    assert_eq!(keys(&account), [format!("task#{}", facts.task_arn)]);
    let asked = Asked::parse(&facts.task_arn).expect("asked");
    let report = status::status_with(&registrar, &account, &asked)
        .await
        .expect("status");
    assert_eq!(report.verdict, Verdict::Healthy, "{report:#?}");
    // The central ECS does not know it: read there, it would be unknown.
    let central = account.registrar(Config::default());
    let report = status::status_with(&central, &account, &asked)
        .await
        .expect("status");
    assert_ne!(report.verdict, Verdict::Healthy, "{report:#?}");
}
