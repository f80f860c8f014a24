//! `lambdabox-bench-lrt`: the benchmark's trivial function written on the
//! official `lambda_runtime` crate. The harness runs this same source twice:
//! as a `provided.al2023` bootstrap on Lambdabox, and under
//! `cargo lambda watch` (copied into a scratch Cargo project), so the two
//! platforms are compared on one function.
//!
//! It answers `{"started_us":…,"handler_us":…}` like the raw bootstrap.

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

static STARTED_US: OnceLock<u128> = OnceLock::new();

fn now_us() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros()).unwrap_or(0)
}

async fn handler(_event: LambdaEvent<Value>) -> Result<Value, Error> {
    let started = STARTED_US.get().copied().unwrap_or(0);
    Ok(json!({ "started_us": started as u64, "handler_us": now_us() as u64 }))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    STARTED_US.get_or_init(now_us);
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_none() {
        return Ok(());
    }
    lambda_runtime::run(service_fn(handler)).await
}
