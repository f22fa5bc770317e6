//! What is made from the one clap definition besides `--help` (checked in
//! tests/cli.rs): the man pages in docs/man/, and the Lambda function's
//! reading of its settings from the same `ConfigArgs`.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

const MAN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/man");

/// The files of a directory by name, with their text.
fn pages(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&path).unwrap())
        })
        .collect()
}

/// docs/man/ holds what `ec2-ddns manpage` writes now: a page for
/// ec2-ddns and one for each command, none left over from a removed one.
#[test]
fn the_man_pages_are_up_to_date() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_ec2-ddns"))
        .args(["manpage".as_ref(), dir.path().as_os_str()])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let written = pages(dir.path());
    for name in [
        "ec2-ddns.1",
        "ec2-ddns-replay.1",
        "ec2-ddns-hosts-add.1",
        "ec2-ddns-completions.1",
    ] {
        assert!(
            written.contains_key(name),
            "no {name}: {:?}",
            written.keys()
        );
    }
    assert!(written["ec2-ddns-replay.1"].contains("DDNS_CACHE_SECONDS"));
    let committed = pages(Path::new(MAN));
    let stale: Vec<&String> = written
        .keys()
        .chain(committed.keys())
        .filter(|name| written.get(*name) != committed.get(*name))
        .collect();
    assert!(
        stale.is_empty(),
        "docs/man/ is not what the definition writes ({stale:?}); run:\n  rm -r docs/man && cargo run --bin ec2-ddns -- manpage docs/man"
    );
}

/// The real `bootstrap`, started with its settings in the environment.
fn bootstrap(env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut command = Command::new(common::bootstrap_binary());
    for (key, _) in std::env::vars() {
        if key.starts_with("DDNS_") || key.starts_with("AWS_") {
            command.env_remove(key);
        }
    }
    let o = command
        .envs([
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("RUST_BACKTRACE", "0"),
        ])
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// The Lambda function reads the settings the CLI reads, with the same
/// checks: a bad value stops it at start-up with an error that names the
/// variable and its valid range.
#[test]
#[ignore = "needs the bootstrap binary: run through scripts/test, which builds it"]
fn the_lambda_refuses_a_bad_setting_at_start_up() {
    for (variable, value, says) in [
        (
            "DDNS_TTL",
            "-1",
            "'-1' is out of range; expected whole seconds from 0 to 2147483647",
        ),
        (
            "DDNS_CACHE_SECONDS",
            "3601",
            "'3601' is out of range; expected whole seconds from 0 (no cache) to 3600",
        ),
        (
            "DDNS_ON_STOP",
            "hibernate",
            "'hibernate' is not a stop policy",
        ),
    ] {
        let (status, stderr) = bootstrap(&[(variable, value)]);
        assert_eq!(status, Some(1), "{stderr}");
        assert!(
            stderr.contains(&format!("variable: \"{variable}\"")) && stderr.contains(says),
            "{variable}={value}: {stderr}"
        );
    }
}

/// A blank variable is unset for the Lambda function too: start-up goes
/// past the settings (and stops later, with no Lambda runtime to talk to).
#[test]
#[ignore = "needs the bootstrap binary: run through scripts/test, which builds it"]
fn the_lambda_takes_a_blank_setting_as_unset() {
    let (status, stderr) = bootstrap(&[
        ("DDNS_TTL", ""),
        ("DDNS_ON_STOP", " "),
        ("DDNS_DEFAULT_ZONE", ""),
    ]);
    assert_ne!(status, Some(0), "{stderr}");
    assert!(!stderr.contains("Config {"), "{stderr}");
    assert!(stderr.contains("AWS_LAMBDA"), "{stderr}");
}

/// The layers of ARCHITECTURE.md, as each crate's `[dependencies]` name
/// them: core depends on no crate of ours; the function (crates/lambda)
/// never on the simulator or the command line. The compiler enforces what
/// the manifests say; this keeps the manifests saying what the design is.
#[test]
fn the_crates_depend_only_downward() {
    let allowed: [(&str, &[&str]); 4] = [
        ("core", &[]),
        ("aws", &["ec2-ddns-core"]),
        ("sim", &["ec2-ddns-core", "ec2-ddns-aws"]),
        ("lambda", &["ec2-ddns-core", "ec2-ddns-aws"]),
    ];
    for (krate, wanted) in allowed {
        let path = format!("{}/crates/{krate}/Cargo.toml", env!("CARGO_MANIFEST_DIR"));
        let manifest = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let ours: Vec<&str> = manifest
            .split("\n[")
            .find(|section| section.starts_with("dependencies]"))
            .unwrap_or_else(|| panic!("{path} has no [dependencies]"))
            .lines()
            .filter_map(|line| line.split(['.', ' ', '=']).next())
            .filter(|name| name.starts_with("ec2-ddns"))
            .collect();
        assert_eq!(ours, wanted, "{path}: the crates of ours it depends on");
    }
}
