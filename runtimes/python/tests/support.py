"""Shared helpers of the Python runtime's tests: import path, temporary task roots, fakes."""

import os
import shutil
import sys
import tempfile
import textwrap

RUNTIME_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if RUNTIME_DIR not in sys.path:
    sys.path.insert(0, RUNTIME_DIR)


class TaskRoot(object):
    """A temporary directory of user modules, put first on sys.path while in use.

    Modules imported from it are dropped from sys.modules afterwards, so tests can reuse
    module names.
    """

    def __init__(self, files):
        self.files = files

    def __enter__(self):
        self.path = tempfile.mkdtemp(prefix="lambdabox-task-")
        for name, text in self.files.items():
            full = os.path.join(self.path, name)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "w") as f:
                f.write(textwrap.dedent(text))
        self._modules = set(sys.modules)
        sys.path.insert(0, self.path)
        return self

    def __exit__(self, *exc):
        sys.path.remove(self.path)
        for name in set(sys.modules) - self._modules:
            module = sys.modules[name]
            if (getattr(module, "__file__", None) or "").startswith(self.path) or module is None:
                del sys.modules[name]
        shutil.rmtree(self.path)


class FakeClient(object):
    """A Runtime API client double: hands out queued invocations, records what is posted."""

    def __init__(self, invocations=()):
        self.invocations = list(invocations)
        self.posts = []

    def wait_next_invocation(self):
        return self.invocations.pop(0)

    def post_invocation_result(self, request_id, body, content_type="application/json"):
        self.posts.append(("response", request_id, body, content_type))

    def post_invocation_error(self, request_id, error):
        self.posts.append(("error", request_id, error))

    def post_init_error(self, error):
        self.posts.append(("init_error", error))
