//! The asynchronous workers: a dispatcher claims due events from the queue
//! and runs each on a worker, bounded by [`InvokerConfig::workers`].

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use lambdabox_control::ControlError;
use lambdabox_model::{FunctionRef, Region};
use lambdabox_store::QueuedEvent;
use tokio::sync::Semaphore;

use crate::destination::{Condition, record};
use crate::{InvokeError, Invoker, InvokerConfig, now_ms};

/// How long a throttled event waits before it is tried again.
const THROTTLED_WAIT: Duration = Duration::from_millis(200);

/// The longest the dispatcher sleeps before looking at the queue again.
const IDLE_POLL: Duration = Duration::from_secs(1);

impl Invoker {
    /// Puts events a crash interrupted back in the queue and starts the
    /// dispatcher. Returns how many events were requeued.
    pub async fn start_workers(self: &Arc<Self>) -> Result<usize, InvokeError> {
        let queue = Arc::clone(&self.queue);
        let requeued = tokio::task::spawn_blocking(move || queue.requeue_in_flight())
            .await
            .expect("queue calls do not panic")
            .map_err(InvokeError::Queue)?;
        tokio::spawn(Arc::clone(self).dispatch());
        Ok(requeued)
    }

    async fn dispatch(self: Arc<Self>) {
        let slots = Arc::new(Semaphore::new(self.config.workers.max(1)));
        loop {
            let free = slots.available_permits();
            let claimed = if free == 0 {
                Vec::new()
            } else {
                let queue = Arc::clone(&self.queue);
                match tokio::task::spawn_blocking(move || queue.claim_due(now_ms(), free)).await {
                    Ok(Ok(events)) => events,
                    Ok(Err(error)) => {
                        tracing::error!(%error, "cannot claim queued events");
                        Vec::new()
                    }
                    Err(_) => Vec::new(),
                }
            };
            if claimed.is_empty() {
                let queue = Arc::clone(&self.queue);
                let next =
                    tokio::task::spawn_blocking(move || queue.next_due_ms()).await.ok().and_then(Result::ok).flatten();
                let wait = match next {
                    Some(due) if free > 0 => {
                        Duration::from_millis((due - now_ms()).clamp(0, IDLE_POLL.as_millis() as i64) as u64)
                    }
                    _ => IDLE_POLL,
                };
                if wait.is_zero() && free > 0 {
                    continue;
                }
                tokio::select! {
                    _ = self.wake.notified() => {}
                    _ = tokio::time::sleep(wait) => {}
                }
                continue;
            }
            for event in claimed {
                let permit = Arc::clone(&slots).acquire_owned().await.expect("the semaphore is never closed");
                let this = Arc::clone(&self);
                tokio::spawn(async move {
                    this.process(event).await;
                    drop(permit);
                    this.wake.notify_one();
                });
            }
        }
    }

    /// Runs one event and decides its fate: done, retried, or failed over to
    /// the destinations.
    async fn process(&self, event: QueuedEvent) {
        let QueuedEvent { id, event: e, attempts } = event;
        let region = Region::parse(&e.region).unwrap_or_default();
        let function = match self.resolve(&region, &e.function_name, e.qualifier.as_deref()).await {
            Ok(f) => f,
            Err(InvokeError::Control(ControlError::FunctionNotFound { .. })) => {
                self.finish_failed(id, "the function no longer exists").await;
                return;
            }
            Err(error) => {
                tracing::warn!(%error, request_id = %e.request_id, "cannot resolve a queued event; retrying");
                self.retry(id, attempts).await;
                return;
            }
        };
        let qualifier = e.qualifier.clone().unwrap_or_else(|| "$LATEST".into());
        let settings = match self.control.effective_event_invoke_config(&function.config.name, &qualifier).await {
            Ok(s) => s,
            Err(error) => {
                tracing::warn!(%error, "cannot read event invoke config; using defaults");
                Default::default()
            }
        };
        let function_arn = format!(
            "{}:{}",
            lambdabox_model::arn::function_arn(&region, self.control.account(), function.config.name.as_str()),
            function.config.version
        );
        let age_ms = now_ms() - e.enqueued_ms;
        if age_ms > i64::from(settings.max_age_seconds()) * 1000 {
            let r = record(&e.request_id, &function_arn, Condition::EventAgeExceeded, attempts, &e.payload, None);
            self.deliver(&region, settings.on_failure.as_deref(), r).await;
            self.dead_letter(&region, &function.config, &e.payload, &e.request_id, None).await;
            self.finish_failed(id, "maximum event age exceeded").await;
            return;
        }
        let invoked = self
            .run(e.request_id.clone(), function.clone(), region.clone(), Bytes::from(e.payload.clone()), None)
            .await;
        if let Err(InvokeError::Throttled(_)) = invoked {
            // Throttled events wait in the queue; the attempt does not count.
            self.postpone(id).await;
            return;
        }
        let runs = attempts + 1;
        match invoked {
            Ok(done) if !done.result.outcome.is_error() => {
                if settings.on_success.is_some() {
                    let r = record(
                        &e.request_id,
                        &function_arn,
                        Condition::Success,
                        runs,
                        &e.payload,
                        Some((&done.result.executed_version, &done.result.outcome)),
                    );
                    self.deliver(&region, settings.on_success.as_deref(), r).await;
                }
                self.complete(id).await;
            }
            Ok(_) | Err(_) if runs <= settings.retries() => self.retry(id, attempts).await,
            outcome => {
                let response = outcome.as_ref().ok().map(|d| (d.result.executed_version.as_str(), &d.result.outcome));
                let r = record(&e.request_id, &function_arn, Condition::RetriesExhausted, runs, &e.payload, response);
                self.deliver(&region, settings.on_failure.as_deref(), r).await;
                let error = outcome.as_ref().ok().map(|d| &d.result.outcome);
                self.dead_letter(&region, &function.config, &e.payload, &e.request_id, error).await;
                self.finish_failed(id, "retries exhausted").await;
            }
        }
    }

    /// Sends a record to a destination (a function or a queue).
    async fn deliver(&self, region: &Region, destination: Option<&str>, record: serde_json::Value) {
        let Some(arn) = destination else { return };
        self.send_to(region, arn, Bytes::from(record.to_string()), Vec::new()).await;
    }

    /// Sends the original event to the function's dead-letter queue or
    /// function; a queue's message carries AWS's `RequestID`, `ErrorCode`
    /// and `ErrorMessage` attributes.
    async fn dead_letter(
        &self,
        region: &Region,
        config: &lambdabox_model::FunctionConfig,
        payload: &[u8],
        request_id: &str,
        error: Option<&lambdabox_engine::Outcome>,
    ) {
        let Some(arn) = &config.dead_letter_target_arn else { return };
        let mut attributes = vec![("RequestID".to_owned(), request_id.to_owned())];
        if let Some(outcome) = error {
            attributes.push(("ErrorCode".to_owned(), "200".to_owned()));
            let body = outcome.payload(request_id);
            let message = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v.get("errorMessage").and_then(|m| m.as_str()).map(str::to_owned))
                .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
            // AWS keeps the first kilobyte.
            attributes.push(("ErrorMessage".to_owned(), message.chars().take(1024).collect()));
        }
        self.send_to(region, arn, Bytes::copy_from_slice(payload), attributes).await;
    }

    async fn send_to(&self, region: &Region, arn: &str, payload: Bytes, attributes: Vec<(String, String)>) {
        if lambdabox_control::is_queue_arn(arn) {
            let Some(sink) = self.queue_sink() else {
                tracing::warn!(%arn, "no queues to deliver to");
                return;
            };
            let body = String::from_utf8_lossy(&payload).into_owned();
            if let Err(error) = sink.send(arn, body, attributes).await {
                tracing::warn!(%error, %arn, "cannot deliver to a queue");
            }
            return;
        }
        let Ok(target) = FunctionRef::parse(arn, "destination") else {
            tracing::warn!(%arn, "destination is neither a function nor a queue ARN");
            return;
        };
        let qualifier = target.qualifier.as_ref().map(|q| q.to_string());
        let sent = async {
            let function = self.resolve(region, target.name.as_str(), qualifier.as_deref()).await?;
            self.enqueue(&function, qualifier.as_deref(), region, payload).await
        };
        if let Err(error) = sent.await {
            tracing::warn!(%error, %arn, "cannot deliver to destination");
        }
    }

    async fn complete(&self, id: i64) {
        if let Err(error) = self.writer.complete(id).await {
            tracing::error!(%error, id, "cannot remove a finished event");
        }
    }

    async fn retry(&self, id: i64, attempts: u32) {
        let delay = retry_delay(&self.config, attempts);
        let due = now_ms() + delay.as_millis() as i64;
        let queue = Arc::clone(&self.queue);
        if let Ok(Err(error)) = tokio::task::spawn_blocking(move || queue.retry(id, due)).await {
            tracing::error!(%error, id, "cannot reschedule an event");
        }
    }

    async fn postpone(&self, id: i64) {
        let due = now_ms() + THROTTLED_WAIT.as_millis() as i64;
        let queue = Arc::clone(&self.queue);
        if let Ok(Err(error)) = tokio::task::spawn_blocking(move || queue.postpone(id, due)).await {
            tracing::error!(%error, id, "cannot postpone a throttled event");
        }
    }

    async fn finish_failed(&self, id: i64, reason: &'static str) {
        let queue = Arc::clone(&self.queue);
        if let Ok(Err(error)) = tokio::task::spawn_blocking(move || queue.fail(id, now_ms(), reason)).await {
            tracing::error!(%error, id, "cannot record a failed event");
        }
    }
}

/// The wait before retry number `attempts + 1`: the base, doubled each time.
pub(crate) fn retry_delay(config: &InvokerConfig, attempts: u32) -> Duration {
    config.retry_base.saturating_mul(1 << attempts.min(10))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles() {
        let c = InvokerConfig { workers: 1, retry_base: Duration::from_secs(60) };
        assert_eq!(retry_delay(&c, 0), Duration::from_secs(60));
        assert_eq!(retry_delay(&c, 1), Duration::from_secs(120));
    }
}
