//! The ECS adapter (`adapters::aws::ecs::Ecs`, the `Tasks` port) against
//! the strict moto launcher (its MOTO GAP 9: awsvpc tasks, their ENIs,
//! services, listing and stopping as ECS does them). Every test needs moto:
//! run them with `./scripts/test tasks`.

mod common;

use aws_sdk_ecs::types::{AssignPublicIp, AwsVpcConfiguration, NetworkConfiguration, Tag};
use ec2_ddns::adapters::aws::{ecs::Ecs, AwsAccount};
use ec2_ddns::error::{Error, Failure};
use ec2_ddns::model::TaskFacts;
use ec2_ddns::ports::Tasks;
use serde_json::Value;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

const REGION: &str = "us-east-1";

/// One request to one of the strict launcher's control endpoints; the JSON
/// of a 200 answer.
fn launcher(path: &str, method: &str, body: &str) -> Value {
    serde_json::from_str(&common::faults::launcher_control(method, path, body))
        .unwrap_or(Value::Null)
}

/// A fresh moto with one VPC (DNS hostnames off, as a new VPC's are), its
/// subnet 10.20.1.0/24, and the `web` task definition (awsvpc, Fargate).
struct Fixture {
    account: AwsAccount,
    vpc: String,
    subnet: String,
}

impl Fixture {
    async fn new() -> Fixture {
        let endpoint = common::moto_endpoint();
        launcher("/moto-api/reset", "POST", "");
        let account = common::moto_account(&endpoint, REGION).await;
        let ec2 = &account.tasks.ec2;
        let vpc = ec2
            .create_vpc()
            .cidr_block("10.20.0.0/16")
            .send()
            .await
            .expect("CreateVpc")
            .vpc
            .and_then(|v| v.vpc_id)
            .expect("a VPC id");
        let subnet = ec2
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block("10.20.1.0/24")
            .send()
            .await
            .expect("CreateSubnet")
            .subnet
            .and_then(|s| s.subnet_id)
            .expect("a subnet id");
        let ecs = &account.tasks.client;
        ecs.register_task_definition()
            .family("web")
            .network_mode(aws_sdk_ecs::types::NetworkMode::Awsvpc)
            .requires_compatibilities(aws_sdk_ecs::types::Compatibility::Fargate)
            .cpu("256")
            .memory("512")
            .container_definitions(
                aws_sdk_ecs::types::ContainerDefinition::builder()
                    .name("web")
                    .image("nginx")
                    .memory(128)
                    .build(),
            )
            .send()
            .await
            .expect("RegisterTaskDefinition");
        Fixture {
            account,
            vpc,
            subnet,
        }
    }

    fn ecs(&self) -> &aws_sdk_ecs::Client {
        &self.account.tasks.client
    }

    fn tasks(&self) -> &Ecs {
        &self.account.tasks
    }

    async fn cluster(&self, name: &str) -> String {
        self.ecs()
            .create_cluster()
            .cluster_name(name)
            .send()
            .await
            .expect("CreateCluster")
            .cluster
            .and_then(|c| c.cluster_arn)
            .expect("a cluster ARN")
    }

    fn network(&self, public: bool) -> NetworkConfiguration {
        NetworkConfiguration::builder()
            .awsvpc_configuration(
                AwsVpcConfiguration::builder()
                    .subnets(&self.subnet)
                    .assign_public_ip(if public {
                        AssignPublicIp::Enabled
                    } else {
                        AssignPublicIp::Disabled
                    })
                    .build()
                    .expect("an awsvpc configuration"),
            )
            .build()
    }

    /// RunTask of `count` Fargate tasks of `web` (ECS runs at most 10 a
    /// call); their ARNs.
    async fn run(
        &self,
        cluster: &str,
        count: i32,
        public: bool,
        tags: &[(&str, &str)],
    ) -> Vec<String> {
        let mut request = self
            .ecs()
            .run_task()
            .cluster(cluster)
            .task_definition("web")
            .launch_type(aws_sdk_ecs::types::LaunchType::Fargate)
            .count(count)
            .network_configuration(self.network(public));
        for (key, value) in tags {
            request = request.tags(Tag::builder().key(*key).value(*value).build());
        }
        request
            .send()
            .await
            .expect("RunTask")
            .tasks()
            .iter()
            .filter_map(|t| t.task_arn().map(str::to_string))
            .collect()
    }

    /// The calls counted since the last time, by operation.
    fn calls(&self) -> BTreeMap<String, usize> {
        self.account.calls.take()
    }
}

fn in_subnet(ip: Option<Ipv4Addr>) -> bool {
    ip.is_some_and(|ip| ip.octets()[..3] == [10, 20, 1] && ip.octets()[3] >= 4)
}

fn counted(calls: &BTreeMap<String, usize>, operation: &str) -> usize {
    calls.get(operation).copied().unwrap_or(0)
}

fn expect_task(found: Result<Option<TaskFacts>, Error>, what: &str) -> TaskFacts {
    found
        .unwrap_or_else(|e| panic!("{what}: {e}"))
        .unwrap_or_else(|| panic!("{what}: no such task"))
}

/// A service's public Fargate task and one run alone: every fact, the ENI's
/// addresses from the attachment and its VPC, public address and name from
/// DescribeNetworkInterfaces; one DescribeTasks and one
/// DescribeNetworkInterfaces each.
#[tokio::test]
#[ignore = "needs the emulator: run through scripts/test"]
async fn tasks_on_moto_a_public_fargate_task_has_every_fact() {
    let _moto = common::MOTO_LOCK.lock().await;
    let f = Fixture::new().await;
    let cluster = f.cluster("prod").await;
    f.ecs()
        .create_service()
        .cluster(&cluster)
        .service_name("api")
        .task_definition("web")
        .desired_count(1)
        .launch_type(aws_sdk_ecs::types::LaunchType::Fargate)
        .propagate_tags(aws_sdk_ecs::types::PropagateTags::Service)
        .tags(Tag::builder().key("GROUP").value("api").build())
        .network_configuration(f.network(true))
        .send()
        .await
        .expect("CreateService");
    let service_task = f
        .ecs()
        .list_tasks()
        .cluster(&cluster)
        .service_name("api")
        .send()
        .await
        .expect("ListTasks")
        .task_arns()
        .to_vec();
    assert_eq!(service_task.len(), 1, "the service runs its one task");
    let alone = f.run(&cluster, 1, true, &[("HOSTNAME", "worker")]).await;
    f.calls();

    let task = expect_task(
        f.tasks().task(&cluster, &service_task[0]).await,
        "the service's task",
    );
    assert_eq!(
        f.calls(),
        BTreeMap::from([
            ("ecs:DescribeTasks".to_string(), 1),
            ("ec2:DescribeNetworkInterfaces".to_string(), 1)
        ])
    );
    assert_eq!(task.task_arn, service_task[0]);
    assert_eq!(task.cluster_arn, cluster);
    assert_eq!(
        (task.last_status.as_str(), task.desired_status.as_str()),
        ("RUNNING", "RUNNING")
    );
    assert!(task.is_running());
    assert_eq!(task.group.as_deref(), Some("service:api"));
    assert_eq!(task.family.as_deref(), Some("web"));
    assert_eq!(task.launch_type.as_deref(), Some("FARGATE"));
    assert!(task.started_at.is_some(), "{task:?}");
    assert_eq!(
        task.tags,
        BTreeMap::from([("GROUP".to_string(), "api".to_string())]),
        "the service's tags, propagated"
    );
    let eni = task.eni.expect("an awsvpc task has its ENI");
    assert!(eni.eni_id.starts_with("eni-"), "{eni:?}");
    assert_eq!(eni.subnet_id.as_deref(), Some(f.subnet.as_str()));
    assert_eq!(eni.vpc_id.as_deref(), Some(f.vpc.as_str()));
    assert!(in_subnet(eni.private_ip), "{eni:?}");
    let private = eni.private_ip.unwrap().to_string().replace('.', "-");
    assert_eq!(
        eni.private_dns_name,
        Some(format!("ip-{private}.ec2.internal"))
    );
    let public = eni
        .public_ip
        .expect("assignPublicIp ENABLED: a public address");
    assert_eq!(
        eni.public_dns_name,
        Some(format!(
            "ec2-{}.compute-1.amazonaws.com",
            public.to_string().replace('.', "-")
        ))
    );

    let alone = expect_task(
        f.tasks().task(&cluster, &alone[0]).await,
        "the task run alone",
    );
    assert_eq!(alone.group.as_deref(), Some("family:web"));
    assert_eq!(
        alone.tags,
        BTreeMap::from([("HOSTNAME".to_string(), "worker".to_string())])
    );
    let eni = alone.eni.expect("its ENI");
    assert!(
        eni.public_ip.is_some() && in_subnet(eni.private_ip),
        "{eni:?}"
    );
    assert_ne!(
        eni.public_ip,
        Some(public),
        "each ENI its own public address"
    );
}

/// assignPublicIp DISABLED: the private address and name only.
#[tokio::test]
#[ignore = "needs the emulator: run through scripts/test"]
async fn tasks_on_moto_a_private_task_has_no_public_address() {
    let _moto = common::MOTO_LOCK.lock().await;
    let f = Fixture::new().await;
    let cluster = f.cluster("prod").await;
    let arn = f.run(&cluster, 1, false, &[]).await;
    let task = expect_task(f.tasks().task(&cluster, &arn[0]).await, "the task");
    assert!(task.tags.is_empty());
    let eni = task.eni.expect("its ENI");
    assert!(in_subnet(eni.private_ip), "{eni:?}");
    assert!(eni.private_dns_name.is_some());
    assert_eq!(eni.vpc_id.as_deref(), Some(f.vpc.as_str()));
    assert_eq!((eni.public_ip, eni.public_dns_name), (None, None));
}

/// A task in bridge mode on an EC2 container instance has no ENI of its
/// own (its address is the instance's), and no DescribeNetworkInterfaces
/// is made for it.
#[tokio::test]
#[ignore = "needs the emulator: run through scripts/test"]
async fn tasks_on_moto_a_bridge_task_on_ec2_has_no_eni() {
    let _moto = common::MOTO_LOCK.lock().await;
    let f = Fixture::new().await;
    let cluster = f.cluster("hosts").await;
    let instance = f
        .account
        .tasks
        .ec2
        .run_instances()
        .image_id("ami-12c6146b")
        .min_count(1)
        .max_count(1)
        .subnet_id(&f.subnet)
        .send()
        .await
        .expect("RunInstances")
        .instances()[0]
        .instance_id()
        .expect("an instance id")
        .to_string();
    f.ecs()
        .register_container_instance()
        .cluster(&cluster)
        .instance_identity_document(
            serde_json::json!({"instanceId": instance, "region": REGION, "accountId": "123456789012"})
                .to_string(),
        )
        .send()
        .await
        .expect("RegisterContainerInstance");
    f.ecs()
        .register_task_definition()
        .family("legacy")
        .network_mode(aws_sdk_ecs::types::NetworkMode::Bridge)
        .container_definitions(
            aws_sdk_ecs::types::ContainerDefinition::builder()
                .name("legacy")
                .image("nginx")
                .memory(128)
                .build(),
        )
        .send()
        .await
        .expect("RegisterTaskDefinition");
    let arn = f
        .ecs()
        .run_task()
        .cluster(&cluster)
        .task_definition("legacy")
        .launch_type(aws_sdk_ecs::types::LaunchType::Ec2)
        .send()
        .await
        .expect("RunTask on EC2")
        .tasks()[0]
        .task_arn()
        .expect("a task ARN")
        .to_string();
    f.calls();
    let task = expect_task(f.tasks().task(&cluster, &arn).await, "the bridge task");
    assert_eq!(task.eni, None);
    assert_eq!(task.launch_type.as_deref(), Some("EC2"));
    assert_eq!(task.family.as_deref(), Some("legacy"));
    assert!(task.is_running());
    assert_eq!(
        counted(&f.calls(), "ec2:DescribeNetworkInterfaces"),
        0,
        "no ENI, nothing to describe"
    );
}

/// Two clusters, 105 tasks in one (two pages of ListTasks, two
/// DescribeTasks of at most 100) and 3 running and 1 stopped in the other:
/// every running task, none stopped, with one ListClusters, three
/// ListTasks, three DescribeTasks and one DescribeNetworkInterfaces for all
/// 108 ENIs. Then one cluster's ListTasks fails for good: that cluster is
/// unreadable and the other's tasks are listed.
#[tokio::test]
#[ignore = "needs the emulator: run through scripts/test"]
async fn tasks_on_moto_all_tasks_reads_every_page_of_every_cluster() {
    let _moto = common::MOTO_LOCK.lock().await;
    let f = Fixture::new().await;
    let big = f.cluster("big").await;
    let small = f.cluster("small").await;
    let mut running = std::collections::BTreeSet::new();
    for _ in 0..10 {
        running.extend(f.run(&big, 10, false, &[]).await);
    }
    running.extend(f.run(&big, 5, false, &[]).await);
    running.extend(f.run(&small, 3, true, &[("GROUP", "web")]).await);
    let stopped = f.run(&small, 1, false, &[]).await.remove(0);
    f.ecs()
        .stop_task()
        .cluster(&small)
        .task(&stopped)
        .send()
        .await
        .expect("StopTask");
    assert_eq!(running.len(), 108);
    f.calls();

    let listing = f.tasks().all_tasks().await.expect("all_tasks");
    assert!(listing.unreadable.is_empty(), "{:?}", listing.unreadable);
    let listed: std::collections::BTreeSet<String> =
        listing.tasks.iter().map(|t| t.task_arn.clone()).collect();
    assert_eq!(
        listed, running,
        "every running task, once; not the stopped one"
    );
    assert_eq!(listing.tasks.len(), 108);
    assert!(listing.tasks.iter().all(|t| t.is_running()
        && t.eni.as_ref().is_some_and(
            |e| in_subnet(e.private_ip) && e.vpc_id.as_deref() == Some(f.vpc.as_str())
        )));
    let public: Vec<&TaskFacts> = listing
        .tasks
        .iter()
        .filter(|t| t.eni.as_ref().is_some_and(|e| e.public_ip.is_some()))
        .collect();
    assert_eq!(public.len(), 3, "the small cluster's public tasks");
    assert!(public
        .iter()
        .all(|t| t.cluster_arn == small && t.tags.get("GROUP").map(String::as_str) == Some("web")));
    assert_eq!(
        f.calls(),
        BTreeMap::from([
            ("ecs:ListClusters".to_string(), 1),
            ("ecs:ListTasks".to_string(), 3),
            ("ecs:DescribeTasks".to_string(), 3),
            ("ec2:DescribeNetworkInterfaces".to_string(), 1),
        ])
    );

    // The first cluster's ListTasks fails on every attempt the SDK makes
    // (InternalFailure, 500: retried); the second cluster is still read.
    launcher(
        "/_ec2ddns/faults",
        "POST",
        r#"{"ecs:ListTasks": ["before", "before", "before"]}"#,
    );
    let listing = f.tasks().all_tasks().await.expect("all_tasks");
    launcher("/_ec2ddns/faults", "DELETE", "");
    assert_eq!(listing.unreadable.len(), 1, "{:?}", listing.unreadable);
    assert!(
        listing.unreadable[0].starts_with(&big) || listing.unreadable[0].starts_with(&small),
        "{:?}",
        listing.unreadable
    );
    let unreadable = if listing.unreadable[0].starts_with(&big) {
        &big
    } else {
        &small
    };
    let expected = if unreadable == &big { 3 } else { 105 };
    assert_eq!(listing.tasks.len(), expected);
    assert!(listing.tasks.iter().all(|t| &t.cluster_arn != unreadable));
}

/// A stopped task reads STOPPED (its ENI gone: the attachment's private
/// address only), and, once ECS has forgotten it, as no task.
#[tokio::test]
#[ignore = "needs the emulator: run through scripts/test"]
async fn tasks_on_moto_a_stopped_task_reads_stopped_then_not_at_all() {
    let _moto = common::MOTO_LOCK.lock().await;
    let f = Fixture::new().await;
    let cluster = f.cluster("prod").await;
    let arn = f.run(&cluster, 1, true, &[]).await.remove(0);
    f.ecs()
        .stop_task()
        .cluster(&cluster)
        .task(&arn)
        .send()
        .await
        .expect("StopTask");
    let task = expect_task(f.tasks().task(&cluster, &arn).await, "the stopped task");
    assert_eq!(
        (task.last_status.as_str(), task.desired_status.as_str()),
        ("STOPPED", "STOPPED")
    );
    assert!(!task.is_running() && !task.is_starting());
    let eni = task.eni.expect("the attachment still names its ENI");
    assert!(in_subnet(eni.private_ip));
    assert_eq!(
        (eni.vpc_id, eni.public_ip),
        (None, None),
        "ECS deleted the ENI"
    );
    let forgotten = launcher("/_ec2ddns/ecs-tasks", "POST", r#"{"forget_stopped": true}"#);
    assert_eq!(forgotten["forgotten"], serde_json::json!([arn]));
    assert_eq!(f.tasks().task(&cluster, &arn).await.expect("task"), None);
}

/// A task ECS never ran (MISSING), and one of a cluster that does not
/// exist, are no task; neither is an error.
#[tokio::test]
#[ignore = "needs the emulator: run through scripts/test"]
async fn tasks_on_moto_an_unknown_task_is_none() {
    let _moto = common::MOTO_LOCK.lock().await;
    let f = Fixture::new().await;
    let cluster = f.cluster("prod").await;
    f.run(&cluster, 1, false, &[]).await;
    let unknown = "arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef0123456789abcdef";
    assert_eq!(f.tasks().task(&cluster, unknown).await.expect("task"), None);
    let gone = "arn:aws:ecs:us-east-1:123456789012:cluster/gone";
    assert_eq!(f.tasks().task(gone, unknown).await.expect("task"), None);
    assert_eq!(
        counted(&f.calls(), "ec2:DescribeNetworkInterfaces"),
        0,
        "no task, no ENI to describe"
    );
}

/// DescribeTasks throttled on every attempt: a retryable error, each
/// attempt counted as a call and as a throttle.
#[tokio::test]
#[ignore = "needs the emulator: run through scripts/test"]
async fn tasks_on_moto_a_throttled_describe_tasks_is_a_retryable_error() {
    let _moto = common::MOTO_LOCK.lock().await;
    let f = Fixture::new().await;
    let cluster = f.cluster("prod").await;
    let arn = f.run(&cluster, 1, false, &[]).await.remove(0);
    f.calls();
    f.account.calls.take_throttled();
    launcher(
        "/_ec2ddns/faults",
        "POST",
        r#"{"ecs:DescribeTasks": ["throttle", "throttle", "throttle", "throttle", "throttle"]}"#,
    );
    let answer = f.tasks().task(&cluster, &arn).await;
    launcher("/_ec2ddns/faults", "DELETE", "");
    let err = answer.expect_err("throttled on every attempt");
    assert!(err.is_retryable(), "{err}");
    assert!(err.is_throttle(), "{err}");
    match &err {
        Error::Aws {
            operation,
            code,
            kind,
            ..
        } => {
            assert_eq!(operation, "ecs:DescribeTasks");
            assert_eq!(code.as_deref(), Some("ThrottlingException"));
            assert_eq!(*kind, Failure::Throttled);
        }
        other => panic!("not an AWS error: {other:?}"),
    }
    let attempts = counted(&f.calls(), "ecs:DescribeTasks");
    assert!(attempts >= 1);
    assert_eq!(
        f.account.calls.take_throttled(),
        BTreeMap::from([("ecs:DescribeTasks".to_string(), attempts)])
    );
    // And once ECS answers again, so does the adapter.
    assert!(f
        .tasks()
        .task(&cluster, &arn)
        .await
        .expect("task")
        .is_some());
}

/// 205 tasks in one cluster: three pages of ListTasks, three DescribeTasks
/// (100, 100, 5) and two DescribeNetworkInterfaces (200 ENIs, then 5).
/// Then the first chunk of ENIs cannot be described (InternalFailure on
/// every attempt): its 200 tasks are unreadable, the other 5 are listed
/// with their VPC.
#[tokio::test]
#[ignore = "needs the emulator: run through scripts/test"]
async fn tasks_on_moto_all_tasks_describes_enis_200_a_call() {
    let _moto = common::MOTO_LOCK.lock().await;
    let f = Fixture::new().await;
    let cluster = f.cluster("wide").await;
    for _ in 0..20 {
        f.run(&cluster, 10, false, &[]).await;
    }
    f.run(&cluster, 5, false, &[]).await;
    f.calls();
    let listing = f.tasks().all_tasks().await.expect("all_tasks");
    assert!(listing.unreadable.is_empty(), "{:?}", listing.unreadable);
    assert_eq!(listing.tasks.len(), 205);
    assert!(listing
        .tasks
        .iter()
        .all(|t| t.eni.as_ref().and_then(|e| e.vpc_id.as_deref()) == Some(f.vpc.as_str())));
    assert_eq!(
        f.calls(),
        BTreeMap::from([
            ("ecs:ListClusters".to_string(), 1),
            ("ecs:ListTasks".to_string(), 3),
            ("ecs:DescribeTasks".to_string(), 3),
            ("ec2:DescribeNetworkInterfaces".to_string(), 2),
        ])
    );

    launcher(
        "/_ec2ddns/faults",
        "POST",
        r#"{"ec2:DescribeNetworkInterfaces": ["before", "before", "before"]}"#,
    );
    let listing = f.tasks().all_tasks().await.expect("all_tasks");
    launcher("/_ec2ddns/faults", "DELETE", "");
    assert_eq!(listing.unreadable.len(), 200, "the first chunk's tasks");
    assert!(
        listing.unreadable[0].contains("ec2:DescribeNetworkInterfaces"),
        "{:?}",
        listing.unreadable[0]
    );
    assert_eq!(listing.tasks.len(), 5);
    assert!(listing
        .tasks
        .iter()
        .all(|t| t.eni.as_ref().and_then(|e| e.vpc_id.as_deref()) == Some(f.vpc.as_str())));
}
