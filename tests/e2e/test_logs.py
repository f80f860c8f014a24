"""Logs through the CloudWatch Logs API on the Lambda API's listener: boto3's
`logs` client, `aws logs tail` (AWS CLI v2: v1 has no `logs tail`) and
`lambdabox logs` read what functions printed, with the START, END and REPORT
lines, across a clean restart and a kill -9 of the server.

AWS: the CloudWatch Logs API reference (DescribeLogGroups,
DescribeLogStreams, GetLogEvents, FilterLogEvents, DeleteLogGroup; errors as
JSON 1.1 `__type` with HTTP 400), "Filter pattern syntax" (terms, quoted
phrases), and the Lambda developer guide's "Using CloudWatch Logs with
Lambda" (group `/aws/lambda/NAME`, a stream per execution environment
named `YYYY/MM/DD/[VERSION]<id>`).
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
import time
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from invoke_support import (  # noqa: F401 (fixtures)
    LOG_STREAM_RE,
    assert_platform_lines,
    create,
    exec_server,
    invoke,
    lam_exec,
    log_request_id,
    py_package,
)
from support import REGION, aws_cli_env, aws_error, raw_request, unique_name

PRINTER = """
    print("INIT says hello")

    def handler(event, context):
        for line in event.get("lines", []):
            print(line)
        if event.get("tail"):
            print(event["tail"], end="")
        return {"stream": context.log_stream_name, "group": context.log_group_name}
"""


def logs_client(server):
    return boto3.client(
        "logs",
        endpoint_url=server.url,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=60),
    )


@pytest.fixture(scope="module")
def cwl(exec_server):
    return logs_client(exec_server)


def run(lam, name: str, lines: list[str], tail: str | None = None) -> dict:
    """Invokes the printer; returns its payload plus the request id."""
    event = {"lines": lines}
    if tail:
        event["tail"] = tail
    res = invoke(lam, name, event)
    payload = res.ok()
    payload["request_id"] = log_request_id(res.log)
    return payload


def all_events(cwl, group: str, stream: str) -> list[dict]:
    """Every event of a stream, oldest first, following nextForwardToken until it repeats."""
    events, token = [], None
    while True:
        kwargs = {"logGroupName": group, "logStreamName": stream, "startFromHead": True, "limit": 3}
        if token:
            kwargs["nextToken"] = token
        page = cwl.get_log_events(**kwargs)
        events.extend(page["events"])
        if page["nextForwardToken"] == token:
            return events
        token = page["nextForwardToken"]


def filtered(cwl, group: str, **kwargs) -> list[dict]:
    paginator = cwl.get_paginator("filter_log_events")
    return [e for page in paginator.paginate(logGroupName=group, **kwargs) for e in page["events"]]


def messages(events: list[dict]) -> list[str]:
    return [e["message"] for e in events]


def invocation_messages(events: list[dict], request_id: str) -> list[str]:
    """The messages from an invocation's START to its REPORT."""
    msgs = messages(events)
    start = msgs.index(f"START RequestId: {request_id} Version: $LATEST")
    report = next(i for i, m in enumerate(msgs) if m.startswith(f"REPORT RequestId: {request_id}\t"))
    return msgs[start : report + 1]


# --------------------------------------------------------------------------
# The AWS CLI v2 (`aws logs tail`)
# --------------------------------------------------------------------------


def aws_cli_v2() -> str:
    """An AWS CLI v2: $LAMBDABOX_AWS_CLI_V2, else Debian's /usr/bin/aws (package awscli, v2 since bookworm)."""
    for candidate in (os.environ.get("LAMBDABOX_AWS_CLI_V2"), "/usr/bin/aws"):
        if not candidate or not Path(candidate).exists():
            continue
        version = subprocess.run([candidate, "--version"], capture_output=True, text=True, timeout=60)
        if version.stdout.startswith("aws-cli/2."):
            return candidate
    pytest.fail(
        "`aws logs tail` needs the AWS CLI v2 (v1 has no `logs tail`): `apt-get install awscli` "
        "(Debian's is v2) or point LAMBDABOX_AWS_CLI_V2 at one"
    )


def aws_env() -> dict[str, str]:
    return aws_cli_env()


def aws_logs_tail_cmd(server, group: str, *extra: str) -> list[str]:
    return [aws_cli_v2(), "logs", "tail", group, "--endpoint-url", server.url, "--color", "off", *extra]


def aws_logs_tail(server, group: str, *extra: str) -> str:
    cmd = aws_logs_tail_cmd(server, group, *extra)
    proc = subprocess.run(cmd, env=aws_env(), capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, f"aws logs tail exited {proc.returncode}: {proc.stderr}"
    return proc.stdout


# --------------------------------------------------------------------------
# `lambdabox logs`
# --------------------------------------------------------------------------


def lambdabox_logs(server, name: str, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(server.binary), "logs", name, "--endpoint", server.url, *extra],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )


class Follower:
    """A following command (`lambdabox logs --follow`, `aws logs tail --follow`), its stdout read line by line."""

    def __init__(self, cmd: list[str], env: dict[str, str] | None = None):
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL, env=env,
        )
        self.lines: queue.Queue = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def wait_for(self, wanted: str, timeout: float = 30) -> None:
        """Reads lines until one ends with `wanted` (fails on timeout or exit)."""
        deadline = time.monotonic() + timeout
        while not any(line.endswith(wanted) for line in self.seen):
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"{self.proc.args} did not print {wanted!r} in {timeout}s; printed {self.seen}")
            if line is None:
                pytest.fail(f"{self.proc.args} exited: {self.proc.stderr.read()}")
            self.seen.append(line)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


# --------------------------------------------------------------------------
# Groups, streams, events
# --------------------------------------------------------------------------


def test_group_and_stream_named_as_aws(lam_exec, cwl):
    name = create(lam_exec, py_package(PRINTER))
    group = f"/aws/lambda/{name}"
    before = int(time.time() * 1000)
    payload = run(lam_exec, name, ["first line"])
    after = int(time.time() * 1000)
    assert payload["group"] == group

    groups = cwl.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert [g["logGroupName"] for g in groups] == [group]
    assert groups[0]["arn"] == f"arn:aws:logs:{REGION}:000000000000:log-group:{group}:*"
    assert groups[0]["storedBytes"] > 0

    streams = cwl.describe_log_streams(logGroupName=group)["logStreams"]
    assert [s["logStreamName"] for s in streams] == [payload["stream"]]
    stream = streams[0]
    assert LOG_STREAM_RE.match(stream["logStreamName"]), stream["logStreamName"]
    assert before - 60_000 <= stream["creationTime"] <= after
    assert before - 60_000 <= stream["firstEventTimestamp"] <= stream["lastEventTimestamp"] <= after
    assert stream["lastIngestionTime"] == stream["lastEventTimestamp"]
    assert stream["arn"].endswith(f":log-group:{group}:log-stream:{payload['stream']}")


def test_get_log_events_has_the_printed_lines_and_the_platform_lines(lam_exec, cwl):
    name = create(lam_exec, py_package(PRINTER))
    group = f"/aws/lambda/{name}"
    one = run(lam_exec, name, ["alpha", "beta  with  spaces", "tab\there"])
    two = run(lam_exec, name, ["gamma"], tail="no newline at the end")
    assert one["stream"] == two["stream"], "the warm environment writes one stream"

    events = all_events(cwl, group, one["stream"])
    msgs = messages(events)
    assert msgs[0] == "INIT says hello"
    first = invocation_messages(events, one["request_id"])
    assert first[1:4] == ["alpha", "beta  with  spaces", "tab\there"]
    assert first[4] == f"END RequestId: {one['request_id']}"
    assert "Init Duration: " in first[5]
    second = invocation_messages(events, two["request_id"])
    assert second[1:3] == ["gamma", "no newline at the end"], "a line without newline ends with the invocation"
    assert second[3] == f"END RequestId: {two['request_id']}"
    assert "Init Duration" not in second[4]
    assert_platform_lines("\n".join(msgs), one["request_id"])

    stamps = [e["timestamp"] for e in events]
    assert stamps == sorted(stamps)
    assert all(e["ingestionTime"] >= e["timestamp"] for e in events)

    # The default page is the newest events; the backward token pages towards the oldest.
    newest = cwl.get_log_events(logGroupName=group, logStreamName=one["stream"], limit=2)
    assert messages(newest["events"])[0] == f"END RequestId: {two['request_id']}"
    older = cwl.get_log_events(
        logGroupName=group, logStreamName=one["stream"], limit=2, nextToken=newest["nextBackwardToken"])
    assert messages(older["events"]) == ["gamma", "no newline at the end"]


def test_filter_log_events_with_terms_and_phrases(lam_exec, cwl):
    name = create(lam_exec, py_package(PRINTER))
    group = f"/aws/lambda/{name}"
    payload = run(lam_exec, name, ["apple pie", "banana split", "apple banana", "Apple upper"])

    everything = filtered(cwl, group)
    assert len(everything) == 1 + 4 + 3  # INIT line, printed lines, START/END/REPORT
    assert {e["logStreamName"] for e in everything} == {payload["stream"]}
    assert len({e["eventId"] for e in everything}) == len(everything)

    assert messages(filtered(cwl, group, filterPattern="apple")) == ["apple pie", "apple banana"]
    assert messages(filtered(cwl, group, filterPattern="banana apple")) == ["apple banana"]
    assert messages(filtered(cwl, group, filterPattern='"banana split"')) == ["banana split"]
    assert messages(filtered(cwl, group, filterPattern="?pie ?split")) == ["apple pie", "banana split"]
    assert messages(filtered(cwl, group, filterPattern="apple -pie")) == ["apple banana"]
    assert messages(filtered(cwl, group, filterPattern="START")) == [
        f"START RequestId: {payload['request_id']} Version: $LATEST"]
    # Paged one by one, the same events come back.
    assert filtered(cwl, group, limit=1) == everything
    assert filtered(cwl, group, logStreamNames=[payload["stream"]]) == everything
    latest = everything[-1]["timestamp"]
    assert all(e["timestamp"] >= latest for e in filtered(cwl, group, startTime=latest))


def test_errors_are_json_1_1(exec_server, cwl):
    missing = f"/aws/lambda/{unique_name('missing')}"
    with aws_error(cwl, "ResourceNotFoundException", 400) as e:
        cwl.describe_log_streams(logGroupName=missing)
    assert e.message == "The specified log group does not exist."
    with aws_error(cwl, "ResourceNotFoundException", 400):
        cwl.filter_log_events(logGroupName=missing)
    with aws_error(cwl, "ResourceNotFoundException", 400):
        cwl.get_log_events(logGroupName=missing, logStreamName="2026/01/01/[$LATEST]0")
    with aws_error(cwl, "InvalidParameterException", 400):
        cwl.describe_log_streams(logGroupName=missing, orderBy="LastEventTime", logStreamNamePrefix="2026")

    body = json.dumps({}).encode()
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Logs_20140328.PutLogEvents"}
    resp = raw_request(exec_server.url, "POST", "/", body=body, headers=headers)
    assert resp.status == 400
    assert resp.header("Content-Type") == "application/x-amz-json-1.1"
    assert resp.json["__type"] == "UnknownOperationException"
    # Without a Logs target, `POST /` is still no Lambda operation.
    resp = raw_request(exec_server.url, "POST", "/", body=body)
    assert resp.status == 404 and resp.header("x-amzn-ErrorType") == "UnknownOperationException"


# --------------------------------------------------------------------------
# Clients: aws logs tail, lambdabox logs
# --------------------------------------------------------------------------


def test_aws_logs_tail(exec_server, lam_exec):
    name = create(lam_exec, py_package(PRINTER))
    payload = run(lam_exec, name, ["tailed line one", "tailed line two"])
    out = aws_logs_tail(exec_server, f"/aws/lambda/{name}", "--since", "1h")
    lines = out.splitlines()
    for wanted in ("tailed line one", "tailed line two", f"START RequestId: {payload['request_id']}",
                   f"END RequestId: {payload['request_id']}", f"REPORT RequestId: {payload['request_id']}"):
        assert any(line.endswith(wanted) or wanted in line for line in lines), f"{wanted!r} not in:\n{out}"
    # The detailed format: time, stream, message.
    line = next(line for line in lines if line.endswith("tailed line one"))
    assert f" {payload['stream']} tailed line one" in line, line
    short = aws_logs_tail(exec_server, f"/aws/lambda/{name}", "--since", "1h", "--format", "short",
                          "--filter-pattern", "two")
    assert [line.split(" ", 1)[1] for line in short.splitlines()] == ["tailed line two"]


def test_lambdabox_logs_reads_through_the_api(exec_server, lam_exec):
    name = create(lam_exec, py_package(PRINTER))
    payload = run(lam_exec, name, ["from the cli"])
    proc = lambdabox_logs(exec_server, name)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "INIT says hello"
    assert lines[1:3] == [f"START RequestId: {payload['request_id']} Version: $LATEST", "from the cli"]
    assert lines[3] == f"END RequestId: {payload['request_id']}"
    assert lines[4].startswith(f"REPORT RequestId: {payload['request_id']}\t")

    nothing = lambdabox_logs(exec_server, unique_name("never-ran"))
    assert nothing.returncode == 0 and nothing.stdout == ""
    unreachable = subprocess.run(
        [str(exec_server.binary), "logs", name, "--endpoint", "http://127.0.0.1:9"],
        capture_output=True, text=True, timeout=60)
    assert unreachable.returncode != 0 and "127.0.0.1:9" in unreachable.stderr


def test_lambdabox_logs_follow(exec_server, lam_exec):
    name = create(lam_exec, py_package(PRINTER))
    run(lam_exec, name, ["before following"])
    follower = Follower([str(exec_server.binary), "logs", name, "--follow", "--endpoint", exec_server.url])
    try:
        follower.wait_for("before following")
        later = run(lam_exec, name, ["while following"])
        follower.wait_for(f"END RequestId: {later['request_id']}")
        assert follower.seen.count("before following") == 1, "nothing is printed twice"
        assert follower.seen.count("while following") == 1
        assert follower.seen.index("while following") > follower.seen.index("before following")
    finally:
        follower.stop()


def test_aws_logs_tail_follow(exec_server, lam_exec):
    name = create(lam_exec, py_package(PRINTER))
    run(lam_exec, name, ["printed before"])
    cmd = aws_logs_tail_cmd(exec_server, f"/aws/lambda/{name}", "--follow", "--since", "1h", "--format", "short")
    follower = Follower(cmd, env=aws_env())
    try:
        follower.wait_for("printed before")
        later = run(lam_exec, name, ["printed while tailing"])
        # The CLI polls FilterLogEvents every 5 s from the newest time it printed.
        follower.wait_for(f"END RequestId: {later['request_id']}")
        printed = [line.split(" ", 1)[1] for line in follower.seen]
        assert printed.count("printed before") == 1 and printed.count("printed while tailing") == 1, printed
    finally:
        follower.stop()


# --------------------------------------------------------------------------
# Durability and deletion
# --------------------------------------------------------------------------


def test_events_survive_restart_and_kill9(new_server):
    srv = new_server()
    lam = srv.client()
    name = create(lam, py_package(PRINTER))
    group = f"/aws/lambda/{name}"
    first = run(lam, name, ["before the restart"])
    srv.restart()
    lam, cwl = srv.client(), logs_client(srv)
    assert invocation_messages(all_events(cwl, group, first["stream"]), first["request_id"])[1] == "before the restart"

    second = run(lam, name, ["before the kill"])
    assert second["stream"] != first["stream"], "a new server starts a new environment"
    srv.kill9()
    srv.start()
    cwl = logs_client(srv)
    streams = [s["logStreamName"] for s in cwl.describe_log_streams(logGroupName=group)["logStreams"]]
    assert sorted(streams) == sorted([first["stream"], second["stream"]])
    assert messages(filtered(cwl, group, filterPattern="before")) == ["before the restart", "before the kill"]
    by_time = cwl.describe_log_streams(logGroupName=group, orderBy="LastEventTime", descending=True)
    assert by_time["logStreams"][0]["logStreamName"] == second["stream"]

    out = aws_logs_tail(srv, group, "--since", "1h")
    assert "before the restart" in out and "before the kill" in out, out


def test_delete_log_group(exec_server, lam_exec, cwl):
    name = create(lam_exec, py_package(PRINTER))
    group = f"/aws/lambda/{name}"
    first = run(lam_exec, name, ["doomed"])
    cwl.delete_log_group(logGroupName=group)
    assert cwl.describe_log_groups(logGroupNamePrefix=group)["logGroups"] == []
    with aws_error(cwl, "ResourceNotFoundException", 400):
        cwl.get_log_events(logGroupName=group, logStreamName=first["stream"])
    with aws_error(cwl, "ResourceNotFoundException", 400):
        cwl.delete_log_group(logGroupName=group)
    assert lambdabox_logs(exec_server, name).stdout == ""

    # The warm environment's next invocation creates the group again, as on AWS.
    again = run(lam_exec, name, ["reborn"])
    assert again["stream"] == first["stream"]
    events = all_events(cwl, group, again["stream"])
    assert messages(events)[0] == f"START RequestId: {again['request_id']} Version: $LATEST"
    assert "doomed" not in messages(events) and "reborn" in messages(events)
