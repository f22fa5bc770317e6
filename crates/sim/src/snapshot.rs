//! `ec2-ddns snapshot`: a world file written from a live account (or an
//! emulator), so a user can rehearse events on a copy of their own account
//! with `replay --world`. Every call here is a read (Describe*, List*, Get*,
//! Scan), through the SDK's paginators; nothing in the account changes.
//! ECS clusters and the tasks ECS means to run are read too (a task's ARN
//! is made from the world's account, taken from the clusters' ARNs).

use crate::world::{
    World, WorldCluster, WorldInstance, WorldSubnet, WorldTask, WorldVpc, WorldZone,
};
use ec2_ddns_aws::ecs::Ecs;
use ec2_ddns_aws::{aws_error, ec2, AwsAccount};
use ec2_ddns_core::error::Error;
use ec2_ddns_core::error::Result;
use ec2_ddns_core::model::{ForeignItem, OwnedRecord, Place, RegistryItem, ZoneId};
use ec2_ddns_core::ports::{Registry, Tasks};
use std::collections::BTreeSet;

/// A world read from an account, and what could not be carried into it.
#[derive(Debug)]
pub struct Snapshot {
    pub world: World,
    /// One line per thing left out or suspicious, for stderr.
    pub warnings: Vec<String>,
}

/// Reads the account behind `account` into a world. `table` is the
/// registrar's DynamoDB table; a missing table means an empty registry.
pub async fn snapshot(account: &AwsAccount, table: &str) -> Result<Snapshot> {
    snapshot_places(account, table, &[]).await
}

/// [`snapshot`], with the EC2 and ECS of each of `places` (the
/// organization mode: `account` organized, each read through its member
/// role) as the world's `members`. A place that cannot be read is a
/// warning and a member marked `role_refused`, so a rehearsal fails its
/// events as the function would.
pub async fn snapshot_places(
    account: &AwsAccount,
    table: &str,
    places: &[Place],
) -> Result<Snapshot> {
    let mut warnings = Vec::new();
    let mut world =
        read_place(&account.ec2, &account.tasks, &account.region, &mut warnings).await?;
    for place in places {
        let reached = match &account.members {
            Some(members) => members.clients(place).await,
            None => Err(ec2_ddns_core::ports::one_account_only(place)),
        };
        let member = match reached {
            Ok(clients) => {
                let ec2 = ec2::Ec2 {
                    client: clients.ec2.clone(),
                    members: None,
                };
                let ecs = Ecs::new(clients.ecs, clients.ec2);
                let mut member = read_place(&ec2, &ecs, &place.region, &mut warnings).await?;
                member.account = Some(place.account.clone());
                member
            }
            Err(e) => {
                warnings.push(format!("{place} left out, marked role_refused: {e}"));
                let mut member = World::empty(&place.region);
                member.account = Some(place.account.clone());
                member.role_refused = true;
                member
            }
        };
        world.members.push(member);
    }
    let vpc_ids: BTreeSet<(String, String)> = std::iter::once(&world)
        .chain(&world.members)
        .flat_map(|w| w.vpcs.iter().map(|v| (v.id.clone(), w.region.clone())))
        .collect();
    world.zones = zones(account, &vpc_ids, &mut warnings).await?;
    let zone_ids: BTreeSet<ZoneId> = world.zones.iter().map(|z| z.info().id).collect();
    let (registry, foreign_registry) = registry(account, table, &zone_ids, &mut warnings).await?;
    world.registry = registry;
    world.foreign_registry = foreign_registry;
    Ok(Snapshot { world, warnings })
}

/// One place's EC2 and ECS as a world (no zones, no registry).
async fn read_place(
    ec2: &ec2::Ec2,
    ecs: &Ecs,
    region: &str,
    warnings: &mut Vec<String>,
) -> Result<World> {
    let mut world = World::empty(region);
    world.vpcs = vpcs(ec2, warnings).await?;
    world.subnets = subnets(ec2, warnings).await?;
    world.instances = instances(ec2, warnings).await?;
    let found = tasks(ecs, warnings).await;
    world.account = found.account;
    world.clusters = found.clusters;
    world.tasks = found.tasks;
    Ok(world)
}

/// What a snapshot holds of ECS.
#[derive(Default)]
struct EcsPart {
    /// The account in the clusters' ARNs: the world makes its task ARNs
    /// with it, so the registry's `task#ARN` items match its tasks.
    account: Option<String>,
    clusters: Vec<WorldCluster>,
    tasks: Vec<WorldTask>,
}

/// Every cluster (ListClusters) and every task ECS means to run
/// (`Tasks::all_tasks`: its ENI's public address included). ECS that
/// cannot be read (no permission, say) is a warning, not a failure: the
/// snapshot then has no clusters, and its registry's items of tasks have no
/// task (a rehearsed reconcile would delete their records, and the warning
/// says so).
async fn tasks(ecs: &Ecs, warnings: &mut Vec<String>) -> EcsPart {
    let mut arns = Vec::new();
    let mut pages = ecs.client.list_clusters().into_paginator().send();
    while let Some(page) = pages.next().await {
        match page {
            Ok(page) => arns.extend(page.cluster_arns().iter().cloned()),
            Err(e) => {
                warnings.push(format!(
                    "ECS left out ({}): the world has no clusters or tasks, so a rehearsed reconcile would take the registry's tasks for gone",
                    aws_error("ecs:ListClusters", e)
                ));
                return EcsPart::default();
            }
        }
    }
    let listing = match ecs.all_tasks().await {
        Ok(listing) => listing,
        Err(e) => {
            warnings.push(format!("ECS tasks left out: {e}"));
            return EcsPart::default();
        }
    };
    for why in &listing.unreadable {
        warnings.push(format!("ECS task left out: {why}"));
    }
    let account = arns
        .first()
        .and_then(|arn| arn.split(':').nth(4))
        .map(str::to_string);
    let mut clusters: Vec<WorldCluster> = arns
        .iter()
        .filter_map(|arn| arn.rsplit_once(":cluster/").map(|(_, name)| name))
        .map(|name| WorldCluster {
            name: name.to_string(),
        })
        .collect();
    clusters.sort_by(|a, b| a.name.cmp(&b.name));
    let mut tasks = Vec::new();
    for facts in &listing.tasks {
        match WorldTask::from_facts(facts) {
            Some(task) => tasks.push(task),
            None => warnings.push(format!(
                "task {} ({}, launch type {}) left out: a world file cannot hold it",
                facts.task_arn,
                facts.last_status,
                facts.launch_type.as_deref().unwrap_or("-")
            )),
        }
    }
    tasks.sort_by(|a, b| (&a.cluster, &a.id).cmp(&(&b.cluster, &b.id)));
    EcsPart {
        account,
        clusters,
        tasks,
    }
}

async fn vpcs(ec2: &ec2::Ec2, warnings: &mut Vec<String>) -> Result<Vec<WorldVpc>> {
    let mut found = Vec::new();
    let mut pages = ec2.client.describe_vpcs().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| aws_error("ec2:DescribeVpcs", e))?;
        for v in page.vpcs() {
            let (Some(id), Some(cidr)) = (v.vpc_id(), v.cidr_block()) else {
                continue;
            };
            match cidr.parse() {
                Ok(cidr) => found.push((
                    id.to_string(),
                    cidr,
                    v.dhcp_options_id().map(str::to_string),
                    first_ipv6_block(v.ipv6_cidr_block_association_set().iter().map(|a| {
                        let state = a
                            .ipv6_cidr_block_state()
                            .and_then(|s| s.state())
                            .map(|s| s.as_str());
                        (a.ipv6_cidr_block(), state)
                    })),
                )),
                Err(e) => warnings.push(format!("VPC {id} left out: {e}")),
            }
        }
    }
    let mut vpcs = Vec::new();
    for (id, cidr, options, ipv6_cidr) in found {
        // The same reads the registrar makes, so the snapshot sees the VPC
        // exactly as an event would.
        let facts = ec2.vpc_facts(&id, options.as_deref()).await?;
        vpcs.push(WorldVpc {
            id,
            cidr,
            ipv6_cidr,
            dns_support: facts.dns_support,
            dns_hostnames: facts.dns_hostnames,
            dhcp_domain: facts.dhcp_domain,
        });
    }
    vpcs.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(vpcs)
}

/// The first associated IPv6 block of a VPC or subnet (EC2 lists blocks
/// being disassociated too); one that does not parse is skipped.
fn first_ipv6_block<'a>(
    blocks: impl Iterator<Item = (Option<&'a str>, Option<&'a str>)>,
) -> Option<crate::world::Cidr6> {
    blocks
        .filter(|(_, state)| state.is_none_or(|s| s == "associated"))
        .find_map(|(block, _)| block?.parse().ok())
}

async fn subnets(ec2: &ec2::Ec2, warnings: &mut Vec<String>) -> Result<Vec<WorldSubnet>> {
    let mut subnets = Vec::new();
    let mut pages = ec2.client.describe_subnets().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| aws_error("ec2:DescribeSubnets", e))?;
        for s in page.subnets() {
            let (Some(id), Some(vpc)) = (s.subnet_id(), s.vpc_id()) else {
                continue;
            };
            // An IPv6-only subnet has no IPv4 block.
            let cidr = s
                .cidr_block()
                .filter(|c| !c.is_empty())
                .map(str::parse)
                .transpose();
            match cidr {
                Ok(cidr) => subnets.push(WorldSubnet {
                    id: id.to_string(),
                    vpc: vpc.to_string(),
                    cidr,
                    ipv6_cidr: first_ipv6_block(s.ipv6_cidr_block_association_set().iter().map(
                        |a| {
                            let state = a
                                .ipv6_cidr_block_state()
                                .and_then(|s| s.state())
                                .map(|s| s.as_str());
                            (a.ipv6_cidr_block(), state)
                        },
                    )),
                    ipv6_native: s.ipv6_native().unwrap_or(false),
                    public: s.map_public_ip_on_launch().unwrap_or(false),
                }),
                Err(e) => warnings.push(format!("subnet {id} left out: {e}")),
            }
        }
    }
    subnets.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(subnets)
}

async fn instances(ec2: &ec2::Ec2, warnings: &mut Vec<String>) -> Result<Vec<WorldInstance>> {
    let mut instances = Vec::new();
    let mut pages = ec2.client.describe_instances().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| aws_error("ec2:DescribeInstances", e))?;
        for i in page.reservations().iter().flat_map(|r| r.instances()) {
            let facts = match ec2::instance_facts(i) {
                Ok(facts) => facts,
                Err(e) => {
                    warnings.push(format!("instance left out: {e}"));
                    continue;
                }
            };
            match WorldInstance::from_facts(&facts) {
                Some(inst) => instances.push(inst),
                None => warnings.push(format!(
                    "instance {} ({}) left out: it has no subnet, or neither a private IPv4 nor an IPv6 address",
                    facts.instance_id, facts.state
                )),
            }
        }
    }
    instances.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(instances)
}

async fn zones(
    a: &AwsAccount,
    vpc_ids: &BTreeSet<(String, String)>,
    warnings: &mut Vec<String>,
) -> Result<Vec<WorldZone>> {
    let mut zones = Vec::new();
    for info in a.dns.all_zones().await? {
        let mut vpcs = Vec::new();
        if info.private {
            let zone = a
                .dns
                .client
                .get_hosted_zone()
                .id(&info.id)
                .send()
                .await
                .map_err(|e| aws_error("route53:GetHostedZone", e))?;
            for v in zone.vpcs() {
                let (Some(id), region) = (v.vpc_id(), v.vpc_region().map(|r| r.as_str())) else {
                    continue;
                };
                let region = region.unwrap_or(&a.region).to_string();
                if vpc_ids.contains(&(id.to_string(), region)) {
                    vpcs.push(id.to_string());
                }
            }
            if vpcs.is_empty() {
                warnings.push(format!(
                    "private zone {} ({}) left out: none of its VPCs is in {} (or a member place read)",
                    info.name, info.id, a.region
                ));
                continue;
            }
            vpcs.sort();
        }
        let records = a
            .dns
            .zone_records(&info.id)
            .await?
            .into_iter()
            .filter(|r| !r.is_apex_housekeeping(&info.name))
            .collect();
        zones.push(WorldZone {
            id: info.id.into(),
            name: info.name.into(),
            private: info.private,
            vpcs,
            records,
        });
    }
    zones.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
    Ok(zones)
}

async fn registry(
    a: &AwsAccount,
    table: &str,
    zone_ids: &BTreeSet<ZoneId>,
    warnings: &mut Vec<String>,
) -> Result<(Vec<RegistryItem>, Vec<ForeignItem>)> {
    let mut items = Vec::new();
    let mut foreign = Vec::new();
    let stored = match a.registry.all().await {
        Ok(stored) => stored,
        Err(Error::Aws {
            kind: ec2_ddns_core::error::Failure::NotFound,
            ..
        }) => {
            warnings.push(format!(
                "registry table {table} not found: the snapshot owns no records"
            ));
            return Ok((Vec::new(), Vec::new()));
        }
        Err(e) => return Err(e),
    };
    {
        for mut item in stored {
            let id = item.key.stored();
            if let Some(host) = item.key.host_name() {
                warnings.push(format!(
                    "DDNS host {} left out: hosts are not part of world files (their secrets stay in the table)",
                    ec2_ddns_core::names::clip(host)
                ));
                continue;
            }
            if !ec2_ddns_core::event::is_instance_id(&id) && item.key.task_arn().is_none() {
                warnings.push(format!(
                    "registry item '{}' left out: neither an instance id nor task# and a task's ARN",
                    ec2_ddns_core::names::clip(&id)
                ));
                continue;
            }
            if let Some(found) = item.replaces.take() {
                warnings.push(found.note());
                foreign.push(found);
                continue;
            }
            let instance_id = item.key.clone();
            let mut known = |owned: &OwnedRecord| {
                let known = zone_ids.contains(&owned.zone_id);
                if !known {
                    warnings.push(format!(
                        "{instance_id}: record {} left out: zone {} is not in the snapshot",
                        owned.record, owned.zone_id
                    ));
                }
                known
            };
            item.records.retain(&mut known);
            item.pending.retain(&mut known);
            items.push(item);
        }
    }
    items.sort_by_key(|item| item.key.stored());
    foreign.sort_by_key(|item| item.key.stored());
    Ok((items, foreign))
}
