//! ECS tasks converged by the one engine, on the in-memory account
//! (`fixtures/worlds/fargate.json`: a service `web` of public Fargate
//! tasks sharing the group name web.corp.example., and `api-1` with its own
//! HOSTNAME): a running task's records, a starting one held, a stop that
//! deletes exactly its own, duplicates, a default name from
//! `DDNS_TASK_DEFAULT_NAME`, and a task that wants a name someone holds.

mod common;

use common::memory_env_with;
use ec2_ddns::event::{parse_task_event, task_state_change_json, TaskEvent};
use ec2_ddns::model::RegistryKey;
use ec2_ddns::ports::Registry;
use ec2_ddns::sim::memory::MemoryAccount;
use ec2_ddns::sim::world::TaskStatus;
use ec2_ddns::summary::Outcome;
use ec2_ddns::Config;

const WORLD: &str = "fixtures/worlds/fargate.json";
const PRIVATE: &str = "Z0FARGATEPRIVATE";
const PUBLIC: &str = "Z0FARGATEPUBLIC";

/// The task `name`'s state change, as ECS would send it now that the
/// world says `status`.
fn event(account: &MemoryAccount, name: &str, status: TaskStatus, n: usize) -> TaskEvent {
    account.edit(|w| w.find_task_mut(name).expect("task").status = status);
    let world = account.world();
    let task = world.task_facts(world.find_task(name).expect("task"));
    parse_task_event(task_state_change_json(
        &format!("evt-{n}"),
        &task,
        None,
        &world.region,
    ))
    .expect("a task event")
}

fn lines(account: &MemoryAccount, zone: &str) -> Vec<String> {
    let mut lines: Vec<String> = account
        .zone_records()
        .remove(zone)
        .unwrap_or_default()
        .iter()
        .filter(|r| !r.is_apex_housekeeping("corp.example."))
        .map(|r| r.to_string())
        .collect();
    lines.sort();
    lines
}

/// The settings, with `DDNS_TASK_DEFAULT_NAME` as given; the world's VPC
/// has no DHCP domain, so the home domain is `DDNS_DEFAULT_ZONE`'s.
fn config(template: Option<&str>) -> Config {
    Config::from_lookup(|k| match k {
        "DDNS_TASK_DEFAULT_NAME" => template.map(str::to_string),
        "DDNS_DEFAULT_ZONE" => Some("corp.example".into()),
        _ => None,
    })
    .expect("config")
}

#[tokio::test]
async fn tasks_of_a_service_share_their_group_name_and_leave_it_alone() {
    let (env, account) = memory_env_with(WORLD, config(None));
    let registrar = &env.registrar;
    for (n, name) in ["web-1", "web-2", "web-3"].into_iter().enumerate() {
        let s = registrar
            .handle_task(&account, &event(&account, name, TaskStatus::Running, n))
            .await
            .unwrap();
        assert_eq!(s.outcome, Outcome::Applied, "{name}: {s:?}");
        // Its group record set in each view, and no name of its own.
        assert_eq!(s.changes.len(), 2, "{name}: {s:?}");
    }
    let web = |ip: &str, id: &str| format!("web.corp.example. A 60 {ip} (multivalue {id})");
    let private_after = vec![
        "db.corp.example. A 300 10.20.2.9".to_string(),
        web("10.20.1.11", "0a1b2c3d4e5f60718293a4b5c6d7e8f1"),
        web("10.20.1.12", "0a1b2c3d4e5f60718293a4b5c6d7e8f2"),
        web("10.20.1.13", "0a1b2c3d4e5f60718293a4b5c6d7e8f3"),
    ];
    assert_eq!(lines(&account, PRIVATE), private_after);
    assert_eq!(
        lines(&account, PUBLIC),
        vec![
            web("34.200.1.11", "0a1b2c3d4e5f60718293a4b5c6d7e8f1"),
            web("34.200.1.12", "0a1b2c3d4e5f60718293a4b5c6d7e8f2"),
            web("34.200.1.13", "0a1b2c3d4e5f60718293a4b5c6d7e8f3"),
        ]
    );
    // Its item is a task's, under task#ARN.
    let arn = {
        let world = account.world();
        world.task_arn(world.find_task("web-2").unwrap())
    };
    let item = account
        .load(&RegistryKey::task(&arn))
        .await
        .unwrap()
        .expect("web-2's item");
    assert_eq!(item.records.len(), 2);

    // The same event again changes nothing.
    let again = registrar
        .handle_task(&account, &event(&account, "web-2", TaskStatus::Running, 9))
        .await
        .unwrap();
    assert_eq!(again.outcome, Outcome::NothingToDo, "{again:?}");

    // A task still starting waits.
    let starting = registrar
        .handle_task(
            &account,
            &event(&account, "web-4", TaskStatus::Provisioning, 10),
        )
        .await
        .unwrap();
    assert_eq!(starting.outcome, Outcome::NothingToDo, "{starting:?}");
    assert!(
        starting
            .notes
            .iter()
            .any(|n| n.contains("wait until it runs")),
        "{starting:?}"
    );

    // web-2 stops: exactly its own record sets go, and its item.
    let stopped = registrar
        .handle_task(&account, &event(&account, "web-2", TaskStatus::Stopped, 11))
        .await
        .unwrap();
    assert_eq!(stopped.outcome, Outcome::Applied, "{stopped:?}");
    assert_eq!(stopped.changes.len(), 2, "{stopped:?}");
    let mut without_2 = private_after.clone();
    without_2.retain(|l| !l.contains("10.20.1.12"));
    assert_eq!(lines(&account, PRIVATE), without_2);
    assert!(account
        .load(&RegistryKey::task(&arn))
        .await
        .unwrap()
        .is_none());
    // A late duplicate of its stop finds nothing to do.
    let late = registrar
        .handle_task(&account, &event(&account, "web-2", TaskStatus::Stopped, 12))
        .await
        .unwrap();
    assert_eq!(late.outcome, Outcome::NothingToDo, "{late:?}");
}

#[tokio::test]
async fn a_task_gets_its_own_name_from_its_tag_or_the_template() {
    let (env, account) = memory_env_with(WORLD, config(Some("{family}-{task-id-8}")));
    let s = env
        .registrar
        .handle_task(&account, &event(&account, "api-1", TaskStatus::Running, 1))
        .await
        .unwrap();
    assert_eq!(s.outcome, Outcome::Applied, "{s:?}");
    assert!(lines(&account, PRIVATE).contains(&"api.corp.example. A 60 10.20.2.21".to_string()));
    // No HOSTNAME: the template names it, in the public view as well.
    let s = env
        .registrar
        .handle_task(&account, &event(&account, "web-1", TaskStatus::Running, 2))
        .await
        .unwrap();
    assert_eq!(s.outcome, Outcome::Applied, "{s:?}");
    assert!(
        lines(&account, PRIVATE)
            .contains(&"web-0a1b2c3d.corp.example. A 60 10.20.1.11".to_string()),
        "{:?}",
        lines(&account, PRIVATE)
    );
    assert!(lines(&account, PUBLIC)
        .contains(&"web-0a1b2c3d.corp.example. A 60 34.200.1.11".to_string()));
}

#[tokio::test]
async fn a_task_never_takes_a_name_someone_holds() {
    let (env, account) = memory_env_with(WORLD, config(None));
    account.edit(|w| {
        let api = w.find_task_mut("api-1").unwrap();
        api.tags.insert("HOSTNAME".into(), "db.corp.example".into());
    });
    let s = env
        .registrar
        .handle_task(&account, &event(&account, "api-1", TaskStatus::Running, 1))
        .await
        .unwrap();
    assert_eq!(s.outcome, Outcome::Conflict, "{s:?}");
    assert_eq!(
        lines(&account, PRIVATE),
        vec!["db.corp.example. A 300 10.20.2.9".to_string()],
        "nothing written, the foreign A untouched"
    );
}

/// `ec2-ddns scenario fixtures/scenarios/fargate.json`: the service's
/// tasks join their group name in both views, the stopped one leaves it,
/// its replacement joins with the alias the service was tagged with, the
/// one whose stop was lost is removed by the reconcile, and db's A
/// (someone else's) is never touched.
#[test]
fn the_fargate_scenario_runs() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ec2-ddns"))
        .current_dir(common::repo(""))
        .args(["scenario", "fixtures/scenarios/fargate.json"])
        .output()
        .expect("the binary runs");
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let table = text
        .split("zone corp.example. (private")
        .nth(1)
        .and_then(|rest| rest.split("zone ").next())
        .unwrap_or_else(|| panic!("no private zone table: {text}"));
    for ip in ["10.20.1.11", "10.20.1.14"] {
        assert!(table.contains(ip), "{ip} joined: {table}");
    }
    for ip in ["10.20.1.12", "10.20.1.13"] {
        assert!(!table.contains(ip), "{ip} left: {table}");
    }
    assert!(
        table.contains("api.corp.example.  A         60  10.20.2.21"),
        "{table}"
    );
    assert!(
        table.contains("www.corp.example.  CNAME     60  ip-10-20-1-14.ec2.internal."),
        "the replacement carries the service's new tag: {table}"
    );
    assert!(
        table.contains("   db.corp.example.   A        300  10.20.2.9"),
        "untouched: {table}"
    );
    assert_eq!(
        text.matches("DELETE").count(),
        4,
        "only web-2's and web-3's two sets each: {text}"
    );
    assert!(
        text.contains("3 ECS tasks seen"),
        "web-1, web-4, api-1: {text}"
    );
}

/// `n` more tasks of the service web, running in the public subnet
/// (10.20.1.100 and up): a service scaling out.
fn scale_out(account: &MemoryAccount, n: usize) -> Vec<String> {
    account.edit(|w| {
        let template = w.find_task("web-1").expect("web-1").clone();
        for k in 0..n {
            let mut task = template.clone();
            task.id = format!("{:032x}", 0xbeef_0000 + k);
            task.name = Some(format!("web-x{k}"));
            task.private_ip = Some(std::net::Ipv4Addr::new(10, 20, 1, 100 + k as u8));
            task.public_ip = Some(std::net::Ipv4Addr::new(34, 200, 2, 1 + k as u8));
            w.tasks.push(task);
        }
    });
    (0..n).map(|k| format!("web-x{k}")).collect()
}

/// The EventBridge event of task `name` as it is now, as JSON.
fn event_json(account: &MemoryAccount, name: &str, n: usize) -> serde_json::Value {
    let world = account.world();
    let task = world.task_facts(world.find_task(name).expect("task"));
    task_state_change_json(&format!("evt-{name}-{n}"), &task, None, &world.region)
}

/// A service scaling from 0 to 100 tasks in buffered mode: the batch of
/// their 100 events is converged in one pass, one change call per zone,
/// one DescribeTasks and one DescribeNetworkInterfaces for them all.
#[tokio::test]
async fn a_batch_of_100_task_launches_makes_one_change_call_per_zone() {
    let (env, account) = memory_env_with(WORLD, config(None));
    let names = scale_out(&account, 100);
    let events: Vec<serde_json::Value> = names
        .iter()
        .enumerate()
        .map(|(n, name)| event_json(&account, name, n))
        .collect();
    account.calls.take();
    let mut tally = ec2_ddns_lambda::tally::Tally::default();
    let answer = ec2_ddns_lambda::buffered::handle_batch(
        &env.registrar,
        &account,
        &common::sqs_batch(&events),
        None,
        &mut tally,
    )
    .await;
    assert_eq!(
        answer,
        serde_json::json!({"batchItemFailures": []}),
        "nothing to redeliver"
    );
    let calls = account.calls.take();
    for (call, want) in [
        ("route53:ChangeResourceRecordSets", 2),
        ("ecs:DescribeTasks", 1),
        ("ec2:DescribeNetworkInterfaces", 1),
        ("dynamodb:BatchGetItem", 1),
    ] {
        assert_eq!(calls.get(call), Some(&want), "{call}: {calls:?}");
    }
    let web = |zone| {
        lines(&account, zone)
            .iter()
            .filter(|l| l.starts_with("web.corp.example. A 60"))
            .count()
    };
    assert_eq!((web(PRIVATE), web(PUBLIC)), (100, 100));
}

/// The Lambda function takes a task's event in direct mode, converging it
/// through the ECS port it is lent; without one, it says so and changes
/// nothing.
#[tokio::test]
async fn the_function_converges_a_task_event_through_its_ecs_port() {
    let (env, account) = memory_env_with(WORLD, config(None));
    let payload = event_json(&account, "api-1", 1);
    let mut tally = ec2_ddns_lambda::tally::Tally::default();
    let without = ec2_ddns_lambda::handle(&env.registrar, payload.clone())
        .await
        .expect("an answer");
    assert_eq!(without["outcome"], "nothing-to-do", "{without}");
    assert!(without.to_string().contains("no ECS client"), "{without}");
    assert!(lines(&account, PRIVATE).len() == 1, "nothing written");

    let answer =
        ec2_ddns_lambda::handle_hooked(&env.registrar, &account, payload, None, &mut tally)
            .await
            .expect("an answer");
    assert_eq!(answer["outcome"], "applied", "{answer}");
    let arn = {
        let world = account.world();
        world.task_arn(world.find_task("api-1").unwrap())
    };
    assert_eq!(answer["instance_id"], format!("task#{arn}"), "{answer}");
    assert!(lines(&account, PRIVATE).contains(&"api.corp.example. A 60 10.20.2.21".to_string()));
}

/// The reconcile covers tasks: it registers a task whose event was lost,
/// deletes what a task stopped (or forgotten by ECS) without an event
/// still owns, and then finds nothing to do. Without an ECS port, or with
/// `DDNS_TASKS=false`, it leaves the items of tasks alone.
#[tokio::test]
async fn the_reconcile_repairs_lost_task_events() {
    let (env, account) = memory_env_with(WORLD, config(None));
    let registrar = &env.registrar;
    for (n, name) in ["web-1", "web-2", "web-3"].into_iter().enumerate() {
        registrar
            .handle_task(&account, &event(&account, name, TaskStatus::Running, n))
            .await
            .unwrap();
    }
    // Lost: web-2's stop, web-3's stop (and ECS has forgotten web-3), and
    // api-1's start.
    account.edit(|w| {
        w.find_task_mut("web-2").unwrap().status = TaskStatus::Stopped;
        w.tasks.retain(|t| t.name.as_deref() != Some("web-3"));
    });

    // Not covered: the items of tasks are left alone.
    let alone = registrar.reconcile("r0").await.unwrap();
    assert_eq!(alone.totals.records_deleted, 0, "{:?}", alone.totals);
    let off = Config {
        tasks: false,
        ..config(None)
    };
    let off = account.registrar(off);
    let alone = off.reconcile_with(&account, "r0", None).await.unwrap();
    assert_eq!(alone.totals.records_deleted, 0, "{:?}", alone.totals);
    assert_eq!(alone.totals.tasks_seen, 0);
    let ignored = off
        .handle_task(&account, &event(&account, "api-1", TaskStatus::Running, 7))
        .await
        .unwrap();
    assert!(
        ignored.notes.iter().any(|n| n.contains("DDNS_TASKS=false")),
        "{ignored:?}"
    );

    let done = registrar
        .reconcile_with(&account, "r1", None)
        .await
        .unwrap();
    assert_eq!(
        done.totals.tasks_seen, 3,
        "web-1 and api-1 run, web-4 starts: {:?}",
        done.totals
    );
    assert_eq!(
        (done.totals.records_created, done.totals.records_deleted),
        (1, 4),
        "api-1's A; web-2's and web-3's sets in both views: {:?}",
        done.totals
    );
    let private = lines(&account, PRIVATE);
    assert!(private.contains(&"api.corp.example. A 60 10.20.2.21".to_string()));
    assert!(
        private.iter().any(|l| l.contains("10.20.1.11")),
        "{private:?}"
    );
    assert!(
        !private
            .iter()
            .any(|l| l.contains("10.20.1.12") || l.contains("10.20.1.13")),
        "{private:?}"
    );
    let again = registrar
        .reconcile_with(&account, "r2", None)
        .await
        .unwrap();
    assert_eq!(
        (again.totals.changed, again.totals.conflicts),
        (0, 0),
        "{:?}",
        again.totals
    );
}

/// A task and an instance that want one name: first come, first served,
/// whichever is which; the other is told it is held (a conflict), and gets
/// the name once its holder lets it go.
#[tokio::test]
async fn a_task_and_an_instance_wanting_one_name_first_come_first_served() {
    let (env, account) = memory_env_with(WORLD, config(None));
    let registrar = &env.registrar;
    account.edit(|w| {
        w.tasks.retain(|t| t.name.as_deref() == Some("api-1"));
        w.instances.push(
            serde_json::from_value(serde_json::json!({
                "id": "i-0api",
                "subnet": "subnet-0private",
                "private_ip": "10.20.2.50",
                "tags": {"HOSTNAME": "api.corp.example"},
                "launch_time": "2026-11-21T09:00:00Z"
            }))
            .expect("an instance"),
        )
    });
    let first = registrar
        .handle(&common::state_change(
            "i-0api",
            ec2_ddns::model::InstanceState::Running,
            "2026-11-21T10:00:00Z",
        ))
        .await
        .unwrap();
    assert_eq!(first.outcome, Outcome::Applied, "{first:?}");
    let second = registrar
        .handle_task(&account, &event(&account, "api-1", TaskStatus::Running, 1))
        .await
        .unwrap();
    assert_eq!(second.outcome, Outcome::Conflict, "{second:?}");
    let done = registrar
        .reconcile_with(&account, "r1", None)
        .await
        .unwrap();
    assert_eq!(
        done.totals.changed, 0,
        "still the instance's: {:?}",
        done.totals
    );
    assert!(done.totals.conflicts >= 1, "{:?}", done.totals);
    assert!(lines(&account, PRIVATE).contains(&"api.corp.example. A 60 10.20.2.50".to_string()));

    // The instance goes; the reconcile hands the name to the task.
    account.edit(|w| {
        w.instances.retain(|i| i.id != "i-0api");
    });
    let done = registrar
        .reconcile_with(&account, "r2", None)
        .await
        .unwrap();
    assert_eq!(done.totals.errors, 0, "{:?}", done.totals);
    let private = lines(&account, PRIVATE);
    assert!(
        private.contains(&"api.corp.example. A 60 10.20.2.21".to_string()),
        "{private:?}"
    );
    assert!(
        !private.iter().any(|l| l.contains("10.20.2.50")),
        "{private:?}"
    );
}

/// `status` answers for a task by ARN or by id: what it should have (the
/// dry run), then healthy once registered, and unknown when neither ECS
/// nor the registry knows it.
#[tokio::test]
async fn status_answers_for_a_task_by_arn_or_id() {
    use ec2_ddns::status::{status_with, Asked, SubjectKind, Verdict};
    let (env, account) = memory_env_with(WORLD, config(None));
    let arn = {
        let world = account.world();
        world.task_arn(world.find_task("web-1").unwrap())
    };
    let id = arn.rsplit('/').next().unwrap().to_string();
    let ask = |text: &str| Asked::parse(text).unwrap_or_else(|e| panic!("{e}"));
    let before = status_with(&env.registrar, &account, &ask(&id))
        .await
        .unwrap();
    assert_eq!(
        (before.kind, before.verdict, before.subject.as_str()),
        (SubjectKind::Task, Verdict::Drifted, arn.as_str())
    );
    assert_eq!(before.plan.changes.len(), 2, "{before:?}");
    assert_eq!(
        before.task.as_ref().map(|t| t.last_status.as_str()),
        Some("RUNNING")
    );
    env.registrar
        .handle_task(&account, &event(&account, "web-1", TaskStatus::Running, 1))
        .await
        .unwrap();
    for asked in [arn.as_str(), id.as_str()] {
        let now = status_with(&env.registrar, &account, &ask(asked))
            .await
            .unwrap();
        assert_eq!(now.verdict, Verdict::Healthy, "{asked}: {now:?}");
        assert_eq!(now.records.len(), 2, "{now:?}");
    }
    let unknown = status_with(
        &env.registrar,
        &account,
        &ask("ffffffffffffffffffffffffffffffff"),
    )
    .await
    .unwrap();
    assert_eq!(unknown.verdict, Verdict::UnknownSubject, "{unknown:?}");
    assert!(Asked::parse("arn:aws:ecs:us-east-1:123456789012:service/prod/web").is_err());
}

/// `ec2-ddns reconcile --dry-run` shows what the reconcile would do to
/// tasks, and writes nothing.
#[test]
fn the_reconcile_dry_run_shows_tasks() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ec2-ddns"))
        .current_dir(common::repo(""))
        .args([
            "reconcile",
            "--world",
            "fixtures/worlds/fargate.json",
            "--dry-run",
            "--default-zone",
            "corp.example",
        ])
        .output()
        .expect("the binary runs");
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.matches("event reconcile task#arn:aws:ecs:").count(),
        4,
        "{text}"
    );
    assert!(text.contains("5 ECS tasks seen"), "{text}");
    assert!(
        text.contains("7 records created, 0 deleted, 0 change batches"),
        "{text}"
    );
    assert!(
        text.contains("zone corp.example. (public, Z0FARGATEPUBLIC)\n   (no records)"),
        "nothing written: {text}"
    );
}
