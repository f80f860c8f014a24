//! Event source mappings: Create, Update, Get, Delete and List
//! EventSourceMapping(s), in AWS's `EventSourceMappingConfiguration` shape.
//! The rules are the control plane's; the pollers run in `lambdabox-pollers`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use lambdabox_control::{MappingInput, MappingView};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::body::json;
use crate::target::RequestRegion;
use crate::{ApiError, AppState};

/// Members only streams and brokers take; given for an SQS source, AWS
/// refuses them.
const STREAM_ONLY: &[&str] = &[
    "StartingPosition",
    "StartingPositionTimestamp",
    "ParallelizationFactor",
    "MaximumRecordAgeInSeconds",
    "BisectBatchOnFunctionError",
    "MaximumRetryAttempts",
    "TumblingWindowInSeconds",
    "Topics",
    "Queues",
    "SourceAccessConfigurations",
    "SelfManagedEventSource",
    "DestinationConfig",
    "AmazonManagedKafkaEventSourceConfig",
    "SelfManagedKafkaEventSourceConfig",
    "DocumentDBEventSourceConfig",
];

/// Members AWS takes for SQS mappings that Lambdabox does not serve yet:
/// refused rather than ignored.
const NOT_SERVED: &[&str] = &["ProvisionedPollerConfig", "MetricsConfig", "LoggingConfig", "KMSKeyArn"];

/// The model has checked the members' types; this reads them.
fn input(body: &Map<String, Value>) -> Result<MappingInput, ApiError> {
    if let Some(member) = NOT_SERVED.iter().find(|m| body.contains_key(**m)) {
        return Err(ApiError::invalid_parameter(format!(
            "{member} is not served by Lambdabox for event source mappings; leave it out"
        )));
    }
    let string = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
    let int = |k: &str| body.get(k).and_then(Value::as_i64);
    let filters = body.get("FilterCriteria").map(|criteria| {
        criteria
            .get("Filters")
            .and_then(Value::as_array)
            .map(|filters| {
                filters.iter().filter_map(|f| f.get("Pattern").and_then(Value::as_str).map(str::to_owned)).collect()
            })
            .unwrap_or_default()
    });
    let function_response_types = body
        .get("FunctionResponseTypes")
        .and_then(Value::as_array)
        .map(|types| types.iter().filter_map(Value::as_str).map(str::to_owned).collect());
    let maximum_concurrency =
        body.get("ScalingConfig").map(|scaling| scaling.get("MaximumConcurrency").and_then(Value::as_i64));
    let tags = body
        .get("Tags")
        .and_then(Value::as_object)
        .map(|t| t.iter().filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned()))).collect())
        .unwrap_or_default();
    Ok(MappingInput {
        event_source_arn: string("EventSourceArn"),
        function_name: string("FunctionName"),
        enabled: body.get("Enabled").and_then(Value::as_bool),
        batch_size: int("BatchSize"),
        maximum_batching_window_in_seconds: int("MaximumBatchingWindowInSeconds"),
        filters,
        function_response_types,
        maximum_concurrency,
        tags,
        stream_only: STREAM_ONLY.iter().copied().filter(|m| body.contains_key(*m)).collect(),
    })
}

fn body_object(body: Result<Bytes, BytesRejection>, operation: &str) -> Result<Map<String, Value>, ApiError> {
    match json::<Value>(body, operation)? {
        Value::Object(map) => Ok(map),
        Value::Null => Ok(Map::new()),
        _ => Err(ApiError::invalid_request_content("Could not parse request body into json: expected an object")),
    }
}

/// Under `--auth iam`: the function's execution role must be allowed to
/// poll the queue (AWS checks it when the mapping is created, or pointed at
/// another function). Unknown functions and sources are left to the
/// control plane's errors.
async fn check_role(
    state: &AppState,
    region: &lambdabox_model::Region,
    input: &MappingInput,
    current_source: Option<&str>,
) -> Result<(), ApiError> {
    if lambdabox_identity::context::current().is_none() {
        return Ok(());
    }
    let (Some(function), Some(source)) =
        (input.function_name.as_deref(), input.event_source_arn.as_deref().or(current_source))
    else {
        return Ok(());
    };
    if !source.starts_with("arn:aws:sqs:") {
        return Ok(());
    }
    match state.invoker.control().resolve(region, function, None, None).await {
        Ok(view) => crate::access::execution_role_may_poll(&view.config.role, source),
        Err(_) => Ok(()),
    }
}

/// `EventSourceMappingConfiguration`, as AWS renders an SQS mapping.
pub(crate) fn render(view: &MappingView) -> Value {
    let m = &view.mapping;
    let mut out = json!({
        "UUID": m.uuid,
        "BatchSize": m.batch_size,
        "MaximumBatchingWindowInSeconds": m.maximum_batching_window_in_seconds,
        "EventSourceArn": m.event_source_arn,
        "FunctionArn": m.function_arn,
        "LastModified": m.last_modified,
        "State": view.state.as_str(),
        "StateTransitionReason": m.state_transition_reason,
        "FunctionResponseTypes": m.function_response_types,
        "EventSourceMappingArn": view.arn,
    });
    if !m.filters.is_empty() {
        out["FilterCriteria"] =
            json!({ "Filters": m.filters.iter().map(|p| json!({ "Pattern": p })).collect::<Vec<_>>() });
    }
    if let Some(c) = m.maximum_concurrency {
        out["ScalingConfig"] = json!({ "MaximumConcurrency": c });
    }
    out
}

pub async fn create(
    State(state): State<AppState>,
    RequestRegion(region): RequestRegion,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let body = body_object(body, "CreateEventSourceMapping")?;
    let input = input(&body)?;
    check_role(&state, &region, &input, None).await?;
    let view = state.invoker.control().create_event_source_mapping(&region, input).await?;
    Ok((StatusCode::ACCEPTED, Json(render(&view))))
}

pub async fn update(
    State(state): State<AppState>,
    RequestRegion(region): RequestRegion,
    Path(uuid): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let body = body_object(body, "UpdateEventSourceMapping")?;
    let input = input(&body)?;
    if input.function_name.is_some() {
        let current = state.invoker.control().get_event_source_mapping(&region, &uuid).await?;
        check_role(&state, &region, &input, Some(&current.mapping.event_source_arn)).await?;
    }
    let view = state.invoker.control().update_event_source_mapping(&region, &uuid, input).await?;
    Ok((StatusCode::ACCEPTED, Json(render(&view))))
}

pub async fn get(
    State(state): State<AppState>,
    RequestRegion(region): RequestRegion,
    Path(uuid): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let view = state.invoker.control().get_event_source_mapping(&region, &uuid).await?;
    Ok(Json(render(&view)))
}

pub async fn delete(
    State(state): State<AppState>,
    RequestRegion(region): RequestRegion,
    Path(uuid): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let view = state.invoker.control().delete_event_source_mapping(&region, &uuid).await?;
    Ok((StatusCode::ACCEPTED, Json(render(&view))))
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    #[serde(rename = "FunctionName")]
    function_name: Option<String>,
    #[serde(rename = "EventSourceArn")]
    event_source_arn: Option<String>,
    #[serde(rename = "Marker")]
    marker: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    RequestRegion(region): RequestRegion,
    uri: axum::http::Uri,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let max_items = crate::query::max_items(&uri)?;
    let page = state
        .invoker
        .control()
        .list_event_source_mappings(
            &region,
            q.function_name.as_deref(),
            q.event_source_arn.as_deref(),
            q.marker.as_deref(),
            max_items,
        )
        .await?;
    let mut out = json!({ "EventSourceMappings": page.mappings.iter().map(render).collect::<Vec<_>>() });
    if let Some(marker) = page.next_marker {
        out["NextMarker"] = marker.into();
    }
    Ok(Json(out))
}
