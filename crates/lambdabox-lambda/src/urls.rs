//! The Lambda API's function URL operations: Create/Get/Update/Delete
//! FunctionUrlConfig (`/2021-10-31/functions/{FunctionName}/url` with
//! `?Qualifier=`) and ListFunctionUrlConfigs (`…/urls`). The configs are
//! `lambdabox-gateway`'s state, which the front door serves.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lambdabox_control::ControlError;
use lambdabox_gateway::cors::Cors;
use lambdabox_gateway::model::{UrlConfig, now_iso};
use lambdabox_gateway::{GatewayError, GatewayStore, ids};
use lambdabox_model::{FunctionRef, Region, ValidationError};
use serde::{Deserialize, Serialize};

use crate::target::FunctionTarget;
use crate::{ApiError, AppState};

type Shared = AppState;

/// The Lambda API's rendering of a gateway failure.
fn render(error: GatewayError) -> Response {
    if error.is_store() {
        tracing::error!(error = ?error, "gateway store failure");
        return ApiError::service(
            "The service could not read or write function URL configs; the server's log has the details.",
        )
        .into_response();
    }
    let api = match error {
        GatewayError::Control(c) => c.into(),
        GatewayError::Validation(v) => ControlError::from(v).into(),
        GatewayError::UrlConfigNotFound => ApiError::not_found(error.to_string()),
        GatewayError::UrlConfigExists { .. } => ApiError::conflict(error.to_string()),
        GatewayError::InvalidParameter { message } | GatewayError::BadRequest { message } => {
            ApiError::invalid_parameter(message)
        }
        GatewayError::NotFound { message } => ApiError::not_found(message),
        GatewayError::Conflict { message } => ApiError::conflict(message),
        other => ApiError::service(&other.to_string()),
    };
    api.into_response()
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct UrlInput {
    auth_type: Option<String>,
    cors: Option<Cors>,
    invoke_mode: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListQuery {
    marker: Option<String>,
    max_items: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct UrlOutput {
    function_url: String,
    function_arn: String,
    auth_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    cors: Option<Cors>,
    creation_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_modified_time: Option<String>,
    invoke_mode: String,
}

fn parse_input(body: &Bytes) -> Result<UrlInput, GatewayError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(UrlInput::default());
    }
    serde_json::from_slice(body)
        .map_err(|e| GatewayError::InvalidParameter { message: format!("Could not parse request body into json: {e}") })
}

fn check_auth_type(v: &str) -> Result<(), GatewayError> {
    if matches!(v, "NONE" | "AWS_IAM") {
        return Ok(());
    }
    Err(ValidationError::new(v, "authType", "Member must satisfy enum value set: [AWS_IAM, NONE]").into())
}

fn check_invoke_mode(v: &str) -> Result<(), GatewayError> {
    if matches!(v, "BUFFERED" | "RESPONSE_STREAM") {
        return Ok(());
    }
    Err(ValidationError::new(v, "invokeMode", "Member must satisfy enum value set: [RESPONSE_STREAM, BUFFERED]").into())
}

/// A URL's qualifier: an alias name or `$LATEST`; never a version number.
fn check_qualifier(q: &str) -> Result<(), GatewayError> {
    let name_like =
        !q.is_empty() && q.len() <= 128 && q.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if q == "$LATEST" || (name_like && !q.bytes().all(|b| b.is_ascii_digit())) {
        return Ok(());
    }
    Err(ValidationError::pattern(q, "qualifier", "(^\\$LATEST$)|((?!^[0-9]+$)([a-zA-Z0-9-_]+))").into())
}

impl AppState {
    fn output(&self, url: &UrlConfig, arn: String, with_modified: bool) -> UrlOutput {
        UrlOutput {
            function_url: format!(
                "http://{}.lambda-url.{}.localhost:{}/",
                url.url_id, url.region, self.front_door_port
            ),
            function_arn: arn,
            auth_type: url.auth_type.clone(),
            cors: url.cors.clone(),
            creation_time: url.creation_time.clone(),
            last_modified_time: with_modified.then(|| url.last_modified_time.clone()),
            invoke_mode: url.invoke_mode.clone(),
        }
    }

    /// The function (and qualifier) a request names; it must exist.
    async fn target(
        &self,
        region: &Region,
        name: &str,
        qualifier: Option<String>,
    ) -> Result<(String, Option<String>, String), GatewayError> {
        let function = FunctionRef::parse(name, "functionName")?;
        let qualifier = qualifier.or_else(|| function.qualifier.as_ref().map(|q| q.to_string()));
        if let Some(q) = &qualifier {
            check_qualifier(q)?;
        }
        let view = self.invoker.control().resolve(region, name, qualifier.as_deref(), None).await?;
        Ok((function.name.to_string(), qualifier, view.arn))
    }
}

async fn blocking<T: Send + 'static>(
    inner: &Shared,
    f: impl FnOnce(&GatewayStore) -> Result<T, GatewayError> + Send + 'static,
) -> Result<T, GatewayError> {
    let store = inner.urls.clone();
    tokio::task::spawn_blocking(move || f(&store)).await.expect("store calls do not panic")
}

pub(crate) async fn create(
    State(inner): State<Shared>,
    FunctionTarget { region, name, qualifier }: FunctionTarget,
    body: Bytes,
) -> Response {
    let result = async {
        let input = parse_input(&body)?;
        let auth_type =
            input.auth_type.ok_or_else(|| ValidationError::new("null", "authType", "Member must not be null"))?;
        check_auth_type(&auth_type)?;
        let invoke_mode = input.invoke_mode.unwrap_or_else(|| "BUFFERED".into());
        check_invoke_mode(&invoke_mode)?;
        if let Some(c) = &input.cors {
            c.validate()?;
        }
        let (function, qualifier, arn) = inner.target(&region, &name, qualifier).await?;
        if inner.urls.url_for(&function, qualifier.as_deref()).is_some() {
            return Err(GatewayError::UrlConfigExists { arn });
        }
        let now = now_iso();
        let url = UrlConfig {
            url_id: ids::url_id(),
            function_name: function,
            qualifier,
            region: region.to_string(),
            auth_type,
            cors: input.cors,
            invoke_mode,
            creation_time: now.clone(),
            last_modified_time: now,
        };
        let stored = url.clone();
        blocking(&inner, move |s| s.put_url(stored)).await?;
        Ok((StatusCode::CREATED, axum::Json(inner.output(&url, arn, false))).into_response())
    }
    .await;
    result.unwrap_or_else(render)
}

async fn existing(
    inner: &Shared,
    region: &Region,
    name: &str,
    qualifier: Option<String>,
) -> Result<(UrlConfig, String), GatewayError> {
    let region = region.clone();
    let (function, qualifier, arn) = inner.target(&region, name, qualifier).await?;
    let url = inner.urls.url_for(&function, qualifier.as_deref()).ok_or(GatewayError::UrlConfigNotFound)?;
    Ok((url, arn))
}

pub(crate) async fn get_url(
    State(inner): State<Shared>,
    FunctionTarget { region, name, qualifier }: FunctionTarget,
) -> Response {
    match existing(&inner, &region, &name, qualifier).await {
        Ok((url, arn)) => axum::Json(inner.output(&url, arn, true)).into_response(),
        Err(e) => render(e),
    }
}

pub(crate) async fn update(
    State(inner): State<Shared>,
    FunctionTarget { region, name, qualifier }: FunctionTarget,
    body: Bytes,
) -> Response {
    let result = async {
        let input = parse_input(&body)?;
        // The request is validated before the function is looked up.
        if let Some(a) = &input.auth_type {
            check_auth_type(a)?;
        }
        if let Some(m) = &input.invoke_mode {
            check_invoke_mode(m)?;
        }
        let (mut url, arn) = existing(&inner, &region, &name, qualifier).await?;
        if let Some(a) = input.auth_type {
            url.auth_type = a;
        }
        if let Some(m) = input.invoke_mode {
            url.invoke_mode = m;
        }
        if let Some(c) = input.cors {
            c.validate()?;
            url.cors = Some(c);
        }
        url.last_modified_time = now_iso();
        let stored = url.clone();
        blocking(&inner, move |s| s.put_url(stored)).await?;
        Ok(axum::Json(inner.output(&url, arn, true)).into_response())
    }
    .await;
    result.unwrap_or_else(render)
}

pub(crate) async fn delete(
    State(inner): State<Shared>,
    FunctionTarget { region, name, qualifier }: FunctionTarget,
) -> Response {
    let result = async {
        let (url, _) = existing(&inner, &region, &name, qualifier).await?;
        blocking(&inner, move |s| s.delete_url(&url.url_id)).await?;
        Ok(StatusCode::NO_CONTENT.into_response())
    }
    .await;
    result.unwrap_or_else(render)
}

pub(crate) async fn list(
    State(inner): State<Shared>,
    FunctionTarget { region, name, .. }: FunctionTarget,
    Query(q): Query<ListQuery>,
) -> Response {
    let result = async {
        let (function, _, _) = inner.target(&region, &name, None).await?;
        let max = match q.max_items.as_deref() {
            None => 50,
            Some(m) => match m.parse::<usize>() {
                Ok(n) if (1..=50).contains(&n) => n,
                _ => {
                    return Err(
                        ValidationError::new(m, "maxItems", "Member must have value less than or equal to 50").into()
                    );
                }
            },
        };
        let start: usize = q.marker.as_deref().and_then(|m| m.parse().ok()).unwrap_or(0);
        let urls = inner.urls.urls_of(&function);
        let account = inner.invoker.control().account().clone();
        let page: Vec<UrlOutput> = urls
            .iter()
            .skip(start)
            .take(max)
            .map(|u| {
                let region = Region::parse(&u.region).unwrap_or_default();
                let arn = match &u.qualifier {
                    Some(q) => lambdabox_model::arn::qualified_function_arn(&region, &account, &u.function_name, q),
                    None => lambdabox_model::arn::function_arn(&region, &account, &u.function_name),
                };
                inner.output(u, arn, true)
            })
            .collect();
        let next = (start + max < urls.len()).then(|| (start + max).to_string());
        let mut body = serde_json::json!({ "FunctionUrlConfigs": page });
        if let Some(n) = next {
            body["NextMarker"] = n.into();
        }
        Ok(axum::Json(body).into_response())
    }
    .await;
    result.unwrap_or_else(render)
}
