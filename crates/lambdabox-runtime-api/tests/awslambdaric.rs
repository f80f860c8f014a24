//! Conformance with AWS's Python runtime interface client: `python -m
//! awslambdaric handler.fn` (the real package from PyPI) runs against a served
//! `RuntimeApi`.
//!
//! The interpreter is `$LAMBDABOX_TEST_PYTHON`, else the workspace's `.venv`.
//! Without one that can import `awslambdaric` these tests fail and say how to
//! install it, unless `LAMBDABOX_SKIP_PYTHON_TESTS` is set.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{Server, invocation, start};
use lambdabox_runtime_api::{Invocation, InvocationOutcome, InvokeError};
use serde_json::{Value, json};
use tokio::process::{Child, Command};

/// A bound for a stuck test, not a synchronisation point.
const LIMIT: Duration = Duration::from_secs(60);

const INSTALL: &str = "python3 -m venv .venv && .venv/bin/pip install awslambdaric boto3 awscli pytest \
     (at the workspace root), or point LAMBDABOX_TEST_PYTHON at a python that has awslambdaric, \
     or set LAMBDABOX_SKIP_PYTHON_TESTS=1 to skip these tests";

/// The python to run, or `None` when the tests are explicitly skipped.
fn python() -> Option<PathBuf> {
    if std::env::var_os("LAMBDABOX_SKIP_PYTHON_TESTS").is_some() {
        eprintln!("LAMBDABOX_SKIP_PYTHON_TESTS is set: skipping the awslambdaric tests");
        return None;
    }
    let python = match std::env::var_os("LAMBDABOX_TEST_PYTHON") {
        Some(path) => PathBuf::from(path),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python"),
    };
    let imports = std::process::Command::new(&python).args(["-c", "import awslambdaric"]).stdin(Stdio::null()).output();
    match imports {
        Ok(output) if output.status.success() => Some(python),
        Ok(output) => panic!(
            "{} cannot import awslambdaric ({}): {INSTALL}",
            python.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        ),
        Err(error) => panic!("cannot run {} ({error}): {INSTALL}", python.display()),
    }
}

/// A function directory with `handler.py` and the runtime's logs.
struct Function {
    dir: tempfile::TempDir,
}

impl Function {
    fn new(handler_source: &str) -> Function {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("handler.py"), handler_source).expect("write handler.py");
        Function { dir }
    }

    fn spawn(&self, python: &Path, server: &Server) -> Child {
        let log = |name: &str| std::fs::File::create(self.dir.path().join(name)).expect("create log file");
        Command::new(python)
            .args(["-m", "awslambdaric", "handler.fn"])
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", server.addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", "pyfn")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "2024/01/01/[$LATEST]0123456789abcdef")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/pyfn")
            .env("LAMBDA_TASK_ROOT", self.dir.path())
            .stdin(Stdio::null())
            .stdout(log("stdout.log"))
            .stderr(log("stderr.log"))
            .kill_on_drop(true)
            .spawn()
            .expect("spawn python -m awslambdaric")
    }

    fn logs(&self) -> String {
        let read = |name: &str| std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default();
        format!("--- stdout ---\n{}\n--- stderr ---\n{}", read("stdout.log"), read("stderr.log"))
    }
}

async fn invoke(
    server: &Server,
    function: &Function,
    child: &mut Child,
    inv: Invocation,
) -> Result<InvocationOutcome, InvokeError> {
    let raced = async {
        tokio::select! {
            outcome = server.api.invoke(inv) => outcome,
            status = child.wait() => panic!("awslambdaric exited: {status:?}\n{}", function.logs()),
        }
    };
    tokio::time::timeout(LIMIT, raced).await.expect("invoke took too long")
}

fn now_ms() -> u64 {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    u64::try_from(now.as_millis()).unwrap()
}

const ECHO_HANDLER: &str = r#"
import os

def fn(event, context):
    if isinstance(event, dict) and "fail" in event:
        raise ValueError(event["fail"])
    identity = context.identity
    return {
        "event": event,
        "request_id": context.aws_request_id,
        "arn": context.invoked_function_arn,
        "deadline_ms": context._epoch_deadline_time_in_ms,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "trace_id": os.environ.get("_X_AMZN_TRACE_ID"),
        "custom": context.client_context.custom if context.client_context else None,
        "identity_id": getattr(identity, "cognito_identity_id", None),
        "function_name": context.function_name,
    }
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn awslambdaric_invocations_errors_and_context() {
    let Some(python) = python() else { return };
    let server = start().await;
    let function = Function::new(ECHO_HANDLER);
    let mut child = function.spawn(&python, &server);

    tokio::time::timeout(LIMIT, async {
        tokio::select! {
            ready = server.api.wait_ready() => ready.expect("init succeeds"),
            status = child.wait() => panic!("awslambdaric exited during init: {status:?}\n{}", function.logs()),
        }
    })
    .await
    .expect("init took too long");

    for n in 0..3 {
        let request_id = uuid::Uuid::new_v4().to_string();
        let deadline = now_ms() + 30_000;
        let mut inv = invocation(&request_id, &format!("{{\"n\":{n}}}"));
        inv.deadline_epoch_ms = deadline;
        let arn = inv.invoked_function_arn.clone();
        let trace_id = inv.trace_id.clone();
        let reply = match invoke(&server, &function, &mut child, inv).await {
            Ok(InvocationOutcome::Response(body)) => serde_json::from_slice::<Value>(&body).expect("json"),
            other => panic!("expected a response, got {other:?}\n{}", function.logs()),
        };
        assert_eq!(reply["event"], json!({ "n": n }));
        assert_eq!(reply["request_id"], request_id);
        assert_eq!(reply["arn"], arn);
        assert_eq!(reply["deadline_ms"], deadline);
        let remaining = reply["remaining_ms"].as_u64().expect("remaining ms");
        assert!(remaining > 0 && remaining <= 30_000, "{remaining}");
        assert_eq!(reply["trace_id"], trace_id);
        assert_eq!(reply["function_name"], "pyfn");
    }

    // Mobile context headers.
    let mut inv = invocation("mobile", "{}");
    inv.client_context = Some(json!({"custom": {"k": "v"}, "env": {}, "client": {}}).to_string());
    inv.cognito_identity =
        Some(json!({"cognitoIdentityId": "us-east-1:id", "cognitoIdentityPoolId": "us-east-1:pool"}).to_string());
    match invoke(&server, &function, &mut child, inv).await {
        Ok(InvocationOutcome::Response(body)) => {
            let reply: Value = serde_json::from_slice(&body).expect("json");
            assert_eq!(reply["custom"], json!({"k": "v"}));
            assert_eq!(reply["identity_id"], "us-east-1:id");
        }
        other => panic!("expected a response, got {other:?}\n{}", function.logs()),
    }

    // A raised exception: AWS's error shape.
    let outcome = invoke(&server, &function, &mut child, invocation("raises", "{\"fail\":\"it broke\"}")).await;
    match outcome {
        Ok(InvocationOutcome::FunctionError { error_type, body }) => {
            // awslambdaric's native client sends the error document and an
            // X-Ray cause, but no Lambda-Runtime-Function-Error-Type header.
            assert_eq!(error_type, None);
            let body: Value = serde_json::from_slice(&body).expect("json error body");
            assert_eq!(body["errorType"], "ValueError");
            assert_eq!(body["errorMessage"], "it broke");
            let trace = body["stackTrace"].as_array().expect("stackTrace array");
            assert!(
                trace.iter().any(|frame| frame.as_str().is_some_and(|f| f.contains("handler.py"))),
                "stack trace names the handler: {trace:?}"
            );
        }
        other => panic!("expected a function error, got {other:?}\n{}", function.logs()),
    }

    // Still warm after the error.
    match invoke(&server, &function, &mut child, invocation("after", "[1,2]")).await {
        Ok(InvocationOutcome::Response(body)) => {
            let reply: Value = serde_json::from_slice(&body).expect("json");
            assert_eq!(reply["event"], json!([1, 2]));
        }
        other => panic!("expected a response, got {other:?}\n{}", function.logs()),
    }

    child.kill().await.expect("kill awslambdaric");
}

/// Starts a handler that fails at import and returns what `wait_ready` reports.
async fn init_failure(python: &Path, handler_source: &str) -> (Value, String) {
    let server = start().await;
    let function = Function::new(handler_source);
    let mut child = function.spawn(python, &server);
    let failure = tokio::time::timeout(LIMIT, server.api.wait_ready())
        .await
        .expect("init error took too long")
        .expect_err("init must fail");
    // awslambdaric exits after reporting; reap it so the test leaves nothing behind.
    let status = tokio::time::timeout(LIMIT, child.wait()).await.expect("awslambdaric did not exit").expect("wait");
    assert!(!status.success(), "exit status {status:?}");
    let invoke = server.api.invoke(invocation("never", "{}")).await;
    assert_eq!(invoke, Err(InvokeError::InitFailed(failure.clone())));
    let body =
        serde_json::from_slice(&failure.body).unwrap_or_else(|_| panic!("json init error body\n{}", function.logs()));
    (body, failure.error_type)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn awslambdaric_import_time_exception_is_an_init_error() {
    let Some(python) = python() else { return };
    let (body, error_type) =
        init_failure(&python, "raise RuntimeError('cannot start')\n\ndef fn(event, context):\n    return event\n")
            .await;
    assert_eq!(error_type, "RuntimeError");
    assert_eq!(body["errorType"], "RuntimeError");
    assert_eq!(body["errorMessage"], "cannot start");
    let trace = body["stackTrace"].as_array().expect("stackTrace array");
    assert!(
        trace.iter().any(|frame| frame.as_str().is_some_and(|f| f.contains("handler.py"))),
        "stack trace names the module: {trace:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn awslambdaric_missing_dependency_is_an_import_module_error() {
    let Some(python) = python() else { return };
    let (body, error_type) =
        init_failure(&python, "import no_such_module_for_lambdabox\n\ndef fn(event, context):\n    return event\n")
            .await;
    assert_eq!(error_type, "Runtime.ImportModuleError");
    assert_eq!(body["errorType"], "Runtime.ImportModuleError");
    assert!(
        body["errorMessage"].as_str().is_some_and(|m| m.starts_with("Unable to import module 'handler'")),
        "{body}"
    );
}
