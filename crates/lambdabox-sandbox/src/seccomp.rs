//! The seccomp deny-list installed in the child just before `execve`.
//!
//! Everything is allowed except system calls a function never needs and
//! that widen the kernel attack surface: they fail with `EPERM`. `clone`
//! with a namespace flag is refused the same way; `clone3`, whose flags sit
//! behind a pointer seccomp cannot read, fails with `ENOSYS` so that libc
//! falls back to `clone`. `socket` and `socketpair` work only for the
//! families in [`SOCKET_FAMILIES`]; any other (`AF_VSOCK`, `AF_PACKET`,
//! `AF_BLUETOOTH`, `AF_ALG`, …) fails with `EAFNOSUPPORT`, as if the kernel
//! had no such family. Syscalls of another architecture (the 32-bit
//! `int 0x80` ABI on x86_64) kill the process, as seccompiler's arch check
//! does for any mismatch.
//!
//! The filters are compiled once per process and shared by every sandbox.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter, SeccompRule, TargetArch,
};

/// The compiled filters, in installation order.
#[derive(Debug)]
pub(crate) struct Filters {
    pub(crate) programs: [BpfProgram; 3],
}

/// The socket families a function may use: Unix sockets, IPv4, IPv6 and
/// netlink (which `getaddrinfo` and `ip` use to list interfaces).
pub(crate) const SOCKET_FAMILIES: [libc::c_int; 4] = [libc::AF_UNIX, libc::AF_INET, libc::AF_INET6, libc::AF_NETLINK];

/// System calls that fail with `EPERM` inside the sandbox. (`c_long` is
/// seccompiler's `i64` on the 64-bit architectures it supports.)
pub(crate) const DENIED: &[(&str, libc::c_long)] = &[
    ("mount", libc::SYS_mount),
    ("umount2", libc::SYS_umount2),
    ("pivot_root", libc::SYS_pivot_root),
    ("chroot", libc::SYS_chroot),
    ("unshare", libc::SYS_unshare),
    ("setns", libc::SYS_setns),
    ("fsopen", libc::SYS_fsopen),
    ("fsconfig", libc::SYS_fsconfig),
    ("fsmount", libc::SYS_fsmount),
    ("fspick", libc::SYS_fspick),
    ("move_mount", libc::SYS_move_mount),
    ("open_tree", libc::SYS_open_tree),
    ("mount_setattr", libc::SYS_mount_setattr),
    ("ptrace", libc::SYS_ptrace),
    ("process_vm_readv", libc::SYS_process_vm_readv),
    ("process_vm_writev", libc::SYS_process_vm_writev),
    ("kexec_load", libc::SYS_kexec_load),
    ("kexec_file_load", libc::SYS_kexec_file_load),
    ("init_module", libc::SYS_init_module),
    ("finit_module", libc::SYS_finit_module),
    ("delete_module", libc::SYS_delete_module),
    ("reboot", libc::SYS_reboot),
    ("swapon", libc::SYS_swapon),
    ("swapoff", libc::SYS_swapoff),
    ("bpf", libc::SYS_bpf),
    ("perf_event_open", libc::SYS_perf_event_open),
    ("keyctl", libc::SYS_keyctl),
    ("add_key", libc::SYS_add_key),
    ("request_key", libc::SYS_request_key),
    ("open_by_handle_at", libc::SYS_open_by_handle_at),
    ("name_to_handle_at", libc::SYS_name_to_handle_at),
    ("userfaultfd", libc::SYS_userfaultfd),
    ("acct", libc::SYS_acct),
    ("settimeofday", libc::SYS_settimeofday),
    ("clock_settime", libc::SYS_clock_settime),
    ("clock_adjtime", libc::SYS_clock_adjtime),
    ("adjtimex", libc::SYS_adjtimex),
    ("quotactl", libc::SYS_quotactl),
    ("quotactl_fd", libc::SYS_quotactl_fd),
    ("lookup_dcookie", libc::SYS_lookup_dcookie),
    ("syslog", libc::SYS_syslog),
    ("sethostname", libc::SYS_sethostname),
    ("setdomainname", libc::SYS_setdomainname),
    ("vhangup", libc::SYS_vhangup),
    ("io_uring_setup", libc::SYS_io_uring_setup),
    ("io_uring_enter", libc::SYS_io_uring_enter),
    ("io_uring_register", libc::SYS_io_uring_register),
    ("fanotify_init", libc::SYS_fanotify_init),
    #[cfg(target_arch = "x86_64")]
    ("iopl", libc::SYS_iopl),
    #[cfg(target_arch = "x86_64")]
    ("ioperm", libc::SYS_ioperm),
    #[cfg(target_arch = "x86_64")]
    ("modify_ldt", libc::SYS_modify_ldt),
    #[cfg(target_arch = "x86_64")]
    ("uselib", libc::SYS_uselib),
    #[cfg(target_arch = "x86_64")]
    ("nfsservctl", libc::SYS_nfsservctl),
];

/// `clone` flags that create namespaces; any of them makes `clone` fail.
const NAMESPACE_FLAGS: [libc::c_int; 7] = [
    libc::CLONE_NEWUSER,
    libc::CLONE_NEWNS,
    libc::CLONE_NEWPID,
    libc::CLONE_NEWNET,
    libc::CLONE_NEWIPC,
    libc::CLONE_NEWUTS,
    libc::CLONE_NEWCGROUP,
];

/// The process-wide filters, compiled on first use.
pub(crate) fn filters() -> Result<&'static Filters, seccompiler::Error> {
    static FILTERS: OnceLock<Filters> = OnceLock::new();
    if let Some(filters) = FILTERS.get() {
        return Ok(filters);
    }
    let compiled = compile()?;
    Ok(FILTERS.get_or_init(|| compiled))
}

fn compile() -> Result<Filters, seccompiler::Error> {
    let arch = TargetArch::try_from(std::env::consts::ARCH).map_err(seccompiler::Error::Backend)?;

    let mut denied: BTreeMap<i64, Vec<SeccompRule>> = DENIED.iter().map(|&(_, nr)| (nr, Vec::new())).collect();
    let clone_rules = NAMESPACE_FLAGS
        .iter()
        .map(|&flag| {
            // `clone`'s flags are its first argument on x86_64 and aarch64.
            let flag = flag as u64;
            let condition = SeccompCondition::new(0, SeccompCmpArgLen::Qword, SeccompCmpOp::MaskedEq(flag), flag)?;
            SeccompRule::new(vec![condition])
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(seccompiler::Error::Backend)?;
    denied.insert(libc::SYS_clone, clone_rules);
    let deny = SeccompFilter::new(denied, SeccompAction::Allow, SeccompAction::Errno(libc::EPERM as u32), arch)
        .map_err(seccompiler::Error::Backend)?;

    let clone3 = SeccompFilter::new(
        BTreeMap::from([(libc::SYS_clone3, Vec::new())]),
        SeccompAction::Allow,
        SeccompAction::Errno(libc::ENOSYS as u32),
        arch,
    )
    .map_err(seccompiler::Error::Backend)?;

    // One rule whose conditions all hold (the family is none of the
    // allowed ones) for each of `socket` and `socketpair`; the family is
    // their first argument, an `int`.
    let other_family = || {
        SOCKET_FAMILIES
            .iter()
            .map(|&family| SeccompCondition::new(0, SeccompCmpArgLen::Dword, SeccompCmpOp::Ne, family as u64))
            .collect::<Result<Vec<_>, _>>()
            .and_then(SeccompRule::new)
            .map_err(seccompiler::Error::Backend)
    };
    let sockets = SeccompFilter::new(
        BTreeMap::from([(libc::SYS_socket, vec![other_family()?]), (libc::SYS_socketpair, vec![other_family()?])]),
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EAFNOSUPPORT as u32),
        arch,
    )
    .map_err(seccompiler::Error::Backend)?;

    Ok(Filters {
        programs: [
            BpfProgram::try_from(deny).map_err(seccompiler::Error::Backend)?,
            BpfProgram::try_from(clone3).map_err(seccompiler::Error::Backend)?,
            BpfProgram::try_from(sockets).map_err(seccompiler::Error::Backend)?,
        ],
    })
}

/// Installs the filters on the calling thread, setting `no_new_privs`
/// first (which unprivileged filter installation requires).
///
/// Async-signal-safe: seccompiler's `apply_filter` only builds a
/// `sock_fprog` on the stack and calls `prctl` and `seccomp`.
pub(crate) fn install(filters: &Filters) -> Result<(), nix::errno::Errno> {
    for program in &filters.programs {
        seccompiler::apply_filter(program).map_err(|_| nix::errno::Errno::last())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiles_for_this_architecture_and_is_cached() {
        let first = filters().unwrap();
        let second = filters().unwrap();
        assert!(std::ptr::eq(first, second));
        assert!(first.programs.iter().all(|p| !p.is_empty()));
    }

    #[test]
    fn the_deny_list_covers_the_namespace_and_mount_calls() {
        let names: Vec<&str> = DENIED.iter().map(|(n, _)| *n).collect();
        for required in ["mount", "umount2", "pivot_root", "unshare", "setns", "ptrace", "bpf", "keyctl"] {
            assert!(names.contains(&required), "{required} missing");
        }
        let mut numbers: Vec<_> = DENIED.iter().map(|(_, nr)| *nr).collect();
        numbers.sort_unstable();
        numbers.dedup();
        assert_eq!(numbers.len(), DENIED.len(), "duplicate syscall numbers");
    }
}
