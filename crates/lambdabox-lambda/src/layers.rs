//! The layer routes (`/2018-10-31/layers`): PublishLayerVersion,
//! GetLayerVersion, GetLayerVersionByArn, ListLayers, ListLayerVersions and
//! DeleteLayerVersion.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use lambdabox_control::{LayerFilter, LayerVersionView, PublishLayerVersion};
use lambdabox_proto::control::FunctionCode;
use lambdabox_proto::layers::{
    LayerVersionContentOutput, LayerVersionResponse, LayerVersionsListItem, LayersListItem, ListLayerVersionsResponse,
    ListLayersResponse, PublishLayerVersionRequest,
};

use crate::body::json_package;
use crate::functions::code_source;
use crate::query::{max_items, query_value};
use crate::target::{FunctionTarget, RequestRegion};
use crate::{ApiError, AppState};

fn response(view: LayerVersionView, state: &AppState) -> LayerVersionResponse {
    let l = view.layer;
    LayerVersionResponse {
        content: LayerVersionContentOutput {
            location: crate::functions::code_location(state, &l.code.blob_key),
            code_sha256: l.code.sha256,
            code_size: l.code.size,
        },
        layer_arn: view.layer_arn,
        layer_version_arn: view.layer_version_arn,
        description: l.description,
        created_date: l.created_date,
        version: l.version,
        compatible_runtimes: l.compatible_runtimes,
        license_info: l.license_info,
        compatible_architectures: l.compatible_architectures.iter().map(|a| a.as_str().to_owned()).collect(),
    }
}

fn list_item(view: LayerVersionView) -> LayerVersionsListItem {
    let l = view.layer;
    LayerVersionsListItem {
        layer_version_arn: view.layer_version_arn,
        version: l.version,
        description: l.description,
        created_date: l.created_date,
        compatible_runtimes: l.compatible_runtimes,
        license_info: l.license_info,
        compatible_architectures: l.compatible_architectures.iter().map(|a| a.as_str().to_owned()).collect(),
    }
}

fn filter(uri: &Uri) -> Result<LayerFilter, ApiError> {
    Ok(LayerFilter {
        compatible_runtime: query_value(uri.query(), "CompatibleRuntime"),
        compatible_architecture: query_value(uri.query(), "CompatibleArchitecture"),
        marker: query_value(uri.query(), "Marker"),
        max_items: max_items(uri)?,
    })
}

pub async fn publish(
    State(state): State<AppState>,
    FunctionTarget { region, name, .. }: FunctionTarget,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let req: PublishLayerVersionRequest = json_package(body, "PublishLayerVersion").await?;
    let content = match req.content {
        None => None,
        Some(FunctionCode { zip_file, s3_bucket, s3_key, s3_object_version, image_uri }) => {
            code_source(zip_file, s3_bucket, s3_key, s3_object_version, image_uri)?
        }
    };
    let input = PublishLayerVersion {
        description: req.description,
        content,
        compatible_runtimes: req.compatible_runtimes,
        compatible_architectures: req.compatible_architectures,
        license_info: req.license_info,
    };
    let view = state.invoker.control().publish_layer_version(&region, &name, input).await?;
    Ok((StatusCode::CREATED, Json(response(view, &state))).into_response())
}

pub async fn get(
    State(state): State<AppState>,
    RequestRegion(region): RequestRegion,
    Path((name, version)): Path<(String, String)>,
) -> Result<Json<LayerVersionResponse>, ApiError> {
    let view = state.invoker.control().get_layer_version(&region, &name, &version).await?;
    Ok(Json(response(view, &state)))
}

pub async fn delete(
    State(state): State<AppState>,
    Path((name, version)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state.invoker.control().delete_layer_version(&name, &version).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_versions(
    State(state): State<AppState>,
    FunctionTarget { region, name, .. }: FunctionTarget,
    uri: Uri,
) -> Result<Json<ListLayerVersionsResponse>, ApiError> {
    let page = state.invoker.control().list_layer_versions(&region, &name, filter(&uri)?).await?;
    Ok(Json(ListLayerVersionsResponse {
        next_marker: page.next_marker,
        layer_versions: page.items.into_iter().map(list_item).collect(),
    }))
}

/// `GET /2018-10-31/layers`: ListLayers, or GetLayerVersionByArn when the
/// query says `find=LayerVersion&Arn=…`.
pub async fn list_or_find(
    State(state): State<AppState>,
    RequestRegion(region): RequestRegion,
    uri: Uri,
) -> Result<Response, ApiError> {
    if query_value(uri.query(), "find").as_deref() == Some("LayerVersion") {
        let arn = query_value(uri.query(), "Arn").unwrap_or_default();
        let view = state.invoker.control().get_layer_version_by_arn(&region, &arn).await?;
        return Ok(Json(response(view, &state)).into_response());
    }
    let page = state.invoker.control().list_layers(&region, filter(&uri)?).await?;
    Ok(Json(ListLayersResponse {
        next_marker: page.next_marker,
        layers: page
            .items
            .into_iter()
            .map(|view| LayersListItem {
                layer_name: view.layer.name.to_string(),
                layer_arn: view.layer_arn.clone(),
                latest_matching_version: list_item(view),
            })
            .collect(),
    })
    .into_response())
}
