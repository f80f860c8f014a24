//! The `cargo lambda watch` comparison: the same `lambda_runtime` function
//! (the source of the `lambdabox-bench-lrt` binary, copied into a scratch
//! Cargo project) served by cargo-lambda's emulator, measured with the same
//! client as Lambdabox. cargo-lambda is installed from crates.io when it is
//! missing.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::process::{Child, Command};

use crate::http::Conn;

/// The function's source, shared with the `lambdabox-bench-lrt` binary.
const FUNCTION_SOURCE: &str = include_str!("bin/lambdabox-bench-lrt.rs");
/// The binary (and so the function) name in the scratch project.
pub const FUNCTION: &str = "bench-lrt";

/// `cargo lambda --version`, installing cargo-lambda first if needed.
pub fn ensure_installed() -> anyhow::Result<String> {
    if let Some(version) = version() {
        return Ok(version);
    }
    eprintln!("cargo-lambda is not installed: cargo install cargo-lambda --locked (this takes a while)");
    let status = std::process::Command::new("cargo")
        .args(["install", "cargo-lambda", "--locked"])
        .status()
        .context("run cargo install cargo-lambda")?;
    if !status.success() {
        bail!("`cargo install cargo-lambda --locked` failed ({status})");
    }
    version().context("cargo lambda --version fails after the install")
}

fn version() -> Option<String> {
    let out = std::process::Command::new("cargo").args(["lambda", "--version"]).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Writes the scratch project under `dir`, pinned to the workspace's lock file.
pub fn write_project(dir: &Path, workspace_lock: Option<&Path>) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir.join("src")).with_context(|| format!("create {}", dir.display()))?;
    let manifest = format!(
        r#"[package]
name = "{FUNCTION}"
version = "0.1.0"
edition = "2024"
publish = false

[dependencies]
lambda_runtime = {{ version = "1.5", default-features = false }}
serde_json = "1"
tokio = {{ version = "1", features = ["macros", "rt"] }}

[profile.release]
debug = "line-tables-only"

[workspace]
"#
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).context("write the scratch Cargo.toml")?;
    std::fs::write(dir.join("src/main.rs"), FUNCTION_SOURCE).context("write the scratch main.rs")?;
    if let Some(lock) = workspace_lock
        && !dir.join("Cargo.lock").exists()
    {
        std::fs::copy(lock, dir.join("Cargo.lock")).context("copy the workspace Cargo.lock")?;
    }
    Ok(())
}

/// A running `cargo lambda watch`, in its own process group.
pub struct Watch {
    child: Child,
    pub addr: SocketAddr,
    pub log: PathBuf,
}

impl Watch {
    /// Starts `cargo lambda watch --release` in `dir` and waits until the
    /// function answers (the first Invoke compiles it).
    pub async fn start(dir: &Path) -> anyhow::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
        let log = dir.join("watch.log");
        let log_file = std::fs::File::create(&log).context("create watch.log")?;
        let mut command = Command::new("cargo");
        command
            .args(["lambda", "watch", "--release", "--ignore-changes", "--invoke-address", "127.0.0.1"])
            .args(["--invoke-port", &port.to_string()])
            .current_dir(dir)
            .env("CARGO_TARGET_DIR", dir.join("target"))
            .env("RUST_LOG", "error")
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .process_group(0)
            .kill_on_drop(true);
        // What `cargo run` set for the harness is not for this build.
        for (key, _) in std::env::vars_os() {
            if let Some(k) = key.to_str()
                && k.starts_with("CARGO_")
                && k != "CARGO_HOME"
            {
                command.env_remove(k);
            }
        }
        let child = command.spawn().context("start cargo lambda watch")?;
        let watch = Self { child, addr, log };
        let path = format!("/2015-03-31/functions/{FUNCTION}/invocations");
        let started = Instant::now();
        loop {
            if started.elapsed() > Duration::from_secs(900) {
                bail!("cargo lambda watch did not answer within 15 minutes; see {}", watch.log.display());
            }
            if let Ok(mut conn) = Conn::connect(addr).await
                && let Ok(Ok(r)) =
                    tokio::time::timeout(Duration::from_secs(600), conn.request("POST", &path, &[], b"{}")).await
                && r.status == 200
            {
                return Ok(watch);
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    pub fn path(&self) -> String {
        format!("/2015-03-31/functions/{FUNCTION}/invocations")
    }

    /// Stops the whole process group (cargo lambda and the function it runs).
    pub async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            // SAFETY: kill(2) on the process group we created for our own
            // child (`process_group(0)` makes its pgid its pid).
            unsafe { libc::kill(-(pid as libc::pid_t), libc::SIGTERM) };
            if tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await.is_err() {
                // SAFETY: as above.
                unsafe { libc::kill(-(pid as libc::pid_t), libc::SIGKILL) };
                let _ = self.child.wait().await;
            }
        }
    }
}
