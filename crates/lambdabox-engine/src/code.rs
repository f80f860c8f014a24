//! Unpacked deployment packages, one directory per content address, shared
//! read-only by every execution environment that runs that code.

use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};

use crate::EngineError;

/// `ROOT/<sha256-hex>/`: a package unpacked once, then reused.
#[derive(Debug, Clone)]
pub struct CodeCache {
    root: PathBuf,
}

impl CodeCache {
    pub fn new(root: PathBuf) -> Result<Self, EngineError> {
        fs::create_dir_all(&root).map_err(|source| EngineError::Unpack { path: root.clone(), source })?;
        set_mode(&root, 0o755).map_err(|source| EngineError::Unpack { path: root.clone(), source })?;
        Ok(Self { root })
    }

    /// The directory holding the package `key`, unpacking `zip` there the
    /// first time. Unpacking goes to a temporary sibling renamed into place,
    /// so a directory that exists is always complete.
    pub fn ensure(&self, key: &str, zip: &Path) -> Result<PathBuf, EngineError> {
        let dir = self.root.join(key);
        if dir.is_dir() {
            return Ok(dir);
        }
        let staging = self.root.join(format!(".{key}.{}", uuid::Uuid::new_v4().simple()));
        let unpack_err = |source| EngineError::Unpack { path: staging.clone(), source };
        let result = unpack(zip, &staging);
        if let Err(source) = result {
            let _ = fs::remove_dir_all(&staging);
            return Err(unpack_err(source));
        }
        match fs::rename(&staging, &dir) {
            Ok(()) => Ok(dir),
            Err(_) if dir.is_dir() => {
                let _ = fs::remove_dir_all(&staging);
                Ok(dir)
            }
            Err(source) => Err(unpack_err(source)),
        }
    }
}

impl CodeCache {
    /// The directory mounted at `/opt`: the layers unpacked in order into
    /// one tree, later layers replacing earlier files (as on AWS). `None`
    /// without layers. Each (blob key, zip) list is unpacked once.
    pub fn ensure_layers(&self, layers: &[(String, PathBuf)]) -> Result<Option<PathBuf>, EngineError> {
        if layers.is_empty() {
            return Ok(None);
        }
        let keys: Vec<&str> = layers.iter().map(|(k, _)| k.as_str()).collect();
        let key = format!("opt-{}", digest_hex(keys.join(",").as_bytes()));
        let dir = self.root.join(&key);
        if dir.is_dir() {
            return Ok(Some(dir));
        }
        let staging = self.root.join(format!(".{key}.{}", uuid::Uuid::new_v4().simple()));
        let unpack_err = |source| EngineError::Unpack { path: staging.clone(), source };
        for (_, zip) in layers {
            if let Err(source) = unpack(zip, &staging) {
                let _ = fs::remove_dir_all(&staging);
                return Err(unpack_err(source));
            }
        }
        match fs::rename(&staging, &dir) {
            Ok(()) => Ok(Some(dir)),
            Err(_) if dir.is_dir() => {
                let _ = fs::remove_dir_all(&staging);
                Ok(Some(dir))
            }
            Err(source) => Err(unpack_err(source)),
        }
    }
}

/// Makes room for a new entry at `target` where an earlier layer left one:
/// a file or link is replaced, a directory replaced by a file or link.
fn replace_existing(target: &Path) -> io::Result<()> {
    match fs::symlink_metadata(target) {
        Ok(meta) if meta.is_dir() => fs::remove_dir_all(target),
        Ok(_) => fs::remove_file(target),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Lower-case hex SHA-256 of bytes.
pub(crate) fn digest_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
}

/// Unpacks a package that the control plane already inspected (paths stay
/// inside, sizes within limits): directories 0755, files 0644 or 0755 when
/// the zip marks them executable, symbolic links as links.
fn unpack(zip: &Path, into: &Path) -> io::Result<()> {
    let file = fs::File::open(zip)?;
    let mut archive = zip::ZipArchive::new(io::BufReader::new(file)).map_err(io::Error::other)?;
    fs::create_dir_all(into)?;
    set_mode(into, 0o755)?;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(io::Error::other)?;
        let Some(relative) = entry.enclosed_name() else {
            return Err(io::Error::new(io::ErrorKind::InvalidData, format!("unsafe entry {}", entry.name())));
        };
        let target = into.join(relative);
        let mode = entry.unix_mode().unwrap_or(0o644);
        if entry.is_dir() {
            if fs::symlink_metadata(&target).is_ok_and(|m| !m.is_dir()) {
                fs::remove_file(&target)?;
            }
            fs::create_dir_all(&target)?;
            set_mode(&target, 0o755)?;
            continue;
        }
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent)?;
            set_mode(parent, 0o755)?;
        }
        replace_existing(&target)?;
        if mode & 0o170000 == 0o120000 {
            let mut link = String::new();
            entry.read_to_string(&mut link)?;
            symlink(link, &target)?;
            continue;
        }
        let mut out = fs::File::create(&target)?;
        io::copy(&mut entry, &mut out)?;
        set_mode(&target, if mode & 0o111 != 0 { 0o755 } else { 0o644 })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use zip::write::SimpleFileOptions;

    use super::*;

    #[test]
    fn unpacks_once_with_modes() {
        let dir = tempfile::tempdir().unwrap();
        let zip_path = dir.path().join("p.zip");
        let mut w = zip::ZipWriter::new(fs::File::create(&zip_path).unwrap());
        w.start_file("bootstrap", SimpleFileOptions::default().unix_permissions(0o755)).unwrap();
        w.write_all(b"#!/bin/sh\n").unwrap();
        w.start_file("lib/data.txt", SimpleFileOptions::default().unix_permissions(0o600)).unwrap();
        w.write_all(b"data").unwrap();
        w.add_symlink("link", "lib/data.txt", SimpleFileOptions::default()).unwrap();
        w.finish().unwrap();

        let cache = CodeCache::new(dir.path().join("code")).unwrap();
        let out = cache.ensure("abc", &zip_path).unwrap();
        let mode = |p: &str| fs::metadata(out.join(p)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode("bootstrap"), 0o755);
        assert_eq!(mode("lib/data.txt"), 0o644);
        assert_eq!(fs::read_to_string(out.join("link")).unwrap(), "data");
        assert_eq!(cache.ensure("abc", &zip_path).unwrap(), out);
    }

    fn zip_of(path: &Path, files: &[(&str, &str)]) {
        let mut w = zip::ZipWriter::new(fs::File::create(path).unwrap());
        for (name, body) in files {
            w.start_file(*name, SimpleFileOptions::default()).unwrap();
            w.write_all(body.as_bytes()).unwrap();
        }
        w.finish().unwrap();
    }

    #[test]
    fn later_layers_override_earlier_files() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.zip"), dir.path().join("b.zip"));
        zip_of(&a, &[("python/shared.py", "a"), ("python/only_a.py", "a")]);
        zip_of(&b, &[("python/shared.py", "b"), ("bin/tool", "b")]);
        let cache = CodeCache::new(dir.path().join("code")).unwrap();
        assert_eq!(cache.ensure_layers(&[]).unwrap(), None);
        let opt = cache.ensure_layers(&[("ka".into(), a.clone()), ("kb".into(), b.clone())]).unwrap().unwrap();
        assert_eq!(fs::read_to_string(opt.join("python/shared.py")).unwrap(), "b");
        assert_eq!(fs::read_to_string(opt.join("python/only_a.py")).unwrap(), "a");
        assert_eq!(fs::read_to_string(opt.join("bin/tool")).unwrap(), "b");
        let reversed = cache.ensure_layers(&[("kb".into(), b), ("ka".into(), a)]).unwrap().unwrap();
        assert_ne!(reversed, opt);
        assert_eq!(fs::read_to_string(reversed.join("python/shared.py")).unwrap(), "a");
    }
}
