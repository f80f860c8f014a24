//! How much log one function and one invocation may write to disk.
//!
//! Each function has a quota for all its streams together
//! ([`LogLimits::per_function_bytes`]). When an append takes the function
//! over it, its oldest streams are deleted (rotation), down to 80 % of the
//! quota; when the stream being written is itself too large for that,
//! further output is dropped. Each invocation may also write at most
//! [`LogLimits::per_invocation_bytes`]; past that its output is dropped.
//! Dropped output is counted, and the invocation's log says how much was
//! dropped and why (the stream's writer adds the notice).

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The log limits of an engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogLimits {
    /// All streams of one function together.
    pub per_function_bytes: u64,
    /// What one invocation may print.
    pub per_invocation_bytes: u64,
}

impl Default for LogLimits {
    fn default() -> Self {
        Self { per_function_bytes: 512 << 20, per_invocation_bytes: 64 << 20 }
    }
}

/// The per-function usage of an engine's log root.
#[derive(Debug)]
pub(crate) struct LogQuotas {
    /// `logs/`: one directory per function.
    root: PathBuf,
    limits: LogLimits,
    functions: Mutex<HashMap<String, Arc<FunctionLogs>>>,
}

/// One function's log directory and the bytes its streams hold.
#[derive(Debug)]
pub(crate) struct FunctionLogs {
    pub(crate) dir: PathBuf,
    pub(crate) limits: LogLimits,
    /// Bytes in the directory's files as this engine counts them; `None`
    /// until first measured.
    used: Mutex<Option<u64>>,
}

impl LogQuotas {
    pub(crate) fn new(root: PathBuf, limits: LogLimits) -> Self {
        Self { root, limits, functions: Mutex::new(HashMap::new()) }
    }

    /// The usage record of `function` (shared by all its environments).
    pub(crate) fn function(&self, function: &str) -> Arc<FunctionLogs> {
        let mut map = self.functions.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(function.to_owned())
            .or_insert_with(|| {
                Arc::new(FunctionLogs { dir: self.root.join(function), limits: self.limits, used: Mutex::new(None) })
            })
            .clone()
    }
}

/// What [`FunctionLogs::admit`] decided for an append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admit {
    Write,
    /// The function's streams are full even after rotation.
    Drop,
}

impl FunctionLogs {
    /// Accounts for `bytes` about to be appended to the stream whose log
    /// file is `own`; rotates older streams out when the quota is passed.
    pub(crate) fn admit(&self, bytes: u64, own: &Path) -> Admit {
        let mut used = self.used.lock().unwrap_or_else(|p| p.into_inner());
        let current = *used.get_or_insert_with(|| dir_size(&self.dir));
        if current + bytes <= self.limits.per_function_bytes {
            *used = Some(current + bytes);
            return Admit::Write;
        }
        // Rotate: delete the oldest streams (not the one being written)
        // until the function is under 80 % of its quota.
        let target = self.limits.per_function_bytes / 5 * 4;
        let mut remaining = dir_size(&self.dir);
        for (log, _) in streams_oldest_first(&self.dir) {
            if remaining + bytes <= target {
                break;
            }
            if log == own {
                continue;
            }
            let idx = log.with_extension("idx");
            let freed = file_len(&log) + file_len(&idx);
            if fs::remove_file(&log).is_ok() {
                let _ = fs::remove_file(&idx);
                remaining = remaining.saturating_sub(freed);
                tracing::info!(stream = %log.display(), freed, "log quota: removed the function's oldest stream");
            }
        }
        if remaining + bytes <= self.limits.per_function_bytes {
            *used = Some(remaining + bytes);
            Admit::Write
        } else {
            *used = Some(remaining);
            Admit::Drop
        }
    }

    /// Forgets the count (after the directory was deleted from outside).
    pub(crate) fn reset(&self) {
        *self.used.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

fn file_len(path: &Path) -> u64 {
    fs::symlink_metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn dir_size(dir: &Path) -> u64 {
    fs::read_dir(dir)
        .map(|entries| entries.filter_map(Result::ok).filter_map(|e| e.metadata().ok()).map(|m| m.len()).sum())
        .unwrap_or(0)
}

/// The `.log` files of a directory with their modification times, oldest first.
fn streams_oldest_first(dir: &Path) -> Vec<(PathBuf, std::time::SystemTime)> {
    let mut logs: Vec<(PathBuf, std::time::SystemTime)> = fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "log"))
                .filter_map(|e| Some((e.path(), e.metadata().ok()?.modified().ok()?)))
                .collect()
        })
        .unwrap_or_default();
    logs.sort_by_key(|(_, modified)| *modified);
    logs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_removes_the_oldest_other_streams_first() {
        let dir = tempfile::tempdir().unwrap();
        let quotas =
            LogQuotas::new(dir.path().to_owned(), LogLimits { per_function_bytes: 1000, per_invocation_bytes: 1000 });
        let f = quotas.function("f");
        fs::create_dir_all(&f.dir).unwrap();
        for (i, name) in ["a", "b", "c"].iter().enumerate() {
            fs::write(f.dir.join(format!("{name}.log")), vec![b'x'; 300]).unwrap();
            fs::write(f.dir.join(format!("{name}.idx")), vec![0; 16]).unwrap();
            let t = std::time::SystemTime::now() - std::time::Duration::from_secs(100 - i as u64);
            fs::File::options().write(true).open(f.dir.join(format!("{name}.log"))).unwrap().set_modified(t).unwrap();
        }
        let own = f.dir.join("c.log");
        // 948 bytes used: 50 more pass the quota; a and b go (oldest first)
        // until under 800.
        assert_eq!(f.admit(40, &own), Admit::Write);
        assert_eq!(f.admit(100, &own), Admit::Write);
        assert!(!f.dir.join("a.log").exists() && !f.dir.join("a.idx").exists());
        assert!(f.dir.join("c.log").exists());
        // The own stream alone too large: drop.
        assert_eq!(f.admit(900, &own), Admit::Drop);
        assert!(f.dir.join("c.log").exists());
    }
}
