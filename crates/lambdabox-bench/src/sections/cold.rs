//! The cold-start section: Invoke to response with no environment, for
//! every deployed fixture.

use super::Bench;
use super::deploy::Fixture;
use crate::cli::Section;
use crate::measure::cold;
use crate::report::Cold;
use crate::server::Server;

/// The cold starts of each deployed fixture, each beside its bare start
/// (none with `--skip cold`); a fixture whose cold starts fail is reported
/// as not measured.
pub async fn run(bench: &mut Bench<'_>, server: &mut Server, deployed: &[Fixture]) -> Vec<Cold> {
    let mut cold_results = Vec::new();
    if bench.skips(Section::Cold) {
        return cold_results;
    }
    eprintln!("== cold starts");
    for f in deployed {
        match cold::cold_starts(server, f.name, f.cold_count).await {
            Ok(result) => {
                eprintln!(
                    "   {}: p50 {:.2} ms (Init Duration p50 {:.2} ms)",
                    f.label, result.total.p50_ms, result.init_duration.p50_ms
                );
                cold_results.push(Cold { runtime: f.label.into(), result, baseline: f.bare.into() });
            }
            Err(e) => bench.mark_unavailable(format!("cold start of {}", f.label), format!("{e:#}")),
        }
    }
    cold_results
}
