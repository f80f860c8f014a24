"""Every error the control plane documents, checked through boto3: the exception
class boto3 raises (so the code and status are AWS's) and a message that names
the problem.

Message texts are AWS's own where they matter; the source of each is noted.
"""

from __future__ import annotations

import pytest

from support import (
    ACCOUNT,
    REGION,
    ROLE,
    aws_error,
    create_function,
    python_zip,
    unique_name,
)


# -- existence -----------------------------------------------------------------


def test_get_missing_function_is_resource_not_found(lam):
    name = unique_name("missing")
    # AWS: 404 "Function not found: arn:aws:lambda:REGION:ACCOUNT:function:NAME"
    # (LocalStack's AWS-recorded snapshot test_function_lifecycle / delete_postdelete).
    with aws_error(lam, "ResourceNotFoundException", 404) as e:
        lam.get_function(FunctionName=name)
    assert e.message == f"Function not found: arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    assert e.error.response["Error"].get("Type", "User") == "User"


@pytest.mark.parametrize(
    "call",
    ["get_function_configuration", "update_function_configuration", "update_function_code", "delete_function"],
)
def test_every_action_on_a_missing_function_is_resource_not_found(lam, call):
    name = unique_name("missing")
    kwargs = {"FunctionName": name}
    if call == "update_function_configuration":
        kwargs["Timeout"] = 10
    if call == "update_function_code":
        kwargs["ZipFile"] = python_zip()
    with aws_error(lam, "ResourceNotFoundException", 404) as e:
        getattr(lam, call)(**kwargs)
    assert e.message == f"Function not found: arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def test_create_existing_function_is_resource_conflict(lam):
    name = unique_name("dup")
    create_function(lam, name)
    # AWS: 409 "Function already exist: NAME" (sic).
    with aws_error(lam, "ResourceConflictException", 409) as e:
        create_function(lam, name, python_zip(marker="second"))
    assert e.message == f"Function already exist: {name}"


def test_failed_duplicate_create_leaves_the_original_untouched(lam):
    name = unique_name("dup")
    first = create_function(lam, name, Timeout=5)
    with aws_error(lam, "ResourceConflictException", 409):
        create_function(lam, name, python_zip(marker="other"), Timeout=60)
    cfg = lam.get_function_configuration(FunctionName=name)
    assert (cfg["Timeout"], cfg["CodeSha256"], cfg["RevisionId"]) == (5, first["CodeSha256"], first["RevisionId"])


# -- names -----------------------------------------------------------------------


def test_function_name_of_64_chars_is_accepted(lam):
    name = ("n64-" + "x" * 64)[:64]
    resp = create_function(lam, name)
    assert resp["FunctionName"] == name
    assert lam.get_function(FunctionName=name)["Configuration"]["FunctionName"] == name


def test_function_name_of_65_chars_is_rejected(lam):
    name = "n65-" + "y" * 61
    assert len(name) == 65
    # AWS (CloudFormation-surfaced): ValidationException "1 validation error detected: Value '<name>'
    # at 'functionName' failed to satisfy constraint: Member must have length less than or equal to 64".
    with aws_error(lam, "ValidationException", 400) as e:
        create_function(lam, name)
    assert "functionName" in e.message
    assert "less than or equal to 64" in e.message
    with aws_error(lam, "ResourceNotFoundException", 404):
        lam.get_function(FunctionName=name[:64])


@pytest.mark.parametrize("name", ["has space", "semi;colon", "slash/name", "dollar$", "ünïcode"])
def test_function_name_with_invalid_characters_is_rejected(lam, name):
    # AWS: names match [a-zA-Z0-9-_]+ ; ValidationException "... at 'functionName' failed to satisfy
    # constraint: Member must satisfy regular expression pattern: ..." (API_CreateFunction, FunctionName).
    with aws_error(lam, "ValidationException", 400) as e:
        create_function(lam, name)
    assert "functionName" in e.message


def test_missing_role_is_a_validation_error(lam):
    # AWS: Role is required; "1 validation error detected: Value null at 'role' failed to satisfy
    # constraint: Member must not be null".
    with aws_error(lam, "ValidationException", 400) as e:
        lam.create_function(FunctionName=unique_name(), Runtime="python3.12", Handler="app.handler", Code={"ZipFile": python_zip()})
    assert "role" in e.message.lower()


# -- runtime and handler ------------------------------------------------------------


def test_unknown_runtime_lists_the_supported_ones(lam):
    # Real AWS (CloudFormation error "Value dotnetcore2.2 at 'runtime' failed to satisfy constraint:
    # Member must satisfy enum value set: [java8, nodejs8.10, ...] or be a valid ARN (Service:
    # AWSLambdaInternal; Status Code: 400; Error Code: InvalidParameterValueException").
    with aws_error(lam, "InvalidParameterValueException", 400) as e:
        create_function(lam, Runtime="python2.0")
    assert "python2.0" in e.message
    assert "at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [" in e.message
    assert "or be a valid ARN" in e.message
    for runtime in ("python3.12", "nodejs20.x", "nodejs22.x", "java8", "java17", "java21", "provided.al2023"):
        assert runtime in e.message, f"supported runtime {runtime} missing from the enum list: {e.message}"


def test_unknown_runtime_on_update_is_rejected_and_config_unchanged(lam):
    name = unique_name("rtupd")
    before = create_function(lam, name)
    with aws_error(lam, "InvalidParameterValueException", 400) as e:
        lam.update_function_configuration(FunctionName=name, Runtime="cobol85")
    assert "cobol85" in e.message
    cfg = lam.get_function_configuration(FunctionName=name)
    assert (cfg["Runtime"], cfg["RevisionId"]) == ("python3.12", before["RevisionId"])


def test_python_handler_without_module_is_rejected(lam):
    # Lambdabox validates the handler per runtime (python needs module.function). AWS itself only
    # checks the pattern [^\s]+ here, so the error class is either of the two AWS uses for input.
    import botocore.exceptions

    with pytest.raises(botocore.exceptions.ClientError) as ei:
        create_function(lam, Handler="handler")
    err = ei.value.response["Error"]
    assert err["Code"] in ("InvalidParameterValueException", "ValidationException"), err
    assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "handler" in err["Message"].lower()


def test_handler_with_whitespace_is_rejected(lam):
    # AWS: Handler pattern [^\s]+ -> ValidationException "... at 'handler' failed to satisfy constraint".
    with aws_error(lam, "ValidationException", 400) as e:
        create_function(lam, Handler="app. handler")
    assert "handler" in e.message


def test_handler_longer_than_128_is_rejected(lam):
    # AWS: Handler maximum length 128 (API_CreateFunction).
    with aws_error(lam, "ValidationException", 400) as e:
        create_function(lam, Handler="a" * 121 + ".handler")
    assert "handler" in e.message


# -- numeric limits ---------------------------------------------------------------------
# AWS: "1 validation error detected: Value '1200' at 'timeout' failed to satisfy constraint: Member
# must have value less than or equal to 900 (... Error Code: ValidationException)" and the same shape
# for memorySize ("... less than or equal to 10240").


@pytest.mark.parametrize(
    "field,value,member,constraint",
    [
        ("Timeout", 0, "timeout", "Member must have value greater than or equal to 1"),
        ("Timeout", 901, "timeout", "Member must have value less than or equal to 900"),
        ("MemorySize", 127, "memorySize", "Member must have value greater than or equal to 128"),
        ("MemorySize", 10241, "memorySize", "Member must have value less than or equal to 10240"),
    ],
)
def test_out_of_range_numbers_are_validation_errors(lam, field, value, member, constraint):
    with aws_error(lam, "ValidationException", 400) as e:
        create_function(lam, **{field: value})
    assert f"Value '{value}' at '{member}' failed to satisfy constraint: {constraint}" in e.message
    assert e.message.startswith("1 validation error detected: ")


@pytest.mark.parametrize("size", [511, 10241])
def test_out_of_range_ephemeral_storage_is_a_validation_error(lam, size):
    with aws_error(lam, "ValidationException", 400) as e:
        create_function(lam, EphemeralStorage={"Size": size})
    assert str(size) in e.message
    assert "ephemeralStorage" in e.message


@pytest.mark.parametrize(
    "field,value",
    [("Timeout", 901), ("MemorySize", 64), ("EphemeralStorage", {"Size": 100})],
)
def test_out_of_range_update_is_rejected_and_config_unchanged(lam, field, value):
    name = unique_name("rangeupd")
    before = create_function(lam, name)
    with aws_error(lam, "ValidationException", 400):
        lam.update_function_configuration(FunctionName=name, **{field: value})
    cfg = lam.get_function_configuration(FunctionName=name)
    assert cfg["RevisionId"] == before["RevisionId"]
    assert (cfg["Timeout"], cfg["MemorySize"], cfg["EphemeralStorage"]) == (3, 128, {"Size": 512})


# -- environment ------------------------------------------------------------------------

RESERVED_MESSAGE = (
    "Lambda was unable to configure your environment variables because the environment variables you "
    "have provided contains reserved keys that are currently not supported for modification. "
    "Reserved keys used in this request: "
)


@pytest.mark.parametrize(
    "key",
    # (_HANDLER and _X_AMZN_TRACE_ID are reserved too, but fail the key pattern first: see below.)
    ["AWS_REGION", "AWS_LAMBDA_FUNCTION_NAME", "LAMBDA_TASK_ROOT", "AWS_ACCESS_KEY_ID",
     "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_LAMBDA_RUNTIME_API", "LAMBDA_RUNTIME_DIR",
     "AWS_EXECUTION_ENV", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"],
)
def test_reserved_environment_variable_is_rejected_on_create(lam, key):
    # AWS's message verbatim (Lambda developer guide "Defined runtime environment variables" lists the keys).
    name = unique_name("reserved")
    with aws_error(lam, "InvalidParameterValueException", 400) as e:
        create_function(lam, name, Environment={"Variables": {"FINE": "1", key: "x"}})
    assert e.message == RESERVED_MESSAGE + key
    with aws_error(lam, "ResourceNotFoundException", 404):
        lam.get_function(FunctionName=name)


def test_several_reserved_keys_are_all_named(lam):
    with aws_error(lam, "InvalidParameterValueException", 400) as e:
        create_function(lam, Environment={"Variables": {"AWS_REGION": "x", "LAMBDA_TASK_ROOT": "y", "OK": "z"}})
    assert e.message.startswith(RESERVED_MESSAGE)
    named = e.message[len(RESERVED_MESSAGE):]
    assert "AWS_REGION" in named and "LAMBDA_TASK_ROOT" in named and "OK" not in named.split(", ")


@pytest.mark.parametrize("key", ["_HANDLER", "1ABC", "HAS-DASH", "X", "WITH SPACE"])
def test_environment_key_outside_the_aws_pattern_is_a_validation_error(lam, key):
    # AWS (API_Environment): Variables keys match [a-zA-Z]([a-zA-Z0-9_])+ -- a letter then at least one
    # letter, digit or underscore. A key outside it fails validation before the reserved-key check.
    with aws_error(lam, "ValidationException", 400) as e:
        create_function(lam, Environment={"Variables": {key: "v"}})
    assert "environment.variables" in e.message


def test_reserved_environment_variable_is_rejected_on_update(lam):
    name = unique_name("reservedupd")
    before = create_function(lam, name, Environment={"Variables": {"KEEP": "me"}})
    with aws_error(lam, "InvalidParameterValueException", 400) as e:
        lam.update_function_configuration(FunctionName=name, Environment={"Variables": {"AWS_REGION": "eu-west-1"}})
    assert e.message == RESERVED_MESSAGE + "AWS_REGION"
    cfg = lam.get_function_configuration(FunctionName=name)
    assert cfg["Environment"]["Variables"] == {"KEEP": "me"}
    assert cfg["RevisionId"] == before["RevisionId"]


# -- code source ------------------------------------------------------------------------


def test_s3_code_is_rejected_clearly_for_now(lam):
    with aws_error(lam, "InvalidParameterValueException", 400) as e:
        lam.create_function(
            FunctionName=unique_name(), Runtime="python3.12", Role=ROLE, Handler="app.handler",
            Code={"S3Bucket": "my-bucket", "S3Key": "code.zip"},
        )
    assert "S3" in e.message


def test_s3_code_on_update_is_rejected_and_code_unchanged(lam):
    name = unique_name("s3upd")
    before = create_function(lam, name)
    with aws_error(lam, "InvalidParameterValueException", 400) as e:
        lam.update_function_code(FunctionName=name, S3Bucket="my-bucket", S3Key="code.zip")
    assert "S3" in e.message
    cfg = lam.get_function_configuration(FunctionName=name)
    assert (cfg["CodeSha256"], cfg["RevisionId"]) == (before["CodeSha256"], before["RevisionId"])


def test_missing_code_is_rejected(lam):
    import botocore.exceptions

    with pytest.raises(botocore.exceptions.ClientError) as ei:
        lam.create_function(FunctionName=unique_name(), Runtime="python3.12", Role=ROLE, Handler="app.handler")
    err = ei.value.response["Error"]
    # AWS: Code is a required member -> "Value null at 'code' failed to satisfy constraint: Member must not be null".
    assert err["Code"] in ("ValidationException", "InvalidParameterValueException"), err
    assert "code" in err["Message"].lower()


# -- other members with documented constraints (API_CreateFunction request parameters) -------------


def test_description_longer_than_256_is_rejected(lam):
    with aws_error(lam, "ValidationException", 400) as e:
        create_function(lam, Description="d" * 257)
    assert "description" in e.message


def test_description_of_256_with_unicode_round_trips(lam):
    text = ("héllo ✓ 日本 " * 30)[:256]
    name = unique_name("desc")
    assert create_function(lam, name, Description=text)["Description"] == text
    assert lam.get_function_configuration(FunctionName=name)["Description"] == text


def test_role_that_is_not_an_iam_role_arn_is_rejected(lam):
    # AWS: Role pattern arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+ ->
    # ValidationException "... at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern".
    with aws_error(lam, "ValidationException", 400) as e:
        create_function(lam, Role="not-an-arn")
    assert "role" in e.message


@pytest.mark.parametrize("archs", [["sparc"], ["x86_64", "arm64"], []])
def test_invalid_architectures_are_rejected(lam, archs):
    # AWS: Architectures is a list of exactly one of [x86_64, arm64].
    with aws_error(lam, "ValidationException", 400) as e:
        create_function(lam, Architectures=archs)
    assert "architectures" in e.message.lower()


def test_memory_in_one_mb_steps_is_accepted(lam):
    # AWS: "between 128 MB and 10,240 MB in 1-MB increments" (API_CreateFunction, MemorySize).
    assert create_function(lam, MemorySize=129)["MemorySize"] == 129


def test_environment_over_4kb_is_rejected(lam):
    # AWS: "Lambda was unable to configure your environment variables because the environment variables
    # you have provided exceeded the 4KB limit. String measured: ..." (InvalidParameterValueException).
    with aws_error(lam, "InvalidParameterValueException", 400) as e:
        create_function(lam, Environment={"Variables": {"BIG": "x" * 4100}})
    assert "4KB" in e.message


def test_environment_just_under_4kb_is_accepted(lam):
    # The limit is on the JSON-serialised map ({"BIG":"xxx..."}), which must stay within 4096 bytes.
    value = "x" * 4000
    assert create_function(lam, Environment={"Variables": {"BIG": value}})["Environment"]["Variables"]["BIG"] == value


def test_unknown_request_members_are_ignored(server):
    # AWS ignores members it does not know, which newer SDKs send; a strict parser would break them.
    import base64
    import json

    from support import API, raw_request

    name = unique_name("unknownmember")
    payload = {
        "FunctionName": name, "Runtime": "python3.12", "Role": ROLE, "Handler": "app.handler",
        "Code": {"ZipFile": base64.b64encode(python_zip()).decode(), "SomeFutureCodeField": True},
        "SomeFutureField": {"Nested": [1, 2, 3]},
    }
    resp = raw_request(server.url, "POST", f"{API}/functions", body=json.dumps(payload).encode())
    assert resp.status == 201, resp.body[:500]
    assert resp.json["FunctionName"] == name
