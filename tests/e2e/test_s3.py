"""End-to-end tests of the built-in S3 endpoint, on the same port as the Lambda API.

Driven by the real AWS CLI v1 (`aws s3`, `aws s3api`) and boto3, plus raw
SigV4-signed requests where the wire format itself is under test (aws-chunked
bodies with signed chunks, virtual-hosted-style Host headers).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import os
import socket
import subprocess
import types
import uuid
from pathlib import Path

import boto3
import botocore.exceptions
import botocore.httpchecksum
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from support import REGION, MiB, aws_cli_env, aws_cli_path



def s3_client(server, secret="test", key="test", addressing="path", endpoint=None):
    return boto3.client(
        "s3",
        endpoint_url=endpoint or server.url,
        region_name=REGION,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(
            s3={"addressing_style": addressing},
            retries={"total_max_attempts": 1, "mode": "standard"},
            connect_timeout=10,
            read_timeout=60,
        ),
    )


@pytest.fixture
def s3(server):
    return s3_client(server)


def bucket_name() -> str:
    return f"b-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def bucket(s3):
    name = bucket_name()
    s3.create_bucket(Bucket=name)
    return name


def aws_s3(server, *args, check=True) -> subprocess.CompletedProcess:
    env = aws_cli_env()
    cmd = [str(aws_cli_path()), *map(str, args), "--endpoint-url", server.url]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    if check:
        assert proc.returncode == 0, f"`aws {' '.join(map(str, args))}` exited {proc.returncode}: {proc.stderr}"
    return proc


def error_code(excinfo) -> str:
    return excinfo.value.response["Error"]["Code"]


# --------------------------------------------------------------------------
# The AWS CLI
# --------------------------------------------------------------------------


def test_cli_round_trip_with_multipart(server, tmp_path):
    name = bucket_name()
    aws_s3(server, "s3", "mb", f"s3://{name}")
    big = tmp_path / "package.zip"
    big.write_bytes(os.urandom(30 * MiB))  # the CLI goes multipart above 8 MB
    small = tmp_path / "small.txt"
    small.write_text("hello")
    aws_s3(server, "s3", "cp", big, f"s3://{name}/deploy/package.zip")
    aws_s3(server, "s3", "cp", small, f"s3://{name}/small.txt")

    listing = aws_s3(server, "s3", "ls", f"s3://{name}", "--recursive").stdout
    assert "deploy/package.zip" in listing and str(30 * MiB) in listing
    assert f"{name}" in aws_s3(server, "s3", "ls").stdout
    top = aws_s3(server, "s3", "ls", f"s3://{name}/").stdout
    assert "PRE deploy/" in top and "small.txt" in top

    head = aws_s3(server, "s3api", "head-object", "--bucket", name, "--key", "deploy/package.zip", "--output", "json")
    import json

    etag = json.loads(head.stdout)["ETag"].strip('"')
    assert etag.endswith("-4"), etag  # 8 MiB parts: 4 of them
    md5s = b"".join(hashlib.md5(big.read_bytes()[i : i + 8 * MiB]).digest() for i in range(0, 30 * MiB, 8 * MiB))
    assert etag == f"{hashlib.md5(md5s).hexdigest()}-4"

    down = tmp_path / "down.zip"
    aws_s3(server, "s3", "cp", f"s3://{name}/deploy/package.zip", down)
    assert down.read_bytes() == big.read_bytes()

    # Range, copy, delete through s3api.
    ranged = tmp_path / "range.bin"
    aws_s3(server, "s3api", "get-object", "--bucket", name, "--key", "deploy/package.zip", "--range", "bytes=100-199", ranged)
    assert ranged.read_bytes() == big.read_bytes()[100:200]
    aws_s3(server, "s3api", "copy-object", "--bucket", name, "--key", "copy.txt", "--copy-source", f"{name}/small.txt")
    copied = tmp_path / "copy.txt"
    aws_s3(server, "s3api", "get-object", "--bucket", name, "--key", "copy.txt", copied)
    assert copied.read_text() == "hello"
    aws_s3(server, "s3api", "delete-object", "--bucket", name, "--key", "copy.txt")
    gone = aws_s3(server, "s3api", "head-object", "--bucket", name, "--key", "copy.txt", check=False)
    assert gone.returncode != 0 and "404" in gone.stderr

    # rb --force empties the bucket (DeleteObjects) and deletes it.
    aws_s3(server, "s3", "rb", f"s3://{name}", "--force")
    assert name not in aws_s3(server, "s3", "ls").stdout


def test_cli_versioning(server, tmp_path):
    import json

    name = bucket_name()
    aws_s3(server, "s3", "mb", f"s3://{name}")
    aws_s3(server, "s3api", "put-bucket-versioning", "--bucket", name, "--versioning-configuration", "Status=Enabled")
    status = json.loads(aws_s3(server, "s3api", "get-bucket-versioning", "--bucket", name, "--output", "json").stdout)
    assert status["Status"] == "Enabled"
    f = tmp_path / "v.txt"
    ids = []
    for content in ("one", "two"):
        f.write_text(content)
        out = aws_s3(server, "s3api", "put-object", "--bucket", name, "--key", "v.txt", "--body", f, "--output", "json")
        ids.append(json.loads(out.stdout)["VersionId"])
    assert ids[0] != ids[1] and "null" not in ids
    versions = json.loads(
        aws_s3(server, "s3api", "list-object-versions", "--bucket", name, "--output", "json").stdout
    )["Versions"]
    assert [(v["VersionId"], v["IsLatest"]) for v in versions] == [(ids[1], True), (ids[0], False)]
    old = tmp_path / "old.txt"
    aws_s3(server, "s3api", "get-object", "--bucket", name, "--key", "v.txt", "--version-id", ids[0], old)
    assert old.read_text() == "one"
    aws_s3(server, "s3", "rb", f"s3://{name}", "--force", check=False)


# --------------------------------------------------------------------------
# boto3
# --------------------------------------------------------------------------


def test_boto3_objects_metadata_and_listing(s3, bucket):
    body = b"x" * 1000
    put = s3.put_object(
        Bucket=bucket, Key="docs/a.txt", Body=body, ContentType="text/plain", Metadata={"Owner": "me"}
    )
    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    assert "VersionId" not in put
    got = s3.get_object(Bucket=bucket, Key="docs/a.txt")
    assert got["Body"].read() == body
    assert got["ContentType"] == "text/plain"
    assert got["ContentLength"] == 1000
    assert got["Metadata"] == {"owner": "me"}
    assert got["ETag"] == put["ETag"]
    assert got["LastModified"] is not None
    part = s3.get_object(Bucket=bucket, Key="docs/a.txt", Range="bytes=-10")
    assert part["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert part["ContentRange"] == "bytes 990-999/1000"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket=bucket, Key="docs/a.txt", Range="bytes=5000-6000")
    assert error_code(e) == "InvalidRange"

    for key in ["docs/b.txt", "docs/sub/c.txt", "top.txt"]:
        s3.put_object(Bucket=bucket, Key=key, Body=b"1")
    page = s3.list_objects_v2(Bucket=bucket, Delimiter="/", Prefix="docs/")
    assert [o["Key"] for o in page["Contents"]] == ["docs/a.txt", "docs/b.txt"]
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["docs/sub/"]
    keys, token = [], None
    while True:
        kwargs = {"ContinuationToken": token} if token else {}
        page = s3.list_objects_v2(Bucket=bucket, MaxKeys=1, **kwargs)
        keys += [o["Key"] for o in page.get("Contents", [])]
        if not page["IsTruncated"]:
            break
        token = page["NextContinuationToken"]
    assert keys == ["docs/a.txt", "docs/b.txt", "docs/sub/c.txt", "top.txt"]
    v1 = s3.list_objects(Bucket=bucket, Delimiter="/")
    assert [o["Key"] for o in v1["Contents"]] == ["top.txt"]
    assert [p["Prefix"] for p in v1["CommonPrefixes"]] == ["docs/"]

    deleted = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "top.txt"}, {"Key": "absent"}]})
    assert sorted(d["Key"] for d in deleted["Deleted"]) == ["absent", "top.txt"]
    assert s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] is None
    s3.head_bucket(Bucket=bucket)


def test_boto3_checksums_header_and_trailer(s3, bucket, monkeypatch):
    body = os.urandom(100_000)
    # Over plain HTTP botocore sends the checksum as a header...
    put = s3.put_object(Bucket=bucket, Key="h", Body=body, ChecksumAlgorithm="SHA256")
    assert put["ChecksumSHA256"]
    got = s3.get_object(Bucket=bucket, Key="h", ChecksumMode="ENABLED")
    assert got["Body"].read() == body and got["ChecksumSHA256"] == put["ChecksumSHA256"]
    # ...and over TLS as an aws-chunked trailer (STREAMING-UNSIGNED-PAYLOAD-TRAILER): make it think it is TLS.
    monkeypatch.setattr(botocore.httpchecksum, "urlparse", lambda url: types.SimpleNamespace(scheme="https"))
    sent = {}
    s3.meta.events.register("before-send.s3.PutObject", lambda request, **kw: sent.update(request.headers))
    put = s3.put_object(Bucket=bucket, Key="t", Body=body, ChecksumAlgorithm="CRC32")
    assert sent.get("X-Amz-Content-SHA256") == b"STREAMING-UNSIGNED-PAYLOAD-TRAILER" or sent.get(
        "X-Amz-Content-SHA256"
    ) == "STREAMING-UNSIGNED-PAYLOAD-TRAILER", sent
    assert put["ChecksumCRC32"]
    assert s3.get_object(Bucket=bucket, Key="t")["Body"].read() == body
    # A checksum that does not match the body is refused.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object(Bucket=bucket, Key="bad", Body=body, ChecksumCRC32="AAAAAA==")
    assert error_code(e) == "BadDigest"


def test_signed_aws_chunked_upload(server, s3, bucket):
    """STREAMING-AWS4-HMAC-SHA256-PAYLOAD: every chunk signed, as the Java SDK and older CLIs send it."""
    chunks = [os.urandom(64 * 1024), os.urandom(1000), b""]
    total = sum(len(c) for c in chunks)
    path = f"/{bucket}/chunked"
    req = AWSRequest(
        method="PUT",
        url=server.url + path,
        headers={
            "X-Amz-Content-SHA256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
            "Content-Encoding": "aws-chunked",
            "X-Amz-Decoded-Content-Length": str(total),
        },
    )
    SigV4Auth(Credentials("test", "test"), "s3", REGION).add_auth(req)
    headers = dict(req.headers)
    amz_date = headers["X-Amz-Date"]
    seed = headers["Authorization"].rsplit("Signature=", 1)[1]
    scope = f"{amz_date[:8]}/{REGION}/s3/aws4_request"
    key = b"AWS4test"
    for part in (amz_date[:8], REGION, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    previous, wire = seed, b""
    for chunk in chunks:
        to_sign = "\n".join(
            [
                "AWS4-HMAC-SHA256-PAYLOAD",
                amz_date,
                scope,
                previous,
                hashlib.sha256(b"").hexdigest(),
                hashlib.sha256(chunk).hexdigest(),
            ]
        )
        previous = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        wire += f"{len(chunk):x};chunk-signature={previous}\r\n".encode() + chunk + b"\r\n"
    headers["Content-Length"] = str(len(wire))
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.request("PUT", path, body=wire, headers=headers)
    resp = conn.getresponse()
    resp_body = resp.read()
    conn.close()
    assert resp.status == 200, resp_body
    assert s3.get_object(Bucket=bucket, Key="chunked")["Body"].read() == b"".join(chunks)


def test_boto3_multipart_api(s3, bucket):
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp", ContentType="application/zip")
    uid = up["UploadId"]
    part1, part2 = os.urandom(5 * MiB), os.urandom(100)
    e1 = s3.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=1, Body=part1)["ETag"]
    e2 = s3.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=2, Body=part2)["ETag"]
    assert [p["PartNumber"] for p in s3.list_parts(Bucket=bucket, Key="mp", UploadId=uid)["Parts"]] == [1, 2]
    assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket)["Uploads"]] == [uid]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.complete_multipart_upload(
            Bucket=bucket, Key="mp", UploadId=uid, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e2}]}
        )
    assert error_code(e) == "InvalidPart"
    done = s3.complete_multipart_upload(
        Bucket=bucket,
        Key="mp",
        UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]},
    )
    expected = hashlib.md5(hashlib.md5(part1).digest() + hashlib.md5(part2).digest()).hexdigest() + "-2"
    assert done["ETag"] == f'"{expected}"'
    got = s3.get_object(Bucket=bucket, Key="mp")
    assert got["Body"].read() == part1 + part2 and got["ContentType"] == "application/zip"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.list_parts(Bucket=bucket, Key="mp", UploadId=uid)
    assert error_code(e) == "NoSuchUpload"
    aborted = s3.create_multipart_upload(Bucket=bucket, Key="gone")["UploadId"]
    s3.abort_multipart_upload(Bucket=bucket, Key="gone", UploadId=aborted)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.upload_part(Bucket=bucket, Key="gone", UploadId=aborted, PartNumber=1, Body=b"x")
    assert error_code(e) == "NoSuchUpload"


def test_boto3_versioning_and_delete_markers(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"before")
    assert s3.get_bucket_versioning(Bucket=bucket).get("Status") is None
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="k", Body=b"two")["VersionId"]
    assert s3.get_object(Bucket=bucket, Key="k", VersionId=v1)["Body"].read() == b"one"
    assert s3.get_object(Bucket=bucket, Key="k", VersionId="null")["Body"].read() == b"before"
    deleted = s3.delete_object(Bucket=bucket, Key="k")
    assert deleted["DeleteMarker"] is True
    marker = deleted["VersionId"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket=bucket, Key="k")
    assert error_code(e) == "NoSuchKey"
    assert e.value.response["ResponseMetadata"]["HTTPHeaders"].get("x-amz-delete-marker") == "true"
    listing = s3.list_object_versions(Bucket=bucket)
    assert [(m["VersionId"], m["IsLatest"]) for m in listing["DeleteMarkers"]] == [(marker, True)]
    assert [v["VersionId"] for v in listing["Versions"]] == [v2, v1, "null"]
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
    s3.delete_object(Bucket=bucket, Key="k", VersionId=marker)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"two"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket=bucket, Key="k", VersionId=uuid.uuid4().hex)
    assert error_code(e) == "NoSuchVersion"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.delete_bucket(Bucket=bucket)
    assert error_code(e) == "BucketNotEmpty"
    copied = s3.copy_object(Bucket=bucket, Key="k2", CopySource={"Bucket": bucket, "Key": "k", "VersionId": v1})
    assert copied["CopySourceVersionId"] == v1 and copied["VersionId"]
    assert s3.get_object(Bucket=bucket, Key="k2")["Body"].read() == b"one"


def test_errors(server, s3, bucket):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket=bucket_name(), Key="k")
    assert error_code(e) == "NoSuchBucket"
    assert e.value.response["Error"]["Message"] == "The specified bucket does not exist"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket=bucket, Key="missing")
    assert error_code(e) == "NoSuchKey"
    assert e.value.response["Error"]["Message"] == "The specified key does not exist."
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.create_bucket(Bucket=bucket)
    assert error_code(e) == "BucketAlreadyOwnedByYou"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3_client(server, secret="wrong").list_buckets()
    assert error_code(e) == "SignatureDoesNotMatch"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3_client(server, key="nobody").list_buckets()
    assert error_code(e) == "InvalidAccessKeyId"
    # Unsigned requests to S3's host names are refused, as S3 refuses anonymous access to private buckets.
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", f"/{bucket}", headers={"Host": f"s3.localhost:{server.port}"})
    resp = conn.getresponse()
    assert resp.status == 403 and b"AccessDenied" in resp.read()
    conn.close()


def test_bucket_named_like_the_lambda_api_and_lambda_still_works(server, s3, lam):
    name = "2015-03-31"
    try:
        s3.create_bucket(Bucket=name)
    except botocore.exceptions.ClientError as e:
        assert error_code(e) == "BucketAlreadyOwnedByYou"
    s3.put_object(Bucket=name, Key="functions", Body=b"not a lambda route")
    assert s3.get_object(Bucket=name, Key="functions")["Body"].read() == b"not a lambda route"
    assert "Functions" in lam.list_functions()
    s3.delete_object(Bucket=name, Key="functions")
    s3.delete_bucket(Bucket=name)


def test_virtual_hosted_style(server, bucket, s3):
    """boto3 with `addressing_style=virtual` and endpoint http://s3.localhost:PORT.

    `*.localhost` names resolve to the loopback on many systems but not all
    (glibc without nss-myhostname does not): where they do not, the requests
    are sent to 127.0.0.1 with the virtual-hosted Host header they were signed with.
    """
    try:
        resolves = socket.getaddrinfo(f"{bucket}.s3.localhost", server.port)[0][4][0] in ("127.0.0.1", "::1")
    except socket.gaierror:
        resolves = False
    vs3 = s3_client(server, addressing="virtual", endpoint=f"http://s3.localhost:{server.port}")
    hosts = []

    def to_loopback(request, **kwargs):
        host = request.url.split("/")[2]
        hosts.append(host)
        if not resolves:
            request.headers["Host"] = host
            request.url = request.url.replace(host, f"127.0.0.1:{server.port}", 1)

    vs3.meta.events.register("before-send.s3", to_loopback)
    vs3.put_object(Bucket=bucket, Key="dir/v.txt", Body=b"virtual")
    assert vs3.get_object(Bucket=bucket, Key="dir/v.txt")["Body"].read() == b"virtual"
    assert [o["Key"] for o in vs3.list_objects_v2(Bucket=bucket)["Contents"]] == ["dir/v.txt"]
    assert hosts and all(h == f"{bucket}.s3.localhost:{server.port}" for h in hosts), hosts
    # The path-style client sees the same object.
    assert s3.get_object(Bucket=bucket, Key="dir/v.txt")["Body"].read() == b"virtual"


def test_kill9_right_after_put_loses_nothing(fresh):
    s3 = s3_client(fresh)
    name = bucket_name()
    s3.create_bucket(Bucket=name)
    bodies = {f"k{i}": os.urandom(1000 + i) for i in range(5)}
    for key, body in bodies.items():
        s3.put_object(Bucket=name, Key=key, Body=body)
    big = os.urandom(6 * MiB)
    up = s3.create_multipart_upload(Bucket=name, Key="mp")["UploadId"]
    e1 = s3.upload_part(Bucket=name, Key="mp", UploadId=up, PartNumber=1, Body=big)["ETag"]
    s3.complete_multipart_upload(
        Bucket=name, Key="mp", UploadId=up, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}]}
    )
    fresh.kill9()
    fresh.start()
    s3 = s3_client(fresh)
    for key, body in bodies.items():
        assert s3.get_object(Bucket=name, Key=key)["Body"].read() == body
    assert s3.get_object(Bucket=name, Key="mp")["Body"].read() == big
    tmp = Path(fresh.data_dir) / "s3" / "tmp"
    assert not any(tmp.iterdir())
