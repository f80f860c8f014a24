//! The sandbox's init (pid 1, with the program as pid 2): the program can
//! signal itself to death as on any Linux host, orphans are reaped,
//! termination signals sent to the sandbox reach the program, and the
//! sandbox ends with its program, reporting the program's own status.

mod common;

use std::io::{BufRead, BufReader};
use std::time::Duration;

use common::{eventually, sh};
use lambdabox_sandbox::{ExitStatus, Pid, Sandbox};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::Signal;

#[test]
fn a_program_that_signals_itself_dies_of_the_signal() {
    let cases = [
        ("kill-self", "kill -KILL $$; sleep 5", ExitStatus::Signaled(Signal::SIGKILL)),
        ("term-self", "kill -TERM $$; sleep 5", ExitStatus::Signaled(Signal::SIGTERM)),
        ("exit-7", "exit 7", ExitStatus::Exited(7)),
    ];
    for (name, script, expected) in cases {
        let (spec, out, err) = sh(name, script);
        let output = common::run(spec, out, err);
        assert_eq!(output.status, expected, "{script}: stderr: {}", output.stderr);
    }
}

#[test]
fn abort_ends_the_program_with_sigabrt() {
    let (mut spec, out, err) = sh("abort", "");
    spec.argv = vec!["/usr/bin/python3".into(), "-c".into(), "import os; os.abort()".into()];
    let output = common::run(spec, out, err);
    assert_eq!(output.status, ExitStatus::Signaled(Signal::SIGABRT), "stderr: {}", output.stderr);
}

#[test]
fn the_program_cannot_kill_its_init() {
    // From inside the namespace, the kernel drops SIGKILL and SIGSTOP to
    // pid 1; the init lives on to report the program's status.
    let output = common::run_sh("kill-init", "kill -KILL 1; kill -STOP 1; echo alive");
    assert_eq!(output.stdout, "alive\n");
}

/// The sandbox's processes in state Z.
fn zombies(sandbox: &Sandbox) -> Vec<Pid> {
    let state = |pid: &Pid| {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        stat.rsplit_once(')').and_then(|(_, rest)| rest.trim_start().chars().next())
    };
    sandbox.processes().unwrap().into_iter().filter(|pid| state(pid) == Some('Z')).collect()
}

#[test]
fn orphans_are_reaped() {
    // Each subshell exits at once, orphaning its background /bin/true; the
    // program then becomes a `sleep` that never waits for anything. Only
    // the init can reap the orphans.
    let script = "for i in $(seq 50); do (/bin/true &); done; echo spawned; exec /bin/sleep 600";
    let (spec, out, err) = sh("orphans", script);
    let mut sandbox = Sandbox::create(spec, &common::cgroups()).unwrap();
    let _stderr = common::drain(err);
    sandbox.start().unwrap();
    let mut line = String::new();
    BufReader::new(out).read_line(&mut line).unwrap();
    assert_eq!(line, "spawned\n");

    let settled =
        eventually(Duration::from_secs(10), || zombies(&sandbox).is_empty() && sandbox.processes().unwrap().len() == 2);
    let pids = sandbox.processes().unwrap();
    assert!(settled, "zombies {:?} among {pids:?}", zombies(&sandbox));
    assert!(pids.contains(&sandbox.pid()), "the init and the sleep remain: {pids:?}");
    sandbox.kill().unwrap();
}

#[test]
fn termination_signals_sent_to_the_sandbox_reach_the_program() {
    for signal in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP, Signal::SIGUSR1, Signal::SIGUSR2] {
        let (mut spec, out, err) = sh(&format!("forward-{}", signal as i32), "");
        spec.argv = vec!["/bin/sleep".into(), "600".into()];
        let mut sandbox = Sandbox::create(spec, &common::cgroups()).unwrap();
        let (_out, _err) = (common::drain(out), common::drain(err));
        sandbox.start().unwrap();
        // The init is our unreaped child: its pid cannot have been recycled.
        nix::sys::signal::kill(sandbox.pid(), signal).unwrap();
        assert_eq!(sandbox.wait().unwrap(), ExitStatus::Signaled(signal));
    }
}

#[test]
fn the_sandbox_ends_with_its_program() {
    let (spec, out, err) = sh("ends-with-program", "/bin/sleep 600 & /bin/sleep 600 & exit 5");
    let mut sandbox = Sandbox::create(spec, &common::cgroups()).unwrap();
    let (_out, _err) = (common::drain(out), common::drain(err));
    sandbox.start().unwrap();
    let mut fds = [PollFd::new(sandbox.pidfd(), PollFlags::POLLIN)];
    assert_eq!(poll(&mut fds, PollTimeout::from(10_000u16)).unwrap(), 1, "the pidfd never became readable");
    assert_eq!(sandbox.try_wait().unwrap(), Some(ExitStatus::Exited(5)));
    // The background sleeps died with the namespace, before the init's
    // exit was visible.
    assert_eq!(sandbox.processes().unwrap(), Vec::<Pid>::new());
    sandbox.kill().unwrap();
}

// Elsewhere the init keeps the caller's memory (see `init::memory`).
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
#[test]
fn the_init_gives_back_its_copy_of_the_callers_memory() {
    // 64 MiB of this process's heap, every page written: the init begins
    // by sharing all of it copy-on-write.
    let ballast = std::hint::black_box(vec![1u8; 64 << 20]);
    // Anonymous memory in KiB, shared copy-on-write pages included.
    let anonymous_kib = |pid: Pid| -> u64 {
        let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap();
        let line = rollup.lines().find(|l| l.starts_with("Anonymous:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    let (mut spec, out, err) = sh("init-memory", "");
    spec.argv = vec!["/bin/sleep".into(), "600".into()];
    let mut sandbox = Sandbox::create(spec, &common::cgroups()).unwrap();
    let (_out, _err) = (common::drain(out), common::drain(err));
    sandbox.start().unwrap();
    let released = eventually(Duration::from_secs(10), || anonymous_kib(sandbox.pid()) < 8 << 10);
    assert!(released, "the init still maps {} KiB of anonymous memory", anonymous_kib(sandbox.pid()));
    // And it still does its job.
    nix::sys::signal::kill(sandbox.pid(), Signal::SIGTERM).unwrap();
    assert_eq!(sandbox.wait().unwrap(), ExitStatus::Signaled(Signal::SIGTERM));
    drop(std::hint::black_box(ballast));
}
