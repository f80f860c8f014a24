"""Every operation of every service Lambdabox serves, generated from botocore's models.

For each operation in the model of Lambda, CloudWatch Logs, API Gateway v2,
S3 and STS, a minimal request (the required members, each a value its
constraints allow) is sent through boto3 with client-side validation off.
Whatever the server does with it, the answer must be one a client of that
service understands:

- a success (2xx), whose parsed body is checked against the operation's
  output shape (types, required members, enums, lengths, ranges, patterns);
- or an error in the service's own protocol that botocore parses into a
  code, with a 4xx status (501 for S3's `NotImplemented`), never a 5xx and
  never a body botocore cannot read.

Operations Lambdabox does not implement are covered the same way: they must
answer the service's "unknown operation" error, not an empty 405 or another
service's JSON. The counts are printed at the end of the run.
"""

from __future__ import annotations

import boto3
import botocore.exceptions
import botocore.parsers
import pytest
from botocore.config import Config

from model import minimal_request, service_model, validate

SERVICES = ["lambda", "logs", "apigatewayv2", "s3", "iam", "sts", "sqs", "scheduler"]

# Operations whose minimal request would tie the shared server up or that
# botocore cannot send without a real stream; each with the reason.
SKIP = {
    ("lambda", "InvokeWithResponseStream"): "an event stream response; covered by its 404 in test_dispatch",
    ("logs", "StartLiveTail"): "an event stream over HTTP/2",
    ("s3", "SelectObjectContent"): "an event stream response",
    ("s3", "WriteGetObjectResponse"): "sent to an S3 Object Lambda host, not the endpoint",
    ("s3", "CreateSession"): "S3 Express directory buckets only",
    ("logs", "GetLogObject"): "sent to a `stream-` host prefix, which names no host here",
}

# Answers AWS itself gives outside its own model, each with what is checked instead.
OUTSIDE_THE_MODEL = {
    # GetUser without a UserName, signed by the account root: AWS answers
    # UserId (the account), Arn (`…:root`) and CreateDate, no UserName or Path.
    ("iam", "GetUser"): lambda body: body["User"]["Arn"].endswith(":root") and body["User"]["UserId"].isdigit(),
}

# Where AWS answers an unimplemented S3 operation with 501 NotImplemented.
ALLOWED_5XX = {("s3", 501)}

from model import RESULTS  # noqa: E402


def cases():
    for service in SERVICES:
        model = service_model(service)
        for op in sorted(model.operation_names):
            marks = [pytest.mark.skip(reason=SKIP[(service, op)])] if (service, op) in SKIP else []
            yield pytest.param(service, op, id=f"{service}.{op}", marks=marks)


def client(server, service):
    return boto3.client(
        service,
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(
            parameter_validation=False,
            retries={"total_max_attempts": 1},
            read_timeout=30,
            connect_timeout=5,
            s3={"addressing_style": "path"},
        ),
    )


@pytest.fixture(scope="module")
def clients(conformance_server):
    made = {s: client(conformance_server, s) for s in SERVICES}
    made["s3"].create_bucket(Bucket="conformance-bucket")
    made["sqs"].create_queue(QueueName="conformance-queue")
    return made


@pytest.mark.parametrize("service, operation", list(cases()))
def test_every_operation_gets_an_answer_its_client_understands(clients, service, operation):
    c = clients[service]
    model = service_model(service)
    op = model.operation_model(operation)
    method = getattr(c, botocore_method(c, operation))
    params = minimal_request(op)
    if service == "sqs":
        # DeleteQueue runs among the others: each finds the queue there.
        clients["sqs"].create_queue(QueueName="conformance-queue")
    try:
        response = method(**params)
    except botocore.exceptions.ClientError as e:
        status = e.response["ResponseMetadata"]["HTTPStatusCode"]
        code = e.response.get("Error", {}).get("Code")
        RESULTS[service][f"error {status} {code}"] += 1
        assert code, f"{service}.{operation}: an error without a code: {e.response}"
        assert status < 500 or (service, status) in ALLOWED_5XX, f"{service}.{operation}: {status} {code}"
        return
    except botocore.parsers.ResponseParserError as e:
        RESULTS[service]["unparseable"] += 1
        pytest.fail(f"{service}.{operation}: botocore could not parse the answer: {e}")
    RESULTS[service]["ok"] += 1
    body = {k: v for k, v in response.items() if k != "ResponseMetadata"}
    if (service, operation) in OUTSIDE_THE_MODEL:
        assert OUTSIDE_THE_MODEL[(service, operation)](body), f"{service}.{operation}: {body}"
        return
    problems = validate(op.output_shape, body).problems
    assert not problems, f"{service}.{operation} answered outside its output shape: {problems[:10]}"


def botocore_method(c, operation: str) -> str:
    return c.meta.method_to_api_mapping and next(
        name for name, api in c.meta.method_to_api_mapping.items() if api == operation
    )
