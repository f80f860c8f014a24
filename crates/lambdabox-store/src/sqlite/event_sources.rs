//! Event source mappings: one row per mapping, keyed by its UUID. Not tied
//! to the function's row: as on AWS, a mapping outlives its function (it
//! then fails to invoke until the function exists again or it is deleted).

use lambdabox_model::event_source::EventSourceMapping;
use rusqlite::{Connection, OptionalExtension, params};

use super::query_err;
use crate::StoreError;

fn decode(uuid: &str, text: &str) -> Result<EventSourceMapping, StoreError> {
    serde_json::from_str(text).map_err(|source| StoreError::Decode { name: uuid.to_owned(), source })
}

pub(super) fn put(conn: &Connection, mapping: &EventSourceMapping) -> Result<(), StoreError> {
    let text = serde_json::to_string(mapping).expect("event source mappings always serialise");
    conn.execute(
        "INSERT INTO event_source_mappings (uuid, function_name, event_source_arn, config) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (uuid) DO UPDATE SET function_name = excluded.function_name, config = excluded.config",
        params![mapping.uuid, mapping.function_name, mapping.event_source_arn, text],
    )
    .map_err(query_err("put event source mapping", &mapping.uuid))?;
    Ok(())
}

pub(super) fn get(conn: &Connection, uuid: &str) -> Result<Option<EventSourceMapping>, StoreError> {
    let text: Option<String> = conn
        .query_row("SELECT config FROM event_source_mappings WHERE uuid = ?1", [uuid], |r| r.get(0))
        .optional()
        .map_err(query_err("get event source mapping", uuid))?;
    text.map(|t| decode(uuid, &t)).transpose()
}

pub(super) fn delete(conn: &Connection, uuid: &str) -> Result<bool, StoreError> {
    let n = conn
        .execute("DELETE FROM event_source_mappings WHERE uuid = ?1", [uuid])
        .map_err(query_err("delete event source mapping", uuid))?;
    Ok(n > 0)
}

pub(super) fn list(conn: &Connection) -> Result<Vec<EventSourceMapping>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT uuid, config FROM event_source_mappings ORDER BY rowid")
        .map_err(query_err("list event source mappings", ""))?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .map_err(query_err("list event source mappings", ""))?;
    let mut out = Vec::new();
    for row in rows {
        let (uuid, text) = row.map_err(query_err("list event source mappings", ""))?;
        out.push(decode(&uuid, &text)?);
    }
    Ok(out)
}
