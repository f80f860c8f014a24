//! The alias-resolution table: `$LATEST`, the version and the alias, each
//! against `$LATEST`.

use std::fmt::Write as _;

use super::{Results, ms, ratio, signed_ms};

impl Results {
    /// Alias resolution, when it was measured.
    pub(super) fn alias_table(&self, t: &mut String) {
        let Some(a) = &self.alias else { return };
        let _ = writeln!(
            t,
            "\n### Alias resolution (warm, sequential, the three interleaved round-robin on one connection, {} rounds)\n",
            a.rounds
        );
        let _ =
            writeln!(t, "| invoked as | n | p50 | p90 | p99 | p50 vs $LATEST | p99 vs $LATEST | median paired delta |");
        let _ = writeln!(t, "|---|---:|---:|---:|---:|---:|---:|---:|");
        let base = a.latest.latency;
        for q in [&a.latest, &a.version, &a.alias] {
            let l = q.latency;
            let shown = if q.qualifier == "$LATEST" {
                format!("`{}` ($LATEST)", a.function)
            } else {
                format!("`{}:{}`", a.function, q.qualifier)
            };
            let _ = writeln!(
                t,
                "| {shown} | {} | {} | {} | {} | {} ({}) | {} ({}) | {} |",
                l.count,
                ms(l.p50_ms),
                ms(l.p90_ms),
                ms(l.p99_ms),
                signed_ms(l.p50_ms - base.p50_ms),
                ratio(l.p50_ms, base.p50_ms),
                signed_ms(l.p99_ms - base.p99_ms),
                ratio(l.p99_ms, base.p99_ms),
                signed_ms(q.median_paired_delta_ms)
            );
        }
    }
}
