//! `lambdabox schedule fire NAME [--group G] [--endpoint URL]`: fires an
//! EventBridge Scheduler schedule's target once, now, through the server's
//! `POST /_lambdabox/schedules/{group}/{name}/fire` (signed with SigV4 for
//! `scheduler` from the AWS CLI's environment variables), whatever the
//! schedule's expression and state, for trying a scheduled function
//! without waiting for it. The schedule itself is not changed.

use anyhow::Context;
use lambdabox_scheduler::SchedulerError;
use lambdabox_scheduler::client::{self, ClientCredentials};

#[derive(clap::Args)]
pub struct ScheduleArgs {
    #[command(subcommand)]
    command: ScheduleCommand,
}

#[derive(clap::Subcommand)]
enum ScheduleCommand {
    /// Fire a schedule's target once, now (the schedule is not changed).
    Fire(FireArgs),
}

#[derive(clap::Args)]
struct FireArgs {
    /// The schedule's name.
    name: String,
    /// The schedule's group.
    #[arg(long, default_value = "default")]
    group: String,
    /// The server's URL.
    #[arg(long, env = "LAMBDABOX_ENDPOINT", default_value = "http://127.0.0.1:9070")]
    endpoint: String,
    /// The schedule's region (default: AWS_REGION, AWS_DEFAULT_REGION, else us-east-1).
    #[arg(long)]
    region: Option<String>,
}

pub fn run(args: ScheduleArgs) -> anyhow::Result<()> {
    match args.command {
        ScheduleCommand::Fire(args) => fire(args),
    }
}

fn fire(args: FireArgs) -> anyhow::Result<()> {
    for (what, value) in [("schedule name", &args.name), ("group name", &args.group)] {
        anyhow::ensure!(
            lambdabox_scheduler::model::is_name(value) && value.len() <= 64,
            "'{value}' is not a {what} (1 to 64 of 0-9, a-z, A-Z, '-', '_', '.')"
        );
    }
    let mut credentials = ClientCredentials::from_env();
    if let Some(region) = args.region {
        credentials.region = region;
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().context("start a runtime")?;
    match runtime.block_on(client::fire(&args.endpoint, &credentials, &args.group, &args.name)) {
        Ok(answer) => {
            let text = |k: &str| answer.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
            println!("fired {} at {} (execution {})", text("ScheduleArn"), text("Target"), text("ExecutionId"));
            Ok(())
        }
        Err(e @ SchedulerError::Transport { .. }) => {
            Err(anyhow::anyhow!("{e} (is `lambdabox serve` running there? set --endpoint)"))
        }
        Err(e) => Err(anyhow::anyhow!("{e}")),
    }
}
