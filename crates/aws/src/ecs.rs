//! ECS through the SDK: ListClusters, ListTasks, DescribeTasks (with tags),
//! and EC2's DescribeNetworkInterfaces for what a task's description does
//! not carry: its ENI's VPC, public address and public DNS name.

use super::aws_error;
use aws_sdk_ecs::types::{Task, TaskField};
use ec2_ddns_core::error::{Error, Failure, Result};
use ec2_ddns_core::model::{TaskEni, TaskFacts, TaskListing};
use ec2_ddns_core::ports::Tasks;
use std::collections::BTreeMap;

/// Tasks per DescribeTasks: ECS takes at most 100.
pub const TASKS_PER_DESCRIBE: usize = 100;

/// ENI ids per DescribeNetworkInterfaces: EC2 takes at most 200 values in
/// one filter. A filter (not `NetworkInterfaceIds`) so an ENI EC2 no longer
/// knows (a stopped task's, deleted by ECS) leaves it out instead of failing
/// the whole call.
pub const ENIS_PER_DESCRIBE: usize = 200;

/// The attachment type of a task's own network interface (`awsvpc` mode).
const ENI_ATTACHMENT: &str = "ElasticNetworkInterface";

/// ECS's tasks, and EC2 for their network interfaces.
#[derive(Debug, Clone)]
pub struct Ecs {
    pub client: aws_sdk_ecs::Client,
    /// DescribeNetworkInterfaces only.
    pub ec2: aws_sdk_ec2::Client,
    /// The organization mode's member accounts (`members.rs`).
    pub members: Option<std::sync::Arc<crate::members::Members>>,
}

/// What DescribeNetworkInterfaces adds to a task's ENI.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct EniExtras {
    vpc_id: Option<String>,
    public_ip: Option<std::net::Ipv4Addr>,
    public_dns_name: Option<String>,
    private_dns_name: Option<String>,
    /// The ENI's IPv6 address (the one marked primary, else its first),
    /// for a task whose attachment names none.
    ipv6: Option<std::net::Ipv6Addr>,
}

fn nonempty(s: Option<&str>) -> Option<String> {
    s.filter(|s| !s.is_empty()).map(str::to_string)
}

/// An SDK task in the registrar's form, without what only EC2 knows (the
/// ENI's VPC and public address: [`with_extras`]). `Err` for a task
/// without an ARN, which ECS never sends.
pub fn task_facts(t: &Task) -> Result<TaskFacts> {
    let task_arn = nonempty(t.task_arn()).ok_or_else(|| Error::Aws {
        operation: "ecs:DescribeTasks".into(),
        code: None,
        message: "ECS described a task without an ARN".into(),
        kind: Failure::Final,
    })?;
    let eni = t
        .attachments()
        .iter()
        .find(|a| a.r#type() == Some(ENI_ATTACHMENT))
        .and_then(|a| {
            let detail = |name: &str| {
                a.details()
                    .iter()
                    .find(|d| d.name() == Some(name))
                    .and_then(|d| nonempty(d.value()))
            };
            Some(TaskEni {
                eni_id: detail("networkInterfaceId")?,
                subnet_id: detail("subnetId"),
                vpc_id: None,
                private_ip: detail("privateIPv4Address").and_then(|ip| ip.parse().ok()),
                ipv6: detail("ipv6Address").and_then(|ip| ip.parse().ok()),
                public_ip: None,
                private_dns_name: detail("privateDnsName"),
                public_dns_name: None,
            })
        });
    Ok(TaskFacts {
        cluster_arn: nonempty(t.cluster_arn()).unwrap_or_default(),
        last_status: t.last_status().unwrap_or_default().to_string(),
        desired_status: t.desired_status().unwrap_or_default().to_string(),
        group: nonempty(t.group()),
        family: t.task_definition_arn().and_then(family_of),
        launch_type: t.launch_type().map(|l| l.as_str().to_string()),
        eni,
        tags: t
            .tags()
            .iter()
            .filter_map(|tag| {
                Some((
                    tag.key()?.to_string(),
                    tag.value().unwrap_or_default().to_string(),
                ))
            })
            .collect(),
        started_at: t
            .started_at()
            .and_then(|d| chrono::DateTime::from_timestamp(d.secs(), d.subsec_nanos())),
        task_arn,
    })
}

/// `web` of `arn:aws:ecs:us-east-1:123456789012:task-definition/web:7`.
fn family_of(task_definition_arn: &str) -> Option<String> {
    let (_, resource) = task_definition_arn.rsplit_once(":task-definition/")?;
    let family = resource
        .rsplit_once(':')
        .map_or(resource, |(family, _revision)| family);
    nonempty(Some(family))
}

/// The task with its ENI's VPC, public address and names from EC2, when
/// EC2 described that ENI (a stopped task's is gone: its addresses stay
/// as the task's attachment tells them).
fn with_extras(mut task: TaskFacts, extras: &BTreeMap<String, EniExtras>) -> TaskFacts {
    if let Some(eni) = task.eni.as_mut() {
        if let Some(more) = extras.get(&eni.eni_id) {
            eni.vpc_id = more.vpc_id.clone();
            eni.public_ip = more.public_ip;
            eni.public_dns_name = more.public_dns_name.clone();
            if eni.private_dns_name.is_none() {
                eni.private_dns_name = more.private_dns_name.clone();
            }
            if eni.ipv6.is_none() {
                eni.ipv6 = more.ipv6;
            }
        }
    }
    task
}

impl Ecs {
    pub fn new(client: aws_sdk_ecs::Client, ec2: aws_sdk_ec2::Client) -> Ecs {
        Ecs {
            client,
            ec2,
            members: None,
        }
    }

    /// DescribeTasks of up to 100 tasks of one cluster, with their tags:
    /// the tasks ECS described, and its failures as (ARN, reason).
    async fn describe(
        &self,
        cluster_arn: &str,
        task_arns: &[String],
    ) -> std::result::Result<(Vec<Task>, Vec<(String, String)>), Error> {
        let out = self
            .client
            .describe_tasks()
            .cluster(cluster_arn)
            .set_tasks(Some(task_arns.to_vec()))
            .include(TaskField::Tags)
            .send()
            .await
            .map_err(|e| aws_error("ecs:DescribeTasks", e))?;
        let failures = out
            .failures()
            .iter()
            .map(|f| {
                (
                    f.arn().unwrap_or_default().to_string(),
                    f.reason().unwrap_or("no reason given").to_string(),
                )
            })
            .collect();
        Ok((out.tasks().to_vec(), failures))
    }

    /// DescribeNetworkInterfaces of these ENIs, 200 a call (one call a
    /// chunk; every page of it, should EC2 page a filtered answer).
    async fn eni_extras(&self, eni_ids: &[String]) -> Result<BTreeMap<String, EniExtras>> {
        let mut extras = BTreeMap::new();
        for chunk in eni_ids.chunks(ENIS_PER_DESCRIBE) {
            let filter = aws_sdk_ec2::types::Filter::builder()
                .name("network-interface-id")
                .set_values(Some(chunk.to_vec()))
                .build();
            let mut pages = self
                .ec2
                .describe_network_interfaces()
                .filters(filter)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| aws_error("ec2:DescribeNetworkInterfaces", e))?;
                for eni in page.network_interfaces() {
                    let Some(id) = nonempty(eni.network_interface_id()) else {
                        continue;
                    };
                    let association = eni.association();
                    extras.insert(
                        id,
                        EniExtras {
                            vpc_id: nonempty(eni.vpc_id()),
                            public_ip: association
                                .and_then(|a| a.public_ip())
                                .and_then(|ip| ip.parse().ok()),
                            public_dns_name: nonempty(
                                association.and_then(|a| a.public_dns_name()),
                            ),
                            private_dns_name: nonempty(eni.private_dns_name()),
                            ipv6: {
                                let addresses = eni.ipv6_addresses();
                                addresses
                                    .iter()
                                    .find(|a| a.is_primary_ipv6() == Some(true))
                                    .or_else(|| addresses.first())
                                    .and_then(|a| a.ipv6_address())
                                    .and_then(|ip| ip.parse().ok())
                            },
                        },
                    );
                }
            }
        }
        Ok(extras)
    }

    /// Every page of ListTasks of one cluster, desired status RUNNING.
    async fn running_task_arns(&self, cluster_arn: &str) -> Result<Vec<String>> {
        let mut arns = Vec::new();
        let mut pages = self
            .client
            .list_tasks()
            .cluster(cluster_arn)
            .desired_status(aws_sdk_ecs::types::DesiredStatus::Running)
            .max_results(100)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| aws_error("ecs:ListTasks", e))?;
            arns.extend(page.task_arns().iter().cloned());
        }
        Ok(arns)
    }

    /// One cluster's running tasks, described 100 at a time, into `found`;
    /// a task ECS listed but failed to describe for a reason other than
    /// MISSING (it stopped and went between the two calls) is unreadable.
    async fn cluster_tasks(
        &self,
        cluster_arn: &str,
        found: &mut Vec<TaskFacts>,
        unreadable: &mut Vec<String>,
    ) -> Result<()> {
        let arns = self.running_task_arns(cluster_arn).await?;
        let mut described = Vec::new();
        for chunk in arns.chunks(TASKS_PER_DESCRIBE) {
            let (tasks, failures) = self.describe(cluster_arn, chunk).await?;
            described.extend(tasks);
            for (arn, reason) in failures {
                if reason != "MISSING" {
                    unreadable.push(format!("{arn}: ECS could not describe it: {reason}"));
                }
            }
        }
        for task in &described {
            match task_facts(task) {
                Ok(facts) => found.push(facts),
                Err(e) => unreadable.push(format!("a task of {cluster_arn}: {e}")),
            }
        }
        Ok(())
    }
}

impl Tasks for Ecs {
    /// The member role assumed in `place`'s account, as [`crate::ec2::Ec2`].
    async fn at(&self, place: &ec2_ddns_core::model::Place) -> Result<Ecs> {
        let Some(members) = &self.members else {
            return Err(ec2_ddns_core::ports::one_account_only(place));
        };
        let clients = members.clients(place).await?;
        Ok(Ecs {
            client: clients.ecs,
            ec2: clients.ec2,
            members: Some(members.clone()),
        })
    }

    /// `None` when ECS answers it MISSING (or describes no such task), or
    /// its cluster no longer exists (ECS deletes a cluster only without
    /// tasks). Any other failure ECS names for it is an error.
    async fn task(&self, cluster_arn: &str, task_arn: &str) -> Result<Option<TaskFacts>> {
        let (tasks, failures) = match self.describe(cluster_arn, &[task_arn.to_string()]).await {
            Ok(answer) => answer,
            Err(Error::Aws {
                code: Some(code), ..
            }) if code == "ClusterNotFoundException" => return Ok(None),
            Err(e) => return Err(e),
        };
        let Some(task) = tasks.iter().find(|t| {
            t.task_arn() == Some(task_arn)
                || t.task_arn().and_then(|a| a.rsplit('/').next()) == Some(task_arn)
        }) else {
            return match failures.into_iter().find(|(_, reason)| reason != "MISSING") {
                Some((arn, reason)) => Err(Error::Aws {
                    operation: "ecs:DescribeTasks".into(),
                    code: Some(reason.clone()),
                    message: format!("ECS could not describe {arn}: {reason}"),
                    kind: Failure::Final,
                }),
                None => Ok(None),
            };
        };
        let facts = task_facts(task)?;
        let eni_ids: Vec<String> = facts.eni.iter().map(|e| e.eni_id.clone()).collect();
        let extras = self.eni_extras(&eni_ids).await?;
        Ok(Some(with_extras(facts, &extras)))
    }

    /// DescribeTasks 100 at a time, then DescribeNetworkInterfaces of their
    /// ENIs 200 at a time. A task ECS answers MISSING is left out, as are
    /// all when the cluster is gone; any other failure ECS names for one
    /// of them, or a task it describes that cannot be read, is an error
    /// (its callers then leave those tasks' records alone).
    async fn tasks_in(&self, cluster_arn: &str, task_arns: &[String]) -> Result<Vec<TaskFacts>> {
        let mut found = Vec::new();
        for chunk in task_arns.chunks(TASKS_PER_DESCRIBE) {
            let (tasks, failures) = match self.describe(cluster_arn, chunk).await {
                Ok(answer) => answer,
                Err(Error::Aws {
                    code: Some(code), ..
                }) if code == "ClusterNotFoundException" => return Ok(Vec::new()),
                Err(e) => return Err(e),
            };
            if let Some((arn, reason)) = failures.into_iter().find(|(_, r)| r != "MISSING") {
                return Err(Error::Aws {
                    operation: "ecs:DescribeTasks".into(),
                    code: Some(reason.clone()),
                    message: format!("ECS could not describe {arn}: {reason}"),
                    kind: Failure::Final,
                });
            }
            for task in &tasks {
                found.push(task_facts(task)?);
            }
        }
        let eni_ids: Vec<String> = found
            .iter()
            .filter_map(|t| t.eni.as_ref().map(|e| e.eni_id.clone()))
            .collect();
        let extras = self.eni_extras(&eni_ids).await?;
        Ok(found.into_iter().map(|t| with_extras(t, &extras)).collect())
    }

    /// ListClusters (every page), then per cluster ListTasks (every page,
    /// desired status RUNNING) and DescribeTasks 100 at a time, then
    /// DescribeNetworkInterfaces for all their ENIs, 200 a call. A cluster
    /// whose tasks cannot be listed or described is `unreadable`, and the
    /// others go on; a chunk of ENIs EC2 cannot describe makes its tasks
    /// unreadable (without its public address a task would lose its public
    /// name).
    ///
    /// Tasks whose desired status is STOPPED are not listed: their records
    /// are not wanted, and the reconcile finds them through their registry
    /// items, whose `task` lookup answers them (STOPPED, or MISSING once
    /// ECS has forgotten them). A task listed RUNNING may have stopped by
    /// the time it is described: it is listed as ECS describes it.
    async fn all_tasks(&self) -> Result<TaskListing> {
        let mut clusters = Vec::new();
        let mut pages = self
            .client
            .list_clusters()
            .max_results(100)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| aws_error("ecs:ListClusters", e))?;
            clusters.extend(page.cluster_arns().iter().cloned());
        }
        let mut tasks = Vec::new();
        let mut unreadable = Vec::new();
        for cluster in &clusters {
            let mut found = Vec::new();
            match self
                .cluster_tasks(cluster, &mut found, &mut unreadable)
                .await
            {
                Ok(()) => tasks.extend(found),
                Err(e) => unreadable.push(format!("{cluster}: {e}")),
            }
        }
        let eni_ids: Vec<String> = tasks
            .iter()
            .filter_map(|t| t.eni.as_ref().map(|e| e.eni_id.clone()))
            .collect();
        let mut extras = BTreeMap::new();
        for chunk in eni_ids.chunks(ENIS_PER_DESCRIBE) {
            match self.eni_extras(chunk).await {
                Ok(more) => extras.extend(more),
                Err(e) => {
                    let chunk: std::collections::BTreeSet<&String> = chunk.iter().collect();
                    tasks.retain(|t| {
                        let lost = t
                            .eni
                            .as_ref()
                            .is_some_and(|eni| chunk.contains(&eni.eni_id));
                        if lost {
                            unreadable.push(format!("{}: {e}", t.task_arn));
                        }
                        !lost
                    });
                }
            }
        }
        let tasks = tasks.into_iter().map(|t| with_extras(t, &extras)).collect();
        Ok(TaskListing { tasks, unreadable })
    }
}

/// The service's error code of a failed attempt of one of the ECS calls
/// this adapter makes, for the call counter's throttles (`CallCounter`),
/// which sees the error type-erased. A call added to the adapter is added
/// here, or its throttles go uncounted (its calls still are).
pub fn attempt_error_code(
    err: &aws_smithy_runtime_api::client::interceptors::context::Error,
) -> Option<&str> {
    use crate::attempt_code as code;
    use aws_sdk_ecs::operation::{
        describe_tasks::DescribeTasksError, list_clusters::ListClustersError,
        list_tasks::ListTasksError,
    };
    code::<DescribeTasksError>(err)
        .or_else(|| code::<ListTasksError>(err))
        .or_else(|| code::<ListClustersError>(err))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ecs::types::{Attachment, KeyValuePair, LaunchType, Tag};

    fn detail(name: &str, value: &str) -> KeyValuePair {
        KeyValuePair::builder().name(name).value(value).build()
    }

    #[test]
    fn the_family_of_a_task_definition() {
        let cases = [
            (
                "arn:aws:ecs:us-east-1:123456789012:task-definition/web:7",
                Some("web"),
            ),
            (
                "arn:aws:ecs:us-east-1:123456789012:task-definition/web",
                Some("web"),
            ),
            (
                "arn:aws:ecs:us-east-1:123456789012:task-definition/:7",
                None,
            ),
            ("web:7", None),
        ];
        for (arn, want) in cases {
            assert_eq!(family_of(arn).as_deref(), want, "{arn}");
        }
    }

    /// Every fact from its field of the task; the ENI from the
    /// ElasticNetworkInterface attachment, whatever other attachments
    /// come first; EC2's extras joined by ENI id.
    #[test]
    fn a_task_in_the_registrars_form() {
        let task = Task::builder()
            .task_arn("arn:aws:ecs:us-east-1:123456789012:task/c1/abc")
            .cluster_arn("arn:aws:ecs:us-east-1:123456789012:cluster/c1")
            .last_status("RUNNING")
            .desired_status("RUNNING")
            .group("service:web")
            .task_definition_arn("arn:aws:ecs:us-east-1:123456789012:task-definition/web:3")
            .launch_type(LaunchType::Fargate)
            .started_at(aws_sdk_ecs::primitives::DateTime::from_secs(1_700_000_000))
            .tags(Tag::builder().key("GROUP").value("web").build())
            .attachments(
                Attachment::builder()
                    .r#type("ServiceConnect")
                    .details(detail("networkInterfaceId", "eni-wrong"))
                    .build(),
            )
            .attachments(
                Attachment::builder()
                    .r#type("ElasticNetworkInterface")
                    .details(detail("subnetId", "subnet-1"))
                    .details(detail("networkInterfaceId", "eni-1"))
                    .details(detail("privateIPv4Address", "10.0.1.5"))
                    .details(detail("ipv6Address", "2001:db8::5"))
                    .details(detail("privateDnsName", "ip-10-0-1-5.ec2.internal"))
                    .build(),
            )
            .build();
        let facts = task_facts(&task).unwrap();
        assert_eq!(facts.family.as_deref(), Some("web"));
        assert_eq!(facts.group.as_deref(), Some("service:web"));
        assert_eq!(facts.launch_type.as_deref(), Some("FARGATE"));
        assert_eq!(facts.tags.get("GROUP").map(String::as_str), Some("web"));
        assert_eq!(facts.started_at.map(|t| t.timestamp()), Some(1_700_000_000));
        assert!(facts.is_running());
        let extras = BTreeMap::from([(
            "eni-1".to_string(),
            EniExtras {
                vpc_id: Some("vpc-1".into()),
                public_ip: Some("54.1.2.3".parse().unwrap()),
                public_dns_name: Some("ec2-54-1-2-3.compute-1.amazonaws.com".into()),
                private_dns_name: Some("other".into()),
                ipv6: Some("2001:db8::9".parse().unwrap()),
            },
        )]);
        let eni = with_extras(facts, &extras).eni.unwrap();
        assert_eq!(
            eni,
            TaskEni {
                eni_id: "eni-1".into(),
                subnet_id: Some("subnet-1".into()),
                vpc_id: Some("vpc-1".into()),
                private_ip: Some("10.0.1.5".parse().unwrap()),
                ipv6: Some("2001:db8::5".parse().unwrap()),
                public_ip: Some("54.1.2.3".parse().unwrap()),
                private_dns_name: Some("ip-10-0-1-5.ec2.internal".into()),
                public_dns_name: Some("ec2-54-1-2-3.compute-1.amazonaws.com".into()),
            }
        );
    }

    /// A task in bridge mode has no ENI; one whose ENI EC2 no longer
    /// describes keeps what its attachment says.
    #[test]
    fn without_an_eni_or_its_extras() {
        let bridge = Task::builder()
            .task_arn("arn:aws:ecs:us-east-1:123456789012:task/c1/abc")
            .launch_type(LaunchType::Ec2)
            .build();
        assert_eq!(task_facts(&bridge).unwrap().eni, None);
        let stopped = Task::builder()
            .task_arn("arn:aws:ecs:us-east-1:123456789012:task/c1/def")
            .attachments(
                Attachment::builder()
                    .r#type("ElasticNetworkInterface")
                    .details(detail("networkInterfaceId", "eni-gone"))
                    .details(detail("privateIPv4Address", "10.0.1.9"))
                    .build(),
            )
            .build();
        let eni = with_extras(task_facts(&stopped).unwrap(), &BTreeMap::new())
            .eni
            .unwrap();
        assert_eq!(eni.private_ip, Some("10.0.1.9".parse().unwrap()));
        assert_eq!((eni.vpc_id, eni.public_ip), (None, None));
        assert!(task_facts(&Task::builder().build()).is_err());
        let extras = BTreeMap::from([(
            "eni-gone".to_string(),
            EniExtras {
                ipv6: Some("2001:db8::7".parse().unwrap()),
                ..EniExtras::default()
            },
        )]);
        let eni = with_extras(task_facts(&stopped).unwrap(), &extras)
            .eni
            .unwrap();
        assert_eq!(
            eni.ipv6,
            Some("2001:db8::7".parse().unwrap()),
            "the ENI's IPv6 address when the attachment names none"
        );
    }
}
