//! [`ControlPlane`]: its configuration, its state, and what every
//! operation shares (resolving a function identifier, views, pages,
//! revision checks). The operations live beside it, one file per resource:
//! `functions.rs`, `code.rs`, `tags.rs`, `versions.rs`, `aliases.rs`, …

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use lambdabox_model::arn::function_arn;
use lambdabox_model::limits::{
    CODE_SIZE_UNZIPPED, CODE_SIZE_ZIPPED, CONCURRENT_EXECUTIONS, LIST_DEFAULT_PAGE, LIST_MAX_ITEMS, TOTAL_CODE_SIZE,
};
use lambdabox_model::name::Foreign;
use lambdabox_model::{AccountId, FunctionConfig, FunctionName, FunctionRef, Region, RuntimeRegistry, ValidationError};
use lambdabox_store::{BlobStore, FunctionRecord, FunctionStore, StoreError, Usage};
use tokio::sync::Mutex;

use crate::code_fetch::CodeFetcher;
use crate::{Change, ChangeListener, ControlError};

/// Settings of the control plane itself.
#[derive(Debug, Clone)]
pub struct ControlPlaneConfig {
    pub account: AccountId,
    pub runtimes: RuntimeRegistry,
    pub concurrent_executions: u32,
    pub total_code_size: u64,
}

impl Default for ControlPlaneConfig {
    fn default() -> Self {
        Self {
            account: AccountId::default(),
            runtimes: RuntimeRegistry::builtin(),
            concurrent_executions: CONCURRENT_EXECUTIONS,
            total_code_size: TOTAL_CODE_SIZE,
        }
    }
}

/// A function as an operation returns it: its configuration, tags and ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionView {
    pub arn: String,
    pub config: FunctionConfig,
    pub tags: BTreeMap<String, String>,
}

/// One page of ListFunctions.
#[derive(Debug, Clone)]
pub struct FunctionPage {
    pub functions: Vec<FunctionView>,
    pub next_marker: Option<String>,
}

/// GetAccountSettings' figures.
#[derive(Debug, Clone, Copy)]
pub struct AccountSettings {
    pub total_code_size: u64,
    pub code_size_unzipped: u64,
    pub code_size_zipped: u64,
    pub concurrent_executions: u32,
    pub unreserved_concurrent_executions: u32,
    pub usage: Usage,
}

/// The Lambda control plane over a metadata store and a blob store.
pub struct ControlPlane {
    pub(crate) store: Arc<dyn FunctionStore>,
    pub(crate) blobs: BlobStore,
    pub(crate) config: ControlPlaneConfig,
    /// Serialises blob writes against blob deletions, so a package being
    /// stored is never collected as unreferenced in between.
    pub(crate) code_lock: Mutex<()>,
    /// Reserved concurrency by function name (see `concurrency.rs`).
    pub(crate) reserved: std::sync::RwLock<std::collections::HashMap<String, u32>>,
    /// Reads `S3Bucket`/`S3Key` packages; without one, S3 sources are refused.
    pub(crate) fetcher: Option<Arc<dyn CodeFetcher>>,
    /// Serialises read-modify-write of resource policies.
    pub(crate) policy_lock: Mutex<()>,
    /// What event sources are (see `event_sources.rs`).
    pub(crate) sources: std::sync::RwLock<Option<Arc<dyn crate::EventSourceCatalog>>>,
    /// Serialises event source mapping writes (one mapping per source and function).
    pub(crate) mapping_lock: Mutex<()>,
    /// Who is told of every committed change.
    listeners: std::sync::RwLock<Vec<Arc<dyn ChangeListener>>>,
}

/// Runs a store call off the async workers (SQLite commits fsync).
pub(crate) async fn blocking<T: Send + 'static>(
    store: &Arc<dyn FunctionStore>,
    f: impl FnOnce(&dyn FunctionStore) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    let store = Arc::clone(store);
    tokio::task::spawn_blocking(move || f(store.as_ref())).await.expect("store calls do not panic")
}

pub(crate) fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3f%z").to_string()
}

pub(crate) fn new_revision() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl ControlPlane {
    pub fn new(store: Arc<dyn FunctionStore>, blobs: BlobStore, config: ControlPlaneConfig) -> Self {
        Self {
            store,
            blobs,
            config,
            code_lock: Mutex::new(()),
            reserved: Default::default(),
            fetcher: None,
            policy_lock: Mutex::new(()),
            sources: Default::default(),
            mapping_lock: Mutex::new(()),
            listeners: Default::default(),
        }
    }

    /// Takes packages named by `S3Bucket`/`S3Key` from this fetcher.
    pub fn with_code_fetcher(mut self, fetcher: Arc<dyn CodeFetcher>) -> Self {
        self.fetcher = Some(fetcher);
        self
    }

    /// Tells `listener` of every change committed from now on.
    pub fn subscribe(&self, listener: Arc<dyn ChangeListener>) {
        self.listeners.write().unwrap_or_else(|p| p.into_inner()).push(listener);
    }

    /// Announces a committed change; returns when every listener is done.
    pub(crate) async fn publish(&self, change: Change) {
        let listeners = self.listeners.read().unwrap_or_else(|p| p.into_inner()).clone();
        for listener in listeners {
            listener.changed(&change).await;
        }
    }

    pub fn account(&self) -> &AccountId {
        &self.config.account
    }

    pub fn blobs(&self) -> &BlobStore {
        &self.blobs
    }

    /// Removes blobs no function names (orphans of a crash mid-write).
    pub async fn collect_garbage(&self) -> Result<usize, ControlError> {
        let _guard = self.code_lock.lock().await;
        let referenced = blocking(&self.store, |s| s.referenced_blobs()).await?;
        Ok(self.blobs.collect_garbage(&referenced).await?)
    }

    pub(crate) fn view(&self, region: &Region, record: FunctionRecord) -> FunctionView {
        FunctionView {
            arn: function_arn(region, &self.config.account, record.latest.name.as_str()),
            config: record.latest,
            tags: record.tags,
        }
    }

    pub(crate) fn not_found(&self, region: &Region, name: &FunctionName, qualifier: Option<&str>) -> ControlError {
        let mut arn = function_arn(region, &self.config.account, name.as_str());
        if let Some(q) = qualifier {
            arn = format!("{arn}:{q}");
        }
        ControlError::FunctionNotFound { arn }
    }

    /// Parses a function identifier and refuses one that names another
    /// account or region than the request's: never act on the local function
    /// of that name.
    pub(crate) fn function_ref(
        &self,
        region: &Region,
        identifier: &str,
        field: &str,
    ) -> Result<FunctionRef, ControlError> {
        let function = FunctionRef::parse(identifier, field)?;
        match function.foreign(&self.config.account, region) {
            None => Ok(function),
            Some(Foreign::Account { .. }) => Err(ControlError::OtherAccount {
                caller: self.config.account.to_string(),
                resource: identifier.to_owned(),
            }),
            Some(Foreign::Region { function_region }) => Err(ControlError::OtherRegion {
                function_region: function_region.to_string(),
                region: region.to_string(),
            }),
        }
    }

    /// Parses a function identifier and loads its record (`$LATEST`, the
    /// only qualifier this accepts).
    pub(crate) async fn load(
        &self,
        region: &Region,
        identifier: &str,
        qualifier: Option<&str>,
    ) -> Result<FunctionRecord, ControlError> {
        let function = self.function_ref(region, identifier, "functionName")?;
        let qualifier = merge_qualifier(&function, qualifier)?;
        let name = function.name.clone();
        let record = blocking(&self.store, move |s| s.get(&name)).await?;
        match (record, qualifier.as_deref()) {
            (Some(r), None | Some("$LATEST")) => Ok(r),
            (_, q) => Err(self.not_found(region, &function.name, q)),
        }
    }

    pub async fn account_settings(&self) -> Result<AccountSettings, ControlError> {
        let usage = blocking(&self.store, |s| s.usage()).await?;
        Ok(AccountSettings {
            total_code_size: self.config.total_code_size,
            code_size_unzipped: CODE_SIZE_UNZIPPED,
            code_size_zipped: CODE_SIZE_ZIPPED,
            concurrent_executions: self.config.concurrent_executions,
            unreserved_concurrent_executions: self.unreserved_limit(),
            usage,
        })
    }

    /// The stored zip of a function's code, by its content address.
    pub async fn code(&self, blob_key: &str) -> Result<Bytes, ControlError> {
        Ok(self.blobs.get(blob_key).await?)
    }
}

/// The qualifier of a request: the one in the identifier (`name:alias`) or
/// the `Qualifier` parameter; AWS refuses the two when they differ.
pub(crate) fn merge_qualifier(function: &FunctionRef, qualifier: Option<&str>) -> Result<Option<String>, ControlError> {
    match (function.qualifier.as_ref().map(|q| q.as_str()), qualifier) {
        (Some(a), Some(b)) if a != b => Err(ValidationError::new(
            b,
            "qualifier",
            "The derived qualifier from the function name does not match the specified qualifier.",
        )
        .into()),
        (a, b) => Ok(a.or(b).map(str::to_owned)),
    }
}

/// A list operation's page size: `MaxItems` (1 to 10,000) or the default.
pub(crate) fn page_limit(max_items: Option<i64>) -> Result<usize, ControlError> {
    match max_items {
        None => Ok(LIST_DEFAULT_PAGE),
        Some(n) if n < 1 => Err(ValidationError::min_value(n, "maxItems", 1).into()),
        Some(n) if n > LIST_MAX_ITEMS => Err(ValidationError::max_value(n, "maxItems", LIST_MAX_ITEMS).into()),
        Some(n) => Ok(n as usize),
    }
}

pub(crate) fn check_revision(current: &FunctionConfig, given: Option<&str>) -> Result<(), ControlError> {
    match given {
        Some(r) if r != current.revision_id => Err(ControlError::RevisionMismatch),
        _ => Ok(()),
    }
}

/// ListFunctions markers are opaque to clients: the last name, base64.
pub(crate) fn encode_marker(name: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(name)
}

pub(crate) fn decode_marker(marker: &str) -> Result<String, ControlError> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(marker)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            ValidationError::new(marker, "marker", "Member must be a marker returned by ListFunctions").into()
        })
}

#[cfg(test)]
mod tests {
    use lambdabox_model::limits::{CODE_SIZE_UNZIPPED, CODE_SIZE_ZIPPED};

    use super::*;
    use crate::test_support::*;

    #[test]
    fn qualifiers_from_the_name_and_the_parameter_must_agree() {
        let parse = |s: &str| FunctionRef::parse(s, "functionName").unwrap();
        assert_eq!(merge_qualifier(&parse("f"), None).unwrap(), None);
        assert_eq!(merge_qualifier(&parse("f"), Some("2")).unwrap().as_deref(), Some("2"));
        assert_eq!(merge_qualifier(&parse("f:live"), None).unwrap().as_deref(), Some("live"));
        assert_eq!(merge_qualifier(&parse("f:live"), Some("live")).unwrap().as_deref(), Some("live"));
        let e = merge_qualifier(&parse("f:live"), Some("$LATEST")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "1 validation error detected: Value '$LATEST' at 'qualifier' failed to satisfy constraint: The derived qualifier from the function name does not match the specified qualifier."
        );
    }

    #[test]
    fn page_limits_markers_and_revisions() {
        assert_eq!(page_limit(None).unwrap(), 50);
        assert_eq!(page_limit(Some(1)).unwrap(), 1);
        assert_eq!(page_limit(Some(10_000)).unwrap(), 10_000);
        assert_validation(page_limit(Some(0)).unwrap_err(), "maxItems", "greater than or equal to 1");
        assert_validation(page_limit(Some(10_001)).unwrap_err(), "maxItems", "less than or equal to 10000");

        for name in ["f", "a-b_c", "$LATEST", "12"] {
            assert_eq!(decode_marker(&encode_marker(name)).unwrap(), name);
        }
        assert_ne!(encode_marker("f"), "f", "markers are opaque");
        for bad in ["***", "a b"] {
            assert_eq!(validation(decode_marker(bad).unwrap_err()).field, "marker");
        }
        // Valid base64 that is not UTF-8 is not a marker either.
        assert!(decode_marker("_w").is_err());

        let config = FunctionConfig { revision_id: "r1".into(), ..config_fixture() };
        assert!(check_revision(&config, None).is_ok());
        assert!(check_revision(&config, Some("r1")).is_ok());
        assert!(matches!(check_revision(&config, Some("r2")), Err(ControlError::RevisionMismatch)));
    }

    fn config_fixture() -> FunctionConfig {
        FunctionConfig {
            name: FunctionName::parse("f").unwrap(),
            version: "$LATEST".into(),
            runtime: "python3.12".into(),
            handler: "app.handler".into(),
            role: ROLE.into(),
            description: String::new(),
            timeout: Default::default(),
            memory_size: Default::default(),
            ephemeral_storage: Default::default(),
            environment: None,
            layers: vec![],
            vpc: None,
            architectures: vec![],
            dead_letter_target_arn: None,
            kms_key_arn: None,
            tracing_mode: "PassThrough".into(),
            code: lambdabox_model::config::CodeInfo {
                sha256: String::new(),
                size: 0,
                unzipped_size: 0,
                blob_key: String::new(),
            },
            last_modified: String::new(),
            revision_id: String::new(),
        }
    }

    #[tokio::test]
    async fn account_settings_report_limits_and_usage() {
        let h = Harness::new();
        let empty = h.plane.account_settings().await.unwrap();
        assert_eq!((empty.usage.function_count, empty.usage.total_code_size), (0, 0));
        assert_eq!(empty.total_code_size, TOTAL_CODE_SIZE);
        assert_eq!((empty.code_size_zipped, empty.code_size_unzipped), (CODE_SIZE_ZIPPED, CODE_SIZE_UNZIPPED));
        assert_eq!((empty.concurrent_executions, empty.unreserved_concurrent_executions), (1000, 1000));

        h.create("f").await;
        h.create("g").await;
        h.publish_layer("l", package(1)).await;
        let size = package(0).len() as u64;
        let usage = h.plane.account_settings().await.unwrap().usage;
        assert_eq!((usage.function_count, usage.total_code_size), (2, 3 * size));
    }

    #[tokio::test]
    async fn another_account_is_configured_whole() {
        let account = AccountId::parse("123456789012").unwrap();
        let h = Harness::with_config(ControlPlaneConfig { account: account.clone(), ..Default::default() });
        assert_eq!(h.plane.account(), &account);
        let view = h.plane.create_function(&h.region, create_req("123456789012:function:f")).await.unwrap();
        assert_eq!(view.arn, "arn:aws:lambda:us-east-1:123456789012:function:f");
        let e = h
            .plane
            .get_function(&h.region, "arn:aws:lambda:us-east-1:000000000000:function:f", None)
            .await
            .unwrap_err();
        assert!(matches!(&e, ControlError::OtherAccount { caller, .. } if caller == "123456789012"), "{e:?}");
        assert_eq!(
            e.to_string(),
            "User: arn:aws:iam::123456789012:root is not authorized to perform this action on resource: arn:aws:lambda:us-east-1:000000000000:function:f"
        );
        let eu = Region::parse("eu-west-1").unwrap();
        assert!(
            matches!(h.plane.get_function(&eu, "f", None).await, Ok(v) if v.arn == "arn:aws:lambda:eu-west-1:123456789012:function:f")
        );
        let e = h.plane.get_function(&eu, "arn:aws:lambda:us-east-1:123456789012:function:f", None).await.unwrap_err();
        assert_eq!(e.to_string(), "Functions from 'us-east-1' are not reachable in this region ('eu-west-1')");
    }

    #[tokio::test]
    async fn garbage_is_what_no_function_names() {
        let h = Harness::new();
        let f = h.create("f").await;
        h.plane.blobs().put("0123orphan", bytes::Bytes::from_static(b"x")).await.unwrap();
        assert_eq!(h.plane.collect_garbage().await.unwrap(), 1);
        assert!(!h.has_blob("0123orphan").await);
        assert_eq!(h.plane.code(&f.config.code.blob_key).await.unwrap(), package(0));
        assert_eq!(h.plane.collect_garbage().await.unwrap(), 0);
        assert!(matches!(h.plane.code("ffff").await, Err(ControlError::Store(_))));
        assert!(h.plane.code("ffff").await.unwrap_err().is_internal());
    }

    #[tokio::test]
    async fn every_listener_hears_every_change() {
        let h = Harness::new();
        let second = std::sync::Arc::new(Recorder::default());
        h.plane.subscribe(second.clone());
        h.create("f").await;
        h.plane.delete_function(&h.region, "f", None).await.unwrap();
        assert_eq!(h.changes(), [deleted("f")]);
        assert_eq!(second.take(), [created("f"), deleted("f")]);
    }
}
