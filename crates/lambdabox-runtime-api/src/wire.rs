//! The bytes on the wire: paths, header names, limits and the exact response
//! bodies that AWS's Runtime API server (RAPID) renders.
//!
//! RAPID renders its JSON replies with Go's `json.Encoder`, which ends every
//! document with a newline; the bodies below keep that newline so a runtime
//! sees byte for byte what it would see on AWS.

use axum::http::HeaderName;

/// The version prefix every Runtime API path starts with.
pub const API_PREFIX: &str = "/2018-06-01";

/// The largest response payload a runtime may post, in bytes: 6 MiB plus 100
/// bytes, as AWS enforces it (a payload of exactly this size is accepted).
pub const MAX_RESPONSE_PAYLOAD_BYTES: usize = 6 * 1024 * 1024 + 100;

/// The error type the caller of an invocation sees when the runtime posted a
/// response larger than [`MAX_RESPONSE_PAYLOAD_BYTES`].
pub const RESPONSE_TOO_LARGE_ERROR_TYPE: &str = "Function.ResponseSizeTooLarge";

/// The error document the caller of an invocation sees when the runtime posted a
/// response larger than [`MAX_RESPONSE_PAYLOAD_BYTES`] (AWS's field order, no
/// trailing newline: it is a payload, not a RAPID reply).
pub const RESPONSE_TOO_LARGE_BODY: &str = "{\"errorType\":\"Function.ResponseSizeTooLarge\",\"errorMessage\":\"Response payload size exceeded maximum allowed payload size (6291556 bytes).\"}";

/// The error type recorded for an init error posted without a
/// `Lambda-Runtime-Function-Error-Type` header.
pub const UNKNOWN_ERROR_TYPE: &str = "Runtime.Unknown";

pub(crate) const REQUEST_ID: HeaderName = HeaderName::from_static("lambda-runtime-aws-request-id");
pub(crate) const DEADLINE_MS: HeaderName = HeaderName::from_static("lambda-runtime-deadline-ms");
pub(crate) const INVOKED_FUNCTION_ARN: HeaderName = HeaderName::from_static("lambda-runtime-invoked-function-arn");
pub(crate) const TRACE_ID: HeaderName = HeaderName::from_static("lambda-runtime-trace-id");
pub(crate) const CLIENT_CONTEXT: HeaderName = HeaderName::from_static("lambda-runtime-client-context");
pub(crate) const COGNITO_IDENTITY: HeaderName = HeaderName::from_static("lambda-runtime-cognito-identity");
pub(crate) const FUNCTION_ERROR_TYPE: HeaderName = HeaderName::from_static("lambda-runtime-function-error-type");
pub(crate) const FUNCTION_ERROR_BODY: HeaderName = HeaderName::from_static("lambda-runtime-function-error-body");
pub(crate) const FUNCTION_RESPONSE_MODE: HeaderName = HeaderName::from_static("lambda-runtime-function-response-mode");
pub(crate) const CONTENT_TYPE_OPTIONS: HeaderName = HeaderName::from_static("x-content-type-options");

/// `202 Accepted` body of `/response`, `/error` and `/init/error`.
pub(crate) const ACCEPTED_BODY: &[u8] = b"{\"status\":\"OK\"}\n";

/// `400` body for a request id that is not the invocation in flight.
pub(crate) const INVALID_REQUEST_ID_BODY: &[u8] =
    b"{\"errorMessage\":\"Invalid request ID\",\"errorType\":\"InvalidRequestID\"}\n";

/// `413` body for a response over [`MAX_RESPONSE_PAYLOAD_BYTES`].
pub(crate) const REQUEST_TOO_LARGE_BODY: &[u8] = b"{\"errorMessage\":\"Exceeded maximum allowed payload size (6291556 bytes).\",\"errorType\":\"RequestEntityTooLarge\"}\n";

/// `400` body for a request whose body ended before it was complete.
pub(crate) const TRUNCATED_BODY: &[u8] =
    b"{\"errorMessage\":\"HTTP request detected as truncated\",\"errorType\":\"TruncatedHTTPRequest\"}\n";

/// `404` body, as Go's `http.NotFound` writes it.
pub(crate) const NOT_FOUND_BODY: &[u8] = b"404 page not found\n";

/// The runtime states RAPID names in its `InvalidStateTransition` messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RuntimeState {
    InitError,
    Ready,
    Running,
}

impl RuntimeState {
    fn name(self) -> &'static str {
        match self {
            RuntimeState::InitError => "InitError",
            RuntimeState::Ready => "Ready",
            RuntimeState::Running => "Running",
        }
    }
}

/// `403` body for a call the runtime's current state does not allow.
pub(crate) fn invalid_state_transition_body(from: RuntimeState, to: RuntimeState) -> Vec<u8> {
    format!(
        "{{\"errorMessage\":\"State transition from {} to {} failed for runtime. Error: State transition is not allowed\",\"errorType\":\"InvalidStateTransition\"}}\n",
        from.name(),
        to.name()
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_match_the_numbers_in_the_bodies() {
        assert_eq!(MAX_RESPONSE_PAYLOAD_BYTES, 6_291_556);
        let limit = MAX_RESPONSE_PAYLOAD_BYTES.to_string();
        assert!(RESPONSE_TOO_LARGE_BODY.contains(&limit));
        assert!(String::from_utf8_lossy(REQUEST_TOO_LARGE_BODY).contains(&limit));
    }

    #[test]
    fn bodies_are_json_documents() {
        for body in [
            ACCEPTED_BODY,
            INVALID_REQUEST_ID_BODY,
            REQUEST_TOO_LARGE_BODY,
            TRUNCATED_BODY,
            RESPONSE_TOO_LARGE_BODY.as_bytes(),
            &invalid_state_transition_body(RuntimeState::InitError, RuntimeState::Ready),
        ] {
            let value: serde_json::Value = serde_json::from_slice(body).expect("valid json");
            assert!(value.is_object());
        }
    }

    #[test]
    fn invalid_state_transition_names_both_states() {
        let body = invalid_state_transition_body(RuntimeState::Running, RuntimeState::InitError);
        assert_eq!(
            std::str::from_utf8(&body).unwrap(),
            "{\"errorMessage\":\"State transition from Running to InitError failed for runtime. Error: State transition is not allowed\",\"errorType\":\"InvalidStateTransition\"}\n"
        );
    }
}
