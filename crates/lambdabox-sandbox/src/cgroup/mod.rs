//! cgroups for one sandbox: limits (memory without swap, pids, cpu weight),
//! membership, freeze and thaw, kill, statistics and removal, on either the
//! v1 (one hierarchy per controller) or the v2 (unified) layout.
//!
//! Every path is derived from [`CgroupConfig::root`], so the logic runs
//! against a temporary directory in tests as well as `/sys/fs/cgroup`.

mod v1;
mod v2;

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::unistd::Pid;

use crate::spec::Limits;

/// How long [`Cgroup::freeze`] waits for every task to stop, and
/// [`Cgroup::remove`] for a just-emptied cgroup to become removable.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(5);

/// Which cgroup layout the host uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgroupVersion {
    /// One hierarchy per controller: `root/<controller>/<parent>/<id>`.
    V1,
    /// The unified hierarchy: `root/<parent>/<id>`.
    V2,
}

/// Where the sandboxes' cgroups live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupConfig {
    /// The cgroup mount point, usually `/sys/fs/cgroup`.
    pub root: PathBuf,
    /// The cgroup (created if missing) under which each sandbox gets its own.
    pub parent: String,
    pub version: CgroupVersion,
}

impl CgroupConfig {
    /// Detects the version from `root`: a cgroup2 file system, or a
    /// directory holding `cgroup.controllers`, is v2; anything else is v1.
    pub fn detect(root: impl Into<PathBuf>, parent: impl Into<String>) -> Result<Self, CgroupError> {
        let root = root.into();
        let stat =
            nix::sys::statfs::statfs(&root).map_err(|source| CgroupError::Detect { root: root.clone(), source })?;
        let v2 =
            stat.filesystem_type() == nix::sys::statfs::CGROUP2_SUPER_MAGIC || root.join("cgroup.controllers").exists();
        let version = if v2 { CgroupVersion::V2 } else { CgroupVersion::V1 };
        Ok(Self { root, parent: parent.into(), version })
    }
}

impl CgroupConfig {
    /// Kills every process in every sandbox cgroup under the parent and
    /// removes those cgroups: the clean-up for sandboxes left running by a
    /// previous process that died without dropping them. Returns their ids.
    pub fn kill_leftovers(&self) -> Result<Vec<String>, CgroupError> {
        let parent = match self.version {
            CgroupVersion::V1 => v1::CgroupV1::parent_dir(self),
            CgroupVersion::V2 => v2::CgroupV2::parent_dir(self),
        };
        let entries = match fs::read_dir(&parent) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(CgroupError::Read { path: parent, source }),
        };
        let mut ids: Vec<String> = entries
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        ids.sort();
        for id in &ids {
            let cgroup = match self.version {
                CgroupVersion::V1 => Cgroup::V1(v1::CgroupV1::open(self, id)),
                CgroupVersion::V2 => Cgroup::V2(v2::CgroupV2::open(self, id)),
            };
            cgroup.kill_everything()?;
            cgroup.remove()?;
        }
        Ok(ids)
    }
}

impl CgroupConfig {
    /// Removes the parent cgroup(s) if they are empty (at a clean shutdown,
    /// after every sandbox is gone), so a stopped server leaves no cgroup
    /// behind; a parent that still holds a sandbox is left as it is.
    /// Returns how many were removed.
    pub fn remove_parents(&self) -> usize {
        let dirs = match self.version {
            CgroupVersion::V1 => v1::CgroupV1::parent_dirs(self),
            CgroupVersion::V2 => vec![v2::CgroupV2::parent_dir(self)],
        };
        dirs.iter().filter(|d| fs::remove_dir(d).is_ok()).count()
    }
}

/// A failed cgroup operation, with the file or directory it was about.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    #[error("detect the cgroup version of {root:?}")]
    Detect { root: PathBuf, source: Errno },
    #[error("cgroup {path:?} already exists")]
    AlreadyExists { path: PathBuf },
    #[error("create cgroup directory {path:?}")]
    CreateDir { path: PathBuf, source: io::Error },
    #[error("controller {controller} is not available in {path:?}")]
    ControllerUnavailable { controller: &'static str, path: PathBuf },
    #[error("write {value:?} to {path:?}")]
    Write { path: PathBuf, value: String, source: io::Error },
    #[error("read {path:?}")]
    Read { path: PathBuf, source: io::Error },
    #[error("cgroup {path:?} did not freeze within {timeout:?}")]
    FreezeTimeout { path: PathBuf, timeout: Duration },
    #[error("remove cgroup directory {path:?}")]
    Remove { path: PathBuf, source: io::Error },
}

/// The cgroup (or, on v1, the set of per-controller cgroups) of one sandbox.
#[derive(Debug)]
pub(crate) enum Cgroup {
    V1(v1::CgroupV1),
    V2(v2::CgroupV2),
}

impl Cgroup {
    /// Creates the sandbox's cgroup(s) under the parent and writes the limits.
    /// Nothing is left behind on error.
    pub(crate) fn create(config: &CgroupConfig, id: &str, limits: &Limits) -> Result<Self, CgroupError> {
        match config.version {
            CgroupVersion::V1 => v1::CgroupV1::create(config, id, limits).map(Self::V1),
            CgroupVersion::V2 => v2::CgroupV2::create(config, id, limits).map(Self::V2),
        }
    }

    /// Replaces the limits (a spare's, when it is assigned its program).
    pub(crate) fn set_limits(&self, limits: &Limits) -> Result<(), CgroupError> {
        match self {
            Self::V1(cg) => cg.set_limits(limits),
            Self::V2(cg) => cg.set_limits(limits),
        }
    }

    /// Moves `pid` into the cgroup(s).
    pub(crate) fn add_process(&self, pid: Pid) -> Result<(), CgroupError> {
        match self {
            Self::V1(cg) => cg.add_process(pid),
            Self::V2(cg) => cg.add_process(pid),
        }
    }

    /// Freezes every task and waits until the kernel reports them all frozen.
    pub(crate) fn freeze(&self) -> Result<(), CgroupError> {
        match self {
            Self::V1(cg) => cg.freeze(),
            Self::V2(cg) => cg.freeze(),
        }
    }

    pub(crate) fn thaw(&self) -> Result<(), CgroupError> {
        match self {
            Self::V1(cg) => cg.thaw(),
            Self::V2(cg) => cg.thaw(),
        }
    }

    /// Kills every task through the kernel (v2 `cgroup.kill`, which also
    /// works on frozen tasks). Returns `false` where the kernel has no such
    /// interface and the caller must signal the processes itself.
    pub(crate) fn kill_all(&self) -> Result<bool, CgroupError> {
        match self {
            Self::V1(_) => Ok(false),
            Self::V2(cg) => cg.kill_all(),
        }
    }

    /// Kills every task of a cgroup whose processes are not our children
    /// and waits until it is empty: `cgroup.kill`, or freeze, SIGKILL each
    /// process, thaw (so none can fork in between).
    fn kill_everything(&self) -> Result<(), CgroupError> {
        if !self.kill_all()? {
            self.freeze()?;
            for pid in self.procs()? {
                let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
            }
            self.thaw()?;
        }
        let procs_file = match self {
            Self::V1(cg) => cg.procs_file(),
            Self::V2(cg) => cg.procs_file(),
        };
        if poll_until(SETTLE_TIMEOUT, || Ok(self.procs()?.is_empty()))? {
            Ok(())
        } else {
            let source = io::Error::from_raw_os_error(libc::EBUSY);
            Err(CgroupError::Remove { path: procs_file, source })
        }
    }

    /// The pids currently in the cgroup.
    pub(crate) fn procs(&self) -> Result<Vec<Pid>, CgroupError> {
        let path = match self {
            Self::V1(cg) => cg.procs_file(),
            Self::V2(cg) => cg.procs_file(),
        };
        let text = read(&path)?;
        Ok(text.lines().filter_map(|l| l.trim().parse().ok()).map(Pid::from_raw).collect())
    }

    pub(crate) fn memory_peak_bytes(&self) -> Option<u64> {
        match self {
            Self::V1(cg) => cg.memory_peak_bytes(),
            Self::V2(cg) => cg.memory_peak_bytes(),
        }
    }

    pub(crate) fn oom_killed(&self) -> bool {
        match self {
            Self::V1(cg) => cg.oom_killed(),
            Self::V2(cg) => cg.oom_killed(),
        }
    }

    /// The directories making up this cgroup.
    pub(crate) fn dirs(&self) -> Vec<PathBuf> {
        match self {
            Self::V1(cg) => cg.dirs().to_vec(),
            Self::V2(cg) => vec![cg.dir().to_owned()],
        }
    }

    /// Removes the (empty) cgroup directories, waiting a little for the
    /// kernel to notice that the last task is gone.
    pub(crate) fn remove(&self) -> Result<(), CgroupError> {
        for dir in self.dirs() {
            remove_dir(&dir)?;
        }
        Ok(())
    }
}

/// `cpu.shares` for a v2-style weight: the default weight 100 maps to the
/// default 1024 shares; the kernel's minimum of 2 shares is respected.
pub(crate) fn weight_to_shares(weight: u32) -> u64 {
    (u64::from(weight) * 1024 / 100).max(2)
}

/// Writes `value` to a control file. Control files always exist in a real
/// cgroup; `create` only matters for tests against plain directories.
pub(crate) fn write(path: &Path, value: &str) -> Result<(), CgroupError> {
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .and_then(|mut f| f.write_all(value.as_bytes()))
        .map_err(|source| CgroupError::Write { path: path.to_owned(), value: value.to_owned(), source })
}

pub(crate) fn read(path: &Path) -> Result<String, CgroupError> {
    fs::read_to_string(path).map_err(|source| CgroupError::Read { path: path.to_owned(), source })
}

/// The value of `key` in a flat keyed file such as `memory.events`
/// (`oom_kill 3`) or v1's `memory.oom_control`.
pub(crate) fn keyed_value(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(' ')?;
        if k == key { v.trim().parse().ok() } else { None }
    })
}

/// A file holding one number that is read again and again (the memory
/// peak, after every invocation): opened once, then one `pread` per read
/// instead of a path lookup, `open`, `statx`, two `read`s and `close`.
#[derive(Debug)]
pub(crate) struct NumberFile {
    path: PathBuf,
    file: std::sync::OnceLock<fs::File>,
}

impl NumberFile {
    pub(crate) fn new(path: PathBuf) -> Self {
        Self { path, file: std::sync::OnceLock::new() }
    }

    pub(crate) fn read(&self) -> Option<u64> {
        use std::os::unix::fs::FileExt;
        let file = match self.file.get() {
            Some(file) => file,
            None => {
                // Not cached until it opens: the file may appear later.
                let _ = self.file.set(fs::File::open(&self.path).ok()?);
                self.file.get()?
            }
        };
        let mut buf = [0u8; 32];
        let n = file.read_at(&mut buf, 0).ok()?;
        std::str::from_utf8(&buf[..n]).ok()?.trim().parse().ok()
    }
}

/// Creates the sandbox's own directory, refusing to adopt an existing one.
pub(crate) fn create_leaf(path: &Path) -> Result<(), CgroupError> {
    match fs::create_dir(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(CgroupError::AlreadyExists { path: path.to_owned() }),
        Err(source) => Err(CgroupError::CreateDir { path: path.to_owned(), source }),
    }
}

/// Creates a parent cgroup directory and its ancestors if missing.
pub(crate) fn create_parent(path: &Path) -> Result<(), CgroupError> {
    fs::create_dir_all(path).map_err(|source| CgroupError::CreateDir { path: path.to_owned(), source })
}

/// `rmdir`, retrying while the kernel still counts exiting tasks (`EBUSY`).
/// A directory that is already gone counts as removed.
pub(crate) fn remove_dir(path: &Path) -> Result<(), CgroupError> {
    let mut busy = None;
    let removed = poll_until(SETTLE_TIMEOUT, || match fs::remove_dir(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(true),
        Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {
            busy = Some(e);
            Ok(false)
        }
        Err(e) => Err(e),
    })
    .map_err(|source| CgroupError::Remove { path: path.to_owned(), source })?;
    if removed {
        return Ok(());
    }
    let source = busy.unwrap_or_else(|| io::Error::from_raw_os_error(libc::EBUSY));
    Err(CgroupError::Remove { path: path.to_owned(), source })
}

/// Calls `check` until it returns `true` or `timeout` passes, spinning
/// briefly and then backing off. Returns whether the condition was met.
pub(crate) fn poll_until<E>(timeout: Duration, mut check: impl FnMut() -> Result<bool, E>) -> Result<bool, E> {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_micros(20);
    loop {
        if check()? {
            return Ok(true);
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(5));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_follow_the_weight_and_keep_the_default() {
        assert_eq!(weight_to_shares(100), 1024);
        assert_eq!(weight_to_shares(1), 10);
        assert_eq!(weight_to_shares(10_000), 102_400);
        assert_eq!(weight_to_shares(50), 512);
    }

    #[test]
    fn keyed_values_are_found_by_exact_key() {
        let text = "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n";
        assert_eq!(keyed_value(text, "oom_kill"), Some(2));
        assert_eq!(keyed_value(text, "under_oom"), Some(0));
        assert_eq!(keyed_value(text, "oom"), None);
    }

    #[test]
    fn detects_v2_from_cgroup_controllers_and_v1_otherwise() {
        let dir = tempfile::tempdir().unwrap();
        let v1 = CgroupConfig::detect(dir.path(), "lb").unwrap();
        assert_eq!(v1.version, CgroupVersion::V1);
        fs::write(dir.path().join("cgroup.controllers"), "cpu memory pids\n").unwrap();
        let v2 = CgroupConfig::detect(dir.path(), "lb").unwrap();
        assert_eq!(v2.version, CgroupVersion::V2);
        assert_eq!(v2.parent, "lb");
    }

    #[test]
    fn detect_reports_a_missing_root() {
        let err = CgroupConfig::detect("/nonexistent/cgroup", "lb").unwrap_err();
        assert!(matches!(err, CgroupError::Detect { source: Errno::ENOENT, .. }), "{err:?}");
    }

    #[test]
    fn poll_until_gives_up_at_the_deadline() {
        let mut calls = 0;
        let met = poll_until::<()>(Duration::from_millis(5), || {
            calls += 1;
            Ok(false)
        })
        .unwrap();
        assert!(!met);
        assert!(calls > 1);
    }

    #[test]
    fn remove_dir_treats_a_missing_dir_as_removed() {
        let dir = tempfile::tempdir().unwrap();
        remove_dir(&dir.path().join("gone")).unwrap();
        let present = dir.path().join("present");
        fs::create_dir(&present).unwrap();
        remove_dir(&present).unwrap();
        assert!(!present.exists());
    }
}
