//! DNS names as Route 53 sees them: lower-case, absolute (trailing dot),
//! compared label by label. Everything here is pure.

use crate::ids::DnsName;
use std::net::Ipv4Addr;

/// Lower-cases a name, trims spaces and adds the trailing dot, so that
/// `Corp.Example` and `corp.example.` compare equal everywhere: a
/// [`DnsName`], the only form names are compared in.
pub fn normalize(name: &str) -> DnsName {
    DnsName::new(name)
}

/// The labels of a normalized name, without the empty root label.
fn labels(name: &str) -> Vec<&str> {
    name.trim_end_matches('.')
        .split('.')
        .filter(|l| !l.is_empty())
        .collect()
}

/// True when `name` is `zone` or lies below it, label-wise:
/// `a.xcorp.example.` is not inside `corp.example.`.
pub fn is_within(name: &str, zone: &str) -> bool {
    let name = labels(name);
    let zone = labels(zone);
    name.len() >= zone.len() && name[name.len() - zone.len()..] == zone[..]
}

/// Number of labels: the measure of how specific a zone is.
pub fn label_count(name: &str) -> usize {
    labels(name).len()
}

/// Why a name cannot be written. Each variant reads as a sentence in reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameProblem {
    Empty,
    EmptyLabel,
    Wildcard,
    TooLong(usize),
    LabelTooLong(String),
    BadLabel(String),
    /// Inside `in-addr.arpa.` or `ip6.arpa.`: another address's PTR name.
    ReverseTree(&'static str),
}

impl std::fmt::Display for NameProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NameProblem::Empty => write!(f, "the name is empty"),
            NameProblem::EmptyLabel => write!(f, "the name has an empty label (two dots in a row)"),
            NameProblem::Wildcard => write!(f, "wildcard names are never written"),
            NameProblem::TooLong(n) => {
                write!(f, "the name is {n} characters long; DNS allows 253")
            }
            NameProblem::LabelTooLong(l) => {
                write!(f, "label '{}' is longer than 63 characters", clip(l))
            }
            NameProblem::BadLabel(l) => write!(
                f,
                "label '{}' is not a valid hostname label (letters, digits and inner hyphens only, RFC 1123)",
                clip(l)
            ),
            NameProblem::ReverseTree(tree) => write!(
                f,
                "the name is inside {tree} (addresses' PTR names); use a forward zone"
            ),
        }
    }
}

/// Checks the structure of a normalized name as Route 53 stores it: not
/// empty, no empty label, the DNS length limits. Any characters are allowed
/// (`_dmarc`, `*`), because zones hold names the registrar would never write.
pub fn check_dns_name(name: &str) -> Result<(), NameProblem> {
    let bare = name.trim_end_matches('.');
    if bare.is_empty() {
        return Err(NameProblem::Empty);
    }
    if bare.len() > 253 {
        return Err(NameProblem::TooLong(bare.len()));
    }
    for label in bare.split('.') {
        if label.is_empty() {
            return Err(NameProblem::EmptyLabel);
        }
        if label.len() > 63 {
            return Err(NameProblem::LabelTooLong(label.to_string()));
        }
    }
    Ok(())
}

/// The reverse-mapping trees: names in them are addresses.
const REVERSE_TREES: [&str; 2] = ["in-addr.arpa.", "ip6.arpa."];

/// Checks a normalized name against RFC 1123 hostname rules and the DNS
/// length limits. Route 53 would accept more (underscores, `*`), but a
/// registrar fed from tags must not write what a resolver cannot look up.
pub fn check_hostname(name: &str) -> Result<(), NameProblem> {
    check_dns_name(name)?;
    for label in name.trim_end_matches('.').split('.') {
        if label == "*" {
            return Err(NameProblem::Wildcard);
        }
        let valid = label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !valid {
            return Err(NameProblem::BadLabel(label.to_string()));
        }
    }
    Ok(())
}

/// Checks a name someone asks records for (a `CNAME` or `HOSTNAME` tag, a
/// DDNS host): a hostname ([`check_hostname`]) outside the reverse trees.
/// Found by attack: a tag could name another address's PTR name
/// (`5.2.1.10.in-addr.arpa`), and the registrar would write there; the
/// reverse trees hold only the PTRs it derives from addresses.
pub fn check_wanted_name(name: &str) -> Result<(), NameProblem> {
    check_hostname(name)?;
    match REVERSE_TREES.into_iter().find(|tree| is_within(name, tree)) {
        Some(tree) => Err(NameProblem::ReverseTree(tree)),
        None => Ok(()),
    }
}

/// The longest stretch of a hostile string that a message or a line of
/// text output repeats.
const CLIP_CHARS: usize = 80;

/// The one way a value we did not choose (a tag, an event field, a file's
/// content) enters a message: [`escape_controls`], and at most 80
/// characters kept.
pub fn clip(s: &str) -> String {
    match s.char_indices().nth(CLIP_CHARS) {
        Some((end, _)) => format!("{}…", escape_controls(&s[..end])),
        None => escape_controls(s),
    }
}

/// Control and bidirectional formatting characters escaped (`\n`,
/// `\u{1b}`, `\u{202e}`), so a value cannot forge lines, colours or
/// reading order in a terminal or a log. Text output escapes every field.
pub fn escape_controls(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let bidi = matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        if c.is_control() || bidi {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// `10.1.2.4` → `4.2.1.10.in-addr.arpa.`
pub fn reverse_name(ip: Ipv4Addr) -> DnsName {
    DnsName::reverse_of(ip)
}

/// The PTR name of an address in either family: `in-addr.arpa.` for IPv4,
/// `ip6.arpa.` in nibble format for IPv6.
pub fn reverse_name_of(ip: std::net::IpAddr) -> DnsName {
    match ip {
        std::net::IpAddr::V4(v4) => DnsName::reverse_of(v4),
        std::net::IpAddr::V6(v6) => DnsName::reverse_of_v6(v6),
    }
}

/// The first label of a DNS name: `ip-10-1-2-4` of `ip-10-1-2-4.ec2.internal`.
pub fn first_label(name: &str) -> Option<&str> {
    name.split('.').next().filter(|l| !l.is_empty())
}

/// AWS's own DHCP suffixes (`ec2.internal`, `<region>.compute.internal`)
/// are not domains anyone hosts, so they never become a home domain.
pub fn is_aws_default_suffix(domain: &str) -> bool {
    let d = normalize(domain);
    d == "ec2.internal." || d.ends_with(".compute.internal.") || d == "compute.internal."
}

#[cfg(test)]
mod tests {
    use super::*;

    /// PTR names, both families: IPv6 in nibble format, every nibble
    /// written (zeros too), lowest first, lower-case hex.
    #[rstest::rstest]
    #[case::v4("10.1.2.4", "4.2.1.10.in-addr.arpa.")]
    #[case::v4_zeros("10.0.0.1", "1.0.0.10.in-addr.arpa.")]
    #[case::v6_doc(
        "2001:db8::7",
        "7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa."
    )]
    #[case::v6_rfc3596(
        "4321:0:1:2:3:4:567:89ab",
        "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4.ip6.arpa."
    )]
    #[case::v6_upper_hex(
        "2600:1F18:ABCD::A",
        "a.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.c.b.a.8.1.f.1.0.0.6.2.ip6.arpa."
    )]
    #[case::v6_all_zero(
        "::",
        "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa."
    )]
    fn reverse_names_of_both_families(#[case] ip: &str, #[case] want: &str) {
        let name = reverse_name_of(ip.parse().unwrap());
        assert_eq!(name.as_str(), want);
        if ip.contains(':') {
            assert_eq!(label_count(&name), 34, "32 nibbles, ip6, arpa");
        }
    }

    #[test]
    fn normalize_cases() {
        for (input, want) in [
            ("Corp.Example", "corp.example."),
            ("corp.example.", "corp.example."),
            ("  corp.example..", "corp.example."),
        ] {
            assert_eq!(normalize(input), want, "{input}");
        }
    }

    #[test]
    fn within_is_label_wise() {
        for (name, zone, want) in [
            ("a.corp.example.", "corp.example.", true),
            ("corp.example.", "corp.example.", true),
            ("a.xcorp.example.", "corp.example.", false),
            ("xcorp.example.", "corp.example.", false),
            ("example.", "corp.example.", false),
            ("4.2.1.10.in-addr.arpa.", "10.in-addr.arpa.", true),
            ("4.2.1.10.in-addr.arpa.", "110.in-addr.arpa.", false),
        ] {
            assert_eq!(is_within(name, zone), want, "{name} in {zone}");
        }
    }

    #[test]
    fn hostname_rules() {
        let long_label = "a".repeat(64);
        let long_name = format!("{}.example.", ["abcdefghij"; 24].join("."));
        for (name, ok) in [
            ("web-1.corp.example.", true),
            ("ip-10-1-2-4.corp.example.", true),
            ("*.corp.example.", false),
            ("-web.corp.example.", false),
            ("web-.corp.example.", false),
            ("we_b.corp.example.", false),
            ("web 1.corp.example.", false),
            ("web;rm -rf.corp.example.", false),
            ("a..b.example.", false),
            ("_dmarc.corp.example.", false),
            (".", false),
            (&format!("{long_label}.example."), false),
            (&long_name, false),
        ] {
            assert_eq!(check_hostname(name).is_ok(), ok, "{name}");
        }
    }

    #[test]
    fn wanted_names_stay_out_of_the_reverse_trees() {
        for (name, problem) in [
            ("api.corp.example.", None),
            ("in-addr.arpa.example.", None),
            ("arpa.corp.example.", None),
            ("5.2.1.10.in-addr.arpa.", Some("in-addr.arpa.")),
            ("in-addr.arpa.", Some("in-addr.arpa.")),
            ("x.ip6.arpa.", Some("ip6.arpa.")),
            ("*.in-addr.arpa.", None), // a wildcard, refused as such first
        ] {
            match (check_wanted_name(name), problem) {
                (Ok(()), None) => {}
                (Err(NameProblem::ReverseTree(tree)), Some(want)) => {
                    assert_eq!(tree, want, "{name}");
                    let message = NameProblem::ReverseTree(tree).to_string();
                    assert!(message.contains("forward zone") && message.len() < 200);
                }
                (Err(NameProblem::Wildcard), None) if name.starts_with('*') => {}
                (got, want) => panic!("{name}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn clip_escapes_control_characters_and_keeps_80() {
        assert_eq!(clip("web\n\x1b[31mred"), "web\\n\\u{1b}[31mred");
        assert_eq!(clip("a\u{202e}b"), "a\\u{202e}b");
        let long = "x".repeat(200);
        assert_eq!(clip(&long).chars().count(), 81);
        assert!(clip(&long).ends_with('…'));
        assert_eq!(clip("plain.corp.example."), "plain.corp.example.");
    }

    #[test]
    fn reverse_and_labels() {
        assert_eq!(
            reverse_name("10.1.2.4".parse().unwrap()),
            "4.2.1.10.in-addr.arpa."
        );
        assert_eq!(first_label("ip-10-1-2-4.ec2.internal"), Some("ip-10-1-2-4"));
        assert_eq!(first_label(""), None);
        assert!(is_aws_default_suffix("ec2.internal"));
        assert!(is_aws_default_suffix("eu-west-1.compute.internal"));
        assert!(!is_aws_default_suffix("corp.example"));
    }
}
