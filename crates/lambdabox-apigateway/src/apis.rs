//! APIs: CreateApi (with quick create), GetApis, GetApi, DeleteApi.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use lambdabox_gateway::GatewayError;
use lambdabox_gateway::ids;
use lambdabox_gateway::model::{Api, ApiState, Integration, Route, Stage, function_of, now_iso};
use lambdabox_gateway::routes::RouteKey;
use lambdabox_model::Region;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{Shared, blocking, created, ok, parse, reply};

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateApiInput {
    name: Option<String>,
    protocol_type: Option<String>,
    target: Option<String>,
    route_key: Option<String>,
    description: Option<String>,
    version: Option<String>,
    tags: Option<BTreeMap<String, String>>,
    cors_configuration: Option<Value>,
    disable_execute_api_endpoint: Option<bool>,
    route_selection_expression: Option<String>,
}

/// A new API from CreateApi's input, with the `$default` route, its
/// integration and the auto-deployed `$default` stage when the input has a
/// `Target` (quick create).
pub(crate) fn new_api(input: CreateApiInput, region: &Region) -> Result<ApiState, GatewayError> {
    let name = input.name.filter(|n| !n.is_empty()).ok_or_else(|| GatewayError::bad_request("Name is required"))?;
    if name.len() > 128 {
        return Err(GatewayError::bad_request("Name must be at most 128 characters"));
    }
    match input.protocol_type.as_deref() {
        Some("HTTP") => {}
        Some("WEBSOCKET") => {
            return Err(GatewayError::bad_request("Lambdabox serves only HTTP APIs (ProtocolType HTTP)"));
        }
        _ => {
            return Err(GatewayError::bad_request("Invalid protocol type. Valid values are: [HTTP, WEBSOCKET]"));
        }
    }
    let now = now_iso();
    let api = Api {
        api_id: ids::api_id(),
        name,
        protocol_type: "HTTP".into(),
        api_key_selection_expression: "$request.header.x-api-key".into(),
        route_selection_expression: input
            .route_selection_expression
            .unwrap_or_else(|| "$request.method $request.path".into()),
        created_date: now.clone(),
        description: input.description,
        version: input.version,
        disable_execute_api_endpoint: input.disable_execute_api_endpoint.unwrap_or(false),
        tags: input.tags.unwrap_or_default(),
        cors_configuration: input.cors_configuration,
        region: region.to_string(),
    };
    let mut state = ApiState::new(api);
    if let Some(target) = input.target {
        if function_of(&target).is_none() {
            return Err(GatewayError::bad_request(format!("Invalid target: {target}; expected a Lambda function ARN")));
        }
        let route_key = input.route_key.unwrap_or_else(|| "$default".into());
        RouteKey::parse(&route_key).map_err(|e| GatewayError::bad_request(e.to_string()))?;
        let integration = Integration {
            integration_id: ids::short_id(),
            integration_type: "AWS_PROXY".into(),
            integration_uri: target,
            integration_method: "POST".into(),
            connection_type: "INTERNET".into(),
            payload_format_version: "2.0".into(),
            timeout_in_millis: 30_000,
            description: None,
            api_gateway_managed: true,
        };
        let route = Route {
            route_id: ids::short_id(),
            route_key,
            target: Some(format!("integrations/{}", integration.integration_id)),
            authorization_type: "NONE".into(),
            api_key_required: false,
            api_gateway_managed: true,
        };
        let stage = Stage {
            stage_name: "$default".into(),
            auto_deploy: true,
            stage_variables: BTreeMap::new(),
            description: None,
            created_date: now.clone(),
            last_updated_date: now,
            api_gateway_managed: true,
            tags: BTreeMap::new(),
        };
        state.integrations.insert(integration.integration_id.clone(), integration);
        state.routes.insert(route.route_id.clone(), route);
        state.stages.insert(stage.stage_name.clone(), stage);
    }
    Ok(state)
}

pub(crate) async fn create_api(State(inner): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    reply(
        async {
            let region = inner.region(&headers);
            let state = new_api(parse(&body)?, &region)?;
            let value = inner.api_value(&state.api);
            blocking(&inner, move |s| s.put_api_state(state)).await?;
            created(value)
        }
        .await,
    )
}

pub(crate) async fn get_apis(State(inner): State<Shared>) -> Response {
    let items: Vec<Value> = inner.store.apis().iter().map(|a| inner.api_value(&a.api)).collect();
    reply(ok(json!({ "items": items })))
}

pub(crate) async fn get_api(State(inner): State<Shared>, Path(api): Path<String>) -> Response {
    reply(inner.api_or_404(&api).and_then(|a| ok(inner.api_value(&a.api))))
}

pub(crate) async fn delete_api(State(inner): State<Shared>, Path(api): Path<String>) -> Response {
    reply(
        async {
            inner.api_or_404(&api)?;
            blocking(&inner, move |s| s.delete_api(&api).map(|_| ())).await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        .await,
    )
}
