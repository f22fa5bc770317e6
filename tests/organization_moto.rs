//! The organization mode end to end on the strict moto launcher, with three
//! accounts: `fixtures/worlds/organization.json` seeded into moto's
//! central account (123456789012: the private zone corp.example., the
//! registry, an instance of its own) and, through AssumeRole, into the
//! member accounts 111111111111 and 222222222222 (the same CIDR, their
//! reader role trusting the external id) and 333333333333 (no reader
//! role: its AssumeRole is refused, as the launcher's strict STS refuses
//! a role that does not exist). The registrar is the real one: its member
//! clients come from STS's AssumeRole, which moto answers with
//! credentials that act in the role's account. Run it with
//! `./scripts/test organization_moto -- --nocapture` to see the figures.

mod common;

use ec2_ddns::adapters::aws::{self, ConnectOptions};
use ec2_ddns::calls::CallLog;
use ec2_ddns::event::{self, InstanceEvent};
use ec2_ddns::model::{InstanceState, ZoneId};
use ec2_ddns::ports::{Dns, Registry};
use ec2_ddns::summary::Outcome;
use ec2_ddns::Config;
use serde_json::Value;
use std::collections::BTreeMap;

const WORLD: &str = "fixtures/worlds/organization.json";
const REGION: &str = "us-east-1";
const SAME_ID: &str = "i-0aaaa00000000001";

fn config() -> Config {
    Config::from_lookup(|k| match k {
        "DDNS_MEMBER_ACCOUNTS" => Some("111111111111,222222222222,333333333333".into()),
        "DDNS_MEMBER_EXTERNAL_ID" => Some("ec2-ddns-test".into()),
        _ => None,
    })
    .expect("config")
}

/// A state change of `instance_id` as the central bus delivers it from
/// `account`.
fn from(account: &str, instance_id: &str, state: InstanceState, n: usize) -> InstanceEvent {
    let mut json =
        event::state_change_json(&format!("evt-org-{n}"), instance_id, state, None, REGION);
    json["account"] = account.into();
    event::parse_instance(json).expect("valid event")
}

/// The moto id seeded for a world instance (`account` `None`: central).
fn moto_id(ids: &Value, account: Option<&str>, world_id: &str) -> String {
    let of = match account {
        None => &ids["instances"],
        Some(a) => &ids["members"][format!("{a}/{REGION}")]["instances"],
    };
    of[world_id]
        .as_str()
        .unwrap_or_else(|| panic!("no {world_id} of {account:?} in {ids}"))
        .to_string()
}

/// An EC2 client acting in `account`, as a person there would (the role
/// AWS Organizations creates in every member account).
async fn ec2_in(endpoint: &str, account: &str) -> aws_sdk_ec2::Client {
    let shared = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new(REGION))
        .load()
        .await;
    let sts = aws_sdk_sts::Client::new(&shared);
    let out = sts
        .assume_role()
        .role_arn(format!(
            "arn:aws:iam::{account}:role/OrganizationAccountAccessRole"
        ))
        .role_session_name("a-person")
        .send()
        .await
        .expect("AssumeRole");
    let c = out.credentials().expect("credentials");
    let conf = aws_sdk_ec2::config::Builder::from(&shared)
        .credentials_provider(aws_sdk_ec2::config::Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_string()),
            None,
            "test",
        ))
        .build();
    aws_sdk_ec2::Client::from_conf(conf)
}

fn print_calls(what: &str, calls: &BTreeMap<String, usize>) {
    println!(
        "calls for {what}: {} {}",
        calls.values().sum::<usize>(),
        serde_json::to_string(calls).unwrap_or_default()
    );
}

#[tokio::test]
#[ignore = "needs the emulator: run through scripts/test"]
async fn three_accounts_share_the_central_zone_and_one_unreachable_fails_alone() {
    let _serial = common::MOTO_LOCK.lock().await;
    let endpoint = common::moto_endpoint();
    let ids = common::seed_moto(&endpoint, &common::repo(WORLD));
    let options = ConnectOptions {
        endpoint_url: Some(endpoint.clone()),
        region: Some(REGION.into()),
    };
    let account = aws::connect_for(&options, &config())
        .await
        .expect("GetCallerIdentity");
    let calls: CallLog = account.calls.clone();
    let registrar = account.registrar(config());
    assert_eq!(registrar.home_account.as_deref(), Some("123456789012"));
    let zone = ZoneId::new(ids["zones"]["Z0CORPPRIVATE"].as_str().expect("zone"));
    let reverse = ZoneId::new(ids["zones"]["Z0REVERSE10"].as_str().expect("zone"));
    let lines = |zone: ZoneId| {
        let dns = &registrar.dns;
        async move {
            let mut lines: Vec<String> = dns
                .records_in(&zone)
                .await
                .expect("ListResourceRecordSets")
                .iter()
                .filter(|r| !matches!(r.rtype.to_string().as_str(), "SOA" | "NS"))
                .map(|r| r.to_string())
                .collect();
            lines.sort();
            lines
        }
    };
    let web = moto_id(&ids, Some("111111111111"), SAME_ID);
    let api = moto_id(&ids, Some("222222222222"), SAME_ID);
    let lost = moto_id(&ids, Some("333333333333"), "i-0cccc00000000001");
    let ops = moto_id(&ids, None, "i-0central0000001");

    // An instance in a member account: its records in the central zone.
    calls.take();
    let first = registrar
        .handle_anywhere(&from("111111111111", &web, InstanceState::Running, 1))
        .await
        .expect("handled");
    let first_calls = calls.take();
    print_calls("the first event of 111111111111", &first_calls);
    assert_eq!(first.outcome, Outcome::Applied, "{first:?}");
    assert_eq!(
        first_calls.get("sts:AssumeRole"),
        Some(&1),
        "{first_calls:?}"
    );

    // The same again, warm: the role's credentials are kept.
    let again = registrar
        .handle_anywhere(&from("111111111111", &web, InstanceState::Running, 2))
        .await
        .expect("handled");
    let warm_calls = calls.take();
    print_calls("a later event of 111111111111 (warm)", &warm_calls);
    assert_eq!(again.outcome, Outcome::NothingToDo, "{again:?}");
    assert_eq!(warm_calls.get("sts:AssumeRole"), None, "{warm_calls:?}");

    // The other member, same CIDR: its own records beside the first's.
    let second = registrar
        .handle_anywhere(&from("222222222222", &api, InstanceState::Running, 3))
        .await
        .expect("handled");
    assert_eq!(second.outcome, Outcome::Applied, "{second:?}");
    // The central account's own instance, with no role to assume.
    let own = registrar
        .handle_anywhere(&from("123456789012", &ops, InstanceState::Running, 4))
        .await
        .expect("handled");
    let own_calls = calls.take();
    assert_eq!(own.outcome, Outcome::Applied, "{own:?}");
    assert_eq!(own.place, None);

    // The member whose role cannot be assumed: its event fails alone.
    let refused = registrar
        .handle_anywhere(&from("333333333333", &lost, InstanceState::Running, 5))
        .await;
    let e = refused.expect_err("AssumeRole refused");
    println!("333333333333: {e}");
    assert!(
        e.to_string()
            .contains("account 333333333333 in us-east-1 cannot be read"),
        "{e}"
    );
    assert!(e.to_string().contains("AccessDenied"), "{e}");
    assert!(!e.is_retryable());
    let _ = own_calls;

    assert_eq!(
        lines(zone.clone()).await,
        [
            "api.corp.example. A 60 10.1.2.5",
            "db.corp.example. A 300 10.0.9.9",
            "ops.corp.example. A 60 10.0.1.4",
            "web.corp.example. A 60 10.1.2.4",
        ]
    );
    assert_eq!(
        lines(reverse.clone()).await,
        [
            "4.1.0.10.in-addr.arpa. PTR 60 ops.corp.example.",
            "4.2.1.10.in-addr.arpa. PTR 60 web.corp.example.",
            "5.2.1.10.in-addr.arpa. PTR 60 api.corp.example.",
        ]
    );
    let mut keys: Vec<String> = registrar
        .registry
        .all()
        .await
        .expect("scan")
        .iter()
        .map(|i| i.key.stored())
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            ops.clone(),
            format!("instance#111111111111#us-east-1#{web}"),
            format!("instance#222222222222#us-east-1#{api}"),
        ]
    );

    // 111's instance terminated with its event lost: the reconcile
    // repairs it, and 333 is a warning of its own.
    ec2_in(&endpoint, "111111111111")
        .await
        .terminate_instances()
        .instance_ids(&web)
        .send()
        .await
        .expect("TerminateInstances");
    let done = registrar
        .reconcile_everywhere(&ec2_ddns::ports::NoTasks, "sched-org", None)
        .await
        .expect("reconciled");
    println!(
        "reconcile: {}",
        serde_json::to_string(&done.totals).unwrap_or_default()
    );
    for w in &done.warnings {
        println!("warning: {w}");
    }
    assert_eq!(done.totals.places, 3, "{:?}", done.totals);
    assert_eq!(done.totals.unreachable_places, 1, "{:?}", done.totals);
    assert_eq!(done.totals.records_deleted, 2, "{:?}", done.totals);
    let by_operation = done
        .totals
        .aws_calls_by_operation
        .clone()
        .unwrap_or_default();
    assert_eq!(
        by_operation.get("dynamodb:Scan"),
        Some(&1),
        "one scan for all places"
    );
    assert!(done
        .warnings
        .iter()
        .any(|w| w.starts_with("333333333333/us-east-1 not reconciled")));
    assert_eq!(
        lines(zone).await,
        [
            "api.corp.example. A 60 10.1.2.5",
            "db.corp.example. A 300 10.0.9.9",
            "ops.corp.example. A 60 10.0.1.4",
        ]
    );
    assert_eq!(
        lines(reverse).await,
        [
            "4.1.0.10.in-addr.arpa. PTR 60 ops.corp.example.",
            "5.2.1.10.in-addr.arpa. PTR 60 api.corp.example.",
        ]
    );
}

/// `ec2-ddns snapshot` with the member settings: the member accounts'
/// EC2 as the world's `members` (the unreachable one marked
/// `role_refused`), the zone's associations with their VPCs kept, and a
/// rehearsal on the copy names a member's instance as the function would.
#[tokio::test]
#[ignore = "needs the emulator: run through scripts/test"]
async fn a_snapshot_of_the_organization_rehearses_its_members_offline() {
    let _serial = common::MOTO_LOCK.lock().await;
    let endpoint = common::moto_endpoint();
    let ids = common::seed_moto(&endpoint, &common::repo(WORLD));
    let out = assert_cmd::Command::new(env!("CARGO_BIN_EXE_ec2-ddns"))
        .args(["snapshot", "--endpoint-url", &endpoint, "--region", REGION])
        .args([
            "--member-accounts",
            "111111111111,222222222222,333333333333",
        ])
        .args(["--member-external-id", "ec2-ddns-test"])
        .output()
        .expect("run snapshot");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    println!("{stderr}");
    let world =
        ec2_ddns::sim::world::World::parse("snapshot", &String::from_utf8_lossy(&out.stdout))
            .expect("the snapshot is a valid world");
    let members: Vec<(String, bool, usize)> = world
        .members
        .iter()
        .map(|m| {
            (
                m.account_id().to_string(),
                m.role_refused,
                m.instances.len(),
            )
        })
        .collect();
    assert_eq!(
        members,
        [
            ("111111111111".to_string(), false, 1),
            ("222222222222".to_string(), false, 1),
            ("333333333333".to_string(), true, 0),
        ]
    );
    assert!(
        stderr.contains("333333333333/us-east-1 left out, marked role_refused"),
        "{stderr}"
    );
    let zone = world
        .zones
        .iter()
        .find(|z| z.name == "corp.example." && z.private)
        .expect("the private zone");
    for (account, vpc) in [
        ("111111111111", "vpc-0member1"),
        ("222222222222", "vpc-0member2"),
    ] {
        let id = ids["members"][format!("{account}/{REGION}")]["vpcs"][vpc]
            .as_str()
            .expect("a member VPC");
        assert!(zone.vpcs.iter().any(|v| v == id), "{id}: {:?}", zone.vpcs);
    }
    let account = ec2_ddns::sim::memory::MemoryAccount::new(world);
    let registrar = account.registrar(config());
    let web = moto_id(&ids, Some("111111111111"), SAME_ID);
    let s = registrar
        .handle_anywhere(&from("111111111111", &web, InstanceState::Running, 1))
        .await
        .expect("handled");
    assert_eq!(s.outcome, Outcome::Applied, "{s:?}");
    assert!(
        s.changes
            .iter()
            .any(|c| c.record.to_string() == "web.corp.example. A 60 10.1.2.4"),
        "{s:?}"
    );
}
