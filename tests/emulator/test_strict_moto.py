#!/usr/bin/env python3
"""Checks strict_moto.py: its Route 53 rules, the re-create fix, fault injection, and
the CloudFormation, EventBridge and IAM patches (4a-4f) the SAM template's stack tests need,
Auto Scaling's lifecycle actions (5), IPv6 in EC2 (6), record sets with a SetIdentifier:
their routing rules and their listing (7a-7e), a change batch's status (8), ECS
tasks in awsvpc mode (9a-9g), and STS AssumeRole as AWS decides it (10).

    .venv/bin/python tests/emulator/test_strict_moto.py

Starts the launcher on a free loopback port (its own server, stopped at the
end), talks to it with boto3 and dummy credentials, prints each failure and a
count of passed checks, and exits 1 if any check failed. Clients make one
attempt per call (no retries), so each injected fault is seen exactly once.
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
import zipfile
from typing import Any, Callable

import boto3
import botocore.config
from botocore.exceptions import ClientError

HERE = os.path.dirname(os.path.abspath(__file__))
counts = {"passed": 0, "failed": 0}


def check(what: str, got: Any, want: Any) -> None:
    counts["passed" if got == want else "failed"] += 1
    if got != want:
        print(f"FAIL: {what}: got {got!r}, want {want!r}", file=sys.stderr)


def outcome(call: Callable[[], Any]) -> tuple[int, str | None, str | None, str | None]:
    """(HTTP status, error code, message, x-ec2ddns-fault header) of one call."""
    try:
        meta, code, message = call()["ResponseMetadata"], None, None
    except ClientError as err:
        meta = err.response["ResponseMetadata"]
        code, message = err.response["Error"].get("Code"), err.response["Error"].get("Message")
    return meta["HTTPStatusCode"], code, message, meta["HTTPHeaders"].get("x-ec2ddns-fault")


def start_server() -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "strict_moto.py"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(150):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.2)
    proc.kill()
    sys.exit("strict_moto.py did not start")


def http(ep: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(ep + path, data=data, method=method)
    try:
        with urllib.request.urlopen(req) as resp:
            status, text = resp.status, resp.read()
    except urllib.error.HTTPError as err:
        status, text = err.code, err.read()
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


def run(ep: str) -> None:
    cfg = botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"})
    kw = dict(endpoint_url=ep, region_name="us-east-1", aws_access_key_id="testing",
              aws_secret_access_key="testing", config=cfg)
    r53, ddb, ec2 = (boto3.client(s, **kw) for s in ("route53", "dynamodb", "ec2"))

    zone = r53.create_hosted_zone(Name="corp.example.", CallerReference=str(uuid.uuid4()))
    zid = zone["HostedZone"]["Id"]

    def rr(action: str, name: str, values: list[str] | None = None, rtype: str = "A",
           ttl: int = 60, alias: str | None = None) -> dict[str, Any]:
        rrset: dict[str, Any] = {"Name": name, "Type": rtype}
        if alias:
            rrset["AliasTarget"] = {"HostedZoneId": "Z35SXDOTRQ7X7K", "DNSName": alias,
                                    "EvaluateTargetHealth": False}
        else:
            rrset.update(TTL=ttl, ResourceRecords=[{"Value": v} for v in values or ["10.0.0.1"]])
        return {"Action": action, "ResourceRecordSet": rrset}

    def batch(*changes: dict[str, Any]) -> Callable[[], Any]:
        return lambda: r53.change_resource_record_sets(
            HostedZoneId=zid, ChangeBatch={"Changes": list(changes)})

    def records() -> dict[tuple[str, str], Any]:
        rrs = r53.list_resource_record_sets(HostedZoneId=zid)["ResourceRecordSets"]
        return {(r["Name"], r["Type"]): (r.get("TTL"), sorted(v["Value"] for v in r.get("ResourceRecords", [])),
                                         r.get("AliasTarget", {}).get("DNSName"))
                for r in rrs if r["Type"] not in ("NS", "SOA")}

    def refused(what: str, call: Callable[[], Any], message: str) -> None:
        """The batch is refused with exactly `message`, and nothing changes."""
        before = records()
        status, code, got, _ = outcome(call)
        check(f"{what}: refused", (status, code, got), (400, "InvalidChangeBatch", message))
        check(f"{what}: nothing changed", records(), before)

    # Plain changes go through and answer moto's ChangeInfo; GetChange works.
    resp = batch(rr("CREATE", "x.corp.example.", ["10.0.0.1", "10.0.0.2"]),
                 rr("CREATE", "www.corp.example.", ["lb.example.net."], "CNAME"))()
    check("create: ChangeInfo status", resp["ChangeInfo"]["Status"] in ("INSYNC", "PENDING"), True)
    check("get_change", r53.get_change(Id=resp["ChangeInfo"]["Id"])["ChangeInfo"]["Status"], "INSYNC")
    check("records after create", records(), {
        ("x.corp.example.", "A"): (60, ["10.0.0.1", "10.0.0.2"], None),
        ("www.corp.example.", "CNAME"): (60, ["lb.example.net."], None)})

    refused("CREATE of an existing record", batch(
        rr("CREATE", "new.corp.example."), rr("CREATE", "X.corp.example", ["10.9.9.9"])),
        "[Tried to create resource record set [name='X.corp.example.', type='A'] but it already exists]")
    refused("DELETE of a missing record", batch(rr("DELETE", "gone.corp.example.")),
            "[Tried to delete resource record set [name='gone.corp.example.', type='A'] "
            "but it was not found]")
    mismatch = ("[Tried to delete resource record set [name='x.corp.example.', type='A'] "
                "but the values provided do not match the current values]")
    refused("DELETE with another TTL", batch(
        rr("DELETE", "x.corp.example.", ["10.0.0.1", "10.0.0.2"], ttl=300)), mismatch)
    refused("DELETE with other values", batch(rr("DELETE", "x.corp.example.", ["10.0.0.1"])), mismatch)
    refused("CNAME beside an A", batch(rr("CREATE", "x.corp.example.", ["y.example."], "CNAME")),
            "[RRSet of type CNAME with DNS name x.corp.example. is not permitted because a "
            "conflicting RRSet of type A with the same DNS name already exists in zone corp.example.]")
    refused("A beside a CNAME (UPSERT)", batch(rr("UPSERT", "www.corp.example.")),
            "[RRSet of type A with DNS name www.corp.example. is not permitted because a "
            "conflicting RRSet of type CNAME with the same DNS name already exists in zone corp.example.]")
    refused("name outside the zone", batch(rr("CREATE", "x.other.")),
            "[RRSet with DNS name x.other. is not permitted in zone corp.example.]")
    refused("name that only ends with the zone's text", batch(rr("CREATE", "xcorp.example.")),
            "[RRSet with DNS name xcorp.example. is not permitted in zone corp.example.]")

    # Valid batches: DELETE matching in any value order and any name case, UPSERT,
    # DELETE CNAME then CREATE A at the same name, alias records.
    check("DELETE (values reordered, name upper-case) then CREATE", outcome(batch(
        rr("DELETE", "X.CORP.EXAMPLE.", ["10.0.0.2", "10.0.0.1"]),
        rr("CREATE", "x.corp.example.", ["10.0.0.3"])))[:2], (200, None))
    check("UPSERT replaces", outcome(batch(rr("UPSERT", "x.corp.example.", ["10.0.0.4"], ttl=30)))[0], 200)
    check("DELETE CNAME then CREATE A, one batch", outcome(batch(
        rr("DELETE", "www.corp.example.", ["lb.example.net."], "CNAME"),
        rr("CREATE", "www.corp.example.", ["10.0.0.5"])))[0], 200)
    check("alias CREATE", outcome(batch(rr("CREATE", "app.corp.example.", alias="lb-1.example.")))[0], 200)
    check("records after valid batches", records(), {
        ("x.corp.example.", "A"): (30, ["10.0.0.4"], None),
        ("www.corp.example.", "A"): (60, ["10.0.0.5"], None),
        ("app.corp.example.", "A"): (None, [], "lb-1.example.")})
    refused("alias DELETE with another target", batch(
        rr("DELETE", "app.corp.example.", alias="lb-2.example.")),
        "[Tried to delete resource record set [name='app.corp.example.', type='A'] "
        "but the values provided do not match the current values]")
    check("alias DELETE", outcome(batch(rr("DELETE", "app.corp.example.", alias="LB-1.example")))[0], 200)

    # moto's journal bug: re-creating a record created and deleted before.
    check("create a.corp", outcome(batch(rr("CREATE", "a.corp.example.", ["10.0.1.1"])))[0], 200)
    check("delete a.corp", outcome(batch(rr("DELETE", "a.corp.example.", ["10.0.1.1"])))[0], 200)
    check("re-create the same a.corp in a batch", outcome(batch(
        rr("CREATE", "a.corp.example.", ["10.0.1.1"]), rr("CREATE", "b.corp.example.")))[:3],
        (200, None, None))
    check("a.corp is back", records().get(("a.corp.example.", "A")), (60, ["10.0.1.1"], None))

    # Fault injection.
    def faults(method: str, body: Any = None) -> tuple[int, Any]:
        return http(ep, method, "/_ec2ddns/faults", body)

    check("POST faults", faults("POST", {"route53:ChangeResourceRecordSets": ["before", "after", "throttle"]}),
          (200, {"route53:ChangeResourceRecordSets": ["before", "after", "throttle"]}))
    check("fault before", outcome(batch(rr("CREATE", "f1.corp.example."))),
          (500, "InternalFailure", "We encountered an internal error. Please try again.", "before"))
    check("fault before: not applied", ("f1.corp.example.", "A") in records(), False)
    check("fault after: 500, header", outcome(batch(rr("CREATE", "f2.corp.example."))),
          (500, "InternalFailure", "We encountered an internal error. Please try again.", "after"))
    check("fault after: applied", ("f2.corp.example.", "A") in records(), True)
    check("fault throttle", outcome(batch(rr("CREATE", "f3.corp.example."))),
          (400, "Throttling", "Rate exceeded", "throttle"))
    check("fault throttle: not applied", ("f3.corp.example.", "A") in records(), False)
    check("queue used up", faults("GET"), (200, {}))
    check("no fault left: call goes through", outcome(batch(rr("CREATE", "f3.corp.example."))), (200, None, None, None))

    ddb.create_table(TableName="T", KeySchema=[{"AttributeName": "K", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "K", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    key = {"K": {"S": "k1"}}
    faults("POST", {"dynamodb:PutItem": ["before", "after"], "dynamodb:DeleteItem": ["before"],
                    "ec2:DescribeInstances": ["throttle"]})
    check("GET faults", faults("GET"), (200, {"dynamodb:PutItem": ["before", "after"],
          "dynamodb:DeleteItem": ["before"], "ec2:DescribeInstances": ["throttle"]}))
    check("ddb PutItem before", outcome(lambda: ddb.put_item(TableName="T", Item=key))[1:],
          ("InternalFailure", "We encountered an internal error. Please try again.", "before"))
    check("ddb PutItem before: not applied", "Item" in ddb.get_item(TableName="T", Key=key), False)
    check("ddb PutItem after", outcome(lambda: ddb.put_item(TableName="T", Item=key))[::3], (500, "after"))
    faults("POST", {"dynamodb:GetItem": ["throttle"]})
    check("ddb GetItem throttle", outcome(lambda: ddb.get_item(TableName="T", Key=key)),
          (400, "ThrottlingException", "Rate exceeded", "throttle"))
    check("ddb PutItem after: applied", ddb.get_item(TableName="T", Key=key).get("Item"), key)
    check("ddb DeleteItem before", outcome(lambda: ddb.delete_item(TableName="T", Key=key))[::3], (500, "before"))
    check("ddb DeleteItem before: not applied", ddb.get_item(TableName="T", Key=key).get("Item"), key)
    check("ec2 DescribeInstances throttle", outcome(ec2.describe_instances)[1::2],
          ("RequestLimitExceeded", "throttle"))
    check("ec2 next call goes through", outcome(ec2.describe_instances)[0], 200)

    check("bad fault kind refused", faults("POST", {"dynamodb:PutItem": ["sometimes"]})[0], 400)
    faults("POST", {"dynamodb:PutItem": ["after"]})
    check("DELETE faults", faults("DELETE"), (200, {}))
    check("after DELETE", faults("GET"), (200, {}))
    faults("POST", {"dynamodb:PutItem": ["after"]})
    http(ep, "POST", "/moto-api/reset")
    check("reset clears faults", faults("GET"), (200, {}))
    check("reset clears moto", r53.list_hosted_zones()["HostedZones"], [])


def run_routing(ep: str) -> None:
    """MOTO GAP 7a-7e: record sets with a SetIdentifier (routing policies), and listing them."""
    cfg = botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"})
    r53 = boto3.client("route53", endpoint_url=ep, region_name="us-east-1", aws_access_key_id="testing",
                       aws_secret_access_key="testing", config=cfg)
    zid = r53.create_hosted_zone(Name="fleet.example.", CallerReference=str(uuid.uuid4()))["HostedZone"]["Id"]
    routed = ("Weight", "Region", "Failover", "GeoLocation", "MultiValueAnswer", "CidrRoutingConfig",
              "GeoProximityLocation", "HealthCheckId")

    def rs(label: str, value: str = "10.0.0.1", rtype: str = "A", sid: str | None = None,
           alias: str | None = None, **routing: Any) -> dict[str, Any]:
        """The record set `label`.fleet.example., TTL 60, with the routing fields given."""
        rrset: dict[str, Any] = {"Name": f"{label}.fleet.example.", "Type": rtype}
        if sid is not None:
            rrset["SetIdentifier"] = sid
        if alias:
            rrset["AliasTarget"] = {"HostedZoneId": "Z35SXDOTRQ7X7K", "DNSName": alias,
                                    "EvaluateTargetHealth": False}
        else:
            rrset.update(TTL=60, ResourceRecords=[{"Value": value}])
        return {**rrset, **routing}

    def mv(label: str, sid: str, value: str = "10.0.0.1", rtype: str = "A", **more: Any) -> dict[str, Any]:
        """A multivalue answer record set, as the registrar writes them."""
        return rs(label, value, rtype, sid=sid, MultiValueAnswer=True, **more)

    def batch(*changes: tuple[str, dict[str, Any]]) -> Callable[[], Any]:
        return lambda: r53.change_resource_record_sets(HostedZoneId=zid, ChangeBatch={"Changes": [
            {"Action": action, "ResourceRecordSet": rrset} for action, rrset in changes]})

    def records() -> dict[tuple[str, str, str | None], Any]:
        rrs = r53.list_resource_record_sets(HostedZoneId=zid)["ResourceRecordSets"]
        return {(r["Name"], r["Type"], r.get("SetIdentifier")): (
            r.get("TTL"), sorted(v["Value"] for v in r.get("ResourceRecords", [])),
            r.get("AliasTarget", {}).get("DNSName"), {k: r[k] for k in routed if k in r})
            for r in rrs if r["Type"] not in ("NS", "SOA")}

    def accepted(what: str, call: Callable[[], Any]) -> None:
        check(what, outcome(call)[:3], (200, None, None))

    def refused(what: str, call: Callable[[], Any], message: str, code: str = "InvalidChangeBatch") -> None:
        """The batch is refused with exactly `code` and `message`, and nothing changes."""
        before = records()
        status, got_code, got, _ = outcome(call)
        check(f"{what}: refused", (status, got_code, got), (400, code, message))
        check(f"{what}: nothing changed", records(), before)

    # 7a: DELETE with a SetIdentifier deletes the record set of that name, type and
    # identifier, not every one with that identifier.
    accepted("7a: one SetIdentifier at two names and two types", batch(
        ("CREATE", mv("a", "i-1")), ("CREATE", mv("b", "i-1", "2001:db8::1", "AAAA")),
        ("CREATE", mv("c", "i-1", "10.0.0.3")), ("CREATE", mv("c", "i-1", "2001:db8::3", "AAAA"))))
    accepted("7a: DELETE a. A i-1", batch(("DELETE", mv("a", "i-1"))))
    accepted("7a: DELETE c. A i-1", batch(("DELETE", mv("c", "i-1", "10.0.0.3"))))
    check("7a: the others with that identifier are left", sorted(records()),
          [("b.fleet.example.", "AAAA", "i-1"), ("c.fleet.example.", "AAAA", "i-1")])

    # 7b: one routing policy with a SetIdentifier, none without (InvalidInput, each
    # change of the batch checked before any is applied).
    def expected_one(name: str, found: str, action: str = "CREATE", rtype: str = "A") -> str:
        return ("Invalid request: Expected exactly one of [Weight, Region, Failover, GeoLocation, or "
                f"MultiValueAnswer], but found {found} in Change with [Action={action}, "
                f"Name={name}.fleet.example., Type={rtype}, SetIdentifier=i-1]")

    def missing_sid(name: str, action: str = "CREATE") -> str:
        return ("Invalid request: Missing field 'SetIdentifier' in Change with "
                f"[Action={action}, Name={name}.fleet.example., Type=A, SetIdentifier=null]")
    refused("7b: a SetIdentifier without a routing policy", batch(("CREATE", rs("d", sid="i-1"))),
            expected_one("d", "none"), "InvalidInput")
    refused("7b: MultiValueAnswer false is no routing policy",
            batch(("CREATE", rs("d", sid="i-1", MultiValueAnswer=False))), expected_one("d", "none"), "InvalidInput")
    refused("7b: two routing policies", batch(("UPSERT", mv("d", "i-1", Weight=1))),
            expected_one("d", "more than one", "UPSERT"), "InvalidInput")
    refused("7b: MultiValueAnswer without a SetIdentifier", batch(("CREATE", rs("d", MultiValueAnswer=True))),
            missing_sid("d"), "InvalidInput")
    refused("7b: Weight 0 without a SetIdentifier", batch(("CREATE", rs("d", Weight=0))),
            missing_sid("d"), "InvalidInput")
    refused("7b: MultiValueAnswer false without a SetIdentifier",
            batch(("UPSERT", rs("d", MultiValueAnswer=False))), missing_sid("d", "UPSERT"), "InvalidInput")
    refused("7b: a bad change after a good one", batch(("CREATE", mv("d", "i-1")), ("CREATE", rs("e", sid="i-1"))),
            expected_one("e", "none"), "InvalidInput")
    refused("7b: DELETE of a multivalue record set without its MultiValueAnswer",
            batch(("DELETE", rs("b", "2001:db8::1", "AAAA", sid="i-1"))),
            expected_one("b", "none", "DELETE", "AAAA"), "InvalidInput")

    # 7b: what multivalue answer record sets cannot be.
    refused("7b: a multivalue CNAME", batch(("CREATE", mv("m", "i-1", "t.example.", "CNAME"))),
            "[Multivalue answer rrset should not be of type CNAME]")
    refused("7b: a multivalue NS", batch(("CREATE", mv("m", "i-1", "ns1.example.", "NS"))),
            "[Multivalue answer rrset should not be of type NS]")
    refused("7b: a multivalue alias", batch(("CREATE", rs("m", sid="i-1", alias="lb.example.", MultiValueAnswer=True))),
            "[Multivalue answer rrset should not be an alias rrset]")

    # 7b: one routing policy at a name and type, simple (alone) or with identifiers.
    accepted("7b: multivalue record sets at one name and type", batch(
        *[("CREATE", mv("www", f"i-{n}", f"10.0.1.{n}")) for n in (1, 2, 3)]))
    others = "[RRSet with DNS name www.fleet.example., type A cannot be created as other RRSets exist with the same name and type.]"
    refused("7b: a simple record set beside multivalue ones", batch(("CREATE", rs("www", "10.0.1.9"))), others)
    refused("7b: a simple record set beside multivalue ones (UPSERT)", batch(("UPSERT", rs("www", "10.0.1.9"))), others)
    refused("7b: weighted beside multivalue", batch(("CREATE", rs("www", sid="w", Weight=1))),
            "[RRSet with DNS name www.fleet.example., type A, SetIdentifier w cannot be created as a "
            "non-weighted set exists with the same name and type.]")
    refused("7b: latency beside multivalue", batch(("UPSERT", rs("www", sid="l", Region="eu-west-1"))),
            "[RRSet with DNS name www.fleet.example., type A, SetIdentifier l, and Region Name=eu-west-1 "
            "cannot be created because a non-latency RRSet with the same name and type already exists.]")
    accepted("7b: another type at the name is no mix", batch(("CREATE", mv("www", "i-1", "2001:db8::1", "AAAA"))))
    accepted("7b: a simple record set", batch(("CREATE", rs("solo", "10.0.2.1"))))
    beside_simple = ("[RRSet with DNS name solo.fleet.example., type A, SetIdentifier i-1 cannot be created "
                     "because a non multivalue answer rrset exists with the same name and type.]")
    refused("7b: multivalue beside a simple record set", batch(("CREATE", mv("solo", "i-1", "10.0.2.2"))), beside_simple)
    refused("7b: multivalue beside a simple record set (UPSERT)", batch(("UPSERT", mv("solo", "i-1", "10.0.2.2"))),
            beside_simple)
    accepted("7b: DELETE the simple record set, then CREATE multivalue ones, one batch", batch(
        ("DELETE", rs("solo", "10.0.2.1")), ("CREATE", mv("solo", "i-1", "10.0.2.2")),
        ("CREATE", mv("solo", "i-2", "10.0.2.3"))))
    accepted("7b: two weighted record sets", batch(("CREATE", rs("wt", sid="blue", Weight=1)),
                                                   ("CREATE", rs("wt", "10.0.3.2", sid="green", Weight=0))))
    refused("7b: UPSERT of one of them to multivalue", batch(("UPSERT", mv("wt", "blue"))),
            "[RRSet with DNS name wt.fleet.example., type A, SetIdentifier blue cannot be created "
            "because a non multivalue answer rrset exists with the same name and type.]")
    accepted("7b: DELETE one, UPSERT the other to multivalue: the one replaced does not count", batch(
        ("DELETE", rs("wt", "10.0.3.2", sid="green", Weight=0)), ("UPSERT", mv("wt", "blue"))))
    accepted("7b: UPSERT of a multivalue record set's value", batch(("UPSERT", mv("www", "i-2", "10.0.1.22"))))
    refused("7b: a weighted CNAME beside multivalue A record sets",
            batch(("CREATE", rs("www", "t.example.", "CNAME", sid="c1", Weight=1))),
            "[RRSet of type CNAME with DNS name www.fleet.example. is not permitted because a conflicting "
            "RRSet of type A with the same DNS name already exists in zone fleet.example.]")
    accepted("7b: weighted CNAMEs", batch(("CREATE", rs("cn", "t.example.", "CNAME", sid="c1", Weight=1)),
                                          ("CREATE", rs("cn", "u.example.", "CNAME", sid="c2", Weight=1))))
    refused("7b: a multivalue A beside weighted CNAMEs", batch(("CREATE", mv("cn", "i-1"))),
            "[RRSet of type A with DNS name cn.fleet.example. is not permitted because a conflicting "
            "RRSet of type CNAME with the same DNS name already exists in zone fleet.example.]")
    check("7b: the record sets at www", {k: v for k, v in records().items() if k[0] == "www.fleet.example."}, {
        ("www.fleet.example.", "A", "i-1"): (60, ["10.0.1.1"], None, {"MultiValueAnswer": True}),
        ("www.fleet.example.", "A", "i-2"): (60, ["10.0.1.22"], None, {"MultiValueAnswer": True}),
        ("www.fleet.example.", "A", "i-3"): (60, ["10.0.1.3"], None, {"MultiValueAnswer": True}),
        ("www.fleet.example.", "AAAA", "i-1"): (60, ["2001:db8::1"], None, {"MultiValueAnswer": True})})

    # 7c: a DELETE repeats the routing fields and the SetIdentifier too.
    def mismatch(label: str, sid: str, rtype: str = "A") -> str:
        return (f"[Tried to delete resource record set [name='{label}.fleet.example.', type='{rtype}', "
                f"set-identifier='{sid}'] but the values provided do not match the current values]")
    refused("7c: DELETE of a multivalue record set named as weighted",
            batch(("DELETE", rs("www", "10.0.1.1", sid="i-1", Weight=1))), mismatch("www", "i-1"))
    refused("7c: DELETE with a health check the record set has not",
            batch(("DELETE", mv("www", "i-1", "10.0.1.1", HealthCheckId="hc-1"))), mismatch("www", "i-1"))
    refused("7c: DELETE with another Weight", batch(("DELETE", rs("cn", "t.example.", "CNAME", sid="c1", Weight=2))),
            mismatch("cn", "c1", "CNAME"))
    refused("7c: DELETE with another SetIdentifier", batch(("DELETE", mv("www", "i-9", "10.0.1.1"))),
            "[Tried to delete resource record set [name='www.fleet.example.', type='A', set-identifier='i-9'] "
            "but it was not found]")
    refused("7c: CREATE of an existing name, type and SetIdentifier", batch(("CREATE", mv("www", "i-1", "10.0.1.7"))),
            "[Tried to create resource record set [name='www.fleet.example.', type='A', set-identifier='i-1'] "
            "but it already exists]")
    accepted("7c: DELETE repeating all", batch(("DELETE", mv("www", "i-3", "10.0.1.3")),
                                              ("DELETE", rs("cn", "t.example.", "CNAME", sid="c1", Weight=1))))

    # 7e: each policy's fields read back.
    cidr = {"CollectionId": "11111111-2222-3333-4444-555555555555", "LocationName": "office"}
    prox = {"AWSRegion": "eu-west-1", "Bias": 10}
    accepted("7e: a record set of each policy", batch(
        ("CREATE", rs("p-geo", sid="g", GeoLocation={"CountryCode": "*"})),
        ("CREATE", rs("p-lat", sid="l", Region="eu-west-1")),
        ("CREATE", rs("p-fail", sid="f", Failover="PRIMARY", HealthCheckId="hc-1")),
        ("CREATE", rs("p-cidr", sid="c", CidrRoutingConfig=cidr)),
        ("CREATE", rs("p-prox", sid="p", GeoProximityLocation=prox))))
    check("7e: SetIdentifier and routing fields read back",
          {k: v[3] for k, v in records().items() if k[0].startswith(("p-", "wt."))}, {
              ("p-geo.fleet.example.", "A", "g"): {"GeoLocation": {"CountryCode": "*"}},
              ("p-lat.fleet.example.", "A", "l"): {"Region": "eu-west-1"},
              ("p-fail.fleet.example.", "A", "f"): {"Failover": "PRIMARY", "HealthCheckId": "hc-1"},
              ("p-cidr.fleet.example.", "A", "c"): {"CidrRoutingConfig": cidr},
              ("p-prox.fleet.example.", "A", "p"): {"GeoProximityLocation": prox},
              ("wt.fleet.example.", "A", "blue"): {"MultiValueAnswer": True}})
    refused("7c: DELETE with another CidrRoutingConfig",
            batch(("DELETE", rs("p-cidr", sid="c", CidrRoutingConfig={**cidr, "LocationName": "home"}))),
            mismatch("p-cidr", "c"))
    accepted("7c: DELETE repeating a geoproximity and a CIDR record set", batch(
        ("DELETE", rs("p-prox", sid="p", GeoProximityLocation=prox)),
        ("DELETE", rs("p-cidr", sid="c", CidrRoutingConfig=cidr))))

    # 7d: ListResourceRecordSets in order of name, type and SetIdentifier, and paged
    # through many record sets of one name and type.
    accepted("7d: 25 multivalue record sets at one name, created last first", batch(
        *[("CREATE", mv("many", f"i-{n:02d}", f"10.0.9.{n}")) for n in range(25, 0, -1)]))
    accepted("7d: a simple record set after them", batch(("CREATE", rs("n-simple"))))
    many = [("many.fleet.example.", "A", f"i-{n:02d}") for n in range(1, 26)]

    def listed(max_items: int, **start: str) -> tuple[list[tuple[str, str, str | None]], bool]:
        """Every record set from `start`, a page at a time, as a client pages; and
        whether the pages ended (within 20)."""
        seen: list[tuple[str, str, str | None]] = []
        for _ in range(20):
            page = r53.list_resource_record_sets(HostedZoneId=zid, MaxItems=str(max_items), **start)
            seen += [(r["Name"], r["Type"], r.get("SetIdentifier")) for r in page["ResourceRecordSets"]]
            if not page["IsTruncated"]:
                return seen, True
            start = {"StartRecordName": page["NextRecordName"], "StartRecordType": page["NextRecordType"]}
            if "NextRecordIdentifier" in page:
                start["StartRecordIdentifier"] = page["NextRecordIdentifier"]
        return seen, False

    def key(k: tuple[str, str, str | None]) -> tuple[str, str, str]:
        return (".".join(reversed(k[0].rstrip(".").split("."))), k[1], k[2] or "")

    whole = [(r["Name"], r["Type"], r.get("SetIdentifier"))
             for r in r53.list_resource_record_sets(HostedZoneId=zid)["ResourceRecordSets"]]
    check("7d: the zone in order of name (labels reversed), type, SetIdentifier", whole, sorted(whole, key=key))
    for max_items in (20, 7):
        got, ended = listed(max_items, StartRecordName="many.fleet.example.")
        check(f"7d: the name read with MaxItems={max_items}: each once, in order",
              ([k for k in got if k[0] == "many.fleet.example."], ended), (many, True))
        got, ended = listed(max_items, StartRecordName="many.fleet.example.", StartRecordType="A")
        check(f"7d: from its name and type, MaxItems={max_items}",
              ([k for k in got if k[0] == "many.fleet.example."], ended), (many, True))
        check(f"7d: the whole zone with MaxItems={max_items}", listed(max_items), (whole, True))
    page = r53.list_resource_record_sets(HostedZoneId=zid, StartRecordName="many.fleet.example.", MaxItems="7")
    check("7d: a page ending inside the name gives NextRecordIdentifier",
          (page["IsTruncated"], page.get("NextRecordName"), page.get("NextRecordType"), page.get("NextRecordIdentifier")),
          (True, "many.fleet.example.", "A", "i-08"))
    page = r53.list_resource_record_sets(HostedZoneId=zid, StartRecordName="many.fleet.example.",
                                         StartRecordType="A", StartRecordIdentifier="i-13", MaxItems="3")
    check("7d: StartRecordIdentifier starts at that record set",
          ([r.get("SetIdentifier") for r in page["ResourceRecordSets"]], page.get("NextRecordIdentifier")),
          (["i-13", "i-14", "i-15"], "i-16"))
    page = r53.list_resource_record_sets(HostedZoneId=zid, StartRecordName="many.fleet.example.", MaxItems="25")
    check("7d: a page followed by a simple record set has no NextRecordIdentifier",
          (page.get("NextRecordName"), page.get("NextRecordType"), "NextRecordIdentifier" in page),
          ("n-simple.fleet.example.", "A", False))
    check("7d: StartRecordIdentifier without StartRecordType", outcome(lambda: r53.list_resource_record_sets(
        HostedZoneId=zid, StartRecordName="many.fleet.example.", StartRecordIdentifier="i-13"))[:3],
        (400, "InvalidInput", "The input is not valid"))
    http(ep, "POST", "/moto-api/reset")


# A stack of each type patch 4a-4b adds (the Url's GetAtt in Outputs, the other types
# read back through their services), a resource whose Condition is false (4c), and a
# function whose architecture, dead-letter queue and logging must be kept (4d).
PATCHED_TYPES_TEMPLATE = {
    "Conditions": {"Never": {"Fn::Equals": ["a", "b"]}},
    "Resources": {
        "Queue": {"Type": "AWS::SQS::Queue"},
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                    "Principal": {"Service": "lambda.amazonaws.com"}}]},
            "Policies": [{"PolicyName": "inline", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}]}}]}},
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {
            "Code": {"S3Bucket": "code", "S3Key": "f.zip"}, "Handler": "bootstrap",
            "Runtime": "provided.al2023", "Role": {"Fn::GetAtt": ["Role", "Arn"]},
            "Architectures": ["arm64"], "DeadLetterConfig": {"TargetArn": {"Fn::GetAtt": ["Queue", "Arn"]}},
            "LoggingConfig": {"LogFormat": "JSON", "ApplicationLogLevel": "INFO"}}},
        "Url": {"Type": "AWS::Lambda::Url", "Properties": {
            "TargetFunctionArn": {"Fn::GetAtt": ["Fn", "Arn"]}, "AuthType": "NONE"}},
        "Invoke": {"Type": "AWS::Lambda::EventInvokeConfig", "Properties": {
            "FunctionName": {"Ref": "Fn"}, "Qualifier": "$LATEST", "MaximumRetryAttempts": 1,
            "MaximumEventAgeInSeconds": 600}},
        "QueuePolicy": {"Type": "AWS::SQS::QueuePolicy", "Properties": {
            "Queues": [{"Ref": "Queue"}], "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage", "Resource": {"Fn::GetAtt": ["Queue", "Arn"]}}]}}},
        "RolePolicy": {"Type": "AWS::IAM::RolePolicy", "Properties": {
            "RoleName": {"Ref": "Role"}, "PolicyName": "extra", "PolicyDocument": {
                "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:ReceiveMessage",
                                                        "Resource": {"Fn::GetAtt": ["Queue", "Arn"]}}]}}},
        "Alarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {
            "AlarmName": "fn-errors", "Namespace": "AWS/Lambda", "MetricName": "Errors",
            "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": "Fn"}}], "Statistic": "Sum",
            "Period": 300, "EvaluationPeriods": 3, "DatapointsToAlarm": 2, "Threshold": 0,
            "ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "notBreaching",
            "AlarmActions": ["arn:aws:sns:us-east-1:123456789012:t"]}},
        "NotMade": {"Type": "AWS::SQS::Queue", "Condition": "Never"},
    },
    "Outputs": {"UrlOut": {"Value": {"Fn::GetAtt": ["Url", "FunctionUrl"]}},
                "AlarmArn": {"Value": {"Fn::GetAtt": ["Alarm", "Arn"]}}},
}


def run_cloudformation(ep: str) -> None:
    """Patches 4a-4f."""
    cfg = botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"})
    kw = dict(endpoint_url=ep, region_name="us-east-1", aws_access_key_id="testing",
              aws_secret_access_key="testing", config=cfg)
    cfn, s3, lam, sqs, iam, cw, events = (boto3.client(s, **kw) for s in (
        "cloudformation", "s3", "lambda", "sqs", "iam", "cloudwatch", "events"))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("bootstrap", "#!/bin/sh\n")
    s3.create_bucket(Bucket="code")
    s3.put_object(Bucket="code", Key="f.zip", Body=buf.getvalue())

    status, code, message, _ = outcome(lambda: cfn.create_stack(
        StackName="patched", TemplateBody=json.dumps(PATCHED_TYPES_TEMPLATE), Capabilities=["CAPABILITY_IAM"]))
    check("4a-4b: the stack is created", (status, code, message), (200, None, None))
    stack = cfn.describe_stacks(StackName="patched")["Stacks"][0]
    check("4a-4b: CREATE_COMPLETE", stack["StackStatus"], "CREATE_COMPLETE")
    summaries = cfn.list_stack_resources(StackName="patched")["StackResourceSummaries"]
    resources = {r["LogicalResourceId"]: r.get("PhysicalResourceId") for r in summaries}
    check("4c: only the resources made are listed", sorted(resources),
          sorted(set(PATCHED_TYPES_TEMPLATE["Resources"]) - {"NotMade"}))
    fn = resources.get("Fn", "")
    url = lam.get_function_url_config(FunctionName=fn)
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    check("4a: the function URL exists", url["AuthType"], "NONE")
    check("4a: Fn::GetAtt FunctionUrl in Outputs", outputs.get("UrlOut"), url["FunctionUrl"])
    invoke = lam.get_function_event_invoke_config(FunctionName=fn)
    check("4b: EventInvokeConfig", (invoke["MaximumRetryAttempts"], invoke["MaximumEventAgeInSeconds"]), (1, 600))
    policy = sqs.get_queue_attributes(QueueUrl=resources["Queue"], AttributeNames=["Policy"])["Attributes"]
    check("4b: QueuePolicy", json.loads(policy["Policy"])["Statement"][0]["Action"], "sqs:SendMessage")
    inline = iam.get_role_policy(RoleName=resources["Role"], PolicyName="inline")["PolicyDocument"]
    check("4f: a role's inline policy reads back as JSON", inline["Statement"][0]["Action"]
          if isinstance(inline, dict) else inline, "logs:PutLogEvents")
    role_policy = iam.get_role_policy(RoleName=resources["Role"], PolicyName="extra")["PolicyDocument"]
    check("4b: RolePolicy", role_policy["Statement"][0]["Action"], "sqs:ReceiveMessage")
    alarm = cw.describe_alarms(AlarmNames=["fn-errors"])["MetricAlarms"]
    check("4b: Alarm", [(a["MetricName"], a["Dimensions"], a["EvaluationPeriods"], a.get("DatapointsToAlarm"),
                         a.get("TreatMissingData"), a["AlarmActions"]) for a in alarm],
          [("Errors", [{"Name": "FunctionName", "Value": fn}], 3, 2, "notBreaching",
            ["arn:aws:sns:us-east-1:123456789012:t"])])
    check("4b: Fn::GetAtt Arn of an alarm", outputs.get("AlarmArn"), alarm[0]["AlarmArn"] if alarm else None)
    config = lam.get_function_configuration(FunctionName=fn)
    queue_arn = sqs.get_queue_attributes(QueueUrl=resources["Queue"], AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    check("4d: kept", (config.get("Architectures"), config.get("DeadLetterConfig"), config.get("LoggingConfig")),
          (["arm64"], {"TargetArn": queue_arn}, {"LogFormat": "JSON", "ApplicationLogLevel": "INFO"}))
    lam.create_function(FunctionName="by-api", Runtime="provided.al2023", Handler="bootstrap",
                        Role=config["Role"], Code={"S3Bucket": "code", "S3Key": "f.zip"},
                        LoggingConfig={"LogFormat": "JSON"})
    check("4d: kept by CreateFunction too",
          lam.get_function_configuration(FunctionName="by-api").get("LoggingConfig"), {"LogFormat": "JSON"})

    check("the stack deletes", outcome(lambda: cfn.delete_stack(StackName="patched"))[:2], (200, None))
    check("its alarm is gone", cw.describe_alarms(AlarmNames=["fn-errors"])["MetricAlarms"], [])
    check("its function URL is gone", outcome(lambda: lam.get_function_url_config(FunctionName=fn))[1],
          "ResourceNotFoundException")

    # 4e: TestEventPattern.
    event = {"version": "0", "id": "1", "detail-type": "EC2 Instance State-change Notification",
             "source": "aws.ec2", "account": "123456789012", "time": "2026-11-21T10:00:00Z",
             "region": "us-east-1", "resources": [], "detail": {"state": "running", "tags": ["a", "b"]}}
    pattern = {"source": ["aws.ec2"], "detail": {"state": ["running", "stopped"]}}

    def test(p: Any, e: Any) -> Any:
        return events.test_event_pattern(EventPattern=json.dumps(p), Event=json.dumps(e))["Result"]
    check("4e: a matching event", test(pattern, event), True)
    check("4e: another state", test(pattern, {**event, "detail": {"state": "pending"}}), False)
    check("4e: an array field matches on any element", test({"detail": {"tags": ["b", "z"]}}, event), True)
    check("4e: an event without its required fields", outcome(lambda: test(pattern, {"source": "aws.ec2"}))[1:3],
          ("ValidationException", "Parameter Event is not valid."))
    check("4e: a bad pattern", outcome(lambda: test({"source": []}, event))[1], "InvalidEventPatternException")


def run_lifecycle(ep: str) -> None:
    """MOTO GAP 5: lifecycle actions started through the control endpoint, completed once."""
    cfg = botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"})
    kw = dict(endpoint_url=ep, region_name="us-east-1", aws_access_key_id="testing",
              aws_secret_access_key="testing", config=cfg)
    asg, r53 = boto3.client("autoscaling", **kw), boto3.client("route53", **kw)
    token = str(uuid.uuid4())
    other = str(uuid.uuid4())

    def complete(hook: str = "h", tok: str = token, result: str = "CONTINUE") -> Callable[[], Any]:
        return lambda: asg.complete_lifecycle_action(
            AutoScalingGroupName="g", LifecycleHookName=hook, LifecycleActionToken=tok,
            InstanceId="i-1", LifecycleActionResult=result)

    path = "/_ec2ddns/lifecycle-actions"
    check("5: a bad start is refused", http(ep, "POST", path, {"group": "g"})[0], 400)
    check("5: started", http(ep, "POST", path, {"group": "g", "hook": "h", "instance": "i-1", "token": token,
                                                 "transition": "launch"})[0], 200)
    check("5: a hook the group does not have", outcome(complete())[1:3],
          ("ValidationError", "No Lifecycle Hook found with name h for group g"))
    asg.put_lifecycle_hook(AutoScalingGroupName="g", LifecycleHookName="h",
                           LifecycleTransition="autoscaling:EC2_INSTANCE_LAUNCHING")
    check("5: a result other than CONTINUE or ABANDON", outcome(complete(result="MAYBE"))[1], "ValidationError")
    check("5: a token no action holds", outcome(complete(tok=other))[1:3],
          ("ValidationError", f"No active Lifecycle Action found with token {other}"))
    zone = r53.create_hosted_zone(Name="fleet.example.", CallerReference=str(uuid.uuid4()))
    check("5: completed", outcome(complete())[0], 200)
    check("5: once", outcome(complete())[1:3],
          ("ValidationError", f"No active Lifecycle Action found with token {token}"))
    _, state = http(ep, "GET", path)
    check("5: what Route 53 held when it was completed, and nothing waits",
          ([c["records"] for c in state["completed"]], [c["result"] for c in state["completed"]], state["waiting"]),
          ([["fleet.example. NS", "fleet.example. SOA"]], ["CONTINUE"], []))
    assert zone
    http(ep, "POST", "/moto-api/reset")
    check("5: a reset clears them", http(ep, "GET", path)[1], {"waiting": [], "completed": []})


def run_change_status(ep: str) -> None:
    """MOTO GAP 8: each change batch its own id, PENDING for K GetChange calls, then INSYNC."""
    cfg = botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"})
    kw = dict(endpoint_url=ep, region_name="us-east-1", aws_access_key_id="testing",
              aws_secret_access_key="testing", config=cfg)
    r53, asg = boto3.client("route53", **kw), boto3.client("autoscaling", **kw)
    path = "/_ec2ddns/route53-changes"
    check("8: nothing at first", http(ep, "GET", path), (200, {"pending_reads": 0, "changes": []}))
    zid = r53.create_hosted_zone(Name="sync.example.", CallerReference=str(uuid.uuid4()))["HostedZone"]["Id"]

    def create(label: str) -> Callable[[], Any]:
        return lambda: r53.change_resource_record_sets(HostedZoneId=zid, ChangeBatch={"Changes": [
            {"Action": "CREATE", "ResourceRecordSet": {"Name": f"{label}.sync.example.", "Type": "A", "TTL": 60,
                                                        "ResourceRecords": [{"Value": "10.0.0.1"}]}}]})

    def status(change_id: str) -> str:
        return r53.get_change(Id=change_id)["ChangeInfo"]["Status"]

    first, second = create("a")()["ChangeInfo"], create("b")()["ChangeInfo"]
    check("8: K = 0: INSYNC at once, as moto answers", (first["Status"], status(first["Id"])), ("INSYNC", "INSYNC"))
    check("8: each batch its own id", (first["Id"] != second["Id"], first["Id"].startswith("/change/C"),
                                       len(first["Id"])), (True, True, len("/change/") + 14))
    for bad in ({"pending_reads": -1}, {"pending_reads": "2"}, {"pending_reads": True}, {"reads": 2},
                {"pending_reads": 2, "more": 1}, [2]):
        check(f"8: {bad} refused", http(ep, "POST", path, bad)[0], 400)
    check("8: K set", http(ep, "POST", path, {"pending_reads": 2})[1]["pending_reads"], 2)
    third = create("c")()["ChangeInfo"]
    check("8: a new batch answers PENDING", third["Status"], "PENDING")
    check("8: PENDING for 2 GetChange calls, then INSYNC",
          [status(third["Id"]) for _ in range(4)], ["PENDING", "PENDING", "INSYNC", "INSYNC"])
    check("8: a batch applied before K was set stays INSYNC", status(second["Id"]), "INSYNC")
    check("8: the bare id works as well", status(third["Id"].rsplit("/", 1)[-1]), "INSYNC")
    check("8: a refused batch gets no change", outcome(create("a"))[1], "InvalidChangeBatch")
    check("8: an id never given", outcome(lambda: r53.get_change(Id="C0000000000000"))[:3],
          (404, "NoSuchChange", "A change with the specified change ID does not exist."))
    fourth = create("d")()["ChangeInfo"]
    http(ep, "POST", "/_ec2ddns/faults", {"route53:GetChange": ["throttle"]})
    check("8: GetChange can be throttled (change 2)", outcome(lambda: r53.get_change(Id=fourth["Id"]))[1::2],
          ("Throttling", "throttle"))
    check("8: a throttled call reads nothing", status(fourth["Id"]), "PENDING")
    _, shown = http(ep, "GET", path)
    check("8: GET shows each change's reads, oldest first",
          [(c["zone"], c["reads"]) for c in shown["changes"]],
          [(zid.rsplit("/", 1)[-1], r) for r in (["INSYNC"], ["INSYNC"], ["PENDING", "PENDING", "INSYNC", "INSYNC", "INSYNC"],
                                                  ["PENDING"])])

    # A lifecycle completion keeps each batch's status as last answered (change 5).
    asg.put_lifecycle_hook(AutoScalingGroupName="g", LifecycleHookName="h",
                           LifecycleTransition="autoscaling:EC2_INSTANCE_LAUNCHING")
    token = str(uuid.uuid4())
    http(ep, "POST", "/_ec2ddns/lifecycle-actions", {"group": "g", "hook": "h", "instance": "i-1", "token": token,
                                                     "transition": "launch"})
    asg.complete_lifecycle_action(AutoScalingGroupName="g", LifecycleHookName="h", LifecycleActionToken=token,
                                  InstanceId="i-1", LifecycleActionResult="CONTINUE")
    _, actions = http(ep, "GET", "/_ec2ddns/lifecycle-actions")
    bare = [c["Id"].rsplit("/", 1)[-1] for c in (first, second, third, fourth)]
    check("8: a completion keeps the statuses last answered", actions["completed"][0]["changes"],
          dict(zip(bare, ["INSYNC", "INSYNC", "INSYNC", "PENDING"])))

    check("8: DELETE forgets the changes and K", http(ep, "DELETE", path), (200, {"pending_reads": 0, "changes": []}))
    check("8: a forgotten id is no change", outcome(lambda: r53.get_change(Id=third["Id"]))[1], "NoSuchChange")
    http(ep, "POST", path, {"pending_reads": 3})
    create("e")()
    http(ep, "POST", "/moto-api/reset")
    check("8: a reset clears them", http(ep, "GET", path)[1], {"pending_reads": 0, "changes": []})


def run_ipv6(ep: str) -> None:
    """MOTO GAP 6a-6e (tests/emulator/moto_ipv6.py): IPv6 in EC2 as AWS answers it."""
    kw = dict(endpoint_url=ep, region_name="us-east-1", aws_access_key_id="testing",
              aws_secret_access_key="testing")
    ec2 = boto3.client("ec2", **kw)
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16", Ipv6CidrBlock="2600:1f18:abcd:100::/56")["Vpc"]
    ec2.modify_vpc_attribute(VpcId=vpc["VpcId"], EnableDnsHostnames={"Value": True})
    blocks = ec2.describe_vpcs(VpcIds=[vpc["VpcId"]])["Vpcs"][0]["Ipv6CidrBlockAssociationSet"]
    check("6a: CreateVpc keeps the given IPv6 block",
          [(b["Ipv6CidrBlock"], b["Ipv6CidrBlockState"]["State"]) for b in blocks],
          [("2600:1f18:abcd:100::/56", "associated")])
    dual = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.1.2.0/24",
                             Ipv6CidrBlock="2600:1f18:abcd:102::/64")["Subnet"]["SubnetId"]
    blocks = ec2.describe_subnets(SubnetIds=[dual])["Subnets"][0]["Ipv6CidrBlockAssociationSet"]
    check("6b: a subnet's IPv6 block state",
          [(b["Ipv6CidrBlock"], b["Ipv6CidrBlockState"]) for b in blocks],
          [("2600:1f18:abcd:102::/64", {"State": "associated"})])
    only6 = ec2.create_subnet(VpcId=vpc["VpcId"], Ipv6Native=True,
                              Ipv6CidrBlock="2600:1f18:abcd:103::/64")["Subnet"]["SubnetId"]
    check("6e: an IPv6-only subnet counts no IPv4 addresses",
          ec2.describe_subnets(SubnetIds=[only6])["Subnets"][0]["AvailableIpAddressCount"], 0)
    ami = ec2.describe_images()["Images"][0]["ImageId"]

    def launch(nic: dict[str, Any]) -> dict[str, Any]:
        iid = ec2.run_instances(ImageId=ami, InstanceType="t3.micro", MinCount=1, MaxCount=1,
                                NetworkInterfaces=[{"DeviceIndex": 0, **nic}])["Instances"][0]["InstanceId"]
        return ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]

    def ipv6_of(i: dict[str, Any]) -> list[str]:
        return [a["Ipv6Address"] for n in i["NetworkInterfaces"] for a in n.get("Ipv6Addresses", [])]

    i = launch({"SubnetId": dual, "PrivateIpAddress": "10.1.2.4",
                "Ipv6Addresses": [{"Ipv6Address": "2600:1f18:abcd:102::4"}]})
    check("6c: NetworkInterfaces[].Ipv6Addresses",
          (i.get("PrivateIpAddress"), i.get("PrivateDnsName"), ipv6_of(i)),
          ("10.1.2.4", "ip-10-1-2-4.ec2.internal", ["2600:1f18:abcd:102::4"]))
    i = launch({"SubnetId": dual, "Ipv6AddressCount": 2})
    check("6c: NetworkInterfaces[].Ipv6AddressCount", len(ipv6_of(i)), 2)
    i = launch({"SubnetId": only6, "Ipv6Addresses": [{"Ipv6Address": "2600:1f18:abcd:103::6"}]})
    check("6d: an IPv6-only instance: no IPv4, a resource-based name",
          (i.get("PrivateIpAddress"), i.get("PrivateDnsName"), ipv6_of(i)),
          (None, f"{i['InstanceId']}.ec2.internal", ["2600:1f18:abcd:103::6"]))
    http(ep, "POST", "/moto-api/reset")


def run_ecs(ep: str) -> None:
    """MOTO GAP 9a-9g: ECS tasks in awsvpc mode, their ENIs, listing and stopping."""
    cfg = botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"})
    kw = dict(endpoint_url=ep, region_name="us-east-1", aws_access_key_id="testing",
              aws_secret_access_key="testing", config=cfg)
    ec2, ecs = boto3.client("ec2", **kw), boto3.client("ecs", **kw)
    vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]  # DNS hostnames off
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.7.3.0/24")["Subnet"]["SubnetId"]
    default_group = ec2.describe_security_groups(Filters=[
        {"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"][0]
    own_group = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    cluster = ecs.create_cluster(clusterName="c1")["cluster"]["clusterArn"]
    ecs.create_cluster(clusterName="c2")
    ecs.register_task_definition(family="web", networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
                                 cpu="256", memory="512",
                                 containerDefinitions=[{"name": "web", "image": "nginx", "memory": 128}])

    def run(public: bool, groups: list[str] | None = None, count: int = 1, **more: Any) -> list[dict[str, Any]]:
        awsvpc: dict[str, Any] = {"subnets": [subnet], "assignPublicIp": "ENABLED" if public else "DISABLED"}
        if groups is not None:
            awsvpc["securityGroups"] = groups
        return ecs.run_task(cluster="c1", taskDefinition="web", launchType="FARGATE", count=count,
                            networkConfiguration={"awsvpcConfiguration": awsvpc}, **more)["tasks"]

    def details(task: dict[str, Any]) -> dict[str, str]:
        eni = next(a for a in task["attachments"] if a["type"] == "ElasticNetworkInterface")
        return {d["name"]: d["value"] for d in eni["details"]}

    def eni_of(task: dict[str, Any]) -> dict[str, Any]:
        return ec2.describe_network_interfaces(
            NetworkInterfaceIds=[details(task)["networkInterfaceId"]])["NetworkInterfaces"][0]

    # 9a: no securityGroups: the VPC's default group (moto: KeyError, HTTP 500).
    bare = run(public=False)[0]
    check("9a: awsvpc without securityGroups runs", bare["lastStatus"], "RUNNING")
    check("9a: its ENI has the VPC's default group", [g["GroupId"] for g in eni_of(bare)["Groups"]],
          [default_group["GroupId"]])
    check("9a: given groups are kept", [g["GroupId"] for g in eni_of(run(False, [own_group])[0])["Groups"]],
          [own_group])
    service_config = {"awsvpcConfiguration": {"subnets": [subnet]}}
    check("9a: a service without securityGroups is made", outcome(lambda: ecs.create_service(
        cluster="c2", serviceName="empty", taskDefinition="web", desiredCount=0, launchType="FARGATE",
        networkConfiguration=service_config))[:2], (200, None))

    # 9b, 9c: a free address inside the subnet, and its private DNS name (moto: a random 10.x
    # address outside it; no DNS name, so RunTask failed with HTTP 500 in a VPC without DNS hostnames).
    tagged = run(public=True, tags=[{"key": "HOSTNAME", "value": "api"}])[0]
    d = details(tagged)
    check("9b: the private address is inside the subnet, past the 4 reserved",
          (d["privateIPv4Address"].startswith("10.7.3."), int(d["privateIPv4Address"].rsplit(".", 1)[1]) >= 4),
          (True, True))
    many = run(public=False, count=5)
    addresses = [details(t)["privateIPv4Address"] for t in [bare, tagged] + many]
    check("9b: each task its own address", len(set(addresses)), len(addresses))
    check("9c: the attachment's privateDnsName",
          d["privateDnsName"], "ip-" + d["privateIPv4Address"].replace(".", "-") + ".ec2.internal")
    eni = eni_of(tagged)
    check("9c: the ENI's PrivateDnsName and address", (eni["PrivateDnsName"], eni["PrivateIpAddress"]),
          (d["privateDnsName"], d["privateIPv4Address"]))
    check("9c: the ENI is the task's", (eni["SubnetId"], eni["Status"], eni["InterfaceType"],
                                        eni["RequesterManaged"], eni["Description"].split(":attachment/")[0]),
          (subnet, "in-use", "interface", True, "arn:aws:ecs:us-east-1:123456789012"))

    # 9d: assignPublicIp ENABLED: a public address and DNS name on the ENI's association.
    public_ip = eni.get("Association", {}).get("PublicIp", "")
    check("9d: a public IPv4 address", public_ip.count("."), 3)
    check("9d: its public DNS name", eni["Association"].get("PublicDnsName"),
          "ec2-" + public_ip.replace(".", "-") + ".compute-1.amazonaws.com")
    check("9d: DISABLED: no public address", "Association" in eni_of(bare), False)

    # 9f: the ENI's VPC (moto already right: checked so it stays right).
    check("9f: the ENI's VpcId", eni["VpcId"], vpc)
    check("9g: startedAt and createdAt", ("startedAt" in tagged, "createdAt" in tagged), (True, True))

    # 9e: DescribeTasks include=TAGS, MISSING, one cluster, no drift.
    arn = tagged["taskArn"]
    described = [ecs.describe_tasks(cluster="c1", tasks=[arn], include=["TAGS"])["tasks"][0] for _ in range(5)]
    check("9e: describing a task does not move it on (moto: STOPPED after four reads)",
          [t["lastStatus"] for t in described], ["RUNNING"] * 5)
    check("9e: include TAGS", described[0].get("tags"), [{"key": "HOSTNAME", "value": "api"}])
    check("9e: no tags without include", "tags" in ecs.describe_tasks(cluster="c1", tasks=[arn])["tasks"][0], False)
    check("9e: by bare id", ecs.describe_tasks(cluster="c1", tasks=[arn.rsplit("/", 1)[1]])["tasks"][0]["taskArn"], arn)
    unknown = "arn:aws:ecs:us-east-1:123456789012:task/c1/00000000000000000000000000000000"
    answer = ecs.describe_tasks(cluster="c1", tasks=[arn, unknown])
    check("9e: an unknown task is a MISSING failure", ([t["taskArn"] for t in answer["tasks"]], answer["failures"]),
          ([arn], [{"arn": unknown, "reason": "MISSING"}]))
    answer = ecs.describe_tasks(cluster="c2", tasks=[arn])
    check("9e: another cluster's task is MISSING", (answer["tasks"], answer["failures"]),
          ([], [{"arn": arn, "reason": "MISSING"}]))
    check("9e: a substring of an id is no match", ecs.describe_tasks(cluster="c1", tasks=[arn[-8:]])["failures"][0]["reason"],
          "MISSING")
    check("9e: more than 100 tasks are refused", outcome(lambda: ecs.describe_tasks(
        cluster="c1", tasks=[f"{i:032x}" for i in range(101)]))[1], "InvalidParameterException")
    check("9e: an unknown cluster", outcome(lambda: ecs.describe_tasks(cluster="nope", tasks=[arn]))[1],
          "ClusterNotFoundException")

    # 9e: ListTasks pages and its desiredStatus (RUNNING when not given); ListClusters pages.
    all_running = ecs.list_tasks(cluster="c1")["taskArns"]
    pages, token = [], None
    while True:
        page = ecs.list_tasks(cluster="c1", maxResults=3, **({"nextToken": token} if token else {}))
        pages.append(len(page["taskArns"]))
        token = page.get("nextToken")
        if not token:
            break
    n = len(all_running)
    check("9e: ListTasks pages of maxResults", pages, [3] * (n // 3) + ([n % 3] if n % 3 else []))
    check("9e: maxResults over 100 is refused", outcome(lambda: ecs.list_tasks(cluster="c1", maxResults=101))[1],
          "InvalidParameterException")
    stopped = ecs.stop_task(cluster="c1", task=many[0]["taskArn"], reason="test")["task"]
    check("9e: StopTask: STOPPED, with its times and code",
          (stopped["lastStatus"], stopped["desiredStatus"], stopped.get("stopCode"), "stoppedAt" in stopped),
          ("STOPPED", "STOPPED", "UserInitiated", True))
    check("9e: ListTasks lists RUNNING when not told", (len(ecs.list_tasks(cluster="c1")["taskArns"]),
                                                        ecs.list_tasks(cluster="c1", desiredStatus="STOPPED")["taskArns"]),
          (n - 1, [many[0]["taskArn"]]))
    check("9e: a stopped task's ENI is deleted", outcome(lambda: eni_of(many[0]))[1],
          "InvalidNetworkInterfaceID.NotFound")
    check("9e: a stopped task is described STOPPED",
          ecs.describe_tasks(cluster="c1", tasks=[many[0]["taskArn"]])["tasks"][0]["lastStatus"], "STOPPED")
    check("9e: forget_stopped needs true", http(ep, "POST", "/_ec2ddns/ecs-tasks", {"forget_stopped": 1})[0], 400)
    check("9e: forget_stopped", http(ep, "POST", "/_ec2ddns/ecs-tasks", {"forget_stopped": True}),
          (200, {"forgotten": [many[0]["taskArn"]]}))
    check("9e: then the stopped task is MISSING",
          ecs.describe_tasks(cluster="c1", tasks=[many[0]["taskArn"]])["failures"],
          [{"arn": many[0]["taskArn"], "reason": "MISSING"}])
    first = ecs.list_clusters(maxResults=1)
    second = ecs.list_clusters(maxResults=1, nextToken=first["nextToken"])
    check("9e: ListClusters pages", (first["clusterArns"], second["clusterArns"], "nextToken" in second),
          ([cluster], [cluster.replace("/c1", "/c2")], False))

    # 9g: a service runs its tasks, group service:NAME, tags propagated.
    service = ecs.create_service(cluster="c1", serviceName="svc", taskDefinition="web", desiredCount=3,
                                 launchType="FARGATE", propagateTags="SERVICE",
                                 tags=[{"key": "GROUP", "value": "web"}],
                                 networkConfiguration={"awsvpcConfiguration": {
                                     "subnets": [subnet], "assignPublicIp": "ENABLED"}})["service"]
    arns = ecs.list_tasks(cluster="c1", serviceName="svc")["taskArns"]
    tasks = ecs.describe_tasks(cluster="c1", tasks=arns, include=["TAGS"])["tasks"] if arns else []
    check("9g: the service runs desiredCount tasks", (len(arns), service["runningCount"]), (3, 3))
    check("9g: group, startedBy, tags", sorted({(t["group"], t["startedBy"] == service["deployments"][0]["id"],
                                                  json.dumps(t.get("tags"))) for t in tasks}),
          [("service:svc", True, json.dumps([{"key": "GROUP", "value": "web"}]))])
    check("9g: with public addresses", all("Association" in eni_of(t) for t in tasks), True)
    check("9g: ListTasks serviceName of another service", ecs.list_tasks(cluster="c1", serviceName="empty")["taskArns"], [])

    # Faults in ECS's own JSON format (change 2).
    http(ep, "POST", "/_ec2ddns/faults", {"ecs:DescribeTasks": ["throttle", "before"]})
    check("9: DescribeTasks throttled", outcome(lambda: ecs.describe_tasks(cluster="c1", tasks=[arn]))[:2],
          (400, "ThrottlingException"))
    check("9: DescribeTasks failed", outcome(lambda: ecs.describe_tasks(cluster="c1", tasks=[arn]))[:2],
          (500, "ServerException"))
    check("9: then it answers", len(ecs.describe_tasks(cluster="c1", tasks=[arn])["tasks"]), 1)
    http(ep, "POST", "/moto-api/reset")


def run_assume_role(ep: str) -> None:
    """STRICTNESS/MOTO GAP 10: sts:AssumeRole only of a role that exists, with the external
    id its trust asks for; OrganizationAccountAccessRole in every account."""
    cfg = botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"})
    kw: dict[str, Any] = dict(endpoint_url=ep, region_name="us-east-1", config=cfg)
    central = dict(kw, aws_access_key_id="testing", aws_secret_access_key="testing")
    sts, ec2 = boto3.client("sts", **central), boto3.client("ec2", **central)

    def assume(arn: str, via: Any = None, **more: Any) -> Callable[[], Any]:
        return lambda: (via or sts).assume_role(RoleArn=arn, RoleSessionName="s10", **more)

    def acting(arn: str, via: Any = None, **more: Any) -> dict[str, Any]:
        creds = assume(arn, via, **more)()["Credentials"]
        return dict(kw, aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                    aws_session_token=creds["SessionToken"])

    def denied(arn: str, caller: str = "arn:aws:sts::123456789012:user/moto") -> tuple[Any, ...]:
        return (403, "AccessDenied", f"User: {caller} is not authorized to perform: sts:AssumeRole "
                                     f"on resource: {arn}", None)

    def trust(*statements: dict[str, Any]) -> str:
        return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})

    allow = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
             "Action": "sts:AssumeRole"}
    with_id = dict(allow, Condition={"StringEquals": {"sts:ExternalId": "ext-1"}})
    reader = "arn:aws:iam::111111111111:role/reader"

    check("10: a role that does not exist", outcome(assume(reader)), denied(reader))
    try:
        sts.assume_role(RoleArn=reader, RoleSessionName="s10")
    except ClientError as err:
        check("10: STS's XML error: a sender fault", err.response["Error"].get("Type"), "Sender")
    org = "arn:aws:iam::111111111111:role/OrganizationAccountAccessRole"
    check("10: OrganizationAccountAccessRole exists in every account", outcome(assume(org))[:2], (200, None))
    check("10: ... with any external id", outcome(assume(
        "arn:aws:iam::444444444444:role/OrganizationAccountAccessRole", ExternalId="whatever"))[:2], (200, None))
    member = acting(org)
    iam1, ec2_1 = boto3.client("iam", **member), boto3.client("ec2", **member)
    check("10: its credentials act in its account", boto3.client("sts", **member).get_caller_identity()["Arn"],
          "arn:aws:sts::111111111111:assumed-role/OrganizationAccountAccessRole/s10")
    vpc = ec2_1.create_vpc(CidrBlock="10.77.0.0/16")["Vpc"]["VpcId"]
    check("10: a VPC made there is not the central account's",
          vpc in {v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]}, False)

    iam1.create_role(RoleName="reader", AssumeRolePolicyDocument=trust(with_id))
    check("10: no external id, where the trust asks for one", outcome(assume(reader)), denied(reader))
    check("10: another external id", outcome(assume(reader, ExternalId="ext-2")), denied(reader))
    check("10: the external id asked for", outcome(assume(reader, ExternalId="ext-1"))[:2], (200, None))
    granted = acting(reader, ExternalId="ext-1")
    identity = boto3.client("sts", **granted).get_caller_identity()
    check("10: GetCallerIdentity answers the role's account",
          (identity["Account"], identity["Arn"]), ("111111111111", "arn:aws:sts::111111111111:assumed-role/reader/s10"))
    check("10: DescribeVpcs with them shows that account's VPC",
          vpc in {v["VpcId"] for v in boto3.client("ec2", **granted).describe_vpcs()["Vpcs"]}, True)
    other = "arn:aws:iam::222222222222:role/reader"
    check("10: a role of that name in another account", outcome(assume(other, ExternalId="ext-1")), denied(other))
    check("10: refused to an assumed role, named as GetCallerIdentity names it",
          outcome(assume(other, boto3.client("sts", **granted), ExternalId="ext-1")),
          denied(other, "arn:aws:sts::111111111111:assumed-role/reader/s10"))

    iam1.create_role(RoleName="open", AssumeRolePolicyDocument=trust(allow))
    check("10: a trust without an external id: none needed",
          outcome(assume("arn:aws:iam::111111111111:role/open"))[:2], (200, None))
    iam1.create_role(RoleName="star", AssumeRolePolicyDocument=trust(dict(allow, Action=["sts:Tag*", "STS:*"])))
    check("10: an Action wildcard covers sts:AssumeRole",
          outcome(assume("arn:aws:iam::111111111111:role/star"))[:2], (200, None))
    web = "arn:aws:iam::111111111111:role/web"
    iam1.create_role(RoleName="web", AssumeRolePolicyDocument=trust(dict(allow, Action="sts:AssumeRoleWithWebIdentity")))
    check("10: a trust that allows another action", outcome(assume(web)), denied(web))
    iam1.create_role(RoleName="either", AssumeRolePolicyDocument=trust(
        with_id, dict(allow, Condition={"StringEquals": {"STS:externalid": ["ext-2", "ext-3"]}})))
    check("10: any statement's external id (keys case-insensitive)", [
        outcome(assume("arn:aws:iam::111111111111:role/either", ExternalId=e))[:2] for e in ("ext-1", "ext-3", "ext-4")],
        [(200, None), (200, None), (403, "AccessDenied")])
    iam1.create_role(RoleName="pathed", Path="/ddns/", AssumeRolePolicyDocument=trust(allow))
    check("10: a role with a path, by its ARN", [outcome(assume(f"arn:aws:iam::111111111111:role/{p}"))[:2]
                                                  for p in ("ddns/pathed", "pathed")],
          [(200, None), (403, "AccessDenied")])
    user = "arn:aws:iam::111111111111:user/reader"
    check("10: not a role's ARN", outcome(assume(user)), denied(user))
    iam1.create_role(RoleName="OrganizationAccountAccessRole", AssumeRolePolicyDocument=trust(with_id))
    check("10: an OrganizationAccountAccessRole made there is checked as any role",
          (outcome(assume(org))[:2], outcome(assume(org, ExternalId="ext-1"))[:2]),
          ((403, "AccessDenied"), (200, None)))
    web_identity = outcome(lambda: sts.assume_role_with_web_identity(
        RoleArn="arn:aws:iam::111111111111:role/missing", RoleSessionName="s10", WebIdentityToken="t" * 8))
    check("10: AssumeRoleWithWebIdentity stays moto's", web_identity[:2], (200, None))

    http(ep, "POST", "/moto-api/reset")
    check("10: a reset forgets the roles", outcome(assume(reader, ExternalId="ext-1")), denied(reader))


def main() -> None:
    proc, ep = start_server()
    try:
        run(ep)
        run_routing(ep)
        run_cloudformation(ep)
        run_lifecycle(ep)
        run_change_status(ep)
        run_ipv6(ep)
        run_ecs(ep)
        run_assume_role(ep)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    print(f"{counts['passed']} passed, {counts['failed']} failed")
    sys.exit(1 if counts["failed"] else 0)


if __name__ == "__main__":
    main()
