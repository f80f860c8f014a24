//! Serves a [`RuntimeApi`] on a TCP listener: HTTP/1.1 with keep-alive,
//! `TCP_NODELAY` (the exchanges are small request/reply pairs) and header names
//! written in title case (`Lambda-Runtime-Aws-Request-Id`), as Go's server in
//! AWS's RAPID writes them, for runtimes that match header names exactly.

use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::RuntimeApi;

/// The most connections one environment may hold open to its Runtime API.
/// A runtime uses one (two with an extension); a function that opens
/// thousands must not take the server's descriptors with them: past this,
/// connections wait in the listen backlog (which costs the server nothing)
/// until one of the open ones closes.
pub const MAX_CONNECTIONS: usize = 64;

/// Accepts connections on `listener` and serves `api` on each until this
/// future is dropped, which also closes every connection it opened.
pub async fn serve(listener: TcpListener, api: RuntimeApi) {
    let service = TowerToHyperService::new(api.router());
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept(), if connections.len() < MAX_CONNECTIONS => {
                let stream = match accepted {
                    Ok((stream, _peer)) => stream,
                    Err(error) => {
                        // Out of file descriptors and the like: back off a
                        // little instead of spinning on the failing accept.
                        tracing::warn!(%error, "runtime api: accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                if let Err(error) = stream.set_nodelay(true) {
                    tracing::debug!(%error, "runtime api: cannot set TCP_NODELAY");
                }
                let service = service.clone();
                connections.spawn(async move {
                    let served = http1::Builder::new()
                        .title_case_headers(true)
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                    if let Err(error) = served {
                        tracing::debug!(%error, "runtime api: connection ended with an error");
                    }
                });
            }
            Some(_finished) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}
