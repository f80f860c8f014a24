"""Hostile and careless API clients (issue #13, findings 9, 10 and 13).

9. An ARN naming another account acted on the server's own account
   (`DELETE …/functions/arn:aws:lambda:us-east-1:222222222222:function:x`
   deleted the local `x`). AWS answers `AccessDeniedException` (403) for
   another account and `ResourceNotFoundException` ("Functions from 'eu-west-1'
   are not reachable in this region ('us-east-1')", seen in public issue
   threads, e.g. alexcasalboni/aws-lambda-power-tuning#18) for another region;
   nothing is changed.
10. Concurrent UpdateFunctionCode calls without a RevisionId failed with
   PreconditionFailedException; a caller that set no revision must never see a
   precondition failure.
13. Code.Location was built from the request's Host header; it must come from
   the configured public endpoint.
"""

from __future__ import annotations

import threading
import urllib.parse

import pytest

from support import (
    ACCOUNT,
    API,
    REGION,
    aws_error,
    code_sha256,
    create_function,
    download,
    lambda_client,
    python_zip,
    raw_request,
    unique_name,
)

OTHER = "222222222222"


def arn(name: str, account: str = ACCOUNT, region: str = REGION, qualifier: str | None = None) -> str:
    base = f"arn:aws:lambda:{region}:{account}:function:{name}"
    return f"{base}:{qualifier}" if qualifier else base


@pytest.fixture
def victim(lam):
    name = unique_name("victim")
    create_function(lam, name, python_zip(marker=name))
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    before = lam.get_function(FunctionName=name)
    yield name
    after = lam.get_function(FunctionName=name)
    assert after["Configuration"]["RevisionId"] == before["Configuration"]["RevisionId"], "the local function changed"
    assert after.get("Tags") == before.get("Tags")
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]] == ["$LATEST", "1"]
    assert [a["Name"] for a in lam.list_aliases(FunctionName=name)["Aliases"]] == ["live"]


OTHER_ACCOUNT_FORMS = [
    lambda n: arn(n, account=OTHER),
    lambda n: arn(n, account=OTHER, qualifier="1"),
    lambda n: arn(n, account=OTHER, region="eu-west-1"),
    lambda n: f"{OTHER}:function:{n}",
]


@pytest.mark.parametrize("form", range(len(OTHER_ACCOUNT_FORMS)))
def test_another_accounts_arn_never_acts_on_the_local_function(lam, victim, form):
    other = OTHER_ACCOUNT_FORMS[form](victim)
    calls = {
        "DeleteFunction": lambda: lam.delete_function(FunctionName=other),
        "GetFunction": lambda: lam.get_function(FunctionName=other),
        "GetFunctionConfiguration": lambda: lam.get_function_configuration(FunctionName=other),
        "UpdateFunctionConfiguration": lambda: lam.update_function_configuration(FunctionName=other, Timeout=9),
        "UpdateFunctionCode": lambda: lam.update_function_code(FunctionName=other, ZipFile=python_zip(marker="x")),
        "InvokeFunction": lambda: lam.invoke(FunctionName=other, Payload=b"{}"),
        "PublishVersion": lambda: lam.publish_version(FunctionName=other),
        "DeleteAlias": lambda: lam.delete_alias(FunctionName=other, Name="live"),
        "CreateAlias": lambda: lam.create_alias(FunctionName=other, Name="x", FunctionVersion="1"),
        "AddPermission": lambda: lam.add_permission(
            FunctionName=other, StatementId="s", Action="lambda:InvokeFunction", Principal="*"
        ),
        "PutFunctionConcurrency": lambda: lam.put_function_concurrency(FunctionName=other, ReservedConcurrentExecutions=1),
        "TagResource": lambda: lam.tag_resource(Resource=arn(victim, account=OTHER), Tags={"k": "v"}),
        "ListTags": lambda: lam.list_tags(Resource=arn(victim, account=OTHER)),
        "PutFunctionEventInvokeConfig": lambda: lam.put_function_event_invoke_config(
            FunctionName=other, MaximumRetryAttempts=0
        ),
    }
    for action, call in calls.items():
        with aws_error(lam, "AccessDeniedException", 403) as e:
            call()
        assert f"is not authorized to perform: lambda:{action} on resource:" in e.message, (action, e.message)
        assert OTHER in e.message, e.message


def test_the_raw_delete_of_the_finding_is_refused(server, lam, victim):
    path = f"{API}/functions/{urllib.parse.quote(arn(victim, account=OTHER), safe='')}"
    resp = raw_request(server.url, "DELETE", path)
    assert resp.status == 403, resp.body
    assert resp.header("x-amzn-ErrorType").startswith("AccessDeniedException")


def test_another_regions_arn_is_not_reachable(lam, victim):
    for other in (arn(victim, region="eu-west-1"), arn(victim, region="eu-west-1", qualifier="live"), f"eu-west-1:{ACCOUNT}:function:{victim}"):
        for call in (
            lambda: lam.delete_function(FunctionName=other),
            lambda: lam.get_function(FunctionName=other),
            lambda: lam.update_function_configuration(FunctionName=other, Timeout=9),
            lambda: lam.invoke(FunctionName=other, Payload=b"{}"),
        ):
            with aws_error(lam, "ResourceNotFoundException", 404) as e:
                call()
            assert e.message == "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')", e.message


def test_our_own_arns_still_work(lam, victim):
    assert lam.get_function(FunctionName=arn(victim))["Configuration"]["FunctionName"] == victim
    assert lam.get_function(FunctionName=f"{ACCOUNT}:function:{victim}")["Configuration"]["FunctionName"] == victim
    assert lam.invoke(FunctionName=arn(victim, qualifier="live"), Payload=b"{}")["StatusCode"] == 200


def test_concurrent_code_updates_without_a_revision_never_fail_a_precondition(server, lam):
    name = unique_name("racing")
    create_function(lam, name, python_zip(marker=name))
    packages = [python_zip(marker=f"{name}-{i}") for i in range(40)]
    failures: list[str] = []
    acknowledged: list[str] = []
    lock = threading.Lock()

    def update(i: int) -> None:
        client = lambda_client(server.url)
        try:
            if i % 4 == 3:
                client.update_function_configuration(FunctionName=name, Description=f"d{i}")
            else:
                resp = client.update_function_code(FunctionName=name, ZipFile=packages[i])
                with lock:
                    acknowledged.append(resp["CodeSha256"])
        except Exception as e:  # noqa: BLE001 - every failure is reported
            with lock:
                failures.append(f"{i}: {e}")

    threads = [threading.Thread(target=update, args=(i,)) for i in range(len(packages))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    precondition = [f for f in failures if "PreconditionFailed" in f]
    assert not precondition, precondition
    # Any other refusal must be AWS's conflict answer, never a 5xx.
    assert all("ResourceConflictException" in f for f in failures), failures
    final = lam.get_function(FunctionName=name)
    assert final["Configuration"]["CodeSha256"] in acknowledged
    assert code_sha256(download(final["Code"]["Location"])) == final["Configuration"]["CodeSha256"]
    # A caller who does name a stale revision still gets the precondition failure.
    with aws_error(lam, "PreconditionFailedException", 412):
        lam.update_function_code(FunctionName=name, ZipFile=packages[0], RevisionId="00000000-0000-0000-0000-000000000000")


def test_code_location_ignores_the_request_host(server, lam):
    name = unique_name("location")
    zip_bytes = python_zip(marker=name)
    create_function(lam, name, zip_bytes)
    resp = raw_request(server.url, "GET", f"{API}/functions/{name}", headers={"Host": "evil.example:666"})
    assert resp.status == 200, resp.body
    location = resp.json["Code"]["Location"]
    assert location.startswith(server.url + "/"), location
    assert "evil.example" not in location
    assert download(location) == zip_bytes
    layer = lam.publish_layer_version(LayerName=unique_name("loc"), Content={"ZipFile": zip_bytes})
    resp = raw_request(
        server.url, "GET", f"/2018-10-31/layers/{layer['LayerArn'].split(':')[-1]}/versions/{layer['Version']}",
        headers={"Host": "evil.example:666"},
    )
    assert resp.json["Content"]["Location"].startswith(server.url + "/"), resp.json


def test_code_location_uses_the_configured_public_endpoint(new_server, data_dir_path):
    srv = new_server(start=False)
    srv.start(args=["serve", "--listen", "127.0.0.1:0", "--data-dir", str(srv.data_dir), "--public-endpoint", "https://lambda.example.internal:8443/"])
    client = srv.client()
    name = unique_name("public")
    create_function(client, name, python_zip(marker=name))
    location = client.get_function(FunctionName=name)["Code"]["Location"]
    assert location.startswith("https://lambda.example.internal:8443/_lambdabox/code/"), location
