#!/usr/bin/env python3
"""Times the real `bootstrap` as Lambda runs it, against the strict moto.

A mock of Lambda's Runtime API (2018-06-01: `invocation/next`, `response`,
`error`, `init/error`) runs here on a loopback port, and the release
`bootstrap` is started as Lambda starts it (`AWS_LAMBDA_RUNTIME_API` and
the function's environment), its AWS calls going to moto through our strict
launcher. cargo-lambda is not used here: it starts the function itself, so
neither the process's start nor its memory can be measured through it.

Measured:
- cold start: from just before the process is started to its first poll of
  `invocation/next`;
- per invocation: wall time from handing over the event to the function's
  answer, and its AWS calls (the function's own count, its `invocation
  done` log line, with calls per operation);
- `running` and `terminated`, cold (a new process's first invocation) and
  warm (a warm process whose cache is still empty is labelled so); then N
  warm invocations (alternating, so each one changes records)
  and the process's peak resident set (VmHWM).

Usage:
    scripts/bench_runtime.py --bootstrap target/release/bootstrap \\
        --moto http://127.0.0.1:PORT --world fixtures/worlds/bench.json \\
        --invocations 100 --json OUT.json

Exit status 1 when the function dies or an invocation gets no answer (its
last output is printed); answers with outcome `error` are printed and
counted, not fatal.
"""

from __future__ import annotations

import argparse
import datetime
import http.server
import json
import os
import queue
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PREFIX = "/2018-06-01/runtime"


class RuntimeApi:
    """The Runtime API's four routes, one invocation at a time."""

    def __init__(self) -> None:
        self.pending: queue.Queue = queue.Queue()
        self.answers: queue.Queue = queue.Queue()
        self.first_poll: float | None = None
        self.handed_over: dict[str, float] = {}
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args) -> None:  # quiet
                pass

            def reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                if self.path != f"{PREFIX}/invocation/next":
                    self.reply(404, b'{"error":"not found"}')
                    return
                if api.first_poll is None:
                    api.first_poll = time.perf_counter()
                event = api.pending.get()
                if event is None:  # shutting down: never answered
                    return
                request_id = str(uuid.uuid4())
                deadline = int(time.time() * 1000) + 60_000
                api.handed_over[request_id] = time.perf_counter()
                self.reply(200, json.dumps(event).encode(), {
                    "Lambda-Runtime-Aws-Request-Id": request_id,
                    "Lambda-Runtime-Deadline-Ms": str(deadline),
                    "Lambda-Runtime-Invoked-Function-Arn":
                        "arn:aws:lambda:us-east-1:123456789012:function:ec2-ddns",
                    "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000;Sampled=0",
                })

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = self.path.split("/")
                if self.path == f"{PREFIX}/init/error":
                    api.answers.put(("init-error", None, body, time.perf_counter()))
                elif len(parts) == 6 and parts[4] and parts[5] in ("response", "error"):
                    api.answers.put((parts[5], parts[4], body, time.perf_counter()))
                else:
                    self.reply(404, b'{"error":"not found"}')
                    return
                self.reply(202, b'{"status":"OK"}')

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address) -> None:
                # The function's connection dropped as it was stopped: expected.
                if not isinstance(sys.exc_info()[1], (ConnectionError, BrokenPipeError)):
                    super().handle_error(request, client_address)

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.pending.put(None)
        self.server.shutdown()
        self.server.server_close()


class Function:
    """One `bootstrap` process behind its own Runtime API."""

    def __init__(self, bootstrap: str, moto: str, region: str) -> None:
        self.api = RuntimeApi()
        self.process: subprocess.Popen | None = None
        self.lines: list[str] = []
        self.cold_start_ms = 0.0
        self.bootstrap = bootstrap
        env = {k: v for k, v in os.environ.items() if k not in ("AWS_PROFILE", "AWS_SESSION_TOKEN")}
        env.update({
            "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{self.api.port}",
            "AWS_ENDPOINT_URL": moto,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_LAMBDA_FUNCTION_NAME": "ec2-ddns",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/ec2-ddns",
            "AWS_LAMBDA_LOG_FORMAT": "JSON",
            "AWS_LAMBDA_LOG_LEVEL": "INFO",
        })
        self.env = env

    def start(self) -> None:
        """Starts the process and waits for its first poll (the cold start).

        Separate from __init__ so the caller holds the object, and stops it,
        even when the start fails."""
        started = time.perf_counter()
        try:
            self.process = subprocess.Popen([self.bootstrap], env=self.env, stdout=subprocess.PIPE,
                                            stderr=subprocess.STDOUT, text=True, errors="replace")
        except OSError as e:
            raise RuntimeError(f"cannot start {self.bootstrap}: {e}") from None
        threading.Thread(target=self._read, daemon=True).start()
        while self.api.first_poll is None:
            if self.process.poll() is not None:
                raise RuntimeError(f"bootstrap exited with {self.process.returncode} before polling")
            if time.perf_counter() - started > 30:
                raise RuntimeError("bootstrap did not poll the Runtime API within 30 s")
            time.sleep(0.0005)
        self.cold_start_ms = (self.api.first_poll - started) * 1000

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def invoke(self, event: dict) -> dict:
        assert self.process is not None
        mark = len(self.lines)
        self.api.pending.put(event)
        asked = time.perf_counter()
        while True:
            try:
                kind, request_id, body, at = self.api.answers.get(timeout=0.5)
                break
            except queue.Empty:
                if self.process.poll() is not None:
                    raise RuntimeError(f"bootstrap exited with {self.process.returncode} "
                                       f"during an invocation ({event['detail']['state']})") from None
                if time.perf_counter() - asked > 60:
                    raise RuntimeError(f"no answer within 60 s ({event['detail']['state']})") from None
        if kind == "init-error":
            raise RuntimeError(f"the function failed to start: {body.decode(errors='replace')}")
        wall_ms = (at - self.api.handed_over.pop(request_id)) * 1000
        calls, by_operation = None, None
        waited = time.perf_counter()
        while calls is None and time.perf_counter() - waited < 2:
            for line in self.lines[mark:]:
                try:
                    record = json.loads(line)
                    fields = record.get("fields", {})
                    span_id = (record.get("span") or {}).get("requestId")
                except (ValueError, AttributeError):
                    continue
                # The line names its invocation (span.requestId) when the
                # runtime's span is there: a late line of the previous one
                # is never taken for this one.
                if fields.get("message") == "invocation done" and span_id in (None, request_id):
                    calls = int(fields.get("aws_calls", 0))
                    by_operation = json.loads(fields.get("by_operation") or "{}")
                    break
            else:
                time.sleep(0.005)
        try:
            answer = json.loads(body or b"{}")
        except ValueError:
            answer = {"raw": body.decode(errors="replace")}
        return {"kind": kind, "wall_ms": wall_ms, "calls": calls, "by_operation": by_operation,
                "answer": answer}

    def memory_kib(self) -> tuple[int, int]:
        peak = rss = 0
        with open(f"/proc/{self.process.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    peak = int(line.split()[1])
                elif line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
        return peak, rss

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.api.close()


class Events:
    """EC2 state-change events for one instance, times strictly increasing."""

    def __init__(self, instance_id: str, region: str) -> None:
        self.instance_id, self.region = instance_id, region
        self.time = datetime.datetime(2026, 11, 21, 10, 0, 0, tzinfo=datetime.timezone.utc)

    def __call__(self, state: str) -> dict:
        self.time += datetime.timedelta(seconds=1)
        return {
            "version": "0", "id": str(uuid.uuid4()),
            "detail-type": "EC2 Instance State-change Notification", "source": "aws.ec2",
            "account": "123456789012", "time": self.time.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.region,
            "resources": [f"arn:aws:ec2:{self.region}:123456789012:instance/{self.instance_id}"],
            "detail": {"instance-id": self.instance_id, "state": state},
        }


def seed(moto: str, world: str) -> dict:
    try:
        out = subprocess.run([sys.executable, os.path.join(ROOT, "tests/emulator/seed.py"), "--reset",
                              "--endpoint-url", moto, world], cwd=ROOT, capture_output=True, text=True)
    except OSError as e:
        raise RuntimeError(f"cannot run seed.py: {e}") from None
    if out.returncode != 0:
        raise RuntimeError(f"seed.py failed (is the strict moto up at {moto}?): {out.stderr.strip()}")
    try:
        return json.loads(out.stdout)
    except ValueError:
        raise RuntimeError(f"seed.py printed no JSON mapping: {out.stdout.strip()[:200]!r}") from None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--moto", required=True, help="the strict moto's endpoint, on loopback")
    ap.add_argument("--world", default=os.path.join(ROOT, "fixtures/worlds/bench.json"))
    ap.add_argument("--instance", default="i-0bench", help="the world's instance to drive")
    ap.add_argument("--invocations", type=int, default=100)
    ap.add_argument("--json", help="write the figures here too")
    args = ap.parse_args()
    host = args.moto.split("//", 1)[-1].split(":")[0]
    if host not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("bench_runtime: --moto must be a loopback emulator; this never talks to AWS")

    if not (os.path.isfile(args.bootstrap) and os.access(args.bootstrap, os.X_OK)):
        sys.exit(f"bench_runtime: --bootstrap {args.bootstrap}: not an executable file")
    try:
        mapping = seed(args.moto, args.world)
        region = mapping.get("region", "us-east-1")
        instance_id = mapping["instances"][args.instance]
    except RuntimeError as e:
        sys.exit(f"bench_runtime: {e}")
    except (KeyError, TypeError):
        sys.exit(f"bench_runtime: the world {args.world} has no instance {args.instance!r}")
    event = Events(instance_id, region)
    table, cold_starts, errors = [], [], 0
    warm_runs: dict = {}

    def record(process: int, temperature: str, state: str, result: dict) -> None:
        nonlocal errors
        outcome = result["answer"].get("outcome")
        if result["kind"] == "error" or outcome == "error":
            errors += 1
            print(f"error answer ({state}, {temperature}): {json.dumps(result['answer'])}")
        table.append({"event": state, "process": process, "temperature": temperature,
                      "calls": result["calls"], "by_operation": result["by_operation"],
                      "wall_ms": round(result["wall_ms"], 2), "outcome": outcome})

    function = None
    try:
        for process, states in ((1, ["running", "terminated", "running"]),
                                (2, ["terminated", "running", "terminated"])):
            function = Function(args.bootstrap, args.moto, region)
            function.start()
            cold_starts.append(round(function.cold_start_ms, 2))
            described = False
            for i, state in enumerate(states):
                # A warm process whose cache is still empty (its first
                # `running`: zones and VPC not read yet) is told apart.
                temperature = "cold" if i == 0 else "warm" if described or state != "running" \
                    else "warm, cache empty"
                described = described or state == "running"
                record(process, temperature, state, function.invoke(event(state)))
            function.stop()
            function = None

        function = Function(args.bootstrap, args.moto, region)
        function.start()
        cold_starts.append(round(function.cold_start_ms, 2))
        function.invoke(event("running"))
        walls, calls = [], []
        for i in range(args.invocations):
            state = "terminated" if i % 2 == 0 else "running"
            result = function.invoke(event(state))
            if result["kind"] == "error" or result["answer"].get("outcome") == "error":
                errors += 1
                print(f"error answer (warm {state}): {json.dumps(result['answer'])}")
            walls.append(result["wall_ms"])
            if result["calls"] is not None:
                calls.append(result["calls"])
        peak, rss = function.memory_kib()
        warm_runs = {"invocations": args.invocations,
                     "mean_wall_ms": round(statistics.mean(walls), 2) if walls else 0,
                     "median_wall_ms": round(statistics.median(walls), 2) if walls else 0,
                     "mean_calls": round(statistics.mean(calls), 2) if calls else None,
                     "peak_rss_kib": peak, "rss_kib": rss}
    except RuntimeError as e:
        print(f"bench_runtime: {e}", file=sys.stderr)
        if function is not None and function.lines:
            print(f"last {min(40, len(function.lines))} lines of the bootstrap's output:", file=sys.stderr)
            print("\n".join(function.lines[-40:]), file=sys.stderr)
        return 1
    finally:
        if function is not None:
            function.stop()

    print(f"{'event':<11} {'process':<18} {'calls':>5} {'wall ms':>8}  by operation")
    for row in table:
        calls = "-" if row["calls"] is None else str(row["calls"])
        print(f"{row['event']:<11} {row['temperature']:<18} {calls:>5} {row['wall_ms']:>8.1f}  "
              f"{json.dumps(row['by_operation'])}")
    print(f"cold start: {', '.join(f'{c:.1f} ms' for c in cold_starts)}")
    print(f"{warm_runs['invocations']} warm invocations: mean {warm_runs['mean_wall_ms']:.1f} ms, "
          f"median {warm_runs['median_wall_ms']:.1f} ms, mean calls {warm_runs['mean_calls']}, "
          f"peak RSS {warm_runs['peak_rss_kib'] / 1024:.1f} MiB")
    print(f"answers with outcome error: {errors}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"cold_start_ms": cold_starts, "table": table, "warm_runs": warm_runs,
                       "errors": errors}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
