"""Helpers for tests of SQS queues and what reads them: a boto3 SQS client of
a server, queues by attributes, their approximate counts, and the batches a
recording function printed to its log files (`BATCH <json>`)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import boto3
from botocore.config import Config

from support import REGION, unique_name


def sqs_client(server):
    return boto3.client(
        "sqs",
        endpoint_url=server.url,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=60),
    )


def logs(data_dir: Path, function: str) -> str:
    folder = data_dir / "logs" / function
    if not folder.is_dir():
        return ""
    return "".join(p.read_text(errors="replace") for p in sorted(folder.glob("*.log")))


def batches(data_dir: Path, function: str) -> list[list[dict]]:
    """Each invocation's records, as the function printed them (environments
    log to files of their own: not in time order across files)."""
    return [json.loads(m) for m in re.findall(r"^BATCH (.*)$", logs(data_dir, function), re.M)]




def make_queue(sqs, name=None, **attributes):
    name = name or unique_name("q")
    url = sqs.create_queue(QueueName=name, Attributes={k: str(v) for k, v in attributes.items()})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def queue_counts(sqs, url):
    a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(a["ApproximateNumberOfMessages"]), int(a["ApproximateNumberOfMessagesNotVisible"])
