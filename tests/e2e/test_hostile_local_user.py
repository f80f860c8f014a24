"""What other users of the machine, and functions, can reach of one another
(issue #13, findings 7 and 8).

7. The databases (holding function environment variables), S3 object files,
   queued payloads and logs were created 0644 under 0755 directories: any
   local user could read them. Now everything the server writes is 0600 in
   0700 directories; what sandboxes must read (unpacked code, the empty /opt)
   is open to the sandbox group only, along its own path.
8. Every sandbox ran as one host uid, so per-user kernel limits were shared:
   one function holding 128 inotify instances made another's inotify_init
   fail. Now each environment has its own host uid (from
   1879048192:65536 by default; the first id owns unpacked code and is the
   sandboxes' group).
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from invoke_support import create, invoke, py_package
from support import unique_name

FIRST_ID = 1_879_048_192

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="per-environment uids and a second local user need root")


def populate(srv) -> dict:
    """A function with a secret in its environment, a queued event, an S3 object and logs."""
    import boto3

    lam = srv.client()
    name = create(
        lam,
        py_package("def handler(event, context):\n    print('log line', event)\n    return event\n"),
        Environment={"Variables": {"SECRET": "hunter2"}},
    )
    assert invoke(lam, name, {"a": 1}).ok() == {"a": 1}
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"queued": "secret payload"}).encode())
    s3 = boto3.client(
        "s3", endpoint_url=srv.url, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    )
    bucket = unique_name("private")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"object body")
    return {"name": name}


def as_nobody(*argv: str) -> subprocess.CompletedProcess:
    def drop():
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)

    return subprocess.run(list(argv), preexec_fn=drop, capture_output=True, text=True, timeout=30)


def work_dirs(srv) -> list[Path]:
    """Where the server keeps what sandboxes read: the data dir, or its own dir under /tmp."""
    import hashlib

    own = hashlib.sha256(str(srv.data_dir.resolve()).encode()).hexdigest()[:12]
    tmp = Path(tempfile.gettempdir()) / f"lambdabox-{own}"
    return [srv.data_dir] + ([tmp] if tmp.is_dir() else [])


def test_nothing_the_server_writes_is_readable_by_other_users(fresh):
    populate(fresh)
    time.sleep(0.5)  # the queued event runs; logs are flushed at the end of each invocation
    data = fresh.data_dir
    sandbox_tree = {"code", "runtime", "empty", "staging"}
    problems = []
    for root, dirs, files in os.walk(data):
        rel = Path(root).relative_to(data)
        top = rel.parts[0] if rel.parts else ""
        for entry in [Path(root) / d for d in dirs] + [Path(root) / f for f in files]:
            mode = stat.S_IMODE(entry.lstat().st_mode)
            if entry.is_symlink():
                continue
            first = entry.relative_to(data).parts[0]
            if first in sandbox_tree or top in sandbox_tree:
                if first == "runtime" or top == "runtime":
                    continue  # the runtime clients are public code
                if mode & 0o007:
                    problems.append(f"{entry}: {oct(mode)} (others)")
            elif mode & 0o077:
                problems.append(f"{entry}: {oct(mode)}")
    assert stat.S_IMODE(data.stat().st_mode) & 0o007 == 0, oct(data.stat().st_mode)
    assert not problems, problems
    # Checked as a real other user too.
    for target in ["lambdabox.db", "queue.db", "gateway.db", "s3/meta.db"]:
        assert as_nobody("cat", str(data / target)).returncode != 0, target
    assert as_nobody("ls", str(data)).returncode != 0
    logs = list((data / "logs").rglob("*.log"))
    assert logs and all(as_nobody("cat", str(p)).returncode != 0 for p in logs)
    codes = [code for work in work_dirs(fresh) for code in (work / "code").glob("*/app.py")]
    assert codes, "no unpacked code found"
    for code in codes:
        assert as_nobody("cat", str(code)).returncode != 0, code
        assert code.stat().st_uid == FIRST_ID and code.stat().st_gid == FIRST_ID


def test_an_old_data_dir_is_tightened_at_start(new_server, data_dir_path):
    srv = new_server(start=True)
    populate(srv)
    srv.stop()
    # As an earlier version left it.
    os.chmod(srv.data_dir, 0o755)
    for name in ["lambdabox.db", "queue.db", "gateway.db"]:
        os.chmod(srv.data_dir / name, 0o644)
    os.chmod(srv.data_dir / "logs", 0o755)
    srv.start()
    assert stat.S_IMODE(srv.data_dir.stat().st_mode) & 0o007 == 0
    for name in ["lambdabox.db", "queue.db", "gateway.db"]:
        assert stat.S_IMODE((srv.data_dir / name).stat().st_mode) == 0o600, name
    assert stat.S_IMODE((srv.data_dir / "logs").stat().st_mode) == 0o700


HOLDER = """
    import ctypes, os, time
    libc = ctypes.CDLL(None, use_errno=True)

    def handler(event, context):
        held, err = [], None
        for _ in range(event["count"]):
            fd = libc.inotify_init()
            if fd < 0:
                err = os.strerror(ctypes.get_errno())
                break
            held.append(fd)
        time.sleep(event["hold"])
        for fd in held:
            os.close(fd)
        return {"held": len(held), "error": err}
"""


def sandbox_uids() -> set[int]:
    """Host uids of running processes in the sandbox range."""
    uids = set()
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                line = next(l for l in Path(f"/proc/{pid}/status").read_text().splitlines() if l.startswith("Uid:"))
            except (OSError, StopIteration):
                continue
            uid = int(line.split()[1])
            if FIRST_ID < uid < FIRST_ID + 65536:
                uids.add(uid)
    return uids


def test_per_user_kernel_limits_are_per_environment(fresh):
    lam = fresh.client()
    hog = create(lam, py_package(HOLDER), Timeout=30)
    other = create(lam, py_package(HOLDER), Timeout=30)
    result = {}
    hogging = threading.Thread(target=lambda: result.setdefault("hog", invoke(fresh.client(), hog, {"count": 128, "hold": 6})))
    hogging.start()
    time.sleep(2.5)
    uids_while_running = sandbox_uids()
    second = invoke(lam, other, {"count": 8, "hold": 0}).ok()
    hogging.join(timeout=60)
    first = result["hog"].ok()
    assert first["held"] == 128, first
    assert second == {"held": 8, "error": None}, f"another function's inotify_init failed: {second}"
    # The environments (and the spare sandboxes and zygotes) each have a uid.
    assert len(uids_while_running) >= 3, uids_while_running
    assert FIRST_ID not in uids_while_running


def test_a_custom_range_is_used(new_server, data_dir_path):
    srv = new_server(start=False)
    srv.start(args=["serve", "--listen", "127.0.0.1:0", "--data-dir", str(srv.data_dir), "--sandbox-ids", "1900000000:100"])
    lam = srv.client()
    name = create(lam, py_package("import os\ndef handler(e, c):\n    return [os.getuid(), os.getgid()]\n"))
    assert invoke(lam, name).ok() == [993, 990]
    uids = {u for u in range(1_900_000_001, 1_900_000_100)}
    running = set()
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                line = next(l for l in Path(f"/proc/{pid}/status").read_text().splitlines() if l.startswith("Uid:"))
            except (OSError, StopIteration):
                continue
            running.add(int(line.split()[1]))
    assert running & uids, "no sandbox runs in the configured range"
