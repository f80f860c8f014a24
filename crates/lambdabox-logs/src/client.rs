//! A client of a server's CloudWatch Logs API, for `lambdabox logs`: one
//! HTTP/1.1 request per call, over plain TCP (the server listens on
//! `http://`), signed with SigV4 as the AWS CLI signs (so it works under
//! `--auth iam` with a key allowed `logs:FilterLogEvents`).

use axum::http::{Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use lambdabox_aws::sigv4::{SignedRequest, SigningKey, sign};
use serde_json::Value;

use crate::{CONTENT_TYPE, LogsError, TARGET_PREFIX};

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
        f.debug_struct("ClientCredentials").field("access_key", &self.access_key).finish_non_exhaustive()
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

/// A server's endpoint, e.g. `http://127.0.0.1:9070`.
#[derive(Debug, Clone)]
pub struct Client {
    endpoint: String,
    authority: String,
    credentials: ClientCredentials,
}

impl Client {
    pub fn new(endpoint: &str, credentials: ClientCredentials) -> Result<Self, LogsError> {
        let transport =
            |reason: &str| LogsError::Transport { endpoint: endpoint.to_owned(), reason: reason.to_owned() };
        let uri: Uri = endpoint.parse().map_err(|_| transport("not a URL"))?;
        if uri.scheme_str() != Some("http") {
            return Err(transport("only http:// endpoints are supported"));
        }
        let authority = uri.authority().ok_or_else(|| transport("no host in the URL"))?;
        let authority = match authority.port_u16() {
            Some(_) => authority.to_string(),
            None => format!("{}:80", authority.host()),
        };
        Ok(Self { endpoint: endpoint.trim_end_matches('/').to_owned(), authority, credentials })
    }

    /// Calls `operation` with `request`; an error answer is [`LogsError::Remote`].
    pub async fn call(&self, operation: &str, request: &Value) -> Result<Value, LogsError> {
        let transport = |reason: String| LogsError::Transport { endpoint: self.endpoint.clone(), reason };
        let stream = tokio::net::TcpStream::connect(&self.authority).await.map_err(|e| transport(e.to_string()))?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| transport(e.to_string()))?;
        let connection = tokio::spawn(connection);
        let body = request.to_string();
        let headers = vec![
            ("content-type".to_owned(), CONTENT_TYPE.to_owned()),
            ("host".to_owned(), self.authority.clone()),
            ("x-amz-target".to_owned(), format!("{TARGET_PREFIX}{operation}")),
        ];
        let c = &self.credentials;
        let key = SigningKey {
            access_key: &c.access_key,
            secret: &c.secret,
            session_token: c.session_token.as_deref(),
            region: &c.region,
            service: "logs",
        };
        let unsigned = SignedRequest { method: "POST", path: "/", query: "", headers: &headers, body: body.as_bytes() };
        let mut builder = Request::post(format!("{}/", self.endpoint));
        for (name, value) in headers.iter().chain(&sign(&unsigned, &key, chrono::Utc::now())) {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let request = builder.body(Full::new(bytes::Bytes::from(body))).map_err(|e| transport(e.to_string()))?;
        let response = sender.send_request(request).await.map_err(|e| transport(e.to_string()))?;
        let status = response.status();
        let body = response.into_body().collect().await.map_err(|e| transport(e.to_string()))?.to_bytes();
        connection.abort();
        let value: Value = serde_json::from_slice(&body)
            .map_err(|_| transport(format!("answered HTTP {status} without a JSON body: is it a lambdabox server?")))?;
        if status.is_success() {
            return Ok(value);
        }
        let text = |key: &str| value.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();
        let error_type = text("__type");
        let error_type = error_type.rsplit('#').next().unwrap_or_default().to_owned();
        Err(LogsError::Remote { status: status.as_u16(), error_type, message: text("message") })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_http_urls() {
        let c = || ClientCredentials::from_env();
        assert_eq!(Client::new("http://127.0.0.1:9070", c()).unwrap().authority, "127.0.0.1:9070");
        assert_eq!(Client::new("http://localhost/", c()).unwrap().authority, "localhost:80");
        assert!(Client::new("https://example.com", c()).is_err());
        assert!(Client::new("not a url", c()).is_err());
    }
}
