//! Changing the mounts of a sandbox whose program already runs, from the
//! host: nothing inside has the capabilities to do it.
//!
//! A bind is made on the host as a detached copy of the source tree
//! (`open_tree(OPEN_TREE_CLONE)`), made read-only and private there
//! (`mount_setattr`), and attached inside by a short-lived helper that
//! joins the sandbox's mount namespace and calls `move_mount`. `/tmp` is
//! resized by the same helper with a remount. The helper is started by
//! [`init::vfork_on_own_stack`], as the sandbox's init starts its program:
//! it has its own `fs_struct` (which `setns` into a mount namespace
//! requires), shares the caller's memory without copying its page tables,
//! and only makes raw system calls until it exits with 0 or the errno of
//! the call that failed.

use std::ffi::{CStr, CString};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use nix::errno::Errno;
use nix::sys::signal::{SigSet, SigmaskHow};

use crate::init::{self, sys};
use crate::rootfs::{MOUNT_ATTR_NODEV, MOUNT_ATTR_NOSUID, MOUNT_ATTR_RDONLY, MountAttr};

const OPEN_TREE_CLONE: libc::c_uint = 1;
const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 0x4;

enum Op<'a> {
    /// Attach the detached tree `tree` at `target`.
    Move { tree: RawFd, target: &'a CStr },
    /// Remount the tmpfs at `target` with `data`.
    Remount { target: &'a CStr, data: &'a CStr },
}

struct HelperArgs<'a> {
    mount_ns: RawFd,
    op: Op<'a>,
}

/// Binds `source` (a host path) read-only at `target` in the mount
/// namespace `mount_ns`.
pub(crate) fn mount_into(mount_ns: &OwnedFd, source: &Path, target: &Path) -> Result<(), Errno> {
    let source = CString::new(source.as_os_str().as_bytes()).map_err(|_| Errno::EINVAL)?;
    let target = CString::new(target.as_os_str().as_bytes()).map_err(|_| Errno::EINVAL)?;
    let flags = OPEN_TREE_CLONE | libc::O_CLOEXEC as libc::c_uint | libc::AT_RECURSIVE as libc::c_uint;
    // SAFETY: open_tree(2) with a NUL-terminated path; the result is a new
    // descriptor we own.
    let tree = Errno::result(unsafe { libc::syscall(libc::SYS_open_tree, libc::AT_FDCWD, source.as_ptr(), flags) })?;
    // SAFETY: `tree` is a fresh descriptor nothing else owns.
    let tree = unsafe { OwnedFd::from_raw_fd(tree as RawFd) };
    let attr = MountAttr {
        attr_set: MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
        attr_clr: 0,
        // Private: no mount event may travel between the host and the sandbox.
        propagation: libc::MS_PRIVATE,
        userns_fd: 0,
    };
    // SAFETY: mount_setattr(2) on our descriptor with an empty path and a
    // live, correctly sized `struct mount_attr`.
    Errno::result(unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            tree.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_EMPTY_PATH | libc::AT_RECURSIVE,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    })?;
    in_namespace(&HelperArgs {
        mount_ns: mount_ns.as_raw_fd(),
        op: Op::Move { tree: tree.as_raw_fd(), target: &target },
    })
}

/// Resizes the tmpfs at `/tmp` in `mount_ns` to `bytes`.
pub(crate) fn resize_tmp(mount_ns: &OwnedFd, bytes: u64) -> Result<(), Errno> {
    let data = CString::new(format!("size={bytes}")).map_err(|_| Errno::EINVAL)?;
    in_namespace(&HelperArgs { mount_ns: mount_ns.as_raw_fd(), op: Op::Remount { target: c"/tmp", data: &data } })
}

fn in_namespace(args: &HelperArgs<'_>) -> Result<(), Errno> {
    let mut old = SigSet::empty();
    nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::all()), Some(&mut old))?;
    // SAFETY: `helper_main` only makes raw system calls on `args`, which
    // outlives the call, and exits. Signals are blocked so that no handler
    // of ours runs on its stack.
    let pid = unsafe { init::vfork_on_own_stack(helper_main, (args as *const HelperArgs<'_>).cast_mut().cast()) };
    let _ = nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&old), None);
    let pid = pid?;
    let mut status = 0;
    loop {
        // SAFETY: waits for our own child, writing its status to a local.
        let rc = unsafe { libc::waitpid(pid, &mut status, libc::__WALL) };
        match Errno::result(rc) {
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e),
            Ok(_) => break,
        }
    }
    match (libc::WIFEXITED(status), libc::WEXITSTATUS(status)) {
        (true, 0) => Ok(()),
        (true, errno) => Err(Errno::from_raw(errno)),
        _ => Err(Errno::ECHILD),
    }
}

extern "C" fn helper_main(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the `HelperArgs` that `in_namespace` keeps alive on
    // its suspended stack.
    let args = unsafe { &*arg.cast::<HelperArgs<'_>>() };
    // SAFETY: raw system calls on descriptors and strings that outlive us.
    let rc = unsafe {
        let rc = sys::syscall(libc::SYS_setns, args.mount_ns as usize, libc::CLONE_NEWNS as usize, 0, 0);
        if rc < 0 {
            rc
        } else {
            match args.op {
                Op::Move { tree, target } => move_mount(tree, target),
                Op::Remount { target, data } => sys::syscall5(
                    libc::SYS_mount,
                    0,
                    target.as_ptr() as usize,
                    0,
                    (libc::MS_REMOUNT | libc::MS_NOSUID | libc::MS_NODEV) as usize,
                    data.as_ptr() as usize,
                ),
            }
        }
    };
    let code = if rc < 0 { (-rc) as usize } else { 0 };
    // SAFETY: ends the helper; nothing of ours runs after.
    unsafe { sys::syscall(libc::SYS_exit, code, 0, 0, 0) };
    code as libc::c_int
}

/// `move_mount(tree, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH)`.
unsafe fn move_mount(tree: RawFd, target: &CStr) -> isize {
    // SAFETY: the caller's: NUL-terminated strings that outlive the call.
    unsafe {
        sys::syscall5(
            libc::SYS_move_mount,
            tree as usize,
            c"".as_ptr() as usize,
            libc::AT_FDCWD as usize,
            target.as_ptr() as usize,
            MOVE_MOUNT_F_EMPTY_PATH as usize,
        )
    }
}
