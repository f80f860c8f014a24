//! Writes a package's entries under a directory without ever following a
//! symbolic link or leaving the directory, whatever the package holds.
//!
//! Every directory is reached one component at a time from the root's
//! descriptor with `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
//! RESOLVE_NO_XDEV)` (plain `O_NOFOLLOW` where the kernel has no `openat2`),
//! so a link the package (or an earlier layer) created is an error, never a
//! way out. Files are created `O_EXCL | O_NOFOLLOW` and their modes set with
//! `fchmod` on the descriptor just created; links are made with
//! `symlinkat`, which never resolves its target. What an entry replaces (a
//! duplicate, a file of an earlier layer) is removed with `unlinkat` from its
//! parent's descriptor, inside the tree this unpack is building.
//!
//! Names are parsed again with the model's rules (`entry_components`), as
//! the control plane did at CreateFunction: defence in depth, not the first
//! check.

use std::ffi::CString;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use lambdabox_model::package::entry_components;
use nix::errno::Errno;
use nix::fcntl::{OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::{FileStat, Mode, SFlag};
use nix::unistd::UnlinkatFlags;

/// Modes of what is unpacked: readable by the owner (the unpacking uid)
/// and the sandbox group, by nobody else (a package may hold secrets).
const DIR_MODE: u32 = 0o750;
const FILE_MODE: u32 = 0o640;
const EXEC_MODE: u32 = 0o750;

/// A directory entries are unpacked under.
pub(crate) struct Unpacker {
    root: OwnedFd,
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

fn cstring(name: &str) -> io::Result<CString> {
    CString::new(name).map_err(|_| invalid(format!("the name '{name}' holds a NUL byte")))
}

impl Unpacker {
    /// Takes `root` (a directory descriptor) as the top of the tree.
    pub(crate) fn new(root: OwnedFd) -> Self {
        Self { root }
    }

    /// Unpacks every entry of the zip in `file`: directories 0750, files
    /// 0640 or 0750 when the zip marks them executable, links as links.
    pub(crate) fn unpack_zip(&self, file: File) -> io::Result<()> {
        let mut archive = zip::ZipArchive::new(io::BufReader::new(file)).map_err(io::Error::other)?;
        for i in 0..archive.len() {
            let mut entry = archive.by_index(i).map_err(io::Error::other)?;
            let name = entry.name().to_owned();
            let parts = entry_components(&name).map_err(|e| invalid(format!("unsafe entry '{name}': {e:?}")))?;
            let mode = entry.unix_mode().unwrap_or(0o644);
            let Some((last, parents)) = parts.split_last() else {
                if entry.is_dir() {
                    continue;
                }
                return Err(invalid(format!("the entry '{name}' has no file name")));
            };
            let parent = self.directory(parents)?;
            if entry.is_dir() {
                let dir = ensure_dir(parent.as_fd(), last)?;
                nix::sys::stat::fchmod(&dir, Mode::from_bits_truncate(DIR_MODE))?;
            } else if mode & 0o170000 == 0o120000 {
                let mut target = String::new();
                entry.by_ref().take(4096).read_to_string(&mut target)?;
                remove_existing(parent.as_fd(), last)?;
                nix::unistd::symlinkat(cstring(&target)?.as_c_str(), parent.as_fd(), cstring(last)?.as_c_str())?;
            } else {
                remove_existing(parent.as_fd(), last)?;
                let how = OpenHow::new()
                    .flags(OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC)
                    .mode(Mode::from_bits_truncate(0o600));
                let fd = open_beneath(parent.as_fd(), last, how)?;
                let mut out = File::from(fd);
                io::copy(&mut entry, &mut out)?;
                let mode = if mode & 0o111 != 0 { EXEC_MODE } else { FILE_MODE };
                nix::sys::stat::fchmod(&out, Mode::from_bits_truncate(mode))?;
            }
        }
        Ok(())
    }

    /// The directory at `parts` under the root, creating what is missing
    /// (0750). A component that is a link or a file is an error.
    fn directory(&self, parts: &[String]) -> io::Result<OwnedFd> {
        let mut current = self.root.try_clone()?;
        for part in parts {
            current = ensure_dir(current.as_fd(), part)?;
        }
        Ok(current)
    }
}

/// Flags for every resolution: below the starting directory, through no
/// link and no mount point.
fn resolve_flags() -> ResolveFlag {
    ResolveFlag::RESOLVE_BENEATH | ResolveFlag::RESOLVE_NO_SYMLINKS | ResolveFlag::RESOLVE_NO_XDEV
}

/// Opens the single component `name` of `dir` as `how` says, never
/// following a link. Without `openat2` (Linux before 5.6), `openat` with
/// `O_NOFOLLOW`: `name` is one component, so that is the whole resolution.
fn open_beneath(dir: BorrowedFd<'_>, name: &str, how: OpenHow) -> io::Result<OwnedFd> {
    let c_name = cstring(name)?;
    if name.contains('/') || name == ".." || name == "." || name.is_empty() {
        return Err(invalid(format!("'{name}' is not a single file name")));
    }
    match nix::fcntl::openat2(dir, c_name.as_c_str(), how.resolve(resolve_flags())) {
        Err(Errno::ENOSYS) => {
            let (flags, mode) = how_parts(&how);
            Ok(nix::fcntl::openat(dir, c_name.as_c_str(), flags | OFlag::O_NOFOLLOW, mode)?)
        }
        Err(Errno::ELOOP) => Err(invalid(format!("'{name}' is a symbolic link"))),
        other => Ok(other?),
    }
}

/// The flags and mode an [`OpenHow`] was built with (for the fallback).
fn how_parts(how: &OpenHow) -> (OFlag, Mode) {
    // SAFETY: `OpenHow` is `repr(transparent)` over `libc::open_how`.
    let raw: &nix::libc::open_how = unsafe { &*(how as *const OpenHow).cast() };
    (OFlag::from_bits_truncate(raw.flags as i32), Mode::from_bits_truncate(raw.mode as u32))
}

fn open_dir(dir: BorrowedFd<'_>, name: &str) -> io::Result<OwnedFd> {
    let how = OpenHow::new().flags(OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC);
    open_beneath(dir, name, how).map_err(|e| match e.raw_os_error() {
        Some(nix::libc::ENOTDIR | nix::libc::ELOOP) => match lstat_at(dir, name) {
            Ok(Some(stat)) if SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT == SFlag::S_IFLNK => {
                invalid(format!("'{name}' is a symbolic link where a directory is needed"))
            }
            _ => invalid(format!("'{name}' is a file where a directory is needed")),
        },
        _ => e,
    })
}

/// The directory `name` in `dir`, made (0750) if missing.
fn ensure_dir(dir: BorrowedFd<'_>, name: &str) -> io::Result<OwnedFd> {
    match open_dir(dir, name) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            match nix::sys::stat::mkdirat(dir, cstring(name)?.as_c_str(), Mode::from_bits_truncate(DIR_MODE)) {
                Ok(()) | Err(Errno::EEXIST) => {}
                Err(e) => return Err(e.into()),
            }
            let made = open_dir(dir, name)?;
            nix::sys::stat::fchmod(&made, Mode::from_bits_truncate(DIR_MODE))?;
            Ok(made)
        }
        other => other,
    }
}

fn lstat_at(dir: BorrowedFd<'_>, name: &str) -> io::Result<Option<FileStat>> {
    match nix::sys::stat::fstatat(dir, cstring(name)?.as_c_str(), nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(stat) => Ok(Some(stat)),
        Err(Errno::ENOENT) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn is_dir(stat: &FileStat) -> bool {
    SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT == SFlag::S_IFDIR
}

/// Removes what is at `name` in `dir` (a duplicate entry, or what an earlier
/// layer put there): a file or link by `unlinkat` (a link itself, never its
/// target), a directory with everything in it.
fn remove_existing(dir: BorrowedFd<'_>, name: &str) -> io::Result<()> {
    let Some(stat) = lstat_at(dir, name)? else { return Ok(()) };
    let c_name = cstring(name)?;
    if is_dir(&stat) {
        remove_tree(open_dir(dir, name)?)?;
        nix::unistd::unlinkat(dir, c_name.as_c_str(), UnlinkatFlags::RemoveDir)?;
    } else {
        nix::unistd::unlinkat(dir, c_name.as_c_str(), UnlinkatFlags::NoRemoveDir)?;
    }
    Ok(())
}

/// Empties the directory `dir`, descending through directories only.
fn remove_tree(dir: OwnedFd) -> io::Result<()> {
    let names: Vec<CString> = {
        let mut listing = nix::dir::Dir::from_fd(dir.try_clone()?)?;
        listing
            .iter()
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_owned())
            .filter(|n| n.as_bytes() != b"." && n.as_bytes() != b"..")
            .collect()
    };
    for c_name in names {
        let name = c_name.to_str().map_err(|_| invalid("a name that is not UTF-8".into()))?;
        remove_existing(dir.as_fd(), name)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Write};
    use std::os::unix::fs::PermissionsExt;

    use zip::write::SimpleFileOptions;

    use super::*;

    /// A zip from (name, body, kind) where kind is 'f', 'x' (executable),
    /// 'd' or 'l' (body is the link target).
    pub(crate) fn zip_of(entries: &[(&str, &str, char)]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, body, kind) in entries {
            let options = SimpleFileOptions::default();
            match kind {
                'd' => w.add_directory(*name, options).unwrap(),
                'l' => w.add_symlink(*name, *body, options).unwrap(),
                'x' => {
                    w.start_file(*name, options.unix_permissions(0o755)).unwrap();
                    w.write_all(body.as_bytes()).unwrap();
                }
                _ => {
                    w.start_file(*name, options).unwrap();
                    w.write_all(body.as_bytes()).unwrap();
                }
            }
        }
        w.finish().unwrap().into_inner()
    }

    fn unpack(into: &std::path::Path, zip: &[u8]) -> io::Result<()> {
        let file = tempfile::tempfile().unwrap();
        (&file).write_all(zip).unwrap();
        let mut file = file;
        io::Seek::rewind(&mut file).unwrap();
        let root = File::open(into).unwrap();
        Unpacker::new(root.into()).unpack_zip(file)
    }

    #[test]
    fn a_link_the_package_made_is_never_followed() {
        let host = tempfile::tempdir().unwrap();
        let outside = host.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        let root = host.path().join("root");
        std::fs::create_dir(&root).unwrap();
        // The reported chain, absolute links, a link to the parent.
        let variants = [
            vec![("a", ".", 'l'), ("b", "a/a/a/../../../outside", 'l'), ("b/pwned", "x", 'f')],
            vec![("b", outside.to_str().unwrap(), 'l'), ("b/pwned", "x", 'f')],
            vec![("b", "..", 'l'), ("b/outside/pwned", "x", 'f')],
            vec![("d/", "", 'd'), ("d/b", "../../outside", 'l'), ("d/b/", "", 'd')],
        ];
        // Split over two packages (layers): a link, then a file of its name.
        let split = [vec![("pwned", "../outside/pwned", 'l')], vec![("pwned", "x", 'f')]];
        for (i, entries) in variants.iter().chain(&split).enumerate() {
            let _ = unpack(&root, &zip_of(entries));
            if i == variants.len() {
                continue; // the second half of the split case comes next
            }
            assert!(!outside.join("pwned").exists(), "{entries:?} wrote outside");
            assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0, "{entries:?}");
            std::fs::remove_dir_all(&root).unwrap();
            std::fs::create_dir(&root).unwrap();
        }
    }

    #[test]
    fn a_later_layer_cannot_write_through_an_earlier_layers_link() {
        let host = tempfile::tempdir().unwrap();
        let outside = host.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        std::fs::set_permissions(&outside, std::fs::Permissions::from_mode(0o1777)).unwrap();
        let root = host.path().join("root");
        std::fs::create_dir(&root).unwrap();
        unpack(&root, &zip_of(&[("python", outside.to_str().unwrap(), 'l')])).unwrap();
        let err = unpack(&root, &zip_of(&[("python/pwned.py", "x", 'f')])).unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        let err = unpack(&root, &zip_of(&[("python/", "", 'd')]));
        assert!(err.is_err());
        assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
        let mode = std::fs::metadata(&outside).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o1777, "the sticky bit of a directory outside is untouched");
        // Replacing the link itself removes the link, not its target.
        unpack(&root, &zip_of(&[("python", "now a file", 'f')])).unwrap();
        assert_eq!(std::fs::read_to_string(root.join("python")).unwrap(), "now a file");
        assert!(outside.is_dir());
    }

    #[test]
    fn modes_duplicates_and_replacements() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir(&root).unwrap();
        let zip = zip_of(&[
            ("bin/tool", "#!/bin/sh\n", 'x'),
            ("lib/", "", 'd'),
            ("lib/a.txt", "2", 'f'),
            ("link", "lib/a.txt", 'l'),
        ]);
        unpack(&root, &zip).unwrap();
        let mode = |p: &str| std::fs::symlink_metadata(root.join(p)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode("bin/tool"), 0o750);
        assert_eq!(mode("bin"), 0o750);
        assert_eq!(mode("lib/a.txt"), 0o640);
        assert_eq!(std::fs::read_to_string(root.join("lib/a.txt")).unwrap(), "2");
        assert_eq!(std::fs::read_link(root.join("link")).unwrap().to_str(), Some("lib/a.txt"));
        // A later package's file replaces an earlier one's.
        unpack(&root, &zip_of(&[("lib/a.txt", "3", 'f')])).unwrap();
        assert_eq!(std::fs::read_to_string(root.join("lib/a.txt")).unwrap(), "3");
        // A later package's file replaces a directory of an earlier one.
        unpack(&root, &zip_of(&[("lib", "file now", 'f')])).unwrap();
        assert_eq!(std::fs::read_to_string(root.join("lib")).unwrap(), "file now");
    }

    #[test]
    fn names_the_model_refuses_are_refused_here_too() {
        let dir = tempfile::tempdir().unwrap();
        for bad in ["../x", "/abs", &"n".repeat(300)] {
            let zip = zip_of(&[(bad, "x", 'f')]);
            assert!(unpack(dir.path(), &zip).is_err(), "{bad}");
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
