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
