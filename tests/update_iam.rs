//! `ec2-ddns update --iam` as a client: the request it sends to the
//! endpoint's AWS_IAM function URL is signed with the environment's AWS
//! credentials (SigV4, service `lambda`, the session token included) and
//! carries no secret, hash or signature of ours. A one-shot HTTP server on
//! loopback stands in for the function URL (Lambda checks the signature
//! there; no emulator does, so the endpoint's side is tested with request
//! contexts as Lambda builds them: tests/ddns_endpoint.rs).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;

/// One request read off `listener`: its head lines and its body; then
/// `answer` (a JSON body) with `status`.
fn serve_one(listener: &TcpListener, status: &str, answer: &str) -> (Vec<String>, String) {
    let (stream, _) = listener.accept().unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut head = Vec::new();
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some(n) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = n.trim().parse().unwrap();
        }
        head.push(line.trim_end().to_string());
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
        answer.len()
    )
    .unwrap();
    (head, String::from_utf8(body).unwrap())
}

fn header(head: &[String], name: &str) -> String {
    head.iter()
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
        .unwrap_or_default()
}

/// `ec2-ddns update … --iam` with AWS credentials in the environment.
fn update_iam(port: u16, more: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_ec2-ddns"))
        .args([
            "update",
            "--url",
            &format!("http://127.0.0.1:{port}/"),
            "--host",
            "home.example.com",
            "--ip",
            "198.51.100.7",
            "--iam",
            "--region",
            "eu-west-1",
        ])
        .args(more)
        .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        .env(
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        )
        .env("AWS_SESSION_TOKEN", "a-session-token")
        .env_remove("AWS_PROFILE")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .expect("the binary runs")
}

const SET_ANSWER: &str = r#"{"return_status":"success","return_message":"home.example.com has been updated to 198.51.100.7","change_id":"/change/C1"}"#;

fn assert_signed(head: &[String]) {
    let authorization = header(head, "authorization");
    assert!(
        authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
            && authorization.contains("/eu-west-1/lambda/aws4_request"),
        "{head:?}"
    );
    assert_eq!(header(head, "x-amz-security-token"), "a-session-token");
}

#[test]
fn update_iam_sends_a_sigv4_signed_proofless_set() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || serve_one(&listener, "201 Created", SET_ANSWER));
    let out = update_iam(port, &[]);
    let (head, body) = server.join().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "home.example.com updated: 198.51.100.7\n"
    );
    assert_signed(&head);
    let sent: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        sent,
        serde_json::json!({"execution_mode": "set", "ddns_hostname": "home.example.com", "ip": "198.51.100.7"})
    );
}

/// `--iam --wait`: the status ask is signed the same way, with the change
/// id the set answered, and no secret of ours.
#[test]
fn update_iam_wait_asks_the_status_signed_too() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let set = serve_one(&listener, "201 Created", SET_ANSWER);
        let status = serve_one(
            &listener,
            "200 OK",
            r#"{"return_status":"success","return_message":"INSYNC","change_id":"/change/C1","change_status":"INSYNC"}"#,
        );
        (set, status)
    });
    let out = update_iam(port, &["--wait", "--wait-interval", "1"]);
    let (_, (head, body)) = server.join().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("home.example.com in sync after"), "{said}");
    assert_signed(&head);
    let sent: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        sent,
        serde_json::json!({"execution_mode": "status", "ddns_hostname": "home.example.com", "ip": "198.51.100.7", "change_id": "/change/C1"})
    );
}
