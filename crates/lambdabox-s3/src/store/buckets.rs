//! Buckets: create, delete (only when empty), list, versioning state.

use rusqlite::{OptionalExtension, params};

use super::{BucketRow, MetaStore, Versioning, require_bucket};
use crate::error::{StoreError, query};

impl MetaStore {
    /// Creates a bucket; `BucketAlreadyOwnedByYou` when it exists (every
    /// bucket here belongs to the one account).
    pub fn create_bucket(&self, name: &str, now_ms: i64) -> Result<(), StoreError> {
        let conn = self.lock();
        let inserted = conn
            .execute(
                "INSERT INTO buckets (name, created_ms) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                params![name, now_ms],
            )
            .map_err(query("create the bucket"))?;
        if inserted == 0 {
            return Err(StoreError::BucketAlreadyOwnedByYou);
        }
        Ok(())
    }

    /// Deletes an empty bucket (no versions, no delete markers) and aborts its
    /// multipart uploads; returns the part files to remove.
    pub fn delete_bucket(&self, name: &str) -> Result<Vec<String>, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(query("begin deleting the bucket"))?;
        require_bucket(&tx, name)?;
        let any: Option<i64> = tx
            .query_row("SELECT seq FROM versions WHERE bucket = ?1 LIMIT 1", [name], |r| r.get(0))
            .optional()
            .map_err(query("check the bucket is empty"))?;
        if any.is_some() {
            return Err(StoreError::BucketNotEmpty);
        }
        let files = {
            let mut stmt = tx
                .prepare("SELECT p.file FROM parts p JOIN uploads u USING (upload_id) WHERE u.bucket = ?1")
                .map_err(query("list the bucket's parts"))?;
            stmt.query_map([name], |r| r.get::<_, String>(0))
                .map_err(query("list the bucket's parts"))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(query("list the bucket's parts"))?
        };
        tx.execute("DELETE FROM uploads WHERE bucket = ?1", [name]).map_err(query("abort the bucket's uploads"))?;
        tx.execute("DELETE FROM buckets WHERE name = ?1", [name]).map_err(query("delete the bucket"))?;
        tx.commit().map_err(query("commit deleting the bucket"))?;
        self.forget_notification(name);
        Ok(files)
    }

    pub fn bucket(&self, name: &str) -> Result<BucketRow, StoreError> {
        let conn = self.lock();
        conn.query_row("SELECT name, created_ms, versioning FROM buckets WHERE name = ?1", [name], |r| {
            Ok(BucketRow {
                name: r.get(0)?,
                created_ms: r.get(1)?,
                versioning: Versioning::parse(&r.get::<_, String>(2)?),
            })
        })
        .optional()
        .map_err(query("look up the bucket"))?
        .ok_or(StoreError::NoSuchBucket)
    }

    /// Every bucket, by name.
    pub fn list_buckets(&self) -> Result<Vec<BucketRow>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare("SELECT name, created_ms, versioning FROM buckets ORDER BY name")
            .map_err(query("list buckets"))?;
        stmt.query_map([], |r| {
            Ok(BucketRow {
                name: r.get(0)?,
                created_ms: r.get(1)?,
                versioning: Versioning::parse(&r.get::<_, String>(2)?),
            })
        })
        .map_err(query("list buckets"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(query("list buckets"))
    }

    /// Sets (or with `None` removes) the bucket's policy.
    pub fn set_policy(&self, name: &str, policy: Option<&str>) -> Result<(), StoreError> {
        let conn = self.lock();
        let updated = conn
            .execute("UPDATE buckets SET policy = ?2 WHERE name = ?1", params![name, policy])
            .map_err(query("set the bucket's policy"))?;
        if updated == 0 {
            return Err(StoreError::NoSuchBucket);
        }
        Ok(())
    }

    /// The bucket's policy, if it has one.
    pub fn policy(&self, name: &str) -> Result<Option<String>, StoreError> {
        let conn = self.lock();
        conn.query_row("SELECT policy FROM buckets WHERE name = ?1", [name], |r| r.get::<_, Option<String>>(0))
            .optional()
            .map_err(query("read the bucket's policy"))?
            .ok_or(StoreError::NoSuchBucket)
    }

    /// Sets versioning to `Enabled` or `Suspended` (a bucket never goes back to unversioned).
    pub fn set_versioning(&self, name: &str, versioning: Versioning) -> Result<(), StoreError> {
        let conn = self.lock();
        let updated = conn
            .execute("UPDATE buckets SET versioning = ?2 WHERE name = ?1", params![name, versioning.as_str()])
            .map_err(query("set the bucket's versioning"))?;
        if updated == 0 {
            return Err(StoreError::NoSuchBucket);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_list_delete() {
        let s = MetaStore::open_in_memory().unwrap();
        s.create_bucket("b", 1).unwrap();
        s.create_bucket("a", 2).unwrap();
        assert!(matches!(s.create_bucket("a", 3), Err(StoreError::BucketAlreadyOwnedByYou)));
        let names: Vec<_> = s.list_buckets().unwrap().into_iter().map(|b| b.name).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(s.bucket("a").unwrap().versioning, Versioning::Unversioned);
        assert_eq!(s.policy("a").unwrap(), None);
        s.set_policy("a", Some("{}")).unwrap();
        assert_eq!(s.policy("a").unwrap().as_deref(), Some("{}"));
        s.set_policy("a", None).unwrap();
        assert_eq!(s.policy("a").unwrap(), None);
        assert!(matches!(s.policy("zz"), Err(StoreError::NoSuchBucket)));
        s.set_versioning("a", Versioning::Enabled).unwrap();
        assert_eq!(s.bucket("a").unwrap().versioning, Versioning::Enabled);
        assert!(matches!(s.set_versioning("zz", Versioning::Enabled), Err(StoreError::NoSuchBucket)));
        assert!(s.delete_bucket("a").unwrap().is_empty());
        assert!(matches!(s.delete_bucket("a"), Err(StoreError::NoSuchBucket)));
        assert!(matches!(s.bucket("a"), Err(StoreError::NoSuchBucket)));
    }
}
