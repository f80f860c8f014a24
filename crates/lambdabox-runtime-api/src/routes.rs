//! The HTTP face of the mailbox: the four Runtime API routes, each a thin
//! translation between a request and a [`Mailbox`] call, replying with RAPID's
//! status codes and bodies.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;

use crate::body::{Payload, read_limited};
use crate::mailbox::Mailbox;
use crate::wire::{self, RuntimeState};
use crate::{InitFailure, InvocationOutcome};

const APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");

pub(crate) fn router(mailbox: Arc<Mailbox>) -> Router {
    Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route("/2018-06-01/runtime/invocation/{request_id}/response", post(response))
        .route("/2018-06-01/runtime/invocation/{request_id}/error", post(error))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .fallback(not_found)
        .with_state(mailbox)
}

/// `GET /runtime/invocation/next`: long-polls for the invocation in flight.
async fn next(State(mailbox): State<Arc<Mailbox>>) -> Response {
    match mailbox.next().await {
        Ok(event) => {
            let mut response = Response::new(Body::from(event.body.clone()));
            *response.headers_mut() = event.headers.clone();
            response
        }
        Err(from) => invalid_state_transition(from, RuntimeState::Ready),
    }
}

/// `POST /runtime/invocation/{AwsRequestId}/response`.
async fn response(
    State(mailbox): State<Arc<Mailbox>>,
    request_id: Result<Path<String>, PathRejection>,
    request: Request,
) -> Response {
    // An id that does not decode (not UTF-8) names no invocation.
    let Ok(Path(request_id)) = request_id else { return json(StatusCode::BAD_REQUEST, wire::INVALID_REQUEST_ID_BODY) };
    let streaming = request
        .headers()
        .get(wire::FUNCTION_RESPONSE_MODE)
        .is_some_and(|mode| mode.as_bytes().eq_ignore_ascii_case(b"streaming"));
    let outcome = match read_limited(request.into_body(), wire::MAX_RESPONSE_PAYLOAD_BYTES).await {
        Ok(Payload::Complete { data, trailers }) => match trailers {
            Some(trailers) if streaming => streamed_outcome(data, &trailers),
            _ => InvocationOutcome::Response(data),
        },
        Ok(Payload::TooLarge) => InvocationOutcome::ResponseTooLarge,
        Err(_) => return json(StatusCode::BAD_REQUEST, wire::TRUNCATED_BODY),
    };
    complete(&mailbox, &request_id, outcome)
}

/// A streamed response that ended with error trailers is a function error
/// (the trailer body is base64, as AWS specifies; kept raw if it is not).
fn streamed_outcome(data: Bytes, trailers: &HeaderMap) -> InvocationOutcome {
    let Some(error_type) = trailers.get(wire::FUNCTION_ERROR_TYPE) else {
        return InvocationOutcome::Response(data);
    };
    let body = trailers
        .get(wire::FUNCTION_ERROR_BODY)
        .map(|raw| BASE64.decode(raw.as_bytes()).map_or_else(|_| Bytes::copy_from_slice(raw.as_bytes()), Bytes::from))
        .unwrap_or_default();
    InvocationOutcome::FunctionError { error_type: header_string(error_type), body }
}

/// `POST /runtime/invocation/{AwsRequestId}/error`.
async fn error(
    State(mailbox): State<Arc<Mailbox>>,
    request_id: Result<Path<String>, PathRejection>,
    request: Request,
) -> Response {
    let Ok(Path(request_id)) = request_id else { return json(StatusCode::BAD_REQUEST, wire::INVALID_REQUEST_ID_BODY) };
    let error_type = request.headers().get(wire::FUNCTION_ERROR_TYPE).and_then(header_string);
    let outcome = match read_limited(request.into_body(), wire::MAX_RESPONSE_PAYLOAD_BYTES).await {
        Ok(Payload::Complete { data, .. }) => InvocationOutcome::FunctionError { error_type, body: data },
        Ok(Payload::TooLarge) => InvocationOutcome::ResponseTooLarge,
        Err(_) => return json(StatusCode::BAD_REQUEST, wire::TRUNCATED_BODY),
    };
    complete(&mailbox, &request_id, outcome)
}

fn complete(mailbox: &Mailbox, request_id: &str, outcome: InvocationOutcome) -> Response {
    let too_large = matches!(outcome, InvocationOutcome::ResponseTooLarge);
    match mailbox.complete(request_id, outcome) {
        Ok(()) if too_large => json(StatusCode::PAYLOAD_TOO_LARGE, wire::REQUEST_TOO_LARGE_BODY),
        Ok(()) => json(StatusCode::ACCEPTED, wire::ACCEPTED_BODY),
        Err(_) => {
            tracing::debug!(request_id, "reply for an invocation not in flight");
            json(StatusCode::BAD_REQUEST, wire::INVALID_REQUEST_ID_BODY)
        }
    }
}

/// `POST /runtime/init/error`.
async fn init_error(State(mailbox): State<Arc<Mailbox>>, request: Request) -> Response {
    let error_type = request
        .headers()
        .get(wire::FUNCTION_ERROR_TYPE)
        .and_then(header_string)
        .unwrap_or_else(|| wire::UNKNOWN_ERROR_TYPE.to_owned());
    let body = match read_limited(request.into_body(), wire::MAX_RESPONSE_PAYLOAD_BYTES).await {
        Ok(Payload::Complete { data, .. }) => data,
        Ok(Payload::TooLarge) => {
            return json(StatusCode::PAYLOAD_TOO_LARGE, wire::REQUEST_TOO_LARGE_BODY);
        }
        Err(_) => return json(StatusCode::BAD_REQUEST, wire::TRUNCATED_BODY),
    };
    match mailbox.init_error(InitFailure { error_type, body }) {
        Ok(()) => json(StatusCode::ACCEPTED, wire::ACCEPTED_BODY),
        Err(from) => invalid_state_transition(from, RuntimeState::InitError),
    }
}

/// Any other path: what Go's `http.NotFound` (behind RAPID's router) replies.
async fn not_found() -> Response {
    let mut response = Response::new(Body::from(Bytes::from_static(wire::NOT_FOUND_BODY)));
    *response.status_mut() = StatusCode::NOT_FOUND;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    headers.insert(wire::CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

fn invalid_state_transition(from: RuntimeState, to: RuntimeState) -> Response {
    tracing::debug!(?from, ?to, "runtime api call not allowed in this state");
    let body = wire::invalid_state_transition_body(from, to);
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::FORBIDDEN;
    response.headers_mut().insert(CONTENT_TYPE, APPLICATION_JSON);
    response
}

fn json(status: StatusCode, body: &'static [u8]) -> Response {
    let mut response = Response::new(Body::from(Bytes::from_static(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, APPLICATION_JSON);
    response
}

fn header_string(value: &HeaderValue) -> Option<String> {
    value.to_str().ok().map(str::to_owned)
}
