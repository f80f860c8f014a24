//! The function operations: CreateFunction, GetFunction,
//! GetFunctionConfiguration, ListFunctions, UpdateFunctionCode,
//! UpdateFunctionConfiguration, DeleteFunction, and the code download that
//! GetFunction's `Code.Location` points at.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use lambdabox_control::{CodeSource, CreateFunction, FunctionView, UpdateFunctionCode, UpdateFunctionConfiguration};
use lambdabox_model::ValidationError;
use lambdabox_proto::control::{
    CreateFunctionRequest, FunctionCode, FunctionCodeLocation, FunctionConfiguration, GetFunctionResponse,
    ListFunctionsResponse, UpdateFunctionCodeRequest, UpdateFunctionConfigurationRequest, VpcConfig,
};

use crate::body::{json, json_package};
use crate::query::query_value;
use crate::target::{FunctionTarget, RequestRegion};
use crate::{ApiError, AppState};

fn configuration(view: &FunctionView) -> FunctionConfiguration {
    FunctionConfiguration::from_model(view.arn.clone(), &view.config)
}

/// Decodes the base64 `ZipFile` member (boto3 and the CLI send blobs so).
fn zip_file(b64: &str) -> Result<Bytes, ApiError> {
    base64::engine::general_purpose::STANDARD.decode(b64.trim()).map(Bytes::from).map_err(|e| {
        ApiError::invalid_request_content(format!(
            "Could not parse request body into json: ZipFile is not valid base64 ({e})"
        ))
    })
}

/// The code source a request names; AWS refuses a ZipFile beside S3 members.
pub(crate) fn code_source(
    zip: Option<String>,
    bucket: Option<String>,
    key: Option<String>,
    object_version: Option<String>,
    image_uri: Option<String>,
) -> Result<Option<CodeSource>, ApiError> {
    let s3 = bucket.is_some() || key.is_some() || object_version.is_some();
    match (zip, s3) {
        (Some(_), true) => Err(lambdabox_control::ControlError::CodeAmbiguous.into()),
        (Some(z), false) => Ok(Some(CodeSource::Zip(zip_file(&z)?))),
        (None, true) => Ok(Some(CodeSource::S3 {
            bucket: bucket.unwrap_or_default(),
            key: key.unwrap_or_default(),
            object_version,
        })),
        (None, false) if image_uri.is_some() => Err(ApiError::invalid_parameter(
            "Container images (ImageUri) are not supported; upload a .zip deployment package",
        )),
        (None, false) => Ok(None),
    }
}

fn vpc(v: VpcConfig) -> (Vec<String>, Vec<String>, bool) {
    (v.subnet_ids, v.security_group_ids, v.ipv6_allowed_for_dual_stack)
}

pub async fn create(
    State(state): State<AppState>,
    RequestRegion(region): RequestRegion,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let req: CreateFunctionRequest = json_package(body, "CreateFunction").await?;
    let Some(function_name) = req.function_name else {
        return Err(lambdabox_control::ControlError::from(ValidationError::new(
            "null",
            "functionName",
            "Member must not be null",
        ))
        .into());
    };
    crate::access::authorize_create(&state, &region, &function_name)?;
    crate::access::pass_role(req.role.as_deref())?;
    let code = req.code.unwrap_or_default();
    let FunctionCode { zip_file, s3_bucket, s3_key, s3_object_version, image_uri } = code;
    let input = CreateFunction {
        function_name,
        runtime: req.runtime,
        handler: req.handler,
        role: req.role,
        code: code_source(zip_file, s3_bucket, s3_key, s3_object_version, image_uri)?,
        description: req.description,
        timeout: req.timeout,
        memory_size: req.memory_size,
        ephemeral_storage: req.ephemeral_storage.map(|e| e.size),
        environment: req.environment.map(|e| e.variables),
        layers: req.layers,
        vpc: req.vpc_config.map(vpc),
        architectures: req.architectures,
        dead_letter_target_arn: req.dead_letter_config.and_then(|d| d.target_arn),
        kms_key_arn: req.kms_key_arn,
        tracing_mode: req.tracing_config.and_then(|t| t.mode),
        tags: req.tags.unwrap_or_default(),
        publish: req.publish.unwrap_or(false),
        package_type: req.package_type,
    };
    let view = state.invoker.control().create_function(&region, input).await?;
    Ok((StatusCode::CREATED, Json(configuration(&view))).into_response())
}

pub async fn get(
    State(state): State<AppState>,
    FunctionTarget { region, name, qualifier }: FunctionTarget,
) -> Result<Json<GetFunctionResponse>, ApiError> {
    let view = state.invoker.control().get_function(&region, &name, qualifier.as_deref()).await?;
    Ok(Json(GetFunctionResponse {
        code: FunctionCodeLocation {
            repository_type: "S3".into(),
            location: code_location(&state, &view.config.code.blob_key),
        },
        tags: (!view.tags.is_empty()).then(|| view.tags.clone()),
        concurrency: state
            .invoker
            .control()
            .reserved_for(view.config.name.as_str())
            .map(|n| lambdabox_proto::control::Concurrency { reserved_concurrent_executions: Some(i64::from(n)) }),
        configuration: configuration(&view),
    }))
}

pub async fn get_configuration(
    State(state): State<AppState>,
    FunctionTarget { region, name, qualifier }: FunctionTarget,
) -> Result<Json<FunctionConfiguration>, ApiError> {
    let view = state.invoker.control().get_function(&region, &name, qualifier.as_deref()).await?;
    Ok(Json(configuration(&view)))
}

/// ListFunctions' `MasterRegion` in Lambda's model.
const MASTER_REGION_PATTERN: &str = "ALL|[a-z]{2}(-gov)?-[a-z]+-\\d{1}";

fn master_region_ok(region: &str) -> bool {
    if region == "ALL" {
        return true;
    }
    let parts: Vec<&str> = region.split('-').collect();
    let (head, rest) = parts.split_first().map_or((&"", &[][..]), |(h, r)| (h, r));
    let rest = if rest.first() == Some(&"gov") { &rest[1..] } else { rest };
    head.len() == 2
        && head.bytes().all(|b| b.is_ascii_lowercase())
        && rest.len() == 2
        && !rest[0].is_empty()
        && rest[0].bytes().all(|b| b.is_ascii_lowercase())
        && rest[1].len() == 1
        && rest[1].bytes().all(|b| b.is_ascii_digit())
}

pub async fn list(
    State(state): State<AppState>,
    RequestRegion(region): RequestRegion,
    uri: Uri,
) -> Result<Json<ListFunctionsResponse>, ApiError> {
    let max_items = crate::query::max_items(&uri)?;
    if let Some(version) = query_value(uri.query(), "FunctionVersion").filter(|v| v != "ALL") {
        let error = lambdabox_model::ValidationError::new(
            version,
            "functionVersion",
            "Member must satisfy enum value set: [ALL]",
        );
        return Err(ApiError::from(lambdabox_control::ControlError::from(error)));
    }
    if let Some(region) = query_value(uri.query(), "MasterRegion").filter(|r| !master_region_ok(r)) {
        let error = lambdabox_model::ValidationError::pattern(&region, "masterRegion", MASTER_REGION_PATTERN);
        return Err(ApiError::from(lambdabox_control::ControlError::from(error)));
    }
    let marker = query_value(uri.query(), "Marker");
    let page = state.invoker.control().list_functions(&region, marker.as_deref(), max_items).await?;
    Ok(Json(ListFunctionsResponse {
        functions: page.functions.iter().map(configuration).collect(),
        next_marker: page.next_marker,
    }))
}

pub async fn update_code(
    State(state): State<AppState>,
    FunctionTarget { region, name, .. }: FunctionTarget,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<FunctionConfiguration>, ApiError> {
    let req: UpdateFunctionCodeRequest = json_package(body, "UpdateFunctionCode").await?;
    let dry_run = req.dry_run.unwrap_or(false);
    let input = UpdateFunctionCode {
        code: code_source(req.zip_file, req.s3_bucket, req.s3_key, req.s3_object_version, req.image_uri)?,
        revision_id: req.revision_id,
        dry_run,
        publish: req.publish.unwrap_or(false),
        architectures: req.architectures,
    };
    let view = state.invoker.control().update_function_code(&region, &name, input).await?;
    Ok(Json(configuration(&view)))
}

pub async fn update_configuration(
    State(state): State<AppState>,
    FunctionTarget { region, name, .. }: FunctionTarget,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<FunctionConfiguration>, ApiError> {
    let req: UpdateFunctionConfigurationRequest = json(body, "UpdateFunctionConfiguration")?;
    crate::access::pass_role(req.role.as_deref())?;
    let input = UpdateFunctionConfiguration {
        runtime: req.runtime,
        handler: req.handler,
        role: req.role,
        description: req.description,
        timeout: req.timeout,
        memory_size: req.memory_size,
        ephemeral_storage: req.ephemeral_storage.map(|e| e.size),
        environment: req.environment.map(|e| e.variables),
        layers: req.layers,
        vpc: req.vpc_config.map(vpc),
        dead_letter_target_arn: req.dead_letter_config.map(|d| d.target_arn.unwrap_or_default()),
        kms_key_arn: req.kms_key_arn,
        tracing_mode: req.tracing_config.and_then(|t| t.mode),
        revision_id: req.revision_id,
    };
    let view = state.invoker.control().update_function_configuration(&region, &name, input).await?;
    Ok(Json(configuration(&view)))
}

pub async fn delete(
    State(state): State<AppState>,
    FunctionTarget { region, name, qualifier }: FunctionTarget,
) -> Result<StatusCode, ApiError> {
    state.invoker.control().delete_function(&region, &name, qualifier.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Where a stored package is downloaded from (`Code.Location`,
/// `Content.Location`): under the configured public endpoint.
pub(crate) fn code_location(state: &AppState, blob_key: &str) -> String {
    format!("{}/_lambdabox/code/{blob_key}", state.public_endpoint)
}

/// Serves a stored package by its content address (`Code.Location`).
pub async fn download_code(State(state): State<AppState>, Path(key): Path<String>) -> Result<Response, ApiError> {
    if key.len() != 64 || !key.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::not_found("No code package at this location"));
    }
    let zip = state
        .invoker
        .control()
        .code(&key)
        .await
        .map_err(|_| ApiError::not_found("No code package at this location"))?;
    Ok(([(header::CONTENT_TYPE, "application/zip")], zip).into_response())
}
