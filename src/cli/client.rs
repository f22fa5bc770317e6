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
/// certificates are read once) for every request made to it; with a
/// signer, every request is signed with AWS credentials (the endpoint's
/// `AWS_IAM` function URL).
pub struct Endpoint {
    url: String,
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    signer: Option<Signer>,
}

/// AWS credentials and the region to sign requests for (SigV4, service
/// `lambda`, as a function URL with `AuthType: AWS_IAM` checks them).
pub struct Signer {
    pub credentials: aws_credential_types::Credentials,
    pub region: String,
}

impl Signer {
    /// The credentials of the environment (the SDK's default chain:
    /// variables, profile, SSO, instance or container role) and the
    /// region: the function URL's (`ID.lambda-url.REGION.on.aws`), else
    /// `region`, else the environment's.
    pub async fn from_environment(url: &str, region: Option<&str>) -> Result<Signer> {
        use aws_credential_types::provider::ProvideCredentials;
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .load()
            .await;
        let provider = config.credentials_provider().ok_or_else(|| {
            failed(
                url,
                "--iam: no AWS credentials in this environment (variables, profile, SSO or a role)",
            )
        })?;
        let credentials = provider.provide_credentials().await.map_err(|e| {
            failed(
                url,
                format!("--iam: the AWS credentials could not be read: {e}"),
            )
        })?;
        let region = url_region(url)
            .or(region.map(str::to_string))
            .or(config.region().map(|r| r.to_string()))
            .ok_or_else(|| failed(url, "--iam: no region: give --region, or AWS_REGION"))?;
        Ok(Signer {
            credentials,
            region,
        })
    }

    /// Signs `request` (its method, URL, headers and `body`) in place.
    pub fn sign(&self, request: &mut http::Request<Full<Bytes>>, body: &[u8]) -> Result<()> {
        use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
        let url = request.uri().to_string();
        let identity = self.credentials.clone().into();
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name("lambda")
            .time(std::time::SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| failed(&url, format!("--iam: cannot sign: {e}")))?
            .into();
        let headers: Vec<(String, String)> = request
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect();
        let signable = SignableRequest::new(
            request.method().as_str(),
            &url,
            headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            SignableBody::Bytes(body),
        )
        .map_err(|e| failed(&url, format!("--iam: cannot sign: {e}")))?;
        let (instructions, _) = sign(signable, &params)
            .map_err(|e| failed(&url, format!("--iam: cannot sign: {e}")))?
            .into_parts();
        instructions.apply_to_request_http1x(request);
        Ok(())
    }
}

/// The region of a function URL (`https://ID.lambda-url.REGION.on.aws/`).
fn url_region(url: &str) -> Option<String> {
    let host = url.split("://").nth(1)?.split(['/', ':']).next()?;
    let rest = host.split_once(".lambda-url.")?.1;
    let region = rest.strip_suffix(".on.aws")?;
    (!region.is_empty() && !region.contains('.')).then(|| region.to_string())
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
            signer: None,
        })
    }

    /// The same endpoint, every request signed by `signer`.
    pub fn signed_by(mut self, signer: Signer) -> Endpoint {
        self.signer = Some(signer);
        self
    }

    /// POSTs `body` as JSON and reads the endpoint's JSON answer.
    pub async fn post(&self, body: &Value) -> Result<Answer> {
        let url = self.url.as_str();
        let text = body.to_string();
        let mut request = http::Request::post(url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(
                http::header::USER_AGENT,
                concat!("ec2-ddns/", env!("CARGO_PKG_VERSION")),
            )
            .body(Full::new(Bytes::from(text.clone())))
            .map_err(|e| failed(url, format!("not a URL this client can use: {e}")))?;
        if let Some(signer) = &self.signer {
            signer.sign(&mut request, text.as_bytes())?;
        }
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

/// The `set` body of a request signed with AWS credentials: no proof in
/// it, the signature is the request's.
pub fn iam_set(host: &str, ip: IpAddr) -> Value {
    json!({
        "execution_mode": "set",
        "ddns_hostname": host,
        "ip": ip.to_string(),
    })
}

/// The `status` body of a request signed with AWS credentials.
pub fn iam_status(host: &str, ip: IpAddr, change_id: &str) -> Value {
    let mut body = iam_set(host, ip);
    body["execution_mode"] = json!("status");
    body["change_id"] = json!(change_id);
    body
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

    /// A request signed for the AWS_IAM function URL carries SigV4's
    /// headers for service `lambda` in the URL's region, and the session
    /// token; the region is read from the URL.
    #[test]
    fn an_iam_request_is_signed_for_lambda_in_the_urls_region() {
        let url = "https://abc123.lambda-url.eu-west-1.on.aws/";
        assert_eq!(url_region(url).as_deref(), Some("eu-west-1"));
        assert_eq!(url_region("http://127.0.0.1:9000/lambda-url/_/"), None);
        let signer = Signer {
            credentials: aws_credential_types::Credentials::new(
                "AKIDEXAMPLE",
                "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                Some("a-session-token".into()),
                None,
                "test",
            ),
            region: url_region(url).unwrap(),
        };
        let body = iam_set("home.example.com", "203.0.113.7".parse().unwrap()).to_string();
        let mut request = http::Request::post(url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body.clone())))
            .unwrap();
        signer.sign(&mut request, body.as_bytes()).unwrap();
        let header = |name: &str| {
            request
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        let authorization = header("authorization");
        assert!(
            authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
                && authorization.contains("/eu-west-1/lambda/aws4_request"),
            "{authorization}"
        );
        assert!(authorization.contains("SignedHeaders=") && authorization.contains("Signature="));
        assert_eq!(header("x-amz-security-token"), "a-session-token");
        assert!(!header("x-amz-date").is_empty());
        assert!(!body.contains("signature") && !body.contains("validation_hash"));
    }

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
