//! [`CachedStore`]: a [`FunctionStore`] that keeps each function's record
//! (`$LATEST` and tags), its published versions and its aliases in memory
//! once read, so an Invoke finds its function without SQLite or a
//! blocking-pool hop ([`FunctionStore::peek`], `peek_version`, `peek_alias`).
//!
//! Every write goes through this wrapper (the server is the database's only
//! writer), and each one drops the function's entries after it commits. A read
//! that raced with a write cannot put a stale record back: entries are only
//! inserted when no write happened since the read began (a generation
//! counter, bumped before the entry is dropped).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use lambdabox_model::alias::AliasConfig;
use lambdabox_model::event_invoke::EventInvokeConfig;
use lambdabox_model::event_source::EventSourceMapping;
use lambdabox_model::layer::{LayerName, LayerVersion};
use lambdabox_model::{FunctionConfig, FunctionName};

use crate::{FunctionRecord, FunctionStore, StoreError, Usage};

/// A read-through cache of function records over another store.
pub struct CachedStore<S> {
    inner: S,
    records: Mutex<Cache>,
    generation: AtomicU64,
}

/// What is cached, by function name (and version or alias name).
#[derive(Default)]
struct Cache {
    records: HashMap<String, FunctionRecord>,
    versions: HashMap<(String, String), FunctionConfig>,
    aliases: HashMap<(String, String), AliasConfig>,
}

impl Cache {
    fn forget(&mut self, name: &str) {
        self.records.remove(name);
        self.versions.retain(|(n, _), _| n != name);
        self.aliases.retain(|(n, _), _| n != name);
    }
}

impl<S: FunctionStore> CachedStore<S> {
    pub fn new(inner: S) -> Self {
        Self { inner, records: Mutex::new(Cache::default()), generation: AtomicU64::new(0) }
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.records.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Reads through: `insert` keeps what was read unless a write happened meanwhile.
    fn read<T: Clone>(
        &self,
        read: impl FnOnce(&S) -> Result<Option<T>, StoreError>,
        insert: impl FnOnce(&mut Cache, T),
    ) -> Result<Option<T>, StoreError> {
        let before = self.generation.load(Ordering::SeqCst);
        let found = read(&self.inner)?;
        if let Some(value) = &found {
            let mut cache = self.cache();
            if self.generation.load(Ordering::SeqCst) == before {
                insert(&mut cache, value.clone());
            }
        }
        Ok(found)
    }

    /// Runs a write, then forgets `name` (whatever the write's outcome).
    fn write<T>(&self, name: &str, f: impl FnOnce(&S) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let result = f(&self.inner);
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.cache().forget(name);
        result
    }
}

impl<S: FunctionStore> FunctionStore for CachedStore<S> {
    fn put_event_source_mapping(&self, mapping: &EventSourceMapping) -> Result<(), StoreError> {
        self.inner.put_event_source_mapping(mapping)
    }
    fn get_event_source_mapping(&self, uuid: &str) -> Result<Option<EventSourceMapping>, StoreError> {
        self.inner.get_event_source_mapping(uuid)
    }
    fn delete_event_source_mapping(&self, uuid: &str) -> Result<bool, StoreError> {
        self.inner.delete_event_source_mapping(uuid)
    }
    fn list_event_source_mappings(&self) -> Result<Vec<EventSourceMapping>, StoreError> {
        self.inner.list_event_source_mappings()
    }
    fn peek(&self, name: &FunctionName) -> Option<FunctionRecord> {
        self.cache().records.get(name.as_str()).cloned()
    }

    fn peek_version(&self, name: &FunctionName, version: &str) -> Option<FunctionConfig> {
        self.cache().versions.get(&(name.to_string(), version.to_owned())).cloned()
    }

    fn peek_alias(&self, name: &FunctionName, alias: &str) -> Option<AliasConfig> {
        self.cache().aliases.get(&(name.to_string(), alias.to_owned())).cloned()
    }

    fn create(&self, record: &FunctionRecord) -> Result<(), StoreError> {
        self.write(record.latest.name.as_str(), |s| s.create(record))
    }

    fn get(&self, name: &FunctionName) -> Result<Option<FunctionRecord>, StoreError> {
        if let Some(hit) = self.peek(name) {
            return Ok(Some(hit));
        }
        self.read(
            |s| s.get(name),
            |c, r| {
                c.records.insert(name.to_string(), r);
            },
        )
    }

    fn list(&self, after: Option<&str>, limit: usize) -> Result<Vec<FunctionRecord>, StoreError> {
        self.inner.list(after, limit)
    }

    fn update_latest(&self, config: &FunctionConfig, expected_revision: &str) -> Result<(), StoreError> {
        self.write(config.name.as_str(), |s| s.update_latest(config, expected_revision))
    }

    fn set_tags(&self, name: &FunctionName, tags: &BTreeMap<String, String>) -> Result<(), StoreError> {
        self.write(name.as_str(), |s| s.set_tags(name, tags))
    }

    fn delete(&self, name: &FunctionName) -> Result<Option<FunctionRecord>, StoreError> {
        self.write(name.as_str(), |s| s.delete(name))
    }

    fn list_versions(&self, name: &FunctionName) -> Result<Vec<FunctionConfig>, StoreError> {
        self.inner.list_versions(name)
    }

    fn get_version(&self, name: &FunctionName, version: &str) -> Result<Option<FunctionConfig>, StoreError> {
        if let Some(hit) = self.peek_version(name, version) {
            return Ok(Some(hit));
        }
        self.read(
            |s| s.get_version(name, version),
            |c, v| {
                c.versions.insert((name.to_string(), version.to_owned()), v);
            },
        )
    }

    fn last_version(&self, name: &FunctionName) -> Result<u64, StoreError> {
        self.inner.last_version(name)
    }

    fn publish_version(&self, config: &FunctionConfig, expected_latest_revision: &str) -> Result<(), StoreError> {
        self.write(config.name.as_str(), |s| s.publish_version(config, expected_latest_revision))
    }

    fn delete_version(&self, name: &FunctionName, version: &str) -> Result<Option<FunctionConfig>, StoreError> {
        self.write(name.as_str(), |s| s.delete_version(name, version))
    }

    fn put_alias(
        &self,
        name: &FunctionName,
        alias: &AliasConfig,
        expected_revision: Option<&str>,
    ) -> Result<(), StoreError> {
        self.write(name.as_str(), |s| s.put_alias(name, alias, expected_revision))
    }

    fn get_alias(&self, name: &FunctionName, alias: &str) -> Result<Option<AliasConfig>, StoreError> {
        if let Some(hit) = self.peek_alias(name, alias) {
            return Ok(Some(hit));
        }
        self.read(
            |s| s.get_alias(name, alias),
            |c, a| {
                c.aliases.insert((name.to_string(), alias.to_owned()), a);
            },
        )
    }

    fn list_aliases(&self, name: &FunctionName) -> Result<Vec<AliasConfig>, StoreError> {
        self.inner.list_aliases(name)
    }

    fn delete_alias(&self, name: &FunctionName, alias: &str) -> Result<bool, StoreError> {
        self.write(name.as_str(), |s| s.delete_alias(name, alias))
    }

    fn put_event_invoke_config(
        &self,
        name: &FunctionName,
        qualifier: &str,
        config: &EventInvokeConfig,
    ) -> Result<(), StoreError> {
        self.inner.put_event_invoke_config(name, qualifier, config)
    }

    fn get_event_invoke_config(
        &self,
        name: &FunctionName,
        qualifier: &str,
    ) -> Result<Option<EventInvokeConfig>, StoreError> {
        self.inner.get_event_invoke_config(name, qualifier)
    }

    fn delete_event_invoke_config(&self, name: &FunctionName, qualifier: &str) -> Result<bool, StoreError> {
        self.inner.delete_event_invoke_config(name, qualifier)
    }

    fn list_event_invoke_configs(&self, name: &FunctionName) -> Result<Vec<(String, EventInvokeConfig)>, StoreError> {
        self.inner.list_event_invoke_configs(name)
    }

    fn set_reserved_concurrency(&self, name: &FunctionName, reserved: Option<u32>) -> Result<(), StoreError> {
        self.inner.set_reserved_concurrency(name, reserved)
    }

    fn reserved_concurrency(&self) -> Result<Vec<(String, u32)>, StoreError> {
        self.inner.reserved_concurrency()
    }

    fn set_provisioned_concurrency(
        &self,
        name: &FunctionName,
        qualifier: &str,
        provisioned: Option<(u32, String)>,
    ) -> Result<(), StoreError> {
        self.inner.set_provisioned_concurrency(name, qualifier, provisioned)
    }

    fn provisioned_concurrency(&self) -> Result<Vec<(String, String, u32, String)>, StoreError> {
        self.inner.provisioned_concurrency()
    }

    fn policy(&self, name: &FunctionName, qualifier: &str) -> Result<Vec<String>, StoreError> {
        self.inner.policy(name, qualifier)
    }

    fn set_policy(&self, name: &FunctionName, qualifier: &str, statements: &[String]) -> Result<(), StoreError> {
        self.inner.set_policy(name, qualifier, statements)
    }

    fn publish_layer_version(&self, layer: &mut LayerVersion) -> Result<u64, StoreError> {
        self.inner.publish_layer_version(layer)
    }

    fn get_layer_version(&self, name: &LayerName, version: u64) -> Result<Option<LayerVersion>, StoreError> {
        self.inner.get_layer_version(name, version)
    }

    fn layer_versions(&self, name: Option<&LayerName>) -> Result<Vec<LayerVersion>, StoreError> {
        self.inner.layer_versions(name)
    }

    fn delete_layer_version(&self, name: &LayerName, version: u64) -> Result<bool, StoreError> {
        self.inner.delete_layer_version(name, version)
    }

    fn referenced_blobs(&self) -> Result<HashSet<String>, StoreError> {
        self.inner.referenced_blobs()
    }

    fn usage(&self) -> Result<Usage, StoreError> {
        self.inner.usage()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SqliteStore;
    use crate::record::tests::{conformance, record};

    #[test]
    fn cached_sqlite_conforms() {
        conformance(&CachedStore::new(SqliteStore::open_in_memory().unwrap()));
    }

    #[test]
    fn writes_drop_the_cached_record() {
        let store = CachedStore::new(SqliteStore::open_in_memory().unwrap());
        let rec = record("cached", "r1");
        let name = rec.latest.name.clone();
        assert!(store.peek(&name).is_none());
        store.create(&rec).unwrap();
        assert!(store.peek(&name).is_none(), "nothing cached before a read");
        assert_eq!(store.get(&name).unwrap(), Some(rec.clone()));
        assert_eq!(store.peek(&name), Some(rec.clone()));
        let mut updated = rec.latest.clone();
        updated.revision_id = "r2".into();
        store.update_latest(&updated, "r1").unwrap();
        assert!(store.peek(&name).is_none());
        assert_eq!(store.get(&name).unwrap().unwrap().latest.revision_id, "r2");
        store.set_tags(&name, &[("k".to_string(), "v".to_string())].into()).unwrap();
        assert_eq!(store.get(&name).unwrap().unwrap().tags.len(), 1);
        store.delete(&name).unwrap();
        assert!(store.peek(&name).is_none());
        assert_eq!(store.get(&name).unwrap(), None);
    }

    #[test]
    fn versions_and_aliases_are_cached_until_a_write() {
        let store = CachedStore::new(SqliteStore::open_in_memory().unwrap());
        let rec = record("qualified", "r1");
        let name = rec.latest.name.clone();
        store.create(&rec).unwrap();
        let mut v1 = rec.latest.clone();
        v1.version = "1".into();
        store.publish_version(&v1, "r1").unwrap();
        assert!(store.peek_version(&name, "1").is_none());
        assert_eq!(store.get_version(&name, "1").unwrap().unwrap().version, "1");
        assert_eq!(store.peek_version(&name, "1").unwrap().version, "1");
        let alias = AliasConfig {
            name: "live".into(),
            function_version: "1".into(),
            description: String::new(),
            additional_version_weights: Default::default(),
            revision_id: "a1".into(),
        };
        store.put_alias(&name, &alias, None).unwrap();
        assert_eq!(store.get_alias(&name, "live").unwrap().unwrap().function_version, "1");
        assert!(store.peek_alias(&name, "live").is_some());
        assert!(store.delete_alias(&name, "live").unwrap());
        assert!(store.peek_alias(&name, "live").is_none(), "a write drops the function's cached entries");
        assert!(store.peek_version(&name, "1").is_none());
        assert_eq!(store.get_alias(&name, "live").unwrap(), None);
    }
}
