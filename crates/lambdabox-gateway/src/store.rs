//! The gateway's SQLite file (`gateway.db`: WAL, synchronous=FULL, so an
//! acknowledged config survives a kill) with an in-memory copy that the
//! front door reads on every request. Each write commits to SQLite first
//! and then updates the copy, under one lock.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use rusqlite::{Connection, params};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::GatewayError;
use crate::model::{Api, ApiState, Integration, Route, Stage, UrlConfig};

/// Schema migrations, applied in order; `PRAGMA user_version` counts them.
const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE function_urls (
    url_id        TEXT PRIMARY KEY,
    function_name TEXT NOT NULL,
    qualifier     TEXT NOT NULL,
    body          TEXT NOT NULL,
    UNIQUE (function_name, qualifier)
);
CREATE TABLE apis (
    api_id TEXT PRIMARY KEY,
    body   TEXT NOT NULL
);
CREATE TABLE integrations (
    api_id TEXT NOT NULL REFERENCES apis(api_id) ON DELETE CASCADE,
    id     TEXT NOT NULL,
    body   TEXT NOT NULL,
    PRIMARY KEY (api_id, id)
);
CREATE TABLE routes (
    api_id TEXT NOT NULL REFERENCES apis(api_id) ON DELETE CASCADE,
    id     TEXT NOT NULL,
    body   TEXT NOT NULL,
    PRIMARY KEY (api_id, id)
);
CREATE TABLE stages (
    api_id TEXT NOT NULL REFERENCES apis(api_id) ON DELETE CASCADE,
    id     TEXT NOT NULL,
    body   TEXT NOT NULL,
    PRIMARY KEY (api_id, id)
);
"#];

/// The child tables of an API.
#[derive(Debug, Clone, Copy)]
pub enum Child {
    Integration,
    Route,
    Stage,
}

impl Child {
    fn table(self) -> &'static str {
        match self {
            Self::Integration => "integrations",
            Self::Route => "routes",
            Self::Stage => "stages",
        }
    }
}

#[derive(Default)]
struct State {
    urls: BTreeMap<String, UrlConfig>,
    apis: BTreeMap<String, Arc<ApiState>>,
}

pub struct GatewayStore {
    conn: Mutex<Connection>,
    state: RwLock<State>,
}

fn encode<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("gateway records always serialise")
}

fn decode<T: DeserializeOwned>(kind: &'static str, id: &str, body: &str) -> Result<T, GatewayError> {
    serde_json::from_str(body).map_err(|source| GatewayError::Decode { kind, id: id.to_owned(), source })
}

fn write_err(source: rusqlite::Error) -> GatewayError {
    GatewayError::Write { source }
}

fn read_err(source: rusqlite::Error) -> GatewayError {
    GatewayError::Read { source }
}

impl GatewayStore {
    /// Opens (creating and migrating) the database at `path` and loads it.
    pub fn open(path: &Path) -> Result<Self, GatewayError> {
        Self::with(lambdabox_store::open_migrated(path, MIGRATIONS)?)
    }

    /// An in-memory database (tests).
    pub fn open_in_memory() -> Result<Self, GatewayError> {
        Self::with(lambdabox_store::open_migrated_in_memory(MIGRATIONS)?)
    }

    fn with(conn: Connection) -> Result<Self, GatewayError> {
        let state = load(&conn)?;
        Ok(Self { conn: Mutex::new(conn), state: RwLock::new(state) })
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite half-written (the
        // transaction rolls back on drop), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn state(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    fn state_mut(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|p| p.into_inner())
    }

    // -- function URLs --------------------------------------------------

    pub fn url(&self, url_id: &str) -> Option<UrlConfig> {
        self.state().urls.get(url_id).cloned()
    }

    pub fn url_for(&self, function: &str, qualifier: Option<&str>) -> Option<UrlConfig> {
        self.state().urls.values().find(|u| u.function_name == function && u.qualifier.as_deref() == qualifier).cloned()
    }

    /// Every URL config of a function, ordered by creation.
    pub fn urls_of(&self, function: &str) -> Vec<UrlConfig> {
        let mut urls: Vec<UrlConfig> =
            self.state().urls.values().filter(|u| u.function_name == function).cloned().collect();
        urls.sort_by(|a, b| a.creation_time.cmp(&b.creation_time).then(a.url_id.cmp(&b.url_id)));
        urls
    }

    /// Inserts or replaces a URL config; fails when another config already
    /// exists for the function and qualifier (the UNIQUE constraint).
    pub fn put_url(&self, url: UrlConfig) -> Result<(), GatewayError> {
        let conn = self.lock();
        conn.execute(
            "INSERT INTO function_urls (url_id, function_name, qualifier, body) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (url_id) DO UPDATE SET body = excluded.body",
            params![url.url_id, url.function_name, url.qualifier.as_deref().unwrap_or(""), encode(&url)],
        )
        .map_err(write_err)?;
        self.state_mut().urls.insert(url.url_id.clone(), url);
        Ok(())
    }

    pub fn delete_url(&self, url_id: &str) -> Result<bool, GatewayError> {
        let conn = self.lock();
        let n = conn.execute("DELETE FROM function_urls WHERE url_id = ?1", [url_id]).map_err(write_err)?;
        self.state_mut().urls.remove(url_id);
        Ok(n > 0)
    }

    /// Removes every URL config of a function (DeleteFunction).
    pub fn delete_urls_of(&self, function: &str) -> Result<usize, GatewayError> {
        let conn = self.lock();
        let n = conn.execute("DELETE FROM function_urls WHERE function_name = ?1", [function]).map_err(write_err)?;
        self.state_mut().urls.retain(|_, u| u.function_name != function);
        Ok(n)
    }

    // -- HTTP APIs ------------------------------------------------------

    pub fn api(&self, api_id: &str) -> Option<Arc<ApiState>> {
        self.state().apis.get(api_id).cloned()
    }

    /// Every API, oldest first.
    pub fn apis(&self) -> Vec<Arc<ApiState>> {
        let mut apis: Vec<Arc<ApiState>> = self.state().apis.values().cloned().collect();
        apis.sort_by(|a, b| a.api.created_date.cmp(&b.api.created_date).then(a.api.api_id.cmp(&b.api.api_id)));
        apis
    }

    /// Writes an API and all of its children in one transaction (CreateApi,
    /// quick create included).
    pub fn put_api_state(&self, state: ApiState) -> Result<(), GatewayError> {
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(write_err)?;
        let id = &state.api.api_id;
        tx.execute(
            "INSERT INTO apis (api_id, body) VALUES (?1, ?2) ON CONFLICT (api_id) DO UPDATE SET body = excluded.body",
            params![id, encode(&StoredApi::from(&state.api))],
        )
        .map_err(write_err)?;
        for (table, rows) in [
            ("integrations", state.integrations.iter().map(|(k, v)| (k, encode(v))).collect::<Vec<_>>()),
            ("routes", state.routes.iter().map(|(k, v)| (k, encode(v))).collect()),
            ("stages", state.stages.iter().map(|(k, v)| (k, encode(v))).collect()),
        ] {
            for (child, body) in rows {
                tx.execute(
                    &format!(
                        "INSERT INTO {table} (api_id, id, body) VALUES (?1, ?2, ?3)
                         ON CONFLICT (api_id, id) DO UPDATE SET body = excluded.body"
                    ),
                    params![id, child, body],
                )
                .map_err(write_err)?;
            }
        }
        tx.commit().map_err(write_err)?;
        self.state_mut().apis.insert(id.clone(), Arc::new(state));
        Ok(())
    }

    pub fn delete_api(&self, api_id: &str) -> Result<bool, GatewayError> {
        let conn = self.lock();
        let n = conn.execute("DELETE FROM apis WHERE api_id = ?1", [api_id]).map_err(write_err)?;
        self.state_mut().apis.remove(api_id);
        Ok(n > 0)
    }

    /// Inserts or replaces one child of an API; `apply` updates the copy.
    pub fn put_child<T: Serialize>(
        &self,
        api_id: &str,
        kind: Child,
        id: &str,
        value: &T,
        apply: impl FnOnce(&mut ApiState),
    ) -> Result<(), GatewayError> {
        let conn = self.lock();
        conn.execute(
            &format!(
                "INSERT INTO {} (api_id, id, body) VALUES (?1, ?2, ?3)
                 ON CONFLICT (api_id, id) DO UPDATE SET body = excluded.body",
                kind.table()
            ),
            params![api_id, id, encode(value)],
        )
        .map_err(write_err)?;
        self.update(api_id, apply);
        Ok(())
    }

    pub fn delete_child(
        &self,
        api_id: &str,
        kind: Child,
        id: &str,
        apply: impl FnOnce(&mut ApiState),
    ) -> Result<(), GatewayError> {
        let conn = self.lock();
        conn.execute(&format!("DELETE FROM {} WHERE api_id = ?1 AND id = ?2", kind.table()), params![api_id, id])
            .map_err(write_err)?;
        self.update(api_id, apply);
        Ok(())
    }

    fn update(&self, api_id: &str, apply: impl FnOnce(&mut ApiState)) {
        let mut state = self.state_mut();
        if let Some(current) = state.apis.get_mut(api_id) {
            apply(Arc::make_mut(current));
        }
    }
}

/// An API as stored: the wire shape plus its region.
#[derive(Serialize, serde::Deserialize)]
struct StoredApi {
    #[serde(flatten)]
    api: serde_json::Value,
    region: String,
}

impl From<&Api> for StoredApi {
    fn from(api: &Api) -> Self {
        Self { api: serde_json::to_value(api).expect("an API serialises"), region: api.region.clone() }
    }
}

fn rows(conn: &Connection, sql: &str) -> Result<Vec<(String, String, String)>, GatewayError> {
    let mut stmt = conn.prepare(sql).map_err(read_err)?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).map_err(read_err)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(read_err)
}

fn load(conn: &Connection) -> Result<State, GatewayError> {
    let mut state = State::default();
    for (url_id, _, body) in rows(conn, "SELECT url_id, '', body FROM function_urls")? {
        state.urls.insert(url_id.clone(), decode("function url config", &url_id, &body)?);
    }
    for (api_id, _, body) in rows(conn, "SELECT api_id, '', body FROM apis")? {
        let stored: StoredApi = decode("api", &api_id, &body)?;
        let mut api: Api = serde_json::from_value(stored.api).map_err(|source| GatewayError::Decode {
            kind: "api",
            id: api_id.clone(),
            source,
        })?;
        api.region = stored.region;
        state.apis.insert(api_id, Arc::new(ApiState::new(api)));
    }
    let mut children: BTreeMap<String, ApiState> =
        state.apis.iter().map(|(k, v)| (k.clone(), ApiState::clone(v))).collect();
    for (api_id, id, body) in rows(conn, "SELECT api_id, id, body FROM integrations")? {
        let i: Integration = decode("integration", &id, &body)?;
        children.get_mut(&api_id).map(|a| a.integrations.insert(id, i));
    }
    for (api_id, id, body) in rows(conn, "SELECT api_id, id, body FROM routes")? {
        let r: Route = decode("route", &id, &body)?;
        children.get_mut(&api_id).map(|a| a.routes.insert(id, r));
    }
    for (api_id, id, body) in rows(conn, "SELECT api_id, id, body FROM stages")? {
        let s: Stage = decode("stage", &id, &body)?;
        children.get_mut(&api_id).map(|a| a.stages.insert(id, s));
    }
    state.apis = children.into_iter().map(|(k, v)| (k, Arc::new(v))).collect();
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::now_iso;

    fn api(id: &str) -> ApiState {
        ApiState::new(Api {
            api_id: id.into(),
            name: "n".into(),
            protocol_type: "HTTP".into(),
            api_key_selection_expression: "$request.header.x-api-key".into(),
            route_selection_expression: "$request.method $request.path".into(),
            created_date: now_iso(),
            description: None,
            version: None,
            disable_execute_api_endpoint: false,
            tags: BTreeMap::new(),
            cors_configuration: None,
            region: "eu-west-1".into(),
        })
    }

    #[test]
    fn survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gateway.db");
        {
            let store = GatewayStore::open(&path).unwrap();
            let url = UrlConfig {
                url_id: "u".repeat(32),
                function_name: "f".into(),
                qualifier: Some("live".into()),
                region: "us-east-1".into(),
                auth_type: "NONE".into(),
                cors: None,
                invoke_mode: "BUFFERED".into(),
                creation_time: now_iso(),
                last_modified_time: now_iso(),
            };
            store.put_url(url.clone()).unwrap();
            let dup = UrlConfig { url_id: "v".repeat(32), ..url };
            assert!(store.put_url(dup).is_err(), "one URL per function and qualifier");
            store.put_api_state(api("a1")).unwrap();
            store.put_api_state(api("a2")).unwrap();
            let route = Route {
                route_id: "r1".into(),
                route_key: "$default".into(),
                target: None,
                authorization_type: "NONE".into(),
                api_key_required: false,
                api_gateway_managed: false,
            };
            store
                .put_child("a1", Child::Route, "r1", &route, |a| {
                    a.routes.insert("r1".into(), route.clone());
                })
                .unwrap();
            assert!(store.delete_api("a2").unwrap());
        }
        let store = GatewayStore::open(&path).unwrap();
        assert_eq!(store.url(&"u".repeat(32)).unwrap().qualifier.as_deref(), Some("live"));
        assert!(store.url_for("f", Some("live")).is_some());
        let a1 = store.api("a1").unwrap();
        assert_eq!(a1.api.region, "eu-west-1");
        assert_eq!(a1.routes["r1"].route_key, "$default");
        assert!(store.api("a2").is_none());
        assert_eq!(store.delete_urls_of("f").unwrap(), 1);
        assert!(store.urls_of("f").is_empty());
    }
}
