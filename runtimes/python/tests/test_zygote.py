"""The zygote waits on stdin, then becomes the runtime of the function it is given."""

import json
import os
import subprocess
import sys
import tempfile
import unittest

import support


class ZygoteTest(unittest.TestCase):
    def run_zygote(self, stdin_bytes):
        code = (
            "import os, sys; sys.path.insert(0, %r); "
            "from lambdabox_ric.zygote import await_assignment; await_assignment(); "
            "print(os.getcwd()); print(os.environ.get('MINE')); print('ZYGOTE_ONLY' in os.environ); "
            "print(len(sys.stdin.buffer.read()))" % support.RUNTIME_DIR
        )
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "ZYGOTE_ONLY": "1", "LAMBDABOX_ZYGOTE": "1"}
        return subprocess.run(
            [sys.executable, "-S", "-c", code], input=stdin_bytes, capture_output=True, env=env, timeout=30
        )

    def test_the_environment_is_replaced_and_stdin_becomes_empty(self):
        with tempfile.TemporaryDirectory() as task:
            assignment = json.dumps({"MINE": "yes", "LAMBDA_TASK_ROOT": task, "TZ": ":UTC"}).encode()
            done = self.run_zygote(assignment)
            self.assertEqual(done.returncode, 0, done.stderr)
            lines = done.stdout.decode().split()
            self.assertEqual(lines, [os.path.realpath(task), "yes", "False", "0"])

    def test_a_zygote_retired_unused_exits_quietly(self):
        done = self.run_zygote(b"")
        self.assertEqual((done.returncode, done.stdout, done.stderr), (0, b"", b""))


if __name__ == "__main__":
    unittest.main()
