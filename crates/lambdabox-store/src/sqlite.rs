//! The SQLite implementation of [`FunctionStore`] (WAL, synchronous=FULL, so
//! an acknowledged write survives a crash of the process or the machine).

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::Mutex;

use lambdabox_model::alias::AliasConfig;
use lambdabox_model::event_invoke::EventInvokeConfig;
use lambdabox_model::layer::{LayerName, LayerVersion};
use lambdabox_model::{FunctionConfig, FunctionName};
use rusqlite::{Connection, OptionalExtension, params};

use crate::{FunctionRecord, FunctionStore, StoreError, Usage};

const LATEST: &str = "$LATEST";

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

const SELECT: &str = "SELECT f.name, v.config, f.tags FROM functions f \
    JOIN function_versions v ON v.function_name = f.name AND v.version = '$LATEST'";

impl FunctionStore for SqliteStore {
    fn create(&self, record: &FunctionRecord) -> Result<(), StoreError> {
        let name = record.latest.name.as_str();
        let mut conn = self.lock();
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

    fn get(&self, name: &FunctionName) -> Result<Option<FunctionRecord>, StoreError> {
        let conn = self.lock();
        // Prepared once per connection: this lookup is on every Invoke.
        let mut stmt =
            conn.prepare_cached(&format!("{SELECT} WHERE f.name = ?1")).map_err(query_err("get", name.as_str()))?;
        let row = stmt
            .query_row([name.as_str()], |r| Ok((r.get::<_, String>(1)?, r.get::<_, String>(2)?)))
            .optional()
            .map_err(query_err("get", name.as_str()))?;
        row.map(|(config, tags)| decode(name.as_str(), &config, &tags)).transpose()
    }

    fn list(&self, after: Option<&str>, limit: usize) -> Result<Vec<FunctionRecord>, StoreError> {
        let conn = self.lock();
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

    fn update_latest(&self, config: &FunctionConfig, expected_revision: &str) -> Result<(), StoreError> {
        let name = config.name.as_str();
        let mut conn = self.lock();
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

    fn set_tags(&self, name: &FunctionName, tags: &BTreeMap<String, String>) -> Result<(), StoreError> {
        let conn = self.lock();
        let tags = serde_json::to_string(tags).expect("tags always serialise");
        let changed = conn
            .execute("UPDATE functions SET tags = ?2 WHERE name = ?1", params![name.as_str(), tags])
            .map_err(query_err("tag", name.as_str()))?;
        if changed == 0 {
            return Err(StoreError::NotFound { name: name.to_string() });
        }
        Ok(())
    }

    fn delete(&self, name: &FunctionName) -> Result<Option<FunctionRecord>, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(query_err("begin delete", name.as_str()))?;
        let row = tx
            .query_row(&format!("{SELECT} WHERE f.name = ?1"), [name.as_str()], |r| {
                Ok((r.get::<_, String>(1)?, r.get::<_, String>(2)?))
            })
            .optional()
            .map_err(query_err("read for delete", name.as_str()))?;
        let Some((config, tags)) = row else { return Ok(None) };
        tx.execute("DELETE FROM functions WHERE name = ?1", [name.as_str()])
            .map_err(query_err("delete", name.as_str()))?;
        tx.commit().map_err(query_err("commit delete", name.as_str()))?;
        decode(name.as_str(), &config, &tags).map(Some)
    }

    fn list_versions(&self, name: &FunctionName) -> Result<Vec<FunctionConfig>, StoreError> {
        let conn = self.lock();
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

    fn get_version(&self, name: &FunctionName, version: &str) -> Result<Option<FunctionConfig>, StoreError> {
        let conn = self.lock();
        // Prepared once per connection: qualified Invokes look versions up.
        let config: Option<String> = conn
            .prepare_cached("SELECT config FROM function_versions WHERE function_name = ?1 AND version = ?2")
            .and_then(|mut stmt| stmt.query_row(params![name.as_str(), version], |r| r.get(0)).optional())
            .map_err(query_err("get version of", name.as_str()))?;
        config.map(|c| decode_config(name.as_str(), &c)).transpose()
    }

    fn last_version(&self, name: &FunctionName) -> Result<u64, StoreError> {
        let conn = self.lock();
        let last: Option<i64> = conn
            .query_row("SELECT last_version FROM functions WHERE name = ?1", [name.as_str()], |r| r.get(0))
            .optional()
            .map_err(query_err("read last version of", name.as_str()))?;
        last.map(|v| v as u64).ok_or_else(|| StoreError::NotFound { name: name.to_string() })
    }

    fn publish_version(&self, config: &FunctionConfig, expected_latest_revision: &str) -> Result<(), StoreError> {
        let name = config.name.as_str();
        let mut conn = self.lock();
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

    fn delete_version(&self, name: &FunctionName, version: &str) -> Result<Option<FunctionConfig>, StoreError> {
        let n = name.as_str();
        let mut conn = self.lock();
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
                out.push(
                    serde_json::from_str(&text).map_err(|source| StoreError::Decode { name: n.to_owned(), source })?,
                );
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

    fn put_alias(
        &self,
        name: &FunctionName,
        alias: &AliasConfig,
        expected_revision: Option<&str>,
    ) -> Result<(), StoreError> {
        let n = name.as_str();
        let alias_err = |operation| {
            let alias = format!("{n}:{}", alias.name);
            move |source| StoreError::AliasQuery { operation, alias, source }
        };
        let mut conn = self.lock();
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

    fn get_alias(&self, name: &FunctionName, alias: &str) -> Result<Option<AliasConfig>, StoreError> {
        let conn = self.lock();
        let text: Option<String> = conn
            .prepare_cached("SELECT config FROM aliases WHERE function_name = ?1 AND name = ?2")
            .and_then(|mut stmt| stmt.query_row(params![name.as_str(), alias], |r| r.get(0)).optional())
            .map_err(|source| StoreError::AliasQuery { operation: "get", alias: format!("{name}:{alias}"), source })?;
        text.map(|t| serde_json::from_str(&t).map_err(|source| StoreError::Decode { name: name.to_string(), source }))
            .transpose()
    }

    fn list_aliases(&self, name: &FunctionName) -> Result<Vec<AliasConfig>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare_cached("SELECT config FROM aliases WHERE function_name = ?1 ORDER BY name")
            .map_err(query_err("list aliases of", name.as_str()))?;
        let rows = stmt
            .query_map([name.as_str()], |r| r.get::<_, String>(0))
            .map_err(query_err("list aliases of", name.as_str()))?;
        let mut out = Vec::new();
        for row in rows {
            let text = row.map_err(query_err("list aliases of", name.as_str()))?;
            out.push(
                serde_json::from_str(&text).map_err(|source| StoreError::Decode { name: name.to_string(), source })?,
            );
        }
        Ok(out)
    }

    fn delete_alias(&self, name: &FunctionName, alias: &str) -> Result<bool, StoreError> {
        let conn = self.lock();
        let n = conn
            .execute("DELETE FROM aliases WHERE function_name = ?1 AND name = ?2", params![name.as_str(), alias])
            .map_err(|source| StoreError::AliasQuery {
                operation: "delete",
                alias: format!("{name}:{alias}"),
                source,
            })?;
        Ok(n > 0)
    }

    fn put_event_invoke_config(
        &self,
        name: &FunctionName,
        qualifier: &str,
        config: &EventInvokeConfig,
    ) -> Result<(), StoreError> {
        let text = serde_json::to_string(config).expect("event invoke configs always serialise");
        self.lock()
            .execute(
                "INSERT INTO event_invoke_configs (function_name, qualifier, config) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (function_name, qualifier) DO UPDATE SET config = excluded.config",
                params![name.as_str(), qualifier, text],
            )
            .map_err(query_err("put event invoke config of", name.as_str()))?;
        Ok(())
    }

    fn get_event_invoke_config(
        &self,
        name: &FunctionName,
        qualifier: &str,
    ) -> Result<Option<EventInvokeConfig>, StoreError> {
        let text: Option<String> = self
            .lock()
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

    fn delete_event_invoke_config(&self, name: &FunctionName, qualifier: &str) -> Result<bool, StoreError> {
        let n = self
            .lock()
            .execute(
                "DELETE FROM event_invoke_configs WHERE function_name = ?1 AND qualifier = ?2",
                params![name.as_str(), qualifier],
            )
            .map_err(query_err("delete event invoke config of", name.as_str()))?;
        Ok(n > 0)
    }

    fn list_event_invoke_configs(&self, name: &FunctionName) -> Result<Vec<(String, EventInvokeConfig)>, StoreError> {
        let conn = self.lock();
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

    fn set_reserved_concurrency(&self, name: &FunctionName, reserved: Option<u32>) -> Result<(), StoreError> {
        let conn = self.lock();
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

    fn reserved_concurrency(&self) -> Result<Vec<(String, u32)>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare_cached("SELECT function_name, reserved FROM reserved_concurrency ORDER BY function_name")
            .map_err(query_err("list reserved concurrency", ""))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, u32>(1)?)))
            .map_err(query_err("list reserved concurrency", ""))?;
        rows.collect::<Result<_, _>>().map_err(query_err("list reserved concurrency", ""))
    }

    fn set_provisioned_concurrency(
        &self,
        name: &FunctionName,
        qualifier: &str,
        provisioned: Option<(u32, String)>,
    ) -> Result<(), StoreError> {
        let conn = self.lock();
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

    fn provisioned_concurrency(&self) -> Result<Vec<(String, String, u32, String)>, StoreError> {
        let conn = self.lock();
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

    fn policy(&self, name: &FunctionName, qualifier: &str) -> Result<Vec<String>, StoreError> {
        let text: Option<String> = self
            .lock()
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

    fn set_policy(&self, name: &FunctionName, qualifier: &str, statements: &[String]) -> Result<(), StoreError> {
        let conn = self.lock();
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

    fn publish_layer_version(&self, layer: &mut LayerVersion) -> Result<u64, StoreError> {
        let mut conn = self.lock();
        let name = layer.name.as_str().to_owned();
        let tx = conn.transaction().map_err(layer_err("publish a version of", &name))?;
        let last: i64 = tx
            .query_row("SELECT COALESCE(MAX(version), 0) FROM layer_versions WHERE layer_name = ?1", [&name], |r| {
                r.get(0)
            })
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

    fn get_layer_version(&self, name: &LayerName, version: u64) -> Result<Option<LayerVersion>, StoreError> {
        let conn = self.lock();
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

    fn layer_versions(&self, name: Option<&LayerName>) -> Result<Vec<LayerVersion>, StoreError> {
        let conn = self.lock();
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

    fn delete_layer_version(&self, name: &LayerName, version: u64) -> Result<bool, StoreError> {
        let conn = self.lock();
        let changed = conn
            .execute(
                "UPDATE layer_versions SET deleted = 1 WHERE layer_name = ?1 AND version = ?2 AND deleted = 0",
                params![name.as_str(), version as i64],
            )
            .map_err(layer_err("delete a version of", name.as_str()))?;
        Ok(changed > 0)
    }

    fn referenced_blobs(&self) -> Result<HashSet<String>, StoreError> {
        let conn = self.lock();
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

    fn usage(&self) -> Result<Usage, StoreError> {
        let conn = self.lock();
        conn.query_row(
            "SELECT (SELECT COUNT(*) FROM functions), (SELECT COALESCE(SUM(code_size), 0) FROM function_versions) \
             + (SELECT COALESCE(SUM(code_size), 0) FROM layer_versions WHERE deleted = 0)",
            [],
            |r| Ok(Usage { function_count: r.get::<_, i64>(0)? as u64, total_code_size: r.get::<_, i64>(1)? as u64 }),
        )
        .map_err(query_err("count", ""))
    }
}

fn layer_err(operation: &'static str, name: &str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    let name = name.to_owned();
    move |source| StoreError::LayerQuery { operation, name, source }
}

fn decode_layer(name: &str, config: &str) -> Result<LayerVersion, StoreError> {
    serde_json::from_str(config).map_err(|source| StoreError::Decode { name: format!("layer {name}"), source })
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
