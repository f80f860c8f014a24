//! Stages: CreateStage (`$default` or a named stage, auto-deploy, stage
//! variables), GetStages, GetStage, DeleteStage.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lambdabox_gateway::model::{ApiState, Stage, now_iso};
use lambdabox_gateway::{Child, GatewayError};
use serde::Deserialize;
use serde_json::json;

use crate::{Shared, blocking, created, ok, parse, reply, to_value};

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateStageInput {
    stage_name: Option<String>,
    auto_deploy: Option<bool>,
    stage_variables: Option<BTreeMap<String, String>>,
    description: Option<String>,
    tags: Option<BTreeMap<String, String>>,
}

fn valid_stage_name(name: &str) -> bool {
    name == "$default"
        || (!name.is_empty()
            && name.len() <= 128
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
}

/// A new stage of `state`'s API from CreateStage's input.
pub(crate) fn new_stage(input: CreateStageInput, state: &ApiState) -> Result<Stage, GatewayError> {
    let name = input.stage_name.ok_or_else(|| GatewayError::bad_request("StageName is required"))?;
    if !valid_stage_name(&name) {
        return Err(GatewayError::bad_request(format!(
            "Stage name {name} is invalid: use alphanumerics, '-' and '_', or $default"
        )));
    }
    if state.stages.contains_key(&name) {
        return Err(GatewayError::Conflict { message: format!("Stage {name} already exists") });
    }
    let variables = input.stage_variables.unwrap_or_default();
    for (k, v) in &variables {
        let key_ok = !k.is_empty() && k.len() <= 64 && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !key_ok || v.len() > 2048 {
            return Err(GatewayError::bad_request(format!("Invalid stage variable {k}")));
        }
    }
    let now = now_iso();
    let stage = Stage {
        stage_name: name,
        auto_deploy: input.auto_deploy.unwrap_or(false),
        stage_variables: variables,
        description: input.description,
        created_date: now.clone(),
        last_updated_date: now,
        api_gateway_managed: false,
        tags: input.tags.unwrap_or_default(),
    };
    Ok(stage)
}

pub(crate) async fn create_stage(State(inner): State<Shared>, Path(api): Path<String>, body: Bytes) -> Response {
    reply(
        async {
            let state = inner.api_or_404(&api)?;
            let stage = new_stage(parse(&body)?, &state)?;
            let value = to_value(&stage);
            blocking(&inner, move |s| {
                let id = stage.stage_name.clone();
                s.put_child(&api, Child::Stage, &id, &stage, |a| {
                    a.stages.insert(id.clone(), stage.clone());
                })
            })
            .await?;
            created(value)
        }
        .await,
    )
}

pub(crate) async fn get_stages(State(inner): State<Shared>, Path(api): Path<String>) -> Response {
    reply(
        inner
            .api_or_404(&api)
            .and_then(|a| ok(json!({ "items": a.stages.values().map(to_value).collect::<Vec<_>>() }))),
    )
}

pub(crate) async fn get_stage(State(inner): State<Shared>, Path((api, id)): Path<(String, String)>) -> Response {
    reply(inner.api_or_404(&api).and_then(|a| {
        a.stages
            .get(&id)
            .map(|s| ok(to_value(s)))
            .unwrap_or_else(|| Err(GatewayError::not_found("Invalid stage identifier specified")))
    }))
}

pub(crate) async fn delete_stage(State(inner): State<Shared>, Path((api, id)): Path<(String, String)>) -> Response {
    reply(
        async {
            let state = inner.api_or_404(&api)?;
            if !state.stages.contains_key(&id) {
                return Err(GatewayError::not_found("Invalid stage identifier specified"));
            }
            blocking(&inner, move |s| {
                s.delete_child(&api, Child::Stage, &id, |a| {
                    a.stages.remove(&id);
                })
            })
            .await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        .await,
    )
}
