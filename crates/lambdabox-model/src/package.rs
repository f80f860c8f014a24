//! Inspection of a deployment package (a zip) before it is accepted: it must
//! be a readable, non-empty zip within the size limits whose entries and
//! symbolic links all stay inside the package root.
//!
//! Every entry is decompressed once (into a sink) so that a zip whose
//! directory lies about sizes, or whose data fails its CRC, is refused here
//! rather than when an execution environment unpacks it.

use std::io::{self, Cursor, Read};

use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::limits::CODE_SIZE_UNZIPPED;

const BAD_ZIP: &str = "Could not unzip uploaded file. Please check your file, then try to upload again.";

/// Why a package was refused. Every message tells the user what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackageError {
    #[error("{BAD_ZIP}")]
    NotAZip,
    #[error(
        "Could not unzip uploaded file: the entry '{entry}' is damaged ({reason}). Please check your file, then try to upload again."
    )]
    Corrupt { entry: String, reason: String },
    #[error("Uploaded file must be a non-empty zip")]
    Empty,
    #[error("Unzipped size must be smaller than {limit} bytes")]
    UnzippedTooLarge { limit: u64 },
    #[error(
        "Could not unzip uploaded file: the entry '{entry}' has an absolute path or a '..' component and would be written outside the package root. Please check your file, then try to upload again."
    )]
    UnsafePath { entry: String },
    #[error(
        "Could not unzip uploaded file: the symbolic link '{entry}' points to '{target}', outside the package root. Please check your file, then try to upload again."
    )]
    SymlinkEscapes { entry: String, target: String },
}

/// An accepted deployment package's identity and figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodePackage {
    /// Base64 of the SHA-256 of the zip (`CodeSha256`).
    pub sha256_base64: String,
    /// Lower-case hex of the same digest (the blob store's key).
    pub sha256_hex: String,
    /// Zip size in bytes (`CodeSize`).
    pub size: u64,
    /// Actual total of the decompressed entries.
    pub unzipped_size: u64,
    pub entries: usize,
}

impl CodePackage {
    /// Inspects `zip`, refusing anything unsafe or over `unzipped_limit`.
    pub fn inspect(zip: &[u8], unzipped_limit: u64) -> Result<Self, PackageError> {
        let mut archive = zip::ZipArchive::new(Cursor::new(zip)).map_err(|_| PackageError::NotAZip)?;
        if archive.is_empty() {
            return Err(PackageError::Empty);
        }
        let mut unzipped: u64 = 0;
        for i in 0..archive.len() {
            let mut entry = archive.by_index(i).map_err(|_| PackageError::NotAZip)?;
            let name = entry.name().to_owned();
            let components = safe_components(&name).ok_or_else(|| PackageError::UnsafePath { entry: name.clone() })?;
            let is_symlink = entry.unix_mode().is_some_and(|m| m & 0o170000 == 0o120000);
            if is_symlink {
                let mut target = String::new();
                entry
                    .by_ref()
                    .take(4096)
                    .read_to_string(&mut target)
                    .map_err(|e| PackageError::Corrupt { entry: name.clone(), reason: e.to_string() })?;
                if !link_stays_inside(&components, &target) {
                    return Err(PackageError::SymlinkEscapes { entry: name, target });
                }
                unzipped += target.len() as u64;
                continue;
            }
            let remaining = unzipped_limit.saturating_sub(unzipped);
            let read = io::copy(&mut entry.by_ref().take(remaining + 1), &mut io::sink())
                .map_err(|e| PackageError::Corrupt { entry: name.clone(), reason: e.to_string() })?;
            unzipped += read;
            if unzipped > unzipped_limit {
                return Err(PackageError::UnzippedTooLarge { limit: CODE_SIZE_UNZIPPED.min(unzipped_limit) });
            }
        }
        let digest = Sha256::digest(zip);
        Ok(Self {
            sha256_base64: base64::engine::general_purpose::STANDARD.encode(digest),
            sha256_hex: hex(&digest),
            size: zip.len() as u64,
            unzipped_size: unzipped,
            entries: archive.len(),
        })
    }
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The path's components when it is relative and never climbs out of the
/// root; `None` otherwise. Backslashes count as separators, as on Windows
/// zips, and drive letters are refused.
fn safe_components(name: &str) -> Option<Vec<&str>> {
    if name.starts_with('/') || name.starts_with('\\') || name.contains('\0') {
        return None;
    }
    let mut parts = Vec::new();
    for part in name.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => return None,
            p if p.len() >= 2 && p.as_bytes()[1] == b':' => return None,
            p => parts.push(p),
        }
    }
    Some(parts)
}

/// Whether a link at `entry` (its components) pointing to `target` resolves
/// inside the package root.
fn link_stays_inside(entry: &[&str], target: &str) -> bool {
    if target.starts_with('/') || target.is_empty() {
        return false;
    }
    let mut depth = entry.len().saturating_sub(1) as i64;
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => depth += 1,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use zip::write::SimpleFileOptions;

    use super::*;

    fn zip_of(entries: &[(&str, &[u8], Option<u32>)]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, data, mode) in entries {
            match mode {
                Some(m) if m & 0o170000 == 0o120000 => {
                    w.add_symlink(*name, std::str::from_utf8(data).unwrap(), SimpleFileOptions::default()).unwrap();
                }
                _ => {
                    w.start_file(*name, SimpleFileOptions::default()).unwrap();
                    w.write_all(data).unwrap();
                }
            }
        }
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn accepts_a_plain_package() {
        let z = zip_of(&[("index.py", b"def handler(e, c): return 1\n", None), ("lib/x.py", b"", None)]);
        let p = CodePackage::inspect(&z, CODE_SIZE_UNZIPPED).unwrap();
        assert_eq!(p.size, z.len() as u64);
        assert_eq!(p.entries, 2);
        assert_eq!(p.sha256_hex.len(), 64);
        assert_eq!(base64::engine::general_purpose::STANDARD.decode(&p.sha256_base64).unwrap().len(), 32);
    }

    #[test]
    fn refuses_what_is_not_a_zip_or_empty() {
        assert_eq!(CodePackage::inspect(b"hello", CODE_SIZE_UNZIPPED), Err(PackageError::NotAZip));
        assert_eq!(CodePackage::inspect(b"", CODE_SIZE_UNZIPPED), Err(PackageError::NotAZip));
        let empty = zip_of(&[]);
        assert_eq!(CodePackage::inspect(&empty, CODE_SIZE_UNZIPPED), Err(PackageError::Empty));
    }

    #[test]
    fn refuses_zip_slip_and_absolute_paths() {
        for bad in ["../evil.py", "a/../../evil.py", "/etc/passwd", "..\\evil", "C:/x"] {
            let z = zip_of(&[(bad, b"x", None)]);
            assert!(
                matches!(CodePackage::inspect(&z, CODE_SIZE_UNZIPPED), Err(PackageError::UnsafePath { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn symlinks_must_stay_inside() {
        let ok = zip_of(&[("lib/a.py", b"", None), ("b.py", b"lib/a.py", Some(0o120777))]);
        assert!(CodePackage::inspect(&ok, CODE_SIZE_UNZIPPED).is_ok());
        for target in ["/etc/passwd", "../../etc/passwd", "lib/../../x"] {
            let z = zip_of(&[("link", target.as_bytes(), Some(0o120777))]);
            assert!(
                matches!(CodePackage::inspect(&z, CODE_SIZE_UNZIPPED), Err(PackageError::SymlinkEscapes { .. })),
                "{target}"
            );
        }
    }

    #[test]
    fn unzipped_limit_counts_real_bytes() {
        let z = zip_of(&[("big.bin", &vec![0u8; 10_000], None)]);
        assert!(CodePackage::inspect(&z, 20_000).is_ok());
        assert!(matches!(CodePackage::inspect(&z, 9_999), Err(PackageError::UnzippedTooLarge { .. })));
    }
}
