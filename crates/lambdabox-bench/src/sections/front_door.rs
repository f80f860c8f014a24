//! The front-door section: the custom-runtime function through Invoke, a
//! function URL and an HTTP API, sequential and under load.

use super::deploy::{Fixture, find};
use super::{Bench, PAYLOAD};
use crate::CUSTOM;
use crate::cli::Section;
use crate::measure::front_door::{self, FrontDoorResult};
use crate::server::Server;

/// The three ways in, side by side (nothing with `--skip front-door` or
/// when the custom-runtime function is not deployed).
pub async fn run(bench: &mut Bench<'_>, server: &mut Server, deployed: &[Fixture]) -> Option<FrontDoorResult> {
    if bench.skips(Section::FrontDoor) || find(deployed, CUSTOM).is_none() {
        return None;
    }
    let args = bench.args;
    eprintln!("== front door: {CUSTOM} through Invoke, a function URL and an HTTP API");
    let window = bench.load_window();
    match front_door::run(server, "bench-custom", PAYLOAD, args.alias_rounds, &args.concurrency, window).await {
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
            Some(f)
        }
        Err(e) => {
            bench.mark_unavailable("front door", format!("{e:#}"));
            None
        }
    }
}
