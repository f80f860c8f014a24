//! The fixture functions of the server under test: one per runtime, each
//! deployed and invoked once; the ones that do not answer are reported as
//! not measured and left out of the later sections.

use std::path::Path;

use super::Bench;
use crate::cli::Section;
use crate::server::{FunctionDef, Server, invoke, invoke_path};
use crate::{CUSTOM, CUSTOM_LRT, fixtures, http};

/// A fixture function deployed on the server under test.
pub struct Fixture {
    pub label: &'static str,
    pub name: &'static str,
    pub runtime: &'static str,
    pub handler: &'static str,
    pub zip: Vec<u8>,
    /// The [`BareStart`](crate::report::BareStart) label its cold start is compared with.
    pub bare: &'static str,
    pub cold_count: usize,
}

/// The deployed fixture labelled `label`, if it was deployed.
pub fn find<'f>(deployed: &'f [Fixture], label: &str) -> Option<&'f Fixture> {
    deployed.iter().find(|f| f.label == label)
}

/// Builds the fixtures (Java's unless `--skip java`), deploys each on
/// `server` at `--memory-size` and checks it answers; returns the ones that do.
pub async fn deploy(
    bench: &mut Bench<'_>,
    server: &mut Server,
    bootstrap: &Path,
    lrt: &Path,
    scratch: &Path,
) -> anyhow::Result<Vec<Fixture>> {
    let args = bench.args;
    let mut fixtures = vec![
        Fixture {
            label: CUSTOM,
            name: "bench-custom",
            runtime: "provided.al2023",
            handler: "bootstrap",
            zip: fixtures::bootstrap_zip(bootstrap)?,
            bare: "bootstrap",
            cold_count: args.cold_count,
        },
        Fixture {
            label: CUSTOM_LRT,
            name: "bench-custom-lrt",
            runtime: "provided.al2023",
            handler: "bootstrap",
            zip: fixtures::bootstrap_zip(lrt)?,
            bare: "lambda_runtime bootstrap",
            cold_count: args.cold_count,
        },
        Fixture {
            label: "python3.11",
            name: "bench-python",
            runtime: "python3.11",
            handler: "app.handler",
            zip: fixtures::python_zip()?,
            bare: "python3 -c pass",
            cold_count: args.cold_count,
        },
        Fixture {
            label: "nodejs20.x",
            name: "bench-nodejs",
            runtime: "nodejs20.x",
            handler: "index.handler",
            zip: fixtures::node_zip()?,
            bare: "node -e 0",
            cold_count: (args.cold_count / 2).max(1),
        },
    ];
    if !bench.skips(Section::Java) {
        match fixtures::java_zip(scratch) {
            Ok(zip) => fixtures.push(Fixture {
                label: "java17",
                name: "bench-java",
                runtime: "java17",
                handler: "bench.Handler::handleRequest",
                zip,
                bare: "java -version",
                cold_count: (args.cold_count / 4).max(1),
            }),
            Err(e) => bench.mark_unavailable("java17", format!("{e:#}")),
        }
    }
    // Deploy each and check it answers; drop the ones that do not.
    let mut deployed = Vec::new();
    for f in fixtures {
        let def = FunctionDef {
            name: f.name,
            runtime: f.runtime,
            handler: f.handler,
            zip: &f.zip,
            memory_mb: args.memory_size,
            timeout_s: 30,
        };
        let check = async {
            server.create_function(&def).await?;
            let mut conn = http::Conn::connect(server.addr).await?;
            invoke(&mut conn, &invoke_path(f.name), b"{}", false).await
        };
        match check.await {
            Ok(_) => deployed.push(f),
            Err(e) => {
                eprintln!("   {} is not available: {e:#}", f.label);
                bench.mark_unavailable(f.label, format!("{e:#}"));
            }
        }
    }
    Ok(deployed)
}
