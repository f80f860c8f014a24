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
    /// Counts retirements (of a function, or of one of its versions).
    epoch: u64,
    /// The latest retirements, `(epoch, function, version)` (`None`: every
    /// version), so an environment busy with an invocation when its
    /// function was retired is not put back afterwards.
    retired: std::collections::VecDeque<(u64, String, Option<String>)>,
}

/// How many retirements are remembered; an invocation that began before
/// the oldest of them is treated as retired (its environment is not reused).
const RETIREMENTS_KEPT: usize = 4096;

impl Inner {
    fn record_retirement(&mut self, name: &str, version: Option<&str>) {
        self.epoch += 1;
        if self.retired.len() == RETIREMENTS_KEPT {
            self.retired.pop_front();
        }
        self.retired.push_back((self.epoch, name.to_owned(), version.map(str::to_owned)));
    }

    /// Whether `key` was retired after `since`.
    fn retired_since(&self, key: &PoolKey, since: u64) -> bool {
        let forgotten = self.retired.front().is_some_and(|(oldest, _, _)| *oldest > since + 1)
            && self.retired.len() == RETIREMENTS_KEPT;
        forgotten
            || self.retired.iter().any(|(epoch, name, version)| {
                *epoch > since && *name == key.name && version.as_ref().is_none_or(|v| *v == key.version)
            })
    }
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

    /// The retirement count, read when an invocation starts (see [`Pools::put_after`]).
    pub fn epoch(&self) -> u64 {
        self.lock().epoch
    }

    /// [`Pools::put`] for an environment whose invocation began at retirement
    /// count `since`: if its function or version was retired meanwhile
    /// (DeleteFunction, an update, a deleted version while it ran), it is
    /// handed back to be retired instead of kept idle.
    pub fn put_after(
        &self,
        key: PoolKey,
        env: ExecutionEnvironment,
        max_idle: usize,
        since: u64,
    ) -> Option<ExecutionEnvironment> {
        if self.lock().retired_since(&key, since) {
            return Some(env);
        }
        self.put(key, env, max_idle);
        None
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
        inner.record_retirement(name, None);
        let (gone, kept): (Vec<_>, Vec<_>) =
            std::mem::take(&mut inner.idle).into_iter().partition(|i| i.key.name == name);
        inner.idle = kept;
        gone.into_iter().map(|i| i.env).collect()
    }

    /// Removes the idle environments of one version of a function.
    pub fn remove_version(&self, name: &str, version: &str) -> Vec<ExecutionEnvironment> {
        let mut inner = self.lock();
        inner.record_retirement(name, Some(version));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str, version: &str) -> PoolKey {
        PoolKey { name: name.into(), version: version.into(), revision: "r".into(), region: "us-east-1".into() }
    }

    #[test]
    fn an_invocation_running_through_a_retirement_does_not_return_its_environment() {
        let mut inner = Inner::default();
        let before = inner.epoch;
        inner.record_retirement("other", None);
        assert!(!inner.retired_since(&key("f", "$LATEST"), before));
        inner.record_retirement("f", Some("3"));
        assert!(!inner.retired_since(&key("f", "$LATEST"), before), "another version");
        assert!(inner.retired_since(&key("f", "3"), before));
        let later = inner.epoch;
        assert!(!inner.retired_since(&key("f", "3"), later), "retired before it began");
        inner.record_retirement("f", None);
        assert!(inner.retired_since(&key("f", "$LATEST"), later));
        // Past what is remembered, an old invocation is treated as retired.
        let mut inner = Inner::default();
        for _ in 0..RETIREMENTS_KEPT + 2 {
            inner.record_retirement("x", None);
        }
        assert!(inner.retired_since(&key("f", "1"), 0));
    }
}
