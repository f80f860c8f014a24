//! Invocations end to end, for every front end (the Invoke API, the
//! asynchronous queue, the front door's function URLs and HTTP APIs):
//! resolve the function and qualifier through the control plane, take a
//! concurrency slot, run it in the engine. [`RetireStale`] retires the
//! environments a control-plane change makes stale.
//!
//! Asynchronous invocations (`InvocationType: Event`) are committed to the
//! durable [`EventQueue`] before the caller gets its 202; a pool of workers
//! runs them, retries failures with backoff, and hands results to the
//! destinations and dead-letter function the configuration names.

mod concurrency;
mod destination;
mod stale;
mod workers;
mod writer;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use lambdabox_control::{ControlError, ControlPlane, FunctionView};
use lambdabox_engine::{Engine, EngineError, InvokeRequest, InvokeResult};
use lambdabox_model::Region;
use lambdabox_store::{EventQueue, NewEvent, StoreError};
use tokio::sync::Notify;

pub use concurrency::Throttle;
use concurrency::{Concurrency, Slot};
pub use destination::QueueSink;
pub use stale::RetireStale;

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
    #[error("Rate Exceeded.")]
    Throttled(Throttle),
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
    /// Group commit of enqueues and completions.
    writer: writer::QueueWriter,
    config: InvokerConfig,
    /// Wakes the dispatcher when an event is queued or a worker frees up.
    wake: Notify,
    running: Concurrency,
    /// Where records for SQS destinations and dead-letter queues go.
    queue_sink: std::sync::RwLock<Option<Arc<dyn QueueSink>>>,
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
        let writer = writer::QueueWriter::new(Arc::clone(&queue));
        Arc::new(Self {
            control,
            engine,
            queue,
            writer,
            config,
            wake: Notify::new(),
            running: Concurrency::default(),
            queue_sink: Default::default(),
        })
    }

    /// Delivers to SQS destinations and dead-letter queues through `sink`
    /// (without one, those deliveries are logged and dropped).
    pub fn set_queue_sink(&self, sink: Arc<dyn QueueSink>) {
        *self.queue_sink.write().unwrap_or_else(|p| p.into_inner()) = Some(sink);
    }

    pub(crate) fn queue_sink(&self) -> Option<Arc<dyn QueueSink>> {
        self.queue_sink.read().unwrap_or_else(|p| p.into_inner()).clone()
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

    /// A concurrency slot for a function, or why it is throttled.
    pub(crate) fn slot(&self, function: &str) -> Result<Slot, InvokeError> {
        self.running
            .acquire(function, self.control.reserved_for(function), self.control.unreserved_limit())
            .map_err(InvokeError::Throttled)
    }

    /// Runs a resolved function once and waits for the outcome (throttled
    /// when its concurrency is in use).
    pub async fn run(
        &self,
        request_id: String,
        function: FunctionView,
        region: Region,
        payload: Bytes,
        client_context: Option<String>,
    ) -> Result<Invoked, InvokeError> {
        let _slot = self.slot(function.config.name.as_str())?;
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
            layer_zips: self.layer_zips(&function.config)?,
        };
        let result = self.engine.invoke(request, code_zip).await?;
        Ok(Invoked { function, result })
    }

    /// Where each of a version's layers is on local disk, in order.
    fn layer_zips(&self, config: &lambdabox_model::FunctionConfig) -> Result<Vec<(String, PathBuf)>, InvokeError> {
        config
            .layers
            .iter()
            .map(|l| {
                let path = self
                    .control
                    .blobs()
                    .local_path(&l.code.blob_key)
                    .ok_or_else(|| InvokeError::CodeNotLocal { function: config.name.to_string() })?;
                Ok((l.code.blob_key.clone(), path))
            })
            .collect()
    }

    /// Keeps `count` environments of the version a qualifier names
    /// initialised ahead of demand (0 releases them). Returns how many are ready.
    pub async fn provision(
        &self,
        region: &Region,
        function: &str,
        qualifier: &str,
        count: usize,
    ) -> Result<usize, InvokeError> {
        let view = self.control.resolve(region, function, Some(qualifier), None).await?;
        let code_zip = self
            .control
            .blobs()
            .local_path(&view.config.code.blob_key)
            .ok_or_else(|| InvokeError::CodeNotLocal { function: view.config.name.to_string() })?;
        let layer_zips = self.layer_zips(&view.config)?;
        let request = InvokeRequest {
            request_id: String::new(),
            function: view.config,
            invoked_arn: view.arn,
            region: region.clone(),
            payload: Bytes::new(),
            client_context: None,
            layer_zips,
        };
        Ok(self.engine.provision(&request, code_zip, count).await?)
    }

    /// How many provisioned environments of a qualifier are ready.
    pub async fn provisioned_ready(&self, region: &Region, function: &str, qualifier: &str) -> usize {
        match self.control.resolve(region, function, Some(qualifier), None).await {
            Ok(view) => self.engine.provisioned_ready(&view.config, region),
            Err(_) => 0,
        }
    }

    /// Provisions every stored provisioned-concurrency setting (at start-up), in the background.
    pub fn restore_provisioning(self: &Arc<Self>, region: Region) {
        let this = Arc::clone(self);
        tokio::spawn(async move {
            let configs = match this.control.all_provisioned().await {
                Ok(c) => c,
                Err(error) => {
                    tracing::error!(%error, "cannot read provisioned concurrency");
                    return;
                }
            };
            for c in configs {
                if let Err(error) = this.provision(&region, &c.function, &c.qualifier, c.requested as usize).await {
                    tracing::warn!(%error, function = %c.function, "cannot provision");
                }
            }
        });
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
        self.writer.enqueue(event).await.map_err(InvokeError::Queue)?;
        self.wake.notify_one();
        Ok(request_id)
    }
}
