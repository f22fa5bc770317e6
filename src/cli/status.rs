//! `ec2-ddns status INSTANCE_ID | TASK | HOST_NAME`: one subject as it stands,
//! read-only, against the backends every command uses. The report and its
//! verdict are decided in `ec2_ddns_core::status`; this file picks the
//! backend, renders the report and maps the verdict to the exit status.

use super::output::{print, println};
use super::{usage_error, AwsArgs};
use crate::adapters::aws;
use crate::names::escape_controls;
use crate::sim::memory::MemoryAccount;
use crate::sim::world::World;
use crate::status::{self, Asked, Fix, Listed, Standing, Status, SubjectKind};
use clap::Args;
use std::fmt::Write;
use std::process::ExitCode;

/// Why a name may not resolve: one instance, ECS task or DDNS host as it stands (read-only)
#[derive(Debug, Args)]
#[command(
    after_help = "Shows the subject's registry item; each record the item owns or has pending, and whether
Route 53 still holds it as written (as written, changed to ..., gone); what the live state wants
now (the dry run of an event: the registrar's own planner), with conflicts and rejections; then a
verdict and the fix. It never writes: the planner runs on ports that refuse every write.

Verdicts: healthy; drifted (`ec2-ddns reconcile` repairs it); conflict (someone else's record
holds a wanted name: a person removes it); rejected (a tag asks for a name the rules refuse);
not registered (it lists no records and wants none); unknown subject.

Exit status: 0 healthy, 1 any other verdict, 2 bad usage or input file, or an AWS read that
failed (no credentials, access denied). Troubleshooting: docs/troubleshooting.md."
)]
pub(crate) struct StatusArgs {
    /// An instance id (i-...), a member account's instance as ACCOUNT/REGION/i-... (with --member-accounts), an ECS task's ARN or id, or the name of a DDNS host (`hosts add`)
    #[arg(value_name = "INSTANCE_ID|TASK|HOST_NAME", value_parser = Asked::parse)]
    subject: Asked,
    /// An account in memory, loaded from a world file: nothing leaves this machine
    #[arg(long, value_name = "FILE", conflicts_with_all = ["endpoint_url", "region"])]
    world: Option<String>,
    #[command(flatten)]
    aws: AwsArgs,
    /// The same report as one JSON document
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    config: crate::config::ConfigArgs,
}

pub(crate) async fn run(args: StatusArgs) -> ExitCode {
    let config = crate::Config::from(args.config.clone());
    let found = match &args.world {
        Some(world_file) => {
            let world = match World::load(world_file) {
                Ok(w) => w,
                Err(e) => return usage_error("status", e),
            };
            let account = MemoryAccount::new(world);
            let registrar = account.registrar(config);
            status::status_with(&registrar, &account, &args.subject).await
        }
        None => {
            args.aws.announce("reading only");
            let account = aws::connect(&args.aws.options(), &config.table).await;
            let tasks = account.tasks.clone();
            let registrar = account.registrar(config);
            status::status_with(&registrar, &tasks, &args.subject).await
        }
    };
    let report = match found {
        Ok(report) => report,
        Err(e) => {
            eprintln!(
                "ec2-ddns: status of {}: {}",
                escape_controls(args.subject.as_str()),
                escape_controls(&e.to_string())
            );
            return ExitCode::from(2);
        }
    };
    if args.json {
        println(&serde_json::to_string_pretty(&report).unwrap_or_default());
    } else {
        print(&text(&report, &backend_flags(&args)));
    }
    if report.healthy() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// The flags that name the backend, for the fix's command line.
fn backend_flags(args: &StatusArgs) -> String {
    let mut flags = String::new();
    if let Some(world) = &args.world {
        let _ = write!(flags, " --world {world}");
    }
    if let Some(url) = &args.aws.endpoint_url {
        let _ = write!(flags, " --endpoint-url {url}");
    }
    if let Some(region) = &args.aws.region {
        let _ = write!(flags, " --region {region}");
    }
    // The organization mode: the reconcile needs the same members.
    let members: Option<crate::config::Members> = args.config.members.clone().into();
    if let Some(m) = members {
        let accounts = match &m.accounts {
            crate::config::MemberAccounts::Listed(ids) => ids.join(","),
            crate::config::MemberAccounts::Organization => "organization".into(),
        };
        let _ = write!(flags, " --member-accounts {accounts}");
        if m.role != "ec2-ddns-reader" {
            let _ = write!(flags, " --member-role {}", m.role);
        }
        if let Some(id) = &m.external_id {
            let _ = write!(flags, " --member-external-id {id}");
        }
        if !m.regions.is_empty() {
            let _ = write!(flags, " --member-regions {}", m.regions.join(","));
        }
    }
    flags
}

/// Every interpolated field goes through this.
fn e(field: &str) -> String {
    escape_controls(field)
}

/// A serde unit variant's name as the JSON spells it (`zone-not-allowed`),
/// given `serde_json::to_value` of it.
fn word(value: serde_json::Result<serde_json::Value>) -> String {
    value
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The report as a person reads it: the subject, its VPC, the item, each
/// record, the plan, the verdict and the fixes (`backend`: the flags that
/// name the backend, repeated in the reconcile's command line).
fn text(s: &Status, backend: &str) -> String {
    let mut out = String::new();
    subject_lines(&mut out, s);
    match &s.item {
        None => {
            let _ = writeln!(out, "registry item: none");
        }
        Some(item) => {
            let mut facts = vec![format!("version {}", item.version)];
            let when = item.last_event_time.as_deref().unwrap_or("-");
            let by = item.last_event_id.as_deref().unwrap_or("-");
            match s.kind {
                SubjectKind::Host => facts.push(format!("last update {when} (request {by})")),
                SubjectKind::Instance | SubjectKind::Task => {
                    facts.push(format!("last event {by} at {when}"))
                }
            }
            if let Some(state) = item.last_state {
                facts.push(format!("state {state}"));
            }
            let addresses: Vec<String> = [item.private_ip, item.public_ip]
                .into_iter()
                .flatten()
                .map(|ip| ip.to_string())
                .collect();
            if !addresses.is_empty() {
                facts.push(format!("addresses {}", addresses.join(", ")));
            }
            let _ = writeln!(
                out,
                "registry item {}: {}",
                e(&item.key),
                e(&facts.join(", "))
            );
            if let Some(why) = &item.foreign {
                let _ = writeln!(out, "  {}", e(why));
            }
        }
    }
    if s.records.is_empty() {
        let _ = writeln!(out, "records: none listed");
    } else {
        let _ = writeln!(out, "records:");
        for r in &s.records {
            let listed = match r.listed {
                Listed::Owned => "owned  ",
                Listed::Pending => "pending",
            };
            let standing = match &r.standing {
                Standing::AsWritten => "as written".to_string(),
                Standing::Changed(now) => format!("changed to {now}"),
                Standing::Gone => "gone".to_string(),
            };
            let _ = writeln!(
                out,
                "  {listed} {} in {} ({}): {}",
                e(&r.record.to_string()),
                e(&r.zone_name),
                e(&r.zone_id),
                e(&standing)
            );
        }
    }
    plan_lines(&mut out, s);
    let _ = writeln!(out, "verdict: {}: {}", s.verdict.as_str(), e(&s.reason));
    // A reconcile after a person's removal writes what the plan could not
    // yet: say "then", or it reads as if the plan above ("no change") were
    // what it does.
    let person_first = s
        .fixes
        .iter()
        .any(|f| matches!(f, Fix::RemoveForeign { .. } | Fix::DeleteUnsettled { .. }));
    for fix in &s.fixes {
        let text = match fix {
            Fix::Reconcile if person_first => format!(
                "then ec2-ddns reconcile{backend}  # writes the names the removals free; --dry-run shows it first"
            ),
            _ => fix_text(fix, s.kind, backend),
        };
        let _ = writeln!(out, "fix: {text}");
    }
    for listed in &s.listed_by {
        let _ = writeln!(
            out,
            "note: {} is no DDNS host, but {} lists a record at it: ec2-ddns status {}{backend}",
            e(&s.subject),
            e(listed),
            e(listed)
        );
    }
    out
}

/// The subject's first lines: EC2's view and its VPC, ECS's, or the host.
fn subject_lines(out: &mut String, s: &Status) {
    match (s.kind, &s.instance) {
        (SubjectKind::Task, _) => task_lines(out, s),
        (SubjectKind::Instance, None) => {
            let _ = writeln!(
                out,
                "instance {}: EC2 does not know it in {}",
                e(&s.subject),
                e(&s.region)
            );
        }
        (SubjectKind::Instance, Some(i)) => {
            let name = i
                .name
                .as_ref()
                .map(|n| format!(" ({})", e(n)))
                .unwrap_or_default();
            let mut facts = vec![i.state.to_string()];
            if let Some(ip) = i.private_ip {
                facts.push(format!("private {ip}"));
            }
            if let Some(ip) = i.public_ip {
                facts.push(format!("public {ip}"));
            }
            if let Some(vpc) = &i.vpc_id {
                facts.push(format!("VPC {}", e(vpc)));
            }
            let _ = writeln!(
                out,
                "instance {}{name}: {}",
                e(&i.instance_id),
                facts.join(", ")
            );
            if !i.tags.is_empty() {
                let tags: Vec<String> = i
                    .tags
                    .iter()
                    .map(|(k, v)| format!("{}={}", e(k), e(v)))
                    .collect();
                let _ = writeln!(out, "  tags: {}", tags.join(" "));
            }
        }
        (SubjectKind::Host, _) => match s.item.as_ref().and_then(|i| i.host.as_ref()) {
            Some(h) => {
                let _ = writeln!(
                    out,
                    "host {} in {} ({}), TTL {}, added {}",
                    e(&s.subject),
                    e(&h.zone_name),
                    e(&h.zone_id),
                    h.ttl,
                    e(h.created.as_deref().unwrap_or("-"))
                );
            }
            None => {
                let _ = writeln!(out, "host {}", e(&s.subject));
            }
        },
    }
    if let Some(v) = &s.vpc {
        let flag = |b: Option<bool>| b.map_or("unknown".to_string(), |b| b.to_string());
        let dhcp = v
            .dhcp_domain
            .as_deref()
            .map(|d| format!(", DHCP domain {}", e(d)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "vpc {}: enableDnsSupport={}, enableDnsHostnames={}{dhcp}",
            e(&v.vpc_id),
            flag(v.dns_support),
            flag(v.dns_hostnames)
        );
        let zones: Vec<String> = v
            .private_zones
            .iter()
            .map(|z| format!("{} ({})", e(&z.zone_name), e(&z.zone_id)))
            .collect();
        let _ = writeln!(
            out,
            "  private zones associated: {}",
            if zones.is_empty() {
                "none".to_string()
            } else {
                zones.join(", ")
            }
        );
    }
}

/// What the live state wants: the dry run's changes and findings.
fn plan_lines(out: &mut String, s: &Status) {
    let p = &s.plan;
    let empty = p.changes.is_empty()
        && p.conflicts.is_empty()
        && p.rejected.is_empty()
        && p.notes.is_empty()
        && p.warnings.is_empty();
    if empty {
        let _ = writeln!(out, "live state wants (dry run): no change");
        return;
    }
    let _ = writeln!(out, "live state wants (dry run):");
    if p.changes.is_empty() {
        let _ = writeln!(out, "    no change");
    }
    for c in &p.changes {
        let _ = writeln!(
            out,
            "    {:<6} {} in {} ({})",
            c.action.as_str(),
            e(&c.record.to_string()),
            e(&c.zone_name),
            e(&c.zone_id)
        );
    }
    for c in &p.conflicts {
        let _ = writeln!(
            out,
            "    conflict {} {} in {} ({}): {}",
            e(&c.name),
            e(c.rtype.as_str()),
            e(&c.zone_name),
            word(serde_json::to_value(c.kind)),
            e(&c.reason)
        );
    }
    for r in &p.rejected {
        let _ = writeln!(
            out,
            "    rejected {} ({}): {}",
            e(&r.name),
            word(serde_json::to_value(r.kind)),
            e(&r.reason)
        );
    }
    for n in &p.notes {
        let _ = writeln!(out, "    note: {}", e(n));
    }
    for w in &p.warnings {
        let _ = writeln!(out, "    warning: {}", e(w));
    }
}

/// A task's first lines: ECS's view of it (and its VPC's, with the rest).
fn task_lines(out: &mut String, s: &Status) {
    let Some(t) = &s.task else {
        let _ = writeln!(
            out,
            "task {}: ECS does not know it in {}",
            e(&s.subject),
            e(&s.region)
        );
        return;
    };
    let mut facts = vec![format!(
        "{} (desired {})",
        e(&t.last_status),
        e(&t.desired_status)
    )];
    if let Some(group) = &t.group {
        facts.push(format!("group {}", e(group)));
    }
    if let Some(ip) = t.private_ip {
        facts.push(format!("private {ip}"));
    }
    if let Some(ip) = t.public_ip {
        facts.push(format!("public {ip}"));
    }
    if let Some(vpc) = &t.vpc_id {
        facts.push(format!("VPC {}", e(vpc)));
    }
    let _ = writeln!(out, "task {}: {}", e(&t.task_arn), facts.join(", "));
    if !t.tags.is_empty() {
        let tags: Vec<String> = t
            .tags
            .iter()
            .map(|(k, v)| format!("{}={}", e(k), e(v)))
            .collect();
        let _ = writeln!(out, "  tags: {}", tags.join(" "));
    }
}

/// One fix as an instruction, with the command to paste where there is one.
fn fix_text(fix: &Fix, kind: SubjectKind, backend: &str) -> String {
    let whose = match kind {
        SubjectKind::Instance => "this instance's",
        SubjectKind::Task => "this task's",
        SubjectKind::Host => "this host's",
    };
    match fix {
        Fix::Reconcile => format!(
            "ec2-ddns reconcile{backend}  # makes the planned changes; --dry-run shows them first"
        ),
        Fix::RemoveForeign {
            zone_id,
            zone_name,
            record,
        } => format!(
            "a person must remove {} from {} ({}) if it is stale (it is not {whose}, so ec2-ddns never touches it), or change the tags that want its name",
            e(&record.to_string()),
            e(zone_name),
            e(zone_id)
        ),
        Fix::DeleteUnsettled {
            zone_id,
            zone_name,
            record,
        } => format!(
            "if {} in {} ({}) is stale, a person deletes it: an earlier invocation sent it and never learned whether it applied, so it cannot be proven {whose}",
            e(&record.to_string()),
            e(zone_name),
            e(zone_id)
        ),
        Fix::ChangeTags { names } => format!(
            "change the tag or setting (DDNS_ALLOWED_ZONES, DDNS_DEFAULT_ZONE) that asks for {}: see the rejections",
            e(&names.join(", "))
        ),
        Fix::HostUpdate => "the host's next update that sends a new address writes its record again (an update of the same address makes no call)".to_string(),
    }
}
