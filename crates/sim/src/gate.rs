//! Something in front of every port call of an account: a delay (the
//! critical path, `latency`), a turn given by a scheduler (invocations
//! interleaved, `schedule`), or one invocation's own faults (`fault_plan`).
//! One wrapper forwards every port; a [`Gate`] says what happens before
//! each call, and whether the call's answer is lost after it commits. The
//! ports of another place (`Instances::at`, `Tasks::at`: the organization
//! mode) keep the same gate, so a member's registrar takes the same turns
//! and meets the same faults as the invocation that made it.

use ec2_ddns_core::changes::ZoneChanges;
use ec2_ddns_core::error::{Error, Result};
use ec2_ddns_core::model::{
    DnsName, InstanceFacts, InstanceListing, InstanceState, Place, RecordSet, RegistryItem,
    RegistryKey, TaskFacts, TaskListing, VpcFacts, ZoneId, ZoneInfo,
};
use ec2_ddns_core::ports::{Dns, Guards, Instances, Registry, Tasks, Write};
use std::collections::BTreeSet;
use std::future::Future;

/// What runs before each call; `operation` names the port call as the AWS
/// operation it stands for (`route53:ChangeResourceRecordSets`). An `Err`
/// is the call's answer, and the call is not made.
pub trait Gate {
    fn before(&self, operation: &'static str) -> impl Future<Output = Result<Pass>> + Send;
}

/// What a gate lets a call do.
#[derive(Debug)]
pub enum Pass {
    /// Make the call; its answer is the answer.
    Go,
    /// Make the call, then answer this error instead: the change commits
    /// and its answer is lost (a 500 after the commit, a crash).
    ThenFail(Error),
}

impl Pass {
    /// The answer the caller gets for a call that answered `result`.
    pub fn answer<T>(self, result: Result<T>) -> Result<T> {
        match self {
            Pass::Go => result,
            Pass::ThenFail(err) => Err(err),
        }
    }

    /// Both gates' passes: the first lost answer wins.
    fn and(self, other: Pass) -> Pass {
        match self {
            Pass::Go => other,
            lost => lost,
        }
    }
}

/// Two gates, the first before the second (a turn, then a fault).
impl<A: Gate + Sync, B: Gate + Sync> Gate for (A, B) {
    async fn before(&self, operation: &'static str) -> Result<Pass> {
        let first = self.0.before(operation).await?;
        let second = self.1.before(operation).await?;
        Ok(first.and(second))
    }
}

/// `inner` with `gate` before each call.
#[derive(Debug, Clone)]
pub struct Gated<T, G> {
    pub inner: T,
    pub gate: G,
}

/// `place`'s ports behind the same gate (its clone: a turn and a fault
/// plan share their state with the original). Reaching the place is the
/// inner port's (the role assumed once, and kept): the gate sees the calls
/// made there, not the reaching.
impl<T: Instances + Send + Sync, G: Gate + Clone + Send + Sync> Instances for Gated<T, G> {
    async fn at(&self, place: &Place) -> Result<Self> {
        Ok(Gated {
            inner: self.inner.at(place).await?,
            gate: self.gate.clone(),
        })
    }

    async fn organization_accounts(&self) -> Result<Vec<String>> {
        let pass = self.gate.before("organizations:ListAccounts").await?;
        pass.answer(self.inner.organization_accounts().await)
    }

    async fn instance(&self, instance_id: &str) -> Result<Option<InstanceFacts>> {
        let pass = self.gate.before("ec2:DescribeInstances").await?;
        pass.answer(self.inner.instance(instance_id).await)
    }

    async fn vpc(&self, vpc_id: &str) -> Result<Option<VpcFacts>> {
        let pass = self.gate.before("ec2:DescribeVpcs").await?;
        pass.answer(self.inner.vpc(vpc_id).await)
    }

    async fn all_instances(&self) -> Result<InstanceListing> {
        let pass = self.gate.before("ec2:DescribeInstances").await?;
        pass.answer(self.inner.all_instances().await)
    }

    async fn instances(&self, instance_ids: &[String]) -> Result<InstanceListing> {
        let pass = self.gate.before("ec2:DescribeInstances").await?;
        pass.answer(self.inner.instances(instance_ids).await)
    }
}

/// The gate sees a task's read as its first call (DescribeTasks) and the
/// listing as ListTasks; the calls behind them are the inner port's.
impl<T: Tasks + Send + Sync, G: Gate + Clone + Send + Sync> Tasks for Gated<T, G> {
    async fn at(&self, place: &Place) -> Result<Self> {
        Ok(Gated {
            inner: self.inner.at(place).await?,
            gate: self.gate.clone(),
        })
    }

    async fn task(&self, cluster_arn: &str, task_arn: &str) -> Result<Option<TaskFacts>> {
        let pass = self.gate.before("ecs:DescribeTasks").await?;
        pass.answer(self.inner.task(cluster_arn, task_arn).await)
    }

    async fn all_tasks(&self) -> Result<TaskListing> {
        let pass = self.gate.before("ecs:ListTasks").await?;
        pass.answer(self.inner.all_tasks().await)
    }

    async fn tasks_in(&self, cluster_arn: &str, task_arns: &[String]) -> Result<Vec<TaskFacts>> {
        let pass = self.gate.before("ecs:DescribeTasks").await?;
        pass.answer(self.inner.tasks_in(cluster_arn, task_arns).await)
    }

    fn covered(&self) -> bool {
        self.inner.covered()
    }
}

impl<T: Dns + Sync, G: Gate + Sync> Dns for Gated<T, G> {
    async fn zones_visible_from(
        &self,
        vpc_id: Option<&str>,
        region: &str,
    ) -> Result<Vec<ZoneInfo>> {
        let pass = self.gate.before("route53:ListHostedZones").await?;
        pass.answer(self.inner.zones_visible_from(vpc_id, region).await)
    }

    async fn records_at(
        &self,
        zone_id: &ZoneId,
        names: &BTreeSet<DnsName>,
    ) -> Result<Vec<RecordSet>> {
        let pass = self.gate.before("route53:ListResourceRecordSets").await?;
        pass.answer(self.inner.records_at(zone_id, names).await)
    }

    async fn records_in(&self, zone_id: &ZoneId) -> Result<Vec<RecordSet>> {
        let pass = self.gate.before("route53:ListResourceRecordSets").await?;
        pass.answer(self.inner.records_in(zone_id).await)
    }

    async fn apply(&self, changes: &ZoneChanges) -> Result<()> {
        let pass = self.gate.before("route53:ChangeResourceRecordSets").await?;
        pass.answer(self.inner.apply(changes).await)
    }

    async fn applied_in_sync(&self, since: tokio::time::Instant) -> Result<bool> {
        let pass = self.gate.before("route53:GetChange").await?;
        pass.answer(self.inner.applied_in_sync(since).await)
    }

    fn applied_since(&self, since: tokio::time::Instant) -> Vec<String> {
        self.inner.applied_since(since)
    }

    async fn change_in_sync(&self, id: &str) -> Result<Option<bool>> {
        let pass = self.gate.before("route53:GetChange").await?;
        pass.answer(self.inner.change_in_sync(id).await)
    }
}

impl<T: Registry + Sync, G: Gate + Sync> Registry for Gated<T, G> {
    async fn load(&self, key: &RegistryKey) -> Result<Option<RegistryItem>> {
        let pass = self.gate.before("dynamodb:GetItem").await?;
        pass.answer(self.inner.load(key).await)
    }

    async fn save(&self, item: &RegistryItem) -> Result<()> {
        let pass = self.gate.before("dynamodb:PutItem").await?;
        pass.answer(self.inner.save(item).await)
    }

    async fn remove(&self, item: &RegistryItem) -> Result<()> {
        let pass = self.gate.before("dynamodb:DeleteItem").await?;
        pass.answer(self.inner.remove(item).await)
    }

    async fn load_many(&self, keys: &[RegistryKey]) -> Result<Vec<RegistryItem>> {
        let pass = self.gate.before("dynamodb:BatchGetItem").await?;
        pass.answer(self.inner.load_many(keys).await)
    }

    async fn write_all(&self, writes: &[Write<'_>]) -> Result<()> {
        let pass = self.gate.before("dynamodb:TransactWriteItems").await?;
        pass.answer(self.inner.write_all(writes).await)
    }

    async fn release(
        &self,
        key: &RegistryKey,
        event_id: &str,
        state: InstanceState,
    ) -> Result<Option<RegistryItem>> {
        let pass = self.gate.before("dynamodb:UpdateItem").await?;
        pass.answer(self.inner.release(key, event_id, state).await)
    }

    async fn all(&self) -> Result<Vec<RegistryItem>> {
        let pass = self.gate.before("dynamodb:Scan").await?;
        pass.answer(self.inner.all().await)
    }
}

impl<T: Guards + Sync, G: Gate + Sync> Guards for Gated<T, G> {
    async fn first_use(&self, host: &str, nonce: &str, now: i64, expires_at: i64) -> Result<bool> {
        let pass = self.gate.before("dynamodb:PutItem").await?;
        pass.answer(self.inner.first_use(host, nonce, now, expires_at).await)
    }

    async fn count_failure(
        &self,
        host: &str,
        source: std::net::IpAddr,
        now: i64,
        window_seconds: i64,
    ) -> Result<()> {
        let pass = self.gate.before("dynamodb:UpdateItem").await?;
        pass.answer(
            self.inner
                .count_failure(host, source, now, window_seconds)
                .await,
        )
    }

    async fn failures(
        &self,
        host: &str,
        source: std::net::IpAddr,
        now: i64,
        window_seconds: i64,
    ) -> Result<ec2_ddns_core::ports::Failures> {
        let pass = self.gate.before("dynamodb:GetItem").await?;
        pass.answer(self.inner.failures(host, source, now, window_seconds).await)
    }
}
