"""Lambdabox's runtime interface client for Python: AWS Lambda's managed-runtime behaviour.

Modules:
- ``main``: process set-up (sys.path, stdout, environment) and the wiring of the parts.
- ``invoke``: INIT (handler import) and the invocation loop; takes its client as a parameter.
- ``handler``: parsing and importing ``_HANDLER`` with AWS's error types and messages.
- ``faults``: AWS's error documents (``errorMessage``/``errorType``/``requestId``/``stackTrace``).
- ``context``: the ``LambdaContext`` handed to the handler.
- ``marshal``: JSON (un)marshalling of events and results, as AWS's runtime does it.
- ``logs``: unbuffered stdout/stderr, the request id, and AWS's ``logging`` set-up.
- ``runtime_api``: the Runtime API 2018-06-01 client over ``httpconn``.
- ``httpconn``: a small keep-alive HTTP/1.1 connection (``http.client`` costs ~30 ms of imports).
"""
