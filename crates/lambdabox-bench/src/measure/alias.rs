//! Alias resolution overhead: the warm latency of one function invoked as
//! `NAME` (`$LATEST`), `NAME:1` (a published version) and `NAME:live` (an
//! alias of version 1), interleaved on one connection (see
//! [`crate::measure::warm::interleaved`]), so the differences between the
//! three are what resolving the qualifier costs, not drift in the machine's
//! load.

use serde::Serialize;

use crate::measure::warm;
use crate::server::{Server, invoke_path};
use crate::stats::{Summary, median};

/// The alias the measurement creates.
pub const ALIAS: &str = "live";

/// The latency of one way of naming the function.
#[derive(Debug, Clone, Serialize)]
pub struct QualifiedLatency {
    /// `$LATEST`, `1` or `live`.
    pub qualifier: String,
    /// The request path, query included.
    pub path: String,
    pub latency: Summary,
    /// The median over rounds of (this sample − the `$LATEST` sample of the
    /// same round), in ms: the overhead with the noise shared by a round
    /// taken out.
    pub median_paired_delta_ms: f64,
}

/// `$LATEST`, the version and the alias, measured together.
#[derive(Debug, Clone, Serialize)]
pub struct AliasResult {
    pub function: String,
    pub rounds: usize,
    pub latest: QualifiedLatency,
    pub version: QualifiedLatency,
    pub alias: QualifiedLatency,
}

/// Publishes version 1 of `name`, points alias [`ALIAS`] at it, and measures
/// `count` interleaved rounds after `warmup` untimed ones.
pub async fn run(
    server: &mut Server,
    name: &str,
    payload: &[u8],
    warmup: usize,
    count: usize,
) -> anyhow::Result<AliasResult> {
    let version = server.publish_version(name).await?;
    server.create_alias(name, ALIAS, &version).await?;
    let base = invoke_path(name);
    let qualifiers = ["$LATEST".to_owned(), version, ALIAS.to_owned()];
    // `$LATEST` unqualified, as most callers name it; the others by the
    // Qualifier parameter (`NAME:1` in the path resolves the same way).
    let paths = [base.clone(), format!("{base}?Qualifier={}", qualifiers[1]), format!("{base}?Qualifier={ALIAS}")];
    let samples = warm::interleaved(server.addr, &paths, payload, warmup, count).await?;
    let ms = |d: &[std::time::Duration]| d.iter().map(|d| d.as_secs_f64() * 1e3).collect::<Vec<f64>>();
    let latest_ms = ms(&samples[0]);
    let of = |i: usize| {
        let mine = ms(&samples[i]);
        let deltas: Vec<f64> = mine.iter().zip(&latest_ms).map(|(a, b)| a - b).collect();
        QualifiedLatency {
            qualifier: qualifiers[i].clone(),
            path: paths[i].clone(),
            latency: Summary::of(&samples[i]),
            median_paired_delta_ms: median(&deltas),
        }
    };
    Ok(AliasResult { function: name.to_owned(), rounds: count, latest: of(0), version: of(1), alias: of(2) })
}
