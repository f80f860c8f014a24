//! Density: how many frozen environments of a small Python function fit in
//! memory. N Invokes are sent at once with an event that makes the handler
//! sleep until a common deadline, so N environments exist together; when
//! they are idle and frozen, each one's proportional set size (PSS, from
//! `/proc/PID/smaps_rollup`) is summed over its processes, and the server's
//! own growth and the host's `MemAvailable` drop are recorded beside it.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use serde::Serialize;

use crate::http::Conn;
use crate::server::{FunctionDef, Server, invoke, invoke_path};
use crate::stats::{Summary, median};

/// Sizes of a set of environments, in KiB.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct KibSummary {
    pub count: usize,
    pub median_kib: f64,
    pub mean_kib: f64,
    pub min_kib: f64,
    pub max_kib: f64,
}

impl KibSummary {
    fn of(samples: &[f64]) -> Self {
        let s = Summary::of_ms(samples);
        Self { count: s.count, median_kib: s.p50_ms, mean_kib: s.mean_ms, min_kib: s.min_ms, max_kib: s.max_ms }
    }
}

/// 24 GiB, the memory of the development machine, in KiB.
pub const MACHINE_KIB: u64 = 24 * 1024 * 1024;

#[derive(Debug, Clone, Serialize)]
pub struct DensityResult {
    pub requested: usize,
    /// Sandboxes (children of the server) alive after the burst.
    pub environments: usize,
    pub frozen: usize,
    pub invoke_errors: usize,
    /// Seconds from the first Invoke to the last response.
    pub burst_seconds: f64,
    /// PSS of one environment's processes.
    pub pss: KibSummary,
    pub total_pss_mib: f64,
    /// The server's own PSS growth, per environment, in KiB.
    pub server_kib_per_env: f64,
    /// `MemAvailable` drop per environment, in KiB: everything, kernel
    /// objects (page tables, cgroups, namespaces) included; noisy when
    /// other work runs on the machine.
    pub mem_available_kib_per_env: f64,
    /// Environments that fit in 24 GiB at sandbox PSS + server share.
    pub fit_24gib_by_pss: u64,
    /// Environments that fit in 24 GiB at the `MemAvailable` drop.
    pub fit_24gib_by_mem_available: u64,
}

/// Runs the density measurement with `count` environments on `server`.
pub async fn run(server: &mut Server, zip: &[u8], count: usize, proc_root: &Path) -> anyhow::Result<DensityResult> {
    let server_pid = server.pid().context("the server has exited")?;
    let name = "bench-density-python";
    server
        .create_function(&FunctionDef {
            name,
            runtime: "python3.11",
            handler: "app.handler",
            zip,
            memory_mb: 128,
            timeout_s: 900,
        })
        .await?;
    // One environment first, so the code is unpacked and the page cache warm.
    let path = invoke_path(name);
    let mut conn = Conn::connect(server.addr).await?;
    invoke(&mut conn, &path, b"{}", false).await?;
    server.retire_environments(name, "lambdabox-bench density").await?;
    drop(conn);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let server_before = pss_kib(proc_root, server_pid).unwrap_or(0);
    let available_before = mem_available_kib(proc_root).unwrap_or(0);

    // Hold every handler until all environments can have started: a Python
    // cold start costs a few tens of ms of CPU, on two cores.
    let hold = Duration::from_secs(3) + Duration::from_millis(60) * count as u32;
    let until_us = (SystemTime::now() + hold).duration_since(UNIX_EPOCH)?.as_micros();
    let payload = format!("{{\"until_us\":{until_us}}}");
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(count);
    for _ in 0..count {
        let addr = server.addr;
        let path = path.clone();
        let payload = payload.clone();
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::connect(addr).await?;
            invoke(&mut conn, &path, payload.as_bytes(), false).await
        }));
    }
    let mut invoke_errors = 0;
    let mut first_error = None;
    for task in tasks {
        if let Err(e) = task.await? {
            invoke_errors += 1;
            first_error.get_or_insert(e);
        }
    }
    let burst_seconds = started.elapsed().as_secs_f64();
    if let Some(e) = first_error {
        eprintln!("density: {invoke_errors} of {count} invokes failed; the first: {e:#}");
    }
    // Past the 50 ms freeze grace, and settled.
    tokio::time::sleep(Duration::from_millis(1000)).await;

    let tree = process_tree(proc_root);
    // Every environment is its init with the runtime below it. Not counted:
    // a spare sandbox (one process, waiting for a program) and a Python
    // zygote (a runtime waiting on a stdin pipe for its function).
    let waiting_on_a_pipe = |pid: &u32| {
        std::fs::read_link(proc_root.join(pid.to_string()).join("fd/0"))
            .is_ok_and(|target| target.to_string_lossy().starts_with("pipe:"))
    };
    let roots: Vec<u32> = children(proc_root, server_pid)
        .into_iter()
        .filter(|root| tree.get(root).is_some_and(|c| !c.is_empty() && !c.iter().any(waiting_on_a_pipe)))
        .collect();
    let mut per_env = Vec::with_capacity(roots.len());
    let mut frozen = 0;
    for root in &roots {
        let mut pids = vec![*root];
        descendants(&tree, *root, &mut pids);
        per_env.push(pids.iter().filter_map(|p| pss_kib(proc_root, *p)).sum::<u64>() as f64);
        if is_frozen(proc_root, Path::new("/sys/fs/cgroup"), *root) == Some(true) {
            frozen += 1;
        }
    }
    let server_after = pss_kib(proc_root, server_pid).unwrap_or(0);
    let available_after = mem_available_kib(proc_root).unwrap_or(0);
    let n = roots.len().max(1) as f64;
    let server_kib_per_env = (server_after as f64 - server_before as f64).max(0.0) / n;
    let mem_available_kib_per_env = (available_before as f64 - available_after as f64).max(0.0) / n;
    let pss_median = median(&per_env);
    let fit = |kib: f64| if kib > 0.0 { (MACHINE_KIB as f64 / kib) as u64 } else { 0 };
    Ok(DensityResult {
        requested: count,
        environments: roots.len(),
        frozen,
        invoke_errors,
        burst_seconds,
        pss: KibSummary::of(&per_env),
        total_pss_mib: per_env.iter().sum::<f64>() / 1024.0,
        server_kib_per_env,
        mem_available_kib_per_env,
        fit_24gib_by_pss: fit(pss_median + server_kib_per_env),
        fit_24gib_by_mem_available: fit(mem_available_kib_per_env),
    })
}

/// `parent pid → its children` over every process under `proc_root`.
pub fn process_tree(proc_root: &Path) -> HashMap<u32, Vec<u32>> {
    let mut tree: HashMap<u32, Vec<u32>> = HashMap::new();
    let Ok(entries) = std::fs::read_dir(proc_root) else { return tree };
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        if let Some(ppid) = parent_pid(proc_root, pid) {
            tree.entry(ppid).or_default().push(pid);
        }
    }
    tree
}

/// The direct children of `pid`.
pub fn children(proc_root: &Path, pid: u32) -> Vec<u32> {
    process_tree(proc_root).remove(&pid).unwrap_or_default()
}

fn descendants(tree: &HashMap<u32, Vec<u32>>, pid: u32, out: &mut Vec<u32>) {
    for child in tree.get(&pid).into_iter().flatten() {
        out.push(*child);
        descendants(tree, *child, out);
    }
}

/// The parent pid from `/proc/PID/stat` (the command name may hold spaces
/// and parentheses, so the fields are read after its last `)`).
fn parent_pid(proc_root: &Path, pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(proc_root.join(pid.to_string()).join("stat")).ok()?;
    parse_ppid(&stat)
}

fn parse_ppid(stat: &str) -> Option<u32> {
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(1)?.parse().ok()
}

/// A process's PSS in KiB, from `smaps_rollup`.
pub fn pss_kib(proc_root: &Path, pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(proc_root.join(pid.to_string()).join("smaps_rollup")).ok()?;
    field_kib(&text, "Pss:")
}

/// `MemAvailable` in KiB.
pub fn mem_available_kib(proc_root: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(proc_root.join("meminfo")).ok()?;
    field_kib(&text, "MemAvailable:")
}

fn field_kib(text: &str, name: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(name))?;
    line[name.len()..].split_whitespace().next()?.parse().ok()
}

/// Whether a process's cgroup is frozen: the v1 freezer's `freezer.state`,
/// or else the unified hierarchy's `cgroup.freeze`.
pub fn is_frozen(proc_root: &Path, cgroup_root: &Path, pid: u32) -> Option<bool> {
    let text = std::fs::read_to_string(proc_root.join(pid.to_string()).join("cgroup")).ok()?;
    let mut unified = None;
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        let path = path.trim_start_matches('/');
        if controllers.split(',').any(|c| c == "freezer") {
            let state = std::fs::read_to_string(cgroup_root.join("freezer").join(path).join("freezer.state")).ok()?;
            return Some(state.trim() == "FROZEN");
        }
        if controllers.is_empty() {
            unified = Some(path.to_owned());
        }
    }
    let path = unified?;
    let freeze = std::fs::read_to_string(cgroup_root.join(&path).join("cgroup.freeze"))
        .or_else(|_| std::fs::read_to_string(cgroup_root.join("unified").join(&path).join("cgroup.freeze")))
        .ok()?;
    Some(freeze.trim() == "1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_fake_proc() {
        let dir = tempfile::tempdir().unwrap();
        let proc_root = dir.path().join("proc");
        let cgroups = dir.path().join("cgroup");
        for (pid, ppid) in [(10, 1), (11, 10), (12, 10), (13, 12)] {
            let p = proc_root.join(pid.to_string());
            std::fs::create_dir_all(&p).unwrap();
            std::fs::write(p.join("stat"), format!("{pid} (a (b) c) S {ppid} 0 0")).unwrap();
            std::fs::write(p.join("smaps_rollup"), format!("Rss:  900 kB\nPss:  {} kB\n", pid * 100)).unwrap();
        }
        std::fs::write(proc_root.join("meminfo"), "MemTotal: 100 kB\nMemAvailable:   42 kB\n").unwrap();
        std::fs::write(proc_root.join("11/cgroup"), "6:freezer:/lambdabox/env-1\n0::/\n").unwrap();
        std::fs::create_dir_all(cgroups.join("freezer/lambdabox/env-1")).unwrap();
        std::fs::write(cgroups.join("freezer/lambdabox/env-1/freezer.state"), "FROZEN\n").unwrap();
        std::fs::write(proc_root.join("12/cgroup"), "0::/lambdabox/env-2\n").unwrap();
        std::fs::create_dir_all(cgroups.join("lambdabox/env-2")).unwrap();
        std::fs::write(cgroups.join("lambdabox/env-2/cgroup.freeze"), "0\n").unwrap();

        let mut kids = children(&proc_root, 10);
        kids.sort();
        assert_eq!(kids, vec![11, 12]);
        let mut all = Vec::new();
        descendants(&process_tree(&proc_root), 10, &mut all);
        all.sort();
        assert_eq!(all, vec![11, 12, 13]);
        assert_eq!(pss_kib(&proc_root, 13), Some(1300));
        assert_eq!(mem_available_kib(&proc_root), Some(42));
        assert_eq!(is_frozen(&proc_root, &cgroups, 11), Some(true));
        assert_eq!(is_frozen(&proc_root, &cgroups, 12), Some(false));
        assert_eq!(is_frozen(&proc_root, &cgroups, 13), None);
    }
}
