//! EC2 in memory: instances and VPCs read from the world, with the calls
//! and pages the real client makes.

use super::MemoryAccount;
use ec2_ddns_core::error::Result;
use ec2_ddns_core::model::{InstanceFacts, InstanceListing, Place, VpcFacts};
use ec2_ddns_core::ports::Instances;

impl Instances for MemoryAccount {
    async fn instance(&self, instance_id: &str) -> Result<Option<InstanceFacts>> {
        self.read_call("ec2:DescribeInstances", None)?;
        let state = self.lock();
        let world = state.seen_from(self.place.as_ref());
        Ok(world
            .instances
            .iter()
            .find(|i| i.id == instance_id)
            .map(|i| world.instance_facts(i)))
    }

    /// The same four reads the real client makes: the VPC, its DHCP option
    /// set (when it has one of its own) and its two DNS attributes.
    async fn vpc(&self, vpc_id: &str) -> Result<Option<VpcFacts>> {
        self.read_call("ec2:DescribeVpcs", None)?;
        let found = self.lock().seen_from(self.place.as_ref()).vpc_facts(vpc_id);
        let Some(vpc) = found else {
            return Ok(None);
        };
        if vpc.dhcp_domain.is_some() {
            self.read_call("ec2:DescribeDhcpOptions", None)?;
        }
        self.read_call("ec2:DescribeVpcAttribute", None)?;
        self.read_call("ec2:DescribeVpcAttribute", None)?;
        Ok(Some(vpc))
    }

    /// One DescribeInstances per 200 ids, as the real client filters them.
    async fn instances(&self, instance_ids: &[String]) -> Result<InstanceListing> {
        self.pages(
            "ec2:DescribeInstances",
            instance_ids
                .len()
                .div_ceil(ec2_ddns_aws::ec2::IDS_PER_DESCRIBE),
        )?;
        Ok(self.listing(|id| instance_ids.iter().any(|i| i == id)))
    }

    /// One DescribeInstances per page of 1,000 (the API's largest page).
    async fn all_instances(&self) -> Result<InstanceListing> {
        let count = self.lock().seen_from(self.place.as_ref()).instances.len();
        self.pages("ec2:DescribeInstances", count.div_ceil(1000))?;
        Ok(self.listing(|_| true))
    }

    /// The world's member accounts (one ListAccounts).
    async fn organization_accounts(&self) -> Result<Vec<String>> {
        self.read_call("organizations:ListAccounts", None)?;
        let state = self.lock();
        let own = state.world.account_id().to_string();
        let mut accounts: Vec<String> = state
            .world
            .members
            .iter()
            .map(|m| m.account_id().to_string())
            .filter(|a| *a != own)
            .collect();
        accounts.dedup();
        Ok(accounts)
    }

    /// The member role assumed once per account (`members.rs`).
    async fn at(&self, place: &Place) -> Result<MemoryAccount> {
        self.reading(place)
    }
}

impl MemoryAccount {
    /// The world's instances whose id `wanted` takes, as EC2 lists them.
    fn listing(&self, wanted: impl Fn(&str) -> bool) -> InstanceListing {
        let state = self.lock();
        let world = state.seen_from(self.place.as_ref());
        InstanceListing {
            instances: world
                .instances
                .iter()
                .filter(|i| wanted(&i.id))
                .map(|i| world.instance_facts(i))
                .collect(),
            unreadable: Vec::new(),
        }
    }
}
