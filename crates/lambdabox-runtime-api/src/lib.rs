//! The AWS Lambda Runtime API (version 2018-06-01) for one execution
//! environment.
//!
//! The engine creates one [`RuntimeApi`] per ExecutionEnvironment, serves its
//! [`RuntimeApi::router`] where the runtime's `AWS_LAMBDA_RUNTIME_API` points
//! (see [`serve`]), starts the bootstrap, awaits [`RuntimeApi::wait_ready`] and
//! then drives invocations through [`RuntimeApi::invoke`], one at a time.
//!
//! The runtime's side is the HTTP API AWS documents: `GET
//! /runtime/invocation/next` long-polls for the next event, `POST
//! /runtime/invocation/{AwsRequestId}/response` and `/error` answer it, and
//! `POST /runtime/init/error` reports a failed INIT. Status codes and bodies are
//! those of AWS's own server (RAPID).

mod body;
mod mailbox;
mod routes;
mod serve;
pub mod wire;

use std::sync::Arc;

use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue};
use bytes::Bytes;

use crate::mailbox::{CancelOnDrop, Event, Mailbox};

pub use crate::serve::{MAX_CONNECTIONS, serve};

/// The Runtime API of one execution environment. Cheap to clone: clones share
/// the same mailbox.
#[derive(Debug, Clone)]
pub struct RuntimeApi {
    mailbox: Arc<Mailbox>,
}

/// One invocation as the runtime receives it from `GET /next`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// `Lambda-Runtime-Aws-Request-Id`; also the `{AwsRequestId}` of the reply.
    pub request_id: String,
    /// The event, served as the body of `/next` (`application/json`).
    pub payload: Bytes,
    /// `Lambda-Runtime-Deadline-Ms`: milliseconds since the Unix epoch.
    pub deadline_epoch_ms: u64,
    /// `Lambda-Runtime-Invoked-Function-Arn` (omitted when empty).
    pub invoked_function_arn: String,
    /// `Lambda-Runtime-Trace-Id` (omitted when empty).
    pub trace_id: String,
    /// `Lambda-Runtime-Client-Context`, a JSON document.
    pub client_context: Option<String>,
    /// `Lambda-Runtime-Cognito-Identity`, a JSON document.
    pub cognito_identity: Option<String>,
}

/// How an invocation ended, as the runtime reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvocationOutcome {
    /// `POST /response`: the function's result.
    Response(Bytes),
    /// `POST /error`, or a streamed response that ended with error trailers:
    /// the `Lambda-Runtime-Function-Error-Type` header (if any) and the error
    /// document (`errorMessage`, `errorType`, `stackTrace`) as the runtime sent it.
    FunctionError { error_type: Option<String>, body: Bytes },
    /// The runtime posted more than [`wire::MAX_RESPONSE_PAYLOAD_BYTES`]; the
    /// caller sees [`InvocationOutcome::response_too_large_body`].
    ResponseTooLarge,
}

impl InvocationOutcome {
    /// The error document AWS returns to the caller for
    /// [`InvocationOutcome::ResponseTooLarge`] (error type
    /// [`wire::RESPONSE_TOO_LARGE_ERROR_TYPE`]).
    pub fn response_too_large_body() -> Bytes {
        Bytes::from_static(wire::RESPONSE_TOO_LARGE_BODY.as_bytes())
    }
}

/// The runtime reported `POST /runtime/init/error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitFailure {
    /// The `Lambda-Runtime-Function-Error-Type` header, or
    /// [`wire::UNKNOWN_ERROR_TYPE`] when the runtime sent none.
    pub error_type: String,
    /// The error document as the runtime sent it.
    pub body: Bytes,
}

/// Why [`RuntimeApi::invoke`] has no outcome to give.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvokeError {
    #[error("an invocation is already in flight in this execution environment")]
    Busy,
    #[error("the runtime failed to initialize ({})", .0.error_type)]
    InitFailed(InitFailure),
    #[error("invocation field {field} cannot be sent as an http header value")]
    InvalidHeaderValue { field: &'static str },
    #[error("the invocation was dropped by the mailbox without an outcome")]
    Abandoned,
}

impl Default for RuntimeApi {
    fn default() -> Self {
        Self::new()
    }
}

impl RuntimeApi {
    pub fn new() -> Self {
        RuntimeApi { mailbox: Arc::new(Mailbox::new()) }
    }

    /// The Runtime API routes, to mount at the root (paths start
    /// `/2018-06-01/`).
    pub fn router(&self) -> axum::Router {
        routes::router(Arc::clone(&self.mailbox))
    }

    /// Resolves when the runtime has finished INIT (its first `GET /next`) or
    /// reported `POST /init/error`.
    pub async fn wait_ready(&self) -> Result<(), InitFailure> {
        self.mailbox.wait_ready().await
    }

    /// Queues one invocation and awaits its outcome. One invocation is in flight
    /// at a time: a second concurrent call fails with [`InvokeError::Busy`].
    ///
    /// Cancel-safe: dropping the future withdraws the invocation, so a later
    /// reply for its request id gets `400 InvalidRequestID` and the next
    /// `invoke` can proceed.
    pub async fn invoke(&self, invocation: Invocation) -> Result<InvocationOutcome, InvokeError> {
        let event = render(invocation)?;
        let (generation, outcome) = self.mailbox.enqueue(event)?;
        let guard = CancelOnDrop::new(&self.mailbox, generation);
        let outcome = outcome.await;
        guard.disarm();
        outcome.unwrap_or(Err(InvokeError::Abandoned))
    }
}

/// Renders the `/next` reply once, at enqueue time: the runtime may ask for it
/// more than once, and a clone of each part is a reference count.
fn render(invocation: Invocation) -> Result<Event, InvokeError> {
    fn value(field: &'static str, text: String) -> Result<HeaderValue, InvokeError> {
        HeaderValue::from_maybe_shared(Bytes::from(text)).map_err(|_| InvokeError::InvalidHeaderValue { field })
    }

    if invocation.request_id.is_empty() {
        return Err(InvokeError::InvalidHeaderValue { field: "request_id" });
    }
    let mut headers = HeaderMap::with_capacity(8);
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(wire::REQUEST_ID, value("request_id", invocation.request_id.clone())?);
    headers.insert(wire::DEADLINE_MS, HeaderValue::from(invocation.deadline_epoch_ms));
    if !invocation.invoked_function_arn.is_empty() {
        headers.insert(wire::INVOKED_FUNCTION_ARN, value("invoked_function_arn", invocation.invoked_function_arn)?);
    }
    if !invocation.trace_id.is_empty() {
        headers.insert(wire::TRACE_ID, value("trace_id", invocation.trace_id)?);
    }
    if let Some(context) = invocation.client_context.filter(|c| !c.is_empty()) {
        headers.insert(wire::CLIENT_CONTEXT, value("client_context", context)?);
    }
    if let Some(identity) = invocation.cognito_identity.filter(|c| !c.is_empty()) {
        headers.insert(wire::COGNITO_IDENTITY, value("cognito_identity", identity)?);
    }
    Ok(Event { request_id: invocation.request_id.into_boxed_str(), headers, body: invocation.payload })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invocation() -> Invocation {
        Invocation {
            request_id: "8476a536-e9f4-11e8-9739-2dfe598c3fcd".into(),
            payload: Bytes::from_static(b"{}"),
            deadline_epoch_ms: 1_542_409_706_888,
            invoked_function_arn: "arn:aws:lambda:us-east-2:123456789012:function:custom-runtime".into(),
            trace_id: "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1".into(),
            client_context: None,
            cognito_identity: None,
        }
    }

    #[test]
    fn render_sets_aws_headers_and_omits_absent_ones() {
        let event = render(invocation()).unwrap();
        assert_eq!(event.headers["content-type"], "application/json");
        assert_eq!(event.headers["lambda-runtime-deadline-ms"], "1542409706888");
        assert_eq!(event.headers["lambda-runtime-aws-request-id"], "8476a536-e9f4-11e8-9739-2dfe598c3fcd");
        assert!(!event.headers.contains_key("lambda-runtime-client-context"));
        assert!(!event.headers.contains_key("lambda-runtime-cognito-identity"));
    }

    #[test]
    fn render_rejects_values_that_are_not_header_values() {
        let mut bad = invocation();
        bad.trace_id = "a\nb".into();
        assert_eq!(render(bad).unwrap_err(), InvokeError::InvalidHeaderValue { field: "trace_id" });
        let mut empty = invocation();
        empty.request_id.clear();
        assert!(render(empty).is_err());
    }

    #[test]
    fn response_too_large_body_is_aws_document() {
        let body = InvocationOutcome::response_too_large_body();
        let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(value["errorType"], wire::RESPONSE_TOO_LARGE_ERROR_TYPE);
        assert_eq!(
            value["errorMessage"],
            "Response payload size exceeded maximum allowed payload size (6291556 bytes)."
        );
    }
}
