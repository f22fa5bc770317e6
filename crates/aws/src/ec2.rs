//! EC2 through the SDK: DescribeInstances, DescribeVpcs, DescribeDhcpOptions,
//! DescribeVpcAttribute.

use super::{aws_error, error_code};
use aws_sdk_ec2::types::{Instance, VpcAttributeName};
use ec2_ddns_core::error::{Error, Failure, Result};
use ec2_ddns_core::model::{
    InstanceFacts, InstanceListing, InstanceState, Place, Unreadable, VpcFacts,
};
use ec2_ddns_core::ports::Instances;

/// Instance ids per DescribeInstances in buffered mode: EC2 takes at most
/// 200 values in one filter. A filter (not `InstanceIds`) so an id EC2 does
/// not know leaves it out instead of failing the whole call.
pub const IDS_PER_DESCRIBE: usize = 200;

pub struct Ec2 {
    pub client: aws_sdk_ec2::Client,
    /// The organization mode's member accounts (`members.rs`); `None`:
    /// this account only.
    pub members: Option<std::sync::Arc<crate::members::Members>>,
}

/// An SDK instance in the registrar's form; empty strings count as absent.
/// `Err` names a state this version does not know (EC2 has never sent one).
pub fn instance_facts(i: &Instance) -> Result<InstanceFacts> {
    let nonempty = |s: Option<&str>| s.filter(|s| !s.is_empty()).map(str::to_string);
    let id = i.instance_id().unwrap_or_default();
    let state_name = i
        .state()
        .and_then(|s| s.name())
        .map(|n| n.as_str())
        .unwrap_or("");
    let state: InstanceState = state_name.parse().map_err(|e| Error::Aws {
        operation: "ec2:DescribeInstances".into(),
        code: None,
        message: format!("instance {id}: {e}"),
        kind: Failure::Final,
    })?;
    Ok(InstanceFacts {
        instance_id: id.to_string(),
        state,
        vpc_id: nonempty(i.vpc_id()),
        subnet_id: nonempty(i.subnet_id()),
        private_ip: i.private_ip_address().and_then(|ip| ip.parse().ok()),
        public_ip: i.public_ip_address().and_then(|ip| ip.parse().ok()),
        ipv6: primary_ipv6(i),
        private_dns_name: nonempty(i.private_dns_name()),
        public_dns_name: nonempty(i.public_dns_name()),
        tags: i
            .tags()
            .iter()
            .filter_map(|t| {
                Some((
                    t.key()?.to_string(),
                    t.value().unwrap_or_default().to_string(),
                ))
            })
            .collect(),
        launch_time: i
            .launch_time()
            .and_then(|t| chrono::DateTime::from_timestamp(t.secs(), t.subsec_nanos())),
    })
}

/// The instance's primary IPv6 address: `Ipv6Address` when EC2 gives it,
/// else the primary network interface's (device index 0) address marked
/// primary, else its first. Older responses (and moto) leave out
/// `Ipv6Address`; the interface carries the same address.
fn primary_ipv6(i: &Instance) -> Option<std::net::Ipv6Addr> {
    if let Some(ip) = i.ipv6_address().and_then(|ip| ip.parse().ok()) {
        return Some(ip);
    }
    let eni = i
        .network_interfaces()
        .iter()
        .find(|n| n.attachment().and_then(|a| a.device_index()) == Some(0))?;
    let addresses = eni.ipv6_addresses();
    addresses
        .iter()
        .find(|a| a.is_primary_ipv6() == Some(true))
        .or_else(|| addresses.first())
        .and_then(|a| a.ipv6_address())
        .and_then(|ip| ip.parse().ok())
}

impl Ec2 {
    /// The first name of a DHCP option set's `domain-name`; `None` for the
    /// `default` set (no options) or a set without one.
    pub(crate) async fn domain_of_options(&self, options_id: &str) -> Result<Option<String>> {
        if options_id == "default" {
            return Ok(None);
        }
        let options = self
            .client
            .describe_dhcp_options()
            .dhcp_options_ids(options_id)
            .send()
            .await
            .map_err(|e| aws_error("ec2:DescribeDhcpOptions", e))?;
        Ok(options
            .dhcp_options()
            .iter()
            .flat_map(|o| o.dhcp_configurations())
            .filter(|c| c.key() == Some("domain-name"))
            .flat_map(|c| c.values())
            .filter_map(|v| v.value())
            .flat_map(str::split_whitespace)
            .next()
            .map(str::to_string))
    }

    /// Every page (1,000 instances a page) of a DescribeInstances, with
    /// `filter` if any, into `listing`: each instance read, or unreadable
    /// and why.
    async fn describe_into(
        &self,
        filter: Option<aws_sdk_ec2::types::Filter>,
        listing: &mut InstanceListing,
    ) -> Result<()> {
        let mut pages = self
            .client
            .describe_instances()
            .set_filters(filter.map(|f| vec![f]))
            .max_results(1000)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| aws_error("ec2:DescribeInstances", e))?;
            for i in page.reservations().iter().flat_map(|r| r.instances()) {
                match instance_facts(i) {
                    Ok(facts) if !facts.instance_id.is_empty() => listing.instances.push(facts),
                    Ok(_) => listing.unreadable.push(Unreadable {
                        instance_id: None,
                        why: "EC2 listed an instance without an id".into(),
                    }),
                    Err(e) => listing.unreadable.push(Unreadable {
                        instance_id: i.instance_id().map(str::to_string),
                        why: e.to_string(),
                    }),
                }
            }
        }
        Ok(())
    }

    /// `enableDnsSupport` and `enableDnsHostnames`: one attribute per call,
    /// so the two run concurrently.
    pub(crate) async fn dns_attributes(&self, vpc_id: &str) -> Result<DnsAttributes> {
        let attribute = |name: VpcAttributeName| {
            self.client
                .describe_vpc_attribute()
                .vpc_id(vpc_id)
                .attribute(name)
                .send()
        };
        let (support, hostnames) = tokio::join!(
            attribute(VpcAttributeName::EnableDnsSupport),
            attribute(VpcAttributeName::EnableDnsHostnames)
        );
        let support = support.map_err(|e| aws_error("ec2:DescribeVpcAttribute", e))?;
        let hostnames = hostnames.map_err(|e| aws_error("ec2:DescribeVpcAttribute", e))?;
        Ok(DnsAttributes {
            support: support
                .enable_dns_support()
                .and_then(|a| a.value())
                .unwrap_or(false),
            hostnames: hostnames
                .enable_dns_hostnames()
                .and_then(|a| a.value())
                .unwrap_or(false),
        })
    }

    /// A VPC's facts from its description (which names its DHCP option set):
    /// the DHCP domain and the two DNS attributes, read concurrently.
    pub async fn vpc_facts(&self, vpc_id: &str, dhcp_options_id: Option<&str>) -> Result<VpcFacts> {
        let (dhcp_domain, attributes) = tokio::join!(
            async {
                match dhcp_options_id {
                    Some(id) => self.domain_of_options(id).await,
                    None => Ok(None),
                }
            },
            self.dns_attributes(vpc_id)
        );
        let attributes = attributes?;
        Ok(VpcFacts {
            vpc_id: vpc_id.to_string(),
            dhcp_domain: dhcp_domain?,
            dns_support: attributes.support,
            dns_hostnames: attributes.hostnames,
        })
    }
}

/// A VPC's two DNS attributes.
pub(crate) struct DnsAttributes {
    support: bool,
    hostnames: bool,
}

impl Instances for Ec2 {
    async fn instance(&self, instance_id: &str) -> Result<Option<InstanceFacts>> {
        let out = match self
            .client
            .describe_instances()
            .instance_ids(instance_id)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if error_code(&e) == Some("InvalidInstanceID.NotFound") => return Ok(None),
            Err(e) => return Err(aws_error("ec2:DescribeInstances", e)),
        };
        out.reservations()
            .iter()
            .flat_map(|r| r.instances())
            .find(|i| i.instance_id() == Some(instance_id))
            .map(instance_facts)
            .transpose()
    }

    /// The known instances among `instance_ids`, 200 ids per call (all
    /// pages). One EC2 lists but this version cannot read (a state it does
    /// not know) is `unreadable`: its event fails, as a single event's does.
    async fn instances(&self, instance_ids: &[String]) -> Result<InstanceListing> {
        let mut listing = InstanceListing::default();
        for chunk in instance_ids.chunks(IDS_PER_DESCRIBE) {
            let filter = aws_sdk_ec2::types::Filter::builder()
                .name("instance-id")
                .set_values(Some(chunk.to_vec()))
                .build();
            self.describe_into(Some(filter), &mut listing).await?;
        }
        Ok(listing)
    }

    /// Every instance of the region, pages of 1,000. One EC2 cannot read
    /// (a state this version does not know) is listed as unreadable, so
    /// the reconcile leaves its item alone.
    /// The member role assumed in `place`'s account (kept while its
    /// credentials last: `members.rs`).
    async fn at(&self, place: &Place) -> Result<Ec2> {
        let Some(members) = &self.members else {
            return Err(ec2_ddns_core::ports::one_account_only(place));
        };
        Ok(Ec2 {
            client: members.clients(place).await?.ec2,
            members: Some(members.clone()),
        })
    }

    async fn organization_accounts(&self) -> Result<Vec<String>> {
        match &self.members {
            Some(members) => members.organization_accounts().await,
            None => Err(Error::Config {
                variable: "DDNS_MEMBER_ACCOUNTS".into(),
                message: "organization: the member accounts are not set up in this process".into(),
            }),
        }
    }

    async fn all_instances(&self) -> Result<InstanceListing> {
        let mut listing = InstanceListing::default();
        self.describe_into(None, &mut listing).await?;
        Ok(listing)
    }

    async fn vpc(&self, vpc_id: &str) -> Result<Option<VpcFacts>> {
        let vpcs = match self.client.describe_vpcs().vpc_ids(vpc_id).send().await {
            Ok(out) => out,
            Err(e) if error_code(&e) == Some("InvalidVpcID.NotFound") => return Ok(None),
            Err(e) => return Err(aws_error("ec2:DescribeVpcs", e)),
        };
        let Some(vpc) = vpcs.vpcs().first() else {
            return Ok(None);
        };
        self.vpc_facts(vpc_id, vpc.dhcp_options_id())
            .await
            .map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ec2::types::{
        InstanceIpv6Address, InstanceNetworkInterface, InstanceNetworkInterfaceAttachment,
    };

    fn eni(device: i32, addresses: &[(&str, Option<bool>)]) -> InstanceNetworkInterface {
        let mut n = InstanceNetworkInterface::builder().attachment(
            InstanceNetworkInterfaceAttachment::builder()
                .device_index(device)
                .build(),
        );
        for (ip, primary) in addresses {
            let mut a = InstanceIpv6Address::builder().ipv6_address(*ip);
            if let Some(p) = primary {
                a = a.is_primary_ipv6(*p);
            }
            n = n.ipv6_addresses(a.build());
        }
        n.build()
    }

    /// The primary IPv6 address: `Ipv6Address` first, else the primary
    /// interface's (device 0) address marked primary, else its first; a
    /// secondary interface's never; garbage is no address.
    #[test]
    fn the_primary_ipv6_address() {
        let cases: Vec<(&str, Instance, Option<&str>)> = vec![
            ("none", Instance::builder().build(), None),
            (
                "Ipv6Address wins",
                Instance::builder()
                    .ipv6_address("2001:db8::1")
                    .network_interfaces(eni(0, &[("2001:db8::2", Some(true))]))
                    .build(),
                Some("2001:db8::1"),
            ),
            (
                "the primary interface's first",
                Instance::builder()
                    .network_interfaces(eni(1, &[("2001:db8::9", None)]))
                    .network_interfaces(eni(0, &[("2001:db8::2", None), ("2001:db8::3", None)]))
                    .build(),
                Some("2001:db8::2"),
            ),
            (
                "the one marked primary",
                Instance::builder()
                    .network_interfaces(eni(
                        0,
                        &[("2001:db8::2", Some(false)), ("2001:db8::3", Some(true))],
                    ))
                    .build(),
                Some("2001:db8::3"),
            ),
            (
                "only a secondary interface's",
                Instance::builder()
                    .network_interfaces(eni(1, &[("2001:db8::9", None)]))
                    .build(),
                None,
            ),
            (
                "not an address",
                Instance::builder().ipv6_address("banana").build(),
                None,
            ),
        ];
        for (what, instance, want) in cases {
            assert_eq!(
                primary_ipv6(&instance),
                want.map(|w| w.parse().unwrap()),
                "{what}"
            );
        }
    }
}
