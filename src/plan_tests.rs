//! Table-driven tests of the rules in `spec/records.md`.

use super::*;
use crate::facts::{InstanceFacts, OwnedRecord, RecordSet, RecordType, VpcFacts, ZoneInfo};

fn zone(id: &str, name: &str, private: bool) -> ZoneInfo {
    ZoneInfo {
        id: id.into(),
        name: name.into(),
        private,
    }
}

/// The zones most cases use: split-horizon corp.example. and a /8 reverse zone.
fn corp_zones() -> Vec<ZoneInfo> {
    vec![
        zone("ZPRIV", "corp.example.", true),
        zone("ZPUB", "corp.example.", false),
        zone("ZREV", "10.in-addr.arpa.", true),
    ]
}

/// A private instance 10.1.2.4 in a VPC whose DHCP domain is corp.example.
fn instance(tags: &[(&str, &str)]) -> InstanceFacts {
    InstanceFacts {
        instance_id: "i-0web1".into(),
        state: "running".into(),
        vpc_id: Some("vpc-1".into()),
        subnet_id: Some("subnet-1".into()),
        private_ip: Some("10.1.2.4".parse().unwrap()),
        public_ip: None,
        private_dns_name: Some("ip-10-1-2-4.ec2.internal".into()),
        public_dns_name: None,
        tags: tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

fn public(mut i: InstanceFacts) -> InstanceFacts {
    i.public_ip = Some("54.1.2.3".parse().unwrap());
    i.public_dns_name = Some("ec2-54-1-2-3.compute-1.amazonaws.com".into());
    i
}

fn vpc(domain: Option<&str>) -> VpcFacts {
    VpcFacts {
        vpc_id: "vpc-1".into(),
        dhcp_domain: domain.map(str::to_string),
        dns_support: true,
        dns_hostnames: true,
    }
}

fn rec(name: &str, rtype: &str, ttl: i64, value: &str) -> RecordSet {
    RecordSet::new(name, RecordType::from(rtype), ttl, vec![value.to_string()]).canonical()
}

fn owned(zone_id: &str, r: RecordSet) -> OwnedRecord {
    let zone_name = if zone_id == "ZREV" {
        "10.in-addr.arpa."
    } else {
        "corp.example."
    };
    OwnedRecord {
        zone_id: zone_id.into(),
        zone_name: zone_name.into(),
        record: r,
    }
}

/// One planning case: inputs, then the expected changes (as
/// `ZONE ACTION NAME TYPE VALUE`), conflicting names and rejected names.
struct Case {
    what: &'static str,
    instance: InstanceFacts,
    dhcp: Option<&'static str>,
    zones: Vec<ZoneInfo>,
    config: Config,
    owned: Vec<OwnedRecord>,
    current: Vec<(&'static str, RecordSet)>,
    changes: &'static [&'static str],
    conflicts: &'static [&'static str],
    rejected: &'static [&'static str],
}

impl Default for Case {
    fn default() -> Self {
        Case {
            what: "",
            instance: instance(&[]),
            dhcp: Some("corp.example"),
            zones: corp_zones(),
            config: Config::default(),
            owned: vec![],
            current: vec![],
            changes: &[],
            conflicts: &[],
            rejected: &[],
        }
    }
}

fn run(case: &Case) -> Plan {
    let v = vpc(case.dhcp);
    let input = PlanInput {
        config: &case.config,
        instance: &case.instance,
        vpc: Some(&v),
        zones: &case.zones,
    };
    let t = targets(&input);
    let mut current = CurrentRecords::new();
    for (zone_id, r) in &case.current {
        current
            .entry(zone_id.to_string())
            .or_default()
            .push(r.clone());
    }
    // Only what the planner asked to read may influence it.
    let wanted = t.names_to_read(&case.owned);
    for (zone_id, records) in current.iter_mut() {
        records.retain(|r| {
            wanted
                .get(zone_id)
                .is_some_and(|names| names.contains(&r.name))
        });
    }
    plan_register(&t, &case.owned, &current, case.config.ttl)
}

fn change_lines(plan: &Plan) -> Vec<String> {
    plan.zones
        .iter()
        .flat_map(|z| {
            z.changes.iter().map(move |c| {
                format!(
                    "{} {} {} {} {}",
                    z.zone_id,
                    c.action.as_str(),
                    c.record.name,
                    c.record.rtype,
                    c.record.values.join(",")
                )
            })
        })
        .collect()
}

fn sorted(v: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = v.into_iter().collect();
    v.sort();
    v
}

#[test]
fn register_cases() {
    let cases = vec![
        Case {
            what: "private zone from the DHCP domain: host A and PTR",
            changes: &[
                "ZPRIV CREATE ip-10-1-2-4.corp.example. A 10.1.2.4",
                "ZREV CREATE 4.2.1.10.in-addr.arpa. PTR ip-10-1-2-4.corp.example.",
            ],
            ..Case::default()
        },
        Case {
            what: "split horizon: a public IPv4 adds the public A of the same name",
            instance: public(instance(&[])),
            changes: &[
                "ZPRIV CREATE ip-10-1-2-4.corp.example. A 10.1.2.4",
                "ZPUB CREATE ip-10-1-2-4.corp.example. A 54.1.2.3",
                "ZREV CREATE 4.2.1.10.in-addr.arpa. PTR ip-10-1-2-4.corp.example.",
            ],
            ..Case::default()
        },
        Case {
            what: "aliases in both views point at the host A of that view",
            instance: public(instance(&[("CNAME", "api.corp.example, www2.corp.example.")])),
            changes: &[
                "ZPRIV CREATE api.corp.example. CNAME ip-10-1-2-4.corp.example.",
                "ZPRIV CREATE ip-10-1-2-4.corp.example. A 10.1.2.4",
                "ZPRIV CREATE www2.corp.example. CNAME ip-10-1-2-4.corp.example.",
                "ZPUB CREATE api.corp.example. CNAME ip-10-1-2-4.corp.example.",
                "ZPUB CREATE ip-10-1-2-4.corp.example. A 54.1.2.3",
                "ZPUB CREATE www2.corp.example. CNAME ip-10-1-2-4.corp.example.",
                "ZREV CREATE 4.2.1.10.in-addr.arpa. PTR ip-10-1-2-4.corp.example.",
            ],
            ..Case::default()
        },
        Case {
            what: "no host A (no home domain): aliases point at the AWS DNS names",
            instance: public(instance(&[("CNAME", "api.corp.example")])),
            dhcp: None,
            changes: &[
                "ZPRIV CREATE api.corp.example. CNAME ip-10-1-2-4.ec2.internal.",
                "ZPUB CREATE api.corp.example. CNAME ec2-54-1-2-3.compute-1.amazonaws.com.",
            ],
            ..Case::default()
        },
        Case {
            what: "no home domain and no tags: nothing, and not an error",
            dhcp: None,
            ..Case::default()
        },
        Case {
            what: "AWS's own DHCP suffix never counts as a home domain",
            dhcp: Some("ec2.internal"),
            ..Case::default()
        },
        Case {
            what: "DDNS_DEFAULT_ZONE is the last fallback",
            dhcp: Some("eu-west-1.compute.internal"),
            config: Config { default_zone: Some("corp.example.".into()), ..Config::default() },
            changes: &[
                "ZPRIV CREATE ip-10-1-2-4.corp.example. A 10.1.2.4",
                "ZREV CREATE 4.2.1.10.in-addr.arpa. PTR ip-10-1-2-4.corp.example.",
            ],
            ..Case::default()
        },
        Case {
            what: "ZONE tag wins over DHCP; longest suffix picks the sub-zone",
            instance: instance(&[("ZONE", "Dev.Corp.Example")]),
            zones: vec![zone("ZPRIV", "corp.example.", true), zone("ZDEV", "dev.corp.example.", true)],
            changes: &["ZDEV CREATE ip-10-1-2-4.dev.corp.example. A 10.1.2.4"],
            ..Case::default()
        },
        Case {
            what: "label-wise suffix: xcorp.example. is not inside corp.example.",
            instance: instance(&[("HOSTNAME", "web.xcorp.example")]),
            zones: vec![zone("ZPRIV", "corp.example.", true)],
            rejected: &["web.xcorp.example."],
            ..Case::default()
        },
        Case {
            what: "HOSTNAME gives the vanity name; a bare label joins the home domain",
            instance: instance(&[("HOSTNAME", "web-1")]),
            changes: &[
                "ZPRIV CREATE web-1.corp.example. A 10.1.2.4",
                "ZREV CREATE 4.2.1.10.in-addr.arpa. PTR web-1.corp.example.",
            ],
            ..Case::default()
        },
        Case {
            what: "the most specific reverse zone takes the PTR",
            zones: vec![
                zone("ZPRIV", "corp.example.", true),
                zone("ZREV", "10.in-addr.arpa.", true),
                zone("ZREV1", "1.10.in-addr.arpa.", true),
                zone("ZREVPUB", "2.1.10.in-addr.arpa.", false),
            ],
            changes: &[
                "ZPRIV CREATE ip-10-1-2-4.corp.example. A 10.1.2.4",
                "ZREV1 CREATE 4.2.1.10.in-addr.arpa. PTR ip-10-1-2-4.corp.example.",
            ],
            ..Case::default()
        },
        Case {
            what: "no reverse zone: no PTR, not an error",
            zones: vec![zone("ZPRIV", "corp.example.", true)],
            changes: &["ZPRIV CREATE ip-10-1-2-4.corp.example. A 10.1.2.4"],
            ..Case::default()
        },
        Case {
            what: "apex, wildcard, invalid and hostile names are rejected, the rest still goes in",
            instance: instance(&[("CNAME", "corp.example, *.corp.example, bad_name.corp.example, a;rm.corp.example, ok.corp.example")]),
            zones: vec![zone("ZPRIV", "corp.example.", true)],
            changes: &[
                "ZPRIV CREATE ip-10-1-2-4.corp.example. A 10.1.2.4",
                "ZPRIV CREATE ok.corp.example. CNAME ip-10-1-2-4.corp.example.",
            ],
            rejected: &["corp.example.", "*.corp.example.", "bad_name.corp.example.", "a;rm.corp.example."],
            ..Case::default()
        },
        Case {
            what: "HOSTNAME at a zone apex is rejected",
            instance: instance(&[("HOSTNAME", "corp.example.")]),
            zones: vec![zone("ZPRIV", "corp.example.", true)],
            rejected: &["corp.example."],
            ..Case::default()
        },
        Case {
            what: "a zone outside DDNS_ALLOWED_ZONES is not managed",
            config: Config { allowed_zones: vec!["ZREV".into()], ..Config::default() },
            rejected: &["ip-10-1-2-4.corp.example."],
            ..Case::default()
        },
        Case {
            what: "a public-only alias needs a public DNS name",
            instance: instance(&[("CNAME", "api.public.example")]),
            zones: vec![zone("ZPRIV", "corp.example.", true), zone("ZP2", "public.example.", false)],
            changes: &["ZPRIV CREATE ip-10-1-2-4.corp.example. A 10.1.2.4"],
            rejected: &["api.public.example."],
            ..Case::default()
        },
        Case {
            what: "a foreign A at the host name: conflict; the PTR waits, the alias falls back",
            instance: instance(&[("CNAME", "api.corp.example")]),
            current: vec![("ZPRIV", rec("ip-10-1-2-4.corp.example.", "A", 300, "10.9.9.9"))],
            changes: &["ZPRIV CREATE api.corp.example. CNAME ip-10-1-2-4.ec2.internal."],
            conflicts: &["ip-10-1-2-4.corp.example."],
            ..Case::default()
        },
        Case {
            what: "an identical record this instance did not write is still foreign",
            current: vec![("ZPRIV", rec("ip-10-1-2-4.corp.example.", "A", 60, "10.1.2.4"))],
            conflicts: &["ip-10-1-2-4.corp.example."],
            ..Case::default()
        },
        Case {
            what: "a CNAME never joins another record, and nothing joins a CNAME",
            instance: instance(&[("CNAME", "db.corp.example"), ("HOSTNAME", "old.corp.example")]),
            zones: vec![zone("ZPRIV", "corp.example.", true)],
            current: vec![
                ("ZPRIV", rec("db.corp.example.", "TXT", 300, "\"owner=dba\"")),
                ("ZPRIV", rec("old.corp.example.", "CNAME", 300, "legacy.corp.example.")),
            ],
            conflicts: &["db.corp.example.", "old.corp.example."],
            ..Case::default()
        },
        Case {
            what: "an alias equal to the host name conflicts with this instance's own A",
            instance: instance(&[("CNAME", "ip-10-1-2-4.corp.example")]),
            zones: vec![zone("ZPRIV", "corp.example.", true)],
            changes: &["ZPRIV CREATE ip-10-1-2-4.corp.example. A 10.1.2.4"],
            conflicts: &["ip-10-1-2-4.corp.example."],
            ..Case::default()
        },
        Case {
            what: "owned and unchanged: nothing to do",
            zones: vec![zone("ZPRIV", "corp.example.", true)],
            owned: vec![owned("ZPRIV", rec("ip-10-1-2-4.corp.example.", "A", 60, "10.1.2.4"))],
            current: vec![("ZPRIV", rec("ip-10-1-2-4.corp.example.", "A", 60, "10.1.2.4"))],
            ..Case::default()
        },
        Case {
            what: "owned with an old value: UPSERT",
            zones: vec![zone("ZPRIV", "corp.example.", true)],
            owned: vec![owned("ZPRIV", rec("ip-10-1-2-4.corp.example.", "A", 300, "10.1.2.4"))],
            current: vec![("ZPRIV", rec("ip-10-1-2-4.corp.example.", "A", 300, "10.1.2.4"))],
            changes: &["ZPRIV UPSERT ip-10-1-2-4.corp.example. A 10.1.2.4"],
            ..Case::default()
        },
        Case {
            what: "owned but changed by someone since: theirs now, conflict",
            zones: vec![zone("ZPRIV", "corp.example.", true)],
            owned: vec![owned("ZPRIV", rec("ip-10-1-2-4.corp.example.", "A", 60, "10.1.2.3"))],
            current: vec![("ZPRIV", rec("ip-10-1-2-4.corp.example.", "A", 60, "10.7.7.7"))],
            conflicts: &["ip-10-1-2-4.corp.example."],
            ..Case::default()
        },
        Case {
            what: "an alias removed from the tag is deleted, an owned one changed by someone is left",
            zones: vec![zone("ZPRIV", "corp.example.", true)],
            owned: vec![
                owned("ZPRIV", rec("ip-10-1-2-4.corp.example.", "A", 60, "10.1.2.4")),
                owned("ZPRIV", rec("old.corp.example.", "CNAME", 60, "ip-10-1-2-4.corp.example.")),
                owned("ZPRIV", rec("taken.corp.example.", "CNAME", 60, "ip-10-1-2-4.corp.example.")),
            ],
            current: vec![
                ("ZPRIV", rec("ip-10-1-2-4.corp.example.", "A", 60, "10.1.2.4")),
                ("ZPRIV", rec("old.corp.example.", "CNAME", 60, "ip-10-1-2-4.corp.example.")),
                ("ZPRIV", rec("taken.corp.example.", "CNAME", 60, "someone-else.corp.example.")),
            ],
            changes: &["ZPRIV DELETE old.corp.example. CNAME ip-10-1-2-4.corp.example."],
            ..Case::default()
        },
        Case {
            what: "an owned alias becomes the host name: DELETE before CREATE in one batch",
            instance: instance(&[("HOSTNAME", "api.corp.example")]),
            zones: vec![zone("ZPRIV", "corp.example.", true)],
            owned: vec![owned("ZPRIV", rec("api.corp.example.", "CNAME", 60, "ip-10-1-2-4.ec2.internal."))],
            current: vec![("ZPRIV", rec("api.corp.example.", "CNAME", 60, "ip-10-1-2-4.ec2.internal."))],
            changes: &[
                "ZPRIV DELETE api.corp.example. CNAME ip-10-1-2-4.ec2.internal.",
                "ZPRIV CREATE api.corp.example. A 10.1.2.4",
            ],
            ..Case::default()
        },
    ];
    for case in &cases {
        let plan = run(case);
        let want_changes = sorted(case.changes.iter().map(|s| s.to_string()));
        let got_changes = change_lines(&plan);
        assert_eq!(
            sorted(got_changes.clone()),
            want_changes,
            "{}: changes",
            case.what
        );
        let got_conflicts = sorted(plan.conflicts.iter().map(|c| c.name.clone()));
        assert_eq!(
            got_conflicts,
            sorted(case.conflicts.iter().map(|s| s.to_string())),
            "{}: conflicts",
            case.what
        );
        let got_rejected = sorted(plan.rejected.iter().map(|r| r.name.clone()));
        assert_eq!(
            got_rejected,
            sorted(case.rejected.iter().map(|s| s.to_string())),
            "{}: rejected",
            case.what
        );
        // Deletes lead each batch, so a name can change type in one batch.
        for z in &plan.zones {
            let first_non_delete = z
                .changes
                .iter()
                .position(|c| c.action != ChangeAction::Delete)
                .unwrap_or(z.changes.len());
            assert!(
                z.changes[first_non_delete..]
                    .iter()
                    .all(|c| c.action != ChangeAction::Delete),
                "{}",
                case.what
            );
        }
        // While in flight, the registry claims everything that may exist.
        for o in &plan.owned_after {
            assert!(
                plan.owned_during.contains(o),
                "{}: {o:?} not claimed during apply",
                case.what
            );
        }
    }
}

#[test]
fn deregister_deletes_only_what_is_as_written() {
    let a = owned(
        "ZPRIV",
        rec("ip-10-1-2-4.corp.example.", "A", 60, "10.1.2.4"),
    );
    let ptr = owned(
        "ZREV",
        rec(
            "4.2.1.10.in-addr.arpa.",
            "PTR",
            60,
            "ip-10-1-2-4.corp.example.",
        ),
    );
    let alias = owned(
        "ZPRIV",
        rec(
            "api.corp.example.",
            "CNAME",
            60,
            "ip-10-1-2-4.corp.example.",
        ),
    );
    let mut current = CurrentRecords::new();
    current.insert(
        "ZPRIV".into(),
        vec![
            a.record.clone(),
            rec("api.corp.example.", "CNAME", 60, "new-owner.corp.example."),
        ],
    );
    current.insert("ZREV".into(), vec![ptr.record.clone()]);
    let plan = plan_deregister(&[a, ptr, alias], &current);
    assert_eq!(
        sorted(change_lines(&plan)),
        sorted([
            "ZPRIV DELETE ip-10-1-2-4.corp.example. A 10.1.2.4".to_string(),
            "ZREV DELETE 4.2.1.10.in-addr.arpa. PTR ip-10-1-2-4.corp.example.".to_string(),
        ])
    );
    assert_eq!(plan.notes.len(), 1, "{:?}", plan.notes);
    assert!(plan.notes[0].contains("api.corp.example."));
    assert!(plan.conflicts.is_empty());
}

#[test]
fn names_to_read_cover_wanted_and_owned() {
    let config = Config::default();
    let inst = instance(&[("CNAME", "api.corp.example")]);
    let v = vpc(Some("corp.example"));
    let zones = corp_zones();
    let t = targets(&PlanInput {
        config: &config,
        instance: &inst,
        vpc: Some(&v),
        zones: &zones,
    });
    let read = t.names_to_read(&[owned(
        "ZPRIV",
        rec("old.corp.example.", "CNAME", 60, "x.corp.example."),
    )]);
    let priv_names: Vec<&str> = read["ZPRIV"].iter().map(String::as_str).collect();
    assert_eq!(
        priv_names,
        [
            "api.corp.example.",
            "ip-10-1-2-4.corp.example.",
            "old.corp.example."
        ]
    );
    assert!(!read.contains_key("ZPUB"), "no public IP, no public names");
    assert_eq!(read["ZREV"].len(), 1);
}

#[test]
fn split_names_accepts_commas_and_spaces() {
    assert_eq!(
        split_names(" a.example,b.example  c.example\t"),
        ["a.example.", "b.example.", "c.example."]
    );
}
