//! The `ec2-ddns` binary as a user runs it: output, exit status, errors,
//! help, and what docs/cli.md says of it.

mod common;

use assert_cmd::Command;
use rstest::rstest;
use std::io::{BufRead, BufReader};
use std::process::{Output, Stdio};

const WORLD: &str = "fixtures/worlds/split-horizon.json";
const RUNNING: &str = "fixtures/events/web-1-running.json";
/// 129 characters: one more than an EC2 tag key may have.
const LONG_TAG_KEY: &str = "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk";

/// The binary, run from the repository root with no emulator in the
/// environment (a test never reaches real AWS).
fn ec2_ddns() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ec2-ddns"));
    cmd.current_dir(common::repo(""))
        .env_remove("AWS_ENDPOINT_URL");
    for var in [
        "DDNS_TABLE",
        "DDNS_TTL",
        "DDNS_ZONE_TAG",
        "DDNS_CNAME_TAG",
        "DDNS_HOSTNAME_TAG",
        "DDNS_ALLOWED_ZONES",
        "DDNS_DEFAULT_ZONE",
        "DDNS_ON_STOP",
        "DDNS_CACHE_SECONDS",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

fn run(args: &[&str]) -> Output {
    ec2_ddns().args(args).output().expect("run ec2-ddns")
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

/// The array at `key`, which must not be empty: a check over every element
/// of an empty list proves nothing.
fn nonempty<'a>(line: &'a serde_json::Value, key: &str) -> &'a Vec<serde_json::Value> {
    let list = line[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} is not a list: {line}"));
    assert!(!list.is_empty(), "{key} is empty: {line}");
    list
}

#[test]
fn replay_prints_one_json_line_per_event() {
    let o = run(&[
        "replay",
        "--world",
        WORLD,
        "--json",
        RUNNING,
        "fixtures/events/web-1-terminated.json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let lines = json_lines(&o);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["outcome"], "applied");
    assert_eq!(lines[0]["state"], "running");
    assert_eq!(lines[0]["instance_id"], "i-0web1");
    assert_eq!(lines[0]["source"], RUNNING);
    assert_eq!(lines[0]["event_id"], "0b7ad2a4-1c1e-4b43-9d0a-000000000002");
    assert!(
        lines[0].get("retryable").is_none(),
        "only failures carry retryable"
    );
    let changes = nonempty(&lines[0], "changes");
    assert_eq!(changes.len(), 5);
    for key in [
        "zone_id",
        "zone_name",
        "action",
        "name",
        "type",
        "ttl",
        "values",
    ] {
        assert!(
            changes[0].get(key).is_some(),
            "change lacks {key}: {}",
            changes[0]
        );
    }
    assert_eq!(lines[1]["outcome"], "applied");
    let deletes = nonempty(&lines[1], "changes");
    assert_eq!(deletes.len(), 5, "{}", lines[1]);
    assert!(
        deletes.iter().all(|c| c["action"] == "DELETE"),
        "{}",
        lines[1]
    );
}

#[test]
fn world_replay_shows_zone_tables_with_marks() {
    let o = run(&["replay", "--world", WORLD, RUNNING]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with(&format!("{RUNNING}: event 0b7ad2a4")),
        "{out}"
    );
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
    let o = run(&["replay", "--world", WORLD, "--dry-run", RUNNING]);
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
    let o = run(&[
        "replay",
        "--world",
        WORLD,
        "--json",
        "fixtures/events/malformed.json",
        "fixtures/events/not-ec2.json",
        "fixtures/events/missing.json",
        RUNNING,
    ]);
    assert_eq!(o.status.code(), Some(1));
    let lines = json_lines(&o);
    assert_eq!(lines.len(), 4);
    for (line, needle) in lines
        .iter()
        .zip(["not JSON", "unsupported event", "missing.json"])
    {
        assert_eq!(line["outcome"], "error");
        assert_eq!(line["retryable"], false, "{line}");
        assert!(line["error"].as_str().unwrap().contains(needle), "{line}");
    }
    assert_eq!(lines[3]["outcome"], "applied");
}

#[test]
fn an_unreadable_event_file_is_named_in_text_output() {
    let o = run(&["replay", "--world", WORLD, "fixtures/events/missing.json"]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        out.starts_with("fixtures/events/missing.json: error\n"),
        "{out}"
    );
    assert!(!out.contains("event - - -"), "{out}");
}

/// Usage errors: exit 2, the message, and a one-line hint (not the whole
/// usage, which would scroll the message away).
#[rstest]
#[case::no_event_files(&["replay"], &[], "required arguments were not provided")]
#[case::world_and_endpoint(&["replay", "--world", WORLD, "--endpoint-url", "http://127.0.0.1:1", "x.json"], &[], "cannot be used with")]
#[case::world_and_region(&["replay", "--world", WORLD, "--region", "eu-west-1", "x.json"], &[], "cannot be used with")]
#[case::json_and_text(&["replay", "--json", "--text", "--world", WORLD, "x.json"], &[], "cannot be used with")]
#[case::unknown_flag(&["replay", "--bogus", "x.json"], &[], "unexpected argument '--bogus'")]
#[case::unknown_command(&["frobnicate"], &[], "unrecognized subcommand 'frobnicate'")]
#[case::bad_ttl_in_the_environment(&["replay", "--world", WORLD, "x.json"], &[("DDNS_TTL", "soon")], "invalid value 'soon' for '--ttl <SECONDS>': not a whole number; expected whole seconds from 0 to 2147483647 (DDNS_TTL)")]
#[case::bad_ttl_flag(&["replay", "--world", WORLD, "--ttl=-5", "x.json"], &[], "invalid value '-5' for '--ttl <SECONDS>': out of range; expected whole seconds from 0 to 2147483647 (DDNS_TTL)")]
#[case::bad_stop_policy(&["replay", "--world", WORLD, "--on-stop", "hibernate", "x.json"], &[], "invalid value 'hibernate' for '--on-stop <POLICY>': not a stop policy; expected deregister")]
#[case::bad_allowed_zones(&["reconcile", "--world", WORLD], &[("DDNS_ALLOWED_ZONES", "corp.example,bad_zone!")], "'bad_zone!' is no zone id or name; expected ids or names, comma-separated")]
#[case::bad_default_zone(&["scenario", "fixtures/scenarios/takeover.json"], &[("DDNS_DEFAULT_ZONE", "*.corp.example")], "(DDNS_DEFAULT_ZONE)")]
#[case::a_long_tag_key(&["replay", "--world", WORLD, "x.json"], &[("DDNS_CNAME_TAG", LONG_TAG_KEY)], "longer than 128 characters; expected an EC2 tag key of 1 to 128 characters (DDNS_CNAME_TAG)")]
#[case::bad_snapshot_table(&["snapshot", "--table", " "], &[], "invalid value ' ' for '--table <NAME>': empty")]
#[case::completions_for_an_unknown_shell(&["completions", "tcsh"], &[], "invalid value 'tcsh' for '<SHELL>'")]
#[case::an_event_given_as_world(&["replay", "--world", RUNNING, "x.json"], &[], "web-1-running.json: detail: unknown field `detail`, expected one of `region`")]
#[case::snapshot_takes_no_files(&["snapshot", "world.json"], &[], "unexpected argument 'world.json'")]
#[case::snapshot_takes_no_world(&["snapshot", "--world", WORLD], &[], "unexpected argument '--world'")]
#[case::snapshot_takes_no_ttl(&["snapshot", "--ttl", "5"], &[], "unexpected argument '--ttl'")]
#[case::scenario_takes_no_dry_run(&["scenario", "--dry-run", "fixtures/scenarios/takeover.json"], &[], "unexpected argument '--dry-run'")]
#[case::scenario_takes_no_endpoint(&["scenario", "--endpoint-url", "http://127.0.0.1:1", "fixtures/scenarios/takeover.json"], &[], "unexpected argument '--endpoint-url'")]
fn usage_errors_exit_2_with_a_short_message(
    #[case] args: &[&str],
    #[case] env: &[(&str, &str)],
    #[case] needle: &str,
) {
    let o = ec2_ddns()
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(needle), "{err}");
    assert!(
        err.lines().count() <= 8,
        "the message should not scroll away:\n{err}"
    );
    assert!(err.contains("--help"), "a hint to --help: {err}");
    assert!(stdout(&o).is_empty());
}

#[test]
fn help_exits_0_without_touching_any_account() {
    for command in ["replay", "scenario", "snapshot", "status"] {
        let long = run(&[command, "--help"]);
        for args in [vec![command, "-h"], vec!["help", command]] {
            // An unreachable endpoint in the environment: help must not try it.
            let o = ec2_ddns()
                .args(&args)
                .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
                .output()
                .unwrap();
            assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
            assert!(stderr(&o).is_empty(), "{args:?}: {}", stderr(&o));
            assert!(
                stdout(&o).contains(&format!("Usage: ec2-ddns {command}")),
                "{args:?}: {}",
                stdout(&o)
            );
        }
        assert_eq!(long.status.code(), Some(0));
        assert_eq!(
            stdout(&long),
            stdout(&run(&["help", command])),
            "help {command} is {command} --help"
        );
    }
    let o = run(&["--version"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        stdout(&o),
        format!("ec2-ddns {}\n", env!("CARGO_PKG_VERSION"))
    );
    let o = run(&[]);
    assert_eq!(o.status.code(), Some(2), "no command is a usage error");
}

/// Every numeric flag of every command answers a negative or too large
/// value, from the flag or from its variable, with its valid range (found
/// by attack: `--ttl -1` got clap's "to pass '-1' as a value, use '-- -1'").
#[rstest]
fn numeric_flags_answer_with_their_range(
    #[values(
        &["replay", "--world", WORLD, RUNNING][..],
        &["reconcile", "--world", WORLD][..],
        &["scenario", "fixtures/scenarios/takeover.json"][..],
    )]
    command: &[&str],
    #[values(
        ("--ttl", "DDNS_TTL", "whole seconds from 0 to 2147483647"),
        ("--cache-seconds", "DDNS_CACHE_SECONDS", "whole seconds from 0 (no cache) to 3600"),
    )]
    setting: (&str, &str, &str),
    #[values("-1", "-2147483648", "2147483648", "99999999999999999999999")] value: &str,
) {
    let (flag, variable, range) = setting;
    let expected = format!(
        "error: invalid value '{value}' for '{flag} <SECONDS>': out of range; expected {range} ({variable})"
    );
    let as_flag = ec2_ddns()
        .args(command)
        .args([flag, value])
        .output()
        .unwrap();
    let from_env = ec2_ddns()
        .args(command)
        .env(variable, value)
        .output()
        .unwrap();
    for o in [as_flag, from_env] {
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).starts_with(&expected), "{}", stderr(&o));
        assert!(stdout(&o).is_empty());
    }
}

/// `hosts add --ttl` answers a negative or too large TTL with its range, as
/// the registrar's settings do.
#[test]
fn hosts_add_ttl_answers_with_its_range() {
    for value in ["-1", "2147483648"] {
        let o = run(&[
            "hosts",
            "add",
            "home.example.com",
            "--zone",
            "example.com",
            "--ttl",
            value,
        ]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(
            stderr(&o).contains("out of range; expected whole seconds from 0 to 2147483647"),
            "{}",
            stderr(&o)
        );
    }
}

/// A blank variable counts as unset, as the Lambda function reads it (a
/// CloudFormation parameter left empty sets one): the defaults apply.
#[test]
fn blank_variables_count_as_unset() {
    let o = ec2_ddns()
        .args(["replay", "--world", WORLD, "--json", RUNNING])
        .env("DDNS_TTL", "")
        .env("DDNS_ON_STOP", " ")
        .env("DDNS_ALLOWED_ZONES", "")
        .env("DDNS_CACHE_SECONDS", "")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let line = &json_lines(&o)[0];
    assert!(
        nonempty(line, "changes").iter().all(|c| c["ttl"] == 60),
        "the default TTL: {line}"
    );
}

/// `completions SHELL` prints a script that knows the commands and the
/// settings' flags, and nothing on stderr.
#[rstest]
fn completions_print_a_script(#[values("bash", "zsh", "fish")] shell: &str) {
    let o = run(&["completions", shell]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
    let script = stdout(&o);
    // fish writes `-l ttl` for --ttl.
    for word in [
        "ec2-ddns",
        "replay",
        "reconcile",
        "snapshot",
        "hosts",
        "manpage",
        "ttl",
        "on-stop",
        "deregister",
    ] {
        assert!(script.contains(word), "{shell}: no {word}");
    }
}

/// docs/cli.md shows each command's `--help` verbatim; this keeps them equal.
#[test]
fn readme_usage_blocks_match_help() {
    let page = std::fs::read_to_string(common::repo("docs/cli.md")).unwrap();
    for args in [
        vec!["--help"],
        vec!["replay", "--help"],
        vec!["reconcile", "--help"],
        vec!["status", "--help"],
        vec!["scenario", "--help"],
        vec!["snapshot", "--help"],
        vec!["hosts", "--help"],
        vec!["update", "--help"],
        vec!["completions", "--help"],
        vec!["manpage", "--help"],
    ] {
        let help = stdout(&run(&args));
        let block = format!("```text\n$ ec2-ddns {}\n{help}```", args.join(" "));
        assert!(
            page.contains(&block),
            "docs/cli.md lacks the output of `ec2-ddns {}`; paste this:\n{block}",
            args.join(" ")
        );
    }
}

#[test]
fn flags_override_the_environment() {
    let o = ec2_ddns()
        .args([
            "replay", "--world", WORLD, "--json", "--ttl", "120", RUNNING,
        ])
        .env("DDNS_TTL", "30")
        .output()
        .unwrap();
    let line = &json_lines(&o)[0];
    assert!(
        nonempty(line, "changes").iter().all(|c| c["ttl"] == 120),
        "{line}"
    );
    let o = ec2_ddns()
        .args(["replay", "--world", WORLD, "--json", RUNNING])
        .env("DDNS_TTL", "30")
        .output()
        .unwrap();
    let line = &json_lines(&o)[0];
    assert!(
        nonempty(line, "changes").iter().all(|c| c["ttl"] == 30),
        "the environment is read: {line}"
    );
}

#[test]
fn scenarios_run_in_memory_and_refuse_takeovers() {
    let o = run(&["scenario", "--json", "fixtures/scenarios/takeover.json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let lines = json_lines(&o);
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["outcome"], "conflict");
    assert_eq!(lines[1]["outcome"], "conflict", "{}", lines[1]);
    assert!(
        nonempty(&lines[1], "rejected")
            .iter()
            .any(|r| r["name"] == "*.corp.example."),
        "{}",
        lines[1]
    );
    assert!(nonempty(&lines[2], "changes")
        .iter()
        .all(|c| c["name"] != "db.corp.example."));

    let text = run(&["scenario", "fixtures/scenarios/takeover.json"]);
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
    let dir = tempfile::tempdir().unwrap();
    let world = common::repo(WORLD);
    let file = dir.path().join("typo.json");
    std::fs::write(
        &file,
        format!(
            r#"{{"world": "{}", "steps": ["launch web-1", "lanch web-1"]}}"#,
            world.display()
        ),
    )
    .unwrap();
    let o = run(&["scenario", file.to_str().unwrap()]);
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
    let o = run(&["scenario", file.to_str().unwrap()]);
    assert!(
        stderr(&o).contains("steps[0]: no instance with id or name 'nobody'"),
        "{}",
        stderr(&o)
    );
    std::fs::write(&file, "[]").unwrap();
    let o = run(&["scenario", file.to_str().unwrap()]);
    assert!(
        stderr(&o).contains("typo.json: (top): expected a scenario"),
        "{}",
        stderr(&o)
    );
}

/// `replay --json … | head -1`: the reader closes the pipe early, and the
/// command ends quietly instead of panicking.
#[test]
fn a_closed_stdout_ends_quietly() {
    let mut args = vec!["replay", "--world", WORLD, "--json"];
    args.extend(std::iter::repeat_n(RUNNING, 2000));
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ec2-ddns"))
        .current_dir(common::repo(""))
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.contains("\"outcome\":\"applied\""), "{first}");
    // The reader is dropped here: the pipe is closed with ~2 MB still to come.
    let o = child.wait_with_output().unwrap();
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// The walkthrough trap: an event whose instance EC2 does not know used to
/// end as a quiet "nothing-to-do"; now it says so on stderr.
#[test]
fn an_unknown_instance_is_a_warning_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let event = dir.path().join("nobody.json");
    let text = std::fs::read_to_string(common::repo(RUNNING))
        .unwrap()
        .replace("i-0web1", "i-0nobody");
    std::fs::write(&event, text).unwrap();
    let o = run(&[
        "replay",
        "--world",
        WORLD,
        "--json",
        event.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stderr(&o).contains("warning")
            && stderr(&o).contains("EC2 does not know instance i-0nobody"),
        "{}",
        stderr(&o)
    );
    assert_eq!(json_lines(&o)[0]["outcome"], "nothing-to-do");
}

/// A tag with control characters cannot forge lines or colours in text output.
#[test]
fn control_characters_from_tags_are_escaped_in_text_output() {
    let dir = tempfile::tempdir().unwrap();
    let mut world: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(common::repo(WORLD)).unwrap()).unwrap();
    world["instances"][0]["tags"]["CNAME"] = "ev\u{1b}[2Jil.corp.example\rapi.corp.example".into();
    world["instances"][0]["tags"]["HOSTNAME"] = "".into();
    let file = dir.path().join("hostile.json");
    std::fs::write(&file, world.to_string()).unwrap();
    let o = run(&["replay", "--world", file.to_str().unwrap(), RUNNING]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(!out.contains('\u{1b}'), "raw escape in output: {out:?}");
    assert!(
        out.contains("ev\\u{1b}[2jil.corp.example."),
        "names are lower-cased, then escaped: {out}"
    );
    assert!(
        out.contains("rejected tag HOSTNAME: the HOSTNAME tag is empty"),
        "{out}"
    );
}

/// An endpoint nobody listens on: the failure is one line naming the
/// operation, retryable (a network failure may pass), not the SDK's
/// several-hundred-character debug dump.
#[test]
fn a_network_failure_is_one_retryable_line() {
    let o = ec2_ddns()
        .args([
            "replay",
            "--endpoint-url",
            "http://127.0.0.1:9",
            "--region",
            "us-east-1",
            RUNNING,
        ])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let line = &json_lines(&o)[0];
    let error = line["error"].as_str().unwrap_or_default();
    assert!(error.starts_with("dynamodb:GetItem failed: "), "{error}");
    assert!(
        !error.contains('\n') && error.len() < 300,
        "one short line: {error}"
    );
    assert!(
        !error.contains("DispatchFailure {"),
        "no debug dump: {error}"
    );
    assert_eq!(line["retryable"], true, "{line}");
}

/// A service error from the emulator: the operation, the service's code and
/// its message on one line; a missing table is not retried.
#[test]
#[ignore = "needs the emulator: run through scripts/test"]
fn a_service_error_is_one_line_with_code_and_message() {
    let endpoint = common::moto_endpoint();
    let o = ec2_ddns()
        .args([
            "replay",
            "--endpoint-url",
            &endpoint,
            "--region",
            "us-east-1",
            "--table",
            "NoSuchTable",
            RUNNING,
        ])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let line = &json_lines(&o)[0];
    let error = line["error"].as_str().unwrap_or_default();
    assert!(
        error.starts_with("dynamodb:GetItem failed: ResourceNotFoundException: "),
        "{error}"
    );
    assert!(
        !error.contains('\n') && error.len() < 200,
        "one short line: {error}"
    );
    assert_eq!(line["retryable"], false, "{line}");
}

#[test]
fn reconcile_registers_a_missed_instance_and_ends_with_totals() {
    let o = run(&["reconcile", "--world", WORLD, "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let lines = json_lines(&o);
    assert_eq!(
        lines.len(),
        2,
        "one instance line, then the totals: {lines:?}"
    );
    assert_eq!(lines[0]["instance_id"], "i-0web1");
    assert_eq!(lines[0]["live_state"], "running");
    assert_eq!(nonempty(&lines[0], "changes").len(), 5);
    let totals = &lines[1];
    assert_eq!(totals["totals"], "reconcile", "{totals}");
    assert_eq!(totals["instances_seen"], 1);
    assert_eq!(totals["records_created"], 5);
    assert_eq!(totals["change_batches"], 3);
    assert!(totals["aws_calls"].as_u64().unwrap_or(0) > 0, "{totals}");

    // A dry run plans the same and says so; text output ends with the zones.
    let dry = run(&["reconcile", "--world", WORLD, "--dry-run", "--json"]);
    let lines = json_lines(&dry);
    assert_eq!(lines[0]["dry_run"], true, "{:?}", lines[0]);
    assert_eq!(lines[1]["dry_run"], true);
    assert_eq!(lines[1]["records_created"], 5);
    let text = stdout(&run(&["reconcile", "--world", WORLD]));
    assert!(
        text.contains("reconcile: 1 instance seen, 0 registry items, 1 changed"),
        "{text}"
    );
    assert!(text.contains(" + ip-10-1-2-4.corp.example."), "{text}");
}

#[test]
fn the_drift_scenario_is_repaired_by_the_reconcile() {
    let o = run(&["scenario", "--json", "fixtures/scenarios/drift.json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let lines = json_lines(&o);
    let quiet = lines.iter().filter(|l| l.get("quiet").is_some()).count();
    assert_eq!(quiet, 4, "lose, delete-record, set-record, lose: {lines:?}");
    let totals: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["totals"] == "reconcile")
        .collect();
    assert_eq!(totals.len(), 3);
    assert_eq!(
        totals[0]["records_created"], 3,
        "app in both views, the deleted host A"
    );
    assert_eq!(totals[0]["conflicts"], 1, "the PTR a person repointed");
    assert_eq!(
        totals[1]["records_created"], 0,
        "the second reconcile changes nothing"
    );
    assert_eq!(totals[1]["records_deleted"], 0);
    assert_eq!(
        totals[2]["records_deleted"], 6,
        "the terminated instance's records"
    );
}

#[test]
fn the_stop_policy_is_a_setting_with_a_clear_error() {
    let stopped = "fixtures/events/web-1-stopped.json";
    let world = "fixtures/worlds/split-horizon.json";
    // web-1 runs in the world: the stop event is only a hint, and the live
    // state registers it (its running event was never seen).
    let o = run(&[
        "replay",
        "--world",
        world,
        "--json",
        "--on-stop",
        "keep",
        stopped,
    ]);
    let line = &json_lines(&o)[0];
    assert_eq!(line["state"], "stopped", "{line}");
    assert_eq!(line["live_state"], "running", "{line}");
    assert_eq!(line["outcome"], "applied", "{line}");
    let bad = ec2_ddns()
        .args(["replay", "--world", world, stopped])
        .env("DDNS_ON_STOP", "hibernate")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("DDNS_ON_STOP"), "{}", stderr(&bad));
}
