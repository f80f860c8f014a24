"""Function URLs end to end: the Lambda API's function URL operations through
boto3, invocations by Host (curl --resolve, a Host header) and by the
`/_lambda-url/<url-id>/` path form, payload 2.0, CORS, AWS_IAM with SigV4,
binary bodies, Lambda's 502 for failing functions, and DeleteFunction."""

from __future__ import annotations

import base64
import json
import re
import urllib.parse

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from gateway_support import PNG, call, curl, echo_function, node_function, py_web_function
from support import aws_error

URL_RE = re.compile(r"^http://([a-z0-9]{32})\.lambda-url\.us-east-1\.localhost:(\d+)/$")


@pytest.fixture(scope="module")
def echo(server):
    lam = server.client()
    name = echo_function(lam)
    url = lam.create_function_url_config(FunctionName=name, AuthType="NONE")
    return name, url


def url_id(url: dict) -> str:
    return URL_RE.match(url["FunctionUrl"]).group(1)


def test_config_operations(server, lam, echo):
    name, created = echo
    assert URL_RE.match(created["FunctionUrl"]), created["FunctionUrl"]
    assert int(URL_RE.match(created["FunctionUrl"]).group(2)) == server.port
    assert created["FunctionArn"].endswith(f":function:{name}")
    assert created["AuthType"] == "NONE" and created["InvokeMode"] == "BUFFERED"
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    got = lam.get_function_url_config(FunctionName=name)
    assert got["FunctionUrl"] == created["FunctionUrl"] and "LastModifiedTime" in got
    listed = lam.list_function_url_configs(FunctionName=name)["FunctionUrlConfigs"]
    assert [u["FunctionUrl"] for u in listed] == [created["FunctionUrl"]]
    with aws_error(lam, "ResourceConflictException", 409):
        lam.create_function_url_config(FunctionName=name, AuthType="NONE")
    with aws_error(lam, "ValidationException", 400):
        lam.create_function_url_config(FunctionName=name, AuthType="OPEN", Qualifier="nope")
    with aws_error(lam, "ValidationException", 400):
        lam.update_function_url_config(FunctionName=name, InvokeMode="SOMETIMES")
    with aws_error(lam, "ResourceNotFoundException", 404):
        lam.get_function_url_config(FunctionName="no-such-function-url-fn")


def test_host_and_path_forms_carry_a_2_0_event(server, echo):
    _, url = echo
    uid = url_id(url)
    r = curl(url["FunctionUrl"] + "items/7?a=1&a=2&b=x%20y", server.port, "-H", "Cookie: s=1; t=2",
             "-H", "X-Multi: a", "-H", "X-Multi: b")
    assert r.status == 200, r.body
    assert r.header("x-amzn-requestid")
    event = r.json
    assert event["version"] == "2.0" and event["routeKey"] == "$default"
    assert event["rawPath"] == "/items/7" and event["rawQueryString"] == "a=1&a=2&b=x%20y"
    assert event["queryStringParameters"] == {"a": "1,2", "b": "x y"}
    assert event["cookies"] == ["s=1", "t=2"] and "cookie" not in event["headers"]
    assert event["headers"]["x-multi"] == "a,b"
    assert "stageVariables" not in event and "pathParameters" not in event
    ctx = event["requestContext"]
    assert ctx["domainPrefix"] == uid and ctx["apiId"] == uid and ctx["accountId"] == "anonymous"
    assert ctx["http"]["method"] == "GET" and ctx["http"]["path"] == "/items/7"
    assert ctx["http"]["sourceIp"] == "127.0.0.1" and ctx["http"]["userAgent"].startswith("curl/")
    assert re.match(r"^\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000$", ctx["time"])
    assert ctx["requestId"] == r.header("x-amzn-requestid")

    by_host = call(server.port, "POST", "/x", host=f"{uid}.lambda-url.us-east-1.localhost:{server.port}",
                   headers={"content-type": "application/json"}, body=b'{"k": 1}')
    assert by_host.status == 200 and by_host.json["body"] == '{"k": 1}' and by_host.json["isBase64Encoded"] is False
    by_path = call(server.port, "GET", f"/_lambda-url/{uid}/deep/path?q=1")
    assert by_path.status == 200 and by_path.json["rawPath"] == "/deep/path"
    assert by_path.json["queryStringParameters"] == {"q": "1"}


def test_binary_and_non_proxy_responses(server, echo):
    _, url = echo
    uid = url_id(url)
    r = call(server.port, "POST", f"/_lambda-url/{uid}/image", headers={"content-type": "image/png"}, body=PNG)
    assert r.status == 200 and r.body == PNG and r.header("content-type") == "image/png"
    plain = call(server.port, "GET", f"/_lambda-url/{uid}/plain")
    assert plain.status == 200 and plain.json == {"hello": "world"}
    assert plain.header("content-type") == "application/json"
    cookies = call(server.port, "GET", f"/_lambda-url/{uid}/cookies")
    assert cookies.headers["set-cookie"] == ["a=1", "b=2; Path=/"]


def test_failures_are_502(server, echo):
    _, url = echo
    uid = url_id(url)
    for path in ("boom", "malformed"):
        r = call(server.port, "GET", f"/_lambda-url/{uid}/{path}")
        assert r.status == 502, (path, r.body)
        assert r.body == b"Internal Server Error"
    unknown = call(server.port, "GET", "/_lambda-url/" + "0" * 32 + "/")
    assert unknown.status == 403 and unknown.json == {"Message": "Forbidden"}


def test_cors(server, lam):
    name = echo_function(lam)
    cors = {"AllowOrigins": ["https://example.com"], "AllowMethods": ["GET", "POST"],
            "AllowHeaders": ["x-custom"], "ExposeHeaders": ["x-echo"], "MaxAge": 600, "AllowCredentials": True}
    url = lam.create_function_url_config(FunctionName=name, AuthType="NONE", Cors=cors)
    assert url["Cors"] == cors
    uid = url_id(url)
    pre = call(server.port, "OPTIONS", f"/_lambda-url/{uid}/", headers={
        "Origin": "https://example.com", "Access-Control-Request-Method": "POST"})
    assert pre.status == 200 and pre.body == b""
    assert pre.header("access-control-allow-origin") == "https://example.com"
    assert pre.header("access-control-allow-methods") == "GET,POST"
    assert pre.header("access-control-allow-headers") == "x-custom"
    assert pre.header("access-control-max-age") == "600"
    assert pre.header("access-control-allow-credentials") == "true"
    r = call(server.port, "GET", f"/_lambda-url/{uid}/", headers={"Origin": "https://example.com"})
    assert r.status == 200 and r.header("access-control-allow-origin") == "https://example.com"
    assert r.header("access-control-expose-headers") == "x-echo"
    other = call(server.port, "GET", f"/_lambda-url/{uid}/", headers={"Origin": "https://evil.example"})
    assert other.header("access-control-allow-origin") is None
    updated = lam.update_function_url_config(FunctionName=name, Cors={"AllowOrigins": ["*"]})
    assert updated["Cors"] == {"AllowOrigins": ["*"]}


def signed(url: str, secret: str, body: bytes = b"") -> dict:
    req = AWSRequest(method="POST", url=url, data=body, headers={"content-type": "application/json"})
    SigV4Auth(Credentials("test", secret), "lambda", "us-east-1").add_auth(req)
    return dict(req.prepare().headers)


def test_aws_iam(server, lam):
    name = echo_function(lam)
    url = lam.create_function_url_config(FunctionName=name, AuthType="AWS_IAM")
    uid = url_id(url)
    base = f"http://127.0.0.1:{server.port}/_lambda-url/{uid}/signed?x=1"
    path = urllib.parse.urlsplit(base)
    target = path.path + "?" + path.query
    ok = call(server.port, "POST", target, headers=signed(base, "test", b'{"a":1}'), body=b'{"a":1}')
    assert ok.status == 200, ok.body
    assert ok.json["requestContext"]["authorizer"]["iam"]["accessKey"] == "test"
    assert ok.json["requestContext"]["accountId"] == "000000000000"
    unsigned = call(server.port, "POST", target, body=b"{}")
    assert unsigned.status == 403 and unsigned.json == {"Message": "Forbidden"}
    wrong = call(server.port, "POST", target, headers=signed(base, "not-the-secret", b"{}"), body=b"{}")
    assert wrong.status == 403
    assert wrong.json["message"].startswith("The request signature we calculated does not match")
    # By host too: the host header is part of what is signed.
    host_url = f"http://{uid}.lambda-url.us-east-1.localhost:{server.port}/h"
    by_host = curl(host_url, server.port, "-X", "POST", *sum((["-H", f"{k}: {v}"] for k, v in signed(host_url, "test").items()), []))
    assert by_host.status == 200, by_host.body


def test_alias_qualifier_and_delete_function(server, lam):
    name = echo_function(lam)
    version = lam.publish_version(FunctionName=name)["Version"]
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    url = lam.create_function_url_config(FunctionName=name, Qualifier="live", AuthType="NONE")
    assert url["FunctionArn"].endswith(f":function:{name}:live")
    with aws_error(lam, "ValidationException", 400):
        lam.create_function_url_config(FunctionName=name, Qualifier=version, AuthType="NONE")
    uid = url_id(url)
    assert call(server.port, "GET", f"/_lambda-url/{uid}/").status == 200
    lam.delete_function(FunctionName=name)
    gone = call(server.port, "GET", f"/_lambda-url/{uid}/")
    assert gone.status == 403


def test_python_and_node_web_handlers(server, lam):
    for make, greeting in ((py_web_function, b"python says hi"), (node_function, b"node says hi")):
        name = make(lam)
        url = lam.create_function_url_config(FunctionName=name, AuthType="NONE")
        r = curl(url["FunctionUrl"] + "page", server.port)
        assert r.status == 200 and r.header("content-type") == "text/html"
        assert r.body == b"<h1>" + greeting + b" to /page</h1>"


def test_urls_survive_a_kill(new_server):
    srv = new_server()
    lam = srv.client()
    name = echo_function(lam)
    url = lam.create_function_url_config(FunctionName=name, AuthType="NONE")
    srv.kill9()
    srv.start()
    lam = srv.client()
    assert url_id(lam.get_function_url_config(FunctionName=name)) == url_id(url)
    r = call(srv.port, "GET", f"/_lambda-url/{url_id(url)}/after")
    assert r.status == 200 and json.loads(r.body)["rawPath"] == "/after"
