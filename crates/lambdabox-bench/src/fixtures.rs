//! The fixture functions, built as deployment packages in memory: a trivial
//! handler per runtime that answers `{"started_us", "handler_us"}` (when its
//! code was loaded and when it got the event, microseconds of the wall
//! clock), and sleeps until `until_us` when the event carries one (to hold
//! many environments busy at once for the density measurement).

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use zip::write::SimpleFileOptions;

/// The Python handler (`app.handler`).
pub const PYTHON_APP: &str = r#"import time

STARTED_US = time.time_ns() // 1000


def handler(event, context):
    until = event.get("until_us") if isinstance(event, dict) else None
    if until:
        delay = until / 1e6 - time.time()
        if delay > 0:
            time.sleep(delay)
    return {"started_us": STARTED_US, "handler_us": time.time_ns() // 1000}
"#;

/// The Node.js handler (`index.handler`, CommonJS).
pub const NODE_INDEX: &str = r#"const nowUs = () => Math.round((performance.timeOrigin + performance.now()) * 1000);
const STARTED_US = nowUs();

exports.handler = async (event) => {
  const until = event && event.until_us;
  if (until) {
    const delay = until / 1000 - (performance.timeOrigin + performance.now());
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
  }
  return { started_us: STARTED_US, handler_us: nowUs() };
};
"#;

/// The Java handler (`bench.Handler::handleRequest`), a POJO handler that
/// needs no AWS library to compile.
pub const JAVA_HANDLER: &str = r#"package bench;

import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

public class Handler {
    static final long STARTED_US = nowUs();

    static long nowUs() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
    }

    public Map<String, Object> handleRequest(Map<String, Object> event) {
        Map<String, Object> out = new HashMap<>();
        out.put("started_us", STARTED_US);
        out.put("handler_us", nowUs());
        return out;
    }
}
"#;

/// A zip of `(name, contents, unix mode)` entries.
pub fn zip_files(files: &[(&str, &[u8], u32)]) -> anyhow::Result<Vec<u8>> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, contents, mode) in files {
        let options = SimpleFileOptions::default().unix_permissions(*mode);
        writer.start_file(*name, options).with_context(|| format!("add {name} to zip"))?;
        writer.write_all(contents).with_context(|| format!("write {name} into zip"))?;
    }
    Ok(writer.finish().context("finish zip")?.into_inner())
}

pub fn python_zip() -> anyhow::Result<Vec<u8>> {
    zip_files(&[("app.py", PYTHON_APP.as_bytes(), 0o644)])
}

pub fn node_zip() -> anyhow::Result<Vec<u8>> {
    zip_files(&[("index.js", NODE_INDEX.as_bytes(), 0o644)])
}

/// A custom-runtime package whose `bootstrap` is the executable at `path`.
pub fn bootstrap_zip(path: &Path) -> anyhow::Result<Vec<u8>> {
    let binary = std::fs::read(path).with_context(|| format!("read {}", path.display()))?;
    zip_files(&[("bootstrap", &binary, 0o755)])
}

/// Compiles the Java handler with `javac` and zips its class.
pub fn java_zip(scratch: &Path) -> anyhow::Result<Vec<u8>> {
    let src_dir = scratch.join("java-src/bench");
    let out_dir = scratch.join("java-classes");
    std::fs::create_dir_all(&src_dir).context("create java source dir")?;
    let source = src_dir.join("Handler.java");
    std::fs::write(&source, JAVA_HANDLER).context("write Handler.java")?;
    let status = std::process::Command::new("javac")
        .args(["--release", "17", "-d"])
        .arg(&out_dir)
        .arg(&source)
        .status()
        .context("run javac")?;
    if !status.success() {
        bail!("javac failed: {status}");
    }
    let class = std::fs::read(out_dir.join("bench/Handler.class")).context("read Handler.class")?;
    zip_files(&[("bench/Handler.class", &class, 0o644)])
}

/// A binary built from this package, next to the harness's own executable.
pub fn sibling_binary(name: &str) -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("locate the harness executable")?;
    let path = exe.parent().context("the harness executable has no directory")?.join(name);
    if !path.is_file() {
        bail!(
            "{} not found next to the harness; build with `cargo build --release -p lambdabox-bench`",
            path.display()
        );
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zips_keep_names_and_modes() {
        let bytes = zip_files(&[("bootstrap", b"#!/bin/sh\n", 0o755), ("app.py", b"x = 1\n", 0o644)]).unwrap();
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        let bootstrap = archive.by_name("bootstrap").unwrap();
        assert_eq!(bootstrap.unix_mode().unwrap() & 0o777, 0o755);
        drop(bootstrap);
        assert_eq!(archive.by_name("app.py").unwrap().unix_mode().unwrap() & 0o777, 0o644);
    }
}
