//! `--event-sources ROUNDS`: what an event source costs between a message
//! (or an object) and the function that gets it, on a server of its own.
//!
//! - **Latency**: a Python function prints `LAT <now - sent>` for every
//!   record, where `sent` is the host's wall clock when the harness sent
//!   the message (the message body, or the object key `k/<t>`); host and
//!   sandbox read the same `CLOCK_REALTIME`. ROUNDS messages are sent one
//!   at a time, 20 ms apart, through an SQS mapping of BatchSize 1 and one
//!   of BatchSize 10 (no batching window), through S3 event notifications
//!   (asynchronous invocations) when the server serves them, and, as the
//!   baseline, as synchronous Invokes whose event carries the same stamp.
//!   The lines are read back through the Logs API.
//! - **Throughput**: N messages (2,000, fewer when ROUNDS is small) are put
//!   in a queue first; then a mapping to a function that returns `{}` is
//!   created and timed until the queue is empty (polled every 20 ms). The
//!   baseline: the same messages as N / BatchSize synchronous Invokes of
//!   that function on one connection, each with an event of BatchSize
//!   records shaped and sized like the poller's.
//!
//! SQS is spoken in its JSON protocol, Lambda in its REST API and S3 in its
//! REST API, every request SigV4-signed by the root. Only the table is
//! printed to stdout; progress goes to stderr.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail, ensure};
use serde_json::{Value, json};

use crate::cli::Args;
use crate::fixtures;
use crate::http::{Conn, Response};
use crate::server::{FunctionDef, Server, invoke, invoke_path, root_key, server_binary};
use crate::stats::Summary;

/// The gap between two timed sends of the latency runs.
const SPACING: Duration = Duration::from_millis(20);
/// How often the throughput run reads the queue's counts.
const DRAIN_POLL: Duration = Duration::from_millis(20);
/// How long the lines of a latency run may take to appear after its last send.
const LINES_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a queue may take to drain.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(600);
/// The most messages of a throughput run.
const DRAIN_MESSAGES: usize = 2000;
const ACCOUNT: &str = "000000000000";
const BUCKET: &str = "lambdabox-bench-events";

/// The function of the latency runs: `LAT <seconds>` per record (`WARM`
/// for the untimed first message, whose stamp starts with `W`).
const LATENCY_APP: &str = r#"import time
from urllib.parse import unquote_plus


def handler(event, context):
    now = time.time()
    for record in event.get("Records", []):
        if "s3" in record:
            stamp = unquote_plus(record["s3"]["object"]["key"]).rsplit("/", 1)[-1]
        else:
            stamp = record["body"]
        tag = "WARM" if stamp.startswith("W") else "LAT"
        print("%s %.6f" % (tag, now - float(stamp.lstrip("W"))))
    return {}
"#;

/// The function of the throughput runs.
const NOTHING_APP: &str = "def handler(event, context):\n    return {}\n";

/// The host's wall clock, seconds since the epoch.
fn now_epoch() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

/// One connection to the server, every request signed by the root.
struct Api {
    addr: SocketAddr,
    conn: Conn,
}

impl Api {
    async fn connect(addr: SocketAddr) -> anyhow::Result<Self> {
        Ok(Self { addr, conn: Conn::connect(addr).await? })
    }

    /// A signed request, on a new connection if the server closed this one.
    async fn send(
        &mut self,
        service: &str,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> anyhow::Result<Response> {
        let key = root_key(service);
        if let Ok(response) = self.conn.request_signed(method, path, headers, body, &key).await {
            return Ok(response);
        }
        self.conn = Conn::connect(self.addr).await?;
        self.conn.request_signed(method, path, headers, body, &key).await
    }

    /// One SQS JSON-protocol call; its answer.
    async fn sqs(&mut self, operation: &str, body: Value) -> anyhow::Result<Value> {
        let target = format!("AmazonSQS.{operation}");
        let headers = [("Content-Type", "application/x-amz-json-1.0"), ("X-Amz-Target", target.as_str())];
        let response = self.send("sqs", "POST", "/", &headers, body.to_string().as_bytes()).await?;
        if response.status != 200 {
            bail!("SQS {operation} answered {}: {}", response.status, response.body_text());
        }
        serde_json::from_slice(&response.body).with_context(|| format!("parse SQS {operation}"))
    }

    /// CreateQueue, then its ARN (GetQueueAttributes `QueueArn`); the URL and the ARN.
    async fn create_queue(&mut self, name: &str) -> anyhow::Result<(String, String)> {
        let created = self.sqs("CreateQueue", json!({ "QueueName": name })).await?;
        let url = created["QueueUrl"].as_str().context("CreateQueue answered no QueueUrl")?.to_owned();
        let attributes = self.queue_attributes(&url, &["QueueArn"]).await?;
        let arn = attributes["QueueArn"].as_str().context("GetQueueAttributes answered no QueueArn")?.to_owned();
        ensure!(arn == format!("arn:aws:sqs:us-east-1:{ACCOUNT}:{name}"), "unexpected queue ARN {arn}");
        Ok((url, arn))
    }

    async fn queue_attributes(&mut self, url: &str, names: &[&str]) -> anyhow::Result<Value> {
        let answer = self.sqs("GetQueueAttributes", json!({ "QueueUrl": url, "AttributeNames": names })).await?;
        Ok(answer["Attributes"].clone())
    }

    /// Visible plus in-flight messages.
    async fn messages_left(&mut self, url: &str) -> anyhow::Result<u64> {
        let a = self
            .queue_attributes(url, &["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
            .await?;
        let count = |name: &str| a[name].as_str().and_then(|s| s.parse::<u64>().ok());
        let visible = count("ApproximateNumberOfMessages").context("no ApproximateNumberOfMessages")?;
        let in_flight =
            count("ApproximateNumberOfMessagesNotVisible").context("no ApproximateNumberOfMessagesNotVisible")?;
        Ok(visible + in_flight)
    }

    async fn send_message(&mut self, url: &str, body: &str) -> anyhow::Result<()> {
        self.sqs("SendMessage", json!({ "QueueUrl": url, "MessageBody": body })).await?;
        Ok(())
    }

    /// SendMessageBatch of up to ten bodies; an error if any failed.
    async fn send_batch(&mut self, url: &str, bodies: &[String]) -> anyhow::Result<()> {
        let entries: Vec<Value> =
            bodies.iter().enumerate().map(|(i, b)| json!({ "Id": format!("m{i}"), "MessageBody": b })).collect();
        let answer = self.sqs("SendMessageBatch", json!({ "QueueUrl": url, "Entries": entries })).await?;
        let failed = answer["Failed"].as_array().map_or(0, Vec::len);
        ensure!(failed == 0, "SendMessageBatch failed {failed} entries: {answer}");
        Ok(())
    }

    /// One Lambda REST call with a JSON body; its answer.
    async fn lambda(&mut self, method: &str, path: &str, body: Value) -> anyhow::Result<Value> {
        let headers = [("Content-Type", "application/json")];
        let response = self.send("lambda", method, path, &headers, body.to_string().as_bytes()).await?;
        if !(200..300).contains(&response.status) {
            bail!("Lambda {method} {path} answered {}: {}", response.status, response.body_text());
        }
        serde_json::from_slice(&response.body).with_context(|| format!("parse Lambda {method} {path}"))
    }

    /// CreateEventSourceMapping (no batching window).
    async fn create_mapping(&mut self, queue_arn: &str, function: &str, batch_size: usize) -> anyhow::Result<()> {
        let body = json!({ "EventSourceArn": queue_arn, "FunctionName": function, "BatchSize": batch_size });
        self.lambda("POST", "/2015-03-31/event-source-mappings", body).await?;
        Ok(())
    }

    /// One S3 REST call; an error unless it answered 2xx.
    async fn s3(&mut self, method: &str, path: &str, body: &[u8]) -> anyhow::Result<Response> {
        let response = self.send("s3", method, path, &[], body).await?;
        if !(200..300).contains(&response.status) {
            bail!("S3 {method} {path} answered {}: {}", response.status, response.body_text());
        }
        Ok(response)
    }
}

/// A latency run's outcome: its samples, or why it could not run.
type Latency = Result<Summary, String>;

/// A throughput run at one batch size.
struct Drain {
    batch_size: usize,
    messages: usize,
    seconds: f64,
    /// Log streams (execution environments) that ran the mapping's batches.
    environments: usize,
    baseline_calls: usize,
    baseline_seconds: f64,
}

pub async fn run(args: &Args, rounds: usize) -> anyhow::Result<()> {
    ensure!(rounds > 0, "--event-sources needs at least one round");
    let binary = server_binary(args.server.as_deref())?;
    let mut server = Server::start(&binary).await?;
    let outcome = measure(&mut server, args, rounds).await;
    if outcome.is_err() {
        eprintln!("server log:\n{}", server.log_tail());
    }
    server.stop().await?;
    let (latencies, drains) = outcome?;
    print_tables(rounds, &latencies, &drains);
    Ok(())
}

async fn measure(
    server: &mut Server,
    args: &Args,
    rounds: usize,
) -> anyhow::Result<(Vec<(String, Latency)>, Vec<Drain>)> {
    let mut api = Api::connect(server.addr).await?;
    let latency_zip = fixtures::zip_files(&[("app.py", LATENCY_APP.as_bytes(), 0o644)])?;
    let nothing_zip = fixtures::zip_files(&[("app.py", NOTHING_APP.as_bytes(), 0o644)])?;
    let memory_mb = args.memory_size;
    let mut latencies = Vec::new();

    eprintln!("== event sources: Invoke (baseline), {rounds} rounds {SPACING:?} apart");
    let name = "es-invoke";
    create(server, name, &latency_zip, memory_mb).await?;
    let baseline = invoke_latency(server, name, rounds).await?;
    latencies.push(("Invoke (baseline): send → handler".to_owned(), Ok(baseline)));

    for batch_size in [1, 10] {
        eprintln!("== event sources: SQS, BatchSize {batch_size}, {rounds} messages {SPACING:?} apart");
        let name = format!("es-sqs-b{batch_size}");
        create(server, &name, &latency_zip, memory_mb).await?;
        let summary = sqs_latency(server, &mut api, &name, batch_size, rounds).await?;
        latencies.push((format!("SQS, BatchSize {batch_size}: SendMessage → handler"), Ok(summary)));
    }

    eprintln!("== event sources: S3 notifications, {rounds} objects {SPACING:?} apart");
    let name = "es-s3";
    create(server, name, &latency_zip, memory_mb).await?;
    let s3 = s3_latency(server, &mut api, name, rounds).await.map_err(|e| format!("{e:#}"));
    if let Err(e) = &s3 {
        eprintln!("   unavailable: {e}");
    }
    latencies.push(("S3 PutObject → handler (asynchronous)".to_owned(), s3));

    let messages = (rounds * 10).min(DRAIN_MESSAGES);
    let mut drains = Vec::new();
    for batch_size in [1, 10] {
        eprintln!("== event sources: {messages} queued messages through a mapping of BatchSize {batch_size}");
        let name = format!("es-drain-b{batch_size}");
        create(server, &name, &nothing_zip, memory_mb).await?;
        drains.push(drain(server, &mut api, &name, batch_size, messages).await?);
    }
    Ok((latencies, drains))
}

/// CreateFunction of a Python 3.12 fixture.
async fn create(server: &mut Server, name: &str, zip: &[u8], memory_mb: u32) -> anyhow::Result<()> {
    let def = FunctionDef { name, runtime: "python3.12", handler: "app.handler", zip, memory_mb, timeout_s: 10 };
    server.create_function(&def).await
}

/// Sends `rounds` stamps through `send`, one every [`SPACING`], after one
/// untimed warm-up stamp whose line is awaited first; then the `LAT` lines.
async fn timed_sends<F>(server: &mut Server, function: &str, rounds: usize, mut send: F) -> anyhow::Result<Summary>
where
    F: AsyncFnMut(String) -> anyhow::Result<()>,
{
    let since_ms = (now_epoch() * 1e3) as i64 - 1000;
    send(format!("W{:.6}", now_epoch())).await?;
    lines(server, function, "WARM", 1, since_ms).await.context("the warm-up message")?;
    let mut ticks = tokio::time::interval(SPACING);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for _ in 0..rounds {
        ticks.tick().await;
        send(format!("{:.6}", now_epoch())).await?;
    }
    let seconds = lines(server, function, "LAT", rounds, since_ms).await?;
    Ok(Summary::of_ms(&seconds.iter().map(|s| s * 1e3).collect::<Vec<_>>()))
}

/// The baseline: synchronous Invokes whose event carries the stamp as an SQS record's body.
async fn invoke_latency(server: &mut Server, function: &str, rounds: usize) -> anyhow::Result<Summary> {
    let mut conn = Conn::connect(server.addr).await?;
    let path = invoke_path(function);
    timed_sends(server, function, rounds, async |stamp| {
        let event = json!({ "Records": [{ "body": stamp }] }).to_string();
        invoke(&mut conn, &path, event.as_bytes(), false).await.map(drop)
    })
    .await
}

/// Messages through a mapping of `batch_size` to `function`.
async fn sqs_latency(
    server: &mut Server,
    api: &mut Api,
    function: &str,
    batch_size: usize,
    rounds: usize,
) -> anyhow::Result<Summary> {
    let (url, arn) = api.create_queue(function).await?;
    api.create_mapping(&arn, function, batch_size).await?;
    timed_sends(server, function, rounds, async |stamp| api.send_message(&url, &stamp).await).await
}

/// Objects `k/<stamp>` put in a bucket whose notification configuration
/// sends `s3:ObjectCreated:*` to `function`.
async fn s3_latency(server: &mut Server, api: &mut Api, function: &str, rounds: usize) -> anyhow::Result<Summary> {
    api.s3("PUT", &format!("/{BUCKET}"), b"").await?;
    let permission = json!({
        "StatementId": "s3-notifications",
        "Action": "lambda:InvokeFunction",
        "Principal": "s3.amazonaws.com",
        "SourceArn": format!("arn:aws:s3:::{BUCKET}"),
        "SourceAccount": ACCOUNT,
    });
    api.lambda("POST", &format!("/2015-03-31/functions/{function}/policy"), permission).await?;
    let config = format!(
        r#"<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><CloudFunctionConfiguration><Id>bench</Id><CloudFunction>arn:aws:lambda:us-east-1:{ACCOUNT}:function:{function}</CloudFunction><Event>s3:ObjectCreated:*</Event></CloudFunctionConfiguration></NotificationConfiguration>"#
    );
    api.s3("PUT", &format!("/{BUCKET}?notification"), config.as_bytes())
        .await
        .context("S3 event notifications are not served")?;
    timed_sends(server, function, rounds, async |stamp| {
        api.s3("PUT", &format!("/{BUCKET}/k/{stamp}"), b"x").await.map(drop)
    })
    .await
}

/// Every event matching `pattern` in the function's log group since
/// `since_ms`, page after page; none while the group does not exist yet.
async fn log_events(server: &mut Server, function: &str, pattern: &str, since_ms: i64) -> anyhow::Result<Vec<Value>> {
    let mut events = Vec::new();
    let mut next_token: Option<Value> = None;
    loop {
        let mut request = json!({
            "logGroupName": format!("/aws/lambda/{function}"),
            "filterPattern": pattern,
            "startTime": since_ms,
        });
        if let Some(token) = next_token.take() {
            request["nextToken"] = token;
        }
        let mut page = match server.filter_log_events(&request).await {
            Ok(page) => page,
            Err(e) if events.is_empty() && format!("{e:#}").contains("ResourceNotFoundException") => return Ok(events),
            Err(e) => return Err(e),
        };
        if let Value::Array(more) = page["events"].take() {
            events.extend(more);
        }
        match page.get("nextToken") {
            Some(token) if !token.is_null() => next_token = Some(token.clone()),
            _ => return Ok(events),
        }
    }
}

/// Waits for `count` lines `TAG <seconds>` in the function's log group
/// since `since_ms`; their values.
async fn lines(
    server: &mut Server,
    function: &str,
    tag: &str,
    count: usize,
    since_ms: i64,
) -> anyhow::Result<Vec<f64>> {
    let started = Instant::now();
    let prefix = format!("{tag} ");
    loop {
        let values: Vec<f64> = log_events(server, function, tag, since_ms)
            .await?
            .iter()
            .filter_map(|event| event["message"].as_str()?.trim().strip_prefix(&prefix)?.trim().parse().ok())
            .collect();
        if values.len() >= count {
            return Ok(values);
        }
        if started.elapsed() > LINES_TIMEOUT {
            bail!("{} of {count} {tag} lines of {function} after {LINES_TIMEOUT:?}", values.len());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `messages` queued first, then a mapping of `batch_size` created and
/// timed until the queue is empty; beside it, as many synchronous Invokes
/// as the mapping makes batches, with events of the same size.
async fn drain(
    server: &mut Server,
    api: &mut Api,
    function: &str,
    batch_size: usize,
    messages: usize,
) -> anyhow::Result<Drain> {
    let (url, arn) = api.create_queue(function).await?;
    let body = |i: usize| format!("{:.6}", now_epoch() + i as f64 * 1e-6);

    // One message received by hand shows what the poller's records look like.
    api.send_message(&url, &body(0)).await?;
    let received = api
        .sqs(
            "ReceiveMessage",
            json!({ "QueueUrl": url, "MaxNumberOfMessages": 1, "AttributeNames": ["All"], "WaitTimeSeconds": 1 }),
        )
        .await?;
    let message = received["Messages"].get(0).context("ReceiveMessage answered no message")?.clone();
    let handle = message["ReceiptHandle"].as_str().context("no ReceiptHandle")?;
    api.sqs("DeleteMessage", json!({ "QueueUrl": url, "ReceiptHandle": handle })).await?;
    let record = json!({
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message["Attributes"],
        "messageAttributes": {},
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": "us-east-1",
    });
    let event = json!({ "Records": vec![record; batch_size] }).to_string();

    // The baseline, on one connection, after ten untimed calls.
    let calls = messages.div_ceil(batch_size);
    let mut conn = Conn::connect(server.addr).await?;
    let path = invoke_path(function);
    for _ in 0..10 {
        invoke(&mut conn, &path, event.as_bytes(), false).await?;
    }
    let started = Instant::now();
    for _ in 0..calls {
        invoke(&mut conn, &path, event.as_bytes(), false).await?;
    }
    let baseline_seconds = started.elapsed().as_secs_f64();
    eprintln!("   baseline: {calls} Invokes in {baseline_seconds:.3} s");
    drop(conn);

    // The queue, filled before the mapping exists.
    let bodies: Vec<String> = (0..messages).map(body).collect();
    for chunk in bodies.chunks(10) {
        api.send_batch(&url, chunk).await?;
    }
    let queued = api.messages_left(&url).await?;
    ensure!(queued == messages as u64, "{queued} messages in the queue, {messages} sent");

    let since_ms = (now_epoch() * 1e3) as i64;
    let started = Instant::now();
    api.create_mapping(&arn, function, batch_size).await?;
    loop {
        tokio::time::sleep(DRAIN_POLL).await;
        if api.messages_left(&url).await? == 0 {
            break;
        }
        if started.elapsed() > DRAIN_TIMEOUT {
            bail!("the queue still held {} messages after {DRAIN_TIMEOUT:?}", api.messages_left(&url).await?);
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let environments = environments(server, function, since_ms).await?;
    eprintln!("   drained in {seconds:.3} s by {environments} environments");
    Ok(Drain { batch_size, messages, seconds, environments, baseline_calls: calls, baseline_seconds })
}

/// How many log streams (one per execution environment) have a REPORT line since `since_ms`.
async fn environments(server: &mut Server, function: &str, since_ms: i64) -> anyhow::Result<usize> {
    let events = log_events(server, function, "REPORT", since_ms).await?;
    let streams: HashSet<&str> = events.iter().filter_map(|e| e["logStreamName"].as_str()).collect();
    Ok(streams.len())
}

fn print_tables(rounds: usize, latencies: &[(String, Latency)], drains: &[Drain]) {
    println!("### Send to handler ({rounds} messages, {} ms apart)", SPACING.as_millis());
    println!();
    println!("| path | n | p50 ms | p99 ms | p50 / Invoke | p99 / Invoke |");
    println!("|---|---:|---:|---:|---:|---:|");
    let baseline = latencies.first().and_then(|(_, l)| l.as_ref().ok()).copied().unwrap_or_default();
    let mut unavailable = Vec::new();
    for (label, latency) in latencies {
        match latency {
            Ok(s) => println!(
                "| {label} | {} | {:.2} | {:.2} | {:.2} | {:.2} |",
                s.count,
                s.p50_ms,
                s.p99_ms,
                s.p50_ms / baseline.p50_ms,
                s.p99_ms / baseline.p99_ms
            ),
            Err(why) => {
                println!("| {label} | unavailable | | | | |");
                unavailable.push((label, why));
            }
        }
    }
    for (label, why) in unavailable {
        println!("\n{label}: unavailable ({why})");
    }
    println!();
    println!("### Queued messages through a mapping, beside synchronous Invokes on one connection");
    println!();
    println!(
        "| BatchSize | messages | mapping: queue drained | environments | Invoke: calls | Invoke | mapping / Invoke |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for d in drains {
        let mapping = d.messages as f64 / d.seconds;
        let direct = d.messages as f64 / d.baseline_seconds;
        println!(
            "| {} | {} | {:.0} msg/s ({:.3} s) | {} | {} | {:.0} msg/s ({:.3} s) | {:.2} |",
            d.batch_size,
            d.messages,
            mapping,
            d.seconds,
            d.environments,
            d.baseline_calls,
            direct,
            d.baseline_seconds,
            mapping / direct
        );
    }
}
