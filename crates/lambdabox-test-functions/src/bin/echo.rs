//! `lambdabox-test-echo`: a `bootstrap` that answers each event with the event, the context
//! `lambda_runtime` parsed from the Runtime API's headers and a few facts
//! about the process, so a test can check what the function saw.
//!
//! - `{"fail": "message"}`: fails with error type `EchoError` and that message.
//! - `{"exit": n}`: exits the process with status `n` mid-invocation.
//! - anything else: `{"event", "context", "process"}`, where `process` holds
//!   the invocation count of this process (1, 2, … while the environment is
//!   warm), its working directory and the reserved variables it was given.

use std::sync::atomic::{AtomicU64, Ordering};

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::{Value, json};

/// Invocations served by this process.
static COUNT: AtomicU64 = AtomicU64::new(0);

/// The reserved variables a custom runtime's bootstrap is started with.
const VARIABLES: &[&str] = &[
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "LAMBDA_TASK_ROOT",
    "_HANDLER",
];

async fn echo(event: LambdaEvent<Value>) -> Result<Value, Diagnostic> {
    let (payload, context) = event.into_parts();
    let count = COUNT.fetch_add(1, Ordering::SeqCst) + 1;
    println!("echo handling {} (invocation {count} of this process)", context.request_id);
    if let Some(message) = payload.get("fail").and_then(Value::as_str) {
        return Err(Diagnostic { error_type: "EchoError".to_owned(), error_message: message.to_owned() });
    }
    if let Some(code) = payload.get("exit").and_then(Value::as_i64) {
        std::process::exit(i32::try_from(code).unwrap_or(1));
    }
    let variables: serde_json::Map<String, Value> = VARIABLES
        .iter()
        .map(|name| ((*name).to_owned(), std::env::var(name).map_or(Value::Null, Value::String)))
        .collect();
    let cwd = std::env::current_dir().map(|p| p.display().to_string()).unwrap_or_default();
    // What lambda_runtime read from the environment at start-up.
    let config = &context.env_config;
    Ok(json!({
        "event": payload,
        "context": {
            "request_id": context.request_id,
            "deadline": context.deadline,
            "invoked_function_arn": context.invoked_function_arn,
            "xray_trace_id": context.xray_trace_id,
            "client_context": context.client_context,
            "function_name": config.function_name,
            "memory": config.memory,
            "version": config.version,
            "log_stream": config.log_stream,
            "log_group": config.log_group,
        },
        "process": {
            "count": count,
            "pid": std::process::id(),
            "cwd": cwd,
            "env": variables,
        },
    }))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::run(service_fn(echo)).await
}
