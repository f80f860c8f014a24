"""Reading botocore's service models: minimal requests for any operation, and
validation of a parsed response against an operation's output shape.

Everything here is derived from the model the test environment's botocore
ships (`botocore/data/<service>/<version>/service-2.json`), so the suite
follows AWS's contract as it changes, and grows with every service added.
"""

from __future__ import annotations

import collections
import datetime
import re
from dataclasses import dataclass, field

import botocore.session
from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

SESSION = botocore.session.get_session()

# What each service answered, counted by the tests and printed at the end.
RESULTS: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)

# Values for members whose name says what they are: a name a real request
# would carry, so the server's answer is about the operation, not the value.
NAMED = {
    "FunctionName": "conformance-missing-fn",
    "Qualifier": "$LATEST",
    "LayerName": "conformance-layer",
    "Bucket": "conformance-bucket",
    "Key": "conformance-key",
    "logGroupName": "/aws/lambda/conformance-missing",
    "logStreamName": "conformance-stream",
    "ApiId": "abcdef1234",
    "Role": "arn:aws:iam::000000000000:role/conformance",
    "Runtime": "python3.12",
    "Handler": "app.handler",
    "RoleArn": "arn:aws:iam::000000000000:role/conformance",
    "RoleSessionName": "conformance",
    "Resource": "arn:aws:lambda:us-east-1:000000000000:function:conformance-missing-fn",
    "ResourceArn": "arn:aws:lambda:us-east-1:000000000000:function:conformance-missing-fn",
    "Arn": "arn:aws:lambda:us-east-1:000000000000:function:conformance-missing-fn",
    # SQS: any host, the path names the queue (the suites create it).
    "QueueUrl": "http://localhost/000000000000/conformance-queue",
    "QueueName": "conformance-queue",
}


def service_model(name: str):
    return SESSION.get_service_model(name)


def value_for(name: str, shape: Shape, depth: int = 0):
    """A value of `shape` that satisfies its constraints, as far as we can tell."""
    if name in NAMED and shape.type_name == "string":
        return NAMED[name]
    t = shape.type_name
    if t == "structure":
        return {m: value_for(m, shape.members[m], depth + 1) for m in shape.required_members} if depth < 6 else {}
    if t == "list":
        count = shape.metadata.get("min", 0) or 0
        return [value_for(name, shape.member, depth + 1) for _ in range(count)]
    if t == "map":
        return {}
    if t == "string":
        if shape.enum:
            return shape.enum[0]
        low = shape.metadata.get("min", 1) or 1
        high = shape.metadata.get("max")
        pattern = shape.metadata.get("pattern")
        if pattern:
            for candidate in CANDIDATES:
                if len(candidate) >= low and (high is None or len(candidate) <= high) and fullmatch(pattern, candidate):
                    return candidate
        return "a" * max(low, 1)
    if t in ("integer", "long"):
        return max(shape.metadata.get("min", 1) or 1, 1)
    if t in ("float", "double"):
        return 1.0
    if t == "boolean":
        return False
    if t == "timestamp":
        return datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    if t == "blob":
        return b"{}"
    return None


# Values tried, in order, for a string member with a pattern: the first that
# matches its pattern and lengths is used.
CANDIDATES = [
    "a",
    "conformance-1",
    "1",
    "lambda:InvokeFunction",
    "s3.amazonaws.com",
    "000000000000",
    "arn:aws:lambda:us-east-1:000000000000:function:conformance-missing-fn",
    "arn:aws:iam::000000000000:role/conformance",
    "arn:aws:s3:::conformance-bucket",
    "arn:aws:kms:us-east-1:000000000000:key/conformance",
    "o-a1b2c3d4e5",
    "us-east-1",
    "2026-01-01T00:00:00.000+0000",
]


def fullmatch(pattern: str, value: str) -> bool:
    try:
        return re.fullmatch(java_regex(pattern), value, re.DOTALL) is not None
    except re.error:
        return False


def minimal_request(op: OperationModel) -> dict:
    if op.input_shape is None:
        return {}
    return value_for("", op.input_shape)


@dataclass
class Violations:
    problems: list[str] = field(default_factory=list)

    def add(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")


def validate(shape: Shape | None, value, path: str = "", out: Violations | None = None) -> Violations:
    """Checks a parsed response against its output shape: types, required
    members, enums, lengths, ranges and patterns (AWS's regexes)."""
    out = out or Violations()
    if shape is None or value is None:
        return out
    t = shape.type_name
    if isinstance(shape, StructureShape):
        if not isinstance(value, dict):
            out.add(path, f"expected a structure, got {type(value).__name__}")
            return out
        for member in shape.required_members:
            if member not in value and not shape.members[member].serialization.get("location"):
                out.add(f"{path}.{member}", "required member missing")
        for member, v in value.items():
            if member in shape.members:
                validate(shape.members[member], v, f"{path}.{member}", out)
        return out
    if isinstance(shape, ListShape):
        if not isinstance(value, list):
            out.add(path, f"expected a list, got {type(value).__name__}")
            return out
        check_length(shape, len(value), path, out)
        for i, v in enumerate(value):
            validate(shape.member, v, f"{path}[{i}]", out)
        return out
    if isinstance(shape, MapShape):
        if not isinstance(value, dict):
            out.add(path, f"expected a map, got {type(value).__name__}")
            return out
        for k, v in value.items():
            validate(shape.key, k, f"{path}<key>", out)
            validate(shape.value, v, f"{path}[{k!r}]", out)
        return out
    if t == "string":
        if shape.name == "policyDocumentType" and isinstance(value, dict):
            # botocore decodes IAM's URL-encoded policy documents into dicts
            # (its `json_decode_policies` handler); the JSON must be a policy.
            if not isinstance(value.get("Statement"), (list, dict)):
                out.add(path, "a policy document without a Statement")
            return out
        if not isinstance(value, str):
            out.add(path, f"expected a string, got {type(value).__name__}")
            return out
        if shape.enum and value not in shape.enum:
            out.add(path, f"{value!r} is not one of {shape.enum}")
        check_length(shape, len(value), path, out)
        pattern = shape.metadata.get("pattern")
        if pattern and value:
            try:
                if not re.fullmatch(java_regex(pattern), value, re.DOTALL):
                    out.add(path, f"{value[:80]!r} does not match {pattern}")
            except re.error:
                pass
        return out
    if t in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            out.add(path, f"expected an integer, got {type(value).__name__}")
            return out
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        if low is not None and value < low or high is not None and value > high:
            out.add(path, f"{value} outside [{low}, {high}]")
        return out
    if t == "boolean" and not isinstance(value, bool):
        out.add(path, f"expected a boolean, got {type(value).__name__}")
    if t == "timestamp" and not isinstance(value, datetime.datetime):
        out.add(path, f"expected a timestamp, got {value!r}")
    return out


def check_length(shape: Shape, n: int, path: str, out: Violations) -> None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and n < low:
        out.add(path, f"length {n} below the minimum {low}")
    if high is not None and n > high:
        out.add(path, f"length {n} above the maximum {high}")


def java_regex(pattern: str) -> str:
    """AWS's patterns are Java regexes; Unicode classes become (looser) Python ones."""
    for java, python in [("\\p{Alnum}", "\\w"), ("\\p{L}", "\\w"), ("\\p{N}", "\\d"), ("\\p{Z}", "\\s")]:
        pattern = pattern.replace(java, python)
    return pattern
