//! The Lambda API's function URL operations: Create/Get/Update/Delete
//! FunctionUrlConfig (`/2021-10-31/functions/{FunctionName}/url` with
//! `?Qualifier=`) and ListFunctionUrlConfigs (`…/urls`).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use lambdabox_model::{FunctionRef, Region, ValidationError};
use serde::{Deserialize, Serialize};

use crate::cors::Cors;
use crate::error::GatewayError;
use crate::model::{UrlConfig, now_iso};
use crate::{Inner, ids};

type Shared = Arc<Inner>;

pub fn router(inner: Shared) -> Router {
    Router::new()
        .route("/2021-10-31/functions/{name}/url", get(get_url).post(create).put(update).delete(delete))
        .route("/2021-10-31/functions/{name}/urls", get(list))
        .with_state(inner)
}

/// The region of a request: its SigV4 credential scope, else the default.
pub(crate) fn region(headers: &HeaderMap, default: &Region) -> Region {
    let mut request = http::Request::new(());
    *request.headers_mut() = headers.clone();
    lambdabox_aws::CredentialScope::of(&request.into_parts().0)
        .and_then(|scope| Region::parse(&scope.region))
        .unwrap_or_else(|| default.clone())
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
struct QualifierQuery {
    qualifier: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListQuery {
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

impl Inner {
    fn output(&self, url: &UrlConfig, arn: String, with_modified: bool) -> UrlOutput {
        UrlOutput {
            function_url: format!(
                "http://{}.lambda-url.{}.localhost:{}/",
                url.url_id, url.region, self.config.public_port
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
    f: impl FnOnce(&crate::GatewayStore) -> Result<T, GatewayError> + Send + 'static,
) -> Result<T, GatewayError> {
    let store = inner.store.clone();
    tokio::task::spawn_blocking(move || f(&store)).await.expect("store calls do not panic")
}

async fn create(
    State(inner): State<Shared>,
    Path(name): Path<String>,
    Query(q): Query<QualifierQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let region = region(&headers, &inner.config.default_region);
        let input = parse_input(&body)?;
        let auth_type =
            input.auth_type.ok_or_else(|| ValidationError::new("null", "authType", "Member must not be null"))?;
        check_auth_type(&auth_type)?;
        let invoke_mode = input.invoke_mode.unwrap_or_else(|| "BUFFERED".into());
        check_invoke_mode(&invoke_mode)?;
        if let Some(c) = &input.cors {
            c.validate()?;
        }
        let (function, qualifier, arn) = inner.target(&region, &name, q.qualifier).await?;
        if inner.store.url_for(&function, qualifier.as_deref()).is_some() {
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
    result.unwrap_or_else(GatewayError::lambda)
}

async fn existing(
    inner: &Shared,
    headers: &HeaderMap,
    name: &str,
    qualifier: Option<String>,
) -> Result<(UrlConfig, String), GatewayError> {
    let region = region(headers, &inner.config.default_region);
    let (function, qualifier, arn) = inner.target(&region, name, qualifier).await?;
    let url = inner.store.url_for(&function, qualifier.as_deref()).ok_or(GatewayError::UrlConfigNotFound)?;
    Ok((url, arn))
}

async fn get_url(
    State(inner): State<Shared>,
    Path(name): Path<String>,
    Query(q): Query<QualifierQuery>,
    headers: HeaderMap,
) -> Response {
    match existing(&inner, &headers, &name, q.qualifier).await {
        Ok((url, arn)) => axum::Json(inner.output(&url, arn, true)).into_response(),
        Err(e) => e.lambda(),
    }
}

async fn update(
    State(inner): State<Shared>,
    Path(name): Path<String>,
    Query(q): Query<QualifierQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let input = parse_input(&body)?;
        let (mut url, arn) = existing(&inner, &headers, &name, q.qualifier).await?;
        if let Some(a) = input.auth_type {
            check_auth_type(&a)?;
            url.auth_type = a;
        }
        if let Some(m) = input.invoke_mode {
            check_invoke_mode(&m)?;
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
    result.unwrap_or_else(GatewayError::lambda)
}

async fn delete(
    State(inner): State<Shared>,
    Path(name): Path<String>,
    Query(q): Query<QualifierQuery>,
    headers: HeaderMap,
) -> Response {
    let result = async {
        let (url, _) = existing(&inner, &headers, &name, q.qualifier).await?;
        blocking(&inner, move |s| s.delete_url(&url.url_id)).await?;
        Ok(StatusCode::NO_CONTENT.into_response())
    }
    .await;
    result.unwrap_or_else(GatewayError::lambda)
}

async fn list(
    State(inner): State<Shared>,
    Path(name): Path<String>,
    Query(q): Query<ListQuery>,
    headers: HeaderMap,
) -> Response {
    let result = async {
        let region = region(&headers, &inner.config.default_region);
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
        let urls = inner.store.urls_of(&function);
        let account = inner.config.account.clone();
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
    result.unwrap_or_else(GatewayError::lambda)
}
