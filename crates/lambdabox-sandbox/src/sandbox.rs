//! [`Sandbox`]: the two-phase life of one isolated process tree, from
//! [`Sandbox::create`] through [`Sandbox::start`] to [`Sandbox::kill`].
//!
//! The sandbox's first process is pid 1 of its pid namespace and, once set
//! up, a minimal init ([`crate::init`]) with the program as its child. The
//! init exits right after the program, reporting the program's wait status
//! on a pipe; the kernel then kills everything else in the namespace. So
//! the init's exit is the sandbox's exit, and [`Sandbox::try_wait`] returns
//! the program's status.

use std::ffi::CString;
use std::fs;
use std::net::{SocketAddr, TcpListener};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::signal::Signal;
use nix::sys::socket::{AddressFamily, SockFlag, SockType, socketpair};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

use crate::cgroup::{Cgroup, CgroupConfig, CgroupError};
use crate::error::{ChildStep, SandboxError};
use crate::exec::ExecPlan;
use crate::init;
use crate::inject;
use crate::late;
use crate::namespaces::{self, ListenError, Setgroups};
use crate::process::{self, ChildPlan};
use crate::protocol::{self, Report, Stage};
use crate::rootfs::{self, RootfsPlan};
use crate::seccomp;
use crate::spec::{self, Assignment, Limits, RootfsConfig, SandboxSpec, SpareSpec, SpecError};

/// How the sandbox's program ended (or, if it never ran, the sandbox's
/// first process: `Exited(127)` for a failed start, `Signaled(SIGKILL)` when
/// killed with the sandbox).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// It called `exit` with this code.
    Exited(i32),
    /// A signal killed it (`SIGKILL` also after an OOM kill).
    Signaled(Signal),
}

impl ExitStatus {
    /// From a raw `waitpid` status word; `None` unless it is an exit or a
    /// death by a signal nix knows (not a real-time one).
    fn from_raw(status: libc::c_int) -> Option<Self> {
        match WaitStatus::from_raw(Pid::from_raw(0), status) {
            Ok(WaitStatus::Exited(_, code)) => Some(Self::Exited(code)),
            Ok(WaitStatus::Signaled(_, signal, _)) => Some(Self::Signaled(signal)),
            _ => None,
        }
    }
}

/// One sandboxed process tree. Dropping it kills everything inside and
/// removes its cgroups; its mounts vanish with its mount namespace.
#[derive(Debug)]
pub struct Sandbox {
    id: String,
    program: String,
    cwd: PathBuf,
    /// The first process: set-up, then the init (pid 1 inside).
    pid: Pid,
    /// Readable once the first process has exited; also used to signal it
    /// without any risk of hitting a recycled pid.
    pidfd: OwnedFd,
    /// The read end (non-blocking) of the pipe on which the init reports
    /// the program's wait status.
    report: OwnedFd,
    netns: Option<OwnedFd>,
    /// The parent's end of the set-up channel, until started.
    channel: Option<OwnedFd>,
    cgroup: Cgroup,
    status: Option<ExitStatus>,
    cleaned_up: bool,
    /// Set for a spare until [`Sandbox::assign`] gives it its program.
    spare: Option<SpareState>,
}

/// What a spare keeps from its spec for its assignment.
#[derive(Debug)]
struct SpareState {
    rootfs: RootfsConfig,
    tmp_size_bytes: u64,
    assigned: bool,
}

impl Sandbox {
    /// Phase 1: creates the cgroup, namespaces and root; the process then
    /// waits just before `execve`, already inside its cgroup and namespaces.
    pub fn create(spec: SandboxSpec, cgroups: &CgroupConfig) -> Result<Sandbox, SandboxError> {
        Self::create_with(spec, cgroups, false, None)
    }

    /// Phase 1 for a program not known yet: creates a *spare* sandbox, with
    /// its cgroup, namespaces and all of its root but the program's binds,
    /// waiting for [`Sandbox::assign`]. [`Sandbox::listen_tcp`] works at
    /// once. This moves nearly all of a sandbox's set-up cost ahead of the
    /// moment a program is needed (Lambdabox keeps a few spares ready).
    pub fn create_spare(spec: SpareSpec, cgroups: &CgroupConfig) -> Result<Sandbox, SandboxError> {
        let (rootfs, tmp_size_bytes) = (spec.rootfs.clone(), spec.tmp_size_bytes);
        let (spec, stdin) = spec.into_spec();
        let mut sandbox = Self::create_with(spec, cgroups, true, stdin)?;
        sandbox.spare = Some(SpareState { rootfs, tmp_size_bytes, assigned: false });
        Ok(sandbox)
    }

    /// Gives a spare its program: sets its limits, binds its files, resizes
    /// `/tmp` if asked, finishes the root (`pivot_root`, read-only) and
    /// records the program. Then [`Sandbox::start`] runs it as for a
    /// sandbox made by [`Sandbox::create`].
    pub fn assign(&mut self, assignment: Assignment) -> Result<(), SandboxError> {
        let state = match &self.spare {
            Some(state) if !state.assigned && self.channel.is_some() => state,
            _ => return Err(SandboxError::NotSpare { id: self.id.clone() }),
        };
        assignment.validate()?;
        let resize = (assignment.tmp_size_bytes != state.tmp_size_bytes).then_some(assignment.tmp_size_bytes);
        let late = rootfs::plan_late(&state.rootfs, &assignment.mounts, &assignment.cwd, resize)?;
        let message = late::encode(&late.steps, &assignment.argv, &assignment.env, &assignment.cwd)?;
        self.cgroup.set_limits(&assignment.limits).map_err(|e| self.cgroup_error(e))?;
        let channel = self.channel.as_ref().expect("checked above").as_fd();
        protocol::send_message(channel, &message).map_err(|e| self.channel_error(e))?;
        match protocol::receive(channel).map_err(|e| self.channel_error(e))? {
            Some(Report::Ready) => {}
            Some(Report::Failed { stage, index, errno }) => {
                let step = child_step(stage, index, Some(&late), &assignment.cwd);
                return Err(SandboxError::ChildSetup { id: self.id.clone(), step, source: errno });
            }
            None => return Err(SandboxError::ChildVanished { id: self.id.clone() }),
        }
        self.program = assignment.argv[0].clone();
        self.cwd = assignment.cwd;
        if let Some(state) = &mut self.spare {
            state.assigned = true;
        }
        Ok(())
    }

    fn create_with(
        spec: SandboxSpec,
        cgroups: &CgroupConfig,
        spare: bool,
        stdin: Option<OwnedFd>,
    ) -> Result<Sandbox, SandboxError> {
        spec.validate()?;
        let filters = seccomp::filters().map_err(|source| SandboxError::CompileSeccomp { source })?;
        let rootfs = rootfs::plan(&spec, spare)?;
        let exec = ExecPlan::new(&spec.argv, &spec.env).ok_or(SpecError::NulByte { field: "argv or env" })?;
        let cwd = CString::new(spec.cwd.as_os_str().as_bytes()).map_err(|_| SpecError::NulByte { field: "cwd" })?;
        let id = spec.id.clone();
        let cgroup = Cgroup::create(cgroups, &id, &spec.limits)
            .map_err(|source| SandboxError::Cgroup { id: id.clone(), source })?;

        let spawned = spawn(&spec, &rootfs, &exec, &cwd, filters, spare, stdin.as_ref());
        let (pid, pidfd, channel, report) = match spawned {
            Ok(parts) => parts,
            Err(e) => {
                let _ = cgroup.remove();
                return Err(e);
            }
        };
        drop(exec);
        let mut sandbox = Sandbox {
            id,
            program: spec.argv[0].clone(),
            cwd: spec.cwd.clone(),
            pid,
            pidfd,
            report,
            netns: None,
            channel: Some(channel),
            cgroup,
            status: None,
            cleaned_up: false,
            spare: None,
        };
        // From here on, dropping `sandbox` on error kills and cleans up.
        sandbox.finish_setup(&spec, &rootfs)?;
        Ok(sandbox)
    }

    /// Writes the id maps, joins the cgroup, lets the child build its root
    /// and waits until it reports ready.
    fn finish_setup(&mut self, spec: &SandboxSpec, rootfs: &RootfsPlan) -> Result<(), SandboxError> {
        let proc_root = &spec.rootfs.host_proc;
        namespaces::write_id_maps(proc_root, self.pid, &spec.identity, Setgroups::for_current_process())
            .map_err(|(path, source)| SandboxError::WriteIdMap { path, source })?;
        self.cgroup.add_process(self.pid).map_err(|e| self.cgroup_error(e))?;
        let channel = self.channel.as_ref().expect("set up before start").as_fd();
        protocol::send(channel, protocol::GO).map_err(|e| self.channel_error(e))?;
        match protocol::receive(channel).map_err(|e| self.channel_error(e))? {
            Some(Report::Ready) => {}
            Some(Report::Failed { stage, index, errno }) => {
                let step = child_step(stage, index, Some(rootfs), &spec.cwd);
                return Err(SandboxError::ChildSetup { id: self.id.clone(), step, source: errno });
            }
            None => return Err(SandboxError::ChildVanished { id: self.id.clone() }),
        }
        let path = proc_root.join(self.pid.to_string()).join("ns/net");
        let netns = fs::File::open(&path).map_err(|source| SandboxError::OpenNetns { path, source })?;
        self.netns = Some(netns.into());
        Ok(())
    }

    /// Binds a TCP listener at `addr` inside the sandbox's network
    /// namespace: a process inside reaches it at `addr`, the host's own
    /// `addr` is a different socket. Accept on it like any listener (for
    /// tokio: `set_nonblocking(true)` and `TcpListener::from_std`).
    pub fn listen_tcp(&self, addr: SocketAddr) -> Result<TcpListener, SandboxError> {
        let netns = self.netns.as_ref().expect("opened by create").as_fd();
        namespaces::listen_in(netns, addr).map_err(|e| match e {
            ListenError::Enter(source) => SandboxError::EnterNetns { id: self.id.clone(), source },
            ListenError::Bind(source) => SandboxError::ListenTcp { id: self.id.clone(), addr, source },
        })
    }

    /// Phase 2: lets the process start its program (as pid 2, under the
    /// init it becomes), and returns once the program is exec'd (or reports
    /// why it could not be).
    pub fn start(&mut self) -> Result<(), SandboxError> {
        if self.spare.as_ref().is_some_and(|s| !s.assigned) && self.channel.is_some() {
            return Err(SandboxError::NotAssigned { id: self.id.clone() });
        }
        let channel = self.channel.take().ok_or_else(|| SandboxError::AlreadyStarted { id: self.id.clone() })?;
        protocol::send(channel.as_fd(), protocol::START).map_err(|e| self.channel_error(e))?;
        match protocol::receive(channel.as_fd()).map_err(|e| self.channel_error(e))? {
            None => Ok(()),
            Some(Report::Failed { stage: Stage::Exec, errno, .. }) => {
                Err(SandboxError::Exec { id: self.id.clone(), program: self.program.clone(), source: errno })
            }
            Some(Report::Failed { stage, index, errno }) => Err(SandboxError::ChildSetup {
                id: self.id.clone(),
                step: child_step(stage, index, None, &self.cwd),
                source: errno,
            }),
            Some(Report::Ready) => Err(self.channel_error(Errno::EBADMSG)),
        }
    }

    /// Replaces the cgroup limits of a sandbox, running or not.
    pub fn set_limits(&self, limits: &Limits) -> Result<(), SandboxError> {
        spec::validate_limits(limits)?;
        self.cgroup.set_limits(limits).map_err(|e| self.cgroup_error(e))
    }

    /// Mounts the host path `source` read-only at `target` inside a sandbox
    /// that is already running (see [`crate::inject`]): `target` must exist
    /// in the sandbox; what is there is hidden. For a started spare whose
    /// program waits for its files.
    pub fn mount_into(&self, source: &Path, target: &Path) -> Result<(), SandboxError> {
        inject::mount_into(&self.mount_ns()?, source, target).map_err(|source_err| {
            self.inject_error(format!("mount {} on {}", source.display(), target.display()), source_err)
        })
    }

    /// Resizes the running sandbox's `/tmp`.
    pub fn resize_tmp(&self, bytes: u64) -> Result<(), SandboxError> {
        spec::validate_tmp(bytes)?;
        inject::resize_tmp(&self.mount_ns()?, bytes)
            .map_err(|e| self.inject_error(format!("resize /tmp to {bytes} bytes"), e))
    }

    fn mount_ns(&self) -> Result<OwnedFd, SandboxError> {
        let path = PathBuf::from(format!("/proc/{}/ns/mnt", self.pid));
        fs::File::open(&path).map(OwnedFd::from).map_err(|source| SandboxError::OpenMountNs { path, source })
    }

    fn inject_error(&self, action: String, source: Errno) -> SandboxError {
        SandboxError::ChildSetup { id: self.id.clone(), step: ChildStep::Rootfs { action }, source }
    }

    /// The host pid of the sandbox's first process: its init once started
    /// (pid 1 inside; the program is its child, pid 2). Signals sent to it
    /// from the host: `SIGKILL` ends the sandbox, `SIGTERM`, `SIGINT`,
    /// `SIGHUP`, `SIGUSR1` and `SIGUSR2` are forwarded to the program.
    pub fn pid(&self) -> Pid {
        self.pid
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// A pidfd of the first process: it becomes readable when the sandbox
    /// has ended, i.e. right after its program exited (wrap it in tokio's
    /// `AsyncFd`); then [`Sandbox::try_wait`] collects the program's status
    /// without blocking.
    pub fn pidfd(&self) -> BorrowedFd<'_> {
        self.pidfd.as_fd()
    }

    /// The program's exit status if the sandbox has ended, without blocking.
    pub fn try_wait(&mut self) -> Result<Option<ExitStatus>, SandboxError> {
        self.reap(WaitPidFlag::WNOHANG)
    }

    /// Blocks until the program exits (everything else in the sandbox dies
    /// with it) and returns its status.
    pub fn wait(&mut self) -> Result<ExitStatus, SandboxError> {
        loop {
            if let Some(status) = self.reap(WaitPidFlag::empty())? {
                return Ok(status);
            }
        }
    }

    fn reap(&mut self, flags: WaitPidFlag) -> Result<Option<ExitStatus>, SandboxError> {
        if self.status.is_some() {
            return Ok(self.status);
        }
        let status = loop {
            match waitpid(self.pid, Some(flags | WaitPidFlag::__WALL)) {
                Err(Errno::EINTR) => continue,
                Err(source) => return Err(SandboxError::Wait { id: self.id.clone(), source }),
                Ok(status) => break status,
            }
        };
        let first_process = match status {
            WaitStatus::Exited(_, code) => ExitStatus::Exited(code),
            WaitStatus::Signaled(_, signal, _) => ExitStatus::Signaled(signal),
            _ => return Ok(None),
        };
        // The init reported the program's status before exiting, unless it
        // was killed first or the program never started.
        let program = init::read_report(self.report.as_fd()).and_then(ExitStatus::from_raw);
        self.status = Some(program.unwrap_or(first_process));
        Ok(self.status)
    }

    /// Stops every process of the sandbox and returns once all are frozen.
    pub fn freeze(&self) -> Result<(), SandboxError> {
        self.cgroup.freeze().map_err(|e| self.cgroup_error(e))
    }

    pub fn thaw(&self) -> Result<(), SandboxError> {
        self.cgroup.thaw().map_err(|e| self.cgroup_error(e))
    }

    /// The cgroup's peak memory use, where the kernel reports it.
    pub fn memory_peak_bytes(&self) -> Option<u64> {
        self.cgroup.memory_peak_bytes()
    }

    /// Whether the memory limit's OOM killer has killed a process of the sandbox.
    pub fn oom_killed(&self) -> bool {
        self.cgroup.oom_killed()
    }

    /// The host pids currently in the sandbox's cgroup, its init included.
    pub fn processes(&self) -> Result<Vec<Pid>, SandboxError> {
        self.cgroup.procs().map_err(|e| self.cgroup_error(e))
    }

    /// The sandbox's cgroup directories (one per controller on v1).
    pub fn cgroup_dirs(&self) -> Vec<PathBuf> {
        self.cgroup.dirs()
    }

    /// Kills every process of the sandbox (frozen or not), reaps the first
    /// one (the init) and removes the cgroups. Idempotent.
    pub fn kill(&mut self) -> Result<(), SandboxError> {
        if self.cleaned_up {
            return Ok(());
        }
        self.channel = None;
        if self.status.is_none() {
            let killed_by_cgroup = self.cgroup.kill_all().unwrap_or(false);
            if !killed_by_cgroup {
                self.signal(Signal::SIGKILL)?;
            }
            // A v1-frozen task dies only once thawed; the pid namespace's
            // teardown then kills the rest.
            let _ = self.cgroup.thaw();
            self.wait()?;
        }
        self.cgroup.remove().map_err(|e| self.cgroup_error(e))?;
        self.cleaned_up = true;
        Ok(())
    }

    /// Sends `signal` to the first process through its pidfd.
    fn signal(&self, signal: Signal) -> Result<(), SandboxError> {
        let fd: RawFd = self.pidfd.as_raw_fd();
        // SAFETY: pidfd_send_signal with a pidfd we own and no siginfo.
        let rc =
            unsafe { libc::syscall(libc::SYS_pidfd_send_signal, fd, signal as libc::c_int, std::ptr::null::<u8>(), 0) };
        match Errno::result(rc) {
            Ok(_) | Err(Errno::ESRCH) => Ok(()),
            Err(source) => Err(SandboxError::Signal { id: self.id.clone(), source }),
        }
    }

    fn cgroup_error(&self, source: CgroupError) -> SandboxError {
        SandboxError::Cgroup { id: self.id.clone(), source }
    }

    fn channel_error(&self, source: Errno) -> SandboxError {
        SandboxError::ChildChannel { id: self.id.clone(), source }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}

/// Prepares the child's plan and clones it. Returns its pid, a pidfd, the
/// parent's end of the channel and the read end of the report pipe.
fn spawn(
    spec: &SandboxSpec,
    rootfs: &RootfsPlan,
    exec: &ExecPlan,
    cwd: &CString,
    filters: &'static seccomp::Filters,
    spare: bool,
    stdin: Option<&OwnedFd>,
) -> Result<(Pid, OwnedFd, OwnedFd, OwnedFd), SandboxError> {
    let flags = SockFlag::SOCK_CLOEXEC;
    let (parent_end, child_end) = socketpair(AddressFamily::Unix, SockType::SeqPacket, None, flags)
        .map_err(|source| SandboxError::SocketPair { source })?;
    let child_end = above_stdio(child_end).map_err(|source| SandboxError::SocketPair { source })?;
    let (report_read, report_write) = nix::unistd::pipe2(OFlag::O_CLOEXEC | OFlag::O_NONBLOCK)
        .and_then(|(read, write)| Ok((read, above_stdio(write)?)))
        .map_err(|source| SandboxError::ReportPipe { source })?;
    let (stdout, stderr) = (spec.stdout.as_raw_fd(), spec.stderr.as_raw_fd());
    let stdin = stdin.map(|fd| fd.as_raw_fd());
    let mut keep_fds = vec![child_end.as_raw_fd(), report_write.as_raw_fd(), stdout, stderr];
    keep_fds.extend(stdin);
    keep_fds.sort_unstable();
    keep_fds.dedup();
    let plan = ChildPlan {
        sock: child_end.as_raw_fd(),
        report: report_write.as_raw_fd(),
        cmdline: init::cmdline_area(&spec.rootfs.host_proc),
        keep_fds,
        rootfs,
        uid: spec.identity.sandbox_uid,
        gid: spec.identity.sandbox_gid,
        setgroups: Setgroups::for_current_process(),
        hostname: &spec.hostname,
        stdout,
        stderr,
        stdin,
        cwd,
        exec: exec.ptrs(),
        seccomp: filters,
        spare,
        owner: namespace_owner(&spec.identity),
    };
    let pid = process::spawn(&plan, namespaces::clone_flags()).map_err(|source| SandboxError::Clone { source })?;
    drop((child_end, report_write));
    match pidfd_open(pid) {
        Ok(pidfd) => Ok((pid, pidfd, parent_end, report_read)),
        Err(source) => {
            let _ = nix::sys::signal::kill(pid, Signal::SIGKILL);
            let _ = waitpid(pid, None);
            Err(SandboxError::OpenPidfd { id: spec.id.clone(), source })
        }
    }
}

/// Who should own a sandbox's user namespace: its host ids, when the caller
/// is root and they differ from root's (an unprivileged caller can only
/// map, and own with, its own ids).
fn namespace_owner(identity: &crate::Identity) -> Option<(u32, u32)> {
    let root = nix::unistd::geteuid().is_root();
    (root && identity.host_uid != 0).then_some((identity.host_uid, identity.host_gid))
}

/// Moves a descriptor the child keeps off 0, 1 and 2 (possible when the
/// caller has closed its stdio), which the child overwrites with its own.
fn above_stdio(fd: OwnedFd) -> Result<OwnedFd, Errno> {
    if fd.as_raw_fd() > 2 {
        return Ok(fd);
    }
    // SAFETY: fcntl(F_DUPFD_CLOEXEC) on a descriptor we own; the copy is new
    // and ours alone.
    let copy = Errno::result(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 3) })?;
    // SAFETY: as above.
    Ok(unsafe { OwnedFd::from_raw_fd(copy) })
}

fn pidfd_open(pid: Pid) -> Result<OwnedFd, Errno> {
    // SAFETY: pidfd_open(2) with a pid and no flags; the descriptor is ours.
    let fd = Errno::result(unsafe { libc::syscall(libc::SYS_pidfd_open, pid.as_raw(), 0) })?;
    // SAFETY: `fd` is a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// The public name of a step the child reported, described with the
/// rootfs plan where it is still at hand.
fn child_step(stage: Stage, index: usize, rootfs: Option<&RootfsPlan>, cwd: &Path) -> ChildStep {
    match stage {
        Stage::CloseFds => ChildStep::CloseFds,
        Stage::Session => ChildStep::Session,
        Stage::Sync => ChildStep::Sync,
        Stage::Credentials => ChildStep::Credentials,
        Stage::ResourceLimits => ChildStep::ResourceLimits { index },
        Stage::CgroupNamespace => ChildStep::CgroupNamespace,
        Stage::Rootfs => ChildStep::Rootfs {
            action: rootfs
                .and_then(|plan| plan.steps.get(index))
                .map_or_else(|| format!("step {index}"), |step| step.describe()),
        },
        Stage::Hostname => ChildStep::Hostname,
        Stage::Loopback => ChildStep::Loopback,
        Stage::Stdio => ChildStep::Stdio,
        Stage::Chdir => ChildStep::Chdir { path: cwd.to_owned() },
        Stage::DropCapabilities => ChildStep::DropCapabilities,
        Stage::Seccomp => ChildStep::Seccomp,
        Stage::StartProgram => ChildStep::StartProgram,
        Stage::Exec => ChildStep::Exec,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sandbox_can_move_between_threads_and_tasks() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Sandbox>();
    }

    #[test]
    fn child_steps_are_described_from_the_plan_when_it_is_at_hand() {
        let cwd = Path::new("/var/task");
        assert_eq!(child_step(Stage::Chdir, 0, None, cwd), ChildStep::Chdir { path: cwd.to_owned() });
        assert_eq!(child_step(Stage::Rootfs, 4, None, cwd), ChildStep::Rootfs { action: "step 4".into() });
        assert_eq!(child_step(Stage::Loopback, 0, None, cwd).to_string(), "bring the loopback interface up");
    }

    #[test]
    fn raw_wait_statuses_become_exit_statuses() {
        assert_eq!(ExitStatus::from_raw(7 << 8), Some(ExitStatus::Exited(7)));
        assert_eq!(ExitStatus::from_raw(libc::SIGKILL), Some(ExitStatus::Signaled(Signal::SIGKILL)));
        assert_eq!(ExitStatus::from_raw(libc::SIGABRT | 0x80), Some(ExitStatus::Signaled(Signal::SIGABRT)), "core");
        assert_eq!(ExitStatus::from_raw(0x137f), None, "stopped by SIGSTOP");
        assert_eq!(ExitStatus::from_raw(libc::SIGRTMIN() + 1), None, "a real-time signal nix cannot name");
    }
}
