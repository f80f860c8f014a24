//! [`ControlPlane`]: create, read, update and delete functions.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use lambdabox_model::arn::function_arn;
use lambdabox_model::config::{CodeInfo, parse_description, parse_role};
use lambdabox_model::layer::{FunctionLayer, LayerVersionArn};
use lambdabox_model::limits::{
    CODE_REQUEST_BODY, CODE_SIZE_UNZIPPED, CODE_SIZE_ZIPPED, CONCURRENT_EXECUTIONS, LAYERS_MAX, LIST_DEFAULT_PAGE,
    LIST_MAX_ITEMS, TOTAL_CODE_SIZE,
};
use lambdabox_model::name::Foreign;
use lambdabox_model::{
    AccountId, Architecture, CodePackage, Environment, EphemeralStorage, FunctionConfig, FunctionName, FunctionRef,
    MemorySize, Region, RuntimeRegistry, Timeout, ValidationError, VpcConfig,
};
use lambdabox_store::{BlobStore, FunctionRecord, FunctionStore, StoreError, Usage};
use tokio::sync::Mutex;

use crate::ControlError;
use crate::code_fetch::CodeFetcher;
use crate::input::{CodeSource, CreateFunction, UpdateFunctionCode, UpdateFunctionConfiguration};
use crate::tags::validate_tags;

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
    blobs: BlobStore,
    pub(crate) config: ControlPlaneConfig,
    /// Serialises blob writes against blob deletions, so a package being
    /// stored is never collected as unreferenced in between.
    pub(crate) code_lock: Mutex<()>,
    /// Reserved concurrency by function name (see `concurrency.rs`).
    pub(crate) reserved: std::sync::RwLock<std::collections::HashMap<String, u32>>,
    /// Reads `S3Bucket`/`S3Key` packages; without one, S3 sources are refused.
    fetcher: Option<Arc<dyn CodeFetcher>>,
    /// Serialises read-modify-write of resource policies.
    pub(crate) policy_lock: Mutex<()>,
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
        }
    }

    /// Takes packages named by `S3Bucket`/`S3Key` from this fetcher.
    pub fn with_code_fetcher(mut self, fetcher: Arc<dyn CodeFetcher>) -> Self {
        self.fetcher = Some(fetcher);
        self
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

    /// Parses a function identifier and loads its record; `$LATEST` is the
    /// only version until versions are published.
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

    /// The package's bytes: inline, or copied from S3 now.
    async fn read_source(&self, source: Option<CodeSource>) -> Result<Bytes, ControlError> {
        match source {
            None => Err(ControlError::CodeMissing),
            Some(CodeSource::Zip(zip)) => Ok(zip),
            Some(CodeSource::S3 { bucket, key, object_version }) => {
                check_s3_location(&bucket, &key, object_version.as_deref())?;
                let fetcher = self.fetcher.as_ref().ok_or(ControlError::S3CodeUnavailable)?;
                fetcher
                    .get_object(&bucket, &key, object_version.as_deref())
                    .await
                    .map_err(|source| ControlError::S3Fetch { source })
            }
        }
    }

    /// Reads and checks a package (a function's code or a layer's content);
    /// returns what the configuration records of it, and the zip to store.
    pub(crate) async fn read_code(
        &self,
        source: Option<CodeSource>,
        operation: &'static str,
    ) -> Result<(CodeInfo, Bytes), ControlError> {
        let zip = self.read_source(source).await?;
        if zip.len() as u64 > CODE_SIZE_ZIPPED {
            return Err(ControlError::RequestTooLarge { limit: CODE_REQUEST_BODY, operation });
        }
        let inspected = zip.clone();
        let package = tokio::task::spawn_blocking(move || CodePackage::inspect(&inspected, CODE_SIZE_UNZIPPED))
            .await
            .expect("package inspection does not panic")?;
        let usage = blocking(&self.store, |s| s.usage()).await?;
        if usage.total_code_size + package.size > self.config.total_code_size {
            return Err(ControlError::CodeStorageExceeded);
        }
        let code = CodeInfo {
            sha256: package.sha256_base64,
            size: package.size,
            unzipped_size: package.unzipped_size,
            blob_key: package.sha256_hex,
        };
        Ok((code, zip))
    }

    pub(crate) async fn put_blob(&self, code: &CodeInfo, zip: Bytes) -> Result<(), ControlError> {
        self.blobs.put(&code.blob_key, zip).await.map_err(Into::into)
    }

    /// Deletes a blob if no version names it any more. Hold `code_lock`.
    pub(crate) async fn release_blob(&self, key: &str) -> Result<(), ControlError> {
        let referenced = blocking(&self.store, |s| s.referenced_blobs()).await?;
        if !referenced.contains(key) {
            self.blobs.delete(key).await?;
        }
        Ok(())
    }

    fn runtime_and_handler(&self, runtime: &str, handler: &str) -> Result<String, ControlError> {
        // AWS reports an unknown runtime as InvalidParameterValueException,
        // with the enum constraint's text but without the validation prefix.
        let spec = self.config.runtimes.resolve(runtime).map_err(|e| ControlError::UnknownRuntime {
            message: format!("Value {} at 'runtime' failed to satisfy constraint: {}", e.value, e.constraint),
        })?;
        spec.validate_handler(handler)?;
        Ok(runtime.to_owned())
    }

    /// Resolves a function's `Layers` to the layer versions they name.
    async fn layers(&self, region: &Region, arns: Vec<String>) -> Result<Vec<FunctionLayer>, ControlError> {
        if arns.len() > LAYERS_MAX {
            return Err(ControlError::TooManyLayers);
        }
        let mut out: Vec<FunctionLayer> = Vec::with_capacity(arns.len());
        let mut names: Vec<(String, String)> = Vec::new();
        for arn in arns {
            let parsed = LayerVersionArn::parse(&arn)?;
            if let Some((_, first)) = names.iter().find(|(n, _)| n == parsed.name.as_str()) {
                return Err(ControlError::DuplicateLayer { first: first.clone(), second: arn });
            }
            names.push((parsed.name.as_str().to_owned(), arn.clone()));
            let ours = parsed.region == region.as_str() && parsed.account == self.config.account.as_str();
            let (name, version) = (parsed.name.clone(), parsed.version);
            let found =
                if ours { blocking(&self.store, move |s| s.get_layer_version(&name, version)).await? } else { None };
            match found {
                Some(layer) => out.push(FunctionLayer { arn, code: layer.code }),
                None => return Err(ControlError::LayerVersionNotFound { arn }),
            }
        }
        if out.len() > 1 {
            self.check_layers_merge(&out).await?;
        }
        Ok(out)
    }

    /// Layers are unpacked in order into one `/opt`: refuses a set in which
    /// one layer's entries would lie under another's link, or a file would
    /// stand where another layer has a directory (each layer alone was
    /// inspected when it was published).
    async fn check_layers_merge(&self, layers: &[FunctionLayer]) -> Result<(), ControlError> {
        let mut zips = Vec::with_capacity(layers.len());
        for layer in layers {
            zips.push(self.blobs.get(&layer.code.blob_key).await?);
        }
        tokio::task::spawn_blocking(move || {
            lambdabox_model::check_merged_packages(zips.iter().map(|z| z.as_ref())).map_err(ControlError::from)
        })
        .await
        .expect("layer inspection does not panic")
    }

    pub async fn create_function(&self, region: &Region, req: CreateFunction) -> Result<FunctionView, ControlError> {
        let function = self.function_ref(region, &req.function_name, "functionName")?;
        if function.qualifier.is_some() {
            return Err(ValidationError::pattern(
                &req.function_name,
                "functionName",
                lambdabox_model::name::FUNCTION_IDENTIFIER_PATTERN,
            )
            .into());
        }
        if let Some(pt) = req.package_type.as_deref().filter(|pt| *pt != "Zip") {
            if pt == "Image" {
                return Err(ControlError::RuntimeAndHandlerRequired);
            }
            return Err(
                ValidationError::new(pt, "packageType", "Member must satisfy enum value set: [Image, Zip]").into()
            );
        }
        let role = parse_role(req.role.as_deref().unwrap_or_default())?;
        let (Some(runtime), Some(handler)) = (req.runtime, req.handler) else {
            return Err(ControlError::RuntimeAndHandlerRequired);
        };
        let runtime = self.runtime_and_handler(&runtime, &handler)?;
        let config_base = FunctionConfig {
            name: function.name.clone(),
            version: "$LATEST".into(),
            runtime,
            handler,
            role,
            description: parse_description(req.description.as_deref().unwrap_or_default())?,
            timeout: req.timeout.map(Timeout::parse).transpose()?.unwrap_or_default(),
            memory_size: req.memory_size.map(MemorySize::parse).transpose()?.unwrap_or_default(),
            ephemeral_storage: req.ephemeral_storage.map(EphemeralStorage::parse).transpose()?.unwrap_or_default(),
            environment: req.environment.map(Environment::parse).transpose()?,
            layers: self.layers(region, req.layers.unwrap_or_default()).await?,
            vpc: req.vpc.map(vpc_config),
            architectures: architectures(req.architectures)?,
            dead_letter_target_arn: req.dead_letter_target_arn,
            kms_key_arn: req.kms_key_arn,
            tracing_mode: tracing_mode(req.tracing_mode)?,
            code: CodeInfo { sha256: String::new(), size: 0, unzipped_size: 0, blob_key: String::new() },
            last_modified: now(),
            revision_id: new_revision(),
        };
        validate_tags(&req.tags)?;
        let (code, zip) = self.read_code(req.code, "CreateFunction").await?;
        check_combined_size(&code, &config_base.layers)?;
        let record = FunctionRecord { latest: FunctionConfig { code, ..config_base }, tags: req.tags };

        let _guard = self.code_lock.lock().await;
        self.put_blob(&record.latest.code, zip).await?;
        let stored = record.clone();
        match blocking(&self.store, move |s| s.create(&stored)).await {
            Ok(()) if req.publish => {
                drop(_guard);
                self.publish_version(region, record.latest.name.as_str(), None, None, None).await
            }
            Ok(()) => Ok(self.view(region, record)),
            Err(StoreError::AlreadyExists { name }) => {
                self.release_blob(&record.latest.code.blob_key).await?;
                Err(ControlError::FunctionAlreadyExists { name })
            }
            Err(e) => {
                self.release_blob(&record.latest.code.blob_key).await?;
                Err(e.into())
            }
        }
    }

    pub async fn get_function(
        &self,
        region: &Region,
        identifier: &str,
        qualifier: Option<&str>,
    ) -> Result<FunctionView, ControlError> {
        self.resolve(region, identifier, qualifier, None).await
    }

    pub async fn list_functions(
        &self,
        region: &Region,
        marker: Option<&str>,
        max_items: Option<i64>,
    ) -> Result<FunctionPage, ControlError> {
        // "ListFunctions returns a maximum of 50 items in each response, even
        // if you set the number higher."
        let limit = page_limit(max_items)?.min(LIST_DEFAULT_PAGE);
        let after = marker.map(decode_marker).transpose()?;
        let mut records = blocking(&self.store, move |s| s.list(after.as_deref(), limit + 1)).await?;
        let next_marker = if records.len() > limit {
            records.truncate(limit);
            records.last().map(|r| encode_marker(r.latest.name.as_str()))
        } else {
            None
        };
        Ok(FunctionPage { functions: records.into_iter().map(|r| self.view(region, r)).collect(), next_marker })
    }

    pub async fn update_function_code(
        &self,
        region: &Region,
        identifier: &str,
        req: UpdateFunctionCode,
    ) -> Result<FunctionView, ControlError> {
        let record = self.load(region, identifier, None).await?;
        check_revision(&record.latest, req.revision_id.as_deref())?;
        let (code, zip) = self.read_code(req.code, "UpdateFunctionCode").await?;
        check_combined_size(&code, &record.latest.layers)?;
        let architectures = req.architectures.is_some().then(|| architectures(req.architectures)).transpose()?;
        let apply = |latest: &FunctionConfig| {
            let mut config = latest.clone();
            if let Some(a) = &architectures {
                config.architectures = a.clone();
            }
            config.code = code.clone();
            config.last_modified = now();
            config.revision_id = new_revision();
            config
        };
        if req.dry_run {
            return Ok(self.view(region, FunctionRecord { latest: apply(&record.latest), tags: record.tags }));
        }
        let _guard = self.code_lock.lock().await;
        self.put_blob(&code, zip).await?;
        let result = self.commit_rebased(region, identifier, req.revision_id.as_deref(), record, apply).await;
        let released = match &result {
            Ok((_, old)) => old.code.blob_key.clone(),
            Err(_) => code.blob_key.clone(),
        };
        self.release_blob(&released).await?;
        let (record, _) = result?;
        drop(_guard);
        if req.publish {
            return self.publish_version(region, record.latest.name.as_str(), None, None, None).await;
        }
        Ok(self.view(region, record))
    }

    pub async fn update_function_configuration(
        &self,
        region: &Region,
        identifier: &str,
        req: UpdateFunctionConfiguration,
    ) -> Result<FunctionView, ControlError> {
        let record = self.load(region, identifier, None).await?;
        check_revision(&record.latest, req.revision_id.as_deref())?;
        // Everything is parsed and checked once; `apply` only assigns, so
        // it can be applied again to a newer $LATEST.
        let role = req.role.as_deref().map(parse_role).transpose()?;
        let description = req.description.as_deref().map(parse_description).transpose()?;
        let timeout = req.timeout.map(Timeout::parse).transpose()?;
        let memory_size = req.memory_size.map(MemorySize::parse).transpose()?;
        let ephemeral_storage = req.ephemeral_storage.map(EphemeralStorage::parse).transpose()?;
        let environment = req.environment.map(Environment::parse).transpose()?;
        let layers = match req.layers {
            Some(layers) => Some(self.layers(region, layers).await?),
            None => None,
        };
        let tracing = req.tracing_mode.is_some().then(|| tracing_mode(req.tracing_mode)).transpose()?;
        let runtime_handler = if req.runtime.is_some() || req.handler.is_some() {
            let runtime = req.runtime.unwrap_or_else(|| record.latest.runtime.clone());
            let handler = req.handler.unwrap_or_else(|| record.latest.handler.clone());
            Some((self.runtime_and_handler(&runtime, &handler)?, handler))
        } else {
            None
        };
        let (vpc, dlq, kms) = (req.vpc.map(vpc_config), req.dead_letter_target_arn, req.kms_key_arn);
        if let Some(layers) = &layers {
            check_combined_size(&record.latest.code, layers)?;
        }
        let apply = |latest: &FunctionConfig| {
            let mut c = latest.clone();
            if let Some(role) = &role {
                c.role = role.clone();
            }
            if let Some(d) = &description {
                c.description = d.clone();
            }
            if let Some(t) = timeout {
                c.timeout = t;
            }
            if let Some(m) = memory_size {
                c.memory_size = m;
            }
            if let Some(e) = ephemeral_storage {
                c.ephemeral_storage = e;
            }
            if let Some(vars) = &environment {
                c.environment = Some(vars.clone());
            }
            if let Some(layers) = &layers {
                c.layers = layers.clone();
            }
            if let Some(vpc) = &vpc {
                c.vpc = Some(vpc.clone());
            }
            if let Some(dlq) = &dlq {
                c.dead_letter_target_arn = Some(dlq.clone()).filter(|s| !s.is_empty());
            }
            if let Some(kms) = &kms {
                c.kms_key_arn = Some(kms.clone()).filter(|s| !s.is_empty());
            }
            if let Some(t) = &tracing {
                c.tracing_mode = t.clone();
            }
            if let Some((runtime, handler)) = &runtime_handler {
                c.runtime = runtime.clone();
                c.handler = handler.clone();
            }
            c.last_modified = now();
            c.revision_id = new_revision();
            c
        };
        let (record, _) = self.commit_rebased(region, identifier, req.revision_id.as_deref(), record, apply).await?;
        Ok(self.view(region, record))
    }

    /// Commits `apply(latest)` as the new $LATEST. When another update
    /// commits first and the caller named no RevisionId, the change is
    /// applied again to the newer $LATEST (AWS serialises updates; a caller
    /// who did not ask for a revision check never gets a precondition
    /// failure). Returns the new record and the $LATEST it replaced.
    async fn commit_rebased(
        &self,
        region: &Region,
        identifier: &str,
        caller_revision: Option<&str>,
        mut record: FunctionRecord,
        apply: impl Fn(&FunctionConfig) -> FunctionConfig,
    ) -> Result<(FunctionRecord, FunctionConfig), ControlError> {
        const ATTEMPTS: usize = 64;
        for _ in 0..ATTEMPTS {
            let config = apply(&record.latest);
            match self.commit_update(region, &config, &record.latest.revision_id).await {
                Ok(()) => {
                    let old = std::mem::replace(&mut record.latest, config);
                    return Ok((record, old));
                }
                Err(ControlError::RevisionMismatch) if caller_revision.is_none() => {
                    record = self.load(region, identifier, None).await?;
                }
                Err(e) => return Err(e),
            }
        }
        Err(ControlError::UpdateInProgress {
            arn: function_arn(region, &self.config.account, record.latest.name.as_str()),
        })
    }

    async fn commit_update(
        &self,
        region: &Region,
        config: &FunctionConfig,
        expected: &str,
    ) -> Result<(), ControlError> {
        let (stored, expected) = (config.clone(), expected.to_owned());
        match blocking(&self.store, move |s| s.update_latest(&stored, &expected)).await {
            Ok(()) => Ok(()),
            Err(StoreError::RevisionMismatch { .. }) => Err(ControlError::RevisionMismatch),
            Err(StoreError::NotFound { .. }) => Err(self.not_found(region, &config.name, None)),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn delete_function(
        &self,
        region: &Region,
        identifier: &str,
        qualifier: Option<&str>,
    ) -> Result<(), ControlError> {
        let function = self.function_ref(region, identifier, "functionName")?;
        let qualifier = qualifier.map(str::to_owned).or(function.qualifier.map(|q| q.to_string()));
        if qualifier.as_deref() == Some("$LATEST") {
            return Err(ControlError::DeleteLatestQualifier);
        }
        if let Some(q) = qualifier {
            return self.delete_version(region, &function.name, &q).await;
        }
        let _guard = self.code_lock.lock().await;
        let name = function.name.clone();
        match blocking(&self.store, move |s| s.delete(&name)).await? {
            Some(record) => {
                self.forget_concurrency(record.latest.name.as_str());
                self.release_blob(&record.latest.code.blob_key).await
            }
            None => Err(self.not_found(region, &function.name, None)),
        }
    }

    /// Resolves a tagging resource ARN to its function.
    async fn tag_target(&self, region: &Region, resource: &str) -> Result<FunctionRecord, ControlError> {
        if !resource.starts_with("arn:") {
            return Err(ValidationError::pattern(resource, "resource", "arn:(aws[a-zA-Z-]*):lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:(function:[a-zA-Z0-9-_]+(:(\\$LATEST|[a-zA-Z0-9-_]+))?|layer:[a-zA-Z0-9-_]+|code-signing-config:csc-[a-z0-9]{17}|event-source-mapping:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})").into());
        }
        let function = self.function_ref(region, resource, "resource")?;
        let name = function.name.clone();
        blocking(&self.store, move |s| s.get(&name)).await?.ok_or_else(|| self.not_found(region, &function.name, None))
    }

    pub async fn list_tags(&self, region: &Region, resource: &str) -> Result<BTreeMap<String, String>, ControlError> {
        Ok(self.tag_target(region, resource).await?.tags)
    }

    pub async fn tag_resource(
        &self,
        region: &Region,
        resource: &str,
        tags: BTreeMap<String, String>,
    ) -> Result<(), ControlError> {
        let record = self.tag_target(region, resource).await?;
        let mut merged = record.tags;
        merged.extend(tags);
        validate_tags(&merged)?;
        let name = record.latest.name;
        blocking(&self.store, move |s| s.set_tags(&name, &merged)).await?;
        Ok(())
    }

    pub async fn untag_resource(&self, region: &Region, resource: &str, keys: Vec<String>) -> Result<(), ControlError> {
        let record = self.tag_target(region, resource).await?;
        let mut tags = record.tags;
        for key in &keys {
            tags.remove(key);
        }
        let name = record.latest.name;
        blocking(&self.store, move |s| s.set_tags(&name, &tags)).await?;
        Ok(())
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
/// The unzipped code and layers together stay within 250 MB.
fn check_combined_size(code: &CodeInfo, layers: &[FunctionLayer]) -> Result<(), ControlError> {
    let actual = code.unzipped_size + layers.iter().map(|l| l.code.unzipped_size).sum::<u64>();
    if actual > CODE_SIZE_UNZIPPED {
        return Err(ControlError::CombinedSizeExceeded { limit: CODE_SIZE_UNZIPPED, actual });
    }
    Ok(())
}

/// `S3Bucket` (3–63 of `[0-9A-Za-z.\-_]`, not ending in a dot), `S3Key` and
/// `S3ObjectVersion` (1–1024 characters).
pub(crate) fn check_s3_location(bucket: &str, key: &str, version: Option<&str>) -> Result<(), ControlError> {
    const BUCKET_PATTERN: &str = "^[0-9A-Za-z\\.\\-_]*(?<!\\.)$";
    if bucket.len() < 3 {
        return Err(ValidationError::min_length(bucket, "s3Bucket", 3).into());
    }
    if bucket.len() > 63 {
        return Err(ValidationError::max_length(bucket, "s3Bucket", 63).into());
    }
    if !bucket.chars().all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c)) || bucket.ends_with('.') {
        return Err(ValidationError::pattern(bucket, "s3Bucket", BUCKET_PATTERN).into());
    }
    for (value, field) in [(Some(key), "s3Key"), (version, "s3ObjectVersion")] {
        match value {
            Some("") => return Err(ValidationError::min_length("", field, 1).into()),
            Some(v) if v.chars().count() > 1024 => return Err(ValidationError::max_length(v, field, 1024).into()),
            _ => {}
        }
    }
    Ok(())
}

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

fn vpc_config((subnet_ids, security_group_ids, ipv6): (Vec<String>, Vec<String>, bool)) -> VpcConfig {
    VpcConfig { subnet_ids, security_group_ids, ipv6_allowed_for_dual_stack: ipv6 }
}

fn architectures(given: Option<Vec<String>>) -> Result<Vec<Architecture>, ControlError> {
    let given = given.unwrap_or_else(|| vec!["x86_64".into()]);
    if given.len() != 1 {
        return Err(ValidationError::new(
            format!("[{}]", given.join(", ")),
            "architectures",
            "Member must have length less than or equal to 1",
        )
        .into());
    }
    Ok(vec![Architecture::parse(&given[0])?])
}

fn tracing_mode(given: Option<String>) -> Result<String, ControlError> {
    match given.as_deref() {
        None => Ok("PassThrough".into()),
        Some(m @ ("Active" | "PassThrough")) => Ok(m.into()),
        Some(m) => Err(ValidationError::new(
            m,
            "tracingConfig.mode",
            "Member must satisfy enum value set: [Active, PassThrough]",
        )
        .into()),
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
