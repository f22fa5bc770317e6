//! Buffered mode on the in-memory account (strict, and counting every
//! call): a batch of events converged together. Every record lands, the
//! calls are those of one instance (one describe, one registry read, two
//! registry transactions, one change per zone per 1,000 values), a
//! refused change sets aside only its own instance, and no fault (a crash
//! at any call, a deadline passed, a transaction refused) leaves a record
//! half-owned or touches someone else's.

mod common;

use common::state_change;
use ec2_ddns::event::InstanceEvent;
use ec2_ddns::model::{InstanceState, RecordSet, RecordType};
use ec2_ddns::sim::fleet;
use ec2_ddns::sim::memory::{Fault, MemoryAccount};
use ec2_ddns::sim::world::World;
use ec2_ddns::summary::{Outcome, Summary};
use ec2_ddns::Config;
use std::collections::BTreeMap;
use std::time::Duration;

/// `n` instances in one VPC, each with an alias `svc-N.fleet.example`;
/// someone else's CNAME holds `svc-7`.
fn fleet(n: usize) -> World {
    let mut world = fleet::world(n);
    world.zones[0].records.push(RecordSet::new(
        "svc-7.fleet.example.",
        RecordType::Cname,
        300,
        vec!["elsewhere.example.".into()],
    ));
    world
}

fn events(n: usize, state: InstanceState, time: &str) -> Vec<InstanceEvent> {
    (0..n)
        .map(|k| state_change(&format!("i-{k:05}"), state, time))
        .collect()
}

fn account(n: usize) -> MemoryAccount {
    let account = MemoryAccount::new(fleet(n));
    account.set_writer("ec2-ddns");
    account
}

fn registrar(
    account: &MemoryAccount,
) -> ec2_ddns::registrar::Registrar<MemoryAccount, MemoryAccount, MemoryAccount> {
    account
        .registrar(Config::default())
        .with_backoff(Duration::from_millis(1))
}

async fn run(account: &MemoryAccount, events: &[InstanceEvent]) -> Vec<Summary> {
    let refs: Vec<&InstanceEvent> = events.iter().collect();
    registrar(account).handle_many(&refs, None).await
}

/// The invariants after anything: someone else's record is as it was, and
/// every record ec2-ddns wrote is listed by exactly one item (owned or
/// pending), so it is never lost and never claimed twice.
fn check_invariants(account: &MemoryAccount) {
    let zones = account.zone_records();
    let held = zones["ZFLEET"]
        .iter()
        .find(|r| r.name == "svc-7.fleet.example.")
        .expect("someone else's CNAME is still there");
    assert_eq!(held.values(), ["elsewhere.example."]);
    let authors = account.authors();
    let items = account.registry_items();
    for (zone_id, records) in &zones {
        for r in records {
            let slot = ec2_ddns::sim::memory::Slot::of(zone_id, r);
            if authors.get(&slot).map(String::as_str) != Some("ec2-ddns") {
                continue;
            }
            let listing: Vec<&String> = items
                .iter()
                .filter(|(_, i)| {
                    i.records
                        .iter()
                        .chain(&i.pending)
                        .any(|o| &o.zone_id == zone_id && o.record == *r)
                })
                .map(|(id, _)| id)
                .collect();
            assert_eq!(
                listing.len(),
                1,
                "{r} in {zone_id} is listed by {listing:?}: lost or claimed twice"
            );
        }
    }
}

fn outcomes(summaries: &[Summary]) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::new();
    for s in summaries {
        *counts.entry(s.outcome.as_str()).or_default() += 1;
    }
    counts
}

#[tokio::test]
async fn a_batch_of_a_hundred_launches_lands_with_one_change_per_zone() {
    let account = account(100);
    let summaries = run(
        &account,
        &events(100, InstanceState::Running, "2026-11-21T11:00:00Z"),
    )
    .await;
    let calls = account.calls.take();
    println!("100 launches in one batch: {calls:?}");
    assert_eq!(
        outcomes(&summaries),
        BTreeMap::from([("applied", 99), ("conflict", 1)]),
        "svc-7's alias is someone else's"
    );
    let zones = account.zone_records();
    assert_eq!(zones["ZFLEET"].len(), 100 + 99 + 1, "A, CNAME, theirs");
    assert_eq!(zones["ZREV40"].len(), 100);
    assert_eq!(calls["ec2:DescribeInstances"], 1);
    assert_eq!(calls["dynamodb:BatchGetItem"], 1);
    assert_eq!(
        calls["dynamodb:TransactWriteItems"], 2,
        "written ahead, then finished"
    );
    // The forward zone's merged batch is refused (svc-7), then halves go
    // on their own down to i-00007: 8 refused and 7 applied calls instead
    // of one per instance; the reverse zone takes one at the same time
    // (i-00007's PTR in it), and i-00007 converges on its own: its A, its
    // alias now read held.
    assert_eq!(
        calls["route53:ChangeResourceRecordSets"],
        8 + 7 + 1 + 1,
        "{calls:?}"
    );
    assert!(!calls.contains_key("dynamodb:GetItem"));
    check_invariants(&account);

    // The same batch again: nothing to do, no change, no write.
    let again = run(
        &account,
        &events(100, InstanceState::Running, "2026-11-21T11:00:01Z"),
    )
    .await;
    assert!(again.iter().all(|s| s.changes.is_empty()));
    assert_eq!(
        outcomes(&again),
        BTreeMap::from([("conflict", 1), ("nothing-to-do", 99)])
    );

    account.calls.take();
    // All terminated: every record of ours deleted in one batch per zone,
    // every item removed.
    account.edit(|w| {
        w.instances
            .iter_mut()
            .for_each(|i| i.state = InstanceState::Terminated)
    });
    let gone = run(
        &account,
        &events(100, InstanceState::Terminated, "2026-11-21T12:00:00Z"),
    )
    .await;
    let calls = account.calls.take();
    println!("100 terminations in one batch: {calls:?}");
    assert_eq!(outcomes(&gone), BTreeMap::from([("applied", 100)]));
    assert_eq!(calls["route53:ChangeResourceRecordSets"], 2);
    assert!(
        !calls.contains_key("ec2:DescribeInstances"),
        "terminated is final"
    );
    assert_eq!(account.zone_records()["ZFLEET"].len(), 1, "theirs only");
    assert!(account.registry_items().is_empty());
    check_invariants(&account);
}

#[tokio::test]
async fn a_batch_of_a_hundred_launches_with_no_conflict_takes_one_change_per_zone() {
    let account = account(100);
    account.edit(|w| w.zones[0].records.clear());
    let summaries = run(
        &account,
        &events(100, InstanceState::Running, "2026-11-21T11:00:00Z"),
    )
    .await;
    let calls = account.calls.take();
    assert_eq!(outcomes(&summaries), BTreeMap::from([("applied", 100)]));
    assert_eq!(calls["route53:ChangeResourceRecordSets"], 2, "{calls:?}");
    let expected = fleet::expected_records(0..100, 60);
    let written: std::collections::BTreeSet<(String, String)> = account
        .zone_records()
        .into_iter()
        .flat_map(|(z, rs)| rs.into_iter().map(move |r| (z.to_string(), r.to_string())))
        .collect();
    assert_eq!(written, expected, "every record lands");
}

#[tokio::test]
async fn a_thousand_launches_take_three_change_calls() {
    let account = account(1000);
    // No alias held: remove theirs.
    account.edit(|w| w.zones[0].records.clear());
    let summaries = run(
        &account,
        &events(1000, InstanceState::Running, "2026-11-21T11:00:00Z"),
    )
    .await;
    let calls = account.calls.take();
    println!("1,000 launches in one batch: {calls:?}");
    assert_eq!(outcomes(&summaries), BTreeMap::from([("applied", 1000)]));
    // 2,000 values forward (two batches), 1,000 reverse (one).
    assert_eq!(calls["route53:ChangeResourceRecordSets"], 3);
    assert_eq!(calls["ec2:DescribeInstances"], 5, "200 ids a call");
    assert_eq!(calls["dynamodb:BatchGetItem"], 10, "100 keys a call");
    assert_eq!(calls["dynamodb:TransactWriteItems"], 20, "100 items a call");
    assert!(account
        .registry_items()
        .values()
        .all(|i| i.records.len() == 3 && i.pending.is_empty()));
}

#[tokio::test]
async fn a_passed_deadline_sends_nothing_and_leaves_nothing_claimed() {
    let account = account(20);
    let evs = events(20, InstanceState::Running, "2026-11-21T11:00:00Z");
    let refs: Vec<&InstanceEvent> = evs.iter().collect();
    let summaries = registrar(&account)
        .handle_many(&refs, Some(tokio::time::Instant::now()))
        .await;
    assert!(summaries
        .iter()
        .all(|s| s.outcome == Outcome::Error && s.retryable == Some(true)));
    assert!(summaries[0]
        .error
        .as_deref()
        .unwrap()
        .contains("time ran out"));
    assert!(!account
        .calls
        .take()
        .contains_key("route53:ChangeResourceRecordSets"));
    assert_eq!(account.zone_records()["ZFLEET"].len(), 1);
    assert!(account
        .registry_items()
        .values()
        .all(|i| i.records.is_empty() && i.pending.is_empty()));
    // The redelivered batch converges them.
    let again = run(&account, &evs).await;
    assert_eq!(
        outcomes(&again),
        BTreeMap::from([("applied", 19), ("conflict", 1)])
    );
    check_invariants(&account);
}

#[tokio::test]
async fn a_refused_transaction_falls_back_to_one_write_each() {
    let account = account(5);
    account.inject(
        "dynamodb:TransactWriteItems",
        Fault::InternalError { after_commit: true },
    );
    let summaries = run(
        &account,
        &events(5, InstanceState::Running, "2026-11-21T11:00:00Z"),
    )
    .await;
    let calls = account.calls.take();
    assert_eq!(
        outcomes(&summaries),
        BTreeMap::from([("applied", 5)]),
        "{summaries:#?}"
    );
    assert!(
        calls["dynamodb:PutItem"] >= 5,
        "each written alone: {calls:?}"
    );
    check_invariants(&account);
    assert!(account
        .registry_items()
        .values()
        .all(|i| i.pending.is_empty()));
}

/// A crash at every call of the batch in turn, then the batch delivered
/// again: it always converges, and the invariants hold after the crash
/// and after the redelivery.
#[tokio::test]
async fn a_crash_at_any_call_is_recovered_by_redelivery() {
    let evs = events(6, InstanceState::Running, "2026-11-21T11:00:00Z");
    let calls_in_a_clean_run = {
        let account = account(6);
        run(&account, &evs).await;
        account.calls.take().values().sum::<usize>() as u64
    };
    assert!(calls_in_a_clean_run > 5);
    let mut converged = 0;
    for at in 0..calls_in_a_clean_run {
        for after_commit in [false, true] {
            let account = account(6);
            account.inject_at(at, Fault::Crash { after_commit });
            let crashed = run(&account, &evs).await;
            assert!(
                crashed
                    .iter()
                    .all(|s| s.outcome != Outcome::Error || s.retryable == Some(true)),
                "a crash is retryable"
            );
            check_invariants(&account);
            account.revive();
            let again = run(&account, &evs).await;
            assert_eq!(
                outcomes(&again)
                    .iter()
                    .filter(|(k, _)| **k == "error")
                    .count(),
                0,
                "crash at call {at} (after commit: {after_commit}): {again:#?}"
            );
            check_invariants(&account);
            // A change that committed as the invocation died is never
            // proven ours: its records stay listed, unowned, and reported
            // (records.md, "unsettled"). Any other crash converges.
            let unproven = again.iter().flat_map(|s| &s.conflicts).count();
            if unproven > 0 {
                assert!(again
                    .iter()
                    .flat_map(|s| &s.conflicts)
                    .all(|c| c.reason.contains("never learned")
                        || c.reason.contains("held by someone else")));
                continue;
            }
            let zones = account.zone_records();
            assert_eq!(zones["ZFLEET"].len(), 6 + 6 + 1, "crash at call {at}");
            assert_eq!(zones["ZREV40"].len(), 6, "crash at call {at}");
            converged += 1;
        }
    }
    // Every crash before the first change call (9 calls: items, describe,
    // zones, VPC, write ahead) converges, before or after its commit.
    assert!(converged >= 18, "{converged} crash points converged");
}

#[tokio::test]
async fn throttling_is_waited_out_within_the_batch() {
    let account = account(10);
    for _ in 0..2 {
        account.inject("route53:ChangeResourceRecordSets", Fault::Throttling);
    }
    let summaries = run(
        &account,
        &events(10, InstanceState::Running, "2026-11-21T11:00:00Z"),
    )
    .await;
    assert_eq!(
        outcomes(&summaries),
        BTreeMap::from([("applied", 9), ("conflict", 1)])
    );
    check_invariants(&account);
}

/// converge.json: three instances want `svc.lab.example`. In one batch the
/// earliest launched gets it and the others are told it is held; a later
/// batch that terminates the winner and names the next claimant again
/// hands the name over in the same merged change. On both backends (moto
/// picks its own launch times, so the order is read back from EC2).
async fn claimants_in_one_batch<E, D, R>(env: &common::Env<E, D, R>)
where
    E: ec2_ddns::ports::Instances + Sync,
    D: ec2_ddns::ports::Dns + common::ZoneDump + Sync,
    R: ec2_ddns::ports::Registry + Sync,
    common::Env<E, D, R>: common::Hand,
{
    use common::Hand;
    let world_ids = ["i-0holder", "i-0aaa", "i-0zzz"];
    let mut by_launch = Vec::new();
    for w in world_ids {
        let facts = env
            .registrar
            .ec2
            .instance(&env.instance(w))
            .await
            .unwrap()
            .unwrap();
        by_launch.push((facts.launch_time, facts.instance_id, w));
    }
    by_launch.sort();
    let order: Vec<&str> = by_launch.iter().map(|c| c.2).collect();
    if env.backend == "memory" {
        assert_eq!(order, ["i-0zzz", "i-0aaa", "i-0holder"]);
    }
    let (first, second) = (order[0], order[1]);
    let host = |w: &str| match w {
        "i-0holder" => "ip-10-30-1-10",
        "i-0aaa" => "ip-10-30-1-20",
        _ => "ip-10-30-1-30",
    };

    let launches: Vec<InstanceEvent> = world_ids
        .iter()
        .map(|w| {
            state_change(
                &env.instance(w),
                InstanceState::Running,
                "2026-11-21T10:00:00Z",
            )
        })
        .collect();
    let refs: Vec<&InstanceEvent> = launches.iter().collect();
    env.calls.take();
    let summaries = env.registrar.handle_many(&refs, None).await;
    let calls = env.calls.take();
    println!("[{}] three launches in one batch: {calls:?}", env.backend);
    let outcome: BTreeMap<&str, Outcome> = world_ids
        .iter()
        .copied()
        .zip(summaries.iter().map(|s| s.outcome))
        .collect();
    assert_eq!(outcome[first], Outcome::Applied, "{summaries:#?}");
    assert_eq!(outcome[second], Outcome::Conflict, "{summaries:#?}");
    assert_eq!(outcome[order[2]], Outcome::Conflict, "{summaries:#?}");
    let svc = |w: &str| format!("svc.lab.example. CNAME 60 {}.lab.example.", host(w));
    assert!(env.zone_lines("Z0LAB").await.contains(&svc(first)));
    assert_eq!(env.zone_lines("Z0REV30").await.len(), 3);
    assert_eq!(calls.get("dynamodb:BatchGetItem"), Some(&1), "{calls:?}");
    assert_eq!(calls.get("ec2:DescribeInstances"), Some(&1), "{calls:?}");
    // svc is read first (three claimants touch it), so the plans agree and
    // one change per zone goes in: no refusal to bisect.
    assert_eq!(
        calls.get("route53:ChangeResourceRecordSets"),
        Some(&2),
        "{calls:?}"
    );
    assert_eq!(
        calls.get("dynamodb:TransactWriteItems"),
        Some(&2),
        "{calls:?}"
    );

    env.set_state(&env.instance(first), InstanceState::Terminated)
        .await;
    let handover = [
        state_change(
            &env.instance(first),
            InstanceState::Terminated,
            "2026-11-21T11:00:00Z",
        ),
        state_change(
            &env.instance(second),
            InstanceState::Running,
            "2026-11-21T11:00:00Z",
        ),
    ];
    let refs: Vec<&InstanceEvent> = handover.iter().collect();
    let summaries = env.registrar.handle_many(&refs, None).await;
    assert!(
        summaries.iter().all(|s| s.outcome == Outcome::Applied),
        "{summaries:#?}"
    );
    let lines = env.zone_lines("Z0LAB").await;
    assert!(lines.contains(&svc(second)), "{lines:#?}");
    assert!(!lines.iter().any(|l| l.contains(host(first))), "{lines:#?}");
    assert_eq!(env.owns(first).await, 0);
}

on_memory_and_moto!(
    claimants,
    "fixtures/worlds/converge.json",
    claimants_in_one_batch
);

/// EC2 as it answers for an instance in a state this version does not know:
/// listed, but unreadable.
struct OneUnreadable(MemoryAccount);

impl ec2_ddns::ports::Instances for OneUnreadable {
    async fn instance(
        &self,
        instance_id: &str,
    ) -> ec2_ddns::error::Result<Option<ec2_ddns::model::InstanceFacts>> {
        self.0.instance(instance_id).await
    }
    async fn vpc(
        &self,
        vpc_id: &str,
    ) -> ec2_ddns::error::Result<Option<ec2_ddns::model::VpcFacts>> {
        self.0.vpc(vpc_id).await
    }
    async fn all_instances(&self) -> ec2_ddns::error::Result<ec2_ddns::model::InstanceListing> {
        self.0.all_instances().await
    }
    async fn instances(
        &self,
        ids: &[String],
    ) -> ec2_ddns::error::Result<ec2_ddns::model::InstanceListing> {
        let mut listing = self.0.instances(ids).await?;
        listing.instances.retain(|i| i.instance_id != "i-00001");
        listing.unreadable.push(ec2_ddns::model::Unreadable {
            instance_id: Some("i-00001".into()),
            why: "instance i-00001: unknown instance state 'hibernating-ish'".into(),
        });
        Ok(listing)
    }
}

#[tokio::test]
async fn an_instance_ec2_cannot_read_fails_alone_and_keeps_its_records() {
    let account = account(3);
    run(
        &account,
        &events(3, InstanceState::Running, "2026-11-21T11:00:00Z"),
    )
    .await;
    let before = account.registry_items()["i-00001"].clone();
    let registrar = ec2_ddns::registrar::Registrar::new(
        OneUnreadable(account.clone()),
        account.clone(),
        account.clone(),
        Config::default(),
        "us-east-1",
    );
    let evs = events(3, InstanceState::Running, "2026-11-21T12:00:00Z");
    let refs: Vec<&InstanceEvent> = evs.iter().collect();
    let summaries = registrar.handle_many(&refs, None).await;
    assert_eq!(summaries[1].outcome, Outcome::Error, "{summaries:#?}");
    assert_eq!(summaries[1].retryable, Some(false));
    assert!(summaries[1]
        .error
        .as_deref()
        .unwrap()
        .contains("unknown instance state"));
    assert!(summaries[0].outcome != Outcome::Error && summaries[2].outcome != Outcome::Error);
    assert_eq!(
        account.registry_items()["i-00001"],
        before,
        "not deregistered"
    );
    check_invariants(&account);
}

/// The SQS batch Lambda delivers (fixtures/events/sqs-web-1-launch.json, in
/// the shape of aws_lambda_events' `SqsEvent`) through the handler: the
/// answer is `SqsBatchResponse`'s JSON, naming only the messages whose work
/// must be done again, by the ids SQS gave them.
#[tokio::test]
async fn the_handler_answers_an_sqs_batch_with_its_batch_item_failures() {
    use aws_lambda_events::sqs::SqsEvent;
    use ec2_ddns_lambda as lambda;
    use serde_json::json;
    let text = std::fs::read_to_string(common::repo("fixtures/events/sqs-web-1-launch.json"))
        .expect("fixture");
    let payload: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let typed: SqsEvent = serde_json::from_value(payload.clone()).expect("an SqsEvent");
    assert_eq!(typed.records.len(), 3);

    let path = common::repo("fixtures/worlds/split-horizon.json");
    let world = World::parse(
        &path.to_string_lossy(),
        &std::fs::read_to_string(&path).unwrap(),
    )
    .unwrap();
    let account = MemoryAccount::new(world);
    for _ in 0..20 {
        account.inject("route53:ChangeResourceRecordSets", Fault::Throttling);
    }
    let answer = lambda::handle(&account.registrar(Config::default()), payload.clone())
        .await
        .expect("a batch never fails");
    let ids: Vec<&str> = typed
        .records
        .iter()
        .map(|m| m.message_id.as_deref().unwrap())
        .collect();
    assert_eq!(
        answer,
        json!({"batchItemFailures": ids.iter().map(|id| json!({"itemIdentifier": id})).collect::<Vec<_>>()}),
        "throttled: each of web-1's messages is delivered again"
    );
    // The throttles not met (the zones' sends, at once, take them in the
    // order their waits end) are dropped: the delivery again meets none.
    account.revive();
    let answer = lambda::handle(&account.registrar(Config::default()), payload)
        .await
        .expect("a batch never fails");
    assert_eq!(answer, json!({"batchItemFailures": []}));
    assert_eq!(account.registry_items()["i-0web1"].records.len(), 5);
}
