"""SQS on the Lambda API's listener (issue 20): boto3 (the JSON protocol,
`X-Amz-Target: AmazonSQS.*`), the AWS CLI, and raw SigV4-signed form
POSTs (the query protocol older SDKs speak, answered as XML) against the
real binary.

AWS: the Amazon SQS API reference (every operation's members and errors,
`AWS.SimpleQueueService.NonExistentQueue` in the `x-amzn-query-error`
header of JSON errors), the developer guide's "Amazon SQS message
attributes" (how MD5OfMessageAttributes is computed), "Amazon SQS
visibility timeout", "Using dead-letter queues", "Amazon SQS FIFO queues"
(ordering per message group, the five-minute deduplication interval) and
"Amazon SQS short and long polling".
"""

from __future__ import annotations

import hashlib
import http.client
import json
import struct
import subprocess
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET

import botocore.exceptions
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from support import ACCOUNT, REGION, aws_cli_env, aws_cli_path, aws_client, aws_error, make_zip, unique_name
from test_inside_endpoint import sdk_layer_zip

NS = {"sqs": "http://queue.amazonaws.com/doc/2012-11-05/"}


@pytest.fixture(scope="module")
def sqs(server):
    return aws_client(server, "sqs", read_timeout=60)


@pytest.fixture(scope="module")
def sqs_raw(server):
    """A client that sends what it is given (no client-side validation)."""
    return aws_client(server, "sqs", read_timeout=60, parameter_validation=False)


def new_queue(sqs, prefix="q", **attributes) -> str:
    name = unique_name(prefix)
    if attributes.get("FifoQueue") == "true":
        name += ".fifo"
    return sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]


def arn_of(sqs, url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def md5_of_attributes(attributes: dict) -> str:
    """MD5OfMessageAttributes as AWS documents it: names sorted; each name,
    data type and value length-prefixed (4 bytes, big-endian), with a
    transport byte (1 string/number, 2 binary) before the value."""
    def field(b: bytes) -> bytes:
        return struct.pack(">I", len(b)) + b

    buf = b""
    for name in sorted(attributes):
        value = attributes[name]
        buf += field(name.encode()) + field(value["DataType"].encode())
        if "BinaryValue" in value:
            buf += b"\x02" + field(value["BinaryValue"])
        else:
            buf += b"\x01" + field(value["StringValue"].encode())
    return hashlib.md5(buf).hexdigest()


def counts(sqs, url: str) -> tuple[int, int, int]:
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return tuple(int(attrs[n]) for n in names)


# --------------------------------------------------------------------------
# Queues
# --------------------------------------------------------------------------


def test_create_list_get_url_and_delete(sqs, server):
    prefix = unique_name("lst")
    urls = [sqs.create_queue(QueueName=f"{prefix}-{i}")["QueueUrl"] for i in range(3)]
    assert urls[0] == f"{server.url}/{ACCOUNT}/{prefix}-0", "the URL names the host the client used"
    assert sqs.create_queue(QueueName=f"{prefix}-0")["QueueUrl"] == urls[0], "CreateQueue is idempotent"
    assert sorted(sqs.list_queues(QueueNamePrefix=prefix)["QueueUrls"]) == urls
    page = sqs.list_queues(QueueNamePrefix=prefix, MaxResults=2)
    assert page["QueueUrls"] == urls[:2] and page["NextToken"]
    rest = sqs.list_queues(QueueNamePrefix=prefix, MaxResults=2, NextToken=page["NextToken"])
    assert rest["QueueUrls"] == urls[2:] and "NextToken" not in rest
    assert sqs.get_queue_url(QueueName=f"{prefix}-1")["QueueUrl"] == urls[1]
    sqs.delete_queue(QueueUrl=urls[1])
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName=f"{prefix}-1")
    assert sorted(sqs.list_queues(QueueNamePrefix=prefix)["QueueUrls"]) == [urls[0], urls[2]]
    assert "QueueUrls" not in sqs.list_queues(QueueNamePrefix=unique_name("none"))


def test_attributes_and_creating_with_different_ones(sqs):
    url = new_queue(sqs, VisibilityTimeout="45", DelaySeconds="2")
    name = url.rsplit("/", 1)[1]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["VisibilityTimeout"] == "45" and attrs["DelaySeconds"] == "2"
    assert attrs["QueueArn"] == f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"
    assert attrs["MessageRetentionPeriod"] == "345600"
    assert int(attrs["CreatedTimestamp"]) <= int(time.time()) + 1
    with pytest.raises(sqs.exceptions.QueueNameExists) as raised:
        sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "46"})
    assert raised.value.response["Error"]["Code"] == "QueueAlreadyExists"
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "10"})
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"] == {"VisibilityTimeout": "10"}


def test_errors_name_the_attribute(sqs, sqs_raw):
    url = new_queue(sqs)
    with aws_error(sqs_raw, "InvalidAttributeName", 400) as err:
        sqs_raw.get_queue_attributes(QueueUrl=url, AttributeNames=["Colour"])
    assert "Colour" in err.message
    with aws_error(sqs_raw, "InvalidAttributeValue", 400) as err:
        sqs_raw.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "43201"})
    assert "VisibilityTimeout" in err.message
    with aws_error(sqs_raw, "InvalidAttributeName", 400):
        sqs_raw.create_queue(QueueName=unique_name("bad"), Attributes={"ContentBasedDeduplication": "true"})
    with aws_error(sqs_raw, "InvalidParameterValue", 400):
        sqs_raw.create_queue(QueueName="no spaces allowed")


def test_a_nonexistent_queue_in_the_json_protocol(sqs, server):
    url = f"{server.url}/{ACCOUNT}/{unique_name('gone')}"
    with pytest.raises(sqs.exceptions.QueueDoesNotExist) as raised:
        sqs.send_message(QueueUrl=url, MessageBody="x")
    response = raised.value.response
    assert response["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
    assert response["Error"]["Message"] == "The specified queue does not exist."
    headers = response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amzn-query-error"] == "AWS.SimpleQueueService.NonExistentQueue;Sender"
    assert headers["content-type"] == "application/x-amz-json-1.0"


# --------------------------------------------------------------------------
# Messages
# --------------------------------------------------------------------------


def test_send_receive_delete_with_attributes_and_digests(sqs):
    url = new_queue(sqs)
    attributes = {
        "colour": {"DataType": "String", "StringValue": "red"},
        "count": {"DataType": "Number", "StringValue": "42"},
        "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xff"},
        "custom": {"DataType": "String.note", "StringValue": "héllo"},
    }
    body = "hello, queue ✓"
    sent = sqs.send_message(
        QueueUrl=url,
        MessageBody=body,
        MessageAttributes=attributes,
        MessageSystemAttributes={"AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-5759e988-bd862e3fe1be46a994272793"}},
    )
    assert sent["MD5OfMessageBody"] == hashlib.md5(body.encode()).hexdigest()
    assert sent["MD5OfMessageAttributes"] == md5_of_attributes(attributes)
    assert "MD5OfMessageSystemAttributes" in sent
    got = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"])["Messages"]
    assert len(got) == 1
    message = got[0]
    assert message["MessageId"] == sent["MessageId"] and message["Body"] == body
    assert message["MD5OfBody"] == sent["MD5OfMessageBody"]
    assert message["MessageAttributes"] == attributes
    assert message["MD5OfMessageAttributes"] == md5_of_attributes(message["MessageAttributes"])
    system = message["Attributes"]
    assert system["ApproximateReceiveCount"] == "1"
    assert system["SenderId"] == ACCOUNT
    assert abs(int(system["SentTimestamp"]) - time.time() * 1000) < 60_000
    assert system["AWSTraceHeader"].startswith("Root=1-")
    # Only what is asked for: one attribute by prefix, its own digest.
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    again = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["col*", "colour.*", "count"], AttributeNames=["SenderId"])
    again = again["Messages"][0]
    assert set(again["MessageAttributes"]) == {"count"}
    assert again["MD5OfMessageAttributes"] == md5_of_attributes({"count": attributes["count"]})
    assert again["Attributes"] == {"SenderId": ACCOUNT}
    sqs.delete_message(QueueUrl=url, ReceiptHandle=again["ReceiptHandle"])
    assert counts(sqs, url) == (0, 0, 0)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


def test_an_expired_visibility_timeout_delivers_again(sqs):
    url = new_queue(sqs)
    sqs.send_message(QueueUrl=url, MessageBody="again")
    first = sqs.receive_message(QueueUrl=url, VisibilityTimeout=1)["Messages"][0]
    assert counts(sqs, url) == (0, 1, 0)
    # A long poll: answered when the message becomes visible, not by the client retrying.
    second = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10, AttributeNames=["ApproximateReceiveCount"])["Messages"][0]
    assert second["MessageId"] == first["MessageId"]
    assert second["ReceiptHandle"] != first["ReceiptHandle"]
    assert second["Attributes"]["ApproximateReceiveCount"] == "2"
    # A standard queue: an older receipt handle still deletes (the request succeeds).
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
    assert counts(sqs, url) == (0, 0, 0)
    with aws_error(sqs, "ReceiptHandleIsInvalid", 400):
        sqs.delete_message(QueueUrl=url, ReceiptHandle="not-a-handle")


def test_batches_report_each_entry(sqs, sqs_raw):
    url = new_queue(sqs)
    result = sqs_raw.send_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "good-1", "MessageBody": "one"},
            {"Id": "bad", "MessageBody": "two", "DelaySeconds": 901},
            {"Id": "good_2", "MessageBody": "three", "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}}},
        ],
    )
    assert sorted(e["Id"] for e in result["Successful"]) == ["good-1", "good_2"]
    assert [(f["Id"], f["Code"], f["SenderFault"]) for f in result["Failed"]] == [("bad", "InvalidParameterValue", True)]
    good = {e["Id"]: e for e in result["Successful"]}
    assert good["good_2"]["MD5OfMessageAttributes"] == md5_of_attributes({"k": {"DataType": "String", "StringValue": "v"}})
    with aws_error(sqs_raw, "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", 400):
        sqs_raw.send_message_batch(QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "x"}, {"Id": "a", "MessageBody": "y"}])
    with aws_error(sqs_raw, "AWS.SimpleQueueService.EmptyBatchRequest", 400):
        sqs_raw.send_message_batch(QueueUrl=url, Entries=[])
    with aws_error(sqs_raw, "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", 400):
        sqs_raw.send_message_batch(QueueUrl=url, Entries=[{"Id": f"e{i}", "MessageBody": "x"} for i in range(11)])
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert sorted(m["Body"] for m in messages) == ["one", "three"]
    entries = [{"Id": f"m{i}", "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
    changed = sqs.change_message_visibility_batch(
        QueueUrl=url, Entries=[{**e, "VisibilityTimeout": 30} for e in entries] + [{"Id": "junk", "ReceiptHandle": "junk", "VisibilityTimeout": 1}]
    )
    assert len(changed["Successful"]) == 2 and changed["Failed"][0]["Code"] == "ReceiptHandleIsInvalid"
    deleted = sqs.delete_message_batch(QueueUrl=url, Entries=entries)
    assert len(deleted["Successful"]) == 2 and deleted["Failed"] == []
    assert counts(sqs, url) == (0, 0, 0)


def test_a_long_poll_is_woken_by_a_send_from_another_thread(sqs, server):
    url = new_queue(sqs)
    polling = threading.Event()
    got: dict = {}

    def poll():
        client = aws_client(server, "sqs", read_timeout=60)
        polling.set()
        started = time.monotonic()
        got["response"] = client.receive_message(QueueUrl=url, WaitTimeSeconds=20)
        got["elapsed"] = time.monotonic() - started

    thread = threading.Thread(target=poll)
    thread.start()
    assert polling.wait(30)
    sqs.send_message(QueueUrl=url, MessageBody="wake up")
    thread.join(60)
    assert not thread.is_alive()
    assert [m["Body"] for m in got["response"]["Messages"]] == ["wake up"]
    assert got["elapsed"] < 15, "the send woke the poll before its 20 seconds"


def test_an_empty_long_poll_waits_its_time(sqs):
    url = new_queue(sqs, ReceiveMessageWaitTimeSeconds="1")
    started = time.monotonic()
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    assert time.monotonic() - started >= 0.9, "the queue's ReceiveMessageWaitTimeSeconds applies"


def test_messages_move_to_the_dead_letter_queue_after_max_receive_count(sqs):
    dlq = new_queue(sqs, "dlq")
    dlq_arn = arn_of(sqs, dlq)
    policy = f'{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"2"}}'
    source = new_queue(sqs, "src", RedrivePolicy=policy)
    sent = sqs.send_message(
        QueueUrl=source, MessageBody="poison", MessageAttributes={"kind": {"DataType": "String", "StringValue": "bad"}}
    )
    for _ in range(2):
        message = sqs.receive_message(QueueUrl=source)["Messages"][0]
        sqs.change_message_visibility(QueueUrl=source, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    assert "Messages" not in sqs.receive_message(QueueUrl=source), "the third receive moves it"
    moved = sqs.receive_message(QueueUrl=dlq, MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"])["Messages"][0]
    assert moved["MessageId"] == sent["MessageId"] and moved["Body"] == "poison"
    assert moved["MessageAttributes"]["kind"]["StringValue"] == "bad"
    assert moved["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert moved["Attributes"]["DeadLetterQueueSourceArn"] == arn_of(sqs, source)
    assert sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == [source]
    redrive = sqs.get_queue_attributes(QueueUrl=source, AttributeNames=["RedrivePolicy"])["Attributes"]["RedrivePolicy"]
    assert '"maxReceiveCount":2' in redrive
    # Redrive back to the source.
    sqs.change_message_visibility(QueueUrl=dlq, ReceiptHandle=moved["ReceiptHandle"], VisibilityTimeout=0)
    sqs.start_message_move_task(SourceArn=dlq_arn)
    tasks = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"]
    assert tasks[0]["Status"] == "COMPLETED" and tasks[0]["ApproximateNumberOfMessagesMoved"] == 1
    assert sqs.receive_message(QueueUrl=source)["Messages"][0]["Body"] == "poison"


def test_fifo_order_per_group_and_deduplication(sqs, sqs_raw):
    url = new_queue(sqs, "fifo", FifoQueue="true", ContentBasedDeduplication="true")
    for body, group in [("a1", "a"), ("b1", "b"), ("a2", "a"), ("a3", "a")]:
        sent = sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group)
        assert sent["SequenceNumber"].isdigit()
    duplicate = sqs.send_message(QueueUrl=url, MessageBody="a1", MessageGroupId="a")
    assert counts(sqs, url)[0] == 4, "the same body within five minutes is a duplicate"
    first = sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"]
    assert [m["Body"] for m in first] == ["a1"]
    assert first[0]["MessageId"] == duplicate["MessageId"]
    assert first[0]["Attributes"]["MessageGroupId"] == "a"
    assert first[0]["Attributes"]["MessageDeduplicationId"] == hashlib.sha256(b"a1").hexdigest()
    # Group a has a message in flight: only b's come.
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]] == ["b1"]
    assert "Messages" not in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first[0]["ReceiptHandle"])
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]] == ["a2", "a3"]
    # An explicit deduplication id; without one (and without content-based deduplication) SQS refuses.
    plain = new_queue(sqs, "fifo", FifoQueue="true")
    one = sqs.send_message(QueueUrl=plain, MessageBody="x", MessageGroupId="g", MessageDeduplicationId="d-1")
    two = sqs.send_message(QueueUrl=plain, MessageBody="y", MessageGroupId="g", MessageDeduplicationId="d-1")
    assert one["MessageId"] == two["MessageId"]
    with aws_error(sqs_raw, "InvalidParameterValue", 400) as err:
        sqs_raw.send_message(QueueUrl=plain, MessageBody="z", MessageGroupId="g")
    assert "ContentBasedDeduplication" in err.message
    with aws_error(sqs_raw, "MissingParameter", 400):
        sqs_raw.send_message(QueueUrl=plain, MessageBody="z", MessageDeduplicationId="d-2")


def test_purge_and_tags(sqs):
    url = new_queue(sqs)
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(3)])
    assert counts(sqs, url) == (3, 0, 0)
    sqs.purge_queue(QueueUrl=url)
    assert counts(sqs, url) == (0, 0, 0)
    with aws_error(sqs, "AWS.SimpleQueueService.PurgeQueueInProgress", 403):
        sqs.purge_queue(QueueUrl=url)
    sqs.tag_queue(QueueUrl=url, Tags={"team": "payments", "env": "test"})
    sqs.untag_queue(QueueUrl=url, TagKeys=["env"])
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "payments"}
    tagged = sqs.create_queue(QueueName=unique_name("tagged"), tags={"a": "1"})["QueueUrl"]
    assert sqs.list_queue_tags(QueueUrl=tagged)["Tags"] == {"a": "1"}


# --------------------------------------------------------------------------
# The query protocol
# --------------------------------------------------------------------------


def query(server, params: dict, path: str = "/") -> tuple[int, ET.Element]:
    """A form POST signed for `sqs` as older SDKs send it; the parsed XML."""
    body = urllib.parse.urlencode({**params, "Version": "2012-11-05"})
    request = AWSRequest(
        method="POST",
        url=server.url + path,
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    SigV4Auth(Credentials("test", "test"), "sqs", REGION).add_auth(request)
    headers = dict(request.prepare().headers)
    parsed = urllib.parse.urlsplit(server.url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
    try:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        assert response.getheader("Content-Type") == "text/xml"
        return response.status, ET.fromstring(response.read())
    finally:
        conn.close()


def test_the_query_protocol(server, sqs):
    name = unique_name("query")
    status, created = query(
        server, {"Action": "CreateQueue", "QueueName": name, "Attribute.1.Name": "VisibilityTimeout", "Attribute.1.Value": "40"}
    )
    assert status == 200
    url = created.find("sqs:CreateQueueResult/sqs:QueueUrl", NS).text
    assert url == f"{server.url}/{ACCOUNT}/{name}"
    assert created.find("sqs:ResponseMetadata/sqs:RequestId", NS).text
    status, sent = query(
        server,
        {
            "Action": "SendMessage",
            "QueueUrl": url,
            "MessageBody": "from an old SDK & friends",
            "MessageAttribute.1.Name": "k",
            "MessageAttribute.1.Value.DataType": "String",
            "MessageAttribute.1.Value.StringValue": "v",
        },
    )
    assert status == 200
    md5 = sent.find("sqs:SendMessageResult/sqs:MD5OfMessageBody", NS).text
    assert md5 == hashlib.md5(b"from an old SDK & friends").hexdigest()
    assert sent.find("sqs:SendMessageResult/sqs:MD5OfMessageAttributes", NS).text == md5_of_attributes(
        {"k": {"DataType": "String", "StringValue": "v"}}
    )
    # POSTed to the queue URL's own path, with no QueueUrl.
    status, got = query(
        server, {"Action": "ReceiveMessage", "AttributeName.1": "All", "MessageAttributeName.1": "All"}, path=f"/{ACCOUNT}/{name}"
    )
    assert status == 200
    message = got.find("sqs:ReceiveMessageResult/sqs:Message", NS)
    assert message.find("sqs:Body", NS).text == "from an old SDK & friends"
    system = {a.find("sqs:Name", NS).text: a.find("sqs:Value", NS).text for a in message.findall("sqs:Attribute", NS)}
    assert system["ApproximateReceiveCount"] == "1"
    attribute = message.find("sqs:MessageAttribute", NS)
    assert attribute.find("sqs:Name", NS).text == "k"
    assert attribute.find("sqs:Value/sqs:StringValue", NS).text == "v"
    status, attrs = query(server, {"Action": "GetQueueAttributes", "QueueUrl": url, "AttributeName.1": "VisibilityTimeout"})
    pairs = {a.find("sqs:Name", NS).text: a.find("sqs:Value", NS).text for a in attrs.iter(f"{{{NS['sqs']}}}Attribute")}
    assert pairs == {"VisibilityTimeout": "40"}
    status, deleted = query(
        server, {"Action": "DeleteMessage", "QueueUrl": url, "ReceiptHandle": message.find("sqs:ReceiptHandle", NS).text}
    )
    assert status == 200 and deleted.tag == f"{{{NS['sqs']}}}DeleteMessageResponse"
    # The same queue through the JSON protocol.
    assert sqs.get_queue_url(QueueName=name)["QueueUrl"] == url


def test_query_protocol_errors(server):
    status, error = query(server, {"Action": "GetQueueUrl", "QueueName": unique_name("nope")})
    assert status == 400
    assert error.tag.endswith("ErrorResponse")
    assert [e.text for e in error.iter() if e.tag.endswith("Code")] == ["AWS.SimpleQueueService.NonExistentQueue"]
    assert [e.text for e in error.iter() if e.tag.endswith("Type")] == ["Sender"]
    status, error = query(server, {"Action": "NotAnAction"})
    assert status == 400
    assert [e.text for e in error.iter() if e.tag.endswith("Code")] == ["InvalidAction"]


def test_the_aws_cli(server):
    name = unique_name("cli")

    def aws(*args):
        proc = subprocess.run(
            [str(aws_cli_path()), "sqs", *args, "--endpoint-url", server.url, "--output", "json"],
            env=aws_cli_env(),
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout) if proc.stdout.strip() else None

    url = aws("create-queue", "--queue-name", name)["QueueUrl"]
    sent = aws("send-message", "--queue-url", url, "--message-body", "from the CLI")
    got = aws("receive-message", "--queue-url", url, "--wait-time-seconds", "1")
    assert got["Messages"][0]["MessageId"] == sent["MessageId"]
    assert got["Messages"][0]["Body"] == "from the CLI"
    aws("delete-message", "--queue-url", url, "--receipt-handle", got["Messages"][0]["ReceiptHandle"])
    aws("delete-queue", "--queue-url", url)


# --------------------------------------------------------------------------
# From inside a function
# --------------------------------------------------------------------------

SENDER = r'''
import boto3

def handler(event, context):
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=event["queue"])["QueueUrl"]
    sent = sqs.send_message(QueueUrl=url, MessageBody="from inside")
    return {"url": url, "id": sent["MessageId"]}
'''


def test_a_function_uses_a_queue_through_its_own_endpoint(server, sqs):
    """The queue URL a function gets names the endpoint it reached (its
    `AWS_ENDPOINT_URL`), and works there; the message is the queue's."""
    lam = server.client(REGION)
    layer = lam.publish_layer_version(LayerName=unique_name("boto3"), Content={"ZipFile": sdk_layer_zip()})
    name = unique_name("sqs-sender")
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role="arn:aws:iam::000000000000:role/lambda-role",
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": SENDER})},
        Layers=[layer["LayerVersionArn"]],
        Timeout=30,
        MemorySize=256,
    )
    url = new_queue(sqs)
    queue = url.rsplit("/", 1)[1]
    response = lam.invoke(FunctionName=name, Payload=json.dumps({"queue": queue}))
    out = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, out
    assert out["url"] == f"http://127.0.0.1:9002/{ACCOUNT}/{queue}"
    got = sqs.receive_message(QueueUrl=url)["Messages"]
    assert [(m["MessageId"], m["Body"]) for m in got] == [(out["id"], "from inside")]


# --------------------------------------------------------------------------
# Under --auth iam
# --------------------------------------------------------------------------


def test_under_auth_iam_the_queue_policy_is_consulted(new_server):
    srv = new_server(start=False)
    srv.start(env={"LAMBDABOX_AUTH": "iam"})
    root = aws_client(srv, "sqs")
    url = root.create_queue(QueueName="guarded")["QueueUrl"]
    iam = aws_client(srv, "iam")
    iam.create_user(UserName="sender")
    key = iam.create_access_key(UserName="sender")["AccessKey"]
    user_id = iam.get_user(UserName="sender")["User"]["UserId"]
    sender = aws_client(srv, "sqs", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    with aws_error(sender, "AccessDenied", 403) as err:
        sender.send_message(QueueUrl=url, MessageBody="x")
    assert "sqs:SendMessage" in err.message and "arn:aws:sqs:us-east-1:000000000000:guarded" in err.message
    policy = json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/sender"},
                       "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1:000000000000:guarded"}],
    })
    root.set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy})
    sender.send_message(QueueUrl=url, MessageBody="allowed by the queue's policy")
    with aws_error(sender, "AccessDenied", 403):
        sender.receive_message(QueueUrl=url)
    # The query protocol is checked the same way (its form body signed).
    status, got = query(srv, {"Action": "ReceiveMessage", "QueueUrl": url, "AttributeName.1": "SenderId"})
    assert status == 200
    assert got.find("sqs:ReceiveMessageResult/sqs:Message/sqs:Attribute/sqs:Value", NS).text == user_id


# --------------------------------------------------------------------------
# Durability
# --------------------------------------------------------------------------


def test_acknowledged_sends_survive_kill9(new_server):
    srv = new_server()
    sqs = aws_client(srv, "sqs")
    url = sqs.create_queue(QueueName="durable")["QueueUrl"]
    sent = set()
    for i in range(20):
        sent.add(sqs.send_message(QueueUrl=url, MessageBody=f"m{i}")["MessageId"])
    for batch in range(3):
        result = sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"b{batch}-{i}"} for i in range(10)]
        )
        sent.update(e["MessageId"] for e in result["Successful"])
    assert len(sent) == 50
    assert srv.kill9() == -9
    srv.start()
    sqs = aws_client(srv, "sqs")
    url = sqs.get_queue_url(QueueName="durable")["QueueUrl"]
    received = set()
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=300).get("Messages", [])
        if not got:
            break
        received.update(m["MessageId"] for m in got)
    assert received == sent
