//! Inspection of a deployment package (a zip) before it is accepted: it must
//! be a readable, non-empty zip within the size limits whose entries can all
//! be unpacked safely: every path stays inside the package root, no entry
//! lies under a symbolic link, no symbolic link resolves (through the
//! package's other links) outside the root, and every name fits a Linux file
//! system ([`tree`]).
//!
//! Every entry is decompressed once (into a sink) so that a zip whose
//! directory lies about sizes, or whose data fails its CRC, is refused here
//! rather than when an execution environment unpacks it.

mod tree;

use std::io::{self, Cursor, Read};

use base64::Engine as _;
use sha2::{Digest, Sha256};

pub use tree::{EntryKind, MAX_DEPTH, MAX_NAME_BYTES, MAX_PATH_BYTES, Tree, TreeError, components as entry_components};

use crate::limits::CODE_SIZE_UNZIPPED;

const BAD_ZIP: &str = "Could not unzip uploaded file. Please check your file, then try to upload again.";

/// Why a package was refused. Every message tells the user what to fix and
/// names only what is in the package (never a host path).
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
    #[error(
        "Could not unzip uploaded file: the entry '{entry}' is inside the symbolic link '{link}'. Please check your file, then try to upload again."
    )]
    UnderSymlink { entry: String, link: String },
    #[error(
        "Could not unzip uploaded file: the entry '{entry}' needs '{other}' to be both a file and a directory. Please check your file, then try to upload again."
    )]
    Conflict { entry: String, other: String },
    #[error(
        "Could not unzip uploaded file: the entry '{entry}' has no file name. Please check your file, then try to upload again."
    )]
    NoName { entry: String },
    #[error(
        "Could not unzip uploaded file: the entry '{entry}' has a name longer than {MAX_NAME_BYTES} bytes. Please check your file, then try to upload again."
    )]
    NameTooLong { entry: String },
    #[error(
        "Could not unzip uploaded file: the entry '{entry}' is nested deeper than {MAX_DEPTH} directories or its path is longer than {MAX_PATH_BYTES} bytes. Please check your file, then try to upload again."
    )]
    TooDeep { entry: String },
}

impl PackageError {
    /// The error for an entry the [`Tree`] refused; long names are cut in
    /// the message.
    fn from_tree(entry: &str, error: TreeError) -> Self {
        let entry = shown(entry);
        match error {
            TreeError::Unsafe => Self::UnsafePath { entry },
            TreeError::NoName => Self::NoName { entry },
            TreeError::NameTooLong => Self::NameTooLong { entry },
            TreeError::TooDeep => Self::TooDeep { entry },
            TreeError::UnderLink { link } => Self::UnderSymlink { entry, link: shown(&link) },
            TreeError::Conflict { other } => Self::Conflict { entry, other: shown(&other) },
        }
    }
}

/// A name as shown in a message: at most 200 characters.
fn shown(name: &str) -> String {
    const MAX: usize = 200;
    match name.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}...", &name[..cut]),
        None => name.to_owned(),
    }
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
        let mut tree = Tree::new();
        let (entries, unzipped) = add_to_tree(&mut tree, zip, Some(unzipped_limit))?;
        if let Some((entry, target)) = tree.escaping_link() {
            return Err(PackageError::SymlinkEscapes { entry: shown(&entry), target: shown(&target) });
        }
        let digest = Sha256::digest(zip);
        Ok(Self {
            sha256_base64: base64::engine::general_purpose::STANDARD.encode(digest),
            sha256_hex: hex(&digest),
            size: zip.len() as u64,
            unzipped_size: unzipped,
            entries,
        })
    }
}

/// Checks that packages unpacked in order into one directory (a function's
/// layers into `/opt`) make a tree that can be unpacked safely: no later
/// entry under an earlier link, no file where another layer has a
/// directory, no link leaving the root. Each package was inspected alone
/// when it was published.
pub fn check_merged<'a>(packages: impl IntoIterator<Item = &'a [u8]>) -> Result<(), PackageError> {
    let mut tree = Tree::new();
    for zip in packages {
        add_to_tree(&mut tree, zip, None)?;
    }
    match tree.escaping_link() {
        Some((entry, target)) => Err(PackageError::SymlinkEscapes { entry: shown(&entry), target: shown(&target) }),
        None => Ok(()),
    }
}

/// Adds every entry of `zip` to `tree`; returns the number of entries and
/// the unzipped size. With a limit, every file is decompressed once (to
/// check its data and real size); without one, only links are read.
fn add_to_tree(tree: &mut Tree, zip: &[u8], unzipped_limit: Option<u64>) -> Result<(usize, u64), PackageError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(zip)).map_err(|_| PackageError::NotAZip)?;
    if archive.is_empty() {
        return Err(PackageError::Empty);
    }
    let mut unzipped: u64 = 0;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|_| PackageError::NotAZip)?;
        let name = entry.name().to_owned();
        let is_symlink = entry.unix_mode().is_some_and(|m| m & 0o170000 == 0o120000);
        if is_symlink {
            let mut target = String::new();
            entry
                .by_ref()
                .take(4096)
                .read_to_string(&mut target)
                .map_err(|e| PackageError::Corrupt { entry: shown(&name), reason: e.to_string() })?;
            tree.add(&name, EntryKind::Link, Some(&target)).map_err(|e| PackageError::from_tree(&name, e))?;
            unzipped += target.len() as u64;
            continue;
        }
        let kind = if entry.is_dir() { EntryKind::Dir } else { EntryKind::File };
        tree.add(&name, kind, None).map_err(|e| PackageError::from_tree(&name, e))?;
        let Some(unzipped_limit) = unzipped_limit else { continue };
        let remaining = unzipped_limit.saturating_sub(unzipped);
        let read = io::copy(&mut entry.by_ref().take(remaining.saturating_add(1)), &mut io::sink())
            .map_err(|e| PackageError::Corrupt { entry: shown(&name), reason: e.to_string() })?;
        unzipped += read;
        if unzipped > unzipped_limit {
            return Err(PackageError::UnzippedTooLarge { limit: CODE_SIZE_UNZIPPED.min(unzipped_limit) });
        }
    }
    Ok((archive.len(), unzipped))
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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

    #[test]
    fn the_link_chain_attack_and_its_variants_are_refused() {
        let chain = format!("{}{}", "a/".repeat(8), "../".repeat(9));
        let attack = zip_of(&[
            ("a", b".", Some(0o120777)),
            ("b", chain.as_bytes(), Some(0o120777)),
            ("b/tmp/pwned", b"x", None),
        ]);
        assert!(matches!(
            CodePackage::inspect(&attack, CODE_SIZE_UNZIPPED),
            Err(PackageError::UnderSymlink { ref link, .. }) if link == "b"
        ));
        // The links alone: `b` leaves the root once `a` resolves.
        let links = zip_of(&[("a", b".", Some(0o120777)), ("b", chain.as_bytes(), Some(0o120777))]);
        assert!(matches!(CodePackage::inspect(&links, CODE_SIZE_UNZIPPED), Err(PackageError::SymlinkEscapes { .. })));
        // A file written through a link that stays inside is refused too.
        let inside = zip_of(&[("d/", b"", None), ("l", b"d", Some(0o120777)), ("l/f", b"x", None)]);
        assert!(matches!(CodePackage::inspect(&inside, CODE_SIZE_UNZIPPED), Err(PackageError::UnderSymlink { .. })));
    }

    #[test]
    fn layers_are_checked_merged_in_order() {
        let plant = zip_of(&[("python", b"../../../../..", Some(0o120777))]);
        let plant_inside = zip_of(&[("lib/", b"", None), ("python", b"lib", Some(0o120777))]);
        let write = zip_of(&[("python/pwned.py", b"x", None)]);
        assert!(CodePackage::inspect(&write, CODE_SIZE_UNZIPPED).is_ok());
        assert!(CodePackage::inspect(&plant_inside, CODE_SIZE_UNZIPPED).is_ok());
        assert!(matches!(
            check_merged([plant_inside.as_slice(), write.as_slice()]),
            Err(PackageError::UnderSymlink { .. })
        ));
        assert!(check_merged([write.as_slice(), plant.as_slice()]).is_err());
        assert!(check_merged([write.as_slice(), plant_inside.as_slice()]).is_err(), "a file where a link goes");
        let other = zip_of(&[("nodejs/x.js", b"x", None)]);
        assert!(check_merged([plant_inside.as_slice(), other.as_slice(), write.as_slice()]).is_err());
        assert!(check_merged([other.as_slice(), write.as_slice()]).is_ok());
    }

    #[test]
    fn unpackable_names_are_refused_with_short_messages() {
        let long = "n".repeat(5000);
        let z = zip_of(&[(long.as_str(), b"x", None)]);
        let err = CodePackage::inspect(&z, CODE_SIZE_UNZIPPED).unwrap_err();
        assert!(matches!(err, PackageError::NameTooLong { .. }));
        assert!(err.to_string().len() < 500, "{err}");
        let deep = format!("{}f", "a/".repeat(2000));
        let z = zip_of(&[(deep.as_str(), b"x", None)]);
        assert!(matches!(CodePackage::inspect(&z, CODE_SIZE_UNZIPPED), Err(PackageError::TooDeep { .. })));
        let z = zip_of(&[("x", b"1", None), ("x/y", b"2", None)]);
        assert!(matches!(CodePackage::inspect(&z, CODE_SIZE_UNZIPPED), Err(PackageError::Conflict { .. })));
        let z = zip_of(&[(".", b"1", None)]);
        assert!(matches!(CodePackage::inspect(&z, CODE_SIZE_UNZIPPED), Err(PackageError::NoName { .. })));
    }
}
