//! The life of a sandbox: exit statuses, the pidfd, start errors, and
//! clean-up by kill and by drop, including while frozen.

mod common;

use std::time::Duration;

use common::sh;
use lambdabox_sandbox::{BindMount, ExitStatus, Sandbox, SandboxError};
use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

#[test]
fn the_exit_code_is_reported_and_the_pidfd_signals_the_exit() {
    let (spec, out, err) = sh("exit", "exit 3");
    let mut sandbox = Sandbox::create(spec, &common::cgroups()).unwrap();
    let (_out, _err) = (common::drain(out), common::drain(err));
    assert_eq!(sandbox.try_wait().unwrap(), None, "created but not started");
    sandbox.start().unwrap();
    let mut fds = [PollFd::new(sandbox.pidfd(), PollFlags::POLLIN)];
    let ready = poll(&mut fds, PollTimeout::from(10_000u16)).unwrap();
    assert_eq!(ready, 1, "the pidfd never became readable");
    assert_eq!(sandbox.try_wait().unwrap(), Some(ExitStatus::Exited(3)));
    assert_eq!(sandbox.wait().unwrap(), ExitStatus::Exited(3));
}

#[test]
fn kill_leaves_no_process_and_no_cgroup() {
    let (spec, out, err) = sh("kill", "/bin/sleep 600 & /bin/sleep 600 & echo started; wait");
    let mut sandbox = Sandbox::create(spec, &common::cgroups()).unwrap();
    let _err = common::drain(err);
    sandbox.start().unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(out), &mut line).unwrap();
    assert_eq!(line, "started\n");
    let pids = sandbox.processes().unwrap();
    assert_eq!(pids.len(), 4, "the init, the shell and two sleeps: {pids:?}");
    let dirs = sandbox.cgroup_dirs();
    assert!(dirs.iter().all(|d| d.is_dir()));

    sandbox.kill().unwrap();
    assert!(pids.iter().all(|&p| !common::alive(p)), "processes survived kill");
    assert!(dirs.iter().all(|d| !d.exists()), "cgroup directories survived kill");
    assert_eq!(sandbox.wait().unwrap(), ExitStatus::Signaled(nix::sys::signal::Signal::SIGKILL));
    sandbox.kill().unwrap();
}

#[test]
fn a_frozen_sandbox_can_be_killed() {
    let (spec, out, err) = sh("kill-frozen", "/bin/sleep 600 & exec /bin/sleep 600");
    let mut sandbox = Sandbox::create(spec, &common::cgroups()).unwrap();
    let (_out, _err) = (common::drain(out), common::drain(err));
    sandbox.start().unwrap();
    assert!(common::eventually(Duration::from_secs(10), || sandbox.processes().unwrap().len() == 3));
    sandbox.freeze().unwrap();
    let pids = sandbox.processes().unwrap();
    let dirs = sandbox.cgroup_dirs();
    sandbox.kill().unwrap();
    assert!(pids.iter().all(|&p| !common::alive(p)));
    assert!(dirs.iter().all(|d| !d.exists()));
}

#[test]
fn dropping_a_created_sandbox_cleans_up() {
    let (spec, _out, _err) = sh("drop-created", "echo never");
    let sandbox = Sandbox::create(spec, &common::cgroups()).unwrap();
    let pid = sandbox.pid();
    let dirs = sandbox.cgroup_dirs();
    assert!(common::alive(pid));
    drop(sandbox);
    assert!(!common::alive(pid));
    assert!(dirs.iter().all(|d| !d.exists()));
}

#[test]
fn a_missing_program_fails_start_with_its_errno() {
    let (mut spec, _out, _err) = sh("noexec", "");
    spec.argv = vec!["/nonexistent/bootstrap".into()];
    let mut sandbox = Sandbox::create(spec, &common::cgroups()).unwrap();
    match sandbox.start() {
        Err(SandboxError::Exec { program, source: Errno::ENOENT, .. }) => {
            assert_eq!(program, "/nonexistent/bootstrap");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(matches!(sandbox.start(), Err(SandboxError::AlreadyStarted { .. })));
    assert_eq!(sandbox.wait().unwrap(), ExitStatus::Exited(127));
}

#[test]
fn a_missing_bind_source_fails_create_and_leaves_no_cgroup() {
    let (mut spec, _out, _err) = sh("nosource", "true");
    spec.mounts.push(BindMount { source: "/nonexistent/code".into(), target: "/var/task".into() });
    let id = spec.id.clone();
    match Sandbox::create(spec, &common::cgroups()) {
        Err(SandboxError::OpenBindSource { path, .. }) => assert_eq!(path, std::path::Path::new("/nonexistent/code")),
        other => panic!("unexpected {other:?}"),
    }
    let cgroups = common::cgroups();
    assert!(!cgroups.root.join("pids").join(&cgroups.parent).join(id).exists());
}

#[test]
fn a_failing_setup_step_is_named_and_cleaned_up() {
    // A bind target inside a read-only system directory cannot be created.
    let code = common::world_readable_dir();
    let (mut spec, _out, _err) = sh("badtarget", "true");
    spec.mounts.push(BindMount { source: code.path().to_owned(), target: "/usr/lambdabox-missing".into() });
    let id = spec.id.clone();
    match Sandbox::create(spec, &common::cgroups()) {
        Err(SandboxError::ChildSetup { step, source, .. }) => {
            assert_eq!(source, Errno::EROFS);
            assert!(step.to_string().contains("mkdir /tmp/usr/lambdabox-missing"), "{step}");
        }
        other => panic!("unexpected {other:?}"),
    }
    let cgroups = common::cgroups();
    assert!(!cgroups.root.join("pids").join(&cgroups.parent).join(id).exists());
}

#[test]
fn many_sandboxes_can_be_created_concurrently() {
    let handles: Vec<_> = (0..8)
        .map(|i| {
            std::thread::spawn(move || {
                let output = common::run_sh(&format!("parallel{i}"), &format!("echo {i}"));
                assert_eq!(output.stdout, format!("{i}\n"));
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
}

#[test]
fn leftovers_of_a_dead_engine_are_killed_and_removed() {
    use lambdabox_sandbox::CgroupConfig;
    // A parent of its own, so no other test's live sandbox counts as a leftover.
    let mut config = common::cgroups();
    config.parent = format!("{}-leftovers-{}", common::CGROUP_PARENT, std::process::id());
    let (spec, out, err) = sh("leftover", "/bin/sleep 600 & exec /bin/sleep 600");
    let mut sandbox = Sandbox::create(spec, &config).unwrap();
    let (_out, _err) = (common::drain(out), common::drain(err));
    sandbox.start().unwrap();
    assert!(common::eventually(Duration::from_secs(10), || sandbox.processes().unwrap().len() == 3));
    let pids = sandbox.processes().unwrap();
    let dirs = sandbox.cgroup_dirs();

    let cleaned = CgroupConfig::kill_leftovers(&config).unwrap();
    assert_eq!(cleaned, vec![common::id("leftover")]);
    assert!(dirs.iter().all(|d| !d.exists()));
    // The first process (the init) was our child. It leaves the cgroup
    // before it has finished exiting (the kernel first waits for the rest
    // of its pid namespace to die); once it can be reaped, nothing is left.
    assert_eq!(sandbox.wait().unwrap(), ExitStatus::Signaled(nix::sys::signal::Signal::SIGKILL));
    assert!(pids.iter().all(|&p| !common::alive(p)));
    sandbox.kill().unwrap();
    assert_eq!(config.kill_leftovers().unwrap(), Vec::<String>::new());
    for dir in &dirs {
        let _ = std::fs::remove_dir(dir.parent().unwrap());
    }
}
