//! An in-memory [`FunctionStore`] for tests of the layers above the store.

use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;

use lambdabox_model::alias::AliasConfig;
use lambdabox_model::event_invoke::EventInvokeConfig;
use lambdabox_model::layer::{LayerName, LayerVersion};
use lambdabox_model::{FunctionConfig, FunctionName};

use crate::{FunctionRecord, FunctionStore, StoreError, Usage};

/// One function's published versions and aliases.
#[derive(Default, Clone)]
struct Extra {
    versions: BTreeMap<u64, FunctionConfig>,
    last_version: u64,
    aliases: BTreeMap<String, AliasConfig>,
    event_invoke: BTreeMap<String, EventInvokeConfig>,
    reserved: Option<u32>,
    provisioned: BTreeMap<String, (u32, String)>,
    policies: BTreeMap<String, Vec<String>>,
}

/// Function metadata in a map; nothing survives the process.
#[derive(Default)]
pub struct MemoryStore {
    functions: Mutex<BTreeMap<String, (FunctionRecord, Extra)>>,
    /// Layer versions by (name, version); `None` once deleted (the number stays taken).
    layers: Mutex<BTreeMap<(String, u64), Option<LayerVersion>>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn map(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, (FunctionRecord, Extra)>> {
        self.functions.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn layer_map(&self) -> std::sync::MutexGuard<'_, BTreeMap<(String, u64), Option<LayerVersion>>> {
        self.layers.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl FunctionStore for MemoryStore {
    fn create(&self, record: &FunctionRecord) -> Result<(), StoreError> {
        let mut map = self.map();
        let name = record.latest.name.to_string();
        if map.contains_key(&name) {
            return Err(StoreError::AlreadyExists { name });
        }
        map.insert(name, (record.clone(), Extra::default()));
        Ok(())
    }

    fn get(&self, name: &FunctionName) -> Result<Option<FunctionRecord>, StoreError> {
        Ok(self.map().get(name.as_str()).map(|(r, _)| r.clone()))
    }

    fn list(&self, after: Option<&str>, limit: usize) -> Result<Vec<FunctionRecord>, StoreError> {
        let map = self.map();
        let after = after.unwrap_or("");
        Ok(map.iter().filter(|(k, _)| k.as_str() > after).take(limit).map(|(_, (r, _))| r.clone()).collect())
    }

    fn update_latest(&self, config: &FunctionConfig, expected_revision: &str) -> Result<(), StoreError> {
        let mut map = self.map();
        let name = config.name.to_string();
        let (record, _) = map.get_mut(&name).ok_or_else(|| StoreError::NotFound { name: name.clone() })?;
        if record.latest.revision_id != expected_revision {
            return Err(StoreError::RevisionMismatch {
                name,
                expected: expected_revision.to_owned(),
                actual: record.latest.revision_id.clone(),
            });
        }
        record.latest = config.clone();
        Ok(())
    }

    fn set_tags(&self, name: &FunctionName, tags: &BTreeMap<String, String>) -> Result<(), StoreError> {
        let mut map = self.map();
        let (record, _) = map.get_mut(name.as_str()).ok_or_else(|| StoreError::NotFound { name: name.to_string() })?;
        record.tags = tags.clone();
        Ok(())
    }

    fn delete(&self, name: &FunctionName) -> Result<Option<FunctionRecord>, StoreError> {
        Ok(self.map().remove(name.as_str()).map(|(r, _)| r))
    }

    fn list_versions(&self, name: &FunctionName) -> Result<Vec<FunctionConfig>, StoreError> {
        let map = self.map();
        Ok(map
            .get(name.as_str())
            .map(|(r, e)| std::iter::once(r.latest.clone()).chain(e.versions.values().cloned()).collect())
            .unwrap_or_default())
    }

    fn get_version(&self, name: &FunctionName, version: &str) -> Result<Option<FunctionConfig>, StoreError> {
        let map = self.map();
        let Some((r, e)) = map.get(name.as_str()) else { return Ok(None) };
        if version == "$LATEST" {
            return Ok(Some(r.latest.clone()));
        }
        Ok(version.parse::<u64>().ok().and_then(|v| e.versions.get(&v).cloned()))
    }

    fn last_version(&self, name: &FunctionName) -> Result<u64, StoreError> {
        let map = self.map();
        map.get(name.as_str())
            .map(|(_, e)| e.last_version)
            .ok_or_else(|| StoreError::NotFound { name: name.to_string() })
    }

    fn publish_version(&self, config: &FunctionConfig, expected_latest_revision: &str) -> Result<(), StoreError> {
        let mut map = self.map();
        let name = config.name.to_string();
        let (r, e) = map.get_mut(&name).ok_or_else(|| StoreError::NotFound { name: name.clone() })?;
        if r.latest.revision_id != expected_latest_revision {
            return Err(StoreError::RevisionMismatch {
                name,
                expected: expected_latest_revision.to_owned(),
                actual: r.latest.revision_id.clone(),
            });
        }
        if config.version != (e.last_version + 1).to_string() {
            return Err(StoreError::VersionConflict { name, version: config.version.clone() });
        }
        e.last_version += 1;
        e.versions.insert(e.last_version, config.clone());
        Ok(())
    }

    fn delete_version(&self, name: &FunctionName, version: &str) -> Result<Option<FunctionConfig>, StoreError> {
        let mut map = self.map();
        let Some((_, e)) = map.get_mut(name.as_str()) else { return Ok(None) };
        let Ok(number) = version.parse::<u64>() else { return Ok(None) };
        if !e.versions.contains_key(&number) {
            return Ok(None);
        }
        let users: Vec<String> = e
            .aliases
            .values()
            .filter(|a| a.function_version == version || a.additional_version_weights.contains_key(version))
            .map(|a| a.name.clone())
            .collect();
        if !users.is_empty() {
            return Err(StoreError::VersionInUse {
                name: name.to_string(),
                version: version.to_owned(),
                aliases: users,
            });
        }
        Ok(e.versions.remove(&number))
    }

    fn put_alias(
        &self,
        name: &FunctionName,
        alias: &AliasConfig,
        expected_revision: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut map = self.map();
        let (_, e) = map.get_mut(name.as_str()).ok_or_else(|| StoreError::NotFound { name: name.to_string() })?;
        let (n, a) = (name.to_string(), alias.name.clone());
        match (expected_revision, e.aliases.get(&alias.name)) {
            (None, Some(_)) => return Err(StoreError::AliasExists { name: n, alias: a }),
            (Some(_), None) => return Err(StoreError::AliasNotFound { name: n, alias: a }),
            (Some(expected), Some(current)) if current.revision_id != expected => {
                return Err(StoreError::RevisionMismatch {
                    name: n,
                    expected: expected.to_owned(),
                    actual: current.revision_id.clone(),
                });
            }
            _ => {}
        }
        e.aliases.insert(alias.name.clone(), alias.clone());
        Ok(())
    }

    fn get_alias(&self, name: &FunctionName, alias: &str) -> Result<Option<AliasConfig>, StoreError> {
        Ok(self.map().get(name.as_str()).and_then(|(_, e)| e.aliases.get(alias).cloned()))
    }

    fn list_aliases(&self, name: &FunctionName) -> Result<Vec<AliasConfig>, StoreError> {
        Ok(self.map().get(name.as_str()).map(|(_, e)| e.aliases.values().cloned().collect()).unwrap_or_default())
    }

    fn delete_alias(&self, name: &FunctionName, alias: &str) -> Result<bool, StoreError> {
        Ok(self.map().get_mut(name.as_str()).is_some_and(|(_, e)| e.aliases.remove(alias).is_some()))
    }

    fn put_event_invoke_config(
        &self,
        name: &FunctionName,
        qualifier: &str,
        config: &EventInvokeConfig,
    ) -> Result<(), StoreError> {
        let mut map = self.map();
        let (_, e) = map.get_mut(name.as_str()).ok_or_else(|| StoreError::NotFound { name: name.to_string() })?;
        e.event_invoke.insert(qualifier.to_owned(), config.clone());
        Ok(())
    }

    fn get_event_invoke_config(
        &self,
        name: &FunctionName,
        qualifier: &str,
    ) -> Result<Option<EventInvokeConfig>, StoreError> {
        Ok(self.map().get(name.as_str()).and_then(|(_, e)| e.event_invoke.get(qualifier).cloned()))
    }

    fn delete_event_invoke_config(&self, name: &FunctionName, qualifier: &str) -> Result<bool, StoreError> {
        Ok(self.map().get_mut(name.as_str()).is_some_and(|(_, e)| e.event_invoke.remove(qualifier).is_some()))
    }

    fn list_event_invoke_configs(&self, name: &FunctionName) -> Result<Vec<(String, EventInvokeConfig)>, StoreError> {
        Ok(self
            .map()
            .get(name.as_str())
            .map(|(_, e)| e.event_invoke.iter().map(|(q, c)| (q.clone(), c.clone())).collect())
            .unwrap_or_default())
    }

    fn set_reserved_concurrency(&self, name: &FunctionName, reserved: Option<u32>) -> Result<(), StoreError> {
        let mut map = self.map();
        let (_, e) = map.get_mut(name.as_str()).ok_or_else(|| StoreError::NotFound { name: name.to_string() })?;
        e.reserved = reserved;
        Ok(())
    }

    fn reserved_concurrency(&self) -> Result<Vec<(String, u32)>, StoreError> {
        Ok(self.map().iter().filter_map(|(n, (_, e))| e.reserved.map(|r| (n.clone(), r))).collect())
    }

    fn set_provisioned_concurrency(
        &self,
        name: &FunctionName,
        qualifier: &str,
        provisioned: Option<(u32, String)>,
    ) -> Result<(), StoreError> {
        let mut map = self.map();
        let (_, e) = map.get_mut(name.as_str()).ok_or_else(|| StoreError::NotFound { name: name.to_string() })?;
        match provisioned {
            Some(p) => e.provisioned.insert(qualifier.to_owned(), p),
            None => e.provisioned.remove(qualifier),
        };
        Ok(())
    }

    fn provisioned_concurrency(&self) -> Result<Vec<(String, String, u32, String)>, StoreError> {
        Ok(self
            .map()
            .iter()
            .flat_map(|(n, (_, e))| e.provisioned.iter().map(move |(q, (r, m))| (n.clone(), q.clone(), *r, m.clone())))
            .collect())
    }

    fn policy(&self, name: &FunctionName, qualifier: &str) -> Result<Vec<String>, StoreError> {
        Ok(self.map().get(name.as_str()).and_then(|(_, e)| e.policies.get(qualifier).cloned()).unwrap_or_default())
    }

    fn set_policy(&self, name: &FunctionName, qualifier: &str, statements: &[String]) -> Result<(), StoreError> {
        let mut map = self.map();
        let (_, e) = map.get_mut(name.as_str()).ok_or_else(|| StoreError::NotFound { name: name.to_string() })?;
        if statements.is_empty() {
            e.policies.remove(qualifier);
        } else {
            e.policies.insert(qualifier.to_owned(), statements.to_vec());
        }
        Ok(())
    }

    fn publish_layer_version(&self, layer: &mut LayerVersion) -> Result<u64, StoreError> {
        let mut layers = self.layer_map();
        let name = layer.name.as_str().to_owned();
        let last = layers.range((name.clone(), 0)..=(name.clone(), u64::MAX)).next_back().map_or(0, |((_, v), _)| *v);
        layer.version = last + 1;
        layers.insert((name, layer.version), Some(layer.clone()));
        Ok(layer.version)
    }

    fn get_layer_version(&self, name: &LayerName, version: u64) -> Result<Option<LayerVersion>, StoreError> {
        Ok(self.layer_map().get(&(name.as_str().to_owned(), version)).cloned().flatten())
    }

    fn layer_versions(&self, name: Option<&LayerName>) -> Result<Vec<LayerVersion>, StoreError> {
        let layers = self.layer_map();
        let mut out: Vec<LayerVersion> = layers
            .iter()
            .filter(|((n, _), _)| name.is_none_or(|name| name.as_str() == n))
            .filter_map(|(_, l)| l.clone())
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name).then(b.version.cmp(&a.version)));
        Ok(out)
    }

    fn delete_layer_version(&self, name: &LayerName, version: u64) -> Result<bool, StoreError> {
        let mut layers = self.layer_map();
        Ok(layers.get_mut(&(name.as_str().to_owned(), version)).and_then(Option::take).is_some())
    }

    fn referenced_blobs(&self) -> Result<HashSet<String>, StoreError> {
        let map = self.map();
        let mut keys: HashSet<String> = map
            .values()
            .flat_map(|(r, e)| std::iter::once(&r.latest).chain(e.versions.values()))
            .flat_map(|c| std::iter::once(&c.code).chain(c.layers.iter().map(|l| &l.code)))
            .map(|code| code.blob_key.clone())
            .collect();
        keys.extend(self.layer_map().values().flatten().map(|l| l.code.blob_key.clone()));
        Ok(keys)
    }

    fn usage(&self) -> Result<Usage, StoreError> {
        let map = self.map();
        let function_code: u64 = map
            .values()
            .flat_map(|(r, e)| std::iter::once(&r.latest).chain(e.versions.values()))
            .map(|c| c.code.size)
            .sum();
        let layer_code: u64 = self.layer_map().values().flatten().map(|l| l.code.size).sum();
        Ok(Usage { function_count: map.len() as u64, total_code_size: function_code + layer_code })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_store_conforms() {
        crate::record::tests::conformance(&MemoryStore::new());
    }
}
