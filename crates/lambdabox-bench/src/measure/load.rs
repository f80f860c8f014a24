//! Throughput: a closed loop of N clients, each with its own keep-alive
//! connection sending its next request as soon as the last one is answered
//! (as `wrk -cN` does). Requests completed inside the measurement window
//! count; the window opens after a warm-up in which Lambdabox starts the N
//! environments N clients need.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::http::Conn;
use crate::stats::Summary;

/// What one closed-loop run measured.
#[derive(Debug, Clone, Serialize)]
pub struct LoadResult {
    pub concurrency: usize,
    pub seconds: f64,
    pub requests: usize,
    pub errors: usize,
    pub requests_per_second: f64,
    pub latency: Summary,
}

/// Runs `concurrency` clients for `warmup + window` and measures the window.
pub async fn closed_loop(
    addr: SocketAddr,
    path: &str,
    payload: &[u8],
    concurrency: usize,
    warmup: Duration,
    window: Duration,
) -> anyhow::Result<LoadResult> {
    let start = Instant::now();
    let open = start + warmup;
    let close = open + window;
    let mut tasks = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let path = path.to_owned();
        let payload = payload.to_vec();
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            let mut errors = 0usize;
            let mut conn = None;
            while Instant::now() < close {
                if conn.is_none() {
                    conn = Conn::connect(addr).await.ok();
                    if conn.is_none() {
                        errors += 1;
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                }
                let c = conn.as_mut().expect("connected above");
                let sent = Instant::now();
                let result = c.request("POST", &path, &[], &payload).await;
                let done = Instant::now();
                let ok = matches!(&result, Ok(r) if r.status == 200 && r.header("x-amz-function-error").is_none());
                if result.is_err() {
                    conn = None;
                }
                if done >= open && done <= close {
                    if ok {
                        samples.push(done - sent);
                    } else {
                        errors += 1;
                    }
                }
            }
            (samples, errors)
        }));
    }
    let mut samples = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (s, e) = task.await?;
        samples.extend(s);
        errors += e;
    }
    let seconds = window.as_secs_f64();
    Ok(LoadResult {
        concurrency,
        seconds,
        requests: samples.len(),
        errors,
        requests_per_second: samples.len() as f64 / seconds,
        latency: Summary::of(&samples),
    })
}
