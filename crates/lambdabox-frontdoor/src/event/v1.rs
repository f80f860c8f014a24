//! Payload format 1.0 (HTTP APIs): `headers` and `queryStringParameters`
//! hold the last value of each name, `multiValueHeaders` and
//! `multiValueQueryStringParameters` all of them; absent members are `null`.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{EventContext, HttpRequest};
use lambdabox_gateway::routes::RouteKey;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventV1 {
    pub version: &'static str,
    pub resource: String,
    pub path: String,
    pub http_method: String,
    pub headers: BTreeMap<String, String>,
    pub multi_value_headers: BTreeMap<String, Vec<String>>,
    pub query_string_parameters: Option<BTreeMap<String, String>>,
    pub multi_value_query_string_parameters: Option<BTreeMap<String, Vec<String>>>,
    pub request_context: RequestContextV1,
    pub path_parameters: Option<BTreeMap<String, String>>,
    pub stage_variables: Option<BTreeMap<String, String>>,
    pub body: Option<String>,
    pub is_base64_encoded: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestContextV1 {
    pub account_id: String,
    pub api_id: String,
    pub domain_name: String,
    pub domain_prefix: String,
    pub extended_request_id: String,
    pub http_method: String,
    pub identity: Identity,
    pub path: String,
    pub protocol: String,
    pub request_id: String,
    pub request_time: String,
    pub request_time_epoch: i64,
    pub resource_id: String,
    pub resource_path: String,
    pub stage: String,
}

/// The caller; HTTP APIs fill in only the address and user agent.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    pub access_key: Option<String>,
    pub account_id: Option<String>,
    pub caller: Option<String>,
    pub cognito_authentication_provider: Option<String>,
    pub cognito_authentication_type: Option<String>,
    pub cognito_identity_id: Option<String>,
    pub cognito_identity_pool_id: Option<String>,
    pub principal_org_id: Option<String>,
    pub source_ip: String,
    pub user: Option<String>,
    pub user_agent: String,
    pub user_arn: Option<String>,
}

fn multi(
    pairs: impl IntoIterator<Item = (String, String)>,
) -> (BTreeMap<String, String>, BTreeMap<String, Vec<String>>) {
    let mut single = BTreeMap::new();
    let mut all: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in pairs {
        single.insert(k.clone(), v.clone());
        all.entry(k).or_default().push(v);
    }
    (single, all)
}

impl EventV1 {
    pub fn new(req: &HttpRequest, ctx: &EventContext) -> Self {
        let (headers, multi_value_headers) = multi(req.headers.iter().cloned());
        let (query, multi_query) = multi(req.query_pairs());
        let (body, is_base64_encoded) = req.event_body();
        let resource = RouteKey::resource(&ctx.route_key).to_owned();
        Self {
            version: "1.0",
            resource: resource.clone(),
            path: req.raw_path.clone(),
            http_method: req.method.clone(),
            request_context: RequestContextV1 {
                account_id: ctx.account_id.clone(),
                api_id: ctx.api_id.clone(),
                domain_name: ctx.domain_name.clone(),
                domain_prefix: ctx.domain_prefix.clone(),
                extended_request_id: req.request_id.clone(),
                http_method: req.method.clone(),
                identity: Identity {
                    access_key: None,
                    account_id: None,
                    caller: None,
                    cognito_authentication_provider: None,
                    cognito_authentication_type: None,
                    cognito_identity_id: None,
                    cognito_identity_pool_id: None,
                    principal_org_id: None,
                    source_ip: req.source_ip.clone(),
                    user: None,
                    user_agent: headers.get("user-agent").cloned().unwrap_or_default(),
                    user_arn: None,
                },
                path: req.raw_path.clone(),
                protocol: req.protocol.clone(),
                request_id: req.request_id.clone(),
                request_time: req.clf_time(),
                request_time_epoch: req.epoch_ms(),
                resource_id: ctx.route_key.clone(),
                resource_path: resource,
                stage: ctx.stage.clone(),
            },
            headers,
            multi_value_headers,
            query_string_parameters: (!query.is_empty()).then_some(query),
            multi_value_query_string_parameters: (!multi_query.is_empty()).then_some(multi_query),
            path_parameters: (!ctx.path_parameters.is_empty()).then(|| ctx.path_parameters.clone()),
            stage_variables: ctx.stage_variables.clone().filter(|v| !v.is_empty()),
            body,
            is_base64_encoded,
        }
    }
}
