//! The DDNS endpoint end to end: the real `bootstrap` behind cargo-lambda's
//! Runtime API and function URL emulation, the strict moto behind it, hosts
//! managed by the real `ec2-ddns hosts`, and real clients: `curl` speaking
//! the route53-dynamic-dns-with-lambda protocol as its `dyndns.sh` does,
//! `ec2-ddns update` (signed), and Debian's `ddclient` (dyndns2).

mod common;

use common::runtime::{event_for, which, Function};
use std::path::Path;
use std::process::{Command, Output};

const HOST: &str = "home.corp.example";

fn cli(moto: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ec2-ddns"))
        .args(args)
        .args(["--endpoint-url", moto, "--region", "us-east-1"])
        .env("DDNS_TABLE", "DDNS")
        .output()
        .expect("run ec2-ddns")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

/// `hosts add`: the secret alone on stdout.
fn add_host(moto: &str, host: &str, extra: &[&str]) -> String {
    let mut args = vec!["hosts", "add", host, "--zone", "corp.example"];
    args.extend_from_slice(extra);
    let out = cli(moto, &args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "only the secret on stdout: {stdout:?}");
    assert_eq!(lines[0].len(), 43, "{stdout:?}");
    lines[0].to_string()
}

/// The hosts as `hosts list --json` gives them.
fn list(moto: &str) -> Vec<serde_json::Value> {
    let out = cli(moto, &["hosts", "list", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice::<Vec<serde_json::Value>>(&out.stdout).expect("a JSON array")
}

fn bash(script: &str, vars: &[(&str, &str)]) -> Output {
    let mut command = Command::new("bash");
    command.arg("-c").arg(script);
    for (k, v) in vars {
        command.env(k, v);
    }
    command.output().expect("run bash")
}

fn seeded(moto: &str) -> serde_json::Value {
    common::seed_moto(moto, &common::repo("fixtures/worlds/split-horizon.json"))
}

#[test]
#[ignore = "needs the emulator, cargo-lambda and curl: run through scripts/test"]
fn json_clients_and_the_update_command_through_the_function_url() {
    let moto = common::moto_endpoint();
    let _one_at_a_time = common::MOTO_LOCK.blocking_lock();
    let ids = seeded(&moto);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();

    // Names a host may not have are refused at `hosts add`, exit status 2.
    for bad in ["corp.example", "*.corp.example", "x.elsewhere.example"] {
        let out = cli(&moto, &["hosts", "add", bad, "--zone", "corp.example"]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert!(out.stdout.is_empty(), "nothing on stdout for {bad}");
        assert!(
            text(&out.stderr).contains("cannot be a DDNS host"),
            "{}",
            text(&out.stderr)
        );
    }
    let secret = add_host(&moto, HOST, &[]);
    let function = Function::start(&moto, dir, &[]);
    let url = function.url();
    let vars = [
        ("URL", url.as_str()),
        ("HOST", HOST),
        ("SECRET", secret.as_str()),
    ];

    // As dyndns.sh does: the address out of `get` with egrep, the hash
    // with sha256sum, the set with curl.
    let out = bash(
        r#"set -euo pipefail
ip=$(curl -sS -X POST -H 'Content-Type: application/json' -d '{"execution_mode":"get"}' "$URL" | egrep -o '[0-9\.]+')
hash=$(printf '%s' "$ip$HOST$SECRET" | sha256sum | cut -d' ' -f1)
echo "ip=$ip"
for i in 1 2; do
  curl -sS -w ' %{http_code}\n' -X POST -H 'Content-Type: application/json' \
    -d "{\"execution_mode\":\"set\",\"ddns_hostname\":\"$HOST\",\"validation_hash\":\"$hash\"}" "$URL"
done
curl -sS -w ' %{http_code}\n' -X POST -d "{\"execution_mode\":\"set\",\"ddns_hostname\":\"$HOST\",\"validation_hash\":\"$(printf '%064d' 0)\"}" "$URL"
curl -sS -w ' %{http_code}\n' -X POST -d 'not json' "$URL"
curl -sS -w ' %{http_code}\n' -X DELETE "$URL"
curl -sS -w ' %{http_code}\n' -u "$HOST:$SECRET" "${URL}nic/update?hostname=$HOST&myip=1.2.3"
curl -sS -o /dev/null -D - "$URL" | tr -d '\r' | grep -i -E '^(content-security-policy|x-frame-options|referrer-policy):' | sort
"#,
        &vars,
    );
    let stdout = text(&out.stdout);
    eprintln!("curl:\n{stdout}{}", text(&out.stderr));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "ip=127.0.0.1", "{stdout}");
    assert!(
        lines[1].ends_with(" 201") && lines[1].contains("127.0.0.1"),
        "{stdout}"
    );
    assert!(
        lines[2].ends_with(" 200") && lines[2].contains("matches the current Route53 DNS record"),
        "{stdout}"
    );
    assert!(lines[3].ends_with(" 401"), "{stdout}");
    assert!(lines[4].ends_with(" 400"), "{stdout}");
    assert!(
        lines[4].contains("the body is not JSON") && !lines[4].contains("struct"),
        "the protocol's words, never serde's types: {stdout}"
    );
    assert!(lines[5].ends_with(" 405"), "{stdout}");
    // dyndns2's answer is a line of its own; curl's code follows it.
    assert_eq!(
        (lines[6], lines[7]),
        ("badagent (myip '1.2.3' is not an IP address)", " 400"),
        "a bad myip: {stdout}"
    );
    // The host owners' page, through the function URL: its headers.
    assert!(
        lines[8]
            .to_ascii_lowercase()
            .starts_with("content-security-policy: default-src 'none'"),
        "{stdout}"
    );
    assert_eq!(
        lines[9].to_ascii_lowercase(),
        "referrer-policy: no-referrer",
        "{stdout}"
    );
    assert_eq!(
        lines[10].to_ascii_lowercase(),
        "x-frame-options: deny",
        "{stdout}"
    );

    // The signed client.
    let secret_file = dir.join("secret");
    std::fs::write(&secret_file, format!("{secret}\n")).unwrap();
    let update = |ip: &str, file: &Path| {
        Command::new(env!("CARGO_BIN_EXE_ec2-ddns"))
            .args(["update", "--url", &url, "--host", HOST, "--secret-file"])
            .arg(file)
            .args(["--ip", ip])
            .output()
            .unwrap()
    };
    let out = update("198.51.100.30", &secret_file);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "home.corp.example updated: 198.51.100.30\n"
    );
    let out = update("198.51.100.30", &secret_file);
    assert_eq!(
        text(&out.stdout),
        "home.corp.example unchanged: 198.51.100.30\n"
    );
    let wrong = dir.join("wrong");
    std::fs::write(&wrong, "not-the-secret").unwrap();
    let out = update("198.51.100.31", &wrong);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("HTTP 401"),
        "{}",
        text(&out.stderr)
    );
    // --wait: the change reads PENDING twice (the launcher's MOTO GAP 8),
    // then INSYNC; the client says how long it took.
    common::faults::launcher_control(
        "POST",
        "/_ec2ddns/route53-changes",
        r#"{"pending_reads": 2}"#,
    );
    let out = Command::new(env!("CARGO_BIN_EXE_ec2-ddns"))
        .args(["update", "--url", &url, "--host", HOST, "--secret-file"])
        .arg(&secret_file)
        .args(["--ip", "198.51.100.32", "--wait", "--wait-interval", "1"])
        .output()
        .unwrap();
    common::faults::launcher_control(
        "POST",
        "/_ec2ddns/route53-changes",
        r#"{"pending_reads": 0}"#,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(
        said.starts_with(
            "home.corp.example updated: 198.51.100.32\nhome.corp.example in sync after "
        ),
        "{said}"
    );
    // Without --ip it asks `get` first.
    let out = Command::new(env!("CARGO_BIN_EXE_ec2-ddns"))
        .args(["update", "--url", &url, "--host", HOST, "--secret-file"])
        .arg(&secret_file)
        .output()
        .unwrap();
    assert_eq!(
        text(&out.stdout),
        "home.corp.example updated: 127.0.0.1\n",
        "{}",
        text(&out.stderr)
    );

    let hosts = list(&moto);
    assert_eq!(hosts.len(), 1, "{hosts:?}");
    assert_eq!(hosts[0]["host"], "home.corp.example.");
    assert_eq!(hosts[0]["type"], "A");
    assert_eq!(hosts[0]["value"], "127.0.0.1");
    assert_eq!(hosts[0]["owned"], true);
    assert!(!serde_json::to_string(&hosts).unwrap().contains(&secret));

    // A name an EC2 instance holds: refused, and left as it is.
    let web1 = ids["instances"]["i-0web1"].as_str().unwrap();
    let running = function.invoke(&event_for(
        "fixtures/events/web-1-running.json",
        "i-0web1",
        web1,
        dir,
    ));
    assert_eq!(running["outcome"], "applied", "{running}");
    let taken = "ip-10-1-2-4.corp.example";
    let taken_secret = add_host(&moto, taken, &[]);
    let out = bash(
        r#"hash=$(printf '%s' "127.0.0.1$HOST$SECRET" | sha256sum | cut -d' ' -f1)
curl -sS -w ' %{http_code}' -X POST -d "{\"execution_mode\":\"set\",\"ddns_hostname\":\"$HOST\",\"validation_hash\":\"$hash\"}" "$URL""#,
        &[("URL", &url), ("HOST", taken), ("SECRET", &taken_secret)],
    );
    let answer = text(&out.stdout);
    assert!(answer.ends_with(" 403"), "{answer}");
    assert!(answer.contains("refused"), "{answer}");
    let hosts = list(&moto);
    let taken_line = hosts
        .iter()
        .find(|h| h["host"] == "ip-10-1-2-4.corp.example.")
        .unwrap();
    let web1_public = running["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            c["name"] == "ip-10-1-2-4.corp.example." && c["zone_id"] == ids["zones"]["Z0CORPPUBLIC"]
        })
        .map(|c| c["values"][0].clone())
        .expect("web-1's public A");
    assert_eq!(taken_line["value"], web1_public, "{hosts:?}");
    assert_eq!(taken_line["owned"], false, "{hosts:?}");
    assert_eq!(taken_line["last_update"], "-", "refused: never updated");

    // Removal deletes exactly what the host owns.
    let out = cli(&moto, &["hosts", "remove", HOST]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("delete home.corp.example. A 60 127.0.0.1 in corp.example."),
        "{}",
        text(&out.stdout)
    );
    let out = cli(&moto, &["hosts", "remove", taken]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(list(&moto).is_empty());
    let out = cli(&moto, &["hosts", "remove", HOST]);
    assert_eq!(out.status.code(), Some(2), "no such host any more");
}

#[test]
#[ignore = "needs the emulator, cargo-lambda and Debian's ddclient: scripts/test runs it when ddclient is installed"]
fn ddclient_updates_a_host_through_the_function_url() {
    let moto = common::moto_endpoint();
    let ddclient = which("ddclient")
        .or_else(|| Some("/usr/sbin/ddclient".into()).filter(|p: &std::path::PathBuf| p.exists()))
        .expect("ddclient is not installed: scripts/test installs it with apt-get when it may");
    let _one_at_a_time = common::MOTO_LOCK.blocking_lock();
    seeded(&moto);
    let secret = add_host(&moto, HOST, &["--login", "router"]);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let function = Function::start(&moto, dir, &[]);
    let run = |ip: &str, password: &str| {
        let conf = dir.join("ddclient.conf");
        std::fs::write(
            &conf,
            format!(
                "daemon=0\nsyslog=no\nssl=no\nuse=ip, ip={ip}\nprotocol=dyndns2\nserver=127.0.0.1:{}/lambda-url/_\nlogin=router\npassword='{password}'\n{HOST}\n",
                function.port
            ),
        )
        .unwrap();
        let mut perms = std::fs::metadata(&conf).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o600);
        std::fs::set_permissions(&conf, perms).unwrap();
        let out = Command::new(&ddclient)
            .args(["-daemon=0", "-foreground", "-verbose", "-force", "-file"])
            .arg(&conf)
            .arg("-cache")
            .arg(dir.join("ddclient.cache"))
            .output()
            .expect("run ddclient");
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        eprintln!("$ ddclient (ip {ip})\n{all}");
        all
    };
    let first = run("198.51.100.40", &secret);
    assert!(
        first.contains("SUCCESS") && first.contains("198.51.100.40"),
        "{first}"
    );
    let hosts = list(&moto);
    assert_eq!(hosts[0]["value"], "198.51.100.40", "{hosts:?}");
    let again = run("198.51.100.40", &secret);
    assert!(
        again.contains("nochg") || again.contains("SUCCESS"),
        "{again}"
    );
    let bad = run("198.51.100.41", "not-the-secret");
    assert!(bad.contains("FAILED") && bad.contains("badauth"), "{bad}");
    assert_eq!(list(&moto)[0]["value"], "198.51.100.40");
    let moved = run("198.51.100.42", &secret);
    assert!(moved.contains("SUCCESS"), "{moved}");
    assert_eq!(list(&moto)[0]["value"], "198.51.100.42");
}
