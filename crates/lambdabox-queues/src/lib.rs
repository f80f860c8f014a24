//! SQS's queues and messages, durable in SQLite (`<data dir>/sqs/queues.db`,
//! WAL with `synchronous = FULL`: a send is committed before it is
//! answered, so an acknowledged message survives `kill -9`), with SQS's
//! semantics:
//!
//! - **standard and FIFO queues** (a FIFO queue's name ends in `.fifo` and
//!   it is created with `FifoQueue=true`), with SQS's attributes, their
//!   ranges, defaults and messages ([`attributes`]);
//! - **messages** with a body, message attributes and `AWSTraceHeader`,
//!   and the MD5 digests AWS computes over them ([`message`]);
//! - **visibility**: a received message is invisible for the visibility
//!   timeout and comes back if it is not deleted; every receive hands out
//!   a new receipt handle;
//! - **delays** (the queue's `DelaySeconds`, or the message's on standard
//!   queues) and **retention** (`MessageRetentionPeriod`);
//! - **dead-letter queues**: a message received `maxReceiveCount` times is
//!   moved to the `RedrivePolicy`'s queue when a receive would exceed the
//!   count, keeping its id, attributes and sent time;
//! - **FIFO order**: messages of one `MessageGroupId` come in the order
//!   sent, and a group with a message in flight delivers nothing more
//!   until it is deleted or visible again; a `MessageDeduplicationId` (or
//!   the body's SHA-256 under `ContentBasedDeduplication`) seen in the last
//!   five minutes is accepted and not stored again (`messages.rs` sends,
//!   deletes and changes visibility; `receive.rs` receives and redrives);
//! - **long polling**: [`Queues::receive`] waits up to its `wait` for a
//!   message, woken by sends (a `tokio::sync::Notify` per queue) or by the
//!   moment the next delayed or in-flight message becomes visible, never by
//!   polling the database in a loop.
//!
//! The SQS API (`lambdabox-sqs`) and Lambda's SQS pollers both use this
//! crate. Every operation is `async` and runs its SQLite work on tokio's
//! blocking pool; the methods take `self: &Arc<Self>`, so hold the
//! [`Queues`] that [`Queues::open`] returns in an `Arc` and clone it
//! freely.
//!
//! ```no_run
//! # async fn example(dir: &std::path::Path) -> Result<(), lambdabox_queues::QueueError> {
//! use std::time::Duration;
//! use lambdabox_queues::{NewMessage, Queues};
//!
//! let queues = Queues::open(dir, "000000000000")?;
//! let queue = queues.queue_by_arn("arn:aws:sqs:us-east-1:000000000000:orders").await?
//!     .ok_or(lambdabox_queues::QueueError::NonExistentQueue)?;
//! queues.send(&queue, NewMessage::body("hello")).await?;
//! for message in queues.receive(&queue, 10, None, Duration::from_secs(20)).await? {
//!     // … process, then:
//!     queues.delete(&queue, &message.receipt_handle).await?;
//! }
//! # Ok(()) }
//! ```

pub mod attributes;
mod error;
mod handle;
pub mod message;
mod messages;
mod receive;
mod store;
mod tags;
#[cfg(test)]
mod testing;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::Connection;
use tokio::sync::Notify;

pub use attributes::RedrivePolicy;
pub use error::QueueError;
pub use message::{MessageAttributeValue, NewMessage, md5_of_attributes, md5_of_body};

/// The most messages one receive returns (`MaxNumberOfMessages`).
pub const MAX_RECEIVE: usize = 10;

/// A queue as it was when it was looked up. Operations take it as a
/// handle: they act on the queue as it is *now* (its current attributes),
/// and fail with [`QueueError::NonExistentQueue`] if it was deleted since
/// (even if a queue of the same name was created again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queue {
    /// The region the queue lives in.
    pub region: String,
    pub name: String,
    /// `arn:aws:sqs:REGION:ACCOUNT:NAME`.
    pub arn: String,
    /// Whether it is a FIFO queue.
    pub fifo: bool,
    /// Its settable attributes (defaults included), by SQS's names, in
    /// canonical text: `VisibilityTimeout`, `DelaySeconds`,
    /// `RedrivePolicy`, … The read-only ones come from [`Queues::attributes`].
    pub attributes: BTreeMap<String, String>,
    /// `CreatedTimestamp` and `LastModifiedTimestamp`, in epoch seconds.
    pub created: i64,
    pub last_modified: i64,
    /// The database's id: never reused, so a recreated queue is another queue.
    id: i64,
}

impl Queue {
    fn number(&self, name: &str, default: u32) -> u32 {
        self.attributes.get(name).and_then(|v| v.parse().ok()).unwrap_or(default)
    }

    /// `VisibilityTimeout`, in seconds (default 30).
    pub fn visibility_timeout(&self) -> u32 {
        self.number("VisibilityTimeout", attributes::DEFAULT_VISIBILITY_TIMEOUT)
    }

    /// `MessageRetentionPeriod`, in seconds (default 4 days).
    pub fn message_retention_period(&self) -> u32 {
        self.number("MessageRetentionPeriod", attributes::DEFAULT_RETENTION)
    }

    /// `DelaySeconds` (default 0).
    pub fn delay_seconds(&self) -> u32 {
        self.number("DelaySeconds", 0)
    }

    /// `MaximumMessageSize`, in bytes.
    pub fn maximum_message_size(&self) -> u32 {
        self.number("MaximumMessageSize", attributes::MAX_MESSAGE_SIZE)
    }

    /// `ReceiveMessageWaitTimeSeconds`: how long a receive that names no
    /// wait time waits (default 0).
    pub fn receive_message_wait_time_seconds(&self) -> u32 {
        self.number("ReceiveMessageWaitTimeSeconds", 0)
    }

    /// `RedrivePolicy`, if the queue has a dead-letter queue.
    pub fn redrive_policy(&self) -> Option<RedrivePolicy> {
        self.attributes.get("RedrivePolicy").and_then(|p| RedrivePolicy::parse(p).ok())
    }

    /// `Policy`: the queue's resource policy, if it has one.
    pub fn policy(&self) -> Option<&str> {
        self.attributes.get("Policy").map(String::as_str)
    }

    /// `ContentBasedDeduplication` (FIFO queues).
    pub fn content_based_deduplication(&self) -> bool {
        self.attributes.get("ContentBasedDeduplication").is_some_and(|v| v == "true")
    }

    /// Whether deduplication is per message group (`DeduplicationScope=messageGroup`).
    pub fn deduplication_scope_is_group(&self) -> bool {
        self.attributes.get("DeduplicationScope").is_some_and(|v| v == "messageGroup")
    }
}

/// What a send answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The message's id (on a FIFO queue, for a duplicate within the
    /// deduplication window: the first message's).
    pub message_id: String,
    pub md5_of_message_body: String,
    /// `None` without message attributes.
    pub md5_of_message_attributes: Option<String>,
    /// `None` without `AWSTraceHeader`.
    pub md5_of_message_system_attributes: Option<String>,
    /// FIFO queues only.
    pub sequence_number: Option<String>,
}

/// A received message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub message_id: String,
    /// This receive's handle, for [`Queues::delete`] and
    /// [`Queues::change_visibility`].
    pub receipt_handle: String,
    pub body: String,
    pub md5_of_body: String,
    /// Every system attribute SQS has for it, by SQS's names: `SenderId`,
    /// `SentTimestamp` and `ApproximateFirstReceiveTimestamp` (epoch
    /// milliseconds), `ApproximateReceiveCount` (this receive included),
    /// and where they apply `MessageGroupId`, `MessageDeduplicationId`,
    /// `SequenceNumber`, `AWSTraceHeader`, `DeadLetterQueueSourceArn`.
    /// The SQS API filters them by the request's `MessageSystemAttributeNames`.
    pub attributes: BTreeMap<String, String>,
    /// All its message attributes.
    pub message_attributes: BTreeMap<String, MessageAttributeValue>,
    /// The MD5 over all of `message_attributes` (`None` when there are none);
    /// [`md5_of_attributes`] computes it over a subset.
    pub md5_of_message_attributes: Option<String>,
}

/// A queue's approximate message counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Available to receive (`ApproximateNumberOfMessages`).
    pub visible: u64,
    /// Received and not yet deleted or visible again (`…NotVisible`).
    pub in_flight: u64,
    /// Sent with a delay that has not passed (`…Delayed`).
    pub delayed: u64,
}

/// The queues of one account, in every region.
#[derive(Debug)]
pub struct Queues {
    account: String,
    conn: Mutex<Connection>,
    /// Wakes the long polls of each queue (by its id).
    wakers: Mutex<HashMap<i64, Arc<Notify>>>,
    clock: Clock,
    closed: AtomicBool,
    closing: Notify,
}

/// The time the queues go by: the system's, plus an offset tests move.
#[derive(Debug, Default)]
struct Clock {
    offset_ms: AtomicI64,
}

impl Clock {
    fn now_ms(&self) -> i64 {
        chrono::Utc::now().timestamp_millis() + self.offset_ms.load(Ordering::Relaxed)
    }
}

impl Queues {
    /// Opens (creating them if missing) the directory `dir` (the data
    /// dir's `sqs/`, made private to the server) and its `queues.db`, for
    /// `account`'s queues.
    pub fn open(dir: &Path, account: &str) -> Result<Arc<Self>, QueueError> {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|source| QueueError::CreateDir { path: dir.to_owned(), source })?;
        let path = dir.join("queues.db");
        let conn = lambdabox_store::open_migrated(&path, store::MIGRATIONS)
            .map_err(|source| QueueError::Open { path: path.clone(), source })?;
        Ok(Self::with(conn, account))
    }

    /// Queues kept in memory only (tests).
    pub fn open_in_memory(account: &str) -> Result<Arc<Self>, QueueError> {
        let conn = lambdabox_store::open_migrated_in_memory(store::MIGRATIONS)
            .map_err(|source| QueueError::Open { path: ":memory:".into(), source })?;
        Ok(Self::with(conn, account))
    }

    fn with(conn: Connection, account: &str) -> Arc<Self> {
        Arc::new(Self {
            account: account.to_owned(),
            conn: Mutex::new(conn),
            wakers: Mutex::new(HashMap::new()),
            clock: Clock::default(),
            closed: AtomicBool::new(false),
            closing: Notify::new(),
        })
    }

    /// The account whose queues these are.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// Ends every long poll now (each answers what it has: nothing), and
    /// makes later receives answer at once: for shutting down.
    pub fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.closing.notify_waiters();
    }

    /// Runs `f` with the database on the blocking pool.
    async fn run<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&Self, &mut Connection, i64) -> Result<T, QueueError> + Send + 'static,
    ) -> Result<T, QueueError> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = this.conn.lock().unwrap_or_else(PoisonError::into_inner);
            let now = this.clock.now_ms();
            f(&this, &mut conn, now)
        })
        .await
        .map_err(|source| QueueError::Blocking { source })?
    }

    fn waker(&self, queue_id: i64) -> Arc<Notify> {
        self.wakers.lock().unwrap_or_else(PoisonError::into_inner).entry(queue_id).or_default().clone()
    }

    fn wake(&self, queue_id: i64) {
        let waker = self.wakers.lock().unwrap_or_else(PoisonError::into_inner).get(&queue_id).cloned();
        if let Some(waker) = waker {
            waker.notify_waiters();
        }
    }

    /// CreateQueue: creates `name` in `region` with `attributes` (SQS's
    /// names and text values; `FifoQueue=true` for a FIFO queue) and
    /// `tags`, or returns the existing queue if every attribute given
    /// equals its own ([`QueueError::QueueNameExists`] if one differs).
    pub async fn create_queue(
        self: &Arc<Self>,
        region: &str,
        name: &str,
        attributes: BTreeMap<String, String>,
        tags: BTreeMap<String, String>,
    ) -> Result<Queue, QueueError> {
        let (region, name) = (region.to_owned(), name.to_owned());
        self.run(move |this, conn, now| {
            store::create(conn, &this.account, &region, &name, &attributes, &tags, now / 1000)
        })
        .await
    }

    /// The queue named `name` in `region`, if it exists.
    pub async fn queue(self: &Arc<Self>, region: &str, name: &str) -> Result<Option<Queue>, QueueError> {
        let (region, name) = (region.to_owned(), name.to_owned());
        self.run(move |this, conn, _| store::find(conn, &this.account, &region, &name)).await
    }

    /// The queue an ARN (`arn:aws:sqs:REGION:ACCOUNT:NAME`) names, if it
    /// is this account's and exists.
    pub async fn queue_by_arn(self: &Arc<Self>, arn: &str) -> Result<Option<Queue>, QueueError> {
        let arn = arn.to_owned();
        self.run(move |this, conn, _| store::find_arn(conn, &this.account, &arn)).await
    }

    /// The queues of `region` whose names start with `prefix`, by name.
    pub async fn list_queues(self: &Arc<Self>, region: &str, prefix: &str) -> Result<Vec<Queue>, QueueError> {
        let (region, prefix) = (region.to_owned(), prefix.to_owned());
        self.run(move |this, conn, _| store::list(conn, &this.account, &region, &prefix)).await
    }

    /// DeleteQueue: the queue and all its messages. Long polls on it end.
    pub async fn delete_queue(self: &Arc<Self>, queue: &Queue) -> Result<(), QueueError> {
        let id = queue.id;
        self.run(move |_, conn, _| store::delete(conn, id)).await?;
        self.wake(id);
        self.wakers.lock().unwrap_or_else(PoisonError::into_inner).remove(&id);
        Ok(())
    }

    /// Every attribute of the queue, by SQS's names: the settable ones and
    /// `ApproximateNumberOfMessages`, `…NotVisible`, `…Delayed`,
    /// `CreatedTimestamp`, `LastModifiedTimestamp` and `QueueArn`.
    pub async fn attributes(self: &Arc<Self>, queue: &Queue) -> Result<BTreeMap<String, String>, QueueError> {
        let id = queue.id;
        self.run(move |this, conn, now| store::all_attributes(conn, &this.account, id, now)).await
    }

    /// SetQueueAttributes: every change checked, then all applied or none.
    /// An empty `Policy`, `RedrivePolicy`, `RedriveAllowPolicy` or
    /// `KmsMasterKeyId` removes it.
    pub async fn set_attributes(
        self: &Arc<Self>,
        queue: &Queue,
        attributes: BTreeMap<String, String>,
    ) -> Result<(), QueueError> {
        let id = queue.id;
        self.run(move |this, conn, now| store::set_attributes(conn, &this.account, id, &attributes, now / 1000))
            .await?;
        // A shorter delay or visibility can make messages visible sooner.
        self.wake(id);
        Ok(())
    }

    /// SendMessage: checks the message against the queue (size, attributes,
    /// FIFO's group and deduplication ids) and commits it before
    /// answering. Wakes the queue's long polls.
    pub async fn send(self: &Arc<Self>, queue: &Queue, message: NewMessage) -> Result<Sent, QueueError> {
        let id = queue.id;
        let sent = self
            .run(move |this, conn, now| {
                let tx = conn.transaction().map_err(QueueError::db("begin SendMessage"))?;
                let queue = store::load(&tx, &this.account, id)?;
                let sent = messages::send(&tx, &this.account, &queue, &message, now)?;
                tx.commit().map_err(QueueError::db("commit SendMessage"))?;
                Ok(sent)
            })
            .await?;
        self.wake(id);
        Ok(sent)
    }

    /// SendMessageBatch: each message checked and sent on its own (one
    /// result per message, in order), all committed together. The batch
    /// limits (ids, count, total size) are the API's to check.
    pub async fn send_batch(
        self: &Arc<Self>,
        queue: &Queue,
        batch: Vec<NewMessage>,
    ) -> Result<Vec<Result<Sent, QueueError>>, QueueError> {
        let id = queue.id;
        let results = self
            .run(move |this, conn, now| {
                let tx = conn.transaction().map_err(QueueError::db("begin SendMessageBatch"))?;
                let queue = store::load(&tx, &this.account, id)?;
                let mut results = Vec::with_capacity(batch.len());
                for message in &batch {
                    match messages::send(&tx, &this.account, &queue, message, now) {
                        Err(e) if !e.sender_fault() => return Err(e),
                        result => results.push(result),
                    }
                }
                tx.commit().map_err(QueueError::db("commit SendMessageBatch"))?;
                Ok(results)
            })
            .await?;
        self.wake(id);
        Ok(results)
    }

    /// ReceiveMessage: up to `max` (1 to 10) messages, each invisible for
    /// `visibility_timeout` seconds (the queue's when `None`; at most
    /// 43200) with a new receipt handle. With none available it waits up
    /// to `wait` (at most 20 seconds) for one: for a send, or for a delayed
    /// or in-flight message to become visible. Messages past the queue's
    /// `maxReceiveCount` go to its dead-letter queue instead.
    pub async fn receive(
        self: &Arc<Self>,
        queue: &Queue,
        max: usize,
        visibility_timeout: Option<u32>,
        wait: Duration,
    ) -> Result<Vec<Received>, QueueError> {
        if !(1..=MAX_RECEIVE).contains(&max) {
            return Err(QueueError::invalid(format!(
                "Value {max} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided."
            )));
        }
        if let Some(t) = visibility_timeout.filter(|t| *t > attributes::MAX_VISIBILITY_TIMEOUT) {
            return Err(QueueError::invalid(format!(
                "Value {t} for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= 43200, if provided."
            )));
        }
        if wait > Duration::from_secs(u64::from(attributes::MAX_WAIT_SECONDS)) {
            return Err(QueueError::invalid(format!(
                "Value {} for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.",
                wait.as_secs()
            )));
        }
        let id = queue.id;
        let deadline = tokio::time::Instant::now() + wait;
        let waker = self.waker(id);
        loop {
            // Listening before looking: a send between the look and the
            // wait still wakes this poll.
            let woken = waker.notified();
            let closing = self.closing.notified();
            tokio::pin!(woken, closing);
            woken.as_mut().enable();
            closing.as_mut().enable();
            let taken = self
                .run(move |this, conn, now| receive::take(conn, &this.account, id, max, visibility_timeout, now))
                .await?;
            if let Some(dlq) = taken.moved_to {
                self.wake(dlq);
            }
            let now = tokio::time::Instant::now();
            if !taken.messages.is_empty() || now >= deadline || self.closed.load(Ordering::SeqCst) {
                return Ok(taken.messages);
            }
            let mut until = deadline;
            if let Some(next) = taken.next_visible_ms {
                let after = u64::try_from(next - self.clock.now_ms()).unwrap_or(0) + 1;
                until = until.min(now + Duration::from_millis(after));
            }
            tokio::select! {
                () = &mut woken => {}
                () = &mut closing => {}
                () = tokio::time::sleep_until(until) => {}
            }
        }
    }

    /// DeleteMessage by receipt handle. A message already gone is no
    /// error. On a standard queue an older handle of the message deletes it
    /// too; on a FIFO queue a handle whose visibility timeout ran out (or
    /// that a later receive replaced) is refused as expired
    /// (`InvalidParameterValue`). A handle this queue never gave out is
    /// [`QueueError::ReceiptHandleIsInvalid`].
    pub async fn delete(self: &Arc<Self>, queue: &Queue, receipt_handle: &str) -> Result<(), QueueError> {
        let mut results = self.delete_batch(queue, vec![receipt_handle.to_owned()]).await?;
        results.pop().unwrap_or(Ok(()))
    }

    /// DeleteMessageBatch: one result per handle, in order, committed together.
    pub async fn delete_batch(
        self: &Arc<Self>,
        queue: &Queue,
        receipt_handles: Vec<String>,
    ) -> Result<Vec<Result<(), QueueError>>, QueueError> {
        let id = queue.id;
        self.run(move |this, conn, now| {
            let tx = conn.transaction().map_err(QueueError::db("begin DeleteMessage"))?;
            let queue = store::load(&tx, &this.account, id)?;
            let mut results = Vec::with_capacity(receipt_handles.len());
            for handle in &receipt_handles {
                match messages::delete(&tx, &queue, handle, now) {
                    Err(e) if !e.sender_fault() => return Err(e),
                    result => results.push(result),
                }
            }
            tx.commit().map_err(QueueError::db("commit DeleteMessage"))?;
            Ok(results)
        })
        .await
    }

    /// ChangeMessageVisibility: the message (in flight under this handle)
    /// becomes visible `timeout` seconds from now (0: at once). The total
    /// since it was received stays within 12 hours.
    pub async fn change_visibility(
        self: &Arc<Self>,
        queue: &Queue,
        receipt_handle: &str,
        timeout: u32,
    ) -> Result<(), QueueError> {
        let mut results = self.change_visibility_batch(queue, vec![(receipt_handle.to_owned(), timeout)]).await?;
        results.pop().unwrap_or(Ok(()))
    }

    /// ChangeMessageVisibilityBatch: `(receipt handle, timeout)` pairs, one
    /// result each, in order, committed together.
    pub async fn change_visibility_batch(
        self: &Arc<Self>,
        queue: &Queue,
        changes: Vec<(String, u32)>,
    ) -> Result<Vec<Result<(), QueueError>>, QueueError> {
        let id = queue.id;
        let (results, visible) = self
            .run(move |this, conn, now| {
                let tx = conn.transaction().map_err(QueueError::db("begin ChangeMessageVisibility"))?;
                let queue = store::load(&tx, &this.account, id)?;
                let mut results = Vec::with_capacity(changes.len());
                let mut visible = false;
                for (handle, timeout) in &changes {
                    match messages::change_visibility(&tx, &queue, handle, *timeout, now) {
                        Err(e) if !e.sender_fault() => return Err(e),
                        Ok(now_visible) => {
                            visible |= now_visible;
                            results.push(Ok(()));
                        }
                        Err(e) => results.push(Err(e)),
                    }
                }
                tx.commit().map_err(QueueError::db("commit ChangeMessageVisibility"))?;
                Ok((results, visible))
            })
            .await?;
        if visible {
            self.wake(id);
        }
        Ok(results)
    }

    /// PurgeQueue: deletes every message; at most once every 60 seconds
    /// ([`QueueError::PurgeQueueInProgress`]).
    pub async fn purge(self: &Arc<Self>, queue: &Queue) -> Result<(), QueueError> {
        let id = queue.id;
        self.run(move |this, conn, now| store::purge(conn, &this.account, id, now)).await
    }

    /// The queue's messages: visible, in flight and delayed (expired ones
    /// are not counted).
    pub async fn approximate_counts(self: &Arc<Self>, queue: &Queue) -> Result<Counts, QueueError> {
        let id = queue.id;
        self.run(move |this, conn, now| {
            let tx = conn.transaction().map_err(QueueError::db("begin counting"))?;
            let queue = store::load(&tx, &this.account, id)?;
            messages::expire(&tx, &queue, now)?;
            let counts = store::counts(&tx, id, now)?;
            tx.commit().map_err(QueueError::db("commit counting"))?;
            Ok(counts)
        })
        .await
    }

    /// ListQueueTags.
    pub async fn tags(self: &Arc<Self>, queue: &Queue) -> Result<BTreeMap<String, String>, QueueError> {
        let id = queue.id;
        self.run(move |_, conn, _| store::tags(conn, id)).await
    }

    /// TagQueue: adds the tags, replacing those with the same keys.
    pub async fn tag(self: &Arc<Self>, queue: &Queue, tags: BTreeMap<String, String>) -> Result<(), QueueError> {
        let id = queue.id;
        self.run(move |_, conn, _| store::retag(conn, id, &tags, &[])).await
    }

    /// UntagQueue: removes the tags with these keys (absent ones are no error).
    pub async fn untag(self: &Arc<Self>, queue: &Queue, keys: Vec<String>) -> Result<(), QueueError> {
        let id = queue.id;
        self.run(move |_, conn, _| store::retag(conn, id, &BTreeMap::new(), &keys)).await
    }

    /// Redrive (StartMessageMoveTask): moves the visible messages of
    /// `source`, a dead-letter queue, to `destination`, or each back to
    /// the queue it was moved from when `None`, as new arrivals (receive
    /// count 0). Returns how many moved.
    pub async fn move_messages(
        self: &Arc<Self>,
        source: &Queue,
        destination: Option<&Queue>,
    ) -> Result<u64, QueueError> {
        let (id, destination) = (source.id, destination.map(|d| d.id));
        let (moved, woken) = self
            .run(move |this, conn, now| {
                let tx = conn.transaction().map_err(QueueError::db("begin a message move"))?;
                let source = store::load(&tx, &this.account, id)?;
                let destination = destination.map(|d| store::load(&tx, &this.account, d)).transpose()?;
                let result = receive::move_all(&tx, &this.account, &source, destination.as_ref(), now)?;
                tx.commit().map_err(QueueError::db("commit a message move"))?;
                Ok(result)
            })
            .await?;
        for queue in woken {
            self.wake(queue);
        }
        Ok(moved)
    }

    /// ListDeadLetterSourceQueues: the queues whose `RedrivePolicy` names
    /// this queue, by name.
    pub async fn dead_letter_sources(self: &Arc<Self>, queue: &Queue) -> Result<Vec<Queue>, QueueError> {
        let (id, arn) = (queue.id, queue.arn.clone());
        self.run(move |this, conn, _| {
            store::load(conn, &this.account, id)?;
            store::dead_letter_sources(conn, &this.account, &arn)
        })
        .await
    }
}

#[cfg(test)]
impl Queues {
    /// Moves the queues' clock forward (tests of delays, visibility, retention).
    pub(crate) fn advance(&self, by: Duration) {
        self.clock.offset_ms.fetch_add(by.as_millis() as i64, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn queue(q: &Arc<Queues>, attributes: &[(&str, &str)]) -> Queue {
        let attributes = attributes.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        q.create_queue("us-east-1", "poll", attributes, BTreeMap::new()).await.unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_long_poll_is_woken_by_a_send() {
        let q = Queues::open_in_memory("000000000000").unwrap();
        let queue = queue(&q, &[]).await;
        let started = tokio::time::Instant::now();
        let waiting = {
            let (q, queue) = (q.clone(), queue.clone());
            tokio::spawn(async move { q.receive(&queue, 10, None, Duration::from_secs(20)).await })
        };
        q.send(&queue, NewMessage::body("wake up")).await.unwrap();
        let got = waiting.await.unwrap().unwrap();
        assert_eq!(got[0].body, "wake up");
        assert!(started.elapsed() < Duration::from_secs(10), "woken, not timed out");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_long_poll_wakes_when_a_delayed_message_becomes_visible() {
        let q = Queues::open_in_memory("000000000000").unwrap();
        let queue = queue(&q, &[("DelaySeconds", "1")]).await;
        q.send(&queue, NewMessage::body("soon")).await.unwrap();
        let started = tokio::time::Instant::now();
        let got = q.receive(&queue, 1, None, Duration::from_secs(10)).await.unwrap();
        assert_eq!(got[0].body, "soon");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_empty_long_poll_ends_at_its_wait_or_at_close() {
        let q = Queues::open_in_memory("000000000000").unwrap();
        let queue = queue(&q, &[]).await;
        let started = tokio::time::Instant::now();
        assert!(q.receive(&queue, 1, None, Duration::from_millis(300)).await.unwrap().is_empty());
        assert!(started.elapsed() >= Duration::from_millis(300));
        let waiting = {
            let (q, queue) = (q.clone(), queue.clone());
            tokio::spawn(async move { q.receive(&queue, 1, None, Duration::from_secs(20)).await })
        };
        q.close();
        assert!(waiting.await.unwrap().unwrap().is_empty());
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}
