//! The log-stream file format, defined once: the engine writes it
//! (`lambdabox-engine`'s `logs/`, which documents when lines and records
//! are written) and the CloudWatch Logs API reads it (`lambdabox-logs`).
//!
//! ```text
//! logs/<function>/<stream, / as ->.log   one event per line, '\n'-terminated
//! logs/<function>/<stream, / as ->.idx   16-byte records: u64 LE offset into .log,
//!                                        i64 LE ingestion time in ms; the events
//!                                        from that offset on were ingested then
//! ```
//!
//! The log group of a function is `/aws/lambda/<function>`, its streams are
//! named as AWS names them: `2026/11/28/[$LATEST]<32 hex digits>`.

use std::path::PathBuf;

use crate::FunctionName;

/// What every Lambda log group's name starts with.
pub const GROUP_PREFIX: &str = "/aws/lambda/";

/// The extension of a stream's events.
pub const LOG_EXT: &str = "log";

/// The extension of a stream's time index.
pub const INDEX_EXT: &str = "idx";

/// The size of one index record.
pub const RECORD_BYTES: u64 = 16;

/// The longest message of one event: CloudWatch's 256 KB event size less
/// its 26 bytes of per-event overhead. Longer printed lines are cut.
pub const MAX_MESSAGE_BYTES: usize = 262_144 - 26;

/// The events file of a stream the engine names (`/` becomes `-`).
pub fn log_file(stream: &str) -> PathBuf {
    PathBuf::from(format!("{}.{LOG_EXT}", stream.replace('/', "-")))
}

/// The index file of a stream the engine names.
pub fn index_file(stream: &str) -> PathBuf {
    PathBuf::from(format!("{}.{INDEX_EXT}", stream.replace('/', "-")))
}

/// The log group of a function.
pub fn group_name(function: &str) -> String {
    format!("{GROUP_PREFIX}{function}")
}

/// The function whose log group this is, when it names one that can exist.
pub fn function_of_group(group: &str) -> Option<&str> {
    let function = group.strip_prefix(GROUP_PREFIX)?;
    FunctionName::parse(function).ok().map(|_| function)
}

/// The file stem of a stream (its name with `/` as `-`), when the name is
/// one the engine can have written: the mapping must round-trip, so that
/// `2026-11-28-x` does not find the files of `2026/11/28/x`.
pub fn stream_stem(stream: &str) -> Option<String> {
    let stem = stream.replace('/', "-");
    (stream_of_stem(&stem).as_deref() == Some(stream) && !stem.contains('\0')).then_some(stem)
}

/// The stream name of a file stem: `2026-11-28-[$LATEST]…` is
/// `2026/11/28/[$LATEST]…`.
pub fn stream_of_stem(stem: &str) -> Option<String> {
    let b = stem.as_bytes();
    let date_ok = b.len() > 11
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit)
        && b[10] == b'-';
    if !date_ok {
        return None;
    }
    Some(format!("{}/{}/{}/{}", &stem[..4], &stem[5..7], &stem[8..10], &stem[11..]))
}

/// One index record: (offset into `.log`, ingestion time in ms).
pub fn decode_record(bytes: &[u8; 16]) -> (u64, i64) {
    let (offset, ms) = bytes.split_at(8);
    (
        u64::from_le_bytes(offset.try_into().expect("eight bytes")),
        i64::from_le_bytes(ms.try_into().expect("eight bytes")),
    )
}

/// An index record as the engine writes it.
pub fn encode_record(offset: u64, ms: i64) -> [u8; 16] {
    let mut record = [0u8; 16];
    record[..8].copy_from_slice(&offset.to_le_bytes());
    record[8..].copy_from_slice(&ms.to_le_bytes());
    record
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_names_and_stems_round_trip() {
        let name = "2026/11/28/[$LATEST]0123456789abcdef0123456789abcdef";
        let stem = stream_stem(name).unwrap();
        assert_eq!(stem, "2026-11-28-[$LATEST]0123456789abcdef0123456789abcdef");
        assert_eq!(stream_of_stem(&stem).unwrap(), name);
        assert_eq!(stream_of_stem("2026-11-28-[3]abc").unwrap(), "2026/11/28/[3]abc");
        // Names the engine never writes find no file.
        assert!(stream_stem("2026-11-28-[$LATEST]abc").is_none());
        assert!(stream_stem("../../etc/passwd").is_none());
        assert!(stream_stem("2026/11/28/../x").is_none());
        assert!(stream_of_stem("notes").is_none());
    }

    #[test]
    fn groups_name_functions() {
        assert_eq!(function_of_group("/aws/lambda/my-fn_1"), Some("my-fn_1"));
        assert_eq!(group_name("f"), "/aws/lambda/f");
        assert!(function_of_group("/aws/lambda/../x").is_none());
        assert!(function_of_group("/aws/lambda/").is_none());
        assert!(function_of_group("/aws/ecs/x").is_none());
    }

    #[test]
    fn file_names_are_the_stems_the_reader_finds() {
        let name = "2026/11/28/[$LATEST]0123456789abcdef0123456789abcdef";
        let stem = stream_stem(name).unwrap();
        assert_eq!(log_file(name), PathBuf::from(format!("{stem}.log")));
        assert_eq!(index_file(name), PathBuf::from(format!("{stem}.idx")));
    }

    #[test]
    fn records_round_trip() {
        assert_eq!(decode_record(&encode_record(42, 1_700_000_000_123)), (42, 1_700_000_000_123));
    }
}
