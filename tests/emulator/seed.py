#!/usr/bin/env python3
"""Seed a running moto server with a "world" JSON file.

Usage:
    python tests/emulator/seed.py --endpoint-url http://127.0.0.1:PORT WORLD.json

Prints ONE JSON object on stdout mapping world ids to the ids moto assigned:

    {"region": "...",
     "vpcs": {world_id: vpc_id}, "subnets": {world_id: subnet_id},
     "zones": {world_id: zone_id_without_/hostedzone/},
     "instances": {world_id: instance_id},
     "names": {Name tag: instance_id}}

Any error (unreadable file, bad JSON, missing or ill-typed key, unknown
reference, moto refusing a call) is reported on stderr as
"seed: WORLD.json: json.path: message" and the script exits with status 2.
Only loopback moto is ever meant as the endpoint; the script refuses
anything else so it can never touch real AWS.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import sys
import urllib.parse
import uuid
from typing import Any, NoReturn

EXIT_ERROR = 2
DEFAULT_REGION = "us-east-1"
INSTANCE_TYPE = "t3.micro"
# Amazon Linux 2 image that moto ships for every region (checked with moto 5.x);
# used only when describe_images does not offer a better one.
FALLBACK_AMI = "ami-04681a1dbd79675a5"
INSTANCE_STATES = ("running", "stopped", "terminated")
# Record types Route 53 accepts (moto accepts anything, AWS does not).
RECORD_TYPES = ("A", "AAAA", "CAA", "CNAME", "DS", "HTTPS", "MX", "NAPTR", "NS",
                "PTR", "SOA", "SPF", "SRV", "SSHFP", "SVCB", "TLSA", "TXT")

# Keys the seeder knows; anything else only draws a warning.
KNOWN_KEYS = {
    "": {"region", "account", "vpcs", "subnets", "zones", "instances"},
    "vpcs": {"id", "cidr", "dns_support", "dns_hostnames", "dhcp_domain"},
    "subnets": {"id", "vpc", "cidr", "public"},
    "zones": {"id", "name", "private", "vpcs", "records"},
    "records": {"name", "type", "ttl", "values"},
    "instances": {
        "id", "name", "subnet", "private_ip", "public_ip", "state", "tags",
        "private_dns_name", "public_dns_name",
    },
}


class SeedError(Exception):
    """An error to report as `path: message` (no traceback)."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message


# --------------------------------------------------------------------------
# World validation: everything is checked before the first call to moto, so
# that input mistakes never leave a half-seeded server behind.
# --------------------------------------------------------------------------

_TYPE_NAMES = {str: "a string", bool: "a boolean", int: "an integer",
               list: "a list", dict: "an object"}


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    for t, name in _TYPE_NAMES.items():
        if isinstance(value, t):
            return name
    return type(value).__name__


def _get(obj: dict, key: str, path: str, typ: type, *, required: bool = True,
         default: Any = None) -> Any:
    kpath = f"{path}.{key}" if path else key
    if key not in obj or obj[key] is None:
        if required:
            raise SeedError(kpath, "missing required key")
        return default
    value = obj[key]
    ok = isinstance(value, typ)
    if typ is int and isinstance(value, bool):
        ok = False
    if not ok:
        raise SeedError(kpath, f"expected {_TYPE_NAMES[typ]}, got {_type_name(value)}")
    if typ is str and value == "":
        raise SeedError(kpath, "must not be empty")
    return value


def _list_of_objects(world: dict, key: str) -> list[tuple[str, dict]]:
    items = _get(world, key, "", list, required=False, default=[])
    out = []
    for i, item in enumerate(items):
        path = f"{key}[{i}]"
        if not isinstance(item, dict):
            raise SeedError(path, f"expected an object, got {_type_name(item)}")
        out.append((path, item))
    return out


def _warn_unknown(obj: dict, path: str, kind: str) -> None:
    for key in obj:
        if key not in KNOWN_KEYS[kind]:
            where = f"{path}.{key}" if path else key
            print(f"seed: warning: {where}: unknown key ignored", file=sys.stderr)


def _network(value: str, path: str) -> ipaddress.IPv4Network:
    try:
        return ipaddress.IPv4Network(value, strict=True)
    except ValueError as exc:
        raise SeedError(path, f"not an IPv4 CIDR block: {value!r} ({exc})") from None


def _address(value: str, path: str) -> ipaddress.IPv4Address:
    try:
        return ipaddress.IPv4Address(value)
    except ValueError:
        raise SeedError(path, f"not an IPv4 address: {value!r}") from None


def _dns_key(name: str) -> str:
    return name.lower().rstrip(".")


def _in_zone(record: str, zone: str) -> bool:
    r, z = _dns_key(record), _dns_key(zone)
    return r == z or r.endswith("." + z)


def _unique_id(item: dict, path: str, seen: dict[str, str], what: str) -> str:
    wid = _get(item, "id", path, str)
    if wid in seen:
        raise SeedError(f"{path}.id", f"duplicate {what} id {wid!r} (first at {seen[wid]})")
    seen[wid] = path
    return wid


def validate(world: Any) -> dict:
    """Check the world and return a normalised plan (plain dicts, defaults filled)."""
    if not isinstance(world, dict):
        raise SeedError("", f"top level: expected an object, got {_type_name(world)}")
    _warn_unknown(world, "", "")
    plan: dict[str, Any] = {"region": _get(world, "region", "", str, required=False,
                                           default=DEFAULT_REGION)}

    vpcs, vpc_cidrs, seen = [], {}, {}
    for path, v in _list_of_objects(world, "vpcs"):
        _warn_unknown(v, path, "vpcs")
        wid = _unique_id(v, path, seen, "vpc")
        cidr = _get(v, "cidr", path, str)
        vpc_cidrs[wid] = _network(cidr, f"{path}.cidr")
        vpcs.append({
            "path": path, "id": wid, "cidr": cidr,
            "dns_support": _get(v, "dns_support", path, bool, required=False, default=True),
            "dns_hostnames": _get(v, "dns_hostnames", path, bool, required=False, default=True),
            "dhcp_domain": _get(v, "dhcp_domain", path, str, required=False),
        })
    plan["vpcs"] = vpcs

    subnets, subnet_cidrs, seen = [], {}, {}
    for path, s in _list_of_objects(world, "subnets"):
        _warn_unknown(s, path, "subnets")
        wid = _unique_id(s, path, seen, "subnet")
        vpc = _get(s, "vpc", path, str)
        if vpc not in vpc_cidrs:
            raise SeedError(f"{path}.vpc", f"unknown vpc {vpc!r}")
        cidr = _get(s, "cidr", path, str)
        net = _network(cidr, f"{path}.cidr")
        if not net.subnet_of(vpc_cidrs[vpc]):
            raise SeedError(f"{path}.cidr",
                            f"{cidr} is not inside vpc {vpc!r} ({vpc_cidrs[vpc]})")
        subnet_cidrs[wid] = net
        subnets.append({
            "path": path, "id": wid, "vpc": vpc, "cidr": cidr,
            "public": _get(s, "public", path, bool, required=False, default=False),
        })
    plan["subnets"] = subnets

    zones, seen = [], {}
    for path, z in _list_of_objects(world, "zones"):
        _warn_unknown(z, path, "zones")
        wid = _unique_id(z, path, seen, "zone")
        name = _get(z, "name", path, str)
        private = _get(z, "private", path, bool)
        zvpcs = _get(z, "vpcs", path, list, required=False, default=[])
        for j, vpc in enumerate(zvpcs):
            vpath = f"{path}.vpcs[{j}]"
            if not isinstance(vpc, str):
                raise SeedError(vpath, f"expected a string, got {_type_name(vpc)}")
            if vpc not in vpc_cidrs:
                raise SeedError(vpath, f"unknown vpc {vpc!r}")
            if vpc in zvpcs[:j]:
                raise SeedError(vpath, f"vpc {vpc!r} listed twice")
        if private and not zvpcs:
            raise SeedError(f"{path}.vpcs", "a private zone needs at least one vpc")
        if not private and zvpcs:
            raise SeedError(f"{path}.vpcs", "a public zone cannot be associated with vpcs")
        records, seen_records = [], {}
        for j, r in enumerate(_get(z, "records", path, list, required=False, default=[])):
            rpath = f"{path}.records[{j}]"
            if not isinstance(r, dict):
                raise SeedError(rpath, f"expected an object, got {_type_name(r)}")
            _warn_unknown(r, rpath, "records")
            ttl = _get(r, "ttl", rpath, int)
            if ttl < 0:
                raise SeedError(f"{rpath}.ttl", f"must not be negative, got {ttl}")
            values = _get(r, "values", rpath, list)
            if not values:
                raise SeedError(f"{rpath}.values", "must not be empty")
            for k, val in enumerate(values):
                if not isinstance(val, str) or not val:
                    raise SeedError(f"{rpath}.values[{k}]",
                                    f"expected a non-empty string, got {_type_name(val)}")
            rname = _get(r, "name", rpath, str)
            if not _in_zone(rname, name):
                raise SeedError(f"{rpath}.name", f"{rname!r} is not inside zone {name!r}")
            rtype = _get(r, "type", rpath, str)
            if rtype not in RECORD_TYPES:
                raise SeedError(f"{rpath}.type", f"unknown record type {rtype!r}")
            if rtype == "CNAME" and len(values) != 1:
                raise SeedError(f"{rpath}.values", "a CNAME record takes exactly one value")
            key = (_dns_key(rname), rtype)
            if key in seen_records:
                raise SeedError(rpath, f"duplicate {rtype} record {rname!r} "
                                       f"(first at {seen_records[key]}); put all values in one record")
            seen_records[key] = rpath
            records.append({"path": rpath, "name": rname, "type": rtype,
                            "ttl": ttl, "values": values})
        zones.append({"path": path, "id": wid, "name": name, "private": private,
                      "vpcs": zvpcs, "records": records})
    plan["zones"] = zones

    instances, seen, used_ips = [], {}, {}
    for path, inst in _list_of_objects(world, "instances"):
        _warn_unknown(inst, path, "instances")
        wid = _unique_id(inst, path, seen, "instance")
        subnet = _get(inst, "subnet", path, str)
        if subnet not in subnet_cidrs:
            raise SeedError(f"{path}.subnet", f"unknown subnet {subnet!r}")
        private_ip = _get(inst, "private_ip", path, str)
        addr = _address(private_ip, f"{path}.private_ip")
        if addr not in subnet_cidrs[subnet]:
            raise SeedError(f"{path}.private_ip",
                            f"{private_ip} is not inside subnet {subnet!r} ({subnet_cidrs[subnet]})")
        net = subnet_cidrs[subnet]
        if int(addr) - int(net.network_address) < 4 or addr == net.broadcast_address:
            raise SeedError(f"{path}.private_ip",
                            f"{private_ip} is one of the addresses AWS reserves in {net}")
        public_ip = _get(inst, "public_ip", path, str, required=False)
        if public_ip is not None:
            _address(public_ip, f"{path}.public_ip")
        state = _get(inst, "state", path, str, required=False, default="running")
        if state not in INSTANCE_STATES:
            raise SeedError(f"{path}.state",
                            f"expected one of {', '.join(INSTANCE_STATES)}, got {state!r}")
        # moto answers a reused address with HTTP 500, and never frees the
        # address of a terminated instance, so every (subnet, ip) must be unique.
        if (subnet, private_ip) in used_ips:
            raise SeedError(f"{path}.private_ip",
                            f"{private_ip} is already used in subnet {subnet!r} by "
                            f"{used_ips[(subnet, private_ip)]} (moto never frees the "
                            f"address, even of a terminated instance)")
        used_ips[(subnet, private_ip)] = path
        tags = _get(inst, "tags", path, dict, required=False, default={})
        for key, val in tags.items():
            if not isinstance(val, str):
                raise SeedError(f"{path}.tags.{key}",
                                f"expected a string, got {_type_name(val)}")
        tags = dict(tags)
        name = _get(inst, "name", path, str, required=False)
        if name is not None:
            if "Name" in tags and tags["Name"] != name:
                raise SeedError(f"{path}.name",
                                f"{name!r} conflicts with tags.Name {tags['Name']!r}")
            tags["Name"] = name
        instances.append({"path": path, "id": wid, "subnet": subnet,
                          "private_ip": private_ip, "public_ip": public_ip,
                          "state": state, "tags": tags})
    plan["instances"] = instances
    return plan


# --------------------------------------------------------------------------
# Seeding
# --------------------------------------------------------------------------

class Seeder:
    def __init__(self, endpoint_url: str, region: str):
        import boto3
        from botocore.config import Config

        cfg = Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=60)
        self.region = region
        self.endpoint_url = endpoint_url
        self.ec2 = boto3.client("ec2", endpoint_url=endpoint_url, region_name=region,
                                config=cfg)
        # Route 53 is global; its API lives in us-east-1.
        self.r53 = boto3.client("route53", endpoint_url=endpoint_url,
                                region_name="us-east-1", config=cfg)

    @staticmethod
    def call(path: str, client: Any, op: str, **kwargs: Any) -> dict:
        """Call client.op(**kwargs), turning any failure into a SeedError at `path`."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(client, op)(**kwargs)
        except ClientError as exc:
            err = exc.response.get("Error", {})
            api = exc.operation_name
            raise SeedError(path, f"moto refused {api}: {err.get('Code', '?')}: "
                                  f"{err.get('Message', exc)}") from None
        except BotoCoreError as exc:
            raise SeedError(path, f"{op} failed: {exc}") from None
        except Exception as exc:  # e.g. moto answering 500 with an HTML page
            detail = " ".join(str(exc).split())
            raise SeedError(path, f"{op} failed ({type(exc).__name__}): {detail[:300]}") from None

    def pick_ami(self) -> str:
        images = self.call("", self.ec2, "describe_images", Owners=["amazon"], Filters=[
            {"Name": "name", "Values": ["amzn2-ami-hvm-*-x86_64-gp2"]},
        ])["Images"]
        # Newest Amazon Linux 2 image; prefer ones without a Platform field, as
        # real Linux AMIs have none.
        images.sort(key=lambda i: ("Platform" not in i, i.get("Name", "")), reverse=True)
        return images[0]["ImageId"] if images else FALLBACK_AMI

    def create_table(self, name: str) -> None:
        """The registry table, as infra/template.yaml defines it."""
        import boto3
        ddb = boto3.client("dynamodb", endpoint_url=self.endpoint_url, region_name=self.region)
        if name in self.call("table", ddb, "list_tables")["TableNames"]:
            return
        self.call("table", ddb, "create_table", TableName=name, BillingMode="PAY_PER_REQUEST",
                  AttributeDefinitions=[{"AttributeName": "InstanceId", "AttributeType": "S"}],
                  KeySchema=[{"AttributeName": "InstanceId", "KeyType": "HASH"}])

    def seed(self, plan: dict) -> dict:
        ec2, r53, call = self.ec2, self.r53, self.call
        out: dict[str, Any] = {"region": self.region, "vpcs": {}, "subnets": {},
                               "zones": {}, "instances": {}, "names": {}}

        for v in plan["vpcs"]:
            p = v["path"]
            vpc_id = call(p, ec2, "create_vpc", CidrBlock=v["cidr"])["Vpc"]["VpcId"]
            out["vpcs"][v["id"]] = vpc_id
            # AWS accepts only one attribute per ModifyVpcAttribute call.
            call(f"{p}.dns_support", ec2, "modify_vpc_attribute", VpcId=vpc_id,
                 EnableDnsSupport={"Value": v["dns_support"]})
            call(f"{p}.dns_hostnames", ec2, "modify_vpc_attribute", VpcId=vpc_id,
                 EnableDnsHostnames={"Value": v["dns_hostnames"]})
            if v["dhcp_domain"] is not None:
                dopt = call(f"{p}.dhcp_domain", ec2, "create_dhcp_options", DhcpConfigurations=[
                    {"Key": "domain-name", "Values": [v["dhcp_domain"]]},
                    {"Key": "domain-name-servers", "Values": ["AmazonProvidedDNS"]},
                ])["DhcpOptions"]["DhcpOptionsId"]
                call(f"{p}.dhcp_domain", ec2, "associate_dhcp_options",
                     DhcpOptionsId=dopt, VpcId=vpc_id)

        for s in plan["subnets"]:
            p = s["path"]
            subnet_id = call(p, ec2, "create_subnet", VpcId=out["vpcs"][s["vpc"]],
                             CidrBlock=s["cidr"])["Subnet"]["SubnetId"]
            out["subnets"][s["id"]] = subnet_id
            if s["public"]:
                call(f"{p}.public", ec2, "modify_subnet_attribute", SubnetId=subnet_id,
                     MapPublicIpOnLaunch={"Value": True})

        for z in plan["zones"]:
            p = z["path"]
            kwargs: dict[str, Any] = {
                "Name": z["name"],
                "CallerReference": f"seed-{z['id']}-{uuid.uuid4()}",
                "HostedZoneConfig": {"Comment": f"world zone {z['id']}",
                                     "PrivateZone": z["private"]},
            }
            if z["private"]:
                kwargs["VPC"] = {"VPCRegion": self.region,
                                 "VPCId": out["vpcs"][z["vpcs"][0]]}
            zone_id = call(p, r53, "create_hosted_zone", **kwargs)["HostedZone"]["Id"]
            zone_id = zone_id.removeprefix("/hostedzone/")
            out["zones"][z["id"]] = zone_id
            for j, vpc in enumerate(z["vpcs"][1:], start=1):
                call(f"{p}.vpcs[{j}]", r53, "associate_vpc_with_hosted_zone",
                     HostedZoneId=zone_id,
                     VPC={"VPCRegion": self.region, "VPCId": out["vpcs"][vpc]})
            if z["records"]:
                changes = [{
                    "Action": "CREATE",
                    "ResourceRecordSet": {
                        "Name": r["name"], "Type": r["type"], "TTL": r["ttl"],
                        "ResourceRecords": [{"Value": val} for val in r["values"]],
                    },
                } for r in z["records"]]
                call(f"{p}.records", r53, "change_resource_record_sets", HostedZoneId=zone_id,
                     ChangeBatch={"Comment": "seed", "Changes": changes})

        ami = self.pick_ami() if plan["instances"] else None
        for inst in plan["instances"]:
            p = inst["path"]
            kwargs = {
                "ImageId": ami, "InstanceType": INSTANCE_TYPE, "MinCount": 1, "MaxCount": 1,
                # A network interface spec makes the public-IP choice explicit,
                # whatever the subnet's MapPublicIpOnLaunch says.
                "NetworkInterfaces": [{
                    "DeviceIndex": 0,
                    "SubnetId": out["subnets"][inst["subnet"]],
                    "PrivateIpAddress": inst["private_ip"],
                    "AssociatePublicIpAddress": inst["public_ip"] is not None,
                }],
            }
            if inst["tags"]:
                kwargs["TagSpecifications"] = [{
                    "ResourceType": "instance",
                    "Tags": [{"Key": k, "Value": val} for k, val in inst["tags"].items()],
                }]
            instance_id = call(p, ec2, "run_instances", **kwargs)["Instances"][0]["InstanceId"]
            out["instances"][inst["id"]] = instance_id
            name = inst["tags"].get("Name")
            if name is not None:
                if name in out["names"]:
                    print(f"seed: warning: {p}.name: Name {name!r} already used; "
                          f"names[{name!r}] keeps {out['names'][name]}", file=sys.stderr)
                else:
                    out["names"][name] = instance_id
            if inst["state"] == "stopped":
                call(f"{p}.state", ec2, "stop_instances", InstanceIds=[instance_id])
            elif inst["state"] == "terminated":
                call(f"{p}.state", ec2, "terminate_instances", InstanceIds=[instance_id])
        return out


def check_endpoint(url: str) -> None:
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise SeedError("--endpoint-url", f"not an http(s) URL: {url!r}")
    host = parsed.hostname
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise SeedError("--endpoint-url", f"{url!r} is not a loopback address; "
                                      "this seeder only talks to a local moto server")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Seed a moto server with a world JSON file.")
    ap.add_argument("--endpoint-url", required=True,
                    help="moto server URL, e.g. http://127.0.0.1:5000")
    ap.add_argument("--reset", action="store_true",
                    help="reset the moto server (POST /moto-api/reset) before seeding")
    ap.add_argument("--table", default="DDNS",
                    help="DynamoDB registry table to create (partition key InstanceId, S); "
                         "'' to create none (default: DDNS)")
    ap.add_argument("world", help="path to the world JSON file")
    args = ap.parse_args(argv)

    def fail(msg: str) -> NoReturn:
        print(f"seed: {args.world}: {msg}", file=sys.stderr)
        raise SystemExit(EXIT_ERROR)

    try:
        check_endpoint(args.endpoint_url)
    except SeedError as exc:
        print(f"seed: {exc}", file=sys.stderr)
        return EXIT_ERROR

    try:
        with open(args.world, encoding="utf-8") as fh:
            world = json.load(fh)
    except OSError as exc:
        fail(f"cannot read file: {exc.strerror or exc}")
    except UnicodeDecodeError as exc:
        fail(f"not UTF-8: {exc}")
    except json.JSONDecodeError as exc:
        fail(f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}")

    try:
        plan = validate(world)
    except SeedError as exc:
        fail(str(exc))

    # Dummy credentials: moto accepts anything, and real ones must never be used.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    try:
        import boto3  # noqa: F401
    except ImportError:
        fail("boto3 is not installed for this python (pip install boto3)")

    if args.reset:
        import urllib.request
        urllib.request.urlopen(urllib.request.Request(
            args.endpoint_url.rstrip("/") + "/moto-api/reset", method="POST"), timeout=30)
    try:
        seeder = Seeder(args.endpoint_url, plan["region"])
        mapping = seeder.seed(plan)
        if args.table:
            seeder.create_table(args.table)
            mapping["table"] = args.table
    except SeedError as exc:
        fail(str(exc))
    json.dump(mapping, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
