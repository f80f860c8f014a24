//! The Lambdabox server under test: its binary found (and built first when
//! the harness runs under cargo), started on port 0 with a temporary data
//! dir, driven through its Lambda REST API, stopped with SIGTERM.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use base64::Engine as _;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdout, Command};

use crate::http::{Conn, Response};

/// The role every fixture function is created with (Lambdabox has no IAM).
const ROLE: &str = "arn:aws:iam::000000000000:role/lambdabox-bench";

/// What a fixture function is made of.
pub struct FunctionDef<'a> {
    pub name: &'a str,
    pub runtime: &'a str,
    pub handler: &'a str,
    pub zip: &'a [u8],
    pub memory_mb: u32,
    pub timeout_s: u32,
}

/// How the server under test is started.
#[derive(Debug, Clone, Copy)]
pub struct ServeOptions {
    /// `--async-workers`: how many queued events the server runs at once.
    pub async_workers: usize,
    /// `--auth iam`: every request signed and authorised (the harness's own
    /// set-up calls are signed with the root's `test`/`test`).
    pub auth_iam: bool,
}

impl Default for ServeOptions {
    fn default() -> Self {
        // The server's own default.
        Self { async_workers: 8, auth_iam: false }
    }
}

/// The `lambdabox` binary: `explicit` (`--server`) when given, else
/// [`build_server`]'s.
pub fn server_binary(explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    match explicit {
        Some(p) => Ok(p.to_path_buf()),
        None => build_server(),
    }
}

/// The `lambdabox` binary next to this one, built first when under cargo.
fn build_server() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("locate the harness executable")?;
    let dir = exe.parent().context("the harness executable has no directory")?;
    if let Some(cargo) = std::env::var_os("CARGO") {
        eprintln!("== cargo build --release -p lambdabox");
        let status = std::process::Command::new(cargo)
            .args(["build", "--release", "-p", "lambdabox", "--manifest-path"])
            .arg(Path::new(crate::WORKSPACE).join("Cargo.toml"))
            .status()
            .context("run cargo build")?;
        anyhow::ensure!(status.success(), "cargo build --release -p lambdabox failed ({status})");
    }
    let path = dir.join("lambdabox");
    anyhow::ensure!(path.is_file(), "{} not found: build it with `cargo build --release -p lambdabox`", path.display());
    Ok(path)
}

/// A running `lambdabox serve`.
pub struct Server {
    child: Child,
    /// Held so the server's stdout never becomes a broken pipe.
    _stdout: ChildStdout,
    pub addr: SocketAddr,
    log_path: PathBuf,
    _scratch: tempfile::TempDir,
    control: Option<Conn>,
    /// Whether control requests are signed (`--auth iam`).
    signed: bool,
}

/// One request, signed when `key` is given.
async fn send(
    conn: &mut Conn,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    key: Option<&lambdabox_aws::sigv4::SigningKey<'_>>,
) -> anyhow::Result<Response> {
    match key {
        Some(key) => conn.request_signed(method, path, headers, body, key).await,
        None => conn.request(method, path, headers, body).await,
    }
}

/// The root's key (`--credentials`' default) for `service`.
pub fn root_key(service: &str) -> lambdabox_aws::sigv4::SigningKey<'_> {
    lambdabox_aws::sigv4::SigningKey {
        access_key: "test",
        secret: "test",
        session_token: None,
        region: "us-east-1",
        service,
    }
}

impl Server {
    /// Starts `binary serve` on a new temporary data dir and waits for its ready line.
    pub async fn start(binary: &Path) -> anyhow::Result<Self> {
        Self::start_with(binary, ServeOptions::default()).await
    }

    /// [`Server::start`] with non-default options.
    pub async fn start_with(binary: &Path, options: ServeOptions) -> anyhow::Result<Self> {
        let scratch = tempfile::Builder::new().prefix("lambdabox-bench-").tempdir().context("create scratch dir")?;
        let data_dir = scratch.path().join("data");
        let log_path = scratch.path().join("server.log");
        let log = std::fs::File::create(&log_path).with_context(|| format!("create {}", log_path.display()))?;
        let mut child = Command::new(binary)
            .arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(&data_dir)
            .arg("--async-workers")
            .arg(options.async_workers.to_string())
            .arg("--auth")
            .arg(if options.auth_iam { "iam" } else { "open" })
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("start {}", binary.display()))?;
        let stdout = child.stdout.take().context("server stdout")?;
        let mut lines = BufReader::new(stdout);
        let addr = tokio::time::timeout(Duration::from_secs(60), async {
            let mut line = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await.context("read server stdout")? == 0 {
                    bail!("the server exited before it was ready");
                }
                if let Some(rest) = line.trim().strip_prefix("lambdabox ready: listening on http://") {
                    return rest.parse::<SocketAddr>().with_context(|| format!("parse address {rest:?}"));
                }
            }
        })
        .await
        .context("the server was not ready within 60 s")?;
        let addr = match addr {
            Ok(addr) => addr,
            Err(e) => {
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                return Err(e.context(format!("server log:\n{log}")));
            }
        };
        let control = Some(Conn::connect(addr).await?);
        let signed = options.auth_iam;
        Ok(Self { child, _stdout: lines.into_inner(), addr, log_path, _scratch: scratch, control, signed })
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// The last lines of the server's own log, for error messages.
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// A request on the control connection, reconnecting once if the server closed it.
    async fn control(&mut self, method: &str, path: &str, body: &[u8]) -> anyhow::Result<Response> {
        self.control_with(method, path, &[("Content-Type", "application/json")], body).await
    }

    /// [`Server::control`] with other headers.
    async fn control_with(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> anyhow::Result<Response> {
        let key = self.signed.then(|| root_key(if path == "/" { "iam" } else { "lambda" }));
        if let Some(conn) = &mut self.control
            && let Ok(response) = send(conn, method, path, headers, body, key.as_ref()).await
        {
            return Ok(response);
        }
        let mut conn = Conn::connect(self.addr).await?;
        let response = send(&mut conn, method, path, headers, body, key.as_ref()).await?;
        self.control = Some(conn);
        Ok(response)
    }

    /// An IAM query-protocol call (`POST /`, form-encoded), signed by the
    /// root; the XML answer.
    pub async fn iam(&mut self, params: &[(&str, &str)]) -> anyhow::Result<String> {
        let encode = |s: &str| percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string();
        let mut form: Vec<String> = params.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
        form.push("Version=2010-05-08".to_owned());
        let body = form.join("&");
        let headers = [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")];
        let response = self.control_with("POST", "/", &headers, body.as_bytes()).await?;
        if response.status != 200 {
            bail!("IAM {:?} answered {}: {}", params.first(), response.status, response.body_text());
        }
        Ok(response.body_text())
    }

    /// The execution role every fixture names, trusting Lambda (needed
    /// under `--auth iam`, where CreateFunction checks `iam:PassRole`).
    pub async fn create_execution_role(&mut self) -> anyhow::Result<()> {
        let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        let name = ROLE.rsplit('/').next().unwrap_or("lambdabox-bench");
        self.iam(&[("Action", "CreateRole"), ("RoleName", name), ("AssumeRolePolicyDocument", trust)]).await?;
        Ok(())
    }

    /// CreateFunction.
    pub async fn create_function(&mut self, f: &FunctionDef<'_>) -> anyhow::Result<()> {
        let body = json!({
            "FunctionName": f.name,
            "Runtime": f.runtime,
            "Handler": f.handler,
            "Role": ROLE,
            "Code": { "ZipFile": base64::engine::general_purpose::STANDARD.encode(f.zip) },
            "MemorySize": f.memory_mb,
            "Timeout": f.timeout_s,
        });
        let response = self.control("POST", "/2015-03-31/functions", body.to_string().as_bytes()).await?;
        if response.status != 201 && response.status != 200 {
            bail!("CreateFunction {} answered {}: {}", f.name, response.status, response.body_text());
        }
        Ok(())
    }

    /// UpdateFunctionConfiguration with a new description: retires the
    /// function's warm environments, so the next Invoke is a cold start.
    pub async fn retire_environments(&mut self, name: &str, description: &str) -> anyhow::Result<()> {
        let body = json!({ "Description": description });
        let path = format!("/2015-03-31/functions/{name}/configuration");
        let response = self.control("PUT", &path, body.to_string().as_bytes()).await?;
        if response.status != 200 {
            bail!("UpdateFunctionConfiguration {name} answered {}: {}", response.status, response.body_text());
        }
        Ok(())
    }

    /// PublishVersion of `$LATEST`; returns the version number.
    pub async fn publish_version(&mut self, name: &str) -> anyhow::Result<String> {
        let path = format!("/2015-03-31/functions/{name}/versions");
        let response = self.control("POST", &path, b"{}").await?;
        if response.status != 201 && response.status != 200 {
            bail!("PublishVersion {name} answered {}: {}", response.status, response.body_text());
        }
        let body: serde_json::Value = serde_json::from_slice(&response.body).context("parse PublishVersion")?;
        body["Version"].as_str().map(str::to_owned).context("PublishVersion answered no Version")
    }

    /// CreateFunctionUrlConfig (AuthType NONE); returns the URL id.
    pub async fn create_function_url(&mut self, name: &str) -> anyhow::Result<String> {
        let path = format!("/2021-10-31/functions/{name}/url");
        let response = self.control("POST", &path, br#"{"AuthType":"NONE"}"#).await?;
        if response.status != 201 && response.status != 200 {
            bail!("CreateFunctionUrlConfig {name} answered {}: {}", response.status, response.body_text());
        }
        let body: serde_json::Value = serde_json::from_slice(&response.body).context("parse the function URL")?;
        let url = body["FunctionUrl"].as_str().context("no FunctionUrl")?;
        let host = url.trim_start_matches("http://").trim_start_matches("https://");
        Ok(host.split('.').next().unwrap_or_default().to_owned())
    }

    /// CreateApi quick create (HTTP, `Target` = the function); returns the API id.
    pub async fn create_http_api(&mut self, name: &str) -> anyhow::Result<String> {
        let arn = format!("arn:aws:lambda:us-east-1:000000000000:function:{name}");
        let body = json!({ "name": format!("bench-{name}"), "protocolType": "HTTP", "target": arn });
        let response = self.control("POST", "/v2/apis", body.to_string().as_bytes()).await?;
        if response.status != 201 && response.status != 200 {
            bail!("CreateApi for {name} answered {}: {}", response.status, response.body_text());
        }
        let body: serde_json::Value = serde_json::from_slice(&response.body).context("parse CreateApi")?;
        body["apiId"].as_str().map(str::to_owned).context("CreateApi answered no apiId")
    }

    /// CreateAlias `alias` → `version`.
    pub async fn create_alias(&mut self, name: &str, alias: &str, version: &str) -> anyhow::Result<()> {
        let body = json!({ "Name": alias, "FunctionVersion": version });
        let path = format!("/2015-03-31/functions/{name}/aliases");
        let response = self.control("POST", &path, body.to_string().as_bytes()).await?;
        if response.status != 201 && response.status != 200 {
            bail!("CreateAlias {name}:{alias} answered {}: {}", response.status, response.body_text());
        }
        Ok(())
    }

    /// One page of the CloudWatch Logs API's FilterLogEvents (JSON 1.1 on
    /// the Lambda API's listener) over `/aws/lambda/NAME`.
    pub async fn filter_log_events(&mut self, request: &serde_json::Value) -> anyhow::Result<serde_json::Value> {
        let headers =
            [("Content-Type", "application/x-amz-json-1.1"), ("X-Amz-Target", "Logs_20140328.FilterLogEvents")];
        let response = self.control_with("POST", "/", &headers, request.to_string().as_bytes()).await?;
        if response.status != 200 {
            bail!("FilterLogEvents answered {}: {}", response.status, response.body_text());
        }
        serde_json::from_slice(&response.body).context("parse FilterLogEvents")
    }

    /// Stops the server with SIGTERM (it retires every environment), or kills it after 30 s.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.control = None;
        if let Some(pid) = self.child.id() {
            // SAFETY: kill(2) on the pid of our own child, which has not
            // been reaped yet (we hold its `Child`), so the pid is not reused.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
        }
        match tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await {
            Ok(status) => {
                status.context("wait for the server")?;
            }
            Err(_) => {
                self.child.kill().await.context("kill the server")?;
            }
        }
        Ok(())
    }
}

/// The path of Invoke for a function.
pub fn invoke_path(name: &str) -> String {
    format!("/2015-03-31/functions/{name}/invocations")
}

/// One Invoke on `conn`; an error unless the function answered 200 without an error.
pub async fn invoke(conn: &mut Conn, path: &str, payload: &[u8], tail: bool) -> anyhow::Result<Response> {
    let headers: &[(&str, &str)] = if tail { &[("X-Amz-Log-Type", "Tail")] } else { &[] };
    let response = conn.request("POST", path, headers, payload).await?;
    if response.status != 200 || response.header("x-amz-function-error").is_some() {
        bail!("Invoke {path} answered {}: {}", response.status, response.body_text());
    }
    Ok(response)
}

/// `Init Duration: X ms` from the REPORT line of a base64 log tail, in ms.
pub fn init_duration_ms(response: &Response) -> Option<f64> {
    let tail = response.header("x-amz-log-result")?;
    let log = base64::engine::general_purpose::STANDARD.decode(tail.trim()).ok()?;
    let log = String::from_utf8_lossy(&log);
    let report = log.lines().rev().find(|l| l.starts_with("REPORT"))?;
    let rest = report.split("Init Duration:").nth(1)?;
    rest.split_whitespace().next()?.parse().ok()
}
