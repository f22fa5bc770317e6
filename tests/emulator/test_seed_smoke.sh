#!/usr/bin/env bash
# Smoke check of seed.py against an already running moto server.
#
#   tests/emulator/test_seed_smoke.sh --endpoint-url http://127.0.0.1:PORT
#
# Needs python3 on PATH with boto3. Seeds fixtures/worlds/split-horizon.json,
# checks what moto then reports, and checks that a broken world exits 2 with a
# JSON-path message. Exits non-zero on any mismatch. Talks to loopback only.
set -euo pipefail

usage() { echo "usage: $0 --endpoint-url http://127.0.0.1:PORT" >&2; exit 64; }

endpoint=""
while [ $# -gt 0 ]; do
  case "$1" in
    --endpoint-url) [ $# -ge 2 ] || usage; endpoint="$2"; shift 2 ;;
    --endpoint-url=*) endpoint="${1#*=}"; shift ;;
    *) usage ;;
  esac
done
[ -n "$endpoint" ] || usage

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
world="$root/fixtures/worlds/split-horizon.json"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-testing}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-testing}"

python3 "$here/seed.py" --endpoint-url "$endpoint" "$world" >"$tmp/map.json"
echo "seeded: $(cat "$tmp/map.json")"

# A broken world must fail with exit 2 and name the JSON path.
python3 - "$world" "$tmp/bad.json" <<'EOF'
import json, sys
w = json.load(open(sys.argv[1]))
w["instances"][0]["subnet"] = "subnet-x"
json.dump(w, open(sys.argv[2], "w"))
EOF
set +e
python3 "$here/seed.py" --endpoint-url "$endpoint" "$tmp/bad.json" >/dev/null 2>"$tmp/bad.err"
rc=$?
set -e
bad_ok=1
if [ "$rc" -ne 2 ] || ! grep -q "instances\[0\].subnet: unknown subnet 'subnet-x'" "$tmp/bad.err" \
   || grep -q Traceback "$tmp/bad.err"; then
  echo "FAIL: bad world: exit $rc, stderr: $(cat "$tmp/bad.err")" >&2
  bad_ok=0
fi

python3 - "$endpoint" "$tmp/map.json" "$bad_ok" <<'EOF'
import json, sys
import boto3

ep, m, bad_ok = sys.argv[1], json.load(open(sys.argv[2])), sys.argv[3] == "1"
ec2 = boto3.client("ec2", endpoint_url=ep, region_name=m["region"])
r53 = boto3.client("route53", endpoint_url=ep, region_name="us-east-1")
passed = failed = 0

def check(what, got, want):
    global passed, failed
    if got == want:
        passed += 1
    else:
        failed += 1
        print(f"FAIL: {what}: got {got!r}, want {want!r}", file=sys.stderr)

check("bad world exits 2 naming instances[0].subnet", bad_ok, True)
check("region", m["region"], "us-east-1")
iid = m["instances"]["i-0web1"]
check("names[web-1]", m["names"].get("web-1"), iid)
inst = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
check("state", inst["State"]["Name"], "running")
check("subnet", inst["SubnetId"], m["subnets"]["subnet-0corpa"])
check("private ip", inst.get("PrivateIpAddress"), "10.1.2.4")
check("private dns", inst.get("PrivateDnsName"), "ip-10-1-2-4.ec2.internal")
pub = inst.get("PublicIpAddress")
check("has public ip", bool(pub), True)
check("public dns", inst.get("PublicDnsName"),
      f"ec2-{pub.replace('.', '-')}.compute-1.amazonaws.com" if pub else "<none>")
check("tags", {t["Key"]: t["Value"] for t in inst.get("Tags", [])},
      {"Name": "web-1", "CNAME": "api.corp.example."})

vpc = m["vpcs"]["vpc-0corp"]
for attr, key in (("enableDnsSupport", "EnableDnsSupport"),
                  ("enableDnsHostnames", "EnableDnsHostnames")):
    check(attr, ec2.describe_vpc_attribute(VpcId=vpc, Attribute=attr)[key]["Value"], True)
dopt = ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["DhcpOptionsId"]
conf = ec2.describe_dhcp_options(DhcpOptionsIds=[dopt])["DhcpOptions"][0]["DhcpConfigurations"]
check("dhcp domain-name",
      [v["Value"] for c in conf if c["Key"] == "domain-name" for v in c["Values"]],
      ["corp.example"])

zones = {z["Id"].removeprefix("/hostedzone/"): z for z in r53.list_hosted_zones()["HostedZones"]}
for wid, name, private in (("Z0CORPPRIVATE", "corp.example.", True),
                           ("Z0CORPPUBLIC", "corp.example.", False),
                           ("Z0REVERSE10", "10.in-addr.arpa.", True)):
    z = zones.get(m["zones"][wid], {})
    check(f"{wid} name", z.get("Name"), name)
    check(f"{wid} private", z.get("Config", {}).get("PrivateZone"), private)
by_vpc = r53.list_hosted_zones_by_vpc(VPCId=vpc, VPCRegion=m["region"])["HostedZoneSummaries"]
check("zones by vpc", sorted(z["HostedZoneId"] for z in by_vpc),
      sorted([m["zones"]["Z0CORPPRIVATE"], m["zones"]["Z0REVERSE10"]]))

def records(wid):
    rrs = r53.list_resource_record_sets(HostedZoneId=m["zones"][wid])["ResourceRecordSets"]
    return {(r["Name"], r["Type"]): (r.get("TTL"), [v["Value"] for v in r.get("ResourceRecords", [])])
            for r in rrs if r["Type"] not in ("NS", "SOA")}

check("private records", records("Z0CORPPRIVATE"), {("db.corp.example.", "A"): (300, ["10.1.9.9"])})
check("public records", records("Z0CORPPUBLIC"),
      {("www.corp.example.", "CNAME"): (300, ["lb.example.net."])})
check("reverse records", records("Z0REVERSE10"), {})

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
EOF
