//! Text output as a person reads it: one event's summary in a few lines,
//! and zones as tables with what a run added (`+`) and removed (`-`). Every
//! field passes through [`names::escape_controls`], so a hostile tag or
//! record cannot forge lines or colours in the terminal.

use crate::model::RecordSet;
use crate::names;
use crate::sim::world::World;
use crate::summary::Summary;
use std::fmt::Write;

/// `1 instance`, `2 instances`.
pub fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Renders every zone of `after`, marking differences from `before`.
/// Zones are matched by id; records by name, type, TTL and values.
pub fn zone_tables(before: &World, after: &World) -> String {
    let mut out = String::new();
    for zone in &after.zones {
        let info = zone.info();
        let old: &[RecordSet] = before
            .zones
            .iter()
            .find(|z| z.info().id == info.id)
            .map(|z| z.records.as_slice())
            .unwrap_or_default();
        let new = &zone.records;
        let mut rows: Vec<(char, &RecordSet)> = Vec::new();
        for r in new {
            rows.push((if old.contains(r) { ' ' } else { '+' }, r));
        }
        for r in old {
            if !new.contains(r) {
                rows.push(('-', r));
            }
        }
        rows.sort_by(|a, b| {
            (&a.1.name, &a.1.rtype, a.1.routing.set_id(), b.0).cmp(&(
                &b.1.name,
                &b.1.rtype,
                b.1.routing.set_id(),
                a.0,
            ))
        });
        let kind = if info.private { "private" } else { "public" };
        let _ = writeln!(out, "zone {} ({kind}, {})", info.name, info.id);
        if rows.is_empty() {
            let _ = writeln!(out, "   (no records)");
        } else {
            let rows: Vec<(char, String, &RecordSet)> = rows
                .into_iter()
                .map(|(mark, r)| (mark, e(&r.name), r))
                .collect();
            let w = rows
                .iter()
                .map(|(_, name, _)| name.chars().count())
                .max()
                .unwrap_or(4)
                .max(4);
            let _ = writeln!(out, "   {:<w$}  {:<5}  {:>5}  VALUE", "NAME", "TYPE", "TTL");
            for (mark, name, r) in rows {
                let (ttl, value) = ttl_and_value(r, ", ");
                let _ = writeln!(
                    out,
                    " {mark} {name:<w$}  {:<5}  {ttl:>5}  {value}",
                    e(r.rtype.as_str())
                );
            }
        }
        out.push('\n');
    }
    out
}

/// Every interpolated field goes through this.
fn e(field: &str) -> String {
    names::escape_controls(field)
}

/// A record's TTL and values as columns. An alias has no TTL of its own
/// (it inherits the target's), so it shows `-` and `ALIAS target`. A
/// record set with a routing policy (a group member's) says which, and its
/// set identifier, the one thing that tells it from the others at its name.
fn ttl_and_value(r: &RecordSet, separator: &str) -> (String, String) {
    let (ttl, value) = match r.alias_target() {
        Some(target) => ("-".to_string(), format!("ALIAS {}", e(target))),
        None => (
            r.ttl().unwrap_or(0).to_string(),
            r.values()
                .iter()
                .map(|v| e(v))
                .collect::<Vec<_>>()
                .join(separator),
        ),
    };
    (
        ttl,
        format!("{value}{}", routing(r.routing.policy(), r.routing.set_id())),
    )
}

/// ` (multivalue i-0abc)` for a record set with a set identifier; nothing
/// for a simple one.
fn routing(policy: &str, set_id: Option<&str>) -> String {
    set_id
        .map(|id| format!(" ({} {})", e(policy), e(id)))
        .unwrap_or_default()
}

/// A reconcile's totals on one line.
pub fn totals_text(t: &crate::registrar::Totals) -> String {
    let calls = t
        .aws_calls
        .map(|n| format!(", {}", plural(n, "AWS call")))
        .unwrap_or_default();
    let tasks = match t.tasks_seen {
        0 => String::new(),
        n => format!(", {}", plural(n, "ECS task")),
    };
    format!(
        "reconcile{}: {}{tasks} seen, {}, {} changed, {}, {} created, {} deleted, {}, {}{calls}",
        if t.dry_run {
            " (dry run: nothing written)"
        } else {
            ""
        },
        plural(t.instances_seen, "instance"),
        plural(t.items_seen, "registry item"),
        t.changed,
        plural(t.conflicts, "conflict"),
        plural(t.records_created, "record"),
        t.records_deleted,
        match t.change_batches {
            1 => "1 change batch".to_string(),
            n => format!("{n} change batches"),
        },
        plural(t.errors, "error"),
    )
}

/// One event's summary in a few readable lines. The header names what is
/// known: the event file, the event id, the instance and the state.
pub fn summary_text(s: &Summary) -> String {
    let source = match &s.source {
        Some(source) => format!("{}: ", e(source)),
        None => String::new(),
    };
    let mut state = match (&s.state, s.changed_tags.is_empty()) {
        (Some(st), _) => st.to_string(),
        (None, false) => format!("tag change {}", s.changed_tags.join(",")),
        (None, true) => match &s.lifecycle {
            Some(action) => format!("lifecycle {}", action.split(' ').next().unwrap_or_default()),
            None => String::new(),
        },
    };
    // The live state decided; say so when it is not what the event named.
    if let Some(live) = s.live_state.filter(|live| Some(*live) != s.state) {
        state = format!("{state} (now {live})").trim_start().to_string();
    }
    // A member account's instance: its account and region before its id.
    let subject = match &s.place {
        Some(place) if !s.instance_id.is_empty() => format!("{place}/{}", s.instance_id),
        _ => s.instance_id.clone(),
    };
    let known: Vec<&str> = [s.event_id.as_str(), subject.as_str(), state.as_str()]
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect();
    let event = if known.is_empty() {
        String::new()
    } else {
        format!("event {}: ", e(&known.join(" ")))
    };
    let outcome = s.outcome.as_str().replace('-', " ");
    let dry_run = if s.dry_run {
        " (dry run: nothing written)"
    } else {
        ""
    };
    let mut out = format!("{source}{event}{outcome}{dry_run}\n");
    for c in &s.changes {
        let (ttl, value) = ttl_and_value(&c.record, ",");
        let _ = writeln!(
            out,
            "    {:<6} {} {} {ttl} {value} in {} ({})",
            c.action.as_str(),
            e(&c.record.name),
            e(c.record.rtype.as_str()),
            e(&c.zone_name),
            e(&c.zone_id)
        );
    }
    for c in &s.conflicts {
        let set = routing("set", c.set_id.as_deref());
        let _ = writeln!(
            out,
            "    conflict {} {}{set} in {}: {}",
            e(&c.name),
            e(c.rtype.as_str()),
            e(&c.zone_name),
            e(&c.reason)
        );
    }
    for r in &s.rejected {
        let _ = writeln!(out, "    rejected {}: {}", e(&r.name), e(&r.reason));
    }
    for n in &s.notes {
        let _ = writeln!(out, "    note: {}", e(n));
    }
    for w in &s.warnings {
        let _ = writeln!(out, "    warning: {}", e(w));
    }
    if let Some(error) = &s.error {
        let retry = if s.retryable == Some(true) {
            " (retryable)"
        } else {
            ""
        };
        let _ = writeln!(out, "    error{retry}: {}", e(error));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::plan::Rejection;

    #[test]
    fn an_unreadable_file_is_named_not_dashed() {
        let err = Error::Io {
            path: "missing.json".into(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory")
                .into(),
        };
        let mut s = Summary::unreadable_event(&err);
        s.source = Some("missing.json".into());
        let text = summary_text(&s);
        assert!(text.starts_with("missing.json: error\n"), "{text}");
        assert!(!text.contains(" - "), "{text}");
    }

    #[test]
    fn control_characters_in_findings_are_escaped() {
        let err = Error::BadEvent("x".into());
        let mut s = Summary::unreadable_event(&err);
        s.rejected.push(Rejection {
            name: "evil\n\u{1b}[2Jname".into(),
            kind: crate::plan::RejectionKind::InvalidName,
            reason: "a reason".into(),
        });
        let text = summary_text(&s);
        assert!(text.contains("evil\\n\\u{1b}[2Jname"), "{text}");
        assert_eq!(
            text.matches('\n').count(),
            text.lines().count(),
            "no forged lines"
        );
    }

    #[test]
    fn plurals() {
        assert_eq!(plural(1, "instance"), "1 instance");
        assert_eq!(plural(0, "VPC"), "0 VPCs");
        assert_eq!(plural(2, "registry item"), "2 registry items");
    }
}
