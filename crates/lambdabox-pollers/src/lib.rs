//! Event source mappings at work. [`Pollers`] keeps one poller task per
//! enabled mapping (started from the store at start-up, restarted or
//! stopped on every [`Change::EventSourceMappingChanged`]); each polls its
//! SQS queue (`sqs.rs`) and invokes the function through the [`Invoker`],
//! as Lambda's pollers do. [`QueueCatalog`] tells the control plane what a
//! queue ARN is when a mapping is created.
//!
//! A mapping keeps no state of its own beyond its settings: the messages
//! stay in the queue's durable store until a batch succeeds, so a crash
//! loses nothing and re-delivers what was in flight (SQS's at-least-once).

mod batch;
mod record;
mod source;
mod sqs;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use lambdabox_control::{Change, ChangeListener};
use lambdabox_invoker::Invoker;
use lambdabox_model::event_source::EventSourceMapping;
use lambdabox_queues::Queues;
use tokio::sync::watch;

pub use batch::{BatchVerdict, verdict};
pub use record::{Message, MessageAttribute, event, sqs_record};
use source::QueueSource;
pub use source::{QueueCatalog, QueueDestinations};
pub use sqs::DEFAULT_MAXIMUM_CONCURRENCY;

/// The running pollers, by mapping UUID.
pub struct Pollers {
    invoker: Arc<Invoker>,
    queues: Arc<Queues>,
    running: Mutex<HashMap<String, watch::Sender<bool>>>,
}

impl Pollers {
    pub fn new(invoker: Arc<Invoker>, queues: Arc<Queues>) -> Arc<Self> {
        Arc::new(Self { invoker, queues, running: Mutex::default() })
    }

    /// Starts a poller for every enabled mapping in the store; returns how many.
    pub async fn start(self: &Arc<Self>) -> Result<usize, lambdabox_control::ControlError> {
        let mappings = self.invoker.control().all_event_source_mappings().await?;
        let mut started = 0;
        for mapping in mappings {
            if self.restart(Some(mapping.clone()), &mapping.uuid).await {
                started += 1;
            }
        }
        Ok(started)
    }

    /// Stops the poller of `uuid`, if any, and starts one for `mapping` if
    /// it is enabled. Returns whether one was started.
    async fn restart(&self, mapping: Option<EventSourceMapping>, uuid: &str) -> bool {
        let previous = self.lock().remove(uuid);
        if let Some(stop) = previous {
            let _ = stop.send(true);
        }
        let Some(mapping) = mapping.filter(|m| m.enabled) else { return false };
        let (stop, stopped) = watch::channel(false);
        self.lock().insert(uuid.to_owned(), stop);
        let (invoker, queues) = (Arc::clone(&self.invoker), Arc::clone(&self.queues));
        tokio::spawn(async move {
            if let Some(source) = find_queue(queues, &mapping, stopped.clone()).await {
                sqs::run(invoker, source, mapping, stopped).await;
            }
        });
        true
    }

    /// How many pollers run.
    pub fn running(&self) -> usize {
        self.lock().len()
    }

    /// Stops every poller (server shutdown).
    pub fn stop_all(&self) {
        for (_, stop) in self.lock().drain() {
            let _ = stop.send(true);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, watch::Sender<bool>>> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// How often a mapping whose queue does not exist looks for it again.
const QUEUE_LOOKUP: std::time::Duration = std::time::Duration::from_secs(1);

/// The mapping's queue, once it exists (a queue deleted and created again
/// while the mapping stays, or one missing when the server starts); `None`
/// if the mapping is stopped first.
async fn find_queue(
    queues: Arc<Queues>,
    mapping: &EventSourceMapping,
    mut stopped: watch::Receiver<bool>,
) -> Option<QueueSource> {
    let mut warned = false;
    loop {
        if let Some(source) = QueueSource::open(Arc::clone(&queues), &mapping.event_source_arn).await {
            return Some(source);
        }
        if !warned {
            tracing::warn!(uuid = %mapping.uuid, arn = %mapping.event_source_arn, "the mapping's queue does not exist; polling once it does");
            warned = true;
        }
        tokio::select! {
            _ = tokio::time::sleep(QUEUE_LOOKUP) => {}
            _ = stopped.wait_for(|s| *s) => return None,
        }
    }
}

#[async_trait]
impl ChangeListener for Pollers {
    async fn changed(&self, change: &Change) {
        let Change::EventSourceMappingChanged { uuid, .. } = change else { return };
        match self.invoker.control().event_source_mapping(uuid).await {
            Ok(mapping) => {
                self.restart(mapping, uuid).await;
            }
            Err(error) => tracing::error!(%error, uuid, "cannot read a changed event source mapping"),
        }
    }
}
