//! The `cargo lambda watch` table: the same `lambda_runtime` function on
//! Lambdabox and under cargo-lambda, sequential and at each client count
//! both were measured at.

use std::fmt::Write as _;

use super::{Results, ms, ratio, rps};

impl Results {
    /// The `cargo lambda watch` comparison, when it was measured.
    pub(super) fn cargo_lambda_table(&self, t: &mut String) {
        let Some(c) = &self.cargo_lambda else { return };
        let _ = writeln!(
            t,
            "\n### The same `lambda_runtime` function: Lambdabox vs `cargo lambda watch` ({})\n",
            c.version
        );
        let _ = writeln!(t, "| clients | Lambdabox | p99 | cargo lambda watch | p99 | ratio |");
        let _ = writeln!(t, "|---:|---:|---:|---:|---:|---:|");
        let _ = writeln!(
            t,
            "| 1 (sequential p50) | {} | {} | {} | {} | {} |",
            ms(c.lambdabox_warm.p50_ms),
            ms(c.lambdabox_warm.p99_ms),
            ms(c.warm.p50_ms),
            ms(c.warm.p99_ms),
            ratio(c.warm.p50_ms, c.lambdabox_warm.p50_ms)
        );
        for l in &c.lambdabox_load {
            if let Some(o) = c.load.iter().find(|o| o.concurrency == l.concurrency) {
                let _ = writeln!(
                    t,
                    "| {} | {} | {} | {} | {} | {} |",
                    l.concurrency,
                    rps(l.requests_per_second),
                    ms(l.latency.p99_ms),
                    rps(o.requests_per_second),
                    ms(o.latency.p99_ms),
                    ratio(l.requests_per_second, o.requests_per_second)
                );
            }
        }
    }
}
