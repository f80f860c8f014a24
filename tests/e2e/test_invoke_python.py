"""Invoke with the python3.x runtime: what a handler returns and sees (the
context object, client context, its log), warm reuse of the execution
environment (module state and /tmp survive between invocations), and how a
raised exception or a failing import reaches the caller.

AWS: "Define Lambda function handler in Python", "Using the Lambda context
object to retrieve Python function information", "Log and monitor Python Lambda
functions" (START/END/REPORT), "Invoke" (X-Amz-Function-Error, X-Amz-Log-Result),
and awslambdaric's error documents.
"""

from __future__ import annotations

import pytest

from invoke_support import (  # noqa: F401 (fixtures)
    PYTHON_RUNTIME,
    REQUEST_ID_RE,
    assert_platform_lines,
    create,
    exec_server,
    figure,
    invoke,
    lam_exec,
    log_request_id,
    py_package,
)
from support import ACCOUNT, REGION

CONTEXT_HANDLER = """
    import json

    def handler(event, context):
        print("handling", json.dumps(event, sort_keys=True))
        return {
            "sum": sum(event["numbers"]),
            "squares": [n * n for n in event["numbers"]],
            "function_name": context.function_name,
            "function_version": context.function_version,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "invoked_function_arn": context.invoked_function_arn,
            "aws_request_id": context.aws_request_id,
            "log_group_name": context.log_group_name,
            "log_stream_name": context.log_stream_name,
            "remaining_ms": context.get_remaining_time_in_millis(),
        }
"""


def test_handler_result_context_and_tail_log(lam_exec):
    name = create(lam_exec, py_package(CONTEXT_HANDLER), MemorySize=256, Timeout=7)
    res = invoke(lam_exec, name, {"numbers": [1, 2, 3, 4]})
    body = res.ok()
    assert res.executed_version == "$LATEST"
    assert body["sum"] == 10
    assert body["squares"] == [1, 4, 9, 16]
    assert body["function_name"] == name
    assert body["function_version"] == "$LATEST"
    # awslambdaric reads it from the environment: a string, as on AWS.
    assert str(body["memory_limit_in_mb"]) == "256"
    assert body["invoked_function_arn"] == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    assert body["log_group_name"] == f"/aws/lambda/{name}"
    assert 0 < body["remaining_ms"] <= 7000

    # The request id the function saw is the one its log and the response carry.
    assert REQUEST_ID_RE.match(body["aws_request_id"]), body["aws_request_id"]
    assert log_request_id(res.log) == body["aws_request_id"]
    assert res.request_id == body["aws_request_id"], "x-amzn-RequestId is the invocation's request id"
    assert_platform_lines(res.log, body["aws_request_id"])
    assert 'handling {"numbers": [1, 2, 3, 4]}' in res.log
    # The printed line sits between START and END.
    assert res.log.index("START") < res.log.index("handling") < res.log.index("END RequestId")
    assert "Memory Size: 256 MB" in res.log
    figure("python3.11 cold Init Duration ms", res.init_duration_ms)
    assert res.init_duration_ms is not None, f"a cold start reports Init Duration:\n{res.log}"


def test_without_log_type_there_is_no_log_result(lam_exec):
    name = create(lam_exec, py_package("def handler(event, context):\n    return 'quiet'\n"))
    res = invoke(lam_exec, name, {}, tail=False)
    assert res.ok() == "quiet"
    assert res.log == ""


def test_module_state_and_tmp_survive_warm_invocations(lam_exec):
    src = """
        import os

        COUNT = 0

        def handler(event, context):
            global COUNT
            COUNT += 1
            path = "/tmp/state.txt"
            before = open(path).read() if os.path.exists(path) else None
            with open(path, "a") as f:
                f.write(event["write"])
            return {"count": COUNT, "tmp_before": before, "stream": context.log_stream_name}
    """
    name = create(lam_exec, py_package(src))
    results = [invoke(lam_exec, name, {"write": w}) for w in ("a", "b", "c")]
    bodies = [r.ok() for r in results]
    assert [b["count"] for b in bodies] == [1, 2, 3], bodies
    assert [b["tmp_before"] for b in bodies] == [None, "a", "ab"], bodies
    assert len({b["stream"] for b in bodies}) == 1, "one warm environment served all three"
    # Only the first was a cold start.
    assert results[0].init_duration_ms is not None
    assert results[1].init_duration_ms is None and results[2].init_duration_ms is None, results[1].log
    figure("python3.11 warm Duration ms", [r.duration_ms for r in results[1:]])
    figure("python3.11 warm round trip s (boto3)", [round(r.elapsed_s, 4) for r in results[1:]])


def test_raised_exception_is_an_unhandled_function_error(lam_exec):
    src = """
        class PaymentDeclined(Exception):
            pass

        def handler(event, context):
            raise PaymentDeclined("card " + event["card"] + " declined")
    """
    name = create(lam_exec, py_package(src))
    res = invoke(lam_exec, name, {"card": "4242"})
    err = res.error()
    assert err["errorType"] == "PaymentDeclined"
    assert err["errorMessage"] == "card 4242 declined"
    assert isinstance(err["stackTrace"], list) and err["stackTrace"], err
    assert any('File "/var/task/app.py"' in frame and "in handler" in frame for frame in err["stackTrace"]), err
    assert err.get("requestId") == log_request_id(res.log)
    assert "PaymentDeclined" in res.log
    # A handled-by-the-runtime error keeps the environment: the next one works.
    again = invoke(lam_exec, name, {"card": "1"})
    assert again.error()["errorMessage"] == "card 1 declined"
    assert again.init_duration_ms is None, "the environment survived the function error"


def test_import_error_at_init_is_runtime_import_module_error(lam_exec):
    src = """
        import no_such_dependency_lbx

        def handler(event, context):
            return "unreachable"
    """
    name = create(lam_exec, py_package(src))
    res = invoke(lam_exec, name, {})
    err = res.error()
    assert err["errorType"] == "Runtime.ImportModuleError", err
    assert err["errorMessage"] == "Unable to import module 'app': No module named 'no_such_dependency_lbx'", err
    # Every later invocation fails the same way (a new INIT each time).
    assert invoke(lam_exec, name, {}).error()["errorType"] == "Runtime.ImportModuleError"


def test_missing_handler_function_is_handler_not_found(lam_exec):
    name = create(lam_exec, py_package("def other(event, context):\n    return 1\n"))
    err = invoke(lam_exec, name, {}).error()
    assert err["errorType"] == "Runtime.HandlerNotFound", err
    assert err["errorMessage"] == "Handler 'handler' missing on module 'app'", err


def test_client_context_reaches_the_handler(lam_exec):
    src = """
        def handler(event, context):
            cc = context.client_context
            if cc is None:
                return None
            return {
                "custom": cc.custom,
                "env": cc.env,
                "installation_id": cc.client.installation_id if cc.client else None,
                "app_title": cc.client.app_title if cc.client else None,
            }
    """
    name = create(lam_exec, py_package(src))
    cc = {
        "client": {"installation_id": "inst-1", "app_title": "Lbx", "app_version_name": "1.0",
                   "app_version_code": "1", "app_package_name": "lbx.test"},
        "custom": {"tenant": "acme", "n": 7},
        "env": {"platform": "linux", "locale": "en_GB"},
    }
    body = invoke(lam_exec, name, {}, client_context=cc).ok()
    assert body == {"custom": cc["custom"], "env": cc["env"], "installation_id": "inst-1", "app_title": "Lbx"}
    # Without the header there is none.
    assert invoke(lam_exec, name, {}).ok() is None


def test_runtime_python311_reports_itself(lam_exec):
    src = """
        import os, sys

        def handler(event, context):
            return {"version": list(sys.version_info[:2]), "exec_env": os.environ.get("AWS_EXECUTION_ENV")}
    """
    name = create(lam_exec, py_package(src), Runtime=PYTHON_RUNTIME)
    body = invoke(lam_exec, name, {}).ok()
    assert body == {"version": [3, 11], "exec_env": "AWS_Lambda_python3.11"}


@pytest.mark.parametrize("payload, expected", [(b"", {}), (b"  \n", {}), (b"[1, 2]", [1, 2]), (b'"text"', "text"), (b"null", None)])
def test_event_shapes_arrive_unchanged(lam_exec, payload, expected):
    # An empty or blank payload is sent as {} (as AWS does); JSON of any type arrives unchanged.
    name = create(lam_exec, py_package("def handler(event, context):\n    return {'event': event}\n"))
    assert invoke(lam_exec, name, raw=payload).ok() == {"event": expected}


def test_stdout_stderr_and_logging_reach_the_log(lam_exec):
    src = """
        import logging, sys

        def handler(event, context):
            print("to stdout")
            print("to stderr", file=sys.stderr)
            logging.getLogger().warning("a warning via logging")
            return "logged"
    """
    name = create(lam_exec, py_package(src))
    res = invoke(lam_exec, name, {})
    assert res.ok() == "logged"
    request_id = log_request_id(res.log)
    assert "to stdout\n" in res.log and "to stderr\n" in res.log, res.log
    # AWS's log format for the logging module: [LEVEL]\t<timestamp>\t<request id>\t<message>
    assert f"\t{request_id}\ta warning via logging" in res.log and "[WARNING]\t" in res.log, res.log


def test_response_over_6_mb_is_a_function_error(lam_exec):
    src = """
        def handler(event, context):
            return "x" * (7 * 1024 * 1024)
    """
    name = create(lam_exec, py_package(src), MemorySize=512)
    res = invoke(lam_exec, name, {})
    err = res.error()
    assert err["errorType"] == "Function.ResponseSizeTooLarge", err
    assert "Response payload size exceeded maximum allowed payload size" in err["errorMessage"], err
