"""IAM and STS, and policies enforced under `serve --auth iam`.

The account root (`--credentials`) creates users, access keys, roles and
policies through boto3's IAM client; those users' keys then sign requests
that are authorised through the shared policy evaluation, with AWS's
`AccessDeniedException` messages. A function's credentials carry its
execution role's permissions and nothing more; an explicit deny beats an
allow; `iam:PassRole` and the role's trust policy gate CreateFunction; a
cross-account AddPermission lets that account (`--foreign-credentials`) in;
AssumeRole hands out session credentials honouring the trust policy.
Everything the identity store holds survives a kill -9.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid

import botocore.exceptions
import pytest

from support import aws_client as client
from support import ACCOUNT, REGION, aws_cli_env, aws_cli_path, make_zip, unique_name

FOREIGN_ACCOUNT = "111122223333"
LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
ECHO = "def handler(event, context):\n    return {'ok': True, 'event': event}\n"


@pytest.fixture(scope="module")
def iam_server(data_root, server_logs):
    from support import Server

    srv = Server(data_root / f"iam-{uuid.uuid4().hex[:6]}", server_logs, name="iam")
    srv.start(env={"LAMBDABOX_AUTH": "iam", "LAMBDABOX_FOREIGN_CREDENTIALS": f"{FOREIGN_ACCOUNT}=FOREIGNKEY:foreignsecret"})
    yield srv
    if srv.running:
        srv.stop()


def error_of(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    return e.value.response


def new_user(server, policies: list[dict]):
    """A user with inline `policies` and an access key; its name and (key, secret)."""
    iam = client(server, "iam")
    name = unique_name("user")
    iam.create_user(UserName=name)
    for i, doc in enumerate(policies):
        iam.put_user_policy(UserName=name, PolicyName=f"p{i}", PolicyDocument=json.dumps(doc))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return name, (key["AccessKeyId"], key["SecretAccessKey"])


def new_role(server, name=None, trust=LAMBDA_TRUST, managed=(), inline=None):
    iam = client(server, "iam")
    name = name or unique_name("role")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    for policy in managed:
        iam.attach_role_policy(RoleName=name, PolicyArn=policy)
    if inline:
        iam.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=json.dumps(inline))
    return arn


def new_function(server, code=ECHO, role=None, **kwargs):
    lam = client(server, "lambda")
    role = role or new_role(server, managed=["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"])
    name = unique_name("fn")
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler",
                        Code={"ZipFile": make_zip({"app.py": code})}, Timeout=30, **kwargs)
    return name, f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def allow(action, resource="*", effect="Allow", **extra):
    return {"Version": "2012-10-17", "Statement": [{"Effect": effect, "Action": action, "Resource": resource, **extra}]}


def test_iam_users_roles_and_policies_round_trip(iam_server):
    iam = client(iam_server, "iam")
    name = unique_name("alice")
    user = iam.create_user(UserName=name, Path="/team/")["User"]
    assert user["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/team/{name}"
    assert user["UserId"].startswith("AIDA")
    assert iam.get_user(UserName=name)["User"]["Arn"] == user["Arn"]
    assert name in [u["UserName"] for u in iam.list_users(PathPrefix="/team/")["Users"]]
    err = error_of(lambda: iam.create_user(UserName=name))
    assert err["Error"]["Code"] == "EntityAlreadyExists"
    doc = allow("s3:GetObject", "arn:aws:s3:::b/*")
    iam.put_user_policy(UserName=name, PolicyName="read", PolicyDocument=json.dumps(doc))
    assert iam.get_user_policy(UserName=name, PolicyName="read")["PolicyDocument"] == doc
    assert iam.list_user_policies(UserName=name)["PolicyNames"] == ["read"]
    err = error_of(lambda: iam.delete_user(UserName=name))
    assert err["Error"]["Code"] == "DeleteConflict"
    iam.delete_user_policy(UserName=name, PolicyName="read")
    iam.delete_user(UserName=name)
    err = error_of(lambda: iam.get_user(UserName=name))
    assert err["Error"]["Code"] == "NoSuchEntity"
    assert err["Error"]["Message"] == f"The user with name {name} cannot be found."

    role = unique_name("exec")
    created = iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))["Role"]
    assert created["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/{role}"
    assert iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"] == LAMBDA_TRUST
    basic = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    iam.attach_role_policy(RoleName=role, PolicyArn=basic)
    attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    assert attached == [{"PolicyName": "AWSLambdaBasicExecutionRole", "PolicyArn": basic}]
    version = iam.get_policy_version(PolicyArn=basic, VersionId="v1")["PolicyVersion"]
    assert version["Document"]["Statement"][0]["Action"] == ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
    err = error_of(lambda: iam.put_role_policy(RoleName=role, PolicyName="bad", PolicyDocument='{"Statement":[{"Effect":"Allow","Action":"*"}]}'))
    assert err["Error"]["Code"] == "MalformedPolicyDocument"
    custom = iam.create_policy(PolicyName=unique_name("pol"), PolicyDocument=json.dumps(doc))["Policy"]
    iam.attach_role_policy(RoleName=role, PolicyArn=custom["Arn"])
    assert iam.get_policy(PolicyArn=custom["Arn"])["Policy"]["AttachmentCount"] == 1
    err = error_of(lambda: iam.delete_policy(PolicyArn=custom["Arn"]))
    assert err["Error"]["Code"] == "DeleteConflict"


def test_a_user_allowed_one_invoke_gets_only_that(iam_server):
    name, arn = new_function(iam_server)
    other, other_arn = new_function(iam_server)
    user, (key, secret) = new_user(iam_server, [allow("lambda:InvokeFunction", arn)])
    lam = client(iam_server, "lambda", key, secret)
    resp = lam.invoke(FunctionName=name, Payload=b'{"n": 1}')
    assert json.loads(resp["Payload"].read()) == {"ok": True, "event": {"n": 1}}
    user_arn = f"arn:aws:iam::{ACCOUNT}:user/{user}"
    err = error_of(lambda: lam.invoke(FunctionName=other))
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert err["Error"]["Code"] == "AccessDeniedException"
    assert err["Error"]["Message"] == (
        f"User: {user_arn} is not authorized to perform: lambda:InvokeFunction on resource: {other_arn} "
        "because no identity-based policy allows the lambda:InvokeFunction action")
    new_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:not-yet"
    err = error_of(lambda: lam.create_function(
        FunctionName="not-yet", Runtime="python3.12", Role="arn:aws:iam::000000000000:role/x",
        Handler="app.handler", Code={"ZipFile": make_zip({"app.py": ECHO})}))
    assert err["Error"]["Code"] == "AccessDeniedException"
    assert err["Error"]["Message"] == (
        f"User: {user_arn} is not authorized to perform: lambda:CreateFunction on resource: {new_arn} "
        "because no identity-based policy allows the lambda:CreateFunction action")
    for call in (lambda: lam.list_functions(), lambda: lam.get_function(FunctionName=name),
                 lambda: lam.delete_function(FunctionName=name)):
        assert error_of(call)["Error"]["Code"] == "AccessDeniedException"
    # Other services refuse the same user in their own shapes.
    err = error_of(lambda: client(iam_server, "s3", key, secret).list_buckets())
    assert err["Error"]["Code"] == "AccessDenied"
    err = error_of(lambda: client(iam_server, "logs", key, secret).describe_log_groups())
    assert err["Error"]["Code"] == "AccessDeniedException"
    err = error_of(lambda: client(iam_server, "iam", key, secret).list_users())
    assert err["Error"]["Code"] == "AccessDenied"
    err = error_of(lambda: client(iam_server, "apigatewayv2", key, secret).get_apis())
    assert err["Error"]["Code"] == "AccessDeniedException"


def test_an_explicit_deny_beats_an_allow(iam_server):
    name, arn = new_function(iam_server)
    _, (key, secret) = new_user(iam_server, [allow("lambda:*"), allow("lambda:InvokeFunction", arn, effect="Deny")])
    lam = client(iam_server, "lambda", key, secret)
    assert any(f["FunctionName"] == name for f in lam.list_functions()["Functions"])
    err = error_of(lambda: lam.invoke(FunctionName=name))
    assert err["Error"]["Code"] == "AccessDeniedException"
    assert err["Error"]["Message"].endswith("with an explicit deny in an identity-based policy")


def test_a_functions_role_is_all_it_may_do(iam_server):
    s3 = client(iam_server, "s3", s3={"addressing_style": "path"})
    readable, hidden = f"rd-{uuid.uuid4().hex[:8]}", f"hd-{uuid.uuid4().hex[:8]}"
    for bucket in (readable, hidden):
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="k", Body=f"in {bucket}".encode())
    role = new_role(iam_server, managed=["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"],
                    inline=allow("s3:GetObject", f"arn:aws:s3:::{readable}/*"))
    code = """
import boto3, botocore.exceptions
def handler(event, context):
    out = {}
    for bucket in event["buckets"]:
        try:
            out[bucket] = boto3.client("s3").get_object(Bucket=bucket, Key="k")["Body"].read().decode()
        except botocore.exceptions.ClientError as e:
            out[bucket] = e.response["Error"]["Code"]
    try:
        boto3.client("lambda").list_functions()
        out["lambda"] = "listed"
    except botocore.exceptions.ClientError as e:
        out["lambda"] = e.response["Error"]["Code"]
    return out
"""
    name, _ = new_function(iam_server, code=code, role=role)
    resp = client(iam_server, "lambda").invoke(FunctionName=name, Payload=json.dumps({"buckets": [readable, hidden]}))
    out = json.loads(resp["Payload"].read())
    assert "FunctionError" not in resp, out
    assert out == {readable: f"in {readable}", hidden: "AccessDenied", "lambda": "AccessDeniedException"}


def test_create_function_needs_pass_role_and_a_role_lambda_may_assume(iam_server):
    role = new_role(iam_server)
    not_for_lambda = new_role(iam_server, trust={"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    user, (key, secret) = new_user(iam_server, [allow("lambda:CreateFunction")])
    lam = client(iam_server, "lambda", key, secret)
    create = lambda r: lam.create_function(  # noqa: E731
        FunctionName=unique_name("pr"), Runtime="python3.12", Role=r, Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": ECHO})})
    err = error_of(lambda: create(role))
    assert err["Error"]["Code"] == "AccessDeniedException"
    assert err["Error"]["Message"] == (
        f"User: arn:aws:iam::{ACCOUNT}:user/{user} is not authorized to perform: iam:PassRole on resource: {role} "
        "because no identity-based policy allows the iam:PassRole action")
    # AWSLambda_FullAccess allows PassRole only to Lambda (iam:PassedToService).
    client(iam_server, "iam").attach_user_policy(UserName=user, PolicyArn="arn:aws:iam::aws:policy/AWSLambda_FullAccess")
    assert create(role)["State"] in ("Active", "Pending")
    err = error_of(lambda: create(not_for_lambda))
    assert err["Error"]["Code"] == "InvalidParameterValueException"
    assert err["Error"]["Message"] == "The role defined for the function cannot be assumed by Lambda."
    err = error_of(lambda: create(f"arn:aws:iam::{ACCOUNT}:role/does-not-exist"))
    assert err["Error"]["Code"] == "InvalidParameterValueException"


def test_a_cross_account_add_permission_lets_that_account_invoke(iam_server):
    name, arn = new_function(iam_server)
    foreign = client(iam_server, "lambda", "FOREIGNKEY", "foreignsecret")
    err = error_of(lambda: foreign.invoke(FunctionName=arn))
    assert err["Error"]["Code"] == "AccessDeniedException"
    assert err["Error"]["Message"] == (
        f"User: arn:aws:iam::{FOREIGN_ACCOUNT}:root is not authorized to perform: lambda:InvokeFunction on resource: "
        f"{arn} because no resource-based policy allows the lambda:InvokeFunction action")
    client(iam_server, "lambda").add_permission(
        FunctionName=name, StatementId="other-account", Action="lambda:InvokeFunction", Principal=FOREIGN_ACCOUNT)
    resp = foreign.invoke(FunctionName=arn, Payload=b'{"from": "afar"}')
    assert json.loads(resp["Payload"].read()) == {"ok": True, "event": {"from": "afar"}}
    # Only what the statement grants.
    assert error_of(lambda: foreign.get_function(FunctionName=arn))["Error"]["Code"] == "AccessDeniedException"
    assert client(iam_server, "sts", "FOREIGNKEY", "foreignsecret").get_caller_identity()["Account"] == FOREIGN_ACCOUNT


def test_assume_role_hands_out_the_roles_permissions(iam_server):
    name, arn = new_function(iam_server)
    user, (key, secret) = new_user(iam_server, [allow("sts:AssumeRole")])
    user_arn = f"arn:aws:iam::{ACCOUNT}:user/{user}"
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": user_arn}, "Action": "sts:AssumeRole"}]}
    role = new_role(iam_server, trust=trust, inline=allow("lambda:GetFunction", arn))
    sts = client(iam_server, "sts", key, secret)
    creds = sts.assume_role(RoleArn=role, RoleSessionName="ci-run", DurationSeconds=900)["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    session = dict(key=creds["AccessKeyId"], secret=creds["SecretAccessKey"], token=creds["SessionToken"])
    role_name = role.rsplit("/", 1)[1]
    me = client(iam_server, "sts", **session).get_caller_identity()
    assert me["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{role_name}/ci-run"
    lam = client(iam_server, "lambda", **session)
    assert lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"] == arn
    assert error_of(lambda: lam.invoke(FunctionName=name))["Error"]["Code"] == "AccessDeniedException"
    # A wrong session token is refused.
    bad = client(iam_server, "lambda", key=creds["AccessKeyId"], secret=creds["SecretAccessKey"], token="forged")
    assert error_of(lambda: bad.get_function(FunctionName=name))["Error"]["Code"] == "UnrecognizedClientException"
    # The trust policy names one user: another is refused.
    _, (k2, s2) = new_user(iam_server, [allow("sts:AssumeRole")])
    err = error_of(lambda: client(iam_server, "sts", k2, s2).assume_role(RoleArn=role, RoleSessionName="x2"))
    assert err["Error"]["Code"] == "AccessDenied"


def test_cli_and_terraform_style_start_up_calls_answer(iam_server):
    user, (key, secret) = new_user(iam_server, [allow("iam:GetUser", f"arn:aws:iam::{ACCOUNT}:user/*")])
    env = aws_cli_env()
    env.update(AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret)
    for argv in (["sts", "get-caller-identity"], ["iam", "get-user"]):
        proc = subprocess.run(
            [str(aws_cli_path()), "--endpoint-url", iam_server.url, "--output", "json", *argv],
            env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        assert proc.returncode == 0, proc.stderr
        out = json.loads(proc.stdout)
        arn = out.get("Arn") or out["User"]["Arn"]
        assert arn == f"arn:aws:iam::{ACCOUNT}:user/{user}", out


def test_identities_survive_a_kill_9(new_server):
    srv = new_server(start=False)
    srv.start(env={"LAMBDABOX_AUTH": "iam"})
    _, (key, secret) = new_user(srv, [allow("lambda:ListFunctions")])
    srv.kill9()
    srv.start(env={"LAMBDABOX_AUTH": "iam"})
    assert client(srv, "lambda", key, secret).list_functions()["Functions"] == []
    assert error_of(lambda: client(srv, "lambda", key, secret).get_account_settings())["Error"]["Code"] == "AccessDeniedException"


def test_open_mode_serves_iam_without_enforcing_it(server):
    iam = client(server, "iam")
    name = unique_name("openuser")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    # No policy, yet everything is allowed: requests are not authorised in open mode.
    assert "Functions" in client(server, "lambda", key["AccessKeyId"], key["SecretAccessKey"]).list_functions()


def test_a_copy_needs_read_access_to_its_source(iam_server):
    s3 = client(iam_server, "s3", s3={"addressing_style": "path"})
    mine, theirs = f"mine-{uuid.uuid4().hex[:8]}", f"theirs-{uuid.uuid4().hex[:8]}"
    for bucket in (mine, theirs):
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=theirs, Key="secret", Body=b"not yours")
    _, (key, secret) = new_user(iam_server, [allow(["s3:PutObject", "s3:GetObject"], f"arn:aws:s3:::{mine}/*")])
    user_s3 = client(iam_server, "s3", key, secret, s3={"addressing_style": "path"})
    user_s3.put_object(Bucket=mine, Key="own", Body=b"mine")
    user_s3.copy_object(Bucket=mine, Key="copy", CopySource={"Bucket": mine, "Key": "own"})
    assert user_s3.get_object(Bucket=mine, Key="copy")["Body"].read() == b"mine"
    err = error_of(lambda: user_s3.copy_object(Bucket=mine, Key="stolen", CopySource={"Bucket": theirs, "Key": "secret"}))
    assert err["Error"]["Code"] == "AccessDenied"
    assert f"s3:GetObject on resource: arn:aws:s3:::{theirs}/secret" in err["Error"]["Message"]
    assert error_of(lambda: s3.head_object(Bucket=mine, Key="stolen"))["Error"]["Code"] == "404"


def test_lambdabox_logs_signs_its_requests(iam_server):
    name, _ = new_function(iam_server, code="def handler(e, c):\n    print('signed logs line')\n    return 1\n")
    client(iam_server, "lambda").invoke(FunctionName=name)

    def run(key, secret):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LAMBDABOX_"))}
        env.update(AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret)
        return subprocess.run([str(iam_server.binary), "logs", name, "--endpoint", iam_server.url],
                              env=env, capture_output=True, text=True, timeout=60)

    proc = run("test", "test")
    assert proc.returncode == 0, proc.stderr
    assert "signed logs line" in proc.stdout
    _, (key, secret) = new_user(iam_server, [])
    proc = run(key, secret)
    assert proc.returncode != 0
    assert "AccessDeniedException" in proc.stderr, proc.stderr


def test_a_bucket_policy_lets_in_whom_it_names_and_denies_for_everyone(iam_server):
    s3 = client(iam_server, "s3", s3={"addressing_style": "path"})
    bucket = f"pol-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="public/a", Body=b"shared")
    s3.put_object(Bucket=bucket, Key="private/b", Body=b"kept")
    user, (key, secret) = new_user(iam_server, [])
    user_arn = f"arn:aws:iam::{ACCOUNT}:user/{user}"
    reader = client(iam_server, "s3", key, secret, s3={"addressing_style": "path"})
    foreign = client(iam_server, "s3", "FOREIGNKEY", "foreignsecret", s3={"addressing_style": "path"})
    assert error_of(lambda: reader.get_object(Bucket=bucket, Key="public/a"))["Error"]["Code"] == "AccessDenied"
    assert error_of(lambda: foreign.get_object(Bucket=bucket, Key="public/a"))["Error"]["Code"] == "AccessDenied"
    policy = {"Version": "2012-10-17", "Statement": [
        {"Sid": "ReadPublic", "Effect": "Allow", "Principal": {"AWS": [user_arn, f"arn:aws:iam::{FOREIGN_ACCOUNT}:root"]},
         "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/public/*"},
        {"Sid": "NobodyDeletes", "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject",
         "Resource": f"arn:aws:s3:::{bucket}/*"},
    ]}
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == policy
    assert reader.get_object(Bucket=bucket, Key="public/a")["Body"].read() == b"shared"
    assert foreign.get_object(Bucket=bucket, Key="public/a")["Body"].read() == b"shared"
    assert error_of(lambda: reader.get_object(Bucket=bucket, Key="private/b"))["Error"]["Code"] == "AccessDenied"
    # The explicit deny binds even the account's root.
    err = error_of(lambda: s3.delete_object(Bucket=bucket, Key="private/b"))
    assert err["Error"]["Code"] == "AccessDenied"
    assert "explicit deny in a resource-based policy" in err["Error"]["Message"]
    # Malformed policies are refused with S3's code.
    for bad in ("not json", json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                                       "Resource": "arn:aws:s3:::another-bucket/*"}]})):
        assert error_of(lambda: s3.put_bucket_policy(Bucket=bucket, Policy=bad))["Error"]["Code"] == "MalformedPolicy"
    s3.delete_bucket_policy(Bucket=bucket)
    assert error_of(lambda: s3.get_bucket_policy(Bucket=bucket))["Error"]["Code"] == "NoSuchBucketPolicy"
    assert error_of(lambda: reader.get_object(Bucket=bucket, Key="public/a"))["Error"]["Code"] == "AccessDenied"
    s3.delete_object(Bucket=bucket, Key="private/b")


def test_a_mapping_needs_an_execution_role_that_may_poll_the_queue(iam_server):
    sqs = client(iam_server, "sqs")
    url = sqs.create_queue(QueueName=unique_name("q"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    lam = client(iam_server, "lambda")
    basic, _ = new_function(iam_server)
    err = error_of(lambda: lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=basic))
    assert err["Error"]["Code"] == "InvalidParameterValueException"
    assert err["Error"]["Message"] == "The provided execution role does not have permissions to call ReceiveMessage on SQS"
    role = new_role(iam_server, managed=["arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole"])
    poller, _ = new_function(iam_server, role=role)
    made = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=poller)
    assert made["State"] == "Creating"
    lam.delete_event_source_mapping(UUID=made["UUID"])
