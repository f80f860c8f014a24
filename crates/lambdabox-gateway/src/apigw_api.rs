//! The `apigatewayv2` REST API for HTTP APIs (camelCase JSON, as `aws
//! apigatewayv2` and boto3 speak it): APIs (with quick create), integrations,
//! routes and stages — create, get, list, delete.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::GatewayError;
use crate::function_of;
use crate::model::{Api, ApiState, Integration, Route, Stage, now_iso};
use crate::response::PayloadVersion;
use crate::routes::RouteKey;
use crate::store::Child;
use crate::url_api::region;
use crate::{Inner, ids};

type Shared = Arc<Inner>;

pub fn router(inner: Shared) -> Router {
    Router::new()
        .route("/v2/apis", get(get_apis).post(create_api))
        .route("/v2/apis/{api}", get(get_api).delete(delete_api))
        .route("/v2/apis/{api}/integrations", get(get_integrations).post(create_integration))
        .route("/v2/apis/{api}/integrations/{id}", get(get_integration).delete(delete_integration))
        .route("/v2/apis/{api}/routes", get(get_routes).post(create_route))
        .route("/v2/apis/{api}/routes/{id}", get(get_route).delete(delete_route))
        .route("/v2/apis/{api}/stages", get(get_stages).post(create_stage))
        .route("/v2/apis/{api}/stages/{id}", get(get_stage).delete(delete_stage))
        .with_state(inner)
}

type Outcome = Result<Response, GatewayError>;

fn reply(result: Outcome) -> Response {
    result.unwrap_or_else(GatewayError::apigateway)
}

fn created(value: Value) -> Outcome {
    Ok((StatusCode::CREATED, axum::Json(value)).into_response())
}

fn ok(value: Value) -> Outcome {
    Ok(axum::Json(value).into_response())
}

fn parse<T: serde::de::DeserializeOwned + Default>(body: &Bytes) -> Result<T, GatewayError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| GatewayError::bad_request(format!("Invalid request body: {e}")))
}

fn to_value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).expect("wire shapes always serialise")
}

async fn blocking(
    inner: &Shared,
    f: impl FnOnce(&crate::GatewayStore) -> Result<(), GatewayError> + Send + 'static,
) -> Result<(), GatewayError> {
    let store = inner.store.clone();
    tokio::task::spawn_blocking(move || f(&store)).await.expect("store calls do not panic")
}

impl Inner {
    fn api_or_404(&self, api_id: &str) -> Result<Arc<ApiState>, GatewayError> {
        self.store.api(api_id).ok_or_else(|| {
            GatewayError::not_found(format!(
                "Invalid API identifier specified {}:{api_id}",
                self.config.account.as_str()
            ))
        })
    }

    fn api_value(&self, api: &Api) -> Value {
        let mut v = to_value(api);
        v["apiEndpoint"] = format!("http://{}.execute-api.localhost:{}", api.api_id, self.config.public_port).into();
        v
    }
}

// -- APIs ----------------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct CreateApiInput {
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

async fn create_api(State(inner): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    reply(
        async {
            let input: CreateApiInput = parse(&body)?;
            let name =
                input.name.filter(|n| !n.is_empty()).ok_or_else(|| GatewayError::bad_request("Name is required"))?;
            if name.len() > 128 {
                return Err(GatewayError::bad_request("Name must be at most 128 characters"));
            }
            match input.protocol_type.as_deref() {
                Some("HTTP") => {}
                Some("WEBSOCKET") => {
                    return Err(GatewayError::bad_request("Lambdabox serves only HTTP APIs (ProtocolType HTTP)"));
                }
                _ => {
                    return Err(GatewayError::bad_request(
                        "Invalid protocol type. Valid values are: [HTTP, WEBSOCKET]",
                    ));
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
                region: region(&headers, &inner.config.default_region).to_string(),
            };
            let mut state = ApiState::new(api);
            if let Some(target) = input.target {
                if function_of(&target).is_none() {
                    return Err(GatewayError::bad_request(format!(
                        "Invalid target: {target}; expected a Lambda function ARN"
                    )));
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
            let value = inner.api_value(&state.api);
            blocking(&inner, move |s| s.put_api_state(state)).await?;
            created(value)
        }
        .await,
    )
}

async fn get_apis(State(inner): State<Shared>) -> Response {
    let items: Vec<Value> = inner.store.apis().iter().map(|a| inner.api_value(&a.api)).collect();
    reply(ok(json!({ "items": items })))
}

async fn get_api(State(inner): State<Shared>, Path(api): Path<String>) -> Response {
    reply(inner.api_or_404(&api).and_then(|a| ok(inner.api_value(&a.api))))
}

async fn delete_api(State(inner): State<Shared>, Path(api): Path<String>) -> Response {
    reply(
        async {
            inner.api_or_404(&api)?;
            blocking(&inner, move |s| s.delete_api(&api).map(|_| ())).await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        .await,
    )
}

// -- integrations --------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct CreateIntegrationInput {
    integration_type: Option<String>,
    integration_uri: Option<String>,
    integration_method: Option<String>,
    payload_format_version: Option<String>,
    timeout_in_millis: Option<i64>,
    description: Option<String>,
    connection_type: Option<String>,
}

async fn create_integration(State(inner): State<Shared>, Path(api): Path<String>, body: Bytes) -> Response {
    reply(
        async {
            let state = inner.api_or_404(&api)?;
            let input: CreateIntegrationInput = parse(&body)?;
            match input.integration_type.as_deref() {
                Some("AWS_PROXY") => {}
                Some(other @ ("HTTP_PROXY" | "AWS" | "HTTP" | "MOCK")) => {
                    return Err(GatewayError::bad_request(format!(
                        "Integration type {other} is not supported by Lambdabox; use AWS_PROXY"
                    )));
                }
                _ => {
                    return Err(GatewayError::bad_request(
                        "Invalid integration type. Valid values are: [AWS, AWS_PROXY, HTTP, HTTP_PROXY, MOCK]",
                    ));
                }
            }
            let uri = input
                .integration_uri
                .ok_or_else(|| GatewayError::bad_request("Integration URI is required for AWS_PROXY integrations"))?;
            if function_of(&uri).is_none() {
                return Err(GatewayError::bad_request(format!("Invalid integration URI specified: {uri}")));
            }
            let version = input.payload_format_version.ok_or_else(|| {
                GatewayError::bad_request("PayloadFormatVersion is required for AWS_PROXY integrations: 1.0 or 2.0")
            })?;
            if PayloadVersion::parse(&version).is_none() {
                return Err(GatewayError::bad_request(format!(
                    "Invalid payload format version specified: {version}. Valid values are: [1.0, 2.0]"
                )));
            }
            let timeout = input.timeout_in_millis.unwrap_or(30_000);
            if !(50..=30_000).contains(&timeout) {
                return Err(GatewayError::bad_request("Timeout must be between 50 ms and 30000 ms"));
            }
            let integration = Integration {
                integration_id: ids::short_id(),
                integration_type: "AWS_PROXY".into(),
                integration_uri: uri,
                integration_method: input.integration_method.unwrap_or_else(|| "POST".into()),
                connection_type: input.connection_type.unwrap_or_else(|| "INTERNET".into()),
                payload_format_version: version,
                timeout_in_millis: timeout as u32,
                description: input.description,
                api_gateway_managed: false,
            };
            let value = to_value(&integration);
            let api_id = state.api.api_id.clone();
            blocking(&inner, move |s| {
                let id = integration.integration_id.clone();
                s.put_child(&api_id, Child::Integration, &id, &integration, |a| {
                    a.integrations.insert(id.clone(), integration.clone());
                })
            })
            .await?;
            created(value)
        }
        .await,
    )
}

async fn get_integrations(State(inner): State<Shared>, Path(api): Path<String>) -> Response {
    reply(
        inner
            .api_or_404(&api)
            .and_then(|a| ok(json!({ "items": a.integrations.values().map(to_value).collect::<Vec<_>>() }))),
    )
}

async fn get_integration(State(inner): State<Shared>, Path((api, id)): Path<(String, String)>) -> Response {
    reply(inner.api_or_404(&api).and_then(|a| {
        a.integrations
            .get(&id)
            .map(|i| ok(to_value(i)))
            .unwrap_or_else(|| Err(GatewayError::not_found("Invalid Integration identifier specified")))
    }))
}

async fn delete_integration(State(inner): State<Shared>, Path((api, id)): Path<(String, String)>) -> Response {
    reply(
        async {
            let state = inner.api_or_404(&api)?;
            if !state.integrations.contains_key(&id) {
                return Err(GatewayError::not_found("Invalid Integration identifier specified"));
            }
            let target = format!("integrations/{id}");
            if state.routes.values().any(|r| r.target.as_deref() == Some(&target)) {
                return Err(GatewayError::Conflict {
                    message: format!(
                        "Integration {id} is in use by a route. Delete the route or change its target first."
                    ),
                });
            }
            blocking(&inner, move |s| {
                s.delete_child(&api, Child::Integration, &id, |a| {
                    a.integrations.remove(&id);
                })
            })
            .await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        .await,
    )
}

// -- routes --------------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct CreateRouteInput {
    route_key: Option<String>,
    target: Option<String>,
    authorization_type: Option<String>,
}

async fn create_route(State(inner): State<Shared>, Path(api): Path<String>, body: Bytes) -> Response {
    reply(
        async {
            let state = inner.api_or_404(&api)?;
            let input: CreateRouteInput = parse(&body)?;
            let key = input.route_key.ok_or_else(|| GatewayError::bad_request("RouteKey is required"))?;
            RouteKey::parse(&key).map_err(|e| GatewayError::bad_request(e.to_string()))?;
            if state.routes.values().any(|r| r.route_key == key) {
                return Err(GatewayError::Conflict {
                    message: format!("Route with key {key} already exists for this API"),
                });
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

async fn get_routes(State(inner): State<Shared>, Path(api): Path<String>) -> Response {
    reply(
        inner
            .api_or_404(&api)
            .and_then(|a| ok(json!({ "items": a.routes.values().map(to_value).collect::<Vec<_>>() }))),
    )
}

async fn get_route(State(inner): State<Shared>, Path((api, id)): Path<(String, String)>) -> Response {
    reply(inner.api_or_404(&api).and_then(|a| {
        a.routes
            .get(&id)
            .map(|r| ok(to_value(r)))
            .unwrap_or_else(|| Err(GatewayError::not_found("Invalid Route identifier specified")))
    }))
}

async fn delete_route(State(inner): State<Shared>, Path((api, id)): Path<(String, String)>) -> Response {
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

// -- stages --------------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct CreateStageInput {
    stage_name: Option<String>,
    auto_deploy: Option<bool>,
    stage_variables: Option<BTreeMap<String, String>>,
    description: Option<String>,
    tags: Option<BTreeMap<String, String>>,
}

fn valid_stage_name(name: &str) -> bool {
    name == "$default"
        || (!name.is_empty()
            && name.len() <= 128
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
}

async fn create_stage(State(inner): State<Shared>, Path(api): Path<String>, body: Bytes) -> Response {
    reply(
        async {
            let state = inner.api_or_404(&api)?;
            let input: CreateStageInput = parse(&body)?;
            let name = input.stage_name.ok_or_else(|| GatewayError::bad_request("StageName is required"))?;
            if !valid_stage_name(&name) {
                return Err(GatewayError::bad_request(format!(
                    "Stage name {name} is invalid: use alphanumerics, '-' and '_', or $default"
                )));
            }
            if state.stages.contains_key(&name) {
                return Err(GatewayError::Conflict { message: format!("Stage {name} already exists") });
            }
            let variables = input.stage_variables.unwrap_or_default();
            for (k, v) in &variables {
                let key_ok =
                    !k.is_empty() && k.len() <= 64 && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
                if !key_ok || v.len() > 2048 {
                    return Err(GatewayError::bad_request(format!("Invalid stage variable {k}")));
                }
            }
            let now = now_iso();
            let stage = Stage {
                stage_name: name,
                auto_deploy: input.auto_deploy.unwrap_or(false),
                stage_variables: variables,
                description: input.description,
                created_date: now.clone(),
                last_updated_date: now,
                api_gateway_managed: false,
                tags: input.tags.unwrap_or_default(),
            };
            let value = to_value(&stage);
            blocking(&inner, move |s| {
                let id = stage.stage_name.clone();
                s.put_child(&api, Child::Stage, &id, &stage, |a| {
                    a.stages.insert(id.clone(), stage.clone());
                })
            })
            .await?;
            created(value)
        }
        .await,
    )
}

async fn get_stages(State(inner): State<Shared>, Path(api): Path<String>) -> Response {
    reply(
        inner
            .api_or_404(&api)
            .and_then(|a| ok(json!({ "items": a.stages.values().map(to_value).collect::<Vec<_>>() }))),
    )
}

async fn get_stage(State(inner): State<Shared>, Path((api, id)): Path<(String, String)>) -> Response {
    reply(inner.api_or_404(&api).and_then(|a| {
        a.stages
            .get(&id)
            .map(|s| ok(to_value(s)))
            .unwrap_or_else(|| Err(GatewayError::not_found("Invalid stage identifier specified")))
    }))
}

async fn delete_stage(State(inner): State<Shared>, Path((api, id)): Path<(String, String)>) -> Response {
    reply(
        async {
            let state = inner.api_or_404(&api)?;
            if !state.stages.contains_key(&id) {
                return Err(GatewayError::not_found("Invalid stage identifier specified"));
            }
            blocking(&inner, move |s| {
                s.delete_child(&api, Child::Stage, &id, |a| {
                    a.stages.remove(&id);
                })
            })
            .await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        .await,
    )
}
