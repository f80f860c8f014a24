//! The state behind the HTTP front door: function URL configs and API
//! Gateway HTTP APIs (with their integrations, routes and stages) in
//! `<data dir>/gateway.db`, their CORS rules, route keys and payload
//! versions. Below the service crates that share it: `lambdabox-lambda`
//! (the function URL config operations), `lambdabox-apigateway` (the
//! `apigatewayv2` API) and `lambdabox-frontdoor` (serving both), none of
//! which knows the others.

pub mod cors;
mod error;
pub mod ids;
pub mod model;
pub mod payload;
pub mod routes;
mod store;

use std::sync::Arc;

pub use error::GatewayError;
pub use store::{Child, GatewayStore};

/// Drops the URL configs of a function when it is deleted (subscribed to
/// the control plane's changes).
pub struct DropUrlsOfDeleted {
    store: Arc<GatewayStore>,
}

impl DropUrlsOfDeleted {
    pub fn new(store: Arc<GatewayStore>) -> Arc<Self> {
        Arc::new(Self { store })
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
