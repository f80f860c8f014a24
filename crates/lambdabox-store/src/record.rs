//! What the metadata store keeps per function, and the trait over it.

use std::collections::{BTreeMap, HashSet};

use lambdabox_model::{FunctionConfig, FunctionName};

use crate::StoreError;

/// A function: its `$LATEST` configuration and its tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionRecord {
    pub latest: FunctionConfig,
    pub tags: BTreeMap<String, String>,
}

/// Figures for GetAccountSettings' `AccountUsage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usage {
    pub function_count: u64,
    pub total_code_size: u64,
}

/// Durable function metadata. Every method is one transaction.
pub trait FunctionStore: Send + Sync {
    /// Adds a new function; `AlreadyExists` if the name is taken.
    fn create(&self, record: &FunctionRecord) -> Result<(), StoreError>;

    fn get(&self, name: &FunctionName) -> Result<Option<FunctionRecord>, StoreError>;

    /// Functions in name order, starting after `after`, at most `limit`.
    fn list(&self, after: Option<&str>, limit: usize) -> Result<Vec<FunctionRecord>, StoreError>;

    /// Replaces `$LATEST` if its stored revision is still `expected_revision`
    /// (compare-and-swap); `RevisionMismatch` or `NotFound` otherwise.
    fn update_latest(&self, config: &FunctionConfig, expected_revision: &str) -> Result<(), StoreError>;

    /// Replaces the tags of a function.
    fn set_tags(&self, name: &FunctionName, tags: &BTreeMap<String, String>) -> Result<(), StoreError>;

    /// Removes a function and all its versions; the removed record, if any.
    fn delete(&self, name: &FunctionName) -> Result<Option<FunctionRecord>, StoreError>;

    /// Every blob key some version still names.
    fn referenced_blobs(&self) -> Result<HashSet<String>, StoreError>;

    fn usage(&self) -> Result<Usage, StoreError>;
}

#[cfg(test)]
pub(crate) mod tests {
    use lambdabox_model::config::CodeInfo;
    use lambdabox_model::{EphemeralStorage, MemorySize, Timeout};

    use super::*;

    pub(crate) fn record(name: &str, revision: &str) -> FunctionRecord {
        FunctionRecord {
            latest: FunctionConfig {
                name: FunctionName::parse(name).unwrap(),
                version: "$LATEST".into(),
                runtime: "python3.11".into(),
                handler: "app.handler".into(),
                role: "arn:aws:iam::000000000000:role/r".into(),
                description: String::new(),
                timeout: Timeout::default(),
                memory_size: MemorySize::default(),
                ephemeral_storage: EphemeralStorage::default(),
                environment: None,
                layers: vec![],
                vpc: None,
                architectures: vec![Default::default()],
                dead_letter_target_arn: None,
                kms_key_arn: None,
                tracing_mode: "PassThrough".into(),
                code: CodeInfo { sha256: "c2hh".into(), size: 10, unzipped_size: 20, blob_key: format!("blob-{name}") },
                last_modified: "2026-11-28T00:00:00.000+0000".into(),
                revision_id: revision.into(),
            },
            tags: BTreeMap::new(),
        }
    }

    /// The behaviour every implementation must share.
    pub(crate) fn conformance(store: &dyn FunctionStore) {
        let a = record("alpha", "r1");
        store.create(&a).unwrap();
        assert!(matches!(store.create(&a), Err(StoreError::AlreadyExists { .. })));
        assert_eq!(store.get(&a.latest.name).unwrap(), Some(a.clone()));

        for n in ["delta", "charlie", "bravo"] {
            store.create(&record(n, "r1")).unwrap();
        }
        let names = |v: Vec<FunctionRecord>| v.into_iter().map(|r| r.latest.name.to_string()).collect::<Vec<_>>();
        assert_eq!(names(store.list(None, 2).unwrap()), ["alpha", "bravo"]);
        assert_eq!(names(store.list(Some("bravo"), 10).unwrap()), ["charlie", "delta"]);

        let mut updated = a.latest.clone();
        updated.revision_id = "r2".into();
        updated.code.blob_key = "blob-new".into();
        assert!(matches!(store.update_latest(&updated, "wrong"), Err(StoreError::RevisionMismatch { .. })));
        store.update_latest(&updated, "r1").unwrap();
        assert_eq!(store.get(&a.latest.name).unwrap().unwrap().latest.revision_id, "r2");
        let mut ghost = record("ghost", "r1").latest;
        ghost.revision_id = "r2".into();
        assert!(matches!(store.update_latest(&ghost, "r1"), Err(StoreError::NotFound { .. })));

        let tags: BTreeMap<_, _> = [("team".to_string(), "core".to_string())].into();
        store.set_tags(&a.latest.name, &tags).unwrap();
        assert_eq!(store.get(&a.latest.name).unwrap().unwrap().tags, tags);
        assert!(matches!(store.set_tags(&ghost.name, &tags), Err(StoreError::NotFound { .. })));

        let blobs = store.referenced_blobs().unwrap();
        assert!(blobs.contains("blob-new") && !blobs.contains("blob-alpha"));
        assert_eq!(store.usage().unwrap(), Usage { function_count: 4, total_code_size: 40 });

        assert!(store.delete(&a.latest.name).unwrap().is_some());
        assert!(store.delete(&a.latest.name).unwrap().is_none());
        assert!(store.get(&a.latest.name).unwrap().is_none());
        assert!(!store.referenced_blobs().unwrap().contains("blob-new"));
    }
}
