//! `lambdabox logs FUNCTION [--follow]`: prints a function's log streams
//! (what its environments printed, with START, END and REPORT lines), oldest
//! stream first; with `--follow`, keeps printing what is appended.

use std::collections::HashMap;
use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::Context;

#[derive(clap::Args)]
pub struct LogsArgs {
    /// The function's name.
    function: String,
    /// Keep printing new lines as they are written.
    #[arg(long, short)]
    follow: bool,
    /// The server's data dir.
    #[arg(long, env = "LAMBDABOX_DATA_DIR", default_value = "./.lambdabox")]
    data_dir: PathBuf,
}

/// The stream files of a function, oldest first.
fn streams(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files: Vec<(SystemTime, PathBuf)> = match fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "log"))
            .map(|e| {
                let created = e.metadata().and_then(|m| m.created().or_else(|_| m.modified()));
                (created.unwrap_or(SystemTime::UNIX_EPOCH), e.path())
            })
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e).with_context(|| format!("read {}", dir.display())),
    };
    files.sort();
    Ok(files.into_iter().map(|(_, p)| p).collect())
}

pub fn run(args: LogsArgs) -> anyhow::Result<()> {
    lambdabox_model::FunctionName::parse(&args.function).map_err(|e| anyhow::anyhow!("{e}"))?;
    let dir = args.data_dir.join("logs").join(&args.function);
    let mut offsets: HashMap<PathBuf, u64> = HashMap::new();
    let mut out = std::io::stdout().lock();
    loop {
        for path in streams(&dir)? {
            let offset = offsets.entry(path.clone()).or_insert(0);
            let mut file = fs::File::open(&path).with_context(|| format!("open {}", path.display()))?;
            file.seek(SeekFrom::Start(*offset)).with_context(|| format!("seek {}", path.display()))?;
            let mut buf = Vec::new();
            file.read_to_end(&mut buf).with_context(|| format!("read {}", path.display()))?;
            // Print whole lines only, so a line being written is not split.
            let complete = buf.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
            out.write_all(&buf[..complete]).context("write to stdout")?;
            *offset += complete as u64;
        }
        out.flush().context("flush stdout")?;
        if !args.follow {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
