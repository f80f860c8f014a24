"""INIT and the invocation loop, driven through a Runtime API client double (no network)."""

import io
import json
import os
import unittest

from support import RUNTIME_DIR, FakeClient, TaskRoot

from lambdabox_ric import logs
from lambdabox_ric.invoke import run, update_xray_env
from lambdabox_ric.runtime_api import Invocation

APP = """
import os

def handler(event, context):
    if event.get("fail"):
        raise RuntimeError("failed " + context.aws_request_id)
    if event.get("bytes"):
        return b"raw"
    if event.get("set"):
        return {1}
    return {"echo": event, "trace": os.environ.get("_X_AMZN_TRACE_ID")}
"""


class RunTest(unittest.TestCase):
    def run_app(self, invocations, handler="app.handler", files=None):
        client = FakeClient(invocations)
        out = io.StringIO()
        with TaskRoot(files if files is not None else {"app.py": APP}):
            run(handler, client, RUNTIME_DIR, max_invocations=len(invocations), write=out.write)
        return client, out.getvalue()

    def test_results_errors_and_warm_reuse(self):
        client, log = self.run_app(
            [
                Invocation("id-1", b'{"a": 1}', trace_id="Root=1-a"),
                Invocation("id-2", b'{"fail": true}'),
                Invocation("id-3", b'{"bytes": true}'),
                Invocation("id-4", b'{"set": true}'),
                Invocation("id-5", b'{"b": 2}'),
            ]
        )
        kinds = [(p[0], p[1]) for p in client.posts]
        self.assertEqual(
            kinds,
            [("response", "id-1"), ("error", "id-2"), ("response", "id-3"), ("error", "id-4"), ("response", "id-5")],
        )
        self.assertEqual(json.loads(client.posts[0][2]), {"echo": {"a": 1}, "trace": "Root=1-a"})
        # No trace header on the last invocation: the variable is removed again.
        self.assertEqual(json.loads(client.posts[4][2]), {"echo": {"b": 2}, "trace": None})
        error = client.posts[1][2]
        self.assertEqual(error["errorType"], "RuntimeError")
        self.assertEqual(error["errorMessage"], "failed id-2")
        self.assertEqual(error["requestId"], "id-2")
        self.assertEqual(client.posts[2][2:], (b"raw", "application/unknown"))
        self.assertEqual(client.posts[3][2]["errorType"], "Runtime.MarshalError")
        self.assertIn("[ERROR] RuntimeError: failed id-2\rTraceback (most recent call last):\r", log)
        self.assertEqual(logs.current_request_id(), "id-5")

    def test_init_error_is_posted_then_exit_1(self):
        client = FakeClient([Invocation("never", b"{}")])
        out = io.StringIO()
        with TaskRoot({}):
            with self.assertRaises(SystemExit) as caught:
                run("missing_module.handler", client, RUNTIME_DIR, write=out.write)
        self.assertEqual(caught.exception.code, 1)
        self.assertEqual(
            client.posts,
            [
                (
                    "init_error",
                    {
                        "errorMessage": "Unable to import module 'missing_module': No module named 'missing_module'",
                        "errorType": "Runtime.ImportModuleError",
                        "requestId": "",
                        "stackTrace": [],
                    },
                )
            ],
        )
        lines = out.getvalue().split("\n")
        self.assertTrue(lines[0].startswith("[WARNING]\t"))
        self.assertTrue(lines[0].endswith("\t\tLAMBDA_WARNING: Unhandled exception. The most likely cause is an issue in the function code. However, in rare cases, a Lambda runtime update can cause unexpected function behavior. For functions using managed runtimes, runtime updates can be triggered by a function change, or can be applied automatically. To determine if the runtime has been updated, check the runtime version in the INIT_START log entry. If this error correlates with a change in the runtime version, you may be able to mitigate this error by temporarily rolling back to the previous runtime version. For more information, see https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html"))
        self.assertEqual(
            lines[1],
            "[ERROR] Runtime.ImportModuleError: Unable to import module 'missing_module': No module named 'missing_module'\rTraceback (most recent call last):",
        )
        self.assertEqual(client.invocations[0].request_id, "never")

    def test_module_is_imported_once(self):
        files = {"counter.py": "COUNT = [0]\nIMPORTS = [0]\nIMPORTS[0] += 1\n\ndef handler(e, c):\n    COUNT[0] += 1\n    return [COUNT[0], IMPORTS[0]]\n"}
        client, _ = self.run_app([Invocation("a", b"{}"), Invocation("b", b"{}"), Invocation("c", b"{}")], "counter.handler", files)
        self.assertEqual([json.loads(p[2]) for p in client.posts], [[1, 1], [2, 1], [3, 1]])


class XrayEnvTest(unittest.TestCase):
    def test_set_and_remove(self):
        env = {}
        update_xray_env("Root=1-x", env)
        self.assertEqual(env, {"_X_AMZN_TRACE_ID": "Root=1-x"})
        update_xray_env(None, env)
        self.assertEqual(env, {})


if __name__ == "__main__":
    unittest.main()
