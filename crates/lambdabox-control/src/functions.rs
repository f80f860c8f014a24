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
    FunctionPage, FunctionView, blocking, check_revision, decode_marker, encode_marker, merge_qualifier, new_revision,
    now, page_limit,
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
        // An alias (the seed's `java-1.8.0-openjdk`) is stored as the
        // identifier it names: AWS only ever answers its own identifiers.
        Ok(spec.identifier.to_string())
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
        // Each member's own constraints (ValidationException) come before
        // the rules between members, as AWS validates a request first.
        let description = parse_description(req.description.as_deref().unwrap_or_default())?;
        let timeout = req.timeout.map(Timeout::parse).transpose()?.unwrap_or_default();
        let memory_size = req.memory_size.map(MemorySize::parse).transpose()?.unwrap_or_default();
        let ephemeral_storage = req.ephemeral_storage.map(EphemeralStorage::parse).transpose()?.unwrap_or_default();
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
            description,
            timeout,
            memory_size,
            ephemeral_storage,
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
        let qualifier = merge_qualifier(&function, qualifier)?;
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
                // Every package the function's versions held and nothing
                // else names goes with it (the code lock is held, so no
                // package is being written meanwhile).
                let released = async {
                    let referenced = blocking(&self.store, |s| s.referenced_blobs()).await?;
                    self.blobs.collect_garbage(&referenced).await?;
                    Ok::<(), ControlError>(())
                }
                .await;
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use lambdabox_model::environment::EnvironmentError;
    use lambdabox_model::runtime::HandlerError;
    use lambdabox_store::FunctionStore;

    use super::*;
    use crate::CodeSource;
    use crate::test_support::*;

    fn config(f: impl FnOnce(&mut UpdateFunctionConfiguration)) -> UpdateFunctionConfiguration {
        let mut req = UpdateFunctionConfiguration::default();
        f(&mut req);
        req
    }

    fn code(zip: bytes::Bytes) -> UpdateFunctionCode {
        UpdateFunctionCode { code: Some(CodeSource::Zip(zip)), ..Default::default() }
    }

    #[tokio::test]
    async fn creates_with_aws_defaults_and_announces_it() {
        let h = Harness::new();
        let zip = package(0);
        let view = h.plane.create_function(&h.region, create_req("f")).await.unwrap();
        assert_eq!(view.arn, "arn:aws:lambda:us-east-1:000000000000:function:f");
        let c = &view.config;
        assert_eq!(
            (c.version.as_str(), c.runtime.as_str(), c.handler.as_str()),
            ("$LATEST", "python3.12", "app.handler")
        );
        assert_eq!((c.timeout.get(), c.memory_size.get(), c.ephemeral_storage.get()), (3, 128, 512));
        assert_eq!(c.architectures, [Architecture::X86_64]);
        assert_eq!(c.tracing_mode, "PassThrough");
        assert_eq!(c.description, "");
        assert_eq!(c.code.size, zip.len() as u64);
        let package = lambdabox_model::CodePackage::inspect(&zip, u64::MAX).unwrap();
        assert_eq!(c.code.sha256, package.sha256_base64);
        assert_eq!(c.code.blob_key, package.sha256_hex);
        assert!(!c.revision_id.is_empty());
        assert_eq!(h.plane.code(&c.code.blob_key).await.unwrap(), zip);
        assert_eq!(h.changes(), [created("f")]);
        let got = h.plane.get_function(&h.region, "f", None).await.unwrap();
        assert_eq!(got, view);
    }

    #[tokio::test]
    async fn function_names_have_a_length_and_a_pattern() {
        let h = Harness::new();
        let name64 = "a".repeat(64);
        h.plane.create_function(&h.region, create_req(&name64)).await.unwrap();
        let e = h.plane.create_function(&h.region, create_req(&"a".repeat(65))).await.unwrap_err();
        assert_validation(e, "functionName", "Member must have length less than or equal to 64");
        for bad in ["bad name", "a.b", "f/g", "ünï"] {
            let e = h.plane.create_function(&h.region, create_req(bad)).await.unwrap_err();
            assert_validation(e, "functionName", "Member must satisfy regular expression pattern");
        }
        let e = h.plane.create_function(&h.region, create_req("")).await.unwrap_err();
        assert_validation(e, "functionName", "Member must have length greater than or equal to 1");
        let long = format!("arn:aws:lambda:us-east-1:000000000000:function:{}:{}", "a".repeat(60), "q".repeat(60));
        let e = h.plane.get_function(&h.region, &long, None).await.unwrap_err();
        assert_validation(e, "functionName", "Member must have length less than or equal to 140");
        assert_eq!(h.changes(), [created(&name64)]);
    }

    #[tokio::test]
    async fn create_takes_every_arn_form_of_our_account_and_region() {
        let h = Harness::new();
        for (identifier, name) in [
            ("arn:aws:lambda:us-east-1:000000000000:function:full", "full"),
            ("000000000000:function:partial", "partial"),
            ("us-east-1:000000000000:function:regional", "regional"),
        ] {
            let view = h.plane.create_function(&h.region, create_req(identifier)).await.unwrap();
            assert_eq!(view.config.name.as_str(), name);
            assert_eq!(view.arn, format!("arn:aws:lambda:us-east-1:000000000000:function:{name}"));
        }
        let e = h.plane.create_function(&h.region, create_req("f:1")).await.unwrap_err();
        assert_validation(e, "functionName", "Member must satisfy regular expression pattern");
    }

    #[tokio::test]
    async fn other_accounts_and_regions_are_refused_everywhere() {
        let h = Harness::new();
        h.create("f").await;
        let other_account = "arn:aws:lambda:us-east-1:222222222222:function:f";
        let other_region = "arn:aws:lambda:eu-west-1:000000000000:function:f";

        let e = h.plane.create_function(&h.region, create_req(other_account)).await.unwrap_err();
        assert!(
            matches!(&e, ControlError::OtherAccount { caller, resource } if caller == "000000000000" && resource == other_account),
            "{e:?}"
        );
        let e = h.plane.create_function(&h.region, create_req(other_region)).await.unwrap_err();
        assert_eq!(e.to_string(), "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')");
        assert!(matches!(e, ControlError::OtherRegion { .. }));

        // The local function of the same name is never acted on.
        for id in [other_account, "222222222222:function:f"] {
            let e = h.plane.get_function(&h.region, id, None).await.unwrap_err();
            assert!(matches!(e, ControlError::OtherAccount { .. }), "{id}: {e:?}");
            let e = h.plane.delete_function(&h.region, id, None).await.unwrap_err();
            assert!(matches!(e, ControlError::OtherAccount { .. }), "{id}: {e:?}");
        }
        for id in [other_region, "eu-west-1:000000000000:function:f"] {
            let e = h.plane.update_function_code(&h.region, id, code(package(1))).await.unwrap_err();
            assert!(matches!(e, ControlError::OtherRegion { .. }), "{id}: {e:?}");
            let e = h.plane.delete_function(&h.region, id, None).await.unwrap_err();
            assert!(matches!(e, ControlError::OtherRegion { .. }), "{id}: {e:?}");
        }
        // Another account wins over another region.
        let e = h
            .plane
            .get_function(&h.region, "arn:aws:lambda:eu-west-1:222222222222:function:f", None)
            .await
            .unwrap_err();
        assert!(matches!(e, ControlError::OtherAccount { .. }), "{e:?}");
        assert!(h.plane.get_function(&h.region, "f", None).await.is_ok());
        assert_eq!(h.changes(), []);
    }

    #[tokio::test]
    async fn package_type_runtime_and_handler() {
        let h = Harness::new();
        let req = CreateFunction { package_type: Some("Image".into()), ..create_req("f") };
        let e = h.plane.create_function(&h.region, req).await.unwrap_err();
        assert!(matches!(e, ControlError::RuntimeAndHandlerRequired), "{e:?}");
        let req = CreateFunction { package_type: Some("Jar".into()), ..create_req("f") };
        let e = h.plane.create_function(&h.region, req).await.unwrap_err();
        assert_validation(e, "packageType", "Member must satisfy enum value set: [Image, Zip]");

        for req in
            [CreateFunction { runtime: None, ..create_req("f") }, CreateFunction { handler: None, ..create_req("f") }]
        {
            let e = h.plane.create_function(&h.region, req).await.unwrap_err();
            assert_eq!(
                e.to_string(),
                "Runtime and Handler are mandatory parameters for functions created with deployment packages."
            );
        }
        let req = CreateFunction { runtime: Some("cobol1.0".into()), ..create_req("f") };
        let e = h.plane.create_function(&h.region, req).await.unwrap_err();
        assert!(matches!(e, ControlError::UnknownRuntime { .. }), "{e:?}");
        let message = e.to_string();
        assert!(
            message.starts_with(
                "Value cobol1.0 at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: ["
            ),
            "{message}"
        );
        assert!(message.ends_with("] or be a valid ARN"), "{message}");

        let handler = |runtime: &str, handler: &str| CreateFunction {
            runtime: Some(runtime.into()),
            handler: Some(handler.into()),
            ..create_req("f")
        };
        let e = h.plane.create_function(&h.region, handler("python3.12", "handler")).await.unwrap_err();
        assert!(matches!(e, ControlError::Handler(HandlerError::Format { .. })), "{e:?}");
        let e = h.plane.create_function(&h.region, handler("python3.12", "app handler")).await.unwrap_err();
        assert!(matches!(e, ControlError::Handler(HandlerError::Validation(_))), "{e:?}");
        let e = h.plane.create_function(&h.region, handler("provided.al2023", &"x".repeat(129))).await.unwrap_err();
        assert!(matches!(&e, ControlError::Handler(HandlerError::Validation(v)) if v.field == "handler"), "{e:?}");
        let e = h.plane.create_function(&h.region, handler("java17", "example.Handler::")).await.unwrap_err();
        assert!(matches!(e, ControlError::Handler(HandlerError::Format { .. })), "{e:?}");
        assert_eq!(h.changes(), []);

        let req = CreateFunction { package_type: Some("Zip".into()), ..handler("nodejs22.x", "index.handler") };
        assert_eq!(h.plane.create_function(&h.region, req).await.unwrap().config.runtime, "nodejs22.x");
    }

    #[tokio::test]
    async fn timeout_memory_and_ephemeral_storage_bounds() {
        let h = Harness::new();
        let with = |timeout, memory, storage| CreateFunction {
            timeout,
            memory_size: memory,
            ephemeral_storage: storage,
            ..create_req("f")
        };
        for (req, field, constraint) in [
            (with(Some(0), None, None), "timeout", "greater than or equal to 1"),
            (with(Some(901), None, None), "timeout", "less than or equal to 900"),
            (with(None, Some(127), None), "memorySize", "greater than or equal to 128"),
            (with(None, Some(10_241), None), "memorySize", "less than or equal to 10240"),
            (with(None, None, Some(511)), "ephemeralStorage.size", "greater than or equal to 512"),
            (with(None, None, Some(10_241)), "ephemeralStorage.size", "less than or equal to 10240"),
        ] {
            let e = h.plane.create_function(&h.region, req).await.unwrap_err();
            assert_validation(e, field, constraint);
        }
        let view = h.plane.create_function(&h.region, with(Some(900), Some(10_240), Some(10_240))).await.unwrap();
        assert_eq!((view.config.timeout.get(), view.config.memory_size.get()), (900, 10_240));
        assert_eq!(view.config.ephemeral_storage.get(), 10_240);

        for (req, field) in [
            (config(|r| r.timeout = Some(901)), "timeout"),
            (config(|r| r.memory_size = Some(64)), "memorySize"),
            (config(|r| r.ephemeral_storage = Some(20_000)), "ephemeralStorage.size"),
        ] {
            let e = h.plane.update_function_configuration(&h.region, "f", req).await.unwrap_err();
            assert_eq!(validation(e).field, field);
        }
        let after = h.plane.get_function(&h.region, "f", None).await.unwrap();
        assert_eq!(after.config, view.config, "a refused update changes nothing");
        assert_eq!(h.changes(), [created("f")]);
    }

    #[tokio::test]
    async fn environment_variables_are_checked() {
        let h = Harness::new();
        let env = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
        };
        let with = |vars| CreateFunction { environment: Some(vars), ..create_req("f") };

        let e = h.plane.create_function(&h.region, with(env(&[("AWS_REGION", "x")]))).await.unwrap_err();
        assert!(
            matches!(&e, ControlError::Environment(EnvironmentError::ReservedKeys { keys }) if keys == &["AWS_REGION"])
        );
        assert!(e.to_string().ends_with("Reserved keys used in this request: AWS_REGION"), "{e}");
        let big = "x".repeat(4096);
        let e = h.plane.create_function(&h.region, with(env(&[("BIG", &big)]))).await.unwrap_err();
        assert!(matches!(e, ControlError::Environment(EnvironmentError::TooLarge { .. })), "{e:?}");
        assert!(e.to_string().contains("exceeded the 4KB limit"), "{e}");
        let e = h.plane.create_function(&h.region, with(env(&[("1A", "x")]))).await.unwrap_err();
        assert!(matches!(e, ControlError::Environment(EnvironmentError::Validation(_))), "{e:?}");

        // Keys and values together, as JSON, may take 4 KB.
        let fits = "x".repeat(4096 - r#"{"BIG":""}"#.len());
        let view = h.plane.create_function(&h.region, with(env(&[("BIG", &fits)]))).await.unwrap();
        assert_eq!(view.config.environment.unwrap().variables()["BIG"], fits);

        let req = config(|r| r.environment = Some(env(&[("LAMBDA_TASK_ROOT", "/x")])));
        let e = h.plane.update_function_configuration(&h.region, "f", req).await.unwrap_err();
        assert!(matches!(e, ControlError::Environment(EnvironmentError::ReservedKeys { .. })), "{e:?}");
        let req = config(|r| r.environment = Some(env(&[("STAGE", "prod")])));
        let view = h.plane.update_function_configuration(&h.region, "f", req).await.unwrap();
        assert_eq!(view.config.environment.unwrap().variables(), &env(&[("STAGE", "prod")]));
    }

    #[tokio::test]
    async fn role_description_architectures_and_tracing() {
        let h = Harness::new();
        let e = h
            .plane
            .create_function(&h.region, CreateFunction { role: Some("lambda-role".into()), ..create_req("f") })
            .await
            .unwrap_err();
        assert_validation(e, "role", "Member must satisfy regular expression pattern");
        let e = h.plane.create_function(&h.region, CreateFunction { role: None, ..create_req("f") }).await.unwrap_err();
        assert_eq!(validation(e).field, "role");
        let e = h
            .plane
            .create_function(&h.region, CreateFunction { description: Some("d".repeat(257)), ..create_req("f") })
            .await
            .unwrap_err();
        assert_validation(e, "description", "less than or equal to 256");
        let two = Some(vec!["x86_64".to_string(), "arm64".to_string()]);
        let e = h
            .plane
            .create_function(&h.region, CreateFunction { architectures: two, ..create_req("f") })
            .await
            .unwrap_err();
        assert_validation(e, "architectures", "Member must have length less than or equal to 1");
        let e = h
            .plane
            .create_function(&h.region, CreateFunction { architectures: Some(vec!["sparc".into()]), ..create_req("f") })
            .await
            .unwrap_err();
        assert_validation(e, "architectures", "enum value set: [x86_64, arm64]");
        let e = h
            .plane
            .create_function(&h.region, CreateFunction { tracing_mode: Some("Loud".into()), ..create_req("f") })
            .await
            .unwrap_err();
        assert_validation(e, "tracingConfig.mode", "[Active, PassThrough]");
        assert_eq!(h.changes(), []);

        let req = CreateFunction {
            description: Some("d".repeat(256)),
            architectures: Some(vec!["arm64".into()]),
            tracing_mode: Some("Active".into()),
            ..create_req("f")
        };
        let view = h.plane.create_function(&h.region, req).await.unwrap();
        assert_eq!(view.config.architectures, [Architecture::Arm64]);
        assert_eq!(view.config.tracing_mode, "Active");
        let e = h
            .plane
            .update_function_configuration(&h.region, "f", config(|r| r.tracing_mode = Some("Off".into())))
            .await
            .unwrap_err();
        assert_eq!(validation(e).field, "tracingConfig.mode");
        let e = h
            .plane
            .update_function_configuration(&h.region, "f", config(|r| r.role = Some("arn:aws:iam::1:role/x".into())))
            .await
            .unwrap_err();
        assert_eq!(validation(e).field, "role");
    }

    #[tokio::test]
    async fn a_name_is_taken_once_and_the_loser_keeps_no_blob() {
        let h = Harness::new();
        let first = h.create("f").await;
        // The same package: the blob stays, the first function names it.
        let e = h.plane.create_function(&h.region, create_req("f")).await.unwrap_err();
        assert!(matches!(&e, ControlError::FunctionAlreadyExists { name } if name == "f"), "{e:?}");
        assert_eq!(e.to_string(), "Function already exist: f");
        assert!(h.has_blob(&first.config.code.blob_key).await);
        // Another package: its blob is released again.
        let other = package(1);
        let key = lambdabox_model::CodePackage::inspect(&other, u64::MAX).unwrap().sha256_hex;
        let req = CreateFunction {
            code: Some(CodeSource::Zip(other)),
            ..create_req("arn:aws:lambda:us-east-1:000000000000:function:f")
        };
        let e = h.plane.create_function(&h.region, req).await.unwrap_err();
        assert!(matches!(e, ControlError::FunctionAlreadyExists { .. }), "{e:?}");
        assert!(!h.has_blob(&key).await);
        assert_eq!(h.changes(), []);
        assert_eq!(h.plane.get_function(&h.region, "f", None).await.unwrap(), first);
    }

    #[tokio::test]
    async fn create_with_publish_makes_version_1() {
        let h = Harness::new();
        let view =
            h.plane.create_function(&h.region, CreateFunction { publish: true, ..create_req("f") }).await.unwrap();
        assert_eq!(view.config.version, "1");
        assert_eq!(view.arn, "arn:aws:lambda:us-east-1:000000000000:function:f:1");
        assert_eq!(h.changes(), [created("f"), published("f", "1")]);
    }

    #[tokio::test]
    async fn get_function_and_its_qualifiers() {
        let h = Harness::new();
        h.create("f").await;
        let e = h.plane.get_function(&h.region, "nope", None).await.unwrap_err();
        assert!(matches!(e, ControlError::FunctionNotFound { .. }));
        assert_eq!(e.to_string(), "Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope");
        let e = h.plane.get_function(&h.region, "f", Some("7")).await.unwrap_err();
        assert_eq!(e.to_string(), "Function not found: arn:aws:lambda:us-east-1:000000000000:function:f:7");
        let e = h.plane.get_function(&h.region, "f:live", None).await.unwrap_err();
        assert_eq!(e.to_string(), "Function not found: arn:aws:lambda:us-east-1:000000000000:function:f:live");

        for id in [
            "f",
            "arn:aws:lambda:us-east-1:000000000000:function:f",
            "000000000000:function:f",
            "us-east-1:000000000000:function:f",
        ] {
            let view = h.plane.get_function(&h.region, id, None).await.unwrap();
            assert_eq!(view.arn, "arn:aws:lambda:us-east-1:000000000000:function:f", "{id}");
        }
        let latest = h.plane.get_function(&h.region, "f:$LATEST", None).await.unwrap();
        assert_eq!(latest.arn, "arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST");
        h.plane.get_function(&h.region, "f:$LATEST", Some("$LATEST")).await.unwrap();

        let e = h.plane.get_function(&h.region, "f:1", Some("2")).await.unwrap_err();
        let v = validation(e);
        assert_eq!((v.value.as_str(), v.field.as_str()), ("2", "qualifier"));
        assert_eq!(
            v.constraint,
            "The derived qualifier from the function name does not match the specified qualifier."
        );
        let e = h.plane.get_function(&h.region, "f:$LATEST", Some("live")).await.unwrap_err();
        assert_eq!(validation(e).field, "qualifier");
    }

    #[tokio::test]
    async fn list_functions_pages_by_marker() {
        let h = Harness::new();
        for name in ["e", "c", "a", "d", "b"] {
            h.create(name).await;
        }
        let names = |page: &FunctionPage| page.functions.iter().map(|f| f.config.name.to_string()).collect::<Vec<_>>();
        let first = h.plane.list_functions(&h.region, None, Some(2)).await.unwrap();
        assert_eq!(names(&first), ["a", "b"]);
        let second = h.plane.list_functions(&h.region, first.next_marker.as_deref(), Some(2)).await.unwrap();
        assert_eq!(names(&second), ["c", "d"]);
        let last = h.plane.list_functions(&h.region, second.next_marker.as_deref(), Some(2)).await.unwrap();
        assert_eq!(names(&last), ["e"]);
        assert_eq!(last.next_marker, None);
        let all = h.plane.list_functions(&h.region, None, None).await.unwrap();
        assert_eq!((all.functions.len(), all.next_marker), (5, None));
        assert_eq!(all.functions[0].arn, "arn:aws:lambda:us-east-1:000000000000:function:a");

        let e = h.plane.list_functions(&h.region, Some("not a marker!"), None).await.unwrap_err();
        assert_validation(e, "marker", "Member must be a marker returned by ListFunctions");
        let e = h.plane.list_functions(&h.region, None, Some(0)).await.unwrap_err();
        assert_validation(e, "maxItems", "greater than or equal to 1");
        let e = h.plane.list_functions(&h.region, None, Some(10_001)).await.unwrap_err();
        assert_validation(e, "maxItems", "less than or equal to 10000");
    }

    #[tokio::test]
    async fn list_functions_returns_at_most_50() {
        let h = Harness::new();
        for i in 0..51 {
            h.create(&format!("f{i:02}")).await;
        }
        let page = h.plane.list_functions(&h.region, None, Some(10_000)).await.unwrap();
        assert_eq!(page.functions.len(), 50);
        let rest = h.plane.list_functions(&h.region, page.next_marker.as_deref(), Some(10_000)).await.unwrap();
        assert_eq!(rest.functions.iter().map(|f| f.config.name.to_string()).collect::<Vec<_>>(), ["f50"]);
        assert_eq!(rest.next_marker, None);
    }

    #[tokio::test]
    async fn update_code_checks_the_revision_and_replaces_the_blob() {
        let h = Harness::new();
        let before = h.create("f").await;
        let stale = UpdateFunctionCode { revision_id: Some("stale".into()), ..code(package(1)) };
        let e = h.plane.update_function_code(&h.region, "f", stale).await.unwrap_err();
        assert!(matches!(e, ControlError::RevisionMismatch), "{e:?}");
        assert_eq!(
            e.to_string(),
            "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id"
        );
        assert_eq!(h.changes(), []);

        let req = UpdateFunctionCode { revision_id: Some(before.config.revision_id.clone()), ..code(package(1)) };
        let after = h.plane.update_function_code(&h.region, "f", req).await.unwrap();
        assert_ne!(after.config.code.sha256, before.config.code.sha256);
        assert_ne!(after.config.revision_id, before.config.revision_id);
        assert_eq!(after.config.timeout, before.config.timeout);
        assert_eq!(h.changes(), [code_updated("f")]);
        assert!(h.has_blob(&after.config.code.blob_key).await);
        assert!(!h.has_blob(&before.config.code.blob_key).await, "nothing names the old package any more");
        assert_eq!(h.plane.get_function(&h.region, "f", None).await.unwrap(), after);

        let req = UpdateFunctionCode { architectures: Some(vec!["arm64".into()]), ..code(package(2)) };
        let arm = h.plane.update_function_code(&h.region, "f", req).await.unwrap();
        assert_eq!(arm.config.architectures, [Architecture::Arm64]);
        let req = UpdateFunctionCode { architectures: Some(vec!["mips".into()]), ..code(package(3)) };
        let e = h.plane.update_function_code(&h.region, "f", req).await.unwrap_err();
        assert_eq!(validation(e).field, "architectures");

        let e = h.plane.update_function_code(&h.region, "f", UpdateFunctionCode::default()).await.unwrap_err();
        assert!(matches!(e, ControlError::CodeMissing), "{e:?}");
        let e = h.plane.update_function_code(&h.region, "nope", code(package(1))).await.unwrap_err();
        assert!(matches!(e, ControlError::FunctionNotFound { .. }), "{e:?}");
        assert_eq!(h.changes(), [code_updated("f")]);
    }

    #[tokio::test]
    async fn update_code_keeps_a_package_a_version_still_runs() {
        let h = Harness::new();
        let v0 = h.create("f").await;
        h.plane.publish_version(&h.region, "f", None, None, None).await.unwrap();
        h.plane.update_function_code(&h.region, "f", code(package(1))).await.unwrap();
        assert!(h.has_blob(&v0.config.code.blob_key).await);
        assert_eq!(h.plane.get_function(&h.region, "f:1", None).await.unwrap().config.code, v0.config.code);
    }

    #[tokio::test]
    async fn update_code_dry_run_and_publish() {
        let h = Harness::new();
        let before = h.create("f").await;
        let dry = UpdateFunctionCode { dry_run: true, ..code(package(1)) };
        let preview = h.plane.update_function_code(&h.region, "f", dry).await.unwrap();
        assert_ne!(preview.config.code.sha256, before.config.code.sha256);
        assert_eq!(h.plane.get_function(&h.region, "f", None).await.unwrap(), before, "a dry run changes nothing");
        assert!(!h.has_blob(&preview.config.code.blob_key).await);
        assert_eq!(h.changes(), []);

        let publish = UpdateFunctionCode { publish: true, ..code(package(1)) };
        let v1 = h.plane.update_function_code(&h.region, "f", publish).await.unwrap();
        assert_eq!(v1.config.version, "1");
        assert_eq!(v1.config.code.sha256, preview.config.code.sha256);
        assert_eq!(h.changes(), [code_updated("f"), published("f", "1")]);
    }

    #[tokio::test]
    async fn update_configuration_sets_only_what_is_given() {
        let h = Harness::new();
        let before = h.create("f").await;
        let stale = config(|r| {
            r.timeout = Some(10);
            r.revision_id = Some("stale".into());
        });
        let e = h.plane.update_function_configuration(&h.region, "f", stale).await.unwrap_err();
        assert!(matches!(e, ControlError::RevisionMismatch), "{e:?}");
        assert_eq!(h.changes(), []);

        let req = config(|r| {
            r.revision_id = Some(before.config.revision_id.clone());
            r.timeout = Some(10);
            r.memory_size = Some(256);
            r.ephemeral_storage = Some(1024);
            r.description = Some("new".into());
            r.dead_letter_target_arn = Some("arn:aws:sqs:us-east-1:000000000000:dlq".into());
            r.kms_key_arn = Some("arn:aws:kms:us-east-1:000000000000:key/k".into());
            r.vpc = Some((vec!["subnet-1".into()], vec!["sg-1".into()], false));
            r.tracing_mode = Some("Active".into());
        });
        let after = h.plane.update_function_configuration(&h.region, "f", req).await.unwrap();
        let c = &after.config;
        assert_eq!((c.timeout.get(), c.memory_size.get(), c.ephemeral_storage.get()), (10, 256, 1024));
        assert_eq!(c.description, "new");
        assert_eq!(c.dead_letter_target_arn.as_deref(), Some("arn:aws:sqs:us-east-1:000000000000:dlq"));
        assert!(c.kms_key_arn.is_some());
        assert_eq!(c.vpc.as_ref().unwrap().subnet_ids, ["subnet-1"]);
        assert_eq!(c.tracing_mode, "Active");
        assert_eq!((c.runtime.as_str(), c.handler.as_str()), ("python3.12", "app.handler"));
        assert_eq!(c.code, before.config.code);
        assert_ne!(c.revision_id, before.config.revision_id);
        assert_eq!(h.changes(), [config_updated("f")]);

        // An empty ARN clears the dead-letter target and the key.
        let req = config(|r| {
            r.dead_letter_target_arn = Some(String::new());
            r.kms_key_arn = Some(String::new());
        });
        let cleared = h.plane.update_function_configuration(&h.region, "f", req).await.unwrap();
        assert_eq!((cleared.config.dead_letter_target_arn, cleared.config.kms_key_arn), (None, None));
        assert_eq!(cleared.config.timeout.get(), 10);

        let e = h.plane.update_function_configuration(&h.region, "nope", config(|_| {})).await.unwrap_err();
        assert!(matches!(e, ControlError::FunctionNotFound { .. }), "{e:?}");
        assert_eq!(h.changes(), [config_updated("f")]);
    }

    #[tokio::test]
    async fn a_new_runtime_or_handler_is_checked_against_the_other() {
        let h = Harness::new();
        h.create_with(CreateFunction { handler: Some("pkg/app.handler".into()), ..create_req("f") }).await;
        let e = h
            .plane
            .update_function_configuration(&h.region, "f", config(|r| r.runtime = Some("java17".into())))
            .await
            .unwrap_err();
        assert!(
            matches!(&e, ControlError::Handler(HandlerError::Format { runtime, .. }) if runtime == "java17"),
            "{e:?}"
        );
        let e = h
            .plane
            .update_function_configuration(&h.region, "f", config(|r| r.handler = Some("nodot".into())))
            .await
            .unwrap_err();
        assert!(matches!(e, ControlError::Handler(HandlerError::Format { .. })), "{e:?}");
        let e = h
            .plane
            .update_function_configuration(&h.region, "f", config(|r| r.runtime = Some("python2.7".into())))
            .await
            .unwrap_err();
        assert!(matches!(e, ControlError::UnknownRuntime { .. }), "{e:?}");
        assert_eq!(h.changes(), []);
        let req = config(|r| {
            r.runtime = Some("java17".into());
            r.handler = Some("example.Handler::handleRequest".into());
        });
        let view = h.plane.update_function_configuration(&h.region, "f", req).await.unwrap();
        assert_eq!(
            (view.config.runtime.as_str(), view.config.handler.as_str()),
            ("java17", "example.Handler::handleRequest")
        );
        let view = h
            .plane
            .update_function_configuration(&h.region, "f", config(|r| r.runtime = Some("provided.al2023".into())))
            .await
            .unwrap();
        assert_eq!(view.config.handler, "example.Handler::handleRequest");
    }

    #[tokio::test]
    async fn concurrent_updates_without_a_revision_are_applied_again() {
        let store = Interfering::new();
        let h = Harness::build(store.clone() as Arc<dyn FunctionStore>, Default::default(), None);
        h.create("f").await;

        store.interfere(3);
        let view =
            h.plane.update_function_configuration(&h.region, "f", config(|r| r.timeout = Some(42))).await.unwrap();
        assert_eq!(store.written(), 3);
        assert_eq!(view.config.timeout.get(), 42);
        assert_eq!(view.config.description, "other writer 3", "applied to the newest $LATEST");
        assert_eq!(h.plane.get_function(&h.region, "f", None).await.unwrap(), view);
        assert_eq!(h.changes(), [config_updated("f")]);

        store.interfere(1);
        let view = h.plane.update_function_code(&h.region, "f", code(package(1))).await.unwrap();
        assert_eq!(view.config.description, "other writer 4");
        assert_eq!(view.config.timeout.get(), 42);
        assert_eq!(
            view.config.code.sha256,
            lambdabox_model::CodePackage::inspect(&package(1), u64::MAX).unwrap().sha256_base64
        );
        assert_eq!(h.changes(), [code_updated("f")]);
    }

    #[tokio::test]
    async fn a_caller_revision_is_never_rebased() {
        let store = Interfering::new();
        let h = Harness::build(store.clone() as Arc<dyn FunctionStore>, Default::default(), None);
        let view = h.create("f").await;
        store.interfere(1);
        let req = config(|r| {
            r.timeout = Some(42);
            r.revision_id = Some(view.config.revision_id.clone());
        });
        let e = h.plane.update_function_configuration(&h.region, "f", req).await.unwrap_err();
        assert!(matches!(e, ControlError::RevisionMismatch), "{e:?}");
        let now = h.plane.get_function(&h.region, "f", None).await.unwrap();
        assert_eq!((now.config.timeout.get(), now.config.description.as_str()), (3, "other writer 1"));

        store.interfere(1);
        let req = UpdateFunctionCode { revision_id: Some(now.config.revision_id.clone()), ..code(package(1)) };
        let e = h.plane.update_function_code(&h.region, "f", req).await.unwrap_err();
        assert!(matches!(e, ControlError::RevisionMismatch), "{e:?}");
        let key = lambdabox_model::CodePackage::inspect(&package(1), u64::MAX).unwrap().sha256_hex;
        assert!(!h.has_blob(&key).await, "the package of a failed update is released");
        assert!(h.has_blob(&view.config.code.blob_key).await);
        assert_eq!(h.changes(), []);
    }

    #[tokio::test]
    async fn endless_races_end_in_update_in_progress() {
        let store = Interfering::new();
        let h = Harness::build(store.clone() as Arc<dyn FunctionStore>, Default::default(), None);
        h.create("f").await;
        store.interfere(usize::MAX);
        let e =
            h.plane.update_function_configuration(&h.region, "f", config(|r| r.timeout = Some(5))).await.unwrap_err();
        assert!(matches!(e, ControlError::UpdateInProgress { .. }), "{e:?}");
        assert_eq!(
            e.to_string(),
            "The operation cannot be performed at this time. An update is in progress for resource: arn:aws:lambda:us-east-1:000000000000:function:f"
        );
        assert_eq!(store.written(), 64);
        let e = h.plane.update_function_code(&h.region, "f", code(package(1))).await.unwrap_err();
        assert!(matches!(e, ControlError::UpdateInProgress { .. }), "{e:?}");
        store.interfere(0);
        let key = lambdabox_model::CodePackage::inspect(&package(1), u64::MAX).unwrap().sha256_hex;
        assert!(!h.has_blob(&key).await);
        assert_eq!(h.changes(), []);
    }

    #[tokio::test]
    async fn delete_function_removes_everything_once() {
        let h = Harness::new();
        let view = h.create("f").await;
        h.plane.publish_version(&h.region, "f", None, None, None).await.unwrap();
        h.changes();

        for q in [Some("$LATEST"), None] {
            let id = if q.is_some() { "f" } else { "f:$LATEST" };
            let e = h.plane.delete_function(&h.region, id, q).await.unwrap_err();
            assert!(matches!(e, ControlError::DeleteLatestQualifier), "{e:?}");
            assert_eq!(e.to_string(), "$LATEST version cannot be deleted without deleting the function.");
        }
        assert_eq!(h.changes(), []);

        h.plane.delete_function(&h.region, "arn:aws:lambda:us-east-1:000000000000:function:f", None).await.unwrap();
        assert_eq!(h.changes(), [deleted("f")]);
        let e = h.plane.get_function(&h.region, "f", None).await.unwrap_err();
        assert!(matches!(e, ControlError::FunctionNotFound { .. }));
        let e = h.plane.get_function(&h.region, "f:1", None).await.unwrap_err();
        assert!(matches!(e, ControlError::FunctionNotFound { .. }));
        assert!(!h.has_blob(&view.config.code.blob_key).await);
        let e = h.plane.delete_function(&h.region, "f", None).await.unwrap_err();
        assert_eq!(e.to_string(), "Function not found: arn:aws:lambda:us-east-1:000000000000:function:f");
        assert_eq!(h.changes(), []);

        // The name is free again, with no versions.
        h.create("f").await;
        let versions = h.plane.list_versions(&h.region, "f", None, None).await.unwrap();
        assert_eq!(versions.versions.len(), 1);
    }

    #[tokio::test]
    async fn delete_refuses_two_different_qualifiers() {
        let h = Harness::new();
        h.create("f").await;
        h.publish_new("f", 10).await;
        h.publish_new("f", 11).await;
        let e = h.plane.delete_function(&h.region, "f:1", Some("2")).await.unwrap_err();
        assert_eq!(validation(e).field, "qualifier");
        assert!(h.plane.get_function(&h.region, "f:2", None).await.is_ok());
        assert!(h.plane.get_function(&h.region, "f:1", None).await.is_ok());
        h.plane.delete_function(&h.region, "f:2", Some("2")).await.unwrap();
        assert_eq!(h.changes(), [version_deleted("f", "2")]);
    }
}
