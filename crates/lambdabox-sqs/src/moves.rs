//! Dead-letter queue redrive: StartMessageMoveTask, ListMessageMoveTasks
//! and CancelMessageMoveTask. A task moves the dead-letter queue's
//! available messages (to `DestinationArn`, or each back to the queue it
//! came from) when it starts, so it is `COMPLETED` by the time it is
//! listed; the tasks of this server's run are remembered (most recent
//! first), as AWS lists those of the last 14 days.

use std::sync::{Mutex, PoisonError};

use base64::Engine;
use lambdabox_queues::Queue;
use serde_json::{Value, json};

use crate::input::Input;
use crate::{ApiError, Ctx};

/// One move task.
#[derive(Debug, Clone)]
struct Task {
    handle: String,
    source_arn: String,
    destination_arn: Option<String>,
    rate: Option<u32>,
    moved: u64,
    started_ms: i64,
}

/// The move tasks started since the server started.
#[derive(Debug, Default)]
pub(crate) struct MoveTasks {
    tasks: Mutex<Vec<Task>>,
}

impl MoveTasks {
    /// The queue an ARN names, once the caller may `sqs:ACTION` on it.
    async fn queue(ctx: &Ctx, arn: &str, action: &str, member: &str) -> Result<Queue, ApiError> {
        let queue = ctx.queues.queue_by_arn(arn).await?;
        ctx.authorize(action, arn, queue.as_ref())?;
        queue.ok_or_else(|| {
            ApiError::not_found(format!("The resource that you specified for the {member} parameter doesn't exist."))
        })
    }

    pub async fn start(&self, ctx: &Ctx, input: &Input) -> Result<Value, ApiError> {
        let source_arn = input.required("SourceArn")?;
        let source = Self::queue(ctx, source_arn, "StartMessageMoveTask", "SourceArn").await?;
        let destination = match input.str("DestinationArn")? {
            Some(arn) => Some(Self::queue(ctx, arn, "SendMessage", "DestinationArn").await?),
            None => None,
        };
        let rate = input.int_in(
            "MaxNumberOfMessagesPerSecond",
            1,
            500,
            "MaxNumberOfMessagesPerSecond must be between 1 and 500.",
        )?;
        if ctx.queues.dead_letter_sources(&source).await?.is_empty() {
            return Err(ApiError::invalid("Source queue must be configured as a Dead Letter Queue."));
        }
        if destination.as_ref().is_some_and(|d| d.fifo != source.fifo) {
            return Err(ApiError::invalid("The destination queue must be of the same type as the source queue."));
        }
        let moved = ctx.queues.move_messages(&source, destination.as_ref()).await?;
        let handle = base64::engine::general_purpose::STANDARD
            .encode(json!({"taskId": uuid::Uuid::new_v4().to_string(), "sourceArn": source.arn}).to_string());
        let task = Task {
            handle: handle.clone(),
            source_arn: source.arn,
            destination_arn: destination.map(|d| d.arn),
            rate,
            moved,
            started_ms: chrono_now_ms(),
        };
        self.tasks.lock().unwrap_or_else(PoisonError::into_inner).insert(0, task);
        Ok(json!({"TaskHandle": handle}))
    }

    pub async fn list(&self, ctx: &Ctx, input: &Input) -> Result<Value, ApiError> {
        let source_arn = input.required("SourceArn")?;
        let source = Self::queue(ctx, source_arn, "ListMessageMoveTasks", "SourceArn").await?;
        let max = input.int_in("MaxResults", 1, 10, "MaxResults must be between 1 and 10.")?.unwrap_or(1) as usize;
        let tasks = self.tasks.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let results: Vec<Value> = tasks
            .iter()
            .filter(|t| t.source_arn == source.arn)
            .take(max)
            .map(|t| {
                let mut entry = json!({
                    "Status": "COMPLETED",
                    "SourceArn": t.source_arn,
                    "ApproximateNumberOfMessagesMoved": t.moved,
                    "ApproximateNumberOfMessagesToMove": t.moved,
                    "StartedTimestamp": t.started_ms,
                });
                if let Some(d) = &t.destination_arn {
                    entry["DestinationArn"] = json!(d);
                }
                if let Some(rate) = t.rate {
                    entry["MaxNumberOfMessagesPerSecond"] = json!(rate);
                }
                entry
            })
            .collect();
        Ok(json!({"Results": results}))
    }

    pub async fn cancel(&self, ctx: &Ctx, input: &Input) -> Result<Value, ApiError> {
        let handle = input.required("TaskHandle")?;
        let source_arn = base64::engine::general_purpose::STANDARD
            .decode(handle)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
            .and_then(|v| v["sourceArn"].as_str().map(str::to_owned))
            .ok_or_else(|| ApiError::invalid(format!("Value {handle} for parameter TaskHandle is invalid.")))?;
        Self::queue(ctx, &source_arn, "CancelMessageMoveTask", "SourceArn").await?;
        let known = self.tasks.lock().unwrap_or_else(PoisonError::into_inner).iter().any(|t| t.handle == handle);
        Err(if known {
            ApiError::not_found("The task has completed: only a running task can be cancelled.")
        } else {
            ApiError::not_found("The task handle does not name a message move task.")
        })
    }
}

fn chrono_now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::testing::Harness;

    #[tokio::test]
    async fn redrive_moves_a_dead_letter_queue_back() {
        let h = Harness::new();
        let dlq = h.ok("CreateQueue", json!({"QueueName": "dlq"})).await["QueueUrl"].clone();
        let policy =
            json!({"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:dlq", "maxReceiveCount": 1}).to_string();
        let src =
            h.ok("CreateQueue", json!({"QueueName": "src", "Attributes": {"RedrivePolicy": policy}})).await["QueueUrl"]
                .clone();
        h.ok("SendMessage", json!({"QueueUrl": src, "MessageBody": "m"})).await;
        let got = h.ok("ReceiveMessage", json!({"QueueUrl": src})).await;
        h.ok(
            "ChangeMessageVisibility",
            json!({"QueueUrl": src, "ReceiptHandle": got["Messages"][0]["ReceiptHandle"], "VisibilityTimeout": 0}),
        )
        .await;
        assert_eq!(h.ok("ReceiveMessage", json!({"QueueUrl": src})).await, json!({}), "moved to the DLQ");
        let not_dlq =
            h.err("StartMessageMoveTask", json!({"SourceArn": "arn:aws:sqs:us-east-1:000000000000:src"})).await;
        assert_eq!(not_dlq.code, "InvalidParameterValue");
        let missing =
            h.err("StartMessageMoveTask", json!({"SourceArn": "arn:aws:sqs:us-east-1:000000000000:nope"})).await;
        assert_eq!(missing.code, "ResourceNotFoundException");
        let task = h.ok("StartMessageMoveTask", json!({"SourceArn": "arn:aws:sqs:us-east-1:000000000000:dlq"})).await;
        let listed = h.ok("ListMessageMoveTasks", json!({"SourceArn": "arn:aws:sqs:us-east-1:000000000000:dlq"})).await;
        assert_eq!(listed["Results"][0]["Status"], "COMPLETED");
        assert_eq!(listed["Results"][0]["ApproximateNumberOfMessagesMoved"], 1);
        let back = h.ok("ReceiveMessage", json!({"QueueUrl": src})).await;
        assert_eq!(back["Messages"][0]["Body"], "m");
        let cancel = h.err("CancelMessageMoveTask", json!({"TaskHandle": task["TaskHandle"]})).await;
        assert_eq!(cancel.code, "ResourceNotFoundException");
        assert_eq!(h.ok("ReceiveMessage", json!({"QueueUrl": dlq})).await, json!({}));
    }
}
