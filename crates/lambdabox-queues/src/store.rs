//! The queue database (`queues.db`, opened through
//! `lambdabox_store::open_migrated`: WAL, `synchronous = FULL`) and the
//! queue-level operations on it, each one transaction: create (idempotent
//! for equal attributes), look up, list, delete, attributes, tags, purge,
//! the approximate counts, and the queues whose dead-letter queue a queue is.
//! Everything here blocks; `lib.rs` runs it off the async workers.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::attributes::{self, Given, QueueArn, RedrivePolicy, Setting};
use crate::{Counts, Queue, QueueError};

/// Schema migrations, applied in order; `PRAGMA user_version` counts them.
pub(crate) const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE queues (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    region        TEXT NOT NULL,
    name          TEXT NOT NULL,
    fifo          INTEGER NOT NULL,
    attributes    TEXT NOT NULL,
    tags          TEXT NOT NULL,
    created_s     INTEGER NOT NULL,
    modified_s    INTEGER NOT NULL,
    next_sequence INTEGER NOT NULL DEFAULT 1,
    purged_ms     INTEGER,
    UNIQUE (region, name)
);
CREATE TABLE messages (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    queue_id         INTEGER NOT NULL REFERENCES queues(id) ON DELETE CASCADE,
    message_id       TEXT NOT NULL,
    body             TEXT NOT NULL,
    attributes       TEXT NOT NULL,
    system           TEXT NOT NULL,
    sender_id        TEXT NOT NULL,
    sent_ms          INTEGER NOT NULL,
    retain_from_ms   INTEGER NOT NULL,
    visible_ms       INTEGER NOT NULL,
    receive_count    INTEGER NOT NULL DEFAULT 0,
    first_receive_ms INTEGER,
    received_ms      INTEGER,
    receipt          TEXT,
    group_id         TEXT,
    dedup_id         TEXT,
    sequence_number  TEXT,
    dead_letter_from TEXT,
    UNIQUE (queue_id, message_id)
);
CREATE INDEX messages_visible ON messages (queue_id, visible_ms);
CREATE INDEX messages_retained ON messages (queue_id, retain_from_ms);
CREATE TABLE dedup (
    queue_id        INTEGER NOT NULL REFERENCES queues(id) ON DELETE CASCADE,
    scope           TEXT NOT NULL,
    dedup_id        TEXT NOT NULL,
    message_id      TEXT NOT NULL,
    sequence_number TEXT,
    sent_ms         INTEGER NOT NULL,
    PRIMARY KEY (queue_id, scope, dedup_id)
);
"#];

const QUEUE_COLUMNS: &str = "id, region, name, fifo, attributes, created_s, modified_s";

fn queue_row(account: &str) -> impl Fn(&rusqlite::Row<'_>) -> rusqlite::Result<Queue> + '_ {
    move |row| {
        let region: String = row.get(1)?;
        let name: String = row.get(2)?;
        let attributes: String = row.get(4)?;
        Ok(Queue {
            arn: format!("arn:aws:sqs:{region}:{account}:{name}"),
            region,
            name,
            fifo: row.get(3)?,
            attributes: serde_json::from_str(&attributes).unwrap_or_default(),
            created: row.get(5)?,
            last_modified: row.get(6)?,
            id: row.get(0)?,
        })
    }
}

/// The queue with this internal id, as it is now.
pub(crate) fn load(conn: &Connection, account: &str, id: i64) -> Result<Queue, QueueError> {
    conn.query_row(&format!("SELECT {QUEUE_COLUMNS} FROM queues WHERE id = ?1"), [id], queue_row(account))
        .optional()
        .map_err(QueueError::db("read a queue"))?
        .ok_or(QueueError::NonExistentQueue)
}

/// The queue named `name` in `region`, if there is one.
pub(crate) fn find(conn: &Connection, account: &str, region: &str, name: &str) -> Result<Option<Queue>, QueueError> {
    conn.query_row(
        &format!("SELECT {QUEUE_COLUMNS} FROM queues WHERE region = ?1 AND name = ?2"),
        params![region, name],
        queue_row(account),
    )
    .optional()
    .map_err(QueueError::db("find a queue"))
}

/// The queue an ARN names, if it is this account's and exists.
pub(crate) fn find_arn(conn: &Connection, account: &str, arn: &str) -> Result<Option<Queue>, QueueError> {
    match QueueArn::parse(arn) {
        Some(a) if a.account == account => find(conn, account, &a.region, &a.name),
        _ => Ok(None),
    }
}

/// CreateQueue: a new queue, or the existing one when every attribute
/// given equals its own.
pub(crate) fn create(
    conn: &mut Connection,
    account: &str,
    region: &str,
    name: &str,
    given: &BTreeMap<String, String>,
    tags: &BTreeMap<String, String>,
    now_s: i64,
) -> Result<Queue, QueueError> {
    let fifo = match given.get("FifoQueue").map(|v| v.to_ascii_lowercase()) {
        Some(v) if v == "true" => true,
        Some(v) if v == "false" => false,
        Some(_) => return Err(QueueError::InvalidAttributeValue { name: "FifoQueue".into(), reason: None }),
        None => false,
    };
    attributes::check_name(name, fifo)?;
    let mut changes = BTreeMap::new();
    for (key, value) in given {
        changes.insert(key.clone(), attributes::canonical(key, value, fifo, Given::Creating)?);
    }
    crate::tags::check(tags)?;
    let tx = conn.transaction().map_err(QueueError::db("begin CreateQueue"))?;
    if let Some(existing) = find(&tx, account, region, name)? {
        for (key, setting) in &changes {
            let same = match (key.as_str(), setting) {
                ("FifoQueue", Setting::Set(v)) => existing.fifo == (v == "true"),
                ("FifoQueue", Setting::Clear) => !existing.fifo,
                (_, Setting::Set(v)) => existing.attributes.get(key) == Some(v),
                (_, Setting::Clear) => !existing.attributes.contains_key(key),
            };
            if !same {
                return Err(QueueError::QueueNameExists { attribute: key.clone() });
            }
        }
        return Ok(existing);
    }
    let settled = attributes::apply(&attributes::defaults(fifo), &changes)?;
    let arn = format!("arn:aws:sqs:{region}:{account}:{name}");
    check_redrive(&tx, account, &arn, fifo, &settled)?;
    tx.execute(
        "INSERT INTO queues (region, name, fifo, attributes, tags, created_s, modified_s) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
        params![region, name, fifo, encode(&settled), encode(tags), now_s],
    )
    .map_err(QueueError::db("insert a queue"))?;
    let id = tx.last_insert_rowid();
    let queue = load(&tx, account, id)?;
    tx.commit().map_err(QueueError::db("commit CreateQueue"))?;
    Ok(queue)
}

/// A `RedrivePolicy` must name an existing queue of the same type whose
/// `RedriveAllowPolicy` lets this one use it.
fn check_redrive(
    conn: &Connection,
    account: &str,
    source_arn: &str,
    fifo: bool,
    settled: &BTreeMap<String, String>,
) -> Result<(), QueueError> {
    let Some(text) = settled.get("RedrivePolicy") else { return Ok(()) };
    let policy = RedrivePolicy::parse(text)?;
    let invalid = |reason: &str| {
        QueueError::invalid(format!("Value {text} for parameter RedrivePolicy is invalid. Reason: {reason}"))
    };
    let Some(target) = find_arn(conn, account, &policy.dead_letter_target_arn)? else {
        return Err(invalid("Dead letter target does not exist."));
    };
    if target.fifo != fifo {
        return Err(invalid("Dead-letter queue must be same type of queue as the source."));
    }
    if target.arn == source_arn {
        return Err(invalid("A queue cannot be its own dead-letter queue."));
    }
    if !attributes::redrive_allowed(target.attributes.get("RedriveAllowPolicy").map(String::as_str), source_arn) {
        return Err(invalid("Dead-letter queue's RedriveAllowPolicy does not allow this queue as a source queue."));
    }
    Ok(())
}

/// SetQueueAttributes: all the changes or none.
pub(crate) fn set_attributes(
    conn: &mut Connection,
    account: &str,
    id: i64,
    given: &BTreeMap<String, String>,
    now_s: i64,
) -> Result<(), QueueError> {
    let tx = conn.transaction().map_err(QueueError::db("begin SetQueueAttributes"))?;
    let queue = load(&tx, account, id)?;
    let mut changes = BTreeMap::new();
    for (key, value) in given {
        changes.insert(key.clone(), attributes::canonical(key, value, queue.fifo, Given::Changing)?);
    }
    let settled = attributes::apply(&queue.attributes, &changes)?;
    if changes.contains_key("RedrivePolicy") {
        check_redrive(&tx, account, &queue.arn, queue.fifo, &settled)?;
    }
    tx.execute(
        "UPDATE queues SET attributes = ?1, modified_s = ?2 WHERE id = ?3",
        params![encode(&settled), now_s, id],
    )
    .map_err(QueueError::db("update queue attributes"))?;
    tx.commit().map_err(QueueError::db("commit SetQueueAttributes"))
}

/// Every attribute of a queue, the read-only ones included.
pub(crate) fn all_attributes(
    conn: &mut Connection,
    account: &str,
    id: i64,
    now_ms: i64,
) -> Result<BTreeMap<String, String>, QueueError> {
    let tx = conn.transaction().map_err(QueueError::db("begin GetQueueAttributes"))?;
    let queue = load(&tx, account, id)?;
    crate::messages::expire(&tx, &queue, now_ms)?;
    let counts = counts(&tx, id, now_ms)?;
    tx.commit().map_err(QueueError::db("commit GetQueueAttributes"))?;
    let mut all = queue.attributes.clone();
    for (key, value) in [
        ("ApproximateNumberOfMessages", counts.visible.to_string()),
        ("ApproximateNumberOfMessagesNotVisible", counts.in_flight.to_string()),
        ("ApproximateNumberOfMessagesDelayed", counts.delayed.to_string()),
        ("CreatedTimestamp", queue.created.to_string()),
        ("LastModifiedTimestamp", queue.last_modified.to_string()),
        ("QueueArn", queue.arn.clone()),
    ] {
        all.insert(key.to_owned(), value);
    }
    Ok(all)
}

/// The messages of a queue: visible, in flight (received, not yet visible
/// again) and delayed (not yet visible, never received).
pub(crate) fn counts(conn: &Connection, id: i64, now_ms: i64) -> Result<Counts, QueueError> {
    conn.query_row(
        "SELECT COALESCE(SUM(visible_ms <= ?2), 0),
                COALESCE(SUM(visible_ms > ?2 AND receive_count > 0), 0),
                COALESCE(SUM(visible_ms > ?2 AND receive_count = 0), 0)
         FROM messages WHERE queue_id = ?1",
        params![id, now_ms],
        |row| Ok(Counts { visible: row.get(0)?, in_flight: row.get(1)?, delayed: row.get(2)? }),
    )
    .map_err(QueueError::db("count messages"))
}

/// The queues of `region` whose names start with `prefix`, by name.
pub(crate) fn list(conn: &Connection, account: &str, region: &str, prefix: &str) -> Result<Vec<Queue>, QueueError> {
    let mut stmt = conn
        .prepare(&format!(
            "SELECT {QUEUE_COLUMNS} FROM queues WHERE region = ?1 AND substr(name, 1, length(?2)) = ?2 ORDER BY name"
        ))
        .map_err(QueueError::db("list queues"))?;
    let rows = stmt.query_map(params![region, prefix], queue_row(account)).map_err(QueueError::db("list queues"))?;
    rows.collect::<Result<_, _>>().map_err(QueueError::db("list queues"))
}

/// The queues whose `RedrivePolicy` names `arn` as their dead-letter queue.
pub(crate) fn dead_letter_sources(conn: &Connection, account: &str, arn: &str) -> Result<Vec<Queue>, QueueError> {
    let Some(target) = QueueArn::parse(arn) else { return Ok(Vec::new()) };
    let all = list(conn, account, &target.region, "")?;
    Ok(all.into_iter().filter(|q| q.redrive_policy().is_some_and(|p| p.dead_letter_target_arn == arn)).collect())
}

/// DeleteQueue: the queue, its messages and its deduplication records.
pub(crate) fn delete(conn: &mut Connection, id: i64) -> Result<(), QueueError> {
    let n = conn.execute("DELETE FROM queues WHERE id = ?1", [id]).map_err(QueueError::db("delete a queue"))?;
    if n == 0 { Err(QueueError::NonExistentQueue) } else { Ok(()) }
}

/// PurgeQueue: every message, at most once a minute.
pub(crate) fn purge(conn: &mut Connection, account: &str, id: i64, now_ms: i64) -> Result<(), QueueError> {
    let tx = conn.transaction().map_err(QueueError::db("begin PurgeQueue"))?;
    let queue = load(&tx, account, id)?;
    let last: Option<i64> = tx
        .query_row("SELECT purged_ms FROM queues WHERE id = ?1", [id], |r| r.get(0))
        .map_err(QueueError::db("read the last purge"))?;
    if last.is_some_and(|t| now_ms - t < 60_000) {
        return Err(QueueError::PurgeQueueInProgress { name: queue.arn });
    }
    tx.execute("DELETE FROM messages WHERE queue_id = ?1", [id]).map_err(QueueError::db("purge messages"))?;
    tx.execute("UPDATE queues SET purged_ms = ?1 WHERE id = ?2", params![now_ms, id])
        .map_err(QueueError::db("record a purge"))?;
    tx.commit().map_err(QueueError::db("commit PurgeQueue"))
}

/// A queue's tags.
pub(crate) fn tags(conn: &Connection, id: i64) -> Result<BTreeMap<String, String>, QueueError> {
    let text: Option<String> = conn
        .query_row("SELECT tags FROM queues WHERE id = ?1", [id], |r| r.get(0))
        .optional()
        .map_err(QueueError::db("read tags"))?;
    let text = text.ok_or(QueueError::NonExistentQueue)?;
    Ok(serde_json::from_str(&text).unwrap_or_default())
}

/// Adds (or replaces) `add` and removes `remove` from a queue's tags.
pub(crate) fn retag(
    conn: &mut Connection,
    id: i64,
    add: &BTreeMap<String, String>,
    remove: &[String],
) -> Result<(), QueueError> {
    let tx: Transaction<'_> = conn.transaction().map_err(QueueError::db("begin a tag change"))?;
    let mut current = tags(&tx, id)?;
    current.extend(add.iter().map(|(k, v)| (k.clone(), v.clone())));
    for key in remove {
        current.remove(key);
    }
    crate::tags::check(&current)?;
    tx.execute("UPDATE queues SET tags = ?1 WHERE id = ?2", params![encode(&current), id])
        .map_err(QueueError::db("write tags"))?;
    tx.commit().map_err(QueueError::db("commit a tag change"))
}

pub(crate) fn encode(map: &BTreeMap<String, String>) -> String {
    serde_json::to_string(map).unwrap_or_else(|_| "{}".to_owned())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::{NewMessage, Queues};

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn queues() -> Arc<Queues> {
        Queues::open_in_memory("000000000000").unwrap()
    }

    #[tokio::test]
    async fn create_is_idempotent_for_equal_attributes() {
        let q = queues();
        let created =
            q.create_queue("us-east-1", "q", map(&[("VisibilityTimeout", "40")]), map(&[("team", "a")])).await.unwrap();
        assert_eq!(created.arn, "arn:aws:sqs:us-east-1:000000000000:q");
        assert_eq!(created.visibility_timeout(), 40);
        let again =
            q.create_queue("us-east-1", "q", map(&[("VisibilityTimeout", "40")]), BTreeMap::new()).await.unwrap();
        assert_eq!(again, created);
        assert_eq!(q.create_queue("us-east-1", "q", BTreeMap::new(), BTreeMap::new()).await.unwrap(), created);
        let differs = q.create_queue("us-east-1", "q", map(&[("VisibilityTimeout", "41")]), BTreeMap::new()).await;
        assert!(matches!(differs, Err(QueueError::QueueNameExists { attribute }) if attribute == "VisibilityTimeout"));
        assert!(matches!(
            q.create_queue("us-east-1", "q", map(&[("FifoQueue", "true")]), BTreeMap::new()).await,
            Err(QueueError::InvalidParameterValue { .. })
        ));
        // Another region is another queue.
        let west = q.create_queue("us-west-2", "q", BTreeMap::new(), BTreeMap::new()).await.unwrap();
        assert_eq!(west.visibility_timeout(), 30);
        assert_eq!(q.tags(&created).await.unwrap(), map(&[("team", "a")]));
        let names = |qs: Vec<Queue>| qs.into_iter().map(|q| q.name).collect::<Vec<_>>();
        q.create_queue("us-east-1", "q2", BTreeMap::new(), BTreeMap::new()).await.unwrap();
        q.create_queue("us-east-1", "other", BTreeMap::new(), BTreeMap::new()).await.unwrap();
        assert_eq!(names(q.list_queues("us-east-1", "q").await.unwrap()), ["q", "q2"]);
        assert_eq!(names(q.list_queues("us-east-1", "").await.unwrap()), ["other", "q", "q2"]);
    }

    #[tokio::test]
    async fn fifo_queues_need_their_suffix_and_attribute() {
        let q = queues();
        let fifo = q.create_queue("us-east-1", "f.fifo", map(&[("FifoQueue", "true")]), BTreeMap::new()).await.unwrap();
        assert!(fifo.fifo);
        assert_eq!(fifo.attributes["DeduplicationScope"], "queue");
        for (name, attributes) in [("f2", map(&[("FifoQueue", "true")])), ("f3.fifo", BTreeMap::new())] {
            assert!(matches!(
                q.create_queue("us-east-1", name, attributes, BTreeMap::new()).await,
                Err(QueueError::InvalidParameterValue { .. })
            ));
        }
        assert!(matches!(
            q.create_queue("us-east-1", "s", map(&[("ContentBasedDeduplication", "true")]), BTreeMap::new()).await,
            Err(QueueError::InvalidAttributeName { .. })
        ));
    }

    #[tokio::test]
    async fn attributes_read_only_ones_and_changes() {
        let q = queues();
        let queue = q.create_queue("us-east-1", "attrs", BTreeMap::new(), BTreeMap::new()).await.unwrap();
        q.send(&queue, NewMessage::body("m")).await.unwrap();
        let all = q.attributes(&queue).await.unwrap();
        assert_eq!(all["ApproximateNumberOfMessages"], "1");
        assert_eq!(all["QueueArn"], queue.arn);
        assert_eq!(all["VisibilityTimeout"], "30");
        assert_eq!(all["MaximumMessageSize"], "1048576");
        assert_eq!(all["SqsManagedSseEnabled"], "true");
        assert!(!all.contains_key("FifoQueue"));
        // All or nothing.
        let bad = map(&[("VisibilityTimeout", "10"), ("DelaySeconds", "901")]);
        assert!(q.set_attributes(&queue, bad).await.is_err());
        assert_eq!(q.attributes(&queue).await.unwrap()["VisibilityTimeout"], "30");
        q.set_attributes(&queue, map(&[("VisibilityTimeout", "10"), ("Policy", r#"{"Statement":[]}"#)])).await.unwrap();
        let all = q.attributes(&queue).await.unwrap();
        assert_eq!(all["VisibilityTimeout"], "10");
        assert!(all.contains_key("Policy"));
        q.set_attributes(&queue, map(&[("Policy", "")])).await.unwrap();
        assert!(!q.attributes(&queue).await.unwrap().contains_key("Policy"));
        assert!(matches!(
            q.set_attributes(&queue, map(&[("QueueArn", "x")])).await,
            Err(QueueError::InvalidAttributeName { .. })
        ));
        let missing = r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:nope","maxReceiveCount":1}"#;
        let err = q.set_attributes(&queue, map(&[("RedrivePolicy", missing)])).await.unwrap_err();
        assert!(err.to_string().contains("Dead letter target does not exist"), "{err}");
        let fifo = q.create_queue("us-east-1", "d.fifo", map(&[("FifoQueue", "true")]), BTreeMap::new()).await.unwrap();
        let mixed = format!(r#"{{"deadLetterTargetArn":"{}","maxReceiveCount":1}}"#, fifo.arn);
        assert!(q.set_attributes(&queue, map(&[("RedrivePolicy", &mixed)])).await.is_err());
    }

    #[tokio::test]
    async fn tags_purge_and_delete() {
        let q = queues();
        let queue = q.create_queue("us-east-1", "t", BTreeMap::new(), BTreeMap::new()).await.unwrap();
        q.tag(&queue, map(&[("a", "1"), ("b", "2")])).await.unwrap();
        q.tag(&queue, map(&[("a", "3")])).await.unwrap();
        q.untag(&queue, vec!["b".into(), "absent".into()]).await.unwrap();
        assert_eq!(q.tags(&queue).await.unwrap(), map(&[("a", "3")]));
        q.send(&queue, NewMessage::body("m")).await.unwrap();
        q.purge(&queue).await.unwrap();
        assert_eq!(q.approximate_counts(&queue).await.unwrap().visible, 0);
        assert!(matches!(q.purge(&queue).await, Err(QueueError::PurgeQueueInProgress { .. })));
        q.advance(Duration::from_secs(61));
        q.purge(&queue).await.unwrap();
        q.delete_queue(&queue).await.unwrap();
        assert!(matches!(q.send(&queue, NewMessage::body("m")).await, Err(QueueError::NonExistentQueue)));
        let recreated = q.create_queue("us-east-1", "t", BTreeMap::new(), BTreeMap::new()).await.unwrap();
        assert_ne!(recreated, queue);
        assert!(
            matches!(q.tags(&queue).await, Err(QueueError::NonExistentQueue)),
            "a stale handle is not the new queue"
        );
        assert!(q.tags(&recreated).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn what_was_acknowledged_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let sqs = dir.path().join("sqs");
        {
            let q = Queues::open(&sqs, "000000000000").unwrap();
            let queue = q.create_queue("us-east-1", "durable", BTreeMap::new(), BTreeMap::new()).await.unwrap();
            for i in 0..5 {
                q.send(&queue, NewMessage::body(format!("m{i}"))).await.unwrap();
            }
        }
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&sqs).unwrap().permissions().mode() & 0o777, 0o700);
        let q = Queues::open(&sqs, "000000000000").unwrap();
        let queue = q.queue_by_arn("arn:aws:sqs:us-east-1:000000000000:durable").await.unwrap().unwrap();
        let got = q.receive(&queue, 10, None, Duration::ZERO).await.unwrap();
        let mut bodies: Vec<_> = got.into_iter().map(|m| m.body).collect();
        bodies.sort();
        assert_eq!(bodies, ["m0", "m1", "m2", "m3", "m4"]);
        assert!(q.queue_by_arn("arn:aws:sqs:us-east-1:111111111111:durable").await.unwrap().is_none());
    }
}
