"""The one dispatcher (issue #14): every request goes to exactly one service,
and a request for a service Lambdabox does not serve is answered in that
service's own protocol, so the client reports a clear error instead of
"Unable to parse response … invalid XML" (as `aws iam get-role` did, reading
Lambda's JSON). IAM, STS and SQS are served (see test_iam.py, test_auth.py
and test_sqs.py).
"""

from __future__ import annotations

import os
import subprocess

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from support import REGION, aws_cli_env, aws_cli_path


def client(server, service: str):
    return boto3.client(
        service,
        endpoint_url=server.url,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"total_max_attempts": 1}),
    )


@pytest.mark.parametrize(
    "service, call, code",
    [
        ("sns", lambda c: c.list_topics(), "InvalidAction"),
        ("cloudformation", lambda c: c.list_stacks(), "InvalidAction"),
        ("ec2", lambda c: c.describe_vpcs(), "InvalidAction"),
        ("dynamodb", lambda c: c.list_tables(), "UnknownOperationException"),
        ("secretsmanager", lambda c: c.list_secrets(), "UnknownOperationException"),
        ("cloudwatch", lambda c: c.list_metrics(), "UnknownOperationException"),
        ("route53", lambda c: c.list_hosted_zones(), "NotImplemented"),
        ("xray", lambda c: c.get_sampling_rules(), "UnknownOperationException"),
        ("apigateway", lambda c: c.get_rest_apis(), "UnknownOperationException"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_unserved_services_answer_in_their_own_protocol(server, service, call, code):
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        call(client(server, service))
    error = raised.value.response["Error"]
    assert error["Code"] == code, raised.value.response
    assert "Lambdabox does not serve" in error["Message"], error


@pytest.mark.parametrize(
    "argv", [["sns", "list-topics"], ["ec2", "describe-vpcs"]]
)
def test_the_cli_reports_an_unserved_service_clearly(server, argv):
    proc = subprocess.run(
        [str(aws_cli_path()), *argv, "--endpoint-url", server.url],
        env=aws_cli_env(),
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode != 0
    assert "Unable to parse response" not in proc.stderr, proc.stderr
    assert "InvalidAction" in proc.stderr and "Lambdabox does not serve" in proc.stderr, proc.stderr


def test_unknown_logs_and_apigatewayv2_operations_answer_in_their_protocols(server):
    logs = client(server, "logs")
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        logs.start_query(logGroupName="/aws/lambda/x", startTime=0, endTime=1, queryString="fields @message")
    assert raised.value.response["Error"]["Code"] == "UnknownOperationException"
    assert "CloudWatch Logs" in raised.value.response["Error"]["Message"]
    apigw = client(server, "apigatewayv2")
    api = apigw.create_api(Name="dispatch", ProtocolType="HTTP")
    try:
        with pytest.raises(botocore.exceptions.ClientError) as raised:
            apigw.update_api(ApiId=api["ApiId"], Name="renamed")
        assert raised.value.response["Error"]["Code"] == "NotFoundException"
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    finally:
        apigw.delete_api(ApiId=api["ApiId"])


def test_each_served_service_is_reached(server, lam):
    assert "Functions" in lam.list_functions()
    assert "Buckets" in client(server, "s3").list_buckets()
    assert "logGroups" in client(server, "logs").describe_log_groups()
    assert "Items" in client(server, "apigatewayv2").get_apis()
