//! Unpacked deployment packages, one directory per content address, shared
//! read-only by every execution environment that runs that code.
//!
//! A package is hostile until proven otherwise: it is unpacked into a fresh
//! staging directory by [`unpack::Unpacker`], which never follows a link,
//! in a thread confined to that directory as an unprivileged uid
//! ([`confine`]), and only then renamed into place. See docs/security.md.

mod confine;
mod unpack;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

pub use confine::UnpackAs;

use crate::EngineError;

/// `ROOT/<sha256-hex>/`: a package unpacked once, then reused.
#[derive(Debug, Clone)]
pub struct CodeCache {
    root: PathBuf,
    unpack_as: UnpackAs,
}

impl CodeCache {
    /// The cache at `root`, which sandboxes in `group` may traverse (not
    /// list).
    pub fn new(root: PathBuf, unpack_as: UnpackAs, group: Option<u32>) -> Result<Self, EngineError> {
        fs::create_dir_all(&root)
            .and_then(|()| crate::share_with_sandboxes(&root, 0o710, group))
            .map_err(|source| EngineError::Unpack { path: root.clone(), source })?;
        Ok(Self { root, unpack_as })
    }

    /// The directory holding the package `key`, unpacking `zip` there the
    /// first time.
    pub fn ensure(&self, key: &str, zip: &Path) -> Result<PathBuf, EngineError> {
        self.ensure_dir(key, &[zip])
    }

    /// The directory mounted at `/opt`: the layers unpacked in order into
    /// one tree, later layers replacing earlier files (as on AWS); no layer
    /// writes through a link another made. `None` without layers. Each
    /// (blob key, zip) list is unpacked once.
    pub fn ensure_layers(&self, layers: &[(String, PathBuf)]) -> Result<Option<PathBuf>, EngineError> {
        if layers.is_empty() {
            return Ok(None);
        }
        let keys: Vec<&str> = layers.iter().map(|(k, _)| k.as_str()).collect();
        let key = format!("opt-{}", digest_hex(keys.join(",").as_bytes()));
        let zips: Vec<&Path> = layers.iter().map(|(_, zip)| zip.as_path()).collect();
        self.ensure_dir(&key, &zips).map(Some)
    }

    /// `ROOT/<key>`, made from `zips` in order the first time. Unpacking goes
    /// to a temporary sibling renamed into place, so a directory that exists
    /// is always complete.
    fn ensure_dir(&self, key: &str, zips: &[&Path]) -> Result<PathBuf, EngineError> {
        let dir = self.root.join(key);
        if dir.is_dir() {
            return Ok(dir);
        }
        let staging = self.root.join(format!(".{key}.{}", uuid::Uuid::new_v4().simple()));
        let unpack_err = |source| EngineError::Unpack { path: staging.clone(), source };
        let result = fs::create_dir(&staging).and_then(|()| {
            let files = zips.iter().map(fs::File::open).collect::<io::Result<Vec<_>>>()?;
            confine::run(self.unpack_as, &staging, files, |root, files| {
                let unpacker = unpack::Unpacker::new(root);
                files.into_iter().try_for_each(|file| unpacker.unpack_zip(file))
            })
        });
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

/// What `name` in the unpacked directory `dir` is, resolved as the
/// function would see it (links followed, but never out of `dir`): `None`
/// when nothing is there or a link leads outside.
pub(crate) fn stat_in(dir: &Path, name: &str) -> Option<fs::Metadata> {
    use nix::fcntl::{OFlag, OpenHow, ResolveFlag};
    let root = fs::File::open(dir).ok()?;
    let how = OpenHow::new().flags(OFlag::O_PATH | OFlag::O_CLOEXEC).resolve(ResolveFlag::RESOLVE_IN_ROOT);
    let fd = nix::fcntl::openat2(&root, name, how).ok()?;
    fs::File::from(fd).metadata().ok()
}

/// Lower-case hex SHA-256 of bytes.
pub(crate) fn digest_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;

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

        let cache = CodeCache::new(dir.path().join("code"), UnpackAs::Server, None).unwrap();
        let out = cache.ensure("abc", &zip_path).unwrap();
        let mode = |p: &str| fs::metadata(out.join(p)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode("bootstrap"), 0o750);
        assert_eq!(mode("lib/data.txt"), 0o640);
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
        let cache = CodeCache::new(dir.path().join("code"), UnpackAs::Server, None).unwrap();
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
