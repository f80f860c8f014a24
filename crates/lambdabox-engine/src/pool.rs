//! Idle execution environments, by function version, least recently used
//! first.

use std::sync::{Mutex, Weak};
use std::time::{Duration, Instant};

use lambdabox_model::{FunctionConfig, Region};

use crate::environment::ExecutionEnvironment;

/// What an environment can serve: one function version in one region.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PoolKey {
    name: String,
    version: String,
    revision: String,
    region: String,
}

impl PoolKey {
    pub fn of(f: &FunctionConfig, region: &Region) -> Self {
        Self {
            name: f.name.to_string(),
            version: f.version.clone(),
            revision: f.revision_id.clone(),
            region: region.to_string(),
        }
    }
}

struct Idle {
    key: PoolKey,
    env: ExecutionEnvironment,
    since: Instant,
    /// Freezing it failed once; it is not tried again.
    unfreezable: bool,
}

#[derive(Default)]
struct Inner {
    /// Oldest first.
    idle: Vec<Idle>,
}

/// Every idle environment of the engine.
#[derive(Default)]
pub struct Pools {
    inner: Mutex<Inner>,
}

fn retire_later(envs: Vec<ExecutionEnvironment>) {
    for env in envs {
        tokio::spawn(env.retire());
    }
}

impl Pools {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes the most recently used idle environment for `key`. Idle
    /// environments of an older revision of the same function are retired.
    pub fn take(&self, key: &PoolKey) -> Option<ExecutionEnvironment> {
        let (found, stale) = {
            let mut inner = self.lock();
            let stale_at: Vec<usize> = inner
                .idle
                .iter()
                .enumerate()
                .filter(|(_, i)| {
                    i.key.name == key.name && i.key.version == key.version && i.key.revision != key.revision
                })
                .map(|(n, _)| n)
                .collect();
            let stale: Vec<_> = stale_at.into_iter().rev().map(|n| inner.idle.remove(n).env).collect();
            let found = inner.idle.iter().rposition(|i| &i.key == key).map(|n| inner.idle.remove(n).env);
            (found, stale)
        };
        retire_later(stale);
        found
    }

    /// Returns an environment after an invocation; [`spawn_freezer`]
    /// freezes it once it has been idle for the grace period, unless it is
    /// taken again first. Beyond `max_idle`, the least recently used
    /// environment is retired.
    pub fn put(&self, key: PoolKey, env: ExecutionEnvironment, max_idle: usize) {
        let evicted = {
            let mut inner = self.lock();
            inner.idle.push(Idle { key, env, since: Instant::now(), unfreezable: false });
            let mut excess = inner.idle.iter().filter(|i| !i.env.provisioned).count().saturating_sub(max_idle);
            let mut evicted = Vec::new();
            while excess > 0 {
                let Some(n) = inner.idle.iter().position(|i| !i.env.provisioned) else { break };
                evicted.push(inner.idle.remove(n).env);
                excess -= 1;
            }
            evicted
        };
        retire_later(evicted);
    }

    /// Freezes one idle environment that has been idle for `grace` and is
    /// not frozen yet; false when there is none.
    fn freeze_one(&self, grace: Duration) -> bool {
        let mut inner = self.lock();
        let Some(idle) =
            inner.idle.iter_mut().find(|i| !i.unfreezable && !i.env.is_frozen() && i.since.elapsed() >= grace)
        else {
            return false;
        };
        if let Err(error) = idle.env.freeze() {
            tracing::warn!(%error, env = %idle.env.id, "freeze failed");
            // It stays idle, running, until taken or retired.
            idle.unfreezable = true;
        }
        true
    }

    pub fn remove_function(&self, name: &str) -> Vec<ExecutionEnvironment> {
        let mut inner = self.lock();
        let (gone, kept): (Vec<_>, Vec<_>) =
            std::mem::take(&mut inner.idle).into_iter().partition(|i| i.key.name == name);
        inner.idle = kept;
        gone.into_iter().map(|i| i.env).collect()
    }

    /// Removes the idle environments of one version of a function.
    pub fn remove_version(&self, name: &str, version: &str) -> Vec<ExecutionEnvironment> {
        let mut inner = self.lock();
        let (gone, kept): (Vec<_>, Vec<_>) =
            std::mem::take(&mut inner.idle).into_iter().partition(|i| i.key.name == name && i.key.version == version);
        inner.idle = kept;
        gone.into_iter().map(|i| i.env).collect()
    }

    /// How many idle provisioned environments serve `key`.
    pub fn provisioned_idle(&self, key: &PoolKey) -> usize {
        self.lock().idle.iter().filter(|i| &i.key == key && i.env.provisioned).count()
    }

    /// Takes idle provisioned environments of `key` beyond `keep`.
    pub fn take_provisioned_beyond(&self, key: &PoolKey, keep: usize) -> Vec<ExecutionEnvironment> {
        let mut inner = self.lock();
        let mut seen = 0;
        let mut out = Vec::new();
        let mut i = 0;
        while i < inner.idle.len() {
            if &inner.idle[i].key == key && inner.idle[i].env.provisioned {
                seen += 1;
                if seen > keep {
                    out.push(inner.idle.remove(i).env);
                    continue;
                }
            }
            i += 1;
        }
        out
    }

    pub fn drain_all(&self) -> Vec<ExecutionEnvironment> {
        self.lock().idle.drain(..).map(|i| i.env).collect()
    }

    /// (idle, frozen)
    pub fn counts(&self) -> (usize, usize) {
        let inner = self.lock();
        (inner.idle.len(), inner.idle.iter().filter(|i| i.env.is_frozen()).count())
    }

    fn expire(&self, keep_alive: Duration) -> Vec<ExecutionEnvironment> {
        let mut inner = self.lock();
        let (gone, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut inner.idle)
            .into_iter()
            .partition(|i| !i.env.provisioned && i.since.elapsed() >= keep_alive);
        inner.idle = kept;
        gone.into_iter().map(|i| i.env).collect()
    }
}

/// Freezes environments idle for `grace`, until the pools are dropped: one
/// task for the engine, waking every half grace period (so an environment
/// is frozen between `grace` and 1.5 × `grace` after its invocation),
/// instead of a timer task per invocation. The lock is taken once per
/// environment frozen, so takes are not held up behind a long batch.
pub fn spawn_freezer(pools: Weak<Pools>, grace: Duration) {
    let period = (grace / 2).max(Duration::from_millis(5));
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(period).await;
            let Some(pools) = pools.upgrade() else { return };
            while pools.freeze_one(grace) {
                tokio::task::yield_now().await;
            }
        }
    });
}

/// Retires environments idle longer than `keep_alive`, until the pools are dropped.
pub fn spawn_reaper(pools: Weak<Pools>, keep_alive: Duration) {
    let period = (keep_alive / 2).clamp(Duration::from_millis(100), Duration::from_secs(30));
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(period).await;
            let Some(pools) = pools.upgrade() else { return };
            retire_later(pools.expire(keep_alive));
        }
    });
}
