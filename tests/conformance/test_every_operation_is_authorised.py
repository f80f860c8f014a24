"""Under `--auth iam`, every operation of every served service is authorised.

Generated from botocore's models like `test_every_operation.py`: each
operation's minimal request is signed by an IAM user that has no policies.
None may succeed, and none may be answered by acting: the answer must be the
service's access-denied error (Lambda's, API Gateway's and Logs'
`AccessDeniedException`, S3's, IAM's, STS's and SQS's `AccessDenied`), or, for an
operation Lambdabox does not implement, the service's unknown-operation
error, or a validation error about the request itself. The same minimal
requests then succeed or fail for the account root exactly as under
`--auth open` (covered by `test_every_operation.py`).

One allowed exception, as on AWS: `sts:GetCallerIdentity` needs no
permission.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import boto3
import botocore.exceptions
import botocore.parsers
import pytest
from botocore.config import Config

from model import minimal_request, service_model
from test_every_operation import SERVICES, botocore_method, cases

# HEAD answers carry no body: S3's access denied is then a bare 403.
DENIED = {"AccessDeniedException", "AccessDenied", "403"}
# Answers that mean "nothing was done, and not because of a policy": the
# operation is not implemented, or the request is malformed for its model.
NOT_ACTED = {
    "UnknownOperationException", "InvalidAction", "NotImplemented", "ValidationException", "ValidationError",
    "InvalidParameterValueException", "SerializationException", "InvalidRequestContentException",
    "BadRequestException", "MissingAction", "InvalidArgument", "MalformedXML", "InvalidRequest",
    "MethodNotAllowed", "NotFoundException", "InvalidInput",
    # SQS's names for a malformed request (a task handle that is no handle).
    "InvalidParameterValue",
    # S3 Express's directory-bucket listing, which s3s answers with a bare 400.
    "400",
}
NEEDS_NO_PERMISSION = {("sts", "GetCallerIdentity")}


@pytest.fixture(scope="module")
def iam_server(tmp_path_factory):
    from support import Server

    root = Path(tempfile.mkdtemp(prefix="lambdabox-authz-"))
    root.chmod(0o711)
    logs = tmp_path_factory.mktemp("authz-logs")
    srv = Server(root / "data", logs, name="authz").start(env={"LAMBDABOX_AUTH": "iam"})
    yield srv
    if srv.running:
        srv.stop()
    shutil.rmtree(root, ignore_errors=True)


def make(server, service, key, secret):
    return boto3.client(
        service, endpoint_url=server.url, region_name="us-east-1", aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(parameter_validation=False, retries={"total_max_attempts": 1}, read_timeout=30,
                      connect_timeout=5, s3={"addressing_style": "path"}),
    )


@pytest.fixture(scope="module")
def nobody(iam_server):
    root_iam = make(iam_server, "iam", "test", "test")
    root_iam.create_user(UserName="nobody")
    key = root_iam.create_access_key(UserName="nobody")["AccessKey"]
    make(iam_server, "s3", "test", "test").create_bucket(Bucket="conformance-bucket")
    make(iam_server, "sqs", "test", "test").create_queue(QueueName="conformance-queue")
    return {s: make(iam_server, s, key["AccessKeyId"], key["SecretAccessKey"]) for s in SERVICES}


@pytest.mark.parametrize("service, operation", list(cases()))
def test_a_caller_without_permissions_is_refused_every_operation(nobody, service, operation):
    c = nobody[service]
    op = service_model(service).operation_model(operation)
    method = getattr(c, botocore_method(c, operation))
    try:
        method(**minimal_request(op))
    except botocore.exceptions.ClientError as e:
        code = e.response.get("Error", {}).get("Code")
        assert code in DENIED | NOT_ACTED, f"{service}.{operation}: answered {code}: {e.response.get('Error')}"
        return
    except botocore.parsers.ResponseParserError as e:
        pytest.fail(f"{service}.{operation}: botocore could not parse the answer: {e}")
    assert (service, operation) in NEEDS_NO_PERMISSION, f"{service}.{operation} succeeded for a caller without permissions"
