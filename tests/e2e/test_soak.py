"""A soak: a bounded, seeded, mixed load against a fresh server for
`LAMBDABOX_SOAK_SECONDS` (default 60), then every resource that could leak
counted against the baseline.

The load (4 workers, each with its own seeded random stream) mixes
synchronous invokes of Python and Node.js functions, asynchronous invokes
(checked afterwards: each writes an S3 object through the boto3 inside its
environment), UpdateFunctionCode and UpdateFunctionConfiguration (each
followed by an invoke, so each is a cold start), CreateFunction/Invoke/
DeleteFunction of short-lived functions, PublishVersion with an alias moved
to the new version (and old versions deleted), a function that times out
and one that throws. AWS-shaped client errors that a real client meets under
load (TooManyRequestsException, ResourceConflictException while an update is
in progress) are tallied; any 5xx, connection error, unexpected error code
or wrong answer is a failure.

Counted before and after, attributed to this server where the machine is
shared (other servers may run on it at the same time, with their own cgroup
parents, bridges and namespaces):
- the server's descriptors (`/proc/PID/fd`) and threads;
- processes: the server's descendants (PPid chains through /proc), the
  processes in its cgroups, and every process on the machine;
- the sandbox cgroups under the server's parent (`lambdabox-<sha256(data
  dir)[:12]>`; v1: under each of memory, pids, cpu and freezer; v2: the one
  unified directory);
- mounts: lines of /proc/self/mountinfo and of /proc/PID/mountinfo;
- network namespaces (distinct `ns/net` inodes of the server, its
  descendants and its descriptors; and on the whole machine) and network
  interfaces (`ip -o link`: the server's bridge `lbxb<tag>` and veths
  `lbxv<tag>…`; and all of them);
- the server's VmRSS and the data dir's size (by entry, with the number of
  unpacked and of stored packages).
The server's own counts are asserted (`ASSERTED`, and the RSS bound); the
machine-wide ones and the data dir are reported only: other test runs on
the same machine move the former, and the data dir keeps logs and S3
objects by design.

The report (operations by kind, errors by code, every count at the start,
the baseline, the peak of the load and after) is printed (`-s`, or `-rA`)
and written to `soak-report.txt` in the test's tmp dir.

The server runs with its pools at fixed, explicit sizes (4 spare sandboxes,
2 Python and 2 Node.js zygotes: the defaults, spelled out), so the baseline
is "the pools full": each spare and zygote is a sandbox with a cgroup,
processes, a network namespace and a veth. Both snapshots are taken once the
pools are full again (polled, with a deadline). The baseline is taken after
a warm-up round of every operation (its functions deleted again), so that
what the server creates once, lazily, on first use (SQLite's WAL files, the
S3 bucket's directory, the runtime SDK mounts' first use) is in both
snapshots; what grows with the number of operations is the leak this test
looks for.

After the counts, the server is stopped (it must exit 0) and must leave no
sandbox cgroup, process in one, or interface of its own behind.

The server does not report its execution environments through any API, so
"no environments left" is read from the kernel: every environment is a
sandbox cgroup under the server's parent, and once every function is
deleted only the pools' sandboxes may remain.
"""

from __future__ import annotations

import collections
import hashlib
import json
import os
import random
import re
import subprocess
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from invoke_support import dir_size
from support import REGION, ROLE, Server, lambda_client, make_zip

SOAK_SECONDS = float(os.environ.get("LAMBDABOX_SOAK_SECONDS", "60"))
SEED = int(os.environ.get("LAMBDABOX_SOAK_SEED", "20240611"))
WORKERS = 4
SPARES = {"--spare-sandboxes": 4, "--python-zygotes": 2, "--nodejs-zygotes": 2}
POOLED_SANDBOXES = sum(SPARES.values())
SETTLE_TIMEOUT_S = 120.0
ASYNC_TIMEOUT_S = 180.0

# The server's resident memory may grow by RSS_GROWTH_BOUND_MIB, plus
# RSS_PER_TOKIO_THREAD_MIB for each tokio thread it holds above its baseline.
#
# At the baseline it holds its tables, SQLite's page caches and the
# allocator's pages; at the end every environment, connection and in-flight
# request of the load is gone again. What legitimately remains:
# - mimalloc (the server's global allocator) gives every thread its own
#   pages, one per size class in use (64 KiB for small sizes, ~70 classes),
#   and returns a page only once every block on it is free: each thread that
#   ran a mix of work pins a few MiB of partly used pages (measured here:
#   ~4 MiB per thread, RSS ~ 40 MiB + 4 MiB x threads across runs);
# - tokio's blocking pool grows to the burst's concurrency (unpacking code,
#   SQLite, sandbox set-up all run there) and does not shrink afterwards:
#   the async queue's dispatcher runs two blocking tasks a second even when
#   idle, which wake the idle threads in turn before their 10 s keep-alive
#   runs out, so up to ~20 stay (crates/lambdabox-invoker/src/workers.rs);
# - SQLite's caches (2 MB per connection by default) warmed by the soak's
#   rows, and the S3 and Logs indexes of the objects and streams it leaves.
# So the fixed part stays a few MiB to ~20 MiB whatever the duration, and the
# per-thread part is bounded by the pool's size. A leak per operation (a
# retained log tail of 4 KB, a task, a buffer) over the ~2,500 operations of
# the 60 s run, and the ~25,000 of a 600 s run, is what this catches. Threads
# other than tokio's must not grow at all (asserted with the counts).
RSS_GROWTH_BOUND_MIB = 64
RSS_PER_TOKIO_THREAD_MIB = 5

# Descriptors the server may hold above its baseline at rest. None is
# expected (every run so far: exact; the soak's clients and their keep-alive
# connections are closed before counting). The slack absorbs a one-off
# descriptor opened the first time a code path runs that the warm-up did not
# take; a leak per environment, connection or invocation (hundreds to
# thousands over the soak) is far beyond it.
FD_SLACK = 4

# AWS error codes a real client meets under this load and retries.
EXPECTED_CODES = {"TooManyRequestsException", "ResourceConflictException"}


# --------------------------------------------------------------------------
# Functions of the soak
# --------------------------------------------------------------------------

PY_ECHO = "import os\ndef handler(event, context):\n    return {'echo': event, 'pid': os.getpid()}\n"
NODE_ADD = "exports.handler = async (event) => ({ sum: event.a + event.b, node: process.versions.node });\n"
PY_THROW = "def handler(event, context):\n    raise ValueError('soak ' + str(event['n']))\n"
PY_SLEEP = "import time\ndef handler(event, context):\n    time.sleep(event['sleep'])\n    return 'woke'\n"
PY_ASYNC = (
    "import os\nimport boto3\n"
    "S3 = boto3.client('s3')\n"
    "def handler(event, context):\n"
    "    S3.put_object(Bucket=os.environ['BUCKET'], Key='async/' + event['id'], Body=context.aws_request_id.encode())\n"
    "    return 'stored'\n"
)


def py_churn(gen: int) -> bytes:
    return make_zip({"app.py": f"import os\nGEN = {gen}\ndef handler(event, context):\n"
                     "    return {'gen': GEN, 'env': os.environ.get('GEN'), 'version': context.function_version}\n"})


def node_churn(gen: int) -> bytes:
    return make_zip({"index.js": f"const GEN = {gen};\nexports.handler = async (event, context) => "
                     "({ gen: GEN, env: process.env.GEN || null, version: context.functionVersion });\n"})


PY = {"Runtime": "python3.12", "Handler": "app.handler"}
NODE = {"Runtime": "nodejs20.x", "Handler": "index.handler"}


# --------------------------------------------------------------------------
# Counting
# --------------------------------------------------------------------------


def _read(path: str | Path) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def _ppid(pid: int) -> int | None:
    m = re.search(r"^PPid:\s+(\d+)$", _read(f"/proc/{pid}/status"), re.M)
    return int(m.group(1)) if m else None


def _status_field(pid: int, name: str) -> int:
    m = re.search(rf"^{name}:\s+(\d+)", _read(f"/proc/{pid}/status"), re.M)
    assert m, f"no {name} in /proc/{pid}/status"
    return int(m.group(1))


def descendants(root: int) -> set[int]:
    children = collections.defaultdict(list)
    for pid in _pids():
        parent = _ppid(pid)
        if parent is not None:
            children[parent].append(pid)
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _netns(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/net")
    except OSError:
        return None


def _fd_links(pid: int) -> list[str]:
    links = []
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return links
    for fd in fds:
        try:
            links.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            pass
    return links


def cgroup_v2() -> bool:
    return Path("/sys/fs/cgroup/cgroup.controllers").exists()


def cgroup_parents(tag: str) -> list[Path]:
    """Where the server's sandbox cgroups live (crates/lambdabox-sandbox/src/cgroup)."""
    if cgroup_v2():
        return [Path("/sys/fs/cgroup") / f"lambdabox-{tag}"]
    return [Path("/sys/fs/cgroup") / c / f"lambdabox-{tag}" for c in ("memory", "pids", "cpu", "freezer")]


def sandbox_cgroups(tag: str) -> list[Path]:
    """Every cgroup directory below the server's parent(s), at any depth."""
    found = []
    for parent in cgroup_parents(tag):
        for root, dirs, _files in os.walk(parent):
            found.extend(Path(root) / d for d in dirs)
    return found


def cgroup_procs(dirs: list[Path]) -> set[int]:
    pids = set()
    for d in dirs:
        pids.update(int(p) for p in _read(d / "cgroup.procs").split())
    return pids


def links() -> list[str]:
    out = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=True, timeout=30).stdout
    return [line.split(":")[1].strip().split("@")[0] for line in out.splitlines() if line.strip()]


def _entries(path: Path) -> int:
    try:
        return len(os.listdir(path))
    except OSError:
        return 0


@dataclass
class Snapshot:
    values: dict[str, int]
    sizes: dict[str, int]


# What the test requires to be back at its baseline: count -> slack.
ASSERTED = {
    "server descriptors": FD_SLACK,
    "server threads (others)": 0,
    "server descendant processes": 0,
    "processes in the server's cgroups": 0,
    "sandbox cgroups (all controllers)": 0,
    "sandbox cgroups (freezer or unified)": 0,
    "mountinfo lines (test process)": 0,
    "mountinfo lines (server)": 0,
    "network namespaces of the server": 0,
    "interfaces of the server": 0,
}


class Meter:
    """Counts the resources of one running server."""

    def __init__(self, srv: Server):
        self.srv = srv
        self.pid = srv.proc.pid
        self.data_dir = srv.data_dir.resolve()
        # crates/lambdabox-engine/src/lib.rs: data_dir_tag(canonical data dir).
        self.tag = hashlib.sha256(os.fsencode(str(self.data_dir))).hexdigest()[:12]
        assert any(p.is_dir() for p in cgroup_parents(self.tag)), (
            f"the server's cgroup parent lambdabox-{self.tag} was not found: {cgroup_parents(self.tag)}"
        )

    def take(self) -> Snapshot:
        assert self.srv.running, f"the server died: {self.srv.stderr_excerpt()}"
        pid, tag = self.pid, self.tag
        desc = descendants(pid)
        threads = collections.Counter(_read(t / "comm").strip() for t in Path(f"/proc/{pid}/task").iterdir())
        cgroups = sandbox_cgroups(tag)
        in_cgroups = cgroup_procs(cgroups)
        all_pids = _pids()
        server_fds = _fd_links(pid)
        server_ns = {_netns(p) for p in {pid, *desc, *in_cgroups}} | {l for l in server_fds if l.startswith("net:")}
        server_ns.discard(None)
        all_ns = {_netns(p) for p in all_pids} - {None}
        names = links()
        ours = [n for n in names if n == f"lbxb{tag[:6]}" or n.startswith(f"lbxv{tag[:6]}")]
        unified_or_freezer = [c for c in cgroups if "/freezer/" in str(c) or cgroup_v2()]
        values = {
            "server descriptors": len(server_fds),
            "server threads (tokio-rt-worker)": threads.get("tokio-rt-worker", 0),
            "server threads (others)": sum(n for name, n in threads.items() if name != "tokio-rt-worker"),
            "server descendant processes": len(desc),
            "processes in the server's cgroups": len(in_cgroups),
            "processes on the machine": len(all_pids),
            "sandbox cgroups (all controllers)": len(cgroups),
            "sandbox cgroups (freezer or unified)": len(unified_or_freezer),
            "mountinfo lines (test process)": len(_read("/proc/self/mountinfo").splitlines()),
            "mountinfo lines (server)": len(_read(f"/proc/{pid}/mountinfo").splitlines()),
            "network namespaces of the server": len(server_ns),
            "network namespaces on the machine": len(all_ns),
            "interfaces of the server": len(ours),
            "interfaces on the machine": len(names),
            "server VmRSS KiB": _status_field(pid, "VmRSS"),
            "data dir bytes": dir_size(self.data_dir),
            "unpacked packages (code/)": _entries(self.data_dir / "code"),
            "stored packages (blobs/)": sum(len(files) for _r, _d, files in os.walk(self.data_dir / "blobs")),
        }
        sizes = {}
        for child in sorted(self.data_dir.iterdir()):
            sizes[child.name] = dir_size(child) if child.is_dir() else child.stat().st_size
        return Snapshot(values, sizes)

    def pools_full(self) -> Snapshot | None:
        """A snapshot once the pools hold every spare and zygote (and nothing else)."""
        snap = self.take()
        v = snap.values
        if v["sandbox cgroups (freezer or unified)"] != POOLED_SANDBOXES:
            return None
        # Each pooled sandbox has its own veth on the server's bridge (when
        # the function network is up: it is by default, as root).
        if v["interfaces of the server"] not in (0, POOLED_SANDBOXES + 1):
            return None
        return snap

    def settled(self, timeout: float = SETTLE_TIMEOUT_S) -> Snapshot:
        """Two equal consecutive snapshots of a server whose pools are full."""
        deadline = time.monotonic() + timeout
        previous = None
        while True:
            snap = self.pools_full()
            if snap is not None and previous is not None and _stable(previous, snap):
                return snap
            previous = snap
            if time.monotonic() > deadline:
                last = snap or self.take()
                pytest.fail(f"the server did not settle within {timeout:.0f}s: {last.values}")
            time.sleep(0.5)

    def back_to(self, baseline: Snapshot, timeout: float = SETTLE_TIMEOUT_S) -> tuple[Snapshot, float]:
        """Polls until every asserted count is within its slack of `baseline`
        (or the deadline passes); returns the last snapshot and the wait."""
        started = time.monotonic()
        while True:
            snap = self.take()
            if not leaks(baseline, snap) or time.monotonic() - started > timeout:
                return snap, time.monotonic() - started
            time.sleep(0.5)


def _stable(a: Snapshot, b: Snapshot) -> bool:
    return all(a.values[k] == b.values[k] for k in ASSERTED if k != "server descriptors")


def leaks(before: Snapshot, after: Snapshot) -> list[str]:
    found = []
    for name, slack in ASSERTED.items():
        if after.values[name] > before.values[name] + slack:
            found.append(f"{name}: {before.values[name]} -> {after.values[name]} (slack {slack})")
    return found


# --------------------------------------------------------------------------
# The load
# --------------------------------------------------------------------------


class Failure(Exception):
    """A wrong answer from the server."""


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    ops: collections.Counter = field(default_factory=collections.Counter)
    errors: collections.Counter = field(default_factory=collections.Counter)
    failures: list[str] = field(default_factory=list)
    failure_count: int = 0
    async_ids: set[str] = field(default_factory=set)
    created: set[str] = field(default_factory=set)

    def op(self, kind: str) -> None:
        with self.lock:
            self.ops[kind] += 1

    def error(self, kind: str, code: str) -> None:
        with self.lock:
            self.errors[f"{kind}: {code}"] += 1

    def fail(self, kind: str, what: str) -> None:
        with self.lock:
            self.failure_count += 1
            self.errors[f"{kind}: FAILURE"] += 1
            if len(self.failures) < 20:
                self.failures.append(f"{kind}: {what}")


def client_for(url: str):
    return lambda_client(url)


def s3_client(url: str):
    return boto3.client(
        "s3", endpoint_url=url, region_name=REGION, aws_access_key_id="test", aws_secret_access_key="test",
        config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1, "mode": "standard"},
                      connect_timeout=10, read_timeout=60),
    )


def wait_ready(lam, name: str, qualifier: str | None = None, timeout: float = 60.0) -> dict:
    """Polls GetFunctionConfiguration until the function is Active and its last update done."""
    deadline = time.monotonic() + timeout
    kwargs = {"FunctionName": name, **({"Qualifier": qualifier} if qualifier else {})}
    while True:
        cfg = lam.get_function_configuration(**kwargs)
        if cfg.get("State", "Active") == "Active" and cfg.get("LastUpdateStatus", "Successful") == "Successful":
            return cfg
        if cfg.get("State") == "Failed" or cfg.get("LastUpdateStatus") == "Failed":
            raise Failure(f"{name} failed: {cfg.get('StateReason') or cfg.get('LastUpdateStatusReason')}")
        if time.monotonic() > deadline:
            raise Failure(f"{name} not ready after {timeout}s: {cfg.get('State')}/{cfg.get('LastUpdateStatus')}")
        time.sleep(0.05)


def sync_invoke(lam, name: str, event, qualifier: str | None = None) -> tuple[dict, object]:
    kwargs = {"FunctionName": name, "Payload": json.dumps(event).encode()}
    if qualifier:
        kwargs["Qualifier"] = qualifier
    resp = lam.invoke(**kwargs)
    body = resp["Payload"].read()
    if resp["StatusCode"] != 200:
        raise Failure(f"Invoke {name}: StatusCode {resp['StatusCode']}")
    return resp, json.loads(body) if body else None


def expect_ok(name: str, resp: dict, payload) -> object:
    if resp.get("FunctionError"):
        raise Failure(f"{name}: function error {resp['FunctionError']}: {payload}")
    return payload


class Soak:
    def __init__(self, srv: Server, bucket: str, tally: Tally):
        self.srv = srv
        self.bucket = bucket
        self.tally = tally
        self.shared: dict[str, str] = {}
        self.deadline = 0.0

    def create(self, lam, name: str, zip_bytes: bytes, runtime: dict, **extra) -> None:
        self.tally.created.add(name)
        params = {"FunctionName": name, "Role": ROLE, "Code": {"ZipFile": zip_bytes}, "Timeout": 10, **runtime, **extra}
        lam.create_function(**params)
        wait_ready(lam, name)

    def setup(self, lam, prefix: str) -> None:
        s = self.shared
        s["echo"], s["add"], s["throw"], s["sleep"], s["async"] = (
            f"{prefix}-echo", f"{prefix}-add", f"{prefix}-throw", f"{prefix}-sleep", f"{prefix}-async",
        )
        self.create(lam, s["echo"], make_zip({"app.py": PY_ECHO}), PY)
        self.create(lam, s["add"], make_zip({"index.js": NODE_ADD}), NODE)
        self.create(lam, s["throw"], make_zip({"app.py": PY_THROW}), PY)
        self.create(lam, s["sleep"], make_zip({"app.py": PY_SLEEP}), PY, Timeout=1)
        self.create(lam, s["async"], make_zip({"app.py": PY_ASYNC}), PY,
                    Environment={"Variables": {"BUCKET": self.bucket}})

    # -- operations ---------------------------------------------------------

    def op_invoke_python(self, w: "Worker") -> None:
        n = w.rng.randrange(1 << 30)
        resp, out = sync_invoke(w.lam, self.shared["echo"], {"n": n})
        if expect_ok("echo", resp, out)["echo"] != {"n": n}:
            raise Failure(f"echo answered {out}")

    def op_invoke_node(self, w: "Worker") -> None:
        a, b = w.rng.randrange(1000), w.rng.randrange(1000)
        resp, out = sync_invoke(w.lam, self.shared["add"], {"a": a, "b": b})
        if expect_ok("add", resp, out)["sum"] != a + b:
            raise Failure(f"add answered {out} for {a} + {b}")

    def op_invoke_async(self, w: "Worker") -> None:
        event_id = uuid.UUID(int=w.rng.getrandbits(128)).hex
        resp = w.lam.invoke(FunctionName=self.shared["async"], InvocationType="Event",
                            Payload=json.dumps({"id": event_id}).encode())
        if resp["StatusCode"] != 202:
            raise Failure(f"Event invoke answered {resp['StatusCode']}")
        with self.tally.lock:
            self.tally.async_ids.add(event_id)

    def op_throw(self, w: "Worker") -> None:
        n = w.rng.randrange(1000)
        resp, out = sync_invoke(w.lam, self.shared["throw"], {"n": n})
        if resp.get("FunctionError") != "Unhandled" or out.get("errorType") != "ValueError" or out.get("errorMessage") != f"soak {n}":
            raise Failure(f"the thrower answered {resp.get('FunctionError')} {out}")

    def op_timeout(self, w: "Worker") -> None:
        resp, out = sync_invoke(w.lam, self.shared["sleep"], {"sleep": 3})
        if resp.get("FunctionError") != "Unhandled" or out.get("errorType") != "Sandbox.Timedout":
            raise Failure(f"the sleeper answered {resp.get('FunctionError')} {out}")

    def op_update_code(self, w: "Worker") -> None:
        """New code for one of the worker's own functions, then a (cold) invoke of it."""
        fn = w.rng.choice(w.churn)
        w.gen += 1
        zip_bytes = py_churn(w.gen) if fn["node"] is False else node_churn(w.gen)
        w.lam.update_function_code(FunctionName=fn["name"], ZipFile=zip_bytes)
        fn["gen"] = w.gen
        wait_ready(w.lam, fn["name"])
        resp, out = sync_invoke(w.lam, fn["name"], {})
        if expect_ok(fn["name"], resp, out) != {"gen": fn["gen"], "env": fn["env"], "version": "$LATEST"}:
            raise Failure(f"{fn['name']} answered {out} after its code update to {fn['gen']}")

    def op_update_config(self, w: "Worker") -> None:
        fn = w.rng.choice(w.churn)
        value = uuid.UUID(int=w.rng.getrandbits(128)).hex[:8]
        w.lam.update_function_configuration(FunctionName=fn["name"], Environment={"Variables": {"GEN": value}})
        fn["env"] = value
        wait_ready(w.lam, fn["name"])
        resp, out = sync_invoke(w.lam, fn["name"], {})
        if expect_ok(fn["name"], resp, out) != {"gen": fn["gen"], "env": value, "version": "$LATEST"}:
            raise Failure(f"{fn['name']} answered {out} after its configuration update to {value}")

    def op_contended_update(self, w: "Worker") -> None:
        """A shared function's configuration changed while others invoke it (their warm environments go)."""
        w.lam.update_function_configuration(FunctionName=self.shared["echo"], Description=f"soak {w.rng.random()}")
        wait_ready(w.lam, self.shared["echo"])

    def op_publish_alias(self, w: "Worker") -> None:
        """Publish a version of the worker's Python function, point its alias there, invoke through the
        alias, and delete the versions before the previous one."""
        fn = w.churn[0]
        # A new configuration (a Description alone is not: PublishVersion would return the newest version).
        value = uuid.UUID(int=w.rng.getrandbits(128)).hex[:8]
        w.lam.update_function_configuration(FunctionName=fn["name"], Environment={"Variables": {"GEN": value}})
        fn["env"] = value
        wait_ready(w.lam, fn["name"])
        version = w.lam.publish_version(FunctionName=fn["name"])["Version"]
        if w.versions and int(version) <= int(w.versions[-1]):
            raise Failure(f"PublishVersion of a changed {fn['name']} answered {version} after {w.versions[-1]}")
        if w.alias_made:
            w.lam.update_alias(FunctionName=fn["name"], Name="live", FunctionVersion=version)
        else:
            w.lam.create_alias(FunctionName=fn["name"], Name="live", FunctionVersion=version)
            w.alias_made = True
        w.versions.append(version)
        resp, out = sync_invoke(w.lam, fn["name"], {}, qualifier="live")
        if resp.get("ExecutedVersion") != version or expect_ok(fn["name"], resp, out) != {
            "gen": fn["gen"], "env": value, "version": version,
        }:
            raise Failure(f"alias live of {fn['name']} ran {resp.get('ExecutedVersion')} / {out}, not {version}")
        while len(w.versions) > 2:
            w.lam.delete_function(FunctionName=fn["name"], Qualifier=w.versions.pop(0))

    def op_deploy(self, w: "Worker") -> None:
        """A short-lived function: created, invoked, deleted."""
        w.deploys += 1
        name = f"soak-tmp-{w.index}-{w.deploys}-{uuid.UUID(int=w.rng.getrandbits(128)).hex[:6]}"
        node = w.rng.random() < 0.5
        self.create(w.lam, name, node_churn(w.deploys) if node else py_churn(w.deploys), NODE if node else PY)
        resp, out = sync_invoke(w.lam, name, {})
        if expect_ok(name, resp, out)["gen"] != w.deploys:
            raise Failure(f"{name} answered {out}")
        w.lam.delete_function(FunctionName=name)
        self.tally.created.discard(name)

    OPS = {
        "invoke python": (op_invoke_python, 24),
        "invoke nodejs": (op_invoke_node, 16),
        "invoke async": (op_invoke_async, 14),
        "invoke throws": (op_throw, 8),
        "invoke times out": (op_timeout, 3),
        "update code + invoke": (op_update_code, 8),
        "update configuration + invoke": (op_update_config, 8),
        "update shared configuration": (op_contended_update, 3),
        "publish version + alias + invoke": (op_publish_alias, 6),
        "create + invoke + delete": (op_deploy, 6),
    }


class Worker(threading.Thread):
    def __init__(self, soak: Soak, index: int, lam):
        super().__init__(name=f"soak-{index}", daemon=True)
        self.soak = soak
        self.index = index
        self.lam = lam
        self.rng = random.Random(SEED * 1000 + index)
        self.gen = 0
        self.deploys = 0
        self.alias_made = False
        self.versions: list[str] = []
        self.churn: list[dict] = []

    def setup(self, prefix: str) -> None:
        for node in (False, True):
            name = f"{prefix}-churn-{'js' if node else 'py'}-{self.index}"
            self.soak.create(self.lam, name, node_churn(0) if node else py_churn(0), NODE if node else PY)
            self.churn.append({"name": name, "node": node, "gen": 0, "env": None})

    def run(self) -> None:
        kinds = list(Soak.OPS)
        weights = [Soak.OPS[k][1] for k in kinds]
        tally = self.soak.tally
        while time.monotonic() < self.soak.deadline:
            kind = self.rng.choices(kinds, weights)[0]
            try:
                Soak.OPS[kind][0](self.soak, self)
                tally.op(kind)
            except botocore.exceptions.ClientError as e:
                code = e.response.get("Error", {}).get("Code", "?")
                status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
                if status < 500 and code in EXPECTED_CODES:
                    tally.error(kind, code)
                else:
                    tally.fail(kind, f"HTTP {status} {code}: {e}")
            except (botocore.exceptions.BotoCoreError, OSError) as e:  # connection errors, timeouts
                tally.fail(kind, f"{type(e).__name__}: {e}")
            except Failure as e:
                tally.fail(kind, str(e))
            except Exception as e:  # noqa: BLE001 - anything else is a failure of this test's load
                tally.fail(kind, f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=3)}")


# --------------------------------------------------------------------------
# Cleaning up
# --------------------------------------------------------------------------


def wait_async(s3, bucket: str, ids: set[str], timeout: float = ASYNC_TIMEOUT_S) -> set[str]:
    """Polls the bucket until every asynchronous invocation wrote its object; returns the missing."""
    deadline = time.monotonic() + timeout
    while True:
        seen = set()
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="async/"):
            seen.update(o["Key"][len("async/"):] for o in page.get("Contents", []))
        missing = ids - seen
        if not missing or time.monotonic() > deadline:
            return missing
        time.sleep(0.5)


def wait_reports(srv: Server, function: str, count: int, timeout: float = 60.0) -> int:
    """Polls the function's log until `count` invocations have ended (REPORT lines): an event's
    object is written just before its invocation ends, and the function is about to be deleted."""
    folder = srv.data_dir / "logs" / function
    deadline = time.monotonic() + timeout
    while True:
        logs = [p.read_text(errors="replace") for p in folder.glob("*.log")] if folder.is_dir() else []
        seen = sum(len(re.findall(r"^REPORT RequestId: ", text, re.M)) for text in logs)
        if seen >= count or time.monotonic() > deadline:
            return seen
        time.sleep(0.2)


def delete_everything(lam, tally: Tally) -> int:
    """Deletes every function on the server (all of them the soak's: the server is its own)."""
    names = set(tally.created)
    for page in lam.get_paginator("list_functions").paginate():
        names.update(f["FunctionName"] for f in page["Functions"])
    for name in sorted(names):
        try:
            lam.delete_function(FunctionName=name)
        except lam.exceptions.ResourceNotFoundException:
            pass
    left = [f["FunctionName"] for page in lam.get_paginator("list_functions").paginate() for f in page["Functions"]]
    assert not left, f"functions left after deleting them all: {left}"
    tally.created.clear()
    return len(names)


def rss_bound_mib(baseline: Snapshot, after: Snapshot) -> int:
    key = "server threads (tokio-rt-worker)"
    return RSS_GROWTH_BOUND_MIB + RSS_PER_TOKIO_THREAD_MIB * max(0, after.values[key] - baseline.values[key])


def settled_rss(meter: "Meter", timeout: float = 20.0) -> int:
    """VmRSS once two readings a second apart are within 1 MiB (freed pages are purged lazily)."""
    deadline = time.monotonic() + timeout
    last = _status_field(meter.pid, "VmRSS")
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = _status_field(meter.pid, "VmRSS")
        if abs(now - last) < 1024:
            return now
        last = now
    return last


# --------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------


def report(duration: float, tally: Tally, columns: dict[str, Snapshot], waited: dict[str, float]) -> str:
    lines = [f"soak: {duration:.1f} s of load, {WORKERS} workers, seed {SEED}", "", "operations:"]
    for kind in Soak.OPS:
        lines.append(f"  {kind:<36} {tally.ops[kind]:>7}")
    lines.append(f"  {'total':<36} {sum(tally.ops.values()):>7}")
    lines.append(f"  {'async invocations checked':<36} {len(tally.async_ids):>7}")
    lines += ["", "errors (tallied, expected):" if tally.errors else "errors: none"]
    for key, n in sorted(tally.errors.items()):
        lines.append(f"  {key:<50} {n:>6}")
    if tally.failures:
        lines += ["", f"failures ({tally.failure_count}):"] + [f"  {f}" for f in tally.failures]
    lines += ["", "waits: " + ", ".join(f"{k} {v:.1f} s" for k, v in waited.items()), ""]
    heads = list(columns)
    lines.append(f"{'count':<40}" + "".join(f"{h:>16}" for h in heads) + "   asserted")
    for key in next(iter(columns.values())).values:
        row = f"{key:<40}" + "".join(f"{c.values[key]:>16}" for c in columns.values())
        if key in ASSERTED:
            row += f"   after <= baseline + {ASSERTED[key]}"
        elif key == "server VmRSS KiB":
            row += f"   after <= baseline + {rss_bound_mib(columns['baseline'], columns['after'])} MiB"
        lines.append(row)
    before, after = columns["baseline"], columns["after"]
    grew = [f"{k}: {before.values[k]} -> {after.values[k]}" for k in before.values
            if k not in ASSERTED and after.values[k] > before.values[k]]
    lines += ["", "grown and not asserted:"] + [f"  {g}" for g in grew or ["nothing"]]
    lines += ["", "data dir by entry (bytes):"]
    keys = sorted({k for c in columns.values() for k in c.sizes})
    for key in keys:
        lines.append(f"  {key:<38}" + "".join(f"{c.sizes.get(key, 0):>16}" for c in columns.values()))
    return "\n".join(lines)


# --------------------------------------------------------------------------
# The test
# --------------------------------------------------------------------------


def test_soak_leaves_nothing_behind(new_server, tmp_path):
    srv = new_server(start=False)
    args = ["serve", "--listen", "127.0.0.1:0", "--data-dir", str(srv.data_dir)]
    for flag, value in SPARES.items():
        args += [flag, str(value)]
    srv.start(args=args)
    meter = Meter(srv)
    started = meter.settled()

    tally = Tally()
    soak = Soak(srv, f"soak-{uuid.uuid4().hex[:8]}", tally)
    admin = client_for(srv.url)
    s3 = s3_client(srv.url)
    s3.create_bucket(Bucket=soak.bucket)

    # Warm-up: every operation once, by a worker of its own, then its functions deleted.
    warm = Worker(soak, 99, client_for(srv.url))
    soak.setup(admin, "soak-warm")
    warm.setup("soak-warm")
    for op, _weight in Soak.OPS.values():
        op(soak, warm)
    assert not wait_async(s3, soak.bucket, tally.async_ids, timeout=60), "the warm-up's event did not run"
    wait_reports(srv, soak.shared["async"], len(tally.async_ids))
    tally.async_ids.clear()
    delete_everything(admin, tally)
    warm.lam.close()
    admin.close()
    s3.close()
    baseline = meter.settled()
    baseline.values["server VmRSS KiB"] = settled_rss(meter)

    # The load.
    admin = client_for(srv.url)
    s3 = s3_client(srv.url)
    soak.setup(admin, "soak")
    workers = [Worker(soak, i, client_for(srv.url)) for i in range(WORKERS)]
    for w in workers:
        w.setup("soak")
    load_started = time.monotonic()
    soak.deadline = load_started + SOAK_SECONDS
    for w in workers:
        w.start()
    peak = Snapshot(dict(baseline.values), dict(baseline.sizes))  # each count's maximum over the load
    while any(w.is_alive() for w in workers):
        snap = meter.take()
        for into, sample in ((peak.values, snap.values), (peak.sizes, snap.sizes)):
            for key, value in sample.items():
                into[key] = max(into.get(key, 0), value)
        for w in workers:
            w.join(timeout=2.0 / WORKERS)
    duration = time.monotonic() - load_started
    assert duration < SOAK_SECONDS + 120, f"the workers took {duration - SOAK_SECONDS:.0f} s past the deadline"

    # Every event ran (and ended), then everything the soak made is deleted.
    waits: dict[str, float] = {}
    t = time.monotonic()
    missing = wait_async(s3, soak.bucket, tally.async_ids)
    ended = wait_reports(srv, soak.shared["async"], len(tally.async_ids))
    waits["async drained"] = time.monotonic() - t
    deleted = delete_everything(admin, tally)
    for w in workers:
        w.lam.close()
    admin.close()
    s3.close()
    final, waits["environments retired"] = meter.back_to(baseline)
    final.values["server VmRSS KiB"] = settled_rss(meter)

    columns = {"server start": started, "baseline": baseline, "peak (load)": peak, "after": final}
    text = report(duration, tally, columns, waits)
    text += f"\n\nfunctions deleted at the end: {deleted}; async events ended (REPORT lines): {ended}"

    # A clean stop (exit 0) takes the pools' sandboxes with it.
    srv.stop()
    gone = {
        "sandbox cgroups": len(sandbox_cgroups(meter.tag)),
        "processes in them": len(cgroup_procs(sandbox_cgroups(meter.tag))),
        "interfaces": len([n for n in links() if n.startswith((f"lbxb{meter.tag[:6]}", f"lbxv{meter.tag[:6]}"))]),
    }
    parents = [str(p) for p in cgroup_parents(meter.tag) if p.is_dir()]
    text += f"\nafter the server stopped: {gone}; empty cgroup parents kept: {len(parents)}"
    (tmp_path / "soak-report.txt").write_text(text + "\n")
    print("\n" + text)

    assert tally.failure_count == 0, f"{tally.failure_count} failed operations: {tally.failures}"
    assert not missing, f"{len(missing)} of {len(tally.async_ids)} asynchronous invocations never ran: {sorted(missing)[:5]}"
    assert sum(tally.ops.values()) >= 10 * WORKERS, f"the load ran only {sum(tally.ops.values())} operations"
    found = leaks(baseline, final)
    assert not found, "leaked (after the wait of %.0f s):\n  %s" % (waits["environments retired"], "\n  ".join(found))
    assert final.values["sandbox cgroups (freezer or unified)"] <= POOLED_SANDBOXES, "environments outlived their functions"
    grown = (final.values["server VmRSS KiB"] - baseline.values["server VmRSS KiB"]) / 1024
    bound = rss_bound_mib(baseline, final)
    assert grown <= bound, f"the server's RSS grew by {grown:.1f} MiB (bound {bound} MiB)"
    assert gone == {"sandbox cgroups": 0, "processes in them": 0, "interfaces": 0}, f"left after the server stopped: {gone}"
    assert not parents, f"the server's empty cgroup parents were left after it stopped: {parents}"
