//! What the tests of every operation share: the router over an in-memory
//! identity store of account 123456789012, requests sent through it as
//! boto3 sends them (form-encoded `POST /`), optionally as a given caller,
//! and picking values out of the XML answers.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::StatusCode;
use lambdabox_identity::{Directory, IdentityStore, Principal, RequestIdentity};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use tower::ServiceExt;

/// A Lambda execution role's trust policy, spaced as `json.dumps` writes it.
pub(crate) const TRUST: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}"#;

/// The router and the directory behind it.
pub(crate) struct Harness {
    pub directory: Arc<Directory>,
    router: Router,
}

impl Harness {
    pub fn new() -> Self {
        let store = IdentityStore::open_in_memory("123456789012").unwrap();
        let directory = Arc::new(Directory::new(Arc::new(store), lambdabox_model::Credentials::default()));
        Self { router: crate::router(Arc::clone(&directory)), directory }
    }

    /// `POST /` with a form body, under `--auth open` (no identity).
    pub async fn call(&self, body: &str) -> (StatusCode, String) {
        send(self.router.clone(), post(body)).await
    }

    /// [`Self::call`], expecting `200 OK`.
    pub async fn ok(&self, body: &str) -> String {
        let (status, text) = self.call(body).await;
        assert_eq!(status, StatusCode::OK, "{body} answered {text}");
        text
    }

    /// [`Self::call`] as `principal` (as the dispatcher scopes it under `--auth iam`).
    pub async fn call_as(&self, principal: Principal, body: &str) -> (StatusCode, String) {
        let identity = Arc::new(RequestIdentity {
            principal,
            directory: Arc::clone(&self.directory),
            secure_transport: false,
            source_ip: None,
        });
        lambdabox_identity::context::scope(identity, send(self.router.clone(), post(body))).await
    }

    /// [`Self::call_as`], expecting `200 OK`.
    pub async fn ok_as(&self, principal: Principal, body: &str) -> String {
        let (status, text) = self.call_as(principal, body).await;
        assert_eq!(status, StatusCode::OK, "{body} answered {text}");
        text
    }
}

/// One request to a router over a fresh store.
pub(crate) async fn call(body: &str) -> (StatusCode, String) {
    Harness::new().call(body).await
}

/// `GET /?query` to a router over a fresh store.
pub(crate) async fn call_get(query: &str) -> (StatusCode, String) {
    let request = axum::http::Request::get(format!("/?{query}")).body(Body::empty()).unwrap();
    send(Harness::new().router, request).await
}

fn post(body: &str) -> axum::http::Request<Body> {
    axum::http::Request::post("/")
        .header("content-type", "application/x-www-form-urlencoded; charset=utf-8")
        .body(Body::from(body.to_owned()))
        .unwrap()
}

async fn send(router: Router, request: axum::http::Request<Body>) -> (StatusCode, String) {
    let response = router.oneshot(request).await.unwrap();
    let status = response.status();
    assert_eq!(response.headers()["content-type"], "text/xml");
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

/// A form body as botocore encodes it, with `Version=2010-05-08` appended.
pub(crate) fn form(pairs: &[(&str, &str)]) -> String {
    let mut out: Vec<String> = pairs
        .iter()
        .map(|(k, v)| {
            format!("{}={}", utf8_percent_encode(k, NON_ALPHANUMERIC), utf8_percent_encode(v, NON_ALPHANUMERIC))
        })
        .collect();
    out.push("Version=2010-05-08".to_owned());
    out.join("&")
}

/// The text between the first `start` and the `end` after it.
pub(crate) fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text.find(start).unwrap_or_else(|| panic!("no {start} in {text}")) + start.len();
    let to = text[from..].find(end).unwrap_or_else(|| panic!("no {end} after {start} in {text}"));
    &text[from..from + to]
}

/// A policy document's text from its URL-encoded form in an answer.
pub(crate) fn decoded(encoded: &str) -> String {
    percent_encoding::percent_decode_str(encoded).decode_utf8().unwrap().into_owned()
}
