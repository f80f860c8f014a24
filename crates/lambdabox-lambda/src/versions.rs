//! PublishVersion, ListVersionsByFunction and the alias operations.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use lambdabox_control::{AliasInput, AliasView};
use lambdabox_proto::control::{
    AliasConfiguration, CreateAliasRequest, FunctionConfiguration, ListAliasesResponse, ListVersionsByFunctionResponse,
    PublishVersionRequest, UpdateAliasRequest,
};

use crate::body::json;
use crate::query::{max_items, query_value};
use crate::target::FunctionTarget;
use crate::{ApiError, AppState};

fn alias(view: &AliasView) -> AliasConfiguration {
    AliasConfiguration::from_model(view.arn.clone(), &view.alias)
}

pub async fn publish(
    State(state): State<AppState>,
    FunctionTarget { region, name, .. }: FunctionTarget,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let req: PublishVersionRequest = json(body, "PublishVersion")?;
    let view = state
        .invoker
        .control()
        .publish_version(
            &region,
            &name,
            req.code_sha256.as_deref(),
            req.description.as_deref(),
            req.revision_id.as_deref(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(FunctionConfiguration::from_model(view.arn.clone(), &view.config))).into_response())
}

pub async fn list_versions(
    State(state): State<AppState>,
    FunctionTarget { region, name, .. }: FunctionTarget,
    uri: Uri,
) -> Result<Json<ListVersionsByFunctionResponse>, ApiError> {
    let marker = query_value(uri.query(), "Marker");
    let page = state.invoker.control().list_versions(&region, &name, marker.as_deref(), max_items(&uri)?).await?;
    Ok(Json(ListVersionsByFunctionResponse {
        versions: page.versions.iter().map(|v| FunctionConfiguration::from_model(v.arn.clone(), &v.config)).collect(),
        next_marker: page.next_marker,
    }))
}

pub async fn create_alias(
    State(state): State<AppState>,
    FunctionTarget { region, name, .. }: FunctionTarget,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let req: CreateAliasRequest = json(body, "CreateAlias")?;
    let input = AliasInput {
        function_version: req.function_version,
        description: req.description,
        additional_version_weights: req.routing_config.map(|r| r.additional_version_weights),
        revision_id: None,
    };
    let view = state.invoker.control().create_alias(&region, &name, req.name.as_deref(), input).await?;
    Ok((StatusCode::CREATED, Json(alias(&view))).into_response())
}

pub async fn get_alias(
    State(state): State<AppState>,
    FunctionTarget { region, name, .. }: FunctionTarget,
    Path((_, alias_name)): Path<(String, String)>,
) -> Result<Json<AliasConfiguration>, ApiError> {
    Ok(Json(alias(&state.invoker.control().get_alias(&region, &name, &alias_name).await?)))
}

pub async fn update_alias(
    State(state): State<AppState>,
    FunctionTarget { region, name, .. }: FunctionTarget,
    Path((_, alias_name)): Path<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<AliasConfiguration>, ApiError> {
    let req: UpdateAliasRequest = json(body, "UpdateAlias")?;
    let input = AliasInput {
        function_version: req.function_version,
        description: req.description,
        additional_version_weights: req.routing_config.map(|r| r.additional_version_weights),
        revision_id: req.revision_id,
    };
    Ok(Json(alias(&state.invoker.control().update_alias(&region, &name, &alias_name, input).await?)))
}

pub async fn delete_alias(
    State(state): State<AppState>,
    FunctionTarget { region, name, .. }: FunctionTarget,
    Path((_, alias_name)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state.invoker.control().delete_alias(&region, &name, &alias_name).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_aliases(
    State(state): State<AppState>,
    FunctionTarget { region, name, .. }: FunctionTarget,
    uri: Uri,
) -> Result<Json<ListAliasesResponse>, ApiError> {
    let version = query_value(uri.query(), "FunctionVersion");
    let marker = query_value(uri.query(), "Marker");
    let page = state
        .invoker
        .control()
        .list_aliases(&region, &name, version.as_deref(), marker.as_deref(), max_items(&uri)?)
        .await?;
    Ok(Json(ListAliasesResponse { aliases: page.aliases.iter().map(alias).collect(), next_marker: page.next_marker }))
}
