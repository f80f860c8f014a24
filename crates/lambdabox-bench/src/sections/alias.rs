//! The alias-resolution section: what naming the custom-runtime function by
//! a version or an alias adds to its warm latency.

use super::deploy::{Fixture, find};
use super::{Bench, PAYLOAD};
use crate::CUSTOM;
use crate::cli::Section;
use crate::measure::alias::{self, AliasResult};
use crate::server::Server;

/// `NAME`, `NAME:1` and `NAME:live` of the custom-runtime function,
/// interleaved (nothing with `--skip alias` or when that function is not
/// deployed).
pub async fn run(bench: &mut Bench<'_>, server: &mut Server, deployed: &[Fixture]) -> Option<AliasResult> {
    if bench.skips(Section::Alias) || find(deployed, CUSTOM).is_none() {
        return None;
    }
    eprintln!("== alias resolution: {CUSTOM} as NAME, NAME:1 and NAME:{}, interleaved", alias::ALIAS);
    match alias::run(server, "bench-custom", PAYLOAD, 100, bench.args.alias_rounds).await {
        Ok(a) => {
            for q in [&a.latest, &a.version, &a.alias] {
                eprintln!(
                    "   {}: p50 {:.3} ms p99 {:.3} ms (paired delta {:+.3} ms)",
                    q.qualifier, q.latency.p50_ms, q.latency.p99_ms, q.median_paired_delta_ms
                );
            }
            Some(a)
        }
        Err(e) => {
            bench.mark_unavailable("alias resolution", format!("{e:#}"));
            None
        }
    }
}
