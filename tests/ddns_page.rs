//! The host owners' page (`ddns::page`) on the in-memory account, through
//! function URL requests as Lambda builds them: sign-in refused and
//! accepted, the session cookie's attributes, every security header, the
//! CSRF token, escaping, abuse counting of failed sign-ins, another
//! login's hosts never shown, an update through the API's path, its change
//! followed until INSYNC, and sign-out. The same page in a real browser:
//! `tests/browser/page.py` (through `tests/browser.rs`).

use ec2_ddns::ddns::endpoint;
use ec2_ddns::ddns::page::COOKIE;
use ec2_ddns::ddns::request::HttpRequest;
use ec2_ddns::model::{HostSettings, RecordType, RegistryItem, RegistryKey};
use ec2_ddns::ports::Registry;
use ec2_ddns::sim::memory::MemoryAccount;
use ec2_ddns::sim::world::World;
use ec2_ddns::Config;
use serde_json::{json, Value};

const T: i64 = 1_795_255_200;
const SECRET: &str = "the-owners-secret-of-32-characters";
const OTHER_SECRET: &str = "someone-elses-secret-of-32-chars";

fn now(offset: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(T + offset, 0).expect("time")
}

/// The split-horizon world with two hosts of the login `router` (one
/// sharing the secret) and one of another login.
async fn account() -> MemoryAccount {
    let path = format!(
        "{}/fixtures/worlds/split-horizon.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let world = World::parse(&path, &std::fs::read_to_string(&path).unwrap()).unwrap();
    let account = MemoryAccount::new(world);
    for (name, login, secret) in [
        ("home.corp.example.", Some("router"), SECRET),
        ("nas.corp.example.", Some("router"), SECRET),
        ("office.corp.example.", None, OTHER_SECRET),
    ] {
        account
            .save(&RegistryItem {
                key: RegistryKey::host(name),
                version: 1,
                host: Some(HostSettings {
                    zone_id: "Z0CORPPUBLIC".into(),
                    zone_name: "corp.example.".into(),
                    ttl: 60,
                    secret: secret.into(),
                    login: login.map(str::to_string),
                    ..HostSettings::default()
                }),
                ..RegistryItem::default()
            })
            .await
            .expect("host saved");
    }
    account
}

/// A function URL request as Lambda builds it.
fn request(
    method: &str,
    path: &str,
    query: &str,
    body: &str,
    cookies: &[String],
    source: &str,
) -> HttpRequest {
    let payload = json!({
        "version": "2.0",
        "rawPath": path,
        "rawQueryString": query,
        "cookies": cookies,
        "headers": {"content-type": "application/x-www-form-urlencoded"},
        "requestContext": {
            "requestId": "page-test",
            "http": {"method": method, "path": path, "sourceIp": source},
            "timeEpoch": T * 1000
        },
        "body": body,
        "isBase64Encoded": false
    });
    HttpRequest::from_function_url(payload).expect("a function URL request")
}

struct Answered {
    status: i64,
    body: String,
    headers: http::HeaderMap,
    cookies: Vec<String>,
}

async fn serve(account: &MemoryAccount, request: HttpRequest, at: i64) -> Answered {
    let registrar = account.registrar(Config::default());
    let response = endpoint::serve(&registrar, &request, "page-test", now(at)).await;
    Answered {
        status: response.status_code,
        body: response.body.unwrap_or_default(),
        headers: response.headers,
        cookies: response.cookies,
    }
}

/// Signs in from `source`; the session cookie (`name=value`).
async fn sign_in(account: &MemoryAccount, source: &str) -> String {
    let answer = serve(
        account,
        request(
            "POST",
            "/signin",
            "",
            &format!("login=router&secret={SECRET}"),
            &[],
            source,
        ),
        0,
    )
    .await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    let cookie = answer.cookies.first().expect("a session cookie").clone();
    for attribute in [
        "HttpOnly",
        "Secure",
        "SameSite=Strict",
        "Path=/",
        "Max-Age=900",
    ] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    assert!(!cookie.contains(SECRET), "never the secret: {cookie}");
    cookie.split(';').next().unwrap().to_string()
}

/// The CSRF token of the page's forms.
fn csrf(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    page[at..].split('"').next().unwrap().to_string()
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let account = account().await;
    let cookie = sign_in(&account, "203.0.113.7").await;
    for answer in [
        serve(&account, request("GET", "/", "", "", &[], "203.0.113.7"), 1).await,
        serve(
            &account,
            request(
                "GET",
                "/",
                "",
                "",
                std::slice::from_ref(&cookie),
                "203.0.113.7",
            ),
            1,
        )
        .await,
        serve(
            &account,
            request(
                "POST",
                "/set",
                "",
                "host=home.corp.example",
                std::slice::from_ref(&cookie),
                "203.0.113.7",
            ),
            1,
        )
        .await,
    ] {
        let header = |name: &str| {
            answer
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        let csp = header("content-security-policy");
        for part in [
            "default-src 'none'",
            "script-src 'nonce-",
            "frame-ancestors 'none'",
            "form-action 'self'",
            "base-uri 'none'",
        ] {
            assert!(csp.contains(part), "{part} in {csp}");
        }
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(header("x-frame-options"), "DENY");
        assert_eq!(header("referrer-policy"), "no-referrer");
        assert_eq!(header("x-content-type-options"), "nosniff");
        assert_eq!(header("cache-control"), "no-store");
        // The one script and style carry the nonce the policy names.
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .unwrap()
            .split('\'')
            .next()
            .unwrap();
        assert!(
            answer.body.contains(&format!("<script nonce=\"{nonce}\">")),
            "{}",
            answer.body
        );
    }
}

#[tokio::test]
async fn a_wrong_secret_is_refused_and_counted_against_its_address_only() {
    let account = account().await;
    let wrong = |source: &'static str, n: i64| {
        let account = account.clone();
        async move {
            serve(
                &account,
                request(
                    "POST",
                    "/signin",
                    "",
                    "login=router&secret=guess",
                    &[],
                    source,
                ),
                n,
            )
            .await
        }
    };
    let refused = wrong("192.0.2.66", 0).await;
    assert_eq!(refused.status, 401);
    assert!(refused.body.contains("The login or the secret is wrong."));
    assert!(refused.cookies.is_empty());
    for n in 1..10 {
        assert_eq!(wrong("192.0.2.66", n).await.status, 401);
    }
    // Ten failed sign-ins from one address block it, unchecked.
    let blocked = wrong("192.0.2.66", 11).await;
    assert_eq!(blocked.status, 429, "{}", blocked.body);
    // The owner, from its own address, signs in all the same.
    sign_in(&account, "203.0.113.7").await;
}

#[tokio::test]
async fn the_page_shows_only_the_hosts_the_secret_opens_and_escapes_what_it_shows() {
    let account = account().await;
    let cookie = sign_in(&account, "203.0.113.7").await;
    let page = serve(
        &account,
        request("GET", "/", "", "", &[cookie], "203.0.113.7"),
        1,
    )
    .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("home.corp.example") && page.body.contains("nas.corp.example"));
    assert!(
        !page.body.contains("office.corp.example"),
        "another login's host"
    );
    assert!(page
        .body
        .contains("Your address: <b id=\"source\">203.0.113.7</b>"));
    // A forged or tampered cookie is no session.
    for forged in [
        format!("{COOKIE}=cm91dGVy.{}.abc.00", T + 100),
        format!("{COOKIE}=<script>"),
    ] {
        let page = serve(
            &account,
            request("GET", "/", "", "", &[forged], "203.0.113.7"),
            1,
        )
        .await;
        assert!(page.body.contains("Sign in"), "{}", page.body);
        assert!(!page.body.contains("<script>alert"), "escaped");
    }
    // A bad address asked for is echoed escaped.
    let cookie = sign_in(&account, "203.0.113.7").await;
    let page = serve(
        &account,
        request(
            "GET",
            "/",
            "",
            "",
            std::slice::from_ref(&cookie),
            "203.0.113.7",
        ),
        1,
    )
    .await;
    let token = csrf(&page.body);
    let hostile = serve(
        &account,
        request(
            "POST",
            "/set",
            "",
            &format!("csrf={token}&host=home.corp.example&ip=%3Cscript%3Ealert(1)%3C%2Fscript%3E"),
            &[cookie],
            "203.0.113.7",
        ),
        2,
    )
    .await;
    assert!(
        hostile.body.contains(
            "Not set: &#39;&lt;script&gt;alert(1)&lt;/script&gt;&#39; is not an IP address"
        ),
        "{}",
        hostile.body
    );
    assert!(!hostile.body.contains("<script>alert"));
}

#[tokio::test]
async fn an_update_needs_the_csrf_token_goes_through_the_api_and_is_followed_until_in_sync() {
    let account = account().await;
    account.set_propagation_polls(1);
    let cookie = sign_in(&account, "203.0.113.7").await;
    let page = serve(
        &account,
        request(
            "GET",
            "/",
            "",
            "",
            std::slice::from_ref(&cookie),
            "203.0.113.7",
        ),
        1,
    )
    .await;
    let token = csrf(&page.body);
    // Without the token (a forged cross-site form): refused, nothing set.
    for body in [
        "host=home.corp.example",
        "host=home.corp.example&csrf=forged",
    ] {
        let forged = serve(
            &account,
            request(
                "POST",
                "/set",
                "",
                body,
                std::slice::from_ref(&cookie),
                "203.0.113.7",
            ),
            2,
        )
        .await;
        assert_eq!(forged.status, 403, "{body}");
    }
    assert!(values(&account).is_empty());
    // Another login's host, even with the token: refused.
    let theirs = serve(
        &account,
        request(
            "POST",
            "/set",
            "",
            &format!("csrf={token}&host=office.corp.example"),
            std::slice::from_ref(&cookie),
            "203.0.113.7",
        ),
        2,
    )
    .await;
    assert!(theirs.body.contains("That host is not one of yours."));
    // Set to this address.
    let set = serve(
        &account,
        request(
            "POST",
            "/set",
            "",
            &format!("csrf={token}&host=home.corp.example"),
            std::slice::from_ref(&cookie),
            "203.0.113.7",
        ),
        3,
    )
    .await;
    assert_eq!(set.status, 200, "{}", set.body);
    assert!(
        set.body
            .contains("home.corp.example has been updated to 203.0.113.7"),
        "{}",
        set.body
    );
    assert!(
        set.body.contains("<code>A 203.0.113.7</code>"),
        "the record as Route 53 holds it: {}",
        set.body
    );
    assert!(
        set.body.contains("from 203.0.113.7"),
        "its last update: {}",
        set.body
    );
    assert_eq!(values(&account), ["203.0.113.7"]);
    let change = set
        .body
        .split("data-change=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let ask = |at| {
        let account = account.clone();
        let cookie = cookie.clone();
        let change = change.clone();
        async move {
            let answer = serve(
                &account,
                request(
                    "GET",
                    "/change",
                    &format!("host=home.corp.example&id={change}"),
                    "",
                    &[cookie],
                    "203.0.113.7",
                ),
                at,
            )
            .await;
            serde_json::from_str::<Value>(&answer.body).unwrap()["change_status"].clone()
        }
    };
    assert_eq!(ask(4).await, "PENDING");
    assert_eq!(ask(5).await, "INSYNC");
    // Not signed in: no status.
    let anonymous = serve(
        &account,
        request(
            "GET",
            "/change",
            &format!("host=home.corp.example&id={change}"),
            "",
            &[],
            "203.0.113.7",
        ),
        6,
    )
    .await;
    assert_eq!(anonymous.status, 401);
    // Sign out: needs the token, then the cookie is cleared.
    let out = serve(
        &account,
        request(
            "POST",
            "/signout",
            "",
            &format!("csrf={token}"),
            std::slice::from_ref(&cookie),
            "203.0.113.7",
        ),
        7,
    )
    .await;
    assert_eq!(out.status, 303);
    assert!(
        out.cookies[0].starts_with(&format!("{COOKIE}=;")) && out.cookies[0].contains("Max-Age=0")
    );
    // A session past its 15 minutes is over.
    let late = serve(
        &account,
        request("GET", "/", "", "", &[cookie], "203.0.113.7"),
        901,
    )
    .await;
    assert!(late.body.contains("Sign in"));
}

fn values(account: &MemoryAccount) -> Vec<String> {
    account
        .zone_records()
        .get(&ec2_ddns::model::ZoneId::new("Z0CORPPUBLIC"))
        .into_iter()
        .flatten()
        .filter(|r| r.name == "home.corp.example." && r.rtype == RecordType::A)
        .flat_map(|r| r.values().to_vec())
        .collect()
}
