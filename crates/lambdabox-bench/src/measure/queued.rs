//! Asynchronous invocations end to end through the durable queue: N events
//! sent with `X-Amz-Invocation-Type: Event` by several raw-HTTP clients
//! (each on its own keep-alive connection, the next send as soon as its
//! `202` is in), then the time until every one of them has run.
//!
//! Completion is read from the server's own record of each run, not from a
//! sleep: the REPORT line the engine writes when an invocation ends carries
//! the `RequestId` the `202` returned and a millisecond timestamp taken at
//! that moment. The harness polls the CloudWatch Logs API
//! (`FilterLogEvents`, filter pattern `REPORT`, on `/aws/lambda/NAME`)
//! until it has seen the REPORT of every accepted request id; the end of
//! the run is the latest of those timestamps, so the polling interval
//! affects how long the harness waits, not the figure (which is exact to the
//! millisecond of the timestamps). Both clocks are the host's wall clock.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::bail;
use serde::Serialize;
use serde_json::json;

use crate::http::Conn;
use crate::server::{Server, invoke_path};
use crate::stats::Summary;

/// How often the harness asks FilterLogEvents for new REPORT lines.
const POLL_EVERY: Duration = Duration::from_millis(50);

/// Each poll looks this far back before the newest REPORT already seen, so
/// a line another stream wrote a little late is not missed.
const LOOK_BACK_MS: i64 = 1000;

/// What one run of N events measured.
#[derive(Debug, Clone, Serialize)]
pub struct AsyncResult {
    pub function: String,
    pub events: usize,
    pub clients: usize,
    /// The server's `--async-workers`.
    pub async_workers: usize,
    /// Answers other than 202 (should be 0).
    pub rejected: usize,
    /// First send → last 202.
    pub accept_seconds: f64,
    pub accepted_per_second: f64,
    /// Send → 202 of each event.
    pub accept_latency: Summary,
    /// First send → the last REPORT line's timestamp.
    pub end_to_end_seconds: f64,
    /// Events / `end_to_end_seconds`.
    pub events_per_second: f64,
    /// Last 202 → last REPORT: the backlog left when the senders finished.
    pub drain_seconds: f64,
    /// Events whose REPORT is no later than the last 202.
    pub ran_while_accepting: usize,
    /// Send of each event → its REPORT (ms resolution): its time in the queue
    /// plus its run.
    pub sent_to_run: Summary,
    /// First send → the poll that found the last REPORT (an upper bound
    /// of the end to end, with the polling in it).
    pub observed_seconds: f64,
    pub polls: usize,
}

/// One event as its sender saw it.
struct Sent {
    request_id: String,
    sent_unix_ms: f64,
    latency: Duration,
}

/// What the senders saw.
struct Accepted {
    sent: Vec<Sent>,
    rejected: usize,
    first_send: Instant,
    /// The wall clock of the first send and of the last 202, in ms.
    first_send_ms: f64,
    last_accept_ms: f64,
}

/// The wall clock in ms, as the server's REPORT timestamps are.
fn unix_ms(at: SystemTime) -> f64 {
    at.duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64() * 1e3).unwrap_or(0.0)
}

/// Sends `count` events to function `name` from `clients` connections and
/// waits (up to `timeout`) until all of them have run.
pub async fn run(
    server: &mut Server,
    name: &str,
    payload: &[u8],
    count: usize,
    clients: usize,
    async_workers: usize,
    timeout: Duration,
) -> anyhow::Result<AsyncResult> {
    let Accepted { sent, rejected, first_send, first_send_ms, last_accept_ms } =
        send_events(server.addr, &invoke_path(name), payload, count, clients).await?;
    let accept_seconds = (last_accept_ms - first_send_ms) / 1e3;
    let wanted: HashMap<&str, f64> = sent.iter().map(|s| (s.request_id.as_str(), s.sent_unix_ms)).collect();

    // Every accepted request id's REPORT timestamp.
    let mut ran: HashMap<String, i64> = HashMap::with_capacity(sent.len());
    let mut polls = 0;
    let mut newest: Option<i64> = None;
    while ran.len() < wanted.len() {
        if first_send.elapsed() > timeout {
            bail!("{} of {} events had run after {timeout:?}", ran.len(), wanted.len());
        }
        if polls > 0 {
            tokio::time::sleep(POLL_EVERY).await;
        }
        polls += 1;
        let start_time = newest.map_or(first_send_ms as i64 - 1, |t| t - LOOK_BACK_MS);
        let mut next_token: Option<serde_json::Value> = None;
        loop {
            let mut request = json!({
                "logGroupName": format!("/aws/lambda/{name}"),
                "filterPattern": "REPORT",
                "startTime": start_time,
            });
            if let Some(token) = next_token.take() {
                request["nextToken"] = token;
            }
            let page = server.filter_log_events(&request).await?;
            for event in page["events"].as_array().into_iter().flatten() {
                let message = event["message"].as_str().unwrap_or("");
                let Some(id) = report_request_id(message) else { continue };
                let Some(timestamp) = event["timestamp"].as_i64() else { continue };
                if wanted.contains_key(id) {
                    ran.entry(id.to_owned()).or_insert(timestamp);
                    newest = Some(newest.map_or(timestamp, |n| n.max(timestamp)));
                }
            }
            match page.get("nextToken") {
                Some(token) if !token.is_null() => next_token = Some(token.clone()),
                _ => break,
            }
        }
    }
    let observed_seconds = first_send.elapsed().as_secs_f64();
    let last_run_ms = ran.values().copied().max().unwrap_or(0) as f64;
    let end_to_end_seconds = (last_run_ms - first_send_ms) / 1e3;
    let sent_to_run: Vec<f64> = ran.iter().map(|(id, t)| *t as f64 - wanted[id.as_str()]).collect();
    Ok(AsyncResult {
        function: name.to_owned(),
        events: count,
        clients,
        async_workers,
        rejected,
        accept_seconds,
        accepted_per_second: sent.len() as f64 / accept_seconds.max(1e-9),
        accept_latency: Summary::of(&sent.iter().map(|s| s.latency).collect::<Vec<_>>()),
        end_to_end_seconds,
        events_per_second: sent.len() as f64 / end_to_end_seconds.max(1e-9),
        drain_seconds: (last_run_ms - last_accept_ms).max(0.0) / 1e3,
        ran_while_accepting: ran.values().filter(|t| **t as f64 <= last_accept_ms).count(),
        sent_to_run: Summary::of_ms(&sent_to_run),
        observed_seconds,
        polls,
    })
}

/// The request id of a REPORT line.
fn report_request_id(message: &str) -> Option<&str> {
    message.strip_prefix("REPORT RequestId: ")?.split(['\t', ' ']).next()
}

/// Sends `count` events from `clients` connections, each its next one as
/// soon as the last is answered.
async fn send_events(
    addr: SocketAddr,
    path: &str,
    payload: &[u8],
    count: usize,
    clients: usize,
) -> anyhow::Result<Accepted> {
    // Connect first, so the clock starts with the first send.
    let mut conns = Vec::with_capacity(clients);
    for _ in 0..clients.max(1) {
        conns.push(Conn::connect(addr).await?);
    }
    let next = Arc::new(AtomicUsize::new(0));
    let first_send = Instant::now();
    let first_send_ms = unix_ms(SystemTime::now());
    let mut tasks = Vec::with_capacity(conns.len());
    for mut conn in conns {
        let (next, path, payload) = (Arc::clone(&next), path.to_owned(), payload.to_vec());
        tasks.push(tokio::spawn(async move {
            let mut sent = Vec::new();
            let mut rejected = 0usize;
            let mut first_error = None;
            let mut last_accept = first_send;
            while next.fetch_add(1, Ordering::Relaxed) < count {
                let started = Instant::now();
                let response = conn.request("POST", &path, &[("X-Amz-Invocation-Type", "Event")], &payload).await?;
                let done = Instant::now();
                match response.header("x-amzn-requestid") {
                    Some(id) if response.status == 202 => {
                        last_accept = last_accept.max(done);
                        sent.push(Sent {
                            request_id: id.to_owned(),
                            sent_unix_ms: first_send_ms + (started - first_send).as_secs_f64() * 1e3,
                            latency: done - started,
                        });
                    }
                    _ => {
                        rejected += 1;
                        first_error.get_or_insert_with(|| format!("{}: {}", response.status, response.body_text()));
                    }
                }
            }
            anyhow::Ok((sent, rejected, first_error, last_accept))
        }));
    }
    let mut sent = Vec::with_capacity(count);
    let mut rejected = 0;
    let mut last_accept = first_send;
    for task in tasks {
        let (s, r, error, last) = task.await??;
        if let Some(error) = error {
            eprintln!("   an Event invoke was not accepted: {error}");
        }
        sent.extend(s);
        rejected += r;
        last_accept = last_accept.max(last);
    }
    let last_accept_ms = first_send_ms + (last_accept - first_send).as_secs_f64() * 1e3;
    Ok(Accepted { sent, rejected, first_send, first_send_ms, last_accept_ms })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_id_of_a_report_line() {
        let line = "REPORT RequestId: 0f9e-11\tDuration: 0.21 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\t";
        assert_eq!(report_request_id(line), Some("0f9e-11"));
        assert_eq!(report_request_id("END RequestId: 0f9e-11"), None);
    }
}
