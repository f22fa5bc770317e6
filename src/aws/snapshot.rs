//! `ec2-ddns snapshot`: a world file written from a live account (or an
//! emulator), so a user can rehearse events on a copy of their own account
//! with `replay --world`. Every call here is a read (Describe*, List*, Get*,
//! Scan); nothing in the account changes.

use super::{aws_error, error_code, AwsBackends};
use crate::backend::Instances;
use crate::error::Result;
use crate::facts::{RecordSet, RecordType, RegistryItem};
use crate::names;
use crate::world::{World, WorldInstance, WorldRecord, WorldSubnet, WorldVpc, WorldZone};
use std::collections::BTreeSet;

/// A world read from an account, and what could not be carried into it.
#[derive(Debug)]
pub struct Snapshot {
    pub world: World,
    /// One line per thing left out or suspicious, for stderr.
    pub warnings: Vec<String>,
}

/// Reads the account behind `backends` into a world. `table` is the
/// registrar's DynamoDB table; a missing table means an empty registry.
pub async fn snapshot(backends: &AwsBackends, table: &str) -> Result<Snapshot> {
    let mut warnings = Vec::new();
    let vpcs = vpcs(backends).await?;
    let vpc_ids: BTreeSet<String> = vpcs.iter().map(|v| v.id.clone()).collect();
    let subnets = subnets(backends).await?;
    let instances = instances(backends, &mut warnings).await?;
    let zones = zones(backends, &vpc_ids, &mut warnings).await?;
    let zone_ids: BTreeSet<String> = zones.iter().map(|z| World::zone_info(z).id).collect();
    let registry = registry(backends, table, &zone_ids, &mut warnings).await?;
    Ok(Snapshot {
        world: World {
            region: backends.region.clone(),
            account: None,
            vpcs,
            subnets,
            zones,
            instances,
            registry,
        },
        warnings,
    })
}

async fn vpcs(b: &AwsBackends) -> Result<Vec<WorldVpc>> {
    let mut found = Vec::new();
    let mut pages = b.ec2.client.describe_vpcs().into_paginator().send();
    while let Some(page) = pages.next().await {
        b.ec2.calls.count("ec2:DescribeVpcs");
        let page = page.map_err(|e| aws_error("ec2:DescribeVpcs", e))?;
        for v in page.vpcs() {
            let (Some(id), Some(cidr)) = (v.vpc_id(), v.cidr_block()) else {
                continue;
            };
            let options = v.dhcp_options_id().unwrap_or("default").to_string();
            found.push((id.to_string(), cidr.to_string(), options));
        }
    }
    let mut vpcs = Vec::new();
    for (id, cidr, options) in found {
        // The same reads the registrar makes, so the snapshot sees the VPC
        // exactly as an event would.
        let dhcp_domain = b.ec2.domain_of_options(&options).await?;
        let (dns_support, dns_hostnames) = b.ec2.dns_attributes(&id).await?;
        vpcs.push(WorldVpc {
            id,
            cidr,
            dns_support,
            dns_hostnames,
            dhcp_domain,
        });
    }
    vpcs.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(vpcs)
}

async fn subnets(b: &AwsBackends) -> Result<Vec<WorldSubnet>> {
    let mut subnets = Vec::new();
    let mut pages = b.ec2.client.describe_subnets().into_paginator().send();
    while let Some(page) = pages.next().await {
        b.ec2.calls.count("ec2:DescribeSubnets");
        let page = page.map_err(|e| aws_error("ec2:DescribeSubnets", e))?;
        for s in page.subnets() {
            let (Some(id), Some(vpc), Some(cidr)) = (s.subnet_id(), s.vpc_id(), s.cidr_block())
            else {
                continue;
            };
            subnets.push(WorldSubnet {
                id: id.to_string(),
                vpc: vpc.to_string(),
                cidr: cidr.to_string(),
                public: s.map_public_ip_on_launch().unwrap_or(false),
            });
        }
    }
    subnets.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(subnets)
}

async fn instances(b: &AwsBackends, warnings: &mut Vec<String>) -> Result<Vec<WorldInstance>> {
    let mut instances = Vec::new();
    let mut pages = b.ec2.client.describe_instances().into_paginator().send();
    while let Some(page) = pages.next().await {
        b.ec2.calls.count("ec2:DescribeInstances");
        let page = page.map_err(|e| aws_error("ec2:DescribeInstances", e))?;
        for i in page.reservations().iter().flat_map(|r| r.instances()) {
            let facts = super::ec2::instance_facts(i);
            match WorldInstance::from_facts(&facts) {
                Some(inst) => instances.push(inst),
                None => warnings.push(format!(
                    "instance {} ({}) left out: it has no subnet or private IPv4 address",
                    facts.instance_id, facts.state
                )),
            }
        }
    }
    instances.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(instances)
}

async fn zones(
    b: &AwsBackends,
    vpc_ids: &BTreeSet<String>,
    warnings: &mut Vec<String>,
) -> Result<Vec<WorldZone>> {
    let mut zones = Vec::new();
    for info in b.dns.all_zones().await? {
        let mut vpcs = Vec::new();
        if info.private {
            b.dns.calls.count("route53:GetHostedZone");
            let zone = b
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
                if vpc_ids.contains(id) && region.is_none_or(|r| r == b.region) {
                    vpcs.push(id.to_string());
                }
            }
            if vpcs.is_empty() {
                warnings.push(format!(
                    "private zone {} ({}) left out: none of its VPCs is in {}",
                    info.name, info.id, b.region
                ));
                continue;
            }
            vpcs.sort();
        }
        let records = b
            .dns
            .zone_records(&info.id)
            .await?
            .into_iter()
            .filter(|r| !is_apex_housekeeping(r, &info.name))
            .map(|r| WorldRecord::from_record(&r))
            .collect();
        zones.push(WorldZone {
            id: info.id,
            name: info.name,
            private: info.private,
            vpcs,
            records,
        });
    }
    zones.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
    Ok(zones)
}

/// The SOA and NS at a zone's apex: Route 53 makes them with the zone, the
/// registrar never writes at an apex, and hand-written worlds leave them out.
fn is_apex_housekeeping(r: &RecordSet, zone_name: &str) -> bool {
    r.name == names::normalize(zone_name)
        && matches!(&r.rtype, RecordType::Other(t) if t == "SOA" || t == "NS")
}

async fn registry(
    b: &AwsBackends,
    table: &str,
    zone_ids: &BTreeSet<String>,
    warnings: &mut Vec<String>,
) -> Result<Vec<RegistryItem>> {
    let mut items = Vec::new();
    let mut pages = b
        .registry
        .client
        .scan()
        .table_name(table)
        .consistent_read(true)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        b.registry.calls.count("dynamodb:Scan");
        let page = match page {
            Ok(page) => page,
            Err(e) if error_code(&e) == Some("ResourceNotFoundException") => {
                warnings.push(format!(
                    "registry table {table} not found: the snapshot owns no records"
                ));
                return Ok(Vec::new());
            }
            Err(e) => return Err(aws_error("dynamodb:Scan", e)),
        };
        for map in page.items() {
            let id = map
                .get("InstanceId")
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default();
            let mut item = match super::dynamodb::from_item(&id, map) {
                Ok(item) => item,
                Err(e) => {
                    warnings.push(format!("registry item left out: {e}"));
                    continue;
                }
            };
            if !crate::event::is_instance_id(&item.instance_id) {
                warnings.push(format!(
                    "registry item '{}' left out: not an instance id",
                    item.instance_id
                ));
                continue;
            }
            item.records.retain(|owned| {
                let known = zone_ids.contains(&owned.zone_id);
                if !known {
                    warnings.push(format!(
                        "{}: owned record {} left out: zone {} is not in the snapshot",
                        item.instance_id, owned.record, owned.zone_id
                    ));
                }
                known
            });
            items.push(item);
        }
    }
    items.sort_by(|a, b| a.instance_id.cmp(&b.instance_id));
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_apex_soa_and_ns_are_housekeeping() {
        let rec =
            |name: &str, t: &str| RecordSet::new(name, RecordType::from(t), 300, vec!["x".into()]);
        let cases = [
            ("corp.example.", "SOA", true),
            ("corp.example.", "NS", true),
            ("Corp.Example", "NS", true),
            ("sub.corp.example.", "NS", false),
            ("corp.example.", "TXT", false),
            ("corp.example.", "A", false),
        ];
        for (name, t, expected) in cases {
            assert_eq!(
                is_apex_housekeeping(&rec(name, t), "corp.example."),
                expected,
                "{name} {t}"
            );
        }
    }
}
