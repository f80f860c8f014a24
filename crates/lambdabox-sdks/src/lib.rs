//! The AWS SDKs that AWS's managed runtimes include, installed by Lambdabox
//! itself: boto3 and its dependencies for Python, the JavaScript v3 clients
//! for Node.js. Java functions bundle their own SDK, as on AWS.
//!
//! The versions are pinned in the repo (`runtimes/sdks/python.lock`,
//! `runtimes/sdks/nodejs/package-lock.json`), embedded in the binary, and
//! fetched once from PyPI and npm into a shared directory, each file checked
//! against the digest the lock gives before it is unpacked. An install goes
//! to a temporary directory renamed into place when complete, named by the
//! lock's own digest: a new lock installs anew, a finished one is never
//! touched again, and concurrent servers race harmlessly.
//!
//! The engine mounts the result read-only into every environment of the
//! family, below the function's own code and layers (see the engine's
//! `runtimes.rs`).

mod fetch;
mod lock;
mod unpack;

use std::path::{Path, PathBuf};
use std::time::Instant;

pub use lock::{Artifact, Digest, Format, Lock};

/// One SDK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sdk {
    /// boto3, botocore and their dependencies (a `site-packages` tree).
    Python,
    /// `@aws-sdk/*` (a `node_modules` tree).
    Nodejs,
}

impl Sdk {
    pub const ALL: [Sdk; 2] = [Sdk::Python, Sdk::Nodejs];

    pub fn name(self) -> &'static str {
        match self {
            Sdk::Python => "python",
            Sdk::Nodejs => "nodejs",
        }
    }

    /// What the console says is being installed.
    pub fn title(self) -> &'static str {
        match self {
            Sdk::Python => "the AWS SDK for Python (boto3)",
            Sdk::Nodejs => "the AWS SDK for JavaScript v3",
        }
    }

    /// The pinned set of files.
    pub fn lock(self) -> Lock {
        match self {
            Sdk::Python => Lock::python(include_str!("../../../runtimes/sdks/python.lock")),
            Sdk::Nodejs => Lock::npm(include_str!("../../../runtimes/sdks/nodejs/package-lock.json")),
        }
        .expect("the embedded locks parse (checked by the crate's tests)")
    }
}

/// Why an SDK could not be installed.
#[derive(Debug, thiserror::Error)]
pub enum SdkError {
    #[error("could not download {url}: {reason}")]
    Download { url: String, reason: String },
    #[error("{url} does not match the digest pinned in the lock ({expected})")]
    Digest { url: String, expected: String },
    #[error("could not unpack {name}: {reason}")]
    Unpack { name: String, reason: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the lock is malformed: {0}")]
    Lock(String),
    #[error("byte-compiling the Python SDK failed: {0}")]
    Compile(String),
}

/// Where an installed SDK is, and what the engine mounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    pub sdk: Sdk,
    /// For Python the `site-packages` tree itself; for Node.js the
    /// directory holding `node_modules`.
    pub dir: PathBuf,
    /// Whether this call installed it (false: it was there).
    pub fresh: bool,
}

impl Installed {
    /// The directory mounted into environments: Python's tree, Node.js's
    /// `node_modules`.
    pub fn mount_source(&self) -> PathBuf {
        match self.sdk {
            Sdk::Python => self.dir.clone(),
            Sdk::Nodejs => self.dir.join("node_modules"),
        }
    }
}

/// How installs are done.
#[derive(Debug, Clone)]
pub struct InstallOptions {
    /// The interpreter that byte-compiles the Python SDK (the one the
    /// sandboxes run, so its caches are valid there).
    pub python: PathBuf,
    /// Downloads at once.
    pub parallel: usize,
}

/// The directory `sdk` is (or will be) installed in under `root`: named by
/// its lock's digest.
fn install_dir(root: &Path, sdk: Sdk, lock: &Lock) -> PathBuf {
    root.join(format!("{}-{}", sdk.name(), &lock.digest()[..16]))
}

/// Installs `sdk` under `root` unless it is there already. Prints a line on
/// the console when it has to fetch.
pub async fn ensure(root: &Path, sdk: Sdk, options: &InstallOptions) -> Result<Installed, SdkError> {
    let lock = sdk.lock();
    let dir = install_dir(root, sdk, &lock);
    if dir.is_dir() {
        return Ok(Installed { sdk, dir, fresh: false });
    }
    let started = Instant::now();
    let size = match lock.size() {
        0 => String::new(),
        bytes => format!(", {:.1} MB", bytes as f64 / 1e6),
    };
    eprintln!(
        "lambdabox: installing {} ({} packages{size}) into {} …",
        sdk.title(),
        lock.artifacts.len(),
        dir.display()
    );
    unpack::make_public_dir(root)?;
    let staging =
        root.join(format!(".{}.{}.tmp", dir.file_name().and_then(|n| n.to_str()).unwrap_or("sdk"), std::process::id()));
    let result = install_into(&staging, &lock, sdk, options).await;
    let result = result.and_then(|()| match std::fs::rename(&staging, &dir) {
        Ok(()) => Ok(()),
        // Another server finished first: theirs is as good.
        Err(_) if dir.is_dir() => Ok(()),
        Err(source) => Err(SdkError::Io { path: dir.clone(), source }),
    });
    if staging.exists() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    result?;
    eprintln!("lambdabox: installed {} in {:.1} s", sdk.title(), started.elapsed().as_secs_f64());
    Ok(Installed { sdk, dir, fresh: true })
}

async fn install_into(staging: &Path, lock: &Lock, sdk: Sdk, options: &InstallOptions) -> Result<(), SdkError> {
    if staging.exists() {
        std::fs::remove_dir_all(staging).map_err(|source| SdkError::Io { path: staging.to_owned(), source })?;
    }
    unpack::make_public_dir(staging)?;
    let files = fetch::all(&lock.artifacts, options.parallel.max(1)).await?;
    let staging_owned = staging.to_owned();
    let artifacts = lock.artifacts.clone();
    let python = options.python.clone();
    tokio::task::spawn_blocking(move || {
        for (artifact, bytes) in artifacts.iter().zip(files) {
            unpack::artifact(&staging_owned, artifact, &bytes)?;
        }
        if sdk == Sdk::Python {
            unpack::compile_python(&staging_owned, &python)?;
        }
        unpack::make_public_tree(&staging_owned)
    })
    .await
    .map_err(|e| SdkError::Unpack { name: sdk.name().to_owned(), reason: e.to_string() })?
}

/// The default root of installed SDKs: shared by every server on the
/// machine, readable by sandboxes. As root `/var/cache/lambdabox/sdks`;
/// otherwise under the user's cache dir.
pub fn default_root() -> PathBuf {
    if nix::unistd::geteuid().is_root() {
        return PathBuf::from("/var/cache/lambdabox/sdks");
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    cache.join("lambdabox").join("sdks")
}

/// Whether every directory above and including `dir` lets others traverse
/// it (sandboxes run as other users), for the directories that exist.
pub fn reachable_by_others(dir: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    dir.ancestors().filter_map(|d| std::fs::metadata(d).ok()).all(|m| m.permissions().mode() & 0o001 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_locks_parse_and_pin_every_file() {
        for sdk in Sdk::ALL {
            let lock = sdk.lock();
            assert!(!lock.artifacts.is_empty());
            for a in &lock.artifacts {
                assert!(a.url.starts_with("https://"), "{}", a.url);
                match &a.digest {
                    Digest::Sha256(hex) => assert_eq!(hex.len(), 64),
                    Digest::Sha512(bytes) => assert_eq!(bytes.len(), 64),
                }
            }
        }
        let python = Sdk::Python.lock();
        assert!(python.artifacts.iter().any(|a| a.name == "boto3"));
        let node = Sdk::Nodejs.lock();
        for client in ["client-s3", "client-lambda", "client-dynamodb", "client-sqs", "client-sns", "lib-dynamodb"] {
            assert!(node.artifacts.iter().any(|a| a.name == format!("@aws-sdk/{client}")), "{client}");
        }
        assert_ne!(python.digest(), node.digest());
    }
}
