//! A host outside EC2 as the endpoint knows it: its name and zone, checked
//! once at `hosts add`, and its secret, made from the operating system's
//! randomness. Pure apart from [`new_secret`]; the registry item and the
//! ownership of its record come next.

use crate::error::{Error, Result};
use crate::ids::{DnsName, RegistryKey};
use crate::names::{self, clip};
use base64::Engine;
use secrecy::SecretString;

/// Bytes of randomness in a secret: 256 bits.
const SECRET_BYTES: usize = 32;

/// The registry key of a host (its normalized name behind the prefix).
pub fn host_key(host: &str) -> RegistryKey {
    RegistryKey::host(host)
}

/// The host name a DDNS client may update, normalized: a valid hostname
/// strictly inside `zone` (not its apex), not a wildcard. The error says
/// which rule it breaks.
pub fn check_host_name(host: &str, zone: &str) -> Result<DnsName> {
    let name = names::normalize(host);
    let zone = names::normalize(zone);
    let refuse = |why: String| Error::Config {
        variable: "HOST".into(),
        message: format!("'{}' cannot be a DDNS host: {why}", clip(host)),
    };
    names::check_wanted_name(&name).map_err(|p| refuse(p.to_string()))?;
    if name == zone {
        return Err(refuse(format!(
            "it is the apex of zone {zone}; give a name inside it, e.g. home.{zone}"
        )));
    }
    if !names::is_within(&name, &zone) {
        return Err(refuse(format!("it is not inside zone {zone}")));
    }
    Ok(name)
}

/// A new secret: 32 bytes from the operating system, URL-safe base64
/// without padding (43 characters, safe in a URL, a shell and a
/// ddclient.conf). Fails only if the OS has no randomness to give.
pub fn new_secret() -> Result<SecretString> {
    random_token::<SECRET_BYTES>("secret").map(SecretString::from)
}

/// `N` bytes from the operating system as URL-safe base64 without
/// padding; `what` names it in the error.
pub fn random_token<const N: usize>(what: &str) -> Result<String> {
    let mut bytes = [0u8; N];
    getrandom::getrandom(&mut bytes).map_err(|e| Error::Config {
        variable: what.into(),
        message: format!("the operating system gave no randomness for a {what}: {e}"),
    })?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("home.dyn.example", "dyn.example", Ok("home.dyn.example."))]
    #[case("Home.Dyn.Example.", "dyn.example.", Ok("home.dyn.example."))]
    #[case("a.b.dyn.example", "dyn.example", Ok("a.b.dyn.example."))]
    #[case("dyn.example", "dyn.example", Err("apex"))]
    #[case("*.dyn.example", "dyn.example", Err("wildcard"))]
    #[case(
        "home.xdyn.example",
        "dyn.example",
        Err("not inside zone dyn.example.")
    )]
    #[case("home.other.example", "dyn.example", Err("not inside zone"))]
    #[case(
        "bad_name.dyn.example",
        "dyn.example",
        Err("not a valid hostname label")
    )]
    #[case(
        "4.2.1.10.in-addr.arpa",
        "10.in-addr.arpa",
        Err("inside in-addr.arpa.")
    )]
    #[case("", "dyn.example", Err("empty"))]
    #[case("a..dyn.example", "dyn.example", Err("empty label"))]
    fn host_names_are_checked_against_their_zone(
        #[case] host: &str,
        #[case] zone: &str,
        #[case] want: std::result::Result<&str, &str>,
    ) {
        match (check_host_name(host, zone), want) {
            (Ok(got), Ok(want)) => assert_eq!(got, want),
            (Err(e), Err(needle)) => assert!(e.to_string().contains(needle), "{e} lacks {needle}"),
            (got, want) => panic!("{host} in {zone}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn secrets_are_long_random_and_url_safe() {
        use secrecy::ExposeSecret;
        let (a, b) = (new_secret().unwrap(), new_secret().unwrap());
        assert!(
            !format!("{a:?}").contains(a.expose_secret()),
            "Debug hides it"
        );
        let (a, b) = (a.expose_secret(), b.expose_secret());
        assert_eq!(a.len(), 43);
        assert_ne!(a, b, "two secrets from the OS differ");
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'),
            "{a}"
        );
        assert_eq!(host_key("Home.dyn.example"), "host#home.dyn.example.");
    }
}
