//! Measures the warm invocation round trip through the Runtime API: the time
//! from calling `RuntimeApi::invoke` to holding the outcome. Prints figures;
//! asserts nothing.
//!
//! Three runtimes, from the full stack down to our share of it:
//! 1. `lambda_echo` (the official `lambda_runtime` crate, a separate process,
//!    over TCP on 127.0.0.1);
//! 2. a minimal in-process runtime speaking raw HTTP/1.1 over one keep-alive
//!    TCP connection (the HTTP exchanges with almost no client cost);
//! 3. the same loop calling the router in memory, with no socket and no HTTP
//!    parsing: the cost of the mailbox, routing and handlers alone.
//!
//! Run: `cargo build --release -p lambdabox-runtime-api --examples &&
//! cargo run --release -p lambdabox-runtime-api --example invoke_latency`

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use bytes::Bytes;
use http_body_util::BodyExt;
use lambdabox_runtime_api::{Invocation, InvocationOutcome, RuntimeApi, serve};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

const WARMUP: usize = 500;
const SAMPLES: usize = 5_000;

fn invocation(i: usize) -> Invocation {
    Invocation {
        request_id: format!("00000000-0000-4000-8000-{i:012}"),
        payload: Bytes::from_static(b"{\"n\":1}"),
        deadline_epoch_ms: 4_102_444_800_000,
        invoked_function_arn: "arn:aws:lambda:us-east-1:123456789012:function:echo".to_owned(),
        trace_id: "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1".to_owned(),
        client_context: None,
        cognito_identity: None,
    }
}

async fn measure(api: &RuntimeApi) -> Vec<Duration> {
    let mut samples = Vec::with_capacity(SAMPLES);
    for i in 0..WARMUP + SAMPLES {
        let inv = invocation(i);
        let start = Instant::now();
        let outcome = api.invoke(inv).await.expect("invoke");
        let elapsed = start.elapsed();
        assert!(matches!(outcome, InvocationOutcome::Response(_)));
        if i >= WARMUP {
            samples.push(elapsed);
        }
    }
    samples
}

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    let mean = samples.iter().sum::<Duration>() / samples.len() as u32;
    println!(
        "{name:<44} n={:<5} median={:>7.1}µs p90={:>7.1}µs p99={:>7.1}µs mean={:>7.1}µs max={:>8.1}µs",
        samples.len(),
        at(0.5).as_secs_f64() * 1e6,
        at(0.9).as_secs_f64() * 1e6,
        at(0.99).as_secs_f64() * 1e6,
        mean.as_secs_f64() * 1e6,
        samples[samples.len() - 1].as_secs_f64() * 1e6,
    );
}

async fn served() -> (RuntimeApi, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let api = RuntimeApi::new();
    tokio::spawn(serve(listener, api.clone()));
    (api, addr)
}

fn echo_binary() -> PathBuf {
    let dir = std::env::current_exe().expect("current exe").parent().expect("examples dir").to_path_buf();
    let path = dir.join(format!("lambda_echo{}", std::env::consts::EXE_SUFFIX));
    if !path.exists() {
        eprintln!(
            "{} is missing: build it with `cargo build --release -p lambdabox-runtime-api --examples`",
            path.display()
        );
        std::process::exit(2);
    }
    path
}

async fn with_lambda_runtime() {
    let (api, addr) = served().await;
    let mut child = tokio::process::Command::new(echo_binary())
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "echo")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "stream")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/echo")
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn lambda_echo");
    tokio::select! {
        ready = api.wait_ready() => ready.expect("init"),
        status = child.wait() => panic!("lambda_echo exited: {status:?}"),
    }
    let samples = tokio::select! {
        samples = measure(&api) => samples,
        status = child.wait() => panic!("lambda_echo exited: {status:?}"),
    };
    report("lambda_runtime echo (process, TCP)", samples);
    child.kill().await.expect("kill");
}

/// Reads one response's status and body; returns the request id header if any.
async fn read_response(reader: &mut BufReader<TcpStream>, line: &mut String) -> Option<String> {
    let mut request_id = None;
    let mut length = 0usize;
    line.clear();
    reader.read_line(line).await.expect("status");
    loop {
        line.clear();
        reader.read_line(line).await.expect("header");
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':').expect("header line");
        if name.eq_ignore_ascii_case("content-length") {
            length = value.trim().parse().expect("length");
        } else if name.eq_ignore_ascii_case("lambda-runtime-aws-request-id") {
            request_id = Some(value.trim().to_owned());
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await.expect("body");
    request_id
}

async fn with_raw_http() {
    let (api, addr) = served().await;
    tokio::spawn(async move {
        let stream = TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        loop {
            reader
                .get_mut()
                .write_all(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n")
                .await
                .expect("write next");
            let id = read_response(&mut reader, &mut line).await.expect("request id");
            let request = format!(
                "POST /2018-06-01/runtime/invocation/{id}/response HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\n{{\"n\":1}}"
            );
            reader.get_mut().write_all(request.as_bytes()).await.expect("write response");
            read_response(&mut reader, &mut line).await;
        }
    });
    api.wait_ready().await.expect("ready");
    report("raw HTTP/1.1 runtime (in process, TCP)", measure(&api).await);
}

async fn in_memory() {
    let api = RuntimeApi::new();
    let router = api.router();
    tokio::spawn(async move {
        loop {
            let next = Request::get("/2018-06-01/runtime/invocation/next").body(Body::empty()).expect("request");
            let response = router.clone().oneshot(next).await.expect("next");
            let id = response.headers()["lambda-runtime-aws-request-id"].to_str().expect("id").to_owned();
            let event = response.into_body().collect().await.expect("body").to_bytes();
            let reply = Request::post(format!("/2018-06-01/runtime/invocation/{id}/response"))
                .body(Body::from(event))
                .expect("request");
            let response = router.clone().oneshot(reply).await.expect("response");
            assert_eq!(response.status(), 202);
        }
    });
    api.wait_ready().await.expect("ready");
    report("router in memory (no socket, no HTTP parsing)", measure(&api).await);
}

fn main() {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio runtime");
    runtime.block_on(async {
        println!("warm invoke() round trip, {WARMUP} warm-up + {SAMPLES} samples each");
        with_lambda_runtime().await;
        with_raw_http().await;
        in_memory().await;
    });
}
