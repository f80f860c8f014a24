//! The crate's error types: [`S3Error`] for opening the endpoint,
//! [`ReadObjectError`] for Lambdabox's own reads, and [`StoreError`] for the
//! metadata store and the object files (mapped to S3's error codes in
//! `service/convert.rs`).

use std::path::PathBuf;

/// Why the S3 endpoint could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum S3Error {
    #[error("create the S3 data dir {path}")]
    CreateDir { path: PathBuf, source: std::io::Error },
    #[error("open the S3 metadata store")]
    OpenStore { source: StoreError },
    #[error("collect S3 object files nothing refers to")]
    CollectGarbage { source: StoreError },
    #[error("the virtual-host domain '{domain}' is not a domain name")]
    InvalidDomain { domain: String },
}

/// Why [`crate::S3Endpoint::read_object`] returned no bytes. The texts of the
/// first three are S3's own messages.
#[derive(Debug, thiserror::Error)]
pub enum ReadObjectError {
    #[error("The specified bucket does not exist")]
    NoSuchBucket,
    #[error("The specified key does not exist.")]
    NoSuchKey,
    #[error("The specified version does not exist.")]
    NoSuchVersion,
    #[error("Invalid version id specified")]
    InvalidVersionId,
    #[error("read the object's metadata")]
    Metadata { source: StoreError },
    #[error("read the object's body from {path}")]
    Io { path: PathBuf, source: std::io::Error },
}

/// A failure of the metadata store or the object files, or an S3 condition
/// that one of its operations found (a missing bucket, a non-empty bucket …).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Open(#[from] lambdabox_store::OpenError),
    #[error("{operation} in the metadata database")]
    Query { operation: &'static str, source: rusqlite::Error },
    #[error("decode the stored attributes of an object")]
    Decode { source: serde_json::Error },
    #[error("decode the stored notification configuration of bucket {bucket}")]
    DecodeNotification { bucket: String, source: serde_json::Error },
    #[error("{operation} {path}")]
    File { operation: &'static str, path: PathBuf, source: std::io::Error },
    #[error("read the request body")]
    Body { source: Box<dyn std::error::Error + Send + Sync> },
    #[error("the bucket does not exist")]
    NoSuchBucket,
    #[error("the bucket is already owned by you")]
    BucketAlreadyOwnedByYou,
    #[error("the bucket is not empty")]
    BucketNotEmpty,
    #[error("the key does not exist")]
    NoSuchKey,
    #[error("the version does not exist")]
    NoSuchVersion,
    #[error("the multipart upload does not exist")]
    NoSuchUpload,
    #[error("the version id is not one this store issues")]
    InvalidVersionId,
    /// The addressed version is a delete marker (`latest`: reached without a version id).
    #[error("the version is a delete marker")]
    DeleteMarker { version_id: String, latest: bool },
}

pub(crate) fn query(operation: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |source| StoreError::Query { operation, source }
}

pub(crate) fn file(operation: &'static str, path: &std::path::Path) -> impl FnOnce(std::io::Error) -> StoreError {
    let path = path.to_owned();
    move |source| StoreError::File { operation, path, source }
}
