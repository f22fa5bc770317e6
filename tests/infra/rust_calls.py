"""The AWS calls the Lambda code makes, read from its Rust source.

Used by test_iam.py; not a test itself. A small reader, not a compiler: it
strips comments and string literals, finds each `fn` and its body by its
braces, and follows calls by name.

- `adapter_calls()`: for each function in crates/aws/src, the AWS operations it
  calls, directly (`.client.<operation>()`, the SDK's fluent builders, named
  by the file's service) or through the crate's own functions it calls
  (`self.zone_records(...)`); and for each port method the adapters implement
  (`impl Dns for Route53 { async fn apply ... }`), the same.
- `reachable_port_methods(entry)`: the port methods (`registry.load(...)`,
  `dns.apply(...)`, ...) that crates/core's code can reach from a function,
  following calls by name through crates/core/src. A name several functions
  share leads to all of them, so this errs towards more calls, never fewer.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
AWS_SRC = os.path.join(ROOT, "crates", "aws", "src")
CORE_SRC = os.path.join(ROOT, "crates", "core", "src")

# The SDK client each adapter file uses, by the service's IAM prefix.
SERVICE_OF_FILE = {"ec2.rs": "ec2", "route53.rs": "route53", "dynamodb": "dynamodb",
                   "autoscaling.rs": "autoscaling", "ecs.rs": "ecs"}
# Second SDK clients a file holds beside its own (`self.ec2.describe_network_interfaces()`
# in ecs.rs), by the field's (or variable's) name and its service's IAM prefix. members.rs
# (the organization mode) holds only such clients: `sts.assume_role()`,
# `organizations.list_accounts()`, made with the central account's own role.
OTHER_CLIENTS_OF_FILE = {"ecs.rs": {"ec2": "ec2"},
                         "members.rs": {"sts": "sts", "organizations": "organizations"}}
# The receivers crates/core calls the ports through (`self.registry.save(...)`).
PORT_RECEIVERS = ("registry", "dns", "ec2", "instances", "hooks", "tasks")
PORT_TRAITS = ("Instances", "Dns", "Registry", "Guards", "LifecycleHooks", "Tasks")
# Keywords and macros that look like calls.
NOT_CALLS = {"if", "while", "for", "match", "return", "loop", "fn", "let", "in", "as", "move",
             "async", "await", "Some", "Ok", "Err", "None", "Box", "Vec", "String", "format",
             "vec", "matches", "write", "writeln", "println", "eprintln", "assert", "assert_eq",
             "panic", "unreachable", "todo", "debug", "info", "warn", "error", "trace", "self",
             "Self", "crate", "super", "where", "impl", "dyn", "mut", "ref", "pub", "use"}


def strip(text: str) -> str:
    """`text` with comments, string and char literals blanked (same length, newlines kept),
    so that braces and parentheses in them do not count."""
    out = list(text)
    i, n = 0, len(text)

    def blank(a: int, b: int) -> None:
        for k in range(a, min(b, n)):
            if out[k] != "\n":
                out[k] = " "
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            blank(i, j)
            i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            blank(i, j)
            i = j
        elif m := re.match(r'(b?r)(#*)"', text[i:i + 40]):
            hashes = m.group(2)
            end = text.find('"' + hashes, i + len(m.group(0)))
            j = n if end < 0 else end + 1 + len(hashes)
            blank(i + 1, j - 1)
            i = j
        elif c == '"' or (c == "b" and text.startswith('b"', i)):
            j = i + (2 if c == "b" else 1)
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            blank(i + 1, j)
            i = j + 1
        elif c == "'" and (m := re.match(r"'(\\.[^']*|[^\\'])'", text[i:i + 12])):
            blank(i + 1, i + len(m.group(0)) - 1)
            i += len(m.group(0))
        else:
            i += 1
    return "".join(out)


def block_end(text: str, open_at: int) -> int:
    """The index just past the brace matching the `{` at `open_at`."""
    depth = 0
    for k in range(open_at, len(text)):
        if text[k] == "{":
            depth += 1
        elif text[k] == "}":
            depth -= 1
            if depth == 0:
                return k + 1
    return len(text)


@dataclass
class Fn:
    name: str
    path: str
    body: str
    impl: str | None = None          # the trait of `impl Trait for Type`, if any
    calls: set[str] = field(default_factory=set)


def test_blocks(text: str) -> list[tuple[int, int]]:
    """The spans of `#[cfg(test)] mod ... { }` blocks."""
    spans = []
    for m in re.finditer(r"#\[cfg\(test\)\]\s*(?:#\[[^\]]*\]\s*)*(?:pub(?:\([^)]*\))?\s+)?mod\s+\w+\s*\{", text):
        start = m.end() - 1
        spans.append((m.start(), block_end(text, start)))
    return spans


def functions(src_dir: str) -> list[Fn]:
    """Every function with a body in the .rs files under `src_dir`, test code left out."""
    found = []
    for base, _, files in os.walk(src_dir):
        for name in sorted(files):
            if not name.endswith(".rs") or name == "tests.rs" or name.endswith("_tests.rs"):
                continue
            path = os.path.join(base, name)
            with open(path, encoding="utf-8") as f:
                text = strip(f.read())
            skip = test_blocks(text)
            impls = [(m.group(1), m.end() - 1, block_end(text, m.end() - 1)) for m in re.finditer(
                r"\bimpl(?:<[^{]*?>)?\s+(\w+)(?:<[^{]*?>)?\s+for\s+[^{]+\{", text)]
            for m in re.finditer(r"\bfn\s+(\w+)", text):
                if any(a <= m.start() < b for a, b in skip):
                    continue
                # The body: the first `{` after the signature, unless a `;` ends it first.
                depth, k = 0, m.end()
                while k < len(text):
                    ch = text[k]
                    if ch in "([<":
                        depth += 1
                    elif ch in ")]>" and depth:
                        depth -= 1
                    elif ch == "-" and text.startswith("->", k):
                        k += 1  # not a closing angle bracket
                    elif ch == ";" and depth == 0:
                        break
                    elif ch == "{" and depth == 0:
                        break
                    k += 1
                if k >= len(text) or text[k] != "{":
                    continue
                trait = next((t for t, a, b in impls if a < m.start() < b), None)
                found.append(Fn(m.group(1), path, text[k:block_end(text, k)], trait))
    return found


def snake_to_pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def adapter_calls() -> tuple[dict[str, set[str]], dict[str, set[str]], list[Fn]]:
    """(port method → operations, adapter function → operations, the functions).
    Operations are `service:Operation`; TransactWriteItems stands for the actions its
    items need (see `transact_items`)."""
    fns = functions(AWS_SRC)
    direct: dict[int, set[str]] = {}
    for i, fn in enumerate(fns):
        rel = os.path.relpath(fn.path, AWS_SRC)
        service = next((s for f, s in SERVICE_OF_FILE.items() if rel == f or rel.startswith(f + os.sep)), None)
        ops = set()
        for m in re.finditer(r"\.client\s*\.\s*([a-z_]+)\s*\(", fn.body):
            if service is None:
                raise SystemExit(f"rust_calls: {rel} calls the SDK but names no service in SERVICE_OF_FILE")
            op = snake_to_pascal(m.group(1))
            if op == "TransactWriteItems":
                ops |= {f"dynamodb:{a}" for a in transact_items(fn.body)}
            else:
                ops.add(f"{service}:{op}")
        for field_name, other in OTHER_CLIENTS_OF_FILE.get(rel, {}).items():
            for m in re.finditer(r"(?<!\w)" + field_name + r"\s*\.\s*([a-z_]+)\s*\(", fn.body):
                ops.add(f"{other}:{snake_to_pascal(m.group(1))}")
        direct[i] = ops
        # The crate's own helpers: `self.helper(...)`, `Self::helper(...)` and free functions
        # (`helper(...)`, not `x.helper(...)`, which may be any type's method of that name).
        fn.calls = set(re.findall(r"\bself\s*\.\s*(\w+)\s*\(", fn.body)) | set(
            re.findall(r"(?<![.\w])\s*(?:Self::)?(\w+)\s*\(", fn.body))
    by_name: dict[str, list[int]] = {}
    for i, fn in enumerate(fns):
        by_name.setdefault(fn.name, []).append(i)
    total = {i: set(ops) for i, ops in direct.items()}
    changed = True
    while changed:
        changed = False
        for i, fn in enumerate(fns):
            for called in fn.calls:
                for j in by_name.get(called, []):
                    if j != i and not total[j] <= total[i]:
                        total[i] |= total[j]
                        changed = True
    ports: dict[str, set[str]] = {}
    for i, fn in enumerate(fns):
        if fn.impl in PORT_TRAITS:
            ports.setdefault(f"{fn.impl}::{fn.name}", set()).update(total[i])
    adapters = {f"{os.path.relpath(fns[i].path, ROOT)}:{fns[i].name}": total[i] for i in total if total[i]}
    return ports, adapters, fns


def transact_items(body: str) -> set[str]:
    """The IAM actions a TransactWriteItems call needs: one per kind of item it builds."""
    kinds = {"Put": "PutItem", "Delete": "DeleteItem", "Update": "UpdateItem",
             "ConditionCheck": "ConditionCheckItem"}
    found = {action for kind, action in kinds.items() if re.search(rf"\b{kind}::builder\s*\(", body)}
    if not found:
        raise SystemExit("rust_calls: a TransactWriteItems call builds no item this reader knows")
    return found


# Method names std's types share with functions of crates/core (an iterator's `all`, a
# map's `insert`, ...): `x.name(...)` with one of these is not followed, `Type::name(...)`
# and `self.name(...)` are.
STD_METHODS = {"all", "any", "iter", "map", "filter", "new", "from", "into", "push", "extend",
               "take", "next", "get", "insert", "remove", "contains", "clone", "len", "is_empty",
               "send", "read", "write", "lock", "count", "add", "merge", "find", "join", "parse",
               "default", "then", "open", "at", "of", "one", "empty", "from_str", "to_string",
               "as_str", "as_ref", "deserialize", "serialize", "fmt", "eq", "cmp", "hash", "drop",
               "chunks", "values", "keys", "entry", "state", "word", "line", "check", "json",
               "report", "finish", "response", "place", "note", "item", "host", "zone", "names",
               "labels", "made", "written", "applied", "pending", "listed", "listing", "fresh",
               "learn", "stored", "unchanged", "refused", "answered", "past", "settled", "explain",
               "detail", "standing", "verdict", "weight", "shown_by", "active", "blocked", "cause"}


rust_calls_strip = strip


def reachable_port_methods(entries: list[str]) -> tuple[set[str], list[str]]:
    """The port methods crates/core can reach from the functions named `entries`, and the
    core functions it went through (`file:function`, sorted). Calls are followed by name:
    `f(...)` and `self.f(...)` to the file's own `f` if it has one, else to every `f`;
    `module::f(...)` to the `f` of that module's file; `x.f(...)` to every `f`, unless `f`
    is a port method (reached through the port receivers only) or a common std method."""
    fns = functions(CORE_SRC)
    by_name: dict[str, list[Fn]] = {}
    for fn in fns:
        by_name.setdefault(fn.name, []).append(fn)
    port_methods = {fn.name for fn in fns + functions(AWS_SRC) if fn.impl in PORT_TRAITS}
    receivers = "|".join(PORT_RECEIVERS)

    def module_of(fn: Fn) -> set[str]:
        rel = os.path.relpath(fn.path, CORE_SRC)[:-3].split(os.sep)
        return {rel[-1] if rel[-1] != "mod" else rel[-2]} if rel else set()

    texts: dict[str, str] = {}

    def defines(path: str, type_name: str) -> bool:
        if path not in texts:
            with open(path, encoding="utf-8") as f:
                texts[path] = rust_calls_strip(f.read())
        return bool(re.search(rf"\b(?:struct|enum|trait)\s+{type_name}\b|\bimpl(?:<[^{{]*?>)?\s+{type_name}\b",
                              texts[path]))

    def targets(caller: Fn, name: str, how: str, module: str | None) -> list[Fn]:
        candidates = [f for f in by_name.get(name, []) if f is not caller or how != "method"]
        if how == "path" and module and module[0].isupper() and module != "Self":
            # `Type::f(...)`: the `f` of the files that define or implement the type.
            return [f for f in candidates if defines(f.path, module)] or candidates
        if how == "path" and module not in (None, "Self", "self", "crate", "super"):
            return [f for f in candidates if module in module_of(f)]
        if how in ("bare", "self", "path"):
            local = [f for f in candidates if f.path == caller.path]
            return local or candidates
        if name in STD_METHODS or name in port_methods:
            return []
        return candidates

    seen: set[int] = set()
    ports: set[str] = set()
    todo = [f for name in entries for f in by_name.get(name, [])]
    while todo:
        fn = todo.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        body = fn.body
        ports.update(re.findall(rf"\b(?:{receivers})\s*\.\s*(\w+)\s*\(", body))
        for m in re.finditer(r"(\bself\s*\.\s*|(\w+)\s*::\s*|\.\s*|(?<![.\w:]))(\w+)\s*(?:::<[^>]*>)?\s*\(", body):
            prefix, module, name = m.group(1), m.group(2), m.group(3)
            if name in NOT_CALLS:
                continue
            if prefix.startswith("self"):
                how = "self"
            elif module is not None:
                how = "path"
            elif prefix.startswith("."):
                how = "method"
            else:
                how = "bare"
            if how == "method" and re.search(rf"\b(?:{receivers})\s*\.\s*$", body[:m.start(3)]):
                continue  # a port call, counted above
            todo.extend(t for t in targets(fn, name, how, module) if id(t) not in seen)
    reached = sorted(f"{os.path.relpath(f.path, CORE_SRC)}:{f.name}" for f in fns if id(f) in seen)
    # `instances.iter()` is a variable of that name, not the port.
    return ports & port_methods, reached
