//! What the `hosts` commands do to the registry: add a host (its name
//! checked against its zone, a new secret), list hosts with the values
//! their zones hold now, remove a host with the records it owns, rotate a
//! secret. The secret leaves only as the return value of `add` and
//! `rotate`, for the command to print once.

use super::decide::Counters;
use super::host::{check_host_name, host_key, new_secret};
use crate::error::{Error, Result};
use crate::model::{HostSettings, RecordType, RegistryItem, ZoneInfo};
use crate::names;
use crate::ports::{Dns, Registry};
use crate::registrar::Registrar;
use crate::summary::Summary;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use std::collections::BTreeSet;

/// A new host's settings, as `hosts add` takes them.
#[derive(Debug, Clone)]
pub struct NewHost {
    pub host: String,
    /// The zone's name or id.
    pub zone: String,
    pub ttl: u32,
    pub login: Option<String>,
    /// A secret to use instead of a new one (see [`check_given_secret`]).
    pub secret: Option<SecretString>,
    /// AWS principals that may update the host by SigV4, without the
    /// secret (see [`check_iam_principal`]).
    pub iam_principals: Vec<String>,
}

/// Checks an `--iam-principal`: an account's root
/// (`arn:aws:iam::123456789012:root`), a role
/// (`arn:aws:iam::123456789012:role/NAME`, any path) or a user, by its
/// full ARN, with no wildcard. `Err` says what is expected.
pub fn check_iam_principal(arn: &str) -> Result<()> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ok = match parts.as_slice() {
        ["arn", partition, "iam", "", account, resource] => {
            partition.starts_with("aws")
                && account.len() == 12
                && account.bytes().all(|b| b.is_ascii_digit())
                && (*resource == "root"
                    || resource
                        .strip_prefix("role/")
                        .or_else(|| resource.strip_prefix("user/"))
                        .is_some_and(|name| {
                            !name.is_empty()
                                && name
                                    .bytes()
                                    .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-/".contains(&b))
                        }))
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(Error::Config {
            variable: "--iam-principal".into(),
            message: format!(
                "'{}' is not a principal a host can list: expected an account's root (arn:aws:iam::123456789012:root), a role (arn:aws:iam::123456789012:role/NAME) or a user (…:user/NAME), with no wildcard",
                names::clip(arn)
            ),
        })
    }
}

/// Characters a given secret needs at least: about 120 bits even if it
/// is made of letters and digits only.
pub const MIN_SECRET_CHARS: usize = 20;

/// A secret given with `--secret-file` (to let several hosts of one router
/// share a dyndns2 login and password): printable ASCII without spaces,
/// at least [`MIN_SECRET_CHARS`] long.
pub fn check_given_secret(secret: &SecretString) -> Result<()> {
    let secret = secret.expose_secret();
    if secret.len() < MIN_SECRET_CHARS || !secret.chars().all(|c| c.is_ascii_graphic()) {
        return Err(Error::Config {
            variable: "--secret-file".into(),
            message: format!(
                "the secret must be at least {MIN_SECRET_CHARS} printable ASCII characters without spaces (found {} characters); copy one `hosts add` printed",
                secret.chars().count()
            ),
        });
    }
    Ok(())
}

/// One line of `hosts list`: a host and one record type it holds now
/// (or `-` when its zone holds nothing at its name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostLine {
    pub host: String,
    pub zone: String,
    #[serde(rename = "type")]
    pub rtype: String,
    /// As the zone holds it now (read, not remembered).
    pub value: String,
    /// Whether ec2-ddns wrote that value for this host.
    pub owned: bool,
    /// The last update accepted (RFC 3339); `-` when none yet.
    pub last_update: String,
}

fn refuse(host: &str, message: impl Into<String>) -> Error {
    Error::Host {
        host: names::clip(host).to_string(),
        message: message.into(),
    }
}

/// The zone a host goes into: a public zone named (or with the id) `zone`.
async fn find_zone<D: Dns>(dns: &D, zone: &str, region: &str) -> Result<ZoneInfo> {
    let zones = dns.zones_visible_from(None, region).await?;
    let wanted = names::normalize(zone);
    let id = zone.trim_start_matches("/hostedzone/");
    let mut found: Vec<ZoneInfo> = zones
        .iter()
        .filter(|z| !z.private && (z.name == wanted || z.id == id))
        .cloned()
        .collect();
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => {
            let public: Vec<String> = zones
                .iter()
                .filter(|z| !z.private)
                .map(|z| format!("{} ({})", z.name, z.id))
                .collect();
            Err(Error::Config {
                variable: "--zone".into(),
                message: format!(
                    "no public hosted zone is named or has the id '{}'; public zones: {}",
                    names::clip(zone),
                    if public.is_empty() {
                        "none".to_string()
                    } else {
                        public.join(", ")
                    }
                ),
            })
        }
        _ => Err(Error::Config {
            variable: "--zone".into(),
            message: format!(
                "{} public zones are named {wanted}; give the zone's id instead: {}",
                found.len(),
                found
                    .iter()
                    .map(|z| z.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
    }
}

/// Adds a host and returns its secret, for `hosts add` to print once.
/// Refused for an apex, a wildcard, an invalid name, a name outside the
/// zone, or a host that exists already (rotate its secret instead).
pub async fn add<E, D, R>(
    registrar: &Registrar<E, D, R>,
    new: &NewHost,
    now: DateTime<Utc>,
) -> Result<SecretString>
where
    D: Dns + Sync,
    R: Registry + Sync,
{
    if new.ttl > crate::model::MAX_TTL {
        return Err(Error::Config {
            variable: "--ttl".into(),
            message: format!("{} is over Route 53's {}", new.ttl, crate::model::MAX_TTL),
        });
    }
    if let Some(login) = &new.login {
        if login.is_empty() || login.contains(':') || login.chars().any(char::is_control) {
            return Err(Error::Config {
                variable: "--login".into(),
                message:
                    "a login must be non-empty, without ':' or control characters (HTTP Basic auth)"
                        .into(),
            });
        }
    }
    for principal in &new.iam_principals {
        check_iam_principal(principal)?;
    }
    let zone = find_zone(&registrar.dns, &new.zone, &registrar.region).await?;
    let name = check_host_name(&new.host, &zone.name)?;
    let key = host_key(&name);
    if let Some(existing) = registrar.registry.load(&key).await? {
        let what = if existing.host.is_some() {
            "it exists already; `hosts rotate` gives it a new secret, `hosts remove` deletes it"
        } else {
            "the registry table has an item under its key that is not a host ec2-ddns wrote; delete it first"
        };
        return Err(refuse(&name, what));
    }
    let secret = match &new.secret {
        Some(given) => {
            check_given_secret(given)?;
            given.clone()
        }
        None => new_secret()?,
    };
    let item = RegistryItem {
        key,
        version: 1,
        host: Some(HostSettings {
            zone_id: zone.id,
            zone_name: zone.name,
            ttl: new.ttl,
            secret: secret.clone(),
            login: new.login.clone(),
            created: Some(now),
            iam_principals: new.iam_principals.clone(),
            ..HostSettings::default()
        }),
        ..RegistryItem::default()
    };
    registrar.registry.save(&item).await.map_err(|e| match e {
        Error::RegistryRace { .. } => refuse(&name, "it was added by someone else meanwhile"),
        e => e,
    })?;
    Ok(secret)
}

/// The host's item, or an error naming it.
async fn load_host<R: Registry>(registry: &R, host: &str) -> Result<(RegistryItem, HostSettings)> {
    let name = names::normalize(host);
    let item = registry
        .load(&host_key(&name))
        .await?
        .ok_or_else(|| refuse(&name, "no such host (`hosts list` shows them)"))?;
    let settings = item
        .host
        .clone()
        .ok_or_else(|| refuse(&name, "its registry item is not one ec2-ddns can read"))?;
    Ok((item, settings))
}

/// Every host, with the values its zone holds now at its name.
pub async fn list<E, D, R>(registrar: &Registrar<E, D, R>) -> Result<Vec<HostLine>>
where
    D: Dns + Sync,
    R: Registry + Sync,
{
    let mut lines = Vec::new();
    for item in registrar.registry.all().await? {
        let Some(name) = item.key.host_name() else {
            continue;
        };
        let Some(settings) = &item.host else {
            continue;
        };
        let names = BTreeSet::from([name.clone()]);
        let found = registrar.dns.records_at(&settings.zone_id, &names).await?;
        let last_update = item
            .last_event_time
            .as_ref()
            .map(crate::model::format_time)
            .unwrap_or_else(|| "-".into());
        let mut any = false;
        for record in found.iter().filter(|r| r.name == *name) {
            if !matches!(record.rtype, RecordType::A | RecordType::Aaaa) {
                continue;
            }
            any = true;
            let owned = item.records.iter().any(|o| o.record == *record);
            lines.push(HostLine {
                host: name.to_string(),
                zone: settings.zone_name.to_string(),
                rtype: record.rtype.to_string(),
                value: record.values().join(","),
                owned,
                last_update: last_update.clone(),
            });
        }
        if !any {
            lines.push(HostLine {
                host: name.to_string(),
                zone: settings.zone_name.to_string(),
                rtype: "-".into(),
                value: "-".into(),
                owned: false,
                last_update,
            });
        }
    }
    lines.sort_by(|a, b| (&a.host, &a.rtype).cmp(&(&b.host, &b.rtype)));
    Ok(lines)
}

/// What `hosts remove` did: the deletions, and the records that keep the
/// host because an earlier update sent them and never learned whether
/// Route 53 applied them (they may be the host's, so they are neither
/// deleted nor forgotten; a person deletes them if they are stale).
#[derive(Debug)]
pub struct Removal {
    pub summary: Summary,
    pub kept: Vec<String>,
}

/// Removes a host: deletes the records it owns (each only while still as
/// written) and its item, unless an unsettled record keeps it.
pub async fn remove<E, D, R>(
    registrar: &Registrar<E, D, R>,
    host: &str,
    now: DateTime<Utc>,
) -> Result<Removal>
where
    E: Sync,
    D: Dns + Sync,
    R: Registry + Sync,
{
    let (item, _) = load_host(&registrar.registry, host).await?;
    let key = item.key.clone();
    let summary = registrar.remove_host(item, "hosts-remove", now).await?;
    let kept = match registrar.registry.load(&key).await? {
        Some(kept) => kept.listed().map(|o| o.record.to_string()).collect(),
        None => Vec::new(),
    };
    Ok(Removal { summary, kept })
}

/// Gives a host a new secret (the old one stops working at once) and
/// clears its abuse counters; returns the secret.
pub async fn rotate<E, D, R>(
    registrar: &Registrar<E, D, R>,
    host: &str,
    given: Option<SecretString>,
) -> Result<SecretString>
where
    R: Registry + Sync,
{
    let (item, settings) = load_host(&registrar.registry, host).await?;
    let secret = match given {
        Some(given) => {
            check_given_secret(&given)?;
            given
        }
        None => new_secret()?,
    };
    let next = RegistryItem {
        version: item.version + 1,
        host: Some(HostSettings {
            secret: secret.clone(),
            counters: Counters::default(),
            ..settings
        }),
        ..item
    };
    registrar.registry.save(&next).await?;
    Ok(secret)
}
