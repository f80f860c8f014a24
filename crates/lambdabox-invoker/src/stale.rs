//! Retires the execution environments a control-plane change makes stale:
//! `$LATEST`'s after its configuration or code changes, a version's after
//! it is deleted, all of a function's after it is deleted. Nothing else
//! makes an environment stale (a new version or alias gets environments of
//! its own; an alias only picks among versions).

use std::sync::Arc;

use async_trait::async_trait;
use lambdabox_control::{Change, ChangeListener};
use lambdabox_engine::Engine;

/// Subscribed to the control plane at start-up.
pub struct RetireStale {
    engine: Arc<Engine>,
}

impl RetireStale {
    pub fn new(engine: Arc<Engine>) -> Arc<Self> {
        Arc::new(Self { engine })
    }
}

#[async_trait]
impl ChangeListener for RetireStale {
    async fn changed(&self, change: &Change) {
        match change {
            Change::ConfigurationUpdated { name } | Change::CodeUpdated { name } => {
                self.engine.retire_version(name, "$LATEST").await;
            }
            Change::VersionDeleted { name, version } => self.engine.retire_version(name, version).await,
            Change::FunctionDeleted { name } => self.engine.retire_function(name).await,
            Change::FunctionCreated { .. }
            | Change::VersionPublished { .. }
            | Change::AliasChanged { .. }
            | Change::ConcurrencyChanged { .. }
            | Change::EventSourceMappingChanged { .. } => {}
        }
    }
}
