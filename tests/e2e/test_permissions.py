"""Resource-based policies (AddPermission, GetPolicy, RemovePermission) through
boto3 and the AWS CLI: the statements AWS renders for services, accounts and
the public function-URL grant, per version or alias, kept across restarts."""

from __future__ import annotations

import json

from support import ACCOUNT, REGION, aws_error, create_function, unique_name


def fn_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def test_add_get_remove(server):
    lam = server.client()
    name = unique_name("perm")
    create_function(lam, name)
    with aws_error(lam, "ResourceNotFoundException", 404) as e:
        lam.get_policy(FunctionName=name)
    assert e.message == "The resource you requested does not exist."

    added = lam.add_permission(
        FunctionName=name, StatementId="apigw", Action="lambda:InvokeFunction", Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:{REGION}:{ACCOUNT}:abc123/*/*/items",
    )
    assert json.loads(added["Statement"]) == {
        "Sid": "apigw",
        "Effect": "Allow",
        "Principal": {"Service": "apigateway.amazonaws.com"},
        "Action": "lambda:InvokeFunction",
        "Resource": fn_arn(name),
        "Condition": {"ArnLike": {"AWS:SourceArn": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:abc123/*/*/items"}},
    }
    lam.add_permission(FunctionName=name, StatementId="url", Action="lambda:InvokeFunctionUrl", Principal="*",
                       FunctionUrlAuthType="NONE")
    lam.add_permission(FunctionName=name, StatementId="acct", Action="lambda:GetFunction", Principal="123456789012")

    with aws_error(lam, "ResourceConflictException", 409) as e:
        lam.add_permission(FunctionName=name, StatementId="url", Action="lambda:InvokeFunction", Principal="*")
    assert e.message == ("The statement id (url) provided already exists. Please provide a new statement id, "
                         "or remove the existing statement.")
    with aws_error(lam, "ValidationException", 400) as e:
        lam.add_permission(FunctionName=name, StatementId="bad id!", Action="lambda:InvokeFunction", Principal="*")
    assert "at 'statementId' failed to satisfy constraint" in e.message

    got = lam.get_policy(FunctionName=name)
    policy = json.loads(got["Policy"])
    assert policy["Version"] == "2012-10-17" and policy["Id"] == "default"
    assert [s["Sid"] for s in policy["Statement"]] == ["apigw", "url", "acct"]
    assert policy["Statement"][1]["Principal"] == "*"
    assert policy["Statement"][1]["Condition"] == {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}}
    assert policy["Statement"][2]["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    assert got["RevisionId"] == lam.get_function_configuration(FunctionName=name)["RevisionId"]

    lam.remove_permission(FunctionName=name, StatementId="apigw")
    with aws_error(lam, "ResourceNotFoundException", 404) as e:
        lam.remove_permission(FunctionName=name, StatementId="apigw")
    assert e.message == "Statement apigw is not found in resource policy."
    assert [s["Sid"] for s in json.loads(lam.get_policy(FunctionName=name)["Policy"])["Statement"]] == ["url", "acct"]


def test_policies_per_alias_and_after_restart(fresh):
    lam = fresh.client()
    name = unique_name("permalias")
    create_function(lam, name)
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    out = fresh.aws("add-permission", "--function-name", name, "--qualifier", "live", "--statement-id", "s3",
                    "--action", "lambda:InvokeFunction", "--principal", "s3.amazonaws.com",
                    "--source-account", ACCOUNT).json
    assert json.loads(out["Statement"])["Resource"] == f"{fn_arn(name)}:live"
    with aws_error(lam, "ResourceNotFoundException", 404):
        lam.get_policy(FunctionName=name)  # $LATEST has none
    fresh.kill9()
    fresh.restart()
    lam = fresh.client()
    policy = json.loads(lam.get_policy(FunctionName=name, Qualifier="live")["Policy"])
    assert policy["Statement"][0]["Condition"] == {"StringEquals": {"AWS:SourceAccount": ACCOUNT}}
