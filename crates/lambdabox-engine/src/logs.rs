//! An execution environment's log stream: what its processes print, and the
//! platform's START, END and REPORT lines, appended to one file per stream
//! under `logs/<function>/`, as AWS writes one CloudWatch stream per
//! environment.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::EngineError;

/// The size of the tail `X-Amz-Log-Result` carries.
pub const TAIL_BYTES: usize = 4096;

/// One environment's stream.
#[derive(Debug)]
pub struct LogStream {
    /// AWS's stream name: `2026/11/28/[$LATEST]<32 hex digits>`.
    pub name: String,
    file: File,
    /// What the current invocation wrote, while one runs.
    capture: Option<Vec<u8>>,
}

impl LogStream {
    /// Opens the stream's file for `function` under `root`.
    pub fn open(root: &Path, function: &str, version: &str) -> Result<Self, EngineError> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let name = format!("{}/[{version}]{id}", chrono::Utc::now().format("%Y/%m/%d"));
        let dir = root.join(function);
        fs::create_dir_all(&dir).map_err(|source| EngineError::Logs { path: dir.clone(), source })?;
        let path = dir.join(file_name(&name));
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|source| EngineError::Logs { path: path.clone(), source })?;
        Ok(Self { name, file, capture: None })
    }

    /// Appends bytes the function's processes printed.
    pub fn write(&mut self, bytes: &[u8]) {
        if let Err(error) = self.file.write_all(bytes) {
            tracing::warn!(%error, stream = %self.name, "cannot append to log stream");
        }
        if let Some(capture) = &mut self.capture {
            capture.extend_from_slice(bytes);
        }
    }

    /// `START RequestId: … Version: …`, and begins capturing the invocation's lines.
    pub fn start(&mut self, request_id: &str, version: &str) {
        self.capture = Some(Vec::new());
        self.write(format!("START RequestId: {request_id} Version: {version}\n").as_bytes());
    }

    /// `END` and `REPORT`; returns what the invocation logged (for the tail).
    pub fn finish(&mut self, request_id: &str, report: &Report) -> Vec<u8> {
        self.write(format!("END RequestId: {request_id}\n").as_bytes());
        self.write(report.line(request_id).as_bytes());
        self.capture.take().unwrap_or_default()
    }
}

/// A stream name as a file name (`/` is not allowed in one).
pub fn file_name(stream: &str) -> PathBuf {
    PathBuf::from(format!("{}.log", stream.replace('/', "-")))
}

/// The figures of AWS's REPORT line.
#[derive(Debug, Clone, Copy)]
pub struct Report {
    pub duration: Duration,
    pub memory_size_mb: u32,
    pub max_memory_used_mb: u64,
    pub init_duration: Option<Duration>,
}

impl Report {
    pub fn line(&self, request_id: &str) -> String {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let billed = ms(self.duration).ceil().max(1.0) as u64;
        let mut line = format!(
            "REPORT RequestId: {request_id}\tDuration: {:.2} ms\tBilled Duration: {billed} ms\tMemory Size: {} MB\tMax Memory Used: {} MB\t",
            ms(self.duration),
            self.memory_size_mb,
            self.max_memory_used_mb
        );
        if let Some(init) = self.init_duration {
            line.push_str(&format!("Init Duration: {:.2} ms\t", ms(init)));
        }
        line.push('\n');
        line
    }
}

/// The last [`TAIL_BYTES`] of an invocation's log, base64 (`X-Amz-Log-Result`).
pub fn tail_base64(log: &[u8]) -> String {
    use base64::Engine as _;
    let start = log.len().saturating_sub(TAIL_BYTES);
    base64::engine::general_purpose::STANDARD.encode(&log[start..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_line_like_aws() {
        let r = Report {
            duration: Duration::from_micros(1234),
            memory_size_mb: 128,
            max_memory_used_mb: 40,
            init_duration: Some(Duration::from_micros(120_450)),
        };
        assert_eq!(
            r.line("id"),
            "REPORT RequestId: id\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\tInit Duration: 120.45 ms\t\n"
        );
    }

    #[test]
    fn stream_captures_one_invocation() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = LogStream::open(dir.path(), "f", "$LATEST").unwrap();
        s.write(b"before\n");
        s.start("r1", "$LATEST");
        s.write(b"hello\n");
        let report = Report {
            duration: Duration::from_millis(1),
            memory_size_mb: 128,
            max_memory_used_mb: 1,
            init_duration: None,
        };
        let captured = String::from_utf8(s.finish("r1", &report)).unwrap();
        assert!(captured.starts_with("START RequestId: r1 Version: $LATEST\nhello\nEND RequestId: r1\nREPORT"));
        let file = fs::read_to_string(dir.path().join("f").join(file_name(&s.name))).unwrap();
        assert!(file.starts_with("before\nSTART"));
        assert!(s.name.contains("[$LATEST]"));
    }
}
