//! Code intake: a package inline or from S3, inspected, checked against the
//! account's code storage, stored as a content-addressed blob (and released
//! when nothing names it); a function's layers resolved and checked
//! together.

use bytes::Bytes;
use lambdabox_model::config::CodeInfo;
use lambdabox_model::layer::{FunctionLayer, LayerVersionArn};
use lambdabox_model::limits::{CODE_REQUEST_BODY, CODE_SIZE_UNZIPPED, CODE_SIZE_ZIPPED, LAYERS_MAX};
use lambdabox_model::{CodePackage, Region, ValidationError};

use crate::input::CodeSource;
use crate::plane::blocking;
use crate::{ControlError, ControlPlane};

impl ControlPlane {
    /// The package's bytes: inline, or copied from S3 now.
    pub(crate) async fn read_source(&self, source: Option<CodeSource>) -> Result<Bytes, ControlError> {
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
    /// Resolves a function's `Layers` to the layer versions they name.
    pub(crate) async fn layers(&self, region: &Region, arns: Vec<String>) -> Result<Vec<FunctionLayer>, ControlError> {
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
}

/// The unzipped code and layers together stay within 250 MB.
pub(crate) fn check_combined_size(code: &CodeInfo, layers: &[FunctionLayer]) -> Result<(), ControlError> {
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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Arc;

    use async_trait::async_trait;
    use lambdabox_model::PackageError;
    use lambdabox_store::{CachedStore, SqliteStore};

    use super::*;
    use crate::test_support::*;
    use crate::{
        CodeFetcher, ControlPlaneConfig, CreateFunction, FetchError, UpdateFunctionCode, UpdateFunctionConfiguration,
    };

    fn with_code(zip: Bytes) -> CreateFunction {
        CreateFunction { code: Some(CodeSource::Zip(zip)), ..create_req("f") }
    }

    fn with_layers(name: &str, layers: &[&str]) -> CreateFunction {
        CreateFunction { layers: Some(layers.iter().map(|l| l.to_string()).collect()), ..create_req(name) }
    }

    fn layer_arn(name: &str, version: u64) -> String {
        format!("arn:aws:lambda:us-east-1:000000000000:layer:{name}:{version}")
    }

    #[tokio::test]
    async fn zipped_packages_stay_within_50_mb() {
        let h = Harness::new();
        h.create("g").await;
        let too_big = Bytes::from(vec![0u8; CODE_SIZE_ZIPPED as usize + 1]);
        let e = h.plane.create_function(&h.region, with_code(too_big.clone())).await.unwrap_err();
        assert!(
            matches!(e, ControlError::RequestTooLarge { limit: CODE_REQUEST_BODY, operation: "CreateFunction" }),
            "{e:?}"
        );
        assert_eq!(e.to_string(), "Request must be smaller than 69905067 bytes for the CreateFunction operation");
        let req = UpdateFunctionCode { code: Some(CodeSource::Zip(too_big.clone())), ..Default::default() };
        let e = h.plane.update_function_code(&h.region, "g", req).await.unwrap_err();
        assert!(matches!(e, ControlError::RequestTooLarge { operation: "UpdateFunctionCode", .. }), "{e:?}");
        let e = h.plane.publish_layer_version(&h.region, "l", layer_req(too_big)).await.unwrap_err();
        assert!(matches!(e, ControlError::RequestTooLarge { operation: "PublishLayerVersion", .. }), "{e:?}");
        // Exactly 50 MB passes the size check (and then fails as not a zip).
        let at_limit = Bytes::from(vec![0u8; CODE_SIZE_ZIPPED as usize]);
        let e = h.plane.create_function(&h.region, with_code(at_limit)).await.unwrap_err();
        assert!(matches!(e, ControlError::Package(PackageError::NotAZip)), "{e:?}");
        assert_eq!(h.changes(), []);
    }

    #[tokio::test]
    async fn unzipped_packages_stay_within_250_mb() {
        let h = Harness::new();
        let e = h
            .plane
            .create_function(&h.region, with_code(package_unzipping_to(CODE_SIZE_UNZIPPED + 1)))
            .await
            .unwrap_err();
        assert!(
            matches!(e, ControlError::Package(PackageError::UnzippedTooLarge { limit: CODE_SIZE_UNZIPPED })),
            "{e:?}"
        );
        assert_eq!(e.to_string(), "Unzipped size must be smaller than 262144000 bytes");
        assert_eq!(h.changes(), []);
        assert_eq!(h.plane.collect_garbage().await.unwrap(), 0, "nothing was stored");
    }

    #[tokio::test]
    async fn code_and_layers_together_stay_within_250_mb() {
        let h = Harness::new();
        let half = package_unzipping_to(CODE_SIZE_UNZIPPED / 2);
        let over_half = package_unzipping_to(CODE_SIZE_UNZIPPED / 2 + 1);
        let layer = h.publish_layer("big", half.clone()).await;
        assert_eq!(layer.layer.code.unzipped_size, CODE_SIZE_UNZIPPED / 2);
        let arn = layer.layer_version_arn.clone();

        // Exactly 250 MB together is allowed.
        let req = CreateFunction { layers: Some(vec![arn.clone()]), ..with_code(half.clone()) };
        h.plane.create_function(&h.region, req).await.unwrap();
        h.changes();
        // One byte more is not, on create, on a code update and on a layers update.
        let req = CreateFunction { layers: Some(vec![arn.clone()]), ..with_code(over_half.clone()) };
        let req = CreateFunction { function_name: "g".into(), ..req };
        let e = h.plane.create_function(&h.region, req).await.unwrap_err();
        assert!(
            matches!(e, ControlError::CombinedSizeExceeded { limit: CODE_SIZE_UNZIPPED, actual } if actual == CODE_SIZE_UNZIPPED + 1),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            "Function code combined with layers exceeds the maximum allowed size of 262144000 bytes. The actual size is 262144001 bytes."
        );
        let req = UpdateFunctionCode { code: Some(CodeSource::Zip(over_half.clone())), ..Default::default() };
        let e = h.plane.update_function_code(&h.region, "f", req).await.unwrap_err();
        assert!(matches!(e, ControlError::CombinedSizeExceeded { .. }), "{e:?}");

        h.create_with(CreateFunction { function_name: "g".into(), ..with_code(over_half) }).await;
        let req = UpdateFunctionConfiguration { layers: Some(vec![arn]), ..Default::default() };
        let e = h.plane.update_function_configuration(&h.region, "g", req).await.unwrap_err();
        assert!(matches!(e, ControlError::CombinedSizeExceeded { .. }), "{e:?}");
        assert!(h.plane.get_function(&h.region, "g", None).await.unwrap().config.layers.is_empty());
        assert_eq!(h.changes(), []);
    }

    #[test]
    fn combined_size_adds_every_layer() {
        let info = |unzipped_size| lambdabox_model::config::CodeInfo {
            sha256: String::new(),
            size: 1,
            unzipped_size,
            blob_key: String::new(),
        };
        let layer = |unzipped_size| FunctionLayer { arn: "a".into(), code: info(unzipped_size) };
        let third = CODE_SIZE_UNZIPPED / 3;
        assert!(check_combined_size(&info(third), &[layer(third), layer(CODE_SIZE_UNZIPPED - 2 * third)]).is_ok());
        assert!(matches!(
            check_combined_size(&info(third), &[layer(third), layer(third), layer(3)]),
            Err(ControlError::CombinedSizeExceeded { .. })
        ));
    }

    #[tokio::test]
    async fn total_code_storage_counts_every_version_and_layer() {
        let size = package(0).len() as u64;
        let h = Harness::with_config(ControlPlaneConfig { total_code_size: 3 * size - 1, ..Default::default() });
        h.create("f").await;
        h.plane.publish_version(&h.region, "f", None, None, None).await.unwrap();
        h.changes();
        assert_eq!(h.plane.account_settings().await.unwrap().usage.total_code_size, 2 * size);

        // $LATEST and version 1 take 2 packages' worth; a third does not fit.
        let req = CreateFunction { function_name: "g".into(), ..with_code(package(1)) };
        let e = h.plane.create_function(&h.region, req).await.unwrap_err();
        assert!(matches!(e, ControlError::CodeStorageExceeded), "{e:?}");
        assert_eq!(e.to_string(), "Code storage limit exceeded.");
        let req = UpdateFunctionCode { code: Some(CodeSource::Zip(package(1))), ..Default::default() };
        let e = h.plane.update_function_code(&h.region, "f", req).await.unwrap_err();
        assert!(matches!(e, ControlError::CodeStorageExceeded), "{e:?}");
        let e = h.plane.publish_layer_version(&h.region, "l", layer_req(package(2))).await.unwrap_err();
        assert!(matches!(e, ControlError::CodeStorageExceeded), "{e:?}");
        assert_eq!(h.changes(), []);
        assert_eq!(h.plane.account_settings().await.unwrap().total_code_size, 3 * size - 1);

        // Deleting the version frees its share.
        h.plane.delete_function(&h.region, "f", Some("1")).await.unwrap();
        h.plane.publish_layer_version(&h.region, "l", layer_req(package(2))).await.unwrap();
    }

    #[tokio::test]
    async fn package_inspection_errors_surface_as_package_errors() {
        let h = Harness::new();
        let before = h.create("g").await;
        type Expected = fn(&PackageError) -> bool;
        let cases: Vec<(Bytes, Expected)> = vec![
            (Bytes::from_static(b"hello"), |e| matches!(e, PackageError::NotAZip)),
            (zip_of(&[]), |e| matches!(e, PackageError::Empty)),
            (zip_of(&[("../evil.py", b"x")]), |e| matches!(e, PackageError::UnsafePath { .. })),
            (zip_with_links(&[("link", "/etc/passwd", true)]), |e| matches!(e, PackageError::SymlinkEscapes { .. })),
            (zip_with_links(&[("d/", "", false), ("l", "d", true), ("l/f", "x", false)]), |e| {
                matches!(e, PackageError::UnderSymlink { .. })
            }),
            (zip_of(&[("x", b"1"), ("x/y", b"2")]), |e| matches!(e, PackageError::Conflict { .. })),
        ];
        for (zip, expected) in cases {
            let e = h.plane.create_function(&h.region, with_code(zip.clone())).await.unwrap_err();
            assert!(matches!(&e, ControlError::Package(p) if expected(p)), "create: {e:?}");
            let req = UpdateFunctionCode { code: Some(CodeSource::Zip(zip.clone())), ..Default::default() };
            let e = h.plane.update_function_code(&h.region, "g", req).await.unwrap_err();
            assert!(matches!(&e, ControlError::Package(p) if expected(p)), "update: {e:?}");
            let e = h.plane.publish_layer_version(&h.region, "l", layer_req(zip)).await.unwrap_err();
            assert!(matches!(&e, ControlError::Package(p) if expected(p)), "layer: {e:?}");
        }
        let e = h.plane.create_function(&h.region, with_code(Bytes::from_static(b"PK"))).await.unwrap_err();
        assert_eq!(e.to_string(), "Could not unzip uploaded file. Please check your file, then try to upload again.");
        assert_eq!(h.plane.get_function(&h.region, "g", None).await.unwrap(), before);
        assert!(matches!(h.plane.get_function(&h.region, "f", None).await, Err(ControlError::FunctionNotFound { .. })));
        assert_eq!(h.changes(), []);
        assert_eq!(h.plane.collect_garbage().await.unwrap(), 0, "nothing was stored");
    }

    #[tokio::test]
    async fn a_source_is_required() {
        let h = Harness::new();
        let e = h.plane.create_function(&h.region, CreateFunction { code: None, ..create_req("f") }).await.unwrap_err();
        assert!(matches!(e, ControlError::CodeMissing), "{e:?}");
        assert_eq!(e.to_string(), "Please provide a source for function code.");
        let e = h.plane.publish_layer_version(&h.region, "l", Default::default()).await.unwrap_err();
        assert_validation(e, "content", "Member must not be null");
    }

    /// Objects by (bucket, key, version).
    struct FakeS3(HashMap<(String, String, Option<String>), Bytes>);

    #[async_trait]
    impl CodeFetcher for FakeS3 {
        async fn get_object(&self, bucket: &str, key: &str, version: Option<&str>) -> Result<Bytes, crate::FetchError> {
            if bucket != "code" {
                return Err(FetchError::no_such_bucket());
            }
            self.0
                .get(&(bucket.into(), key.into(), version.map(Into::into)))
                .cloned()
                .ok_or_else(FetchError::no_such_key)
        }
    }

    fn s3(bucket: &str, key: &str, version: Option<&str>) -> Option<CodeSource> {
        Some(CodeSource::S3 { bucket: bucket.into(), key: key.into(), object_version: version.map(Into::into) })
    }

    #[tokio::test]
    async fn s3_sources_need_a_fetcher_and_a_valid_location() {
        let h = Harness::new();
        let e = h
            .plane
            .create_function(&h.region, CreateFunction { code: s3("code", "f.zip", None), ..create_req("f") })
            .await
            .unwrap_err();
        assert!(matches!(e, ControlError::S3CodeUnavailable), "{e:?}");

        for (bucket, key, version, field, constraint) in [
            ("ab", "k", None, "s3Bucket", "greater than or equal to 3"),
            (&*"b".repeat(64), "k", None, "s3Bucket", "less than or equal to 63"),
            ("bucket.", "k", None, "s3Bucket", "regular expression pattern"),
            ("my bucket", "k", None, "s3Bucket", "regular expression pattern"),
            ("code", "", None, "s3Key", "greater than or equal to 1"),
            ("code", &*"k".repeat(1025), None, "s3Key", "less than or equal to 1024"),
            ("code", "k", Some(""), "s3ObjectVersion", "greater than or equal to 1"),
        ] {
            let req = CreateFunction { code: s3(bucket, key, version), ..create_req("f") };
            let e = h.plane.create_function(&h.region, req).await.unwrap_err();
            assert_validation(e, field, constraint);
        }
        assert!(check_s3_location(&"b".repeat(63), &"k".repeat(1024), Some("v")).is_ok());
    }

    #[tokio::test]
    async fn s3_sources_are_copied_when_given() {
        let (v1, v2) = (package(1), package(2));
        let objects = HashMap::from([
            (("code".to_string(), "f.zip".to_string(), None), v1.clone()),
            (("code".to_string(), "f.zip".to_string(), Some("v2".to_string())), v2.clone()),
        ]);
        let store = Arc::new(CachedStore::new(SqliteStore::open_in_memory().unwrap()));
        let h = Harness::build(store, Default::default(), Some(Arc::new(FakeS3(objects))));

        let view = h
            .plane
            .create_function(&h.region, CreateFunction { code: s3("code", "f.zip", None), ..create_req("f") })
            .await
            .unwrap();
        assert_eq!(h.plane.code(&view.config.code.blob_key).await.unwrap(), v1);
        let req = UpdateFunctionCode { code: s3("code", "f.zip", Some("v2")), ..Default::default() };
        let view = h.plane.update_function_code(&h.region, "f", req).await.unwrap();
        assert_eq!(h.plane.code(&view.config.code.blob_key).await.unwrap(), v2);
        assert_eq!(h.changes(), [created("f"), code_updated("f")]);

        let req = CreateFunction { code: s3("code", "missing.zip", None), ..create_req("g") };
        let e = h.plane.create_function(&h.region, req).await.unwrap_err();
        assert!(matches!(e, ControlError::S3Fetch { .. }), "{e:?}");
        assert_eq!(
            e.to_string(),
            "Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified key does not exist."
        );
        let req = crate::PublishLayerVersion { content: s3("other", "l.zip", None), ..Default::default() };
        let e = h.plane.publish_layer_version(&h.region, "l", req).await.unwrap_err();
        assert!(e.to_string().contains("S3 Error Code: NoSuchBucket"), "{e}");
        assert_eq!(h.changes(), []);
    }

    #[tokio::test]
    async fn at_most_five_layers_each_once() {
        let h = Harness::new();
        for i in 0..6 {
            h.publish_layer(&format!("l{i}"), package(10 + i)).await;
        }
        let six: Vec<String> = (0..6).map(|i| layer_arn(&format!("l{i}"), 1)).collect();
        let arns: Vec<&str> = six.iter().map(String::as_str).collect();
        let e = h.plane.create_function(&h.region, with_layers("f", &arns)).await.unwrap_err();
        assert!(matches!(e, ControlError::TooManyLayers), "{e:?}");
        assert_eq!(e.to_string(), "Cannot reference more than 5 layers.");
        let view = h.plane.create_function(&h.region, with_layers("f", &arns[..5])).await.unwrap();
        assert_eq!(view.config.layers.iter().map(|l| l.arn.as_str()).collect::<Vec<_>>(), &arns[..5]);
        let req = UpdateFunctionConfiguration { layers: Some(six.clone()), ..Default::default() };
        let e = h.plane.update_function_configuration(&h.region, "f", req).await.unwrap_err();
        assert!(matches!(e, ControlError::TooManyLayers), "{e:?}");

        h.publish_layer("l0", package(20)).await;
        let (first, second) = (layer_arn("l0", 1), layer_arn("l0", 2));
        let e = h
            .plane
            .create_function(&h.region, with_layers("g", &[&first, &layer_arn("l1", 1), &second]))
            .await
            .unwrap_err();
        assert!(
            matches!(&e, ControlError::DuplicateLayer { first: a, second: b } if *a == first && *b == second),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            format!(
                "Two different versions of the same layer are not allowed to be referenced in the same function. {first} and {second}"
            )
        );
        let e = h.plane.create_function(&h.region, with_layers("g", &[&first, &first])).await.unwrap_err();
        assert!(matches!(e, ControlError::DuplicateLayer { .. }), "{e:?}");

        // An empty list removes every layer.
        let req = UpdateFunctionConfiguration { layers: Some(vec![]), ..Default::default() };
        let view = h.plane.update_function_configuration(&h.region, "f", req).await.unwrap();
        assert!(view.config.layers.is_empty());
    }

    #[tokio::test]
    async fn layers_must_exist_here() {
        let h = Harness::new();
        h.publish_layer("deps", package(1)).await;
        for arn in [
            layer_arn("deps", 2),
            layer_arn("nothing", 1),
            "arn:aws:lambda:eu-west-1:000000000000:layer:deps:1".to_string(),
            "arn:aws:lambda:us-east-1:222222222222:layer:deps:1".to_string(),
        ] {
            let e = h.plane.create_function(&h.region, with_layers("f", &[&arn])).await.unwrap_err();
            assert!(matches!(&e, ControlError::LayerVersionNotFound { arn: a } if *a == arn), "{e:?}");
            assert_eq!(e.to_string(), format!("Layer version {arn} does not exist."));
        }
        for bad in [
            "deps",
            "arn:aws:lambda:us-east-1:000000000000:layer:deps",
            "arn:aws:lambda:us-east-1:000000000000:layer:deps:x",
        ] {
            let e = h.plane.create_function(&h.region, with_layers("f", &[bad])).await.unwrap_err();
            let v = validation(e);
            assert_eq!((v.field.as_str(), v.value.as_str()), ("layers", format!("[{bad}]").as_str()));
        }
        assert_eq!(h.changes(), []);
    }

    #[tokio::test]
    async fn compatible_runtimes_are_advisory_for_functions() {
        let h = Harness::new();
        let req = crate::PublishLayerVersion {
            compatible_runtimes: Some(vec!["nodejs22.x".into()]),
            compatible_architectures: Some(vec!["arm64".into()]),
            ..layer_req(package(1))
        };
        let layer = h.plane.publish_layer_version(&h.region, "node-only", req).await.unwrap();
        let view = h.plane.create_function(&h.region, with_layers("f", &[&layer.layer_version_arn])).await.unwrap();
        assert_eq!(view.config.runtime, "python3.12");
        assert_eq!(view.config.layers[0].code, layer.layer.code);
    }

    #[tokio::test]
    async fn layers_are_checked_merged_in_order() {
        let h = Harness::new();
        let link = h.publish_layer("link", zip_with_links(&[("lib/", "", false), ("python", "lib", true)])).await;
        let write = h.publish_layer("write", zip_of(&[("python/pwned.py", b"x")])).await;
        let other = h.publish_layer("other", zip_of(&[("nodejs/x.js", b"x")])).await;
        let (link, write, other) = (&link.layer_version_arn, &write.layer_version_arn, &other.layer_version_arn);

        let e = h.plane.create_function(&h.region, with_layers("f", &[link, other, write])).await.unwrap_err();
        assert!(matches!(e, ControlError::Package(PackageError::UnderSymlink { .. })), "{e:?}");
        let e = h.plane.create_function(&h.region, with_layers("f", &[write, link])).await.unwrap_err();
        assert!(matches!(e, ControlError::Package(_)), "{e:?}");
        h.plane.create_function(&h.region, with_layers("f", &[other, write])).await.unwrap();
        let req = UpdateFunctionConfiguration { layers: Some(vec![write.clone(), link.clone()]), ..Default::default() };
        let e = h.plane.update_function_configuration(&h.region, "f", req).await.unwrap_err();
        assert!(matches!(e, ControlError::Package(_)), "{e:?}");
        assert_eq!(h.changes(), [created("f")]);
    }
}
