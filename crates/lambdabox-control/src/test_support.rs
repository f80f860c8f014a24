//! What the unit tests share: a control plane over an in-memory SQLite
//! store (behind the cache, as the server runs it) and a blob store in a
//! temporary directory; packages built in memory; a listener that records
//! every announced change; and a store another writer races.

use std::collections::{BTreeMap, HashSet};
use std::io::{Cursor, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use lambdabox_model::alias::AliasConfig;
use lambdabox_model::event_invoke::EventInvokeConfig;
use lambdabox_model::event_source::EventSourceMapping;
use lambdabox_model::layer::{LayerName, LayerVersion};
use lambdabox_model::{FunctionConfig, FunctionName, Region, ValidationError};
use lambdabox_store::{BlobStore, CachedStore, FunctionRecord, FunctionStore, SqliteStore, StoreError, Usage};
use zip::CompressionMethod;
use zip::write::SimpleFileOptions;

use crate::{
    Change, ChangeListener, CodeFetcher, CodeSource, ControlError, ControlPlane, ControlPlaneConfig, CreateFunction,
    FunctionView, LayerVersionView, PublishLayerVersion,
};

pub(crate) const ROLE: &str = "arn:aws:iam::000000000000:role/lambda-role";

/// A zip of files (name, contents), stored uncompressed (so contents of
/// the same length make zips of the same size).
pub(crate) fn zip_of(files: &[(&str, &[u8])]) -> Bytes {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    for (name, data) in files {
        w.start_file(*name, options).unwrap();
        w.write_all(data).unwrap();
    }
    Bytes::from(w.finish().unwrap().into_inner())
}

/// A zip of files and symbolic links: (name, contents or link target, is a link).
pub(crate) fn zip_with_links(entries: &[(&str, &str, bool)]) -> Bytes {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data, link) in entries {
        if *link {
            w.add_symlink(*name, *data, SimpleFileOptions::default()).unwrap();
        } else if name.ends_with('/') {
            w.add_directory(*name, SimpleFileOptions::default()).unwrap();
        } else {
            w.start_file(*name, SimpleFileOptions::default()).unwrap();
            w.write_all(data.as_bytes()).unwrap();
        }
    }
    Bytes::from(w.finish().unwrap().into_inner())
}

/// A small Python package; `n` changes its content (and so its CodeSha256),
/// not its size.
pub(crate) fn package(n: u32) -> Bytes {
    zip_of(&[("app.py", format!("def handler(event, context):\n    return {n:04}\n").as_bytes())])
}

/// A package whose one file unzips to `size` bytes of zeros (deflated, so
/// the zip itself is small).
pub(crate) fn package_unzipping_to(size: u64) -> Bytes {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options =
        SimpleFileOptions::default().compression_method(CompressionMethod::Deflated).compression_level(Some(1));
    w.start_file("big.bin", options).unwrap();
    let chunk = vec![0u8; 1 << 20];
    let mut left = size;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        w.write_all(&chunk[..n]).unwrap();
        left -= n as u64;
    }
    Bytes::from(w.finish().unwrap().into_inner())
}

/// CreateFunction for a Python function with [`package`]`(0)`.
pub(crate) fn create_req(name: &str) -> CreateFunction {
    CreateFunction {
        function_name: name.into(),
        runtime: Some("python3.12".into()),
        handler: Some("app.handler".into()),
        role: Some(ROLE.into()),
        code: Some(CodeSource::Zip(package(0))),
        ..Default::default()
    }
}

/// PublishLayerVersion of `zip`.
pub(crate) fn layer_req(zip: Bytes) -> PublishLayerVersion {
    PublishLayerVersion { content: Some(CodeSource::Zip(zip)), ..Default::default() }
}

/// The constraint failure inside `e`; panics on any other error.
#[track_caller]
pub(crate) fn validation(e: ControlError) -> ValidationError {
    match e {
        ControlError::Validation(v) => v,
        other => panic!("expected a ValidationException, got {other:?}"),
    }
}

/// Asserts `e` is a constraint failure of `field` whose constraint contains `constraint`.
#[track_caller]
pub(crate) fn assert_validation(e: ControlError, field: &str, constraint: &str) {
    let v = validation(e);
    assert_eq!(v.field, field, "{v}");
    assert!(v.constraint.contains(constraint), "{v}");
}

/// Records every change the control plane announces.
#[derive(Default)]
pub(crate) struct Recorder(Mutex<Vec<Change>>);

impl Recorder {
    /// The changes announced since the last call.
    pub(crate) fn take(&self) -> Vec<Change> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

#[async_trait]
impl ChangeListener for Recorder {
    async fn changed(&self, change: &Change) {
        self.0.lock().unwrap().push(change.clone());
    }
}

pub(crate) fn created(name: &str) -> Change {
    Change::FunctionCreated { name: name.into() }
}
pub(crate) fn code_updated(name: &str) -> Change {
    Change::CodeUpdated { name: name.into() }
}
pub(crate) fn config_updated(name: &str) -> Change {
    Change::ConfigurationUpdated { name: name.into() }
}
pub(crate) fn published(name: &str, version: &str) -> Change {
    Change::VersionPublished { name: name.into(), version: version.into() }
}
pub(crate) fn version_deleted(name: &str, version: &str) -> Change {
    Change::VersionDeleted { name: name.into(), version: version.into() }
}
pub(crate) fn alias_changed(name: &str, alias: &str) -> Change {
    Change::AliasChanged { name: name.into(), alias: alias.into() }
}
pub(crate) fn deleted(name: &str) -> Change {
    Change::FunctionDeleted { name: name.into() }
}
pub(crate) fn concurrency_changed(name: &str) -> Change {
    Change::ConcurrencyChanged { name: name.into() }
}

/// A control plane with a recording listener, over its own stores.
pub(crate) struct Harness {
    pub(crate) plane: ControlPlane,
    pub(crate) store: Arc<dyn FunctionStore>,
    pub(crate) changes: Arc<Recorder>,
    pub(crate) region: Region,
    _blob_dir: tempfile::TempDir,
}

impl Harness {
    pub(crate) fn new() -> Self {
        Self::with_config(ControlPlaneConfig::default())
    }

    pub(crate) fn with_config(config: ControlPlaneConfig) -> Self {
        Self::build(Arc::new(CachedStore::new(SqliteStore::open_in_memory().unwrap())), config, None)
    }

    pub(crate) fn build(
        store: Arc<dyn FunctionStore>,
        config: ControlPlaneConfig,
        fetcher: Option<Arc<dyn CodeFetcher>>,
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobStore::local(&dir.path().join("blobs")).unwrap();
        let mut plane = ControlPlane::new(Arc::clone(&store), blobs, config);
        if let Some(fetcher) = fetcher {
            plane = plane.with_code_fetcher(fetcher);
        }
        let changes = Arc::new(Recorder::default());
        plane.subscribe(changes.clone());
        Self { plane, store, changes, region: Region::default(), _blob_dir: dir }
    }

    /// The changes announced since the last call.
    pub(crate) fn changes(&self) -> Vec<Change> {
        self.changes.take()
    }

    /// Creates a function from [`create_req`] and forgets its announcement.
    pub(crate) async fn create(&self, name: &str) -> FunctionView {
        self.create_with(create_req(name)).await
    }

    pub(crate) async fn create_with(&self, req: CreateFunction) -> FunctionView {
        let view = self.plane.create_function(&self.region, req).await.unwrap();
        self.changes.take();
        view
    }

    /// Changes `$LATEST`'s description (so a new version can be published).
    pub(crate) async fn touch(&self, name: &str, description: &str) {
        let req = crate::UpdateFunctionConfiguration { description: Some(description.into()), ..Default::default() };
        self.plane.update_function_configuration(&self.region, name, req).await.unwrap();
        self.changes.take();
    }

    /// Changes `$LATEST`'s timeout and publishes it; the new version's number.
    pub(crate) async fn publish_new(&self, name: &str, timeout: i64) -> String {
        let req = crate::UpdateFunctionConfiguration { timeout: Some(timeout), ..Default::default() };
        self.plane.update_function_configuration(&self.region, name, req).await.unwrap();
        let view = self.plane.publish_version(&self.region, name, None, None, None).await.unwrap();
        self.changes.take();
        view.config.version
    }

    pub(crate) async fn publish_layer(&self, name: &str, zip: Bytes) -> LayerVersionView {
        self.plane.publish_layer_version(&self.region, name, layer_req(zip)).await.unwrap()
    }

    /// Whether the blob store still holds `key`.
    pub(crate) async fn has_blob(&self, key: &str) -> bool {
        self.plane.code(key).await.is_ok()
    }
}

/// A store another writer races: before each of the next `n` `$LATEST`
/// updates (see [`Interfering::interfere`]), another writer commits a new
/// `$LATEST` first (its description says how many it wrote).
pub(crate) struct Interfering {
    inner: SqliteStore,
    remaining: AtomicUsize,
    written: AtomicUsize,
}

impl Interfering {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            inner: SqliteStore::open_in_memory().unwrap(),
            remaining: AtomicUsize::new(0),
            written: AtomicUsize::new(0),
        })
    }

    /// Lets another writer commit before each of the next `n` updates.
    pub(crate) fn interfere(&self, n: usize) {
        self.remaining.store(n, Ordering::SeqCst);
    }

    /// How many updates the other writer committed.
    pub(crate) fn written(&self) -> usize {
        self.written.load(Ordering::SeqCst)
    }

    fn other_writer(&self, name: &FunctionName) {
        let mut latest = self.inner.get(name).unwrap().unwrap().latest;
        let expected = latest.revision_id.clone();
        let n = self.written.fetch_add(1, Ordering::SeqCst) + 1;
        latest.description = format!("other writer {n}");
        latest.revision_id = format!("other-{n}");
        self.inner.update_latest(&latest, &expected).unwrap();
    }
}

impl FunctionStore for Interfering {
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
    fn update_latest(&self, config: &FunctionConfig, expected_revision: &str) -> Result<(), StoreError> {
        if self.remaining.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok() {
            self.other_writer(&config.name);
        }
        self.inner.update_latest(config, expected_revision)
    }

    fn create(&self, record: &FunctionRecord) -> Result<(), StoreError> {
        self.inner.create(record)
    }
    fn get(&self, name: &FunctionName) -> Result<Option<FunctionRecord>, StoreError> {
        self.inner.get(name)
    }
    fn list(&self, after: Option<&str>, limit: usize) -> Result<Vec<FunctionRecord>, StoreError> {
        self.inner.list(after, limit)
    }
    fn set_tags(&self, name: &FunctionName, tags: &BTreeMap<String, String>) -> Result<(), StoreError> {
        self.inner.set_tags(name, tags)
    }
    fn delete(&self, name: &FunctionName) -> Result<Option<FunctionRecord>, StoreError> {
        self.inner.delete(name)
    }
    fn list_versions(&self, name: &FunctionName) -> Result<Vec<FunctionConfig>, StoreError> {
        self.inner.list_versions(name)
    }
    fn get_version(&self, name: &FunctionName, version: &str) -> Result<Option<FunctionConfig>, StoreError> {
        self.inner.get_version(name, version)
    }
    fn last_version(&self, name: &FunctionName) -> Result<u64, StoreError> {
        self.inner.last_version(name)
    }
    fn publish_version(&self, config: &FunctionConfig, expected_latest_revision: &str) -> Result<(), StoreError> {
        self.inner.publish_version(config, expected_latest_revision)
    }
    fn delete_version(&self, name: &FunctionName, version: &str) -> Result<Option<FunctionConfig>, StoreError> {
        self.inner.delete_version(name, version)
    }
    fn put_alias(
        &self,
        name: &FunctionName,
        alias: &AliasConfig,
        expected_revision: Option<&str>,
    ) -> Result<(), StoreError> {
        self.inner.put_alias(name, alias, expected_revision)
    }
    fn get_alias(&self, name: &FunctionName, alias: &str) -> Result<Option<AliasConfig>, StoreError> {
        self.inner.get_alias(name, alias)
    }
    fn list_aliases(&self, name: &FunctionName) -> Result<Vec<AliasConfig>, StoreError> {
        self.inner.list_aliases(name)
    }
    fn delete_alias(&self, name: &FunctionName, alias: &str) -> Result<bool, StoreError> {
        self.inner.delete_alias(name, alias)
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
