//! `lambdabox-bench`: the benchmark harness. It starts its own Lambdabox
//! server on a temporary data dir, deploys its own fixture functions, and
//! measures warm latency (and what an alias or version qualifier adds to
//! it), throughput, asynchronous invocations through the durable queue, cold
//! starts and density, each beside its baseline measured in the same run (a
//! bare loopback HTTP echo server, synchronous Invokes, bare process starts,
//! and optionally `cargo lambda watch`). It prints a
//! Markdown table, writes a JSON file and renders two SVG plots.
//!
//! ```sh
//! cargo run --release -p lambdabox-bench -- [--with-cargo-lambda] [--density 1000] [--json PATH]
//! ```

mod baseline;
mod cargo_lambda;
mod fixtures;
mod http;
mod measure;
mod plot;
mod report;
mod server;
mod stats;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use clap::Parser;

use crate::baseline::{EchoServer, process_starts};
use crate::measure::{alias, cold, density, front_door, load, queued, warm};
use crate::report::{AsyncRun, BareStart, CargoLambda, Cold, Machine, Results, Warm};
use crate::server::{FunctionDef, ServeOptions, Server, invoke, invoke_path};
use crate::stats::Summary;

/// The label of the trivial custom-runtime function (raw Runtime API bootstrap).
pub const CUSTOM: &str = "provided.al2023";
/// The label of the same function written on `lambda_runtime`.
pub const CUSTOM_LRT: &str = "provided.al2023 (lambda_runtime)";

/// The repository root, as this crate was built from it.
const WORKSPACE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Section {
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
struct Args {
    /// The `lambdabox` binary. Default: the one next to this executable,
    /// built first with `cargo build --release -p lambdabox` when the
    /// harness runs under cargo.
    #[arg(long)]
    server: Option<PathBuf>,
    /// Where to write the results as JSON.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/lambdabox-bench/results.json"))]
    json: PathBuf,
    /// Where to render the plots (warm-latency.svg, throughput.svg).
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/img"))]
    plots: PathBuf,
    /// Sequential invocations per function for warm latency.
    #[arg(long, default_value_t = 2000)]
    warm_count: usize,
    /// Cold starts per runtime (half for Node.js, a quarter for Java).
    #[arg(long, default_value_t = 20)]
    cold_count: usize,
    /// Concurrent clients of the throughput runs.
    #[arg(long, value_delimiter = ',', default_value = "1,8,64")]
    concurrency: Vec<usize>,
    /// Seconds measured per throughput run (after 1.5 s of warm-up).
    #[arg(long, default_value_t = 5.0)]
    load_seconds: f64,
    /// Frozen Python environments to create for the density measurement
    /// (the server keeps at most `EngineConfig::max_idle` idle ones).
    #[arg(long, default_value_t = 200)]
    density: usize,
    /// Also measure the same lambda_runtime function under `cargo lambda
    /// watch` (installs cargo-lambda from crates.io if it is missing).
    #[arg(long)]
    with_cargo_lambda: bool,
    /// MemorySize of the fixture functions of the latency, throughput and
    /// cold-start runs. Lambdabox, like AWS, gives a function CPU weight in
    /// proportion to its memory (one full vCPU's weight at 1,769 MB), so a
    /// small size measures CPU shares on a busy machine rather than the
    /// platform's own cost. Density always uses 128 MB.
    #[arg(long, default_value_t = 1769)]
    memory_size: u32,
    /// Events sent with `X-Amz-Invocation-Type: Event` in the async run.
    #[arg(long, default_value_t = 2000)]
    async_events: usize,
    /// Concurrent clients sending those events.
    #[arg(long, default_value_t = 8)]
    async_clients: usize,
    /// The server's `--async-workers` (how many queued events run at once);
    /// the synchronous baseline of the async run uses as many clients.
    #[arg(long, default_value_t = 8)]
    async_workers: usize,
    /// Rounds of the alias run (each invokes `NAME`, `NAME:1`, `NAME:live`).
    #[arg(long, default_value_t = 2000)]
    alias_rounds: usize,
    /// Sections to leave out.
    #[arg(long, value_delimiter = ',')]
    skip: Vec<Section>,
    /// Instead of the benchmark: keep the custom-runtime function under
    /// load for this many seconds and print the server's pid first, to
    /// attach a profiler (`perf record -p PID`).
    #[arg(long)]
    soak: Option<f64>,
    /// Concurrent clients of `--soak`.
    #[arg(long, default_value_t = 1)]
    soak_clients: usize,
    /// Make `--soak` repeat cold starts (UpdateFunctionConfiguration, then
    /// Invoke) instead of warm invocations.
    #[arg(long)]
    soak_cold: bool,
}

/// A fixture function deployed on the server under test.
struct Fixture {
    label: &'static str,
    name: &'static str,
    runtime: &'static str,
    handler: &'static str,
    zip: Vec<u8>,
    /// The [`BareStart`] label its cold start is compared with.
    bare: &'static str,
    cold_count: usize,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().context("build tokio runtime")?;
    runtime.block_on(run(args))
}

async fn run(args: Args) -> anyhow::Result<()> {
    if let Some(seconds) = args.soak {
        return soak(&args, seconds).await;
    }
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let load_before = load_average();
    let skip = |s: Section| args.skip.contains(&s);
    let server_bin = match &args.server {
        Some(p) => p.clone(),
        None => build_server()?,
    };
    let bootstrap = fixtures::sibling_binary("lambdabox-bench-bootstrap")?;
    let lrt = fixtures::sibling_binary("lambdabox-bench-lrt")?;
    let scratch = tempfile::Builder::new().prefix("lambdabox-bench-fixtures-").tempdir()?;
    let mut unavailable: Vec<(String, String)> = Vec::new();

    eprintln!("== bare process starts (outside any sandbox)");
    let mut bare_starts = Vec::new();
    let java_wanted = !skip(Section::Java);
    let mut bare_list: Vec<(&str, PathBuf, Vec<&str>, usize)> = vec![
        ("bootstrap", bootstrap.clone(), vec![], 100),
        ("lambda_runtime bootstrap", lrt.clone(), vec![], 100),
        ("python3 -c pass", "/usr/bin/python3".into(), vec!["-c", "pass"], 30),
        ("python3 -S -c pass", "/usr/bin/python3".into(), vec!["-S", "-c", "pass"], 30),
        ("node -e 0", "/usr/bin/node".into(), vec!["-e", "0"], 15),
    ];
    if java_wanted {
        bare_list.push(("java -version", "/usr/bin/java".into(), vec!["-version"], 10));
    }
    for (label, program, argv, count) in bare_list {
        match process_starts(&program, &argv, 3, count) {
            Ok(samples) => {
                let start = Summary::of(&samples);
                eprintln!("   {label}: p50 {:.2} ms", start.p50_ms);
                let shown = if label.contains("bootstrap") { program.display().to_string() } else { String::new() };
                let command =
                    if shown.is_empty() { format!("{} {}", program.display(), argv.join(" ")) } else { shown };
                bare_starts.push(BareStart { label: label.into(), command, start });
            }
            Err(e) => unavailable.push((format!("bare start of {label}"), format!("{e:#}"))),
        }
    }

    eprintln!("== loopback echo baseline (hyper, same client)");
    let echo = EchoServer::start()?;
    let payload = br#"{"bench":"lambdabox"}"#;
    let echo_samples = warm::sequential(echo.addr, "/echo", payload, 200, args.warm_count).await?;
    let echo_warm = warm_of("loopback HTTP echo (hyper)", &echo_samples);
    eprintln!("   warm p50 {:.3} ms p99 {:.3} ms", echo_warm.latency.p50_ms, echo_warm.latency.p99_ms);
    let load_window = Duration::from_secs_f64(args.load_seconds);
    let load_warmup = Duration::from_millis(1500);
    let mut echo_load = Vec::new();
    if !skip(Section::Load) {
        for &c in &args.concurrency {
            let r = load::closed_loop(echo.addr, "/echo", payload, c, load_warmup, load_window).await?;
            eprintln!("   {c} clients: {:.0}/s p99 {:.3} ms", r.requests_per_second, r.latency.p99_ms);
            echo_load.push(r);
        }
    }
    drop(echo);

    eprintln!("== lambdabox: {}", server_bin.display());
    let mut server = Server::start_with(&server_bin, ServeOptions { async_workers: args.async_workers }).await?;
    let mut fixtures = vec![
        Fixture {
            label: CUSTOM,
            name: "bench-custom",
            runtime: "provided.al2023",
            handler: "bootstrap",
            zip: fixtures::bootstrap_zip(&bootstrap)?,
            bare: "bootstrap",
            cold_count: args.cold_count,
        },
        Fixture {
            label: CUSTOM_LRT,
            name: "bench-custom-lrt",
            runtime: "provided.al2023",
            handler: "bootstrap",
            zip: fixtures::bootstrap_zip(&lrt)?,
            bare: "lambda_runtime bootstrap",
            cold_count: args.cold_count,
        },
        Fixture {
            label: "python3.11",
            name: "bench-python",
            runtime: "python3.11",
            handler: "app.handler",
            zip: fixtures::python_zip()?,
            bare: "python3 -c pass",
            cold_count: args.cold_count,
        },
        Fixture {
            label: "nodejs20.x",
            name: "bench-nodejs",
            runtime: "nodejs20.x",
            handler: "index.handler",
            zip: fixtures::node_zip()?,
            bare: "node -e 0",
            cold_count: (args.cold_count / 2).max(1),
        },
    ];
    if java_wanted {
        match fixtures::java_zip(scratch.path()) {
            Ok(zip) => fixtures.push(Fixture {
                label: "java17",
                name: "bench-java",
                runtime: "java17",
                handler: "bench.Handler::handleRequest",
                zip,
                bare: "java -version",
                cold_count: (args.cold_count / 4).max(1),
            }),
            Err(e) => unavailable.push(("java17".into(), format!("{e:#}"))),
        }
    }
    // Deploy each and check it answers; drop the ones that do not.
    let mut deployed = Vec::new();
    for f in fixtures {
        let def = FunctionDef {
            name: f.name,
            runtime: f.runtime,
            handler: f.handler,
            zip: &f.zip,
            memory_mb: args.memory_size,
            timeout_s: 30,
        };
        let check = async {
            server.create_function(&def).await?;
            let mut conn = http::Conn::connect(server.addr).await?;
            invoke(&mut conn, &invoke_path(f.name), b"{}", false).await
        };
        match check.await {
            Ok(_) => deployed.push(f),
            Err(e) => {
                eprintln!("   {} is not available: {e:#}", f.label);
                unavailable.push((f.label.into(), format!("{e:#}")));
            }
        }
    }

    let mut warm_results = Vec::new();
    if !skip(Section::Warm) {
        eprintln!("== warm invoke latency");
        for f in &deployed {
            let samples = warm::sequential(server.addr, &invoke_path(f.name), payload, 100, args.warm_count).await?;
            let w = warm_of(f.label, &samples);
            eprintln!("   {}: p50 {:.3} ms p99 {:.3} ms", f.label, w.latency.p50_ms, w.latency.p99_ms);
            warm_results.push(w);
        }
    }

    let mut alias_result = None;
    let custom_deployed = deployed.iter().any(|f| f.label == CUSTOM);
    if !skip(Section::Alias) && custom_deployed {
        eprintln!("== alias resolution: {CUSTOM} as NAME, NAME:1 and NAME:{}, interleaved", alias::ALIAS);
        match alias::run(&mut server, "bench-custom", payload, 100, args.alias_rounds).await {
            Ok(a) => {
                for q in [&a.latest, &a.version, &a.alias] {
                    eprintln!(
                        "   {}: p50 {:.3} ms p99 {:.3} ms (paired delta {:+.3} ms)",
                        q.qualifier, q.latency.p50_ms, q.latency.p99_ms, q.median_paired_delta_ms
                    );
                }
                alias_result = Some(a);
            }
            Err(e) => unavailable.push(("alias resolution".into(), format!("{e:#}"))),
        }
    }

    let mut front_door_result = None;
    if !skip(Section::FrontDoor) && custom_deployed {
        eprintln!("== front door: {CUSTOM} through Invoke, a function URL and an HTTP API");
        let window = Duration::from_secs_f64(args.load_seconds);
        match front_door::run(&mut server, "bench-custom", payload, args.alias_rounds, &args.concurrency, window).await
        {
            Ok(f) => {
                for p in [&f.invoke, &f.url, &f.api] {
                    eprintln!(
                        "   {}: p50 {:.3} ms p99 {:.3} ms (paired delta {:+.3} ms); {}",
                        p.label,
                        p.latency.p50_ms,
                        p.latency.p99_ms,
                        p.median_paired_delta_ms,
                        p.load
                            .iter()
                            .map(|l| format!("{} clients {:.0}/s", l.concurrency, l.requests_per_second))
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                }
                front_door_result = Some(f);
            }
            Err(e) => unavailable.push(("front door".into(), format!("{e:#}"))),
        }
    }

    let mut cold_results = Vec::new();
    if !skip(Section::Cold) {
        eprintln!("== cold starts");
        for f in &deployed {
            match cold::cold_starts(&mut server, f.name, f.cold_count).await {
                Ok(result) => {
                    eprintln!(
                        "   {}: p50 {:.2} ms (Init Duration p50 {:.2} ms)",
                        f.label, result.total.p50_ms, result.init_duration.p50_ms
                    );
                    cold_results.push(Cold { runtime: f.label.into(), result, baseline: f.bare.into() });
                }
                Err(e) => unavailable.push((format!("cold start of {}", f.label), format!("{e:#}"))),
            }
        }
    }

    let mut load_results = Vec::new();
    let mut lrt_load = Vec::new();
    if !skip(Section::Load) && custom_deployed {
        eprintln!("== throughput, {CUSTOM}");
        for &c in &args.concurrency {
            let r = load::closed_loop(server.addr, &invoke_path("bench-custom"), payload, c, load_warmup, load_window)
                .await?;
            eprintln!(
                "   {c} clients: {:.0}/s p99 {:.3} ms ({} errors)",
                r.requests_per_second, r.latency.p99_ms, r.errors
            );
            load_results.push(r);
        }
        if args.with_cargo_lambda && deployed.iter().any(|f| f.label == CUSTOM_LRT) {
            eprintln!("== throughput, {CUSTOM_LRT}");
            for &c in &args.concurrency {
                let path = invoke_path("bench-custom-lrt");
                let r = load::closed_loop(server.addr, &path, payload, c, load_warmup, load_window).await?;
                eprintln!("   {c} clients: {:.0}/s p99 {:.3} ms", r.requests_per_second, r.latency.p99_ms);
                lrt_load.push(r);
            }
        }
    }
    let mut async_result = None;
    if !skip(Section::Async)
        && let Some(custom) = deployed.iter().find(|f| f.label == CUSTOM)
    {
        eprintln!(
            "== asynchronous invocations: {} events from {} clients, {} async workers",
            args.async_events, args.async_clients, args.async_workers
        );
        match measure_async(&mut server, &args, &custom.zip, payload, load_warmup, load_window).await {
            Ok(a) => async_result = Some(a),
            Err(e) => unavailable.push(("asynchronous invocations".into(), format!("{e:#}\n{}", server.log_tail()))),
        }
    }
    server.stop().await?;

    let mut density_result = None;
    if !skip(Section::Density) && args.density > 0 {
        eprintln!("== density: {} Python environments on a fresh server", args.density);
        let mut server = Server::start(&server_bin).await?;
        match density::run(&mut server, &fixtures::python_zip()?, args.density, Path::new("/proc")).await {
            Ok(d) => {
                eprintln!(
                    "   {} environments ({} frozen), PSS median {:.1} MiB, {} fit in 24 GiB",
                    d.environments,
                    d.frozen,
                    d.pss.median_kib / 1024.0,
                    d.fit_24gib_by_pss
                );
                density_result = Some(d);
            }
            Err(e) => {
                unavailable.push(("density".into(), format!("{e:#}\n{}", server.log_tail())));
            }
        }
        server.stop().await?;
    }

    let mut cargo_lambda_result = None;
    if args.with_cargo_lambda {
        eprintln!("== cargo lambda watch");
        match measure_cargo_lambda(&args, payload, load_warmup, load_window).await {
            Ok((version, samples, load)) => {
                let lambdabox_warm = warm_results.iter().find(|w| w.label == CUSTOM_LRT).map(|w| w.latency);
                cargo_lambda_result = Some(CargoLambda {
                    version,
                    warm: Summary::of(&samples),
                    load,
                    lambdabox_warm: lambdabox_warm.unwrap_or_default(),
                    lambdabox_load: lrt_load,
                    samples_ms: samples.iter().map(|d| d.as_secs_f64() * 1e3).collect(),
                });
            }
            Err(e) => unavailable.push(("cargo lambda watch".into(), format!("{e:#}"))),
        }
    }

    let mut results = Results {
        command,
        unix_time: SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
        machine: machine(load_before),
        memory_size_mb: args.memory_size,
        echo_warm,
        echo_load,
        bare_starts,
        warm: warm_results,
        load: load_results,
        cold: cold_results,
        density: density_result,
        cargo_lambda: cargo_lambda_result,
        alias: alias_result,
        front_door: front_door_result,
        async_run: async_result,
        unavailable,
        targets: Vec::new(),
    };
    results.check_targets();
    println!("{}", results.table());

    if let Some(dir) = args.json.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    }
    std::fs::write(&args.json, serde_json::to_string_pretty(&results)?)
        .with_context(|| format!("write {}", args.json.display()))?;
    eprintln!("wrote {}", args.json.display());
    render_plots(&results, &args.plots)?;
    Ok(())
}

/// `--soak`: load the custom-runtime function for `seconds` so a profiler
/// can watch the server.
async fn soak(args: &Args, seconds: f64) -> anyhow::Result<()> {
    let server_bin = match &args.server {
        Some(p) => p.clone(),
        None => build_server()?,
    };
    let bootstrap = fixtures::sibling_binary("lambdabox-bench-bootstrap")?;
    let mut server = Server::start(&server_bin).await?;
    let zip = fixtures::bootstrap_zip(&bootstrap)?;
    let def = FunctionDef {
        name: "bench-custom",
        runtime: "provided.al2023",
        handler: "bootstrap",
        zip: &zip,
        memory_mb: args.memory_size,
        timeout_s: 30,
    };
    server.create_function(&def).await?;
    let path = invoke_path("bench-custom");
    let payload = br#"{"bench":"lambdabox"}"#;
    if args.soak_cold {
        eprintln!("soak: server pid {} (cold starts for {seconds} s)", server.pid().unwrap_or(0));
        let started = std::time::Instant::now();
        let mut samples = Vec::new();
        while started.elapsed().as_secs_f64() < seconds {
            let r = cold::cold_starts(&mut server, "bench-custom", 10).await?;
            samples.extend(r.samples.iter().map(|s| s.total_ms));
        }
        let s = Summary::of_ms(&samples);
        eprintln!("soak: {} cold starts, p50 {:.2} ms, p90 {:.2} ms", s.count, s.p50_ms, s.p90_ms);
        return server.stop().await;
    }
    let warmup = Duration::from_millis(1500);
    eprintln!(
        "soak: server pid {} ({} clients, {seconds} s after {} ms of warm-up)",
        server.pid().unwrap_or(0),
        args.soak_clients,
        warmup.as_millis()
    );
    let r = load::closed_loop(server.addr, &path, payload, args.soak_clients, warmup, Duration::from_secs_f64(seconds))
        .await?;
    eprintln!(
        "soak: {:.0}/s, p50 {:.3} ms, p99 {:.3} ms, {} errors",
        r.requests_per_second, r.latency.p50_ms, r.latency.p99_ms, r.errors
    );
    server.stop().await
}

/// The async run on its own copy of the custom-runtime function: first the
/// synchronous baseline (a closed loop of as many clients as the server has
/// async workers, which also leaves that many environments warm), then the
/// events.
async fn measure_async(
    server: &mut Server,
    args: &Args,
    zip: &[u8],
    payload: &[u8],
    warmup: Duration,
    window: Duration,
) -> anyhow::Result<AsyncRun> {
    let name = "bench-async";
    let def = FunctionDef {
        name,
        runtime: "provided.al2023",
        handler: "bootstrap",
        zip,
        memory_mb: args.memory_size,
        timeout_s: 30,
    };
    server.create_function(&def).await?;
    let workers = args.async_workers.max(1);
    let sync = load::closed_loop(server.addr, &invoke_path(name), payload, workers, warmup, window).await?;
    eprintln!(
        "   synchronous, {workers} clients: {:.0}/s p99 {:.3} ms ({} errors)",
        sync.requests_per_second, sync.latency.p99_ms, sync.errors
    );
    let timeout = Duration::from_secs(120) + Duration::from_millis(10) * args.async_events as u32;
    let queued = queued::run(server, name, payload, args.async_events, args.async_clients, workers, timeout).await?;
    eprintln!(
        "   accepted {:.0}/s (202 p50 {:.3} ms p99 {:.3} ms), all run in {:.3} s: {:.0} events/s ({} polls)",
        queued.accepted_per_second,
        queued.accept_latency.p50_ms,
        queued.accept_latency.p99_ms,
        queued.end_to_end_seconds,
        queued.events_per_second,
        queued.polls
    );
    Ok(AsyncRun { queued, sync })
}

fn warm_of(label: &str, samples: &[Duration]) -> Warm {
    Warm {
        label: label.into(),
        latency: Summary::of(samples),
        samples_ms: samples.iter().map(|d| d.as_secs_f64() * 1e3).collect(),
    }
}

async fn measure_cargo_lambda(
    args: &Args,
    payload: &[u8],
    warmup: Duration,
    window: Duration,
) -> anyhow::Result<(String, Vec<Duration>, Vec<load::LoadResult>)> {
    // Blocks the (single-threaded) runtime; nothing else runs meanwhile.
    let version = cargo_lambda::ensure_installed()?;
    let dir = Path::new(WORKSPACE).join("target/lambdabox-bench/cargo-lambda-fn");
    cargo_lambda::write_project(&dir, Some(&Path::new(WORKSPACE).join("Cargo.lock")))?;
    eprintln!("   {version}: building and starting the function (the first time compiles it)");
    let watch = cargo_lambda::Watch::start(&dir).await?;
    let path = watch.path();
    let measured = async {
        let samples = warm::sequential(watch.addr, &path, payload, 100, args.warm_count).await?;
        eprintln!("   warm p50 {:.3} ms p99 {:.3} ms", Summary::of(&samples).p50_ms, Summary::of(&samples).p99_ms);
        let mut results = Vec::new();
        if !args.skip.contains(&Section::Load) {
            for &c in &args.concurrency {
                let r = load::closed_loop(watch.addr, &path, payload, c, warmup, window).await?;
                eprintln!(
                    "   {c} clients: {:.0}/s p99 {:.3} ms ({} errors)",
                    r.requests_per_second, r.latency.p99_ms, r.errors
                );
                results.push(r);
            }
        }
        anyhow::Ok((samples, results))
    }
    .await;
    watch.stop().await;
    let (samples, results) = measured?;
    Ok((version, samples, results))
}

fn render_plots(results: &Results, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    let mut series = vec![(results.echo_warm.label.clone(), results.echo_warm.samples_ms.clone())];
    for w in &results.warm {
        series.push((w.label.clone(), w.samples_ms.clone()));
    }
    if let Some(c) = &results.cargo_lambda {
        series.push(("lambda_runtime fn, cargo lambda watch".into(), c.samples_ms.clone()));
    }
    let histogram = dir.join("warm-latency.svg");
    plot::latency_histogram(&histogram, &series)?;
    let mut load_series = Vec::new();
    if !results.echo_load.is_empty() {
        load_series.push(("loopback HTTP echo (hyper)".to_owned(), results.echo_load.clone()));
    }
    if !results.load.is_empty() {
        load_series.push((format!("Lambdabox, {CUSTOM}"), results.load.clone()));
    }
    if let Some(c) = &results.cargo_lambda {
        if !c.lambdabox_load.is_empty() {
            load_series.push((format!("Lambdabox, {CUSTOM_LRT}"), c.lambdabox_load.clone()));
        }
        if !c.load.is_empty() {
            load_series.push(("cargo lambda watch, lambda_runtime".to_owned(), c.load.clone()));
        }
    }
    if !load_series.is_empty() {
        plot::throughput(&dir.join("throughput.svg"), &load_series)?;
    }
    eprintln!("wrote plots to {}", dir.display());
    Ok(())
}

/// The `lambdabox` binary next to this one, built first when under cargo.
fn build_server() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("locate the harness executable")?;
    let dir = exe.parent().context("the harness executable has no directory")?;
    if let Some(cargo) = std::env::var_os("CARGO") {
        eprintln!("== cargo build --release -p lambdabox");
        let status = std::process::Command::new(cargo)
            .args(["build", "--release", "-p", "lambdabox", "--manifest-path"])
            .arg(Path::new(WORKSPACE).join("Cargo.toml"))
            .status()
            .context("run cargo build")?;
        anyhow::ensure!(status.success(), "cargo build --release -p lambdabox failed ({status})");
    }
    let path = dir.join("lambdabox");
    anyhow::ensure!(path.is_file(), "{} not found: build it with `cargo build --release -p lambdabox`", path.display());
    Ok(path)
}

fn load_average() -> [f64; 3] {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let mut it = text.split_whitespace().map(|v| v.parse().unwrap_or(0.0));
    [it.next().unwrap_or(0.0), it.next().unwrap_or(0.0), it.next().unwrap_or(0.0)]
}

fn machine(load_before: [f64; 3]) -> Machine {
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kib: f64 = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu_model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default();
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim().to_owned();
    Machine {
        cpus: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        mem_total_gib: mem_kib / 1024.0 / 1024.0,
        kernel,
        cpu_model,
        load_before,
        load_after: load_average(),
    }
}
