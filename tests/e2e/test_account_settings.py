"""GetAccountSettings: AWS's shape, the documented default limits, and usage that
follows creates, code updates and deletes.

AWS: API_GetAccountSettings.html, API_AccountLimit.html, API_AccountUsage.html;
the quotas page gives 50 MB zipped (52428800) and 250 MB unzipped (262144000).
"""

from __future__ import annotations

from support import aws_error, create_function, make_zip, python_zip


def test_shape_and_limits(fresh):
    resp = fresh.client().get_account_settings()
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    limit = resp["AccountLimit"]
    assert limit["CodeSizeUnzipped"] == 262144000
    assert limit["CodeSizeZipped"] == 52428800
    for key in ("TotalCodeSize", "ConcurrentExecutions", "UnreservedConcurrentExecutions"):
        assert isinstance(limit[key], int) and limit[key] > 0, f"AccountLimit.{key} = {limit.get(key)!r}"
    assert limit["UnreservedConcurrentExecutions"] <= limit["ConcurrentExecutions"]
    assert limit["TotalCodeSize"] >= limit["CodeSizeZipped"]
    usage = resp["AccountUsage"]
    assert usage == {"TotalCodeSize": 0, "FunctionCount": 0}


def test_usage_follows_creates_updates_and_deletes(fresh):
    lam = fresh.client()
    a = python_zip(marker="a")
    b = make_zip({"app.py": "def handler(e, c):\n    return 2\n", "pad.txt": "p" * 3000})
    create_function(lam, "usage-a", a)
    create_function(lam, "usage-b", b)
    usage = lam.get_account_settings()["AccountUsage"]
    assert usage == {"TotalCodeSize": len(a) + len(b), "FunctionCount": 2}

    c = make_zip({"app.py": "def handler(e, c):\n    return 3\n", "pad.txt": "q" * 9000})
    lam.update_function_code(FunctionName="usage-a", ZipFile=c)
    usage = lam.get_account_settings()["AccountUsage"]
    assert usage == {"TotalCodeSize": len(c) + len(b), "FunctionCount": 2}

    lam.delete_function(FunctionName="usage-b")
    usage = lam.get_account_settings()["AccountUsage"]
    assert usage == {"TotalCodeSize": len(c), "FunctionCount": 1}


def test_rejected_create_does_not_count(fresh):
    lam = fresh.client()
    with aws_error(lam, "InvalidParameterValueException", 400):
        create_function(lam, "bad", b"not a zip")
    assert lam.get_account_settings()["AccountUsage"] == {"TotalCodeSize": 0, "FunctionCount": 0}
