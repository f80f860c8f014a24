//! The message-level operations besides receiving (`receive.rs`), each
//! one transaction on the queue database: send (FIFO deduplication and
//! sequence numbers included), delete and change visibility by receipt
//! handle, and retention expiry. Everything here blocks; `lib.rs` runs it
//! off the async workers and wakes long polls.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::handle::ReceiptHandle;
use crate::message::{self, NewMessage};
use crate::{Queue, QueueError, Sent};

/// How long a FIFO queue remembers a deduplication id.
pub const DEDUP_WINDOW_MS: i64 = 5 * 60 * 1000;

/// Deletes the messages older than the queue's retention period.
pub(crate) fn expire(tx: &Connection, queue: &Queue, now_ms: i64) -> Result<usize, QueueError> {
    let oldest = now_ms - i64::from(queue.message_retention_period()) * 1000;
    tx.execute("DELETE FROM messages WHERE queue_id = ?1 AND retain_from_ms <= ?2", params![queue.id, oldest])
        .map_err(QueueError::db("expire messages"))
}

/// Checks a message against its queue, then stores it (unless a FIFO
/// queue saw its deduplication id within five minutes: then the first
/// message's id and sequence number are answered and nothing is stored).
pub(crate) fn send(
    tx: &Transaction<'_>,
    account: &str,
    queue: &Queue,
    message: &NewMessage,
    now_ms: i64,
) -> Result<Sent, QueueError> {
    message.check()?;
    let max = queue.maximum_message_size();
    if message.size() > max as usize {
        return Err(QueueError::invalid(format!(
            "One or more parameters are invalid. Reason: Message must be shorter than {max} bytes."
        )));
    }
    let not_for_this_type = |field: &str, value: &str| {
        QueueError::invalid(format!(
            "Value {value} for parameter {field} is invalid. Reason: The request include parameter that is not valid for this queue type."
        ))
    };
    let mut sent = Sent {
        message_id: uuid::Uuid::new_v4().to_string(),
        md5_of_message_body: message::md5_of_body(&message.body),
        md5_of_message_attributes: message::md5_of_attributes(&message.attributes),
        md5_of_message_system_attributes: message::md5_of_attributes(&message.system),
        sequence_number: None,
    };
    let mut dedup = None;
    if queue.fifo {
        if let Some(d) = message.delay_seconds {
            return Err(not_for_this_type("DelaySeconds", &d.to_string()));
        }
        let Some(group) = &message.group_id else { return Err(QueueError::missing("MessageGroupId")) };
        let dedup_id = match (&message.dedup_id, queue.content_based_deduplication()) {
            (Some(id), _) => id.clone(),
            (None, true) => message::content_dedup_id(&message.body),
            (None, false) => {
                return Err(QueueError::invalid(
                    "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly",
                ));
            }
        };
        let scope = if queue.deduplication_scope_is_group() { group.clone() } else { String::new() };
        tx.execute(
            "DELETE FROM dedup WHERE queue_id = ?1 AND sent_ms <= ?2",
            params![queue.id, now_ms - DEDUP_WINDOW_MS],
        )
        .map_err(QueueError::db("forget old deduplication ids"))?;
        let seen: Option<(String, Option<String>)> = tx
            .query_row(
                "SELECT message_id, sequence_number FROM dedup WHERE queue_id = ?1 AND scope = ?2 AND dedup_id = ?3",
                params![queue.id, scope, dedup_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(QueueError::db("look up a deduplication id"))?;
        if let Some((message_id, sequence_number)) = seen {
            sent.message_id = message_id;
            sent.sequence_number = sequence_number;
            return Ok(sent);
        }
        sent.sequence_number = Some(next_sequence(tx, queue.id)?);
        dedup = Some((scope, dedup_id));
    } else if let Some(d) = &message.dedup_id {
        return Err(not_for_this_type("MessageDeduplicationId", d));
    }
    let delay = message.delay_seconds.unwrap_or_else(|| queue.delay_seconds());
    tx.execute(
        "INSERT INTO messages (queue_id, message_id, body, attributes, system, sender_id, sent_ms, retain_from_ms,
                               visible_ms, group_id, dedup_id, sequence_number)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8, ?9, ?10, ?11)",
        params![
            queue.id,
            sent.message_id,
            message.body,
            message::encode_attributes(&message.attributes),
            message::encode_attributes(&message.system),
            message.sender_id.as_deref().unwrap_or(account),
            now_ms,
            now_ms + i64::from(delay) * 1000,
            message.group_id,
            dedup.as_ref().map(|(_, id)| id),
            sent.sequence_number,
        ],
    )
    .map_err(QueueError::db("store a message"))?;
    if let Some((scope, dedup_id)) = dedup {
        tx.execute(
            "INSERT INTO dedup (queue_id, scope, dedup_id, message_id, sequence_number, sent_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![queue.id, scope, dedup_id, sent.message_id, sent.sequence_number, now_ms],
        )
        .map_err(QueueError::db("remember a deduplication id"))?;
    }
    Ok(sent)
}

/// The next sequence number of a FIFO queue (20 digits, increasing).
pub(crate) fn next_sequence(tx: &Connection, queue_id: i64) -> Result<String, QueueError> {
    let n: i64 = tx
        .query_row(
            "UPDATE queues SET next_sequence = next_sequence + 1 WHERE id = ?1 RETURNING next_sequence - 1",
            [queue_id],
            |r| r.get(0),
        )
        .map_err(QueueError::db("take a sequence number"))?;
    Ok(format!("{:020}", 18_000_000_000_000_000_000u128 + n as u128))
}

/// One stored message.
pub(crate) struct Row {
    pub seq: i64,
    pub message_id: String,
    pub body: String,
    pub attributes: String,
    pub system: String,
    pub sender_id: String,
    pub sent_ms: i64,
    pub retain_from_ms: i64,
    pub visible_ms: i64,
    pub receive_count: i64,
    pub first_receive_ms: Option<i64>,
    pub group_id: Option<String>,
    pub dedup_id: Option<String>,
    pub sequence_number: Option<String>,
    pub dead_letter_from: Option<String>,
}

pub(crate) const ROW_COLUMNS: &str =
    "seq, message_id, body, attributes, system, sender_id, sent_ms, retain_from_ms, visible_ms,
    receive_count, first_receive_ms, group_id, dedup_id, sequence_number, dead_letter_from";

pub(crate) fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok(Row {
        seq: r.get(0)?,
        message_id: r.get(1)?,
        body: r.get(2)?,
        attributes: r.get(3)?,
        system: r.get(4)?,
        sender_id: r.get(5)?,
        sent_ms: r.get(6)?,
        retain_from_ms: r.get(7)?,
        visible_ms: r.get(8)?,
        receive_count: r.get(9)?,
        first_receive_ms: r.get(10)?,
        group_id: r.get(11)?,
        dedup_id: r.get(12)?,
        sequence_number: r.get(13)?,
        dead_letter_from: r.get(14)?,
    })
}

/// Where a received message stands.
struct InFlight {
    seq: i64,
    /// The token of its latest receive.
    receipt: Option<String>,
    visible_ms: i64,
    received_ms: Option<i64>,
}

/// The handle's message in this queue, or `None` if it is gone (deleted,
/// expired, moved).
fn find_handled(tx: &Connection, queue: &Queue, handle: &str) -> Result<(ReceiptHandle, Option<InFlight>), QueueError> {
    let decoded = ReceiptHandle::decode(handle)?;
    if decoded.queue_id != queue.id {
        return Err(QueueError::ReceiptHandleIsInvalid { handle: handle.to_owned() });
    }
    let found = tx
        .query_row(
            "SELECT seq, receipt, visible_ms, received_ms FROM messages WHERE queue_id = ?1 AND message_id = ?2",
            params![queue.id, decoded.message_id],
            |r| Ok(InFlight { seq: r.get(0)?, receipt: r.get(1)?, visible_ms: r.get(2)?, received_ms: r.get(3)? }),
        )
        .optional()
        .map_err(QueueError::db("find a received message"))?;
    Ok((decoded, found))
}

fn expired(handle: &str) -> QueueError {
    QueueError::invalid(format!(
        "Value {handle} for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired."
    ))
}

/// DeleteMessage: a message already gone is no error. On a standard queue
/// an older receipt handle of the message deletes it too (AWS: "the
/// request succeeds"); on a FIFO queue a handle whose visibility timeout
/// ran out, or that a later receive replaced, has expired.
pub(crate) fn delete(tx: &Transaction<'_>, queue: &Queue, handle: &str, now_ms: i64) -> Result<(), QueueError> {
    let (decoded, found) = find_handled(tx, queue, handle)?;
    let Some(message) = found else { return Ok(()) };
    if queue.fifo && (message.receipt.as_deref() != Some(decoded.token.as_str()) || message.visible_ms <= now_ms) {
        return Err(expired(handle));
    }
    tx.execute("DELETE FROM messages WHERE seq = ?1", [message.seq]).map_err(QueueError::db("delete a message"))?;
    Ok(())
}

/// ChangeMessageVisibility: the message becomes visible `timeout` seconds
/// from now. It must be in flight under this handle, and its total
/// visibility since it was received stays within 12 hours. Returns whether
/// the message is visible now (to wake long polls).
pub(crate) fn change_visibility(
    tx: &Transaction<'_>,
    queue: &Queue,
    handle: &str,
    timeout: u32,
    now_ms: i64,
) -> Result<bool, QueueError> {
    let (decoded, found) = find_handled(tx, queue, handle)?;
    let Some(message) = found else {
        return Err(QueueError::invalid(format!(
            "Value {handle} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change."
        )));
    };
    if message.receipt.as_deref() != Some(decoded.token.as_str()) {
        return Err(expired(handle));
    }
    if message.visible_ms <= now_ms {
        return Err(QueueError::MessageNotInflight);
    }
    let limit = crate::attributes::MAX_VISIBILITY_TIMEOUT;
    if timeout > limit
        || message.received_ms.unwrap_or(now_ms) + i64::from(limit) * 1000 < now_ms + i64::from(timeout) * 1000
    {
        return Err(QueueError::invalid(format!(
            "Value {timeout} for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [{limit} seconds]"
        )));
    }
    tx.execute(
        "UPDATE messages SET visible_ms = ?1 WHERE seq = ?2",
        params![now_ms + i64::from(timeout) * 1000, message.seq],
    )
    .map_err(QueueError::db("change a message's visibility"))?;
    Ok(timeout == 0)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::testing::{NO_WAIT, grouped, queue, queues};

    #[tokio::test]
    async fn fifo_deduplicates_within_five_minutes() {
        let q = queues();
        let fifo = queue(&q, "d.fifo", &[("FifoQueue", "true")]).await;
        let missing = q.send(&fifo, grouped("x", "g")).await.unwrap_err();
        assert!(missing.to_string().contains("ContentBasedDeduplication"), "{missing}");
        assert!(matches!(
            q.send(&fifo, NewMessage { dedup_id: Some("d".into()), ..NewMessage::body("x") }).await,
            Err(QueueError::MissingParameter { .. })
        ));
        let with_id = |body: &str, id: &str| NewMessage { dedup_id: Some(id.to_owned()), ..grouped(body, "g") };
        let one = q.send(&fifo, with_id("first", "d1")).await.unwrap();
        let two = q.send(&fifo, with_id("second", "d1")).await.unwrap();
        assert_eq!(one.message_id, two.message_id);
        assert_eq!(one.sequence_number, two.sequence_number);
        assert_eq!(q.approximate_counts(&fifo).await.unwrap().visible, 1);
        q.advance(Duration::from_secs(301));
        let three = q.send(&fifo, with_id("third", "d1")).await.unwrap();
        assert_ne!(three.message_id, one.message_id);
        assert!(three.sequence_number > one.sequence_number);
        // Content-based: the body's SHA-256 is the id.
        let cbd = queue(&q, "c.fifo", &[("FifoQueue", "true"), ("ContentBasedDeduplication", "true")]).await;
        let a = q.send(&cbd, grouped("same", "g1")).await.unwrap();
        let b = q.send(&cbd, grouped("same", "g2")).await.unwrap();
        assert_eq!(a.message_id, b.message_id, "queue scope: across groups");
        let got = q.receive(&cbd, 10, None, NO_WAIT).await.unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].attributes["MessageDeduplicationId"].len(), 64);
        // Message-group scope: the same id in two groups is two messages.
        let scoped = queue(
            &q,
            "s.fifo",
            &[("FifoQueue", "true"), ("ContentBasedDeduplication", "true"), ("DeduplicationScope", "messageGroup")],
        )
        .await;
        let a = q.send(&scoped, grouped("same", "g1")).await.unwrap();
        let b = q.send(&scoped, grouped("same", "g2")).await.unwrap();
        assert_ne!(a.message_id, b.message_id);
        // Standard queues take no deduplication id; FIFO ones no per-message delay.
        let standard = queue(&q, "std", &[]).await;
        assert!(q.send(&standard, NewMessage { dedup_id: Some("x".into()), ..NewMessage::body("b") }).await.is_err());
        assert!(q.send(&cbd, NewMessage { delay_seconds: Some(5), ..grouped("y", "g") }).await.is_err());
    }

    #[tokio::test]
    async fn delayed_messages_wait_for_their_delay() {
        let q = queues();
        let delayed = queue(&q, "delayed", &[("DelaySeconds", "10")]).await;
        q.send(&delayed, NewMessage::body("queue delay")).await.unwrap();
        q.send(&delayed, NewMessage { delay_seconds: Some(0), ..NewMessage::body("no delay") }).await.unwrap();
        q.send(&delayed, NewMessage { delay_seconds: Some(60), ..NewMessage::body("long delay") }).await.unwrap();
        let counts = q.approximate_counts(&delayed).await.unwrap();
        assert_eq!((counts.visible, counts.delayed), (1, 2));
        let now = q.receive(&delayed, 10, None, NO_WAIT).await.unwrap();
        assert_eq!(now.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), ["no delay"]);
        q.advance(Duration::from_secs(10));
        let later = q.receive(&delayed, 10, None, NO_WAIT).await.unwrap();
        assert_eq!(later.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), ["queue delay"]);
        for m in now.iter().chain(&later) {
            q.delete(&delayed, &m.receipt_handle).await.unwrap();
        }
        q.advance(Duration::from_secs(50));
        assert_eq!(q.receive(&delayed, 10, None, NO_WAIT).await.unwrap()[0].body, "long delay");
    }

    #[tokio::test]
    async fn messages_expire_after_the_retention_period() {
        let q = queues();
        let short = queue(&q, "short", &[("MessageRetentionPeriod", "60")]).await;
        q.send(&short, NewMessage::body("old")).await.unwrap();
        q.advance(Duration::from_secs(30));
        q.send(&short, NewMessage::body("young")).await.unwrap();
        q.advance(Duration::from_secs(31));
        assert_eq!(q.approximate_counts(&short).await.unwrap().visible, 1);
        let got = q.receive(&short, 10, None, NO_WAIT).await.unwrap();
        assert_eq!(got.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), ["young"]);
    }

    #[tokio::test]
    async fn messages_are_checked_against_their_queue() {
        let q = queues();
        let small = queue(&q, "small", &[("MaximumMessageSize", "1024")]).await;
        let big = q.send(&small, NewMessage::body("x".repeat(1025))).await.unwrap_err();
        assert!(big.to_string().contains("Message must be shorter than 1024 bytes"), "{big}");
        let mut trace = NewMessage::body("t");
        trace.system.insert("AWSTraceHeader".into(), crate::MessageAttributeValue::string("Root=1-abc"));
        let sent = q.send(&small, trace).await.unwrap();
        assert!(sent.md5_of_message_system_attributes.is_some());
        let got = q.receive(&small, 1, None, NO_WAIT).await.unwrap().remove(0);
        assert_eq!(got.attributes["AWSTraceHeader"], "Root=1-abc");
        assert_eq!(got.attributes["SenderId"], "000000000000");
        assert!(q.receive(&small, 0, None, NO_WAIT).await.is_err());
        assert!(q.receive(&small, 11, None, NO_WAIT).await.is_err());
        assert!(q.receive(&small, 1, Some(43_201), NO_WAIT).await.is_err());
        assert!(q.receive(&small, 1, None, Duration::from_secs(21)).await.is_err());
    }

    #[tokio::test]
    async fn batches_answer_per_message() {
        let q = queues();
        let standard = queue(&q, "batch", &[]).await;
        let results = q
            .send_batch(&standard, vec![NewMessage::body("ok"), NewMessage::body(""), NewMessage::body("ok too")])
            .await
            .unwrap();
        assert!(results[0].is_ok() && results[1].is_err() && results[2].is_ok());
        let got = q.receive(&standard, 10, None, NO_WAIT).await.unwrap();
        assert_eq!(got.len(), 2);
        let handles = vec![got[0].receipt_handle.clone(), "bad".to_owned(), got[1].receipt_handle.clone()];
        let deleted = q.delete_batch(&standard, handles).await.unwrap();
        assert!(deleted[0].is_ok() && deleted[1].is_err() && deleted[2].is_ok());
        assert_eq!(q.approximate_counts(&standard).await.unwrap(), crate::Counts::default());
    }
}
