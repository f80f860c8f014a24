//! The CloudWatch Logs API over the log streams the engine writes under
//! `DATA_DIR/logs`: one log group `/aws/lambda/<function>` per function, one
//! stream per execution environment, the START, END and REPORT lines
//! included. It speaks AWS's JSON 1.1 protocol (`POST /` with `X-Amz-Target:
//! Logs_20140328.<Operation>`) on the Lambda API's listener, so that boto3's
//! `logs` client and `aws logs tail` read what functions printed.
//!
//! [`LogsApi::call`] runs one operation on a request body; [`http`] serves
//! it with axum, [`client`] calls a server (for `lambdabox logs`). The
//! operations live in `groups.rs` (DescribeLogGroups, DeleteLogGroup),
//! `streams.rs` (DescribeLogStreams), `events.rs` (GetLogEvents) and
//! `filter.rs` (FilterLogEvents); `stream.rs` reads one stream's files,
//! `format.rs` names them.

pub mod client;
mod error;
mod events;
mod filter;
mod groups;
pub mod http;
mod pattern;
mod store;
mod stream;
mod streams;
mod token;

use std::path::PathBuf;
use std::sync::Arc;

use lambdabox_model::AccountId;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub use error::LogsError;
pub use pattern::FilterPattern;
pub use store::LogStore;

/// The `X-Amz-Target` prefix of CloudWatch Logs operations.
pub const TARGET_PREFIX: &str = "Logs_20140328.";

/// The content type of JSON 1.1 requests and responses.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// The CloudWatch Logs API of one data dir.
#[derive(Clone, Debug)]
pub struct LogsApi {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: LogStore,
    account: AccountId,
}

/// What an operation needs besides its request.
pub(crate) struct Ctx<'a> {
    pub store: &'a LogStore,
    pub region: &'a str,
    pub account: &'a str,
}

impl Ctx<'_> {
    /// A log group's ARN as `arn` carries it (with the trailing `:*`).
    pub fn group_arn(&self, group: &str) -> String {
        format!("{}:*", self.group_arn_bare(group))
    }

    /// A log group's ARN as `logGroupArn` carries it.
    pub fn group_arn_bare(&self, group: &str) -> String {
        format!("arn:aws:logs:{}:{}:log-group:{group}", self.region, self.account)
    }

    pub fn stream_arn(&self, group: &str, stream: &str) -> String {
        format!("{}:log-stream:{stream}", self.group_arn_bare(group))
    }
}

impl LogsApi {
    /// The API over the log streams under `root` (`DATA_DIR/logs`), with
    /// `account` in its ARNs.
    pub fn new(root: PathBuf, account: AccountId) -> Self {
        Self { inner: Arc::new(Inner { store: LogStore::new(root), account }) }
    }

    /// Runs `operation` (the part of `X-Amz-Target` after
    /// [`TARGET_PREFIX`]) on a JSON request body. Blocking: it reads files.
    pub fn call(&self, region: &str, operation: &str, body: &[u8]) -> Result<Value, LogsError> {
        let ctx = Ctx { store: &self.inner.store, region, account: self.inner.account.as_str() };
        match operation {
            "DescribeLogGroups" => groups::describe(&ctx, request(body)?),
            "DeleteLogGroup" => groups::delete(&ctx, request(body)?),
            "DescribeLogStreams" => streams::describe(&ctx, request(body)?),
            "GetLogEvents" => events::get(&ctx, request(body)?),
            "FilterLogEvents" => filter::filter(&ctx, request(body)?),
            other => Err(LogsError::UnknownOperation { operation: other.to_owned() }),
        }
    }
}

/// A request body; an empty one is `{}`.
fn request<T: DeserializeOwned>(body: &[u8]) -> Result<T, LogsError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) { b"{}".as_slice() } else { body };
    serde_json::from_slice(body).map_err(|source| LogsError::Serialization { source })
}

/// The log group a request names, by `logGroupName` or `logGroupIdentifier`
/// (a name or an ARN, with or without the trailing `:*`).
pub(crate) fn group_of(name: Option<String>, identifier: Option<String>) -> Result<String, LogsError> {
    match (name, identifier) {
        (Some(_), Some(_)) => Err(LogsError::LogGroupTwice),
        (None, None) => Err(LogsError::LogGroupMissing),
        (Some(name), None) => Ok(name),
        (None, Some(id)) => {
            let Some(rest) = id.strip_prefix("arn:") else { return Ok(id) };
            // arn:PARTITION:logs:REGION:ACCOUNT:log-group:NAME[:*]
            let name = rest.splitn(5, ':').nth(4).and_then(|r| r.strip_prefix("log-group:"));
            let name = name.ok_or(LogsError::LogGroupNotFound)?;
            Ok(name.strip_suffix(":*").unwrap_or(name).to_owned())
        }
    }
}

/// A `limit` within `1..=max`, `default` when absent.
pub(crate) fn limit(value: Option<i64>, max: i64, default: usize) -> Result<usize, LogsError> {
    match value {
        None => Ok(default),
        Some(v) if v < 1 => Err(LogsError::at_least("limit", v, 1)),
        Some(v) if v > max => Err(LogsError::at_most("limit", v, max)),
        Some(v) => Ok(v as usize),
    }
}

/// A time that must not be negative.
pub(crate) fn time(field: &'static str, value: Option<i64>) -> Result<Option<i64>, LogsError> {
    match value {
        Some(v) if v < 0 => Err(LogsError::at_least(field, v, 0)),
        other => Ok(other),
    }
}

/// The most a page of events holds: 1 MB, counting 26 bytes per event as AWS does.
pub(crate) const PAGE_BYTES: usize = 1_048_576;
pub(crate) const EVENT_OVERHEAD: usize = 26;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_by_name_or_arn() {
        assert_eq!(group_of(Some("/aws/lambda/f".into()), None).unwrap(), "/aws/lambda/f");
        for arn in [
            "arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/f:*",
            "arn:aws:logs:us-east-1:1:log-group:/aws/lambda/f",
        ] {
            assert_eq!(group_of(None, Some(arn.into())).unwrap(), "/aws/lambda/f");
        }
        assert!(matches!(group_of(None, None), Err(LogsError::LogGroupMissing)));
        assert!(matches!(group_of(Some("a".into()), Some("a".into())), Err(LogsError::LogGroupTwice)));
    }

    #[test]
    fn limits_are_checked() {
        assert_eq!(limit(None, 50, 50).unwrap(), 50);
        assert_eq!(limit(Some(7), 50, 50).unwrap(), 7);
        assert!(limit(Some(0), 50, 50).is_err());
        assert!(limit(Some(51), 50, 50).is_err());
    }

    #[test]
    fn unknown_operations_and_bad_bodies() {
        let dir = tempfile::tempdir().unwrap();
        let api = LogsApi::new(dir.path().into(), AccountId::parse("000000000000").unwrap());
        let err = api.call("us-east-1", "PutLogEvents", b"{}").unwrap_err();
        assert_eq!(err.error_type(), "UnknownOperationException");
        let err = api.call("us-east-1", "DescribeLogGroups", b"{not json").unwrap_err();
        assert_eq!(err.error_type(), "SerializationException");
        let empty = api.call("us-east-1", "DescribeLogGroups", b"").unwrap();
        assert_eq!(empty["logGroups"], serde_json::json!([]));
    }
}
