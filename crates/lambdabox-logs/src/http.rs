//! The API over HTTP: AWS's JSON 1.1 protocol. A request is `POST /` with
//! `X-Amz-Target: Logs_20140328.<Operation>` and a JSON body; the answer is
//! JSON of type `application/x-amz-json-1.1`, or an error body
//! `{"__type": "...", "message": "..."}` with AWS's status.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lambdabox_model::Region;

use crate::{CONTENT_TYPE, LogsApi, LogsError, TARGET_PREFIX};

/// The CloudWatch Logs API: `POST /` with its `X-Amz-Target`; anything else
/// is Logs' own `UnknownOperationException`. Requests without a SigV4 scope
/// address `default_region`.
pub fn router(api: LogsApi, default_region: Region) -> Router {
    Router::new().fallback(handle).with_state((api, default_region))
}

async fn handle(State((api, default_region)): State<(LogsApi, Region)>, parts: Parts, body: Bytes) -> Response {
    let region = lambdabox_aws::CredentialScope::of(&parts)
        .and_then(|scope| Region::parse(&scope.region))
        .unwrap_or(default_region);
    match (parts.method == axum::http::Method::POST && parts.uri.path() == "/", operation(&parts.headers)) {
        (true, Some(op)) => match authorize(region.as_str(), op, &body) {
            Ok(()) => serve(&api, region.as_str(), op, body).await,
            Err(denied) => json(
                StatusCode::BAD_REQUEST,
                &serde_json::json!({"__type": "AccessDeniedException", "message": denied.message}),
            ),
        },
        _ => {
            let body = serde_json::json!({
                "__type": "UnknownOperationException",
                "message": "The request does not name a CloudWatch Logs operation (POST / with X-Amz-Target: Logs_20140328.<Operation>)"
            });
            json(StatusCode::BAD_REQUEST, &body)
        }
    }
}

/// Under `--auth iam`, whether the caller may perform `logs:OPERATION` on
/// the log group (and stream) the body names, as AWS's service
/// authorization reference gives each operation's resource
/// (`arn:aws:logs:REGION:ACCOUNT:log-group:NAME[:log-stream:STREAM]`), or
/// `*` for those that name none.
fn authorize(region: &str, operation: &str, body: &[u8]) -> Result<(), lambdabox_identity::AccessDenied> {
    let Some(identity) = lambdabox_identity::context::current() else { return Ok(()) };
    let value: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let text = |k: &str| value.get(k).and_then(|v| v.as_str());
    let account = identity.directory.account();
    let resource = match (text("logGroupName"), text("logStreamName")) {
        (Some(group), Some(stream)) => {
            format!("arn:aws:logs:{region}:{account}:log-group:{group}:log-stream:{stream}")
        }
        (Some(group), None) => format!("arn:aws:logs:{region}:{account}:log-group:{group}"),
        (None, _) => "*".to_owned(),
    };
    identity.authorize_with(&format!("logs:{operation}"), &resource, None, |_| {})
}

/// The operation a request's `X-Amz-Target` names, when it is one of
/// CloudWatch Logs'.
pub fn operation(headers: &HeaderMap) -> Option<&str> {
    headers.get("x-amz-target")?.to_str().ok()?.strip_prefix(TARGET_PREFIX)
}

/// Runs `operation` off the async workers (it reads files) and renders the
/// result.
pub async fn serve(api: &LogsApi, region: &str, operation: &str, body: Bytes) -> Response {
    let (api, region, op) = (api.clone(), region.to_owned(), operation.to_owned());
    let result = tokio::task::spawn_blocking(move || api.call(&region, &op, &body)).await;
    match result {
        Ok(Ok(value)) => json(StatusCode::OK, &value),
        Ok(Err(error)) => {
            if let LogsError::Io { .. } = error {
                tracing::error!(%error, operation, "logs api");
            }
            let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            json(status, &error.body())
        }
        Err(join) => {
            tracing::error!(error = %join, operation, "logs api task failed");
            let body = serde_json::json!({"__type": "ServiceUnavailableException", "message": "internal error"});
            json(StatusCode::INTERNAL_SERVER_ERROR, &body)
        }
    }
}

fn json(status: StatusCode, value: &serde_json::Value) -> Response {
    let mut response = (status, value.to_string()).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    response
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use lambdabox_model::AccountId;
    use tower::ServiceExt;

    use super::*;
    use crate::stream::tests::write_stream;

    async fn post_json(app: &Router, target: &str, body: &str) -> (StatusCode, HeaderMap, serde_json::Value) {
        let request = Request::post("/")
            .header("x-amz-target", target)
            .header("content-type", CONTENT_TYPE)
            .body(Body::from(body.to_owned()))
            .unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.unwrap().to_bytes();
        (parts.status, parts.headers, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn answers_json_1_1() {
        let dir = tempfile::tempdir().unwrap();
        write_stream(&dir.path().join("f"), "2026-01-01-[$LATEST]s", &[(1, "hello")]);
        let api = LogsApi::new(dir.path().into(), AccountId::parse("000000000000").unwrap());
        let app = router(api, Region::parse("us-east-1").unwrap());

        let (status, headers, body) = post_json(&app, "Logs_20140328.DescribeLogGroups", "{}").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers[header::CONTENT_TYPE], CONTENT_TYPE);
        assert_eq!(body["logGroups"][0]["logGroupName"], "/aws/lambda/f");

        let (status, _, body) =
            post_json(&app, "Logs_20140328.DeleteLogGroup", r#"{"logGroupName": "/aws/lambda/nope"}"#).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body,
            serde_json::json!({"__type": "ResourceNotFoundException", "message": "The specified log group does not exist."})
        );

        let (status, _, body) = post_json(&app, "Logs_20140328.StartQuery", "{}").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["__type"], "UnknownOperationException");
        let (status, _, body) = post_json(&app, "Lambda.Nope", "{}").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["__type"], "UnknownOperationException");
    }
}
