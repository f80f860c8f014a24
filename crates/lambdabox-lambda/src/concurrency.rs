//! Reserved concurrency (Put, Get, DeleteFunctionConcurrency) and
//! provisioned concurrency (Put, Get, Delete, ListProvisionedConcurrencyConfigs).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use lambdabox_control::ProvisionedConfig;
use lambdabox_model::Region;
use lambdabox_proto::control::{
    Concurrency, ListProvisionedConcurrencyConfigsResponse, ProvisionedConcurrencyConfig,
    PutProvisionedConcurrencyConfigRequest,
};

use crate::body::json;
use crate::query::query_value;
use crate::target::FunctionTarget;
use crate::{ApiError, AppState};

pub async fn put(
    State(state): State<AppState>,
    FunctionTarget { region, name, .. }: FunctionTarget,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Concurrency>, ApiError> {
    let req: Concurrency = json(body, "PutFunctionConcurrency")?;
    let n =
        state.invoker.control().put_function_concurrency(&region, &name, req.reserved_concurrent_executions).await?;
    Ok(Json(Concurrency { reserved_concurrent_executions: Some(i64::from(n)) }))
}

pub async fn get(
    State(state): State<AppState>,
    FunctionTarget { region, name, .. }: FunctionTarget,
) -> Result<Json<Concurrency>, ApiError> {
    let n = state.invoker.control().get_function_concurrency(&region, &name).await?;
    Ok(Json(Concurrency { reserved_concurrent_executions: n.map(i64::from) }))
}

pub async fn delete(
    State(state): State<AppState>,
    FunctionTarget { region, name, .. }: FunctionTarget,
) -> Result<StatusCode, ApiError> {
    state.invoker.control().delete_function_concurrency(&region, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn render(
    state: &AppState,
    region: &Region,
    c: &ProvisionedConfig,
    with_arn: bool,
) -> ProvisionedConcurrencyConfig {
    let ready = state.invoker.provisioned_ready(region, &c.function, &c.qualifier).await as u32;
    let available = ready.min(c.requested);
    ProvisionedConcurrencyConfig {
        function_arn: with_arn.then(|| {
            lambdabox_model::arn::qualified_function_arn(
                region,
                state.invoker.control().account(),
                &c.function,
                &c.qualifier,
            )
        }),
        requested_provisioned_concurrent_executions: c.requested,
        available_provisioned_concurrent_executions: available,
        allocated_provisioned_concurrent_executions: available,
        status: if available >= c.requested { "READY" } else { "IN_PROGRESS" }.into(),
        last_modified: c.last_modified.clone(),
    }
}

pub async fn put_provisioned(
    State(state): State<AppState>,
    FunctionTarget { region, name, qualifier: q }: FunctionTarget,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let req: PutProvisionedConcurrencyConfigRequest = json(body, "PutProvisionedConcurrencyConfig")?;
    let config = state
        .invoker
        .control()
        .put_provisioned_concurrency(&region, &name, q.as_deref(), req.provisioned_concurrent_executions)
        .await?;
    let (invoker, r, c) = (state.invoker.clone(), region.clone(), config.clone());
    tokio::spawn(async move {
        if let Err(error) = invoker.provision(&r, &c.function, &c.qualifier, c.requested as usize).await {
            tracing::warn!(%error, function = %c.function, "provisioning failed");
        }
    });
    let body = render(&state, &region, &config, false).await;
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

/// GetProvisionedConcurrencyConfig, or the list with `?List=ALL`.
pub async fn get_provisioned(
    State(state): State<AppState>,
    FunctionTarget { region, name, qualifier }: FunctionTarget,
    uri: Uri,
) -> Result<Response, ApiError> {
    if query_value(uri.query(), "List").as_deref() == Some("ALL") {
        let all = state.invoker.control().list_provisioned_concurrency(&region, &name).await?;
        let mut configs = Vec::new();
        for c in &all {
            configs.push(render(&state, &region, c, true).await);
        }
        return Ok(Json(ListProvisionedConcurrencyConfigsResponse { provisioned_concurrency_configs: configs })
            .into_response());
    }
    let config = state.invoker.control().get_provisioned_concurrency(&region, &name, qualifier.as_deref()).await?;
    Ok(Json(render(&state, &region, &config, false).await).into_response())
}

pub async fn delete_provisioned(
    State(state): State<AppState>,
    FunctionTarget { region, name, qualifier }: FunctionTarget,
) -> Result<StatusCode, ApiError> {
    let gone = state.invoker.control().delete_provisioned_concurrency(&region, &name, qualifier.as_deref()).await?;
    if let Err(error) = state.invoker.provision(&region, &gone.function, &gone.qualifier, 0).await {
        tracing::warn!(%error, "releasing provisioned environments");
    }
    Ok(StatusCode::NO_CONTENT)
}
