//! Cold starts: Invoke to response when no environment of the function
//! exists. Before each sample an UpdateFunctionConfiguration (a new
//! description) retires the warm environment, so the Invoke starts a new one.
//!
//! Each sample is split with the wall-clock stamps the fixture returns:
//! - **to code**: Invoke sent → the function's own code starts running
//!   (`main` of the bootstrap, the import of the Python or Node.js module):
//!   the HTTP hop, the sandbox's set-up and the runtime's start;
//! - **code to handler**: the rest of INIT (the runtime client's first
//!   `/next`) and the event's delivery;
//! - **handler to response**: the response's way back to the caller.
//!
//! The REPORT line's `Init Duration` (the server's own measure of sandbox
//! set-up plus INIT) is recorded beside them.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use serde::Serialize;

use crate::http::Conn;
use crate::server::{Server, init_duration_ms, invoke, invoke_path};
use crate::stats::{Summary, median};

/// One cold start.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ColdSample {
    pub total_ms: f64,
    pub to_code_ms: f64,
    pub code_to_handler_ms: f64,
    pub handler_to_response_ms: f64,
    pub init_duration_ms: Option<f64>,
}

/// The cold starts of one function.
#[derive(Debug, Clone, Serialize)]
pub struct ColdResult {
    pub total: Summary,
    pub median_to_code_ms: f64,
    pub median_code_to_handler_ms: f64,
    pub median_handler_to_response_ms: f64,
    /// Of the REPORT lines' `Init Duration`.
    pub init_duration: Summary,
    /// Invokes that found a warm environment after all (should be 0).
    pub not_cold: usize,
    pub samples: Vec<ColdSample>,
}

fn now_us() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64() * 1e6).unwrap_or(0.0)
}

/// `count` cold starts of function `name`.
pub async fn cold_starts(server: &mut Server, name: &str, count: usize) -> anyhow::Result<ColdResult> {
    let path = invoke_path(name);
    let mut conn = Conn::connect(server.addr).await?;
    let mut samples = Vec::with_capacity(count);
    let mut not_cold = 0;
    for i in 0..count {
        server.retire_environments(name, &format!("lambdabox-bench cold start {i}")).await?;
        // Let the retired environment's teardown finish off the measured path.
        tokio::time::sleep(Duration::from_millis(20)).await;
        let sent_us = now_us();
        let started = Instant::now();
        let response = invoke(&mut conn, &path, b"{}", true).await?;
        let total_ms = started.elapsed().as_secs_f64() * 1e3;
        let received_us = now_us();
        let body: serde_json::Value = serde_json::from_slice(&response.body)
            .with_context(|| format!("parse the response of {name}: {}", response.body_text()))?;
        let stamp = |key: &str| body.get(key).and_then(serde_json::Value::as_f64).unwrap_or(0.0);
        let (code_us, handler_us) = (stamp("started_us"), stamp("handler_us"));
        let init_duration_ms = init_duration_ms(&response);
        if init_duration_ms.is_none() {
            not_cold += 1;
            continue;
        }
        samples.push(ColdSample {
            total_ms,
            to_code_ms: (code_us - sent_us) / 1e3,
            code_to_handler_ms: (handler_us - code_us) / 1e3,
            handler_to_response_ms: (received_us - handler_us) / 1e3,
            init_duration_ms,
        });
    }
    let pick = |f: fn(&ColdSample) -> f64| samples.iter().map(f).collect::<Vec<f64>>();
    Ok(ColdResult {
        total: Summary::of_ms(&pick(|s| s.total_ms)),
        median_to_code_ms: median(&pick(|s| s.to_code_ms)),
        median_code_to_handler_ms: median(&pick(|s| s.code_to_handler_ms)),
        median_handler_to_response_ms: median(&pick(|s| s.handler_to_response_ms)),
        init_duration: Summary::of_ms(&samples.iter().filter_map(|s| s.init_duration_ms).collect::<Vec<_>>()),
        not_cold,
        samples,
    })
}
