//! Concurrency settings: a function's reserved concurrency and the
//! provisioned concurrency of its versions and aliases.

use lambdabox_model::FunctionName;
use rusqlite::{Connection, params};

use super::query_err;
use crate::StoreError;

pub(super) fn set_reserved_concurrency(
    conn: &Connection,
    name: &FunctionName,
    reserved: Option<u32>,
) -> Result<(), StoreError> {
    match reserved {
        Some(n) => conn.execute(
            "INSERT INTO reserved_concurrency (function_name, reserved) VALUES (?1, ?2) \
             ON CONFLICT (function_name) DO UPDATE SET reserved = excluded.reserved",
            params![name.as_str(), n],
        ),
        None => conn.execute("DELETE FROM reserved_concurrency WHERE function_name = ?1", [name.as_str()]),
    }
    .map_err(query_err("set reserved concurrency of", name.as_str()))?;
    Ok(())
}

pub(super) fn reserved_concurrency(conn: &Connection) -> Result<Vec<(String, u32)>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT function_name, reserved FROM reserved_concurrency ORDER BY function_name")
        .map_err(query_err("list reserved concurrency", ""))?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, u32>(1)?)))
        .map_err(query_err("list reserved concurrency", ""))?;
    rows.collect::<Result<_, _>>().map_err(query_err("list reserved concurrency", ""))
}

pub(super) fn set_provisioned_concurrency(
    conn: &Connection,
    name: &FunctionName,
    qualifier: &str,
    provisioned: Option<(u32, String)>,
) -> Result<(), StoreError> {
    match provisioned {
        Some((n, modified)) => conn.execute(
            "INSERT INTO provisioned_concurrency (function_name, qualifier, requested, last_modified) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (function_name, qualifier) DO UPDATE SET requested = excluded.requested, last_modified = excluded.last_modified",
            params![name.as_str(), qualifier, n, modified],
        ),
        None => conn.execute(
            "DELETE FROM provisioned_concurrency WHERE function_name = ?1 AND qualifier = ?2",
            params![name.as_str(), qualifier],
        ),
    }
    .map_err(query_err("set provisioned concurrency of", name.as_str()))?;
    Ok(())
}

pub(super) fn provisioned_concurrency(conn: &Connection) -> Result<Vec<(String, String, u32, String)>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT function_name, qualifier, requested, last_modified FROM provisioned_concurrency ORDER BY function_name, qualifier",
        )
        .map_err(query_err("list provisioned concurrency", ""))?;
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .map_err(query_err("list provisioned concurrency", ""))?;
    rows.collect::<Result<_, _>>().map_err(query_err("list provisioned concurrency", ""))
}
