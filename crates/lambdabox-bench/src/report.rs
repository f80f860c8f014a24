//! The results of a run: the JSON document, the table printed beside each
//! baseline, and the check of each of the targets.

use std::fmt::Write as _;

use serde::Serialize;

use crate::measure::alias::AliasResult;
use crate::measure::cold::ColdResult;
use crate::measure::density::DensityResult;
use crate::measure::front_door::FrontDoorResult;
use crate::measure::load::LoadResult;
use crate::measure::queued::AsyncResult;
use crate::stats::Summary;

/// The machine and the conditions of the run.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cpus: usize,
    pub mem_total_gib: f64,
    pub kernel: String,
    pub cpu_model: String,
    /// 1-, 5- and 15-minute load averages when the run started and ended.
    pub load_before: [f64; 3],
    pub load_after: [f64; 3],
}

/// Warm latency of one function (or of the echo baseline).
#[derive(Debug, Clone, Serialize)]
pub struct Warm {
    pub label: String,
    pub latency: Summary,
    #[serde(skip)]
    pub samples_ms: Vec<f64>,
}

/// A bare process start outside any sandbox.
#[derive(Debug, Clone, Serialize)]
pub struct BareStart {
    pub label: String,
    pub command: String,
    pub start: Summary,
}

/// The cold starts of one runtime beside its bare start.
#[derive(Debug, Clone, Serialize)]
pub struct Cold {
    pub runtime: String,
    pub result: ColdResult,
    /// The label of the [`BareStart`] it is compared with.
    pub baseline: String,
}

/// The `cargo lambda watch` comparison on the same `lambda_runtime` function.
#[derive(Debug, Clone, Serialize)]
pub struct CargoLambda {
    pub version: String,
    pub warm: Summary,
    pub load: Vec<LoadResult>,
    /// The same function on Lambdabox.
    pub lambdabox_warm: Summary,
    pub lambdabox_load: Vec<LoadResult>,
    #[serde(skip)]
    pub samples_ms: Vec<f64>,
}

/// Event invocations through the durable queue beside synchronous Invokes
/// of the same function at as many clients as there are async workers.
#[derive(Debug, Clone, Serialize)]
pub struct AsyncRun {
    pub queued: AsyncResult,
    pub sync: LoadResult,
}

/// One of the targets, checked.
#[derive(Debug, Clone, Serialize)]
pub struct TargetCheck {
    pub target: String,
    pub measured: String,
    /// `None` when it was not measured in this run.
    pub met: Option<bool>,
    pub gap: String,
}

/// Everything a run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Results {
    pub command: String,
    pub unix_time: u64,
    pub machine: Machine,
    /// MemorySize of the latency, throughput and cold-start fixtures.
    pub memory_size_mb: u32,
    pub echo_warm: Warm,
    pub echo_load: Vec<LoadResult>,
    pub bare_starts: Vec<BareStart>,
    pub warm: Vec<Warm>,
    pub load: Vec<LoadResult>,
    pub cold: Vec<Cold>,
    pub density: Option<DensityResult>,
    pub cargo_lambda: Option<CargoLambda>,
    /// Warm latency of `$LATEST`, a version and an alias, interleaved.
    pub alias: Option<AliasResult>,
    /// The custom-runtime function through a function URL and an HTTP API, beside Invoke.
    pub front_door: Option<FrontDoorResult>,
    /// Event invocations end to end.
    #[serde(rename = "async")]
    pub async_run: Option<AsyncRun>,
    /// What could not be measured, and why.
    pub unavailable: Vec<(String, String)>,
    pub targets: Vec<TargetCheck>,
}

fn ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0} ms")
    } else if v >= 10.0 {
        format!("{v:.1} ms")
    } else {
        format!("{v:.3} ms")
    }
}

fn signed_ms(v: f64) -> String {
    if v < 0.0 { format!("-{}", ms(-v)) } else { format!("+{}", ms(v)) }
}

fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 { format!("{:.2}x", a / b) } else { "-".into() }
}

fn rps(v: f64) -> String {
    format!("{v:.0}/s")
}

impl Results {
    pub fn bare(&self, label: &str) -> Option<&BareStart> {
        self.bare_starts.iter().find(|b| b.label == label)
    }

    pub fn warm_of(&self, label: &str) -> Option<&Warm> {
        self.warm.iter().find(|w| w.label == label)
    }

    pub fn cold_of(&self, runtime: &str) -> Option<&Cold> {
        self.cold.iter().find(|c| c.runtime == runtime)
    }

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

    /// The table printed at the end of a run (Markdown, so it can be pasted
    /// into docs/performance.md as is).
    pub fn table(&self) -> String {
        let mut t = String::new();
        let echo = self.echo_warm.latency;
        let m = &self.machine;
        let _ = writeln!(
            t,
            "Machine: {} CPUs ({}), {:.1} GiB, Linux {}; load average {:.2} at start, {:.2} at end\n",
            m.cpus, m.cpu_model, m.mem_total_gib, m.kernel, m.load_before[0], m.load_after[0]
        );
        let _ = writeln!(t, "Fixture functions: MemorySize {} MB (density: 128 MB)\n", self.memory_size_mb);
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
        if let Some(a) = &self.alias {
            let _ = writeln!(
                t,
                "\n### Alias resolution (warm, sequential, the three interleaved round-robin on one connection, {} rounds)\n",
                a.rounds
            );
            let _ = writeln!(
                t,
                "| invoked as | n | p50 | p90 | p99 | p50 vs $LATEST | p99 vs $LATEST | median paired delta |"
            );
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
        if let Some(f) = &self.front_door {
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
        if let Some(c) = &self.cargo_lambda {
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
        if let Some(a) = &self.async_run {
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
        if let Some(d) = &self.density {
            let _ = writeln!(t, "\n### Density (frozen python3.11 environments, MemorySize 128)\n");
            let _ = writeln!(
                t,
                "| measured | frozen | PSS per env (median) | min / max | server per env | MemAvailable drop per env | fit in 24 GiB by PSS | by MemAvailable |"
            );
            let _ = writeln!(t, "|---:|---:|---:|---:|---:|---:|---:|---:|");
            let _ = writeln!(
                t,
                "| {} of {} | {} | {:.1} MiB | {:.1} / {:.1} MiB | {:.0} KiB | {:.1} MiB | {} | {} |",
                d.environments,
                d.requested,
                d.frozen,
                d.pss.median_kib / 1024.0,
                d.pss.min_kib / 1024.0,
                d.pss.max_kib / 1024.0,
                d.server_kib_per_env,
                d.mem_available_kib_per_env / 1024.0,
                d.fit_24gib_by_pss,
                d.fit_24gib_by_mem_available
            );
        }
        if !self.unavailable.is_empty() {
            let _ = writeln!(t, "\nNot measured:\n");
            for (what, why) in &self.unavailable {
                let _ = writeln!(t, "- {what}: {why}");
            }
        }
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
        t
    }
}

fn unmeasured(what: &str) -> TargetCheck {
    TargetCheck { target: what.into(), measured: "-".into(), met: None, gap: "-".into() }
}
