//! The `ec2-ddns` binary as a user runs it: output, exit status, errors.

mod common;

use std::process::{Command, Output};

fn ec2_ddns(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ec2-ddns"));
    cmd.current_dir(common::repo(""))
        .args(args)
        .env_remove("AWS_ENDPOINT_URL");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run ec2-ddns")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Stdout as one JSON value per line; a line that is not JSON fails the test.
fn json_lines(o: &Output) -> Vec<serde_json::Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

const WORLD: &str = "fixtures/worlds/split-horizon.json";

#[test]
fn replay_prints_one_json_line_per_event() {
    let o = ec2_ddns(
        &[
            "replay",
            "--world",
            WORLD,
            "--json",
            "fixtures/events/web-1-running.json",
            "fixtures/events/web-1-terminated.json",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let lines = json_lines(&o);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["outcome"], "applied");
    assert_eq!(lines[0]["state"], "running");
    assert_eq!(lines[0]["instance_id"], "i-0web1");
    assert_eq!(lines[0]["event_id"], "0b7ad2a4-1c1e-4b43-9d0a-000000000002");
    assert_eq!(lines[0]["changes"].as_array().unwrap().len(), 5);
    let change = &lines[0]["changes"][0];
    for key in [
        "zone_id",
        "zone_name",
        "action",
        "name",
        "type",
        "ttl",
        "values",
    ] {
        assert!(change.get(key).is_some(), "change lacks {key}: {change}");
    }
    assert_eq!(lines[1]["outcome"], "applied");
    assert!(lines[1]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["action"] == "DELETE"));
}

#[test]
fn world_replay_shows_zone_tables_with_marks() {
    let o = ec2_ddns(
        &[
            "replay",
            "--world",
            WORLD,
            "fixtures/events/web-1-running.json",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("zone corp.example. (private, Z0CORPPRIVATE)"),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with(" + ip-10-1-2-4.corp.example.") && l.contains("10.1.2.4")),
        "{out}"
    );
    assert!(
        out.lines().any(|l| l.starts_with("   db.corp.example.")),
        "{out}"
    );
}

#[test]
fn dry_run_plans_but_writes_nothing() {
    let o = ec2_ddns(
        &[
            "replay",
            "--world",
            WORLD,
            "--dry-run",
            "fixtures/events/web-1-running.json",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(out.contains("dry run") && out.contains("CREATE"), "{out}");
    assert!(
        !out.lines().any(|l| l.starts_with(" + ")),
        "nothing written: {out}"
    );
}

#[test]
fn bad_events_are_errors_with_exit_1_and_later_events_still_run() {
    let o = ec2_ddns(
        &[
            "replay",
            "--world",
            WORLD,
            "--json",
            "fixtures/events/malformed.json",
            "fixtures/events/not-ec2.json",
            "fixtures/events/missing.json",
            "fixtures/events/web-1-running.json",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    let lines = json_lines(&o);
    assert_eq!(lines.len(), 4);
    for (line, needle) in lines
        .iter()
        .zip(["not JSON", "unsupported event", "missing.json"])
    {
        assert_eq!(line["outcome"], "error");
        assert!(line["error"].as_str().unwrap().contains(needle), "{line}");
    }
    assert_eq!(lines[3]["outcome"], "applied");
}

#[test]
fn usage_errors_exit_2() {
    for (args, env, needle) in [
        (vec!["replay"], vec![], "at least one EVENT.json"),
        (
            vec![
                "replay",
                "--world",
                WORLD,
                "--endpoint-url",
                "http://127.0.0.1:1",
                "x.json",
            ],
            vec![],
            "exclusive",
        ),
        (
            vec!["replay", "--bogus", "x.json"],
            vec![],
            "unknown option --bogus",
        ),
        (vec!["frobnicate"], vec![], "unknown command"),
        (
            vec!["replay", "--world", WORLD, "x.json"],
            vec![("DDNS_TTL", "soon")],
            "DDNS_TTL",
        ),
        (
            vec!["replay", "--world", WORLD, "--ttl", "-5", "x.json"],
            vec![],
            "DDNS_TTL",
        ),
        (
            vec![
                "replay",
                "--world",
                "fixtures/events/web-1-running.json",
                "x.json",
            ],
            vec![],
            "web-1-running.json: version: unknown field `version`, expected one of",
        ),
        (
            vec!["snapshot", "world.json"],
            vec![],
            "snapshot reads an account and writes its world to stdout",
        ),
        (
            vec!["snapshot", "--world", WORLD],
            vec![],
            "no --world or files",
        ),
    ] {
        let o = ec2_ddns(&args, &env);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn flags_override_the_environment() {
    let o = ec2_ddns(
        &[
            "replay",
            "--world",
            WORLD,
            "--json",
            "--ttl",
            "120",
            "fixtures/events/web-1-running.json",
        ],
        &[("DDNS_TTL", "30")],
    );
    let line: serde_json::Value = serde_json::from_str(stdout(&o).lines().next().unwrap()).unwrap();
    assert!(
        line["changes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["ttl"] == 120),
        "{line}"
    );
}

#[test]
fn scenarios_run_in_memory_and_refuse_takeovers() {
    let o = ec2_ddns(
        &["scenario", "--json", "fixtures/scenarios/takeover.json"],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let lines = json_lines(&o);
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["outcome"], "conflict");
    assert_eq!(lines[1]["outcome"], "conflict", "{}", lines[1]);
    assert!(
        lines[1]["rejected"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "*.corp.example."),
        "{}",
        lines[1]
    );
    assert!(lines[2]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["name"] != "db.corp.example."));

    let text = ec2_ddns(&["scenario", "fixtures/scenarios/takeover.json"], &[]);
    let out = stdout(&text);
    assert!(
        out.lines()
            .any(|l| l.starts_with("   db.corp.example.") && l.contains("10.1.9.9")),
        "{out}"
    );
    assert!(
        !out.lines()
            .any(|l| l.starts_with(" + ") || l.starts_with(" - ")),
        "terminate restored the zones: {out}"
    );
}

#[test]
fn scenario_typos_name_the_file_and_step() {
    let dir = std::env::temp_dir().join(format!("ec2-ddns-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let world = common::repo(WORLD);
    let file = dir.join("typo.json");
    std::fs::write(
        &file,
        format!(
            r#"{{"world": "{}", "steps": ["launch web-1", "lanch web-1"]}}"#,
            world.display()
        ),
    )
    .unwrap();
    let o = ec2_ddns(&["scenario", file.to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("typo.json: steps[1]: 'lanch web-1': expected one of"),
        "{}",
        stderr(&o)
    );
    std::fs::write(
        &file,
        format!(
            r#"{{"world": "{}", "steps": ["launch nobody"]}}"#,
            world.display()
        ),
    )
    .unwrap();
    let o = ec2_ddns(&["scenario", file.to_str().unwrap()], &[]);
    assert!(
        stderr(&o).contains("steps[0]: no instance with id or name 'nobody'"),
        "{}",
        stderr(&o)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
