//! `lambdabox-bench`: the benchmark harness. It starts its own Lambdabox
//! server on a temporary data dir, deploys its own fixture functions, and
//! measures warm latency (and what an alias or version qualifier adds to
//! it), throughput, asynchronous invocations through the durable queue, cold
//! starts and density, each beside its baseline measured in the same run (a
//! bare loopback HTTP echo server, synchronous Invokes, bare process starts,
//! and optionally `cargo lambda watch`). It prints a
//! Markdown table, writes a JSON file and renders two SVG plots.
//!
//! [`run`] lists the sections in the order they run: each is driven by a
//! function in [`sections`] (which measures with [`measure`]) and printed
//! by a table function of its own in [`report`].
//!
//! ```sh
//! cargo run --release -p lambdabox-bench -- [--with-cargo-lambda] [--density 1000] [--json PATH]
//! ```

mod baseline;
mod cargo_lambda;
mod cli;
mod fixtures;
mod http;
mod machine;
mod measure;
mod plot;
mod report;
mod sections;
mod server;
mod stats;

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use clap::Parser;

use crate::cli::Args;
use crate::report::Results;
use crate::sections::Bench;
use crate::server::{ServeOptions, Server, server_binary};

/// The label of the trivial custom-runtime function (raw Runtime API bootstrap).
pub const CUSTOM: &str = "provided.al2023";
/// The label of the same function written on `lambda_runtime`.
pub const CUSTOM_LRT: &str = "provided.al2023 (lambda_runtime)";

/// The repository root, as this crate was built from it.
const WORKSPACE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().context("build tokio runtime")?;
    runtime.block_on(run(args))
}

/// The benchmark: the baselines, then each section on the server under
/// test, then density on a server of its own and the `cargo lambda watch`
/// comparison; prints the table and writes the JSON file and the plots.
async fn run(args: Args) -> anyhow::Result<()> {
    if let Some(seconds) = args.soak {
        return sections::soak::run(&args, seconds).await;
    }
    if let Some(rounds) = args.auth_overhead {
        return sections::auth::run(&args, rounds).await;
    }
    if let Some(rounds) = args.event_sources {
        return sections::event_sources::run(&args, rounds).await;
    }
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let load_before = machine::load_average();
    let server_bin = server_binary(args.server.as_deref())?;
    let bootstrap = fixtures::sibling_binary("lambdabox-bench-bootstrap")?;
    let lrt = fixtures::sibling_binary("lambdabox-bench-lrt")?;
    let scratch = tempfile::Builder::new().prefix("lambdabox-bench-fixtures-").tempdir()?;
    let mut bench = Bench::new(&args);

    let bare_starts = sections::baseline::bare_starts(&mut bench, &bootstrap, &lrt);
    let (echo_warm, echo_load) = sections::baseline::echo(&bench).await?;

    eprintln!("== lambdabox: {}", server_bin.display());
    let mut server =
        Server::start_with(&server_bin, ServeOptions { async_workers: args.async_workers, ..ServeOptions::default() })
            .await?;
    let deployed = sections::deploy::deploy(&mut bench, &mut server, &bootstrap, &lrt, scratch.path()).await?;
    let warm = sections::warm::run(&bench, &server, &deployed).await?;
    let alias = sections::alias::run(&mut bench, &mut server, &deployed).await;
    let front_door = sections::front_door::run(&mut bench, &mut server, &deployed).await;
    let cold = sections::cold::run(&mut bench, &mut server, &deployed).await;
    let throughput = sections::load::run(&bench, &server, &deployed).await?;
    let async_run = sections::queued::run(&mut bench, &mut server, &deployed).await;
    server.stop().await?;

    let density = sections::density::run(&mut bench, &server_bin).await?;
    let cargo_lambda = sections::cargo_lambda::run(&mut bench, &warm, throughput.lrt).await;

    let mut results = Results {
        command,
        unix_time: SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
        machine: machine::machine(load_before),
        memory_size_mb: args.memory_size,
        echo_warm,
        echo_load,
        bare_starts,
        warm,
        load: throughput.custom,
        cold,
        density,
        cargo_lambda,
        alias,
        front_door,
        async_run,
        unavailable: bench.unavailable,
        targets: Vec::new(),
    };
    results.check_targets();
    println!("{}", results.table());
    results.write_json(&args.json)?;
    plot::render(&results, &args.plots)?;
    Ok(())
}
