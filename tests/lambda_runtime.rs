//! The real `bootstrap` binary behind the real Lambda Runtime API, emulated
//! by `cargo lambda watch --only-lambda-apis`, talking to moto. Proves the
//! binary speaks the Runtime API, reads its configuration from the
//! environment and serves several invocations from one process.

mod common;

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Kills a child process when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// cargo-lambda from the venv scripts/test makes, else from PATH; a test
/// that needs it fails when it is missing, it never passes without it.
fn cargo_lambda() -> PathBuf {
    let venv = common::repo(".venv/bin/cargo-lambda");
    if venv.exists() {
        return venv;
    }
    std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|p| p.join("cargo-lambda")).find(|p| p.exists()))
        .unwrap_or_else(|| panic!("cargo-lambda is not installed: this test needs it; run it through ./scripts/test, which installs it"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "cargo lambda watch did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn invoke(cargo_lambda: &PathBuf, port: u16, event_file: &std::path::Path) -> serde_json::Value {
    let out = Command::new(cargo_lambda)
        .args([
            "lambda",
            "invoke",
            "-A",
            "127.0.0.1",
            "-P",
            &port.to_string(),
            "--data-file",
        ])
        .arg(event_file)
        .arg("_")
        .output()
        .expect("run cargo lambda invoke");
    assert!(
        out.status.success(),
        "invoke failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// A fixture event with the world's instance id replaced by moto's.
fn event_for(fixture: &str, world_id: &str, real_id: &str, dir: &std::path::Path) -> PathBuf {
    let text = std::fs::read_to_string(common::repo(fixture))
        .unwrap()
        .replace(world_id, real_id);
    let path = dir.join(std::path::Path::new(fixture).file_name().unwrap());
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
#[ignore = "needs the emulator and cargo-lambda: run through scripts/test"]
fn bootstrap_serves_several_invocations_through_the_runtime_api() {
    let endpoint = common::moto_endpoint();
    let cargo_lambda = cargo_lambda();
    let ids = common::seed_moto(
        &endpoint,
        &common::repo("fixtures/worlds/split-horizon.json"),
    );
    let web1 = ids["instances"]["i-0web1"].as_str().unwrap().to_string();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();

    let port = free_port();
    let _watch = Running(
        Command::new(&cargo_lambda)
            .args([
                "lambda",
                "watch",
                "--only-lambda-apis",
                "-A",
                "127.0.0.1",
                "-P",
                &port.to_string(),
            ])
            .current_dir(common::repo(""))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start cargo lambda watch"),
    );
    wait_for_port(port);
    let log_file = dir.join("bootstrap.log");
    let mut bootstrap = Running(
        Command::new(env!("CARGO_BIN_EXE_bootstrap"))
            .env(
                "AWS_LAMBDA_RUNTIME_API",
                format!("http://127.0.0.1:{port}/.rt"),
            )
            .env("AWS_LAMBDA_FUNCTION_NAME", "_")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_ENDPOINT_URL", &endpoint)
            .env("AWS_REGION", "us-east-1")
            .env("DDNS_TABLE", "DDNS")
            .env("DDNS_TTL", "120")
            // Lambda's advanced logging controls, as the function sees them.
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
            .env("AWS_LAMBDA_LOG_LEVEL", "INFO")
            .env_remove("RUST_LOG")
            .stdout(std::fs::File::create(&log_file).expect("log file"))
            .stderr(Stdio::null())
            .spawn()
            .expect("start bootstrap"),
    );

    let running = invoke(
        &cargo_lambda,
        port,
        &event_for("fixtures/events/web-1-running.json", "i-0web1", &web1, dir),
    );
    assert_eq!(running["outcome"], "applied", "{running}");
    assert_eq!(running["instance_id"], web1.as_str());
    let changes = running["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 5, "{running}");
    assert!(
        changes.iter().all(|c| c["ttl"] == 120),
        "DDNS_TTL read from the environment: {running}"
    );

    let foreign = invoke(
        &cargo_lambda,
        port,
        &common::repo("fixtures/events/not-ec2.json"),
    );
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

    let again = invoke(
        &cargo_lambda,
        port,
        &event_for("fixtures/events/web-1-running.json", "i-0web1", &web1, dir),
    );
    assert_eq!(again["outcome"], "nothing-to-do", "{again}");

    // The schedule's event: the full reconcile, answered with its totals.
    let scheduled = invoke(
        &cargo_lambda,
        port,
        &common::repo("fixtures/events/scheduled.json"),
    );
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

    let terminated = invoke(
        &cargo_lambda,
        port,
        &event_for(
            "fixtures/events/web-1-terminated.json",
            "i-0web1",
            &web1,
            dir,
        ),
    );
    assert_eq!(terminated["outcome"], "applied", "{terminated}");
    let deletes = terminated["changes"].as_array().unwrap();
    assert_eq!(deletes.len(), 5, "{terminated}");
    assert!(
        deletes.iter().all(|c| c["action"] == "DELETE"),
        "{terminated}"
    );

    assert!(
        bootstrap.0.try_wait().unwrap().is_none(),
        "one bootstrap process served all five invocations"
    );

    // AWS_LAMBDA_LOG_FORMAT=JSON: every log line is a JSON object, and the
    // handler's own lines are there (one "event handled" per handled event).
    let log = std::fs::read_to_string(&log_file).unwrap();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON log line ({e}): {l}"))
        })
        .collect();
    let handled = lines
        .iter()
        .filter(|l| l["fields"]["message"] == "event handled")
        .count();
    assert_eq!(handled, 3, "running, duplicate, terminated: {log}");
    assert!(
        lines
            .iter()
            .any(|l| l["level"] == "ERROR" && l["fields"]["message"] == "event rejected"),
        "the foreign event is logged as rejected: {log}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l["fields"]["message"] == "reconcile done"),
        "the reconcile logs its totals: {log}"
    );
}
