//! The asynchronous invocation settings: Put, Update, Get, Delete and List
//! FunctionEventInvokeConfig.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use lambdabox_control::{EventInvokeInput, EventInvokeView};
use lambdabox_proto::control::{
    FunctionEventInvokeConfig, ListFunctionEventInvokeConfigsResponse, PutFunctionEventInvokeConfigRequest,
};

use crate::body::json;
use crate::target::FunctionTarget;
use crate::{ApiError, AppState};

fn render(view: &EventInvokeView) -> FunctionEventInvokeConfig {
    FunctionEventInvokeConfig::from_model(view.function_arn.clone(), &view.config)
}

fn input(req: PutFunctionEventInvokeConfigRequest) -> EventInvokeInput {
    let destinations = req.destination_config.unwrap_or_default();
    EventInvokeInput {
        maximum_retry_attempts: req.maximum_retry_attempts,
        maximum_event_age_in_seconds: req.maximum_event_age_in_seconds,
        on_success: destinations.on_success.map(|d| d.destination.unwrap_or_default()),
        on_failure: destinations.on_failure.map(|d| d.destination.unwrap_or_default()),
    }
}

async fn write(
    state: AppState,
    FunctionTarget { region, name, qualifier }: FunctionTarget,
    body: Result<Bytes, BytesRejection>,
    merge: bool,
) -> Result<Json<FunctionEventInvokeConfig>, ApiError> {
    let operation = if merge { "UpdateFunctionEventInvokeConfig" } else { "PutFunctionEventInvokeConfig" };
    let req: PutFunctionEventInvokeConfigRequest = json(body, operation)?;
    let view = state
        .invoker
        .control()
        .put_event_invoke_config(&region, &name, qualifier.as_deref(), input(req), merge)
        .await?;
    Ok(Json(render(&view)))
}

pub async fn put(
    State(state): State<AppState>,
    target: FunctionTarget,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<FunctionEventInvokeConfig>, ApiError> {
    write(state, target, body, false).await
}

pub async fn update(
    State(state): State<AppState>,
    target: FunctionTarget,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<FunctionEventInvokeConfig>, ApiError> {
    write(state, target, body, true).await
}

pub async fn get(
    State(state): State<AppState>,
    FunctionTarget { region, name, qualifier }: FunctionTarget,
) -> Result<Json<FunctionEventInvokeConfig>, ApiError> {
    let view = state.invoker.control().get_event_invoke_config(&region, &name, qualifier.as_deref()).await?;
    Ok(Json(render(&view)))
}

pub async fn delete(
    State(state): State<AppState>,
    FunctionTarget { region, name, qualifier }: FunctionTarget,
) -> Result<StatusCode, ApiError> {
    state.invoker.control().delete_event_invoke_config(&region, &name, qualifier.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list(
    State(state): State<AppState>,
    FunctionTarget { region, name, .. }: FunctionTarget,
) -> Result<Json<ListFunctionEventInvokeConfigsResponse>, ApiError> {
    let views = state.invoker.control().list_event_invoke_configs(&region, &name).await?;
    Ok(Json(ListFunctionEventInvokeConfigsResponse {
        function_event_invoke_configs: views.iter().map(render).collect(),
    }))
}
