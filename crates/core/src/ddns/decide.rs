//! What the endpoint decides for one ask about one host, before anything
//! is written: whether the proof holds, whether the host is blocked for
//! abuse, and which address to set. Pure: the host's state comes in, the
//! decision and the host's new counters go out.
//!
//! | ask | proof | address set |
//! |-----|-------|-------------|
//! | legacy `set` | SHA-256(source IP + host as sent + secret) | the source IP |
//! | signed `set` | HMAC-SHA256 over host, IP, timestamp, nonce; timestamp within ±300 s (the nonce's single use is checked by the caller, with a conditional write) | `ip`, else the source IP |
//! | dyndns2 | Basic auth: the host's login (default: its name without the trailing dot) and secret | `myip`, else the source IP |
//!
//! Failed proofs are counted per source address, and per host and source
//! address, in a window ([`WINDOW_SECONDS`]; `Guards::count_failure`):
//! past [`MAX_SOURCE_FAILURES`] or [`MAX_FAILURES`], requests from that
//! address answer `abuse`, unchecked, until the window passes, and a valid
//! proof from any other address is still checked and honoured: a stranger
//! who knows a host's name cannot lock its owner out. Changes are counted
//! per host (only a key holder can make them): past [`MAX_CHANGES`] the
//! host answers `abuse` to further changes in the window.

use super::auth;
pub use crate::ports::Failures;
use secrecy::{ExposeSecret, SecretString};
use std::net::IpAddr;

/// The window the counters run over.
pub const WINDOW_SECONDS: i64 = 3600;
/// Failed proofs about one host from one address in a window before that
/// address is answered `abuse` for it.
pub const MAX_FAILURES: u32 = 10;
/// Failed proofs from one address, about any hosts, in a window before
/// that address is answered `abuse` for every host.
pub const MAX_SOURCE_FAILURES: u32 = 30;
/// Address changes a host may make in a window before it is blocked.
pub const MAX_CHANGES: u32 = 30;

/// The reason a dyndns2 ask fails when the login is not the host's:
/// dyndns2 answers it `nohost` ("not this login's"), not `badauth`.
pub const NOT_THIS_LOGIN: &str = "the login is not this host's";

/// A host's settings and the state the decisions need. `Debug` prints
/// `[REDACTED]` for the secret; no `PartialEq`, as secrets are compared
/// only by `auth`, in constant time.
#[derive(Debug, Clone)]
pub struct HostState {
    /// Normalized, with the trailing dot.
    pub name: String,
    pub secret: SecretString,
    /// The dyndns2 login; `None`: the host name without the trailing dot.
    pub login: Option<String>,
    /// The addresses last set, by family: an unchanged one makes no call.
    pub last_ipv4: Option<IpAddr>,
    pub last_ipv6: Option<IpAddr>,
    pub counters: Counters,
    /// The AWS principals allowed to update it by SigV4 (`Proof::Iam`).
    pub iam_principals: Vec<String>,
}

pub use crate::model::Counters;

impl Counters {
    /// The counters as of `now`: a window that has passed starts afresh.
    pub fn at(self, now: i64) -> Counters {
        if now.saturating_sub(self.window_start) >= WINDOW_SECONDS || self.window_start == 0 {
            Counters {
                window_start: now,
                failures: 0,
                changes: 0,
            }
        } else {
            self
        }
    }

    /// Whether the host has made all the changes a window allows.
    pub fn changes_exhausted(self) -> bool {
        self.changes >= MAX_CHANGES
    }
}

/// The proof an ask brings, with what it needs to be checked. A dyndns2
/// password is the host's secret when it is right, so it stays one (and
/// `Debug` cannot print it).
#[derive(Debug, Clone)]
pub enum Proof<'a> {
    Legacy {
        /// The host name as the client sent it (the hash covers it so).
        host_as_sent: &'a str,
        hash: &'a str,
    },
    Signed {
        host_as_sent: &'a str,
        ip: Option<IpAddr>,
        timestamp: i64,
        nonce: &'a str,
        signature: &'a str,
    },
    Basic {
        login: &'a str,
        password: &'a SecretString,
        myip: Option<IpAddr>,
    },
    /// A request Lambda verified as signed (SigV4) by `principal` (the
    /// `AWS_IAM` function URL): allowed when the host lists it.
    Iam {
        principal: &'a str,
        account: &'a str,
        ip: Option<IpAddr>,
    },
    /// The host owners' page: a session its cookie proved (sealed with the
    /// host's secret, checked by `page` before this is made), and the
    /// address asked for (`None`: the request's).
    Session { ip: Option<IpAddr> },
}

/// What the endpoint does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Set the host's record to this address (A or AAAA by its family).
    Set(IpAddr),
    /// The address is already set: no Route 53 call.
    Unchanged(IpAddr),
    /// The proof does not hold; the reason is for the log, never the secret.
    BadAuth(&'static str),
    /// Too many failures or changes in the window.
    Abuse,
}

/// What [`decide`] says of an ask: the decision, and the host's counters
/// to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decided {
    pub decision: Decision,
    pub counters: Counters,
}

/// Whether `failures` (counted from the asking address) block it: it is
/// answered `abuse` without its proof being checked, so it cannot go on
/// probing; other addresses are not affected.
pub fn source_blocked(failures: Failures) -> bool {
    failures.from_source >= MAX_SOURCE_FAILURES || failures.host_from_source >= MAX_FAILURES
}

/// Decides an ask for `host` from `source` at `now` (Unix seconds), given
/// the failed proofs already counted from that address, with the host's
/// counters to store. A failed proof is for the caller to count
/// (`Guards::count_failure`); a change counts a change, and a host that
/// has made all a window allows answers `abuse` to another.
pub fn decide(
    host: &HostState,
    proof: &Proof,
    source: IpAddr,
    failures: Failures,
    now: i64,
) -> Decided {
    let mut counters = host.counters.at(now);
    if source_blocked(failures) {
        return Decided {
            decision: Decision::Abuse,
            counters,
        };
    }
    let decision = match check(host, proof, source, now) {
        Err(why) => Decision::BadAuth(why),
        Ok(ip) => {
            let last = match ip {
                IpAddr::V4(_) => host.last_ipv4,
                IpAddr::V6(_) => host.last_ipv6,
            };
            if last == Some(ip) {
                Decision::Unchanged(ip)
            } else if counters.changes_exhausted() {
                Decision::Abuse
            } else {
                counters.changes += 1;
                Decision::Set(ip)
            }
        }
    };
    Decided { decision, counters }
}

/// Whether the signer `caller` (its ARN, and its account as Lambda gives
/// it) is the principal `listed` (`hosts add --iam-principal`): an
/// account's root is any principal of that account; a role is its
/// sessions (`arn:…:sts::ACCOUNT:assumed-role/NAME/SESSION`; a role's path
/// is not in them); anything else the same ARN. No wildcard is ever
/// read as one.
pub fn principal_allowed(listed: &str, caller: &str, caller_account: &str) -> bool {
    let parts = |arn: &str| -> Option<(String, String, String, String)> {
        let p: Vec<&str> = arn.splitn(6, ':').collect();
        match p.as_slice() {
            ["arn", partition, service, "", account, resource] => Some((
                partition.to_string(),
                service.to_string(),
                account.to_string(),
                resource.to_string(),
            )),
            _ => None,
        }
    };
    let (Some((lp, ls, la, lr)), Some((cp, cs, ca, cr))) = (parts(listed), parts(caller)) else {
        return false;
    };
    if lp != cp || la != ca || (!caller_account.is_empty() && caller_account != ca) || ls != "iam" {
        return false;
    }
    if lr == "root" {
        return true;
    }
    if let Some(role) = lr.strip_prefix("role/") {
        let name = role.rsplit('/').next().unwrap_or(role);
        return cs == "sts"
            && cr
                .strip_prefix("assumed-role/")
                .and_then(|rest| rest.split_once('/'))
                .is_some_and(|(assumed, _)| assumed == name);
    }
    cs == "iam" && lr == cr
}

/// The address a valid proof asks for, or why the proof fails (a status
/// ask's proof is checked so, without deciding a change).
pub fn verify(
    host: &HostState,
    proof: &Proof,
    source: IpAddr,
    now: i64,
) -> Result<IpAddr, &'static str> {
    check(host, proof, source, now)
}

/// The address a valid proof asks for, or why the proof fails.
fn check(
    host: &HostState,
    proof: &Proof,
    source: IpAddr,
    now: i64,
) -> Result<IpAddr, &'static str> {
    let bare = host.name.trim_end_matches('.');
    match proof {
        Proof::Legacy { host_as_sent, hash } => {
            let ok =
                auth::legacy_hash_matches(hash, &source.to_string(), host_as_sent, &host.secret);
            ok.then_some(source).ok_or("validation_hash does not match")
        }
        Proof::Signed {
            host_as_sent,
            ip,
            timestamp,
            nonce,
            signature,
        } => {
            if !auth::fresh(*timestamp, now) {
                return Err("timestamp is more than 300 s from the server's clock");
            }
            let ip = ip.unwrap_or(source);
            let ok = auth::signature_matches(
                signature,
                &host.secret,
                host_as_sent,
                &ip.to_string(),
                *timestamp,
                nonce,
            );
            ok.then_some(ip).ok_or("signature does not match")
        }
        Proof::Session { ip } => Ok(ip.unwrap_or(source)),
        Proof::Iam {
            principal,
            account,
            ip,
        } => {
            let allowed = host
                .iam_principals
                .iter()
                .any(|listed| principal_allowed(listed, principal, account));
            allowed
                .then_some(ip.unwrap_or(source))
                .ok_or("this AWS principal may not update this host")
        }
        Proof::Basic {
            login,
            password,
            myip,
        } => {
            let expected = host.login.as_deref().unwrap_or(bare);
            // Both compared, always, so the time taken tells nothing.
            let login_ok = auth::secrets_equal(login, expected);
            let secret_ok =
                auth::secrets_equal(password.expose_secret(), host.secret.expose_secret());
            match (login_ok, secret_ok) {
                (true, true) => Ok(myip.unwrap_or(source)),
                (false, _) => Err(NOT_THIS_LOGIN),
                (true, false) => Err("password does not match"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_795_255_200;
    const SOURCE: &str = "203.0.113.7";
    const NONE: Failures = Failures {
        from_source: 0,
        host_from_source: 0,
    };

    fn host() -> HostState {
        HostState {
            name: "home.dyn.example.".into(),
            secret: "s3cret".into(),
            login: None,
            last_ipv4: None,
            last_ipv6: None,
            counters: Counters::default(),
            iam_principals: Vec::new(),
        }
    }

    /// Who may sign for a host: an account's root is any of its
    /// principals, a role its sessions (whatever its path), a user the
    /// user; never another account, partition, or a look-alike.
    #[rstest::rstest]
    #[case::root_any_user(
        "arn:aws:iam::111122223333:root",
        "arn:aws:iam::111122223333:user/alice",
        true
    )]
    #[case::root_any_session(
        "arn:aws:iam::111122223333:root",
        "arn:aws:sts::111122223333:assumed-role/router/i-0abc",
        true
    )]
    #[case::root_other_account(
        "arn:aws:iam::111122223333:root",
        "arn:aws:iam::444455556666:user/alice",
        false
    )]
    #[case::role_its_session(
        "arn:aws:iam::111122223333:role/router",
        "arn:aws:sts::111122223333:assumed-role/router/i-0abc",
        true
    )]
    #[case::role_with_a_path(
        "arn:aws:iam::111122223333:role/ddns/router",
        "arn:aws:sts::111122223333:assumed-role/router/s",
        true
    )]
    #[case::role_another_role(
        "arn:aws:iam::111122223333:role/router",
        "arn:aws:sts::111122223333:assumed-role/routers/s",
        false
    )]
    #[case::role_not_a_user(
        "arn:aws:iam::111122223333:role/router",
        "arn:aws:iam::111122223333:user/router",
        false
    )]
    #[case::user_itself(
        "arn:aws:iam::111122223333:user/alice",
        "arn:aws:iam::111122223333:user/alice",
        true
    )]
    #[case::user_another(
        "arn:aws:iam::111122223333:user/alice",
        "arn:aws:iam::111122223333:user/alicex",
        false
    )]
    #[case::no_wildcards(
        "arn:aws:iam::111122223333:user/*",
        "arn:aws:iam::111122223333:user/alice",
        false
    )]
    #[case::other_partition(
        "arn:aws:iam::111122223333:root",
        "arn:aws-cn:iam::111122223333:user/alice",
        false
    )]
    #[case::garbage("root", "arn:aws:iam::111122223333:user/alice", false)]
    fn who_may_sign_for_a_host(#[case] listed: &str, #[case] caller: &str, #[case] allowed: bool) {
        let account = caller.split(':').nth(4).unwrap_or_default();
        assert_eq!(principal_allowed(listed, caller, account), allowed);
        let host = HostState {
            iam_principals: vec![listed.to_string()],
            ..host()
        };
        let proof = Proof::Iam {
            principal: caller,
            account,
            ip: None,
        };
        let decision = decide(&host, &proof, src(), NONE, NOW).decision;
        assert_eq!(
            matches!(decision, Decision::Set(_)),
            allowed,
            "{decision:?}"
        );
    }

    fn src() -> IpAddr {
        SOURCE.parse().unwrap()
    }

    #[test]
    fn each_proof_sets_the_address_it_names() {
        let hash = auth::legacy_hash(SOURCE, "home.dyn.example", &"s3cret".into());
        let legacy = Proof::Legacy {
            host_as_sent: "home.dyn.example",
            hash: &hash,
        };
        assert_eq!(
            decide(&host(), &legacy, src(), NONE, NOW).decision,
            Decision::Set(src())
        );

        let v6: IpAddr = "2001:db8::7".parse().unwrap();
        let sig = auth::signature(
            &"s3cret".into(),
            "home.dyn.example",
            "2001:db8::7",
            NOW - 10,
            "n1",
        );
        let signed = Proof::Signed {
            host_as_sent: "home.dyn.example",
            ip: Some(v6),
            timestamp: NOW - 10,
            nonce: "n1",
            signature: &sig,
        };
        assert_eq!(
            decide(&host(), &signed, src(), NONE, NOW).decision,
            Decision::Set(v6)
        );

        let myip: IpAddr = "198.51.100.4".parse().unwrap();
        let basic = Proof::Basic {
            login: "home.dyn.example",
            password: &"s3cret".into(),
            myip: Some(myip),
        };
        assert_eq!(
            decide(&host(), &basic, src(), NONE, NOW).decision,
            Decision::Set(myip)
        );
        let custom = HostState {
            login: Some("router".into()),
            ..host()
        };
        let basic = Proof::Basic {
            login: "router",
            password: &"s3cret".into(),
            myip: None,
        };
        assert_eq!(
            decide(&custom, &basic, src(), NONE, NOW).decision,
            Decision::Set(src())
        );
    }

    #[test]
    fn bad_proofs_fail_and_count() {
        let wrong_hash = auth::legacy_hash(SOURCE, "home.dyn.example", &"guess".into());
        let stale_sig = auth::signature(
            &"s3cret".into(),
            "home.dyn.example",
            SOURCE,
            NOW - 301,
            "n1",
        );
        let cases = [
            Proof::Legacy {
                host_as_sent: "home.dyn.example",
                hash: &wrong_hash,
            },
            Proof::Signed {
                host_as_sent: "home.dyn.example",
                ip: None,
                timestamp: NOW - 301,
                nonce: "n1",
                signature: &stale_sig,
            },
            Proof::Signed {
                host_as_sent: "home.dyn.example",
                ip: Some("192.0.2.1".parse().unwrap()),
                timestamp: NOW,
                nonce: "n1",
                signature: &stale_sig,
            },
            Proof::Basic {
                login: "home.dyn.example",
                password: &"guess".into(),
                myip: None,
            },
            Proof::Basic {
                login: "someone",
                password: &"s3cret".into(),
                myip: None,
            },
        ];
        for proof in &cases {
            let Decided { decision, counters } = decide(&host(), proof, src(), NONE, NOW);
            assert!(
                matches!(decision, Decision::BadAuth(_)),
                "{proof:?}: {decision:?}"
            );
            assert_eq!(counters.changes, 0, "{proof:?}");
        }
    }

    #[test]
    fn an_unchanged_address_makes_no_change_and_counts_none() {
        let known = HostState {
            last_ipv4: Some(src()),
            ..host()
        };
        let basic = Proof::Basic {
            login: "home.dyn.example",
            password: &"s3cret".into(),
            myip: None,
        };
        let Decided { decision, counters } = decide(&known, &basic, src(), NONE, NOW);
        assert_eq!(decision, Decision::Unchanged(src()));
        assert_eq!(counters.changes, 0);
        // The other family is separate: an IPv6 is a change.
        let v6 = Proof::Basic {
            login: "home.dyn.example",
            password: &"s3cret".into(),
            myip: Some("2001:db8::1".parse().unwrap()),
        };
        assert!(matches!(
            decide(&known, &v6, src(), NONE, NOW).decision,
            Decision::Set(_)
        ));
    }

    /// Failures block the address they came from, for the host (10) or
    /// for every host (30), without checking its proof; another address
    /// with the right secret is honoured all the same.
    #[rstest::rstest]
    #[case::fresh(0, 0, true)]
    #[case::nine_at_this_host(9, 9, true)]
    #[case::ten_at_this_host(10, 10, false)]
    #[case::twenty_nine_elsewhere(29, 0, true)]
    #[case::thirty_elsewhere(30, 0, false)]
    fn failures_block_only_their_address(
        #[case] from_source: u32,
        #[case] host_from_source: u32,
        #[case] honoured: bool,
    ) {
        let good = Proof::Basic {
            login: "home.dyn.example",
            password: &"s3cret".into(),
            myip: None,
        };
        let failures = Failures {
            from_source,
            host_from_source,
        };
        let want = if honoured {
            Decision::Set(src())
        } else {
            Decision::Abuse
        };
        assert_eq!(decide(&host(), &good, src(), failures, NOW).decision, want);
        // The owner, from another address, has none counted.
        let elsewhere: IpAddr = "198.51.100.9".parse().unwrap();
        assert_eq!(
            decide(&host(), &good, elsewhere, NONE, NOW).decision,
            Decision::Set(elsewhere)
        );
    }

    /// A host that made all the changes a window allows answers `abuse`
    /// to another change, not to an unchanged address, until the window
    /// passes.
    #[test]
    fn too_many_changes_block_further_changes_until_the_window_passes() {
        let mut state = host();
        for n in 0..MAX_CHANGES {
            let ip: IpAddr = format!("198.51.100.{}", n + 1).parse().unwrap();
            let proof = Proof::Basic {
                login: "home.dyn.example",
                password: &"s3cret".into(),
                myip: Some(ip),
            };
            let Decided { decision, counters } =
                decide(&state, &proof, src(), NONE, NOW + i64::from(n));
            assert_eq!(decision, Decision::Set(ip));
            state.counters = counters;
            state.last_ipv4 = Some(ip);
        }
        let again = Proof::Basic {
            login: "home.dyn.example",
            password: &"s3cret".into(),
            myip: state.last_ipv4,
        };
        assert!(matches!(
            decide(&state, &again, src(), NONE, NOW + 60).decision,
            Decision::Unchanged(_)
        ));
        let another = Proof::Basic {
            login: "home.dyn.example",
            password: &"s3cret".into(),
            myip: Some("192.0.2.200".parse().unwrap()),
        };
        assert_eq!(
            decide(&state, &another, src(), NONE, NOW + 60).decision,
            Decision::Abuse
        );
        assert!(matches!(
            decide(&state, &another, src(), NONE, NOW + WINDOW_SECONDS).decision,
            Decision::Set(_)
        ));
    }

    #[test]
    fn debug_never_prints_a_secret() {
        let state = HostState {
            login: Some("router".into()),
            ..host()
        };
        let shown = format!("{state:?} {:#?}", state.clone());
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("home.dyn.example.") && shown.contains("router"));
        let password = SecretString::from("s3cret");
        let proof = Proof::Basic {
            login: "router",
            password: &password,
            myip: None,
        };
        let shown = format!("{proof:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
    }
}
