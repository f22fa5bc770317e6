//! The one place where event, facts, plan, apply and registry meet. Both the
//! Lambda function and the CLI call `Registrar::handle`.

use crate::backend::{Dns, Instances, Registry};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::event::{Action, StateChange};
use crate::facts::{OwnedRecord, RegistryItem, VpcFacts};
use crate::plan::{self, CurrentRecords, Plan, PlanInput};
use crate::summary::Summary;
use tracing::{info, warn};

/// The registrar, generic over its three backends so tests and world files
/// can hand it fakes.
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

impl<E: Instances + Sync, D: Dns + Sync, R: Registry + Sync> Registrar<E, D, R> {
    /// Handles one state change. `Err` only for failures; conflicts and
    /// rejections are part of a successful summary.
    pub async fn handle(&self, change: &StateChange) -> Result<Summary> {
        let summary = Summary::new(&change.event_id, &change.instance_id, &change.state);
        let mut summary = match change.action {
            Action::Ignore => summary.note(format!("state '{}' needs nothing", change.state)),
            Action::Register => self.register(change, summary).await?,
            Action::Deregister => self.deregister(change, summary).await?,
        };
        summary.dry_run = self.dry_run;
        info!(
            instance = %summary.instance_id,
            state = %summary.state,
            outcome = ?summary.outcome,
            changes = summary.changes.len(),
            conflicts = summary.conflicts.len(),
            "event handled"
        );
        Ok(summary)
    }

    /// `Some(note)` when the registry has already applied a newer event.
    fn stale(change: &StateChange, item: Option<&RegistryItem>) -> Option<String> {
        let last = item?.last_event_time.as_deref()?;
        let time = change.time.as_deref()?;
        (time < last).then(|| {
            format!(
                "event time {time} is older than the last event applied ({last}); nothing changed"
            )
        })
    }

    async fn read_current(
        &self,
        names: std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
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
            return Ok(summary.note(format!(
                "EC2 does not know instance {}; nothing to register",
                change.instance_id
            )));
        };
        if instance.state != "running" {
            return Ok(summary.note(format!(
                "the instance is now '{}', not running; its own event will handle it",
                instance.state
            )));
        }
        let zones = self
            .dns
            .zones_visible_from(instance.vpc_id.as_deref(), &self.region)
            .await?;
        let mut vpc = None;
        if let Some(vpc_id) = &instance.vpc_id {
            // The DHCP domain only matters when no ZONE tag gives the home domain.
            let dhcp_domain = if instance.tags.contains_key(&self.config.zone_tag) {
                None
            } else {
                self.ec2.dhcp_domain(vpc_id).await?
            };
            vpc = Some(VpcFacts {
                vpc_id: vpc_id.clone(),
                dhcp_domain,
                dns_support: true,
                dns_hostnames: true,
            });
        }
        let input = PlanInput {
            config: &self.config,
            instance: &instance,
            vpc: vpc.as_ref(),
            zones: &zones,
        };
        let mut targets = plan::targets(&input);
        if let Some(vpc_id) = &instance.vpc_id {
            if targets_use_private_zone(&targets) {
                let (support, hostnames) = self.ec2.dns_attributes(vpc_id).await?;
                if !support || !hostnames {
                    let msg = format!(
                        "VPC {vpc_id} has enableDnsSupport={support}, enableDnsHostnames={hostnames}: private hosted zones do not resolve inside it until both are true"
                    );
                    warn!("{msg}");
                    targets.notes.push(msg);
                }
            }
        }
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
        instance: &crate::facts::InstanceFacts,
        plan: Plan,
    ) -> Result<()> {
        let previous_records = item.as_ref().map(|i| i.records.clone()).unwrap_or_default();
        let mut version = item.as_ref().map(|i| i.version).unwrap_or(0);
        if plan.change_count() == 0 && plan.owned_after == previous_records {
            return Ok(());
        }
        let make_item = |records: &[OwnedRecord], version: u64| RegistryItem {
            instance_id: change.instance_id.clone(),
            records: records.to_vec(),
            last_event_time: change.time.clone(),
            last_event_id: Some(change.event_id.clone()),
            last_state: Some(change.state.clone()),
            version,
            private_ip: instance.private_ip.map(|ip| ip.to_string()),
            public_ip: instance.public_ip.map(|ip| ip.to_string()),
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
        let mut names: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> =
            Default::default();
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

fn targets_use_private_zone(t: &plan::Targets) -> bool {
    t.host.as_ref().is_some_and(|h| h.private_zone.is_some())
        || t.aliases.iter().any(|a| a.private_zone.is_some())
}

/// An error's summary line, for callers that report failures per event.
pub fn error_summary(change: Option<&StateChange>, error: &Error) -> Summary {
    let (id, instance, state) = change
        .map(|c| {
            (
                c.event_id.as_str(),
                c.instance_id.as_str(),
                c.state.as_str(),
            )
        })
        .unwrap_or(("", "", ""));
    Summary::new(id, instance, state).failed(error)
}
