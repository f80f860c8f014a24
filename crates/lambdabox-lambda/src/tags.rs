//! TagResource, UntagResource and ListTags.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use lambdabox_proto::control::{ListTagsResponse, TagResourceRequest};

use crate::body::json;
use crate::query::query_pairs;
use crate::target::RequestRegion;
use crate::{ApiError, AppState};

pub async fn list(
    State(state): State<AppState>,
    RequestRegion(region): RequestRegion,
    Path(arn): Path<String>,
) -> Result<Json<ListTagsResponse>, ApiError> {
    let tags = state.invoker.control().list_tags(&region, &arn).await?;
    Ok(Json(ListTagsResponse { tags }))
}

pub async fn tag(
    State(state): State<AppState>,
    RequestRegion(region): RequestRegion,
    Path(arn): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let req: TagResourceRequest = json(body, "TagResource")?;
    let tags = req.tags.ok_or_else(|| {
        ApiError::from(lambdabox_control::ControlError::Validation(lambdabox_model::ValidationError::new(
            "null",
            "tags",
            "Member must not be null",
        )))
    })?;
    state.invoker.control().tag_resource(&region, &arn, tags).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn untag(
    State(state): State<AppState>,
    RequestRegion(region): RequestRegion,
    Path(arn): Path<String>,
    uri: Uri,
) -> Result<StatusCode, ApiError> {
    let keys = query_pairs(uri.query()).into_iter().filter(|(k, _)| k == "tagKeys").map(|(_, v)| v).collect();
    state.invoker.control().untag_resource(&region, &arn, keys).await?;
    Ok(StatusCode::NO_CONTENT)
}
