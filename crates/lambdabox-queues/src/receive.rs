//! ReceiveMessage's work, one transaction on the queue database: the
//! messages to deliver (any visible ones on a standard queue; on a FIFO
//! queue, in order within each group and none from a group with a message
//! in flight), each made invisible for the visibility timeout with a new
//! receipt handle, or moved to the dead-letter queue once received
//! `maxReceiveCount` times; and moving a dead-letter queue's messages back
//! (redrive). Everything here blocks; `lib.rs` runs it off the async
//! workers and wakes long polls.

use std::collections::{BTreeMap, HashMap, HashSet};

use rusqlite::{Connection, Transaction, params};

use crate::handle::{ReceiptHandle, new_token};
use crate::message::{self, MessageAttributeValue};
use crate::messages::{ROW_COLUMNS, Row, expire, next_sequence, row};
use crate::store::{self, load};
use crate::{Queue, QueueError, Received};

/// What one receive took, and when to look again.
pub(crate) struct Taken {
    pub messages: Vec<Received>,
    /// When the next message of this queue becomes visible (delayed or in
    /// flight), in epoch milliseconds.
    pub next_visible_ms: Option<i64>,
    /// The dead-letter queue messages were moved to, to wake its readers.
    pub moved_to: Option<i64>,
}

/// Receives up to `max` messages: each becomes invisible for the
/// visibility timeout, with a new receipt handle. A message already
/// received `maxReceiveCount` times is moved to the dead-letter queue
/// instead. On a FIFO queue, messages come in order within each group and
/// none comes from a group that has a message in flight.
pub(crate) fn take(
    conn: &mut Connection,
    account: &str,
    queue_id: i64,
    max: usize,
    visibility_timeout: Option<u32>,
    now_ms: i64,
) -> Result<Taken, QueueError> {
    let tx = conn.transaction().map_err(QueueError::db("begin ReceiveMessage"))?;
    let queue = load(&tx, account, queue_id)?;
    expire(&tx, &queue, now_ms)?;
    let timeout = visibility_timeout.unwrap_or_else(|| queue.visibility_timeout());
    let redrive = match queue.redrive_policy() {
        Some(policy) => {
            store::find_arn(&tx, account, &policy.dead_letter_target_arn)?.map(|dlq| (dlq, policy.max_receive_count))
        }
        None => None,
    };
    // A message received `maxReceiveCount` times goes to the dead-letter
    // queue instead of to the caller: `None`.
    let keep = |tx: &Transaction<'_>, row: Row| -> Result<Option<Row>, QueueError> {
        if let Some((dlq, max_receive_count)) = &redrive
            && row.receive_count >= i64::from(*max_receive_count)
        {
            move_to_dead_letter_queue(tx, row, &queue, dlq, now_ms)?;
            return Ok(None);
        }
        Ok(Some(row))
    };
    let mut taken = Vec::new();
    let mut moved = false;
    if queue.fifo {
        // A message moved to the dead-letter queue leaves its group
        // deliverable: the next candidate of the group may be taken.
        for row in fifo_candidates(&tx, queue_id, max, now_ms)? {
            if taken.len() == max {
                break;
            }
            match keep(&tx, row)? {
                Some(row) => taken.push(row),
                None => moved = true,
            }
        }
    } else {
        let mut after = 0;
        'fill: loop {
            let mut stmt = tx
                .prepare_cached(&format!(
                    "SELECT {ROW_COLUMNS} FROM messages WHERE queue_id = ?1 AND visible_ms <= ?2 AND seq > ?3 ORDER BY seq LIMIT ?4"
                ))
                .map_err(QueueError::db("select visible messages"))?;
            let rows: Vec<Row> = stmt
                .query_map(params![queue_id, now_ms, after, max as i64], row)
                .and_then(|rows| rows.collect())
                .map_err(QueueError::db("select visible messages"))?;
            drop(stmt);
            if rows.is_empty() {
                break;
            }
            for row in rows {
                after = row.seq;
                match keep(&tx, row)? {
                    Some(row) => taken.push(row),
                    None => moved = true,
                }
                if taken.len() == max {
                    break 'fill;
                }
            }
        }
    }
    let mut messages = Vec::with_capacity(taken.len());
    for row in taken {
        messages.push(deliver(&tx, &queue, row, timeout, now_ms)?);
    }
    let next_visible_ms: Option<i64> = tx
        .query_row(
            "SELECT MIN(visible_ms) FROM messages WHERE queue_id = ?1 AND visible_ms > ?2",
            params![queue_id, now_ms],
            |r| r.get(0),
        )
        .map_err(QueueError::db("find the next visible message"))?;
    tx.commit().map_err(QueueError::db("commit ReceiveMessage"))?;
    let moved_to = if moved { redrive.map(|(dlq, _)| dlq.id) } else { None };
    Ok(Taken { messages, next_visible_ms, moved_to })
}

/// A FIFO queue's deliverable messages, in the order to deliver them: by
/// sequence within each group, groups in the order of their oldest
/// deliverable message, no group with a message in flight, and nothing in
/// a group after a message still delayed. Enough are gathered for `max`
/// even if some go to the dead-letter queue.
fn fifo_candidates(tx: &Connection, queue_id: i64, max: usize, now_ms: i64) -> Result<Vec<Row>, QueueError> {
    let mut blocked: HashSet<String> = {
        let mut stmt = tx
            .prepare_cached(
                "SELECT DISTINCT group_id FROM messages WHERE queue_id = ?1 AND receive_count > 0 AND visible_ms > ?2",
            )
            .map_err(QueueError::db("find groups in flight"))?;
        stmt.query_map(params![queue_id, now_ms], |r| r.get::<_, Option<String>>(0))
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(QueueError::db("find groups in flight"))?
            .into_iter()
            .flatten()
            .collect()
    };
    let mut stmt = tx
        .prepare_cached(&format!("SELECT {ROW_COLUMNS} FROM messages WHERE queue_id = ?1 ORDER BY seq"))
        .map_err(QueueError::db("scan a FIFO queue"))?;
    let mut rows = stmt.query(params![queue_id]).map_err(QueueError::db("scan a FIFO queue"))?;
    let mut order: HashMap<String, usize> = HashMap::new();
    let mut found: Vec<(usize, Row)> = Vec::new();
    // Candidates beyond `max` cover messages the dead-letter queue takes.
    let enough = max * 4 + 16;
    while let Some(r) = rows.next().map_err(QueueError::db("scan a FIFO queue"))? {
        let row = row(r).map_err(QueueError::db("read a message"))?;
        let group = row.group_id.clone().unwrap_or_default();
        if blocked.contains(&group) {
            continue;
        }
        if row.visible_ms > now_ms {
            blocked.insert(group);
            continue;
        }
        let next = order.len();
        let rank = *order.entry(group).or_insert(next);
        found.push((rank, row));
        if found.len() >= enough {
            break;
        }
    }
    found.sort_by_key(|(rank, row)| (*rank, row.seq));
    Ok(found.into_iter().map(|(_, row)| row).collect())
}

/// Marks a message received and renders it.
fn deliver(tx: &Transaction<'_>, queue: &Queue, row: Row, timeout: u32, now_ms: i64) -> Result<Received, QueueError> {
    let token = new_token();
    tx.execute(
        "UPDATE messages SET receive_count = receive_count + 1, first_receive_ms = COALESCE(first_receive_ms, ?1),
                             received_ms = ?1, visible_ms = ?2, receipt = ?3 WHERE seq = ?4",
        params![now_ms, now_ms + i64::from(timeout) * 1000, token, row.seq],
    )
    .map_err(QueueError::db("mark a message received"))?;
    let mut attributes = BTreeMap::new();
    let mut put = |k: &str, v: String| {
        attributes.insert(k.to_owned(), v);
    };
    put("SenderId", row.sender_id.clone());
    put("SentTimestamp", row.sent_ms.to_string());
    put("ApproximateReceiveCount", (row.receive_count + 1).to_string());
    put("ApproximateFirstReceiveTimestamp", row.first_receive_ms.unwrap_or(now_ms).to_string());
    if let Some(group) = &row.group_id {
        put("MessageGroupId", group.clone());
    }
    if let Some(dedup) = &row.dedup_id {
        put("MessageDeduplicationId", dedup.clone());
    }
    if let Some(sequence) = &row.sequence_number {
        put("SequenceNumber", sequence.clone());
    }
    if let Some(source) = &row.dead_letter_from {
        put("DeadLetterQueueSourceArn", source.clone());
    }
    let system = message::decode_attributes(&row.system);
    if let Some(trace) = system.get("AWSTraceHeader").and_then(|v| v.string_value.clone()) {
        put("AWSTraceHeader", trace);
    }
    let message_attributes: BTreeMap<String, MessageAttributeValue> = message::decode_attributes(&row.attributes);
    Ok(Received {
        receipt_handle: ReceiptHandle { queue_id: queue.id, message_id: row.message_id.clone(), token }.encode(),
        md5_of_body: message::md5_of_body(&row.body),
        md5_of_message_attributes: message::md5_of_attributes(&message_attributes),
        message_id: row.message_id,
        body: row.body,
        attributes,
        message_attributes,
    })
}

/// Moves a message to the dead-letter queue, keeping its id, body,
/// attributes, sent time and receive count. A standard queue's message
/// keeps its retention clock; a FIFO queue's starts again (as AWS does).
fn move_to_dead_letter_queue(
    tx: &Transaction<'_>,
    row: Row,
    source: &Queue,
    dlq: &Queue,
    now_ms: i64,
) -> Result<(), QueueError> {
    let sequence_number = if dlq.fifo { Some(next_sequence(tx, dlq.id)?) } else { None };
    let retain_from = if dlq.fifo { now_ms } else { row.retain_from_ms };
    tx.execute(
        "INSERT OR REPLACE INTO messages (queue_id, message_id, body, attributes, system, sender_id, sent_ms, retain_from_ms,
                               visible_ms, receive_count, first_receive_ms, group_id, dedup_id, sequence_number,
                               dead_letter_from)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        params![
            dlq.id,
            row.message_id,
            row.body,
            row.attributes,
            row.system,
            row.sender_id,
            row.sent_ms,
            retain_from,
            now_ms,
            row.receive_count,
            row.first_receive_ms,
            row.group_id,
            row.dedup_id,
            sequence_number,
            source.arn,
        ],
    )
    .map_err(QueueError::db("move a message to the dead-letter queue"))?;
    tx.execute("DELETE FROM messages WHERE seq = ?1", [row.seq])
        .map_err(QueueError::db("remove a message moved to the dead-letter queue"))?;
    Ok(())
}

/// Moves the visible messages of `source` (a dead-letter queue) to
/// `destination`, or each back to the queue it came from
/// (`DeadLetterQueueSourceArn`) when `None`: as new arrivals there (no
/// receive count, visible at once; a FIFO destination gives them new
/// sequence numbers). Returns how many moved and the queues they went to.
pub(crate) fn move_all(
    tx: &Transaction<'_>,
    account: &str,
    source: &Queue,
    destination: Option<&Queue>,
    now_ms: i64,
) -> Result<(u64, Vec<i64>), QueueError> {
    expire(tx, source, now_ms)?;
    let rows: Vec<Row> = {
        let mut stmt = tx
            .prepare_cached(&format!(
                "SELECT {ROW_COLUMNS} FROM messages WHERE queue_id = ?1 AND visible_ms <= ?2 ORDER BY seq"
            ))
            .map_err(QueueError::db("select messages to move"))?;
        stmt.query_map(params![source.id, now_ms], row)
            .and_then(|rows| rows.collect())
            .map_err(QueueError::db("select messages to move"))?
    };
    let mut targets: HashMap<String, Option<Queue>> = HashMap::new();
    let (mut moved, mut woken) = (0, Vec::new());
    for row in rows {
        let target = match destination {
            Some(d) => Some(d.clone()),
            None => match &row.dead_letter_from {
                Some(arn) => match targets.get(arn) {
                    Some(known) => known.clone(),
                    None => {
                        let found = store::find_arn(tx, account, arn)?;
                        targets.insert(arn.clone(), found.clone());
                        found
                    }
                },
                None => None,
            },
        };
        let Some(target) = target.filter(|t| t.fifo == source.fifo) else { continue };
        let sequence_number = if target.fifo { Some(next_sequence(tx, target.id)?) } else { None };
        let retain_from = if target.fifo { now_ms } else { row.retain_from_ms };
        tx.execute(
            "INSERT OR REPLACE INTO messages (queue_id, message_id, body, attributes, system, sender_id, sent_ms, retain_from_ms,
                                   visible_ms, group_id, dedup_id, sequence_number)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                target.id,
                row.message_id,
                row.body,
                row.attributes,
                row.system,
                row.sender_id,
                row.sent_ms,
                retain_from,
                now_ms,
                row.group_id,
                row.dedup_id,
                sequence_number,
            ],
        )
        .map_err(QueueError::db("move a message"))?;
        tx.execute("DELETE FROM messages WHERE seq = ?1", [row.seq])
            .map_err(QueueError::db("remove a moved message"))?;
        moved += 1;
        if !woken.contains(&target.id) {
            woken.push(target.id);
        }
    }
    Ok((moved, woken))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::NewMessage;
    use crate::testing::{NO_WAIT, grouped, queue, queues};

    #[tokio::test]
    async fn a_received_message_is_invisible_until_its_timeout_then_comes_back() {
        let q = queues();
        let standard = queue(&q, "vis", &[("VisibilityTimeout", "30")]).await;
        let sent = q.send(&standard, NewMessage::body("hello")).await.unwrap();
        assert_eq!(sent.md5_of_message_body, "5d41402abc4b2a76b9719d911017c592");
        let first = q.receive(&standard, 10, None, NO_WAIT).await.unwrap();
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].message_id, sent.message_id);
        assert_eq!(first[0].attributes["ApproximateReceiveCount"], "1");
        assert!(q.receive(&standard, 10, None, NO_WAIT).await.unwrap().is_empty());
        let counts = q.approximate_counts(&standard).await.unwrap();
        assert_eq!((counts.visible, counts.in_flight, counts.delayed), (0, 1, 0));
        q.advance(Duration::from_secs(31));
        let second = q.receive(&standard, 10, None, NO_WAIT).await.unwrap();
        assert_eq!(second[0].message_id, sent.message_id);
        assert_ne!(second[0].receipt_handle, first[0].receipt_handle, "a new handle per receive");
        assert_eq!(second[0].attributes["ApproximateReceiveCount"], "2");
        assert_eq!(
            second[0].attributes["ApproximateFirstReceiveTimestamp"],
            first[0].attributes["ApproximateFirstReceiveTimestamp"]
        );
        // A standard queue: the older handle still deletes (AWS: the request succeeds).
        q.delete(&standard, &first[0].receipt_handle).await.unwrap();
        assert_eq!(q.approximate_counts(&standard).await.unwrap(), crate::Counts::default());
        q.delete(&standard, &second[0].receipt_handle).await.unwrap();
    }

    #[tokio::test]
    async fn visibility_changes_and_receipt_handles() {
        let q = queues();
        let a = queue(&q, "a", &[]).await;
        let b = queue(&q, "b", &[]).await;
        q.send(&a, NewMessage::body("m")).await.unwrap();
        let got = q.receive(&a, 1, Some(60), NO_WAIT).await.unwrap().remove(0);
        q.change_visibility(&a, &got.receipt_handle, 0).await.unwrap();
        assert!(matches!(q.change_visibility(&a, &got.receipt_handle, 10).await, Err(QueueError::MessageNotInflight)));
        let again = q.receive(&a, 1, None, NO_WAIT).await.unwrap().remove(0);
        let stale = q.change_visibility(&a, &got.receipt_handle, 10).await.unwrap_err();
        assert!(stale.to_string().contains("The receipt handle has expired"), "{stale}");
        assert!(matches!(
            q.change_visibility(&b, &again.receipt_handle, 10).await,
            Err(QueueError::ReceiptHandleIsInvalid { .. })
        ));
        assert!(matches!(q.delete(&a, "garbage").await, Err(QueueError::ReceiptHandleIsInvalid { .. })));
        let limit = q.change_visibility(&a, &again.receipt_handle, 43_201).await.unwrap_err();
        assert!(limit.to_string().contains("beyond the limit"), "{limit}");
        q.delete(&a, &again.receipt_handle).await.unwrap();
        let gone = q.change_visibility(&a, &again.receipt_handle, 10).await.unwrap_err();
        assert!(gone.to_string().contains("Message does not exist"), "{gone}");
        q.delete(&a, &again.receipt_handle).await.unwrap();
    }

    #[tokio::test]
    async fn a_message_past_max_receive_count_moves_to_the_dead_letter_queue() {
        let q = queues();
        let dlq = queue(&q, "dlq", &[]).await;
        let policy = format!(r#"{{"deadLetterTargetArn":"{}","maxReceiveCount":2}}"#, dlq.arn);
        let source = queue(&q, "source", &[("RedrivePolicy", &policy)]).await;
        let mut message = NewMessage::body("poison");
        message.attributes.insert("kind".into(), crate::MessageAttributeValue::string("bad"));
        let sent = q.send(&source, message).await.unwrap();
        for _ in 0..2 {
            let got = q.receive(&source, 1, None, NO_WAIT).await.unwrap().remove(0);
            q.change_visibility(&source, &got.receipt_handle, 0).await.unwrap();
        }
        assert!(q.receive(&source, 10, None, NO_WAIT).await.unwrap().is_empty(), "the third receive moves it");
        assert_eq!(q.approximate_counts(&source).await.unwrap(), crate::Counts::default());
        let moved = q.receive(&dlq, 10, None, NO_WAIT).await.unwrap().remove(0);
        assert_eq!(moved.message_id, sent.message_id);
        assert_eq!(moved.body, "poison");
        assert_eq!(moved.message_attributes["kind"].string_value.as_deref(), Some("bad"));
        assert_eq!(moved.md5_of_message_attributes, sent.md5_of_message_attributes);
        assert_eq!(moved.attributes["DeadLetterQueueSourceArn"], source.arn);
        assert_eq!(moved.attributes["ApproximateReceiveCount"], "3");
        let sources = q.dead_letter_sources(&dlq).await.unwrap();
        assert_eq!(sources.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["source"]);
        // Redrive back: the message returns to its source as a new arrival.
        q.change_visibility(&dlq, &moved.receipt_handle, 0).await.unwrap();
        assert_eq!(q.move_messages(&dlq, None).await.unwrap(), 1);
        let back = q.receive(&source, 1, None, NO_WAIT).await.unwrap().remove(0);
        assert_eq!((back.message_id.as_str(), back.body.as_str()), (sent.message_id.as_str(), "poison"));
        assert_eq!(back.attributes["ApproximateReceiveCount"], "1");
        assert_eq!(q.approximate_counts(&dlq).await.unwrap(), crate::Counts::default());
    }

    #[tokio::test]
    async fn a_fifo_group_with_a_message_in_flight_delivers_nothing_more() {
        let q = queues();
        let fifo = queue(&q, "orders.fifo", &[("FifoQueue", "true"), ("ContentBasedDeduplication", "true")]).await;
        for (body, group) in [("a1", "a"), ("b1", "b"), ("a2", "a"), ("b2", "b")] {
            let sent = q.send(&fifo, grouped(body, group)).await.unwrap();
            assert!(sent.sequence_number.is_some());
        }
        let first = q.receive(&fifo, 1, None, NO_WAIT).await.unwrap();
        assert_eq!(first[0].body, "a1");
        assert_eq!(first[0].attributes["MessageGroupId"], "a");
        assert!(first[0].attributes.contains_key("SequenceNumber"));
        let rest = q.receive(&fifo, 10, None, NO_WAIT).await.unwrap();
        assert_eq!(rest.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), ["b1", "b2"], "group a is blocked");
        assert!(q.receive(&fifo, 10, None, NO_WAIT).await.unwrap().is_empty());
        q.delete(&fifo, &first[0].receipt_handle).await.unwrap();
        let next = q.receive(&fifo, 10, None, NO_WAIT).await.unwrap();
        assert_eq!(next.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), ["a2"]);
        // A FIFO handle whose visibility ran out has expired.
        q.advance(Duration::from_secs(31));
        let expired = q.delete(&fifo, &next[0].receipt_handle).await.unwrap_err();
        assert!(expired.to_string().contains("has expired"), "{expired}");
        // Groups come whole: b's two, in order, before a's.
        let again = q.receive(&fifo, 10, None, NO_WAIT).await.unwrap();
        assert_eq!(again.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), ["b1", "b2", "a2"]);
    }
}
