"""Logging as AWS's Python runtime does it: unbuffered stdout/stderr and a ``logging`` root handler.

- ``sys.stdout``/``sys.stderr`` are wrapped so that every write is flushed at once: the
  execution environment's log capture sees lines in the order they were written.
- The root logger gets AWS's handler and format,
  ``[%(levelname)s]\\t%(asctime)s.%(msecs)03dZ\\t%(aws_request_id)s\\t%(message)s\\n`` (UTC), with the
  current request id (``""`` outside an invocation). Its level is ``AWS_LAMBDA_LOG_LEVEL``
  when set, else Python's default (WARNING), as on AWS. Because the root logger already has
  a handler, ``logging.basicConfig()`` in user code does nothing, again as on AWS.
- ``logging`` costs ~20 ms of imports on a cold start, so the handler is installed when
  something first imports ``logging`` (an import hook), which is before user code can use it.
"""

import os
import sys
import time

_state = {"request_id": None}


def set_request_id(request_id):
    _state["request_id"] = request_id


def current_request_id():
    return _state["request_id"]


class Unbuffered(object):
    def __init__(self, stream):
        self.stream = stream

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, exc_tb):
        pass

    def __getattr__(self, attr):
        return getattr(self.stream, attr)

    def write(self, msg):
        n = self.stream.write(msg)
        self.stream.flush()
        return n

    def writelines(self, msgs):
        self.stream.writelines(msgs)
        self.stream.flush()


def make_unbuffered():
    if not isinstance(sys.stdout, Unbuffered):
        sys.stdout = Unbuffered(sys.stdout)
    if not isinstance(sys.stderr, Unbuffered):
        sys.stderr = Unbuffered(sys.stderr)


def write_stdout(text):
    sys.stdout.write(text)


_TEXT_FORMAT = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n"
_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"


def format_text_record(level_name, message, request_id, now=None):
    """One line in the root handler's format, for the runtime's own messages."""
    now = time.time() if now is None else now
    stamp = time.strftime(_DATE_FORMAT, time.gmtime(now))
    return "[%s]\t%s.%03dZ\t%s\t%s\n" % (
        level_name,
        stamp,
        int(now * 1000) % 1000,
        request_id or "",
        message,
    )


def configure_logging(logging, log_level=None):
    """Install AWS's root handler on the ``logging`` module."""

    class LambdaLoggerHandler(logging.Handler):
        def emit(self, record):
            sys.stdout.write(self.format(record))

    class LambdaLoggerFilter(logging.Filter):
        def filter(self, record):
            record.aws_request_id = _state["request_id"] or ""
            return True

    logging.Formatter.converter = time.gmtime
    handler = LambdaLoggerHandler()
    handler.setFormatter(logging.Formatter(_TEXT_FORMAT, _DATE_FORMAT))
    handler.addFilter(LambdaLoggerFilter())
    root = logging.getLogger()
    if log_level:
        level = log_level.upper()
        if level in logging._nameToLevel:
            root.setLevel(level)
    root.addHandler(handler)


class _LoggingImportHook(object):
    """A ``sys.meta_path`` finder that configures ``logging`` right after it is first imported."""

    def __init__(self, log_level):
        self.log_level = log_level

    def find_spec(self, name, path=None, target=None):
        if name != "logging":
            return None
        self.remove()
        from importlib.machinery import PathFinder

        spec = PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        exec_module = loader.exec_module
        log_level = self.log_level

        def exec_and_configure(module):
            exec_module(module)
            try:
                configure_logging(module, log_level)
            except Exception:
                pass  # a user module named logging that shadows the standard library's

        loader.exec_module = exec_and_configure
        return spec

    def remove(self):
        try:
            sys.meta_path.remove(self)
        except ValueError:
            pass


def setup_logging(log_level=None):
    """Configure ``logging`` now if it is loaded, else as soon as it is."""
    if log_level is None:
        log_level = os.environ.get("AWS_LAMBDA_LOG_LEVEL")
    if "logging" in sys.modules:
        configure_logging(sys.modules["logging"], log_level)
    else:
        sys.meta_path.insert(0, _LoggingImportHook(log_level))
