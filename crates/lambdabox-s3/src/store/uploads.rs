//! Multipart uploads and their parts; completing one names the assembled
//! body as a version and forgets the parts in the same transaction.

use rusqlite::{OptionalExtension, params};

use super::objects::put_in;
use super::{MetaStore, ObjectAttrs, PutOutcome, StoredBody, new_id, require_bucket};
use crate::error::{StoreError, query};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRow {
    pub upload_id: String,
    pub key: String,
    pub initiated_ms: i64,
    pub attrs: ObjectAttrs,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartRow {
    pub part_number: i32,
    pub file: String,
    pub size: i64,
    /// Hex MD5 of the part, without quotes.
    pub etag: String,
    pub modified_ms: i64,
}

impl MetaStore {
    pub fn create_upload(
        &self,
        bucket: &str,
        key: &str,
        attrs: &ObjectAttrs,
        now_ms: i64,
    ) -> Result<String, StoreError> {
        let conn = self.lock();
        require_bucket(&conn, bucket)?;
        let upload_id = new_id();
        conn.execute(
            "INSERT INTO uploads (upload_id, bucket, key, initiated_ms, attrs) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![upload_id, bucket, key, now_ms, attrs.encode()],
        )
        .map_err(query("create the upload"))?;
        Ok(upload_id)
    }

    /// The upload `upload_id` of `bucket`/`key`: `NoSuchUpload` otherwise.
    pub fn upload(&self, bucket: &str, key: &str, upload_id: &str) -> Result<UploadRow, StoreError> {
        let conn = self.lock();
        require_bucket(&conn, bucket)?;
        upload_in(&conn, bucket, key, upload_id)
    }

    /// Records a part (replacing one of the same number); returns the replaced part's file.
    pub fn put_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        part: &PartRow,
    ) -> Result<Option<String>, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(query("begin the part"))?;
        require_bucket(&tx, bucket)?;
        upload_in(&tx, bucket, key, upload_id)?;
        let old: Option<String> = tx
            .query_row(
                "SELECT file FROM parts WHERE upload_id = ?1 AND part_number = ?2",
                params![upload_id, part.part_number],
                |r| r.get(0),
            )
            .optional()
            .map_err(query("look up the part"))?;
        tx.execute(
            "INSERT OR REPLACE INTO parts (upload_id, part_number, file, size, etag, modified_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![upload_id, part.part_number, part.file, part.size, part.etag, part.modified_ms],
        )
        .map_err(query("record the part"))?;
        tx.commit().map_err(query("commit the part"))?;
        Ok(old)
    }

    /// The upload's parts by number.
    pub fn parts(&self, upload_id: &str) -> Result<Vec<PartRow>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare(
                "SELECT part_number, file, size, etag, modified_ms FROM parts WHERE upload_id = ?1 ORDER BY part_number",
            )
            .map_err(query("list parts"))?;
        stmt.query_map([upload_id], |r| {
            Ok(PartRow {
                part_number: r.get(0)?,
                file: r.get(1)?,
                size: r.get(2)?,
                etag: r.get(3)?,
                modified_ms: r.get(4)?,
            })
        })
        .map_err(query("list parts"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(query("list parts"))
    }

    /// Names the assembled `body` as the object's newest version and deletes
    /// the upload; `removed` then also holds every part file.
    pub fn complete_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        body: &StoredBody,
        now_ms: i64,
    ) -> Result<PutOutcome, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(query("begin completing the upload"))?;
        require_bucket(&tx, bucket)?;
        upload_in(&tx, bucket, key, upload_id)?;
        let mut outcome = put_in(&tx, bucket, key, body, now_ms, self.next_sequencer())?;
        outcome.removed.extend(delete_upload(&tx, upload_id)?);
        tx.commit().map_err(query("commit completing the upload"))?;
        Ok(outcome)
    }

    /// Deletes the upload; returns its part files.
    pub fn abort_upload(&self, bucket: &str, key: &str, upload_id: &str) -> Result<Vec<String>, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(query("begin aborting the upload"))?;
        require_bucket(&tx, bucket)?;
        upload_in(&tx, bucket, key, upload_id)?;
        let files = delete_upload(&tx, upload_id)?;
        tx.commit().map_err(query("commit aborting the upload"))?;
        Ok(files)
    }

    /// Up to `limit` uploads by key and initiation, with keys starting with
    /// `prefix`, after `(key, upload id)`.
    pub fn list_uploads(
        &self,
        bucket: &str,
        prefix: &str,
        after: (&str, &str),
        limit: usize,
    ) -> Result<Vec<UploadRow>, StoreError> {
        let conn = self.lock();
        require_bucket(&conn, bucket)?;
        let mut stmt = conn
            .prepare(
                "SELECT upload_id, key, initiated_ms, attrs FROM uploads WHERE bucket = ?1 \
                 AND (key > ?2 OR (key = ?2 AND upload_id > ?3)) AND substr(key, 1, length(?4)) = ?4 \
                 ORDER BY key, upload_id LIMIT ?5",
            )
            .map_err(query("list uploads"))?;
        let rows = stmt
            .query_map(params![bucket, after.0, after.1, prefix, limit as i64], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?, r.get::<_, String>(3)?))
            })
            .map_err(query("list uploads"))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(query("list uploads"))?;
        rows.into_iter()
            .map(|(upload_id, key, initiated_ms, attrs)| {
                Ok(UploadRow { upload_id, key, initiated_ms, attrs: ObjectAttrs::decode(&attrs)? })
            })
            .collect()
    }
}

fn upload_in(conn: &rusqlite::Connection, bucket: &str, key: &str, upload_id: &str) -> Result<UploadRow, StoreError> {
    let row: Option<(i64, String)> = conn
        .query_row(
            "SELECT initiated_ms, attrs FROM uploads WHERE upload_id = ?1 AND bucket = ?2 AND key = ?3",
            params![upload_id, bucket, key],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(query("look up the upload"))?;
    let (initiated_ms, attrs) = row.ok_or(StoreError::NoSuchUpload)?;
    Ok(UploadRow {
        upload_id: upload_id.to_owned(),
        key: key.to_owned(),
        initiated_ms,
        attrs: ObjectAttrs::decode(&attrs)?,
    })
}

fn delete_upload(tx: &rusqlite::Transaction<'_>, upload_id: &str) -> Result<Vec<String>, StoreError> {
    let files = {
        let mut stmt =
            tx.prepare("SELECT file FROM parts WHERE upload_id = ?1").map_err(query("list the upload's parts"))?;
        stmt.query_map([upload_id], |r| r.get::<_, String>(0))
            .map_err(query("list the upload's parts"))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(query("list the upload's parts"))?
    };
    tx.execute("DELETE FROM uploads WHERE upload_id = ?1", [upload_id]).map_err(query("delete the upload"))?;
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(n: i32, file: &str) -> PartRow {
        PartRow { part_number: n, file: file.into(), size: 5, etag: format!("e{n}"), modified_ms: 1 }
    }

    #[test]
    fn upload_lifecycle() {
        let s = MetaStore::open_in_memory().unwrap();
        s.create_bucket("b", 0).unwrap();
        let id = s.create_upload("b", "k", &ObjectAttrs::default(), 1).unwrap();
        assert!(matches!(s.upload("b", "other", &id), Err(StoreError::NoSuchUpload)));
        assert!(matches!(s.put_part("b", "k", "nope", &part(1, "p")), Err(StoreError::NoSuchUpload)));
        assert_eq!(s.put_part("b", "k", &id, &part(2, "p2")).unwrap(), None);
        assert_eq!(s.put_part("b", "k", &id, &part(1, "p1")).unwrap(), None);
        assert_eq!(s.put_part("b", "k", &id, &part(1, "p1b")).unwrap().as_deref(), Some("p1"));
        let numbers: Vec<_> = s.parts(&id).unwrap().into_iter().map(|p| (p.part_number, p.file)).collect();
        assert_eq!(numbers, [(1, "p1b".to_owned()), (2, "p2".to_owned())]);
        assert_eq!(s.list_uploads("b", "", ("", ""), 10).unwrap().len(), 1);
        assert_eq!(s.referenced_files().unwrap().len(), 2);

        let body = StoredBody { file: "whole".into(), size: 10, etag: "x-2".into(), attrs: ObjectAttrs::default() };
        let done = s.complete_upload("b", "k", &id, &body, 2).unwrap();
        let mut removed = done.removed.clone();
        removed.sort();
        assert_eq!(removed, ["p1b", "p2"]);
        assert_eq!(s.get_version("b", "k", None).unwrap().etag, "x-2");
        assert!(matches!(s.complete_upload("b", "k", &id, &body, 3), Err(StoreError::NoSuchUpload)));
        assert!(s.list_uploads("b", "", ("", ""), 10).unwrap().is_empty());

        let id2 = s.create_upload("b", "k2", &ObjectAttrs::default(), 3).unwrap();
        s.put_part("b", "k2", &id2, &part(1, "q1")).unwrap();
        assert_eq!(s.abort_upload("b", "k2", &id2).unwrap(), ["q1"]);
        assert!(matches!(s.abort_upload("b", "k2", &id2), Err(StoreError::NoSuchUpload)));
    }
}
