//! What a function version records of the code it runs: the package
//! (identity and figures) and the instruction set it is built for. Shared by
//! function configurations (`config.rs`) and the layers a version names
//! (`layer.rs`).

use serde::{Deserialize, Serialize};

use crate::validation::ValidationError;

/// The instruction set a function is built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Architecture {
    #[default]
    #[serde(rename = "x86_64")]
    X86_64,
    #[serde(rename = "arm64")]
    Arm64,
}

impl Architecture {
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        match s {
            "x86_64" => Ok(Self::X86_64),
            "arm64" => Ok(Self::Arm64),
            _ => Err(ValidationError::new(
                format!("[{s}]"),
                "architectures",
                "Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64]]",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::X86_64 => "x86_64",
            Self::Arm64 => "arm64",
        }
    }
}

/// The deployment package a version runs: its identity in the blob store and
/// the figures AWS reports for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeInfo {
    /// Base64 of the SHA-256 of the zip, as AWS's `CodeSha256`.
    pub sha256: String,
    /// Size of the zip in bytes (`CodeSize`).
    pub size: u64,
    /// Sum of the uncompressed entry sizes.
    pub unzipped_size: u64,
    /// Content address of the zip in the blob store (lower-case hex SHA-256).
    pub blob_key: String,
}
