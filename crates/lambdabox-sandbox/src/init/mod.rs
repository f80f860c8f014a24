//! The sandbox's init: what its first process becomes once it is set up.
//!
//! The first process is pid 1 of the sandbox's pid namespace, and the
//! kernel treats a namespace's init specially: signals whose action is the
//! default are dropped when they come from inside the namespace, and
//! orphans are re-parented to it. A program running as pid 1 could not
//! `kill(getpid(), SIGKILL)` or `SIGTERM` itself, its `abort()` ended as
//! SIGSEGV, and the background processes it left behind piled up as
//! zombies until the pids limit made every `fork` fail. So, as tini and
//! catatonit do, the first process stays behind as a minimal init and the
//! program runs as its child, pid 2:
//!
//! 1. [`prepare`]: the init makes itself non-dumpable (so that `/proc/1/mem`,
//!    `maps` and `environ` are closed to the program even though both run
//!    as the same uid), blanks its copy of the caller's command line (which
//!    `/proc/1/cmdline` would show to anyone) and names itself
//!    `sandbox-init`.
//! 2. [`spawn_program`]: `clone(CLONE_VM | CLONE_VFORK)` on a small stack,
//!    as `posix_spawn` does: the child shares the init's memory (no copy of
//!    the caller's page tables, so the cost does not grow with the caller's
//!    size) and the init is suspended until the child has `execve`d the
//!    program or reported why it could not, on the set-up channel.
//! 3. [`run`]: the init blocks every signal, reaps the program at once
//!    if it is already gone, and otherwise gives back its copy of the
//!    caller's memory ([`memory`]). Then it takes signals one at a time
//!    with `rt_sigtimedwait`: `SIGCHLD` reaps every child that has exited
//!    (`wait4(-1, WNOHANG | __WALL)`), orphans included; `SIGTERM`,
//!    `SIGINT`, `SIGHUP`, `SIGUSR1` and `SIGUSR2` are forwarded to the
//!    program; anything else stays pending and does nothing. When the
//!    program itself is reaped, the init writes its raw wait status (4
//!    bytes) to the report pipe and exits. The kernel then kills whatever
//!    is left in the namespace, before the init's own exit becomes visible
//!    to the parent.
//! 4. [`read_report`]: the parent, having reaped the init, reads the
//!    program's status from the pipe. An init that died without reporting
//!    (killed with the sandbox, or set-up failed before the program
//!    existed) leaves its own status instead.
//!
//! The init already holds no capability and runs under the program's
//! seccomp filter and `no_new_privs` (they are applied before the program
//! is spawned); it keeps no descriptor but the report pipe's write end.
//! Like all of the first process's code, it runs in a copy of a possibly
//! multi-threaded caller: system calls only, no allocation, no locks; and
//! from [`run`] on, only raw [`sys`] calls, which need none of the memory
//! it gives back.

mod memory;
pub(crate) mod sys;

use std::ffi::c_void;
use std::mem::MaybeUninit;
use std::ops::Range;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::path::Path;

use nix::errno::Errno;

use crate::exec::{ExecPtrs, exec_program};

/// Signals the init passes on to the program, as tini does by default.
const FORWARDED: [libc::c_int; 5] = [libc::SIGTERM, libc::SIGINT, libc::SIGHUP, libc::SIGUSR1, libc::SIGUSR2];

/// The init's name in `/proc/1/comm` (at most 15 bytes).
const NAME: &std::ffi::CStr = c"sandbox-init";

/// The stack of a [`vfork_on_own_stack`] child (the program between
/// `clone` and `execve`, a mount helper): a few frames of system calls and
/// a failure report need far less.
const CHILD_STACK_SIZE: usize = 64 * 1024;

/// The exit code of an init that cannot go on: it cannot wait for signals,
/// or it has no child left although it never reaped the program. Neither
/// should happen; ending the sandbox beats spinning or hanging.
const INIT_FAILED: libc::c_int = 126;

/// The kernel's signal set: one bit per signal, `1 << (signal - 1)`, as
/// `rt_sigprocmask` and `rt_sigtimedwait` take it (8 bytes on every 64-bit
/// architecture). libc's `sigset_t` is larger and glibc's helpers leave
/// out its own internal signals; the init wants every signal.
type KernelSigset = u64;

const fn bit(signal: libc::c_int) -> KernelSigset {
    1 << (signal - 1)
}

/// The signals [`run`] waits for.
const WAITED: KernelSigset = {
    let mut set = bit(libc::SIGCHLD);
    let mut i = 0;
    while i < FORWARDED.len() {
        set |= bit(FORWARDED[i]);
        i += 1;
    }
    set
};

/// The calling process's command-line area, `arg_start..arg_end` (fields
/// 48 and 49 of `proc_root/self/stat`), for [`prepare`] to blank.
pub(crate) fn cmdline_area(proc_root: &Path) -> Option<Range<usize>> {
    parse_cmdline_area(&std::fs::read_to_string(proc_root.join("self/stat")).ok()?)
}

fn parse_cmdline_area(stat: &str) -> Option<Range<usize>> {
    // Fields 3 onwards follow the last ')', which ends the command name.
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace().skip(48 - 3);
    let start = fields.next()?.parse().ok()?;
    let end = fields.next()?.parse().ok()?;
    (start < end).then_some(start..end)
}

/// Makes the init non-dumpable, blanks `cmdline` (the caller's command-line
/// area in the init's copy of its address space) and names the init.
///
/// Runs in the first process before the program exists, so the program
/// never sees the init otherwise.
pub(crate) fn prepare(cmdline: Option<&Range<usize>>) -> Result<(), Errno> {
    // SAFETY: prctl with integer arguments and, for PR_SET_NAME, a
    // NUL-terminated string that outlives the call.
    unsafe {
        Errno::result(libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0))?;
        Errno::result(libc::prctl(libc::PR_SET_NAME, NAME.as_ptr(), 0, 0, 0))?;
    }
    if let Some(area) = cmdline {
        // SAFETY: `area` is the caller's `arg_start..arg_end` as the kernel
        // reported it: mapped and writable (the initial stack) in the
        // caller, hence in this private copy of its address space. Nothing
        // here reads it again (the caller's copy is untouched).
        unsafe { std::ptr::write_bytes(area.start as *mut u8, 0, area.len()) };
    }
    Ok(())
}

/// What the program's side of the `clone` needs, on the init's stack.
struct ProgramArgs<'a> {
    sock: RawFd,
    exec: &'a ExecPtrs,
}

#[repr(C, align(16))]
struct ChildStack([u8; CHILD_STACK_SIZE]);

/// Starts the program as the init's child (pid 2) and returns its pid once
/// it has called `execve`, or has exited after reporting on `sock` why it
/// could not.
pub(crate) fn spawn_program(sock: RawFd, exec: &ExecPtrs) -> Result<libc::pid_t, Errno> {
    let args = ProgramArgs { sock, exec };
    // SAFETY: `program_main` only makes system calls and execs or exits;
    // `args` lives on this frame until the child has done so.
    unsafe { vfork_on_own_stack(program_main, (&args as *const ProgramArgs<'_>).cast_mut().cast()) }
}

/// Runs `entry(arg)` in a `clone(CLONE_VM | CLONE_VFORK)` child on a stack
/// of its own (as `posix_spawn` does: no copy of the caller's page tables)
/// and returns the child's pid once it has exec'd or exited; until then the
/// calling thread is suspended. Used for the init's program and for the
/// host-side helpers that enter a sandbox's mount namespace.
///
/// # Safety
///
/// `entry` runs on the caller's memory while the caller's other threads go
/// on: it may only make system calls on what `arg` points to, which must
/// outlive this call, and it must `execve` or exit, never unwind.
pub(crate) unsafe fn vfork_on_own_stack(
    entry: extern "C" fn(*mut c_void) -> libc::c_int,
    arg: *mut c_void,
) -> Result<libc::pid_t, Errno> {
    let mut stack = MaybeUninit::<ChildStack>::uninit();
    // SAFETY: one past the end of the stack buffer, which is 16-byte
    // aligned and a multiple of 16 long: the top of a downward stack.
    let top = unsafe { stack.as_mut_ptr().cast::<u8>().add(CHILD_STACK_SIZE) };
    // SAFETY: with CLONE_VM | CLONE_VFORK the child runs `entry` on `stack`
    // in our memory while this thread is suspended until it has exec'd or
    // exited, so `stack` and what `arg` points to outlive its use of them;
    // the rest is the caller's contract.
    let pid = unsafe { libc::clone(entry, top.cast(), libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD, arg) };
    Errno::result(pid)
}

extern "C" fn program_main(arg: *mut c_void) -> libc::c_int {
    // SAFETY: `arg` is the `ProgramArgs` that `spawn_program` keeps alive
    // on its suspended stack.
    let args = unsafe { &*arg.cast::<ProgramArgs<'_>>() };
    exec_program(args.sock, args.exec)
}

/// The init's loop: reaps every child, forwards [`FORWARDED`] signals to
/// `program`, and reports the program's wait status on `report` when it
/// exits. `stack` is the init's own stack, which it keeps when it gives
/// back the rest of the caller's memory. Never returns.
pub(crate) fn run(program: libc::pid_t, report: RawFd, stack: Range<usize>) -> ! {
    let all: KernelSigset = !0;
    // SAFETY: rt_sigprocmask with a kernel-sized set on our stack; blocks
    // every signal the kernel lets us block (not SIGKILL or SIGSTOP).
    unsafe {
        sys::syscall(
            libc::SYS_rt_sigprocmask,
            libc::SIG_SETMASK as usize,
            &all as *const KernelSigset as usize,
            0,
            size_of::<KernelSigset>(),
        )
    };
    // A program that is already gone is reported without further delay.
    reap(program, report);
    memory::release(&stack);
    loop {
        let waited = WAITED;
        // SAFETY: rt_sigtimedwait with a kernel-sized set on our stack, no
        // siginfo and no timeout: waits until one of WAITED is pending.
        let signal = unsafe {
            sys::syscall(
                libc::SYS_rt_sigtimedwait,
                &waited as *const KernelSigset as usize,
                0,
                0,
                size_of::<KernelSigset>(),
            )
        };
        match signal {
            s if s == libc::SIGCHLD as isize => reap(program, report),
            // A stop or a v1 freeze interrupts the wait: wait again.
            e if e == -(libc::EINTR as isize) => {}
            e if e < 0 => exit(INIT_FAILED),
            // SAFETY: kill(2) of our own unreaped child: its pid cannot
            // have been recycled.
            forwarded => unsafe {
                sys::syscall(libc::SYS_kill, program as usize, forwarded as usize, 0, 0);
            },
        }
    }
}

/// Reaps every child that has exited; on the program's exit, reports and
/// exits.
fn reap(program: libc::pid_t, report: RawFd) {
    loop {
        let mut status: libc::c_int = 0;
        // SAFETY: wait4 of any child with a status word on our stack and
        // no rusage.
        let pid = unsafe {
            sys::syscall(
                libc::SYS_wait4,
                -1isize as usize,
                &mut status as *mut libc::c_int as usize,
                (libc::WNOHANG | libc::__WALL) as usize,
                0,
            )
        };
        match pid {
            _ if pid == program as isize => report_and_exit(report, status),
            0 => return,
            e if e == -(libc::EINTR as isize) => {}
            e if e < 0 => exit(INIT_FAILED),
            _ => {} // an orphan, or a child the program left behind
        }
    }
}

fn report_and_exit(report: RawFd, status: libc::c_int) -> ! {
    let bytes = status.to_ne_bytes();
    loop {
        // SAFETY: writes 4 bytes from our stack; a pipe write this small is
        // atomic. On failure the parent falls back to our exit status.
        let rc = unsafe { sys::syscall(libc::SYS_write, report as usize, bytes.as_ptr() as usize, bytes.len(), 0) };
        if rc != -(libc::EINTR as isize) {
            break;
        }
    }
    let code = if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { 128 + libc::WTERMSIG(status) };
    exit(code)
}

fn exit(code: libc::c_int) -> ! {
    loop {
        // SAFETY: exit_group ends the init without running any of the
        // caller's atexit handlers or destructors; it does not return.
        unsafe { sys::syscall(libc::SYS_exit_group, code as usize, 0, 0, 0) };
    }
}

/// Reads the program's raw wait status from the report pipe's read end
/// (non-blocking). `None` if the init exited without reporting.
///
/// Read only once the init has been reaped: by then every process of the
/// namespace has exited and the pipe holds all it ever will.
pub(crate) fn read_report(pipe: BorrowedFd<'_>) -> Option<libc::c_int> {
    let mut bytes = [0u8; 4];
    loop {
        // SAFETY: reads at most 4 bytes into a live local buffer.
        let rc = unsafe { libc::read(pipe.as_raw_fd(), bytes.as_mut_ptr().cast(), bytes.len()) };
        match Errno::result(rc) {
            Err(Errno::EINTR) => continue,
            Ok(4) => return Some(libc::c_int::from_ne_bytes(bytes)),
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsFd;

    use nix::fcntl::OFlag;

    use super::*;

    #[test]
    fn the_waited_set_holds_sigchld_and_the_forwarded_signals_only() {
        assert_eq!(WAITED.count_ones(), 6);
        for signal in FORWARDED.into_iter().chain([libc::SIGCHLD]) {
            assert_ne!(WAITED & bit(signal), 0, "signal {signal}");
        }
        assert_eq!(WAITED & bit(libc::SIGKILL), 0);
        assert_eq!(bit(1), 1, "SIGHUP is the kernel's bit 0");
    }

    #[test]
    fn the_cmdline_area_is_fields_48_and_49_of_stat() {
        let mut fields: Vec<String> = (3..=52).map(|n| n.to_string()).collect();
        fields[48 - 3] = "140737488347000".into();
        fields[49 - 3] = "140737488347100".into();
        let stat = format!("42 (a (tricky) name) {}\n", fields.join(" "));
        assert_eq!(parse_cmdline_area(&stat), Some(140_737_488_347_000..140_737_488_347_100));
        assert_eq!(parse_cmdline_area("42 (x) S 1 2"), None, "too few fields");
        let own = cmdline_area(Path::new("/proc")).expect("our own cmdline area");
        assert!(!own.is_empty());
    }

    #[test]
    fn a_report_is_read_once_and_an_empty_pipe_reads_as_none() {
        let (read, write) = nix::unistd::pipe2(OFlag::O_CLOEXEC | OFlag::O_NONBLOCK).unwrap();
        assert_eq!(read_report(read.as_fd()), None, "nothing written yet (EAGAIN)");
        let status: libc::c_int = 0x0900; // exited with code 9
        nix::unistd::write(&write, &status.to_ne_bytes()).unwrap();
        drop(write);
        assert_eq!(read_report(read.as_fd()), Some(status));
        assert_eq!(read_report(read.as_fd()), None, "end of file");
    }

    #[test]
    fn a_short_report_is_ignored() {
        let (read, write) = nix::unistd::pipe2(OFlag::O_CLOEXEC | OFlag::O_NONBLOCK).unwrap();
        nix::unistd::write(&write, &[1, 2]).unwrap();
        drop(write);
        assert_eq!(read_report(read.as_fd()), None);
    }
}
