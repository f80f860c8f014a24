"""Invoke with the Node.js runtimes: async, callback and ES module handlers,
the context object, warm reuse, and the shape of a thrown error.

AWS: "Define Lambda function handler in Node.js" (async and callback handlers,
ES modules), "Using the Lambda context object to retrieve Node.js function
information", "Node.js Lambda function errors" (errorType, errorMessage, trace).
"""

from __future__ import annotations

import hashlib

import pytest

from invoke_support import (  # noqa: F401 (fixtures)
    NODE_RUNTIME,
    assert_platform_lines,
    create,
    exec_server,
    figure,
    invoke,
    lam_exec,
    log_request_id,
    package,
)
from support import ACCOUNT, REGION


def test_async_handler_with_context(lam_exec):
    src = """
        exports.handler = async (event, context) => {
          console.log("adding", event.a, event.b);
          await new Promise((resolve) => setTimeout(resolve, 20));
          return {
            sum: event.a + event.b,
            functionName: context.functionName,
            functionVersion: context.functionVersion,
            memoryLimitInMB: context.memoryLimitInMB,
            invokedFunctionArn: context.invokedFunctionArn,
            awsRequestId: context.awsRequestId,
            logGroupName: context.logGroupName,
            remaining: context.getRemainingTimeInMillis(),
            node: process.versions.node.split(".")[0],
            cwd: process.cwd(),
          };
        };
    """
    name = create(lam_exec, package({"index.js": src}), runtime=NODE_RUNTIME, handler="index.handler", Timeout=5)
    res = invoke(lam_exec, name, {"a": 40, "b": 2})
    body = res.ok()
    assert body["sum"] == 42
    assert body["functionName"] == name
    assert body["functionVersion"] == "$LATEST"
    assert body["memoryLimitInMB"] == "128"
    assert body["invokedFunctionArn"] == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    assert body["logGroupName"] == f"/aws/lambda/{name}"
    assert 0 < body["remaining"] <= 5000
    assert body["cwd"] == "/var/task"
    assert log_request_id(res.log) == body["awsRequestId"]
    assert_platform_lines(res.log, body["awsRequestId"])
    # console.log: "<timestamp>\t<request id>\tINFO\t<message>"
    assert f"\t{body['awsRequestId']}\tINFO\tadding 40 2" in res.log, res.log
    figure(f"{NODE_RUNTIME} cold Init Duration ms", res.init_duration_ms)
    assert res.init_duration_ms is not None


def test_callback_handler(lam_exec):
    src = """
        exports.handler = function (event, context, callback) {
          setTimeout(() => callback(null, { greeting: "hello " + event.who }), 10);
        };
    """
    name = create(lam_exec, package({"index.js": src}), runtime=NODE_RUNTIME, handler="index.handler")
    assert invoke(lam_exec, name, {"who": "callback"}).ok() == {"greeting": "hello callback"}
    # callback(error) is a function error.
    src_err = """
        exports.handler = (event, context, callback) => callback(new TypeError("bad " + event.x));
    """
    name = create(lam_exec, package({"index.js": src_err}), runtime=NODE_RUNTIME, handler="index.handler")
    err = invoke(lam_exec, name, {"x": "input"}).error()
    assert err["errorType"] == "TypeError" and err["errorMessage"] == "bad input", err


def test_es_module_handler(lam_exec):
    src = """
        import { createHash } from "node:crypto";

        const started = Date.now();

        export const handler = async (event) => ({
          sha256: createHash("sha256").update(event.text).digest("hex"),
          esm: typeof require === "undefined",
        });
    """
    name = create(lam_exec, package({"app.mjs": src}), runtime=NODE_RUNTIME, handler="app.handler")
    body = invoke(lam_exec, name, {"text": "lambdabox"}).ok()
    assert body == {"sha256": hashlib.sha256(b"lambdabox").hexdigest(), "esm": True}


def test_nested_directory_handler_on_nodejs22(lam_exec):
    src = "module.exports.main = async () => 'from src/handlers';\n"
    name = create(lam_exec, package({"src/handlers/main.js": src}), runtime="nodejs22.x", handler="src/handlers/main.main")
    assert invoke(lam_exec, name, {}).ok() == "from src/handlers"


def test_thrown_error_shape(lam_exec):
    src = """
        class InventoryError extends Error {
          constructor(message) { super(message); this.name = "InventoryError"; }
        }
        exports.handler = async (event) => {
          throw new InventoryError("out of " + event.item);
        };
    """
    name = create(lam_exec, package({"index.js": src}), runtime=NODE_RUNTIME, handler="index.handler")
    res = invoke(lam_exec, name, {"item": "widgets"})
    err = res.error()
    assert err["errorType"] == "InventoryError"
    assert err["errorMessage"] == "out of widgets"
    assert isinstance(err["trace"], list) and err["trace"], err
    assert err["trace"][0] == "InventoryError: out of widgets", err["trace"]
    assert any("/var/task/index.js" in line for line in err["trace"]), err["trace"]
    assert "Invoke Error" in res.log and "InventoryError" in res.log, res.log


def test_module_state_survives_warm_invocations(lam_exec):
    src = """
        let count = 0;
        exports.handler = async () => ({ count: ++count, pid: process.pid });
    """
    name = create(lam_exec, package({"index.js": src}), runtime=NODE_RUNTIME, handler="index.handler")
    results = [invoke(lam_exec, name, {}) for _ in range(3)]
    assert [r.ok()["count"] for r in results] == [1, 2, 3]
    assert len({r.ok()["pid"] for r in results}) == 1
    assert results[1].init_duration_ms is None and results[2].init_duration_ms is None
    figure(f"{NODE_RUNTIME} warm Duration ms", [r.duration_ms for r in results[1:]])


def test_process_exit_is_runtime_exit_error(lam_exec):
    src = """
        let count = 0;
        exports.handler = async (event) => {
          count += 1;
          if (event.exit !== undefined) process.exit(event.exit);
          return count;
        };
    """
    name = create(lam_exec, package({"index.js": src}), runtime=NODE_RUNTIME, handler="index.handler")
    assert invoke(lam_exec, name, {}).ok() == 1
    res = invoke(lam_exec, name, {"exit": 2})
    err = res.error()
    assert err["errorType"] == "Runtime.ExitError", err
    assert err["errorMessage"] == f"RequestId: {log_request_id(res.log)} Error: Runtime exited with error: exit status 2"
    # A fresh environment afterwards.
    assert invoke(lam_exec, name, {}).ok() == 1


@pytest.mark.parametrize(
    "files, handler, error_type",
    [
        ({"index.js": "exports.other = async () => 1;\n"}, "index.handler", "Runtime.HandlerNotFound"),
        ({"index.js": "require('left-pad-lbx');\nexports.handler = async () => 1;\n"}, "index.handler", "Runtime.ImportModuleError"),
        ({"index.js": "exports.handler = async () => {\n"}, "index.handler", "Runtime.UserCodeSyntaxError"),
        ({"index.js": "exports.handler = async () => 1;\n"}, "missing.handler", "Runtime.ImportModuleError"),
    ],
    ids=["handler-not-found", "missing-dependency", "syntax-error", "missing-file"],
)
def test_init_errors(lam_exec, files, handler, error_type):
    name = create(lam_exec, package(files), runtime=NODE_RUNTIME, handler=handler)
    err = invoke(lam_exec, name, {}).error()
    assert err["errorType"] == error_type, err
    assert err["errorMessage"], err


def test_runtimes_started_ahead_are_indistinguishable_and_skipped_when_they_cannot_be(lam_exec):
    # Node.js cold starts take a zygote (node started ahead with the client loaded, given the
    # function's code and environment when needed) unless the function sets a variable node
    # reads only when it starts, such as NODE_OPTIONS.
    src = """
        exports.handler = async () => ({
            title: process.title,
            mine: process.env.MINE,
            internal: Object.keys(process.env).filter((k) => k.startsWith('LAMBDABOX')),
            cwd: process.cwd(),
            task: require('fs').readdirSync('/var/task').sort(),
            tz: Intl.DateTimeFormat().resolvedOptions().timeZone,
            nodePath: process.env.NODE_PATH.split(':').pop(),
            memory: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
        });
    """
    plain = create(lam_exec, package({"index.js": src}), runtime=NODE_RUNTIME, handler="index.handler",
                   MemorySize=192, Environment={"Variables": {"MINE": "plain"}})
    titled = create(lam_exec, package({"index.js": src}), runtime=NODE_RUNTIME, handler="index.handler",
                    Environment={"Variables": {"MINE": "titled", "NODE_OPTIONS": "--title=lbx-titled"}})
    a = invoke(lam_exec, plain, {}).ok()
    b = invoke(lam_exec, titled, {}).ok()
    assert b["title"] == "lbx-titled" and a["title"] != "lbx-titled", (a, b)
    assert (a["mine"], b["mine"]) == ("plain", "titled")
    for body in (a, b):
        assert body["internal"] == [], body
        assert body["cwd"] == "/var/task"
        assert body["task"] == ["index.js"]
        assert body["tz"] == "UTC"
        assert body["nodePath"] == "/var/task"
    assert a["memory"] == "192"
