//! The sandbox's first process from `clone` until it hands over to the
//! program and becomes the sandbox's init.
//!
//! The child is a copy of the caller, which may be multi-threaded (an async
//! runtime): until `execve` it may only make system calls, so everything
//! it needs is prepared by the parent in a [`ChildPlan`] and it never
//! allocates, takes a lock or calls a libc function that broadcasts to
//! threads (glibc's `setresuid` does, so the raw syscalls are used).
//!
//! It talks to its parent over the set-up channel ([`crate::protocol`]):
//! it waits for `GO`, builds the sandbox and reports `READY`, waits for
//! `START`, confines itself and starts the program as its child
//! ([`crate::init`]), which inherits all of it.

use std::ffi::CStr;
use std::ops::Range;
use std::os::fd::RawFd;

use nix::errno::Errno;
use nix::sched::CloneFlags;
use nix::sys::signal::{SigSet, SigmaskHow};
use nix::unistd::Pid;

use std::sync::atomic::AtomicI32;

use crate::exec::ExecPtrs;
use crate::init;
use crate::late;
use crate::namespaces::{self, Setgroups};
use crate::protocol::{GO, START, Stage, exit, fail, read_byte, report_ready};
use crate::rootfs::{self, RootfsPlan};
use crate::seccomp::{self, Filters};

/// The child's stack until `execve`. Generous: overflowing it would corrupt
/// the child's copy of the heap without a guard page.
const CHILD_STACK_SIZE: usize = 512 * 1024;

/// Everything the child needs, prepared by the parent. Raw pointers and
/// descriptors stay valid in the child's copy of the address space and
/// descriptor table.
pub(crate) struct ChildPlan<'a> {
    /// The child's end of the socket pair.
    pub(crate) sock: RawFd,
    /// The write end of the pipe on which the init reports the program's
    /// wait status.
    pub(crate) report: RawFd,
    /// The caller's command-line area (`arg_start..arg_end`), which the
    /// init blanks in its copy of the caller's memory; `None` if unknown.
    pub(crate) cmdline: Option<Range<usize>>,
    /// Descriptors the child keeps (sorted); all others are closed first.
    pub(crate) keep_fds: Vec<RawFd>,
    pub(crate) rootfs: &'a RootfsPlan,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    pub(crate) setgroups: Setgroups,
    pub(crate) hostname: &'a str,
    pub(crate) stdout: RawFd,
    pub(crate) stderr: RawFd,
    /// Becomes stdin when set (a spare's pipe); `/dev/null` otherwise.
    pub(crate) stdin: Option<RawFd>,
    pub(crate) cwd: &'a CStr,
    pub(crate) exec: ExecPtrs,
    pub(crate) seccomp: &'static Filters,
    /// A spare waits after `READY` for its assignment ([`crate::late`]),
    /// which brings the rest of the root, the working directory and the
    /// program, in place of `cwd` and `exec`.
    pub(crate) spare: bool,
    /// The host uid and gid that own the sandbox's user namespace (its
    /// host ids), when the caller is root and they are not its own: the
    /// kernel charges per-user counts of everything inside (inotify
    /// instances, processes, message-queue bytes, pending signals) to the
    /// namespace's owner, so each sandbox must own its own.
    pub(crate) owner: Option<(u32, u32)>,
}

/// Clones the child with `flags` and the parent-death-free `SIGCHLD`
/// exit signal. All signals are blocked around `clone` so that none of the
/// caller's handlers runs in the child before it resets them.
pub(crate) fn spawn(plan: &ChildPlan<'_>, flags: CloneFlags) -> Result<Pid, Errno> {
    let mut stack = vec![0u8; CHILD_STACK_SIZE];
    let stack_range = stack.as_ptr() as usize..stack.as_ptr() as usize + stack.len();
    let mut old = SigSet::empty();
    nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::all()), Some(&mut old))?;
    let result = as_owner(plan.owner, || {
        // SAFETY: the child runs `child_main` on its own stack in a copy of
        // our address space and only makes system calls on data prepared in
        // `plan` before it execs or exits; it never returns into our frames.
        unsafe {
            nix::sched::clone(
                Box::new(|| child_main(plan, stack_range.clone())),
                &mut stack,
                flags,
                Some(libc::SIGCHLD),
            )
        }
    });
    // Restoring a mask we just read cannot fail; never lose the child over it.
    let _ = nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&old), None);
    result
}

/// Runs `clone` with the calling thread's effective uid and gid set to
/// `owner`, so a new user namespace is owned by them; the real and saved
/// ids stay root and the effective capabilities are restored from the
/// permitted set (a kernel that limits unprivileged user namespaces still
/// sees `CAP_SYS_ADMIN`). Raw system calls: only this thread changes, and
/// only for the call.
fn as_owner(owner: Option<(u32, u32)>, clone: impl FnOnce() -> Result<Pid, Errno>) -> Result<Pid, Errno> {
    let Some((uid, gid)) = owner else { return clone() };
    let keep = u32::MAX; // -1: leave that id unchanged
    // SAFETY: setresgid/setresuid with plain integers, on the calling
    // thread only (as are the restores in `restore_owner`).
    unsafe {
        Errno::result(libc::syscall(libc::SYS_setresgid, keep, gid, keep))?;
        if let Err(e) = Errno::result(libc::syscall(libc::SYS_setresuid, keep, uid, keep)) {
            restore_owner();
            return Err(e);
        }
    }
    let result = capget().and_then(|mut caps| {
        for c in &mut caps {
            c.effective = c.permitted;
        }
        capset(&caps)
    });
    let result = result.and_then(|()| clone());
    restore_owner();
    result
}

/// Back to root after [`as_owner`]. Cannot fail while the saved ids are
/// root; if it did, the thread would go on with another's credentials, so
/// the process stops instead.
fn restore_owner() {
    let keep = u32::MAX;
    // SAFETY: as in `as_owner`.
    let restored = unsafe {
        Errno::result(libc::syscall(libc::SYS_setresuid, keep, 0u32, keep))
            .and_then(|_| Errno::result(libc::syscall(libc::SYS_setresgid, keep, 0u32, keep)))
    };
    if restored.is_err() {
        std::process::abort();
    }
}

// ---- Everything below runs in the child. ----

/// `stack` is the child's own stack, which it keeps when, as the init, it
/// gives back the rest of its copy of the caller's memory.
fn child_main(plan: &ChildPlan<'_>, stack: Range<usize>) -> ! {
    let sock = plan.sock;
    if let Err(e) = close_fds_except(&plan.keep_fds) {
        fail(sock, Stage::CloseFds, 0, e);
    }
    reset_signal_dispositions();
    // A session and process group of the sandbox's own: `kill(0, ...)`
    // inside must not reach the caller's process group, where every other
    // sandbox runs as the same host uid, nor its controlling terminal.
    if let Err(e) = nix::unistd::setsid() {
        fail(sock, Stage::Session, 0, e);
    }
    match read_byte(sock) {
        Ok(GO) => {}
        Ok(_) => exit(1),
        Err(e) => fail(sock, Stage::Sync, 0, e),
    }
    if let Err(e) = become_sandbox_user(plan) {
        fail(sock, Stage::Credentials, 0, e);
    }
    if let Err((index, e)) = set_resource_limits() {
        fail(sock, Stage::ResourceLimits, index, e);
    }
    if let Err(e) = nix::sched::unshare(CloneFlags::CLONE_NEWCGROUP) {
        fail(sock, Stage::CgroupNamespace, 0, e);
    }
    if let Err((index, e)) = rootfs::apply(plan.rootfs) {
        rootfs::close_sources(&plan.rootfs.slots);
        fail(sock, Stage::Rootfs, index as u32, e);
    }
    if let Err(e) = nix::unistd::sethostname(plan.hostname) {
        fail(sock, Stage::Hostname, 0, e);
    }
    if let Err(e) = namespaces::loopback_up() {
        fail(sock, Stage::Loopback, 0, e);
    }
    report_ready(sock);

    let (exec, cwd) = if plan.spare {
        let late = receive_assignment(sock);
        report_ready(sock);
        (late.exec, late.cwd)
    } else {
        (plan.exec, plan.cwd)
    };

    match read_byte(sock) {
        Ok(START) => {}
        Ok(_) => exit(1),
        Err(e) => fail(sock, Stage::Sync, 0, e),
    }
    if let Err(e) = wire_stdio(plan) {
        fail(sock, Stage::Stdio, 0, e);
    }
    if let Err(e) = nix::unistd::chdir(cwd) {
        fail(sock, Stage::Chdir, 0, e);
    }
    if let Err(e) = drop_capabilities() {
        fail(sock, Stage::DropCapabilities, 0, e);
    }
    if let Err(e) = seccomp::install(plan.seccomp) {
        fail(sock, Stage::Seccomp, 0, e);
    }
    // From here on this process is the sandbox's init, and the program its
    // child (pid 2), which inherits all of the above.
    if let Err(e) = init::prepare(plan.cmdline.as_ref()) {
        fail(sock, Stage::StartProgram, 0, e);
    }
    let program = match init::spawn_program(sock, &exec) {
        Ok(pid) => pid,
        Err(e) => fail(sock, Stage::StartProgram, 0, e),
    };
    // The program has exec'd or reported why not; closing our copy of the
    // channel lets the parent read end-of-file. The init keeps nothing but
    // the report pipe (not even stdio: the program's output is its own).
    // SAFETY: closing our own descriptor, once.
    unsafe { libc::close(sock) };
    let _ = close_fds_except(&[plan.report]);
    init::run(program, plan.report, stack)
}

/// A spare's side of [`crate::Sandbox::assign`]: receives the assignment
/// into memory of its own (`mmap`, no allocator), finishes the root with
/// it and returns it (its `cwd` and `exec` point into that memory, which
/// stays mapped until the init gives its memory back). Any failure is
/// reported and ends the process.
fn receive_assignment(sock: RawFd) -> late::Late<'static> {
    let buf = match receive_into_mapping(sock) {
        Ok(buf) => buf,
        Err(e) => fail(sock, Stage::Sync, 0, e),
    };
    let late = match late::decode(buf) {
        Ok(late) => late,
        Err(e) => fail(sock, Stage::Sync, 0, e),
    };
    let slots = [const { AtomicI32::new(-1) }; late::MAX_SLOTS];
    for index in 0..late.len() {
        let result = late.step(index).and_then(|step| rootfs::apply_step(step, &slots));
        if let Err(e) = result {
            rootfs::close_sources(&slots);
            fail(sock, Stage::Rootfs, index as u32, e);
        }
    }
    late
}

/// Reads the next message whole into a fresh private mapping.
fn receive_into_mapping(sock: RawFd) -> Result<&'static mut [u8], Errno> {
    let len = loop {
        // SAFETY: a zero-length peek; MSG_TRUNC makes it return the
        // message's real length (Unix seqpacket sockets, since Linux 3.4).
        let rc = unsafe { libc::recv(sock, std::ptr::null_mut(), 0, libc::MSG_PEEK | libc::MSG_TRUNC) };
        match Errno::result(rc) {
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e),
            Ok(0) => exit(1), // the parent gave up on us
            Ok(n) => break n as usize,
        }
    };
    // SAFETY: a new private anonymous mapping, ours alone.
    let ptr = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if ptr == libc::MAP_FAILED {
        return Err(Errno::last());
    }
    // SAFETY: the mapping is `len` bytes, zero-filled, never unmapped.
    let buf = unsafe { std::slice::from_raw_parts_mut(ptr.cast::<u8>(), len) };
    loop {
        // SAFETY: reads at most `len` bytes into the mapping.
        let rc = unsafe { libc::recv(sock, buf.as_mut_ptr().cast(), len, 0) };
        match Errno::result(rc) {
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e),
            Ok(n) if n as usize == len => return Ok(buf),
            Ok(_) => return Err(Errno::EBADMSG),
        }
    }
}

/// Closes every descriptor not in `keep` (sorted ascending): the caller's
/// sockets, pipes and files must not live on in the sandbox.
fn close_fds_except(keep: &[RawFd]) -> Result<(), Errno> {
    let mut first: u32 = 0;
    for &fd in keep {
        let fd = fd as u32;
        if fd > first {
            close_range(first, fd - 1)?;
        }
        first = fd + 1;
    }
    close_range(first, u32::MAX)
}

fn close_range(first: u32, last: u32) -> Result<(), Errno> {
    // SAFETY: close_range(2) only closes descriptors of this process.
    let rc = unsafe { libc::syscall(libc::SYS_close_range, first, last, 0) };
    match Errno::result(rc) {
        Err(Errno::ENOSYS) => {
            // Before Linux 5.9: close one by one up to the descriptor limit.
            // SAFETY: getrlimit fills the struct we own.
            let mut limit: libc::rlimit = unsafe { std::mem::zeroed() };
            // SAFETY: as above.
            unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
            let end = u64::from(last).min(limit.rlim_cur.saturating_sub(1));
            for fd in u64::from(first)..=end {
                // SAFETY: closing a descriptor we own or that is not open.
                unsafe { libc::close(fd as RawFd) };
            }
            Ok(())
        }
        other => other.map(drop),
    }
}

/// Handlers are the caller's code and must never run in the sandbox;
/// ignored signals (Rust ignores SIGPIPE) would stay ignored across execve.
fn reset_signal_dispositions() {
    for signal in 1..libc::SIGRTMAX() {
        if signal != libc::SIGKILL && signal != libc::SIGSTOP {
            // SAFETY: restoring the default disposition; errors (libc's
            // reserved signals) are irrelevant.
            unsafe { libc::signal(signal, libc::SIG_DFL) };
        }
    }
}

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const CAPABILITY_VERSION_3: u32 = 0x2008_0522;

fn capget() -> Result<[CapData; 2], Errno> {
    let mut header = CapHeader { version: CAPABILITY_VERSION_3, pid: 0 };
    let mut data = [CapData::default(); 2];
    // SAFETY: version 3 takes a header and two data structs, all ours.
    Errno::result(unsafe { libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) })?;
    Ok(data)
}

fn capset(data: &[CapData; 2]) -> Result<(), Errno> {
    let mut header = CapHeader { version: CAPABILITY_VERSION_3, pid: 0 };
    // SAFETY: version 3 takes a header and two data structs, all ours.
    Errno::result(unsafe { libc::syscall(libc::SYS_capset, &mut header, data.as_ptr()) }).map(drop)
}

/// Becomes the sandbox's uid and gid while keeping the capabilities the
/// new user namespace granted, which building the root still needs. As
/// the mapped id, the child can create files on its own tmpfs (an unmapped
/// id cannot) and reaches the host's files only as that unprivileged id.
fn become_sandbox_user(plan: &ChildPlan<'_>) -> Result<(), Errno> {
    // SAFETY: prctl/setgroups/setresgid/setresuid with plain integer
    // arguments; raw syscalls so that only this thread is affected.
    unsafe {
        Errno::result(libc::prctl(libc::PR_SET_KEEPCAPS, 1, 0, 0, 0))?;
        if plan.setgroups == Setgroups::Allow {
            Errno::result(libc::syscall(libc::SYS_setgroups, 0, std::ptr::null::<libc::gid_t>()))?;
        }
        Errno::result(libc::syscall(libc::SYS_setresgid, plan.gid, plan.gid, plan.gid))?;
        Errno::result(libc::syscall(libc::SYS_setresuid, plan.uid, plan.uid, plan.uid))?;
    }
    let mut caps = capget()?;
    for c in &mut caps {
        c.effective = c.permitted;
    }
    capset(&caps)
}

/// The per-process limits every sandbox gets (soft = hard, so nothing
/// inside can raise them: that needs `CAP_SYS_RESOURCE` in the host's user
/// namespace). AWS Lambda's: 1,024 open files and 1,024 processes and
/// threads; Linux's default POSIX message-queue bytes; no core dumps (a
/// core pattern may hand them to a host program running as root).
pub(crate) const RESOURCE_LIMITS: [(libc::__rlimit_resource_t, u64); 4] =
    [(libc::RLIMIT_NOFILE, 1024), (libc::RLIMIT_NPROC, 1024), (libc::RLIMIT_MSGQUEUE, 819_200), (libc::RLIMIT_CORE, 0)];

/// Applies [`RESOURCE_LIMITS`]; on failure, the index of the limit.
fn set_resource_limits() -> Result<(), (u32, Errno)> {
    for (index, (resource, value)) in RESOURCE_LIMITS.into_iter().enumerate() {
        let limit = libc::rlimit { rlim_cur: value, rlim_max: value };
        // SAFETY: setrlimit with a limit struct on our stack; it only
        // changes this process's limits.
        Errno::result(unsafe { libc::setrlimit(resource, &limit) }).map_err(|e| (index as u32, e))?;
    }
    Ok(())
}

/// Empties the bounding, ambient, effective, permitted and inheritable
/// sets, so not even a sandbox uid of 0 regains capabilities at execve.
fn drop_capabilities() -> Result<(), Errno> {
    for cap in 0..64 {
        // SAFETY: PR_CAPBSET_DROP with an integer capability number.
        match Errno::result(unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) }) {
            Ok(_) => {}
            Err(Errno::EINVAL) => break, // past the kernel's last capability
            Err(e) => return Err(e),
        }
    }
    // SAFETY: PR_CAP_AMBIENT_CLEAR_ALL takes no pointers. EINVAL before 4.3.
    match Errno::result(unsafe { libc::prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) }) {
        Ok(_) | Err(Errno::EINVAL) => {}
        Err(e) => return Err(e),
    }
    capset(&[CapData::default(); 2])
}

/// stdin from `/dev/null` (inside the new root) or the spare's stdin,
/// stdout and stderr from the caller's descriptors, whatever numbers they had.
fn wire_stdio(plan: &ChildPlan<'_>) -> Result<(), Errno> {
    // SAFETY: fcntl/open/dup2/close on descriptors this process owns; the
    // copies are taken before any dup2 can overwrite the originals.
    unsafe {
        let out = Errno::result(libc::fcntl(plan.stdout, libc::F_DUPFD_CLOEXEC, 3))?;
        let err = Errno::result(libc::fcntl(plan.stderr, libc::F_DUPFD_CLOEXEC, 3))?;
        let null = match plan.stdin {
            Some(fd) => Errno::result(libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3))?,
            None => Errno::result(libc::open(c"/dev/null".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC))?,
        };
        if let Some(fd) = plan.stdin.filter(|fd| *fd > 2) {
            libc::close(fd);
        }
        if null == 0 {
            Errno::result(libc::fcntl(0, libc::F_SETFD, 0))?;
        } else {
            Errno::result(libc::dup2(null, 0))?;
        }
        Errno::result(libc::dup2(out, 1))?;
        Errno::result(libc::dup2(err, 2))?;
        for original in [plan.stdout, plan.stderr] {
            if original > 2 {
                libc::close(original);
            }
        }
    }
    Ok(())
}
