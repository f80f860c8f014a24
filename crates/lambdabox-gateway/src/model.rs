//! What the gateway keeps: function URL configs and HTTP APIs with their
//! integrations, routes and stages. The serde shapes are both what SQLite
//! stores and, for HTTP APIs, the `apigatewayv2` wire shapes (camelCase).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::cors::Cors;

/// A function URL config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UrlConfig {
    pub url_id: String,
    pub function_name: String,
    /// The alias (or `$LATEST`) the URL invokes; `None` for the unqualified function.
    pub qualifier: Option<String>,
    pub region: String,
    /// `NONE` or `AWS_IAM`.
    pub auth_type: String,
    pub cors: Option<Cors>,
    /// `BUFFERED` or `RESPONSE_STREAM`.
    pub invoke_mode: String,
    pub creation_time: String,
    pub last_modified_time: String,
}

/// An HTTP API (without its children).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Api {
    pub api_id: String,
    pub name: String,
    pub protocol_type: String,
    pub api_key_selection_expression: String,
    pub route_selection_expression: String,
    pub created_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub disable_execute_api_endpoint: bool,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cors_configuration: Option<serde_json::Value>,
    /// The region the API was created in (not on the wire).
    #[serde(skip_serializing, default)]
    pub region: String,
}

/// An integration (only `AWS_PROXY` to a Lambda function).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Integration {
    pub integration_id: String,
    pub integration_type: String,
    pub integration_uri: String,
    pub integration_method: String,
    pub connection_type: String,
    pub payload_format_version: String,
    pub timeout_in_millis: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub api_gateway_managed: bool,
}

/// A route: a key and the integration it targets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Route {
    pub route_id: String,
    pub route_key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    pub authorization_type: String,
    pub api_key_required: bool,
    pub api_gateway_managed: bool,
}

/// A stage: a name, its variables and whether it deploys automatically.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stage {
    pub stage_name: String,
    pub auto_deploy: bool,
    #[serde(default)]
    pub stage_variables: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub created_date: String,
    pub last_updated_date: String,
    pub api_gateway_managed: bool,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// An API with everything under it, as the front door serves it.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiState {
    pub api: Api,
    pub integrations: BTreeMap<String, Integration>,
    pub routes: BTreeMap<String, Route>,
    pub stages: BTreeMap<String, Stage>,
}

impl ApiState {
    pub fn new(api: Api) -> Self {
        Self { api, integrations: BTreeMap::new(), routes: BTreeMap::new(), stages: BTreeMap::new() }
    }
}

/// Now, as the `apigatewayv2` timestamps and Lambda's `CreationTime` spell it.
pub fn now_iso() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// The function an integration URI names: a function or alias ARN, or the
/// `arn:aws:apigateway:REGION:lambda:path/2015-03-31/functions/ARN/invocations` form.
pub fn function_of(uri: &str) -> Option<lambdabox_model::FunctionRef> {
    let arn = match uri.split_once(":lambda:path/2015-03-31/functions/") {
        Some((_, rest)) => rest.strip_suffix("/invocations").unwrap_or(rest),
        None => uri,
    };
    lambdabox_model::FunctionRef::parse(arn, "integrationUri").ok()
}

impl Integration {
    /// The function identifier the invoker resolves (ARN, alias included).
    pub fn integration_uri_function(&self) -> String {
        match self.integration_uri.split_once(":lambda:path/2015-03-31/functions/") {
            Some((_, rest)) => rest.strip_suffix("/invocations").unwrap_or(rest).to_owned(),
            None => self.integration_uri.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integration_uris() {
        let plain = function_of("arn:aws:lambda:us-east-1:000000000000:function:f").unwrap();
        assert_eq!(plain.name.as_str(), "f");
        let alias = function_of("arn:aws:lambda:eu-west-1:000000000000:function:f:live").unwrap();
        assert_eq!(alias.qualifier.unwrap().as_str(), "live");
        assert_eq!(alias.region.unwrap().as_str(), "eu-west-1");
        let path = function_of(
            "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:g/invocations",
        )
        .unwrap();
        assert_eq!(path.name.as_str(), "g");
        assert!(function_of("https://example.com").is_none());
    }
}
