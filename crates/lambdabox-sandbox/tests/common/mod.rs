//! Helpers shared by the integration tests: a spec running a shell script,
//! the host's cgroup configuration, and capturing a sandbox's output.

#![allow(dead_code)]

use std::fs::File;
use std::io::Read;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::thread::JoinHandle;

use lambdabox_sandbox::{CgroupConfig, ExitStatus, Identity, Limits, RootfsConfig, Sandbox, SandboxSpec};
use nix::fcntl::OFlag;

/// The parent cgroup the tests create their sandboxes under.
pub const CGROUP_PARENT: &str = "lambdabox-sandbox-tests";

pub fn cgroups() -> CgroupConfig {
    CgroupConfig::detect("/sys/fs/cgroup", CGROUP_PARENT).expect("detect the host's cgroups")
}

/// A unique sandbox id for this test process.
pub fn id(name: &str) -> String {
    format!("{name}-{}", std::process::id())
}

pub fn pipe() -> (File, OwnedFd) {
    let (read, write) = nix::unistd::pipe2(OFlag::O_CLOEXEC).expect("pipe");
    (File::from(read), write)
}

/// A spec running `/bin/sh -c script`, with stdout and stderr on pipes
/// whose read ends are returned.
pub fn sh(name: &str, script: &str) -> (SandboxSpec, File, File) {
    let (out_r, out_w) = pipe();
    let (err_r, err_w) = pipe();
    let spec = SandboxSpec {
        id: id(name),
        argv: vec!["/bin/sh".into(), "-c".into(), script.into()],
        env: vec![("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into()), ("LANG".into(), "C.UTF-8".into())],
        cwd: "/tmp".into(),
        mounts: vec![],
        tmp_size_bytes: 4 << 20,
        limits: Limits { memory_bytes: 256 << 20, pids_max: 64, cpu_weight: 100 },
        identity: Identity::unprivileged_default(),
        hostname: "localhost".into(),
        rootfs: RootfsConfig::default(),
        stdout: out_w,
        stderr: err_w,
    };
    (spec, out_r, err_r)
}

/// Reads a pipe to its end on a thread.
pub fn drain(mut file: File) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        file.read_to_string(&mut text).expect("read sandbox output");
        text
    })
}

pub struct Output {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// Creates, starts and waits for a sandbox; returns what it printed.
pub fn run(spec: SandboxSpec, out: File, err: File) -> Output {
    let mut sandbox = Sandbox::create(spec, &cgroups()).expect("create");
    let (out, err) = (drain(out), drain(err));
    sandbox.start().expect("start");
    let status = sandbox.wait().expect("wait");
    let output = Output { status, stdout: out.join().unwrap(), stderr: err.join().unwrap() };
    sandbox.kill().expect("kill");
    output
}

/// Runs a script and returns its output, asserting that it exited 0.
pub fn run_sh(name: &str, script: &str) -> Output {
    let (spec, out, err) = sh(name, script);
    let output = run(spec, out, err);
    assert_eq!(output.status, ExitStatus::Exited(0), "stdout: {}\nstderr: {}", output.stdout, output.stderr);
    output
}

/// A host directory readable by the sandbox's unprivileged host uid.
pub fn world_readable_dir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    dir
}

pub fn exists(path: &Path) -> bool {
    path.exists()
}

/// Polls `check` until it holds or `timeout` passes.
pub fn eventually(timeout: std::time::Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if check() {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// Whether a host pid still names a live (non-zombie) process.
pub fn alive(pid: lambdabox_sandbox::Pid) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'),
        Err(_) => false,
    }
}
