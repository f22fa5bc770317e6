//! Something in front of every port call of an account: a delay (the
//! critical path, `latency`), or a turn given by a scheduler (invocations
//! interleaved, `schedule`). One wrapper forwards every port; a [`Gate`]
//! says what happens before each call.

use ec2_ddns_core::changes::ZoneChanges;
use ec2_ddns_core::error::Result;
use ec2_ddns_core::model::{
    DnsName, InstanceFacts, InstanceListing, InstanceState, RecordSet, RegistryItem, RegistryKey,
    VpcFacts, ZoneId, ZoneInfo,
};
use ec2_ddns_core::ports::{Dns, Guards, Instances, Registry, Write};
use std::collections::BTreeSet;
use std::future::Future;

/// What runs before each call; `operation` names the port call as the AWS
/// operation it stands for (`route53:ChangeResourceRecordSets`).
pub trait Gate {
    fn before(&self, operation: &'static str) -> impl Future<Output = ()> + Send;
}

/// `inner` with `gate` before each call.
#[derive(Debug, Clone)]
pub struct Gated<T, G> {
    pub inner: T,
    pub gate: G,
}

impl<T: Instances + Sync, G: Gate + Sync> Instances for Gated<T, G> {
    async fn instance(&self, instance_id: &str) -> Result<Option<InstanceFacts>> {
        self.gate.before("ec2:DescribeInstances").await;
        self.inner.instance(instance_id).await
    }

    async fn vpc(&self, vpc_id: &str) -> Result<Option<VpcFacts>> {
        self.gate.before("ec2:DescribeVpcs").await;
        self.inner.vpc(vpc_id).await
    }

    async fn all_instances(&self) -> Result<InstanceListing> {
        self.gate.before("ec2:DescribeInstances").await;
        self.inner.all_instances().await
    }

    async fn instances(&self, instance_ids: &[String]) -> Result<InstanceListing> {
        self.gate.before("ec2:DescribeInstances").await;
        self.inner.instances(instance_ids).await
    }
}

impl<T: Dns + Sync, G: Gate + Sync> Dns for Gated<T, G> {
    async fn zones_visible_from(
        &self,
        vpc_id: Option<&str>,
        region: &str,
    ) -> Result<Vec<ZoneInfo>> {
        self.gate.before("route53:ListHostedZones").await;
        self.inner.zones_visible_from(vpc_id, region).await
    }

    async fn records_at(
        &self,
        zone_id: &ZoneId,
        names: &BTreeSet<DnsName>,
    ) -> Result<Vec<RecordSet>> {
        self.gate.before("route53:ListResourceRecordSets").await;
        self.inner.records_at(zone_id, names).await
    }

    async fn records_in(&self, zone_id: &ZoneId) -> Result<Vec<RecordSet>> {
        self.gate.before("route53:ListResourceRecordSets").await;
        self.inner.records_in(zone_id).await
    }

    async fn apply(&self, changes: &ZoneChanges) -> Result<()> {
        self.gate.before("route53:ChangeResourceRecordSets").await;
        self.inner.apply(changes).await
    }
}

impl<T: Registry + Sync, G: Gate + Sync> Registry for Gated<T, G> {
    async fn load(&self, key: &RegistryKey) -> Result<Option<RegistryItem>> {
        self.gate.before("dynamodb:GetItem").await;
        self.inner.load(key).await
    }

    async fn save(&self, item: &RegistryItem) -> Result<()> {
        self.gate.before("dynamodb:PutItem").await;
        self.inner.save(item).await
    }

    async fn remove(&self, item: &RegistryItem) -> Result<()> {
        self.gate.before("dynamodb:DeleteItem").await;
        self.inner.remove(item).await
    }

    async fn load_many(&self, keys: &[RegistryKey]) -> Result<Vec<RegistryItem>> {
        self.gate.before("dynamodb:BatchGetItem").await;
        self.inner.load_many(keys).await
    }

    async fn write_all(&self, writes: &[Write<'_>]) -> Result<()> {
        self.gate.before("dynamodb:TransactWriteItems").await;
        self.inner.write_all(writes).await
    }

    async fn release(
        &self,
        key: &RegistryKey,
        event_id: &str,
        state: InstanceState,
    ) -> Result<Option<RegistryItem>> {
        self.gate.before("dynamodb:UpdateItem").await;
        self.inner.release(key, event_id, state).await
    }

    async fn all(&self) -> Result<Vec<RegistryItem>> {
        self.gate.before("dynamodb:Scan").await;
        self.inner.all().await
    }
}

impl<T: Guards + Sync, G: Gate + Sync> Guards for Gated<T, G> {
    async fn first_use(&self, host: &str, nonce: &str, now: i64, expires_at: i64) -> Result<bool> {
        self.gate.before("dynamodb:PutItem").await;
        self.inner.first_use(host, nonce, now, expires_at).await
    }

    async fn count_failure(&self, host_key: &str, now: i64, window_seconds: i64) -> Result<()> {
        self.gate.before("dynamodb:UpdateItem").await;
        self.inner
            .count_failure(host_key, now, window_seconds)
            .await
    }
}
