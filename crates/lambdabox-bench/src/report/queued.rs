//! The asynchronous-invocations table: how fast Event invocations are
//! accepted and run through the durable queue, beside synchronous Invokes.

use std::fmt::Write as _;

use super::{Results, ms, ratio, rps};

impl Results {
    /// The async run, when it was measured.
    pub(super) fn async_table(&self, t: &mut String) {
        let Some(a) = &self.async_run else { return };
        let q = &a.queued;
        let _ = writeln!(
            t,
            "\n### Asynchronous invocations (Event, durable queue): {} events from {} clients, --async-workers {}\n",
            q.events, q.clients, q.async_workers
        );
        let _ = writeln!(t, "| figure | value |");
        let _ = writeln!(t, "|---|---:|");
        let _ = writeln!(
            t,
            "| accepted (202s per second; first send to last 202) | {} ({:.3} s) |",
            rps(q.accepted_per_second),
            q.accept_seconds
        );
        let _ = writeln!(
            t,
            "| 202 latency p50 / p90 / p99 / max | {} / {} / {} / {} |",
            ms(q.accept_latency.p50_ms),
            ms(q.accept_latency.p90_ms),
            ms(q.accept_latency.p99_ms),
            ms(q.accept_latency.max_ms)
        );
        let _ = writeln!(
            t,
            "| end to end (first send to the last REPORT) | {} ({:.3} s) |",
            rps(q.events_per_second),
            q.end_to_end_seconds
        );
        let _ = writeln!(
            t,
            "| ran while still accepting / drain after the last 202 | {} of {} / {:.3} s |",
            q.ran_while_accepting, q.events, q.drain_seconds
        );
        let _ = writeln!(
            t,
            "| each event, send to its REPORT: p50 / p99 | {} / {} |",
            ms(q.sent_to_run.p50_ms),
            ms(q.sent_to_run.p99_ms)
        );
        let _ = writeln!(
            t,
            "| synchronous baseline, {} clients (closed loop): rate / p50 / p99 | {} / {} / {} |",
            a.sync.concurrency,
            rps(a.sync.requests_per_second),
            ms(a.sync.latency.p50_ms),
            ms(a.sync.latency.p99_ms)
        );
        let _ = writeln!(
            t,
            "| end to end vs synchronous / accepted vs synchronous | {} / {} |",
            ratio(q.events_per_second, a.sync.requests_per_second),
            ratio(q.accepted_per_second, a.sync.requests_per_second)
        );
        let _ = writeln!(t, "| rejected (not 202) | {} |", q.rejected);
    }
}
