//! Unpacks verified files into the staging tree. The files match pinned
//! digests, so they are the registries' own; still, no entry may leave the
//! tree, and links are skipped (SDK packages have none). Everything ends up
//! public and read-only to others: directories 0755, files 0644 (0755 when
//! executable), whatever the server's umask.

use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

use crate::SdkError;
use crate::lock::{Artifact, Format};

pub(crate) fn artifact(root: &Path, artifact: &Artifact, bytes: &[u8]) -> Result<(), SdkError> {
    let fail = |reason: String| SdkError::Unpack { name: artifact.name.clone(), reason };
    match &artifact.format {
        Format::Wheel => {
            let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| fail(e.to_string()))?;
            for i in 0..zip.len() {
                let mut entry = zip.by_index(i).map_err(|e| fail(e.to_string()))?;
                if entry.is_dir() || entry.is_symlink() {
                    continue;
                }
                let path = inside(root, entry.name()).ok_or_else(|| fail(format!("entry {:?}", entry.name())))?;
                let executable = entry.unix_mode().is_some_and(|m| m & 0o111 != 0);
                let mut data = Vec::with_capacity(entry.size() as usize);
                entry.read_to_end(&mut data).map_err(|e| fail(e.to_string()))?;
                write(&path, &data, executable)?;
            }
            Ok(())
        }
        Format::NpmTarball { dest } => {
            let dest = inside(root, dest).ok_or_else(|| fail(format!("destination {dest:?}")))?;
            let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
            for entry in tar.entries().map_err(|e| fail(e.to_string()))? {
                let mut entry = entry.map_err(|e| fail(e.to_string()))?;
                if !entry.header().entry_type().is_file() {
                    continue;
                }
                let name = entry.path().map_err(|e| fail(e.to_string()))?.to_string_lossy().into_owned();
                // Every file is under one top directory (`package/` as npm packs it).
                let Some((_, relative)) = name.split_once('/') else { continue };
                let path = inside(&dest, relative).ok_or_else(|| fail(format!("entry {name:?}")))?;
                let executable = entry.header().mode().is_ok_and(|m| m & 0o111 != 0);
                let mut data = Vec::new();
                entry.read_to_end(&mut data).map_err(|e| fail(e.to_string()))?;
                write(&path, &data, executable)?;
            }
            Ok(())
        }
    }
}

/// `root` joined with `relative` when it has only normal components.
fn inside(root: &Path, relative: &str) -> Option<PathBuf> {
    let relative = Path::new(relative);
    let plain = relative.components().all(|c| matches!(c, Component::Normal(_)));
    (plain && relative.components().next().is_some()).then(|| root.join(relative))
}

fn write(path: &Path, data: &[u8], executable: bool) -> Result<(), SdkError> {
    let io = |source| SdkError::Io { path: path.to_owned(), source };
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(io)?;
    }
    fs::write(path, data).map_err(io)?;
    fs::set_permissions(path, fs::Permissions::from_mode(if executable { 0o755 } else { 0o644 })).map_err(io)
}

/// Creates `dir` (and its parents) readable and traversable by everyone.
pub(crate) fn make_public_dir(dir: &Path) -> Result<(), SdkError> {
    let io = |source| SdkError::Io { path: dir.to_owned(), source };
    let mut missing: Vec<&Path> = dir.ancestors().take_while(|d| !d.exists()).collect();
    missing.reverse();
    for d in missing {
        match fs::create_dir(d) {
            Ok(()) => fs::set_permissions(d, fs::Permissions::from_mode(0o755)).map_err(io)?,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io(e)),
        }
    }
    Ok(())
}

/// Directories 0755, files 0644 or 0755: what the umask took away, back.
pub(crate) fn make_public_tree(root: &Path) -> Result<(), SdkError> {
    let io = |path: &Path, source| SdkError::Io { path: path.to_owned(), source };
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).map_err(|e| io(&dir, e))?;
        for entry in fs::read_dir(&dir).map_err(|e| io(&dir, e))? {
            let entry = entry.map_err(|e| io(&dir, e))?;
            let path = entry.path();
            let meta = fs::symlink_metadata(&path).map_err(|e| io(&path, e))?;
            if meta.is_dir() {
                stack.push(path);
            } else if meta.is_file() {
                let mode = if meta.permissions().mode() & 0o100 != 0 { 0o755 } else { 0o644 };
                fs::set_permissions(&path, fs::Permissions::from_mode(mode)).map_err(|e| io(&path, e))?;
            }
        }
    }
    Ok(())
}

/// Byte-compiles the tree with the sandboxes' interpreter, so imports in a
/// read-only environment need not compile (botocore is about 1,000 modules).
pub(crate) fn compile_python(root: &Path, python: &Path) -> Result<(), SdkError> {
    let output = std::process::Command::new(python)
        .args(["-m", "compileall", "-q", "-j", "0", "-d", "/var/lang/lib/python-sdk"])
        .arg(root)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| SdkError::Compile(format!("{}: {e}", python.display())))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(SdkError::Compile(format!(
            "{} exited {}: {}",
            python.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lock::Digest;

    fn wheel(entries: &[(&str, &[u8], u32)]) -> Vec<u8> {
        let mut buf = std::io::Cursor::new(Vec::new());
        {
            let mut zip = zip::ZipWriter::new(&mut buf);
            for (name, data, mode) in entries {
                let options = zip::write::SimpleFileOptions::default().unix_permissions(*mode);
                zip.start_file(*name, options).unwrap();
                std::io::Write::write_all(&mut zip, data).unwrap();
            }
            zip.finish().unwrap();
        }
        buf.into_inner()
    }

    fn artifact(format: Format) -> Artifact {
        Artifact {
            name: "t".into(),
            version: "1".into(),
            url: "https://x".into(),
            digest: Digest::Sha256(String::new()),
            size: None,
            format,
        }
    }

    #[test]
    fn a_wheel_unpacks_public_and_cannot_leave_the_tree() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("t");
        let w = wheel(&[("pkg/__init__.py", b"x = 1\n", 0o600), ("pkg/tool", b"#!/bin/sh\n", 0o700)]);
        super::artifact(&root, &artifact(Format::Wheel), &w).unwrap();
        make_public_tree(&root).unwrap();
        let mode = |p: &str| fs::metadata(root.join(p)).unwrap().permissions().mode() & 0o777;
        assert_eq!((mode("pkg"), mode("pkg/__init__.py"), mode("pkg/tool")), (0o755, 0o644, 0o755));
        let evil = wheel(&[("../escape.py", b"", 0o644)]);
        assert!(super::artifact(&root, &artifact(Format::Wheel), &evil).is_err());
        assert!(!dir.path().join("escape.py").exists());
    }

    #[test]
    fn an_npm_tarball_goes_to_its_node_modules_path() {
        let mut tar = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_size(2);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, "package/index.js", &b"//"[..]).unwrap();
        let raw = tar.into_inner().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &raw).unwrap();
        let bytes = gz.finish().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let format = Format::NpmTarball { dest: "node_modules/@aws-sdk/client-s3".into() };
        super::artifact(dir.path(), &artifact(format), &bytes).unwrap();
        assert_eq!(fs::read(dir.path().join("node_modules/@aws-sdk/client-s3/index.js")).unwrap(), b"//");
    }
}
