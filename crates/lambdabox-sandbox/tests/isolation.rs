//! What a process inside a sandbox sees and may touch: its own hostname,
//! root, `/tmp`, user and pid namespace, environment and working directory.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::time::Duration;

use common::{run_sh, sh};
use lambdabox_sandbox::{BindMount, ExitStatus, Sandbox};
use nix::sys::signal::Signal;

#[test]
fn the_hostname_is_the_sandboxs_own() {
    let host_before = nix::unistd::gethostname().unwrap();
    let (mut spec, out, err) = sh("hostname", "hostname; cat /etc/hostname");
    spec.hostname = "sbx-host".into();
    let output = common::run(spec, out, err);
    assert_eq!(output.stdout, "sbx-host\nsbx-host\n", "stderr: {}", output.stderr);
    assert_eq!(nix::unistd::gethostname().unwrap(), host_before);
}

#[test]
fn tmp_is_private_writable_and_limited_to_its_size() {
    let host_file = format!("/tmp/lambdabox-host-{}", std::process::id());
    std::fs::write(&host_file, "host").unwrap();
    let inside_file = format!("/tmp/lambdabox-inside-{}", std::process::id());
    let script = format!(
        "test -e {host_file} && echo 'host /tmp visible'
         echo data > {inside_file} && cat {inside_file}
         df -k /tmp | tail -n 1 | awk '{{print $2}}'
         dd if=/dev/zero of=/tmp/fill bs=64k count=64 2>&1 | grep -o 'No space left on device' | head -n 1"
    );
    let (mut spec, out, err) = sh("tmp", &script);
    spec.tmp_size_bytes = 1 << 20;
    let output = common::run(spec, out, err);
    std::fs::remove_file(&host_file).unwrap();
    assert_eq!(output.stdout, "data\n1024\nNo space left on device\n", "stderr: {}", output.stderr);
    assert!(!Path::new(&inside_file).exists(), "the sandbox's /tmp leaked to the host");
}

#[test]
fn everything_but_tmp_and_shm_is_read_only() {
    let code = common::world_readable_dir();
    std::fs::write(code.path().join("handler.sh"), "echo handled\n").unwrap();
    let script = "for p in / /usr /etc /dev /proc /var/task; do
                      touch $p/probe 2>/dev/null && echo writable $p
                  done
                  touch /tmp/probe /dev/shm/probe && echo tmp-and-shm-writable
                  cat /var/task/handler.sh";
    let (mut spec, out, err) = sh("readonly", script);
    spec.mounts.push(BindMount { source: code.path().to_owned(), target: "/var/task".into() });
    let output = common::run(spec, out, err);
    assert_eq!(output.stdout, "tmp-and-shm-writable\necho handled\n", "stderr: {}", output.stderr);
    assert!(!code.path().join("probe").exists());
}

#[test]
fn host_paths_outside_the_allow_list_are_not_visible() {
    let script =
        "for p in /root /home /work /var /run /sys /boot /opt /srv /mnt /etc/shadow /etc/passwd- /.dockerenv; do
                      test -e $p && echo visible $p
                  done
                  ls /
                  cut -d: -f1 /etc/passwd";
    let output = run_sh("hidden", script);
    let mut expected: Vec<&str> =
        ["bin", "dev", "etc", "lib", "lib32", "lib64", "libx32", "proc", "sbin", "tmp", "usr"]
            .into_iter()
            .filter(|d| matches!(*d, "dev" | "etc" | "proc" | "tmp") || Path::new("/").join(d).exists())
            .collect();
    expected.sort_unstable();
    let expected = format!("{}\nroot\nsbx_user\nnobody\n", expected.join("\n"));
    assert_eq!(output.stdout, expected, "stderr: {}", output.stderr);
}

#[test]
fn the_program_is_pid_2_under_an_init_and_nothing_is_host_root() {
    let (spec, out, err) = sh("uid", "echo $$ $PPID; id -u; id -g; id -G; exec /bin/sleep 600");
    let identity = spec.identity;
    let mut sandbox = Sandbox::create(spec, &common::cgroups()).unwrap();
    let _stderr = common::drain(err);
    sandbox.start().unwrap();
    let mut lines = BufReader::new(out).lines();
    let mut next = || lines.next().unwrap().unwrap();
    assert_eq!(next(), "2 1", "the program is pid 2, the init's child");
    assert_eq!(next(), identity.sandbox_uid.to_string());
    assert_eq!(next(), identity.sandbox_gid.to_string());
    assert_eq!(next(), identity.sandbox_gid.to_string(), "supplementary groups must be dropped");

    // The init and the program alike: the sandbox's ids on the host, no
    // capability, seccomp and no_new_privs.
    // Once the shell has become the sleep: the init and the program.
    assert!(common::eventually(Duration::from_secs(10), || sandbox.processes().unwrap().len() == 2));
    let pids = sandbox.processes().unwrap();
    assert!(pids.contains(&sandbox.pid()), "{pids:?}");
    for pid in pids {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let field = |name: &str| {
            let line = status.lines().find(|l| l.starts_with(name)).unwrap();
            line.split_whitespace().skip(1).map(|v| v.parse::<u32>().unwrap()).collect::<Vec<_>>()
        };
        assert_eq!(field("Uid:"), vec![identity.host_uid; 4]);
        assert_eq!(field("Gid:"), vec![identity.host_gid; 4]);
        assert!(field("Uid:").iter().all(|&uid| uid != 0));
        for line in ["CapEff:\t0000000000000000", "CapPrm:\t0000000000000000", "NoNewPrivs:\t1", "Seccomp:\t2"] {
            assert!(status.contains(line), "{pid} lacks {line:?}: {status}");
        }
    }
    sandbox.kill().unwrap();
}

#[test]
fn the_init_is_closed_to_the_program() {
    // Same uid, but the init is not dumpable: its memory, maps and
    // environment (a copy of the caller's) are out of reach, and its
    // command line (the caller's) is blanked.
    let script = "cat /proc/1/comm
                  for f in mem maps environ; do (: < /proc/1/$f) 2>/dev/null && echo readable $f; done
                  tr -d '\\000' < /proc/1/cmdline | wc -c";
    let output = run_sh("init-closed", script);
    assert_eq!(output.stdout, "sandbox-init\n0\n", "stderr: {}", output.stderr);
}

#[test]
fn the_environment_is_exactly_the_specs() {
    let (mut spec, out, err) = sh("env", "");
    spec.argv = vec!["/usr/bin/env".into()];
    spec.env = vec![("A".into(), "1".into()), ("B".into(), "two words".into())];
    let output = common::run(spec, out, err);
    assert_eq!(output.stdout, "A=1\nB=two words\n", "stderr: {}", output.stderr);
}

#[test]
fn the_working_directory_is_created_if_missing() {
    let code = common::world_readable_dir();
    let (mut spec, out, err) = sh("cwd", "pwd; ls");
    spec.mounts.push(BindMount { source: code.path().to_owned(), target: "/var/task".into() });
    std::fs::write(code.path().join("index.js"), "").unwrap();
    spec.cwd = "/var/task".into();
    let output = common::run(spec, out, err);
    assert_eq!(output.stdout, "/var/task\nindex.js\n", "stderr: {}", output.stderr);

    let (mut spec, out, err) = sh("cwd-fresh", "pwd");
    spec.cwd = "/var/runtime".into();
    let output = common::run(spec, out, err);
    assert_eq!(output.stdout, "/var/runtime\n", "stderr: {}", output.stderr);
}

#[test]
fn processes_inside_cannot_signal_processes_outside() {
    let me = std::process::id();
    let output =
        run_sh("signals", &format!("kill -KILL {me} 2>&1 | grep -c 'No such process'; ls /proc | grep '^[0-9]'"));
    let mut lines = output.stdout.lines();
    assert_eq!(lines.next(), Some("1"), "kill must not find the host's process: {}", output.stderr);
    // Only the sandbox's own few processes exist in its pid namespace.
    let pids: Vec<u32> = lines.map(|l| l.parse().unwrap()).collect();
    assert!(pids.contains(&1) && pids.iter().all(|&p| p < 10), "{pids:?}");
}

#[test]
fn a_sandbox_cannot_signal_another_through_a_shared_process_group() {
    // Every sandbox runs as the same host uid, so `kill(0, SIGKILL)` would
    // reach any of them sharing the caller's process group.
    let (mut spec, out, err) = sh("pgrp-victim", "");
    spec.argv = vec!["/bin/sleep".into(), "600".into()];
    let mut victim = Sandbox::create(spec, &common::cgroups()).unwrap();
    let (_out, _err) = (common::drain(out), common::drain(err));
    victim.start().unwrap();

    let (spec, out, err) = sh("pgrp-killer", "ps -o pid=,pgid=,sid= -p $$; kill -KILL 0; echo survived");
    let killer = common::run(spec, out, err);
    assert_eq!(killer.status, ExitStatus::Signaled(Signal::SIGKILL), "stderr: {}", killer.stderr);
    let ids: Vec<&str> = killer.stdout.split_whitespace().collect();
    assert_eq!(ids, ["2", "1", "1"], "the program's pid, process group and session (the init's)");

    // The killer's kill(0) returned before it died, so a SIGKILL that had
    // reached the victim would already be pending and win over this TERM.
    nix::sys::signal::kill(victim.pid(), Signal::SIGTERM).unwrap();
    assert_eq!(victim.wait().unwrap(), ExitStatus::Signaled(Signal::SIGTERM));
}

#[test]
fn the_seccomp_filter_refuses_namespace_and_mount_calls() {
    let script = r#"
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
def errno_of(rc):
    return "ok" if rc == 0 else os.strerror(ctypes.get_errno())
print("unshare", errno_of(libc.unshare(0x10000000)))
print("mount", errno_of(libc.mount(b"none", b"/tmp", b"tmpfs", 0, None)))
print("setns", errno_of(libc.setns(0, 0)))
print("ptrace", errno_of(libc.ptrace(0, 0, None, None)))
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
print("seccomp", status["Seccomp"].strip(), "nnp", status["NoNewPrivs"].strip())
print("fork", "ok" if os.waitpid(os.fork() or os._exit(0), 0) else "ok")
"#;
    let (mut spec, out, err) = sh("seccomp", "");
    spec.argv = vec!["/usr/bin/python3".into(), "-S".into(), "-c".into(), script.into()];
    let output = common::run(spec, out, err);
    assert_eq!(
        output.stdout,
        "unshare Operation not permitted\nmount Operation not permitted\nsetns Operation not permitted\n\
         ptrace Operation not permitted\nseccomp 2 nnp 1\nfork ok\n",
        "stderr: {}",
        output.stderr
    );
    // util-linux's own unshare fails the same way.
    let output = run_sh("seccomp-unshare", "/usr/bin/unshare -U /bin/true 2>&1; echo rc=$?");
    assert!(output.stdout.contains("Operation not permitted"), "{}", output.stdout);
}

#[test]
fn only_unix_inet_inet6_and_netlink_sockets_can_be_made() {
    // Families by number so the script needs no constants Python may lack:
    // AF_VSOCK 40, AF_PACKET 17, AF_BLUETOOTH 31, AF_ALG 38, AF_KEY 15,
    // AF_APPLETALK 5, AF_X25 9, AF_CAN 29, AF_TIPC 30, AF_XDP 44, AF_MCTP 45,
    // and a number the kernel does not know (0x7ffff). A socketpair of
    // AF_INET is allowed, and the kernel itself refuses it (EOPNOTSUPP).
    let script = r#"
import errno, socket
def make(family, kind, pair=False):
    try:
        if pair:
            a, b = socket.socketpair(family, kind)
            a.close(); b.close()
        else:
            socket.socket(family, kind).close()
        return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
allowed = [(1, socket.SOCK_STREAM), (2, socket.SOCK_DGRAM), (10, socket.SOCK_STREAM), (16, socket.SOCK_RAW)]
print("allowed", [make(f, k) for f, k in allowed])
print("pair", make(1, socket.SOCK_STREAM, True), make(40, socket.SOCK_STREAM, True), make(2, socket.SOCK_STREAM, True))
denied = [40, 17, 31, 38, 15, 5, 9, 29, 30, 44, 45, 0x7ffff]
print("denied", sorted(set(make(f, socket.SOCK_STREAM) for f in denied) | set(make(f, socket.SOCK_DGRAM) for f in denied)))
"#;
    let (mut spec, out, err) = common::sh("socket-families", "");
    spec.argv = vec!["/usr/bin/python3".into(), "-S".into(), "-c".into(), script.into()];
    let output = common::run(spec, out, err);
    assert_eq!(
        output.stdout, "allowed ['ok', 'ok', 'ok', 'ok']\npair ok EAFNOSUPPORT ENOTSUP\ndenied ['EAFNOSUPPORT']\n",
        "stderr: {}",
        output.stderr
    );
}
