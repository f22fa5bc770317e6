#!/usr/bin/env python3
"""Seed a running moto server with a "world" JSON file.

Usage:
    python tests/emulator/seed.py --endpoint-url http://127.0.0.1:PORT [--reset]
        [--table DDNS] [--member-role ec2-ddns-reader]
        [--member-external-id ec2-ddns-test] WORLD.json

Creates the world's VPCs (DNS attributes, DHCP options), subnets, hosted
zones, instances (stopped or terminated as the world says), ECS clusters and
tasks, then the zones' records (plain and alias, simple or with a routing
policy), the DynamoDB registry table, and the world's `registry` items in it,
with world ids translated to the ids moto assigned. Prints ONE JSON object on
stdout mapping world ids to those ids:

    {"region": "...",
     "vpcs": {world_id: vpc_id}, "subnets": {world_id: subnet_id},
     "zones": {world_id: zone_id_without_/hostedzone/},
     "instances": {world_id: instance_id},
     "names": {Name tag: instance_id},
     "clusters": {name: cluster_arn},
     "tasks": {world_id: task_arn},
     "task_names": {name: task_arn},
     "table": "DDNS"}

and, only for a world with `members` (the organization mode), one more key:

     "members": {"ACCOUNT/REGION": {"account": "ACCOUNT", "region": "REGION",
                                    "vpcs": {...}, "subnets": {...},
                                    "instances": {...}, "names": {...},
                                    "clusters": {...}, "tasks": {...},
                                    "task_names": {...}}}

Members: each member world (its own account and region; VPCs, subnets,
instances, clusters and tasks, seeded as the central world's are) is seeded
in its account, with the credentials of sts:AssumeRole of
arn:aws:iam::ACCOUNT:role/OrganizationAccountAccessRole (session
ec2-ddns-seed), the role AWS Organizations makes in each member account and
strict_moto.py (change 10) takes to exist in every account. Members are
seeded after the central world's VPCs and subnets and before its zones: a
central private zone may name member VPCs, and is associated with each in its
region. Then, unless the member has `"role_refused": true`, the seeder makes
there (once per account) the role the central function assumes: --member-role
(default ec2-ddns-reader), trusting arn:aws:iam::CENTRAL_ACCOUNT:root with
StringEquals sts:ExternalId --member-external-id (default ec2-ddns-test; ''
for no condition). A registry key `instance#ACCOUNT#REGION#ID` naming a
member's world instance, and `task#` with a member task's world ARN, are
translated to moto's ids too.

ECS: each cluster is created (CreateCluster); each task definition family is
registered once per network mode (RegisterTaskDefinition, one container;
awsvpc ones FARGATE-compatible); each task is run alone (RunTask FARGATE,
count 1, group `service:NAME` for a service's task, else moto's
`family:NAME`, its tags, networkConfiguration with the task's subnet and
assignPublicIp ENABLED when the world gives it a public_ip), then stopped
(StopTask) when the world's status is one of stopping or stopped. ECS, like
moto, picks a task's id and addresses: the world's private_ip and public_ip
are not kept (the map says which ARN each world task became). A task still
starting in the world (PROVISIONING, PENDING, ACTIVATING) is not run: moto
would start it RUNNING at once; stderr says so. Only FARGATE tasks in awsvpc
mode are made: the EC2 launch type needs container instances (exit 2). A set
identifier or a registry key naming a world task (its id; `task#` and its
world ARN) is translated to moto's.

A record with `"routing"` and `"set_identifier"` (a group member's
multivalue-answer record set, or someone's weighted, latency, ... one) is
created with its SetIdentifier and the policy's field: multivalue
MultiValueAnswer true, weighted Weight 1, latency Region (the world's region),
failover Failover PRIMARY, geolocation GeoLocation {CountryCode: "*"}. A set
identifier that is a world instance id becomes moto's id of that instance (the
registrar names a member's record set by its instance id), which is why the
records are created after the instances. Registry records keep theirs as
`SetIdentifier` and `Routing`, as crates/aws/src/dynamodb/item.rs writes them,
translated the same way.

The seeder checks nothing: world files are checked by the Rust loader
(`World::load`; any ec2-ddns command that takes --world), and the test
harness always loads a world with it before seeding. The seeder reads the
file, applies the defaults the Rust loader applies, ignores keys it does not
use, and seeds. Errors go to stderr as one line and exit with status 2:

    seed: WORLD.json: not a world this seeder can read (<what>); check it with
        the Rust loader (any ec2-ddns command that takes --world)
    seed: WORLD.json: json.path: moto refused Op: Code: message

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
# How each instance state is reached after launch (None: as launched).
STATE_ACTIONS = {
    "pending": None, "running": None,
    "stopping": "stop_instances", "stopped": "stop_instances",
    "shutting-down": "terminate_instances", "terminated": "terminate_instances",
}
# ECS task statuses after which the seeder stops the task it ran, and those
# before RUNNING (not run: moto starts every task RUNNING).
TASK_STOPPED = {"DEACTIVATING", "STOPPING", "DEPROVISIONING", "STOPPED", "DELETED"}
TASK_STARTING = {"PROVISIONING", "PENDING", "ACTIVATING"}
TASK_STATUSES = TASK_STOPPED | TASK_STARTING | {"RUNNING"}
# The one container of a seeded task definition (moto needs its memory).
TASK_CONTAINER = {"name": "app", "image": "public.ecr.aws/docker/library/busybox:latest",
                  "essential": True, "cpu": 256, "memory": 512}
DEFAULT_ACCOUNT = "123456789012"
# The organization mode: the role AWS Organizations makes in each member
# account, which the seeder assumes to act there; its session name; and the
# defaults of the member role it makes (infra/member.yaml's ReaderRoleName and
# ExternalId as the tests use them).
ORGANIZATION_ROLE = "OrganizationAccountAccessRole"
SEED_SESSION = "ec2-ddns-seed"
DEFAULT_MEMBER_ROLE = "ec2-ddns-reader"
DEFAULT_MEMBER_EXTERNAL_ID = "ec2-ddns-test"
# Alias targets are seeded as ELB targets: the hosted zone id of us-east-1
# load balancers (what Route 53 expects in AliasTarget.HostedZoneId).
ALIAS_HOSTED_ZONE_ID = "Z35SXDOTRQ7X7K"
# The field and value each routing policy of a world record is seeded with (the
# value: a constant, or a function of the world's region). Policies the Rust
# model knows but that need more than a constant (ip-based: a CIDR collection;
# geoproximity: a location) are not seeded.
ROUTING_FIELDS: dict[str, tuple[str, Any]] = {
    "multivalue": ("MultiValueAnswer", True),
    "weighted": ("Weight", 1),
    "latency": ("Region", lambda region: region),
    "failover": ("Failover", "PRIMARY"),
    "geolocation": ("GeoLocation", {"CountryCode": "*"}),
}
RUST_LOADER_HINT = "check it with the Rust loader (any ec2-ddns command that takes --world)"


class SeedError(Exception):
    """moto refused a call (or could not be reached): `path: message`."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}" if path else message)


class NotAWorld(Exception):
    """The file is not a world this seeder can read."""


class Trail:
    """Where in the world the seeder is, for error messages."""

    def __init__(self) -> None:
        self.at = ""


def _opt(obj: dict, key: str, default: Any = None) -> Any:
    """obj[key], or `default` when the key is absent or null."""
    value = obj.get(key)
    return default if value is None else value


def _zone_key(zone_id: str) -> str:
    """A zone id as the Rust loader compares it."""
    return zone_id.removeprefix("/hostedzone/")


def read_world(world: Any, trail: Trail, at: str = "") -> dict:
    """The world with the Rust loader's defaults filled in. No checks: a key
    that is missing or of the wrong type simply raises (KeyError, TypeError,
    AttributeError, ValueError...), before anything is sent to moto. `at`
    prefixes every path (a member's: `members[I].`)."""
    trail.at = at
    plan: dict[str, Any] = {"region": _opt(world, "region", DEFAULT_REGION)}

    plan["vpcs"] = []
    for i, v in enumerate(_opt(world, "vpcs", [])):
        trail.at = p = f"{at}vpcs[{i}]"
        plan["vpcs"].append({
            "path": p, "id": v["id"], "cidr": v["cidr"], "ipv6_cidr": _opt(v, "ipv6_cidr"),
            "dns_support": _opt(v, "dns_support", True),
            "dns_hostnames": _opt(v, "dns_hostnames", True),
            "dhcp_domain": _opt(v, "dhcp_domain"),
        })

    plan["subnets"] = []
    for i, s in enumerate(_opt(world, "subnets", [])):
        trail.at = p = f"{at}subnets[{i}]"
        plan["subnets"].append({"path": p, "id": s["id"], "vpc": s["vpc"],
                                "cidr": _opt(s, "cidr"), "ipv6_cidr": _opt(s, "ipv6_cidr"),
                                "ipv6_native": _opt(s, "ipv6_native", False),
                                "public": _opt(s, "public", False)})

    plan["zones"] = []
    for i, z in enumerate(_opt(world, "zones", [])):
        trail.at = p = f"{at}zones[{i}]"
        zone = {"path": p, "id": z["id"], "name": z["name"], "private": z["private"],
                "vpcs": list(_opt(z, "vpcs", [])), "records": []}
        for j, r in enumerate(_opt(z, "records", [])):
            trail.at = f"{p}.records[{j}]"
            rrset: dict[str, Any] = {"Name": r["name"], "Type": r["type"]}
            alias = _opt(r, "alias")
            if alias is not None:
                rrset["AliasTarget"] = {"HostedZoneId": ALIAS_HOSTED_ZONE_ID,
                                        "DNSName": alias, "EvaluateTargetHealth": False}
            else:
                rrset["TTL"] = r["ttl"]
                rrset["ResourceRecords"] = [{"Value": val} for val in r["values"]]
            policy = _opt(r, "routing", "simple")
            if policy != "simple":
                trail.at = f"{p}.records[{j}].routing"
                field, value = routing_field(policy, plan["region"])
                rrset[field] = value
                trail.at = f"{p}.records[{j}].set_identifier"
                # A world instance id here is translated when the records are
                # created, after the instances (`Seeder.seed`).
                rrset["SetIdentifier"] = r["set_identifier"]
            zone["records"].append(rrset)
        plan["zones"].append(zone)

    plan["instances"] = []
    for i, inst in enumerate(_opt(world, "instances", [])):
        trail.at = p = f"{at}instances[{i}]"
        tags = dict(_opt(inst, "tags", {}))
        name = _opt(inst, "name")
        if name is not None:
            tags["Name"] = name
        state = _opt(inst, "state", "running")
        if state not in STATE_ACTIONS:
            trail.at = f"{p}.state"
            raise ValueError(f"unknown instance state {state!r}")
        plan["instances"].append({
            "path": p, "id": inst["id"], "subnet": inst["subnet"],
            "private_ip": _opt(inst, "private_ip"), "public_ip": _opt(inst, "public_ip"),
            "ipv6": _opt(inst, "ipv6"),
            "state": state, "tags": tags,
        })

    plan["account"] = _opt(world, "account", DEFAULT_ACCOUNT)
    plan["clusters"] = []
    for i, c in enumerate(_opt(world, "clusters", [])):
        trail.at = p = f"{at}clusters[{i}]"
        plan["clusters"].append({"path": p, "name": c["name"]})

    plan["tasks"] = []
    for i, t in enumerate(_opt(world, "tasks", [])):
        trail.at = p = f"{at}tasks[{i}]"
        status = _opt(t, "status", "RUNNING")
        if status not in TASK_STATUSES:
            trail.at = f"{p}.status"
            raise ValueError(f"unknown task status {status!r}")
        launch_type = _opt(t, "launch_type", "FARGATE")
        mode = _opt(t, "network_mode", "awsvpc")
        if launch_type != "FARGATE" or mode != "awsvpc":
            trail.at = f"{p}.launch_type"
            raise ValueError(f"a task of launch type {launch_type} in {mode} mode is not one "
                             "this seeder makes (FARGATE in awsvpc mode only: moto places "
                             "other tasks on container instances)")
        plan["tasks"].append({
            "path": p, "id": t["id"], "name": _opt(t, "name"), "cluster": t["cluster"],
            "family": t["family"], "service": _opt(t, "service"), "subnet": t["subnet"],
            "public_ip": _opt(t, "public_ip") is not None, "status": status,
            "tags": dict(_opt(t, "tags", {})),
            "world_arn": f"arn:aws:ecs:{plan['region']}:{plan['account']}:task/"
                         f"{t['cluster']}/{t['id']}",
        })

    plan["registry"] = []
    for i, item in enumerate(_opt(world, "registry", [])):
        trail.at = p = f"{at}registry[{i}]"
        records = []
        for j, owned in enumerate(_opt(item, "records", [])):
            trail.at = f"{p}.records[{j}]"
            rec = owned["record"]
            entry = {"zone_id": owned["zone_id"], "zone_name": owned["zone_name"],
                     "name": rec["name"], "type": rec["type"], "ttl": rec["ttl"],
                     "values": list(rec["values"])}
            policy = _opt(rec, "routing", "simple")
            if policy != "simple":
                entry["routing"] = policy
                entry["set_identifier"] = rec["set_identifier"]
            records.append(entry)
        trail.at = p
        plan["registry"].append({
            "path": p, "instance_id": item["instance_id"],
            "version": _opt(item, "version", 0), "records": records,
            **{key: _opt(item, key) for key in (
                "last_event_time", "last_event_id", "last_state",
                "private_ip", "public_ip", "vpc_id")},
        })

    # The organization mode's member worlds: EC2 and ECS of other accounts (or
    # regions), each read as a world of its own (the Rust loader refuses zones,
    # a registry or members in one).
    plan["members"] = []
    for i, m in enumerate(_opt(world, "members", [])):
        trail.at = p = f"{at}members[{i}]"
        account = m["account"]
        if not isinstance(account, str):
            raise TypeError(f"account {account!r} is not a string")
        member = read_world(m, trail, f"{p}.")
        member.update(path=p, role_refused=_opt(m, "role_refused", False) is True)
        plan["members"].append(member)
    trail.at = ""
    return plan


def routing_field(policy: Any, region: str) -> tuple[str, Any]:
    """The field, and its value, that a record set of this routing policy is
    created with in moto (`ROUTING_FIELDS`); ValueError for any other."""
    try:
        field, value = ROUTING_FIELDS[policy]
    except (KeyError, TypeError):
        raise ValueError(f"routing {policy!r} is not one this seeder makes "
                         f"(expected one of {', '.join(['simple', *ROUTING_FIELDS])})") from None
    return field, value(region) if callable(value) else value


def describe(exc: BaseException) -> str:
    """What went wrong reading or seeding the world, in a few words."""
    if isinstance(exc, KeyError):
        return f"missing key {exc.args[0]!r}" if exc.args else "missing key"
    if isinstance(exc, (TypeError, AttributeError)):
        return f"unexpected type: {exc}"
    return str(exc)


class Seeder:
    """Seeds one account: the central one (moto's default credentials), or a
    member's (`credentials` from sts:AssumeRole, which moto acts on in the
    role's account)."""

    def __init__(self, endpoint_url: str, region: str, trail: Trail,
                 credentials: dict[str, str] | None = None):
        import boto3
        from botocore.config import Config

        cfg = Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=60)
        self.endpoint_url = endpoint_url
        self.region = region
        self.trail = trail
        keys = {} if credentials is None else {
            "aws_access_key_id": credentials["AccessKeyId"],
            "aws_secret_access_key": credentials["SecretAccessKey"],
            "aws_session_token": credentials["SessionToken"]}

        def client(service: str, in_region: str = region) -> Any:
            return boto3.client(service, endpoint_url=endpoint_url, region_name=in_region,
                                config=cfg, **keys)

        self.ec2 = client("ec2")
        # Route 53 and IAM are global; their APIs live in us-east-1.
        self.r53 = client("route53", "us-east-1")
        self.ddb = client("dynamodb")
        self.ecs = client("ecs")
        self.iam = client("iam", "us-east-1")
        self.sts = client("sts")
        # A world task's ARN (as the Rust loader makes it) -> moto's.
        self.task_arns: dict[str, str] = {}
        # World zone id as the Rust loader compares it -> moto's zone id.
        self.zone_ids: dict[str, str] = {}

    def call(self, path: str, client: Any, op: str, **kwargs: Any) -> dict:
        """Call client.op(**kwargs). moto refusing it becomes a SeedError at
        `path`; botocore refusing the parameters (a world value of the wrong
        type) becomes NotAWorld."""
        from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

        self.trail.at = path
        try:
            return getattr(client, op)(**kwargs)
        except ClientError as exc:
            err = exc.response.get("Error", {})
            api = exc.operation_name
            raise SeedError(path, f"moto refused {api}: {err.get('Code', '?')}: "
                                  f"{' '.join(str(err.get('Message', exc)).split())}") from None
        except ParamValidationError as exc:
            raise NotAWorld(f"{op}: {' '.join(str(exc).split())}") from None
        except BotoCoreError as exc:
            raise SeedError(path, f"{op} failed: {' '.join(str(exc).split())}") from None
        except Exception as exc:  # e.g. moto answering 500 with an HTML page
            detail = " ".join(str(exc).split())
            raise SeedError(path, f"{op} failed ({type(exc).__name__}): {detail[:300]}") from None

    def ref(self, ids: dict, world_id: Any, what: str) -> str:
        """The moto id of a world id seeded earlier."""
        try:
            return ids[world_id]
        except KeyError:
            raise ValueError(f"unknown {what} {world_id!r}") from None

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
        if name in self.call("table", self.ddb, "list_tables")["TableNames"]:
            return
        self.call("table", self.ddb, "create_table", TableName=name,
                  BillingMode="PAY_PER_REQUEST",
                  AttributeDefinitions=[{"AttributeName": "InstanceId", "AttributeType": "S"}],
                  KeySchema=[{"AttributeName": "InstanceId", "KeyType": "HASH"}])

    def seed(self, plan: dict, members: Members | None = None) -> dict:
        """The central world: its network, then its members' worlds (whose
        VPCs its private zones may name), its zones, instances, tasks and
        records. `members` seeds the members (none when the world has none)."""
        call = self.call
        out: dict[str, Any] = {"region": self.region, "vpcs": {}, "subnets": {},
                               "zones": {}, "instances": {}, "names": {},
                               "clusters": {}, "tasks": {}, "task_names": {}}
        self.seed_network(plan, out)
        # Where each world VPC id became a moto VPC: (moto id, region), the
        # central world's first. Ids are unique within a world only; a zone
        # naming an id that several worlds use is associated with each.
        vpc_places: dict[str, list[tuple[str, str]]] = {}
        for world_id, vpc_id in out["vpcs"].items():
            vpc_places.setdefault(world_id, []).append((vpc_id, self.region))
        if plan["members"]:
            assert members is not None, "a world with members needs Members"
            out["members"] = {}
            for m in plan["members"]:
                mapped = members.seed(m, self.task_arns)
                out["members"][f"{m['account']}/{m['region']}"] = mapped
                for world_id, vpc_id in mapped["vpcs"].items():
                    vpc_places.setdefault(world_id, []).append((vpc_id, m["region"]))
        self.seed_zones(plan, out, vpc_places)
        self.seed_instances(plan, out)
        self.seed_tasks(plan, out)

        # The records last: a set identifier may name an instance or a task
        # (a group member's record set), and moto's id for it is known only now.
        for z in plan["zones"]:
            if z["records"]:
                changes = [{"Action": "CREATE",
                            "ResourceRecordSet": self.with_instance_ids(rrset, out)}
                           for rrset in z["records"]]
                call(f"{z['path']}.records", self.r53, "change_resource_record_sets",
                     HostedZoneId=out["zones"][z["id"]],
                     ChangeBatch={"Comment": "seed", "Changes": changes})
        return out

    def seed_network(self, plan: dict, out: dict) -> None:
        """The world's VPCs (DNS attributes, DHCP options) and subnets."""
        ec2, call, ref = self.ec2, self.call, self.ref
        for v in plan["vpcs"]:
            p = v["path"]
            vpc_args: dict[str, Any] = {"CidrBlock": v["cidr"]}
            if v["ipv6_cidr"] is not None:
                # A given IPv6 block (BYOIP or IPAM in AWS); moto needs
                # strict_moto.py's MOTO GAP 6a to keep it.
                vpc_args["Ipv6CidrBlock"] = v["ipv6_cidr"]
            vpc_id = call(p, ec2, "create_vpc", **vpc_args)["Vpc"]["VpcId"]
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
            p = self.trail.at = s["path"]
            vpc_id = ref(out["vpcs"], s["vpc"], "vpc")
            subnet_args: dict[str, Any] = {"VpcId": vpc_id}
            if s["cidr"] is not None:
                subnet_args["CidrBlock"] = s["cidr"]
            if s["ipv6_cidr"] is not None:
                subnet_args["Ipv6CidrBlock"] = s["ipv6_cidr"]
            if s["ipv6_native"]:
                # An IPv6-only subnet: its instances get no private IPv4
                # (strict_moto.py's MOTO GAP 6d).
                subnet_args["Ipv6Native"] = True
            subnet_id = call(p, ec2, "create_subnet", **subnet_args)["Subnet"]["SubnetId"]
            out["subnets"][s["id"]] = subnet_id
            if s["public"]:
                call(f"{p}.public", ec2, "modify_subnet_attribute", SubnetId=subnet_id,
                     MapPublicIpOnLaunch={"Value": True})

    def seed_zones(self, plan: dict, out: dict,
                   vpc_places: dict[str, list[tuple[str, str]]]) -> None:
        """The world's hosted zones, each private one associated with the VPCs
        it names: the central world's or its members' (`vpc_places`)."""
        r53, call, ref = self.r53, self.call, self.ref
        zone_ids = self.zone_ids
        for z in plan["zones"]:
            p = self.trail.at = z["path"]
            # Route 53 associates VPCs with private zones only (the Rust
            # loader refuses `vpcs` on a public zone).
            vpcs = [place for vpc in z["vpcs"] for place in ref(vpc_places, vpc, "vpc")] \
                if z["private"] else []
            kwargs: dict[str, Any] = {
                "Name": z["name"],
                "CallerReference": f"seed-{z['id']}-{uuid.uuid4()}",
                "HostedZoneConfig": {"Comment": f"world zone {z['id']}",
                                     "PrivateZone": z["private"]},
            }
            if vpcs:
                kwargs["VPC"] = {"VPCRegion": vpcs[0][1], "VPCId": vpcs[0][0]}
            zone_id = call(p, r53, "create_hosted_zone", **kwargs)["HostedZone"]["Id"]
            zone_id = zone_id.removeprefix("/hostedzone/")
            out["zones"][z["id"]] = zone_id
            zone_ids[_zone_key(z["id"])] = zone_id
            # A member account's VPC is associated from the central account.
            # Route 53 needs the zone's owner to call
            # CreateVPCAssociationAuthorization first and the VPC's owner to
            # associate it; moto checks neither, so the central account
            # associates it directly, as it does its own VPCs.
            for j, (vpc_id, vpc_region) in enumerate(vpcs[1:], start=1):
                call(f"{p}.vpcs[{j}]", r53, "associate_vpc_with_hosted_zone",
                     HostedZoneId=zone_id, VPC={"VPCRegion": vpc_region, "VPCId": vpc_id})

    def seed_instances(self, plan: dict, out: dict) -> None:
        """The world's instances, with their addresses, tags and state."""
        ec2, call, ref = self.ec2, self.call, self.ref
        ami = self.pick_ami() if plan["instances"] else None
        for inst in plan["instances"]:
            p = self.trail.at = inst["path"]
            nic: dict[str, Any] = {
                "DeviceIndex": 0,
                "SubnetId": ref(out["subnets"], inst["subnet"], "subnet"),
                "AssociatePublicIpAddress": inst["public_ip"] is not None,
            }
            if inst["private_ip"] is not None:
                nic["PrivateIpAddress"] = inst["private_ip"]
            if inst["ipv6"] is not None:
                # Honoured by moto through strict_moto.py's MOTO GAP 6c.
                nic["Ipv6Addresses"] = [{"Ipv6Address": inst["ipv6"]}]
            kwargs = {
                "ImageId": ami, "InstanceType": INSTANCE_TYPE, "MinCount": 1, "MaxCount": 1,
                # A network interface spec makes the public-IP choice explicit,
                # whatever the subnet's MapPublicIpOnLaunch says.
                "NetworkInterfaces": [nic],
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
            action = STATE_ACTIONS[inst["state"]]
            if action is not None:
                call(f"{p}.state", ec2, action, InstanceIds=[instance_id])

    def seed_tasks(self, plan: dict, out: dict) -> None:
        """The world's clusters, a task definition per family and network
        mode, and its tasks (see the module docstring)."""
        ecs, call, ref = self.ecs, self.call, self.ref
        for c in plan["clusters"]:
            arn = call(c["path"], ecs, "create_cluster", clusterName=c["name"])["cluster"]
            out["clusters"][c["name"]] = arn["clusterArn"]
        definitions: dict[str, str] = {}
        for t in plan["tasks"]:
            p = self.trail.at = t["path"]
            if t["status"] in TASK_STARTING:
                print(f"seed: note: {p}: {t['status']}: not run (moto starts a task RUNNING "
                      "at once); run it when the world's task runs", file=sys.stderr)
                continue
            cluster = ref(out["clusters"], t["cluster"], "cluster")
            family = t["family"]
            if family not in definitions:
                definitions[family] = call(
                    f"{p}.family", ecs, "register_task_definition", family=family,
                    networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256",
                    memory="512", containerDefinitions=[TASK_CONTAINER],
                )["taskDefinition"]["taskDefinitionArn"]
            kwargs: dict[str, Any] = {
                "cluster": cluster, "taskDefinition": definitions[family],
                "launchType": "FARGATE", "count": 1,
                "networkConfiguration": {"awsvpcConfiguration": {
                    "subnets": [ref(out["subnets"], t["subnet"], "subnet")],
                    "assignPublicIp": "ENABLED" if t["public_ip"] else "DISABLED",
                }},
            }
            if t["service"] is not None:
                kwargs["group"] = f"service:{t['service']}"
            if t["tags"]:
                kwargs["tags"] = [{"key": k, "value": v} for k, v in t["tags"].items()]
            ran = call(p, ecs, "run_task", **kwargs)
            if not ran.get("tasks"):
                raise SeedError(p, f"moto ran no task: {ran.get('failures')}")
            arn = ran["tasks"][0]["taskArn"]
            out["tasks"][t["id"]] = arn
            self.task_arns[t["world_arn"]] = arn
            if t["name"] is not None:
                out["task_names"][t["name"]] = arn
            if t["status"] in TASK_STOPPED:
                call(f"{p}.status", ecs, "stop_task", cluster=cluster, task=arn,
                     reason="seed: stopped in the world")

    @staticmethod
    def with_instance_ids(rrset: dict, out: dict) -> dict:
        """The record set with a SetIdentifier that is a world instance id
        (or task id) replaced by moto's id of that instance (or task); any
        other is kept."""
        sid = rrset.get("SetIdentifier")
        if sid is not None and sid in out["tasks"]:
            return {**rrset, "SetIdentifier": out["tasks"][sid].rsplit("/", 1)[-1]}
        if sid is None or sid not in out["instances"]:
            return rrset
        return {**rrset, "SetIdentifier": out["instances"][sid]}

    def write_registry(self, table: str, plan: dict, out: dict) -> None:
        """The world's registry items, as the Rust registry writes them, with
        world instance, zone and VPC ids translated to moto's (ids the world
        does not define are kept as they are)."""
        zone_ids = self.zone_ids
        for item in plan["registry"]:
            p = self.trail.at = item["path"]
            records = []
            for r in item["records"]:
                entry = {
                    "ZoneId": {"S": zone_ids.get(_zone_key(r["zone_id"]), r["zone_id"])},
                    "ZoneName": {"S": r["zone_name"]},
                    "Name": {"S": r["name"]},
                    "Type": {"S": r["type"]},
                    "TTL": {"N": str(r["ttl"])},
                    "Values": {"L": [{"S": val} for val in r["values"]]},
                }
                if "set_identifier" in r:
                    # A group member's record set; a simple one has neither.
                    sid = r["set_identifier"]
                    if sid in out["tasks"]:
                        sid = out["tasks"][sid].rsplit("/", 1)[-1]
                    entry["SetIdentifier"] = {"S": out["instances"].get(sid, sid)}
                    entry["Routing"] = {"S": r["routing"]}
                records.append({"M": entry})
            key = item["instance_id"]
            vpcs = out["vpcs"]
            if key.startswith("task#") and key[len("task#"):] in self.task_arns:
                key = "task#" + self.task_arns[key[len("task#"):]]
            placed = key.split("#")
            member = out.get("members", {}).get("/".join(placed[1:3]))
            if placed[0] == "instance" and len(placed) == 4 and member is not None:
                # A member's instance: instance#ACCOUNT#REGION#ID.
                key = "#".join([*placed[:3], member["instances"].get(placed[3], placed[3])])
                vpcs = member["vpcs"]
            attrs: dict[str, Any] = {
                "InstanceId": {"S": out["instances"].get(key, key)},
                "Version": {"N": str(item["version"])},
                "Records": {"L": records},
            }
            vpc_id = item["vpc_id"]
            for attr, value in (("LastEventTime", item["last_event_time"]),
                                ("LastEventId", item["last_event_id"]),
                                ("LastState", item["last_state"]),
                                ("PrivateIp", item["private_ip"]),
                                ("PublicIp", item["public_ip"]),
                                ("VpcId", vpcs.get(vpc_id, vpc_id))):
                if value is not None:
                    attrs[attr] = {"S": value}
            self.call(p, self.ddb, "put_item", TableName=table, Item=attrs)


class Members:
    """Seeds the organization mode's member worlds, each in its account and
    region, as that account: with credentials of sts:AssumeRole of the role AWS
    Organizations makes in each member account (strict_moto.py's change 10
    takes it to exist everywhere), then makes there the role the central
    function assumes, unless the member's `role_refused` says it has none."""

    def __init__(self, central: Seeder, central_account: str, role: str,
                 external_id: str):
        self.central = central
        self.central_account = central_account
        self.role = role
        self.external_id = external_id
        self.roles_made: set[str] = set()

    def trust_policy(self) -> str:
        """The member role's trust: the central account, with the external id
        (StringEquals sts:ExternalId) unless it is ''."""
        statement: dict[str, Any] = {
            "Effect": "Allow", "Action": "sts:AssumeRole",
            "Principal": {"AWS": f"arn:aws:iam::{self.central_account}:root"}}
        if self.external_id:
            statement["Condition"] = {"StringEquals": {"sts:ExternalId": self.external_id}}
        return json.dumps({"Version": "2012-10-17", "Statement": [statement]})

    def seed(self, plan: dict, task_arns: dict[str, str]) -> dict:
        """One member world; its mapping (see the module docstring)."""
        p, account, region = plan["path"], plan["account"], plan["region"]
        central = self.central
        credentials = central.call(
            f"{p}.account", central.sts, "assume_role",
            RoleArn=f"arn:aws:iam::{account}:role/{ORGANIZATION_ROLE}",
            RoleSessionName=SEED_SESSION)["Credentials"]
        seeder = Seeder(central.endpoint_url, region, central.trail, credentials)
        # Registry keys name member tasks by their world ARN too.
        seeder.task_arns = task_arns
        out: dict[str, Any] = {"account": account, "region": region, "vpcs": {},
                               "subnets": {}, "instances": {}, "names": {},
                               "clusters": {}, "tasks": {}, "task_names": {}}
        seeder.seed_network(plan, out)
        seeder.seed_instances(plan, out)
        seeder.seed_tasks(plan, out)
        # A role is the account's, whatever the region: made once.
        if not plan["role_refused"] and account not in self.roles_made:
            seeder.call(p, seeder.iam, "create_role",
                        RoleName=self.role, AssumeRolePolicyDocument=self.trust_policy(),
                        Description="ec2-ddns member role (seeded): the central "
                                    "function reads this account through it")
            self.roles_made.add(account)
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
                    help="DynamoDB registry table to create (partition key InstanceId, S) "
                         "and write the world's registry items into; "
                         "'' to create none (default: DDNS)")
    ap.add_argument("--member-role", default=DEFAULT_MEMBER_ROLE,
                    help="the role made in each member account (unless the member says "
                         f"role_refused), which the central function assumes "
                         f"(default: {DEFAULT_MEMBER_ROLE})")
    ap.add_argument("--member-external-id", default=DEFAULT_MEMBER_EXTERNAL_ID,
                    help="the external id the member role's trust asks for "
                         "(StringEquals sts:ExternalId); '' for a trust without one "
                         f"(default: {DEFAULT_MEMBER_EXTERNAL_ID})")
    ap.add_argument("world", help="path to the world JSON file")
    args = ap.parse_args(argv)

    def fail(msg: str) -> NoReturn:
        print(f"seed: {args.world}: {msg}", file=sys.stderr)
        raise SystemExit(EXIT_ERROR)

    def not_a_world(what: str) -> NoReturn:
        what = " ".join(what.split())
        fail(f"not a world this seeder can read ({what}); {RUST_LOADER_HINT}")

    trail = Trail()

    def at(what: str) -> str:
        return f"{trail.at}: {what}" if trail.at else what

    try:
        check_endpoint(args.endpoint_url)
    except SeedError as exc:
        print(f"seed: {exc}", file=sys.stderr)
        return EXIT_ERROR

    try:
        with open(args.world, encoding="utf-8") as fh:
            world = json.load(fh)
    except OSError as exc:
        not_a_world(f"cannot read file: {exc.strerror or exc}")
    except UnicodeDecodeError as exc:
        not_a_world(f"not UTF-8: {exc}")
    except json.JSONDecodeError as exc:
        not_a_world(f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}")

    read_errors = (KeyError, TypeError, AttributeError, ValueError, IndexError)
    try:
        plan = read_world(world, trail)
    except read_errors as exc:
        not_a_world(at(describe(exc)))
    if plan["registry"] and not args.table:
        fail("registry: the world has registry items but --table '' creates no table")

    # Dummy credentials: moto accepts anything, and real ones must never be used.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    try:
        import boto3  # noqa: F401
    except ImportError:
        fail("boto3 is not installed for this python (pip install boto3)")

    if args.reset:
        import urllib.request
        try:
            urllib.request.urlopen(urllib.request.Request(
                args.endpoint_url.rstrip("/") + "/moto-api/reset", method="POST"), timeout=30)
        except OSError as exc:
            fail(f"--reset: POST /moto-api/reset failed: {exc}")
    try:
        seeder = Seeder(args.endpoint_url, plan["region"], trail)
        members = Members(seeder, plan["account"], args.member_role, args.member_external_id)
        mapping = seeder.seed(plan, members)
        if args.table:
            seeder.create_table(args.table)
            seeder.write_registry(args.table, plan, mapping)
            mapping["table"] = args.table
    except SeedError as exc:
        fail(str(exc))
    except NotAWorld as exc:
        not_a_world(at(str(exc)))
    except read_errors as exc:
        not_a_world(at(describe(exc)))
    json.dump(mapping, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
