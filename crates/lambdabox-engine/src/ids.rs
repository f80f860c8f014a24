//! The host uids and gids execution environments run as.
//!
//! Inside, every sandbox is AWS's `sbx_user1051` (993:990). On the host, a
//! server running as root gives each sandbox a uid of its own from a range
//! (as AWS gives each execution environment its own), so per-user kernel
//! limits — inotify instances and watches, POSIX message-queue bytes,
//! pending signals, the process count — are per environment, not shared by
//! every function on the machine. All sandboxes share the range's first
//! gid, the group the files they must read (unpacked code, the empty `/opt`,
//! the data dir's path) are readable by; the range's first uid owns the
//! unpacked code and unpacks it ([`crate::UnpackAs`]), and is never a
//! sandbox's.
//!
//! A uid goes back to the pool when its sandbox is retired; the pool hands
//! uids out round-robin, so a released uid is the last to be reused.
//!
//! A server that is not root cannot map other ids: every sandbox is the
//! server's own uid and gid.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use lambdabox_sandbox::Identity;

use crate::{EngineError, UnpackAs};

/// The first host id of the default range: systemd leaves ids from
/// 1,879,048,192 (`0x70000000`) to 2,147,483,647 unused, above the ranges
/// it gives containers.
pub const DEFAULT_FIRST_ID: u32 = 1_879_048_192;
/// How many ids the default range holds.
pub const DEFAULT_ID_COUNT: u32 = 65_536;

/// Which host ids sandboxes run as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostIds {
    /// `first` owns unpacked code and is every sandbox's gid; each sandbox
    /// takes its own uid from `first + 1 .. first + count`.
    Range { first: u32, count: u32 },
    /// Every sandbox is this uid and gid (a server that is not root).
    Own { uid: u32, gid: u32 },
}

impl HostIds {
    /// The default range for a root server; the server's own ids otherwise.
    pub fn detect() -> Self {
        if nix::unistd::geteuid().is_root() {
            Self::Range { first: DEFAULT_FIRST_ID, count: DEFAULT_ID_COUNT }
        } else {
            Self::Own { uid: nix::unistd::geteuid().as_raw(), gid: nix::unistd::getegid().as_raw() }
        }
    }

    /// Who unpacks packages: the range's first id, confined; else the server.
    pub fn unpack_as(&self) -> UnpackAs {
        match *self {
            Self::Range { first, .. } => UnpackAs::Confined { uid: first, gid: first },
            Self::Own { .. } => UnpackAs::Server,
        }
    }

    /// The group every sandbox is in, when it is not the server's own.
    pub fn sandbox_group(&self) -> Option<u32> {
        match *self {
            Self::Range { first, .. } => Some(first),
            Self::Own { .. } => None,
        }
    }
}

/// Hands out sandbox uids.
#[derive(Debug)]
pub(crate) struct IdPool {
    ids: HostIds,
    state: Mutex<PoolState>,
}

#[derive(Debug, Default)]
struct PoolState {
    /// The offset (from `first + 1`) tried next.
    next: u32,
    in_use: HashSet<u32>,
}

/// A sandbox's host uid, given back to the pool when dropped (after the
/// sandbox's processes are gone).
#[derive(Debug)]
pub(crate) struct HostUid {
    pool: Arc<IdPool>,
    uid: Option<u32>,
}

impl Drop for HostUid {
    fn drop(&mut self) {
        if let Some(uid) = self.uid.take() {
            self.pool.state.lock().unwrap_or_else(|p| p.into_inner()).in_use.remove(&uid);
        }
    }
}

impl IdPool {
    pub(crate) fn new(ids: HostIds) -> Arc<Self> {
        Arc::new(Self { ids, state: Mutex::new(PoolState::default()) })
    }

    /// A new sandbox's identity and the guard of its host uid.
    pub(crate) fn take(self: &Arc<Self>) -> Result<(Identity, HostUid), EngineError> {
        let inside = |host_uid, host_gid| Identity {
            sandbox_uid: Identity::SBX_USER_UID,
            sandbox_gid: Identity::SBX_USER_GID,
            host_uid,
            host_gid,
        };
        match self.ids {
            HostIds::Own { uid, gid } => Ok((inside(uid, gid), HostUid { pool: self.clone(), uid: None })),
            HostIds::Range { first, count } => {
                let slots = count.saturating_sub(1);
                let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
                for _ in 0..slots {
                    let uid = first + 1 + state.next % slots;
                    state.next = (state.next + 1) % slots;
                    if state.in_use.insert(uid) {
                        return Ok((inside(uid, first), HostUid { pool: self.clone(), uid: Some(uid) }));
                    }
                }
                Err(EngineError::NoSandboxIds { first, count })
            }
        }
    }

    /// How many uids are in use.
    #[cfg(test)]
    fn in_use(&self) -> usize {
        self.state.lock().unwrap().in_use.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_sandbox_gets_its_own_uid_and_the_shared_group() {
        let pool = IdPool::new(HostIds::Range { first: 5000, count: 4 });
        let (a, ga) = pool.take().unwrap();
        let (b, gb) = pool.take().unwrap();
        let (c, _gc) = pool.take().unwrap();
        assert_eq!((a.host_uid, b.host_uid, c.host_uid), (5001, 5002, 5003));
        assert!([a, b, c].iter().all(|i| i.host_gid == 5000 && i.sandbox_uid == 993 && i.sandbox_gid == 990));
        assert!(matches!(pool.take(), Err(EngineError::NoSandboxIds { .. })), "5000 itself is never a sandbox's");
        drop(gb);
        let (d, _gd) = pool.take().unwrap();
        assert_eq!(d.host_uid, 5002);
        drop(ga);
        assert_eq!(pool.in_use(), 2);
    }

    #[test]
    fn released_uids_are_reused_last() {
        let pool = IdPool::new(HostIds::Range { first: 100, count: 11 });
        let (first, guard) = pool.take().unwrap();
        drop(guard);
        let next: Vec<u32> =
            (0..9).map(|_| pool.take().map(|(i, g)| (i.host_uid, g)).unwrap()).map(|(u, _)| u).collect();
        assert!(!next.contains(&first.host_uid), "{next:?}");
    }

    #[test]
    fn a_server_that_is_not_root_maps_its_own_ids() {
        let pool = IdPool::new(HostIds::Own { uid: 1000, gid: 1000 });
        let (a, _) = pool.take().unwrap();
        let (b, _) = pool.take().unwrap();
        assert_eq!((a.host_uid, b.host_uid, a.host_gid), (1000, 1000, 1000));
        assert_eq!(HostIds::Own { uid: 1, gid: 1 }.unpack_as(), UnpackAs::Server);
    }
}
