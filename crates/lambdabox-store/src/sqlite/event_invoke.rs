//! Event-invoke configs: the asynchronous invocation settings of a version
//! or alias, one row per qualifier.

use lambdabox_model::FunctionName;
use lambdabox_model::event_invoke::EventInvokeConfig;
use rusqlite::{Connection, OptionalExtension, params};

use super::query_err;
use crate::StoreError;

pub(super) fn put_event_invoke_config(
    conn: &Connection,
    name: &FunctionName,
    qualifier: &str,
    config: &EventInvokeConfig,
) -> Result<(), StoreError> {
    let text = serde_json::to_string(config).expect("event invoke configs always serialise");
    conn.execute(
        "INSERT INTO event_invoke_configs (function_name, qualifier, config) VALUES (?1, ?2, ?3) \
         ON CONFLICT (function_name, qualifier) DO UPDATE SET config = excluded.config",
        params![name.as_str(), qualifier, text],
    )
    .map_err(query_err("put event invoke config of", name.as_str()))?;
    Ok(())
}

pub(super) fn get_event_invoke_config(
    conn: &Connection,
    name: &FunctionName,
    qualifier: &str,
) -> Result<Option<EventInvokeConfig>, StoreError> {
    let text: Option<String> = conn
        .query_row(
            "SELECT config FROM event_invoke_configs WHERE function_name = ?1 AND qualifier = ?2",
            params![name.as_str(), qualifier],
            |r| r.get(0),
        )
        .optional()
        .map_err(query_err("get event invoke config of", name.as_str()))?;
    text.map(|t| serde_json::from_str(&t).map_err(|source| StoreError::Decode { name: name.to_string(), source }))
        .transpose()
}

pub(super) fn delete_event_invoke_config(
    conn: &Connection,
    name: &FunctionName,
    qualifier: &str,
) -> Result<bool, StoreError> {
    let n = conn
        .execute(
            "DELETE FROM event_invoke_configs WHERE function_name = ?1 AND qualifier = ?2",
            params![name.as_str(), qualifier],
        )
        .map_err(query_err("delete event invoke config of", name.as_str()))?;
    Ok(n > 0)
}

pub(super) fn list_event_invoke_configs(
    conn: &Connection,
    name: &FunctionName,
) -> Result<Vec<(String, EventInvokeConfig)>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT qualifier, config FROM event_invoke_configs WHERE function_name = ?1 ORDER BY qualifier",
        )
        .map_err(query_err("list event invoke configs of", name.as_str()))?;
    let rows = stmt
        .query_map([name.as_str()], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .map_err(query_err("list event invoke configs of", name.as_str()))?;
    let mut out = Vec::new();
    for row in rows {
        let (q, text) = row.map_err(query_err("list event invoke configs of", name.as_str()))?;
        let config =
            serde_json::from_str(&text).map_err(|source| StoreError::Decode { name: name.to_string(), source })?;
        out.push((q, config));
    }
    Ok(out)
}
