"""Code from the built-in S3 endpoint, as a person uses it: `aws s3 cp` a
package, `aws lambda create-function --code S3Bucket=…,S3Key=…`, then the
copy-at-create rule (overwriting the object changes nothing until the code is
updated), `S3ObjectVersion` on a versioned bucket, a 30 MB package uploaded by
multipart, layer contents from S3, and AWS-shaped errors."""

from __future__ import annotations

import io
import json
import os
import uuid
import zipfile

from invoke_support import invoke, py_package
from support import REGION, ROLE, aws_error, unique_name
from test_s3 import aws_s3


def handler_zip(value: str) -> bytes:
    return py_package(f"def handler(event, context):\n    return {value!r}\n")


def test_walkthrough_cp_then_create_function(server, tmp_path):
    lam = server.client()
    bucket = f"code-{uuid.uuid4().hex[:12]}"
    name = unique_name("s3walk")
    pkg = tmp_path / "app.zip"
    pkg.write_bytes(handler_zip("v1"))
    aws_s3(server, "s3", "mb", f"s3://{bucket}")
    aws_s3(server, "s3", "cp", str(pkg), f"s3://{bucket}/app.zip")
    out = server.aws("create-function", "--function-name", name, "--runtime", "python3.11", "--handler",
                     "app.handler", "--role", ROLE, "--code", f"S3Bucket={bucket},S3Key=app.zip").json
    assert out["CodeSize"] == pkg.stat().st_size
    assert invoke(lam, name, {}).ok() == "v1"

    # Overwriting the object changes nothing until the code is updated.
    pkg.write_bytes(handler_zip("v2"))
    aws_s3(server, "s3", "cp", str(pkg), f"s3://{bucket}/app.zip")
    assert invoke(lam, name, {}).ok() == "v1"
    server.aws("update-function-code", "--function-name", name, "--s3-bucket", bucket, "--s3-key", "app.zip")
    assert invoke(lam, name, {}).ok() == "v2"

    # With versioning, S3ObjectVersion picks the exact object.
    aws_s3(server, "s3api", "put-bucket-versioning", "--bucket", bucket,
           "--versioning-configuration", "Status=Enabled")
    pkg.write_bytes(handler_zip("v3"))
    v3 = json.loads(aws_s3(server, "s3api", "put-object", "--bucket", bucket, "--key", "app.zip", "--body",
                           str(pkg), "--output", "json").stdout)["VersionId"]
    pkg.write_bytes(handler_zip("v4"))
    aws_s3(server, "s3", "cp", str(pkg), f"s3://{bucket}/app.zip")
    server.aws("update-function-code", "--function-name", name, "--s3-bucket", bucket, "--s3-key", "app.zip",
               "--s3-object-version", v3)
    assert invoke(lam, name, {}).ok() == "v3"
    with aws_error(lam, "InvalidParameterValueException", 400) as e:
        lam.update_function_code(FunctionName=name, S3Bucket=bucket, S3Key="app.zip",
                                 S3ObjectVersion="0" * 32)
    assert e.message == ("Error occurred while GetObject. S3 Error Code: NoSuchVersion. "
                         "S3 Error Message: The specified version does not exist.")
    assert invoke(lam, name, {}).ok() == "v3"


def test_thirty_megabyte_package_through_multipart(server, tmp_path):
    lam = server.client()
    bucket = f"big-{uuid.uuid4().hex[:12]}"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", "import os\ndef handler(e, c):\n    return os.path.getsize('/var/task/blob.bin')\n")
        zf.writestr(zipfile.ZipInfo("blob.bin"), os.urandom(30 * 1024 * 1024))  # stored: incompressible
    pkg = tmp_path / "big.zip"
    pkg.write_bytes(buf.getvalue())
    aws_s3(server, "s3", "mb", f"s3://{bucket}")
    aws_s3(server, "s3", "cp", str(pkg), f"s3://{bucket}/big.zip")  # > 8 MB: the CLI uploads in parts
    head = json.loads(aws_s3(server, "s3api", "head-object", "--bucket", bucket, "--key", "big.zip",
                             "--output", "json").stdout)
    assert head["ETag"].strip('"').endswith("-4"), head["ETag"]
    name = unique_name("bigs3")
    created = lam.create_function(FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="app.handler",
                                  Code={"S3Bucket": bucket, "S3Key": "big.zip"}, Timeout=30)
    assert created["CodeSize"] == pkg.stat().st_size
    assert invoke(lam, name, {}).ok() == 30 * 1024 * 1024


def test_layer_from_builtin_s3_and_errors(server, tmp_path):
    lam = server.client()
    bucket = f"lay-{uuid.uuid4().hex[:12]}"
    aws_s3(server, "s3", "mb", f"s3://{bucket}")
    layer_zip = tmp_path / "layer.zip"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("python/builtin_s3_lib.py", "V = 'layer via built-in S3'\n")
    layer_zip.write_bytes(buf.getvalue())
    aws_s3(server, "s3", "cp", str(layer_zip), f"s3://{bucket}/layer.zip")
    layer = server.aws("publish-layer-version", "--layer-name", unique_name("s3lay"), "--content",
                       f"S3Bucket={bucket},S3Key=layer.zip").json
    name = unique_name("s3layfn")
    lam.create_function(FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": py_package("import builtin_s3_lib\ndef handler(e, c):\n    return builtin_s3_lib.V\n")},
                        Layers=[layer["LayerVersionArn"]])
    assert invoke(lam, name, {}).ok() == "layer via built-in S3"

    with aws_error(lam, "InvalidParameterValueException", 400) as e:
        lam.create_function(FunctionName=unique_name("e"), Runtime="python3.11", Role=ROLE, Handler="app.handler",
                            Code={"S3Bucket": bucket, "S3Key": "nope.zip"})
    assert e.message == ("Error occurred while GetObject. S3 Error Code: NoSuchKey. "
                         "S3 Error Message: The specified key does not exist.")
    with aws_error(lam, "InvalidParameterValueException", 400) as e:
        lam.create_function(FunctionName=unique_name("e"), Runtime="python3.11", Role=ROLE, Handler="app.handler",
                            Code={"S3Bucket": f"missing-{uuid.uuid4().hex[:8]}", "S3Key": "x.zip"})
    assert e.message == ("Error occurred while GetObject. S3 Error Code: NoSuchBucket. "
                         "S3 Error Message: The specified bucket does not exist")
