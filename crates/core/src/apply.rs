//! Sends one zone's change batch and settles what became of it. Ownership
//! is proven here: a record is ours only when we know our write of it
//! committed.
//!
//! | Route 53's answer                        | what became of the batch     | the batch's records       |
//! |------------------------------------------|------------------------------|---------------------------|
//! | OK                                       | applied                      | owned                     |
//! | refused (`InvalidChangeBatch`, …)        | nothing changed              | dropped from pending      |
//! | throttled (`Throttling`, `PriorRequestNotComplete`) or a 4xx | nothing changed | dropped from pending |
//! | 5xx, time-out, network failure           | unknown: the names are read  | see below                 |
//! | … read: deletes alone, every one gone     | applied (gone either way)    | unlisted                  |
//! | … read: creates alone, none in, after a 5xx answer | nothing changed    | dropped from pending      |
//! | … read: a swap, our old record still there and its new one absent, after a 5xx answer | nothing changed | creates dropped, deletes owned again |
//! | … read: anything else (a created record found in, a deleted one still there, some, or the read failed) | unknown | stay pending |
//!
//! A refusal can be trusted to mean "nothing changed" only because the
//! change call is made once: the AWS client does not retry it by itself
//! (`adapters::aws::route53`), since a retry of a batch that committed
//! before its answer was lost would be refused as "already exists" and the
//! records taken for someone else's.

use crate::error::{Error, Failure};
use crate::model::RecordSet;
use crate::plan::{Change, ChangeAction, Observed, ZoneChanges};
use crate::ports::Dns;

/// What became of one batch.
#[derive(Debug)]
pub enum Sent {
    /// Route 53 answered OK, or a read after a lost answer showed every
    /// record of a batch of deletes alone gone.
    Applied,
    /// Route 53 refused the batch: nothing changed. Its names were read.
    Refused(Error),
    /// Nothing changed (throttled, denied, or a read after a lost answer
    /// showed none of it); the error says whether a retry may help.
    NotApplied(Error),
    /// The call went unanswered and no read could settle it.
    Unknown(Error),
}

/// Whether a failed change call certainly changed nothing: throttled, or
/// refused before it was looked at (denied, no such zone, bad input), as
/// the adapter classified it.
fn certainly_not_applied(err: &Error) -> bool {
    match err {
        Error::Aws { kind, .. } => kind.changed_nothing(),
        _ => true,
    }
}

/// Sends `batch`; after a refusal or a lost answer, reads the batch's names
/// into `seen` (to explain the refusal, or to settle the outcome).
pub async fn send<D: Dns>(dns: &D, batch: &ZoneChanges, seen: &mut Observed) -> Sent {
    let err = match dns.apply(batch).await {
        Ok(()) => {
            seen.applied(batch);
            return Sent::Applied;
        }
        Err(err) => err,
    };
    let refused = matches!(err, Error::ZoneChanged { .. } | Error::BatchRefused { .. });
    if !refused && certainly_not_applied(&err) {
        return Sent::NotApplied(err);
    }
    let names = batch.names();
    let read = dns.records_at(&batch.zone_id, &names).await;
    let read_ok = read.is_ok();
    if let Ok(found) = read {
        seen.learn(&batch.zone_id, &names, found);
    }
    if refused {
        return Sent::Refused(err);
    }
    if !read_ok {
        return Sent::Unknown(err);
    }
    // A call that got no answer at all (a time-out, a dropped connection)
    // may still be at work in Route 53: a read can prove it applied, never
    // that it will not be.
    let answered = !matches!(
        &err,
        Error::Aws {
            kind: Failure::NoAnswer,
            ..
        }
    );
    match settled(batch, seen) {
        Some(true) => Sent::Applied,
        Some(false) if answered => Sent::NotApplied(err),
        _ => Sent::Unknown(err),
    }
}

/// Whether the zone, as read after the call (`seen`), shows `batch` applied
/// (`Some(true)`), not applied (`Some(false)`), or neither for sure
/// (`None`). Judged per name and type: where the batch ends with a CREATE
/// that record must be there, where it ends with a DELETE the deleted
/// record must be gone; and for "not applied", each slot must look as it did
/// before the batch.
///
/// A record found equal to one the batch creates proves nothing: someone
/// may have held it all along (the CREATE would then have been refused),
/// or written it while the call was failing (another instance with the
/// same address in a shared zone, a person: found by the concurrent
/// property test). Not even beside our own record found deleted: a person
/// may have deleted that one before the call, so that Route 53 refused
/// the batch, while someone else wrote the new value (bug 11, seed 0xf).
/// So only a batch of deletes alone is settled as applied, when every
/// record it deletes is gone: by us or by someone, it is gone either way,
/// and nothing is claimed. A batch that creates stays unknown: its records
/// stay pending, never owned on the strength of their value (a stale record
/// for a person to delete, never someone else's taken).
///
/// "Not applied" needs every slot to look untouched *and* one created
/// record found absent, which no one else can fake: the batch is atomic,
/// so nothing of it went in, and the records it meant to delete, still
/// there, are still ours. (Unless, in the second the call took, someone
/// deleted the record it created and wrote our old one back: two changes
/// at one name, which no read can tell; docs/convergence.md says so.) A
/// batch of deletes alone found still there stays unknown: each may be an
/// equal record someone wrote after our delete went in (found by the
/// concurrent property test), so it stays pending, never deleted.
pub fn settled(batch: &ZoneChanges, seen: &Observed) -> Option<bool> {
    let creates = batch
        .changes
        .iter()
        .any(|c| c.action != ChangeAction::Delete);
    let mut gone = true;
    let mut untouched = true;
    let mut proven_untouched = false;
    let mut slots: Vec<(&RecordSet, Vec<&Change>)> = Vec::new();
    for c in &batch.changes {
        match slots.iter_mut().find(|(r, _)| r.same_slot(&c.record)) {
            Some((_, changes)) => changes.push(c),
            None => slots.push((&c.record, vec![c])),
        }
    }
    for (slot, changes) in slots {
        let found = seen.at(&batch.zone_id, &slot.name)?;
        let holds = |r: &RecordSet| found.contains(&r);
        let first = changes.first()?;
        let last = changes.last()?;
        gone &= !found.iter().any(|r| r.same_slot(slot));
        let before_ok = match first.action {
            ChangeAction::Delete => holds(&first.record),
            ChangeAction::Create | ChangeAction::Upsert => !holds(&last.record),
        };
        proven_untouched |= before_ok && last.action != ChangeAction::Delete;
        untouched &= before_ok;
    }
    match (!creates && gone, untouched && proven_untouched) {
        (true, false) => Some(true),
        (false, true) => Some(false),
        _ => None,
    }
}

/// A batch cut into units that can go alone: all changes at one name stay
/// together (a DELETE + CREATE pair, a type change).
pub fn units(batch: &ZoneChanges) -> Vec<ZoneChanges> {
    let mut units: Vec<ZoneChanges> = Vec::new();
    for c in &batch.changes {
        match units
            .iter_mut()
            .find(|u| u.changes.iter().any(|x| x.record.name == c.record.name))
        {
            Some(u) => u.changes.push(c.clone()),
            None => units.push(ZoneChanges {
                zone_id: batch.zone_id.clone(),
                zone_name: batch.zone_name.clone(),
                changes: vec![c.clone()],
            }),
        }
    }
    units
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DnsName, RecordType};
    use std::collections::BTreeSet;

    fn r(name: &str, value: &str) -> RecordSet {
        RecordSet::new(name, RecordType::A, 60, vec![value.into()])
    }

    fn batch(changes: &[(ChangeAction, RecordSet)]) -> ZoneChanges {
        ZoneChanges {
            zone_id: "Z".into(),
            zone_name: "corp.example.".into(),
            changes: changes
                .iter()
                .map(|(action, record)| Change {
                    action: *action,
                    record: record.clone(),
                })
                .collect(),
        }
    }

    fn seen(names: &[&str], records: &[RecordSet]) -> Observed {
        let mut seen = Observed::default();
        let names: BTreeSet<DnsName> = names.iter().map(|n| DnsName::new(n)).collect();
        seen.learn(&"Z".into(), &names, records.to_vec());
        seen
    }

    #[test]
    fn a_read_settles_a_lost_answer_only_when_it_is_unambiguous() {
        use ChangeAction::*;
        let old = r("a.corp.example.", "10.0.0.1");
        let new = r("a.corp.example.", "10.0.0.2");
        let other = r("b.corp.example.", "10.0.0.3");
        let swap = batch(&[
            (Delete, old.clone()),
            (Create, new.clone()),
            (Create, other.clone()),
        ]);
        let names = ["a.corp.example.", "b.corp.example."];
        let cases: &[(&str, Vec<RecordSet>, Option<bool>)] = &[
            (
                "all in, a swapped: or someone deleted old first (the batch refused) and wrote new and b",
                vec![new.clone(), other.clone()],
                None,
            ),
            (
                "as before: b absent, so (atomic) nothing went in",
                vec![old.clone()],
                Some(false),
            ),
            (
                "half: someone else wrote b",
                vec![old.clone(), other.clone()],
                None,
            ),
            ("old gone, new absent", vec![], None),
        ];
        for (what, records, want) in cases {
            assert_eq!(settled(&swap, &seen(&names, records)), *want, "{what}");
        }
        let swap_only = batch(&[(Delete, old.clone()), (Create, new.clone())]);
        assert_eq!(
            settled(
                &swap_only,
                &seen(&["a.corp.example."], std::slice::from_ref(&new))
            ),
            None,
            "our old value gone, the new one there: our swap, or someone deleted old (the swap refused) and wrote new (bug 11)"
        );
        let create_only = batch(&[(Create, other.clone())]);
        assert_eq!(
            settled(&create_only, &seen(&["b.corp.example."], std::slice::from_ref(&other))),
            None,
            "a plain CREATE found equal: maybe someone held it all along, or wrote it meanwhile, even at a name read free just before"
        );
        assert_eq!(
            settled(&create_only, &seen(&["b.corp.example."], &[])),
            Some(false),
            "a plain CREATE not there: not applied"
        );
        let delete_only = batch(&[(Delete, old.clone())]);
        let at_a = |records: &[RecordSet]| seen(&["a.corp.example."], records);
        assert_eq!(
            settled(&delete_only, &at_a(std::slice::from_ref(&old))),
            None,
            "a DELETE found still there: not applied, or applied and an equal record written since"
        );
        assert_eq!(
            settled(&delete_only, &at_a(&[])),
            Some(true),
            "a DELETE found gone: applied (or someone deleted it first: gone either way)"
        );
        assert_eq!(
            settled(&swap, &Observed::default()),
            None,
            "nothing read, nothing settled"
        );
    }

    #[test]
    fn units_keep_the_changes_at_one_name_together() {
        use ChangeAction::*;
        let b = batch(&[
            (Delete, r("a.corp.example.", "10.0.0.1")),
            (Delete, r("c.corp.example.", "10.0.0.9")),
            (Create, r("a.corp.example.", "10.0.0.2")),
            (Create, r("b.corp.example.", "10.0.0.3")),
        ]);
        let got: Vec<usize> = units(&b).iter().map(|u| u.changes.len()).collect();
        assert_eq!(got, [2, 1, 1]);
    }
}
