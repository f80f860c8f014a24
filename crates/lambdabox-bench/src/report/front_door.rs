//! The front-door table: Invoke, the function URL and the HTTP API, their
//! sequential latency and their throughput at each client count.

use std::fmt::Write as _;

use super::{Results, ms, ratio, signed_ms};

impl Results {
    /// The front door, when it was measured.
    pub(super) fn front_door_table(&self, t: &mut String) {
        let Some(f) = &self.front_door else { return };
        let _ = writeln!(
            t,
            "\n### Front door (warm, sequential, the three interleaved on one connection, {} rounds; then closed loops)\n",
            f.rounds
        );
        let counts: Vec<usize> = f.invoke.load.iter().map(|l| l.concurrency).collect();
        let heads: String = counts.iter().map(|c| format!(" {c} clients req/s | p99 |")).collect();
        let _ = writeln!(t, "| `{}` through | p50 | p99 | median paired delta vs Invoke |{heads}", f.function);
        let _ = writeln!(t, "|---|---:|---:|---:|{}", "---:|---:|".repeat(counts.len()));
        for p in [&f.invoke, &f.url, &f.api] {
            let loads: String = p
                .load
                .iter()
                .zip(&f.invoke.load)
                .map(|(l, base)| {
                    format!(
                        " {:.0} ({}) | {} |",
                        l.requests_per_second,
                        ratio(l.requests_per_second, base.requests_per_second),
                        ms(l.latency.p99_ms)
                    )
                })
                .collect();
            let _ = writeln!(
                t,
                "| {} (`{}`) | {} | {} | {} |{loads}",
                p.label,
                p.path,
                ms(p.latency.p50_ms),
                ms(p.latency.p99_ms),
                signed_ms(p.median_paired_delta_ms)
            );
        }
    }
}
