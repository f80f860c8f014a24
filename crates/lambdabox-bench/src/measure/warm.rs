//! Warm latency: sequential requests on one keep-alive connection, after a
//! warm-up, so every request finds its environment (or the echo server)
//! ready.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::bail;

use crate::http::Conn;

/// The latency of each of `count` sequential POSTs of `payload` to `path`.
pub async fn sequential(
    addr: SocketAddr,
    path: &str,
    payload: &[u8],
    warmup: usize,
    count: usize,
) -> anyhow::Result<Vec<Duration>> {
    let mut conn = Conn::connect(addr).await?;
    let mut samples = Vec::with_capacity(count);
    for i in 0..warmup + count {
        let started = Instant::now();
        let response = conn.request("POST", path, &[], payload).await?;
        let elapsed = started.elapsed();
        if response.status != 200 || response.header("x-amz-function-error").is_some() {
            bail!("POST {path} answered {}: {}", response.status, response.body_text());
        }
        if i >= warmup {
            samples.push(elapsed);
        }
    }
    Ok(samples)
}
