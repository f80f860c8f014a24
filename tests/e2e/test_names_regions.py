"""How a function is named in request paths (name, partial ARN, full ARN) and how
the region of the request's SigV4 credential scope decides the ARN.

AWS (API_GetFunction, FunctionName): "Function name – my-function; Function ARN –
arn:aws:lambda:us-west-2:123456789012:function:my-function; Partial ARN –
123456789012:function:my-function". Regions are separate: a function exists in
the region it was created in only.
"""

from __future__ import annotations

import pytest

from support import ACCOUNT, REGION, aws_error, create_function, download, python_zip, unique_name


def _forms(name, region=REGION):
    return {
        "name": name,
        "partial-arn": f"{ACCOUNT}:function:{name}",
        "full-arn": f"arn:aws:lambda:{region}:{ACCOUNT}:function:{name}",
    }


@pytest.mark.parametrize("form", ["name", "partial-arn", "full-arn"])
def test_get_by_every_name_form(lam, form):
    name = unique_name("form")
    zip_bytes = python_zip(marker=name)
    created = create_function(lam, name, zip_bytes)
    ident = _forms(name)[form]
    got = lam.get_function(FunctionName=ident)
    assert got["Configuration"]["FunctionName"] == name
    assert got["Configuration"]["FunctionArn"] == created["FunctionArn"]
    assert download(got["Code"]["Location"]) == zip_bytes
    assert lam.get_function_configuration(FunctionName=ident)["RevisionId"] == created["RevisionId"]


@pytest.mark.parametrize("form", ["partial-arn", "full-arn"])
def test_update_and_delete_by_arn_forms(lam, form):
    name = unique_name("formupd")
    create_function(lam, name)
    ident = _forms(name)[form]
    assert lam.update_function_configuration(FunctionName=ident, Timeout=12)["Timeout"] == 12
    new = python_zip(marker="new")
    lam.update_function_code(FunctionName=ident, ZipFile=new)
    assert download(lam.get_function(FunctionName=name)["Code"]["Location"]) == new
    lam.delete_function(FunctionName=ident)
    with aws_error(lam, "ResourceNotFoundException", 404):
        lam.get_function(FunctionName=name)


def test_missing_function_by_full_arn_names_that_arn(lam):
    name = unique_name("nosucharn")
    arn = _forms(name)["full-arn"]
    with aws_error(lam, "ResourceNotFoundException", 404) as e:
        lam.get_function(FunctionName=arn)
    assert e.message == f"Function not found: {arn}"


def test_arn_follows_the_client_region(lam_west):
    name = unique_name("west")
    resp = create_function(lam_west, name)
    assert resp["FunctionArn"] == f"arn:aws:lambda:us-west-2:{ACCOUNT}:function:{name}"
    got = lam_west.get_function(FunctionName=name)["Configuration"]
    assert got["FunctionArn"] == f"arn:aws:lambda:us-west-2:{ACCOUNT}:function:{name}"
    assert lam_west.get_function(FunctionName=_forms(name, "us-west-2")["full-arn"])["Configuration"]["FunctionName"] == name
    # The shared server holds more than one page (50) of functions.
    pages = lam_west.get_paginator("list_functions").paginate()
    listed = {f["FunctionName"]: f for page in pages for f in page["Functions"]}
    assert listed[name]["FunctionArn"] == resp["FunctionArn"]
    assert lam_west.list_tags(Resource=resp["FunctionArn"])["Tags"] == {}


def test_missing_function_message_uses_the_client_region(lam_west):
    name = unique_name("westmissing")
    with aws_error(lam_west, "ResourceNotFoundException", 404) as e:
        lam_west.get_function(FunctionName=name)
    assert e.message == f"Function not found: arn:aws:lambda:us-west-2:{ACCOUNT}:function:{name}"


def test_create_with_full_arn_as_function_name(lam):
    # API_CreateFunction: FunctionName may be a name, an ARN or a partial ARN.
    name = unique_name("createarn")
    resp = create_function(lam, _forms(name)["full-arn"])
    assert resp["FunctionName"] == name
    assert lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"] == _forms(name)["full-arn"]


def test_qualifier_latest_is_the_function(lam):
    # API_GetFunction: Qualifier "Specify a version or alias"; $LATEST is the unpublished version.
    name = unique_name("qual")
    created = create_function(lam, name)
    got = lam.get_function(FunctionName=name, Qualifier="$LATEST")["Configuration"]
    assert got["RevisionId"] == created["RevisionId"]
    assert got["Version"] == "$LATEST"
    cfg = lam.get_function_configuration(FunctionName=name, Qualifier="$LATEST")
    assert cfg["RevisionId"] == created["RevisionId"]


def test_unpublished_version_is_not_found(lam):
    # No version 1 was published: AWS answers 404 naming the qualified ARN.
    name = unique_name("qualmissing")
    create_function(lam, name)
    with aws_error(lam, "ResourceNotFoundException", 404) as e:
        lam.get_function(FunctionName=name, Qualifier="1")
    assert e.message == f"Function not found: arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}:1"
