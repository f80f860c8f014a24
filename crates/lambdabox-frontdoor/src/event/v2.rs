//! Payload format 2.0: the event of HTTP APIs and function URLs. Header
//! names are lower-cased and repeated headers comma-joined; repeated query
//! keys are comma-joined; the `cookie` header becomes `cookies`.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{EventContext, HttpRequest};

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventV2 {
    pub version: &'static str,
    pub route_key: String,
    pub raw_path: String,
    pub raw_query_string: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cookies: Option<Vec<String>>,
    pub headers: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_string_parameters: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_parameters: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage_variables: Option<BTreeMap<String, String>>,
    pub request_context: RequestContextV2,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    pub is_base64_encoded: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestContextV2 {
    pub account_id: String,
    pub api_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorizer: Option<serde_json::Value>,
    pub domain_name: String,
    pub domain_prefix: String,
    pub http: HttpContext,
    pub request_id: String,
    pub route_key: String,
    pub stage: String,
    pub time: String,
    pub time_epoch: i64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpContext {
    pub method: String,
    pub path: String,
    pub protocol: String,
    pub source_ip: String,
    pub user_agent: String,
}

impl EventV2 {
    pub fn new(req: &HttpRequest, ctx: &EventContext) -> Self {
        let mut cookies = Vec::new();
        let mut headers: BTreeMap<String, String> = BTreeMap::new();
        for (name, value) in &req.headers {
            if name == "cookie" {
                cookies.extend(value.split(';').map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned));
                continue;
            }
            headers
                .entry(name.clone())
                .and_modify(|e| {
                    e.push(',');
                    e.push_str(value);
                })
                .or_insert_with(|| value.clone());
        }
        let mut query: BTreeMap<String, String> = BTreeMap::new();
        for (k, v) in req.query_pairs() {
            query
                .entry(k)
                .and_modify(|e| {
                    e.push(',');
                    e.push_str(&v);
                })
                .or_insert(v);
        }
        let (body, is_base64_encoded) = req.event_body();
        Self {
            version: "2.0",
            route_key: ctx.route_key.clone(),
            raw_path: req.raw_path.clone(),
            raw_query_string: req.raw_query.clone(),
            cookies: (!cookies.is_empty()).then_some(cookies),
            query_string_parameters: (!query.is_empty()).then_some(query),
            path_parameters: (!ctx.path_parameters.is_empty()).then(|| ctx.path_parameters.clone()),
            stage_variables: ctx.stage_variables.clone().filter(|v| !v.is_empty()),
            request_context: RequestContextV2 {
                account_id: ctx.account_id.clone(),
                api_id: ctx.api_id.clone(),
                authorizer: ctx.authorizer.clone(),
                domain_name: ctx.domain_name.clone(),
                domain_prefix: ctx.domain_prefix.clone(),
                http: HttpContext {
                    method: req.method.clone(),
                    path: req.raw_path.clone(),
                    protocol: req.protocol.clone(),
                    source_ip: req.source_ip.clone(),
                    user_agent: headers.get("user-agent").cloned().unwrap_or_default(),
                },
                request_id: req.request_id.clone(),
                route_key: ctx.route_key.clone(),
                stage: ctx.stage.clone(),
                time: req.clf_time(),
                time_epoch: req.epoch_ms(),
            },
            headers,
            body,
            is_base64_encoded,
        }
    }
}
