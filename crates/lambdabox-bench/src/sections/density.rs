//! The density section: frozen Python environments on a fresh server of
//! their own, after the server of the other sections has stopped.

use std::path::Path;

use super::Bench;
use crate::cli::Section;
use crate::fixtures;
use crate::measure::density::{self, DensityResult};
use crate::server::Server;

/// `--density` environments on a new server started from `server_bin`
/// (nothing with `--skip density` or `--density 0`); a failure is reported
/// as not measured, with the tail of that server's log.
pub async fn run(bench: &mut Bench<'_>, server_bin: &Path) -> anyhow::Result<Option<DensityResult>> {
    let args = bench.args;
    if bench.skips(Section::Density) || args.density == 0 {
        return Ok(None);
    }
    eprintln!("== density: {} Python environments on a fresh server", args.density);
    let mut server = Server::start(server_bin).await?;
    let mut density_result = None;
    match density::run(&mut server, &fixtures::python_zip()?, args.density, Path::new("/proc")).await {
        Ok(d) => {
            eprintln!(
                "   {} environments ({} frozen), PSS median {:.1} MiB, {} fit in 24 GiB",
                d.environments,
                d.frozen,
                d.pss.median_kib / 1024.0,
                d.fit_24gib_by_pss
            );
            density_result = Some(d);
        }
        Err(e) => {
            bench.mark_unavailable("density", format!("{e:#}\n{}", server.log_tail()));
        }
    }
    server.stop().await?;
    Ok(density_result)
}
