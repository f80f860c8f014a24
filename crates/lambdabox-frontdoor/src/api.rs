//! Serving an HTTP API: the stage (a named stage under `/<stage>/…`,
//! `$default` at the root), the route (`routes::select`), the integration's
//! payload format and timeout, and API Gateway's answers when something
//! fails: 404 `Not Found`, 500/502 `Internal Server Error`, 504 `Endpoint
//! request timed out` when the integration timeout runs out (issue #7 asks
//! for 504; some reports say HTTP APIs answer 503 there).

use std::time::Duration;

use axum::body::Body;
use http::request::Parts;
use http::{Response, StatusCode};
use lambdabox_model::Region;
use percent_encoding::percent_decode_str;

use crate::event::{EventContext, EventV1, EventV2, HttpRequest};
use crate::host::host_name;
use crate::response;
use crate::serve::{Invocation, build, host_of, message, set_header};
use crate::{Inner, json_body};
use lambdabox_gateway::model::{ApiState, function_of};
use lambdabox_gateway::payload::PayloadVersion;
use lambdabox_gateway::routes::{self, RouteKey};

/// The stage a path addresses and the path routes are matched against.
pub(crate) fn stage_of(api: &ApiState, path: &str) -> Option<(String, String, String)> {
    let trimmed = path.strip_prefix('/').unwrap_or(path);
    let (first, rest) = trimmed.split_once('/').map_or((trimmed, ""), |(a, b)| (a, b));
    let first = percent_decode_str(first).decode_utf8_lossy();
    if first == "$default" && api.stages.contains_key("$default") {
        let rest = format!("/{rest}");
        return Some(("$default".into(), rest.clone(), rest));
    }
    if !first.is_empty() && first != "$default" && api.stages.contains_key(first.as_ref()) {
        return Some((first.into_owned(), path.to_owned(), format!("/{rest}")));
    }
    api.stages.contains_key("$default").then(|| ("$default".into(), path.to_owned(), path.to_owned()))
}

impl Inner {
    pub(crate) async fn serve_api(&self, api_id: &str, parts: &Parts, mut req: HttpRequest) -> Response<Body> {
        let mut response = self.route_api(api_id, parts, &mut req).await;
        set_header(&mut response, "apigw-requestid", &req.request_id);
        response
    }

    async fn route_api(&self, api_id: &str, parts: &Parts, req: &mut HttpRequest) -> Response<Body> {
        let not_found = || message(StatusCode::NOT_FOUND, "Not Found");
        let internal = || message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
        let Some(api) = self.store.api(api_id) else { return not_found() };
        let Some((stage_name, raw_path, route_path)) = stage_of(&api, &req.raw_path) else { return not_found() };
        req.raw_path = raw_path;
        let routes: Vec<&lambdabox_gateway::model::Route> = api.routes.values().collect();
        let keys: Vec<RouteKey> =
            routes.iter().map(|r| RouteKey::parse(&r.route_key).unwrap_or(RouteKey::Default)).collect();
        let Some((index, path_parameters)) = routes::select(&keys, &req.method, &route_path) else {
            return not_found();
        };
        let route = routes[index];
        let integration = route
            .target
            .as_deref()
            .and_then(|t| t.strip_prefix("integrations/"))
            .and_then(|id| api.integrations.get(id));
        let Some(integration) = integration else { return not_found() };
        let Some(function) = function_of(&integration.integration_uri) else { return internal() };
        let region = function.region.clone().or_else(|| Region::parse(&api.api.region)).unwrap_or_default();
        let view = match self.invoker.resolve(&region, &integration.integration_uri_function(), None).await {
            Ok(v) => v,
            Err(e) => {
                tracing::info!(error = %e, api_id, "the integration's function cannot be invoked");
                return internal();
            }
        };
        let stage = &api.stages[&stage_name];
        let domain_name = host_of(parts)
            .filter(|h| crate::host::api_host(h).is_some())
            .map_or_else(|| format!("{api_id}.execute-api.localhost"), host_name);
        let ctx = EventContext {
            route_key: route.route_key.clone(),
            path_parameters,
            stage_variables: Some(stage.stage_variables.clone()),
            stage: stage_name.clone(),
            account_id: self.config.account.as_str().to_owned(),
            api_id: api_id.to_owned(),
            domain_name,
            domain_prefix: api_id.to_owned(),
            authorizer: None,
        };
        let version = PayloadVersion::parse(&integration.payload_format_version).unwrap_or(PayloadVersion::V2);
        let event = match version {
            PayloadVersion::V2 => json_body(&EventV2::new(req, &ctx)),
            PayloadVersion::V1 => json_body(&EventV1::new(req, &ctx)),
        };
        let timeout = Duration::from_millis(u64::from(integration.timeout_in_millis));
        let request_id = uuid::Uuid::new_v4().to_string();
        match self.invoke(request_id, view, region, event, Some(timeout)).await {
            Invocation::Payload(payload) => match response::map(&payload, version, "text/plain; charset=utf-8") {
                Ok(mapped) => build(mapped.status, &mapped.headers, mapped.body),
                Err(e) => {
                    tracing::info!(error = %e, api_id, "malformed Lambda proxy response");
                    message(StatusCode::BAD_GATEWAY, "Internal Server Error")
                }
            },
            Invocation::FunctionFailed(outcome) => {
                tracing::info!(error_type = ?outcome.error_type(), api_id, "the function failed");
                message(StatusCode::BAD_GATEWAY, "Internal Server Error")
            }
            Invocation::IntegrationTimeout => message(StatusCode::GATEWAY_TIMEOUT, "Endpoint request timed out"),
            Invocation::Throttled => message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"),
            Invocation::Failed(e) => {
                tracing::error!(error = %e, api_id, "HTTP API invocation failed");
                internal()
            }
        }
    }
}
