//! The child's side of the root file system: running the planned steps
//! with plain system calls, between `clone` and `execve`.

use std::ffi::CStr;
use std::sync::atomic::{AtomicI32, Ordering};

use nix::errno::Errno;
use nix::mount::{MntFlags, MsFlags};

use super::{
    MOUNT_ATTR_NODEV, MOUNT_ATTR_NOEXEC, MOUNT_ATTR_NOSUID, MOUNT_ATTR_RDONLY, MountAttr, RootfsPlan, StepRef,
};

/// Runs the steps in the child. Returns the index of the failed step.
///
/// Async-signal-safe: system calls on prepared data, no allocation.
pub(crate) fn apply(plan: &RootfsPlan) -> Result<(), (usize, Errno)> {
    for (index, step) in plan.steps.iter().enumerate() {
        apply_step(step.as_ref(), &plan.slots).map_err(|e| (index, e))?;
    }
    Ok(())
}

/// Closes the sources still open (after a failure part-way).
pub(crate) fn close_sources(slots: &[AtomicI32]) {
    for slot in slots {
        let fd = slot.swap(-1, Ordering::Relaxed);
        if fd >= 0 {
            // SAFETY: `fd` was opened by `OpenSource` and is closed once.
            unsafe { libc::close(fd) };
        }
    }
}

/// Runs one step; `slots` hold the descriptors `OpenSource` opens.
pub(crate) fn apply_step(step: StepRef<'_>, slots: &[AtomicI32]) -> Result<(), Errno> {
    const NONE: Option<&CStr> = None;
    match step {
        StepRef::MakeRootSlave => nix::mount::mount(NONE, c"/", NONE, MsFlags::MS_SLAVE | MsFlags::MS_REC, NONE),
        StepRef::Tmpfs { target, flags, data } => {
            nix::mount::mount(Some(c"tmpfs"), target, Some(c"tmpfs"), flags, Some(data))
        }
        StepRef::Remount { target, flags, data } => {
            nix::mount::mount(NONE, target, NONE, flags | MsFlags::MS_REMOUNT, Some(data))
        }
        StepRef::Mkdir { path } => {
            // SAFETY: `path` is a valid NUL-terminated string.
            match Errno::result(unsafe { libc::mkdir(path.as_ptr(), 0o755) }) {
                Err(Errno::EEXIST) => Ok(()),
                other => other.map(drop),
            }
        }
        StepRef::Touch { path } => {
            let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_CLOEXEC;
            // SAFETY: `path` is a valid NUL-terminated string.
            let fd = Errno::result(unsafe { libc::open(path.as_ptr(), flags, 0o644) })?;
            // SAFETY: `fd` was just opened here and is closed once.
            unsafe { libc::close(fd) };
            Ok(())
        }
        StepRef::Symlink { target, link } => {
            // SAFETY: both are valid NUL-terminated strings.
            Errno::result(unsafe { libc::symlink(target.as_ptr(), link.as_ptr()) }).map(drop)
        }
        StepRef::WriteFile { path, contents } => write_file(path, contents),
        StepRef::OpenSource { path, slot } => {
            let flags = libc::O_PATH | libc::O_CLOEXEC;
            // SAFETY: `path` is a valid NUL-terminated string.
            let fd = Errno::result(unsafe { libc::open(path.as_ptr(), flags) })?;
            slots.get(slot).ok_or(Errno::EINVAL)?.store(fd, Ordering::Relaxed);
            Ok(())
        }
        StepRef::Bind { slot, target, attrs } => {
            let fd = slots.get(slot).ok_or(Errno::EINVAL)?.load(Ordering::Relaxed);
            let mut buf = [0u8; 32];
            let source = fd_path(fd, &mut buf);
            let flags = MsFlags::MS_BIND | MsFlags::MS_REC;
            nix::mount::mount(Some(source), target, NONE, flags, NONE)?;
            set_attrs(target, attrs, true)
        }
        StepRef::CloseSources => {
            close_sources(slots);
            Ok(())
        }
        StepRef::Proc { target } => {
            let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
            nix::mount::mount(Some(c"proc"), target, Some(c"proc"), flags, NONE)
        }
        StepRef::PivotRoot { new_root } => {
            // pivot_root(".", ".") stacks the old root on the new one; the
            // detach then removes it, with no put_old directory needed.
            nix::unistd::chdir(new_root)?;
            nix::unistd::pivot_root(c".", c".")?;
            nix::mount::umount2(c".", MntFlags::MNT_DETACH)?;
            nix::unistd::chdir(c"/")
        }
        StepRef::ReadOnly { target } => set_attrs(target, MOUNT_ATTR_RDONLY, false),
    }
}

/// `/proc/self/fd/<fd>` formatted into `buf`, without allocating.
fn fd_path(fd: i32, buf: &mut [u8; 32]) -> &CStr {
    const PREFIX: &[u8] = b"/proc/self/fd/";
    buf[..PREFIX.len()].copy_from_slice(PREFIX);
    let mut digits = [0u8; 10];
    let mut n = fd.unsigned_abs();
    let mut len = 0;
    loop {
        digits[len] = b'0' + (n % 10) as u8;
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for i in 0..len {
        buf[PREFIX.len() + i] = digits[len - 1 - i];
    }
    buf[PREFIX.len() + len] = 0;
    CStr::from_bytes_until_nul(&buf[..]).unwrap_or(c"/proc/self/fd/")
}

fn write_file(path: &CStr, contents: &[u8]) -> Result<(), Errno> {
    let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_CLOEXEC;
    // SAFETY: `path` is a valid NUL-terminated string.
    let fd = Errno::result(unsafe { libc::open(path.as_ptr(), flags, 0o644) })?;
    let mut rest = contents;
    let mut result = Ok(());
    while !rest.is_empty() {
        // SAFETY: `rest` is a live slice; `fd` is open.
        match Errno::result(unsafe { libc::write(fd, rest.as_ptr().cast(), rest.len()) }) {
            Ok(n) => rest = &rest[n as usize..],
            Err(Errno::EINTR) => {}
            Err(e) => {
                result = Err(e);
                break;
            }
        }
    }
    // SAFETY: `fd` was opened above and is closed once.
    unsafe { libc::close(fd) };
    result
}

/// Sets `MOUNT_ATTR_*` flags on the mount at `target` (and below it when
/// `recursive`) with `mount_setattr(2)`, which leaves every other flag,
/// including the ones locked by the user namespace, alone. Kernels before
/// 5.12 get a bind remount of the top mount that restates its current flags.
fn set_attrs(target: &CStr, attrs: u64, recursive: bool) -> Result<(), Errno> {
    let attr = MountAttr { attr_set: attrs, attr_clr: 0, propagation: 0, userns_fd: 0 };
    let flags = if recursive { libc::AT_RECURSIVE } else { 0 };
    // SAFETY: `target` is NUL-terminated and `attr` is a live, correctly
    // sized `struct mount_attr`.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            libc::AT_FDCWD,
            target.as_ptr(),
            flags,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    match Errno::result(rc) {
        Err(Errno::ENOSYS) => remount_with(target, attrs),
        other => other.map(drop),
    }
}

fn remount_with(target: &CStr, attrs: u64) -> Result<(), Errno> {
    // SAFETY: statvfs fills the zeroed struct we own. (glibc takes the
    // flags from statfs(2)'s f_flags, valid since Linux 2.6.36.)
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `target` is NUL-terminated and `stat` is writable.
    Errno::result(unsafe { libc::statvfs(target.as_ptr(), &mut stat) })?;
    let current = stat.f_flag;
    let mut flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT;
    let map = [
        (libc::ST_RDONLY, MOUNT_ATTR_RDONLY, MsFlags::MS_RDONLY),
        (libc::ST_NOSUID, MOUNT_ATTR_NOSUID, MsFlags::MS_NOSUID),
        (libc::ST_NODEV, MOUNT_ATTR_NODEV, MsFlags::MS_NODEV),
        (libc::ST_NOEXEC, MOUNT_ATTR_NOEXEC, MsFlags::MS_NOEXEC),
    ];
    for (st, attr, ms) in map {
        if current & st != 0 || attrs & attr != 0 {
            flags |= ms;
        }
    }
    for (st, ms) in [
        (libc::ST_NOATIME, MsFlags::MS_NOATIME),
        (libc::ST_NODIRATIME, MsFlags::MS_NODIRATIME),
        (libc::ST_RELATIME, MsFlags::MS_RELATIME),
    ] {
        if current & st != 0 {
            flags |= ms;
        }
    }
    const NONE: Option<&CStr> = None;
    nix::mount::mount(NONE, target, NONE, flags, NONE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fd_paths_are_formatted_without_allocating() {
        let mut buf = [0u8; 32];
        assert_eq!(fd_path(7, &mut buf), c"/proc/self/fd/7");
        assert_eq!(fd_path(1234567, &mut buf), c"/proc/self/fd/1234567");
        assert_eq!(fd_path(0, &mut buf), c"/proc/self/fd/0");
    }
}
