//! A DNS forwarder on the gateway: environments' `resolv.conf` names it,
//! and it relays each UDP query to the upstream resolvers in turn (the
//! host's, which may be on the host's loopback where environments cannot
//! go), answering with the first reply.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::sync::Semaphore;

/// Queries relayed at once; more are dropped (the client retries).
const IN_FLIGHT: usize = 256;
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(2);

pub(crate) struct Forwarder {
    socket: Arc<UdpSocket>,
    upstream: Arc<Vec<SocketAddr>>,
}

impl Forwarder {
    pub(crate) async fn bind(addr: SocketAddr, upstream: Vec<SocketAddr>) -> std::io::Result<Self> {
        let socket = UdpSocket::bind(addr).await?;
        Ok(Self { socket: Arc::new(socket), upstream: Arc::new(upstream) })
    }

    pub(crate) async fn run(self) {
        let slots = Arc::new(Semaphore::new(IN_FLIGHT));
        let mut buf = vec![0u8; 4096];
        loop {
            let (n, client) = match self.socket.recv_from(&mut buf).await {
                Ok(received) => received,
                Err(error) => {
                    tracing::debug!(%error, "DNS forwarder receive");
                    continue;
                }
            };
            let Ok(slot) = slots.clone().try_acquire_owned() else { continue };
            let query = buf[..n].to_vec();
            let (socket, upstream) = (self.socket.clone(), self.upstream.clone());
            tokio::spawn(async move {
                if let Some(answer) = relay(&query, &upstream).await {
                    let _ = socket.send_to(&answer, client).await;
                }
                drop(slot);
            });
        }
    }
}

async fn relay(query: &[u8], upstream: &[SocketAddr]) -> Option<Vec<u8>> {
    for server in upstream {
        let bind: SocketAddr = if server.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" }.parse().ok()?;
        let Ok(socket) = UdpSocket::bind(bind).await else { continue };
        if socket.connect(server).await.is_err() || socket.send(query).await.is_err() {
            continue;
        }
        let mut buf = vec![0u8; 4096];
        loop {
            match tokio::time::timeout(UPSTREAM_TIMEOUT, socket.recv(&mut buf)).await {
                // The reply to this query: same id.
                Ok(Ok(n)) if n >= 2 && buf[..2] == query[..2] => {
                    buf.truncate(n);
                    return Some(buf);
                }
                Ok(Ok(_)) => continue,
                _ => break,
            }
        }
    }
    None
}

/// The `nameserver` lines of the host's `/etc/resolv.conf` (port 53).
pub(crate) fn host_resolvers() -> Vec<SocketAddr> {
    parse_resolv_conf(&std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default())
}

fn parse_resolv_conf(text: &str) -> Vec<SocketAddr> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("nameserver"))
        .filter_map(|a| a.trim().split('%').next()?.parse::<std::net::IpAddr>().ok())
        .map(|ip| SocketAddr::new(ip, 53))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolv_conf_nameservers() {
        let conf = "# x\nnameserver 10.0.0.2\nsearch example\nnameserver fe80::1%eth0\nnameserver bogus\n";
        assert_eq!(
            parse_resolv_conf(conf),
            vec!["10.0.0.2:53".parse::<SocketAddr>().unwrap(), "[fe80::1]:53".parse().unwrap()]
        );
    }

    #[tokio::test]
    async fn a_query_is_relayed_and_its_answer_returned() {
        // An upstream that answers every query with its own bytes reversed
        // after the id.
        let upstream = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let upstream_addr = upstream.local_addr().unwrap();
        tokio::spawn(async move {
            let mut buf = [0u8; 512];
            let (n, from) = upstream.recv_from(&mut buf).await.unwrap();
            let mut answer = buf[..2].to_vec();
            answer.extend(buf[2..n].iter().rev());
            upstream.send_to(&answer, from).await.unwrap();
        });
        let forwarder = Forwarder::bind("127.0.0.1:0".parse().unwrap(), vec![upstream_addr]).await.unwrap();
        let addr = forwarder.socket.local_addr().unwrap();
        tokio::spawn(forwarder.run());
        let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        client.send_to(&[0xab, 0xcd, 1, 2, 3], addr).await.unwrap();
        let mut buf = [0u8; 16];
        let n = tokio::time::timeout(Duration::from_secs(5), client.recv(&mut buf)).await.unwrap().unwrap();
        assert_eq!(&buf[..n], &[0xab, 0xcd, 3, 2, 1]);
    }
}
