//! What the metadata store keeps per function, and the trait over it.

use std::collections::{BTreeMap, HashSet};

use lambdabox_model::alias::AliasConfig;
use lambdabox_model::event_invoke::EventInvokeConfig;
use lambdabox_model::event_source::EventSourceMapping;
use lambdabox_model::layer::{LayerName, LayerVersion};
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

    /// The record if it is in memory already (never blocks on I/O); stores
    /// without a cache have nothing to peek at.
    fn peek(&self, _name: &FunctionName) -> Option<FunctionRecord> {
        None
    }

    /// A published version's configuration if it is in memory already.
    fn peek_version(&self, _name: &FunctionName, _version: &str) -> Option<FunctionConfig> {
        None
    }

    /// An alias if it is in memory already.
    fn peek_alias(&self, _name: &FunctionName, _alias: &str) -> Option<AliasConfig> {
        None
    }

    /// Functions in name order, starting after `after`, at most `limit`.
    fn list(&self, after: Option<&str>, limit: usize) -> Result<Vec<FunctionRecord>, StoreError>;

    /// Replaces `$LATEST` if its stored revision is still `expected_revision`
    /// (compare-and-swap); `RevisionMismatch` or `NotFound` otherwise.
    fn update_latest(&self, config: &FunctionConfig, expected_revision: &str) -> Result<(), StoreError>;

    /// Replaces the tags of a function.
    fn set_tags(&self, name: &FunctionName, tags: &BTreeMap<String, String>) -> Result<(), StoreError>;

    /// Removes a function and all its versions; the removed record, if any.
    fn delete(&self, name: &FunctionName) -> Result<Option<FunctionRecord>, StoreError>;

    /// Every version, `$LATEST` first, then published ones in number order.
    fn list_versions(&self, name: &FunctionName) -> Result<Vec<FunctionConfig>, StoreError>;

    fn get_version(&self, name: &FunctionName, version: &str) -> Result<Option<FunctionConfig>, StoreError>;

    /// The highest version number ever published (deleted ones included).
    fn last_version(&self, name: &FunctionName) -> Result<u64, StoreError>;

    /// Adds `config` (whose `version` must be [`Self::last_version`] + 1) as a
    /// published version, if `$LATEST` is still at `expected_latest_revision`.
    fn publish_version(&self, config: &FunctionConfig, expected_latest_revision: &str) -> Result<(), StoreError>;

    /// Removes one published version; refused while an alias points at it.
    fn delete_version(&self, name: &FunctionName, version: &str) -> Result<Option<FunctionConfig>, StoreError>;

    /// Creates an alias (`expected_revision` None) or replaces one whose
    /// revision is still `expected_revision`.
    fn put_alias(
        &self,
        name: &FunctionName,
        alias: &AliasConfig,
        expected_revision: Option<&str>,
    ) -> Result<(), StoreError>;

    fn get_alias(&self, name: &FunctionName, alias: &str) -> Result<Option<AliasConfig>, StoreError>;

    /// Aliases in name order.
    fn list_aliases(&self, name: &FunctionName) -> Result<Vec<AliasConfig>, StoreError>;

    fn delete_alias(&self, name: &FunctionName, alias: &str) -> Result<bool, StoreError>;

    /// Sets the asynchronous invocation settings of a version or alias
    /// (`qualifier`, `$LATEST` for the unqualified function).
    fn put_event_invoke_config(
        &self,
        name: &FunctionName,
        qualifier: &str,
        config: &EventInvokeConfig,
    ) -> Result<(), StoreError>;

    fn get_event_invoke_config(
        &self,
        name: &FunctionName,
        qualifier: &str,
    ) -> Result<Option<EventInvokeConfig>, StoreError>;

    fn delete_event_invoke_config(&self, name: &FunctionName, qualifier: &str) -> Result<bool, StoreError>;

    /// Every qualifier's settings, by qualifier.
    fn list_event_invoke_configs(&self, name: &FunctionName) -> Result<Vec<(String, EventInvokeConfig)>, StoreError>;

    /// Adds or replaces an event source mapping (by its UUID).
    fn put_event_source_mapping(&self, mapping: &EventSourceMapping) -> Result<(), StoreError>;

    fn get_event_source_mapping(&self, uuid: &str) -> Result<Option<EventSourceMapping>, StoreError>;

    /// Whether there was one to delete.
    fn delete_event_source_mapping(&self, uuid: &str) -> Result<bool, StoreError>;

    /// Every mapping, oldest first.
    fn list_event_source_mappings(&self) -> Result<Vec<EventSourceMapping>, StoreError>;

    /// Sets (Some) or removes (None) a function's reserved concurrency.
    fn set_reserved_concurrency(&self, name: &FunctionName, reserved: Option<u32>) -> Result<(), StoreError>;

    /// Every function's reserved concurrency.
    fn reserved_concurrency(&self) -> Result<Vec<(String, u32)>, StoreError>;

    /// Sets (Some) or removes (None) the provisioned concurrency of a version or alias.
    fn set_provisioned_concurrency(
        &self,
        name: &FunctionName,
        qualifier: &str,
        provisioned: Option<(u32, String)>,
    ) -> Result<(), StoreError>;

    /// Every provisioned concurrency setting: (function, qualifier, requested, last modified).
    fn provisioned_concurrency(&self) -> Result<Vec<(String, String, u32, String)>, StoreError>;

    /// A function version's or alias's resource-based policy statements
    /// (each a JSON object), in the order they were added.
    fn policy(&self, name: &FunctionName, qualifier: &str) -> Result<Vec<String>, StoreError>;

    /// Replaces the policy statements of a version or alias (none removes the policy).
    fn set_policy(&self, name: &FunctionName, qualifier: &str, statements: &[String]) -> Result<(), StoreError>;

    /// Stores a new layer version, numbering it one more than any version
    /// the layer ever had; returns the number (also set in `layer`).
    fn publish_layer_version(&self, layer: &mut LayerVersion) -> Result<u64, StoreError>;

    /// A layer version that exists (not deleted).
    fn get_layer_version(&self, name: &LayerName, version: u64) -> Result<Option<LayerVersion>, StoreError>;

    /// Every layer version that exists, by layer name, then newest first.
    fn layer_versions(&self, name: Option<&LayerName>) -> Result<Vec<LayerVersion>, StoreError>;

    /// Deletes a layer version; false if it did not exist. Its number is not reused.
    fn delete_layer_version(&self, name: &LayerName, version: u64) -> Result<bool, StoreError>;

    /// Every blob key some function version or existing layer version still
    /// names (function versions keep the layers they reference).
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

    fn versions_and_aliases(store: &dyn FunctionStore, name: &FunctionName) {
        let latest = store.get(name).unwrap().unwrap().latest;
        assert_eq!(store.last_version(name).unwrap(), 0);
        let mut v1 = latest.clone();
        v1.version = "1".into();
        assert!(matches!(store.publish_version(&v1, "stale"), Err(StoreError::RevisionMismatch { .. })));
        store.publish_version(&v1, &latest.revision_id).unwrap();
        assert!(matches!(store.publish_version(&v1, &latest.revision_id), Err(StoreError::VersionConflict { .. })));
        let mut v2 = latest.clone();
        v2.version = "2".into();
        store.publish_version(&v2, &latest.revision_id).unwrap();
        assert_eq!(store.last_version(name).unwrap(), 2);
        let versions: Vec<_> = store.list_versions(name).unwrap().into_iter().map(|c| c.version).collect();
        assert_eq!(versions, ["$LATEST", "1", "2"]);
        assert_eq!(store.get_version(name, "1").unwrap().unwrap().version, "1");

        let alias = AliasConfig {
            name: "live".into(),
            function_version: "1".into(),
            description: String::new(),
            additional_version_weights: BTreeMap::new(),
            revision_id: "a1".into(),
        };
        store.put_alias(name, &alias, None).unwrap();
        assert!(matches!(store.put_alias(name, &alias, None), Err(StoreError::AliasExists { .. })));
        let moved = AliasConfig { function_version: "2".into(), revision_id: "a2".into(), ..alias.clone() };
        assert!(matches!(store.put_alias(name, &moved, Some("zz")), Err(StoreError::RevisionMismatch { .. })));
        store.put_alias(name, &moved, Some("a1")).unwrap();
        assert_eq!(store.get_alias(name, "live").unwrap().unwrap().function_version, "2");
        assert!(matches!(store.delete_version(name, "2"), Err(StoreError::VersionInUse { .. })));
        assert!(store.delete_version(name, "1").unwrap().is_some());
        assert!(store.delete_version(name, "1").unwrap().is_none());
        assert_eq!(store.last_version(name).unwrap(), 2);
        assert_eq!(store.list_aliases(name).unwrap().len(), 1);
        assert!(store.delete_alias(name, "live").unwrap());
        assert!(!store.delete_alias(name, "live").unwrap());
        let eic = EventInvokeConfig { maximum_retry_attempts: Some(0), ..Default::default() };
        store.put_event_invoke_config(name, "$LATEST", &eic).unwrap();
        assert_eq!(store.get_event_invoke_config(name, "$LATEST").unwrap(), Some(eic.clone()));
        assert_eq!(store.list_event_invoke_configs(name).unwrap(), vec![("$LATEST".to_string(), eic)]);
        assert!(store.delete_event_invoke_config(name, "$LATEST").unwrap());
        assert!(store.get_event_invoke_config(name, "$LATEST").unwrap().is_none());
        store.set_reserved_concurrency(name, Some(5)).unwrap();
        assert_eq!(store.reserved_concurrency().unwrap(), vec![(name.to_string(), 5)]);
        store.set_reserved_concurrency(name, None).unwrap();
        assert!(store.reserved_concurrency().unwrap().is_empty());
        store.set_provisioned_concurrency(name, "2", Some((3, "t".into()))).unwrap();
        assert_eq!(store.provisioned_concurrency().unwrap(), vec![(name.to_string(), "2".into(), 3, "t".into())]);
        store.set_provisioned_concurrency(name, "2", None).unwrap();
        assert!(store.provisioned_concurrency().unwrap().is_empty());
        let mut stray = moved.clone();
        stray.revision_id = "x".into();
        assert!(matches!(store.put_alias(name, &stray, Some("x")), Err(StoreError::AliasNotFound { .. })));
    }

    fn policies(store: &dyn FunctionStore, name: &FunctionName) {
        assert!(store.policy(name, "$LATEST").unwrap().is_empty());
        store.set_policy(name, "$LATEST", &["{\"Sid\":\"a\"}".into(), "{\"Sid\":\"b\"}".into()]).unwrap();
        store.set_policy(name, "live", &["{\"Sid\":\"c\"}".into()]).unwrap();
        assert_eq!(store.policy(name, "$LATEST").unwrap().len(), 2);
        store.set_policy(name, "$LATEST", &[]).unwrap();
        assert!(store.policy(name, "$LATEST").unwrap().is_empty());
        assert_eq!(store.policy(name, "live").unwrap(), ["{\"Sid\":\"c\"}"]);
    }

    fn layers(store: &dyn FunctionStore) {
        use lambdabox_model::layer::{FunctionLayer, LayerName, LayerVersion};
        let name = LayerName::parse("deps", "layerName").unwrap();
        let layer = |blob: &str| LayerVersion {
            name: name.clone(),
            version: 0,
            description: String::new(),
            created_date: "t".into(),
            compatible_runtimes: vec!["python3.12".into()],
            compatible_architectures: vec![],
            license_info: None,
            code: CodeInfo { sha256: "s".into(), size: 7, unzipped_size: 9, blob_key: blob.into() },
        };
        let before = store.usage().unwrap().total_code_size;
        assert_eq!(store.publish_layer_version(&mut layer("layer-1")).unwrap(), 1);
        let mut second = layer("layer-2");
        assert_eq!(store.publish_layer_version(&mut second).unwrap(), 2);
        assert_eq!(second.version, 2);
        assert_eq!(store.get_layer_version(&name, 2).unwrap(), Some(second.clone()));
        assert_eq!(store.usage().unwrap().total_code_size, before + 14);
        let listed: Vec<u64> = store.layer_versions(Some(&name)).unwrap().iter().map(|l| l.version).collect();
        assert_eq!(listed, [2, 1]);
        // A function that uses version 2 keeps its blob after the version is deleted.
        let mut user = record("layer-user", "r1");
        user.latest.layers = vec![FunctionLayer { arn: "arn".into(), code: second.code.clone() }];
        store.create(&user).unwrap();
        assert!(store.delete_layer_version(&name, 2).unwrap());
        assert!(!store.delete_layer_version(&name, 2).unwrap());
        assert!(store.get_layer_version(&name, 2).unwrap().is_none());
        let blobs = store.referenced_blobs().unwrap();
        assert!(blobs.contains("layer-1") && blobs.contains("layer-2"));
        assert!(store.delete(&user.latest.name).unwrap().is_some());
        assert!(!store.referenced_blobs().unwrap().contains("layer-2"));
        // Numbers are never reused.
        assert_eq!(store.publish_layer_version(&mut layer("layer-3")).unwrap(), 3);
        assert_eq!(store.layer_versions(None).unwrap().len(), 2);
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

        versions_and_aliases(store, &a.latest.name);
        policies(store, &a.latest.name);
        layers(store);

        assert!(store.delete(&a.latest.name).unwrap().is_some());
        assert!(store.delete(&a.latest.name).unwrap().is_none());
        assert!(store.list_aliases(&a.latest.name).unwrap().is_empty());
        assert!(store.list_versions(&a.latest.name).unwrap().is_empty());
        assert!(store.get(&a.latest.name).unwrap().is_none());
        assert!(!store.referenced_blobs().unwrap().contains("blob-new"));
    }
}
