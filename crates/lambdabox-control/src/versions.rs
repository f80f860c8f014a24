//! Versions: PublishVersion, ListVersionsByFunction, deleting one version,
//! and resolving a qualifier (`$LATEST`, a version number or an alias) to
//! the configuration it names.

use lambdabox_model::arn::qualified_function_arn;
use lambdabox_model::{FunctionConfig, FunctionName, Region};
use lambdabox_store::{FunctionRecord, StoreError};

use crate::plane::{
    blocking, check_revision, decode_marker, encode_marker, merge_qualifier, new_revision, now, page_limit,
};
use crate::{Change, ControlError, ControlPlane, FunctionView};

/// One page of ListVersionsByFunction.
#[derive(Debug, Clone)]
pub struct VersionPage {
    pub versions: Vec<FunctionView>,
    pub next_marker: Option<String>,
}

/// Whether two configurations differ in anything a version captures.
fn same_content(a: &FunctionConfig, b: &FunctionConfig) -> bool {
    let strip = |c: &FunctionConfig| FunctionConfig {
        version: String::new(),
        revision_id: String::new(),
        last_modified: String::new(),
        description: String::new(),
        ..c.clone()
    };
    strip(a) == strip(b)
}

/// What one store trip of [`ControlPlane::resolve`] found.
enum Lookup {
    NoFunction,
    /// The alias or version does not exist.
    NoQualifier,
    /// The function, and the configuration its qualifier names (if one was given).
    Found(Box<FunctionRecord>, Option<Box<FunctionConfig>>),
}

impl ControlPlane {
    fn qualified_view(
        &self,
        region: &Region,
        record: &FunctionRecord,
        config: FunctionConfig,
        q: &str,
    ) -> FunctionView {
        FunctionView {
            arn: qualified_function_arn(region, &self.config.account, config.name.as_str(), q),
            config,
            tags: record.tags.clone(),
        }
    }

    /// The configuration a qualified identifier names. For an alias with
    /// weighted routing, `sample` (uniform in [0, 1)) picks the version; without
    /// it the alias's primary version is returned.
    pub async fn resolve(
        &self,
        region: &Region,
        identifier: &str,
        qualifier: Option<&str>,
        sample: Option<f64>,
    ) -> Result<FunctionView, ControlError> {
        let function = self.function_ref(region, identifier, "functionName")?;
        let qualifier = merge_qualifier(&function, qualifier)?;
        // The record, version and alias may all be in memory (no blocking-pool hop).
        if let Some(record) = self.store.peek(&function.name) {
            let Some(q) = qualifier.as_deref() else { return Ok(self.view(region, record)) };
            let version = if q == "$LATEST" || q.bytes().all(|b| b.is_ascii_digit()) {
                Some(q.to_owned())
            } else {
                self.store.peek_alias(&function.name, q).map(|alias| match sample {
                    Some(x) => alias.pick_version(x).to_owned(),
                    None => alias.function_version.clone(),
                })
            };
            let config = match version.as_deref() {
                Some("$LATEST") => Some(record.latest.clone()),
                Some(v) => self.store.peek_version(&function.name, v),
                None => None,
            };
            if let Some(config) = config {
                return Ok(self.qualified_view(region, &record, config, q));
            }
        }
        // One trip to the store for the whole lookup (function, alias, version).
        let (name, q) = (function.name.clone(), qualifier.clone());
        let found = blocking(&self.store, move |s| {
            let Some(record) = s.get(&name)? else { return Ok(Lookup::NoFunction) };
            let Some(q) = q else { return Ok(Lookup::Found(Box::new(record), None)) };
            if q == "$LATEST" {
                let latest = record.latest.clone();
                return Ok(Lookup::Found(Box::new(record), Some(Box::new(latest))));
            }
            let version = if q.bytes().all(|b| b.is_ascii_digit()) {
                q
            } else {
                let Some(alias) = s.get_alias(&name, &q)? else { return Ok(Lookup::NoQualifier) };
                match sample {
                    Some(x) => alias.pick_version(x).to_owned(),
                    None => alias.function_version.clone(),
                }
            };
            let config =
                if version == "$LATEST" { Some(record.latest.clone()) } else { s.get_version(&name, &version)? };
            Ok(match config {
                Some(config) => Lookup::Found(Box::new(record), Some(Box::new(config))),
                None => Lookup::NoQualifier,
            })
        })
        .await?;
        match (found, qualifier) {
            (Lookup::Found(record, None), _) => Ok(self.view(region, *record)),
            (Lookup::Found(record, Some(config)), Some(q)) => Ok(self.qualified_view(region, &record, *config, &q)),
            (Lookup::Found(record, Some(_)), None) => Ok(self.view(region, *record)),
            (Lookup::NoFunction | Lookup::NoQualifier, q) => Err(self.not_found(region, &function.name, q.as_deref())),
        }
    }

    /// PublishVersion: snapshots `$LATEST`, or returns the newest version
    /// when nothing changed since it was published.
    pub async fn publish_version(
        &self,
        region: &Region,
        identifier: &str,
        code_sha256: Option<&str>,
        description: Option<&str>,
        revision_id: Option<&str>,
    ) -> Result<FunctionView, ControlError> {
        let record = self.load(region, identifier, None).await?;
        check_revision(&record.latest, revision_id)?;
        if let Some(given) = code_sha256.filter(|g| *g != record.latest.code.sha256) {
            return Err(ControlError::CodeSha256Mismatch {
                given: given.to_owned(),
                current: record.latest.code.sha256.clone(),
            });
        }
        let name = record.latest.name.clone();
        let versions = blocking(&self.store, move |s| s.list_versions(&name)).await?;
        if let Some(newest) = versions.last().filter(|v| v.version != "$LATEST")
            && same_content(newest, &record.latest)
        {
            let newest = newest.clone();
            let version = newest.version.clone();
            return Ok(self.qualified_view(region, &record, newest, &version));
        }
        let name = record.latest.name.clone();
        let last = blocking(&self.store, move |s| s.last_version(&name)).await?;
        let mut config = record.latest.clone();
        config.version = (last + 1).to_string();
        config.revision_id = new_revision();
        config.last_modified = now();
        if let Some(d) = description {
            config.description = lambdabox_model::config::parse_description(d)?;
        }
        let (stored, expected) = (config.clone(), record.latest.revision_id.clone());
        match blocking(&self.store, move |s| s.publish_version(&stored, &expected)).await {
            Ok(()) => {}
            Err(StoreError::RevisionMismatch { .. } | StoreError::VersionConflict { .. }) => {
                return Err(ControlError::RevisionMismatch);
            }
            Err(e) => return Err(e.into()),
        }
        let version = config.version.clone();
        self.publish(Change::VersionPublished { name: config.name.to_string(), version: version.clone() }).await;
        Ok(self.qualified_view(region, &record, config, &version))
    }

    /// ListVersionsByFunction: `$LATEST` first, then the published versions.
    pub async fn list_versions(
        &self,
        region: &Region,
        identifier: &str,
        marker: Option<&str>,
        max_items: Option<i64>,
    ) -> Result<VersionPage, ControlError> {
        let limit = page_limit(max_items)?;
        let record = self.load(region, identifier, None).await?;
        let name = record.latest.name.clone();
        let versions = blocking(&self.store, move |s| s.list_versions(&name)).await?;
        let start = match marker.map(decode_marker).transpose()? {
            Some(after) => versions.iter().position(|v| v.version == after).map_or(versions.len(), |i| i + 1),
            None => 0,
        };
        let page: Vec<FunctionConfig> = versions.iter().skip(start).take(limit).cloned().collect();
        let next_marker = (start + page.len() < versions.len()).then(|| encode_marker(&page[page.len() - 1].version));
        let views = page
            .into_iter()
            .map(|c| {
                let q = c.version.clone();
                self.qualified_view(region, &record, c, &q)
            })
            .collect();
        Ok(VersionPage { versions: views, next_marker })
    }

    /// DeleteFunction with a version qualifier.
    pub(crate) async fn delete_version(
        &self,
        region: &Region,
        name: &FunctionName,
        version: &str,
    ) -> Result<(), ControlError> {
        if !version.bytes().all(|b| b.is_ascii_digit()) {
            // An alias is not a version: AWS answers as for a missing version.
            return Err(self.not_found(region, name, Some(version)));
        }
        let _guard = self.code_lock.lock().await;
        let (n, v) = (name.clone(), version.to_owned());
        match blocking(&self.store, move |s| s.delete_version(&n, &v)).await {
            Ok(Some(config)) => {
                let released = self.release_blob(&config.code.blob_key).await;
                drop(_guard);
                self.publish(Change::VersionDeleted { name: name.to_string(), version: version.to_owned() }).await;
                released
            }
            Ok(None) => Err(self.not_found(region, name, Some(version))),
            Err(StoreError::VersionInUse { aliases, .. }) => Err(ControlError::VersionInUse { aliases }),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::AliasInput;
    use crate::test_support::*;
    use lambdabox_model::config::CodeInfo;

    #[test]
    fn content_ignores_bookkeeping() {
        let base = lambdabox_model::FunctionConfig {
            name: FunctionName::parse("f").unwrap(),
            version: "$LATEST".into(),
            runtime: "python3.11".into(),
            handler: "a.b".into(),
            role: "r".into(),
            description: "x".into(),
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
            code: CodeInfo { sha256: "s".into(), size: 1, unzipped_size: 1, blob_key: "k".into() },
            last_modified: "t1".into(),
            revision_id: "r1".into(),
        };
        let mut other = base.clone();
        other.version = "3".into();
        other.revision_id = "r9".into();
        other.last_modified = "t9".into();
        assert!(same_content(&base, &other));
        other.handler = "a.c".into();
        assert!(!same_content(&base, &other));
    }

    fn alias(version: &str, weights: &[(&str, f64)]) -> AliasInput {
        AliasInput {
            function_version: Some(version.into()),
            additional_version_weights: Some(
                weights.iter().map(|(v, w)| (v.to_string(), *w)).collect::<BTreeMap<_, _>>(),
            ),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn publish_snapshots_latest_only_when_it_changed() {
        let h = Harness::new();
        let latest = h.create("f").await;
        let v1 = h.plane.publish_version(&h.region, "f", None, Some("first"), None).await.unwrap();
        assert_eq!(v1.config.version, "1");
        assert_eq!(v1.arn, "arn:aws:lambda:us-east-1:000000000000:function:f:1");
        assert_eq!(v1.config.description, "first");
        assert_eq!(v1.config.code, latest.config.code);
        assert_ne!(v1.config.revision_id, latest.config.revision_id);
        assert_eq!(h.changes(), [published("f", "1")]);

        // Nothing changed: the newest version is returned, nothing announced.
        let again = h.plane.publish_version(&h.region, "f", None, Some("other text"), None).await.unwrap();
        assert_eq!((again.config.version.as_str(), again.config.description.as_str()), ("1", "first"));
        // A new description alone is no change either.
        h.touch("f", "described").await;
        let again = h.plane.publish_version(&h.region, "f", None, None, None).await.unwrap();
        assert_eq!(again.config.version, "1");
        assert_eq!(h.changes(), []);

        h.plane
            .update_function_configuration(
                &h.region,
                "f",
                crate::UpdateFunctionConfiguration { memory_size: Some(256), ..Default::default() },
            )
            .await
            .unwrap();
        h.changes();
        let v2 = h.plane.publish_version(&h.region, "f", None, None, None).await.unwrap();
        assert_eq!((v2.config.version.as_str(), v2.config.memory_size.get()), ("2", 256));
        assert_eq!(v2.config.description, "described", "a version keeps $LATEST's description unless given one");
        assert_eq!(h.changes(), [published("f", "2")]);
        let v1 = h.plane.get_function(&h.region, "f:1", None).await.unwrap();
        assert_eq!(v1.config.memory_size.get(), 128, "a version never changes");
    }

    #[tokio::test]
    async fn publish_checks_code_sha256_revision_and_description() {
        let h = Harness::new();
        let latest = h.create("f").await;
        let e = h.plane.publish_version(&h.region, "f", Some("bm9wZQ=="), None, None).await.unwrap_err();
        assert!(matches!(e, ControlError::CodeSha256Mismatch { .. }), "{e:?}");
        assert_eq!(
            e.to_string(),
            format!(
                "CodeSHA256 (bm9wZQ==) is different from current CodeSHA256 in $LATEST ({}). Please try again with the current CodeSHA256.",
                latest.config.code.sha256
            )
        );
        let e = h.plane.publish_version(&h.region, "f", None, None, Some("stale")).await.unwrap_err();
        assert!(matches!(e, ControlError::RevisionMismatch), "{e:?}");
        let e = h.plane.publish_version(&h.region, "f", None, Some(&"d".repeat(257)), None).await.unwrap_err();
        assert_validation(e, "description", "less than or equal to 256");
        let e = h.plane.publish_version(&h.region, "nope", None, None, None).await.unwrap_err();
        assert!(matches!(e, ControlError::FunctionNotFound { .. }), "{e:?}");
        assert_eq!(h.changes(), []);

        let v1 = h
            .plane
            .publish_version(&h.region, "f", Some(&latest.config.code.sha256), None, Some(&latest.config.revision_id))
            .await
            .unwrap();
        assert_eq!(v1.config.version, "1");
        assert_eq!(h.changes(), [published("f", "1")]);
    }

    #[tokio::test]
    async fn version_numbers_are_never_reused() {
        let h = Harness::new();
        h.create("f").await;
        assert_eq!(h.publish_new("f", 10).await, "1");
        assert_eq!(h.publish_new("f", 11).await, "2");
        h.plane.delete_function(&h.region, "f", Some("2")).await.unwrap();
        assert_eq!(h.changes(), [version_deleted("f", "2")]);
        assert_eq!(h.publish_new("f", 12).await, "3");
        let versions = h.plane.list_versions(&h.region, "f", None, None).await.unwrap();
        let numbers: Vec<&str> = versions.versions.iter().map(|v| v.config.version.as_str()).collect();
        assert_eq!(numbers, ["$LATEST", "1", "3"]);
    }

    #[tokio::test]
    async fn list_versions_pages_latest_first() {
        let h = Harness::new();
        h.create("f").await;
        for t in 10..13 {
            h.publish_new("f", t).await;
        }
        let first = h.plane.list_versions(&h.region, "f", None, Some(2)).await.unwrap();
        let numbers = |p: &VersionPage| p.versions.iter().map(|v| v.config.version.clone()).collect::<Vec<_>>();
        assert_eq!(numbers(&first), ["$LATEST", "1"]);
        assert_eq!(first.versions[0].arn, "arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST");
        assert_eq!(first.versions[1].arn, "arn:aws:lambda:us-east-1:000000000000:function:f:1");
        let second = h.plane.list_versions(&h.region, "f", first.next_marker.as_deref(), Some(2)).await.unwrap();
        assert_eq!(numbers(&second), ["2", "3"]);
        assert_eq!(second.next_marker, None);
        let all = h.plane.list_versions(&h.region, "f", None, None).await.unwrap();
        assert_eq!((all.versions.len(), all.next_marker), (4, None));

        let e = h.plane.list_versions(&h.region, "f", None, Some(0)).await.unwrap_err();
        assert_validation(e, "maxItems", "greater than or equal to 1");
        let e = h.plane.list_versions(&h.region, "f", Some("%%%"), None).await.unwrap_err();
        assert_eq!(validation(e).field, "marker");
        let e = h.plane.list_versions(&h.region, "nope", None, None).await.unwrap_err();
        assert!(matches!(e, ControlError::FunctionNotFound { .. }), "{e:?}");
    }

    #[tokio::test]
    async fn qualifiers_resolve_to_versions_and_aliases() {
        let h = Harness::new();
        h.create("f").await;
        h.publish_new("f", 10).await;
        h.publish_new("f", 20).await;
        h.plane.create_alias(&h.region, "f", Some("live"), alias("1", &[("2", 0.25)])).await.unwrap();

        // Twice each: once from the store, once from the cache.
        for _ in 0..2 {
            let v = h.plane.resolve(&h.region, "f", Some("2"), None).await.unwrap();
            assert_eq!((v.config.version.as_str(), v.config.timeout.get()), ("2", 20));
            let v = h.plane.resolve(&h.region, "f", Some("$LATEST"), None).await.unwrap();
            assert_eq!(v.config.version, "$LATEST");
            let v = h.plane.resolve(&h.region, "f:live", None, None).await.unwrap();
            assert_eq!(v.arn, "arn:aws:lambda:us-east-1:000000000000:function:f:live");
            assert_eq!(v.config.version, "1", "without a sample, the primary version");
            let v = h.plane.resolve(&h.region, "f", Some("live"), Some(0.1)).await.unwrap();
            assert_eq!(v.config.version, "2", "a sample below the weight takes the additional version");
            let v = h.plane.resolve(&h.region, "f", Some("live"), Some(0.25)).await.unwrap();
            assert_eq!(v.config.version, "1");
            let v = h.plane.resolve(&h.region, "f", None, None).await.unwrap();
            assert_eq!(v.arn, "arn:aws:lambda:us-east-1:000000000000:function:f");
        }
        for (q, arn) in [("9", "f:9"), ("dev", "f:dev")] {
            let e = h.plane.resolve(&h.region, "f", Some(q), None).await.unwrap_err();
            assert_eq!(
                e.to_string(),
                format!("Function not found: arn:aws:lambda:us-east-1:000000000000:function:{arn}")
            );
        }
        let e = h.plane.resolve(&h.region, "g", Some("1"), None).await.unwrap_err();
        assert_eq!(e.to_string(), "Function not found: arn:aws:lambda:us-east-1:000000000000:function:g:1");
    }

    #[tokio::test]
    async fn delete_version_refuses_aliases_targets_and_non_versions() {
        let h = Harness::new();
        let latest = h.create("f").await;
        h.publish_new("f", 10).await;
        h.publish_new("f", 20).await;
        h.publish_new("f", 30).await;
        h.plane.create_alias(&h.region, "f", Some("live"), alias("1", &[("2", 0.5)])).await.unwrap();
        h.changes();

        for version in ["1", "2"] {
            let e = h.plane.delete_function(&h.region, "f", Some(version)).await.unwrap_err();
            assert!(matches!(&e, ControlError::VersionInUse { aliases } if aliases == &["live"]), "{e:?}");
            assert_eq!(
                e.to_string(),
                "Unable to delete version because the following aliases reference it: [\"live\"]"
            );
        }
        let e = h.plane.delete_function(&h.region, "f", Some("live")).await.unwrap_err();
        assert_eq!(e.to_string(), "Function not found: arn:aws:lambda:us-east-1:000000000000:function:f:live");
        let e = h.plane.delete_function(&h.region, "f:7", None).await.unwrap_err();
        assert_eq!(e.to_string(), "Function not found: arn:aws:lambda:us-east-1:000000000000:function:f:7");
        let e = h.plane.delete_function(&h.region, "g", Some("1")).await.unwrap_err();
        assert!(matches!(e, ControlError::FunctionNotFound { .. }), "{e:?}");
        assert_eq!(h.changes(), []);

        h.plane.delete_function(&h.region, "f:3", None).await.unwrap();
        assert_eq!(h.changes(), [version_deleted("f", "3")]);
        assert!(matches!(
            h.plane.get_function(&h.region, "f:3", None).await,
            Err(ControlError::FunctionNotFound { .. })
        ));
        assert!(h.plane.get_function(&h.region, "f", None).await.is_ok());
        assert!(h.has_blob(&latest.config.code.blob_key).await, "$LATEST still runs that package");
        let e = h.plane.delete_function(&h.region, "f", Some("3")).await.unwrap_err();
        assert!(matches!(e, ControlError::FunctionNotFound { .. }), "{e:?}");
    }

    #[tokio::test]
    async fn deleting_a_version_releases_a_package_only_it_ran() {
        let h = Harness::new();
        let old = h.create("f").await;
        h.plane.publish_version(&h.region, "f", None, None, None).await.unwrap();
        let req = crate::UpdateFunctionCode { code: Some(crate::CodeSource::Zip(package(1))), ..Default::default() };
        h.plane.update_function_code(&h.region, "f", req).await.unwrap();
        assert!(h.has_blob(&old.config.code.blob_key).await);
        h.plane.delete_function(&h.region, "f", Some("1")).await.unwrap();
        assert!(!h.has_blob(&old.config.code.blob_key).await);
    }
}
