//! Test helpers: a Runtime API served on 127.0.0.1:0 and a raw HTTP/1.1 client
//! over a `TcpStream`, so tests see the exact bytes a runtime would.

#![allow(dead_code)] // each test binary uses its own subset

use std::net::SocketAddr;

use bytes::Bytes;
use lambdabox_runtime_api::{Invocation, RuntimeApi, serve};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

pub struct Server {
    pub api: RuntimeApi,
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn start() -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local addr");
    let api = RuntimeApi::new();
    let task = tokio::spawn(serve(listener, api.clone()));
    Server { api, addr, task }
}

pub fn invocation(request_id: &str, payload: &str) -> Invocation {
    Invocation {
        request_id: request_id.to_owned(),
        payload: Bytes::copy_from_slice(payload.as_bytes()),
        deadline_epoch_ms: 1_542_409_706_888,
        invoked_function_arn: "arn:aws:lambda:us-east-1:123456789012:function:echo".to_owned(),
        trace_id: "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1".to_owned(),
        client_context: None,
        cognito_identity: None,
    }
}

/// One HTTP response as read off the socket.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    /// Header lines exactly as sent (name case preserved).
    pub header_lines: Vec<String>,
    pub body: Vec<u8>,
}

impl RawResponse {
    /// The value of header `name` (case-insensitive), if sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.header_lines.iter().find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    pub fn body_str(&self) -> &str {
        std::str::from_utf8(&self.body).expect("utf-8 body")
    }
}

/// A keep-alive connection to the server.
pub struct Conn {
    reader: BufReader<TcpStream>,
}

impl Conn {
    pub async fn open(addr: SocketAddr) -> Conn {
        let stream = TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        Conn { reader: BufReader::new(stream) }
    }

    /// Sends raw bytes (a hand-written request).
    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.reader.get_mut().write_all(bytes).await.expect("write request");
    }

    pub async fn request(&mut self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> RawResponse {
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:9001\r\n");
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if method != "GET" || !body.is_empty() {
            head.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        let mut request = head.into_bytes();
        request.extend_from_slice(body);
        self.send_raw(&request).await;
        self.read_response().await
    }

    pub async fn read_response(&mut self) -> RawResponse {
        let mut status_line = String::new();
        self.reader.read_line(&mut status_line).await.expect("read status line");
        assert!(status_line.starts_with("HTTP/1.1 "), "bad status line {status_line:?}");
        let status = status_line[9..12].parse().expect("status code");
        let mut header_lines = Vec::new();
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).await.expect("read header");
            let line = line.trim_end_matches(['\r', '\n']).to_owned();
            if line.is_empty() {
                break;
            }
            header_lines.push(line);
        }
        let mut response = RawResponse { status, header_lines, body: Vec::new() };
        if let Some(length) = response.header("content-length") {
            let mut body = vec![0; length.parse().expect("content-length")];
            self.reader.read_exact(&mut body).await.expect("read body");
            response.body = body;
        } else if response.header("transfer-encoding").is_some_and(|te| te.eq_ignore_ascii_case("chunked")) {
            response.body = self.read_chunked().await;
        }
        response
    }

    async fn read_chunked(&mut self) -> Vec<u8> {
        let mut body = Vec::new();
        loop {
            let mut size = String::new();
            self.reader.read_line(&mut size).await.expect("chunk size");
            let size = usize::from_str_radix(size.trim(), 16).expect("hex chunk size");
            if size == 0 {
                let mut end = String::new();
                self.reader.read_line(&mut end).await.expect("chunk end");
                return body;
            }
            let mut chunk = vec![0; size + 2];
            self.reader.read_exact(&mut chunk).await.expect("chunk");
            body.extend_from_slice(&chunk[..size]);
        }
    }
}

/// One request on a fresh connection.
pub async fn request(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> RawResponse {
    Conn::open(addr).await.request(method, path, headers, body).await
}

pub async fn next(addr: SocketAddr) -> RawResponse {
    request(addr, "GET", "/2018-06-01/runtime/invocation/next", &[], b"").await
}

pub async fn post_response(addr: SocketAddr, request_id: &str, body: &[u8]) -> RawResponse {
    let path = format!("/2018-06-01/runtime/invocation/{request_id}/response");
    request(addr, "POST", &path, &[], body).await
}

pub const ACCEPTED: &str = "{\"status\":\"OK\"}\n";
pub const INVALID_REQUEST_ID: &str = "{\"errorMessage\":\"Invalid request ID\",\"errorType\":\"InvalidRequestID\"}\n";

/// The path of an example binary that `cargo test` builds next to the test
/// binaries (`target/<profile>/examples/<name>`).
pub fn example_binary(name: &str) -> std::path::PathBuf {
    let test_binary = std::env::current_exe().expect("current exe");
    let profile_dir = test_binary.parent().and_then(std::path::Path::parent).expect("target/<profile>/deps/<test>");
    let path = profile_dir.join("examples").join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "example binary {} is missing: run the tests with plain `cargo test -p lambdabox-runtime-api` \
         (which builds examples) or build it first with `cargo build -p lambdabox-runtime-api --example {name}`",
        path.display()
    );
    path
}
