//! Runs an unpack in a thread that cannot reach the host's files: the thread
//! takes a file-system context of its own (`unshare(CLONE_FS)`),
//! `chroot`s into the directory being filled and drops to an unprivileged
//! uid and gid (raw `setresuid`, which changes only the calling thread and
//! empties its capabilities). Even a bug in the unpacker that followed a
//! link would resolve it inside that directory, and could write only where
//! that uid may.
//!
//! Needs root (`CAP_SYS_CHROOT`, `CAP_SETUID`); a server that is not root
//! unpacks as itself, with the unpacker's own checks only.

use std::fs::File;
use std::io;
use std::os::fd::OwnedFd;
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;

/// Who unpacks packages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnpackAs {
    /// A thread confined to the target directory (chroot) running as this
    /// unprivileged host uid and gid, which own what it unpacks.
    Confined { uid: u32, gid: u32 },
    /// The server's own identity (a server that is not root cannot chroot
    /// or change uid).
    Server,
}

/// Gives `dir` to the unpacking identity and runs `work` on a descriptor of
/// it, with the zip already open, in a thread of its own.
pub(crate) fn run<T: Send>(
    how: UnpackAs,
    dir: &Path,
    zips: Vec<File>,
    work: impl FnOnce(OwnedFd, Vec<File>) -> io::Result<T> + Send,
) -> io::Result<T> {
    let root: OwnedFd = nix::fcntl::open(
        dir,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?;
    if let UnpackAs::Confined { uid, gid } = how {
        nix::unistd::fchown(&root, Some(uid.into()), Some(gid.into()))?;
    }
    nix::sys::stat::fchmod(&root, Mode::from_bits_truncate(0o750))?;
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("lambdabox-unpack".into())
            .spawn_scoped(scope, move || {
                if let UnpackAs::Confined { uid, gid } = how {
                    confine(&root, uid, gid)?;
                }
                work(root, zips)
            })?
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the unpacking thread panicked")))
    })
}

/// Confines the calling thread to `root` as `uid`:`gid`, for good.
fn confine(root: &OwnedFd, uid: u32, gid: u32) -> io::Result<()> {
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_FS)?;
    nix::unistd::fchdir(root)?;
    nix::unistd::chroot(".")?;
    // SAFETY: raw setgroups/setresgid/setresuid with plain integers: they
    // change only this thread's credentials (glibc's wrappers would change
    // every thread of the server). Losing root empties this thread's
    // capabilities.
    unsafe {
        Errno::result(nix::libc::syscall(nix::libc::SYS_setgroups, 0, std::ptr::null::<nix::libc::gid_t>()))?;
        Errno::result(nix::libc::syscall(nix::libc::SYS_setresgid, gid, gid, gid))?;
        Errno::result(nix::libc::syscall(nix::libc::SYS_setresuid, uid, uid, uid))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_confined_thread_sees_only_its_directory_and_is_not_root() {
        if !nix::unistd::geteuid().is_root() {
            eprintln!("skipped: confinement needs root");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("t");
        std::fs::create_dir(&target).unwrap();
        let secret = dir.path().join("secret");
        std::fs::write(&secret, "s").unwrap();
        let how = UnpackAs::Confined { uid: 1_879_048_192, gid: 1_879_048_192 };
        let (sees_secret, euid, writes) = run(how, &target, Vec::new(), |_, _| {
            let sees = Path::new(&secret).exists() || Path::new("/etc/passwd").exists();
            let euid = nix::unistd::geteuid().as_raw();
            let writes = std::fs::write("/made-inside", "x").is_ok();
            Ok((sees, euid, writes))
        })
        .unwrap();
        assert!(!sees_secret, "the host is out of sight");
        assert_eq!(euid, 1_879_048_192);
        assert!(writes, "the confined thread writes its own directory");
        assert!(target.join("made-inside").exists());
        use std::os::unix::fs::MetadataExt;
        assert_eq!(std::fs::metadata(target.join("made-inside")).unwrap().uid(), 1_879_048_192);
        // The rest of the process is still root, with the host's root.
        assert!(nix::unistd::geteuid().is_root());
        assert!(secret.exists());
    }
}
