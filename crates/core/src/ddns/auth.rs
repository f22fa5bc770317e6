//! The proofs the three DDNS protocols carry (`docs/ddns-endpoint` in the
//! spec): the route53-dynamic-dns-with-lambda hash, our HMAC signature, and
//! HTTP Basic credentials. Pure; every comparison of a proof is constant
//! time, and no secret is ever formatted into a message: secrets come and
//! go as `SecretString`s, exposed here only as the hash's input and the
//! HMAC's key.

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// How far a signed update's timestamp may be from the server's clock.
pub const MAX_SKEW_SECONDS: i64 = 300;

/// SHA-256 of source IP + host name + secret.
fn legacy_digest(source_ip: &str, host: &str, secret: &SecretString) -> [u8; 32] {
    let mut digest = Sha256::new();
    digest.update(source_ip.as_bytes());
    digest.update(host.as_bytes());
    digest.update(secret.expose_secret().as_bytes());
    digest.finalize().into()
}

/// The route53-dynamic-dns-with-lambda proof: lower-case hex SHA-256 of
/// source IP + host name (as the client sent it, no trailing dot) + secret.
pub fn legacy_hash(source_ip: &str, host: &str, secret: &SecretString) -> String {
    hex::encode(legacy_digest(source_ip, host, secret))
}

/// Whether `hash` (64 hex digits, either case) proves the secret: its
/// bytes compared with the digest's in constant time. Malformed hex never
/// matches.
pub fn legacy_hash_matches(hash: &str, source_ip: &str, host: &str, secret: &SecretString) -> bool {
    let mut given = [0u8; 32];
    if hex::decode_to_slice(hash, &mut given).is_err() {
        return false;
    }
    given.ct_eq(&legacy_digest(source_ip, host, secret)).into()
}

/// What a signed update signs: `HOST\nIP\nTIMESTAMP\nNONCE`.
fn signed_text(host: &str, ip: &str, timestamp: i64, nonce: &str) -> String {
    format!("{host}\n{ip}\n{timestamp}\n{nonce}")
}

fn mac(secret: &SecretString) -> Hmac<Sha256> {
    // HMAC takes a key of any length; this cannot fail.
    <Hmac<Sha256> as KeyInit>::new_from_slice(secret.expose_secret().as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"))
}

/// The signature of a signed update: hex HMAC-SHA256(secret, `HOST\nIP\nTIMESTAMP\nNONCE`).
pub fn signature(
    secret: &SecretString,
    host: &str,
    ip: &str,
    timestamp: i64,
    nonce: &str,
) -> String {
    let mut mac = mac(secret);
    mac.update(signed_text(host, ip, timestamp, nonce).as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Whether `signature` (hex, either case) is the HMAC of the update under
/// `secret`, verified in constant time (`verify_slice`). Malformed hex
/// never matches.
pub fn signature_matches(
    signature: &str,
    secret: &SecretString,
    host: &str,
    ip: &str,
    timestamp: i64,
    nonce: &str,
) -> bool {
    let Ok(bytes) = hex::decode(signature) else {
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

/// Whether `text` is exactly 64 hex digits (a SHA-256 in hex).
pub fn is_sha256_hex(text: &str) -> bool {
    hex::decode_to_slice(text, &mut [0u8; 32]).is_ok()
}

/// The login and password of an `Authorization: Basic …` header; `None`
/// for any other scheme, bad base64, text that is not UTF-8, or no colon.
/// The password is the host's secret when it is right: kept as one.
pub fn basic_credentials(header: &str) -> Option<BasicCredentials> {
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (login, password) = text.split_once(':')?;
    Some(BasicCredentials {
        login: login.to_string(),
        password: password.into(),
    })
}

/// What an `Authorization: Basic …` header carries.
#[derive(Debug)]
pub struct BasicCredentials {
    pub login: String,
    pub password: SecretString,
}

/// Whether two secrets (or logins) are equal, in constant time (lengths
/// may differ).
pub fn secrets_equal(given: &str, stored: &str) -> bool {
    given.as_bytes().ct_eq(stored.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn secret(text: &str) -> SecretString {
        text.into()
    }

    #[test]
    fn the_legacy_hash_is_the_python_clients() {
        // printf '%s' '176.32.100.36host1.dyn.example.comSECRET' | sha256sum
        let hash = legacy_hash("176.32.100.36", "host1.dyn.example.com", &secret("SECRET"));
        assert_eq!(hash.len(), 64);
        assert!(legacy_hash_matches(
            &hash,
            "176.32.100.36",
            "host1.dyn.example.com",
            &secret("SECRET")
        ));
        assert!(legacy_hash_matches(
            &hash.to_ascii_uppercase(),
            "176.32.100.36",
            "host1.dyn.example.com",
            &secret("SECRET")
        ));
        assert!(!legacy_hash_matches(
            &hash,
            "176.32.100.37",
            "host1.dyn.example.com",
            &secret("SECRET")
        ));
        assert!(!legacy_hash_matches(
            &hash,
            "176.32.100.36",
            "host1.dyn.example.com",
            &secret("secret")
        ));
    }

    #[test]
    fn the_legacy_hash_matches_sha256sum() {
        // echo -n 'abc' | sha256sum
        let hash = legacy_hash("a", "b", &secret("c"));
        assert_eq!(
            hash,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn signatures_bind_every_field() {
        let sig = signature(
            &secret("s3cret"),
            "home.dyn.example",
            "203.0.113.7",
            1_700_000_000,
            "n-1",
        );
        assert!(signature_matches(
            &sig,
            &secret("s3cret"),
            "home.dyn.example",
            "203.0.113.7",
            1_700_000_000,
            "n-1"
        ));
        for (key, host, ip, ts, nonce) in [
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
                !signature_matches(&sig, &secret(key), host, ip, ts, nonce),
                "{host} {ip} {ts} {nonce}"
            );
        }
        assert!(!signature_matches(
            "zz",
            &secret("s3cret"),
            "home.dyn.example",
            "203.0.113.7",
            1_700_000_000,
            "n-1"
        ));
        assert!(!signature_matches(
            "abc",
            &secret("s3cret"),
            "home.dyn.example",
            "203.0.113.7",
            1_700_000_000,
            "n-1"
        ));
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let mut mac = mac(&secret("Jefe"));
        mac.update(b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac.finalize().into_bytes()),
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
            got.as_ref()
                .map(|c| (c.login.as_str(), c.password.expose_secret())),
            want,
            "{header}"
        );
        if let Some((_, password)) = want {
            assert!(!format!("{got:?}").contains(password), "Debug hides it");
        }
    }

    #[test]
    fn hex_shapes() {
        assert!(is_sha256_hex(&"a".repeat(64)));
        assert!(!is_sha256_hex(&"a".repeat(63)));
        assert!(!is_sha256_hex(&"g".repeat(64)));
        assert!(!is_sha256_hex(&"a".repeat(65)));
        assert!(is_sha256_hex(&"aB".repeat(32)), "either case");
        assert!(!is_sha256_hex(&"\u{e9}".repeat(32)), "64 bytes, not digits");
        assert!(!is_sha256_hex(""));
        // A hash that is not 64 hex digits never matches, even a prefix.
        let hash = legacy_hash("a", "b", &secret("c"));
        assert!(!legacy_hash_matches(&hash[..62], "a", "b", &secret("c")));
        assert!(!legacy_hash_matches(
            &format!("{hash}00"),
            "a",
            "b",
            &secret("c")
        ));
        assert!(!legacy_hash_matches(
            &hash.replace('a', "g"),
            "a",
            "b",
            &secret("c")
        ));
        // A signature in upper-case hex is the same signature.
        let sig = signature(&secret("s"), "h", "203.0.113.7", 1, "n");
        assert!(signature_matches(
            &sig.to_ascii_uppercase(),
            &secret("s"),
            "h",
            "203.0.113.7",
            1,
            "n"
        ));
        assert!(!signature_matches(
            &sig[..62],
            &secret("s"),
            "h",
            "203.0.113.7",
            1,
            "n"
        ));
        assert!(secrets_equal("abc", "abc"));
        assert!(!secrets_equal("abc", "abcd"));
    }
}
