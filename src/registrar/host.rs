//! A DDNS host's record (hosts outside EC2, `ddns`): set to an address, or
//! deleted with the host. The same book, write-ahead and settling as an
//! instance's records, so a crash between any two calls loses nothing and
//! a name someone else holds is never overwritten.

use super::book::{Book, Cause};
use super::Registrar;
use crate::error::Result;
use crate::model::{HostSettings, RecordType, RegistryItem, ZoneInfo};
use crate::plan::{self, Conflict, Observed, Plan};
use crate::ports::{Dns, Registry};
use crate::summary::Summary;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

impl<E: Sync, D: Dns + Sync, R: Registry + Sync> Registrar<E, D, R> {
    /// Sets the host's record at its name to `ip` (`A` or `AAAA` by its
    /// family), saving `settings` (its new counters) with the item. A
    /// name held by anyone else comes back as a conflict, untouched.
    pub async fn set_host_address(
        &self,
        item: RegistryItem,
        settings: HostSettings,
        ip: IpAddr,
        request_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Summary> {
        let key = item.instance_id.clone();
        let name = host_name(&key).to_string();
        let zone = ZoneInfo {
            id: settings.zone_id.clone(),
            name: settings.zone_name.clone(),
            private: false,
        };
        let ttl = settings.ttl;
        let mut book = Book::open(cause(&key, request_id, None), Some(item));
        book.meta.host = Some(settings);
        book.stamp_applied = Some(now);
        let mut seen = Observed::default();
        self.settle_unsettled(&mut book, &mut seen).await?;
        let summary = Summary::reconciled(request_id, &key);
        // The name is the host's only if everything at it is: a record of
        // any type someone else wrote (an instance's A, a person's TXT)
        // refuses the host, whatever type its address needs.
        let wanted = BTreeMap::from([(zone.id.clone(), BTreeSet::from([name.clone()]))]);
        self.read(&mut seen, wanted).await?;
        let foreign: Vec<String> = seen
            .at(&zone.id, &name)
            .unwrap_or_default()
            .into_iter()
            .filter(|r| {
                !book
                    .owned
                    .iter()
                    .chain(&book.pending)
                    .any(|o| o.zone_id == zone.id && o.record == **r)
            })
            .map(|r| r.rtype.to_string())
            .collect();
        if let Some(rtype) = foreign.first() {
            self.finish(&mut book, false).await?;
            let conflict = Conflict {
                zone_id: zone.id.clone(),
                zone_name: zone.name.clone(),
                name: name.clone(),
                rtype: RecordType::from(rtype.clone()),
                reason: format!(
                    "the name holds {} this host did not write; it is never overwritten",
                    foreign.join(", ")
                ),
            };
            return Ok(summary.with_plan(&Plan {
                conflicts: vec![conflict],
                ..Plan::default()
            }));
        }
        self.converge(
            &mut book,
            &mut seen,
            summary,
            false,
            |owned, unsettled, seen| plan::plan_host(&zone, &name, ip, owned, unsettled, seen, ttl),
        )
        .await
    }

    /// Deletes what the host owns (each record only while it is still as
    /// written) and removes its item; a record whose write was never
    /// settled keeps the item, named in the notes.
    pub async fn remove_host(
        &self,
        item: RegistryItem,
        request_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Summary> {
        let key = item.instance_id.clone();
        let mut book = Book::open(cause(&key, request_id, Some(now)), Some(item));
        let mut seen = Observed::default();
        let summary = Summary::reconciled(request_id, &key);
        self.deregister(&mut book, &mut seen, summary).await
    }
}

fn cause<'a>(key: &'a str, request_id: &'a str, time: Option<DateTime<Utc>>) -> Cause<'a> {
    Cause {
        instance_id: key,
        event_id: request_id,
        time,
        state: None,
    }
}

/// The host name inside a host's registry key.
fn host_name(key: &str) -> &str {
    key.strip_prefix(crate::ddns::host::HOST_KEY_PREFIX)
        .unwrap_or(key)
}
