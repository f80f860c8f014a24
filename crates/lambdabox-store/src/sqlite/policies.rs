//! Resource-based policies: the statements of a version's or alias's
//! policy, kept as one JSON array per qualifier.

use lambdabox_model::FunctionName;
use rusqlite::{Connection, OptionalExtension, params};

use super::query_err;
use crate::StoreError;

pub(super) fn policy(conn: &Connection, name: &FunctionName, qualifier: &str) -> Result<Vec<String>, StoreError> {
    let text: Option<String> = conn
        .query_row(
            "SELECT statements FROM policies WHERE function_name = ?1 AND qualifier = ?2",
            params![name.as_str(), qualifier],
            |r| r.get(0),
        )
        .optional()
        .map_err(query_err("read the policy of", name.as_str()))?;
    match text {
        None => Ok(Vec::new()),
        Some(t) => serde_json::from_str(&t).map_err(|source| StoreError::Decode { name: name.to_string(), source }),
    }
}

pub(super) fn set_policy(
    conn: &Connection,
    name: &FunctionName,
    qualifier: &str,
    statements: &[String],
) -> Result<(), StoreError> {
    if statements.is_empty() {
        conn.execute(
            "DELETE FROM policies WHERE function_name = ?1 AND qualifier = ?2",
            params![name.as_str(), qualifier],
        )
        .map_err(query_err("remove the policy of", name.as_str()))?;
        return Ok(());
    }
    let text = serde_json::to_string(statements).expect("strings always serialise");
    conn.execute(
        "INSERT INTO policies (function_name, qualifier, statements) VALUES (?1, ?2, ?3) \
         ON CONFLICT (function_name, qualifier) DO UPDATE SET statements = excluded.statements",
        params![name.as_str(), qualifier, text],
    )
    .map_err(query_err("write the policy of", name.as_str()))?;
    Ok(())
}
