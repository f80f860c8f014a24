//! A client of a server's CloudWatch Logs API, for `lambdabox logs`: one
//! HTTP/1.1 request per call, over plain TCP (the server listens on
//! `http://`), signed with SigV4 as the AWS CLI signs (so it works under
//! `--auth iam` with a key allowed `logs:FilterLogEvents`).

pub use lambdabox_aws::client::ClientCredentials;
use lambdabox_aws::client::{Endpoint, post_signed};
use serde_json::Value;

use crate::{CONTENT_TYPE, LogsError, TARGET_PREFIX};

/// A server's endpoint, e.g. `http://127.0.0.1:9070`.
#[derive(Debug, Clone)]
pub struct Client {
    endpoint: Endpoint,
    credentials: ClientCredentials,
}

impl Client {
    pub fn new(endpoint: &str, credentials: ClientCredentials) -> Result<Self, LogsError> {
        let endpoint = Endpoint::parse(endpoint)
            .map_err(|reason| LogsError::Transport { endpoint: endpoint.to_owned(), reason })?;
        Ok(Self { endpoint, credentials })
    }

    /// Calls `operation` with `request`; an error answer is [`LogsError::Remote`].
    pub async fn call(&self, operation: &str, request: &Value) -> Result<Value, LogsError> {
        let transport = |reason: String| LogsError::Transport { endpoint: self.endpoint.base.clone(), reason };
        let headers = vec![
            ("content-type".to_owned(), CONTENT_TYPE.to_owned()),
            ("x-amz-target".to_owned(), format!("{TARGET_PREFIX}{operation}")),
        ];
        let reply = post_signed(&self.endpoint, &self.credentials, "logs", "/", headers, request.to_string().into())
            .await
            .map_err(transport)?;
        let status = reply.status;
        let value: Value = serde_json::from_slice(&reply.body)
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
        assert_eq!(Client::new("http://127.0.0.1:9070", c()).unwrap().endpoint.authority, "127.0.0.1:9070");
        assert!(matches!(Client::new("https://example.com", c()), Err(LogsError::Transport { .. })));
    }
}
