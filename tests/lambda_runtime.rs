//! The real `bootstrap` binary behind the real Lambda Runtime API, emulated
//! by `cargo lambda watch --only-lambda-apis`, talking to moto. Proves the
//! binary speaks the Runtime API, reads its configuration from the
//! environment and serves several invocations from one process, SQS
//! batches (buffered mode) included.

mod common;

use common::runtime::{event_for, Function};

#[test]
#[ignore = "needs the emulator and cargo-lambda: run through scripts/test"]
fn bootstrap_serves_several_invocations_through_the_runtime_api() {
    // Each test here resets moto and seeds its own world.
    let _serial = common::MOTO_LOCK.blocking_lock();
    let endpoint = common::moto_endpoint();
    let ids = common::seed_moto(
        &endpoint,
        &common::repo("fixtures/worlds/split-horizon.json"),
    );
    let web1 = ids["instances"]["i-0web1"].as_str().unwrap().to_string();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();

    // Lambda's advanced logging controls, as the function sees them.
    let mut function = Function::start(
        &endpoint,
        dir,
        &[
            ("DDNS_TTL", "120"),
            ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
            ("AWS_LAMBDA_LOG_LEVEL", "INFO"),
        ],
    );
    let log_file = function.log_file.clone();

    let running = function.invoke(&event_for(
        "fixtures/events/web-1-running.json",
        "i-0web1",
        &web1,
        dir,
    ));
    assert_eq!(running["outcome"], "applied", "{running}");
    assert_eq!(running["instance_id"], web1.as_str());
    let changes = running["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 5, "{running}");
    assert!(
        changes.iter().all(|c| c["ttl"] == 120),
        "DDNS_TTL read from the environment: {running}"
    );

    let foreign = function.invoke(&common::repo("fixtures/events/not-ec2.json"));
    assert_eq!(foreign["outcome"], "error", "{foreign}");
    assert_eq!(
        foreign["retryable"], false,
        "a bad event is answered, not retried: {foreign}"
    );
    assert!(
        foreign["error"]
            .as_str()
            .unwrap()
            .contains("unsupported event"),
        "{foreign}"
    );

    let again = function.invoke(&event_for(
        "fixtures/events/web-1-running.json",
        "i-0web1",
        &web1,
        dir,
    ));
    assert_eq!(again["outcome"], "nothing-to-do", "{again}");

    // The schedule's event: the full reconcile, answered with its totals.
    let scheduled = function.invoke(&common::repo("fixtures/events/scheduled.json"));
    assert_eq!(scheduled["totals"]["totals"], "reconcile", "{scheduled}");
    assert_eq!(scheduled["totals"]["errors"], 0, "{scheduled}");
    assert_eq!(scheduled["totals"]["items_seen"], 1, "{scheduled}");
    assert_eq!(
        scheduled["totals"]["records_created"], 0,
        "web-1 is registered already: {scheduled}"
    );
    assert!(
        scheduled["totals"]["aws_calls"].as_u64().unwrap_or(0) > 0,
        "{scheduled}"
    );

    let terminated = function.invoke(&event_for(
        "fixtures/events/web-1-terminated.json",
        "i-0web1",
        &web1,
        dir,
    ));
    assert_eq!(terminated["outcome"], "applied", "{terminated}");
    let deletes = terminated["changes"].as_array().unwrap();
    assert_eq!(deletes.len(), 5, "{terminated}");
    assert!(
        deletes.iter().all(|c| c["action"] == "DELETE"),
        "{terminated}"
    );

    assert!(
        function.bootstrap.0.try_wait().unwrap().is_none(),
        "one bootstrap process served all five invocations"
    );

    // AWS_LAMBDA_LOG_FORMAT=JSON: every line on stdout is a JSON object:
    // log lines with Powertools' keys (one "event handled" per handled
    // event, the invocation's request id on each, a cold start only in
    // the first invocation), and the metrics' embedded-metric-format lines.
    let log = std::fs::read_to_string(&log_file).unwrap();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON log line ({e}): {l}"))
        })
        .collect();
    let (metrics, logs): (Vec<_>, Vec<_>) = lines.iter().partition(|l| l.get("_aws").is_some());
    let handled: Vec<_> = logs
        .iter()
        .filter(|l| l["message"] == "event handled")
        .collect();
    assert_eq!(handled.len(), 3, "running, duplicate, terminated: {log}");
    for line in &handled {
        for key in [
            "level",
            "timestamp",
            "service",
            "cold_start",
            "function_request_id",
        ] {
            assert!(line.get(key).is_some(), "{key} missing: {line}");
        }
    }
    assert_eq!(handled[0]["cold_start"], true, "{log}");
    assert_eq!(handled[1]["cold_start"], false, "{log}");
    assert!(
        logs.iter()
            .any(|l| l["level"] == "ERROR" && l["message"] == "event rejected"),
        "the foreign event is logged as rejected: {log}"
    );
    assert!(
        logs.iter().any(|l| l["message"] == "reconcile done"),
        "the reconcile logs its totals: {log}"
    );
    assert_eq!(
        logs.iter()
            .filter(|l| l["message"] == "record changed")
            .count(),
        10,
        "web-1's 5 records created, then deleted: {log}"
    );
    // One line of totals per invocation, the function named.
    let totals: Vec<_> = metrics
        .iter()
        .filter(|m| m.get("RecordsCreated").is_some())
        .collect();
    assert_eq!(totals.len(), 5, "five invocations so far: {log}");
    assert!(totals.iter().all(|m| m["Function"] == "_"), "{log}");
    assert_eq!(totals[0]["RecordsCreated"], 5, "{log}");
    assert_eq!(totals[0]["ColdStarts"], 1, "{log}");
    assert_eq!(totals[4]["RecordsDeleted"], 5, "{log}");

    // Buffered mode: an SQS batch (pending, running, the running again)
    // converges web-1 once and names no message to deliver again; the
    // reconcile after it finds nothing to create.
    let batch = function.invoke(&event_for(
        "fixtures/events/sqs-web-1-launch.json",
        "i-0web1",
        &web1,
        dir,
    ));
    assert_eq!(
        batch,
        serde_json::json!({"batchItemFailures": []}),
        "{batch}: {}",
        std::fs::read_to_string(&log_file).unwrap_or_default()
    );
    let after = function.invoke(&common::repo("fixtures/events/scheduled.json"));
    assert_eq!(after["totals"]["items_seen"], 1, "{after}");
    assert_eq!(after["totals"]["records_created"], 0, "{after}");
    assert_eq!(after["totals"]["errors"], 0, "{after}");
}

/// The organization mode through the real binary: three member accounts'
/// events forwarded as the central bus delivers them (`account` set), the
/// central account's id from STS at the cold start, each member role
/// assumed once by the warm process, and 333333333333 (no role) failing
/// its event alone, counted as `MemberAccountsUnreachable`. Run with
/// `--nocapture` to see each invocation's calls.
#[test]
#[ignore = "needs the emulator and cargo-lambda: run through scripts/test"]
fn bootstrap_converges_member_accounts_with_one_assume_role_each() {
    let _serial = common::MOTO_LOCK.blocking_lock();
    let endpoint = common::moto_endpoint();
    let ids = common::seed_moto(
        &endpoint,
        &common::repo("fixtures/worlds/organization.json"),
    );
    let member = |account: &str, world_id: &str| {
        ids["members"][format!("{account}/us-east-1")]["instances"][world_id]
            .as_str()
            .unwrap()
            .to_string()
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let function = Function::start(
        &endpoint,
        dir,
        &[
            (
                "DDNS_MEMBER_ACCOUNTS",
                "111111111111,222222222222,333333333333",
            ),
            ("DDNS_MEMBER_EXTERNAL_ID", "ec2-ddns-test"),
            ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
        ],
    );
    let event = |n: &str, account: &str, world_id: &str, real: &str| {
        let file = format!("fixtures/events/organization/{n}-{account}-running.json");
        let path = event_for(&file, world_id, real, dir);
        function.invoke(&path)
    };
    let web = member("111111111111", "i-0aaaa00000000001");
    let api = member("222222222222", "i-0aaaa00000000001");
    let lost = member("333333333333", "i-0cccc00000000001");
    let answers = [
        event("1", "111111111111", "i-0aaaa00000000001", &web),
        event("1", "111111111111", "i-0aaaa00000000001", &web),
        event("2", "222222222222", "i-0aaaa00000000001", &api),
        event("3", "333333333333", "i-0cccc00000000001", &lost),
    ];
    for answer in &answers {
        println!("answer: {answer}");
    }
    assert_eq!(answers[0]["outcome"], "applied", "{}", answers[0]);
    assert_eq!(answers[0]["place"]["account"], "111111111111");
    assert_eq!(answers[1]["outcome"], "nothing-to-do", "{}", answers[1]);
    assert_eq!(answers[2]["outcome"], "applied", "{}", answers[2]);
    assert_eq!(answers[3]["outcome"], "error", "{}", answers[3]);
    assert!(
        answers[3]["error"]
            .as_str()
            .unwrap_or_default()
            .contains("AccessDenied"),
        "{}",
        answers[3]
    );

    let log = std::fs::read_to_string(&function.log_file).unwrap();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let calls: Vec<serde_json::Value> = lines
        .iter()
        .filter(|l| l["message"] == "invocation done")
        .map(|l| serde_json::from_str(l["by_operation"].as_str().unwrap_or("{}")).unwrap())
        .collect();
    for (n, c) in calls.iter().enumerate() {
        println!("invocation {}: {c}", n + 1);
    }
    assert_eq!(calls.len(), 4, "{log}");
    assert_eq!(
        calls[0]["sts:AssumeRole"], 1,
        "the first event of 111111111111: {}",
        calls[0]
    );
    assert_eq!(
        calls[0]["sts:GetCallerIdentity"],
        serde_json::Value::Null,
        "at the cold start, before any invocation"
    );
    assert_eq!(
        calls[1]["sts:AssumeRole"],
        serde_json::Value::Null,
        "warm: {}",
        calls[1]
    );
    assert_eq!(
        calls[2]["sts:AssumeRole"], 1,
        "222222222222's own role: {}",
        calls[2]
    );
    let unreachable: f64 = lines
        .iter()
        .filter(|l| l.get("_aws").is_some())
        .filter_map(|l| l["MemberAccountsUnreachable"].as_f64())
        .sum();
    assert_eq!(unreachable, 1.0, "{log}");
}
