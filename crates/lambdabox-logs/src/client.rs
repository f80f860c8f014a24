//! A client of a server's CloudWatch Logs API, for `lambdabox logs`: one
//! HTTP/1.1 request per call, over plain TCP (the server listens on
//! `http://`).

use axum::http::{Request, Uri, header};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::Value;

use crate::{CONTENT_TYPE, LogsError, TARGET_PREFIX};

/// A server's endpoint, e.g. `http://127.0.0.1:9070`.
#[derive(Debug, Clone)]
pub struct Client {
    endpoint: String,
    authority: String,
}

impl Client {
    pub fn new(endpoint: &str) -> Result<Self, LogsError> {
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
        Ok(Self { endpoint: endpoint.trim_end_matches('/').to_owned(), authority })
    }

    /// Calls `operation` with `request`; an error answer is [`LogsError::Remote`].
    pub async fn call(&self, operation: &str, request: &Value) -> Result<Value, LogsError> {
        let transport = |reason: String| LogsError::Transport { endpoint: self.endpoint.clone(), reason };
        let stream = tokio::net::TcpStream::connect(&self.authority).await.map_err(|e| transport(e.to_string()))?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| transport(e.to_string()))?;
        let connection = tokio::spawn(connection);
        let request = Request::post(format!("{}/", self.endpoint))
            .header(header::HOST, &self.authority)
            .header(header::CONTENT_TYPE, CONTENT_TYPE)
            .header("x-amz-target", format!("{TARGET_PREFIX}{operation}"))
            .body(Full::new(bytes::Bytes::from(request.to_string())))
            .map_err(|e| transport(e.to_string()))?;
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
        assert_eq!(Client::new("http://127.0.0.1:9070").unwrap().authority, "127.0.0.1:9070");
        assert_eq!(Client::new("http://localhost/").unwrap().authority, "localhost:80");
        assert!(Client::new("https://example.com").is_err());
        assert!(Client::new("not a url").is_err());
    }
}
