//! The results of a run: the JSON document, the table printed beside each
//! baseline, and the check of each of the targets. This file holds
//! the types, the shared number formatting ([`ms`], [`ratio`], [`rps`]) and
//! [`Results::table`], which strings together one table per section, each
//! in a file of its own.

mod alias;
mod cargo_lambda;
mod cold;
mod density;
mod front_door;
mod load;
mod queued;
mod targets;
mod warm;

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
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

/// `v` milliseconds, with fewer decimals the larger it is.
fn ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0} ms")
    } else if v >= 10.0 {
        format!("{v:.1} ms")
    } else {
        format!("{v:.3} ms")
    }
}

/// [`ms`] with its sign, `+` included.
fn signed_ms(v: f64) -> String {
    if v < 0.0 { format!("-{}", ms(-v)) } else { format!("+{}", ms(v)) }
}

/// `a / b` as `1.23x`, or `-` when `b` is not positive.
fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 { format!("{:.2}x", a / b) } else { "-".into() }
}

/// A rate per second, to the unit.
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

    /// The table printed at the end of a run (Markdown, so it can be pasted
    /// into docs/performance.md as is).
    pub fn table(&self) -> String {
        let mut t = String::new();
        self.machine_lines(&mut t);
        self.warm_table(&mut t);
        self.alias_table(&mut t);
        self.front_door_table(&mut t);
        self.load_table(&mut t);
        self.cargo_lambda_table(&mut t);
        self.async_table(&mut t);
        self.cold_table(&mut t);
        self.bare_starts_table(&mut t);
        self.density_table(&mut t);
        self.unavailable_list(&mut t);
        self.targets_table(&mut t);
        t
    }

    /// Writes the JSON document to `path`, creating its directory first.
    pub fn write_json(&self, path: &Path) -> anyhow::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
        }
        std::fs::write(path, serde_json::to_string_pretty(self)?)
            .with_context(|| format!("write {}", path.display()))?;
        eprintln!("wrote {}", path.display());
        Ok(())
    }

    /// The machine and the fixtures' MemorySize, above the tables.
    fn machine_lines(&self, t: &mut String) {
        let m = &self.machine;
        let _ = writeln!(
            t,
            "Machine: {} CPUs ({}), {:.1} GiB, Linux {}; load average {:.2} at start, {:.2} at end\n",
            m.cpus, m.cpu_model, m.mem_total_gib, m.kernel, m.load_before[0], m.load_after[0]
        );
        let _ = writeln!(t, "Fixture functions: MemorySize {} MB (density: 128 MB)\n", self.memory_size_mb);
    }

    /// What could not be measured, and why (nothing when everything was).
    fn unavailable_list(&self, t: &mut String) {
        if !self.unavailable.is_empty() {
            let _ = writeln!(t, "\nNot measured:\n");
            for (what, why) in &self.unavailable {
                let _ = writeln!(t, "- {what}: {why}");
            }
        }
    }
}
