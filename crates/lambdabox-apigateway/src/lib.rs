//! The `apigatewayv2` API for HTTP APIs (REST-JSON with camelCase members,
//! as `aws apigatewayv2` and boto3 speak it): APIs with quick create
//! (`apis.rs`), integrations (`integrations.rs`), routes (`routes.rs`) and
//! stages (`stages.rs`) — create, get, list, delete. Each resource's
//! validation is a plain function (`new_api`, `new_integration`, …); the
//! handlers only parse, call it, store and render. Errors are API Gateway's:
//! `{"message": …}` with `x-amzn-ErrorType`. What it writes is
//! `lambdabox-gateway`'s state, which the front door serves.

mod apis;
mod integrations;
mod routes;
mod stages;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use lambdabox_gateway::model::{Api, ApiState};
use lambdabox_gateway::{GatewayError, GatewayStore};
use lambdabox_model::{AccountId, Region};
use serde_json::Value;

/// What the API needs to know about the server.
#[derive(Debug, Clone)]
pub struct ApiGatewayConfig {
    /// The account in error messages.
    pub account: AccountId,
    /// The region of requests that carry no SigV4 scope.
    pub default_region: Region,
    /// The port in `ApiEndpoint` addresses (the front door's).
    pub public_port: u16,
}

pub(crate) struct Inner {
    pub(crate) store: Arc<GatewayStore>,
    pub(crate) config: ApiGatewayConfig,
}

pub(crate) type Shared = Arc<Inner>;

/// The `apigatewayv2` routes (`/v2/apis…`); any other path or method is an
/// API Gateway error, never an empty 405.
pub fn router(store: Arc<GatewayStore>, config: ApiGatewayConfig) -> Router {
    let inner: Shared = Arc::new(Inner { store, config });
    Router::new()
        .route("/v2/apis", get(apis::get_apis).post(apis::create_api))
        .route("/v2/apis/{api}", get(apis::get_api).delete(apis::delete_api))
        .route(
            "/v2/apis/{api}/integrations",
            get(integrations::get_integrations).post(integrations::create_integration),
        )
        .route(
            "/v2/apis/{api}/integrations/{id}",
            get(integrations::get_integration).delete(integrations::delete_integration),
        )
        .route("/v2/apis/{api}/routes", get(routes::get_routes).post(routes::create_route))
        .route("/v2/apis/{api}/routes/{id}", get(routes::get_route).delete(routes::delete_route))
        .route("/v2/apis/{api}/stages", get(stages::get_stages).post(stages::create_stage))
        .route("/v2/apis/{api}/stages/{id}", get(stages::get_stage).delete(stages::delete_stage))
        .method_not_allowed_fallback(not_supported)
        .fallback(not_supported)
        .layer(axum::middleware::from_fn(authorize))
        .with_state(inner)
}

/// Under `--auth iam`, whether the caller may perform the request: API
/// Gateway's IAM actions are its HTTP methods (`apigateway:GET`, …) on the
/// resource path (`arn:aws:apigateway:REGION::/apis/ID/routes`), as AWS's
/// service authorization reference gives them.
async fn authorize(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    if let Some(identity) = lambdabox_identity::context::current() {
        let (parts, body) = request.into_parts();
        let region = lambdabox_aws::CredentialScope::of(&parts).map(|s| s.region).unwrap_or_default();
        let path = parts.uri.path().strip_prefix("/v2").unwrap_or(parts.uri.path());
        let action = format!("apigateway:{}", parts.method);
        let resource = format!("arn:aws:apigateway:{region}::{path}");
        if let Err(denied) = identity.authorize_with(&action, &resource, None, |_| {}) {
            let mut response =
                (StatusCode::FORBIDDEN, axum::Json(serde_json::json!({ "message": denied.message }))).into_response();
            response.headers_mut().insert("x-amzn-ErrorType", HeaderValue::from_static("AccessDeniedException"));
            return response;
        }
        return next.run(axum::extract::Request::from_parts(parts, body)).await;
    }
    next.run(request).await
}

/// An operation this API does not serve (UpdateApi, tags, …): API Gateway's
/// error shape, so clients report it instead of failing to parse.
async fn not_supported(method: axum::http::Method, uri: axum::http::Uri) -> Response {
    render(GatewayError::NotFound {
        message: format!("Lambdabox's API Gateway does not support {method} {}", uri.path()),
    })
}

/// API Gateway's rendering of an error.
pub(crate) fn render(error: GatewayError) -> Response {
    if error.is_store() {
        tracing::error!(error = ?error, "gateway store failure");
    }
    let (status, error_type) = match &error {
        GatewayError::NotFound { .. } | GatewayError::UrlConfigNotFound => (StatusCode::NOT_FOUND, "NotFoundException"),
        GatewayError::Conflict { .. } | GatewayError::UrlConfigExists { .. } => {
            (StatusCode::CONFLICT, "ConflictException")
        }
        GatewayError::BadRequest { .. }
        | GatewayError::InvalidParameter { .. }
        | GatewayError::Validation(_)
        | GatewayError::Control(_) => (StatusCode::BAD_REQUEST, "BadRequestException"),
        _ => (StatusCode::INTERNAL_SERVER_ERROR, "InternalServerErrorException"),
    };
    let message = if error.is_store() { "Internal server error".to_owned() } else { error.to_string() };
    let mut response = (status, axum::Json(serde_json::json!({ "message": message }))).into_response();
    response.headers_mut().insert("x-amzn-ErrorType", HeaderValue::from_static(error_type));
    response
}

pub(crate) type Outcome = Result<Response, GatewayError>;

pub(crate) fn reply(result: Outcome) -> Response {
    result.unwrap_or_else(render)
}

pub(crate) fn created(value: Value) -> Outcome {
    Ok((StatusCode::CREATED, axum::Json(value)).into_response())
}

pub(crate) fn ok(value: Value) -> Outcome {
    Ok(axum::Json(value).into_response())
}

pub(crate) fn parse<T: serde::de::DeserializeOwned + Default>(body: &Bytes) -> Result<T, GatewayError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| GatewayError::bad_request(format!("Invalid request body: {e}")))
}

pub(crate) fn to_value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).expect("wire shapes always serialise")
}

/// Runs a store write off the async workers.
pub(crate) async fn blocking(
    inner: &Shared,
    f: impl FnOnce(&GatewayStore) -> Result<(), GatewayError> + Send + 'static,
) -> Result<(), GatewayError> {
    let store = inner.store.clone();
    tokio::task::spawn_blocking(move || f(&store)).await.expect("store calls do not panic")
}

impl Inner {
    pub(crate) fn api_or_404(&self, api_id: &str) -> Result<Arc<ApiState>, GatewayError> {
        self.store.api(api_id).ok_or_else(|| {
            GatewayError::not_found(format!(
                "Invalid API identifier specified {}:{api_id}",
                self.config.account.as_str()
            ))
        })
    }

    pub(crate) fn api_value(&self, api: &Api) -> Value {
        let mut v = to_value(api);
        v["apiEndpoint"] = format!("http://{}.execute-api.localhost:{}", api.api_id, self.config.public_port).into();
        v
    }

    /// The region of a request: its SigV4 credential scope, else the default.
    pub(crate) fn region(&self, headers: &HeaderMap) -> Region {
        let mut request = axum::http::Request::new(());
        *request.headers_mut() = headers.clone();
        lambdabox_aws::CredentialScope::of(&request.into_parts().0)
            .and_then(|scope| Region::parse(&scope.region))
            .unwrap_or_else(|| self.config.default_region.clone())
    }
}
