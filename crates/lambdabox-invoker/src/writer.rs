//! Group commit for the event queue: enqueues (before each 202) and
//! completions (after each run) go to one writer task, which commits
//! everything that arrived while its previous commit ran in a single SQLite
//! transaction: one fsync for a group instead of one per event. Every caller
//! still waits for the commit that holds its write, so a 202 is only sent
//! once the event is durable.

use std::sync::Arc;

use lambdabox_store::{EventQueue, NewEvent, StoreError};
use tokio::sync::{mpsc, oneshot};

/// The most writes one transaction takes.
const MAX_BATCH: usize = 512;

enum Write {
    Enqueue(NewEvent, oneshot::Sender<Result<i64, StoreError>>),
    Complete(i64, oneshot::Sender<Result<(), StoreError>>),
}

/// The handle callers write through; the task starts with the first write.
pub(crate) struct QueueWriter {
    queue: Arc<EventQueue>,
    tx: std::sync::OnceLock<mpsc::UnboundedSender<Write>>,
}

impl QueueWriter {
    pub(crate) fn new(queue: Arc<EventQueue>) -> Self {
        Self { queue, tx: std::sync::OnceLock::new() }
    }

    fn sender(&self) -> &mpsc::UnboundedSender<Write> {
        self.tx.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(run(Arc::clone(&self.queue), rx));
            tx
        })
    }

    /// Commits an event; its id once durable.
    pub(crate) async fn enqueue(&self, event: NewEvent) -> Result<i64, StoreError> {
        let (reply, answer) = oneshot::channel();
        if self.sender().send(Write::Enqueue(event.clone(), reply)).is_err() {
            return blocking(&self.queue, move |q| q.enqueue(&event)).await;
        }
        match answer.await {
            Ok(result) => result,
            Err(_) => blocking(&self.queue, move |q| q.enqueue(&event)).await,
        }
    }

    /// Removes a finished event; returns once the removal is durable.
    pub(crate) async fn complete(&self, id: i64) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        if self.sender().send(Write::Complete(id, reply)).is_err() {
            return blocking(&self.queue, move |q| q.complete(id)).await;
        }
        match answer.await {
            Ok(result) => result,
            Err(_) => blocking(&self.queue, move |q| q.complete(id)).await,
        }
    }
}

async fn blocking<T: Send + 'static>(
    queue: &Arc<EventQueue>,
    f: impl FnOnce(&EventQueue) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    let queue = Arc::clone(queue);
    tokio::task::spawn_blocking(move || f(&queue)).await.expect("queue calls do not panic")
}

async fn run(queue: Arc<EventQueue>, mut rx: mpsc::UnboundedReceiver<Write>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(w) => batch.push(w),
                Err(_) => break,
            }
        }
        let mut events = Vec::new();
        let mut enqueued = Vec::new();
        let mut ids = Vec::new();
        let mut completed = Vec::new();
        for w in batch {
            match w {
                Write::Enqueue(e, reply) => {
                    events.push(e);
                    enqueued.push(reply);
                }
                Write::Complete(id, reply) => {
                    ids.push(id);
                    completed.push(reply);
                }
            }
        }
        let (e, i) = (events.clone(), ids.clone());
        match blocking(&queue, move |q| q.write_batch(&e, &i)).await {
            Ok(new_ids) => {
                for (reply, id) in enqueued.into_iter().zip(new_ids) {
                    let _ = reply.send(Ok(id));
                }
                for reply in completed {
                    let _ = reply.send(Ok(()));
                }
            }
            // The group failed as a whole: write each alone so every caller
            // gets its own outcome.
            Err(error) => {
                tracing::warn!(%error, "a queue batch failed; writing its events one by one");
                for (reply, event) in enqueued.into_iter().zip(events) {
                    let _ = reply.send(blocking(&queue, move |q| q.enqueue(&event)).await);
                }
                for (reply, id) in completed.into_iter().zip(ids) {
                    let _ = reply.send(blocking(&queue, move |q| q.complete(id)).await);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: &str) -> NewEvent {
        NewEvent {
            request_id: id.into(),
            function_name: "f".into(),
            qualifier: None,
            region: "us-east-1".into(),
            payload: b"{}".to_vec(),
            enqueued_ms: 1,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writes_all_commit() {
        let queue = Arc::new(EventQueue::open_in_memory().unwrap());
        let writer = Arc::new(QueueWriter::new(Arc::clone(&queue)));
        let mut tasks = Vec::new();
        for i in 0..200 {
            let w = Arc::clone(&writer);
            tasks.push(tokio::spawn(async move { w.enqueue(event(&i.to_string())).await.unwrap() }));
        }
        let mut ids = Vec::new();
        for t in tasks {
            ids.push(t.await.unwrap());
        }
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 200);
        assert_eq!(queue.counts().unwrap(), (200, 0));
        for id in &ids[..150] {
            writer.complete(*id).await.unwrap();
        }
        assert_eq!(queue.counts().unwrap(), (50, 0));
    }
}
