//! How each runtime family starts inside an execution environment: the
//! runtime interface clients written for Lambdabox (embedded in the binary
//! and installed under the data dir), the interpreter that runs them, and
//! the environment variables AWS sets for them.

use std::fs;
use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};
use lambdabox_model::RuntimeFamily;

use crate::EngineError;

/// The clients under `runtimes/` in the repository.
static CLIENTS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../../runtimes");

/// The Java client, compiled from `runtimes/java` by this crate's `build.rs` (empty when the
/// build found no JDK).
static JAVA_CLIENT_JAR: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/java/lambdabox-ric.jar"));

/// The files of `runtimes/java` the Java family's `/var/runtime` holds beside the jar.
const JAVA_FILES: [&str; 2] = ["bootstrap", "java.security"];

/// Where the interpreters are on this machine (real paths: a shim such as
/// pyenv's does not work inside a sandbox).
#[derive(Debug, Clone)]
pub struct Interpreters {
    pub python: PathBuf,
    pub node: PathBuf,
    pub java: PathBuf,
}

impl Default for Interpreters {
    fn default() -> Self {
        Self {
            python: PathBuf::from("/usr/bin/python3"),
            node: PathBuf::from("/usr/bin/node"),
            java: PathBuf::from("/usr/bin/java"),
        }
    }
}

/// The installed clients, one directory per family, mounted at `/var/runtime`.
#[derive(Debug, Clone)]
pub struct RuntimeClients {
    root: PathBuf,
}

impl RuntimeClients {
    /// Writes the embedded clients under `root`, replacing older copies,
    /// and byte-compiles the Python client with `python` in the background.
    pub fn install(root: &Path, python: &Path) -> Result<Self, EngineError> {
        let err = |source| EngineError::InstallRuntime { path: root.to_owned(), source };
        if root.exists() {
            remove_dir_all_retrying(root).map_err(err)?;
        }
        fs::create_dir_all(root).map_err(err)?;
        // Public code: readable by every sandbox (the server's umask is 077).
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(root, fs::Permissions::from_mode(0o755)).map_err(err)?;
        }
        for family in ["python", "nodejs"] {
            if let Some(dir) = CLIENTS.get_dir(family) {
                write_dir(dir, root).map_err(err)?;
            }
        }
        install_java(&root.join("java")).map_err(err)?;
        // Where the Node.js SDK is mounted (/var/runtime/node_modules, as
        // on AWS), when one is installed.
        {
            use std::os::unix::fs::PermissionsExt;
            let modules = root.join("nodejs").join("node_modules");
            fs::create_dir_all(&modules).map_err(err)?;
            fs::set_permissions(&modules, fs::Permissions::from_mode(0o755)).map_err(err)?;
        }
        let (dir, python) = (root.join("python"), python.to_owned());
        std::thread::spawn(move || compile_python(&dir, &python));
        Ok(Self { root: root.to_owned() })
    }

    /// The host directory mounted at `/var/runtime` for a family.
    pub fn dir(&self, family: RuntimeFamily) -> Option<PathBuf> {
        match family {
            RuntimeFamily::Python => Some(self.root.join("python")),
            RuntimeFamily::Nodejs => Some(self.root.join("nodejs")),
            RuntimeFamily::Java => Some(self.root.join("java")),
            RuntimeFamily::Custom => None,
        }
    }
}

/// The Java family's `/var/runtime`: `bootstrap`, `java.security` and `lambdabox-ric.jar`
/// (not the client's sources and tests).
fn install_java(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::create_dir_all(dir)?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755))?;
    let mut files: Vec<(&str, &[u8])> = JAVA_FILES
        .iter()
        .filter_map(|name| Some((*name, CLIENTS.get_file(format!("java/{name}"))?.contents())))
        .collect();
    if JAVA_CLIENT_JAR.is_empty() {
        tracing::warn!("the Java runtime client was not built (no JDK when building): java functions cannot start");
    } else {
        files.push(("lambdabox-ric.jar", JAVA_CLIENT_JAR));
    }
    for (name, contents) in files {
        let path = dir.join(name);
        fs::write(&path, contents)?;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644))?;
    }
    Ok(())
}

/// Writes the Python client's `__pycache__` (`compileall` with unchecked
/// hashes: valid whatever the sources' times, never rewritten), world
/// readable. The sandbox's `/var/runtime` is read-only, so without it every
/// cold start compiles the client again (about 4 ms). Until it is done, or
/// if it fails, cold starts compile in memory as before.
fn compile_python(dir: &Path, python: &Path) {
    use std::os::unix::process::CommandExt;
    let mut command = std::process::Command::new(python);
    command
        .args(["-S", "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash"])
        .arg(dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    // SAFETY: prctl(PR_SET_PDEATHSIG) is async-signal-safe and touches no
    // memory. It ends the compiler with a killed server, so it cannot write
    // into the directory the next server is replacing.
    unsafe {
        command.pre_exec(|| {
            if nix::libc::prctl(nix::libc::PR_SET_PDEATHSIG, nix::libc::SIGKILL) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
    let status = command.status();
    match status {
        Ok(s) if s.success() => {
            if let Err(error) = make_readable(dir) {
                tracing::warn!(%error, "could not make the Python client's bytecode readable");
            }
        }
        Ok(s) => tracing::warn!(status = %s, "byte-compiling the Python client failed"),
        Err(error) => tracing::warn!(%error, python = %python.display(), "could not byte-compile the Python client"),
    }
}

/// `remove_dir_all`, tried again for a moment when something still writes
/// into the tree (the compiler of a server that was just killed).
fn remove_dir_all_retrying(root: &Path) -> std::io::Result<()> {
    let mut attempt = 0;
    loop {
        match fs::remove_dir_all(root) {
            Err(e) if attempt < 20 && e.kind() != std::io::ErrorKind::NotFound => {
                attempt += 1;
                std::thread::sleep(std::time::Duration::from_millis(25));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            other => return other,
        }
    }
}

fn make_readable(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let mode = if entry.file_type()?.is_dir() { 0o755 } else { 0o644 };
        fs::set_permissions(entry.path(), fs::Permissions::from_mode(mode))?;
        if mode == 0o755 {
            make_readable(&entry.path())?;
        }
    }
    Ok(())
}

fn write_dir(dir: &Dir<'_>, root: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let target = root.join(dir.path());
    fs::create_dir_all(&target)?;
    fs::set_permissions(&target, fs::Permissions::from_mode(0o755))?;
    for file in dir.files() {
        if file.path().extension().is_some_and(|e| e == "pyc") {
            continue; // a build machine's bytecode; compile_python writes ours
        }
        let path = root.join(file.path());
        fs::write(&path, file.contents())?;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644))?;
    }
    for sub in dir.dirs() {
        write_dir(sub, root)?;
    }
    Ok(())
}

/// The program a family starts, inside the sandbox.
pub fn argv(family: RuntimeFamily, interpreters: &Interpreters, custom_bootstrap: &str) -> Vec<String> {
    let s = |p: &Path| p.to_string_lossy().into_owned();
    match family {
        RuntimeFamily::Python => vec![s(&interpreters.python), "-S".into(), "/var/runtime/bootstrap.py".into()],
        RuntimeFamily::Nodejs => vec![s(&interpreters.node), "/var/runtime/index.mjs".into()],
        // The bootstrap sizes the heap from AWS_LAMBDA_FUNCTION_MEMORY_SIZE, then execs java.
        RuntimeFamily::Java => vec!["/bin/sh".into(), "/var/runtime/bootstrap".into(), s(&interpreters.java)],
        RuntimeFamily::Custom => vec![custom_bootstrap.to_owned()],
    }
}

/// The read-only mount of a family's AWS SDK, when one is installed.
pub(crate) fn sdk_mount(family: RuntimeFamily, sdks: &crate::RuntimeSdks) -> Option<lambdabox_sandbox::BindMount> {
    let (source, target) = match family {
        RuntimeFamily::Python => (sdks.python.as_ref()?, "/var/lang/lib/python-sdk"),
        RuntimeFamily::Nodejs => (sdks.nodejs.as_ref()?, "/var/runtime/node_modules"),
        RuntimeFamily::Java | RuntimeFamily::Custom => return None,
    };
    Some(lambdabox_sandbox::BindMount { source: source.clone(), target: target.into() })
}

/// Where ES modules find the Node.js SDK: `import` ignores `NODE_PATH`
/// and looks in `node_modules` beside and above the importing file, so
/// `/var/node_modules` serves `/var/task/*.mjs` after the function's own
/// `/var/task/node_modules`. A function whose layers carry Node.js packages
/// does not get it (it would shadow the layers'); the runtime's resolution
/// hooks, which layers need anyway, then look in the SDK after the layers.
pub(crate) const ESM_SDK_DIR: &str = "/var/node_modules";

/// Whether the merged layers carry Node.js packages.
pub(crate) fn layers_have_node_modules(opt_dir: Option<&Path>) -> bool {
    opt_dir.is_some_and(|opt| {
        ["nodejs/node_modules", "nodejs/node20/node_modules", "nodejs/node22/node_modules"]
            .iter()
            .any(|d| crate::code::stat_in(opt, d).is_some())
    })
}

/// Variables each family's runtime expects beside the common ones.
pub fn family_env(family: RuntimeFamily) -> Vec<(&'static str, &'static str)> {
    match family {
        RuntimeFamily::Python => vec![("PYTHONPATH", "/var/runtime"), ("PYTHONUNBUFFERED", "1")],
        RuntimeFamily::Nodejs => vec![(
            "NODE_PATH",
            "/opt/nodejs/node20/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task",
        )],
        RuntimeFamily::Java | RuntimeFamily::Custom => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_python_client_is_byte_compiled_readable_for_the_sandbox() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let clients = RuntimeClients::install(&dir.path().join("runtime"), Path::new("/usr/bin/python3")).unwrap();
        let cache = clients.dir(RuntimeFamily::Python).unwrap().join("lambdabox_ric/__pycache__");
        let compiled = |p: &Path| {
            fs::read_dir(p).map(|d| d.flatten().filter(|e| e.path().extension().is_some_and(|x| x == "pyc")).count())
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while compiled(&cache).unwrap_or(0) < 10 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(compiled(&cache).unwrap_or(0) >= 10, "every module of the client compiled");
        // Permissions are set once compileall is done: wait for them too.
        while fs::metadata(&cache).unwrap().permissions().mode() & 0o777 != 0o755
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert_eq!(fs::metadata(&cache).unwrap().permissions().mode() & 0o777, 0o755);
    }

    #[test]
    fn installs_the_embedded_clients() {
        let dir = tempfile::tempdir().unwrap();
        let clients = RuntimeClients::install(&dir.path().join("runtime"), Path::new("/usr/bin/python3")).unwrap();
        assert!(clients.dir(RuntimeFamily::Python).unwrap().join("bootstrap.py").is_file());
        assert!(clients.dir(RuntimeFamily::Nodejs).unwrap().join("index.mjs").is_file());
        assert!(clients.dir(RuntimeFamily::Custom).is_none());
        let java = clients.dir(RuntimeFamily::Java).unwrap();
        assert!(java.join("bootstrap").is_file());
        assert!(java.join("java.security").is_file());
        assert!(!java.join("src").exists(), "only what /var/runtime needs");
        if JAVA_CLIENT_JAR.is_empty() {
            eprintln!("skipped: the Java client jar was not built (no JDK when building)");
        } else {
            assert!(fs::read(java.join("lambdabox-ric.jar")).unwrap().starts_with(b"PK"));
        }
    }

    #[test]
    fn java_starts_through_its_bootstrap() {
        let argv = argv(RuntimeFamily::Java, &Interpreters::default(), "/var/task/bootstrap");
        assert_eq!(argv, ["/bin/sh", "/var/runtime/bootstrap", "/usr/bin/java"]);
    }
}
