//! The HTTP front door: Lambda function URLs and API Gateway HTTP APIs with
//! Lambda proxy integrations, served on the main listener (and optionally a
//! listener of their own).
//!
//! [`FrontDoor::wants`] picks the requests that are for a function URL or an
//! HTTP API (by `Host` or by the `/_lambda-url/`, `/_execute-api/` path
//! prefixes); [`FrontDoor::serve`] answers them by invoking the function
//! through the [`Invoker`]. [`FrontDoor::router`] is the control plane: the
//! Lambda API's function URL operations (`/2021-10-31/functions/{name}/url`)
//! and the `apigatewayv2` REST API (`/v2/apis…`). [`FrontDoor::wrap`] puts
//! both in front of the Lambda API's router. Configuration lives in
//! `<data dir>/gateway.db`.

mod apigw_api;
mod cors;
mod error;
pub mod event;
mod front;
pub(crate) use front::function_of;
pub mod host;
mod ids;
mod model;
pub mod response;
pub mod routes;
mod store;
mod url_api;

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use bytes::Bytes;
use http::request::Parts;
use lambdabox_invoker::Invoker;
use lambdabox_model::{AccountId, Credentials, Region};

pub use error::GatewayError;
pub use store::GatewayStore;

/// What the front door needs to know about the server.
#[derive(Debug, Clone)]
pub struct FrontDoorConfig {
    /// The account in ARNs and request contexts.
    pub account: AccountId,
    /// The region of control-plane requests that carry no SigV4 scope.
    pub default_region: Region,
    /// The credentials `AWS_IAM` function URLs check signatures against.
    pub credentials: Credentials,
    /// The port in the `FunctionUrl` and `ApiEndpoint` addresses.
    pub public_port: u16,
}

pub(crate) struct Inner {
    pub(crate) invoker: Arc<Invoker>,
    pub(crate) store: Arc<GatewayStore>,
    pub(crate) config: FrontDoorConfig,
}

/// Function URLs and HTTP APIs, their control plane and their serving.
#[derive(Clone)]
pub struct FrontDoor {
    inner: Arc<Inner>,
}

pub(crate) fn json_body<T: serde::Serialize>(value: &T) -> Bytes {
    Bytes::from(serde_json::to_vec(value).expect("wire shapes always serialise"))
}

impl FrontDoor {
    /// Opens `<data_dir>/gateway.db`.
    pub fn open(data_dir: &Path, invoker: Arc<Invoker>, config: FrontDoorConfig) -> Result<Self, GatewayError> {
        let store = GatewayStore::open(&data_dir.join("gateway.db"))?;
        Ok(Self::new(store, invoker, config))
    }

    pub fn new(store: GatewayStore, invoker: Arc<Invoker>, config: FrontDoorConfig) -> Self {
        Self { inner: Arc::new(Inner { invoker, store: Arc::new(store), config }) }
    }

    /// Whether a request is for a function URL or an HTTP API.
    pub fn wants(&self, parts: &Parts) -> bool {
        host::target(front::host_of(parts), parts.uri.path()).is_some()
    }

    /// Answers a request [`wants`](Self::wants) accepted (anything else is a 404).
    pub async fn serve(&self, request: http::Request<Body>) -> http::Response<Body> {
        self.inner.serve(request).await
    }

    /// The control plane: function URL configs and `apigatewayv2`.
    pub fn router(&self) -> Router {
        url_api::router(self.inner.clone()).merge(apigw_api::router(self.inner.clone()))
    }

    /// Everything on the main listener: front-door requests, then the
    /// control plane, then `lambda` (the Lambda API's router).
    pub fn wrap(&self, lambda: Router) -> Router {
        self.router().fallback_service(lambda).layer(middleware::from_fn_with_state(self.clone(), dispatch))
    }

    /// The separate front-door listener: only function URLs and HTTP APIs.
    pub fn standalone(&self) -> Router {
        let this = self.clone();
        Router::new().fallback(move |request: Request| {
            let this = this.clone();
            async move { this.serve(request).await }
        })
    }
}

async fn dispatch(State(front): State<FrontDoor>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    if front.wants(&parts) {
        return front.serve(Request::from_parts(parts, body)).await;
    }
    next.run(Request::from_parts(parts, body)).await
}

/// Drops the URL configs of a function when it is deleted (subscribed to
/// the control plane's changes).
pub struct DropUrlsOfDeleted {
    store: Arc<GatewayStore>,
}

impl DropUrlsOfDeleted {
    pub fn new(front: &FrontDoor) -> Arc<Self> {
        Arc::new(Self { store: front.inner.store.clone() })
    }
}

#[async_trait::async_trait]
impl lambdabox_control::ChangeListener for DropUrlsOfDeleted {
    async fn changed(&self, change: &lambdabox_control::Change) {
        let lambdabox_control::Change::FunctionDeleted { name } = change else { return };
        let (store, name) = (self.store.clone(), name.clone());
        let removed = tokio::task::spawn_blocking(move || store.delete_urls_of(&name)).await;
        if let Ok(Err(error)) = removed {
            tracing::error!(%error, "cannot remove the function URL configs of a deleted function");
        }
    }
}
