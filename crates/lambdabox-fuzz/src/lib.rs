//! What every `tests/fuzz_*.rs` target shares: how many cases to generate
//! (`LAMBDABOX_FUZZ_CASES`, 1000 by default: the whole set runs in CI in
//! under a minute; `scripts/fuzz.sh` runs more), proptest's configuration
//! with the target's regression file kept in the repo, the seed corpus
//! each target replays first, and [`Run`]: the count of executions, the
//! generated cases, and the `fuzz TARGET: N executions in T s` report.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestRunner};

/// The number of generated cases: `LAMBDABOX_FUZZ_CASES`, 1000 by default.
pub fn cases() -> u32 {
    std::env::var("LAMBDABOX_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1000)
}

/// proptest's configuration for `target`: [`cases`] cases, failures kept
/// in `tests/proptest-regressions/fuzz_TARGET.txt` (replayed first), and
/// `source_file` (the test's `file!()`) for proptest's messages.
pub fn config(target: &str, source_file: &'static str) -> Config {
    // proptest keeps the path for the whole run; one small leak per target.
    let path: &'static str = Box::leak(format!("tests/proptest-regressions/fuzz_{target}.txt").into_boxed_str());
    Config {
        cases: cases(),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(path))),
        source_file: Some(source_file),
        ..Config::default()
    }
}

/// The files of a seed corpus directory, sorted (subdirectories left out).
pub fn corpus(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("the seed corpus {dir}: {e}"))
        .map(|e| e.expect("a corpus entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// One fuzz target's run: corpus replays counted with [`Run::count`], then
/// [`Run::generate`] runs the generated cases and reports the total.
#[derive(Debug)]
pub struct Run {
    target: &'static str,
    source_file: &'static str,
    started: Instant,
    executions: AtomicU64,
}

impl Run {
    pub fn new(target: &'static str, source_file: &'static str) -> Self {
        Self { target, source_file, started: Instant::now(), executions: AtomicU64::new(0) }
    }

    /// Counts one execution (a corpus file replayed).
    pub fn count(&self) {
        self.executions.fetch_add(1, Ordering::Relaxed);
    }

    /// Runs [`cases`] cases of `strategy` through `test` with [`config`],
    /// prints the report, and panics with proptest's (minimised) failure.
    pub fn generate<S: Strategy>(self, strategy: &S, test: impl Fn(S::Value) -> Result<(), TestCaseError>) {
        let mut runner = TestRunner::new(config(self.target, self.source_file));
        let result = runner.run(strategy, |value| {
            self.count();
            test(value)
        });
        let n = self.executions.load(Ordering::Relaxed);
        eprintln!("fuzz {}: {n} executions in {:.1} s", self.target, self.started.elapsed().as_secs_f64());
        if let Err(e) = result {
            panic!("{e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_regression_file_is_the_targets() {
        let c = config("x", file!());
        assert_eq!(c.cases, cases());
        assert!(format!("{:?}", c.failure_persistence).contains("fuzz_x.txt"));
    }
}
