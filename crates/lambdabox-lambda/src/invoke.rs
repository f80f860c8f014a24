//! Invoke (`POST /2015-03-31/functions/{FunctionName}/invocations`):
//! `RequestResponse`, `Event` (queued durably, 202) and `DryRun` (204).

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use lambdabox_control::ControlError;
use lambdabox_engine::tail_base64;
use lambdabox_invoker::InvokeError;
use lambdabox_model::ValidationError;

use crate::target::FunctionTarget;
use crate::{ApiError, AppState};

use lambdabox_model::limits::{EVENT_PAYLOAD_MAX as MAX_EVENT_PAYLOAD, INVOKE_PAYLOAD_MAX as MAX_PAYLOAD};
/// The largest decoded `X-Amz-Client-Context`.
const MAX_CLIENT_CONTEXT: usize = 3583;

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn too_large(limit: usize) -> ApiError {
    ApiError::payload_too_large(limit)
}

fn enum_error(value: &str, field: &str, set: &str) -> ApiError {
    ControlError::from(ValidationError::new(value, field, format!("Member must satisfy enum value set: [{set}]")))
        .into()
}

impl From<InvokeError> for ApiError {
    fn from(e: InvokeError) -> Self {
        match e {
            InvokeError::Control(c) => c.into(),
            InvokeError::Throttled(throttle) => ApiError {
                status: StatusCode::TOO_MANY_REQUESTS,
                error_type: "TooManyRequestsException",
                body: lambdabox_proto::ErrorBody {
                    reason: Some(throttle.reason().to_owned()),
                    ..lambdabox_proto::ErrorBody::user("Rate Exceeded.")
                },
            },
            other => {
                tracing::error!(error = ?other, "invoke failed");
                ApiError::service("Lambdabox could not run the invocation; the server's log has the details.")
            }
        }
    }
}

pub async fn invoke(
    State(state): State<AppState>,
    FunctionTarget { region, name, qualifier }: FunctionTarget,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let payload = body.map_err(|rejection| crate::limits::unreadable_body(rejection, Some("InvokeFunction")))?;
    let invocation_type = header(&headers, "x-amz-invocation-type").unwrap_or("RequestResponse");
    if !matches!(invocation_type, "RequestResponse" | "Event" | "DryRun") {
        return Err(enum_error(invocation_type, "invocationType", "Event, RequestResponse, DryRun"));
    }
    let limit = if invocation_type == "Event" { MAX_EVENT_PAYLOAD } else { MAX_PAYLOAD };
    if payload.len() > limit {
        return Err(too_large(limit));
    }
    let log_type = header(&headers, "x-amz-log-type").unwrap_or("None");
    if !matches!(log_type, "None" | "Tail") {
        return Err(enum_error(log_type, "logType", "Tail, None"));
    }
    let function = state.invoker.resolve(&region, &name, qualifier.as_deref()).await?;
    if lambdabox_aws::session::chain_depth() > lambdabox_aws::session::RECURSION_LIMIT {
        tracing::warn!(function = %function.arn, "recursive invocation loop stopped");
        return Err(ApiError::user(
            StatusCode::BAD_REQUEST,
            "RecursiveInvocationException",
            "Lambda has detected your function being invoked in a recursive loop with other AWS resources and stopped your function's invocation.",
        ));
    }
    let payload = if payload.iter().all(u8::is_ascii_whitespace) { Bytes::from_static(b"{}") } else { payload };
    if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&payload) {
        return Err(ApiError::invalid_request_content(format!(
            "Could not parse request body into json: Could not parse payload into json: {e}"
        )));
    }
    let client_context = match header(&headers, "x-amz-client-context") {
        None => None,
        Some(b64) => Some(decode_client_context(b64)?),
    };
    match invocation_type {
        "DryRun" => return Ok(StatusCode::NO_CONTENT.into_response()),
        "Event" => {
            let qualifier = qualifier.or_else(|| function_qualifier(&name));
            let request_id = state.invoker.enqueue(&function, qualifier.as_deref(), &region, payload).await?;
            let mut response = StatusCode::ACCEPTED.into_response();
            response.headers_mut().insert("x-amzn-RequestId", header_value(&request_id));
            return Ok(response);
        }
        _ => {}
    }
    let request_id = uuid::Uuid::new_v4().to_string();
    let done = state.invoker.run(request_id, function, region, payload, client_context).await?;
    let result = done.result;
    let mut response = (StatusCode::OK, result.outcome.payload(&result.request_id)).into_response();
    let h = response.headers_mut();
    h.insert("content-type", HeaderValue::from_static("application/json"));
    h.insert("x-amzn-RequestId", header_value(&result.request_id));
    h.insert("X-Amz-Executed-Version", header_value(&result.executed_version));
    if result.outcome.is_error() {
        h.insert("X-Amz-Function-Error", HeaderValue::from_static("Unhandled"));
    }
    if log_type == "Tail" {
        h.insert("X-Amz-Log-Result", header_value(&tail_base64(&result.log)));
    }
    Ok(response)
}

/// The qualifier carried in the function identifier itself (`name:alias`).
fn function_qualifier(identifier: &str) -> Option<String> {
    lambdabox_model::FunctionRef::parse(identifier, "functionName").ok()?.qualifier.map(|q| q.to_string())
}

fn header_value(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `X-Amz-Client-Context` is base64 of a JSON object of at most 3,583 bytes.
fn decode_client_context(b64: &str) -> Result<String, ApiError> {
    let invalid = || ApiError::invalid_request_content("Client context must be a valid Base64-encoded JSON object.");
    let bytes = base64::engine::general_purpose::STANDARD.decode(b64.trim()).map_err(|_| invalid())?;
    if bytes.len() > MAX_CLIENT_CONTEXT {
        return Err(ApiError::invalid_parameter(format!(
            "Client context must be smaller than {MAX_CLIENT_CONTEXT} bytes when decoded"
        )));
    }
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&text).map_err(|_| invalid())?;
    Ok(text)
}
