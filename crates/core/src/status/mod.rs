//! `ec2-ddns status`: one subject (an instance, an ECS task, a DDNS host) as it stands,
//! for the operator whose name does not resolve: its registry item, each
//! record the item lists and whether Route 53 still holds it as written,
//! what the live state wants now (the engine's own dry run, not a second
//! copy of its rules), and a verdict with the fix.
//!
//! | file           | job                                                         |
//! |----------------|-------------------------------------------------------------|
//! | `mod.rs`       | the report: one serde struct, stable field names            |
//! | `decide.rs`    | pure: each record's standing, the verdict, the fixes        |
//! | `read_only.rs` | the ports with every write refused                          |
//! | `gather.rs`    | the reads and the dry run, into a report                    |
//!
//! Read-only by construction: the engine runs on ports that refuse every
//! write, so no hole in the dry run could make `status` change anything.

mod decide;
mod gather;
mod read_only;

pub use decide::{explain, fixes, foreign_at, standing, verdict, Evidence};
pub use gather::{status, status_with};
pub use read_only::ReadOnly;

use crate::event::is_instance_id;
use crate::ids::{DnsName, ZoneId};
use crate::model::{InstanceState, OwnedRecord, RecordSet};
use crate::names;
use crate::plan::{Conflict, Rejection, RejectionKind};
use crate::summary::{ChangeLine, Summary};
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// What `status` is asked about: an instance by id, an ECS task by ARN or
/// id, or a DDNS host by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Asked {
    Instance(String),
    /// An instance of a member account or another region (the
    /// organization mode), asked as `ACCOUNT/REGION/ID`, as the CLI prints
    /// it (`shown` is that text).
    Placed {
        place: crate::model::Place,
        instance_id: String,
        shown: String,
    },
    /// A task's ARN (`arn:aws:ecs:…:task/CLUSTER/ID`), or its id alone (32
    /// hex digits), found in the registry or among the running tasks.
    Task(String),
    Host(DnsName),
}

impl Asked {
    /// `i-…` is an instance; anything else must be a host name (a
    /// hostname, outside the reverse trees, as `hosts add` takes them).
    /// The message says what was expected; clap prints it with exit 2.
    pub fn parse(text: &str) -> Result<Asked, String> {
        let text = text.trim();
        if is_instance_id(text) {
            return Ok(Asked::Instance(text.to_string()));
        }
        let arn = text.starts_with("arn:");
        if let (false, [account, region, id]) = (arn, &text.splitn(3, '/').collect::<Vec<_>>()[..])
        {
            if crate::model::Place::is_account_id(account)
                && crate::model::Place::is_region(region)
                && is_instance_id(id)
            {
                return Ok(Asked::Placed {
                    place: crate::model::Place::new(account, region),
                    instance_id: id.to_string(),
                    shown: text.to_string(),
                });
            }
            if !text.contains('.') {
                return Err(format!(
                    "'{}' is not an instance of another account; expected ACCOUNT/REGION/ID, e.g. 111111111111/eu-west-1/i-0123456789abcdef0",
                    names::clip(text)
                ));
            }
        }
        if crate::ids::is_task_arn(text) || is_task_id(text) {
            return Ok(Asked::Task(text.to_string()));
        }
        if text.starts_with("arn:") {
            return Err(format!(
                "'{}' is not an ECS task ARN; expected arn:aws:ecs:REGION:ACCOUNT:task/CLUSTER/ID",
                names::clip(text)
            ));
        }
        if text.starts_with("i-") {
            return Err(format!(
                "'{}' is not an instance id; expected i- and 1 to 32 letters or digits, e.g. i-0123456789abcdef0",
                names::clip(text)
            ));
        }
        let name = names::normalize(text);
        names::check_wanted_name(&name).map_err(|problem| {
            format!(
                "'{}' is neither an instance id (i-…) nor a host name: {problem}",
                names::clip(text)
            )
        })?;
        Ok(Asked::Host(name))
    }

    /// As printed: the id, or the normalized name.
    pub fn as_str(&self) -> &str {
        match self {
            Asked::Instance(id) | Asked::Task(id) => id,
            Asked::Placed { shown, .. } => shown,
            Asked::Host(name) => name,
        }
    }
}

/// Whether `text` is an ECS task id as ECS writes them: 32 hex digits.
fn is_task_id(text: &str) -> bool {
    text.len() == 32 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The kind of subject a report is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SubjectKind {
    Instance,
    Host,
    Task,
}

/// One subject's status: the whole report, printed as text or as one JSON
/// document. Every field is always present (`null` or `[]` when empty),
/// except `instance`, `vpc` and `listed_by`, which only some subjects have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    /// What was asked about: an instance id, or a host name normalized.
    pub subject: String,
    pub kind: SubjectKind,
    pub region: String,
    pub verdict: Verdict,
    /// The verdict in one sentence.
    pub reason: String,
    /// What makes it healthy, in order; empty when it is.
    pub fixes: Vec<Fix>,
    /// EC2's view of the instance; absent for a host, and when EC2 does
    /// not know the instance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<InstanceView>,
    /// ECS's view of the task; absent but for a task ECS knows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskView>,
    /// The instance's VPC: its DNS attributes and the private zones
    /// associated with it (absent when it has none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpc: Option<VpcView>,
    /// The registry item; `null` when there is none.
    pub item: Option<ItemView>,
    /// Each record the item lists (owned, then pending), and where it stands.
    pub records: Vec<RecordStatus>,
    /// What the live state wants now: the dry run's plan.
    pub plan: Planned,
    /// For a name that is no DDNS host: the registry items that list a
    /// record at it (an instance's id, to ask `status` about instead).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub listed_by: Vec<String>,
}

impl Status {
    /// Whether the exit status is 0.
    pub fn healthy(&self) -> bool {
        self.verdict == Verdict::Healthy
    }
}

/// The answer to "why does this name not resolve?", most serious first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Neither EC2 nor the registry knows it.
    UnknownSubject,
    /// A wanted record is held by someone else: a person must act.
    Conflict,
    /// A wanted name is refused by the rules (a tag, a zone not allowed).
    Rejected,
    /// Route 53 or the item differs from what the live state wants, and
    /// the reconcile (or, for a host, its next update) repairs it.
    Drifted,
    /// It lists no records and the live state wants none.
    NotRegistered,
    /// Every record is in Route 53 as written; nothing to do.
    Healthy,
}

impl Verdict {
    /// As the text output and the JSON spell it, spaces for dashes.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::UnknownSubject => "unknown subject",
            Verdict::Conflict => "conflict",
            Verdict::Rejected => "rejected",
            Verdict::Drifted => "drifted",
            Verdict::NotRegistered => "not registered",
            Verdict::Healthy => "healthy",
        }
    }
}

/// One thing to do about a subject, with what it needs to be done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Fix {
    /// `ec2-ddns reconcile` makes the planned changes and settles the item.
    Reconcile,
    /// Someone else's record holds a name the subject wants: a person
    /// removes it if it is stale (or changes the subject's tags); the
    /// registrar never will.
    RemoveForeign {
        zone_id: ZoneId,
        zone_name: DnsName,
        record: RecordSet,
    },
    /// A record an earlier invocation sent without learning whether Route
    /// 53 applied it, still there: it may be the subject's or someone
    /// else's equal one, so only a person may delete it (if it is stale).
    DeleteUnsettled {
        zone_id: ZoneId,
        zone_name: DnsName,
        record: RecordSet,
    },
    /// Wanted names the rules refuse: change the tag or setting that asks
    /// for them (`plan.rejected` says why).
    ChangeTags { names: Vec<String> },
    /// A DDNS host's record is missing: the endpoint writes it again at
    /// the host's next update that sends a new address (one that sends
    /// the same address makes no call).
    HostUpdate,
}

/// EC2's view of an instance, as the plan read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstanceView {
    pub instance_id: String,
    /// Its `Name` tag.
    pub name: Option<String>,
    pub state: InstanceState,
    pub private_ip: Option<Ipv4Addr>,
    pub public_ip: Option<Ipv4Addr>,
    pub private_dns_name: Option<String>,
    pub vpc_id: Option<String>,
    /// The tags the registrar reads (`ZONE`, `CNAME`, `HOSTNAME` or as
    /// configured), those set.
    pub tags: BTreeMap<String, String>,
}

/// ECS's view of a task (and EC2's of its network interface), as the plan
/// read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskView {
    pub task_arn: String,
    pub cluster_arn: String,
    pub last_status: String,
    pub desired_status: String,
    /// `service:NAME` or `family:NAME`.
    pub group: Option<String>,
    pub family: Option<String>,
    pub private_ip: Option<Ipv4Addr>,
    pub public_ip: Option<Ipv4Addr>,
    pub vpc_id: Option<String>,
    /// The tags the registrar reads, those set (ECS propagates them from
    /// the service or task definition when told to).
    pub tags: BTreeMap<String, String>,
}

/// A VPC's DNS settings: private zones resolve inside it only when both
/// attributes are on and the zone is associated with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VpcView {
    pub vpc_id: String,
    /// `enableDnsSupport`; `null` when EC2 does not know the VPC.
    pub dns_support: Option<bool>,
    /// `enableDnsHostnames`.
    pub dns_hostnames: Option<bool>,
    /// The first name of its DHCP options' `domain-name`.
    pub dhcp_domain: Option<String>,
    /// The private hosted zones associated with it, in this region.
    pub private_zones: Vec<ZoneView>,
}

/// A hosted zone, named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ZoneView {
    pub zone_id: ZoneId,
    pub zone_name: DnsName,
}

/// A registry item as stored (never a host's secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemView {
    /// The table's key: the instance id, or `host#NAME.`.
    pub key: String,
    pub version: u64,
    /// The event (or, for a host, the request) that last wrote it.
    pub last_event_id: Option<String>,
    /// RFC 3339. For a host: when its record last changed.
    pub last_event_time: Option<String>,
    pub last_state: Option<InstanceState>,
    pub private_ip: Option<Ipv4Addr>,
    pub public_ip: Option<Ipv4Addr>,
    pub vpc_id: Option<String>,
    /// Since when a pending record may still be on its way.
    pub pending_since: Option<String>,
    /// Set when the item is not one ec2-ddns wrote: why, and that it owns
    /// nothing that can be proven.
    pub foreign: Option<String>,
    /// A DDNS host's settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<HostView>,
}

/// A DDNS host's zone and TTL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostView {
    pub zone_id: ZoneId,
    pub zone_name: DnsName,
    pub ttl: u32,
    /// When `hosts add` added it.
    pub created: Option<String>,
}

/// How the item lists a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Listed {
    /// Written and proven: the subject's.
    Owned,
    /// Sent, outcome never learned: never deleted on its value alone.
    Pending,
}

/// Where a listed record stands in Route 53 now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "standing", content = "now", rename_all = "kebab-case")]
pub enum Standing {
    /// Route 53 holds exactly what was written.
    AsWritten,
    /// Its name and type hold another record now (shown).
    Changed(RecordSet),
    /// Nothing of its name and type is there.
    Gone,
}

/// One record the item lists, and where it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordStatus {
    pub listed: Listed,
    pub zone_id: ZoneId,
    pub zone_name: DnsName,
    pub record: RecordSet,
    #[serde(flatten)]
    pub standing: Standing,
}

impl RecordStatus {
    /// The item's record with its listing, before its standing is known.
    pub fn of(listed: Listed, owned: &OwnedRecord, standing: Standing) -> RecordStatus {
        RecordStatus {
            listed,
            zone_id: owned.zone_id.clone(),
            zone_name: owned.zone_name.clone(),
            record: owned.record.clone(),
            standing,
        }
    }
}

/// What the live state wants now: the dry run's changes and findings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Planned {
    pub changes: Vec<ChangeLine>,
    pub conflicts: Vec<Conflict>,
    pub rejected: Vec<Rejection>,
    pub notes: Vec<String>,
    /// Things that keep names from resolving although the records are
    /// right (a VPC's DNS attributes off), and records let go.
    pub warnings: Vec<String>,
}

impl Planned {
    /// Adds a dry run's summary, each finding once.
    pub fn add(&mut self, summary: &Summary) {
        fn extend<T: PartialEq + Clone>(into: &mut Vec<T>, from: &[T]) {
            for x in from {
                if !into.contains(x) {
                    into.push(x.clone());
                }
            }
        }
        extend(&mut self.changes, &summary.changes);
        extend(&mut self.conflicts, &summary.conflicts);
        extend(&mut self.rejected, &summary.rejected);
        extend(&mut self.notes, &summary.notes);
        extend(&mut self.warnings, &summary.warnings);
    }

    /// The rejected names, for a [`Fix::ChangeTags`].
    fn rejected_names(&self) -> Vec<String> {
        self.rejected.iter().map(|r| r.name.clone()).collect()
    }

    /// Whether any rejection is of `kind`.
    pub fn rejects(&self, kind: RejectionKind) -> bool {
        self.rejected.iter().any(|r| r.kind == kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RecordType;
    use rstest::rstest;

    #[rstest]
    #[case::instance("i-0abc123", Ok(Asked::Instance("i-0abc123".into())))]
    #[case::instance_spaced(" i-0web1 ", Ok(Asked::Instance("i-0web1".into())))]
    #[case::host("Home.Corp.Example", Ok(Asked::Host("home.corp.example.".into())))]
    #[case::bad_instance("i-0ab!c", Err("is not an instance id"))]
    #[case::wildcard("*.corp.example", Err("wildcard"))]
    #[case::reverse("4.2.1.10.in-addr.arpa", Err("in-addr.arpa."))]
    #[case::empty("", Err("the name is empty"))]
    fn subjects_are_ids_or_host_names(#[case] text: &str, #[case] expected: Result<Asked, &str>) {
        match (Asked::parse(text), expected) {
            (Ok(got), Ok(want)) => assert_eq!(got, want),
            (Err(e), Err(needle)) => assert!(e.contains(needle), "{e}"),
            (got, want) => panic!("{text:?}: got {got:?}, want {want:?}"),
        }
    }

    /// The JSON field names are the command's interface: stable.
    #[test]
    fn a_record_status_is_flat_json() {
        let owned = OwnedRecord {
            zone_id: "Z1".into(),
            zone_name: "corp.example.".into(),
            record: RecordSet::new(
                "a.corp.example.",
                RecordType::A,
                60,
                vec!["10.0.0.1".into()],
            ),
        };
        let changed = RecordSet::new(
            "a.corp.example.",
            RecordType::A,
            60,
            vec!["10.0.0.2".into()],
        );
        let json = |s| serde_json::to_value(RecordStatus::of(Listed::Owned, &owned, s)).unwrap();
        assert_eq!(
            json(Standing::AsWritten),
            serde_json::json!({"listed": "owned", "zone_id": "Z1", "zone_name": "corp.example.",
                "record": {"name": "a.corp.example.", "type": "A", "ttl": 60, "values": ["10.0.0.1"]},
                "standing": "as-written"})
        );
        let v = json(Standing::Changed(changed));
        assert_eq!(v["standing"], "changed", "{v}");
        assert_eq!(v["now"]["values"][0], "10.0.0.2", "{v}");
        assert_eq!(json(Standing::Gone)["standing"], "gone");
        let fix = serde_json::to_value(Fix::RemoveForeign {
            zone_id: "Z1".into(),
            zone_name: "corp.example.".into(),
            record: owned.record.clone(),
        })
        .unwrap();
        assert_eq!(fix["action"], "remove-foreign", "{fix}");
        assert_eq!(fix["record"]["name"], "a.corp.example.", "{fix}");
        assert_eq!(
            serde_json::to_value(Verdict::NotRegistered).unwrap(),
            "not-registered"
        );
    }
}
