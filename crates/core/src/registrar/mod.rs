//! The one engine: where sources, facts, plan, apply and registry meet.
//! Every source (one event, an SQS batch, the reconcile's listing, a DDNS
//! request) gathers subjects (`subject.rs`) and hands them to the same
//! engine (`together.rs`): read (`read.rs`), plan, write items
//! (`items.rs`), send merged per zone, converge a refused subject alone
//! (`alone.rs`), finish.
//!
//! | file          | job                                                    |
//! |---------------|--------------------------------------------------------|
//! | `events.rs`   | source: one event or an SQS batch                      |
//! | `reconcile.rs`| source: every instance and every item                  |
//! | `tasks.rs`    | source: ECS task events, alone or in a batch           |
//! | `tasks_reconcile.rs` | the reconcile's ECS tasks                       |
//! | `host.rs`     | source: a DDNS host's update or removal                |
//! | `organization.rs` | places: member accounts and regions (their registrars, their reconciles) |
//! | `subject.rs`  | a subject and what it wants (instance, host, nothing)  |
//! | `read.rs`     | zones, VPC facts and records, read at once             |
//! | `together.rs` | the engine                                             |
//! | `alone.rs`    | one subject in rounds, after a refusal                 |
//! | `items.rs`    | the one registry item writer                           |
//! | `book.rs`     | an item's records as one invocation knows them         |
//! | `retry.rs`    | when to try a change again, under the deadline         |
//!
//! The states a record of an instance goes through, as the registry item
//! lists it:
//!
//! | state     | how it gets there                                                   | what may be done to it                      |
//! |-----------|---------------------------------------------------------------------|---------------------------------------------|
//! | wanted    | the plan wants it; nothing listed yet                               | nothing: it is not written yet              |
//! | pending   | listed *before* the batch that creates it is sent                   | nothing until the batch is settled          |
//! | owned     | the batch answered OK (a read after a lost answer proves no record ours) | kept while equal; replaced (DELETE exactly it + CREATE) or deleted |
//! | releasing | an owned record moved to pending *before* the batch that deletes it | nothing until the batch is settled          |
//! | unlisted  | deleted (proven), or read changed or gone (someone else's now)      | —                                           |
//! | unsettled | pending or releasing, and the invocation ended without knowing      | read by the next event: gone or different → unlisted; still equal → stays listed, never deleted, a conflict if wanted |
//!
//! A batch whose outcome is settled puts its records back where they
//! belong: applied → creates owned, deletes unlisted; certainly not applied
//! → creates unlisted, deletes owned again. So the stored item always lists
//! every record this instance may have written (owned, or pending), and it
//! claims as owned only records whose write is proven and that no batch of
//! ours may have deleted. A crash between any two calls keeps both. One
//! exception, on purpose: a record two items own (someone deleted it and
//! an identical one was written again) is let go by both in the reconcile,
//! because no read can tell whose it is (`reconcile.rs`).
//!
//! Every event is a hint: the instance is described and its live state
//! decides (`plan::intent`); `reconcile.rs` does the same for every
//! instance at once. An event's time decides nothing: it is only recorded.

use crate::calls::CallLog;
use crate::config::Config;
mod alone;
mod book;
mod events;
mod host;
mod items;
mod organization;
mod read;
mod reconcile;
mod retry;
mod subject;
mod tasks;
mod tasks_reconcile;
mod together;

pub use retry::within;

pub use organization::Whereabouts;
pub use reconcile::{Reconciled, Totals};

use crate::event::InstanceEvent;
use crate::model::{InstanceFacts, InstanceState};
use crate::summary::Summary;
use book::Book;
use std::time::Duration;

/// Plans made per event at most: the first, and one after each refusal or
/// retried failure. Each refusal teaches the plan something (the names are
/// read), so a few rounds converge unless the zone keeps changing.
const ROUNDS: u32 = 4;

/// Describes of an instance per event when EC2 does not know it yet, or
/// knows it running without a private address (eventual consistency).
pub(crate) const DESCRIBE_ATTEMPTS: u32 = 3;

/// The registrar, generic over its three ports so the in-memory account
/// and the real AWS clients are interchangeable.
pub struct Registrar<E, D, R> {
    pub ec2: E,
    pub dns: D,
    pub registry: R,
    pub config: Config,
    /// Region of the VPCs, for private-zone associations.
    pub region: String,
    /// Where the instances `ec2` reads live, when that is not the
    /// deployment's own account and region (the organization mode,
    /// `organization.rs`): their items are keyed by it.
    pub place: Option<crate::model::Place>,
    /// The deployment's own account, when known (the organization mode):
    /// the reconcile then takes as its own only the items of tasks of
    /// this account and region, and leaves the other places' to them.
    pub home_account: Option<String>,
    /// Read everything, plan, write nothing.
    pub dry_run: bool,
    /// First wait after a throttled change; doubled each time.
    pub backoff: Duration,
    /// The clients' call counter, when they count: a reconcile reports it.
    pub calls: Option<CallLog>,
    /// The wall clock: when a record is written ahead, and whether one
    /// listed pending may still be on its way ([`crate::model::IN_FLIGHT`]).
    pub clock: Clock,
}

/// A wall clock; tests move one by hand.
pub type Clock = std::sync::Arc<dyn Fn() -> chrono::DateTime<chrono::Utc> + Send + Sync>;

impl<E, D, R> Registrar<E, D, R> {
    /// The only way to build one: every adapter (AWS clients, the in-memory
    /// account, a test's fault-injecting wrapper) comes through here.
    pub fn new(ec2: E, dns: D, registry: R, config: Config, region: impl Into<String>) -> Self {
        Registrar {
            ec2,
            dns,
            registry,
            config,
            region: region.into(),
            place: None,
            home_account: None,
            dry_run: false,
            backoff: Duration::from_millis(200),
            calls: None,
            clock: std::sync::Arc::new(chrono::Utc::now),
        }
    }

    /// The same registrar, reading the time from `clock`.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// An instance's registry key: its id, and this registrar's place
    /// when it is not the deployment's own.
    pub(crate) fn instance_key(&self, instance_id: &str) -> crate::model::RegistryKey {
        crate::model::RegistryKey::instance_at(self.place.as_ref(), instance_id)
    }

    /// The same registrar, reporting the calls `calls` counts.
    pub fn with_calls(mut self, calls: CallLog) -> Self {
        self.calls = Some(calls);
        self
    }

    /// The same registrar, reading and planning but writing nothing.
    pub fn with_dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    /// The same registrar, waiting `backoff` (then twice as long, …) after a
    /// throttled change before it tries again.
    pub fn with_backoff(mut self, backoff: Duration) -> Self {
        self.backoff = backoff;
        self
    }
}

/// Why a description does not show the instance ready to register yet,
/// when it does not: EC2 is eventually consistent right after a launch.
fn not_ready(event: &InstanceEvent, live: Option<&InstanceFacts>) -> Option<&'static str> {
    match live {
        // An IPv6-only instance (no private IPv4) is ready: its IPv6
        // address is what it is registered by.
        Some(i)
            if i.state == InstanceState::Running && i.private_ip.is_none() && i.ipv6.is_none() =>
        {
            Some("is running but has no private IPv4 or IPv6 address yet")
        }
        // A `running` event (or a launch lifecycle action) before EC2's
        // own view has caught up.
        Some(i) if i.state == InstanceState::Pending && event.expects_running() => {
            Some("was reported running but is still pending in EC2's view")
        }
        None if event.expects_running() => Some("was reported running but is not known to EC2 yet"),
        _ => None,
    }
}

/// After a deregistration: the records left listed as pending, named, so a
/// person can delete them if they are stale. One read absent is only
/// waited out (`model::IN_FLIGHT`): there is nothing to delete.
fn note_left_pending(book: &Book, seen: &crate::plan::Observed, summary: &mut Summary) {
    for p in &book.pending {
        let until = book
            .meta
            .pending_since
            .map(|since| crate::model::format_time(&(since + crate::model::IN_FLIGHT)));
        summary.notes.push(match (seen.holds(p), until) {
            (Some(false), Some(until)) => format!(
                "{} {} in {} is not there, but stays listed as pending until {until}: another invocation may still be sending it",
                p.record.name, p.record.rtype, p.zone_name
            ),
            _ => format!(
                "{} {} in {} is left alone and stays listed as pending: an earlier invocation sent it but never learned whether Route 53 applied it, so it cannot be proven this instance's (delete it by hand if it is)",
                p.record.name, p.record.rtype, p.zone_name
            ),
        });
    }
}
