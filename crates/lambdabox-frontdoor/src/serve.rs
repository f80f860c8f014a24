//! Serving front-door requests: reading the request, invoking the function
//! through the [`lambdabox_invoker::Invoker`] (never HTTP to ourselves), and
//! writing the HTTP response. `url.rs` serves function URLs, `api.rs` HTTP
//! APIs.

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use bytes::Bytes;
use http::request::Parts;
use http::{HeaderValue, Response, StatusCode};
use lambdabox_control::FunctionView;
use lambdabox_engine::Outcome;
use lambdabox_invoker::InvokeError;
use lambdabox_model::Region;

use crate::Inner;
use crate::event::HttpRequest;
use crate::host::{self, Target};

/// The largest request body the front door passes on (Lambda's 6 MB
/// synchronous payload limit).
const MAX_BODY: usize = 6 * 1024 * 1024;

/// How an invocation through the front door ended.
pub(crate) enum Invocation {
    /// The function returned this payload.
    Payload(Bytes),
    /// It threw, timed out, crashed or failed to start.
    FunctionFailed(Outcome),
    /// Its concurrency was in use.
    Throttled,
    /// The integration timeout ran out first (the function runs on).
    IntegrationTimeout,
    /// The platform failed.
    Failed(InvokeError),
}

/// The request's `Host`.
pub(crate) fn host_of(parts: &Parts) -> Option<&str> {
    parts.headers.get(http::header::HOST).and_then(|h| h.to_str().ok()).or_else(|| parts.uri.host())
}

pub(crate) fn header_pairs(parts: &Parts) -> Vec<(String, String)> {
    parts
        .headers
        .iter()
        .filter_map(|(n, v)| Some((n.as_str().to_ascii_lowercase(), v.to_str().ok()?.to_owned())))
        .collect()
}

pub(crate) fn text(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::new(Body::from(body.into()));
    *response.status_mut() = status;
    response.headers_mut().insert(http::header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// API Gateway's `{"message":"…"}` responses.
pub(crate) fn message(status: StatusCode, message: &str) -> Response<Body> {
    text(status, "application/json", serde_json::json!({ "message": message }).to_string())
}

/// Builds a response from mapped parts, dropping headers HTTP itself owns.
pub(crate) fn build(status: u16, headers: &[(String, String)], body: Bytes) -> Response<Body> {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    for (name, value) in headers {
        if matches!(name.as_str(), "content-length" | "transfer-encoding" | "connection" | "keep-alive") {
            continue;
        }
        if let (Ok(n), Ok(v)) = (http::HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) {
            response.headers_mut().append(n, v);
        }
    }
    response
}

pub(crate) fn set_header(response: &mut Response<Body>, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        response.headers_mut().insert(name, v);
    }
}

impl Inner {
    pub(crate) async fn serve(&self, request: http::Request<Body>) -> Response<Body> {
        let (parts, body) = request.into_parts();
        let Some(target) = host::target(host_of(&parts), parts.uri.path()) else {
            return message(StatusCode::NOT_FOUND, "Not Found");
        };
        let body = match axum::body::to_bytes(body, MAX_BODY).await {
            Ok(b) => b,
            Err(_) => return message(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large"),
        };
        let source_ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or_else(|| "127.0.0.1".to_owned(), |c| c.0.ip().to_string());
        let request = |raw_path: String, request_id: String| HttpRequest {
            method: parts.method.as_str().to_owned(),
            raw_path,
            raw_query: parts.uri.query().unwrap_or("").to_owned(),
            headers: header_pairs(&parts),
            body: body.clone(),
            source_ip: source_ip.clone(),
            protocol: format!("{:?}", parts.version),
            time: chrono::Utc::now(),
            request_id,
        };
        match target {
            Target::FunctionUrl { url_id, path } => {
                let req = request(path, uuid::Uuid::new_v4().to_string());
                self.serve_url(&url_id, &parts, req).await
            }
            Target::HttpApi { api_id, path } => {
                let req = request(path, apigw_request_id());
                self.serve_api(&api_id, &parts, req).await
            }
        }
    }

    /// Runs the function; with `timeout`, gives up waiting after it (the
    /// invocation itself runs to its end, as on AWS).
    pub(crate) async fn invoke(
        &self,
        request_id: String,
        view: FunctionView,
        region: Region,
        event: Bytes,
        timeout: Option<Duration>,
    ) -> Invocation {
        let invoker = self.invoker.clone();
        let run = tokio::spawn(async move { invoker.run(request_id, view, region, event, None).await });
        let joined = match timeout {
            Some(t) => match tokio::time::timeout(t, run).await {
                Ok(j) => j,
                Err(_) => return Invocation::IntegrationTimeout,
            },
            None => run.await,
        };
        match joined.expect("invocations do not panic") {
            Ok(done) => match done.result.outcome {
                Outcome::Ok(payload) => Invocation::Payload(payload),
                other => Invocation::FunctionFailed(other),
            },
            Err(InvokeError::Throttled(_)) => Invocation::Throttled,
            Err(e) => Invocation::Failed(e),
        }
    }
}

/// An id like API Gateway's request ids (`JKJaXmPLvHcESHA=`).
fn apigw_request_id() -> String {
    use base64::Engine as _;
    let bytes = uuid::Uuid::new_v4();
    base64::engine::general_purpose::STANDARD.encode(&bytes.as_bytes()[..11]).replace(['+', '/'], "A")
}
