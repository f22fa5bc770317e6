//! The one place where event, facts, plan, apply and registry meet. The
//! Lambda handler, the CLI and the scenarios all call `Registrar::handle`.

use crate::config::Config;
use crate::error::Result;
use crate::event::{Action, StateChange};
use crate::model::{InstanceFacts, InstanceState, OwnedRecord, RegistryItem};
use crate::plan::{self, CurrentRecords, Plan, PlanInput};
use crate::ports::{Dns, Instances, Registry};
use crate::summary::Summary;
use std::collections::{BTreeMap, BTreeSet};
use tracing::info;

/// The registrar, generic over its three ports so the in-memory account
/// and the real AWS clients are interchangeable.
pub struct Registrar<E, D, R> {
    pub ec2: E,
    pub dns: D,
    pub registry: R,
    pub config: Config,
    /// Region of the VPCs, for private-zone associations.
    pub region: String,
    /// Read everything, plan, write nothing.
    pub dry_run: bool,
}

impl<E, D, R> Registrar<E, D, R> {
    /// The only way to build one: every adapter (AWS clients, the in-memory
    /// account, a test's fault-injecting wrapper) comes through here.
    pub fn new(ec2: E, dns: D, registry: R, config: Config, region: impl Into<String>) -> Self {
        Registrar {
            ec2,
            dns,
            registry,
            config,
            region: region.into(),
            dry_run: false,
        }
    }

    /// The same registrar, reading and planning but writing nothing.
    pub fn with_dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }
}

impl<E: Instances + Sync, D: Dns + Sync, R: Registry + Sync> Registrar<E, D, R> {
    /// Handles one state change. `Err` only for failures; conflicts and
    /// rejections are part of a successful summary.
    pub async fn handle(&self, change: &StateChange) -> Result<Summary> {
        let summary = Summary::of(change);
        let mut summary = match change.action() {
            Action::Ignore => summary.note(format!("state '{}' needs nothing", change.state)),
            Action::Register => self.register(change, summary).await?,
            Action::Deregister => self.deregister(change, summary).await?,
        };
        summary.dry_run = self.dry_run;
        info!(
            instance = %summary.instance_id,
            state = %change.state,
            outcome = summary.outcome.as_str(),
            changes = summary.changes.len(),
            conflicts = summary.conflicts.len(),
            "event handled"
        );
        Ok(summary)
    }

    /// `Some(note)` when the registry has already applied a newer event.
    /// An event without a time is never stale; it is judged by the live
    /// state alone.
    fn stale(change: &StateChange, item: Option<&RegistryItem>) -> Option<String> {
        let last = item?.last_event_time?;
        let time = change.time?;
        (time < last).then(|| {
            format!(
                "event time {} is older than the last event applied ({}); nothing changed",
                crate::model::format_time(&time),
                crate::model::format_time(&last)
            )
        })
    }

    async fn read_current(
        &self,
        names: BTreeMap<String, BTreeSet<String>>,
    ) -> Result<CurrentRecords> {
        let mut current = CurrentRecords::new();
        for (zone_id, names) in names {
            let records = self.dns.records_at(&zone_id, &names).await?;
            current.insert(zone_id, records);
        }
        Ok(current)
    }

    async fn register(&self, change: &StateChange, summary: Summary) -> Result<Summary> {
        let item = self.registry.load(&change.instance_id).await?;
        if let Some(note) = Self::stale(change, item.as_ref()) {
            return Ok(summary.note(note));
        }
        let Some(instance) = self.ec2.instance(&change.instance_id).await? else {
            return Ok(summary.warning(format!(
                "EC2 does not know instance {} in {}; nothing was registered (is the event from another account or region, or the instance id a placeholder?)",
                change.instance_id, self.region
            )));
        };
        if instance.state != InstanceState::Running {
            return Ok(summary.note(format!(
                "the instance is now '{}', not running; its own event will handle it",
                instance.state
            )));
        }
        let zones = self
            .dns
            .zones_visible_from(instance.vpc_id.as_deref(), &self.region)
            .await?;
        let vpc = match &instance.vpc_id {
            Some(vpc_id) => self.ec2.vpc(vpc_id).await?,
            None => None,
        };
        let input = PlanInput {
            config: &self.config,
            instance: &instance,
            vpc: vpc.as_ref(),
            zones: &zones,
        };
        let targets = plan::targets(&input);
        let owned = item.as_ref().map(|i| i.records.clone()).unwrap_or_default();
        let current = self.read_current(targets.names_to_read(&owned)).await?;
        let plan = plan::plan_register(&targets, &owned, &current, self.config.ttl);
        let summary = summary.with_plan(&plan);
        if self.dry_run {
            return Ok(summary);
        }
        self.apply_register(change, item, &instance, plan).await?;
        Ok(summary)
    }

    /// Write-ahead, then the DNS changes, then the final ownership: a crash
    /// at any point leaves every record we wrote listed in the registry.
    async fn apply_register(
        &self,
        change: &StateChange,
        item: Option<RegistryItem>,
        instance: &InstanceFacts,
        plan: Plan,
    ) -> Result<()> {
        let previous_records = item.as_ref().map(|i| i.records.clone()).unwrap_or_default();
        if plan.change_count() == 0 && plan.owned_after == previous_records {
            return Ok(());
        }
        let mut version = item.as_ref().map(|i| i.version).unwrap_or(0);
        // The stored time only moves forward: an event without a time (or an
        // equal one) never lets an older event through afterwards.
        let last_event_time = item
            .as_ref()
            .and_then(|i| i.last_event_time)
            .max(change.time);
        let make_item = |records: &[OwnedRecord], version: u64| RegistryItem {
            instance_id: change.instance_id.clone(),
            records: records.to_vec(),
            last_event_time,
            last_event_id: Some(change.event_id.clone()),
            last_state: Some(change.state),
            version,
            private_ip: instance.private_ip,
            public_ip: instance.public_ip,
            vpc_id: instance.vpc_id.clone(),
        };
        if plan.change_count() > 0 {
            version += 1;
            self.registry
                .save(&make_item(&plan.owned_during, version))
                .await?;
            for zone in &plan.zones {
                self.dns.apply(zone).await?;
            }
        }
        if plan.owned_after != plan.owned_during || plan.change_count() == 0 {
            version += 1;
            self.registry
                .save(&make_item(&plan.owned_after, version))
                .await?;
        }
        Ok(())
    }

    async fn deregister(&self, change: &StateChange, summary: Summary) -> Result<Summary> {
        let Some(item) = self.registry.load(&change.instance_id).await? else {
            return Ok(summary.note("no records registered for this instance"));
        };
        if let Some(note) = Self::stale(change, Some(&item)) {
            return Ok(summary.note(note));
        }
        let mut names: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for o in &item.records {
            names
                .entry(o.zone_id.clone())
                .or_default()
                .insert(o.record.name.clone());
        }
        let current = self.read_current(names).await?;
        let plan = plan::plan_deregister(&item.records, &current);
        let summary = summary.with_plan(&plan);
        if self.dry_run {
            return Ok(summary);
        }
        for zone in &plan.zones {
            self.dns.apply(zone).await?;
        }
        self.registry
            .remove(&item.instance_id, item.version)
            .await?;
        Ok(summary)
    }
}

#[cfg(test)]
mod tests {
    use crate::adapters::memory::MemoryAccount;
    use crate::event::{self, StateChange};
    use crate::model::{self, InstanceState};
    use crate::sim::world::World;
    use crate::summary::Outcome;
    use crate::Config;

    /// One private VPC with DHCP domain corp.example, its zone and reverse
    /// zone, and one instance whose tags each test sets.
    fn account(tags: serde_json::Value) -> MemoryAccount {
        let world = serde_json::json!({
            "vpcs": [{"id": "vpc-1", "cidr": "10.1.0.0/16", "dhcp_domain": "corp.example"}],
            "subnets": [{"id": "s-1", "vpc": "vpc-1", "cidr": "10.1.2.0/24"}],
            "zones": [
                {"id": "ZPRIV", "name": "corp.example.", "private": true, "vpcs": ["vpc-1"]},
                {"id": "ZREV", "name": "10.in-addr.arpa.", "private": true, "vpcs": ["vpc-1"]}
            ],
            "instances": [{"id": "i-1", "subnet": "s-1", "private_ip": "10.1.2.4", "tags": tags}]
        });
        MemoryAccount::new(World::parse("test world", &world.to_string()).expect("valid world"))
    }

    fn change(state: InstanceState, time: Option<&str>) -> StateChange {
        let time = time.map(|t| model::parse_time(t).expect("time"));
        event::parse(event::state_change_json(
            "e",
            "i-1",
            state,
            time,
            "us-east-1",
        ))
        .expect("event")
    }

    fn names(account: &MemoryAccount, zone: &str) -> Vec<String> {
        account.zone_records()[zone]
            .iter()
            .map(|r| r.to_string())
            .collect()
    }

    #[tokio::test]
    async fn a_zone_tag_naming_aws_s_own_suffix_still_reads_the_dhcp_domain() {
        for suffix in ["ec2.internal", "us-east-1.compute.internal"] {
            let account = account(serde_json::json!({"ZONE": suffix}));
            let s = account
                .registrar(Config::default())
                .handle(&change(
                    InstanceState::Running,
                    Some("2026-11-21T10:00:00Z"),
                ))
                .await
                .unwrap();
            assert_eq!(s.outcome, Outcome::Applied, "ZONE={suffix}: {s:?}");
            assert_eq!(
                names(&account, "ZPRIV"),
                ["ip-10-1-2-4.corp.example. A 60 10.1.2.4"]
            );
        }
    }

    #[tokio::test]
    async fn an_event_without_a_time_never_lets_an_older_event_through() {
        let account = account(serde_json::json!({}));
        let registrar = account.registrar(Config::default());
        registrar
            .handle(&change(
                InstanceState::Running,
                Some("2026-11-21T10:00:00Z"),
            ))
            .await
            .unwrap();
        // A tag is added and a running event without a time arrives: the
        // item is saved again, and must keep the newest time it knew.
        account.edit(|w| {
            w.instances[0]
                .tags
                .insert("CNAME".into(), "api.corp.example".into());
        });
        let s = registrar
            .handle(&change(InstanceState::Running, None))
            .await
            .unwrap();
        assert_eq!(s.outcome, Outcome::Applied, "{s:?}");
        let item = account.registry_items()["i-1"].clone();
        assert_eq!(
            item.last_event_time,
            model::parse_time("2026-11-21T10:00:00Z").ok()
        );
        // A stop from before the first event arrives late: nothing is deleted.
        let s = registrar
            .handle(&change(
                InstanceState::Stopped,
                Some("2026-11-21T09:00:00Z"),
            ))
            .await
            .unwrap();
        assert_eq!(s.outcome, Outcome::NothingToDo, "{s:?}");
        assert!(s.notes.iter().any(|n| n.contains("older")), "{s:?}");
        assert_eq!(names(&account, "ZPRIV").len(), 2, "A and CNAME still there");
    }

    #[tokio::test]
    async fn an_instance_ec2_does_not_know_is_a_warning() {
        let account = account(serde_json::json!({}));
        let mut unknown = change(InstanceState::Running, None);
        unknown.instance_id = "i-0nobody".into();
        let s = account
            .registrar(Config::default())
            .handle(&unknown)
            .await
            .unwrap();
        assert_eq!(s.outcome, Outcome::NothingToDo);
        assert!(
            s.warnings
                .iter()
                .any(|w| w.contains("EC2 does not know instance i-0nobody")),
            "{s:?}"
        );
    }
}
