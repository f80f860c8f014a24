"""AWS Lambda's error documents for the Python runtime, and how they are logged.

An error document is the JSON object posted to ``/runtime/init/error`` or
``/runtime/invocation/{id}/error``. AWS's Python runtime always writes the four keys in
this order: ``errorMessage``, ``errorType``, ``requestId`` (``""`` during INIT) and
``stackTrace`` (a list of ``traceback.format_list`` strings, ``[]`` when there is none).
"""

import os


class FaultException(Exception):
    """A failure the runtime itself diagnoses, with one of AWS's ``Runtime.*`` error types."""

    MARSHAL_ERROR = "Runtime.MarshalError"
    UNMARSHAL_ERROR = "Runtime.UnmarshalError"
    USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
    HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
    IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
    BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
    MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"
    LAMBDA_CONTEXT_UNMARSHAL_ERROR = "Runtime.LambdaContextUnmarshalError"

    def __init__(self, exception_type, msg, trace=None):
        super().__init__(msg)
        self.exception_type = exception_type
        self.msg = msg
        self.trace = trace


def make_error(error_message, error_type, stack_trace, request_id=None):
    """The error document, keys in AWS's order."""
    return {
        "errorMessage": error_message if error_message else "",
        "errorType": error_type if error_type else "",
        "requestId": request_id if request_id is not None else "",
        "stackTrace": stack_trace if stack_trace else [],
    }


def fault_to_error(fault, request_id=None):
    return make_error(fault.msg, fault.exception_type, fault.trace, request_id)


def is_runtime_frame(filename, runtime_dir):
    """Whether a frame is in the runtime's own code: ``bootstrap.py`` or this package."""
    return filename == os.path.join(runtime_dir, "bootstrap.py") or filename.startswith(
        os.path.join(runtime_dir, "lambdabox_ric", "")
    )


def exception_to_error(exc, runtime_dir, request_id=None):
    """The error document for an exception raised by user code.

    As AWS does, the frames of the runtime itself that lead into user code are dropped:
    the trace starts at the first frame that is not the runtime's (see ``is_runtime_frame``).
    """
    import traceback  # the error path only: keeps ~10 ms of imports off the cold start

    frames = [
        (f.filename, f.lineno, f.name, f.line)
        for f in traceback.extract_tb(exc.__traceback__)
    ]
    for i, frame in enumerate(frames):
        if not is_runtime_frame(frame[0], runtime_dir):
            frames = frames[i:]
            break
    return make_error(
        str(exc), type(exc).__name__, traceback.format_list(frames), request_id
    )


# AWS's text log of an error: one record whose lines are separated by '\r' (so that
# CloudWatch keeps it as one event), indentation turned into no-break spaces.
_LINE_SEPARATOR = "\r"
_INDENT = "\u00a0"


def _replace_indentation(line):
    stripped = line.lstrip(" ")
    return _INDENT * (len(line) - len(stripped)) + stripped


def format_error_log(error):
    """The text the runtime prints to stdout for an error document (ends with a newline)."""
    description = "[ERROR]"
    error_type = error.get("errorType")
    if error_type:
        description += " " + error_type
    message = error.get("errorMessage")
    if message:
        if error_type:
            description += ":"
        description += " " + message
    lines = [description]
    stack = error.get("stackTrace")
    if stack is not None:
        lines.append("Traceback (most recent call last):")
        for element in stack:
            if element == "":
                lines.append("")
            else:
                lines.extend(_replace_indentation(l) for l in element.splitlines())
    return _LINE_SEPARATOR.join(lines) + "\n"
