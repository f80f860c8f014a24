//! Errors of the store.

use std::path::PathBuf;

/// A store operation that failed, with what it was doing.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("function {name} already exists")]
    AlreadyExists { name: String },
    #[error("function {name} not found")]
    NotFound { name: String },
    #[error("revision of function {name} is {actual}, not {expected}")]
    RevisionMismatch { name: String, expected: String, actual: String },
    #[error("version {version} of function {name} already exists")]
    VersionConflict { name: String, version: String },
    #[error("version {version} of function {name} is referenced by aliases {aliases:?}")]
    VersionInUse { name: String, version: String, aliases: Vec<String> },
    #[error("alias {alias} of function {name} already exists")]
    AliasExists { name: String, alias: String },
    #[error("alias {alias} of function {name} not found")]
    AliasNotFound { name: String, alias: String },
    #[error(transparent)]
    Open(#[from] crate::OpenError),
    #[error("{operation} function {name}")]
    Query { operation: &'static str, name: String, source: rusqlite::Error },
    /// `alias` is `FUNCTION:ALIAS`.
    #[error("{operation} alias {alias}")]
    AliasQuery { operation: &'static str, alias: String, source: rusqlite::Error },
    #[error("{operation} layer {name}")]
    LayerQuery { operation: &'static str, name: String, source: rusqlite::Error },
    #[error("{operation} in the event queue")]
    Queue { operation: &'static str, source: rusqlite::Error },
    #[error("decode stored configuration of {name}")]
    Decode { name: String, source: serde_json::Error },
    #[error("{operation} blob {key}")]
    Blob { operation: &'static str, key: String, source: object_store::Error },
    #[error("sync blob {path}")]
    SyncBlob { path: PathBuf, source: std::io::Error },
    #[error("create blob directory {path}")]
    BlobRoot { path: PathBuf, source: std::io::Error },
}
