//! The set-up channel between a sandbox's first process and its parent:
//! the bytes the parent sends, the reports the child sends back, and each
//! side's reads and writes.
//!
//! The protocol runs over a `SOCK_SEQPACKET` pair:
//! 1. parent → child `GO`, once the id maps are written and the child sits
//!    in its cgroup;
//! 2. child → parent `READY` once the namespaces and root are built, or a
//!    failure report naming the step and errno;
//! 3. parent → child `START`; the child finishes its own confinement
//!    (stdio, working directory, capabilities, seccomp) and starts the
//!    program as its child ([`crate::init`]), which inherits all of it;
//! 4. the channel is close-on-exec in the program and closed by the init
//!    once the program has exec'd, so a successful `execve` reads as
//!    end-of-file; a failed one as a failure report.
//!
//! A spare receives its assignment ([`crate::late`]) between 2 and 3 and
//! reports `READY` (or the failed step) again.
//!
//! The child's side ([`read_byte`], [`report_ready`], [`fail`], [`exit`])
//! runs in the sandbox's first process and in its program before `execve`,
//! copies of a possibly multi-threaded caller: it only makes system calls,
//! and never allocates or takes a lock.

use std::os::fd::{AsRawFd, BorrowedFd, RawFd};

use nix::errno::Errno;

/// Parent → child: the id maps are written and the child is in its cgroup.
pub(crate) const GO: u8 = 1;
/// Parent → child: confine yourself and start the program.
pub(crate) const START: u8 = 2;

const READY: u32 = 1;
const FAILED: u32 = 2;

/// Which part of the child's work a failure report is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub(crate) enum Stage {
    CloseFds = 1,
    Session,
    Sync,
    Credentials,
    ResourceLimits,
    CgroupNamespace,
    Rootfs,
    Hostname,
    Loopback,
    Stdio,
    Chdir,
    DropCapabilities,
    Seccomp,
    StartProgram,
    Exec,
}

impl Stage {
    fn from_u32(value: u32) -> Option<Self> {
        const ALL: [Stage; 15] = [
            Stage::CloseFds,
            Stage::Session,
            Stage::Sync,
            Stage::Credentials,
            Stage::ResourceLimits,
            Stage::CgroupNamespace,
            Stage::Rootfs,
            Stage::Hostname,
            Stage::Loopback,
            Stage::Stdio,
            Stage::Chdir,
            Stage::DropCapabilities,
            Stage::Seccomp,
            Stage::StartProgram,
            Stage::Exec,
        ];
        ALL.into_iter().find(|s| *s as u32 == value)
    }
}

/// A message from the child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Report {
    Ready,
    /// `index` is the rootfs step for [`Stage::Rootfs`], else 0.
    Failed {
        stage: Stage,
        index: usize,
        errno: Errno,
    },
}

impl Report {
    fn encode(kind: u32, stage: u32, index: u32, errno: i32) -> [u8; 16] {
        let mut buf = [0u8; 16];
        buf[0..4].copy_from_slice(&kind.to_ne_bytes());
        buf[4..8].copy_from_slice(&stage.to_ne_bytes());
        buf[8..12].copy_from_slice(&index.to_ne_bytes());
        buf[12..16].copy_from_slice(&errno.to_ne_bytes());
        buf
    }

    fn decode(buf: &[u8; 16]) -> Option<Self> {
        let word = |i: usize| u32::from_ne_bytes([buf[i], buf[i + 1], buf[i + 2], buf[i + 3]]);
        match word(0) {
            READY => Some(Self::Ready),
            FAILED => Some(Self::Failed {
                stage: Stage::from_u32(word(4))?,
                index: word(8) as usize,
                errno: Errno::from_raw(word(12) as i32),
            }),
            _ => None,
        }
    }
}

// ---- The parent's side. ----

/// Sends one protocol byte to the child.
pub(crate) fn send(sock: BorrowedFd<'_>, byte: u8) -> Result<(), Errno> {
    send_message(sock, &[byte])
}

/// Sends one message (a protocol byte, a spare's assignment) to the child.
pub(crate) fn send_message(sock: BorrowedFd<'_>, message: &[u8]) -> Result<(), Errno> {
    loop {
        // SAFETY: sends from a live slice; MSG_NOSIGNAL avoids SIGPIPE.
        let rc = unsafe { libc::send(sock.as_raw_fd(), message.as_ptr().cast(), message.len(), libc::MSG_NOSIGNAL) };
        match Errno::result(rc) {
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e),
            Ok(n) if n as usize == message.len() => return Ok(()),
            Ok(_) => return Err(Errno::EMSGSIZE),
        }
    }
}

/// Reads the child's next report; `None` at end-of-file (the child exec'd
/// or died).
pub(crate) fn receive(sock: BorrowedFd<'_>) -> Result<Option<Report>, Errno> {
    let mut buf = [0u8; 16];
    loop {
        // SAFETY: reads at most 16 bytes into a live local buffer.
        let rc = unsafe { libc::read(sock.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        match Errno::result(rc) {
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e),
            Ok(0) => return Ok(None),
            Ok(16) => return Report::decode(&buf).map(Some).ok_or(Errno::EBADMSG),
            Ok(_) => return Err(Errno::EBADMSG),
        }
    }
}

// ---- Everything below runs in the child. ----

/// Ends the child at once with `code`.
pub(crate) fn exit(code: i32) -> ! {
    // SAFETY: _exit ends the child without running the parent's atexit
    // handlers or destructors.
    unsafe { libc::_exit(code) }
}

/// Reports that `stage` (rootfs step `index`) failed with `errno`, and
/// exits with 127.
pub(crate) fn fail(sock: RawFd, stage: Stage, index: u32, errno: Errno) -> ! {
    write_report(sock, &Report::encode(FAILED, stage as u32, index, errno as i32));
    exit(127)
}

/// Reports `READY`.
pub(crate) fn report_ready(sock: RawFd) {
    write_report(sock, &Report::encode(READY, 0, 0, 0));
}

fn write_report(sock: RawFd, buf: &[u8; 16]) {
    // SAFETY: writes 16 bytes from a live buffer; a failure means the
    // parent is gone, and there is nobody to tell.
    unsafe { libc::send(sock, buf.as_ptr().cast(), buf.len(), libc::MSG_NOSIGNAL) };
}

/// Reads the parent's next protocol byte; exits if the parent gave up.
pub(crate) fn read_byte(sock: RawFd) -> Result<u8, Errno> {
    let mut byte = 0u8;
    loop {
        // SAFETY: reads one byte into a live local.
        let rc = unsafe { libc::read(sock, (&mut byte as *mut u8).cast(), 1) };
        match Errno::result(rc) {
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e),
            Ok(0) => exit(1), // the parent gave up on us
            Ok(_) => return Ok(byte),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_round_trip() {
        let ready = Report::encode(READY, 0, 0, 0);
        assert_eq!(Report::decode(&ready), Some(Report::Ready));
        let failed = Report::encode(FAILED, Stage::Rootfs as u32, 7, libc::EROFS);
        assert_eq!(
            Report::decode(&failed),
            Some(Report::Failed { stage: Stage::Rootfs, index: 7, errno: Errno::EROFS })
        );
        assert_eq!(Report::decode(&Report::encode(9, 0, 0, 0)), None);
        assert_eq!(Report::decode(&Report::encode(FAILED, 99, 0, 0)), None);
    }
}
