//! One execution environment: a sandboxed runtime process, the Runtime API
//! it talks to, and its log stream. It runs one invocation at a time and is
//! frozen between them.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use lambdabox_aws::session::SessionCredentials;
use lambdabox_model::{FunctionConfig, Region, RuntimeFamily};
use lambdabox_runtime_api::{Invocation, InvocationOutcome, RuntimeApi};
use lambdabox_sandbox::{Assignment, BindMount, ExitStatus, Limits, Sandbox, SandboxSpec};
use tokio::io::unix::AsyncFd;
use tokio::net::unix::pipe;
use tokio::task::JoinHandle;

use crate::endpoint::{EndpointCaller, EndpointTask, InsideEndpoint};
use crate::ids::HostUid;
use crate::layout::{AWS_ENDPOINT_ADDR, RUNTIME_API_ADDR, SPARE_TMP_BYTES, attach_network, base_env, output_pipe};
use crate::logs::{LogStream, Report};
use crate::runtimes::argv;
use crate::spares::Spare;
use crate::{EngineConfig, EngineError, Outcome};

/// What an environment is made from.
#[derive(Debug, Clone)]
pub struct EnvironmentSpec {
    pub id: String,
    pub function: FunctionConfig,
    pub region: Region,
    pub family: RuntimeFamily,
    pub code_dir: PathBuf,
    /// The function's layers, merged (mounted at `/opt`).
    pub opt_dir: Option<PathBuf>,
    pub runtime_dir: Option<PathBuf>,
    /// Started ahead of demand for provisioned concurrency: its INIT is not
    /// reported in the first REPORT line, and the runtime sees
    /// `AWS_LAMBDA_INITIALIZATION_TYPE=provisioned-concurrency`.
    pub provisioned: bool,
    /// Where its log stream goes, and the log quotas.
    pub(crate) logs: std::sync::Arc<crate::logs::LogQuotas>,
    /// The host uids sandboxes take.
    pub(crate) ids: std::sync::Arc<crate::ids::IdPool>,
    /// Serves the environment's AWS endpoint, when the server has one.
    pub(crate) endpoint: Option<std::sync::Arc<dyn InsideEndpoint>>,
}

/// A live execution environment.
pub struct ExecutionEnvironment {
    pub id: String,
    sandbox: Option<Sandbox>,
    api: RuntimeApi,
    server: JoinHandle<()>,
    /// Serves the environment's AWS endpoint (stopped when dropped).
    _endpoint: Option<EndpointTask>,
    /// Its address on the function network (given back when dropped).
    _lease: Option<lambdabox_network::Lease>,
    /// The depth of its current invocation in a chain of invocations, for
    /// its endpoint's recursion check.
    depth: std::sync::Arc<std::sync::atomic::AtomicU32>,
    exited: AsyncFd<OwnedFd>,
    output: pipe::Receiver,
    output_closed: bool,
    logs: LogStream,
    buf: Vec<u8>,
    memory_size_mb: u32,
    version: String,
    frozen: bool,
    /// Set on the first invocation after a cold start, reported once.
    pending_init: Option<Duration>,
    /// Kept for provisioned concurrency: never expired or evicted while idle.
    pub provisioned: bool,
    /// The sandbox's host uid, given back once the sandbox is gone (so it
    /// is declared after `sandbox`, which kills it when dropped).
    _host_uid: HostUid,
}

/// What one step of an invocation ended with.
enum Step<T> {
    Done(T),
    Exited,
    TimedOut,
}

impl ExecutionEnvironment {
    /// Creates the sandbox, starts the runtime and waits for its INIT to
    /// finish. An INIT that fails is returned as the invocation's outcome.
    pub async fn start(
        config: &EngineConfig,
        spec: EnvironmentSpec,
        init_timeout: Duration,
        spare: Option<Spare>,
    ) -> Result<Result<Self, Outcome>, EngineError> {
        let started = Instant::now();
        let f = &spec.function;
        if spec.family == RuntimeFamily::Custom
            && let Err(message) = check_bootstrap(&spec.code_dir, spec.opt_dir.as_deref())
        {
            return Ok(Err(Outcome::InvalidEntrypoint { message }));
        }
        let logs = LogStream::open(&spec.logs, f.name.as_str(), &f.version)?;

        let mut mounts = vec![BindMount { source: spec.code_dir.clone(), target: "/var/task".into() }];
        if let Some(dir) = &spec.runtime_dir {
            mounts.push(BindMount { source: dir.clone(), target: "/var/runtime".into() });
        }
        mounts.extend(crate::runtimes::sdk_mount(spec.family, &config.sdks));
        let node_layers = crate::runtimes::layers_have_node_modules(spec.opt_dir.as_deref());
        if let (RuntimeFamily::Nodejs, Some(sdk), false) = (spec.family, &config.sdks.nodejs, node_layers) {
            mounts.push(BindMount { source: sdk.clone(), target: crate::runtimes::ESM_SDK_DIR.into() });
        }
        // /opt always exists, as on AWS: the layers, or an empty directory.
        let opt = spec.opt_dir.clone().unwrap_or_else(|| config.work_dir.join("empty"));
        mounts.push(BindMount { source: opt, target: "/opt".into() });
        let bootstrap = if crate::code::stat_in(&spec.code_dir, "bootstrap").is_some_and(|m| m.is_file()) {
            "/var/task/bootstrap"
        } else {
            "/opt/bootstrap"
        };
        let memory_mb = f.memory_size.get();
        // Minted per environment, as AWS hands each its role's session.
        let credentials = spec.endpoint.as_ref().map(|_| SessionCredentials::mint());
        let assignment = Assignment {
            argv: argv(spec.family, &config.interpreters, bootstrap),
            env: environment(&spec, &logs.name, credentials.as_ref()),
            cwd: "/var/task".into(),
            mounts,
            tmp_size_bytes: u64::from(f.ephemeral_storage.get()) << 20,
            limits: Limits {
                memory_bytes: u64::from(memory_mb) << 20,
                pids_max: config.pids_max,
                // AWS gives one vCPU at 1,769 MB and scales CPU with memory.
                cpu_weight: (memory_mb * 100 / 1769).clamp(1, 10_000),
            },
        };
        let mut started_already = false;
        let (sandbox, listener, endpoint, lease, output, host_uid) = match spare {
            Some(Spare { sandbox, listener, endpoint, lease, output, zygote_stdin: Some(stdin), host_uid }) => {
                // Mounted into the running zygote: the code, the layers and,
                // for Node.js functions whose layers carry packages, an empty
                // directory over the SDK at /var/node_modules (see ESM_SDK_DIR).
                let mut late = vec![BindMount { source: spec.code_dir.clone(), target: "/var/task".into() }];
                if let Some(opt) = &spec.opt_dir {
                    late.push(BindMount { source: opt.clone(), target: "/opt".into() });
                }
                if spec.family == RuntimeFamily::Nodejs && config.sdks.nodejs.is_some() && node_layers {
                    late.push(BindMount {
                        source: config.work_dir.join("empty"),
                        target: crate::runtimes::ESM_SDK_DIR.into(),
                    });
                }
                let (limits, tmp) = (assignment.limits, assignment.tmp_size_bytes);
                let env: serde_json::Map<String, serde_json::Value> =
                    assignment.env.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect();
                let message = serde_json::to_vec(&env).expect("a map of strings serialises");
                let handed = tokio::task::spawn_blocking(move || {
                    hand_to_zygote(&sandbox, &late, &limits, tmp, stdin, &message).map(|()| sandbox)
                })
                .await
                .expect("handing a function to a zygote does not panic");
                match handed {
                    Ok(sandbox) => {
                        started_already = true;
                        (sandbox, listener, endpoint, lease, output, host_uid)
                    }
                    Err(error) => {
                        tracing::warn!(%error, "a zygote could not take the function; building a sandbox");
                        create(config, &spec, assignment).await?
                    }
                }
            }
            Some(Spare { mut sandbox, listener, endpoint, lease, output, zygote_stdin: None, host_uid }) => {
                let program = assignment.clone();
                let assigned = tokio::task::spawn_blocking(move || sandbox.assign(program).map(|()| sandbox))
                    .await
                    .expect("assigning a spare does not panic");
                match assigned {
                    Ok(sandbox) => (sandbox, listener, endpoint, lease, output, host_uid),
                    Err(error) => {
                        tracing::warn!(%error, "a spare sandbox could not be assigned; building one");
                        create(config, &spec, assignment).await?
                    }
                }
            }
            None => create(config, &spec, assignment).await?,
        };
        let output = pipe::Receiver::from_owned_fd(output).map_err(|source| EngineError::Pipe { source })?;
        listener.set_nonblocking(true).map_err(|source| EngineError::Listen { source })?;
        let listener = tokio::net::TcpListener::from_std(listener).map_err(|source| EngineError::Listen { source })?;
        let api = RuntimeApi::new();
        let server = tokio::spawn(lambdabox_runtime_api::serve(listener, api.clone()));
        let depth = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
        let endpoint = match (&spec.endpoint, credentials) {
            (Some(inside), Some(credentials)) => {
                let caller = EndpointCaller {
                    function_name: f.name.to_string(),
                    role: f.role.clone(),
                    version: f.version.clone(),
                    region: spec.region.clone(),
                    credentials,
                    depth: depth.clone(),
                };
                Some(EndpointTask::start(inside, endpoint, caller).map_err(|source| EngineError::Listen { source })?)
            }
            _ => None,
        };
        let pidfd = sandbox.pidfd().try_clone_to_owned().map_err(|source| EngineError::Pipe { source })?;
        // SAFETY: `pidfd` is an open descriptor the AsyncFd owns from here
        // on; an OwnedFd always reports the same descriptor and closes it
        // only when dropped with the AsyncFd.
        let exited = unsafe { AsyncFd::register_with_interest(pidfd, tokio::io::Interest::READABLE) }
            .map_err(|e| EngineError::Pipe { source: e.into() })?;

        let mut env = Self {
            id: sandbox.id().to_owned(),
            sandbox: Some(sandbox),
            api,
            server,
            _endpoint: endpoint,
            _lease: lease,
            depth,
            exited,
            output,
            output_closed: false,
            logs,
            buf: vec![0; 16 * 1024],
            memory_size_mb: memory_mb,
            version: f.version.clone(),
            frozen: false,
            pending_init: None,
            provisioned: spec.provisioned,
            _host_uid: host_uid,
        };
        match if started_already { Ok(()) } else { env.sandbox_mut().start() } {
            Ok(()) => {}
            Err(lambdabox_sandbox::SandboxError::Exec { program, source, .. }) => {
                env.retire().await;
                let reason = match source {
                    nix::errno::Errno::EACCES => "permission denied".to_owned(),
                    nix::errno::Errno::ENOENT => "no such file or directory".to_owned(),
                    other => other.desc().to_lowercase(),
                };
                return Ok(Err(Outcome::InvalidEntrypoint { message: format!("fork/exec {program}: {reason}") }));
            }
            Err(source) => return Err(EngineError::Sandbox { id: env.id.clone(), source }),
        }

        let api = env.api.clone();
        let ready = env.drive(async move { api.wait_ready().await }, init_timeout).await;
        let outcome = match ready {
            Step::Done(Ok(())) => {
                if !env.provisioned {
                    env.pending_init = Some(started.elapsed());
                }
                return Ok(Ok(env));
            }
            Step::Done(Err(failure)) => Outcome::InitError { error_type: failure.error_type, body: failure.body },
            Step::Exited => env.exit_outcome(),
            Step::TimedOut => Outcome::Timeout { seconds: init_timeout.as_secs_f64() },
        };
        env.retire().await;
        Ok(Err(outcome))
    }

    fn sandbox_mut(&mut self) -> &mut Sandbox {
        self.sandbox.as_mut().expect("the sandbox lives until retire")
    }

    /// Runs `work` while copying the environment's output into its log,
    /// racing the process's exit and `timeout`.
    async fn drive<T>(&mut self, work: impl Future<Output = T>, timeout: Duration) -> Step<T> {
        let Self { exited, output, output_closed, logs, buf, .. } = self;
        let raced = async {
            tokio::select! {
                r = work => Step::Done(r),
                _ = exited.readable() => Step::Exited,
                _ = tokio::time::sleep(timeout) => Step::TimedOut,
            }
        };
        tokio::pin!(raced);
        loop {
            tokio::select! {
                biased;
                step = &mut raced => {
                    drain(output, output_closed, logs, buf);
                    return step;
                }
                ready = output.readable(), if !*output_closed => {
                    if ready.is_err() {
                        *output_closed = true;
                    }
                    drain(output, output_closed, logs, buf);
                }
            }
        }
    }

    /// What to tell the caller when the runtime process has exited.
    fn exit_outcome(&mut self) -> Outcome {
        let sandbox = self.sandbox_mut();
        let status = sandbox.try_wait().ok().flatten();
        let out_of_memory = sandbox.oom_killed();
        let status = match status {
            Some(ExitStatus::Exited(code)) => format!("exit status {code}"),
            Some(ExitStatus::Signaled(signal)) => format!("signal: {}", signal_name(signal)),
            None => "signal: killed".to_owned(),
        };
        Outcome::RuntimeExit { status, out_of_memory }
    }

    /// Runs one invocation. The environment is still usable afterwards only
    /// when [`Outcome::keeps_environment`] says so.
    pub async fn invoke(&mut self, invocation: Invocation, timeout: Duration) -> (Outcome, Vec<u8>) {
        let request_id = invocation.request_id.clone();
        // Called from another environment's endpoint, the invocation is one
        // deeper in its chain than that environment's own.
        self.depth.store(lambdabox_aws::session::chain_depth(), std::sync::atomic::Ordering::Relaxed);
        drain(&mut self.output, &mut self.output_closed, &mut self.logs, &mut self.buf);
        self.logs.start(&request_id, &self.version);
        let started = Instant::now();
        let api = self.api.clone();
        let step = self.drive(async move { api.invoke(invocation).await }, timeout).await;
        let duration = started.elapsed();
        let outcome = match step {
            Step::Done(Ok(InvocationOutcome::Response(body))) => Outcome::Ok(body),
            Step::Done(Ok(InvocationOutcome::FunctionError { error_type, body })) => {
                Outcome::FunctionError { error_type, body }
            }
            Step::Done(Ok(InvocationOutcome::ResponseTooLarge)) => Outcome::ResponseTooLarge,
            Step::Done(Err(error)) => {
                tracing::warn!(%error, env = %self.id, "runtime api refused the invocation");
                Outcome::RuntimeExit { status: error.to_string(), out_of_memory: false }
            }
            Step::Exited => self.exit_outcome(),
            Step::TimedOut => Outcome::Timeout { seconds: timeout.as_secs_f64() },
        };
        if let Outcome::Timeout { seconds } = outcome {
            let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ");
            self.logs.line(&format!("{now} {request_id} Task timed out after {seconds:.2} seconds"));
        }
        if let Outcome::RuntimeExit { status, .. } = &outcome {
            self.logs.line(&format!("RequestId: {request_id} Error: Runtime exited with error: {status}"));
        }
        let report = Report {
            duration,
            memory_size_mb: self.memory_size_mb,
            max_memory_used_mb: self
                .sandbox
                .as_ref()
                .and_then(|s| s.memory_peak_bytes())
                .unwrap_or(0)
                .div_ceil(1 << 20),
            init_duration: self.pending_init.take(),
        };
        let log = self.logs.finish(&request_id, &report);
        (outcome, log)
    }

    /// Whether the runtime process is still running (a runtime may exit on
    /// purpose after reporting an error, as Java's does after an
    /// `OutOfMemoryError`).
    pub fn is_alive(&mut self) -> bool {
        matches!(self.sandbox.as_mut().map(|s| s.try_wait()), Some(Ok(None)))
    }

    /// [`Self::is_alive`] without a system call while the reactor has not
    /// seen the sandbox's pidfd become readable: for the check right after
    /// an invocation (the next [`Self::is_alive`] before reuse is exact).
    pub fn is_alive_hint(&mut self) -> bool {
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match self.exited.poll_read_ready(&mut cx) {
            std::task::Poll::Pending => self.sandbox.is_some(),
            std::task::Poll::Ready(_) => self.is_alive(),
        }
    }

    pub fn is_frozen(&self) -> bool {
        self.frozen
    }

    /// Stops every process of the environment (cgroup freezer).
    pub fn freeze(&mut self) -> Result<(), EngineError> {
        if !self.frozen {
            let id = self.id.clone();
            self.sandbox_mut().freeze().map_err(|source| EngineError::Sandbox { id, source })?;
            self.frozen = true;
        }
        Ok(())
    }

    pub fn thaw(&mut self) -> Result<(), EngineError> {
        if self.frozen {
            let id = self.id.clone();
            self.sandbox_mut().thaw().map_err(|source| EngineError::Sandbox { id, source })?;
            self.frozen = false;
        }
        Ok(())
    }

    /// Kills everything in the environment and removes its cgroups, off the
    /// async workers.
    pub async fn retire(mut self) {
        self.server.abort();
        if let Some(mut sandbox) = self.sandbox.take() {
            let id = self.id.clone();
            let killed = tokio::task::spawn_blocking(move || sandbox.kill()).await;
            if let Ok(Err(error)) = killed {
                tracing::warn!(%error, env = %id, "retiring execution environment");
            }
        }
    }
}

impl Drop for ExecutionEnvironment {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Gives a started zygote its function (blocking): limits, the late
/// mounts (code at `/var/task`, layers at `/opt`, …) in order, the `/tmp`
/// size, then the environment on its stdin, which it waits for.
fn hand_to_zygote(
    sandbox: &Sandbox,
    mounts: &[BindMount],
    limits: &Limits,
    tmp_size_bytes: u64,
    stdin: OwnedFd,
    message: &[u8],
) -> Result<(), String> {
    sandbox.set_limits(limits).map_err(|e| e.to_string())?;
    for mount in mounts {
        sandbox.mount_into(&mount.source, &mount.target).map_err(|e| e.to_string())?;
    }
    if tmp_size_bytes != SPARE_TMP_BYTES {
        sandbox.resize_tmp(tmp_size_bytes).map_err(|e| e.to_string())?;
    }
    let mut pipe = std::fs::File::from(stdin);
    std::io::Write::write_all(&mut pipe, message).map_err(|e| format!("write to the zygote: {e}"))
}

/// Builds a sandbox for `assignment` from scratch (no spare at hand): the
/// sandbox, the Runtime API and AWS endpoint listeners inside it, the read
/// end of its output pipe and its host uid.
async fn create(config: &EngineConfig, spec: &EnvironmentSpec, assignment: Assignment) -> Result<Created, EngineError> {
    let id = spec.id.as_str();
    let (identity, host_uid) = spec.ids.take()?;
    let (reader, stdout, stderr) = output_pipe()?;
    let Assignment { argv, env, cwd, mounts, tmp_size_bytes, limits } = assignment;
    let sandbox_spec = SandboxSpec {
        id: id.to_owned(),
        argv,
        env,
        cwd,
        mounts,
        tmp_size_bytes,
        limits,
        identity,
        hostname: "localhost".into(),
        rootfs: config.rootfs.clone(),
        stdout,
        stderr,
    };
    let cgroups = config.cgroups.clone();
    let network = config.network.clone();
    let sandbox_id = id.to_owned();
    let (sandbox, listener, endpoint, lease) = tokio::task::spawn_blocking(move || {
        let sandbox_error = |source| EngineError::Sandbox { id: sandbox_id.clone(), source };
        let sandbox = Sandbox::create(sandbox_spec, &cgroups).map_err(sandbox_error)?;
        let addr: SocketAddr = RUNTIME_API_ADDR.parse().expect("a valid socket address");
        let listener = sandbox.listen_tcp(addr).map_err(sandbox_error)?;
        let endpoint =
            sandbox.listen_tcp(AWS_ENDPOINT_ADDR.parse().expect("a valid socket address")).map_err(sandbox_error)?;
        let lease = attach_network(network.as_ref(), &sandbox)?;
        Ok::<_, EngineError>((sandbox, listener, endpoint, lease))
    })
    .await
    .expect("sandbox creation does not panic")?;
    Ok((sandbox, listener, endpoint, lease, reader, host_uid))
}

/// What [`create`] makes: the sandbox, the Runtime API and AWS endpoint
/// listeners, the network lease, the output pipe's read end, the host uid.
type Created =
    (Sandbox, std::net::TcpListener, std::net::TcpListener, Option<lambdabox_network::Lease>, OwnedFd, HostUid);

/// A custom runtime needs an executable `bootstrap` in the package or, when
/// the package has none, in a layer (`/opt/bootstrap`); AWS's messages when
/// neither is usable.
fn check_bootstrap(code_dir: &std::path::Path, opt_dir: Option<&std::path::Path>) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let candidates = [Some((code_dir, "/var/task/bootstrap")), opt_dir.map(|d| (d, "/opt/bootstrap"))];
    for (dir, shown) in candidates.into_iter().flatten() {
        match crate::code::stat_in(dir, "bootstrap") {
            Some(meta) if meta.is_file() && meta.permissions().mode() & 0o111 != 0 => return Ok(()),
            Some(meta) if meta.is_file() => return Err(format!("fork/exec {shown}: permission denied")),
            _ => {}
        }
    }
    Err("Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]".into())
}

fn drain(output: &mut pipe::Receiver, closed: &mut bool, logs: &mut LogStream, buf: &mut [u8]) {
    if *closed {
        return;
    }
    loop {
        match output.try_read(buf) {
            Ok(0) => {
                *closed = true;
                return;
            }
            Ok(n) => logs.write(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => {
                *closed = true;
                return;
            }
        }
    }
}

fn signal_name(signal: nix::sys::signal::Signal) -> String {
    match signal {
        nix::sys::signal::Signal::SIGKILL => "killed".into(),
        nix::sys::signal::Signal::SIGSEGV => "segmentation fault".into(),
        nix::sys::signal::Signal::SIGABRT => "aborted".into(),
        nix::sys::signal::Signal::SIGTERM => "terminated".into(),
        other => other.as_str().to_lowercase(),
    }
}

/// The environment a runtime starts with: AWS's reserved variables, then the
/// function's own (which cannot name a reserved one).
fn environment(
    spec: &EnvironmentSpec,
    stream: &str,
    credentials: Option<&SessionCredentials>,
) -> Vec<(String, String)> {
    let f = &spec.function;
    let execution_env = match spec.family {
        RuntimeFamily::Custom => None,
        _ => Some(format!("AWS_Lambda_{}", f.runtime)),
    };
    let mut env = base_env();
    let function_vars: Vec<(String, String)> = vec![
        ("_HANDLER".into(), f.handler.clone()),
        ("AWS_LAMBDA_FUNCTION_NAME".into(), f.name.to_string()),
        ("AWS_LAMBDA_FUNCTION_VERSION".into(), f.version.clone()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE".into(), f.memory_size.get().to_string()),
        ("AWS_LAMBDA_LOG_GROUP_NAME".into(), format!("/aws/lambda/{}", f.name)),
        ("AWS_LAMBDA_LOG_STREAM_NAME".into(), stream.to_owned()),
        (
            "AWS_LAMBDA_INITIALIZATION_TYPE".into(),
            if spec.provisioned { "provisioned-concurrency" } else { "on-demand" }.into(),
        ),
        ("AWS_REGION".into(), spec.region.to_string()),
        ("AWS_DEFAULT_REGION".into(), spec.region.to_string()),
        ("AWS_LAMBDA_RUNTIME_API".into(), RUNTIME_API_ADDR.into()),
        ("LAMBDA_TASK_ROOT".into(), "/var/task".into()),
        ("LAMBDA_RUNTIME_DIR".into(), "/var/runtime".into()),
    ];
    env.extend(function_vars);
    if let Some(c) = credentials {
        env.extend([
            ("AWS_ACCESS_KEY_ID".into(), c.access_key_id.clone()),
            ("AWS_SECRET_ACCESS_KEY".into(), c.secret_access_key.clone()),
            ("AWS_SESSION_TOKEN".into(), c.session_token.clone()),
            // Not reserved on AWS: a function's own value wins.
            ("AWS_ENDPOINT_URL".into(), format!("http://{AWS_ENDPOINT_ADDR}")),
        ]);
    }
    if let Some(e) = execution_env {
        env.push(("AWS_EXECUTION_ENV".into(), e));
    }
    for (k, v) in crate::runtimes::family_env(spec.family) {
        env.push((k.into(), v.into()));
    }
    if let Some(vars) = &f.environment {
        for (k, v) in vars.variables() {
            env.retain(|(existing, _)| existing != k);
            env.push((k.clone(), v.clone()));
        }
    }
    env
}
