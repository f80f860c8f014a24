"""S3 operations the endpoint does not implement get `501 NotImplemented` and change nothing.

Before the fix, s3s fell back to method-and-path routing for operations it
did not know: `PUT /b/k?encryption` replaced the object with the XML body,
`DELETE /b/k?annotation` deleted it, `PUT /b/dst?renameObject` wrote an empty
object and `DELETE /b?metadataConfiguration` deleted the bucket. Each is sent
here by boto3 itself (the operations are in its model) and as raw signed
requests for the variants boto3 has no method for; after each, the bucket
and its objects are exactly as they were.
"""

from __future__ import annotations

import http.client
import uuid

import boto3
import botocore.exceptions
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from support import REGION

BODY = b"precious bytes\n"


@pytest.fixture
def s3(server):
    return boto3.client(
        "s3",
        endpoint_url=server.url,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1, "mode": "standard"}),
    )


@pytest.fixture
def bucket(s3):
    name = f"ni-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="k", Body=BODY)
    s3.put_object(Bucket=name, Key="dst", Body=b"destination")
    return name


def unchanged(s3, bucket):
    s3.head_bucket(Bucket=bucket)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == BODY
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"destination"
    assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]) == ["dst", "k"]


def not_implemented(excinfo):
    error = excinfo.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 501, error
    assert error["Error"]["Code"] == "NotImplemented", error


def test_update_object_encryption_does_not_replace_the_object(s3, bucket):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.update_object_encryption(
            Bucket=bucket, Key="k", ObjectEncryption={"SSEKMS": {"KMSKeyArn": "arn:aws:kms:us-east-1:000000000000:key/x"}}
        )
    not_implemented(e)
    unchanged(s3, bucket)


def test_delete_object_annotation_does_not_delete_the_object(s3, bucket):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.delete_object_annotation(Bucket=bucket, Key="k", AnnotationName="note")
    not_implemented(e)
    unchanged(s3, bucket)


def test_rename_object_does_not_write_the_destination(s3, bucket):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.rename_object(Bucket=bucket, Key="dst", RenameSource=f"{bucket}/k")
    not_implemented(e)
    unchanged(s3, bucket)


def test_delete_bucket_metadata_configuration_does_not_delete_the_bucket(s3, bucket):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.delete_bucket_metadata_configuration(Bucket=bucket)
    not_implemented(e)
    unchanged(s3, bucket)


@pytest.mark.parametrize(
    "call",
    [
        lambda s3, b: s3.put_object_tagging(Bucket=b, Key="k", Tagging={"TagSet": [{"Key": "a", "Value": "b"}]}),
        lambda s3, b: s3.delete_object_tagging(Bucket=b, Key="k"),
        lambda s3, b: s3.put_object_acl(Bucket=b, Key="k", ACL="private"),
        lambda s3, b: s3.put_object_retention(Bucket=b, Key="k", Retention={"Mode": "GOVERNANCE"}),
        lambda s3, b: s3.restore_object(Bucket=b, Key="k", RestoreRequest={"Days": 1}),
        lambda s3, b: s3.delete_bucket_tagging(Bucket=b),
        lambda s3, b: s3.delete_bucket_cors(Bucket=b),
        lambda s3, b: s3.delete_bucket_encryption(Bucket=b),
        lambda s3, b: s3.delete_bucket_lifecycle(Bucket=b),
        lambda s3, b: s3.get_object_attributes(Bucket=b, Key="k", ObjectAttributes=["ETag"]),
    ],
    ids=[
        "PutObjectTagging",
        "DeleteObjectTagging",
        "PutObjectAcl",
        "PutObjectRetention",
        "RestoreObject",
        "DeleteBucketTagging",
        "DeleteBucketCors",
        "DeleteBucketEncryption",
        "DeleteBucketLifecycle",
        "GetObjectAttributes",
    ],
)
def test_other_unimplemented_operations_change_nothing(s3, bucket, call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call(s3, bucket)
    assert e.value.response["Error"]["Code"] == "NotImplemented", e.value.response
    unchanged(s3, bucket)


def signed(server, method, path, body=b"", headers=None, host=None):
    req = AWSRequest(method=method, url=server.url + path, data=body, headers=dict(headers or {}))
    if host:
        req.headers["Host"] = host
    req.headers["X-Amz-Content-SHA256"] = __import__("hashlib").sha256(body).hexdigest()
    SigV4Auth(Credentials("test", "test"), "s3", REGION).add_auth(req)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.request(method, path, body=body, headers=dict(req.headers))
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, data


@pytest.mark.parametrize(
    "method,path",
    [
        ("PUT", "/{b}/k?encryption"),
        ("DELETE", "/{b}/k?annotation"),
        ("PUT", "/{b}/dst?renameObject"),
        ("DELETE", "/{b}?metadataConfiguration"),
        ("DELETE", "/{b}/?metadataTable"),
        ("PUT", "/{b}/k?someOperationS3AddsNextYear"),
        ("DELETE", "/{b}/k?someOperationS3AddsNextYear=1"),
        ("POST", "/{b}/k?someOperationS3AddsNextYear"),
        ("DELETE", "/{b}?someOperationS3AddsNextYear"),
        ("GET", "/{b}/k?someOperationS3AddsNextYear"),
    ],
)
def test_raw_requests_for_unknown_operations_change_nothing(server, s3, bucket, method, path):
    status, data = signed(server, method, path.format(b=bucket), body=b"<Xml>replacement</Xml>" if method != "GET" else b"")
    assert status == 501, data
    assert b"<Code>NotImplemented</Code>" in data, data
    unchanged(s3, bucket)


def test_virtual_hosted_unknown_operations_change_nothing(server, s3, bucket):
    host = f"{bucket}.s3.localhost:{server.port}"
    for method, path in [("DELETE", "/?metadataConfiguration"), ("PUT", "/k?encryption"), ("DELETE", "/k?annotation")]:
        status, data = signed(server, method, path, host=host)
        assert status == 501, (method, path, data)
    unchanged(s3, bucket)


def test_preconditions_on_writes_are_refused_not_ignored(s3, bucket):
    """Ignoring `If-None-Match: *` would overwrite the object the client meant to keep."""
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object(Bucket=bucket, Key="k", Body=b"overwrite", IfNoneMatch="*")
    not_implemented(e)
    unchanged(s3, bucket)


def test_implemented_operations_still_work(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    assert s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] in (None, REGION)
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp")
    part = s3.upload_part(Bucket=bucket, Key="mp", UploadId=up["UploadId"], PartNumber=1, Body=b"x")
    assert s3.list_parts(Bucket=bucket, Key="mp", UploadId=up["UploadId"])["Parts"][0]["ETag"] == part["ETag"]
    s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=up["UploadId"], MultipartUpload={"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]}
    )
    assert s3.get_object(Bucket=bucket, Key="mp", ResponseContentType="text/plain")["ContentType"] == "text/plain"
    versions = s3.list_object_versions(Bucket=bucket)["Versions"]
    assert {v["Key"] for v in versions} == {"k", "dst", "mp"}
    s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "mp"}]})
    unchanged(s3, bucket)
