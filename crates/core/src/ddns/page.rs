//! The host owners' page, on the endpoint's function URL: sign in with a
//! host's login and secret (the dyndns2 credentials), see each host the
//! login may update (its records as Route 53 holds them, its last updates
//! and where they came from, the request's own address), set it to this
//! address or another, and see the change reach Route 53's name servers.
//!
//! | route | what |
//! |-------|------|
//! | `GET /` | the hosts (signed in), else the sign-in form |
//! | `POST /signin` | form `login`, `secret`: a session cookie, then `/` |
//! | `POST /set` | form `csrf`, `host`, `ip` (empty: the request's address): the update, through the API's path |
//! | `GET /change?host=H&id=ID` | JSON `{"change_status": "PENDING"\|"INSYNC"}`, polled by the page |
//! | `POST /signout` | form `csrf`: the cookie cleared |
//!
//! Security, each tested (`tests/ddns_page.rs`, and in a real browser):
//! - the session is a cookie `ec2ddns_session` (`HttpOnly`, `Secure`,
//!   `SameSite=Strict`, 15 minutes) holding the login, its expiry and a
//!   CSRF token, sealed with HMAC-SHA256 under the host's own secret:
//!   never the secret, never in a URL; rotating the secret ends it;
//! - every state-changing form carries the session's CSRF token, compared
//!   in constant time;
//! - every answer has a strict `Content-Security-Policy` (no source but
//!   the page itself, its one script and style allowed by a nonce),
//!   `X-Frame-Options: DENY`, `Referrer-Policy: no-referrer`,
//!   `X-Content-Type-Options: nosniff`, `Cache-Control: no-store`;
//! - everything a user or a record controls is HTML-escaped;
//! - failed sign-ins are counted by the API's abuse counters, per source
//!   address, and block only that address;
//! - a session shows, and may update, only the hosts whose secret sealed
//!   it: never another login's.

use super::answer::json_answer_with;
use super::auth;
use super::decide::{self, Proof};
use super::endpoint::{count_failure, one, Answer, One, Served};
use super::host::random_token;
use super::request::{address_to_set, query_pairs, HttpRequest};
use crate::model::{HostSettings, RecordType};
use crate::names;
use crate::ports::{Dns, Guards, Registry};
use crate::registrar::Registrar;
use aws_lambda_events::event::lambda_function_urls::LambdaFunctionUrlResponse;
use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use http::header::{HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;
use tracing::{info, warn};

/// The session cookie's name.
pub const COOKIE: &str = "ec2ddns_session";
/// How long a session lasts.
pub const SESSION_SECONDS: i64 = 15 * 60;
/// The abuse counters' "host" for failed sign-ins (per source address).
const SIGN_IN: &str = "sign-in";

/// Whether `request` is the page's (rather than the API's): `GET /`,
/// `POST /signin`, `POST /set`, `POST /signout`, `GET /change`. Matched
/// by the path's last segment, and the page's links are relative, so a
/// prefix before it (a proxy's, cargo lambda's `/lambda-url/NAME/`) is
/// fine.
pub fn is_page(request: &HttpRequest) -> bool {
    matches!(
        (request.method.as_str(), route(&request.path)),
        ("GET", "" | "change") | ("POST", "signin" | "set" | "signout")
    )
}

/// The path's last segment (`` for `/`).
fn route(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or_default()
}

/// A signed-in owner: the login, when the session ends, its CSRF token.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Session {
    login: String,
    expires: i64,
    csrf: String,
}

impl Session {
    fn sealed_text(&self) -> String {
        format!(
            "ec2-ddns session\n{}\n{}\n{}",
            self.login, self.expires, self.csrf
        )
    }

    /// The cookie's value: login (base64url), expiry, CSRF token, and the
    /// HMAC of the three under `secret`.
    fn seal(&self, secret: &SecretString) -> String {
        let login = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&self.login);
        let mut mac = mac(secret);
        mac.update(self.sealed_text().as_bytes());
        let tag = hex::encode(mac.finalize().into_bytes());
        format!("{login}.{}.{}.{tag}", self.expires, self.csrf)
    }

    /// The session a cookie value holds, unchecked (its tag apart), or
    /// `None` when it is not one.
    fn read(value: &str) -> Option<(Session, Vec<u8>)> {
        let mut parts = value.split('.');
        let (login, expires, csrf, tag) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let login = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(login)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())?;
        let session = Session {
            login,
            expires: expires.parse().ok()?,
            csrf: csrf.to_string(),
        };
        Some((session, hex::decode(tag).ok()?))
    }

    /// Whether `tag` is this session's under `secret` (constant time).
    fn sealed_by(&self, tag: &[u8], secret: &SecretString) -> bool {
        let mut mac = mac(secret);
        mac.update(self.sealed_text().as_bytes());
        mac.verify_slice(tag).is_ok()
    }
}

fn mac(secret: &SecretString) -> Hmac<Sha256> {
    <Hmac<Sha256> as KeyInit>::new_from_slice(secret.expose_secret().as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"))
}

/// A host a login may update: its item and settings.
struct Hosted {
    name: String,
    settings: HostSettings,
}

/// The hosts whose dyndns2 login is `login` (their own name without the
/// trailing dot, or `--login`). A scan: sign-ins are rare.
async fn hosts_of<E, D, R: Registry + Sync>(
    registrar: &Registrar<E, D, R>,
    login: &str,
) -> crate::error::Result<Vec<Hosted>> {
    let mut found = Vec::new();
    for item in registrar.registry.all().await? {
        let (Some(name), Some(settings)) = (item.key.host_name().cloned(), item.host.clone())
        else {
            continue;
        };
        let own = name.trim_end_matches('.').to_string();
        if settings.login.as_deref().unwrap_or(&own) == login {
            found.push(Hosted {
                name: name.to_string(),
                settings,
            });
        }
    }
    Ok(found)
}

/// The request's session and the hosts whose secret sealed it, when its
/// cookie holds one that has not expired.
async fn signed_in<E, D, R: Registry + Sync>(
    registrar: &Registrar<E, D, R>,
    request: &HttpRequest,
    now: i64,
) -> Option<(Session, Vec<Hosted>)> {
    let value = cookie(request, COOKIE)?;
    let (session, tag) = Session::read(&value)?;
    if session.expires <= now || session.expires > now + SESSION_SECONDS {
        return None;
    }
    let hosts: Vec<Hosted> = hosts_of(registrar, &session.login)
        .await
        .ok()?
        .into_iter()
        .filter(|h| session.sealed_by(&tag, &h.settings.secret))
        .collect();
    (!hosts.is_empty()).then_some((session, hosts))
}

/// The value of cookie `name`, from the function URL's cookies (or a
/// `Cookie` header).
fn cookie(request: &HttpRequest, name: &str) -> Option<String> {
    let header = request.headers.get("cookie").cloned().unwrap_or_default();
    request
        .cookies
        .iter()
        .flat_map(|c| c.split(';'))
        .chain(header.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.to_string())
}

/// A form's fields (a URL-encoded body), or none when it is not one.
fn form(request: &HttpRequest) -> BTreeMap<String, String> {
    let body = String::from_utf8_lossy(&request.body);
    query_pairs(&body).unwrap_or_default().into_iter().collect()
}

/// Serves one of the page's requests ([`is_page`]).
pub async fn serve<E, D, R>(
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
    let unix = now.timestamp();
    let nonce = random_token::<16>("CSP nonce").unwrap_or_else(|_| "n".into());
    let answered = |response| Served::answered(response, Answer::Page);
    match (request.method.as_str(), route(&request.path)) {
        ("POST", "signin") => sign_in(registrar, request, &nonce, now).await,
        ("POST", "signout") => {
            let fields = form(request);
            let csrf_ok = match signed_in(registrar, request, unix).await {
                Some((session, _)) => csrf_matches(&fields, &session),
                None => true,
            };
            if !csrf_ok {
                return answered(forbidden(&nonce));
            }
            let mut response = redirect_home();
            response.cookies.push(format!(
                "{COOKIE}=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Strict"
            ));
            answered(response)
        }
        ("POST", "set") => {
            let Some((session, hosts)) = signed_in(registrar, request, unix).await else {
                return answered(sign_in_page(
                    &nonce,
                    401,
                    Some("Your session has ended: sign in again."),
                ));
            };
            let fields = form(request);
            if !csrf_matches(&fields, &session) {
                info!(source = %request.source_ip, "page: a set without this session's CSRF token refused");
                return answered(forbidden(&nonce));
            }
            set(
                registrar, request, request_id, now, &nonce, session, hosts, &fields,
            )
            .await
        }
        ("GET", "change") => {
            let Some((_, hosts)) = signed_in(registrar, request, unix).await else {
                return answered(json_answer_with(401, false, "not signed in", &[]));
            };
            let asked: BTreeMap<String, String> = query_pairs(&request.query)
                .unwrap_or_default()
                .into_iter()
                .collect();
            let host = names::normalize(asked.get("host").map(String::as_str).unwrap_or(""));
            let id = asked.get("id").cloned().unwrap_or_default();
            if !hosts.iter().any(|h| h.name == *host) || !super::request::is_change_id(&id) {
                return answered(json_answer_with(
                    403,
                    false,
                    "not a change of your hosts",
                    &[],
                ));
            }
            let answer = match registrar.dns.change_in_sync(&id).await {
                Ok(Some(true)) => {
                    json_answer_with(200, true, "INSYNC", &[("change_status", "INSYNC")])
                }
                Ok(Some(false)) => {
                    json_answer_with(200, true, "PENDING", &[("change_status", "PENDING")])
                }
                Ok(None) => json_answer_with(404, false, "no such change", &[]),
                Err(e) => {
                    warn!(error = %e, "page: GetChange failed");
                    json_answer_with(503, false, "try again later", &[])
                }
            };
            answered(with_security_headers(answer, &nonce))
        }
        _ => match signed_in(registrar, request, unix).await {
            Some((session, hosts)) => {
                answered(hosts_page(registrar, request, &nonce, &session, &hosts, None).await)
            }
            None => answered(sign_in_page(&nonce, 200, None)),
        },
    }
}

fn csrf_matches(fields: &BTreeMap<String, String>, session: &Session) -> bool {
    let given = fields.get("csrf").map(String::as_str).unwrap_or("");
    !given.is_empty() && auth::secrets_equal(given, &session.csrf)
}

/// `POST /signin`: the login's hosts whose secret is the one given get a
/// session; a wrong login or secret is one failure against the request's
/// address, and an address with too many is refused unchecked.
async fn sign_in<E, D, R>(
    registrar: &Registrar<E, D, R>,
    request: &HttpRequest,
    nonce: &str,
    now: DateTime<Utc>,
) -> Served
where
    E: Sync,
    D: Dns + Sync,
    R: Registry + Guards + Sync,
{
    let unix = now.timestamp();
    let source = request.source_ip;
    let page = |response| Served::answered(response, Answer::Page);
    let failures = registrar
        .registry
        .failures(SIGN_IN, source, unix, decide::WINDOW_SECONDS)
        .await
        .unwrap_or_default();
    if decide::source_blocked(failures) {
        return page(sign_in_page(
            nonce,
            429,
            Some("Too many failed sign-ins from this address: try again within the hour."),
        ));
    }
    let fields = form(request);
    let login = fields
        .get("login")
        .map(|l| l.trim())
        .unwrap_or("")
        .to_string();
    let secret = SecretString::from(fields.get("secret").cloned().unwrap_or_default());
    let hosts = match hosts_of(registrar, &login).await {
        Ok(hosts) => hosts,
        Err(e) => {
            warn!(error = %e, "page: the hosts could not be read");
            return page(sign_in_page(
                nonce,
                503,
                Some("The hosts could not be read now: try again later."),
            ));
        }
    };
    let matched = hosts
        .iter()
        .filter(|h| auth::secrets_equal(secret.expose_secret(), h.settings.secret.expose_secret()))
        .count();
    if login.is_empty() || matched == 0 {
        count_failure(registrar, SIGN_IN, source, unix).await;
        info!(source = %source, "page: sign-in refused");
        return page(sign_in_page(
            nonce,
            401,
            Some("The login or the secret is wrong."),
        ));
    }
    let Ok(csrf) = random_token::<16>("CSRF token") else {
        return page(sign_in_page(
            nonce,
            503,
            Some("No randomness for a session: try again."),
        ));
    };
    let session = Session {
        login,
        expires: unix + SESSION_SECONDS,
        csrf,
    };
    info!(source = %source, hosts = matched, "page: signed in");
    let mut response = redirect_home();
    response.cookies.push(format!(
        "{COOKIE}={}; Max-Age={SESSION_SECONDS}; Path=/; HttpOnly; Secure; SameSite=Strict",
        session.seal(&secret)
    ));
    page(response)
}

/// `POST /set`: the host set to `ip` (or the request's address) through
/// the API's own path: counters, abuse limits, ownership.
#[allow(clippy::too_many_arguments)]
async fn set<E, D, R>(
    registrar: &Registrar<E, D, R>,
    request: &HttpRequest,
    request_id: &str,
    now: DateTime<Utc>,
    nonce: &str,
    session: Session,
    hosts: Vec<Hosted>,
    fields: &BTreeMap<String, String>,
) -> Served
where
    E: Sync,
    D: Dns + Sync,
    R: Registry + Guards + Sync,
{
    let host = names::normalize(fields.get("host").map(String::as_str).unwrap_or(""));
    if !hosts.iter().any(|h| h.name == *host) {
        let page = hosts_page(
            registrar,
            request,
            nonce,
            &session,
            &hosts,
            Some(Notice::error("That host is not one of yours.")),
        )
        .await;
        return Served::answered(page, Answer::Page);
    }
    let ip = match fields.get("ip").map(|i| i.trim()).filter(|i| !i.is_empty()) {
        None => None,
        Some(text) => match address_to_set(text) {
            Ok(ip) => Some(ip),
            Err(why) => {
                let notice = Notice::error(format!("Not set: {why}."));
                let page =
                    hosts_page(registrar, request, nonce, &session, &hosts, Some(notice)).await;
                return Served::answered(page, Answer::Page);
            }
        },
    };
    let One {
        outcome,
        summary,
        change_id,
    } = one(
        registrar,
        &host,
        &Proof::Session { ip },
        request.source_ip,
        request_id,
        now,
    )
    .await;
    info!(host = %names::clip(&host), source = %request.source_ip, outcome = outcome.word(), "page: update answered");
    let notice = Notice {
        ok: matches!(
            outcome,
            super::endpoint::Outcome::Set(_) | super::endpoint::Outcome::Unchanged(_)
        ),
        text: outcome.words(host.trim_end_matches('.')),
        change: change_id.map(|id| (host.to_string(), id)),
    };
    // The updated host read again (its history now); the others are as
    // the session read them.
    let mut hosts = hosts;
    if let Ok(Some(settings)) = registrar
        .registry
        .load(&super::host::host_key(&host))
        .await
        .map(|item| item.and_then(|i| i.host))
    {
        if let Some(updated) = hosts.iter_mut().find(|h| h.name == *host) {
            updated.settings = settings;
        }
    }
    let page = hosts_page(registrar, request, nonce, &session, &hosts, Some(notice)).await;
    Served {
        response: page,
        answers: vec![Answer::Host(outcome)],
        summaries: summary.into_iter().collect(),
    }
}

/// A line at the top of the hosts page: what an update came to, and the
/// change to follow until it is in sync.
struct Notice {
    ok: bool,
    text: String,
    change: Option<(String, String)>,
}

impl Notice {
    fn error(text: impl Into<String>) -> Notice {
        Notice {
            ok: false,
            text: text.into(),
            change: None,
        }
    }
}

/// The signed-in page: each host, its records as Route 53 holds them, its
/// last updates, and the forms.
async fn hosts_page<E, D: Dns + Sync, R>(
    registrar: &Registrar<E, D, R>,
    request: &HttpRequest,
    nonce: &str,
    session: &Session,
    hosts: &[Hosted],
    notice: Option<Notice>,
) -> LambdaFunctionUrlResponse {
    let source = request.source_ip;
    let mut body = String::new();
    body.push_str(&format!(
        "<header><h1>Your hosts</h1><p>Signed in as <b>{}</b>. Your address: <b id=\"source\">{}</b></p>\
         <form method=\"post\" action=\"signout\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <button type=\"submit\">Sign out</button></form></header>",
        esc(&session.login),
        esc(&source.to_string()),
        esc(&session.csrf)
    ));
    if let Some(notice) = &notice {
        body.push_str(&format!(
            "<p class=\"notice {}\" role=\"status\">{}</p>",
            if notice.ok { "ok" } else { "bad" },
            esc(&notice.text)
        ));
        if let Some((host, id)) = &notice.change {
            body.push_str(&format!(
                "<p id=\"propagation\" role=\"status\" data-host=\"{}\" data-change=\"{}\">Propagating to Route 53's name servers…</p>",
                esc(host),
                esc(id)
            ));
        }
    }
    for host in hosts {
        let records = records_now(registrar, host).await;
        let shown = host.name.trim_end_matches('.');
        body.push_str(&format!(
            "<section><h2>{}</h2><dl><dt>Records now</dt><dd class=\"records\">{}</dd>",
            esc(shown),
            if records.is_empty() {
                "none".to_string()
            } else {
                records
                    .iter()
                    .map(|(t, v)| format!("<code>{} {}</code>", esc(t), esc(v)))
                    .collect::<Vec<_>>()
                    .join(" ")
            }
        ));
        match host.settings.history.first() {
            Some(last) => body.push_str(&format!(
                "<dt>Last update</dt><dd>{} from {}</dd>",
                esc(&shown_time(&last.at)),
                esc(&last.source.to_string())
            )),
            None => body.push_str("<dt>Last update</dt><dd>never</dd>"),
        }
        body.push_str("</dl>");
        body.push_str(&format!(
            "<form method=\"post\" action=\"set\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <input type=\"hidden\" name=\"host\" value=\"{host}\">\
             <button type=\"submit\" id=\"set-here-{id}\">Set to this address ({source})</button></form>\
             <form method=\"post\" action=\"set\" class=\"other\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <input type=\"hidden\" name=\"host\" value=\"{host}\">\
             <label for=\"ip-{id}\">Another address</label>\
             <input id=\"ip-{id}\" name=\"ip\" inputmode=\"text\" autocomplete=\"off\" placeholder=\"203.0.113.7 or 2001:db8::7\" required>\
             <button type=\"submit\">Set</button></form>",
            csrf = esc(&session.csrf),
            host = esc(shown),
            id = esc(&shown.replace('.', "-")),
            source = esc(&source.to_string()),
        ));
        if !host.settings.history.is_empty() {
            body.push_str("<details><summary>Last updates</summary><table><thead><tr><th scope=\"col\">When</th><th scope=\"col\">Address</th><th scope=\"col\">From</th></tr></thead><tbody>");
            for u in &host.settings.history {
                body.push_str(&format!(
                    "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                    esc(&shown_time(&u.at)),
                    esc(&u.ip.to_string()),
                    esc(&u.source.to_string())
                ));
            }
            body.push_str("</tbody></table></details>");
        }
        body.push_str("</section>");
    }
    html(200, "Your hosts", &body, nonce)
}

/// A time as people read it, to the second.
fn shown_time(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// The A and AAAA records at the host's name, as Route 53 holds them now.
async fn records_now<E, D: Dns + Sync, R>(
    registrar: &Registrar<E, D, R>,
    host: &Hosted,
) -> Vec<(String, String)> {
    let name = crate::model::DnsName::new(&host.name);
    let names: BTreeSet<crate::model::DnsName> = [name.clone()].into();
    match registrar
        .dns
        .records_at(&host.settings.zone_id, &names)
        .await
    {
        Ok(records) => records
            .iter()
            .filter(|r| r.name == name && matches!(r.rtype, RecordType::A | RecordType::Aaaa))
            .flat_map(|r| r.values().iter().map(|v| (r.rtype.to_string(), v.clone())))
            .collect(),
        Err(e) => {
            warn!(host = %names::clip(&host.name), error = %e, "page: the records could not be read");
            vec![("?".into(), "Route 53 could not be read now".into())]
        }
    }
}

/// The sign-in form, with `message` above it.
fn sign_in_page(nonce: &str, status: u16, message: Option<&str>) -> LambdaFunctionUrlResponse {
    let notice = message
        .map(|m| format!("<p class=\"notice bad\" role=\"alert\">{}</p>", esc(m)))
        .unwrap_or_default();
    let body = format!(
        "<header><h1>Sign in</h1><p>With your host's login (its name, or the login it was given) and its secret.</p></header>{notice}\
         <form method=\"post\" action=\"signin\" class=\"signin\">\
         <label for=\"login\">Login</label><input id=\"login\" name=\"login\" autocomplete=\"username\" required>\
         <label for=\"secret\">Secret</label><input id=\"secret\" name=\"secret\" type=\"password\" autocomplete=\"current-password\" required>\
         <button type=\"submit\">Sign in</button></form>"
    );
    html(status, "Sign in", &body, nonce)
}

fn forbidden(nonce: &str) -> LambdaFunctionUrlResponse {
    html(
        403,
        "Refused",
        "<h1>Refused</h1><p class=\"notice bad\" role=\"alert\">This form is not from your page (its security token is missing or wrong). Go back to <a href=\"./\">your hosts</a> and try again.</p>",
        nonce,
    )
}

fn redirect_home() -> LambdaFunctionUrlResponse {
    let mut response = LambdaFunctionUrlResponse::default();
    response.status_code = 303;
    response
        .headers
        .insert(http::header::LOCATION, HeaderValue::from_static("./"));
    response.body = Some(String::new());
    response.cookies = Vec::new();
    with_security_headers(response, "-")
}

/// The style of every page (allowed by the nonce).
const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;margin:0 auto;padding:1rem;max-width:44rem;color:#111;background:#fff}\
h1{font-size:1.5rem;margin:.2rem 0}h2{font-size:1.2rem;overflow-wrap:anywhere}\
section{border-top:1px solid #ccc;padding:.5rem 0 1rem}\
label{display:block;margin-top:.6rem;font-weight:600}\
input{font:inherit;padding:.4rem;width:100%;box-sizing:border-box;max-width:24rem}\
button{font:inherit;padding:.45rem .9rem;margin:.6rem .4rem 0 0;cursor:pointer}\
code{overflow-wrap:anywhere}dd{margin-left:0}dt{font-weight:600;margin-top:.4rem}\
table{border-collapse:collapse;width:100%;font-size:.9rem}td,th{text-align:left;padding:.2rem .4rem;border-bottom:1px solid #eee;overflow-wrap:break-word}\
.notice{padding:.5rem;border-radius:.3rem}.ok{background:#e7f6e7}.bad{background:#fde8e8}\
header form{display:inline}input+button{margin-left:.4rem}*{max-width:100%}";

/// The page's one script: follows a change until Route 53 reports it
/// INSYNC (at most 60 asks, 2 s apart), then says how long it took.
const SCRIPT: &str = "(function(){var p=document.getElementById('propagation');if(!p)return;\
var start=Date.now(),asks=0;function ask(){asks++;\
fetch('change?host='+encodeURIComponent(p.dataset.host)+'&id='+encodeURIComponent(p.dataset.change),{credentials:'same-origin'})\
.then(function(r){return r.json()}).then(function(a){var s=Math.round((Date.now()-start)/1000);\
if(a.change_status==='INSYNC'){p.textContent='In sync after '+s+' s: every Route 53 name server answers with it.';p.className='notice ok';return}\
p.textContent='Propagating to Route 53\\u2019s name servers\\u2026 ('+s+' s)';if(asks<60)setTimeout(ask,2000);\
else p.textContent='Still propagating after '+s+' s: reload the page later.'})\
.catch(function(){if(asks<60)setTimeout(ask,2000)})}setTimeout(ask,1000)})();";

/// A whole page, with the security headers.
fn html(status: u16, title: &str, body: &str, nonce: &str) -> LambdaFunctionUrlResponse {
    let text = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · ec2-ddns</title><style nonce=\"{nonce}\">{STYLE}</style></head>\
         <body><main>{body}</main><script nonce=\"{nonce}\">{SCRIPT}</script></body></html>",
        esc(title)
    );
    let mut response = LambdaFunctionUrlResponse::default();
    response.status_code = i64::from(status);
    response.headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response.body = Some(text);
    response.is_base64_encoded = false;
    response.cookies = Vec::new();
    with_security_headers(response, nonce)
}

/// The headers every answer of the page carries.
fn with_security_headers(
    mut response: LambdaFunctionUrlResponse,
    nonce: &str,
) -> LambdaFunctionUrlResponse {
    let csp = format!(
        "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    );
    let headers = [
        ("content-security-policy", csp),
        ("x-frame-options", "DENY".to_string()),
        ("referrer-policy", "no-referrer".to_string()),
        ("x-content-type-options", "nosniff".to_string()),
        ("cache-control", "no-store".to_string()),
    ];
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (HeaderName::from_str(name), HeaderValue::from_str(&value)) {
            response.headers.insert(name, value);
        }
    }
    response
}

/// `text` for HTML, in text and in attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_sealed_by_its_secret_and_read_back() {
        let session = Session {
            login: "router ü".into(),
            expires: 1_795_255_200,
            csrf: "abc".into(),
        };
        let secret = SecretString::from("a-secret-of-twenty-chars");
        let value = session.seal(&secret);
        assert!(!value.contains("a-secret"), "{value}");
        let (read, tag) = Session::read(&value).expect("read back");
        assert_eq!(read, session);
        assert!(read.sealed_by(&tag, &secret));
        assert!(!read.sealed_by(&tag, &SecretString::from("another-secret-entirely")));
        let forged = Session {
            login: "someone".into(),
            ..session.clone()
        };
        assert!(!forged.sealed_by(&tag, &secret), "another login's");
        for broken in ["", "a.b.c", "a.b.c.d.e", "!!.1.c.00", "YQ.x.c.00"] {
            assert!(
                Session::read(broken).is_none_or(|(s, t)| !s.sealed_by(&t, &secret)),
                "{broken}"
            );
        }
    }

    #[test]
    fn escaping_leaves_no_markup() {
        assert_eq!(
            esc("<script>alert('x')</script>&\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"
        );
    }
}
