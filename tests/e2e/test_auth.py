"""`serve --auth iam`: every request carries a valid SigV4 signature from a known key.

Each service refuses unsigned, wrongly signed, unknown-key and stale requests
with its own error (Lambda, API Gateway: 403 with `x-amzn-ErrorType`; Logs:
400 JSON `__type`; STS: query-protocol XML; S3: its XML codes). A body is
covered by its signature: a tampered one is refused, whether it was read
whole (up to 8 MiB) or checked as it streamed. STS GetCallerIdentity answers
(the account root for `--credentials` keys, the function's assumed role for
its own session key). `--auth open`, the default, says on the console that
requests are not authenticated, and answers as before.
"""

from __future__ import annotations

import datetime
import hashlib
import http.client
import json
import os
import subprocess
import uuid
from unittest import mock

import boto3
import botocore.compat
import botocore.exceptions
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from support import aws_client as client
from support import REGION, aws_cli_env, aws_cli_path, make_zip, unique_name

ROLE = "arn:aws:iam::000000000000:role/app-role"


@pytest.fixture(scope="module")
def iam_server(data_root, server_logs):
    from support import Server

    srv = Server(data_root / f"auth-{uuid.uuid4().hex[:6]}", server_logs, name="auth-iam")
    srv.start(env={"LAMBDABOX_AUTH": "iam"})
    # Under iam, a function's role must exist and trust Lambda (iam:PassRole);
    # its policies are what the function may do.
    iam = client(srv, "iam")
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    iam.create_role(RoleName="app-role", AssumeRolePolicyDocument=json.dumps(trust))
    iam.attach_role_policy(RoleName="app-role", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    yield srv
    if srv.running:
        srv.stop()


def raw(server, method, path, body=b"", headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data


def test_the_console_says_which_mode_is_on(iam_server, fresh):
    assert "--auth iam: every request must be signed" in iam_server.stdout_log.read_text()
    assert "requests are NOT authenticated" in fresh.stdout_log.read_text()


@pytest.mark.parametrize(
    "method, path, headers, status, code",
    [
        ("GET", "/2015-03-31/functions/", {}, 403, "MissingAuthenticationTokenException"),
        ("GET", "/v2/apis", {}, 403, "MissingAuthenticationTokenException"),
        ("POST", "/", {"X-Amz-Target": "Logs_20140328.DescribeLogGroups", "Content-Type": "application/x-amz-json-1.1"}, 400, "MissingAuthenticationTokenException"),
    ],
    ids=["lambda", "apigatewayv2", "logs"],
)
def test_unsigned_requests_are_refused_in_each_services_shape(iam_server, method, path, headers, status, code):
    got, hdrs, body = raw(iam_server, method, path, b"{}" if method == "POST" else b"", headers)
    assert got == status, body
    assert json.loads(body)["__type"] == code or hdrs.get("x-amzn-errortype") == code, (hdrs, body)


def test_unsigned_s3_is_access_denied(iam_server):
    status, _, body = raw(iam_server, "GET", "/", headers={"Host": "s3.localhost"})
    assert status == 403 and b"<Code>AccessDenied</Code>" in body, body


CALLS = {
    "lambda": lambda c: c.list_functions(),
    "logs": lambda c: c.describe_log_groups(),
    "apigatewayv2": lambda c: c.get_apis(),
    "sts": lambda c: c.get_caller_identity(),
    "iam": lambda c: c.list_users(),
    "s3": lambda c: c.list_buckets(),
}


@pytest.mark.parametrize(
    "service, wrong_secret, unknown_key",
    [
        ("lambda", "InvalidSignatureException", "UnrecognizedClientException"),
        ("logs", "InvalidSignatureException", "UnrecognizedClientException"),
        ("apigatewayv2", "InvalidSignatureException", "UnrecognizedClientException"),
        ("sts", "SignatureDoesNotMatch", "InvalidClientTokenId"),
        ("iam", "SignatureDoesNotMatch", "InvalidClientTokenId"),
        ("s3", "SignatureDoesNotMatch", "InvalidAccessKeyId"),
    ],
)
def test_bad_signatures_and_unknown_keys_are_refused(iam_server, service, wrong_secret, unknown_key):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        CALLS[service](client(iam_server, service, secret="not-the-secret"))
    assert e.value.response["Error"]["Code"] == wrong_secret, e.value.response
    with pytest.raises(botocore.exceptions.ClientError) as e:
        CALLS[service](client(iam_server, service, key="AKIANOBODYKNOWS00000"))
    assert e.value.response["Error"]["Code"] == unknown_key, e.value.response
    # Signed with the right key, the same call succeeds.
    CALLS[service](client(iam_server, service))


def test_a_signature_older_than_15_minutes_is_refused(iam_server):
    stale = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(minutes=20)
    with mock.patch("botocore.auth.get_current_datetime", return_value=stale):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            client(iam_server, "lambda").list_functions()
    assert e.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert "Signature expired" in e.value.response["Error"]["Message"]


def signed(server, method, path, body, service="lambda", headers=None):
    req = AWSRequest(method=method, url=server.url + path, data=body, headers=dict(headers or {}))
    SigV4Auth(Credentials("test", "test"), service, REGION).add_auth(req)
    return dict(req.headers)


def test_a_tampered_body_is_refused_small_or_streamed(iam_server):
    lam = client(iam_server, "lambda")
    for size in (1000, 9 << 20):  # read whole, and hashed as it streams
        name = unique_name("tamper")
        package = make_zip({"app.py": "def handler(e, c):\n    return 1\n", "pad.bin": os.urandom(size)})
        import base64

        body = json.dumps({
            "FunctionName": name, "Runtime": "python3.12", "Role": ROLE, "Handler": "app.handler",
            "Code": {"ZipFile": base64.b64encode(package).decode()},
        }).encode()
        headers = signed(iam_server, "POST", "/2015-03-31/functions", body, headers={"Content-Type": "application/json"})
        tampered = body.replace(b'"Handler": "app.handler"', b'"Handler": "app.hacked!"')
        assert len(tampered) == len(body) and tampered != body
        status, _, answer = raw(iam_server, "POST", "/2015-03-31/functions", tampered, headers)
        assert status >= 400, (size, answer[:300])
        with pytest.raises(lam.exceptions.ResourceNotFoundException):
            lam.get_function(FunctionName=name)
        # The untampered body, signed the same way, is accepted.
        status, _, answer = raw(iam_server, "POST", "/2015-03-31/functions", body, headers)
        assert status == 201, (size, answer[:300])


def test_a_payload_hash_that_does_not_match_the_body_is_refused(iam_server):
    body = b"{}"
    headers = signed(iam_server, "GET", "/2015-03-31/functions/", b"",
                     headers={"X-Amz-Content-SHA256": hashlib.sha256(b"something else").hexdigest()})
    status, hdrs, answer = raw(iam_server, "GET", "/2015-03-31/functions/", body, headers)
    assert status == 403 and hdrs.get("x-amzn-errortype") == "InvalidSignatureException", answer


@pytest.mark.parametrize("mode", ["iam", "open"])
def test_an_s3_body_that_does_not_match_its_signed_hash_is_refused(iam_server, server, mode):
    srv = iam_server if mode == "iam" else server
    s3 = client(srv, "s3", s3={"addressing_style": "path"})
    bucket = f"hash-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    path = f"/{bucket}/k"
    original, tampered = b"the signed body", b"another body!!!"
    headers = signed(srv, "PUT", path, original, service="s3",
                     headers={"Host": "s3.localhost", "X-Amz-Content-SHA256": hashlib.sha256(original).hexdigest()})
    status, _, answer = raw(srv, "PUT", path, tampered, headers)
    assert status == 400 and b"<Code>XAmzContentSHA256Mismatch</Code>" in answer, (status, answer)
    with pytest.raises(botocore.exceptions.ClientError):
        s3.head_object(Bucket=bucket, Key="k")
    # The body it was signed for is accepted.
    status, _, answer = raw(srv, "PUT", path, original, headers)
    assert status == 200, answer
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == original


def test_sts_get_caller_identity_answers_through_the_cli(iam_server, server):
    for srv in (iam_server, server):
        proc = subprocess.run(
            [str(aws_cli_path()), "sts", "get-caller-identity", "--endpoint-url", srv.url, "--output", "json"],
            env=aws_cli_env(), capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
        )
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout) == {
            "UserId": "000000000000", "Account": "000000000000", "Arn": "arn:aws:iam::000000000000:root"}


def test_a_function_calls_aws_with_its_own_credentials_under_iam(iam_server):
    lam = client(iam_server, "lambda")
    s3 = client(iam_server, "s3", s3={"addressing_style": "path"})
    bucket = f"auth-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"signed inside")
    code = """
import boto3
def handler(event, context):
    return {
        "body": boto3.client("s3").get_object(Bucket=event["bucket"], Key="k")["Body"].read().decode(),
        "me": boto3.client("sts").get_caller_identity()["Arn"],
        "functions": len(boto3.client("lambda").list_functions()["Functions"]) > 0,
    }
"""
    name = unique_name("inside")
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": make_zip({"app.py": code})}, Timeout=30)
    resp = lam.invoke(FunctionName=name, Payload=json.dumps({"bucket": bucket}))
    out = json.loads(resp["Payload"].read())
    assert "FunctionError" not in resp, out
    assert out == {"body": "signed inside", "me": f"arn:aws:sts::000000000000:assumed-role/app-role/{name}", "functions": True}


def test_a_functions_credentials_are_refused_on_the_main_port(iam_server):
    lam = client(iam_server, "lambda")
    name = unique_name("creds")
    code = "import os\ndef handler(e, c):\n    return {k: os.environ[k] for k in ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']}\n"
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": make_zip({"app.py": code})})
    creds = json.loads(lam.invoke(FunctionName=name)["Payload"].read())
    outside = boto3.client(
        "lambda", endpoint_url=iam_server.url, region_name=REGION,
        aws_access_key_id=creds["AWS_ACCESS_KEY_ID"], aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=creds["AWS_SESSION_TOKEN"], config=Config(retries={"total_max_attempts": 1}),
    )
    with pytest.raises(botocore.exceptions.ClientError) as e:
        outside.list_functions()
    assert e.value.response["Error"]["Code"] == "UnrecognizedClientException"
