#!/usr/bin/env python3
"""moto's server with a strict Route 53 ChangeResourceRecordSets and fault injection.

    python tests/emulator/strict_moto.py -H 127.0.0.1 -p PORT

Same flags and behaviour as `moto_server` (this runs moto's own `main`, so
every service and `/moto-api/reset` work as usual), with these changes.

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
   or, for Route 53, POST .../hostedzone/ID/rrset and GET .../change/ID (the
   only REST operations named: ChangeResourceRecordSets and GetChange).

3. Atomic DynamoDB. The server is threaded, and moto checks a write's
   condition and then makes the write, so two parallel conditional writes or
   ADDs can both pass against the same old item and one is lost; DynamoDB
   makes each write atomically. DynamoDB requests are served one at a time.

4. What the SAM template (infra/template.yaml, expanded to plain
   CloudFormation) needs of moto's CloudFormation and EventBridge, for
   tests/infra/test_stack.py. Each is named `MOTO GAP 4x` where it is patched:
   4a. AWS::Lambda::Url: moto's CloudFormation does not know the type, and
       `Fn::GetAtt` of it in Outputs fails with an AttributeError in
       validate_outputs (None.has_cfn_attr). A model creates the function URL
       through moto's Lambda backend (Ref: the function's ARN; GetAtt
       FunctionUrl, FunctionArn).
   4b. AWS::Lambda::EventInvokeConfig, AWS::SQS::QueuePolicy,
       AWS::IAM::RolePolicy, AWS::CloudWatch::Alarm: unknown types, which
       moto skips with a warning and still reports CREATE_COMPLETE. Models
       make them through moto's own backends (PutFunctionEventInvokeConfig,
       the queue's Policy attribute, PutRolePolicy, PutMetricAlarm), so they
       can be read back.
   4c. ListStackResources lists a blank entry (no logical id, type or status
       of its own) for each resource whose Condition is false; CloudFormation
       lists only the resources it created.
   4d. Lambda functions: moto's CloudFormation drops Architectures,
       DeadLetterConfig and LoggingConfig, and its functions keep neither of
       the last two; they are kept and shown by GetFunctionConfiguration.
   4e. TestEventPattern answers with an empty body (moto's handler is a stub);
       it answers {"Result": true|false} from moto's own EventPattern matcher,
       the one its rules use, after EventBridge's checks of the event's
       required fields (ValidationException) and of the pattern
       (InvalidEventPatternException).
   4f. An AWS::IAM::Role's inline Policies reach moto as dicts, which it keeps,
       so GetRolePolicy answers Python's repr of the document instead of JSON;
       they are kept as JSON.
   4g. AWS::Events::EventBusPolicy (the organization mode's central bus): an
       unknown type, skipped as in 4b. A model puts its Statement on the bus
       through moto's PutPermission (Policy), so DescribeEventBus shows it.

5. Auto Scaling lifecycle actions (MOTO GAP 5). moto keeps lifecycle hooks
   (PutLifecycleHook, DescribeLifecycleHooks) but no action ever waits on
   one (its instances go InService at once) and CompleteLifecycleAction is
   not implemented. Here an action is started as the group would start it:
   POST /_ec2ddns/lifecycle-actions {"group": G, "hook": H, "instance": I,
                                     "token": T, "transition": "launch"|"terminate"}
   and CompleteLifecycleAction completes a waiting action once, strictly as
   Auto Scaling does: a ValidationError "No Lifecycle Hook found ..." when
   the group has no such hook (PutLifecycleHook first), "No active Lifecycle
   Action found with token T" when no action waits on that token (never
   started, completed already, or for another group, hook or instance), and
   a ValidationError for a result other than CONTINUE or ABANDON. Each
   completion is kept with the record sets every Route 53 zone held at that
   moment (`name TYPE`), so a test can tell what was written before it.
   GET /_ec2ddns/lifecycle-actions answers {"waiting": [...], "completed":
   [...]}; DELETE and /moto-api/reset clear both.
6. IPv6 in EC2 (MOTO GAP 6a-6e, patched in tests/emulator/moto_ipv6.py, which
   says what each one is): CreateVpc keeps a given Ipv6CidrBlock, a subnet's
   IPv6 block state reads as AWS writes it, RunInstances honours
   NetworkInterfaces[].Ipv6Addresses and Ipv6AddressCount, and an instance
   in an IPv6-only subnet has no private IPv4 and a resource-based private
   DNS name; an IPv6-only subnet counts no available IPv4 addresses.

7. Record sets with a SetIdentifier: routing policies (MOTO GAP 7a-7e), in
   the same strict ChangeResourceRecordSets as change 1 and a
   ListResourceRecordSets of our own. What moto 5.2.5 does, as seen through
   its server:
   7a. DELETE with a SetIdentifier deletes every record set of the zone that
       has that identifier, whatever its name and type (`delete_rrset_by_id`):
       deleting `a. A i-1` also deleted `b. AAAA i-1`. Change 1's handler
       matches name, type and SetIdentifier, so only the one named goes. Its
       refusals name such a record set as Route 53 does:
       [name='x.', type='A', set-identifier='i-1'].
   7b. moto checks no routing rule: it stored a SetIdentifier with no policy,
       one with both MultiValueAnswer and Weight, a Weight or MultiValueAnswer
       with no SetIdentifier, a multivalue CNAME, NS and alias, a simple record
       set beside multivalue ones at one name and type (and the reverse), a
       weighted beside multivalue ones, and a weighted CNAME beside a
       multivalue AAAA (change 1 already refused that last one). Route 53
       refuses each; here:
       - Without a SetIdentifier, any of Weight, Region, Failover, GeoLocation,
         MultiValueAnswer (even false), CidrRoutingConfig, GeoProximityLocation:
         InvalidInput "Invalid request: Missing field 'SetIdentifier' in Change
         with [...]". With one, exactly one of them (MultiValueAnswer counting
         when true): InvalidInput "Invalid request: Expected exactly one of
         [Weight, Region, Failover, GeoLocation, or MultiValueAnswer], but found
         none|more than one in Change with [...]". These are checked for every
         change of the batch before any is applied, DELETE included.
       - MultiValueAnswer with an AliasTarget, or of type CNAME or NS, is
         refused (InvalidChangeBatch).
       - At one name and type, a simple record set cannot join record sets with
         identifiers ("... cannot be created as other RRSets exist with the same
         name and type."), and a record set with an identifier joins only
         record sets of its own policy (multivalue: "... cannot be created
         because a non multivalue answer rrset exists with the same name and
         type."; weighted: "... as a non-weighted set exists ..."). The record
         set an UPSERT replaces does not count against it.
       - The CNAME rule of change 1 holds whatever the identifiers.
   7c. DELETE must also repeat the routing fields (Weight, Region, Failover,
       GeoLocation, MultiValueAnswer, CidrRoutingConfig, GeoProximityLocation)
       and HealthCheckId, as well as TTL, values and alias target, or it is
       refused as "do not match"; moto deleted a multivalue record set named
       without its MultiValueAnswer. (A wrong SetIdentifier is "not found".)
   7d. ListResourceRecordSets sorted by (name reversed, type) only, keeping the
       order of creation within one name and type, ignored
       StartRecordIdentifier and never answered NextRecordIdentifier: paging
       through 25 multivalue record sets of one name with MaxItems 20 or 7
       started every page again at that name's first record set, forever.
       Here the order is name (labels reversed, as moto does, case-folded),
       type, then SetIdentifier; a truncated answer whose next record set has
       an identifier gives NextRecordIdentifier, and StartRecordIdentifier
       (with StartRecordName and StartRecordType; without the type it is
       InvalidInput) starts at that record set.
   7e. The answer's XML already carried SetIdentifier, MultiValueAnswer,
       Weight, Region, Failover, GeoLocation and HealthCheckId, which boto3
       reads back; moto's RecordSet dropped CidrRoutingConfig and
       GeoProximityLocation, which are kept and shown here.
   Not checked: Route 53's further rules within one policy (weighted record
   sets of one name and type share a TTL, one latency record set per region,
   ...), and health checks or CIDR collections that do not exist.

8. A change batch's status (MOTO GAP 8). moto answers every
   ChangeResourceRecordSets with the one change id /change/C2682N5HXP0BZ4 and
   the status INSYNC, and GetChange answers INSYNC for any id at all, known
   or not; Route 53 gives each batch an id of its own, answers PENDING, and
   GetChange reports INSYNC only once every one of its name servers answers
   with the change (usually within 60 seconds). Here each batch applied gets
   its own id (/change/C and 13 characters), and reads PENDING for the first
   K GetChange calls of that id, then INSYNC; the batch's own answer says
   PENDING when K > 0, else INSYNC. K applies to the batches applied after it
   is set:
   POST /_ec2ddns/route53-changes {"pending_reads": K}
   and is 0 until then, so a test that does not set it sees moto's INSYNC at
   once. GetChange of an id never given is NoSuchChange (HTTP 404), as in
   Route 53. GET /_ec2ddns/route53-changes answers {"pending_reads": K,
   "changes": [{"id", "zone", "reads": [each status GetChange answered, in
   order]}]}, oldest first; DELETE and /moto-api/reset forget the changes and
   set K back to 0. Change 2 names GetChange (GET .../change/ID)
   `route53:GetChange`, so it can be throttled or failed too, and change 5
   keeps with each lifecycle completion the status each batch last answered
   then ("changes": {id: status}), so a test can tell whether the caller had
   seen its changes INSYNC before it completed the hook.

9. ECS tasks in `awsvpc` mode (MOTO GAP 9a-9g). What moto 5.2.5's ECS did, as
   seen through its server, for a Fargate RunTask with networkConfiguration:
   9a. Without awsvpcConfiguration.securityGroups, RunTask and CreateService
       failed with a KeyError (HTTP 500); ECS uses the default security group
       of the subnet's VPC. Here the task's ENI gets that group.
   9b. The ENI's private address was a random 10.x.y.z, not inside the task's
       subnet. Here it is the lowest address of the subnet that no interface
       holds, past the four AWS reserves (10.0.1.4 first in 10.0.1.0/24).
   9c. The ENI had no private DNS name, and moto's Task read it anyway: in a
       VPC without DNS hostnames every awsvpc RunTask failed (AttributeError,
       HTTP 500); with them, the name was the random address's. Here the ENI
       and the attachment's privateDnsName are its address's
       (ip-10-0-1-4.ec2.internal; REGION.compute.internal outside us-east-1).
       The ENI is also marked as ECS's (requester-managed, its description
       the attachment's ARN).
   9d. assignPublicIp ENABLED gave no public address. Here the ENI has an
       Association with a public IPv4 address (moto's 54.214.x.y, never one
       another interface holds) and its public DNS name as EC2 writes it
       (ec2-54-214-1-2.compute-1.amazonaws.com; moto's form, for EC2's own
       public addresses, is ip-54-214-1-2.ec2.internal). As in ECS, neither
       the task nor its attachment carries the public address.
   9e. DescribeTasks matched the tasks of every cluster, an id as a substring
       of any task's ARN, never answered a failure, accepted more than 100
       tasks, and each description moved a task one status on (RUNNING,
       DEACTIVATING, STOPPING, DEPROVISIONING, STOPPED: four reads stopped a
       running task, its desiredStatus still RUNNING). Here it describes the
       named cluster's tasks by ARN or id, answers each other one as a
       failure with reason MISSING, refuses more than 100
       (InvalidParameterException), and moves nothing on; include=TAGS was
       already honoured. ListTasks and ListClusters ignored maxResults and
       nextToken and answered all on one page, and ListTasks without
       desiredStatus listed stopped tasks too; here both page (maxResults
       1-100, default 100) and ListTasks lists RUNNING unless told STOPPED.
       StopTask stopped the task at once (kept: ECS takes a while) but left
       its ENI in use and gave no stoppedAt; here it also has stoppingAt,
       stoppedAt and stopCode UserInitiated, and its ENI is deleted, as ECS
       deletes a task's ENI. moto kept a stopped task for ever; ECS forgets
       it about an hour after it stops (DescribeTasks: MISSING). Here
         POST /_ec2ddns/ecs-tasks {"forget_stopped": true}
       does what the hour does: every STOPPED task is forgotten, and the
       answer lists them ({"forgotten": [ARN, ...]}).
   9f. The ENI's VpcId in DescribeNetworkInterfaces: moto was already right
       (the subnet's VPC); the launcher's test checks it stays so.
   9g. A task had no startedAt or createdAt; here both are the time it was
       run (moto starts tasks RUNNING at once). A service ran no tasks (and
       ListTasks ignored serviceName); here CreateService runs desiredCount
       tasks, in the group service:NAME, started by the service's deployment
       id, tagged as its propagateTags says (SERVICE or TASK_DEFINITION),
       and ListTasks serviceName lists them. UpdateService starts or stops
       none. Change 2 names ECS's operations `ecs:Action` (from X-Amz-Target)
       and answers their faults in ECS's JSON: ThrottlingException (400) and
       ServerException (500).
   Not done: awsvpc tasks on the EC2 launch type (moto places them on
   container instances like bridge ones), a task's IPv6 address, and the
   statuses between RUNNING and STOPPED.

10. STS AssumeRole as AWS decides it (STRICTNESS/MOTO GAP 10). moto 5.2.5
    answered AssumeRole of any role ARN with credentials, whether the role
    existed or not, and ignored ExternalId; so code that assumes a member
    account's role passed here with a role name, account or external id that
    AWS refuses. Here `STSBackend.assume_role` refuses AssumeRole of
    arn:aws:iam::ACCOUNT:role/[PATH/]NAME with AccessDenied (HTTP 403, STS's
    XML error: ErrorResponse, Error with Type Sender, Code, Message; and
    RequestId) and AWS's message "User: CALLER is not authorized to perform:
    sts:AssumeRole on resource: ROLE_ARN" (CALLER: what GetCallerIdentity
    answers the same credentials) unless
    - the role exists in that account's IAM (moto's IAM backend of the ARN's
      account and partition, matched by ARN, path included), and
    - its trust policy (AssumeRolePolicyDocument) has an Allow statement whose
      Action covers sts:AssumeRole (wildcards as IAM reads them) and that
      either has no StringEquals on sts:ExternalId or names the request's
      ExternalId there (a missing or different one is refused).
    As in AWS Organizations, which creates it in each account it creates or
    invites, arn:aws:iam::ACCOUNT:role/OrganizationAccountAccessRole is taken
    to exist in every account (trusting the caller, no external id) unless a
    role of that name was made there, which is then checked as any other;
    seeders and tests act in a member account by assuming it. The
    credentials granted act in the role's account, as moto's did. Not
    checked: principals (moto knows a caller only by its access key), Deny
    statements, NotAction, other condition operators (StringLike ...) and
    keys, the caller's own permission to call sts:AssumeRole, and session
    policies. AssumeRoleWithWebIdentity and AssumeRoleWithSAML are moto's.
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
from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.route53.exceptions import InvalidActionValue, InvalidInput, Route53ClientError
from moto.route53.models import RecordSet, Route53Backend, reverse_domain_name
from moto.route53.responses import Route53 as Route53Response
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


# MOTO GAP 7: the routing policy fields of a record set, by policy; a record set
# with a SetIdentifier has exactly one of them, one without has none.
ROUTING_FIELDS = {"Weight": "weighted", "Region": "latency", "Failover": "failover",
                  "GeoLocation": "geolocation", "MultiValueAnswer": "multivalue",
                  "CidrRoutingConfig": "ip-based", "GeoProximityLocation": "geoproximity"}
# The attributes of moto's RecordSet that hold them, and HealthCheckId (a DELETE
# repeats it too). moto's RecordSet does not keep the last two routing fields
# (MOTO GAP 7e): `_record_set` sets them, and the serializer finds them by name.
_ATTRIBUTES = {"Weight": "weight", "Region": "region", "Failover": "failover",
               "GeoLocation": "geo_location", "MultiValueAnswer": "multi_value_answer",
               "CidrRoutingConfig": "cidr_routing_config",
               "GeoProximityLocation": "geo_proximity_location", "HealthCheckId": "health_check_id"}


def _true(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _fields(record: RecordSet) -> dict[str, Any]:
    """A stored record set's routing fields and health check, as a change names them."""
    return {field: getattr(record, attr) for field, attr in _ATTRIBUTES.items()
            if getattr(record, attr, None) is not None}


def _policy(rrset: dict[str, Any]) -> str | None:
    """`multivalue`, `weighted`, ... or None for a simple record set (MultiValueAnswer
    counts only when true). Call it on a change checked by `_check_routing_input`."""
    return next((policy for field, policy in ROUTING_FIELDS.items()
                 if rrset.get(field) is not None
                 and (field != "MultiValueAnswer" or _true(rrset[field]))), None)


def _routing(rrset: dict[str, Any]) -> tuple:
    """What a DELETE must repeat besides `_content` (MOTO GAP 7c): each routing field
    and HealthCheckId, MultiValueAnswer false being the same as none."""
    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return tuple(sorted((k, plain(v)) for k, v in value.items()))
        return None if value is None else str(value)
    return tuple(_true(rrset.get(f)) if f == "MultiValueAnswer" else plain(rrset.get(f))
                 for f in _ATTRIBUTES)


def _record_set(rrset: dict[str, Any]) -> RecordSet:
    """moto's RecordSet of a change, keeping what moto's drops (MOTO GAP 7e)."""
    record = RecordSet(rrset)
    record.cidr_routing_config = rrset.get("CidrRoutingConfig")
    record.geo_proximity_location = rrset.get("GeoProximityLocation")
    return record


def _check_routing_input(action: str, rrset: dict[str, Any]) -> None:
    """MOTO GAP 7b: a SetIdentifier goes with exactly one routing policy field, and
    no SetIdentifier with none. Route 53 answers InvalidInput, with the name as the
    caller wrote it. The texts are Route 53's as users' reports show them, whose list
    names only the first five fields (whether Route 53 now names CidrRoutingConfig
    and GeoProximityLocation too was not found); "more than one" is inferred from
    the same message's other form, as Route 53 words it for [AliasTarget, ...]."""
    sid = rrset.get("SetIdentifier")
    shown = (f"[Action={action}, Name={rrset.get('Name')}, Type={rrset.get('Type')}, "
             f"SetIdentifier={'null' if sid is None else sid}]")
    present = [f for f in ROUTING_FIELDS if rrset.get(f) is not None]
    if sid is None:
        if present:
            raise InvalidInput(f"Invalid request: Missing field 'SetIdentifier' in Change with {shown}")
        return
    found = [f for f in present if f != "MultiValueAnswer" or _true(rrset[f])]
    if len(found) != 1:
        raise InvalidInput(
            "Invalid request: Expected exactly one of [Weight, Region, Failover, GeoLocation, "
            f"or MultiValueAnswer], but found {'none' if not found else 'more than one'} "
            f"in Change with {shown}")


def _not_beside(label: str, rtype: str, rrset: dict[str, Any], policy: str) -> str:
    """MOTO GAP 7b: Route 53's refusal of a record set with an identifier beside record
    sets of another policy (or a simple one) at its name and type. The multivalue,
    weighted and latency texts are Route 53's; the geolocation one is, but Route 53
    also names the place ("continent = (NA, North America)"), here only its code;
    the failover, IP-based and geoproximity ones are written here in the same style
    (no real text found)."""
    head = f"RRSet with DNS name {label}, type {rtype}, SetIdentifier {rrset['SetIdentifier']}"
    if policy == "multivalue":
        return (f"{head} cannot be created because a non multivalue answer rrset exists "
                "with the same name and type.")
    if policy == "weighted":
        return f"{head} cannot be created as a non-weighted set exists with the same name and type."
    if policy == "latency":
        head += f", and Region Name={rrset['Region']}"
        kind = "non-latency"
    elif policy == "geolocation":
        geo = rrset["GeoLocation"]
        where = ", ".join(f"{word} = ({geo[code]})" for code, word in (
            ("ContinentCode", "continent"), ("CountryCode", "country"),
            ("SubdivisionCode", "subdivision")) if geo.get(code))
        head += f", and routing to [{where}]"
        kind = "non-GEO"
    else:
        kind = {"failover": "non-failover", "ip-based": "non-IP-based"}.get(policy, "non-geoproximity")
    return f"{head} cannot be created because a {kind} RRSet with the same name and type already exists."


def strict_change_resource_record_sets(
    self: Route53Backend, zoneid: str, change_list: list[dict[str, Any]]
) -> None:
    zone = self.get_hosted_zone(zoneid)
    zone_name = _dns(zone.name)
    for change in change_list:  # the request's form first, as Route 53 checks it
        _check_routing_input(change["Action"], change["ResourceRecordSet"])
    with _batch_lock:
        records = list(zone.rrsets)  # the batch works on a copy: all or nothing
        for change in change_list:
            action, rrset = change["Action"], copy.deepcopy(change["ResourceRecordSet"])
            if action not in ("CREATE", "UPSERT", "DELETE"):
                raise InvalidActionValue(action)
            validate_domain_name(rrset["Name"], code="InvalidChangeBatch")
            rrset["Name"] = label = rrset["Name"].rstrip(".") + "."  # as moto stores it
            name, rtype = _dns(label), rrset["Type"]
            sid = rrset.get("SetIdentifier")
            shown = (f"[name='{label}', type='{rtype}'"  # as Route 53 names a record set
                     + ("]" if sid is None else f", set-identifier='{sid}']"))
            if name != zone_name and not name.endswith("." + zone_name):
                raise _refuse(f"RRSet with DNS name {label} is not permitted in zone {zone.name}")

            # MOTO GAP 7a: the record set named by name, type and SetIdentifier, never
            # every one with that SetIdentifier.
            def same(r: RecordSet) -> bool:
                return _dns(r.name) == name and r.type == rtype and r.set_identifier == sid

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
                given = (_content(rrset.get("TTL"), rrset.get("ResourceRecords"),
                                  rrset.get("AliasTarget")), _routing(rrset))
                if given != (_content(current.ttl, current.records, current.alias_target),
                             _routing(_fields(current))):  # MOTO GAP 7c: routing too
                    raise _refuse(f"Tried to delete resource record set {shown} but the "
                                  "values provided do not match the current values")
                records.remove(current)
                continue

            if action == "CREATE" and current is not None:
                raise _refuse(f"Tried to create resource record set {shown} "
                              "but it already exists")
            policy = _policy(rrset)
            if policy == "multivalue":
                # MOTO GAP 7b. The alias text is Route 53's as a CDK preflight linter quotes
                # it (not seen in a report); the CNAME/NS one is written here to match.
                if "AliasTarget" in rrset:
                    raise _refuse("Multivalue answer rrset should not be an alias rrset")
                if rtype in ("CNAME", "NS"):
                    raise _refuse(f"Multivalue answer rrset should not be of type {rtype}")
            for other in records:  # whatever the identifiers (MOTO GAP 7b)
                if (_dns(other.name) == name and other.type != rtype
                        and "CNAME" in (rtype, other.type)):
                    raise _refuse(
                        f"RRSet of type {rtype} with DNS name {label} "
                        "is not permitted because a conflicting RRSet of type "
                        f"{other.type} with the same DNS name already exists in zone "
                        f"{zone.name}")
            for other in records:  # MOTO GAP 7b: one policy at a name and type
                if other is current or _dns(other.name) != name or other.type != rtype:
                    continue
                if policy is None:
                    raise _refuse(f"RRSet with DNS name {label}, type {rtype} cannot be "
                                  "created as other RRSets exist with the same name and type.")
                if other.set_identifier is None or _policy(_fields(other)) != policy:
                    raise _refuse(_not_beside(label, rtype, rrset, policy))
            # Values are stored as moto stores them: plain strings.
            if "ResourceRecords" in rrset:
                rrset["ResourceRecords"] = [v["Value"] for v in rrset["ResourceRecords"]]
            if current is None:
                records.append(_record_set(rrset))
            else:
                records[records.index(current)] = _record_set(rrset)
        zone.rrsets = records


Route53Backend.change_resource_record_sets = strict_change_resource_record_sets


# --- 7. ListResourceRecordSets in Route 53's order (MOTO GAP 7d) -------------------

def _listing_key(name: str, rtype: str | None, set_identifier: str | None) -> tuple[str, str, str]:
    """Name with its labels reversed (as moto sorts, case-folded), type, SetIdentifier;
    a missing type or identifier sorts first."""
    return (reverse_domain_name(name.lower()), rtype or "", set_identifier or "")


def record_sets_page(backend: Route53Backend, zone_id: str, start_name: str | None,
                     start_type: str | None, start_identifier: str | None,
                     max_items: int) -> tuple[list[RecordSet], RecordSet | None]:
    """One page of the zone's record sets from the start given, and the record set
    the next page starts at (None when this page is the last)."""
    if start_name:
        validate_domain_name(start_name)
    zone = backend.get_hosted_zone(zone_id)
    ordered = sorted(zone.rrsets, key=lambda r: _listing_key(r.name, r.type, r.set_identifier))
    if start_name:
        start = _listing_key(start_name, start_type, start_identifier)
        ordered = [r for r in ordered if _listing_key(r.name, r.type, r.set_identifier) >= start]
    return ordered[:max_items], (ordered[max_items] if len(ordered) > max_items else None)


def list_resource_record_sets(self: Route53Backend, zone_id: str, start_type: str,
                              start_name: str, max_items: int) -> tuple:
    """moto's backend call, in the order above (for any other caller than ours)."""
    page, following = record_sets_page(self, zone_id, start_name, start_type, None, max_items)
    return (page, following and following.name, following and following.type,
            following is not None)


def list_resource_record_sets_response(self: Route53Response) -> ActionResult:
    start_name = self._get_param("StartRecordName")
    start_type = self._get_param("StartRecordType")
    start_identifier = self._get_param("StartRecordIdentifier")
    max_items = self._get_int_param("MaxItems", 300)
    if (start_type and not start_name) or (start_identifier and not start_type):
        raise InvalidInput("The input is not valid")
    page, following = record_sets_page(self.backend, self._get_param("HostedZoneId"),
                                       start_name, start_type, start_identifier, max_items)
    result: dict[str, Any] = {"ResourceRecordSets": page, "IsTruncated": following is not None,
                              "MaxItems": max_items}
    if following is not None:
        result.update(NextRecordName=following.name, NextRecordType=following.type)
        if following.set_identifier is not None:
            result["NextRecordIdentifier"] = following.set_identifier
    return ActionResult(result)


Route53Backend.list_resource_record_sets = list_resource_record_sets  # type: ignore[method-assign]
Route53Response.list_resource_record_sets = list_resource_record_sets_response  # type: ignore[method-assign]

# --- 8. A change batch's status (MOTO GAP 8) ---------------------------------------

class ChangeStatuses:
    """The change batches applied, in order, with the statuses GetChange answered each;
    see change 8."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pending_reads = 0
        # id -> {"id", "zone", "pending_reads", "submitted", "answered", "reads"}
        self.changes: dict[str, dict[str, Any]] = {}

    def clear(self) -> None:
        with self.lock:
            self.pending_reads = 0
            self.changes.clear()

    def submit(self, zone: str) -> dict[str, Any]:
        """A batch just applied: its id and status."""
        with self.lock:
            change_id, now = "C" + uuid.uuid4().hex.upper()[:13], utcnow()
            status = "PENDING" if self.pending_reads else "INSYNC"
            self.changes[change_id] = {"id": change_id, "zone": zone, "pending_reads": self.pending_reads,
                                       "submitted": now, "answered": status, "reads": []}
            return {"Id": f"/change/{change_id}", "Status": status, "SubmittedAt": now}

    def read(self, change_id: str) -> dict[str, Any]:
        """One GetChange: PENDING for the first `pending_reads` reads of the id, then INSYNC."""
        bare = change_id.rsplit("/", 1)[-1]
        with self.lock:
            change = self.changes.get(bare)
            if change is None:
                raise Route53ClientError("NoSuchChange", "A change with the specified change ID does not exist.")
            status = "PENDING" if len(change["reads"]) < change["pending_reads"] else "INSYNC"
            change["reads"].append(status)
            change["answered"] = status
            return {"Id": f"/change/{bare}", "Status": status, "SubmittedAt": change["submitted"]}

    def answered(self) -> dict[str, str]:
        """Each change's status as last answered (by its batch's answer or a GetChange)."""
        with self.lock:
            return {c["id"]: c["answered"] for c in self.changes.values()}

    def shown(self) -> dict[str, Any]:
        with self.lock:
            return {"pending_reads": self.pending_reads,
                    "changes": [{"id": c["id"], "zone": c["zone"], "reads": list(c["reads"])}
                                for c in self.changes.values()]}


CHANGES = ChangeStatuses()
_moto_change_resource_record_sets = Route53Response.change_resource_record_sets


def change_resource_record_sets_response(self: Route53Response) -> ActionResult:
    """moto's answer (change 1 applied the batch, or raised its refusal), with the
    batch's own change id and status."""
    _moto_change_resource_record_sets(self)
    return ActionResult({"ChangeInfo": CHANGES.submit(self._get_param("HostedZoneId"))})


def get_change_response(self: Route53Response) -> ActionResult:
    return ActionResult({"ChangeInfo": CHANGES.read(self._get_param("Id") or "")})


def route53_changes_control(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """POST sets K for the batches to come, GET shows the changes, DELETE forgets them
    (change 8)."""
    method, status = environ.get("REQUEST_METHOD"), "200 OK"
    answer: Any = None
    if method == "POST":
        try:
            size = int(environ.get("CONTENT_LENGTH") or 0)
            asked = json.loads(environ["wsgi.input"].read(size) or b"{}")
            reads = asked.get("pending_reads") if isinstance(asked, dict) else None
            if not (isinstance(reads, int) and not isinstance(reads, bool) and reads >= 0) or len(asked) != 1:
                raise ValueError("want {\"pending_reads\": K}, K a whole number from 0")
            with CHANGES.lock:
                CHANGES.pending_reads = reads
        except ValueError as err:
            status, answer = "400 Bad Request", {"error": str(err)}
    elif method == "DELETE":
        CHANGES.clear()
    elif method != "GET":
        status, answer = "405 Method Not Allowed", {"error": "use GET, POST or DELETE"}
    data = json.dumps(answer if answer is not None else CHANGES.shown(), default=str).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


Route53Response.change_resource_record_sets = change_resource_record_sets_response  # type: ignore[method-assign]
Route53Response.get_change = get_change_response  # type: ignore[method-assign]

# --- 5. Auto Scaling lifecycle actions (MOTO GAP 5) -------------------------------
from moto.autoscaling.exceptions import ValidationError as AutoScalingValidationError  # noqa: E402
from moto.autoscaling.responses import AutoScalingResponse  # noqa: E402
from moto.core.responses import EmptyResult  # noqa: E402
from moto.route53.models import route53_backends  # noqa: E402


class LifecycleActions:
    """The actions waiting on hooks, by token, and the completions made; see change 5."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.waiting: dict[str, dict[str, str]] = {}
        self.completed: list[dict[str, Any]] = []

    def clear(self) -> None:
        with self.lock:
            self.waiting.clear()
            self.completed.clear()


LIFECYCLE = LifecycleActions()


def complete_lifecycle_action(self: AutoScalingResponse) -> EmptyResult:
    group = self._get_param("AutoScalingGroupName")
    hook = self._get_param("LifecycleHookName")
    token = self._get_param("LifecycleActionToken")
    instance = self._get_param("InstanceId")
    result = self._get_param("LifecycleActionResult")
    if result not in ("CONTINUE", "ABANDON"):
        raise AutoScalingValidationError(f"Invalid LifecycleActionResult: {result}; expected CONTINUE or ABANDON")
    if f"{group}_{hook}" not in self.autoscaling_backend.lifecycle_hooks:
        raise AutoScalingValidationError(f"No Lifecycle Hook found with name {hook} for group {group}")
    with LIFECYCLE.lock:
        action = LIFECYCLE.waiting.get(token or "")
        if (action is None or action["group"] != group or action["hook"] != hook
                or (instance and action["instance"] != instance)):
            raise AutoScalingValidationError(f"No active Lifecycle Action found with token {token}")
        zones = route53_backends[self.current_account]["global"].zones.values()
        records = sorted(f"{r.name} {r.type}" for z in zones for r in z.rrsets)
        del LIFECYCLE.waiting[token]
        LIFECYCLE.completed.append({**action, "result": result, "records": records,
                                    "changes": CHANGES.answered()})  # MOTO GAP 8
    return EmptyResult()


AutoScalingResponse.complete_lifecycle_action = complete_lifecycle_action  # type: ignore[attr-defined]


def lifecycle_control(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """POST starts an action, GET shows them, DELETE clears them (change 5)."""
    method, status = environ.get("REQUEST_METHOD"), "200 OK"
    if method == "POST":
        try:
            size = int(environ.get("CONTENT_LENGTH") or 0)
            asked = json.loads(environ["wsgi.input"].read(size) or b"{}")
            fields = ("group", "hook", "instance", "token", "transition")
            if not (isinstance(asked, dict) and all(isinstance(asked.get(f), str) and asked[f] for f in fields)
                    and asked["transition"] in ("launch", "terminate")):
                raise ValueError(f"want {{{', '.join(fields)}}}, each a non-empty string; transition launch or terminate")
            with LIFECYCLE.lock:
                LIFECYCLE.waiting[asked["token"]] = {f: asked[f] for f in fields}
        except ValueError as err:
            status = "400 Bad Request"
            data = json.dumps({"error": str(err)}).encode()
            start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
            return [data]
    elif method == "DELETE":
        LIFECYCLE.clear()
    elif method != "GET":
        status = "405 Method Not Allowed"
    with LIFECYCLE.lock:
        data = json.dumps({"waiting": list(LIFECYCLE.waiting.values()), "completed": LIFECYCLE.completed}).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


# --- 2. Fault injection -----------------------------------------------------------

FAULT_KINDS = ("before", "after", "throttle")
_dynamodb_lock = threading.Lock()  # see FaultInjector.__call__, change 3
ROUTE53_RRSET = re.compile(r"^/*2013-04-01/hostedzone/[^/]+/rrset/?$")
ROUTE53_CHANGE = re.compile(r"^/*2013-04-01/change/[^/]+/?$")


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
    if environ.get("REQUEST_METHOD") == "GET" and ROUTE53_CHANGE.match(environ.get("PATH_INFO", "")):
        return "route53:GetChange"  # MOTO GAP 8
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
    elif service == "ecs":  # JSON 1.1, ECS's own codes (MOTO GAP 9)
        code = "ThrottlingException" if code == "Throttling" else "ServerException"
        body = json.dumps({"__type": code, "message": message})
        content_type = "application/x-amz-json-1.1"
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
        if path.rstrip("/") == "/_ec2ddns/lifecycle-actions":
            return lifecycle_control(environ, start_response)
        if path.rstrip("/") == "/_ec2ddns/route53-changes":
            return route53_changes_control(environ, start_response)
        if path.rstrip("/") == "/_ec2ddns/ecs-tasks":
            return ecs_tasks_control(environ, start_response)  # MOTO GAP 9e
        if path.startswith("/moto-api/reset"):
            LIFECYCLE.clear()
            CHANGES.clear()
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


# --- 4. CloudFormation and EventBridge for the SAM template ------------------------
# Imported here, after the Route 53 patch, so that the models below join moto's
# list of CloudFormation models (CloudFormationModel.__subclasses__(), read on
# the first stack) before any stack is made.

from moto.awslambda.models import LambdaFunction  # noqa: E402
from moto.awslambda.utils import get_backend as lambda_backend  # noqa: E402
from moto.cloudformation import models as cfn_models  # noqa: E402
from moto.cloudformation import parsing as cfn_parsing  # noqa: E402
from moto.cloudwatch.models import cloudwatch_backends  # noqa: E402
from moto.core.common_models import CloudFormationModel  # noqa: E402
from moto.events.exceptions import InvalidEventPatternException  # noqa: E402
from moto.events.exceptions import ValidationException as EventsValidationException  # noqa: E402
from moto.events.models import EventPattern  # noqa: E402
from moto.events.responses import EventsHandler  # noqa: E402
from moto.iam.models import Role as IamRole  # noqa: E402
from moto.iam.models import iam_backends  # noqa: E402
from moto.sqs.models import sqs_backends  # noqa: E402
from moto.utilities.utils import get_partition  # noqa: E402


class _Made:
    """What the models below share: a physical id, GetAtt from a dict, and a delete
    that undoes the creation (moto's stack deletion calls `delete` on each resource).
    Each model also derives from CloudFormationModel itself: moto finds its models
    among that class's direct subclasses."""

    ATTRIBUTES: tuple[str, ...] = ()

    def __init__(self, physical_id: str, attributes: dict[str, Any] | None = None,
                 undo: Any = None):
        self.physical_id = physical_id
        self.attributes = attributes or {}
        self.undo = undo

    @property
    def physical_resource_id(self) -> str:
        return self.physical_id

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.ATTRIBUTES

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
        if attribute_name not in self.attributes:
            raise UnformattedGetAttTemplateException()
        return self.attributes[attribute_name]

    def delete(self, account_id: str, region_name: str) -> None:
        if not self.undo:
            return
        try:
            self.undo()
        except Exception as err:
            # What it undoes went with a resource deleted first (its function, queue or role).
            if not re.search(r"NotFound|NoSuch|Unknown", f"{type(err).__name__} {getattr(err, 'code', '')}"):
                raise

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @classmethod
    def delete_from_cloudformation_json(cls, *args: Any, **kwargs: Any) -> None:
        """Not used: `delete` above is."""


class FunctionUrlModel(_Made, CloudFormationModel):
    """MOTO GAP 4a: AWS::Lambda::Url, through moto's CreateFunctionUrlConfig."""

    __module__ = "moto.awslambda.models"  # moto files a model under its service's module
    ATTRIBUTES = ("FunctionUrl", "FunctionArn")

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Lambda::Url"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: Any,
                                        account_id: str, region_name: str, **kwargs: Any) -> Any:
        props = cloudformation_json["Properties"]
        backend = lambda_backend(account_id, region_name)
        config = {k: props[k] for k in ("AuthType", "Cors", "InvokeMode") if k in props}
        url = backend.create_function_url_config(props["TargetFunctionArn"], config).to_dict()
        return cls(url["FunctionArn"],
                   {"FunctionUrl": url["FunctionUrl"], "FunctionArn": url["FunctionArn"]},
                   lambda: backend.delete_function_url_config(url["FunctionArn"]))


class EventInvokeConfigModel(_Made, CloudFormationModel):
    """MOTO GAP 4b: AWS::Lambda::EventInvokeConfig (moto keeps one, for $LATEST)."""

    __module__ = "moto.awslambda.models"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Lambda::EventInvokeConfig"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: Any,
                                        account_id: str, region_name: str, **kwargs: Any) -> Any:
        props = cloudformation_json["Properties"]
        backend = lambda_backend(account_id, region_name)
        config: dict[str, Any] = {k: int(props[k]) for k in
                                  ("MaximumRetryAttempts", "MaximumEventAgeInSeconds") if k in props}
        if props.get("DestinationConfig"):
            config["DestinationConfig"] = props["DestinationConfig"]
        function = props["FunctionName"]
        backend.put_function_event_invoke_config(function, config)
        return cls(f"{function}:{props.get('Qualifier', '$LATEST')}", None,
                   lambda: backend.delete_function_event_invoke_config(function))


class QueuePolicyModel(_Made, CloudFormationModel):
    """MOTO GAP 4b: AWS::SQS::QueuePolicy, as each queue's Policy attribute."""

    __module__ = "moto.sqs.models"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SQS::QueuePolicy"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: Any,
                                        account_id: str, region_name: str, **kwargs: Any) -> Any:
        props = cloudformation_json["Properties"]
        backend = sqs_backends[account_id][region_name]
        names = [url.rstrip("/").rsplit("/", 1)[-1] for url in props["Queues"]]  # Ref: the URL
        for name in names:
            backend.set_queue_attributes(name, {"Policy": json.dumps(props["PolicyDocument"])})

        def undo() -> None:
            for name in names:
                if name in backend.queues:  # the queue may have gone first
                    backend.set_queue_attributes(name, {"Policy": ""})
        return cls(resource_name, None, undo)


class RolePolicyModel(_Made, CloudFormationModel):
    """MOTO GAP 4b: AWS::IAM::RolePolicy, through moto's PutRolePolicy."""

    __module__ = "moto.iam.models"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::IAM::RolePolicy"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: Any,
                                        account_id: str, region_name: str, **kwargs: Any) -> Any:
        props = cloudformation_json["Properties"]
        backend = iam_backends[account_id][get_partition(region_name)]
        role, name = props["RoleName"], props["PolicyName"]
        backend.put_role_policy(role, name, json.dumps(props["PolicyDocument"]))

        def undo() -> None:
            if role in {r.name for r in backend.roles.values()}:  # the role may have gone first
                backend.delete_role_policy(role, name)
        return cls(resource_name, None, undo)


class AlarmModel(_Made, CloudFormationModel):
    """MOTO GAP 4b: AWS::CloudWatch::Alarm (single-metric alarms), through PutMetricAlarm."""

    __module__ = "moto.cloudwatch.models"
    ATTRIBUTES = ("Arn",)

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CloudWatch::Alarm"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: Any,
                                        account_id: str, region_name: str, **kwargs: Any) -> Any:
        p = cloudformation_json["Properties"]
        backend = cloudwatch_backends[account_id][region_name]
        name = p.get("AlarmName") or resource_name
        alarm = backend.put_metric_alarm(
            name=name,
            namespace=p.get("Namespace"),
            metric_name=p.get("MetricName"),
            comparison_operator=p["ComparisonOperator"],
            evaluation_periods=int(p["EvaluationPeriods"]),
            period=int(p["Period"]) if "Period" in p else None,
            threshold=float(p["Threshold"]) if "Threshold" in p else None,
            statistic=p.get("Statistic"),
            description=p.get("AlarmDescription"),
            dimensions=[{"Name": d["Name"], "Value": d["Value"]} for d in p.get("Dimensions", [])],
            alarm_actions=p.get("AlarmActions", []),
            datapoints_to_alarm=int(p["DatapointsToAlarm"]) if "DatapointsToAlarm" in p else None,
            extended_statistic=p.get("ExtendedStatistic"),
            ok_actions=p.get("OKActions", []),
            insufficient_data_actions=p.get("InsufficientDataActions", []),
            unit=p.get("Unit"),
            actions_enabled=str(p.get("ActionsEnabled", True)).lower() == "true",
            treat_missing_data=p.get("TreatMissingData"),
        )
        return cls(name, {"Arn": alarm.alarm_arn}, lambda: backend.delete_alarms([name]))


# --- MOTO GAP 4g: AWS::Events::EventBusPolicy ------------------------------------
from moto.events.models import events_backends  # noqa: E402


class EventBusPolicyModel(_Made, CloudFormationModel):
    """MOTO GAP 4g: AWS::Events::EventBusPolicy (its Statement form), through moto's
    PutPermission with a Policy of that one statement (Sid: the StatementId)."""

    __module__ = "moto.events.models"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Events::EventBusPolicy"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: Any,
                                        account_id: str, region_name: str, **kwargs: Any) -> Any:
        props = cloudformation_json["Properties"]
        backend = events_backends[account_id][region_name]
        bus, sid = props.get("EventBusName", "default"), props["StatementId"]
        policy = {"Version": "2012-10-17", "Statement": [{"Sid": sid, **props["Statement"]}]}
        backend.put_permission(bus, None, None, sid, None, json.dumps(policy))  # type: ignore[arg-type]
        return cls(sid, None, lambda: backend.remove_permission(bus, sid, False))
# --- end of MOTO GAP 4g ---------------------------------------------------------------


# The list is cached on first use; a stack made before this import (none is) would
# have missed the models above.
cfn_parsing.get_model_list.cache_clear()
cfn_parsing.get_model_map.cache_clear()
cfn_parsing.get_name_type_map.cache_clear()

# MOTO GAP 4c: resources not created (Condition false) are None in the stack's map.
cfn_models.Stack.stack_resources = property(  # type: ignore[assignment]
    lambda self: [r for r in self.resource_map.values() if r is not None])

# MOTO GAP 4d: Architectures, DeadLetterConfig and LoggingConfig of a function.
_KEPT = ("DeadLetterConfig", "LoggingConfig")
_function_init = LambdaFunction.__init__
_function_configuration = LambdaFunction.get_configuration
_function_from_cfn = LambdaFunction.create_from_cloudformation_json.__func__


def _init_keeping(self: LambdaFunction, account_id: str, spec: dict[str, Any], *args: Any,
                  **kwargs: Any) -> None:
    _function_init(self, account_id, spec, *args, **kwargs)
    self.ec2ddns_kept = {k: spec[k] for k in _KEPT if spec.get(k)}


def _configuration_keeping(self: LambdaFunction, *args: Any, **kwargs: Any) -> dict[str, Any]:
    config = _function_configuration(self, *args, **kwargs)
    config.update(getattr(self, "ec2ddns_kept", {}))
    return config


def _from_cfn_keeping(cls: Any, resource_name: str, cloudformation_json: dict[str, Any],
                      account_id: str, region_name: str, **kwargs: Any) -> LambdaFunction:
    fn = _function_from_cfn(cls, resource_name, cloudformation_json, account_id, region_name,
                            **kwargs)
    props = cloudformation_json["Properties"]
    if props.get("Architectures"):
        fn.architectures = list(props["Architectures"])
    fn.ec2ddns_kept = {k: props[k] for k in _KEPT if props.get(k)}
    return fn


LambdaFunction.__init__ = _init_keeping  # type: ignore[method-assign]
LambdaFunction.get_configuration = _configuration_keeping  # type: ignore[method-assign]
LambdaFunction.create_from_cloudformation_json = classmethod(_from_cfn_keeping)  # type: ignore[method-assign]

# MOTO GAP 4e: TestEventPattern through moto's EventPattern matcher.
_EVENT_FIELDS = ("id", "account", "source", "time", "region", "resources", "detail-type")


def test_event_pattern(self: EventsHandler) -> str:
    pattern = EventPattern.load(self._get_param("EventPattern"))  # InvalidEventPatternException
    try:
        event = json.loads(self._get_param("Event") or "")
    except ValueError:
        event = None
    if not isinstance(event, dict) or any(f not in event for f in _EVENT_FIELDS):
        raise EventsValidationException("Parameter Event is not valid.")
    return json.dumps({"Result": pattern.matches_event(event)})


EventsHandler.test_event_pattern = test_event_pattern  # type: ignore[method-assign]

# MOTO GAP 4f: an AWS::IAM::Role's inline Policies, as CloudFormation hands them over, are
# dicts; moto keeps them so and GetRolePolicy answers Python's repr of one, not JSON.
_put_policy = IamRole.put_policy


def _put_policy_as_json(self: IamRole, policy_name: str, policy_json: Any) -> None:
    if not isinstance(policy_json, str):
        policy_json = json.dumps(policy_json)
    _put_policy(self, policy_name, policy_json)


IamRole.put_policy = _put_policy_as_json  # type: ignore[method-assign]
assert InvalidEventPatternException  # raised by EventPattern.load for a bad pattern

# --- 6. IPv6 in EC2 (MOTO GAP 6a-6e) ------------------------------------------------
# In a module of its own, imported for its patches: tests/emulator/moto_ipv6.py.
import moto_ipv6  # noqa: E402,F401  (this file's directory is on sys.path)

# --- 9. ECS tasks in awsvpc mode (MOTO GAP 9a-9g) -----------------------------------
# What moto 5.2.5's ECS does, as seen through its server, is in the module docstring.

import ipaddress  # noqa: E402

from moto.ec2.models import ec2_backends  # noqa: E402
from moto.ec2.utils import random_public_ip  # noqa: E402
from moto.ec2.models.elastic_network_interfaces import (  # noqa: E402
    NetworkInterface, NetworkInterfaceBackend)
from moto.ecs.exceptions import InvalidParameterException as EcsInvalidParameter  # noqa: E402
from moto.ecs.models import EC2ContainerServiceBackend, ecs_backends  # noqa: E402
from moto.ecs.models import Service as EcsService  # noqa: E402
from moto.ecs.models import Task as EcsTask  # noqa: E402
from moto.ecs.responses import DESCRIBE_TASKS_TAGS, EC2ContainerServiceResponse  # noqa: E402

ECS_ENI_DESCRIPTION = "moto ECS"  # what moto's Task names the ENI it creates
ECS_PAGE = 100  # ListTasks and ListClusters: maxResults 1-100, 100 when not given
ECS_DESCRIBE_MAX = 100  # DescribeTasks: at most 100 tasks a call
_ecs_lock = threading.Lock()  # a free address is chosen and taken at once


def _private_dns(ip: str, region: str) -> str:
    """EC2's private DNS name of an address: ip-10-0-1-5.ec2.internal in us-east-1,
    ip-10-0-1-5.REGION.compute.internal elsewhere."""
    label = "ip-" + ip.replace(".", "-")
    return f"{label}.ec2.internal" if region == "us-east-1" else f"{label}.{region}.compute.internal"


def _public_dns(ip: str, region: str) -> str:
    """EC2's public DNS name of an address: ec2-54-1-2-3.compute-1.amazonaws.com in
    us-east-1, ec2-54-1-2-3.REGION.compute.amazonaws.com elsewhere."""
    label = "ec2-" + ip.replace(".", "-")
    return (f"{label}.compute-1.amazonaws.com" if region == "us-east-1"
            else f"{label}.{region}.compute.amazonaws.com")


def _free_address(backend: Any, subnet: Any) -> str:
    """MOTO GAP 9b: the lowest address of the subnet no interface holds, past the four
    AWS reserves at its start and before the one at its end."""
    used = {eni.private_ip_address for eni in backend.enis.values()
            if getattr(eni.subnet, "id", None) == subnet.id}
    used |= {a.get("PrivateIpAddress") for eni in backend.enis.values()
             if getattr(eni.subnet, "id", None) == subnet.id for a in eni.private_ip_addresses}
    hosts = list(ipaddress.ip_network(subnet.cidr_block, strict=False).hosts())
    for host in hosts[3:-1]:
        if str(host) not in used:
            return str(host)
    raise EcsInvalidParameter(f"The subnet {subnet.id} has no free IPv4 address.")


def _free_public_ip(backend: Any) -> str:
    """MOTO GAP 9d: a public address no interface holds (moto's random ones can repeat)."""
    used = {eni.public_ip for eni in backend.enis.values()}
    while True:
        ip = random_public_ip()
        if ip not in used:
            return ip


_create_network_interface = NetworkInterfaceBackend.create_network_interface


def _create_task_eni(self: Any, subnet: Any, private_ip_address: Any, *args: Any,
                     **kwargs: Any) -> NetworkInterface:
    """MOTO GAP 9b, 9c: a task's ENI gets a free address inside its subnet (moto
    passed a random 10.x address from nowhere) and a private DNS name (moto set the
    attribute only in a VPC with DNS hostnames, and then read it anyway, so RunTask
    failed with an AttributeError, HTTP 500, in any other VPC)."""
    if kwargs.get("description") != ECS_ENI_DESCRIPTION:
        return _create_network_interface(self, subnet, private_ip_address, *args, **kwargs)
    the_subnet = self.get_subnet(subnet) if isinstance(subnet, str) else subnet
    with _ecs_lock:
        eni = _create_network_interface(self, the_subnet, _free_address(self, the_subnet),
                                        *args, **kwargs)
    eni.private_dns_name = _private_dns(eni.private_ip_address, self.region_name)
    for address in eni.private_ip_addresses:
        if address.get("Primary"):
            address["PrivateDnsName"] = eni.private_dns_name
    eni.interface_type = "interface"
    eni.requester_managed = True
    return eni


NetworkInterfaceBackend.create_network_interface = _create_task_eni  # type: ignore[method-assign]

_association = NetworkInterface.association


def _eni_association(self: NetworkInterface) -> dict[str, Any]:
    """MOTO GAP 9d: a task ENI's association names its public DNS name as EC2 does
    (moto: ip-54-...ec2.internal, a private name's form)."""
    association = _association.fget(self)  # type: ignore[attr-defined]
    public_dns = getattr(self, "ecs_public_dns_name", None)
    if association and public_dns:
        association["publicDnsName"] = public_dns
    return association


NetworkInterface.association = property(_eni_association)  # type: ignore[assignment]

_task_init = EcsTask.__init__


def _detail(task: Any, name: str) -> str | None:
    for attachment in task.attachments:
        for detail in attachment.get("details", []):
            if detail.get("name") == name:
                return detail.get("value")
    return None


def _task_init_awsvpc(self: Any, cluster: Any, task_definition: Any, *args: Any, **kwargs: Any) -> None:
    """MOTO GAP 9a, 9d, 9g: an awsvpc task without securityGroups gets its VPC's
    default group (moto failed with a KeyError, HTTP 500); assignPublicIp ENABLED
    gives its ENI a public address (moto gave none); the task has a createdAt and a
    startedAt, and its ENI's description names the attachment as ECS names it."""
    config = kwargs.get("networking_configuration")
    ec2 = ec2_backends[kwargs["backend"].account_id][cluster.region_name]
    awsvpc = (config or {}).get("awsvpcConfiguration") if task_definition.network_mode == "awsvpc" else None
    if awsvpc is not None:
        subnets = awsvpc.get("subnets") or []
        if not subnets:
            raise EcsInvalidParameter("subnets can not be empty.")
        if not awsvpc.get("securityGroups"):
            vpc_id = ec2.get_subnet(subnets[0]).vpc_id
            awsvpc["securityGroups"] = [ec2.get_default_security_group(vpc_id).id]
    _task_init(self, cluster, task_definition, *args, **kwargs)
    now = utcnow()
    self.created_at = now
    self.started_at = now
    self.connectivity_at = now
    eni_id = _detail(self, "networkInterfaceId")
    if awsvpc is not None and eni_id:
        eni = ec2.get_network_interface(eni_id)
        attachment = self.attachments[0]
        eni.description = (f"arn:{get_partition(cluster.region_name)}:ecs:{cluster.region_name}:"
                           f"{eni.ec2_backend.account_id}:attachment/{attachment['id']}")
        if str(awsvpc.get("assignPublicIp", "DISABLED")).upper() == "ENABLED":
            with _ecs_lock:
                eni.public_ip = _free_public_ip(ec2)
            eni.ecs_public_dns_name = _public_dns(eni.public_ip, cluster.region_name)


EcsTask.__init__ = _task_init_awsvpc  # type: ignore[method-assign]


def _describe_tasks(self: EC2ContainerServiceBackend, cluster_str: str,
                    tasks: list[str]) -> tuple[list[Any], list[dict[str, str]]]:
    """MOTO GAP 9e: the named cluster's tasks only, by ARN or id, and a failure with
    reason MISSING for each one it does not know; at most 100. moto matched tasks of
    every cluster, an id as a substring of any ARN, never answered a failure, and
    each description moved a running task one status on (RUNNING, DEACTIVATING,
    STOPPING, DEPROVISIONING, STOPPED: four reads stopped it)."""
    cluster = self._get_cluster(cluster_str)
    if not tasks:
        raise EcsInvalidParameter("Tasks cannot be empty.")
    if len(tasks) > ECS_DESCRIBE_MAX:
        raise EcsInvalidParameter(f"Too many tasks were provided. Specify {ECS_DESCRIBE_MAX} or fewer.")
    found, failures = [], []
    known = self.tasks.get(cluster.name, {})
    for wanted in tasks:
        task = next((t for arn, t in known.items()
                     if wanted == arn or wanted == arn.rsplit("/", 1)[-1]), None)
        if task is None:
            failures.append({"arn": wanted, "reason": "MISSING"})
        elif task not in found:
            found.append(task)
    return found, failures


def _describe_tasks_response(self: EC2ContainerServiceResponse) -> ActionResult:
    tasks, failures = _describe_tasks(self.ecs_backend, self._get_param("cluster", "default"),
                                      self._get_param("tasks", []))
    if "TAGS" in self._get_param("include", []):
        self._include_in_response(DESCRIBE_TASKS_TAGS)
    else:
        self._exclude_from_response(DESCRIBE_TASKS_TAGS)
    return ActionResult({"tasks": tasks, "failures": failures})


def _page(self: EC2ContainerServiceResponse, items: list[str]) -> tuple[list[str], str | None]:
    """MOTO GAP 9e: maxResults (1-100, default 100) and nextToken, which moto ignored."""
    size = self._get_int_param("maxResults", ECS_PAGE)
    if not 1 <= size <= ECS_PAGE:
        raise EcsInvalidParameter(f"maxResults must be between 1 and {ECS_PAGE}.")
    token = self._get_param("nextToken")
    start = 0
    if token:
        try:
            start = int(token)
        except ValueError:
            raise EcsInvalidParameter("Invalid nextToken.") from None
    end = start + size
    return items[start:end], (str(end) if end < len(items) else None)


def _list_tasks_response(self: EC2ContainerServiceResponse) -> ActionResult:
    """MOTO GAP 9e: pages, and desiredStatus RUNNING when not given, as ECS lists
    (moto listed every task, stopped ones too, on one page)."""
    tasks = self.ecs_backend.list_tasks(
        self._get_param("cluster", "default"), self._get_param("containerInstance"),
        self._get_param("family"), self._get_param("startedBy"), self._get_param("serviceName"),
        self._get_param("desiredStatus") or "RUNNING")
    arns, token = _page(self, [t.task_arn for t in tasks])
    result: dict[str, Any] = {"taskArns": arns}
    if token:
        result["nextToken"] = token
    return ActionResult(result)


def _list_clusters_response(self: EC2ContainerServiceResponse) -> ActionResult:
    arns, token = _page(self, self.ecs_backend.list_clusters())
    result: dict[str, Any] = {"clusterArns": arns}
    if token:
        result["nextToken"] = token
    return ActionResult(result)


_stop_task = EC2ContainerServiceBackend.stop_task


def _stop_task_releasing(self: EC2ContainerServiceBackend, cluster_str: str, task_str: str,
                         reason: str) -> Any:
    """MOTO GAP 9e: a stopped task has stoppingAt, stoppedAt and a stopCode, and its ENI
    is detached and deleted, as ECS does (moto kept it, in use)."""
    task = _stop_task(self, cluster_str, task_str, reason)
    now = utcnow()
    task.stopping_at = task.stopped_at = task.execution_stopped_at = now
    task.stop_code = "UserInitiated"
    eni_id = _detail(task, "networkInterfaceId")
    if eni_id:
        ec2_backends[self.account_id][self.region_name].enis.pop(eni_id, None)
        for attachment in task.attachments:
            attachment["status"] = "DELETED"
    return task


EC2ContainerServiceBackend.stop_task = _stop_task_releasing  # type: ignore[method-assign]
EC2ContainerServiceResponse.describe_tasks = _describe_tasks_response  # type: ignore[method-assign]
EC2ContainerServiceResponse.list_tasks = _list_tasks_response  # type: ignore[method-assign]
EC2ContainerServiceResponse.list_clusters = _list_clusters_response  # type: ignore[method-assign]


_validate_service_network = EcsService._validate_network


def _validate_service_network_default_group(self: Any, nc: dict[str, Any]) -> dict[str, Any]:
    """MOTO GAP 9a: a service's awsvpcConfiguration may leave out securityGroups too
    (moto failed CreateService with a KeyError, HTTP 500); its tasks get the default
    group of their VPC."""
    config = (nc or {}).get("awsvpcConfiguration") or {}
    if config.get("securityGroups"):
        return _validate_service_network(self, nc)
    checked = copy.deepcopy(nc)
    checked["awsvpcConfiguration"]["securityGroups"] = []
    _validate_service_network(self, checked)
    return nc


EcsService._validate_network = _validate_service_network_default_group  # type: ignore[method-assign]


_create_service = EC2ContainerServiceBackend.create_service


def _create_service_running(self: EC2ContainerServiceBackend, cluster_str: str, service_name: str,
                            desired_count: int, *args: Any, **kwargs: Any) -> Any:
    """MOTO GAP 9g: a service runs its desiredCount tasks, as ECS's scheduler does, each
    in the group service:NAME, started by the deployment, tagged as propagateTags says
    (SERVICE: the service's tags, TASK_DEFINITION: the task definition's). moto ran
    none (and its ListTasks ignored serviceName). Only at creation: UpdateService does
    not start or stop tasks here."""
    service = _create_service(self, cluster_str, service_name, desired_count, *args, **kwargs)
    if not desired_count or not service.task_definition:
        return service
    task_definition = self.describe_task_definition(service.task_definition)
    tags = {"SERVICE": service.tags,
            "TASK_DEFINITION": task_definition.tags or []}.get(service.propagate_tags, [])
    deployment = service.deployments[0]["id"] if service.deployments else f"ecs-svc/{service.name}"
    self.run_task(cluster_str=cluster_str, task_definition_str=service.task_definition,
                  count=desired_count, overrides=None, started_by=deployment,
                  tags=[dict(t) for t in tags], launch_type=service.launch_type,
                  networking_configuration=copy.deepcopy(service.network_configuration) or None,
                  group=f"service:{service.name}", platform_version=service.platform_version)
    service.running_count, service.pending_count = desired_count, 0
    return service


_list_tasks = EC2ContainerServiceBackend.list_tasks


def _list_tasks_of_service(self: EC2ContainerServiceBackend, *args: Any, **kwargs: Any) -> list[Any]:
    """MOTO GAP 9g: ListTasks serviceName lists that service's tasks (moto ignored it)."""
    names = ["cluster_str", "container_instance", "family", "started_by", "service_name",
             "desiredStatus"]
    given = dict(zip(names, args)) | kwargs
    service_name = given.pop("service_name", None)
    tasks = _list_tasks(self, **given)
    if service_name:
        tasks = [t for t in tasks if t.group == f"service:{service_name.split('/')[-1]}"]
    return tasks


EC2ContainerServiceBackend.create_service = _create_service_running  # type: ignore[method-assign]
EC2ContainerServiceBackend.list_tasks = _list_tasks_of_service  # type: ignore[method-assign]


def forget_stopped_tasks() -> list[str]:
    """MOTO GAP 9e: what ECS does an hour or so after a task stops: it no longer knows
    it (DescribeTasks answers MISSING). moto kept stopped tasks for ever."""
    forgotten = []
    for backends in ecs_backends.values():
        for backend in backends.values():
            for tasks in backend.tasks.values():
                for arn in [a for a, t in tasks.items() if t.desired_status == "STOPPED"
                            and t.last_status == "STOPPED"]:
                    del tasks[arn]
                    forgotten.append(arn)
    return forgotten


def ecs_tasks_control(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """POST /_ec2ddns/ecs-tasks {"forget_stopped": true}: see the module docstring."""
    status = "200 OK"
    if environ.get("REQUEST_METHOD") == "POST":
        size = int(environ.get("CONTENT_LENGTH") or 0)
        try:
            asked = json.loads(environ["wsgi.input"].read(size) or b"{}")
        except ValueError:
            asked = None
        if isinstance(asked, dict) and asked.get("forget_stopped") is True:
            answer: Any = {"forgotten": forget_stopped_tasks()}
        else:
            status, answer = "400 Bad Request", {"error": 'want {"forget_stopped": true}'}
    else:
        status, answer = "405 Method Not Allowed", {"error": "use POST"}
    data = json.dumps(answer).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


# --- STRICTNESS/MOTO GAP 10: STS AssumeRole as AWS decides it ---------------------
# What is refused, and what is not checked, is in the module docstring (change 10).
from moto.core import serialize as _moto_serialize  # noqa: E402
from moto.core.errors import ErrorShape  # noqa: E402
from moto.core.exceptions import ServiceException  # noqa: E402
from moto.iam.models import iam_backends  # noqa: E402
from moto.sts.models import STSBackend  # noqa: E402
from moto.sts.responses import TokenResponse  # noqa: E402

# The role AWS Organizations makes in each member account (its default name).
ORGANIZATION_ROLE = "OrganizationAccountAccessRole"
_ROLE_ARN = re.compile(r"arn:(aws[a-z-]*):iam::(\d{12}):role/(?:[^/]+/)*([^/]+)")


class AssumeRoleAccessDenied(ServiceException):
    """STS's AccessDenied; `_error_model` gives it its HTTP status, 403."""

    code = "AccessDenied"


# STS's service model has no AccessDenied shape, and moto answers a code it does not
# know with HTTP 400; STS answers this one with 403, as a sender fault.
_ACCESS_DENIED_SHAPE = ErrorShape("AccessDenied", {
    "exception": True, "type": "structure", "members": {},
    "error": {"code": "AccessDenied", "httpStatusCode": 403, "senderFault": True}})
_moto_error_model = _moto_serialize.get_error_model


def _error_model(exception: Exception, default_service_model: Any) -> Any:
    if isinstance(exception, AssumeRoleAccessDenied):
        return _ACCESS_DENIED_SHAPE
    return _moto_error_model(exception, default_service_model)


_moto_serialize.get_error_model = _error_model  # type: ignore[assignment]


def _action_covers(pattern: Any, action: str = "sts:AssumeRole") -> bool:
    """An IAM Action pattern (case-insensitive, * and ? wildcards) covers `action`."""
    if not isinstance(pattern, str):
        return False
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, action, re.IGNORECASE) is not None


def _external_ids(condition: Any) -> set[str] | None:
    """The external ids a statement's Condition asks for (StringEquals on
    sts:ExternalId; condition keys are case-insensitive), or None if it asks for none."""
    block = condition.get("StringEquals") if isinstance(condition, dict) else None
    if not isinstance(block, dict):
        return None
    wanted: set[str] | None = None
    for key, values in block.items():
        if key.lower() == "sts:externalid":
            wanted = (wanted or set()) | set([values] if isinstance(values, str) else values)
    return wanted


def trust_allows(document: Any, external_id: str | None) -> bool:
    """A trust policy lets the caller assume the role with this external id."""
    policy = document
    if isinstance(document, str):  # JSON, or JSON URL-encoded as IAM hands it back
        try:
            policy = json.loads(document)
        except ValueError:
            try:
                policy = json.loads(urllib.parse.unquote(document))
            except ValueError:
                return False
    statements = policy.get("Statement", []) if isinstance(policy, dict) else []
    for statement in [statements] if isinstance(statements, dict) else statements:
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        actions = statement.get("Action", [])
        if not any(_action_covers(a) for a in ([actions] if isinstance(actions, str) else actions)):
            continue
        wanted = _external_ids(statement.get("Condition"))
        if wanted is None or external_id in wanted:
            return True
    return False


def assume_role_allowed(role_arn: Any, external_id: str | None) -> bool:
    """AWS would grant AssumeRole of `role_arn` with this external id (change 10)."""
    match = _ROLE_ARN.fullmatch(role_arn) if isinstance(role_arn, str) else None
    if match is None:
        return False
    partition, account, _name = match.groups()
    try:
        role = iam_backends[account][partition].get_role_by_arn(role_arn)
    except Exception:  # NotFoundException; or a partition moto does not know
        return role_arn == f"arn:{partition}:iam::{account}:role/{ORGANIZATION_ROLE}"
    return trust_allows(role.assume_role_policy_document, external_id)


# The caller's access key, for the refusal's "User: ..." (the backend is not told it).
_ASSUMING = threading.local()
_moto_assume_role = STSBackend.assume_role
_moto_assume_role_response = TokenResponse.assume_role


def strict_assume_role(self: STSBackend, region_name: str, role_session_name: str, role_arn: str,
                       policy: str, duration: int, external_id: str) -> Any:
    """STRICTNESS/MOTO GAP 10: moto's AssumeRole, once AWS would grant it."""
    if not assume_role_allowed(role_arn, external_id):
        caller = self.get_caller_identity(getattr(_ASSUMING, "access_key", None), region_name)[1]
        raise AssumeRoleAccessDenied(f"User: {caller} is not authorized to perform: "
                                     f"sts:AssumeRole on resource: {role_arn}")
    return _moto_assume_role(self, region_name=region_name, role_session_name=role_session_name,
                             role_arn=role_arn, policy=policy, duration=duration,
                             external_id=external_id)


def _assume_role_response(self: TokenResponse) -> ActionResult:
    _ASSUMING.access_key = self.get_access_key()
    try:
        return _moto_assume_role_response(self)
    finally:
        _ASSUMING.access_key = None


STSBackend.assume_role = strict_assume_role  # type: ignore[method-assign]
# moto's AssumeRoleWithWebIdentity goes through assume_role; it stays moto's.
STSBackend.assume_role_with_web_identity = (  # type: ignore[method-assign]
    lambda self, **kwargs: _moto_assume_role(self, **kwargs))
TokenResponse.assume_role = _assume_role_response  # type: ignore[method-assign]
# --- end of STRICTNESS/MOTO GAP 10 ------------------------------------------------


_DomainDispatcherApplication = moto.server.DomainDispatcherApplication
moto.server.DomainDispatcherApplication = (  # moto's main builds its app with this name
    lambda create_app: FaultInjector(_DomainDispatcherApplication(create_app)))

if __name__ == "__main__":
    moto.server.main()
