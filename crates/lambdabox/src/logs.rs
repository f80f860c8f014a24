//! `lambdabox logs FUNCTION [--follow]`: prints a function's log events
//! (what it printed, and the START, END and REPORT lines), one message per
//! line, oldest first and interleaved across its streams by time. It reads
//! them through the server's CloudWatch Logs API (FilterLogEvents on
//! `/aws/lambda/FUNCTION`); with `--follow` it keeps polling from the newest
//! time it printed, dropping events it has already printed by their
//! `eventId`, as `aws logs tail --follow` does. `--data-dir` runs the same
//! API over a data dir's files instead of asking a server.

use std::collections::HashSet;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use lambdabox_logs::client::Client;
use lambdabox_logs::{LogsApi, LogsError};
use lambdabox_model::AccountId;
use serde_json::{Value, json};

/// How often `--follow` asks for new events.
const POLL: Duration = Duration::from_secs(1);

#[derive(clap::Args)]
pub struct LogsArgs {
    /// The function's name.
    function: String,
    /// Keep printing new events as they are written.
    #[arg(long, short)]
    follow: bool,
    /// Only events from this long ago on: 30s, 10m, 2h, 1d or 1w (default: all).
    #[arg(long, value_parser = parse_since)]
    since: Option<Duration>,
    /// The server's URL.
    #[arg(long, env = "LAMBDABOX_ENDPOINT", default_value = "http://127.0.0.1:9070")]
    endpoint: String,
    /// Read the log files of this data dir instead of asking a server.
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

fn parse_since(s: &str) -> Result<Duration, String> {
    let unit = s.chars().last().ok_or("empty duration")?;
    let seconds = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        'w' => 604_800,
        _ => return Err(format!("'{s}' is not a duration such as 30s, 10m, 2h, 1d or 1w")),
    };
    let amount: u64 = s[..s.len() - 1].parse().map_err(|_| format!("'{s}' is not a duration such as 10m"))?;
    Ok(Duration::from_secs(amount * seconds))
}

/// Where the events come from.
enum Source {
    Server { client: Box<Client>, runtime: tokio::runtime::Runtime },
    Files(LogsApi),
}

impl Source {
    fn call(&self, operation: &str, request: &Value) -> Result<Value, LogsError> {
        match self {
            Self::Server { client, runtime } => runtime.block_on(client.call(operation, request)),
            Self::Files(api) => api.call("us-east-1", operation, request.to_string().as_bytes()),
        }
    }
}

pub fn run(args: LogsArgs) -> anyhow::Result<()> {
    lambdabox_model::FunctionName::parse(&args.function).map_err(|e| anyhow::anyhow!("{e}"))?;
    let source = match &args.data_dir {
        Some(dir) => Source::Files(LogsApi::new(dir.join("logs"), AccountId::default())),
        None => Source::Server {
            client: Box::new(Client::new(&args.endpoint, lambdabox_logs::client::ClientCredentials::from_env())?),
            runtime: tokio::runtime::Builder::new_current_thread().enable_all().build().context("start a runtime")?,
        },
    };
    let group = format!("/aws/lambda/{}", args.function);
    let mut request = json!({ "logGroupName": group, "interleaved": true });
    if let Some(since) = args.since {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).context("read the clock")?;
        request["startTime"] = json!(now.saturating_sub(since).as_millis() as i64);
    }
    let mut out = std::io::stdout().lock();
    // The newest time printed, and the ids of the events printed at it.
    let mut newest: Option<(i64, HashSet<String>)> = None;
    loop {
        let page = match source.call("FilterLogEvents", &request) {
            Ok(page) => page,
            Err(e) if e.error_type() == "ResourceNotFoundException" => {
                if !args.follow {
                    eprintln!("{group} has no log events yet");
                    return Ok(());
                }
                std::thread::sleep(POLL);
                continue;
            }
            Err(e) => {
                let hint = match e {
                    LogsError::Transport { .. } => " (is `lambdabox serve` running there? set --endpoint)",
                    _ => "",
                };
                return Err(anyhow::anyhow!("{e}{hint}"));
            }
        };
        for event in page["events"].as_array().into_iter().flatten() {
            let timestamp = event["timestamp"].as_i64().unwrap_or(0);
            let id = event["eventId"].as_str().unwrap_or_default();
            match &mut newest {
                Some((t, ids)) if *t == timestamp => {
                    if !ids.insert(id.to_owned()) {
                        continue;
                    }
                }
                Some((t, _)) if *t > timestamp => {}
                _ => newest = Some((timestamp, HashSet::from([id.to_owned()]))),
            }
            writeln!(out, "{}", event["message"].as_str().unwrap_or_default()).context("write to stdout")?;
        }
        out.flush().context("flush stdout")?;
        if let Some(token) = page.get("nextToken") {
            request["nextToken"] = token.clone();
            continue;
        }
        if !args.follow {
            return Ok(());
        }
        // From the newest time printed on: events at that time may still
        // arrive in other streams.
        if let Some(request) = request.as_object_mut() {
            request.remove("nextToken");
        }
        if let Some((t, _)) = &newest {
            request["startTime"] = json!(t);
        }
        std::thread::sleep(POLL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_like_aws_logs_tail() {
        assert_eq!(parse_since("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_since("10m").unwrap(), Duration::from_secs(600));
        assert_eq!(parse_since("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse_since("1w").unwrap(), Duration::from_secs(604_800));
        assert!(parse_since("5").is_err());
        assert!(parse_since("h").is_err());
        assert!(parse_since("").is_err());
    }
}
