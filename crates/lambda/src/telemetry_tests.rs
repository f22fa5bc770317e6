//! Whole invocations on the in-memory account through [`Function::invoke`],
//! with the metrics and the logs written to writers the tests read: each
//! metrics line read by the embedded metric format's rules
//! (`metrics::tests::read_emf`), each log line as JSON with Powertools'
//! keys.

use crate::capture::Capture;
use crate::metrics::tests::{read_emf, Emf};
use crate::metrics::{Emitter, Settings};
use crate::{logs, Function};
use ec2_ddns_core::event;
use ec2_ddns_core::model::{
    self, HostSettings, InstanceState, RecordSet, RecordType, RegistryItem,
};
use ec2_ddns_core::ports::Registry;
use ec2_ddns_core::Config;
use ec2_ddns_sim::memory::{Fault, MemoryAccount};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::Value;

/// One process: its function, what its metrics and logs wrote.
struct Process {
    function: Function,
    metrics: Capture,
    logs: Capture,
    invoked: usize,
    /// The registrar's settings for every invocation.
    config: Config,
}

impl Process {
    fn new() -> Process {
        let metrics = Capture::default();
        let settings = Settings {
            namespace: "ec2-ddns".into(),
            function: "ec2-ddns-test".into(),
        };
        Process {
            function: Function::new(Some(Emitter::new(settings, metrics.clone()))),
            metrics,
            logs: Capture::default(),
            invoked: 0,
            config: Config::default(),
        }
    }

    /// Invokes the function (request id `req-N`) with the JSON log
    /// subscriber on this thread; the answer and the invocation's metrics.
    async fn invoke(&mut self, account: &MemoryAccount, payload: Value) -> (Value, Invocation) {
        self.invoked += 1;
        let before = self.metrics.lines().len();
        let mut context = Context::default();
        context.request_id = format!("req-{}", self.invoked);
        context.xray_trace_id = Some(format!("Root=1-00000000-{:024}", self.invoked));
        let json = logs::Settings {
            json: true,
            filter: "info".into(),
            service: logs::DEFAULT_SERVICE.into(),
        };
        let _logging = tracing::subscriber::set_default(logs::subscriber(&json, self.logs.clone()));
        let answer = self
            .function
            .invoke(
                &account.registrar(self.config.clone()),
                LambdaEvent::new(payload, context),
            )
            .await
            .unwrap_or_else(|d| serde_json::json!({"failed": d.error_type}));
        let lines = self.metrics.lines()[before..]
            .iter()
            .map(|l| read_emf(l))
            .collect();
        (answer, Invocation(lines))
    }

    /// The log lines of invocation `req-N`, each parsed.
    fn logs_of(&self, request_id: &str) -> Vec<Value> {
        self.logs
            .lines()
            .iter()
            .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .filter(|l| l["function_request_id"] == request_id)
            .collect()
    }
}

/// One invocation's metrics lines.
#[derive(Debug)]
struct Invocation(Vec<Emf>);

impl Invocation {
    /// The value of `metric` on the line whose dimensions are `Function`
    /// and `dimensions`, exactly.
    fn get(&self, metric: &str, dimensions: &[(&str, &str)]) -> Option<f64> {
        self.0
            .iter()
            .filter(|l| {
                l.dimensions.len() == dimensions.len() + 1
                    && l.dimensions["Function"] == "ec2-ddns-test"
                    && dimensions
                        .iter()
                        .all(|(k, v)| l.dimensions.get(*k).map(String::as_str) == Some(*v))
            })
            .find_map(|l| l.metrics.get(metric).copied())
    }

    /// A count on the `[["Function"]]` line (every invocation has one).
    fn total(&self, metric: &str) -> f64 {
        self.get(metric, &[])
            .unwrap_or_else(|| panic!("no {metric} total: {self:#?}"))
    }

    fn events(&self, kind: &str, outcome: &str) -> Option<f64> {
        self.get("Events", &[("Kind", kind), ("Outcome", outcome)])
    }
}

fn running() -> Value {
    let time = model::parse_time("2026-11-21T10:00:00Z").ok();
    event::state_change_json("e-1", "i-0web1", InstanceState::Running, time, "us-east-1")
}

fn fixture(path: &str) -> Value {
    let path = format!("{}/../../fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect(&path)).expect(&path)
}

#[tokio::test]
async fn a_running_event_counts_its_records_calls_throttles_and_cold_start() {
    let account = MemoryAccount::fixture("split-horizon");
    // Route 53 throttles one change call: waited out, counted anyway.
    account.inject("route53:ChangeResourceRecordSets", Fault::Throttling);
    let mut process = Process::new();
    let (answer, metrics) = process.invoke(&account, running()).await;
    assert_eq!(answer["outcome"], "applied", "{answer}");
    assert_eq!(metrics.total("Events"), 1.0);
    assert_eq!(metrics.events("state-change", "applied"), Some(1.0));
    assert_eq!(metrics.total("RecordsCreated"), 5.0);
    assert_eq!(metrics.total("RecordsDeleted"), 0.0);
    assert_eq!(metrics.total("Conflicts"), 0.0);
    assert_eq!(metrics.total("Route53Throttles"), 1.0);
    assert_eq!(metrics.total("RetryableFailures"), 0.0);
    assert_eq!(metrics.total("ReconcileRepairs"), 0.0);
    assert_eq!(metrics.total("ColdStarts"), 1.0);
    assert!(metrics.total("AwsCalls") >= 10.0, "{metrics:#?}");
    assert_eq!(metrics.total("DdnsRequests"), 0.0);

    // The same event again, warm: nothing to do, no cold start.
    let (answer, metrics) = process.invoke(&account, running()).await;
    assert_eq!(answer["outcome"], "nothing-to-do", "{answer}");
    assert_eq!(metrics.events("state-change", "nothing-to-do"), Some(1.0));
    assert_eq!(metrics.total("RecordsCreated"), 0.0);
    assert_eq!(metrics.total("ColdStarts"), 0.0);
    assert_eq!(metrics.total("Route53Throttles"), 0.0);

    // The logs: JSON lines with Powertools' keys, cold only the first
    // time, and one line per record created.
    for (request, cold) in [("req-1", true), ("req-2", false)] {
        let lines = process.logs_of(request);
        assert!(!lines.is_empty(), "{request}: {:#?}", process.logs.lines());
        for line in &lines {
            for key in crate::logs::RESERVED {
                assert!(line.get(key).is_some(), "{key} missing: {line}");
            }
            assert_eq!(line["cold_start"], cold, "{line}");
            assert_eq!(line["service"], "ec2-ddns", "{line}");
        }
    }
    let changed: Vec<Value> = process
        .logs_of("req-1")
        .into_iter()
        .filter(|l| l["message"] == "record changed")
        .collect();
    assert_eq!(changed.len(), 5, "{changed:#?}");
    for line in &changed {
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["subject"], "i-0web1", "{line}");
        assert_eq!(line["action"], "CREATE", "{line}");
        for key in ["zone", "zone_id", "name", "type", "values"] {
            assert!(line.get(key).is_some(), "{key} missing: {line}");
        }
    }
    assert!(
        changed
            .iter()
            .any(|l| l["type"] == "PTR" && l["zone"] == "10.in-addr.arpa."),
        "{changed:#?}"
    );
    assert!(process
        .logs_of("req-2")
        .iter()
        .all(|l| l["message"] != "record changed"));
}

#[tokio::test]
async fn a_conflict_is_counted_with_its_event() {
    let account = MemoryAccount::fixture("split-horizon");
    // Someone else holds web-1's alias in both corp.example zones.
    account.edit(|world| {
        for zone in world.zones.iter_mut().filter(|z| z.name == "corp.example.") {
            zone.records.push(RecordSet::new(
                "api.corp.example.",
                RecordType::A,
                300,
                vec!["192.0.2.10".into()],
            ));
        }
    });
    let mut process = Process::new();
    let (answer, metrics) = process.invoke(&account, running()).await;
    assert_eq!(answer["outcome"], "conflict", "{answer}");
    let conflicts = answer["conflicts"].as_array().map_or(0, Vec::len);
    assert!(conflicts >= 1, "{answer}");
    assert_eq!(metrics.total("Conflicts"), conflicts as f64);
    assert_eq!(metrics.events("state-change", "conflict"), Some(1.0));
    assert_eq!(metrics.events("state-change", "applied"), None);
    let created = answer["changes"].as_array().map_or(0, Vec::len);
    assert_eq!(metrics.total("RecordsCreated"), created as f64);
}

#[tokio::test]
async fn a_reconcile_that_repairs_a_lost_event_counts_each_repair() {
    // web-1 runs, but its event never came: the schedule's reconcile
    // writes its records.
    let account = MemoryAccount::fixture("split-horizon");
    let mut process = Process::new();
    let scheduled = event::scheduled_json("s-1", None, "us-east-1");
    let (answer, metrics) = process.invoke(&account, scheduled.clone()).await;
    assert_eq!(answer["totals"]["records_created"], 5, "{answer}");
    assert_eq!(metrics.events("scheduled", "applied"), Some(1.0));
    assert_eq!(metrics.total("ReconcileRepairs"), 5.0);
    assert_eq!(metrics.total("RecordsCreated"), 5.0);
    assert_eq!(
        metrics.total("AwsCalls"),
        answer["totals"]["aws_calls"].as_f64().unwrap(),
        "the reconcile's own calls are the invocation's: {answer}"
    );
    // Nothing lost since: nothing repaired.
    let (_, metrics) = process.invoke(&account, scheduled).await;
    assert_eq!(metrics.events("scheduled", "nothing-to-do"), Some(1.0));
    assert_eq!(metrics.total("ReconcileRepairs"), 0.0);
}

#[tokio::test]
async fn ddns_requests_count_by_word_and_a_bad_proof_is_a_refusal() {
    let account = MemoryAccount::fixture("split-horizon");
    account
        .save(&RegistryItem {
            key: model::RegistryKey::host("home.corp.example."),
            version: 1,
            host: Some(HostSettings {
                zone_id: "Z0CORPPUBLIC".into(),
                zone_name: "corp.example.".into(),
                ttl: 60,
                secret: "test-secret-not-for-production".into(),
                ..HostSettings::default()
            }),
            ..RegistryItem::default()
        })
        .await
        .expect("host saved");
    let mut process = Process::new();

    let (answer, metrics) = process
        .invoke(&account, fixture("ddns/dyndns2-good.json"))
        .await;
    assert_eq!(answer["body"], "good 198.51.100.20\n", "{answer}");
    assert_eq!(metrics.total("DdnsRequests"), 1.0);
    assert_eq!(
        metrics.get("DdnsRequests", &[("Outcome", "good")]),
        Some(1.0)
    );
    assert_eq!(metrics.total("DdnsRefusals"), 0.0);
    assert_eq!(metrics.events("ddns", "applied"), Some(1.0));
    assert_eq!(metrics.total("RecordsCreated"), 1.0);
    let changed: Vec<Value> = process
        .logs_of("req-1")
        .into_iter()
        .filter(|l| l["message"] == "record changed")
        .collect();
    assert_eq!(changed.len(), 1, "{changed:#?}");
    assert_eq!(
        changed[0]["subject"], "home.corp.example.",
        "the host by its name"
    );
    assert_eq!(changed[0]["type"], "A");
    assert_eq!(changed[0]["zone_id"], "Z0CORPPUBLIC");

    let (answer, metrics) = process
        .invoke(&account, fixture("ddns/dyndns2-badauth.json"))
        .await;
    assert_eq!(answer["body"], "badauth\n", "{answer}");
    assert_eq!(
        metrics.get("DdnsRequests", &[("Outcome", "badauth")]),
        Some(1.0)
    );
    assert_eq!(metrics.get("DdnsRequests", &[("Outcome", "good")]), None);
    assert_eq!(metrics.total("DdnsRefusals"), 1.0);
    assert_eq!(metrics.events("ddns", "rejected"), Some(1.0));
    assert_eq!(metrics.total("RecordsCreated"), 0.0);
    assert_eq!(metrics.total("ColdStarts"), 0.0);
}

#[tokio::test]
async fn an_sqs_batch_counts_one_event_per_message() {
    let account = MemoryAccount::fixture("split-horizon");
    let mut process = Process::new();
    let (answer, metrics) = process
        .invoke(&account, fixture("events/sqs-web-1-launch.json"))
        .await;
    assert_eq!(answer, serde_json::json!({"batchItemFailures": []}));
    let messages = fixture("events/sqs-web-1-launch.json")["Records"]
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(metrics.total("Events"), messages as f64);
    // Each message by the kind of event it carries (here all state
    // changes of web-1), with its instance's outcome.
    assert_eq!(
        metrics.events("state-change", "applied"),
        Some(messages as f64)
    );
    assert_eq!(metrics.total("RecordsCreated"), 5.0);
}

/// The organization mode: a member account whose role cannot be assumed
/// is counted (`MemberAccountsUnreachable`), for its event and in the
/// reconcile, while the other member's event and places go on.
#[tokio::test]
async fn a_member_account_that_cannot_be_read_is_counted_apart() {
    let account = MemoryAccount::fixture("organization");
    let mut process = Process::new();
    process.config = Config::from_lookup(|k| {
        (k == "DDNS_MEMBER_ACCOUNTS").then(|| "111111111111,333333333333".to_string())
    })
    .unwrap();
    let from = |account_id: &str, instance_id: &str| {
        let mut json = event::state_change_json(
            &format!("evt-{account_id}"),
            instance_id,
            ec2_ddns_core::model::InstanceState::Running,
            None,
            "us-east-1",
        );
        json["account"] = account_id.into();
        json
    };
    let (answer, metrics) = process
        .invoke(&account, from("333333333333", "i-0cccc00000000001"))
        .await;
    assert_eq!(answer["outcome"], "error", "{answer}");
    assert_eq!(metrics.total("MemberAccountsUnreachable"), 1.0);
    let (answer, metrics) = process
        .invoke(&account, from("111111111111", "i-0aaaa00000000001"))
        .await;
    assert_eq!(answer["outcome"], "applied", "{answer}");
    assert_eq!(answer["place"]["account"], "111111111111", "{answer}");
    assert_eq!(metrics.total("MemberAccountsUnreachable"), 0.0);
    let (answer, metrics) = process
        .invoke(&account, event::scheduled_json("s-1", None, "us-east-1"))
        .await;
    assert_eq!(answer["totals"]["places"], 2, "{answer}");
    assert_eq!(answer["totals"]["unreachable_places"], 1, "{answer}");
    assert_eq!(metrics.total("MemberAccountsUnreachable"), 1.0);
}
