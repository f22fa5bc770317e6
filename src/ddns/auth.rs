//! The proofs the three DDNS protocols carry (`docs/ddns-endpoint` in the
//! spec): the route53-dynamic-dns-with-lambda hash, our HMAC signature, and
//! HTTP Basic credentials. Pure; every comparison of a proof is constant
//! time, and no secret is ever formatted into a message.

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// How far a signed update's timestamp may be from the server's clock.
pub const MAX_SKEW_SECONDS: i64 = 300;

/// Lower-case hex of `bytes`.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The route53-dynamic-dns-with-lambda proof: lower-case hex SHA-256 of
/// source IP + host name (as the client sent it, no trailing dot) + secret.
pub fn legacy_hash(source_ip: &str, host: &str, secret: &str) -> String {
    let mut digest = Sha256::new();
    digest.update(source_ip.as_bytes());
    digest.update(host.as_bytes());
    digest.update(secret.as_bytes());
    hex(&digest.finalize())
}

/// Whether `hash` (already checked to be 64 hex digits) proves the secret,
/// compared in constant time. Upper-case hex is accepted too.
pub fn legacy_hash_matches(hash: &str, source_ip: &str, host: &str, secret: &str) -> bool {
    let expected = legacy_hash(source_ip, host, secret);
    let given = hash.to_ascii_lowercase();
    given.as_bytes().ct_eq(expected.as_bytes()).into()
}

/// What a signed update signs: `HOST\nIP\nTIMESTAMP\nNONCE`.
fn signed_text(host: &str, ip: &str, timestamp: i64, nonce: &str) -> String {
    format!("{host}\n{ip}\n{timestamp}\n{nonce}")
}

fn mac(secret: &str) -> Hmac<Sha256> {
    // HMAC takes a key of any length; this cannot fail.
    <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"))
}

/// The signature of a signed update: hex HMAC-SHA256(secret, `HOST\nIP\nTIMESTAMP\nNONCE`).
pub fn signature(secret: &str, host: &str, ip: &str, timestamp: i64, nonce: &str) -> String {
    let mut mac = mac(secret);
    mac.update(signed_text(host, ip, timestamp, nonce).as_bytes());
    hex(&mac.finalize().into_bytes())
}

/// Whether `signature` (hex) is the HMAC of the update under `secret`,
/// verified in constant time. Malformed hex never matches.
pub fn signature_matches(
    signature: &str,
    secret: &str,
    host: &str,
    ip: &str,
    timestamp: i64,
    nonce: &str,
) -> bool {
    let Some(bytes) = unhex(signature) else {
        return false;
    };
    let mut mac = mac(secret);
    mac.update(signed_text(host, ip, timestamp, nonce).as_bytes());
    mac.verify_slice(&bytes).is_ok()
}

/// Whether a signed update's timestamp is within [`MAX_SKEW_SECONDS`] of `now`.
pub fn fresh(timestamp: i64, now: i64) -> bool {
    timestamp.abs_diff(now) <= MAX_SKEW_SECONDS.unsigned_abs()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

/// Whether `text` is exactly 64 hex digits (a SHA-256 in hex).
pub fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The login and password of an `Authorization: Basic …` header; `None`
/// for any other scheme, bad base64, text that is not UTF-8, or no colon.
pub fn basic_credentials(header: &str) -> Option<(String, String)> {
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (login, password) = text.split_once(':')?;
    Some((login.to_string(), password.to_string()))
}

/// Whether two secrets are equal, in constant time (lengths may differ).
pub fn secrets_equal(given: &str, stored: &str) -> bool {
    given.as_bytes().ct_eq(stored.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[test]
    fn the_legacy_hash_is_the_python_clients() {
        // printf '%s' '176.32.100.36host1.dyn.example.comSECRET' | sha256sum
        let hash = legacy_hash("176.32.100.36", "host1.dyn.example.com", "SECRET");
        assert_eq!(hash.len(), 64);
        assert!(legacy_hash_matches(
            &hash,
            "176.32.100.36",
            "host1.dyn.example.com",
            "SECRET"
        ));
        assert!(legacy_hash_matches(
            &hash.to_ascii_uppercase(),
            "176.32.100.36",
            "host1.dyn.example.com",
            "SECRET"
        ));
        assert!(!legacy_hash_matches(
            &hash,
            "176.32.100.37",
            "host1.dyn.example.com",
            "SECRET"
        ));
        assert!(!legacy_hash_matches(
            &hash,
            "176.32.100.36",
            "host1.dyn.example.com",
            "secret"
        ));
    }

    #[test]
    fn the_legacy_hash_matches_sha256sum() {
        // echo -n 'abc' | sha256sum
        let hash = legacy_hash("a", "b", "c");
        assert_eq!(
            hash,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn signatures_bind_every_field() {
        let sig = signature(
            "s3cret",
            "home.dyn.example",
            "203.0.113.7",
            1_700_000_000,
            "n-1",
        );
        assert!(signature_matches(
            &sig,
            "s3cret",
            "home.dyn.example",
            "203.0.113.7",
            1_700_000_000,
            "n-1"
        ));
        for (secret, host, ip, ts, nonce) in [
            (
                "other",
                "home.dyn.example",
                "203.0.113.7",
                1_700_000_000,
                "n-1",
            ),
            (
                "s3cret",
                "away.dyn.example",
                "203.0.113.7",
                1_700_000_000,
                "n-1",
            ),
            (
                "s3cret",
                "home.dyn.example",
                "203.0.113.8",
                1_700_000_000,
                "n-1",
            ),
            (
                "s3cret",
                "home.dyn.example",
                "203.0.113.7",
                1_700_000_001,
                "n-1",
            ),
            (
                "s3cret",
                "home.dyn.example",
                "203.0.113.7",
                1_700_000_000,
                "n-2",
            ),
        ] {
            assert!(
                !signature_matches(&sig, secret, host, ip, ts, nonce),
                "{host} {ip} {ts} {nonce}"
            );
        }
        assert!(!signature_matches(
            "zz",
            "s3cret",
            "home.dyn.example",
            "203.0.113.7",
            1_700_000_000,
            "n-1"
        ));
        assert!(!signature_matches(
            "abc",
            "s3cret",
            "home.dyn.example",
            "203.0.113.7",
            1_700_000_000,
            "n-1"
        ));
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let mut mac = mac("Jefe");
        mac.update(b"what do ya want for nothing?");
        assert_eq!(
            hex(&mac.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[rstest]
    #[case(1_000, 1_000, true)]
    #[case(1_300, 1_000, true)]
    #[case(700, 1_000, true)]
    #[case(1_301, 1_000, false)]
    #[case(699, 1_000, false)]
    #[case(i64::MIN, 1_000, false)]
    #[case(i64::MAX, 1_000, false)]
    fn timestamps_are_fresh_within_five_minutes(
        #[case] ts: i64,
        #[case] now: i64,
        #[case] ok: bool,
    ) {
        assert_eq!(fresh(ts, now), ok);
    }

    #[rstest]
    #[case("Basic aG9tZS5keW4uZXhhbXBsZTpzM2NyZXQ=", Some(("home.dyn.example", "s3cret")))]
    #[case("basic   aG9tZS5keW4uZXhhbXBsZTpzM2NyZXQ=", Some(("home.dyn.example", "s3cret")))]
    #[case("Basic dXNlcjpwYTpzcw==", Some(("user", "pa:ss")))]
    #[case("Bearer abc", None)]
    #[case("Basic !!!notbase64", None)]
    #[case("Basic bm9jb2xvbg==", None)]
    #[case("Basic /w==", None)]
    #[case("", None)]
    fn basic_credentials_are_read_or_refused(
        #[case] header: &str,
        #[case] want: Option<(&str, &str)>,
    ) {
        let got = basic_credentials(header);
        assert_eq!(
            got.as_ref().map(|(l, p)| (l.as_str(), p.as_str())),
            want,
            "{header}"
        );
    }

    #[test]
    fn hex_shapes() {
        assert!(is_sha256_hex(&"a".repeat(64)));
        assert!(!is_sha256_hex(&"a".repeat(63)));
        assert!(!is_sha256_hex(&"g".repeat(64)));
        assert!(secrets_equal("abc", "abc"));
        assert!(!secrets_equal("abc", "abcd"));
    }
}
