//! Spare sandboxes: a few sandboxes made ahead of any cold start, with
//! their cgroups, namespaces, root (all but the function's files) and the
//! Runtime API listener inside their network namespace. A cold start takes
//! one and only assigns it the function's code, runtime, layers, limits
//! and program ([`lambdabox_sandbox::Sandbox::assign`]), which takes a
//! fraction of a millisecond instead of the several milliseconds (more
//! while other sandboxes are torn down) of building a sandbox; the pool is
//! refilled in the background a moment later, off the cold start's CPU.
//!
//! Spares are the same for every runtime: nothing of a function is in them
//! until they are assigned. When the pool is empty (a burst of cold
//! starts), a cold start builds its sandbox itself as before.
//!
//! Two more pools hold **zygotes** of Python and Node.js: spares already
//! assigned the family's runtime and started, the interpreter up and the
//! client loaded, waiting on a stdin pipe
//! (`runtimes/python/lambdabox_ric/zygote.py`, `runtimes/nodejs/lib/zygote.mjs`).
//! A cold start of that family takes one, mounts the function's code and
//! layers into the running sandbox ([`Sandbox::mount_into`]), sets its
//! limits and writes the function's environment to the pipe.

use std::net::TcpListener;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lambdabox_model::RuntimeFamily;
use lambdabox_sandbox::{Assignment, BindMount, Limits, Sandbox, SpareSpec};

use crate::ids::{HostUid, IdPool};
use crate::layout::{AWS_ENDPOINT_ADDR, RUNTIME_API_ADDR, SPARE_TMP_BYTES, attach_network, base_env, output_pipe};
use crate::{EngineConfig, EngineError};

/// How long after a spare is taken the pool starts to refill it, so the
/// refill does not compete with the cold start that took it.
const REFILL_DELAY: Duration = Duration::from_millis(25);
/// How long refilling pauses after a spare could not be made.
const FAILURE_BACKOFF: Duration = Duration::from_secs(5);

/// One spare: the sandbox, waiting for its assignment, the Runtime API
/// listener bound inside it, and the read end of its stdout/stderr pipe.
pub(crate) struct Spare {
    pub(crate) sandbox: Sandbox,
    pub(crate) listener: TcpListener,
    /// The environment's AWS endpoint listener (`AWS_ENDPOINT_ADDR`).
    pub(crate) endpoint: TcpListener,
    /// Its address on the function network, if there is one.
    pub(crate) lease: Option<lambdabox_network::Lease>,
    pub(crate) output: OwnedFd,
    /// A zygote's stdin pipe (write end); `None` for a plain spare.
    pub(crate) zygote_stdin: Option<OwnedFd>,
    /// Its host uid (after `sandbox`: given back once the sandbox is gone).
    pub(crate) host_uid: HostUid,
}

/// What a pool holds.
#[derive(Debug, Clone)]
pub(crate) enum SpareKind {
    /// Sandboxes waiting for any program.
    Sandbox,
    /// Started runtimes of a family (Python, Node.js) waiting for a
    /// function: the client's directory (`/var/runtime`) and an empty one
    /// (the `/opt` mount point).
    Zygote { family: RuntimeFamily, runtime_dir: PathBuf, empty_dir: PathBuf },
}

pub(crate) struct Spares {
    config: EngineConfig,
    ids: Arc<IdPool>,
    kind: SpareKind,
    target: usize,
    prefix: String,
    next: AtomicU64,
    ready: Mutex<Vec<Spare>>,
    filling: AtomicBool,
    closed: AtomicBool,
    failed_at: Mutex<Option<Instant>>,
}

impl Spares {
    /// A pool of `target` spares of `kind`, named `{prefix}{n}`. Filling
    /// starts at once when called inside a tokio runtime.
    pub(crate) fn new(
        config: EngineConfig,
        ids: Arc<IdPool>,
        kind: SpareKind,
        target: usize,
        prefix: String,
    ) -> Arc<Self> {
        let spares = Arc::new(Self {
            config,
            ids,
            kind,
            target,
            prefix,
            next: AtomicU64::new(1),
            ready: Mutex::new(Vec::new()),
            filling: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            failed_at: Mutex::new(None),
        });
        spares.refill(Duration::ZERO);
        spares
    }

    /// A spare if one is ready; the pool refills behind it.
    pub(crate) fn take(self: &Arc<Self>) -> Option<Spare> {
        let spare = self.ready.lock().expect("spares lock").pop();
        self.refill(REFILL_DELAY);
        spare
    }

    /// How many spares are ready.
    pub(crate) fn ready(&self) -> usize {
        self.ready.lock().expect("spares lock").len()
    }

    /// Stops refilling and hands back every spare (to be dropped, which
    /// kills them, off the async threads).
    pub(crate) fn close(&self) -> Vec<Spare> {
        self.closed.store(true, Ordering::SeqCst);
        std::mem::take(&mut *self.ready.lock().expect("spares lock"))
    }

    fn wanted(&self) -> bool {
        !self.closed.load(Ordering::SeqCst) && self.ready() < self.target
    }

    fn refill(self: &Arc<Self>, delay: Duration) {
        let backing_off = self.failed_at.lock().expect("spares lock").is_some_and(|t| t.elapsed() < FAILURE_BACKOFF);
        if !self.wanted() || backing_off {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        if self.filling.swap(true, Ordering::SeqCst) {
            return;
        }
        let weak = Arc::downgrade(self);
        runtime.spawn(async move {
            tokio::time::sleep(delay).await;
            loop {
                let Some(spares) = weak.upgrade() else { return };
                if !spares.wanted() {
                    spares.filling.store(false, Ordering::SeqCst);
                    // A spare taken between the check and the store would
                    // find `filling` still set: look once more.
                    if spares.wanted() && !spares.filling.swap(true, Ordering::SeqCst) {
                        continue;
                    }
                    return;
                }
                let maker = spares.clone();
                let made = tokio::task::spawn_blocking(move || maker.make()).await;
                match made {
                    Ok(Ok(spare)) if !spares.closed.load(Ordering::SeqCst) => {
                        spares.ready.lock().expect("spares lock").push(spare);
                    }
                    Ok(Ok(spare)) => {
                        tokio::task::spawn_blocking(move || drop(spare));
                    }
                    Ok(Err(error)) => {
                        tracing::warn!(%error, kind = ?spares.kind, "could not make a spare; cold starts build their own");
                        *spares.failed_at.lock().expect("spares lock") = Some(Instant::now());
                        spares.filling.store(false, Ordering::SeqCst);
                        return;
                    }
                    Err(_) => {
                        spares.filling.store(false, Ordering::SeqCst);
                        return;
                    }
                }
            }
        });
    }

    /// Makes one spare (blocking: a few milliseconds of system calls; a
    /// zygote also starts Python and waits until it runs).
    fn make(&self) -> Result<Spare, EngineError> {
        let (reader, writer, stderr) = output_pipe()?;
        let (stdin, zygote_stdin) = match self.kind {
            SpareKind::Sandbox => (None, None),
            SpareKind::Zygote { .. } => {
                let (read, write) = std::io::pipe().map_err(|source| EngineError::Pipe { source })?;
                (Some(read.into()), Some(write.into()))
            }
        };
        let id = format!("{}{}", self.prefix, self.next.fetch_add(1, Ordering::Relaxed));
        let (identity, host_uid) = self.ids.take()?;
        let limits = Limits { memory_bytes: 128 << 20, pids_max: self.config.pids_max, cpu_weight: 100 };
        let spec = SpareSpec {
            id: id.clone(),
            tmp_size_bytes: SPARE_TMP_BYTES,
            limits,
            identity,
            hostname: "localhost".into(),
            rootfs: self.config.rootfs.clone(),
            stdout: writer,
            stderr,
            stdin,
        };
        let sandbox_error = |source| EngineError::Sandbox { id: id.clone(), source };
        let mut sandbox = Sandbox::create_spare(spec, &self.config.cgroups).map_err(sandbox_error)?;
        let listener =
            sandbox.listen_tcp(RUNTIME_API_ADDR.parse().expect("a valid socket address")).map_err(sandbox_error)?;
        let endpoint =
            sandbox.listen_tcp(AWS_ENDPOINT_ADDR.parse().expect("a valid socket address")).map_err(sandbox_error)?;
        let lease = attach_network(self.config.network.as_ref(), &sandbox)?;
        if let SpareKind::Zygote { family, runtime_dir, empty_dir } = &self.kind {
            let mut env = base_env();
            env.extend(crate::runtimes::family_env(*family).into_iter().map(|(k, v)| (k.into(), v.into())));
            env.push(("LAMBDA_TASK_ROOT".into(), "/var/task".into()));
            env.push(("LAMBDABOX_ZYGOTE".into(), "1".into()));
            sandbox
                .assign(Assignment {
                    argv: crate::runtimes::argv(*family, &self.config.interpreters, ""),
                    env,
                    cwd: "/var/task".into(),
                    mounts: [
                        BindMount { source: runtime_dir.clone(), target: "/var/runtime".into() },
                        BindMount { source: empty_dir.clone(), target: "/opt".into() },
                    ]
                    .into_iter()
                    .chain(crate::runtimes::sdk_mount(*family, &self.config.sdks))
                    .chain(
                        self.config
                            .sdks
                            .nodejs
                            .iter()
                            .filter(|_| *family == RuntimeFamily::Nodejs)
                            .map(|sdk| BindMount { source: sdk.clone(), target: crate::runtimes::ESM_SDK_DIR.into() }),
                    )
                    .collect(),
                    tmp_size_bytes: SPARE_TMP_BYTES,
                    limits,
                })
                .map_err(sandbox_error)?;
            sandbox.start().map_err(sandbox_error)?;
        }
        Ok(Spare { sandbox, listener, endpoint, lease, output: reader, zygote_stdin, host_uid })
    }
}

/// Whether a function of `family` may run in a zygote: none of its own
/// variables may be one the runtime or the C library reads only at process
/// start (for Node.js also OpenSSL's and ICU's).
pub(crate) fn zygote_compatible<'a>(family: RuntimeFamily, names: impl IntoIterator<Item = &'a String>) -> bool {
    const COMMON: [&str; 4] = ["LC_", "LD_", "MALLOC_", "GLIBC_"];
    let own: &[&str] = match family {
        RuntimeFamily::Python => &["PYTHON"],
        RuntimeFamily::Nodejs => &["NODE_", "UV_", "OPENSSL_", "SSL_CERT_"],
        RuntimeFamily::Java | RuntimeFamily::Custom => return false,
    };
    !names.into_iter().any(|k| COMMON.iter().chain(own).any(|p| k.starts_with(p)) || k == "LANG" || k == "LANGUAGE")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_read_at_interpreter_start_rule_out_a_zygote() {
        let vars = |k: &str| vec!["TABLE".to_owned(), k.to_owned()];
        let (python, node) = (RuntimeFamily::Python, RuntimeFamily::Nodejs);
        assert!(zygote_compatible(python, &vars("MY_SETTING")));
        assert!(zygote_compatible(node, &vars("NODEJS_STYLE")));
        assert!(zygote_compatible(python, &Vec::new()));
        for k in ["PYTHONPATH", "PYTHONHASHSEED", "LC_ALL", "LANG", "LD_PRELOAD", "MALLOC_ARENA_MAX", "GLIBC_TUNABLES"]
        {
            assert!(!zygote_compatible(python, &vars(k)), "{k}");
        }
        assert!(zygote_compatible(python, &vars("NODE_OPTIONS")));
        for k in ["NODE_OPTIONS", "NODE_EXTRA_CA_CERTS", "UV_THREADPOOL_SIZE", "LC_ALL", "SSL_CERT_FILE"] {
            assert!(!zygote_compatible(node, &vars(k)), "{k}");
        }
        assert!(!zygote_compatible(RuntimeFamily::Java, &Vec::new()));
    }
}
