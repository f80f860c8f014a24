//! The AWS SDKs in the managed runtimes: where they go, installing them
//! before the engine starts (`serve`), and `lambdabox install-sdks`, which
//! does only that (a set-up step, e.g. before a test suite).

use std::path::{Path, PathBuf};

use lambdabox_engine::RuntimeSdks;
use lambdabox_sdks::{InstallOptions, Sdk};

/// `lambdabox install-sdks`.
#[derive(clap::Args, Debug)]
pub struct InstallArgs {
    /// Where the SDKs go (shared by every server that names it). Default:
    /// `/var/cache/lambdabox/sdks` as root, else under the user's cache dir.
    #[arg(long, env = "LAMBDABOX_SDK_DIR")]
    pub sdk_dir: Option<PathBuf>,
}

/// Installs what is missing; fails if an SDK cannot be installed.
pub fn run(args: InstallArgs) -> anyhow::Result<()> {
    let root = args.sdk_dir.unwrap_or_else(lambdabox_sdks::default_root);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let options = options();
    for sdk in Sdk::ALL {
        let installed = runtime.block_on(lambdabox_sdks::ensure(&root, sdk, &options))?;
        println!("{}: {}", sdk.name(), installed.dir.display());
    }
    Ok(())
}

fn options() -> InstallOptions {
    InstallOptions { python: lambdabox_engine::Interpreters::default().python, parallel: 8 }
}

/// The SDK root a server uses: the one given, else the shared default when
/// sandboxes can reach it, else one under the server's work dir.
pub fn root(given: Option<PathBuf>, work_dir: &Path) -> PathBuf {
    if let Some(dir) = given {
        return dir;
    }
    let shared = lambdabox_sdks::default_root();
    if lambdabox_sdks::reachable_by_others(&shared) { shared } else { work_dir.join("sdks") }
}

/// Installs the SDKs under `root` if they are not there (printing progress
/// on the console), and says where they are. An SDK that cannot be
/// installed is left out with an error on the console: functions still
/// run, and `import boto3` fails as it would without an SDK.
pub async fn ensure(root: &Path, python: &Path) -> RuntimeSdks {
    let options = InstallOptions { python: python.to_owned(), ..options() };
    let mut sdks = RuntimeSdks::default();
    for sdk in Sdk::ALL {
        match lambdabox_sdks::ensure(root, sdk, &options).await {
            Ok(installed) => {
                tracing::debug!(sdk = sdk.name(), dir = %installed.dir.display(), "runtime SDK");
                let source = Some(installed.mount_source());
                match sdk {
                    Sdk::Python => sdks.python = source,
                    Sdk::Nodejs => sdks.nodejs = source,
                }
            }
            Err(error) => {
                eprintln!(
                    "lambdabox: could not install {} ({error}); functions run without it \
                     (start with --no-runtime-sdks to skip this)",
                    sdk.title()
                );
                tracing::error!(sdk = sdk.name(), %error, "runtime SDK not installed");
            }
        }
    }
    sdks
}
