//! The function's CloudWatch metrics, in the embedded metric format (EMF):
//! JSON lines on stdout that CloudWatch Logs turns into metrics, so no
//! `cloudwatch:PutMetricData` call, permission or wait. Only inside Lambda
//! (`AWS_LAMBDA_FUNCTION_NAME` set), or where a test asks for them.
//!
//! A few lines per invocation, written from its [`Tally`] by a pure
//! function ([`lines`]):
//!
//! - one with every count of the invocation, dimension set
//!   `[["Function"]]`: `Events`, `RecordsCreated`, `RecordsDeleted`,
//!   `Conflicts`, `Rejections`, `RetryableFailures`, `Route53Throttles`,
//!   `ReconcileRepairs`, `ColdStarts`, `AwsCalls`, `DdnsRequests`,
//!   `DdnsRefusals`, `MemberAccountsUnreachable` (the organization mode:
//!   member accounts whose role could not be assumed), zeros included (an
//!   alarm then always has data);
//! - one per kind and outcome of the events handled, `Events` by
//!   `[["Function", "Kind", "Outcome"]]`;
//! - one per DDNS answer word, `DdnsRequests` by `[["Function", "Outcome"]]`;
//! - one per result of the lifecycle actions handled, `LifecycleHooks` by
//!   `[["Function", "Result"]]` (`CONTINUE`, `ABANDON`, `NotWaiting`,
//!   `Retry`, `Error`).
//!
//! The names are a contract (alarms are written against them): renaming
//! one breaks someone's alarm.
//!
//! Written by hand rather than through the `metrics` facade and
//! `metrics_cloudwatch_embedded`: every count already exists in the
//! invocation's summaries and call log, so a recorder would only copy them;
//! that crate builds one dimension set per document, not the two `Events`
//! and `DdnsRequests` carry; and a facade's recorder is one per process,
//! which the tests (several invocations at once, each read through its own
//! writer) could not share. A JSON object per line is all EMF asks.

use crate::tally::Tally;
use serde_json::{json, Map, Value};
use std::io::Write;
use std::sync::{Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

/// The namespace when `DDNS_METRICS_NAMESPACE` is unset or blank.
pub const DEFAULT_NAMESPACE: &str = "ec2-ddns";

/// EMF's limits per line: metrics in one directive, dimensions in one set.
pub const MAX_METRICS: usize = 100;
pub const MAX_DIMENSIONS: usize = 30;

/// Where the metrics go in CloudWatch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub namespace: String,
    /// The `Function` dimension: the function's name.
    pub function: String,
}

impl Settings {
    /// From the environment; `None` outside Lambda (no
    /// `AWS_LAMBDA_FUNCTION_NAME`), where nothing reads stdout as metrics.
    pub fn from_env() -> Option<Settings> {
        Settings::from_vars(
            std::env::var("AWS_LAMBDA_FUNCTION_NAME").ok(),
            std::env::var("DDNS_METRICS_NAMESPACE").ok(),
        )
    }

    fn from_vars(function: Option<String>, namespace: Option<String>) -> Option<Settings> {
        let set = |v: Option<String>| v.filter(|v| !v.trim().is_empty());
        Some(Settings {
            function: set(function)?,
            namespace: set(namespace)
                .map(|n| n.trim().to_string())
                .unwrap_or_else(|| DEFAULT_NAMESPACE.to_string()),
        })
    }
}

/// One EMF document: `metrics` (name, value), all `Count`, under one
/// dimension set made of `Function` and `dimensions` (name, value).
fn document(
    settings: &Settings,
    timestamp_ms: i64,
    dimensions: &[(&str, &str)],
    metrics: &[(&str, usize)],
) -> Value {
    document_in(settings, timestamp_ms, dimensions, metrics, "Count")
}

/// [`document`], its metrics in `unit` (`Count`, `Milliseconds`).
fn document_in(
    settings: &Settings,
    timestamp_ms: i64,
    dimensions: &[(&str, &str)],
    metrics: &[(&str, usize)],
    unit: &str,
) -> Value {
    let mut root = Map::new();
    let mut set = vec!["Function"];
    root.insert("Function".into(), json!(settings.function));
    for (name, value) in dimensions {
        set.push(name);
        root.insert((*name).into(), json!(value));
    }
    let mut names = Vec::new();
    for (name, value) in metrics {
        names.push(json!({"Name": name, "Unit": unit}));
        root.insert((*name).into(), json!(value));
    }
    root.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": settings.namespace,
                "Dimensions": [set],
                "Metrics": names,
            }]
        }),
    );
    Value::Object(root)
}

/// The lines of one invocation, at `timestamp_ms` (Unix milliseconds).
pub fn lines(tally: &Tally, settings: &Settings, timestamp_ms: i64) -> Vec<Value> {
    let totals = [
        ("Events", tally.events_total()),
        ("RecordsCreated", tally.records_created),
        ("RecordsDeleted", tally.records_deleted),
        ("Conflicts", tally.conflicts),
        ("Rejections", tally.rejections),
        ("RetryableFailures", tally.retryable_failures),
        ("Route53Throttles", tally.route53_throttles()),
        ("ReconcileRepairs", tally.reconcile_repairs),
        ("ColdStarts", usize::from(tally.cold_start)),
        ("AwsCalls", tally.aws_calls_total()),
        ("DdnsRequests", tally.ddns_requests_total()),
        ("DdnsRefusals", tally.ddns_refusals),
        ("MemberAccountsUnreachable", tally.members_unreachable),
    ];
    let mut lines = vec![document(settings, timestamp_ms, &[], &totals)];
    for ((kind, outcome), n) in &tally.events {
        lines.push(document(
            settings,
            timestamp_ms,
            &[("Kind", kind.as_str()), ("Outcome", outcome.as_str())],
            &[("Events", *n)],
        ));
    }
    for (word, n) in &tally.ddns_requests {
        lines.push(document(
            settings,
            timestamp_ms,
            &[("Outcome", word)],
            &[("DdnsRequests", *n)],
        ));
    }
    for (result, n) in &tally.hooks {
        lines.push(document(
            settings,
            timestamp_ms,
            &[("Result", result)],
            &[("LifecycleHooks", *n)],
        ));
    }
    for waited in &tally.insync_waits {
        lines.push(document_in(
            settings,
            timestamp_ms,
            &[],
            &[("TimeToInsync", waited.as_millis() as usize)],
            "Milliseconds",
        ));
    }
    lines
}

/// Writes each invocation's lines, one JSON object a line, each line in
/// one write (stdout is shared with the logs).
pub struct Emitter {
    settings: Settings,
    out: Mutex<Box<dyn Write + Send>>,
}

impl Emitter {
    pub fn new(settings: Settings, out: impl Write + Send + 'static) -> Emitter {
        Emitter {
            settings,
            out: Mutex::new(Box::new(out)),
        }
    }

    /// On stdout, inside Lambda only.
    pub fn from_env() -> Option<Emitter> {
        Settings::from_env().map(|settings| Emitter::new(settings, std::io::stdout()))
    }

    /// Writes the lines of `tally`, stamped `now`. A line that cannot be
    /// written is logged and the invocation goes on: metrics never fail it.
    pub fn emit(&self, tally: &Tally, now: SystemTime) {
        let ms = now
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        let mut out = self.out.lock().unwrap_or_else(PoisonError::into_inner);
        for line in lines(tally, &self.settings, ms) {
            let written = out
                .write_all(format!("{line}\n").as_bytes())
                .and_then(|()| out.flush());
            if let Err(e) = written {
                tracing::warn!(error = %e, "a metrics line could not be written");
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::tally::Kind;
    use ec2_ddns_core::summary::Outcome;
    use std::collections::BTreeMap;

    /// A line read back by the EMF specification's rules: `_aws` with a
    /// millisecond `Timestamp` and one directive whose namespace,
    /// dimension sets (at most 30 dimensions each) and metrics (at most
    /// 100, each a `Count`) are all present at the root, dimensions as
    /// strings and metrics as numbers. The line's metrics by name, with the
    /// dimension sets and their values.
    #[derive(Debug, Clone, PartialEq)]
    pub(crate) struct Emf {
        pub namespace: String,
        pub dimension_sets: Vec<Vec<String>>,
        pub dimensions: BTreeMap<String, String>,
        pub metrics: BTreeMap<String, f64>,
    }

    pub(crate) fn read_emf(line: &str) -> Emf {
        let root: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        let aws = &root["_aws"];
        let timestamp = aws["Timestamp"].as_i64().expect("a Timestamp");
        // Milliseconds: after 2020 in ms, not seconds.
        assert!(timestamp > 1_577_836_800_000, "{line}");
        let directives = aws["CloudWatchMetrics"].as_array().expect("directives");
        assert_eq!(directives.len(), 1, "{line}");
        let directive = &directives[0];
        let namespace = directive["Namespace"].as_str().expect("a namespace");
        assert!(!namespace.is_empty() && namespace.len() <= 255, "{line}");
        let sets: Vec<Vec<String>> = directive["Dimensions"]
            .as_array()
            .expect("dimension sets")
            .iter()
            .map(|set| {
                let set: Vec<String> = set
                    .as_array()
                    .expect("a dimension set")
                    .iter()
                    .map(|d| d.as_str().expect("a dimension name").to_string())
                    .collect();
                assert!(set.len() <= MAX_DIMENSIONS, "{line}");
                set
            })
            .collect();
        let mut dimensions = BTreeMap::new();
        for name in sets.iter().flatten() {
            let value = root[name]
                .as_str()
                .unwrap_or_else(|| panic!("dimension {name} not a string at the root: {line}"));
            dimensions.insert(name.clone(), value.to_string());
        }
        let defined = directive["Metrics"].as_array().expect("metrics");
        assert!(
            !defined.is_empty() && defined.len() <= MAX_METRICS,
            "{line}"
        );
        let mut metrics = BTreeMap::new();
        for m in defined {
            let name = m["Name"].as_str().expect("a metric name");
            assert_eq!(m["Unit"], "Count", "{line}");
            let value = root[name]
                .as_f64()
                .unwrap_or_else(|| panic!("metric {name} not a number at the root: {line}"));
            metrics.insert(name.to_string(), value);
        }
        Emf {
            namespace: namespace.to_string(),
            dimension_sets: sets,
            dimensions,
            metrics,
        }
    }

    fn settings() -> Settings {
        Settings {
            namespace: "ec2-ddns".into(),
            function: "ddns".into(),
        }
    }

    #[test]
    fn the_namespace_defaults_and_no_function_name_means_no_metrics() {
        let table = [
            (Some("fn"), None, Some(("fn", "ec2-ddns"))),
            (Some("fn"), Some(" "), Some(("fn", "ec2-ddns"))),
            (Some("fn"), Some("Team/DNS"), Some(("fn", "Team/DNS"))),
            (None, Some("Team/DNS"), None),
            (Some(""), None, None),
        ];
        for (function, namespace, want) in table {
            let got =
                Settings::from_vars(function.map(str::to_string), namespace.map(str::to_string));
            let want = want.map(|(f, n)| Settings {
                function: f.into(),
                namespace: n.into(),
            });
            assert_eq!(got, want, "{function:?} {namespace:?}");
        }
    }

    #[test]
    fn an_invocation_is_a_totals_line_and_one_line_per_event_kind_and_ddns_word() {
        let mut tally = Tally {
            cold_start: true,
            records_created: 5,
            ..Tally::default()
        };
        tally.event(Kind::StateChange, Outcome::Applied);
        tally.event(Kind::StateChange, Outcome::Applied);
        tally.event(Kind::StateChange, Outcome::Error);
        tally.ddns_requests.insert("good", 1);
        let lines: Vec<Emf> = lines(&tally, &settings(), 1_795_000_000_000)
            .iter()
            .map(|l| read_emf(&l.to_string()))
            .collect();
        assert_eq!(lines.len(), 4, "{lines:#?}");
        let totals = &lines[0];
        assert_eq!(totals.dimension_sets, [["Function"]]);
        assert_eq!(totals.dimensions["Function"], "ddns");
        assert_eq!(totals.metrics.len(), 13, "every count, zeros too");
        assert_eq!(totals.metrics["Events"], 3.0);
        assert_eq!(totals.metrics["MemberAccountsUnreachable"], 0.0);
        assert_eq!(totals.metrics["RecordsCreated"], 5.0);
        assert_eq!(totals.metrics["ColdStarts"], 1.0);
        assert_eq!(totals.metrics["DdnsRequests"], 1.0);
        assert_eq!(totals.metrics["Route53Throttles"], 0.0);
        let by_kind: Vec<(&str, &str, f64)> = lines[1..3]
            .iter()
            .map(|l| {
                assert_eq!(l.dimension_sets, [["Function", "Kind", "Outcome"]]);
                (
                    l.dimensions["Kind"].as_str(),
                    l.dimensions["Outcome"].as_str(),
                    l.metrics["Events"],
                )
            })
            .collect();
        assert_eq!(
            by_kind,
            [
                ("state-change", "error", 1.0),
                ("state-change", "applied", 2.0)
            ],
            "most serious first"
        );
        assert_eq!(lines[3].dimension_sets, [["Function", "Outcome"]]);
        assert_eq!(lines[3].dimensions["Outcome"], "good");
        assert_eq!(lines[3].metrics["DdnsRequests"], 1.0);
    }

    #[test]
    fn lifecycle_hooks_are_one_line_per_result() {
        use ec2_ddns_core::lifecycle::{HookOutcome, HookResult};
        let mut tally = Tally::default();
        tally.event(Kind::Lifecycle, Outcome::Applied);
        tally.hook(&HookOutcome::Completed(HookResult::Continue));
        tally.hook(&HookOutcome::Completed(HookResult::Continue));
        tally.hook(&HookOutcome::NotWaiting);
        let lines: Vec<Emf> = lines(&tally, &settings(), 1_795_000_000_000)
            .iter()
            .map(|l| read_emf(&l.to_string()))
            .collect();
        let hooks: Vec<(&str, f64)> = lines
            .iter()
            .filter(|l| l.metrics.contains_key("LifecycleHooks"))
            .map(|l| {
                assert_eq!(l.dimension_sets, [["Function", "Result"]]);
                (l.dimensions["Result"].as_str(), l.metrics["LifecycleHooks"])
            })
            .collect();
        assert_eq!(hooks, [("CONTINUE", 2.0), ("NotWaiting", 1.0)]);
        assert!(lines
            .iter()
            .any(|l| l.dimensions.get("Kind").map(String::as_str) == Some("lifecycle")));
    }
}
