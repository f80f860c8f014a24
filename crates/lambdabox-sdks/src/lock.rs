//! The pinned files of an SDK: Python's lock (one wheel per line) and npm's
//! `package-lock.json` (version 3: every package with its integrity).

use base64::Engine as _;
use sha2::{Digest as _, Sha256};

use crate::SdkError;

/// What a file's bytes must hash to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Digest {
    /// Hex, as PyPI gives it.
    Sha256(String),
    /// Raw bytes, from npm's `sha512-<base64>` integrity.
    Sha512(Vec<u8>),
}

/// How a file unpacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// A wheel: a zip whose entries go straight into the tree.
    Wheel,
    /// An npm tarball: a gzipped tar whose `package/` goes to `dest`.
    NpmTarball { dest: String },
}

/// One pinned file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    pub name: String,
    pub version: String,
    pub url: String,
    pub digest: Digest,
    /// Its size in bytes, when the lock says.
    pub size: Option<u64>,
    pub format: Format,
}

/// An SDK's pinned files, and the digest of the lock text itself.
#[derive(Debug, Clone)]
pub struct Lock {
    pub artifacts: Vec<Artifact>,
    text_digest: String,
}

impl Lock {
    /// `name version sha256 size url` per line; `#` comments.
    pub fn python(text: &str) -> Result<Self, SdkError> {
        let mut artifacts = Vec::new();
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let [name, version, sha256, size, url] = fields[..] else {
                return Err(SdkError::Lock(format!("not `name version sha256 size url`: {line}")));
            };
            if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(SdkError::Lock(format!("not a SHA-256: {sha256}")));
            }
            artifacts.push(Artifact {
                name: name.to_owned(),
                version: version.to_owned(),
                url: url.to_owned(),
                digest: Digest::Sha256(sha256.to_ascii_lowercase()),
                size: size.parse().ok(),
                format: Format::Wheel,
            });
        }
        Ok(Self { artifacts, text_digest: hex(&Sha256::digest(text.as_bytes())) })
    }

    /// npm's lock: every `node_modules/…` entry, fetched from the public
    /// registry (`resolved` when the lock has it, else the registry's
    /// standard tarball address).
    pub fn npm(text: &str) -> Result<Self, SdkError> {
        let lock: serde_json::Value = serde_json::from_str(text).map_err(|e| SdkError::Lock(e.to_string()))?;
        let packages = lock["packages"].as_object().ok_or_else(|| SdkError::Lock("no `packages`".into()))?;
        let mut artifacts = Vec::new();
        for (path, entry) in packages {
            let Some(name) = path.rsplit_once("node_modules/").map(|(_, n)| n) else {
                continue; // the root package
            };
            if entry["dev"].as_bool() == Some(true) || entry["link"].as_bool() == Some(true) {
                continue;
            }
            let version = entry["version"].as_str().ok_or_else(|| SdkError::Lock(format!("{path}: no version")))?;
            let integrity =
                entry["integrity"].as_str().ok_or_else(|| SdkError::Lock(format!("{path}: no integrity")))?;
            let sha512 = integrity
                .split_whitespace()
                .find_map(|i| i.strip_prefix("sha512-"))
                .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                .filter(|b| b.len() == 64)
                .ok_or_else(|| SdkError::Lock(format!("{path}: no sha512 integrity")))?;
            if path.split('/').any(|c| c == ".." || c.is_empty()) {
                return Err(SdkError::Lock(format!("{path}: not a plain path")));
            }
            let basename = name.rsplit('/').next().unwrap_or(name);
            let url = entry["resolved"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| format!("https://registry.npmjs.org/{name}/-/{basename}-{version}.tgz"));
            artifacts.push(Artifact {
                name: name.to_owned(),
                version: version.to_owned(),
                url,
                digest: Digest::Sha512(sha512),
                size: None,
                format: Format::NpmTarball { dest: path.clone() },
            });
        }
        Ok(Self { artifacts, text_digest: hex(&Sha256::digest(text.as_bytes())) })
    }

    /// Hex SHA-256 of the lock's text: names the install directory.
    pub fn digest(&self) -> &str {
        &self.text_digest
    }

    /// The bytes to download, as far as the lock says.
    pub fn size(&self) -> u64 {
        self.artifacts.iter().filter_map(|a| a.size).sum()
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_lines_parse_and_bad_ones_are_refused() {
        let ok = format!("# c\nboto3 1.0 {} 12 https://x/boto3.whl\n", "a".repeat(64));
        let lock = Lock::python(&ok).unwrap();
        assert_eq!(lock.artifacts[0].name, "boto3");
        assert_eq!(lock.size(), 12);
        assert!(Lock::python("boto3 1.0 abc 1 https://x").is_err());
        assert!(Lock::python("boto3 1.0").is_err());
    }

    #[test]
    fn npm_entries_get_the_registry_address_and_refuse_odd_paths() {
        let integrity = format!("sha512-{}", base64::engine::general_purpose::STANDARD.encode([7u8; 64]));
        let text = serde_json::json!({"packages": {
            "": {"name": "root"},
            "node_modules/@aws-sdk/client-s3": {"version": "3.1.0", "integrity": integrity},
            "node_modules/tslib": {"version": "2.0.0", "integrity": integrity, "dev": true},
        }})
        .to_string();
        let lock = Lock::npm(&text).unwrap();
        assert_eq!(lock.artifacts.len(), 1);
        assert_eq!(lock.artifacts[0].url, "https://registry.npmjs.org/@aws-sdk/client-s3/-/client-s3-3.1.0.tgz");
        let bad = serde_json::json!({"packages": {"node_modules/../x": {"version": "1", "integrity": integrity}}});
        assert!(Lock::npm(&bad.to_string()).is_err());
    }
}
