"""Deployment packages and layer contents taken from an external S3-compatible
service: moto's S3 server (an implementation not written here), reached
through `--code-s3-endpoint` with credentials.

The package is copied at CreateFunction/UpdateFunctionCode time: overwriting
the object changes nothing until the code is updated again, and a versioned
bucket's `S3ObjectVersion` picks the exact object. Missing buckets, keys and
versions are AWS's InvalidParameterValueException with S3's error in it.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from invoke_support import create, invoke, py_package
from support import REGION, ROLE, Server, aws_error, unique_name


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def moto_url(tmp_path_factory):
    """moto's standalone S3 server on loopback."""
    port = free_port()
    exe = Path(sys.executable).with_name("moto_server")
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(exe), "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=2)
            break
        except Exception:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"moto_server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def s3(moto_url):
    return boto3.client("s3", endpoint_url=moto_url, region_name=REGION, aws_access_key_id="test",
                        aws_secret_access_key="test", config=Config(s3={"addressing_style": "path"}))


@pytest.fixture(scope="module")
def ext_server(moto_url, data_root, server_logs):
    data = data_root / f"ext-s3-{uuid.uuid4().hex[:8]}"
    srv = Server(data, server_logs, name=data.name).start(env={
        "LAMBDABOX_CODE_S3_ENDPOINT": moto_url,
        "LAMBDABOX_CODE_S3_ACCESS_KEY_ID": "test",
        "LAMBDABOX_CODE_S3_SECRET_ACCESS_KEY": "test",
    })
    yield srv
    if srv.running:
        srv.stop()
    shutil.rmtree(data, ignore_errors=True)


def handler_returning(value: str) -> bytes:
    return py_package(f"def handler(event, context):\n    return {value!r}\n")


def test_function_code_is_copied_from_s3_at_create_and_update(ext_server, s3):
    lam = ext_server.client(REGION)
    bucket = f"code-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=bucket, Key="fn.zip", Body=handler_returning("v1"))["VersionId"]
    name = unique_name("s3fn")
    created = lam.create_function(FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="app.handler",
                                  Code={"S3Bucket": bucket, "S3Key": "fn.zip"})
    assert created["CodeSize"] == len(handler_returning("v1"))
    assert invoke(lam, name, {}).ok() == "v1"

    # Overwriting the object changes nothing until the code is updated.
    v2 = s3.put_object(Bucket=bucket, Key="fn.zip", Body=handler_returning("v2"))["VersionId"]
    assert v2 != v1
    assert invoke(lam, name, {}).ok() == "v1"

    # An explicit older version, then the newer one.
    lam.update_function_code(FunctionName=name, S3Bucket=bucket, S3Key="fn.zip", S3ObjectVersion=v1)
    assert invoke(lam, name, {}).ok() == "v1"
    lam.update_function_code(FunctionName=name, S3Bucket=bucket, S3Key="fn.zip", S3ObjectVersion=v2)
    assert invoke(lam, name, {}).ok() == "v2"


def test_s3_errors_are_aws_shaped(ext_server, s3):
    lam = ext_server.client(REGION)
    bucket = f"err-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="junk.zip", Body=b"this is not a zip")
    base = dict(Runtime="python3.11", Role=ROLE, Handler="app.handler")
    with aws_error(lam, "InvalidParameterValueException", 400) as e:
        lam.create_function(FunctionName=unique_name("e"), Code={"S3Bucket": bucket, "S3Key": "missing.zip"}, **base)
    assert e.message == ("Error occurred while GetObject. S3 Error Code: NoSuchKey. "
                         "S3 Error Message: The specified key does not exist.")
    with aws_error(lam, "InvalidParameterValueException", 400) as e:
        lam.create_function(FunctionName=unique_name("e"), Code={"S3Bucket": f"nobucket-{uuid.uuid4().hex[:8]}",
                                                                 "S3Key": "x.zip"}, **base)
    assert e.message.startswith("Error occurred while GetObject. S3 Error Code: NoSuchBucket. ")
    with aws_error(lam, "InvalidParameterValueException", 400) as e:
        lam.create_function(FunctionName=unique_name("e"), Code={"S3Bucket": bucket, "S3Key": "junk.zip"}, **base)
    assert "Could not unzip uploaded file" in e.message
    with aws_error(lam, "ValidationException", 400) as e:
        lam.create_function(FunctionName=unique_name("e"), Code={"S3Bucket": "a", "S3Key": "x.zip"}, **base)
    assert "at 's3Bucket' failed to satisfy constraint" in e.message


def test_layer_content_from_s3(ext_server, s3):
    lam = ext_server.client(REGION)
    bucket = f"layers-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    from invoke_support import package

    s3.put_object(Bucket=bucket, Key="layer.zip", Body=package({"python/s3_layer_lib.py": "V = 'layer from S3'\n"}))
    layer = lam.publish_layer_version(LayerName=unique_name("s3layer"), Content={"S3Bucket": bucket, "S3Key": "layer.zip"})
    fn = create(lam, py_package("import s3_layer_lib\ndef handler(e, c):\n    return s3_layer_lib.V\n"),
                Layers=[layer["LayerVersionArn"]])
    assert invoke(lam, fn, {}).ok() == "layer from S3"
