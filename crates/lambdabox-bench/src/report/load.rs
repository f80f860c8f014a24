//! The throughput table: the custom-runtime function at each client count,
//! beside the echo baseline at the same count.

use std::fmt::Write as _;

use super::{Results, ms, ratio, rps};

impl Results {
    /// Throughput, when it was measured.
    pub(super) fn load_table(&self, t: &mut String) {
        if !self.load.is_empty() {
            let _ = writeln!(t, "\n### Throughput (closed loop, one keep-alive connection per client)\n");
            let _ = writeln!(t, "| clients | custom runtime | p50 | p99 | echo baseline | echo p99 | vs echo |");
            let _ = writeln!(t, "|---:|---:|---:|---:|---:|---:|---:|");
        }
        for l in &self.load {
            let e = self.echo_load.iter().find(|e| e.concurrency == l.concurrency);
            let _ = writeln!(
                t,
                "| {} | {} | {} | {} | {} | {} | {} |",
                l.concurrency,
                rps(l.requests_per_second),
                ms(l.latency.p50_ms),
                ms(l.latency.p99_ms),
                e.map_or("-".into(), |e| rps(e.requests_per_second)),
                e.map_or("-".into(), |e| ms(e.latency.p99_ms)),
                e.map_or("-".into(), |e| ratio(l.requests_per_second, e.requests_per_second))
            );
        }
    }
}
