//! A client of a server's fire-now endpoint, for `lambdabox schedule fire`:
//! one HTTP/1.1 `POST /_lambdabox/schedules/{group}/{name}/fire` over plain
//! TCP, signed with SigV4 for `scheduler` as the AWS CLI signs (so it works
//! under `--auth iam` with a key allowed `scheduler:FireSchedule`).

use axum::http::{Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use lambdabox_aws::sigv4::{SignedRequest, SigningKey, sign};
use serde_json::Value;

use crate::SchedulerError;

/// The key requests are signed with.
#[derive(Clone)]
pub struct ClientCredentials {
    pub access_key: String,
    pub secret: String,
    pub session_token: Option<String>,
    pub region: String,
}

impl std::fmt::Debug for ClientCredentials {
    // Never print the secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("access_key", &self.access_key)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

impl ClientCredentials {
    /// The AWS CLI's environment variables (`AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION` or
    /// `AWS_DEFAULT_REGION`), else the server's default `test`/`test` in us-east-1.
    pub fn from_env() -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Self {
            access_key: var("AWS_ACCESS_KEY_ID").unwrap_or_else(|| "test".to_owned()),
            secret: var("AWS_SECRET_ACCESS_KEY").unwrap_or_else(|| "test".to_owned()),
            session_token: var("AWS_SESSION_TOKEN"),
            region: var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION")).unwrap_or_else(|| "us-east-1".to_owned()),
        }
    }
}

/// The fire-now path of a schedule (names are `[0-9a-zA-Z-_.]+`, nothing to escape).
pub fn fire_path(group: &str, name: &str) -> String {
    format!("/_lambdabox/schedules/{group}/{name}/fire")
}

/// Fires `group/name` on the server at `endpoint` (`http://host:port`);
/// an error answer is [`SchedulerError::Remote`].
pub async fn fire(
    endpoint: &str,
    credentials: &ClientCredentials,
    group: &str,
    name: &str,
) -> Result<Value, SchedulerError> {
    let transport = |reason: String| SchedulerError::Transport { endpoint: endpoint.to_owned(), reason };
    let uri: Uri = endpoint.parse().map_err(|_| transport("not a URL".into()))?;
    if uri.scheme_str() != Some("http") {
        return Err(transport("only http:// endpoints are supported".into()));
    }
    let authority = uri.authority().ok_or_else(|| transport("no host in the URL".into()))?;
    let authority = match authority.port_u16() {
        Some(_) => authority.to_string(),
        None => format!("{}:80", authority.host()),
    };
    let path = fire_path(group, name);
    let stream = tokio::net::TcpStream::connect(&authority).await.map_err(|e| transport(e.to_string()))?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| transport(e.to_string()))?;
    let connection = tokio::spawn(connection);
    let headers =
        vec![("host".to_owned(), authority.clone()), ("content-type".to_owned(), "application/json".to_owned())];
    let key = SigningKey {
        access_key: &credentials.access_key,
        secret: &credentials.secret,
        session_token: credentials.session_token.as_deref(),
        region: &credentials.region,
        service: "scheduler",
    };
    let unsigned = SignedRequest { method: "POST", path: &path, query: "", headers: &headers, body: b"" };
    let mut builder = Request::post(format!("{}{path}", endpoint.trim_end_matches('/')));
    for (k, v) in headers.iter().chain(&sign(&unsigned, &key, chrono::Utc::now())) {
        builder = builder.header(k.as_str(), v.as_str());
    }
    let request = builder.body(Full::new(bytes::Bytes::new())).map_err(|e| transport(e.to_string()))?;
    let response = sender.send_request(request).await.map_err(|e| transport(e.to_string()))?;
    let status = response.status();
    let error_type = response.headers().get("x-amzn-ErrorType").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body = response.into_body().collect().await.map_err(|e| transport(e.to_string()))?.to_bytes();
    connection.abort();
    let value: Value = serde_json::from_slice(&body)
        .map_err(|_| transport(format!("answered HTTP {status} without a JSON body: is it a lambdabox server?")))?;
    if status.is_success() {
        return Ok(value);
    }
    let message = value.get("Message").or_else(|| value.get("message")).and_then(Value::as_str).unwrap_or_default();
    let error_type = error_type
        .or_else(|| value.get("__type").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| format!("HTTP {status}"));
    let error_type = error_type.split(':').next().unwrap_or_default().rsplit('#').next().unwrap_or_default().to_owned();
    Err(SchedulerError::Remote { status: status.as_u16(), error_type, message: message.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn endpoints_must_be_http_urls() {
        let c = ClientCredentials::from_env();
        for bad in ["https://example.com", "not a url"] {
            assert!(matches!(fire(bad, &c, "default", "s").await, Err(SchedulerError::Transport { .. })), "{bad}");
        }
        assert_eq!(fire_path("g", "s"), "/_lambdabox/schedules/g/s/fire");
    }
}
