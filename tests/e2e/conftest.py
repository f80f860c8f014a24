"""Pytest fixtures for the end-to-end suite: the real lambdabox binary and clients of it.

A session-wide server serves most tests (each picks unique function names);
tests that need an empty server, restarts or kills get their own through
`new_server` / `fresh`. Every server must exit 0 on SIGTERM at teardown.
Helpers (clients, zip builders, error assertions) live in `support.py`.

Data dirs live under one temporary root that other users may traverse (0711):
the server runs functions as an unprivileged user that must reach the code
under the data dir, and refuses a data dir it cannot (pytest's own tmp_path
directories are 0700).
"""

from __future__ import annotations

import shutil
import signal
import tempfile
import uuid
from pathlib import Path

import pytest

from support import REGION, Server


@pytest.fixture(scope="session")
def server_logs(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("server-logs")


@pytest.fixture(scope="session")
def data_root():
    """A root for data dirs that the sandbox user can traverse; removed after the session."""
    root = Path(tempfile.mkdtemp(prefix="lambdabox-e2e-"))
    root.chmod(0o711)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def data_dir_path(data_root, request):
    """A fresh path for a data dir (not created) under the traversable root."""
    return data_root / f"{request.node.name[:40]}-{uuid.uuid4().hex[:8]}".replace("/", "_")


@pytest.fixture(scope="session")
def server(data_root, server_logs):
    """The shared server most tests use (each test picks unique function names)."""
    srv = Server(data_root / "shared", server_logs, name="shared").start()
    yield srv
    if srv.running:
        srv.stop()


@pytest.fixture
def new_server(data_dir_path, server_logs):
    """Factory for fresh servers with their own data dirs; each must exit 0 on SIGTERM at teardown."""
    servers: list[Server] = []

    def make(start: bool = True, data_dir: Path | None = None) -> Server:
        idx = len(servers)
        d = data_dir or data_dir_path.with_name(f"{data_dir_path.name}-{idx}")
        srv = Server(d, server_logs, name=f"{d.name}")
        servers.append(srv)
        return srv.start() if start else srv

    yield make
    failures = []
    for srv in servers:
        if srv.running:
            rc = srv.signal_and_wait(signal.SIGTERM)
            if rc != 0:
                failures.append(f"{srv.name}: exit {rc}: {srv.stderr_excerpt(1000)}")
    if failures:
        pytest.fail("server(s) did not exit 0 on SIGTERM: " + "; ".join(failures))


@pytest.fixture
def fresh(new_server) -> Server:
    """A server of this test's own, with an empty data dir."""
    return new_server()


@pytest.fixture
def lam(server):
    return server.client(REGION)


@pytest.fixture
def lam_west(server):
    return server.client("us-west-2")


# --------------------------------------------------------------------------
# Every response any test receives through boto3 is checked against its
# operation's output shape in botocore's model (tests/conformance/model.py):
# a test whose responses break the contract fails, naming the member.
# --------------------------------------------------------------------------

import sys as _sys  # noqa: E402

_sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "conformance"))

import boto3 as _boto3  # noqa: E402
from model import validate as _validate  # noqa: E402

_VIOLATIONS: list[str] = []


def _check_response(http_response=None, parsed=None, model=None, **_kwargs):
    if model is None or parsed is None or http_response is None or http_response.status_code >= 300:
        return
    body = {k: v for k, v in parsed.items() if k != "ResponseMetadata"}
    for problem in _validate(model.output_shape, body).problems:
        _VIOLATIONS.append(f"{model.service_model.service_name}.{model.name}{problem}")


_boto3.setup_default_session()
_boto3.DEFAULT_SESSION._session.register("after-call", _check_response)


@pytest.fixture(autouse=True)
def responses_match_their_output_shapes():
    _VIOLATIONS.clear()
    yield
    found, _VIOLATIONS[:] = list(_VIOLATIONS), []
    assert not found, f"responses outside their output shape (botocore's model): {found[:10]}"
