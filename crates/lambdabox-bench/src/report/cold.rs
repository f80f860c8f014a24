//! The cold-start table, each runtime beside its bare start, and the table
//! of the bare starts themselves.

use std::fmt::Write as _;

use super::{Results, ms, ratio, signed_ms};

impl Results {
    /// Cold starts, when they were measured.
    pub(super) fn cold_table(&self, t: &mut String) {
        if !self.cold.is_empty() {
            let _ = writeln!(t, "\n### Cold start (Invoke to response, no environment)\n");
            let _ = writeln!(
                t,
                "| runtime | n | p50 | p90 | to code | code to handler | handler to response | Init Duration p50 | bare start p50 | delta | ratio |"
            );
            let _ = writeln!(t, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        }
        for c in &self.cold {
            let r = &c.result;
            let bare = self.bare(&c.baseline).map(|b| b.start.p50_ms).unwrap_or(0.0);
            let _ = writeln!(
                t,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} (`{}`) | {} | {} |",
                c.runtime,
                r.total.count,
                ms(r.total.p50_ms),
                ms(r.total.p90_ms),
                ms(r.median_to_code_ms),
                ms(r.median_code_to_handler_ms),
                ms(r.median_handler_to_response_ms),
                ms(r.init_duration.p50_ms),
                ms(bare),
                c.baseline,
                signed_ms(r.total.p50_ms - bare),
                ratio(r.total.p50_ms, bare)
            );
        }
    }

    /// The bare process starts, always printed (its rows may be none).
    pub(super) fn bare_starts_table(&self, t: &mut String) {
        let _ = writeln!(t, "\nBare starts (fork + exec to exit, outside any sandbox):\n");
        let _ = writeln!(t, "| program | n | p50 | p90 | min |");
        let _ = writeln!(t, "|---|---:|---:|---:|---:|");
        for b in &self.bare_starts {
            let _ = writeln!(
                t,
                "| `{}` | {} | {} | {} | {} |",
                b.command,
                b.start.count,
                ms(b.start.p50_ms),
                ms(b.start.p90_ms),
                ms(b.start.min_ms)
            );
        }
    }
}
