//! The targets: each checked against what the run measured, and
//! the table of the checks that ends the report.

use std::fmt::Write as _;

use super::{Results, TargetCheck, ms, ratio, rps, signed_ms};

impl Results {
    /// Checks every target of the issue against what was measured.
    pub fn check_targets(&mut self) {
        let mut checks = Vec::new();
        let echo = self.echo_warm.latency;
        match self.warm_of(crate::CUSTOM) {
            Some(w) => {
                let limit = 3.0 * echo.p50_ms;
                checks.push(TargetCheck {
                    target: "warm p50, custom runtime, within 3x the loopback echo round trip".into(),
                    measured: format!(
                        "{} = {} of echo {}",
                        ms(w.latency.p50_ms),
                        ratio(w.latency.p50_ms, echo.p50_ms),
                        ms(echo.p50_ms)
                    ),
                    met: Some(w.latency.p50_ms <= limit),
                    gap: if w.latency.p50_ms <= limit {
                        format!("{} under the 3x limit of {}", ms(limit - w.latency.p50_ms), ms(limit))
                    } else {
                        format!(
                            "{} over the 3x limit of {} ({:.1}x too slow)",
                            ms(w.latency.p50_ms - limit),
                            ms(limit),
                            w.latency.p50_ms / limit
                        )
                    },
                });
                checks.push(TargetCheck {
                    target: "warm p99, custom runtime, under 2 ms".into(),
                    measured: ms(w.latency.p99_ms),
                    met: Some(w.latency.p99_ms < 2.0),
                    gap: format!("{:+.3} ms against 2 ms", w.latency.p99_ms - 2.0),
                });
            }
            None => checks.push(unmeasured("warm latency of the custom runtime")),
        }
        match &self.cargo_lambda {
            Some(c) => {
                let faster = c.lambdabox_warm.p50_ms < c.warm.p50_ms;
                checks.push(TargetCheck {
                    target: "warm latency faster than `cargo lambda watch` (same lambda_runtime function)".into(),
                    measured: format!("p50 {} vs {}", ms(c.lambdabox_warm.p50_ms), ms(c.warm.p50_ms)),
                    met: Some(faster),
                    gap: format!("{} of cargo lambda's p50", ratio(c.lambdabox_warm.p50_ms, c.warm.p50_ms)),
                });
            }
            None => checks.push(unmeasured("`cargo lambda watch` comparison (run with --with-cargo-lambda)")),
        }
        match self.load.iter().find(|l| l.concurrency == 64) {
            Some(l) => checks.push(TargetCheck {
                target: "throughput at 64 clients, custom runtime, at least 10,000/s".into(),
                measured: format!("{} (p99 {})", rps(l.requests_per_second), ms(l.latency.p99_ms)),
                met: Some(l.requests_per_second >= 10_000.0),
                gap: if l.requests_per_second >= 10_000.0 {
                    "met".into()
                } else {
                    format!(
                        "{:.0}/s short ({:.1}x below)",
                        10_000.0 - l.requests_per_second,
                        10_000.0 / l.requests_per_second.max(1.0)
                    )
                },
            }),
            None => checks.push(unmeasured("throughput at 64 clients")),
        }
        for (runtime, bare, limit) in [
            (crate::CUSTOM, "bootstrap", 10.0),
            ("python3.11", "python3 -c pass", 15.0),
            ("nodejs20.x", "node -e 0", 15.0),
        ] {
            match (self.cold_of(runtime), self.bare(bare)) {
                (Some(c), Some(b)) => {
                    let delta = c.result.total.p50_ms - b.start.p50_ms;
                    checks.push(TargetCheck {
                        target: format!("cold start {runtime} within {limit} ms of bare `{bare}`"),
                        measured: format!(
                            "{} vs {} bare: {}",
                            ms(c.result.total.p50_ms),
                            ms(b.start.p50_ms),
                            signed_ms(delta)
                        ),
                        met: Some(delta <= limit),
                        gap: format!("{:+.1} ms against the {limit} ms allowance", delta - limit),
                    });
                }
                _ => checks.push(unmeasured(&format!("cold start of {runtime}"))),
            }
        }
        match (self.cold_of("python3.11"), self.bare("python3 -c pass")) {
            (Some(c), Some(b)) => checks.push(TargetCheck {
                target: "Python cold start faster than bare `python3 -c pass` (pre-initialised runtimes)".into(),
                measured: format!("{} vs {}", ms(c.result.total.p50_ms), ms(b.start.p50_ms)),
                met: Some(c.result.total.p50_ms < b.start.p50_ms),
                gap: format!("{} of the bare start", ratio(c.result.total.p50_ms, b.start.p50_ms)),
            }),
            _ => checks.push(unmeasured("Python cold start against its bare start")),
        }
        match &self.density {
            Some(d) => checks.push(TargetCheck {
                target: "at least 1,000 frozen Python environments on 24 GiB".into(),
                measured: format!(
                    "{} by PSS ({:.1} MiB each), {} by MemAvailable ({:.1} MiB each); {} of {} measured, {} frozen",
                    d.fit_24gib_by_pss,
                    (d.pss.median_kib + d.server_kib_per_env) / 1024.0,
                    d.fit_24gib_by_mem_available,
                    d.mem_available_kib_per_env / 1024.0,
                    d.environments,
                    d.requested,
                    d.frozen
                ),
                met: Some(d.fit_24gib_by_pss >= 1000),
                gap: format!("{:.1}x the target by PSS", d.fit_24gib_by_pss as f64 / 1000.0),
            }),
            None => checks.push(unmeasured("density")),
        }
        self.targets = checks;
    }

    /// Every target with its status, always printed last.
    pub(super) fn targets_table(&self, t: &mut String) {
        let _ = writeln!(t, "\n### Targets\n");
        let _ = writeln!(t, "| target | measured | status | gap |");
        let _ = writeln!(t, "|---|---|---|---|");
        for c in &self.targets {
            let status = match c.met {
                Some(true) => "met",
                Some(false) => "**missed**",
                None => "not measured",
            };
            let _ = writeln!(t, "| {} | {} | {} | {} |", c.target, c.measured, status, c.gap);
        }
    }
}

/// A target this run did not measure.
fn unmeasured(what: &str) -> TargetCheck {
    TargetCheck { target: what.into(), measured: "-".into(), met: None, gap: "-".into() }
}
