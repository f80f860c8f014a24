//! Routes: CreateRoute (a route key such as `GET /items/{id}` or
//! `$default`, targeting an integration of the API), GetRoutes, GetRoute,
//! DeleteRoute.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lambdabox_gateway::model::{ApiState, Route};
use lambdabox_gateway::routes::RouteKey;
use lambdabox_gateway::{Child, GatewayError, ids};
use serde::Deserialize;
use serde_json::json;

use crate::{Shared, blocking, created, ok, parse, reply, to_value};

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateRouteInput {
    route_key: Option<String>,
    target: Option<String>,
    authorization_type: Option<String>,
}

/// A new route of `state`'s API from CreateRoute's input.
pub(crate) fn new_route(input: CreateRouteInput, state: &ApiState) -> Result<Route, GatewayError> {
    let key = input.route_key.ok_or_else(|| GatewayError::bad_request("RouteKey is required"))?;
    RouteKey::parse(&key).map_err(|e| GatewayError::bad_request(e.to_string()))?;
    if state.routes.values().any(|r| r.route_key == key) {
        return Err(GatewayError::Conflict { message: format!("Route with key {key} already exists for this API") });
    }
    if let Some(t) = &input.target {
        let exists = t.strip_prefix("integrations/").is_some_and(|id| state.integrations.contains_key(id));
        if !exists {
            return Err(GatewayError::bad_request(format!(
                "Invalid target specified: {t}; expected integrations/<integration id> of this API"
            )));
        }
    }
    match input.authorization_type.as_deref() {
        None | Some("NONE") => {}
        Some(other) => {
            return Err(GatewayError::bad_request(format!(
                "Authorization type {other} is not supported by Lambdabox; use NONE"
            )));
        }
    }
    let route = Route {
        route_id: ids::short_id(),
        route_key: key,
        target: input.target,
        authorization_type: "NONE".into(),
        api_key_required: false,
        api_gateway_managed: false,
    };
    Ok(route)
}

pub(crate) async fn create_route(State(inner): State<Shared>, Path(api): Path<String>, body: Bytes) -> Response {
    reply(
        async {
            let state = inner.api_or_404(&api)?;
            let route = new_route(parse(&body)?, &state)?;
            let value = to_value(&route);
            blocking(&inner, move |s| {
                let id = route.route_id.clone();
                s.put_child(&api, Child::Route, &id, &route, |a| {
                    a.routes.insert(id.clone(), route.clone());
                })
            })
            .await?;
            created(value)
        }
        .await,
    )
}

pub(crate) async fn get_routes(State(inner): State<Shared>, Path(api): Path<String>) -> Response {
    reply(
        inner
            .api_or_404(&api)
            .and_then(|a| ok(json!({ "items": a.routes.values().map(to_value).collect::<Vec<_>>() }))),
    )
}

pub(crate) async fn get_route(State(inner): State<Shared>, Path((api, id)): Path<(String, String)>) -> Response {
    reply(inner.api_or_404(&api).and_then(|a| {
        a.routes
            .get(&id)
            .map(|r| ok(to_value(r)))
            .unwrap_or_else(|| Err(GatewayError::not_found("Invalid Route identifier specified")))
    }))
}

pub(crate) async fn delete_route(State(inner): State<Shared>, Path((api, id)): Path<(String, String)>) -> Response {
    reply(
        async {
            let state = inner.api_or_404(&api)?;
            if !state.routes.contains_key(&id) {
                return Err(GatewayError::not_found("Invalid Route identifier specified"));
            }
            blocking(&inner, move |s| {
                s.delete_child(&api, Child::Route, &id, |a| {
                    a.routes.remove(&id);
                })
            })
            .await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        .await,
    )
}
