"""Fixtures of the model-generated conformance suite: one server of its own
(operations run here create and delete things), and clients that send what
the suite generates without botocore's client-side validation."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))

from support import Server  # noqa: E402


@pytest.fixture(scope="session")
def conformance_server(tmp_path_factory):
    root = Path(tempfile.mkdtemp(prefix="lambdabox-conformance-"))
    root.chmod(0o711)
    logs = tmp_path_factory.mktemp("conformance-logs")
    srv = Server(root / "data", logs, name="conformance").start()
    yield srv
    if srv.running:
        srv.stop()
    shutil.rmtree(root, ignore_errors=True)


def pytest_terminal_summary(terminalreporter):
    from model import RESULTS

    for service, counts in sorted(RESULTS.items()):
        total = sum(counts.values())
        terminalreporter.write_line(f"conformance {service}: {total} operations answered")
        for outcome, n in counts.most_common():
            terminalreporter.write_line(f"    {n:4d}  {outcome}")
