//! The warm-latency table: the echo baseline, every fixture and (with
//! `--with-cargo-lambda`) the function under `cargo lambda watch`, each
//! against the echo round trip.

use std::fmt::Write as _;

use super::{Results, ms, ratio};

impl Results {
    /// Warm invoke latency, always printed (the echo baseline is its first row).
    pub(super) fn warm_table(&self, t: &mut String) {
        let echo = self.echo_warm.latency;
        let _ = writeln!(t, "### Warm invoke latency (sequential, one keep-alive connection)\n");
        let _ = writeln!(t, "| function | n | p50 | p90 | p99 | max | p50 vs echo | p99 vs echo |");
        let _ = writeln!(t, "|---|---:|---:|---:|---:|---:|---:|---:|");
        for w in std::iter::once(&self.echo_warm).chain(&self.warm) {
            let l = w.latency;
            let _ = writeln!(
                t,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                w.label,
                l.count,
                ms(l.p50_ms),
                ms(l.p90_ms),
                ms(l.p99_ms),
                ms(l.max_ms),
                ratio(l.p50_ms, echo.p50_ms),
                ratio(l.p99_ms, echo.p99_ms)
            );
        }
        if let Some(c) = &self.cargo_lambda {
            let l = c.warm;
            let _ = writeln!(
                t,
                "| lambda_runtime fn under cargo lambda watch | {} | {} | {} | {} | {} | {} | {} |",
                l.count,
                ms(l.p50_ms),
                ms(l.p90_ms),
                ms(l.p99_ms),
                ms(l.max_ms),
                ratio(l.p50_ms, echo.p50_ms),
                ratio(l.p99_ms, echo.p99_ms)
            );
        }
    }
}
