"""Invoke with the managed Java runtimes (java17, java21, java8 and the seed's
java-1.8.0-openjdk alias, all served by the machine's JDK): RequestHandler
with POJOs, a `package.Class::method` handler, the context, warm reuse, and
AWS's error shape.

The handlers compile against the aws-lambda-java-core API that the runtime
client in runtimes/java provides (built here with its own build.sh).

AWS: "Define Lambda function handler in Java", "Using the Lambda context
object to retrieve Java function information", "Java Lambda function errors".
"""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from invoke_support import create, exec_server, invoke, lam_exec, log_request_id  # noqa: F401 (fixtures)

ROOT = Path(__file__).resolve().parents[2]

SOURCES = {
    "example/Pojo.java": """
package example;
public class Pojo {
    private String name;
    private int count;
    public String getName() { return name; }
    public void setName(String name) { this.name = name; }
    public int getCount() { return count; }
    public void setCount(int count) { this.count = count; }
}
""",
    "example/Hello.java": """
package example;
import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import java.util.HashMap;
import java.util.Map;
public class Hello implements RequestHandler<Pojo, Map<String, Object>> {
    private static int invocations = 0;
    @Override
    public Map<String, Object> handleRequest(Pojo input, Context context) {
        invocations++;
        context.getLogger().log("hello from java " + input.getName());
        Map<String, Object> out = new HashMap<>();
        out.put("greeting", "Hello " + input.getName());
        out.put("doubled", input.getCount() * 2);
        out.put("invocations", invocations);
        out.put("requestId", context.getAwsRequestId());
        out.put("function", context.getFunctionName());
        out.put("memory", context.getMemoryLimitInMB());
        out.put("remaining", context.getRemainingTimeInMillis());
        return out;
    }
}
""",
    "example/Methods.java": """
package example;
public class Methods {
    public String upper(String input) { return input.toUpperCase(); }
    public String fail(String input) { throw new IllegalStateException("bad input: " + input); }
}
""",
}


@pytest.fixture(scope="module")
def java_zip(tmp_path_factory) -> bytes:
    if not shutil.which("javac"):
        pytest.fail("javac is needed to build Java test functions (Debian: openjdk-17-jdk-headless)")
    work = tmp_path_factory.mktemp("java")
    subprocess.run(["sh", str(ROOT / "runtimes/java/build.sh"), str(work / "ric")], check=True, capture_output=True)
    jar = work / "ric" / "lambdabox-ric.jar"
    src = work / "src"
    for rel, text in SOURCES.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text(text)
    classes = work / "classes"
    subprocess.run(
        ["javac", "--release", "17", "-cp", str(jar), "-d", str(classes), *[str(src / r) for r in SOURCES]],
        check=True, capture_output=True,
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for f in sorted(classes.rglob("*.class")):
            z.write(f, f.relative_to(classes).as_posix())
    return buf.getvalue()


@pytest.mark.parametrize("runtime", ["java17", "java21", "java-1.8.0-openjdk"])
def test_request_handler_with_pojo_and_context(lam_exec, java_zip, runtime):
    name = create(lam_exec, java_zip, runtime=runtime, handler="example.Hello::handleRequest", MemorySize=512, Timeout=10)
    first = invoke(lam_exec, name, {"name": "box", "count": 21})
    out = first.ok()
    assert out["greeting"] == "Hello box" and out["doubled"] == 42
    assert out["function"] == name and out["memory"] == 512
    assert out["requestId"] == log_request_id(first.log)
    assert 0 < out["remaining"] <= 10_000
    assert "hello from java box" in first.log
    assert "Init Duration" in first.log
    second = invoke(lam_exec, name, {"name": "again", "count": 1}).ok()
    assert second["invocations"] == out["invocations"] + 1, "static state survives in a warm environment"


def test_class_method_handler_and_error_shape(lam_exec, java_zip):
    upper = create(lam_exec, java_zip, runtime="java17", handler="example.Methods::upper", MemorySize=512, Timeout=10)
    assert invoke(lam_exec, upper, "shout").ok() == "SHOUT"
    failing = create(lam_exec, java_zip, runtime="java17", handler="example.Methods::fail", MemorySize=512, Timeout=10)
    err = invoke(lam_exec, failing, "x").error()
    assert err["errorType"] == "java.lang.IllegalStateException", err
    assert err["errorMessage"] == "bad input: x"
    assert isinstance(err["stackTrace"], list) and any("example.Methods.fail" in line for line in err["stackTrace"])


def test_unknown_class_is_reported(lam_exec, java_zip):
    name = create(lam_exec, java_zip, runtime="java17", handler="example.Missing::handleRequest", MemorySize=512, Timeout=10)
    err = invoke(lam_exec, name, {}).error()
    assert "example.Missing" in err["errorMessage"], err
