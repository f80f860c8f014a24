//! Referenced blobs: every code package some function version or existing
//! layer version still names, for the blob store's garbage collection.

use std::collections::HashSet;

use rusqlite::Connection;

use super::query_err;
use crate::StoreError;

pub(super) fn referenced_blobs(conn: &Connection) -> Result<HashSet<String>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT code_blob FROM function_versions \
             UNION SELECT code_blob FROM layer_versions WHERE deleted = 0 \
             UNION SELECT json_extract(l.value, '$.code.blob_key') FROM function_versions v, \
               json_each(v.config, '$.layers') l",
        )
        .map_err(query_err("list blobs of", ""))?;
    let keys = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(query_err("list blobs of", ""))?;
    keys.collect::<Result<_, _>>().map_err(query_err("list blobs of", ""))
}
