//! Buckets' notification configurations: one JSON column of `buckets`,
//! mirrored in memory so that a write learns what to notify without a query.

use std::collections::HashMap;
use std::sync::Arc;

use rusqlite::{Connection, params};

use super::MetaStore;
use crate::error::{StoreError, query};
use crate::notifications::NotificationConfig;

/// Every stored configuration, by bucket (at open).
pub(super) fn load(conn: &Connection) -> Result<HashMap<String, Arc<NotificationConfig>>, StoreError> {
    let mut stmt = conn
        .prepare("SELECT name, notification FROM buckets WHERE notification IS NOT NULL")
        .map_err(query("read notification configurations"))?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .map_err(query("read notification configurations"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(query("read notification configurations"))?;
    rows.into_iter()
        .map(|(bucket, text)| match serde_json::from_str(&text) {
            Ok(config) => Ok((bucket, Arc::new(config))),
            Err(source) => Err(StoreError::DecodeNotification { bucket, source }),
        })
        .collect()
}

impl MetaStore {
    /// Replaces the bucket's notification configuration (an empty one removes it).
    pub fn set_notification(&self, bucket: &str, config: &NotificationConfig) -> Result<(), StoreError> {
        let text = (!config.is_empty())
            .then(|| serde_json::to_string(config).expect("a notification configuration always serialises"));
        let conn = self.lock();
        let updated = conn
            .execute("UPDATE buckets SET notification = ?2 WHERE name = ?1", params![bucket, text])
            .map_err(query("set the bucket's notification configuration"))?;
        if updated == 0 {
            return Err(StoreError::NoSuchBucket);
        }
        let mut cache = self.notifications.write().unwrap_or_else(|p| p.into_inner());
        match text {
            Some(_) => cache.insert(bucket.to_owned(), Arc::new(config.clone())),
            None => cache.remove(bucket),
        };
        Ok(())
    }

    /// The bucket's notification configuration, if it has one (no query).
    pub fn notification(&self, bucket: &str) -> Option<Arc<NotificationConfig>> {
        self.notifications.read().unwrap_or_else(|p| p.into_inner()).get(bucket).cloned()
    }

    /// Forgets a deleted bucket's configuration (its row is gone).
    pub(super) fn forget_notification(&self, bucket: &str) {
        self.notifications.write().unwrap_or_else(|p| p.into_inner()).remove(bucket);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notifications::Target;

    fn config() -> NotificationConfig {
        NotificationConfig {
            lambda: vec![Target {
                id: "i".into(),
                arn: "arn:aws:lambda:us-east-1:000000000000:function:f".into(),
                events: vec!["s3:ObjectCreated:*".into()],
                rules: vec![("Suffix".into(), ".jpg".into())],
            }],
            event_bridge: true,
            ..Default::default()
        }
    }

    #[test]
    fn configurations_survive_a_reopen_and_go_with_their_bucket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("meta.db");
        {
            let s = MetaStore::open(&path).unwrap();
            s.create_bucket("b", 0).unwrap();
            s.create_bucket("c", 0).unwrap();
            assert!(s.notification("b").is_none());
            s.set_notification("b", &config()).unwrap();
            s.set_notification("c", &config()).unwrap();
            s.set_notification("c", &NotificationConfig::default()).unwrap();
            assert!(matches!(s.set_notification("zz", &config()), Err(StoreError::NoSuchBucket)));
        }
        let s = MetaStore::open(&path).unwrap();
        assert_eq!(s.notification("b").as_deref(), Some(&config()));
        assert!(s.notification("c").is_none(), "an empty configuration is none");
        s.delete_bucket("b").unwrap();
        assert!(s.notification("b").is_none());
        s.create_bucket("b", 1).unwrap();
        assert!(s.notification("b").is_none(), "a new bucket of the same name starts without one");
    }
}
