"""Resource exhaustion from inside and outside (issue #13, findings 2, 4, 5, 6).

2. A function opened ~20,000 connections to its own Runtime API and filled the
   server's descriptor table: everything hung. Now each environment's Runtime
   API serves at most 64 connections (the rest wait in the kernel's backlog),
   sandboxes get AWS's per-process limits (1,024 open files, 1,024 processes),
   and the server raises its own limit at start.
4. A function printing 1 GiB grew the server by 1.3 GiB and the log had no
   bound. Now only a 4 KB tail is held; an invocation may print 16 MB here
   (`--log-max-per-invocation`), a function's streams hold 48 MB
   (`--log-quota-per-function`), and the log says how much was dropped.
5. Connections with half-sent headers, or none, stayed open for ever. Now the
   header timeout (4 s here) closes them, a body that stalls fails after the
   body timeout, connections past the cap are closed at once, and a body over
   its limit gets AWS's 413 rather than a reset.
6. Every route buffered 72 MB bodies. Now only CreateFunction,
   UpdateFunctionCode and PublishLayerVersion take large bodies, within a
   shared memory budget; everything else is refused past 1 MiB.

A canary function is invoked (and the control plane asked) all through each
attack from a background thread; every one of its calls must succeed.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from invoke_support import create, figure, invoke, py_package
from support import ROLE, Server, aws_error, lambda_client, unique_name

MiB = 1024 * 1024
MAX_CONNECTIONS = 400


@pytest.fixture(scope="module")
def srv(data_root, server_logs):
    data = data_root / f"hostile-resources-{uuid.uuid4().hex[:8]}"
    server = Server(data, server_logs, name=data.name)
    server.start(
        args=[
            "serve", "--listen", "127.0.0.1:0", "--data-dir", str(data),
            "--http-header-timeout", "4", "--http-body-timeout", "8",
            "--max-connections", str(MAX_CONNECTIONS),
            "--log-quota-per-function", "48M", "--log-max-per-invocation", "16M",
        ]
    )
    yield server
    if server.running:
        server.stop()


@pytest.fixture(scope="module")
def lam(srv):
    return srv.client()


class Canary:
    """Invokes an innocent function and reads the control plane in a loop."""

    def __init__(self, srv: Server, name: str):
        self.client = lambda_client(srv.url)
        self.name = name
        self.ok = 0
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        n = 0
        while not self._stop.is_set():
            n += 1
            try:
                resp = self.client.invoke(FunctionName=self.name, Payload=json.dumps({"n": n}).encode())
                body = json.loads(resp["Payload"].read())
                assert body == {"canary": n}, body
                self.client.get_function_configuration(FunctionName=self.name)
                self.ok += 1
            except Exception as e:  # noqa: BLE001 - every failure is reported
                self.failures.append(f"{type(e).__name__}: {e}")
            self._stop.wait(0.05)

    def __enter__(self) -> "Canary":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=60)
        assert not self._thread.is_alive(), "the canary hung"
        assert not self.failures, f"the canary failed {len(self.failures)} times: {self.failures[:5]}"
        assert self.ok >= 3, f"the canary got only {self.ok} answers"


@pytest.fixture(scope="module")
def canary_fn(lam):
    return create(lam, py_package("def handler(event, context):\n    return {'canary': event['n']}\n"), name=unique_name("canary"))


def server_fds(srv: Server) -> int:
    return len(os.listdir(f"/proc/{srv.proc.pid}/fd"))


def status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def reset_peak_rss(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")


# -- finding 2: the Runtime API flood ---------------------------------------------------

FLOOD = """
    import os, resource, socket, time

    def handler(event, context):
        host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
        children = []
        for _ in range(event["children"]):
            pid = os.fork()
            if pid == 0:
                held = []
                try:
                    for _ in range(event["per_child"]):
                        s = socket.socket()
                        s.setblocking(False)
                        try:
                            s.connect((host, int(port)))
                        except BlockingIOError:
                            pass
                        held.append(s)
                except OSError:
                    pass
                time.sleep(event["hold"])
                os._exit(0)
            children.append(pid)
        time.sleep(event["hold"] + 0.5)
        for pid in children:
            os.waitpid(pid, 0)
        return {"nofile": list(resource.getrlimit(resource.RLIMIT_NOFILE)),
                "nproc": list(resource.getrlimit(resource.RLIMIT_NPROC)), "children": len(children)}
"""


def test_a_runtime_api_connection_flood_does_not_reach_the_server(srv, lam, canary_fn):
    flood = create(lam, py_package(FLOOD), MemorySize=1024, Timeout=60)
    before = server_fds(srv)
    peak = before
    result: dict = {}

    def run() -> None:
        result["r"] = invoke(lambda_client(srv.url), flood, {"children": 22, "per_child": 1000, "hold": 8})

    with Canary(srv, canary_fn):
        attacker = threading.Thread(target=run)
        attacker.start()
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline:
            peak = max(peak, server_fds(srv))
            time.sleep(0.2)
        # The control plane and other functions' cold starts work meanwhile.
        other = create(lam, py_package("def handler(e, c):\n    return 'cold'\n"))
        assert invoke(lam, other).ok() == "cold"
        attacker.join(timeout=90)
    out = result["r"].ok()
    assert out["nofile"] == [1024, 1024] and out["nproc"] == [1024, 1024], out
    assert out["children"] == 22
    figure("runtime api flood: server descriptors before / peak", (before, peak))
    assert peak - before < 400, f"the server went from {before} to {peak} descriptors"


# -- finding 4: output ------------------------------------------------------------------

PRINTER = """
    import os, sys

    def handler(event, context):
        chunk = (event["unit"] * (1 << 20))
        if event["newlines"]:
            chunk = chunk[:-1] + "\\n"
        out = os.fdopen(1, "w", closefd=False, buffering=1 << 20)
        for _ in range(event["mib"]):
            out.write(chunk)
        out.flush()
        return "printed"
"""


@pytest.mark.parametrize("newlines", [True, False], ids=["lines", "no newlines"])
def test_printing_a_gib_holds_only_a_tail_and_bounded_disk(srv, lam, canary_fn, newlines):
    name = create(lam, py_package(PRINTER), MemorySize=512, Timeout=120)
    pid = srv.proc.pid
    baseline = status_kib(pid, "VmRSS")
    reset_peak_rss(pid)
    with Canary(srv, canary_fn):
        res = invoke(lam, name, {"unit": "x", "newlines": newlines, "mib": 1024})
    assert res.ok() == "printed"
    grown_mib = (status_kib(pid, "VmHWM") - baseline) / 1024
    figure(f"printing 1 GiB ({'lines' if newlines else 'no newlines'}): server peak growth MiB", round(grown_mib, 1))
    assert grown_mib < 200, f"the server's memory grew by {grown_mib:.0f} MiB while a function printed 1 GiB"
    assert len(base64.b64encode(res.log.encode())) <= 4096 * 4 // 3 + 4
    assert "Lambdabox dropped" in res.log and "an invocation may print at most 16777216 bytes" in res.log, res.log[-600:]
    logs = srv.data_dir / "logs" / name
    on_disk = sum(p.stat().st_size for p in logs.iterdir())
    assert on_disk < 18 * MiB, f"{on_disk} bytes of log for one invocation"
    # Later invocations fill the function's quota; its oldest streams go.
    for _ in range(4):
        invoke(lam, name, {"unit": "y", "newlines": True, "mib": 15})
        update = lam.update_function_configuration(FunctionName=name, Description=uuid.uuid4().hex)
        assert update["Description"]
    total = sum(p.stat().st_size for p in logs.iterdir())
    assert total <= 48 * MiB + MiB, f"{total} bytes of log for a function with a 48 MiB quota"


# -- finding 5: connections -------------------------------------------------------------


def open_raw(srv: Server, data: bytes = b"") -> socket.socket:
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    if data:
        s.sendall(data)
    return s


def closed_by_server(s: socket.socket, within: float) -> bool:
    s.settimeout(within)
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def test_half_sent_headers_and_silent_connections_are_closed(srv, canary_fn):
    with Canary(srv, canary_fn):
        half = [open_raw(srv, b"GET /2015-03-31/functions HTTP/1.1\r\nHost: x\r\nX-Slow: ") for _ in range(150)]
        silent = [open_raw(srv) for _ in range(150)]
        time.sleep(0.5)
        # Still open before the header timeout ...
        assert not closed_by_server(half[0], 0.1)
        # ... and every one closed by the server after it.
        assert all(closed_by_server(s, 10) for s in half + silent)
    for s in half + silent:
        s.close()


def test_a_stalled_body_fails_after_the_body_timeout(srv, lam, canary_fn):
    name = create(lam, py_package("def handler(e, c):\n    return e\n"))
    with Canary(srv, canary_fn):
        s = open_raw(
            srv,
            f"POST /2015-03-31/functions/{name}/invocations HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{{\"a\":".encode(),
        )
        started = time.monotonic()
        s.settimeout(15)
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
        assert time.monotonic() - started < 14, "a stalled body kept its connection"
        # Answered in AWS's shape before the close: a 408 that SDKs retry.
        assert answer.startswith(b"HTTP/1.1 408"), answer[:300]
        assert b"RequestTimeoutException" in answer
        s.close()


def test_connections_past_the_cap_are_closed_and_service_resumes(srv, canary_fn):
    held = [open_raw(srv) for _ in range(MAX_CONNECTIONS)]
    extra = [open_raw(srv) for _ in range(20)]
    assert sum(closed_by_server(s, 2) for s in extra) >= 10, "connections past the cap were kept"
    for s in held + extra:
        s.close()
    with Canary(srv, canary_fn):
        time.sleep(1)


def test_an_oversized_body_gets_awss_413_not_a_reset(srv, lam):
    name = create(lam, py_package("def handler(e, c):\n    return e\n"))
    # Through boto3: a 2 MiB UpdateFunctionConfiguration (1 MiB is the limit).
    with aws_error(lam, "RequestEntityTooLargeException", 413) as e:
        lam.update_function_configuration(FunctionName=name, Description="d" * (2 * MiB))
    assert "Request must be smaller than 1048576 bytes for the UpdateFunctionConfiguration operation" in e.message
    # An Invoke payload over 6 MB.
    with aws_error(lam, "RequestTooLargeException", 413):
        lam.invoke(FunctionName=name, Payload=b'"' + b"x" * (7 * MiB) + b'"')
    # Chunked, with no Content-Length: cut where it passes the limit.
    s = open_raw(srv, f"PUT /2015-03-31/functions/{name}/configuration HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".encode())
    chunk = b"a" * 65536
    try:
        for _ in range(40):
            s.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    except (BrokenPipeError, ConnectionResetError):
        pass
    s.settimeout(10)
    head = s.recv(65536)
    assert head.startswith(b"HTTP/1.1 413"), head[:200]
    s.close()


# -- finding 6: large bodies only where AWS allows them ---------------------------------


def test_large_bodies_only_where_allowed_and_within_a_memory_budget(srv, lam, canary_fn):
    name = create(lam, py_package("def handler(e, c):\n    return e\n"))
    arn = lam.get_function_configuration(FunctionName=name)["FunctionArn"]
    pid = srv.proc.pid
    baseline = status_kib(pid, "VmRSS")
    reset_peak_rss(pid)
    body = json.dumps({"Tags": {"k": "v" * (70 * MiB)}}).encode()
    with Canary(srv, canary_fn):
        def oversized(i: int) -> int:
            path = f"/2017-03-31/tags/{arn}" if i % 2 else f"/2015-03-31/functions/{name}/configuration"
            method = "POST" if i % 2 else "PUT"
            s = open_raw(srv, f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n".encode())
            try:
                s.sendall(body)
            except (BrokenPipeError, ConnectionResetError):
                pass
            s.settimeout(30)
            head = s.recv(200)
            s.close()
            return int(head.split()[1])

        with ThreadPoolExecutor(24) as pool:
            statuses = list(pool.map(oversized, range(24)))
        assert statuses == [413] * 24, statuses

        # 12 concurrent CreateFunction calls of 60 MB each (not zips: refused
        # after reading) are held to the budget.
        junk = base64.b64encode(os.urandom(45 * MiB)).decode()

        def upload(i: int) -> str:
            client = lambda_client(srv.url)
            try:
                client.create_function(
                    FunctionName=unique_name("big"), Runtime="python3.12", Role=ROLE, Handler="app.handler",
                    Code={"ZipFile": base64.b64decode(junk)},
                )
                return "created"
            except client.exceptions.InvalidParameterValueException:
                return "refused"
            except client.exceptions.TooManyRequestsException:
                return "throttled"

        with ThreadPoolExecutor(12) as pool:
            outcomes = list(pool.map(upload, range(12)))
    assert set(outcomes) <= {"refused", "throttled"} and "refused" in outcomes, outcomes
    grown_mib = (status_kib(pid, "VmHWM") - baseline) / 1024
    figure("24 x 70 MB refused + 12 x 63 MB uploads: server peak growth MiB", round(grown_mib, 1))
    assert grown_mib < 900, f"the server grew by {grown_mib:.0f} MiB buffering bodies"
