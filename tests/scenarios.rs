//! End-to-end scenarios, each run on the in-memory account and on moto: launch,
//! duplicates, out-of-order events, foreign records, terminate.

mod common;

use common::{Env, ZoneDump};
use ec2_ddns::model::InstanceState::{Pending, Running, Stopped, Terminated};
use ec2_ddns::model::{RecordSet, RecordType};
use ec2_ddns::plan::{Change, ChangeAction, ZoneChanges};
use ec2_ddns::ports::{Dns, Instances, Registry};
use ec2_ddns::summary::Outcome;

const PRIVATE: &[&str] = &["db.corp.example. A 300 10.1.9.9"];
const PUBLIC: &[&str] = &["www.corp.example. CNAME 300 lb.example.net."];

async fn split_horizon<E, D, R>(env: &Env<E, D, R>)
where
    E: Instances + Sync,
    D: Dns + ZoneDump + Sync,
    R: Registry + Sync,
{
    let s = env.send("i-0web1", Pending, "2026-11-21T09:59:50Z").await;
    assert_eq!(s.outcome, Outcome::NothingToDo, "{s:?}");

    let s = env.send("i-0web1", Running, "2026-11-21T10:00:00Z").await;
    assert_eq!(s.outcome, Outcome::Applied, "[{}] {s:?}", env.backend);
    assert_eq!(s.changes.len(), 5, "{s:?}");
    let private_after = env
        .expect(&[
            "api.corp.example. CNAME 60 ip-10-1-2-4.corp.example.",
            "db.corp.example. A 300 10.1.9.9",
            "ip-10-1-2-4.corp.example. A 60 10.1.2.4",
        ])
        .await;
    let public_after = env
        .expect(&[
            "api.corp.example. CNAME 60 ip-10-1-2-4.corp.example.",
            "ip-10-1-2-4.corp.example. A 60 {pub:i-0web1}",
            "www.corp.example. CNAME 300 lb.example.net.",
        ])
        .await;
    let reverse_after = env
        .expect(&["4.2.1.10.in-addr.arpa. PTR 60 ip-10-1-2-4.corp.example."])
        .await;
    assert_eq!(
        env.zone_lines("Z0CORPPRIVATE").await,
        private_after,
        "[{}]",
        env.backend
    );
    assert_eq!(
        env.zone_lines("Z0CORPPUBLIC").await,
        public_after,
        "[{}]",
        env.backend
    );
    assert_eq!(
        env.zone_lines("Z0REVERSE10").await,
        reverse_after,
        "[{}]",
        env.backend
    );
    assert_eq!(env.owns("i-0web1").await, 5);

    // The same event delivered twice changes nothing.
    let s = env.send("i-0web1", Running, "2026-11-21T10:00:00Z").await;
    assert_eq!(s.outcome, Outcome::NothingToDo, "{s:?}");
    // A stop older than the last event applied arrives late while the
    // instance runs: the live state decides, and nothing changes.
    let s = env.send("i-0web1", Stopped, "2026-11-21T09:00:00Z").await;
    assert_eq!(s.outcome, Outcome::NothingToDo, "{s:?}");
    assert_eq!(s.live_state, Some(Running), "{s:?}");
    assert_eq!(env.zone_lines("Z0CORPPRIVATE").await, private_after);
    assert_eq!(env.owns("i-0web1").await, 5);

    let s = env
        .send("i-0web1", Terminated, "2026-11-21T12:00:00Z")
        .await;
    assert_eq!(s.outcome, Outcome::Applied, "{s:?}");
    assert_eq!(s.changes.len(), 5, "{s:?}");
    assert!(
        s.changes.iter().all(|c| c.action == ChangeAction::Delete),
        "{s:?}"
    );
    assert_eq!(env.zone_lines("Z0CORPPRIVATE").await, PRIVATE);
    assert_eq!(env.zone_lines("Z0CORPPUBLIC").await, PUBLIC);
    assert!(env.zone_lines("Z0REVERSE10").await.is_empty());
    assert_eq!(env.owns("i-0web1").await, 0);

    // Terminated again (EventBridge delivers at least once): no item, no-op.
    let s = env
        .send("i-0web1", Terminated, "2026-11-21T12:00:00Z")
        .await;
    assert_eq!(s.outcome, Outcome::NothingToDo, "{s:?}");
}

async fn takeover<E, D, R>(env: &Env<E, D, R>)
where
    E: Instances + Sync,
    D: Dns + ZoneDump + Sync,
    R: Registry + Sync,
{
    let foreign = [
        "db.corp.example. A 300 10.1.9.9",
        "ldap.corp.example. CNAME 300 dc1.corp.example.",
    ];
    let s = env.send("i-0rogue", Running, "2026-11-21T10:00:00Z").await;
    assert_eq!(s.outcome, Outcome::Conflict, "[{}] {s:?}", env.backend);
    let mut conflicted: Vec<&str> = s.conflicts.iter().map(|c| c.name.as_str()).collect();
    conflicted.sort();
    assert_eq!(
        conflicted,
        ["db.corp.example.", "ldap.corp.example."],
        "{s:?}"
    );
    // The alias that is free still goes in, pointing at the AWS name since
    // the host name was taken; no PTR for a host name it does not own.
    let mut want: Vec<String> = foreign.iter().map(|s| s.to_string()).collect();
    want.push("tools.corp.example. CNAME 60 ip-10-1-2-66.ec2.internal.".into());
    want.sort();
    assert_eq!(
        env.zone_lines("Z0CORPPRIVATE").await,
        want,
        "[{}]",
        env.backend
    );
    assert!(env.zone_lines("Z0REVERSE10").await.is_empty());

    let s = env
        .send("i-0rogue", Terminated, "2026-11-21T11:00:00Z")
        .await;
    assert_eq!(s.changes.len(), 1, "{s:?}");
    assert_eq!(
        env.zone_lines("Z0CORPPRIVATE").await,
        foreign,
        "foreign records untouched"
    );
}

async fn changed_since_written<E, D, R>(env: &Env<E, D, R>)
where
    Env<E, D, R>: common::Hand,
    E: Instances + Sync,
    D: Dns + ZoneDump + Sync,
    R: Registry + Sync,
{
    for id in ["i-0runner1", "i-0runner2"] {
        let s = env.send(id, Running, "2026-11-21T10:00:00Z").await;
        assert_eq!(s.outcome, Outcome::Applied, "[{}] {s:?}", env.backend);
    }
    assert_eq!(
        env.zone_lines("Z0BUILD").await,
        [
            "cache.build.internal.example. CNAME 60 ip-10-20-1-12.build.internal.example.",
            "ip-10-20-1-11.build.internal.example. A 60 10.20.1.11",
            "ip-10-20-1-12.build.internal.example. A 60 10.20.1.12",
        ]
    );
    // Someone repoints runner-1's name by hand.
    let zone = env.zone("Z0BUILD");
    let theirs = RecordSet::new(
        "ip-10-20-1-11.build.internal.example.",
        RecordType::A,
        60,
        vec!["10.20.1.99".into()],
    );
    env.registrar
        .dns
        .apply(&ZoneChanges {
            zone_id: zone.as_str().into(),
            zone_name: "build.internal.example.".into(),
            changes: vec![Change {
                action: ChangeAction::Upsert,
                record: theirs,
            }],
        })
        .await
        .unwrap();
    let s = env.act("i-0runner1", Stopped, "2026-11-21T11:00:00Z").await;
    assert_eq!(s.changes.len(), 1, "only the PTR goes: {s:?}");
    assert_eq!(s.changes[0].record.rtype, RecordType::Ptr);
    assert!(s.notes.iter().any(|n| n.contains("ip-10-20-1-11")), "{s:?}");
    let lines = env.zone_lines("Z0BUILD").await;
    assert!(
        lines.contains(&"ip-10-20-1-11.build.internal.example. A 60 10.20.1.99".to_string()),
        "{lines:?}"
    );
    assert_eq!(
        env.zone_lines("Z0REV20").await,
        ["12.1.20.10.in-addr.arpa. PTR 60 ip-10-20-1-12.build.internal.example."]
    );
    assert_eq!(env.owns("i-0runner1").await, 0);
    assert_eq!(env.owns("i-0runner2").await, 3);
}

on_memory_and_moto!(
    split_horizon_launch_duplicate_late_stop_terminate,
    "fixtures/worlds/split-horizon.json",
    split_horizon
);
on_memory_and_moto!(
    tag_takeover_is_refused,
    "fixtures/worlds/takeover.json",
    takeover
);
on_memory_and_moto!(
    record_changed_by_someone_is_left_alone,
    "fixtures/worlds/private-dhcp.json",
    changed_since_written
);
