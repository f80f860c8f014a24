//! Integrations: CreateIntegration (`AWS_PROXY` to a Lambda function, payload
//! 1.0 or 2.0), GetIntegrations, GetIntegration, DeleteIntegration.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lambdabox_gateway::model::{Integration, function_of};
use lambdabox_gateway::payload::PayloadVersion;
use lambdabox_gateway::{Child, GatewayError, ids};
use serde::Deserialize;
use serde_json::json;

use crate::{Shared, blocking, created, ok, parse, reply, to_value};

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateIntegrationInput {
    integration_type: Option<String>,
    integration_uri: Option<String>,
    integration_method: Option<String>,
    payload_format_version: Option<String>,
    timeout_in_millis: Option<i64>,
    description: Option<String>,
    connection_type: Option<String>,
}

/// A new `AWS_PROXY` integration from CreateIntegration's input.
pub(crate) fn new_integration(input: CreateIntegrationInput) -> Result<Integration, GatewayError> {
    match input.integration_type.as_deref() {
        Some("AWS_PROXY") => {}
        Some(other @ ("HTTP_PROXY" | "AWS" | "HTTP" | "MOCK")) => {
            return Err(GatewayError::bad_request(format!(
                "Integration type {other} is not supported by Lambdabox; use AWS_PROXY"
            )));
        }
        _ => {
            return Err(GatewayError::bad_request(
                "Invalid integration type. Valid values are: [AWS, AWS_PROXY, HTTP, HTTP_PROXY, MOCK]",
            ));
        }
    }
    let uri = input
        .integration_uri
        .ok_or_else(|| GatewayError::bad_request("Integration URI is required for AWS_PROXY integrations"))?;
    if function_of(&uri).is_none() {
        return Err(GatewayError::bad_request(format!("Invalid integration URI specified: {uri}")));
    }
    let version = input.payload_format_version.ok_or_else(|| {
        GatewayError::bad_request("PayloadFormatVersion is required for AWS_PROXY integrations: 1.0 or 2.0")
    })?;
    if PayloadVersion::parse(&version).is_none() {
        return Err(GatewayError::bad_request(format!(
            "Invalid payload format version specified: {version}. Valid values are: [1.0, 2.0]"
        )));
    }
    let timeout = input.timeout_in_millis.unwrap_or(30_000);
    if !(50..=30_000).contains(&timeout) {
        return Err(GatewayError::bad_request("Timeout must be between 50 ms and 30000 ms"));
    }
    let integration = Integration {
        integration_id: ids::short_id(),
        integration_type: "AWS_PROXY".into(),
        integration_uri: uri,
        integration_method: input.integration_method.unwrap_or_else(|| "POST".into()),
        connection_type: input.connection_type.unwrap_or_else(|| "INTERNET".into()),
        payload_format_version: version,
        timeout_in_millis: timeout as u32,
        description: input.description,
        api_gateway_managed: false,
    };
    Ok(integration)
}

pub(crate) async fn create_integration(State(inner): State<Shared>, Path(api): Path<String>, body: Bytes) -> Response {
    reply(
        async {
            let state = inner.api_or_404(&api)?;
            let integration = new_integration(parse(&body)?)?;
            let value = to_value(&integration);
            let api_id = state.api.api_id.clone();
            blocking(&inner, move |s| {
                let id = integration.integration_id.clone();
                s.put_child(&api_id, Child::Integration, &id, &integration, |a| {
                    a.integrations.insert(id.clone(), integration.clone());
                })
            })
            .await?;
            created(value)
        }
        .await,
    )
}

pub(crate) async fn get_integrations(State(inner): State<Shared>, Path(api): Path<String>) -> Response {
    reply(
        inner
            .api_or_404(&api)
            .and_then(|a| ok(json!({ "items": a.integrations.values().map(to_value).collect::<Vec<_>>() }))),
    )
}

pub(crate) async fn get_integration(State(inner): State<Shared>, Path((api, id)): Path<(String, String)>) -> Response {
    reply(inner.api_or_404(&api).and_then(|a| {
        a.integrations
            .get(&id)
            .map(|i| ok(to_value(i)))
            .unwrap_or_else(|| Err(GatewayError::not_found("Invalid Integration identifier specified")))
    }))
}

pub(crate) async fn delete_integration(
    State(inner): State<Shared>,
    Path((api, id)): Path<(String, String)>,
) -> Response {
    reply(
        async {
            let state = inner.api_or_404(&api)?;
            if !state.integrations.contains_key(&id) {
                return Err(GatewayError::not_found("Invalid Integration identifier specified"));
            }
            let target = format!("integrations/{id}");
            if state.routes.values().any(|r| r.target.as_deref() == Some(&target)) {
                return Err(GatewayError::Conflict {
                    message: format!(
                        "Integration {id} is in use by a route. Delete the route or change its target first."
                    ),
                });
            }
            blocking(&inner, move |s| {
                s.delete_child(&api, Child::Integration, &id, |a| {
                    a.integrations.remove(&id);
                })
            })
            .await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        .await,
    )
}
