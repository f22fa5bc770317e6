//! Auto Scaling lifecycle hooks through the Lambda handler, on the
//! in-memory account (strict: it refuses a hook the group does not have,
//! answers "not waiting" for a token it does not hold, and keeps every call
//! in order): a launch hook is completed only after the instance's records
//! and its item are written, a terminate hook only after they are deleted;
//! a crash between the records and the completion is retried without a
//! second record; a failure for good continues (or abandons, when asked);
//! a failure a retry may fix completes nothing. The last case runs the same
//! on moto (`./scripts/test`; the strict launcher's MOTO GAP 5 holds the
//! actions and keeps, with each completion, the records Route 53 held then).
//!
//! With `DDNS_WAIT_INSYNC=true` a launch is completed only once GetChange
//! reports every change batch it applied `INSYNC` (the in-memory Route 53
//! keeps each batch `PENDING` for `set_propagation_polls` GetChange calls of
//! its id; on moto, MOTO GAP 8 does), or when the invocation's time is up;
//! a terminate never asks. Those run on both backends too.

mod common;

use ec2_ddns::event::{self, LifecycleAction, Transition};
use ec2_ddns::model::InstanceState;
use ec2_ddns::sim::memory::{Fault, MemoryAccount};
use ec2_ddns::Config;
use ec2_ddns_core::config::HookOnConflict;
use ec2_ddns_core::lifecycle::HookResult;
use ec2_ddns_lambda::tally::Tally;
use serde_json::Value;

const COMPLETE: &str = "autoscaling:CompleteLifecycleAction";
const GET_CHANGE: &str = "route53:GetChange";
const CHANGE: &str = "route53:ChangeResourceRecordSets";

/// The settings with `DDNS_WAIT_INSYNC=true`.
fn waiting() -> Config {
    Config {
        wait_insync: true,
        ..Config::default()
    }
}

fn payload(action: &LifecycleAction, id: &str) -> Value {
    event::lifecycle_json(id, action, None, "us-east-1")
}

/// One invocation of the handler with `account` behind every port, the
/// hooks included.
async fn invoke(
    account: &MemoryAccount,
    config: Config,
    payload: Value,
) -> (Result<Value, ec2_ddns::Error>, Tally) {
    let registrar = account.registrar(config);
    let mut tally = Tally::default();
    let answer =
        ec2_ddns_lambda::handle_hooked(&registrar, account, payload, None, &mut tally).await;
    (answer, tally)
}

/// The position of the last call of `operation` in the journal.
fn last(journal: &[String], operation: &str) -> usize {
    journal
        .iter()
        .rposition(|c| c == operation)
        .unwrap_or_else(|| panic!("no {operation} in {journal:?}"))
}

fn record_count(account: &MemoryAccount) -> usize {
    account.zone_records().values().map(Vec::len).sum()
}

fn count(journal: &[String], operation: &str) -> usize {
    journal.iter().filter(|c| *c == operation).count()
}

/// The summary's notes, one string.
fn notes(answer: &Value) -> String {
    answer["notes"].to_string()
}

#[tokio::test]
async fn with_wait_insync_a_launch_is_completed_after_route53_reports_its_changes_insync() {
    let account = MemoryAccount::fixture("split-horizon");
    account.set_propagation_polls(2);
    let action =
        account.start_lifecycle_action("web", "launch", "i-0web1", Transition::Launching, "t-1");
    let (answer, tally) = invoke(&account, waiting(), payload(&action, "l-1")).await;
    let answer = answer.expect("answered");
    assert_eq!(answer["outcome"], "applied", "{answer}");
    assert_eq!(tally.hooks, [("CONTINUE", 1)].into());

    let journal = account.journal();
    println!("lifecycle launch, DDNS_WAIT_INSYNC=true, 2 polls PENDING per batch:");
    for (n, call) in journal.iter().enumerate() {
        println!("  {:>2}. {call}", n + 1);
    }
    let batches = count(&journal, CHANGE);
    assert_eq!(batches, 3, "one batch per zone: {journal:?}");
    let first_poll = journal
        .iter()
        .position(|c| c == GET_CHANGE)
        .expect("GetChange");
    assert!(last(&journal, CHANGE) < first_poll, "{journal:?}");
    assert!(
        last(&journal, "dynamodb:PutItem") < first_poll,
        "{journal:?}"
    );
    // Each batch is asked about until it answers INSYNC: twice PENDING, then
    // INSYNC; the asking stops at the first batch still pending.
    assert_eq!(count(&journal, GET_CHANGE), 3 * batches, "{journal:?}");
    assert_eq!(
        journal[first_poll..journal.len() - 1],
        vec![GET_CHANGE.to_string(); 3 * batches],
        "nothing but GetChange between the first poll and the completion: {journal:?}"
    );
    assert_eq!(last(&journal, COMPLETE), journal.len() - 1, "{journal:?}");
    assert!(account.changes_propagating().is_empty());
    assert!(
        notes(&answer).contains("Route 53 reports the changes INSYNC after"),
        "{answer}"
    );
    assert_eq!(account.lifecycle_completions().len(), 1);
    // The wait's time is the TimeToInsync metric (milliseconds).
    assert_eq!(tally.insync_waits.len(), 1, "{:?}", tally.insync_waits);
    let settings = ec2_ddns_lambda::metrics::Settings {
        namespace: "ec2-ddns".into(),
        function: "f".into(),
    };
    let lines = ec2_ddns_lambda::metrics::lines(&tally, &settings, 0);
    let time = lines
        .iter()
        .find(|l| l.get("TimeToInsync").is_some())
        .expect("a TimeToInsync line");
    assert_eq!(
        time["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"],
        "Milliseconds"
    );
    assert_eq!(
        time["TimeToInsync"].as_u64(),
        Some(tally.insync_waits[0].as_millis() as u64)
    );
}

#[tokio::test]
async fn without_wait_insync_nothing_asks_route53_whether_the_changes_are_in_sync() {
    let account = MemoryAccount::fixture("split-horizon");
    account.set_propagation_polls(2);
    let action =
        account.start_lifecycle_action("web", "launch", "i-0web1", Transition::Launching, "t-1");
    let (answer, tally) = invoke(&account, Config::default(), payload(&action, "l-1")).await;
    assert_eq!(answer.expect("answered")["outcome"], "applied");
    assert_eq!(tally.hooks, [("CONTINUE", 1)].into());
    let journal = account.journal();
    assert_eq!(count(&journal, GET_CHANGE), 0, "{journal:?}");
    assert_eq!(last(&journal, COMPLETE), journal.len() - 1);
    assert_eq!(
        account.changes_propagating().len(),
        3,
        "still PENDING: nobody asked"
    );
}

/// An invocation whose time ends 20 s from now, on a paused clock, with
/// the registrar's usual backoff (so the pauses between polls are real:
/// 2 s, 4 s, 8 s, then 5 s to the bound).
#[tokio::test(start_paused = true)]
async fn a_launch_whose_changes_are_not_insync_by_the_deadline_is_completed_all_the_same() {
    let account = MemoryAccount::fixture("split-horizon");
    account.set_propagation_polls(1_000);
    let action =
        account.start_lifecycle_action("web", "launch", "i-0web1", Transition::Launching, "t-1");
    let registrar = account
        .registrar(waiting())
        .with_backoff(std::time::Duration::from_millis(200));
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut tally = Tally::default();
    let answer = ec2_ddns_lambda::handle_hooked(
        &registrar,
        &account,
        payload(&action, "l-1"),
        Some(deadline),
        &mut tally,
    )
    .await
    .expect("answered");
    assert_eq!(answer["outcome"], "applied", "{answer}");
    assert!(
        notes(&answer).contains("not yet INSYNC after 19 s (5 GetChange polls)"),
        "{answer}"
    );
    assert!(tokio::time::Instant::now() < deadline, "completed in time");
    assert_eq!(tally.hooks, [("CONTINUE", 1)].into());
    let journal = account.journal();
    assert_eq!(count(&journal, GET_CHANGE), 5, "{journal:?}");
    assert_eq!(last(&journal, COMPLETE), journal.len() - 1, "{journal:?}");
    assert_eq!(
        account.lifecycle_completions()[0].result,
        HookResult::Continue
    );
}

#[tokio::test]
async fn a_terminate_hook_never_waits_for_insync() {
    let account = MemoryAccount::fixture("split-horizon");
    let launch =
        account.start_lifecycle_action("web", "launch", "i-0web1", Transition::Launching, "t-1");
    invoke(&account, waiting(), payload(&launch, "l-1"))
        .await
        .0
        .expect("launched");
    let start = account.journal().len();
    account.set_propagation_polls(2);
    let terminate = account.start_lifecycle_action(
        "web",
        "terminate",
        "i-0web1",
        Transition::Terminating,
        "t-2",
    );
    let (answer, tally) = invoke(&account, waiting(), payload(&terminate, "t-1")).await;
    let answer = answer.expect("answered");
    assert_eq!(answer["outcome"], "applied", "{answer}");
    assert_eq!(tally.hooks, [("CONTINUE", 1)].into());
    let journal = account.journal()[start..].to_vec();
    assert!(count(&journal, CHANGE) > 0, "{journal:?}");
    assert_eq!(count(&journal, GET_CHANGE), 0, "{journal:?}");
    assert_eq!(last(&journal, COMPLETE), journal.len() - 1);
}

#[tokio::test]
async fn a_throttled_get_change_is_polled_again_and_one_refused_for_good_completes_the_hook() {
    // Throttled once: asked again, then INSYNC.
    let account = MemoryAccount::fixture("split-horizon");
    account.inject(GET_CHANGE, Fault::Throttling);
    let action =
        account.start_lifecycle_action("web", "launch", "i-0web1", Transition::Launching, "t-1");
    let (answer, tally) = invoke(&account, waiting(), payload(&action, "l-1")).await;
    let answer = answer.expect("answered");
    assert_eq!(tally.hooks, [("CONTINUE", 1)].into());
    let journal = account.journal();
    assert_eq!(count(&journal, GET_CHANGE), 1 + 3, "{journal:?}");
    assert_eq!(last(&journal, COMPLETE), journal.len() - 1);
    assert_eq!(
        account.calls.take_throttled(),
        [(GET_CHANGE.to_string(), 1)].into()
    );
    assert!(
        notes(&answer).contains("INSYNC after 0 s (2 GetChange polls)"),
        "{answer}"
    );

    // Refused for good (a role without route53:GetChange): completed at once.
    let account = MemoryAccount::fixture("split-horizon");
    account.inject(GET_CHANGE, Fault::Refused("AccessDenied", "not authorized"));
    let action =
        account.start_lifecycle_action("web", "launch", "i-0web1", Transition::Launching, "t-1");
    let (answer, tally) = invoke(&account, waiting(), payload(&action, "l-1")).await;
    let answer = answer.expect("answered");
    assert_eq!(tally.hooks, [("CONTINUE", 1)].into());
    assert_eq!(count(&account.journal(), GET_CHANGE), 1);
    assert!(
        notes(&answer).contains("whether Route 53's changes are INSYNC is unknown"),
        "{answer}"
    );
    assert_eq!(account.lifecycle_completions().len(), 1);
}

#[tokio::test]
async fn a_launch_hook_is_completed_only_after_the_records_and_the_item_are_written() {
    let account = MemoryAccount::fixture("split-horizon");
    let before = record_count(&account);
    let action = account.start_lifecycle_action(
        "web",
        "ec2-ddns-launch",
        "i-0web1",
        Transition::Launching,
        "c613620e-07e2-4ed2-a9e2-ef8258911ade",
    );
    let (answer, tally) = invoke(&account, Config::default(), payload(&action, "l-1")).await;
    let answer = answer.expect("answered");
    assert_eq!(answer["outcome"], "applied", "{answer}");
    assert_eq!(
        record_count(&account),
        before + 5,
        "host A ×2, CNAME ×2, PTR"
    );

    let completions = account.lifecycle_completions();
    assert_eq!(completions.len(), 1);
    assert_eq!(completions[0].result, HookResult::Continue);
    assert_eq!(completions[0].instance_id, "i-0web1");

    let journal = account.journal();
    let completed = last(&journal, COMPLETE);
    assert_eq!(
        completed,
        journal.len() - 1,
        "completing the hook is the last call: {journal:?}"
    );
    assert!(last(&journal, "route53:ChangeResourceRecordSets") < completed);
    assert!(
        last(&journal, "dynamodb:PutItem") < completed,
        "the item is saved first"
    );
    assert_eq!(completions[0].call, completed);
    assert_eq!(tally.hooks, [("CONTINUE", 1)].into());
    assert!(account.lifecycle_waiting().is_empty());

    // The figure for BENCHMARKS.md: the calls of one lifecycle launch, in order.
    println!("lifecycle launch: {} AWS calls, in order:", journal.len());
    for (n, call) in journal.iter().enumerate() {
        println!("  {:>2}. {call}", n + 1);
    }
    // The token is never shown whole, in the answer as anywhere.
    assert!(!answer.to_string().contains("07e2-4ed2"), "{answer}");
    assert_eq!(
        answer["lifecycle"],
        "launch hook ec2-ddns-launch of Auto Scaling group web (token c613620e…)"
    );
}

#[tokio::test]
async fn a_terminate_hook_deletes_the_records_of_the_running_instance_before_completing() {
    let account = MemoryAccount::fixture("split-horizon");
    let before = record_count(&account);
    let launch = account.start_lifecycle_action(
        "web",
        "launch",
        "i-0web1",
        Transition::Launching,
        "t-launch",
    );
    invoke(&account, Config::default(), payload(&launch, "l-1"))
        .await
        .0
        .unwrap();
    assert_eq!(record_count(&account), before + 5);
    account.journal(); // (the launch's calls stay in the journal; only later ones matter)
    let start = account.journal().len();

    // The instance still runs while its group waits in Terminating:Wait.
    let terminate = account.start_lifecycle_action(
        "web",
        "terminate",
        "i-0web1",
        Transition::Terminating,
        "t-terminate",
    );
    let (answer, tally) = invoke(&account, Config::default(), payload(&terminate, "t-1")).await;
    let answer = answer.expect("answered");
    assert_eq!(answer["outcome"], "applied", "{answer}");
    assert_eq!(
        record_count(&account),
        before,
        "every record it owned is gone"
    );
    assert!(
        !account.registry_items().contains_key("i-0web1"),
        "and its item"
    );

    let journal = account.journal()[start..].to_vec();
    let completed = last(&journal, COMPLETE);
    assert!(
        last(&journal, "route53:ChangeResourceRecordSets") < completed,
        "{journal:?}"
    );
    assert!(
        last(&journal, "dynamodb:DeleteItem") < completed,
        "{journal:?}"
    );
    assert!(
        !journal.contains(&"ec2:DescribeInstances".to_string()),
        "a terminate action decides without describing: {journal:?}"
    );
    let completions = account.lifecycle_completions();
    assert_eq!(
        completions.last().map(|c| (c.transition, c.result)),
        Some((Transition::Terminating, HookResult::Continue))
    );
    assert_eq!(tally.hooks, [("CONTINUE", 1)].into());
}

#[tokio::test]
async fn a_crash_before_the_completion_is_retried_without_a_second_record() {
    let account = MemoryAccount::fixture("split-horizon");
    let action =
        account.start_lifecycle_action("web", "launch", "i-0web1", Transition::Launching, "t-1");
    account.inject(
        COMPLETE,
        Fault::Crash {
            after_commit: false,
        },
    );
    let (first, tally) = invoke(&account, Config::default(), payload(&action, "l-1")).await;
    let err = first.expect_err("the invocation died at CompleteLifecycleAction");
    assert!(err.is_retryable(), "{err}");
    assert_eq!(tally.hooks, [("Retry", 1)].into());
    assert!(account.lifecycle_completions().is_empty());
    let zones = account.zone_records();

    // Lambda delivers the event again: nothing to write, the hook completed.
    account.revive();
    let (again, tally) = invoke(&account, Config::default(), payload(&action, "l-1")).await;
    let again = again.expect("answered");
    assert_eq!(again["outcome"], "nothing-to-do", "{again}");
    assert_eq!(
        account.zone_records(),
        zones,
        "no record written twice, none lost"
    );
    assert_eq!(account.lifecycle_completions().len(), 1);
    assert_eq!(tally.hooks, [("CONTINUE", 1)].into());
}

/// A crash at each call of a lifecycle launch, before or after the call
/// commits, then Lambda's retry: the hook is completed once, no record is
/// written twice or left unlisted, and the zones are those of a launch
/// without a crash, except after a change batch that went in unanswered:
/// a record of a batch that went in before the invocation died unsaved is
/// unproven (listed pending, reported as an "unsettled" conflict, left for
/// a person: docs/convergence.md, "Crash safety"), and the hook continues.
#[tokio::test]
async fn a_crash_at_any_call_of_a_launch_is_retried_without_a_second_record_and_one_completion() {
    let clean = MemoryAccount::fixture("split-horizon");
    let world = clean.zone_records();
    let action =
        clean.start_lifecycle_action("web", "launch", "i-0web1", Transition::Launching, "t-1");
    invoke(&clean, Config::default(), payload(&action, "l-1"))
        .await
        .0
        .expect("answered");
    let journal = clean.journal();
    let want = clean.zone_records();
    let first_batch = journal
        .iter()
        .position(|c| c == "route53:ChangeResourceRecordSets")
        .expect("batches");
    let saved = last(&journal, "dynamodb:PutItem");
    for (n, operation) in journal.iter().enumerate() {
        for after_commit in [false, true] {
            let account = MemoryAccount::fixture("split-horizon");
            let action = account.start_lifecycle_action(
                "web",
                "launch",
                "i-0web1",
                Transition::Launching,
                "t-1",
            );
            account.inject_at(n as u64, Fault::Crash { after_commit });
            let (first, _) = invoke(&account, Config::default(), payload(&action, "l-1")).await;
            let case = format!("crash at call {n}, {operation} (after commit: {after_commit})");
            assert!(
                first.as_ref().is_err_and(|e| e.is_retryable()),
                "{case}: {first:?}"
            );
            account.revive();
            let (again, _) = invoke(&account, Config::default(), payload(&action, "l-1")).await;
            let again = again.unwrap_or_else(|e| panic!("{case}: the retry failed: {e}"));
            assert_eq!(account.lifecycle_completions().len(), 1, "{case}");
            let now = account.zone_records();
            let item = account.registry_items().remove("i-0web1").expect("an item");
            let listed: Vec<String> = item.listed().map(|o| o.record.to_string()).collect();
            for (zone, records) in &now {
                for record in records {
                    let wanted = want[zone].contains(record);
                    let theirs = world[zone].contains(record);
                    assert!(
                        wanted,
                        "{case}: {record} in {zone} is not a record of the launch"
                    );
                    assert!(
                        theirs || listed.contains(&record.to_string()),
                        "{case}: {record} unlisted"
                    );
                }
            }
            // Exact unless the invocation died with a batch in, unsaved.
            let before_any_batch = n < first_batch || (n == first_batch && !after_commit);
            let after_the_save = n > saved || (n == saved && after_commit);
            if before_any_batch || after_the_save {
                assert_eq!(now, want, "{case}: {again}");
            }
        }
    }
}

#[tokio::test]
async fn a_completion_whose_answer_was_lost_is_not_waiting_on_the_retry() {
    let account = MemoryAccount::fixture("split-horizon");
    let action =
        account.start_lifecycle_action("web", "launch", "i-0web1", Transition::Launching, "t-1");
    account.inject(COMPLETE, Fault::InternalError { after_commit: true });
    let (first, _) = invoke(&account, Config::default(), payload(&action, "l-1")).await;
    assert!(first.expect_err("the answer was lost").is_retryable());
    assert_eq!(
        account.lifecycle_completions().len(),
        1,
        "it was completed all the same"
    );
    let (again, tally) = invoke(&account, Config::default(), payload(&action, "l-1")).await;
    assert_eq!(again.expect("answered")["outcome"], "nothing-to-do");
    assert_eq!(tally.hooks, [("NotWaiting", 1)].into());
    assert_eq!(account.lifecycle_completions().len(), 1);
}

#[tokio::test]
async fn a_conflict_continues_by_default_and_abandons_when_asked() {
    for (policy, result, label) in [
        (HookOnConflict::Continue, HookResult::Continue, "CONTINUE"),
        (HookOnConflict::Abandon, HookResult::Abandon, "ABANDON"),
    ] {
        let account = MemoryAccount::fixture("takeover");
        let action = account.start_lifecycle_action(
            "rogue",
            "launch",
            "i-0rogue",
            Transition::Launching,
            "t-1",
        );
        let config = Config {
            hook_on_conflict: policy,
            ..Config::default()
        };
        let (answer, tally) = invoke(&account, config, payload(&action, "l-1")).await;
        let answer = answer.expect("answered");
        assert_eq!(answer["outcome"], "conflict", "{answer}");
        let completions = account.lifecycle_completions();
        assert_eq!(
            completions.iter().map(|c| c.result).collect::<Vec<_>>(),
            [result]
        );
        assert_eq!(tally.hooks, [(label, 1)].into());
        assert!(tally.conflicts > 0, "the conflict is counted as well");
        // Even when abandoning, what could be written was, and the journal
        // shows it before the completion.
        let journal = account.journal();
        assert!(last(&journal, "route53:ChangeResourceRecordSets") < last(&journal, COMPLETE));
    }
}

#[tokio::test]
async fn a_retryable_failure_completes_nothing_and_fails_the_invocation() {
    let account = MemoryAccount::fixture("split-horizon");
    let action =
        account.start_lifecycle_action("web", "launch", "i-0web1", Transition::Launching, "t-1");
    for _ in 0..3 {
        account.inject(
            "ec2:DescribeInstances",
            Fault::InternalError {
                after_commit: false,
            },
        );
    }
    let (answer, tally) = invoke(&account, Config::default(), payload(&action, "l-1")).await;
    assert!(answer.expect_err("fails").is_retryable());
    assert!(account.lifecycle_completions().is_empty());
    assert!(!account.journal().contains(&COMPLETE.to_string()));
    assert_eq!(tally.hooks, [("Retry", 1)].into());
    assert_eq!(account.lifecycle_waiting(), ["i-0web1"]);
}

#[tokio::test]
async fn a_hook_the_group_does_not_have_is_refused_and_counted_not_retried() {
    let account = MemoryAccount::fixture("split-horizon");
    account.put_lifecycle_hook("web", "launch");
    let action = LifecycleAction {
        transition: Transition::Launching,
        group: "web".into(),
        hook: "no-such-hook".into(),
        instance_id: "i-0web1".into(),
        token: ec2_ddns::event::LifecycleToken::new("t-x"),
    };
    let (answer, tally) = invoke(&account, Config::default(), payload(&action, "l-1")).await;
    let answer = answer.expect("answered: a retry would be refused the same way");
    assert_eq!(answer["outcome"], "applied");
    assert_eq!(tally.hooks, [("Error", 1)].into());
    assert!(account.lifecycle_completions().is_empty());
    // A token no action holds: nothing waits, nothing fails.
    let stale = LifecycleAction {
        hook: "launch".into(),
        ..action
    };
    let (answer, tally) = invoke(&account, Config::default(), payload(&stale, "l-2")).await;
    assert_eq!(answer.expect("answered")["outcome"], "nothing-to-do");
    assert_eq!(tally.hooks, [("NotWaiting", 1)].into());
}

#[tokio::test]
async fn a_state_change_of_a_group_instance_completes_no_hook() {
    let account = MemoryAccount::fixture("split-horizon");
    account.start_lifecycle_action("web", "launch", "i-0web1", Transition::Launching, "t-1");
    let running =
        event::state_change_json("s-1", "i-0web1", InstanceState::Running, None, "us-east-1");
    let (answer, tally) = invoke(&account, Config::default(), running).await;
    assert_eq!(answer.expect("answered")["outcome"], "applied");
    assert!(tally.hooks.is_empty());
    assert!(
        account.lifecycle_completions().is_empty(),
        "only the hook's own event completes it"
    );
}

/// One request to the strict launcher's lifecycle-action endpoint (MOTO GAP
/// 5 of tests/emulator/strict_moto.py); the JSON of a 200 answer.
fn lifecycle_control(method: &str, body: &str) -> Value {
    launcher("/_ec2ddns/lifecycle-actions", method, body)
}

/// One request to one of the strict launcher's control endpoints; the JSON
/// of a 200 answer.
fn launcher(path: &str, method: &str, body: &str) -> Value {
    serde_json::from_str(&common::faults::launcher_control(method, path, body)).expect("JSON")
}

/// The records Route 53 held when the `n`-th completion was made.
fn held_at_completion(n: usize) -> Vec<String> {
    let state = lifecycle_control("GET", "");
    state["completed"][n]["records"]
        .as_array()
        .unwrap_or_else(|| panic!("no completion {n}: {state}"))
        .iter()
        .filter_map(|r| r.as_str().map(str::to_string))
        .collect()
}

#[tokio::test]
#[ignore = "needs the emulator: ./scripts/test"]
async fn on_moto_the_hooks_are_completed_after_the_records_are_written_and_after_they_are_gone() {
    let _moto = common::MOTO_LOCK.lock().await;
    let endpoint = common::moto_endpoint();
    let env = common::moto_env(&endpoint, "fixtures/worlds/split-horizon.json").await;
    let id = env.instance("i-0web1");
    let hooks = common::moto_account(&endpoint, "us-east-1").await;
    lifecycle_control("DELETE", "");
    for (hook, transition) in [
        ("ec2-ddns-launch", "autoscaling:EC2_INSTANCE_LAUNCHING"),
        ("ec2-ddns-terminate", "autoscaling:EC2_INSTANCE_TERMINATING"),
    ] {
        hooks
            .hooks
            .client
            .put_lifecycle_hook()
            .auto_scaling_group_name("web")
            .lifecycle_hook_name(hook)
            .lifecycle_transition(transition)
            .heartbeat_timeout(300)
            .default_result("CONTINUE")
            .send()
            .await
            .expect("moto keeps lifecycle hooks");
    }
    let start = |hook: &str, transition: Transition, token: &str| {
        lifecycle_control(
            "POST",
            &serde_json::json!({"group": "web", "hook": hook, "instance": id, "token": token,
                "transition": transition.as_str()})
            .to_string(),
        );
        LifecycleAction {
            transition,
            group: "web".into(),
            hook: hook.into(),
            instance_id: id.clone(),
            token: ec2_ddns::event::LifecycleToken::new(token),
        }
    };
    env.calls.take();
    hooks.calls.take();
    // One delivery of `action` to the real handler on moto's ports.
    let deliver = async |action: &LifecycleAction, id: &str| {
        let mut tally = Tally::default();
        let answer = ec2_ddns_lambda::handle_hooked(
            &env.registrar,
            &ports(&hooks),
            payload(action, id),
            None,
            &mut tally,
        )
        .await
        .expect("answered");
        (answer, tally)
    };

    let launch = start(
        "ec2-ddns-launch",
        Transition::Launching,
        "c613620e-07e2-4ed2-a9e2-ef8258911ade",
    );
    let (answer, tally) = deliver(&launch, "l-1").await;
    assert_eq!(answer["outcome"], "applied", "{answer}");
    assert_eq!(tally.hooks, [("CONTINUE", 1)].into());
    let held = held_at_completion(0);
    for wanted in [
        "ip-10-1-2-4.corp.example. A",
        "api.corp.example. CNAME",
        "4.2.1.10.in-addr.arpa. PTR",
    ] {
        assert!(
            held.iter().any(|r| r == wanted),
            "{wanted} was written before the hook was completed: {held:?}"
        );
    }
    let mut calls = env.calls.take();
    calls.extend(hooks.calls.take());
    println!(
        "lifecycle launch on moto: {}",
        ec2_ddns::calls::stats_line(&calls)
    );

    // The same event again (a duplicate delivery): nothing waits any more.
    let (again, tally) = deliver(&launch, "l-1").await;
    assert_eq!(again["outcome"], "nothing-to-do", "{again}");
    assert_eq!(tally.hooks, [("NotWaiting", 1)].into());

    // Terminating:Wait: the instance still runs in moto; its names go first.
    let terminate = start(
        "ec2-ddns-terminate",
        Transition::Terminating,
        "0f4b8a61-5c1d-4d3e-8a9b-3c2d1e0f9a8b",
    );
    let (answer, tally) = deliver(&terminate, "t-1").await;
    assert_eq!(answer["outcome"], "applied", "{answer}");
    assert_eq!(tally.hooks, [("CONTINUE", 1)].into());
    let held = held_at_completion(1);
    assert!(
        !held
            .iter()
            .any(|r| r.starts_with("ip-10-1-2-4.corp.example.")
                || r.starts_with("api.corp.example.")
                || r.starts_with("4.2.1.10.")),
        "every name was gone before the terminate hook was completed: {held:?}"
    );
    let item = ec2_ddns::ports::Registry::load(&env.registrar.registry, &id.as_str().into()).await;
    assert!(item.expect("the table answers").is_none(), "and the item");
    let state = lifecycle_control("GET", "");
    assert_eq!(state["waiting"], serde_json::json!([]), "{state}");
}

/// The strict launcher's Route 53 change statuses (MOTO GAP 8): each batch
/// applied from now on reads `PENDING` for its first `reads` GetChange calls.
fn pending_reads(reads: u32) {
    launcher(
        "/_ec2ddns/route53-changes",
        "POST",
        &serde_json::json!({ "pending_reads": reads }).to_string(),
    );
}

/// What GetChange answered for each batch, oldest first.
fn change_reads() -> Vec<Vec<String>> {
    let shown = launcher("/_ec2ddns/route53-changes", "GET", "");
    shown["changes"]
        .as_array()
        .unwrap_or_else(|| panic!("{shown}"))
        .iter()
        .map(|c| {
            c["reads"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r.as_str().map(str::to_string))
                .collect()
        })
        .collect()
}

/// The status each batch had last answered when the `n`-th completion was
/// made (MOTO GAP 8, kept by MOTO GAP 5).
fn statuses_at_completion(n: usize) -> Vec<String> {
    let state = lifecycle_control("GET", "");
    state["completed"][n]["changes"]
        .as_object()
        .unwrap_or_else(|| panic!("no completion {n}: {state}"))
        .values()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

/// A group `web` with a launch and a terminate hook on moto, the world
/// split-horizon seeded, the registrar built with `config` (its backoff
/// short: the pauses between GetChange polls are 10 of it).
struct MotoHooks {
    env: common::Env<
        ec2_ddns::adapters::aws::ec2::Ec2,
        ec2_ddns::adapters::aws::route53::Route53,
        ec2_ddns::adapters::aws::dynamodb::DynamoRegistry,
    >,
    hooks: ec2_ddns::adapters::aws::AwsAccount,
    id: String,
    /// Actions started so far (each gets a token of its own).
    started: std::sync::atomic::AtomicU32,
}

impl MotoHooks {
    async fn new(config: Config) -> MotoHooks {
        let endpoint = common::moto_endpoint();
        let mut env =
            common::moto_env_with(&endpoint, "fixtures/worlds/split-horizon.json", config).await;
        env.registrar.backoff = std::time::Duration::from_millis(10);
        let id = env.instance("i-0web1");
        let hooks = common::moto_account(&endpoint, "us-east-1").await;
        lifecycle_control("DELETE", "");
        launcher("/_ec2ddns/route53-changes", "DELETE", "");
        for (hook, transition) in [
            ("launch", "autoscaling:EC2_INSTANCE_LAUNCHING"),
            ("terminate", "autoscaling:EC2_INSTANCE_TERMINATING"),
        ] {
            hooks
                .hooks
                .client
                .put_lifecycle_hook()
                .auto_scaling_group_name("web")
                .lifecycle_hook_name(hook)
                .lifecycle_transition(transition)
                .heartbeat_timeout(300)
                .default_result("CONTINUE")
                .send()
                .await
                .expect("moto keeps lifecycle hooks");
        }
        env.calls.take();
        env.calls.take_throttled();
        hooks.calls.take();
        MotoHooks {
            env,
            hooks,
            id,
            started: Default::default(),
        }
    }

    /// Starts an action on the group (a fresh token) and delivers it to the
    /// real handler; the answer, the tally and the AWS calls it made.
    async fn deliver(
        &self,
        transition: Transition,
        deadline: Option<tokio::time::Instant>,
    ) -> (Value, Tally, std::collections::BTreeMap<String, usize>) {
        let hook = match transition {
            Transition::Launching => "launch",
            Transition::Terminating => "terminate",
        };
        let n = self
            .started
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let token = format!("c613620e-07e2-4ed2-a9e2-{n:012}");
        lifecycle_control(
            "POST",
            &serde_json::json!({"group": "web", "hook": hook, "instance": self.id, "token": token,
                "transition": transition.as_str()})
            .to_string(),
        );
        let action = LifecycleAction {
            transition,
            group: "web".into(),
            hook: hook.into(),
            instance_id: self.id.clone(),
            token: ec2_ddns::event::LifecycleToken::new(&token),
        };
        let mut tally = Tally::default();
        let answer = ec2_ddns_lambda::handle_hooked(
            &self.env.registrar,
            &ports(&self.hooks),
            payload(&action, &token),
            deadline,
            &mut tally,
        )
        .await
        .expect("answered");
        let mut calls = self.env.calls.take();
        calls.extend(self.hooks.calls.take());
        (answer, tally, calls)
    }
}

fn calls_of(calls: &std::collections::BTreeMap<String, usize>, operation: &str) -> usize {
    calls.get(operation).copied().unwrap_or(0)
}

#[tokio::test]
#[ignore = "needs the emulator: ./scripts/test"]
async fn on_moto_with_wait_insync_a_launch_is_completed_after_get_change_reports_insync() {
    let _moto = common::MOTO_LOCK.lock().await;
    let moto = MotoHooks::new(waiting()).await;
    pending_reads(2);
    let (answer, tally, calls) = moto.deliver(Transition::Launching, None).await;
    assert_eq!(answer["outcome"], "applied", "{answer}");
    assert_eq!(tally.hooks, [("CONTINUE", 1)].into());
    let batches = calls_of(&calls, CHANGE);
    assert_eq!(batches, 3, "{calls:?}");
    // Each batch: PENDING, PENDING, INSYNC, asked in turn.
    assert_eq!(calls_of(&calls, GET_CHANGE), 3 * batches, "{calls:?}");
    let reads = change_reads();
    assert_eq!(reads, vec![vec!["PENDING", "PENDING", "INSYNC"]; batches]);
    // When the hook was completed, every batch had answered INSYNC.
    assert_eq!(statuses_at_completion(0), vec!["INSYNC"; batches]);
    assert!(
        notes(&answer).contains("Route 53 reports the changes INSYNC after"),
        "{answer}"
    );
    println!(
        "lifecycle launch on moto, DDNS_WAIT_INSYNC=true, 2 reads PENDING per batch: {}; GetChange answered, per batch in order: {reads:?}; then CompleteLifecycleAction, with every batch INSYNC",
        ec2_ddns::calls::stats_line(&calls)
    );

    // A terminate never asks, though its batches read PENDING.
    let (answer, tally, calls) = moto.deliver(Transition::Terminating, None).await;
    assert_eq!(answer["outcome"], "applied", "{answer}");
    assert_eq!(tally.hooks, [("CONTINUE", 1)].into());
    assert!(calls_of(&calls, CHANGE) > 0, "{calls:?}");
    assert_eq!(calls_of(&calls, GET_CHANGE), 0, "{calls:?}");
    assert!(statuses_at_completion(1).contains(&"PENDING".to_string()));
}

#[tokio::test]
#[ignore = "needs the emulator: ./scripts/test"]
async fn on_moto_without_wait_insync_the_hook_is_completed_with_the_changes_still_pending() {
    let _moto = common::MOTO_LOCK.lock().await;
    let moto = MotoHooks::new(Config::default()).await;
    pending_reads(2);
    let (answer, tally, calls) = moto.deliver(Transition::Launching, None).await;
    assert_eq!(answer["outcome"], "applied", "{answer}");
    assert_eq!(tally.hooks, [("CONTINUE", 1)].into());
    assert_eq!(calls_of(&calls, GET_CHANGE), 0, "{calls:?}");
    assert_eq!(statuses_at_completion(0), vec!["PENDING"; 3]);
}

#[tokio::test]
#[ignore = "needs the emulator: ./scripts/test"]
async fn on_moto_a_throttled_get_change_is_retried_and_a_short_deadline_completes_anyway() {
    let _moto = common::MOTO_LOCK.lock().await;
    let moto = MotoHooks::new(waiting()).await;
    // Throttled once: the SDK tries it again (one more call, one throttle).
    launcher(
        "/_ec2ddns/faults",
        "POST",
        &serde_json::json!({ GET_CHANGE: ["throttle"] }).to_string(),
    );
    let (answer, tally, calls) = moto.deliver(Transition::Launching, None).await;
    assert_eq!(answer["outcome"], "applied", "{answer}");
    assert_eq!(tally.hooks, [("CONTINUE", 1)].into());
    assert_eq!(calls_of(&calls, GET_CHANGE), 3 + 1, "{calls:?}");
    assert_eq!(
        moto.env.calls.take_throttled(),
        [(GET_CHANGE.to_string(), 1)].into()
    );
    assert_eq!(statuses_at_completion(0), vec!["INSYNC"; 3]);

    // Never INSYNC: the wait ends by the deadline, and the hook is
    // completed with the note. (An answer at all says it ended in time: past
    // the deadline the invocation fails. No clock is asserted on: a loaded
    // machine makes moto slow, and 10 s leaves the convergence its time.)
    moto.deliver(Transition::Terminating, None).await;
    pending_reads(1_000_000);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    let (answer, tally, calls) = moto.deliver(Transition::Launching, Some(deadline)).await;
    assert_eq!(answer["outcome"], "applied", "{answer}");
    assert_eq!(tally.hooks, [("CONTINUE", 1)].into());
    assert!(notes(&answer).contains("not yet INSYNC after"), "{answer}");
    assert!(calls_of(&calls, GET_CHANGE) >= 1, "{calls:?}");
    assert!(statuses_at_completion(2).contains(&"PENDING".to_string()));
}

/// Auto Scaling's hooks and ECS's tasks of the emulator, as the function
/// lends them.
fn ports(
    account: &ec2_ddns::adapters::aws::AwsAccount,
) -> ec2_ddns::ports::HooksAndTasks<
    ec2_ddns::adapters::aws::autoscaling::AutoScaling,
    ec2_ddns::adapters::aws::ecs::Ecs,
> {
    ec2_ddns::ports::HooksAndTasks {
        hooks: account.hooks.clone(),
        tasks: account.tasks.clone(),
    }
}
