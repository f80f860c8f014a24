//! Spare sandboxes: made before their program is known, assigned it later,
//! then indistinguishable from a sandbox made in one go.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;

use common::{cgroups, drain, id, pipe, world_readable_dir};
use lambdabox_sandbox::{
    Assignment, BindMount, ExitStatus, Identity, Limits, RootfsConfig, Sandbox, SandboxError, SpareSpec,
};

/// A staging directory of the spares' own: late bind sources may not lie
/// under it, and the default (`/tmp`) holds the tests' temporary dirs.
fn staging() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("lbx-spare-staging-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create the staging dir");
    dir
}

fn spare(name: &str) -> (Sandbox, std::fs::File, std::fs::File) {
    spare_with_stdin(name, None)
}

fn spare_with_stdin(name: &str, stdin: Option<std::os::fd::OwnedFd>) -> (Sandbox, std::fs::File, std::fs::File) {
    let (out_r, out_w) = pipe();
    let (err_r, err_w) = pipe();
    let spec = SpareSpec {
        id: id(name),
        tmp_size_bytes: 4 << 20,
        limits: Limits { memory_bytes: 64 << 20, pids_max: 64, cpu_weight: 100 },
        identity: Identity::unprivileged_default(),
        hostname: "localhost".into(),
        rootfs: RootfsConfig { staging_dir: staging(), ..RootfsConfig::default() },
        stdout: out_w,
        stderr: err_w,
        stdin,
    };
    (Sandbox::create_spare(spec, &cgroups()).expect("create a spare"), out_r, err_r)
}

fn script(text: &str, mounts: Vec<BindMount>, tmp_size_bytes: u64) -> Assignment {
    Assignment {
        argv: vec!["/bin/sh".into(), "-c".into(), text.into()],
        env: vec![("PATH".into(), "/usr/bin:/bin".into()), ("GREETING".into(), "hello spare".into())],
        cwd: "/var/task".into(),
        mounts,
        tmp_size_bytes,
        limits: Limits { memory_bytes: 300 << 20, pids_max: 64, cpu_weight: 200 },
    }
}

#[test]
fn a_spare_runs_the_program_it_is_assigned_with_its_files_env_and_limits() {
    let code = world_readable_dir();
    std::fs::write(code.path().join("data.txt"), "from the code dir").unwrap();
    let (mut sandbox, out, err) = spare("spare-run");
    let (out, err) = (drain(out), drain(err));
    let text = "cat /var/task/data.txt; echo; echo \"$GREETING\"; pwd; \
                df -k /tmp | tail -1 | awk '{print $2}'; \
                touch /var/task/x 2>/dev/null && echo writable || echo read-only; \
                test -e /proc/1/root/etc/shadow && echo host-visible || echo host-hidden";
    let mounts = vec![BindMount { source: code.path().to_owned(), target: "/var/task".into() }];
    sandbox.assign(script(text, mounts, 8 << 20)).expect("assign");
    let memory_dir = sandbox
        .cgroup_dirs()
        .into_iter()
        .find(|d| d.join("memory.limit_in_bytes").exists() || d.join("memory.max").exists());
    sandbox.start().expect("start");
    assert_eq!(sandbox.wait().expect("wait"), ExitStatus::Exited(0), "stderr: {}", err.join().unwrap());
    let stdout = out.join().unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[..3], ["from the code dir", "hello spare", "/var/task"], "{stdout}");
    assert_eq!(lines[3], "8192", "/tmp resized to the assignment's 8 MiB: {stdout}");
    assert_eq!(lines[4..], ["read-only", "host-hidden"], "{stdout}");
    if let Some(dir) = memory_dir {
        let file = if dir.join("memory.max").exists() { "memory.max" } else { "memory.limit_in_bytes" };
        let limit = std::fs::read_to_string(dir.join(file)).unwrap_or_default();
        assert_eq!(limit.trim(), (300u64 << 20).to_string(), "the assignment's memory limit");
    }
    sandbox.kill().expect("kill");
}

#[test]
fn a_spare_listens_inside_its_namespace_before_it_is_assigned() {
    let (mut sandbox, out, _err) = spare("spare-listen");
    let listener = sandbox.listen_tcp("127.0.0.1:9001".parse().unwrap()).expect("listen inside");
    let out = drain(out);
    let text = "exec 3<>/dev/tcp/127.0.0.1/9001 2>/dev/null || { echo no-bash; exit 0; }; echo ping >&3; read r <&3; echo \"$r\"";
    let mut assignment = script(text, vec![], 4 << 20);
    assignment.argv[0] = "/bin/bash".into();
    assignment.cwd = "/tmp".into();
    sandbox.assign(assignment).expect("assign");
    sandbox.start().expect("start");
    let (mut conn, _) = listener.accept().expect("the program connects to the listener");
    let mut line = [0u8; 5];
    conn.read_exact(&mut line).unwrap();
    assert_eq!(&line, b"ping\n");
    conn.write_all(b"pong\n").unwrap();
    assert_eq!(sandbox.wait().unwrap(), ExitStatus::Exited(0));
    assert_eq!(out.join().unwrap(), "pong\n");
    // The host's own 127.0.0.1:9001 is another socket.
    assert!(TcpStream::connect("127.0.0.1:9001").is_err() || listener.local_addr().is_ok());
}

#[test]
fn a_spare_refuses_to_start_unassigned_and_to_be_assigned_twice() {
    let (mut sandbox, _out, _err) = spare("spare-order");
    assert!(matches!(sandbox.start(), Err(SandboxError::NotAssigned { .. })));
    let mut assignment = script("exit 3", vec![], 4 << 20);
    assignment.cwd = "/tmp".into();
    sandbox.assign(assignment.clone()).expect("assign");
    assert!(matches!(sandbox.assign(assignment), Err(SandboxError::NotSpare { .. })));
    sandbox.start().expect("start");
    assert_eq!(sandbox.wait().unwrap(), ExitStatus::Exited(3));
}

#[test]
fn a_bad_assignment_fails_with_its_step_and_a_dropped_spare_cleans_up() {
    let (mut sandbox, _out, _err) = spare("spare-bad");
    let dirs = sandbox.cgroup_dirs();
    let missing = vec![BindMount { source: "/nonexistent/code".into(), target: "/var/task".into() }];
    let error = sandbox.assign(script("true", missing, 4 << 20)).unwrap_err();
    assert!(matches!(error, SandboxError::OpenBindSource { .. }), "{error:?}");
    let relative = Assignment { argv: vec!["sh".into()], ..script("true", vec![], 4 << 20) };
    assert!(matches!(sandbox.assign(relative), Err(SandboxError::InvalidSpec(_))));
    drop(sandbox);
    assert!(dirs.iter().all(|d| !d.exists()), "cgroups removed: {dirs:?}");
}

#[test]
fn a_started_spare_gets_files_mounted_and_tmp_resized_while_its_program_waits() {
    let code = world_readable_dir();
    std::fs::write(code.path().join("data.txt"), "mounted late").unwrap();
    let (stdin_r, stdin_w) = pipe();
    let (mut sandbox, out, err) = spare_with_stdin("spare-inject", Some(stdin_r.into()));
    let (out, err) = (drain(out), drain(err));
    // The program starts with an empty /var/task and waits on stdin.
    let text = "ls -A /var/task | wc -l; read word; echo \"got $word\"; cd /var/task && cat data.txt; echo; \
                df -k /tmp | tail -1 | awk '{print $2}'; touch /var/task/x 2>/dev/null && echo writable || echo read-only; \
                grep -c ' /var/task ' /proc/self/mountinfo";
    sandbox.assign(script(text, vec![], 4 << 20)).expect("assign");
    sandbox.start().expect("start");
    std::thread::sleep(std::time::Duration::from_millis(100));
    sandbox.mount_into(code.path(), std::path::Path::new("/var/task")).expect("mount into the running sandbox");
    sandbox.resize_tmp(16 << 20).expect("resize /tmp");
    sandbox.set_limits(&Limits { memory_bytes: 200 << 20, pids_max: 64, cpu_weight: 100 }).expect("set limits");
    let mut stdin = std::fs::File::from(stdin_w);
    stdin.write_all(b"go\n").unwrap();
    drop(stdin);
    assert_eq!(sandbox.wait().unwrap(), ExitStatus::Exited(0), "stderr: {}", err.join().unwrap());
    let stdout = out.join().unwrap();
    let lines: Vec<&str> = stdout.lines().map(str::trim).collect();
    assert_eq!(lines, ["0", "got go", "mounted late", "16384", "read-only", "1"], "{stdout}");
    // A source that does not exist, or a target the sandbox does not have, is an error.
    assert!(sandbox.mount_into(std::path::Path::new("/nonexistent"), std::path::Path::new("/var/task")).is_err());
}
