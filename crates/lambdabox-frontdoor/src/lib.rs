//! The HTTP front door: Lambda function URLs and API Gateway HTTP APIs with
//! Lambda proxy integrations, served on the main listener (the dispatcher
//! sends it what [`FrontDoor::wants`]) and optionally on a listener of its
//! own ([`FrontDoor::router`]).
//!
//! A request is for a function URL or an HTTP API by its `Host`
//! (`<url-id>.lambda-url.<region>.localhost`, `<api-id>.execute-api.localhost`)
//! or by the `/_lambda-url/`, `/_execute-api/` path prefixes (`host.rs`). It
//! is answered by invoking the function through the [`Invoker`] (`serve.rs`;
//! `url.rs` for URLs: AWS_IAM, CORS preflight; `api.rs` for HTTP APIs:
//! stage, route, integration timeout), with payload 1.0 or 2.0 events
//! (`event/`) and the function's proxy response mapped back (`response.rs`).
//! What URLs and APIs exist is `lambdabox-gateway`'s state, which the
//! Lambda and apigatewayv2 APIs write.

mod api;
pub mod event;
pub mod host;
pub mod response;
mod serve;
mod url;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use bytes::Bytes;
use http::request::Parts;
use lambdabox_gateway::GatewayStore;
use lambdabox_identity::Directory;
use lambdabox_invoker::Invoker;
use lambdabox_model::AccountId;

/// What the front door needs to know about the server.
#[derive(Debug, Clone)]
pub struct FrontDoorConfig {
    /// The account in request contexts.
    pub account: AccountId,
    /// Who signed an `AWS_IAM` function URL request (keys and principals).
    pub directory: Arc<Directory>,
    /// Under `--auth iam`, an `AWS_IAM` URL's caller must also be allowed
    /// `lambda:InvokeFunctionUrl` (its own policies or the function's).
    pub enforce_policies: bool,
}

pub(crate) struct Inner {
    pub(crate) invoker: Arc<Invoker>,
    pub(crate) store: Arc<GatewayStore>,
    pub(crate) config: FrontDoorConfig,
}

/// Serves function URLs and HTTP APIs.
#[derive(Clone)]
pub struct FrontDoor {
    inner: Arc<Inner>,
}

pub(crate) fn json_body<T: serde::Serialize>(value: &T) -> Bytes {
    Bytes::from(serde_json::to_vec(value).expect("wire shapes always serialise"))
}

impl FrontDoor {
    pub fn new(store: Arc<GatewayStore>, invoker: Arc<Invoker>, config: FrontDoorConfig) -> Self {
        Self { inner: Arc::new(Inner { invoker, store, config }) }
    }

    /// Whether a request is for a function URL or an HTTP API.
    pub fn wants(parts: &Parts) -> bool {
        host::target(serve::host_of(parts), parts.uri.path()).is_some()
    }

    /// Answers a request [`wants`](Self::wants) accepted (anything else is a 404).
    pub async fn serve(&self, request: http::Request<Body>) -> http::Response<Body> {
        self.inner.serve(request).await
    }

    /// Every request answered as a front-door request (for a listener of
    /// its own).
    pub fn router(&self) -> Router {
        let this = self.clone();
        Router::new().fallback(move |request: Request| {
            let this = this.clone();
            async move { this.serve(request).await }
        })
    }
}
