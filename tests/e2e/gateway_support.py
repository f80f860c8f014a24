"""Helpers for the front-door tests (`test_function_urls.py`, `test_http_api.py`):
the handlers they deploy, an apigatewayv2 client, the AWS CLI for
apigatewayv2, and plain HTTP calls (curl and http.client) that set `Host`
or use the `/_lambda-url/`, `/_execute-api/` path forms.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import boto3
from botocore.config import Config

from invoke_support import NODE_RUNTIME, create, package, py_package
from support import REGION, aws_cli_env, aws_cli_path

# Echoes the event; a few paths make it misbehave on purpose.
ECHO = r'''
import base64, json, time

def handler(event, context):
    path = event.get("rawPath") or event.get("path") or ""
    if path.endswith("/boom"):
        raise RuntimeError("boom")
    if path.endswith("/malformed"):
        return {"statusCode": "not a status"}
    if path.endswith("/sleep"):
        time.sleep(3)
    if path.endswith("/plain"):
        return {"hello": "world"}
    if path.endswith("/image"):
        return {"statusCode": 200, "headers": {"content-type": "image/png"},
                "isBase64Encoded": True, "body": event["body"]}
    if path.endswith("/cookies"):
        if event.get("version") == "1.0":
            return {"statusCode": 200, "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2; Path=/"]}, "body": "ok"}
        return {"statusCode": 200, "cookies": ["a=1", "b=2; Path=/"], "body": "ok"}
    return {"statusCode": 200, "headers": {"content-type": "application/json", "x-echo": "yes"},
            "body": json.dumps(event)}
'''

NODE_WEB = """
exports.handler = async (event) => ({
  statusCode: 200,
  headers: { "content-type": "text/html" },
  body: "<h1>node says hi to " + (event.rawPath || event.path) + "</h1>",
});
"""

PY_WEB = """
def handler(event, context):
    return {"statusCode": 200, "headers": {"content-type": "text/html"},
            "body": "<h1>python says hi to %s</h1>" % (event.get("rawPath") or event.get("path"))}
"""

# The first bytes of a PNG and some binary noise.
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))


def echo_function(lam, **overrides) -> str:
    return create(lam, py_package(ECHO), **overrides)


def node_function(lam) -> str:
    return create(lam, package({"index.js": NODE_WEB}), runtime=NODE_RUNTIME, handler="index.handler")


def py_web_function(lam) -> str:
    return create(lam, py_package(PY_WEB))


def function_arn(name: str, region: str = REGION) -> str:
    return f"arn:aws:lambda:{region}:000000000000:function:{name}"


def apigw_client(endpoint: str, region: str = REGION):
    return boto3.client(
        "apigatewayv2",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, parameter_validation=False),
    )


def aws(endpoint: str, service: str, *args: str) -> dict | None:
    """`aws SERVICE ARGS --endpoint-url …` and its JSON output."""
    env = aws_cli_env()
    cmd = [str(aws_cli_path()), service, *args, "--endpoint-url", endpoint, "--output", "json"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, f"aws {service} {' '.join(args)}: {proc.stderr}"
    return json.loads(proc.stdout) if proc.stdout.strip() else None


@dataclass
class Reply:
    status: int
    headers: dict[str, list[str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None

    @property
    def json(self):
        return json.loads(self.body)


def call(port: int, method: str, path: str, host: str | None = None, headers: dict | None = None,
         body: bytes | None = None) -> Reply:
    """One request to 127.0.0.1:port with an optional Host header (http.client)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    hdrs = dict(headers or {})
    if host:
        hdrs["Host"] = host
    try:
        conn.request(method, path, body=body, headers=hdrs)
        resp = conn.getresponse()
        collected: dict[str, list[str]] = {}
        for k, v in resp.getheaders():
            collected.setdefault(k.lower(), []).append(v)
        return Reply(resp.status, collected, resp.read())
    finally:
        conn.close()


def curl(url: str, port: int, *extra: str, data: bytes | None = None) -> Reply:
    """curl URL, resolving the URL's host name to 127.0.0.1 (`--resolve`)."""
    host = url.split("://", 1)[1].split("/", 1)[0].split(":", 1)[0]
    with tempfile.TemporaryDirectory() as d:
        body_path, head_path = Path(d) / "body", Path(d) / "head"
        cmd = ["curl", "-sS", "--resolve", f"{host}:{port}:127.0.0.1", "-o", str(body_path), "-D", str(head_path), *extra]
        if data is not None:
            (Path(d) / "data").write_bytes(data)
            cmd += ["--data-binary", f"@{Path(d) / 'data'}"]
        proc = subprocess.run([*cmd, url], capture_output=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        lines = head_path.read_text().splitlines()
        status = int(lines[0].split()[1])
        headers: dict[str, list[str]] = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers.setdefault(k.strip().lower(), []).append(v.strip())
        return Reply(status, headers, body_path.read_bytes())
