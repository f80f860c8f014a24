//! Request bodies, with AWS-shaped errors when they are malformed (query
//! strings: `query.rs`).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use serde::de::DeserializeOwned;

use crate::ApiError;

/// Decodes a JSON body; an empty body is an empty object.
pub fn json<T: DeserializeOwned + Default>(
    body: Result<Bytes, BytesRejection>,
    operation: &str,
) -> Result<T, ApiError> {
    let body = body.map_err(|rejection| crate::limits::unreadable_body(rejection, Some(operation)))?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    // The model's constraints first, as AWS validates before it acts; a
    // package member (tens of megabytes of base64) is skipped unread.
    let package = match operation {
        "CreateFunction" => "Code",
        "UpdateFunctionCode" => "ZipFile",
        "PublishLayerVersion" => "Content",
        _ => "",
    };
    if let Some(members) = crate::validate::body_members(&body, package) {
        crate::validate::check(operation, Some(&members), None, &axum::http::HeaderMap::new())?;
    }
    serde_json::from_slice(&body)
        .map_err(|e| ApiError::invalid_request_content(format!("Could not parse request body into json: {e}")))
}

/// [`json`] for bodies that carry a deployment package (up to 70 MB): the
/// parse and its base64 decoding run off the async workers, which would
/// otherwise stall every other connection for a few hundred milliseconds.
pub async fn json_package<T: DeserializeOwned + Default + Send + 'static>(
    body: Result<Bytes, BytesRejection>,
    operation: &'static str,
) -> Result<T, ApiError> {
    let body = body.map_err(|rejection| crate::limits::unreadable_body(rejection, Some(operation)))?;
    tokio::task::spawn_blocking(move || json(Ok(body), operation)).await.expect("parsing a body does not panic")
}
