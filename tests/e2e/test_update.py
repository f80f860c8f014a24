"""UpdateFunctionCode and UpdateFunctionConfiguration, with RevisionId preconditions.

AWS: API_UpdateFunctionCode.html, API_UpdateFunctionConfiguration.html. A
mismatched RevisionId is 412 PreconditionFailedException "The Revision Id
provided does not match the latest Revision Id. Call the GetFunction/GetAlias
API to retrieve the latest Revision Id" (LocalStack's AWS-validated provider).
"""

from __future__ import annotations

import datetime as dt

import pytest

from support import (
    ACCOUNT,
    LAST_MODIFIED_RE,
    UUID_RE,
    aws_error,
    code_sha256,
    create_function,
    download,
    make_zip,
    python_zip,
    unique_name,
    without_metadata,
)


def _stamp(s: str) -> dt.datetime:
    return dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%f%z")


# -- code ----------------------------------------------------------------------------------


def test_update_code_changes_sha_size_revision_and_location_bytes(lam):
    name = unique_name("code")
    old_zip = python_zip(marker="v1")
    before = create_function(lam, name, old_zip)
    new_zip = make_zip({"app.py": "def handler(e, c):\n    return 'v2'\n", "extra.txt": "x" * 5000})

    resp = lam.update_function_code(FunctionName=name, ZipFile=new_zip)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert resp["CodeSha256"] == code_sha256(new_zip) != before["CodeSha256"]
    assert resp["CodeSize"] == len(new_zip) != before["CodeSize"]
    assert UUID_RE.match(resp["RevisionId"]) and resp["RevisionId"] != before["RevisionId"]
    assert LAST_MODIFIED_RE.match(resp["LastModified"])
    assert _stamp(resp["LastModified"]) >= _stamp(before["LastModified"])
    # Configuration is untouched by a code update.
    for key in ("FunctionName", "FunctionArn", "Runtime", "Handler", "Role", "Timeout", "MemorySize", "Description"):
        assert resp[key] == before[key], key

    got = lam.get_function(FunctionName=name)
    assert got["Configuration"]["CodeSha256"] == code_sha256(new_zip)
    assert got["Configuration"]["RevisionId"] == resp["RevisionId"]
    assert got["Configuration"]["LastUpdateStatus"] == "Successful"
    assert download(got["Code"]["Location"]) == new_zip


def test_update_code_twice_back_to_the_first_package(lam):
    name = unique_name("codeback")
    a, b = python_zip(marker="a"), python_zip(marker="b")
    r0 = create_function(lam, name, a)
    r1 = lam.update_function_code(FunctionName=name, ZipFile=b)
    r2 = lam.update_function_code(FunctionName=name, ZipFile=a)
    assert r2["CodeSha256"] == r0["CodeSha256"]
    assert len({r0["RevisionId"], r1["RevisionId"], r2["RevisionId"]}) == 3, "RevisionId must change on every update"
    assert download(lam.get_function(FunctionName=name)["Code"]["Location"]) == a


def test_update_code_with_matching_revision_id(lam):
    name = unique_name("coderev")
    before = create_function(lam, name)
    resp = lam.update_function_code(FunctionName=name, ZipFile=python_zip(marker="x"), RevisionId=before["RevisionId"])
    assert resp["RevisionId"] != before["RevisionId"]


def test_update_code_with_stale_revision_id_is_precondition_failed(lam):
    name = unique_name("codestale")
    before = create_function(lam, name)
    current = lam.update_function_code(FunctionName=name, ZipFile=python_zip(marker="1"))
    with aws_error(lam, "PreconditionFailedException", 412) as e:
        lam.update_function_code(FunctionName=name, ZipFile=python_zip(marker="2"), RevisionId=before["RevisionId"])
    assert "Revision Id" in e.message
    cfg = lam.get_function_configuration(FunctionName=name)
    assert (cfg["CodeSha256"], cfg["RevisionId"]) == (current["CodeSha256"], current["RevisionId"])


def test_update_code_architecture(lam):
    # UpdateFunctionCode carries Architectures (API_UpdateFunctionCode).
    name = unique_name("codearch")
    create_function(lam, name)
    resp = lam.update_function_code(FunctionName=name, ZipFile=python_zip(marker="arm"), Architectures=["arm64"])
    assert resp["Architectures"] == ["arm64"]
    assert lam.get_function_configuration(FunctionName=name)["Architectures"] == ["arm64"]


# -- configuration ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field,value",
    [
        ("Description", "a new description"),
        ("Timeout", 900),
        ("MemorySize", 10240),
        ("Handler", "other.main"),
        ("Runtime", "python3.13"),
        ("Role", f"arn:aws:iam::{ACCOUNT}:role/another-role"),
        ("EphemeralStorage", {"Size": 2048}),
    ],
)
def test_update_each_configuration_field(lam, field, value):
    name = unique_name("cfg")
    before = create_function(lam, name, Environment={"Variables": {"KEEP": "1"}})
    resp = lam.update_function_configuration(FunctionName=name, **{field: value})
    assert resp[field] == value
    assert resp["RevisionId"] != before["RevisionId"]
    cfg = lam.get_function_configuration(FunctionName=name)
    assert cfg[field] == value
    assert cfg["RevisionId"] == resp["RevisionId"]
    assert cfg["LastUpdateStatus"] == "Successful"
    # Everything else is as it was.
    for key in ("CodeSha256", "CodeSize", "Runtime", "Handler", "Timeout", "MemorySize", "Description", "Role"):
        if key != field:
            assert cfg[key] == before[key], key
    assert cfg["Environment"]["Variables"] == {"KEEP": "1"}


def test_update_several_fields_at_once(lam):
    name = unique_name("cfgmany")
    create_function(lam, name)
    resp = lam.update_function_configuration(
        FunctionName=name, Description="many", Timeout=30, MemorySize=512, Handler="app.other"
    )
    assert (resp["Description"], resp["Timeout"], resp["MemorySize"], resp["Handler"]) == ("many", 30, 512, "app.other")
    cfg = without_metadata(lam.get_function_configuration(FunctionName=name))
    assert {k: cfg[k] for k in ("Description", "Timeout", "MemorySize", "Handler")} == {
        "Description": "many", "Timeout": 30, "MemorySize": 512, "Handler": "app.other",
    }


def test_environment_is_replaced_not_merged(lam):
    name = unique_name("env")
    create_function(lam, name, Environment={"Variables": {"ALPHA": "1", "BETA": "2"}})
    resp = lam.update_function_configuration(FunctionName=name, Environment={"Variables": {"GAMMA": "3"}})
    assert resp["Environment"]["Variables"] == {"GAMMA": "3"}
    assert lam.get_function_configuration(FunctionName=name)["Environment"]["Variables"] == {"GAMMA": "3"}


def test_environment_can_be_emptied(lam):
    name = unique_name("envempty")
    create_function(lam, name, Environment={"Variables": {"ALPHA": "1"}})
    lam.update_function_configuration(FunctionName=name, Environment={"Variables": {}})
    cfg = lam.get_function_configuration(FunctionName=name)
    assert cfg.get("Environment", {}).get("Variables", {}) == {}


def test_update_without_environment_keeps_it(lam):
    name = unique_name("envkeep")
    create_function(lam, name, Environment={"Variables": {"ALPHA": "1"}})
    lam.update_function_configuration(FunctionName=name, Timeout=9)
    assert lam.get_function_configuration(FunctionName=name)["Environment"]["Variables"] == {"ALPHA": "1"}


def test_update_configuration_changes_last_modified_and_revision(lam):
    name = unique_name("cfgstamp")
    before = create_function(lam, name)
    r1 = lam.update_function_configuration(FunctionName=name, Description="one")
    r2 = lam.update_function_configuration(FunctionName=name, Description="two")
    assert len({before["RevisionId"], r1["RevisionId"], r2["RevisionId"]}) == 3
    assert _stamp(before["LastModified"]) <= _stamp(r1["LastModified"]) <= _stamp(r2["LastModified"])


def test_update_configuration_with_matching_revision_id(lam):
    name = unique_name("cfgrev")
    before = create_function(lam, name)
    resp = lam.update_function_configuration(FunctionName=name, Timeout=10, RevisionId=before["RevisionId"])
    assert resp["Timeout"] == 10


def test_update_configuration_with_stale_revision_id_is_precondition_failed(lam):
    name = unique_name("cfgstale")
    before = create_function(lam, name)
    current = lam.update_function_configuration(FunctionName=name, Timeout=10)
    with aws_error(lam, "PreconditionFailedException", 412) as e:
        lam.update_function_configuration(FunctionName=name, Timeout=20, RevisionId=before["RevisionId"])
    # LocalStack (AWS-validated): "The Revision Id provided does not match the latest Revision Id. Call the
    # GetFunction/GetAlias API to retrieve the latest Revision Id"
    assert "Revision Id provided does not match the latest Revision Id" in e.message
    cfg = lam.get_function_configuration(FunctionName=name)
    assert (cfg["Timeout"], cfg["RevisionId"]) == (10, current["RevisionId"])


def test_update_configuration_with_made_up_revision_id_is_precondition_failed(lam):
    name = unique_name("cfgbogus")
    create_function(lam, name)
    with aws_error(lam, "PreconditionFailedException", 412):
        lam.update_function_configuration(FunctionName=name, Timeout=20, RevisionId="00000000-0000-0000-0000-000000000000")


def test_code_update_invalidates_a_revision_id_for_configuration(lam):
    name = unique_name("crossrev")
    before = create_function(lam, name)
    lam.update_function_code(FunctionName=name, ZipFile=python_zip(marker="new"))
    with aws_error(lam, "PreconditionFailedException", 412):
        lam.update_function_configuration(FunctionName=name, Timeout=20, RevisionId=before["RevisionId"])
