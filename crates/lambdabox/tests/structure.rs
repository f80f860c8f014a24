//! The workspace's dependency rules, checked against `cargo metadata` so a
//! change that breaks them fails the build's tests:
//!
//! - the sandbox and the Runtime API know nothing of Lambda: they depend on
//!   no other Lambdabox crate;
//! - the model and the shared AWS crate sit at the bottom (the model depends
//!   on no Lambdabox crate, `lambdabox-aws` only on the model);
//! - a service crate (one per AWS API, and the front door) never depends on
//!   another service crate: services meet only in the binary's dispatcher;
//! - what services share (identity and policy evaluation) sits below them
//!   and depends on no service crate.

use std::collections::BTreeMap;
use std::process::Command;

/// One crate per served API.
const SERVICES: &[&str] = &[
    "lambdabox-lambda",
    "lambdabox-s3",
    "lambdabox-logs",
    "lambdabox-apigateway",
    "lambdabox-frontdoor",
    "lambdabox-iam",
    "lambdabox-sts",
    "lambdabox-scheduler",
    "lambdabox-sqs",
];

/// Shared by services, below all of them.
const SHARED: &[&str] = &["lambdabox-identity", "lambdabox-queues"];

/// Crates that must not depend on any other Lambdabox crate.
const INDEPENDENT: &[&str] = &[
    "lambdabox-sandbox",
    "lambdabox-runtime-api",
    "lambdabox-model",
    "lambdabox-sdks",
    "lambdabox-network",
    "lambdabox-fuzz",
];

/// Test support any crate may use as a dev-dependency (it depends on no
/// Lambdabox crate itself).
const TEST_SUPPORT: &[&str] = &["lambdabox-fuzz"];

/// What each workspace package depends on (any kind), from `cargo metadata`.
fn workspace_dependencies(metadata: &serde_json::Value) -> BTreeMap<String, Vec<String>> {
    let packages = metadata["packages"].as_array().cloned().unwrap_or_default();
    packages
        .iter()
        .map(|p| {
            let name = p["name"].as_str().unwrap_or_default().to_owned();
            let deps = p["dependencies"]
                .as_array()
                .map(|d| d.iter().filter_map(|d| d["name"].as_str().map(str::to_owned)).collect())
                .unwrap_or_default();
            (name, deps)
        })
        .collect()
}

/// Every broken rule, one line each.
fn violations(deps: &BTreeMap<String, Vec<String>>) -> Vec<String> {
    let ours = |d: &String| d.starts_with("lambdabox") && !TEST_SUPPORT.contains(&d.as_str());
    let mut found = Vec::new();
    for (package, uses) in deps {
        if INDEPENDENT.contains(&package.as_str()) {
            for d in uses.iter().filter(|d| ours(d)) {
                found.push(format!("{package} depends on {d}, but must depend on no Lambdabox crate"));
            }
        }
        if package == "lambdabox-aws" {
            for d in uses.iter().filter(|d| ours(d) && *d != "lambdabox-model") {
                found.push(format!("lambdabox-aws depends on {d}, but may depend only on lambdabox-model"));
            }
        }
        if SERVICES.contains(&package.as_str()) {
            for d in uses.iter().filter(|d| SERVICES.contains(&d.as_str())) {
                found.push(format!("service crate {package} depends on service crate {d}"));
            }
        }
        if SHARED.contains(&package.as_str()) {
            for d in uses.iter().filter(|d| SERVICES.contains(&d.as_str())) {
                found.push(format!("shared crate {package} depends on service crate {d}"));
            }
        }
    }
    found
}

#[test]
fn dependency_arrows_point_one_way() {
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.toml");
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline", "--manifest-path", manifest])
        .output()
        .expect("run cargo metadata");
    assert!(output.status.success(), "cargo metadata: {}", String::from_utf8_lossy(&output.stderr));
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).expect("cargo metadata's JSON");
    let deps = workspace_dependencies(&metadata);
    for required in SERVICES.iter().chain(INDEPENDENT).chain(SHARED).chain(&["lambdabox-aws"]) {
        assert!(deps.contains_key(*required), "{required} is not in the workspace: update the rules");
    }
    let broken = violations(&deps);
    assert!(broken.is_empty(), "dependency rules broken:\n{}", broken.join("\n"));
}

#[test]
fn the_rules_catch_each_kind_of_break() {
    let deps = |pairs: &[(&str, &[&str])]| -> BTreeMap<String, Vec<String>> {
        pairs.iter().map(|(p, d)| ((*p).to_owned(), d.iter().map(|s| (*s).to_owned()).collect())).collect()
    };
    assert!(violations(&deps(&[("lambdabox-sandbox", &["nix", "libc"])])).is_empty());
    assert_eq!(violations(&deps(&[("lambdabox-sandbox", &["lambdabox-model"])])).len(), 1);
    assert_eq!(violations(&deps(&[("lambdabox-runtime-api", &["lambdabox-engine"])])).len(), 1);
    assert_eq!(violations(&deps(&[("lambdabox-lambda", &["lambdabox-logs", "lambdabox-control"])])).len(), 1);
    assert_eq!(violations(&deps(&[("lambdabox-frontdoor", &["lambdabox-apigateway"])])).len(), 1);
    assert_eq!(violations(&deps(&[("lambdabox-aws", &["lambdabox-store"])])).len(), 1);
    assert_eq!(violations(&deps(&[("lambdabox-identity", &["lambdabox-iam"])])).len(), 1);
    assert!(violations(&deps(&[("lambdabox-runtime-api", &["lambdabox-fuzz"])])).is_empty(), "test support");
    assert_eq!(violations(&deps(&[("lambdabox-fuzz", &["lambdabox-model"])])).len(), 1);
    assert!(violations(&deps(&[("lambdabox", SERVICES)])).is_empty(), "the binary joins services");
}
