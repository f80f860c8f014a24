//! Functions: CreateFunction, GetFunction, ListFunctions, UpdateFunctionCode,
//! UpdateFunctionConfiguration and DeleteFunction, with AWS's rules for each
//! (names, runtimes and handlers, revision ids, qualifiers).

use lambdabox_model::arn::function_arn;
use lambdabox_model::config::{CodeInfo, parse_description, parse_role};
use lambdabox_model::limits::LIST_DEFAULT_PAGE;
use lambdabox_model::{
    Architecture, Environment, EphemeralStorage, FunctionConfig, MemorySize, Region, Timeout, ValidationError,
    VpcConfig,
};
use lambdabox_store::{FunctionRecord, StoreError};

use crate::code::check_combined_size;
use crate::input::{CreateFunction, UpdateFunctionCode, UpdateFunctionConfiguration};
use crate::plane::{
    FunctionPage, FunctionView, blocking, check_revision, decode_marker, encode_marker, new_revision, now, page_limit,
};
use crate::tags::validate_tags;
use crate::{Change, ControlError, ControlPlane};

impl ControlPlane {
    pub(crate) fn runtime_and_handler(&self, runtime: &str, handler: &str) -> Result<String, ControlError> {
        // AWS reports an unknown runtime as InvalidParameterValueException,
        // with the enum constraint's text but without the validation prefix.
        let spec = self.config.runtimes.resolve(runtime).map_err(|e| ControlError::UnknownRuntime {
            message: format!("Value {} at 'runtime' failed to satisfy constraint: {}", e.value, e.constraint),
        })?;
        spec.validate_handler(handler)?;
        Ok(runtime.to_owned())
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
                self.publish(Change::FunctionCreated { name: record.latest.name.to_string() }).await;
                self.publish_version(region, record.latest.name.as_str(), None, None, None).await
            }
            Ok(()) => {
                drop(_guard);
                self.publish(Change::FunctionCreated { name: record.latest.name.to_string() }).await;
                Ok(self.view(region, record))
            }
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
        self.publish(Change::CodeUpdated { name: record.latest.name.to_string() }).await;
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
        self.publish(Change::ConfigurationUpdated { name: record.latest.name.to_string() }).await;
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
                let released = self.release_blob(&record.latest.code.blob_key).await;
                drop(_guard);
                self.publish(Change::FunctionDeleted { name: record.latest.name.to_string() }).await;
                released
            }
            None => Err(self.not_found(region, &function.name, None)),
        }
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
