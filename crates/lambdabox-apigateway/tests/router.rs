//! The `apigatewayv2` router without a socket: each failure comes back in
//! API Gateway's own shape (`x-amzn-ErrorType` and `{"message": …}`), never
//! axum's empty 404/405 or another service's JSON.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use lambdabox_apigateway::{ApiGatewayConfig, router};
use lambdabox_gateway::GatewayStore;
use lambdabox_model::{AccountId, Region};
use serde_json::Value;
use tower::ServiceExt;

fn app() -> axum::Router {
    let store = Arc::new(GatewayStore::open_in_memory().expect("in-memory gateway store"));
    let config = ApiGatewayConfig {
        account: AccountId::parse("000000000000").expect("account"),
        default_region: Region::parse("us-east-1").expect("region"),
        public_port: 9000,
    };
    router(store, config)
}

async fn call(app: &axum::Router, method: Method, uri: &str, body: &str) -> (StatusCode, Option<String>, Value) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_owned()))
        .expect("request");
    let response = app.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let error_type = response.headers().get("x-amzn-ErrorType").map(|v| v.to_str().expect("ascii").to_owned());
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("body");
    let value = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).expect("a JSON body") };
    (status, error_type, value)
}

#[tokio::test]
async fn each_failure_is_answered_in_api_gateways_shape() {
    let app = app();

    let (status, ty, body) = call(&app, Method::GET, "/v2/apis/nope123", "").await;
    assert_eq!((status, ty.as_deref()), (StatusCode::NOT_FOUND, Some("NotFoundException")));
    assert_eq!(body["message"], "Invalid API identifier specified 000000000000:nope123");

    let (status, ty, body) = call(&app, Method::POST, "/v2/apis", "{not json").await;
    assert_eq!((status, ty.as_deref()), (StatusCode::BAD_REQUEST, Some("BadRequestException")));
    assert!(body["message"].as_str().expect("message").starts_with("Invalid request body"), "{body}");

    let (status, ty, _) =
        call(&app, Method::POST, "/v2/apis", r#"{"name": "x", "protocolType": "CARRIER_PIGEON"}"#).await;
    assert_eq!((status, ty.as_deref()), (StatusCode::BAD_REQUEST, Some("BadRequestException")));

    // A method the route does not have, and a path the API does not have.
    for (method, uri) in [(Method::PATCH, "/v2/apis"), (Method::GET, "/v2/domainnames")] {
        let (status, ty, body) = call(&app, method.clone(), uri, "").await;
        assert_eq!((status, ty.as_deref()), (StatusCode::NOT_FOUND, Some("NotFoundException")), "{method} {uri}");
        assert!(body["message"].as_str().expect("message").contains("does not support"), "{body}");
    }
}

#[tokio::test]
async fn a_created_api_is_found_and_deleted_once() {
    let app = app();
    let (status, _, api) = call(&app, Method::POST, "/v2/apis", r#"{"name": "shop", "protocolType": "HTTP"}"#).await;
    assert_eq!(status, StatusCode::CREATED, "{api}");
    let id = api["apiId"].as_str().expect("apiId").to_owned();
    assert_eq!(api["apiEndpoint"], format!("http://{id}.execute-api.localhost:9000"));

    let (status, _, got) = call(&app, Method::GET, &format!("/v2/apis/{id}"), "").await;
    assert_eq!((status, got["name"].as_str()), (StatusCode::OK, Some("shop")));

    let (status, _, _) = call(&app, Method::DELETE, &format!("/v2/apis/{id}"), "").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, ty, _) = call(&app, Method::DELETE, &format!("/v2/apis/{id}"), "").await;
    assert_eq!((status, ty.as_deref()), (StatusCode::NOT_FOUND, Some("NotFoundException")));
}
