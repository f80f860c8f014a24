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
    token: u64,
    since: Instant,
}

#[derive(Default)]
struct Inner {
    /// Oldest first.
    idle: Vec<Idle>,
    next_token: u64,
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

    /// Returns an environment after an invocation; it is frozen after
    /// `grace` unless taken again first. Beyond `max_idle`, the least
    /// recently used environment is retired.
    pub fn put(self: &std::sync::Arc<Self>, key: PoolKey, env: ExecutionEnvironment, grace: Duration, max_idle: usize) {
        let (token, evicted) = {
            let mut inner = self.lock();
            inner.next_token += 1;
            let token = inner.next_token;
            inner.idle.push(Idle { key, env, token, since: Instant::now() });
            let mut excess = inner.idle.iter().filter(|i| !i.env.provisioned).count().saturating_sub(max_idle);
            let mut evicted = Vec::new();
            while excess > 0 {
                let Some(n) = inner.idle.iter().position(|i| !i.env.provisioned) else { break };
                evicted.push(inner.idle.remove(n).env);
                excess -= 1;
            }
            (token, evicted)
        };
        retire_later(evicted);
        let pools = std::sync::Arc::downgrade(self);
        tokio::spawn(async move {
            tokio::time::sleep(grace).await;
            let Some(pools) = pools.upgrade() else { return };
            let mut inner = pools.lock();
            if let Some(idle) = inner.idle.iter_mut().find(|i| i.token == token)
                && let Err(error) = idle.env.freeze()
            {
                tracing::warn!(%error, env = %idle.env.id, "freeze failed");
            }
        });
    }

    pub fn remove_function(&self, name: &str) -> Vec<ExecutionEnvironment> {
        let mut inner = self.lock();
        let (gone, kept): (Vec<_>, Vec<_>) =
            std::mem::take(&mut inner.idle).into_iter().partition(|i| i.key.name == name);
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
