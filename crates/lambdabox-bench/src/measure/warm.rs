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

/// Sequential POSTs to each of `paths` in turn on one keep-alive connection,
/// `count` rounds after `warmup` untimed ones: round `r` starts at path
/// `r % paths.len()`, so no path always follows the same one and whatever
/// noise the machine makes falls on all of them alike. Returns each path's
/// latencies, in round order (sample `i` of every path is from round `i`).
pub async fn interleaved(
    addr: SocketAddr,
    paths: &[String],
    payload: &[u8],
    warmup: usize,
    count: usize,
) -> anyhow::Result<Vec<Vec<Duration>>> {
    let mut conn = Conn::connect(addr).await?;
    let mut samples = vec![Vec::with_capacity(count); paths.len()];
    for round in 0..warmup + count {
        for k in 0..paths.len() {
            let which = (round + k) % paths.len();
            let path = &paths[which];
            let started = Instant::now();
            let response = conn.request("POST", path, &[], payload).await?;
            let elapsed = started.elapsed();
            if response.status != 200 || response.header("x-amz-function-error").is_some() {
                bail!("POST {path} answered {}: {}", response.status, response.body_text());
            }
            if round >= warmup {
                samples[which].push(elapsed);
            }
        }
    }
    Ok(samples)
}
