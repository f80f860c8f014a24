//! The HTTP front door: the same function reached through a function URL
//! (`/_lambda-url/<id>/`) and an HTTP API's `$default` route
//! (`/_execute-api/<api-id>/$default/`), side by side with a direct Invoke.
//! Sequential latency interleaves the three on one connection (as the alias
//! run does), so the differences are the front door's own cost; throughput
//! runs each in a closed loop at the same client counts.

use std::time::Duration;

use serde::Serialize;

use crate::measure::{load, warm};
use crate::server::{Server, invoke_path};
use crate::stats::{Summary, median};

/// One way of reaching the function.
#[derive(Debug, Clone, Serialize)]
pub struct PathLatency {
    /// `Invoke`, `function URL` or `HTTP API`.
    pub label: String,
    pub path: String,
    pub latency: Summary,
    /// Median over rounds of (this sample − the Invoke sample of the same round), ms.
    pub median_paired_delta_ms: f64,
    /// Closed-loop runs, one per client count.
    pub load: Vec<load::LoadResult>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FrontDoorResult {
    pub function: String,
    pub rounds: usize,
    pub invoke: PathLatency,
    pub url: PathLatency,
    pub api: PathLatency,
}

/// Creates a function URL and a quick-create HTTP API for `name`, then measures.
pub async fn run(
    server: &mut Server,
    name: &str,
    payload: &[u8],
    count: usize,
    concurrency: &[usize],
    load_window: Duration,
) -> anyhow::Result<FrontDoorResult> {
    let url_id = server.create_function_url(name).await?;
    let api_id = server.create_http_api(name).await?;
    let labels = ["Invoke", "function URL", "HTTP API"];
    let paths = [invoke_path(name), format!("/_lambda-url/{url_id}/"), format!("/_execute-api/{api_id}/$default/")];
    let samples = warm::interleaved(server.addr, &paths, payload, 100, count).await?;
    let ms = |d: &[Duration]| d.iter().map(|d| d.as_secs_f64() * 1e3).collect::<Vec<f64>>();
    let invoke_ms = ms(&samples[0]);
    let mut out = Vec::new();
    for (i, path) in paths.iter().enumerate() {
        let mine = ms(&samples[i]);
        let deltas: Vec<f64> = mine.iter().zip(&invoke_ms).map(|(a, b)| a - b).collect();
        let mut runs = Vec::new();
        for &c in concurrency {
            runs.push(
                load::closed_loop(server.addr, path, payload, c, Duration::from_millis(1500), load_window).await?,
            );
        }
        out.push(PathLatency {
            label: labels[i].to_owned(),
            path: path.clone(),
            latency: Summary::of(&samples[i]),
            median_paired_delta_ms: median(&deltas),
            load: runs,
        });
    }
    let mut out = out.into_iter();
    let (invoke, url, api) = (out.next().expect("three"), out.next().expect("three"), out.next().expect("three"));
    Ok(FrontDoorResult { function: name.to_owned(), rounds: count, invoke, url, api })
}
