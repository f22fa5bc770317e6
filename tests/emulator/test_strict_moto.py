#!/usr/bin/env python3
"""Checks strict_moto.py: its Route 53 rules, the re-create fix and fault injection.

    .venv/bin/python tests/emulator/test_strict_moto.py

Starts the launcher on a free loopback port (its own server, stopped at the
end), talks to it with boto3 and dummy credentials, prints each failure and a
count of passed checks, and exits 1 if any check failed. Clients make one
attempt per call (no retries), so each injected fault is seen exactly once.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
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


def main() -> None:
    proc, ep = start_server()
    try:
        run(ep)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    print(f"{counts['passed']} passed, {counts['failed']} failed")
    sys.exit(1 if counts["failed"] else 0)


if __name__ == "__main__":
    main()
