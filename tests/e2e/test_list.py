"""ListFunctions: pagination with MaxItems and Marker/NextMarker.

AWS (API_ListFunctions): up to 50 functions per call by default, NextMarker
present only when more remain; functions come in a stable order (by name;
AWS-verified LocalStack snapshots page by function ARN, i.e. by name within
one account and region). ListFunctions returns a subset of
FunctionConfiguration (no State/LastUpdateStatus), so only the shared fields
are compared with GetFunctionConfiguration.
"""

from __future__ import annotations

import random

import pytest

from support import ACCOUNT, REGION, aws_error, create_function, python_zip

SHARED_FIELDS = (
    "FunctionName", "FunctionArn", "Runtime", "Handler", "Role", "CodeSize", "CodeSha256",
    "Description", "Timeout", "MemorySize", "Version", "LastModified", "RevisionId", "PackageType",
)


def _create_many(client, names):
    order = list(names)
    random.Random(7).shuffle(order)  # creation order must not decide listing order
    for i, name in enumerate(order):
        create_function(client, name, python_zip(marker=name), Timeout=3 + i)


def _page_through(client, max_items):
    pages = []
    marker = None
    while True:
        kwargs = {"MaxItems": max_items}
        if marker:
            kwargs["Marker"] = marker
        resp = client.list_functions(**kwargs)
        pages.append(resp["Functions"])
        marker = resp.get("NextMarker")
        if not marker:
            return pages
        assert len(pages) < 50, "pagination does not terminate"


def test_pages_of_five_cover_twelve_functions_once_in_name_order(fresh):
    lam = fresh.client()
    names = [f"page-{i:02d}-{c}" for i, c in zip(range(12), "qwertyuiopas")]
    _create_many(lam, names)

    pages = _page_through(lam, 5)
    assert [len(p) for p in pages] == [5, 5, 2]
    seen = [f["FunctionName"] for page in pages for f in page]
    assert len(seen) == len(set(seen)), f"a function was listed twice: {seen}"
    assert set(seen) == set(names)
    assert seen == sorted(names), f"not in name order: {seen}"


def test_last_page_has_no_next_marker_and_exact_fit_works(fresh):
    lam = fresh.client()
    names = [f"fit-{i}" for i in range(6)]
    _create_many(lam, names)
    pages = _page_through(lam, 3)
    assert [len(p) for p in pages] == [3, 3]
    resp = lam.list_functions(MaxItems=6)
    assert len(resp["Functions"]) == 6
    assert "NextMarker" not in resp or not resp["NextMarker"]


def test_default_list_returns_all_when_under_fifty(fresh):
    lam = fresh.client()
    names = [f"all-{i:02d}" for i in range(12)]
    _create_many(lam, names)
    resp = lam.list_functions()
    assert [f["FunctionName"] for f in resp["Functions"]] == sorted(names)
    assert not resp.get("NextMarker")


def test_empty_server_lists_nothing(fresh):
    resp = fresh.client().list_functions()
    assert resp["Functions"] == []
    assert not resp.get("NextMarker")


def test_listed_entries_match_get_function_configuration(fresh):
    lam = fresh.client()
    _create_many(lam, ["match-a", "match-b", "match-c"])
    lam.update_function_configuration(FunctionName="match-b", Description="changed", MemorySize=256)
    for listed in lam.list_functions()["Functions"]:
        cfg = lam.get_function_configuration(FunctionName=listed["FunctionName"])
        for key in SHARED_FIELDS:
            assert listed[key] == cfg[key], f"{listed['FunctionName']}.{key}: list {listed[key]!r} != get {cfg[key]!r}"
        assert listed["FunctionArn"] == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{listed['FunctionName']}"


def test_deleted_function_leaves_the_listing_and_pages_stay_consistent(fresh):
    lam = fresh.client()
    names = [f"del-{i:02d}" for i in range(7)]
    _create_many(lam, names)
    first = lam.list_functions(MaxItems=3)
    lam.delete_function(FunctionName="del-05")
    rest = []
    marker = first["NextMarker"]
    while marker:
        resp = lam.list_functions(MaxItems=3, Marker=marker)
        rest += resp["Functions"]
        marker = resp.get("NextMarker")
    seen = [f["FunctionName"] for f in first["Functions"] + rest]
    assert seen == [n for n in sorted(names) if n != "del-05"]


def test_pagination_through_the_aws_paginator(fresh):
    lam = fresh.client()
    names = [f"pg-{i:02d}" for i in range(11)]
    _create_many(lam, names)
    paginator = lam.get_paginator("list_functions")
    seen = [f["FunctionName"] for page in paginator.paginate(PaginationConfig={"PageSize": 4}) for f in page["Functions"]]
    assert seen == sorted(names)


def test_at_most_fifty_per_page_even_if_more_are_asked(fresh):
    # API_ListFunctions, MaxItems: "ListFunctions returns a maximum of 50 items in each response,
    # even if you set the number higher."
    lam = fresh.client()
    names = [f"many-{i:03d}" for i in range(55)]
    for name in names:
        create_function(lam, name, python_zip(marker=name))
    for kwargs in ({}, {"MaxItems": 100}):
        first = lam.list_functions(**kwargs)
        assert len(first["Functions"]) == 50, kwargs
        assert first.get("NextMarker"), kwargs
        second = lam.list_functions(Marker=first["NextMarker"], **kwargs)
        assert [f["FunctionName"] for f in first["Functions"] + second["Functions"]] == names
        assert not second.get("NextMarker")


@pytest.mark.parametrize("max_items", [0, 10001])
def test_max_items_out_of_range_is_a_validation_error(fresh, max_items):
    # API_ListFunctions: MaxItems between 1 and 10000.
    lam = fresh.client()
    with aws_error(lam, "ValidationException", 400) as e:
        lam.list_functions(MaxItems=max_items)
    assert "maxItems" in e.message
