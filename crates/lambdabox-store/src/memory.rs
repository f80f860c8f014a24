//! An in-memory [`FunctionStore`] for tests of the layers above the store.

use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;

use lambdabox_model::{FunctionConfig, FunctionName};

use crate::{FunctionRecord, FunctionStore, StoreError, Usage};

/// Function metadata in a map; nothing survives the process.
#[derive(Default)]
pub struct MemoryStore {
    functions: Mutex<BTreeMap<String, FunctionRecord>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn map(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, FunctionRecord>> {
        self.functions.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl FunctionStore for MemoryStore {
    fn create(&self, record: &FunctionRecord) -> Result<(), StoreError> {
        let mut map = self.map();
        let name = record.latest.name.to_string();
        if map.contains_key(&name) {
            return Err(StoreError::AlreadyExists { name });
        }
        map.insert(name, record.clone());
        Ok(())
    }

    fn get(&self, name: &FunctionName) -> Result<Option<FunctionRecord>, StoreError> {
        Ok(self.map().get(name.as_str()).cloned())
    }

    fn list(&self, after: Option<&str>, limit: usize) -> Result<Vec<FunctionRecord>, StoreError> {
        let map = self.map();
        let after = after.unwrap_or("");
        Ok(map.iter().filter(|(k, _)| k.as_str() > after).take(limit).map(|(_, v)| v.clone()).collect())
    }

    fn update_latest(&self, config: &FunctionConfig, expected_revision: &str) -> Result<(), StoreError> {
        let mut map = self.map();
        let name = config.name.to_string();
        let record = map.get_mut(&name).ok_or_else(|| StoreError::NotFound { name: name.clone() })?;
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
        let record = map.get_mut(name.as_str()).ok_or_else(|| StoreError::NotFound { name: name.to_string() })?;
        record.tags = tags.clone();
        Ok(())
    }

    fn delete(&self, name: &FunctionName) -> Result<Option<FunctionRecord>, StoreError> {
        Ok(self.map().remove(name.as_str()))
    }

    fn referenced_blobs(&self) -> Result<HashSet<String>, StoreError> {
        Ok(self.map().values().map(|r| r.latest.code.blob_key.clone()).collect())
    }

    fn usage(&self) -> Result<Usage, StoreError> {
        let map = self.map();
        Ok(Usage { function_count: map.len() as u64, total_code_size: map.values().map(|r| r.latest.code.size).sum() })
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
