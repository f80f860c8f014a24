"""Hostile functions, each contained by its execution environment: after every
one the server still answers, an innocent function still works, and the host
is untouched (it can still fork; its disk, files, network and processes were
out of reach).

These are the sandbox's promises (namespaces, cgroup limits on memory and
pids, a size-limited private /tmp, only `lo` in the network namespace,
seccomp), checked from the outside through Invoke alone.
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from invoke_support import (  # noqa: F401 (fixtures)
    create,
    dir_size,
    exec_server,
    figure,
    invoke,
    lam_exec,
    py_package,
)

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def innocent(lam_exec):
    name = create(lam_exec, py_package("def handler(event, context):\n    return {'innocent': event.get('n')}\n"))
    assert invoke(lam_exec, name, {"n": 0}).ok() == {"innocent": 0}
    return name


def assert_contained(server, lam, innocent: str) -> None:
    """The server, an innocent function and the host all still work."""
    assert server.running, f"the server died: {server.stderr_text()[-2000:]}"
    assert lam.get_function(FunctionName=innocent)["Configuration"]["FunctionName"] == innocent
    n = time.monotonic_ns()
    assert invoke(lam, innocent, {"n": n}).ok() == {"innocent": n}
    # The host can still fork and exec.
    assert subprocess.run(["/bin/true"], timeout=10).returncode == 0


def processes_in_pid_namespace(ns: str) -> list[int]:
    """Host pids of the processes in pid namespace `ns` (`pid:[4026…]`)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.readlink(f"/proc/{entry}/ns/pid") == ns:
                    found.append(int(entry))
            except OSError:
                pass
    return found


def delete_and_assert_no_processes(lam, name: str, ns: str | None) -> None:
    """Deleting a function retires its environments: none of their processes remain."""
    lam.delete_function(FunctionName=name)
    if ns is None:
        return
    left = processes_in_pid_namespace(ns)
    assert left == [], f"{len(left)} processes of {name}'s environment outlived its deletion"


FORK_BOMB = """
    import errno, os, time

    def handler(event, context):
        ns = os.readlink("/proc/self/ns/pid")
        errors = {}
        forked = 0
        end = time.time() + event["seconds"]
        # Fork until fork itself fails (the pids limit), or the deadline.
        while time.time() < end and not errors:
            try:
                pid = os.fork()
            except OSError as e:
                name = errno.errorcode.get(e.errno, str(e.errno))
                errors[name] = errors.get(name, 0) + 1
                continue
            if pid == 0:
                # Every child bombs on (its children too) until fork fails, then holds its pid.
                try:
                    while time.time() < end:
                        try:
                            os.fork()
                        except OSError:
                            break
                    time.sleep(120)
                finally:
                    os._exit(0)
            forked += 1
        return {"forked": forked, "errors": errors, "ns": ns}
"""


def test_fork_bomb(exec_server, lam_exec, innocent):
    name = create(lam_exec, py_package(FORK_BOMB), MemorySize=1024, Timeout=20)
    res = invoke(lam_exec, name, {"seconds": 10})
    figure("fork bomb", res.raw[:300])
    figure("fork bomb invocation s", round(res.elapsed_s, 2))
    if res.function_error is None:
        body = res.ok()
        # Limited: fork failed with EAGAIN once the pids limit was reached.
        assert body["errors"].get("EAGAIN", 0) > 0, body
        ns_procs = processes_in_pid_namespace(body["ns"])
        figure("fork bomb processes in its pid namespace", len(ns_procs))
        assert 0 < len(ns_procs) <= 1024, len(ns_procs)
        ns = body["ns"]
    else:
        # Or the environment was killed (e.g. out of memory): an error, not a crash of the server.
        assert res.error()["errorType"].startswith("Runtime."), res.raw
        ns = None
    assert_contained(exec_server, lam_exec, innocent)
    delete_and_assert_no_processes(lam_exec, name, ns)


MEMORY_BOMB = """
    import threading

    HOARD = []

    def grab():
        while True:
            block = bytearray(16 * 1024 * 1024)
            block[::4096] = b"x" * len(block[::4096])
            HOARD.append(block)

    def handler(event, context):
        threads = [threading.Thread(target=grab, daemon=True) for _ in range(4)]
        for t in threads:
            t.start()
        grab()
"""


def test_memory_bomb(exec_server, lam_exec, innocent):
    name = create(lam_exec, py_package(MEMORY_BOMB), MemorySize=256, Timeout=30)
    res = invoke(lam_exec, name, {})
    err = res.error()
    figure("memory bomb at 256 MB", err)
    assert err["errorType"] in ("Runtime.OutOfMemory", "Runtime.ExitError"), err
    assert "Runtime exited with error: signal: killed" in err["errorMessage"], err
    assert res.elapsed_s < 25, f"the memory bomb ran {res.elapsed_s:.1f} s before it was stopped"
    assert_contained(exec_server, lam_exec, innocent)


FILL_TMP = """
    import errno, os

    def handler(event, context):
        chunk = b"\\xa5" * (1024 * 1024)
        written = 0
        error = None
        try:
            with open("/tmp/fill.bin", "wb") as f:
                while written < event["limit_mb"] * 1024 * 1024:
                    f.write(chunk)
                    f.flush()
                    written += len(chunk)
                os.fsync(f.fileno())
        except OSError as e:
            error = errno.errorcode.get(e.errno, str(e.errno))
        return {"written_mb": written // (1024 * 1024), "error": error}
"""


def test_filling_tmp(exec_server, lam_exec, innocent):
    # Memory above /tmp's size, so the tmpfs (charged to the environment's
    # memory) fills before the memory limit is reached.
    name = create(lam_exec, py_package(FILL_TMP), MemorySize=1024, EphemeralStorage={"Size": 512}, Timeout=30)
    data_before = dir_size(exec_server.data_dir)
    res = invoke(lam_exec, name, {"limit_mb": 4096})
    data_after = dir_size(exec_server.data_dir)
    figure("filling a 512 MB /tmp", res.raw[:300])
    figure("data dir growth bytes", data_after - data_before)
    if res.function_error is None:
        body = res.ok()
        assert body["error"] in ("ENOSPC", "EDQUOT"), body
        assert 400 <= body["written_mb"] <= 512, body
    else:
        err = res.error()
        assert err["errorType"] in ("Runtime.OutOfMemory", "Runtime.ExitError"), err
    # The host's disk is untouched: /tmp is not under the data dir (nor anywhere on disk).
    assert data_after - data_before < 20 * MiB, f"the data dir grew by {(data_after - data_before) / MiB:.0f} MiB"
    assert_contained(exec_server, lam_exec, innocent)
    lam_exec.delete_function(FunctionName=name)  # frees the filled tmpfs


READ_HOST = """
    import errno, os

    def attempt(path):
        try:
            if os.path.isdir(path):
                return {"listed": sorted(os.listdir(path))[:20]}
            with open(path, "rb") as f:
                return {"read": f.read(8192).decode("latin-1")}
        except OSError as e:
            return {"error": errno.errorcode.get(e.errno, str(e.errno))}

    def handler(event, context):
        return {path: attempt(path) for path in event["paths"]}
"""


def test_reading_host_files(exec_server, lam_exec, innocent):
    server_pid = exec_server.proc.pid
    paths = [
        "/etc/shadow",
        "/root",
        str(exec_server.data_dir),
        str(exec_server.data_dir / "lambdabox.db"),
        f"/proc/{server_pid}/environ",
        "/proc/1/environ",
        str(Path(__file__).resolve()),
        str(exec_server.binary),
    ]
    name = create(lam_exec, py_package(READ_HOST))
    seen = invoke(lam_exec, name, {"paths": paths}).ok()
    figure("host paths from inside", {p: (v if "read" not in v else f"read {len(v['read'])} bytes") for p, v in seen.items()})
    for path in ("/etc/shadow", "/root", str(exec_server.data_dir), str(exec_server.data_dir / "lambdabox.db"),
                 str(Path(__file__).resolve()), str(exec_server.binary)):
        assert "error" in seen[path], f"{path} is visible inside the sandbox: {seen[path]}"
    # /proc is the sandbox's own: the server's pid is not there, and pid 1 is
    # not the host's init but the function's own runtime (its environment).
    assert "error" in seen[f"/proc/{server_pid}/environ"], seen
    inside = seen["/proc/1/environ"]
    if "read" in inside:
        assert f"AWS_LAMBDA_FUNCTION_NAME={name}" in inside["read"], inside
    assert_contained(exec_server, lam_exec, innocent)


CONNECT = """
    import errno, socket

    def handler(event, context):
        out = {}
        for host, port in event["targets"]:
            s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
            s.settimeout(3)
            try:
                s.connect((host, port))
                out[f"{host}:{port}"] = "connected"
            except socket.timeout:
                out[f"{host}:{port}"] = "timeout"
            except OSError as e:
                out[f"{host}:{port}"] = errno.errorcode.get(e.errno, str(e.errno))
            finally:
                s.close()
        return out
"""


def _host_addresses() -> list[str]:
    """The host's non-loopback IPv4 addresses (may be none)."""
    try:
        out = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=5).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return []
    return [a for a in out if ":" not in a and not a.startswith("127.")]


def test_host_network_is_unreachable(exec_server, lam_exec, innocent):
    accepted = []
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("0.0.0.0", 0))
    listener.listen(16)
    port = listener.getsockname()[1]
    stop = threading.Event()

    def accept_loop():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, addr = listener.accept()
                accepted.append(addr)
                conn.close()
            except OSError:
                continue

    t = threading.Thread(target=accept_loop, daemon=True)
    t.start()
    try:
        # Prove the listener works from the host first.
        socket.create_connection(("127.0.0.1", port), timeout=3).close()
        deadline = time.monotonic() + 5
        while not accepted and time.monotonic() < deadline:
            time.sleep(0.01)
        assert accepted, "the host-side listener does not accept"
        accepted.clear()

        targets = [["127.0.0.1", port], ["127.0.0.1", exec_server.port]]
        targets += [[addr, port] for addr in _host_addresses()]
        name = create(lam_exec, py_package(CONNECT), Timeout=20)
        seen = invoke(lam_exec, name, {"targets": targets}).ok()
        figure("connections from inside", seen)
    finally:
        stop.set()
        t.join(5)
        listener.close()
    assert accepted == [], f"the sandbox reached the host's listener: {accepted}"
    for target, outcome in seen.items():
        assert outcome in ("ECONNREFUSED", "ENETUNREACH", "EHOSTUNREACH", "timeout"), f"{target}: {outcome}"
    # 127.0.0.1 inside is the sandbox's own loopback: nothing listens on the host's ports there.
    assert seen[f"127.0.0.1:{port}"] == "ECONNREFUSED"
    assert_contained(exec_server, lam_exec, innocent)


KILL = """
    import errno, os, signal

    def attempt(fn):
        try:
            fn()
            return "ok"
        except OSError as e:
            return errno.errorcode.get(e.errno, str(e.errno))

    def handler(event, context):
        pid = event["server_pid"]
        return {
            "probe_server": attempt(lambda: os.kill(pid, 0)),
            "kill_server": attempt(lambda: os.kill(pid, signal.SIGKILL)),
            "kill_host_init": attempt(lambda: os.kill(1, signal.SIGKILL)) if os.getpid() != 1 else "self",
            "kill_everything_visible": attempt(lambda: os.kill(-1, signal.SIGKILL)),
            "my_pid": os.getpid(),
        }
"""


def test_killing_processes_outside(exec_server, lam_exec, innocent):
    server_pid = exec_server.proc.pid
    name = create(lam_exec, py_package(KILL))
    res = invoke(lam_exec, name, {"server_pid": server_pid})
    figure("kill attempts", res.raw[:400])
    # kill(-1) may take the runtime's own helpers with it; then it is an error, not a server crash.
    if res.function_error is None:
        body = res.ok()
        if body["my_pid"] != server_pid:
            assert body["probe_server"] in ("ESRCH", "EPERM"), body
            assert body["kill_server"] in ("ESRCH", "EPERM"), body
    assert exec_server.running, "the function killed the server"
    os.kill(server_pid, 0)
    assert_contained(exec_server, lam_exec, innocent)


def test_infinite_loop_times_out(exec_server, lam_exec, innocent):
    src = "def handler(event, context):\n    while True:\n        pass\n"
    name = create(lam_exec, py_package(src), Timeout=2)
    res = invoke(lam_exec, name, {})
    err = res.error()
    assert err["errorType"] == "Sandbox.Timedout", err
    assert err["errorMessage"].endswith("Task timed out after 2.00 seconds"), err
    assert res.elapsed_s < 6, f"{res.elapsed_s:.1f} s"
    assert_contained(exec_server, lam_exec, innocent)


ESCALATE = """
    import ctypes, errno, os, stat

    libc = ctypes.CDLL(None, use_errno=True)

    def attempt(fn):
        try:
            fn()
            return "ok"
        except OSError as e:
            return errno.errorcode.get(e.errno, str(e.errno))

    def call(fn, *args):
        return "ok" if fn(*args) == 0 else errno.errorcode.get(ctypes.get_errno(), "?")

    def in_child(fn):
        # For calls that would change the runtime process itself.
        pid = os.fork()
        if pid == 0:
            try:
                os._exit(0 if fn() == "ok" else 1)
            finally:
                os._exit(2)
        return "ok" if os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0 else "refused"

    CLONE_NEWUSER, CLONE_NEWNS = 0x10000000, 0x00020000

    def handler(event, context):
        status = dict(
            (line.split(":", 1)[0], line.split(":", 1)[1].strip())
            for line in open("/proc/self/status")
            if line.startswith(("CapEff", "CapPrm", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp:"))
        )
        return {
            "status": status,
            "uid": os.getuid(),
            "setuid0": in_child(lambda: attempt(lambda: os.setuid(0))),
            "mount": call(libc.mount, b"none", b"/tmp", b"tmpfs", ctypes.c_ulong(0), None),
            "remount_task_rw": call(libc.mount, None, b"/var/task", None, ctypes.c_ulong(32 | 4096), None),
            "mknod_block": attempt(lambda: os.mknod("/tmp/disk", stat.S_IFBLK | 0o600, os.makedev(254, 0))),
            "chroot": in_child(lambda: attempt(lambda: os.chroot("/tmp"))),
            "unshare_user_mount": in_child(lambda: call(libc.unshare, CLONE_NEWUSER | CLONE_NEWNS)),
        }
"""


def test_privilege_escalation_is_refused(exec_server, lam_exec, innocent):
    name = create(lam_exec, py_package(ESCALATE))
    body = invoke(lam_exec, name, {}).ok()
    figure("escalation attempts", body)
    status = body["status"]
    for cap in ("CapEff", "CapPrm", "CapAmb"):
        assert int(status[cap], 16) == 0, f"{cap} {status[cap]}"
    assert status["NoNewPrivs"] == "1", status
    assert status["Seccomp"] == "2", "no seccomp filter"
    assert body["uid"] != 0
    assert body["setuid0"] == "refused"
    for attempt in ("mount", "remount_task_rw", "mknod_block"):
        assert body[attempt] in ("EPERM", "EACCES"), f"{attempt}: {body[attempt]}"
    assert body["chroot"] == "refused"
    assert body["unshare_user_mount"] == "refused"
    assert_contained(exec_server, lam_exec, innocent)


SOCKET_FAMILIES = """
    import errno, socket

    def handler(event, context):
        def attempt(family, kind, bind=None):
            try:
                s = socket.socket(family, kind)
            except OSError as e:
                return errno.errorcode.get(e.errno, str(e.errno))
            try:
                if bind is not None:
                    s.bind(bind)
                return "ok"
            except OSError as e:
                return "made, then " + errno.errorcode.get(e.errno, str(e.errno))
            finally:
                s.close()
        # AF_VSOCK (40) bound to any CID on a port, as the finding did; the
        # others by number: AF_PACKET, AF_BLUETOOTH, AF_ALG, AF_KEY, AF_CAN,
        # AF_TIPC, AF_XDP, AF_RDS, AF_LLC, AF_IUCV, AF_QIPCRTR, AF_SMC.
        vsock = attempt(40, socket.SOCK_STREAM, (0xFFFFFFFF, 5005))
        others = {f: attempt(f, socket.SOCK_DGRAM) for f in (17, 31, 38, 15, 29, 30, 44, 21, 26, 32, 42, 43)}
        others.update({f"{f}/stream": attempt(f, socket.SOCK_STREAM) for f in (17, 38, 44, 43)})
        allowed = {
            "unix": attempt(socket.AF_UNIX, socket.SOCK_STREAM),
            "inet": attempt(socket.AF_INET, socket.SOCK_STREAM, ("127.0.0.1", 0)),
            "inet6": attempt(socket.AF_INET6, socket.SOCK_DGRAM),
            "netlink": attempt(socket.AF_NETLINK, socket.SOCK_RAW),
        }
        return {"vsock": vsock, "others": sorted(set(others.values())), "allowed": allowed}
"""


def test_socket_families_beyond_unix_inet_and_netlink_are_refused(exec_server, lam_exec, innocent):
    """Finding 3 of #13: AF_VSOCK reached the hypervisor; every other family is EAFNOSUPPORT."""
    name = create(lam_exec, py_package(SOCKET_FAMILIES))
    result = invoke(lam_exec, name).ok()
    assert result["vsock"] == "EAFNOSUPPORT", result
    assert result["others"] == ["EAFNOSUPPORT"], result
    assert result["allowed"] == {"unix": "ok", "inet": "ok", "inet6": "ok", "netlink": "ok"}, result
    # The host can still bind the vsock port the function tried to take.
    if os.path.exists("/dev/vsock"):
        try:
            s = socket.socket(40, socket.SOCK_STREAM)
        except OSError:
            pass  # the host kernel has no vsock transport
        else:
            s.bind((0xFFFFFFFF, 5005))
            s.close()
    assert_contained(exec_server, lam_exec, innocent)
