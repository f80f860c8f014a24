//! Layer versions: publish (numbered one past any version the layer ever
//! had), get, list, delete (a soft delete, so the number is never reused).

use lambdabox_model::layer::{LayerName, LayerVersion};
use rusqlite::{Connection, OptionalExtension, params};

use crate::StoreError;

pub(super) fn publish_layer_version(conn: &mut Connection, layer: &mut LayerVersion) -> Result<u64, StoreError> {
    let name = layer.name.as_str().to_owned();
    let tx = conn.transaction().map_err(layer_err("publish a version of", &name))?;
    let last: i64 = tx
        .query_row("SELECT COALESCE(MAX(version), 0) FROM layer_versions WHERE layer_name = ?1", [&name], |r| r.get(0))
        .map_err(layer_err("number a version of", &name))?;
    layer.version = last as u64 + 1;
    let config = serde_json::to_string(&*layer).expect("layer versions always serialise");
    tx.execute(
        "INSERT INTO layer_versions (layer_name, version, config, code_blob, code_size) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![name, layer.version as i64, config, layer.code.blob_key, layer.code.size as i64],
    )
    .map_err(layer_err("publish a version of", &name))?;
    tx.commit().map_err(layer_err("publish a version of", &name))?;
    Ok(layer.version)
}

pub(super) fn get_layer_version(
    conn: &Connection,
    name: &LayerName,
    version: u64,
) -> Result<Option<LayerVersion>, StoreError> {
    let config: Option<String> = conn
        .query_row(
            "SELECT config FROM layer_versions WHERE layer_name = ?1 AND version = ?2 AND deleted = 0",
            params![name.as_str(), version as i64],
            |r| r.get(0),
        )
        .optional()
        .map_err(layer_err("read", name.as_str()))?;
    config.map(|c| decode_layer(name.as_str(), &c)).transpose()
}

pub(super) fn layer_versions(conn: &Connection, name: Option<&LayerName>) -> Result<Vec<LayerVersion>, StoreError> {
    let label = name.map(LayerName::as_str).unwrap_or("");
    let mut stmt = conn
        .prepare_cached(
            "SELECT layer_name, config FROM layer_versions WHERE deleted = 0 AND (?1 IS NULL OR layer_name = ?1) \
             ORDER BY layer_name, version DESC",
        )
        .map_err(layer_err("list versions of", label))?;
    let rows = stmt
        .query_map([name.map(LayerName::as_str)], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .map_err(layer_err("list versions of", label))?;
    let mut out = Vec::new();
    for row in rows {
        let (n, config) = row.map_err(layer_err("list versions of", label))?;
        out.push(decode_layer(&n, &config)?);
    }
    Ok(out)
}

pub(super) fn delete_layer_version(conn: &Connection, name: &LayerName, version: u64) -> Result<bool, StoreError> {
    let changed = conn
        .execute(
            "UPDATE layer_versions SET deleted = 1 WHERE layer_name = ?1 AND version = ?2 AND deleted = 0",
            params![name.as_str(), version as i64],
        )
        .map_err(layer_err("delete a version of", name.as_str()))?;
    Ok(changed > 0)
}

fn layer_err(operation: &'static str, name: &str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    let name = name.to_owned();
    move |source| StoreError::LayerQuery { operation, name, source }
}

fn decode_layer(name: &str, config: &str) -> Result<LayerVersion, StoreError> {
    serde_json::from_str(config).map_err(|source| StoreError::Decode { name: format!("layer {name}"), source })
}
