"""Error documents and their log text, and how handler failures are serialised."""

import json
import os
import unittest

from support import RUNTIME_DIR

from lambdabox_ric.faults import exception_to_error, format_error_log, is_runtime_frame, make_error
from lambdabox_ric.invoke import handle_invocation
from lambdabox_ric.marshal import LambdaMarshaller
from lambdabox_ric.runtime_api import Invocation


def failing_handler(event, context):
    raise KeyError("missing")


class CustomError(Exception):
    pass


def nested_failure(event, context):
    def inner():
        raise CustomError("deep", 42)

    inner()


class MakeErrorTest(unittest.TestCase):
    def test_keys_in_aws_order_with_defaults(self):
        error = make_error(None, None, None)
        self.assertEqual(
            json.dumps(error),
            '{"errorMessage": "", "errorType": "", "requestId": "", "stackTrace": []}',
        )


class HandlerExceptionTest(unittest.TestCase):
    def run_handler(self, handler):
        invocation = Invocation("req-1", b"{}", deadline_ms=0)
        return handle_invocation(handler, invocation, LambdaMarshaller(), RUNTIME_DIR, environ={})

    def test_error_type_is_the_class_name_and_message_is_str(self):
        outcome = self.run_handler(failing_handler)
        self.assertTrue(outcome.is_error)
        self.assertEqual(outcome.error["errorType"], "KeyError")
        self.assertEqual(outcome.error["errorMessage"], "'missing'")
        self.assertEqual(outcome.error["requestId"], "req-1")

    def test_stack_trace_starts_in_user_code_with_awslambdaric_frame_format(self):
        outcome = self.run_handler(nested_failure)
        this_file = os.path.abspath(__file__)
        self.assertEqual(outcome.error["errorType"], "CustomError")
        self.assertEqual(outcome.error["errorMessage"], "('deep', 42)")
        trace = outcome.error["stackTrace"]
        self.assertEqual(len(trace), 2)
        self.assertTrue(trace[0].startswith('  File "%s", line ' % this_file))
        self.assertTrue(trace[0].endswith(", in nested_failure\n    inner()\n"))
        self.assertTrue(trace[1].endswith(', in inner\n    raise CustomError("deep", 42)\n'))

    def test_runtime_frames(self):
        self.assertTrue(is_runtime_frame(os.path.join(RUNTIME_DIR, "bootstrap.py"), RUNTIME_DIR))
        self.assertTrue(is_runtime_frame(os.path.join(RUNTIME_DIR, "lambdabox_ric", "invoke.py"), RUNTIME_DIR))
        self.assertFalse(is_runtime_frame("/var/task/bootstrap.py", RUNTIME_DIR))
        self.assertFalse(is_runtime_frame(os.path.abspath(__file__), RUNTIME_DIR))

    def test_exception_without_traceback(self):
        error = exception_to_error(ValueError("x"), RUNTIME_DIR, "id")
        self.assertEqual(error, {"errorMessage": "x", "errorType": "ValueError", "requestId": "id", "stackTrace": []})


class ErrorLogTest(unittest.TestCase):
    def test_text_log_joins_lines_with_carriage_returns_and_nbsp_indents(self):
        error = make_error(
            "boom",
            "ValueError",
            ['  File "/var/task/app.py", line 3, in handler\n    raise ValueError("boom")\n'],
            "id",
        )
        self.assertEqual(
            format_error_log(error),
            "[ERROR] ValueError: boom\rTraceback (most recent call last):\r"
            '\u00a0\u00a0File "/var/task/app.py", line 3, in handler\r'
            '\u00a0\u00a0\u00a0\u00a0raise ValueError("boom")\n',
        )

    def test_init_fault_log(self):
        error = make_error(
            "Unable to import module 'x': No module named 'x'", "Runtime.ImportModuleError", None
        )
        self.assertEqual(
            format_error_log(error),
            "[ERROR] Runtime.ImportModuleError: Unable to import module 'x': No module named 'x'"
            "\rTraceback (most recent call last):\n",
        )

    def test_empty_message(self):
        self.assertEqual(
            format_error_log(make_error("", "Exception", [])),
            "[ERROR] Exception\rTraceback (most recent call last):\n",
        )


if __name__ == "__main__":
    unittest.main()
