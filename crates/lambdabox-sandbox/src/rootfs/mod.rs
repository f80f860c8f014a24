//! The sandbox's root file system: planned by the parent, applied by the
//! child.
//!
//! The parent turns a [`SandboxSpec`] into a list of [`Step`]s (all paths
//! as `CString`s, every bind source checked), so the child, which runs
//! between `clone` and `execve` in a copy of a possibly multi-threaded
//! process, only issues system calls. The child first opens every bind
//! source (`O_PATH`, in its own mount namespace: a bind from a descriptor
//! opened in the host's namespace fails with `EINVAL`), so that mounting
//! the new root's tmpfs on the staging directory cannot hide a source;
//! then it builds the tree on that tmpfs and `pivot_root`s into it:
//!
//! - `/usr`, `/bin`, `/sbin`, `/lib*` mirrored from the host (read-only
//!   binds, or the same symlinks on a usrmerge system);
//! - a generated `/etc` (`passwd`, `group`, `hosts`, `hostname`) plus
//!   read-only binds of an allow-list of host entries (`ld.so.cache`,
//!   `ssl`, `alternatives`, `java-*`, ...), rather than the host's whole `/etc`;
//! - a fresh `/proc` for the new pid namespace; no `/sys`;
//! - a minimal `/dev` (null, zero, full, random, urandom, tty bound from the
//!   host, the `/proc/self/fd` links, a tmpfs `/dev/shm`);
//! - a private tmpfs `/tmp` of the spec's size;
//! - the spec's binds, read-only.
//!
//! Everything is read-only except `/tmp` and `/dev/shm`. This file plans;
//! `apply.rs` is the child's side.

mod apply;

use std::collections::HashSet;
use std::ffi::{CStr, CString};
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicI32;

use nix::mount::MsFlags;

use crate::error::SandboxError;
use crate::spec::{BindMount, RootfsConfig, SandboxSpec, SpecError};

pub(crate) use apply::{apply, apply_step, close_sources};

pub(crate) const MOUNT_ATTR_RDONLY: u64 = 0x1;
pub(crate) const MOUNT_ATTR_NOSUID: u64 = 0x2;
pub(crate) const MOUNT_ATTR_NODEV: u64 = 0x4;
const MOUNT_ATTR_NOEXEC: u64 = 0x8;
/// Attributes of every read-only bind (programs may run from them).
const READ_ONLY: u64 = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
/// Attributes of device-node binds: writable (`/dev/null`), never executable.
const DEVICE: u64 = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC;

/// The kernel's `struct mount_attr` for `mount_setattr(2)`.
#[repr(C)]
pub(crate) struct MountAttr {
    pub(crate) attr_set: u64,
    pub(crate) attr_clr: u64,
    pub(crate) propagation: u64,
    pub(crate) userns_fd: u64,
}

/// Device nodes bound from the host's `/dev`.
const DEVICES: [&str; 6] = ["null", "zero", "full", "random", "urandom", "tty"];
/// `/dev` symlinks every libc and shell expects.
const DEV_LINKS: [(&str, &str); 4] = [
    ("/proc/self/fd", "/dev/fd"),
    ("/proc/self/fd/0", "/dev/stdin"),
    ("/proc/self/fd/1", "/dev/stdout"),
    ("/proc/self/fd/2", "/dev/stderr"),
];
/// `/etc` files the sandbox always generates, never takes from the host.
const GENERATED_ETC: [&str; 4] = ["passwd", "group", "hosts", "hostname"];

/// One action of the child while it builds the root.
#[derive(Debug)]
pub(crate) enum Step {
    /// Stop mount events from propagating back to the host.
    MakeRootSlave,
    Tmpfs {
        target: CString,
        flags: MsFlags,
        data: CString,
    },
    /// `mkdir`, tolerating an existing directory.
    Mkdir {
        path: CString,
    },
    /// An empty file to bind a file onto.
    Touch {
        path: CString,
    },
    Symlink {
        target: CString,
        link: CString,
    },
    WriteFile {
        path: CString,
        contents: Vec<u8>,
    },
    /// Open a bind source as `O_PATH` into `slot`.
    OpenSource {
        path: CString,
        slot: usize,
    },
    /// A recursive bind of the source in `slot` (`source` names it), then
    /// `attrs` (`MOUNT_ATTR_*`) on the whole tree.
    Bind {
        source: CString,
        slot: usize,
        target: CString,
        attrs: u64,
    },
    /// Close every opened source.
    CloseSources,
    Proc {
        target: CString,
    },
    /// `pivot_root` into `new_root` and detach the old root.
    PivotRoot {
        new_root: CString,
    },
    /// Make one mount (not its children) read-only.
    ReadOnly {
        target: CString,
    },
    /// Remount the tmpfs at `target` with new options (a new size).
    Remount {
        target: CString,
        flags: MsFlags,
        data: CString,
    },
}

/// A [`Step`] borrowed: what the child runs, from a plan of the parent's
/// or from a spare's assignment ([`crate::late`]).
#[derive(Debug, Clone, Copy)]
pub(crate) enum StepRef<'a> {
    MakeRootSlave,
    Tmpfs { target: &'a CStr, flags: MsFlags, data: &'a CStr },
    Mkdir { path: &'a CStr },
    Touch { path: &'a CStr },
    Symlink { target: &'a CStr, link: &'a CStr },
    WriteFile { path: &'a CStr, contents: &'a [u8] },
    OpenSource { path: &'a CStr, slot: usize },
    Bind { slot: usize, target: &'a CStr, attrs: u64 },
    CloseSources,
    Proc { target: &'a CStr },
    PivotRoot { new_root: &'a CStr },
    ReadOnly { target: &'a CStr },
    Remount { target: &'a CStr, flags: MsFlags, data: &'a CStr },
}

impl Step {
    pub(crate) fn as_ref(&self) -> StepRef<'_> {
        match self {
            Self::MakeRootSlave => StepRef::MakeRootSlave,
            Self::Tmpfs { target, flags, data } => StepRef::Tmpfs { target, flags: *flags, data },
            Self::Mkdir { path } => StepRef::Mkdir { path },
            Self::Touch { path } => StepRef::Touch { path },
            Self::Symlink { target, link } => StepRef::Symlink { target, link },
            Self::WriteFile { path, contents } => StepRef::WriteFile { path, contents },
            Self::OpenSource { path, slot } => StepRef::OpenSource { path, slot: *slot },
            Self::Bind { slot, target, attrs, .. } => StepRef::Bind { slot: *slot, target, attrs: *attrs },
            Self::CloseSources => StepRef::CloseSources,
            Self::Proc { target } => StepRef::Proc { target },
            Self::PivotRoot { new_root } => StepRef::PivotRoot { new_root },
            Self::ReadOnly { target } => StepRef::ReadOnly { target },
            Self::Remount { target, flags, data } => StepRef::Remount { target, flags: *flags, data },
        }
    }

    /// A human-readable account of the step, for errors.
    pub(crate) fn describe(&self) -> String {
        let s = |c: &CString| c.to_string_lossy().into_owned();
        match self {
            Self::MakeRootSlave => "make / a slave mount".into(),
            Self::Tmpfs { target, data, .. } => format!("mount tmpfs ({}) on {}", s(data), s(target)),
            Self::Mkdir { path } => format!("mkdir {}", s(path)),
            Self::Touch { path } => format!("create mount point {}", s(path)),
            Self::Symlink { target, link } => format!("symlink {} -> {}", s(link), s(target)),
            Self::WriteFile { path, .. } => format!("write {}", s(path)),
            Self::OpenSource { path, .. } => format!("open bind source {}", s(path)),
            Self::Bind { source, target, .. } => format!("bind {} on {}", s(source), s(target)),
            Self::CloseSources => "close the bind sources".into(),
            Self::Proc { target } => format!("mount proc on {}", s(target)),
            Self::PivotRoot { new_root } => format!("pivot_root into {}", s(new_root)),
            Self::ReadOnly { target } => format!("make {} read-only", s(target)),
            Self::Remount { target, data, .. } => format!("remount {} ({})", s(target), s(data)),
        }
    }
}

/// The steps, and one slot per bind source for the descriptor the child
/// opens (the child writes its own copy of the slots).
#[derive(Debug)]
pub(crate) struct RootfsPlan {
    pub(crate) steps: Vec<Step>,
    pub(crate) slots: Vec<AtomicI32>,
}

/// Flags of the `/tmp` tmpfs.
const TMP_FLAGS: MsFlags = MsFlags::MS_NOSUID.union(MsFlags::MS_NODEV);

/// Plans the root of `spec`. Host paths are inspected and opened here, so
/// a missing bind source is reported with its path before anything runs.
///
/// A `spare` root stops short: the spec's binds, its working directory and
/// the `pivot_root` come later, from [`plan_late`], when the sandbox is
/// assigned its program (until then the host's tree is still visible to
/// the sandbox's own set-up process, which runs no foreign code).
pub(crate) fn plan(spec: &SandboxSpec, spare: bool) -> Result<RootfsPlan, SandboxError> {
    let config = &spec.rootfs;
    let mut b = Builder::new(&config.staging_dir);
    b.tmpfs(Path::new("/"), MsFlags::MS_NOSUID | MsFlags::MS_NODEV, "mode=0755,size=1m")?;

    for dir in &config.system_dirs {
        b.mirror(dir, dir, READ_ONLY)?;
    }

    b.mkdir_all(Path::new("/etc"))?;
    for name in etc_names(&config.etc_dir, &config.etc_entries)? {
        b.mirror(&config.etc_dir.join(&name), &Path::new("/etc").join(&name), READ_ONLY)?;
    }
    let resolv = config.resolv_conf.clone().map(|r| ("resolv.conf", r));
    for (name, contents) in generated_etc(spec).into_iter().chain(resolv) {
        let path = b.inside(&Path::new("/etc").join(name))?;
        b.steps.push(Step::WriteFile { path, contents: contents.into_bytes() });
    }

    b.mkdir_all(Path::new("/proc"))?;
    let target = b.inside(Path::new("/proc"))?;
    b.steps.push(Step::Proc { target });

    b.mkdir_all(Path::new("/dev"))?;
    b.tmpfs(Path::new("/dev"), MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC, "mode=0755,size=64k")?;
    for device in DEVICES {
        let path = Path::new("/dev").join(device);
        b.mirror(&path, &path, DEVICE)?;
    }
    for (target, link) in DEV_LINKS {
        b.symlink(Path::new(target), Path::new(link))?;
    }
    b.mkdir_all(Path::new("/dev/shm"))?;
    let shm = format!("mode=1777,size={}", config.shm_size_bytes);
    b.tmpfs(Path::new("/dev/shm"), MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC, &shm)?;

    b.mkdir_all(Path::new("/tmp"))?;
    let tmp = format!("mode=1777,size={}", spec.tmp_size_bytes);
    b.tmpfs(Path::new("/tmp"), TMP_FLAGS, &tmp)?;

    if spare {
        b.steps.push(Step::CloseSources);
    } else {
        b.program_binds(&spec.mounts, &spec.cwd)?;
        b.finish()?;
    }
    Ok(b.into_plan(vec![Step::MakeRootSlave]))
}

/// The rest of a spare's root (see [`plan`]): the binds of the program's
/// files, its working directory, `/tmp` resized when `tmp_size_bytes`
/// differs from the size the spare was made with, then the `pivot_root`.
/// The sources are opened after the staging tmpfs is mounted, so none may
/// lie under the staging directory.
pub(crate) fn plan_late(
    config: &RootfsConfig,
    mounts: &[BindMount],
    cwd: &Path,
    tmp_resize: Option<u64>,
) -> Result<RootfsPlan, SandboxError> {
    let mut b = Builder::new(&config.staging_dir);
    for mount in mounts {
        if mount.source.starts_with(&config.staging_dir) {
            let source = std::io::Error::other("a late bind source may not lie under the staging directory");
            return Err(SandboxError::OpenBindSource { path: mount.source.clone(), source });
        }
    }
    if let Some(bytes) = tmp_resize {
        let target = b.inside(Path::new("/tmp"))?;
        let data = CString::new(format!("size={bytes}")).map_err(|_| SpecError::NulByte { field: "tmpfs options" })?;
        b.steps.push(Step::Remount { target, flags: TMP_FLAGS, data });
    }
    b.program_binds(mounts, cwd)?;
    b.finish()?;
    Ok(b.into_plan(Vec::new()))
}

struct Builder {
    staging: PathBuf,
    /// `OpenSource` steps, run before the staging tmpfs is mounted.
    opens: Vec<Step>,
    steps: Vec<Step>,
    /// Sandbox directories already planned.
    dirs: HashSet<PathBuf>,
}

impl Builder {
    fn new(staging: &Path) -> Self {
        Self {
            staging: staging.to_owned(),
            opens: Vec::new(),
            steps: Vec::new(),
            dirs: HashSet::from([PathBuf::from("/")]),
        }
    }

    /// `first`, then the sources opened, then the steps, with one slot per source.
    fn into_plan(self, mut first: Vec<Step>) -> RootfsPlan {
        let slots = self.opens.iter().map(|_| AtomicI32::new(-1)).collect();
        first.extend(self.opens);
        first.extend(self.steps);
        RootfsPlan { steps: first, slots }
    }

    /// The program's read-only binds, shallow targets first (so `/opt` is
    /// mounted before `/opt/extensions`), and its working directory.
    fn program_binds(&mut self, mounts: &[BindMount], cwd: &Path) -> Result<(), SandboxError> {
        let mut mounts: Vec<_> = mounts.iter().collect();
        mounts.sort_by_key(|m| m.target.components().count());
        for mount in mounts {
            self.bind(&mount.source, &mount.target, READ_ONLY)?;
        }
        self.mkdir_all(cwd)
    }

    /// Closes the sources, pivots into the new root and makes it read-only.
    fn finish(&mut self) -> Result<(), SandboxError> {
        let new_root = cstring(&self.staging)?;
        self.steps.push(Step::CloseSources);
        self.steps.push(Step::PivotRoot { new_root });
        self.steps.push(Step::ReadOnly { target: c"/dev".to_owned() });
        self.steps.push(Step::ReadOnly { target: c"/".to_owned() });
        Ok(())
    }

    /// Where the sandbox path `inside` is before `pivot_root`.
    fn inside(&self, inside: &Path) -> Result<CString, SandboxError> {
        match inside.strip_prefix("/") {
            Ok(relative) if relative.as_os_str().is_empty() => cstring(&self.staging),
            Ok(relative) => cstring(&self.staging.join(relative)),
            Err(_) => cstring(&self.staging.join(inside)),
        }
    }

    fn mkdir_all(&mut self, inside: &Path) -> Result<(), SandboxError> {
        let mut missing: Vec<&Path> =
            inside.ancestors().take_while(|p| !self.dirs.contains(&p.to_path_buf())).collect();
        missing.reverse();
        for dir in missing {
            let path = self.inside(dir)?;
            self.steps.push(Step::Mkdir { path });
            self.dirs.insert(dir.to_owned());
        }
        Ok(())
    }

    fn tmpfs(&mut self, inside: &Path, flags: MsFlags, data: &str) -> Result<(), SandboxError> {
        let target = self.inside(inside)?;
        let data = CString::new(data).map_err(|_| SpecError::NulByte { field: "tmpfs options" })?;
        self.steps.push(Step::Tmpfs { target, flags, data });
        Ok(())
    }

    fn symlink(&mut self, target: &Path, link: &Path) -> Result<(), SandboxError> {
        if let Some(parent) = link.parent() {
            self.mkdir_all(parent)?;
        }
        let step = Step::Symlink { target: cstring(target)?, link: self.inside(link)? };
        self.steps.push(step);
        Ok(())
    }

    /// Copies a host symlink as a symlink, binds anything else, skips
    /// what the host does not have.
    fn mirror(&mut self, host: &Path, inside: &Path, attrs: u64) -> Result<(), SandboxError> {
        let inspect = |source| SandboxError::InspectHostPath { path: host.to_owned(), source };
        match fs::symlink_metadata(host) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(inspect(e)),
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = fs::read_link(host).map_err(inspect)?;
                self.symlink(&target, inside)
            }
            Ok(_) => self.bind(host, inside, attrs),
        }
    }

    fn bind(&mut self, host: &Path, inside: &Path, attrs: u64) -> Result<(), SandboxError> {
        let is_dir = fs::metadata(host)
            .map_err(|source| SandboxError::OpenBindSource { path: host.to_owned(), source })?
            .is_dir();
        if is_dir {
            self.mkdir_all(inside)?;
        } else {
            if let Some(parent) = inside.parent() {
                self.mkdir_all(parent)?;
            }
            let path = self.inside(inside)?;
            self.steps.push(Step::Touch { path });
        }
        let source = cstring(host)?;
        let slot = self.opens.len();
        self.opens.push(Step::OpenSource { path: source.clone(), slot });
        let target = self.inside(inside)?;
        self.steps.push(Step::Bind { source, slot, target, attrs });
        Ok(())
    }
}

/// The allow-listed names present in the host's `/etc`, sorted, without
/// the generated ones. `prefix*` patterns match by prefix.
fn etc_names(etc: &Path, patterns: &[String]) -> Result<Vec<String>, SandboxError> {
    let mut names: Vec<String> = Vec::new();
    let prefixes: Vec<&str> = patterns.iter().filter_map(|p| p.strip_suffix('*')).collect();
    if !prefixes.is_empty() {
        let entries =
            fs::read_dir(etc).map_err(|source| SandboxError::InspectHostPath { path: etc.to_owned(), source })?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if prefixes.iter().any(|p| name.starts_with(p)) {
                names.push(name);
            }
        }
    }
    names.extend(patterns.iter().filter(|p| !p.ends_with('*') && !p.contains('/')).cloned());
    names.retain(|n| !GENERATED_ETC.contains(&n.as_str()) && !n.is_empty() && n != "." && n != "..");
    names.sort();
    names.dedup();
    Ok(names)
}

/// `/etc/passwd`, `group`, `hosts` and `hostname` for the sandbox's one user.
fn generated_etc(spec: &SandboxSpec) -> [(&'static str, String); 4] {
    let (uid, gid) = (spec.identity.sandbox_uid, spec.identity.sandbox_gid);
    let mut passwd = String::from("root:x:0:0:root:/root:/usr/sbin/nologin\n");
    let mut group = String::from("root:x:0:\n");
    if uid != 0 {
        passwd.push_str(&format!("sbx_user:x:{uid}:{gid}:sandbox user:/tmp:/usr/sbin/nologin\n"));
    }
    if gid != 0 {
        group.push_str(&format!("sbx_user:x:{gid}:\n"));
    }
    passwd.push_str("nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n");
    group.push_str("nogroup:x:65534:\n");
    let host = &spec.hostname;
    let hosts = format!("127.0.0.1\tlocalhost {host}\n::1\tlocalhost ip6-localhost ip6-loopback\n");
    [("passwd", passwd), ("group", group), ("hosts", hosts), ("hostname", format!("{host}\n"))]
}

fn cstring(path: &Path) -> Result<CString, SandboxError> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| SpecError::NulByte { field: "path" }.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Identity, Limits};

    fn spec(host: &Path) -> SandboxSpec {
        let (r, w) = nix::unistd::pipe().unwrap();
        let mut rootfs = RootfsConfig { etc_dir: host.join("etc"), staging_dir: "/stage".into(), ..Default::default() };
        rootfs.system_dirs = vec![host.join("usr"), host.join("lib"), host.join("nonexistent")];
        rootfs.etc_entries = vec!["ssl".into(), "java-*".into(), "passwd".into(), "missing".into()];
        SandboxSpec {
            id: "t".into(),
            argv: vec!["/bin/true".into()],
            env: vec![],
            cwd: "/var/task".into(),
            mounts: vec![
                BindMount { source: host.join("code"), target: "/var/task".into() },
                BindMount { source: host.join("code/f"), target: "/opt/data/f".into() },
            ],
            tmp_size_bytes: 1 << 20,
            limits: Limits::default(),
            identity: Identity { sandbox_uid: 993, sandbox_gid: 990, host_uid: 993, host_gid: 990 },
            hostname: "box".into(),
            rootfs,
            stdout: r,
            stderr: w,
        }
    }

    fn fake_host() -> tempfile::TempDir {
        let host = tempfile::tempdir().unwrap();
        let p = host.path();
        for dir in ["usr", "etc/ssl", "etc/java-17-openjdk", "code"] {
            fs::create_dir_all(p.join(dir)).unwrap();
        }
        std::os::unix::fs::symlink("usr/lib", p.join("lib")).unwrap();
        fs::write(p.join("etc/passwd"), "host users").unwrap();
        fs::write(p.join("etc/shadow"), "secret").unwrap();
        fs::write(p.join("code/f"), "x").unwrap();
        host
    }

    fn described(plan: &RootfsPlan) -> Vec<String> {
        plan.steps.iter().map(Step::describe).collect()
    }

    #[test]
    fn plans_a_tree_from_the_host_and_the_spec() {
        let host = fake_host();
        let spec = spec(host.path());
        let plan = plan(&spec, false).unwrap();
        let steps = described(&plan);
        let has = |s: &str| steps.iter().any(|d| d == s);

        assert_eq!(steps[0], "make / a slave mount");
        assert!(has("mount tmpfs (mode=0755,size=1m) on /stage"));
        // System directories keep their host path inside.
        let lib = format!("symlink /stage{}/lib -> usr/lib", host.path().display());
        assert!(has(&lib), "{steps:#?}");
        assert!(has("mkdir /stage/etc/java-17-openjdk"), "{steps:#?}");
        assert!(has("write /stage/etc/passwd"));
        assert!(has("mount proc on /stage/proc"));
        assert!(has("mount tmpfs (mode=1777,size=1048576) on /stage/tmp"));
        assert!(has("symlink /stage/dev/fd -> /proc/self/fd"));
        assert!(has("create mount point /stage/opt/data/f"), "{steps:#?}");
        assert!(has("mkdir /stage/var/task"));
        assert!(!steps.iter().any(|d| d.contains("shadow") || d.contains("nonexistent") || d.contains("missing")));
        // The host's passwd is never bound: it is generated.
        assert!(!steps.iter().any(|d| d.starts_with("bind") && d.ends_with("/etc/passwd")));
        let tail: Vec<_> = steps.iter().rev().take(3).rev().cloned().collect();
        assert_eq!(tail, ["pivot_root into /stage", "make /dev read-only", "make / read-only"]);

        // One source slot per bind: usr, ssl, java-17-openjdk, code, code/f, and the devices the host has.
        let binds = plan.steps.iter().filter(|s| matches!(s, Step::Bind { .. })).count();
        assert_eq!(binds, plan.slots.len());
        // Every source is opened before the staging tmpfs can hide it.
        let first_tmpfs = plan.steps.iter().position(|s| matches!(s, Step::Tmpfs { .. })).unwrap();
        let last_open = plan.steps.iter().rposition(|s| matches!(s, Step::OpenSource { .. })).unwrap();
        assert!(last_open < first_tmpfs);
        let devices = DEVICES.iter().filter(|d| Path::new("/dev").join(d).exists()).count();
        assert_eq!(binds, 5 + devices);
    }

    #[test]
    fn parents_are_created_once_and_before_their_children() {
        let host = fake_host();
        let plan = plan(&spec(host.path()), false).unwrap();
        let mkdirs: Vec<String> = described(&plan).into_iter().filter(|d| d.starts_with("mkdir")).collect();
        let mut unique = mkdirs.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), mkdirs.len(), "{mkdirs:#?}");
        let pos = |s: &str| mkdirs.iter().position(|d| d == s).unwrap();
        assert!(pos("mkdir /stage/opt") < pos("mkdir /stage/opt/data"));
        assert!(pos("mkdir /stage/var") < pos("mkdir /stage/var/task"));
    }

    #[test]
    fn a_missing_bind_source_names_its_path() {
        let host = fake_host();
        let mut spec = spec(host.path());
        spec.mounts.push(BindMount { source: host.path().join("absent"), target: "/var/runtime".into() });
        match plan(&spec, false) {
            Err(SandboxError::OpenBindSource { path, .. }) => assert_eq!(path, host.path().join("absent")),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn a_spare_root_leaves_the_program_binds_and_the_pivot_to_its_late_plan() {
        let host = fake_host();
        let spec = spec(host.path());
        let base = described(&plan(&spec, true).unwrap());
        assert!(!base.iter().any(|d| d.contains("var/task") || d.contains("pivot_root")), "{base:#?}");
        assert_eq!(base.last().map(String::as_str), Some("close the bind sources"));

        let late = plan_late(&spec.rootfs, &spec.mounts, &spec.cwd, Some(2 << 20)).unwrap();
        let steps = described(&late);
        assert_eq!(steps[0], format!("open bind source {}", host.path().join("code").display()));
        assert!(steps.contains(&"remount /stage/tmp (size=2097152)".to_owned()), "{steps:#?}");
        assert!(steps.contains(&"mkdir /stage/var/task".to_owned()));
        let tail: Vec<_> = steps.iter().rev().take(4).rev().cloned().collect();
        assert_eq!(
            tail,
            ["close the bind sources", "pivot_root into /stage", "make /dev read-only", "make / read-only"]
        );
        assert_eq!(late.slots.len(), 2);

        let hidden = [BindMount { source: "/stage/x".into(), target: "/var/task".into() }];
        assert!(matches!(plan_late(&spec.rootfs, &hidden, &spec.cwd, None), Err(SandboxError::OpenBindSource { .. })));
    }

    #[test]
    fn generated_etc_names_the_sandbox_user() {
        let host = fake_host();
        let files = generated_etc(&spec(host.path()));
        assert!(files[0].1.contains("sbx_user:x:993:990:"));
        assert!(files[1].1.contains("sbx_user:x:990:"));
        assert!(files[2].1.starts_with("127.0.0.1\tlocalhost box\n"));
        assert_eq!(files[3].1, "box\n");
    }
}
