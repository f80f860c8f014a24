//! `execve`'s arguments and the call itself: the parent's [`ExecPlan`]
//! (NUL-terminated strings and pointer arrays), the three pointers the child
//! passes on ([`ExecPtrs`], into a plan or a spare's assignment), and
//! [`exec_program`], the program's side of the init's `clone`, which execs
//! them or reports on the set-up channel why it could not.

use std::ffi::CString;
use std::os::fd::RawFd;

use nix::errno::Errno;

use crate::protocol::{Stage, fail};

/// `execve`'s three pointers, wherever the strings and arrays live (an
/// [`ExecPlan`], or a spare's assignment).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ExecPtrs {
    pub(crate) program: *const libc::c_char,
    pub(crate) argv: *const *const libc::c_char,
    pub(crate) envp: *const *const libc::c_char,
}

/// `execve`'s arguments as NUL-terminated strings and pointer arrays.
pub(crate) struct ExecPlan {
    program: CString,
    _strings: Vec<CString>,
    argv: Vec<*const libc::c_char>,
    envp: Vec<*const libc::c_char>,
}

impl ExecPlan {
    /// `argv` and `env` must hold no NUL byte (checked by spec validation).
    pub(crate) fn new(argv: &[String], env: &[(String, String)]) -> Option<Self> {
        let program = CString::new(argv.first()?.as_str()).ok()?;
        let args: Vec<CString> = argv.iter().map(|a| CString::new(a.as_str()).ok()).collect::<Option<_>>()?;
        let vars: Vec<CString> =
            env.iter().map(|(k, v)| CString::new(format!("{k}={v}")).ok()).collect::<Option<_>>()?;
        let pointers = |strings: &[CString]| {
            strings.iter().map(|s| s.as_ptr()).chain(std::iter::once(std::ptr::null())).collect::<Vec<_>>()
        };
        let (argv, envp) = (pointers(&args), pointers(&vars));
        let mut strings = args;
        strings.extend(vars);
        Some(Self { program, _strings: strings, argv, envp })
    }

    /// Pointers into this plan, valid while it lives.
    pub(crate) fn ptrs(&self) -> ExecPtrs {
        ExecPtrs { program: self.program.as_ptr(), argv: self.argv.as_ptr(), envp: self.envp.as_ptr() }
    }
}

/// The program's side of [`crate::init::spawn_program`]: restores signal
/// delivery and execs. Runs on the init's memory while the init is
/// suspended, so it only makes system calls.
pub(crate) fn exec_program(sock: RawFd, exec: &ExecPtrs) -> ! {
    // SAFETY: an empty, initialised mask; restores normal signal delivery
    // for the new program (the mask survives execve).
    unsafe {
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
    }
    // SAFETY: program, argv and envp are NUL-terminated strings and
    // NULL-terminated pointer arrays that outlive this call (an `ExecPlan`
    // or a spare's assignment, both alive until the init exits).
    unsafe { libc::execve(exec.program, exec.argv, exec.envp) };
    fail(sock, Stage::Exec, 0, Errno::last())
}

#[cfg(test)]
mod tests {
    use std::ffi::CStr;

    use super::*;

    #[test]
    fn exec_plan_terminates_its_arrays() {
        let plan = ExecPlan::new(&["/bin/sh".into(), "-c".into()], &[("A".into(), "b".into())]).unwrap();
        assert_eq!(plan.argv.len(), 3);
        assert!(plan.argv[2].is_null());
        assert_eq!(plan.envp.len(), 2);
        // SAFETY: the pointer points into a CString owned by `plan`.
        assert_eq!(unsafe { CStr::from_ptr(plan.envp[0]) }, c"A=b");
        assert!(ExecPlan::new(&[], &[]).is_none());
    }
}
