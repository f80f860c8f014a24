//! `lambdabox serve`: opens the data dir, wires the store, control plane and
//! routes, and serves until SIGINT or SIGTERM.

use std::fs::File;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use lambdabox_control::{ControlPlane, ControlPlaneConfig};
use lambdabox_engine::{Engine, EngineConfig};
use lambdabox_http::AppState;
use lambdabox_invoker::{Invoker, InvokerConfig};
use lambdabox_model::{AccountId, Credentials, Region};
use lambdabox_s3::{S3Config, S3Endpoint};
use lambdabox_store::{BlobStore, EventQueue, SqliteStore};
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
    /// Milliseconds before an asynchronous invocation's first retry (doubled
    /// for each further retry); AWS waits a minute.
    #[arg(long, env = "LAMBDABOX_ASYNC_RETRY_BASE_MS", default_value_t = 60_000)]
    async_retry_base_ms: u64,
    /// The region of requests that carry no SigV4 signature.
    #[arg(long, env = "LAMBDABOX_REGION", default_value = "us-east-1", value_parser = parse_region)]
    region: Region,
    /// The credentials SigV4 signatures are checked against, as
    /// `ACCESS_KEY_ID:SECRET_ACCESS_KEY[,…]` (function URLs with AWS_IAM, the S3 endpoint).
    #[arg(long, env = "LAMBDABOX_CREDENTIALS", default_value = "test:test", value_parser = parse_credentials)]
    credentials: Credentials,
}

fn parse_credentials(s: &str) -> Result<Credentials, String> {
    Credentials::parse(s).map_err(|e| e.to_string())
}

fn parse_account(s: &str) -> Result<AccountId, String> {
    AccountId::parse(s).ok_or_else(|| format!("'{s}' is not a twelve-digit account id"))
}

fn parse_region(s: &str) -> Result<Region, String> {
    Region::parse(s).ok_or_else(|| format!("'{s}' is not a region name such as us-east-1"))
}

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.data_dir).with_context(|| format!("create data dir {}", args.data_dir.display()))?;
    let data_dir = args.data_dir.canonicalize().context("resolve data dir")?;
    tracing::debug!(credentials = ?args.credentials, "known credentials");
    let lock_path = data_dir.join("lock");
    let lock = File::create(&lock_path).with_context(|| format!("create {}", lock_path.display()))?;
    lock.try_lock().with_context(|| format!("data dir {} is in use by another lambdabox", data_dir.display()))?;

    let store = SqliteStore::open(&data_dir.join("lambdabox.db")).context("open metadata store")?;
    let blobs = BlobStore::local(&data_dir.join("blobs")).context("open blob store")?;
    let logs = lambdabox_logs::LogsApi::new(data_dir.join("logs"), args.account_id.clone());
    let control = Arc::new(ControlPlane::new(
        Arc::new(store),
        blobs,
        ControlPlaneConfig {
            account: args.account_id,
            concurrent_executions: args.concurrent_executions,
            ..ControlPlaneConfig::default()
        },
    ));
    control.load_concurrency().await.context("load concurrency settings")?;
    let removed = control.collect_garbage().await.context("collect orphaned code blobs")?;
    if removed > 0 {
        tracing::info!(removed, "removed code blobs no function refers to");
    }

    let engine = Engine::new(EngineConfig::new(data_dir.clone()).context("configure the engine")?)
        .context("prepare the engine")?;
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
    let requeued = invoker.start_workers().await.context("start the asynchronous workers")?;
    if requeued > 0 {
        tracing::info!(requeued, "queued again the events a crash interrupted");
    }
    invoker.restore_provisioning(args.region.clone());
    let s3 = S3Endpoint::open(S3Config::new(data_dir.join("s3"), args.credentials.clone(), args.region.clone()))
        .context("open the S3 endpoint")?;
    let lambda = lambdabox_http::router(AppState { invoker, default_region: args.region, logs });
    let app = crate::dispatch::Dispatcher { s3, lambda }.into_router();
    let listener = TcpListener::bind(args.listen).await.with_context(|| format!("listen on {}", args.listen))?;
    let addr = listener.local_addr().context("read listening address")?;
    tracing::info!(%addr, data_dir = %data_dir.display(), "lambdabox ready");
    // Handlers first, so a SIGTERM right after the ready line shuts down cleanly.
    let shutdown = shutdown_signal()?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "lambdabox ready: listening on http://{addr}").context("write ready line")?;
    stdout.flush().context("flush ready line")?;
    drop(stdout);

    axum::serve(listener, app).with_graceful_shutdown(shutdown).await.context("serve")?;
    engine.shutdown().await;
    tracing::info!("lambdabox stopped");
    drop(lock);
    Ok(())
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
