//! Ownership under failure, each case on the in-memory account and on moto
//! (the strict launcher, with its fault control endpoint): a record someone
//! else holds is never deleted, our own records are never orphaned, and a
//! registry item ec2-ddns did not write never wedges an instance.
//!
//! To make an invocation fail, every change attempt must fail: within one
//! invocation a change that certainly did not apply is tried again (up to
//! `ROUNDS` plans, crates/core/src/registrar/), so more faults than that are queued and
//! whatever is left is cleared afterwards.

mod common;

use common::faults::{ChangeFault, Faults};
use common::{Env, ZoneDump};
use ec2_ddns::model::InstanceState::{Running, Terminated};
use ec2_ddns::model::{DnsName, OwnedRecord, RecordSet, RecordType, RegistryItem};
use ec2_ddns::plan::{Change, ChangeAction, ConflictKind, ZoneChanges};
use ec2_ddns::ports::{Dns, Instances, Registry};
use ec2_ddns::sim::memory::Slot;
use ec2_ddns::summary::{Outcome, Summary};

/// More failed change calls than one invocation makes.
const EVERY_ATTEMPT: [ChangeFault; 8] = [ChangeFault::Before; 8];

/// Every record of a registry item as `zone-world-id name TYPE ttl values`,
/// sorted, with the backend's zone ids mapped back to the world's.
fn listed<E, D, R>(env: &Env<E, D, R>, records: &[OwnedRecord]) -> Vec<String> {
    let mut lines: Vec<String> = records
        .iter()
        .map(|o| {
            let zone = env
                .zones
                .iter()
                .find(|(_, real)| o.zone_id == **real)
                .map(|(world, _)| world.clone())
                .unwrap_or_else(|| o.zone_id.to_string());
            format!("{zone} {}", o.record)
        })
        .collect();
    lines.sort();
    lines
}

fn conflicts(s: &Summary) -> Vec<String> {
    let mut c: Vec<String> = s
        .conflicts
        .iter()
        .map(|c| format!("{} {}", c.name, c.rtype))
        .collect();
    c.sort();
    c
}

/// Two VPCs with the same CIDR share the private and the reverse zone; A and
/// B both have 10.1.2.4. B's first attempt fails without writing anything;
/// A then registers the name and the PTR. B's retried event must see them as
/// A's (conflicts, no writes), and B's terminate must leave them alone.
async fn foreign_record_is_never_deleted<E, D, R, F>(env: &Env<E, D, R>, faults: &F)
where
    E: Instances + Sync,
    D: Dns + ZoneDump + Sync,
    R: Registry + Sync,
    F: Faults,
{
    let backend = env.backend;
    let private_before = env.zone_lines("Z0CORPPRIVATE").await;
    assert_eq!(private_before, ["db.corp.example. A 300 10.1.9.9"]);

    // B's running: every change attempt answers 500 before committing.
    faults.credit("i-0hostb");
    faults.fail_changes(&EVERY_ATTEMPT).await;
    env.change_calls();
    let err = env
        .try_send("i-0hostb", Running, "2026-11-21T10:00:00Z")
        .await
        .expect_err("every change attempt failed: the invocation fails");
    faults.clear_faults().await;
    assert!(err.is_retryable(), "[{backend}] {err}");
    let attempts = env.change_calls();
    assert!(
        attempts >= 2,
        "[{backend}] a change that certainly did not apply is tried again: {attempts} attempts"
    );
    assert_eq!(env.zone_lines("Z0CORPPRIVATE").await, private_before);
    assert!(env.zone_lines("Z0REVERSE10").await.is_empty());
    if let Some(item) = env.item("i-0hostb").await {
        assert!(
            item.records.is_empty() && item.pending.is_empty(),
            "[{backend}] B proved nothing and nothing of it can be in the zones: {item:?}"
        );
    }

    // A registers the shared name and the PTR: they are A's.
    faults.credit("i-0hosta");
    let s = env.send("i-0hosta", Running, "2026-11-21T10:00:05Z").await;
    assert_eq!(s.outcome, Outcome::Applied, "[{backend}] {s:?}");
    assert_eq!(s.changes.len(), 2, "[{backend}] {s:?}");
    let private_a = vec![
        "db.corp.example. A 300 10.1.9.9".to_string(),
        "ip-10-1-2-4.corp.example. A 60 10.1.2.4".to_string(),
    ];
    let reverse_a = vec!["4.2.1.10.in-addr.arpa. PTR 60 ip-10-1-2-4.corp.example.".to_string()];
    assert_eq!(
        env.zone_lines("Z0CORPPRIVATE").await,
        private_a,
        "[{backend}]"
    );
    assert_eq!(
        env.zone_lines("Z0REVERSE10").await,
        reverse_a,
        "[{backend}]"
    );
    assert_eq!(env.owns("i-0hosta").await, 2, "[{backend}]");

    // Lambda retries B's event: the same records are A's, so B conflicts.
    faults.credit("i-0hostb");
    env.change_calls();
    let s = env.send("i-0hostb", Running, "2026-11-21T10:00:00Z").await;
    assert_eq!(s.outcome, Outcome::Conflict, "[{backend}] {s:?}");
    // The host A is a conflict. The PTR is either one too or, as
    // docs/records.md has it ("written only if the private host A is this
    // instance's"), not wanted at all once the host A is someone else's.
    let c = conflicts(&s);
    assert!(
        c.contains(&"ip-10-1-2-4.corp.example. A".to_string())
            && c.iter().all(
                |c| ["ip-10-1-2-4.corp.example. A", "4.2.1.10.in-addr.arpa. PTR"]
                    .contains(&c.as_str())
            ),
        "[{backend}] {s:?}"
    );
    // B may have sent a CREATE that Route 53 refused (a plan is made without
    // reading first); what counts is that nothing was written.
    assert!(s.changes.is_empty(), "[{backend}] B wrote nothing: {s:?}");
    env.change_calls();
    assert_eq!(
        env.zone_lines("Z0CORPPRIVATE").await,
        private_a,
        "[{backend}]"
    );
    assert_eq!(
        env.zone_lines("Z0REVERSE10").await,
        reverse_a,
        "[{backend}]"
    );
    assert_eq!(env.owns("i-0hostb").await, 0, "[{backend}]");

    // B terminates: A's records stay, unchanged, and still A's.
    let s = env
        .send("i-0hostb", Terminated, "2026-11-21T10:05:00Z")
        .await;
    assert_ne!(s.outcome, Outcome::Error, "[{backend}] {s:?}");
    assert!(s.changes.is_empty(), "[{backend}] {s:?}");
    assert_eq!(env.change_calls(), 0, "[{backend}] B deleted nothing");
    assert_eq!(
        env.zone_lines("Z0CORPPRIVATE").await,
        private_a,
        "[{backend}]"
    );
    assert_eq!(
        env.zone_lines("Z0REVERSE10").await,
        reverse_a,
        "[{backend}]"
    );
    assert_eq!(env.owns("i-0hosta").await, 2, "[{backend}]");
    assert_eq!(env.owns("i-0hostb").await, 0, "[{backend}]");
    let a = env.item("i-0hosta").await.expect("A's item");
    assert_eq!(
        listed(env, &a.records),
        [
            "Z0CORPPRIVATE ip-10-1-2-4.corp.example. A 60 10.1.2.4",
            "Z0REVERSE10 4.2.1.10.in-addr.arpa. PTR 60 ip-10-1-2-4.corp.example.",
        ],
        "[{backend}]"
    );
    if let Some(authors) = faults.authors() {
        let slot = |zone: &str, name: &str, rtype: &str| {
            Slot::new(&env.zone(zone), name, RecordType::from(rtype.to_string()))
        };
        assert_eq!(
            authors
                .get(&slot("Z0CORPPRIVATE", "ip-10-1-2-4.corp.example.", "A"))
                .map(String::as_str),
            Some("i-0hosta"),
            "{authors:?}"
        );
        assert_eq!(
            authors
                .get(&slot("Z0REVERSE10", "4.2.1.10.in-addr.arpa.", "PTR"))
                .map(String::as_str),
            Some("i-0hosta"),
            "{authors:?}"
        );
        assert!(
            !authors.values().any(|w| w == "i-0hostb"),
            "B wrote nothing that is still there: {authors:?}"
        );
    }
}

/// web-1 (tag CNAME=api.corp.example) registers; the zones as they were
/// before it, and as its first registration left them.
async fn register_web1<E, D, R>(env: &Env<E, D, R>) -> (Vec<String>, Vec<String>, RegistryItem)
where
    E: Instances + Sync,
    D: Dns + ZoneDump + Sync,
    R: Registry + Sync,
{
    let backend = env.backend;
    let before = [
        env.zone_lines("Z0CORPPRIVATE").await,
        env.zone_lines("Z0REVERSE10").await,
    ]
    .concat();
    assert_eq!(before, ["db.corp.example. A 300 10.1.9.9"], "[{backend}]");
    let s = env.send("i-0web1", Running, "2026-11-21T10:00:00Z").await;
    assert_eq!(s.outcome, Outcome::Applied, "[{backend}] {s:?}");
    let registered = [
        env.zone_lines("Z0CORPPRIVATE").await,
        env.zone_lines("Z0REVERSE10").await,
    ]
    .concat();
    assert_eq!(
        registered,
        [
            "api.corp.example. CNAME 60 ip-10-1-2-4.corp.example.",
            "db.corp.example. A 300 10.1.9.9",
            "ip-10-1-2-4.corp.example. A 60 10.1.2.4",
            "4.2.1.10.in-addr.arpa. PTR 60 ip-10-1-2-4.corp.example.",
        ],
        "[{backend}]"
    );
    let item = env.item("i-0web1").await.expect("item");
    assert_eq!(
        listed(env, &item.records),
        [
            "Z0CORPPRIVATE api.corp.example. CNAME 60 ip-10-1-2-4.corp.example.",
            "Z0CORPPRIVATE ip-10-1-2-4.corp.example. A 60 10.1.2.4",
            "Z0REVERSE10 4.2.1.10.in-addr.arpa. PTR 60 ip-10-1-2-4.corp.example.",
        ],
        "[{backend}]"
    );
    assert!(item.pending.is_empty(), "[{backend}] {item:?}");
    (before, registered, item)
}

async fn all_zones<E, D, R>(env: &Env<E, D, R>) -> Vec<String>
where
    E: Instances + Sync,
    D: Dns + ZoneDump + Sync,
    R: Registry + Sync,
{
    [
        env.zone_lines("Z0CORPPRIVATE").await,
        env.zone_lines("Z0REVERSE10").await,
    ]
    .concat()
}

/// web-1's terminate only deletes, leaves the zones as they were before
/// web-1 registered, and removes its item.
async fn terminate_restores_the_zones<E, D, R>(env: &Env<E, D, R>, before: &[String])
where
    E: Instances + Sync,
    D: Dns + ZoneDump + Sync,
    R: Registry + Sync,
{
    let backend = env.backend;
    let s = env
        .send("i-0web1", Terminated, "2026-11-21T12:00:00Z")
        .await;
    assert_eq!(s.outcome, Outcome::Applied, "[{backend}] {s:?}");
    assert!(
        s.changes.iter().all(|c| c.action == ChangeAction::Delete),
        "[{backend}] {s:?}"
    );
    assert_eq!(
        all_zones(env).await,
        before,
        "[{backend}] terminate leaves the zones as they were before web-1"
    );
    assert!(env.item("i-0web1").await.is_none(), "[{backend}]");
}

/// A rename (HOSTNAME=web) whose every change attempt fails leaves the old
/// records owned, so terminate still removes every one of them.
async fn own_records_are_never_orphaned<E, D, R, F>(env: &Env<E, D, R>, faults: &F)
where
    E: Instances + Sync,
    D: Dns + ZoneDump + Sync,
    R: Registry + Sync,
    F: Faults,
{
    let backend = env.backend;
    let (before, registered, item) = register_web1(env).await;

    faults
        .set_tag(&env.instance("i-0web1"), "HOSTNAME", "web")
        .await;
    faults.fail_changes(&EVERY_ATTEMPT).await;
    env.change_calls();
    let err = env
        .try_send("i-0web1", Running, "2026-11-21T11:00:00Z")
        .await
        .expect_err("every change attempt failed: the invocation fails");
    faults.clear_faults().await;
    assert!(err.is_retryable(), "[{backend}] {err}");
    assert!(env.change_calls() >= 2, "[{backend}] tried again");
    assert_eq!(
        all_zones(env).await,
        registered,
        "[{backend}] nothing applied"
    );
    let after = env.item("i-0web1").await.expect("item");
    assert_eq!(
        listed(env, &after.records),
        listed(env, &item.records),
        "[{backend}] the old records are still owned: {after:?}"
    );
    assert!(
        after.pending.is_empty(),
        "[{backend}] nothing is left pending: every attempt was proven not applied: {after:?}"
    );

    terminate_restores_the_zones(env, &before).await;
}

/// Tags web-1 `HOSTNAME=web` and sends its `running` with the first change
/// call of each zone meeting `fault`.
async fn rename_to_web<E, D, R, F>(
    env: &Env<E, D, R>,
    faults: &F,
    fault: ChangeFault,
) -> ec2_ddns::Result<Summary>
where
    E: Instances + Sync,
    D: Dns + ZoneDump + Sync,
    R: Registry + Sync,
    F: Faults,
{
    faults
        .set_tag(&env.instance("i-0web1"), "HOSTNAME", "web")
        .await;
    faults.fail_changes(&[fault, fault]).await;
    let sent = env
        .try_send("i-0web1", Running, "2026-11-21T11:00:00Z")
        .await;
    faults.clear_faults().await;
    sent
}

/// The rename's first change call commits and its answer is lost. The read
/// after it shows our old records gone and the new ones there, which is
/// also what a person deleting our records and someone else writing equal
/// ones would show (found by the concurrent property test, seed 0xf): so
/// nothing new is claimed. The invocation fails retryably with the new
/// records listed pending; the retry reports them as unsettled conflicts
/// and deletes none of them; terminate leaves them, named in its notes, for
/// a person to delete: a stale record, never someone else's lost.
async fn lost_answer_is_never_taken_for_proof<E, D, R, F>(env: &Env<E, D, R>, faults: &F)
where
    E: Instances + Sync,
    D: Dns + ZoneDump + Sync,
    R: Registry + Sync,
    F: Faults,
{
    let backend = env.backend;
    register_web1(env).await;

    // Both zones' calls commit and lose their answers (the order of the
    // zones is the backend's).
    let first = rename_to_web(env, faults, ChangeFault::After).await;
    let err = first.expect_err("a lost answer no read can settle fails the invocation");
    assert!(err.is_retryable(), "[{backend}] {err}");
    let renamed = vec![
        "api.corp.example. CNAME 60 web.corp.example.".to_string(),
        "db.corp.example. A 300 10.1.9.9".to_string(),
        "web.corp.example. A 60 10.1.2.4".to_string(),
        "4.2.1.10.in-addr.arpa. PTR 60 web.corp.example.".to_string(),
    ];
    assert_eq!(
        all_zones(env).await,
        renamed,
        "[{backend}] the rename went in"
    );
    let item = env.item("i-0web1").await.expect("item");
    let owned = listed(env, &item.records);
    assert!(
        owned.is_empty(),
        "[{backend}] nothing is claimed: {owned:?}"
    );
    let pending = listed(env, &item.pending);
    for new in [
        "Z0CORPPRIVATE api.corp.example. CNAME 60 web.corp.example.",
        "Z0CORPPRIVATE web.corp.example. A 60 10.1.2.4",
    ] {
        assert!(
            pending.iter().any(|p| p == new),
            "[{backend}] {new} stays listed pending: {pending:?}"
        );
    }

    let retry = env.send("i-0web1", Running, "2026-11-21T11:00:00Z").await;
    let unsettled: Vec<String> = retry
        .conflicts
        .iter()
        .filter(|c| c.kind == ConflictKind::Unsettled)
        .map(|c| format!("{} {}", c.name, c.rtype))
        .collect();
    assert!(
        unsettled.iter().any(|u| u == "web.corp.example. A"),
        "[{backend}] {retry:?}"
    );
    assert!(
        retry
            .changes
            .iter()
            .all(|c| c.record.name.as_str() != "web.corp.example."
                && c.record.name.as_str() != "api.corp.example."),
        "[{backend}] nothing unproven is touched: {retry:?}"
    );

    let end = env
        .send("i-0web1", Terminated, "2026-11-21T12:00:00Z")
        .await;
    let zones = all_zones(env).await;
    for stale in [
        "api.corp.example. CNAME 60 web.corp.example.",
        "web.corp.example. A 60 10.1.2.4",
    ] {
        assert!(
            zones.iter().any(|z| z == stale),
            "[{backend}] terminate leaves {stale}: {zones:?}"
        );
        let name = stale.split(' ').next().unwrap_or_default();
        assert!(
            end.notes
                .iter()
                .any(|n| n.starts_with(name) && n.contains("delete it by hand")),
            "[{backend}] terminate names {name} for a person: {:?}",
            end.notes
        );
    }
}

/// Bug 11 (the concurrent property test, seed 0xf): a person deletes web-1's
/// PTR, someone else writes the PTR web-1's rename is about to write, and
/// the rename's change call answers 500 before it commits. Route 53 would
/// have refused the batch (its DELETE finds nothing), but the 500 hides
/// that, and the read after it shows what our swap would have left: our old
/// PTR gone, the new one there. The PTR is someone else's: it must not be
/// claimed, and terminate must leave it.
async fn refused_swap_behind_a_lost_answer_claims_nothing<E, D, R, F>(
    env: &Env<E, D, R>,
    faults: &F,
) where
    E: Instances + Sync,
    D: Dns + ZoneDump + Sync,
    R: Registry + Sync,
    F: Faults,
{
    let backend = env.backend;
    register_web1(env).await;
    let reverse = env.zone("Z0REVERSE10");
    let ptr = |target: &str| {
        RecordSet::new(
            "4.2.1.10.in-addr.arpa.",
            RecordType::Ptr,
            60,
            vec![target.into()],
        )
    };
    let someone = |action, record| ZoneChanges {
        zone_id: reverse.as_str().into(),
        zone_name: DnsName::default(),
        changes: vec![Change { action, record }],
    };
    faults.credit("person");
    env.registrar
        .dns
        .apply(&someone(
            ChangeAction::Delete,
            ptr("ip-10-1-2-4.corp.example."),
        ))
        .await
        .expect("a person deletes web-1's PTR");
    faults.credit("foreign");
    let theirs = ptr("web.corp.example.");
    env.registrar
        .dns
        .apply(&someone(ChangeAction::Create, theirs.clone()))
        .await
        .expect("someone else writes the PTR the rename will want");
    faults.credit("i-0web1");

    // Both zones' first calls fail before they commit (the order of the
    // zones is the backend's); the private zone's is proven not applied and
    // tried again.
    let s = rename_to_web(env, faults, ChangeFault::Before).await;
    let theirs_line = "4.2.1.10.in-addr.arpa. PTR 60 web.corp.example.".to_string();
    let claims = |item: &RegistryItem| item.records.iter().any(|o| o.record == theirs);
    let item = env.item("i-0web1").await.expect("item");
    assert!(
        !claims(&item),
        "[{backend}] {s:?} claims their PTR: {item:?}"
    );
    if let Some(authors) = faults.authors() {
        let slot = Slot::of(&reverse.as_str().into(), &theirs);
        assert_eq!(authors.get(&slot).map(String::as_str), Some("foreign"));
    }

    let end = env
        .send("i-0web1", Terminated, "2026-11-21T12:00:00Z")
        .await;
    assert!(
        env.zone_lines("Z0REVERSE10").await.contains(&theirs_line),
        "[{backend}] terminate left their PTR: {end:?}"
    );
}

/// Items the Python aws-lambda-ddns-function left (`InstanceAttributes`, no
/// `Version`): running takes legacy-1's over, a terminate of legacy-2 (whose
/// item is all it has) just removes the item.
async fn legacy_item_never_wedges<E, D, R, F>(env: &Env<E, D, R>, _faults: &F)
where
    E: Instances + Sync,
    D: Dns + ZoneDump + Sync,
    R: Registry + Sync,
    F: Faults,
{
    let backend = env.backend;
    let before = all_zones(env).await;
    assert_eq!(
        before,
        [
            "db.corp.example. A 300 10.1.9.9",
            "ip-10-1-2-5.corp.example. A 300 10.1.2.5",
            "5.2.1.10.in-addr.arpa. PTR 300 ip-10-1-2-5.corp.example.",
        ],
        "[{backend}]"
    );
    for id in ["i-0legacy1", "i-0legacy2"] {
        let item = env.item(id).await.expect("the legacy item");
        let found = item.replaces.as_ref().expect("read as foreign");
        assert!(
            found.attributes.contains_key("InstanceAttributes"),
            "[{backend}] {found:?}"
        );
        assert_eq!(
            (item.version, item.records.len()),
            (0, 0),
            "[{backend}] a foreign item owns nothing"
        );
    }

    let s = env
        .try_send("i-0legacy1", Running, "2026-11-21T10:00:00Z")
        .await
        .unwrap_or_else(|e| panic!("[{backend}] a legacy item must not wedge running: {e}"));
    assert_eq!(s.outcome, Outcome::Applied, "[{backend}] {s:?}");
    assert!(
        s.notes.iter().any(|n| n.contains("InstanceAttributes")),
        "[{backend}] the note names the foreign attributes: {s:?}"
    );
    let registered = vec![
        "db.corp.example. A 300 10.1.9.9".to_string(),
        "ip-10-1-2-4.corp.example. A 60 10.1.2.4".to_string(),
        "ip-10-1-2-5.corp.example. A 300 10.1.2.5".to_string(),
        "4.2.1.10.in-addr.arpa. PTR 60 ip-10-1-2-4.corp.example.".to_string(),
        "5.2.1.10.in-addr.arpa. PTR 300 ip-10-1-2-5.corp.example.".to_string(),
    ];
    assert_eq!(all_zones(env).await, registered, "[{backend}]");
    let item = env.item("i-0legacy1").await.expect("item");
    assert!(item.replaces.is_none(), "[{backend}] now ours: {item:?}");
    assert!(item.version >= 1, "[{backend}] {item:?}");
    assert_eq!(
        listed(env, &item.records),
        [
            "Z0CORPPRIVATE ip-10-1-2-4.corp.example. A 60 10.1.2.4",
            "Z0REVERSE10 4.2.1.10.in-addr.arpa. PTR 60 ip-10-1-2-4.corp.example.",
        ],
        "[{backend}] {item:?}"
    );

    // legacy-2 only terminates: its item goes, nothing else is touched (not
    // the records the Python function may have written for it, not
    // legacy-1's item).
    env.change_calls();
    let s = env
        .try_send("i-0legacy2", Terminated, "2026-11-21T10:30:00Z")
        .await
        .unwrap_or_else(|e| panic!("[{backend}] a legacy item must not wedge terminate: {e}"));
    assert_ne!(s.outcome, Outcome::Error, "[{backend}] {s:?}");
    assert!(s.changes.is_empty(), "[{backend}] {s:?}");
    assert!(
        s.notes.iter().any(|n| n.contains("InstanceAttributes")),
        "[{backend}] {s:?}"
    );
    assert_eq!(env.change_calls(), 0, "[{backend}] no change call");
    assert!(env.item("i-0legacy2").await.is_none(), "[{backend}]");
    assert_eq!(all_zones(env).await, registered, "[{backend}]");
    assert_eq!(
        env.item("i-0legacy1").await.as_ref(),
        Some(&item),
        "[{backend}]"
    );

    let s = env
        .send("i-0legacy1", Terminated, "2026-11-21T11:00:00Z")
        .await;
    assert_eq!(s.outcome, Outcome::Applied, "[{backend}] {s:?}");
    assert_eq!(s.changes.len(), 2, "[{backend}] {s:?}");
    assert!(
        s.changes.iter().all(|c| c.action == ChangeAction::Delete
            && matches!(c.record.rtype, RecordType::A | RecordType::Ptr)),
        "[{backend}] {s:?}"
    );
    assert_eq!(all_zones(env).await, before, "[{backend}]");
    assert!(env.item("i-0legacy1").await.is_none(), "[{backend}]");
}

/// The cases, named so that `./scripts/test ownership_faults` picks them.
mod ownership_faults {
    use super::*;

    with_faults_on_memory_and_moto!(
        a_foreign_record_is_never_deleted,
        "fixtures/worlds/shared-cidr.json",
        foreign_record_is_never_deleted
    );
    with_faults_on_memory_and_moto!(
        own_records_survive_a_failed_rename,
        "fixtures/worlds/private-alias.json",
        own_records_are_never_orphaned
    );
    with_faults_on_memory_and_moto!(
        a_lost_answer_on_a_rename_claims_nothing,
        "fixtures/worlds/private-alias.json",
        lost_answer_is_never_taken_for_proof
    );
    with_faults_on_memory_and_moto!(
        bug_11_a_refused_swap_behind_a_lost_answer_claims_nothing,
        "fixtures/worlds/private-alias.json",
        refused_swap_behind_a_lost_answer_claims_nothing
    );
    with_faults_on_memory_and_moto!(
        a_legacy_item_never_wedges_an_instance,
        "fixtures/worlds/legacy-registry.json",
        legacy_item_never_wedges
    );
}
