"""The wire itself, with raw (SigV4-signed) HTTP requests: x-amzn-RequestId on every
response, AWS's error shape (status, x-amzn-ErrorType, {"Type": "User", "message"}),
and malformed bodies answered as AWS-shaped 400s rather than dropped connections
or 500s.

AWS: "Common Errors" and the Lambda API reference (each action's Errors section);
botocore's rest-json parser reads the code from x-amzn-ErrorType (the part before
any ':') and the message from `message`/`Message`.
"""

from __future__ import annotations

import json

import pytest

from support import API, ROLE, create_function, python_zip, raw_request, unique_name


def _request_id(resp):
    rid = resp.header("x-amzn-RequestId")
    assert rid and rid.strip(), f"no x-amzn-RequestId on HTTP {resp.status}: {dict(resp.headers)}"
    return rid


def _error_code(resp):
    value = resp.header("x-amzn-ErrorType")
    assert value, f"no x-amzn-ErrorType on HTTP {resp.status}: {dict(resp.headers)}"
    return value.split(":", 1)[0]


def _assert_aws_error(resp, status, code=None):
    assert resp.status == status, f"expected HTTP {status}, got {resp.status}: {resp.body[:500]!r}"
    _request_id(resp)
    got = _error_code(resp)
    if code is not None:
        assert got == code
    content_type = resp.header("Content-Type") or ""
    assert content_type.startswith("application/json"), f"error Content-Type {content_type!r}"
    body = resp.json
    message = body.get("message", body.get("Message"))
    assert isinstance(message, str) and message, f"error body has no message: {body}"
    return got, body


def test_request_id_on_success(server):
    resp = raw_request(server.url, "GET", f"{API}/functions/")
    assert resp.status == 200
    _request_id(resp)
    assert "Functions" in resp.json


def test_request_ids_are_unique(server):
    ids = {_request_id(raw_request(server.url, "GET", f"{API}/functions/")) for _ in range(5)}
    assert len(ids) == 5


def test_request_id_through_boto3(lam):
    name = unique_name("rid")
    responses = [
        create_function(lam, name),
        lam.get_function(FunctionName=name),
        lam.list_functions(MaxItems=1),
        lam.get_account_settings(),
        lam.delete_function(FunctionName=name),
    ]
    ids = [r["ResponseMetadata"].get("RequestId") for r in responses]
    assert all(ids), ids
    assert len(set(ids)) == len(ids)


def test_not_found_error_shape(server):
    name = unique_name("raw404")
    resp = raw_request(server.url, "GET", f"{API}/functions/{name}")
    code, body = _assert_aws_error(resp, 404, "ResourceNotFoundException")
    assert body.get("Type") == "User"
    assert body.get("message") == f"Function not found: arn:aws:lambda:us-east-1:000000000000:function:{name}"


def test_conflict_error_shape(server, lam):
    name = unique_name("raw409")
    create_function(lam, name)
    payload = {
        "FunctionName": name, "Runtime": "python3.12", "Role": ROLE, "Handler": "app.handler",
        "Code": {"ZipFile": __import__("base64").b64encode(python_zip()).decode()},
    }
    resp = raw_request(server.url, "POST", f"{API}/functions", body=json.dumps(payload).encode())
    _, body = _assert_aws_error(resp, 409, "ResourceConflictException")
    assert body.get("Type") == "User"


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"", b"[]", b'{"FunctionName": ', b"\xff\xfe\x00garbage", b'"just a string"'],
    ids=["broken", "empty", "array", "truncated", "binary", "string"],
)
def test_malformed_create_body_is_an_aws_400(server, body):
    resp = raw_request(server.url, "POST", f"{API}/functions", body=body)
    _assert_aws_error(resp, 400)


@pytest.mark.parametrize(
    "payload",
    [
        {"FunctionName": "x", "Runtime": "python3.12", "Role": ROLE, "Handler": "a.b", "Code": {"ZipFile": "%%%not-base64%%%"}},
        {"FunctionName": "x", "Runtime": "python3.12", "Role": ROLE, "Handler": "a.b", "Timeout": "three", "Code": {"ZipFile": ""}},
        {"FunctionName": 42, "Runtime": "python3.12", "Role": ROLE, "Handler": "a.b", "Code": {"ZipFile": ""}},
    ],
    ids=["bad-base64", "string-timeout", "numeric-name"],
)
def test_ill_typed_create_body_is_an_aws_400(server, payload):
    resp = raw_request(server.url, "POST", f"{API}/functions", body=json.dumps(payload).encode())
    _assert_aws_error(resp, 400)


def test_malformed_update_configuration_body_is_an_aws_400(server, lam):
    name = unique_name("rawupd")
    before = create_function(lam, name)
    resp = raw_request(server.url, "PUT", f"{API}/functions/{name}/configuration", body=b"{oops")
    _assert_aws_error(resp, 400)
    assert lam.get_function_configuration(FunctionName=name)["RevisionId"] == before["RevisionId"]


def test_malformed_tag_body_is_an_aws_400(server, lam):
    name = unique_name("rawtag")
    arn = create_function(lam, name)["FunctionArn"]
    from urllib.parse import quote

    # Tag operations live under the 2017-03-31 API version (API_TagResource).
    resp = raw_request(server.url, "POST", f"/2017-03-31/tags/{quote(arn, safe='')}", body=b"{\"Tags\": [1,2")
    _assert_aws_error(resp, 400)


def test_success_bodies_are_json(server, lam):
    name = unique_name("rawjson")
    create_function(lam, name)
    resp = raw_request(server.url, "GET", f"{API}/functions/{name}/configuration")
    assert resp.status == 200
    assert resp.header("Content-Type").startswith("application/json")
    _request_id(resp)
    assert resp.json["FunctionName"] == name


def test_delete_is_204_with_request_id(server, lam):
    name = unique_name("raw204")
    create_function(lam, name)
    resp = raw_request(server.url, "DELETE", f"{API}/functions/{name}")
    assert resp.status == 204
    _request_id(resp)
    assert resp.body == b""
