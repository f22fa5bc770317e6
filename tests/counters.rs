//! A DDNS host's failure counter in the real table's adapter, on the
//! strict emulator: parallel failed proofs are each counted (an increment,
//! never a value written back), a window that has passed starts anew, and
//! the item's version moves with each (so a save that read the item
//! before, a good update's, cannot write an old count back). (The in-memory account's is checked
//! with every interleaving in tests/interleavings.rs.)

mod common;

use common::{moto_endpoint, moto_env};
use ec2_ddns::ddns::decide::WINDOW_SECONDS;
use ec2_ddns::model::{HostSettings, RegistryItem, RegistryKey};
use ec2_ddns::ports::{Guards, Registry};

const T: i64 = 1_795_255_200;

#[tokio::test]
#[ignore = "needs the emulator: run through scripts/test"]
async fn parallel_failed_proofs_are_each_counted_in_the_table() {
    let env = moto_env(&moto_endpoint(), "fixtures/worlds/split-horizon.json").await;
    let registry = &env.registrar.registry;
    let key = RegistryKey::host("counted.corp.example.");
    registry
        .save(&RegistryItem {
            key: key.clone(),
            version: 1,
            host: Some(HostSettings {
                zone_id: "Z0CORPPUBLIC".into(),
                zone_name: "corp.example.".into(),
                ttl: 60,
                secret: "a-secret-for-this-test-only".into(),
                ..HostSettings::default()
            }),
            ..RegistryItem::default()
        })
        .await
        .expect("host saved");
    let stored = key.stored();
    let count = |at: i64| registry.count_failure(&stored, at, WINDOW_SECONDS);
    let (a, b, c) = tokio::join!(count(T), count(T + 1), count(T + 2));
    a.and(b).and(c).expect("counted");
    let item = registry.load(&key).await.unwrap().expect("the host");
    let counters = item.host.expect("host settings").counters;
    assert_eq!(counters.failures, 3, "{counters:?}");
    assert_eq!(
        item.version, 4,
        "the version moved once a failure: a save that read the item before fails its condition"
    );
    // An hour later the window has passed: a new one, with this failure.
    count(T + WINDOW_SECONDS + 5).await.expect("counted");
    let counters = registry
        .load(&key)
        .await
        .unwrap()
        .unwrap()
        .host
        .unwrap()
        .counters;
    assert_eq!(
        (counters.window_start, counters.failures, counters.changes),
        (T + WINDOW_SECONDS + 5, 1, 0)
    );
    // A host that is gone is fine, and nothing is created.
    let gone = RegistryKey::host("gone.corp.example.");
    registry
        .count_failure(&gone.stored(), T, WINDOW_SECONDS)
        .await
        .expect("nothing to count");
    assert!(registry.load(&gone).await.unwrap().is_none());
}
