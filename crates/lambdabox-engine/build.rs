//! Builds the Java runtime interface client (`runtimes/java`, with its `build.sh`) into
//! `$OUT_DIR/java/lambdabox-ric.jar`, which `runtimes.rs` embeds and installs as
//! `/var/runtime/lambdabox-ric.jar`: compiled once per change of its sources, never when the
//! server starts. It needs a JDK (`javac` and `jar`; `JAVAC` and `JAR` override them); without
//! one the jar is left empty, and a cargo warning says that Java functions will not start.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let java = manifest.join("../../runtimes/java");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("java");
    println!("cargo:rerun-if-changed={}", java.join("src").display());
    println!("cargo:rerun-if-changed={}", java.join("build.sh").display());
    println!("cargo:rerun-if-env-changed=JAVAC");
    println!("cargo:rerun-if-env-changed=JAR");

    let jar = out.join("lambdabox-ric.jar");
    let built = Command::new("sh").arg(java.join("build.sh")).arg(&out).output();
    match built {
        Ok(output) if output.status.success() && jar.is_file() => {}
        other => {
            let why = match other {
                Ok(output) => String::from_utf8_lossy(&output.stderr).lines().next().unwrap_or("").to_owned(),
                Err(error) => error.to_string(),
            };
            println!("cargo:warning=the Java runtime client was not built ({why}): java functions will not start");
            std::fs::create_dir_all(&out).expect("create OUT_DIR/java");
            std::fs::write(&jar, b"").expect("write an empty jar");
        }
    }
}
