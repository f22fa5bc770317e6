//! DNS names as Route 53 sees them: lower-case, absolute (trailing dot),
//! compared label by label. Everything here is pure.

use std::net::Ipv4Addr;

/// Lower-cases a name, trims spaces and adds the trailing dot, so that
/// `Corp.Example` and `corp.example.` compare equal everywhere.
pub fn normalize(name: &str) -> String {
    let trimmed = name.trim().trim_end_matches('.').to_ascii_lowercase();
    format!("{trimmed}.")
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
    Wildcard,
    TooLong(usize),
    LabelTooLong(String),
    BadLabel(String),
}

impl std::fmt::Display for NameProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NameProblem::Empty => write!(f, "the name is empty"),
            NameProblem::Wildcard => write!(f, "wildcard names are never written"),
            NameProblem::TooLong(n) => {
                write!(f, "the name is {n} characters long; DNS allows 253")
            }
            NameProblem::LabelTooLong(l) => {
                write!(f, "label '{l}' is longer than 63 characters")
            }
            NameProblem::BadLabel(l) => write!(
                f,
                "label '{l}' is not a valid hostname label (letters, digits and inner hyphens only, RFC 1123)"
            ),
        }
    }
}

/// Checks a normalized name against RFC 1123 hostname rules and the DNS
/// length limits. Route 53 would accept more (underscores, `*`), but a
/// registrar fed from tags must not write what a resolver cannot look up.
pub fn check_hostname(name: &str) -> Result<(), NameProblem> {
    let bare = name.trim_end_matches('.');
    if bare.is_empty() {
        return Err(NameProblem::Empty);
    }
    if bare.len() > 253 {
        return Err(NameProblem::TooLong(bare.len()));
    }
    for label in bare.split('.') {
        if label == "*" {
            return Err(NameProblem::Wildcard);
        }
        if label.len() > 63 {
            return Err(NameProblem::LabelTooLong(shorten(label)));
        }
        let valid = !label.is_empty()
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !valid {
            return Err(NameProblem::BadLabel(shorten(label)));
        }
    }
    Ok(())
}

/// Keeps hostile tag values from flooding logs and reports.
fn shorten(label: &str) -> String {
    if label.chars().count() > 70 {
        let head: String = label.chars().take(60).collect();
        format!("{head}…")
    } else {
        label.to_string()
    }
}

/// `10.1.2.4` → `4.2.1.10.in-addr.arpa.`
pub fn reverse_name(ip: Ipv4Addr) -> String {
    let [a, b, c, d] = ip.octets();
    format!("{d}.{c}.{b}.{a}.in-addr.arpa.")
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
            (".", false),
            (&format!("{long_label}.example."), false),
            (&long_name, false),
        ] {
            assert_eq!(check_hostname(name).is_ok(), ok, "{name}");
        }
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
