//! The endpoint: one function URL request in, one response out. Reads the
//! ask (`request`), loads each host named, decides (`decide`), checks a
//! signed ask's nonce once, sets the record through the registrar (the same
//! ownership rules, write-ahead and settling as an instance's records) and
//! answers in the ask's protocol (`answer`). Never fails: AWS trouble is
//! `911` / 503 ("try again later"), bad input a 4xx with a reason. What
//! each answer came to ([`Answer`]) and the records it changed go back to
//! the caller with the response ([`Served`]): the function counts them
//! (its metrics) and logs the changes, as it does an event's.

use super::answer::{dyndns2_answer, json_answer, json_answer_with, json_get, refusal};
use super::decide::{self, Decision, HostState, Proof, NOT_THIS_LOGIN};
use super::host::host_key;
use super::request::{self, Ask, HttpRequest};
use crate::model::{HostSettings, HostUpdate, RecordType, RegistryItem};
use crate::names;
use crate::ports::{Dns, Guards, Registry};
use crate::registrar::Registrar;
use crate::summary::{self, Summary};
use aws_lambda_events::event::lambda_function_urls::LambdaFunctionUrlResponse;
use chrono::{DateTime, Utc};
use std::net::IpAddr;
use tracing::{info, warn};

/// How one ask about one host ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The record now holds this address (it changed).
    Set(IpAddr),
    /// It already did: no Route 53 call.
    Unchanged(IpAddr),
    /// The name is not a host name.
    NotAName,
    /// No such host (or its item is damaged: logged).
    UnknownHost,
    /// dyndns2: the login is not this host's.
    NotThisLogin,
    /// The proof does not hold (why, never the secret).
    BadAuth(&'static str),
    /// A signed ask whose nonce was used before.
    Replay,
    /// Blocked for too many failures or changes in the window.
    Abuse,
    /// The name holds a record the host does not own: never overwritten.
    Refused(String),
    /// Route 53 refused the change for another reason.
    DnsError(String),
    /// Another update of this host was written meanwhile: try again.
    Busy,
    /// Our side failed (AWS unavailable, throttled, …): try again later.
    Failed(String),
}

impl Outcome {
    /// The word dyndns2 clients parse (and the `Outcome` dimension of the
    /// function's `DdnsRequests` metric).
    pub fn word(&self) -> &'static str {
        match self {
            Outcome::Set(_) => "good",
            Outcome::Unchanged(_) => "nochg",
            Outcome::NotAName => "notfqdn",
            Outcome::UnknownHost | Outcome::NotThisLogin | Outcome::Refused(_) => "nohost",
            Outcome::BadAuth(_) | Outcome::Replay => "badauth",
            Outcome::Abuse => "abuse",
            Outcome::DnsError(_) => "dnserr",
            Outcome::Busy | Outcome::Failed(_) => "911",
        }
    }

    /// The dyndns2 line.
    fn line(&self) -> String {
        match self {
            Outcome::Set(ip) | Outcome::Unchanged(ip) => format!("{} {ip}", self.word()),
            _ => self.word().to_string(),
        }
    }

    /// In words, for the host owners' page.
    pub fn words(&self, host: &str) -> String {
        self.json(host, "-").2
    }

    /// The JSON protocols' answer: status, success, message. What failed
    /// on our side or at Route 53 is a short stable reason and the request
    /// id; the detail (AWS's codes and text, zone ids) stays in the log.
    fn json(&self, host: &str, request_id: &str) -> (u16, bool, String) {
        match self {
            Outcome::Set(ip) => (201, true, format!("{host} has been updated to {ip}")),
            Outcome::Unchanged(_) => (
                200,
                true,
                "Your IP address matches the current Route53 DNS record.".to_string(),
            ),
            Outcome::NotAName => (400, false, "ddns_hostname is not a host name".to_string()),
            Outcome::UnknownHost | Outcome::NotThisLogin => {
                (403, false, format!("{host} is not a host this endpoint serves"))
            }
            Outcome::BadAuth(why) => (401, false, format!("not authorized: {why}")),
            Outcome::Replay => (
                401,
                false,
                "not authorized: this nonce was used before".to_string(),
            ),
            Outcome::Abuse => (
                429,
                false,
                format!(
                    "too many failed updates from this address, or changes of {host}; try again within {} minutes",
                    decide::WINDOW_SECONDS / 60
                ),
            ),
            Outcome::Refused(what) => (
                403,
                false,
                format!("refused: {what} holds a record this host does not own, which is never overwritten"),
            ),
            Outcome::DnsError(_) => (
                502,
                false,
                format!("Route 53 refused the change (request {request_id})"),
            ),
            Outcome::Busy => (
                409,
                false,
                format!("another update of {host} was made at the same moment; try again"),
            ),
            Outcome::Failed(_) => (
                503,
                false,
                format!("the update could not be made now; try again later (request {request_id})"),
            ),
        }
    }
}

/// What one answer of the endpoint came to, as the function counts it: a
/// request is answered once, except a dyndns2 request naming several
/// hosts, answered once per host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The `get` ask: the caller's address, nothing decided.
    Get,
    /// A `status` ask answered with its change's status (or "no such
    /// change"): nothing decided, nothing written.
    Status,
    /// The host owners' page (`page`): a page shown, a sign-in or out;
    /// its updates are counted as `Host`.
    Page,
    /// A request refused before any host was looked at: not a request of
    /// any protocol, or one missing what its protocol needs (a 4xx).
    Unreadable,
    /// How the ask about one host ended.
    Host(Outcome),
}

impl Answer {
    /// The `Outcome` dimension of `DdnsRequests`: the dyndns2 word
    /// (`good`, `nochg`, `badauth`, …), `get`, or `refused` for a request
    /// refused unread.
    pub fn word(&self) -> &'static str {
        match self {
            Answer::Get => "get",
            Answer::Status => "status",
            Answer::Page => "page",
            Answer::Unreadable => "refused",
            Answer::Host(outcome) => outcome.word(),
        }
    }

    /// Whether the endpoint refused the caller (`DdnsRefusals`): a request
    /// it cannot read, a name that is not one, a host it does not serve or
    /// not under this login, a proof that does not hold or is replayed, a
    /// host blocked for abuse. What the caller may be doing wrong or
    /// trying, not what failed on our side (`911`) or what someone else's
    /// record stopped (a name held by another: `nohost` too, but a
    /// conflict).
    pub fn is_refusal(&self) -> bool {
        match self {
            Answer::Unreadable => true,
            Answer::Get | Answer::Status | Answer::Page => false,
            Answer::Host(outcome) => matches!(
                outcome,
                Outcome::NotAName
                    | Outcome::UnknownHost
                    | Outcome::NotThisLogin
                    | Outcome::BadAuth(_)
                    | Outcome::Replay
                    | Outcome::Abuse
            ),
        }
    }

    /// The answer in an event summary's words, so that one `Events` metric
    /// by `Outcome` speaks for events and requests alike: a record set is
    /// `applied`, a record already right (or a `get`) `nothing-to-do`, a
    /// name another holds or Route 53 refused `conflict` (as the
    /// registrar's summary says), a refusal `rejected`, our failure `error`.
    pub fn outcome(&self) -> summary::Outcome {
        match self {
            Answer::Get | Answer::Status | Answer::Page | Answer::Host(Outcome::Unchanged(_)) => {
                summary::Outcome::NothingToDo
            }
            Answer::Host(Outcome::Set(_)) => summary::Outcome::Applied,
            Answer::Host(Outcome::Refused(_) | Outcome::DnsError(_)) => summary::Outcome::Conflict,
            Answer::Host(Outcome::Busy | Outcome::Failed(_)) => summary::Outcome::Error,
            Answer::Unreadable
            | Answer::Host(
                Outcome::NotAName
                | Outcome::UnknownHost
                | Outcome::NotThisLogin
                | Outcome::BadAuth(_)
                | Outcome::Replay
                | Outcome::Abuse,
            ) => summary::Outcome::Rejected,
        }
    }
}

/// A request served: the response, what each answer came to, and the
/// registrar's summary of each record set (what changed, for the log).
#[derive(Debug, Clone)]
pub struct Served {
    pub response: LambdaFunctionUrlResponse,
    pub answers: Vec<Answer>,
    pub summaries: Vec<Summary>,
}

impl Served {
    /// One answer, and no record changed.
    pub(super) fn answered(response: LambdaFunctionUrlResponse, answer: Answer) -> Served {
        Served {
            response,
            answers: vec![answer],
            summaries: Vec::new(),
        }
    }
}

/// Answers one function URL request. `request_id` names the writes in the
/// registry item (as an event id does); `now` is the server's clock.
pub async fn serve<E, D, R>(
    registrar: &Registrar<E, D, R>,
    request: &HttpRequest,
    request_id: &str,
    now: DateTime<Utc>,
) -> LambdaFunctionUrlResponse
where
    E: Sync,
    D: Dns + Sync,
    R: Registry + Guards + Sync,
{
    serve_counted(registrar, request, request_id, now)
        .await
        .response
}

/// [`serve`], with what the request came to.
pub async fn serve_counted<E, D, R>(
    registrar: &Registrar<E, D, R>,
    request: &HttpRequest,
    request_id: &str,
    now: DateTime<Utc>,
) -> Served
where
    E: Sync,
    D: Dns + Sync,
    R: Registry + Guards + Sync,
{
    let source = request.source_ip;
    if super::page::is_page(request) {
        return super::page::serve(registrar, request, request_id, now).await;
    }
    let ask = match request::parse(request) {
        Ok(ask) => ask,
        Err(refused) => {
            info!(status = refused.status, reason = %refused.reason, "request refused");
            return Served::answered(refusal(&refused), Answer::Unreadable);
        }
    };
    let (host, proof) = match &ask {
        Ask::Get => {
            return Served::answered(json_get(&source.to_string()), Answer::Get);
        }
        Ask::IamSet { .. } | Ask::LegacySet { .. } | Ask::SignedSet { .. } => {
            match proof_of(&ask) {
                Some(found) => found,
                None => unreachable!("a set has a proof"),
            }
        }
        Ask::Status { change_id, proof } => {
            let Some((host, proof)) = proof_of(proof) else {
                unreachable!("a status is parsed with a set's proof")
            };
            let asked = status_of(registrar, host, &proof, source, change_id, now).await;
            report_status(host, source, &asked);
            let (response, answer) = match asked {
                Ok(in_sync) => {
                    let word = if in_sync { "INSYNC" } else { "PENDING" };
                    let response = json_answer_with(
                        200,
                        true,
                        word,
                        &[("change_id", change_id.as_str()), ("change_status", word)],
                    );
                    (response, Answer::Status)
                }
                Err(StatusRefused::NoSuchChange) => (
                    json_answer(
                        404,
                        false,
                        "no such change: ask with the change_id a set answered",
                    ),
                    Answer::Status,
                ),
                Err(StatusRefused::Host(outcome)) => {
                    let (status, success, message) = outcome.json(host, request_id);
                    (
                        json_answer(status, success, &message),
                        Answer::Host(outcome),
                    )
                }
            };
            return Served::answered(response, answer);
        }
        Ask::Dyndns2 {
            hosts,
            myip,
            login,
            password,
        } => {
            // A name given twice is decided once (and counted once), and
            // answered on each of its lines.
            let mut decided: Vec<(String, Outcome)> = Vec::new();
            let mut lines = Vec::new();
            let mut summaries = Vec::new();
            for host in hosts {
                let name = names::normalize(host);
                if let Some((_, outcome)) = decided.iter().find(|(n, _)| *n == name) {
                    lines.push(outcome.line());
                    continue;
                }
                let proof = Proof::Basic {
                    login,
                    password,
                    myip: *myip,
                };
                let One {
                    outcome, summary, ..
                } = one(registrar, host, &proof, source, request_id, now).await;
                report(host, source, &outcome);
                lines.push(outcome.line());
                summaries.extend(summary);
                decided.push((name.to_string(), outcome));
            }
            return Served {
                response: dyndns2_answer(200, &lines),
                answers: decided.into_iter().map(|(_, o)| Answer::Host(o)).collect(),
                summaries,
            };
        }
    };
    let One {
        outcome,
        summary,
        change_id,
    } = one(registrar, host, &proof, source, request_id, now).await;
    report(host, source, &outcome);
    let (status, success, message) = outcome.json(host, request_id);
    let extra: Vec<(&str, &str)> = change_id
        .as_deref()
        .map(|id| ("change_id", id))
        .into_iter()
        .collect();
    Served {
        response: json_answer_with(status, success, &message, &extra),
        answers: vec![Answer::Host(outcome)],
        summaries: summary.into_iter().collect(),
    }
}

/// The host and proof of a set (or of the set a status is asked with).
fn proof_of(ask: &Ask) -> Option<(&String, Proof<'_>)> {
    match ask {
        Ask::IamSet { host, ip, caller } => Some((
            host,
            Proof::Iam {
                principal: &caller.user_arn,
                account: &caller.account_id,
                ip: *ip,
            },
        )),
        Ask::LegacySet { host, hash } => Some((
            host,
            Proof::Legacy {
                host_as_sent: host,
                hash,
            },
        )),
        Ask::SignedSet {
            host,
            ip,
            timestamp,
            nonce,
            signature,
        } => Some((
            host,
            Proof::Signed {
                host_as_sent: host,
                ip: *ip,
                timestamp: *timestamp,
                nonce,
                signature,
            },
        )),
        _ => None,
    }
}

/// Why a status ask is not answered with the change's status.
enum StatusRefused {
    /// Route 53 knows no such change.
    NoSuchChange,
    /// The host's answer, as a set would get it (unknown host, bad proof,
    /// abuse, our side failed).
    Host(Outcome),
}

/// A status ask: the proof is checked as a set's (a failure counted, a
/// signed ask's nonce used once, an address blocked for failures answered
/// `abuse`), then GetChange answers for the change. Nothing is written to
/// the host's item, and no change counted.
async fn status_of<E, D, R>(
    registrar: &Registrar<E, D, R>,
    host: &str,
    proof: &Proof<'_>,
    source: IpAddr,
    change_id: &str,
    now: DateTime<Utc>,
) -> Result<bool, StatusRefused>
where
    E: Sync,
    D: Dns + Sync,
    R: Registry + Guards + Sync,
{
    let refused = |outcome| Err(StatusRefused::Host(outcome));
    let name = names::normalize(host);
    if names::check_wanted_name(&name).is_err() {
        return refused(Outcome::NotAName);
    }
    let unix = now.timestamp();
    let key = host_key(&name);
    let (item, failures) = tokio::join!(
        registrar.registry.load(&key),
        registrar
            .registry
            .failures(&name, source, unix, decide::WINDOW_SECONDS)
    );
    let item = match item {
        Ok(Some(item)) => item,
        Ok(None) => return refused(Outcome::UnknownHost),
        Err(e) => return refused(Outcome::Failed(e.to_string())),
    };
    let Some(settings) = item.host.clone() else {
        return refused(Outcome::UnknownHost);
    };
    if decide::source_blocked(failures.unwrap_or_default()) {
        return refused(Outcome::Abuse);
    }
    let state = host_state(&name, &item, &settings);
    if let Err(why) = decide::verify(&state, proof, source, unix) {
        count_failure(registrar, &name, source, unix).await;
        return refused(Outcome::BadAuth(why));
    }
    if let Err(outcome) = nonce_used_once(registrar, &name, proof, source, unix).await {
        return refused(outcome);
    }
    match registrar.dns.change_in_sync(change_id).await {
        Ok(Some(in_sync)) => Ok(in_sync),
        Ok(None) => Err(StatusRefused::NoSuchChange),
        Err(e) => refused(Outcome::Failed(e.to_string())),
    }
}

/// What one ask about one host came to: how it ended, the registrar's
/// summary when it set the record, and the change id of its batch.
pub(super) struct One {
    pub outcome: Outcome,
    pub summary: Option<Summary>,
    pub change_id: Option<String>,
}

impl From<Outcome> for One {
    fn from(outcome: Outcome) -> One {
        One {
            outcome,
            summary: None,
            change_id: None,
        }
    }
}

/// Logs how a status ask ended.
fn report_status(host: &str, source: IpAddr, asked: &Result<bool, StatusRefused>) {
    match asked {
        Ok(in_sync) => {
            info!(host = %names::clip(host), source = %source, in_sync, "status answered")
        }
        Err(StatusRefused::NoSuchChange) => {
            info!(host = %names::clip(host), source = %source, "status: no such change")
        }
        Err(StatusRefused::Host(outcome)) => report(host, source, outcome),
    }
}

/// Logs how one ask ended.
fn report(host: &str, source: IpAddr, outcome: &Outcome) {
    let name = names::clip(host);
    match outcome {
        Outcome::Failed(why) => {
            warn!(host = %name, error = %why, "update failed; the client is told to try again later")
        }
        Outcome::DnsError(why) => {
            warn!(host = %name, error = %why, "update refused by Route 53; the client is told so, without the detail")
        }
        Outcome::BadAuth(why) => {
            warn!(host = %name, source = %source, reason = why, "update refused: bad proof")
        }
        other => info!(host = %name, source = %source, outcome = other.word(), "update answered"),
    }
}

/// One ask about one host, and the registrar's summary when it set the
/// record (what changed).
pub(super) async fn one<E, D, R>(
    registrar: &Registrar<E, D, R>,
    host: &str,
    proof: &Proof<'_>,
    source: IpAddr,
    request_id: &str,
    now: DateTime<Utc>,
) -> One
where
    E: Sync,
    D: Dns + Sync,
    R: Registry + Guards + Sync,
{
    let name = names::normalize(host);
    if names::check_wanted_name(&name).is_err() {
        return Outcome::NotAName.into();
    }
    let key = host_key(&name);
    let unix = now.timestamp();
    // The failures counted from this address are read with the host: one
    // round trip. One that cannot be read blocks nothing: the proof is
    // checked, and a failure still counted.
    let (item, failures) = tokio::join!(
        registrar.registry.load(&key),
        registrar
            .registry
            .failures(&name, source, unix, decide::WINDOW_SECONDS)
    );
    let failures = failures.unwrap_or_else(|e| {
        warn!(host = %name, error = %e, "could not read the failure counts");
        decide::Failures::default()
    });
    let item = match item {
        Ok(Some(item)) => item,
        Ok(None) => return Outcome::UnknownHost.into(),
        Err(e) => return Outcome::Failed(e.to_string()).into(),
    };
    let Some(settings) = item.host.clone() else {
        let why = item
            .replaces
            .as_ref()
            .map(|f| f.note())
            .unwrap_or_else(|| "it has no host settings".into());
        warn!(host = %name, "the host's registry item cannot be read: {why}");
        return Outcome::UnknownHost.into();
    };
    let state = host_state(&name, &item, &settings);
    let decide::Decided { decision, counters } =
        decide::decide(&state, proof, source, failures, unix);
    let ip = match decision {
        Decision::Abuse => return Outcome::Abuse.into(),
        Decision::BadAuth(why) => {
            count_failure(registrar, &name, source, unix).await;
            let outcome = if why == NOT_THIS_LOGIN {
                Outcome::NotThisLogin
            } else {
                Outcome::BadAuth(why)
            };
            return outcome.into();
        }
        Decision::Set(ip) | Decision::Unchanged(ip) => ip,
    };
    if let Err(outcome) = nonce_used_once(registrar, &name, proof, source, unix).await {
        return outcome.into();
    }
    if let Decision::Unchanged(ip) = decision {
        return Outcome::Unchanged(ip).into();
    }
    let settings = HostSettings {
        counters,
        ..settings
    }
    .remembering(HostUpdate {
        at: now,
        ip,
        source,
    });
    let started = tokio::time::Instant::now();
    match registrar
        .set_host_address(item, settings, ip, request_id, now)
        .await
    {
        Ok(summary) => {
            let outcome = match summary.conflicts.first() {
                None => Outcome::Set(ip),
                Some(c) if c.reason.starts_with("Route 53 refused") => {
                    Outcome::DnsError(c.reason.clone())
                }
                Some(c) => {
                    info!(host = %name, conflict = %c.reason, "update refused: the name is held");
                    Outcome::Refused(format!("{} {}", c.name, c.rtype))
                }
            };
            One {
                outcome,
                summary: Some(summary),
                change_id: registrar.dns.applied_since(started).into_iter().last(),
            }
        }
        Err(crate::Error::RegistryRace { .. }) => Outcome::Busy.into(),
        Err(e) => Outcome::Failed(e.to_string()).into(),
    }
}

/// The state `decide` reads. The address last set, per family, is the
/// host's own settled record: with anything pending (an earlier update
/// whose outcome is unknown) nothing counts as unchanged, so the next
/// update settles it.
pub fn host_state(name: &str, item: &RegistryItem, settings: &HostSettings) -> HostState {
    let last = |rtype: RecordType| -> Option<IpAddr> {
        if !item.pending.is_empty() {
            return None;
        }
        item.records
            .iter()
            .find(|o| {
                o.zone_id == settings.zone_id && o.record.name == name && o.record.rtype == rtype
            })
            .and_then(|o| match o.record.values() {
                [one] => one.parse().ok(),
                _ => None,
            })
    };
    HostState {
        name: name.to_string(),
        secret: settings.secret.clone(),
        login: settings.login.clone(),
        last_ipv4: last(RecordType::A),
        last_ipv6: last(RecordType::Aaaa),
        counters: settings.counters,
        iam_principals: settings.iam_principals.clone(),
    }
}

/// A signed proof's nonce, used once: `Err(Replay)` when it was used
/// before (a failed proof, counted: the change it asked for is not made,
/// and the item is not written), `Err(Failed)` when the table could not
/// say. Other proofs have none.
async fn nonce_used_once<E, D, R: Guards>(
    registrar: &Registrar<E, D, R>,
    name: &str,
    proof: &Proof<'_>,
    source: IpAddr,
    unix: i64,
) -> Result<(), Outcome> {
    let Proof::Signed { nonce, .. } = proof else {
        return Ok(());
    };
    let expires = unix + 2 * super::auth::MAX_SKEW_SECONDS + 60;
    match registrar
        .registry
        .first_use(name, nonce, unix, expires)
        .await
    {
        Ok(true) => Ok(()),
        Ok(false) => {
            count_failure(registrar, name, source, unix).await;
            Err(Outcome::Replay)
        }
        Err(e) => Err(Outcome::Failed(e.to_string())),
    }
}

/// Counts a failed proof from `source` about `host`, apart from the
/// host's item (`Guards::count_failure`): against that address, never
/// the host, so a stranger's failures lock out only the stranger, and a
/// bad proof never makes an update in flight lose its race. An AWS error
/// loses one count at worst: logged, never the answer's concern.
pub(super) async fn count_failure<E, D, R: Guards>(
    registrar: &Registrar<E, D, R>,
    host: &str,
    source: IpAddr,
    now: i64,
) {
    let saved = registrar
        .registry
        .count_failure(host, source, now, decide::WINDOW_SECONDS)
        .await;
    if let Err(e) = saved {
        warn!(host = %names::clip(host), source = %source, error = %e, "could not count the failure");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use summary::Outcome as O;

    /// Every way an answer can end: its `DdnsRequests` word, whether it
    /// counts as a refusal, and its `Events` outcome.
    #[test]
    fn each_answer_has_one_word_one_refusal_flag_and_one_event_outcome() {
        let ip: IpAddr = "203.0.113.7".parse().unwrap();
        let table = [
            (Answer::Get, "get", false, O::NothingToDo),
            (Answer::Unreadable, "refused", true, O::Rejected),
            (Answer::Host(Outcome::Set(ip)), "good", false, O::Applied),
            (
                Answer::Host(Outcome::Unchanged(ip)),
                "nochg",
                false,
                O::NothingToDo,
            ),
            (
                Answer::Host(Outcome::NotAName),
                "notfqdn",
                true,
                O::Rejected,
            ),
            (
                Answer::Host(Outcome::UnknownHost),
                "nohost",
                true,
                O::Rejected,
            ),
            (
                Answer::Host(Outcome::NotThisLogin),
                "nohost",
                true,
                O::Rejected,
            ),
            (
                Answer::Host(Outcome::BadAuth("bad hash")),
                "badauth",
                true,
                O::Rejected,
            ),
            (Answer::Host(Outcome::Replay), "badauth", true, O::Rejected),
            (Answer::Host(Outcome::Abuse), "abuse", true, O::Rejected),
            (
                Answer::Host(Outcome::Refused("held by another".into())),
                "nohost",
                false,
                O::Conflict,
            ),
            (
                Answer::Host(Outcome::DnsError("Route 53 refused".into())),
                "dnserr",
                false,
                O::Conflict,
            ),
            (Answer::Host(Outcome::Busy), "911", false, O::Error),
            (
                Answer::Host(Outcome::Failed("throttled".into())),
                "911",
                false,
                O::Error,
            ),
        ];
        for (answer, word, refusal, outcome) in table {
            assert_eq!(answer.word(), word, "{answer:?}");
            assert_eq!(answer.is_refusal(), refusal, "{answer:?}");
            assert_eq!(answer.outcome(), outcome, "{answer:?}");
        }
    }
}
