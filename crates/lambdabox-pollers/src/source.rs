//! The pollers' view of the built-in SQS queues: [`QueueSource`] reads and
//! settles one mapping's queue; [`QueueCatalog`] answers the control
//! plane's questions about a queue ARN; [`QueueDestinations`] sends
//! asynchronous invocations' destination records and dead letters to queues.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use lambdabox_control::{EventSourceCatalog, SourceInfo, SourceProblem};
use lambdabox_invoker::QueueSink;
use lambdabox_queues::{MessageAttributeValue, NewMessage, Queue, QueueError, Queues};

use crate::record::{Message, MessageAttribute};

/// One mapping's queue. A queue deleted and created again under the same
/// name is found again by its ARN.
pub(crate) struct QueueSource {
    queues: Arc<Queues>,
    queue: Mutex<Queue>,
    arn: String,
}

fn base64(bytes: &[u8]) -> String {
    lambdabox_queues::message::base64_encode(bytes)
}

impl QueueSource {
    /// The queue an ARN names, if it exists.
    pub(crate) async fn open(queues: Arc<Queues>, arn: &str) -> Option<Self> {
        let queue = queues.queue_by_arn(arn).await.ok().flatten()?;
        Some(Self { queues, queue: Mutex::new(queue), arn: arn.to_owned() })
    }

    pub(crate) fn arn(&self) -> &str {
        &self.arn
    }

    fn queue(&self) -> Queue {
        self.queue.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Looks the queue up again after it was deleted.
    async fn reopen(&self) -> Result<Queue, String> {
        match self.queues.queue_by_arn(&self.arn).await {
            Ok(Some(q)) => {
                *self.queue.lock().unwrap_or_else(|p| p.into_inner()) = q.clone();
                Ok(q)
            }
            Ok(None) => Err(format!("the queue {} does not exist", self.arn)),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Up to `max` (1..=10) messages, waiting up to `wait` for the first,
    /// under the queue's own visibility timeout.
    pub(crate) async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<Message>, String> {
        let mut queue = self.queue();
        let mut received = self.queues.receive(&queue, max, None, wait).await;
        if let Err(QueueError::NonExistentQueue) = received {
            queue = self.reopen().await?;
            received = self.queues.receive(&queue, max, None, wait).await;
        }
        let received = received.map_err(|e| e.to_string())?;
        Ok(received
            .into_iter()
            .map(|r| Message {
                message_id: r.message_id,
                receipt_handle: r.receipt_handle,
                body: r.body,
                md5_of_body: r.md5_of_body,
                md5_of_message_attributes: r.md5_of_message_attributes,
                attributes: r.attributes,
                message_attributes: r
                    .message_attributes
                    .into_iter()
                    .map(|(k, v)| {
                        let attribute = MessageAttribute {
                            data_type: v.data_type,
                            string_value: v.string_value,
                            binary_value: v.binary_value.as_deref().map(base64),
                        };
                        (k, attribute)
                    })
                    .collect(),
            })
            .collect())
    }

    /// Deletes messages by receipt handle, in one commit.
    pub(crate) async fn delete(&self, handles: Vec<String>) {
        if handles.is_empty() {
            return;
        }
        match self.queues.delete_batch(&self.queue(), handles).await {
            Ok(results) => {
                for error in results.into_iter().filter_map(Result::err) {
                    tracing::warn!(arn = %self.arn, %error, "a processed message could not be deleted");
                }
            }
            Err(error) => tracing::warn!(arn = %self.arn, %error, "processed messages could not be deleted"),
        }
    }

    /// Makes a received message visible again at once.
    pub(crate) async fn release(&self, handle: &str) {
        if let Err(error) = self.queues.change_visibility(&self.queue(), handle, 0).await {
            tracing::warn!(arn = %self.arn, %error, "a message could not be returned to its queue");
        }
    }

    /// The queue's visibility timeout, in seconds.
    pub(crate) fn visibility_timeout(&self) -> u32 {
        self.queue().visibility_timeout()
    }
}

/// Tells the control plane what a queue ARN is.
pub struct QueueCatalog(pub Arc<Queues>);

#[async_trait]
impl EventSourceCatalog for QueueCatalog {
    async fn describe(&self, arn: &str) -> Result<SourceInfo, SourceProblem> {
        match self.0.queue_by_arn(arn).await {
            Ok(Some(q)) => Ok(SourceInfo { fifo: q.fifo, visibility_timeout: q.visibility_timeout() }),
            Ok(None) => Err(SourceProblem::QueueNotFound),
            Err(error) => {
                tracing::error!(%error, arn, "cannot look a queue up");
                Err(SourceProblem::QueueNotFound)
            }
        }
    }
}

/// Sends destination records and dead letters to queues.
pub struct QueueDestinations(pub Arc<Queues>);

#[async_trait]
impl QueueSink for QueueDestinations {
    async fn send(&self, queue_arn: &str, body: String, attributes: Vec<(String, String)>) -> Result<(), String> {
        let queue = match self.0.queue_by_arn(queue_arn).await {
            Ok(Some(q)) => q,
            Ok(None) => return Err(format!("the queue {queue_arn} does not exist")),
            Err(e) => return Err(e.to_string()),
        };
        let mut message = NewMessage::body(body);
        message.attributes = attributes.into_iter().map(|(k, v)| (k, MessageAttributeValue::string(v))).collect();
        if queue.fifo {
            // AWS does not deliver to FIFO queues; a group keeps them in order here.
            message.group_id = Some("lambda".into());
            message.dedup_id = Some(uuid::Uuid::new_v4().simple().to_string());
        }
        self.0.send(&queue, message).await.map(|_| ()).map_err(|e| e.to_string())
    }
}
