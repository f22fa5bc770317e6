//! `ec2-ddns snapshot`: the account (or an emulator) as a world file.

use super::output::println;
use super::render::plural;
use super::AwsArgs;
use crate::adapters::aws;
use crate::calls;
use crate::sim::snapshot;
use clap::Args;
use std::process::ExitCode;

/// Write a world file from an account, with read-only calls
#[derive(Debug, Args)]
#[command(
    after_help = "The world goes to stdout as JSON; on stderr, a one-line count and one line for each thing left
out. Rehearse events on the copy with: ec2-ddns replay --world FILE EVENT.json..."
)]
pub(crate) struct SnapshotArgs {
    #[command(flatten)]
    aws: AwsArgs,
    // The table read into the world's registry.
    #[command(flatten)]
    registry: crate::config::TableArgs,
    // The organization mode: member accounts' EC2 and ECS as `members`.
    #[command(flatten)]
    members: crate::config::MemberArgs,
    /// Print the AWS calls made to stderr
    #[arg(long)]
    stats: bool,
}

pub(crate) async fn run(args: SnapshotArgs) -> ExitCode {
    let table = &args.registry.table;
    args.aws.announce("reading only");
    let mut account = aws::connect(&args.aws.options(), table).await;
    let places = match member_places(&mut account, args.members.clone().into()).await {
        Ok(places) => places,
        Err(e) => {
            eprintln!("ec2-ddns: snapshot failed: {e}");
            return ExitCode::from(1);
        }
    };
    let snapshot = match snapshot::snapshot_places(&account, table, &places).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("ec2-ddns: snapshot failed: {e}");
            return ExitCode::from(1);
        }
    };
    for warning in &snapshot.warnings {
        eprintln!(
            "ec2-ddns: snapshot: {}",
            crate::names::escape_controls(warning)
        );
    }
    let world = &snapshot.world;
    for m in &world.members {
        eprintln!(
            "ec2-ddns: member {}/{}: {}, {}{}",
            m.account_id(),
            m.region,
            plural(m.vpcs.len(), "VPC"),
            plural(m.instances.len(), "instance"),
            if m.role_refused {
                " (its role could not be assumed)"
            } else {
                ""
            }
        );
    }
    match serde_json::to_string_pretty(world) {
        Ok(text) => println(&text),
        Err(e) => {
            eprintln!("ec2-ddns: could not write the world: {e}");
            return ExitCode::from(1);
        }
    }
    let records: usize = world.zones.iter().map(|z| z.records.len()).sum();
    eprintln!(
        "ec2-ddns: snapshot of {}: {}, {}, {}, {} ({}), {}",
        world.region,
        plural(world.vpcs.len(), "VPC"),
        plural(world.subnets.len(), "subnet"),
        plural(world.instances.len(), "instance"),
        plural(world.zones.len(), "zone"),
        plural(records, "record set"),
        plural(world.registry.len(), "registry item"),
    );
    if args.stats {
        eprintln!(
            "aws calls for snapshot: {}",
            calls::stats_line(&account.calls.take())
        );
    }
    ExitCode::SUCCESS
}

/// The places of the organization mode, `account` organized for them;
/// none without `members`.
async fn member_places(
    account: &mut aws::AwsAccount,
    members: Option<crate::config::Members>,
) -> crate::Result<Vec<crate::model::Place>> {
    let Some(members) = members else {
        return Ok(Vec::new());
    };
    account.organize(&members).await?;
    let Some(reach) = account.members.clone() else {
        return Ok(Vec::new());
    };
    let accounts = match &members.accounts {
        crate::config::MemberAccounts::Listed(ids) => ids.clone(),
        crate::config::MemberAccounts::Organization => reach.organization_accounts().await?,
    };
    Ok(members.places(Some(&reach.home_account), &account.region, &accounts))
}
