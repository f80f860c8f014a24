//! The anonymous network execution environments get by default, as a
//! function on AWS runs "within an anonymous VPC" with internet access.
//!
//! One Linux bridge per server (`lbxb<tag>`, holding the gateway address of
//! a private range), one veth pair per environment (the host end a port of
//! the bridge, isolated from every other port; the other end `eth0` in the
//! environment's network namespace with an address from the range and a
//! default route via the gateway), and an nftables table of the server's
//! own (`inet lambdabox_<tag>`) that NATs what leaves for the uplink and
//! refuses what must never be reached: the host itself (every local
//! address, including the gateway, except its DNS port), other
//! environments (of this server or another), the link-local range of
//! metadata services, loopback, multicast, and anything new from outside.
//! A DNS forwarder on the gateway relays queries to the host's resolvers
//! (or the ones configured), so names resolve as on the host.
//!
//! Everything is made with the `ip` and `nft` tools (iproute2 and
//! nftables), at start for the bridge and table, and off the invoke path
//! for each environment (spare sandboxes are attached when built). A
//! server removes its own at shutdown; at start it removes what a server of
//! the same data dir left (after a kill -9), and the bridges and tables of
//! any Lambdabox server that is no longer running.

mod cidr;
mod dns;
mod tools;

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

pub use cidr::Cidr;

/// How the network is set up.
#[derive(Debug, Clone)]
pub struct NetworkConfig {
    /// The environments' range; `None` picks the first /20 of
    /// `100.96.0.0/11` that no host route overlaps.
    pub cidr: Option<Cidr>,
    /// Six hex digits naming this server's bridge, table and veths (from
    /// its data dir, so a restarted server finds what it left).
    pub tag: String,
    /// Resolvers the DNS forwarder asks; empty: the host's `resolv.conf`.
    pub dns: Vec<SocketAddr>,
}

/// Why the network could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    #[error(
        "`{tool}` is needed for the functions' network ({reason}); install {package}, or run with --function-egress none"
    )]
    MissingTool { tool: &'static str, package: &'static str, reason: String },
    #[error("`{command}` failed: {stderr}")]
    Command { command: String, stderr: String },
    #[error("the function network {cidr} overlaps the host route {route}; choose another with --function-network")]
    Overlap { cidr: Cidr, route: String },
    #[error("no free /20 in 100.96.0.0/11 for the function network; choose one with --function-network")]
    NoFreeRange,
    #[error("the function network {0} has no free address left")]
    Exhausted(Cidr),
    #[error("{0}")]
    Invalid(String),
}

/// The server's function network (cheap to clone).
#[derive(Clone)]
pub struct FunctionNetwork {
    inner: Arc<Inner>,
}

struct Inner {
    tag: String,
    bridge: String,
    table: String,
    cidr: Cidr,
    gateway: Ipv4Addr,
    free: Mutex<Pool>,
    next_veth: AtomicU32,
    dns: Option<tokio::task::JoinHandle<()>>,
}

struct Pool {
    free: BTreeSet<u32>,
    cursor: u32,
}

impl std::fmt::Debug for FunctionNetwork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FunctionNetwork").field("bridge", &self.inner.bridge).field("cidr", &self.inner.cidr).finish()
    }
}

impl FunctionNetwork {
    /// Creates the bridge, the nftables table and the DNS forwarder. Must be
    /// called inside a tokio runtime (the forwarder is a task).
    pub async fn start(config: NetworkConfig) -> Result<Self, NetworkError> {
        if config.tag.len() != 6 || !config.tag.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(NetworkError::Invalid(format!("tag {:?} is not six hex digits", config.tag)));
        }
        tools::check()?;
        let bridge = format!("lbxb{}", config.tag);
        let table = format!("lambdabox_{}", config.tag);
        tools::remove_leftovers(&bridge)?;
        let routes = tools::routes()?;
        let cidr = match config.cidr {
            Some(cidr) => {
                if let Some(route) = routes.iter().find(|r| r.overlaps(&cidr)) {
                    return Err(NetworkError::Overlap { cidr, route: route.to_string() });
                }
                cidr
            }
            None => cidr::pick_free(&routes).ok_or(NetworkError::NoFreeRange)?,
        };
        if cidr.prefix() > 29 {
            return Err(NetworkError::Invalid(format!("{cidr} is too small for environments (at most /29)")));
        }
        let gateway = cidr.host(1);
        tools::create_bridge(&bridge, &cidr, gateway)?;
        let ruleset = tools::ruleset(&table, &bridge, &cidr, gateway);
        if let Err(e) = tools::nft(&ruleset).and_then(|()| tools::enable_forwarding()) {
            let _ = tools::delete_bridge(&bridge, &table);
            return Err(e);
        }
        let upstream = if config.dns.is_empty() { dns::host_resolvers() } else { config.dns.clone() };
        let dns = match dns::Forwarder::bind(SocketAddr::from((gateway, 53)), upstream).await {
            Ok(forwarder) => Some(tokio::spawn(forwarder.run())),
            Err(error) => {
                tracing::warn!(%error, %gateway, "no DNS forwarder for functions: names will not resolve inside them");
                None
            }
        };
        let hosts = (2..cidr.size() - 1).collect();
        tracing::info!(%bridge, %cidr, %gateway, "function network ready");
        Ok(Self {
            inner: Arc::new(Inner {
                tag: config.tag,
                bridge,
                table,
                cidr,
                gateway,
                free: Mutex::new(Pool { free: hosts, cursor: 2 }),
                next_veth: AtomicU32::new(0),
                dns,
            }),
        })
    }

    pub fn cidr(&self) -> Cidr {
        self.inner.cidr
    }

    pub fn gateway(&self) -> Ipv4Addr {
        self.inner.gateway
    }

    /// The `/etc/resolv.conf` of environments: the gateway's forwarder.
    pub fn resolv_conf(&self) -> String {
        format!("nameserver {}\noptions timeout:2 attempts:2\n", self.inner.gateway)
    }

    /// Gives the network namespace of process `pid` an `eth0` on the bridge
    /// with an address of its own and a default route. Blocking (runs `ip`).
    pub fn attach(&self, pid: i32) -> Result<Lease, NetworkError> {
        let index = self.take_address()?;
        let lease = Lease { inner: self.inner.clone(), index };
        let n = self.inner.next_veth.fetch_add(1, Ordering::Relaxed) & 0xF_FFFF;
        let veth = format!("lbxv{}{n:x}", self.inner.tag);
        tools::attach(
            pid,
            &veth,
            &self.inner.bridge,
            self.inner.cidr.host(index),
            &self.inner.cidr,
            self.inner.gateway,
        )?;
        Ok(lease)
    }

    fn take_address(&self) -> Result<u32, NetworkError> {
        let mut pool = self.inner.free.lock().expect("the address pool is never poisoned");
        // Round-robin from the cursor: an address just given back is the
        // last to be reused, so stale connection tracking never meets it.
        let index = pool.free.range(pool.cursor..).next().or_else(|| pool.free.iter().next()).copied();
        let index = index.ok_or(NetworkError::Exhausted(self.inner.cidr))?;
        pool.free.remove(&index);
        pool.cursor = index + 1;
        Ok(index)
    }

    /// Removes the bridge (and with it every veth still on it) and the
    /// nftables table. Blocking.
    pub fn shutdown(&self) {
        if let Some(dns) = &self.inner.dns {
            dns.abort();
        }
        if let Err(error) = tools::delete_bridge(&self.inner.bridge, &self.inner.table) {
            tracing::warn!(%error, "removing the function network");
        }
    }
}

/// An environment's address, given back when dropped (its veth goes with
/// the environment's network namespace).
#[derive(Debug)]
pub struct Lease {
    inner: Arc<Inner>,
    index: u32,
}

impl Lease {
    pub fn address(&self) -> Ipv4Addr {
        self.inner.cidr.host(self.index)
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Ok(mut pool) = self.inner.free.lock() {
            pool.free.insert(self.index);
        }
    }
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner").field("bridge", &self.bridge).finish_non_exhaustive()
    }
}
