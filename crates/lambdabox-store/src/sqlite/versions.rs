//! Published versions: list, get, the last number handed out, publish (a
//! compare-and-swap against `$LATEST`) and delete (refused while an alias
//! points at the version).

use lambdabox_model::alias::AliasConfig;
use lambdabox_model::{FunctionConfig, FunctionName};
use rusqlite::{Connection, OptionalExtension, params};

use super::{decode_config, encode, query_err};
use crate::StoreError;

pub(super) fn list_versions(conn: &Connection, name: &FunctionName) -> Result<Vec<FunctionConfig>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT config FROM function_versions WHERE function_name = ?1 \
             ORDER BY version = '$LATEST' DESC, CAST(version AS INTEGER)",
        )
        .map_err(query_err("list versions of", name.as_str()))?;
    let rows = stmt
        .query_map([name.as_str()], |r| r.get::<_, String>(0))
        .map_err(query_err("list versions of", name.as_str()))?;
    let mut out = Vec::new();
    for row in rows {
        let config = row.map_err(query_err("list versions of", name.as_str()))?;
        out.push(decode_config(name.as_str(), &config)?);
    }
    Ok(out)
}

pub(super) fn get_version(
    conn: &Connection,
    name: &FunctionName,
    version: &str,
) -> Result<Option<FunctionConfig>, StoreError> {
    // Prepared once per connection: qualified Invokes look versions up.
    let config: Option<String> = conn
        .prepare_cached("SELECT config FROM function_versions WHERE function_name = ?1 AND version = ?2")
        .and_then(|mut stmt| stmt.query_row(params![name.as_str(), version], |r| r.get(0)).optional())
        .map_err(query_err("get version of", name.as_str()))?;
    config.map(|c| decode_config(name.as_str(), &c)).transpose()
}

pub(super) fn last_version(conn: &Connection, name: &FunctionName) -> Result<u64, StoreError> {
    let last: Option<i64> = conn
        .query_row("SELECT last_version FROM functions WHERE name = ?1", [name.as_str()], |r| r.get(0))
        .optional()
        .map_err(query_err("read last version of", name.as_str()))?;
    last.map(|v| v as u64).ok_or_else(|| StoreError::NotFound { name: name.to_string() })
}

pub(super) fn publish_version(
    conn: &mut Connection,
    config: &FunctionConfig,
    expected_latest_revision: &str,
) -> Result<(), StoreError> {
    let name = config.name.as_str();
    let tx = conn.transaction().map_err(query_err("begin publish", name))?;
    let row: Option<(String, i64)> = tx
        .query_row(
            "SELECT v.revision_id, f.last_version FROM functions f JOIN function_versions v \
             ON v.function_name = f.name AND v.version = '$LATEST' WHERE f.name = ?1",
            [name],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(query_err("read for publish", name))?;
    let Some((revision, last)) = row else { return Err(StoreError::NotFound { name: name.to_owned() }) };
    if revision != expected_latest_revision {
        return Err(StoreError::RevisionMismatch {
            name: name.to_owned(),
            expected: expected_latest_revision.to_owned(),
            actual: revision,
        });
    }
    if config.version != (last + 1).to_string() {
        return Err(StoreError::VersionConflict { name: name.to_owned(), version: config.version.clone() });
    }
    tx.execute(
        "INSERT INTO function_versions (function_name, version, config, code_blob, code_size, revision_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![name, config.version, encode(config), config.code.blob_key, config.code.size as i64, config.revision_id],
    )
    .map_err(query_err("publish", name))?;
    tx.execute("UPDATE functions SET last_version = ?2 WHERE name = ?1", params![name, last + 1])
        .map_err(query_err("count versions of", name))?;
    tx.commit().map_err(query_err("commit publish", name))
}

pub(super) fn delete_version(
    conn: &mut Connection,
    name: &FunctionName,
    version: &str,
) -> Result<Option<FunctionConfig>, StoreError> {
    let n = name.as_str();
    let tx = conn.transaction().map_err(query_err("begin delete version", n))?;
    let config: Option<String> = tx
        .query_row(
            "SELECT config FROM function_versions WHERE function_name = ?1 AND version = ?2",
            params![n, version],
            |r| r.get(0),
        )
        .optional()
        .map_err(query_err("read version of", n))?;
    let Some(config) = config else { return Ok(None) };
    let aliases: Vec<AliasConfig> = {
        let mut stmt = tx
            .prepare_cached("SELECT config FROM aliases WHERE function_name = ?1")
            .map_err(query_err("list aliases of", n))?;
        let rows = stmt.query_map([n], |r| r.get::<_, String>(0)).map_err(query_err("list aliases of", n))?;
        let mut out = Vec::new();
        for row in rows {
            let text = row.map_err(query_err("list aliases of", n))?;
            out.push(serde_json::from_str(&text).map_err(|source| StoreError::Decode { name: n.to_owned(), source })?);
        }
        out
    };
    let users: Vec<String> = aliases
        .into_iter()
        .filter(|a| a.function_version == version || a.additional_version_weights.contains_key(version))
        .map(|a| a.name)
        .collect();
    if !users.is_empty() {
        return Err(StoreError::VersionInUse { name: n.to_owned(), version: version.to_owned(), aliases: users });
    }
    tx.execute("DELETE FROM function_versions WHERE function_name = ?1 AND version = ?2", params![n, version])
        .map_err(query_err("delete version of", n))?;
    tx.commit().map_err(query_err("commit delete version of", n))?;
    decode_config(n, &config).map(Some)
}
