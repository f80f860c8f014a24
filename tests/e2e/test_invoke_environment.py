"""The execution environment as the function sees it: AWS's reserved
environment variables, the function's own variables, the working directory,
the file system layout (/var/task read-only, /tmp private and of
EphemeralStorage size) and the network namespace.

AWS: "Defined runtime environment variables" (the reserved variables and
their values), "Lambda execution environment" (/tmp, read-only code),
"Configuring ephemeral storage".
"""

from __future__ import annotations

import re

import pytest

from invoke_support import (  # noqa: F401 (fixtures)
    LOG_STREAM_RE,
    PYTHON_RUNTIME,
    create,
    exec_server,
    invoke,
    lam_exec,
    log_request_id,
    package,
    py_package,
)
from support import ACCOUNT, REGION

ENV_HANDLER = """
    import os

    def handler(event, context):
        return {"env": dict(os.environ), "cwd": os.getcwd(), "stream": context.log_stream_name}
"""


@pytest.fixture(scope="module")
def seen(exec_server):
    """What a python3.11 function with two variables of its own sees, in us-west-2."""
    client = exec_server.client("us-west-2")
    name = create(
        client,
        py_package(ENV_HANDLER),
        runtime=PYTHON_RUNTIME,
        MemorySize=320,
        Environment={"Variables": {"GREETING": "hello world", "EMPTY_LOOKING": "=;,"}},
    )
    body = invoke(client, name, {}).ok()
    print("python3.11 environment:", sorted(body["env"].items()))
    return name, body


def test_reserved_variables(seen):
    name, body = seen
    env = body["env"]
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == name
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "320"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == f"/aws/lambda/{name}"
    assert LOG_STREAM_RE.match(env["AWS_LAMBDA_LOG_STREAM_NAME"]), env["AWS_LAMBDA_LOG_STREAM_NAME"]
    assert env["AWS_LAMBDA_LOG_STREAM_NAME"] == body["stream"]
    # The region the client called, not the server's default.
    assert env["AWS_REGION"] == "us-west-2"
    assert env["AWS_DEFAULT_REGION"] == "us-west-2"
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.11"
    assert env["AWS_LAMBDA_RUNTIME_API"] == "127.0.0.1:9001"
    assert env["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"
    assert env["LAMBDA_TASK_ROOT"] == "/var/task"
    assert env["LAMBDA_RUNTIME_DIR"] == "/var/runtime"
    assert env["_HANDLER"] == "app.handler"
    assert env["TZ"] == ":UTC"
    assert env["LANG"] == "en_US.UTF-8"
    # The values of AWS's table of defined runtime environment variables.
    assert env["PATH"] == "/usr/local/bin:/usr/bin/:/bin:/opt/bin", env["PATH"]
    assert env["LD_LIBRARY_PATH"] == (
        "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib"
    )


def test_user_variables_and_cwd(seen):
    _, body = seen
    assert body["env"]["GREETING"] == "hello world"
    assert body["env"]["EMPTY_LOOKING"] == "=;,"
    assert body["cwd"] == "/var/task"


def test_no_host_variables_leak(seen):
    _, body = seen
    env = body["env"]
    # The server's own environment (the test runner's) is not passed through.
    for host_only in ("PYTEST_CURRENT_TEST", "VIRTUAL_ENV", "RUST_BACKTRACE", "AWS_CONFIG_FILE"):
        assert host_only not in env, f"{host_only} leaked into the function's environment"
    assert not any(k.startswith("LAMBDABOX_") for k in env), sorted(env)


def test_nodejs_reserved_variables(lam_exec):
    src = "exports.handler = async () => ({ env: process.env, cwd: process.cwd() });\n"
    name = create(lam_exec, package({"index.js": src}), runtime="nodejs22.x", handler="index.handler")
    body = invoke(lam_exec, name, {}).ok()
    env = body["env"]
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_nodejs22.x"
    assert env["_HANDLER"] == "index.handler"
    assert env["AWS_REGION"] == REGION
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == name
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "128"
    assert env["NODE_PATH"].split(":")[-1] == "/var/task", env["NODE_PATH"]
    assert body["cwd"] == "/var/task"


def test_file_system_layout(lam_exec):
    src = """
        import errno, os

        def attempt(fn):
            try:
                fn()
                return "ok"
            except OSError as e:
                return errno.errorcode.get(e.errno, str(e.errno))

        def handler(event, context):
            st = os.statvfs("/tmp")
            return {
                "task_files": sorted(os.listdir("/var/task")),
                "write_task": attempt(lambda: open("/var/task/new.txt", "w").close()),
                "modify_code": attempt(lambda: open("/var/task/app.py", "a").close()),
                "write_tmp": attempt(lambda: open("/tmp/x", "w").write("x")),
                "write_root": attempt(lambda: open("/new-file", "w").close()),
                "write_usr": attempt(lambda: open("/usr/lbx-new", "w").close()),
                "tmp_bytes": st.f_blocks * st.f_frsize,
                "uid": os.getuid(),
                "hostname": os.uname().nodename,
                "interfaces": sorted(os.listdir("/sys/class/net")) if os.path.isdir("/sys/class/net") else None,
                "ifaces_proc": open("/proc/net/dev").read().split("\\n")[2:],
            }
    """
    name = create(lam_exec, py_package(src), EphemeralStorage={"Size": 640})
    body = invoke(lam_exec, name, {}).ok()
    assert body["task_files"] == ["app.py"]
    assert body["write_task"] in ("EROFS", "EACCES"), body
    assert body["modify_code"] in ("EROFS", "EACCES"), body
    assert body["write_root"] in ("EROFS", "EACCES"), body
    assert body["write_usr"] in ("EROFS", "EACCES"), body
    assert body["write_tmp"] == "ok"
    # /tmp is sized by EphemeralStorage (640 MB).
    assert body["tmp_bytes"] == 640 * 1024 * 1024, body["tmp_bytes"]
    assert body["uid"] != 0, "the function does not run as root"
    # The loopback interface and eth0 on the function network (see
    # test_function_network.py), nothing of the host's.
    ifaces = sorted(line.split(":")[0].strip() for line in body["ifaces_proc"] if line.strip())
    assert ifaces == ["eth0", "lo"], body["ifaces_proc"]


def test_tmp_is_private_per_function(lam_exec):
    writer = """
        def handler(event, context):
            open("/tmp/secret-of-a", "w").write("a's data")
            return "written"
    """
    reader = """
        import os

        def handler(event, context):
            return sorted(os.listdir("/tmp"))
    """
    a = create(lam_exec, py_package(writer))
    b = create(lam_exec, py_package(reader))
    assert invoke(lam_exec, a, {}).ok() == "written"
    assert "secret-of-a" not in invoke(lam_exec, b, {}).ok()


def test_published_version_and_alias_as_the_function_sees_them(lam_exec):
    src = """
        import os

        def handler(event, context):
            return {
                "env_version": os.environ["AWS_LAMBDA_FUNCTION_VERSION"],
                "stream": os.environ["AWS_LAMBDA_LOG_STREAM_NAME"],
                "version": context.function_version,
                "arn": context.invoked_function_arn,
            }
    """
    name = create(lam_exec, py_package(src))
    version = lam_exec.publish_version(FunctionName=name)["Version"]
    lam_exec.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"

    res = invoke(lam_exec, name, {}, qualifier=version)
    body = res.ok()
    assert res.executed_version == version
    assert body["env_version"] == body["version"] == version
    assert body["arn"] == f"{arn}:{version}"
    assert re.match(rf"^\d{{4}}/\d{{2}}/\d{{2}}/\[{version}\][0-9a-f]{{32}}$", body["stream"]), body["stream"]
    assert f"START RequestId: {log_request_id(res.log)} Version: {version}" in res.log, res.log

    res = invoke(lam_exec, name, {}, qualifier="live")
    body = res.ok()
    assert res.executed_version == version
    assert body["version"] == version
    # The ARN the caller used, alias included.
    assert body["arn"] == f"{arn}:live"


def test_a_burst_of_cold_starts_beyond_the_spare_sandboxes_sees_the_same_environment(lam_exec):
    # The server keeps four spare sandboxes (made before any function needs them and assigned
    # one at its cold start); a burst of twelve concurrent cold starts takes them all and builds
    # the rest on the spot. Every environment must look the same: its own code, a fresh /tmp
    # of the function's size, limits of its own, no trace of another function.
    import threading

    src = """
        import os, time

        def handler(event, context):
            before = sorted(os.listdir("/tmp"))
            open("/tmp/mine", "w").write(context.aws_request_id)
            st = os.statvfs("/tmp")
            time.sleep(0.4)
            return {
                "tmp_before": before,
                "tmp_bytes": st.f_blocks * st.f_frsize,
                "task_files": sorted(os.listdir("/var/task")),
                "opt": sorted(os.listdir("/opt")) if os.path.isdir("/opt") else None,
                "memory": os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"],
                "mounts": sorted(line.split()[4] for line in open("/proc/self/mountinfo")),
                "pid": os.getpid(),
            }
    """
    other = create(lam_exec, py_package(src.replace("import os, time", "import os, sys, time")))
    assert invoke(lam_exec, other, {}).ok()["tmp_before"] == []
    name = create(lam_exec, py_package(src), MemorySize=256, EphemeralStorage={"Size": 1024})
    results, errors = [], []

    def one():
        try:
            results.append(invoke(lam_exec, name, {}).ok())
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=one) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert len(results) == 12
    for body in results:
        assert body["tmp_before"] == [], body
        assert body["tmp_bytes"] == 1024 * 1024 * 1024, body
        assert body["task_files"] == ["app.py"], body
        assert body["memory"] == "256"
        assert body["pid"] == results[0]["pid"], "the runtime is pid 2 under the sandbox's init everywhere"
        assert body["mounts"] == results[0]["mounts"], "spare-made and freshly made sandboxes mount the same tree"
    assert "/var/task" in results[0]["mounts"] and "/var/runtime" in results[0]["mounts"]
    assert not any("staging" in m for m in results[0]["mounts"]), results[0]["mounts"]


def test_python_runtimes_started_ahead_are_indistinguishable_and_skipped_when_they_cannot_be(lam_exec):
    # Python cold starts take a zygote (an interpreter started ahead with the runtime client
    # imported, given the function's code and environment when it is needed) unless the
    # function sets a variable only read when an interpreter starts, such as PYTHONOPTIMIZE.
    src = """
        import os, sys, time

        def handler(event, context):
            return {
                "optimize": sys.flags.optimize,
                "mine": os.environ.get("MINE"),
                "internal": sorted(k for k in os.environ if k.startswith("LAMBDABOX")),
                "stdin": len(sys.stdin.buffer.read()),
                "cwd": os.getcwd(),
                "task": sorted(os.listdir("/var/task")),
                "opt": sorted(os.listdir("/opt")),
                "tz": time.tzname[0],
                "path0": sys.path[0],
                "memory": os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"],
            }
    """
    plain = create(lam_exec, py_package(src), MemorySize=192, Environment={"Variables": {"MINE": "plain"}})
    optimized = create(lam_exec, py_package(src), Environment={"Variables": {"MINE": "opt", "PYTHONOPTIMIZE": "1"}})
    a = invoke(lam_exec, plain, {}).ok()
    b = invoke(lam_exec, optimized, {}).ok()
    assert a["optimize"] == 0 and b["optimize"] == 1, (a, b)
    assert (a["mine"], b["mine"]) == ("plain", "opt")
    for body in (a, b):
        assert body["internal"] == [], body
        assert body["stdin"] == 0
        assert body["cwd"] == "/var/task"
        assert body["task"] == ["app.py"]
        assert body["opt"] == []
        assert body["tz"] == "UTC"
        assert body["path0"] == "/var/task", body
    assert a["memory"] == "192"
