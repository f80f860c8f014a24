//! Requests as the client sent them, before the control plane's checks.

use std::collections::BTreeMap;

use bytes::Bytes;

/// Where a deployment package comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeSource {
    /// The zip itself (`ZipFile`).
    Zip(Bytes),
    /// An object in S3 (`S3Bucket`, `S3Key`, `S3ObjectVersion`).
    S3 { bucket: String, key: String, object_version: Option<String> },
}

/// CreateFunction's settings.
#[derive(Debug, Clone, Default)]
pub struct CreateFunction {
    pub function_name: String,
    pub runtime: Option<String>,
    pub handler: Option<String>,
    pub role: Option<String>,
    pub code: Option<CodeSource>,
    pub description: Option<String>,
    pub timeout: Option<i64>,
    pub memory_size: Option<i64>,
    pub ephemeral_storage: Option<i64>,
    pub environment: Option<BTreeMap<String, String>>,
    pub layers: Option<Vec<String>>,
    pub vpc: Option<(Vec<String>, Vec<String>, bool)>,
    pub architectures: Option<Vec<String>>,
    pub dead_letter_target_arn: Option<String>,
    pub kms_key_arn: Option<String>,
    pub tracing_mode: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub publish: bool,
    pub package_type: Option<String>,
}

/// UpdateFunctionCode's settings.
#[derive(Debug, Clone, Default)]
pub struct UpdateFunctionCode {
    pub code: Option<CodeSource>,
    pub revision_id: Option<String>,
    pub dry_run: bool,
    pub publish: bool,
    pub architectures: Option<Vec<String>>,
}

/// UpdateFunctionConfiguration's settings; `None` leaves a setting as it is.
#[derive(Debug, Clone, Default)]
pub struct UpdateFunctionConfiguration {
    pub runtime: Option<String>,
    pub handler: Option<String>,
    pub role: Option<String>,
    pub description: Option<String>,
    pub timeout: Option<i64>,
    pub memory_size: Option<i64>,
    pub ephemeral_storage: Option<i64>,
    pub environment: Option<BTreeMap<String, String>>,
    pub layers: Option<Vec<String>>,
    pub vpc: Option<(Vec<String>, Vec<String>, bool)>,
    pub dead_letter_target_arn: Option<String>,
    pub kms_key_arn: Option<String>,
    pub tracing_mode: Option<String>,
    pub revision_id: Option<String>,
}
