//! ECS tasks converged end to end on the strict moto launcher: the world
//! `fixtures/worlds/fargate.json` seeded into moto (its Fargate tasks run
//! with RunTask, their ENIs in the subnets, public addresses from the
//! launcher's MOTO GAP 9), each task's event built from what ECS says of
//! it, and the registrar converging it through the real ECS, EC2, Route 53
//! and DynamoDB clients. The same cases as tests/tasks.rs on memory:
//! register (private and public), a service's group, a stop, a lost stop
//! repaired by the reconcile, a task and an instance wanting one name, and
//! a batch of 100 task launches. Every test needs moto: run them with
//! `./scripts/test tasks_moto`.

mod common;

use aws_sdk_ecs::types::{AssignPublicIp, AwsVpcConfiguration, NetworkConfiguration, Tag};
use ec2_ddns::adapters::aws::ecs::Ecs;
use ec2_ddns::adapters::aws::{dynamodb::DynamoRegistry, ec2::Ec2, route53::Route53, AwsAccount};
use ec2_ddns::event::{parse_task_event, task_state_change_json, TaskEvent};
use ec2_ddns::model::{InstanceState, TaskFacts};
use ec2_ddns::ports::{Dns, Tasks};
use ec2_ddns::registrar::Registrar;
use ec2_ddns::summary::{Outcome, Summary};
use ec2_ddns::Config;
use serde_json::Value;

const WORLD: &str = "fixtures/worlds/fargate.json";

/// The world in moto, a registrar on it and its ECS port, the ids moto
/// gave.
struct Moto {
    registrar: Registrar<Ec2, Route53, DynamoRegistry>,
    tasks: Ecs,
    account_calls: ec2_ddns::calls::CallLog,
    ids: Value,
    region: String,
}

impl Moto {
    async fn new() -> Moto {
        let endpoint = common::moto_endpoint();
        let ids = common::seed_moto(&endpoint, &common::repo(WORLD));
        let region = ids["region"].as_str().unwrap_or("us-east-1").to_string();
        let account: AwsAccount = common::moto_account(&endpoint, &region).await;
        let tasks = account.tasks.clone();
        let account_calls = account.calls.clone();
        let registrar = account.registrar(config());
        Moto {
            registrar,
            tasks,
            account_calls,
            ids,
            region,
        }
    }

    fn task_arn(&self, name: &str) -> String {
        self.ids["task_names"][name]
            .as_str()
            .unwrap_or_else(|| panic!("no task {name} in {}", self.ids))
            .to_string()
    }

    fn cluster(&self) -> String {
        self.ids["clusters"]["prod"]
            .as_str()
            .expect("the prod cluster")
            .to_string()
    }

    fn zone(&self, world_id: &str) -> String {
        self.ids["zones"][world_id]
            .as_str()
            .expect("a zone")
            .to_string()
    }

    async fn facts(&self, arn: &str) -> TaskFacts {
        self.tasks
            .task(&self.cluster(), arn)
            .await
            .expect("DescribeTasks")
            .unwrap_or_else(|| panic!("ECS knows {arn}"))
    }

    /// The task's state-change event, as ECS would send it now.
    async fn event(&self, arn: &str, n: usize) -> TaskEvent {
        let facts = self.facts(arn).await;
        parse_task_event(task_state_change_json(
            &format!("evt-{n}"),
            &facts,
            None,
            &self.region,
        ))
        .expect("a task event")
    }

    async fn handle(&self, arn: &str, n: usize) -> Summary {
        let event = self.event(arn, n).await;
        self.registrar
            .handle_task(&self.tasks, &event)
            .await
            .unwrap_or_else(|e| panic!("{arn}: {e}"))
    }

    async fn stop(&self, arn: &str) {
        self.tasks
            .client
            .stop_task()
            .cluster(self.cluster())
            .task(arn)
            .send()
            .await
            .expect("StopTask");
    }

    /// The zone's records as `name TYPE ttl value…`, one line per record
    /// set, sorted, without the apex's SOA and NS.
    async fn lines(&self, world_zone: &str) -> Vec<String> {
        let zone = self.zone(world_zone);
        let mut lines: Vec<String> = self
            .registrar
            .dns
            .records_in(&ec2_ddns::model::ZoneId::new(&zone))
            .await
            .expect("ListResourceRecordSets")
            .iter()
            .filter(|r| !r.is_apex_housekeeping("corp.example."))
            .map(|r| r.to_string())
            .collect();
        lines.sort();
        lines
    }
}

fn config() -> Config {
    Config::from_lookup(|k| match k {
        "DDNS_DEFAULT_ZONE" => Some("corp.example".into()),
        _ => None,
    })
    .expect("config")
}

fn with(lines: &[String], needle: &str) -> usize {
    lines.iter().filter(|l| l.contains(needle)).count()
}

/// A service's public tasks join their group name in both views with the
/// addresses ECS and EC2 give them; one stops and its sets go; another
/// stops with its event lost, and the reconcile deletes its sets; api-1's
/// start was never sent, and the reconcile registers it; db's A, someone
/// else's, is never touched.
#[tokio::test]
#[ignore = "needs the emulator: run through scripts/test"]
async fn tasks_moto_a_service_registers_stops_and_is_reconciled() {
    let _moto = common::MOTO_LOCK.lock().await;
    let m = Moto::new().await;
    let web: Vec<String> = ["web-1", "web-2", "web-3"]
        .iter()
        .map(|n| m.task_arn(n))
        .collect();
    let mut public_ips = Vec::new();
    for (n, arn) in web.iter().enumerate() {
        let facts = m.facts(arn).await;
        let eni = facts.eni.clone().expect("an awsvpc ENI");
        let public = eni
            .public_ip
            .expect("assignPublicIp ENABLED: a public address");
        public_ips.push(public.to_string());
        let s = m.handle(arn, n).await;
        assert_eq!(s.outcome, Outcome::Applied, "{s:?}");
        assert_eq!(s.changes.len(), 2, "a set in each view: {s:?}");
    }
    let private = m.lines("Z0FARGATEPRIVATE").await;
    let public = m.lines("Z0FARGATEPUBLIC").await;
    assert_eq!(with(&private, "web.corp.example. A 60"), 3, "{private:?}");
    assert_eq!(with(&public, "web.corp.example. A 60"), 3, "{public:?}");
    for ip in &public_ips {
        assert_eq!(with(&public, ip), 1, "{ip}: {public:?}");
    }

    // web-2 stops: its two sets go.
    m.stop(&web[1]).await;
    let s = m.handle(&web[1], 10).await;
    assert_eq!(s.outcome, Outcome::Applied, "{s:?}");
    assert_eq!(s.changes.len(), 2, "{s:?}");
    assert_eq!(with(&m.lines("Z0FARGATEPUBLIC").await, &public_ips[1]), 0);

    // web-3 stops, its event lost; api-1's start was never sent.
    m.stop(&web[2]).await;
    let done = m
        .registrar
        .reconcile_with(&m.tasks, "r1", None)
        .await
        .expect("reconcile");
    assert_eq!(done.totals.errors, 0, "{:?}", done.totals);
    assert_eq!(
        (done.totals.records_created, done.totals.records_deleted),
        (1, 2),
        "api-1's A; web-3's sets: {:?}",
        done.totals
    );
    let private = m.lines("Z0FARGATEPRIVATE").await;
    assert_eq!(with(&private, "web.corp.example. A 60"), 1, "{private:?}");
    assert_eq!(with(&private, "api.corp.example. A 60"), 1, "{private:?}");
    assert!(
        private.contains(&"db.corp.example. A 300 10.20.2.9".to_string()),
        "{private:?}"
    );
    let again = m
        .registrar
        .reconcile_with(&m.tasks, "r2", None)
        .await
        .expect("reconcile");
    assert_eq!(again.totals.changed, 0, "{:?}", again.totals);
}

/// An instance and a task that want api.corp.example.: the instance came
/// first and keeps it, the task is told it is held (in its event and in
/// the reconcile), and nothing of the instance's is touched.
#[tokio::test]
#[ignore = "needs the emulator: run through scripts/test"]
async fn tasks_moto_a_task_and_an_instance_wanting_one_name() {
    let _moto = common::MOTO_LOCK.lock().await;
    let m = Moto::new().await;
    let subnet = m.ids["subnets"]["subnet-0private"]
        .as_str()
        .expect("the private subnet");
    let ec2 = &m.tasks.ec2;
    let instance = ec2
        .run_instances()
        .image_id("ami-12c6146b")
        .min_count(1)
        .max_count(1)
        .subnet_id(subnet)
        .tag_specifications(
            aws_sdk_ec2::types::TagSpecification::builder()
                .resource_type(aws_sdk_ec2::types::ResourceType::Instance)
                .tags(
                    aws_sdk_ec2::types::Tag::builder()
                        .key("HOSTNAME")
                        .value("api.corp.example")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("RunInstances")
        .instances()
        .first()
        .and_then(|i| i.instance_id().map(str::to_string))
        .expect("an instance id");
    let first = m
        .registrar
        .handle(&common::state_change(
            &instance,
            InstanceState::Running,
            "2026-11-21T10:00:00Z",
        ))
        .await
        .expect("the instance's event");
    assert_eq!(first.outcome, Outcome::Applied, "{first:?}");
    let held = m.lines("Z0FARGATEPRIVATE").await;

    let api = m.task_arn("api-1");
    let second = m.handle(&api, 1).await;
    assert_eq!(second.outcome, Outcome::Conflict, "{second:?}");
    assert_eq!(m.lines("Z0FARGATEPRIVATE").await, held, "nothing changed");
    let done = m
        .registrar
        .reconcile_with(&m.tasks, "r1", None)
        .await
        .expect("reconcile");
    assert!(done.totals.conflicts >= 1, "{:?}", done.totals);
    let api_lines: Vec<String> = m
        .lines("Z0FARGATEPRIVATE")
        .await
        .into_iter()
        .filter(|l| l.starts_with("api.corp.example."))
        .collect();
    let held_api: Vec<String> = held
        .into_iter()
        .filter(|l| l.starts_with("api.corp.example."))
        .collect();
    assert_eq!(api_lines, held_api, "still the instance's");
}

/// A service scaling out by 100 tasks in buffered mode: one SQS batch of
/// their 100 events makes one change call per zone (two views), one
/// DescribeTasks and one DescribeNetworkInterfaces.
#[tokio::test]
#[ignore = "needs the emulator: run through scripts/test"]
async fn tasks_moto_a_batch_of_100_launches_makes_one_change_call_per_zone() {
    let _moto = common::MOTO_LOCK.lock().await;
    let m = Moto::new().await;
    let subnet = m.ids["subnets"]["subnet-0public"]
        .as_str()
        .expect("the public subnet")
        .to_string();
    let definition = m
        .facts(&m.task_arn("web-1"))
        .await
        .family
        .expect("web's family");
    let mut arns = Vec::new();
    for _ in 0..10 {
        let ran = m
            .tasks
            .client
            .run_task()
            .cluster(m.cluster())
            .task_definition(&definition)
            .launch_type(aws_sdk_ecs::types::LaunchType::Fargate)
            .count(10)
            .group("service:web")
            .tags(
                Tag::builder()
                    .key("GROUP")
                    .value("web.corp.example")
                    .build(),
            )
            .network_configuration(
                NetworkConfiguration::builder()
                    .awsvpc_configuration(
                        AwsVpcConfiguration::builder()
                            .subnets(&subnet)
                            .assign_public_ip(AssignPublicIp::Enabled)
                            .build()
                            .expect("awsvpc configuration"),
                    )
                    .build(),
            )
            .send()
            .await
            .expect("RunTask");
        arns.extend(
            ran.tasks()
                .iter()
                .filter_map(|t| t.task_arn().map(str::to_string)),
        );
    }
    assert_eq!(arns.len(), 100);
    let mut bodies = Vec::new();
    for (n, arn) in arns.iter().enumerate() {
        let facts = m.facts(arn).await;
        bodies.push(task_state_change_json(
            &format!("evt-{n}"),
            &facts,
            None,
            &m.region,
        ));
    }
    let batch = common::sqs_batch(&bodies);
    m.account_calls.take();
    let answer = ec2_ddns_lambda::buffered::handle_batch(
        &m.registrar,
        &m.tasks,
        &batch,
        None,
        &mut ec2_ddns_lambda::tally::Tally::default(),
    )
    .await;
    assert_eq!(answer, serde_json::json!({"batchItemFailures": []}));
    let calls = m.account_calls.take();
    for (call, want) in [
        ("route53:ChangeResourceRecordSets", 2),
        ("ecs:DescribeTasks", 1),
        ("ec2:DescribeNetworkInterfaces", 1),
    ] {
        assert_eq!(calls.get(call), Some(&want), "{call}: {calls:?}");
    }
    println!(
        "100 task launches in one batch: {} AWS calls: {calls:?}",
        calls.values().sum::<usize>()
    );
    let count = |lines: Vec<String>| with(&lines, "web.corp.example. A 60");
    assert_eq!(count(m.lines("Z0FARGATEPRIVATE").await), 100);
    assert_eq!(count(m.lines("Z0FARGATEPUBLIC").await), 100);
}

/// `ec2-ddns snapshot` carries the clusters and the tasks ECS runs (their
/// addresses, public ones included, and tags) into the world it writes,
/// and a reconcile rehearsed on that world does what the reconcile then
/// does to moto, record for record.
#[tokio::test]
#[ignore = "needs the emulator: run through scripts/test"]
async fn tasks_moto_a_snapshot_carries_tasks_and_rehearses_the_reconcile() {
    let _moto = common::MOTO_LOCK.lock().await;
    let m = Moto::new().await;
    let s = m.handle(&m.task_arn("web-1"), 1).await;
    assert_eq!(s.outcome, Outcome::Applied, "{s:?}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ec2-ddns"))
        .args([
            "snapshot",
            "--endpoint-url",
            &common::moto_endpoint(),
            "--region",
            &m.region,
        ])
        .env_remove("AWS_ENDPOINT_URL")
        .output()
        .expect("run ec2-ddns snapshot");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file = std::env::temp_dir().join(format!(
        "ec2-ddns-tasks-snapshot-{}.json",
        std::process::id()
    ));
    std::fs::write(&file, &out.stdout).expect("write the snapshot");
    let world = ec2_ddns::sim::world::World::load(file.to_str().unwrap())
        .unwrap_or_else(|e| panic!("the snapshot loads: {e}"));
    let _ = std::fs::remove_file(&file);
    assert_eq!(
        world
            .clusters
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        ["prod"]
    );
    assert_eq!(
        world.tasks.len(),
        4,
        "web-1..3 and api-1: {:?}",
        world.tasks
    );
    for t in &world.tasks {
        let arn = world.task_arn(t);
        let live = m.facts(&arn).await;
        let eni = live.eni.expect("an ENI");
        assert_eq!(
            (t.private_ip, t.public_ip, &t.tags),
            (eni.private_ip, eni.public_ip, &live.tags),
            "{arn}"
        );
    }

    let copy = ec2_ddns::sim::memory::MemoryAccount::new(world);
    let rehearsed = copy
        .registrar(config())
        .reconcile_with(&copy, "r", None)
        .await
        .expect("the rehearsal");
    let real = m
        .registrar
        .reconcile_with(&m.tasks, "r", None)
        .await
        .expect("the reconcile");
    let totals = |t: &ec2_ddns::registrar::Totals| {
        (
            t.tasks_seen,
            t.records_created,
            t.records_deleted,
            t.conflicts,
        )
    };
    assert_eq!(totals(&rehearsed.totals), totals(&real.totals));
    assert_eq!(real.totals.records_created, 5, "{:?}", real.totals);
    for world_zone in ["Z0FARGATEPRIVATE", "Z0FARGATEPUBLIC"] {
        let mut rehearsed: Vec<String> = copy
            .zone_records()
            .remove(m.zone(world_zone).as_str())
            .unwrap_or_default()
            .iter()
            .filter(|r| !r.is_apex_housekeeping("corp.example."))
            .map(|r| r.to_string())
            .collect();
        rehearsed.sort();
        assert_eq!(rehearsed, m.lines(world_zone).await, "{world_zone}");
    }
}
