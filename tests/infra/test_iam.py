#!/usr/bin/env python3
"""Each IAM role of infra/template.yaml grants the AWS calls its code makes, and nothing else.

    .venv/bin/python tests/infra/test_iam.py

Run by scripts/test (no emulator needed). Prints, per role, each action granted and
why (the port method and adapter that call it, or what Lambda itself does with the
role), each failure, and exits 1 if a check failed.

The calls come from the Rust source (rust_calls.py): every SDK call in crates/aws/src
(`.client.<operation>()`, snake_case to the IAM action, compared case-insensitively:
list_hosted_zones_by_vpc is route53:ListHostedZonesByVPC), attributed to the port
methods that make it (`impl Registry for DynamoRegistry { fn save ... }`);
TransactWriteItems, no IAM action, needs those of its items (PutItem, DeleteItem).
Which port methods each role's code reaches is followed from crates/lambda: the
registrar's from the registrar's methods the handler calls (`registrar.handle(...)`,
`registrar.reconcile_until(...)`, ...), the DDNS endpoint's from the endpoint function
it calls (`ddns::endpoint::serve_counted`), through crates/core/src by name.

The statements under a condition (`!If [HasEcsTasks, STATEMENT, !Ref AWS::NoValue]`)
count as granted above, the code may make those calls in some stack. Then, per
parameter that adds statements (CONDITIONAL: EcsTasks, LifecycleHooks), the role is
resolved as CloudFormation would with that parameter false and true (the template's
Conditions evaluated, `!If` chosen, AWS::NoValue dropped): what true adds is exactly
the actions of the port its code needs (the Tasks port's ECS and EC2 calls; the
LifecycleHooks port's CompleteLifecycleAction), and false grants none of them.

The organization mode (MemberAccounts): the registrar's role also grants the calls
crates/aws/src/members.rs makes with the central account's own role (`sts.assume_role()`,
`organizations.list_accounts()`; sts:GetCallerIdentity needs no permission), under
conditions: MemberAccounts set adds exactly the sts calls, MemberAccounts=organization the
organizations calls too, and empty none of them. And the
member accounts' template, infra/member.yaml: its reader role grants exactly the calls the
registrar's Instances and Tasks ports make (those the function makes in a member account,
through that role; their sts and organizations calls are the central account's), EcsTasks
adding exactly the Tasks port's own, and its forwarding role only events:PutEvents.

Also checked: each function runs with one of these roles (both endpoint functions, the
public URL's and DdnsIamEndpoint's AWS_IAM URL's, with DdnsEndpointRole);
ChangeResourceRecordSets carries Route 53's condition keys, with the
record types the code writes (the RecordType variants of crates/core/src/model.rs for
the registrar; those crates/core/src/ddns uses for the endpoint) and the actions
CREATE and DELETE only, and no code outside tests builds an UPSERT.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any

from samtranslator.yaml_helper import yaml_parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rust_calls  # noqa: E402
import sam  # noqa: E402

counts = {"passed": 0, "failed": 0}
LAMBDA_SRC = os.path.join(rust_calls.ROOT, "crates", "lambda", "src")

# What Lambda itself does with a function's role: not calls of the code.
LOGS = {"logs:CreateLogStream": "Lambda writes the function's logs",
        "logs:PutLogEvents": "Lambda writes the function's logs"}
REGISTRAR_SERVICE = {
    **LOGS,
    "sqs:SendMessage": "Lambda sends failed asynchronous events to the DeadLetterQueue",
    "sqs:ReceiveMessage": "the event source mapping polls EventQueue (buffered mode)",
    "sqs:DeleteMessage": "the event source mapping polls EventQueue (buffered mode)",
    "sqs:GetQueueAttributes": "the event source mapping polls EventQueue (buffered mode)",
    "sqs:ChangeMessageVisibility": "the event source mapping polls EventQueue (buffered mode)",
}
ENDPOINT_SERVICE = dict(LOGS)

# The organization mode: the member accounts' template, and the file of the calls the
# registrar makes with its own role to reach them.
MEMBER_TEMPLATE = os.path.join(rust_calls.ROOT, "infra", "member.yaml")
MEMBERS_RS = os.path.join(rust_calls.AWS_SRC, "members.rs")
# Services whose calls the organization mode makes in the central account (the role to
# assume, the organization's accounts), never through a member's reader role.
CENTRAL_SERVICES = ("sts:", "organizations:")
# Answered for any caller, whatever its policies say: granted by no statement.
NO_PERMISSION = {"sts:getcalleridentity": "sts:GetCallerIdentity (needs no permission)"}
# What EventBridge does with infra/member.yaml's forwarding role: not calls of the code.
FORWARD_SERVICE = {"events:PutEvents": "EventBridge puts the forwarded events on the central bus"}


def check(what: str, got: Any, want: Any) -> bool:
    ok = got == want
    counts["passed" if ok else "failed"] += 1
    if not ok:
        print(f"FAIL: {what}: got {got!r}, want {want!r}", file=sys.stderr)
    return ok


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def role_statements(template: dict[str, Any], role: str) -> list[dict[str, Any]]:
    """The Allow statements of a role: its inline Policies and the AWS::IAM::RolePolicy and
    AWS::IAM::Policy resources attached to it."""
    resources = template["Resources"]
    docs = [p["PolicyDocument"] for p in resources[role]["Properties"].get("Policies", [])]
    for resource in resources.values():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::RolePolicy" and props.get("RoleName") == {"Ref": role}:
            docs.append(props["PolicyDocument"])
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy") and {"Ref": role} in props.get("Roles", []):
            docs.append(props["PolicyDocument"])
    statements = [s for d in docs for s in as_list(d["Statement"])]
    # A statement under a condition (`!If [HasLifecycleHooks, STATEMENT, !Ref AWS::NoValue]`)
    # is granted in the stacks that have it: the code may make the call in any stack.
    statements = [s["Fn::If"][1] if "Fn::If" in s else s for s in statements]
    for s in statements:
        check(f"{role}: {s.get('Sid')}: Allow only", s.get("Effect"), "Allow")
    return statements


# The parameters whose value adds statements to FunctionRole, and the port whose calls they
# are: with the parameter false the role grants none of the port's actions, with it true all.
CONDITIONAL = {"EcsTasks": "Tasks", "LifecycleHooks": "LifecycleHooks"}
NO_VALUE = {"Ref": "AWS::NoValue"}


def conditions(template: dict[str, Any], params: dict[str, str]) -> dict[str, bool]:
    """The template's Conditions for these parameter values (the rest at their defaults)."""
    values = {name: params.get(name, str(p.get("Default", "")))
              for name, p in template["Parameters"].items()}
    types = {name: p["Type"] for name, p in template["Parameters"].items()}
    # The pseudo parameters a condition may compare with (infra/member.yaml's region).
    values.update({"AWS::Region": sam.REGION, "AWS::Partition": "aws", "AWS::AccountId": "123456789012"})
    types.update({name: "String" for name in ("AWS::Region", "AWS::Partition", "AWS::AccountId")})
    done: dict[str, bool] = {}

    def value(node: Any) -> Any:
        if isinstance(node, str):
            return node
        if isinstance(node, list):
            return [value(n) for n in node]
        (fn, arg), = node.items()
        if fn == "Ref":
            v = values[arg]
            return v.split(",") if types[arg] == "CommaDelimitedList" else v
        if fn == "Fn::Join":
            return value(arg[0]).join(value(arg[1]))
        if fn == "Fn::Equals":
            return value(arg[0]) == value(arg[1])
        if fn == "Fn::Not":
            return not value(arg[0])
        if fn == "Fn::And":
            return all(value(a) for a in arg)
        if fn == "Fn::Or":
            return any(value(a) for a in arg)
        if fn == "Condition":
            return condition(arg)
        raise SystemExit(f"test_iam: cannot evaluate {fn} in the template's Conditions")

    def condition(name: str) -> bool:
        if name not in done:
            done[name] = bool(value(template["Conditions"][name]))
        return done[name]

    return {name: condition(name) for name in template["Conditions"]}


def resolved(node: Any, conds: dict[str, bool]) -> Any:
    """`node` as CloudFormation deploys it: each Fn::If chosen, AWS::NoValue dropped."""
    if isinstance(node, list):
        items = [resolved(n, conds) for n in node]
        return [n for n in items if n != NO_VALUE]
    if isinstance(node, dict):
        if set(node) == {"Fn::If"}:
            name, yes, no = node["Fn::If"]
            return resolved(yes if conds[name] else no, conds)
        items = {k: resolved(v, conds) for k, v in node.items()}
        return {k: v for k, v in items.items() if v != NO_VALUE}
    return node


def deployed_actions(template: dict[str, Any], role: str, params: dict[str, str]) -> set[str]:
    """The actions (lowercase) a role grants in a stack of these parameters: its inline
    Policies and the policies attached to it whose Condition holds."""
    conds = conditions(template, params)
    resources = {lid: r for lid, r in template["Resources"].items()
                 if conds.get(r.get("Condition", ""), True)}
    docs = [p["PolicyDocument"] for p in resolved(resources[role]["Properties"].get("Policies", []), conds)]
    for resource in resources.values():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::RolePolicy" and props.get("RoleName") == {"Ref": role}:
            docs.append(resolved(props["PolicyDocument"], conds))
    return {a.lower() for d in docs for s in as_list(d["Statement"]) for a in as_list(s["Action"])}


def conditional_grants(template: dict[str, Any], ports: dict[str, set[str]], reached: set[str],
                       report: list[str]) -> None:
    """Each CONDITIONAL parameter adds to FunctionRole exactly its port's actions, in both
    modes (direct, buffered)."""
    for param, trait in CONDITIONAL.items():
        shown = {op.lower(): op for q, ops in ports.items() if q.split("::")[0] == trait
                 and q.split("::")[1] in reached for op in ops}
        others = {op.lower() for q, ops in ports.items() if q.split("::")[0] != trait for op in ops}
        # Only what no other port needs: an action shared with an unconditional call stays.
        own = set(shown) - others
        check(f"FunctionRole: the {trait} port makes calls of its own", bool(own), True)
        for buffered in ("false", "true"):
            off = deployed_actions(template, "FunctionRole", {param: "false", "BufferedMode": buffered})
            on = deployed_actions(template, "FunctionRole", {param: "true", "BufferedMode": buffered})
            mode = "buffered" if buffered == "true" else "direct"
            check(f"FunctionRole ({mode}, {param}=false): none of the {trait} port's actions",
                  sorted(off & own), [])
            check(f"FunctionRole ({mode}, {param}=true): adds exactly the {trait} port's actions",
                  sorted(on - off), sorted(own))
        report.append(f"  FunctionRole: {param}=true adds {', '.join(sorted(shown[a] for a in own))} ({trait} port); "
                      f"{param}=false grants none of them (direct and buffered)")


def granted(statements: list[dict[str, Any]]) -> dict[str, str]:
    """Action (lowercase) -> action as written."""
    return {a.lower(): a for s in statements for a in as_list(s["Action"])}


def non_test_text(src_dir: str) -> str:
    """The Rust under `src_dir`, comments, strings and #[cfg(test)] modules blanked."""
    parts = []
    for base, _, files in os.walk(src_dir):
        for name in sorted(files):
            if not name.endswith(".rs") or name == "tests.rs" or name.endswith("_tests.rs"):
                continue
            with open(os.path.join(base, name), encoding="utf-8") as f:
                text = rust_calls.strip(f.read())
            for a, b in reversed(rust_calls.test_blocks(text)):
                text = text[:a] + " " * (b - a) + text[b:]
            parts.append(text)
    return "\n".join(parts)


def entries() -> tuple[list[str], list[str]]:
    """(the registrar's entries into crates/core, the endpoint's) as crates/lambda calls them."""
    text = non_test_text(LAMBDA_SRC)
    endpoint = sorted(set(re.findall(r"\bendpoint\s*::\s*(\w+)\s*\(", text)))
    registrar = sorted(set(re.findall(r"\bregistrar\s*\.\s*(\w+)\s*\(", text))
                       | set(re.findall(r"\bregistrar\s*::\s*([a-z_]\w*)\s*\(", text)))
    return registrar, endpoint


def required(reached: set[str], ports: dict[str, set[str]]) -> dict[str, list[str]]:
    """Action (lowercase) -> the port methods that call it."""
    need: dict[str, list[str]] = {}
    for qualified, ops in sorted(ports.items()):
        if qualified.split("::")[1] in reached:
            for op in ops:
                need.setdefault(op.lower(), []).append(qualified)
    return need


def compare(role: str, statements: list[dict[str, Any]], need: dict[str, list[str]],
            service: dict[str, str], report: list[str]) -> None:
    # A call no policy needs to allow is granted by none. (The reader follows `Type::new(...)`
    # to every `new` of crates/aws, members.rs's among them, which asks GetCallerIdentity:
    # other ports may seem to call it too.)
    need = {a: w for a, w in need.items() if a not in NO_PERMISSION}
    have = granted(statements)
    allowed = dict(need)
    for action, why in service.items():
        allowed.setdefault(action.lower(), [f"({why})"])
    missing = sorted(set(need) - set(have))
    extra = sorted(set(have) - set(allowed))
    check(f"{role}: every action the code calls is granted", missing, [])
    check(f"{role}: nothing is granted that neither the code nor Lambda uses",
          [have[a] for a in extra], [])
    report.append(f"== {role}: {len(have)} actions granted, {len(need)} called by the code")
    for action in sorted(set(have) | set(need)):
        shown = have.get(action, action)
        mark = "" if action in have else "  NOT GRANTED"
        report.append(f"  {shown:<38} {', '.join(allowed.get(action, ['NOT CALLED']))}{mark}")


def change_condition(statements: list[dict[str, Any]], role: str) -> dict[str, Any]:
    changes = [s for s in statements if "route53:changeresourcerecordsets" in
               {a.lower() for a in as_list(s["Action"])}]
    check(f"{role}: one statement grants ChangeResourceRecordSets", len(changes), 1)
    check(f"{role}: ChangeResourceRecordSets alone in its statement",
          [as_list(s["Action"]) for s in changes], [["route53:ChangeResourceRecordSets"]])
    return changes[0].get("Condition", {}) if changes else {}


def record_types_of(text: str) -> set[str]:
    """`RecordType::Aaaa` -> AAAA, by crates/core/src/model.rs's own names."""
    with open(os.path.join(rust_calls.CORE_SRC, "model.rs"), encoding="utf-8") as f:
        names = dict(re.findall(r'RecordType::(\w+)\s*=>\s*"([A-Z]+)"', f.read()))
    return {names[v] for v in re.findall(r"RecordType::(\w+)", text) if v in names}


def member_calls(adapters: dict[str, set[str]]) -> dict[str, list[str]]:
    """The calls crates/aws/src/members.rs makes with the registrar's own role (its sts and
    organizations calls): action (lowercase) -> the functions that make them."""
    found: dict[str, list[str]] = {}
    prefix = os.path.relpath(MEMBERS_RS, rust_calls.ROOT) + ":"
    for name, ops in sorted(adapters.items()):
        if name.startswith(prefix):
            for op in ops:
                if op.lower().startswith(CENTRAL_SERVICES):
                    found.setdefault(op.lower(), []).append(name)
    return found


def member_grants(template: dict[str, Any], members: dict[str, list[str]], shown: dict[str, str],
                  report: list[str]) -> None:
    """MemberAccounts adds to FunctionRole exactly the organization mode's sts calls (a list of
    accounts) and its organizations calls too (organization); empty, none of them. In both
    modes (direct, buffered)."""
    needing = set(members) - set(NO_PERMISSION)
    sts = {a for a in needing if a.startswith("sts:")}
    org = {a for a in needing if a.startswith("organizations:")}
    check("the organization mode assumes the member role (sts:AssumeRole)", "sts:assumerole" in sts, True)
    check("the organization mode lists the organization's accounts (organizations:ListAccounts)",
          "organizations:listaccounts" in org, True)
    for buffered in ("false", "true"):
        mode = "buffered" if buffered == "true" else "direct"
        off = deployed_actions(template, "FunctionRole", {"BufferedMode": buffered})
        listed = deployed_actions(template, "FunctionRole", {"BufferedMode": buffered,
                                                             "MemberAccounts": "111111111111,222222222222"})
        every = deployed_actions(template, "FunctionRole", {"BufferedMode": buffered, "MemberAccounts": "organization",
                                                            "OrganizationId": "o-abc123defg"})
        check(f"FunctionRole ({mode}, MemberAccounts empty): none of the organization mode's actions",
              sorted(off & needing), [])
        check(f"FunctionRole ({mode}, MemberAccounts listed): adds exactly its sts actions", sorted(listed - off), sorted(sts))
        check(f"FunctionRole ({mode}, MemberAccounts=organization): adds its sts and organizations actions",
              sorted(every - off), sorted(sts | org))
    report.append(f"  FunctionRole: MemberAccounts (listed) adds {', '.join(sorted(shown[a] for a in sts))}; "
                  f"=organization also {', '.join(sorted(shown[a] for a in org))}; empty grants none of them "
                  "(direct and buffered)")
    assume = [s for s in role_statements(template, "FunctionRole")
              if "sts:assumerole" in {a.lower() for a in as_list(s["Action"])}]
    check("FunctionRole: sts:AssumeRole only on roles named MemberRole",
          [(s["Action"], s["Resource"]) for s in assume],
          [("sts:AssumeRole", {"Fn::Sub": "arn:${AWS::Partition}:iam::*:role/${MemberRole}"})])


def member_template(ports: dict[str, set[str]], reached: set[str], shown: dict[str, str],
                    report: list[str]) -> None:
    """infra/member.yaml's roles: the reader role grants exactly what the registrar's Instances
    and Tasks ports call (their calls in a member account, made through it), EcsTasks adding
    exactly the Tasks port's own; the forwarding role only what EventBridge does with it."""
    with open(MEMBER_TEMPLATE, encoding="utf-8") as f:
        template = yaml_parse(f.read())
    roles = sorted(lid for lid, r in template["Resources"].items() if r["Type"] == "AWS::IAM::Role")
    check("infra/member.yaml's roles, each checked here", roles, ["ForwardRole", "ReaderRole"])
    reading = {q: {op for op in ops if not op.lower().startswith(CENTRAL_SERVICES)}
               for q, ops in ports.items() if q.split("::")[0] in ("Instances", "Tasks")}
    need = {a: w for a, w in required(reached, reading).items() if a not in NO_PERMISSION}
    check("the Instances and Tasks ports make calls in a member account", bool(need), True)
    compare("ReaderRole (infra/member.yaml)", role_statements(template, "ReaderRole"), need, {}, report)
    compare("ForwardRole (infra/member.yaml)", role_statements(template, "ForwardRole"), {}, FORWARD_SERVICE, report)

    tasks = {op.lower() for q, ops in reading.items() if q.startswith("Tasks::") and q.split("::")[1] in reached
             for op in ops}
    instances = {op.lower() for q, ops in reading.items() if q.startswith("Instances::")
                 and q.split("::")[1] in reached for op in ops}
    own = tasks - instances
    off = deployed_actions(template, "ReaderRole", {"EcsTasks": "false"})
    on = deployed_actions(template, "ReaderRole", {"EcsTasks": "true"})
    check("ReaderRole (EcsTasks=false): exactly the Instances port's calls", sorted(off), sorted(instances))
    check("ReaderRole (EcsTasks=true): adds exactly the Tasks port's own calls", sorted(on - off), sorted(own))
    report.append(f"  ReaderRole: EcsTasks=true adds {', '.join(sorted(shown[a] for a in own))} (Tasks port); "
                  f"the Instances port's {', '.join(sorted(shown[a] for a in instances))} always")
    trust = template["Resources"]["ReaderRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    check("ReaderRole: assumed by the central function's role only, with the external id", trust, [{
        "Effect": "Allow",
        "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${CentralAccountId}:role/${CentralRoleName}"}},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": {"Ref": "ExternalId"}}}}])


def main() -> int:
    template = sam.load()
    report: list[str] = []

    ports, adapters, _ = rust_calls.adapter_calls()
    # The organization mode's own calls (the central account's sts and organizations) may be
    # made outside the ports (setting up a member's clients): checked on their own below.
    called_by_adapters = {op.lower() for ops in adapters.values() for op in ops
                          if not op.lower().startswith(CENTRAL_SERVICES)}
    called_by_ports = {op.lower() for ops in ports.values() for op in ops}
    check("every SDK call in crates/aws is made by a port method (but the organization mode's sts "
          "and organizations calls)", sorted(called_by_adapters - called_by_ports), [])
    members = member_calls(adapters)
    check("crates/aws/src/members.rs makes sts and organizations calls this reader finds "
          "(receivers named sts, organizations)", bool(members), True)

    registrar_entries, endpoint_entries = entries()
    check("crates/lambda calls the DDNS endpoint", endpoint_entries, ["serve_counted"])
    check("crates/lambda calls the registrar", bool(registrar_entries), True)
    registrar_ports, _ = rust_calls.reachable_port_methods(registrar_entries)
    endpoint_ports, through = rust_calls.reachable_port_methods(endpoint_entries)
    # The endpoint's functions take no Instances port (`E: Sync`): the compiler keeps EC2 out.
    instances = {q.split("::")[1] for q in ports if q.startswith("Instances::")}
    check("the endpoint reaches no EC2 call", sorted(endpoint_ports & instances), [])

    # The registrar's role: FunctionRole (and EventQueuePolling, attached to it).
    registrar_statements = role_statements(template, "FunctionRole")
    registrar_need = required(registrar_ports, ports)
    for action, where in members.items():
        registrar_need.setdefault(action, []).extend(w for w in where if w not in registrar_need[action])
    compare("FunctionRole (registrar)", registrar_statements, registrar_need,
            REGISTRAR_SERVICE, report)
    endpoint_statements = role_statements(template, "DdnsEndpointRole")
    compare("DdnsEndpointRole (DDNS endpoint)", endpoint_statements, required(endpoint_ports, ports),
            ENDPOINT_SERVICE, report)
    # Each function runs with one of the two roles checked here: the registrar's, or the
    # endpoint's for both endpoint functions (the public URL's and, DdnsIamEndpoint, the
    # AWS_IAM URL's twin, the same code).
    roles = {name: r["Properties"].get("Role") for name, r in template["Resources"].items()
             if r["Type"] in ("AWS::Serverless::Function", "AWS::Lambda::Function")}
    check("each function's role", roles, {
        "Function": {"Fn::GetAtt": ["FunctionRole", "Arn"]},
        "DdnsEndpointFunction": {"Fn::GetAtt": ["DdnsEndpointRole", "Arn"]},
        "DdnsIamEndpointFunction": {"Fn::GetAtt": ["DdnsEndpointRole", "Arn"]}})
    conditional_grants(template, ports, registrar_ports, report)
    shown = {op.lower(): op for ops in [*ports.values(), *adapters.values()] for op in ops}
    member_grants(template, members, shown, report)
    member_template(ports, registrar_ports, shown, report)
    report.append(f"  (the endpoint's code, followed from {', '.join(endpoint_entries)}: "
                  f"{len(through)} functions of crates/core; port methods {', '.join(sorted(endpoint_ports))})")
    report.append(f"  (the registrar's, from registrar.{', registrar.'.join(registrar_entries)}: "
                  f"port methods {', '.join(sorted(registrar_ports))})")

    # Lambda's own uses are backed by the template: the DLQ, and the queue polling.
    function = template["Resources"]["Function"]["Properties"]
    check("Function sends failed events to DeadLetterQueue (sqs:SendMessage)",
          function.get("DeadLetterQueue", {}).get("TargetArn"), {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]})
    check("the queue polling is granted where the event source mapping exists",
          (template["Resources"]["EventQueuePolling"].get("Condition"),
           template["Resources"]["EventSourceMapping"].get("Condition")), ("IsBuffered", "IsBuffered"))

    # Route 53's condition keys on ChangeResourceRecordSets.
    core_text = non_test_text(rust_calls.CORE_SRC)
    aws_text = non_test_text(rust_calls.AWS_SRC)
    with open(os.path.join(rust_calls.CORE_SRC, "model.rs"), encoding="utf-8") as f:
        all_types = set(re.findall(r'RecordType::\w+\s*=>\s*"([A-Z]+)"', f.read()))
    ddns_text = "\n".join(non_test_text(os.path.join(rust_calls.CORE_SRC, "ddns")).splitlines())
    for role, statements, types in (("FunctionRole", registrar_statements, all_types),
                                    ("DdnsEndpointRole", endpoint_statements, record_types_of(ddns_text))):
        condition = change_condition(statements, role)
        equals = condition.get("ForAllValues:StringEquals", {})
        check(f"{role}: record types (route53:ChangeResourceRecordSetsRecordTypes)",
              sorted(equals.get("route53:ChangeResourceRecordSetsRecordTypes", [])), sorted(types))
        check(f"{role}: actions (route53:ChangeResourceRecordSetsActions)",
              sorted(equals.get("route53:ChangeResourceRecordSetsActions", [])), ["CREATE", "DELETE"])
        report.append(f"  {role}: ChangeResourceRecordSets only for {', '.join(sorted(types))}; CREATE and DELETE")
    names = change_condition(endpoint_statements, "DdnsEndpointRole").get("ForAllValues:StringLike", {})
    check("DdnsEndpointRole: record names (route53:ChangeResourceRecordSetsNormalizedRecordNames)",
          names.get("route53:ChangeResourceRecordSetsNormalizedRecordNames", {}).get("Fn::If", [None])[0],
          "HasDdnsZoneNames")

    # No UPSERT: crates/core's ChangeAction::Upsert appears outside tests only in match arms
    # (`ChangeAction::Upsert =>`, `| ChangeAction::Upsert`), never built.
    built = []
    for name, text in (("crates/core", core_text), ("crates/aws", aws_text),
                       ("crates/lambda", non_test_text(LAMBDA_SRC))):
        for m in re.finditer(r"(?<!r53::)\bChangeAction\s*::\s*Upsert\b", text):
            after = text[m.end():m.end() + 20].lstrip()
            before = text[max(0, m.start() - 20):m.start()].rstrip()
            if not (after.startswith("=>") or after.startswith("|") or before.endswith("|")):
                line = text.count("\n", 0, m.start()) + 1
                built.append(f"{name} (line {line} of its files joined)")
    check("no code outside tests builds a ChangeAction::Upsert", built, [])

    print("\n".join(report))
    print(f"test_iam: {counts['passed']} checks passed, {counts['failed']} failed")
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
