"""Lambda layers end to end: the layer API through boto3 and the AWS CLI, and
layers at work inside execution environments (dependencies for Python and
Node.js under /opt, override order, a custom runtime's bootstrap in a layer,
a deleted layer version still serving its functions, the 250 MB limit)."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from invoke_support import (
    NODE_RUNTIME,
    PYTHON_RUNTIME,
    create,
    exec_server,  # noqa: F401 (fixture)
    fixture_binary,
    invoke,
    lam_exec,  # noqa: F401 (fixture)
    package,
)
from support import ACCOUNT, REGION, aws_error, unique_name


def layer_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:{name}"


def publish(client, name: str, files: dict, executables: dict | None = None, **extra) -> dict:
    resp = client.publish_layer_version(LayerName=name, Content={"ZipFile": package(files, executables)}, **extra)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 201
    return resp


# --------------------------------------------------------------------------
# The API
# --------------------------------------------------------------------------


def test_publish_get_list_delete(lam_exec):
    name = unique_name("layer")
    zip_bytes = package({"python/mod.py": "X = 1\n"})
    first = lam_exec.publish_layer_version(
        LayerName=name,
        Description="deps",
        Content={"ZipFile": zip_bytes},
        CompatibleRuntimes=["python3.12", "python3.11"],
        CompatibleArchitectures=["x86_64"],
        LicenseInfo="MIT",
    )
    assert first["Version"] == 1
    assert first["LayerArn"] == layer_arn(name)
    assert first["LayerVersionArn"] == f"{layer_arn(name)}:1"
    assert first["Description"] == "deps"
    assert first["CompatibleRuntimes"] == ["python3.12", "python3.11"]
    assert first["CompatibleArchitectures"] == ["x86_64"]
    assert first["LicenseInfo"] == "MIT"
    assert first["Content"]["CodeSize"] == len(zip_bytes)
    assert first["Content"]["Location"].startswith("http://")
    second = publish(lam_exec, name, {"python/mod.py": "X = 2\n"}, CompatibleRuntimes=["nodejs20.x"])
    assert second["Version"] == 2

    got = lam_exec.get_layer_version(LayerName=name, VersionNumber=1)
    assert got["LayerVersionArn"] == first["LayerVersionArn"]
    assert got["Content"]["CodeSha256"] == first["Content"]["CodeSha256"]
    by_arn = lam_exec.get_layer_version_by_arn(Arn=second["LayerVersionArn"])
    assert by_arn["Version"] == 2

    versions = lam_exec.list_layer_versions(LayerName=name)["LayerVersions"]
    assert [v["Version"] for v in versions] == [2, 1]
    py = lam_exec.list_layer_versions(LayerName=name, CompatibleRuntime="python3.12")["LayerVersions"]
    assert [v["Version"] for v in py] == [1]
    paged = lam_exec.list_layer_versions(LayerName=name, MaxItems=1)
    assert [v["Version"] for v in paged["LayerVersions"]] == [2]
    rest = lam_exec.list_layer_versions(LayerName=name, MaxItems=1, Marker=paged["NextMarker"])
    assert [v["Version"] for v in rest["LayerVersions"]] == [1]
    assert "NextMarker" not in rest

    layers = {l["LayerName"]: l for l in lam_exec.list_layers()["Layers"]}
    assert layers[name]["LatestMatchingVersion"]["Version"] == 2
    assert layers[name]["LayerArn"] == layer_arn(name)
    matching = {l["LayerName"]: l for l in lam_exec.list_layers(CompatibleRuntime="python3.11")["Layers"]}
    assert matching[name]["LatestMatchingVersion"]["Version"] == 1

    lam_exec.delete_layer_version(LayerName=name, VersionNumber=2)
    lam_exec.delete_layer_version(LayerName=name, VersionNumber=2)  # idempotent, as on AWS
    with aws_error(lam_exec, "ResourceNotFoundException", 404) as e:
        lam_exec.get_layer_version(LayerName=name, VersionNumber=2)
    assert e.message == "The resource you requested does not exist."
    # Numbers are never reused.
    assert publish(lam_exec, name, {"python/mod.py": "X = 3\n"})["Version"] == 3


def test_publish_validation(lam_exec):
    zip_file = {"ZipFile": package({"a.txt": "a"})}
    with aws_error(lam_exec, "ValidationException", 400) as e:
        lam_exec.publish_layer_version(LayerName="bad name", Content=zip_file)
    assert "at 'layerName' failed to satisfy constraint" in e.message
    with aws_error(lam_exec, "ValidationException", 400) as e:
        lam_exec.publish_layer_version(LayerName=unique_name("l"), Content=zip_file, CompatibleRuntimes=["python3.99"])
    assert "Value '[null]' at 'compatibleRuntimes'" in e.message
    with aws_error(lam_exec, "InvalidParameterValueException", 400) as e:
        lam_exec.publish_layer_version(LayerName=unique_name("l"), Content={"ZipFile": b"not a zip"})
    assert "Could not unzip uploaded file" in e.message


def test_aws_cli_layers(exec_server):
    name = unique_name("clilayer")
    path = exec_server.data_dir.parent / f"{name}.zip"
    path.write_bytes(package({"python/cli_mod.py": "V = 'cli'\n"}))
    out = exec_server.aws("publish-layer-version", "--layer-name", name, "--zip-file", f"fileb://{path}",
                          "--compatible-runtimes", "python3.11").json
    assert out["Version"] == 1
    listed = exec_server.aws("list-layer-versions", "--layer-name", name).json
    assert [v["Version"] for v in listed["LayerVersions"]] == [1]
    exec_server.aws("delete-layer-version", "--layer-name", name, "--version-number", "1")
    assert exec_server.aws("list-layer-versions", "--layer-name", name).json["LayerVersions"] == []


def test_function_layer_references(lam_exec):
    name = unique_name("reflayer")
    v1 = publish(lam_exec, name, {"python/x.py": "1"})["LayerVersionArn"]
    v2 = publish(lam_exec, name, {"python/x.py": "2"})["LayerVersionArn"]
    code = package({"app.py": "def handler(e, c):\n    return 1\n"})
    with aws_error(lam_exec, "InvalidParameterValueException", 400) as e:
        create(lam_exec, code, Layers=[f"{layer_arn(name)}:9"])
    assert e.message == f"Layer version {layer_arn(name)}:9 does not exist."
    with aws_error(lam_exec, "ValidationException", 400) as e:
        create(lam_exec, code, Layers=["not-an-arn"])
    assert "at 'layers' failed to satisfy constraint" in e.message
    with aws_error(lam_exec, "InvalidParameterValueException", 400) as e:
        create(lam_exec, code, Layers=[v1, v2])
    assert "Two different versions of the same layer" in e.message
    others = [publish(lam_exec, unique_name("many"), {"f": "x"})["LayerVersionArn"] for _ in range(5)]
    with aws_error(lam_exec, "InvalidParameterValueException", 400) as e:
        create(lam_exec, code, Layers=[v1, *others])
    assert e.message == "Cannot reference more than 5 layers."

    fn = create(lam_exec, code, Layers=[v2])
    layers = lam_exec.get_function_configuration(FunctionName=fn)["Layers"]
    assert layers == [{"Arn": v2, "CodeSize": lam_exec.get_layer_version_by_arn(Arn=v2)["Content"]["CodeSize"]}]
    updated = lam_exec.update_function_configuration(FunctionName=fn, Layers=[v1])
    assert [l["Arn"] for l in updated["Layers"]] == [v1]
    cleared = lam_exec.update_function_configuration(FunctionName=fn, Layers=[])
    assert cleared.get("Layers", []) == []


# --------------------------------------------------------------------------
# Layers inside execution environments
# --------------------------------------------------------------------------

PY_DEPS_HANDLER = """
import os, sys
import layer_lib, site_lib

def handler(event, context):
    return {
        "lib": layer_lib.NAME,
        "site": site_lib.NAME,
        "path": os.environ["PATH"],
        "ld": os.environ["LD_LIBRARY_PATH"],
        "tool": open("/opt/bin/tool").read(),
    }
"""


def test_python_dependencies_from_layers(lam_exec):
    deps = publish(lam_exec, unique_name("pydeps"), {
        "python/layer_lib.py": "NAME = 'from /opt/python'\n",
        "python/lib/python3.11/site-packages/site_lib.py": "NAME = 'from site-packages'\n",
        "bin/tool": "tool v1",
    })
    fn = create(lam_exec, package({"app.py": PY_DEPS_HANDLER}), runtime=PYTHON_RUNTIME, Layers=[deps["LayerVersionArn"]])
    out = invoke(lam_exec, fn, {}).ok()
    assert out["lib"] == "from /opt/python"
    assert out["site"] == "from site-packages"
    assert "/opt/bin" in out["path"].split(":")
    assert "/opt/lib" in out["ld"].split(":")
    assert out["tool"] == "tool v1"


NODE_HANDLER = """
const dep = require('layer-dep');
exports.handler = async () => ({ dep: dep.name });
"""


def test_nodejs_dependencies_from_a_layer(lam_exec):
    deps = publish(lam_exec, unique_name("nodedeps"), {
        "nodejs/node_modules/layer-dep/package.json": json.dumps({"name": "layer-dep", "main": "index.js"}),
        "nodejs/node_modules/layer-dep/index.js": "module.exports = { name: 'layer-dep from /opt/nodejs' };\n",
    })
    fn = create(lam_exec, package({"index.js": NODE_HANDLER}), runtime=NODE_RUNTIME, handler="index.handler",
                Layers=[deps["LayerVersionArn"]])
    assert invoke(lam_exec, fn, {}).ok() == {"dep": "layer-dep from /opt/nodejs"}


def test_later_layers_override_earlier_ones(lam_exec):
    first = publish(lam_exec, unique_name("first"), {"python/which.py": "W = 'first'\n", "python/only_first.py": "F = 1\n"})
    second = publish(lam_exec, unique_name("second"), {"python/which.py": "W = 'second'\n"})
    handler = "import which, only_first\ndef handler(e, c):\n    return [which.W, only_first.F]\n"
    fn = create(lam_exec, package({"app.py": handler}), Layers=[first["LayerVersionArn"], second["LayerVersionArn"]])
    assert invoke(lam_exec, fn, {}).ok() == ["second", 1]
    # Reversing the order reverses who wins.
    lam_exec.update_function_configuration(FunctionName=fn, Layers=[second["LayerVersionArn"], first["LayerVersionArn"]])
    assert invoke(lam_exec, fn, {}).ok() == ["first", 1]


def test_custom_runtime_from_a_layer(lam_exec):
    runtime_layer = publish(lam_exec, unique_name("runtime"), {}, executables={"bootstrap": fixture_binary("lambdabox-test-echo")},
                            CompatibleRuntimes=["provided.al2023"])
    fn = create(lam_exec, package({"data.txt": "only data in the function's own package"}), runtime="provided.al2023",
                handler="unused", Layers=[runtime_layer["LayerVersionArn"]])
    result = invoke(lam_exec, fn, {"hello": "layer"})
    out = result.ok()
    assert out is not None
    assert "hello" in json.dumps(out)
    # Without the layer the function has no bootstrap at all.
    bare = create(lam_exec, package({"data.txt": "x"}), runtime="provided.al2023", handler="unused")
    err = invoke(lam_exec, bare, {})
    assert err.function_error == "Unhandled"
    assert "Runtime.InvalidEntrypoint" in err.raw.decode()


def test_deleted_layer_version_still_serves_its_functions(new_server):
    server = new_server()
    lam_exec = server.client(REGION)
    name = unique_name("gone")
    layer = publish(lam_exec, name, {"python/gone_lib.py": "V = 'still here'\n"})
    fn = create(lam_exec, package({"app.py": "import gone_lib\ndef handler(e, c):\n    return gone_lib.V\n"}),
                Layers=[layer["LayerVersionArn"]])
    lam_exec.delete_layer_version(LayerName=name, VersionNumber=1)
    assert invoke(lam_exec, fn, {}).ok() == "still here"
    # A new function can no longer reference it.
    with aws_error(lam_exec, "InvalidParameterValueException", 400):
        create(lam_exec, package({"app.py": "def handler(e, c):\n    return 1\n"}), Layers=[layer["LayerVersionArn"]])
    # New environments (after a restart) still find the package.
    server.restart()
    client = server.client(REGION)
    assert invoke(client, fn, {}).ok() == "still here"


def big_stored_zip(size: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("big/zeros.bin", b"\0" * size)
    return buf.getvalue()


def test_code_and_layers_share_the_unzipped_limit(lam_exec):
    half = 131_072_001  # two of these exceed 262,144,000 bytes
    layer = lam_exec.publish_layer_version(LayerName=unique_name("big"), Content={"ZipFile": big_stored_zip(half)})
    with aws_error(lam_exec, "InvalidParameterValueException", 400) as e:
        create(lam_exec, big_stored_zip(half), Layers=[layer["LayerVersionArn"]])
    assert e.message == (
        "Function code combined with layers exceeds the maximum allowed size of 262144000 bytes. "
        f"The actual size is {2 * half} bytes."
    )
