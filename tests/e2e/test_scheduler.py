"""EventBridge Scheduler through boto3's `scheduler` client and the AWS CLI:
schedules and groups with AWS's errors, a schedule fired on demand with
`lambdabox schedule fire`, firing on time by itself, surviving a restart,
and one-time `at()` schedules (ActionAfterCompletion DELETE; a time that
passed while the server was down), and the same under `--auth iam`.

A schedule invokes its Lambda function asynchronously; the function prints
its event, and the test reads the function's log files (as test_async does)."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from support import (
    ACCOUNT, REGION, ROLE, aws_cli_env, aws_cli_path, aws_client, aws_error, make_zip, raw_request, unique_name,
    wait_for,
)

RECORDER = "import json\ndef handler(event, context):\n    print('SCHED ' + json.dumps(event, sort_keys=True))\n"


def scheduler(server):
    return aws_client(server, "scheduler")


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def target(name: str, **extra) -> dict:
    return {"Arn": function_arn(name), "RoleArn": ROLE, **extra}


def recorder(server) -> str:
    name = unique_name("sched")
    server.client().create_function(
        FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": RECORDER})},
    )
    return name


def events(data_dir: Path, function: str) -> list[dict]:
    folder = data_dir / "logs" / function
    if not folder.is_dir():
        return []
    text = "".join(p.read_text(errors="replace") for p in sorted(folder.glob("*.log")))
    return [json.loads(line[6:]) for line in text.splitlines() if line.startswith("SCHED ")]




def aws_scheduler_cli(server, *args, check: bool = True) -> subprocess.CompletedProcess:
    cmd = [str(aws_cli_path()), "scheduler", *args, "--endpoint-url", server.url, "--output", "json"]
    proc = subprocess.run(cmd, env=aws_cli_env(), capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    if check:
        assert proc.returncode == 0, f"aws scheduler {' '.join(args)}: {proc.stderr}"
    return proc


def fire(server, name: str, *extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LAMBDABOX_"))}
    env.update(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_REGION=REGION)
    return subprocess.run(
        [str(server.binary), "schedule", "fire", name, "--endpoint", server.url, *extra],
        env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )


def utc_in(seconds: float) -> datetime.datetime:
    """A whole second `seconds` from now, in UTC."""
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    return now + datetime.timedelta(seconds=seconds)


def test_schedules_and_groups_with_aws_errors(server):
    s = scheduler(server)
    name = unique_name("s")
    later = utc_in(3600)
    arn = s.create_schedule(
        Name=name, ScheduleExpression="cron(0 9 ? * MON-FRI *)", ScheduleExpressionTimezone="Europe/Paris",
        StartDate=later, Description="weekday mornings", FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15},
        Target=target("nobody", Input='{"k": 1}', RetryPolicy={"MaximumEventAgeInSeconds": 600, "MaximumRetryAttempts": 3}),
    )["ScheduleArn"]
    assert arn == f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/default/{name}"
    got = s.get_schedule(Name=name)
    assert (got["GroupName"], got["State"], got["ScheduleExpressionTimezone"]) == ("default", "ENABLED", "Europe/Paris")
    assert got["StartDate"] == later
    assert got["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15}
    assert got["Target"]["RetryPolicy"] == {"MaximumEventAgeInSeconds": 600, "MaximumRetryAttempts": 3}
    assert got["ActionAfterCompletion"] == "NONE"

    with aws_error(s, "ConflictException", 409) as e:
        s.create_schedule(Name=name, ScheduleExpression="rate(1 hour)", FlexibleTimeWindow={"Mode": "OFF"}, Target=target("nobody"))
    assert e.message == f"Schedule {name} already exists."

    # UpdateSchedule replaces the whole definition.
    s.update_schedule(Name=name, ScheduleExpression="rate(2 hours)", State="DISABLED", FlexibleTimeWindow={"Mode": "OFF"}, Target=target("nobody"))
    got2 = s.get_schedule(Name=name)
    assert (got2["ScheduleExpression"], got2["State"]) == ("rate(2 hours)", "DISABLED")
    assert "Description" not in got2 and "StartDate" not in got2
    assert got2["Target"]["RetryPolicy"] == {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185}
    assert got2["CreationDate"] == got["CreationDate"]

    for bad in ["rate(1 minutes)", "rate(5 minute)", "rate(0 hours)", "cron(0 10 * * * *)", "cron(0 10 ? * ? *)",
                "cron(0 10 * * ?)", "at(2030-01-01 10:00:00)", "every day"]:
        with aws_error(s, "ValidationException", 400) as e:
            s.create_schedule(Name=unique_name("bad"), ScheduleExpression=bad, FlexibleTimeWindow={"Mode": "OFF"}, Target=target("nobody"))
        assert e.message == f"Invalid Schedule Expression {bad}."

    ghost = unique_name("ghost")
    for call in (lambda: s.get_schedule(Name=ghost), lambda: s.delete_schedule(Name=ghost),
                 lambda: s.update_schedule(Name=ghost, ScheduleExpression="rate(1 hour)", FlexibleTimeWindow={"Mode": "OFF"}, Target=target("x"))):
        with aws_error(s, "ResourceNotFoundException", 404) as e:
            call()
        assert e.message == f"Schedule {ghost} does not exist."

    # Groups, their schedules and tags.
    group = unique_name("g")
    group_arn = s.create_schedule_group(Name=group, Tags=[{"Key": "team", "Value": "a"}])["ScheduleGroupArn"]
    assert group_arn == f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule-group/{group}"
    with aws_error(s, "ConflictException", 409):
        s.create_schedule_group(Name=group)
    assert s.get_schedule_group(Name=group)["State"] == "ACTIVE"
    names = [g["Name"] for g in s.list_schedule_groups()["ScheduleGroups"]]
    assert "default" in names and group in names
    for i in range(3):
        s.create_schedule(Name=f"{group}-{i}", GroupName=group, ScheduleExpression="rate(1 day)", State="DISABLED",
                          FlexibleTimeWindow={"Mode": "OFF"}, Target=target("nobody"))
    listed = [x["Name"] for p in s.get_paginator("list_schedules").paginate(GroupName=group, PaginationConfig={"PageSize": 2}) for x in p["Schedules"]]
    assert listed == [f"{group}-{i}" for i in range(3)]
    assert [x["Name"] for x in s.list_schedules(NamePrefix=f"{group}-1")["Schedules"]] == [f"{group}-1"]
    assert name in [x["Name"] for x in s.list_schedules(State="DISABLED")["Schedules"]]
    assert s.get_schedule(Name=f"{group}-0", GroupName=group)["GroupName"] == group
    with aws_error(s, "ResourceNotFoundException"):
        s.get_schedule(Name=f"{group}-0")
    s.tag_resource(ResourceArn=group_arn, Tags=[{"Key": "env", "Value": "dev"}])
    s.untag_resource(ResourceArn=group_arn, TagKeys=["team"])
    assert s.list_tags_for_resource(ResourceArn=group_arn)["Tags"] == [{"Key": "env", "Value": "dev"}]
    s.delete_schedule_group(Name=group)
    with aws_error(s, "ResourceNotFoundException") as e:
        s.get_schedule_group(Name=group)
    assert e.message == f"Schedule group {group} does not exist."
    with aws_error(s, "ResourceNotFoundException"):
        s.list_schedules(GroupName=group)

    s.delete_schedule(Name=name)
    with aws_error(s, "ResourceNotFoundException"):
        s.get_schedule(Name=name)


def test_the_aws_cli(server):
    name = unique_name("cli")
    created = aws_scheduler_cli(
        server, "create-schedule", "--name", name, "--schedule-expression", "rate(5 minutes)",
        "--start-date", utc_in(3600).isoformat(), "--flexible-time-window", '{"Mode": "OFF"}',
        "--target", json.dumps(target("nobody", Input='{"from": "cli"}')),
    )
    assert json.loads(created.stdout)["ScheduleArn"].endswith(f"/default/{name}")
    got = json.loads(aws_scheduler_cli(server, "get-schedule", "--name", name).stdout)
    assert got["Target"]["Input"] == '{"from": "cli"}'
    listed = json.loads(aws_scheduler_cli(server, "list-schedules", "--name-prefix", name).stdout)
    assert [x["Name"] for x in listed["Schedules"]] == [name]
    bad = aws_scheduler_cli(server, "create-schedule", "--name", unique_name("cli"), "--schedule-expression", "rate(1 minutes)",
                            "--flexible-time-window", '{"Mode": "OFF"}', "--target", json.dumps(target("nobody")), check=False)
    assert bad.returncode != 0 and "ValidationException" in bad.stderr and "Invalid Schedule Expression rate(1 minutes)." in bad.stderr
    aws_scheduler_cli(server, "delete-schedule", "--name", name)
    gone = aws_scheduler_cli(server, "get-schedule", "--name", name, check=False)
    assert gone.returncode != 0 and f"Schedule {name} does not exist." in gone.stderr


def test_fired_on_demand_then_on_time_and_after_a_restart(fresh):
    s = scheduler(fresh)
    function = recorder(fresh)
    name = unique_name("every-minute")
    definition = dict(
        Name=name, ScheduleExpression="rate(1 minute)", FlexibleTimeWindow={"Mode": "OFF"},
        Target=target(function, Input='{"hello": "world", "at": "<aws.scheduler.scheduled-time>", "n": <aws.scheduler.attempt-number>}'),
    )
    s.create_schedule(StartDate=utc_in(3600), **definition)

    fired = fire(fresh, name)
    assert fired.returncode == 0, fired.stderr
    assert f"schedule/default/{name}" in fired.stdout
    first = wait_for(lambda: events(fresh.data_dir, function), timeout=60)
    assert len(first) == 1, first
    assert (first[0]["hello"], first[0]["n"]) == ("world", 1)
    assert first[0]["at"].endswith("Z")

    missing = fire(fresh, unique_name("nope"))
    assert missing.returncode != 0 and "ResourceNotFoundException" in missing.stderr
    other_group = fire(fresh, name, "--group", "elsewhere")
    assert other_group.returncode != 0 and "Schedule group elsewhere does not exist." in other_group.stderr

    # By itself: from a StartDate a few seconds away, then every minute.
    start = utc_in(10)
    s.update_schedule(StartDate=start, **definition)
    on_time = wait_for(lambda: [e for e in events(fresh.data_dir, function) if e["at"] != first[0]["at"]], timeout=75)
    assert on_time, "the schedule did not fire by itself"
    assert on_time[0]["at"] == start.strftime("%Y-%m-%dT%H:%M:%SZ")

    # A restart keeps the schedule, which fires again at its next minute.
    fresh.restart()
    assert scheduler(fresh).get_schedule(Name=name)["ScheduleExpression"] == "rate(1 minute)"
    later = wait_for(lambda: [e for e in events(fresh.data_dir, function) if e["at"] not in (first[0]["at"], on_time[0]["at"])], timeout=90)
    assert later, "the schedule did not fire after the restart"
    assert later[0]["at"] > on_time[0]["at"]


def test_one_time_schedules(fresh):
    s = scheduler(fresh)
    function = recorder(fresh)

    # at() in a time zone, deleted once it has fired.
    name = unique_name("once")
    tokyo = datetime.timezone(datetime.timedelta(hours=9))
    when = utc_in(3)
    s.create_schedule(
        Name=name, ScheduleExpression=f"at({when.astimezone(tokyo).strftime('%Y-%m-%dT%H:%M:%S')})",
        ScheduleExpressionTimezone="Asia/Tokyo", ActionAfterCompletion="DELETE", FlexibleTimeWindow={"Mode": "OFF"},
        Target=target(function, Input='{"once": "<aws.scheduler.schedule-arn>"}'),
    )

    def gone():
        try:
            s.get_schedule(Name=name)
            return False
        except s.exceptions.ResourceNotFoundException:
            return True

    assert wait_for(gone, timeout=60), "a one-time schedule with ActionAfterCompletion DELETE is deleted once it fired"
    fired = wait_for(lambda: events(fresh.data_dir, function), timeout=60)
    assert [e["once"] for e in fired] == [f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/default/{name}"]

    # A one-time schedule whose time passes while the server is down fires once when it is back.
    name = unique_name("missed")
    when = utc_in(8)
    s.create_schedule(
        Name=name, ScheduleExpression=f"at({when.strftime('%Y-%m-%dT%H:%M:%S')})", FlexibleTimeWindow={"Mode": "OFF"},
        Target=target(function, Input='{"missed": true}'),
    )
    fresh.stop()
    assert datetime.datetime.now(datetime.timezone.utc) < when, "the server took too long to stop"
    time.sleep((when - datetime.datetime.now(datetime.timezone.utc)).total_seconds() + 1)
    fresh.start()
    missed = wait_for(lambda: [e for e in events(fresh.data_dir, function) if e.get("missed")], timeout=60)
    assert len(missed) == 1, missed
    # ActionAfterCompletion NONE: it stays, with nothing left to fire.
    assert scheduler(fresh).get_schedule(Name=name)["ActionAfterCompletion"] == "NONE"


def test_under_auth_iam(new_server):
    srv = new_server(start=False).start(env={"LAMBDABOX_AUTH": "iam"})
    root = scheduler(srv)
    name = unique_name("guarded")
    root.create_schedule(Name=name, ScheduleExpression="rate(1 hour)", StartDate=utc_in(3600),
                         FlexibleTimeWindow={"Mode": "OFF"}, Target=target(unique_name("absent")))
    # The root's keys reach the target, which refuses: no such function.
    fired = fire(srv, name)
    assert fired.returncode != 0 and "TargetInvocationException" in fired.stderr, fired.stderr
    assert "not found" in fired.stderr.lower(), fired.stderr

    iam = aws_client(srv, "iam")
    iam.create_user(UserName="no-rights")
    key = iam.create_access_key(UserName="no-rights")["AccessKey"]
    nobody = aws_client(srv, "scheduler", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    with aws_error(nobody, "AccessDeniedException", 403) as e:
        nobody.get_schedule(Name=name)
    assert "scheduler:GetSchedule" in e.message
    with aws_error(nobody, "AccessDeniedException", 403):
        nobody.create_schedule(Name=unique_name("x"), ScheduleExpression="rate(1 hour)", FlexibleTimeWindow={"Mode": "OFF"}, Target=target("f"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LAMBDABOX_"))}
    env.update(AWS_ACCESS_KEY_ID=key["AccessKeyId"], AWS_SECRET_ACCESS_KEY=key["SecretAccessKey"], AWS_REGION=REGION)
    denied = subprocess.run([str(srv.binary), "schedule", "fire", name, "--endpoint", srv.url], env=env,
                            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert denied.returncode != 0 and "AccessDeniedException" in denied.stderr and "scheduler:FireSchedule" in denied.stderr, denied.stderr
    # Unsigned, the fire-now path is refused before the scheduler sees it.
    unsigned = raw_request(srv.url, "POST", f"/_lambdabox/schedules/default/{name}/fire", sign=False)
    assert unsigned.status == 403, (unsigned.status, unsigned.body)
