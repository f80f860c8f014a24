//! The built-in S3 endpoint as the source of `S3Bucket`/`S3Key` deployment
//! packages and layer contents, when no external endpoint is configured:
//! objects are read directly from its store, not over HTTP.

use async_trait::async_trait;
use bytes::Bytes;
use lambdabox_control::{CodeFetcher, FetchError};
use lambdabox_s3::{ReadObjectError, S3Endpoint};

pub struct BuiltinS3(pub S3Endpoint);

#[async_trait]
impl CodeFetcher for BuiltinS3 {
    async fn get_object(&self, bucket: &str, key: &str, version: Option<&str>) -> Result<Bytes, FetchError> {
        self.0.read_object(bucket, key, version).await.map_err(|e| match e {
            ReadObjectError::NoSuchBucket => FetchError::no_such_bucket(),
            ReadObjectError::NoSuchKey => FetchError::no_such_key(),
            ReadObjectError::NoSuchVersion => FetchError::no_such_version(),
            ReadObjectError::InvalidVersionId => FetchError::new("InvalidArgument", e.to_string()),
            other => {
                tracing::error!(error = ?other, bucket, key, "reading a package from the built-in S3 failed");
                FetchError::new("InternalError", "We encountered an internal error. Please try again.")
            }
        })
    }
}
