//! A warm Lambda process's short memory of what rarely changes: the zones
//! an instance can be written into (and their VPC associations) and each
//! VPC's DHCP domain and DNS attributes. Kept for `DDNS_CACHE_SECONDS`
//! (default 60; 0 disables), so a warm invocation makes only the calls it
//! can't avoid: describe the instance, read and write its item, one change
//! per zone. Instances, tasks, records and registry items are never cached:
//! they are what the registrar converges.
//!
//! A change Route 53 refuses forgets the zones (a zone may have gone or
//! changed); otherwise a new zone or association is seen within the
//! cache's time, as docs/configuration.md says (`DDNS_CACHE_SECONDS`).

use crate::changes::ZoneChanges;
use crate::error::Result;
use crate::model::{
    DnsName, InstanceFacts, InstanceListing, Place, RecordSet, TaskFacts, TaskListing, VpcFacts,
    ZoneId, ZoneInfo,
};
use crate::ports::{Dns, Instances, Tasks};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Zones visible from a VPC (or none: public only) in a region, and when
/// they were read.
type ZoneEntries = HashMap<(Option<String>, String), (Instant, Vec<ZoneInfo>)>;

/// VPC facts by the place whose EC2 answered (`None`: the deployment's
/// own; a VPC id is unique only within its account) and VPC id.
type VpcEntries = HashMap<(Option<Place>, String), (Instant, VpcFacts)>;

/// A port with the cache in front of it. The same port at another place
/// ([`Instances::at`], the organization mode) shares the entries, so a
/// member account's VPCs stay remembered across invocations too.
pub struct Cached<T> {
    pub inner: T,
    ttl: Duration,
    place: Option<Place>,
    zones: Arc<Mutex<ZoneEntries>>,
    vpcs: Arc<Mutex<VpcEntries>>,
}

impl<T> Cached<T> {
    /// `inner` behind a cache whose entries live `ttl` (zero: no cache).
    pub fn new(inner: T, ttl: Duration) -> Cached<T> {
        Cached {
            inner,
            ttl,
            place: None,
            zones: Arc::default(),
            vpcs: Arc::default(),
        }
    }

    /// A poisoned lock only means another thread panicked meanwhile; the
    /// entries are still plain data.
    fn lock<V>(map: &Mutex<V>) -> MutexGuard<'_, V> {
        map.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn fresh(&self, at: Instant) -> bool {
        at.elapsed() < self.ttl
    }
}

impl<T: Instances + Sync> Instances for Cached<T> {
    async fn instance(&self, instance_id: &str) -> Result<Option<InstanceFacts>> {
        self.inner.instance(instance_id).await
    }

    /// A VPC EC2 does not know is not remembered: it may appear.
    async fn vpc(&self, vpc_id: &str) -> Result<Option<VpcFacts>> {
        let key = (self.place.clone(), vpc_id.to_string());
        let hit = Self::lock(&self.vpcs)
            .get(&key)
            .filter(|(at, _)| self.fresh(*at))
            .map(|(_, facts)| facts.clone());
        if let Some(facts) = hit {
            return Ok(Some(facts));
        }
        let found = self.inner.vpc(vpc_id).await?;
        if let (Some(facts), false) = (&found, self.ttl.is_zero()) {
            Self::lock(&self.vpcs).insert(key, (Instant::now(), facts.clone()));
        }
        Ok(found)
    }

    async fn all_instances(&self) -> Result<InstanceListing> {
        self.inner.all_instances().await
    }

    async fn instances(&self, instance_ids: &[String]) -> Result<InstanceListing> {
        self.inner.instances(instance_ids).await
    }

    async fn at(&self, place: &Place) -> Result<Self> {
        Ok(self.elsewhere(self.inner.at(place).await?, place))
    }

    async fn organization_accounts(&self) -> Result<Vec<String>> {
        self.inner.organization_accounts().await
    }
}

impl<T> Cached<T> {
    /// `inner`, reading `place`, behind this cache's entries.
    fn elsewhere(&self, inner: T, place: &Place) -> Cached<T> {
        Cached {
            inner,
            ttl: self.ttl,
            place: Some(place.clone()),
            zones: self.zones.clone(),
            vpcs: self.vpcs.clone(),
        }
    }
}

/// Never cached: tasks come and go too fast (a service replaces one in
/// seconds), and they are what the registrar converges.
impl<T: Tasks + Sync> Tasks for Cached<T> {
    async fn task(&self, cluster_arn: &str, task_arn: &str) -> Result<Option<TaskFacts>> {
        self.inner.task(cluster_arn, task_arn).await
    }

    async fn all_tasks(&self) -> Result<TaskListing> {
        self.inner.all_tasks().await
    }

    async fn tasks_in(&self, cluster_arn: &str, task_arns: &[String]) -> Result<Vec<TaskFacts>> {
        self.inner.tasks_in(cluster_arn, task_arns).await
    }

    fn covered(&self) -> bool {
        self.inner.covered()
    }

    async fn at(&self, place: &Place) -> Result<Self> {
        Ok(self.elsewhere(self.inner.at(place).await?, place))
    }
}

impl<T: Dns + Sync> Dns for Cached<T> {
    async fn zones_visible_from(
        &self,
        vpc_id: Option<&str>,
        region: &str,
    ) -> Result<Vec<ZoneInfo>> {
        let key = (vpc_id.map(str::to_string), region.to_string());
        let hit = Self::lock(&self.zones)
            .get(&key)
            .filter(|(at, _)| self.fresh(*at))
            .map(|(_, zones)| zones.clone());
        if let Some(zones) = hit {
            return Ok(zones);
        }
        let zones = self.inner.zones_visible_from(vpc_id, region).await?;
        if !self.ttl.is_zero() {
            Self::lock(&self.zones).insert(key, (Instant::now(), zones.clone()));
        }
        Ok(zones)
    }

    async fn records_at(
        &self,
        zone_id: &ZoneId,
        names: &BTreeSet<DnsName>,
    ) -> Result<Vec<RecordSet>> {
        self.inner.records_at(zone_id, names).await
    }

    async fn records_in(&self, zone_id: &ZoneId) -> Result<Vec<RecordSet>> {
        self.inner.records_in(zone_id).await
    }

    async fn apply(&self, changes: &ZoneChanges) -> Result<()> {
        let result = self.inner.apply(changes).await;
        // A refusal may mean a zone went or changed; a throttle or a 5xx
        // says nothing about zones, and forgetting them then would only
        // add reads while Route 53 asks us to slow down.
        let zones_may_differ = match &result {
            Err(crate::Error::ZoneChanged { .. } | crate::Error::BatchRefused { .. }) => true,
            Err(crate::Error::Aws { kind, .. }) => *kind == crate::error::Failure::NotFound,
            _ => false,
        };
        if zones_may_differ {
            Self::lock(&self.zones).clear();
        }
        result
    }

    /// Never cached: it is what a lifecycle hook waits on.
    async fn applied_in_sync(&self, since: tokio::time::Instant) -> Result<bool> {
        self.inner.applied_in_sync(since).await
    }

    fn applied_since(&self, since: tokio::time::Instant) -> Vec<String> {
        self.inner.applied_since(since)
    }

    /// Never cached: it is what changes.
    async fn change_in_sync(&self, id: &str) -> Result<Option<bool>> {
        self.inner.change_in_sync(id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A task port that counts its reads.
    #[derive(Default)]
    struct Counted(AtomicUsize);

    impl Tasks for Counted {
        async fn task(&self, _cluster_arn: &str, _task_arn: &str) -> Result<Option<TaskFacts>> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(None)
        }
        async fn all_tasks(&self) -> Result<TaskListing> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(TaskListing::default())
        }
    }

    /// Tasks are never cached: each read reaches the port.
    #[tokio::test]
    async fn tasks_pass_through_uncached() {
        let cached = Cached::new(Counted::default(), Duration::from_secs(60));
        for _ in 0..2 {
            assert_eq!(cached.task("c", "t").await.unwrap(), None);
            assert!(cached.all_tasks().await.unwrap().tasks.is_empty());
        }
        assert_eq!(cached.inner.0.load(Ordering::SeqCst), 4);
    }
}
