"""Handler parsing and import: the forms AWS accepts and its INIT error types and messages."""

import os
import sys
import unittest

from support import RUNTIME_DIR, TaskRoot

from lambdabox_ric.faults import FaultException
from lambdabox_ric.handler import build_sys_path, get_handler, layer_paths
from lambdabox_ric.invoke import load_handler


class GetHandlerTest(unittest.TestCase):
    def test_module_function(self):
        with TaskRoot({"lambda_function.py": "def lambda_handler(e, c):\n    return 'top'\n"}):
            self.assertEqual(get_handler("lambda_function.lambda_handler")(None, None), "top")

    def test_package_module_function(self):
        files = {"pkg/__init__.py": "", "pkg/sub/__init__.py": "", "pkg/sub/mod.py": "def fn(e, c):\n    return 'dotted'\n"}
        with TaskRoot(files):
            self.assertEqual(get_handler("pkg.sub.mod.fn")(None, None), "dotted")

    def test_directory_module_function(self):
        files = {"src/handlers/api.py": "def fn(e, c):\n    return 'slashed'\n"}
        with TaskRoot(files):
            self.assertEqual(get_handler("src/handlers/api.fn")(None, None), "slashed")

    def assertFault(self, handler, error_type, message, trace=None):
        with self.assertRaises(FaultException) as caught:
            get_handler(handler)
        self.assertEqual(caught.exception.exception_type, error_type)
        self.assertEqual(caught.exception.msg, message)
        self.assertEqual(caught.exception.trace, trace)

    def test_malformed_handler_name(self):
        self.assertFault(
            "lambda_function",
            "Runtime.MalformedHandlerName",
            "Bad handler 'lambda_function': not enough values to unpack (expected 2, got 1)",
        )

    def test_missing_module(self):
        with TaskRoot({}):
            self.assertFault(
                "nosuchmodule.handler",
                "Runtime.ImportModuleError",
                "Unable to import module 'nosuchmodule': No module named 'nosuchmodule'",
            )

    def test_missing_dependency_of_the_module(self):
        with TaskRoot({"app.py": "import requests_not_here\n"}):
            self.assertFault(
                "app.handler",
                "Runtime.ImportModuleError",
                "Unable to import module 'app': No module named 'requests_not_here'",
            )

    def test_missing_module_in_directory_keeps_the_slash_in_the_message(self):
        with TaskRoot({}):
            self.assertFault(
                "nodir/mod.fn",
                "Runtime.ImportModuleError",
                "Unable to import module 'nodir/mod': No module named 'nodir'",
            )

    def test_handler_missing_on_module(self):
        with TaskRoot({"app.py": "x = 1\n"}):
            self.assertFault(
                "app.handler", "Runtime.HandlerNotFound", "Handler 'handler' missing on module 'app'"
            )

    def test_syntax_error(self):
        with TaskRoot({"broken.py": "def handler(e, c)\n    return 1\n"}) as root:
            path = os.path.join(root.path, "broken.py")
            self.assertFault(
                "broken.handler",
                "Runtime.UserCodeSyntaxError",
                "Syntax error in module 'broken': expected ':' (broken.py, line 1)",
                ['  File "%s" Line 1\n    def handler(e, c)\n' % path],
            )

    def test_indentation_error_is_a_syntax_error(self):
        with TaskRoot({"indent.py": "def handler(e, c):\nreturn 1\n"}):
            with self.assertRaises(FaultException) as caught:
                get_handler("indent.handler")
            self.assertEqual(caught.exception.exception_type, "Runtime.UserCodeSyntaxError")
            self.assertTrue(caught.exception.msg.startswith("Syntax error in module 'indent': expected an indented block"))

    def test_built_in_module_conflict(self):
        self.assertFault(
            "sys.handler",
            "Runtime.BuiltInModuleConflict",
            "Cannot use built-in module sys as a handler module",
        )


class LoadHandlerTest(unittest.TestCase):
    def test_exception_raised_at_import_is_reported_with_its_own_type(self):
        with TaskRoot({"boom.py": "raise ValueError('no config')\n"}) as root:
            handler, error = load_handler("boom.handler", RUNTIME_DIR)
        self.assertIsNone(handler)
        self.assertEqual(list(error), ["errorMessage", "errorType", "requestId", "stackTrace"])
        self.assertEqual(error["errorType"], "ValueError")
        self.assertEqual(error["errorMessage"], "no config")
        self.assertEqual(error["requestId"], "")
        # As on AWS: the runtime's own frames are dropped, the trace starts in importlib.
        self.assertIn("importlib", error["stackTrace"][0])
        self.assertEqual(
            error["stackTrace"][-1],
            '  File "%s", line 1, in <module>\n    raise ValueError(\'no config\')\n'
            % os.path.join(root.path, "boom.py"),
        )

    def test_fault_becomes_error_document(self):
        handler, error = load_handler("nomodule_at_all.h", RUNTIME_DIR)
        self.assertEqual(
            error,
            {
                "errorMessage": "Unable to import module 'nomodule_at_all': No module named 'nomodule_at_all'",
                "errorType": "Runtime.ImportModuleError",
                "requestId": "",
                "stackTrace": [],
            },
        )


class SysPathTest(unittest.TestCase):
    def test_order_task_layers_runtime_sdk_stdlib(self):
        current = ["/var/runtime", "/usr/lib/python311.zip", "/usr/lib/python3.11", "/var/task"]
        self.assertEqual(
            build_sys_path("/var/task", "/var/runtime", current, version=(3, 11)),
            [
                "/var/task",
                "/opt/python",
                "/opt/python/lib/python3.11/site-packages",
                "/var/runtime",
                "/var/lang/lib/python-sdk",
                "/usr/lib/python311.zip",
                "/usr/lib/python3.11",
            ],
        )

    def test_layer_paths_follow_the_interpreter_version(self):
        major, minor = sys.version_info[:2]
        self.assertEqual(
            layer_paths("/opt")[1], "/opt/python/lib/python%d.%d/site-packages" % (major, minor)
        )


if __name__ == "__main__":
    unittest.main()
