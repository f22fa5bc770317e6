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
/// its replacement joins, and db's A (someone else's) is never touched.
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
    for ip in ["10.20.1.11", "10.20.1.13", "10.20.1.14"] {
        assert!(table.contains(ip), "{ip} joined: {table}");
    }
    assert!(!table.contains("10.20.1.12"), "web-2 left: {table}");
    assert!(
        table.contains("api.corp.example.  A         60  10.20.2.21"),
        "{table}"
    );
    assert!(
        table.contains("   db.corp.example.   A        300  10.20.2.9"),
        "untouched: {table}"
    );
    assert_eq!(
        text.matches("DELETE").count(),
        2,
        "only web-2's two sets: {text}"
    );
}
