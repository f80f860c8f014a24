//! The `cargo lambda watch` section (`--with-cargo-lambda`): the same
//! `lambda_runtime` function under cargo-lambda's emulator, measured with
//! the same client, beside its figures on Lambdabox.

use std::path::Path;
use std::time::Duration;

use super::{Bench, LOAD_WARMUP, PAYLOAD};
use crate::cli::{Args, Section};
use crate::measure::load::{self, LoadResult};
use crate::measure::warm;
use crate::report::{CargoLambda, Warm};
use crate::stats::Summary;
use crate::{CUSTOM_LRT, WORKSPACE, cargo_lambda};

/// The comparison, set beside the `lambda_runtime` function's warm latency
/// in `lambdabox_warm` and its throughput `lambdabox_load` on Lambdabox
/// (nothing without `--with-cargo-lambda`; a failure is reported as not
/// measured).
pub async fn run(
    bench: &mut Bench<'_>,
    lambdabox_warm: &[Warm],
    lambdabox_load: Vec<LoadResult>,
) -> Option<CargoLambda> {
    if !bench.args.with_cargo_lambda {
        return None;
    }
    eprintln!("== cargo lambda watch");
    match measure(bench.args, PAYLOAD, LOAD_WARMUP, bench.load_window()).await {
        Ok((version, samples, load)) => {
            let lambdabox_warm = lambdabox_warm.iter().find(|w| w.label == CUSTOM_LRT).map(|w| w.latency);
            Some(CargoLambda {
                version,
                warm: Summary::of(&samples),
                load,
                lambdabox_warm: lambdabox_warm.unwrap_or_default(),
                lambdabox_load,
                samples_ms: samples.iter().map(|d| d.as_secs_f64() * 1e3).collect(),
            })
        }
        Err(e) => {
            bench.mark_unavailable("cargo lambda watch", format!("{e:#}"));
            None
        }
    }
}

async fn measure(
    args: &Args,
    payload: &[u8],
    warmup: Duration,
    window: Duration,
) -> anyhow::Result<(String, Vec<Duration>, Vec<LoadResult>)> {
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
        if !args.skips(Section::Load) {
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
