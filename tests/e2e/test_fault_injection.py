"""Fault injection: kill -9 at seeded random points, a full disk, a busy
database, and runtimes that misbehave. After each fault every acknowledged
write is present, nothing unacknowledged is half-present, the server starts,
and every error a client saw was AWS-shaped (a 4xx or 5xx with AWS's error
code, never a body botocore cannot parse).

`LAMBDABOX_FAULT_SEED` (default 20261206) makes the kill points and the mix
of writes reproducible; `LAMBDABOX_FAULT_ITERATIONS` (default 50) sets how
many times the server is killed. The counts are printed at the end.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import sqlite3
import subprocess
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from invoke_support import bootstrap_package
from support import REGION, ROLE, code_sha256, download, make_zip, unique_name

SEED = int(os.environ.get("LAMBDABOX_FAULT_SEED", "20261206"))
ITERATIONS = int(os.environ.get("LAMBDABOX_FAULT_ITERATIONS", "50"))
LIGHT = ["--spare-sandboxes", "0", "--python-zygotes", "0", "--nodejs-zygotes", "0"]


def clients(server):
    config = Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=30)
    make = lambda s: boto3.client(  # noqa: E731
        s, endpoint_url=server.url, region_name=REGION, aws_access_key_id="test",
        aws_secret_access_key="test", config=config)
    return make("lambda"), make("iam")


def package(tag: str) -> bytes:
    return make_zip({"app.py": f"def handler(e, c):\n    print('MARK', e.get('id'))\n    return {tag!r}\n",
                     "pad.bin": hashlib.sha256(tag.encode()).digest() * 256})


@dataclass
class Ledger:
    """What the server acknowledged, and what was attempted without an answer."""
    functions: dict = field(default_factory=dict)      # name -> list of code shas attempted, in order
    acked_sha: dict = field(default_factory=dict)      # name -> index into functions[name] last acknowledged
    descriptions: dict = field(default_factory=dict)   # name -> (attempted list, acked index)
    versions: dict = field(default_factory=dict)       # (name, version) -> code sha
    aliases: dict = field(default_factory=dict)        # (name, alias) -> (attempted versions, acked index)
    layers: dict = field(default_factory=dict)         # (layer, version) -> content sha
    users: set = field(default_factory=set)
    events: set = field(default_factory=set)           # async event ids acknowledged (202)
    counts: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)


def record_error(ledger: Ledger, e: Exception) -> bool:
    """Tallies a failed call; False when the server answered something not AWS-shaped."""
    if isinstance(e, botocore.exceptions.ClientError):
        code = e.response.get("Error", {}).get("Code")
        status = e.response["ResponseMetadata"]["HTTPStatusCode"]
        ledger.errors[f"{status} {code}"] += 1
        return bool(code) and status >= 400
    # The server was killed mid-request: no answer at all, which is fine.
    ledger.errors[type(e).__name__] += 1
    return isinstance(e, (botocore.exceptions.BotoCoreError, ConnectionError))


def worker(server, ledger: Ledger, rng: random.Random, stop: threading.Event, bad: list):
    lam, iam = clients(server)
    names = list(ledger.acked_sha)
    while not stop.is_set():
        op = rng.choice(["create", "update_code", "update_config", "publish", "alias", "layer", "event", "event", "user"])
        tag = uuid.uuid4().hex[:10]
        try:
            if op == "create" or not names:
                name = f"fi-{tag}"
                zip_bytes = package(tag)
                ledger.functions[name] = [code_sha256(zip_bytes)]
                resp = lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                                           Code={"ZipFile": zip_bytes}, Description="d0")
                assert resp["CodeSha256"] == ledger.functions[name][0]
                ledger.acked_sha[name] = 0
                ledger.descriptions[name] = (["d0"], 0)
                names.append(name)
            elif op == "update_code":
                name = rng.choice(names)
                zip_bytes = package(tag)
                ledger.functions[name].append(code_sha256(zip_bytes))
                lam.update_function_code(FunctionName=name, ZipFile=zip_bytes)
                ledger.acked_sha[name] = len(ledger.functions[name]) - 1
            elif op == "update_config":
                name = rng.choice(names)
                attempted, acked = ledger.descriptions[name]
                attempted.append(tag)
                lam.update_function_configuration(FunctionName=name, Description=tag)
                ledger.descriptions[name] = (attempted, len(attempted) - 1)
            elif op == "publish":
                name = rng.choice(names)
                resp = lam.publish_version(FunctionName=name)
                ledger.versions[(name, resp["Version"])] = resp["CodeSha256"]
            elif op == "alias":
                versions = [v for (n, v) in ledger.versions]
                if not versions:
                    continue
                (name, version) = rng.choice(list(ledger.versions))
                key = (name, "live")
                attempted, acked = ledger.aliases.get(key, ([], -1))
                attempted.append(version)
                ledger.aliases[key] = (attempted, acked)
                try:
                    lam.update_alias(FunctionName=name, Name="live", FunctionVersion=version)
                except botocore.exceptions.ClientError as e:
                    if e.response["Error"]["Code"] != "ResourceNotFoundException":
                        raise
                    lam.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
                ledger.aliases[key] = (attempted, len(attempted) - 1)
            elif op == "layer":
                content = make_zip({"python/lib_" + tag + ".py": "X = 1\n"})
                resp = lam.publish_layer_version(LayerName="fi-layer", Content={"ZipFile": content})
                ledger.layers[("fi-layer", resp["Version"])] = resp["Content"]["CodeSha256"]
            elif op == "event":
                name = rng.choice(names)
                event_id = f"ev-{tag}"
                resp = lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"id": event_id}))
                assert resp["StatusCode"] == 202
                ledger.events.add((name, event_id))
            elif op == "user":
                lam_user = f"fi-user-{tag}"
                iam.create_user(UserName=lam_user)
                ledger.users.add(lam_user)
            ledger.counts[op] += 1
        except Exception as e:  # noqa: BLE001 - every failure is tallied and judged
            if not record_error(ledger, e):
                bad.append(f"{op}: {e!r}")
            if not isinstance(e, botocore.exceptions.ClientError):
                return  # the server is gone


def verify(server, ledger: Ledger):
    """Every acknowledged write is there; whatever else exists is whole."""
    lam, iam = clients(server)
    listed = {f["FunctionName"]: f for f in lam.get_paginator("list_functions").paginate().build_full_result()["Functions"]}
    for name, attempted in ledger.functions.items():
        if name not in ledger.acked_sha:
            if name in listed:  # created without an answer: must be whole
                got = lam.get_function(FunctionName=name)
                assert code_sha256(download(got["Code"]["Location"])) == got["Configuration"]["CodeSha256"]
            continue
        assert name in listed, f"acknowledged function {name} lost"
        got = lam.get_function(FunctionName=name)
        cfg = got["Configuration"]
        assert code_sha256(download(got["Code"]["Location"])) == cfg["CodeSha256"], f"{name}: code not whole"
        assert cfg["CodeSha256"] in attempted[ledger.acked_sha[name]:], (
            f"{name}: holds {cfg['CodeSha256']}, not the acknowledged update or a later one")
        d_attempted, d_acked = ledger.descriptions[name]
        assert cfg["Description"] in d_attempted[d_acked:], f"{name}: acknowledged description lost"
    for (name, version), sha in ledger.versions.items():
        got = lam.get_function_configuration(FunctionName=name, Qualifier=version)
        assert got["CodeSha256"] == sha, f"{name}:{version} changed"
    for (name, alias), (attempted, acked) in ledger.aliases.items():
        if acked < 0:
            continue
        got = lam.get_alias(FunctionName=name, Name=alias)
        assert got["FunctionVersion"] in attempted[acked:], f"{name}:{alias} lost its acknowledged version"
    for (layer, version), sha in ledger.layers.items():
        got = lam.get_layer_version(LayerName=layer, VersionNumber=version)
        assert got["Content"]["CodeSha256"] == sha
    existing = {u["UserName"] for u in iam.get_paginator("list_users").paginate().build_full_result()["Users"]}
    assert ledger.users <= existing, f"acknowledged users lost: {sorted(ledger.users - existing)[:5]}"


def events_ran(server, ledger: Ledger, deadline_s: float = 180) -> set:
    """The acknowledged events whose MARK line has not appeared in their function's log."""
    logs = boto3.client("logs", endpoint_url=server.url, region_name=REGION, aws_access_key_id="test",
                        aws_secret_access_key="test", config=Config(retries={"total_max_attempts": 1}))
    missing = set(ledger.events)
    deadline = time.monotonic() + deadline_s
    while missing and time.monotonic() < deadline:
        for name in sorted({n for n, _ in missing}):
            try:
                found = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}", filterPattern='"MARK"')
            except botocore.exceptions.ClientError:
                continue
            text = "".join(e["message"] for e in found["events"])
            missing = {(n, ev) for (n, ev) in missing if n != name or f"MARK {ev}" not in text}
        if missing:
            time.sleep(1)
    return missing


def test_kill_9_at_seeded_random_points_loses_no_acknowledged_write(new_server):
    rng = random.Random(SEED)
    srv = new_server(start=False)
    ledger = Ledger()
    bad: list[str] = []
    kills = 0
    for iteration in range(ITERATIONS):
        srv.start(args=["serve", "--listen", "127.0.0.1:0", "--data-dir", str(srv.data_dir), *LIGHT])
        if iteration:
            verify(srv, ledger)
        stop = threading.Event()
        t = threading.Thread(target=worker, args=(srv, ledger, random.Random(rng.random()), stop, bad))
        t.start()
        time.sleep(rng.uniform(0.05, 0.8))
        srv.kill9()
        kills += 1
        stop.set()
        t.join(timeout=60)
        assert not t.is_alive()
    srv.start(args=["serve", "--listen", "127.0.0.1:0", "--data-dir", str(srv.data_dir), *LIGHT])
    verify(srv, ledger)
    missing = events_ran(srv, ledger)
    print(f"\nfault injection: seed {SEED}, {kills} kill -9s survived; acknowledged: {dict(ledger.counts)}; "
          f"errors seen: {dict(ledger.errors)}; {len(ledger.events)} async events, all ran: {not missing}")
    assert not bad, f"answers that were not AWS-shaped: {bad[:5]}"
    assert not missing, f"{len(missing)} acknowledged async events never ran: {sorted(missing)[:5]}"
    assert sum(ledger.counts.values()) > ITERATIONS, "too few writes reached the server to mean anything"


@pytest.fixture
def small_disk(tmp_path):
    """A 160 MiB tmpfs for a data dir (needs root, as CI runs)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mnt = tmp_path / "small-disk"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=160m", "tmpfs", str(mnt)], check=True)
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_a_full_disk_fails_writes_cleanly_and_recovers(new_server, small_disk):
    srv = new_server(start=False, data_dir=small_disk / "data")
    args = ["serve", "--listen", "127.0.0.1:0", "--data-dir", str(srv.data_dir), *LIGHT]
    srv.start(args=args)
    lam, _ = clients(srv)
    acked: dict[str, str] = {}
    failure = None
    for i in range(200):
        blob = os.urandom(6 * 1024 * 1024)  # incompressible: fills the disk fast
        zip_bytes = make_zip({"app.py": "def handler(e, c):\n    return 1\n", "blob.bin": blob})
        try:
            resp = lam.create_function(FunctionName=f"full-{i}", Runtime="python3.12", Role=ROLE,
                                       Handler="app.handler", Code={"ZipFile": zip_bytes})
            acked[f"full-{i}"] = resp["CodeSha256"]
        except botocore.exceptions.ClientError as e:
            failure = e.response
            break
    assert failure is not None, "the disk never filled"
    status = failure["ResponseMetadata"]["HTTPStatusCode"]
    assert failure["Error"]["Code"] and status >= 400, failure
    assert acked, "no write succeeded before the disk filled"
    # Every acknowledged function is whole; the server still answers reads.
    for name, sha in acked.items():
        got = lam.get_function(FunctionName=name)
        assert got["Configuration"]["CodeSha256"] == sha
        assert code_sha256(download(got["Code"]["Location"])) == sha
    # Freeing space lets writes succeed again, and all of it survives a restart.
    for name in list(acked)[: max(2, len(acked) // 2)]:
        lam.delete_function(FunctionName=name)
        del acked[name]
    resp = lam.create_function(FunctionName="after-full", Runtime="python3.12", Role=ROLE, Handler="app.handler",
                               Code={"ZipFile": make_zip({"app.py": "def handler(e, c):\n    return 'ok'\n"})})
    acked["after-full"] = resp["CodeSha256"]
    srv.kill9()
    srv.start(args=args)
    lam, _ = clients(srv)
    for name, sha in acked.items():
        assert lam.get_function(FunctionName=name)["Configuration"]["CodeSha256"] == sha
    print(f"\nfull disk: {len(acked)} functions kept; the refused write answered {status} {failure['Error']['Code']}")


def test_a_busy_database_delays_or_fails_writes_cleanly(new_server):
    srv = new_server(start=False)
    args = ["serve", "--listen", "127.0.0.1:0", "--data-dir", str(srv.data_dir), *LIGHT]
    srv.start(args=args)
    lam, _ = clients(srv)
    lam.create_function(FunctionName="before-busy", Runtime="python3.12", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": package("before")})
    # Another process takes SQLite's write lock for longer than the server's busy timeout.
    db = sqlite3.connect(srv.data_dir / "lambdabox.db", timeout=1, isolation_level=None)
    db.execute("BEGIN EXCLUSIVE")
    outcome = {}

    def write():
        try:
            outcome["resp"] = lam.create_function(FunctionName="during-busy", Runtime="python3.12", Role=ROLE,
                                                  Handler="app.handler", Code={"ZipFile": package("during")})
        except botocore.exceptions.ClientError as e:
            outcome["error"] = e.response

    t = threading.Thread(target=write)
    t.start()
    time.sleep(7)
    db.execute("ROLLBACK")
    db.close()
    t.join(timeout=60)
    if "error" in outcome:
        err = outcome["error"]
        assert err["Error"]["Code"] and err["ResponseMetadata"]["HTTPStatusCode"] >= 400, err
    # Either way the server works again and holds exactly what it acknowledged.
    lam.create_function(FunctionName="after-busy", Runtime="python3.12", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": package("after")})
    names = {f["FunctionName"] for f in lam.list_functions()["Functions"]}
    assert {"before-busy", "after-busy"} <= names
    if "resp" in outcome:
        assert "during-busy" in names
    srv.kill9()
    srv.start(args=args)
    lam, _ = clients(srv)
    after = {f["FunctionName"] for f in lam.list_functions()["Functions"]}
    assert after == names
    print(f"\nbusy database: the write held for 7 s {'succeeded' if 'resp' in outcome else 'failed: ' + str(outcome['error']['Error'])}")


# -- runtimes that misbehave ------------------------------------------------------------------

BOOTSTRAP = """#!/usr/bin/python3
import json, os, sys, urllib.request
API = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation/"
MODE = os.environ["MODE"]

def post(path, body=b"{}", method="POST", headers=None):
    req = urllib.request.Request(API + path, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()

previous_second = None
while True:
    with urllib.request.urlopen(API + "next") as r:
        rid = r.headers["Lambda-Runtime-Aws-Request-Id"]
        event = r.read()
    if MODE == "twice":
        # The second answer's status is reported by the next invocation.
        post(rid + "/response", json.dumps({"answer": "first", "previous_second": previous_second}).encode())
        previous_second = post(rid + "/response", b'"second"')[0]
    elif MODE == "other-id":
        status, body = post("not-" + rid + "/response", b'"stolen"')
        print("other id:", status, body.decode(), flush=True)
        post(rid + "/response", json.dumps({"other_id_status": status}).encode())
    elif MODE == "malformed":
        results = [post(rid + "/nonsense")[0], post(rid + "/response", method="GET")[0]]
        print("malformed:", results, flush=True)
        post(rid + "/error", b"not json", headers={"Content-Type": "application/json"})
    elif MODE == "hang":
        import time
        time.sleep(3600)
    elif MODE == "flood":
        chunk = "x" * 65536 + "\\n"
        for _ in range(1600):  # 100 MiB of output
            sys.stdout.write(chunk)
        sys.stdout.flush()
        post(rid + "/response", b'"flooded"')
"""


@pytest.fixture(scope="module")
def runtime_server(data_root, server_logs):
    from support import Server

    srv = Server(data_root / f"rt-faults-{uuid.uuid4().hex[:6]}", server_logs, name="rt-faults")
    srv.start()
    yield srv
    if srv.running:
        srv.stop()


def misbehaving(server, mode: str, timeout: int = 10):
    lam, _ = clients(server)
    name = unique_name(f"rt-{mode}")
    lam.create_function(FunctionName=name, Runtime="provided.al2023", Role=ROLE, Handler="none",
                        Code={"ZipFile": bootstrap_package(BOOTSTRAP)}, Timeout=timeout,
                        Environment={"Variables": {"MODE": mode}})
    return lam, name


def test_a_runtime_that_answers_twice_keeps_the_first_answer(runtime_server):
    lam, name = misbehaving(runtime_server, "twice")
    first = json.loads(lam.invoke(FunctionName=name)["Payload"].read())
    assert first == {"answer": "first", "previous_second": None}
    # The environment is reused: the second answer was refused (InvalidRequestID).
    second = json.loads(lam.invoke(FunctionName=name)["Payload"].read())
    assert second == {"answer": "first", "previous_second": 400}


def test_a_runtime_answering_for_another_request_id_is_refused(runtime_server):
    lam, name = misbehaving(runtime_server, "other-id")
    resp = lam.invoke(FunctionName=name, LogType="Tail")
    assert json.loads(resp["Payload"].read()) == {"other_id_status": 400}
    assert "InvalidRequestID" in base64.b64decode(resp["LogResult"]).decode()


def test_malformed_runtime_api_requests_get_errors_and_the_invocation_ends(runtime_server):
    lam, name = misbehaving(runtime_server, "malformed", timeout=5)
    resp = lam.invoke(FunctionName=name, LogType="Tail")
    log = base64.b64decode(resp["LogResult"]).decode()
    assert "malformed: [404, 405]" in log, log
    assert resp.get("FunctionError") == "Unhandled"


def test_a_runtime_that_hangs_times_out_and_the_next_invoke_starts_fresh(runtime_server):
    lam, name = misbehaving(runtime_server, "hang", timeout=2)
    resp = lam.invoke(FunctionName=name)
    body = json.loads(resp["Payload"].read())
    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Sandbox.Timedout", body
    resp = lam.invoke(FunctionName=name)
    assert json.loads(resp["Payload"].read())["errorType"] == "Sandbox.Timedout"


def test_a_runtime_that_floods_stdout_still_answers(runtime_server):
    lam, name = misbehaving(runtime_server, "flood", timeout=60)
    resp = lam.invoke(FunctionName=name, LogType="Tail")
    assert json.loads(resp["Payload"].read()) == "flooded"
    tail = base64.b64decode(resp["LogResult"])
    assert len(tail) <= 4096


def test_an_environment_busy_when_its_function_is_deleted_is_not_kept(new_server):
    """DeleteFunction retires idle environments; one busy with an invocation
    at that moment must be retired when the invocation ends, not put back
    (found by the soak test: it lived until the keep-alive ran out)."""
    import hashlib
    from pathlib import Path

    from test_soak import sandbox_cgroups

    srv = new_server(start=False)
    srv.start(args=["serve", "--listen", "127.0.0.1:0", "--data-dir", str(srv.data_dir), *LIGHT])
    tag = hashlib.sha256(os.fsencode(str(Path(srv.data_dir).resolve()))).hexdigest()[:12]
    baseline = len(sandbox_cgroups(tag))
    lam, _ = clients(srv)
    sleeper = make_zip({"app.py": "import time\ndef handler(e, c):\n    time.sleep(2)\n    return 'done'\n"})
    for i in range(3):
        name = f"busy-{i}"
        lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                            Code={"ZipFile": sleeper}, Timeout=30)
        result = {}
        t = threading.Thread(target=lambda: result.update(r=clients(srv)[0].invoke(FunctionName=name)))
        t.start()
        deadline = time.monotonic() + 20
        while len(sandbox_cgroups(tag)) <= baseline and time.monotonic() < deadline:
            time.sleep(0.05)  # until its environment exists
        lam.delete_function(FunctionName=name)
        t.join(timeout=60)
        assert json.loads(result["r"]["Payload"].read()) == "done"
    deadline = time.monotonic() + 30
    while len(sandbox_cgroups(tag)) > baseline and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(sandbox_cgroups(tag)) == baseline, "an environment of a deleted function was kept"


def test_deleting_a_function_releases_every_versions_package(new_server):
    """DeleteFunction removed only `$LATEST`'s stored package; the published
    versions' stayed until the next start's garbage collection (found by the
    soak test)."""
    from pathlib import Path

    srv = new_server(start=False)
    srv.start(args=["serve", "--listen", "127.0.0.1:0", "--data-dir", str(srv.data_dir), *LIGHT])
    lam, _ = clients(srv)
    blobs = Path(srv.data_dir) / "blobs"
    stored = lambda: sorted(p for p in blobs.rglob("*") if p.is_file())  # noqa: E731
    before = stored()
    lam.create_function(FunctionName="versions-gone", Runtime="python3.12", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": package("v1")}, Publish=True)
    for tag in ("v2", "v3"):
        lam.update_function_code(FunctionName="versions-gone", ZipFile=package(tag), Publish=True)
    assert len(stored()) == len(before) + 3, stored()
    lam.delete_function(FunctionName="versions-gone")
    assert stored() == before, f"packages left after DeleteFunction: {sorted(set(stored()) - set(before))}"
