//! The cgroup side of a sandbox: freezing, the memory limit's OOM kill,
//! and the pids limit against a fork bomb.

mod common;

use std::io::{BufRead, BufReader};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use common::{eventually, sh};
use lambdabox_sandbox::{ExitStatus, Limits, Sandbox};
use nix::sys::signal::Signal;

#[test]
fn freeze_stops_every_process_and_thaw_resumes_them() {
    let script = "i=0; while :; do i=$((i+1)); echo $i; /bin/sleep 0.01; done";
    let (spec, out, err) = sh("freeze", script);
    let mut sandbox = Sandbox::create(spec, &common::cgroups()).unwrap();
    let _stderr = common::drain(err);
    sandbox.start().unwrap();

    let count = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&count);
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            if line.is_err() {
                break;
            }
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    let lines = || count.load(Ordering::SeqCst);
    assert!(eventually(Duration::from_secs(10), || lines() >= 3), "the counter never ran");

    sandbox.freeze().unwrap();
    // Let the reader drain what was written before the freeze, then watch.
    std::thread::sleep(Duration::from_millis(100));
    let frozen_at = lines();
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(lines(), frozen_at, "output grew while frozen");

    sandbox.thaw().unwrap();
    assert!(eventually(Duration::from_secs(10), || lines() > frozen_at + 2), "output did not resume after thaw");
    sandbox.kill().unwrap();
}

#[test]
fn exceeding_the_memory_limit_is_an_oom_kill() {
    let (mut spec, out, err) = sh("oom", "");
    spec.argv =
        vec!["/usr/bin/python3".into(), "-S".into(), "-c".into(), "b = bytearray(256 << 20); print('survived')".into()];
    spec.limits = Limits { memory_bytes: 48 << 20, ..spec.limits };
    let mut sandbox = Sandbox::create(spec, &common::cgroups()).unwrap();
    let (out, _err) = (common::drain(out), common::drain(err));
    sandbox.start().unwrap();
    let status = sandbox.wait().unwrap();
    assert_eq!(status, ExitStatus::Signaled(Signal::SIGKILL));
    assert_eq!(out.join().unwrap(), "");
    assert!(sandbox.oom_killed(), "the cgroup does not report the OOM kill");
    let peak = sandbox.memory_peak_bytes().expect("peak memory is reported");
    assert!(peak > 8 << 20 && peak <= 48 << 20, "peak {peak}");
    sandbox.kill().unwrap();
}

#[test]
fn a_process_within_its_limit_is_not_oom_killed() {
    let (mut spec, out, err) = sh("no-oom", "");
    spec.argv = vec!["/usr/bin/python3".into(), "-S".into(), "-c".into(), "b = bytearray(8 << 20)".into()];
    let mut sandbox = Sandbox::create(spec, &common::cgroups()).unwrap();
    let (_out, _err) = (common::drain(out), common::drain(err));
    sandbox.start().unwrap();
    assert_eq!(sandbox.wait().unwrap(), ExitStatus::Exited(0));
    assert!(!sandbox.oom_killed());
}

#[test]
fn the_pids_limit_contains_a_fork_bomb() {
    const PIDS_MAX: u32 = 24;
    let (mut spec, out, err) = sh("forkbomb", "");
    // Every process forks forever and shrugs off failures (dash would exit
    // on a failed fork, so a shell bomb can die out by itself).
    let bomb = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n";
    spec.argv = vec!["/usr/bin/python3".into(), "-S".into(), "-c".into(), bomb.into()];
    spec.limits = Limits { pids_max: PIDS_MAX, ..spec.limits };
    let mut sandbox = Sandbox::create(spec, &common::cgroups()).unwrap();
    let (_out, _err) = (common::drain(out), common::drain(err));
    sandbox.start().unwrap();

    let count = |s: &Sandbox| s.processes().unwrap().len();
    assert!(
        eventually(Duration::from_secs(20), || count(&sandbox) + 4 >= PIDS_MAX as usize),
        "the bomb never reached the limit: {} processes",
        count(&sandbox)
    );
    for _ in 0..20 {
        let n = count(&sandbox);
        assert!(n <= PIDS_MAX as usize, "{n} processes exceed pids.max {PIDS_MAX}");
        std::thread::sleep(Duration::from_millis(10));
    }
    // The host still forks and execs.
    assert!(std::process::Command::new("/bin/true").status().unwrap().success());

    let pids = sandbox.processes().unwrap();
    let dirs = sandbox.cgroup_dirs();
    sandbox.kill().unwrap();
    assert!(pids.iter().all(|&p| !common::alive(p)), "a bomb process survived kill");
    assert!(dirs.iter().all(|d| !d.exists()), "cgroups left behind");
}

#[test]
fn per_process_resource_limits_are_awss_and_cannot_be_raised() {
    let script = r#"
import resource
for name in ("NOFILE", "NPROC", "CORE", "MSGQUEUE"):
    print(name, *resource.getrlimit(getattr(resource, "RLIMIT_" + name)))
try:
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
    print("raised")
except (ValueError, OSError):
    print("refused")
"#;
    let (mut spec, out, err) = common::sh("rlimits", "");
    spec.argv = vec!["/usr/bin/python3".into(), "-S".into(), "-c".into(), script.into()];
    let output = common::run(spec, out, err);
    assert_eq!(
        output.stdout, "NOFILE 1024 1024\nNPROC 1024 1024\nCORE 0 0\nMSGQUEUE 819200 819200\nrefused\n",
        "stderr: {}",
        output.stderr
    );
}
