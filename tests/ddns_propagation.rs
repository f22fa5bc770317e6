//! "Is my name live yet?" on the strict emulator (its MOTO GAP 8: each
//! batch its own change id, `PENDING` for the first K GetChange reads of
//! it, `NoSuchChange` for an id never given): a DDNS set answers its
//! batch's change id, and a `status` ask with the same proof answers
//! `PENDING` until GetChange says `INSYNC`. Needs moto: run it with
//! `./scripts/test ddns_propagation`.

mod common;

use chrono::TimeZone;
use common::{moto_endpoint, moto_env};
use ec2_ddns::ddns::endpoint::serve;
use ec2_ddns::ddns::request::HttpRequest;
use ec2_ddns::model::{HostSettings, RegistryItem, RegistryKey};
use ec2_ddns::ports::Registry;
use serde_json::Value;

const T: i64 = 1_795_255_200;
const SECRET: &str = "a-secret-for-this-test-only";

/// The fixture's JSON request from 203.0.113.7, with `body`.
fn request(body: Value) -> HttpRequest {
    let path = common::repo("fixtures/ddns/set-legacy.json");
    let mut payload: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("the fixture")).expect("JSON");
    payload["body"] = body.to_string().into();
    HttpRequest::from_function_url(payload).expect("a function URL request")
}

#[tokio::test]
#[ignore = "needs the emulator: run through scripts/test"]
async fn ddns_propagation_a_set_is_pending_then_in_sync_on_moto() {
    let _moto = common::MOTO_LOCK.lock().await;
    let env = moto_env(&moto_endpoint(), "fixtures/worlds/split-horizon.json").await;
    let registrar = &env.registrar;
    registrar
        .registry
        .save(&RegistryItem {
            key: RegistryKey::host("home.corp.example."),
            version: 1,
            host: Some(HostSettings {
                zone_id: env.zone("Z0CORPPUBLIC").as_str().into(),
                zone_name: "corp.example.".into(),
                ttl: 60,
                secret: SECRET.into(),
                ..HostSettings::default()
            }),
            ..RegistryItem::default()
        })
        .await
        .expect("the host");
    common::faults::launcher_control(
        "POST",
        "/_ec2ddns/route53-changes",
        r#"{"pending_reads": 2}"#,
    );
    let now = chrono::Utc.timestamp_opt(T, 0).unwrap();
    let hash =
        ec2_ddns::ddns::auth::legacy_hash("203.0.113.7", "home.corp.example", &SECRET.into());
    let set = serde_json::json!({
        "execution_mode": "set", "ddns_hostname": "home.corp.example", "validation_hash": hash,
    });
    let answer = serve(registrar, &request(set), "r-set", now).await;
    assert_eq!(answer.status_code, 201, "{answer:?}");
    let body: Value = serde_json::from_str(answer.body.as_deref().unwrap()).unwrap();
    let change_id = body["change_id"].as_str().expect("a change id").to_string();
    assert!(
        change_id.starts_with("/change/C"),
        "Route 53's form: {change_id}"
    );
    let status = |id: &str| {
        request(serde_json::json!({
            "execution_mode": "status", "ddns_hostname": "home.corp.example",
            "validation_hash": hash, "change_id": id,
        }))
    };
    let mut seen = Vec::new();
    for _ in 0..3 {
        let answer = serve(registrar, &status(&change_id), "r-status", now).await;
        assert_eq!(answer.status_code, 200, "{answer:?}");
        let body: Value = serde_json::from_str(answer.body.as_deref().unwrap()).unwrap();
        seen.push(
            body["change_status"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
    }
    assert_eq!(seen, ["PENDING", "PENDING", "INSYNC"]);
    let unknown = serve(
        registrar,
        &status("/change/C0000000000000"),
        "r-status",
        now,
    )
    .await;
    assert_eq!(unknown.status_code, 404, "{unknown:?}");
    common::faults::launcher_control(
        "POST",
        "/_ec2ddns/route53-changes",
        r#"{"pending_reads": 0}"#,
    );
}
