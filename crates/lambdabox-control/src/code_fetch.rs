//! Deployment packages and layer contents taken from S3 (`S3Bucket`,
//! `S3Key`, `S3ObjectVersion`): the [`CodeFetcher`] the control plane asks,
//! and [`ExternalS3`], a fetcher for any S3-compatible service (AWS S3,
//! MinIO, Ceph, another Lambdabox) through `object_store`'s S3 client.
//!
//! The bytes are copied into Lambdabox's own blob store when the function
//! or layer version is created or updated, so a later change to the object
//! changes nothing until the code is updated again (as on AWS).

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{GetOptions, ObjectStore, RetryConfig};

/// Why an object could not be read, in S3's terms (the control plane
/// reports it as AWS does: `Error occurred while GetObject. S3 Error Code:
/// CODE. S3 Error Message: MESSAGE`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("S3 Error Code: {code}. S3 Error Message: {message}")]
pub struct FetchError {
    pub code: String,
    pub message: String,
}

impl FetchError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self { code: code.into(), message: message.into() }
    }

    pub fn no_such_bucket() -> Self {
        Self::new("NoSuchBucket", "The specified bucket does not exist")
    }

    pub fn no_such_key() -> Self {
        Self::new("NoSuchKey", "The specified key does not exist.")
    }

    pub fn no_such_version() -> Self {
        Self::new("NoSuchVersion", "The specified version does not exist.")
    }
}

/// Reads objects from some S3.
#[async_trait]
pub trait CodeFetcher: Send + Sync {
    /// The whole object (the control plane checks its size afterwards).
    async fn get_object(&self, bucket: &str, key: &str, version: Option<&str>) -> Result<Bytes, FetchError>;
}

/// Where an external S3-compatible service is and how to sign for it.
#[derive(Debug, Clone)]
pub struct ExternalS3Config {
    /// e.g. `https://s3.eu-west-1.amazonaws.com` or `http://minio:9000`.
    pub endpoint: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Virtual-hosted-style (`bucket.host`) instead of path-style addressing.
    pub virtual_hosted_style: bool,
}

/// A [`CodeFetcher`] for an S3-compatible service.
pub struct ExternalS3 {
    config: ExternalS3Config,
}

impl ExternalS3 {
    pub fn new(config: ExternalS3Config) -> Self {
        Self { config }
    }

    fn store(&self, bucket: &str) -> Result<impl ObjectStore, FetchError> {
        let c = &self.config;
        AmazonS3Builder::new()
            .with_endpoint(&c.endpoint)
            .with_region(&c.region)
            .with_bucket_name(bucket)
            .with_access_key_id(&c.access_key_id)
            .with_secret_access_key(&c.secret_access_key)
            .with_allow_http(c.endpoint.starts_with("http://"))
            .with_virtual_hosted_style_request(c.virtual_hosted_style)
            .with_retry(RetryConfig {
                max_retries: 2,
                retry_timeout: Duration::from_secs(10),
                ..RetryConfig::default()
            })
            .build()
            .map_err(|e| FetchError::new("InvalidRequest", e.to_string()))
    }
}

#[async_trait]
impl CodeFetcher for ExternalS3 {
    async fn get_object(&self, bucket: &str, key: &str, version: Option<&str>) -> Result<Bytes, FetchError> {
        let store = self.store(bucket)?;
        let path = Path::parse(key).unwrap_or_else(|_| Path::from(key));
        let options = GetOptions { version: version.map(str::to_owned), ..GetOptions::default() };
        let result = store.get_opts(&path, options).await.map_err(s3_error)?;
        result.bytes().await.map_err(s3_error)
    }
}

/// S3's error code and message from an `object_store` error, whose chain
/// carries the response body (`<Error><Code>…</Code><Message>…</Message>`).
fn s3_error(error: object_store::Error) -> FetchError {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    let element = |name: &str| {
        let open = format!("<{name}>");
        let start = text.find(&open)? + open.len();
        let end = text[start..].find(&format!("</{name}>"))? + start;
        Some(text[start..end].to_owned())
    };
    match (element("Code"), element("Message")) {
        (Some(code), Some(message)) => FetchError { code, message },
        (Some(code), None) => FetchError { message: code.clone(), code },
        _ if matches!(error, object_store::Error::NotFound { .. }) => FetchError::no_such_key(),
        _ => FetchError::new("InternalError", text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_s3_error_bodies() {
        let e = object_store::Error::Generic {
            store: "S3",
            source: "Server returned non-2xx status code: 404 Not Found: <?xml version=\"1.0\"?><Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message></Error>".into(),
        };
        assert_eq!(s3_error(e), FetchError::no_such_bucket());
        let e = object_store::Error::NotFound { path: "k".into(), source: "gone".into() };
        assert_eq!(s3_error(e), FetchError::no_such_key());
    }
}
