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
    /// Writes the embedded clients under `root`, replacing older copies.
    pub fn install(root: &Path) -> Result<Self, EngineError> {
        let err = |source| EngineError::InstallRuntime { path: root.to_owned(), source };
        if root.exists() {
            fs::remove_dir_all(root).map_err(err)?;
        }
        fs::create_dir_all(root).map_err(err)?;
        for family in ["python", "nodejs"] {
            if let Some(dir) = CLIENTS.get_dir(family) {
                write_dir(dir, root).map_err(err)?;
            }
        }
        Ok(Self { root: root.to_owned() })
    }

    /// The host directory mounted at `/var/runtime` for a family.
    pub fn dir(&self, family: RuntimeFamily) -> Option<PathBuf> {
        match family {
            RuntimeFamily::Python => Some(self.root.join("python")),
            RuntimeFamily::Nodejs => Some(self.root.join("nodejs")),
            RuntimeFamily::Java | RuntimeFamily::Custom => None,
        }
    }
}

fn write_dir(dir: &Dir<'_>, root: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let target = root.join(dir.path());
    fs::create_dir_all(&target)?;
    fs::set_permissions(&target, fs::Permissions::from_mode(0o755))?;
    for file in dir.files() {
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
        RuntimeFamily::Java => vec![s(&interpreters.java), "-version".into()],
        RuntimeFamily::Custom => vec![custom_bootstrap.to_owned()],
    }
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
    fn installs_the_embedded_clients() {
        let dir = tempfile::tempdir().unwrap();
        let clients = RuntimeClients::install(&dir.path().join("runtime")).unwrap();
        assert!(clients.dir(RuntimeFamily::Python).unwrap().join("bootstrap.py").is_file());
        assert!(clients.dir(RuntimeFamily::Nodejs).unwrap().join("index.mjs").is_file());
        assert!(clients.dir(RuntimeFamily::Custom).is_none());
    }
}
