//! The firing loop and delivery to targets.
//!
//! One tokio task sleeps until the earliest fire time in the store (or at
//! most [`MAX_SLEEP`], so a wall-clock step is caught up with), or until a
//! schedule changes ([`crate::Scheduler::wake`]); then it takes every due
//! schedule in one transaction ([`ScheduleStore::take_due`]) and delivers
//! each firing in a task of its own, through the [`Target`] the binary
//! provides. A delivery that fails in a way worth retrying is retried with
//! exponential backoff while the retry policy allows (`MaximumRetryAttempts`
//! retries, no later than `MaximumEventAgeInSeconds` after the scheduled
//! time); the firing's row is removed once the target accepted it or the
//! policy gave up; a firing the policy gave up on goes to the target's
//! `DeadLetterConfig` queue, if it has one ([`Target::dead_letter`]): the
//! input as the body, with what went wrong as message attributes.
//!
//! The target's input is the schedule's `Input` with AWS's context
//! attributes replaced (`<aws.scheduler.schedule-arn>`,
//! `<aws.scheduler.scheduled-time>`, `<aws.scheduler.execution-id>`,
//! `<aws.scheduler.attempt-number>`).

use std::sync::Arc;
use std::time::Duration;

use crate::model::with_context_attributes;
use crate::store::{Firing, ScheduleStore};
use crate::{Inner, SchedulerError};

/// The longest the loop sleeps without looking at the clock again.
pub const MAX_SLEEP: Duration = Duration::from_secs(3600);

/// The first retry's wait; each further retry waits twice as long, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// What a schedule invokes: the binary implements it (a Lambda function
/// through the asynchronous invocation queue).
#[async_trait::async_trait]
pub trait Target: Send + Sync {
    /// Invokes `arn` once with `input`: the schedule's `Input` with its
    /// context attributes replaced, or `None` when it has none (the target
    /// decides what AWS's "default notification" is for its kind).
    async fn invoke(&self, arn: &str, input: Option<String>, region: &str) -> Result<(), TargetError>;

    /// Sends a firing that was not delivered to the dead-letter queue
    /// `queue_arn`, with String message attributes.
    async fn dead_letter(&self, queue_arn: &str, body: String, attributes: Vec<(String, String)>)
    -> Result<(), String>;
}

/// Why a firing went to the dead-letter queue.
enum Exhausted<'a> {
    Age,
    Attempts(&'a TargetError),
}

/// Sends an undelivered firing to the target's dead-letter queue (its
/// `DeadLetterConfig.Arn`), if it has one: the input as the body, and the
/// error, the retry condition exhausted, the retries made, the schedule
/// and the target as message attributes.
async fn to_dead_letter_queue(target: &dyn Target, firing: &Firing, exhausted: Exhausted<'_>, attempts: u32) {
    let Some(queue) = firing.target.dead_letter_config.as_ref().and_then(|c| c.get("Arn")).and_then(|a| a.as_str())
    else {
        return;
    };
    let (code, message, condition) = match exhausted {
        Exhausted::Age => (
            "AWS.Scheduler.MaximumEventAgeExhausted".to_owned(),
            "The event is older than the retry policy's MaximumEventAgeInSeconds".to_owned(),
            "MaximumEventAgeInSeconds",
        ),
        Exhausted::Attempts(error) => {
            let code = match error {
                TargetError::Unsupported { .. } => "AWS.Scheduler.InvalidArn",
                TargetError::Rejected { .. } => "AWS.Scheduler.TargetInvocationFailed",
                TargetError::Unavailable { .. } => "AWS.Scheduler.TargetUnavailable",
            };
            (code.to_owned(), error.to_string(), "MaximumRetryAttempts")
        }
    };
    let attributes = vec![
        ("ERROR_CODE".to_owned(), code),
        ("ERROR_MESSAGE".to_owned(), message),
        ("EXHAUSTED_RETRY_CONDITION".to_owned(), condition.to_owned()),
        ("RETRY_ATTEMPTS".to_owned(), attempts.saturating_sub(1).to_string()),
        ("SCHEDULE_ARN".to_owned(), firing.schedule_arn.clone()),
        ("TARGET_ARN".to_owned(), firing.target.arn.clone()),
    ];
    let body = firing.target.input.clone().unwrap_or_else(|| "{}".to_owned());
    if let Err(error) = target.dead_letter(queue, body, attributes).await {
        tracing::warn!(schedule = firing.schedule_arn, queue, %error, "cannot send to the dead-letter queue");
    }
}

/// Why a target did not take a firing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// An ARN of a kind Lambdabox cannot invoke (not retried).
    #[error("{arn} is not a target Lambdabox can invoke (Lambda functions only)")]
    Unsupported { arn: String },
    /// The target refused for good: no such function, say (not retried).
    #[error("{message}")]
    Rejected { message: String },
    /// A failure worth retrying: throttled, the queue busy.
    #[error("{message}")]
    Unavailable { message: String },
}

impl TargetError {
    pub fn retryable(&self) -> bool {
        matches!(self, Self::Unavailable { .. })
    }
}

pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A new execution id: 16 hex digits, like AWS's.
pub(crate) fn execution_id() -> String {
    format!("{:016x}", uuid::Uuid::new_v4().as_u128() as u64)
}

/// Runs a store call off the async workers.
pub(crate) async fn blocking<T: Send + 'static>(
    inner: &Arc<Inner>,
    f: impl FnOnce(&ScheduleStore) -> Result<T, SchedulerError> + Send + 'static,
) -> Result<T, SchedulerError> {
    let inner = inner.clone();
    tokio::task::spawn_blocking(move || f(&inner.store)).await.expect("store calls do not panic")
}

/// The loop: fire what is due, sleep until the next, repeat.
pub(crate) async fn run(inner: Arc<Inner>, target: Arc<dyn Target>) {
    loop {
        match blocking(&inner, |s| s.take_due(now_ms())).await {
            Ok(firings) => {
                for firing in firings {
                    tokio::spawn(deliver(inner.clone(), target.clone(), firing));
                }
            }
            Err(error) => {
                tracing::error!(%error, "taking the due schedules failed; trying again in a second");
                tokio::time::sleep(FIRST_BACKOFF).await;
                continue;
            }
        }
        let wait = match blocking(&inner, |s| s.earliest_fire()).await {
            Ok(Some(t)) => Duration::from_millis(t.saturating_sub(now_ms()).max(0) as u64).min(MAX_SLEEP),
            Ok(None) => MAX_SLEEP,
            Err(error) => {
                tracing::error!(%error, "reading the next fire time failed");
                FIRST_BACKOFF
            }
        };
        if wait.is_zero() {
            continue;
        }
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = inner.wake.notified() => {}
        }
    }
}

/// Delivers one firing under its retry policy, then removes it.
pub(crate) async fn deliver(inner: Arc<Inner>, target: Arc<dyn Target>, firing: Firing) {
    let policy = &firing.target.retry_policy;
    let deadline = firing.scheduled_ms + i64::from(policy.maximum_event_age_in_seconds) * 1000;
    let arn = &firing.schedule_arn;
    let mut attempt: u32 = 1;
    let mut backoff = FIRST_BACKOFF;
    loop {
        if now_ms() > deadline {
            tracing::warn!(
                schedule = arn,
                target = firing.target.arn,
                dead_letter = ?firing.target.dead_letter_config,
                "firing dropped: older than the retry policy's MaximumEventAgeInSeconds"
            );
            to_dead_letter_queue(target.as_ref(), &firing, Exhausted::Age, attempt).await;
            break;
        }
        let execution = execution_id();
        let input = firing
            .target
            .input
            .as_deref()
            .map(|i| with_context_attributes(i, arn, firing.scheduled_ms, &execution, attempt));
        match target.invoke(&firing.target.arn, input, &firing.region).await {
            Ok(()) => {
                tracing::info!(schedule = arn, target = firing.target.arn, execution, attempt, "schedule fired");
                break;
            }
            Err(error) if error.retryable() && attempt <= policy.maximum_retry_attempts => {
                tracing::info!(schedule = arn, %error, attempt, "target unavailable; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                attempt += 1;
            }
            Err(error) => {
                tracing::warn!(
                    schedule = arn,
                    target = firing.target.arn,
                    %error,
                    attempt,
                    dead_letter = ?firing.target.dead_letter_config,
                    "firing not delivered"
                );
                to_dead_letter_queue(target.as_ref(), &firing, Exhausted::Attempts(&error), attempt).await;
                break;
            }
        }
    }
    let id = firing.id;
    if let Err(error) = blocking(&inner, move |s| s.done(id)).await {
        tracing::error!(%error, schedule = arn, "could not remove a delivered firing; it will be delivered again");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn execution_ids_are_sixteen_hex_digits() {
        let id = execution_id();
        assert_eq!(id.len(), 16);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    }

    #[test]
    fn only_unavailability_is_retried() {
        assert!(TargetError::Unavailable { message: "x".into() }.retryable());
        assert!(!TargetError::Rejected { message: "x".into() }.retryable());
        assert!(!TargetError::Unsupported { arn: "x".into() }.retryable());
    }
}
