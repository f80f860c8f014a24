//! The AWS endpoint inside every execution environment.
//!
//! Each environment's network namespace gets a second listener beside the
//! Runtime API's, bound by the server at [`AWS_ENDPOINT_ADDR`]
//! (`AWS_ENDPOINT_URL` points there). The engine knows nothing of the
//! services behind it: the binary gives it an [`InsideEndpoint`] that serves
//! the listener with the same dispatcher as the main port, knowing from the
//! listener itself which environment is calling. The environment's minted
//! credentials are in its variables and valid only there.
//!
//! [`AWS_ENDPOINT_ADDR`]: crate::layout::AWS_ENDPOINT_ADDR

use std::sync::Arc;

use lambdabox_aws::session::SessionCredentials;
use lambdabox_model::Region;

/// The environment a listener belongs to.
#[derive(Debug, Clone)]
pub struct EndpointCaller {
    pub function_name: String,
    /// The function's execution role.
    pub role: String,
    /// `$LATEST` or a version number.
    pub version: String,
    pub region: Region,
    pub credentials: SessionCredentials,
    /// The depth of the environment's current invocation in its chain.
    pub depth: Arc<std::sync::atomic::AtomicU32>,
}

/// Serves an environment's endpoint listener. Implemented by the binary.
pub trait InsideEndpoint: Send + Sync + std::fmt::Debug + 'static {
    /// Serves `listener` for `caller` until `stop` resolves (the
    /// environment is retired) or the task is aborted.
    fn serve(
        &self,
        listener: tokio::net::TcpListener,
        caller: EndpointCaller,
        stop: tokio::sync::oneshot::Receiver<()>,
    ) -> tokio::task::JoinHandle<()>;
}

/// What an environment keeps of its endpoint: the serving task and the
/// signal that stops it.
pub(crate) struct EndpointTask {
    task: tokio::task::JoinHandle<()>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl EndpointTask {
    pub(crate) fn start(
        endpoint: &Arc<dyn InsideEndpoint>,
        listener: std::net::TcpListener,
        caller: EndpointCaller,
    ) -> std::io::Result<Self> {
        listener.set_nonblocking(true)?;
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let (stop, stopped) = tokio::sync::oneshot::channel();
        Ok(Self { task: endpoint.serve(listener, caller, stopped), stop: Some(stop) })
    }
}

impl Drop for EndpointTask {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.abort();
    }
}
