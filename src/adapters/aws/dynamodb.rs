//! The registry in DynamoDB: one item per instance, partition key
//! `InstanceId` (S). Writes are conditional on the version read, so two
//! invocations for one instance never overwrite each other.

use super::aws_error;
use crate::error::{Error, Result};
use crate::model::{self, OwnedRecord, RecordSet, RecordType, RegistryItem};
use crate::ports::Registry;
use aws_sdk_dynamodb::types::AttributeValue as AV;
use std::collections::HashMap;
use std::fmt::Display;

pub struct DynamoRegistry {
    pub client: aws_sdk_dynamodb::Client,
    pub table: String,
}

fn s(v: &str) -> AV {
    AV::S(v.to_string())
}

fn opt(map: &mut HashMap<String, AV>, key: &str, v: Option<impl Display>) {
    if let Some(v) = v {
        map.insert(key.to_string(), s(&v.to_string()));
    }
}

/// The item as stored: plain attributes a person can read in the console.
pub fn to_item(item: &RegistryItem) -> HashMap<String, AV> {
    let records = item
        .records
        .iter()
        .map(|o| {
            AV::M(HashMap::from([
                ("ZoneId".to_string(), s(&o.zone_id)),
                ("ZoneName".to_string(), s(&o.zone_name)),
                ("Name".to_string(), s(&o.record.name)),
                ("Type".to_string(), s(o.record.rtype.as_str())),
                (
                    "TTL".to_string(),
                    AV::N(o.record.ttl().unwrap_or(0).to_string()),
                ),
                (
                    "Values".to_string(),
                    AV::L(o.record.values().iter().map(|v| s(v)).collect()),
                ),
            ]))
        })
        .collect();
    let mut map = HashMap::from([
        ("InstanceId".to_string(), s(&item.instance_id)),
        ("Records".to_string(), AV::L(records)),
        ("Version".to_string(), AV::N(item.version.to_string())),
    ]);
    opt(
        &mut map,
        "LastEventTime",
        item.last_event_time.as_ref().map(model::format_time),
    );
    opt(&mut map, "LastEventId", item.last_event_id.as_ref());
    opt(&mut map, "LastState", item.last_state);
    opt(&mut map, "PrivateIp", item.private_ip);
    opt(&mut map, "PublicIp", item.public_ip);
    opt(&mut map, "VpcId", item.vpc_id.as_ref());
    map
}

/// Reads an item back; anything malformed is reported, never guessed.
pub fn from_item(instance_id: &str, map: &HashMap<String, AV>) -> Result<RegistryItem> {
    let bad = |message: String| Error::BadRegistryItem {
        instance_id: instance_id.to_string(),
        message,
    };
    let get_s = |m: &HashMap<String, AV>, k: &str| m.get(k).and_then(|v| v.as_s().ok()).cloned();
    let need_s = |m: &HashMap<String, AV>, k: &str| {
        get_s(m, k).ok_or_else(|| bad(format!("{k} is missing or not a string")))
    };
    let mut records = Vec::new();
    if let Some(list) = map.get("Records") {
        let list = list
            .as_l()
            .map_err(|_| bad("Records is not a list".into()))?;
        for (i, entry) in list.iter().enumerate() {
            let m = entry
                .as_m()
                .map_err(|_| bad(format!("Records[{i}] is not a map")))?;
            let ttl = m
                .get("TTL")
                .and_then(|v| v.as_n().ok())
                .and_then(|n| n.parse::<u32>().ok())
                .filter(|ttl| *ttl <= model::MAX_TTL)
                .ok_or_else(|| {
                    bad(format!(
                        "Records[{i}].TTL is missing or not a TTL (0 to 2147483647)"
                    ))
                })?;
            let values = m
                .get("Values")
                .and_then(|v| v.as_l().ok())
                .ok_or_else(|| bad(format!("Records[{i}].Values is missing or not a list")))?
                .iter()
                .map(|v| {
                    v.as_s()
                        .cloned()
                        .map_err(|_| bad(format!("Records[{i}].Values holds a non-string")))
                })
                .collect::<Result<Vec<String>>>()?;
            records.push(OwnedRecord {
                zone_id: need_s(m, "ZoneId")?,
                zone_name: need_s(m, "ZoneName")?,
                record: RecordSet::new(
                    &need_s(m, "Name")?,
                    RecordType::from(need_s(m, "Type")?),
                    ttl,
                    values,
                ),
            });
        }
    }
    let version = match map.get("Version") {
        Some(v) => v
            .as_n()
            .ok()
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| bad("Version is not a number".into()))?,
        None => 0,
    };
    // Typed attributes: absent is fine, present and unreadable is reported.
    fn typed<T>(
        map: &HashMap<String, AV>,
        key: &str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Option<T>, String> {
        match map.get(key) {
            None => Ok(None),
            Some(AV::S(text)) => parse(text).map(Some).map_err(|e| format!("{key}: {e}")),
            Some(_) => Err(format!("{key} is not a string")),
        }
    }
    let address = |text: &str| {
        text.parse()
            .map_err(|_| format!("'{}' is not an IPv4 address", crate::names::clip(text)))
    };
    Ok(RegistryItem {
        instance_id: instance_id.to_string(),
        records,
        last_event_time: typed(map, "LastEventTime", model::parse_time).map_err(bad)?,
        last_event_id: get_s(map, "LastEventId"),
        last_state: typed(map, "LastState", str::parse).map_err(bad)?,
        version,
        private_ip: typed(map, "PrivateIp", address).map_err(bad)?,
        public_ip: typed(map, "PublicIp", address).map_err(bad)?,
        vpc_id: get_s(map, "VpcId"),
    })
}

impl Registry for DynamoRegistry {
    async fn load(&self, instance_id: &str) -> Result<Option<RegistryItem>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("InstanceId", s(instance_id))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| aws_error("dynamodb:GetItem", e))?;
        out.item().map(|m| from_item(instance_id, m)).transpose()
    }

    async fn save(&self, item: &RegistryItem) -> Result<()> {
        let previous = item.version.saturating_sub(1);
        let request = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(item)));
        let request = if previous == 0 {
            request.condition_expression("attribute_not_exists(InstanceId)")
        } else {
            request
                .condition_expression("Version = :previous")
                .expression_attribute_values(":previous", AV::N(previous.to_string()))
        };
        match request.send().await {
            Ok(_) => Ok(()),
            Err(e) if super::error_code(&e) == Some("ConditionalCheckFailedException") => {
                Err(Error::RegistryRace {
                    instance_id: item.instance_id.clone(),
                })
            }
            Err(e) => Err(aws_error("dynamodb:PutItem", e)),
        }
    }

    async fn remove(&self, instance_id: &str, version: u64) -> Result<()> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("InstanceId", s(instance_id))
            .condition_expression("attribute_not_exists(InstanceId) OR Version = :version")
            .expression_attribute_values(":version", AV::N(version.to_string()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if super::error_code(&e) == Some("ConditionalCheckFailedException") => {
                Err(Error::RegistryRace {
                    instance_id: instance_id.to_string(),
                })
            }
            Err(e) => Err(aws_error("dynamodb:DeleteItem", e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_round_trip_and_bad_items_are_reported() {
        let item = RegistryItem {
            instance_id: "i-0abc".into(),
            records: vec![OwnedRecord {
                zone_id: "Z1".into(),
                zone_name: "corp.example.".into(),
                record: RecordSet::new(
                    "web.corp.example.",
                    RecordType::A,
                    60,
                    vec!["10.0.0.1".into()],
                ),
            }],
            last_event_time: model::parse_time("2026-11-21T10:00:00Z").ok(),
            last_state: Some(model::InstanceState::Running),
            private_ip: "10.0.0.1".parse().ok(),
            version: 3,
            ..RegistryItem::default()
        };
        assert_eq!(from_item("i-0abc", &to_item(&item)).unwrap(), item);
        for (key, value, needle) in [
            (
                "LastEventTime",
                "garbage",
                "LastEventTime: 'garbage' is not an RFC 3339 time",
            ),
            (
                "LastState",
                "exploded",
                "LastState: 'exploded' is not an EC2 instance state",
            ),
            (
                "PrivateIp",
                "10.0.0",
                "PrivateIp: '10.0.0' is not an IPv4 address",
            ),
        ] {
            let mut broken = to_item(&item);
            broken.insert(key.into(), s(value));
            let err = from_item("i-0abc", &broken).unwrap_err().to_string();
            assert!(err.contains(needle), "{err}");
        }

        let mut broken = to_item(&item);
        broken.insert(
            "Records".into(),
            AV::L(vec![AV::M(HashMap::from([(
                "ZoneId".to_string(),
                s("Z1"),
            )]))]),
        );
        let err = from_item("i-0abc", &broken).unwrap_err().to_string();
        assert!(
            err.contains("i-0abc") && err.contains("Records[0].TTL"),
            "{err}"
        );
    }
}
