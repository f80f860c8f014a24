//! The durable queue of asynchronous invocations, in its own SQLite file.
//!
//! An event is committed before Invoke answers 202; a worker claims it
//! (`in_flight`), and deletes it once it ran, or puts it back with a later
//! due time to retry. Events still `in_flight` when the server starts again
//! were interrupted by a crash and are queued again: delivery is at least
//! once, and only those events may run twice. An event that exhausts its
//! retries moves to `dead_events`, never silently dropped.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, params};

use crate::StoreError;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS events (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id    TEXT NOT NULL,
    function_name TEXT NOT NULL,
    qualifier     TEXT,
    region        TEXT NOT NULL,
    payload       BLOB NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    enqueued_ms   INTEGER NOT NULL,
    due_ms        INTEGER NOT NULL,
    in_flight     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS events_due ON events(in_flight, due_ms);
CREATE TABLE IF NOT EXISTS dead_events (
    id            INTEGER PRIMARY KEY,
    request_id    TEXT NOT NULL,
    function_name TEXT NOT NULL,
    qualifier     TEXT,
    region        TEXT NOT NULL,
    payload       BLOB NOT NULL,
    attempts      INTEGER NOT NULL,
    enqueued_ms   INTEGER NOT NULL,
    failed_ms     INTEGER NOT NULL,
    reason        TEXT NOT NULL
);
"#;

/// An event as it is queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    pub request_id: String,
    pub function_name: String,
    pub qualifier: Option<String>,
    pub region: String,
    pub payload: Vec<u8>,
    pub enqueued_ms: i64,
}

/// An event a worker claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedEvent {
    pub id: i64,
    pub event: NewEvent,
    /// How many times it already ran.
    pub attempts: u32,
}

/// The SQLite-backed queue.
pub struct EventQueue {
    conn: Mutex<Connection>,
}

fn err(operation: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |source| StoreError::Queue { operation, source }
}

impl EventQueue {
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Ok(Self { conn: Mutex::new(crate::open_migrated(path, &[SCHEMA])?) })
    }

    pub fn open_in_memory() -> Result<Self, StoreError> {
        Ok(Self { conn: Mutex::new(crate::open_migrated_in_memory(&[SCHEMA])?) })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Commits an event; it is due at once.
    pub fn enqueue(&self, e: &NewEvent) -> Result<i64, StoreError> {
        let conn = self.lock();
        conn.execute(
            "INSERT INTO events (request_id, function_name, qualifier, region, payload, enqueued_ms, due_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
            params![e.request_id, e.function_name, e.qualifier, e.region, e.payload, e.enqueued_ms],
        )
        .map_err(err("enqueue"))?;
        Ok(conn.last_insert_rowid())
    }

    /// Commits new events and removes finished ones in one transaction (one
    /// fsync for a whole group: the invoker's writer gathers what arrives
    /// while the previous commit runs). Returns the new events' ids, in order.
    pub fn write_batch(&self, enqueue: &[NewEvent], complete: &[i64]) -> Result<Vec<i64>, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(err("begin batch"))?;
        let mut ids = Vec::with_capacity(enqueue.len());
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO events (request_id, function_name, qualifier, region, payload, enqueued_ms, due_ms) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
                )
                .map_err(err("enqueue"))?;
            for e in enqueue {
                insert
                    .execute(params![e.request_id, e.function_name, e.qualifier, e.region, e.payload, e.enqueued_ms])
                    .map_err(err("enqueue"))?;
                ids.push(tx.last_insert_rowid());
            }
            let mut delete = tx.prepare_cached("DELETE FROM events WHERE id = ?1").map_err(err("complete"))?;
            for id in complete {
                delete.execute([id]).map_err(err("complete"))?;
            }
        }
        tx.commit().map_err(err("commit batch"))?;
        Ok(ids)
    }

    /// Marks up to `limit` due events in flight and returns them, oldest first.
    pub fn claim_due(&self, now_ms: i64, limit: usize) -> Result<Vec<QueuedEvent>, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(err("begin claim"))?;
        let claimed = {
            let mut stmt = tx
                .prepare_cached(
                    "UPDATE events SET in_flight = 1 WHERE id IN \
                     (SELECT id FROM events WHERE in_flight = 0 AND due_ms <= ?1 ORDER BY due_ms, id LIMIT ?2) \
                     RETURNING id, request_id, function_name, qualifier, region, payload, attempts, enqueued_ms",
                )
                .map_err(err("claim"))?;
            let rows = stmt
                .query_map(params![now_ms, limit as i64], |r| {
                    Ok(QueuedEvent {
                        id: r.get(0)?,
                        event: NewEvent {
                            request_id: r.get(1)?,
                            function_name: r.get(2)?,
                            qualifier: r.get(3)?,
                            region: r.get(4)?,
                            payload: r.get(5)?,
                            enqueued_ms: r.get(7)?,
                        },
                        attempts: r.get(6)?,
                    })
                })
                .map_err(err("claim"))?;
            rows.collect::<Result<Vec<_>, _>>().map_err(err("claim"))?
        };
        tx.commit().map_err(err("commit claim"))?;
        let mut claimed = claimed;
        claimed.sort_by_key(|e| e.id);
        Ok(claimed)
    }

    /// When the next queued (not in-flight) event is due, if any.
    pub fn next_due_ms(&self) -> Result<Option<i64>, StoreError> {
        self.lock()
            .query_row("SELECT MIN(due_ms) FROM events WHERE in_flight = 0", [], |r| r.get(0))
            .map_err(err("next due"))
    }

    /// The event ran (successfully, or its failure was handed on): forget it.
    pub fn complete(&self, id: i64) -> Result<(), StoreError> {
        self.lock().execute("DELETE FROM events WHERE id = ?1", [id]).map_err(err("complete"))?;
        Ok(())
    }

    /// The event failed and will run again at `due_ms`.
    pub fn retry(&self, id: i64, due_ms: i64) -> Result<(), StoreError> {
        self.lock()
            .execute(
                "UPDATE events SET attempts = attempts + 1, in_flight = 0, due_ms = ?2 WHERE id = ?1",
                params![id, due_ms],
            )
            .map_err(err("retry"))?;
        Ok(())
    }

    /// The event could not run yet (throttled): due again at `due_ms`,
    /// without counting an attempt.
    pub fn postpone(&self, id: i64, due_ms: i64) -> Result<(), StoreError> {
        self.lock()
            .execute("UPDATE events SET in_flight = 0, due_ms = ?2 WHERE id = ?1", params![id, due_ms])
            .map_err(err("postpone"))?;
        Ok(())
    }

    /// The event ran out of retries or age: keep it in `dead_events`.
    pub fn fail(&self, id: i64, now_ms: i64, reason: &str) -> Result<(), StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(err("begin fail"))?;
        tx.execute(
            "INSERT INTO dead_events (id, request_id, function_name, qualifier, region, payload, attempts, enqueued_ms, failed_ms, reason) \
             SELECT id, request_id, function_name, qualifier, region, payload, attempts + 1, enqueued_ms, ?2, ?3 FROM events WHERE id = ?1",
            params![id, now_ms, reason],
        )
        .map_err(err("fail"))?;
        tx.execute("DELETE FROM events WHERE id = ?1", [id]).map_err(err("fail"))?;
        tx.commit().map_err(err("commit fail"))
    }

    /// Puts events a crash interrupted back in the queue; returns how many.
    pub fn requeue_in_flight(&self) -> Result<usize, StoreError> {
        self.lock().execute("UPDATE events SET in_flight = 0 WHERE in_flight = 1", []).map_err(err("requeue"))
    }

    /// (queued or in flight, dead)
    pub fn counts(&self) -> Result<(u64, u64), StoreError> {
        self.lock()
            .query_row("SELECT (SELECT COUNT(*) FROM events), (SELECT COUNT(*) FROM dead_events)", [], |r| {
                Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64))
            })
            .map_err(err("count"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: &str) -> NewEvent {
        NewEvent {
            request_id: id.into(),
            function_name: "f".into(),
            qualifier: None,
            region: "us-east-1".into(),
            payload: b"{}".to_vec(),
            enqueued_ms: 1000,
        }
    }

    #[test]
    fn claim_retry_complete_fail() {
        let q = EventQueue::open_in_memory().unwrap();
        let a = q.enqueue(&event("a")).unwrap();
        let b = q.enqueue(&event("b")).unwrap();
        let claimed = q.claim_due(1000, 10).unwrap();
        assert_eq!(claimed.iter().map(|e| e.id).collect::<Vec<_>>(), vec![a, b]);
        assert!(q.claim_due(1000, 10).unwrap().is_empty(), "in-flight events are not claimed twice");
        q.retry(a, 5000).unwrap();
        assert_eq!(q.next_due_ms().unwrap(), Some(5000));
        assert!(q.claim_due(4999, 10).unwrap().is_empty());
        let again = q.claim_due(5000, 10).unwrap();
        assert_eq!((again[0].id, again[0].attempts), (a, 1));
        q.complete(b).unwrap();
        q.fail(a, 6000, "retries exhausted").unwrap();
        assert_eq!(q.counts().unwrap(), (0, 1));
    }

    #[test]
    fn batches_commit_together() {
        let q = EventQueue::open_in_memory().unwrap();
        let first = q.enqueue(&event("first")).unwrap();
        let ids = q.write_batch(&[event("a"), event("b")], &[first]).unwrap();
        assert_eq!(ids.len(), 2);
        assert!(ids[0] < ids[1] && ids[0] > first);
        let claimed = q.claim_due(1000, 10).unwrap();
        assert_eq!(claimed.iter().map(|e| e.event.request_id.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(q.write_batch(&[], &ids).unwrap(), Vec::<i64>::new());
        assert_eq!(q.counts().unwrap(), (0, 0));
    }

    #[test]
    fn crash_recovery_requeues_in_flight() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("queue.db");
        {
            let q = EventQueue::open(&path).unwrap();
            q.enqueue(&event("a")).unwrap();
            q.enqueue(&event("b")).unwrap();
            assert_eq!(q.claim_due(1000, 1).unwrap().len(), 1);
        }
        let q = EventQueue::open(&path).unwrap();
        assert_eq!(q.requeue_in_flight().unwrap(), 1);
        assert_eq!(q.claim_due(1000, 10).unwrap().len(), 2);
    }
}
