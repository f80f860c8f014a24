"""S3 event notifications to Lambda functions, as a person sets them up:
`add-permission --principal s3.amazonaws.com`, PutBucketNotificationConfiguration
with boto3, then `aws s3 cp` (and deletes) invoke the function asynchronously
with the record S3 sends. The function prints its event; the tests read it
from the function's log stream (as `test_async.py` observes asynchronous
invocations)."""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

import conftest
from support import ACCOUNT, REGION, ROLE, make_zip, unique_name
from test_s3 import aws_s3

SINK = "import json\ndef handler(event, context):\n    print('S3EVENT ' + json.dumps(event, sort_keys=True))\n"

UNABLE = "Unable to validate the following destination configurations"

# AWS answers GetBucketNotificationConfiguration with `Prefix`/`Suffix` as
# filter rule names, outside its own model's enum (`prefix`, `suffix`):
# https://github.com/aws/aws-sdk/issues/389. Lambdabox answers as AWS does.
AWS_RULE_NAMES = re.compile(r"\.FilterRules\[\d+\]\.Name: '(Prefix|Suffix)' is not one of")


@pytest.fixture(autouse=True)
def responses_match_their_output_shapes():
    """conftest's check of every boto3 response, but for AWS's capitalised rule names."""
    conftest._VIOLATIONS.clear()
    yield
    found = [v for v in conftest._VIOLATIONS if not AWS_RULE_NAMES.search(v)]
    conftest._VIOLATIONS.clear()
    assert not found, f"responses outside their output shapes (botocore's model): {found[:10]}"


@pytest.fixture
def s3(server):
    return boto3.client(
        "s3",
        endpoint_url=server.url,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1, "mode": "standard"}),
    )


@pytest.fixture
def lam(server):
    return server.client()


@pytest.fixture
def bucket(s3):
    name = f"notify-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture
def sink(lam):
    """A function that prints every event it gets."""
    name = unique_name("s3sink")
    lam.create_function(
        FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": SINK})},
    )
    return name


def arn(function: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function}"


def allow_s3(lam, function: str, bucket: str, sid: str = "s3") -> None:
    lam.add_permission(
        FunctionName=function, StatementId=sid, Action="lambda:InvokeFunction", Principal="s3.amazonaws.com",
        SourceArn=f"arn:aws:s3:::{bucket}", SourceAccount=ACCOUNT,
    )


def lambda_config(function: str, events: list[str], prefix: str | None = None, suffix: str | None = None, **extra):
    config = {"LambdaFunctionArn": arn(function), "Events": events, **extra}
    rules = [{"Name": n, "Value": v} for n, v in (("prefix", prefix), ("suffix", suffix)) if v is not None]
    if rules:
        config["Filter"] = {"Key": {"FilterRules": rules}}
    return config


def events_of(server, function: str) -> list[dict]:
    """Every event the function has printed, oldest first."""
    folder = server.data_dir / "logs" / function
    if not folder.is_dir():
        return []
    text = "".join(p.read_text(errors="replace") for p in sorted(folder.glob("*.log")))
    return [json.loads(line.split("S3EVENT ", 1)[1]) for line in text.splitlines() if "S3EVENT " in line]


def records(server, function: str) -> list[dict]:
    return [r for e in events_of(server, function) for r in e["Records"]]


def wait_for_record(server, function: str, key: str, event_name: str, timeout: float = 90.0) -> dict:
    """Polls the function's log for the record of `key`'s `event_name` (asynchronous invocations)."""
    deadline = time.monotonic() + timeout
    while True:
        for r in records(server, function):
            if r["s3"]["object"]["key"] == key and r["eventName"] == event_name:
                return r
        assert time.monotonic() < deadline, f"no {event_name} of {key}: {records(server, function)}"
        time.sleep(0.1)


def error(excinfo) -> dict:
    return excinfo.value.response["Error"]


def test_a_configuration_is_put_and_read_back(s3, lam, sink, bucket):
    allow_s3(lam, sink, bucket)
    configuration = {
        "LambdaFunctionConfigurations": [
            lambda_config(sink, ["s3:ObjectCreated:*"], prefix="images/", suffix=".jpg", Id="images"),
            lambda_config(sink, ["s3:ObjectRemoved:Delete", "s3:ObjectRemoved:DeleteMarkerCreated"]),
        ],
        "EventBridgeConfiguration": {},
    }
    assert "LambdaFunctionConfigurations" not in s3.get_bucket_notification_configuration(Bucket=bucket)
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=configuration)
    got = s3.get_bucket_notification_configuration(Bucket=bucket)
    assert got["EventBridgeConfiguration"] == {}
    first, second = got["LambdaFunctionConfigurations"]
    assert first == {
        "Id": "images",
        "LambdaFunctionArn": arn(sink),
        "Events": ["s3:ObjectCreated:*"],
        "Filter": {"Key": {"FilterRules": [{"Name": "Prefix", "Value": "images/"}, {"Name": "Suffix", "Value": ".jpg"}]}},
    }
    assert second["Events"] == ["s3:ObjectRemoved:Delete", "s3:ObjectRemoved:DeleteMarkerCreated"]
    assert re.fullmatch(r"[A-Za-z0-9+/]{48}", second["Id"]), "an Id is generated, as S3 generates one"
    assert "Filter" not in second

    # The same configuration read back is accepted as it is.
    again = {k: v for k, v in got.items() if k != "ResponseMetadata"}
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=again)
    assert s3.get_bucket_notification_configuration(Bucket=bucket)["LambdaFunctionConfigurations"] == [first, second]

    # An empty configuration turns notifications off.
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
    assert "LambdaFunctionConfigurations" not in s3.get_bucket_notification_configuration(Bucket=bucket)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_bucket_notification_configuration(Bucket=f"{bucket}-missing")
    assert error(e)["Code"] == "NoSuchBucket"


def test_a_function_s3_may_not_invoke_is_refused(s3, lam, sink, bucket):
    configuration = {"LambdaFunctionConfigurations": [lambda_config(sink, ["s3:ObjectCreated:*"])]}
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=configuration)
    assert error(e) == {
        "Code": "InvalidArgument",
        "Message": UNABLE,
        "ArgumentName1": f"{arn(sink)}, null",
        "ArgumentValue1": f"Not authorized to invoke function [{arn(sink)}]",
    }
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400

    # A permission for another bucket, or another service, is not one for this bucket.
    allow_s3(lam, sink, f"{bucket}-other", sid="other-bucket")
    lam.add_permission(FunctionName=sink, StatementId="apigw", Action="lambda:InvokeFunction",
                       Principal="apigateway.amazonaws.com")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=configuration)
    assert error(e)["Message"] == UNABLE

    # A function that does not exist reads the same, as on AWS.
    ghost = {"LambdaFunctionConfigurations": [lambda_config(unique_name("ghost"), ["s3:ObjectCreated:*"])]}
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=ghost)
    assert error(e)["ArgumentValue1"].startswith("Not authorized to invoke function [")

    allow_s3(lam, sink, bucket)
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=configuration)
    assert len(s3.get_bucket_notification_configuration(Bucket=bucket)["LambdaFunctionConfigurations"]) == 1


def test_invalid_configurations_are_refused_as_s3_refuses_them(s3, lam, sink, bucket):
    allow_s3(lam, sink, bucket)

    def refused(configuration) -> dict:
        with pytest.raises(botocore.exceptions.ClientError) as e:
            s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=configuration)
        assert error(e)["Code"] == "InvalidArgument", error(e)
        return error(e)

    assert refused({"LambdaFunctionConfigurations": [lambda_config(sink, ["s3:ObjectCreated:Upload"])]})[
        "Message"] == "The event is not supported for notifications"
    overlap = refused({"LambdaFunctionConfigurations": [
        lambda_config(sink, ["s3:ObjectCreated:*"], prefix="in/"),
        lambda_config(sink, ["s3:ObjectCreated:Put"], suffix=".jpg"),
    ]})
    assert overlap["Message"] == "Configurations overlap. Configurations on the same bucket cannot share a common event type."
    # Disjoint suffixes under the same prefix do not overlap.
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={"LambdaFunctionConfigurations": [
        lambda_config(sink, ["s3:ObjectCreated:*"], prefix="in/", suffix=".jpg"),
        lambda_config(sink, ["s3:ObjectCreated:*"], prefix="in/", suffix=".png"),
    ]})
    bad_arn = refused({"QueueConfigurations": [{"QueueArn": "not-an-arn", "Events": ["s3:ObjectCreated:*"]}]})
    assert (bad_arn["Message"], bad_arn["ArgumentName"], bad_arn["ArgumentValue"]) == (
        "The ARN could not be parsed", "Queue", "not-an-arn")
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:uploads"
    sns = refused({"TopicConfigurations": [{"TopicArn": topic, "Events": ["s3:ObjectCreated:*"]}]})
    assert (sns["Message"], sns["ArgumentName1"], sns["ArgumentValue1"]) == (
        UNABLE, topic, "The destination topic does not exist")
    rule = refused({"LambdaFunctionConfigurations": [
        {**lambda_config(sink, ["s3:ObjectCreated:*"]), "Filter": {"Key": {"FilterRules": [{"Name": "middle", "Value": "x"}]}}},
    ]})
    assert rule["Message"] == "filter rule name must be either prefix or suffix"
    # What was refused changed nothing.
    kept = s3.get_bucket_notification_configuration(Bucket=bucket)["LambdaFunctionConfigurations"]
    assert [c["Filter"]["Key"]["FilterRules"][1]["Value"] for c in kept] == [".jpg", ".png"]


def test_an_object_put_with_the_cli_invokes_the_function_once_with_s3s_record(server, s3, lam, sink, bucket, tmp_path):
    allow_s3(lam, sink, bucket)
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "LambdaFunctionConfigurations": [lambda_config(sink, ["s3:ObjectCreated:*"], suffix=".jpg", Id="jpegs")],
    })
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"\xff\xd8 not really a jpeg \xff\xd9")
    aws_s3(server, "s3", "cp", str(photo), f"s3://{bucket}/uploads/photo.jpg")
    record = wait_for_record(server, sink, "uploads/photo.jpg", "ObjectCreated:Put")

    assert set(record) == {"eventVersion", "eventSource", "awsRegion", "eventTime", "eventName", "userIdentity",
                           "requestParameters", "responseElements", "s3"}
    assert (record["eventVersion"], record["eventSource"], record["awsRegion"]) == ("2.1", "aws:s3", REGION)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record["eventTime"]), record["eventTime"]
    assert re.fullmatch(r"A[0-9A-Z]{13}", record["userIdentity"]["principalId"]), record["userIdentity"]
    assert record["requestParameters"] == {"sourceIPAddress": "127.0.0.1"}
    assert re.fullmatch(r"[0-9A-F]{16}", record["responseElements"]["x-amz-request-id"]), record["responseElements"]
    assert record["responseElements"]["x-amz-id-2"]
    entity = record["s3"]
    assert entity["s3SchemaVersion"] == "1.0"
    assert entity["configurationId"] == "jpegs"
    assert entity["bucket"] == {
        "name": bucket,
        "ownerIdentity": {"principalId": record["userIdentity"]["principalId"]},
        "arn": f"arn:aws:s3:::{bucket}",
    }
    obj = entity["object"]
    assert set(obj) == {"key", "size", "eTag", "sequencer"}, "an unversioned bucket names no versionId"
    assert obj["size"] == photo.stat().st_size
    assert obj["eTag"] == hashlib.md5(photo.read_bytes()).hexdigest()
    assert re.fullmatch(r"[0-9A-F]{18}", obj["sequencer"]), obj["sequencer"]

    # A key the suffix filter excludes invokes nothing; a later .jpg does,
    # and by then the first object has been delivered exactly once.
    (tmp_path / "notes.txt").write_text("not a photo")
    aws_s3(server, "s3", "cp", str(tmp_path / "notes.txt"), f"s3://{bucket}/uploads/notes.txt")
    aws_s3(server, "s3", "cp", str(photo), f"s3://{bucket}/uploads/second.jpg")
    later = wait_for_record(server, sink, "uploads/second.jpg", "ObjectCreated:Put")
    keys = [r["s3"]["object"]["key"] for r in records(server, sink)]
    assert keys.count("uploads/photo.jpg") == 1, keys
    assert "uploads/notes.txt" not in keys
    assert later["s3"]["object"]["sequencer"] > obj["sequencer"]
    assert later["responseElements"]["x-amz-request-id"] != record["responseElements"]["x-amz-request-id"]


def test_deleting_an_object_is_object_removed(server, s3, lam, sink, bucket):
    allow_s3(lam, sink, bucket)
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "LambdaFunctionConfigurations": [
            lambda_config(sink, ["s3:ObjectCreated:Put"], Id="created"),
            lambda_config(sink, ["s3:ObjectRemoved:*"], Id="removed"),
        ],
    })
    s3.put_object(Bucket=bucket, Key="report.csv", Body=b"a,b\n")
    created = wait_for_record(server, sink, "report.csv", "ObjectCreated:Put")
    s3.delete_object(Bucket=bucket, Key="report.csv")
    removed = wait_for_record(server, sink, "report.csv", "ObjectRemoved:Delete")
    assert removed["s3"]["configurationId"] == "removed"
    assert set(removed["s3"]["object"]) == {"key", "sequencer"}, "a removal names no size or ETag"
    assert removed["s3"]["object"]["sequencer"] > created["s3"]["object"]["sequencer"]

    # DeleteObjects: one record per key; in a versioned bucket, a delete marker.
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    version = s3.put_object(Bucket=bucket, Key="kept.csv", Body=b"x")["VersionId"]
    put = wait_for_record(server, sink, "kept.csv", "ObjectCreated:Put")
    assert put["s3"]["object"]["versionId"] == version
    deleted = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "kept.csv"}]})["Deleted"][0]
    marker = wait_for_record(server, sink, "kept.csv", "ObjectRemoved:DeleteMarkerCreated")
    assert marker["s3"]["object"]["versionId"] == deleted["DeleteMarkerVersionId"]


def test_keys_are_url_encoded_as_s3_encodes_them(server, s3, lam, sink, bucket):
    allow_s3(lam, sink, bucket)
    # Filters match the encoded key: a space in a filter is written `+`.
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "LambdaFunctionConfigurations": [lambda_config(sink, ["s3:ObjectCreated:*"], prefix="My+Docs/")],
    })
    key = "My Docs/Résumé (final) 日本.pdf"
    s3.put_object(Bucket=bucket, Key=key, Body=b"%PDF")
    encoded = "My+Docs/R%C3%A9sum%C3%A9+%28final%29+%E6%97%A5%E6%9C%AC.pdf"
    record = wait_for_record(server, sink, encoded, "ObjectCreated:Put")
    assert record["s3"]["object"]["size"] == 4
    # Copies are ObjectCreated:Copy.
    s3.copy_object(Bucket=bucket, Key="My Docs/copy+1.pdf", CopySource={"Bucket": bucket, "Key": key})
    wait_for_record(server, sink, "My+Docs/copy%2B1.pdf", "ObjectCreated:Copy")
