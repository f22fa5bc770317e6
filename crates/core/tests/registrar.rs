//! The engine on the in-memory account: what one registrar does with events
//! whose facts or answers are unusual (moved out of the crate: the simulator
//! depends on core, so these can't be unit tests).

use ec2_ddns_core::event::{self, InstanceEvent};
use ec2_ddns_core::model::{self, InstanceState};
use ec2_ddns_core::summary::Outcome;
use ec2_ddns_core::Config;
use ec2_ddns_sim::memory::MemoryAccount;
use ec2_ddns_sim::world::World;

/// One private VPC with DHCP domain corp.example, its zone and reverse
/// zone, and one instance whose tags each test sets.
fn account(tags: serde_json::Value) -> MemoryAccount {
    let world = serde_json::json!({
        "vpcs": [{"id": "vpc-1", "cidr": "10.1.0.0/16", "dhcp_domain": "corp.example"}],
        "subnets": [{"id": "s-1", "vpc": "vpc-1", "cidr": "10.1.2.0/24"}],
        "zones": [
            {"id": "ZPRIV", "name": "corp.example.", "private": true, "vpcs": ["vpc-1"]},
            {"id": "ZREV", "name": "10.in-addr.arpa.", "private": true, "vpcs": ["vpc-1"]}
        ],
        "instances": [{"id": "i-1", "subnet": "s-1", "private_ip": "10.1.2.4", "tags": tags}]
    });
    MemoryAccount::new(World::parse("test world", &world.to_string()).expect("valid world"))
}

fn change(state: InstanceState, time: Option<&str>) -> InstanceEvent {
    let time = time.map(|t| model::parse_time(t).expect("time"));
    event::parse_instance(event::state_change_json(
        "e",
        "i-1",
        state,
        time,
        "us-east-1",
    ))
    .expect("event")
}

fn names(account: &MemoryAccount, zone: &str) -> Vec<String> {
    account.zone_records()[zone]
        .iter()
        .map(|r| r.to_string())
        .collect()
}

#[tokio::test]
async fn a_zone_tag_naming_aws_s_own_suffix_still_reads_the_dhcp_domain() {
    for suffix in ["ec2.internal", "us-east-1.compute.internal"] {
        let account = account(serde_json::json!({"ZONE": suffix}));
        let s = account
            .registrar(Config::default())
            .handle(&change(
                InstanceState::Running,
                Some("2026-11-21T10:00:00Z"),
            ))
            .await
            .unwrap();
        assert_eq!(s.outcome, Outcome::Applied, "ZONE={suffix}: {s:?}");
        assert_eq!(
            names(&account, "ZPRIV"),
            ["ip-10-1-2-4.corp.example. A 60 10.1.2.4"]
        );
    }
}

#[tokio::test]
async fn the_item_keeps_the_newest_event_time_it_knew() {
    let account = account(serde_json::json!({}));
    let registrar = account.registrar(Config::default());
    registrar
        .handle(&change(
            InstanceState::Running,
            Some("2026-11-21T10:00:00Z"),
        ))
        .await
        .unwrap();
    // A tag is added and a running event without a time arrives: the
    // item is saved again, and must keep the newest time it knew.
    account.edit(|w| {
        w.instances[0]
            .tags
            .insert("CNAME".into(), "api.corp.example".into());
    });
    let s = registrar
        .handle(&change(InstanceState::Running, None))
        .await
        .unwrap();
    assert_eq!(s.outcome, Outcome::Applied, "{s:?}");
    let item = account.registry_items()["i-1"].clone();
    assert_eq!(
        item.last_event_time,
        model::parse_time("2026-11-21T10:00:00Z").ok()
    );
    // A stop from before the first event arrives late, while the
    // instance runs: the live state decides, and nothing is deleted.
    let s = registrar
        .handle(&change(
            InstanceState::Stopped,
            Some("2026-11-21T09:00:00Z"),
        ))
        .await
        .unwrap();
    assert_eq!(s.outcome, Outcome::NothingToDo, "{s:?}");
    assert_eq!(s.live_state, Some(InstanceState::Running), "{s:?}");
    assert_eq!(names(&account, "ZPRIV").len(), 2, "A and CNAME still there");
}

/// Found by attack: an event dated in the future (2099) made every
/// later real event "older", so a real stop and terminate changed
/// nothing until the next reconcile. An event's time decides nothing:
/// the live state does.
#[tokio::test]
async fn an_event_from_the_future_never_stops_what_the_live_state_asks() {
    let account = account(serde_json::json!({}));
    let registrar = account.registrar(Config::default());
    let s = registrar
        .handle(&change(
            InstanceState::Running,
            Some("2099-01-01T00:00:00Z"),
        ))
        .await
        .unwrap();
    assert_eq!(s.outcome, Outcome::Applied, "{s:?}");
    account.edit(|w| w.instances[0].state = InstanceState::Stopped);
    let s = registrar
        .handle(&change(
            InstanceState::Stopped,
            Some("2026-11-21T10:00:00Z"),
        ))
        .await
        .unwrap();
    assert_eq!(s.outcome, Outcome::Applied, "{s:?}");
    assert!(
        names(&account, "ZPRIV").is_empty(),
        "the stop deleted its A"
    );
    assert!(!account.registry_items().contains_key("i-1"));
}

/// A termination's first call releases its item (reads it and writes
/// it ahead at once). Whatever becomes of that call, no record is
/// deleted unless the release is known to be in, and every record stays
/// listed: a lost answer is settled by reading the item back, a refusal
/// before it commits changes nothing (the retry deletes all), and a
/// crash after it commits leaves the records listed as pending.
#[tokio::test]
async fn a_termination_s_release_under_every_fault() {
    use ec2_ddns_sim::memory::Fault;
    // (fault, the event succeeds, its records left in the zones (A,
    // CNAME, PTR), of those listed pending)
    let cases = [
        (None, true, 0, 0),
        (
            Some(Fault::InternalError { after_commit: true }),
            true,
            0,
            0,
        ),
        (
            Some(Fault::InternalError {
                after_commit: false,
            }),
            false,
            3,
            0,
        ),
        (Some(Fault::Throttling), false, 3, 0),
        (
            Some(Fault::Crash {
                after_commit: false,
            }),
            false,
            3,
            0,
        ),
        (Some(Fault::Crash { after_commit: true }), false, 3, 3),
    ];
    let records =
        |account: &MemoryAccount| -> usize { account.zone_records().values().map(Vec::len).sum() };
    for (fault, succeeds, left, pending) in cases {
        let account = account(serde_json::json!({"CNAME": "api.corp.example"}));
        let registrar = account.registrar(Config::default());
        registrar
            .handle(&change(InstanceState::Running, None))
            .await
            .unwrap();
        account.edit(|w| w.instances[0].state = InstanceState::Terminated);
        if let Some(fault) = fault.clone() {
            account.inject("dynamodb:UpdateItem", fault);
        }
        let result = registrar
            .handle(&change(InstanceState::Terminated, None))
            .await;
        assert_eq!(result.is_ok(), succeeds, "{fault:?}: {result:?}");
        if let Err(e) = &result {
            assert!(e.is_retryable(), "{fault:?}: {e}");
        }
        assert_eq!(records(&account), left, "{fault:?}");
        let item = account.registry_items().get("i-1").cloned();
        let listed = item.as_ref().map_or(0, |i| i.pending.len());
        assert_eq!(listed, pending, "{fault:?}: {item:?}");
        if left > 0 {
            let owned = item.as_ref().map_or(0, |i| i.records.len());
            assert_eq!(owned + listed, left, "every record stays listed: {item:?}");
        }
        // The retry (a new invocation) deletes what is still provably
        // this instance's.
        account.revive();
        registrar
            .handle(&change(InstanceState::Terminated, None))
            .await
            .unwrap();
        assert_eq!(records(&account), pending, "{fault:?}");
    }
}

/// A batch whose item reads fail still finishes the terminations it
/// released: their release is in, and leaving them would strand their
/// records as pending for good.
#[tokio::test]
async fn a_failed_item_read_does_not_strand_a_release_in_the_same_batch() {
    use ec2_ddns_sim::memory::Fault;
    let world = serde_json::json!({
        "vpcs": [{"id": "vpc-1", "cidr": "10.1.0.0/16", "dhcp_domain": "corp.example"}],
        "subnets": [{"id": "s-1", "vpc": "vpc-1", "cidr": "10.1.2.0/24"}],
        "zones": [{"id": "ZPRIV", "name": "corp.example.", "private": true, "vpcs": ["vpc-1"]}],
        "instances": [
            {"id": "i-1", "subnet": "s-1", "private_ip": "10.1.2.4"},
            {"id": "i-2", "subnet": "s-1", "private_ip": "10.1.2.5", "state": "stopped"}
        ]
    });
    let account = MemoryAccount::new(World::parse("two", &world.to_string()).unwrap());
    let registrar = account.registrar(Config::default());
    registrar
        .handle(&change(InstanceState::Running, None))
        .await
        .unwrap();
    account.edit(|w| {
        w.instances[0].state = InstanceState::Terminated;
        w.instances[1].state = InstanceState::Running;
    });
    let terminated = change(InstanceState::Terminated, None);
    let mut running = change(InstanceState::Running, None);
    running.instance_id = "i-2".into();
    account.inject("dynamodb:GetItem", Fault::Throttling);
    let summaries = registrar.handle_many(&[&terminated, &running], None).await;
    assert_eq!(summaries[0].outcome, Outcome::Applied, "{:?}", summaries[0]);
    assert_eq!(summaries[1].outcome, Outcome::Error, "{:?}", summaries[1]);
    assert_eq!(summaries[1].retryable, Some(true));
    assert_eq!(names(&account, "ZPRIV"), Vec::<String>::new());
    assert!(account.registry_items().is_empty(), "i-1's item removed");
}

#[tokio::test]
async fn an_instance_ec2_does_not_know_is_a_warning() {
    let account = account(serde_json::json!({}));
    let mut unknown = change(InstanceState::Running, None);
    unknown.instance_id = "i-0nobody".into();
    let s = account
        .registrar(Config::default())
        .handle(&unknown)
        .await
        .unwrap();
    assert_eq!(s.outcome, Outcome::NothingToDo);
    assert!(
        s.warnings
            .iter()
            .any(|w| w.contains("EC2 does not know instance i-0nobody")),
        "{s:?}"
    );
}

/// EC2 lagging behind: for the first `blank` describes the instance
/// has no private address (or, with `pending`, is still pending); and
/// `unlisted` is missing from the listing (a launch between the
/// reconcile's scan and its listing, or an eventually consistent list).
struct LaggingEc2 {
    account: MemoryAccount,
    blank: std::sync::atomic::AtomicUsize,
    pending: bool,
    unlisted: Option<&'static str>,
}

impl LaggingEc2 {
    fn new(account: &MemoryAccount, blank: usize) -> LaggingEc2 {
        LaggingEc2 {
            account: account.clone(),
            blank: blank.into(),
            pending: false,
            unlisted: None,
        }
    }
}

impl ec2_ddns_core::ports::Instances for LaggingEc2 {
    async fn instance(
        &self,
        id: &str,
    ) -> ec2_ddns_core::Result<Option<ec2_ddns_core::model::InstanceFacts>> {
        let mut facts = self.account.instance(id).await?;
        let left = self.blank.load(std::sync::atomic::Ordering::SeqCst);
        if left > 0 {
            self.blank
                .store(left - 1, std::sync::atomic::Ordering::SeqCst);
            if let Some(f) = facts.as_mut() {
                if self.pending {
                    f.state = InstanceState::Pending;
                } else {
                    f.private_ip = None;
                    f.ipv6 = None;
                }
            }
        }
        Ok(facts)
    }
    async fn vpc(&self, id: &str) -> ec2_ddns_core::Result<Option<ec2_ddns_core::model::VpcFacts>> {
        self.account.vpc(id).await
    }
    async fn all_instances(&self) -> ec2_ddns_core::Result<ec2_ddns_core::model::InstanceListing> {
        let mut listing = self.account.all_instances().await?;
        listing
            .instances
            .retain(|i| Some(i.instance_id.as_str()) != self.unlisted);
        Ok(listing)
    }
}

fn lagging(
    account: &MemoryAccount,
    ec2: LaggingEc2,
) -> ec2_ddns_core::registrar::Registrar<LaggingEc2, MemoryAccount, MemoryAccount> {
    ec2_ddns_core::registrar::Registrar::new(
        ec2,
        account.clone(),
        account.clone(),
        Config::default(),
        "us-east-1",
    )
    .with_backoff(std::time::Duration::ZERO)
}

#[tokio::test]
async fn a_running_event_while_ec2_still_says_pending_is_described_again() {
    let account = account(serde_json::json!({}));
    let ec2 = LaggingEc2 {
        pending: true,
        ..LaggingEc2::new(&account, 2)
    };
    let s = lagging(&account, ec2)
        .handle(&change(
            InstanceState::Running,
            Some("2026-11-21T10:00:00Z"),
        ))
        .await
        .expect("the third describe shows it running");
    assert_eq!(s.outcome, Outcome::Applied, "{s:?}");

    let account = self::account(serde_json::json!({}));
    let ec2 = LaggingEc2 {
        pending: true,
        ..LaggingEc2::new(&account, 3)
    };
    let err = lagging(&account, ec2)
        .handle(&change(
            InstanceState::Running,
            Some("2026-11-21T10:00:00Z"),
        ))
        .await
        .expect_err("still pending: retried later, not dropped");
    assert!(
        err.is_retryable() && err.to_string().contains("still pending"),
        "{err}"
    );
}

#[tokio::test]
async fn the_reconcile_describes_an_instance_its_listing_missed_before_deleting_anything() {
    let account = account(serde_json::json!({}));
    let registrar = account.registrar(Config::default());
    registrar
        .handle(&change(
            InstanceState::Running,
            Some("2026-11-21T10:00:00Z"),
        ))
        .await
        .unwrap();
    let before = account.zone_records();
    let ec2 = LaggingEc2 {
        unlisted: Some("i-1"),
        ..LaggingEc2::new(&account, 0)
    };
    let done = lagging(&account, ec2).reconcile("r").await.unwrap();
    assert_eq!(done.totals.records_deleted, 0, "{:?}", done.summaries);
    assert_eq!(account.zone_records(), before);
    assert_eq!(account.registry_items()["i-1"].records.len(), 2);
}

#[tokio::test]
async fn a_running_instance_without_an_address_is_described_again_then_fails_retryably() {
    for (blank, registers) in [(2, true), (3, false)] {
        let account = account(serde_json::json!({}));
        let registrar = lagging(&account, LaggingEc2::new(&account, blank));
        let result = registrar
            .handle(&change(
                InstanceState::Running,
                Some("2026-11-21T10:00:00Z"),
            ))
            .await;
        let described = account.calls.take()["ec2:DescribeInstances"];
        if registers {
            let s = result.expect("the third describe has the address");
            assert_eq!(s.outcome, Outcome::Applied, "{s:?}");
            assert_eq!(described, 3);
        } else {
            let err = result.expect_err("still no address after 3 describes");
            assert!(err.is_retryable(), "{err}");
            assert!(
                err.to_string()
                    .contains("no private IPv4 or IPv6 address yet"),
                "{err}"
            );
            assert_eq!(described, 3);
            assert!(
                account.zone_records()["ZPRIV"].is_empty(),
                "nothing written"
            );
        }
    }
}

/// Route 53 where one zone cannot be listed (a permission taken away).
struct OneZoneDenied(MemoryAccount, &'static str);

impl ec2_ddns_core::ports::Dns for OneZoneDenied {
    async fn zones_visible_from(
        &self,
        vpc: Option<&str>,
        region: &str,
    ) -> ec2_ddns_core::Result<Vec<ec2_ddns_core::model::ZoneInfo>> {
        self.0.zones_visible_from(vpc, region).await
    }
    async fn records_at(
        &self,
        zone: &ec2_ddns_core::model::ZoneId,
        names: &std::collections::BTreeSet<ec2_ddns_core::model::DnsName>,
    ) -> ec2_ddns_core::Result<Vec<ec2_ddns_core::model::RecordSet>> {
        self.0.records_at(zone, names).await
    }
    async fn records_in(
        &self,
        zone: &ec2_ddns_core::model::ZoneId,
    ) -> ec2_ddns_core::Result<Vec<ec2_ddns_core::model::RecordSet>> {
        if *zone == self.1 {
            return Err(ec2_ddns_core::Error::Aws {
                operation: "route53:ListResourceRecordSets".into(),
                code: Some("AccessDenied".into()),
                message: "not authorized".into(),
                kind: ec2_ddns_core::error::Failure::Final,
            });
        }
        self.0.records_in(zone).await
    }
    async fn apply(&self, batch: &ec2_ddns_core::plan::ZoneChanges) -> ec2_ddns_core::Result<()> {
        self.0.apply(batch).await
    }
    async fn applied_in_sync(&self, since: tokio::time::Instant) -> ec2_ddns_core::Result<bool> {
        self.0.applied_in_sync(since).await
    }
}

#[tokio::test]
async fn a_zone_the_reconcile_cannot_list_fails_only_the_instances_that_need_it() {
    let world = serde_json::json!({
        "vpcs": [
            {"id": "vpc-1", "cidr": "10.1.0.0/16", "dhcp_domain": "corp.example"},
            {"id": "vpc-2", "cidr": "10.2.0.0/16", "dhcp_domain": "lab.example"}
        ],
        "subnets": [
            {"id": "s-1", "vpc": "vpc-1", "cidr": "10.1.2.0/24"},
            {"id": "s-2", "vpc": "vpc-2", "cidr": "10.2.2.0/24"}
        ],
        "zones": [
            {"id": "ZPRIV", "name": "corp.example.", "private": true, "vpcs": ["vpc-1"]},
            {"id": "ZLAB", "name": "lab.example.", "private": true, "vpcs": ["vpc-2"]}
        ],
        "instances": [
            {"id": "i-1", "subnet": "s-1", "private_ip": "10.1.2.4"},
            {"id": "i-2", "subnet": "s-2", "private_ip": "10.2.2.4"}
        ]
    });
    let account = MemoryAccount::new(World::parse("two zones", &world.to_string()).unwrap());
    let registrar = ec2_ddns_core::registrar::Registrar::new(
        account.clone(),
        OneZoneDenied(account.clone(), "ZLAB"),
        account.clone(),
        Config::default(),
        "us-east-1",
    );
    let done = registrar.reconcile("r").await.expect("the pass completes");
    assert_eq!(done.totals.errors, 1, "{:?}", done.summaries);
    assert_eq!(done.totals.records_created, 1, "i-1 registered");
    let failed = done
        .summaries
        .iter()
        .find(|s| s.instance_id == "i-2")
        .unwrap();
    assert!(
        failed
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("AccessDenied"),
        "{failed:?}"
    );
    assert!(account.zone_records()["ZLAB"].is_empty());
    assert!(
        !account.registry_items().contains_key("i-2"),
        "nothing written ahead for i-2"
    );
}

/// A change that died before Route 53 made it leaves its records pending
/// and absent. For `model::IN_FLIGHT` after it was written ahead, another
/// invocation keeps them listed (a change of another invocation may still
/// land); after that, the next one settles them away, and a termination
/// removes the item.
#[tokio::test]
async fn pending_records_read_absent_are_kept_while_in_flight_then_settled_away() {
    use ec2_ddns_sim::memory::Fault;
    use std::sync::Arc;
    let account = account(serde_json::json!({}));
    let written_ahead = chrono::Utc::now();
    let at = |minutes: i64| -> ec2_ddns_core::registrar::Clock {
        Arc::new(move || written_ahead + chrono::TimeDelta::minutes(minutes))
    };
    account.inject(
        "route53:ChangeResourceRecordSets",
        Fault::Crash {
            after_commit: false,
        },
    );
    let registrar = |minutes| account.registrar(Config::default()).with_clock(at(minutes));
    let died = registrar(0)
        .handle(&change(InstanceState::Running, None))
        .await;
    assert!(died.is_err(), "{died:?}");
    account.revive();
    let item = |account: &MemoryAccount| account.registry_items().get("i-1").cloned();
    let pending = item(&account).expect("written ahead").pending;
    assert!(!pending.is_empty() && names(&account, "ZPRIV").is_empty());

    account.edit(|w| w.instances[0].state = InstanceState::Terminated);
    let terminated = change(InstanceState::Terminated, None);
    let summary = registrar(5).handle(&terminated).await.expect("handled");
    assert!(
        summary
            .notes
            .iter()
            .any(|n| n.contains("is not there, but stays listed as pending until")),
        "{:?}",
        summary.notes
    );
    let kept = item(&account).expect("kept: the records may still land");
    assert_eq!(kept.pending, pending);
    assert_eq!(kept.pending_since, Some(written_ahead));

    registrar(21).handle(&terminated).await.expect("handled");
    assert_eq!(item(&account), None, "settled away, and nothing left");
}

/// An IPv6-only instance (no private IPv4) is ready on the first describe:
/// it used to be described again and fail retryably on every `running`
/// event, forever. It gets its AAAA and its ip6.arpa PTR, named by the
/// label of its resource-based host name.
#[tokio::test]
async fn an_ipv6_only_instance_registers_on_the_first_describe() {
    let world = serde_json::json!({
        "vpcs": [{"id": "vpc-1", "cidr": "10.1.0.0/16", "ipv6_cidr": "2600:1f18:abcd:100::/56", "dhcp_domain": "corp.example"}],
        "subnets": [{"id": "s-1", "vpc": "vpc-1", "ipv6_native": true, "ipv6_cidr": "2600:1f18:abcd:102::/64"}],
        "zones": [
            {"id": "ZPRIV", "name": "corp.example.", "private": true, "vpcs": ["vpc-1"]},
            {"id": "ZREV6", "name": "1.0.d.c.b.a.8.1.f.1.0.0.6.2.ip6.arpa.", "private": true, "vpcs": ["vpc-1"]}
        ],
        "instances": [{"id": "i-1", "subnet": "s-1", "ipv6": "2600:1f18:abcd:102::9"}]
    });
    let account =
        MemoryAccount::new(World::parse("test world", &world.to_string()).expect("valid world"));
    let s = account
        .registrar(Config::default())
        .handle(&change(
            InstanceState::Running,
            Some("2026-11-21T10:00:00Z"),
        ))
        .await
        .expect("registered, not retried");
    assert_eq!(s.outcome, Outcome::Applied, "{s:?}");
    assert_eq!(account.calls.take()["ec2:DescribeInstances"], 1);
    assert_eq!(
        names(&account, "ZPRIV"),
        ["i-1.corp.example. AAAA 60 2600:1f18:abcd:102::9"]
    );
    assert_eq!(
        names(&account, "ZREV6"),
        ["9.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.1.0.d.c.b.a.8.1.f.1.0.0.6.2.ip6.arpa. PTR 60 i-1.corp.example."]
    );
}
