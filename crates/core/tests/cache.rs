//! The cache in front of EC2 and Route 53, on the in-memory account.

use ec2_ddns_core::cache::Cached;
use std::time::Duration;

use ec2_ddns_core::event::{self, Event};
use ec2_ddns_core::registrar::Registrar;
use ec2_ddns_core::Config;
use ec2_ddns_sim::memory::MemoryAccount;

fn fixture(name: &str) -> event::InstanceEvent {
    let path = format!(
        "{}/../../fixtures/events/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    match event::parse(value).unwrap() {
        Event::Instance(change) => change,
        other => panic!("{other:?}"),
    }
}

/// Calls per operation of each event, handled in turn by one registrar
/// (one warm process) whose cache lives `ttl`.
async fn calls(ttl: Duration, events: &[&str]) -> Vec<usize> {
    let account = MemoryAccount::fixture("split-horizon");
    let registrar = Registrar::new(
        Cached::new(account.clone(), ttl),
        Cached::new(account.clone(), ttl),
        account.clone(),
        Config::default(),
        "us-east-1",
    );
    let mut counts = Vec::new();
    for name in events {
        account.calls.take();
        registrar.handle(&fixture(name)).await.expect(name);
        counts.push(account.calls.take().values().sum());
    }
    counts
}

#[tokio::test]
async fn a_warm_process_asks_only_what_it_cannot_remember() {
    let events = [
        "web-1-running",
        "web-1-terminated",
        "web-1-running",
        "web-1-terminated",
    ];
    let cold = calls(Duration::ZERO, &events).await;
    let warm = calls(Duration::from_secs(60), &events).await;
    eprintln!("calls per event, cold {cold:?}, warm {warm:?}");
    // Split horizon: 3 zones (private, public, reverse).
    assert_eq!(cold[0], warm[0], "the first event fills the cache");
    // Running again, warm: describe, item, write ahead, 3 changes, settle.
    assert_eq!(warm[2], 7, "{warm:?}");
    assert!(cold[2] > warm[2], "{cold:?} {warm:?}");
    // Terminated needs no zone: the same either way.
    assert_eq!(cold[1], warm[1]);
    assert_eq!(cold[3], warm[3]);
}
