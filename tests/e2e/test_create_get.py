"""CreateFunction, GetFunction and GetFunctionConfiguration: every field and default.

AWS references: API_CreateFunction.html, API_GetFunction.html,
API_FunctionConfiguration.html (field formats and defaults).
"""

from __future__ import annotations

import datetime as dt

import pytest

from support import (
    ACCOUNT,
    LAST_MODIFIED_RE,
    REGION,
    ROLE,
    UUID_RE,
    code_sha256,
    create_function,
    download,
    make_zip,
    python_zip,
    unique_name,
    without_metadata,
)


def test_create_returns_201_with_aws_defaults(lam):
    name = unique_name("defaults")
    zip_bytes = python_zip(marker=name)
    resp = create_function(lam, name, zip_bytes)

    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 201  # AWS: CreateFunction answers 201
    assert resp["FunctionName"] == name
    assert resp["FunctionArn"] == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    assert resp["Runtime"] == "python3.12"
    assert resp["Handler"] == "app.handler"
    assert resp["Role"] == ROLE
    assert resp["CodeSize"] == len(zip_bytes)
    assert resp["CodeSha256"] == code_sha256(zip_bytes)
    assert resp["Description"] == ""
    assert resp["Timeout"] == 3
    assert resp["MemorySize"] == 128
    assert resp["EphemeralStorage"] == {"Size": 512}
    assert resp["Architectures"] == ["x86_64"]
    assert resp["PackageType"] == "Zip"
    assert resp["Version"] == "$LATEST"
    assert LAST_MODIFIED_RE.match(resp["LastModified"]), resp["LastModified"]
    assert UUID_RE.match(resp["RevisionId"]), resp["RevisionId"]
    # AWS answers Pending while it creates; a synchronous server may already be Active.
    assert resp["State"] in ("Active", "Pending")


def test_last_modified_is_now_in_utc(lam):
    before = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=5)
    resp = create_function(lam)
    after = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=5)
    stamp = dt.datetime.strptime(resp["LastModified"], "%Y-%m-%dT%H:%M:%S.%f%z")
    assert before <= stamp <= after, f"LastModified {resp['LastModified']} is not the time of the create"


def test_get_function_returns_configuration_code_and_state(lam, server):
    name = unique_name("get")
    zip_bytes = python_zip(marker=name)
    created = create_function(lam, name, zip_bytes)

    got = lam.get_function(FunctionName=name)
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 200
    cfg = got["Configuration"]
    assert cfg["State"] == "Active"
    assert cfg["LastUpdateStatus"] == "Successful"
    for key in (
        "FunctionName", "FunctionArn", "Runtime", "Handler", "Role", "CodeSize", "CodeSha256",
        "Description", "Timeout", "MemorySize", "EphemeralStorage", "Architectures", "PackageType",
        "Version", "LastModified", "RevisionId",
    ):
        assert cfg[key] == created[key], f"GetFunction {key}={cfg[key]!r}, CreateFunction said {created[key]!r}"

    code = got["Code"]
    assert code["RepositoryType"] == "S3"
    assert code["Location"].startswith(server.url + "/"), (
        f"Code.Location {code['Location']!r} is not served by this server ({server.url})"
    )
    assert download(code["Location"]) == zip_bytes


def test_get_function_configuration_equals_get_function_configuration_member(lam):
    name = unique_name("getcfg")
    create_function(lam, name, Description="d", Environment={"Variables": {"KEY": "V"}}, Timeout=7)
    full = lam.get_function(FunctionName=name)["Configuration"]
    cfg = without_metadata(lam.get_function_configuration(FunctionName=name))
    assert cfg == full


def test_every_optional_field_round_trips(lam):
    name = unique_name("fields")
    vpc = {"SubnetIds": ["subnet-0123456789abcdef0"], "SecurityGroupIds": ["sg-0123456789abcdef0"]}
    resp = create_function(
        lam,
        name,
        Description="a function with every field set",
        Timeout=900,
        MemorySize=10240,
        EphemeralStorage={"Size": 10240},
        Environment={"Variables": {"GREETING": "hello", "PATH": "/opt/bin:/usr/bin"}},
        Architectures=["arm64"],
        VpcConfig=vpc,
        Role=f"arn:aws:iam::{ACCOUNT}:role/service-role/other-role",
    )
    for cfg in (resp, lam.get_function_configuration(FunctionName=name)):
        assert cfg["Description"] == "a function with every field set"
        assert cfg["Timeout"] == 900
        assert cfg["MemorySize"] == 10240
        assert cfg["EphemeralStorage"] == {"Size": 10240}
        assert cfg["Environment"]["Variables"] == {"GREETING": "hello", "PATH": "/opt/bin:/usr/bin"}
        assert cfg["Architectures"] == ["arm64"]
        assert cfg["VpcConfig"]["SubnetIds"] == vpc["SubnetIds"]
        assert cfg["VpcConfig"]["SecurityGroupIds"] == vpc["SecurityGroupIds"]
        assert cfg["Role"] == f"arn:aws:iam::{ACCOUNT}:role/service-role/other-role"


def test_boundary_values_are_accepted(lam):
    resp = create_function(lam, Timeout=1, MemorySize=128, EphemeralStorage={"Size": 512})
    assert (resp["Timeout"], resp["MemorySize"], resp["EphemeralStorage"]["Size"]) == (1, 128, 512)


@pytest.mark.parametrize(
    "runtime,handler",
    [
        ("python3.11", "app.handler"),
        ("python3.12", "pkg.module.handler"),
        ("python3.13", "app.handler"),
        ("nodejs20.x", "index.handler"),
        ("nodejs22.x", "src/index.handler"),
        ("java8", "example.Handler::handleRequest"),
        ("java17", "example.Handler::handleRequest"),
        ("java21", "example.Handler"),
        ("provided", "bootstrap"),
        ("provided.al2", "bootstrap"),
        ("provided.al2023", "anything.goes"),
    ],
)
def test_supported_runtimes_are_accepted(lam, runtime, handler):
    name = unique_name("rt")
    resp = create_function(lam, name, Runtime=runtime, Handler=handler)
    assert resp["Runtime"] == runtime
    assert resp["Handler"] == handler
    assert lam.get_function_configuration(FunctionName=name)["Runtime"] == runtime


def test_java_1_8_0_openjdk_is_accepted_as_java8(lam):
    name = unique_name("openjdk")
    resp = create_function(lam, name, Runtime="java-1.8.0-openjdk", Handler="example.Handler::handleRequest")
    assert resp["Runtime"] == "java8"
    assert lam.get_function_configuration(FunctionName=name)["Runtime"] == resp["Runtime"]


def test_code_location_serves_exact_bytes_of_a_larger_package(lam):
    # ~3 MB of incompressible data: the download must be byte-identical, not re-zipped.
    import os

    name = unique_name("bigcode")
    zip_bytes = make_zip({"app.py": "def handler(e, c):\n    return 1\n", "data.bin": os.urandom(3 * 1024 * 1024)})
    resp = create_function(lam, name, zip_bytes)
    assert resp["CodeSize"] == len(zip_bytes)
    assert resp["CodeSha256"] == code_sha256(zip_bytes)
    assert download(lam.get_function(FunctionName=name)["Code"]["Location"]) == zip_bytes


def test_a_package_just_under_the_50mb_limit_is_accepted(lam):
    # AWS: 50 MB zipped for direct upload (Lambda quotas page); boto3 sends it
    # base64 in JSON, ~66 MB on the wire, which the server must accept.
    from support import MiB, stored_zip_of_size

    name = unique_name("nearlimit")
    zip_bytes = stored_zip_of_size(49 * MiB)
    resp = create_function(lam, name, zip_bytes)
    assert resp["CodeSize"] == len(zip_bytes)
    assert resp["CodeSha256"] == code_sha256(zip_bytes)
    lam.delete_function(FunctionName=name)


def test_symlink_inside_the_package_is_accepted(lam):
    # AWS deployment packages may contain symlinks (zip --symlinks); one that stays inside is fine.
    zip_bytes = make_zip({"lib/real.py": "X = 1\n", "app.py": "def handler(e, c):\n    return 1\n"}, symlinks={"lib/alias.py": "real.py"})
    resp = create_function(lam, zip_bytes=zip_bytes)
    assert resp["CodeSha256"] == code_sha256(zip_bytes)


def test_non_reserved_environment_variables_are_accepted(lam):
    # AWS: LANG, PATH, LD_LIBRARY_PATH, NODE_PATH, PYTHONPATH... are not reserved and may be set
    # (Lambda developer guide, "Defined runtime environment variables").
    env = {"LANG": "C.UTF-8", "PATH": "/usr/bin", "LD_LIBRARY_PATH": "/opt/lib", "PYTHONPATH": "/opt/py", "NODE_PATH": "/opt/node"}
    resp = create_function(lam, Environment={"Variables": env})
    assert resp["Environment"]["Variables"] == env


def test_concurrent_creates_of_one_name_give_one_winner(server):
    from concurrent.futures import ThreadPoolExecutor

    import botocore.exceptions

    name = unique_name("race")

    def attempt(i):
        client = server.client()
        try:
            create_function(client, name, python_zip(marker=f"{name}-{i}"))
            return "created"
        except botocore.exceptions.ClientError as e:
            return e.response["Error"]["Code"]

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(attempt, range(8)))
    assert outcomes.count("created") == 1, outcomes
    assert set(outcomes) == {"created", "ResourceConflictException"}, outcomes
