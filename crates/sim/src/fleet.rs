//! A fleet for scale rehearsals: `n` instances launched into one VPC, each
//! with an alias (`CNAME` tag `svc-N.fleet.example`), and the records the
//! registrar should give them. `examples/burst.rs` launches and terminates
//! it under Route 53's rate limit and counts what is wrong at the end.

use crate::world::World;
use std::collections::BTreeSet;

/// The forward zone's id and the reverse zone's.
pub const FORWARD_ZONE: &str = "ZFLEET";
pub const REVERSE_ZONE: &str = "ZREV40";

/// The instance id of fleet member `k`.
pub fn instance_id(k: usize) -> String {
    format!("i-{k:05}")
}

/// Member `k`'s private address: 10.40.0.4, 10.40.0.5, … (250 a /24).
fn octets(k: usize) -> (usize, usize) {
    (k / 250, k % 250 + 4)
}

/// `n` running instances (n ≤ 64,000) in one VPC whose DHCP domain is
/// `fleet.example`, with a private forward zone and a reverse zone.
pub fn world(n: usize) -> World {
    let instances: Vec<serde_json::Value> = (0..n)
        .map(|k| {
            let (c, d) = octets(k);
            serde_json::json!({
                "id": instance_id(k),
                "subnet": "subnet-0fleet",
                "private_ip": format!("10.40.{c}.{d}"),
                "tags": {"CNAME": format!("svc-{k}.fleet.example")},
                "launch_time": format!("2026-11-21T10:{:02}:{:02}Z", k / 60 % 60, k % 60)
            })
        })
        .collect();
    let world = serde_json::json!({
        "vpcs": [{"id": "vpc-0fleet", "cidr": "10.40.0.0/16", "dhcp_domain": "fleet.example"}],
        "subnets": [{"id": "subnet-0fleet", "vpc": "vpc-0fleet", "cidr": "10.40.0.0/16"}],
        "zones": [
            {"id": FORWARD_ZONE, "name": "fleet.example.", "private": true, "vpcs": ["vpc-0fleet"]},
            {"id": REVERSE_ZONE, "name": "40.10.in-addr.arpa.", "private": true, "vpcs": ["vpc-0fleet"]}
        ],
        "instances": instances
    });
    World::parse("fleet", &world.to_string()).expect("the fleet world is valid")
}

/// The records of the running members among `0..n`, as `(zone id, record
/// line)`: each an A, a PTR and its alias's CNAME, TTL `ttl`.
pub fn expected_records(
    running: impl IntoIterator<Item = usize>,
    ttl: u32,
) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for k in running {
        let (c, d) = octets(k);
        let host = format!("ip-10-40-{c}-{d}.fleet.example.");
        out.insert((
            FORWARD_ZONE.to_string(),
            format!("{host} A {ttl} 10.40.{c}.{d}"),
        ));
        out.insert((
            FORWARD_ZONE.to_string(),
            format!("svc-{k}.fleet.example. CNAME {ttl} {host}"),
        ));
        out.insert((
            REVERSE_ZONE.to_string(),
            format!("{d}.{c}.40.10.in-addr.arpa. PTR {ttl} {host}"),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemoryAccount;
    use ec2_ddns_core::Config;

    #[tokio::test]
    async fn the_reconcile_writes_exactly_the_expected_records() {
        let account = MemoryAccount::new(world(3));
        account
            .registrar(Config::default())
            .reconcile("r")
            .await
            .unwrap();
        let written: BTreeSet<(String, String)> = account
            .zone_records()
            .into_iter()
            .flat_map(|(zone, records)| {
                records
                    .into_iter()
                    .map(move |r| (zone.to_string(), r.to_string()))
            })
            .collect();
        assert_eq!(written, expected_records(0..3, 60));
    }
}
