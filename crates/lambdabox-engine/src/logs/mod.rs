//! An execution environment's log stream: what its processes print, and the
//! platform's START, END and REPORT lines, kept under `logs/<function>/` as
//! one stream per environment, as AWS writes one CloudWatch stream per
//! environment. `lambdabox-logs` reads these files to serve the CloudWatch
//! Logs API.
//!
//! A stream is two files, named after the stream (`/` becomes `-`), in the
//! format `lambdabox_model::logstream` defines for writer and reader alike:
//!
//! - `<stream>.log`: one event per line, each line ended by `\n`, exactly
//!   the text of the event (AWS makes one event per printed line, and one per
//!   platform line). Printed bytes are not escaped: a line is what the
//!   function printed between two newlines. A line printed without its
//!   newline is held back until the newline arrives or the invocation ends;
//!   empty lines are not events (CloudWatch has no empty message); a line
//!   longer than [`MAX_MESSAGE_BYTES`] is cut into several events.
//! - `<stream>.idx`: the ingestion times, as 16-byte records, each a
//!   little-endian `u64` byte offset into `.log` and a little-endian `i64`
//!   time in milliseconds since the epoch: the events starting at or after
//!   that offset (up to the next record's) were ingested at that time. A
//!   record is written only when the time changes; offsets and times never
//!   decrease.
//!
//! Both are appended through buffers flushed at the end of each invocation
//! (and when the environment is retired), never synced: what a crash of the
//! server loses is what the current invocation has not finished writing.
//! A reader ignores index records that point past the last complete line,
//! and takes a line without a newline as not yet written.
//!
//! Nothing a function prints is held whole in memory: lines go to the
//! files as they arrive, and only the last [`TAIL_BYTES`] of the invocation
//! are kept ([`tail`]) for `X-Amz-Log-Result`. Disk use is bounded per
//! function and per invocation ([`quota`]); what is dropped is counted and
//! the invocation's log says so before its END line.

mod quota;
mod tail;

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use quota::LogLimits;
pub(crate) use quota::LogQuotas;
use quota::{Admit, FunctionLogs};
use tail::Tail;

use lambdabox_model::logstream::{MAX_MESSAGE_BYTES, encode_record, index_file, log_file};

use crate::EngineError;

/// Disk quota is taken from the function's budget in chunks of this size.
const CREDIT_CHUNK: u64 = 64 * 1024;

/// Why output of an invocation was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dropped {
    /// The invocation printed more than it may.
    Invocation,
    /// The function's streams hold all its quota allows.
    Function,
}

/// The size of the tail `X-Amz-Log-Result` carries.
pub const TAIL_BYTES: usize = 4096;

/// One environment's stream.
#[derive(Debug)]
pub struct LogStream {
    /// AWS's stream name: `2026/11/28/[$LATEST]<32 hex digits>`.
    pub name: String,
    usage: Arc<FunctionLogs>,
    /// The stream's `.log` file.
    path: PathBuf,
    files: Option<Files>,
    /// A line printed without its newline yet (at most
    /// [`MAX_MESSAGE_BYTES`]).
    partial: Vec<u8>,
    /// The end of what the current invocation wrote, while one runs.
    capture: Option<Tail>,
    /// Bytes of the function's quota this stream holds and has not used.
    credit: u64,
    /// Bytes the current invocation printed (dropped ones included).
    invocation_bytes: u64,
    /// Bytes dropped since the last notice, and why.
    dropped: u64,
    dropped_why: Option<Dropped>,
}

/// The open files of a stream.
#[derive(Debug)]
struct Files {
    log: BufWriter<File>,
    index: BufWriter<File>,
    /// Bytes in `.log`, written or buffered.
    len: u64,
    /// The time of the last index record.
    indexed_ms: Option<i64>,
}

impl Files {
    fn open(dir: &Path, stream: &str) -> Result<Self, EngineError> {
        fs::create_dir_all(dir).map_err(|source| EngineError::Logs { path: dir.to_owned(), source })?;
        let open = |path: PathBuf| {
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(|source| EngineError::Logs { path: path.clone(), source })
        };
        let log_path = dir.join(log_file(stream));
        let index_path = dir.join(index_file(stream));
        let log = open(log_path)?;
        let len = log.metadata().map(|m| m.len()).unwrap_or(0);
        let index = open(index_path)?;
        Ok(Self {
            log: BufWriter::with_capacity(64 * 1024, log),
            index: BufWriter::with_capacity(4 * 1024, index),
            len,
            indexed_ms: None,
        })
    }

    /// Appends one event's line, with an index record when the time moved.
    fn append(&mut self, line: &[u8], now_ms: i64) -> std::io::Result<()> {
        let now_ms = self.indexed_ms.map_or(now_ms, |last| now_ms.max(last));
        if self.indexed_ms != Some(now_ms) {
            self.index.write_all(&encode_record(self.len, now_ms))?;
            self.indexed_ms = Some(now_ms);
        }
        self.log.write_all(line)?;
        self.log.write_all(b"\n")?;
        self.len += line.len() as u64 + 1;
        Ok(())
    }

    /// The log first, so an index record rarely points past the lines.
    fn flush(&mut self) -> std::io::Result<()> {
        self.log.flush()?;
        self.index.flush()
    }
}

impl LogStream {
    /// Opens a new stream's files for `function` under the quotas' root.
    pub(crate) fn open(quotas: &LogQuotas, function: &str, version: &str) -> Result<Self, EngineError> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let name = format!("{}/[{version}]{id}", chrono::Utc::now().format("%Y/%m/%d"));
        let usage = quotas.function(function);
        let files = Files::open(&usage.dir, &name)?;
        let path = usage.dir.join(log_file(&name));
        Ok(Self {
            name,
            usage,
            path,
            files: Some(files),
            partial: Vec::new(),
            capture: None,
            credit: 0,
            invocation_bytes: 0,
            dropped: 0,
            dropped_why: None,
        })
    }

    /// Appends bytes the function's processes printed: each complete line
    /// is an event; the rest waits for its newline.
    pub fn write(&mut self, bytes: &[u8]) {
        let now = now_ms();
        let mut rest = bytes;
        while let Some(i) = rest.iter().position(|b| *b == b'\n') {
            if self.partial.is_empty() {
                self.event(&rest[..i], now);
            } else {
                self.partial.extend_from_slice(&rest[..i]);
                let line = std::mem::take(&mut self.partial);
                self.event(&line, now);
            }
            rest = &rest[i + 1..];
        }
        self.partial.extend_from_slice(rest);
        while self.partial.len() > MAX_MESSAGE_BYTES {
            let cut = char_boundary(&self.partial, MAX_MESSAGE_BYTES);
            let head: Vec<u8> = self.partial.drain(..cut).collect();
            self.event(&head, now);
        }
    }

    /// A platform line (without its newline), after any pending output.
    pub fn line(&mut self, line: &str) {
        let now = now_ms();
        self.end_partial(now);
        self.platform(line.as_bytes(), now);
    }

    /// `START RequestId: … Version: …`, and begins capturing the invocation's
    /// lines. Reopens the files if the log group was deleted meanwhile.
    pub fn start(&mut self, request_id: &str, version: &str) {
        let now = now_ms();
        self.end_partial(now);
        self.reopen_if_deleted();
        self.capture = Some(Tail::new());
        self.invocation_bytes = 0;
        self.platform(format!("START RequestId: {request_id} Version: {version}").as_bytes(), now);
    }

    /// `END` and `REPORT`; writes the invocation's lines out and returns
    /// them (the text `X-Amz-Log-Result` carries the tail of).
    pub fn finish(&mut self, request_id: &str, report: &Report) -> Vec<u8> {
        let now = now_ms();
        self.end_partial(now);
        if let Some(why) = self.dropped_why.take() {
            let reason = match why {
                Dropped::Invocation => {
                    format!("an invocation may print at most {} bytes", self.usage.limits.per_invocation_bytes)
                }
                Dropped::Function => format!(
                    "the function's log streams hold the most its quota allows ({} bytes)",
                    self.usage.limits.per_function_bytes
                ),
            };
            let notice =
                format!("RequestId: {request_id} Lambdabox dropped {} bytes of output: {reason}", self.dropped);
            tracing::warn!(stream = %self.name, dropped = self.dropped, ?why, "function output dropped");
            self.dropped = 0;
            self.platform(notice.as_bytes(), now);
        }
        self.platform(format!("END RequestId: {request_id}").as_bytes(), now);
        self.platform(report.line(request_id).trim_end_matches('\n').as_bytes(), now);
        self.flush();
        self.capture.take().map(Tail::into_vec).unwrap_or_default()
    }

    /// Makes a held-back line without its newline an event.
    fn end_partial(&mut self, now: i64) {
        if !self.partial.is_empty() {
            let line = std::mem::take(&mut self.partial);
            self.event(&line, now);
        }
    }

    /// A line the function printed: written unless the invocation or the
    /// function is over its limit, in which case it is counted as dropped.
    fn event(&mut self, line: &[u8], now: i64) {
        if line.is_empty() {
            return;
        }
        let bytes = line.len() as u64 + 1;
        if self.capture.is_some() {
            self.invocation_bytes += bytes;
            if self.invocation_bytes > self.usage.limits.per_invocation_bytes {
                return self.drop_line(bytes, Dropped::Invocation);
            }
        }
        if !self.take_credit(bytes) {
            return self.drop_line(bytes, Dropped::Function);
        }
        self.append(line, now);
    }

    /// A platform line (START, END, REPORT, errors, notices): always written.
    fn platform(&mut self, line: &[u8], now: i64) {
        let _ = self.take_credit(line.len() as u64 + 1);
        self.append(line, now);
    }

    fn drop_line(&mut self, bytes: u64, why: Dropped) {
        self.dropped += bytes;
        self.dropped_why.get_or_insert(why);
    }

    /// Takes `bytes` of the function's quota, a chunk at a time.
    fn take_credit(&mut self, bytes: u64) -> bool {
        if self.credit < bytes {
            let chunk = bytes.max(CREDIT_CHUNK);
            if self.usage.admit(chunk, &self.path) == Admit::Drop {
                return false;
            }
            self.credit += chunk;
        }
        self.credit -= bytes;
        true
    }

    fn append(&mut self, line: &[u8], now: i64) {
        if let Some(capture) = &mut self.capture {
            capture.push(line);
            capture.push(b"\n");
        }
        if let Some(files) = &mut self.files
            && let Err(error) = files.append(line, now)
        {
            tracing::warn!(%error, stream = %self.name, "cannot append to log stream");
        }
    }

    fn flush(&mut self) {
        if let Some(files) = &mut self.files
            && let Err(error) = files.flush()
        {
            tracing::warn!(%error, stream = %self.name, "cannot write log stream");
        }
    }

    /// DeleteLogGroup removes the files of live streams too; the next
    /// invocation starts them again, as AWS recreates a deleted group.
    fn reopen_if_deleted(&mut self) {
        // An unlinked file has no links left: an `fstat` of the open file,
        // not a lookup of its path, on every invocation.
        let gone = self.files.as_ref().is_none_or(|f| {
            use std::os::unix::fs::MetadataExt;
            f.log.get_ref().metadata().map_or(true, |m| m.nlink() == 0)
        });
        if gone {
            self.usage.reset();
            self.credit = 0;
            self.files = match Files::open(&self.usage.dir, &self.name) {
                Ok(files) => Some(files),
                Err(error) => {
                    tracing::warn!(%error, stream = %self.name, "cannot reopen log stream");
                    None
                }
            };
        }
    }
}

impl Drop for LogStream {
    fn drop(&mut self) {
        self.end_partial(now_ms());
        self.flush();
    }
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// The largest cut at most `max` bytes in that does not split a UTF-8
/// character (or `max` when the bytes are not UTF-8 there).
fn char_boundary(bytes: &[u8], max: usize) -> usize {
    (max.saturating_sub(3)..=max)
        .rev()
        .find(|&i| i == bytes.len() || bytes.get(i).is_some_and(|b| (*b as i8) >= -0x40))
        .unwrap_or(max)
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

    fn quotas(root: &Path) -> LogQuotas {
        LogQuotas::new(root.to_owned(), LogLimits::default())
    }

    fn report() -> Report {
        Report { duration: Duration::from_millis(1), memory_size_mb: 128, max_memory_used_mb: 1, init_duration: None }
    }

    /// The index records of a stream: (offset, ms).
    fn records(dir: &Path, s: &LogStream) -> Vec<(u64, i64)> {
        let bytes = fs::read(dir.join("f").join(index_file(&s.name))).unwrap();
        bytes
            .chunks_exact(16)
            .map(|r| (u64::from_le_bytes(r[..8].try_into().unwrap()), i64::from_le_bytes(r[8..].try_into().unwrap())))
            .collect()
    }

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
        let mut s = LogStream::open(&quotas(dir.path()), "f", "$LATEST").unwrap();
        s.write(b"before\n");
        s.start("r1", "$LATEST");
        s.write(b"hello\n");
        let captured = String::from_utf8(s.finish("r1", &report())).unwrap();
        assert!(captured.starts_with("START RequestId: r1 Version: $LATEST\nhello\nEND RequestId: r1\nREPORT"));
        assert!(captured.ends_with("\t\n"), "{captured:?}");
        let file = fs::read_to_string(dir.path().join("f").join(log_file(&s.name))).unwrap();
        assert!(file.starts_with("before\nSTART"));
        assert!(s.name.contains("[$LATEST]"));
    }

    #[test]
    fn lines_without_newline_wait_for_it_or_the_end_of_the_invocation() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = LogStream::open(&quotas(dir.path()), "f", "$LATEST").unwrap();
        s.start("r1", "$LATEST");
        s.write(b"hel");
        s.write(b"lo\nwor");
        s.write(b"ld\n\nno newline");
        s.line("RequestId: r1 Error: Runtime exited with error: exit status 1");
        let captured = String::from_utf8(s.finish("r1", &report())).unwrap();
        let lines: Vec<&str> = captured.lines().collect();
        assert_eq!(
            lines[..5],
            [
                "START RequestId: r1 Version: $LATEST",
                "hello",
                "world",
                "no newline",
                "RequestId: r1 Error: Runtime exited with error: exit status 1"
            ]
        );
        assert_eq!(lines[5], "END RequestId: r1");
        let file = fs::read_to_string(dir.path().join("f").join(log_file(&s.name))).unwrap();
        assert_eq!(file, captured);
    }

    #[test]
    fn index_records_offsets_and_times_of_the_lines() {
        let dir = tempfile::tempdir().unwrap();
        let before = now_ms();
        let mut s = LogStream::open(&quotas(dir.path()), "f", "$LATEST").unwrap();
        s.write(b"init\n");
        s.start("r1", "$LATEST");
        s.finish("r1", &report());
        let after = now_ms();
        let records = records(dir.path(), &s);
        assert!(!records.is_empty());
        assert_eq!(records[0].0, 0);
        for pair in records.windows(2) {
            assert!(pair[0].0 < pair[1].0 && pair[0].1 < pair[1].1, "{records:?}");
        }
        let log = fs::read(dir.path().join("f").join(log_file(&s.name))).unwrap();
        for (offset, ms) in &records {
            assert!(*offset == 0 || log[*offset as usize - 1] == b'\n', "a record starts a line");
            assert!((before..=after).contains(ms));
        }
    }

    #[test]
    fn long_lines_are_cut_into_events() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = LogStream::open(&quotas(dir.path()), "f", "$LATEST").unwrap();
        s.start("r1", "$LATEST");
        let long = "é".repeat(MAX_MESSAGE_BYTES);
        s.write(long.as_bytes());
        s.finish("r1", &report());
        let file = fs::read(dir.path().join("f").join(log_file(&s.name))).unwrap();
        let written = String::from_utf8(file).expect("cuts keep characters whole");
        let lines: Vec<&str> = written.lines().collect();
        assert_eq!(lines[1..lines.len() - 2].concat(), long);
        assert!(lines.iter().all(|l| l.len() <= MAX_MESSAGE_BYTES));
    }

    #[test]
    fn a_deleted_group_is_written_again_by_the_next_invocation() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = LogStream::open(&quotas(dir.path()), "f", "$LATEST").unwrap();
        s.start("r1", "$LATEST");
        s.finish("r1", &report());
        fs::remove_dir_all(dir.path().join("f")).unwrap();
        s.start("r2", "$LATEST");
        s.finish("r2", &report());
        let file = fs::read_to_string(dir.path().join("f").join(log_file(&s.name))).unwrap();
        assert!(file.starts_with("START RequestId: r2 "), "{file}");
        assert_eq!(records(dir.path(), &s)[0].0, 0);
    }

    #[test]
    fn output_after_the_last_invocation_is_written_when_retired() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = LogStream::open(&quotas(dir.path()), "f", "$LATEST").unwrap();
        let path = dir.path().join("f").join(log_file(&s.name));
        s.write(b"late line");
        drop(s);
        assert_eq!(fs::read_to_string(path).unwrap(), "late line\n");
    }

    #[test]
    fn an_invocation_keeps_only_its_tail_and_is_cut_at_its_limit() {
        let dir = tempfile::tempdir().unwrap();
        let limits = LogLimits { per_function_bytes: 1 << 30, per_invocation_bytes: 100_000 };
        let mut s = LogStream::open(&LogQuotas::new(dir.path().to_owned(), limits), "f", "$LATEST").unwrap();
        s.start("r1", "$LATEST");
        // With newlines, then one long run without any.
        for i in 0..10_000 {
            s.write(format!("line {i:06}\n").as_bytes());
        }
        s.write(&vec![b'z'; 3_000_000]);
        let tail = String::from_utf8(s.finish("r1", &report())).unwrap();
        assert!(tail.len() <= TAIL_BYTES, "{}", tail.len());
        assert!(tail.contains("Lambdabox dropped"), "{tail}");
        assert!(tail.contains("an invocation may print at most 100000 bytes"), "{tail}");
        let file = fs::read(dir.path().join("f").join(log_file(&s.name))).unwrap();
        assert!(file.len() < 110_000, "{} bytes written", file.len());
        // The next invocation starts afresh.
        s.start("r2", "$LATEST");
        s.write(b"again\n");
        let tail = String::from_utf8(s.finish("r2", &report())).unwrap();
        assert!(tail.contains("\nagain\n") && !tail.contains("dropped"), "{tail}");
    }

    #[test]
    fn a_function_over_its_quota_loses_its_oldest_streams_then_drops() {
        let dir = tempfile::tempdir().unwrap();
        let limits = LogLimits { per_function_bytes: 1_000_000, per_invocation_bytes: 1 << 30 };
        let quotas = LogQuotas::new(dir.path().to_owned(), limits);
        let mut old = LogStream::open(&quotas, "f", "$LATEST").unwrap();
        old.start("r0", "$LATEST");
        old.write(&vec![b'o'; 500_000]);
        old.write(b"\n");
        old.finish("r0", &report());
        let old_path = dir.path().join("f").join(log_file(&old.name));
        drop(old);
        let mut s = LogStream::open(&quotas, "f", "$LATEST").unwrap();
        s.start("r1", "$LATEST");
        for _ in 0..20 {
            s.write(&[b'n'; 100_000]);
            s.write(b"\n");
        }
        let tail = String::from_utf8(s.finish("r1", &report())).unwrap();
        assert!(!old_path.exists(), "the oldest stream was rotated out");
        assert!(tail.contains("the function's log streams hold the most its quota allows"), "{tail}");
        let total: u64 =
            fs::read_dir(dir.path().join("f")).unwrap().map(|e| e.unwrap().metadata().unwrap().len()).sum();
        assert!(total <= 1_000_000 + 2 * CREDIT_CHUNK, "{total}");
    }
}
