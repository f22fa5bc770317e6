//! The registry's item mapping: a `RegistryItem` as DynamoDB attributes a
//! person can read in the console, and back; an item ec2-ddns did not
//! write, or cannot read, reads as a foreign item, kept as DynamoDB JSON.

use aws_sdk_dynamodb::types::AttributeValue as AV;
use ec2_ddns_core::error::Result;
use ec2_ddns_core::model::Counters;
use ec2_ddns_core::model::{
    self, DnsName, ForeignItem, HostSettings, OwnedRecord, RecordSet, RecordType, RegistryItem,
    RegistryKey, ZoneId,
};
use std::collections::HashMap;
use std::fmt::Display;

pub(super) fn s(v: &str) -> AV {
    AV::S(v.to_string())
}

fn opt(map: &mut HashMap<String, AV>, key: &str, v: Option<impl Display>) {
    if let Some(v) = v {
        map.insert(key.to_string(), s(&v.to_string()));
    }
}

/// The attributes ec2-ddns writes; an item with any other is not ours.
const OUR_ATTRIBUTES: &[&str] = &[
    "InstanceId",
    "Records",
    "Pending",
    "PendingSince",
    "WriteId",
    "Version",
    "LastEventTime",
    "LastEventId",
    "LastState",
    "PrivateIp",
    "PublicIp",
    "VpcId",
    "Releasing",
];

/// The attributes a host's item (key `host#NAME.`) has besides those above.
const HOST_ATTRIBUTES: &[&str] = &[
    "Zone",
    "ZoneName",
    "Ttl",
    "Secret",
    "Login",
    "WindowStart",
    "Failures",
    "Changes",
    "Created",
    "History",
    "IamPrincipals",
];

/// Whether `key` is a host's (the DDNS endpoint's) item.
fn is_host_key(key: &RegistryKey) -> bool {
    matches!(key, RegistryKey::Host(_))
}

fn records_list(records: &[OwnedRecord]) -> AV {
    AV::L(
        records
            .iter()
            .map(|o| {
                let mut entry = HashMap::from([
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
                ]);
                // A group member's record set; absent: a simple one (and
                // every item written before groups existed).
                if let Some(set_id) = o.record.routing.set_id() {
                    entry.insert("SetIdentifier".to_string(), s(set_id));
                    entry.insert("Routing".to_string(), s(o.record.routing.policy()));
                }
                AV::M(entry)
            })
            .collect(),
    )
}

/// The item as stored: plain attributes a person can read in the console.
pub fn to_item(item: &RegistryItem) -> HashMap<String, AV> {
    let mut map = HashMap::from([
        ("InstanceId".to_string(), s(&item.key.stored())),
        ("Records".to_string(), records_list(&item.records)),
        ("Version".to_string(), AV::N(item.version.to_string())),
    ]);
    if !item.pending.is_empty() {
        map.insert("Pending".to_string(), records_list(&item.pending));
    }
    opt(
        &mut map,
        "PendingSince",
        item.pending_since.as_ref().map(model::format_time),
    );
    opt(
        &mut map,
        "LastEventTime",
        item.last_event_time.as_ref().map(model::format_time),
    );
    opt(&mut map, "LastEventId", item.last_event_id.as_ref());
    opt(&mut map, "WriteId", item.write_id.as_ref());
    opt(&mut map, "LastState", item.last_state);
    opt(&mut map, "PrivateIp", item.private_ip);
    opt(&mut map, "PublicIp", item.public_ip);
    opt(&mut map, "VpcId", item.vpc_id.as_ref());
    if let Some(host) = &item.host {
        let n = |v: &dyn Display| AV::N(v.to_string());
        map.insert("Zone".into(), s(&host.zone_id));
        map.insert("ZoneName".into(), s(&host.zone_name));
        map.insert("Ttl".into(), n(&host.ttl));
        let secret = secrecy::ExposeSecret::expose_secret(&host.secret);
        map.insert("Secret".into(), s(secret));
        opt(&mut map, "Login", host.login.as_ref());
        map.insert("WindowStart".into(), n(&host.counters.window_start));
        map.insert("Failures".into(), n(&host.counters.failures));
        map.insert("Changes".into(), n(&host.counters.changes));
        opt(
            &mut map,
            "Created",
            host.created.as_ref().map(model::format_time),
        );
        if !host.iam_principals.is_empty() {
            let principals = host.iam_principals.iter().map(|p| s(p)).collect();
            map.insert("IamPrincipals".into(), AV::L(principals));
        }
        if !host.history.is_empty() {
            let updates = host
                .history
                .iter()
                .map(|u| {
                    AV::M(HashMap::from([
                        ("At".to_string(), s(&model::format_time(&u.at))),
                        ("Ip".to_string(), s(&u.ip.to_string())),
                        ("Source".to_string(), s(&u.source.to_string())),
                    ]))
                })
                .collect();
            map.insert("History".into(), AV::L(updates));
        }
    }
    map
}

/// A host's history as stored: the updates that read back whole (one
/// that does not is left out; the history is for people, not proofs).
fn host_history(map: &HashMap<String, AV>) -> Vec<model::HostUpdate> {
    let Some(AV::L(updates)) = map.get("History") else {
        return Vec::new();
    };
    updates
        .iter()
        .filter_map(|u| {
            let u = u.as_m().ok()?;
            let text = |k: &str| u.get(k)?.as_s().ok().cloned();
            Some(model::HostUpdate {
                at: model::parse_time(&text("At")?).ok()?,
                ip: text("Ip")?.parse().ok()?,
                source: text("Source")?.parse().ok()?,
            })
        })
        .take(model::HOST_HISTORY)
        .collect()
}

/// Reads an item back. One that ec2-ddns did not write (no `Version`,
/// attributes it does not know) or cannot read is a foreign item: it owns
/// nothing that can be proven, and the reason goes into the note. Never an
/// error: such an item must not wedge its instance.
pub fn from_item(key: &RegistryKey, map: &HashMap<String, AV>) -> RegistryItem {
    let host = is_host_key(key);
    let unknown: Vec<&str> = map
        .keys()
        .map(String::as_str)
        .filter(|k| !(OUR_ATTRIBUTES.contains(k) || host && HOST_ATTRIBUTES.contains(k)))
        .collect();
    let why = if !unknown.is_empty() {
        let mut unknown = unknown;
        unknown.sort();
        Err(format!(
            "it has attributes ec2-ddns never writes: {}",
            unknown.join(", ")
        ))
    } else if !map.contains_key("Version") {
        Err("it has no Version".to_string())
    } else {
        ours(key, map)
    };
    match why {
        Ok(item) => item,
        Err(why) => RegistryItem::foreign(ForeignItem {
            key: key.clone(),
            // A damaged host's secret is not kept: nothing replaces or
            // removes a host's item on the strength of a foreign copy, and
            // a copy may end up in a note or a log.
            attributes: map
                .iter()
                .filter(|(k, _)| k.as_str() != "InstanceId" && !(host && k.as_str() == "Secret"))
                .map(|(k, v)| (k.clone(), av_to_json(v)))
                .collect(),
            why,
        }),
    }
}

fn records_from(map: &HashMap<String, AV>, key: &str) -> Result<Vec<OwnedRecord>, String> {
    let get_s = |m: &HashMap<String, AV>, k: &str, i: usize| {
        m.get(k)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .ok_or_else(|| format!("{key}[{i}].{k} is missing or not a string"))
    };
    let Some(list) = map.get(key) else {
        return Ok(Vec::new());
    };
    let list = list.as_l().map_err(|_| format!("{key} is not a list"))?;
    let mut records = Vec::new();
    for (i, entry) in list.iter().enumerate() {
        let m = entry
            .as_m()
            .map_err(|_| format!("{key}[{i}] is not a map"))?;
        let ttl = m
            .get("TTL")
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse::<u32>().ok())
            .filter(|ttl| *ttl <= model::MAX_TTL)
            .ok_or_else(|| format!("{key}[{i}].TTL is missing or not a TTL (0 to 2147483647)"))?;
        let values = m
            .get("Values")
            .and_then(|v| v.as_l().ok())
            .ok_or_else(|| format!("{key}[{i}].Values is missing or not a list"))?
            .iter()
            .map(|v| {
                v.as_s()
                    .cloned()
                    .map_err(|_| format!("{key}[{i}].Values holds a non-string"))
            })
            .collect::<Result<Vec<String>, String>>()?;
        let optional = |k: &str| match m.get(k) {
            None => Ok(None),
            Some(v) => v
                .as_s()
                .map(|v| Some(v.as_str()))
                .map_err(|_| format!("{key}[{i}].{k} is not a string")),
        };
        let routing = model::Routing::parse(optional("Routing")?, optional("SetIdentifier")?)
            .map_err(|e| format!("{key}[{i}]: {e}"))?;
        records.push(OwnedRecord {
            zone_id: ZoneId::new(&get_s(m, "ZoneId", i)?),
            zone_name: DnsName::new(&get_s(m, "ZoneName", i)?),
            record: RecordSet::new(
                &get_s(m, "Name", i)?,
                RecordType::from(get_s(m, "Type", i)?),
                ttl,
                values,
            )
            .with_routing(routing),
        });
    }
    Ok(records)
}

/// One of our items; `Err` says what is damaged.
fn ours(key: &RegistryKey, map: &HashMap<String, AV>) -> Result<RegistryItem, String> {
    let get_s = |k: &str| map.get(k).and_then(|v| v.as_s().ok()).cloned();
    let version = map
        .get("Version")
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
        .filter(|v| *v > 0)
        .ok_or("Version is not a positive number")?;
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
        text.parse().map_err(|_| {
            format!(
                "'{}' is not an IPv4 address",
                ec2_ddns_core::names::clip(text)
            )
        })
    };
    let (mut records, mut pending) = (records_from(map, "Records")?, records_from(map, "Pending")?);
    // Released (`Registry::release`): every record it listed may be
    // deleted by now, so none is owned; a save writes the lists whole and
    // drops the mark.
    if map.contains_key("Releasing") {
        pending.append(&mut records);
        pending.sort();
        pending.dedup();
    }
    Ok(RegistryItem {
        key: key.clone(),
        records,
        pending,
        last_event_time: typed(map, "LastEventTime", model::parse_time)?,
        pending_since: typed(map, "PendingSince", model::parse_time)?,
        last_event_id: get_s("LastEventId"),
        write_id: get_s("WriteId"),
        last_state: typed(map, "LastState", str::parse)?,
        version,
        private_ip: typed(map, "PrivateIp", address)?,
        public_ip: typed(map, "PublicIp", address)?,
        vpc_id: get_s("VpcId"),
        replaces: None,
        host: if is_host_key(key) {
            Some(host_settings(map)?)
        } else {
            None
        },
    })
}

/// A host's settings; `Err` names the attribute that is missing or damaged.
fn host_settings(map: &HashMap<String, AV>) -> Result<HostSettings, String> {
    let text = |k: &str| {
        map.get(k)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .ok_or_else(|| format!("{k} is missing or not a string"))
    };
    fn number<T: std::str::FromStr>(map: &HashMap<String, AV>, k: &str) -> Result<T, String> {
        map.get(k)
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| format!("{k} is missing or not a number"))
    }
    let ttl: u32 = number(map, "Ttl")?;
    if ttl > model::MAX_TTL {
        return Err(format!("Ttl {ttl} is over {}", model::MAX_TTL));
    }
    Ok(HostSettings {
        zone_id: ZoneId::new(&text("Zone")?),
        zone_name: DnsName::new(&text("ZoneName")?),
        ttl,
        secret: text("Secret")?.into(),
        login: map.get("Login").map(|_| text("Login")).transpose()?,
        counters: Counters {
            window_start: number(map, "WindowStart").unwrap_or(0),
            failures: number(map, "Failures").unwrap_or(0),
            changes: number(map, "Changes").unwrap_or(0),
        },
        created: map
            .get("Created")
            .map(|_| text("Created").and_then(|t| model::parse_time(&t)))
            .transpose()?,
        history: host_history(map),
        iam_principals: match map.get("IamPrincipals") {
            None => Vec::new(),
            Some(AV::L(list)) => list
                .iter()
                .map(|p| {
                    p.as_s()
                        .cloned()
                        .map_err(|_| "IamPrincipals holds a non-string".to_string())
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err("IamPrincipals is not a list".into()),
        },
    })
}

/// An attribute value as DynamoDB JSON (`{"S": "…"}`), binary as a list of
/// bytes, so a foreign item can be kept outside the SDK and given back
/// exactly.
pub fn av_to_json(v: &AV) -> serde_json::Value {
    use serde_json::{json, Value};
    let bytes = |b: &[u8]| Value::from(b.to_vec());
    match v {
        AV::S(x) => json!({ "S": x }),
        AV::N(x) => json!({ "N": x }),
        AV::Bool(x) => json!({ "BOOL": x }),
        AV::Null(x) => json!({ "NULL": x }),
        AV::Ss(x) => json!({ "SS": x }),
        AV::Ns(x) => json!({ "NS": x }),
        AV::B(x) => json!({ "B": bytes(x.as_ref()) }),
        AV::Bs(x) => json!({ "BS": x.iter().map(|b| bytes(b.as_ref())).collect::<Vec<_>>() }),
        AV::L(x) => json!({ "L": x.iter().map(av_to_json).collect::<Vec<_>>() }),
        AV::M(x) => {
            json!({ "M": x.iter().map(|(k, v)| (k.clone(), av_to_json(v))).collect::<serde_json::Map<_, _>>() })
        }
        _ => json!({ "NULL": true }),
    }
}

/// The inverse of [`av_to_json`]; `None` for JSON it never makes.
pub fn json_to_av(v: &serde_json::Value) -> Option<AV> {
    use aws_sdk_dynamodb::primitives::Blob;
    let obj = v.as_object()?;
    let (kind, x) = obj.iter().next()?;
    let strings = |x: &serde_json::Value| -> Option<Vec<String>> {
        x.as_array()?
            .iter()
            .map(|s| s.as_str().map(str::to_string))
            .collect()
    };
    let blob = |x: &serde_json::Value| -> Option<Blob> {
        let bytes: Option<Vec<u8>> = x
            .as_array()?
            .iter()
            .map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
            .collect();
        bytes.map(Blob::new)
    };
    Some(match kind.as_str() {
        "S" => AV::S(x.as_str()?.to_string()),
        "N" => AV::N(x.as_str()?.to_string()),
        "BOOL" => AV::Bool(x.as_bool()?),
        "NULL" => AV::Null(x.as_bool()?),
        "SS" => AV::Ss(strings(x)?),
        "NS" => AV::Ns(strings(x)?),
        "B" => AV::B(blob(x)?),
        "BS" => AV::Bs(x.as_array()?.iter().map(blob).collect::<Option<_>>()?),
        "L" => AV::L(
            x.as_array()?
                .iter()
                .map(json_to_av)
                .collect::<Option<_>>()?,
        ),
        "M" => AV::M(
            x.as_object()?
                .iter()
                .map(|(k, v)| Some((k.clone(), json_to_av(v)?)))
                .collect::<Option<_>>()?,
        ),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::super::unchanged_condition;
    use super::*;

    #[test]
    fn host_items_round_trip_and_host_attributes_belong_to_hosts_only() {
        let host = RegistryItem {
            key: "host#home.dyn.example.".into(),
            version: 4,
            last_event_time: model::parse_time("2026-11-21T10:00:00Z").ok(),
            host: Some(HostSettings {
                zone_id: "Z1".into(),
                zone_name: "dyn.example.".into(),
                ttl: 60,
                secret: "s3cret".into(),
                login: Some("router".into()),
                counters: Counters {
                    window_start: 1_795_255_200,
                    failures: 2,
                    changes: 5,
                },
                created: model::parse_time("2026-11-20T10:00:00Z").ok(),
                history: vec![model::HostUpdate {
                    at: model::parse_time("2026-11-21T10:00:00Z").unwrap(),
                    ip: "2001:db8::7".parse().unwrap(),
                    source: "203.0.113.7".parse().unwrap(),
                }],
                iam_principals: vec!["arn:aws:iam::111122223333:role/router".into()],
            }),
            ..RegistryItem::default()
        };
        assert_eq!(from_item(&host.key, &to_item(&host)), host);
        assert!(
            !format!("{host:?}").contains("s3cret"),
            "Debug hides the secret"
        );
        let mut no_secret = to_item(&host);
        no_secret.remove("Secret");
        let read = from_item(&host.key, &no_secret);
        assert!(read.host.is_none() && read.replaces.is_some(), "{read:?}");
        assert!(read.replaces.unwrap().note().contains("Secret is missing"));
        let mut bad_ttl = to_item(&host);
        bad_ttl.insert("Ttl".into(), s("sixty"));
        let read = from_item(&host.key, &bad_ttl);
        let found = read.replaces.expect("damaged");
        assert!(!found.attributes.contains_key("Secret"), "{found:?}");
        assert!(!format!("{found:?}").contains("s3cret"));
        // An instance's item with a host's attribute is not ours.
        let mut odd = to_item(&RegistryItem {
            key: "i-0abc".into(),
            version: 1,
            ..RegistryItem::default()
        });
        odd.insert("Secret".into(), s("x"));
        assert!(from_item(&"i-0abc".into(), &odd).replaces.is_some());
    }

    /// What `release` leaves in the table (its lists untouched beside the
    /// mark, the version bumped, the event named) reads back exactly as
    /// `ports::released` says, so a released book needs no write ahead and
    /// a later save or removal finds the version it expects.
    #[test]
    fn a_released_item_reads_as_everything_pending() {
        let record = |name: &str| OwnedRecord {
            zone_id: "Z1".into(),
            zone_name: "corp.example.".into(),
            record: RecordSet::new(name, RecordType::A, 60, vec!["10.0.0.1".into()]),
        };
        let before = RegistryItem {
            key: "i-0abc".into(),
            records: vec![record("b.corp.example."), record("c.corp.example.")],
            pending: vec![record("a.corp.example.")],
            last_event_time: model::parse_time("2026-11-21T10:00:00Z").ok(),
            last_state: Some(model::InstanceState::Running),
            version: 3,
            ..RegistryItem::default()
        };
        let mut table = to_item(&before);
        table.insert("Releasing".into(), s("evt-9#00ff"));
        table.insert("Version".into(), AV::N("4".into()));
        table.insert("LastEventId".into(), s("evt-9"));
        table.insert("LastState".into(), s("terminated"));
        let released =
            ec2_ddns_core::ports::released(&before, "evt-9", model::InstanceState::Terminated);
        assert_eq!(from_item(&"i-0abc".into(), &table), released);
        assert!(released.records.is_empty());
        assert_eq!(released.pending.len(), 3);
        // A save writes the lists whole, without the mark.
        assert!(!to_item(&released).contains_key("Releasing"));
    }

    #[test]
    fn items_round_trip_and_bad_items_are_reported() {
        let item = RegistryItem {
            key: "i-0abc".into(),
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
        assert_eq!(from_item(&"i-0abc".into(), &to_item(&item)), item);
        // A group member's record set keeps its set identifier and policy.
        let mut member = item.clone();
        member.records.push(OwnedRecord {
            zone_id: "Z1".into(),
            zone_name: "corp.example.".into(),
            record: RecordSet::multivalue(
                "web.corp.example.",
                RecordType::A,
                60,
                "10.0.0.1".into(),
                "i-0abc",
            ),
        });
        let stored = to_item(&member);
        assert_eq!(from_item(&"i-0abc".into(), &stored), member);
        let entry = stored["Records"].as_l().unwrap()[1].as_m().unwrap().clone();
        assert_eq!(entry["SetIdentifier"], s("i-0abc"));
        assert_eq!(entry["Routing"], s("multivalue"));
        let mut with_pending = item.clone();
        with_pending.pending = item.records.clone();
        with_pending.pending_since = model::parse_time("2026-11-21T10:00:01Z").ok();
        assert_eq!(
            from_item(&"i-0abc".into(), &to_item(&with_pending)),
            with_pending
        );
        for (key, value, needle) in [
            (
                "LastEventTime",
                s("garbage"),
                "LastEventTime: 'garbage' is not an RFC 3339 time",
            ),
            (
                "PendingSince",
                s("soon"),
                "PendingSince: 'soon' is not an RFC 3339 time",
            ),
            (
                "LastState",
                s("exploded"),
                "LastState: 'exploded' is not an EC2 instance state",
            ),
            (
                "PrivateIp",
                s("10.0.0"),
                "PrivateIp: '10.0.0' is not an IPv4 address",
            ),
            (
                "Records",
                AV::L(vec![AV::M(HashMap::from([(
                    "ZoneId".to_string(),
                    s("Z1"),
                )]))]),
                "Records[0].TTL",
            ),
            (
                "Records",
                AV::L(vec![AV::M(HashMap::from([
                    ("ZoneId".to_string(), s("Z1")),
                    ("ZoneName".to_string(), s("corp.example.")),
                    ("Name".to_string(), s("web.corp.example.")),
                    ("Type".to_string(), s("A")),
                    ("TTL".to_string(), AV::N("60".into())),
                    ("Values".to_string(), AV::L(vec![s("10.0.0.1")])),
                    ("SetIdentifier".to_string(), s("i-0abc")),
                ]))]),
                "Records[0]: a record with a set_identifier needs a routing",
            ),
            (
                "InstanceAttributes",
                AV::M(HashMap::from([("Reservations".to_string(), AV::L(vec![]))])),
                "attributes ec2-ddns never writes: InstanceAttributes",
            ),
        ] {
            let mut broken = to_item(&item);
            broken.insert(key.into(), value);
            let read = from_item(&"i-0abc".into(), &broken);
            let found = read.replaces.as_ref().expect("read as foreign");
            assert!(read.records.is_empty() && read.version == 0, "{read:?}");
            assert!(found.note().contains(needle), "{}", found.note());
            // Kept whole, so a conditional write can name it exactly.
            for (k, v) in &broken {
                if k != "InstanceId" {
                    assert_eq!(json_to_av(&found.attributes[k]).as_ref(), Some(v), "{k}");
                }
            }
        }
        let python = HashMap::from([
            ("InstanceId".to_string(), s("i-0abc")),
            (
                "InstanceAttributes".to_string(),
                AV::M(HashMap::from([(
                    "Reservations".to_string(),
                    AV::L(vec![AV::M(HashMap::from([
                        ("OwnerId".to_string(), s("123456789012")),
                        ("Count".to_string(), AV::N("1".into())),
                        ("Flag".to_string(), AV::Bool(true)),
                        (
                            "Raw".to_string(),
                            AV::B(aws_sdk_dynamodb::primitives::Blob::new(vec![0u8, 255])),
                        ),
                    ]))]),
                )])),
            ),
        ]);
        let read = from_item(&"i-0abc".into(), &python);
        assert!(read
            .replaces
            .as_ref()
            .unwrap()
            .note()
            .contains("InstanceAttributes"));
        let condition = unchanged_condition(read.replaces.as_ref().unwrap());
        assert_eq!(
            condition.expression,
            "attribute_exists(InstanceId) AND attribute_not_exists(Version) AND #f0 = :f0"
        );
        assert_eq!(condition.names.unwrap()["#f0"], "InstanceAttributes");
        assert_eq!(
            condition.values.unwrap()[":f0"],
            python["InstanceAttributes"]
        );
    }
}
