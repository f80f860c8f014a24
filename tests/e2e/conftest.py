"""Pytest fixtures for the end-to-end suite: the real lambdabox binary and clients of it.

A session-wide server serves most tests (each picks unique function names);
tests that need an empty server, restarts or kills get their own through
`new_server` / `fresh`. Every server must exit 0 on SIGTERM at teardown.
Helpers (clients, zip builders, error assertions) live in `support.py`.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from support import REGION, Server


@pytest.fixture(scope="session", autouse=True)
def sandbox_can_reach_data_dirs(tmp_path_factory):
    """Execution environments open their code as an unprivileged user, so
    every directory above a data dir must let others traverse it (not list
    it): pytest makes its temporary directories 0700."""
    base = tmp_path_factory.getbasetemp()
    for d in (base, base.parent):
        d.chmod(d.stat().st_mode | 0o011)


@pytest.fixture(scope="session")
def server_logs(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("server-logs")


@pytest.fixture(scope="session")
def server(tmp_path_factory, server_logs):
    """The shared server most tests use (each test picks unique function names)."""
    srv = Server(tmp_path_factory.mktemp("shared-data"), server_logs, name="shared").start()
    yield srv
    if srv.running:
        srv.stop()


@pytest.fixture
def new_server(tmp_path, server_logs):
    """Factory for fresh servers with their own data dirs; each must exit 0 on SIGTERM at teardown."""
    servers: list[Server] = []

    def make(start: bool = True, data_dir: Path | None = None) -> Server:
        idx = len(servers)
        d = data_dir or tmp_path / f"data-{idx}"
        d.mkdir(parents=True, exist_ok=True)
        srv = Server(d, server_logs, name=f"{tmp_path.name}-{idx}")
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
