//! The `lambdabox` binary: command line, configuration, wiring and graceful
//! shutdown.

mod auth;
mod builtin_s3;
mod dispatch;
mod inside;
mod listener;
mod lock;
mod logs;
mod s3_events;
mod schedule_cli;
mod schedule_target;
mod sdks;
mod serve;

use clap::{Parser, Subcommand};

/// mimalloc instead of glibc's malloc: allocation and freeing were about 9 %
/// of the server's CPU under load (many small, short-lived buffers per
/// invocation, across worker threads). See ARCHITECTURE.md.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "lambdabox", version, about = "A self-hosted AWS Lambda")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the server: the Lambda API on one listener, state under the data dir.
    Serve(Box<serve::ServeArgs>),
    /// Print a function's logs (START, output, END and REPORT lines).
    Logs(logs::LogsArgs),
    /// EventBridge Scheduler schedules: `fire` one now.
    Schedule(schedule_cli::ScheduleArgs),
    /// Install the AWS SDKs the managed runtimes include (boto3, the
    /// JavaScript v3 clients) from PyPI and npm, as `serve` does at its
    /// first start, and print where they are.
    InstallSdks(sdks::InstallArgs),
}

fn main() -> anyhow::Result<()> {
    // Everything the server creates is its own unless it says otherwise:
    // databases (with function environment variables), S3 objects, queued
    // payloads and logs are 0600 in 0700 directories. What sandboxes must
    // read is opened to their group explicitly (lambdabox-engine).
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o077));
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("LAMBDABOX_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => {
            tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(serve::run(*args))
        }
        Command::Logs(args) => logs::run(args),
        Command::Schedule(args) => schedule_cli::run(args),
        Command::InstallSdks(args) => sdks::run(args),
    }
}
