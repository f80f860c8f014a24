//! `--auth-overhead`: what `--auth iam` adds to a warm Invoke. Two servers
//! side by side run the same Python function: one `--auth open` (requests
//! unsigned, nothing checked), one `--auth iam`, called signed by the
//! account root (signature check, no policy lookup) and by an IAM user
//! whose inline policy allows `lambda:InvokeFunction` on the function
//! (signature, the user's key and policies read from `identity.db`, policy
//! evaluation). Rounds alternate the three callers so the machine's drift
//! falls on all alike; the report is each caller's median and p99 and the
//! ratios of the medians to the open server's.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use lambdabox_aws::sigv4::SigningKey;

use crate::cli::Args;
use crate::fixtures;
use crate::http::Conn;
use crate::sections::PAYLOAD;
use crate::server::{FunctionDef, ServeOptions, Server, invoke_path, root_key, server_binary};
use crate::stats::Summary;

const NAME: &str = "auth-bench";

fn between<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let start = xml.find(&format!("<{tag}>"))? + tag.len() + 2;
    let end = xml[start..].find(&format!("</{tag}>"))? + start;
    Some(&xml[start..end])
}

pub async fn run(args: &Args, rounds: usize) -> anyhow::Result<()> {
    let binary = server_binary(args.server.as_deref())?;
    let zip = fixtures::python_zip()?;
    let def = FunctionDef {
        name: NAME,
        runtime: "python3.12",
        handler: "app.handler",
        zip: &zip,
        memory_mb: 128,
        timeout_s: 10,
    };
    let mut open = Server::start(&binary).await?;
    let mut iam = Server::start_with(&binary, ServeOptions { auth_iam: true, ..ServeOptions::default() }).await?;
    open.create_function(&def).await?;
    iam.create_execution_role().await?;
    iam.create_function(&def).await?;
    iam.iam(&[("Action", "CreateUser"), ("UserName", "bench-user")]).await?;
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:000000000000:function:{NAME}"}}]}}"#
    );
    iam.iam(&[
        ("Action", "PutUserPolicy"),
        ("UserName", "bench-user"),
        ("PolicyName", "invoke"),
        ("PolicyDocument", &policy),
    ])
    .await?;
    let created = iam.iam(&[("Action", "CreateAccessKey"), ("UserName", "bench-user")]).await?;
    let key_id = between(&created, "AccessKeyId").context("CreateAccessKey answered no AccessKeyId")?.to_owned();
    let secret = between(&created, "SecretAccessKey").context("CreateAccessKey answered no secret")?.to_owned();
    let user = SigningKey {
        access_key: &key_id,
        secret: &secret,
        session_token: None,
        region: "us-east-1",
        service: "lambda",
    };
    let root = root_key("lambda");

    let path = invoke_path(NAME);
    let mut conns = [Conn::connect(open.addr).await?, Conn::connect(iam.addr).await?, Conn::connect(iam.addr).await?];
    let labels = ["--auth open, unsigned", "--auth iam, the root", "--auth iam, an IAM user with a policy"];
    let mut samples: [Vec<Duration>; 3] = Default::default();
    let warmup = 50;
    eprintln!("== auth overhead: {rounds} rounds of a warm Invoke per caller");
    for round in 0..warmup + rounds {
        for k in 0..3 {
            let which = (round + k) % 3;
            let conn = &mut conns[which];
            let started = Instant::now();
            let response = match which {
                0 => conn.request("POST", &path, &[], PAYLOAD).await?,
                1 => conn.request_signed("POST", &path, &[], PAYLOAD, &root).await?,
                _ => conn.request_signed("POST", &path, &[], PAYLOAD, &user).await?,
            };
            let elapsed = started.elapsed();
            if response.status != 200 {
                bail!("{} answered {}: {}", labels[which], response.status, response.body_text());
            }
            if round >= warmup {
                samples[which].push(elapsed);
            }
        }
    }
    let open_p50 = Summary::of(&samples[0]).p50_ms;
    println!("| caller | p50 ms | p99 ms | p50 / open |");
    println!("|---|---|---|---|");
    for (label, s) in labels.iter().zip(&samples) {
        let summary = Summary::of(s);
        println!("| {label} | {:.3} | {:.3} | {:.2} |", summary.p50_ms, summary.p99_ms, summary.p50_ms / open_p50);
    }
    open.stop().await?;
    iam.stop().await?;
    Ok(())
}
