//! The engine: runs invocations in execution environments.
//!
//! Environments are kept warm per function version (a function's name and
//! the revision of its configuration) and reused one invocation at a time;
//! parallel invocations get parallel environments. An idle environment is
//! frozen after a short grace period and thawed when the next invocation
//! takes it; idle ones are retired after the keep-alive time, when there are
//! too many, and when their function changes. Reuse is never promised.

mod code;
mod endpoint;
mod environment;
mod error;
mod ids;
mod layout;
mod logs;
mod outcome;
mod pool;
mod runtimes;
mod spares;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use lambdabox_model::{FunctionConfig, Region, RuntimeRegistry};
use lambdabox_runtime_api::Invocation;
use lambdabox_sandbox::{CgroupConfig, RootfsConfig};

pub use code::{CodeCache, UnpackAs};
pub use endpoint::{EndpointCaller, InsideEndpoint};
pub use error::EngineError;
pub use ids::{DEFAULT_FIRST_ID, DEFAULT_ID_COUNT, HostIds};
pub use logs::{LogLimits, TAIL_BYTES, tail_base64};
pub use outcome::Outcome;
pub use runtimes::Interpreters;

use crate::environment::{EnvironmentSpec, ExecutionEnvironment};
use crate::pool::{PoolKey, Pools};
use crate::runtimes::RuntimeClients;
use crate::spares::{SpareKind, Spares};

/// How the engine runs environments.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Code, runtime clients and logs live under it.
    pub data_dir: PathBuf,
    /// Where the files sandboxes open live (unpacked code, runtime clients,
    /// staging mounts): derived data only, rebuilt on demand. The data dir
    /// itself when the sandbox user can traverse every directory above it,
    /// else a directory of this data dir's own under the system's temp dir.
    pub work_dir: PathBuf,
    pub cgroups: CgroupConfig,
    pub rootfs: RootfsConfig,
    /// The host ids sandboxes run as (each its own uid, as root), and who
    /// unpacks deployment packages.
    pub host_ids: HostIds,
    pub interpreters: Interpreters,
    pub runtimes: RuntimeRegistry,
    /// How long INIT may take.
    pub init_timeout: Duration,
    /// How long an idle environment runs on before it is frozen.
    pub freeze_grace: Duration,
    /// How long an idle environment is kept.
    pub keep_alive: Duration,
    /// The most idle environments kept; the least recently used go first.
    pub max_idle: usize,
    pub pids_max: u32,
    /// How many spare sandboxes (built ahead, assigned a function at its
    /// cold start) are kept ready; 0 builds every sandbox on demand.
    pub spare_sandboxes: usize,
    /// How many Python zygotes (spares with the Python runtime started and
    /// its client imported, waiting for a function) are kept ready.
    pub python_zygotes: usize,
    /// The same for Node.js.
    pub nodejs_zygotes: usize,
    /// How much log a function and an invocation may write.
    pub log_limits: LogLimits,
    /// The AWS SDKs mounted into each family's environments, when installed.
    pub sdks: RuntimeSdks,
    /// The anonymous network every environment is attached to (an `eth0`
    /// with egress); `None`: loopback only. Set `rootfs.resolv_conf` with it.
    pub network: Option<lambdabox_network::FunctionNetwork>,
}

/// Twelve hex digits naming a data dir's own host resources (its cgroup
/// parent; the first six its function network's bridge and table).
pub fn data_dir_tag(data_dir: &std::path::Path) -> String {
    code::digest_hex(data_dir.as_os_str().as_encoded_bytes())[..12].to_owned()
}

/// Where the installed AWS SDKs are on the host (see `lambdabox-sdks`).
#[derive(Debug, Clone, Default)]
pub struct RuntimeSdks {
    /// A `site-packages` tree, mounted at `/var/lang/lib/python-sdk` (on
    /// `sys.path` after `/var/runtime`, below the function's code and layers).
    pub python: Option<PathBuf>,
    /// A `node_modules` tree, mounted at `/var/runtime/node_modules`, where
    /// AWS's Node.js runtimes keep theirs (on `NODE_PATH` after the layers).
    pub nodejs: Option<PathBuf>,
}

impl EngineConfig {
    /// The defaults for a data dir, detecting the cgroup layout of the host.
    pub fn new(data_dir: PathBuf) -> Result<Self, EngineError> {
        // One cgroup parent per data dir: a restarted server kills what its
        // predecessor left running, and never another server's sandboxes.
        let id = data_dir_tag(&data_dir);
        let parent = format!("lambdabox-{id}");
        let work_dir = if reachable_above(&data_dir) {
            data_dir.clone()
        } else {
            let dir = std::env::temp_dir().join(format!("lambdabox-{id}"));
            tracing::info!(data_dir = %data_dir.display(), work_dir = %dir.display(),
                "the sandbox user cannot reach the data dir; unpacked code and runtimes go to the work dir");
            dir
        };
        let cgroups =
            CgroupConfig::detect("/sys/fs/cgroup", parent).map_err(|source| EngineError::Cgroups { source })?;
        Ok(Self {
            rootfs: RootfsConfig { staging_dir: work_dir.join("staging"), ..RootfsConfig::default() },
            data_dir,
            work_dir,
            cgroups,
            host_ids: HostIds::detect(),
            interpreters: Interpreters::default(),
            runtimes: RuntimeRegistry::builtin(),
            init_timeout: Duration::from_secs(10),
            freeze_grace: Duration::from_millis(50),
            keep_alive: Duration::from_secs(600),
            max_idle: default_max_idle(),
            pids_max: 1024,
            spare_sandboxes: 4,
            python_zygotes: 2,
            nodejs_zygotes: 2,
            log_limits: LogLimits::default(),
            sdks: RuntimeSdks::default(),
            network: None,
        })
    }
}

/// One synchronous invocation.
#[derive(Debug, Clone)]
pub struct InvokeRequest {
    /// The id the function sees as its request id (`aws_request_id`).
    pub request_id: String,
    /// The version's configuration.
    pub function: FunctionConfig,
    /// The ARN the caller invoked (`Lambda-Runtime-Invoked-Function-Arn`).
    pub invoked_arn: String,
    pub region: Region,
    /// The event; already checked to be JSON.
    pub payload: Bytes,
    /// The decoded `X-Amz-Client-Context`.
    pub client_context: Option<String>,
    /// The function's layers in order: (blob key, zip on the host).
    pub layer_zips: Vec<(String, PathBuf)>,
}

/// What an invocation produced.
#[derive(Debug, Clone)]
pub struct InvokeResult {
    pub request_id: String,
    pub outcome: Outcome,
    /// The invocation's log: START, what the function printed, END, REPORT.
    pub log: Vec<u8>,
    pub executed_version: String,
    /// Whether a new environment was started for it.
    pub cold_start: bool,
}

/// The engine. Cheap to share (`Arc`).
pub struct Engine {
    config: EngineConfig,
    code: CodeCache,
    clients: RuntimeClients,
    pools: Arc<Pools>,
    next_id: AtomicU64,
    boot: String,
    /// Provisioned concurrency targets by function version.
    provisioned: std::sync::Mutex<std::collections::HashMap<PoolKey, usize>>,
    spares: Arc<Spares>,
    python_zygotes: Arc<Spares>,
    node_zygotes: Arc<Spares>,
    logs: Arc<logs::LogQuotas>,
    ids: Arc<ids::IdPool>,
    /// Serves each environment's AWS endpoint; set once by the server.
    endpoint: std::sync::OnceLock<Arc<dyn InsideEndpoint>>,
}

impl Engine {
    /// Gives every environment started from now on an AWS endpoint served
    /// by `endpoint` (its variables then carry `AWS_ENDPOINT_URL` and
    /// minted credentials). Only the first call counts.
    pub fn set_inside_endpoint(&self, endpoint: Arc<dyn InsideEndpoint>) {
        if self.endpoint.set(endpoint).is_err() {
            tracing::warn!("the inside endpoint was already set");
        }
    }

    /// Prepares the data dir (code cache, runtime clients, staging dir).
    pub fn new(config: EngineConfig) -> Result<Arc<Self>, EngineError> {
        let group = config.host_ids.sandbox_group();
        let made = |dir: &std::path::Path, mode: u32| {
            std::fs::create_dir_all(dir)
                .and_then(|()| share_with_sandboxes(dir, mode, group))
                .map_err(|source| EngineError::Unpack { path: dir.to_owned(), source })
        };
        // The sandboxes' way to their files: traverse, never list.
        made(&config.work_dir, 0o710)?;
        check_reachable(&config.work_dir)?;
        match config.cgroups.kill_leftovers() {
            Ok(ids) if !ids.is_empty() => tracing::info!(count = ids.len(), "killed sandboxes a previous server left"),
            Ok(_) => {}
            Err(source) => return Err(EngineError::Cgroups { source }),
        }
        let code = CodeCache::new(config.work_dir.join("code"), config.host_ids.unpack_as(), group)?;
        let clients = RuntimeClients::install(&config.work_dir.join("runtime"), &config.interpreters.python)?;
        made(&config.rootfs.staging_dir, 0o710)?;
        let empty_dir = config.work_dir.join("empty");
        made(&empty_dir, 0o750)?;
        let ids = ids::IdPool::new(config.host_ids);
        let boot = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
        let spares = Spares::new(
            config.clone(),
            ids.clone(),
            SpareKind::Sandbox,
            config.spare_sandboxes,
            format!("lbx-{boot}-s"),
        );
        let zygotes = |family, count: usize, tag: &str| match clients.dir(family) {
            Some(runtime_dir) if count > 0 => Spares::new(
                config.clone(),
                ids.clone(),
                SpareKind::Zygote { family, runtime_dir, empty_dir: empty_dir.clone() },
                count,
                format!("lbx-{boot}-{tag}"),
            ),
            _ => Spares::new(config.clone(), ids.clone(), SpareKind::Sandbox, 0, format!("lbx-{boot}-{tag}")),
        };
        let python_zygotes = zygotes(lambdabox_model::RuntimeFamily::Python, config.python_zygotes, "zp");
        let node_zygotes = zygotes(lambdabox_model::RuntimeFamily::Nodejs, config.nodejs_zygotes, "zn");
        let logs = Arc::new(logs::LogQuotas::new(config.data_dir.join("logs"), config.log_limits));
        let engine = Arc::new(Self {
            spares,
            python_zygotes,
            node_zygotes,
            config,
            code,
            clients,
            pools: Arc::new(Pools::default()),
            next_id: AtomicU64::new(1),
            boot,
            provisioned: Default::default(),
            logs,
            ids,
            endpoint: std::sync::OnceLock::new(),
        });
        pool::spawn_reaper(Arc::downgrade(&engine.pools), engine.config.keep_alive);
        pool::spawn_freezer(Arc::downgrade(&engine.pools), engine.config.freeze_grace);
        Ok(engine)
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Runs one invocation. `code_zip` is the package's file on the host.
    pub async fn invoke(&self, request: InvokeRequest, code_zip: PathBuf) -> Result<InvokeResult, EngineError> {
        let f = &request.function;
        let spec = self
            .config
            .runtimes
            .resolve(&f.runtime)
            .map_err(|_| EngineError::UnknownRuntime { runtime: f.runtime.clone() })?;
        let family = spec.family;
        let key = PoolKey::of(f, &request.region);
        let request_id = request.request_id.clone();
        let timeout = Duration::from_secs(u64::from(f.timeout.get()));
        // Retirements from here on (a delete or update while this runs) keep
        // the environment from going back to the pool.
        let epoch = self.pools.epoch();
        let warm = loop {
            match self.pools.take(&key) {
                Some(mut env) => {
                    if env.is_alive() {
                        break Some(env);
                    }
                    env.retire().await;
                }
                None => break None,
            }
        };
        let (mut env, cold_start) = match warm {
            Some(env) => (env, false),
            None => {
                let (code_dir, opt_dir) = self.unpack(&request, code_zip).await?;
                let id = format!("lbx-{}-{}", self.boot, self.next_id.fetch_add(1, Ordering::Relaxed));
                let spec = EnvironmentSpec {
                    id,
                    function: f.clone(),
                    region: request.region.clone(),
                    family,
                    code_dir,
                    opt_dir,
                    runtime_dir: self.clients.dir(family),
                    provisioned: false,
                    logs: self.logs.clone(),
                    ids: self.ids.clone(),
                    endpoint: self.endpoint.get().cloned(),
                };
                match self.start_environment(spec, timeout).await? {
                    Ok(env) => (env, true),
                    Err(outcome) => {
                        let log = init_failure_log(&request_id, &f.version, &outcome);
                        return Ok(InvokeResult {
                            request_id,
                            outcome,
                            log,
                            executed_version: f.version.clone(),
                            cold_start: true,
                        });
                    }
                }
            }
        };
        if let Err(error) = env.thaw() {
            tracing::warn!(%error, env = %env.id, "thaw failed; retiring the environment");
            env.retire().await;
            return Err(error);
        }
        // The deadline counts from when the invocation reaches its
        // environment (after any cold start), as on AWS.
        let deadline = SystemTime::now() + timeout;
        let invocation = Invocation {
            request_id: request_id.clone(),
            payload: request.payload.clone(),
            deadline_epoch_ms: deadline.duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0),
            invoked_function_arn: request.invoked_arn.clone(),
            trace_id: trace_id(),
            client_context: request.client_context.clone(),
            cognito_identity: None,
        };
        let (outcome, log) = env.invoke(invocation, timeout).await;
        if env.provisioned && !self.provisioned_keys().contains_key(&key) {
            env.provisioned = false;
        }
        if outcome.keeps_environment() && env.is_alive_hint() {
            if let Some(retired) = self.pools.put_after(key, env, self.config.max_idle, epoch) {
                retired.retire().await;
            }
        } else {
            env.retire().await;
        }
        Ok(InvokeResult { request_id, outcome, log, executed_version: f.version.clone(), cold_start })
    }

    /// The unpacked code (for `/var/task`) and layers (for `/opt`) of a request.
    async fn unpack(
        &self,
        request: &InvokeRequest,
        code_zip: PathBuf,
    ) -> Result<(PathBuf, Option<PathBuf>), EngineError> {
        let blob_key = request.function.code.blob_key.clone();
        let layers = request.layer_zips.clone();
        let code = self.code.clone();
        tokio::task::spawn_blocking(move || Ok((code.ensure(&blob_key, &code_zip)?, code.ensure_layers(&layers)?)))
            .await
            .expect("unpacking does not panic")
    }

    /// Starts an environment. INIT gets [`EngineConfig::init_timeout`]; when
    /// it runs out, INIT is tried once more with the function's own timeout,
    /// as AWS does for on-demand environments.
    async fn start_environment(
        &self,
        spec: EnvironmentSpec,
        function_timeout: Duration,
    ) -> Result<Result<ExecutionEnvironment, Outcome>, EngineError> {
        let retry = EnvironmentSpec { id: format!("{}-r", spec.id), ..spec.clone() };
        let spare = self.spare_for(&spec);
        match ExecutionEnvironment::start(&self.config, spec, self.config.init_timeout, spare).await? {
            Err(Outcome::Timeout { .. }) => {
                let spare = self.spare_for(&retry);
                ExecutionEnvironment::start(&self.config, retry, function_timeout, spare).await
            }
            other => Ok(other),
        }
    }

    /// A zygote of the function's family when it can use one, else a spare
    /// sandbox, if one is ready.
    fn spare_for(&self, spec: &EnvironmentSpec) -> Option<spares::Spare> {
        let zygotes = match spec.family {
            lambdabox_model::RuntimeFamily::Python => Some(&self.python_zygotes),
            lambdabox_model::RuntimeFamily::Nodejs => Some(&self.node_zygotes),
            _ => None,
        };
        if let Some(zygotes) = zygotes {
            let names = spec.function.environment.iter().flat_map(|e| e.variables().keys());
            if spares::zygote_compatible(spec.family, names)
                && let Some(zygote) = zygotes.take()
            {
                return Some(zygote);
            }
        }
        self.spares.take()
    }

    fn provisioned_keys(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<PoolKey, usize>> {
        self.provisioned.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keeps `count` environments of a version initialised ahead of demand
    /// (provisioned concurrency): starts the missing ones, retires extra
    /// idle ones; `count` 0 releases them all. Returns how many are ready.
    pub async fn provision(
        &self,
        request: &InvokeRequest,
        code_zip: PathBuf,
        count: usize,
    ) -> Result<usize, EngineError> {
        let f = &request.function;
        let key = PoolKey::of(f, &request.region);
        if count == 0 {
            self.provisioned_keys().remove(&key);
        } else {
            self.provisioned_keys().insert(key.clone(), count);
        }
        for env in self.pools.take_provisioned_beyond(&key, count) {
            env.retire().await;
        }
        let family = self
            .config
            .runtimes
            .resolve(&f.runtime)
            .map_err(|_| EngineError::UnknownRuntime { runtime: f.runtime.clone() })?
            .family;
        let (code_dir, opt_dir) = self.unpack(request, code_zip).await?;
        let mut ready = self.pools.provisioned_idle(&key);
        while ready < count {
            if self.provisioned_keys().get(&key) != Some(&count) {
                break; // changed or released meanwhile
            }
            let spec = EnvironmentSpec {
                id: format!("lbx-{}-{}", self.boot, self.next_id.fetch_add(1, Ordering::Relaxed)),
                function: f.clone(),
                region: request.region.clone(),
                family,
                code_dir: code_dir.clone(),
                opt_dir: opt_dir.clone(),
                runtime_dir: self.clients.dir(family),
                provisioned: true,
                logs: self.logs.clone(),
                ids: self.ids.clone(),
                endpoint: self.endpoint.get().cloned(),
            };
            // Provisioning is not waited on by an invocation: it leaves the
            // spares to cold starts.
            match ExecutionEnvironment::start(&self.config, spec, self.config.init_timeout, None).await? {
                Ok(env) => self.pools.put(key.clone(), env, self.config.max_idle),
                Err(outcome) => {
                    tracing::warn!(?outcome, function = %f.name, "provisioned environment failed INIT");
                    break;
                }
            }
            ready += 1;
        }
        Ok(self.pools.provisioned_idle(&key))
    }

    /// How many provisioned environments of a version are idle and ready.
    pub fn provisioned_ready(&self, f: &FunctionConfig, region: &Region) -> usize {
        self.pools.provisioned_idle(&PoolKey::of(f, region))
    }

    /// Retires every idle environment of a function (after a delete).
    pub async fn retire_function(&self, name: &str) {
        for env in self.pools.remove_function(name) {
            env.retire().await;
        }
    }

    /// Retires the idle environments of one version of a function (`$LATEST`
    /// after an update, a published version after it is deleted).
    pub async fn retire_version(&self, name: &str, version: &str) {
        for env in self.pools.remove_version(name, version) {
            env.retire().await;
        }
    }

    /// Retires every idle environment and spare sandbox (at shutdown).
    pub async fn shutdown(&self) {
        let spares = (self.spares.close(), self.python_zygotes.close(), self.node_zygotes.close());
        let _ = tokio::task::spawn_blocking(move || drop(spares)).await;
        for env in self.pools.drain_all() {
            env.retire().await;
        }
        // The data dir's cgroup parents, now empty, go too.
        let removed = self.config.cgroups.remove_parents();
        tracing::debug!(removed, "removed the sandboxes' cgroup parents");
    }

    /// Idle environments, and how many of them are frozen.
    pub fn idle_counts(&self) -> (usize, usize) {
        self.pools.counts()
    }
}

/// How many idle environments to keep: one per 16 MiB of the host's memory
/// (a frozen Python environment costs about 6–8 MiB), between 256 and 4,096.
fn default_max_idle() -> usize {
    let total_kib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().find_map(|l| l.strip_prefix("MemTotal:").map(str::trim).map(str::to_owned)))
        .and_then(|v| v.trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap_or(0);
    ((total_kib / (16 * 1024)) as usize).clamp(256, 4096)
}

/// Whether others may traverse every directory above `dir`.
fn reachable_above(dir: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    dir.ancestors().skip(1).all(|d| std::fs::metadata(d).map(|m| m.permissions().mode() & 0o001 != 0).unwrap_or(true))
}

/// Sandboxes open their files as an unprivileged user, so every directory
/// above the work dir must let others pass.
fn check_reachable(work_dir: &std::path::Path) -> Result<(), EngineError> {
    use std::os::unix::fs::PermissionsExt;
    for dir in work_dir.ancestors().skip(1) {
        let Ok(meta) = std::fs::metadata(dir) else { continue };
        if meta.permissions().mode() & 0o001 == 0 {
            return Err(EngineError::Unreachable { data_dir: work_dir.to_owned(), blocking: dir.to_owned() });
        }
    }
    Ok(())
}

/// Gives `dir` (the server's) to the sandbox group with `mode` (owner
/// root): what sandboxes must reach is open to them and to nobody else.
/// Without a sandbox group (a server that is not root, whose sandboxes are
/// its own uid), the directory is the owner's alone.
pub(crate) fn share_with_sandboxes(dir: &std::path::Path, mode: u32, group: Option<u32>) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = match group {
        Some(gid) => {
            nix::unistd::chown(dir, None, Some(gid.into()))?;
            mode
        }
        None => mode & 0o700,
    };
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode))
}

/// AWS X-Ray's trace header format: `Root=1-<8 hex time>-<24 hex>;Parent=<16 hex>;Sampled=0`.
fn trace_id() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let r = uuid::Uuid::new_v4().simple().to_string();
    format!("Root=1-{secs:08x}-{};Parent={};Sampled=0", &r[..24], &r[16..32])
}

/// The log of an invocation whose environment never finished INIT.
fn init_failure_log(request_id: &str, version: &str, outcome: &Outcome) -> Vec<u8> {
    let mut log = format!("START RequestId: {request_id} Version: {version}\n");
    if let Some(kind) = outcome.error_type() {
        log.push_str(&format!("INIT_REPORT Status: error\tError Type: {kind}\n"));
    }
    log.push_str(&format!("END RequestId: {request_id}\n"));
    log.into_bytes()
}
