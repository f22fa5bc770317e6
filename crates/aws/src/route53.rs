//! Route 53 through the SDK: zones, the records at given names, one
//! ChangeResourceRecordSets per zone, and GetChange for the batches
//! applied (whether they reached every name server yet).
//!
//! ListHostedZones goes through the SDK's paginator. ListHostedZonesByVPC
//! and ListResourceRecordSets have none (the SDK generates paginators only
//! for single-token operations, and record listings resume from a name and
//! type pair), so those two loop over their tokens here.

use super::{aws_error, error_code};
use aws_sdk_route53::types::{self as r53, ChangeStatus, RrType, VpcRegion};
use ec2_ddns_core::changes::{ChangeAction, ZoneChanges};
use ec2_ddns_core::error::{Error, Result};
use ec2_ddns_core::model::{DnsName, RecordData, RecordSet, RecordType, Routing, ZoneId, ZoneInfo};
use ec2_ddns_core::ports::Dns;
use std::collections::BTreeSet;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::time::Instant;

pub struct Route53 {
    pub client: aws_sdk_route53::Client,
    /// The change ids (ChangeInfo.Id) of the batches this client applied
    /// and has not found in sync yet, with when each was answered, oldest
    /// first (`Dns::applied_in_sync`).
    applied: Mutex<Vec<(Instant, String)>>,
}

/// How long an applied batch's id is kept when no one asks about it: the
/// longest a Lambda invocation runs, so no invocation still running began
/// before a batch dropped (each asks only about its own: `since`), and a
/// warm process that never waits keeps a few minutes' ids, not every one.
const KEPT: Duration = Duration::from_secs(15 * 60);

impl Route53 {
    pub fn new(client: aws_sdk_route53::Client) -> Route53 {
        Route53 {
            client,
            applied: Mutex::new(Vec::new()),
        }
    }

    /// A poisoned lock only means another task panicked meanwhile; the ids
    /// are still plain data.
    fn applied(&self) -> MutexGuard<'_, Vec<(Instant, String)>> {
        self.applied.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Route 53 writes some characters as octal escapes (`\052` for `*`); the
/// registrar compares names in their plain form.
fn unescape(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let bytes = name.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\'
            && i + 3 < bytes.len()
            && bytes[i + 1..i + 4].iter().all(u8::is_ascii_digit)
        {
            if let Ok(code) = u8::from_str_radix(&name[i + 1..i + 4], 8) {
                out.push(code as char);
                i += 4;
                continue;
            }
        }
        out.push(bytes[i] as char);
        i += 1;
    }
    out
}

/// A record set's routing policy, from the field that names it.
fn routing_of(rr: &r53::ResourceRecordSet) -> Routing {
    let Some(set_id) = rr.set_identifier() else {
        return Routing::Simple;
    };
    let set_id = set_id.to_string();
    let policy = if rr.multi_value_answer() == Some(true) {
        return Routing::MultiValue { set_id };
    } else if rr.weight().is_some() {
        "weighted"
    } else if rr.region().is_some() {
        "latency"
    } else if rr.failover().is_some() {
        "failover"
    } else if rr.geo_location().is_some() {
        "geolocation"
    } else if rr.cidr_routing_config().is_some() {
        "ip-based"
    } else if rr.geo_proximity_location().is_some() {
        "geoproximity"
    } else {
        "unknown"
    };
    Routing::Other {
        policy: policy.into(),
        set_id,
    }
}

/// An SDK record set in the registrar's form.
fn to_record(rr: &r53::ResourceRecordSet) -> RecordSet {
    let name = unescape(rr.name());
    let rtype = RecordType::from(rr.r#type().as_str());
    let routing = routing_of(rr);
    if let Some(alias) = rr.alias_target() {
        return RecordSet::alias(&name, rtype, alias.dns_name()).with_routing(routing);
    }
    let ttl = rr
        .ttl()
        .unwrap_or(0)
        .clamp(0, i64::from(ec2_ddns_core::model::MAX_TTL)) as u32;
    RecordSet::new(
        &name,
        rtype,
        ttl,
        rr.resource_records()
            .iter()
            .map(|v| v.value().to_string())
            .collect(),
    )
    .with_routing(routing)
}

/// The service's error code of a failed attempt of one of the calls this
/// adapter makes, for the call counter's throttles (`CallCounter`), which
/// sees the error type-erased. A call added to the adapter is added here,
/// or its throttles go uncounted (its calls still are).
pub fn attempt_error_code(
    err: &aws_smithy_runtime_api::client::interceptors::context::Error,
) -> Option<&str> {
    use crate::attempt_code as code;
    use aws_sdk_route53::operation::{
        change_resource_record_sets::ChangeResourceRecordSetsError, get_change::GetChangeError,
        list_hosted_zones::ListHostedZonesError,
        list_hosted_zones_by_vpc::ListHostedZonesByVPCError,
        list_resource_record_sets::ListResourceRecordSetsError,
    };
    code::<ChangeResourceRecordSetsError>(err)
        .or_else(|| code::<ListResourceRecordSetsError>(err))
        .or_else(|| code::<ListHostedZonesError>(err))
        .or_else(|| code::<ListHostedZonesByVPCError>(err))
        .or_else(|| code::<GetChangeError>(err))
}

/// A batch that could not even be built, so nothing was sent: retrying
/// would build it the same way.
fn not_sent(zone_id: &str, message: impl std::fmt::Display) -> Error {
    Error::BatchRefused {
        zone_id: zone_id.to_string(),
        code: "NotSent".into(),
        message: message.to_string(),
    }
}

/// A record set as the SDK sends it. The registrar writes simple and
/// multivalue-answer record sets only; an alias or another routing policy
/// in a batch is a bug, refused before anything is sent.
fn to_sdk(record: &RecordSet, zone_id: &str) -> Result<r53::ResourceRecordSet> {
    let refuse = |message: String| not_sent(zone_id, message);
    let RecordData::Values { ttl, values } = &record.data else {
        return Err(refuse(format!(
            "{record}: the registrar never writes alias records"
        )));
    };
    let mut rrset = r53::ResourceRecordSet::builder()
        .name(&record.name)
        .r#type(RrType::from(record.rtype.as_str()))
        .ttl(i64::from(*ttl));
    match &record.routing {
        Routing::Simple => {}
        Routing::MultiValue { set_id } => {
            rrset = rrset.set_identifier(set_id).multi_value_answer(true);
        }
        Routing::Other { policy, .. } => {
            return Err(refuse(format!(
                "{record}: the registrar never writes {policy} record sets"
            )))
        }
    }
    for v in values {
        rrset = rrset.resource_records(
            r53::ResourceRecord::builder()
                .value(v)
                .build()
                .map_err(|e| refuse(format!("{record}: {e}")))?,
        );
    }
    rrset.build().map_err(|e| refuse(format!("{record}: {e}")))
}

/// Where the next page of a truncated listing starts: name, type, and the
/// set identifier when the page ended among record sets of one name and
/// type that have them (a group's); `None` after the last page.
fn next_start(
    page: &aws_sdk_route53::operation::list_resource_record_sets::ListResourceRecordSetsOutput,
) -> Option<(String, RrType, Option<String>)> {
    match (
        page.is_truncated(),
        page.next_record_name(),
        page.next_record_type(),
    ) {
        (true, Some(name), Some(rtype)) => Some((
            name.to_string(),
            rtype.clone(),
            page.next_record_identifier().map(str::to_string),
        )),
        _ => None,
    }
}

impl Route53 {
    /// Every hosted zone in the account, all pages.
    pub async fn all_zones(&self) -> Result<Vec<ZoneInfo>> {
        let mut zones = Vec::new();
        let mut pages = self.client.list_hosted_zones().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| aws_error("route53:ListHostedZones", e))?;
            zones.extend(page.hosted_zones().iter().map(|z| ZoneInfo {
                id: ZoneId::new(z.id()),
                name: DnsName::new(&unescape(z.name())),
                private: z.config().is_some_and(|c| c.private_zone()),
            }));
        }
        Ok(zones)
    }

    /// Ids of the private zones associated with the VPC, all pages.
    async fn zone_ids_for_vpc(&self, vpc_id: &str, region: &str) -> Result<BTreeSet<ZoneId>> {
        let mut ids = BTreeSet::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .list_hosted_zones_by_vpc()
                .vpc_id(vpc_id)
                .vpc_region(VpcRegion::from(region))
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| aws_error("route53:ListHostedZonesByVPC", e))?;
            ids.extend(
                page.hosted_zone_summaries()
                    .iter()
                    .map(|s| ZoneId::new(s.hosted_zone_id())),
            );
            match page.next_token() {
                Some(next) if !next.is_empty() => token = Some(next.to_string()),
                _ => break,
            }
        }
        Ok(ids)
    }

    /// The record sets at one name: a listing that starts at the name and
    /// stops as soon as it passes it. `None` when the zone is gone.
    async fn records_named(
        &self,
        zone_id: &ZoneId,
        name: &DnsName,
    ) -> Result<Option<Vec<RecordSet>>> {
        let mut found = Vec::new();
        let mut start: Option<(RrType, Option<String>)> = None;
        loop {
            let result = self
                .client
                .list_resource_record_sets()
                .hosted_zone_id(zone_id)
                .start_record_name(name)
                .set_start_record_type(start.as_ref().map(|s| s.0.clone()))
                .set_start_record_identifier(start.as_ref().and_then(|s| s.1.clone()))
                .max_items(20)
                .send()
                .await;
            let page = match result {
                Ok(page) => page,
                Err(e) if error_code(&e) == Some("NoSuchHostedZone") => return Ok(None),
                Err(e) => return Err(aws_error("route53:ListResourceRecordSets", e)),
            };
            let mut passed = false;
            for rr in page.resource_record_sets() {
                let record = to_record(rr);
                if record.name != *name {
                    passed = true;
                    break;
                }
                found.push(record);
            }
            match next_start(&page) {
                Some((next_name, next_type, next_id))
                    if !passed && DnsName::new(&next_name) == *name =>
                {
                    start = Some((next_type, next_id));
                }
                _ => break,
            }
        }
        Ok(Some(found))
    }

    /// Every record set in a zone, all pages of 300 (the largest Route 53
    /// gives): the reconcile, snapshots and tests. A zone that is gone
    /// holds nothing.
    pub async fn zone_records(&self, zone_id: &str) -> Result<Vec<RecordSet>> {
        let mut records = Vec::new();
        let mut start: Option<(String, RrType, Option<String>)> = None;
        loop {
            let result = self
                .client
                .list_resource_record_sets()
                .hosted_zone_id(zone_id)
                .max_items(300)
                .set_start_record_name(start.as_ref().map(|s| s.0.clone()))
                .set_start_record_type(start.as_ref().map(|s| s.1.clone()))
                .set_start_record_identifier(start.as_ref().and_then(|s| s.2.clone()))
                .send()
                .await;
            let page = match result {
                Ok(page) => page,
                Err(e) if error_code(&e) == Some("NoSuchHostedZone") => return Ok(Vec::new()),
                Err(e) => return Err(aws_error("route53:ListResourceRecordSets", e)),
            };
            records.extend(page.resource_record_sets().iter().map(to_record));
            match next_start(&page) {
                Some(next) => start = Some(next),
                _ => break,
            }
        }
        Ok(records)
    }
}

/// Names read one call each at most; more are read by listing the zone.
const NAMES_READ_ONE_BY_ONE: usize = 10;

impl Dns for Route53 {
    async fn zones_visible_from(
        &self,
        vpc_id: Option<&str>,
        region: &str,
    ) -> Result<Vec<ZoneInfo>> {
        let visible = async {
            match vpc_id {
                Some(vpc) => self.zone_ids_for_vpc(vpc, region).await,
                None => Ok(BTreeSet::new()),
            }
        };
        let (all, visible) = tokio::join!(self.all_zones(), visible);
        let (all, visible) = (all?, visible?);
        Ok(all
            .into_iter()
            .filter(|z| !z.private || visible.contains(&z.id))
            .collect())
    }

    /// One name: a listing from that name. Several names: one listing of the
    /// zone's first page (300 record sets), which for the usual small zone is
    /// all of it; only names that page cannot settle are listed one by one.
    async fn records_at(
        &self,
        zone_id: &ZoneId,
        names: &BTreeSet<DnsName>,
    ) -> Result<Vec<RecordSet>> {
        let mut records = Vec::new();
        let mut unsettled: Vec<&DnsName> = names.iter().collect();
        if names.len() > 1 {
            let page = match self
                .client
                .list_resource_record_sets()
                .hosted_zone_id(zone_id)
                .max_items(300)
                .send()
                .await
            {
                Ok(page) => page,
                Err(e) if error_code(&e) == Some("NoSuchHostedZone") => return Ok(Vec::new()),
                Err(e) => return Err(aws_error("route53:ListResourceRecordSets", e)),
            };
            let listed: Vec<RecordSet> =
                page.resource_record_sets().iter().map(to_record).collect();
            let last_name = listed.last().map(|r| r.name.clone());
            unsettled.retain(|name| {
                let found = listed.iter().any(|r| &&r.name == name);
                // A truncated page settles a name only if the name's records
                // are on it and the page does not end inside them.
                page.is_truncated() && (!found || last_name.as_ref() == Some(*name))
            });
            records.extend(
                listed
                    .into_iter()
                    .filter(|r| names.contains(&r.name) && !unsettled.contains(&&r.name)),
            );
        }
        if unsettled.len() > NAMES_READ_ONE_BY_ONE {
            // A merged batch's names: the whole zone, 300 a page, costs
            // fewer calls than one read per name.
            let all = self.records_in(zone_id).await?;
            return Ok(all
                .into_iter()
                .filter(|r| names.contains(&r.name))
                .collect());
        }
        for name in unsettled {
            match self.records_named(zone_id, name).await? {
                Some(found) => records.extend(found),
                None => return Ok(Vec::new()),
            }
        }
        Ok(records)
    }

    async fn records_in(&self, zone_id: &ZoneId) -> Result<Vec<RecordSet>> {
        self.zone_records(zone_id).await
    }

    async fn apply(&self, batch: &ZoneChanges) -> Result<()> {
        let mut changes = Vec::new();
        for c in &batch.changes {
            let action = match c.action {
                ChangeAction::Create => r53::ChangeAction::Create,
                ChangeAction::Upsert => r53::ChangeAction::Upsert,
                ChangeAction::Delete => r53::ChangeAction::Delete,
            };
            let change = r53::Change::builder()
                .action(action)
                .resource_record_set(to_sdk(&c.record, &batch.zone_id)?)
                .build();
            changes.push(change.map_err(|e| not_sent(&batch.zone_id, e))?);
        }
        let body = r53::ChangeBatch::builder()
            .comment("ec2-ddns")
            .set_changes(Some(changes))
            .build()
            .map_err(|e| not_sent(&batch.zone_id, e))?;
        // Sent once, never retried by the SDK: a retry of a batch that
        // committed before its answer was lost would be refused ("already
        // exists"), and its records taken for someone else's. The registrar
        // settles a lost answer by reading, and retries only what it knows
        // was not applied (`ec2_ddns_core::apply`).
        let once = aws_sdk_route53::config::Builder::default()
            .retry_config(aws_sdk_route53::config::retry::RetryConfig::disabled());
        let result = self
            .client
            .change_resource_record_sets()
            .hosted_zone_id(&batch.zone_id)
            .change_batch(body)
            .customize()
            .config_override(once)
            .send()
            .await;
        match result {
            Ok(answer) => {
                let now = Instant::now();
                let mut applied = self.applied();
                applied.retain(|(at, _)| now.saturating_duration_since(*at) < KEPT);
                if let Some(info) = answer.change_info() {
                    applied.push((now, info.id().to_string()));
                }
                Ok(())
            }
            Err(e) => match error_code(&e) {
                Some(code @ ("InvalidChangeBatch" | "InvalidInput")) => {
                    let message = aws_sdk_route53::error::ProvideErrorMetadata::message(&e)
                        .unwrap_or("no message")
                        .to_string();
                    tracing::debug!(error = %aws_sdk_route53::error::DisplayErrorContext(&e), "change batch refused");
                    Err(Error::route53_refusal(&batch.zone_id, code, &message))
                }
                _ => Err(aws_error("route53:ChangeResourceRecordSets", e)),
            },
        }
    }

    /// GetChange for each batch still propagating, oldest first, until one
    /// answers `PENDING`: the batches of one invocation go within
    /// moments of each other, so the younger ones are not asked about
    /// while an older one is still pending (each call spends the account's
    /// Route 53 request rate). The SDK retries a throttled GetChange
    /// itself, as any read.
    fn applied_since(&self, since: Instant) -> Vec<String> {
        self.applied()
            .iter()
            .filter(|(at, _)| *at >= since)
            .map(|(_, id)| id.clone())
            .collect()
    }

    /// One GetChange; `NoSuchChange` is `None`.
    async fn change_in_sync(&self, id: &str) -> Result<Option<bool>> {
        match self.client.get_change().id(id).send().await {
            Ok(answer) => {
                Ok(Some(answer.change_info().is_some_and(|info| {
                    *info.status() == ChangeStatus::Insync
                })))
            }
            Err(e) if super::error_code(&e) == Some("NoSuchChange") => Ok(None),
            Err(e) => Err(aws_error("route53:GetChange", e)),
        }
    }

    async fn applied_in_sync(&self, since: Instant) -> Result<bool> {
        let pending: Vec<String> = {
            let mut applied = self.applied();
            applied.retain(|(at, _)| *at >= since);
            applied.iter().map(|(_, id)| id.clone()).collect()
        };
        for id in pending {
            let answer = self
                .client
                .get_change()
                .id(&id)
                .send()
                .await
                .map_err(|e| aws_error("route53:GetChange", e))?;
            let in_sync = answer
                .change_info()
                .is_some_and(|info| *info.status() == ChangeStatus::Insync);
            if !in_sync {
                return Ok(false);
            }
            self.applied().retain(|(_, known)| *known != id);
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn unescape_octal() {
        assert_eq!(super::unescape("\\052.corp.example."), "*.corp.example.");
        assert_eq!(super::unescape("web.corp.example."), "web.corp.example.");
    }
}
