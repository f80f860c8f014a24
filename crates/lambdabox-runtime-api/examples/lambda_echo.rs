//! A Lambda function built on the official `lambda_runtime` crate, used by the
//! conformance tests and the latency measurement: it answers each event with
//! the event and the context `lambda_runtime` parsed from our headers.
//!
//! `{"fail": "message"}` makes it fail with error type `EchoError`;
//! `{"repeat": n}` makes it answer a JSON string of `n` letters (to exceed the
//! response size limit).

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::{Value, json};

async fn echo(event: LambdaEvent<Value>) -> Result<Value, Diagnostic> {
    let (payload, context) = event.into_parts();
    if let Some(message) = payload.get("fail").and_then(Value::as_str) {
        return Err(Diagnostic { error_type: "EchoError".to_owned(), error_message: message.to_owned() });
    }
    if let Some(n) = payload.get("repeat").and_then(Value::as_u64) {
        let n = usize::try_from(n).map_err(|_| Diagnostic {
            error_type: "EchoError".to_owned(),
            error_message: "repeat too large".to_owned(),
        })?;
        return Ok(Value::String("a".repeat(n)));
    }
    Ok(json!({
        "event": payload,
        "context": {
            "request_id": context.request_id,
            "deadline": context.deadline,
            "invoked_function_arn": context.invoked_function_arn,
            "xray_trace_id": context.xray_trace_id,
            "client_context": context.client_context,
            "identity": context.identity,
        },
    }))
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::run(service_fn(echo)).await
}
