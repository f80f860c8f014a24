"""Versions and aliases: PublishVersion, ListVersionsByFunction, qualified
GetFunction/Invoke/DeleteFunction, CreateAlias/GetAlias/UpdateAlias/
DeleteAlias/ListAliases, and weighted alias routing, through boto3 and the
AWS CLI against the real server."""

import json
import math

import pytest

from support import ROLE, aws_error, code_sha256, make_zip, unique_name


def app(result: str) -> bytes:
    return make_zip({"app.py": f"def handler(event, context):\n    return {result!r}\n"})


@pytest.fixture
def versioned(lam):
    """A function with versions 1 ('one') and 2 ('two'); $LATEST is 'two'."""
    name = unique_name("ver")
    created = lam.create_function(
        FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": app("one")}, Publish=True,
    )
    assert created["Version"] == "1"
    assert created["FunctionArn"].endswith(f":function:{name}:1")
    lam.update_function_code(FunctionName=name, ZipFile=app("two"))
    v2 = lam.publish_version(FunctionName=name, Description="second")
    assert v2["Version"] == "2" and v2["Description"] == "second"
    return name


def invoke(lam, name, qualifier=None):
    kwargs = {"FunctionName": name}
    if qualifier:
        kwargs["Qualifier"] = qualifier
    r = lam.invoke(**kwargs)
    return r["ExecutedVersion"], json.loads(r["Payload"].read())


def test_publish_is_a_snapshot_and_idempotent(lam, versioned):
    name = versioned
    again = lam.publish_version(FunctionName=name)
    assert again["Version"] == "2", "publishing an unchanged $LATEST returns the existing version"
    versions = lam.list_versions_by_function(FunctionName=name)["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1", "2"]
    assert versions[0]["FunctionArn"].endswith(":$LATEST")
    # Changing $LATEST does not change a published version.
    lam.update_function_configuration(FunctionName=name, Timeout=42)
    assert lam.get_function_configuration(FunctionName=name, Qualifier="2")["Timeout"] == 3
    assert lam.get_function(FunctionName=f"{name}:1")["Configuration"]["Version"] == "1"
    assert lam.publish_version(FunctionName=name)["Version"] == "3"


def test_publish_preconditions(lam, versioned):
    name = versioned
    with aws_error(lam, "PreconditionFailedException"):
        lam.publish_version(FunctionName=name, RevisionId="not-the-revision")
    with aws_error(lam, "InvalidParameterValueException") as err:
        lam.publish_version(FunctionName=name, CodeSha256=code_sha256(b"other"))
    assert "CodeSHA256" in err.message
    current = lam.get_function_configuration(FunctionName=name)
    assert lam.publish_version(FunctionName=name, CodeSha256=current["CodeSha256"])["Version"] == "2"


def test_versions_run_their_own_code(lam, versioned):
    name = versioned
    assert invoke(lam, name) == ("$LATEST", "two")
    assert invoke(lam, name, "1") == ("1", "one")
    assert invoke(lam, f"{name}:2") == ("2", "two")
    with aws_error(lam, "ResourceNotFoundException") as err:
        lam.invoke(FunctionName=name, Qualifier="9")
    assert err.message.endswith(f"function:{name}:9")


def test_versions_pagination(lam, versioned):
    name = versioned
    seen, marker = [], None
    while True:
        kwargs = {"FunctionName": name, "MaxItems": 1}
        if marker:
            kwargs["Marker"] = marker
        page = lam.list_versions_by_function(**kwargs)
        seen += [v["Version"] for v in page["Versions"]]
        marker = page.get("NextMarker")
        if not marker:
            break
    assert seen == ["$LATEST", "1", "2"]


def test_delete_one_version(lam, versioned):
    name = versioned
    lam.delete_function(FunctionName=name, Qualifier="1")
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]] == ["$LATEST", "2"]
    with aws_error(lam, "ResourceNotFoundException"):
        lam.get_function(FunctionName=name, Qualifier="1")
    with aws_error(lam, "InvalidParameterValueException"):
        lam.delete_function(FunctionName=name, Qualifier="$LATEST")
    # Numbers are never reused.
    lam.update_function_code(FunctionName=name, ZipFile=app("three"))
    assert lam.publish_version(FunctionName=name)["Version"] == "3"


def test_alias_lifecycle(lam, versioned):
    name = versioned
    created = lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1", Description="prod")
    assert created["AliasArn"].endswith(f":function:{name}:live")
    assert created["FunctionVersion"] == "1"
    with aws_error(lam, "ResourceConflictException"):
        lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    with aws_error(lam, "ResourceNotFoundException"):
        lam.create_alias(FunctionName=name, Name="ghost", FunctionVersion="7")
    assert invoke(lam, name, "live") == ("1", "one")
    assert lam.get_function(FunctionName=name, Qualifier="live")["Configuration"]["Version"] == "1"

    with aws_error(lam, "PreconditionFailedException"):
        lam.update_alias(FunctionName=name, Name="live", FunctionVersion="2", RevisionId="stale")
    moved = lam.update_alias(FunctionName=name, Name="live", FunctionVersion="2", RevisionId=created["RevisionId"])
    assert moved["FunctionVersion"] == "2" and moved["RevisionId"] != created["RevisionId"]
    assert invoke(lam, f"{name}:live") == ("2", "two")

    with aws_error(lam, "ResourceConflictException") as err:
        lam.delete_function(FunctionName=name, Qualifier="2")
    assert "live" in err.message

    lam.create_alias(FunctionName=name, Name="beta", FunctionVersion="$LATEST")
    listed = lam.list_aliases(FunctionName=name)["Aliases"]
    assert [a["Name"] for a in listed] == ["beta", "live"]
    assert [a["Name"] for a in lam.list_aliases(FunctionName=name, FunctionVersion="2")["Aliases"]] == ["live"]
    lam.delete_alias(FunctionName=name, Name="live")
    with aws_error(lam, "ResourceNotFoundException"):
        lam.get_alias(FunctionName=name, Name="live")
    lam.delete_function(FunctionName=name, Qualifier="2")


def test_alias_validation(lam, versioned):
    name = versioned
    with aws_error(lam, "ValidationException"):
        lam.create_alias(FunctionName=name, Name="123", FunctionVersion="1")
    with aws_error(lam, "InvalidParameterValueException"):
        lam.create_alias(FunctionName=name, Name="x", FunctionVersion="$LATEST",
                         RoutingConfig={"AdditionalVersionWeights": {"1": 0.5}})
    with aws_error(lam, "ValidationException"):
        lam.create_alias(FunctionName=name, Name="x", FunctionVersion="1",
                         RoutingConfig={"AdditionalVersionWeights": {"2": 1.5}})


def test_weighted_alias_split_is_within_bounds(lam, versioned):
    name = versioned
    lam.create_alias(FunctionName=name, Name="canary", FunctionVersion="1",
                     RoutingConfig={"AdditionalVersionWeights": {"2": 0.3}})
    n, hits = 300, 0
    for _ in range(n):
        executed, body = invoke(lam, name, "canary")
        assert (executed, body) in {("1", "one"), ("2", "two")}
        hits += executed == "2"
    # Binomial(300, 0.3): mean 90, sd ~7.9; five standard deviations either side.
    sd = math.sqrt(n * 0.3 * 0.7)
    assert abs(hits - n * 0.3) < 5 * sd, hits


def test_aws_cli_versions_and_aliases(server, versioned):
    name = versioned
    listed = server.aws("list-versions-by-function", "--function-name", name).json
    assert [v["Version"] for v in listed["Versions"]] == ["$LATEST", "1", "2"]
    alias = server.aws("create-alias", "--function-name", name, "--name", "cli",
                       "--function-version", "2").json
    assert alias["Name"] == "cli" and alias["FunctionVersion"] == "2"
    failed = server.aws("get-alias", "--function-name", name, "--name", "nope", check=False)
    assert failed.returncode != 0 and "ResourceNotFoundException" in failed.stderr


def test_changes_retire_only_the_environments_they_make_stale(lam):
    """Deleting version 1 or updating $LATEST keeps version 2's warm environment
    (its in-memory counter goes on); deleting version 1 ends only version 1's."""
    import json

    from support import create_function
    from support import python_zip as zipped

    counter = (
        "import os\nn = 0\n"
        "def handler(event, context):\n"
        "    global n\n    n += 1\n"
        "    return {'n': n, 'version': os.environ['AWS_LAMBDA_FUNCTION_VERSION']}\n"
    )
    name = unique_name("stale")
    create_function(lam, name, zipped(counter, marker=name))
    lam.publish_version(FunctionName=name)
    lam.update_function_configuration(FunctionName=name, Timeout=5)
    assert lam.publish_version(FunctionName=name)["Version"] == "2"

    def call(qualifier):
        return json.loads(lam.invoke(FunctionName=name, Qualifier=qualifier, Payload=b"{}")["Payload"].read())

    assert call("2") == {"n": 1, "version": "2"}
    assert call("2") == {"n": 2, "version": "2"}
    assert call("1")["n"] == 1
    lam.delete_function(FunctionName=name, Qualifier="1")
    assert call("2") == {"n": 3, "version": "2"}, "deleting version 1 retired version 2's environment"
    lam.update_function_configuration(FunctionName=name, Timeout=6)
    assert call("2") == {"n": 4, "version": "2"}, "updating $LATEST retired version 2's environment"
    assert call("$LATEST")["n"] == 1
    lam.delete_function(FunctionName=name)
    create_function(lam, name, zipped(counter, marker=name))
    assert call("$LATEST")["n"] == 1, "a new function of the same name reused an old environment"
