//! The HTTP edge of Lambdabox: the Lambda REST API's routes. Each handler
//! parses the request, calls the control plane and renders the result (or
//! the error) in AWS's shapes; no Lambda rule lives here.

mod access;
mod account;
mod body;
mod concurrency;
mod error;
mod event_invoke;
mod event_sources;
mod functions;
mod invoke;
mod layers;
pub mod limits;
pub mod operation;
mod policy;
mod query;
mod tags;
mod target;
mod urls;
mod validate;
mod versions;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::HeaderValue;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post, put};
use lambdabox_invoker::Invoker;
use lambdabox_model::Region;

pub use error::ApiError;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// Runs invocations (and owns the engine).
    pub invoker: Arc<Invoker>,
    /// The region of requests that carry no SigV4 credential scope.
    pub default_region: Region,
    /// The base URL clients reach this server at (`http://host:port`, no
    /// trailing slash): `Code.Location` and layer `Content.Location` point
    /// under it, never at whatever `Host` a request carried.
    pub public_endpoint: String,
    /// The memory large request bodies (packages) may hold at once.
    pub body_budget: Arc<limits::BodyBudget>,
    /// Function URL configs (`lambdabox-gateway`'s state).
    pub urls: Arc<lambdabox_gateway::GatewayStore>,
    /// The port in `FunctionUrl` addresses (the front door's).
    pub front_door_port: u16,
}

/// Every route of the Lambda API this server answers.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/2015-03-31/functions", post(functions::create).get(functions::list))
        .route("/2015-03-31/functions/", post(functions::create).get(functions::list))
        .route("/2015-03-31/functions/{name}", get(functions::get).delete(functions::delete))
        .route(
            "/2015-03-31/functions/{name}/configuration",
            get(functions::get_configuration).put(functions::update_configuration),
        )
        .route("/2015-03-31/functions/{name}/code", put(functions::update_code))
        .route("/2015-03-31/functions/{name}/invocations", post(invoke::invoke))
        .route("/2015-03-31/functions/{name}/policy", post(policy::add).get(policy::get))
        .route("/2015-03-31/functions/{name}/policy/{sid}", axum::routing::delete(policy::remove))
        .route("/2015-03-31/functions/{name}/versions", post(versions::publish).get(versions::list_versions))
        .route("/2015-03-31/functions/{name}/aliases", post(versions::create_alias).get(versions::list_aliases))
        .route(
            "/2015-03-31/functions/{name}/aliases/{alias}",
            get(versions::get_alias).put(versions::update_alias).delete(versions::delete_alias),
        )
        .route(
            "/2019-09-25/functions/{name}/event-invoke-config",
            get(event_invoke::get).put(event_invoke::put).post(event_invoke::update).delete(event_invoke::delete),
        )
        .route("/2019-09-25/functions/{name}/event-invoke-config/list", get(event_invoke::list))
        .route("/2015-03-31/event-source-mappings", post(event_sources::create).get(event_sources::list))
        .route("/2015-03-31/event-source-mappings/", post(event_sources::create).get(event_sources::list))
        .route(
            "/2015-03-31/event-source-mappings/{uuid}",
            get(event_sources::get).put(event_sources::update).delete(event_sources::delete),
        )
        .route("/2017-10-31/functions/{name}/concurrency", put(concurrency::put).delete(concurrency::delete))
        .route("/2019-09-30/functions/{name}/concurrency", get(concurrency::get))
        .route(
            "/2019-09-30/functions/{name}/provisioned-concurrency",
            put(concurrency::put_provisioned).get(concurrency::get_provisioned).delete(concurrency::delete_provisioned),
        )
        .route("/2017-03-31/tags/{arn}", get(tags::list).post(tags::tag).delete(tags::untag))
        .route(
            "/2021-10-31/functions/{name}/url",
            get(urls::get_url).post(urls::create).put(urls::update).delete(urls::delete),
        )
        .route("/2021-10-31/functions/{name}/urls", get(urls::list))
        .route("/2018-10-31/layers", get(layers::list_or_find))
        .route("/2018-10-31/layers/{name}/versions", post(layers::publish).get(layers::list_versions))
        .route("/2018-10-31/layers/{name}/versions/{version}", get(layers::get).delete(layers::delete))
        .route("/2016-08-19/account-settings", get(account::settings))
        .route("/2016-08-19/account-settings/", get(account::settings))
        .route("/_lambdabox/code/{key}", get(functions::download_code))
        .route_layer(middleware::from_fn_with_state(state.clone(), operation::name_operation))
        .fallback(error::unknown_operation)
        // Each route's limit is its operation's (`limits.rs`), applied by
        // the route layer above.
        .layer(DefaultBodyLimit::disable())
        .layer(middleware::from_fn(request_id))
        .with_state(state)
}

/// Gives every response an `x-amzn-RequestId`.
async fn request_id(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    // Invoke sets the id the function saw; everything else gets a fresh one.
    if !response.headers().contains_key("x-amzn-RequestId")
        && let Ok(value) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string())
    {
        response.headers_mut().insert("x-amzn-RequestId", value);
    }
    response
}
