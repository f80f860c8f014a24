//! The warm-latency section: sequential Invokes of every deployed fixture
//! on one keep-alive connection.

use std::time::Duration;

use super::deploy::Fixture;
use super::{Bench, PAYLOAD};
use crate::cli::Section;
use crate::measure::warm;
use crate::report::Warm;
use crate::server::{Server, invoke_path};
use crate::stats::Summary;

/// Warm latency of each deployed fixture (none with `--skip warm`).
pub async fn run(bench: &Bench<'_>, server: &Server, deployed: &[Fixture]) -> anyhow::Result<Vec<Warm>> {
    let mut warm_results = Vec::new();
    if !bench.skips(Section::Warm) {
        eprintln!("== warm invoke latency");
        for f in deployed {
            let samples =
                warm::sequential(server.addr, &invoke_path(f.name), PAYLOAD, 100, bench.args.warm_count).await?;
            let w = warm_of(f.label, &samples);
            eprintln!("   {}: p50 {:.3} ms p99 {:.3} ms", f.label, w.latency.p50_ms, w.latency.p99_ms);
            warm_results.push(w);
        }
    }
    Ok(warm_results)
}

/// The [`Warm`] row of `label` from its samples.
pub fn warm_of(label: &str, samples: &[Duration]) -> Warm {
    Warm {
        label: label.into(),
        latency: Summary::of(samples),
        samples_ms: samples.iter().map(|d| d.as_secs_f64() * 1e3).collect(),
    }
}
