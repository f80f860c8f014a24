//! Platform failures of the engine (not function failures: those are
//! [`crate::Outcome`]s).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("unpack code into {path}")]
    Unpack { path: PathBuf, source: std::io::Error },
    #[error("install runtime clients into {path}")]
    InstallRuntime { path: PathBuf, source: std::io::Error },
    #[error("open log stream {path}")]
    Logs { path: PathBuf, source: std::io::Error },
    #[error("create output pipe")]
    Pipe { source: std::io::Error },
    #[error("listen for the runtime api")]
    Listen { source: std::io::Error },
    #[error("attach sandbox {id} to the function network")]
    Network { id: String, source: lambdabox_network::NetworkError },
    #[error("detect cgroups")]
    Cgroups { source: lambdabox_sandbox::CgroupError },
    #[error("sandbox {id}")]
    Sandbox { id: String, source: lambdabox_sandbox::SandboxError },
    #[error(
        "data dir {data_dir} is not reachable by the sandbox user: {blocking} does not let others traverse it (chmod o+x it, or choose a data dir elsewhere)"
    )]
    Unreachable { data_dir: PathBuf, blocking: PathBuf },
    #[error("runtime {runtime} is not served here")]
    UnknownRuntime { runtime: String },
    #[error("every sandbox uid from {first} (+1 .. {count}) is in use")]
    NoSandboxIds { first: u32, count: u32 },
}
