//! The reads behind a status report. The plan is the engine's own: the
//! instance is converged as an event would converge it (a hint naming a
//! tag the registrar reads: the live state decides, as for any event),
//! and a host as its next update of the same address would be, both in
//! dry run on ports that refuse every write ([`ReadOnly`]). Then the
//! names the item lists and the names in conflict are read, and
//! `decide.rs` judges.

use super::decide::{self, Evidence, Foreign};
use super::read_only::ReadOnly;
use super::{
    Asked, HostView, InstanceView, ItemView, Listed, Planned, RecordStatus, Status, SubjectKind,
    TaskView, VpcView, ZoneView,
};
use crate::config::Config;
use crate::error::Result;
use crate::event::{EventKind, InstanceEvent, TaskEvent};
use crate::ids::{cluster_arn_of_task, is_task_arn, DnsName, NamesByZone, RegistryKey, ZoneId};
use crate::model::{format_time, InstanceFacts, RecordSet, RecordType, RegistryItem, TaskFacts};
use crate::ports::{Dns, Instances, NoTasks, Registry, Tasks};
use crate::registrar::{Registrar, Whereabouts};
use futures_util::future::join_all;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// The event id the dry run's summary carries.
const STATUS_EVENT: &str = "status";

/// The status of `asked`, read through `registrar`'s ports and settings.
/// Nothing is written, whatever `registrar` is (its dry-run flag is not
/// needed): the engine runs on read-only ports. `Err` when a read fails
/// (or when asked about a task: [`status_with`] takes the ECS port).
pub async fn status<E, D, R>(registrar: &Registrar<E, D, R>, asked: &Asked) -> Result<Status>
where
    E: Instances + Sync,
    D: Dns + Sync,
    R: Registry + Sync,
{
    status_with(registrar, &NoTasks, asked).await
}

/// [`status`], ECS tasks read through `tasks`.
pub async fn status_with<E, D, R, T>(
    registrar: &Registrar<E, D, R>,
    tasks: &T,
    asked: &Asked,
) -> Result<Status>
where
    E: Instances + Sync,
    D: Dns + Sync,
    R: Registry + Sync,
    T: Tasks + Sync,
{
    let dry = read_only(
        &registrar.ec2,
        &registrar.dns,
        &registrar.registry,
        registrar,
    );
    match asked {
        Asked::Instance(id) => instance(&dry, id).await,
        // A member account's instance (the organization mode): read there,
        // through the member role, as the function reads it.
        Asked::Placed {
            place,
            instance_id,
            shown,
        } => {
            let there = registrar.at(place).await?;
            let dry = read_only(&there.ec2, there.dns, there.registry, &there);
            let mut report = instance(&dry, instance_id).await?;
            report.subject = shown.clone();
            Ok(report)
        }
        Asked::Task(arn_or_id) => {
            // A member account's task: its ARN says where.
            let elsewhere = crate::event::task_arn_place(arn_or_id)
                .map(|(region, account)| registrar.whereabouts(Some(account), Some(region)));
            match elsewhere {
                Some(Whereabouts::At(place)) => {
                    let (there, tasks) = registrar.at_with(&place, tasks).await?;
                    let dry = read_only(&there.ec2, there.dns, there.registry, &there);
                    task(&dry, &ReadOnly(&tasks), arn_or_id).await
                }
                _ => task(&dry, &ReadOnly(tasks), arn_or_id).await,
            }
        }
        Asked::Host(name) => host(&dry, name).await,
    }
}

/// The dry-run registrar over `ec2`, `dns` and `registry`, each behind
/// [`ReadOnly`], with `like`'s settings and place.
fn read_only<'a, E, D, R, X, Y, Z>(
    ec2: &'a E,
    dns: &'a D,
    registry: &'a R,
    like: &Registrar<X, Y, Z>,
) -> Registrar<ReadOnly<'a, E>, ReadOnly<'a, D>, ReadOnly<'a, R>> {
    let mut dry = Registrar::new(
        ReadOnly(ec2),
        ReadOnly(dns),
        ReadOnly(registry),
        like.config.clone(),
        like.region.clone(),
    )
    .with_dry_run(true)
    .with_backoff(like.backoff)
    .with_clock(like.clock.clone());
    dry.place = like.place.clone();
    dry.home_account = like.home_account.clone();
    dry
}

/// A task: its ARN (found from its id in the registry, else among the
/// running tasks), its item and ECS's view, its VPC, the dry run of an
/// event about it (a hint that it runs: the live state decides), then its
/// records.
async fn task<E, D, R, T>(dry: &Registrar<E, D, R>, tasks: &T, asked: &str) -> Result<Status>
where
    E: Instances + Sync,
    D: Dns + Sync,
    R: Registry + Sync,
    T: Tasks + Sync,
{
    let arn = match is_task_arn(asked) {
        true => asked.to_string(),
        false => task_arn_of_id(dry, tasks, asked)
            .await?
            .unwrap_or_else(|| asked.to_string()),
    };
    let key = RegistryKey::task(&arn);
    let cluster = cluster_arn_of_task(&arn);
    let live = async {
        match &cluster {
            Some(cluster) if tasks.covered() => tasks.task(cluster, &arn).await,
            _ => Ok(None),
        }
    };
    let (item, live) = tokio::try_join!(dry.registry.load(&key), live)?;
    let vpc_id = live
        .as_ref()
        .and_then(|t| t.eni.as_ref())
        .and_then(|e| e.vpc_id.clone());
    let vpc = match vpc_id {
        Some(vpc_id) => Some(vpc_view(dry, &vpc_id).await?),
        None => None,
    };
    let mut plan = Planned::default();
    if let (Some(cluster), true) = (cluster, live.is_some() || item.is_some()) {
        let hint = TaskEvent {
            event_id: STATUS_EVENT.into(),
            task_arn: arn.clone(),
            cluster_arn: cluster,
            last_status: "RUNNING".into(),
            desired_status: "RUNNING".into(),
            time: None,
            region: Some(dry.region.clone()),
            account: None,
        };
        plan.add(&dry.handle_task(tasks, &hint).await?);
    }
    let judged = Judged {
        kind: SubjectKind::Task,
        known: live.is_some(),
        item: item.as_ref(),
        plan: &plan,
    };
    let (records, foreign) = judged.read(&dry.dns, NamesByZone::new()).await?;
    let mut status = judged.report(&arn, &dry.region, records, &foreign, None, vpc);
    status.task = live.as_ref().map(|t| task_view(t, &dry.config));
    Ok(status)
}

/// The ARN of the task whose id is `id`: from the registry's items of
/// tasks, else from the running tasks; `None` when neither knows it.
async fn task_arn_of_id<E, D, R, T>(
    dry: &Registrar<E, D, R>,
    tasks: &T,
    id: &str,
) -> Result<Option<String>>
where
    R: Registry + Sync,
    T: Tasks + Sync,
{
    let ends = |arn: &str| arn.rsplit('/').next() == Some(id);
    let items = dry.registry.all().await?;
    if let Some(arn) = items
        .iter()
        .filter_map(|i| i.key.task_arn())
        .find(|arn| ends(arn))
    {
        return Ok(Some(arn.to_string()));
    }
    if !tasks.covered() {
        return Ok(None);
    }
    Ok(tasks
        .all_tasks()
        .await?
        .tasks
        .into_iter()
        .map(|t| t.task_arn)
        .find(|arn| ends(arn)))
}

/// ECS's view, with only the tags the registrar reads.
fn task_view(t: &TaskFacts, config: &Config) -> TaskView {
    let read = config.tag_keys();
    let eni = t.eni.as_ref();
    TaskView {
        task_arn: t.task_arn.clone(),
        cluster_arn: t.cluster_arn.clone(),
        last_status: t.last_status.clone(),
        desired_status: t.desired_status.clone(),
        group: t.group.clone(),
        family: t.family.clone(),
        private_ip: eni.and_then(|e| e.private_ip),
        public_ip: eni.and_then(|e| e.public_ip),
        vpc_id: eni.and_then(|e| e.vpc_id.clone()),
        tags: t
            .tags
            .iter()
            .filter(|(k, _)| read.contains(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }
}

/// An instance: its item and EC2's view, its VPC, the dry run of an event
/// about it, then its records.
async fn instance<E, D, R>(dry: &Registrar<E, D, R>, id: &str) -> Result<Status>
where
    E: Instances + Sync,
    D: Dns + Sync,
    R: Registry + Sync,
{
    let key = dry.instance_key(id);
    let (item, live) = tokio::try_join!(dry.registry.load(&key), dry.ec2.instance(id))?;
    let vpc = match live.as_ref().and_then(|i| i.vpc_id.as_deref()) {
        Some(vpc_id) => Some(vpc_view(dry, vpc_id).await?),
        None => None,
    };
    let mut plan = Planned::default();
    // Neither EC2 nor the registry knows it: there is nothing to plan.
    if live.is_some() || item.is_some() {
        plan.add(
            &dry.handle(&converge_now(id, &dry.config, &dry.region))
                .await?,
        );
    }
    let judged = Judged {
        kind: SubjectKind::Instance,
        known: live.is_some(),
        item: item.as_ref(),
        plan: &plan,
    };
    let (records, foreign) = judged.read(&dry.dns, NamesByZone::new()).await?;
    Ok(judged.report(
        id,
        &dry.region,
        records,
        &foreign,
        live.as_ref().map(|i| instance_view(i, &dry.config)),
        vpc,
    ))
}

/// A DDNS host: its item, the dry run of an update that sets each address
/// it holds again, then its records and everything at its name.
async fn host<E, D, R>(dry: &Registrar<E, D, R>, name: &DnsName) -> Result<Status>
where
    E: Instances + Sync,
    D: Dns + Sync,
    R: Registry + Sync,
{
    let item = dry.registry.load(&RegistryKey::Host(name.clone())).await?;
    let mut plan = Planned::default();
    let mut at_name = NamesByZone::new();
    if let Some((item, settings)) = item.as_ref().and_then(|i| Some((i, i.host.clone()?))) {
        at_name
            .entry(settings.zone_id.clone())
            .or_default()
            .insert(name.clone());
        let now = (dry.clock)();
        for ip in addresses(item, &settings.zone_id, name) {
            let summary = dry
                .set_host_address(item.clone(), settings.clone(), ip, STATUS_EVENT, now)
                .await?;
            plan.add(&summary);
        }
    }
    let judged = Judged {
        kind: SubjectKind::Host,
        known: item.is_some(),
        item: item.as_ref(),
        plan: &plan,
    };
    let (records, foreign) = judged.read(&dry.dns, at_name).await?;
    let mut status = judged.report(name, &dry.region, records, &foreign, None, None);
    if item.is_none() {
        status.listed_by = listing(&dry.registry, name).await?;
    }
    Ok(status)
}

/// The event the dry run converges an instance with: a change of a tag
/// the registrar reads. Like every event it is only a hint (the live
/// state decides), and unlike a state change it is never held back
/// (`pending`) or taken for a termination.
fn converge_now(id: &str, config: &Config, region: &str) -> InstanceEvent {
    InstanceEvent {
        event_id: STATUS_EVENT.into(),
        instance_id: id.into(),
        kind: EventKind::TagChange(vec![config.zone_tag.clone()]),
        time: None,
        region: Some(region.into()),
        account: None,
    }
}

/// The addresses a host's item lists at its name (one per family, owned
/// first): what its next update of the same address would set.
fn addresses(item: &RegistryItem, zone_id: &ZoneId, name: &DnsName) -> Vec<IpAddr> {
    let mut found: Vec<IpAddr> = Vec::new();
    for o in item.listed() {
        if o.zone_id != *zone_id
            || o.record.name != *name
            || !matches!(o.record.rtype, RecordType::A | RecordType::Aaaa)
        {
            continue;
        }
        let ip = match o.record.values() {
            [one] => one.parse::<IpAddr>().ok(),
            _ => None,
        };
        if let Some(ip) = ip.filter(|ip| !found.iter().any(|f| f.is_ipv4() == ip.is_ipv4())) {
            found.push(ip);
        }
    }
    found
}

/// The keys of the items that list a record at `name`: when a name is no
/// DDNS host, the instance that owns it is the one to ask about.
async fn listing<R: Registry + Sync>(registry: &R, name: &DnsName) -> Result<Vec<String>> {
    let mut keys: Vec<String> = registry
        .all()
        .await?
        .into_iter()
        .filter(|i| i.listed().any(|o| o.record.name == *name))
        .map(|i| i.key.to_string())
        .collect();
    keys.sort();
    Ok(keys)
}

/// A VPC's DNS attributes and its private zones, read at once.
async fn vpc_view<E, D, R>(dry: &Registrar<E, D, R>, vpc_id: &str) -> Result<VpcView>
where
    E: Instances + Sync,
    D: Dns + Sync,
{
    let (facts, zones) = tokio::try_join!(
        dry.ec2.vpc(vpc_id),
        dry.dns.zones_visible_from(Some(vpc_id), &dry.region)
    )?;
    Ok(VpcView {
        vpc_id: vpc_id.to_string(),
        dns_support: facts.as_ref().map(|f| f.dns_support),
        dns_hostnames: facts.as_ref().map(|f| f.dns_hostnames),
        dhcp_domain: facts.and_then(|f| f.dhcp_domain),
        private_zones: zones
            .into_iter()
            .filter(|z| z.private)
            .map(|z| ZoneView {
                zone_id: z.id,
                zone_name: z.name,
            })
            .collect(),
    })
}

/// EC2's view, with only the tags the registrar reads (and `Name`).
fn instance_view(i: &InstanceFacts, config: &Config) -> InstanceView {
    let read = config.tag_keys();
    InstanceView {
        instance_id: i.instance_id.clone(),
        name: i.tags.get("Name").cloned(),
        state: i.state,
        private_ip: i.private_ip,
        public_ip: i.public_ip,
        private_dns_name: i.private_dns_name.clone(),
        vpc_id: i.vpc_id.clone(),
        tags: i
            .tags
            .iter()
            .filter(|(k, _)| read.contains(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }
}

/// The item as stored, without a host's secret or counters.
fn item_view(item: &RegistryItem) -> ItemView {
    ItemView {
        key: item.key.to_string(),
        version: item.version,
        last_event_id: item.last_event_id.clone(),
        last_event_time: item.last_event_time.as_ref().map(format_time),
        last_state: item.last_state,
        private_ip: item.private_ip,
        public_ip: item.public_ip,
        vpc_id: item.vpc_id.clone(),
        pending_since: item.pending_since.as_ref().map(format_time),
        foreign: item.replaces.as_ref().map(|f| f.note()),
        host: item.host.as_ref().map(|h| HostView {
            zone_id: h.zone_id.clone(),
            zone_name: h.zone_name.clone(),
            ttl: h.ttl,
            created: h.created.as_ref().map(format_time),
        }),
    }
}

/// A subject with its item and plan, to be judged against Route 53.
struct Judged<'a> {
    kind: SubjectKind,
    known: bool,
    item: Option<&'a RegistryItem>,
    plan: &'a Planned,
}

impl Judged<'_> {
    /// Reads the names the item lists, the names in conflict and `more`,
    /// every zone at once: each listed record's standing, and the records
    /// that block the conflicts.
    async fn read<D: Dns + Sync>(
        &self,
        dns: &D,
        mut more: NamesByZone,
    ) -> Result<(Vec<RecordStatus>, Vec<Foreign>)> {
        let listed: Vec<(Listed, &crate::model::OwnedRecord)> = self
            .item
            .map(|i| {
                let owned = i.records.iter().map(|o| (Listed::Owned, o));
                owned
                    .chain(i.pending.iter().map(|o| (Listed::Pending, o)))
                    .collect()
            })
            .unwrap_or_default();
        for (_, o) in &listed {
            more.entry(o.zone_id.clone())
                .or_default()
                .insert(o.record.name.clone());
        }
        for c in &self.plan.conflicts {
            more.entry(c.zone_id.clone())
                .or_default()
                .insert(c.name.clone());
        }
        let reads = more.iter().map(|(zone_id, names)| async move {
            (zone_id.clone(), dns.records_at(zone_id, names).await)
        });
        let mut seen: BTreeMap<ZoneId, Vec<RecordSet>> = BTreeMap::new();
        for (zone_id, found) in join_all(reads).await {
            seen.insert(zone_id, found?);
        }
        let at = |zone_id: &ZoneId, name: &DnsName| -> Vec<RecordSet> {
            seen.get(zone_id)
                .map(|records| {
                    records
                        .iter()
                        .filter(|r| r.name == *name)
                        .cloned()
                        .collect()
                })
                .unwrap_or_default()
        };
        let records = listed
            .iter()
            .map(|(how, o)| {
                let standing = decide::standing(&o.record, &at(&o.zone_id, &o.record.name));
                RecordStatus::of(*how, o, standing)
            })
            .collect();
        let all_listed: Vec<crate::model::OwnedRecord> = self
            .item
            .map(|i| i.listed().cloned().collect())
            .unwrap_or_default();
        let mut foreign: Vec<Foreign> = Vec::new();
        for c in &self.plan.conflicts {
            for record in decide::foreign_at(c, self.kind, &at(&c.zone_id, &c.name), &all_listed) {
                let f = Foreign {
                    zone_id: c.zone_id.clone(),
                    zone_name: c.zone_name.clone(),
                    record,
                };
                if !foreign.contains(&f) {
                    foreign.push(f);
                }
            }
        }
        Ok((records, foreign))
    }

    /// The report, with the verdict, its reason and its fixes decided.
    fn report(
        &self,
        subject: &str,
        region: &str,
        records: Vec<RecordStatus>,
        foreign: &[Foreign],
        instance: Option<InstanceView>,
        vpc: Option<VpcView>,
    ) -> Status {
        let evidence = Evidence {
            kind: self.kind,
            known: self.known,
            has_item: self.item.is_some(),
            records: &records,
            plan: self.plan,
            foreign,
        };
        let verdict = decide::verdict(&evidence);
        Status {
            subject: subject.to_string(),
            kind: self.kind,
            region: region.to_string(),
            verdict,
            reason: decide::explain(&evidence, verdict),
            fixes: decide::fixes(&evidence),
            instance,
            task: None,
            vpc,
            item: self.item.map(item_view),
            records,
            plan: self.plan.clone(),
            listed_by: Vec::new(),
        }
    }
}
