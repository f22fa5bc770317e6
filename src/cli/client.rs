//! The client side of the signed protocol (`ec2-ddns update`): ask the
//! endpoint for our address (`get`), then send a signed `set` that can't be
//! replayed: HMAC-SHA256 over host, address, timestamp and a fresh nonce.
//! Over HTTPS (the OS's root certificates) or plain HTTP (an emulator).

use crate::ddns::auth;
use crate::error::{Error, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use secrecy::SecretString;
use serde_json::{json, Value};
use std::net::IpAddr;
use std::time::Duration;

/// How long one request may take.
const TIMEOUT: Duration = Duration::from_secs(30);
/// Answers longer than this are cut (an endpoint answers a line or two).
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// What the endpoint answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    /// `return_status` is `success`.
    pub success: bool,
    pub message: String,
    /// A set's change id, when it changed the record.
    pub change_id: Option<String>,
    /// A status's answer: `PENDING` or `INSYNC`.
    pub change_status: Option<String>,
}

fn failed(url: &str, message: impl Into<String>) -> Error {
    Error::Host {
        host: url.to_string(),
        message: message.into(),
    }
}

/// The endpoint at one URL, with one HTTP client (the OS's root
/// certificates are read once) for every request made to it.
pub struct Endpoint {
    url: String,
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl Endpoint {
    pub fn new(url: &str) -> Result<Endpoint> {
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .map_err(|e| failed(url, format!("no root certificates for HTTPS: {e}")))?
            .https_or_http()
            .enable_http1()
            .build();
        Ok(Endpoint {
            url: url.to_string(),
            client: Client::builder(TokioExecutor::new()).build(connector),
        })
    }

    /// POSTs `body` as JSON and reads the endpoint's JSON answer.
    pub async fn post(&self, body: &Value) -> Result<Answer> {
        let url = self.url.as_str();
        let request = http::Request::post(url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(
                http::header::USER_AGENT,
                concat!("ec2-ddns/", env!("CARGO_PKG_VERSION")),
            )
            .body(Full::new(Bytes::from(body.to_string())))
            .map_err(|e| failed(url, format!("not a URL this client can use: {e}")))?;
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| failed(url, format!("the request failed: {e}")))?;
            let status = response.status().as_u16();
            let bytes = response
                .into_body()
                .collect()
                .await
                .map_err(|e| failed(url, format!("the answer broke off: {e}")))?
                .to_bytes();
            Ok::<_, Error>((status, bytes))
        };
        let (status, bytes) = tokio::time::timeout(TIMEOUT, exchange)
            .await
            .map_err(|_| failed(url, format!("no answer within {} s", TIMEOUT.as_secs())))??;
        let text = String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_ANSWER_BYTES)]).to_string();
        let value: Value = serde_json::from_str(&text).map_err(|_| {
            failed(
                url,
                format!(
                    "HTTP {status}, and the answer is not the endpoint's JSON: {}",
                    crate::names::clip(text.trim())
                ),
            )
        })?;
        Ok(Answer {
            status,
            success: value["return_status"] == "success",
            message: value["return_message"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            change_id: value["change_id"].as_str().map(str::to_string),
            change_status: value["change_status"].as_str().map(str::to_string),
        })
    }

    /// Our address as the endpoint sees it.
    pub async fn my_address(&self) -> Result<IpAddr> {
        let url = self.url.as_str();
        let answer = self.post(&json!({"execution_mode": "get"})).await?;
        if !answer.success {
            return Err(failed(
                url,
                format!("get answered HTTP {}: {}", answer.status, answer.message),
            ));
        }
        answer.message.trim().parse().map_err(|_| {
            failed(
                url,
                format!(
                    "get answered '{}', which is not an IP address",
                    crate::names::clip(&answer.message)
                ),
            )
        })
    }
}

/// The signed `set` body for `host` and `ip` at `timestamp` with `nonce`.
pub fn signed_set(
    secret: &SecretString,
    host: &str,
    ip: IpAddr,
    timestamp: i64,
    nonce: &str,
) -> Value {
    let ip = ip.to_string();
    json!({
        "execution_mode": "set",
        "ddns_hostname": host,
        "ip": ip,
        "timestamp": timestamp,
        "nonce": nonce,
        "signature": auth::signature(secret, host, &ip, timestamp, nonce),
    })
}

/// The signed `status` body: whether `change_id` (a set's answer gave
/// it) is in sync, asked with the same proof as a set of `ip`.
pub fn signed_status(
    secret: &SecretString,
    host: &str,
    ip: IpAddr,
    timestamp: i64,
    nonce: &str,
    change_id: &str,
) -> Value {
    let mut body = signed_set(secret, host, ip, timestamp, nonce);
    body["execution_mode"] = json!("status");
    body["change_id"] = json!(change_id);
    body
}

/// A nonce no one has used: 16 bytes from the OS, URL-safe base64.
pub fn new_nonce() -> Result<String> {
    crate::ddns::host::random_token::<16>("nonce")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_set_is_what_the_endpoint_checks() {
        let secret = SecretString::from("s3cret");
        let body = signed_set(
            &secret,
            "home.dyn.example",
            "203.0.113.7".parse().unwrap(),
            1_795_255_200,
            "n1",
        );
        assert_eq!(body["ip"], "203.0.113.7");
        let signature = body["signature"].as_str().unwrap();
        assert!(auth::signature_matches(
            signature,
            &secret,
            "home.dyn.example",
            "203.0.113.7",
            1_795_255_200,
            "n1"
        ));
        let a = new_nonce().unwrap();
        assert_eq!(a.len(), 22);
        assert_ne!(a, new_nonce().unwrap());
    }
}
