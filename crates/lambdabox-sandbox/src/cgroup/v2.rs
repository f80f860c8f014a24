//! cgroup v2: the unified hierarchy; the sandbox gets `root/<parent>/<id>`
//! with `memory.max`, `memory.swap.max`, `pids.max`, `cpu.weight`, and the
//! core `cgroup.freeze` and `cgroup.kill`.

use std::path::{Path, PathBuf};

use nix::unistd::Pid;

use super::{
    CgroupConfig, CgroupError, NumberFile, SETTLE_TIMEOUT, create_leaf, create_parent, keyed_value, poll_until, read,
    write,
};
use crate::spec::Limits;

/// The controllers the limits need, enabled from the root down to the parent.
const CONTROLLERS: [&str; 3] = ["memory", "pids", "cpu"];

#[derive(Debug)]
pub(crate) struct CgroupV2 {
    dir: PathBuf,
    peak: NumberFile,
}

impl CgroupV2 {
    pub(crate) fn create(config: &CgroupConfig, id: &str, limits: &Limits) -> Result<Self, CgroupError> {
        let available_file = config.root.join("cgroup.controllers");
        let available = read(&available_file)?;
        for controller in CONTROLLERS {
            if !available.split_whitespace().any(|c| c == controller) {
                return Err(CgroupError::ControllerUnavailable { controller, path: available_file });
            }
        }
        let parent = config.root.join(&config.parent);
        create_parent(&parent)?;
        enable_controllers(&config.root, &parent)?;

        let dir = parent.join(id);
        create_leaf(&dir)?;
        if let Err(e) = write_limits(&dir, limits) {
            let _ = std::fs::remove_dir(&dir);
            return Err(e);
        }
        Ok(Self::at(dir))
    }

    /// The cgroup of an existing sandbox (one found after a restart).
    pub(crate) fn open(config: &CgroupConfig, id: &str) -> Self {
        Self::at(Self::parent_dir(config).join(id))
    }

    fn at(dir: PathBuf) -> Self {
        let peak = NumberFile::new(dir.join("memory.peak"));
        Self { dir, peak }
    }

    pub(crate) fn parent_dir(config: &CgroupConfig) -> PathBuf {
        config.root.join(&config.parent)
    }

    pub(crate) fn set_limits(&self, limits: &Limits) -> Result<(), CgroupError> {
        write_limits(&self.dir, limits)
    }

    pub(crate) fn add_process(&self, pid: Pid) -> Result<(), CgroupError> {
        write(&self.dir.join("cgroup.procs"), &pid.to_string())
    }

    pub(crate) fn freeze(&self) -> Result<(), CgroupError> {
        write(&self.dir.join("cgroup.freeze"), "1")?;
        let events = self.dir.join("cgroup.events");
        if poll_until(SETTLE_TIMEOUT, || Ok(keyed_value(&read(&events)?, "frozen") == Some(1)))? {
            Ok(())
        } else {
            Err(CgroupError::FreezeTimeout { path: events, timeout: SETTLE_TIMEOUT })
        }
    }

    pub(crate) fn thaw(&self) -> Result<(), CgroupError> {
        write(&self.dir.join("cgroup.freeze"), "0")
    }

    /// `cgroup.kill` (Linux 5.14+) SIGKILLs every task, frozen or not.
    pub(crate) fn kill_all(&self) -> Result<bool, CgroupError> {
        let kill = self.dir.join("cgroup.kill");
        if !kill.exists() {
            return Ok(false);
        }
        write(&kill, "1")?;
        Ok(true)
    }

    pub(crate) fn procs_file(&self) -> PathBuf {
        self.dir.join("cgroup.procs")
    }

    /// `memory.peak` exists since Linux 5.19.
    pub(crate) fn memory_peak_bytes(&self) -> Option<u64> {
        self.peak.read()
    }

    pub(crate) fn oom_killed(&self) -> bool {
        read(&self.dir.join("memory.events"))
            .ok()
            .and_then(|text| keyed_value(&text, "oom_kill"))
            .is_some_and(|kills| kills > 0)
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }
}

/// Enables the controllers in `subtree_control` of the root and of every
/// level down to (and including) the parent, so the sandbox's cgroup has them.
fn enable_controllers(root: &Path, parent: &Path) -> Result<(), CgroupError> {
    let value = CONTROLLERS.map(|c| format!("+{c}")).join(" ");
    let mut level = root.to_owned();
    write(&level.join("cgroup.subtree_control"), &value)?;
    for component in parent.strip_prefix(root).unwrap_or(Path::new("")).components() {
        level.push(component);
        let current = read(&level.join("cgroup.subtree_control")).unwrap_or_default();
        if CONTROLLERS.iter().all(|c| current.split_whitespace().any(|e| e == *c)) {
            continue;
        }
        write(&level.join("cgroup.subtree_control"), &value)?;
    }
    Ok(())
}

fn write_limits(dir: &Path, limits: &Limits) -> Result<(), CgroupError> {
    write(&dir.join("memory.max"), &limits.memory_bytes.to_string())?;
    // Absent when the kernel has no swap accounting: then there is no swap to limit.
    let swap = dir.join("memory.swap.max");
    if swap.exists() {
        write(&swap, "0")?;
    }
    write(&dir.join("pids.max"), &limits.pids_max.to_string())?;
    write(&dir.join("cpu.weight"), &limits.cpu_weight.to_string())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;
    use crate::cgroup::{Cgroup, CgroupVersion};

    const LIMITS: Limits = Limits { memory_bytes: 64 << 20, pids_max: 32, cpu_weight: 200 };

    fn fake_root(controllers: &str) -> (tempfile::TempDir, CgroupConfig) {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("cgroup.controllers"), controllers).unwrap();
        let config = CgroupConfig::detect(dir.path(), "lambdabox/pool").unwrap();
        assert_eq!(config.version, CgroupVersion::V2);
        (dir, config)
    }

    #[test]
    fn creates_the_cgroup_enables_controllers_and_writes_limits() {
        let (dir, config) = fake_root("cpuset cpu io memory hugetlb pids rdma misc\n");
        let cg = Cgroup::create(&config, "sb-1", &LIMITS).unwrap();
        let root = dir.path();
        assert_eq!(cg.dirs(), vec![root.join("lambdabox/pool/sb-1")]);
        let file = |p: &str| fs::read_to_string(root.join(p)).unwrap();
        for level in ["", "lambdabox/", "lambdabox/pool/"] {
            assert_eq!(file(&format!("{level}cgroup.subtree_control")), "+memory +pids +cpu");
        }
        assert_eq!(file("lambdabox/pool/sb-1/memory.max"), "67108864");
        assert_eq!(file("lambdabox/pool/sb-1/pids.max"), "32");
        assert_eq!(file("lambdabox/pool/sb-1/cpu.weight"), "200");
        cg.add_process(Pid::from_raw(77)).unwrap();
        assert_eq!(cg.procs().unwrap(), vec![Pid::from_raw(77)]);
    }

    #[test]
    fn a_missing_controller_is_reported_before_anything_is_created() {
        let (dir, config) = fake_root("cpu io pids\n");
        let err = Cgroup::create(&config, "sb-1", &LIMITS).unwrap_err();
        assert!(matches!(err, CgroupError::ControllerUnavailable { controller: "memory", .. }), "{err:?}");
        assert!(!dir.path().join("lambdabox").exists());
    }

    #[test]
    fn freeze_waits_for_the_frozen_event() {
        let (dir, config) = fake_root("cpu memory pids");
        let cg = Cgroup::create(&config, "sb-1", &LIMITS).unwrap();
        let leaf = dir.path().join("lambdabox/pool/sb-1");
        fs::write(leaf.join("cgroup.events"), "populated 1\nfrozen 1\n").unwrap();
        cg.freeze().unwrap();
        assert_eq!(fs::read_to_string(leaf.join("cgroup.freeze")).unwrap(), "1");
        cg.thaw().unwrap();
        assert_eq!(fs::read_to_string(leaf.join("cgroup.freeze")).unwrap(), "0");
    }

    #[test]
    fn kill_uses_cgroup_kill_only_where_the_kernel_has_it() {
        let (dir, config) = fake_root("cpu memory pids");
        let cg = Cgroup::create(&config, "sb-1", &LIMITS).unwrap();
        assert!(!cg.kill_all().unwrap());
        let kill = dir.path().join("lambdabox/pool/sb-1/cgroup.kill");
        fs::write(&kill, "0").unwrap();
        assert!(cg.kill_all().unwrap());
        assert_eq!(fs::read_to_string(kill).unwrap(), "1");
    }

    #[test]
    fn oom_kills_and_peak_come_from_memory_events_and_peak() {
        let (dir, config) = fake_root("cpu memory pids");
        let cg = Cgroup::create(&config, "sb-1", &LIMITS).unwrap();
        let leaf = dir.path().join("lambdabox/pool/sb-1");
        fs::write(leaf.join("memory.events"), "low 0\nhigh 0\nmax 3\noom 1\noom_kill 0\n").unwrap();
        assert!(!cg.oom_killed());
        fs::write(leaf.join("memory.events"), "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n").unwrap();
        assert!(cg.oom_killed());
        fs::write(leaf.join("memory.peak"), "4096\n").unwrap();
        assert_eq!(cg.memory_peak_bytes(), Some(4096));
    }
}
