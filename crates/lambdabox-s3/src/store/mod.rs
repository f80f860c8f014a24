//! The metadata store: buckets, object versions, multipart uploads and their
//! parts in one SQLite file (WAL, synchronous=FULL: a committed row survives a
//! crash of the process or the machine). Bodies live in files that
//! [`crate::files::Files`] writes and fsyncs before the row naming them commits.

mod buckets;
mod notifications;
mod objects;
mod uploads;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use rusqlite::{Connection, Row};
use serde::{Deserialize, Serialize};

use crate::error::{StoreError, query};
use crate::notifications::NotificationConfig;

pub use objects::{DeleteOutcome, PutOutcome};
pub use uploads::PartRow;

/// The version id of objects written while versioning was never enabled or suspended.
pub const NULL_VERSION: &str = "null";

/// Schema migrations, applied in order; `PRAGMA user_version` counts them.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE buckets (
    name        TEXT PRIMARY KEY,
    created_ms  INTEGER NOT NULL,
    versioning  TEXT NOT NULL DEFAULT 'Unversioned'
);
CREATE TABLE versions (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    bucket        TEXT NOT NULL REFERENCES buckets(name),
    key           TEXT NOT NULL,
    version_id    TEXT NOT NULL,
    delete_marker INTEGER NOT NULL,
    file          TEXT,
    size          INTEGER NOT NULL,
    etag          TEXT NOT NULL,
    modified_ms   INTEGER NOT NULL,
    attrs         TEXT NOT NULL,
    UNIQUE (bucket, key, version_id)
);
CREATE INDEX versions_by_key ON versions(bucket, key, seq);
CREATE TABLE uploads (
    upload_id     TEXT PRIMARY KEY,
    bucket        TEXT NOT NULL REFERENCES buckets(name),
    key           TEXT NOT NULL,
    initiated_ms  INTEGER NOT NULL,
    attrs         TEXT NOT NULL
);
CREATE INDEX uploads_by_key ON uploads(bucket, key, initiated_ms);
CREATE TABLE parts (
    upload_id     TEXT NOT NULL REFERENCES uploads(upload_id) ON DELETE CASCADE,
    part_number   INTEGER NOT NULL,
    file          TEXT NOT NULL,
    size          INTEGER NOT NULL,
    etag          TEXT NOT NULL,
    modified_ms   INTEGER NOT NULL,
    PRIMARY KEY (upload_id, part_number)
);
"#,
    r#"
ALTER TABLE buckets ADD COLUMN policy TEXT;
"#,
    // The bucket's notification configuration (JSON of `NotificationConfig`).
    r#"
ALTER TABLE buckets ADD COLUMN notification TEXT;
"#,
];

/// A bucket's versioning state: S3's three (a bucket that was never
/// versioned differs from a suspended one in the responses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Versioning {
    Unversioned,
    Enabled,
    Suspended,
}

impl Versioning {
    fn as_str(self) -> &'static str {
        match self {
            Self::Unversioned => "Unversioned",
            Self::Enabled => "Enabled",
            Self::Suspended => "Suspended",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "Enabled" => Self::Enabled,
            "Suspended" => Self::Suspended,
            _ => Self::Unversioned,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketRow {
    pub name: String,
    pub created_ms: i64,
    pub versioning: Versioning,
}

/// A checksum the client sent with the object (`x-amz-checksum-*`), verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredChecksum {
    /// `CRC32`, `CRC32C`, `CRC64NVME`, `SHA1` or `SHA256`.
    pub algorithm: String,
    /// Base64, as on the wire.
    pub value: String,
}

/// What an object keeps besides its bytes: the headers S3 returns as given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectAttrs {
    pub content_type: Option<String>,
    pub content_encoding: Option<String>,
    pub content_disposition: Option<String>,
    pub content_language: Option<String>,
    pub cache_control: Option<String>,
    /// User metadata (`x-amz-meta-*`), keys lower-case without the prefix.
    pub metadata: BTreeMap<String, String>,
    pub checksum: Option<StoredChecksum>,
    /// How many parts a multipart object was completed from.
    pub parts_count: Option<i32>,
}

impl ObjectAttrs {
    fn encode(&self) -> String {
        serde_json::to_string(self).expect("attributes always serialise")
    }

    fn decode(s: &str) -> Result<Self, StoreError> {
        serde_json::from_str(s).map_err(|source| StoreError::Decode { source })
    }
}

/// One version of an object, or a delete marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRow {
    pub seq: i64,
    pub key: String,
    pub version_id: String,
    pub delete_marker: bool,
    /// The body's file name under the files dir; `None` for delete markers.
    pub file: Option<String>,
    pub size: i64,
    /// Hex, without quotes; empty for delete markers.
    pub etag: String,
    pub modified_ms: i64,
    pub attrs: ObjectAttrs,
    pub is_latest: bool,
}

const VERSION_COLUMNS: &str = "seq, key, version_id, delete_marker, file, size, etag, modified_ms, attrs, \
    seq = (SELECT MAX(l.seq) FROM versions l WHERE l.bucket = versions.bucket AND l.key = versions.key)";

fn version_row(row: &Row<'_>) -> rusqlite::Result<(VersionRow, String)> {
    Ok((
        VersionRow {
            seq: row.get(0)?,
            key: row.get(1)?,
            version_id: row.get(2)?,
            delete_marker: row.get(3)?,
            file: row.get(4)?,
            size: row.get(5)?,
            etag: row.get(6)?,
            modified_ms: row.get(7)?,
            attrs: ObjectAttrs::default(),
            is_latest: row.get(9)?,
        },
        row.get(8)?,
    ))
}

fn decode_versions(rows: Vec<(VersionRow, String)>) -> Result<Vec<VersionRow>, StoreError> {
    rows.into_iter()
        .map(|(mut v, attrs)| {
            v.attrs = ObjectAttrs::decode(&attrs)?;
            Ok(v)
        })
        .collect()
}

/// A body written to a file, about to be named by a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBody {
    pub file: String,
    pub size: i64,
    pub etag: String,
    pub attrs: ObjectAttrs,
}

/// Whether `s` is a version id this store could have issued: `null` or 32 hex digits.
pub fn is_valid_version_id(s: &str) -> bool {
    s == NULL_VERSION || (s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit()))
}

pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Buckets, versions and uploads in one SQLite database.
pub struct MetaStore {
    conn: Mutex<Connection>,
    /// Every bucket's notification configuration, read by every write (so
    /// a write to a bucket without one costs no query); changed only with
    /// the connection's lock held, after the row commits.
    notifications: RwLock<HashMap<String, Arc<NotificationConfig>>>,
    /// The last sequencer given to a write ([`MetaStore::next_sequencer`]).
    sequencer: AtomicU64,
}

impl MetaStore {
    /// Opens (creating and migrating) the database at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::with(lambdabox_store::open_migrated(path, MIGRATIONS)?)
    }

    /// An in-memory database (tests of the SQL itself).
    #[cfg(test)]
    pub fn open_in_memory() -> Result<Self, StoreError> {
        Self::with(lambdabox_store::open_migrated_in_memory(MIGRATIONS)?)
    }

    fn with(conn: Connection) -> Result<Self, StoreError> {
        let notifications = notifications::load(&conn)?;
        Ok(Self { conn: Mutex::new(conn), notifications: RwLock::new(notifications), sequencer: AtomicU64::new(0) })
    }

    /// The next value of the sequencer event records carry: the time in
    /// nanoseconds, or one more than the last if the clock has not moved
    /// on. Called with the connection's lock held, so sequencers increase
    /// in the order writes commit.
    fn next_sequencer(&self) -> u64 {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        let next = now.max(self.sequencer.load(Ordering::Relaxed) + 1);
        self.sequencer.store(next, Ordering::Relaxed);
        next
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite half-written (the
        // transaction rolls back on drop), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every file a version or a part names (the rest are garbage).
    pub fn referenced_files(&self) -> Result<HashSet<String>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare("SELECT file FROM versions WHERE file IS NOT NULL UNION SELECT file FROM parts")
            .map_err(query("list referenced files"))?;
        stmt.query_map([], |r| r.get::<_, String>(0))
            .map_err(query("list referenced files"))?
            .collect::<Result<HashSet<_>, _>>()
            .map_err(query("list referenced files"))
    }
}

fn require_bucket(tx: &rusqlite::Connection, bucket: &str) -> Result<Versioning, StoreError> {
    use rusqlite::OptionalExtension;
    let versioning: Option<String> = tx
        .query_row("SELECT versioning FROM buckets WHERE name = ?1", [bucket], |r| r.get(0))
        .optional()
        .map_err(query("look up the bucket"))?;
    versioning.map(|v| Versioning::parse(&v)).ok_or(StoreError::NoSuchBucket)
}
