//! `ec2-ddns snapshot`, tested as a differential: a seeded moto and the
//! world file snapshotted from it must answer every event the same way and
//! end with the same zones and the same registry.
//!
//! For each case: seed its world into moto, play the first step
//! on moto alone (so the snapshot has owned records and a registry item to
//! carry), snapshot moto with the real command, then play the remaining
//! steps on both: on moto through real EC2 calls (start, stop, terminate,
//! tag), on the snapshot through the in-memory world. Finally snapshot moto
//! again and compare it with the in-memory account.

mod common;

use ec2_ddns::sim::memory::MemoryAccount;
use ec2_ddns::sim::scenario::{self, Step};
use ec2_ddns::sim::snapshot::snapshot;
use ec2_ddns::sim::world::World;
use ec2_ddns::Config;

/// A world seeded into moto, alias records added to it (seeded by the
/// seeder like any other record), and the steps played on it. The first step runs on
/// moto alone, before the snapshot; the rest run on both.
///
/// Stop-then-start re-creates records identical to ones deleted earlier,
/// which plain moto 5.2 refuses (its change journal); the strict launcher
/// (`tests/emulator/strict_moto.py`) applies Route 53's rules instead.
struct Case {
    world: &'static str,
    /// `(world zone id, name, alias target)`.
    aliases: &'static [(&'static str, &'static str, &'static str)],
    steps: &'static [&'static str],
    /// Conflicts the steps after the snapshot must meet, on both sides.
    conflicts: usize,
}

const CASES: &[Case] = &[
    Case {
        world: "fixtures/worlds/split-horizon.json",
        aliases: &[(
            "Z0CORPPUBLIC",
            "app.corp.example.",
            "lb-1.us-east-1.elb.amazonaws.com.",
        )],
        steps: &[
            "launch web-1",
            // app is an alias in the public zone: a conflict there, free in the private one.
            "tag web-1 CNAME=api.corp.example,status.corp.example,app.corp.example",
            "tag web-1 CNAME=status.corp.example",
            "stop web-1",
            "terminate web-1",
        ],
        conflicts: 1,
    },
    Case {
        world: "fixtures/worlds/private-dhcp.json",
        aliases: &[],
        // Stop then start re-creates identical records (no public IP here:
        // EC2 gives a new one on start, which a snapshot cannot know).
        steps: &[
            "launch runner-1",
            "launch runner-2",
            "stop runner-2",
            "start runner-2",
            "terminate runner-1",
        ],
        conflicts: 0,
    },
    Case {
        world: "fixtures/worlds/takeover.json",
        aliases: &[],
        steps: &[
            "launch rogue-1",
            "tag rogue-1 CNAME=db.corp.example,tools.corp.example,*.corp.example",
            "terminate rogue-1",
        ],
        conflicts: 2,
    },
    Case {
        // IPv6: VPC and subnet IPv6 blocks, an IPv6-only subnet, a
        // dual-stack and an IPv6-only instance carried by the snapshot.
        world: "fixtures/worlds/ipv6.json",
        aliases: &[],
        steps: &[
            "launch dual",
            "launch v6only",
            "tag v6only CNAME=www.corp.example",
            "stop dual",
            "start dual",
            "terminate v6only",
        ],
        conflicts: 0,
    },
];

/// The case's world with its alias records added, written where the
/// seeder can read it.
fn world_with_aliases(case: &Case, dir: &std::path::Path) -> std::path::PathBuf {
    let mut world: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(common::repo(case.world)).unwrap()).unwrap();
    for (zone, name, target) in case.aliases {
        let zones = world["zones"].as_array_mut().unwrap();
        let zone = zones
            .iter_mut()
            .find(|z| z["id"] == *zone)
            .expect("the alias's zone is in the world");
        if zone.get("records").is_none() {
            zone["records"] = serde_json::json!([]);
        }
        zone["records"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({"name": name, "type": "A", "alias": target}));
    }
    let file = dir.join(std::path::Path::new(case.world).file_name().unwrap());
    std::fs::write(&file, world.to_string()).unwrap();
    file
}

/// What EC2 does for a step, done to moto through the SDK.
async fn act_on_moto(ec2: &aws_sdk_ec2::Client, id: &str, step: &Step) {
    match step {
        Step::State { state, .. } => common::moto_set_state(ec2, id, *state).await,
        Step::Tag { key, value, .. } => common::moto_set_tag(ec2, id, key, value).await,
        other => panic!("no moto action for {other:?}"),
    }
}

/// Runs the real `ec2-ddns snapshot` against moto and loads what it wrote.
fn snapshot_with_the_command(endpoint: &str, region: &str, file: &std::path::Path) -> World {
    let out = assert_cmd::Command::new(env!("CARGO_BIN_EXE_ec2-ddns"))
        .args(["snapshot", "--endpoint-url", endpoint, "--region", region])
        .env_remove("AWS_ENDPOINT_URL")
        .output()
        .expect("run ec2-ddns snapshot");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "snapshot failed: {stderr}");
    assert!(stderr.contains("registry item"), "{stderr}");
    std::fs::write(file, &out.stdout).expect("write the snapshot");
    World::load(file.to_str().unwrap())
        .unwrap_or_else(|e| panic!("the snapshot does not load as a world: {e}"))
}

async fn differential(endpoint: &str, case: &Case) {
    let world_file = case.world;
    let dir = tempfile::tempdir().unwrap();
    let ids = common::seed_moto(endpoint, &world_with_aliases(case, dir.path()));
    let region = ids["region"].as_str().unwrap_or("us-east-1").to_string();
    let config = Config::default();
    let account = common::moto_account(endpoint, &region).await;
    let ec2 = account.ec2.client.clone();

    // The steps, with names resolved through a first snapshot (moto picks ids).
    let steps: Vec<(String, Step)> = case
        .steps
        .iter()
        .enumerate()
        .map(|(i, text)| {
            (
                text.to_string(),
                scenario::parse_step("CASES", i, text).unwrap(),
            )
        })
        .collect();
    let before = snapshot(&account, &config.table)
        .await
        .expect("snapshot the seeded world");
    let mut shadow = before.world.clone();
    let registrar = account.registrar(config.clone());

    let (first_text, first) = &steps[0];
    let who = shadow
        .find_instance(first.who().expect("an instance step"))
        .unwrap()
        .id
        .clone();
    let change = scenario::perform(&mut shadow, first, 1)
        .unwrap()
        .event()
        .expect("an event step");
    act_on_moto(&ec2, &who, first).await;
    let s = registrar.handle(&change).await.expect(first_text);
    assert!(!s.changes.is_empty(), "{first_text} changed nothing: {s:?}");

    let name = world_file.rsplit('/').next().unwrap();
    let snapshotted = snapshot_with_the_command(
        endpoint,
        &region,
        &dir.path().join(format!("snapshot-{name}")),
    );
    assert!(
        !snapshotted.registry.is_empty(),
        "{world_file}: the snapshot carries no registry after '{first_text}'"
    );
    let aliases: Vec<&str> = snapshotted
        .zones
        .iter()
        .flat_map(|z| &z.records)
        .filter_map(|r| r.alias_target())
        .collect();
    assert_eq!(
        aliases,
        case.aliases.iter().map(|a| a.2).collect::<Vec<_>>(),
        "{world_file}: alias records in the snapshot"
    );
    let copy = MemoryAccount::new(snapshotted.clone());
    let rehearsal = copy.registrar(config.clone());

    let mut conflicts = 0;
    for (n, (text, step)) in steps.iter().enumerate().skip(1) {
        let second = n as u32 + 1;
        let change = copy
            .edit(|w| scenario::perform(w, step, second))
            .expect(text)
            .event()
            .expect("an event step");
        act_on_moto(&ec2, &change.instance_id, step).await;
        let on_moto = registrar.handle(&change).await.expect(text);
        let on_copy = rehearsal.handle(&change).await.expect(text);
        conflicts += on_moto.conflicts.len();
        assert_eq!(
            serde_json::to_value(&on_copy).unwrap(),
            serde_json::to_value(&on_moto).unwrap(),
            "{world_file}: '{text}' differs between the snapshot (left) and moto (right)"
        );
    }

    let after = snapshot(
        &common::moto_account(endpoint, &region).await,
        &config.table,
    )
    .await
    .expect("snapshot moto at the end");
    assert_eq!(conflicts, case.conflicts, "{world_file}: conflicts met");
    // Record order within a zone is not part of the comparison.
    assert_eq!(
        copy.zone_records(),
        MemoryAccount::new(after.world.clone()).zone_records(),
        "{world_file}: final zones differ between the snapshot (left) and moto (right)"
    );
    // Each save's WriteId is random: not part of the comparison.
    let without_write_ids = |items: Vec<ec2_ddns::model::RegistryItem>| -> Vec<_> {
        items
            .into_iter()
            .map(|item| ec2_ddns::model::RegistryItem {
                write_id: None,
                ..item
            })
            .collect()
    };
    let registry = without_write_ids(copy.registry_items().into_values().collect());
    assert_eq!(
        registry,
        without_write_ids(after.world.registry.clone()),
        "{world_file}: final registry differs between the snapshot (left) and moto (right)"
    );
}

#[tokio::test]
#[ignore = "needs the emulator: run through scripts/test"]
async fn snapshot_rehearses_exactly_what_moto_does() {
    let endpoint = common::moto_endpoint();
    let _guard = common::MOTO_LOCK.lock().await;
    for case in CASES {
        differential(&endpoint, case).await;
    }
}
