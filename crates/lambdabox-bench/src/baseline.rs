//! The baselines every figure is set beside: a bare loopback HTTP echo
//! server (the floor of one HTTP round trip with the harness's own client)
//! and bare process starts (fork + exec to exit) outside any sandbox.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

/// A hyper HTTP/1.1 server that answers every request with its body, on its
/// own multi-threaded runtime (as many workers as Lambdabox's) and thread.
pub struct EchoServer {
    pub addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

async fn echo(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let body = request.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let mut response = Response::new(Full::new(body));
    response.headers_mut().insert("content-type", hyper::header::HeaderValue::from_static("application/json"));
    Ok(response)
}

impl EchoServer {
    pub fn start() -> anyhow::Result<Self> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").context("bind echo server")?;
        listener.set_nonblocking(true).context("make the echo listener non-blocking")?;
        let addr = listener.local_addr().context("echo server address")?;
        let (tx, mut rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("echo-server".into())
            .spawn(move || {
                let runtime =
                    tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("echo server runtime");
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener).expect("echo listener");
                    loop {
                        tokio::select! {
                            _ = &mut rx => return,
                            accepted = listener.accept() => {
                                let Ok((stream, _)) = accepted else { continue };
                                let _ = stream.set_nodelay(true);
                                tokio::spawn(async move {
                                    let _ = http1::Builder::new()
                                        .serve_connection(TokioIo::new(stream), service_fn(echo))
                                        .await;
                                });
                            }
                        }
                    }
                });
                runtime.shutdown_timeout(Duration::from_secs(1));
            })
            .context("start echo server thread")?;
        Ok(Self { addr, shutdown: Some(tx), thread: Some(thread) })
    }
}

impl Drop for EchoServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Times `count` runs of a program from fork to its exit, after `warmup`
/// untimed runs (which fill the page cache).
pub fn process_starts(program: &Path, args: &[&str], warmup: usize, count: usize) -> anyhow::Result<Vec<Duration>> {
    let run = || -> anyhow::Result<Duration> {
        let started = Instant::now();
        let status = Command::new(program)
            .args(args)
            .env_remove("AWS_LAMBDA_RUNTIME_API")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .with_context(|| format!("run {}", program.display()))?;
        let elapsed = started.elapsed();
        anyhow::ensure!(status.success(), "{} {args:?} exited with {status}", program.display());
        Ok(elapsed)
    };
    for _ in 0..warmup {
        run()?;
    }
    (0..count).map(|_| run()).collect()
}
