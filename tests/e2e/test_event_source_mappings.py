"""Event source mappings over SQS queues, as Lambda runs them: the mapping API
and its AWS errors, batches as AWS forms them, partial batch failures,
redrive of poison messages to a dead-letter queue, filters, FIFO order per
message group, and no message lost across a kill -9 of the server.

Functions print what they receive (`BATCH <json>`); the test reads the
function's log files under the data dir, as test_async does."""

from __future__ import annotations

import json

import pytest

from queue_support import batches, make_queue, queue_counts, sqs_client
from support import REGION, ROLE, aws_error, make_zip, unique_name, wait_for

ACCOUNT = "000000000000"

RECORDER = r'''
import json, time
def handler(event, context):
    records = event["Records"]
    print("BATCH " + json.dumps([{"id": r["messageId"], "body": r["body"], "at": time.time(),
        "count": r["attributes"]["ApproximateReceiveCount"]} for r in records]))
    return {}
'''


def make_function(lam, source=RECORDER, timeout=3, name=None):
    name = name or unique_name("esm")
    lam.create_function(
        FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": source})}, Timeout=timeout,
    )
    return name


def send_all(sqs, url, bodies, **extra):
    for i in range(0, len(bodies), 10):
        entries = [{"Id": str(j), "MessageBody": b, **extra.get("per", lambda j, b: {})(i + j, b)}
                   for j, b in enumerate(bodies[i:i + 10])]
        resp = sqs.send_message_batch(QueueUrl=url, Entries=entries)
        assert not resp.get("Failed"), resp


@pytest.fixture
def sqs(server):
    return sqs_client(server)


def test_mapping_api_states_and_cli(server, lam, sqs):
    _, arn = make_queue(sqs)
    name = make_function(lam)
    created = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, BatchSize=5)
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert created["State"] == "Creating"
    assert created["BatchSize"] == 5 and created["MaximumBatchingWindowInSeconds"] == 0
    assert created["FunctionArn"] == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    assert created["EventSourceMappingArn"] == f"arn:aws:lambda:{REGION}:{ACCOUNT}:event-source-mapping:{created['UUID']}"
    uuid = created["UUID"]
    assert wait_for(lambda: lam.get_event_source_mapping(UUID=uuid)["State"] == "Enabled", timeout=10)
    listed = lam.list_event_source_mappings(FunctionName=name)["EventSourceMappings"]
    assert [m["UUID"] for m in listed] == [uuid]
    assert [m["UUID"] for m in lam.list_event_source_mappings(EventSourceArn=arn)["EventSourceMappings"]] == [uuid]

    with aws_error(lam, "ResourceConflictException", 409) as e:
        lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name)
    assert f"Please update or delete the existing mapping with UUID {uuid}" in e.message

    updated = lam.update_event_source_mapping(UUID=uuid, Enabled=False, BatchSize=100, MaximumBatchingWindowInSeconds=2)
    assert updated["State"] == "Updating" and updated["BatchSize"] == 100
    assert lam.get_event_source_mapping(UUID=uuid)["State"] == "Disabled"

    cli = server.aws("list-event-source-mappings", "--function-name", name).json
    assert cli["EventSourceMappings"][0]["UUID"] == uuid
    deleted = lam.delete_event_source_mapping(UUID=uuid)
    assert deleted["State"] == "Deleting" and deleted["ResponseMetadata"]["HTTPStatusCode"] == 202
    with aws_error(lam, "ResourceNotFoundException", 404):
        lam.get_event_source_mapping(UUID=uuid)
    made = server.aws("create-event-source-mapping", "--function-name", name,
                      "--event-source-arn", arn, "--batch-size", "10").json
    assert made["State"] == "Creating" and made["EventSourceArn"] == arn
    lam.delete_event_source_mapping(UUID=made["UUID"])


def test_mapping_errors_as_aws_words_them(lam, sqs):
    _, arn = make_queue(sqs)
    name = make_function(lam, timeout=60)
    def invalid():
        return aws_error(lam, "InvalidParameterValueException", 400)

    with invalid() as e:
        lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name)
    assert "Queue visibility timeout: 30 seconds is less than Function timeout: 60 seconds" in e.message

    short = make_function(lam)
    with invalid() as e:
        lam.create_event_source_mapping(EventSourceArn=f"arn:aws:sqs:{REGION}:{ACCOUNT}:{unique_name('none')}",
                                        FunctionName=short)
    assert "AWS.SimpleQueueService.NonExistentQueue" in e.message
    with invalid() as e:
        lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=short, BatchSize=50)
    assert "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10" in e.message
    with invalid() as e:
        lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=short,
                                        FilterCriteria={"Filters": [{"Pattern": "{not json"}]})
    assert "Invalid filter pattern definition." in e.message
    with invalid():
        lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=short, StartingPosition="LATEST")
    with aws_error(lam, "ValidationException", 400):
        lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=short, BatchSize=0)
    with aws_error(lam, "ResourceNotFoundException", 404):
        lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=unique_name("ghost"))
    _, fifo = make_queue(sqs, unique_name("f") + ".fifo", FifoQueue="true")
    with invalid():
        lam.create_event_source_mapping(EventSourceArn=fifo, FunctionName=short, BatchSize=20,
                                        MaximumBatchingWindowInSeconds=1)


def test_a_thousand_messages_in_batches_of_ten(server, lam, sqs):
    url, arn = make_queue(sqs)
    name = make_function(lam)
    bodies = [f"m-{i:04d}" for i in range(1000)]
    send_all(sqs, url, bodies)
    lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, BatchSize=10)
    seen = wait_for(lambda: sum(len(b) for b in batches(server.data_dir, name)) >= 1000, timeout=180)
    got = batches(server.data_dir, name)
    assert seen, f"only {sum(len(b) for b in got)} of 1000 delivered"
    assert all(1 <= len(b) <= 10 for b in got), [len(b) for b in got if len(b) > 10][:5]
    delivered = [m["body"] for b in got for m in b]
    assert sorted(delivered) == bodies, "each message exactly once when every batch succeeds"
    # Most batches are full: the queue had a backlog.
    assert sum(1 for b in got if len(b) == 10) >= 80, [len(b) for b in got]
    assert wait_for(lambda: queue_counts(sqs, url) == (0, 0), timeout=30), queue_counts(sqs, url)


PARTIAL = r'''
import json
def handler(event, context):
    records = event["Records"]
    print("BATCH " + json.dumps([{"id": r["messageId"], "body": r["body"],
        "count": r["attributes"]["ApproximateReceiveCount"]} for r in records]))
    return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in records
                                  if r["body"].startswith("fail") and r["attributes"]["ApproximateReceiveCount"] == "1"]}
'''


def test_reported_item_failures_alone_come_back(server, lam, sqs):
    url, arn = make_queue(sqs, VisibilityTimeout=3)
    name = make_function(lam, PARTIAL)
    send_all(sqs, url, ["ok-1", "fail-1", "ok-2", "fail-2", "ok-3"])
    lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, BatchSize=10,
                                    FunctionResponseTypes=["ReportBatchItemFailures"])
    assert wait_for(lambda: sum(len(b) for b in batches(server.data_dir, name)) >= 7, timeout=60)
    got = batches(server.data_dir, name)
    first = sorted(m["body"] for b in got for m in b if m["count"] == "1")
    again = sorted(m["body"] for b in got for m in b if m["count"] != "1")
    assert first == ["fail-1", "fail-2", "ok-1", "ok-2", "ok-3"]
    assert again == ["fail-1", "fail-2"], got
    assert wait_for(lambda: queue_counts(sqs, url) == (0, 0), timeout=30)


POISON = r'''
import json
def handler(event, context):
    for r in event["Records"]:
        print("BATCH " + json.dumps([{"id": r["messageId"], "body": r["body"], "count": r["attributes"]["ApproximateReceiveCount"]}]))
        if r["body"] == "poison":
            raise ValueError("cannot digest")
    return {}
'''


def test_a_poison_message_moves_to_the_dead_letter_queue(server, lam, sqs):
    dlq_url, dlq_arn = make_queue(sqs)
    url, arn = make_queue(sqs, VisibilityTimeout=3,
                          RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}))
    name = make_function(lam, POISON)
    lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, BatchSize=1)
    sqs.send_message(QueueUrl=url, MessageBody="poison")

    def in_dlq():
        r = sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=1, MessageSystemAttributeNames=["All"])
        return r.get("Messages")

    moved = wait_for(in_dlq, timeout=60)
    assert moved and moved[0]["Body"] == "poison"
    tries = [m for b in batches(server.data_dir, name) for m in b if m["body"] == "poison"]
    assert [t["count"] for t in tries] == ["1", "2"], tries


def test_a_filter_drops_what_it_does_not_match(server, lam, sqs):
    url, arn = make_queue(sqs)
    name = make_function(lam)
    pattern = json.dumps({"body": {"kind": ["order"], "total": [{"numeric": [">", 10]}]}})
    lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, BatchSize=10,
                                    FilterCriteria={"Filters": [{"Pattern": pattern}]})
    bodies = [json.dumps({"kind": "order", "total": 50, "n": 1}), json.dumps({"kind": "refund", "total": 50}),
              json.dumps({"kind": "order", "total": 5}), "plain text", json.dumps({"kind": "order", "total": 11, "n": 2})]
    send_all(sqs, url, bodies)
    assert wait_for(lambda: queue_counts(sqs, url) == (0, 0), timeout=30), "non-matching messages are deleted too"
    delivered = sorted(json.loads(m["body"])["n"] for b in batches(server.data_dir, name) for m in b)
    assert delivered == [1, 2]


def test_fifo_order_holds_per_group(server, lam, sqs):
    url, arn = make_queue(sqs, unique_name("fifo") + ".fifo", FifoQueue="true", ContentBasedDeduplication="true")
    name = make_function(lam)
    bodies = [f"{g}-{i:02d}" for i in range(15) for g in "abc"]
    send_all(sqs, url, bodies, per=lambda j, b: {"MessageGroupId": b[0]})
    lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, BatchSize=10)
    assert wait_for(lambda: sum(len(b) for b in batches(server.data_dir, name)) >= 45, timeout=60)
    timed = sorted(batches(server.data_dir, name), key=lambda b: b[0]["at"])
    order = [m["body"] for b in timed for m in b]
    for g in "abc":
        mine = [o for o in order if o.startswith(g)]
        assert mine == [f"{g}-{i:02d}" for i in range(15)], mine


SLOW = r'''
import json, time
def handler(event, context):
    print("BATCH " + json.dumps([{"id": r["messageId"], "body": r["body"], "count": r["attributes"]["ApproximateReceiveCount"]} for r in event["Records"]]))
    time.sleep(0.05)
    return {}
'''


def test_no_message_lost_across_kill9(new_server):
    srv = new_server()
    lam, sqs = srv.client(), sqs_client(srv)
    url, arn = make_queue(sqs, VisibilityTimeout=5)
    name = make_function(lam, SLOW)
    bodies = [f"k-{i:03d}" for i in range(300)]
    send_all(sqs, url, bodies)
    lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name, BatchSize=2)
    wait_for(lambda: sum(len(b) for b in batches(srv.data_dir, name)) >= 20, timeout=60)
    srv.kill9()
    before = {m["body"] for b in batches(srv.data_dir, name) for m in b}
    assert len(before) < 300, "messages must still be queued at the crash for this test to mean anything"
    srv.start()
    sqs = sqs_client(srv)
    done = wait_for(lambda: {m["body"] for b in batches(srv.data_dir, name) for m in b} >= set(bodies), timeout=120)
    missing = set(bodies) - {m["body"] for b in batches(srv.data_dir, name) for m in b}
    assert done, f"lost: {sorted(missing)[:10]}"
    assert wait_for(lambda: queue_counts(sqs, url) == (0, 0), timeout=30)


def test_a_mapping_polls_its_queue_once_it_exists_again(new_server):
    srv = new_server()
    lam, sqs = srv.client(), sqs_client(srv)
    name = unique_name("q")
    url, arn = make_queue(sqs, name)
    function = make_function(lam)
    lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=function, BatchSize=1)
    sqs.delete_queue(QueueUrl=url)
    srv.restart()
    lam, sqs = srv.client(), sqs_client(srv)
    assert lam.list_event_source_mappings(EventSourceArn=arn)["EventSourceMappings"][0]["State"] == "Enabled"
    url, again = make_queue(sqs, name)
    assert again == arn
    sqs.send_message(QueueUrl=url, MessageBody="late")
    assert wait_for(lambda: [m for b in batches(srv.data_dir, function) for m in b if m["body"] == "late"], timeout=30)
