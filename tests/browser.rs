//! The host owners' page in a real browser: Debian's headless chromium,
//! driven by chromium-driver through selenium (`tests/browser/page.py`),
//! against the real `bootstrap` behind cargo-lambda's function URL and the
//! strict moto behind it. The page's steps (sign-in refused and accepted,
//! the host and its record, 360 px without horizontal scroll, the headers
//! as the browser got them, a forged set without the CSRF token refused,
//! 'set to this address', the change followed until it is in sync,
//! sign-out) are page.py's; this test seeds moto, adds the host, starts the
//! function, runs the script and checks what it left: its exit status, the
//! two screenshots (`target/page-360.png`, `target/page-1280.png`) and the
//! record in Route 53. The same page in memory: `tests/ddns_page.rs`.

mod common;

use common::runtime::{which, Function};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

const HOST: &str = "home.corp.example";
const LOGIN: &str = "router";
/// The host's record before the browser sets it to its own address.
const RECORD: &str = "198.51.100.20";

fn cli(moto: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ec2-ddns"))
        .args(args)
        .args(["--endpoint-url", moto, "--region", "us-east-1"])
        .env("DDNS_TABLE", "DDNS")
        .output()
        .expect("run ec2-ddns")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

/// Debian's program, or one on PATH; the test fails without it (it never
/// passes without having run): scripts/test installs both with apt-get,
/// and runs this test only when it could.
fn needed(program: &str, debian: &str) -> PathBuf {
    Some(PathBuf::from(debian))
        .filter(|p| p.exists())
        .or_else(|| which(program))
        .unwrap_or_else(|| {
            panic!("{program} is not installed: this test needs Debian's chromium and chromium-driver; run it through ./scripts/test, which installs them with apt-get when it may")
        })
}

#[test]
#[ignore = "needs the emulator, cargo-lambda and chromium: run through scripts/test"]
fn page_in_a_real_browser() {
    let moto = common::moto_endpoint();
    let chromium = needed("chromium", "/usr/bin/chromium");
    let chromedriver = needed("chromedriver", "/usr/bin/chromedriver");
    let python = common::repo(".venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: scripts/test makes it, with selenium",
        python.display()
    );
    let _one_at_a_time = common::MOTO_LOCK.blocking_lock();
    common::seed_moto(&moto, &common::repo("fixtures/worlds/split-horizon.json"));
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();

    let out = cli(
        &moto,
        &[
            "hosts",
            "add",
            HOST,
            "--zone",
            "corp.example",
            "--login",
            LOGIN,
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let secret = text(&out.stdout).trim().to_string();
    assert_eq!(secret.len(), 43, "only the secret on stdout: {secret:?}");
    let function = Function::start(&moto, dir, &[]);
    let url = function.url();

    // A record to see before the browser changes it.
    let secret_file = dir.join("secret");
    std::fs::write(&secret_file, format!("{secret}\n")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ec2-ddns"))
        .args(["update", "--url", &url, "--host", HOST, "--secret-file"])
        .arg(&secret_file)
        .args(["--ip", RECORD])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));

    let shots = common::repo("target");
    let screenshots = [shots.join("page-360.png"), shots.join("page-1280.png")];
    for shot in &screenshots {
        let _ = std::fs::remove_file(shot);
    }
    let mut child = Command::new(&python)
        .arg(common::repo("tests/browser/page.py"))
        .args(["--url", &url, "--login", LOGIN, "--host", HOST])
        .args(["--record", RECORD, "--moto", &moto, "--out"])
        .arg(&shots)
        .arg("--chromium")
        .arg(&chromium)
        .arg("--chromedriver")
        .arg(&chromedriver)
        .env("PAGE_SECRET", &secret)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tests/browser/page.py");
    // Its stderr (selenium's, a traceback) on a thread, its steps as they
    // come: written to the test's stderr itself, so they show without
    // --nocapture too.
    let stderr = child.stderr.take().unwrap();
    let errors = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let mut said = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok)
    {
        let _ = writeln!(std::io::stderr(), "browser: {line}");
        said.push(line);
    }
    let status = child.wait().unwrap();
    let errors = errors.join().unwrap();
    let all = said.join("\n");
    assert!(
        status.success(),
        "page.py: {status}\n{all}\n{errors}\nbootstrap log: {}",
        function.log_file.display()
    );
    let last = said.last().map(String::as_str).unwrap_or_default();
    assert!(
        last.ends_with(" passed, 0 failed") && !last.starts_with("0 "),
        "{all}\n{errors}"
    );
    for shot in &screenshots {
        let bytes = std::fs::read(shot)
            .unwrap_or_else(|e| panic!("{}: {e}: page.py did not write it", shot.display()));
        assert!(
            bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
            "{} is not a PNG",
            shot.display()
        );
    }

    // Route 53 holds what the browser set: the function's view of its
    // address (cargo lambda's, 127.0.0.1).
    let out = cli(&moto, &["hosts", "list", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let hosts: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(hosts.len(), 1, "{hosts:?}");
    assert_eq!(hosts[0]["value"], "127.0.0.1", "{hosts:?}");
    assert_eq!(hosts[0]["owned"], true, "{hosts:?}");
}
