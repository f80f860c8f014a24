//! The throughput section: closed loops of `--concurrency` clients against
//! the custom-runtime function, and against the `lambda_runtime` one when
//! the `cargo lambda watch` comparison needs it.

use super::deploy::{Fixture, find};
use super::{Bench, LOAD_WARMUP, PAYLOAD};
use crate::cli::Section;
use crate::measure::load::{self, LoadResult};
use crate::server::{Server, invoke_path};
use crate::{CUSTOM, CUSTOM_LRT};

/// Throughput of the server under test, one run per client count.
pub struct Throughput {
    /// Of the custom-runtime function.
    pub custom: Vec<LoadResult>,
    /// Of the `lambda_runtime` function, measured only with `--with-cargo-lambda`.
    pub lrt: Vec<LoadResult>,
}

/// Both throughput series (empty with `--skip load` or when the
/// custom-runtime function is not deployed).
pub async fn run(bench: &Bench<'_>, server: &Server, deployed: &[Fixture]) -> anyhow::Result<Throughput> {
    let args = bench.args;
    let load_window = bench.load_window();
    let mut load_results = Vec::new();
    let mut lrt_load = Vec::new();
    if !bench.skips(Section::Load) && find(deployed, CUSTOM).is_some() {
        eprintln!("== throughput, {CUSTOM}");
        for &c in &args.concurrency {
            let r = load::closed_loop(server.addr, &invoke_path("bench-custom"), PAYLOAD, c, LOAD_WARMUP, load_window)
                .await?;
            eprintln!(
                "   {c} clients: {:.0}/s p99 {:.3} ms ({} errors)",
                r.requests_per_second, r.latency.p99_ms, r.errors
            );
            load_results.push(r);
        }
        if args.with_cargo_lambda && find(deployed, CUSTOM_LRT).is_some() {
            eprintln!("== throughput, {CUSTOM_LRT}");
            for &c in &args.concurrency {
                let path = invoke_path("bench-custom-lrt");
                let r = load::closed_loop(server.addr, &path, PAYLOAD, c, LOAD_WARMUP, load_window).await?;
                eprintln!("   {c} clients: {:.0}/s p99 {:.3} ms", r.requests_per_second, r.latency.p99_ms);
                lrt_load.push(r);
            }
        }
    }
    Ok(Throughput { custom: load_results, lrt: lrt_load })
}
