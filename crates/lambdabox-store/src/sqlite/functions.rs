//! Functions: create, get, list, compare-and-swap of `$LATEST`, tags,
//! delete (which cascades to everything the function owns), and the
//! account's usage figures.

use std::collections::BTreeMap;

use lambdabox_model::{FunctionConfig, FunctionName};
use rusqlite::{Connection, OptionalExtension, params};

use super::{decode, encode, query_err};
use crate::{FunctionRecord, StoreError, Usage};

const LATEST: &str = "$LATEST";

const SELECT: &str = "SELECT f.name, v.config, f.tags FROM functions f \
    JOIN function_versions v ON v.function_name = f.name AND v.version = '$LATEST'";

pub(super) fn create(conn: &mut Connection, record: &FunctionRecord) -> Result<(), StoreError> {
    let name = record.latest.name.as_str();
    let tx = conn.transaction().map_err(query_err("begin create", name))?;
    let tags = serde_json::to_string(&record.tags).expect("tags always serialise");
    let inserted = tx
        .execute("INSERT INTO functions (name, tags) VALUES (?1, ?2) ON CONFLICT DO NOTHING", params![name, tags])
        .map_err(query_err("create", name))?;
    if inserted == 0 {
        return Err(StoreError::AlreadyExists { name: name.to_owned() });
    }
    let c = &record.latest;
    tx.execute(
        "INSERT INTO function_versions (function_name, version, config, code_blob, code_size, revision_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![name, LATEST, encode(c), c.code.blob_key, c.code.size as i64, c.revision_id],
    )
    .map_err(query_err("create version of", name))?;
    tx.commit().map_err(query_err("commit create", name))
}

pub(super) fn get(conn: &Connection, name: &FunctionName) -> Result<Option<FunctionRecord>, StoreError> {
    // Prepared once per connection: this lookup is on every Invoke.
    let mut stmt =
        conn.prepare_cached(&format!("{SELECT} WHERE f.name = ?1")).map_err(query_err("get", name.as_str()))?;
    let row = stmt
        .query_row([name.as_str()], |r| Ok((r.get::<_, String>(1)?, r.get::<_, String>(2)?)))
        .optional()
        .map_err(query_err("get", name.as_str()))?;
    row.map(|(config, tags)| decode(name.as_str(), &config, &tags)).transpose()
}

pub(super) fn list(conn: &Connection, after: Option<&str>, limit: usize) -> Result<Vec<FunctionRecord>, StoreError> {
    let mut stmt = conn
        .prepare_cached(&format!("{SELECT} WHERE f.name > ?1 ORDER BY f.name LIMIT ?2"))
        .map_err(query_err("list", ""))?;
    let rows = stmt
        .query_map(params![after.unwrap_or(""), limit as i64], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
        })
        .map_err(query_err("list", ""))?;
    let mut out = Vec::new();
    for row in rows {
        let (name, config, tags) = row.map_err(query_err("list", ""))?;
        out.push(decode(&name, &config, &tags)?);
    }
    Ok(out)
}

pub(super) fn update_latest(
    conn: &mut Connection,
    config: &FunctionConfig,
    expected_revision: &str,
) -> Result<(), StoreError> {
    let name = config.name.as_str();
    let tx = conn.transaction().map_err(query_err("begin update", name))?;
    let actual: Option<String> = tx
        .query_row(
            "SELECT revision_id FROM function_versions WHERE function_name = ?1 AND version = ?2",
            params![name, LATEST],
            |r| r.get(0),
        )
        .optional()
        .map_err(query_err("read revision of", name))?;
    let Some(actual) = actual else {
        return Err(StoreError::NotFound { name: name.to_owned() });
    };
    if actual != expected_revision {
        return Err(StoreError::RevisionMismatch {
            name: name.to_owned(),
            expected: expected_revision.to_owned(),
            actual,
        });
    }
    tx.execute(
        "UPDATE function_versions SET config = ?3, code_blob = ?4, code_size = ?5, revision_id = ?6 WHERE function_name = ?1 AND version = ?2",
        params![name, LATEST, encode(config), config.code.blob_key, config.code.size as i64, config.revision_id],
    )
    .map_err(query_err("update", name))?;
    tx.commit().map_err(query_err("commit update", name))
}

pub(super) fn set_tags(
    conn: &Connection,
    name: &FunctionName,
    tags: &BTreeMap<String, String>,
) -> Result<(), StoreError> {
    let tags = serde_json::to_string(tags).expect("tags always serialise");
    let changed = conn
        .execute("UPDATE functions SET tags = ?2 WHERE name = ?1", params![name.as_str(), tags])
        .map_err(query_err("tag", name.as_str()))?;
    if changed == 0 {
        return Err(StoreError::NotFound { name: name.to_string() });
    }
    Ok(())
}

pub(super) fn delete(conn: &mut Connection, name: &FunctionName) -> Result<Option<FunctionRecord>, StoreError> {
    let tx = conn.transaction().map_err(query_err("begin delete", name.as_str()))?;
    let row = tx
        .query_row(&format!("{SELECT} WHERE f.name = ?1"), [name.as_str()], |r| {
            Ok((r.get::<_, String>(1)?, r.get::<_, String>(2)?))
        })
        .optional()
        .map_err(query_err("read for delete", name.as_str()))?;
    let Some((config, tags)) = row else { return Ok(None) };
    tx.execute("DELETE FROM functions WHERE name = ?1", [name.as_str()]).map_err(query_err("delete", name.as_str()))?;
    tx.commit().map_err(query_err("commit delete", name.as_str()))?;
    decode(name.as_str(), &config, &tags).map(Some)
}

pub(super) fn usage(conn: &Connection) -> Result<Usage, StoreError> {
    conn.query_row(
        "SELECT (SELECT COUNT(*) FROM functions), (SELECT COALESCE(SUM(code_size), 0) FROM function_versions) \
         + (SELECT COALESCE(SUM(code_size), 0) FROM layer_versions WHERE deleted = 0)",
        [],
        |r| Ok(Usage { function_count: r.get::<_, i64>(0)? as u64, total_code_size: r.get::<_, i64>(1)? as u64 }),
    )
    .map_err(query_err("count", ""))
}
