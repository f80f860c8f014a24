"""SQS queues as the targets of asynchronous invocation: a function's
dead-letter queue (the original event, with AWS's RequestID, ErrorCode and
ErrorMessage attributes) and the on-success and on-failure destinations of
its event invoke config (AWS's destination record); and S3's event
notifications sent to a queue whose policy lets S3 send."""

from __future__ import annotations

import json

import pytest

from queue_support import make_queue, sqs_client
from support import ROLE, make_zip, unique_name, wait_for

FAST_RETRIES = {"LAMBDABOX_ASYNC_RETRY_BASE_MS": "100"}


def receive_one(sqs, url):
    r = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, MessageAttributeNames=["All"])
    return (r.get("Messages") or [None])[0]


def test_dead_letter_queue_and_destinations(new_server):
    srv = new_server(start=False).start(env=FAST_RETRIES)
    lam, sqs = srv.client(), sqs_client(srv)
    dlq_url, dlq_arn = make_queue(sqs)
    fail_url, fail_arn = make_queue(sqs)
    ok_url, ok_arn = make_queue(sqs)

    bad = unique_name("bad")
    lam.create_function(
        FunctionName=bad, Runtime="python3.12", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": "def handler(event, context):\n    raise ValueError('boom ' + event['id'])\n"})},
        DeadLetterConfig={"TargetArn": dlq_arn},
    )
    lam.put_function_event_invoke_config(
        FunctionName=bad, MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": fail_arn}},
    )
    resp = lam.invoke(FunctionName=bad, InvocationType="Event", Payload=json.dumps({"id": "e-1"}))
    request_id = resp["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]

    dead = wait_for(lambda: receive_one(sqs, dlq_url), timeout=60)
    assert dead, "the event reaches the dead-letter queue"
    assert json.loads(dead["Body"]) == {"id": "e-1"}
    attrs = {k: v["StringValue"] for k, v in dead["MessageAttributes"].items()}
    assert attrs["RequestID"] == request_id
    assert attrs["ErrorCode"] == "200"
    assert "boom e-1" in attrs["ErrorMessage"]

    failed = wait_for(lambda: receive_one(sqs, fail_url), timeout=60)
    record = json.loads(failed["Body"])
    assert record["version"] == "1.0"
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["requestPayload"] == {"id": "e-1"}
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["responsePayload"]["errorMessage"] == "boom e-1"

    good = unique_name("good")
    lam.create_function(
        FunctionName=good, Runtime="python3.12", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": "def handler(event, context):\n    return {'echo': event['id']}\n"})},
    )
    lam.put_function_event_invoke_config(FunctionName=good, DestinationConfig={"OnSuccess": {"Destination": ok_arn}})
    lam.invoke(FunctionName=good, InvocationType="Event", Payload=json.dumps({"id": "e-2"}))
    done = wait_for(lambda: receive_one(sqs, ok_url), timeout=60)
    record = json.loads(done["Body"])
    assert record["requestContext"]["condition"] == "Success"
    assert record["responsePayload"] == {"echo": "e-2"}
    assert lam.get_function_event_invoke_config(FunctionName=good)["DestinationConfig"]["OnSuccess"]["Destination"] == ok_arn


def test_s3_notifications_reach_a_queue_whose_policy_lets_s3_send(server):
    import boto3
    import botocore.exceptions
    from botocore.config import Config

    s3 = boto3.client(
        "s3", endpoint_url=server.url, region_name="us-east-1", aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1, "mode": "standard"}),
    )
    sqs = sqs_client(server)
    bucket = unique_name("bkt").lower()
    s3.create_bucket(Bucket=bucket)
    url, arn = make_queue(sqs)
    config = {"QueueConfigurations": [{"Id": "to-queue", "QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]}

    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)
    assert e.value.response["Error"]["Code"] == "InvalidArgument"
    assert e.value.response["Error"]["ArgumentValue1"] == "Permissions on the destination queue do not allow S3 to publish notifications from this bucket"

    policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sqs:SendMessage",
        "Resource": arn, "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{bucket}"}}}]}
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)
    test_event = json.loads(wait_for(lambda: receive_one(sqs, url), timeout=10)["Body"])
    assert test_event["Event"] == "s3:TestEvent" and test_event["Bucket"] == bucket

    s3.put_object(Bucket=bucket, Key="in/a b.txt", Body=b"hello")
    message = wait_for(lambda: receive_one(sqs, url), timeout=30)
    record = json.loads(message["Body"])["Records"][0]
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["bucket"]["name"] == bucket
    assert record["s3"]["object"]["key"] == "in/a+b.txt"
    assert record["s3"]["configurationId"] == "to-queue"
