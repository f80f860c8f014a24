//! The API over HTTP, as botocore's `scheduler` model lays it out
//! (REST-JSON): a JSON body, `x-amzn-ErrorType` and `{"Message": …}` for
//! errors, timestamps as epoch seconds. Any other path or method is
//! `UnknownOperationException`, never an empty 405.
//!
//! Under `--auth iam` each operation is authorised before it reads or
//! writes anything, as `scheduler:<Action>` on the schedule
//! (`arn:aws:scheduler:REGION:ACCOUNT:schedule/GROUP/NAME`) or group
//! (`…:schedule-group/NAME`) it names, or `*` for the List operations, as
//! AWS's service authorization reference gives them; CreateSchedule and
//! UpdateSchedule also need `iam:PassRole` on the target's role.
//! Lambdabox's own `POST /_lambdabox/schedules/{group}/{name}/fire`
//! (fire a schedule now, for development) is `scheduler:FireSchedule` on
//! the schedule.

mod groups;
mod schedules;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use lambdabox_model::Region;
use serde_json::Value;

use crate::model::{Str, Violations};
use crate::{Inner, SchedulerError};

pub(crate) type Shared = Arc<Inner>;

pub(crate) fn router(inner: Shared) -> Router {
    Router::new()
        .route("/schedules", get(schedules::list))
        .route(
            "/schedules/{name}",
            post(schedules::create).get(schedules::get).put(schedules::update).delete(schedules::delete),
        )
        .route("/schedule-groups", get(groups::list))
        .route("/schedule-groups/{name}", post(groups::create).get(groups::get).delete(groups::delete))
        .route("/tags/{*arn}", get(groups::list_tags).post(groups::tag).delete(groups::untag))
        .route("/_lambdabox/schedules/{group}/{name}/fire", post(schedules::fire))
        .method_not_allowed_fallback(unknown)
        .fallback(unknown)
        .with_state(inner)
}

async fn unknown(method: axum::http::Method, uri: axum::http::Uri) -> Response {
    render(SchedulerError::UnknownOperation {
        message: format!("Lambdabox's EventBridge Scheduler has no operation at {method} {}", uri.path()),
    })
}

pub(crate) type Outcome = Result<Value, SchedulerError>;

/// A 200 with the operation's JSON, or the error.
pub(crate) fn reply(outcome: Outcome) -> Response {
    match outcome {
        Ok(value) => with_request_id((StatusCode::OK, json_body(&value)).into_response()),
        Err(error) => render(error),
    }
}

fn json_body(value: &Value) -> ([(header::HeaderName, &'static str); 1], String) {
    ([(header::CONTENT_TYPE, "application/json")], value.to_string())
}

fn with_request_id(mut response: Response) -> Response {
    if let Ok(id) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        response.headers_mut().insert("x-amzn-RequestId", id);
    }
    response
}

/// AWS's rendering of an error: its status, `x-amzn-ErrorType` and `{"Message": …}`.
pub(crate) fn render(error: SchedulerError) -> Response {
    if error.is_internal() {
        tracing::error!(%error, "scheduler");
    }
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::json!({ "Message": error.message() });
    let mut response = (status, json_body(&body)).into_response();
    if let Ok(kind) = HeaderValue::from_str(error.error_type()) {
        response.headers_mut().insert("x-amzn-ErrorType", kind);
    }
    with_request_id(response)
}

/// The region of a request: its SigV4 credential scope, else the default.
pub(crate) fn region(inner: &Inner, headers: &HeaderMap) -> String {
    let mut request = axum::http::Request::new(());
    *request.headers_mut() = headers.clone();
    lambdabox_aws::CredentialScope::of(&request.into_parts().0)
        .and_then(|scope| Region::parse(&scope.region))
        .unwrap_or_else(|| inner.config.default_region.clone())
        .to_string()
}

/// `scheduler:<action>` on `resource` for the caller in scope (always
/// allowed under `--auth open`).
pub(crate) fn authorize(action: &str, resource: &str) -> Result<(), SchedulerError> {
    Ok(lambdabox_identity::authorize(&format!("scheduler:{action}"), resource)?)
}

/// The body as JSON (an empty body is `{}`).
pub(crate) fn parse_body(body: &[u8]) -> Result<Value, SchedulerError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Default::default()));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(SchedulerError::validation("The request body must be a JSON object.")),
        Err(e) => Err(SchedulerError::validation(format!("The request body is not valid JSON: {e}"))),
    }
}

/// A query string's parameters in order (repeated names kept: `TagKeys`).
pub(crate) fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    let decode = |s: &str| percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned();
    query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect()
}

pub(crate) fn query_value<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// `MaxResults` (1-100, default 100) and the position `NextToken` names.
pub(crate) struct Page {
    pub limit: usize,
    pub after: Option<Vec<String>>,
}

impl Page {
    /// The position after which to list, `parts` key parts long.
    pub fn after(&self, parts: usize) -> Result<Option<&[String]>, SchedulerError> {
        match &self.after {
            None => Ok(None),
            Some(p) if p.len() == parts => Ok(Some(p)),
            Some(_) => Err(SchedulerError::validation("The NextToken is not valid.")),
        }
    }
}

pub(crate) fn page(check: &mut Violations, pairs: &[(String, String)]) -> Page {
    let limit = query_value(pairs, "MaxResults").map(|v| {
        let value = v.parse::<i64>().map(Value::from).unwrap_or_else(|_| Value::from(v));
        check.integer(Some(&value), "maxResults", 1, 100)
    });
    let token = query_value(pairs, "NextToken").map(Value::from);
    let token = check.string(token.as_ref(), "nextToken", &Str::new(false, 1, Some(2048)));
    let after = token.map(|t| decode_token(&t).unwrap_or_default());
    Page { limit: limit.flatten().unwrap_or(100) as usize, after }
}

/// A page token: the last item's key parts, opaque to clients.
pub(crate) fn encode_token(parts: &[&str]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(parts.join("\n"))
}

fn decode_token(token: &str) -> Option<Vec<String>> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token).ok()?;
    Some(String::from_utf8(bytes).ok()?.split('\n').map(str::to_owned).collect())
}

#[cfg(test)]
mod tests;
