//! The asynchronous section: Event invocations through the durable queue,
//! beside synchronous Invokes of the same function.

use std::time::Duration;

use super::deploy::{Fixture, find};
use super::{Bench, LOAD_WARMUP, PAYLOAD};
use crate::CUSTOM;
use crate::cli::{Args, Section};
use crate::measure::{load, queued};
use crate::report::AsyncRun;
use crate::server::{FunctionDef, Server, invoke_path};

/// The async run (nothing with `--skip async` or when the custom-runtime
/// function is not deployed); a failure is reported as not measured, with
/// the tail of the server's log.
pub async fn run(bench: &mut Bench<'_>, server: &mut Server, deployed: &[Fixture]) -> Option<AsyncRun> {
    if bench.skips(Section::Async) {
        return None;
    }
    let custom = find(deployed, CUSTOM)?;
    let args = bench.args;
    eprintln!(
        "== asynchronous invocations: {} events from {} clients, {} async workers",
        args.async_events, args.async_clients, args.async_workers
    );
    match measure(server, args, &custom.zip, PAYLOAD, LOAD_WARMUP, bench.load_window()).await {
        Ok(a) => Some(a),
        Err(e) => {
            bench.mark_unavailable("asynchronous invocations", format!("{e:#}\n{}", server.log_tail()));
            None
        }
    }
}

/// The async run on its own copy of the custom-runtime function: first the
/// synchronous baseline (a closed loop of as many clients as the server has
/// async workers, which also leaves that many environments warm), then the
/// events.
async fn measure(
    server: &mut Server,
    args: &Args,
    zip: &[u8],
    payload: &[u8],
    warmup: Duration,
    window: Duration,
) -> anyhow::Result<AsyncRun> {
    let name = "bench-async";
    let def = FunctionDef {
        name,
        runtime: "provided.al2023",
        handler: "bootstrap",
        zip,
        memory_mb: args.memory_size,
        timeout_s: 30,
    };
    server.create_function(&def).await?;
    let workers = args.async_workers.max(1);
    let sync = load::closed_loop(server.addr, &invoke_path(name), payload, workers, warmup, window).await?;
    eprintln!(
        "   synchronous, {workers} clients: {:.0}/s p99 {:.3} ms ({} errors)",
        sync.requests_per_second, sync.latency.p99_ms, sync.errors
    );
    let timeout = Duration::from_secs(120) + Duration::from_millis(10) * args.async_events as u32;
    let queued = queued::run(server, name, payload, args.async_events, args.async_clients, workers, timeout).await?;
    eprintln!(
        "   accepted {:.0}/s (202 p50 {:.3} ms p99 {:.3} ms), all run in {:.3} s: {:.0} events/s ({} polls)",
        queued.accepted_per_second,
        queued.accept_latency.p50_ms,
        queued.accept_latency.p99_ms,
        queued.end_to_end_seconds,
        queued.events_per_second,
        queued.polls
    );
    Ok(AsyncRun { queued, sync })
}
