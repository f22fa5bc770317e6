//! The registry in DynamoDB: one item per instance, partition key
//! `InstanceId` (S). Writes are conditional on the version read, so two
//! invocations for one instance never overwrite each other.
//!
//! This file holds the calls and their conditions; `item` maps an item to
//! DynamoDB's attributes and back.

mod item;

pub use item::{av_to_json, from_item, json_to_av, to_item};

use super::aws_error;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::AttributeValue as AV;
use aws_sdk_dynamodb::types::{Delete, KeysAndAttributes, Put, TransactWriteItem};
use ec2_ddns_core::error::{Error, Failure, Result};
use ec2_ddns_core::model::{DnsName, ForeignItem, InstanceState, RegistryItem, RegistryKey};
use ec2_ddns_core::ports::{failure_keys, Failures, Guards, Registry, Write};
use item::s;
use std::collections::HashMap;
use std::fmt::Display;
use std::net::IpAddr;

pub struct DynamoRegistry {
    pub client: aws_sdk_dynamodb::Client,
    pub table: String,
}

/// The attribute the table's TTL reads (Unix seconds): nonces carry it.
pub const EXPIRES_AT: &str = "ExpiresAt";

/// The condition that the item under this key is still exactly `found`:
/// no `Version` (so not ours), and every attribute equal.
fn unchanged_condition(found: &ForeignItem) -> Condition {
    let mut parts = vec!["attribute_exists(InstanceId)".to_string()];
    let mut names = HashMap::new();
    let mut values = HashMap::new();
    if !found.attributes.contains_key("Version") {
        parts.push("attribute_not_exists(Version)".to_string());
    }
    for (i, (name, value)) in found.attributes.iter().enumerate() {
        names.insert(format!("#f{i}"), name.clone());
        match json_to_av(value) {
            Some(av) => {
                values.insert(format!(":f{i}"), av);
                parts.push(format!("#f{i} = :f{i}"));
            }
            None => parts.push(format!("attribute_exists(#f{i})")),
        }
    }
    Condition::new(
        parts.join(" AND "),
        Some(names).filter(|n| !n.is_empty()),
        Some(values).filter(|v| !v.is_empty()),
    )
}

type Names = Option<HashMap<String, String>>;
type Values = Option<HashMap<String, AV>>;

/// A conditional write's condition, as the SDK's builders take it.
struct Condition {
    expression: String,
    names: Names,
    values: Values,
}

impl Condition {
    fn new(expression: impl Into<String>, names: Names, values: Values) -> Condition {
        Condition {
            expression: expression.into(),
            names,
            values,
        }
    }
}

/// The condition for replacing or removing a foreign item: no item, or
/// still exactly the one read. (The SDK refuses empty maps, hence `None`.)
fn absent_or_unchanged(found: &ForeignItem) -> Condition {
    let unchanged = unchanged_condition(found);
    Condition::new(
        format!(
            "attribute_not_exists(InstanceId) OR ({})",
            unchanged.expression
        ),
        unchanged.names,
        unchanged.values,
    )
}

/// A conditional write's answer: its condition failing means another
/// invocation wrote the item since it was read (a race), any other failure
/// is the call's.
fn conditional<T, E>(
    answer: std::result::Result<T, aws_sdk_dynamodb::error::SdkError<E>>,
    item: &RegistryItem,
    operation: &str,
) -> Result<()>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    match answer {
        Ok(_) => Ok(()),
        Err(e) if super::error_code(&e) == Some("ConditionalCheckFailedException") => {
            Err(Error::RegistryRace {
                instance_id: item.key.to_string(),
            })
        }
        Err(e) => Err(aws_error(operation, e)),
    }
}

impl DynamoRegistry {
    /// The item under `key` as the table holds it (a consistent GetItem):
    /// what `load` reads, and what a release's read-back looks for its
    /// mark in.
    async fn stored(&self, key: &RegistryKey) -> Result<Option<HashMap<String, AV>>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("InstanceId", s(&key.stored()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| aws_error("dynamodb:GetItem", e))?;
        Ok(out.item)
    }
}

impl Registry for DynamoRegistry {
    async fn load(&self, key: &RegistryKey) -> Result<Option<RegistryItem>> {
        let found = self.stored(key).await?;
        Ok(found.map(|m| from_item(key, &m)))
    }

    /// A consistent scan, all pages. An item without a string `InstanceId`
    /// comes back under the key `""`.
    async fn all(&self) -> Result<Vec<RegistryItem>> {
        let mut items = Vec::new();
        let mut pages = self
            .client
            .scan()
            .table_name(&self.table)
            .consistent_read(true)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| aws_error("dynamodb:Scan", e))?;
            for map in page.items() {
                let id = map
                    .get("InstanceId")
                    .and_then(|v| v.as_s().ok())
                    .map(String::as_str)
                    .unwrap_or_default();
                let key = RegistryKey::parse(id);
                if !key.is_guard() {
                    items.push(from_item(&key, map));
                }
            }
        }
        Ok(items)
    }

    async fn save(&self, item: &RegistryItem) -> Result<()> {
        let Condition {
            expression: condition,
            names,
            values,
        } = save_condition(item);
        let request = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(item)))
            .condition_expression(condition)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values);
        conditional(request.send().await, item, "dynamodb:PutItem")
    }

    /// One UpdateItem: a `Releasing` mark unique to this call (every
    /// record the item lists reads as pending from now on, until a save
    /// writes the lists again and drops the mark), the version bumped and
    /// the event named, on an item of ours that no release marked yet (it
    /// has a Version, a list of Records, no mark); the item as it was
    /// comes back. The condition failing means no such item: `None`. An
    /// answer lost after the update may have committed is settled by
    /// reading the item back: this call's mark on it proves the release,
    /// and its lists are still as they were.
    async fn release(
        &self,
        key: &RegistryKey,
        event_id: &str,
        state: InstanceState,
    ) -> Result<Option<RegistryItem>> {
        let mut nonce = [0u8; 8];
        getrandom::getrandom(&mut nonce).map_err(|e| Error::Aws {
            operation: "dynamodb:UpdateItem".into(),
            code: None,
            message: format!("no randomness for the release mark: {e}"),
            kind: Failure::Transient,
        })?;
        let mark = format!(
            "{}#{}",
            ec2_ddns_core::names::clip(event_id),
            hex::encode(nonce)
        );
        let request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("InstanceId", s(&key.stored()))
            .update_expression(
                "SET Releasing = :mark, Version = Version + :one, LastEventId = :event, LastState = :state",
            )
            .condition_expression(
                "attribute_exists(Version) AND attribute_type(Records, :list) AND attribute_not_exists(Releasing)",
            )
            .expression_attribute_values(":mark", s(&mark))
            .expression_attribute_values(":one", AV::N("1".into()))
            .expression_attribute_values(":event", s(event_id))
            .expression_attribute_values(":state", s(state.as_str()))
            .expression_attribute_values(":list", s("L"))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld);
        let err = match request.send().await {
            Ok(out) => {
                return Ok(out
                    .attributes()
                    .map(|old| from_item(key, old))
                    .filter(|item| item.replaces.is_none()))
            }
            Err(e) if super::error_code(&e) == Some("ConditionalCheckFailedException") => {
                return Ok(None)
            }
            Err(e) => aws_error("dynamodb:UpdateItem", e),
        };
        let Ok(Some(mut map)) = self.stored(key).await else {
            return Err(err);
        };
        if map.get("Releasing").and_then(|v| v.as_s().ok()) != Some(&mark) {
            return Err(err);
        }
        // The item as it was: without the mark, at the version before.
        map.remove("Releasing");
        let item = from_item(key, &map);
        Ok(
            (item.replaces.is_none() && item.version > 1).then(|| RegistryItem {
                version: item.version - 1,
                ..item
            }),
        )
    }

    async fn remove(&self, item: &RegistryItem) -> Result<()> {
        let Condition {
            expression: condition,
            names,
            values,
        } = remove_condition(item);
        let request = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("InstanceId", s(&item.key.stored()))
            .condition_expression(condition)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values);
        conditional(request.send().await, item, "dynamodb:DeleteItem")
    }

    /// BatchGetItem, 100 keys per call, consistent reads; keys DynamoDB
    /// leaves unprocessed (throttled) are asked again, a few times.
    async fn load_many(&self, keys: &[RegistryKey]) -> Result<Vec<RegistryItem>> {
        // One item (an event in direct mode) is a GetItem.
        if let [only] = keys {
            return Ok(self.load(only).await?.into_iter().collect());
        }
        let mut found = Vec::new();
        for chunk in keys.chunks(KEYS_PER_BATCH_GET) {
            let keys: Vec<HashMap<String, AV>> = chunk
                .iter()
                .map(|key| HashMap::from([("InstanceId".to_string(), s(&key.stored()))]))
                .collect();
            let mut ask = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(keys))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| request_error("dynamodb:BatchGetItem", e))?,
            );
            let mut wait = std::time::Duration::from_millis(50);
            for attempt in 0.. {
                let Some(keys) = ask.take() else { break };
                if attempt == UNPROCESSED_ATTEMPTS {
                    return Err(Error::Aws {
                        operation: "dynamodb:BatchGetItem".into(),
                        code: None,
                        message: format!(
                            "{} keys still unprocessed after {UNPROCESSED_ATTEMPTS} attempts (the table is throttled)",
                            keys.keys().len()
                        ),
                        kind: Failure::Throttled,
                    });
                }
                if attempt > 0 {
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                }
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, keys)
                    .send()
                    .await
                    .map_err(|e| aws_error("dynamodb:BatchGetItem", e))?;
                for map in out
                    .responses()
                    .and_then(|r| r.get(&self.table))
                    .into_iter()
                    .flatten()
                {
                    if let Some(id) = map.get("InstanceId").and_then(|v| v.as_s().ok()) {
                        found.push(from_item(&RegistryKey::parse(id), map));
                    }
                }
                ask = out
                    .unprocessed_keys()
                    .and_then(|u| u.get(&self.table))
                    .filter(|k| !k.keys().is_empty())
                    .cloned();
            }
        }
        Ok(found)
    }

    /// One TransactWriteItems: the same conditions as `save` and `remove`,
    /// all or none. A cancellation for a failed condition names the first
    /// item whose condition failed.
    async fn write_all(&self, writes: &[Write<'_>]) -> Result<()> {
        let operation = "dynamodb:TransactWriteItems";
        let mut items = Vec::with_capacity(writes.len());
        for write in writes {
            let built = match write {
                Write::Save(item) => {
                    let Condition {
                        expression: condition,
                        names,
                        values,
                    } = save_condition(item);
                    Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(to_item(item)))
                        .condition_expression(condition)
                        .set_expression_attribute_names(names)
                        .set_expression_attribute_values(values)
                        .build()
                        .map(|p| TransactWriteItem::builder().put(p).build())
                }
                Write::Remove(item) => {
                    let Condition {
                        expression: condition,
                        names,
                        values,
                    } = remove_condition(item);
                    Delete::builder()
                        .table_name(&self.table)
                        .key("InstanceId", s(&item.key.stored()))
                        .condition_expression(condition)
                        .set_expression_attribute_names(names)
                        .set_expression_attribute_values(values)
                        .build()
                        .map(|d| TransactWriteItem::builder().delete(d).build())
                }
            };
            items.push(built.map_err(|e| request_error(operation, e))?);
        }
        let out = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        match out {
            Ok(_) => Ok(()),
            Err(e) => {
                let raced = e
                    .as_service_error()
                    .and_then(|s| match s {
                        TransactWriteItemsError::TransactionCanceledException(c) => Some(c),
                        _ => None,
                    })
                    .and_then(|c| {
                        c.cancellation_reasons()
                            .iter()
                            .position(|r| r.code() == Some("ConditionalCheckFailed"))
                    })
                    .and_then(|i| writes.get(i));
                match raced {
                    Some(write) => Err(Error::RegistryRace {
                        instance_id: write.key().to_string(),
                    }),
                    None => Err(aws_error(operation, e)),
                }
            }
        }
    }
}

/// A request the SDK would not build (a field missing): a bug, not retried.
fn request_error(operation: &str, e: impl Display) -> Error {
    Error::Aws {
        operation: operation.into(),
        code: None,
        message: format!("the request could not be built: {e}"),
        kind: Failure::Final,
    }
}

/// Keys per BatchGetItem call: DynamoDB's limit.
pub const KEYS_PER_BATCH_GET: usize = 100;

/// BatchGetItem calls per chunk while DynamoDB leaves keys unprocessed.
const UNPROCESSED_ATTEMPTS: u32 = 5;

/// `save`'s condition: the stored item is still the version this one
/// follows; for a first version, there is none, or it is still exactly the
/// foreign item read.
fn save_condition(item: &RegistryItem) -> Condition {
    let previous = item.version.saturating_sub(1);
    match (&item.replaces, previous) {
        (Some(found), 0) => absent_or_unchanged(found),
        (None, 0) => Condition::new("attribute_not_exists(InstanceId)", None, None),
        _ => Condition::new(
            "Version = :previous",
            None,
            Some(HashMap::from([(
                ":previous".to_string(),
                AV::N(previous.to_string()),
            )])),
        ),
    }
}

/// `remove`'s condition: no item, or still the version (or the foreign
/// item) read.
fn remove_condition(item: &RegistryItem) -> Condition {
    match &item.replaces {
        Some(found) => absent_or_unchanged(found),
        None => Condition::new(
            "attribute_not_exists(InstanceId) OR Version = :version",
            None,
            Some(HashMap::from([(
                ":version".to_string(),
                AV::N(item.version.to_string()),
            )])),
        ),
    }
}

impl Guards for DynamoRegistry {
    /// A conditional PutItem: no item under the nonce's key, or one that
    /// has expired but that DynamoDB's TTL has not deleted yet.
    async fn first_use(&self, host: &str, nonce: &str, now: i64, expires_at: i64) -> Result<bool> {
        let key = RegistryKey::Nonce {
            host: DnsName::new(host),
            nonce: nonce.to_string(),
        }
        .stored();
        let request = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("InstanceId", s(&key))
            .item(EXPIRES_AT, AV::N(expires_at.to_string()))
            .condition_expression("attribute_not_exists(InstanceId) OR #e < :now")
            .expression_attribute_names("#e", EXPIRES_AT)
            .expression_attribute_values(":now", AV::N(now.to_string()));
        match request.send().await {
            Ok(_) => Ok(true),
            Err(e) if super::error_code(&e) == Some("ConditionalCheckFailedException") => Ok(false),
            Err(e) => Err(aws_error("dynamodb:PutItem", e)),
        }
    }

    /// Two UpdateItems, at once: `ADD Failures :one` to each counter of
    /// the window (an increment, so parallel requests lose no count), its
    /// expiry set for the table's TTL.
    async fn count_failure(
        &self,
        host: &str,
        source: IpAddr,
        now: i64,
        window_seconds: i64,
    ) -> Result<()> {
        let (keys, expires_at) = failure_keys(host, source, now, window_seconds);
        let adds = keys.iter().map(|key| {
            self.client
                .update_item()
                .table_name(&self.table)
                .key("InstanceId", s(&key.stored()))
                .update_expression("ADD Failures :one SET #e = :expires")
                .expression_attribute_names("#e", EXPIRES_AT)
                .expression_attribute_values(":one", AV::N("1".into()))
                .expression_attribute_values(":expires", AV::N(expires_at.to_string()))
                .send()
        });
        for added in futures_util::future::join_all(adds).await {
            added.map_err(|e| aws_error("dynamodb:UpdateItem", e))?;
        }
        Ok(())
    }

    /// Two GetItems, at once (consistent reads): the counters of the
    /// window; an expired one DynamoDB's TTL has not deleted yet is 0.
    async fn failures(
        &self,
        host: &str,
        source: IpAddr,
        now: i64,
        window_seconds: i64,
    ) -> Result<Failures> {
        let (keys, _) = failure_keys(host, source, now, window_seconds);
        let gets = keys.iter().map(|key| {
            self.client
                .get_item()
                .table_name(&self.table)
                .key("InstanceId", s(&key.stored()))
                .consistent_read(true)
                .send()
        });
        let mut counts = [0u32; 2];
        for (count, got) in counts
            .iter_mut()
            .zip(futures_util::future::join_all(gets).await)
        {
            let got = got.map_err(|e| aws_error("dynamodb:GetItem", e))?;
            let number =
                |name: &str| -> Option<i64> { got.item()?.get(name)?.as_n().ok()?.parse().ok() };
            if number(EXPIRES_AT).is_none_or(|expires| expires > now) {
                *count = number("Failures")
                    .unwrap_or(0)
                    .clamp(0, i64::from(u32::MAX)) as u32;
            }
        }
        Ok(Failures {
            from_source: counts[0],
            host_from_source: counts[1],
        })
    }
}
