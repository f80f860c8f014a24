"""Concurrency controls: reserved concurrency and throttling (sync and
queued), the account's unreserved share, and provisioned concurrency whose
environments skip INIT on the invocation path."""

import base64
import json
import re
import time
from concurrent.futures import ThreadPoolExecutor

import botocore.exceptions
import pytest

from support import ROLE, aws_error, make_zip, unique_name

SLOW = "import time, os\ndef handler(event, context):\n    print('RAN', event.get('id'))\n    time.sleep(event.get('sleep', 0))\n    return os.environ['AWS_LAMBDA_INITIALIZATION_TYPE']\n"


def create(lam, name, src=SLOW, **extra):
    return lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                               Code={"ZipFile": make_zip({"app.py": src})}, Timeout=30, **extra)


def test_reserved_concurrency_api_and_account_settings(lam):
    name = unique_name("rc")
    create(lam, name)
    before = lam.get_account_settings()["AccountLimit"]
    assert lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=7)["ReservedConcurrentExecutions"] == 7
    assert lam.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"] == 7
    assert lam.get_function(FunctionName=name)["Concurrency"] == {"ReservedConcurrentExecutions": 7}
    after = lam.get_account_settings()["AccountLimit"]
    assert after["UnreservedConcurrentExecutions"] == before["UnreservedConcurrentExecutions"] - 7
    with aws_error(lam, "InvalidParameterValueException") as err:
        lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=after["ConcurrentExecutions"])
    assert "below its minimum value of [100]" in err.message
    lam.delete_function_concurrency(FunctionName=name)
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName=name)
    assert lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == before["UnreservedConcurrentExecutions"]


def test_throttling_at_the_reserved_limit(lam):
    name = unique_name("thr")
    create(lam, name)
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=2)

    def call(i):
        try:
            lam.invoke(FunctionName=name, Payload=json.dumps({"id": i, "sleep": 1.5}))
            return "ok"
        except botocore.exceptions.ClientError as e:
            assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 429
            assert isinstance(e, lam.exceptions.TooManyRequestsException)
            return e.response["Reason"] if "Reason" in e.response else e.response["Error"].get("Reason", "?")

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(call, range(6)))
    assert results.count("ok") == 2, results
    assert set(results) - {"ok"} == {"ReservedFunctionConcurrentInvocationLimitExceeded"}, results
    # Reserved concurrency 0 disables the function.
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    with aws_error(lam, "TooManyRequestsException", status=429):
        lam.invoke(FunctionName=name, Payload=b"{}")


def test_throttled_events_wait_in_the_queue(server):
    lam = server.client()
    name = unique_name("thq")
    create(lam, name)
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    for i in range(4):
        assert lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"id": i, "sleep": 0.3}))["StatusCode"] == 202
    folder = server.data_dir / "logs" / name
    deadline = time.monotonic() + 30
    ran = set()
    while time.monotonic() < deadline and len(ran) < 4:
        ran = {m for p in folder.glob("*.log") for m in re.findall(r"RAN (\d+)", p.read_text(errors="replace"))} if folder.is_dir() else set()
        time.sleep(0.1)
    assert ran == {"0", "1", "2", "3"}, ran


def test_provisioned_concurrency_skips_init(lam):
    name = unique_name("pc")
    create(lam, name, Publish=True)
    with aws_error(lam, "InvalidParameterValueException"):
        lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="$LATEST", ProvisionedConcurrentExecutions=1)
    put = lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="1", ProvisionedConcurrentExecutions=2)
    assert put["RequestedProvisionedConcurrentExecutions"] == 2
    deadline = time.monotonic() + 30
    status = put["Status"]
    while status != "READY" and time.monotonic() < deadline:
        time.sleep(0.1)
        status = lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier="1")["Status"]
    got = lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier="1")
    assert got["Status"] == "READY" and got["AvailableProvisionedConcurrentExecutions"] == 2, got
    listed = lam.list_provisioned_concurrency_configs(FunctionName=name)["ProvisionedConcurrencyConfigs"]
    assert [c["FunctionArn"].rsplit(":", 1)[1] for c in listed] == ["1"]

    r = lam.invoke(FunctionName=name, Qualifier="1", LogType="Tail", Payload=b"{}")
    log = base64.b64decode(r["LogResult"]).decode()
    assert json.loads(r["Payload"].read()) == "provisioned-concurrency"
    assert "REPORT RequestId" in log and "Init Duration" not in log, log
    # An on-demand environment of $LATEST does report its INIT.
    r = lam.invoke(FunctionName=name, LogType="Tail", Payload=b"{}")
    assert json.loads(r["Payload"].read()) == "on-demand"
    assert "Init Duration" in base64.b64decode(r["LogResult"]).decode()

    lam.delete_provisioned_concurrency_config(FunctionName=name, Qualifier="1")
    with aws_error(lam, "ResourceNotFoundException"):
        lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier="1")


def test_account_limit_is_configurable(new_server):
    srv = new_server(start=False)
    srv.start(args=["serve", "--listen", "127.0.0.1:0", "--data-dir", str(srv.data_dir), "--concurrent-executions", "150"])
    lam = srv.client()
    limit = lam.get_account_settings()["AccountLimit"]
    assert (limit["ConcurrentExecutions"], limit["UnreservedConcurrentExecutions"]) == (150, 150)
    name = unique_name("acct")
    create(lam, name)
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=50)
    assert lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == 100
    with aws_error(lam, "InvalidParameterValueException"):
        lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=51)
