//! Reading one log stream: its events with their times, forward or backward
//! from a byte offset, a bounded chunk at a time, and where in the file a
//! time begins (a binary search of the index). A page costs the bytes it
//! reads, not the size of the stream.
//!
//! Offsets name the start of an event's line; every offset this module
//! hands out, and every one it accepts, is a line boundary. A stream being
//! written is read up to its last complete line.

use std::fs::{File, Metadata};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use lambdabox_model::logstream::{INDEX_EXT, LOG_EXT, RECORD_BYTES, decode_record};

/// How much of a stream one read takes, unless a single line is longer.
pub const CHUNK_BYTES: u64 = 64 * 1024;

/// One event of a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Where its line starts in the stream's `.log`.
    pub offset: u64,
    /// Where the next line starts.
    pub end: u64,
    /// When it was ingested, in ms since the epoch (also its timestamp).
    pub timestamp: i64,
    pub message: String,
}

/// One stream's files, opened for reading.
#[derive(Debug)]
pub struct Stream {
    pub name: String,
    log_path: PathBuf,
    log: File,
    index: Option<File>,
    /// The end of the last complete line of `.log`.
    pub len: u64,
    /// How many index records point inside `len`.
    records: u64,
    /// The time of every event of a stream without index records (its
    /// file's modification time).
    fallback_ms: i64,
    /// When the stream was created, in ms.
    pub created_ms: i64,
}

fn ms_of(time: io::Result<std::time::SystemTime>) -> Option<i64> {
    time.ok()?.duration_since(UNIX_EPOCH).ok().map(|d| d.as_millis() as i64)
}

impl Stream {
    /// Opens the stream `name` whose files are `<dir>/<stem>.log` and
    /// `.idx`; `None` when it has no `.log` (any more).
    pub fn open(dir: &Path, stem: &str, name: String) -> io::Result<Option<Self>> {
        let log_path = dir.join(format!("{stem}.{LOG_EXT}"));
        let log = match File::open(&log_path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let meta: Metadata = log.metadata()?;
        let len = complete_len(&log, meta.len())?;
        let index = match File::open(dir.join(format!("{stem}.{INDEX_EXT}"))) {
            Ok(file) => Some(file),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        let fallback_ms = ms_of(meta.modified()).unwrap_or(0);
        let mut stream = Self { name, log_path, log, index, len, records: 0, fallback_ms, created_ms: fallback_ms };
        if let Some(index) = &stream.index {
            let mut records = index.metadata()?.len() / RECORD_BYTES;
            // Records the log's lines have not caught up with yet.
            while records > 0 && stream.record_at(records - 1)?.0 >= len {
                records -= 1;
            }
            stream.records = records;
        }
        stream.created_ms = match ms_of(meta.created()) {
            Some(ms) => ms,
            None if stream.records > 0 => stream.record_at(0)?.1,
            None => fallback_ms,
        };
        Ok(Some(stream))
    }

    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    fn record_at(&self, i: u64) -> io::Result<(u64, i64)> {
        let index = self.index.as_ref().expect("records exist only with an index");
        let mut buf = [0u8; 16];
        index.read_exact_at(&mut buf, i * RECORD_BYTES)?;
        Ok(decode_record(&buf))
    }

    /// The records `from..to`, in one read.
    fn records_between(&self, from: u64, to: u64) -> io::Result<Vec<(u64, i64)>> {
        if from >= to {
            return Ok(Vec::new());
        }
        let index = self.index.as_ref().expect("records exist only with an index");
        let mut buf = vec![0u8; ((to - from) * RECORD_BYTES) as usize];
        index.read_exact_at(&mut buf, from * RECORD_BYTES)?;
        Ok(buf.chunks_exact(16).map(|r| decode_record(r.try_into().expect("16 bytes"))).collect())
    }

    /// The first record for which `pred` is false (records are sorted so
    /// that `pred` holds for a prefix of them).
    fn partition_point(&self, pred: impl Fn((u64, i64)) -> bool) -> io::Result<u64> {
        let (mut lo, mut hi) = (0, self.records);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if pred(self.record_at(mid)?) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        Ok(lo)
    }

    /// The time of the first event, if there is one.
    pub fn first_timestamp(&self) -> io::Result<Option<i64>> {
        if self.len == 0 {
            return Ok(None);
        }
        if self.records == 0 {
            return Ok(Some(self.fallback_ms));
        }
        Ok(Some(self.record_at(0)?.1))
    }

    /// The time of the last event, if there is one.
    pub fn last_timestamp(&self) -> io::Result<Option<i64>> {
        if self.len == 0 {
            return Ok(None);
        }
        if self.records == 0 {
            return Ok(Some(self.fallback_ms));
        }
        Ok(Some(self.record_at(self.records - 1)?.1))
    }

    /// Where the first event at or after `ms` starts (`len` if none does).
    pub fn offset_at_or_after(&self, ms: i64) -> io::Result<u64> {
        self.offset_where(|t| t < ms)
    }

    /// Where the first event after `ms` starts (`len` if none does).
    pub fn offset_after(&self, ms: i64) -> io::Result<u64> {
        self.offset_where(|t| t <= ms)
    }

    /// The start of the first event whose time fails `before`.
    fn offset_where(&self, before: impl Fn(i64) -> bool) -> io::Result<u64> {
        if self.records == 0 {
            return Ok(if before(self.fallback_ms) { self.len } else { 0 });
        }
        let i = self.partition_point(|(_, t)| before(t))?;
        if i == 0 {
            return Ok(0);
        }
        Ok(if i == self.records { self.len } else { self.record_at(i)?.0 })
    }

    /// Whether `offset` is a line boundary of the stream.
    pub fn is_boundary(&self, offset: u64) -> io::Result<bool> {
        if offset == 0 || offset == self.len {
            return Ok(true);
        }
        if offset > self.len {
            return Ok(false);
        }
        let mut byte = [0u8; 1];
        self.log.read_exact_at(&mut byte, offset - 1)?;
        Ok(byte[0] == b'\n')
    }

    /// The events that start in `[from, to)`, oldest first, reading about
    /// [`CHUNK_BYTES`] (more when one line is longer). Empty only when
    /// `from >= to`.
    pub fn forward(&self, from: u64, to: u64) -> io::Result<Vec<Event>> {
        let to = to.min(self.len);
        if from >= to {
            return Ok(Vec::new());
        }
        let mut want = CHUNK_BYTES;
        loop {
            let size = want.min(to - from);
            let buf = self.read(from, size)?;
            // `to` is a line boundary, so a full read ends with a newline.
            match buf.iter().rposition(|b| *b == b'\n') {
                Some(last) => return self.events(from, &buf[..=last]),
                None if size < to - from => want *= 2,
                None => return Ok(Vec::new()),
            }
        }
    }

    /// The events that start in `[from, to)`, newest first, reading about
    /// [`CHUNK_BYTES`] back from `to`. Empty only when `from >= to`.
    pub fn backward(&self, to: u64, from: u64) -> io::Result<Vec<Event>> {
        let to = to.min(self.len);
        if from >= to {
            return Ok(Vec::new());
        }
        let mut want = CHUNK_BYTES;
        loop {
            let start = to.saturating_sub(want).max(from);
            let buf = self.read(start, to - start)?;
            if start == from {
                let mut events = self.events(from, &buf)?;
                events.reverse();
                return Ok(events);
            }
            // The chunk starts inside a line: keep the lines after it.
            match buf[..buf.len() - 1].iter().position(|b| *b == b'\n') {
                Some(first) => {
                    let mut events = self.events(start + first as u64 + 1, &buf[first + 1..])?;
                    events.reverse();
                    return Ok(events);
                }
                None => want *= 2,
            }
        }
    }

    fn read(&self, offset: u64, size: u64) -> io::Result<Vec<u8>> {
        let mut buf = vec![0u8; size as usize];
        self.log.read_exact_at(&mut buf, offset)?;
        Ok(buf)
    }

    /// The events of `lines` (whole lines read at `offset`), with the times
    /// of the index records that cover them.
    fn events(&self, offset: u64, lines: &[u8]) -> io::Result<Vec<Event>> {
        let end = offset + lines.len() as u64;
        let times = if self.records == 0 {
            vec![(0, self.fallback_ms)]
        } else {
            // From the last record at or before `offset` to the last one before `end`.
            let first = self.partition_point(|(o, _)| o <= offset)?.saturating_sub(1);
            let last = self.partition_point(|(o, _)| o < end)?;
            self.records_between(first, last.max(first + 1))?
        };
        let mut events = Vec::new();
        let mut t = 0;
        let mut at = offset;
        for line in lines.split_inclusive(|b| *b == b'\n') {
            while t + 1 < times.len() && times[t + 1].0 <= at {
                t += 1;
            }
            let next = at + line.len() as u64;
            let text = &line[..line.len() - 1];
            events.push(Event {
                offset: at,
                end: next,
                timestamp: times[t].1,
                message: String::from_utf8_lossy(text).into_owned(),
            });
            at = next;
        }
        Ok(events)
    }
}

/// The end of the last complete line of a file of `size` bytes.
fn complete_len(file: &File, size: u64) -> io::Result<u64> {
    let mut end = size;
    let mut want = 4096;
    while end > 0 {
        let start = end.saturating_sub(want);
        let mut buf = vec![0u8; (end - start) as usize];
        file.read_exact_at(&mut buf, start)?;
        if let Some(i) = buf.iter().rposition(|b| *b == b'\n') {
            return Ok(start + i as u64 + 1);
        }
        end = start;
        want = (want * 2).min(1 << 20);
    }
    Ok(0)
}

#[cfg(test)]
pub(crate) mod tests {
    use std::fs;

    use super::*;
    use lambdabox_model::logstream::encode_record;

    /// Writes a stream as the engine does: `(ms, message)` events.
    pub(crate) fn write_stream(dir: &Path, stem: &str, events: &[(i64, &str)]) {
        let mut log = Vec::new();
        let mut index = Vec::new();
        let mut last = None;
        for (ms, message) in events {
            if last != Some(*ms) {
                index.extend_from_slice(&encode_record(log.len() as u64, *ms));
                last = Some(*ms);
            }
            log.extend_from_slice(message.as_bytes());
            log.push(b'\n');
        }
        fs::create_dir_all(dir).unwrap();
        fs::write(dir.join(format!("{stem}.log")), log).unwrap();
        fs::write(dir.join(format!("{stem}.idx")), index).unwrap();
    }

    fn open(dir: &Path) -> Stream {
        Stream::open(dir, "s", "s".into()).unwrap().unwrap()
    }

    fn messages(events: &[Event]) -> Vec<&str> {
        events.iter().map(|e| e.message.as_str()).collect()
    }

    #[test]
    fn reads_events_with_their_times_both_ways() {
        let dir = tempfile::tempdir().unwrap();
        write_stream(dir.path(), "s", &[(10, "a"), (10, "b"), (20, "c"), (30, "d")]);
        let s = open(dir.path());
        let all = s.forward(0, s.len).unwrap();
        assert_eq!(messages(&all), ["a", "b", "c", "d"]);
        assert_eq!(all.iter().map(|e| e.timestamp).collect::<Vec<_>>(), [10, 10, 20, 30]);
        let back = s.backward(s.len, 0).unwrap();
        assert_eq!(messages(&back), ["d", "c", "b", "a"]);
        assert_eq!(back.iter().map(|e| e.timestamp).collect::<Vec<_>>(), [30, 20, 10, 10]);
        assert_eq!(s.first_timestamp().unwrap(), Some(10));
        assert_eq!(s.last_timestamp().unwrap(), Some(30));
    }

    #[test]
    fn finds_where_times_begin() {
        let dir = tempfile::tempdir().unwrap();
        write_stream(dir.path(), "s", &[(10, "a"), (10, "b"), (20, "c"), (30, "d")]);
        let s = open(dir.path());
        assert_eq!(s.offset_at_or_after(0).unwrap(), 0);
        assert_eq!(s.offset_at_or_after(10).unwrap(), 0);
        assert_eq!(s.offset_at_or_after(11).unwrap(), 4);
        assert_eq!(s.offset_at_or_after(20).unwrap(), 4);
        assert_eq!(s.offset_after(20).unwrap(), 6);
        assert_eq!(s.offset_at_or_after(31).unwrap(), s.len);
        assert!(s.is_boundary(4).unwrap() && !s.is_boundary(3).unwrap() && !s.is_boundary(99).unwrap());
    }

    #[test]
    fn a_line_being_written_and_records_ahead_of_the_log_are_not_read() {
        let dir = tempfile::tempdir().unwrap();
        write_stream(dir.path(), "s", &[(10, "a"), (20, "b")]);
        let mut log = fs::read(dir.path().join("s.log")).unwrap();
        log.extend_from_slice(b"half a li");
        fs::write(dir.path().join("s.log"), log).unwrap();
        let mut index = fs::read(dir.path().join("s.idx")).unwrap();
        index.extend_from_slice(&encode_record(4, 30));
        index.extend_from_slice(&[1, 2, 3]); // a torn record
        fs::write(dir.path().join("s.idx"), index).unwrap();
        let s = open(dir.path());
        assert_eq!(s.len, 4);
        assert_eq!(messages(&s.forward(0, u64::MAX).unwrap()), ["a", "b"]);
        assert_eq!(s.last_timestamp().unwrap(), Some(20));
    }

    #[test]
    fn reads_in_chunks_and_lines_longer_than_one() {
        let dir = tempfile::tempdir().unwrap();
        let long = "x".repeat(CHUNK_BYTES as usize * 3);
        let small: Vec<String> = (0..20_000).map(|i| format!("line {i}")).collect();
        let mut events: Vec<(i64, &str)> = small.iter().map(|m| (1, m.as_str())).collect();
        events.push((2, &long));
        events.push((3, "last"));
        write_stream(dir.path(), "s", &events);
        let s = open(dir.path());
        let mut seen = Vec::new();
        let mut at = 0;
        loop {
            let chunk = s.forward(at, s.len).unwrap();
            let Some(last) = chunk.last() else { break };
            at = last.end;
            seen.extend(chunk);
        }
        assert_eq!(seen.len(), 20_002);
        assert_eq!(seen[20_000].message.len(), long.len());
        assert_eq!(seen[20_000].timestamp, 2);
        let mut back = Vec::new();
        let mut at = s.len;
        loop {
            let chunk = s.backward(at, 0).unwrap();
            let Some(last) = chunk.last() else { break };
            at = last.offset;
            back.extend(chunk);
        }
        back.reverse();
        assert_eq!(back, seen);
    }

    #[test]
    fn a_stream_without_index_takes_its_file_time() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("s.log"), "old\nformat\n").unwrap();
        let s = open(dir.path());
        let events = s.forward(0, s.len).unwrap();
        assert_eq!(messages(&events), ["old", "format"]);
        assert!(events[0].timestamp > 0 && events[0].timestamp == events[1].timestamp);
    }
}
