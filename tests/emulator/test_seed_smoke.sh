#!/usr/bin/env bash
# Smoke check of seed.py against an already running moto server.
#
#   tests/emulator/test_seed_smoke.sh --endpoint-url http://127.0.0.1:PORT
#
# Needs python3 on PATH with boto3. Seeds fixtures/worlds/split-horizon.json
# and checks what moto then reports; checks that a file that is not JSON and a
# world missing a required key each exit 2 with one "seed: ..." line (no
# traceback: world files are checked by the Rust loader, not the seeder);
# then seeds fixtures/worlds/seeded-extras.json with --reset and checks its
# alias record and registry item; then fixtures/worlds/group.json, and a world
# made from it here with a record set of each routing policy the seeder makes,
# one whose set identifier is a world instance id, and a registry item listing
# a group member's record set (all translated to moto's ids), and checks that
# a policy it cannot make exits 2 the same way; then fixtures/worlds/fargate.json
# (an ECS cluster and Fargate tasks: run, tagged, grouped, addresses in their
# subnets and a public one where the world has it, the provisioning one not
# run), a copy with a stopped task, and one with an EC2 task in bridge mode,
# which the seeder cannot make (exit 2); then fixtures/worlds/organization.json
# (the organization mode: three member accounts seeded through
# OrganizationAccountAccessRole; each member's instance seen with its
# credentials and not the central ones, the member role ec2-ddns-reader made
# where the world does not refuse it and assumable only with the external id,
# the central private zones associated with the member VPCs). Exits non-zero
# on any mismatch.
# Talks to loopback only. The ECS checks need tests/emulator/strict_moto.py's
# MOTO GAP 9 (moto 5.2.5 alone fails RunTask without securityGroups, puts the
# task's address outside its subnet and gives no public address); the
# organization checks need its change 10 (strict sts:AssumeRole).
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
extras="$root/fixtures/worlds/seeded-extras.json"
group="$root/fixtures/worlds/group.json"
fargate="$root/fixtures/worlds/fargate.json"
organization="$root/fixtures/worlds/organization.json"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-testing}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-testing}"

python3 "$here/seed.py" --endpoint-url "$endpoint" "$world" >"$tmp/map.json"
echo "seeded: $(cat "$tmp/map.json")"

# What the seeder cannot read must fail with exit 2, one "seed: ..." line on
# stderr and no traceback. (Whether a world is valid is the Rust loader's job.)
printf '{"vpcs": [' >"$tmp/not-json.json"
python3 - "$world" "$tmp/no-subnet.json" <<'EOF'
import json, sys
w = json.load(open(sys.argv[1]))
del w["instances"][0]["subnet"]
json.dump(w, open(sys.argv[2], "w"))
EOF
unreadable_ok=""
for case in not-json no-subnet; do
  set +e
  python3 "$here/seed.py" --endpoint-url "$endpoint" "$tmp/$case.json" >/dev/null 2>"$tmp/$case.err"
  rc=$?
  set -e
  if [ "$rc" -eq 2 ] && [ "$(wc -l <"$tmp/$case.err")" -eq 1 ] \
     && grep -q "^seed: $tmp/$case.json: not a world this seeder can read (" "$tmp/$case.err" \
     && ! grep -q Traceback "$tmp/$case.err"; then
    unreadable_ok="$unreadable_ok $case"
  else
    echo "FAIL: $case: exit $rc, stderr: $(cat "$tmp/$case.err")" >&2
  fi
done
echo "unreadable world (no-subnet): $(cat "$tmp/no-subnet.err")"

# Counting helper shared by the two check blocks below.
cat >"$tmp/smoke.py" <<'EOF'
import json, os, sys
counts_file = os.path.join(os.path.dirname(__file__), "counts.json")
counts = json.load(open(counts_file)) if os.path.exists(counts_file) else {"passed": 0, "failed": 0}

def check(what, got, want):
    counts["passed" if got == want else "failed"] += 1
    if got != want:
        print(f"FAIL: {what}: got {got!r}, want {want!r}", file=sys.stderr)
    json.dump(counts, open(counts_file, "w"))
EOF

python3 - "$endpoint" "$tmp/map.json" "$tmp" "$unreadable_ok" <<'EOF'
import json, sys
import boto3

ep, m = sys.argv[1], json.load(open(sys.argv[2]))
sys.path.insert(0, sys.argv[3])
from smoke import check

for case in ("not-json", "no-subnet"):
    check(f"{case} world exits 2 with one seed: line, no traceback",
          case in sys.argv[4].split(), True)
ec2 = boto3.client("ec2", endpoint_url=ep, region_name=m["region"])
r53 = boto3.client("route53", endpoint_url=ep, region_name="us-east-1")
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
EOF

# A second world, seeded after a reset: an alias record and a registry item.
python3 "$here/seed.py" --endpoint-url "$endpoint" --reset "$extras" >"$tmp/extras.json"
echo "seeded (--reset): $(cat "$tmp/extras.json")"

python3 - "$endpoint" "$tmp/extras.json" "$tmp" "$tmp/map.json" <<'EOF'
import json, sys
import boto3

ep, m = sys.argv[1], json.load(open(sys.argv[2]))
sys.path.insert(0, sys.argv[3])
from smoke import check, counts
old = json.load(open(sys.argv[4]))
ec2 = boto3.client("ec2", endpoint_url=ep, region_name=m["region"])
r53 = boto3.client("route53", endpoint_url=ep, region_name="us-east-1")
ddb = boto3.client("dynamodb", endpoint_url=ep, region_name=m["region"])

check("extras table", m.get("table"), "DDNS")
iid = m["instances"]["i-0extra1"]
check("extras names[extra-1]", m["names"].get("extra-1"), iid)
inst = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
check("extras state", inst["State"]["Name"], "running")
check("extras private ip", inst.get("PrivateIpAddress"), "10.5.1.10")
check("extras has no public ip", inst.get("PublicIpAddress"), None)
live = {i["InstanceId"] for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]}
check("--reset dropped the split-horizon instance", old["instances"]["i-0web1"] in live, False)

vpc = m["vpcs"]["vpc-0extras"]
dopt = ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["DhcpOptionsId"]
conf = ec2.describe_dhcp_options(DhcpOptionsIds=[dopt])["DhcpOptions"][0]["DhcpConfigurations"]
check("extras dhcp domain-name",
      [v["Value"] for c in conf if c["Key"] == "domain-name" for v in c["Values"]],
      ["extras.example"])
by_vpc = r53.list_hosted_zones_by_vpc(VPCId=vpc, VPCRegion=m["region"])["HostedZoneSummaries"]
check("extras zones by vpc", [z["HostedZoneId"] for z in by_vpc], [m["zones"]["Z0EXTRAS"]])
pub = r53.get_hosted_zone(Id=m["zones"]["Z0EXTRASPUB"])["HostedZone"]
check("Z0EXTRASPUB public", (pub["Name"], pub["Config"]["PrivateZone"]), ("extras.example.", False))

def rrsets(wid):
    rrs = r53.list_resource_record_sets(HostedZoneId=m["zones"][wid])["ResourceRecordSets"]
    return {(r["Name"], r["Type"]): r for r in rrs if r["Type"] not in ("NS", "SOA")}

private = rrsets("Z0EXTRAS")
check("extras private record names", sorted(private),
      [("app.extras.example.", "A"), ("db.extras.example.", "A")])
db = private.get(("db.extras.example.", "A"), {})
check("plain record", (db.get("TTL"), [v["Value"] for v in db.get("ResourceRecords", [])]),
      (300, ["10.5.9.9"]))
app = private.get(("app.extras.example.", "A"), {})
check("alias DNSName", app.get("AliasTarget", {}).get("DNSName"),
      "lb-1.us-east-1.elb.amazonaws.com.")
check("alias HostedZoneId", app.get("AliasTarget", {}).get("HostedZoneId"), "Z35SXDOTRQ7X7K")
check("alias has no TTL or values", (app.get("TTL"), app.get("ResourceRecords", [])), (None, []))
check("Z0EXTRASPUB records", rrsets("Z0EXTRASPUB"), {})

item = ddb.get_item(TableName="DDNS", Key={"InstanceId": {"S": iid}}, ConsistentRead=True).get("Item", {})
check("registry item under moto's instance id", item.get("InstanceId"), {"S": iid})
check("registry Version", item.get("Version"), {"N": "2"})
check("registry LastEventTime", item.get("LastEventTime"), {"S": "2026-11-21T10:00:00Z"})
check("registry LastState", item.get("LastState"), {"S": "running"})
check("registry has no absent attributes", sorted(item),
      ["InstanceId", "LastEventTime", "LastState", "Records", "Version"])
owned = item.get("Records", {}).get("L", [{}])
check("registry Records[0].ZoneId", owned[0].get("M", {}).get("ZoneId"),
      {"S": m["zones"]["Z0EXTRAS"]})
check("registry Records[0]", owned[0].get("M"), {
    "ZoneId": {"S": m["zones"]["Z0EXTRAS"]}, "ZoneName": {"S": "extras.example."},
    "Name": {"S": "ip-10-5-1-10.extras.example."}, "Type": {"S": "A"},
    "TTL": {"N": "60"}, "Values": {"L": [{"S": "10.5.1.10"}]}})
check("registry item count", ddb.scan(TableName="DDNS")["Count"], 1)

EOF

# ECS: the fargate world, a copy with web-3 stopped, and one with an EC2
# task in bridge mode (not one the seeder makes).
python3 - "$fargate" "$tmp/fargate-stopped.json" "$tmp/bridge.json" <<'EOF'
import json, sys
w = json.load(open(sys.argv[1]))
web3 = next(t for t in w["tasks"] if t.get("name") == "web-3")
web3["status"] = "STOPPED"
json.dump(w, open(sys.argv[2], "w"))
w["tasks"].append({"id": "job1", "cluster": "prod", "family": "job", "launch_type": "EC2",
                   "network_mode": "bridge"})
json.dump(w, open(sys.argv[3], "w"))
EOF
python3 "$here/seed.py" --endpoint-url "$endpoint" --reset "$tmp/fargate-stopped.json" >"$tmp/stopped-map.json" 2>/dev/null
echo "seeded (--reset): $(cat "$tmp/stopped-map.json")"
set +e
python3 "$here/seed.py" --endpoint-url "$endpoint" --reset "$tmp/bridge.json" >/dev/null 2>"$tmp/bridge.err"
bridge_rc=$?
set -e
echo "unseedable task (bridge): $(cat "$tmp/bridge.err")"
# The stopped world is still the one in moto: the bridge world fails while
# it is read, before anything (its --reset included) reaches moto.
python3 - "$endpoint" "$tmp/stopped-map.json" "$tmp" "$bridge_rc" <<'EOF'
import json, sys
import boto3

ep, m = sys.argv[1], json.load(open(sys.argv[2]))
sys.path.insert(0, sys.argv[3])
from smoke import check
err = open(f"{sys.argv[3]}/bridge.err").read()
check("bridge task world exits 2", sys.argv[4], "2")
check("bridge task world: one seed: line naming the task, no traceback",
      (err.count("\n"), "not a world this seeder can read (tasks[5].launch_type: a task of "
       "launch type EC2 in bridge mode is not one this seeder makes" in err,
       "Traceback" in err), (1, True, False))
ecs = boto3.client("ecs", endpoint_url=ep, region_name=m["region"])
task = ecs.describe_tasks(cluster="prod", tasks=[m["task_names"]["web-3"]])["tasks"][0]
check("stopped world: web-3 stopped", (task["lastStatus"], task["desiredStatus"]),
      ("STOPPED", "STOPPED"))
others = [m["task_names"][n] for n in ("web-1", "web-2", "api-1")]
check("stopped world: the others run",
      sorted(t["lastStatus"] for t in ecs.describe_tasks(cluster="prod", tasks=others)["tasks"]),
      ["RUNNING"] * 3)
check("stopped world: ListTasks lists the three running", sorted(
    ecs.list_tasks(cluster="prod")["taskArns"]), sorted(others))
EOF

python3 "$here/seed.py" --endpoint-url "$endpoint" --reset "$fargate" >"$tmp/fargate-map.json" 2>"$tmp/fargate.err"
echo "seeded (--reset): $(cat "$tmp/fargate-map.json")"
echo "fargate stderr: $(cat "$tmp/fargate.err")"
python3 - "$endpoint" "$tmp/fargate-map.json" "$tmp" "$fargate" <<'EOF'
import ipaddress, json, sys
import boto3

ep, m = sys.argv[1], json.load(open(sys.argv[2]))
sys.path.insert(0, sys.argv[3])
from smoke import check
world = json.load(open(sys.argv[4]))
err = open(f"{sys.argv[3]}/fargate.err").read()
ecs = boto3.client("ecs", endpoint_url=ep, region_name=m["region"])
ec2 = boto3.client("ec2", endpoint_url=ep, region_name=m["region"])

check("clusters", m["clusters"], {"prod": "arn:aws:ecs:us-east-1:123456789012:cluster/prod"})
check("tasks run: every world task but the provisioning one",
      sorted(m["tasks"]), sorted(t["id"] for t in world["tasks"] if t.get("status") is None))
check("task_names", sorted(m["task_names"]), ["api-1", "web-1", "web-2", "web-3"])
check("the provisioning task: one note on stderr",
      (err.count("\n"), "seed: note: tasks[3]: PROVISIONING: not run" in err), (1, True))
check("ListTasks lists the four",
      sorted(ecs.list_tasks(cluster="prod")["taskArns"]), sorted(m["tasks"].values()))
described = {t["taskArn"]: t for t in ecs.describe_tasks(
    cluster="prod", tasks=list(m["tasks"].values()), include=["TAGS"])["tasks"]}
for t in world["tasks"]:
    if t["id"] not in m["tasks"]:
        continue
    got = described.get(m["tasks"][t["id"]], {})
    name = t["name"]
    check(f"{name}: running, Fargate, its group",
          (got.get("lastStatus"), got.get("launchType"), got.get("group")),
          ("RUNNING", "FARGATE",
           f"service:{t['service']}" if "service" in t else f"family:{t['family']}"))
    check(f"{name}: tags", {x["key"]: x["value"] for x in got.get("tags", [])}, t["tags"])
    details = {d["name"]: d["value"] for a in got.get("attachments", [])
               for d in a.get("details", [])}
    check(f"{name}: ENI in its subnet", details.get("subnetId"), m["subnets"][t["subnet"]])
    subnet = next(s for s in world["subnets"] if s["id"] == t["subnet"])
    ip = details.get("privateIPv4Address")
    check(f"{name}: private address in {subnet['cidr']}",
          ip is not None and ipaddress.ip_address(ip) in ipaddress.ip_network(subnet["cidr"]),
          True)
    eni = ec2.describe_network_interfaces(
        NetworkInterfaceIds=[details.get("networkInterfaceId", "eni-none")])["NetworkInterfaces"]
    eni = eni[0] if eni else {}
    check(f"{name}: ENI's VPC", eni.get("VpcId"), m["vpcs"]["vpc-0fargate"])
    check(f"{name}: a public address as the world says",
          bool(eni.get("Association", {}).get("PublicIp")), "public_ip" in t)
EOF

# The organization mode: fixtures/worlds/organization.json, whose members are
# seeded in their own accounts (through OrganizationAccountAccessRole), two of
# them with one world instance id, the third without the member role.
python3 "$here/seed.py" --endpoint-url "$endpoint" --reset "$organization" >"$tmp/org-map.json"
echo "seeded (--reset): $(cat "$tmp/org-map.json")"
python3 - "$endpoint" "$tmp/org-map.json" "$tmp" <<'EOF'
import json, sys
import boto3
from botocore.exceptions import ClientError

ep, m = sys.argv[1], json.load(open(sys.argv[2]))
sys.path.insert(0, sys.argv[3])
from smoke import check
members = m.get("members", {})
check("organization: three member entries, by ACCOUNT/REGION", sorted(members),
      ["111111111111/us-east-1", "222222222222/us-east-1", "333333333333/us-east-1"])
check("organization: each names its account and region",
      sorted((k, v.get("account"), v.get("region")) for k, v in members.items()),
      [(f"{a}/us-east-1", a, "us-east-1") for a in ("111111111111", "222222222222", "333333333333")])
sts = boto3.client("sts", endpoint_url=ep, region_name="us-east-1")

def code(call):
    try:
        call()
    except ClientError as err:
        return err.response["Error"]["Code"]
    return None

def assumed(account, role="OrganizationAccountAccessRole", **more):
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/{role}",
                            RoleSessionName="smoke", **more)["Credentials"]
    return dict(endpoint_url=ep, region_name="us-east-1", aws_access_key_id=creds["AccessKeyId"],
                aws_secret_access_key=creds["SecretAccessKey"],
                aws_session_token=creds["SessionToken"])

central_ec2 = boto3.client("ec2", endpoint_url=ep, region_name="us-east-1")
for account, ip, host in (("111111111111", "10.1.2.4", "web"), ("222222222222", "10.1.2.5", "api")):
    mine = members.get(f"{account}/us-east-1", {"instances": {}, "vpcs": {}})
    iid = mine["instances"].get("i-0aaaa00000000001")
    ec2 = boto3.client("ec2", **assumed(account))
    seen = [i for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]]
    check(f"{account}: its instance, seen with its credentials",
          [(i["InstanceId"], i.get("PrivateIpAddress"), {t["Key"]: t["Value"] for t in i.get("Tags", [])})
           for i in seen], [(iid, ip, {"HOSTNAME": host})])
    check(f"{account}: not seen with the central credentials",
          code(lambda: central_ec2.describe_instances(InstanceIds=[iid])), "InvalidInstanceID.NotFound")
    vpc = mine["vpcs"].get(f"vpc-0member{account[0]}")
    dopt = ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["DhcpOptionsId"]
    conf = ec2.describe_dhcp_options(DhcpOptionsIds=[dopt])["DhcpOptions"][0]["DhcpConfigurations"]
    check(f"{account}: its VPC's DHCP domain-name",
          [v["Value"] for c in conf if c["Key"] == "domain-name" for v in c["Values"]], ["corp.example"])
ids = [members.get(f"{a}/us-east-1", {}).get("instances", {}).get("i-0aaaa00000000001")
       for a in ("111111111111", "222222222222")]
check("one world instance id, two moto ids", len(set(ids)) == 2 and None not in ids, True)
check("the central instance stays central", sorted(
    i["InstanceId"] for r in central_ec2.describe_instances()["Reservations"] for i in r["Instances"]),
    [m["instances"]["i-0central0000001"]])

for account, made in (("111111111111", True), ("222222222222", True), ("333333333333", False)):
    iam = boto3.client("iam", **assumed(account))
    check(f"{account}: role ec2-ddns-reader {'made' if made else 'not made'}",
          code(lambda: iam.get_role(RoleName="ec2-ddns-reader")), None if made else "NoSuchEntity")
    check(f"{account}: the member role assumed with the external id",
          code(lambda: assumed(account, "ec2-ddns-reader", ExternalId="ec2-ddns-test")),
          None if made else "AccessDenied")
    check(f"{account}: the member role refused without it",
          code(lambda: assumed(account, "ec2-ddns-reader")), "AccessDenied")
    if made:
        trust = iam.get_role(RoleName="ec2-ddns-reader")["Role"]["AssumeRolePolicyDocument"]
        trust = json.loads(trust) if isinstance(trust, str) else trust
        check(f"{account}: the role trusts the central account with the external id",
              trust["Statement"], [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                    "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                                    "Condition": {"StringEquals": {"sts:ExternalId": "ec2-ddns-test"}}}])

r53 = boto3.client("route53", endpoint_url=ep, region_name="us-east-1")
for n in "123":
    vpc = members.get(f"{n * 12}/us-east-1", {}).get("vpcs", {}).get(f"vpc-0member{n}")
    by_vpc = r53.list_hosted_zones_by_vpc(VPCId=vpc, VPCRegion="us-east-1")["HostedZoneSummaries"]
    check(f"vpc-0member{n}: corp.example. and 10.in-addr.arpa. by its VPC",
          sorted((z["Name"], z["HostedZoneId"]) for z in by_vpc),
          sorted([("corp.example.", m["zones"]["Z0CORPPRIVATE"]),
                  ("10.in-addr.arpa.", m["zones"]["Z0REVERSE10"])]))
zone = r53.get_hosted_zone(Id=m["zones"]["Z0CORPPRIVATE"])
check("corp.example.: associated with the central and the three member VPCs",
      sorted(v["VPCId"] for v in zone["VPCs"]),
      sorted([m["vpcs"]["vpc-0central"]] + [members[f"{n * 12}/us-east-1"]["vpcs"][f"vpc-0member{n}"]
                                             for n in "123"]))
EOF

# Routing policies: the group world as it is, then one with a record set of
# each policy the seeder makes, a member's record set named by a world
# instance id, and a registry item that lists it; then one with a policy the
# seeder cannot make.
python3 "$here/seed.py" --endpoint-url "$endpoint" --reset "$group" >"$tmp/group.json"
echo "seeded (--reset): $(cat "$tmp/group.json")"
python3 - "$group" "$tmp/routing.json" "$tmp/ip-based.json" <<'EOF'
import json, sys
w = json.load(open(sys.argv[1]))
private = w["zones"][0]
assert private["id"] == "Z0CORPPRIVATE", private["id"]
def rec(name, policy, sid, value):
    return {"name": f"{name}.corp.example.", "type": "A", "ttl": 60, "values": [value],
            "routing": policy, "set_identifier": sid}
private["records"] += [
    rec("web", "multivalue", "i-0web1", "10.1.2.11"),
    rec("weighted", "weighted", "blue", "10.1.9.21"),
    rec("latency", "latency", "east", "10.1.9.22"),
    rec("failover", "failover", "primary", "10.1.9.23"),
    rec("geo", "geolocation", "anywhere", "10.1.9.24"),
]
member = {"name": "web.corp.example.", "type": "A", "ttl": 60, "values": ["10.1.2.11"],
          "routing": "multivalue", "set_identifier": "i-0web1"}
host = {"name": "ip-10-1-2-11.corp.example.", "type": "A", "ttl": 60, "values": ["10.1.2.11"]}
w["registry"] = [{"instance_id": "i-0web1", "version": 1, "records": [
    {"zone_id": "Z0CORPPRIVATE", "zone_name": "corp.example.", "record": host},
    {"zone_id": "Z0CORPPRIVATE", "zone_name": "corp.example.", "record": member}]}]
json.dump(w, open(sys.argv[2], "w"))
private["records"].append(rec("ipbased", "ip-based", "cidr", "10.1.9.25"))
del w["registry"]
json.dump(w, open(sys.argv[3], "w"))
EOF
python3 "$here/seed.py" --endpoint-url "$endpoint" --reset "$tmp/routing.json" >"$tmp/routing-map.json"
echo "seeded (--reset): $(cat "$tmp/routing-map.json")"
set +e
python3 "$here/seed.py" --endpoint-url "$endpoint" --reset "$tmp/ip-based.json" >/dev/null 2>"$tmp/ip-based.err"
ip_based_rc=$?
set -e
echo "unseedable policy (ip-based): $(cat "$tmp/ip-based.err")"

python3 - "$endpoint" "$tmp/group.json" "$tmp/routing-map.json" "$tmp" "$ip_based_rc" "$group" <<'EOF'
import json, sys
import boto3

ep, group, m = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
sys.path.insert(0, sys.argv[4])
from smoke import check, counts
world = json.load(open(sys.argv[6]))
r53 = boto3.client("route53", endpoint_url=ep, region_name="us-east-1")
ddb = boto3.client("dynamodb", endpoint_url=ep, region_name=m["region"])

check("group world: every instance in the map",
      sorted(group["instances"]), sorted(i["id"] for i in world["instances"]))
web1 = m["instances"]["i-0web1"]
check("routing world: moto's id of web-1 is not the world's", web1 != "i-0web1", True)

def rrsets(wid):
    rrs = r53.list_resource_record_sets(HostedZoneId=m["zones"][wid])["ResourceRecordSets"]
    return {(r["Name"], r["Type"], r.get("SetIdentifier")): r
            for r in rrs if r["Type"] not in ("NS", "SOA")}

ROUTING = ("MultiValueAnswer", "Weight", "Region", "Failover", "GeoLocation")

def shown(r):
    """TTL, values and the routing fields moto holds."""
    return (r.get("TTL"), [v["Value"] for v in r.get("ResourceRecords", [])],
            {k: r[k] for k in ROUTING if k in r})

private = rrsets("Z0CORPPRIVATE")
want = {
    ("db.corp.example.", "A", None): (300, ["10.1.9.9"], {}),
    ("web.corp.example.", "A", "legacy-lb"): (60, ["10.1.9.80"], {"MultiValueAnswer": True}),
    ("web.corp.example.", "A", web1): (60, ["10.1.2.11"], {"MultiValueAnswer": True}),
    ("weighted.corp.example.", "A", "blue"): (60, ["10.1.9.21"], {"Weight": 1}),
    ("latency.corp.example.", "A", "east"): (60, ["10.1.9.22"], {"Region": m["region"]}),
    ("failover.corp.example.", "A", "primary"): (60, ["10.1.9.23"], {"Failover": "PRIMARY"}),
    ("geo.corp.example.", "A", "anywhere"):
        (60, ["10.1.9.24"], {"GeoLocation": {"CountryCode": "*"}}),
}
check("routing world: the record sets", sorted(private, key=str), sorted(want, key=str))
for key, fields in want.items():
    check(f"record set {key}", shown(private[key]) if key in private else None, fields)

item = ddb.get_item(TableName="DDNS", Key={"InstanceId": {"S": web1}},
                    ConsistentRead=True).get("Item", {})
zone = {"S": m["zones"]["Z0CORPPRIVATE"]}
check("registry item of web-1 under moto's id", item.get("InstanceId"), {"S": web1})
check("registry Records: the host A plain, the member's set with SetIdentifier and Routing",
      item.get("Records", {}).get("L"), [
    {"M": {"ZoneId": zone, "ZoneName": {"S": "corp.example."},
           "Name": {"S": "ip-10-1-2-11.corp.example."}, "Type": {"S": "A"},
           "TTL": {"N": "60"}, "Values": {"L": [{"S": "10.1.2.11"}]}}},
    {"M": {"ZoneId": zone, "ZoneName": {"S": "corp.example."},
           "Name": {"S": "web.corp.example."}, "Type": {"S": "A"},
           "TTL": {"N": "60"}, "Values": {"L": [{"S": "10.1.2.11"}]},
           "SetIdentifier": {"S": web1}, "Routing": {"S": "multivalue"}}},
])

err = open(f"{sys.argv[4]}/ip-based.err").read()
check("ip-based world exits 2", sys.argv[5], "2")
check("ip-based world: one seed: line naming the record and the policy, no traceback",
      (err.count("\n"), "not a world this seeder can read (zones[0].records[7].routing: "
       "routing 'ip-based' is not one this seeder makes" in err, "Traceback" in err),
      (1, True, False))

print(f"{counts['passed']} passed, {counts['failed']} failed")
sys.exit(1 if counts["failed"] else 0)
EOF
