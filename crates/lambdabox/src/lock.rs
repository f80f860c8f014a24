//! The data dir's lock: one server owns a data dir at a time.
//!
//! A POSIX record lock (`fcntl(F_SETLK)`) on `<data dir>/lock`, not
//! `flock`: a record lock belongs to the process, so no child ever holds
//! it — not a sandbox cloned a moment before the server died, not a helper
//! between `fork` and `exec` — and the kernel drops it the moment the server
//! exits, however it exits. (An `flock` belongs to the open file, which
//! every forked child shares until it closes it: a kill -9 of the server
//! then left the lock held by a child still being set up, and the restart
//! failed.)
//!
//! A server that finds the lock held waits a bounded time for the holder to
//! go (a predecessor still dying), then names it.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use nix::errno::Errno;
use nix::fcntl::{FcntlArg, fcntl};

/// The held lock; dropping it (or the process ending) releases it.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

/// A whole-file lock request of `kind` (`F_WRLCK`).
fn whole_file(kind: LibcShort) -> nix::libc::flock {
    // SAFETY: `flock` is plain data; all-zero is a valid value.
    let mut lock: nix::libc::flock = unsafe { std::mem::zeroed() };
    lock.l_type = kind;
    lock.l_whence = nix::libc::SEEK_SET as LibcShort;
    lock
}

type LibcShort = nix::libc::c_short;

impl DataDirLock {
    /// Takes the lock of `data_dir`, waiting up to `wait` for a holder to go.
    pub fn acquire(data_dir: &Path, wait: Duration) -> anyhow::Result<Self> {
        let path = data_dir.join("lock");
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("create {}", path.display()))?;
        let deadline = Instant::now() + wait;
        loop {
            let request = whole_file(nix::libc::F_WRLCK as LibcShort);
            match fcntl(&file, FcntlArg::F_SETLK(&request)) {
                Ok(_) => return Ok(Self { _file: file }),
                Err(Errno::EAGAIN | Errno::EACCES) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(Errno::EAGAIN | Errno::EACCES) => {
                    let holder = holder(&file).map(describe).unwrap_or_else(|| "another process".to_owned());
                    anyhow::bail!(
                        "data dir {} is in use by another lambdabox: {holder} holds {} (waited {:.1} s for it to exit)",
                        data_dir.display(),
                        path.display(),
                        wait.as_secs_f64()
                    );
                }
                Err(e) => return Err(e).with_context(|| format!("lock {}", path.display())),
            }
        }
    }
}

/// The pid holding a conflicting lock on `file`, if any.
fn holder(file: &File) -> Option<i32> {
    let mut probe = whole_file(nix::libc::F_WRLCK as LibcShort);
    fcntl(file, FcntlArg::F_GETLK(&mut probe)).ok()?;
    (probe.l_type != nix::libc::F_UNLCK as LibcShort && probe.l_pid > 0).then_some(probe.l_pid)
}

/// `pid 123 (lambdabox serve --data-dir …)`.
fn describe(pid: i32) -> String {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|raw| String::from_utf8_lossy(&raw).replace('\0', " ").trim().to_owned())
        .unwrap_or_default();
    if cmdline.is_empty() { format!("pid {pid}") } else { format!("pid {pid} ({cmdline})") }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    use super::*;

    /// Whether a separate process can take the lock of `dir` right now.
    fn free_for_another_process(dir: &Path) -> bool {
        let script = format!(
            "import fcntl\nf=open('{}/lock','r+')\ntry:\n  fcntl.lockf(f, fcntl.LOCK_EX|fcntl.LOCK_NB)\n  print('taken')\nexcept OSError:\n  print('held')",
            dir.display()
        );
        let out = Command::new("python3").arg("-c").arg(script).output().unwrap();
        String::from_utf8_lossy(&out.stdout).trim() == "taken"
    }

    #[test]
    fn a_forked_child_never_holds_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let lock = DataDirLock::acquire(dir.path(), Duration::ZERO).unwrap();
        assert!(!free_for_another_process(dir.path()));
        // A child with a copy of every descriptor, as a sandbox is between
        // clone and closing them, or a helper between fork and exec.
        // SAFETY: the child only calls pause and _exit.
        let child = match unsafe { nix::unistd::fork() }.unwrap() {
            // SAFETY: pause and _exit are async-signal-safe system calls.
            nix::unistd::ForkResult::Child => unsafe {
                nix::libc::pause();
                nix::libc::_exit(0)
            },
            nix::unistd::ForkResult::Parent { child } => child,
        };
        drop(lock);
        let free = free_for_another_process(dir.path());
        nix::sys::signal::kill(child, nix::sys::signal::Signal::SIGKILL).unwrap();
        nix::sys::wait::waitpid(child, None).unwrap();
        assert!(free, "the forked child kept the lock");
    }

    #[test]
    fn a_held_lock_is_waited_for_then_its_holder_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("lock"), "").unwrap();
        let script = format!(
            "import fcntl,sys,time\nf=open('{}/lock','r+')\nfcntl.lockf(f, fcntl.LOCK_EX)\nprint('locked', flush=True)\ntime.sleep(60)",
            dir.path().display()
        );
        let mut holder = Command::new("python3").arg("-c").arg(script).stdout(Stdio::piped()).spawn().unwrap();
        let mut line = String::new();
        BufReader::new(holder.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "locked");
        let started = Instant::now();
        let err = DataDirLock::acquire(dir.path(), Duration::from_millis(300)).unwrap_err().to_string();
        assert!(started.elapsed() >= Duration::from_millis(300));
        assert!(err.contains(&format!("pid {}", holder.id())), "{err}");
        assert!(err.contains("python3"), "{err}");
        // Once the holder is gone, the lock is free at once.
        holder.kill().unwrap();
        holder.wait().unwrap();
        assert!(DataDirLock::acquire(dir.path(), Duration::from_secs(5)).is_ok());
    }
}
