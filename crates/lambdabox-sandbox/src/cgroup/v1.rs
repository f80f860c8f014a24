//! cgroup v1: one hierarchy per controller, mounted at `root/<controller>`;
//! the sandbox gets `root/<controller>/<parent>/<id>` in each of memory,
//! pids, cpu and freezer.

use std::path::{Path, PathBuf};

use nix::unistd::Pid;

use super::{
    CgroupConfig, CgroupError, NumberFile, SETTLE_TIMEOUT, create_leaf, create_parent, keyed_value, poll_until, read,
    weight_to_shares, write,
};
use crate::spec::Limits;

/// The controllers a sandbox is placed in, in the order of [`CgroupV1::dirs`].
const CONTROLLERS: [&str; 4] = ["memory", "pids", "cpu", "freezer"];
const MEMORY: usize = 0;
const PIDS: usize = 1;
const CPU: usize = 2;
const FREEZER: usize = 3;

#[derive(Debug)]
pub(crate) struct CgroupV1 {
    dirs: [PathBuf; 4],
    peak: NumberFile,
}

impl CgroupV1 {
    pub(crate) fn create(config: &CgroupConfig, id: &str, limits: &Limits) -> Result<Self, CgroupError> {
        let dirs = CONTROLLERS.map(|c| config.root.join(c).join(&config.parent).join(id));
        let mut created: Vec<&Path> = Vec::with_capacity(dirs.len());
        let result = (|| {
            for (controller, dir) in CONTROLLERS.iter().zip(&dirs) {
                let hierarchy = config.root.join(controller);
                if !hierarchy.is_dir() {
                    return Err(CgroupError::ControllerUnavailable { controller, path: hierarchy });
                }
                if let Some(parent) = dir.parent() {
                    create_parent(parent)?;
                }
                create_leaf(dir)?;
                created.push(dir);
            }
            write_limits(&dirs, limits)
        })();
        if result.is_err() {
            for dir in created.iter().rev() {
                let _ = std::fs::remove_dir(dir);
            }
        }
        result.map(|()| Self::at(dirs.clone()))
    }

    /// The cgroups of an existing sandbox (one found after a restart).
    pub(crate) fn open(config: &CgroupConfig, id: &str) -> Self {
        Self::at(CONTROLLERS.map(|c| config.root.join(c).join(&config.parent).join(id)))
    }

    fn at(dirs: [PathBuf; 4]) -> Self {
        let peak = NumberFile::new(dirs[MEMORY].join("memory.max_usage_in_bytes"));
        Self { dirs, peak }
    }

    /// Where the sandboxes' cgroups are listed (the freezer hierarchy).
    pub(crate) fn parent_dir(config: &CgroupConfig) -> PathBuf {
        config.root.join(CONTROLLERS[FREEZER]).join(&config.parent)
    }

    /// The parent in every controller's hierarchy.
    pub(crate) fn parent_dirs(config: &CgroupConfig) -> Vec<PathBuf> {
        CONTROLLERS.iter().map(|c| config.root.join(c).join(&config.parent)).collect()
    }

    pub(crate) fn set_limits(&self, limits: &Limits) -> Result<(), CgroupError> {
        write_limits(&self.dirs, limits)
    }

    pub(crate) fn add_process(&self, pid: Pid) -> Result<(), CgroupError> {
        let pid = pid.to_string();
        for dir in &self.dirs {
            write(&dir.join("cgroup.procs"), &pid)?;
        }
        Ok(())
    }

    pub(crate) fn freeze(&self) -> Result<(), CgroupError> {
        let state = self.dirs[FREEZER].join("freezer.state");
        write(&state, "FROZEN")?;
        // FREEZING until every task has stopped.
        if poll_until(SETTLE_TIMEOUT, || Ok(read(&state)?.trim() == "FROZEN"))? {
            Ok(())
        } else {
            Err(CgroupError::FreezeTimeout { path: state, timeout: SETTLE_TIMEOUT })
        }
    }

    pub(crate) fn thaw(&self) -> Result<(), CgroupError> {
        write(&self.dirs[FREEZER].join("freezer.state"), "THAWED")
    }

    pub(crate) fn procs_file(&self) -> PathBuf {
        self.dirs[FREEZER].join("cgroup.procs")
    }

    pub(crate) fn memory_peak_bytes(&self) -> Option<u64> {
        self.peak.read()
    }

    /// `oom_kill` in `memory.oom_control` counts the tasks the memory
    /// cgroup's OOM killer killed (Linux 4.13+).
    pub(crate) fn oom_killed(&self) -> bool {
        read(&self.dirs[MEMORY].join("memory.oom_control"))
            .ok()
            .and_then(|text| keyed_value(&text, "oom_kill"))
            .is_some_and(|kills| kills > 0)
    }

    pub(crate) fn dirs(&self) -> &[PathBuf] {
        &self.dirs
    }
}

fn write_limits(dirs: &[PathBuf; 4], limits: &Limits) -> Result<(), CgroupError> {
    let memory = limits.memory_bytes.to_string();
    let limit = dirs[MEMORY].join("memory.limit_in_bytes");
    // memory+swap may only be limited when swap accounting is on; without
    // it, swappiness 0 keeps the cgroup's anonymous memory out of swap.
    let memsw = dirs[MEMORY].join("memory.memsw.limit_in_bytes");
    let swappiness = dirs[MEMORY].join("memory.swappiness");
    if memsw.exists() {
        // memory+swap may never be below memory: a raised limit (a spare's
        // assignment) needs memsw raised first.
        if write(&limit, &memory).is_ok() {
            write(&memsw, &memory)?;
        } else {
            write(&memsw, &memory)?;
            write(&limit, &memory)?;
        }
    } else if swappiness.exists() {
        write(&limit, &memory)?;
        write(&swappiness, "0")?;
    } else {
        write(&limit, &memory)?;
    }
    write(&dirs[PIDS].join("pids.max"), &limits.pids_max.to_string())?;
    write(&dirs[CPU].join("cpu.shares"), &weight_to_shares(limits.cpu_weight).to_string())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;
    use crate::cgroup::{Cgroup, CgroupVersion};

    fn fake_root() -> (tempfile::TempDir, CgroupConfig) {
        let dir = tempfile::tempdir().unwrap();
        for c in CONTROLLERS {
            fs::create_dir(dir.path().join(c)).unwrap();
        }
        let config = CgroupConfig { root: dir.path().to_owned(), parent: "lb".into(), version: CgroupVersion::V1 };
        (dir, config)
    }

    const LIMITS: Limits = Limits { memory_bytes: 64 << 20, pids_max: 32, cpu_weight: 200 };

    #[test]
    fn creates_one_cgroup_per_controller_with_the_limits() {
        let (dir, config) = fake_root();
        let cg = Cgroup::create(&config, "sb-1", &LIMITS).unwrap();
        let root = dir.path();
        let expected: Vec<PathBuf> = CONTROLLERS.iter().map(|c| root.join(c).join("lb/sb-1")).collect();
        assert_eq!(cg.dirs(), expected);
        let file = |p: &str| fs::read_to_string(root.join(p)).unwrap();
        assert_eq!(file("memory/lb/sb-1/memory.limit_in_bytes"), "67108864");
        assert_eq!(file("pids/lb/sb-1/pids.max"), "32");
        assert_eq!(file("cpu/lb/sb-1/cpu.shares"), "2048");

        cg.add_process(Pid::from_raw(4242)).unwrap();
        for c in CONTROLLERS {
            assert_eq!(file(&format!("{c}/lb/sb-1/cgroup.procs")), "4242");
        }
        assert_eq!(cg.procs().unwrap(), vec![Pid::from_raw(4242)]);
    }

    #[test]
    fn freeze_and_thaw_write_the_freezer_state() {
        let (dir, config) = fake_root();
        let cg = Cgroup::create(&config, "sb-1", &LIMITS).unwrap();
        let state = dir.path().join("freezer/lb/sb-1/freezer.state");
        cg.freeze().unwrap();
        assert_eq!(fs::read_to_string(&state).unwrap(), "FROZEN");
        cg.thaw().unwrap();
        assert_eq!(fs::read_to_string(&state).unwrap(), "THAWED");
    }

    #[test]
    fn reads_oom_kills_and_peak_from_the_memory_cgroup() {
        let (dir, config) = fake_root();
        let cg = Cgroup::create(&config, "sb-1", &LIMITS).unwrap();
        assert!(!cg.oom_killed());
        assert_eq!(cg.memory_peak_bytes(), None);
        let memory = dir.path().join("memory/lb/sb-1");
        fs::write(memory.join("memory.oom_control"), "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n").unwrap();
        fs::write(memory.join("memory.max_usage_in_bytes"), "1048576\n").unwrap();
        assert!(cg.oom_killed());
        assert_eq!(cg.memory_peak_bytes(), Some(1 << 20));
    }

    #[test]
    fn a_missing_controller_fails_and_leaves_nothing_behind() {
        let (dir, config) = fake_root();
        fs::remove_dir(dir.path().join("freezer")).unwrap();
        let err = Cgroup::create(&config, "sb-1", &LIMITS).unwrap_err();
        assert!(matches!(err, CgroupError::ControllerUnavailable { controller: "freezer", .. }), "{err:?}");
        // The limit files were never written, so the earlier leaves are empty and removed.
        for c in ["memory", "pids", "cpu"] {
            assert!(!dir.path().join(c).join("lb/sb-1").exists(), "{c} left behind");
        }
    }

    #[test]
    fn an_existing_sandbox_cgroup_is_not_adopted() {
        let (dir, config) = fake_root();
        fs::create_dir_all(dir.path().join("pids/lb/sb-1")).unwrap();
        let err = Cgroup::create(&config, "sb-1", &LIMITS).unwrap_err();
        assert!(matches!(err, CgroupError::AlreadyExists { .. }), "{err:?}");
        assert!(!dir.path().join("memory/lb/sb-1").exists());
    }
}
