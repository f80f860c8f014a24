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
