"""The real AWS CLI (v1, from PyPI) against the server: the commands a user types."""

from __future__ import annotations

from support import ACCOUNT, REGION, ROLE, code_sha256, download, python_zip, unique_name


def test_cli_create_list_update_get_delete(server, tmp_path):
    name = unique_name("cli")
    zip_path = tmp_path / "function.zip"
    zip_bytes = python_zip(marker=name)
    zip_path.write_bytes(zip_bytes)

    created = server.aws(
        "create-function", "--function-name", name, "--runtime", "python3.12", "--role", ROLE,
        "--handler", "app.handler", "--zip-file", f"fileb://{zip_path}", "--tags", "team=cli",
    ).json
    assert created["FunctionName"] == name
    assert created["FunctionArn"] == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    assert created["CodeSha256"] == code_sha256(zip_bytes)
    assert created["CodeSize"] == len(zip_bytes)

    listed = server.aws("list-functions").json
    assert name in [f["FunctionName"] for f in listed["Functions"]]

    updated = server.aws(
        "update-function-configuration", "--function-name", name, "--timeout", "30", "--memory-size", "256",
        "--description", "set by the cli", "--environment", "Variables={STAGE=test,LEVEL=2}",
    ).json
    assert (updated["Timeout"], updated["MemorySize"], updated["Description"]) == (30, 256, "set by the cli")
    assert updated["Environment"]["Variables"] == {"STAGE": "test", "LEVEL": "2"}
    assert updated["RevisionId"] != created["RevisionId"]

    got = server.aws("get-function", "--function-name", name).json
    assert got["Configuration"]["Timeout"] == 30
    assert got["Tags"] == {"team": "cli"}
    assert download(got["Code"]["Location"]) == zip_bytes

    new_zip = python_zip(marker="cli-v2")
    new_path = tmp_path / "v2.zip"
    new_path.write_bytes(new_zip)
    code = server.aws("update-function-code", "--function-name", name, "--zip-file", f"fileb://{new_path}").json
    assert code["CodeSha256"] == code_sha256(new_zip)

    deleted = server.aws("delete-function", "--function-name", name)
    # Recent CLI models give DeleteFunction an output bound to the HTTP status code.
    assert deleted.json in (None, {}, {"StatusCode": 204}), deleted.stdout

    gone = server.aws("get-function", "--function-name", name, check=False)
    assert gone.returncode != 0
    assert "ResourceNotFoundException" in gone.stderr
    assert f"Function not found: arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}" in gone.stderr


def test_cli_reports_a_conflict(server, tmp_path):
    name = unique_name("clidup")
    zip_path = tmp_path / "f.zip"
    zip_path.write_bytes(python_zip())
    args = ["create-function", "--function-name", name, "--runtime", "python3.12", "--role", ROLE,
            "--handler", "app.handler", "--zip-file", f"fileb://{zip_path}"]
    server.aws(*args)
    again = server.aws(*args, check=False)
    assert again.returncode != 0
    assert "ResourceConflictException" in again.stderr
    assert f"Function already exist: {name}" in again.stderr


def test_cli_reports_an_invalid_parameter(server, tmp_path):
    zip_path = tmp_path / "f.zip"
    zip_path.write_bytes(python_zip())
    res = server.aws(
        "create-function", "--function-name", unique_name("clibad"), "--runtime", "python3.12", "--role", ROLE,
        "--handler", "app.handler", "--zip-file", f"fileb://{zip_path}",
        "--environment", "Variables={AWS_REGION=eu-west-1}", check=False,
    )
    assert res.returncode != 0
    assert "InvalidParameterValueException" in res.stderr
    assert "AWS_REGION" in res.stderr


def test_cli_account_settings_and_tags(server, tmp_path):
    name = unique_name("clitag")
    zip_path = tmp_path / "f.zip"
    zip_path.write_bytes(python_zip())
    arn = server.aws(
        "create-function", "--function-name", name, "--runtime", "nodejs20.x", "--role", ROLE,
        "--handler", "index.handler", "--zip-file", f"fileb://{zip_path}",
    ).json["FunctionArn"]
    server.aws("tag-resource", "--resource", arn, "--tags", "a=1,b=2")
    server.aws("untag-resource", "--resource", arn, "--tag-keys", "a")
    assert server.aws("list-tags", "--resource", arn).json["Tags"] == {"b": "2"}
    settings = server.aws("get-account-settings").json
    assert settings["AccountLimit"]["CodeSizeZipped"] == 52428800
    assert settings["AccountUsage"]["FunctionCount"] >= 1


def test_cli_in_another_region(server, tmp_path):
    name = unique_name("cliwest")
    zip_path = tmp_path / "f.zip"
    zip_path.write_bytes(python_zip())
    created = server.aws(
        "create-function", "--function-name", name, "--runtime", "python3.12", "--role", ROLE,
        "--handler", "app.handler", "--zip-file", f"fileb://{zip_path}", region="eu-central-1",
    ).json
    assert created["FunctionArn"] == f"arn:aws:lambda:eu-central-1:{ACCOUNT}:function:{name}"
