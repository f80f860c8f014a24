//! One SQS mapping's poller: gathers batches as AWS does (`BatchSize`,
//! `MaximumBatchingWindowInSeconds`, the 6 MB payload limit), drops the
//! messages no filter matches, invokes the function synchronously with the
//! batch, and deletes what succeeded (all, or all but the
//! `batchItemFailures` a `ReportBatchItemFailures` mapping reports). What
//! failed stays in flight until the queue's visibility timeout returns it,
//! and its redrive policy moves it to a dead-letter queue after
//! `maxReceiveCount` receives, as on AWS.
//!
//! Concurrency follows the backlog: [`RECEIVERS`] receivers each receive
//! again as soon as a batch is handed off, up to
//! `ScalingConfig.MaximumConcurrency` batches in flight (or
//! [`DEFAULT_MAXIMUM_CONCURRENCY`]); an idle queue holds their long polls.
//! The function's reserved concurrency still applies: a throttled batch is
//! retried with backoff while its messages are still in flight.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use lambdabox_invoker::{InvokeError, Invoker};
use lambdabox_model::Region;
use lambdabox_model::event_source::EventSourceMapping;
use lambdabox_model::filter::{Pattern, sqs_view};
use serde_json::Value;
use tokio::sync::{Semaphore, watch};

use crate::batch::{BatchVerdict, verdict};
use crate::record::{Message, event, sqs_record};
use crate::source::QueueSource;

/// Without `ScalingConfig`, how many batches one mapping has in flight at
/// most (AWS scales SQS pollers up to 1,250 concurrent invocations; the
/// function's and account's concurrency bound it first).
pub const DEFAULT_MAXIMUM_CONCURRENCY: usize = 1250;

/// A synchronous invocation's payload limit (6 MB), less room for the
/// records' own fields.
const PAYLOAD_LIMIT: usize = 6 * 1024 * 1024 - 64 * 1024;

/// The longest one receive waits for a message (SQS's long-poll maximum).
const LONG_POLL: Duration = Duration::from_secs(20);

/// How long the poller waits after a failure to read the queue or find
/// the function before it tries again.
const TROUBLE_WAIT: Duration = Duration::from_secs(1);

/// How many receives one mapping keeps going at once (AWS starts an SQS
/// mapping with five pollers): with a backlog, batches are received while
/// earlier ones are still being committed or invoked; an idle queue holds
/// this many long polls, each a waiter on the queue's notification.
pub const RECEIVERS: usize = 5;

/// Runs `mapping` until `stop` turns true.
pub async fn run(invoker: Arc<Invoker>, source: QueueSource, mapping: EventSourceMapping, stop: watch::Receiver<bool>) {
    let limit = mapping.maximum_concurrency.map_or(DEFAULT_MAXIMUM_CONCURRENCY, |c| c as usize);
    let permits = Arc::new(Semaphore::new(limit.max(1)));
    let shared = Arc::new(Shared { invoker, source, patterns: mapping.patterns(), mapping });
    let receivers: Vec<_> = (0..RECEIVERS.min(limit.max(1)))
        .map(|_| tokio::spawn(receive_loop(Arc::clone(&shared), Arc::clone(&permits), stop.clone())))
        .collect();
    for r in receivers {
        let _ = r.await;
    }
}

/// What a mapping's receivers and deliveries share.
struct Shared {
    invoker: Arc<Invoker>,
    source: QueueSource,
    mapping: EventSourceMapping,
    patterns: Vec<Pattern>,
}

/// One receiver: takes a concurrency permit, gathers a batch, hands it to a
/// delivery task holding the permit, and goes round again.
async fn receive_loop(shared: Arc<Shared>, permits: Arc<Semaphore>, mut stop: watch::Receiver<bool>) {
    loop {
        let permit = tokio::select! {
            p = Arc::clone(&permits).acquire_owned() => p.expect("the semaphore is never closed"),
            _ = stop.wait_for(|s| *s) => return,
        };
        let batch = tokio::select! {
            b = gather(&shared.source, &shared.mapping) => b,
            _ = stop.wait_for(|s| *s) => return,
        };
        let batch = match batch {
            Ok(b) if b.is_empty() => continue,
            Ok(b) => b,
            Err(error) => {
                tracing::warn!(uuid = %shared.mapping.uuid, %error, "cannot receive from the mapping's queue");
                tokio::select! {
                    _ = tokio::time::sleep(TROUBLE_WAIT) => continue,
                    _ = stop.wait_for(|s| *s) => return,
                }
            }
        };
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            deliver(&shared.invoker, &shared.source, &shared.mapping, &shared.patterns, batch).await;
            drop(permit);
        });
    }
}

/// Receives one batch: what one receive returns when there is no batching
/// window, else until the batch is full, the window has passed since the
/// first message, or the payload limit is near.
async fn gather(source: &QueueSource, mapping: &EventSourceMapping) -> Result<Vec<Message>, String> {
    let size = mapping.batch_size as usize;
    let mut batch = Vec::new();
    let mut bytes = 0;
    let first = source.receive(size.min(10), LONG_POLL).await?;
    take_within_limit(source, &mut batch, &mut bytes, first).await;
    if batch.is_empty() || mapping.maximum_batching_window_in_seconds == 0 {
        return Ok(batch);
    }
    let deadline = Instant::now() + Duration::from_secs(u64::from(mapping.maximum_batching_window_in_seconds));
    while batch.len() < size && bytes < PAYLOAD_LIMIT {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        let more = source.receive((size - batch.len()).min(10), left.min(LONG_POLL)).await?;
        if !take_within_limit(source, &mut batch, &mut bytes, more).await {
            break;
        }
    }
    Ok(batch)
}

/// Adds received messages to the batch while it stays under the payload
/// limit (the first always fits); returns the others to the queue at once
/// and says whether all fitted.
async fn take_within_limit(
    source: &QueueSource,
    batch: &mut Vec<Message>,
    bytes: &mut usize,
    received: Vec<Message>,
) -> bool {
    let mut all = true;
    for m in received {
        let size = m.body.len() + 1024;
        if !batch.is_empty() && *bytes + size > PAYLOAD_LIMIT {
            source.release(&m.receipt_handle).await;
            all = false;
            continue;
        }
        *bytes += size;
        batch.push(m);
    }
    all
}

/// Filters, invokes and settles one batch.
async fn deliver(
    invoker: &Invoker,
    source: &QueueSource,
    mapping: &EventSourceMapping,
    patterns: &[Pattern],
    batch: Vec<Message>,
) {
    let region = Region::parse(&mapping.region).unwrap_or_default();
    let mut kept = Vec::with_capacity(batch.len());
    let mut dropped = Vec::new();
    for message in batch {
        let record = sqs_record(&message, source.arn(), region.as_str());
        if patterns.is_empty() || patterns.iter().any(|p| p.matches(&sqs_view(&record))) {
            kept.push((message, record));
        } else {
            // AWS deletes the messages no filter matches.
            dropped.push(message.receipt_handle);
        }
    }
    source.delete(dropped).await;
    if kept.is_empty() {
        return;
    }
    let records: Vec<Value> = kept.iter().map(|(_, r)| r.clone()).collect();
    let payload = Bytes::from(event(&records).to_string());
    let received = Instant::now();
    let visibility = Duration::from_secs(u64::from(source.visibility_timeout()));
    let mut backoff = Duration::from_millis(50);
    let outcome = loop {
        let function = match invoker.resolve(&region, &mapping.function_name, mapping.qualifier.as_deref()).await {
            Ok(f) => f,
            Err(error) => {
                tracing::warn!(uuid = %mapping.uuid, %error, "the mapping's function cannot be resolved");
                return;
            }
        };
        let request_id = uuid::Uuid::new_v4().to_string();
        match invoker.run(request_id, function, region.clone(), payload.clone(), None).await {
            Err(InvokeError::Throttled(_)) if received.elapsed() + backoff < visibility => {
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
            Err(error) => {
                tracing::warn!(uuid = %mapping.uuid, %error, "a batch could not be invoked");
                return;
            }
            Ok(done) => break done.result.outcome,
        }
    };
    let ids: Vec<&str> = kept.iter().map(|(m, _)| m.message_id.as_str()).collect();
    let response = if outcome.is_error() { Bytes::new() } else { outcome.payload("") };
    let done: Vec<String> = match verdict(!outcome.is_error(), &response, mapping.reports_item_failures(), &ids) {
        BatchVerdict::AllDone => kept.into_iter().map(|(m, _)| m.receipt_handle).collect(),
        BatchVerdict::Failed(failed) => {
            kept.into_iter().filter(|(m, _)| !failed.contains(&m.message_id)).map(|(m, _)| m.receipt_handle).collect()
        }
        BatchVerdict::AllFailed => Vec::new(),
    };
    source.delete(done).await;
}
