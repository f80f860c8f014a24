//! The baselines measured before the server under test starts: bare process
//! starts outside any sandbox, and the warm latency and throughput of the
//! loopback HTTP echo server.

use std::path::{Path, PathBuf};

use super::warm::warm_of;
use super::{Bench, LOAD_WARMUP, PAYLOAD};
use crate::baseline::{EchoServer, process_starts};
use crate::cli::Section;
use crate::measure::load::{self, LoadResult};
use crate::measure::warm;
use crate::report::{BareStart, Warm};
use crate::stats::Summary;

/// Bare starts (fork + exec to exit) of the programs each runtime's cold
/// start is compared with; `java -version` unless `--skip java`.
pub fn bare_starts(bench: &mut Bench<'_>, bootstrap: &Path, lrt: &Path) -> Vec<BareStart> {
    eprintln!("== bare process starts (outside any sandbox)");
    let mut bare_starts = Vec::new();
    let mut bare_list: Vec<(&str, PathBuf, Vec<&str>, usize)> = vec![
        ("bootstrap", bootstrap.to_path_buf(), vec![], 100),
        ("lambda_runtime bootstrap", lrt.to_path_buf(), vec![], 100),
        ("python3 -c pass", "/usr/bin/python3".into(), vec!["-c", "pass"], 30),
        ("python3 -S -c pass", "/usr/bin/python3".into(), vec!["-S", "-c", "pass"], 30),
        ("node -e 0", "/usr/bin/node".into(), vec!["-e", "0"], 15),
    ];
    if !bench.skips(Section::Java) {
        bare_list.push(("java -version", "/usr/bin/java".into(), vec!["-version"], 10));
    }
    for (label, program, argv, count) in bare_list {
        match process_starts(&program, &argv, 3, count) {
            Ok(samples) => {
                let start = Summary::of(&samples);
                eprintln!("   {label}: p50 {:.2} ms", start.p50_ms);
                let shown = if label.contains("bootstrap") { program.display().to_string() } else { String::new() };
                let command =
                    if shown.is_empty() { format!("{} {}", program.display(), argv.join(" ")) } else { shown };
                bare_starts.push(BareStart { label: label.into(), command, start });
            }
            Err(e) => bench.mark_unavailable(format!("bare start of {label}"), format!("{e:#}")),
        }
    }
    bare_starts
}

/// The loopback echo server through the harness's own client: warm
/// latency, then (unless `--skip load`) a closed loop at each
/// `--concurrency`.
pub async fn echo(bench: &Bench<'_>) -> anyhow::Result<(Warm, Vec<LoadResult>)> {
    let args = bench.args;
    eprintln!("== loopback echo baseline (hyper, same client)");
    let echo = EchoServer::start()?;
    let echo_samples = warm::sequential(echo.addr, "/echo", PAYLOAD, 200, args.warm_count).await?;
    let echo_warm = warm_of("loopback HTTP echo (hyper)", &echo_samples);
    eprintln!("   warm p50 {:.3} ms p99 {:.3} ms", echo_warm.latency.p50_ms, echo_warm.latency.p99_ms);
    let load_window = bench.load_window();
    let mut echo_load = Vec::new();
    if !bench.skips(Section::Load) {
        for &c in &args.concurrency {
            let r = load::closed_loop(echo.addr, "/echo", PAYLOAD, c, LOAD_WARMUP, load_window).await?;
            eprintln!("   {c} clients: {:.0}/s p99 {:.3} ms", r.requests_per_second, r.latency.p99_ms);
            echo_load.push(r);
        }
    }
    drop(echo);
    Ok((echo_warm, echo_load))
}
