//! `--soak`: instead of the benchmark, keep the custom-runtime function
//! busy (warm invocations, or cold starts with `--soak-cold`) so a profiler
//! can watch the server.

use std::time::Duration;

use super::{LOAD_WARMUP, PAYLOAD};
use crate::cli::Args;
use crate::fixtures;
use crate::measure::{cold, load};
use crate::server::{FunctionDef, Server, invoke_path, server_binary};
use crate::stats::Summary;

/// `--soak`: load the custom-runtime function for `seconds` so a profiler
/// can watch the server.
pub async fn run(args: &Args, seconds: f64) -> anyhow::Result<()> {
    let server_bin = server_binary(args.server.as_deref())?;
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
    let warmup = LOAD_WARMUP;
    eprintln!(
        "soak: server pid {} ({} clients, {seconds} s after {} ms of warm-up)",
        server.pid().unwrap_or(0),
        args.soak_clients,
        warmup.as_millis()
    );
    let r = load::closed_loop(server.addr, &path, PAYLOAD, args.soak_clients, warmup, Duration::from_secs_f64(seconds))
        .await?;
    eprintln!(
        "soak: {:.0}/s, p50 {:.3} ms, p99 {:.3} ms, {} errors",
        r.requests_per_second, r.latency.p50_ms, r.latency.p99_ms, r.errors
    );
    server.stop().await
}
