//! Invocations end to end, for every front end (the Invoke API, the
//! asynchronous queue, later the HTTP gateway): resolve the function and
//! qualifier through the control plane, run it in the engine.
//!
//! Asynchronous invocations (`InvocationType: Event`) are committed to the
//! durable [`EventQueue`] before the caller gets its 202; a pool of workers
//! runs them, retries failures with backoff, and hands results to the
//! destinations and dead-letter function the configuration names.

mod destination;
mod workers;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use lambdabox_control::{ControlError, ControlPlane, FunctionView};
use lambdabox_engine::{Engine, EngineError, InvokeRequest, InvokeResult};
use lambdabox_model::Region;
use lambdabox_store::{EventQueue, NewEvent, StoreError};
use tokio::sync::Notify;

/// How the asynchronous workers behave.
#[derive(Debug, Clone)]
pub struct InvokerConfig {
    /// How many queued events run at once.
    pub workers: usize,
    /// The wait before the first retry; each further retry waits twice as
    /// long (AWS: one minute, then two).
    pub retry_base: Duration,
}

impl Default for InvokerConfig {
    fn default() -> Self {
        Self { workers: 8, retry_base: Duration::from_secs(60) }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    #[error(transparent)]
    Control(#[from] ControlError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("queue an event")]
    Queue(#[source] StoreError),
    #[error("the code package of {function} is not on local disk")]
    CodeNotLocal { function: String },
}

/// A synchronous invocation's result with the version it resolved to.
#[derive(Debug, Clone)]
pub struct Invoked {
    pub function: FunctionView,
    pub result: InvokeResult,
}

/// Runs invocations, synchronous and queued.
pub struct Invoker {
    control: Arc<ControlPlane>,
    engine: Arc<Engine>,
    queue: Arc<EventQueue>,
    config: InvokerConfig,
    /// Wakes the dispatcher when an event is queued or a worker frees up.
    wake: Notify,
}

/// A uniform sample in [0, 1) for weighted alias routing.
fn sample() -> f64 {
    (uuid::Uuid::new_v4().as_u128() >> 75) as f64 / (1u64 << 53) as f64
}

pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Invoker {
    pub fn new(
        control: Arc<ControlPlane>,
        engine: Arc<Engine>,
        queue: Arc<EventQueue>,
        config: InvokerConfig,
    ) -> Arc<Self> {
        Arc::new(Self { control, engine, queue, config, wake: Notify::new() })
    }

    pub fn control(&self) -> &Arc<ControlPlane> {
        &self.control
    }

    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// Resolves `identifier`/`qualifier` (an alias picks its version by weight).
    pub async fn resolve(
        &self,
        region: &Region,
        identifier: &str,
        qualifier: Option<&str>,
    ) -> Result<FunctionView, InvokeError> {
        Ok(self.control.resolve(region, identifier, qualifier, Some(sample())).await?)
    }

    /// Runs a resolved function once and waits for the outcome.
    pub async fn run(
        &self,
        request_id: String,
        function: FunctionView,
        region: Region,
        payload: Bytes,
        client_context: Option<String>,
    ) -> Result<Invoked, InvokeError> {
        let code_zip = self
            .control
            .blobs()
            .local_path(&function.config.code.blob_key)
            .ok_or_else(|| InvokeError::CodeNotLocal { function: function.config.name.to_string() })?;
        let request = InvokeRequest {
            request_id,
            function: function.config.clone(),
            invoked_arn: function.arn.clone(),
            region,
            payload,
            client_context,
        };
        let result = self.engine.invoke(request, code_zip).await?;
        Ok(Invoked { function, result })
    }

    /// Commits an asynchronous invocation of an already resolved function;
    /// returns its request id.
    pub async fn enqueue(
        &self,
        function: &FunctionView,
        qualifier: Option<&str>,
        region: &Region,
        payload: Bytes,
    ) -> Result<String, InvokeError> {
        let request_id = uuid::Uuid::new_v4().to_string();
        let event = NewEvent {
            request_id: request_id.clone(),
            function_name: function.config.name.to_string(),
            qualifier: qualifier.map(str::to_owned),
            region: region.to_string(),
            payload: payload.to_vec(),
            enqueued_ms: now_ms(),
        };
        let queue = Arc::clone(&self.queue);
        tokio::task::spawn_blocking(move || queue.enqueue(&event))
            .await
            .expect("queue calls do not panic")
            .map_err(InvokeError::Queue)?;
        self.wake.notify_one();
        Ok(request_id)
    }
}
