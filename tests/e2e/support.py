"""Helpers for the end-to-end tests of the Lambdabox control plane.

Every test talks to the real `lambdabox` binary, started on a free port (port 0,
the port parsed from its ready line) with a temporary data dir, through real
clients: boto3, the AWS CLI v1, and raw SigV4-signed HTTP requests where the
headers themselves are under test. `Server` runs one process over a data dir
that survives restarts and kills.

The binary is `$LAMBDABOX_BIN`, else `$CARGO_TARGET_DIR/release/lambdabox`,
else `target/release/lambdabox` at the repository root.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import io
import json
import os
import queue
import re
import signal
import stat
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import boto3
import botocore.exceptions
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

REPO_ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "000000000000"
REGION = "us-east-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/lambdabox-test-role"
API = "/2015-03-31"
MiB = 1024 * 1024

READY_RE = re.compile(r"^lambdabox ready: listening on (http://127\.0\.0\.1:(\d+))$")
START_TIMEOUT_S = 30
STOP_TIMEOUT_S = 30

# AWS's documented formats.
LAST_MODIFIED_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

# Keep botocore and the CLI away from any AWS configuration on the machine.
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
for _var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
    os.environ.pop(_var, None)


# --------------------------------------------------------------------------
# The server process
# --------------------------------------------------------------------------


def binary_path() -> Path:
    explicit = os.environ.get("LAMBDABOX_BIN")
    if explicit:
        return Path(explicit)
    target = os.environ.get("CARGO_TARGET_DIR")
    base = Path(target) if target else REPO_ROOT / "target"
    if not base.is_absolute():
        base = REPO_ROOT / base
    return base / "release" / "lambdabox"


class Server:
    """One `lambdabox serve` process over a data dir that outlives restarts."""

    def __init__(self, data_dir: Path, log_dir: Path, name: str = "server"):
        self.binary = binary_path()
        self.data_dir = data_dir
        self.log_dir = log_dir
        self.name = name
        self.proc: subprocess.Popen | None = None
        self.url: str | None = None
        self.port: int | None = None
        self.generation = 0
        self._lines: queue.Queue = queue.Queue()

    # -- starting ----------------------------------------------------------

    def start(self, args: list[str] | None = None, env: dict[str, str] | None = None) -> "Server":
        """Starts the binary and waits for its ready line (event-driven, with a timeout)."""
        assert self.proc is None or self.proc.poll() is not None, "server already running"
        if not self.binary.exists():
            pytest.fail(
                f"lambdabox binary not found at {self.binary}: build it with `cargo build --release` "
                "or point LAMBDABOX_BIN at it"
            )
        if args is None:
            args = ["serve", "--listen", "127.0.0.1:0", "--data-dir", str(self.data_dir)]
        self.generation += 1
        stem = f"{self.name}.{self.generation}"
        self.stdout_log = self.log_dir / f"{stem}.stdout.log"
        self.stderr_log = self.log_dir / f"{stem}.stderr.log"
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("LAMBDABOX_")}
        full_env.setdefault("RUST_BACKTRACE", "1")
        if env:
            full_env.update(env)
        self._lines = queue.Queue()
        with open(self.stderr_log, "wb") as stderr:
            self.proc = subprocess.Popen(
                [str(self.binary), *args],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=stderr,
                env=full_env,
                cwd=self.log_dir,
            )
        threading.Thread(target=self._pump_stdout, args=(self.proc, self._lines), daemon=True).start()
        self.ready_line = self._await_ready()
        return self

    def _pump_stdout(self, proc: subprocess.Popen, lines: queue.Queue) -> None:
        with open(self.stdout_log, "wb") as log:
            for raw in iter(proc.stdout.readline, b""):
                log.write(raw)
                log.flush()
                lines.put(raw.decode("utf-8", "replace").rstrip("\r\n"))
        lines.put(None)  # EOF: the process closed stdout (usually: it exited)

    def _await_ready(self) -> str:
        deadline = time.monotonic() + START_TIMEOUT_S
        seen = []
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.proc.kill()
                self.proc.wait()
                pytest.fail(
                    f"lambdabox printed no ready line within {START_TIMEOUT_S}s; stdout so far: {seen!r}; "
                    f"stderr: {self.stderr_excerpt()}"
                )
            try:
                line = self._lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                rc = self.proc.wait()
                pytest.fail(
                    f"lambdabox exited (code {rc}) before its ready line; stdout: {seen!r}; "
                    f"stderr: {self.stderr_excerpt()}"
                )
            seen.append(line)
            m = READY_RE.match(line)
            if m:
                self.url = m.group(1)
                self.port = int(m.group(2))
                assert self.port != 0, f"ready line names port 0: {line!r}"
                return line

    # -- stopping ----------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal_and_wait(self, sig: int) -> int:
        """Sends `sig` and returns the exit code (negative: killed by a signal)."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail(f"lambdabox did not exit within {STOP_TIMEOUT_S}s of signal {sig}")

    def stop(self) -> int:
        """Clean shutdown: SIGTERM, and the process must exit 0."""
        rc = self.signal_and_wait(signal.SIGTERM)
        assert rc == 0, f"lambdabox exited {rc} on SIGTERM; stderr: {self.stderr_excerpt()}"
        return rc

    def kill9(self) -> int:
        return self.signal_and_wait(signal.SIGKILL)

    def restart(self) -> "Server":
        """Clean stop (asserting exit 0), then start again over the same data dir."""
        if self.running:
            self.stop()
        return self.start()

    def stderr_text(self) -> str:
        try:
            return self.stderr_log.read_text("utf-8", "replace")
        except (OSError, AttributeError):
            return ""

    def stderr_excerpt(self, limit: int = 2500) -> str:
        """The start (where the error is) and the end of stderr, without a whole backtrace."""
        text = self.stderr_text()
        if len(text) <= limit:
            return text
        return text[: limit * 2 // 3] + "\n[...]\n" + text[-limit // 3 :]

    # -- clients -----------------------------------------------------------

    def client(self, region: str = REGION):
        return lambda_client(self.url, region)

    def aws(self, *args, region: str = REGION, check: bool = True) -> "CliResult":
        return run_aws_cli(self.url, *args, region=region, check=check)


# --------------------------------------------------------------------------
# Clients
# --------------------------------------------------------------------------


def lambda_client(endpoint: str, region: str = REGION):
    # parameter_validation=False so out-of-range values reach the server, which
    # must validate them itself (botocore would reject e.g. Timeout=0 locally).
    return boto3.client(
        "lambda",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(
            retries={"total_max_attempts": 1, "mode": "standard"},
            parameter_validation=False,
            connect_timeout=10,
            read_timeout=120,
        ),
    )


def aws_cli_path() -> Path:
    beside = Path(sys.executable).parent / "aws"
    return beside if beside.exists() else REPO_ROOT / ".venv" / "bin" / "aws"


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str

    @property
    def json(self):
        return json.loads(self.stdout) if self.stdout.strip() else None


def aws_cli_env(region: str = REGION) -> dict[str, str]:
    """The environment every AWS CLI run gets: the test credentials, no user config, no retries."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_DEFAULT_REGION=region,
        AWS_PAGER="",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_MAX_ATTEMPTS="1",
        AWS_RETRY_MODE="standard",
    )
    return env


def run_aws_cli(endpoint: str, *args, region: str = REGION, check: bool = True) -> CliResult:
    env = aws_cli_env(region)
    cmd = [str(aws_cli_path()), "lambda", *map(str, args), "--endpoint-url", endpoint, "--output", "json"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    res = CliResult(proc.returncode, proc.stdout, proc.stderr)
    if check:
        assert proc.returncode == 0, f"`aws {' '.join(map(str, args))}` exited {proc.returncode}: {proc.stderr}"
    return res


@dataclass
class RawResponse:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def json(self):
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


def raw_request(
    base_url: str,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    region: str = REGION,
    sign: bool = True,
) -> RawResponse:
    """One HTTP request, SigV4-signed like an SDK would sign it, with full access to the response headers."""
    hdrs = {"Content-Type": "application/json"} if body is not None else {}
    hdrs.update(headers or {})
    url = base_url + path
    if sign:
        req = AWSRequest(method=method, url=url, data=body or b"", headers=hdrs)
        SigV4Auth(Credentials("test", "test"), "lambda", region).add_auth(req)
        hdrs = dict(req.prepare().headers)
    parsed = urllib.parse.urlsplit(base_url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=hdrs)
        resp = conn.getresponse()
        return RawResponse(resp.status, resp.headers, resp.read())
    finally:
        conn.close()


def download(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as resp:
        assert resp.status == 200, f"GET {url} -> {resp.status}"
        return resp.read()


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------


@dataclass
class AwsError:
    code: str
    message: str
    status: int
    headers: dict
    response: dict


@contextmanager
def aws_error(client, code: str, status: int | None = None):
    """Expects the block to raise AWS error `code`.

    Where the Lambda service model defines the error, boto3 must raise its own
    exception class (`client.exceptions.<code>`); otherwise a ClientError with that code.
    """
    box = _ErrBox()
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        yield box
    err = excinfo.value
    got = err.response.get("Error", {}).get("Code")
    assert got == code, f"expected {code}, got {got}: {err.response}"
    modeled = getattr(client.exceptions, code, None)
    if modeled is not None:
        assert isinstance(err, modeled), f"boto3 raised {type(err).__name__}, not client.exceptions.{code}"
    meta = err.response.get("ResponseMetadata", {})
    box.error = AwsError(
        code=got,
        message=err.response.get("Error", {}).get("Message", "") or "",
        status=meta.get("HTTPStatusCode"),
        headers=meta.get("HTTPHeaders", {}),
        response=err.response,
    )
    if status is not None:
        assert box.error.status == status, f"{code}: expected HTTP {status}, got {box.error.status}"
    assert box.error.message, f"{code} carries no message: {err.response}"


class _ErrBox:
    error: AwsError

    @property
    def message(self) -> str:
        return self.error.message


# --------------------------------------------------------------------------
# Functions
# --------------------------------------------------------------------------


def unique_name(prefix: str = "fn") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def code_sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def create_function(client, name: str | None = None, zip_bytes: bytes | None = None, **overrides):
    params = {
        "FunctionName": name or unique_name(),
        "Runtime": "python3.12",
        "Role": ROLE,
        "Handler": "app.handler",
        "Code": {"ZipFile": zip_bytes if zip_bytes is not None else python_zip()},
    }
    params.update(overrides)
    return client.create_function(**params)


def without_metadata(resp: dict) -> dict:
    return {k: v for k, v in resp.items() if k != "ResponseMetadata"}


# --------------------------------------------------------------------------
# Zip archives (in memory, deterministic)
# --------------------------------------------------------------------------

FIXED_DATE = (2020, 1, 1, 0, 0, 0)


def _info(name: str, mode: int = 0o100644, compress: int = zipfile.ZIP_DEFLATED) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
    info.create_system = 3  # Unix, so external_attr carries the mode
    info.external_attr = (mode & 0xFFFF) << 16
    info.compress_type = compress
    return info


def make_zip(files: dict[str, bytes | str], symlinks: dict[str, str] | None = None, compress: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip of `files` (name -> content) and `symlinks` (name -> target), entry names taken verbatim."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, content in files.items():
            zf.writestr(_info(name, compress=compress), content)
        for name, target in (symlinks or {}).items():
            zf.writestr(_info(name, mode=stat.S_IFLNK | 0o777, compress=zipfile.ZIP_STORED), target)
    return buf.getvalue()


def python_zip(body: str | None = None, marker: str | None = None) -> bytes:
    """A small Python deployment package; `marker` makes its bytes (and CodeSha256) unique."""
    src = body or "def handler(event, context):\n    return event\n"
    if marker:
        src += f"\n# {marker}\n"
    return make_zip({"app.py": src})


def empty_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w"):
        pass
    return buf.getvalue()


def big_unzipped_zip(sizes: list[int]) -> bytes:
    """Entries of zeros with the given uncompressed sizes: megabytes unzipped, kilobytes zipped."""
    buf = io.BytesIO()
    chunk = bytes(MiB)
    with zipfile.ZipFile(buf, "w") as zf:
        for i, size in enumerate(sizes):
            with zf.open(_info(f"blob{i}.bin"), "w", force_zip64=True) as out:
                left = size
                while left > 0:
                    n = min(left, MiB)
                    out.write(chunk[:n])
                    left -= n
    return buf.getvalue()


def understated_size_zip(real_size: int, claimed_size: int) -> bytes:
    """A zip bomb whose headers claim `claimed_size` bytes for an entry that inflates to `real_size`."""
    buf = io.BytesIO()
    chunk = bytes(MiB)
    with zipfile.ZipFile(buf, "w") as zf:
        with zf.open(_info("bomb.bin"), "w") as out:
            for _ in range(real_size // MiB):
                out.write(chunk)
    data = bytearray(buf.getvalue())
    assert data[:4] == b"PK\x03\x04"
    data[22:26] = claimed_size.to_bytes(4, "little")  # local header: uncompressed size
    cd = data.rfind(b"PK\x01\x02")
    assert cd > 0
    data[cd + 24 : cd + 28] = claimed_size.to_bytes(4, "little")  # central directory: uncompressed size
    return bytes(data)


def stored_zip_of_size(total_bytes: int) -> bytes:
    """An uncompressed (stored) zip of about `total_bytes`: big on the wire, cheap to make."""
    buf = io.BytesIO()
    payload = total_bytes - 200
    chunk = bytes(MiB)
    with zipfile.ZipFile(buf, "w") as zf:
        with zf.open(_info("payload.bin", compress=zipfile.ZIP_STORED), "w", force_zip64=True) as out:
            left = payload
            while left > 0:
                n = min(left, MiB)
                out.write(chunk[:n])
                left -= n
    return buf.getvalue()


def aws_client(server, service: str, key: str = "test", secret: str = "test", token: str | None = None, **config):
    """A boto3 client of `service` on `server`, signed with `key` (the root's `test`/`test` by default), no retries."""
    return boto3.client(
        service,
        endpoint_url=server.url,
        region_name=REGION,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=Config(retries={"total_max_attempts": 1}, **config),
    )


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.1):
    """Polls what the server does asynchronously until `predicate` returns
    something true or `timeout` seconds pass; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)
