//! IPv6 (issue 21), on the in-memory account and on moto: a dual-stack
//! instance gets an AAAA beside its A (private and public), both PTRs, and
//! loses them all on terminate; an IPv6-only instance gets its AAAA, its
//! ip6.arpa PTR and its alias, named by its resource-based host name.

mod common;

use common::{Env, ZoneDump};
use ec2_ddns::model::InstanceState::{Running, Terminated};
use ec2_ddns::ports::{Dns, Instances, Registry};
use ec2_ddns::summary::Outcome;

/// The nibble PTR names of 2600:1f18:abcd:102::4 and 2600:1f18:abcd:103::6,
/// in the /56's reverse zone.
const PTR_DUAL: &str = "4.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.1.0.d.c.b.a.8.1.f.1.0.0.6.2.ip6.arpa.";
const PTR_V6ONLY: &str =
    "6.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.3.0.1.0.d.c.b.a.8.1.f.1.0.0.6.2.ip6.arpa.";

async fn dual_stack<E, D, R>(env: &Env<E, D, R>)
where
    E: Instances + Sync,
    D: Dns + ZoneDump + Sync,
    R: Registry + Sync,
{
    let b = env.backend;
    let s = env.send("i-0dual", Running, "2026-11-21T10:00:00Z").await;
    assert_eq!(s.outcome, Outcome::Applied, "[{b}] {s:?}");
    assert_eq!(
        env.zone_lines("Z0CORPPRIVATE").await,
        [
            "ip-10-1-2-4.corp.example. A 60 10.1.2.4",
            "ip-10-1-2-4.corp.example. AAAA 60 2600:1f18:abcd:102::4",
        ],
        "[{b}]"
    );
    assert_eq!(
        env.zone_lines("Z0CORPPUBLIC").await,
        ["ip-10-1-2-4.corp.example. AAAA 60 2600:1f18:abcd:102::4"],
        "[{b}] IPv6 is global: public by default"
    );
    assert_eq!(
        env.zone_lines("Z0REVERSE10").await,
        ["4.2.1.10.in-addr.arpa. PTR 60 ip-10-1-2-4.corp.example."],
        "[{b}]"
    );
    assert_eq!(
        env.zone_lines("Z0REVERSE6").await,
        [format!("{PTR_DUAL} PTR 60 ip-10-1-2-4.corp.example.")],
        "[{b}]"
    );
    assert_eq!(env.owns("i-0dual").await, 5, "[{b}]");

    let s = env.send("i-0dual", Running, "2026-11-21T10:00:00Z").await;
    assert_eq!(s.outcome, Outcome::NothingToDo, "[{b}] a duplicate: {s:?}");

    let s = env
        .send("i-0dual", Terminated, "2026-11-21T12:00:00Z")
        .await;
    assert_eq!(s.outcome, Outcome::Applied, "[{b}] {s:?}");
    assert_eq!(s.changes.len(), 5, "[{b}] {s:?}");
    for zone in ["Z0CORPPRIVATE", "Z0CORPPUBLIC", "Z0REVERSE10", "Z0REVERSE6"] {
        assert!(
            env.zone_lines(zone).await.is_empty(),
            "[{b}] {zone} after terminate"
        );
    }
    assert_eq!(env.owns("i-0dual").await, 0, "[{b}]");
}

async fn ipv6_only<E, D, R>(env: &Env<E, D, R>)
where
    E: Instances + Sync,
    D: Dns + ZoneDump + Sync,
    R: Registry + Sync,
{
    let b = env.backend;
    // The label of its resource-based name `i-….ec2.internal`: its id, as
    // the backend gave it.
    let id = env.instance("i-0v6only");
    let facts = env.registrar.ec2.instance(&id).await.unwrap().unwrap();
    assert_eq!(facts.private_ip, None, "[{b}] IPv6-only: {facts:?}");
    let host = format!("{id}.corp.example.");

    let s = env.send("i-0v6only", Running, "2026-11-21T10:00:00Z").await;
    assert_eq!(s.outcome, Outcome::Applied, "[{b}] {s:?}");
    assert_eq!(
        env.zone_lines("Z0CORPPRIVATE").await,
        [
            format!("api.corp.example. CNAME 60 {host}"),
            format!("{host} AAAA 60 2600:1f18:abcd:103::6"),
        ],
        "[{b}]"
    );
    assert_eq!(
        env.zone_lines("Z0CORPPUBLIC").await,
        [
            format!("api.corp.example. CNAME 60 {host}"),
            format!("{host} AAAA 60 2600:1f18:abcd:103::6"),
        ],
        "[{b}]"
    );
    assert!(env.zone_lines("Z0REVERSE10").await.is_empty(), "[{b}]");
    assert_eq!(
        env.zone_lines("Z0REVERSE6").await,
        [format!("{PTR_V6ONLY} PTR 60 {host}")],
        "[{b}]"
    );
    assert_eq!(
        env.owns("i-0v6only").await,
        5,
        "[{b}] 2 AAAA, 2 CNAME, 1 PTR"
    );

    let s = env
        .send("i-0v6only", Terminated, "2026-11-21T12:00:00Z")
        .await;
    assert_eq!(s.outcome, Outcome::Applied, "[{b}] {s:?}");
    for zone in ["Z0CORPPRIVATE", "Z0CORPPUBLIC", "Z0REVERSE6"] {
        assert!(
            env.zone_lines(zone).await.is_empty(),
            "[{b}] {zone} after terminate"
        );
    }
}

on_memory_and_moto!(
    dual_stack_a_and_aaaa_both_ptrs_terminate_deletes_all,
    "fixtures/worlds/ipv6.json",
    dual_stack
);
on_memory_and_moto!(
    ipv6_only_aaaa_ptr_resource_name_label_and_alias,
    "fixtures/worlds/ipv6.json",
    ipv6_only
);
