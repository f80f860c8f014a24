//! The log groups and streams on disk: one folder per function under the
//! logs root, one `.log`/`.idx` pair per stream.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use crate::LogsError;
use crate::stream::Stream;
use lambdabox_model::logstream::{LOG_EXT, function_of_group, group_name, stream_of_stem, stream_stem};

/// A log group as DescribeLogGroups reports it.
#[derive(Debug, Clone)]
pub struct GroupInfo {
    pub name: String,
    pub created_ms: i64,
    pub stored_bytes: u64,
}

/// The logs root (`DATA_DIR/logs`).
#[derive(Debug, Clone)]
pub struct LogStore {
    root: PathBuf,
}

impl LogStore {
    pub fn new(root: PathBuf) -> Self {
        Self { root }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Every log group, sorted by name.
    pub fn groups(&self) -> Result<Vec<GroupInfo>, LogsError> {
        let entries = match fs::read_dir(&self.root) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(LogsError::Io { path: self.root.clone(), source: e }),
        };
        let mut groups = Vec::new();
        for entry in entries {
            let entry = entry.map_err(LogsError::io(&self.root))?;
            let Some(function) = entry.file_name().to_str().map(str::to_owned) else { continue };
            let name = group_name(&function);
            if function_of_group(&name).is_none() {
                continue;
            }
            let meta = match entry.metadata() {
                Ok(meta) if meta.is_dir() => meta,
                Ok(_) => continue,
                // Deleted while listed.
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(LogsError::Io { path: entry.path(), source: e }),
            };
            let created = meta.created().or_else(|_| meta.modified());
            let created_ms =
                created.ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map_or(0, |d| d.as_millis() as i64);
            groups.push(GroupInfo { name, created_ms, stored_bytes: stored_bytes(&entry.path()) });
        }
        groups.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(groups)
    }

    /// The folder of a log group that exists.
    pub fn group_dir(&self, group: &str) -> Result<PathBuf, LogsError> {
        let function = function_of_group(group).ok_or(LogsError::LogGroupNotFound)?;
        let dir = self.root.join(function);
        if dir.is_dir() { Ok(dir) } else { Err(LogsError::LogGroupNotFound) }
    }

    /// The names of a group's streams with their file stems, sorted by name.
    pub fn stream_names(&self, dir: &Path) -> Result<Vec<(String, String)>, LogsError> {
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(LogsError::LogGroupNotFound),
            Err(e) => return Err(LogsError::Io { path: dir.to_owned(), source: e }),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(LogsError::io(dir))?;
            let file = entry.file_name();
            let Some(stem) = file.to_str().and_then(|f| f.strip_suffix(&format!(".{LOG_EXT}"))) else {
                continue;
            };
            if let Some(name) = stream_of_stem(stem) {
                names.push((name, stem.to_owned()));
            }
        }
        names.sort();
        Ok(names)
    }

    /// Opens a stream by its stem; `None` if it went away meanwhile.
    pub fn open(&self, dir: &Path, name: &str, stem: &str) -> Result<Option<Stream>, LogsError> {
        Stream::open(dir, stem, name.to_owned()).map_err(LogsError::io(dir.join(stem)))
    }

    /// Opens a stream by its name.
    pub fn open_named(&self, dir: &Path, name: &str) -> Result<Stream, LogsError> {
        let stem = stream_stem(name).ok_or(LogsError::LogStreamNotFound)?;
        self.open(dir, name, &stem)?.ok_or(LogsError::LogStreamNotFound)
    }

    /// Removes a log group and its streams.
    pub fn delete_group(&self, group: &str) -> Result<(), LogsError> {
        let dir = self.group_dir(group)?;
        match fs::remove_dir_all(&dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(LogsError::LogGroupNotFound),
            Err(e) => Err(LogsError::Io { path: dir, source: e }),
        }
    }
}

/// The bytes of a group's event files.
fn stored_bytes(dir: &Path) -> u64 {
    let Ok(entries) = fs::read_dir(dir) else { return 0 };
    entries
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == LOG_EXT))
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::tests::write_stream;

    #[test]
    fn lists_groups_and_streams_and_deletes_groups() {
        let dir = tempfile::tempdir().unwrap();
        let store = LogStore::new(dir.path().join("logs"));
        assert!(store.groups().unwrap().is_empty(), "no logs root yet");
        write_stream(&dir.path().join("logs/b"), "2026-01-02-[$LATEST]b", &[(1, "x")]);
        write_stream(&dir.path().join("logs/a"), "2026-01-02-[$LATEST]a", &[(1, "hello")]);
        fs::create_dir_all(dir.path().join("logs/not a function")).unwrap();
        fs::write(dir.path().join("logs/a/notes.txt"), "not a stream").unwrap();
        let groups = store.groups().unwrap();
        assert_eq!(groups.iter().map(|g| g.name.as_str()).collect::<Vec<_>>(), ["/aws/lambda/a", "/aws/lambda/b"]);
        assert_eq!(groups[0].stored_bytes, 6);
        let a = store.group_dir("/aws/lambda/a").unwrap();
        assert_eq!(
            store.stream_names(&a).unwrap(),
            [("2026/01/02/[$LATEST]a".to_owned(), "2026-01-02-[$LATEST]a".to_owned())]
        );
        assert!(store.open_named(&a, "2026/01/02/[$LATEST]a").is_ok());
        assert!(matches!(store.open_named(&a, "2026/01/02/[$LATEST]zz"), Err(LogsError::LogStreamNotFound)));
        store.delete_group("/aws/lambda/a").unwrap();
        assert!(matches!(store.group_dir("/aws/lambda/a"), Err(LogsError::LogGroupNotFound)));
        assert!(matches!(store.delete_group("/aws/lambda/a"), Err(LogsError::LogGroupNotFound)));
        assert!(matches!(store.delete_group("/aws/lambda/../logs"), Err(LogsError::LogGroupNotFound)));
    }
}
