"""Every constraint of every implemented Lambda operation's top-level input members, generated from
botocore's model: one request per constraint that breaks only that constraint (a string longer than
its maximum, a pattern broken, a value outside its enum, a number out of range), which must be refused
with AWS's `ValidationException` (status 400) — and, beside each, a boundary companion (exactly the
maximum, exactly the minimum) that must not be refused by validation.

The baseline is the minimal request of `model.minimal_request` against a function that does not
exist: AWS validates a request before it looks anything up, so the answers are about the value.
`OVERRIDES` records where AWS answers with a more specific error first, with the source.
`GAPS` lists where Lambdabox does not do it yet; they are strict expected failures, so a fix turns
them into failures that ask for the entry to be removed.
"""

from __future__ import annotations

import re
from pathlib import Path

import botocore.exceptions
import pytest
from botocore.config import Config

import boto3
from model import RESULTS, minimal_request, service_model

MODEL = service_model("lambda")

# Operations Lambdabox serves (the rest answer UnknownOperationException; see test_every_operation).
IMPLEMENTED = [
    "AddPermission", "CreateAlias", "CreateEventSourceMapping", "CreateFunction", "CreateFunctionUrlConfig", "DeleteAlias",
    "DeleteEventSourceMapping", "DeleteFunction", "DeleteFunctionConcurrency", "DeleteFunctionEventInvokeConfig",
    "DeleteFunctionUrlConfig", "DeleteLayerVersion", "DeleteProvisionedConcurrencyConfig",
    "GetAccountSettings", "GetAlias", "GetEventSourceMapping", "GetFunction", "GetFunctionConcurrency", "GetFunctionConfiguration",
    "GetFunctionEventInvokeConfig", "GetFunctionUrlConfig", "GetLayerVersion", "GetPolicy",
    "GetProvisionedConcurrencyConfig", "Invoke", "ListAliases", "ListEventSourceMappings", "ListFunctionEventInvokeConfigs",
    "ListFunctionUrlConfigs", "ListFunctions", "ListLayerVersions", "ListLayers", "ListTags",
    "ListVersionsByFunction", "PublishLayerVersion", "PublishVersion", "PutFunctionConcurrency",
    "PutFunctionEventInvokeConfig", "PutProvisionedConcurrencyConfig", "RemovePermission", "TagResource",
    "UntagResource", "UpdateAlias", "UpdateEventSourceMapping", "UpdateFunctionCode", "UpdateFunctionConfiguration",
    "UpdateFunctionEventInvokeConfig", "UpdateFunctionUrlConfig",
]

# (operation, member) -> (error code AWS gives instead, source).
OVERRIDES = {
    ("CreateFunction", "Runtime"): (
        "InvalidParameterValueException",
        "AWS answers an unknown runtime with InvalidParameterValueException "
        "(docs: CreateFunction errors; recorded in tests/e2e/test_errors.py)",
    ),
}

# Boundaries that are not boundaries: (member, kind) -> why, with the source.
NOT_BOUNDARIES = {
    ("FunctionName", "exactly-max"): "the 170 characters allow an ARN; a plain name has at most 64 "
    "(API reference, FunctionName: 'The length constraint applies only to the full ARN')",
    ("Timeout", "exactly-max"): "the model's 5400 is for functions on capacity providers; others have "
    "at most 900 s (Lambda quotas: 'Function timeout: 900 seconds (15 minutes)')",
    ("MemorySize", "exactly-max"): "the model's 32768 is for functions on capacity providers; others have "
    "at most 10,240 MB (Lambda quotas: 'Function memory allocation: 128 MB to 10,240 MB')",
}


def load_gaps() -> dict[tuple[str, str, str], str]:
    """`lambda_gaps.txt`: the cases Lambdabox does not answer as AWS does yet, one per line
    (`Operation.Member.kind  what it answers instead`). Strict expected failures: a fix makes its
    line fail until it is removed."""
    gaps = {}
    path = Path(__file__).with_name("lambda_gaps.txt")
    for line in path.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        case, _, reason = line.partition("  ")
        op, member, kind = case.split(".")
        gaps[(op, member, kind)] = reason.strip() or "not validated yet"
    return gaps


GAPS = load_gaps()


def violations():
    for name in IMPLEMENTED:
        op = MODEL.operation_model(name)
        if op.input_shape is None:
            continue
        for member, shape in op.input_shape.members.items():
            if shape.type_name == "string" and member not in ("FunctionName", "Qualifier") and shape.serialization.get("location") == "uri":
                continue  # a path segment: a bad one names another resource, not a bad value
            for kind, value, refused in cases(shape):
                if (member, kind) not in NOT_BOUNDARIES:
                    yield name, member, kind, value, refused


def cases(shape):
    meta = shape.metadata
    if shape.type_name == "string":
        if shape.enum:
            yield "enum", "NOT_A_VALUE", True
            return
        low, high = meta.get("min"), meta.get("max")
        pattern = meta.get("pattern")
        if high is not None and high < 10_000:
            yield "longer-than-max", "a" * (high + 1), True
            if not pattern or _matches(pattern, "a" * high):
                yield "exactly-max", "a" * high, False
        if pattern and (low or 0) <= 3 <= (high or 3) and not _matches(pattern, "!~ "):
            yield "pattern", "!~ ", True
    elif shape.type_name in ("integer", "long"):
        low, high = meta.get("min"), meta.get("max")
        if low is not None:
            yield "below-min", low - 1, True
            yield "exactly-min", low, False
        if high is not None:
            yield "above-max", high + 1, True
            yield "exactly-max", high, False


def _matches(pattern, value):
    try:
        return re.fullmatch(pattern.replace("\\p{L}", "\\w").replace("\\p{N}", "\\d"), value) is not None
    except re.error:
        return True  # unsure: do not generate the case


def params():
    for op, member, kind, value, refused in violations():
        key = (op, member, kind)
        marks = [pytest.mark.xfail(reason=GAPS[key], strict=True)] if key in GAPS else []
        yield pytest.param(op, member, value, refused, id=f"{op}.{member}.{kind}", marks=marks)


@pytest.fixture(scope="module")
def lam(conformance_server):
    return boto3.client(
        "lambda",
        endpoint_url=conformance_server.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(parameter_validation=False, retries={"total_max_attempts": 1}),
    )


def camel(member: str) -> str:
    return member[:1].lower() + member[1:]


def send(lam, operation, request):
    method = next(n for n, api in lam.meta.method_to_api_mapping.items() if api == operation)
    try:
        getattr(lam, method)(**request)
        return 200, None, ""
    except botocore.exceptions.ClientError as e:
        return e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"], e.response["Error"].get("Message", "")


_BASELINES: dict[str, tuple] = {}


@pytest.mark.parametrize("operation, member, value, refused", list(params()))
def test_each_constraint_is_enforced_and_its_boundary_accepted(lam, operation, member, value, refused):
    op = MODEL.operation_model(operation)
    request = minimal_request(op)
    expected = OVERRIDES.get((operation, member), ("ValidationException", ""))[0]
    if not refused:
        if operation not in _BASELINES:
            _BASELINES[operation] = send(lam, operation, request)
        if _BASELINES[operation][1] == "ValidationException":
            RESULTS["lambda constraints"]["boundary skipped (generated baseline not valid)"] += 1
            pytest.skip(f"the generated baseline is refused: {_BASELINES[operation][2][:120]}")
    request[member] = value
    status, code, message = send(lam, operation, request)
    RESULTS["lambda constraints"][f"{'violation' if refused else 'boundary'} -> {code or 'ok'}"] += 1
    assert status < 500, f"{operation}.{member}={str(value)[:40]!r}: {status} {code}"
    if refused:
        assert (status, code) == (400, expected), f"got {status} {code}, AWS: {expected}"
        if expected == "ValidationException":
            assert f"'{camel(member)}'" in message, f"the message does not name '{camel(member)}': {message[:200]}"
    else:
        assert not (code == "ValidationException" and f"'{camel(member)}'" in message), f"refused at its boundary: {message[:200]}"
