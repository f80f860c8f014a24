//! Conformance with the official Rust client: the `lambda_echo` example, built
//! on the `lambda_runtime` crate from crates.io, runs as a real process against
//! a served `RuntimeApi` and is driven through `invoke`.

mod common;

use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{Server, example_binary, invocation, start};
use lambdabox_runtime_api::{Invocation, InvocationOutcome, InvokeError};
use serde_json::{Value, json};
use tokio::process::{Child, Command};

/// A bound for a stuck test, not a synchronisation point.
const LIMIT: Duration = Duration::from_secs(60);

fn spawn_echo(server: &Server) -> Child {
    Command::new(example_binary("lambda_echo"))
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", server.addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "echo")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "2024/01/01/[$LATEST]0123456789abcdef")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/echo")
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn lambda_echo")
}

/// Awaits `invoke`, failing if the runtime process exits first.
async fn invoke(server: &Server, child: &mut Child, inv: Invocation) -> Result<InvocationOutcome, InvokeError> {
    let raced = async {
        tokio::select! {
            outcome = server.api.invoke(inv) => outcome,
            status = child.wait() => panic!("lambda_echo exited: {status:?}"),
        }
    };
    tokio::time::timeout(LIMIT, raced).await.expect("invoke took too long")
}

fn response_json(outcome: Result<InvocationOutcome, InvokeError>) -> Value {
    match outcome {
        Ok(InvocationOutcome::Response(body)) => serde_json::from_slice(&body).expect("json"),
        other => panic!("expected a response, got {other:?}"),
    }
}

fn now_ms() -> u64 {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    u64::try_from(now.as_millis()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lambda_runtime_crate_is_served_end_to_end() {
    let server = start().await;
    let mut child = spawn_echo(&server);

    tokio::time::timeout(LIMIT, async {
        tokio::select! {
            ready = server.api.wait_ready() => ready.expect("init succeeds"),
            status = child.wait() => panic!("lambda_echo exited during init: {status:?}"),
        }
    })
    .await
    .expect("init took too long");

    // Several warm invocations, each with its own context.
    for n in 0..5 {
        let request_id = uuid::Uuid::new_v4().to_string();
        let deadline = now_ms() + 3_000 + n;
        let mut inv = invocation(&request_id, &format!("{{\"n\":{n}}}"));
        inv.deadline_epoch_ms = deadline;
        inv.invoked_function_arn = format!("arn:aws:lambda:us-east-1:123456789012:function:echo:{n}");
        let arn = inv.invoked_function_arn.clone();
        let trace_id = inv.trace_id.clone();
        let reply = response_json(invoke(&server, &mut child, inv).await);
        assert_eq!(reply["event"], json!({ "n": n }));
        assert_eq!(reply["context"]["request_id"], request_id);
        assert_eq!(reply["context"]["deadline"], deadline);
        assert_eq!(reply["context"]["invoked_function_arn"], arn);
        assert_eq!(reply["context"]["xray_trace_id"], trace_id);
        assert_eq!(reply["context"]["client_context"], Value::Null);
        assert_eq!(reply["context"]["identity"], Value::Null);
    }

    // Client context and Cognito identity reach the handler.
    let mut inv = invocation("with-mobile-context", "{}");
    inv.client_context = Some(
        json!({
            "client": {"installation_id": "i-1", "app_title": "app", "app_version_name": "1.0",
                       "app_version_code": "1", "app_package_name": "com.example"},
            "custom": {"k": "v"},
            "environment": {"platform": "linux"}
        })
        .to_string(),
    );
    inv.cognito_identity =
        Some(json!({"cognitoIdentityId": "us-east-1:id", "cognitoIdentityPoolId": "us-east-1:pool"}).to_string());
    let reply = response_json(invoke(&server, &mut child, inv).await);
    assert_eq!(reply["context"]["client_context"]["custom"]["k"], "v");
    assert_eq!(reply["context"]["client_context"]["client"]["appTitle"], "app");
    assert_eq!(reply["context"]["identity"]["identityId"], "us-east-1:id");
    assert_eq!(reply["context"]["identity"]["identityPoolId"], "us-east-1:pool");

    // A handler error arrives as lambda_runtime reports it.
    let outcome = invoke(&server, &mut child, invocation("fails", "{\"fail\":\"it broke\"}")).await;
    match outcome {
        Ok(InvocationOutcome::FunctionError { error_type, body }) => {
            assert_eq!(error_type.as_deref(), Some("unhandled"));
            let body: Value = serde_json::from_slice(&body).expect("json error body");
            assert_eq!(body, json!({"errorType": "EchoError", "errorMessage": "it broke"}));
        }
        other => panic!("expected a function error, got {other:?}"),
    }

    // A response over 6 MB is refused with 413 and the runtime carries on.
    let too_big = wire_limit() - 1; // a JSON string adds two quotes: one byte over
    let outcome = invoke(&server, &mut child, invocation("huge", &format!("{{\"repeat\":{too_big}}}"))).await;
    assert_eq!(outcome, Ok(InvocationOutcome::ResponseTooLarge));
    let fits = wire_limit() - 2; // exactly at the limit with its quotes
    match invoke(&server, &mut child, invocation("at-limit", &format!("{{\"repeat\":{fits}}}"))).await {
        Ok(InvocationOutcome::Response(body)) => assert_eq!(body.len(), wire_limit()),
        other => panic!("expected a response, got {other:?}"),
    }

    let reply = response_json(invoke(&server, &mut child, invocation("after", "{\"last\":true}")).await);
    assert_eq!(reply["event"], json!({"last": true}));

    child.kill().await.expect("kill lambda_echo");
}

fn wire_limit() -> usize {
    lambdabox_runtime_api::wire::MAX_RESPONSE_PAYLOAD_BYTES
}
