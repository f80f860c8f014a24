"""Invoke at the edge, before anything runs: an unknown function, a payload
too large or not JSON, DryRun (which must not run the function), and the AWS
CLI's `aws lambda invoke` end to end.

AWS: the Invoke API reference (Errors: ResourceNotFoundException 404,
RequestTooLargeException 413, InvalidRequestContentException 400; DryRun
answers 204), "Lambda quotas" (6 MB synchronous request payload).
"""

from __future__ import annotations

import base64
import json
import subprocess

import pytest

from invoke_support import (  # noqa: F401 (fixtures)
    create,
    exec_server,
    invoke,
    lam_exec,
    log_request_id,
    py_package,
)
from support import API, aws_error, raw_request, unique_name

MAX_PAYLOAD = 6 * 1024 * 1024

MARKED = """
    import os

    print("INIT-MARKER", os.environ["AWS_LAMBDA_FUNCTION_NAME"])
    COUNT = 0

    def handler(event, context):
        global COUNT
        COUNT += 1
        print("HANDLER-MARKER", event)
        return {"count": COUNT, "size": len(str(event))}
"""


def lambdabox_logs(server, name: str) -> str:
    """`lambdabox logs NAME`: every log stream the function's environments wrote."""
    proc = subprocess.run(
        [str(server.binary), "logs", name, "--data-dir", str(server.data_dir)],
        capture_output=True, text=True, timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_unknown_function(lam_exec):
    missing = unique_name("missing")
    with aws_error(lam_exec, "ResourceNotFoundException", 404) as e:
        lam_exec.invoke(FunctionName=missing, Payload=b"{}")
    assert missing in e.message


def test_unknown_qualifier(lam_exec):
    name = create(lam_exec, py_package(MARKED))
    with aws_error(lam_exec, "ResourceNotFoundException", 404):
        lam_exec.invoke(FunctionName=name, Qualifier="no-such-alias", Payload=b"{}")


def test_payload_over_6_mb(lam_exec):
    name = create(lam_exec, py_package(MARKED))
    big = json.dumps({"blob": "x" * (MAX_PAYLOAD + 1024)}).encode()
    with aws_error(lam_exec, "RequestTooLargeException", 413) as e:
        lam_exec.invoke(FunctionName=name, Payload=big)
    assert "6291456" in e.message, e.message
    # Nothing ran; a payload under the limit does.
    under = json.dumps({"blob": "x" * (5 * 1024 * 1024)}).encode()
    res = invoke(lam_exec, name, raw=under)
    assert res.ok()["count"] == 1


@pytest.mark.parametrize("payload", [b"{not json", b'{"a": 1', b"\xff\xfe", b"{} trailing"])
def test_malformed_json_payload(lam_exec, payload):
    name = create(lam_exec, py_package(MARKED))
    with aws_error(lam_exec, "InvalidRequestContentException", 400):
        lam_exec.invoke(FunctionName=name, Payload=payload)


def test_dry_run_runs_nothing(exec_server, lam_exec):
    name = create(lam_exec, py_package(MARKED))
    resp = lam_exec.invoke(FunctionName=name, InvocationType="DryRun", Payload=b'{"dry": true}')
    assert resp["StatusCode"] == 204
    assert resp["Payload"].read() == b""
    assert "FunctionError" not in resp
    # No environment was started: no log stream, not even INIT's output.
    assert lambdabox_logs(exec_server, name) == ""
    # The first real invocation is the cold start.
    res = invoke(lam_exec, name, {"real": 1})
    assert res.ok()["count"] == 1
    assert res.init_duration_ms is not None
    logs = lambdabox_logs(exec_server, name)
    assert logs.count("INIT-MARKER") == 1 and logs.count("HANDLER-MARKER") == 1, logs
    assert "dry" not in logs


def test_dry_run_still_checks_the_function_exists(lam_exec):
    with aws_error(lam_exec, "ResourceNotFoundException", 404):
        lam_exec.invoke(FunctionName=unique_name("missing"), InvocationType="DryRun")


def test_raw_invoke_headers(exec_server, lam_exec):
    name = create(lam_exec, py_package(MARKED))
    resp = raw_request(
        exec_server.url, "POST", f"{API}/functions/{name}/invocations", body=b'{"raw": true}',
        headers={"X-Amz-Log-Type": "Tail", "X-Amz-Invocation-Type": "RequestResponse"},
    )
    assert resp.status == 200, resp.body
    assert json.loads(resp.body)["count"] == 1
    assert resp.header("X-Amz-Executed-Version") == "$LATEST"
    assert resp.header("X-Amz-Function-Error") is None
    log = base64.b64decode(resp.header("X-Amz-Log-Result")).decode()
    assert "HANDLER-MARKER {'raw': True}" in log
    assert len(base64.b64decode(resp.header("X-Amz-Log-Result"))) <= 4096


def test_log_tail_is_the_last_4_kb(lam_exec):
    src = """
        def handler(event, context):
            for i in range(400):
                print(f"line {i:04d} " + "." * 40)
            return "chatty"
    """
    name = create(lam_exec, py_package(src))
    res = invoke(lam_exec, name, {})
    assert res.ok() == "chatty"
    raw_len = len(res.log.encode())
    assert raw_len == 4096, raw_len
    # The end is kept (REPORT), the beginning dropped.
    assert res.log.rstrip("\n").splitlines()[-1].startswith("REPORT RequestId:"), res.log[-300:]
    assert "line 0399" in res.log and "line 0000" not in res.log


def test_aws_cli_invoke(exec_server, tmp_path):
    lam = exec_server.client()
    name = create(lam, py_package(MARKED))
    out = tmp_path / "out.json"
    res = exec_server.aws(
        "invoke", "--function-name", name, "--payload", '{"from": "cli"}', "--log-type", "Tail", str(out)
    )
    meta = res.json
    assert meta["StatusCode"] == 200, meta
    assert meta["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in meta
    assert json.loads(out.read_text()) == {"count": 1, "size": len(str({"from": "cli"}))}
    log = base64.b64decode(meta["LogResult"]).decode()
    assert "HANDLER-MARKER {'from': 'cli'}" in log
    log_request_id(log)

    # A function error through the CLI: exit 0, FunctionError in the metadata, the document in the file.
    failing = create(lam, py_package("def handler(event, context):\n    raise KeyError('nope')\n"))
    res = exec_server.aws("invoke", "--function-name", failing, str(out))
    assert res.json["FunctionError"] == "Unhandled"
    assert json.loads(out.read_text())["errorType"] == "KeyError"

    # And an unknown function: the CLI exits non-zero with the AWS error code.
    res = exec_server.aws("invoke", "--function-name", unique_name("missing"), str(out), check=False)
    assert res.returncode != 0
    assert "ResourceNotFoundException" in res.stderr, res.stderr
