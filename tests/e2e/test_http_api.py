"""API Gateway HTTP APIs end to end: the apigatewayv2 API through boto3 and
the AWS CLI (quick create included), route precedence with path parameters
and greedy paths, named and $default stages, payload formats 1.0 and 2.0
for the same function, binary bodies, cookies, API Gateway's 404/502/504,
host-based and path-form routing, a separate front-door listener, and
persistence across a kill."""

from __future__ import annotations

import socket

import pytest

from gateway_support import (
    PNG, apigw_client, aws, call, curl, echo_function, function_arn, node_function, py_web_function,
)

ENDPOINT_RE = r"^http://[a-z0-9]{10}\.execute-api\.localhost:\d+$"


@pytest.fixture(scope="module")
def apigw(server):
    return apigw_client(server.url)


@pytest.fixture(scope="module")
def echo_api(server, apigw):
    """An API over the echo function: routes of every kind, both payload formats, a named stage."""
    lam = server.client()
    name = echo_function(lam)
    api = apigw.create_api(Name="echo", ProtocolType="HTTP")
    api_id = api["ApiId"]
    v2 = apigw.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=function_arn(name),
                                  PayloadFormatVersion="2.0")["IntegrationId"]
    v1 = apigw.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=function_arn(name),
                                  PayloadFormatVersion="1.0")["IntegrationId"]
    short = apigw.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=function_arn(name),
                                     PayloadFormatVersion="2.0", TimeoutInMillis=1000)["IntegrationId"]
    for key, target in [
        ("GET /items/{id}", v2), ("GET /items/special", v2), ("ANY /files/{proxy+}", v2),
        ("ANY /v1/{proxy+}", v1), ("GET /slow/sleep", short), ("$default", v2),
    ]:
        apigw.create_route(ApiId=api_id, RouteKey=key, Target=f"integrations/{target}")
    apigw.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    apigw.create_stage(ApiId=api_id, StageName="prod", AutoDeploy=True, StageVariables={"env": "production"})
    return api_id


def test_api_objects(server, apigw, echo_api):
    api = apigw.get_api(ApiId=echo_api)
    assert api["Name"] == "echo" and api["ProtocolType"] == "HTTP"
    assert api["ApiEndpoint"] == f"http://{echo_api}.execute-api.localhost:{server.port}"
    assert any(a["ApiId"] == echo_api for a in apigw.get_apis()["Items"])
    routes = apigw.get_routes(ApiId=echo_api)["Items"]
    assert {r["RouteKey"] for r in routes} >= {"GET /items/{id}", "$default", "ANY /files/{proxy+}"}
    assert apigw.get_route(ApiId=echo_api, RouteId=routes[0]["RouteId"])["RouteKey"] == routes[0]["RouteKey"]
    integrations = apigw.get_integrations(ApiId=echo_api)["Items"]
    assert {i["PayloadFormatVersion"] for i in integrations} == {"1.0", "2.0"}
    assert {i["TimeoutInMillis"] for i in integrations} == {1000, 30000}
    stage = apigw.get_stage(ApiId=echo_api, StageName="prod")
    assert stage["StageVariables"] == {"env": "production"} and stage["AutoDeploy"] is True
    assert {s["StageName"] for s in apigw.get_stages(ApiId=echo_api)["Items"]} == {"$default", "prod"}
    for call_, kwargs, code in [
        (apigw.get_api, {"ApiId": "nosuchapi0"}, "NotFoundException"),
        (apigw.create_integration, {"ApiId": echo_api, "IntegrationType": "AWS_PROXY",
                                    "IntegrationUri": function_arn("x"), "PayloadFormatVersion": "2.0",
                                    "TimeoutInMillis": 40000}, "BadRequestException"),
        (apigw.create_route, {"ApiId": echo_api, "RouteKey": "GET /items/{id}"}, "ConflictException"),
        (apigw.create_route, {"ApiId": echo_api, "RouteKey": "FETCH /x"}, "BadRequestException"),
        (apigw.create_stage, {"ApiId": echo_api, "StageName": "prod"}, "ConflictException"),
    ]:
        with pytest.raises(apigw.exceptions.ClientError) as e:
            call_(**kwargs)
        assert e.value.response["Error"]["Code"] == code, e.value.response


def test_routes_path_parameters_and_stages(server, echo_api):
    host = f"{echo_api}.execute-api.localhost:{server.port}"
    r = call(server.port, "GET", "/items/42?a=1&a=2", host=host, headers={"Cookie": "s=1; t=2"})
    assert r.status == 200, r.body
    e = r.json
    assert e["routeKey"] == "GET /items/{id}" and e["pathParameters"] == {"id": "42"}
    assert e["queryStringParameters"] == {"a": "1,2"} and e["cookies"] == ["s=1", "t=2"]
    assert e["rawPath"] == "/items/42" and e["requestContext"]["stage"] == "$default"
    assert e["requestContext"]["domainName"] == f"{echo_api}.execute-api.localhost"
    assert e["requestContext"]["apiId"] == echo_api and e["requestContext"]["accountId"] == "000000000000"
    assert r.header("apigw-requestid") == e["requestContext"]["requestId"]
    assert call(server.port, "GET", "/items/special", host=host).json["routeKey"] == "GET /items/special"
    greedy = call(server.port, "DELETE", "/files/a/b/c.txt", host=host).json
    assert greedy["routeKey"] == "ANY /files/{proxy+}" and greedy["pathParameters"] == {"proxy": "a/b/c.txt"}
    fallback = call(server.port, "POST", "/other", host=host).json
    assert fallback["routeKey"] == "$default"
    # A named stage serves under /<stage>/ and rawPath keeps the prefix.
    prod = call(server.port, "GET", "/prod/items/7", host=host).json
    assert prod["requestContext"]["stage"] == "prod" and prod["rawPath"] == "/prod/items/7"
    assert prod["routeKey"] == "GET /items/{id}" and prod["stageVariables"] == {"env": "production"}
    # The path form, for clients that cannot set Host.
    form = call(server.port, "GET", f"/_execute-api/{echo_api}/prod/items/8").json
    assert form["rawPath"] == "/prod/items/8" and form["pathParameters"] == {"id": "8"}
    # curl by name.
    via_curl = curl(f"http://{echo_api}.execute-api.localhost:{server.port}/items/9", server.port)
    assert via_curl.status == 200 and via_curl.json["pathParameters"] == {"id": "9"}


def test_payload_1_0(server, echo_api):
    r = call(server.port, "GET", f"/_execute-api/{echo_api}/$default/v1/x?a=1&a=2",
             headers={"X-Multi": "a"})
    assert r.status == 200, r.body
    e = r.json
    assert e["version"] == "1.0" and e["resource"] == "/v1/{proxy+}" and e["httpMethod"] == "GET"
    assert e["path"] == "/v1/x" and e["pathParameters"] == {"proxy": "x"}
    assert e["queryStringParameters"] == {"a": "2"} and e["multiValueQueryStringParameters"] == {"a": ["1", "2"]}
    assert e["multiValueHeaders"]["x-multi"] == ["a"] and e["body"] is None
    assert e["requestContext"]["resourcePath"] == "/v1/{proxy+}" and e["requestContext"]["identity"]["sourceIp"]
    cookies = call(server.port, "GET", f"/_execute-api/{echo_api}/$default/v1/cookies")
    assert cookies.headers["set-cookie"] == ["a=1", "b=2; Path=/"]
    cookies2 = call(server.port, "GET", f"/_execute-api/{echo_api}/$default/cookies")
    assert cookies2.headers["set-cookie"] == ["a=1", "b=2; Path=/"]


def test_binary_round_trip(server, echo_api):
    for path in ("/image", "/v1/image"):
        r = call(server.port, "POST", f"/_execute-api/{echo_api}/prod{path}", headers={"content-type": "image/png"}, body=PNG)
        assert r.status == 200 and r.body == PNG and r.header("content-type") == "image/png", path


def test_failures(server, echo_api):
    base = f"/_execute-api/{echo_api}/$default"
    for path in ("/boom", "/malformed", "/v1/boom", "/v1/plain"):
        r = call(server.port, "GET", base + path)
        assert (r.status, r.json) == (502, {"message": "Internal Server Error"}), path
    ok = call(server.port, "GET", base + "/plain")
    assert ok.status == 200 and ok.json == {"hello": "world"}
    slow = call(server.port, "GET", base + "/slow/sleep")
    assert (slow.status, slow.json) == (504, {"message": "Endpoint request timed out"})
    assert call(server.port, "GET", "/_execute-api/nosuchapi0/x").status == 404


def test_quick_create_with_the_cli(server, lam):
    for make, greeting in ((py_web_function, b"python says hi"), (node_function, b"node says hi")):
        name = make(lam)
        api = aws(server.url, "apigatewayv2", "create-api", "--name", "quick", "--protocol-type", "HTTP",
                  "--target", function_arn(name))
        assert __import__("re").match(ENDPOINT_RE, api["ApiEndpoint"])
        r = curl(api["ApiEndpoint"] + "/hello/there", server.port)
        assert r.status == 200 and r.body == b"<h1>" + greeting + b" to /hello/there</h1>", r.body
        routes = aws(server.url, "apigatewayv2", "get-routes", "--api-id", api["ApiId"])["Items"]
        assert [r["RouteKey"] for r in routes] == ["$default"]
        aws(server.url, "apigatewayv2", "delete-api", "--api-id", api["ApiId"])
        assert call(server.port, "GET", "/x", host=f"{api['ApiId']}.execute-api.localhost").status == 404


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_front_door_listener_and_persistence(new_server, data_dir_path):
    port = free_port()
    srv = new_server(start=False)
    args = ["serve", "--listen", "127.0.0.1:0", "--data-dir", str(srv.data_dir), "--front-door-listen", f"127.0.0.1:{port}"]
    srv.start(args)
    lam, apigw = srv.client(), apigw_client(srv.url)
    name = echo_function(lam)
    api = apigw.create_api(Name="kept", ProtocolType="HTTP", Target=function_arn(name))
    assert api["ApiEndpoint"].endswith(f":{port}")
    url = lam.create_function_url_config(FunctionName=name, AuthType="NONE")
    assert url["FunctionUrl"].endswith(f":{port}/")
    front = call(port, "GET", "/a", host=f"{api['ApiId']}.execute-api.localhost:{port}")
    assert front.status == 200 and front.json["rawPath"] == "/a"
    # The front-door listener serves nothing else.
    assert call(port, "GET", "/2015-03-31/functions").status == 404
    srv.kill9()
    srv.start(args)
    again = call(srv.port, "GET", f"/_execute-api/{api['ApiId']}/$default/b")
    assert again.status == 200 and again.json["rawPath"] == "/b"
    assert apigw_client(srv.url).get_api(ApiId=api["ApiId"])["Name"] == "kept"
