//! The ports with every write refused: `status` runs the engine's
//! dry run on these, so a read-only command stays read-only even if the
//! dry run had a hole. Reads pass through unchanged (the same calls, the
//! same call log); a write comes back as [`Error::ReadOnly`] without
//! reaching AWS.

use crate::changes::ZoneChanges;
use crate::error::{Error, Result};
use crate::model::{
    DnsName, InstanceFacts, InstanceListing, InstanceState, RecordSet, RegistryItem, RegistryKey,
    TaskFacts, TaskListing, VpcFacts, ZoneId, ZoneInfo,
};
use crate::ports::{Dns, Instances, Registry, Tasks, Write};
use std::collections::BTreeSet;
use std::future::Future;

/// A port lent read-only.
#[derive(Debug, Clone, Copy)]
pub struct ReadOnly<'a, P>(pub &'a P);

fn refused(operation: &str) -> Error {
    Error::ReadOnly {
        operation: operation.to_string(),
    }
}

impl<P: Instances + Sync> Instances for ReadOnly<'_, P> {
    fn instance(
        &self,
        instance_id: &str,
    ) -> impl Future<Output = Result<Option<InstanceFacts>>> + Send {
        self.0.instance(instance_id)
    }

    fn vpc(&self, vpc_id: &str) -> impl Future<Output = Result<Option<VpcFacts>>> + Send {
        self.0.vpc(vpc_id)
    }

    fn all_instances(&self) -> impl Future<Output = Result<InstanceListing>> + Send {
        self.0.all_instances()
    }

    fn instances(
        &self,
        instance_ids: &[String],
    ) -> impl Future<Output = Result<InstanceListing>> + Send
    where
        Self: Sync,
    {
        self.0.instances(instance_ids)
    }
}

/// Tasks are only read: passed through.
impl<P: Tasks + Sync> Tasks for ReadOnly<'_, P> {
    fn task(
        &self,
        cluster_arn: &str,
        task_arn: &str,
    ) -> impl Future<Output = Result<Option<TaskFacts>>> + Send {
        self.0.task(cluster_arn, task_arn)
    }

    fn all_tasks(&self) -> impl Future<Output = Result<TaskListing>> + Send {
        self.0.all_tasks()
    }

    fn tasks_in(
        &self,
        cluster_arn: &str,
        task_arns: &[String],
    ) -> impl Future<Output = Result<Vec<TaskFacts>>> + Send {
        self.0.tasks_in(cluster_arn, task_arns)
    }

    fn covered(&self) -> bool {
        self.0.covered()
    }
}

impl<P: Dns + Sync> Dns for ReadOnly<'_, P> {
    fn zones_visible_from(
        &self,
        vpc_id: Option<&str>,
        region: &str,
    ) -> impl Future<Output = Result<Vec<ZoneInfo>>> + Send {
        self.0.zones_visible_from(vpc_id, region)
    }

    fn records_at(
        &self,
        zone_id: &ZoneId,
        names: &BTreeSet<DnsName>,
    ) -> impl Future<Output = Result<Vec<RecordSet>>> + Send {
        self.0.records_at(zone_id, names)
    }

    fn records_in(&self, zone_id: &ZoneId) -> impl Future<Output = Result<Vec<RecordSet>>> + Send {
        self.0.records_in(zone_id)
    }

    async fn apply(&self, _changes: &ZoneChanges) -> Result<()> {
        Err(refused("route53:ChangeResourceRecordSets"))
    }

    /// A read (GetChange): passed through.
    fn applied_in_sync(
        &self,
        since: tokio::time::Instant,
    ) -> impl Future<Output = Result<bool>> + Send {
        self.0.applied_in_sync(since)
    }

    fn applied_since(&self, since: tokio::time::Instant) -> Vec<String> {
        self.0.applied_since(since)
    }

    fn change_in_sync(&self, id: &str) -> impl Future<Output = Result<Option<bool>>> + Send {
        self.0.change_in_sync(id)
    }
}

impl<P: Registry + Sync> Registry for ReadOnly<'_, P> {
    fn load(&self, key: &RegistryKey) -> impl Future<Output = Result<Option<RegistryItem>>> + Send {
        self.0.load(key)
    }

    async fn save(&self, _item: &RegistryItem) -> Result<()> {
        Err(refused("dynamodb:PutItem"))
    }

    async fn remove(&self, _item: &RegistryItem) -> Result<()> {
        Err(refused("dynamodb:DeleteItem"))
    }

    fn load_many(
        &self,
        keys: &[RegistryKey],
    ) -> impl Future<Output = Result<Vec<RegistryItem>>> + Send
    where
        Self: Sync,
    {
        self.0.load_many(keys)
    }

    fn write_all(&self, _writes: &[Write<'_>]) -> impl Future<Output = Result<()>> + Send
    where
        Self: Sync,
    {
        std::future::ready(Err(refused("dynamodb:TransactWriteItems")))
    }

    /// Nothing is released: the engine then reads the item as any other.
    async fn release(
        &self,
        _key: &RegistryKey,
        _event_id: &str,
        _state: InstanceState,
    ) -> Result<Option<RegistryItem>> {
        Ok(None)
    }

    fn all(&self) -> impl Future<Output = Result<Vec<RegistryItem>>> + Send {
        self.0.all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A registry that answers reads and would panic on any write: the
    /// wrapper must never pass one through.
    struct Loud;

    impl Registry for Loud {
        async fn load(&self, _key: &RegistryKey) -> Result<Option<RegistryItem>> {
            Ok(None)
        }
        async fn save(&self, _item: &RegistryItem) -> Result<()> {
            unreachable!("a write reached the registry")
        }
        async fn remove(&self, _item: &RegistryItem) -> Result<()> {
            unreachable!("a write reached the registry")
        }
        async fn all(&self) -> Result<Vec<RegistryItem>> {
            Ok(Vec::new())
        }
    }

    /// A task port with one task listed.
    struct OneTask;

    impl Tasks for OneTask {
        async fn task(&self, _cluster_arn: &str, _task_arn: &str) -> Result<Option<TaskFacts>> {
            Ok(None)
        }
        async fn all_tasks(&self) -> Result<TaskListing> {
            Ok(TaskListing {
                tasks: Vec::new(),
                unreadable: vec!["a cluster".into()],
            })
        }
    }

    #[tokio::test]
    async fn task_reads_pass() {
        let tasks = ReadOnly(&OneTask);
        assert_eq!(tasks.task("c", "t").await.unwrap(), None);
        assert_eq!(tasks.all_tasks().await.unwrap().unreadable, ["a cluster"]);
    }

    #[tokio::test]
    async fn writes_are_refused_and_reads_pass() {
        let item = RegistryItem::default();
        let registry = ReadOnly(&Loud);
        assert_eq!(registry.load(&item.key).await.unwrap(), None);
        for e in [
            registry.save(&item).await.unwrap_err(),
            registry.remove(&item).await.unwrap_err(),
            registry.write_all(&[Write::Save(&item)]).await.unwrap_err(),
        ] {
            assert!(matches!(e, Error::ReadOnly { .. }), "{e}");
            assert!(!e.is_retryable(), "{e}");
        }
        assert_eq!(
            registry
                .release(&item.key, "e", InstanceState::Terminated)
                .await
                .unwrap(),
            None
        );
    }
}
