//! A client of a server's fire-now endpoint, for `lambdabox schedule fire`:
//! one HTTP/1.1 `POST /_lambdabox/schedules/{group}/{name}/fire` over plain
//! TCP, signed with SigV4 for `scheduler` as the AWS CLI signs (so it works
//! under `--auth iam` with a key allowed `scheduler:FireSchedule`).

pub use lambdabox_aws::client::ClientCredentials;
use lambdabox_aws::client::{Endpoint, post_signed};
use serde_json::Value;

use crate::SchedulerError;

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
    let endpoint = Endpoint::parse(endpoint).map_err(transport)?;
    let headers = vec![("content-type".to_owned(), "application/json".to_owned())];
    let reply = post_signed(&endpoint, credentials, "scheduler", &fire_path(group, name), headers, Default::default())
        .await
        .map_err(transport)?;
    let status = reply.status;
    let error_type = reply.headers.get("x-amzn-ErrorType").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body = reply.body;
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
