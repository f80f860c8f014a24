//! AWS's destination record: what an on-success or on-failure destination
//! receives about an asynchronous invocation.

use async_trait::async_trait;
use lambdabox_engine::Outcome;

/// Sends messages to SQS queues (the binary gives the invoker one over the
/// built-in queues).
#[async_trait]
pub trait QueueSink: Send + Sync {
    /// Sends `body` to the queue `queue_arn` with String message attributes.
    async fn send(&self, queue_arn: &str, body: String, attributes: Vec<(String, String)>) -> Result<(), String>;
}

/// Why the record was sent (`requestContext.condition`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    Success,
    RetriesExhausted,
    EventAgeExceeded,
}

impl Condition {
    fn as_str(self) -> &'static str {
        match self {
            Self::Success => "Success",
            Self::RetriesExhausted => "RetriesExhausted",
            Self::EventAgeExceeded => "EventAgeExceeded",
        }
    }
}

/// The JSON record, in the format AWS documents for destinations.
pub fn record(
    request_id: &str,
    function_arn: &str,
    condition: Condition,
    invoke_count: u32,
    request_payload: &[u8],
    response: Option<(&str, &Outcome)>,
) -> serde_json::Value {
    let parse = |bytes: &[u8]| {
        serde_json::from_slice::<serde_json::Value>(bytes)
            .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(bytes).into_owned()))
    };
    let mut record = serde_json::json!({
        "version": "1.0",
        "timestamp": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        "requestContext": {
            "requestId": request_id,
            "functionArn": function_arn,
            "condition": condition.as_str(),
            "approximateInvokeCount": invoke_count,
        },
        "requestPayload": parse(request_payload),
    });
    if let Some((executed_version, outcome)) = response {
        let mut context = serde_json::json!({ "statusCode": 200, "executedVersion": executed_version });
        if outcome.is_error() {
            context["functionError"] = "Unhandled".into();
        }
        record["responseContext"] = context;
        record["responsePayload"] = parse(&outcome.payload(request_id));
    }
    record
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    #[test]
    fn failure_record_like_aws() {
        let outcome = Outcome::FunctionError {
            error_type: None,
            body: Bytes::from_static(br#"{"errorMessage":"boom","errorType":"Exception"}"#),
        };
        let r = record(
            "id-1",
            "arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST",
            Condition::RetriesExhausted,
            3,
            br#"{"k":1}"#,
            Some(("$LATEST", &outcome)),
        );
        assert_eq!(r["version"], "1.0");
        assert_eq!(r["requestContext"]["condition"], "RetriesExhausted");
        assert_eq!(r["requestContext"]["approximateInvokeCount"], 3);
        assert_eq!(r["requestPayload"]["k"], 1);
        assert_eq!(r["responseContext"]["functionError"], "Unhandled");
        assert_eq!(r["responsePayload"]["errorMessage"], "boom");
    }
}
