"""The AWS SDKs in the managed runtimes, as AWS's runtimes include them.

Python functions import boto3 and Node.js functions import `@aws-sdk/client-*`
(CommonJS and ES modules) with nothing in their package; the versions are
the ones pinned in `runtimes/sdks/`. A function's own copy (in its package
or a layer) wins over the runtime's. `serve --no-runtime-sdks` leaves them
out. The suite's set-up (`scripts/test.sh`) ran `lambdabox install-sdks`, so
no server here downloads anything.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from support import REGION, aws_cli_env, aws_cli_path, make_zip, unique_name

REPO = Path(__file__).resolve().parents[2]
ROLE = "arn:aws:iam::000000000000:role/lambda-role"


def pinned(name: str) -> str:
    for line in (REPO / "runtimes/sdks/python.lock").read_text().splitlines():
        fields = line.split()
        if fields and fields[0] == name:
            return fields[1]
    raise AssertionError(f"{name} is not in python.lock")


def pinned_npm(name: str) -> str:
    lock = json.loads((REPO / "runtimes/sdks/nodejs/package-lock.json").read_text())
    return lock["packages"][f"node_modules/{name}"]["version"]


def create(lam, runtime, handler, files, layers=None):
    name = unique_name("sdk")
    lam.create_function(
        FunctionName=name,
        Runtime=runtime,
        Role=ROLE,
        Handler=handler,
        Code={"ZipFile": make_zip(files)},
        Layers=layers or [],
        Timeout=30,
        MemorySize=256,
    )
    return name


def call(lam, name, event=None):
    resp = lam.invoke(FunctionName=name, Payload=json.dumps(event or {}))
    payload = json.loads(resp["Payload"].read())
    return resp.get("FunctionError"), payload


@pytest.fixture
def bucket(server):
    s3 = boto3.client(
        "s3",
        endpoint_url=server.url,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(s3={"addressing_style": "path"}),
    )
    name = f"sdk-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=name)
    return name


def cli_upload(server, tmp_path, bucket, key, text):
    src = tmp_path / key
    src.write_text(text)
    cmd = [str(aws_cli_path()), "s3", "cp", str(src), f"s3://{bucket}/{key}", "--endpoint-url", server.url]
    proc = subprocess.run(cmd, env=aws_cli_env(), capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr


PYTHON_APP = """
import json
import boto3, botocore

def handler(event, context):
    out = {"boto3": boto3.__version__, "botocore": botocore.__version__, "file": boto3.__file__}
    if "bucket" in event:
        s3 = boto3.client("s3")
        out["body"] = s3.get_object(Bucket=event["bucket"], Key=event["key"])["Body"].read().decode()
        out["keys"] = [o["Key"] for o in s3.list_objects_v2(Bucket=event["bucket"]).get("Contents", [])]
    if "target" in event:
        r = boto3.client("lambda").invoke(FunctionName=event["target"], Payload=json.dumps({"hello": "there"}))
        out["invoked"] = json.loads(r["Payload"].read())
    return out
"""


def test_python_functions_import_boto3_and_use_it_unchanged(server, lam, bucket, tmp_path):
    cli_upload(server, tmp_path, bucket, "data.txt", "from the CLI\n")
    echo = create(lam, "python3.12", "app.handler", {"app.py": "def handler(e, c):\n    return {'echo': e}\n"})
    name = create(lam, "python3.12", "app.handler", {"app.py": PYTHON_APP})
    error, out = call(lam, name, {"bucket": bucket, "key": "data.txt", "target": echo})
    assert error is None, out
    assert out["boto3"] == pinned("boto3") and out["botocore"] == pinned("botocore")
    assert out["file"].startswith("/var/lang/lib/python-sdk/"), out["file"]
    assert out["body"] == "from the CLI\n"
    assert out["keys"] == ["data.txt"]
    assert out["invoked"] == {"echo": {"hello": "there"}}


def test_a_bundled_boto3_wins_over_the_runtimes(lam):
    files = {
        "app.py": "import boto3\ndef handler(e, c):\n    return {'boto3': boto3.__version__, 'file': boto3.__file__}\n",
        "boto3/__init__.py": "__version__ = '1.0.0-bundled'\n",
    }
    error, out = call(lam, create(lam, "python3.12", "app.handler", files))
    assert error is None, out
    assert out == {"boto3": "1.0.0-bundled", "file": "/var/task/boto3/__init__.py"}


def test_a_layers_boto3_wins_over_the_runtimes(lam):
    layer = lam.publish_layer_version(
        LayerName=unique_name("oldboto"), Content={"ZipFile": make_zip({"python/boto3/__init__.py": "__version__ = '0.9-layer'\n"})}
    )["LayerVersionArn"]
    app = {"app.py": "import boto3\ndef handler(e, c):\n    return boto3.__version__\n"}
    error, out = call(lam, create(lam, "python3.12", "app.handler", app, layers=[layer]))
    assert (error, out) == (None, "0.9-layer")


NODE_CJS = """
const { S3Client, GetObjectCommand } = require("@aws-sdk/client-s3");
const { LambdaClient, InvokeCommand } = require("@aws-sdk/client-lambda");
const pkg = require("@aws-sdk/client-s3/package.json");
exports.handler = async (event) => {
  const s3 = new S3Client({});
  const obj = await s3.send(new GetObjectCommand({ Bucket: event.bucket, Key: event.key }));
  const lambda = new LambdaClient({});
  const r = await lambda.send(new InvokeCommand({ FunctionName: event.target, Payload: JSON.stringify({ from: "node" }) }));
  return { version: pkg.version, body: await obj.Body.transformToString(), invoked: JSON.parse(Buffer.from(r.Payload).toString()) };
};
"""

NODE_ESM = """
import { S3Client, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
export const handler = async (event) => {
  const listed = await new S3Client({}).send(new ListObjectsV2Command({ Bucket: event.bucket }));
  return { keys: (listed.Contents ?? []).map((o) => o.Key), doc: typeof DynamoDBDocumentClient.from };
};
"""


def test_nodejs_functions_import_the_v3_sdk_commonjs(server, lam, bucket, tmp_path):
    cli_upload(server, tmp_path, bucket, "n.txt", "node reads this")
    echo = create(lam, "python3.12", "app.handler", {"app.py": "def handler(e, c):\n    return {'echo': e}\n"})
    name = create(lam, "nodejs20.x", "index.handler", {"index.js": NODE_CJS})
    error, out = call(lam, name, {"bucket": bucket, "key": "n.txt", "target": echo})
    assert error is None, out
    assert out == {"version": pinned_npm("@aws-sdk/client-s3"), "body": "node reads this", "invoked": {"echo": {"from": "node"}}}


def test_nodejs_es_modules_import_the_v3_sdk(server, lam, bucket, tmp_path):
    cli_upload(server, tmp_path, bucket, "esm.txt", "x")
    name = create(lam, "nodejs20.x", "index.handler", {"index.mjs": NODE_ESM})
    error, out = call(lam, name, {"bucket": bucket})
    assert (error, out) == (None, {"keys": ["esm.txt"], "doc": "function"})


def test_nodejs_es_modules_with_layers_find_the_layers_copy_first_then_the_sdk(server, lam, bucket):
    layer_files = {
        "nodejs/node_modules/@aws-sdk/client-sts/package.json": json.dumps({"name": "@aws-sdk/client-sts", "version": "0.0.1-layer", "main": "index.js"}),
        "nodejs/node_modules/@aws-sdk/client-sts/index.js": "exports.fromLayer = true;\n",
    }
    layer = lam.publish_layer_version(LayerName=unique_name("sts"), Content={"ZipFile": make_zip(layer_files)})["LayerVersionArn"]
    app = """
import sts from "@aws-sdk/client-sts";
import { S3Client } from "@aws-sdk/client-s3";
export const handler = async () => ({ sts: sts.fromLayer === true, s3: typeof S3Client });
"""
    error, out = call(lam, create(lam, "nodejs20.x", "index.handler", {"index.mjs": app}, layers=[layer]))
    assert (error, out) == (None, {"sts": True, "s3": "function"})


def test_no_runtime_sdks_leaves_them_out(new_server):
    srv = new_server(start=False)
    srv.start(args=["serve", "--listen", "127.0.0.1:0", "--data-dir", str(srv.data_dir), "--no-runtime-sdks"])
    lam = srv.client(REGION)
    error, out = call(lam, create(lam, "python3.12", "app.handler", {"app.py": "import boto3\ndef handler(e, c):\n    return 1\n"}))
    assert error == "Unhandled"
    assert out["errorType"] == "Runtime.ImportModuleError"
    assert "No module named 'boto3'" in out["errorMessage"]
