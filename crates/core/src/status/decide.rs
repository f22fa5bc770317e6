//! The decisions of `status`, pure: where each listed record stands, which
//! records block a conflicting name, the verdict, and what fixes it. The
//! plan itself is the engine's (`gather.rs` runs its dry run); these only
//! read it.

use super::{Fix, Listed, Planned, RecordStatus, Standing, SubjectKind, Verdict};
use crate::ids::{DnsName, ZoneId};
use crate::model::{OwnedRecord, RecordSet, RecordType};
use crate::plan::{ChangeAction, Conflict, ConflictKind};

/// Where `written` stands among `at_name`, the records Route 53 holds at
/// its name in its zone now: exactly there, replaced by another record of
/// its name and type, or gone. Equal values are "as written": Route 53
/// compares values, and so does every DELETE the registrar sends.
pub fn standing(written: &RecordSet, at_name: &[RecordSet]) -> Standing {
    if at_name.contains(written) {
        Standing::AsWritten
    } else if let Some(now) = at_name.iter().find(|r| r.same_slot(written)) {
        Standing::Changed(now.clone())
    } else {
        Standing::Gone
    }
}

/// The records that keep `conflict`'s name from the subject: those at the
/// name that its item does not list, as the conflict's kind says (a held
/// name: its records of that type, or for a host, whose name must be all
/// its own, every one; a CNAME that must stand alone: everything else
/// there; a name that is a CNAME: the CNAME; mixed routing: the record
/// sets of its type under the other policy). An unsettled or refused
/// conflict names no one else's record.
pub fn foreign_at(
    conflict: &Conflict,
    kind: SubjectKind,
    at_name: &[RecordSet],
    listed: &[OwnedRecord],
) -> Vec<RecordSet> {
    let ours = |r: &RecordSet| {
        listed
            .iter()
            .any(|o| o.zone_id == conflict.zone_id && o.record == *r)
    };
    let others = at_name
        .iter()
        .filter(|r| r.name == conflict.name && !ours(r));
    match conflict.kind {
        ConflictKind::Held if kind == SubjectKind::Host => others.cloned().collect(),
        ConflictKind::Held => others
            .filter(|r| {
                r.rtype == conflict.rtype && r.routing.set_id() == conflict.set_id.as_deref()
            })
            .cloned()
            .collect(),
        // The record sets of its type under another policy: a simple
        // record where a group is wanted, a group's where a simple one is.
        ConflictKind::MixedRouting => {
            let wanted = if conflict.set_id.is_some() {
                "multivalue"
            } else {
                "simple"
            };
            others
                .filter(|r| r.rtype == conflict.rtype && r.routing.policy() != wanted)
                .cloned()
                .collect()
        }
        ConflictKind::CnameNotAlone => others.cloned().collect(),
        ConflictKind::NameIsCname => others
            .filter(|r| r.rtype == RecordType::Cname)
            .cloned()
            .collect(),
        ConflictKind::Unsettled | ConflictKind::Refused => Vec::new(),
    }
}

/// Someone else's record at a name the subject wants, with its zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Foreign {
    pub zone_id: ZoneId,
    pub zone_name: DnsName,
    pub record: RecordSet,
}

/// Everything the verdict is decided from.
#[derive(Debug, Clone, Copy)]
pub struct Evidence<'a> {
    pub kind: SubjectKind,
    /// EC2 knows the instance; for a host, its item exists.
    pub known: bool,
    /// The registry has an item under its key.
    pub has_item: bool,
    pub records: &'a [RecordStatus],
    pub plan: &'a Planned,
    /// The records that block its conflicts ([`foreign_at`]).
    pub foreign: &'a [Foreign],
}

impl Evidence<'_> {
    /// Listed records whose Route 53 record is changed or gone.
    fn not_as_written(&self) -> usize {
        self.records
            .iter()
            .filter(|r| r.standing != Standing::AsWritten)
            .count()
    }

    /// Listed records whose outcome was never learned.
    fn pending(&self) -> usize {
        self.records
            .iter()
            .filter(|r| r.listed == Listed::Pending)
            .count()
    }

    /// Whether a convergence would change Route 53 or the item.
    fn drifted(&self) -> bool {
        !self.plan.changes.is_empty() || self.not_as_written() > 0 || self.pending() > 0
    }
}

/// The verdict, most serious first: unknown to EC2 and the registry; a
/// wanted record held by someone else; a wanted name refused; Route 53 or
/// the item not what the live state wants (a change planned, a listed
/// record changed or gone, one never settled); nothing listed or wanted;
/// else healthy.
pub fn verdict(e: &Evidence) -> Verdict {
    if !e.known && !e.has_item {
        Verdict::UnknownSubject
    } else if !e.plan.conflicts.is_empty() {
        Verdict::Conflict
    } else if !e.plan.rejected.is_empty() {
        Verdict::Rejected
    } else if e.drifted() {
        Verdict::Drifted
    } else if e.records.is_empty() {
        Verdict::NotRegistered
    } else {
        Verdict::Healthy
    }
}

/// What makes the subject healthy, in the order to do it: a person removes
/// the records that block its names and deletes unsettled ones that are
/// stale; tags that ask for refused names are changed; then the reconcile
/// (an instance) or the host's next update converges it.
pub fn fixes(e: &Evidence) -> Vec<Fix> {
    fn push(out: &mut Vec<Fix>, fix: Fix) {
        if !out.contains(&fix) {
            out.push(fix);
        }
    }
    let mut out: Vec<Fix> = Vec::new();
    for f in e.foreign {
        push(
            &mut out,
            Fix::RemoveForeign {
                zone_id: f.zone_id.clone(),
                zone_name: f.zone_name.clone(),
                record: f.record.clone(),
            },
        );
    }
    for r in e.records {
        if r.listed == Listed::Pending && r.standing == Standing::AsWritten {
            push(
                &mut out,
                Fix::DeleteUnsettled {
                    zone_id: r.zone_id.clone(),
                    zone_name: r.zone_name.clone(),
                    record: r.record.clone(),
                },
            );
        }
    }
    if !e.plan.rejected.is_empty() {
        push(
            &mut out,
            Fix::ChangeTags {
                names: e.plan.rejected_names(),
            },
        );
    }
    let person_acts = out
        .iter()
        .any(|f| matches!(f, Fix::RemoveForeign { .. } | Fix::DeleteUnsettled { .. }));
    match e.kind {
        SubjectKind::Instance | SubjectKind::Task if e.drifted() || person_acts => {
            push(&mut out, Fix::Reconcile)
        }
        SubjectKind::Host if e.drifted() => push(&mut out, Fix::HostUpdate),
        _ => {}
    }
    out
}

/// The verdict in one sentence, with the counts that led to it.
pub fn explain(e: &Evidence, verdict: Verdict) -> String {
    let listed = e.records.len();
    match verdict {
        Verdict::UnknownSubject => match e.kind {
            SubjectKind::Instance => {
                "EC2 does not know this instance (in this region), and the registry has no item for it".into()
            }
            SubjectKind::Host => "the registry has no DDNS host of this name".into(),
            SubjectKind::Task => {
                "ECS does not know this task (in this region), and the registry has no item for it".into()
            }
        },
        Verdict::Conflict => format!(
            "{} held by someone else, never overwritten: {}",
            count(e.plan.conflicts.len(), "wanted record is", "wanted records are"),
            if e.foreign.is_empty() {
                "see the conflicts".to_string()
            } else {
                format!(
                    "{} to remove",
                    count(e.foreign.len(), "foreign record", "foreign records")
                )
            }
        ),
        Verdict::Rejected => format!(
            "{} refused by the rules and never written",
            count(e.plan.rejected.len(), "wanted name is", "wanted names are")
        ),
        Verdict::Drifted => {
            let mut parts = Vec::new();
            let off = e.not_as_written();
            if off > 0 {
                parts.push(format!(
                    "{off} of {} not in Route 53 as written",
                    count(listed, "listed record", "listed records")
                ));
            }
            let pending = e.pending();
            if pending > 0 {
                parts.push(format!(
                    "{} never settled (pending)",
                    count(pending, "record", "records")
                ));
            }
            let (creates, deletes) = e.plan.changes.iter().fold((0, 0), |(c, d), ch| {
                match ch.action {
                    ChangeAction::Delete => (c, d + 1),
                    _ => (c + 1, d),
                }
            });
            match (creates, deletes) {
                (0, 0) => {}
                (c, 0) => parts.push(format!("the live state wants {c} created")),
                (0, d) => parts.push(format!("the live state wants {d} deleted")),
                (c, d) => parts.push(format!("the live state wants {c} created and {d} deleted")),
            }
            if parts.is_empty() {
                parts.push("the item is not what the live state wants".into());
            }
            parts.join("; ")
        }
        Verdict::NotRegistered => match (e.kind, e.has_item) {
            (SubjectKind::Host, _) => {
                "the host has no record: no update has been accepted yet".into()
            }
            (SubjectKind::Instance | SubjectKind::Task, true) => {
                "its item lists no records, and the live state wants none".into()
            }
            (SubjectKind::Instance | SubjectKind::Task, false) => {
                "no registry item, and the live state wants no records (see the notes)".into()
            }
        },
        Verdict::Healthy => {
            let healthy = format!(
                "{} in Route 53 as written; the live state wants nothing else",
                count(listed, "record", "records")
            );
            // Right records can still not resolve (a VPC's DNS attributes
            // off): the verdict line says so, not only the plan.
            match e.plan.warnings.len() {
                0 => healthy,
                1 => format!("{healthy}, but see the warning: names may still not resolve"),
                _ => format!("{healthy}, but see the warnings: names may still not resolve"),
            }
        }
    }
}

/// `1 record`, `2 records`.
fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Rejection, RejectionKind};
    use crate::summary::ChangeLine;
    use rstest::rstest;

    fn a(name: &str, ip: &str) -> RecordSet {
        RecordSet::new(name, RecordType::A, 60, vec![ip.into()])
    }

    fn cname(name: &str, to: &str) -> RecordSet {
        RecordSet::new(name, RecordType::Cname, 60, vec![to.into()])
    }

    fn txt(name: &str) -> RecordSet {
        RecordSet::new(name, RecordType::from("TXT"), 60, vec!["\"v\"".into()])
    }

    fn owned(record: RecordSet) -> OwnedRecord {
        OwnedRecord {
            zone_id: "Z1".into(),
            zone_name: "corp.example.".into(),
            record,
        }
    }

    fn status(listed: Listed, record: RecordSet, standing: Standing) -> RecordStatus {
        RecordStatus::of(listed, &owned(record), standing)
    }

    fn conflict(name: &str, rtype: RecordType, kind: ConflictKind) -> Conflict {
        Conflict {
            zone_id: "Z1".into(),
            zone_name: "corp.example.".into(),
            name: name.into(),
            rtype,
            set_id: None,
            kind,
            reason: "r".into(),
        }
    }

    fn create(record: RecordSet) -> ChangeLine {
        ChangeLine {
            zone_id: "Z1".into(),
            zone_name: "corp.example.".into(),
            action: ChangeAction::Create,
            record,
        }
    }

    const W: &str = "w.corp.example.";

    #[rstest]
    #[case::exactly(&[a(W, "10.0.0.1")], Standing::AsWritten)]
    #[case::among_others(&[txt(W), a(W, "10.0.0.1")], Standing::AsWritten)]
    #[case::other_value(&[a(W, "10.0.0.9")], Standing::Changed(a(W, "10.0.0.9")))]
    #[case::other_ttl(&[RecordSet::new(W, RecordType::A, 300, vec!["10.0.0.1".into()])], Standing::Changed(RecordSet::new(W, RecordType::A, 300, vec!["10.0.0.1".into()])))]
    #[case::nothing(&[], Standing::Gone)]
    #[case::only_another_type(&[txt(W)], Standing::Gone)]
    #[case::a_cname_instead(&[cname(W, "x.example.")], Standing::Gone)]
    fn each_listed_record_stands_as_route_53_holds_it(
        #[case] at_name: &[RecordSet],
        #[case] expected: Standing,
    ) {
        assert_eq!(standing(&a(W, "10.0.0.1"), at_name), expected);
    }

    #[rstest]
    #[case::held_same_type(ConflictKind::Held, RecordType::A, SubjectKind::Instance, vec![a(W, "10.9.9.9"), txt(W)], vec![a(W, "10.9.9.9")])]
    #[case::held_host_everything(ConflictKind::Held, RecordType::A, SubjectKind::Host, vec![a(W, "10.9.9.9"), txt(W)], vec![a(W, "10.9.9.9"), txt(W)])]
    #[case::held_ours_left_out(ConflictKind::Held, RecordType::A, SubjectKind::Host, vec![a(W, "10.0.0.1"), txt(W)], vec![txt(W)])]
    #[case::cname_not_alone(ConflictKind::CnameNotAlone, RecordType::Cname, SubjectKind::Instance, vec![a(W, "10.9.9.9"), txt(W)], vec![a(W, "10.9.9.9"), txt(W)])]
    #[case::name_is_cname(ConflictKind::NameIsCname, RecordType::A, SubjectKind::Instance, vec![cname(W, "x.example.")], vec![cname(W, "x.example.")])]
    #[case::unsettled_names_no_one(ConflictKind::Unsettled, RecordType::A, SubjectKind::Instance, vec![a(W, "10.0.0.1")], vec![])]
    #[case::other_names_ignored(ConflictKind::Held, RecordType::A, SubjectKind::Instance, vec![a("x.corp.example.", "10.9.9.9")], vec![])]
    fn the_records_that_block_a_name(
        #[case] kind: ConflictKind,
        #[case] rtype: RecordType,
        #[case] subject: SubjectKind,
        #[case] at_name: Vec<RecordSet>,
        #[case] expected: Vec<RecordSet>,
    ) {
        let listed = [owned(a(W, "10.0.0.1"))];
        assert_eq!(
            foreign_at(&conflict(W, rtype, kind), subject, &at_name, &listed),
            expected
        );
    }

    /// One row: what was found, and the verdict and fixes it gives.
    struct Row {
        kind: SubjectKind,
        known: bool,
        has_item: bool,
        records: Vec<RecordStatus>,
        plan: Planned,
        foreign: Vec<Foreign>,
    }

    impl Row {
        /// The evidence this row stands for, as `gather` hands it over.
        fn evidence(&self) -> Evidence<'_> {
            Evidence {
                kind: self.kind,
                known: self.known,
                has_item: self.has_item,
                records: &self.records,
                plan: &self.plan,
                foreign: &self.foreign,
            }
        }
    }

    fn row(kind: SubjectKind) -> Row {
        Row {
            kind,
            known: true,
            has_item: true,
            records: vec![status(Listed::Owned, a(W, "10.0.0.1"), Standing::AsWritten)],
            plan: Planned::default(),
            foreign: Vec::new(),
        }
    }

    fn unknown(r: Row) -> Row {
        Row {
            known: false,
            has_item: false,
            records: vec![],
            ..r
        }
    }

    fn gone(r: Row) -> Row {
        Row {
            records: vec![status(Listed::Owned, a(W, "10.0.0.1"), Standing::Gone)],
            plan: Planned {
                changes: vec![create(a(W, "10.0.0.1"))],
                ..Planned::default()
            },
            ..r
        }
    }

    fn foreign_held(r: Row) -> Row {
        Row {
            records: vec![],
            has_item: false,
            plan: Planned {
                conflicts: vec![conflict(W, RecordType::A, ConflictKind::Held)],
                ..Planned::default()
            },
            foreign: vec![Foreign {
                zone_id: "Z1".into(),
                zone_name: "corp.example.".into(),
                record: a(W, "10.9.9.9"),
            }],
            ..r
        }
    }

    fn rejected(r: Row) -> Row {
        Row {
            records: vec![],
            has_item: false,
            plan: Planned {
                rejected: vec![Rejection {
                    name: "x.other.example.".into(),
                    kind: RejectionKind::ZoneNotAllowed,
                    reason: "r".into(),
                }],
                ..Planned::default()
            },
            ..r
        }
    }

    fn pending_there(r: Row) -> Row {
        Row {
            records: vec![status(
                Listed::Pending,
                a(W, "10.0.0.1"),
                Standing::AsWritten,
            )],
            plan: Planned {
                conflicts: vec![conflict(W, RecordType::A, ConflictKind::Unsettled)],
                ..Planned::default()
            },
            ..r
        }
    }

    fn pending_gone(r: Row) -> Row {
        Row {
            records: vec![status(Listed::Pending, a(W, "10.0.0.1"), Standing::Gone)],
            ..r
        }
    }

    fn changed_not_wanted(r: Row) -> Row {
        Row {
            records: vec![status(
                Listed::Owned,
                a(W, "10.0.0.1"),
                Standing::Changed(a(W, "10.0.0.7")),
            )],
            ..r
        }
    }

    fn warned(r: Row) -> Row {
        Row {
            plan: Planned {
                warnings: vec!["VPC vpc-1 has enableDnsSupport=false, …".into()],
                ..Planned::default()
            },
            ..r
        }
    }

    fn nothing(r: Row) -> Row {
        Row {
            has_item: false,
            records: vec![],
            ..r
        }
    }

    fn stale_item(r: Row) -> Row {
        Row {
            known: false,
            records: vec![status(Listed::Owned, a(W, "10.0.0.1"), Standing::AsWritten)],
            plan: Planned {
                changes: vec![ChangeLine {
                    action: ChangeAction::Delete,
                    ..create(a(W, "10.0.0.1"))
                }],
                ..Planned::default()
            },
            ..r
        }
    }

    fn removes(record: RecordSet) -> Fix {
        Fix::RemoveForeign {
            zone_id: "Z1".into(),
            zone_name: "corp.example.".into(),
            record,
        }
    }

    #[rstest]
    #[case::healthy(row(SubjectKind::Instance), Verdict::Healthy, vec![], "1 record in Route 53 as written")]
    #[case::healthy_but_warned(warned(row(SubjectKind::Instance)), Verdict::Healthy, vec![], "as written; the live state wants nothing else, but see the warning: names may still not resolve")]
    #[case::unknown(unknown(row(SubjectKind::Instance)), Verdict::UnknownSubject, vec![], "EC2 does not know")]
    #[case::unknown_host(unknown(row(SubjectKind::Host)), Verdict::UnknownSubject, vec![], "no DDNS host")]
    #[case::a_person_deleted_the_a(gone(row(SubjectKind::Instance)), Verdict::Drifted, vec![Fix::Reconcile], "1 of 1 listed record not in Route 53 as written; the live state wants 1 created")]
    #[case::host_record_deleted(gone(row(SubjectKind::Host)), Verdict::Drifted, vec![Fix::HostUpdate], "not in Route 53 as written")]
    #[case::a_foreign_record(foreign_held(row(SubjectKind::Instance)), Verdict::Conflict, vec![removes(a(W, "10.9.9.9")), Fix::Reconcile], "1 wanted record is held by someone else, never overwritten: 1 foreign record to remove")]
    #[case::rejected(rejected(row(SubjectKind::Instance)), Verdict::Rejected, vec![Fix::ChangeTags { names: vec!["x.other.example.".into()] }], "1 wanted name is refused")]
    #[case::unsettled_still_there(pending_there(row(SubjectKind::Instance)), Verdict::Conflict, vec![Fix::DeleteUnsettled { zone_id: "Z1".into(), zone_name: "corp.example.".into(), record: a(W, "10.0.0.1") }, Fix::Reconcile], "see the conflicts")]
    #[case::unsettled_gone(pending_gone(row(SubjectKind::Instance)), Verdict::Drifted, vec![Fix::Reconcile], "1 record never settled")]
    #[case::changed_and_no_longer_wanted(changed_not_wanted(row(SubjectKind::Instance)), Verdict::Drifted, vec![Fix::Reconcile], "1 of 1 listed record not in Route 53")]
    #[case::wants_nothing_has_nothing(nothing(row(SubjectKind::Instance)), Verdict::NotRegistered, vec![], "no registry item")]
    #[case::host_never_updated(nothing(row(SubjectKind::Host)), Verdict::NotRegistered, vec![], "no update has been accepted")]
    #[case::item_of_an_instance_gone(stale_item(row(SubjectKind::Instance)), Verdict::Drifted, vec![Fix::Reconcile], "the live state wants 1 deleted")]
    fn verdicts_and_fixes(
        #[case] r: Row,
        #[case] expected: Verdict,
        #[case] expected_fixes: Vec<Fix>,
        #[case] reason: &str,
    ) {
        let e = r.evidence();
        let v = verdict(&e);
        assert_eq!(v, expected);
        assert_eq!(fixes(&e), expected_fixes);
        let why = explain(&e, v);
        assert!(why.contains(reason), "{why}");
    }

    /// A conflict outranks drift, a rejection too: the person's part comes
    /// first, and the reconcile still follows.
    #[test]
    fn the_most_serious_finding_decides() {
        let mut r = gone(row(SubjectKind::Instance));
        r.plan.conflicts.push(conflict(
            "api.corp.example.",
            RecordType::Cname,
            ConflictKind::Held,
        ));
        let e = r.evidence();
        assert_eq!(verdict(&e), Verdict::Conflict);
        assert_eq!(fixes(&e), vec![Fix::Reconcile]);
    }
}
