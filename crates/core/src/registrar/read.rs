//! The facts subjects are planned from, read once for all of them and
//! concurrently where they do not depend on each other: the zones and VPC
//! facts of the instances that want records, and the records at the names
//! their plans need. A zone or VPC that cannot be read fails the subjects
//! that need it, and no one else.

use super::subject::Subject;
use super::Registrar;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::model::{DnsName, NamesByZone, ZoneId};
use crate::model::{InstanceFacts, VpcFacts, ZoneInfo};
use crate::plan::{self, Intent, Observed, PlanInput, Targets};
use crate::ports::{Dns, Instances};
use futures_util::future::join_all;
use std::collections::{BTreeMap, BTreeSet};
use tracing::warn;

/// How the zones are read before planning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reads {
    /// Only the names that must be read (unsettled records, names a plan
    /// cannot assume, names two or more subjects touch; in a dry run every
    /// name a plan touches): an event or a batch. Route 53 refuses what a
    /// plan did not expect, and the refusal's names are read then.
    Names,
    /// Every zone a subject touches, listed whole: the reconcile, which
    /// must see drift anywhere.
    WholeZones,
}

/// The zones and VPC facts of several instances, each VPC read once.
#[derive(Default)]
pub(crate) struct Surroundings {
    zones_of: BTreeMap<Option<String>, Vec<ZoneInfo>>,
    vpcs: BTreeMap<String, Option<VpcFacts>>,
    /// VPCs (or, for `None`, the public zones) that could not be read.
    failed: BTreeMap<Option<String>, Error>,
}

impl Surroundings {
    /// Reads the zones and the VPC facts of every VPC among `instances`,
    /// all at once.
    pub async fn read<E: Instances + Sync, D: Dns + Sync, R>(
        registrar: &Registrar<E, D, R>,
        instances: &[&InstanceFacts],
    ) -> Surroundings {
        let vpcs: BTreeSet<Option<String>> = instances.iter().map(|i| i.vpc_id.clone()).collect();
        let reads = vpcs.into_iter().map(|vpc_id| async move {
            let zones = registrar
                .dns
                .zones_visible_from(vpc_id.as_deref(), &registrar.region);
            let facts = async {
                match &vpc_id {
                    Some(id) => registrar.ec2.vpc(id).await,
                    None => Ok(None),
                }
            };
            let (zones, facts) = tokio::join!(zones, facts);
            (vpc_id, zones, facts)
        });
        let mut surroundings = Surroundings::default();
        for (vpc_id, zones, facts) in join_all(reads).await {
            match (zones, facts) {
                (Ok(zones), Ok(facts)) => {
                    if let Some(id) = &vpc_id {
                        surroundings.vpcs.insert(id.clone(), facts);
                    }
                    surroundings.zones_of.insert(vpc_id, zones);
                }
                (Err(e), _) | (_, Err(e)) => {
                    surroundings.failed.insert(vpc_id, e);
                }
            }
        }
        surroundings
    }

    /// Reads the zones and VPC facts of every registration among
    /// `intents` (the instances that want records), all at once.
    pub async fn of_registrations<'i, E: Instances + Sync, D: Dns + Sync, R>(
        registrar: &Registrar<E, D, R>,
        intents: impl IntoIterator<Item = &'i Intent>,
    ) -> Surroundings {
        let wanting: Vec<&InstanceFacts> = intents
            .into_iter()
            .filter_map(|intent| match intent {
                Intent::Register(facts) => Some(facts),
                _ => None,
            })
            .collect();
        Surroundings::read(registrar, &wanting).await
    }

    /// What `facts` should have, in the zones read for it; the failure
    /// when its VPC or zones could not be read.
    pub fn targets(&self, config: &Config, facts: &InstanceFacts) -> Result<Targets> {
        self.targets_named(config, facts, plan::DefaultName::FromPrivateDns)
    }

    /// [`Surroundings::targets`], its host name without a `HOSTNAME` tag
    /// from `default_name` (a task's template, or none).
    pub fn targets_named(
        &self,
        config: &Config,
        facts: &InstanceFacts,
        default_name: plan::DefaultName,
    ) -> Result<Targets> {
        if let Some(e) = self.failed.get(&facts.vpc_id) {
            return Err(e.clone());
        }
        Ok(plan::targets(&PlanInput {
            default_name,
            config,
            instance: facts,
            vpc: facts
                .vpc_id
                .as_ref()
                .and_then(|v| self.vpcs.get(v))
                .and_then(Option::as_ref),
            zones: self
                .zones_of
                .get(&facts.vpc_id)
                .map(Vec::as_slice)
                .unwrap_or_default(),
        }))
    }
}

impl<E: Sync, D: Dns + Sync, R: Sync> Registrar<E, D, R> {
    /// Reads what the subjects' plans need, every zone at once. A subject
    /// that needs a zone that could not be read gets that failure.
    pub(crate) async fn read_for(&self, subjects: &mut [Subject], reads: Reads) -> Observed {
        let touched: Vec<NamesByZone> = subjects.iter().map(Subject::names_touched).collect();
        let needs: Vec<NamesByZone> = match reads {
            Reads::WholeZones => touched,
            Reads::Names => {
                // A name several subjects touch (an alias two instances
                // want, a name one lets go and another takes) is read, so
                // that their plans hand it over in one merged change;
                // unread, each would plan as if alone, and Route 53 would
                // refuse all but one.
                let mut touches: BTreeMap<(&ZoneId, &DnsName), usize> = BTreeMap::new();
                for (zone, name) in touched.iter().flat_map(each_name) {
                    *touches.entry((zone, name)).or_default() += 1;
                }
                subjects
                    .iter()
                    .zip(&touched)
                    .map(|(s, all)| {
                        let mut names = s.names_needed();
                        for (zone, name) in each_name(all) {
                            if self.dry_run || touches[&(zone, name)] > 1 {
                                names.entry(zone.clone()).or_default().insert(name.clone());
                            }
                        }
                        names
                    })
                    .collect()
            }
        };
        let mut wanted: BTreeMap<&ZoneId, BTreeSet<&DnsName>> = BTreeMap::new();
        for (zone, names) in needs.iter().flatten() {
            wanted.entry(zone).or_default().extend(names);
        }
        let calls = wanted.into_iter().map(|(zone_id, names)| async move {
            let names: BTreeSet<DnsName> = names.into_iter().cloned().collect();
            let found = match reads {
                Reads::WholeZones => self.dns.records_in(zone_id).await,
                Reads::Names => self.dns.records_at(zone_id, &names).await,
            };
            (zone_id.clone(), names, found)
        });
        let mut seen = Observed::default();
        let mut unread: BTreeMap<ZoneId, Error> = BTreeMap::new();
        for (zone_id, names, found) in join_all(calls).await {
            match (found, reads) {
                (Ok(records), Reads::WholeZones) => seen.learn_zone(&zone_id, records),
                (Ok(records), Reads::Names) => seen.learn(&zone_id, &names, records),
                (Err(e), _) => {
                    warn!(zone = %zone_id, error = %e, "zone not read; the subjects that need it wait for the next attempt");
                    unread.insert(zone_id, e);
                }
            }
        }
        for (s, needed) in subjects.iter_mut().zip(&needs) {
            if s.failure.is_none() {
                s.failure = needed.keys().find_map(|z| unread.get(z)).cloned();
            }
        }
        seen
    }
}

/// Every (zone, name) of a zone → names map.
fn each_name(names: &NamesByZone) -> impl Iterator<Item = (&ZoneId, &DnsName)> {
    names
        .iter()
        .flat_map(|(zone, names)| names.iter().map(move |n| (zone, n)))
}
