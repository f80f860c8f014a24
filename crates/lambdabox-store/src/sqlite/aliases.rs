//! Aliases: create or compare-and-swap replace, get, list, delete.

use lambdabox_model::FunctionName;
use lambdabox_model::alias::AliasConfig;
use rusqlite::{Connection, OptionalExtension, params};

use super::query_err;
use crate::StoreError;

pub(super) fn put_alias(
    conn: &mut Connection,
    name: &FunctionName,
    alias: &AliasConfig,
    expected_revision: Option<&str>,
) -> Result<(), StoreError> {
    let n = name.as_str();
    let alias_err = |operation| {
        let alias = format!("{n}:{}", alias.name);
        move |source| StoreError::AliasQuery { operation, alias, source }
    };
    let tx = conn.transaction().map_err(alias_err("begin put"))?;
    let current: Option<String> = tx
        .query_row(
            "SELECT revision_id FROM aliases WHERE function_name = ?1 AND name = ?2",
            params![n, alias.name],
            |r| r.get(0),
        )
        .optional()
        .map_err(alias_err("read"))?;
    let text = serde_json::to_string(alias).expect("aliases always serialise");
    match (expected_revision, current) {
        (None, Some(_)) => return Err(StoreError::AliasExists { name: n.to_owned(), alias: alias.name.clone() }),
        (None, None) => {
            tx.execute(
                "INSERT INTO aliases (function_name, name, config, revision_id) VALUES (?1, ?2, ?3, ?4)",
                params![n, alias.name, text, alias.revision_id],
            )
            .map_err(alias_err("create"))?;
        }
        (Some(_), None) => {
            return Err(StoreError::AliasNotFound { name: n.to_owned(), alias: alias.name.clone() });
        }
        (Some(expected), Some(actual)) if expected != actual => {
            return Err(StoreError::RevisionMismatch { name: n.to_owned(), expected: expected.to_owned(), actual });
        }
        (Some(_), Some(_)) => {
            tx.execute(
                "UPDATE aliases SET config = ?3, revision_id = ?4 WHERE function_name = ?1 AND name = ?2",
                params![n, alias.name, text, alias.revision_id],
            )
            .map_err(alias_err("update"))?;
        }
    }
    tx.commit().map_err(alias_err("commit"))
}

pub(super) fn get_alias(
    conn: &Connection,
    name: &FunctionName,
    alias: &str,
) -> Result<Option<AliasConfig>, StoreError> {
    let text: Option<String> = conn
        .prepare_cached("SELECT config FROM aliases WHERE function_name = ?1 AND name = ?2")
        .and_then(|mut stmt| stmt.query_row(params![name.as_str(), alias], |r| r.get(0)).optional())
        .map_err(|source| StoreError::AliasQuery { operation: "get", alias: format!("{name}:{alias}"), source })?;
    text.map(|t| serde_json::from_str(&t).map_err(|source| StoreError::Decode { name: name.to_string(), source }))
        .transpose()
}

pub(super) fn list_aliases(conn: &Connection, name: &FunctionName) -> Result<Vec<AliasConfig>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT config FROM aliases WHERE function_name = ?1 ORDER BY name")
        .map_err(query_err("list aliases of", name.as_str()))?;
    let rows = stmt
        .query_map([name.as_str()], |r| r.get::<_, String>(0))
        .map_err(query_err("list aliases of", name.as_str()))?;
    let mut out = Vec::new();
    for row in rows {
        let text = row.map_err(query_err("list aliases of", name.as_str()))?;
        out.push(serde_json::from_str(&text).map_err(|source| StoreError::Decode { name: name.to_string(), source })?);
    }
    Ok(out)
}

pub(super) fn delete_alias(conn: &Connection, name: &FunctionName, alias: &str) -> Result<bool, StoreError> {
    let n = conn
        .execute("DELETE FROM aliases WHERE function_name = ?1 AND name = ?2", params![name.as_str(), alias])
        .map_err(|source| StoreError::AliasQuery {
        operation: "delete",
        alias: format!("{name}:{alias}"),
        source,
    })?;
    Ok(n > 0)
}
