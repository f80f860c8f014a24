//! The event Lambda invokes a function with for a batch of SQS messages,
//! in AWS's shape: `{"Records": [{messageId, receiptHandle, body,
//! attributes, messageAttributes, md5OfBody, eventSource, eventSourceARN,
//! awsRegion}, …]}`.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

/// One message attribute as SQS holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageAttribute {
    pub data_type: String,
    pub string_value: Option<String>,
    /// Base64, as the record carries it.
    pub binary_value: Option<String>,
}

/// One received message, as the poller hands it to [`sqs_record`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub message_id: String,
    pub receipt_handle: String,
    pub body: String,
    pub md5_of_body: String,
    pub md5_of_message_attributes: Option<String>,
    /// System attributes (`ApproximateReceiveCount`, `SentTimestamp`, …).
    pub attributes: BTreeMap<String, String>,
    pub message_attributes: BTreeMap<String, MessageAttribute>,
}

/// The record of one message (`eventSourceARN` is the queue's ARN).
pub fn sqs_record(message: &Message, queue_arn: &str, region: &str) -> Value {
    let attributes: Map<String, Value> =
        message.attributes.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
    let message_attributes: Map<String, Value> = message
        .message_attributes
        .iter()
        .map(|(name, a)| {
            let mut v = json!({ "stringListValues": [], "binaryListValues": [], "dataType": a.data_type });
            if let Some(s) = &a.string_value {
                v["stringValue"] = s.clone().into();
            }
            if let Some(b) = &a.binary_value {
                v["binaryValue"] = b.clone().into();
            }
            (name.clone(), v)
        })
        .collect();
    let mut record = json!({
        "messageId": message.message_id,
        "receiptHandle": message.receipt_handle,
        "body": message.body,
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": message.md5_of_body,
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    });
    if let Some(md5) = &message.md5_of_message_attributes {
        record["md5OfMessageAttributes"] = md5.clone().into();
    }
    record
}

/// The whole event.
pub fn event(records: &[Value]) -> Value {
    json!({ "Records": records })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_shape_matches_aws() {
        let m = Message {
            message_id: "059f36b4-87a3-44ab-83d2-661975830a7d".into(),
            receipt_handle: "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a".into(),
            body: "test".into(),
            md5_of_body: "098f6bcd4621d373cade4e832627b4f6".into(),
            md5_of_message_attributes: Some("abc".into()),
            attributes: [("ApproximateReceiveCount".to_owned(), "1".to_owned())].into(),
            message_attributes: [(
                "k".to_owned(),
                MessageAttribute { data_type: "String".into(), string_value: Some("v".into()), binary_value: None },
            )]
            .into(),
        };
        let r = sqs_record(&m, "arn:aws:sqs:us-east-1:000000000000:q", "us-east-1");
        assert_eq!(r["eventSource"], "aws:sqs");
        assert_eq!(r["eventSourceARN"], "arn:aws:sqs:us-east-1:000000000000:q");
        assert_eq!(r["awsRegion"], "us-east-1");
        assert_eq!(r["attributes"]["ApproximateReceiveCount"], "1");
        assert_eq!(r["messageAttributes"]["k"]["stringValue"], "v");
        assert_eq!(r["messageAttributes"]["k"]["dataType"], "String");
        assert_eq!(r["messageAttributes"]["k"]["stringListValues"], json!([]));
        assert_eq!(r["md5OfMessageAttributes"], "abc");
        assert_eq!(event(&[r])["Records"].as_array().unwrap().len(), 1);
    }
}
