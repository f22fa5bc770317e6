//! World files: a JSON description of an account (VPCs, subnets, zones with
//! their records, instances) that the in-memory backends load, so the real
//! handler can run with no AWS account. `snapshot` writes the same format
//! from a live account.

use crate::error::{Error, Result};
use crate::facts::{InstanceFacts, RecordSet, RecordType, RegistryItem, VpcFacts, ZoneInfo};
use crate::names;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

fn yes() -> bool {
    true
}
fn default_region() -> String {
    "us-east-1".into()
}
fn running() -> String {
    "running".into()
}
fn is_true(b: &bool) -> bool {
    *b
}
fn is_false(b: &bool) -> bool {
    !*b
}

/// An account, as far as the registrar can see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct World {
    #[serde(default = "default_region")]
    pub region: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default)]
    pub vpcs: Vec<WorldVpc>,
    #[serde(default)]
    pub subnets: Vec<WorldSubnet>,
    #[serde(default)]
    pub zones: Vec<WorldZone>,
    #[serde(default)]
    pub instances: Vec<WorldInstance>,
    /// What the registrar already owns (its DynamoDB table), so a rehearsal
    /// on a snapshot of a live account deletes and keeps what the real one
    /// would. Loaded into the in-memory registry, not kept in the world.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub registry: Vec<RegistryItem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorldVpc {
    pub id: String,
    pub cidr: String,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub dns_support: bool,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub dns_hostnames: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dhcp_domain: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorldSubnet {
    pub id: String,
    pub vpc: String,
    pub cidr: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub public: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorldZone {
    pub id: String,
    pub name: String,
    pub private: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vpcs: Vec<String>,
    #[serde(default)]
    pub records: Vec<WorldRecord>,
}

/// A record set: `ttl` and `values`, or, for a Route 53 alias (a pointer to
/// a load balancer, CloudFront, another record…), `alias` with the target's
/// DNS name and nothing else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorldRecord {
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorldInstance {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub subnet: String,
    pub private_ip: Ipv4Addr,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_ip: Option<Ipv4Addr>,
    #[serde(default = "running")]
    pub state: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_dns_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_dns_name: Option<String>,
}

impl WorldRecord {
    pub fn to_record(&self) -> RecordSet {
        let rtype = RecordType::from(self.rtype.as_str());
        match &self.alias {
            Some(target) => RecordSet::alias(&self.name, rtype, target),
            None => RecordSet::new(
                &self.name,
                rtype,
                self.ttl.unwrap_or(0),
                self.values.clone(),
            )
            .canonical(),
        }
    }

    pub fn from_record(r: &RecordSet) -> WorldRecord {
        match r.alias_target() {
            Some(target) => WorldRecord {
                name: r.name.clone(),
                rtype: r.rtype.to_string(),
                ttl: None,
                values: Vec::new(),
                alias: Some(target.to_string()),
            },
            None => WorldRecord {
                name: r.name.clone(),
                rtype: r.rtype.to_string(),
                ttl: Some(r.ttl),
                values: r.values.clone(),
                alias: None,
            },
        }
    }
}

impl WorldInstance {
    /// The instance as a world file holds it; `None` for one with no subnet
    /// or private address (terminated, or not yet placed), which no event
    /// could register. The `Name` tag becomes `name`, so scenario steps can
    /// say `stop web-1`; `World::instance_facts` puts the tag back.
    pub fn from_facts(facts: &InstanceFacts) -> Option<WorldInstance> {
        let mut tags = facts.tags.clone();
        Some(WorldInstance {
            id: facts.instance_id.clone(),
            name: tags.remove("Name"),
            subnet: facts.subnet_id.clone()?,
            private_ip: facts.private_ip?,
            public_ip: facts.public_ip,
            state: facts.state.clone(),
            tags,
            private_dns_name: facts.private_dns_name.clone(),
            public_dns_name: facts.public_dns_name.clone(),
        })
    }
}

/// Parses JSON text into `T`, naming the file and the path of any problem
/// (`instances[0].tags`), with what was expected.
pub fn parse_json<T: serde::de::DeserializeOwned>(file: &str, text: &str) -> Result<T> {
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        Error::BadFile {
            file: file.to_string(),
            path: if path == "." { "(top)".into() } else { path },
            message: format!("{inner}"),
        }
    })
}

/// Reads a file to a string, naming it on failure.
pub fn read_file(path: &str) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_string(),
        source,
    })
}

impl World {
    /// An account with nothing in it.
    pub fn empty(region: &str) -> World {
        World {
            region: region.to_string(),
            account: None,
            vpcs: Vec::new(),
            subnets: Vec::new(),
            zones: Vec::new(),
            instances: Vec::new(),
            registry: Vec::new(),
        }
    }

    /// Loads and checks a world file.
    pub fn load(path: &str) -> Result<World> {
        let world: World = parse_json(path, &read_file(path)?)?;
        world.check(path)?;
        Ok(world)
    }

    /// Cross-references: every subnet names a known VPC, every instance a
    /// known subnet, every private zone at least one known VPC.
    pub fn check(&self, file: &str) -> Result<()> {
        let bad = |path: String, message: String| Error::BadFile {
            file: file.to_string(),
            path,
            message,
        };
        let vpc_ids: Vec<&str> = self.vpcs.iter().map(|v| v.id.as_str()).collect();
        let subnet_ids: Vec<&str> = self.subnets.iter().map(|s| s.id.as_str()).collect();
        for (i, s) in self.subnets.iter().enumerate() {
            if !vpc_ids.contains(&s.vpc.as_str()) {
                return Err(bad(
                    format!("subnets[{i}].vpc"),
                    format!("unknown VPC '{}'; expected one of {vpc_ids:?}", s.vpc),
                ));
            }
        }
        for (i, z) in self.zones.iter().enumerate() {
            if z.private && z.vpcs.is_empty() {
                return Err(bad(
                    format!("zones[{i}].vpcs"),
                    "a private zone needs at least one associated VPC".into(),
                ));
            }
            for (j, v) in z.vpcs.iter().enumerate() {
                if !vpc_ids.contains(&v.as_str()) {
                    return Err(bad(
                        format!("zones[{i}].vpcs[{j}]"),
                        format!("unknown VPC '{v}'; expected one of {vpc_ids:?}"),
                    ));
                }
            }
            for (j, r) in z.records.iter().enumerate() {
                let name = names::normalize(&r.name);
                if !names::is_within(&name, &names::normalize(&z.name)) {
                    return Err(bad(
                        format!("zones[{i}].records[{j}].name"),
                        format!("'{}' is not inside zone '{}'", r.name, z.name),
                    ));
                }
                let at = |field: &str| format!("zones[{i}].records[{j}]{field}");
                match (&r.alias, r.ttl, r.values.is_empty()) {
                    (Some(_), None, true) => {}
                    (Some(_), _, _) => {
                        return Err(bad(
                            at(""),
                            "an alias record has no ttl or values of its own".into(),
                        ))
                    }
                    (None, None, _) => {
                        return Err(bad(at(".ttl"), "a record needs a ttl (seconds)".into()))
                    }
                    (None, Some(_), true) => {
                        return Err(bad(
                            at(".values"),
                            "a record needs at least one value (or an alias)".into(),
                        ))
                    }
                    (None, Some(_), false) => {}
                }
            }
        }
        let mut seen = BTreeMap::new();
        for (i, inst) in self.instances.iter().enumerate() {
            if !crate::event::is_instance_id(&inst.id) {
                return Err(bad(
                    format!("instances[{i}].id"),
                    format!(
                        "'{}' is not an instance id; expected i- and letters or digits",
                        inst.id
                    ),
                ));
            }
            if !subnet_ids.contains(&inst.subnet.as_str()) {
                return Err(bad(
                    format!("instances[{i}].subnet"),
                    format!(
                        "unknown subnet '{}'; expected one of {subnet_ids:?}",
                        inst.subnet
                    ),
                ));
            }
            if seen.insert(inst.id.clone(), i).is_some() {
                return Err(bad(
                    format!("instances[{i}].id"),
                    format!("'{}' appears twice", inst.id),
                ));
            }
        }
        let zone_ids: Vec<String> = self.zones.iter().map(|z| Self::zone_info(z).id).collect();
        let mut owners = BTreeMap::new();
        for (i, item) in self.registry.iter().enumerate() {
            if !crate::event::is_instance_id(&item.instance_id) {
                return Err(bad(
                    format!("registry[{i}].instance_id"),
                    format!("'{}' is not an instance id", item.instance_id),
                ));
            }
            if owners.insert(item.instance_id.clone(), i).is_some() {
                return Err(bad(
                    format!("registry[{i}].instance_id"),
                    format!("'{}' has two registry items", item.instance_id),
                ));
            }
            for (j, owned) in item.records.iter().enumerate() {
                if !zone_ids.contains(&owned.zone_id) {
                    return Err(bad(
                        format!("registry[{i}].records[{j}].zone_id"),
                        format!(
                            "unknown zone '{}'; expected one of {zone_ids:?}",
                            owned.zone_id
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The instance whose id or `name` is `who`.
    pub fn find_instance(&self, who: &str) -> Option<&WorldInstance> {
        self.instances
            .iter()
            .find(|i| i.id == who || i.name.as_deref() == Some(who))
    }

    fn vpc_of_subnet(&self, subnet: &str) -> Option<&WorldVpc> {
        let s = self.subnets.iter().find(|s| s.id == subnet)?;
        self.vpcs.iter().find(|v| v.id == s.vpc)
    }

    /// The instance as DescribeInstances would show it, with AWS's default
    /// DNS names where the world does not give them.
    pub fn instance_facts(&self, inst: &WorldInstance) -> InstanceFacts {
        let vpc = self.vpc_of_subnet(&inst.subnet);
        let dashed = |ip: Ipv4Addr| ip.to_string().replace('.', "-");
        let private_dns = inst.private_dns_name.clone().unwrap_or_else(|| {
            if self.region == "us-east-1" {
                format!("ip-{}.ec2.internal", dashed(inst.private_ip))
            } else {
                format!(
                    "ip-{}.{}.compute.internal",
                    dashed(inst.private_ip),
                    self.region
                )
            }
        });
        let public_dns = inst.public_dns_name.clone().or_else(|| {
            let ip = inst.public_ip?;
            if !vpc.is_some_and(|v| v.dns_hostnames) {
                return None;
            }
            Some(if self.region == "us-east-1" {
                format!("ec2-{}.compute-1.amazonaws.com", dashed(ip))
            } else {
                format!("ec2-{}.{}.compute.amazonaws.com", dashed(ip), self.region)
            })
        });
        let mut tags = inst.tags.clone();
        if let Some(name) = &inst.name {
            tags.entry("Name".into()).or_insert_with(|| name.clone());
        }
        InstanceFacts {
            instance_id: inst.id.clone(),
            state: inst.state.clone(),
            vpc_id: vpc.map(|v| v.id.clone()),
            subnet_id: Some(inst.subnet.clone()),
            private_ip: Some(inst.private_ip),
            public_ip: inst.public_ip,
            private_dns_name: Some(private_dns),
            public_dns_name: public_dns.filter(|d| !d.is_empty()),
            tags,
        }
    }

    pub fn vpc_facts(&self, vpc_id: &str) -> Option<VpcFacts> {
        let v = self.vpcs.iter().find(|v| v.id == vpc_id)?;
        Some(VpcFacts {
            vpc_id: v.id.clone(),
            dhcp_domain: v.dhcp_domain.clone(),
            dns_support: v.dns_support,
            dns_hostnames: v.dns_hostnames,
        })
    }

    pub fn zone_info(z: &WorldZone) -> ZoneInfo {
        ZoneInfo {
            id: z.id.trim_start_matches("/hostedzone/").to_string(),
            name: names::normalize(&z.name),
            private: z.private,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_name_the_path_and_what_was_expected() {
        let text = r#"{"vpcs": [{"id": "vpc-1", "cidr": "10.0.0.0/16", "dhcp_domian": "x"}]}"#;
        let err = parse_json::<World>("w.json", text).unwrap_err().to_string();
        assert!(err.starts_with("w.json: vpcs[0]"), "{err}");
        assert!(
            err.contains("dhcp_domian") && err.contains("expected one of"),
            "{err}"
        );

        let text = r#"{"instances": [{"id": "i-1", "subnet": "s", "private_ip": "10.0.0.300"}]}"#;
        let err = parse_json::<World>("w.json", text).unwrap_err().to_string();
        assert!(err.contains("instances[0].private_ip"), "{err}");
    }

    #[test]
    fn cross_references_are_checked() {
        let text = r#"{"vpcs": [{"id": "vpc-1", "cidr": "10.0.0.0/16"}],
            "subnets": [{"id": "s-1", "vpc": "vpc-1", "cidr": "10.0.1.0/24"}],
            "instances": [{"id": "i-1", "subnet": "s-2", "private_ip": "10.0.1.5"}]}"#;
        let world: World = parse_json("w.json", text).unwrap();
        let err = world.check("w.json").unwrap_err().to_string();
        assert!(
            err.contains("instances[0].subnet") && err.contains("s-2"),
            "{err}"
        );
    }

    #[test]
    fn records_aliases_and_registry_items_are_checked() {
        let zone = r#""zones": [{"id": "Z1", "name": "corp.example.", "private": false, "records": [RECORD]}]"#;
        let cases = [
            (
                r#"{"name": "www.corp.example.", "type": "A", "alias": "lb-1.elb.amazonaws.com."}"#,
                None,
            ),
            (
                r#"{"name": "db.corp.example.", "type": "A", "ttl": 300, "values": ["10.0.0.1"]}"#,
                None,
            ),
            (
                r#"{"name": "www.corp.example.", "type": "A", "ttl": 60, "alias": "lb-1.elb.amazonaws.com."}"#,
                Some("zones[0].records[0]: an alias record has no ttl or values"),
            ),
            (
                r#"{"name": "db.corp.example.", "type": "A", "values": ["10.0.0.1"]}"#,
                Some("zones[0].records[0].ttl: a record needs a ttl"),
            ),
            (
                r#"{"name": "db.corp.example.", "type": "A", "ttl": 300}"#,
                Some("zones[0].records[0].values: a record needs at least one value"),
            ),
        ];
        for (record, expected) in cases {
            let text = format!("{{{}}}", zone.replace("RECORD", record));
            let world: World = parse_json("w.json", &text).unwrap();
            match (world.check("w.json"), expected) {
                (Ok(()), None) => {}
                (Err(e), Some(needle)) => assert!(e.to_string().contains(needle), "{record}: {e}"),
                (got, _) => panic!("{record}: {got:?}"),
            }
        }

        let registry = |item: &str| {
            format!(
                r#"{{{}, "registry": [{item}]}}"#,
                zone.replace("RECORD", "")
            )
        };
        let item = r#"{"instance_id": "i-1", "records": [{"zone_id": "Z2", "zone_name": "corp.example.",
            "record": {"name": "a.corp.example.", "type": "A", "ttl": 60, "values": ["10.0.0.1"]}}]}"#;
        let world: World = parse_json("w.json", &registry(item)).unwrap();
        let err = world.check("w.json").unwrap_err().to_string();
        assert!(
            err.contains("registry[0].records[0].zone_id: unknown zone 'Z2'"),
            "{err}"
        );
        let err = parse_json::<World>(
            "w.json",
            &registry(r#"{"instance_id": "i-1", "verison": 2}"#),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("registry[0]") && err.contains("verison"),
            "{err}"
        );
    }

    #[test]
    fn alias_records_round_trip_as_one_alias_value() {
        let text =
            r#"{"name": "WWW.corp.example", "type": "A", "alias": "LB-1.elb.amazonaws.com"}"#;
        let record: WorldRecord = parse_json("w.json", text).unwrap();
        let set = record.to_record();
        assert_eq!(set.alias_target(), Some("lb-1.elb.amazonaws.com."));
        assert_eq!(set.name, "www.corp.example.");
        assert_eq!(set.canonical(), set);
        let back = WorldRecord::from_record(&set);
        assert_eq!(back.alias.as_deref(), Some("lb-1.elb.amazonaws.com."));
        assert_eq!((back.ttl, back.values.len()), (None, 0));
    }

    #[test]
    fn instances_from_facts_keep_what_an_event_needs() {
        let facts = InstanceFacts {
            instance_id: "i-1".into(),
            state: "running".into(),
            subnet_id: Some("s-1".into()),
            private_ip: Some(Ipv4Addr::new(10, 0, 1, 5)),
            tags: BTreeMap::from([
                ("Name".into(), "web".into()),
                ("CNAME".into(), "api".into()),
            ]),
            ..InstanceFacts::default()
        };
        let inst = WorldInstance::from_facts(&facts).unwrap();
        assert_eq!(inst.name.as_deref(), Some("web"));
        assert!(!inst.tags.contains_key("Name"));
        let world = World::empty("us-east-1");
        assert_eq!(
            world.instance_facts(&inst).tags,
            facts.tags,
            "Name comes back"
        );
        let placeless = InstanceFacts {
            subnet_id: None,
            ..facts
        };
        assert!(WorldInstance::from_facts(&placeless).is_none());
    }

    #[test]
    fn default_dns_names_follow_aws() {
        let text = r#"{"region": "eu-west-1", "vpcs": [{"id": "vpc-1", "cidr": "10.0.0.0/16"}],
            "subnets": [{"id": "s-1", "vpc": "vpc-1", "cidr": "10.0.1.0/24"}],
            "instances": [{"id": "i-1", "name": "web", "subnet": "s-1", "private_ip": "10.0.1.5", "public_ip": "34.1.2.3"}]}"#;
        let world: World = parse_json("w.json", text).unwrap();
        let facts = world.instance_facts(&world.instances[0]);
        assert_eq!(
            facts.private_dns_name.as_deref(),
            Some("ip-10-0-1-5.eu-west-1.compute.internal")
        );
        assert_eq!(
            facts.public_dns_name.as_deref(),
            Some("ec2-34-1-2-3.eu-west-1.compute.amazonaws.com")
        );
        assert_eq!(facts.vpc_id.as_deref(), Some("vpc-1"));
        assert_eq!(facts.tags.get("Name").map(String::as_str), Some("web"));
    }
}
