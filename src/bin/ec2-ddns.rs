//! The command line: replay events against an account, an emulator or a
//! world file, with the same handler the Lambda function runs.

use ec2_ddns::aws::{self, ConnectOptions};
use ec2_ddns::backend::{Dns, Instances, Registry};
use ec2_ddns::fake::{CallLog, Fake};
use ec2_ddns::registrar::{error_summary, Registrar};
use ec2_ddns::scenario::{self, Scenario};
use ec2_ddns::summary::{Outcome, Summary};
use ec2_ddns::world::{read_file, World};
use ec2_ddns::{event, report, Config, Error};
use std::collections::{BTreeMap, HashMap};
use std::process::ExitCode;

const USAGE: &str = "\
ec2-ddns: dynamic DNS for Route 53, driven by EC2 state changes

USAGE:
  ec2-ddns replay [OPTIONS] EVENT.json...   handle each event file in order
  ec2-ddns scenario [OPTIONS] SCENARIO.json run a scenario (world + steps) in memory, print the zones
  ec2-ddns snapshot [--endpoint-url URL] [--region R] [--table NAME] > world.json
                                            write a world file from an account (read-only calls)
  ec2-ddns help

WHERE (at most one; with neither, the account in the environment is used):
  --world FILE          in-memory account loaded from a world file; nothing leaves this machine
  --endpoint-url URL    an AWS emulator such as moto (AWS_ENDPOINT_URL works too)

OPTIONS:
  --region REGION       AWS region (default: AWS_REGION / profile / us-east-1)
  --dry-run             read and plan, write nothing
  --json                one JSON line per event (the default, except with --world)
  --text                readable lines per event, then the zones as tables (the default with --world)
  --stats               print AWS calls per operation to stderr after each event
  --table NAME          DynamoDB table            (DDNS_TABLE, default DDNS)
  --ttl SECONDS         TTL of written records    (DDNS_TTL, default 60)
  --zone-tag KEY        tag naming the home zone  (DDNS_ZONE_TAG, default ZONE)
  --cname-tag KEY       tag listing aliases       (DDNS_CNAME_TAG, default CNAME)
  --hostname-tag KEY    tag giving a vanity name  (DDNS_HOSTNAME_TAG, default HOSTNAME)
  --allowed-zones LIST  zones that may be written (DDNS_ALLOWED_ZONES, default all)
  --default-zone NAME   fallback home domain      (DDNS_DEFAULT_ZONE)

EXIT STATUS: 0 every event handled (conflicts included), 1 some event ended in error, 2 bad usage.
";

/// Parsed command line.
#[derive(Debug, Default)]
struct Args {
    endpoint_url: Option<String>,
    region: Option<String>,
    world: Option<String>,
    dry_run: bool,
    json: Option<bool>,
    stats: bool,
    /// `DDNS_*` overrides from flags.
    overrides: HashMap<String, String>,
    files: Vec<String>,
}

fn usage_error(msg: &str) -> ExitCode {
    eprintln!("ec2-ddns: {msg}\n\n{USAGE}");
    ExitCode::from(2)
}

fn parse_args(argv: &[String]) -> Result<Args, String> {
    let mut args = Args::default();
    let mut it = argv.iter();
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        let env_flag = match flag {
            "--table" => Some("DDNS_TABLE"),
            "--ttl" => Some("DDNS_TTL"),
            "--zone-tag" => Some("DDNS_ZONE_TAG"),
            "--cname-tag" => Some("DDNS_CNAME_TAG"),
            "--hostname-tag" => Some("DDNS_HOSTNAME_TAG"),
            "--allowed-zones" => Some("DDNS_ALLOWED_ZONES"),
            "--default-zone" => Some("DDNS_DEFAULT_ZONE"),
            _ => None,
        };
        if let Some(var) = env_flag {
            let v = value(flag)?;
            args.overrides.insert(var.to_string(), v);
            continue;
        }
        match flag {
            "--endpoint-url" => args.endpoint_url = Some(value(flag)?),
            "--region" => args.region = Some(value(flag)?),
            "--world" => args.world = Some(value(flag)?),
            "--dry-run" => args.dry_run = true,
            "--json" => args.json = Some(true),
            "--text" => args.json = Some(false),
            "--stats" => args.stats = true,
            f if f.starts_with("--") => return Err(format!("unknown option {f}")),
            _ => args.files.push(arg.clone()),
        }
    }
    if args.world.is_some() && args.endpoint_url.is_some() {
        return Err(
            "--world and --endpoint-url are exclusive: replay against one account at a time".into(),
        );
    }
    Ok(args)
}

/// Configuration from the environment with flags on top; a bad value is a
/// usage error that names the variable.
fn load_config(args: &Args) -> Result<Config, ExitCode> {
    Config::from_lookup(|k| {
        args.overrides
            .get(k)
            .cloned()
            .or_else(|| std::env::var(k).ok())
    })
    .map_err(|e| {
        eprintln!("ec2-ddns: {e}");
        ExitCode::from(2)
    })
}

/// Replays every event file through `registrar`, printing as asked.
async fn replay<E, D, R>(
    registrar: &Registrar<E, D, R>,
    args: &Args,
    json: bool,
    calls: &CallLog,
) -> bool
where
    E: Instances + Sync,
    D: Dns + Sync,
    R: Registry + Sync,
{
    let mut all_ok = true;
    for file in &args.files {
        let change = read_file(file).and_then(|text| {
            event::parse_str(&text).map_err(|e| match e {
                Error::BadEvent(m) => Error::BadEvent(format!("{file}: {m}")),
                other => other,
            })
        });
        let summary: Summary = match change {
            Err(e) => error_summary(None, &e),
            Ok(change) => match registrar.handle(&change).await {
                Ok(s) => s,
                Err(e) => error_summary(Some(&change), &e),
            },
        };
        if summary.outcome == Outcome::Error {
            all_ok = false;
        }
        if json {
            println!("{}", serde_json::to_string(&summary).unwrap_or_default());
        } else {
            print!("{}", report::summary_text(&summary));
        }
        if args.stats {
            let counts: BTreeMap<String, usize> = calls.take();
            let total: usize = counts.values().sum();
            eprintln!(
                "aws calls for {file}: {total} {}",
                serde_json::to_string(&counts).unwrap_or_default()
            );
        }
    }
    all_ok
}

async fn run_replay(args: Args) -> ExitCode {
    if args.files.is_empty() {
        return usage_error("replay needs at least one EVENT.json");
    }
    let config = match load_config(&args) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let calls = CallLog::default();
    let ok = if let Some(world_file) = &args.world {
        let world = match World::load(world_file) {
            Ok(w) => w,
            Err(e) => {
                eprintln!("ec2-ddns: {e}");
                return ExitCode::from(2);
            }
        };
        let fake = Fake::new(world.clone());
        let registrar = fake.registrar(config, &world.region, args.dry_run);
        let json = args.json.unwrap_or(false);
        let ok = replay(&registrar, &args, json, &fake.0.calls).await;
        if !json {
            println!();
            print!("{}", report::zone_tables(&world, &fake.world()));
        }
        ok
    } else {
        if args.endpoint_url.is_none() && std::env::var("AWS_ENDPOINT_URL").is_err() {
            eprintln!(
                "ec2-ddns: no --world or --endpoint-url: using the AWS account in the environment{}",
                if args.dry_run { " (dry run: read-only)" } else { "; records WILL be written" }
            );
        }
        let options = ConnectOptions {
            endpoint_url: args.endpoint_url.clone(),
            region: args.region.clone(),
        };
        let backends = aws::connect(&options, &config.table, calls.clone()).await;
        let registrar = backends.into_registrar(config, args.dry_run);
        replay(&registrar, &args, args.json.unwrap_or(true), &calls).await
    };
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Runs a scenario file on the in-memory backends.
async fn run_scenario(args: Args) -> ExitCode {
    let [file] = args.files.as_slice() else {
        return usage_error("scenario needs exactly one SCENARIO.json");
    };
    if args.world.is_some() || args.endpoint_url.is_some() {
        return usage_error(
            "a scenario names its own world and runs in memory: no --world or --endpoint-url",
        );
    }
    let config = match load_config(&args) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let loaded = match Scenario::load(file) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("ec2-ddns: {e}");
            return ExitCode::from(2);
        }
    };
    let json = args.json.unwrap_or(false);
    if let (Some(d), false) = (&loaded.description, json) {
        println!("{d}\n");
    }
    let fake = Fake::new(loaded.world.clone());
    let registrar = fake.registrar(config, &loaded.world.region, args.dry_run);
    let mut all_ok = true;
    for (n, (text, step)) in loaded.steps.iter().enumerate() {
        let mut result = Err(Error::BadEvent(String::new()));
        fake.edit(|world| result = scenario::perform(world, step, n as u32 + 1));
        let summary = match result {
            Ok(change) => registrar
                .handle(&change)
                .await
                .unwrap_or_else(|e| error_summary(Some(&change), &e)),
            Err(e) => error_summary(None, &e),
        };
        all_ok &= summary.outcome != Outcome::Error;
        if json {
            println!("{}", serde_json::to_string(&summary).unwrap_or_default());
        } else {
            println!("> {text}");
            print!("{}", report::summary_text(&summary));
        }
    }
    if !json {
        println!();
        print!("{}", report::zone_tables(&loaded.world, &fake.world()));
    }
    if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Writes the account (or emulator) as a world file on stdout; what could not
/// be carried over is listed on stderr.
async fn run_snapshot(args: Args) -> ExitCode {
    if args.world.is_some() || !args.files.is_empty() {
        return usage_error(
            "snapshot reads an account and writes its world to stdout: no --world or files",
        );
    }
    let config = match load_config(&args) {
        Ok(c) => c,
        Err(code) => return code,
    };
    if args.endpoint_url.is_none() && std::env::var("AWS_ENDPOINT_URL").is_err() {
        eprintln!("ec2-ddns: reading the AWS account in the environment (read-only calls)");
    }
    let options = ConnectOptions {
        endpoint_url: args.endpoint_url.clone(),
        region: args.region.clone(),
    };
    let calls = CallLog::default();
    let backends = aws::connect(&options, &config.table, calls.clone()).await;
    let snapshot = match aws::snapshot::snapshot(&backends, &config.table).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("ec2-ddns: snapshot failed: {e}");
            return ExitCode::from(1);
        }
    };
    for warning in &snapshot.warnings {
        eprintln!("ec2-ddns: snapshot: {warning}");
    }
    let world = &snapshot.world;
    match serde_json::to_string_pretty(world) {
        Ok(text) => println!("{text}"),
        Err(e) => {
            eprintln!("ec2-ddns: could not write the world: {e}");
            return ExitCode::from(1);
        }
    }
    let records: usize = world.zones.iter().map(|z| z.records.len()).sum();
    eprintln!(
        "ec2-ddns: snapshot of {}: {} VPCs, {} subnets, {} instances, {} zones ({records} record sets), {} registry items",
        world.region,
        world.vpcs.len(),
        world.subnets.len(),
        world.instances.len(),
        world.zones.len(),
        world.registry.len()
    );
    if args.stats {
        let counts = calls.take();
        let total: usize = counts.values().sum();
        eprintln!(
            "aws calls for snapshot: {total} {}",
            serde_json::to_string(&counts).unwrap_or_default()
        );
    }
    ExitCode::SUCCESS
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = argv.split_first() else {
        return usage_error("no command given");
    };
    match command.as_str() {
        "replay" => match parse_args(rest) {
            Ok(args) => run_replay(args).await,
            Err(msg) => usage_error(&msg),
        },
        "scenario" => match parse_args(rest) {
            Ok(args) => run_scenario(args).await,
            Err(msg) => usage_error(&msg),
        },
        "snapshot" => match parse_args(rest) {
            Ok(args) => run_snapshot(args).await,
            Err(msg) => usage_error(&msg),
        },
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        other => usage_error(&format!("unknown command '{other}'")),
    }
}
