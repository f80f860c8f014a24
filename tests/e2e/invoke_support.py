"""Helpers for the end-to-end Invoke tests (`test_invoke_*.py`): deployment
packages built from source strings, the custom-runtime fixtures of
`crates/lambdabox-test-functions`, the real `awslambdaric` vendored into a
package, and one `invoke()` that returns everything a test asserts on.

The server process and clients come from `support.py`; the data dirs from
conftest's `data_root` (a root the sandbox user can traverse). Each invoke test
module runs its own server (`exec_server`), so warm environments, hostile
functions and their logs stay within the module. Import the fixtures into a
test module to use them: `from invoke_support import exec_server, lam_exec`.

The fixture binaries are found in `$LAMBDABOX_TEST_FUNCTIONS_DIR`, else beside
the server binary (`cargo build --release --workspace` puts both in
`target/release/`).
"""

from __future__ import annotations

import base64
import importlib.metadata
import io
import json
import os
import re
import shutil
import textwrap
import time
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from support import FIXED_DATE, REGION, ROLE, Server, binary_path, unique_name

# AWS's formats, as the tests check them.
LOG_STREAM_RE = re.compile(r"^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$")
REQUEST_ID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
INIT_DURATION_RE = re.compile(r"Init Duration: ([0-9.]+) ms")
DURATION_RE = re.compile(r"\tDuration: ([0-9.]+) ms")

PYTHON_RUNTIME = "python3.11"
NODE_RUNTIME = "nodejs20.x"


# --------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def exec_server(data_root, server_logs, request):
    """A server for this module's invocations, on port 0 with its own data dir."""
    data = data_root / f"{request.module.__name__}-{uuid.uuid4().hex[:8]}"
    srv = Server(data, server_logs, name=data.name).start()
    yield srv
    if srv.running:
        srv.stop()
    shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="module")
def lam_exec(exec_server):
    return exec_server.client(REGION)


# --------------------------------------------------------------------------
# Deployment packages
# --------------------------------------------------------------------------


def _entry(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
    info.create_system = 3  # Unix: external_attr carries the mode
    info.external_attr = (mode & 0xFFFF) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def package(files: dict[str, str | bytes], executables: dict[str, str | bytes] | None = None) -> bytes:
    """A zip of regular files (0644) and executables (0755). Text is dedented."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for mode, entries in ((0o100644, files), (0o100755, executables or {})):
            for name, content in entries.items():
                if isinstance(content, str):
                    content = textwrap.dedent(content).lstrip("\n")
                zf.writestr(_entry(name, mode), content)
    return buf.getvalue()


def py_package(source: str, **more: str) -> bytes:
    """`app.py` (handler `app.handler`) and any further modules."""
    return package({"app.py": source, **more})


def bootstrap_package(bootstrap: bytes | str, files: dict[str, str | bytes] | None = None) -> bytes:
    """A custom-runtime package: `bootstrap` at the root with mode 0755."""
    return package(files or {}, executables={"bootstrap": bootstrap})


def test_functions_dir() -> Path:
    explicit = os.environ.get("LAMBDABOX_TEST_FUNCTIONS_DIR")
    return Path(explicit) if explicit else binary_path().parent


def fixture_binary(name: str) -> bytes:
    """A binary of `crates/lambdabox-test-functions` (e.g. `lambdabox-test-echo`)."""
    path = test_functions_dir() / name
    if not path.is_file():
        pytest.fail(
            f"test function {name} not found at {path}: build it with `cargo build --release --workspace` "
            "or point LAMBDABOX_TEST_FUNCTIONS_DIR at it"
        )
    return path.read_bytes()


def _distribution_files(dist_name: str, seen: set[str], out: dict[str, bytes]) -> None:
    """Copies an installed distribution's files (and its dependencies') into `out`."""
    dist = importlib.metadata.distribution(dist_name)
    key = dist.metadata["Name"].lower().replace("_", "-")
    if key in seen:
        return
    seen.add(key)
    for f in dist.files or []:
        parts = Path(str(f)).parts
        if not parts or parts[0] == ".." or "__pycache__" in parts or parts[0].endswith(".dist-info"):
            continue
        out[str(f)] = Path(dist.locate_file(f)).read_bytes()
    for req in dist.requires or []:
        if "extra ==" in req:
            continue
        name = re.split(r"[\s;<>=!~\[(]", req, maxsplit=1)[0]
        _distribution_files(name, seen, out)


def awslambdaric_package(app_source: str) -> bytes:
    """The real `awslambdaric` from PyPI as a custom runtime.

    The package and its dependencies are copied from this test environment's
    installation (what `pip install --target` would have written, without a
    download): the sandbox's Debian python3.11 has the same cp311 ABI as the
    venv's, so the wheel's C extension loads there.
    """
    try:
        importlib.metadata.distribution("awslambdaric")
    except importlib.metadata.PackageNotFoundError:
        pytest.fail("awslambdaric is not installed in the test environment: run scripts/setup-test-env.sh")
    vendored: dict[str, bytes] = {}
    _distribution_files("awslambdaric", set(), vendored)
    bootstrap = "#!/bin/sh\nexport PYTHONPATH=/var/task\nexec /usr/bin/python3 -m awslambdaric \"$_HANDLER\"\n"
    return package({**vendored, "app.py": app_source}, executables={"bootstrap": bootstrap})


# --------------------------------------------------------------------------
# Functions and invocations
# --------------------------------------------------------------------------


def create(client, zip_bytes: bytes, runtime: str = PYTHON_RUNTIME, handler: str = "app.handler", name: str | None = None, **overrides) -> str:
    """Creates a function and returns its name."""
    name = name or unique_name("inv")
    params = {
        "FunctionName": name,
        "Runtime": runtime,
        "Role": ROLE,
        "Handler": handler,
        "Code": {"ZipFile": zip_bytes},
        "Timeout": 10,
    }
    params.update(overrides)
    resp = client.create_function(**params)
    assert resp["FunctionName"] == name
    return name


@dataclass
class Invoked:
    """One Invoke's answer."""

    status: int
    function_error: str | None
    raw: bytes
    log: str
    executed_version: str | None
    request_id: str | None
    elapsed_s: float = 0.0

    @property
    def payload(self):
        return json.loads(self.raw) if self.raw else None

    @property
    def init_duration_ms(self) -> float | None:
        m = INIT_DURATION_RE.search(self.log)
        return float(m.group(1)) if m else None

    @property
    def duration_ms(self) -> float | None:
        m = DURATION_RE.search(self.log)
        return float(m.group(1)) if m else None

    def ok(self):
        """The payload of a successful invocation (fails the test otherwise)."""
        assert self.status == 200, f"HTTP {self.status}: {self.raw[:2000]!r}"
        assert self.function_error is None, f"function error {self.function_error}: {self.raw[:2000]!r}\nlog:\n{self.log}"
        return self.payload

    def error(self) -> dict:
        """The error document of a failed invocation (fails the test otherwise)."""
        assert self.status == 200, f"HTTP {self.status}: {self.raw[:2000]!r}"
        assert self.function_error == "Unhandled", (
            f"expected X-Amz-Function-Error: Unhandled, got {self.function_error!r}: {self.raw[:2000]!r}\nlog:\n{self.log}"
        )
        body = self.payload
        assert isinstance(body, dict), f"error payload is not an object: {self.raw[:2000]!r}"
        return body


def invoke(client, name: str, event=None, *, raw: bytes | None = None, tail: bool = True, client_context: dict | None = None, qualifier: str | None = None) -> Invoked:
    """A synchronous Invoke through boto3, with the log tail by default."""
    params = {"FunctionName": name, "InvocationType": "RequestResponse"}
    if raw is not None:
        params["Payload"] = raw
    elif event is not None:
        params["Payload"] = json.dumps(event).encode()
    if tail:
        params["LogType"] = "Tail"
    if client_context is not None:
        params["ClientContext"] = base64.b64encode(json.dumps(client_context).encode()).decode()
    if qualifier:
        params["Qualifier"] = qualifier
    started = time.monotonic()
    resp = client.invoke(**params)
    elapsed = time.monotonic() - started
    body = resp["Payload"].read()
    log = base64.b64decode(resp["LogResult"]).decode("utf-8", "replace") if resp.get("LogResult") else ""
    return Invoked(
        status=resp["StatusCode"],
        function_error=resp.get("FunctionError"),
        raw=body,
        log=log,
        executed_version=resp.get("ExecutedVersion"),
        request_id=resp["ResponseMetadata"].get("RequestId"),
        elapsed_s=elapsed,
    )


def log_request_id(log: str) -> str:
    """The request id of the START line of an invocation's log."""
    m = re.search(r"^START RequestId: (\S+) Version: ", log, re.M)
    assert m, f"no START line in the log:\n{log}"
    return m.group(1)


def assert_platform_lines(log: str, request_id: str) -> None:
    """START, END and REPORT for `request_id`, in that order."""
    start = log.find(f"START RequestId: {request_id} Version: $LATEST")
    end = log.find(f"END RequestId: {request_id}")
    report = log.find(f"REPORT RequestId: {request_id}\tDuration: ")
    assert -1 not in (start, end, report) and start < end < report, f"START/END/REPORT missing or out of order:\n{log}"


def dir_size(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_size
            except OSError:
                pass
    return total


def figure(label: str, value) -> None:
    """Prints a measured figure (visible with `pytest -s` or in -rA reports)."""
    print(f"[figure] {label}: {value}")
