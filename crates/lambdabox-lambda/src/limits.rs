//! How large a request body each operation may send, and how much memory
//! the large ones may hold at once.
//!
//! Only the operations AWS lets carry a deployment package (CreateFunction,
//! UpdateFunctionCode, PublishLayerVersion) take large bodies; Invoke takes
//! its 6 MB payload; every other operation a small body. A body declared
//! larger than its operation allows is refused at once with AWS's 413 (its
//! bytes read and discarded first, so the client sees the answer rather
//! than a reset connection); a chunked one is cut where it passes the
//! limit. Large bodies are buffered whole (the package is inspected and
//! hashed), so they share a memory budget: a request waits for its share,
//! and is throttled if it cannot get it in time.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::extract::rejection::BytesRejection;
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use lambdabox_model::limits::CODE_REQUEST_BODY;
use tokio::sync::Semaphore;

use crate::ApiError;
use lambdabox_model::limits::INVOKE_PAYLOAD_MAX as MAX_PAYLOAD;

/// Every Lambda operation without a package or a payload.
pub const SMALL_BODY: usize = 1 << 20;
/// Requests that name no Lambda operation (the CloudWatch Logs API on `/`).
pub const OTHER_BODY: usize = 2 << 20;
/// The most of a refused body read and discarded before answering.
const DRAIN_MAX: usize = 256 << 20;
/// How long a large body waits for its share of the budget.
const BUDGET_WAIT: Duration = Duration::from_secs(60);

/// Whether an operation carries a deployment package.
fn is_large(operation: Option<&str>) -> bool {
    matches!(operation, Some("CreateFunction" | "UpdateFunctionCode" | "PublishLayerVersion"))
}

/// The largest body `operation` accepts.
pub fn body_limit(operation: Option<&str>) -> usize {
    match operation {
        _ if is_large(operation) => CODE_REQUEST_BODY as usize,
        Some("InvokeFunction") => MAX_PAYLOAD,
        Some(_) => SMALL_BODY,
        None => OTHER_BODY,
    }
}

/// The memory large bodies may hold at once, in KiB permits.
#[derive(Debug)]
pub struct BodyBudget {
    permits: Arc<Semaphore>,
    total_kib: u32,
}

impl BodyBudget {
    pub fn new(bytes: u64) -> Self {
        let total_kib = (bytes / 1024).clamp(1, u64::from(u32::MAX >> 4)) as u32;
        Self { permits: Arc::new(Semaphore::new(total_kib as usize)), total_kib }
    }
}

impl Default for BodyBudget {
    /// 512 MiB: two requests with packages of the largest size at once.
    fn default() -> Self {
        Self::new(512 << 20)
    }
}

/// The 413 an oversized body gets.
pub fn too_large(operation: Option<&str>) -> ApiError {
    match operation {
        Some("InvokeFunction") => ApiError::payload_too_large(MAX_PAYLOAD),
        Some(op) => ApiError::request_too_large(op, body_limit(operation)),
        None => ApiError::request_too_large("this", body_limit(None)),
    }
}

/// The error for a body that could not be read whole: over its limit
/// (413), or stalled past the server's body timeout (408, which SDKs retry).
pub fn unreadable_body(rejection: BytesRejection, operation: Option<&str>) -> ApiError {
    use axum::extract::rejection::FailedToBufferBody;
    match rejection {
        BytesRejection::FailedToBufferBody(FailedToBufferBody::LengthLimitError(_)) => too_large(operation),
        BytesRejection::FailedToBufferBody(_) => ApiError::request_timeout(),
        other => ApiError::invalid_request_content(other.body_text()),
    }
}

fn declared_length(request: &Request) -> Option<usize> {
    request.headers().get(header::CONTENT_LENGTH)?.to_str().ok()?.parse().ok()
}

fn expects_continue(request: &Request) -> bool {
    request
        .headers()
        .get(header::EXPECT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
}

/// Reads and discards up to [`DRAIN_MAX`] bytes of a body we will not use,
/// so that the client, still sending, reads our answer instead of a reset.
async fn drain(body: Body) {
    let mut body = body;
    let mut read = 0usize;
    while let Some(Ok(frame)) = body.frame().await {
        read += frame.data_ref().map_or(0, |d| d.len());
        if read > DRAIN_MAX {
            break;
        }
    }
}

/// Refuses `request` with `error`, draining its body first unless the
/// client waits for `100 Continue` (then it never sends the body).
async fn refuse(request: Request, error: ApiError) -> Response {
    if !expects_continue(&request) {
        drain(request.into_body()).await;
    }
    let mut response = error.into_response();
    response.headers_mut().insert(header::CONNECTION, header::HeaderValue::from_static("close"));
    response
}

/// Applies the body limit of `operation` and, for packages, the budget.
pub(crate) async fn apply(budget: &BodyBudget, operation: Option<&str>, request: Request, next: Next) -> Response {
    let limit = body_limit(operation);
    let declared = declared_length(&request);
    if declared.is_some_and(|n| n > limit) {
        return refuse(request, too_large(operation)).await;
    }
    let _permit = if is_large(operation) {
        // A package is held about three times while it is handled: the
        // body, the JSON string holding its base64, the decoded zip.
        let kib = ((declared.unwrap_or(limit) * 3).div_ceil(1024) as u32).clamp(1, budget.total_kib);
        match tokio::time::timeout(BUDGET_WAIT, budget.permits.clone().acquire_many_owned(kib)).await {
            Ok(Ok(permit)) => Some(permit),
            _ => {
                let throttled = ApiError::throttled("Rate exceeded.", "CallerRateLimitExceeded");
                return refuse(request, throttled).await;
            }
        }
    } else {
        None
    };
    let request = request.map(|body| Body::new(http_body_util::Limited::new(body, limit)));
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use super::*;

    #[test]
    fn only_packages_and_payloads_are_large() {
        assert_eq!(body_limit(Some("CreateFunction")), 69_905_067);
        assert_eq!(body_limit(Some("PublishLayerVersion")), 69_905_067);
        assert_eq!(body_limit(Some("InvokeFunction")), 6_291_456);
        assert_eq!(body_limit(Some("UpdateFunctionConfiguration")), SMALL_BODY);
        assert_eq!(body_limit(Some("TagResource")), SMALL_BODY);
        assert_eq!(body_limit(None), OTHER_BODY);
        assert_eq!(StatusCode::PAYLOAD_TOO_LARGE, too_large(Some("TagResource")).status);
    }
}
