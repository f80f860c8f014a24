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
    /// Serves `listener` for `caller` until the task is aborted (the
    /// environment is retired; its connections end with its processes).
    fn serve(&self, listener: tokio::net::TcpListener, caller: EndpointCaller) -> tokio::task::JoinHandle<()>;
}

/// The task serving an environment's endpoint, aborted when dropped.
pub(crate) struct EndpointTask(tokio::task::JoinHandle<()>);

impl EndpointTask {
    pub(crate) fn start(
        endpoint: &Arc<dyn InsideEndpoint>,
        listener: std::net::TcpListener,
        caller: EndpointCaller,
    ) -> std::io::Result<Self> {
        listener.set_nonblocking(true)?;
        let listener = tokio::net::TcpListener::from_std(listener)?;
        Ok(Self(endpoint.serve(listener, caller)))
    }
}

impl Drop for EndpointTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}
