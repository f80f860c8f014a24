//! The errors of sandbox creation and control: each variant names the
//! operation that failed and carries the context needed to act on it. (A
//! spec's own [`SpecError`] lives with the spec, in `spec.rs`.)

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;

use nix::errno::Errno;

use crate::cgroup::CgroupError;
use crate::spec::SpecError;

/// The step of the sandboxed child's set-up that failed (reported back from
/// the child before `execve`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChildStep {
    /// Closing the descriptors the child must not keep.
    CloseFds,
    /// Starting a session and process group of its own.
    Session,
    /// Waiting for the parent's go-ahead.
    Sync,
    /// Becoming the sandbox's uid and gid.
    Credentials,
    /// Setting the `index`th of the sandbox's resource limits.
    ResourceLimits { index: usize },
    /// Entering a new cgroup namespace.
    CgroupNamespace,
    /// One step of building the root filesystem.
    Rootfs { action: String },
    /// Setting the hostname.
    Hostname,
    /// Bringing `lo` up.
    Loopback,
    /// Wiring stdin, stdout and stderr.
    Stdio,
    /// Changing into the working directory.
    Chdir { path: PathBuf },
    /// Dropping every capability.
    DropCapabilities,
    /// Installing the seccomp filters (with `no_new_privs`).
    Seccomp,
    /// Starting the program as the child of the sandbox's init.
    StartProgram,
    /// `execve` of the program.
    Exec,
}

impl fmt::Display for ChildStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CloseFds => f.write_str("close inherited descriptors"),
            Self::Session => f.write_str("start a new session"),
            Self::Sync => f.write_str("wait for the parent"),
            Self::Credentials => f.write_str("switch to the sandbox uid and gid"),
            Self::ResourceLimits { index } => write!(f, "set resource limit {index}"),
            Self::CgroupNamespace => f.write_str("enter a new cgroup namespace"),
            Self::Rootfs { action } => write!(f, "rootfs: {action}"),
            Self::Hostname => f.write_str("set the hostname"),
            Self::Loopback => f.write_str("bring the loopback interface up"),
            Self::Stdio => f.write_str("set up stdin, stdout and stderr"),
            Self::Chdir { path } => write!(f, "change directory to {}", path.display()),
            Self::DropCapabilities => f.write_str("drop capabilities"),
            Self::Seccomp => f.write_str("install the seccomp filter"),
            Self::StartProgram => f.write_str("start the program under the sandbox's init"),
            Self::Exec => f.write_str("execute the program"),
        }
    }
}

/// Everything that can go wrong creating, starting, controlling or cleaning
/// up a sandbox.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("invalid sandbox spec")]
    InvalidSpec(#[from] SpecError),
    #[error("inspect host path {path:?} for the rootfs")]
    InspectHostPath { path: PathBuf, source: io::Error },
    #[error("open bind mount source {path:?}")]
    OpenBindSource { path: PathBuf, source: io::Error },
    #[error("compile the seccomp filter")]
    CompileSeccomp { source: seccompiler::Error },
    #[error("cgroup of sandbox {id}")]
    Cgroup { id: String, source: CgroupError },
    #[error("create the parent/child socket pair")]
    SocketPair { source: Errno },
    #[error("create the pipe for the init's exit report")]
    ReportPipe { source: Errno },
    #[error("clone the sandbox process")]
    Clone { source: Errno },
    #[error("write the id map {path:?}")]
    WriteIdMap { path: PathBuf, source: io::Error },
    #[error("talk to the sandbox process of {id}")]
    ChildChannel { id: String, source: Errno },
    #[error("sandbox process of {id} exited during set-up")]
    ChildVanished { id: String },
    #[error("sandbox {id} set-up step failed: {step}")]
    ChildSetup { id: String, step: ChildStep, source: Errno },
    #[error("execute {program:?} in sandbox {id}")]
    Exec { id: String, program: String, source: Errno },
    #[error("sandbox {id} was already started")]
    AlreadyStarted { id: String },
    #[error("sandbox {id} is not a spare waiting for its assignment")]
    NotSpare { id: String },
    #[error("spare sandbox {id} cannot start before it is assigned a program")]
    NotAssigned { id: String },
    #[error("open a pidfd for sandbox {id}")]
    OpenPidfd { id: String, source: Errno },
    #[error("open the network namespace {path:?}")]
    OpenNetns { path: PathBuf, source: io::Error },
    #[error("open the mount namespace {path:?}")]
    OpenMountNs { path: PathBuf, source: io::Error },
    #[error("enter the network namespace of sandbox {id}")]
    EnterNetns { id: String, source: Errno },
    #[error("bind a TCP listener on {addr} in sandbox {id}")]
    ListenTcp { id: String, addr: SocketAddr, source: io::Error },
    #[error("signal sandbox {id}")]
    Signal { id: String, source: Errno },
    #[error("wait for sandbox {id}")]
    Wait { id: String, source: Errno },
}
