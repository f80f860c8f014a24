//! Measures how long a sandbox takes from `create` to the exit of
//! `/bin/true`, and how long its clean-up takes, as root on the real
//! kernel, interleaved with util-linux's
//! `unshare -U -r -m -p -f -n -i -u /bin/true` as a baseline measured under
//! the same load. `cargo run --release -p lambdabox-sandbox --example spawn_latency [runs]`

use std::fs::File;
use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

use lambdabox_sandbox::{CgroupConfig, Identity, Limits, RootfsConfig, Sandbox, SandboxSpec};

fn devnull() -> OwnedFd {
    File::options().write(true).open("/dev/null").expect("open /dev/null").into()
}

fn spec(run: usize) -> SandboxSpec {
    SandboxSpec {
        id: format!("latency-{}-{run}", std::process::id()),
        argv: vec!["/bin/true".into()],
        env: vec![],
        cwd: "/".into(),
        mounts: vec![],
        tmp_size_bytes: 512 << 20,
        limits: Limits::default(),
        identity: Identity::unprivileged_default(),
        hostname: "localhost".into(),
        rootfs: RootfsConfig::default(),
        stdout: devnull(),
        stderr: devnull(),
    }
}

fn summary(name: &str, samples: &mut [Duration]) {
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    println!(
        "{name:<28} median {:>7.2} ms   p90 {:>7.2} ms   min {:>7.2} ms",
        at(0.5).as_secs_f64() * 1e3,
        at(0.9).as_secs_f64() * 1e3,
        samples[0].as_secs_f64() * 1e3,
    );
}

fn main() {
    let runs: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(200);
    let cgroups = CgroupConfig::detect("/sys/fs/cgroup", "lambdabox-latency").expect("detect cgroups");
    let (mut create, mut start_to_exit, mut total, mut cleanup) = (vec![], vec![], vec![], vec![]);
    let mut baseline = vec![];
    for run in 0..runs {
        let t = Instant::now();
        let status = std::process::Command::new("unshare")
            .args(["-U", "-r", "-m", "-p", "-f", "-n", "-i", "-u", "/bin/true"])
            .status()
            .expect("run unshare");
        assert!(status.success());
        baseline.push(t.elapsed());

        let spec = spec(run);
        let t0 = Instant::now();
        let mut sandbox = Sandbox::create(spec, &cgroups).expect("create");
        let t1 = Instant::now();
        sandbox.start().expect("start");
        sandbox.wait().expect("wait");
        let t2 = Instant::now();
        sandbox.kill().expect("kill");
        let t3 = Instant::now();
        create.push(t1 - t0);
        start_to_exit.push(t2 - t1);
        total.push(t2 - t0);
        cleanup.push(t3 - t2);
    }
    println!("{runs} runs of /bin/true ({:?} cgroups)", cgroups.version);
    summary("create", &mut create);
    summary("start -> exit", &mut start_to_exit);
    summary("create + start -> exit", &mut total);
    summary("kill (cgroup removal)", &mut cleanup);
    summary("baseline: unshare ... true", &mut baseline);
}
