//! The query protocol's answers: an operation's result (built once, as the
//! JSON protocol's members) rendered as SQS's XML, whose lists are
//! flattened and whose maps are `Name`/`Value` (`Key`/`Value` for tags)
//! entries: `<Attribute><Name>…</Name><Value>…</Value></Attribute>`,
//! `<Message>…</Message>`, `<SendMessageBatchResultEntry>…`.

use lambdabox_aws::query::{element, response_xml};
use serde_json::Value;

/// The XML namespace of SQS's answers.
pub const NAMESPACE: &str = "http://queue.amazonaws.com/doc/2012-11-05/";

/// The whole `<OperationResponse>` for `operation`'s result (no
/// `<OperationResult>` for operations that answer nothing).
pub fn response(operation: &str, result: &Value) -> String {
    match result {
        Value::Object(members) if !members.is_empty() => {
            let inner: String = members.iter().map(|(name, value)| member(operation, name, value)).collect();
            response_xml(operation, NAMESPACE, Some(&inner))
        }
        _ if has_result(operation) => response_xml(operation, NAMESPACE, Some("")),
        _ => response_xml(operation, NAMESPACE, None),
    }
}

/// Operations whose answer has a result element even when it is empty.
fn has_result(operation: &str) -> bool {
    !matches!(
        operation,
        "AddPermission"
            | "ChangeMessageVisibility"
            | "DeleteMessage"
            | "DeleteQueue"
            | "PurgeQueue"
            | "RemovePermission"
            | "SetQueueAttributes"
            | "TagQueue"
            | "UntagQueue"
    )
}

/// One member of a result.
fn member(operation: &str, name: &str, value: &Value) -> String {
    match (name, value) {
        ("Attributes", Value::Object(map)) => map
            .iter()
            .map(|(k, v)| format!("<Attribute>{}{}</Attribute>", element("Name", k), element("Value", &text(v))))
            .collect(),
        ("MessageAttributes", Value::Object(map)) => map
            .iter()
            .map(|(k, v)| {
                let fields: String = match v {
                    Value::Object(fields) => fields.iter().map(|(f, fv)| scalar(f, fv)).collect(),
                    _ => String::new(),
                };
                format!("<MessageAttribute>{}<Value>{fields}</Value></MessageAttribute>", element("Name", k))
            })
            .collect(),
        ("Tags", Value::Object(map)) => {
            map.iter().map(|(k, v)| format!("<Tag>{}{}</Tag>", element("Key", k), element("Value", &text(v)))).collect()
        }
        ("QueueUrls" | "queueUrls", Value::Array(items)) => {
            items.iter().map(|v| element("QueueUrl", &text(v))).collect()
        }
        ("Messages", Value::Array(items)) => items.iter().map(|v| structure(operation, "Message", v)).collect(),
        ("Successful", Value::Array(items)) => {
            let entry = format!("{operation}ResultEntry");
            items.iter().map(|v| structure(operation, &entry, v)).collect()
        }
        ("Failed", Value::Array(items)) => {
            items.iter().map(|v| structure(operation, "BatchResultErrorEntry", v)).collect()
        }
        ("Results", Value::Array(items)) => {
            let entry = format!("{operation}ResultEntry");
            items.iter().map(|v| structure(operation, &entry, v)).collect()
        }
        (_, Value::Array(items)) => items.iter().map(|v| structure(operation, name, v)).collect(),
        (_, Value::Object(_)) => structure(operation, name, value),
        _ => scalar(name, value),
    }
}

/// `<name>members</name>` for a structure, or the scalar.
fn structure(operation: &str, name: &str, value: &Value) -> String {
    match value {
        Value::Object(members) => {
            let inner: String = members.iter().map(|(n, v)| member(operation, n, v)).collect();
            format!("<{name}>{inner}</{name}>")
        }
        other => scalar(name, other),
    }
}

fn scalar(name: &str, value: &Value) -> String {
    element(name, &text(value))
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_render_as_sqs_xml() {
        let receive = serde_json::json!({"Messages": [{
            "MessageId": "m", "Body": "a<b", "Attributes": {"SenderId": "1"},
            "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}}
        }]});
        let xml = response("ReceiveMessage", &receive);
        assert!(xml.starts_with("<ReceiveMessageResponse xmlns=\"http://queue.amazonaws.com/doc/2012-11-05/\"><ReceiveMessageResult><Message>"), "{xml}");
        assert!(xml.contains("<Body>a&lt;b</Body>"), "{xml}");
        assert!(xml.contains("<Attribute><Name>SenderId</Name><Value>1</Value></Attribute>"), "{xml}");
        assert!(xml.contains("<MessageAttribute><Name>k</Name><Value>"), "{xml}");
        assert!(xml.contains("<DataType>String</DataType>") && xml.contains("<StringValue>v</StringValue>"), "{xml}");
        let batch =
            serde_json::json!({"Successful": [{"Id": "a"}], "Failed": [{"Id": "b", "SenderFault": true, "Code": "X"}]});
        let xml = response("DeleteMessageBatch", &batch);
        assert!(xml.contains("<DeleteMessageBatchResultEntry><Id>a</Id></DeleteMessageBatchResultEntry>"), "{xml}");
        assert!(xml.contains("<BatchResultErrorEntry>") && xml.contains("<SenderFault>true</SenderFault>"), "{xml}");
        let list = response("ListQueues", &serde_json::json!({"QueueUrls": ["u1", "u2"]}));
        assert!(
            list.contains("<ListQueuesResult><QueueUrl>u1</QueueUrl><QueueUrl>u2</QueueUrl></ListQueuesResult>"),
            "{list}"
        );
        assert!(!response("DeleteQueue", &serde_json::json!({})).contains("Result>"));
        assert!(response("ListQueues", &serde_json::json!({})).contains("<ListQueuesResult></ListQueuesResult>"));
    }
}
