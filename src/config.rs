//! Configuration, read once from the environment (Lambda style). A bad value
//! is a start-up error that names the variable, never a surprise later.

use crate::error::{Error, Result};
use crate::names;

/// Everything the registrar is told rather than discovers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// DynamoDB table holding what each instance owns.
    pub table: String,
    /// TTL of every record written.
    pub ttl: u32,
    pub zone_tag: String,
    pub cname_tag: String,
    pub hostname_tag: String,
    /// Zone names (normalized) or ids the registrar may write to; empty: all.
    pub allowed_zones: Vec<String>,
    /// Home domain when neither the ZONE tag nor DHCP gives one.
    pub default_zone: Option<String>,
    /// What a stopped instance keeps (`DDNS_ON_STOP`).
    pub on_stop: OnStop,
    /// How long a warm Lambda process remembers zones and VPC facts
    /// (`DDNS_CACHE_SECONDS`; 0: not at all).
    pub cache_seconds: u64,
}

/// What happens to a stopped (or stopping) instance's records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnStop {
    /// Every record is deleted; the next start writes them again.
    #[default]
    Deregister,
    /// The private records stay (the private address stays with the
    /// instance); the public ones go (its public address is released).
    Keep,
}

impl OnStop {
    pub fn as_str(self) -> &'static str {
        match self {
            OnStop::Deregister => "deregister",
            OnStop::Keep => "keep",
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            table: "DDNS".into(),
            ttl: 60,
            zone_tag: "ZONE".into(),
            cname_tag: "CNAME".into(),
            hostname_tag: "HOSTNAME".into(),
            allowed_zones: Vec::new(),
            default_zone: None,
            on_stop: OnStop::Deregister,
            cache_seconds: 60,
        }
    }
}

impl Config {
    /// Reads `DDNS_*` variables from the process environment.
    pub fn from_env() -> Result<Config> {
        Config::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads configuration through `lookup`, so tests need not touch the
    /// process environment. Empty values count as unset, which lets a
    /// CloudFormation parameter default to "".
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config> {
        let get = |k: &str| {
            lookup(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let mut config = Config::default();
        if let Some(table) = get("DDNS_TABLE") {
            config.table = table;
        }
        if let Some(ttl) = get("DDNS_TTL") {
            config.ttl = match ttl.parse::<u32>() {
                Ok(n) if n <= crate::model::MAX_TTL => n,
                _ => {
                    return Err(Error::Config {
                        variable: "DDNS_TTL".into(),
                        message: format!(
                            "'{}' is not a TTL: give whole seconds from 0 to 2147483647, e.g. DDNS_TTL=60",
                            crate::names::clip(&ttl)
                        ),
                    })
                }
            };
        }
        for (var, slot) in [
            ("DDNS_ZONE_TAG", &mut config.zone_tag),
            ("DDNS_CNAME_TAG", &mut config.cname_tag),
            ("DDNS_HOSTNAME_TAG", &mut config.hostname_tag),
        ] {
            if let Some(key) = get(var) {
                if key.len() > 128 {
                    return Err(Error::Config {
                        variable: var.into(),
                        message: "an EC2 tag key is at most 128 characters".into(),
                    });
                }
                *slot = key;
            }
        }
        if let Some(list) = get("DDNS_ALLOWED_ZONES") {
            for item in list.split([',', ' ']).filter(|s| !s.is_empty()) {
                config.allowed_zones.push(parse_zone_ref(item)?);
            }
        }
        if let Some(zone) = get("DDNS_DEFAULT_ZONE") {
            let normalized = names::normalize(&zone);
            names::check_hostname(&normalized).map_err(|p| Error::Config {
                variable: "DDNS_DEFAULT_ZONE".into(),
                message: format!("'{}' is not a domain name: {p}", names::clip(&zone)),
            })?;
            config.default_zone = Some(normalized);
        }
        if let Some(policy) = get("DDNS_ON_STOP") {
            config.on_stop = match policy.to_ascii_lowercase().as_str() {
                "deregister" => OnStop::Deregister,
                "keep" => OnStop::Keep,
                _ => {
                    return Err(Error::Config {
                        variable: "DDNS_ON_STOP".into(),
                        message: format!(
                            "'{}' is not a stop policy: give deregister (delete a stopped instance's records) or keep (keep its private records)",
                            names::clip(&policy)
                        ),
                    })
                }
            };
        }
        if let Some(seconds) = get("DDNS_CACHE_SECONDS") {
            config.cache_seconds = match seconds.parse::<u64>() {
                Ok(n) if n <= 3600 => n,
                _ => {
                    return Err(Error::Config {
                        variable: "DDNS_CACHE_SECONDS".into(),
                        message: format!(
                            "'{}' is not a cache time: give whole seconds from 0 (no cache) to 3600, e.g. DDNS_CACHE_SECONDS=60",
                            names::clip(&seconds)
                        ),
                    })
                }
            };
        }
        Ok(config)
    }

    /// Whether a tag-change event naming `changed` keys can change any
    /// record: one of the configured tag keys is among them.
    pub fn watches_any(&self, changed: &[String]) -> bool {
        changed
            .iter()
            .any(|k| [&self.zone_tag, &self.cname_tag, &self.hostname_tag].contains(&k))
    }

    /// Whether a zone may be written to, by id or by name.
    pub fn allows_zone(&self, id: &str, name: &str) -> bool {
        self.allowed_zones.is_empty()
            || self
                .allowed_zones
                .iter()
                .any(|z| z.eq_ignore_ascii_case(id) || *z == names::normalize(name))
    }
}

/// A zone id (`Z123…`, optionally `/hostedzone/Z123…`) stays an id; anything
/// with a dot is a zone name and is normalized.
fn parse_zone_ref(item: &str) -> Result<String> {
    let id = item.trim_start_matches("/hostedzone/");
    if !id.contains('.') && id.starts_with('Z') && id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Ok(id.to_string());
    }
    let name = names::normalize(item);
    if name.ends_with(".in-addr.arpa.") || names::check_hostname(&name).is_ok() {
        return Ok(name);
    }
    Err(Error::Config {
        variable: "DDNS_ALLOWED_ZONES".into(),
        message: format!(
            "'{}' is neither a hosted zone id (Z…) nor a zone name; give a comma-separated list such as corp.example,Z0123456789ABC",
            names::clip(item)
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_match_the_spec() {
        let c = config(&[]).unwrap();
        assert_eq!(c, Config::default());
        assert_eq!((c.table.as_str(), c.ttl), ("DDNS", 60));
        assert_eq!(
            (
                c.zone_tag.as_str(),
                c.cname_tag.as_str(),
                c.hostname_tag.as_str()
            ),
            ("ZONE", "CNAME", "HOSTNAME")
        );
    }

    #[test]
    fn values_are_read_and_normalized() {
        let c = config(&[
            ("DDNS_TABLE", "dns-owners"),
            ("DDNS_TTL", "300"),
            ("DDNS_ZONE_TAG", "dns:zone"),
            (
                "DDNS_ALLOWED_ZONES",
                "Corp.Example, /hostedzone/Z0ABC,10.in-addr.arpa",
            ),
            ("DDNS_DEFAULT_ZONE", "Corp.Example"),
            ("DDNS_CNAME_TAG", ""),
        ])
        .unwrap();
        assert_eq!(c.table, "dns-owners");
        assert_eq!(c.ttl, 300);
        assert_eq!(c.zone_tag, "dns:zone");
        assert_eq!(c.cname_tag, "CNAME", "empty means unset");
        assert_eq!(
            c.allowed_zones,
            vec!["corp.example.", "Z0ABC", "10.in-addr.arpa."]
        );
        assert_eq!(c.default_zone.as_deref(), Some("corp.example."));
        assert!(c.allows_zone("Z0ABC", "other.example."));
        assert!(c.allows_zone("Z9", "CORP.example"));
        assert!(!c.allows_zone("Z9", "other.example."));
        assert_eq!(c.on_stop, OnStop::Deregister, "the default");
        let keep = config(&[("DDNS_ON_STOP", "Keep")]).unwrap();
        assert_eq!(keep.on_stop, OnStop::Keep);
        assert_eq!(c.cache_seconds, 60, "the default");
        assert_eq!(
            config(&[("DDNS_CACHE_SECONDS", "0")])
                .unwrap()
                .cache_seconds,
            0
        );
    }

    #[test]
    fn only_the_configured_tag_keys_are_watched() {
        let c = config(&[("DDNS_CNAME_TAG", "dns:aliases")]).unwrap();
        let keys = |k: &[&str]| k.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(c.watches_any(&keys(&["Owner", "dns:aliases"])));
        assert!(c.watches_any(&keys(&["ZONE"])));
        assert!(
            !c.watches_any(&keys(&["CNAME", "Owner"])),
            "CNAME is not the key now"
        );
        assert!(!c.watches_any(&[]));
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (var, value) in [
            ("DDNS_TTL", "sixty"),
            ("DDNS_TTL", "-1"),
            ("DDNS_TTL", "2147483648"),
            ("DDNS_ALLOWED_ZONES", "corp.example,bad zone!"),
            ("DDNS_DEFAULT_ZONE", "*.corp.example"),
            ("DDNS_ON_STOP", "hibernate"),
            ("DDNS_CACHE_SECONDS", "a minute"),
            ("DDNS_CACHE_SECONDS", "3601"),
        ] {
            let err = config(&[(var, value)]).unwrap_err().to_string();
            assert!(err.contains(var), "{err}");
        }
    }
}
