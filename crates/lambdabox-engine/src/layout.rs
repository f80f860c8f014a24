//! What an execution environment looks like from inside, shared by the
//! environments built for a cold start (`environment.rs`) and the spare
//! sandboxes and zygotes built ahead (`spares.rs`): where the Runtime API
//! listens, the variables every runtime starts with, the size of a spare's
//! `/tmp`, the pipe a sandbox's output goes to, and its place on the
//! function network.

use std::io;
use std::os::fd::OwnedFd;

use crate::EngineError;

/// Where the Runtime API listens inside every environment, as on AWS.
pub(crate) const RUNTIME_API_ADDR: &str = "127.0.0.1:9001";

/// Where the environment's own AWS endpoint listens (`AWS_ENDPOINT_URL`),
/// when the server serves one (see `endpoint.rs`).
pub(crate) const AWS_ENDPOINT_ADDR: &str = "127.0.0.1:9002";

/// `/tmp` of a spare: AWS's default ephemeral storage (a function with more
/// has it resized when the spare is assigned).
pub(crate) const SPARE_TMP_BYTES: u64 = 512 << 20;

/// The pipe a sandbox's stdout and stderr both write to: (read end, the
/// write end for stdout, a copy of it for stderr).
pub(crate) fn output_pipe() -> Result<(OwnedFd, OwnedFd, OwnedFd), EngineError> {
    let (reader, writer) = io::pipe().map_err(|source| EngineError::Pipe { source })?;
    let stderr = writer.try_clone().map_err(|source| EngineError::Pipe { source })?;
    Ok((reader.into(), writer.into(), stderr.into()))
}

/// The variables every runtime starts with, before the function's.
pub(crate) fn base_env() -> Vec<(String, String)> {
    vec![
        ("PATH".into(), "/usr/local/bin:/usr/bin/:/bin:/opt/bin".into()),
        (
            "LD_LIBRARY_PATH".into(),
            "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib".into(),
        ),
        ("LANG".into(), "en_US.UTF-8".into()),
        ("TZ".into(), ":UTC".into()),
    ]
}

/// Gives a sandbox its `eth0` on the function network, when there is one
/// (blocking: runs `ip`).
pub(crate) fn attach_network(
    network: Option<&lambdabox_network::FunctionNetwork>,
    sandbox: &lambdabox_sandbox::Sandbox,
) -> Result<Option<lambdabox_network::Lease>, EngineError> {
    let Some(network) = network else { return Ok(None) };
    network
        .attach(sandbox.pid().as_raw())
        .map(Some)
        .map_err(|source| EngineError::Network { id: sandbox.id().to_owned(), source })
}
