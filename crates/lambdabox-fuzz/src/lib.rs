//! What every `tests/fuzz_*.rs` target shares: how many cases to generate
//! (`LAMBDABOX_FUZZ_CASES`, 1000 by default: the whole set runs in CI in
//! under a minute; `scripts/fuzz.sh` runs more), proptest's configuration
//! with the target's regression file kept in the repo, and the seed corpus
//! each target replays first.

use std::path::PathBuf;

use proptest::test_runner::{Config, FileFailurePersistence};

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
