//! What the tests of every operation share: the router over in-memory
//! queues of account 000000000000, JSON-protocol calls sent through it as
//! botocore sends them (with a `Host` the queue URLs must echo), and the
//! errors they answer, read back from the body and the
//! `x-amzn-query-error` header.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use lambdabox_identity::{Directory, IdentityStore, Principal, RequestIdentity};
use lambdabox_queues::Queues;
use serde_json::Value;
use tower::ServiceExt;

use crate::{JSON_CONTENT_TYPE, SqsConfig};

/// An error as a client reads it.
#[derive(Debug)]
pub(crate) struct Answered {
    pub status: u16,
    /// `__type` without its namespace.
    pub shape: String,
    /// The code of `x-amzn-query-error`.
    pub code: String,
    pub message: String,
}

pub(crate) struct Harness {
    pub router: Router,
}

impl Harness {
    pub fn new() -> Self {
        let queues = Queues::open_in_memory("000000000000").unwrap();
        let config = SqsConfig { default_region: lambdabox_model::Region::parse("us-east-1").unwrap() };
        Self { router: crate::router(queues, config) }
    }

    /// Sends one request; its status, headers and body.
    pub async fn send(&self, request: http::Request<Body>) -> (u16, http::HeaderMap, Vec<u8>) {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        (parts.status.as_u16(), parts.headers, bytes.to_vec())
    }

    /// A JSON-protocol call.
    pub async fn call(&self, operation: &str, body: Value) -> (u16, http::HeaderMap, Value) {
        let request = http::Request::post("/")
            .header("host", "sqs.test:9000")
            .header("x-amz-target", format!("AmazonSQS.{operation}"))
            .header("content-type", JSON_CONTENT_TYPE)
            .body(Body::from(body.to_string()))
            .unwrap();
        let (status, headers, bytes) = self.send(request).await;
        (status, headers, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    /// [`Self::call`] as `principal` (as the dispatcher scopes it under `--auth iam`).
    pub async fn call_as(&self, principal: Principal, operation: &str, body: Value) -> (u16, http::HeaderMap, Value) {
        let store = IdentityStore::open_in_memory("000000000000").unwrap();
        let directory = Arc::new(Directory::new(Arc::new(store), lambdabox_model::Credentials::default()));
        let identity = Arc::new(RequestIdentity { principal, directory, secure_transport: false, source_ip: None });
        lambdabox_identity::context::scope(identity, self.call(operation, body)).await
    }

    /// A call that must succeed: its answer.
    pub async fn ok(&self, operation: &str, body: Value) -> Value {
        let (status, _, answer) = self.call(operation, body).await;
        assert_eq!(status, 200, "{operation}: {answer}");
        answer
    }

    /// A call that must fail: its error.
    pub async fn err(&self, operation: &str, body: Value) -> Answered {
        let (status, headers, answer) = self.call(operation, body).await;
        assert!(status >= 400, "{operation} succeeded: {answer}");
        let shape = answer["__type"].as_str().unwrap_or_default();
        let shape = shape.rsplit('#').next().unwrap_or(shape);
        let code = headers
            .get("x-amzn-query-error")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .unwrap_or(shape);
        let message = answer["message"].as_str().unwrap_or_default().to_owned();
        Answered { status, shape: shape.to_owned(), code: code.to_owned(), message }
    }
}
