"""Each execution environment's own AWS endpoint and credentials.

As on AWS, a function finds `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and
`AWS_SESSION_TOKEN` in its environment; Lambdabox also sets
`AWS_ENDPOINT_URL` to a listener inside the environment's own network
namespace that serves the same APIs as the main port. The function's code is
ordinary boto3 code with no endpoint or credentials in it. Here boto3 comes
from a layer built from the test environment's own boto3 (a function that
bundles its SDK, as many do on AWS).
"""

from __future__ import annotations

import io
import json
import subprocess
import uuid
import zipfile
from pathlib import Path

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from support import REGION, aws_cli_env, aws_cli_path, make_zip, unique_name

HANDLER = r'''
import json, os
import boto3

def handler(event, context):
    op = event["op"]
    if op == "env":
        return {k: os.environ.get(k) for k in
                ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_REGION"]}
    if op == "s3-get":
        body = boto3.client("s3").get_object(Bucket=event["bucket"], Key=event["key"])["Body"].read()
        return {"body": body.decode()}
    if op == "s3-put":
        boto3.client("s3").put_object(Bucket=event["bucket"], Key=event["key"], Body=event["body"].encode())
        return {"ok": True}
    if op == "s3-list":
        listed = boto3.client("s3").list_objects_v2(Bucket=event["bucket"])
        return {"keys": [o["Key"] for o in listed.get("Contents", [])]}
    if op == "s3-with":
        c = event["creds"]
        s3 = boto3.client("s3", aws_access_key_id=c["AWS_ACCESS_KEY_ID"],
                          aws_secret_access_key=c["AWS_SECRET_ACCESS_KEY"],
                          aws_session_token=c["AWS_SESSION_TOKEN"])
        try:
            s3.list_objects_v2(Bucket=event["bucket"])
            return {"error": None}
        except Exception as e:
            return {"error": e.response["Error"]["Code"]}
    if op == "invoke":
        r = boto3.client("lambda").invoke(FunctionName=event["target"], Payload=json.dumps(event["payload"]))
        return {"status": r["StatusCode"], "payload": json.loads(r["Payload"].read())}
    if op == "logs":
        groups = boto3.client("logs").describe_log_groups(logGroupNamePrefix="/aws/lambda/" + event["name"])
        return {"groups": [g["logGroupName"] for g in groups["logGroups"]]}
    if op == "recurse":
        try:
            r = boto3.client("lambda").invoke(
                FunctionName=context.function_name, Payload=json.dumps({"op": "recurse", "n": event["n"] + 1}))
            return json.loads(r["Payload"].read())
        except Exception as e:
            return {"stopped_at": event["n"], "error": e.response["Error"]["Code"],
                    "message": e.response["Error"]["Message"]}
    if op == "whoami":
        return {"name": context.function_name}
    raise ValueError(op)
'''


def sdk_layer_zip() -> bytes:
    """boto3 and its dependencies from the test venv, laid out as a Python layer (`python/`)."""
    site = Path(boto3.__file__).parent.parent
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for top in ["boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py"]:
            path = site / top
            files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
            for f in files:
                zf.write(f, "python/" + str(f.relative_to(site)))
    return buf.getvalue()


@pytest.fixture(scope="module")
def sdk_layer(server):
    lam = server.client(REGION)
    return lam.publish_layer_version(LayerName=unique_name("boto3"), Content={"ZipFile": sdk_layer_zip()})["LayerVersionArn"]


@pytest.fixture
def s3(server):
    return boto3.client(
        "s3",
        endpoint_url=server.url,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1, "mode": "standard"}),
    )


def make_function(lam, layer, name=None):
    name = name or unique_name("inside")
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role="arn:aws:iam::000000000000:role/lambda-role",
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": HANDLER})},
        Layers=[layer],
        Timeout=30,
        MemorySize=256,
    )
    return name


def call(lam, name, event):
    resp = lam.invoke(FunctionName=name, Payload=json.dumps(event))
    payload = json.loads(resp["Payload"].read())
    assert "FunctionError" not in resp, payload
    return payload


def test_the_environment_has_credentials_and_an_endpoint(server, lam, sdk_layer):
    name = make_function(lam, sdk_layer)
    env = call(lam, name, {"op": "env"})
    assert env["AWS_ACCESS_KEY_ID"].startswith("ASIA") and len(env["AWS_ACCESS_KEY_ID"]) == 20, env
    assert len(env["AWS_SECRET_ACCESS_KEY"]) == 40
    assert len(env["AWS_SESSION_TOKEN"]) > 100
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:9002"
    assert env["AWS_REGION"] == REGION
    # Each environment has its own: another function's differ, and so do a
    # new environment's of the same function after an update.
    other = call(lam, make_function(lam, sdk_layer), {"op": "env"})
    assert other["AWS_ACCESS_KEY_ID"] != env["AWS_ACCESS_KEY_ID"]
    assert other["AWS_SECRET_ACCESS_KEY"] != env["AWS_SECRET_ACCESS_KEY"]
    lam.update_function_configuration(FunctionName=name, Description="new environment")
    lam.get_waiter("function_updated_v2").wait(FunctionName=name)
    again = call(lam, name, {"op": "env"})
    assert again["AWS_ACCESS_KEY_ID"] != env["AWS_ACCESS_KEY_ID"]


def test_unchanged_boto3_code_reads_an_object_the_cli_uploaded(server, lam, s3, sdk_layer, tmp_path):
    bucket = f"inside-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    src = tmp_path / "hello.txt"
    src.write_text("uploaded by the AWS CLI\n")
    cmd = [str(aws_cli_path()), "s3", "cp", str(src), f"s3://{bucket}/hello.txt", "--endpoint-url", server.url]
    proc = subprocess.run(cmd, env=aws_cli_env(), capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr

    name = make_function(lam, sdk_layer)
    assert call(lam, name, {"op": "s3-get", "bucket": bucket, "key": "hello.txt"}) == {"body": "uploaded by the AWS CLI\n"}
    assert call(lam, name, {"op": "s3-put", "bucket": bucket, "key": "from-inside", "body": "written inside"}) == {"ok": True}
    assert s3.get_object(Bucket=bucket, Key="from-inside")["Body"].read() == b"written inside"
    assert call(lam, name, {"op": "s3-list", "bucket": bucket}) == {"keys": ["from-inside", "hello.txt"]}


def test_a_function_invokes_another(server, lam, sdk_layer):
    caller = make_function(lam, sdk_layer)
    callee = make_function(lam, sdk_layer)
    out = call(lam, caller, {"op": "invoke", "target": callee, "payload": {"op": "whoami"}})
    assert out == {"status": 200, "payload": {"name": callee}}


def test_logs_are_readable_from_inside(server, lam, sdk_layer):
    name = make_function(lam, sdk_layer)
    assert call(lam, name, {"op": "logs", "name": name}) == {"groups": [f"/aws/lambda/{name}"]}


def test_the_credentials_are_useless_outside_their_environment(server, lam, s3, sdk_layer):
    bucket = f"creds-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    a = make_function(lam, sdk_layer)
    b = make_function(lam, sdk_layer)
    creds = call(lam, a, {"op": "env"})

    # On the main port the environment's key is unknown.
    outside = boto3.client(
        "s3",
        endpoint_url=server.url,
        region_name=REGION,
        aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=creds["AWS_SESSION_TOKEN"],
        config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1, "mode": "standard"}),
    )
    with pytest.raises(botocore.exceptions.ClientError) as e:
        outside.list_objects_v2(Bucket=bucket)
    assert e.value.response["Error"]["Code"] == "InvalidAccessKeyId"

    # Through another function's endpoint it is unknown too; its own work.
    assert call(lam, b, {"op": "s3-with", "creds": creds, "bucket": bucket}) == {"error": "InvalidAccessKeyId"}
    assert call(lam, a, {"op": "s3-with", "creds": creds, "bucket": bucket}) == {"error": None}


def test_a_function_invoking_itself_is_stopped_after_16(server, lam, sdk_layer):
    """AWS's recursive loop detection: the 17th invocation in one chain is refused
    (RecursiveInvocationException, 400) and the caller sees the error."""
    name = make_function(lam, sdk_layer)
    out = call(lam, name, {"op": "recurse", "n": 1})
    assert out["stopped_at"] == 16, out
    assert out["error"] == "RecursiveInvocationException"
    assert "recursive loop" in out["message"]
