//! A DDNS host's record (hosts outside EC2, `ddns`): set to an address, or
//! deleted with the host. The same book, write-ahead and settling as an
//! instance's records, so a crash between any two calls loses nothing and
//! a name someone else holds is never overwritten.

use super::book::{Book, Cause};
use super::read::Reads;
use super::subject::{HostWants, Subject, Wants};
use super::Registrar;
use crate::error::Result;
use crate::model::{HostSettings, RegistryItem, RegistryKey, ZoneInfo};
use crate::ports::{Dns, Registry};
use crate::summary::Summary;
use chrono::{DateTime, Utc};
use std::net::IpAddr;

impl<E: Sync, D: Dns + Sync, R: Registry + Sync> Registrar<E, D, R> {
    /// Sets the host's record at its name to `ip` (`A` or `AAAA` by its
    /// family), saving `settings` (its new counters) with the item. A
    /// name where anyone else holds a record of any type comes back as a
    /// conflict, untouched.
    pub async fn set_host_address(
        &self,
        item: RegistryItem,
        settings: HostSettings,
        ip: IpAddr,
        request_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Summary> {
        let key = item.key.clone();
        let wants = Wants::Host(HostWants {
            zone: ZoneInfo {
                id: settings.zone_id.clone(),
                name: settings.zone_name.clone(),
                private: false,
            },
            name: key.host_name().cloned().unwrap_or_default(),
            ip,
            ttl: settings.ttl,
        });
        let mut book = Book::open(cause(key, request_id, None), Some(item));
        book.meta.host = Some(settings);
        book.stamp_applied = Some(now);
        self.converge_host(book, request_id, wants).await
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
        let key = item.key.clone();
        let book = Book::open(cause(key, request_id, Some(now)), Some(item));
        self.converge_host(book, request_id, Wants::Nothing).await
    }

    /// The host as the engine's one subject.
    async fn converge_host(&self, book: Book, request_id: &str, wants: Wants) -> Result<Summary> {
        let summary = Summary::reconciled(request_id, &book.meta.key.to_string());
        let subject = Subject::new(book, summary.clone(), wants, 0);
        let done = self
            .converge_subjects(vec![subject], Reads::Names, None)
            .await;
        // One subject in, one result out.
        done.results
            .into_iter()
            .next()
            .map_or(Ok(summary), |c| c.into_result())
    }
}

fn cause(key: RegistryKey, request_id: &str, time: Option<DateTime<Utc>>) -> Cause<'_> {
    Cause {
        key,
        event_id: request_id,
        time,
        state: None,
    }
}
