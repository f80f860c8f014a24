//! Request bodies and query strings, with AWS-shaped errors when they are malformed.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use percent_encoding::percent_decode_str;
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

/// The query's pairs, percent-decoded, in order (repeated keys kept).
pub fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    let decode = |s: &str| percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned();
    query
        .unwrap_or_default()
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(kv), String::new()),
        })
        .collect()
}

/// The `MaxItems` query parameter, which must be an integer.
pub fn max_items(uri: &axum::http::Uri) -> Result<Option<i64>, ApiError> {
    match query_value(uri.query(), "MaxItems") {
        None => Ok(None),
        Some(s) => s.parse::<i64>().map(Some).map_err(|_| {
            lambdabox_control::ControlError::from(lambdabox_model::ValidationError::new(
                s.as_str(),
                "maxItems",
                "Member must be an integer",
            ))
            .into()
        }),
    }
}

/// The first value of `key` in the query.
pub fn query_value(query: Option<&str>, key: &str) -> Option<String> {
    query_pairs(query).into_iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_keys_and_decoding() {
        let q = query_pairs(Some("tagKeys=a&tagKeys=b%20c&x=1+2&flag"));
        assert_eq!(
            q,
            vec![
                ("tagKeys".into(), "a".into()),
                ("tagKeys".into(), "b c".into()),
                ("x".into(), "1 2".into()),
                ("flag".into(), String::new())
            ]
        );
        assert_eq!(query_value(Some("Qualifier=%24LATEST"), "Qualifier").as_deref(), Some("$LATEST"));
    }
}
