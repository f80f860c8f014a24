//! The command line: the harness's flags ([`Args`]) and the sections
//! `--skip` can leave out ([`Section`]).

use std::path::PathBuf;

use clap::Parser;

/// A section of the run, as `--skip` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Section {
    Warm,
    /// Warm latency of `NAME`, `NAME:1` and `NAME:live`, interleaved.
    Alias,
    /// The same function through a function URL and an HTTP API, beside Invoke.
    FrontDoor,
    Load,
    /// Event invocations through the durable queue.
    Async,
    Cold,
    Density,
    Java,
}

/// Measures Lambdabox beside its baselines.
#[derive(Debug, Parser)]
#[command(version)]
pub struct Args {
    /// The `lambdabox` binary. Default: the one next to this executable,
    /// built first with `cargo build --release -p lambdabox` when the
    /// harness runs under cargo.
    #[arg(long)]
    pub server: Option<PathBuf>,
    /// Where to write the results as JSON.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/lambdabox-bench/results.json"))]
    pub json: PathBuf,
    /// Where to render the plots (warm-latency.svg, throughput.svg).
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/img"))]
    pub plots: PathBuf,
    /// Sequential invocations per function for warm latency.
    #[arg(long, default_value_t = 2000)]
    pub warm_count: usize,
    /// Cold starts per runtime (half for Node.js, a quarter for Java).
    #[arg(long, default_value_t = 20)]
    pub cold_count: usize,
    /// Concurrent clients of the throughput runs.
    #[arg(long, value_delimiter = ',', default_value = "1,8,64")]
    pub concurrency: Vec<usize>,
    /// Seconds measured per throughput run (after 1.5 s of warm-up).
    #[arg(long, default_value_t = 5.0)]
    pub load_seconds: f64,
    /// Frozen Python environments to create for the density measurement
    /// (the server keeps at most `EngineConfig::max_idle` idle ones).
    #[arg(long, default_value_t = 200)]
    pub density: usize,
    /// Also measure the same lambda_runtime function under `cargo lambda
    /// watch` (installs cargo-lambda from crates.io if it is missing).
    #[arg(long)]
    pub with_cargo_lambda: bool,
    /// MemorySize of the fixture functions of the latency, throughput and
    /// cold-start runs. Lambdabox, like AWS, gives a function CPU weight in
    /// proportion to its memory (one full vCPU's weight at 1,769 MB), so a
    /// small size measures CPU shares on a busy machine rather than the
    /// platform's own cost. Density always uses 128 MB.
    #[arg(long, default_value_t = 1769)]
    pub memory_size: u32,
    /// Events sent with `X-Amz-Invocation-Type: Event` in the async run.
    #[arg(long, default_value_t = 2000)]
    pub async_events: usize,
    /// Concurrent clients sending those events.
    #[arg(long, default_value_t = 8)]
    pub async_clients: usize,
    /// The server's `--async-workers` (how many queued events run at once);
    /// the synchronous baseline of the async run uses as many clients.
    #[arg(long, default_value_t = 8)]
    pub async_workers: usize,
    /// Rounds of the alias run (each invokes `NAME`, `NAME:1`, `NAME:live`).
    #[arg(long, default_value_t = 2000)]
    pub alias_rounds: usize,
    /// Sections to leave out.
    #[arg(long, value_delimiter = ',')]
    pub skip: Vec<Section>,
    /// Instead of the benchmark: keep the custom-runtime function under
    /// load for this many seconds and print the server's pid first, to
    /// attach a profiler (`perf record -p PID`).
    #[arg(long)]
    pub soak: Option<f64>,
    /// Instead of the benchmark: measure what `--auth iam` adds to a warm
    /// Invoke, over this many rounds (open unsigned, iam by the root, iam by
    /// an IAM user with a policy, alternating).
    #[arg(long)]
    pub auth_overhead: Option<usize>,
    /// Instead of the benchmark: measure event sources on a server of its
    /// own and print their table. ROUNDS messages, 20 ms apart, from send
    /// to handler through SQS mappings of BatchSize 1 and 10 and S3
    /// notifications, beside Invoke; and ROUNDS × 10 queued messages (at
    /// most 2,000) through a mapping, beside as many synchronous Invokes.
    #[arg(long, value_name = "ROUNDS")]
    pub event_sources: Option<usize>,
    /// Concurrent clients of `--soak`.
    #[arg(long, default_value_t = 1)]
    pub soak_clients: usize,
    /// Make `--soak` repeat cold starts (UpdateFunctionConfiguration, then
    /// Invoke) instead of warm invocations.
    #[arg(long)]
    pub soak_cold: bool,
}

impl Args {
    /// Whether `--skip` leaves `section` out.
    pub fn skips(&self, section: Section) -> bool {
        self.skip.contains(&section)
    }
}
