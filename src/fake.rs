//! Strict in-memory backends. They refuse what AWS refuses (a CREATE of an
//! existing record, a CNAME beside another record, a DELETE that does not
//! match exactly, a conditional write on a changed item), so a test that
//! passes here means something. Loaded from a world file, they are also the
//! `replay --world` feature.

use crate::backend::{Dns, Instances, Registry};
use crate::error::{Error, Result};
use crate::facts::{InstanceFacts, RecordSet, RecordType, RegistryItem, ZoneInfo};
use crate::names;
use crate::plan::{ChangeAction, ZoneChanges};
use crate::world::{World, WorldRecord};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};

/// Counts calls per AWS operation, shared by fakes and real clients so the
/// cost of an event can be reported.
#[derive(Debug, Clone, Default)]
pub struct CallLog(Arc<Mutex<BTreeMap<String, usize>>>);

impl CallLog {
    pub fn count(&self, operation: &str) {
        *lock(&self.0).entry(operation.to_string()).or_default() += 1;
    }
    /// Calls per operation since the last `take`, and resets.
    pub fn take(&self) -> BTreeMap<String, usize> {
        std::mem::take(&mut *lock(&self.0))
    }
}

/// A poisoned lock only means another test thread panicked; the data is
/// still usable for reporting.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The shared state of one in-memory account.
#[derive(Debug)]
pub struct FakeAccount {
    world: Mutex<World>,
    registry: Mutex<BTreeMap<String, RegistryItem>>,
    pub calls: CallLog,
}

/// A handle on a fake account; clone it for each backend role.
#[derive(Debug, Clone)]
pub struct Fake(pub Arc<FakeAccount>);

impl Fake {
    /// An account holding `world`; its `registry` items become the
    /// in-memory registry table.
    pub fn new(mut world: World) -> Fake {
        let registry = std::mem::take(&mut world.registry)
            .into_iter()
            .map(|item| (item.instance_id.clone(), item))
            .collect();
        Fake(Arc::new(FakeAccount {
            world: Mutex::new(world),
            registry: Mutex::new(registry),
            calls: CallLog::default(),
        }))
    }

    /// The registrar with this account behind all three backends.
    pub fn registrar(
        &self,
        config: crate::Config,
        region: &str,
        dry_run: bool,
    ) -> crate::registrar::Registrar<Fake, Fake, Fake> {
        crate::registrar::Registrar {
            ec2: self.clone(),
            dns: self.clone(),
            registry: self.clone(),
            config,
            region: region.to_string(),
            dry_run,
        }
    }

    /// The world as it is now, zones included.
    pub fn world(&self) -> World {
        lock(&self.0.world).clone()
    }

    /// Changes the world (a test's or scenario's hand on the account).
    pub fn edit(&self, f: impl FnOnce(&mut World)) {
        f(&mut lock(&self.0.world));
    }

    pub fn registry_items(&self) -> BTreeMap<String, RegistryItem> {
        lock(&self.0.registry).clone()
    }

    /// Zone id → its records, canonical and sorted.
    pub fn zone_records(&self) -> BTreeMap<String, Vec<RecordSet>> {
        lock(&self.0.world)
            .zones
            .iter()
            .map(|z| {
                let mut records: Vec<RecordSet> =
                    z.records.iter().map(WorldRecord::to_record).collect();
                records.sort();
                (World::zone_info(z).id, records)
            })
            .collect()
    }
}

impl Instances for Fake {
    async fn instance(&self, instance_id: &str) -> Result<Option<InstanceFacts>> {
        self.0.calls.count("ec2:DescribeInstances");
        let world = lock(&self.0.world);
        Ok(world
            .instances
            .iter()
            .find(|i| i.id == instance_id)
            .map(|i| world.instance_facts(i)))
    }

    async fn dhcp_domain(&self, vpc_id: &str) -> Result<Option<String>> {
        self.0.calls.count("ec2:DescribeVpcs");
        self.0.calls.count("ec2:DescribeDhcpOptions");
        let world = lock(&self.0.world);
        let vpc = world
            .vpc_facts(vpc_id)
            .ok_or_else(|| not_found("ec2:DescribeVpcs", vpc_id))?;
        Ok(vpc.dhcp_domain)
    }

    async fn dns_attributes(&self, vpc_id: &str) -> Result<(bool, bool)> {
        self.0.calls.count("ec2:DescribeVpcAttribute");
        self.0.calls.count("ec2:DescribeVpcAttribute");
        let world = lock(&self.0.world);
        let vpc = world
            .vpc_facts(vpc_id)
            .ok_or_else(|| not_found("ec2:DescribeVpcAttribute", vpc_id))?;
        Ok((vpc.dns_support, vpc.dns_hostnames))
    }
}

fn not_found(operation: &str, what: &str) -> Error {
    Error::Aws {
        operation: operation.into(),
        message: format!("{what} does not exist"),
        retryable: false,
    }
}

impl Dns for Fake {
    async fn zones_visible_from(
        &self,
        vpc_id: Option<&str>,
        _region: &str,
    ) -> Result<Vec<ZoneInfo>> {
        self.0.calls.count("route53:ListHostedZones");
        self.0.calls.count("route53:ListHostedZonesByVPC");
        let world = lock(&self.0.world);
        Ok(world
            .zones
            .iter()
            .filter(|z| !z.private || vpc_id.is_some_and(|v| z.vpcs.iter().any(|zv| zv == v)))
            .map(World::zone_info)
            .collect())
    }

    async fn records_at(&self, zone_id: &str, names: &BTreeSet<String>) -> Result<Vec<RecordSet>> {
        let world = lock(&self.0.world);
        // As the real client: one listing per zone (a small zone fits one page).
        self.0.calls.count("route53:ListResourceRecordSets");
        let Some(zone) = world
            .zones
            .iter()
            .find(|z| World::zone_info(z).id == zone_id)
        else {
            return Ok(Vec::new());
        };
        Ok(zone
            .records
            .iter()
            .map(WorldRecord::to_record)
            .filter(|r| names.contains(&r.name))
            .collect())
    }

    async fn apply(&self, batch: &ZoneChanges) -> Result<()> {
        self.0.calls.count("route53:ChangeResourceRecordSets");
        let mut world = lock(&self.0.world);
        let Some(zone) = world
            .zones
            .iter_mut()
            .find(|z| World::zone_info(z).id == batch.zone_id)
        else {
            return Err(Error::Aws {
                operation: "route53:ChangeResourceRecordSets".into(),
                message: format!("NoSuchHostedZone: no hosted zone {}", batch.zone_id),
                retryable: false,
            });
        };
        let zone_name = names::normalize(&zone.name);
        let mut records: Vec<RecordSet> = zone.records.iter().map(WorldRecord::to_record).collect();
        apply_strictly(&zone_name, &mut records, batch).map_err(|message| Error::ZoneChanged {
            zone_id: batch.zone_id.clone(),
            message: format!("InvalidChangeBatch: {message}"),
        })?;
        // The whole batch passed: commit it at once, as Route 53 does.
        zone.records = records.iter().map(WorldRecord::from_record).collect();
        Ok(())
    }
}

/// Applies a batch to `records` with Route 53's rules, or says which rule
/// it broke. The caller commits only on success, so batches are atomic.
pub fn apply_strictly(
    zone_name: &str,
    records: &mut Vec<RecordSet>,
    batch: &ZoneChanges,
) -> Result<(), String> {
    if batch.changes.is_empty() {
        return Err("a change batch needs at least one change".into());
    }
    if batch.changes.len() > 1000 {
        return Err("a change batch holds at most 1000 changes".into());
    }
    for change in &batch.changes {
        let r = change.record.canonical();
        if !names::is_within(&r.name, zone_name) {
            return Err(format!(
                "RRSet with DNS name {} is not permitted in zone {zone_name}",
                r.name
            ));
        }
        if r.values.is_empty() || !(0..=2_147_483_647).contains(&r.ttl) {
            return Err(format!(
                "RRSet {} {} needs values and a TTL in range",
                r.name, r.rtype
            ));
        }
        let same = records.iter().position(|x| x.same_slot(&r));
        match change.action {
            ChangeAction::Delete => match same {
                Some(i) if records[i] == r => {
                    records.remove(i);
                }
                Some(_) => {
                    return Err(format!(
                        "Tried to delete resource record set [name='{}', type='{}'] but the values provided do not match the current values",
                        r.name, r.rtype
                    ))
                }
                None => {
                    return Err(format!(
                        "Tried to delete resource record set [name='{}', type='{}'] but it was not found",
                        r.name, r.rtype
                    ))
                }
            },
            ChangeAction::Create | ChangeAction::Upsert => {
                if change.action == ChangeAction::Create && same.is_some() {
                    return Err(format!(
                        "Tried to create resource record set [name='{}', type='{}'] but it already exists",
                        r.name, r.rtype
                    ));
                }
                let others: Vec<&RecordSet> =
                    records.iter().filter(|x| x.name == r.name && x.rtype != r.rtype).collect();
                let cname_clash = if r.rtype == RecordType::Cname {
                    !others.is_empty()
                } else {
                    others.iter().any(|x| x.rtype == RecordType::Cname)
                };
                if cname_clash {
                    return Err(format!(
                        "RRSet of type {} with DNS name {} is not permitted because a conflicting RRSet of type {} with the same DNS name already exists",
                        r.rtype,
                        r.name,
                        others.iter().map(|x| x.rtype.as_str()).collect::<Vec<_>>().join(",")
                    ));
                }
                if let Some(i) = same {
                    records.remove(i);
                }
                records.push(r);
            }
        }
    }
    Ok(())
}

impl Registry for Fake {
    async fn load(&self, instance_id: &str) -> Result<Option<RegistryItem>> {
        self.0.calls.count("dynamodb:GetItem");
        Ok(lock(&self.0.registry).get(instance_id).cloned())
    }

    async fn save(&self, item: &RegistryItem) -> Result<()> {
        self.0.calls.count("dynamodb:PutItem");
        let mut registry = lock(&self.0.registry);
        let stored = registry.get(&item.instance_id).map(|i| i.version);
        let expected = item.version.checked_sub(1).filter(|v| *v > 0);
        if stored != expected {
            return Err(Error::RegistryRace {
                instance_id: item.instance_id.clone(),
            });
        }
        registry.insert(item.instance_id.clone(), item.clone());
        Ok(())
    }

    async fn remove(&self, instance_id: &str, version: u64) -> Result<()> {
        self.0.calls.count("dynamodb:DeleteItem");
        let mut registry = lock(&self.0.registry);
        match registry.get(instance_id) {
            Some(item) if item.version == version => {
                registry.remove(instance_id);
                Ok(())
            }
            Some(_) => Err(Error::RegistryRace {
                instance_id: instance_id.to_string(),
            }),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Change;

    fn r(name: &str, rtype: &str, ttl: i64, value: &str) -> RecordSet {
        RecordSet::new(name, RecordType::from(rtype), ttl, vec![value.into()])
    }

    fn batch(changes: Vec<(ChangeAction, RecordSet)>) -> ZoneChanges {
        ZoneChanges {
            zone_id: "Z1".into(),
            zone_name: "corp.example.".into(),
            changes: changes
                .into_iter()
                .map(|(action, record)| Change { action, record })
                .collect(),
        }
    }

    /// What Route 53 refuses, the fake refuses, and the zone is untouched.
    #[test]
    fn refuses_what_route53_refuses() {
        use ChangeAction::*;
        let existing = vec![
            r("a.corp.example.", "A", 60, "10.0.0.1"),
            r("c.corp.example.", "CNAME", 60, "x.example."),
        ];
        type Case<'a> = (&'a str, Vec<(ChangeAction, RecordSet)>, Option<&'a str>);
        let cases: Vec<Case> = vec![
            (
                "create of an existing record",
                vec![(Create, r("a.corp.example.", "A", 60, "10.0.0.2"))],
                Some("already exists"),
            ),
            (
                "CNAME beside an A",
                vec![(Create, r("a.corp.example.", "CNAME", 60, "y.example."))],
                Some("conflicting RRSet"),
            ),
            (
                "A beside a CNAME",
                vec![(Upsert, r("c.corp.example.", "A", 60, "10.0.0.3"))],
                Some("conflicting RRSet"),
            ),
            (
                "delete with other values",
                vec![(Delete, r("a.corp.example.", "A", 60, "10.0.0.9"))],
                Some("do not match"),
            ),
            (
                "delete with another TTL",
                vec![(Delete, r("a.corp.example.", "A", 300, "10.0.0.1"))],
                Some("do not match"),
            ),
            (
                "delete of a missing record",
                vec![(Delete, r("b.corp.example.", "A", 60, "10.0.0.1"))],
                Some("not found"),
            ),
            (
                "name outside the zone",
                vec![(Create, r("a.xcorp.example.", "A", 60, "10.0.0.1"))],
                Some("not permitted in zone"),
            ),
            (
                "a good change then a bad one: nothing applies",
                vec![
                    (Create, r("b.corp.example.", "A", 60, "10.0.0.5")),
                    (Delete, r("z.corp.example.", "A", 60, "1.1.1.1")),
                ],
                Some("not found"),
            ),
            (
                "delete then create of one name changes its type",
                vec![
                    (Delete, r("c.corp.example.", "CNAME", 60, "x.example.")),
                    (Create, r("c.corp.example.", "A", 60, "10.0.0.7")),
                ],
                None,
            ),
            (
                "exact delete",
                vec![(Delete, r("a.corp.example.", "A", 60, "10.0.0.1"))],
                None,
            ),
        ];
        for (what, changes, refusal) in cases {
            let mut records = existing.clone();
            let result = apply_strictly("corp.example.", &mut records, &batch(changes));
            match refusal {
                Some(needle) => {
                    let err = result.expect_err(what);
                    assert!(err.contains(needle), "{what}: {err}");
                }
                None => assert!(result.is_ok(), "{what}: {result:?}"),
            }
        }
    }

    #[tokio::test]
    async fn registry_refuses_stale_versions() {
        let fake = Fake::new(World::empty("us-east-1"));
        let mut item = RegistryItem {
            instance_id: "i-1".into(),
            version: 1,
            ..RegistryItem::default()
        };
        fake.save(&item).await.unwrap();
        assert!(
            matches!(fake.save(&item).await, Err(Error::RegistryRace { .. })),
            "version 1 twice"
        );
        item.version = 2;
        fake.save(&item).await.unwrap();
        assert!(matches!(
            fake.remove("i-1", 1).await,
            Err(Error::RegistryRace { .. })
        ));
        fake.remove("i-1", 2).await.unwrap();
        assert!(fake.load("i-1").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_world_registry_becomes_the_registry_table() {
        let item = RegistryItem {
            instance_id: "i-1".into(),
            version: 4,
            ..RegistryItem::default()
        };
        let fake = Fake::new(World {
            registry: vec![item.clone()],
            ..World::empty("us-east-1")
        });
        assert_eq!(fake.load("i-1").await.unwrap(), Some(item.clone()));
        assert!(fake.world().registry.is_empty(), "held once, in the table");
        // The loaded version is the one a conditional save must follow.
        let stale = RegistryItem {
            version: 4,
            ..item.clone()
        };
        assert!(matches!(
            fake.save(&stale).await,
            Err(Error::RegistryRace { .. })
        ));
        fake.save(&RegistryItem { version: 5, ..item })
            .await
            .unwrap();
    }
}
