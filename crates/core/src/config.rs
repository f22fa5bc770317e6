//! The registrar's settings, defined once. [`ConfigArgs`] is a clap
//! definition in which every setting has a flag, a `DDNS_*` variable and a
//! default: the Lambda function parses it from its environment alone
//! ([`Config::from_env`]), the command line flattens it into its commands
//! (a flag, else the variable, else the default), and the same definition
//! writes the settings' `--help` lines, the man page and the table in
//! docs/configuration.md ([`reference_table`], checked by a test). Values
//! are checked here, at the edge: a bad one is refused with what was
//! wanted, naming the variable, never a surprise later.

use crate::error::{Error, Result};
use crate::ids::{DnsName, ZoneId, ZoneRef};
use crate::model::MAX_TTL;
use crate::names;
use clap::builder::{PossibleValue, TypedValueParser};
use clap::{Arg, Args, Command, FromArgMatches, ValueEnum};
use std::ffi::OsStr;

/// Everything the registrar is told rather than discovers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// DynamoDB table holding what each instance owns.
    pub table: String,
    /// TTL of every record written.
    pub ttl: u32,
    pub zone_tag: String,
    pub cname_tag: String,
    pub hostname_tag: String,
    /// Tag listing the group names an instance shares with others.
    pub group_tag: String,
    /// The host label of an ECS task without a `HOSTNAME` tag
    /// (`DDNS_TASK_DEFAULT_NAME`, e.g. `{family}-{task-id-8}`); `None`: a
    /// task gets a host name only from its tag.
    pub task_default_name: Option<String>,
    /// Whether ECS tasks are converged (`DDNS_TASKS`, default true): their
    /// events handled and the reconcile listing ECS. The template sets it
    /// from its `EnableTasks` parameter, with the ECS permissions, so that
    /// a function without them never asks.
    pub tasks: bool,
    /// Zone names (normalized) or ids the registrar may write to; empty: all.
    pub allowed_zones: Vec<ZoneRef>,
    /// Home domain when neither the ZONE tag nor DHCP gives one.
    pub default_zone: Option<DnsName>,
    /// What a stopped instance keeps (`DDNS_ON_STOP`).
    pub on_stop: OnStop,
    /// How long a warm Lambda process remembers zones and VPC facts
    /// (`DDNS_CACHE_SECONDS`; 0: not at all).
    pub cache_seconds: u64,
    /// Whether an instance's IPv6 address also goes into the public view
    /// (`DDNS_PUBLIC_IPV6`, default true): IPv6 addresses are global, so
    /// the same address answers inside and outside the VPC.
    pub public_ipv6: bool,
    /// How a launch lifecycle hook is completed when the instance's
    /// registration failed for good (`DDNS_HOOK_ON_CONFLICT`).
    pub hook_on_conflict: HookOnConflict,
    /// Whether a launch lifecycle hook is completed only once Route 53
    /// reports the instance's changes `INSYNC` on all its name servers
    /// (`DDNS_WAIT_INSYNC`, default false: once Route 53 accepted them),
    /// within the invocation's time (`crate::lifecycle`).
    pub wait_insync: bool,
    /// The organization mode: the member accounts whose instances and
    /// tasks get names in this account's zones, and how they are read
    /// (`DDNS_MEMBER_*`); `None`: this account only.
    pub members: Option<Members>,
}

/// The organization mode's settings: which accounts, which role to assume
/// in each (with which external id), and which regions the reconcile
/// covers (`registrar/organization.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Members {
    pub accounts: MemberAccounts,
    /// The role's name in each member account (`DDNS_MEMBER_ROLE`).
    pub role: String,
    /// The external id its trust policy asks for (`DDNS_MEMBER_EXTERNAL_ID`).
    pub external_id: Option<String>,
    /// The regions the reconcile covers in every account, the central
    /// one's included (`DDNS_MEMBER_REGIONS`); empty: the deployment's own.
    pub regions: Vec<String>,
}

/// `DDNS_MEMBER_ACCOUNTS`: a list of account ids, or every account of the
/// organization (`organization`: `organizations:ListAccounts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberAccounts {
    Listed(Vec<String>),
    Organization,
}

impl Members {
    /// Whether events from `account` are this deployment's to converge.
    pub fn includes(&self, account: &str) -> bool {
        match &self.accounts {
            MemberAccounts::Listed(ids) => ids.iter().any(|a| a == account),
            MemberAccounts::Organization => true,
        }
    }

    /// Every place the reconcile covers besides the deployment's own
    /// (`home_account` in `home_region`): each configured region of the
    /// central account but its own, then each of `accounts` in each
    /// configured region.
    pub fn places(
        &self,
        home_account: Option<&str>,
        home_region: &str,
        accounts: &[String],
    ) -> Vec<crate::ids::Place> {
        let regions = self.regions_or(home_region);
        let mut places = Vec::new();
        if let Some(home) = home_account {
            for region in regions.iter().filter(|r| *r != home_region) {
                places.push(crate::ids::Place::new(home, region));
            }
        }
        for account in accounts.iter().filter(|a| Some(a.as_str()) != home_account) {
            for region in &regions {
                places.push(crate::ids::Place::new(account, region));
            }
        }
        places
    }

    /// The regions the reconcile covers: those listed, else `home`.
    pub fn regions_or(&self, home: &str) -> Vec<String> {
        if self.regions.is_empty() {
            vec![home.to_string()]
        } else {
            self.regions.clone()
        }
    }
}

/// How a launch lifecycle action is completed when its instance cannot be
/// registered for good (a conflict at its name, a rejected tag): by
/// default it goes into service without its name, which is better than no
/// instance; `abandon` terminates it instead (`crate::lifecycle`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum HookOnConflict {
    /// CONTINUE: the instance goes into service; the failure is logged and counted.
    #[default]
    Continue,
    /// ABANDON: Auto Scaling terminates the instance (and launches another).
    Abandon,
}

/// What happens to a stopped (or stopping) instance's records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum OnStop {
    /// Every record is deleted; the next start writes them again.
    #[default]
    Deregister,
    /// The private records stay (the private address stays with the
    /// instance); the public ones go (its public address is released).
    Keep,
}

impl OnStop {
    pub fn as_str(self) -> &'static str {
        match self {
            OnStop::Deregister => "deregister",
            OnStop::Keep => "keep",
        }
    }
}

impl std::fmt::Display for OnStop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Default for Config {
    /// The defaults of [`ConfigArgs`], the one place they are written
    /// (parsed once: tests and rehearsals ask for them often).
    fn default() -> Self {
        static DEFAULTS: std::sync::OnceLock<Config> = std::sync::OnceLock::new();
        DEFAULTS
            .get_or_init(|| {
                Config::from_lookup(|_| None).expect("the defaults pass their own checks")
            })
            .clone()
    }
}

impl Config {
    /// The Lambda function's configuration: the `DDNS_*` variables of its
    /// environment, parsed by [`ConfigArgs`] (a blank one counts as unset).
    pub fn from_env() -> Result<Config> {
        let command = blank_variables_unset(ConfigArgs::augment_args(Command::new("bootstrap")));
        parse(command, vec!["bootstrap".to_string()])
    }

    /// The configuration that `lookup` gives each variable, through the same
    /// definition and checks, so tests and callers holding values need not
    /// touch the process environment. A blank value counts as unset, which
    /// lets a CloudFormation parameter default to "".
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config> {
        let command = ConfigArgs::augment_args(Command::new("config"));
        let mut argv = vec!["config".to_string()];
        for arg in command.get_arguments() {
            let (Some(variable), Some(long)) = (arg.get_env(), arg.get_long()) else {
                continue;
            };
            let value = lookup(&variable.to_string_lossy());
            if let Some(value) = value.filter(|v| !v.trim().is_empty()) {
                argv.push(format!("--{long}={value}"));
            }
        }
        // The values come from `lookup` alone, not from the process.
        parse(command.mut_args(|arg| arg.env(None)), argv)
    }

    /// Whether a tag-change event naming `changed` keys can change any
    /// record: one of the configured tag keys is among them.
    pub fn watches_any(&self, changed: &[String]) -> bool {
        changed.iter().any(|k| self.tag_keys().contains(&k))
    }

    /// The tag keys the registrar reads, in the order messages list them.
    pub fn tag_keys(&self) -> [&String; 4] {
        [
            &self.zone_tag,
            &self.cname_tag,
            &self.hostname_tag,
            &self.group_tag,
        ]
    }

    /// Whether a zone may be written to, by id or by name.
    pub fn allows_zone(&self, id: &ZoneId, name: &DnsName) -> bool {
        self.allowed_zones.is_empty() || self.allowed_zones.iter().any(|z| z.names(id, name))
    }
}

/// The registrar's settings as flags and variables: each one a flag, else
/// its `DDNS_*` variable (a blank one counts as unset), else its default.
/// Every value passes its check on the way in, so the [`Config`] made from
/// it needs no second one.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Registrar settings (flag, else environment variable, else default)")]
pub struct ConfigArgs {
    #[command(flatten)]
    pub registry: TableArgs,
    /// TTL of every record written, in seconds
    #[arg(
        long,
        env = "DDNS_TTL",
        hide_env_values = true,
        value_name = "SECONDS",
        default_value_t = 60,
        value_parser = ttl_seconds(),
        allow_negative_numbers = true
    )]
    pub ttl: u32,
    /// Tag naming the instance's home zone
    #[arg(
        long,
        env = "DDNS_ZONE_TAG",
        hide_env_values = true,
        value_name = "KEY",
        default_value = "ZONE",
        value_parser = Setting::new(tag_key)
    )]
    pub zone_tag: String,
    /// Tag listing aliases (CNAMEs)
    #[arg(
        long,
        env = "DDNS_CNAME_TAG",
        hide_env_values = true,
        value_name = "KEY",
        default_value = "CNAME",
        value_parser = Setting::new(tag_key)
    )]
    pub cname_tag: String,
    /// Tag giving a vanity host name
    #[arg(
        long,
        env = "DDNS_HOSTNAME_TAG",
        hide_env_values = true,
        value_name = "KEY",
        default_value = "HOSTNAME",
        value_parser = Setting::new(tag_key)
    )]
    pub hostname_tag: String,
    /// Tag listing group names, shared with other instances (multivalue answers)
    #[arg(
        long,
        env = "DDNS_GROUP_TAG",
        hide_env_values = true,
        value_name = "KEY",
        default_value = "GROUP",
        value_parser = Setting::new(tag_key)
    )]
    pub group_tag: String,
    /// Host label of an ECS task without a HOSTNAME tag, e.g. {family}-{task-id-8}; unset: none
    #[arg(
        long,
        env = "DDNS_TASK_DEFAULT_NAME",
        hide_env_values = true,
        value_name = "TEMPLATE",
        value_parser = Setting::new(task_template)
    )]
    pub task_default_name: Option<String>,
    /// Whether ECS tasks get names (their events, and the reconcile listing ECS): true or false
    #[arg(
        long,
        env = "DDNS_TASKS",
        hide_env_values = true,
        value_name = "BOOL",
        default_value_t = true,
        value_parser = Setting::new(switch),
        action = clap::ArgAction::Set
    )]
    pub tasks: bool,
    /// Zones that may be written: names or ids, comma-separated; unset: every zone
    #[arg(
        long,
        env = "DDNS_ALLOWED_ZONES",
        hide_env_values = true,
        value_name = "LIST",
        value_parser = Setting::new(zone_list)
    )]
    pub allowed_zones: Option<ZoneList>,
    /// Home domain when no ZONE tag or DHCP domain gives one; unset: none
    #[arg(
        long,
        env = "DDNS_DEFAULT_ZONE",
        hide_env_values = true,
        value_name = "NAME",
        value_parser = Setting::new(home_zone)
    )]
    pub default_zone: Option<DnsName>,
    /// What a stopped instance keeps: deregister (nothing) or keep (its private records)
    #[arg(
        long,
        env = "DDNS_ON_STOP",
        hide_env_values = true,
        value_name = "POLICY",
        default_value_t = OnStop::Deregister,
        value_parser = Setting::new(stop_policy).with_choices(OnStop::choices),
        hide_possible_values = true
    )]
    pub on_stop: OnStop,
    /// Seconds a warm Lambda function remembers zones and VPC facts (0: never; the CLI never caches)
    #[arg(
        long,
        env = "DDNS_CACHE_SECONDS",
        hide_env_values = true,
        value_name = "SECONDS",
        default_value_t = 60,
        value_parser = Setting::new(cache_seconds),
        allow_negative_numbers = true
    )]
    pub cache_seconds: u64,
    /// Whether an instance's IPv6 address also gets an AAAA in a public zone: true or false
    #[arg(
        long,
        env = "DDNS_PUBLIC_IPV6",
        hide_env_values = true,
        value_name = "BOOL",
        default_value_t = true,
        value_parser = Setting::new(switch),
        action = clap::ArgAction::Set
    )]
    pub public_ipv6: bool,
    /// How a launch lifecycle hook ends when registration fails for good: continue or abandon
    #[arg(
        long,
        env = "DDNS_HOOK_ON_CONFLICT",
        hide_env_values = true,
        value_name = "RESULT",
        default_value = "continue",
        value_parser = Setting::new(hook_result),
        hide_possible_values = true
    )]
    pub hook_on_conflict: HookOnConflict,
    /// Whether a launch lifecycle hook waits for Route 53 to report the records INSYNC (within the invocation's time): true or false
    #[arg(
        long,
        env = "DDNS_WAIT_INSYNC",
        hide_env_values = true,
        value_name = "BOOL",
        default_value_t = false,
        value_parser = Setting::new(switch),
        action = clap::ArgAction::Set
    )]
    pub wait_insync: bool,
    #[command(flatten)]
    pub members: MemberArgs,
}

/// The organization mode's settings alone, apart so that a command that
/// needs no other setting (`snapshot`) takes them from the same
/// definition.
#[derive(Debug, Clone, Args)]
pub struct MemberArgs {
    /// Member accounts whose instances and tasks get names here: ids, comma-separated, or organization (every account, organizations:ListAccounts); unset: this account only
    #[arg(
        long,
        env = "DDNS_MEMBER_ACCOUNTS",
        hide_env_values = true,
        value_name = "LIST",
        value_parser = Setting::new(member_accounts)
    )]
    pub member_accounts: Option<MemberAccounts>,
    /// Role assumed in each member account to read its instances and tasks
    #[arg(
        long,
        env = "DDNS_MEMBER_ROLE",
        hide_env_values = true,
        value_name = "NAME",
        default_value = "ec2-ddns-reader",
        value_parser = Setting::new(role_name)
    )]
    pub member_role: String,
    /// External id the member role's trust policy asks for; unset: none
    #[arg(
        long,
        env = "DDNS_MEMBER_EXTERNAL_ID",
        hide_env_values = true,
        value_name = "ID",
        value_parser = Setting::new(external_id)
    )]
    pub member_external_id: Option<String>,
    /// Regions the reconcile covers in every account, comma-separated; unset: this deployment's region
    #[arg(
        long,
        env = "DDNS_MEMBER_REGIONS",
        hide_env_values = true,
        value_name = "LIST",
        value_parser = Setting::new(region_list)
    )]
    pub member_regions: Option<RegionList>,
}

impl From<MemberArgs> for Option<Members> {
    fn from(args: MemberArgs) -> Option<Members> {
        args.member_accounts.map(|accounts| Members {
            accounts,
            role: args.member_role,
            external_id: args.member_external_id,
            regions: args.member_regions.unwrap_or_default().0,
        })
    }
}

/// `DDNS_MEMBER_REGIONS` as checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegionList(pub Vec<String>);

/// The registry table alone, apart so that a command that needs no other
/// setting (`snapshot`) takes it from the same definition.
#[derive(Debug, Clone, Args)]
pub struct TableArgs {
    /// DynamoDB table of what each instance owns
    #[arg(
        long,
        env = "DDNS_TABLE",
        hide_env_values = true,
        value_name = "NAME",
        default_value = "DDNS",
        value_parser = Setting::new(table_name)
    )]
    pub table: String,
}

/// `DDNS_ALLOWED_ZONES` as checked: hosted zone ids and normalized zone
/// names; empty: every zone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ZoneList(pub Vec<ZoneRef>);

impl From<ConfigArgs> for Config {
    fn from(args: ConfigArgs) -> Config {
        Config {
            table: args.registry.table,
            ttl: args.ttl,
            zone_tag: args.zone_tag,
            cname_tag: args.cname_tag,
            hostname_tag: args.hostname_tag,
            group_tag: args.group_tag,
            task_default_name: args.task_default_name,
            tasks: args.tasks,
            allowed_zones: args.allowed_zones.unwrap_or_default().0,
            default_zone: args.default_zone,
            on_stop: args.on_stop,
            cache_seconds: args.cache_seconds,
            public_ipv6: args.public_ipv6,
            hook_on_conflict: args.hook_on_conflict,
            wait_insync: args.wait_insync,
            members: args.members.into(),
        }
    }
}

impl OnStop {
    /// The policies as clap's possible values (for completions).
    fn choices() -> Vec<PossibleValue> {
        OnStop::value_variants()
            .iter()
            .filter_map(ValueEnum::to_possible_value)
            .collect()
    }
}

/// clap hands a variable set to "" to the value parser as the value "".
/// Here a blank `DDNS_*` (or any) variable is unset instead, in `command`
/// and its subcommands, as the Lambda function has always read them: a
/// CloudFormation parameter left empty sets one. (`--help` then leaves out
/// that variable's `[env: …]`, the price of clap having no other way.)
pub fn blank_variables_unset(command: Command) -> Command {
    command
        .mut_args(|arg| {
            let blank = arg
                .get_env()
                .and_then(std::env::var_os)
                .is_some_and(|value| value.to_string_lossy().trim().is_empty());
            if blank {
                arg.env(None)
            } else {
                arg
            }
        })
        .mut_subcommands(blank_variables_unset)
}

/// The value parser of a TTL in seconds, with its valid range; for any
/// command's `--ttl`, so each answers a bad one alike.
pub fn ttl_seconds() -> impl TypedValueParser<Value = u32> {
    Setting::new(ttl)
}

/// The settings as docs/configuration.md shows them, a Markdown table
/// written from [`ConfigArgs`] (variable, flag, default, help), so the page
/// cannot drift from the definition: a test compares them.
pub fn reference_table() -> String {
    let command = ConfigArgs::augment_args(Command::new("config"));
    let mut table = String::from("| variable | flag | default | meaning |\n|---|---|---|---|\n");
    for arg in command.get_arguments() {
        let (Some(variable), Some(long)) = (arg.get_env(), arg.get_long()) else {
            continue;
        };
        let defaults: Vec<String> = arg
            .get_default_values()
            .iter()
            .map(|d| format!("`{}`", d.to_string_lossy()))
            .collect();
        let default = if defaults.is_empty() {
            "unset".to_string()
        } else {
            defaults.join(", ")
        };
        let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
        table.push_str(&format!(
            "| `{}` | `--{long}` | {default} | {} |\n",
            variable.to_string_lossy(),
            help.replace('\n', " ").replace('|', "\\|")
        ));
    }
    table
}

fn parse(command: Command, argv: Vec<String>) -> Result<Config> {
    command
        .try_get_matches_from(argv)
        .and_then(|matches| ConfigArgs::from_arg_matches(&matches))
        .map(Config::from)
        .map_err(refused)
}

/// A start-up error naming the variable, from clap's error about its flag.
fn refused(e: clap::Error) -> Error {
    let invalid = std::error::Error::source(&e).and_then(|s| s.downcast_ref::<Invalid>());
    match invalid {
        Some(invalid) => Error::Config {
            variable: variable_of(invalid.flag.as_deref()).unwrap_or_default(),
            message: format!(
                "'{}' is {}; expected {}",
                invalid.value, invalid.refusal.problem, invalid.refusal.wanted
            ),
        },
        // Not reached with values alone: every setting has a Setting parser.
        None => Error::Config {
            variable: "DDNS_*".into(),
            message: e.to_string().lines().next().unwrap_or_default().into(),
        },
    }
}

/// The variable of a setting's flag (`ttl` → `DDNS_TTL`), from the
/// definition: [`Config::from_lookup`] parses with the variables unhooked.
fn variable_of(flag: Option<&str>) -> Option<String> {
    let command = ConfigArgs::augment_args(Command::new("config"));
    let arg = command.get_arguments().find(|arg| arg.get_long() == flag)?;
    arg.get_env().map(|v| v.to_string_lossy().into_owned())
}

/// What a setting's check says of a bad value: what is wrong with it, and
/// what is wanted instead.
#[derive(Debug)]
struct Refusal {
    problem: String,
    wanted: String,
}

impl Refusal {
    fn new(problem: impl Into<String>, wanted: impl Into<String>) -> Refusal {
        Refusal {
            problem: problem.into(),
            wanted: wanted.into(),
        }
    }
}

/// A refused value, naming the variable: clap writes "invalid value 'V'
/// for '--flag <X>': " before it, since the value may come from either.
#[derive(Debug)]
struct Invalid {
    variable: Option<String>,
    flag: Option<String>,
    value: String,
    refusal: Refusal,
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}; expected {}",
            self.refusal.problem, self.refusal.wanted
        )?;
        match &self.variable {
            Some(variable) => write!(f, " ({variable})"),
            None => Ok(()),
        }
    }
}

impl std::error::Error for Invalid {}

/// A setting's value parser: the text, trimmed, through `check`; a refusal
/// becomes clap's error (exit status 2 on the command line) naming the
/// flag, the value and the variable.
#[derive(Clone)]
struct Setting<T> {
    check: fn(&str) -> std::result::Result<T, Refusal>,
    choices: fn() -> Vec<PossibleValue>,
}

impl<T> Setting<T> {
    fn new(check: fn(&str) -> std::result::Result<T, Refusal>) -> Self {
        Setting {
            check,
            choices: Vec::new,
        }
    }

    /// The values to offer in completions.
    fn with_choices(self, choices: fn() -> Vec<PossibleValue>) -> Self {
        Setting { choices, ..self }
    }
}

impl<T: Clone + Send + Sync + 'static> TypedValueParser for Setting<T> {
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &Command,
        arg: Option<&Arg>,
        value: &OsStr,
    ) -> std::result::Result<T, clap::Error> {
        let variable = arg
            .and_then(Arg::get_env)
            .map(|v| v.to_string_lossy().into_owned());
        let flag = arg.and_then(Arg::get_long).map(str::to_string);
        let check = self.check;
        let parse = move |text: &str| {
            check(text.trim()).map_err(|refusal| Invalid {
                variable: variable.clone(),
                flag: flag.clone(),
                value: names::clip(text),
                refusal,
            })
        };
        parse.parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        let choices = (self.choices)();
        (!choices.is_empty()).then(|| Box::new(choices.into_iter()) as Box<_>)
    }
}

/// A whole number from 0 to `max`; a negative one, or one too large for
/// any integer, is out of range rather than "not a number".
fn whole_number(text: &str, max: u64) -> std::result::Result<u64, &'static str> {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("not a whole number");
    }
    match text.parse::<u64>() {
        Ok(n) if n <= max => Ok(n),
        _ => Err("out of range"),
    }
}

fn ttl(text: &str) -> std::result::Result<u32, Refusal> {
    whole_number(text, u64::from(MAX_TTL))
        .map(|n| n as u32)
        .map_err(|problem| Refusal::new(problem, format!("whole seconds from 0 to {MAX_TTL}")))
}

fn cache_seconds(text: &str) -> std::result::Result<u64, Refusal> {
    whole_number(text, 3600)
        .map_err(|problem| Refusal::new(problem, "whole seconds from 0 (no cache) to 3600"))
}

fn table_name(text: &str) -> std::result::Result<String, Refusal> {
    if text.is_empty() {
        return Err(Refusal::new("empty", "a DynamoDB table's name"));
    }
    Ok(text.to_string())
}

fn task_template(text: &str) -> std::result::Result<String, Refusal> {
    crate::plan::task::check_template(text)
        .map(|()| text.to_string())
        .map_err(|problem| {
            Refusal::new(
                problem,
                format!(
                    "a label template made of letters, digits, - and {}",
                    crate::plan::task::PLACEHOLDERS.join(", ")
                ),
            )
        })
}

fn tag_key(text: &str) -> std::result::Result<String, Refusal> {
    let wanted = "an EC2 tag key of 1 to 128 characters";
    match text.chars().count() {
        0 => Err(Refusal::new("empty", wanted)),
        1..=128 => Ok(text.to_string()),
        _ => Err(Refusal::new("longer than 128 characters", wanted)),
    }
}

fn home_zone(text: &str) -> std::result::Result<DnsName, Refusal> {
    let zone = names::normalize(text);
    // A home domain names hosts: never one inside the reverse trees.
    names::check_wanted_name(&zone).map(|()| zone).map_err(|p| {
        Refusal::new(
            format!("not a domain name: {p}"),
            "a domain such as corp.example",
        )
    })
}

fn stop_policy(text: &str) -> std::result::Result<OnStop, Refusal> {
    OnStop::from_str(text, true).map_err(|_| {
        Refusal::new(
            "not a stop policy",
            "deregister (delete a stopped instance's records) or keep (keep its private ones)",
        )
    })
}

fn hook_result(text: &str) -> std::result::Result<HookOnConflict, Refusal> {
    HookOnConflict::from_str(text, true).map_err(|_| {
        Refusal::new(
            "not a hook result",
            "continue (the instance goes into service without its name) or abandon (it is terminated)",
        )
    })
}

/// An on/off setting: `true` or `false` (any case; also `yes`/`no`, `1`/`0`).
fn switch(text: &str) -> std::result::Result<bool, Refusal> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" => Ok(true),
        "false" | "no" | "0" => Ok(false),
        _ => Err(Refusal::new("not true or false", "true or false")),
    }
}

fn member_accounts(text: &str) -> std::result::Result<MemberAccounts, Refusal> {
    let wanted = "12-digit account ids, comma-separated, or organization";
    if text.trim().eq_ignore_ascii_case("organization") {
        return Ok(MemberAccounts::Organization);
    }
    let ids: Vec<String> = text
        .split([',', ' '])
        .filter(|item| !item.is_empty())
        .map(str::to_string)
        .collect();
    if let Some(bad) = ids.iter().find(|id| !crate::ids::Place::is_account_id(id)) {
        return Err(Refusal::new(
            format!("'{}' is not an account id", names::clip(bad)),
            wanted,
        ));
    }
    if ids.is_empty() {
        return Err(Refusal::new("no account", wanted));
    }
    Ok(MemberAccounts::Listed(ids))
}

fn role_name(text: &str) -> std::result::Result<String, Refusal> {
    let ok = (1..=64).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b));
    if ok {
        Ok(text.to_string())
    } else {
        Err(Refusal::new(
            "not an IAM role name",
            "1 to 64 letters, digits and +=,.@_- (the name, not the ARN)",
        ))
    }
}

fn external_id(text: &str) -> std::result::Result<String, Refusal> {
    let ok = (2..=1224).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@:/_-".contains(&b));
    if ok {
        Ok(text.to_string())
    } else {
        Err(Refusal::new(
            "not an external id",
            "2 to 1224 letters, digits and +=,.@:/_-",
        ))
    }
}

fn region_list(text: &str) -> std::result::Result<RegionList, Refusal> {
    let regions: Vec<String> = text
        .split([',', ' '])
        .filter(|item| !item.is_empty())
        .map(str::to_string)
        .collect();
    if let Some(bad) = regions.iter().find(|r| !crate::ids::Place::is_region(r)) {
        return Err(Refusal::new(
            format!("'{}' is not a region", names::clip(bad)),
            "region names, comma-separated, e.g. us-east-1,eu-west-1",
        ));
    }
    Ok(RegionList(regions))
}

fn zone_list(text: &str) -> std::result::Result<ZoneList, Refusal> {
    text.split([',', ' '])
        .filter(|item| !item.is_empty())
        .map(zone_ref)
        .collect::<Option<Vec<ZoneRef>>>()
        .map(ZoneList)
        .ok_or_else(|| {
            let bad = text
                .split([',', ' '])
                .find(|item| !item.is_empty() && zone_ref(item).is_none())
                .unwrap_or_default();
            Refusal::new(
                format!(
                    "not a list of zones: '{}' is no zone id or name",
                    names::clip(bad)
                ),
                "ids or names, comma-separated, e.g. corp.example,Z0123456789ABC",
            )
        })
}

/// A zone id (`Z123…`, optionally `/hostedzone/Z123…`) stays an id; anything
/// with a dot is a zone name and is normalized.
fn zone_ref(item: &str) -> Option<ZoneRef> {
    let id = ZoneId::new(item);
    if !id.contains('.') && id.starts_with('Z') && id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Some(ZoneRef::Id(id));
    }
    let name = DnsName::new(item);
    (name.ends_with(".in-addr.arpa.") || names::check_hostname(&name).is_ok())
        .then_some(ZoneRef::Name(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeSet, HashMap};

    fn config(vars: &[(&str, &str)]) -> Result<Config> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    /// The variables [`ConfigArgs`] reads, in its order.
    fn variables() -> Vec<String> {
        ConfigArgs::augment_args(Command::new("config"))
            .get_arguments()
            .filter_map(|arg| arg.get_env())
            .map(|v| v.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn defaults_match_the_spec() {
        let c = config(&[]).unwrap();
        assert_eq!(c, Config::default());
        assert_eq!((c.table.as_str(), c.ttl), ("DDNS", 60));
        assert_eq!(
            (
                c.zone_tag.as_str(),
                c.cname_tag.as_str(),
                c.hostname_tag.as_str(),
                c.group_tag.as_str()
            ),
            ("ZONE", "CNAME", "HOSTNAME", "GROUP")
        );
        assert!(c.allowed_zones.is_empty(), "every zone");
        assert_eq!(c.default_zone, None);
        assert_eq!((c.on_stop, c.cache_seconds), (OnStop::Deregister, 60));
        assert!(
            c.public_ipv6,
            "IPv6 addresses are global: public by default"
        );
        assert!(
            !c.wait_insync,
            "a launch hook completes once Route 53 took the changes"
        );
        assert!(c.tasks, "tasks are covered unless switched off");
        assert!(!config(&[("DDNS_TASKS", "false")]).unwrap().tasks);
    }

    #[test]
    fn the_wait_insync_switch_reads_true_and_false() {
        for (value, want) in [
            ("true", true),
            ("TRUE", true),
            (" yes ", true),
            ("1", true),
            ("false", false),
            ("No", false),
            ("0", false),
            ("", false),
        ] {
            let c = config(&[("DDNS_WAIT_INSYNC", value)]).unwrap();
            assert_eq!(c.wait_insync, want, "{value:?}");
        }
    }

    #[test]
    fn the_public_ipv6_switch_reads_true_and_false() {
        for (value, want) in [
            ("false", false),
            ("FALSE", false),
            (" no ", false),
            ("0", false),
            ("true", true),
            ("Yes", true),
            ("1", true),
            ("", true),
        ] {
            let c = config(&[("DDNS_PUBLIC_IPV6", value)]).unwrap();
            assert_eq!(c.public_ipv6, want, "{value:?}");
        }
    }

    #[test]
    fn values_are_read_and_normalized() {
        let c = config(&[
            ("DDNS_TABLE", "dns-owners"),
            ("DDNS_TTL", " 300 "),
            ("DDNS_ZONE_TAG", "dns:zone"),
            (
                "DDNS_ALLOWED_ZONES",
                "Corp.Example, /hostedzone/Z0ABC,10.in-addr.arpa",
            ),
            ("DDNS_DEFAULT_ZONE", "Corp.Example"),
            ("DDNS_CNAME_TAG", ""),
            ("DDNS_HOSTNAME_TAG", "  "),
        ])
        .unwrap();
        assert_eq!(c.table, "dns-owners");
        assert_eq!(c.ttl, 300, "spaces around a value are trimmed");
        assert_eq!(c.zone_tag, "dns:zone");
        assert_eq!(c.cname_tag, "CNAME", "empty means unset");
        assert_eq!(c.hostname_tag, "HOSTNAME", "blank means unset");
        assert_eq!(
            c.allowed_zones,
            vec![
                ZoneRef::Name("corp.example.".into()),
                ZoneRef::Id("Z0ABC".into()),
                ZoneRef::Name("10.in-addr.arpa.".into())
            ]
        );
        assert_eq!(c.default_zone.as_deref(), Some("corp.example."));
        assert!(c.allows_zone(&"Z0ABC".into(), &"other.example.".into()));
        assert!(c.allows_zone(&"z0abc".into(), &"other.example.".into()));
        assert!(c.allows_zone(&"Z9".into(), &"CORP.example".into()));
        assert!(!c.allows_zone(&"Z9".into(), &"other.example.".into()));
        assert_eq!(c.on_stop, OnStop::Deregister, "the default");
        let keep = config(&[("DDNS_ON_STOP", "Keep")]).unwrap();
        assert_eq!(keep.on_stop, OnStop::Keep);
        assert_eq!(c.cache_seconds, 60, "the default");
        assert_eq!(
            config(&[("DDNS_CACHE_SECONDS", "0")])
                .unwrap()
                .cache_seconds,
            0
        );
        let edges = config(&[("DDNS_TTL", "2147483647"), ("DDNS_CACHE_SECONDS", "3600")]).unwrap();
        assert_eq!((edges.ttl, edges.cache_seconds), (2_147_483_647, 3600));
    }

    #[test]
    fn only_the_configured_tag_keys_are_watched() {
        let c = config(&[("DDNS_CNAME_TAG", "dns:aliases")]).unwrap();
        let keys = |k: &[&str]| k.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(c.watches_any(&keys(&["Owner", "dns:aliases"])));
        assert!(c.watches_any(&keys(&["ZONE"])));
        assert!(
            !c.watches_any(&keys(&["CNAME", "Owner"])),
            "CNAME is not the key now"
        );
        assert!(!c.watches_any(&[]));
    }

    /// A bad value is a start-up error that names the variable, says what
    /// was wanted, and stays under 200 characters.
    #[test]
    fn bad_values_name_the_variable() {
        let long_key = "k".repeat(129);
        for (var, value, says) in [
            ("DDNS_TTL", "sixty", "'sixty' is not a whole number; expected whole seconds from 0 to 2147483647"),
            ("DDNS_TTL", "-1", "'-1' is out of range; expected whole seconds from 0 to 2147483647"),
            ("DDNS_TTL", "2147483648", "'2147483648' is out of range"),
            ("DDNS_TTL", "99999999999999999999999", "is out of range"),
            ("DDNS_TTL", "1.5", "is not a whole number"),
            ("DDNS_ZONE_TAG", &long_key, "is longer than 128 characters; expected an EC2 tag key"),
            ("DDNS_ALLOWED_ZONES", "corp.example,bad_zone!", "'bad_zone!' is no zone id or name"),
            ("DDNS_DEFAULT_ZONE", "*.corp.example", "is not a domain name: wildcard names are never written"),
            ("DDNS_DEFAULT_ZONE", "10.in-addr.arpa", "is not a domain name: the name is inside in-addr.arpa."),
            ("DDNS_ON_STOP", "hibernate", "'hibernate' is not a stop policy; expected deregister"),
            ("DDNS_CACHE_SECONDS", "a minute", "'a minute' is not a whole number; expected whole seconds from 0 (no cache) to 3600"),
            ("DDNS_CACHE_SECONDS", "3601", "'3601' is out of range"),
            ("DDNS_CACHE_SECONDS", "-60", "'-60' is out of range"),
            ("DDNS_PUBLIC_IPV6", "private", "'private' is not true or false; expected true or false"),
            ("DDNS_WAIT_INSYNC", "60", "'60' is not true or false; expected true or false"),
        ] {
            let err = config(&[(var, value)]).unwrap_err();
            assert!(matches!(&err, Error::Config { variable, .. } if variable == var), "{err:?}");
            let message = err.to_string();
            assert!(message.starts_with(&format!("configuration: {var}: ")), "{message}");
            assert!(message.contains(says), "{var}={value}: {message}");
            assert!(message.chars().count() < 200, "{} characters: {message}", message.chars().count());
        }
    }

    /// `DDNS_*` variables the stack gives the function that are not the
    /// registrar's settings: the metrics' namespace, read by the function
    /// alone (`crates/lambda/src/metrics.rs`; the command line writes no
    /// metrics).
    const NOT_SETTINGS: [&str; 1] = ["DDNS_METRICS_NAMESPACE"];

    /// What the Lambda function and the CLI are given: every `DDNS_*`
    /// variable of the stack's function is a setting (or one of
    /// [`NOT_SETTINGS`]), and every setting is given by the stack.
    #[test]
    fn the_settings_are_the_variables_the_stack_sets() {
        let template = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../infra/template.yaml"
        ))
        .unwrap();
        let set: BTreeSet<String> = template
            .lines()
            .filter_map(|l| l.trim().split_once(':'))
            .map(|(key, _)| key.to_string())
            .filter(|key| {
                key.starts_with("DDNS_")
                    && key
                        .bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
                    && !NOT_SETTINGS.contains(&key.as_str())
            })
            .collect();
        let settings: BTreeSet<String> = variables().into_iter().collect();
        assert_eq!(set, settings);
    }

    /// Each setting: a flag, a `DDNS_*` variable, a line of help, and a
    /// default or a help that says what unset means; a number takes a
    /// negative value so as to answer it with its range.
    #[test]
    fn every_setting_is_complete() {
        let command = ConfigArgs::augment_args(Command::new("config"));
        let numbers = [
            clap::builder::ValueParser::from(clap::value_parser!(u32)).type_id(),
            clap::builder::ValueParser::from(clap::value_parser!(u64)).type_id(),
        ];
        for arg in command.get_arguments() {
            let id = arg.get_id();
            assert!(arg.get_long().is_some(), "{id}: no flag");
            let variable = arg
                .get_env()
                .map(|v| v.to_string_lossy().into_owned())
                .unwrap_or_default();
            assert!(variable.starts_with("DDNS_"), "{id}: variable {variable:?}");
            let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
            assert!(!help.is_empty(), "{id}: no help");
            assert!(
                !arg.get_default_values().is_empty() || help.contains("unset: "),
                "{id}: neither a default nor what unset means"
            );
            if numbers.contains(&arg.get_value_parser().type_id()) {
                assert!(
                    arg.is_allow_negative_numbers_set(),
                    "{id}: -1 would be taken for a flag"
                );
            }
        }
        assert_eq!(variables().len(), 19);
    }

    /// docs/configuration.md shows the table [`reference_table`] writes.
    #[test]
    fn docs_configuration_table_matches_the_definition() {
        let page = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/configuration.md"
        ))
        .unwrap();
        let table = reference_table();
        assert!(
            page.contains(&table),
            "docs/configuration.md lacks the settings' table as the definition writes it; paste this:\n{table}"
        );
    }
}
