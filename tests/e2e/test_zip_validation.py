"""The deployment package is checked before it is stored: not a zip, empty,
over the size limits, entries or symlinks escaping the package root. Each is an
InvalidParameterValueException whose message says what is wrong, and a rejected
package changes nothing (on create: no function; on update: the old code stays).

AWS texts: "Could not unzip uploaded file. Please check your file, then try to
upload again." and "Unzipped size must be smaller than 262144000 bytes"
(InvalidParameterValueException, seen from UpdateFunctionCode/CreateFunction);
over the request size: RequestEntityTooLargeException (413) "Request must be
smaller than 69905067 bytes for the UpdateFunctionCode operation".
"""

from __future__ import annotations

import functools
import stat

import pytest

from support import (
    MiB,
    aws_error,
    big_unzipped_zip,
    create_function,
    empty_zip,
    make_zip,
    python_zip,
    stored_zip_of_size,
    understated_size_zip,
    unique_name,
)

APP = "def handler(event, context):\n    return event\n"


@functools.lru_cache(maxsize=None)
def huge_single_entry() -> bytes:
    return big_unzipped_zip([251 * MiB])  # > 262144000 bytes unzipped, ~250 KB zipped


@functools.lru_cache(maxsize=None)
def huge_many_entries() -> bytes:
    return big_unzipped_zip([90 * MiB, 90 * MiB, 90 * MiB])  # each under the limit, together over it


@functools.lru_cache(maxsize=None)
def zip_bomb() -> bytes:
    return understated_size_zip(real_size=300 * MiB, claimed_size=1000)


def _assert_rejected_on_create(lam, zip_bytes, *fragments_any):
    name = unique_name("badzip")
    with aws_error(lam, "InvalidParameterValueException", 400) as e:
        create_function(lam, name, zip_bytes)
    low = e.message.lower()
    assert any(f.lower() in low for f in fragments_any), f"message does not say what is wrong: {e.message!r}"
    with aws_error(lam, "ResourceNotFoundException", 404):
        lam.get_function(FunctionName=name)
    return e.message


def test_not_a_zip(lam):
    msg = _assert_rejected_on_create(lam, b"this is plainly not a zip archive", "unzip", "not a zip", "zip")
    assert "unzip" in msg.lower() or "zip" in msg.lower()


def test_truncated_zip(lam):
    good = python_zip(marker="truncated")
    _assert_rejected_on_create(lam, good[: len(good) // 2], "unzip", "zip", "corrupt", "invalid")


def test_empty_bytes(lam):
    _assert_rejected_on_create(lam, b"", "empty", "unzip", "zip")


def test_empty_zip_archive(lam):
    _assert_rejected_on_create(lam, empty_zip(), "empty", "no files", "no entries")


@pytest.mark.parametrize("entry", ["../evil.py", "lib/../../evil.py", "a/b/../../../evil.py"])
def test_zip_slip_entry(lam, entry):
    zip_bytes = make_zip({"app.py": APP, entry: "print('escaped')\n"})
    _assert_rejected_on_create(lam, zip_bytes, entry, "..", "escape", "outside", "travers")


@pytest.mark.parametrize("entry", ["/etc/evil", "/tmp/x.py"])
def test_absolute_path_entry(lam, entry):
    zip_bytes = make_zip({"app.py": APP, entry: "x"})
    _assert_rejected_on_create(lam, zip_bytes, entry, "absolute")


@pytest.mark.parametrize("target", ["../../../etc/passwd", "/etc/passwd", "sub/../../../outside", "../.."])
def test_symlink_pointing_out_of_the_package(lam, target):
    # The link sits in lib/, so each target resolves above the package root.
    zip_bytes = make_zip({"app.py": APP}, symlinks={"lib/link": target})
    _assert_rejected_on_create(lam, zip_bytes, "symlink", "symbolic link", "link", target)


def test_unzipped_size_over_250mb(lam):
    msg = _assert_rejected_on_create(lam, huge_single_entry(), "262144000", "unzipped", "250")
    assert "262144000" in msg or "unzipped" in msg.lower()


def test_unzipped_size_over_250mb_across_entries(lam):
    _assert_rejected_on_create(lam, huge_many_entries(), "262144000", "unzipped", "250")


def test_zip_whose_headers_understate_the_unzipped_size(lam):
    # Declared 1000 bytes, inflates to 300 MiB: the check must not trust the headers.
    _assert_rejected_on_create(lam, zip_bomb(), "262144000", "unzipped", "unzip", "size", "crc", "corrupt", "invalid")


def test_zipped_package_over_50mb_is_too_large(lam):
    # AWS: the request body limit is 69905067 bytes (50 MiB in base64); beyond it Lambda answers
    # 413 RequestEntityTooLargeException "Request must be smaller than 69905067 bytes for the
    # CreateFunction operation" before looking at the zip.
    name = unique_name("toolarge")
    zip_bytes = stored_zip_of_size(50 * MiB + 64 * 1024)
    assert len(zip_bytes) > 52428800
    with aws_error(lam, "RequestEntityTooLargeException", 413) as e:
        create_function(lam, name, zip_bytes)
    assert "Request must be smaller than" in e.message
    with aws_error(lam, "ResourceNotFoundException", 404):
        lam.get_function(FunctionName=name)


# -- the same checks on UpdateFunctionCode: a rejected package leaves the old one in place ----------


@pytest.mark.parametrize(
    "kind",
    ["not-a-zip", "empty", "zip-slip", "absolute", "symlink-out", "huge-unzipped"],
)
def test_bad_package_on_update_keeps_the_old_code(lam, kind):
    bad = {
        "not-a-zip": lambda: b"garbage",
        "empty": empty_zip,
        "zip-slip": lambda: make_zip({"app.py": APP, "../evil.py": "x"}),
        "absolute": lambda: make_zip({"app.py": APP, "/etc/evil": "x"}),
        "symlink-out": lambda: make_zip({"app.py": APP}, symlinks={"link": "/etc/shadow"}),
        "huge-unzipped": huge_single_entry,
    }[kind]()
    name = unique_name("badupd")
    good = python_zip(marker=name)
    before = create_function(lam, name, good)
    with aws_error(lam, "InvalidParameterValueException", 400):
        lam.update_function_code(FunctionName=name, ZipFile=bad)
    got = lam.get_function(FunctionName=name)
    cfg = got["Configuration"]
    assert (cfg["CodeSha256"], cfg["CodeSize"], cfg["RevisionId"]) == (
        before["CodeSha256"], before["CodeSize"], before["RevisionId"],
    )
    from support import download

    assert download(got["Code"]["Location"]) == good


def test_symlink_climbing_up_but_staying_inside_is_fine(lam):
    # lib/link -> ../lib/../app.py resolves to app.py, inside the package.
    zip_bytes = make_zip({"app.py": APP}, symlinks={"lib/link": "../lib/../app.py"})
    resp = create_function(lam, zip_bytes=zip_bytes)
    assert resp["CodeSize"] == len(zip_bytes)


def test_directory_entries_and_executable_bits_are_fine(lam):
    # A package as `zip -r` makes it: directory entries and an executable bootstrap.
    import io
    import zipfile

    from support import FIXED_DATE

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        d = zipfile.ZipInfo("bin/", date_time=FIXED_DATE)
        d.create_system = 3
        d.external_attr = ((stat.S_IFDIR | 0o755) << 16) | 0x10
        zf.writestr(d, b"")
        b = zipfile.ZipInfo("bootstrap", date_time=FIXED_DATE)
        b.create_system = 3
        b.external_attr = (stat.S_IFREG | 0o755) << 16
        zf.writestr(b, "#!/bin/sh\necho hi\n")
        zf.writestr(zipfile.ZipInfo("bin/tool", date_time=FIXED_DATE), "tool")
    resp = create_function(lam, zip_bytes=buf.getvalue(), Runtime="provided.al2023", Handler="bootstrap")
    assert resp["CodeSize"] == len(buf.getvalue())
