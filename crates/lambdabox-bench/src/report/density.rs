//! The density table: how many frozen Python environments fit in 24 GiB,
//! by their PSS and by the drop in `MemAvailable`.

use std::fmt::Write as _;

use super::Results;

impl Results {
    /// Density, when it was measured.
    pub(super) fn density_table(&self, t: &mut String) {
        let Some(d) = &self.density else { return };
        let _ = writeln!(t, "\n### Density (frozen python3.11 environments, MemorySize 128)\n");
        let _ = writeln!(
            t,
            "| measured | frozen | PSS per env (median) | min / max | server per env | MemAvailable drop per env | fit in 24 GiB by PSS | by MemAvailable |"
        );
        let _ = writeln!(t, "|---:|---:|---:|---:|---:|---:|---:|---:|");
        let _ = writeln!(
            t,
            "| {} of {} | {} | {:.1} MiB | {:.1} / {:.1} MiB | {:.0} KiB | {:.1} MiB | {} | {} |",
            d.environments,
            d.requested,
            d.frozen,
            d.pss.median_kib / 1024.0,
            d.pss.min_kib / 1024.0,
            d.pss.max_kib / 1024.0,
            d.server_kib_per_env,
            d.mem_available_kib_per_env / 1024.0,
            d.fit_24gib_by_pss,
            d.fit_24gib_by_mem_available
        );
    }
}
