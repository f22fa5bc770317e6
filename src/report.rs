//! Zones as a person reads them: one table per zone, with what a run added
//! (`+`) and removed (`-`) marked against the zone as it was before.

use crate::facts::RecordSet;
use crate::summary::{Outcome, Summary};
use crate::world::{World, WorldRecord};
use std::fmt::Write;

/// Renders every zone of `after`, marking differences from `before`.
/// Zones are matched by id; records by name, type, TTL and values.
pub fn zone_tables(before: &World, after: &World) -> String {
    let mut out = String::new();
    for zone in &after.zones {
        let info = World::zone_info(zone);
        let old: Vec<RecordSet> = before
            .zones
            .iter()
            .find(|z| World::zone_info(z).id == info.id)
            .map(|z| z.records.iter().map(WorldRecord::to_record).collect())
            .unwrap_or_default();
        let new: Vec<RecordSet> = zone.records.iter().map(WorldRecord::to_record).collect();
        let mut rows: Vec<(char, &RecordSet)> = Vec::new();
        for r in &new {
            rows.push((if old.contains(r) { ' ' } else { '+' }, r));
        }
        for r in &old {
            if !new.contains(r) {
                rows.push(('-', r));
            }
        }
        rows.sort_by(|a, b| (&a.1.name, &a.1.rtype, b.0).cmp(&(&b.1.name, &b.1.rtype, a.0)));
        let kind = if info.private { "private" } else { "public" };
        let _ = writeln!(out, "zone {} ({kind}, {})", info.name, info.id);
        if rows.is_empty() {
            let _ = writeln!(out, "   (no records)");
        } else {
            let w = rows
                .iter()
                .map(|(_, r)| r.name.len())
                .max()
                .unwrap_or(4)
                .max(4);
            let _ = writeln!(out, "   {:<w$}  {:<5}  {:>5}  VALUE", "NAME", "TYPE", "TTL");
            for (mark, r) in rows {
                // An alias has no TTL of its own: it inherits the target's.
                let ttl = match r.alias_target() {
                    Some(_) => "-".to_string(),
                    None => r.ttl.to_string(),
                };
                let _ = writeln!(
                    out,
                    " {mark} {:<w$}  {:<5}  {:>5}  {}",
                    r.name,
                    r.rtype.as_str(),
                    ttl,
                    r.values.join(", ")
                );
            }
        }
        out.push('\n');
    }
    out
}

/// One event's summary in a few readable lines.
pub fn summary_text(s: &Summary) -> String {
    let outcome = match s.outcome {
        Outcome::Error => "error",
        Outcome::Conflict => "conflict",
        Outcome::Rejected => "rejected",
        Outcome::Applied => "applied",
        Outcome::NothingToDo => "nothing to do",
    };
    let mut out = format!(
        "event {} {} {}: {outcome}{}\n",
        if s.event_id.is_empty() {
            "-"
        } else {
            &s.event_id
        },
        if s.instance_id.is_empty() {
            "-"
        } else {
            &s.instance_id
        },
        if s.state.is_empty() { "-" } else { &s.state },
        if s.dry_run {
            " (dry run: nothing written)"
        } else {
            ""
        }
    );
    for c in &s.changes {
        let _ = writeln!(
            out,
            "    {:<6} {} {} {} {} in {} ({})",
            c.action,
            c.name,
            c.rtype,
            c.ttl,
            c.values.join(","),
            c.zone_name,
            c.zone_id
        );
    }
    for c in &s.conflicts {
        let _ = writeln!(
            out,
            "    conflict {} {} in {}: {}",
            c.name, c.rtype, c.zone_name, c.reason
        );
    }
    for r in &s.rejected {
        let _ = writeln!(out, "    rejected {}: {}", r.name, r.reason);
    }
    for n in &s.notes {
        let _ = writeln!(out, "    note: {n}");
    }
    if let Some(e) = &s.error {
        let _ = writeln!(out, "    error: {e}");
    }
    out
}
