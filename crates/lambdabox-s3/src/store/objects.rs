//! Object versions: put, get, delete (with delete markers), and the two
//! listings (latest versions by key; every version, newest first per key).

use rusqlite::{OptionalExtension, Transaction, params};

use super::{
    MetaStore, NULL_VERSION, ObjectAttrs, StoredBody, VERSION_COLUMNS, VersionRow, Versioning, decode_versions,
    is_valid_version_id, new_id, require_bucket, version_row,
};
use crate::error::{StoreError, query};

/// What a put did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutOutcome {
    /// The new version's id (`null` unless versioning is enabled).
    pub version_id: String,
    pub versioning: Versioning,
    /// Files of versions the put replaced (the `null` version), to remove.
    pub removed: Vec<String>,
    /// Orders this write among the key's events (event records' `sequencer`).
    pub sequencer: u64,
}

/// What a delete did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteOutcome {
    /// A delete marker was created, or the version deleted was one.
    pub delete_marker: bool,
    /// The version created or deleted (`None` in a bucket that was never versioned).
    pub version_id: Option<String>,
    /// Files no version names any more, to remove.
    pub removed: Vec<String>,
    /// Orders this write among the key's events (event records' `sequencer`).
    pub sequencer: u64,
}

impl MetaStore {
    /// Names `body` as the newest version of `key`: a new version id when
    /// versioning is enabled, else the `null` version (replacing it).
    pub fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: &StoredBody,
        now_ms: i64,
    ) -> Result<PutOutcome, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(query("begin the put"))?;
        let outcome = put_in(&tx, bucket, key, body, now_ms, self.next_sequencer())?;
        tx.commit().map_err(query("commit the put"))?;
        Ok(outcome)
    }

    /// The version `version_id`, or the latest one.
    pub fn get_version(&self, bucket: &str, key: &str, version_id: Option<&str>) -> Result<VersionRow, StoreError> {
        if version_id.is_some_and(|v| !is_valid_version_id(v)) {
            return Err(StoreError::InvalidVersionId);
        }
        let conn = self.lock();
        require_bucket(&conn, bucket)?;
        let row = match version_id {
            None => conn.query_row(
                &format!(
                    "SELECT {VERSION_COLUMNS} FROM versions WHERE bucket = ?1 AND key = ?2 ORDER BY seq DESC LIMIT 1"
                ),
                params![bucket, key],
                version_row,
            ),
            Some(v) => conn.query_row(
                &format!("SELECT {VERSION_COLUMNS} FROM versions WHERE bucket = ?1 AND key = ?2 AND version_id = ?3"),
                params![bucket, key, v],
                version_row,
            ),
        }
        .optional()
        .map_err(query("look up the object"))?;
        let Some(row) = row else {
            return Err(if version_id.is_some() { StoreError::NoSuchVersion } else { StoreError::NoSuchKey });
        };
        let row = decode_versions(vec![row])?.remove(0);
        if row.delete_marker {
            return Err(StoreError::DeleteMarker { version_id: row.version_id, latest: version_id.is_none() });
        }
        Ok(row)
    }

    /// S3's DeleteObject: removes `version_id` (a well-formed id that does not
    /// exist is no error), or without one adds a delete marker when versioning
    /// is enabled or suspended, and removes the object when it never was.
    pub fn delete_object(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        now_ms: i64,
    ) -> Result<DeleteOutcome, StoreError> {
        if version_id.is_some_and(|v| !is_valid_version_id(v)) {
            return Err(StoreError::InvalidVersionId);
        }
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(query("begin the delete"))?;
        let versioning = require_bucket(&tx, bucket)?;
        let sequencer = self.next_sequencer();
        let outcome = match version_id {
            Some(v) => {
                let (marker, removed) = remove_version(&tx, bucket, key, v)?.unwrap_or((false, Vec::new()));
                DeleteOutcome { delete_marker: marker, version_id: Some(v.to_owned()), removed, sequencer }
            }
            None if versioning == Versioning::Unversioned => {
                let (_, removed) = remove_version(&tx, bucket, key, NULL_VERSION)?.unwrap_or((false, Vec::new()));
                DeleteOutcome { delete_marker: false, version_id: None, removed, sequencer }
            }
            None => {
                let marker =
                    StoredBody { file: String::new(), size: 0, etag: String::new(), attrs: ObjectAttrs::default() };
                let (version_id, removed) = insert_version(&tx, bucket, key, versioning, None, &marker, now_ms)?;
                DeleteOutcome { delete_marker: true, version_id: Some(version_id), removed, sequencer }
            }
        };
        tx.commit().map_err(query("commit the delete"))?;
        Ok(outcome)
    }

    /// Up to `limit` latest versions that are not delete markers, by key,
    /// with keys after `after` and starting with `prefix`.
    pub fn list_latest(
        &self,
        bucket: &str,
        prefix: &str,
        after: &str,
        limit: usize,
    ) -> Result<Vec<VersionRow>, StoreError> {
        let conn = self.lock();
        require_bucket(&conn, bucket)?;
        let sql = format!(
            "SELECT {VERSION_COLUMNS} FROM versions WHERE bucket = ?1 AND key > ?2 AND key >= ?3 \
             AND substr(key, 1, length(?3)) = ?3 AND delete_marker = 0 \
             AND seq = (SELECT MAX(l.seq) FROM versions l WHERE l.bucket = versions.bucket AND l.key = versions.key) \
             ORDER BY key LIMIT ?4"
        );
        let mut stmt = conn.prepare(&sql).map_err(query("list objects"))?;
        let rows = stmt
            .query_map(params![bucket, after, prefix, limit as i64], version_row)
            .map_err(query("list objects"))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(query("list objects"))?;
        decode_versions(rows)
    }

    /// Up to `limit` versions and delete markers by key, newest first within
    /// a key, starting with `prefix`, after `(key, seq)` (a `None` seq: after
    /// every version of that key).
    pub fn list_versions(
        &self,
        bucket: &str,
        prefix: &str,
        after: Option<(&str, Option<i64>)>,
        limit: usize,
    ) -> Result<Vec<VersionRow>, StoreError> {
        let conn = self.lock();
        require_bucket(&conn, bucket)?;
        let (after_key, after_seq) = match after {
            None => ("", i64::MAX),
            Some((k, None)) => (k, -1),
            Some((k, Some(seq))) => (k, seq),
        };
        let sql = format!(
            "SELECT {VERSION_COLUMNS} FROM versions WHERE bucket = ?1 AND (key > ?2 OR (key = ?2 AND seq < ?3)) \
             AND key >= ?4 AND substr(key, 1, length(?4)) = ?4 ORDER BY key, seq DESC LIMIT ?5"
        );
        let mut stmt = conn.prepare(&sql).map_err(query("list object versions"))?;
        let rows = stmt
            .query_map(params![bucket, after_key, after_seq, prefix, limit as i64], version_row)
            .map_err(query("list object versions"))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(query("list object versions"))?;
        decode_versions(rows)
    }

    /// The sequence number of a version (to resume a listing after it).
    pub fn version_seq(&self, bucket: &str, key: &str, version_id: &str) -> Result<Option<i64>, StoreError> {
        let conn = self.lock();
        conn.query_row(
            "SELECT seq FROM versions WHERE bucket = ?1 AND key = ?2 AND version_id = ?3",
            params![bucket, key, version_id],
            |r| r.get(0),
        )
        .optional()
        .map_err(query("look up the version marker"))
    }
}

/// The put itself, inside a transaction the caller commits (CompleteMultipartUpload shares it).
pub(super) fn put_in(
    tx: &Transaction<'_>,
    bucket: &str,
    key: &str,
    body: &StoredBody,
    now_ms: i64,
    sequencer: u64,
) -> Result<PutOutcome, StoreError> {
    let versioning = require_bucket(tx, bucket)?;
    let (version_id, removed) = insert_version(tx, bucket, key, versioning, Some(&body.file), body, now_ms)?;
    Ok(PutOutcome { version_id, versioning, removed, sequencer })
}

fn insert_version(
    tx: &Transaction<'_>,
    bucket: &str,
    key: &str,
    versioning: Versioning,
    file: Option<&str>,
    body: &StoredBody,
    now_ms: i64,
) -> Result<(String, Vec<String>), StoreError> {
    let (version_id, removed) = if versioning == Versioning::Enabled {
        (new_id(), Vec::new())
    } else {
        let removed = remove_version(tx, bucket, key, NULL_VERSION)?.map(|(_, f)| f).unwrap_or_default();
        (NULL_VERSION.to_owned(), removed)
    };
    tx.execute(
        "INSERT INTO versions (bucket, key, version_id, delete_marker, file, size, etag, modified_ms, attrs) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![bucket, key, version_id, file.is_none(), file, body.size, body.etag, now_ms, body.attrs.encode()],
    )
    .map_err(query("insert the version"))?;
    Ok((version_id, removed))
}

/// Deletes one version row: `Some((was a delete marker, its files))`, or `None` when there was none.
fn remove_version(
    tx: &Transaction<'_>,
    bucket: &str,
    key: &str,
    version_id: &str,
) -> Result<Option<(bool, Vec<String>)>, StoreError> {
    let row: Option<(bool, Option<String>)> = tx
        .query_row(
            "DELETE FROM versions WHERE bucket = ?1 AND key = ?2 AND version_id = ?3 RETURNING delete_marker, file",
            params![bucket, key, version_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(query("delete the version"))?;
    Ok(row.map(|(marker, file)| (marker, file.into_iter().collect())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(file: &str, etag: &str) -> StoredBody {
        StoredBody { file: file.into(), size: 3, etag: etag.into(), attrs: ObjectAttrs::default() }
    }

    fn store() -> MetaStore {
        let s = MetaStore::open_in_memory().unwrap();
        s.create_bucket("b", 0).unwrap();
        s
    }

    #[test]
    fn unversioned_puts_replace_the_null_version() {
        let s = store();
        let first = s.put_object("b", "k", &body("f1", "e1"), 1).unwrap();
        assert_eq!(
            first,
            PutOutcome {
                version_id: "null".into(),
                versioning: Versioning::Unversioned,
                removed: vec![],
                sequencer: first.sequencer
            }
        );
        let second = s.put_object("b", "k", &body("f2", "e2"), 2).unwrap();
        assert_eq!(second.removed, ["f1"]);
        assert!(second.sequencer > first.sequencer, "sequencers increase with each write");
        let got = s.get_version("b", "k", None).unwrap();
        assert_eq!((got.etag.as_str(), got.version_id.as_str(), got.is_latest), ("e2", "null", true));
        assert_eq!(s.get_version("b", "k", Some("null")).unwrap().etag, "e2");
        let del = s.delete_object("b", "k", None, 3).unwrap();
        assert!(del.sequencer > second.sequencer);
        assert_eq!(
            del,
            DeleteOutcome {
                delete_marker: false,
                version_id: None,
                removed: vec!["f2".into()],
                sequencer: del.sequencer
            }
        );
        assert!(matches!(s.get_version("b", "k", None), Err(StoreError::NoSuchKey)));
        assert!(matches!(s.get_version("nope", "k", None), Err(StoreError::NoSuchBucket)));
        // Deleting what is not there is no error, as in S3.
        assert!(s.delete_object("b", "k", None, 4).unwrap().removed.is_empty());
    }

    #[test]
    fn versioning_keeps_every_version_and_adds_delete_markers() {
        let s = store();
        s.put_object("b", "k", &body("f0", "e0"), 1).unwrap();
        s.set_versioning("b", Versioning::Enabled).unwrap();
        let v1 = s.put_object("b", "k", &body("f1", "e1"), 2).unwrap().version_id;
        let v2 = s.put_object("b", "k", &body("f2", "e2"), 3).unwrap().version_id;
        assert!(is_valid_version_id(&v1) && v1 != v2 && v1 != "null");
        assert_eq!(s.get_version("b", "k", None).unwrap().etag, "e2");
        assert_eq!(s.get_version("b", "k", Some(&v1)).unwrap().etag, "e1");
        assert_eq!(s.get_version("b", "k", Some("null")).unwrap().etag, "e0", "the pre-versioning object stays");
        assert!(matches!(s.get_version("b", "k", Some(&new_id())), Err(StoreError::NoSuchVersion)));
        assert!(matches!(s.get_version("b", "k", Some("bogus")), Err(StoreError::InvalidVersionId)));

        let del = s.delete_object("b", "k", None, 4).unwrap();
        assert!(del.delete_marker && del.removed.is_empty());
        let marker = del.version_id.unwrap();
        assert!(
            matches!(s.get_version("b", "k", None), Err(StoreError::DeleteMarker { ref version_id, latest: true }) if *version_id == marker)
        );
        assert!(matches!(s.get_version("b", "k", Some(&marker)), Err(StoreError::DeleteMarker { latest: false, .. })));
        assert!(s.list_latest("b", "", "", 10).unwrap().is_empty());

        let versions = s.list_versions("b", "", None, 10).unwrap();
        let ids: Vec<_> = versions.iter().map(|v| (v.version_id.as_str(), v.delete_marker, v.is_latest)).collect();
        assert_eq!(
            ids,
            [
                (marker.as_str(), true, true),
                (v2.as_str(), false, false),
                (v1.as_str(), false, false),
                ("null", false, false)
            ]
        );
        // Paging after the second entry.
        let rest = s.list_versions("b", "", Some(("k", Some(versions[1].seq))), 10).unwrap();
        assert_eq!(rest.len(), 2);

        // Deleting the marker brings the object back.
        let undo = s.delete_object("b", "k", Some(&marker), 5).unwrap();
        assert!(undo.delete_marker);
        assert_eq!(s.get_version("b", "k", None).unwrap().etag, "e2");
        // Deleting a version removes its file.
        assert_eq!(s.delete_object("b", "k", Some(&v1), 6).unwrap().removed, ["f1"]);
        assert!(matches!(s.delete_bucket("b"), Err(StoreError::BucketNotEmpty)));
    }

    #[test]
    fn suspended_versioning_writes_null_versions_and_null_markers() {
        let s = store();
        s.set_versioning("b", Versioning::Enabled).unwrap();
        let v1 = s.put_object("b", "k", &body("f1", "e1"), 1).unwrap().version_id;
        s.set_versioning("b", Versioning::Suspended).unwrap();
        let put = s.put_object("b", "k", &body("f2", "e2"), 2).unwrap();
        assert_eq!(put.version_id, "null");
        let put = s.put_object("b", "k", &body("f3", "e3"), 3).unwrap();
        assert_eq!(put.removed, ["f2"]);
        let del = s.delete_object("b", "k", None, 4).unwrap();
        assert_eq!(
            del,
            DeleteOutcome {
                delete_marker: true,
                version_id: Some("null".into()),
                removed: vec!["f3".into()],
                sequencer: del.sequencer
            }
        );
        assert_eq!(s.get_version("b", "k", Some(&v1)).unwrap().etag, "e1");
    }

    #[test]
    fn listing_latest_by_prefix_and_marker() {
        let s = store();
        for k in ["a/1", "a/2", "b", "c/x"] {
            s.put_object("b", k, &body(k, "e"), 1).unwrap();
        }
        let keys = |rows: Vec<VersionRow>| rows.into_iter().map(|r| r.key).collect::<Vec<_>>();
        assert_eq!(keys(s.list_latest("b", "", "", 10).unwrap()), ["a/1", "a/2", "b", "c/x"]);
        assert_eq!(keys(s.list_latest("b", "a/", "", 10).unwrap()), ["a/1", "a/2"]);
        assert_eq!(keys(s.list_latest("b", "", "a/2", 2).unwrap()), ["b", "c/x"]);
        assert_eq!(keys(s.list_latest("b", "%", "", 10).unwrap()), Vec::<String>::new());
    }
}
