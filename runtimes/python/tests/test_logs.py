"""stdout and ``logging`` as on AWS, checked in a child interpreter started like the server does."""

import os
import subprocess
import sys
import unittest

from support import RUNTIME_DIR

from lambdabox_ric.logs import format_text_record

SCRIPT = r"""
import sys
sys.path.insert(0, %(runtime)r)
from lambdabox_ric import logs
logs.make_unbuffered()
logs.setup_logging(%(level)r)
assert "logging" not in sys.modules, "logging must be imported lazily"
logs.set_request_id("req-9")
import logging
logging.basicConfig(level=logging.DEBUG)   # a no-op on AWS: the root logger has a handler
logging.getLogger("app").warning("careful %%s", "now")
logging.info("hidden unless the level allows it")
print("plain print")
logs.set_request_id(None)
logging.error("outside")
"""


def run_child(level=None):
    code = SCRIPT % {"runtime": RUNTIME_DIR, "level": level}
    return subprocess.run(
        [sys.executable, "-S", "-c", code], capture_output=True, text=True, check=True,
        env={"PATH": os.environ.get("PATH", "")},
    ).stdout


class LoggingTest(unittest.TestCase):
    def test_root_handler_format_and_request_id(self):
        lines = run_child().splitlines()
        self.assertEqual(len(lines), 3, lines)
        self.assertRegex(lines[0], r"^\[WARNING\]\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\treq-9\tcareful now$")
        self.assertEqual(lines[1], "plain print")
        self.assertRegex(lines[2], r"^\[ERROR\]\t\S+Z\t\toutside$")

    def test_aws_lambda_log_level(self):
        lines = run_child("info").splitlines()
        self.assertEqual(len(lines), 4, lines)
        self.assertRegex(lines[1], r"^\[INFO\]\t\S+\treq-9\thidden unless the level allows it$")

    def test_runtime_record_format(self):
        self.assertEqual(
            format_text_record("WARNING", "msg", "", now=0.5),
            "[WARNING]\t1970-01-01T00:00:00.500Z\t\tmsg\n",
        )


if __name__ == "__main__":
    unittest.main()
