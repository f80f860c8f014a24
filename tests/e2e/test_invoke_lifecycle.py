"""The life of an execution environment: frozen between invocations and thawed
for the next, replaced after a timeout, a crash or running out of memory,
failing INIT reported as such, and one environment per concurrent invocation.

AWS: "Lambda execution environment lifecycle" (freeze between invocations,
reset after a timeout or a crash), "Configure Lambda function timeout",
"Lambda function scaling" (one environment per concurrent request), and the
runtime error types of "Invoke" (Sandbox.Timedout, Runtime.ExitError,
Runtime.OutOfMemory).
"""

from __future__ import annotations

import concurrent.futures

import pytest
import time

from invoke_support import (  # noqa: F401 (fixtures)
    create,
    exec_server,
    figure,
    invoke,
    lam_exec,
    log_request_id,
    py_package,
)

COUNTER = """
    import os, time

    COUNT = 0

    def handler(event, context):
        global COUNT
        COUNT += 1
        if event.get("sleep"):
            time.sleep(event["sleep"])
        if "exit" in event:
            os._exit(event["exit"])
        if event.get("allocate_mb"):
            blocks = []
            for _ in range(event["allocate_mb"]):
                blocks.append(bytearray(1024 * 1024))
                blocks[-1][::4096] = b"x" * len(blocks[-1][::4096])
            return {"allocated": len(blocks)}
        return {"count": COUNT, "pid": os.getpid(), "stream": context.log_stream_name}
"""


# -- freeze and thaw ---------------------------------------------------------

TICKER = """
    import threading, time

    TICKS = 0

    def _tick():
        global TICKS
        while True:
            time.sleep(0.01)
            TICKS += 1

    threading.Thread(target=_tick, daemon=True).start()

    def handler(event, context):
        before = TICKS
        if event.get("sleep"):
            time.sleep(event["sleep"])
        return {"before": before, "after": TICKS}
"""


def test_idle_environment_is_frozen_and_thawed(lam_exec):
    name = create(lam_exec, py_package(TICKER))
    first = invoke(lam_exec, name, {}).ok()
    # The behaviour under test is time itself: an unfrozen thread would tick
    # ~150 times in 1.5 s; a frozen one only during the ~50 ms grace period
    # before the freeze and while the invocations run.
    time.sleep(1.5)
    second = invoke(lam_exec, name, {}).ok()
    advanced = second["before"] - first["after"]
    figure("ticks (10 ms) over 1.5 s idle", advanced)
    assert 0 <= advanced < 40, f"the background thread ran while idle: {advanced} ticks in 1.5 s ({first}, {second})"


def test_background_thread_runs_while_the_handler_runs(lam_exec):
    name = create(lam_exec, py_package(TICKER))
    invoke(lam_exec, name, {}).ok()
    time.sleep(0.3)  # long past the freeze grace: the next invocation thaws it
    during = invoke(lam_exec, name, {"sleep": 0.3}).ok()
    ticks = during["after"] - during["before"]
    figure("ticks (10 ms) during a 300 ms handler", ticks)
    assert ticks >= 5, f"the environment's threads did not run during the invocation: {during}"


# -- failures that end an environment ----------------------------------------


def test_timeout_then_a_fresh_environment(lam_exec):
    name = create(lam_exec, py_package(COUNTER), Timeout=1)
    assert invoke(lam_exec, name, {}).ok()["count"] == 1
    res = invoke(lam_exec, name, {"sleep": 5})
    err = res.error()
    request_id = log_request_id(res.log)
    assert request_id == res.request_id
    assert err == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {request_id} Error: Task timed out after 1.00 seconds",
    }, err
    assert res.elapsed_s < 4.0, f"the invocation was not cut at its timeout: {res.elapsed_s:.2f} s"
    assert res.executed_version == "$LATEST"
    assert "Task timed out after 1.00 seconds" in res.log, res.log
    after = invoke(lam_exec, name, {})
    assert after.ok()["count"] == 1, "the timed-out environment was reused"
    assert after.init_duration_ms is not None, "a fresh environment reports its INIT"


def test_crash_then_a_fresh_environment(lam_exec):
    name = create(lam_exec, py_package(COUNTER))
    before = invoke(lam_exec, name, {}).ok()
    res = invoke(lam_exec, name, {"exit": 3})
    err = res.error()
    request_id = log_request_id(res.log)
    assert err == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: exit status 3",
    }, err
    assert f"RequestId: {request_id} Error: Runtime exited with error: exit status 3" in res.log
    after = invoke(lam_exec, name, {}).ok()
    assert after["count"] == 1 and after["stream"] != before["stream"], (before, after)


def test_segmentation_fault(lam_exec):
    src = """
        import ctypes

        def handler(event, context):
            return ctypes.string_at(0)
    """
    name = create(lam_exec, py_package(src))
    res = invoke(lam_exec, name, {})
    err = res.error()
    assert err["errorType"] == "Runtime.ExitError", err
    assert err["errorMessage"] == (
        f"RequestId: {log_request_id(res.log)} Error: Runtime exited with error: signal: segmentation fault"
    ), err


def test_out_of_memory(lam_exec):
    name = create(lam_exec, py_package(COUNTER), MemorySize=128, Timeout=20)
    res = invoke(lam_exec, name, {"allocate_mb": 512})
    err = res.error()
    figure("out of memory at 128 MB", err)
    report = [line for line in res.log.splitlines() if line.startswith("REPORT")]
    figure("REPORT", report)
    assert err["errorType"] in ("Runtime.OutOfMemory", "Runtime.ExitError"), err
    assert err["errorMessage"].endswith("Runtime exited with error: signal: killed"), err
    assert "Memory Size: 128 MB" in res.log
    # The environment is replaced; the function still works.
    assert invoke(lam_exec, name, {}).ok()["count"] == 1
    # Within its limit the same allocation pattern succeeds.
    assert invoke(lam_exec, name, {"allocate_mb": 32}).ok() == {"allocated": 32}


def test_exception_at_import_is_the_init_error(lam_exec):
    src = """
        raise RuntimeError("missing configuration: DB_URL")

        def handler(event, context):
            return "unreachable"
    """
    name = create(lam_exec, py_package(src))
    res = invoke(lam_exec, name, {})
    err = res.error()
    assert err["errorType"] == "RuntimeError", err
    assert err["errorMessage"] == "missing configuration: DB_URL", err
    assert isinstance(err.get("stackTrace"), list), err
    # INIT is retried on the next invocation, and fails again.
    assert invoke(lam_exec, name, {}).error()["errorType"] == "RuntimeError"


def test_runtime_exiting_during_init(lam_exec):
    src = """
        import os
        os._exit(5)
    """
    name = create(lam_exec, py_package(src))
    err = invoke(lam_exec, name, {}).error()
    assert err["errorType"] == "Runtime.ExitError", err
    assert err["errorMessage"].endswith("Runtime exited with error: exit status 5"), err


# -- concurrency -------------------------------------------------------------


def test_concurrent_invocations_get_their_own_environments(exec_server):
    lam = exec_server.client()
    name = create(lam, py_package(COUNTER), Timeout=10)

    def one(_):
        client = exec_server.client()
        return invoke(client, name, {"sleep": 1})

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(one, range(4)))
    total = time.monotonic() - started
    figure("4 concurrent cold 1 s invocations, total s", round(total, 2))
    bodies = [r.ok() for r in results]
    # A concurrency check, not a benchmark: serialised, they would take >= 4 s.
    assert total < 3.5, f"4 concurrent 1 s invocations took {total:.2f} s"
    assert len({b["stream"] for b in bodies}) == 4, bodies
    assert len({b["pid"] for b in bodies}) >= 1
    assert all(b["count"] == 1 for b in bodies), bodies
    # Afterwards the warm environments are reused: no new INIT.
    warm = invoke(lam, name, {})
    assert warm.ok()["stream"] in {b["stream"] for b in bodies}
    assert warm.init_duration_ms is None


# -- changes to the function -------------------------------------------------


def test_updates_retire_warm_environments(lam_exec):
    v1 = """
        import os
        COUNT = 0
        def handler(event, context):
            global COUNT
            COUNT += 1
            return {"code": "v1", "count": COUNT, "colour": os.environ.get("COLOUR")}
    """
    name = create(lam_exec, py_package(v1))
    assert invoke(lam_exec, name, {}).ok() == {"code": "v1", "count": 1, "colour": None}
    assert invoke(lam_exec, name, {}).ok()["count"] == 2

    lam_exec.update_function_code(FunctionName=name, ZipFile=py_package(v1.replace('"v1"', '"v2"')))
    assert invoke(lam_exec, name, {}).ok() == {"code": "v2", "count": 1, "colour": None}

    lam_exec.update_function_configuration(FunctionName=name, Environment={"Variables": {"COLOUR": "teal"}})
    assert invoke(lam_exec, name, {}).ok() == {"code": "v2", "count": 1, "colour": "teal"}
    assert invoke(lam_exec, name, {}).ok()["count"] == 2


def test_init_that_hangs_is_retried_with_the_function_timeout(lam_exec):
    src = "import time\ntime.sleep(60)\n\ndef handler(event, context):\n    return 1\n"
    name = create(lam_exec, py_package(src), Timeout=3)
    err = invoke(lam_exec, name, {}).error()
    assert err["errorType"] == "Sandbox.Timedout", err
    assert err["errorMessage"].endswith("Task timed out after 3.00 seconds"), err


@pytest.mark.parametrize("how, status", [("SIGKILL", "signal: killed"), ("SIGTERM", "signal: terminated"), ("abort", "signal: aborted")])
def test_runtime_signalling_itself_exits(lam_exec, how, status):
    src = """
        import os, signal, time
        def handler(event, context):
            if event["how"] == "abort":
                os.abort()
            os.kill(os.getpid(), getattr(signal, event["how"]))
            time.sleep(2)
            return "survived"
    """
    name = create(lam_exec, py_package(src), Timeout=5)
    err = invoke(lam_exec, name, {"how": how}).error()
    assert err["errorType"] == "Runtime.ExitError", err
    assert err["errorMessage"].endswith(f"Runtime exited with error: {status}"), err


def test_orphaned_processes_are_reaped(lam_exec):
    src = """
        import os, subprocess, time
        def zombies():
            n = 0
            for p in os.listdir("/proc"):
                if p.isdigit():
                    try:
                        if open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[0] == "Z":
                            n += 1
                    except OSError:
                        pass
            return n
        def handler(event, context):
            for _ in range(20):
                subprocess.run(["/bin/sh", "-c", "/bin/true &"], check=True)
            deadline = time.time() + 2
            while zombies() and time.time() < deadline:
                time.sleep(0.05)
            return zombies()
    """
    name = create(lam_exec, py_package(src), Timeout=10)
    assert invoke(lam_exec, name, {}).ok() == 0
