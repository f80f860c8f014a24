"""Client of the Lambda Runtime API 2018-06-01, over one keep-alive ``HttpConnection``.

The connection is a parameter: anything with ``request(method, path, body, headers)``
returning an object with ``status``, ``headers`` (lower-case names) and ``body`` will do.
"""

from . import fastjson as json

API_PREFIX = "/2018-06-01/runtime"
ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"


class RuntimeApiError(Exception):
    def __init__(self, endpoint, status, body):
        self.endpoint = endpoint
        self.status = status
        self.body = body
        super().__init__(
            "Request to Lambda Runtime '{}' endpoint failed. Reason: '{}'. Response body: '{}'".format(
                endpoint, status, body
            )
        )


class Invocation(object):
    """One event from ``/invocation/next`` with the headers that describe it."""

    __slots__ = [
        "request_id",
        "deadline_ms",
        "invoked_function_arn",
        "trace_id",
        "client_context",
        "cognito_identity",
        "tenant_id",
        "content_type",
        "body",
    ]

    def __init__(self, request_id, body, deadline_ms=0, invoked_function_arn=None,
                 trace_id=None, client_context=None, cognito_identity=None,
                 tenant_id=None, content_type="application/json"):
        self.request_id = request_id
        self.body = body
        self.deadline_ms = deadline_ms
        self.invoked_function_arn = invoked_function_arn
        self.trace_id = trace_id
        self.client_context = client_context
        self.cognito_identity = cognito_identity
        self.tenant_id = tenant_id
        self.content_type = content_type

    @classmethod
    def from_response(cls, headers, body):
        deadline = headers.get("lambda-runtime-deadline-ms")
        try:
            deadline_ms = int(deadline) if deadline else 0
        except ValueError:
            deadline_ms = 0
        return cls(
            request_id=headers.get("lambda-runtime-aws-request-id"),
            body=body,
            deadline_ms=deadline_ms,
            invoked_function_arn=headers.get("lambda-runtime-invoked-function-arn"),
            trace_id=headers.get("lambda-runtime-trace-id") or None,
            client_context=headers.get("lambda-runtime-client-context") or None,
            cognito_identity=headers.get("lambda-runtime-cognito-identity") or None,
            tenant_id=headers.get("lambda-runtime-aws-tenant-id") or None,
            content_type=headers.get("content-type") or None,
        )


_ID_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~")


def _quote(request_id):
    if all(c in _ID_SAFE for c in request_id):
        return request_id
    from urllib.parse import quote

    return quote(request_id, safe="")


class RuntimeApiClient(object):
    def __init__(self, connection):
        self.connection = connection

    def wait_next_invocation(self):
        endpoint = API_PREFIX + "/invocation/next"
        response = self.connection.request("GET", endpoint)
        if response.status != 200:
            raise RuntimeApiError(endpoint, response.status, response.body)
        invocation = Invocation.from_response(response.headers, response.body)
        if not invocation.request_id:
            raise RuntimeApiError(endpoint, response.status, "no Lambda-Runtime-Aws-Request-Id header")
        return invocation

    def _post(self, endpoint, body, headers):
        response = self.connection.request("POST", endpoint, body, headers)
        if not 200 <= response.status < 300:
            raise RuntimeApiError(endpoint, response.status, response.body)
        return response

    def post_invocation_result(self, request_id, body, content_type="application/json"):
        endpoint = "%s/invocation/%s/response" % (API_PREFIX, _quote(request_id))
        return self._post(endpoint, body, [("Content-Type", content_type)])

    def post_invocation_error(self, request_id, error):
        endpoint = "%s/invocation/%s/error" % (API_PREFIX, _quote(request_id))
        return self._post(endpoint, _error_body(error), _error_headers(error))

    def post_init_error(self, error):
        endpoint = API_PREFIX + "/init/error"
        return self._post(endpoint, _error_body(error), _error_headers(error))


def _error_body(error):
    return json.dumps(error).encode("utf-8", "surrogatepass")


def _error_headers(error):
    return [
        ("Content-Type", "application/json"),
        (ERROR_TYPE_HEADER, error.get("errorType") or "Runtime.Unknown"),
    ]
