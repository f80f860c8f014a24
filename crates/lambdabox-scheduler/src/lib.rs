//! EventBridge Scheduler (`scheduler`, REST-JSON, API version 2021-06-30)
//! over its own SQLite file: schedules (`/schedules/{Name}`), schedule
//! groups (`/schedule-groups/{Name}`) and their tags (`/tags/{ResourceArn}`),
//! as botocore's model defines them, and the loop that fires schedules at
//! their targets.
//!
//! - [`expression`]: `rate()`, `cron()` (AWS's six fields, by hand) and
//!   `at()`, evaluated in `ScheduleExpressionTimezone` with `chrono-tz`.
//! - [`model`]: a schedule's definition, checked against the model's
//!   constraints (`validate`) and AWS's rules; [`plan`]: when it fires next.
//! - [`store`]: `scheduler/schedules.db`, including each schedule's next
//!   firing and the firings not yet delivered.
//! - [`firing`]: the firing loop and the [`Target`] trait the binary
//!   implements (the crate knows nothing of Lambda).
//! - [`http`]: the routes, each authorised as `scheduler:<Action>` under
//!   `--auth iam`, and Lambdabox's own `POST
//!   /_lambdabox/schedules/{group}/{name}/fire`; [`client`] is what
//!   `lambdabox schedule fire` calls it with.

pub mod client;
mod error;
pub mod expression;
pub mod firing;
pub mod http;
pub mod model;
pub mod plan;
pub mod store;
mod validate;

use std::path::Path;
use std::sync::{Arc, OnceLock};

use lambdabox_model::{AccountId, Region};
use tokio::sync::Notify;

pub use error::SchedulerError;
pub use firing::{Target, TargetError};
use store::ScheduleStore;

/// What the service needs to know about the server.
#[derive(Debug, Clone)]
pub struct SchedulerConfig {
    /// The account in ARNs.
    pub account: AccountId,
    /// The region of requests that carry no SigV4 scope.
    pub default_region: Region,
}

pub(crate) struct Inner {
    pub(crate) store: ScheduleStore,
    pub(crate) config: SchedulerConfig,
    /// Wakes the firing loop when a schedule changes.
    pub(crate) wake: Notify,
    /// Set once the loop starts.
    pub(crate) target: OnceLock<Arc<dyn Target>>,
}

/// The service: its store, its routes and its firing loop.
#[derive(Clone)]
pub struct Scheduler {
    inner: Arc<Inner>,
}

/// What [`Scheduler::start`] found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Started {
    /// Recurring schedules whose firings passed while the server was down
    /// (they resume at their next firing; missed ones are not replayed).
    pub skipped: usize,
    /// Firings taken before a stop and delivered again now.
    pub redelivered: usize,
}

impl Scheduler {
    /// Opens (creating it and its folder) the store at `path`.
    pub fn open(path: &Path, config: SchedulerConfig) -> Result<Self, SchedulerError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|source| SchedulerError::CreateDir { path: dir.to_owned(), source })?;
        }
        let store = ScheduleStore::open(path, config.account.as_str())?;
        Ok(Self::with(store, config))
    }

    /// Over an in-memory store (tests).
    pub fn in_memory(config: SchedulerConfig) -> Result<Self, SchedulerError> {
        let store = ScheduleStore::open_in_memory(config.account.as_str())?;
        Ok(Self::with(store, config))
    }

    fn with(store: ScheduleStore, config: SchedulerConfig) -> Self {
        Self { inner: Arc::new(Inner { store, config, wake: Notify::new(), target: OnceLock::new() }) }
    }

    /// The API's routes.
    pub fn router(&self) -> axum::Router {
        http::router(self.inner.clone())
    }

    /// Starts firing at `target`: recurring schedules that missed firings
    /// while the server was down move to their next one, firings taken but
    /// not delivered before the stop are delivered again, and the loop runs
    /// until the runtime ends. Call once.
    pub async fn start(&self, target: Arc<dyn Target>) -> Result<Started, SchedulerError> {
        if self.inner.target.set(target.clone()).is_err() {
            return Ok(Started::default());
        }
        let skipped = firing::blocking(&self.inner, |s| s.resume(firing::now_ms())).await?;
        let pending = firing::blocking(&self.inner, |s| s.pending()).await?;
        let redelivered = pending.len();
        for f in pending {
            tokio::spawn(firing::deliver(self.inner.clone(), target.clone(), f));
        }
        tokio::spawn(firing::run(self.inner.clone(), target));
        Ok(Started { skipped, redelivered })
    }

    /// Tells the loop that schedules changed.
    pub fn wake(&self) {
        self.inner.wake.notify_one();
    }
}
