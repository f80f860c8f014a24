"""Hostile deployment packages and layers (issue #13, findings 1 and 11).

Finding 1 (critical): a zip holding a link `a -> .`, a second link whose target
is a chain `a/a/…/../..` (lexically inside the package, really outside once
`a` resolves) and a file under the second link wrote host files as root at the
first invoke. Every shape of it — absolute and relative targets, links to the
parent, a link planted by one layer and written through by the next — must be
refused, and nothing outside the package may change: no file appears, no
directory loses its sticky bit.

Finding 11: packages that pass a naive inspection but cannot be unpacked (a
5,000-character name, 2,000 levels deep, `x` beside `x/y`, an entry named `.`)
are refused at CreateFunction with AWS's zip error, whose message never names a
host path.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

import pytest

from invoke_support import create, exec_server, invoke, lam_exec, py_package  # noqa: F401 (fixtures)
from support import ROLE, aws_error, make_zip, unique_name

APP = "def handler(event, context):\n    return {'ok': True}\n"
BAD_ZIP = "Could not unzip uploaded file"


@pytest.fixture
def victim():
    """A world-writable, sticky host directory (like /tmp) with a file in it."""
    d = Path(tempfile.mkdtemp(prefix="lbx-victim-"))
    d.chmod(0o1777)
    (d / "keep").write_text("untouched")
    yield d
    for p in d.iterdir():
        p.unlink()
    d.rmdir()


def assert_untouched(victim: Path) -> None:
    assert sorted(p.name for p in victim.iterdir()) == ["keep"], f"files appeared in {victim}"
    assert (victim / "keep").read_text() == "untouched"
    assert stat.S_IMODE(victim.stat().st_mode) == 0o1777, "the victim directory's mode changed"
    assert not Path("/pwned").exists()


def chain(depth: int) -> str:
    """`a/a/…/../..`: lexically the package root, really `depth` levels above it once `a -> .`."""
    return "a/" * depth + "../" * depth


def rel_to_root(depth: int = 24) -> str:
    return "/".join([".."] * depth)


def attack_variants(victim: Path) -> dict[str, bytes]:
    inside = str(victim).lstrip("/")
    return {
        "the reported chain": make_zip(
            {f"b/{inside}/pwned": "x", "app.py": APP}, symlinks={"a": ".", "b": "a/" * 12 + "../" * 12 + rel_to_root()}
        ),
        "lexically inside chain": make_zip({f"b/{inside}/pwned": "x", "app.py": APP}, symlinks={"a": ".", "b": chain(12)}),
        "absolute link": make_zip({"b/pwned": "x", "app.py": APP}, symlinks={"b": str(victim)}),
        "relative link up": make_zip({f"b/{inside}/pwned": "x", "app.py": APP}, symlinks={"b": rel_to_root()}),
        "link to the parent": make_zip({"up/x": "x", "app.py": APP}, symlinks={"up": ".."}),
        "link inside, file under it": make_zip({"lib/a.py": "", "b/pwned": "x", "app.py": APP}, symlinks={"b": "lib"}),
        "directory entry under a link": make_zip({"b/": "", "app.py": APP}, symlinks={"b": rel_to_root()}),
        "links only": make_zip({"app.py": APP}, symlinks={"a": ".", "b": chain(12)}),
        "link through a link to an absolute path": make_zip({"app.py": APP}, symlinks={"abs": "/", "via": "abs/etc"}),
        "a link loop": make_zip({"app.py": APP}, symlinks={"p": "q", "q": "p/x"}),
    }


@pytest.mark.parametrize(
    "variant",
    [
        "the reported chain",
        "lexically inside chain",
        "absolute link",
        "relative link up",
        "link to the parent",
        "link inside, file under it",
        "directory entry under a link",
        "links only",
        "link through a link to an absolute path",
        "a link loop",
    ],
)
def test_link_attacks_are_refused_at_create_and_touch_nothing(lam_exec, victim, variant):
    zip_bytes = attack_variants(victim)[variant]
    name = unique_name("hostile")
    with aws_error(lam_exec, "InvalidParameterValueException", 400) as e:
        lam_exec.create_function(
            FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler", Code={"ZipFile": zip_bytes}
        )
    assert BAD_ZIP in e.message, e.message
    with aws_error(lam_exec, "ResourceNotFoundException", 404):
        lam_exec.get_function(FunctionName=name)
    assert_untouched(victim)


def test_link_attacks_are_refused_at_update_and_the_old_code_keeps_running(lam_exec, victim):
    name = create(lam_exec, py_package(APP))
    assert invoke(lam_exec, name).ok() == {"ok": True}
    for variant, zip_bytes in attack_variants(victim).items():
        with aws_error(lam_exec, "InvalidParameterValueException", 400) as e:
            lam_exec.update_function_code(FunctionName=name, ZipFile=zip_bytes)
        assert BAD_ZIP in e.message, (variant, e.message)
    assert invoke(lam_exec, name).ok() == {"ok": True}
    assert_untouched(victim)


def publish(lam, zip_bytes: bytes) -> str:
    return lam.publish_layer_version(LayerName=unique_name("layer"), Content={"ZipFile": zip_bytes})[
        "LayerVersionArn"
    ]


def test_a_layer_cannot_write_through_a_link_another_layer_planted(lam_exec, victim):
    inside = str(victim).lstrip("/")
    # Each layer alone is harmless: a link to `.`; a chain that is lexically
    # inside; a file under a directory. Together they reach the victim.
    plant_a = publish(lam_exec, make_zip({"x.txt": "x"}, symlinks={"a": "."}))
    plant_b = publish(lam_exec, make_zip({"y.txt": "y"}, symlinks={"b": "a/" * 12 + "../" * 12}))
    write = publish(lam_exec, make_zip({f"b/{inside}/pwned": "x"}))
    plant_inside = publish(lam_exec, make_zip({"lib/z.txt": "z"}, symlinks={"python": "lib"}))
    write_python = publish(lam_exec, make_zip({"python/pwned.py": "x"}))
    app = py_package(APP)
    for layers in ([plant_a, plant_b, write], [write, plant_b, plant_a], [plant_inside, write_python], [write_python, plant_inside]):
        name = unique_name("layered")
        with aws_error(lam_exec, "InvalidParameterValueException", 400) as e:
            lam_exec.create_function(
                FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler", Code={"ZipFile": app}, Layers=layers
            )
        assert BAD_ZIP in e.message, e.message
    # Through UpdateFunctionConfiguration too; the function keeps its layers.
    name = create(lam_exec, app, Layers=[plant_inside])
    with aws_error(lam_exec, "InvalidParameterValueException", 400):
        lam_exec.update_function_configuration(FunctionName=name, Layers=[plant_inside, write_python])
    assert [l["Arn"] for l in lam_exec.get_function_configuration(FunctionName=name)["Layers"]] == [plant_inside]
    assert invoke(lam_exec, name).ok() == {"ok": True}
    assert_untouched(victim)


def test_links_that_stay_inside_still_work(lam_exec):
    source = "import os\ndef handler(event, context):\n    return {'via': open('/var/task/cur/v.txt').read(), 'link': os.readlink('/var/task/cur')}\n"
    zip_bytes = make_zip({"app.py": source, "lib/v1/v.txt": "one"}, symlinks={"cur": "lib/v1", "lib/latest": "v1"})
    name = create(lam_exec, zip_bytes)
    assert invoke(lam_exec, name).ok() == {"via": "one", "link": "lib/v1"}


def test_unpacked_code_is_owned_by_no_user_and_not_writable_by_functions(exec_server, lam_exec):
    """As root, packages are unpacked by a confined thread as an unprivileged uid."""
    source = (
        "import os\n"
        "def handler(event, context):\n"
        "    try:\n"
        "        open('/var/task/new', 'w').write('x')\n"
        "        return 'wrote'\n"
        "    except OSError as e:\n"
        "        return e.strerror\n"
    )
    name = create(lam_exec, py_package(source))
    assert invoke(lam_exec, name).ok() in ("Read-only file system", "Permission denied")
    if os.geteuid() != 0:
        pytest.skip("the confined unpacker needs root; the server is not root here")
    owners = set()
    for root in (exec_server.data_dir, Path(tempfile.gettempdir())):
        for code in root.glob("**/code/*/app.py"):
            owners.add(code.stat().st_uid)
    assert owners, "no unpacked code found"
    assert 0 not in owners, "unpacked code is owned by root"


@pytest.mark.parametrize(
    "entries, fragment",
    [
        ({"n" * 5000: "x"}, "longer than 255 bytes"),
        ({"a/" * 2000 + "f": "x"}, "nested deeper"),
        ({"x": "1", "x/y": "2"}, "both a file and a directory"),
        ({".": "x"}, "has no file name"),
    ],
    ids=["5000-character name", "2000 levels deep", "x beside x/y", "entry named ."],
)
def test_packages_that_cannot_be_unpacked_are_refused_at_create(lam_exec, entries, fragment, exec_server):
    zip_bytes = make_zip({"app.py": APP, **entries})
    name = unique_name("unpackable")
    with aws_error(lam_exec, "InvalidParameterValueException", 400) as e:
        lam_exec.create_function(
            FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="app.handler", Code={"ZipFile": zip_bytes}
        )
    assert BAD_ZIP in e.message and fragment in e.message, e.message
    assert len(e.message) < 1000, "the message quotes a cut name, not 5,000 characters"
    assert str(exec_server.data_dir) not in e.message and "/tmp/" not in e.message, e.message
