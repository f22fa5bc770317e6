#!/usr/bin/env python3
"""moto's server with a strict Route 53 ChangeResourceRecordSets and fault injection.

    python tests/emulator/strict_moto.py -H 127.0.0.1 -p PORT

Same flags and behaviour as `moto_server` (this runs moto's own `main`, so
every service and `/moto-api/reset` work as usual), with three changes.

1. Strict ChangeResourceRecordSets. moto 5.2.5 accepts batches that Route 53
   refuses, and refuses one that Route 53 accepts, so code tested against it
   could pass here and fail in AWS. `Route53Backend.change_resource_record_sets`
   is replaced by `strict_change_resource_record_sets`, which checks the batch
   change by change against the zone's records as the earlier changes of the
   batch left them, and stores the result only if every change is valid:
   - CREATE of a name+type that exists is refused ("already exists"). moto
     refuses only a CREATE identical to one in its change journal (see
     below); with other values it stores a second record set.
   - DELETE of a name+type that does not exist is refused ("not found").
   - DELETE whose TTL, values (as a set) or alias target differ from the
     record's is refused ("do not match"): Route 53 deletes only what the
     caller has seen, which is what makes a DELETE+CREATE batch a safe
     compare-and-swap. moto checks both DELETE cases against its journal, not
     the zone, with values in order, and refuses them as InvalidInput
     "Expected exactly one of [AliasTarget, ...] but found none".
   - A CNAME beside any other type at the same name, or any type beside a
     CNAME, is refused ("conflicting RRSet", RFC 1034 section 3.6.2); moto
     stores both.
   - A name outside the zone is refused ("not permitted in zone"); moto only
     checks that the text ends with the zone name, so `xcorp.example.` passes
     in `corp.example.`.
   - UPSERT replaces or creates (subject to the CNAME rule).
   Changes apply in order, so DELETE of a CNAME then CREATE of an A at the same
   name is one valid batch. A refusal is moto's own InvalidChangeBatch error
   (HTTP 400, moto's XML, which the AWS SDKs already parse) with Route 53's
   message text: the first error, in square brackets. The batch is applied to
   the zone's record list directly, never through moto's change journal
   (`FakeZone.rr_changes`): moto refuses to CREATE a record identical to one
   created (and since deleted) earlier in the zone whenever any record sorts
   after it, saying "already exists".

2. Fault injection, for tests of what the caller does when AWS fails:
   POST /_ec2ddns/faults  {"route53:ChangeResourceRecordSets": ["before", "after"],
                           "dynamodb:PutItem": ["throttle"]}
   queues faults; each call of an operation takes the first fault of its queue:
   - before:   HTTP 500 InternalFailure; the request never reaches moto.
   - after:    moto does the work, then the caller gets HTTP 500 InternalFailure
               instead of the answer (the ambiguous outcome of a timeout).
   - throttle: HTTP 400 Throttling "Rate exceeded" (DynamoDB:
               ThrottlingException, EC2: RequestLimitExceeded); nothing done.
   Each faulted answer carries the header `x-ec2ddns-fault: KIND`.
   GET /_ec2ddns/faults shows the queues left, DELETE clears them, and so does
   POST /moto-api/reset. An operation is `service:Action`: the service is the
   signing name of the request (`route53`, `dynamodb`, `ec2`), the action comes
   from X-Amz-Target (JSON services), the Action= form field (query services),
   or, for Route 53, POST .../hostedzone/ID/rrset (the only REST operation named).

3. Atomic DynamoDB. The server is threaded, and moto checks a write's
   condition and then makes the write, so two parallel conditional writes or
   ADDs can both pass against the same old item and one is lost; DynamoDB
   makes each write atomically. DynamoDB requests are served one at a time.
"""

from __future__ import annotations

import copy
import io
import json
import re
import threading
import urllib.parse
import uuid
from typing import Any

import moto.server
from moto.route53.exceptions import InvalidActionValue, InvalidInput, Route53ClientError
from moto.route53.models import RecordSet, Route53Backend
from moto.route53.utils import validate_domain_name

# --- 1. Strict ChangeResourceRecordSets ------------------------------------------

_batch_lock = threading.Lock()  # the server is threaded; a batch is atomic


def _dns(name: str) -> str:
    """Names compare case-insensitively, with one trailing dot."""
    return name.lower().rstrip(".") + "."


def _refuse(message: str) -> Route53ClientError:
    return Route53ClientError("InvalidChangeBatch", f"[{message}]")


def _content(ttl: Any, values: list[Any], alias: dict[str, Any] | None) -> tuple:
    """What a DELETE must repeat exactly: TTL, the set of values, alias target.
    (moto stores most values as strings but the SOA's as {"Value": ...}.)"""
    vals = sorted(v["Value"] if isinstance(v, dict) else v for v in values or [])
    target = alias and (_dns(alias.get("DNSName", "")), alias.get("HostedZoneId"),
                        bool(alias.get("EvaluateTargetHealth", False)))
    return (None if ttl is None else int(ttl), vals, target)


def strict_change_resource_record_sets(
    self: Route53Backend, zoneid: str, change_list: list[dict[str, Any]]
) -> None:
    zone = self.get_hosted_zone(zoneid)
    zone_name = _dns(zone.name)
    with _batch_lock:
        records = list(zone.rrsets)  # the batch works on a copy: all or nothing
        for change in change_list:
            action, rrset = change["Action"], copy.deepcopy(change["ResourceRecordSet"])
            if action not in ("CREATE", "UPSERT", "DELETE"):
                raise InvalidActionValue(action)
            validate_domain_name(rrset["Name"], code="InvalidChangeBatch")
            rrset["Name"] = label = rrset["Name"].rstrip(".") + "."  # as moto stores it
            name, rtype = _dns(label), rrset["Type"]
            shown = f"[name='{label}', type='{rtype}']"
            if name != zone_name and not name.endswith("." + zone_name):
                raise _refuse(f"RRSet with DNS name {label} is not permitted in zone {zone.name}")

            def same(r: RecordSet) -> bool:
                return (_dns(r.name) == name and r.type == rtype
                        and r.set_identifier == rrset.get("SetIdentifier"))

            current = next((r for r in records if same(r)), None)
            if action == "DELETE":
                if "AliasTarget" not in rrset and not rrset.get("ResourceRecords"):
                    raise InvalidInput(  # moto's (and Route 53's) message
                        "Invalid request: Expected exactly one of [AliasTarget, all of "
                        "[TTL, and ResourceRecords], or TrafficPolicyInstanceId], but "
                        f"found none in Change with [Action=DELETE, Name={rrset['Name']}, "
                        f"Type={rtype}, SetIdentifier={rrset.get('SetIdentifier', 'null')}]")
                if current is None:
                    raise _refuse(f"Tried to delete resource record set {shown} "
                                  "but it was not found")
                given = _content(rrset.get("TTL"), rrset.get("ResourceRecords"),
                                 rrset.get("AliasTarget"))
                if given != _content(current.ttl, current.records, current.alias_target):
                    raise _refuse(f"Tried to delete resource record set {shown} but the "
                                  "values provided do not match the current values")
                records.remove(current)
                continue

            if action == "CREATE" and current is not None:
                raise _refuse(f"Tried to create resource record set {shown} "
                              "but it already exists")
            for other in records:
                if (_dns(other.name) == name and other.type != rtype
                        and "CNAME" in (rtype, other.type)):
                    raise _refuse(
                        f"RRSet of type {rtype} with DNS name {label} "
                        "is not permitted because a conflicting RRSet of type "
                        f"{other.type} with the same DNS name already exists in zone "
                        f"{zone.name}")
            # Values are stored as moto stores them: plain strings.
            if "ResourceRecords" in rrset:
                rrset["ResourceRecords"] = [v["Value"] for v in rrset["ResourceRecords"]]
            if current is None:
                records.append(RecordSet(rrset))
            else:
                records[records.index(current)] = RecordSet(rrset)
        zone.rrsets = records


Route53Backend.change_resource_record_sets = strict_change_resource_record_sets

# --- 2. Fault injection -----------------------------------------------------------

FAULT_KINDS = ("before", "after", "throttle")
_dynamodb_lock = threading.Lock()  # see FaultInjector.__call__, change 3
ROUTE53_RRSET = re.compile(r"^/*2013-04-01/hostedzone/[^/]+/rrset/?$")


def _signing_service(environ: dict[str, Any]) -> str | None:
    """`dynamodb` from `AWS4-HMAC-SHA256 Credential=KEY/DATE/REGION/dynamodb/aws4_request, ...`."""
    match = re.search(r"Credential=[^/]*/[^/]*/[^/]*/([^/]+)/", environ.get("HTTP_AUTHORIZATION", ""))
    return match.group(1) if match else None


def _form_action(environ: dict[str, Any]) -> str | None:
    """The Action= field of a query-protocol body; the body is put back for moto."""
    length = environ.get("CONTENT_LENGTH")
    if not (length and environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded")):
        return None
    body = environ["wsgi.input"].read(int(length))
    environ["wsgi.input"] = io.BytesIO(body)
    return urllib.parse.parse_qs(body.decode("utf-8", "replace")).get("Action", [None])[0]


def operation(environ: dict[str, Any]) -> str | None:
    """`service:Action` of a request, or None when it is not one faults can name."""
    target = environ.get("HTTP_X_AMZ_TARGET")
    service = _signing_service(environ)
    if target and "." in target:  # JSON protocol: DynamoDB_20120810.PutItem
        prefix, action = target.split(".", 1)
        return f"{service or prefix.split('_')[0].lower()}:{action}"
    if environ.get("REQUEST_METHOD") == "POST" and ROUTE53_RRSET.match(environ.get("PATH_INFO", "")):
        return "route53:ChangeResourceRecordSets"
    action = _form_action(environ)
    return f"{service}:{action}" if service and action else None


def fault_response(op: str, kind: str) -> tuple[str, list[tuple[str, str]], bytes]:
    """An InternalFailure (500) or throttling (400) answer in the service's format."""
    service = op.split(":", 1)[0]
    request_id = str(uuid.uuid4())
    status, code, message = (
        ("500 Internal Server Error", "InternalFailure", "We encountered an internal error. Please try again.")
        if kind in ("before", "after") else ("400 Bad Request", "Throttling", "Rate exceeded"))
    if service == "dynamodb":
        if code == "Throttling":
            code = "ThrottlingException"
        body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message})
        content_type = "application/x-amz-json-1.0"
    elif service == "ec2":
        if code == "Throttling":
            code, message = "RequestLimitExceeded", "Request limit exceeded."
        body = (f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message>"
                f"</Error></Errors><RequestID>{request_id}</RequestID></Response>")
        content_type = "text/xml"
    else:  # Route 53 (REST-XML) and other XML services
        kind_of_fault = "Receiver" if status.startswith("5") else "Sender"
        namespace = ' xmlns="https://route53.amazonaws.com/doc/2013-04-01/"' if service == "route53" else ""
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse{namespace}><Error>'
                f"<Type>{kind_of_fault}</Type><Code>{code}</Code><Message>{message}</Message>"
                f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>")
        content_type = "text/xml"
    data = body.encode()
    headers = [("Content-Type", content_type), ("Content-Length", str(len(data))),
               ("x-amzn-RequestId", request_id), ("x-ec2ddns-fault", kind)]
    return status, headers, data


class FaultInjector:
    """WSGI middleware in front of moto's dispatcher; see the module docstring."""

    CONTROL_PATH = "/_ec2ddns/faults"

    def __init__(self, app: Any):
        self.app = app
        self.lock = threading.Lock()
        self.queues: dict[str, list[str]] = {}

    def take(self, op: str | None) -> str | None:
        with self.lock:
            queue = self.queues.get(op or "")
            if not queue:
                return None
            kind = queue.pop(0)
            if not queue:
                del self.queues[op]
            return kind

    def control(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        method, status = environ.get("REQUEST_METHOD"), "200 OK"
        with self.lock:
            if method == "POST":
                try:
                    size = int(environ.get("CONTENT_LENGTH") or 0)
                    asked = json.loads(environ["wsgi.input"].read(size) or b"{}")
                    if not isinstance(asked, dict) or not all(
                            isinstance(kinds, list) and all(k in FAULT_KINDS for k in kinds)
                            for kinds in asked.values()):
                        raise ValueError(f"want {{\"service:Action\": [one of {FAULT_KINDS}, ...]}}")
                    for op, kinds in asked.items():
                        if kinds:
                            self.queues.setdefault(op, []).extend(kinds)
                    answer: Any = self.queues
                except ValueError as err:
                    status, answer = "400 Bad Request", {"error": str(err)}
            elif method == "DELETE":
                self.queues.clear()
                answer = self.queues
            elif method == "GET":
                answer = self.queues
            else:
                status, answer = "405 Method Not Allowed", {"error": "use GET, POST or DELETE"}
            data = json.dumps(answer).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if path.rstrip("/") == self.CONTROL_PATH:
            return self.control(environ, start_response)
        if path.startswith("/moto-api/reset"):
            with self.lock:
                self.queues.clear()
            return self.app(environ, start_response)
        op = operation(environ)
        kind = self.take(op)
        if kind is None and op and op.startswith("dynamodb:"):
            # 3. Atomic DynamoDB. The server is threaded and moto checks a
            # write's condition and makes the write in two steps, so two
            # parallel conditional writes (or two ADDs) can both pass their
            # check against the same old item; DynamoDB makes each write
            # atomically. One DynamoDB request at a time, answered whole.
            with _dynamodb_lock:
                answer = self.app(environ, start_response)
                try:
                    body = b"".join(answer)
                finally:
                    if hasattr(answer, "close"):
                        answer.close()
            return [body]
        if kind is None:
            return self.app(environ, start_response)
        if kind == "after":  # let moto do the work, then throw its answer away
            answer = self.app(environ, lambda *args, **kwargs: (lambda data: None))
            try:
                for _ in answer:
                    pass
            finally:
                if hasattr(answer, "close"):
                    answer.close()
        status, headers, data = fault_response(op or "", kind)
        start_response(status, headers)
        return [data]


_DomainDispatcherApplication = moto.server.DomainDispatcherApplication
moto.server.DomainDispatcherApplication = (  # moto's main builds its app with this name
    lambda create_app: FaultInjector(_DomainDispatcherApplication(create_app)))

if __name__ == "__main__":
    moto.server.main()
