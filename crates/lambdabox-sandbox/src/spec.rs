//! What to run in a sandbox and under which limits: the input of
//! [`crate::Sandbox::create`], validated before anything is created, and
//! [`SpecError`], what that validation finds.

use std::os::fd::OwnedFd;
use std::path::{Component, Path, PathBuf};

/// One sandbox: the program, its environment, what it sees and its limits.
#[derive(Debug)]
pub struct SandboxSpec {
    /// Unique among live sandboxes; names the cgroups. `[A-Za-z0-9._-]{1,128}`.
    pub id: String,
    /// `argv[0]` is an absolute path inside the sandbox; no `PATH` search.
    pub argv: Vec<String>,
    /// Exactly this environment, nothing inherited.
    pub env: Vec<(String, String)>,
    /// Working directory inside the sandbox, e.g. `/var/task`.
    pub cwd: PathBuf,
    /// Extra read-only bind mounts, host directory or file to sandbox path.
    pub mounts: Vec<BindMount>,
    /// Size of the private writable tmpfs at `/tmp` (it counts towards the
    /// memory limit, as every tmpfs page is charged to the sandbox's cgroup).
    pub tmp_size_bytes: u64,
    pub limits: Limits,
    /// Who the process is inside and on the host.
    pub identity: Identity,
    /// The hostname inside the sandbox's UTS namespace.
    pub hostname: String,
    /// Which parts of the host the new root is made of.
    pub rootfs: RootfsConfig,
    /// Becomes the process's stdout (for example a pipe's write end).
    pub stdout: OwnedFd,
    /// Becomes the process's stderr. stdin is always `/dev/null`.
    pub stderr: OwnedFd,
}

/// A read-only bind mount of a host path at a sandbox path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindMount {
    /// Host directory or file; it must be readable by [`Identity::host_uid`].
    pub source: PathBuf,
    /// Absolute path inside the sandbox; missing parent directories are created.
    pub target: PathBuf,
}

/// The cgroup limits of one sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Hard memory limit; swap is disabled. Exceeding it OOM-kills.
    pub memory_bytes: u64,
    /// Maximum number of tasks (processes and threads), the sandbox's init
    /// included: the program and its descendants get `pids_max - 1`.
    pub pids_max: u32,
    /// Relative CPU share with cgroup v2 semantics: 1..=10000, 100 is the
    /// default. On v1 it becomes `cpu.shares = weight * 1024 / 100`.
    pub cpu_weight: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self { memory_bytes: 128 << 20, pids_max: 1024, cpu_weight: 100 }
    }
}

/// The sandbox's single uid and gid, and the unprivileged host ids they map
/// to. Code inside is never host root: the user namespace maps only
/// `sandbox_uid -> host_uid` (and the same for gids).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    pub sandbox_uid: u32,
    pub sandbox_gid: u32,
    pub host_uid: u32,
    pub host_gid: u32,
}

impl Identity {
    /// The uid and gid AWS uses for `sbx_user1051`.
    pub const SBX_USER_UID: u32 = 993;
    pub const SBX_USER_GID: u32 = 990;

    /// `sbx_user` (993:990) inside. On the host, 993:990 when running as
    /// root, otherwise the caller's own ids (the only ones an unprivileged
    /// process may map).
    pub fn unprivileged_default() -> Self {
        let (host_uid, host_gid) = if nix::unistd::geteuid().is_root() {
            (Self::SBX_USER_UID, Self::SBX_USER_GID)
        } else {
            (nix::unistd::geteuid().as_raw(), nix::unistd::getegid().as_raw())
        };
        Self { sandbox_uid: Self::SBX_USER_UID, sandbox_gid: Self::SBX_USER_GID, host_uid, host_gid }
    }
}

/// How the sandbox's root is assembled from the host, and where the host's
/// kernel interfaces are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootfsConfig {
    /// The host's procfs, for `/proc/<pid>/{uid_map,gid_map,ns/net}`.
    pub host_proc: PathBuf,
    /// An existing host directory the new root is mounted on, inside the
    /// sandbox's private mount namespace only, before `pivot_root`.
    pub staging_dir: PathBuf,
    /// Host top-level directories mirrored into the sandbox: a symlink
    /// (usrmerge's `/lib -> usr/lib`) is copied as a symlink, a directory
    /// is bind-mounted read-only, a missing one is skipped.
    pub system_dirs: Vec<PathBuf>,
    /// The host's `/etc`.
    pub etc_dir: PathBuf,
    /// Entries of the host's `/etc` made visible (read-only) in the
    /// sandbox's otherwise generated `/etc`. A trailing `*` matches a prefix
    /// (`java-*`). `passwd`, `group`, `hosts` and `hostname` are always
    /// generated.
    pub etc_entries: Vec<String>,
    /// Size of the tmpfs at `/dev/shm`.
    pub shm_size_bytes: u64,
    /// A generated `/etc/resolv.conf` (for a sandbox given a network); none
    /// when `None`.
    pub resolv_conf: Option<String>,
}

impl Default for RootfsConfig {
    fn default() -> Self {
        let entries = [
            "alternatives",
            "ca-certificates",
            "ca-certificates.conf",
            "crypto-policies",
            "gai.conf",
            "host.conf",
            "java-*",
            "ld.so.cache",
            "ld.so.conf",
            "ld.so.conf.d",
            "localtime",
            "mime.types",
            "nsswitch.conf",
            "os-release",
            "pki",
            "protocols",
            "python3*",
            "services",
            "ssl",
            "timezone",
        ];
        Self {
            host_proc: PathBuf::from("/proc"),
            staging_dir: PathBuf::from("/tmp"),
            system_dirs: ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"]
                .into_iter()
                .map(PathBuf::from)
                .collect(),
            etc_dir: PathBuf::from("/etc"),
            etc_entries: entries.into_iter().map(String::from).collect(),
            shm_size_bytes: 64 << 20,
            resolv_conf: None,
        }
    }
}

/// A [`crate::SandboxSpec`] that cannot be run, found before anything is created.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SpecError {
    #[error("sandbox id {id:?} must be 1 to 128 characters of [A-Za-z0-9._-] and not start with a dot")]
    InvalidId { id: String },
    #[error("argv is empty")]
    EmptyArgv,
    #[error("argv[0] {path:?} is not an absolute path")]
    RelativeProgram { path: String },
    #[error("{field} contains a NUL byte")]
    NulByte { field: &'static str },
    #[error("environment variable name {name:?} is empty or contains '='")]
    InvalidEnvName { name: String },
    #[error("{field} {path:?} must be absolute and normalised (no `.` or `..`)")]
    NotAbsolute { field: &'static str, path: PathBuf },
    #[error("bind mount target {target:?} is reserved by the sandbox")]
    ReservedTarget { target: PathBuf },
    #[error("tmp_size_bytes must be at least one page, got {bytes}")]
    TmpTooSmall { bytes: u64 },
    #[error("limit {limit} must be positive")]
    ZeroLimit { limit: &'static str },
    #[error("pids_max {pids_max} leaves no task for the program beside the sandbox's init (at least 2)")]
    PidsMaxTooSmall { pids_max: u32 },
    #[error("cpu_weight {weight} is outside 1..=10000")]
    CpuWeight { weight: u32 },
    #[error("a spare sandbox takes at most {max} bind mounts")]
    TooManyMounts { max: usize },
    #[error("hostname {hostname:?} must be 1 to 64 bytes without NUL")]
    InvalidHostname { hostname: String },
}

/// Paths the sandbox itself mounts; a bind mount may not land on or under them.
const RESERVED_TARGETS: [&str; 4] = ["/", "/proc", "/dev", "/tmp"];

impl SandboxSpec {
    /// Checks everything that can be checked without touching the system.
    pub fn validate(&self) -> Result<(), SpecError> {
        validate_id(&self.id)?;
        validate_program(&self.argv, &self.env, &self.cwd, &self.mounts)?;
        validate_tmp(self.tmp_size_bytes)?;
        validate_limits(&self.limits)?;
        if self.hostname.is_empty() || self.hostname.len() > 64 || self.hostname.contains('\0') {
            return Err(SpecError::InvalidHostname { hostname: self.hostname.clone() });
        }
        Ok(())
    }
}

/// A *spare* sandbox: everything of a [`SandboxSpec`] but the program and
/// the files it needs, so that it can be made before anyone asks for it
/// ([`crate::Sandbox::create_spare`]) and given them later
/// ([`crate::Sandbox::assign`]).
#[derive(Debug)]
pub struct SpareSpec {
    pub id: String,
    /// The size of `/tmp` unless the assignment asks for another.
    pub tmp_size_bytes: u64,
    /// The limits until the assignment sets its own.
    pub limits: Limits,
    pub identity: Identity,
    pub hostname: String,
    pub rootfs: RootfsConfig,
    pub stdout: OwnedFd,
    pub stderr: OwnedFd,
    /// The program's stdin (for example a pipe's read end, through which a
    /// started spare waits for work); `/dev/null` when `None`.
    pub stdin: Option<OwnedFd>,
}

impl SpareSpec {
    /// The same sandbox as a [`SandboxSpec`] with an empty program half
    /// (which a spare never runs: it waits for [`Assignment`]).
    pub(crate) fn into_spec(self) -> (SandboxSpec, Option<OwnedFd>) {
        let spec = SandboxSpec {
            id: self.id,
            argv: vec!["/".into()],
            env: vec![],
            cwd: "/".into(),
            mounts: vec![],
            tmp_size_bytes: self.tmp_size_bytes,
            limits: self.limits,
            identity: self.identity,
            hostname: self.hostname,
            rootfs: self.rootfs,
            stdout: self.stdout,
            stderr: self.stderr,
        };
        (spec, self.stdin)
    }
}

/// What a spare sandbox is given before it starts: the program half of a
/// [`SandboxSpec`], with the same meaning field by field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub argv: Vec<String>,
    pub env: Vec<(String, String)>,
    pub cwd: PathBuf,
    pub mounts: Vec<BindMount>,
    pub tmp_size_bytes: u64,
    pub limits: Limits,
}

impl Assignment {
    /// Checks everything that can be checked without touching the system.
    pub fn validate(&self) -> Result<(), SpecError> {
        validate_program(&self.argv, &self.env, &self.cwd, &self.mounts)?;
        validate_tmp(self.tmp_size_bytes)?;
        validate_limits(&self.limits)
    }
}

fn validate_program(
    argv: &[String],
    env: &[(String, String)],
    cwd: &Path,
    mounts: &[BindMount],
) -> Result<(), SpecError> {
    let program = argv.first().ok_or(SpecError::EmptyArgv)?;
    if !program.starts_with('/') {
        return Err(SpecError::RelativeProgram { path: program.clone() });
    }
    if argv.iter().any(|arg| arg.contains('\0')) {
        return Err(SpecError::NulByte { field: "argv" });
    }
    for (name, value) in env {
        if name.is_empty() || name.contains('=') {
            return Err(SpecError::InvalidEnvName { name: name.clone() });
        }
        if name.contains('\0') || value.contains('\0') {
            return Err(SpecError::NulByte { field: "env" });
        }
    }
    check_absolute("cwd", cwd)?;
    for mount in mounts {
        check_absolute("bind mount target", &mount.target)?;
        let reserved = RESERVED_TARGETS.iter().any(|r| {
            let r = Path::new(r);
            mount.target == r || (r != Path::new("/") && mount.target.starts_with(r))
        });
        if reserved {
            return Err(SpecError::ReservedTarget { target: mount.target.clone() });
        }
    }
    Ok(())
}

/// The size of `/tmp`: at least one page.
pub(crate) fn validate_tmp(tmp_size_bytes: u64) -> Result<(), SpecError> {
    if tmp_size_bytes < 4096 {
        return Err(SpecError::TmpTooSmall { bytes: tmp_size_bytes });
    }
    Ok(())
}

pub(crate) fn validate_limits(limits: &Limits) -> Result<(), SpecError> {
    if limits.memory_bytes == 0 {
        return Err(SpecError::ZeroLimit { limit: "memory_bytes" });
    }
    if limits.pids_max < 2 {
        return Err(SpecError::PidsMaxTooSmall { pids_max: limits.pids_max });
    }
    if !(1..=10_000).contains(&limits.cpu_weight) {
        return Err(SpecError::CpuWeight { weight: limits.cpu_weight });
    }
    Ok(())
}

fn validate_id(id: &str) -> Result<(), SpecError> {
    let valid = !id.is_empty()
        && id.len() <= 128
        && !id.starts_with('.')
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if valid { Ok(()) } else { Err(SpecError::InvalidId { id: id.to_owned() }) }
}

fn check_absolute(field: &'static str, path: &Path) -> Result<(), SpecError> {
    let mut components = path.components();
    let absolute =
        components.next() == Some(Component::RootDir) && components.all(|c| matches!(c, Component::Normal(_)));
    if absolute && path.to_str().is_some_and(|p| !p.contains('\0')) {
        Ok(())
    } else {
        Err(SpecError::NotAbsolute { field, path: path.to_owned() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> SandboxSpec {
        let (r, w) = nix::unistd::pipe().unwrap();
        SandboxSpec {
            id: "fn-1".into(),
            argv: vec!["/bin/true".into()],
            env: vec![("A".into(), "1".into())],
            cwd: "/var/task".into(),
            mounts: vec![BindMount { source: "/srv".into(), target: "/var/task".into() }],
            tmp_size_bytes: 1 << 20,
            limits: Limits::default(),
            identity: Identity::unprivileged_default(),
            hostname: "localhost".into(),
            rootfs: RootfsConfig::default(),
            stdout: r,
            stderr: w,
        }
    }

    #[test]
    fn a_plain_spec_is_valid() {
        assert_eq!(spec().validate(), Ok(()));
    }

    #[test]
    fn rejects_what_cannot_run() {
        type Case = (fn(&mut SandboxSpec), SpecError);
        let cases: Vec<Case> = vec![
            (|s| s.id = "../x".into(), SpecError::InvalidId { id: "../x".into() }),
            (|s| s.id = String::new(), SpecError::InvalidId { id: String::new() }),
            (|s| s.argv.clear(), SpecError::EmptyArgv),
            (|s| s.argv[0] = "true".into(), SpecError::RelativeProgram { path: "true".into() }),
            (|s| s.env.push(("A=B".into(), "x".into())), SpecError::InvalidEnvName { name: "A=B".into() }),
            (|s| s.cwd = "/var/../etc".into(), SpecError::NotAbsolute { field: "cwd", path: "/var/../etc".into() }),
            (|s| s.mounts[0].target = "/proc/x".into(), SpecError::ReservedTarget { target: "/proc/x".into() }),
            (|s| s.mounts[0].target = "/".into(), SpecError::ReservedTarget { target: "/".into() }),
            (|s| s.tmp_size_bytes = 0, SpecError::TmpTooSmall { bytes: 0 }),
            (|s| s.limits.cpu_weight = 0, SpecError::CpuWeight { weight: 0 }),
            (|s| s.limits.pids_max = 0, SpecError::PidsMaxTooSmall { pids_max: 0 }),
            (|s| s.limits.pids_max = 1, SpecError::PidsMaxTooSmall { pids_max: 1 }),
        ];
        for (mutate, expected) in cases {
            let mut s = spec();
            mutate(&mut s);
            assert_eq!(s.validate(), Err(expected));
        }
    }

    #[test]
    fn opt_and_var_targets_are_allowed() {
        let mut s = spec();
        s.mounts.push(BindMount { source: "/srv".into(), target: "/opt".into() });
        s.mounts.push(BindMount { source: "/srv".into(), target: "/tmpx/y".into() });
        assert_eq!(s.validate(), Ok(()));
    }
}
