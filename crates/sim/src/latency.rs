//! A fixed delay in front of every AWS call, for measuring the critical
//! path: with tokio's clock paused, the simulated time an invocation takes,
//! divided by the delay, is the number of round trips it waited for one
//! after the other (calls made at once wait together). Figures, never a
//! timed assertion: `examples/critical_path.rs` prints them.

use ec2_ddns_core::changes::ZoneChanges;
use ec2_ddns_core::error::Result;
use ec2_ddns_core::model::{
    DnsName, InstanceFacts, InstanceListing, InstanceState, RecordSet, RegistryItem, RegistryKey,
    VpcFacts, ZoneId, ZoneInfo,
};
use ec2_ddns_core::ports::{Dns, Instances, Registry, Write};
use std::collections::BTreeSet;
use std::time::Duration;

/// `inner` with `delay` before each call.
#[derive(Debug, Clone)]
pub struct Delayed<T> {
    pub inner: T,
    pub delay: Duration,
}

impl<T> Delayed<T> {
    pub fn new(inner: T, delay: Duration) -> Delayed<T> {
        Delayed { inner, delay }
    }

    async fn wait(&self) {
        tokio::time::sleep(self.delay).await;
    }
}

impl<T: Instances + Sync> Instances for Delayed<T> {
    async fn instance(&self, instance_id: &str) -> Result<Option<InstanceFacts>> {
        self.wait().await;
        self.inner.instance(instance_id).await
    }

    async fn vpc(&self, vpc_id: &str) -> Result<Option<VpcFacts>> {
        self.wait().await;
        self.inner.vpc(vpc_id).await
    }

    async fn all_instances(&self) -> Result<InstanceListing> {
        self.wait().await;
        self.inner.all_instances().await
    }

    async fn instances(&self, instance_ids: &[String]) -> Result<InstanceListing> {
        self.wait().await;
        self.inner.instances(instance_ids).await
    }
}

impl<T: Dns + Sync> Dns for Delayed<T> {
    async fn zones_visible_from(
        &self,
        vpc_id: Option<&str>,
        region: &str,
    ) -> Result<Vec<ZoneInfo>> {
        self.wait().await;
        self.inner.zones_visible_from(vpc_id, region).await
    }

    async fn records_at(
        &self,
        zone_id: &ZoneId,
        names: &BTreeSet<DnsName>,
    ) -> Result<Vec<RecordSet>> {
        self.wait().await;
        self.inner.records_at(zone_id, names).await
    }

    async fn records_in(&self, zone_id: &ZoneId) -> Result<Vec<RecordSet>> {
        self.wait().await;
        self.inner.records_in(zone_id).await
    }

    async fn apply(&self, changes: &ZoneChanges) -> Result<()> {
        self.wait().await;
        self.inner.apply(changes).await
    }
}

impl<T: Registry + Sync> Registry for Delayed<T> {
    async fn load(&self, key: &RegistryKey) -> Result<Option<RegistryItem>> {
        self.wait().await;
        self.inner.load(key).await
    }

    async fn save(&self, item: &RegistryItem) -> Result<()> {
        self.wait().await;
        self.inner.save(item).await
    }

    async fn remove(&self, item: &RegistryItem) -> Result<()> {
        self.wait().await;
        self.inner.remove(item).await
    }

    async fn load_many(&self, keys: &[RegistryKey]) -> Result<Vec<RegistryItem>> {
        self.wait().await;
        self.inner.load_many(keys).await
    }

    async fn write_all(&self, writes: &[Write<'_>]) -> Result<()> {
        self.wait().await;
        self.inner.write_all(writes).await
    }

    async fn release(
        &self,
        key: &RegistryKey,
        event_id: &str,
        state: InstanceState,
    ) -> Result<Option<RegistryItem>> {
        self.wait().await;
        self.inner.release(key, event_id, state).await
    }

    async fn all(&self) -> Result<Vec<RegistryItem>> {
        self.wait().await;
        self.inner.all().await
    }
}
