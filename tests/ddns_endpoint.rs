//! The DDNS endpoint on the in-memory account: the function URL requests
//! in `fixtures/ddns/` (their secret is `test-secret-not-for-production`)
//! through the handler, each answer and each zone checked.

use ec2_ddns::ddns::decide::WINDOW_SECONDS;
use ec2_ddns::ddns::{endpoint, manage, request::HttpRequest};
use ec2_ddns::model::{self, HostSettings, RecordType, RegistryItem};
use ec2_ddns::ports::{Guards, Registry};
use ec2_ddns::sim::memory::MemoryAccount;
use ec2_ddns::sim::world::World;
use ec2_ddns::Config;
use ec2_ddns_lambda as lambda;
use secrecy::ExposeSecret;
use serde_json::Value;

const SECRET: &str = "test-secret-not-for-production";
const HOST: &str = "home.corp.example.";
const PUBLIC: &str = "Z0CORPPUBLIC";
/// The fixtures' time (their signed request's timestamp).
const T: i64 = 1_795_255_200;

fn now(offset: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(T + offset, 0).expect("time")
}

fn fixture(name: &str) -> Value {
    let path = format!("{}/fixtures/ddns/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect(&path)).expect(&path)
}

/// The split-horizon world, with web-1 registered (it owns
/// `ip-10-1-2-4.corp.example.` in the public zone) and the host
/// `home.corp.example.` added with the fixtures' secret.
async fn account() -> MemoryAccount {
    let path = format!(
        "{}/fixtures/worlds/split-horizon.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let world = World::parse(&path, &std::fs::read_to_string(&path).unwrap()).unwrap();
    let account = MemoryAccount::new(world);
    let running = ec2_ddns::event::parse(
        serde_json::from_str(
            &std::fs::read_to_string(format!(
                "{}/fixtures/events/web-1-running.json",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    let ec2_ddns::event::Event::Instance(running) = running else {
        panic!("an instance event")
    };
    account
        .registrar(Config::default())
        .handle(&running)
        .await
        .expect("web-1 registers");
    add_host(&account, HOST).await;
    account
}

async fn add_host(account: &MemoryAccount, name: &str) {
    account
        .save(&RegistryItem {
            key: ec2_ddns::model::RegistryKey::host(name),
            version: 1,
            host: Some(HostSettings {
                zone_id: PUBLIC.into(),
                zone_name: "corp.example.".into(),
                ttl: 60,
                secret: SECRET.into(),
                ..HostSettings::default()
            }),
            ..RegistryItem::default()
        })
        .await
        .expect("host saved");
}

/// Serves a fixture at `now`; the status and body.
async fn serve(account: &MemoryAccount, name: &str, at: i64) -> (i64, String) {
    serve_value(account, fixture(name), at).await
}

async fn serve_value(account: &MemoryAccount, request: Value, at: i64) -> (i64, String) {
    let request = HttpRequest::from_function_url(request).expect("a function URL request");
    let registrar = account.registrar(Config::default());
    let response = endpoint::serve(&registrar, &request, "test", now(at)).await;
    (response.status_code, response.body.unwrap_or_default())
}

fn message(body: &str) -> (String, String) {
    let v: Value = serde_json::from_str(body).expect(body);
    (
        v["return_status"].as_str().unwrap_or_default().to_string(),
        v["return_message"].as_str().unwrap_or_default().to_string(),
    )
}

/// Values at `name` of type `rtype` in the public zone.
fn values(account: &MemoryAccount, name: &str, rtype: RecordType) -> Vec<String> {
    account.zone_records()[PUBLIC]
        .iter()
        .filter(|r| r.name == name && r.rtype == rtype)
        .flat_map(|r| r.values().to_vec())
        .collect()
}

#[tokio::test]
async fn get_answers_the_source_address_and_no_other_digit() {
    let account = account().await;
    let (status, body) = serve(&account, "get", 0).await;
    assert_eq!(status, 200);
    assert_eq!(
        message(&body),
        ("success".to_string(), "203.0.113.7".to_string())
    );
    // dyndns.sh reads the address with egrep -o '[0-9\.]+'.
    let digits: Vec<&str> = body
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter(|s| s.chars().any(|c| c.is_ascii_digit()))
        .collect();
    assert_eq!(digits, ["203.0.113.7"], "{body}");
}

#[tokio::test]
async fn legacy_set_then_unchanged_makes_no_second_call() {
    let account = account().await;
    calls(&account);
    let (status, body) = serve(&account, "set-legacy", 0).await;
    assert_eq!(status, 201, "{body}");
    assert!(message(&body).1.contains("203.0.113.7"), "{body}");
    assert_eq!(values(&account, HOST, RecordType::A), ["203.0.113.7"]);
    let item = account.registry_items()[&format!("host#{HOST}")].clone();
    assert_eq!(item.records.len(), 1, "the host owns its record: {item:?}");
    assert_eq!(item.last_event_time, Some(now(0)), "its last update");
    assert!(item.pending.is_empty());
    // Read the host (and, at once, the failures counted from this
    // address and from it about this host) and its name, write ahead,
    // change, settle.
    assert_eq!(
        calls(&account),
        [
            "dynamodb:GetItem=3",
            "dynamodb:PutItem=2",
            "route53:ChangeResourceRecordSets=1",
            "route53:ListResourceRecordSets=1"
        ],
        "a change"
    );
    let (status, body) = serve(&account, "set-legacy", 5).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        message(&body).1,
        "Your IP address matches the current Route53 DNS record."
    );
    assert_eq!(
        calls(&account),
        ["dynamodb:GetItem=3"],
        "unchanged: one round trip of reads (the host, its address's failures), no Route 53 call"
    );
}

/// Every call since the last look, by operation.
fn calls(account: &MemoryAccount) -> Vec<String> {
    account
        .calls
        .take()
        .into_iter()
        .map(|(op, n)| format!("{op}={n}"))
        .collect()
}

#[tokio::test]
async fn a_new_address_replaces_exactly_the_old_one() {
    let account = account().await;
    assert_eq!(serve(&account, "set-legacy", 0).await.0, 201);
    assert_eq!(
        serve(&account, "dyndns2-good", 1).await.1,
        "good 198.51.100.20\n"
    );
    assert_eq!(values(&account, HOST, RecordType::A), ["198.51.100.20"]);
    assert_eq!(
        serve(&account, "dyndns2-good", 2).await.1,
        "nochg 198.51.100.20\n"
    );
}

#[tokio::test]
async fn bad_proofs_unknown_hosts_and_bad_json_are_4xx_and_change_nothing() {
    let account = account().await;
    let before = account.zone_records();
    for (fixture, status, words) in [
        (
            "set-legacy-wrong-hash",
            401,
            "validation_hash does not match",
        ),
        ("set-unknown-host", 403, "not a host this endpoint serves"),
        ("bad-json", 400, "the body is not JSON; expected"),
        ("set-signed-expired", 401, "timestamp"),
    ] {
        let (got, body) = serve(&account, fixture, 0).await;
        assert_eq!(got, status, "{fixture}: {body}");
        let (result, text) = message(&body);
        assert_eq!(result, "fail", "{fixture}");
        assert!(text.contains(words), "{fixture}: {text}");
    }
    assert_eq!(account.zone_records(), before);
}

#[tokio::test]
async fn a_signed_update_is_accepted_once() {
    let account = account().await;
    let (status, body) = serve(&account, "set-signed", 10).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(values(&account, HOST, RecordType::A), ["198.51.100.9"]);
    let (status, body) = serve(&account, "set-signed", 20).await;
    assert_eq!(status, 401, "{body}");
    assert!(message(&body).1.contains("nonce was used before"), "{body}");
    // Out of its window the same request is refused for its time.
    let (status, body) = serve(&account, "set-signed", 400).await;
    assert_eq!(status, 401, "{body}");
    assert!(message(&body).1.contains("timestamp"), "{body}");
}

#[tokio::test]
async fn too_many_failures_block_the_host_until_the_window_passes() {
    let account = account().await;
    for i in 0..10 {
        assert_eq!(serve(&account, "set-legacy-wrong-hash", i).await.0, 401);
    }
    let (status, body) = serve(&account, "set-legacy", 11).await;
    assert_eq!(status, 429, "blocked even with the right hash: {body}");
    assert_eq!(serve(&account, "dyndns2-good", 12).await.1, "abuse\n");
    assert!(values(&account, HOST, RecordType::A).is_empty());
    let (status, body) = serve(&account, "set-legacy", 3600).await;
    assert_eq!(status, 201, "the window passed: {body}");
}

/// A failed proof is counted against the address it came from, never in
/// the host's item (whose version does not move: an update in flight
/// keeps its race); a name given several times in one dyndns2 request
/// counts once.
#[tokio::test]
async fn a_failure_is_counted_against_its_address_not_the_host() {
    let account = account().await;
    let key = format!("host#{HOST}");
    let before = account.registry_items()[&key].clone();
    assert_eq!(serve(&account, "set-legacy-wrong-hash", 0).await.0, 401);
    let after = account.registry_items()[&key].clone();
    assert_eq!(after, before, "the host's item is not touched");
    let request = fixture("set-legacy-wrong-hash");
    let source: std::net::IpAddr = request["requestContext"]["http"]["sourceIp"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let counted = |at: i64| {
        let account = account.clone();
        async move {
            account
                .failures(HOST, source, now(at).timestamp(), WINDOW_SECONDS)
                .await
                .unwrap()
        }
    };
    assert_eq!(counted(0).await.host_from_source, 1);
    let mut many = fixture("dyndns2-badauth");
    many["rawQueryString"] =
        "hostname=home.corp.example,HOME.corp.example.,home.corp.example".into();
    many["requestContext"]["http"]["sourceIp"] = source.to_string().into();
    let (_, body) = serve_value(&account, many, 1).await;
    assert_eq!(body, "badauth\nbadauth\nbadauth\n");
    assert_eq!(counted(1).await.host_from_source, 2);
}

/// A stranger who knows the host's name fails ten times: its address is
/// answered `abuse` in every protocol, even with the right proof, and the
/// owner's update from its own address is checked and made.
#[tokio::test]
async fn a_stranger_cannot_lock_the_owner_out() {
    let account = account().await;
    let from = |mut request: Value, source: &str| {
        request["requestContext"]["http"]["sourceIp"] = source.into();
        request
    };
    for i in 0..10 {
        let guess = from(fixture("dyndns2-badauth"), "192.0.2.66");
        assert_eq!(serve_value(&account, guess, i).await.1, "badauth\n");
    }
    let blocked = from(fixture("dyndns2-good"), "192.0.2.66");
    assert_eq!(serve_value(&account, blocked, 11).await.1, "abuse\n");
    assert!(values(&account, HOST, RecordType::A).is_empty());
    let (status, body) = serve(&account, "set-legacy", 12).await;
    assert_eq!(status, 201, "the owner, from its own address: {body}");
    assert_eq!(values(&account, HOST, RecordType::A), ["203.0.113.7"]);
}

#[tokio::test]
async fn hosts_of_one_router_can_share_a_given_secret() {
    let account = account().await;
    let registrar = account.registrar(Config::default());
    let new = |host: &str, secret: &str| manage::NewHost {
        host: host.into(),
        zone: "Z0CORPPUBLIC".into(),
        ttl: 60,
        login: Some("router".into()),
        secret: Some(secret.into()),
        iam_principals: Vec::new(),
    };
    let err = manage::add(&registrar, &new("a.corp.example", "short"), now(0))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("at least 20"), "{err}");
    let shared = "a-shared-secret-of-32-characters";
    for host in ["a.corp.example", "b.corp.example"] {
        assert_eq!(
            manage::add(&registrar, &new(host, shared), now(0))
                .await
                .unwrap()
                .expose_secret(),
            shared
        );
    }
    let mut both = fixture("dyndns2-good");
    both["rawQueryString"] = "hostname=a.corp.example,b.corp.example&myip=198.51.100.5".into();
    both["headers"]["authorization"] =
        format!("Basic {}", base64_of(&format!("router:{shared}"))).into();
    let (_, body) = serve_value(&account, both, 0).await;
    assert_eq!(body, "good 198.51.100.5\ngood 198.51.100.5\n");
}

#[tokio::test]
async fn a_host_whose_record_was_never_settled_is_kept_by_remove() {
    let account = account().await;
    // An update sent the record and died before it learned the outcome.
    let record = model::RecordSet::new(HOST, RecordType::A, 60, vec!["203.0.113.7".into()]);
    account.edit(|w| {
        w.zones
            .iter_mut()
            .find(|z| z.id == PUBLIC)
            .unwrap()
            .records
            .push(record.clone())
    });
    let key = format!("host#{HOST}");
    let mut item = account.registry_items()[&key].clone();
    item.pending = vec![model::OwnedRecord {
        zone_id: PUBLIC.into(),
        zone_name: "corp.example.".into(),
        record,
    }];
    item.version += 1;
    account.save(&item).await.unwrap();
    let registrar = account.registrar(Config::default());
    let removal = manage::remove(&registrar, HOST, now(0)).await.unwrap();
    assert_eq!(removal.kept.len(), 1, "{removal:?}");
    assert!(account.registry_items().contains_key(&key));
    assert_eq!(
        values(&account, HOST, RecordType::A),
        ["203.0.113.7"],
        "never deleted"
    );
}

#[tokio::test]
async fn too_many_changes_block_the_host() {
    let account = account().await;
    let mut request = fixture("dyndns2-good");
    for i in 0..30 {
        request["rawQueryString"] =
            format!("hostname=home.corp.example&myip=198.51.100.{i}").into();
        let (_, body) = serve_value(&account, request.clone(), i).await;
        assert_eq!(body, format!("good 198.51.100.{i}\n"));
    }
    request["rawQueryString"] = "hostname=home.corp.example&myip=198.51.100.99".into();
    assert_eq!(serve_value(&account, request, 40).await.1, "abuse\n");
    assert_eq!(values(&account, HOST, RecordType::A), ["198.51.100.29"]);
}

#[tokio::test]
async fn an_ipv6_source_sets_aaaa_and_the_host_keeps_both() {
    let account = account().await;
    assert_eq!(serve(&account, "set-legacy", 0).await.0, 201);
    let (status, body) = serve(&account, "set-ipv6", 1).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(values(&account, HOST, RecordType::Aaaa), ["2001:db8::7"]);
    assert_eq!(values(&account, HOST, RecordType::A), ["203.0.113.7"]);
    assert_eq!(serve(&account, "set-ipv6", 2).await.0, 200, "unchanged");
}

#[tokio::test]
async fn a_name_an_instance_holds_is_refused_and_left_alone() {
    let account = account().await;
    let name = "ip-10-1-2-4.corp.example.";
    add_host(&account, name).await;
    let before = values(&account, name, RecordType::A);
    assert_eq!(before, ["54.210.1.4"], "web-1 holds it");
    let (status, body) = serve(&account, "set-ec2-name", 0).await;
    assert_eq!(status, 403, "{body}");
    assert!(message(&body).1.starts_with("refused"), "{body}");
    assert_eq!(values(&account, name, RecordType::A), before);
    let item = account.registry_items()[&format!("host#{name}")].clone();
    assert!(
        item.records.is_empty() && item.pending.is_empty(),
        "{item:?}"
    );
    // Nor may the host put an AAAA beside the instance's A: the name is
    // the host's only if everything at it is.
    let mut v6 = fixture("set-ec2-name");
    v6["requestContext"]["http"]["sourceIp"] = "2001:db8::9".into();
    v6["body"] = serde_json::json!({
        "execution_mode": "set",
        "ddns_hostname": "ip-10-1-2-4.corp.example",
        "validation_hash": ec2_ddns::ddns::auth::legacy_hash("2001:db8::9", "ip-10-1-2-4.corp.example", &SECRET.into()),
    })
    .to_string()
    .into();
    let (status, body) = serve_value(&account, v6, 1).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        message(&body)
            .1
            .contains("A holds a record this host does not own"),
        "{body}"
    );
    assert!(values(&account, name, RecordType::Aaaa).is_empty());
    // Web-1 still owns it: a termination deletes it.
    let web1 = account.registry_items()["i-0web1"].clone();
    assert!(web1.records.iter().any(|o| o.record.name == name));
}

#[tokio::test]
async fn an_instance_cannot_take_a_hosts_name() {
    let account = account().await;
    assert_eq!(serve(&account, "set-legacy", 0).await.0, 201);
    let tags = account.edit(|w| {
        w.instances[0]
            .tags
            .insert("HOSTNAME".into(), "home.corp.example".into());
        w.instances[0].tags.clone()
    });
    let change = ec2_ddns::event::parse_instance(ec2_ddns::event::tag_change_json(
        "tag-1",
        "i-0web1",
        &["HOSTNAME"],
        &tags,
        model::parse_time("2026-11-21T10:05:00Z").ok(),
        "us-east-1",
    ))
    .unwrap();
    let summary = account
        .registrar(Config::default())
        .handle(&change)
        .await
        .unwrap();
    assert!(
        summary.conflicts.iter().any(|c| c.name == HOST),
        "{summary:?}"
    );
    assert_eq!(values(&account, HOST, RecordType::A), ["203.0.113.7"]);
}

#[tokio::test]
async fn dyndns2_words() {
    let account = account().await;
    for (fixture, status, body) in [
        ("dyndns2-good", 200, "good 198.51.100.20\n"),
        ("dyndns2-good", 200, "nochg 198.51.100.20\n"),
        ("dyndns2-badauth", 200, "badauth\n"),
        ("dyndns2-nohost", 200, "nohost\n"),
        ("dyndns2-notfqdn", 200, "notfqdn\n"),
        ("dyndns2-no-auth", 401, "badauth\n"),
    ] {
        let (got, text) = serve(&account, fixture, 0).await;
        assert_eq!((got, text.as_str()), (status, body), "{fixture}");
    }
    // A login that is not the host's: nohost.
    let mut other = fixture("dyndns2-good");
    other["headers"]["authorization"] =
        format!("Basic {}", base64_of(&format!("someone-else:{SECRET}"))).into();
    assert_eq!(serve_value(&account, other, 1).await.1, "nohost\n");
}

/// Hostile queries through the endpoint: malformed URL encoding is refused
/// whole, before any host is read; what decodes is answered per host.
#[tokio::test]
async fn dyndns2_hostile_queries() {
    let account = account().await;
    let before = account.zone_records();
    let refused = (400, "notfqdn (the query is not valid URL encoding)\n");
    let long = "a".repeat(100_000);
    for (query, status, body) in [
        ("hostname=home.corp.example%zz", refused.0, refused.1),
        ("hostname=home.corp.example%2", refused.0, refused.1),
        ("hostname=%ff%fe.corp.example", refused.0, refused.1),
        (
            "hostname=home.corp.example&myip=%c0%ae",
            refused.0,
            refused.1,
        ),
        (
            "hostname=home.corp.example&myip=198.51.100.20%2B",
            400,
            "badagent (myip '198.51.100.20+' is not an IP address)\n",
        ),
        ("hostname=home+corp.example", 200, "notfqdn\n"),
        (&format!("hostname={long}"), 200, "notfqdn\n"),
        (&format!("hostname={long}.corp.example"), 200, "notfqdn\n"),
        (
            &format!("hostname={}", vec!["home.corp.example"; 1_000].join(",")),
            200,
            "numhost\n",
        ),
    ] {
        let mut request = fixture("dyndns2-good");
        request["rawQueryString"] = query.into();
        let (got, text) = serve_value(&account, request, 0).await;
        let shown = ec2_ddns::names::clip(query);
        assert_eq!((got, text.as_str()), (status, body), "{shown}");
    }
    assert_eq!(account.zone_records(), before, "nothing changed");
    // '+' is a space in a URL form: around myip it is trimmed.
    let mut request = fixture("dyndns2-good");
    request["rawQueryString"] = "hostname=+home.corp.example+&myip=+198.51.100.20+".into();
    let (got, text) = serve_value(&account, request, 1).await;
    assert_eq!((got, text.as_str()), (200, "good 198.51.100.20\n"));
}

fn base64_of(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[tokio::test]
async fn the_lambda_handler_answers_a_function_url_request_with_a_response() {
    let account = account().await;
    let answer = lambda::handle(&account.registrar(Config::default()), fixture("get"))
        .await
        .expect("never fails");
    assert_eq!(answer["statusCode"], 200);
    assert_eq!(answer["cookies"], serde_json::json!([]));
    assert_eq!(answer["headers"]["content-type"], "application/json");
    let (status, body) = (
        answer["statusCode"].clone(),
        answer["body"].as_str().unwrap_or_default().to_string(),
    );
    assert_eq!(status, 200);
    assert!(body.contains("203.0.113.7"));
    // Garbage shaped like a function URL request: a 4xx, not a failure.
    let mut broken = fixture("get");
    broken["requestContext"]["http"]["sourceIp"] = "not-an-ip".into();
    let answer = lambda::handle(&account.registrar(Config::default()), broken)
        .await
        .expect("never fails");
    assert_eq!(answer["statusCode"], 400);
}

#[tokio::test]
async fn hosts_are_added_listed_rotated_and_removed() {
    let account = account().await;
    let registrar = account.registrar(Config::default());
    let new = |host: &str| manage::NewHost {
        host: host.into(),
        zone: "corp.example".into(),
        ttl: 60,
        login: None,
        secret: None,
        iam_principals: Vec::new(),
    };
    for bad in [
        "corp.example",
        "*.corp.example",
        "bad_name!.corp.example",
        "x.other.example",
    ] {
        let err = manage::add(&registrar, &new(bad), now(0))
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("cannot be a DDNS host"),
            "{bad}: {err}"
        );
    }
    let err = manage::add(&registrar, &new(HOST), now(0))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("exists already"), "{err}");
    let secret = manage::add(&registrar, &new("office.corp.example"), now(0))
        .await
        .unwrap();
    let secret = secret.expose_secret();
    assert_eq!(secret.len(), 43);
    assert_eq!(serve(&account, "set-legacy", 0).await.0, 201);
    let lines = manage::list(&registrar).await.unwrap();
    let shown: Vec<(&str, &str, &str, bool)> = lines
        .iter()
        .map(|l| (l.host.as_str(), l.rtype.as_str(), l.value.as_str(), l.owned))
        .collect();
    assert!(
        shown.contains(&(HOST, "A", "203.0.113.7", true)),
        "{shown:?}"
    );
    assert!(
        shown.contains(&("office.corp.example.", "-", "-", false)),
        "{shown:?}"
    );
    assert!(!format!("{lines:?}").contains(secret));
    // Rotation: the old secret stops working.
    let rotated = manage::rotate(&registrar, HOST, None).await.unwrap();
    assert_ne!(rotated.expose_secret(), SECRET);
    assert_eq!(serve(&account, "dyndns2-good", 1).await.1, "badauth\n");
    // Removal deletes exactly what the host owns, and the host.
    let removal = manage::remove(&registrar, HOST, now(2)).await.unwrap();
    assert_eq!(removal.summary.changes.len(), 1, "{removal:?}");
    assert!(removal.kept.is_empty());
    assert!(values(&account, HOST, RecordType::A).is_empty());
    assert!(!account
        .registry_items()
        .contains_key(&format!("host#{HOST}")));
    assert_eq!(
        values(&account, "ip-10-1-2-4.corp.example.", RecordType::A),
        ["54.210.1.4"]
    );
    assert_eq!(serve(&account, "set-legacy", 3).await.0, 403, "removed");
}

#[tokio::test]
async fn the_reconcile_leaves_hosts_alone() {
    let account = account().await;
    assert_eq!(serve(&account, "set-legacy", 0).await.0, 201);
    assert_eq!(serve(&account, "set-ipv6", 0).await.0, 201);
    let item = account.registry_items()[&format!("host#{HOST}")].clone();
    let done = account
        .registrar(Config::default())
        .reconcile("r-1")
        .await
        .unwrap();
    assert_eq!((done.totals.instances_seen, done.totals.changed), (1, 0));
    assert_eq!(account.registry_items()[&format!("host#{HOST}")], item);
    assert_eq!(values(&account, HOST, RecordType::A), ["203.0.113.7"]);
    assert_eq!(values(&account, HOST, RecordType::Aaaa), ["2001:db8::7"]);
}

/// Route 53 refusing the change, or AWS failing: the answer is a short
/// stable reason and the request id, never AWS's code, text or a zone id
/// (the log has them).
#[tokio::test]
async fn aws_trouble_reaches_the_client_as_a_short_reason_and_the_request_id() {
    use ec2_ddns::sim::memory::Fault;
    let account = account().await;
    // Refused on every try (the engine tries a refused change again alone).
    for _ in 0..10 {
        account.inject(
            "route53:ChangeResourceRecordSets",
            Fault::Refused("InvalidChangeBatch", "RRSet with DNS name home.corp.example. is not permitted in zone corp.example. (Z0CORPPUBLIC)"),
        );
    }
    let (status, refused) = serve(&account, "set-legacy", 0).await;
    let (_, text) = message(&refused);
    assert_eq!(status, 502, "{refused}");
    assert_eq!(text, "Route 53 refused the change (request test)");
    account.revive();
    for _ in 0..20 {
        account.inject("route53:ChangeResourceRecordSets", Fault::Throttling);
    }
    let (status, body) = serve(&account, "set-legacy", 1).await;
    let (_, text) = message(&body);
    assert_eq!(
        (status, text.as_str()),
        (
            503,
            "the update could not be made now; try again later (request test)"
        ),
        "{body}"
    );
    for body in [&refused, &body] {
        for leak in [
            "Z0CORP",
            "InvalidChangeBatch",
            "Throttling",
            "Rate exceeded",
            "event",
        ] {
            assert!(!body.contains(leak), "{leak} in {body}");
        }
    }
}

/// A set answers with its change's id, and a `status` ask with the same
/// proof answers `PENDING` until Route 53's name servers have it, then
/// `INSYNC`; an unknown change is 404, a bad proof 401 (and counted), a
/// status without a change id 400. Nothing is written by a status.
#[tokio::test]
async fn a_set_answers_its_change_id_and_status_says_when_it_is_in_sync() {
    let account = account().await;
    account.set_propagation_polls(2);
    let (status, body) = serve(&account, "set-legacy", 0).await;
    assert_eq!(status, 201, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    let change_id = answer["change_id"]
        .as_str()
        .expect("a change id")
        .to_string();
    assert!(change_id.starts_with('C'), "{change_id}");
    let hash =
        ec2_ddns::ddns::auth::legacy_hash("203.0.113.7", "home.corp.example", &SECRET.into());
    let ask = |change_id: &str, hash: &str| {
        let mut request = fixture("set-legacy");
        request["body"] = serde_json::json!({
            "execution_mode": "status",
            "ddns_hostname": "home.corp.example",
            "validation_hash": hash,
            "change_id": change_id,
        })
        .to_string()
        .into();
        request
    };
    let before = account.registry_items();
    let mut seen = Vec::new();
    for at in 1..=3 {
        let (status, body) = serve_value(&account, ask(&change_id, &hash), at).await;
        assert_eq!(status, 200, "{body}");
        let answer: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(answer["change_id"], change_id.as_str());
        seen.push(answer["change_status"].as_str().unwrap().to_string());
    }
    assert_eq!(seen, ["PENDING", "PENDING", "INSYNC"]);
    assert_eq!(account.registry_items(), before, "a status writes nothing");
    let (status, body) = serve_value(&account, ask("C0000000000999", &hash), 4).await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = serve_value(&account, ask(&change_id, &"0".repeat(64)), 5).await;
    assert_eq!(status, 401, "{body}");
    let mut no_id = fixture("set-legacy");
    no_id["body"] =
        r#"{"execution_mode":"status","ddns_hostname":"home.corp.example","validation_hash":"00"}"#
            .into();
    let (status, body) = serve_value(&account, no_id, 6).await;
    assert_eq!(
        (status, message(&body).1.contains("needs change_id")),
        (400, true),
        "{body}"
    );
}

/// A set signed with AWS credentials, as Lambda hands it over from an
/// `AWS_IAM` function URL (it verified the SigV4 signature and put the
/// signer in `requestContext.authorizer.iam`; the emulator verifies no
/// signature, so the context is built here as Lambda builds it): no
/// secret needed for a listed principal, refused for another, and the
/// same proofless body on the public URL (no authorizer) is refused.
#[tokio::test]
async fn a_set_signed_by_a_listed_aws_principal_needs_no_secret() {
    let account = account().await;
    let key = ec2_ddns::model::RegistryKey::host(HOST);
    let mut item = account.load(&key).await.unwrap().expect("the host");
    item.host.as_mut().unwrap().iam_principals =
        vec!["arn:aws:iam::111122223333:role/home-router".into()];
    item.version += 1;
    account.save(&item).await.expect("principal listed");
    let signed = |user_arn: Option<&str>| {
        let mut request = fixture("set-legacy");
        request["body"] = serde_json::json!({
            "execution_mode": "set", "ddns_hostname": "home.corp.example", "ip": "198.51.100.44",
        })
        .to_string()
        .into();
        if let Some(arn) = user_arn {
            request["requestContext"]["authorizer"] = serde_json::json!({"iam": {
                "accessKey": "ASIAEXAMPLE", "accountId": "111122223333",
                "callerId": "AROAEXAMPLE:router", "userArn": arn, "userId": "AROAEXAMPLE:router",
            }});
        }
        request
    };
    let (status, body) = serve_value(
        &account,
        signed(Some(
            "arn:aws:sts::111122223333:assumed-role/home-router/router",
        )),
        0,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(values(&account, HOST, RecordType::A), ["198.51.100.44"]);
    // The change's status, asked the same way: no secret either.
    let change_id = serde_json::from_str::<Value>(&body).unwrap()["change_id"]
        .as_str()
        .expect("a change id")
        .to_string();
    let status_of = |arn: &str| {
        let mut request = signed(Some(arn));
        request["body"] = serde_json::json!({
            "execution_mode": "status", "ddns_hostname": "home.corp.example", "change_id": change_id,
        })
        .to_string()
        .into();
        request
    };
    let (status, body) = serve_value(
        &account,
        status_of("arn:aws:sts::111122223333:assumed-role/home-router/router"),
        1,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["change_status"],
        "INSYNC"
    );
    let (status, body) = serve_value(
        &account,
        status_of("arn:aws:sts::111122223333:assumed-role/someone-else/x"),
        1,
    )
    .await;
    assert_eq!(status, 401, "another principal's status ask: {body}");
    let (status, body) = serve_value(
        &account,
        signed(Some(
            "arn:aws:sts::111122223333:assumed-role/someone-else/x",
        )),
        1,
    )
    .await;
    assert_eq!(status, 401, "{body}");
    assert!(
        message(&body)
            .1
            .contains("this AWS principal may not update this host"),
        "{body}"
    );
    let (status, body) = serve_value(&account, signed(None), 2).await;
    assert_eq!(status, 400, "the public URL: {body}");
    assert!(
        message(&body).1.contains("set needs validation_hash"),
        "{body}"
    );
}
