//! `lambdabox serve`: opens the data dir, wires the store, control plane and
//! routes, and serves until SIGINT or SIGTERM.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use lambdabox_control::{CodeFetcher, ControlPlane, ControlPlaneConfig, ExternalS3, ExternalS3Config};
use lambdabox_engine::{Engine, EngineConfig};
use lambdabox_invoker::{Invoker, InvokerConfig};
use lambdabox_lambda::AppState;
use lambdabox_model::{AccountId, Credentials, Region};
use lambdabox_s3::{S3Config, S3Endpoint};
use lambdabox_store::{BlobStore, CachedStore, EventQueue, SqliteStore};
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "LAMBDABOX_LISTEN", default_value = "127.0.0.1:9070")]
    listen: SocketAddr,
    /// Where functions, code, logs and S3 buckets are kept.
    #[arg(long, env = "LAMBDABOX_DATA_DIR", default_value = "./.lambdabox")]
    data_dir: PathBuf,
    /// The account id in ARNs.
    #[arg(long, env = "LAMBDABOX_ACCOUNT_ID", default_value = "000000000000", value_parser = parse_account)]
    account_id: AccountId,
    /// The account's concurrency limit (GetAccountSettings' ConcurrentExecutions).
    #[arg(long, env = "LAMBDABOX_CONCURRENT_EXECUTIONS", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(100..))]
    concurrent_executions: u32,
    /// How many queued asynchronous invocations run at once.
    #[arg(long, env = "LAMBDABOX_ASYNC_WORKERS", default_value_t = 8)]
    async_workers: usize,
    /// Sandboxes built ahead of any cold start and assigned a function when
    /// one needs an environment (each costs about 1 MB); 0 builds every
    /// sandbox on demand.
    #[arg(long, env = "LAMBDABOX_SPARE_SANDBOXES", default_value_t = 4)]
    spare_sandboxes: usize,
    /// Python runtimes started ahead (the interpreter up, the runtime client
    /// imported) and handed a Python function's code and environment at its
    /// cold start (each costs about 5 MB); 0 starts Python at every cold start.
    #[arg(long, env = "LAMBDABOX_PYTHON_ZYGOTES", default_value_t = 2)]
    python_zygotes: usize,
    /// The same for Node.js (each costs about 30 MB).
    #[arg(long, env = "LAMBDABOX_NODEJS_ZYGOTES", default_value_t = 2)]
    nodejs_zygotes: usize,
    /// Gives functions no AWS endpoint of their own: no `AWS_ENDPOINT_URL`
    /// listener inside their environments and no minted credentials. By
    /// default every environment can call this server's APIs (as a function
    /// on AWS calls AWS with its execution role's credentials).
    #[arg(long, env = "LAMBDABOX_NO_FUNCTION_ENDPOINT")]
    no_function_endpoint: bool,
    /// `open`: requests are not authenticated (anyone who reaches the port
    /// can deploy and run code; the default, for a laptop). `iam`: every
    /// request must carry a valid SigV4 signature from a key of
    /// `--credentials` (or a function's own session key, through its
    /// endpoint), answered with each service's own error otherwise.
    #[arg(long, env = "LAMBDABOX_AUTH", value_enum, default_value_t = crate::auth::AuthMode::Open)]
    auth: crate::auth::AuthMode,
    /// Puts no AWS SDK into the Python and Node.js runtimes. By default the
    /// versions pinned in the repo (boto3; the JavaScript v3 clients) are
    /// installed once from PyPI and npm at the first start and mounted
    /// below every function's own code and layers, as AWS's runtimes
    /// include them.
    #[arg(long, env = "LAMBDABOX_NO_RUNTIME_SDKS")]
    no_runtime_sdks: bool,
    /// Where the runtime SDKs are installed (shared by every server naming
    /// it). Default: `/var/cache/lambdabox/sdks` as root, else under the
    /// user's cache dir (or the server's work dir if sandboxes cannot
    /// reach that).
    #[arg(long, env = "LAMBDABOX_SDK_DIR")]
    sdk_dir: Option<PathBuf>,
    /// What functions' environments can reach besides their own AWS
    /// endpoint: `internet` (the default, as on AWS: an anonymous network
    /// with NAT to the host's uplink, never the host itself, other
    /// environments or 169.254.0.0/16) or `none` (loopback only).
    #[arg(long, env = "LAMBDABOX_FUNCTION_EGRESS", value_enum, default_value_t = Egress::Internet)]
    function_egress: Egress,
    /// The private range environments take addresses from. Default: the
    /// first /20 of 100.96.0.0/11 that no host route overlaps.
    #[arg(long, env = "LAMBDABOX_FUNCTION_NETWORK")]
    function_network: Option<lambdabox_network::Cidr>,
    /// The resolvers environments' DNS queries are relayed to
    /// (`IP[:PORT]`, comma-separated). Default: the host's
    /// `/etc/resolv.conf`.
    #[arg(long, env = "LAMBDABOX_FUNCTION_DNS", value_delimiter = ',', value_parser = parse_resolver)]
    function_dns: Vec<std::net::SocketAddr>,
    /// The most log all streams of one function may hold on disk (bytes, or
    /// with a K, M or G suffix); past it the oldest streams are deleted.
    #[arg(long, env = "LAMBDABOX_LOG_QUOTA_PER_FUNCTION", default_value = "512M", value_parser = parse_size)]
    log_quota_per_function: u64,
    /// The most one invocation may print (bytes, or K, M, G); the rest is
    /// dropped and the invocation's log says how much.
    #[arg(long, env = "LAMBDABOX_LOG_MAX_PER_INVOCATION", default_value = "64M", value_parser = parse_size)]
    log_max_per_invocation: u64,
    /// Milliseconds before an asynchronous invocation's first retry (doubled
    /// for each further retry); AWS waits a minute.
    #[arg(long, env = "LAMBDABOX_ASYNC_RETRY_BASE_MS", default_value_t = 60_000)]
    async_retry_base_ms: u64,
    /// The region of requests that carry no SigV4 signature.
    #[arg(long, env = "LAMBDABOX_REGION", default_value = "us-east-1", value_parser = parse_region)]
    region: Region,
    /// The account root's keys, as `ACCESS_KEY_ID:SECRET_ACCESS_KEY[,…]`:
    /// the bootstrap administrator, who creates IAM users and roles (their
    /// keys are checked as well, against their policies under `--auth iam`).
    #[arg(long, env = "LAMBDABOX_CREDENTIALS", default_value = "test:test", value_parser = parse_credentials)]
    credentials: Credentials,
    /// Other accounts' root keys, as `ACCOUNT=ACCESS_KEY_ID:SECRET[,…]`:
    /// callers from outside this account, who reach a function only where
    /// its policy (AddPermission) lets their account in.
    #[arg(long, env = "LAMBDABOX_FOREIGN_CREDENTIALS", default_value = "", value_parser = parse_foreign)]
    foreign_credentials: lambdabox_identity::ForeignAccounts,
    /// The base URL clients reach this server at (`http://host:port`), used
    /// in the download links GetFunction and GetLayerVersion return; by
    /// default the listening address (127.0.0.1 when listening on all).
    #[arg(long, env = "LAMBDABOX_PUBLIC_ENDPOINT", value_parser = parse_endpoint)]
    public_endpoint: Option<String>,
    /// The memory request bodies carrying deployment packages may hold at
    /// once (bytes, or K, M, G); past it, uploads wait their turn.
    #[arg(long, env = "LAMBDABOX_MAX_UPLOAD_MEMORY", default_value = "512M", value_parser = parse_size)]
    max_upload_memory: u64,
    /// Seconds a client has to send a request's headers; also the longest
    /// a keep-alive connection may sit idle.
    #[arg(long, env = "LAMBDABOX_HTTP_HEADER_TIMEOUT", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    http_header_timeout: u64,
    /// Seconds a request body may send nothing before the request fails.
    #[arg(long, env = "LAMBDABOX_HTTP_BODY_TIMEOUT", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    http_body_timeout: u64,
    /// Open connections at most, per listener (default: a quarter of the
    /// descriptors the server may open, at most 10,000).
    #[arg(long, env = "LAMBDABOX_MAX_CONNECTIONS", value_parser = clap::value_parser!(u64).range(1..))]
    max_connections: Option<u64>,
    /// The host ids sandboxes run as, `FIRST:COUNT` (root only): `FIRST` owns
    /// unpacked code and is every sandbox's group, each sandbox takes a uid
    /// of its own from the rest. Default 1879048192:65536.
    #[arg(long, env = "LAMBDABOX_SANDBOX_IDS", value_parser = parse_id_range)]
    sandbox_ids: Option<(u32, u32)>,
    /// A second address serving only function URLs and HTTP APIs.
    #[arg(long, env = "LAMBDABOX_FRONT_DOOR_LISTEN")]
    front_door_listen: Option<SocketAddr>,
    #[command(flatten)]
    code_s3: CodeS3Args,
}

/// Where `S3Bucket`/`S3Key` deployment packages and layer contents come from.
#[derive(clap::Args)]
struct CodeS3Args {
    /// An S3-compatible endpoint (AWS S3, MinIO, Ceph, another Lambdabox) to
    /// read `S3Bucket`/`S3Key` packages from, instead of this server's own S3.
    #[arg(long = "code-s3-endpoint", env = "LAMBDABOX_CODE_S3_ENDPOINT")]
    endpoint: Option<String>,
    /// The region to sign requests to that endpoint for (default: --region).
    #[arg(long = "code-s3-region", env = "LAMBDABOX_CODE_S3_REGION", value_parser = parse_region)]
    region: Option<Region>,
    /// Access key id for that endpoint (default: AWS_ACCESS_KEY_ID).
    #[arg(long = "code-s3-access-key-id", env = "LAMBDABOX_CODE_S3_ACCESS_KEY_ID")]
    access_key_id: Option<String>,
    /// Secret access key for that endpoint (default: AWS_SECRET_ACCESS_KEY).
    #[arg(long = "code-s3-secret-access-key", env = "LAMBDABOX_CODE_S3_SECRET_ACCESS_KEY", hide_env_values = true)]
    secret_access_key: Option<String>,
    /// Address buckets as `BUCKET.host` rather than `host/BUCKET`.
    #[arg(long = "code-s3-virtual-hosted", env = "LAMBDABOX_CODE_S3_VIRTUAL_HOSTED")]
    virtual_hosted: bool,
}

impl CodeS3Args {
    /// The external S3 to read packages from, if one is configured.
    fn external(&self, default_region: &Region) -> anyhow::Result<Option<ExternalS3>> {
        let Some(endpoint) = &self.endpoint else { return Ok(None) };
        let from_env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let access_key_id = self.access_key_id.clone().or_else(|| from_env("AWS_ACCESS_KEY_ID")).context(
            "--code-s3-endpoint needs --code-s3-access-key-id (or LAMBDABOX_CODE_S3_ACCESS_KEY_ID, AWS_ACCESS_KEY_ID)",
        )?;
        let secret_access_key = self.secret_access_key.clone().or_else(|| from_env("AWS_SECRET_ACCESS_KEY")).context(
            "--code-s3-endpoint needs --code-s3-secret-access-key (or LAMBDABOX_CODE_S3_SECRET_ACCESS_KEY, AWS_SECRET_ACCESS_KEY)",
        )?;
        Ok(Some(ExternalS3::new(ExternalS3Config {
            endpoint: endpoint.clone(),
            region: self.region.as_ref().unwrap_or(default_region).to_string(),
            access_key_id,
            secret_access_key,
            virtual_hosted_style: self.virtual_hosted,
        })))
    }
}

fn parse_foreign(s: &str) -> Result<lambdabox_identity::ForeignAccounts, String> {
    lambdabox_identity::ForeignAccounts::parse(s)
}

fn parse_credentials(s: &str) -> Result<Credentials, String> {
    Credentials::parse(s).map_err(|e| e.to_string())
}

/// `1048576`, `1024K`, `1M`, `1G` (binary multiples).
fn parse_size(s: &str) -> Result<u64, String> {
    let (digits, unit) = match s.trim().char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => s.trim().split_at(i),
        None => (s.trim(), ""),
    };
    let shift = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        _ => return Err(format!("'{s}' is not a size such as 1048576, 512K, 64M or 1G")),
    };
    let n: u64 = digits.parse().map_err(|_| format!("'{s}' is not a size such as 1048576, 512K, 64M or 1G"))?;
    n.checked_mul(1 << shift).filter(|b| *b > 0).ok_or_else(|| format!("'{s}' is out of range"))
}

fn parse_id_range(s: &str) -> Result<(u32, u32), String> {
    let bad = || format!("'{s}' is not FIRST:COUNT, such as 1879048192:65536");
    let (first, count) = s.split_once(':').ok_or_else(bad)?;
    let (first, count): (u32, u32) = (first.parse().map_err(|_| bad())?, count.parse().map_err(|_| bad())?);
    if first == 0 || count < 2 || first.checked_add(count).is_none() {
        return Err(format!("'{s}': the range must start above 0, hold at least 2 ids and end below 2^32"));
    }
    Ok((first, count))
}

/// Makes the files a data dir held before this version (0644 under 0755)
/// the server's alone.
fn tighten_data_dir(data_dir: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let set = |name: &str, mode: u32| match std::fs::symlink_metadata(data_dir.join(name)) {
        Ok(meta) if !meta.file_type().is_symlink() => {
            std::fs::set_permissions(data_dir.join(name), std::fs::Permissions::from_mode(mode))
        }
        _ => Ok(()),
    };
    set(".", 0o700)?;
    for db in ["lambdabox.db", "queue.db", "gateway.db"] {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            set(&format!("{db}{suffix}"), 0o600)?;
        }
    }
    set("lock", 0o600)?;
    for dir in ["blobs", "logs", "s3"] {
        set(dir, 0o700)?;
    }
    Ok(())
}

fn parse_endpoint(s: &str) -> Result<String, String> {
    let trimmed = s.trim_end_matches('/');
    let rest = trimmed.strip_prefix("http://").or_else(|| trimmed.strip_prefix("https://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains(['/', '?', '#', ' ']) => Ok(trimmed.to_owned()),
        _ => Err(format!("'{s}' is not a base URL such as http://lambdabox.internal:9070")),
    }
}

/// `http://<addr>`, with an unspecified address (listening on all) shown
/// as loopback.
fn default_endpoint(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}

fn parse_account(s: &str) -> Result<AccountId, String> {
    AccountId::parse(s).ok_or_else(|| format!("'{s}' is not a twelve-digit account id"))
}

fn parse_region(s: &str) -> Result<Region, String> {
    Region::parse(s).ok_or_else(|| format!("'{s}' is not a region name such as us-east-1"))
}

/// What environments can reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Egress {
    Internet,
    None,
}

fn parse_resolver(s: &str) -> Result<std::net::SocketAddr, String> {
    s.parse::<std::net::SocketAddr>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(|ip| std::net::SocketAddr::new(ip, 53)))
        .map_err(|_| format!("{s:?} is not IP or IP:PORT"))
}

/// Connections one environment may hold open to its AWS endpoint.
const INSIDE_MAX_CONNECTIONS: usize = 64;

/// How long start-up waits for a predecessor still holding the data dir.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let open_files = crate::listener::raise_open_files_limit().context("raise the open-files limit")?;
    let limits = crate::listener::HttpLimits {
        header_timeout: std::time::Duration::from_secs(args.http_header_timeout),
        body_timeout: std::time::Duration::from_secs(args.http_body_timeout),
        max_connections: args.max_connections.unwrap_or((open_files / 4).clamp(64, 10_000)) as usize,
    };
    tracing::debug!(open_files, ?limits, "http limits");
    std::fs::create_dir_all(&args.data_dir).with_context(|| format!("create data dir {}", args.data_dir.display()))?;
    let data_dir = args.data_dir.canonicalize().context("resolve data dir")?;
    tighten_data_dir(&data_dir).with_context(|| format!("make {} the server's own", data_dir.display()))?;
    tracing::debug!(credentials = ?args.credentials, "known credentials");
    let lock = crate::lock::DataDirLock::acquire(&data_dir, LOCK_WAIT)?;

    let store = SqliteStore::open(&data_dir.join("lambdabox.db")).context("open metadata store")?;
    let blobs = BlobStore::local(&data_dir.join("blobs")).context("open blob store")?;
    let logs = lambdabox_logs::LogsApi::new(data_dir.join("logs"), args.account_id.clone());
    let mut control = ControlPlane::new(
        Arc::new(CachedStore::new(store)),
        blobs,
        ControlPlaneConfig {
            account: args.account_id.clone(),
            concurrent_executions: args.concurrent_executions,
            ..ControlPlaneConfig::default()
        },
    );
    let identity = lambdabox_identity::IdentityStore::open(&data_dir.join("identity.db"), args.account_id.as_str())
        .context("open the identity store (IAM users, roles, policies, STS sessions)")?;
    let directory = Arc::new(
        lambdabox_identity::Directory::new(Arc::new(identity), args.credentials.clone())
            .with_foreign(args.foreign_credentials.clone()),
    );
    let enforce = args.auth == crate::auth::AuthMode::Iam;
    let mut s3_config = S3Config::new(data_dir.join("s3"), directory.clone(), args.region.clone());
    s3_config.authorizer = enforce.then(|| directory.clone());
    s3_config.account = args.account_id.clone();
    // S3's event notifications reach functions through the invoker, which
    // is attached below once it exists (before any request is served).
    let s3_events = crate::s3_events::S3Events::new(args.account_id.clone());
    s3_config.notifications = Some(s3_events.clone());
    let s3 = S3Endpoint::open(s3_config).context("open the S3 endpoint")?;
    let fetcher: Arc<dyn CodeFetcher> = match args.code_s3.external(&args.region)? {
        Some(external) => {
            tracing::info!(endpoint = ?args.code_s3.endpoint, "deployment packages from S3 come from an external endpoint");
            Arc::new(external)
        }
        None => Arc::new(crate::builtin_s3::BuiltinS3(s3.clone())),
    };
    control = control.with_code_fetcher(fetcher);
    let control = Arc::new(control);
    control.load_concurrency().await.context("load concurrency settings")?;
    let removed = control.collect_garbage().await.context("collect orphaned code blobs")?;
    if removed > 0 {
        tracing::info!(removed, "removed code blobs no function refers to");
    }

    let mut engine_config = EngineConfig::new(data_dir.clone()).context("configure the engine")?;
    if let Some((first, count)) = args.sandbox_ids {
        anyhow::ensure!(nix::unistd::geteuid().is_root(), "--sandbox-ids needs a server running as root");
        engine_config.host_ids = lambdabox_engine::HostIds::Range { first, count };
    }
    engine_config.spare_sandboxes = args.spare_sandboxes;
    engine_config.python_zygotes = args.python_zygotes;
    engine_config.nodejs_zygotes = args.nodejs_zygotes;
    engine_config.log_limits = lambdabox_engine::LogLimits {
        per_function_bytes: args.log_quota_per_function,
        per_invocation_bytes: args.log_max_per_invocation,
    };
    if !args.no_runtime_sdks {
        let root = crate::sdks::root(args.sdk_dir.clone(), &engine_config.work_dir);
        engine_config.sdks = crate::sdks::ensure(&root, &engine_config.interpreters.python).await;
    }
    let network = match args.function_egress {
        Egress::None => None,
        Egress::Internet => {
            let config = lambdabox_network::NetworkConfig {
                cidr: args.function_network,
                tag: lambdabox_engine::data_dir_tag(&data_dir)[..6].to_owned(),
                dns: args.function_dns.clone(),
            };
            match lambdabox_network::FunctionNetwork::start(config).await {
                Ok(network) => Some(network),
                Err(error) if args.function_network.is_none() => {
                    eprintln!("lambdabox: functions get no network: {error}");
                    tracing::error!(%error, "no function network; environments have loopback only");
                    None
                }
                Err(error) => return Err(error).context("set up the function network"),
            }
        }
    };
    engine_config.rootfs.resolv_conf = network.as_ref().map(|n| n.resolv_conf());
    engine_config.network = network.clone();
    let engine = Engine::new(engine_config).context("prepare the engine")?;
    let queue = Arc::new(EventQueue::open(&data_dir.join("queue.db")).context("open the event queue")?);
    let invoker = Invoker::new(
        control,
        engine.clone(),
        queue,
        InvokerConfig {
            workers: args.async_workers,
            retry_base: std::time::Duration::from_millis(args.async_retry_base_ms),
        },
    );
    s3_events.attach(invoker.clone());
    let listener = TcpListener::bind(args.listen).await.with_context(|| format!("listen on {}", args.listen))?;
    let addr = listener.local_addr().context("read listening address")?;
    let front_listener = match args.front_door_listen {
        Some(a) => Some(TcpListener::bind(a).await.with_context(|| format!("listen on {a}"))?),
        None => None,
    };
    let front_port = match &front_listener {
        Some(l) => l.local_addr().context("read front door address")?.port(),
        None => addr.port(),
    };
    let gateway = Arc::new(
        lambdabox_gateway::GatewayStore::open(&data_dir.join("gateway.db"))
            .context("open the front door's state (function URLs, HTTP APIs)")?,
    );
    let front_door = lambdabox_frontdoor::FrontDoor::new(
        gateway.clone(),
        invoker.clone(),
        lambdabox_frontdoor::FrontDoorConfig {
            account: args.account_id.clone(),
            directory: directory.clone(),
            enforce_policies: enforce,
        },
    );
    control_subscriptions(&invoker, &gateway);
    let scheduler = lambdabox_scheduler::Scheduler::open(
        &data_dir.join("scheduler").join("schedules.db"),
        lambdabox_scheduler::SchedulerConfig { account: args.account_id.clone(), default_region: args.region.clone() },
    )
    .context("open the scheduler's state (schedules)")?;
    let engine_invoker = invoker.clone();
    let public_endpoint = args.public_endpoint.clone().unwrap_or_else(|| default_endpoint(addr));
    let apigateway = lambdabox_apigateway::router(
        gateway.clone(),
        lambdabox_apigateway::ApiGatewayConfig {
            account: args.account_id.clone(),
            default_region: args.region.clone(),
            public_port: front_port,
        },
    );
    let lambda = lambdabox_lambda::router(AppState {
        invoker,
        default_region: args.region.clone(),
        public_endpoint,
        body_budget: Arc::new(lambdabox_lambda::limits::BodyBudget::new(args.max_upload_memory)),
        urls: gateway,
        front_door_port: front_port,
    });
    let logs = lambdabox_logs::http::router(logs, args.region.clone());
    let queues = lambdabox_queues::Queues::open(&data_dir.join("sqs"), args.account_id.as_str())
        .context("open the SQS queues")?;
    let sqs = lambdabox_sqs::router(queues.clone(), lambdabox_sqs::SqsConfig { default_region: args.region.clone() });
    // Event source mappings poll the queues; destinations and dead-letter
    // queues send to them.
    engine_invoker.control().set_event_sources(Arc::new(lambdabox_pollers::QueueCatalog(queues.clone())));
    engine_invoker.set_queue_sink(Arc::new(lambdabox_pollers::QueueDestinations(queues.clone())));
    s3_events.attach_queues(queues.clone());
    let pollers = lambdabox_pollers::Pollers::new(engine_invoker.clone(), queues.clone());
    engine_invoker.control().subscribe(pollers.clone());
    let sts = lambdabox_sts::router(directory.clone());
    let iam = lambdabox_iam::router(directory.clone());
    let auth = enforce.then(|| crate::auth::Authenticator { directory: directory.clone() });
    let app = crate::dispatch::Dispatcher {
        front_door: front_door.clone(),
        s3,
        lambda,
        logs,
        apigateway,
        iam,
        sts,
        scheduler: scheduler.router(),
        sqs,
        auth,
    }
    .into_router();
    // Every environment started from here on serves the same services
    // inside its own network namespace.
    if !args.no_function_endpoint {
        engine.set_inside_endpoint(Arc::new(crate::inside::InsideEndpoint {
            app: app.clone(),
            account: args.account_id.clone(),
            limits: crate::listener::HttpLimits { max_connections: INSIDE_MAX_CONNECTIONS, ..limits },
        }));
    }
    let requeued = engine_invoker.start_workers().await.context("start the asynchronous workers")?;
    if requeued > 0 {
        tracing::info!(requeued, "queued again the events a crash interrupted");
    }
    engine_invoker.restore_provisioning(args.region.clone());
    let polling = pollers.start().await.context("start the event source mappings' pollers")?;
    if polling > 0 {
        tracing::info!(polling, "event source mappings polling");
    }
    // Schedules fire into the invoker's queue, so only once its workers run.
    let target = Arc::new(crate::schedule_target::LambdaTarget::new(
        engine_invoker.clone(),
        Arc::new(lambdabox_pollers::QueueDestinations(queues.clone())),
    ));
    let started = scheduler.start(target).await.context("start the scheduler's firing loop")?;
    if started != lambdabox_scheduler::Started::default() {
        tracing::info!(?started, "schedules resumed after a stop");
    }
    tracing::info!(%addr, data_dir = %data_dir.display(), "lambdabox ready");
    // Handlers first, so a SIGTERM right after the ready line shuts down cleanly.
    let shutdown = shutdown_signal()?;
    let mut stdout = std::io::stdout().lock();
    match args.auth {
        crate::auth::AuthMode::Open => writeln!(
            stdout,
            "lambdabox: --auth open: requests are NOT authenticated; anyone who can reach http://{addr} can deploy and run code (serve --auth iam checks signatures)"
        ),
        crate::auth::AuthMode::Iam => writeln!(
            stdout,
            "lambdabox: --auth iam: every request must be signed (SigV4) by a known key (--credentials are the account's root; IAM users' and roles' keys are checked against their policies)"
        ),
    }
    .context("write the auth line")?;
    writeln!(stdout, "lambdabox ready: listening on http://{addr}").context("write ready line")?;
    stdout.flush().context("flush ready line")?;
    drop(stdout);

    let shutdown = shutdown_fan_out(shutdown);
    // Long polls answer at once when the server stops.
    let (stop, closing) = (shutdown(), queues.clone());
    tokio::spawn(async move {
        stop.await;
        closing.close();
    });
    if let Some(front_listener) = front_listener {
        tracing::info!(addr = %front_listener.local_addr().context("read front door address")?, "front door ready");
        let app = front_door.router();
        let stop = shutdown();
        tokio::spawn(async move {
            if let Err(error) = crate::listener::serve(front_listener, app, limits, stop).await {
                tracing::error!(%error, "front door listener failed");
            }
        });
    }
    crate::listener::serve(listener, app, limits, shutdown()).await.context("serve")?;
    pollers.stop_all();
    engine.shutdown().await;
    if let Some(network) = network {
        let _ = tokio::task::spawn_blocking(move || network.shutdown()).await;
    }
    tracing::info!("lambdabox stopped");
    drop(lock);
    Ok(())
}

/// What reacts to the control plane's changes: the engine retires stale
/// environments, the front door forgets a deleted function's URLs.
fn control_subscriptions(invoker: &Arc<Invoker>, gateway: &Arc<lambdabox_gateway::GatewayStore>) {
    let control = invoker.control();
    control.subscribe(lambdabox_invoker::RetireStale::new(invoker.engine().clone()));
    control.subscribe(lambdabox_gateway::DropUrlsOfDeleted::new(gateway.clone()));
}

/// Resolves `shutdown` once and hands out futures that all end with it.
fn shutdown_fan_out(
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> impl Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
    let (tx, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = tx.send(true);
    });
    move || {
        let mut rx = rx.clone();
        Box::pin(async move {
            let _ = rx.wait_for(|stopped| *stopped).await;
        })
    }
}

/// Installs the SIGTERM and SIGINT handlers now; the future resolves on either.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    let mut term = signal(SignalKind::terminate()).context("install SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("install SIGINT handler")?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM: finishing in-flight requests"),
            _ = int.recv() => tracing::info!("SIGINT: finishing in-flight requests"),
        }
    })
}
