//! Resource-based policy routes: AddPermission (`POST …/policy`), GetPolicy
//! (`GET …/policy`) and RemovePermission (`DELETE …/policy/{StatementId}`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use lambdabox_control::AddPermission;
use serde::Deserialize;
use serde_json::json;

use crate::body::json;
use crate::query::query_value;
use crate::target::FunctionTarget;
use crate::{ApiError, AppState};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AddPermissionRequest {
    statement_id: Option<String>,
    action: Option<String>,
    principal: Option<String>,
    source_arn: Option<String>,
    source_account: Option<String>,
    event_source_token: Option<String>,
    revision_id: Option<String>,
    #[serde(rename = "PrincipalOrgID")]
    principal_org_id: Option<String>,
    function_url_auth_type: Option<String>,
}

pub async fn add(
    State(state): State<AppState>,
    FunctionTarget { region, name, qualifier }: FunctionTarget,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let req: AddPermissionRequest = json(body, "AddPermission")?;
    let input = AddPermission {
        statement_id: req.statement_id,
        action: req.action,
        principal: req.principal,
        source_arn: req.source_arn,
        source_account: req.source_account,
        event_source_token: req.event_source_token,
        principal_org_id: req.principal_org_id,
        function_url_auth_type: req.function_url_auth_type,
        revision_id: req.revision_id,
    };
    let statement = state.invoker.control().add_permission(&region, &name, qualifier.as_deref(), input).await?;
    Ok((StatusCode::CREATED, Json(json!({ "Statement": statement }))).into_response())
}

pub async fn get(
    State(state): State<AppState>,
    FunctionTarget { region, name, qualifier }: FunctionTarget,
) -> Result<Response, ApiError> {
    let view = state.invoker.control().get_policy(&region, &name, qualifier.as_deref()).await?;
    Ok(Json(json!({ "Policy": view.policy, "RevisionId": view.revision_id })).into_response())
}

pub async fn remove(
    State(state): State<AppState>,
    FunctionTarget { region, name, qualifier }: FunctionTarget,
    Path((_, sid)): Path<(String, String)>,
    uri: Uri,
) -> Result<StatusCode, ApiError> {
    let revision = query_value(uri.query(), "RevisionId");
    state.invoker.control().remove_permission(&region, &name, qualifier.as_deref(), &sid, revision.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}
