//! ECS in memory: the world's clusters and tasks, with the calls and pages
//! the real client makes (`ecs:DescribeTasks` with the task's tags, then
//! `ec2:DescribeNetworkInterfaces` for the public address that neither the
//! task nor its event carries).
//!
//! A STOPPED task is still described, as ECS describes it for about an
//! hour after it stops; a task the world no longer holds is `None`, as one
//! ECS has forgotten. A stopped task's network interface is deleted: the
//! real client still asks EC2 for it (by filter, so nothing fails) and
//! learns nothing, so its VPC and public address are not known
//! (`World::task_facts`).

use super::MemoryAccount;
use ec2_ddns_aws::ecs::{ENIS_PER_DESCRIBE, TASKS_PER_DESCRIBE};
use ec2_ddns_core::error::Result;
use ec2_ddns_core::model::{Place, TaskFacts, TaskListing};
use ec2_ddns_core::ports::Tasks;

/// The largest page of ListClusters and ListTasks (the real client asks
/// for it).
pub const PAGE: usize = 100;

impl Tasks for MemoryAccount {
    /// One DescribeTasks; one DescribeNetworkInterfaces when the task has a
    /// network interface attachment (a stopped task's too: its ENI is gone,
    /// and EC2's answer is empty).
    async fn task(&self, cluster_arn: &str, task_arn: &str) -> Result<Option<TaskFacts>> {
        self.read_call("ecs:DescribeTasks", None)?;
        let found = {
            let state = self.lock();
            let world = state.seen_from(self.place.as_ref());
            world
                .tasks
                .iter()
                .find(|t| {
                    world.task_arn(t) == task_arn && world.cluster_arn(&t.cluster) == cluster_arn
                })
                .map(|t| world.task_facts(t))
        };
        let Some(facts) = found else {
            return Ok(None);
        };
        if facts.eni.is_some() {
            self.read_call("ec2:DescribeNetworkInterfaces", None)?;
        }
        Ok(Some(facts))
    }

    /// One DescribeTasks per 100 of them; one DescribeNetworkInterfaces
    /// per 200 of their network interfaces (none when they have none).
    async fn tasks_in(&self, cluster_arn: &str, task_arns: &[String]) -> Result<Vec<TaskFacts>> {
        let mut found = Vec::new();
        for chunk in task_arns.chunks(TASKS_PER_DESCRIBE) {
            self.read_call("ecs:DescribeTasks", None)?;
            let state = self.lock();
            let world = state.seen_from(self.place.as_ref());
            found.extend(
                world
                    .tasks
                    .iter()
                    .filter(|t| {
                        world.cluster_arn(&t.cluster) == cluster_arn
                            && chunk.iter().any(|arn| *arn == world.task_arn(t))
                    })
                    .map(|t| world.task_facts(t)),
            );
        }
        let enis = found.iter().filter(|t| t.eni.is_some()).count();
        for _ in 0..enis.div_ceil(ENIS_PER_DESCRIBE) {
            self.read_call("ec2:DescribeNetworkInterfaces", None)?;
        }
        Ok(found)
    }

    /// ListClusters (a page per 100 clusters), then for each cluster
    /// ListTasks of the tasks ECS means to run (desired status RUNNING, a
    /// page per 100) and one DescribeTasks per 100 of them; then one
    /// DescribeNetworkInterfaces per 200 network interfaces of all of them
    /// (none when they have none).
    async fn all_tasks(&self) -> Result<TaskListing> {
        let clusters: Vec<String> = self
            .lock()
            .seen_from(self.place.as_ref())
            .clusters
            .iter()
            .map(|c| c.name.clone())
            .collect();
        self.pages("ecs:ListClusters", clusters.len().div_ceil(PAGE))?;
        let mut listing = TaskListing::default();
        for cluster in clusters {
            let listed: Vec<TaskFacts> = {
                let state = self.lock();
                let world = state.seen_from(self.place.as_ref());
                world
                    .tasks
                    .iter()
                    .filter(|t| t.cluster == cluster && t.status.desired() == "RUNNING")
                    .map(|t| world.task_facts(t))
                    .collect()
            };
            self.pages("ecs:ListTasks", listed.len().div_ceil(PAGE))?;
            for chunk in listed.chunks(TASKS_PER_DESCRIBE) {
                self.read_call("ecs:DescribeTasks", None)?;
                listing.tasks.extend_from_slice(chunk);
            }
        }
        let enis = listing.tasks.iter().filter(|t| t.eni.is_some()).count();
        for _ in 0..enis.div_ceil(ENIS_PER_DESCRIBE) {
            self.read_call("ec2:DescribeNetworkInterfaces", None)?;
        }
        Ok(listing)
    }

    /// The member role assumed once per account (`members.rs`).
    async fn at(&self, place: &Place) -> Result<MemoryAccount> {
        self.reading(place)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::Fault;
    use crate::world::World;

    /// One cluster of `running` running Fargate tasks, one stopped task and
    /// one in bridge mode on EC2.
    fn world(running: usize) -> World {
        let mut tasks: Vec<serde_json::Value> = (0..running)
            .map(|k| {
                serde_json::json!({"id": format!("{k:032x}"), "cluster": "prod", "family": "web",
                    "service": "web", "subnet": "s-1",
                    "private_ip": format!("10.0.{}.{}", k / 250, k % 250 + 4),
                    "public_ip": "34.1.2.3", "tags": {"GROUP": "web.corp.example"}})
            })
            .collect();
        tasks.push(
            serde_json::json!({"id": "stopped", "name": "old", "cluster": "prod",
            "family": "web", "subnet": "s-1", "private_ip": "10.0.200.1", "public_ip": "34.1.2.4",
            "status": "STOPPED"}),
        );
        tasks.push(
            serde_json::json!({"id": "bridged", "cluster": "batch", "family": "job",
            "launch_type": "EC2", "network_mode": "bridge"}),
        );
        let w = serde_json::json!({
            "vpcs": [{"id": "vpc-1", "cidr": "10.0.0.0/16"}],
            "subnets": [{"id": "s-1", "vpc": "vpc-1", "cidr": "10.0.0.0/16", "public": true}],
            "clusters": [{"name": "prod"}, {"name": "batch"}],
            "tasks": tasks,
        });
        World::parse("w.json", &w.to_string()).unwrap()
    }

    #[tokio::test]
    async fn a_task_is_described_with_its_public_address_while_its_interface_lives() {
        let account = MemoryAccount::new(world(1));
        let w = account.world();
        let running = &w.tasks[0];
        let facts = account
            .task(&w.cluster_arn("prod"), &w.task_arn(running))
            .await
            .unwrap()
            .expect("described");
        assert!(facts.is_running());
        assert_eq!(facts.group.as_deref(), Some("service:web"));
        let eni = facts.eni.expect("awsvpc");
        assert_eq!(eni.public_ip, Some("34.1.2.3".parse().unwrap()));
        assert_eq!(eni.vpc_id.as_deref(), Some("vpc-1"));
        assert_eq!(
            account.journal(),
            ["ecs:DescribeTasks", "ec2:DescribeNetworkInterfaces"]
        );

        let stopped = w.find_task("old").unwrap();
        let facts = account
            .task(&w.cluster_arn("prod"), &w.task_arn(stopped))
            .await
            .unwrap()
            .expect("ECS still describes a stopped task");
        assert_eq!(facts.last_status, "STOPPED");
        assert_eq!(facts.desired_status, "STOPPED");
        let eni = facts.eni.expect("the attachment is still listed");
        assert_eq!(eni.private_ip, Some("10.0.200.1".parse().unwrap()));
        assert_eq!(
            (eni.public_ip, eni.vpc_id),
            (None, None),
            "its interface is deleted"
        );
        assert_eq!(
            account.journal()[2..],
            ["ecs:DescribeTasks", "ec2:DescribeNetworkInterfaces"],
            "asked, as the real client asks by filter"
        );

        let arn = w.task_arn(stopped);
        account.edit(|w| w.tasks.retain(|t| t.id != "stopped"));
        assert_eq!(
            account.task(&w.cluster_arn("prod"), &arn).await.unwrap(),
            None,
            "forgotten"
        );
        assert_eq!(
            account
                .task(&w.cluster_arn("batch"), &w.task_arn(running))
                .await
                .unwrap(),
            None,
            "not in that cluster"
        );
    }

    #[tokio::test]
    async fn all_tasks_lists_what_runs_with_the_real_clients_pages() {
        let account = MemoryAccount::new(world(250));
        let listing = account.all_tasks().await.unwrap();
        assert_eq!(
            listing.tasks.len(),
            251,
            "250 in prod, the bridged one in batch"
        );
        assert!(listing.tasks.iter().all(|t| t.desired_status == "RUNNING"));
        assert!(listing.unreadable.is_empty());
        let calls = account.calls.take();
        assert_eq!(calls["ecs:ListClusters"], 1);
        assert_eq!(calls["ecs:ListTasks"], 3 + 1, "prod: 3 pages; batch: 1");
        assert_eq!(calls["ecs:DescribeTasks"], 3 + 1);
        assert_eq!(
            calls["ec2:DescribeNetworkInterfaces"], 2,
            "250 interfaces, 200 a call; the bridged task has none"
        );
    }

    #[tokio::test]
    async fn ecs_calls_meet_injected_faults() {
        let account = MemoryAccount::new(world(1));
        let w = account.world();
        account.inject("ecs:DescribeTasks", Fault::Throttling);
        let err = account
            .task(&w.cluster_arn("prod"), &w.task_arn(&w.tasks[0]))
            .await
            .unwrap_err();
        assert!(
            err.is_retryable() && err.to_string().contains("Throttling"),
            "{err}"
        );
        account.inject(
            "ec2:DescribeNetworkInterfaces",
            Fault::InternalError {
                after_commit: false,
            },
        );
        assert!(account.all_tasks().await.is_err());
        account.inject_at(
            0,
            Fault::Crash {
                after_commit: false,
            },
        );
        assert!(account.all_tasks().await.is_err());
        assert!(account.task("c", "t").await.is_err(), "dead until revived");
        account.revive();
        assert_eq!(account.all_tasks().await.unwrap().tasks.len(), 2);
    }

    /// A gate sees a task's read as DescribeTasks and the listing as
    /// ListTasks: a fault planned for one invocation strikes there, and the
    /// account behind it is left alone.
    #[tokio::test]
    async fn gated_tasks_meet_the_invocations_faults() {
        use crate::fault_plan::FaultPlan;
        let account = MemoryAccount::new(world(1));
        let w = account.world();
        let (cluster, task) = (w.cluster_arn("prod"), w.task_arn(&w.tasks[0]));
        let ports = FaultPlan::on("ecs:DescribeTasks", Fault::Throttling).ports(account.clone());
        assert!(
            ports.task(&cluster, &task).await.is_err(),
            "the first read meets it"
        );
        assert!(ports.task(&cluster, &task).await.unwrap().is_some());
        let ports = FaultPlan::on(
            "ecs:ListTasks",
            Fault::Crash {
                after_commit: false,
            },
        )
        .ports(account.clone());
        assert!(ports.all_tasks().await.is_err());
        assert_eq!(
            account.all_tasks().await.unwrap().tasks.len(),
            2,
            "the account itself still answers"
        );
    }
}
