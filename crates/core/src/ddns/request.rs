//! A Lambda function URL request (payload 2.0) read into one of the three
//! asks of the DDNS endpoint, or refused with a 4xx and a reason. Pure: no
//! host is looked up and no proof is checked here (that needs the host's
//! secret); only the shape of the request is.
//!
//! | request | ask |
//! |---------|-----|
//! | `POST` JSON `{"execution_mode":"get"}` | [`Ask::Get`] |
//! | `POST` JSON `set` with `validation_hash` (64 hex digits) | [`Ask::LegacySet`] |
//! | `POST` JSON `set` with `timestamp`, `nonce`, `signature` (optional `ip`) | [`Ask::SignedSet`] |
//! | `GET …/nic/update?hostname=H[,H2][&myip=IP]` with Basic auth | [`Ask::Dyndns2`] |
//!
//! The path of dyndns2 is matched by its end: emulators and proxies may put
//! a prefix before it (`/lambda-url/fn/nic/update`).

use super::auth;
use crate::names::clip;
use aws_lambda_events::event::lambda_function_urls::LambdaFunctionUrlRequest;
use base64::Engine;
use secrecy::SecretString;
use serde_json::Value;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// A body longer than this is refused before it is parsed.
pub const MAX_BODY_BYTES: usize = 8 * 1024;
/// dyndns2 host names in one request at most.
pub const MAX_HOSTS: usize = 20;

/// Which protocol's words a refusal is answered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// JSON `{"return_status":"fail","return_message":…}`.
    Json,
    /// dyndns2 plain text (`badauth`, `notfqdn`, …).
    Dyndns2,
}

/// A request refused for its shape: the HTTP status, the protocol to
/// answer in, and the reason (for dyndns2, its return word first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub protocol: Protocol,
    pub reason: String,
}

impl Refusal {
    fn json(status: u16, reason: impl Into<String>) -> Refusal {
        Refusal {
            status,
            protocol: Protocol::Json,
            reason: reason.into(),
        }
    }

    fn dyndns2(status: u16, reason: impl Into<String>) -> Refusal {
        Refusal {
            status,
            protocol: Protocol::Dyndns2,
            reason: reason.into(),
        }
    }
}

/// What a caller asks, with the proof it brings. No `PartialEq`: a dyndns2
/// password is compared only by `auth`, in constant time.
#[derive(Debug, Clone)]
pub enum Ask {
    /// The caller's address (the `get` mode).
    Get,
    /// route53-dynamic-dns-with-lambda `set`: the host and its SHA-256 proof.
    LegacySet { host: String, hash: String },
    /// Our signed `set`: never accepted twice, nor out of its time window.
    SignedSet {
        host: String,
        ip: Option<IpAddr>,
        timestamp: i64,
        nonce: String,
        signature: String,
    },
    /// A `set` signed with AWS credentials (SigV4) on the `AWS_IAM`
    /// function URL: no secret; the caller's principal is the proof.
    IamSet {
        host: String,
        ip: Option<IpAddr>,
        caller: IamCaller,
    },
    /// Our `status`: whether the change `change_id` (a set's answer gave
    /// it) has reached all of Route 53's name servers, asked with the same
    /// proof as a set (`proof` is the `LegacySet` or `SignedSet` it would
    /// be).
    Status { change_id: String, proof: Box<Ask> },
    /// dyndns2 `/nic/update`.
    Dyndns2 {
        hosts: Vec<String>,
        myip: Option<IpAddr>,
        login: String,
        /// The host's secret when it is right: `Debug` prints `[REDACTED]`.
        password: SecretString,
    },
}

/// The parts of an HTTP request the endpoint reads. Its `Debug` hides the
/// `authorization` header (HTTP Basic carries the host's secret).
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: String,
    pub path: String,
    pub query: String,
    /// Header names lower-case; a header sent twice keeps its first value.
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
    /// `requestContext.http.sourceIp`: whom the answer is about.
    pub source_ip: IpAddr,
    /// The request's cookies (`name=value`), as the function URL passes
    /// them: the host owners' page's session.
    pub cookies: Vec<String>,
    /// The AWS principal that signed the request (SigV4), as Lambda puts
    /// it in `requestContext.authorizer.iam` after verifying the
    /// signature: only on a function URL whose `AuthType` is `AWS_IAM`.
    pub iam_caller: Option<IamCaller>,
}

/// Who signed a request to an `AWS_IAM` function URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IamCaller {
    /// `arn:aws:iam::ACCOUNT:user/NAME`, `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`, …
    pub user_arn: String,
    pub account_id: String,
}

impl std::fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: BTreeMap<&str, &str> = self
            .headers
            .iter()
            .map(|(name, value)| match name.as_str() {
                "authorization" => (name.as_str(), "[REDACTED]"),
                _ => (name.as_str(), value.as_str()),
            })
            .collect();
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("headers", &headers)
            .field("body", &self.body)
            .field("source_ip", &self.source_ip)
            .field("cookies", &self.cookies.len())
            .finish()
    }
}

/// Whether an invocation's payload is a function URL request (rather than
/// an EventBridge or SQS event): it has `requestContext.http.method`.
pub fn is_function_url(payload: &Value) -> bool {
    payload
        .get("requestContext")
        .and_then(|c| c.get("http"))
        .and_then(|h| h.get("method"))
        .is_some_and(Value::is_string)
}

impl HttpRequest {
    /// Reads a function URL request. A malformed one (not the payload 2.0
    /// shape, a source address that is not one, base64 garbage, a body
    /// over [`MAX_BODY_BYTES`]) is refused.
    pub fn from_function_url(payload: Value) -> Result<HttpRequest, Refusal> {
        let request: LambdaFunctionUrlRequest = serde_json::from_value(payload).map_err(|e| {
            Refusal::json(
                400,
                format!("not a function URL request: {}", clip(&e.to_string())),
            )
        })?;
        let http = &request.request_context.http;
        let source = http.source_ip.as_deref().unwrap_or_default();
        let source_ip: IpAddr = source
            .parse::<IpAddr>()
            .map(|ip| ip.to_canonical())
            .map_err(|_| {
                Refusal::json(
                    400,
                    format!(
                        "requestContext.http.sourceIp '{}' is not an IP address",
                        clip(source)
                    ),
                )
            })?;
        let raw = request.body.unwrap_or_default();
        // Base64 is at most 4/3 of the bytes it carries.
        if raw.len() > MAX_BODY_BYTES * 4 / 3 + 4 {
            return Err(Refusal::json(
                413,
                format!("the body is over {MAX_BODY_BYTES} bytes"),
            ));
        }
        let body = if request.is_base64_encoded {
            base64::engine::general_purpose::STANDARD
                .decode(raw.trim())
                .map_err(|_| Refusal::json(400, "the body is marked base64 but is not base64"))?
        } else {
            raw.into_bytes()
        };
        if body.len() > MAX_BODY_BYTES {
            return Err(Refusal::json(
                413,
                format!("the body is over {MAX_BODY_BYTES} bytes"),
            ));
        }
        let mut headers = BTreeMap::new();
        for (name, value) in &request.headers {
            if let Ok(value) = value.to_str() {
                headers
                    .entry(name.as_str().to_ascii_lowercase())
                    .or_insert_with(|| value.to_string());
            }
        }
        let cookies = request.cookies.clone().unwrap_or_default();
        let iam_caller = request
            .request_context
            .authorizer
            .as_ref()
            .and_then(|a| a.iam.as_ref())
            .and_then(|iam| {
                Some(IamCaller {
                    user_arn: iam.user_arn.clone().filter(|a| !a.is_empty())?,
                    account_id: iam.account_id.clone().unwrap_or_default(),
                })
            });
        Ok(HttpRequest {
            cookies,
            iam_caller,
            method: http.method.clone().unwrap_or_default().to_ascii_uppercase(),
            path: request.raw_path.unwrap_or_default(),
            query: request.raw_query_string.unwrap_or_default(),
            headers,
            body,
            source_ip,
        })
    }
}

/// The body of the JSON protocols, as sent. Read field by field rather
/// than by serde's derive, so that a refusal names the field and what the
/// protocol expects of it, never a Rust type.
#[derive(Debug)]
struct JsonAsk {
    execution_mode: String,
    ddns_hostname: Option<String>,
    validation_hash: Option<String>,
    timestamp: Option<i64>,
    nonce: Option<String>,
    signature: Option<String>,
    ip: Option<String>,
    change_id: Option<String>,
}

/// What the JSON protocols take, for the refusals.
const JSON_FORMS: &str = "{\"execution_mode\":\"get\"} or {\"execution_mode\":\"set\",\"ddns_hostname\":…,\"validation_hash\":…}";

impl JsonAsk {
    fn read(body: &[u8]) -> Result<JsonAsk, Refusal> {
        let value: serde_json::Value = serde_json::from_slice(body).map_err(|_| {
            Refusal::json(400, format!("the body is not JSON; expected {JSON_FORMS}"))
        })?;
        let serde_json::Value::Object(fields) = value else {
            return Err(Refusal::json(
                400,
                format!("the body is not a JSON object; expected {JSON_FORMS}"),
            ));
        };
        let text = |name: &str| -> Result<Option<String>, Refusal> {
            match fields.get(name) {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(serde_json::Value::String(text)) => Ok(Some(text.clone())),
                Some(_) => Err(Refusal::json(400, format!("{name}: expected a string"))),
            }
        };
        let timestamp = match fields.get("timestamp") {
            None | Some(serde_json::Value::Null) => None,
            Some(n) => Some(n.as_i64().ok_or_else(|| {
                Refusal::json(400, "timestamp: expected Unix seconds, a whole number")
            })?),
        };
        Ok(JsonAsk {
            execution_mode: text("execution_mode")?.ok_or_else(|| {
                Refusal::json(
                    400,
                    format!("execution_mode is missing; expected {JSON_FORMS}"),
                )
            })?,
            ddns_hostname: text("ddns_hostname")?,
            validation_hash: text("validation_hash")?,
            timestamp,
            nonce: text("nonce")?,
            signature: text("signature")?,
            ip: text("ip")?,
            change_id: text("change_id")?,
        })
    }
}

/// An address a client asks to set: an IP address a host can have. `Err`
/// says why not (`'…' is not an IP address`, or which kind it is).
pub fn address_to_set(text: &str) -> Result<IpAddr, String> {
    let ip: IpAddr = text
        .trim()
        .parse()
        .map_err(|_| format!("'{}' is not an IP address", clip(text)))?;
    let why = match ip {
        _ if ip.is_unspecified() => Some("is the unspecified address"),
        _ if ip.is_multicast() => Some("is a multicast address"),
        IpAddr::V4(v4) if v4.is_broadcast() => Some("is the broadcast address"),
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some() => {
            Some("is an IPv4-mapped IPv6 address; send the IPv4 address itself")
        }
        _ => None,
    };
    match why {
        Some(why) => Err(format!("'{ip}' {why}")),
        None => Ok(ip),
    }
}

/// Reads what the request asks; see the module docs for the forms.
pub fn parse(request: &HttpRequest) -> Result<Ask, Refusal> {
    let path = request.path.trim_end_matches('/');
    match request.method.as_str() {
        "GET" if path.ends_with("/nic/update") => dyndns2(request),
        "POST" if !path.ends_with("/nic/update") => match json(request) {
            // Signed by AWS (the AWS_IAM function URL): the principal is
            // the proof, and a set needs no other.
            Err(refused) if refused.reason.starts_with(NEEDS_A_PROOF) => {
                iam_set(request).ok_or(refused)
            }
            other => other,
        },
        "GET" | "POST" => Err(Refusal::json(
            405,
            format!(
                "{} {} is not served: POST JSON to the function URL, or GET /nic/update",
                request.method,
                clip(&request.path)
            ),
        )),
        other => Err(Refusal::json(
            405,
            format!(
                "method {} is not served: use POST (JSON) or GET /nic/update",
                clip(other)
            ),
        )),
    }
}

fn json(request: &HttpRequest) -> Result<Ask, Refusal> {
    let mut ask = JsonAsk::read(&request.body)?;
    match ask.execution_mode.as_str() {
        "get" => Ok(Ask::Get),
        "status" => {
            let change_id = ask.change_id.take().ok_or_else(|| {
                Refusal::json(400, "status needs change_id (a set's answer gives it)")
            })?;
            if !is_change_id(&change_id) {
                return Err(Refusal::json(
                    400,
                    "change_id: expected a Route 53 change id such as /change/C2682N5HXP0BZ4",
                ));
            }
            ask.execution_mode = "set".into();
            let proof = Box::new(set_ask(ask)?);
            Ok(Ask::Status { change_id, proof })
        }
        "set" => set_ask(ask),
        other => Err(Refusal::json(
            400,
            format!(
                "execution_mode '{}': expected get, set or status",
                clip(other)
            ),
        )),
    }
}

/// A set's refusal when it brings no proof: on the `AWS_IAM` function
/// URL the signer's principal is one ([`iam_set`]).
const NEEDS_A_PROOF: &str = "set needs validation_hash (or a signature)";

/// A proofless `set` (or `status`) from a request Lambda verified as
/// signed by an AWS principal (`AWS_IAM` function URL): its host and
/// `ip` (and the change asked about).
fn iam_set(request: &HttpRequest) -> Option<Ask> {
    let caller = request.iam_caller.clone()?;
    let ask = JsonAsk::read(&request.body).ok()?;
    if ask.signature.is_some() || ask.validation_hash.is_some() {
        return None;
    }
    let host = ask.ddns_hostname.filter(|h| !h.is_empty())?;
    let ip = match ask.ip {
        None => None,
        Some(ip) => Some(address_to_set(&ip).ok()?),
    };
    let set = Ask::IamSet { host, ip, caller };
    match (ask.execution_mode.as_str(), ask.change_id) {
        ("set", _) => Some(set),
        ("status", Some(change_id)) if is_change_id(&change_id) => Some(Ask::Status {
            change_id,
            proof: Box::new(set),
        }),
        _ => None,
    }
}

/// Whether `text` is a Route 53 change id: `/change/` (optional) and 1 to
/// 32 capital letters and digits.
pub(super) fn is_change_id(text: &str) -> bool {
    let id = text.strip_prefix("/change/").unwrap_or(text);
    !id.is_empty()
        && id.len() <= 32
        && id
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// A set's host and proof, as a `LegacySet` or a `SignedSet`.
fn set_ask(ask: JsonAsk) -> Result<Ask, Refusal> {
    match ask.execution_mode.as_str() {
        "set" => {
            let host = ask
                .ddns_hostname
                .filter(|h| !h.is_empty())
                .ok_or_else(|| Refusal::json(400, "set needs ddns_hostname"))?;
            if let Some(signature) = ask.signature {
                let (Some(timestamp), Some(nonce)) = (ask.timestamp, ask.nonce) else {
                    return Err(Refusal::json(400, "a signed set needs timestamp and nonce"));
                };
                if nonce.is_empty() || nonce.len() > 128 {
                    return Err(Refusal::json(400, "nonce: expected 1 to 128 characters"));
                }
                let ip = match ask.ip {
                    None => None,
                    Some(ip) => Some(
                        address_to_set(&ip)
                            .map_err(|why| Refusal::json(400, format!("ip {why}")))?,
                    ),
                };
                return Ok(Ask::SignedSet {
                    host,
                    ip,
                    timestamp,
                    nonce,
                    signature,
                });
            }
            let hash = ask
                .validation_hash
                .ok_or_else(|| Refusal::json(400, NEEDS_A_PROOF))?;
            if !auth::is_sha256_hex(&hash) {
                return Err(Refusal::json(
                    400,
                    "validation_hash: expected 64 hex digits (SHA-256 of IP + host + secret)",
                ));
            }
            Ok(Ask::LegacySet { host, hash })
        }
        other => Err(Refusal::json(
            400,
            format!(
                "execution_mode '{}': expected get, set or status",
                clip(other)
            ),
        )),
    }
}

/// The query's pairs, decoded as a URL form (`%XX`, and `+` as a space) by
/// `form_urlencoded`. That decoder is lenient where the endpoint is strict:
/// it passes a `%` without two hex digits through and turns bytes that are
/// not UTF-8 into U+FFFD. So the query is refused (`None`) for either: an
/// escape is checked before decoding, and a decoded U+FFFD is taken for
/// bytes that were not UTF-8 (no host name or address holds one).
pub(super) fn query_pairs(query: &str) -> Option<Vec<(String, String)>> {
    let bytes = query.as_bytes();
    let escapes_ok = bytes.iter().enumerate().all(|(i, &b)| {
        b != b'%'
            || bytes
                .get(i + 1..i + 3)
                .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    });
    if !escapes_ok {
        return None;
    }
    form_urlencoded::parse(bytes)
        .map(|(key, value)| {
            let utf8 = !key.contains('\u{FFFD}') && !value.contains('\u{FFFD}');
            utf8.then(|| (key.into_owned(), value.into_owned()))
        })
        .collect()
}

fn dyndns2(request: &HttpRequest) -> Result<Ask, Refusal> {
    let Some(auth::BasicCredentials { login, password }) = request
        .headers
        .get("authorization")
        .and_then(|h| auth::basic_credentials(h))
    else {
        return Err(Refusal::dyndns2(401, "badauth"));
    };
    let mut hostname = None;
    let mut myip = None;
    let pairs = query_pairs(&request.query)
        .ok_or_else(|| Refusal::dyndns2(400, "notfqdn (the query is not valid URL encoding)"))?;
    for (key, value) in pairs {
        match key.as_str() {
            "hostname" => hostname = Some(value),
            "myip" if !value.is_empty() => myip = Some(value),
            _ => {}
        }
    }
    let hosts: Vec<String> = hostname
        .unwrap_or_default()
        .split(',')
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .collect();
    if hosts.is_empty() {
        return Err(Refusal::dyndns2(200, "notfqdn"));
    }
    if hosts.len() > MAX_HOSTS {
        return Err(Refusal::dyndns2(200, "numhost"));
    }
    let myip = match myip {
        None => None,
        Some(ip) => Some(
            address_to_set(&ip)
                .map_err(|why| Refusal::dyndns2(400, format!("badagent (myip {why})")))?,
        ),
    };
    Ok(Ask::Dyndns2 {
        hosts,
        myip,
        login,
        password,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;
    use serde_json::json;

    #[rstest]
    #[case("203.0.113.7", Ok("203.0.113.7"))]
    #[case(" 2001:db8::7 ", Ok("2001:db8::7"))]
    #[case("0.0.0.0", Err("unspecified"))]
    #[case("::", Err("unspecified"))]
    #[case("224.0.0.1", Err("multicast"))]
    #[case("ff02::1", Err("multicast"))]
    #[case("255.255.255.255", Err("broadcast"))]
    #[case("::ffff:203.0.113.7", Err("send the IPv4 address itself"))]
    #[case("203.0.113", Err("is not an IP address"))]
    fn addresses_a_client_may_ask_for(#[case] text: &str, #[case] want: Result<&str, &str>) {
        match (address_to_set(text), want) {
            (Ok(ip), Ok(w)) => assert_eq!(ip.to_string(), w),
            (Err(why), Err(w)) => assert!(why.contains(w), "{why}"),
            (got, want) => panic!("{text}: got {got:?}, want {want:?}"),
        }
    }

    /// A function URL request as Lambda delivers it.
    fn url_request(method: &str, path: &str, query: &str, body: Option<&str>) -> Value {
        json!({
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": path,
            "rawQueryString": query,
            "headers": {"host": "abc.lambda-url.us-east-1.on.aws", "user-agent": "curl/8.5.0"},
            "requestContext": {
                "accountId": "anonymous",
                "apiId": "abc",
                "domainName": "abc.lambda-url.us-east-1.on.aws",
                "domainPrefix": "abc",
                "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7", "userAgent": "curl/8.5.0"},
                "requestId": "r-1",
                "routeKey": "$default",
                "stage": "$default",
                "time": "21/Nov/2026:10:00:00 +0000",
                "timeEpoch": 1_795_255_200_000_i64
            },
            "body": body,
            "isBase64Encoded": false
        })
    }

    fn ask(value: Value) -> Result<Ask, Refusal> {
        parse(&HttpRequest::from_function_url(value)?)
    }

    fn basic(login: &str, password: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{login}:{password}"))
        )
    }

    #[test]
    fn the_shape_tells_a_url_request_from_an_event() {
        assert!(is_function_url(&url_request("GET", "/", "", None)));
        assert!(!is_function_url(&crate::event::scheduled_json(
            "s",
            None,
            "us-east-1"
        )));
        assert!(!is_function_url(
            &json!({"requestContext": {"http": {"method": 7}}})
        ));
    }

    /// An ask as text to compare (`Ask` has no `PartialEq`): its `Debug`,
    /// and a dyndns2 password exposed, as `Debug` redacts it.
    fn plain(ask: Result<Ask, Refusal>) -> Result<String, Refusal> {
        use secrecy::ExposeSecret;
        ask.map(|ask| match &ask {
            Ask::Dyndns2 { password, .. } => {
                format!("{ask:?} password={}", password.expose_secret())
            }
            _ => format!("{ask:?}"),
        })
    }

    #[test]
    fn the_json_protocols_read_get_legacy_and_signed_sets() {
        assert_eq!(
            plain(ask(url_request(
                "POST",
                "/",
                "",
                Some(r#"{"execution_mode":"get"}"#)
            ))),
            plain(Ok(Ask::Get))
        );
        let hash = "ab".repeat(32);
        let body = format!(
            r#"{{"execution_mode":"set","ddns_hostname":"host1.dyn.example.com","validation_hash":"{hash}"}}"#
        );
        assert_eq!(
            plain(ask(url_request("POST", "/", "", Some(&body)))),
            plain(Ok(Ask::LegacySet {
                host: "host1.dyn.example.com".into(),
                hash
            }))
        );
        let body = r#"{"execution_mode":"set","ddns_hostname":"h.dyn.example","timestamp":1700000000,"nonce":"n1","signature":"00","ip":"2001:db8::1"}"#;
        assert_eq!(
            plain(ask(url_request("POST", "/", "", Some(body)))),
            plain(Ok(Ask::SignedSet {
                host: "h.dyn.example".into(),
                ip: Some("2001:db8::1".parse().unwrap()),
                timestamp: 1_700_000_000,
                nonce: "n1".into(),
                signature: "00".into()
            }))
        );
    }

    #[test]
    fn dyndns2_reads_hosts_myip_and_basic_auth_behind_any_prefix() {
        let mut request = url_request(
            "GET",
            "/lambda-url/ddns/nic/update",
            "hostname=home.dyn.example%2Cnas.dyn.example&myip=198.51.100.4",
            None,
        );
        request["headers"]["authorization"] = json!(basic("home.dyn.example", "s3cret"));
        let read = HttpRequest::from_function_url(request).unwrap();
        assert!(
            !format!("{read:?}").contains(&basic("home.dyn.example", "s3cret")[6..]),
            "Debug hides the Basic credentials: {read:?}"
        );
        let asked = parse(&read);
        assert!(
            !format!("{asked:?}").contains("s3cret"),
            "Debug hides the password"
        );
        assert_eq!(
            plain(asked),
            plain(Ok(Ask::Dyndns2 {
                hosts: vec!["home.dyn.example".into(), "nas.dyn.example".into()],
                myip: Some("198.51.100.4".parse().unwrap()),
                login: "home.dyn.example".into(),
                password: "s3cret".into()
            }))
        );
    }

    fn with(mut value: Value, edit: impl FnOnce(&mut Value)) -> Value {
        edit(&mut value);
        value
    }

    fn authorized(path: &str, query: &str) -> Value {
        with(url_request("GET", path, query, None), |r| {
            r["headers"]["authorization"] = json!(basic("h", "p"))
        })
    }

    #[rstest]
    #[case::not_json(
        url_request("POST", "/", "", Some("{nope")),
        400,
        "the body is not JSON; expected {\"execution_mode\":\"get\"}"
    )]
    #[case::not_an_object(
        url_request("POST", "/", "", Some("7")),
        400,
        "the body is not a JSON object"
    )]
    #[case::no_mode(
        url_request("POST", "/", "", Some("{}")),
        400,
        "execution_mode is missing"
    )]
    #[case::mode_a_number(
        url_request("POST", "/", "", Some(r#"{"execution_mode":7}"#)),
        400,
        "execution_mode: expected a string"
    )]
    #[case::timestamp_text(url_request("POST", "/", "", Some(r#"{"execution_mode":"set","ddns_hostname":"h","timestamp":"now","nonce":"n","signature":"00"}"#)), 400, "timestamp: expected Unix seconds")]
    #[case::unknown_mode(
        url_request("POST", "/", "", Some(r#"{"execution_mode":"delete"}"#)),
        400,
        "execution_mode 'delete'"
    )]
    #[case::set_without_host(
        url_request(
            "POST",
            "/",
            "",
            Some(r#"{"execution_mode":"set","validation_hash":"00"}"#)
        ),
        400,
        "needs ddns_hostname"
    )]
    #[case::short_hash(
        url_request(
            "POST",
            "/",
            "",
            Some(r#"{"execution_mode":"set","ddns_hostname":"h","validation_hash":"abc"}"#)
        ),
        400,
        "64 hex digits"
    )]
    #[case::signed_without_nonce(
        url_request(
            "POST",
            "/",
            "",
            Some(r#"{"execution_mode":"set","ddns_hostname":"h","timestamp":1,"signature":"00"}"#)
        ),
        400,
        "timestamp and nonce"
    )]
    #[case::signed_bad_ip(url_request("POST", "/", "", Some(r#"{"execution_mode":"set","ddns_hostname":"h","timestamp":1,"nonce":"n","signature":"00","ip":"999.1.1.1"}"#)), 400, "not an IP address")]
    #[case::huge_body(url_request("POST", "/", "", Some(&"x".repeat(MAX_BODY_BYTES + 1))), 413, "over 8192 bytes")]
    #[case::base64_garbage(with(url_request("POST", "/", "", Some("%%%")), |r| r["isBase64Encoded"] = json!(true)), 400, "not base64")]
    #[case::bad_source(with(url_request("GET", "/nic/update", "", None), |r| r["requestContext"]["http"]["sourceIp"] = json!("nowhere")), 400, "sourceIp 'nowhere'")]
    #[case::not_payload_2(json!({"requestContext": {"http": {"method": "GET"}}}), 400, "not a function URL request")]
    #[case::delete_method(url_request("DELETE", "/", "", None), 405, "method DELETE")]
    #[case::get_elsewhere(url_request("GET", "/admin", "", None), 405, "GET /admin")]
    #[case::no_auth(url_request("GET", "/nic/update", "hostname=h", None), 401, "badauth")]
    #[case::bearer_auth(with(url_request("GET", "/nic/update", "hostname=h", None), |r| r["headers"]["authorization"] = json!("Bearer x")), 401, "badauth")]
    #[case::no_hostname(authorized("/nic/update", "myip=1.2.3.4"), 200, "notfqdn")]
    #[case::too_many_hosts(authorized("/nic/update", &format!("hostname={}", vec!["h.example"; MAX_HOSTS + 1].join(","))), 200, "numhost")]
    #[case::bad_myip(
        authorized("/nic/update", "hostname=h&myip=1.2.3"),
        400,
        "myip '1.2.3'"
    )]
    #[case::bad_escape(
        authorized("/nic/update", "hostname=%zz"),
        400,
        "not valid URL encoding"
    )]
    #[case::truncated_escape(
        authorized("/nic/update", "hostname=h.example%2"),
        400,
        "not valid URL encoding"
    )]
    #[case::lone_percent(
        authorized("/nic/update", "hostname=h.example&myip=%"),
        400,
        "not valid URL encoding"
    )]
    #[case::bad_escape_in_a_key(
        authorized("/nic/update", "hostname=h.example&x%g1=1"),
        400,
        "not valid URL encoding"
    )]
    #[case::not_utf8(
        authorized("/nic/update", "hostname=%ff%fe.example"),
        400,
        "not valid URL encoding"
    )]
    #[case::overlong_utf8(
        authorized("/nic/update", "hostname=%c0%ae.example"),
        400,
        "not valid URL encoding"
    )]
    #[case::escaped_plus_is_a_plus(
        authorized("/nic/update", "hostname=h&myip=198.51.100.4%2B"),
        400,
        "myip '198.51.100.4+'"
    )]
    #[case::very_long_myip(authorized("/nic/update", &format!("hostname=h&myip={}", "9".repeat(100_000))), 400, "is not an IP address")]
    fn bad_requests_are_refused_with_a_4xx_and_a_reason(
        #[case] value: Value,
        #[case] status: u16,
        #[case] needle: &str,
    ) {
        let refusal = ask(value).expect_err("refused");
        assert_eq!(refusal.status, status, "{refusal:?}");
        assert!(refusal.status < 500);
        assert!(
            refusal.reason.contains(needle),
            "{refusal:?} lacks {needle}"
        );
        if needle.contains("myip") || needle.contains("URL encoding") {
            assert!(refusal.reason.len() < 200, "clipped: {refusal:?}");
        }
    }

    /// The host names and `myip` a dyndns2 query decodes to.
    fn dyndns2_query(query: &str) -> (Vec<String>, Option<IpAddr>) {
        match ask(authorized("/nic/update", query)) {
            Ok(Ask::Dyndns2 { hosts, myip, .. }) => (hosts, myip),
            other => panic!("{query}: {other:?}"),
        }
    }

    #[rstest]
    #[case::plain("hostname=h.example", &["h.example"], None)]
    #[case::escaped_comma("hostname=a.example%2Cb.example", &["a.example", "b.example"], None)]
    #[case::plus_is_a_space("hostname=a.example+,+b.example&myip=+198.51.100.4+", &["a.example", "b.example"], Some("198.51.100.4"))]
    #[case::plus_inside_a_name("hostname=a+b.example", &["a b.example"], None)]
    #[case::escaped_letters_and_upper_case_hex("hostname=%68.ex%61mple&myip=2001%3Adb8%3a%3A7", &["h.example"], Some("2001:db8::7"))]
    #[case::utf8_kept_for_the_name_check("hostname=%E2%9C%93.example", &["\u{2713}.example"], None)]
    #[case::empty_pairs_and_unknown_keys("&&hostname=h.example&&wildcard=NOCHG&myip=", &["h.example"], None)]
    #[case::the_last_hostname_wins("hostname=a.example&hostname=b.example", &["b.example"], None)]
    fn dyndns2_queries_are_url_form_decoded(
        #[case] query: &str,
        #[case] hosts: &[&str],
        #[case] myip: Option<&str>,
    ) {
        let (got_hosts, got_myip) = dyndns2_query(query);
        assert_eq!(got_hosts, hosts, "{query}");
        assert_eq!(got_myip, myip.map(|ip| ip.parse().unwrap()), "{query}");
    }

    #[test]
    fn a_very_long_hostname_is_read_whole_for_the_name_check_to_refuse() {
        let long = "a".repeat(100_000);
        let (hosts, _) = dyndns2_query(&format!("hostname={long}"));
        assert_eq!(hosts, [long]);
    }

    #[test]
    fn a_base64_body_is_decoded_and_the_method_is_case_blind() {
        let body = base64::engine::general_purpose::STANDARD.encode(r#"{"execution_mode":"get"}"#);
        let request = with(url_request("post", "/", "", Some(&body)), |r| {
            r["isBase64Encoded"] = json!(true)
        });
        assert_eq!(plain(ask(request)), plain(Ok(Ask::Get)));
    }
}
