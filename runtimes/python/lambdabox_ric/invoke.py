"""INIT and the invocation loop of the Python runtime.

The Runtime API client is a parameter (``runtime_api.RuntimeApiClient`` in production), and
the work of one invocation is the plain function ``handle_invocation``, which returns what
to post instead of posting it: both are testable without a network.
"""

import os
import sys

from . import logs
from .context import create_lambda_context
from .faults import FaultException, exception_to_error, fault_to_error, format_error_log
from .handler import get_handler
from .marshal import LambdaMarshaller
from .runtime_api import RuntimeApiError

UNHANDLED_EXCEPTION_WARNING = (
    "LAMBDA_WARNING: Unhandled exception. The most likely cause is an issue in the function code. "
    "However, in rare cases, a Lambda runtime update can cause unexpected function behavior. "
    "For functions using managed runtimes, runtime updates can be triggered by a function change, "
    "or can be applied automatically. To determine if the runtime has been updated, check the "
    "runtime version in the INIT_START log entry. If this error correlates with a change in the "
    "runtime version, you may be able to mitigate this error by temporarily rolling back to the "
    "previous runtime version. For more information, see "
    "https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html"
)


class Outcome(object):
    """What one invocation produced: a response body, or an error document."""

    __slots__ = ["body", "content_type", "error"]

    def __init__(self, body=None, content_type=None, error=None):
        self.body = body
        self.content_type = content_type
        self.error = error

    @property
    def is_error(self):
        return self.error is not None


def load_handler(handler_name, runtime_dir):
    """Import the handler: ``(handler, None)`` or ``(None, error document)``."""
    try:
        return get_handler(handler_name), None
    except FaultException as e:
        return None, fault_to_error(e)
    except Exception as e:
        return None, exception_to_error(e, runtime_dir)


def handle_invocation(request_handler, invocation, marshaller, runtime_dir, environ=None):
    """Run the handler on one invocation and marshal its result, as AWS's runtime does."""
    try:
        context = create_lambda_context(invocation, environ)
        event = marshaller.unmarshal_request(invocation.body, invocation.content_type)
        result = request_handler(event, context)
        body, content_type = marshaller.marshal_response(result)
    except FaultException as e:
        return Outcome(error=fault_to_error(e, invocation.request_id))
    except Exception as e:
        return Outcome(error=exception_to_error(e, runtime_dir, invocation.request_id))
    return Outcome(body=body, content_type=content_type)


def update_xray_env(trace_id, environ=None):
    env = os.environ if environ is None else environ
    if trace_id is not None:
        env["_X_AMZN_TRACE_ID"] = trace_id
    else:
        env.pop("_X_AMZN_TRACE_ID", None)


def _warning_enabled():
    level = (os.environ.get("AWS_LAMBDA_LOG_LEVEL") or "").upper()
    return level not in ("ERROR", "CRITICAL", "FATAL")


def init(handler_name, client, runtime_dir, write=None):
    """Import the handler, or report the INIT error to the Runtime API and exit(1)."""
    write = write or logs.write_stdout
    request_handler, error = load_handler(handler_name, runtime_dir)
    if error is None:
        return request_handler
    if _warning_enabled():
        write(logs.format_text_record("WARNING", UNHANDLED_EXCEPTION_WARNING, ""))
    write(format_error_log(error))
    try:
        client.post_init_error(error)
    except Exception as e:
        sys.stderr.write("lambdabox runtime: could not report the init error: %s\n" % (e,))
    sys.exit(1)


def run(handler_name, client, runtime_dir, marshaller=None, max_invocations=None, write=None):
    """INIT, then serve invocations until the process is stopped (or ``max_invocations``)."""
    write = write or logs.write_stdout
    request_handler = init(handler_name, client, runtime_dir, write)
    marshaller = marshaller or LambdaMarshaller()
    served = 0
    while max_invocations is None or served < max_invocations:
        invocation = client.wait_next_invocation()
        logs.set_request_id(invocation.request_id)
        update_xray_env(invocation.trace_id)
        outcome = handle_invocation(request_handler, invocation, marshaller, runtime_dir)
        try:
            if outcome.is_error:
                write(format_error_log(outcome.error))
                client.post_invocation_error(invocation.request_id, outcome.error)
            else:
                client.post_invocation_result(
                    invocation.request_id, outcome.body, outcome.content_type
                )
        except RuntimeApiError as e:
            # The Runtime API refused the result (e.g. 413, too large): it has recorded the
            # invocation's failure itself; this environment can go on serving.
            sys.stderr.write("lambdabox runtime: %s\n" % (e,))
        served += 1
