//! Linux isolation for one execution environment.
//!
//! A [`Sandbox`] is one process tree in its own user, mount, pid, ipc, uts,
//! network and cgroup namespaces, on a fresh read-only root with a private
//! `/tmp`, under memory, pids and cpu limits, behind a seccomp deny-list, and
//! freezable. It is spawned in two phases: [`Sandbox::create`] builds
//! everything and leaves the process waiting just before `execve`, and
//! [`Sandbox::start`] lets it run. In between, the caller can open listening
//! sockets inside the sandbox's network namespace with [`Sandbox::listen_tcp`].
//!
//! The program runs as pid 2 under a minimal init (pid 1) that reaps
//! orphans, forwards termination signals and reports the program's exit
//! status; see the `init` module.
//!
//! This crate knows nothing about what runs inside: no protocol, no HTTP.
//! See the crate's `README.md` for the design and why it is hand-rolled.

mod cgroup;
mod error;
mod exec;
mod init;
mod inject;
mod late;
mod namespaces;
mod process;
mod protocol;
mod rootfs;
mod sandbox;
mod seccomp;
mod spec;

pub use cgroup::{CgroupConfig, CgroupError, CgroupVersion};
pub use error::{ChildStep, SandboxError};
pub use nix::unistd::Pid;
pub use sandbox::{ExitStatus, Sandbox};
pub use spec::{Assignment, BindMount, Identity, Limits, RootfsConfig, SandboxSpec, SpareSpec, SpecError};
