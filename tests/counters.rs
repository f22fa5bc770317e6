//! The DDNS endpoint's failure counters (`Guards::count_failure`,
//! `Guards::failures`): per source address, and per host and source
//! address, each an increment. On the strict emulator through the real
//! table's adapter (parallel increments each counted, a new window starts
//! at zero, the host's item never touched, the counters never in a scan),
//! and through the endpoint with 40 bad proofs at once: the count is 40,
//! that address is blocked, and the owner from another address is not.

mod common;

use chrono::TimeZone;
use common::{moto_endpoint, moto_env};
use ec2_ddns::ddns::decide::{Failures, MAX_FAILURES, WINDOW_SECONDS};
use ec2_ddns::ddns::endpoint::{serve_counted, Answer, Outcome};
use ec2_ddns::ddns::request::HttpRequest;
use ec2_ddns::model::{HostSettings, RegistryItem, RegistryKey};
use ec2_ddns::ports::{Guards, Registry};
use std::net::IpAddr;

const T: i64 = 1_795_255_200;
const HOST: &str = "counted.corp.example.";

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

/// The host, in the public zone `zone_id` (moto's id of the world's).
async fn add_host<R: Registry>(registry: &R, zone_id: &str) -> RegistryItem {
    let item = RegistryItem {
        key: RegistryKey::host(HOST),
        version: 1,
        host: Some(HostSettings {
            zone_id: zone_id.into(),
            zone_name: "corp.example.".into(),
            ttl: 60,
            secret: "a-secret-for-this-test-only".into(),
            ..HostSettings::default()
        }),
        ..RegistryItem::default()
    };
    registry.save(&item).await.expect("host saved");
    item
}

#[tokio::test]
#[ignore = "needs the emulator: run through scripts/test"]
async fn parallel_failed_proofs_are_each_counted_per_address_in_the_table() {
    let _moto = common::MOTO_LOCK.lock().await;
    let env = moto_env(&moto_endpoint(), "fixtures/worlds/split-horizon.json").await;
    let registry = &env.registrar.registry;
    add_host(registry, &env.zone("Z0CORPPUBLIC")).await;
    let stranger = ip("203.0.113.66");
    let owner = ip("198.51.100.7");
    let counts =
        (0..40).map(|k| registry.count_failure(HOST, stranger, T + k % 30, WINDOW_SECONDS));
    for counted in futures_util::future::join_all(counts).await {
        counted.expect("counted");
    }
    let read = |host: &'static str, source: IpAddr, at: i64| {
        registry.failures(host, source, at, WINDOW_SECONDS)
    };
    assert_eq!(
        read(HOST, stranger, T + 60).await.unwrap(),
        Failures {
            from_source: 40,
            host_from_source: 40
        }
    );
    assert_eq!(
        read("other.corp.example.", stranger, T).await.unwrap(),
        Failures {
            from_source: 40,
            host_from_source: 0
        },
        "the address is counted across hosts"
    );
    assert_eq!(
        read(HOST, owner, T).await.unwrap(),
        Failures::default(),
        "the owner's address has none"
    );
    let next_window = T - T.rem_euclid(WINDOW_SECONDS) + WINDOW_SECONDS;
    assert_eq!(
        read(HOST, stranger, next_window).await.unwrap(),
        Failures::default(),
        "a new window starts at zero"
    );
    let item = registry
        .load(&RegistryKey::host(HOST))
        .await
        .unwrap()
        .expect("the host");
    assert_eq!(item.version, 1, "the host's item is never touched");
    let keys: Vec<String> = registry
        .all()
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.key.stored())
        .collect();
    assert!(
        !keys.iter().any(|k| k.starts_with("guard#")),
        "counters are no subjects: {keys:?}"
    );
}

/// A dyndns2 request through the endpoint, from `source` (the fixture's,
/// with this host, this password and this address).
fn dyndns2(source: IpAddr, password: &str) -> HttpRequest {
    use base64::Engine;
    let path = common::repo("fixtures/ddns/dyndns2-good.json");
    let mut payload: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("the fixture")).expect("JSON");
    let auth = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{password}", HOST.trim_end_matches('.')));
    payload["rawQueryString"] = format!("hostname={}", HOST.trim_end_matches('.')).into();
    payload["headers"]["authorization"] = format!("Basic {auth}").into();
    payload["requestContext"]["http"]["sourceIp"] = source.to_string().into();
    HttpRequest::from_function_url(payload).expect("a function URL request")
}

fn word(answers: &[Answer]) -> &'static str {
    answers.first().map(Answer::word).unwrap_or("none")
}

/// 40 bad proofs at once through the endpoint against the real table:
/// every one is counted (40, not 10), requests from that address are then
/// answered `abuse`, even with the right secret, and the owner's update
/// from its own address is checked and made.
#[tokio::test]
#[ignore = "needs the emulator: run through scripts/test"]
async fn a_stranger_locks_out_only_itself_through_the_endpoint() {
    let _moto = common::MOTO_LOCK.lock().await;
    let env = moto_env(&moto_endpoint(), "fixtures/worlds/split-horizon.json").await;
    let registrar = &env.registrar;
    add_host(&registrar.registry, &env.zone("Z0CORPPUBLIC")).await;
    let now = chrono::Utc.timestamp_opt(T, 0).unwrap();
    let stranger = ip("203.0.113.66");
    let guesses = (0..40).map(|_| {
        let request = dyndns2(stranger, "guess");
        async move { serve_counted(registrar, &request, "r", now).await }
    });
    let served = futures_util::future::join_all(guesses).await;
    let bad = served
        .iter()
        .filter(|s| word(&s.answers) == "badauth")
        .count();
    assert!(
        bad >= MAX_FAILURES as usize,
        "at least the first ten are checked: {bad}"
    );
    let counted = registrar
        .registry
        .failures(HOST, stranger, T, WINDOW_SECONDS)
        .await
        .unwrap();
    assert_eq!(
        counted.host_from_source as usize, bad,
        "each failed proof counted once, none lost"
    );
    let blocked = serve_counted(
        registrar,
        &dyndns2(stranger, "a-secret-for-this-test-only"),
        "r",
        now,
    )
    .await;
    assert_eq!(
        blocked.answers,
        [Answer::Host(Outcome::Abuse)],
        "that address is blocked, the right secret unchecked"
    );
    let owner = ip("198.51.100.7");
    let made = serve_counted(
        registrar,
        &dyndns2(owner, "a-secret-for-this-test-only"),
        "r",
        now,
    )
    .await;
    assert_eq!(
        made.answers,
        [Answer::Host(Outcome::Set(owner))],
        "the owner from elsewhere is honoured"
    );
}
