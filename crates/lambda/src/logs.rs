//! The function's log lines. With `AWS_LAMBDA_LOG_FORMAT=JSON` (what
//! Lambda's `LoggingConfig` sets) each line is one JSON object with the keys
//! AWS Lambda Powertools uses, so the queries and dashboards written for
//! Powertools functions read ours too:
//!
//! `level`, `timestamp`, `message`, `service`, and, inside an invocation,
//! `cold_start`, `function_request_id` and `xray_trace_id` (when Lambda
//! gives one), then the event's own fields (`instance`, `outcome`, …). An
//! event field named like one of those keys is written as `field_<name>`,
//! never over it.
//!
//! Otherwise a plain text line: `LEVEL message key=value …`, ending with
//! the invocation's `function_request_id`. The filter is
//! `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`, else `info`; `service` is
//! `POWERTOOLS_SERVICE_NAME`, else `ec2-ddns`.
//!
//! The invocation's keys come from its span ([`invocation_span`], made from
//! the runtime's `Context`), so every line logged while it runs carries
//! them, whichever crate logs it. Each line is rendered whole and written
//! in one call: stdout is shared with the metrics.

use ec2_ddns_core::ids::RegistryKey;
use ec2_ddns_core::summary::Summary;
use lambda_runtime::tracing::subscriber::filter::{EnvFilter, LevelFilter};
use lambda_runtime::tracing::subscriber::fmt::MakeWriter;
use lambda_runtime::tracing::subscriber::layer::{Context, SubscriberExt};
use lambda_runtime::tracing::subscriber::registry::LookupSpan;
use lambda_runtime::tracing::subscriber::{self as tracing_subscriber, Layer};
use serde_json::{Map, Value};
use std::fmt;
use std::io::Write;
use tracing::field::{Field, Visit};
use tracing::{span, Event, Level, Subscriber};

/// The service name when `POWERTOOLS_SERVICE_NAME` is unset or blank.
pub const DEFAULT_SERVICE: &str = "ec2-ddns";

/// The target of the invocation's span: the filter always lets it
/// through, so a line at any level keeps the invocation's keys.
const INVOCATION_TARGET: &str = "ec2_ddns::invocation";

/// Where lambda_runtime (1.5) logs each raw event at TRACE.
const RAW_EVENT_TARGET: &str = "lambda_runtime::layers::api_response";

/// The keys this module writes; an event field never takes their place.
pub(crate) const RESERVED: [&str; 7] = [
    "level",
    "timestamp",
    "message",
    "service",
    "cold_start",
    "function_request_id",
    "xray_trace_id",
];

/// How the function logs, from its environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// JSON lines (`AWS_LAMBDA_LOG_FORMAT=JSON`), else text.
    pub json: bool,
    /// The filter's directives (`info`, `warn`, `ec2_ddns_core=debug`, …).
    pub filter: String,
    pub service: String,
}

impl Settings {
    pub fn from_env() -> Settings {
        Settings::from_vars(|name| std::env::var(name).ok())
    }

    /// From variables read by `var`; a blank one counts as unset.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Settings {
        let set = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        // Lambda's levels are TRACE … ERROR and FATAL, which tracing
        // calls error.
        let lambda_level = set("AWS_LAMBDA_LOG_LEVEL").map(|level| {
            match level.trim().to_ascii_lowercase().as_str() {
                "fatal" => "error".to_string(),
                other => other.to_string(),
            }
        });
        Settings {
            json: set("AWS_LAMBDA_LOG_FORMAT")
                .is_some_and(|f| f.trim().eq_ignore_ascii_case("json")),
            filter: lambda_level
                .or_else(|| set("RUST_LOG"))
                .unwrap_or_else(|| "info".to_string()),
            service: set("POWERTOOLS_SERVICE_NAME").unwrap_or_else(|| DEFAULT_SERVICE.to_string()),
        }
    }

    /// The filter, with the invocation's span always let through, and the
    /// Lambda runtime's raw-event line never: at TRACE it logs every
    /// payload whole, and a DDNS request's payload carries the client's
    /// `Authorization` header and its query string (secrets). Last, so it
    /// wins over any directive for that module in the filter. A directive
    /// that cannot be read is skipped (and said on stderr).
    fn env_filter(&self) -> EnvFilter {
        EnvFilter::builder()
            .with_default_directive(LevelFilter::INFO.into())
            .parse_lossy(format!(
                "{},{INVOCATION_TARGET}=info,{RAW_EVENT_TARGET}=debug",
                self.filter
            ))
    }
}

/// The function's subscriber, writing to `writer`.
pub fn subscriber<W>(settings: &Settings, writer: W) -> impl Subscriber + Send + Sync + 'static
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::registry()
        .with(settings.env_filter())
        .with(Lines {
            json: settings.json,
            service: settings.service.clone(),
            writer,
        })
}

/// Installs the function's subscriber, on stdout, for the process.
pub fn init() {
    let settings = Settings::from_env();
    if tracing::subscriber::set_global_default(subscriber(&settings, std::io::stdout)).is_err() {
        eprintln!("a log subscriber was installed already; keeping it");
    }
}

/// The span of one invocation: every line logged within carries its keys.
pub fn invocation_span(context: &lambda_runtime::Context, cold_start: bool) -> tracing::Span {
    tracing::info_span!(
        target: INVOCATION_TARGET,
        "invocation",
        function_request_id = %context.request_id,
        xray_trace_id = context.xray_trace_id.as_deref(),
        cold_start,
    )
}

/// One line per record a summary changed: which subject (the instance, or
/// the DDNS host's name), which zone (by name, and by id: a split horizon
/// has two of one name), which record, what was done.
pub fn changes(summary: &Summary) {
    let key = RegistryKey::parse(&summary.instance_id);
    let subject = key
        .host_name()
        .map(|name| name.to_string())
        .unwrap_or_else(|| summary.instance_id.clone());
    for change in &summary.changes {
        tracing::info!(
            subject = %subject,
            zone = %change.zone_name,
            zone_id = %change.zone_id,
            name = %change.record.name,
            "type" = %change.record.rtype,
            action = change.action.as_str(),
            values = %change.record.values().join(" "),
            "record changed"
        );
    }
}

/// Fields as JSON values, by name.
#[derive(Debug, Default)]
struct Fields(Map<String, Value>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().into(), Value::String(format!("{value:?}")));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), Value::from(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), Value::from(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), Value::from(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        let value = serde_json::Number::from_f64(value)
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(value.to_string()));
        self.0.insert(field.name().into(), value);
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.0
            .insert(field.name().into(), Value::String(value.to_string()));
    }
}

/// The name a span field is logged under. The runtime's own span
/// (`Lambda runtime invoke`) names the request and trace in its words;
/// they are the same values as the invocation span's.
fn span_key(name: &str) -> &str {
    match name {
        "requestId" => "function_request_id",
        "xrayTraceId" => "xray_trace_id",
        "tenantId" => "tenant_id",
        other => other,
    }
}

/// One line before it is rendered.
#[derive(Debug, Default)]
struct Line {
    level: &'static str,
    message: String,
    /// From the spans the event is in, outermost first, inner ones winning.
    context: Map<String, Value>,
    /// The event's own fields, the message aside.
    fields: Map<String, Value>,
}

/// A key for a field of the event or of a span that is not the
/// invocation's: never one of the reserved keys.
fn field_key(name: &str) -> String {
    if RESERVED.contains(&name) {
        format!("field_{name}")
    } else {
        name.to_string()
    }
}

/// The JSON line: Powertools' keys, then the event's fields (serde_json
/// writes them in key order).
fn json_line(line: &Line, service: &str, timestamp: &str) -> String {
    let mut root = Map::new();
    root.insert("level".into(), Value::from(line.level));
    root.insert("timestamp".into(), Value::from(timestamp));
    root.insert("message".into(), Value::from(line.message.as_str()));
    root.insert("service".into(), Value::from(service));
    let mut rest = Vec::new();
    for (key, value) in &line.context {
        match key.as_str() {
            "cold_start" | "function_request_id" | "xray_trace_id" => {
                root.insert(key.clone(), value.clone());
            }
            _ => rest.push((key, value)),
        }
    }
    for (key, value) in rest.into_iter().chain(&line.fields) {
        root.insert(field_key(key), value.clone());
    }
    let mut text = Value::Object(root).to_string();
    text.push('\n');
    text
}

/// A value in a text line: bare when it reads unambiguously, else quoted.
fn text_value(value: &Value) -> String {
    match value {
        Value::String(s)
            if !s.is_empty() && !s.chars().any(|c| c.is_whitespace() || c == '"' || c == '=') =>
        {
            s.clone()
        }
        other => other.to_string(),
    }
}

/// The text line: `LEVEL message key=value … function_request_id=…`.
fn text_line(line: &Line) -> String {
    let mut text = format!("{} {}", line.level, line.message);
    for (key, value) in &line.fields {
        text.push_str(&format!(" {key}={}", text_value(value)));
    }
    if let Some(id) = line.context.get("function_request_id") {
        text.push_str(&format!(" function_request_id={}", text_value(id)));
    }
    text.push('\n');
    text
}

/// The layer that renders and writes each line.
struct Lines<W> {
    json: bool,
    service: String,
    writer: W,
}

impl<S, W> Layer<S> for Lines<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + 'static,
{
    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(fields);
        }
    }

    fn on_record(&self, id: &span::Id, values: &span::Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            if let Some(fields) = span.extensions_mut().get_mut::<Fields>() {
                values.record(fields);
            }
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut line = Line {
            level: level_name(*event.metadata().level()),
            ..Line::default()
        };
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(fields) = span.extensions().get::<Fields>() {
                    for (name, value) in &fields.0 {
                        line.context
                            .insert(span_key(name).to_string(), value.clone());
                    }
                }
            }
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        if let Some(message) = fields.0.remove("message") {
            line.message = match message {
                Value::String(s) => s,
                other => other.to_string(),
            };
        }
        line.fields = fields.0;
        let text = if self.json {
            let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            json_line(&line, &self.service, &now)
        } else {
            text_line(&line)
        };
        // A log line that cannot be written has nowhere to be reported.
        let _ = self.writer.make_writer().write_all(text.as_bytes());
    }
}

/// Lambda's (and Powertools') level names.
fn level_name(level: Level) -> &'static str {
    match level {
        Level::TRACE => "TRACE",
        Level::DEBUG => "DEBUG",
        Level::INFO => "INFO",
        Level::WARN => "WARN",
        Level::ERROR => "ERROR",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::Capture;
    use std::collections::BTreeMap;

    fn settings(vars: &[(&str, &str)]) -> Settings {
        let vars: BTreeMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_vars(|name| vars.get(name).cloned())
    }

    #[test]
    fn settings_follow_lambdas_logging_controls_then_rust_log() {
        let table = [
            (vec![], false, "info", "ec2-ddns"),
            (
                vec![("AWS_LAMBDA_LOG_FORMAT", "JSON")],
                true,
                "info",
                "ec2-ddns",
            ),
            (
                vec![("AWS_LAMBDA_LOG_FORMAT", "Text")],
                false,
                "info",
                "ec2-ddns",
            ),
            (
                vec![("AWS_LAMBDA_LOG_LEVEL", "WARN"), ("RUST_LOG", "debug")],
                false,
                "warn",
                "ec2-ddns",
            ),
            (
                vec![("AWS_LAMBDA_LOG_LEVEL", "FATAL")],
                false,
                "error",
                "ec2-ddns",
            ),
            (
                vec![
                    ("AWS_LAMBDA_LOG_LEVEL", " "),
                    ("RUST_LOG", "ec2_ddns_core=debug"),
                ],
                false,
                "ec2_ddns_core=debug",
                "ec2-ddns",
            ),
            (
                vec![("POWERTOOLS_SERVICE_NAME", "dns")],
                false,
                "info",
                "dns",
            ),
        ];
        for (vars, json, filter, service) in table {
            let got = settings(&vars);
            assert_eq!(
                got,
                Settings {
                    json,
                    filter: filter.into(),
                    service: service.into()
                },
                "{vars:?}"
            );
        }
    }

    fn context(request_id: &str) -> lambda_runtime::Context {
        let mut context = lambda_runtime::Context::default();
        context.request_id = request_id.to_string();
        context.xray_trace_id = Some("Root=1-5759e988-bd862e3fe1be46a994272793".to_string());
        context
    }

    fn logged(settings: &Settings, log: impl FnOnce()) -> Vec<String> {
        let capture = Capture::default();
        tracing::subscriber::with_default(subscriber(settings, capture.clone()), log);
        capture.lines()
    }

    /// Even at TRACE, the runtime's line with the whole payload (a DDNS
    /// request's Authorization header) is never written; ours are.
    #[test]
    fn the_raw_event_is_never_logged_even_at_trace() {
        for vars in [
            vec![("AWS_LAMBDA_LOG_LEVEL", "TRACE")],
            vec![("RUST_LOG", "trace")],
            vec![(
                "RUST_LOG",
                "info,lambda_runtime::layers::api_response=trace",
            )],
        ] {
            let lines = logged(&settings(&vars), || {
                tracing::trace!(
                    target: "lambda_runtime::layers::api_response",
                    body = r#"{"headers":{"authorization":"Basic aG9tZTpzM2NyZXQ="}}"#,
                    "raw JSON event received from Lambda"
                );
                tracing::warn!(target: "ec2_ddns_core", "ours still logged");
            });
            assert!(
                !lines.iter().any(|l| l.contains("aG9tZTpzM2NyZXQ=")),
                "{vars:?}: {lines:#?}"
            );
            assert!(
                lines.iter().any(|l| l.contains("ours still logged")),
                "{vars:?}"
            );
        }
    }

    #[test]
    fn json_lines_carry_powertools_keys_and_the_events_fields() {
        let json = settings(&[("AWS_LAMBDA_LOG_FORMAT", "JSON")]);
        let lines = logged(&json, || {
            tracing::info!("before any invocation");
            invocation_span(&context("req-1"), true).in_scope(|| {
                tracing::info!(instance = "i-0web1", changes = 5, "event handled");
                tracing::warn!(service = "clash", "a field named like a key");
            });
            tracing::debug!("filtered out");
        });
        assert_eq!(lines.len(), 3, "{lines:#?}");
        let lines: Vec<Value> = lines
            .iter()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect();
        let outside = &lines[0];
        assert_eq!(outside["message"], "before any invocation");
        assert_eq!(outside["service"], "ec2-ddns");
        assert!(outside.get("function_request_id").is_none(), "{outside}");
        let handled = &lines[1];
        for key in RESERVED {
            assert!(handled.get(key).is_some(), "{key} missing: {handled}");
        }
        assert_eq!(handled["level"], "INFO");
        assert!(
            chrono::DateTime::parse_from_rfc3339(handled["timestamp"].as_str().unwrap()).is_ok(),
            "{handled}"
        );
        assert_eq!(handled["message"], "event handled");
        assert_eq!(handled["function_request_id"], "req-1");
        assert_eq!(
            handled["xray_trace_id"],
            "Root=1-5759e988-bd862e3fe1be46a994272793"
        );
        assert_eq!(handled["cold_start"], true);
        assert_eq!(handled["instance"], "i-0web1");
        assert_eq!(handled["changes"], 5);
        let clash = &lines[2];
        assert_eq!(clash["level"], "WARN");
        assert_eq!(clash["service"], "ec2-ddns", "never overwritten");
        assert_eq!(clash["field_service"], "clash");
    }

    #[test]
    fn the_runtimes_span_names_the_request_in_powertools_keys() {
        let json = settings(&[("AWS_LAMBDA_LOG_FORMAT", "JSON")]);
        let lines = logged(&json, || {
            tracing::info_span!(
                "Lambda runtime invoke",
                requestId = "req-9",
                xrayTraceId = "Root=1-x"
            )
            .in_scope(|| tracing::error!("runtime trouble"));
        });
        let line: Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(line["function_request_id"], "req-9", "{line}");
        assert_eq!(line["xray_trace_id"], "Root=1-x", "{line}");
        assert!(line.get("requestId").is_none(), "{line}");
    }

    #[test]
    fn the_filter_keeps_the_invocations_keys_on_lines_it_lets_through() {
        let warn = settings(&[
            ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
            ("AWS_LAMBDA_LOG_LEVEL", "WARN"),
        ]);
        let lines = logged(&warn, || {
            invocation_span(&context("req-2"), false).in_scope(|| {
                tracing::info!("not at warn");
                tracing::warn!("at warn");
            });
        });
        assert_eq!(lines.len(), 1, "{lines:#?}");
        let line: Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(line["function_request_id"], "req-2", "{line}");
        assert_eq!(line["cold_start"], false, "{line}");
    }

    #[test]
    fn text_lines_are_level_message_fields_and_the_request() {
        let text = settings(&[]);
        let lines = logged(&text, || {
            invocation_span(&context("req-3"), true).in_scope(|| {
                tracing::info!(instance = "i-0web1", reason = "two words", "event handled");
            });
        });
        assert_eq!(
            lines,
            ["INFO event handled instance=i-0web1 reason=\"two words\" function_request_id=req-3"]
        );
    }
}
