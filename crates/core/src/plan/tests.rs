//! Table-driven tests of the rules in `docs/records.md`: one named test per
//! case (`cargo test plan::tests::register::case_07_…`), so one failure
//! never hides the others.

use super::*;
use crate::ids::ZoneRef;
use crate::model::{
    DnsName, InstanceFacts, InstanceState, OwnedRecord, RecordSet, RecordType, VpcFacts, ZoneId,
    ZoneInfo,
};
use rstest::rstest;

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
        state: InstanceState::Running,
        vpc_id: Some("vpc-1".into()),
        subnet_id: Some("subnet-1".into()),
        private_ip: Some("10.1.2.4".parse().unwrap()),
        public_ip: None,
        ipv6: None,
        private_dns_name: Some("ip-10-1-2-4.ec2.internal".into()),
        public_dns_name: None,
        tags: tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        launch_time: None,
    }
}

fn public(mut i: InstanceFacts) -> InstanceFacts {
    i.public_ip = Some("54.1.2.3".parse().unwrap());
    i.public_dns_name = Some("ec2-54-1-2-3.compute-1.amazonaws.com".into());
    i
}

/// The instance with the primary IPv6 address 2001:db8:1:2::4 too.
fn dual(mut i: InstanceFacts) -> InstanceFacts {
    i.ipv6 = Some("2001:db8:1:2::4".parse().unwrap());
    i
}

/// An IPv6-only instance: no private IPv4, and the resource-based private
/// DNS name EC2 gives such an instance.
fn v6_only(mut i: InstanceFacts) -> InstanceFacts {
    i.private_ip = None;
    i.private_dns_name = Some("i-0web1.us-east-1.compute.internal".into());
    dual(i)
}

/// The nibble PTR name of 2001:db8:1:2::4.
const PTR6: &str = "4.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.";

/// corp.example. in both views, the /8 IPv4 reverse zone, and the /32 and
/// /64 IPv6 reverse zones (the /64 is the more specific).
fn dual_zones() -> Vec<ZoneInfo> {
    let mut zones = corp_zones();
    zones.push(zone("ZREV6W", "8.b.d.0.1.0.0.2.ip6.arpa.", true));
    zones.push(zone(
        "ZREV6",
        "2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.",
        true,
    ));
    zones
}

fn vpc(domain: Option<&str>) -> VpcFacts {
    VpcFacts {
        vpc_id: "vpc-1".into(),
        dhcp_domain: domain.map(str::to_string),
        dns_support: true,
        dns_hostnames: true,
    }
}

/// `DDNS_ALLOWED_ZONES` as a user sets it.
fn allowed(zones: &[&str]) -> Config {
    Config::from_lookup(|k| (k == "DDNS_ALLOWED_ZONES").then(|| zones.join(",")))
        .expect("valid zone list")
}

fn rec(name: &str, rtype: &str, ttl: u32, value: &str) -> RecordSet {
    RecordSet::new(name, RecordType::from(rtype), ttl, vec![value.to_string()])
}

/// A group member's record set at `name`, set identifier `id`.
fn member(name: &str, rtype: &str, value: &str, id: &str) -> RecordSet {
    RecordSet::multivalue(name, RecordType::from(rtype), 60, value.into(), id)
}

fn stopped(mut i: InstanceFacts) -> InstanceFacts {
    i.state = InstanceState::Stopped;
    i
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
    /// `(enableDnsSupport, enableDnsHostnames)` of the VPC.
    dns: (bool, bool),
    /// Phrases that must appear among the reasons, notes and warnings.
    says: &'static [&'static str],
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
            dns: (true, true),
            says: &[],
        }
    }
}

fn run(case: &Case) -> Plan {
    let v = VpcFacts {
        dns_support: case.dns.0,
        dns_hostnames: case.dns.1,
        ..vpc(case.dhcp)
    };
    let input = PlanInput {
        default_name: DefaultName::FromPrivateDns,
        config: &case.config,
        instance: &case.instance,
        vpc: Some(&v),
        zones: &case.zones,
    };
    let t = targets(&input);
    let mut current = CurrentRecords::new();
    for (zone_id, r) in &case.current {
        current
            .entry(ZoneId::new(zone_id))
            .or_default()
            .push(r.clone());
    }
    // Only what the planner asked to read may influence it.
    let seen = Observed::everything(&t.names_to_read(&case.owned), &current);
    plan_register(&t, &case.owned, &[], &seen, case.config.ttl)
}

fn change_lines(plan: &Plan) -> Vec<String> {
    plan.zones
        .iter()
        .flat_map(|z| {
            z.changes.iter().map(move |c| {
                let member = c
                    .record
                    .routing
                    .set_id()
                    .map(|id| format!(" [{id}]"))
                    .unwrap_or_default();
                format!(
                    "{} {} {} {} {}{member}",
                    z.zone_id,
                    c.action.as_str(),
                    c.record.name,
                    c.record.rtype,
                    c.record.values().join(",")
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

#[rstest]
#[case::private_zone_from_the_dhcp_domain_host_a_and(Case {
        what: "private zone from the DHCP domain: host A and PTR",
        changes: &[
            "ZPRIV CREATE ip-10-1-2-4.corp.example. A 10.1.2.4",
            "ZREV CREATE 4.2.1.10.in-addr.arpa. PTR ip-10-1-2-4.corp.example.",
        ],
        ..Case::default()
    })]
#[case::split_horizon_a_public_ipv4_adds_the_public_a(Case {
        what: "split horizon: a public IPv4 adds the public A of the same name",
        instance: public(instance(&[])),
        changes: &[
            "ZPRIV CREATE ip-10-1-2-4.corp.example. A 10.1.2.4",
            "ZPUB CREATE ip-10-1-2-4.corp.example. A 54.1.2.3",
            "ZREV CREATE 4.2.1.10.in-addr.arpa. PTR ip-10-1-2-4.corp.example.",
        ],
        ..Case::default()
    })]
#[case::aliases_in_both_views_point_at_the_host_a(Case {
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
    })]
#[case::no_host_a_no_home_domain_aliases_point_at(Case {
        what: "no host A (no home domain): aliases point at the AWS DNS names",
        instance: public(instance(&[("CNAME", "api.corp.example")])),
        dhcp: None,
        changes: &[
            "ZPRIV CREATE api.corp.example. CNAME ip-10-1-2-4.ec2.internal.",
            "ZPUB CREATE api.corp.example. CNAME ec2-54-1-2-3.compute-1.amazonaws.com.",
        ],
        ..Case::default()
    })]
#[case::no_home_domain_and_no_tags_nothing_and_not(Case {
        what: "no home domain and no tags: nothing, and not an error",
        dhcp: None,
        ..Case::default()
    })]
#[case::aws_s_own_dhcp_suffix_never_counts_as_a(Case {
        what: "AWS's own DHCP suffix never counts as a home domain",
        dhcp: Some("ec2.internal"),
        ..Case::default()
    })]
#[case::ddns_default_zone_is_the_last_fallback(Case {
        what: "DDNS_DEFAULT_ZONE is the last fallback",
        dhcp: Some("eu-west-1.compute.internal"),
        config: Config { default_zone: Some("corp.example.".into()), ..Config::default() },
        changes: &[
            "ZPRIV CREATE ip-10-1-2-4.corp.example. A 10.1.2.4",
            "ZREV CREATE 4.2.1.10.in-addr.arpa. PTR ip-10-1-2-4.corp.example.",
        ],
        ..Case::default()
    })]
#[case::zone_tag_wins_over_dhcp_longest_suffix_picks_the(Case {
        what: "ZONE tag wins over DHCP; longest suffix picks the sub-zone",
        instance: instance(&[("ZONE", "Dev.Corp.Example")]),
        zones: vec![zone("ZPRIV", "corp.example.", true), zone("ZDEV", "dev.corp.example.", true)],
        changes: &["ZDEV CREATE ip-10-1-2-4.dev.corp.example. A 10.1.2.4"],
        ..Case::default()
    })]
#[case::label_wise_suffix_xcorp_example_is_not_inside_corp(Case {
        what: "label-wise suffix: xcorp.example. is not inside corp.example.",
        instance: instance(&[("HOSTNAME", "web.xcorp.example")]),
        zones: vec![zone("ZPRIV", "corp.example.", true)],
        rejected: &["web.xcorp.example."],
        ..Case::default()
    })]
#[case::hostname_gives_the_vanity_name_a_bare_label_joins(Case {
        what: "HOSTNAME gives the vanity name; a bare label joins the home domain",
        instance: instance(&[("HOSTNAME", "web-1")]),
        changes: &[
            "ZPRIV CREATE web-1.corp.example. A 10.1.2.4",
            "ZREV CREATE 4.2.1.10.in-addr.arpa. PTR web-1.corp.example.",
        ],
        ..Case::default()
    })]
#[case::the_most_specific_reverse_zone_takes_the_ptr(Case {
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
    })]
#[case::no_reverse_zone_no_ptr_not_an_error(Case {
        what: "no reverse zone: no PTR, not an error",
        zones: vec![zone("ZPRIV", "corp.example.", true)],
        changes: &["ZPRIV CREATE ip-10-1-2-4.corp.example. A 10.1.2.4"],
        ..Case::default()
    })]
#[case::apex_wildcard_invalid_and_hostile_names_are_rejected_the(Case {
        what: "apex, wildcard, invalid and hostile names are rejected, the rest still goes in",
        instance: instance(&[("CNAME", "corp.example, *.corp.example, bad_name.corp.example, a;rm.corp.example, ok.corp.example")]),
        zones: vec![zone("ZPRIV", "corp.example.", true)],
        changes: &[
            "ZPRIV CREATE ip-10-1-2-4.corp.example. A 10.1.2.4",
            "ZPRIV CREATE ok.corp.example. CNAME ip-10-1-2-4.corp.example.",
        ],
        rejected: &["corp.example.", "*.corp.example.", "bad_name.corp.example.", "a;rm.corp.example."],
        ..Case::default()
    })]
#[case::names_in_the_reverse_tree_are_rejected_found_by_attack(Case {
        what: "CNAME and HOSTNAME names inside in-addr.arpa or ip6.arpa are rejected (another address's PTR name)",
        instance: instance(&[("CNAME", "5.2.1.10.in-addr.arpa, ok.corp.example"), ("HOSTNAME", "9.9.1.10.in-addr.arpa")]),
        // A rejected HOSTNAME gets no host record (as any invalid one): the
        // alias points at the private DNS name.
        changes: &["ZPRIV CREATE ok.corp.example. CNAME ip-10-1-2-4.ec2.internal."],
        rejected: &["5.2.1.10.in-addr.arpa.", "9.9.1.10.in-addr.arpa."],
        ..Case::default()
    })]
#[case::hostname_at_a_zone_apex_is_rejected(Case {
        what: "HOSTNAME at a zone apex is rejected",
        instance: instance(&[("HOSTNAME", "corp.example.")]),
        zones: vec![zone("ZPRIV", "corp.example.", true)],
        rejected: &["corp.example."],
        ..Case::default()
    })]
#[case::a_zone_outside_ddns_allowed_zones_is_not_managed(Case {
        what: "a zone outside DDNS_ALLOWED_ZONES is not managed",
        config: Config { allowed_zones: vec![ZoneRef::Id("ZREV".into())], ..Config::default() },
        rejected: &["ip-10-1-2-4.corp.example."],
        ..Case::default()
    })]
#[case::a_public_only_alias_needs_a_public_dns_name(Case {
        what: "a public-only alias needs a public DNS name",
        instance: instance(&[("CNAME", "api.public.example")]),
        zones: vec![zone("ZPRIV", "corp.example.", true), zone("ZP2", "public.example.", false)],
        changes: &["ZPRIV CREATE ip-10-1-2-4.corp.example. A 10.1.2.4"],
        rejected: &["api.public.example."],
        ..Case::default()
    })]
#[case::a_foreign_a_at_the_host_name_conflict_the(Case {
        what: "a foreign A at the host name: conflict; the PTR waits, the alias falls back",
        instance: instance(&[("CNAME", "api.corp.example")]),
        current: vec![("ZPRIV", rec("ip-10-1-2-4.corp.example.", "A", 300, "10.9.9.9"))],
        changes: &["ZPRIV CREATE api.corp.example. CNAME ip-10-1-2-4.ec2.internal."],
        conflicts: &["ip-10-1-2-4.corp.example."],
        ..Case::default()
    })]
#[case::an_identical_record_this_instance_did_not_write_is(Case {
        what: "an identical record this instance did not write is still foreign",
        current: vec![("ZPRIV", rec("ip-10-1-2-4.corp.example.", "A", 60, "10.1.2.4"))],
        conflicts: &["ip-10-1-2-4.corp.example."],
        ..Case::default()
    })]
#[case::a_cname_never_joins_another_record_and_nothing_joins(Case {
        what: "a CNAME never joins another record, and nothing joins a CNAME",
        instance: instance(&[("CNAME", "db.corp.example"), ("HOSTNAME", "old.corp.example")]),
        zones: vec![zone("ZPRIV", "corp.example.", true)],
        current: vec![
            ("ZPRIV", rec("db.corp.example.", "TXT", 300, "\"owner=dba\"")),
            ("ZPRIV", rec("old.corp.example.", "CNAME", 300, "legacy.corp.example.")),
        ],
        conflicts: &["db.corp.example.", "old.corp.example."],
        ..Case::default()
    })]
#[case::an_alias_equal_to_the_host_name_conflicts_with(Case {
        what: "an alias equal to the host name conflicts with this instance's own A",
        instance: instance(&[("CNAME", "ip-10-1-2-4.corp.example")]),
        zones: vec![zone("ZPRIV", "corp.example.", true)],
        changes: &["ZPRIV CREATE ip-10-1-2-4.corp.example. A 10.1.2.4"],
        conflicts: &["ip-10-1-2-4.corp.example."],
        ..Case::default()
    })]
#[case::owned_and_unchanged_nothing_to_do(Case {
        what: "owned and unchanged: nothing to do",
        zones: vec![zone("ZPRIV", "corp.example.", true)],
        owned: vec![owned("ZPRIV", rec("ip-10-1-2-4.corp.example.", "A", 60, "10.1.2.4"))],
        current: vec![("ZPRIV", rec("ip-10-1-2-4.corp.example.", "A", 60, "10.1.2.4"))],
        ..Case::default()
    })]
#[case::owned_with_an_old_value_delete_exactly_it_and_create(Case {
        what: "owned with an old value: DELETE exactly it + CREATE (compare-and-swap)",
        zones: vec![zone("ZPRIV", "corp.example.", true)],
        owned: vec![owned("ZPRIV", rec("ip-10-1-2-4.corp.example.", "A", 300, "10.1.2.4"))],
        current: vec![("ZPRIV", rec("ip-10-1-2-4.corp.example.", "A", 300, "10.1.2.4"))],
        changes: &[
            "ZPRIV DELETE ip-10-1-2-4.corp.example. A 10.1.2.4",
            "ZPRIV CREATE ip-10-1-2-4.corp.example. A 10.1.2.4",
        ],
        ..Case::default()
    })]
#[case::owned_but_changed_by_someone_since_theirs_now_conflict(Case {
        what: "owned but changed by someone since: theirs now, conflict",
        zones: vec![zone("ZPRIV", "corp.example.", true)],
        owned: vec![owned("ZPRIV", rec("ip-10-1-2-4.corp.example.", "A", 60, "10.1.2.3"))],
        current: vec![("ZPRIV", rec("ip-10-1-2-4.corp.example.", "A", 60, "10.7.7.7"))],
        conflicts: &["ip-10-1-2-4.corp.example."],
        ..Case::default()
    })]
#[case::an_alias_removed_from_the_tag_is_deleted_an(Case {
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
    })]
#[case::an_owned_alias_becomes_the_host_name_delete_before(Case {
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
    })]
#[case::zone_tag_naming_aws_s_own_suffix_falls_back_to_dhcp(Case {
    what: "a ZONE tag naming AWS's own suffix falls back to the DHCP domain",
    instance: instance(&[("ZONE", "ec2.internal")]),
    changes: &[
        "ZPRIV CREATE ip-10-1-2-4.corp.example. A 10.1.2.4",
        "ZREV CREATE 4.2.1.10.in-addr.arpa. PTR ip-10-1-2-4.corp.example.",
    ],
    says: &["ZONE tag names AWS's own suffix ec2.internal"],
    ..Case::default()
})]
#[case::zone_tag_naming_the_regional_suffix_falls_back_too(Case {
    what: "ZONE=us-east-1.compute.internal falls back as well",
    instance: instance(&[("ZONE", "us-east-1.compute.internal")]),
    zones: vec![zone("ZPRIV", "corp.example.", true)],
    changes: &["ZPRIV CREATE ip-10-1-2-4.corp.example. A 10.1.2.4"],
    ..Case::default()
})]
#[case::a_name_whose_most_specific_zone_is_not_managed_is_rejected(Case {
    what: "a name under an excluded child zone is not written into the managed parent",
    instance: instance(&[("CNAME", "api.sub.corp.example"), ("HOSTNAME", "web.sub.corp.example")]),
    zones: vec![zone("ZPRIV", "corp.example.", true), zone("ZSUB", "sub.corp.example.", true)],
    config: allowed(&["corp.example"]),
    rejected: &["api.sub.corp.example.", "web.sub.corp.example."],
    says: &["the zone for web.sub.corp.example. is sub.corp.example. (ZSUB), which DDNS_ALLOWED_ZONES leaves out"],
    ..Case::default()
})]
#[case::an_unmanaged_reverse_zone_gets_no_ptr(Case {
    what: "a PTR whose reverse zone is not managed is left out, with a note",
    config: allowed(&["corp.example"]),
    zones: vec![zone("ZPRIV", "corp.example.", true), zone("ZREV", "10.in-addr.arpa.", true)],
    changes: &["ZPRIV CREATE ip-10-1-2-4.corp.example. A 10.1.2.4"],
    says: &["no PTR: the zone for 4.2.1.10.in-addr.arpa. is 10.in-addr.arpa. (ZREV)"],
    ..Case::default()
})]
#[case::an_empty_hostname_tag_is_named(Case {
    what: "HOSTNAME=\"\" is rejected naming the tag",
    instance: instance(&[("HOSTNAME", "")]),
    rejected: &["tag HOSTNAME"],
    says: &["the HOSTNAME tag is empty"],
    ..Case::default()
})]
#[case::an_empty_zone_tag_is_named(Case {
    what: "ZONE=\"\" is rejected naming the tag",
    instance: instance(&[("ZONE", " ")]),
    rejected: &["tag ZONE"],
    says: &["the ZONE tag is empty"],
    ..Case::default()
})]
#[case::control_characters_in_a_tag_are_escaped(Case {
    what: "a tag value with control characters is rejected with them escaped",
    instance: instance(&[("CNAME", "ev\u{1b}[31mil.corp.example")]),
    zones: vec![zone("ZPRIV", "corp.example.", true)],
    changes: &["ZPRIV CREATE ip-10-1-2-4.corp.example. A 10.1.2.4"],
    rejected: &["ev\\u{1b}[31mil.corp.example."],
    ..Case::default()
})]
#[case::a_vpc_without_dns_support_warns(Case {
    what: "private zones in a VPC without DNS support or hostnames: written, with a warning",
    zones: vec![zone("ZPRIV", "corp.example.", true)],
    dns: (true, false),
    changes: &["ZPRIV CREATE ip-10-1-2-4.corp.example. A 10.1.2.4"],
    says: &["enableDnsSupport=true, enableDnsHostnames=false"],
    ..Case::default()
})]
#[case::an_owned_record_deleted_by_a_person_is_not_claimed_after_a_rename(Case {
    what: "a person deleted the PTR, then HOSTNAME renamed the host: the PTR is written anew and the old one is no longer owned",
    instance: instance(&[("HOSTNAME", "web.corp.example")]),
    owned: vec![host_a(), host_ptr()],
    current: vec![("ZPRIV", host_a().record)],
    changes: &[
        "ZPRIV DELETE ip-10-1-2-4.corp.example. A 10.1.2.4",
        "ZPRIV CREATE web.corp.example. A 10.1.2.4",
        "ZREV CREATE 4.2.1.10.in-addr.arpa. PTR web.corp.example.",
    ],
    says: &["vanished since it was written"],
    ..Case::default()
})]
#[case::ipv6_dual_stack_gets_aaaa_beside_a_and_both_ptrs(Case {
    what: "IPv6: a dual-stack instance gets an AAAA beside its A, and both PTRs (the most specific ip6.arpa zone); its IPv6 goes public by default",
    instance: dual(instance(&[])),
    zones: dual_zones(),
    changes: &[
        "ZPRIV CREATE ip-10-1-2-4.corp.example. A 10.1.2.4",
        "ZPRIV CREATE ip-10-1-2-4.corp.example. AAAA 2001:db8:1:2::4",
        "ZPUB CREATE ip-10-1-2-4.corp.example. AAAA 2001:db8:1:2::4",
        "ZREV CREATE 4.2.1.10.in-addr.arpa. PTR ip-10-1-2-4.corp.example.",
        "ZREV6 CREATE 4.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa. PTR ip-10-1-2-4.corp.example.",
    ],
    ..Case::default()
})]
#[case::ipv6_with_a_public_ipv4_both_public_records(Case {
    what: "IPv6 with a public IPv4: the public view gets the A and the AAAA; aliases point at the host name in both views",
    instance: dual(public(instance(&[("CNAME", "api.corp.example")]))),
    zones: dual_zones(),
    changes: &[
        "ZPRIV CREATE api.corp.example. CNAME ip-10-1-2-4.corp.example.",
        "ZPRIV CREATE ip-10-1-2-4.corp.example. A 10.1.2.4",
        "ZPRIV CREATE ip-10-1-2-4.corp.example. AAAA 2001:db8:1:2::4",
        "ZPUB CREATE api.corp.example. CNAME ip-10-1-2-4.corp.example.",
        "ZPUB CREATE ip-10-1-2-4.corp.example. A 54.1.2.3",
        "ZPUB CREATE ip-10-1-2-4.corp.example. AAAA 2001:db8:1:2::4",
        "ZREV CREATE 4.2.1.10.in-addr.arpa. PTR ip-10-1-2-4.corp.example.",
        "ZREV6 CREATE 4.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa. PTR ip-10-1-2-4.corp.example.",
    ],
    ..Case::default()
})]
#[case::ipv6_public_switch_off_keeps_the_aaaa_private(Case {
    what: "DDNS_PUBLIC_IPV6=false: the AAAA stays in the private view; a public-only alias has nothing to point at",
    instance: dual(instance(&[("CNAME", "api.corp.example, www.public.example")])),
    zones: { let mut z = dual_zones(); z.push(zone("ZP2", "public.example.", false)); z },
    config: Config { public_ipv6: false, ..Config::default() },
    changes: &[
        "ZPRIV CREATE api.corp.example. CNAME ip-10-1-2-4.corp.example.",
        "ZPRIV CREATE ip-10-1-2-4.corp.example. A 10.1.2.4",
        "ZPRIV CREATE ip-10-1-2-4.corp.example. AAAA 2001:db8:1:2::4",
        "ZREV CREATE 4.2.1.10.in-addr.arpa. PTR ip-10-1-2-4.corp.example.",
        "ZREV6 CREATE 4.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa. PTR ip-10-1-2-4.corp.example.",
    ],
    rejected: &["www.public.example."],
    ..Case::default()
})]
#[case::ipv6_only_instance_is_registered_by_its_resource_name(Case {
    what: "IPv6-only: AAAA in both views, the ip6.arpa PTR, the label from the resource-based name, aliases to the host name",
    instance: v6_only(instance(&[("CNAME", "api.corp.example")])),
    zones: dual_zones(),
    changes: &[
        "ZPRIV CREATE api.corp.example. CNAME i-0web1.corp.example.",
        "ZPRIV CREATE i-0web1.corp.example. AAAA 2001:db8:1:2::4",
        "ZPUB CREATE api.corp.example. CNAME i-0web1.corp.example.",
        "ZPUB CREATE i-0web1.corp.example. AAAA 2001:db8:1:2::4",
        "ZREV6 CREATE 4.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa. PTR i-0web1.corp.example.",
    ],
    ..Case::default()
})]
#[case::ipv6_only_public_only_name_with_the_switch_off(Case {
    what: "IPv6-only, a name only in a public zone, DDNS_PUBLIC_IPV6=false: rejected, saying why",
    instance: v6_only(instance(&[("HOSTNAME", "web.public.example")])),
    zones: vec![zone("ZP2", "public.example.", false)],
    config: Config { public_ipv6: false, ..Config::default() },
    rejected: &["web.public.example."],
    says: &["DDNS_PUBLIC_IPV6=false keeps its IPv6 address out of public zones"],
    ..Case::default()
})]
#[case::ipv6_foreign_aaaa_is_a_conflict_the_a_still_goes_in(Case {
    what: "a foreign AAAA at the host name: a conflict; the A and its PTR still go in, the ip6.arpa PTR waits",
    instance: dual(instance(&[])),
    zones: vec![zone("ZPRIV", "corp.example.", true), zone("ZREV", "10.in-addr.arpa.", true), zone("ZREV6", "8.b.d.0.1.0.0.2.ip6.arpa.", true)],
    current: vec![("ZPRIV", rec("ip-10-1-2-4.corp.example.", "AAAA", 60, "2001:db8::99"))],
    changes: &[
        "ZPRIV CREATE ip-10-1-2-4.corp.example. A 10.1.2.4",
        "ZREV CREATE 4.2.1.10.in-addr.arpa. PTR ip-10-1-2-4.corp.example.",
    ],
    conflicts: &["ip-10-1-2-4.corp.example."],
    ..Case::default()
})]
#[case::ipv6_an_owned_aaaa_follows_a_new_address(Case {
    what: "an owned AAAA follows a new IPv6 address (DELETE exactly + CREATE); the old PTR goes, the new one comes",
    instance: dual(instance(&[])),
    zones: vec![zone("ZPRIV", "corp.example.", true), zone("ZREV6", "8.b.d.0.1.0.0.2.ip6.arpa.", true)],
    owned: vec![
        owned("ZPRIV", rec("ip-10-1-2-4.corp.example.", "A", 60, "10.1.2.4")),
        owned("ZPRIV", rec("ip-10-1-2-4.corp.example.", "AAAA", 60, "2001:db8:1:2::3")),
        OwnedRecord { zone_id: "ZREV6".into(), zone_name: "8.b.d.0.1.0.0.2.ip6.arpa.".into(), record: rec("3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.", "PTR", 60, "ip-10-1-2-4.corp.example.") },
    ],
    current: vec![
        ("ZPRIV", rec("ip-10-1-2-4.corp.example.", "A", 60, "10.1.2.4")),
        ("ZPRIV", rec("ip-10-1-2-4.corp.example.", "AAAA", 60, "2001:db8:1:2::3")),
        ("ZREV6", rec("3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.", "PTR", 60, "ip-10-1-2-4.corp.example.")),
    ],
    changes: &[
        "ZPRIV CREATE ip-10-1-2-4.corp.example. AAAA 2001:db8:1:2::4",
        "ZPRIV DELETE ip-10-1-2-4.corp.example. AAAA 2001:db8:1:2::3",
        "ZREV6 CREATE 4.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa. PTR ip-10-1-2-4.corp.example.",
        "ZREV6 DELETE 3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa. PTR ip-10-1-2-4.corp.example.",
    ],
    ..Case::default()
})]
#[case::ipv6_a_public_ip6_arpa_zone_takes_no_ptr(Case {
    what: "an ip6.arpa zone that is public (or not associated) takes no PTR",
    instance: dual(instance(&[])),
    zones: vec![zone("ZPRIV", "corp.example.", true), zone("ZREV6PUB", "8.b.d.0.1.0.0.2.ip6.arpa.", false)],
    changes: &[
        "ZPRIV CREATE ip-10-1-2-4.corp.example. A 10.1.2.4",
        "ZPRIV CREATE ip-10-1-2-4.corp.example. AAAA 2001:db8:1:2::4",
    ],
    ..Case::default()
})]
#[case::group_a_member_gets_its_own_record_set(Case {
    what: "GROUP: the instance gets its own multivalue record set at the group name, beside its host records",
    instance: instance(&[("GROUP", "web.corp.example")]),
    changes: &[
        "ZPRIV CREATE ip-10-1-2-4.corp.example. A 10.1.2.4",
        "ZPRIV CREATE web.corp.example. A 10.1.2.4 [i-0web1]",
        "ZREV CREATE 4.2.1.10.in-addr.arpa. PTR ip-10-1-2-4.corp.example.",
    ],
    ..Case::default()
})]
#[case::group_in_both_views_with_ipv6(Case {
    what: "GROUP, public and dual-stack: an A and an AAAA record set in each view",
    instance: public(dual(instance(&[("GROUP", "web.corp.example, api.corp.example")]))),
    zones: vec![zone("ZPRIV", "corp.example.", true), zone("ZPUB", "corp.example.", false)],
    changes: &[
        "ZPRIV CREATE ip-10-1-2-4.corp.example. A 10.1.2.4",
        "ZPRIV CREATE ip-10-1-2-4.corp.example. AAAA 2001:db8:1:2::4",
        "ZPRIV CREATE web.corp.example. A 10.1.2.4 [i-0web1]",
        "ZPRIV CREATE web.corp.example. AAAA 2001:db8:1:2::4 [i-0web1]",
        "ZPRIV CREATE api.corp.example. A 10.1.2.4 [i-0web1]",
        "ZPRIV CREATE api.corp.example. AAAA 2001:db8:1:2::4 [i-0web1]",
        "ZPUB CREATE ip-10-1-2-4.corp.example. A 54.1.2.3",
        "ZPUB CREATE ip-10-1-2-4.corp.example. AAAA 2001:db8:1:2::4",
        "ZPUB CREATE web.corp.example. A 54.1.2.3 [i-0web1]",
        "ZPUB CREATE web.corp.example. AAAA 2001:db8:1:2::4 [i-0web1]",
        "ZPUB CREATE api.corp.example. A 54.1.2.3 [i-0web1]",
        "ZPUB CREATE api.corp.example. AAAA 2001:db8:1:2::4 [i-0web1]",
    ],
    ..Case::default()
})]
#[case::group_other_members_are_no_conflict(Case {
    what: "other members' record sets at the group name: no conflict, none touched",
    instance: instance(&[("GROUP", "web.corp.example")]),
    zones: vec![zone("ZPRIV", "corp.example.", true)],
    current: vec![
        ("ZPRIV", member("web.corp.example.", "A", "10.1.2.5", "i-0web2")),
        ("ZPRIV", member("web.corp.example.", "A", "10.1.2.4", "i-0old")),
    ],
    changes: &[
        "ZPRIV CREATE ip-10-1-2-4.corp.example. A 10.1.2.4",
        "ZPRIV CREATE web.corp.example. A 10.1.2.4 [i-0web1]",
    ],
    ..Case::default()
})]
#[case::group_a_bare_label_is_in_the_home_domain(Case {
    what: "a bare label in GROUP is a name in the home domain",
    instance: instance(&[("GROUP", "web")]),
    zones: vec![zone("ZPRIV", "corp.example.", true)],
    changes: &[
        "ZPRIV CREATE ip-10-1-2-4.corp.example. A 10.1.2.4",
        "ZPRIV CREATE web.corp.example. A 10.1.2.4 [i-0web1]",
    ],
    ..Case::default()
})]
#[case::group_a_simple_record_at_the_name_is_a_conflict(Case {
    what: "someone's simple A at the group name: a conflict, nothing overwritten; the host still goes in",
    instance: instance(&[("GROUP", "web.corp.example")]),
    zones: vec![zone("ZPRIV", "corp.example.", true)],
    current: vec![("ZPRIV", rec("web.corp.example.", "A", 300, "10.9.9.9"))],
    changes: &["ZPRIV CREATE ip-10-1-2-4.corp.example. A 10.1.2.4"],
    conflicts: &["web.corp.example."],
    says: &["the name holds a simple A record set (10.9.9.9)", "share one routing policy"],
    ..Case::default()
})]
#[case::group_weighted_records_at_the_name_are_a_conflict(Case {
    what: "someone's weighted record sets at the group name: a conflict",
    instance: instance(&[("GROUP", "web.corp.example")]),
    zones: vec![zone("ZPRIV", "corp.example.", true)],
    current: vec![("ZPRIV", rec("web.corp.example.", "A", 60, "10.9.9.9").with_routing(crate::model::Routing::Other { policy: "weighted".into(), set_id: "blue".into() }))],
    changes: &["ZPRIV CREATE ip-10-1-2-4.corp.example. A 10.1.2.4"],
    conflicts: &["web.corp.example."],
    says: &["a weighted A record set (10.9.9.9 of blue)"],
    ..Case::default()
})]
#[case::group_a_cname_at_the_name_is_a_conflict(Case {
    what: "a CNAME at the group name: a conflict",
    instance: instance(&[("GROUP", "web.corp.example")]),
    zones: vec![zone("ZPRIV", "corp.example.", true)],
    current: vec![("ZPRIV", rec("web.corp.example.", "CNAME", 60, "lb.example."))],
    changes: &["ZPRIV CREATE ip-10-1-2-4.corp.example. A 10.1.2.4"],
    conflicts: &["web.corp.example."],
    says: &["the name is a CNAME to lb.example."],
    ..Case::default()
})]
#[case::group_a_record_set_with_its_id_it_did_not_write(Case {
    what: "a record set with this instance's id that it did not write: held by someone else",
    instance: instance(&[("GROUP", "web.corp.example")]),
    zones: vec![zone("ZPRIV", "corp.example.", true)],
    current: vec![("ZPRIV", member("web.corp.example.", "A", "10.1.2.4", "i-0web1"))],
    changes: &["ZPRIV CREATE ip-10-1-2-4.corp.example. A 10.1.2.4"],
    conflicts: &["web.corp.example."],
    says: &["an identical record this instance did not write"],
    ..Case::default()
})]
#[case::group_hostname_at_a_group_name_is_a_conflict(Case {
    what: "HOSTNAME and GROUP name one name: the host's simple A goes in, the group's record set conflicts",
    instance: instance(&[("GROUP", "web.corp.example"), ("HOSTNAME", "web.corp.example")]),
    zones: vec![zone("ZPRIV", "corp.example.", true)],
    changes: &["ZPRIV CREATE web.corp.example. A 10.1.2.4"],
    conflicts: &["web.corp.example."],
    says: &["this instance already gets a simple record of this type here (its host name)"],
    ..Case::default()
})]
#[case::group_an_owned_member_set_gives_way_to_the_host_name(Case {
    what: "a member whose HOSTNAME becomes its group name: its own record set goes, the host A comes, in one batch",
    instance: instance(&[("GROUP", "web.corp.example"), ("HOSTNAME", "web.corp.example")]),
    zones: vec![zone("ZPRIV", "corp.example.", true)],
    owned: vec![owned("ZPRIV", member("web.corp.example.", "A", "10.1.2.4", "i-0web1"))],
    current: vec![("ZPRIV", member("web.corp.example.", "A", "10.1.2.4", "i-0web1"))],
    changes: &[
        "ZPRIV DELETE web.corp.example. A 10.1.2.4 [i-0web1]",
        "ZPRIV CREATE web.corp.example. A 10.1.2.4",
    ],
    conflicts: &["web.corp.example."],
    ..Case::default()
})]
#[case::group_an_owned_alias_gives_way_to_a_group_name(Case {
    what: "an owned alias whose name becomes a group name: the alias goes, the member's record set comes",
    instance: instance(&[("GROUP", "api.corp.example"), ("CNAME", "api.corp.example")]),
    zones: vec![zone("ZPRIV", "corp.example.", true)],
    owned: vec![
        owned("ZPRIV", rec("ip-10-1-2-4.corp.example.", "A", 60, "10.1.2.4")),
        owned("ZPRIV", rec("api.corp.example.", "CNAME", 60, "ip-10-1-2-4.corp.example.")),
    ],
    current: vec![
        ("ZPRIV", rec("ip-10-1-2-4.corp.example.", "A", 60, "10.1.2.4")),
        ("ZPRIV", rec("api.corp.example.", "CNAME", 60, "ip-10-1-2-4.corp.example.")),
    ],
    changes: &[
        "ZPRIV DELETE api.corp.example. CNAME ip-10-1-2-4.corp.example.",
        "ZPRIV CREATE api.corp.example. A 10.1.2.4 [i-0web1]",
    ],
    conflicts: &["api.corp.example."],
    says: &["this instance already gets its host or group record here"],
    ..Case::default()
})]
#[case::group_hostname_where_a_group_answers(Case {
    what: "a HOSTNAME where other instances' group answers: a conflict",
    instance: instance(&[("HOSTNAME", "web.corp.example")]),
    zones: vec![zone("ZPRIV", "corp.example.", true)],
    current: vec![("ZPRIV", member("web.corp.example.", "A", "10.1.2.5", "i-0web2"))],
    conflicts: &["web.corp.example."],
    says: &["the name holds a multivalue A record set (10.1.2.5 of i-0web2)"],
    ..Case::default()
})]
#[case::group_an_alias_at_a_group_name_is_a_conflict(Case {
    what: "a CNAME tag naming a group name of the same instance: the alias conflicts",
    instance: instance(&[("GROUP", "web.corp.example"), ("CNAME", "web.corp.example")]),
    zones: vec![zone("ZPRIV", "corp.example.", true)],
    changes: &[
        "ZPRIV CREATE ip-10-1-2-4.corp.example. A 10.1.2.4",
        "ZPRIV CREATE web.corp.example. A 10.1.2.4 [i-0web1]",
    ],
    conflicts: &["web.corp.example."],
    says: &["a CNAME must stand alone"],
    ..Case::default()
})]
#[case::group_leaving_deletes_only_its_own_set(Case {
    what: "the GROUP tag removed: its own record set goes, the other members' stay",
    instance: instance(&[]),
    zones: vec![zone("ZPRIV", "corp.example.", true)],
    owned: vec![
        owned("ZPRIV", rec("ip-10-1-2-4.corp.example.", "A", 60, "10.1.2.4")),
        owned("ZPRIV", member("web.corp.example.", "A", "10.1.2.4", "i-0web1")),
    ],
    current: vec![
        ("ZPRIV", rec("ip-10-1-2-4.corp.example.", "A", 60, "10.1.2.4")),
        ("ZPRIV", member("web.corp.example.", "A", "10.1.2.4", "i-0web1")),
        ("ZPRIV", member("web.corp.example.", "A", "10.1.2.5", "i-0web2")),
    ],
    changes: &["ZPRIV DELETE web.corp.example. A 10.1.2.4 [i-0web1]"],
    ..Case::default()
})]
#[case::group_a_new_address_swaps_its_own_set(Case {
    what: "a member's new address: DELETE exactly its old record set, CREATE the new one",
    instance: instance(&[("GROUP", "web.corp.example")]),
    zones: vec![zone("ZPRIV", "corp.example.", true)],
    owned: vec![
        owned("ZPRIV", rec("ip-10-1-2-4.corp.example.", "A", 60, "10.1.2.3")),
        owned("ZPRIV", member("web.corp.example.", "A", "10.1.2.3", "i-0web1")),
    ],
    current: vec![
        ("ZPRIV", rec("ip-10-1-2-4.corp.example.", "A", 60, "10.1.2.3")),
        ("ZPRIV", member("web.corp.example.", "A", "10.1.2.3", "i-0web1")),
        ("ZPRIV", member("web.corp.example.", "A", "10.1.2.5", "i-0web2")),
    ],
    changes: &[
        "ZPRIV DELETE ip-10-1-2-4.corp.example. A 10.1.2.3",
        "ZPRIV CREATE ip-10-1-2-4.corp.example. A 10.1.2.4",
        "ZPRIV DELETE web.corp.example. A 10.1.2.3 [i-0web1]",
        "ZPRIV CREATE web.corp.example. A 10.1.2.4 [i-0web1]",
    ],
    ..Case::default()
})]
#[case::group_a_stopped_instance_kept_leaves_its_groups(Case {
    what: "a stopped instance (DDNS_ON_STOP=keep) keeps its host name and leaves its groups",
    instance: stopped(instance(&[("GROUP", "web.corp.example")])),
    zones: vec![zone("ZPRIV", "corp.example.", true)],
    owned: vec![
        owned("ZPRIV", rec("ip-10-1-2-4.corp.example.", "A", 60, "10.1.2.4")),
        owned("ZPRIV", member("web.corp.example.", "A", "10.1.2.4", "i-0web1")),
    ],
    current: vec![
        ("ZPRIV", rec("ip-10-1-2-4.corp.example.", "A", 60, "10.1.2.4")),
        ("ZPRIV", member("web.corp.example.", "A", "10.1.2.4", "i-0web1")),
    ],
    changes: &["ZPRIV DELETE web.corp.example. A 10.1.2.4 [i-0web1]"],
    says: &["the instance is stopped: it leaves its groups"],
    ..Case::default()
})]
#[case::group_an_ipv6_only_member(Case {
    what: "an IPv6-only member gets an AAAA record set",
    instance: v6_only(instance(&[("GROUP", "web.corp.example")])),
    zones: vec![zone("ZPRIV", "corp.example.", true)],
    changes: &[
        "ZPRIV CREATE i-0web1.corp.example. AAAA 2001:db8:1:2::4",
        "ZPRIV CREATE web.corp.example. AAAA 2001:db8:1:2::4 [i-0web1]",
    ],
    ..Case::default()
})]
#[case::group_names_that_are_never_written(Case {
    what: "group names in the reverse tree, at an apex, in no zone, or empty: rejected",
    instance: instance(&[("GROUP", "4.2.1.10.in-addr.arpa, corp.example, web.elsewhere.example")]),
    zones: vec![zone("ZPRIV", "corp.example.", true)],
    changes: &["ZPRIV CREATE ip-10-1-2-4.corp.example. A 10.1.2.4"],
    rejected: &["4.2.1.10.in-addr.arpa.", "corp.example.", "web.elsewhere.example."],
    ..Case::default()
})]
#[case::group_an_empty_tag_is_rejected(Case {
    what: "an empty GROUP tag: rejected as a bad tag",
    instance: instance(&[("GROUP", " , ")]),
    zones: vec![zone("ZPRIV", "corp.example.", true)],
    changes: &["ZPRIV CREATE ip-10-1-2-4.corp.example. A 10.1.2.4"],
    rejected: &["tag GROUP"],
    says: &["the GROUP tag is empty"],
    ..Case::default()
})]
fn register(#[case] case: Case) {
    let case = &case;
    let plan = run(case);
    let want_changes = sorted(case.changes.iter().map(|s| s.to_string()));
    let got_changes = change_lines(&plan);
    assert_eq!(
        sorted(got_changes.clone()),
        want_changes,
        "{}: changes",
        case.what
    );
    let got_conflicts = sorted(plan.conflicts.iter().map(|c| c.name.to_string()));
    assert_eq!(
        got_conflicts,
        sorted(case.conflicts.iter().map(|s| s.to_string())),
        "{}: conflicts",
        case.what
    );
    let said: Vec<String> = plan
        .rejected
        .iter()
        .map(|r| r.reason.clone())
        .chain(plan.conflicts.iter().map(|c| c.reason.clone()))
        .chain(plan.notes.iter().cloned())
        .chain(plan.warnings.iter().cloned())
        .collect();
    for phrase in case.says {
        assert!(
            said.iter().any(|s| s.contains(phrase)),
            "{}: nothing says {phrase:?} in {said:#?}",
            case.what
        );
    }
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
    // Nothing owned is forgotten: each owned record is kept, deleted by a
    // batch, or dropped because it changed; and what is owned afterwards was
    // owned already or is created by a batch.
    let creates = plan.creates();
    for o in &case.owned {
        assert!(
            plan.owned_after.contains(o) || plan.deletes(o) || plan.dropped.contains(o),
            "{}: {o:?} neither kept, deleted nor dropped",
            case.what
        );
    }
    for o in &plan.dropped {
        assert!(
            !plan.owned_after.contains(o),
            "{}: {o:?} both dropped and owned",
            case.what
        );
    }
    for o in &plan.owned_after {
        assert!(
            case.owned.contains(o) || creates.contains(o),
            "{}: {o:?} owned without being written",
            case.what
        );
    }
    assert!(
        plan.zones
            .iter()
            .flat_map(|z| &z.changes)
            .all(|c| c.action != ChangeAction::Upsert),
        "{}: the registrar never overwrites",
        case.what
    );
}

/// The usual instance's private A, as owned.
fn host_a() -> OwnedRecord {
    owned(
        "ZPRIV",
        rec("ip-10-1-2-4.corp.example.", "A", 60, "10.1.2.4"),
    )
}

/// The usual instance's PTR, as owned.
fn host_ptr() -> OwnedRecord {
    owned(
        "ZREV",
        rec(
            "4.2.1.10.in-addr.arpa.",
            "PTR",
            60,
            "ip-10-1-2-4.corp.example.",
        ),
    )
}

#[test]
fn deregister_deletes_only_what_is_as_written() {
    let a = host_a();
    let ptr = host_ptr();
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
    let all = [a, ptr, alias];
    let names = BTreeMap::from([
        (
            ZoneId::new("ZPRIV"),
            BTreeSet::from([all[0].record.name.clone(), all[2].record.name.clone()]),
        ),
        (
            ZoneId::new("ZREV"),
            BTreeSet::from([all[1].record.name.clone()]),
        ),
    ]);
    let plan = plan_deregister(&all, &Observed::everything(&names, &current));
    assert_eq!(
        plan.dropped,
        [all[2].clone()],
        "the changed alias is theirs now"
    );
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
    let t = corp_targets(&[("CNAME", "api.corp.example")]);
    let read = t.names_to_read(&[owned(
        "ZPRIV",
        rec("old.corp.example.", "CNAME", 60, "x.corp.example."),
    )]);
    let priv_names: Vec<&str> = read["ZPRIV"].iter().map(DnsName::as_str).collect();
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

/// The targets of the usual private instance in corp.example, with `tags`.
fn corp_targets(tags: &[(&str, &str)]) -> Targets {
    targets(&PlanInput {
        default_name: DefaultName::FromPrivateDns,
        config: &Config::default(),
        instance: &instance(tags),
        vpc: Some(&vpc(Some("corp.example"))),
        zones: &corp_zones(),
    })
}

#[test]
fn split_names_accepts_commas_and_spaces() {
    assert_eq!(
        split_names(" a.example,b.example  c.example\t"),
        ["a.example.", "b.example.", "c.example."]
    );
}

/// With nothing read, owned records are assumed as written and every other
/// name free: the plan is the compare-and-swap batch Route 53 will judge.
#[test]
fn with_nothing_read_owned_records_are_assumed_as_written() {
    let t = corp_targets(&[("HOSTNAME", "web")]);
    let old_a = host_a();
    let old_ptr = host_ptr();
    let plan = plan_register(
        &t,
        &[old_a.clone(), old_ptr.clone()],
        &[],
        &Observed::default(),
        60,
    );
    assert_eq!(
        sorted(change_lines(&plan)),
        sorted([
            "ZPRIV DELETE ip-10-1-2-4.corp.example. A 10.1.2.4".to_string(),
            "ZPRIV CREATE web.corp.example. A 10.1.2.4".to_string(),
            "ZREV DELETE 4.2.1.10.in-addr.arpa. PTR ip-10-1-2-4.corp.example.".to_string(),
            "ZREV CREATE 4.2.1.10.in-addr.arpa. PTR web.corp.example.".to_string(),
        ])
    );
    assert!(
        plan.dropped.is_empty() && plan.conflicts.is_empty(),
        "{plan:?}"
    );
}

/// A record an earlier invocation sent without learning the outcome is not
/// this instance's on the strength of its value: an equal one is a conflict,
/// never kept as owned and never deleted.
#[test]
fn an_unsettled_record_found_equal_is_a_conflict_not_a_claim() {
    let t = corp_targets(&[]);
    let a = host_a();
    let mut current = CurrentRecords::new();
    current.insert("ZPRIV".into(), vec![a.record.clone()]);
    let seen = Observed::everything(&t.names_to_read(&[]), &current);
    let plan = plan_register(&t, &[], std::slice::from_ref(&a), &seen, 60);
    assert_eq!(plan.conflicts.len(), 1, "{plan:?}");
    assert!(
        plan.conflicts[0].reason.contains("never learned"),
        "{plan:?}"
    );
    assert_eq!(plan.conflicts[0].kind, ConflictKind::Unsettled);
    assert!(!plan.owned_after.contains(&a));
    assert!(
        change_lines(&plan).is_empty(),
        "no PTR without the A: {plan:?}"
    );
}

/// Every rejection has a kind a script can match (`"kind": "apex"`).
#[rstest]
#[case::empty_zone_tag(&[("ZONE", " ")], "tag ZONE", RejectionKind::BadTag)]
#[case::zone_tag_not_a_domain(&[("ZONE", "a;b")], "a;b", RejectionKind::BadTag)]
#[case::empty_hostname_tag(&[("HOSTNAME", "")], "tag HOSTNAME", RejectionKind::BadTag)]
#[case::invalid_alias(&[("CNAME", "bad_name.corp.example")], "bad_name.corp.example.", RejectionKind::InvalidName)]
#[case::reverse_tree(&[("CNAME", "5.2.1.10.in-addr.arpa")], "5.2.1.10.in-addr.arpa.", RejectionKind::ReverseTree)]
#[case::apex(&[("CNAME", "corp.example")], "corp.example.", RejectionKind::Apex)]
#[case::no_zone(&[("CNAME", "api.elsewhere.example")], "api.elsewhere.example.", RejectionKind::NoZone)]
fn rejections_have_a_kind(
    #[case] tags: &[(&str, &str)],
    #[case] name: &str,
    #[case] kind: RejectionKind,
) {
    let t = corp_targets(tags);
    let r = t
        .rejected
        .iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("{name}: {:?}", t.rejected));
    assert_eq!(r.kind, kind, "{r:?}");
    assert_eq!(
        serde_json::to_value(r).unwrap()["kind"],
        serde_json::to_value(kind).unwrap()
    );
}

#[test]
fn a_zone_left_out_is_its_own_kind() {
    let t = targets(&PlanInput {
        default_name: DefaultName::FromPrivateDns,
        config: &allowed(&["ZREV"]),
        instance: &instance(&[]),
        vpc: Some(&vpc(Some("corp.example"))),
        zones: &corp_zones(),
    });
    assert_eq!(t.rejected[0].kind, RejectionKind::ZoneNotAllowed, "{t:?}");
}

/// Every conflict has a kind a script can match (`"kind": "held"` in
/// JSON) and a reason under 200 characters, however long the names and
/// values it meets.
#[test]
fn conflicts_have_a_kind_and_a_short_reason() {
    let long = format!("{}.example.net.", "x".repeat(60));
    let alias = "api.corp.example.";
    let t = corp_targets(&[("CNAME", alias)]);
    let cases = [
        (
            rec(alias, "TXT", 60, &"v".repeat(4000)),
            ConflictKind::CnameNotAlone,
        ),
        (rec(alias, "CNAME", 60, &long), ConflictKind::Held),
        (
            rec("ip-10-1-2-4.corp.example.", "CNAME", 60, &long),
            ConflictKind::NameIsCname,
        ),
        (
            rec("ip-10-1-2-4.corp.example.", "A", 60, "10.9.9.9"),
            ConflictKind::Held,
        ),
    ];
    for (theirs, kind) in cases {
        let mut current = CurrentRecords::new();
        current.insert("ZPRIV".into(), vec![theirs.clone()]);
        let seen = Observed::everything(&t.names_to_read(&[]), &current);
        let plan = plan_register(&t, &[], &[], &seen, 60);
        let c = plan
            .conflicts
            .iter()
            .find(|c| c.name == theirs.name)
            .unwrap_or_else(|| panic!("{theirs}: {plan:?}"));
        assert_eq!(c.kind, kind, "{theirs}: {c:?}");
        assert!(c.reason.chars().count() < 200, "{}", c.reason);
        let json = serde_json::to_value(c).unwrap();
        assert_eq!(json["kind"], serde_json::to_value(kind).unwrap());
    }
    assert_eq!(
        serde_json::to_value(ConflictKind::CnameNotAlone).unwrap(),
        "cname-not-alone"
    );
}

mod hosts {
    use super::*;

    fn dyn_zone() -> ZoneInfo {
        zone("ZDYN", "dyn.example.", false)
    }

    fn host_record(rtype: &str, value: &str) -> OwnedRecord {
        OwnedRecord {
            zone_id: "ZDYN".into(),
            zone_name: "dyn.example.".into(),
            record: rec("home.dyn.example.", rtype, 60, value),
        }
    }

    /// `(what, address, owned, in the zone, changes, conflicts)`.
    type HostCase = (
        &'static str,
        &'static str,
        Vec<OwnedRecord>,
        Vec<RecordSet>,
        &'static [&'static str],
        usize,
    );

    #[test]
    fn a_host_gets_one_record_by_the_same_rules_as_an_instance() {
        let theirs_a = rec("home.dyn.example.", "A", 300, "192.0.2.99");
        let cname = rec("home.dyn.example.", "CNAME", 300, "elsewhere.example.");
        let cases: Vec<HostCase> = vec![
            (
                "a free name: CREATE A",
                "203.0.113.7",
                vec![],
                vec![],
                &["ZDYN CREATE home.dyn.example. A 203.0.113.7"],
                0,
            ),
            (
                "IPv6: CREATE AAAA",
                "2001:db8::7",
                vec![],
                vec![],
                &["ZDYN CREATE home.dyn.example. AAAA 2001:db8::7"],
                0,
            ),
            (
                "a new address: DELETE exactly the old + CREATE",
                "203.0.113.8",
                vec![host_record("A", "203.0.113.7")],
                vec![host_record("A", "203.0.113.7").record],
                &[
                    "ZDYN DELETE home.dyn.example. A 203.0.113.7",
                    "ZDYN CREATE home.dyn.example. A 203.0.113.8",
                ],
                0,
            ),
            (
                "unchanged: nothing",
                "203.0.113.7",
                vec![host_record("A", "203.0.113.7")],
                vec![host_record("A", "203.0.113.7").record],
                &[],
                0,
            ),
            (
                "someone's A: conflict, never overwritten",
                "203.0.113.7",
                vec![],
                vec![theirs_a.clone()],
                &[],
                1,
            ),
            (
                "a CNAME at the name: conflict",
                "203.0.113.7",
                vec![],
                vec![cname],
                &[],
                1,
            ),
            (
                "IPv6 beside its own A: the A is kept",
                "2001:db8::7",
                vec![host_record("A", "203.0.113.7")],
                vec![host_record("A", "203.0.113.7").record],
                &["ZDYN CREATE home.dyn.example. AAAA 2001:db8::7"],
                0,
            ),
            (
                "its A changed by someone: released, theirs now",
                "203.0.113.8",
                vec![host_record("A", "203.0.113.7")],
                vec![theirs_a],
                &[],
                1,
            ),
        ];
        for (what, ip, owned, current, changes, conflicts) in cases {
            let mut seen = Observed::default();
            seen.learn_zone(&"ZDYN".into(), current);
            let plan = plan_host(
                &dyn_zone(),
                "home.dyn.example",
                ip.parse().unwrap(),
                &owned,
                &[],
                &seen,
                60,
            );
            assert_eq!(
                sorted(change_lines(&plan)),
                sorted(changes.iter().map(|c| c.to_string())),
                "{what}"
            );
            assert_eq!(
                plan.conflicts.len(),
                conflicts,
                "{what}: {:?}",
                plan.conflicts
            );
            for o in &owned {
                assert!(
                    plan.owned_after.contains(o) || plan.deletes(o) || plan.dropped.contains(o),
                    "{what}: {o:?} neither kept, deleted nor dropped"
                );
            }
        }
    }
}

/// An instance's PTR targets: its IPv4's, then its IPv6's, each in the
/// most specific visible private reverse zone of its tree.
#[test]
fn ptr_targets_are_the_ipv4_then_the_ipv6() {
    let zones = dual_zones();
    let config = Config::default();
    let v = vpc(Some("corp.example"));
    let i = dual(instance(&[]));
    let t = targets(&PlanInput {
        default_name: DefaultName::FromPrivateDns,
        config: &config,
        instance: &i,
        vpc: Some(&v),
        zones: &zones,
    });
    let got: Vec<(&str, &str)> = t
        .ptrs
        .iter()
        .map(|p| (p.zone.id.as_str(), p.name.as_str()))
        .collect();
    assert_eq!(got, [("ZREV", "4.2.1.10.in-addr.arpa."), ("ZREV6", PTR6)]);
}
