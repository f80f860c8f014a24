//! Invoke (`POST /2015-03-31/functions/{FunctionName}/invocations`):
//! synchronous (`RequestResponse`) and `DryRun` invocations.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use lambdabox_control::ControlError;
use lambdabox_engine::{InvokeRequest, tail_base64};
use lambdabox_model::ValidationError;

use crate::functions::qualifier;
use crate::region::RequestRegion;
use crate::{ApiError, AppState};

/// The largest synchronous request payload (6 MB).
pub const MAX_PAYLOAD: usize = 6_291_456;
/// The largest decoded `X-Amz-Client-Context`.
const MAX_CLIENT_CONTEXT: usize = 3583;

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn too_large() -> ApiError {
    ApiError {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        error_type: "RequestTooLargeException",
        body: lambdabox_proto::ErrorBody::user(format!(
            "Request must be smaller than {MAX_PAYLOAD} bytes for the InvokeFunction operation"
        )),
    }
}

pub async fn invoke(
    State(state): State<AppState>,
    RequestRegion(region): RequestRegion,
    Path(name): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let payload = body.map_err(|_| too_large())?;
    if payload.len() > MAX_PAYLOAD {
        return Err(too_large());
    }
    let invocation_type = header(&headers, "x-amz-invocation-type").unwrap_or("RequestResponse");
    if !matches!(invocation_type, "RequestResponse" | "Event" | "DryRun") {
        return Err(ControlError::from(ValidationError::new(
            invocation_type,
            "invocationType",
            "Member must satisfy enum value set: [Event, RequestResponse, DryRun]",
        ))
        .into());
    }
    let log_type = header(&headers, "x-amz-log-type").unwrap_or("None");
    if !matches!(log_type, "None" | "Tail") {
        return Err(ControlError::from(ValidationError::new(
            log_type,
            "logType",
            "Member must satisfy enum value set: [Tail, None]",
        ))
        .into());
    }
    let sample = (uuid::Uuid::new_v4().as_u128() >> 75) as f64 / (1u64 << 53) as f64;
    let view = state.control.resolve(&region, &name, qualifier(&uri).as_deref(), Some(sample)).await?;
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
    if invocation_type == "DryRun" {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    if invocation_type == "Event" {
        return Err(ApiError::invalid_parameter(
            "Asynchronous invocation (InvocationType Event) is not available on this server yet",
        ));
    }
    let Some(code_zip) = state.control.blobs().local_path(&view.config.code.blob_key) else {
        return Err(service_error("the code package is not on local disk"));
    };
    let executed = view.config.version.clone();
    let request = InvokeRequest { function: view.config, invoked_arn: view.arn, region, payload, client_context };
    let result = state.engine.invoke(request, code_zip).await.map_err(|e| {
        tracing::error!(error = ?e, "invoke failed");
        service_error(&format!("the execution environment could not be started: {e}"))
    })?;

    let mut response = (StatusCode::OK, result.outcome.payload(&result.request_id)).into_response();
    let h = response.headers_mut();
    h.insert("content-type", HeaderValue::from_static("application/json"));
    h.insert("x-amzn-RequestId", header_value(&result.request_id));
    h.insert("X-Amz-Executed-Version", header_value(&executed));
    if result.outcome.is_error() {
        h.insert("X-Amz-Function-Error", HeaderValue::from_static("Unhandled"));
    }
    if log_type == "Tail" {
        h.insert("X-Amz-Log-Result", header_value(&tail_base64(&result.log)));
    }
    Ok(response)
}

fn header_value(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn service_error(message: &str) -> ApiError {
    ApiError {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        error_type: "ServiceException",
        body: lambdabox_proto::ErrorBody::service(message),
    }
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
