"""Tags (TagResource, UntagResource, ListTags by function ARN) and DeleteFunction.

AWS: API_TagResource.html (204), API_UntagResource.html (204), API_ListTags.html,
API_DeleteFunction.html (204); GetFunction returns the tags in `Tags`.
"""

from __future__ import annotations

from support import ACCOUNT, REGION, aws_error, create_function, python_zip, unique_name


def _arn(name, region=REGION):
    return f"arn:aws:lambda:{region}:{ACCOUNT}:function:{name}"


# -- tags --------------------------------------------------------------------------------


def test_tags_given_at_create_are_listed_and_returned_by_get_function(lam):
    name = unique_name("tags")
    tags = {"team": "platform", "env": "dev", "empty-value": ""}
    create_function(lam, name, Tags=tags)
    assert lam.list_tags(Resource=_arn(name))["Tags"] == tags
    assert lam.get_function(FunctionName=name)["Tags"] == tags


def test_function_without_tags_lists_none(lam):
    name = unique_name("notags")
    create_function(lam, name)
    assert lam.list_tags(Resource=_arn(name))["Tags"] == {}


def test_tag_merges_and_overwrites_untag_removes(lam):
    name = unique_name("tagops")
    create_function(lam, name, Tags={"team": "a", "env": "dev"})

    resp = lam.tag_resource(Resource=_arn(name), Tags={"env": "prod", "cost-center": "42"})
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert lam.list_tags(Resource=_arn(name))["Tags"] == {"team": "a", "env": "prod", "cost-center": "42"}

    resp = lam.untag_resource(Resource=_arn(name), TagKeys=["team", "not-there"])
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert lam.list_tags(Resource=_arn(name))["Tags"] == {"env": "prod", "cost-center": "42"}
    assert lam.get_function(FunctionName=name)["Tags"] == {"env": "prod", "cost-center": "42"}


def test_tags_survive_code_and_configuration_updates(lam):
    name = unique_name("tagkeep")
    create_function(lam, name, Tags={"k": "v"})
    lam.update_function_code(FunctionName=name, ZipFile=python_zip(marker="2"))
    lam.update_function_configuration(FunctionName=name, Timeout=11)
    assert lam.list_tags(Resource=_arn(name))["Tags"] == {"k": "v"}


def test_tag_keys_with_aws_allowed_characters(lam):
    name = unique_name("tagchars")
    create_function(lam, name)
    tags = {"aws-like:key/with.chars_+=@": "value with spaces", "Name": "Ünicode välue"}
    lam.tag_resource(Resource=_arn(name), Tags=tags)
    assert lam.list_tags(Resource=_arn(name))["Tags"] == tags


def test_list_tags_of_unknown_function_is_not_found(lam):
    with aws_error(lam, "ResourceNotFoundException", 404):
        lam.list_tags(Resource=_arn(unique_name("nosuch")))


def test_tag_unknown_function_is_not_found(lam):
    name = unique_name("nosuch")
    with aws_error(lam, "ResourceNotFoundException", 404):
        lam.tag_resource(Resource=_arn(name), Tags={"a": "b"})
    with aws_error(lam, "ResourceNotFoundException", 404):
        lam.get_function(FunctionName=name)


def test_untag_unknown_function_is_not_found(lam):
    with aws_error(lam, "ResourceNotFoundException", 404):
        lam.untag_resource(Resource=_arn(unique_name("nosuch")), TagKeys=["a"])


# -- delete ------------------------------------------------------------------------------


def test_delete_then_not_found_and_gone_from_list(lam):
    name = unique_name("del")
    create_function(lam, name)
    resp = lam.delete_function(FunctionName=name)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    with aws_error(lam, "ResourceNotFoundException", 404) as e:
        lam.get_function(FunctionName=name)
    assert e.message == f"Function not found: {_arn(name)}"
    listed = [f["FunctionName"] for f in lam.get_paginator("list_functions").paginate().build_full_result()["Functions"]]
    assert name not in listed


def test_delete_missing_function_is_not_found(lam):
    name = unique_name("delmissing")
    with aws_error(lam, "ResourceNotFoundException", 404) as e:
        lam.delete_function(FunctionName=name)
    assert e.message == f"Function not found: {_arn(name)}"


def test_delete_twice(lam):
    name = unique_name("deltwice")
    create_function(lam, name)
    lam.delete_function(FunctionName=name)
    with aws_error(lam, "ResourceNotFoundException", 404):
        lam.delete_function(FunctionName=name)


def test_delete_by_arn(lam):
    name = unique_name("delarn")
    create_function(lam, name)
    lam.delete_function(FunctionName=_arn(name))
    with aws_error(lam, "ResourceNotFoundException", 404):
        lam.get_function(FunctionName=name)


def test_recreate_after_delete_starts_afresh(lam):
    name = unique_name("recreate")
    first = create_function(lam, name, python_zip(marker="old"), Tags={"old": "tag"}, Timeout=30,
                            Environment={"Variables": {"OLD": "1"}})
    lam.delete_function(FunctionName=name)
    second = create_function(lam, name, python_zip(marker="new"))
    assert second["RevisionId"] != first["RevisionId"]
    assert second["CodeSha256"] != first["CodeSha256"]
    assert second["Timeout"] == 3
    assert lam.list_tags(Resource=_arn(name))["Tags"] == {}, "tags of the deleted function came back"
    cfg = lam.get_function_configuration(FunctionName=name)
    assert cfg.get("Environment", {}).get("Variables", {}) == {}


def test_tags_of_deleted_function_are_not_found(lam):
    name = unique_name("deltags")
    create_function(lam, name, Tags={"a": "b"})
    lam.delete_function(FunctionName=name)
    with aws_error(lam, "ResourceNotFoundException", 404):
        lam.list_tags(Resource=_arn(name))
