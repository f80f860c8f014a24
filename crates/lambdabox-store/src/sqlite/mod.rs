//! The SQLite implementation of [`FunctionStore`] (WAL, synchronous=FULL, so
//! an acknowledged write survives a crash of the process or the machine).
//!
//! Here: the schema and its migrations, the connection and its lock, the
//! codec the resources share, and the trait impl, which takes the lock and
//! hands the connection to the file of the resource asked about
//! (`functions.rs`, `versions.rs`, `aliases.rs`, `event_invoke.rs`,
//! `concurrency.rs`, `policies.rs`, `layers.rs`, `blobs.rs`,
//! `event_sources.rs`). The lock is
//! held for the whole call, so every method is still one transaction.

mod aliases;
mod blobs;
mod concurrency;
mod event_invoke;
mod event_sources;
mod functions;
mod layers;
mod policies;
mod versions;

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::Mutex;

use lambdabox_model::alias::AliasConfig;
use lambdabox_model::event_invoke::EventInvokeConfig;
use lambdabox_model::event_source::EventSourceMapping;
use lambdabox_model::layer::{LayerName, LayerVersion};
use lambdabox_model::{FunctionConfig, FunctionName};
use rusqlite::Connection;

use crate::{FunctionRecord, FunctionStore, StoreError, Usage};

/// Schema migrations, applied in order; `PRAGMA user_version` counts them.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE functions (
    name        TEXT PRIMARY KEY,
    tags        TEXT NOT NULL DEFAULT '{}',
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE TABLE function_versions (
    function_name TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
    version       TEXT NOT NULL,
    config        TEXT NOT NULL,
    code_blob     TEXT NOT NULL,
    code_size     INTEGER NOT NULL,
    revision_id   TEXT NOT NULL,
    PRIMARY KEY (function_name, version)
);
CREATE INDEX function_versions_blob ON function_versions(code_blob);
"#,
    r#"
ALTER TABLE functions ADD COLUMN last_version INTEGER NOT NULL DEFAULT 0;
CREATE TABLE aliases (
    function_name TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    config        TEXT NOT NULL,
    revision_id   TEXT NOT NULL,
    PRIMARY KEY (function_name, name)
);
"#,
    r#"
CREATE TABLE event_invoke_configs (
    function_name TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
    qualifier     TEXT NOT NULL,
    config        TEXT NOT NULL,
    PRIMARY KEY (function_name, qualifier)
);
"#,
    r#"
CREATE TABLE reserved_concurrency (
    function_name TEXT PRIMARY KEY REFERENCES functions(name) ON DELETE CASCADE,
    reserved      INTEGER NOT NULL
);
CREATE TABLE provisioned_concurrency (
    function_name TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
    qualifier     TEXT NOT NULL,
    requested     INTEGER NOT NULL,
    last_modified TEXT NOT NULL,
    PRIMARY KEY (function_name, qualifier)
);
"#,
    r#"
CREATE TABLE layer_versions (
    layer_name TEXT NOT NULL,
    version    INTEGER NOT NULL,
    config     TEXT NOT NULL,
    code_blob  TEXT NOT NULL,
    code_size  INTEGER NOT NULL,
    deleted    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (layer_name, version)
);
CREATE TABLE policies (
    function_name TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
    qualifier     TEXT NOT NULL,
    statements    TEXT NOT NULL,
    PRIMARY KEY (function_name, qualifier)
);
"#,
    r#"
CREATE TABLE event_source_mappings (
    uuid             TEXT PRIMARY KEY,
    function_name    TEXT NOT NULL,
    event_source_arn TEXT NOT NULL,
    config           TEXT NOT NULL
);
"#,
];

/// Function metadata in one SQLite file.
pub struct SqliteStore {
    conn: Mutex<Connection>,
}

impl SqliteStore {
    /// Opens (creating and migrating) the database at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Ok(Self { conn: Mutex::new(crate::open_migrated(path, MIGRATIONS)?) })
    }

    /// An in-memory SQLite database (tests of the SQL itself).
    pub fn open_in_memory() -> Result<Self, StoreError> {
        Ok(Self { conn: Mutex::new(crate::open_migrated_in_memory(MIGRATIONS)?) })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite half-written (the
        // transaction rolls back on drop), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn encode(config: &FunctionConfig) -> String {
    serde_json::to_string(config).expect("configuration always serialises")
}

fn decode(name: &str, config: &str, tags: &str) -> Result<FunctionRecord, StoreError> {
    let decode_err = |source| StoreError::Decode { name: name.to_owned(), source };
    Ok(FunctionRecord {
        latest: serde_json::from_str(config).map_err(decode_err)?,
        tags: serde_json::from_str(tags).map_err(decode_err)?,
    })
}

fn decode_config(name: &str, config: &str) -> Result<FunctionConfig, StoreError> {
    serde_json::from_str(config).map_err(|source| StoreError::Decode { name: name.to_owned(), source })
}

fn query_err(operation: &'static str, name: &str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    let name = name.to_owned();
    move |source| StoreError::Query { operation, name, source }
}

impl FunctionStore for SqliteStore {
    fn put_event_source_mapping(&self, mapping: &EventSourceMapping) -> Result<(), StoreError> {
        event_sources::put(&self.lock(), mapping)
    }

    fn get_event_source_mapping(&self, uuid: &str) -> Result<Option<EventSourceMapping>, StoreError> {
        event_sources::get(&self.lock(), uuid)
    }

    fn delete_event_source_mapping(&self, uuid: &str) -> Result<bool, StoreError> {
        event_sources::delete(&self.lock(), uuid)
    }

    fn list_event_source_mappings(&self) -> Result<Vec<EventSourceMapping>, StoreError> {
        event_sources::list(&self.lock())
    }

    fn create(&self, record: &FunctionRecord) -> Result<(), StoreError> {
        functions::create(&mut self.lock(), record)
    }

    fn get(&self, name: &FunctionName) -> Result<Option<FunctionRecord>, StoreError> {
        functions::get(&self.lock(), name)
    }

    fn list(&self, after: Option<&str>, limit: usize) -> Result<Vec<FunctionRecord>, StoreError> {
        functions::list(&self.lock(), after, limit)
    }

    fn update_latest(&self, config: &FunctionConfig, expected_revision: &str) -> Result<(), StoreError> {
        functions::update_latest(&mut self.lock(), config, expected_revision)
    }

    fn set_tags(&self, name: &FunctionName, tags: &BTreeMap<String, String>) -> Result<(), StoreError> {
        functions::set_tags(&self.lock(), name, tags)
    }

    fn delete(&self, name: &FunctionName) -> Result<Option<FunctionRecord>, StoreError> {
        functions::delete(&mut self.lock(), name)
    }

    fn list_versions(&self, name: &FunctionName) -> Result<Vec<FunctionConfig>, StoreError> {
        versions::list_versions(&self.lock(), name)
    }

    fn get_version(&self, name: &FunctionName, version: &str) -> Result<Option<FunctionConfig>, StoreError> {
        versions::get_version(&self.lock(), name, version)
    }

    fn last_version(&self, name: &FunctionName) -> Result<u64, StoreError> {
        versions::last_version(&self.lock(), name)
    }

    fn publish_version(&self, config: &FunctionConfig, expected_latest_revision: &str) -> Result<(), StoreError> {
        versions::publish_version(&mut self.lock(), config, expected_latest_revision)
    }

    fn delete_version(&self, name: &FunctionName, version: &str) -> Result<Option<FunctionConfig>, StoreError> {
        versions::delete_version(&mut self.lock(), name, version)
    }

    fn put_alias(
        &self,
        name: &FunctionName,
        alias: &AliasConfig,
        expected_revision: Option<&str>,
    ) -> Result<(), StoreError> {
        aliases::put_alias(&mut self.lock(), name, alias, expected_revision)
    }

    fn get_alias(&self, name: &FunctionName, alias: &str) -> Result<Option<AliasConfig>, StoreError> {
        aliases::get_alias(&self.lock(), name, alias)
    }

    fn list_aliases(&self, name: &FunctionName) -> Result<Vec<AliasConfig>, StoreError> {
        aliases::list_aliases(&self.lock(), name)
    }

    fn delete_alias(&self, name: &FunctionName, alias: &str) -> Result<bool, StoreError> {
        aliases::delete_alias(&self.lock(), name, alias)
    }

    fn put_event_invoke_config(
        &self,
        name: &FunctionName,
        qualifier: &str,
        config: &EventInvokeConfig,
    ) -> Result<(), StoreError> {
        event_invoke::put_event_invoke_config(&self.lock(), name, qualifier, config)
    }

    fn get_event_invoke_config(
        &self,
        name: &FunctionName,
        qualifier: &str,
    ) -> Result<Option<EventInvokeConfig>, StoreError> {
        event_invoke::get_event_invoke_config(&self.lock(), name, qualifier)
    }

    fn delete_event_invoke_config(&self, name: &FunctionName, qualifier: &str) -> Result<bool, StoreError> {
        event_invoke::delete_event_invoke_config(&self.lock(), name, qualifier)
    }

    fn list_event_invoke_configs(&self, name: &FunctionName) -> Result<Vec<(String, EventInvokeConfig)>, StoreError> {
        event_invoke::list_event_invoke_configs(&self.lock(), name)
    }

    fn set_reserved_concurrency(&self, name: &FunctionName, reserved: Option<u32>) -> Result<(), StoreError> {
        concurrency::set_reserved_concurrency(&self.lock(), name, reserved)
    }

    fn reserved_concurrency(&self) -> Result<Vec<(String, u32)>, StoreError> {
        concurrency::reserved_concurrency(&self.lock())
    }

    fn set_provisioned_concurrency(
        &self,
        name: &FunctionName,
        qualifier: &str,
        provisioned: Option<(u32, String)>,
    ) -> Result<(), StoreError> {
        concurrency::set_provisioned_concurrency(&self.lock(), name, qualifier, provisioned)
    }

    fn provisioned_concurrency(&self) -> Result<Vec<(String, String, u32, String)>, StoreError> {
        concurrency::provisioned_concurrency(&self.lock())
    }

    fn policy(&self, name: &FunctionName, qualifier: &str) -> Result<Vec<String>, StoreError> {
        policies::policy(&self.lock(), name, qualifier)
    }

    fn set_policy(&self, name: &FunctionName, qualifier: &str, statements: &[String]) -> Result<(), StoreError> {
        policies::set_policy(&self.lock(), name, qualifier, statements)
    }

    fn publish_layer_version(&self, layer: &mut LayerVersion) -> Result<u64, StoreError> {
        layers::publish_layer_version(&mut self.lock(), layer)
    }

    fn get_layer_version(&self, name: &LayerName, version: u64) -> Result<Option<LayerVersion>, StoreError> {
        layers::get_layer_version(&self.lock(), name, version)
    }

    fn layer_versions(&self, name: Option<&LayerName>) -> Result<Vec<LayerVersion>, StoreError> {
        layers::layer_versions(&self.lock(), name)
    }

    fn delete_layer_version(&self, name: &LayerName, version: u64) -> Result<bool, StoreError> {
        layers::delete_layer_version(&self.lock(), name, version)
    }

    fn referenced_blobs(&self) -> Result<HashSet<String>, StoreError> {
        blobs::referenced_blobs(&self.lock())
    }

    fn usage(&self) -> Result<Usage, StoreError> {
        functions::usage(&self.lock())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::tests::conformance;

    #[test]
    fn in_memory_sqlite_conforms() {
        conformance(&SqliteStore::open_in_memory().unwrap());
    }

    #[test]
    fn survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("meta.db");
        let rec = crate::record::tests::record("persist", "r1");
        SqliteStore::open(&path).unwrap().create(&rec).unwrap();
        let reopened = SqliteStore::open(&path).unwrap();
        assert_eq!(reopened.get(&rec.latest.name).unwrap(), Some(rec));
    }
}
