//! The namespaces of a sandbox: which ones are created, the user
//! namespace's id maps, bringing `lo` up in the new network namespace, and
//! binding listeners inside that namespace from the host side.

use std::fs;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::sched::CloneFlags;
use nix::unistd::Pid;

use crate::spec::Identity;

/// Namespaces created by `clone`. The cgroup namespace is entered later, by
/// the child itself, once it sits in its own cgroup, so that its view of
/// `/proc/self/cgroup` starts there.
pub(crate) fn clone_flags() -> CloneFlags {
    CloneFlags::CLONE_NEWUSER
        | CloneFlags::CLONE_NEWNS
        | CloneFlags::CLONE_NEWPID
        | CloneFlags::CLONE_NEWNET
        | CloneFlags::CLONE_NEWIPC
        | CloneFlags::CLONE_NEWUTS
}

/// Whether the parent may let the child call `setgroups`. A privileged
/// parent allows it so the child can drop the supplementary groups it
/// inherited (host root's); an unprivileged one must deny it before it may
/// write `gid_map`, and its groups are its own anyway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Setgroups {
    Allow,
    Deny,
}

impl Setgroups {
    pub(crate) fn for_current_process() -> Self {
        if nix::unistd::geteuid().is_root() { Self::Allow } else { Self::Deny }
    }
}

/// Writes the child's single-entry uid and gid maps under
/// `proc_root/<pid>/`: `sandbox_id host_id 1`.
pub(crate) fn write_id_maps(
    proc_root: &Path,
    pid: Pid,
    identity: &Identity,
    setgroups: Setgroups,
) -> Result<(), (PathBuf, io::Error)> {
    let dir = proc_root.join(pid.to_string());
    let write = |name: &str, contents: String| {
        let path = dir.join(name);
        fs::write(&path, contents).map_err(|e| (path, e))
    };
    let policy = match setgroups {
        Setgroups::Allow => "allow",
        Setgroups::Deny => "deny",
    };
    write("setgroups", policy.to_owned())?;
    write("uid_map", format!("{} {} 1\n", identity.sandbox_uid, identity.host_uid))?;
    write("gid_map", format!("{} {} 1\n", identity.sandbox_gid, identity.host_gid))?;
    Ok(())
}

/// Brings `lo` up in the calling process's network namespace; a new
/// namespace starts with it down, and 127.0.0.1 exists only once it is up.
///
/// Runs in the child between `clone` and `execve`: plain syscalls only.
pub(crate) fn loopback_up() -> Result<(), Errno> {
    // SAFETY: socket(2) with constant arguments; the result is checked.
    let raw = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    let raw = Errno::result(raw)?;
    // SAFETY: `raw` is a fresh descriptor owned by nobody else.
    let socket = unsafe { OwnedFd::from_raw_fd(raw) };
    // SAFETY: ifreq is a plain C struct for which all-zero is valid.
    let mut request: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in request.ifr_name.iter_mut().zip(b"lo") {
        *dst = *src as libc::c_char;
    }
    // SAFETY: SIOCGIFFLAGS reads the flags into the ifreq we own.
    Errno::result(unsafe { libc::ioctl(socket.as_raw_fd(), libc::SIOCGIFFLAGS, &mut request) })?;
    // SAFETY: SIOCGIFFLAGS filled the `ifru_flags` member of the union.
    unsafe { request.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short };
    // SAFETY: SIOCSIFFLAGS reads the ifreq we own.
    Errno::result(unsafe { libc::ioctl(socket.as_raw_fd(), libc::SIOCSIFFLAGS, &request) })?;
    Ok(())
}

/// Binds a TCP listener at `addr` inside the network namespace `netns`.
///
/// The namespace is entered on a short-lived thread, so no other thread of
/// the caller ever changes namespace; the socket keeps belonging to the
/// namespace it was created in after the thread ends.
pub(crate) fn listen_in(netns: BorrowedFd<'_>, addr: SocketAddr) -> Result<TcpListener, ListenError> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                nix::sched::setns(netns, CloneFlags::CLONE_NEWNET).map_err(ListenError::Enter)?;
                TcpListener::bind(addr).map_err(ListenError::Bind)
            })
            .join()
            .unwrap_or_else(|_| Err(ListenError::Bind(io::Error::other("listener thread panicked"))))
    })
}

#[derive(Debug)]
pub(crate) enum ListenError {
    Enter(Errno),
    Bind(io::Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_maps_map_exactly_one_id_each() {
        let proc_root = tempfile::tempdir().unwrap();
        fs::create_dir(proc_root.path().join("123")).unwrap();
        let identity = Identity { sandbox_uid: 993, sandbox_gid: 990, host_uid: 100_993, host_gid: 100_990 };
        write_id_maps(proc_root.path(), Pid::from_raw(123), &identity, Setgroups::Deny).unwrap();
        let read = |name| fs::read_to_string(proc_root.path().join("123").join(name)).unwrap();
        assert_eq!(read("uid_map"), "993 100993 1\n");
        assert_eq!(read("gid_map"), "990 100990 1\n");
        assert_eq!(read("setgroups"), "deny");
    }

    #[test]
    fn a_missing_process_names_the_file() {
        let proc_root = tempfile::tempdir().unwrap();
        let identity = Identity::unprivileged_default();
        let (path, _) = write_id_maps(proc_root.path(), Pid::from_raw(9), &identity, Setgroups::Allow).unwrap_err();
        assert_eq!(path, proc_root.path().join("9/setgroups"));
    }
}
