//! Raw system calls for the init, which must keep working after it has
//! given back its copy of the caller's memory ([`super::memory`]): they
//! touch nothing but their arguments and registers (no libc, no `errno`,
//! no thread-local storage). Each returns what the kernel returns: the
//! result, or `-errno`.
//!
//! x86_64 and aarch64 use inline assembly. Elsewhere [`RAW`] is false, the
//! calls go through libc's `syscall`, and the init keeps the caller's
//! memory (see [`super::memory::release`]).

/// Whether [`syscall`] is raw assembly on this architecture.
pub(crate) const RAW: bool = cfg!(any(target_arch = "x86_64", target_arch = "aarch64"));

/// System call `nr` with up to four arguments: [`syscall5`] with a zero
/// fifth argument, which a call taking fewer never reads.
///
/// # Safety
///
/// The caller upholds the system call's own contract (valid pointers of
/// the right size for what the kernel reads or writes).
#[inline(always)]
pub(crate) unsafe fn syscall(nr: libc::c_long, a: usize, b: usize, c: usize, d: usize) -> isize {
    // SAFETY: forwarded; the contract is the caller's.
    unsafe { syscall5(nr, a, b, c, d, 0) }
}

/// System call `nr` with up to five arguments.
///
/// # Safety
///
/// As [`syscall`].
#[cfg(target_arch = "x86_64")]
pub(crate) unsafe fn syscall5(nr: libc::c_long, a: usize, b: usize, c: usize, d: usize, e: usize) -> isize {
    let ret: isize;
    // SAFETY: the x86_64 system call ABI: number in rax, arguments in rdi,
    // rsi, rdx, r10 and r8, result in rax; the instruction clobbers rcx and
    // r11 and never touches the stack. The call's own contract is the caller's.
    unsafe {
        std::arch::asm!(
            "syscall",
            inlateout("rax") nr as isize => ret,
            in("rdi") a,
            in("rsi") b,
            in("rdx") c,
            in("r10") d,
            in("r8") e,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

/// System call `nr` with up to five arguments.
///
/// # Safety
///
/// As [`syscall`].
#[cfg(target_arch = "aarch64")]
pub(crate) unsafe fn syscall5(nr: libc::c_long, a: usize, b: usize, c: usize, d: usize, e: usize) -> isize {
    let ret: isize;
    // SAFETY: the aarch64 system call ABI: number in x8, arguments in
    // x0-x4, result in x0; `svc 0` clobbers nothing else and never touches
    // the stack. The call's own contract is the caller's.
    unsafe {
        std::arch::asm!(
            "svc 0",
            in("x8") nr,
            inlateout("x0") a as isize => ret,
            in("x1") b,
            in("x2") c,
            in("x3") d,
            in("x4") e,
            options(nostack),
        );
    }
    ret
}

/// System call `nr` with up to five arguments, through libc.
///
/// # Safety
///
/// As [`syscall`].
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
pub(crate) unsafe fn syscall5(nr: libc::c_long, a: usize, b: usize, c: usize, d: usize, e: usize) -> isize {
    // SAFETY: forwarded; the contract is the caller's.
    let rc = unsafe { libc::syscall(nr, a, b, c, d, e) };
    if rc == -1 { -(nix::errno::Errno::last_raw() as isize) } else { rc as isize }
}

/// The calling thread's thread pointer: where its thread control block,
/// thread-local storage and `rseq` area live.
#[cfg(target_arch = "x86_64")]
pub(crate) fn thread_pointer() -> Option<usize> {
    const ARCH_GET_FS: usize = 0x1003;
    let mut base: usize = 0;
    // SAFETY: arch_prctl(ARCH_GET_FS) writes the fs base to a live local.
    let rc = unsafe { syscall(libc::SYS_arch_prctl, ARCH_GET_FS, &mut base as *mut usize as usize, 0, 0) };
    (rc == 0).then_some(base)
}

/// The calling thread's thread pointer: where its thread control block,
/// thread-local storage and `rseq` area live.
#[cfg(target_arch = "aarch64")]
pub(crate) fn thread_pointer() -> Option<usize> {
    let base: usize;
    // SAFETY: reads the EL0 thread pointer register; no memory access.
    unsafe { std::arch::asm!("mrs {}, tpidr_el0", out(reg) base, options(nomem, nostack, preserves_flags)) };
    Some(base)
}

/// Not needed where [`RAW`] is false: nothing is given back there.
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
pub(crate) fn thread_pointer() -> Option<usize> {
    None
}

/// Whether a hardware shadow stack (x86 CET, arm64 GCS) guards the calling
/// thread's returns: its pages must not be dropped.
#[cfg(target_arch = "x86_64")]
pub(crate) fn shadow_stack_enabled() -> bool {
    const ARCH_SHSTK_STATUS: usize = 0x5005;
    const ARCH_SHSTK_SHSTK: u64 = 1;
    let mut features: u64 = 0;
    // SAFETY: arch_prctl(ARCH_SHSTK_STATUS) writes a u64 to a live local;
    // kernels without shadow stacks fail with EINVAL.
    let rc = unsafe { syscall(libc::SYS_arch_prctl, ARCH_SHSTK_STATUS, &mut features as *mut u64 as usize, 0, 0) };
    rc == 0 && features & ARCH_SHSTK_SHSTK != 0
}

/// Whether a hardware shadow stack (x86 CET, arm64 GCS) guards the calling
/// thread's returns: its pages must not be dropped.
#[cfg(target_arch = "aarch64")]
pub(crate) fn shadow_stack_enabled() -> bool {
    const PR_GET_SHADOW_STACK_STATUS: usize = 74;
    const PR_SHADOW_STACK_ENABLE: u64 = 1;
    let mut status: u64 = 0;
    // SAFETY: prctl(PR_GET_SHADOW_STACK_STATUS) writes a u64 to a live
    // local; kernels without it fail with EINVAL.
    let rc = unsafe { syscall(libc::SYS_prctl, PR_GET_SHADOW_STACK_STATUS, &mut status as *mut u64 as usize, 0, 0) };
    rc == 0 && status & PR_SHADOW_STACK_ENABLE != 0
}

/// Not needed where [`RAW`] is false: nothing is given back there.
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
pub(crate) fn shadow_stack_enabled() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_calls_return_results_and_negative_errnos() {
        // SAFETY: getpid takes no arguments.
        let pid = unsafe { syscall(libc::SYS_getpid, 0, 0, 0, 0) };
        assert_eq!(pid, std::process::id() as isize);
        // SAFETY: close of a descriptor that cannot be open.
        let rc = unsafe { syscall(libc::SYS_close, -1isize as usize, 0, 0, 0) };
        assert_eq!(rc, -(libc::EBADF as isize));
    }

    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    #[test]
    fn the_thread_pointer_is_where_thread_locals_live() {
        thread_local!(static LOCAL: u8 = const { 0 });
        let tp = thread_pointer().expect("thread pointer");
        let local = LOCAL.with(|l| l as *const u8 as usize);
        // Static TLS sits within a few pages of the thread pointer.
        assert!(tp.abs_diff(local) < 1 << 20, "tp {tp:#x}, local {local:#x}");
    }
}
