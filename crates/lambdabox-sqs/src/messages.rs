//! The message operations: SendMessage, SendMessageBatch, ReceiveMessage,
//! DeleteMessage, DeleteMessageBatch, ChangeMessageVisibility and
//! ChangeMessageVisibilityBatch, with SQS's request checks (batch ids,
//! counts and total size, receive limits) and its answers (MD5 digests,
//! system and message attributes filtered as the request names them).

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use lambdabox_queues::attributes::MAX_MESSAGE_SIZE;
use lambdabox_queues::message::base64_encode;
use lambdabox_queues::{MessageAttributeValue, NewMessage, Received, Sent, md5_of_attributes};
use serde_json::{Map, Value, json};

use crate::input::Input;
use crate::{ApiError, Ctx};

/// The most entries one batch carries.
const MAX_BATCH: usize = 10;

/// A send's members as a message. `SenderId` is the caller's (its IAM
/// user id or role session under `--auth iam`, else the account).
fn new_message(input: &Input) -> Result<NewMessage, ApiError> {
    let body = input.str("MessageBody")?.ok_or_else(|| ApiError::missing("MessageBody"))?;
    Ok(NewMessage {
        body: body.to_owned(),
        attributes: input.message_attributes("MessageAttributes")?,
        system: input.message_attributes("MessageSystemAttributes")?,
        delay_seconds: input.int_in("DelaySeconds", 0, 900, "DelaySeconds must be >= 0 and <= 900.")?,
        group_id: input.str("MessageGroupId")?.map(str::to_owned),
        dedup_id: input.str("MessageDeduplicationId")?.map(str::to_owned),
        sender_id: lambdabox_identity::context::current().map(|identity| identity.principal.user_id()),
    })
}

/// A send's answer members (also a batch entry's, with its `Id`).
fn sent(sent: Sent) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("MessageId".into(), Value::String(sent.message_id));
    out.insert("MD5OfMessageBody".into(), Value::String(sent.md5_of_message_body));
    if let Some(md5) = sent.md5_of_message_attributes {
        out.insert("MD5OfMessageAttributes".into(), Value::String(md5));
    }
    if let Some(md5) = sent.md5_of_message_system_attributes {
        out.insert("MD5OfMessageSystemAttributes".into(), Value::String(md5));
    }
    if let Some(sequence) = sent.sequence_number {
        out.insert("SequenceNumber".into(), Value::String(sequence));
    }
    out
}

pub async fn send(ctx: &Ctx, input: &Input) -> Result<Value, ApiError> {
    let queue = ctx.queue(input, "SendMessage").await?;
    let message = new_message(input)?;
    Ok(Value::Object(sent(ctx.queues.send(&queue, message).await?)))
}

/// A batch's entries, checked as SQS checks them before acting on any:
/// at least one, at most ten, ids of `[A-Za-z0-9_-]{1,80}`, all distinct.
fn batch_entries(input: &Input, entry: &str) -> Result<Vec<(String, Input)>, ApiError> {
    let entries = input.entries()?;
    if entries.is_empty() {
        return Err(ApiError::empty_batch(entry));
    }
    if entries.len() > MAX_BATCH {
        return Err(ApiError::too_many_entries(entries.len()));
    }
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(entries.len());
    for entry in entries {
        let id = entry.required("Id")?.to_owned();
        if id.is_empty() || id.len() > 80 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return Err(ApiError::invalid_batch_entry_id());
        }
        if !seen.insert(id.clone()) {
            return Err(ApiError::ids_not_distinct(&id));
        }
        out.push((id, entry));
    }
    Ok(out)
}

/// A failed batch entry.
fn failed(id: &str, error: ApiError) -> Value {
    json!({"Id": id, "SenderFault": error.sender_fault, "Code": error.code, "Message": error.message})
}

pub async fn send_batch(ctx: &Ctx, input: &Input) -> Result<Value, ApiError> {
    let queue = ctx.queue(input, "SendMessage").await?;
    let entries = batch_entries(input, "SendMessageBatchRequestEntry")?;
    let mut successful = Vec::new();
    let mut failures = Vec::new();
    let mut ids = Vec::new();
    let mut batch = Vec::new();
    for (id, entry) in entries {
        match new_message(&entry) {
            Ok(message) => {
                ids.push(id);
                batch.push(message);
            }
            Err(error) => failures.push(failed(&id, error)),
        }
    }
    let total: usize = batch.iter().map(NewMessage::size).sum();
    if total > MAX_MESSAGE_SIZE as usize {
        return Err(ApiError::batch_too_long(MAX_MESSAGE_SIZE, total));
    }
    if !batch.is_empty() {
        for (id, result) in ids.iter().zip(ctx.queues.send_batch(&queue, batch).await?) {
            match result {
                Ok(done) => {
                    let mut entry = sent(done);
                    entry.insert("Id".into(), Value::String(id.clone()));
                    successful.push(Value::Object(entry));
                }
                Err(error) => failures.push(failed(id, error.into())),
            }
        }
    }
    Ok(json!({"Successful": successful, "Failed": failures}))
}

pub async fn receive(ctx: &Ctx, input: &Input) -> Result<Value, ApiError> {
    let queue = ctx.queue(input, "ReceiveMessage").await?;
    let max = input.int_in("MaxNumberOfMessages", 1, 10, "Must be between 1 and 10, if provided.")?.unwrap_or(1);
    let visibility = input.int_in("VisibilityTimeout", 0, 43_200, "Must be >= 0 and <= 43200, if provided.")?;
    let wait = input
        .int_in("WaitTimeSeconds", 0, 20, "Must be >= 0 and <= 20, if provided.")?
        .unwrap_or_else(|| queue.receive_message_wait_time_seconds());
    if let Some(id) = input.str("ReceiveRequestAttemptId")?
        && (id.is_empty() || id.len() > 128 || !id.bytes().all(|b| b.is_ascii_graphic()))
    {
        return Err(ApiError::invalid(format!(
            "Value {id} for parameter ReceiveRequestAttemptId is invalid. Reason: ReceiveRequestAttemptId can only include alphanumeric and punctuation characters. 1 to 128 in length."
        )));
    }
    let mut system_names = input.strings("AttributeNames")?;
    system_names.extend(input.strings("MessageSystemAttributeNames")?);
    let attribute_names = input.strings("MessageAttributeNames")?;
    let received = ctx.queues.receive(&queue, max as usize, visibility, Duration::from_secs(u64::from(wait))).await?;
    let messages: Vec<Value> =
        received.into_iter().map(|message| render(message, &system_names, &attribute_names)).collect();
    if messages.is_empty() { Ok(json!({})) } else { Ok(json!({"Messages": messages})) }
}

/// A received message with the system attributes and message attributes
/// the request asked for (`All`; names; for message attributes also `.*`
/// and `prefix.*`), and the MD5 of the message attributes it carries.
fn render(message: Received, system_names: &[String], attribute_names: &[String]) -> Value {
    let mut out = Map::new();
    out.insert("MessageId".into(), Value::String(message.message_id));
    out.insert("ReceiptHandle".into(), Value::String(message.receipt_handle));
    out.insert("MD5OfBody".into(), Value::String(message.md5_of_body));
    out.insert("Body".into(), Value::String(message.body));
    let all_system = system_names.iter().any(|n| n == "All");
    let system: Map<String, Value> = message
        .attributes
        .into_iter()
        .filter(|(k, _)| all_system || system_names.contains(k))
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    if !system.is_empty() {
        out.insert("Attributes".into(), Value::Object(system));
    }
    let wanted = |name: &str| {
        attribute_names.iter().any(|n| {
            n == "All"
                || n == ".*"
                || n == name
                || n.strip_suffix(".*").is_some_and(|p| name.starts_with(&format!("{p}.")))
        })
    };
    let attributes: BTreeMap<String, MessageAttributeValue> =
        message.message_attributes.into_iter().filter(|(k, _)| wanted(k)).collect();
    if let Some(md5) = md5_of_attributes(&attributes) {
        out.insert("MD5OfMessageAttributes".into(), Value::String(md5));
        let rendered: Map<String, Value> = attributes
            .into_iter()
            .map(|(name, value)| {
                let mut v = Map::new();
                v.insert("DataType".into(), Value::String(value.data_type));
                if let Some(s) = value.string_value {
                    v.insert("StringValue".into(), Value::String(s));
                }
                if let Some(b) = value.binary_value {
                    v.insert("BinaryValue".into(), Value::String(base64_encode(&b)));
                }
                (name, Value::Object(v))
            })
            .collect();
        out.insert("MessageAttributes".into(), Value::Object(rendered));
    }
    Value::Object(out)
}

pub async fn delete(ctx: &Ctx, input: &Input) -> Result<Value, ApiError> {
    let queue = ctx.queue(input, "DeleteMessage").await?;
    let handle = input.required("ReceiptHandle")?;
    ctx.queues.delete(&queue, handle).await?;
    Ok(json!({}))
}

pub async fn delete_batch(ctx: &Ctx, input: &Input) -> Result<Value, ApiError> {
    let queue = ctx.queue(input, "DeleteMessage").await?;
    let entries = batch_entries(input, "DeleteMessageBatchRequestEntry")?;
    let mut failures = Vec::new();
    let mut ids = Vec::new();
    let mut handles = Vec::new();
    for (id, entry) in entries {
        match entry.required("ReceiptHandle") {
            Ok(handle) => {
                ids.push(id);
                handles.push(handle.to_owned());
            }
            Err(error) => failures.push(failed(&id, error)),
        }
    }
    let mut successful = Vec::new();
    for (id, result) in ids.iter().zip(ctx.queues.delete_batch(&queue, handles).await?) {
        match result {
            Ok(()) => successful.push(json!({"Id": id})),
            Err(error) => failures.push(failed(id, error.into())),
        }
    }
    Ok(json!({"Successful": successful, "Failed": failures}))
}

fn visibility_timeout(input: &Input) -> Result<u32, ApiError> {
    let limit = i64::from(lambdabox_queues::attributes::MAX_VISIBILITY_TIMEOUT);
    input
        .int_in("VisibilityTimeout", 0, limit, "VisibilityTimeout must be >= 0 and <= 43200.")?
        .ok_or_else(|| ApiError::missing("VisibilityTimeout"))
}

pub async fn change_visibility(ctx: &Ctx, input: &Input) -> Result<Value, ApiError> {
    let queue = ctx.queue(input, "ChangeMessageVisibility").await?;
    let handle = input.required("ReceiptHandle")?;
    let timeout = visibility_timeout(input)?;
    ctx.queues.change_visibility(&queue, handle, timeout).await?;
    Ok(json!({}))
}

pub async fn change_visibility_batch(ctx: &Ctx, input: &Input) -> Result<Value, ApiError> {
    let queue = ctx.queue(input, "ChangeMessageVisibility").await?;
    let entries = batch_entries(input, "ChangeMessageVisibilityBatchRequestEntry")?;
    let mut failures = Vec::new();
    let mut ids = Vec::new();
    let mut changes = Vec::new();
    for (id, entry) in entries {
        match entry.required("ReceiptHandle").and_then(|h| Ok((h.to_owned(), visibility_timeout(&entry)?))) {
            Ok(change) => {
                ids.push(id);
                changes.push(change);
            }
            Err(error) => failures.push(failed(&id, error)),
        }
    }
    let mut successful = Vec::new();
    for (id, result) in ids.iter().zip(ctx.queues.change_visibility_batch(&queue, changes).await?) {
        match result {
            Ok(()) => successful.push(json!({"Id": id})),
            Err(error) => failures.push(failed(id, error.into())),
        }
    }
    Ok(json!({"Successful": successful, "Failed": failures}))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::testing::Harness;

    async fn queue(h: &Harness, name: &str, attributes: serde_json::Value) -> serde_json::Value {
        h.ok("CreateQueue", json!({"QueueName": name, "Attributes": attributes})).await["QueueUrl"].clone()
    }

    #[tokio::test]
    async fn send_receive_delete_with_attributes() {
        let h = Harness::new();
        let url = queue(&h, "m", json!({})).await;
        let sent = h
            .ok(
                "SendMessage",
                json!({"QueueUrl": url, "MessageBody": "hello", "MessageAttributes": {
                    "color": {"DataType": "String", "StringValue": "red"},
                    "blob": {"DataType": "Binary", "BinaryValue": "AAEC"},
                    "trace.id": {"DataType": "Number", "StringValue": "7"}
                }}),
            )
            .await;
        assert_eq!(sent["MD5OfMessageBody"], "5d41402abc4b2a76b9719d911017c592");
        let all_md5 = sent["MD5OfMessageAttributes"].clone();
        let got = h
            .ok(
                "ReceiveMessage",
                json!({"QueueUrl": url, "MessageAttributeNames": ["All"], "MessageSystemAttributeNames": ["SentTimestamp"]}),
            )
            .await;
        let message = &got["Messages"][0];
        assert_eq!(message["MessageId"], sent["MessageId"]);
        assert_eq!(message["MD5OfMessageAttributes"], all_md5);
        assert_eq!(message["MessageAttributes"]["blob"]["BinaryValue"], "AAEC");
        assert_eq!(message["Attributes"].as_object().unwrap().keys().collect::<Vec<_>>(), ["SentTimestamp"]);
        h.ok(
            "ChangeMessageVisibility",
            json!({"QueueUrl": url, "ReceiptHandle": message["ReceiptHandle"], "VisibilityTimeout": 0}),
        )
        .await;
        let got = h.ok("ReceiveMessage", json!({"QueueUrl": url, "MessageAttributeNames": ["trace.*"]})).await;
        let message = &got["Messages"][0];
        assert_eq!(message["MessageAttributes"].as_object().unwrap().keys().collect::<Vec<_>>(), ["trace.id"]);
        assert_ne!(message["MD5OfMessageAttributes"], all_md5, "the MD5 covers what is returned");
        assert!(message.get("Attributes").is_none());
        h.ok("DeleteMessage", json!({"QueueUrl": url, "ReceiptHandle": message["ReceiptHandle"]})).await;
        assert_eq!(h.ok("ReceiveMessage", json!({"QueueUrl": url})).await, json!({}));
        let bad = h.err("DeleteMessage", json!({"QueueUrl": url, "ReceiptHandle": "nope"})).await;
        assert_eq!(bad.code, "ReceiptHandleIsInvalid");
        let bad = h.err("SendMessage", json!({"QueueUrl": url, "MessageBody": "\u{1}"})).await;
        assert_eq!(bad.code, "InvalidMessageContents");
        let bad = h.err("SendMessage", json!({"QueueUrl": url})).await;
        assert_eq!(bad.code, "MissingParameter");
        let bad = h.err("ReceiveMessage", json!({"QueueUrl": url, "MaxNumberOfMessages": 11})).await;
        assert_eq!(bad.code, "InvalidParameterValue");
        let bad = h.err("ReceiveMessage", json!({"QueueUrl": url, "WaitTimeSeconds": 21})).await;
        assert_eq!(bad.code, "InvalidParameterValue");
    }

    #[tokio::test]
    async fn batches_fail_per_entry_or_whole() {
        let h = Harness::new();
        let url = queue(&h, "b", json!({})).await;
        let result = h
            .ok(
                "SendMessageBatch",
                json!({"QueueUrl": url, "Entries": [
                    {"Id": "ok", "MessageBody": "one"},
                    {"Id": "bad", "MessageBody": "two", "DelaySeconds": 901},
                    {"Id": "ok2", "MessageBody": "three", "MessageAttributes": {"n": {"DataType": "Number", "StringValue": "x"}}}
                ]}),
            )
            .await;
        assert_eq!(result["Successful"].as_array().unwrap().len(), 1);
        assert_eq!(result["Successful"][0]["Id"], "ok");
        let failed: Vec<_> = result["Failed"].as_array().unwrap().iter().map(|f| f["Id"].as_str().unwrap()).collect();
        assert_eq!(failed, ["bad", "ok2"]);
        assert_eq!(result["Failed"][0]["Code"], "InvalidParameterValue");
        assert_eq!(result["Failed"][0]["SenderFault"], true);
        for (entries, shape) in [
            (json!([]), "EmptyBatchRequest"),
            (json!([{"Id": "a", "MessageBody": "x"}, {"Id": "a", "MessageBody": "y"}]), "BatchEntryIdsNotDistinct"),
            (json!([{"Id": "a b", "MessageBody": "x"}]), "InvalidBatchEntryId"),
            (
                json!((0..11).map(|i| json!({"Id": format!("e{i}"), "MessageBody": "x"})).collect::<Vec<_>>()),
                "TooManyEntriesInBatchRequest",
            ),
            (
                json!([{"Id": "a", "MessageBody": "x".repeat(600_000)}, {"Id": "b", "MessageBody": "x".repeat(600_000)}]),
                "BatchRequestTooLong",
            ),
        ] {
            let err = h.err("SendMessageBatch", json!({"QueueUrl": url, "Entries": entries})).await;
            assert_eq!(err.shape, shape);
        }
        let got = h.ok("ReceiveMessage", json!({"QueueUrl": url, "MaxNumberOfMessages": 10})).await;
        let handle = got["Messages"][0]["ReceiptHandle"].clone();
        let changed = h
            .ok(
                "ChangeMessageVisibilityBatch",
                json!({"QueueUrl": url, "Entries": [{"Id": "a", "ReceiptHandle": handle, "VisibilityTimeout": 60}, {"Id": "b", "ReceiptHandle": "junk", "VisibilityTimeout": 1}]}),
            )
            .await;
        assert_eq!(changed["Successful"], json!([{"Id": "a"}]));
        assert_eq!(changed["Failed"][0]["Code"], "ReceiptHandleIsInvalid");
        let deleted = h
            .ok("DeleteMessageBatch", json!({"QueueUrl": url, "Entries": [{"Id": "a", "ReceiptHandle": handle}, {"Id": "b", "ReceiptHandle": "junk"}]}))
            .await;
        assert_eq!(deleted["Successful"], json!([{"Id": "a"}]));
        assert_eq!(deleted["Failed"][0]["Id"], "b");
    }

    #[tokio::test]
    async fn fifo_sends_answer_sequence_numbers() {
        let h = Harness::new();
        let url = queue(&h, "f.fifo", json!({"FifoQueue": "true", "ContentBasedDeduplication": "true"})).await;
        let one = h.ok("SendMessage", json!({"QueueUrl": url, "MessageBody": "x", "MessageGroupId": "g"})).await;
        let two = h.ok("SendMessage", json!({"QueueUrl": url, "MessageBody": "x", "MessageGroupId": "g"})).await;
        assert_eq!(one["MessageId"], two["MessageId"]);
        assert!(one["SequenceNumber"].as_str().is_some());
        let err = h.err("SendMessage", json!({"QueueUrl": url, "MessageBody": "x"})).await;
        assert_eq!(err.code, "MissingParameter");
        let got = h.ok("ReceiveMessage", json!({"QueueUrl": url, "AttributeNames": ["All"]})).await;
        assert_eq!(got["Messages"][0]["Attributes"]["MessageGroupId"], "g");
    }
}
