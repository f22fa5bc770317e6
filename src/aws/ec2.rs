//! EC2 through the SDK: DescribeInstances, DescribeVpcs, DescribeDhcpOptions,
//! DescribeVpcAttribute.

use super::{aws_error, error_code};
use crate::backend::Instances;
use crate::error::Result;
use crate::facts::InstanceFacts;
use crate::fake::CallLog;
use aws_sdk_ec2::types::{Instance, VpcAttributeName};

pub struct Ec2Backend {
    pub client: aws_sdk_ec2::Client,
    pub calls: CallLog,
}

/// An SDK instance in the registrar's form; empty strings count as absent.
pub(crate) fn instance_facts(i: &Instance) -> InstanceFacts {
    let nonempty = |s: Option<&str>| s.filter(|s| !s.is_empty()).map(str::to_string);
    InstanceFacts {
        instance_id: i.instance_id().unwrap_or_default().to_string(),
        state: i
            .state()
            .and_then(|s| s.name())
            .map(|n| n.as_str().to_string())
            .unwrap_or_default(),
        vpc_id: nonempty(i.vpc_id()),
        subnet_id: nonempty(i.subnet_id()),
        private_ip: i.private_ip_address().and_then(|ip| ip.parse().ok()),
        public_ip: i.public_ip_address().and_then(|ip| ip.parse().ok()),
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
    }
}

impl Ec2Backend {
    /// The first name of a DHCP option set's `domain-name`; `None` for the
    /// `default` set (no options) or a set without one.
    pub(crate) async fn domain_of_options(&self, options_id: &str) -> Result<Option<String>> {
        if options_id == "default" {
            return Ok(None);
        }
        self.calls.count("ec2:DescribeDhcpOptions");
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
}

impl Instances for Ec2Backend {
    async fn instance(&self, instance_id: &str) -> Result<Option<InstanceFacts>> {
        self.calls.count("ec2:DescribeInstances");
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
        let Some(i) = out
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
            .find(|i| i.instance_id() == Some(instance_id))
        else {
            return Ok(None);
        };
        Ok(Some(instance_facts(i)))
    }

    async fn dhcp_domain(&self, vpc_id: &str) -> Result<Option<String>> {
        self.calls.count("ec2:DescribeVpcs");
        let vpcs = self
            .client
            .describe_vpcs()
            .vpc_ids(vpc_id)
            .send()
            .await
            .map_err(|e| aws_error("ec2:DescribeVpcs", e))?;
        match vpcs.vpcs().first().and_then(|v| v.dhcp_options_id()) {
            Some(options_id) => self.domain_of_options(options_id).await,
            None => Ok(None),
        }
    }

    async fn dns_attributes(&self, vpc_id: &str) -> Result<(bool, bool)> {
        let support = self
            .client
            .describe_vpc_attribute()
            .vpc_id(vpc_id)
            .attribute(VpcAttributeName::EnableDnsSupport)
            .send();
        let hostnames = self
            .client
            .describe_vpc_attribute()
            .vpc_id(vpc_id)
            .attribute(VpcAttributeName::EnableDnsHostnames)
            .send();
        self.calls.count("ec2:DescribeVpcAttribute");
        self.calls.count("ec2:DescribeVpcAttribute");
        // One attribute per call: the two run concurrently.
        let (support, hostnames) = tokio::join!(support, hostnames);
        let support = support.map_err(|e| aws_error("ec2:DescribeVpcAttribute", e))?;
        let hostnames = hostnames.map_err(|e| aws_error("ec2:DescribeVpcAttribute", e))?;
        Ok((
            support
                .enable_dns_support()
                .and_then(|a| a.value())
                .unwrap_or(false),
            hostnames
                .enable_dns_hostnames()
                .and_then(|a| a.value())
                .unwrap_or(false),
        ))
    }
}
