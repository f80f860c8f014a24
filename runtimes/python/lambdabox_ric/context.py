"""The context object handed to a Python handler, with the attributes of AWS's ``LambdaContext``.

Function facts come from the environment (read once per invocation, as AWS does), the
invocation's facts from the Runtime API headers. Like AWS's runtime, ``memory_limit_in_mb``
is the environment's string (``"128"``), ``identity`` is always a ``CognitoIdentity`` (its
fields ``None`` when the header is absent) and ``client_context`` is ``None`` or a
``ClientContext`` whose ``client`` is a ``Client``.
"""

from . import fastjson as json
import os
import time

from .faults import FaultException


class CognitoIdentity(object):
    __slots__ = ["cognito_identity_id", "cognito_identity_pool_id"]

    def __repr__(self):
        return (
            "CognitoIdentity([cognito_identity_id={},cognito_identity_pool_id={}])".format(
                self.cognito_identity_id, self.cognito_identity_pool_id
            )
        )


class Client(object):
    __slots__ = [
        "installation_id",
        "app_title",
        "app_version_name",
        "app_version_code",
        "app_package_name",
    ]

    def __repr__(self):
        return "Client([{}])".format(
            ",".join("{}={}".format(k, getattr(self, k)) for k in self.__slots__)
        )


class ClientContext(object):
    __slots__ = ["custom", "env", "client"]

    def __repr__(self):
        return "ClientContext([custom={},env={},client={}])".format(
            self.custom, self.env, self.client
        )


def _from_dict(cls, values):
    if values is None:
        return None
    obj = cls()
    for field in cls.__slots__:
        setattr(obj, field, values.get(field))
    return obj


class LambdaContext(object):
    def __init__(
        self,
        invoke_id,
        client_context,
        cognito_identity,
        epoch_deadline_time_in_ms,
        invoked_function_arn=None,
        tenant_id=None,
        environ=None,
    ):
        env = os.environ if environ is None else environ
        self.aws_request_id = invoke_id
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_function_arn
        self.tenant_id = tenant_id

        self.client_context = _from_dict(ClientContext, client_context)
        if self.client_context is not None:
            self.client_context.client = _from_dict(Client, self.client_context.client)

        self.identity = _from_dict(CognitoIdentity, {})
        if cognito_identity is not None:
            self.identity.cognito_identity_id = cognito_identity.get("cognitoIdentityId")
            self.identity.cognito_identity_pool_id = cognito_identity.get(
                "cognitoIdentityPoolId"
            )

        self._epoch_deadline_time_in_ms = epoch_deadline_time_in_ms

    def get_remaining_time_in_millis(self):
        remaining = self._epoch_deadline_time_in_ms - int(time.time() * 1000)
        return remaining if remaining > 0 else 0

    def log(self, msg):
        import sys

        sys.stdout.write(str(msg))

    def __repr__(self):
        return (
            "LambdaContext([aws_request_id={},log_group_name={},log_stream_name={},"
            "function_name={},memory_limit_in_mb={},function_version={},"
            "invoked_function_arn={},client_context={},identity={},tenant_id={}])".format(
                self.aws_request_id,
                self.log_group_name,
                self.log_stream_name,
                self.function_name,
                self.memory_limit_in_mb,
                self.function_version,
                self.invoked_function_arn,
                self.client_context,
                self.identity,
                self.tenant_id,
            )
        )


def _parse_json_header(value, name):
    try:
        return json.loads(value)
    except Exception as e:
        raise FaultException(
            FaultException.LAMBDA_CONTEXT_UNMARSHAL_ERROR,
            "Unable to parse {} JSON: {}".format(name, e),
        )


def create_lambda_context(invocation, environ=None):
    """The ``LambdaContext`` of one invocation (a ``runtime_api.Invocation``)."""
    client_context = None
    if invocation.client_context:
        client_context = _parse_json_header(invocation.client_context, "Client Context")
    cognito_identity = None
    if invocation.cognito_identity:
        cognito_identity = _parse_json_header(invocation.cognito_identity, "Cognito Identity")
    return LambdaContext(
        invocation.request_id,
        client_context,
        cognito_identity,
        invocation.deadline_ms,
        invocation.invoked_function_arn,
        invocation.tenant_id,
        environ,
    )
