"""Invoke with custom runtimes (provided, provided.al2, provided.al2023): the
package's `bootstrap` is the runtime, and it speaks the Runtime API with a
client written elsewhere. Two real clients prove it:

- AWS's Rust `lambda_runtime` crate, compiled into
  `crates/lambdabox-test-functions` (`lambdabox-test-echo`);
- AWS's Python `awslambdaric` from PyPI, vendored into the package and started
  by a shell-script bootstrap with the sandbox's Debian python3.

AWS: "Building a custom runtime for AWS Lambda", "Using the Lambda runtime API
for custom runtimes", and the two clients' own documentation.
"""

from __future__ import annotations

import pytest

from invoke_support import (  # noqa: F401 (fixtures)
    LOG_STREAM_RE,
    assert_platform_lines,
    awslambdaric_package,
    bootstrap_package,
    create,
    exec_server,
    figure,
    fixture_binary,
    invoke,
    lam_exec,
    log_request_id,
    package,
)
from support import ACCOUNT, REGION

ECHO = "lambdabox-test-echo"


@pytest.fixture(scope="module")
def echo_package():
    return bootstrap_package(fixture_binary(ECHO))


@pytest.mark.parametrize("runtime", ["provided.al2023", "provided.al2", "provided"])
def test_lambda_runtime_echo(lam_exec, echo_package, runtime):
    name = create(lam_exec, echo_package, runtime=runtime, handler="not.used", MemorySize=192, Timeout=4)
    cc = {"custom": {"k": "v"}, "env": {"locale": "en"}}
    res = invoke(lam_exec, name, {"hello": ["world", 1]}, client_context=cc)
    body = res.ok()
    assert body["event"] == {"hello": ["world", 1]}
    ctx = body["context"]
    assert ctx["invoked_function_arn"] == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    assert ctx["request_id"] == log_request_id(res.log)
    assert ctx["client_context"]["custom"] == {"k": "v"}, ctx
    assert ctx["xray_trace_id"] and ctx["xray_trace_id"].startswith("Root=1-"), ctx
    # lambda_runtime's Config, read from the reserved variables.
    assert ctx["function_name"] == name
    assert ctx["memory"] == 192
    assert ctx["version"] == "$LATEST"
    assert ctx["log_group"] == f"/aws/lambda/{name}"
    assert LOG_STREAM_RE.match(ctx["log_stream"]), ctx["log_stream"]
    proc = body["process"]
    assert proc["cwd"] == "/var/task"
    assert proc["env"]["_HANDLER"] == "not.used"
    assert proc["env"]["LAMBDA_TASK_ROOT"] == "/var/task"
    assert proc["env"]["AWS_LAMBDA_RUNTIME_API"] == "127.0.0.1:9001"
    # AWS sets no AWS_EXECUTION_ENV for custom runtimes.
    assert proc["env"]["AWS_EXECUTION_ENV"] is None
    assert_platform_lines(res.log, ctx["request_id"])
    # What the bootstrap printed while handling the event is in the invocation's log.
    assert f"echo handling {ctx['request_id']} (invocation 1 of this process)" in res.log, res.log
    figure(f"{runtime} (lambda_runtime) cold Init Duration ms", res.init_duration_ms)


def test_lambda_runtime_warm_error_and_exit(lam_exec, echo_package):
    name = create(lam_exec, echo_package, runtime="provided.al2023", handler="bootstrap")
    first = invoke(lam_exec, name, {"n": 1}).ok()
    assert first["process"]["count"] == 1
    # A returned Diagnostic is a function error with its type and message.
    res = invoke(lam_exec, name, {"fail": "no can do"})
    err = res.error()
    assert err["errorType"] == "EchoError" and err["errorMessage"] == "no can do", err
    # The same warm process served both, and serves the next.
    warm = invoke(lam_exec, name, {"n": 3})
    assert warm.ok()["process"]["count"] == 3
    assert warm.ok()["process"]["pid"] == first["process"]["pid"]
    figure("provided.al2023 (lambda_runtime) warm Duration ms", warm.duration_ms)
    # The bootstrap exiting mid-invocation is Runtime.ExitError; then a fresh process.
    crash = invoke(lam_exec, name, {"exit": 7})
    cerr = crash.error()
    assert cerr["errorType"] == "Runtime.ExitError", cerr
    assert cerr["errorMessage"].endswith("Runtime exited with error: exit status 7"), cerr
    assert invoke(lam_exec, name, {}).ok()["process"]["count"] == 1


APP = """
    import os

    COUNT = 0

    def handler(event, context):
        global COUNT
        COUNT += 1
        if "fail" in event:
            raise ValueError(event["fail"])
        return {
            "echo": event,
            "count": COUNT,
            "request_id": context.aws_request_id,
            "function_name": context.function_name,
            "remaining_ms": context.get_remaining_time_in_millis(),
            "ric": __import__("awslambdaric").__file__,
        }
"""


def test_awslambdaric_as_custom_runtime(lam_exec):
    name = create(lam_exec, awslambdaric_package(APP), runtime="provided.al2023", handler="app.handler", Timeout=6)
    res = invoke(lam_exec, name, {"x": [1, 2]})
    body = res.ok()
    assert body["echo"] == {"x": [1, 2]}
    assert body["count"] == 1
    assert body["function_name"] == name
    assert body["request_id"] == log_request_id(res.log)
    assert 0 < body["remaining_ms"] <= 6000
    # The real client from the package, not Lambdabox's own.
    assert body["ric"] == "/var/task/awslambdaric/__init__.py", body
    figure("provided.al2023 (awslambdaric) cold Init Duration ms", res.init_duration_ms)

    err = invoke(lam_exec, name, {"fail": "bad value"}).error()
    assert err["errorType"] == "ValueError", err
    assert err["errorMessage"] == "bad value", err
    assert any("/var/task/app.py" in frame for frame in err["stackTrace"]), err
    # Warm: the same process after the error.
    warm = invoke(lam_exec, name, {})
    assert warm.ok()["count"] == 3
    figure("provided.al2023 (awslambdaric) warm Duration ms", warm.duration_ms)


def test_awslambdaric_init_error(lam_exec):
    app = "import not_installed_anywhere_lbx\n\ndef handler(event, context):\n    return 1\n"
    name = create(lam_exec, awslambdaric_package(app), runtime="provided.al2023", handler="app.handler")
    err = invoke(lam_exec, name, {}).error()
    assert err["errorType"] == "Runtime.ImportModuleError", err
    assert "No module named 'not_installed_anywhere_lbx'" in err["errorMessage"], err


def test_missing_bootstrap_is_runtime_invalid_entrypoint(lam_exec):
    name = create(lam_exec, package({"README": "no bootstrap here\n"}), runtime="provided.al2023", handler="x")
    res = invoke(lam_exec, name, {})
    err = res.error()
    assert err == {
        "errorType": "Runtime.InvalidEntrypoint",
        "errorMessage": f"RequestId: {res.request_id} Error: Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]",
    }


def test_non_executable_bootstrap_is_runtime_invalid_entrypoint(lam_exec):
    name = create(lam_exec, package({"bootstrap": "#!/bin/sh\nexit 0\n"}), runtime="provided.al2023", handler="x")
    err = invoke(lam_exec, name, {}).error()
    assert err["errorType"] == "Runtime.InvalidEntrypoint", err
    assert err["errorMessage"].endswith("Error: fork/exec /var/task/bootstrap: permission denied"), err
