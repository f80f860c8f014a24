//! A request's members, whichever protocol carried them: the JSON
//! protocol's body as it is, or the query protocol's flattened parameters
//! (`Attribute.1.Name`, `MessageAttribute.1.Value.StringValue`,
//! `SendMessageBatchRequestEntry.2.MessageBody`, …) turned into the same
//! JSON members. Operations read them through typed getters that answer
//! SQS's errors.

use std::collections::BTreeMap;

use base64::Engine;
use lambdabox_aws::query::QueryParams;
use lambdabox_queues::MessageAttributeValue;
use serde_json::{Map, Value};

use crate::ApiError;

/// The members of one request (or of one batch entry).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Input(pub Map<String, Value>);

/// Scalar members, as the query protocol names them.
const SCALARS: &[&str] = &[
    "QueueUrl",
    "QueueName",
    "QueueNamePrefix",
    "QueueOwnerAWSAccountId",
    "NextToken",
    "MaxResults",
    "MessageBody",
    "DelaySeconds",
    "MessageDeduplicationId",
    "MessageGroupId",
    "MaxNumberOfMessages",
    "VisibilityTimeout",
    "WaitTimeSeconds",
    "ReceiveRequestAttemptId",
    "ReceiptHandle",
    "Label",
    "Id",
    "SourceArn",
    "DestinationArn",
    "MaxNumberOfMessagesPerSecond",
    "TaskHandle",
];

/// Flattened lists: the query name (`AttributeName.N`) and the JSON member.
const LISTS: &[(&str, &str)] = &[
    ("AttributeName", "AttributeNames"),
    ("MessageSystemAttributeName", "MessageSystemAttributeNames"),
    ("MessageAttributeName", "MessageAttributeNames"),
    ("TagKey", "TagKeys"),
    ("AWSAccountId", "AWSAccountIds"),
    ("ActionName", "Actions"),
];

/// Batch entries: the query name (`SendMessageBatchRequestEntry.N.…`).
const ENTRIES: &[&str] =
    &["SendMessageBatchRequestEntry", "DeleteMessageBatchRequestEntry", "ChangeMessageVisibilityBatchRequestEntry"];

impl Input {
    /// A JSON protocol body (empty: no members).
    pub fn from_json(body: &[u8]) -> Result<Self, ApiError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self::default());
        }
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => Ok(Self(map)),
            Ok(_) => Err(ApiError::serialization("The request body must be a JSON object.")),
            Err(e) => Err(ApiError::serialization(format!("The request body is not valid JSON: {e}"))),
        }
    }

    /// The query protocol's parameters as JSON members.
    pub fn from_query(params: &QueryParams) -> Self {
        let get = |name: &str| params.get(name).map(str::to_owned);
        let mut members = convert(&get, "");
        for entry in ENTRIES {
            let entries: Vec<Value> = (1..)
                .map(|i| convert(&get, &format!("{entry}.{i}.")))
                .take_while(|members| !members.is_empty())
                .map(Value::Object)
                .collect();
            if !entries.is_empty() {
                members.insert("Entries".to_owned(), Value::Array(entries));
            }
        }
        Self(members)
    }

    pub fn has(&self, name: &str) -> bool {
        self.0.get(name).is_some_and(|v| !v.is_null())
    }

    /// A string member, if present.
    pub fn str(&self, name: &str) -> Result<Option<&str>, ApiError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(ApiError::invalid(format!(
                "Value {other} for parameter {name} is invalid. Reason: must be a string."
            ))),
        }
    }

    /// A string member that must be present.
    pub fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.str(name)?.ok_or_else(|| ApiError::missing(name))
    }

    /// An integer member (a JSON number, or a numeric string as the query protocol sends).
    pub fn int(&self, name: &str) -> Result<Option<i64>, ApiError> {
        let bad = |shown: String| {
            ApiError::invalid(format!("Value {shown} for parameter {name} is invalid. Reason: must be an integer."))
        };
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| bad(n.to_string())),
            Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| bad(s.clone())),
            Some(other) => Err(bad(other.to_string())),
        }
    }

    /// An integer member within `low..=high`, else `reason` in AWS's message.
    pub fn int_in(&self, name: &str, low: i64, high: i64, reason: &str) -> Result<Option<u32>, ApiError> {
        match self.int(name)? {
            None => Ok(None),
            Some(n) if (low..=high).contains(&n) => Ok(Some(n as u32)),
            Some(n) => Err(ApiError::invalid(format!("Value {n} for parameter {name} is invalid. Reason: {reason}"))),
        }
    }

    /// A list of strings (absent: empty).
    pub fn strings(&self, name: &str) -> Result<Vec<String>, ApiError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(ApiError::invalid(format!("Value {other} for parameter {name} is invalid."))),
                })
                .collect(),
            Some(_) => {
                Err(ApiError::invalid(format!("Value for parameter {name} is invalid. Reason: must be a list.")))
            }
        }
    }

    /// A map of strings (absent: empty).
    pub fn string_map(&self, name: &str) -> Result<BTreeMap<String, String>, ApiError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(BTreeMap::new()),
            Some(Value::Object(map)) => map
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k.clone(), s.clone())),
                    Value::Number(n) => Ok((k.clone(), n.to_string())),
                    Value::Bool(b) => Ok((k.clone(), b.to_string())),
                    other => Err(ApiError::invalid(format!("Value {other} for parameter {name}.{k} is invalid."))),
                })
                .collect(),
            Some(_) => Err(ApiError::invalid(format!("Value for parameter {name} is invalid. Reason: must be a map."))),
        }
    }

    /// Message attributes (`MessageAttributeValue`s by name; `BinaryValue` in base64).
    pub fn message_attributes(&self, name: &str) -> Result<BTreeMap<String, MessageAttributeValue>, ApiError> {
        let map = match self.0.get(name) {
            None | Some(Value::Null) => return Ok(BTreeMap::new()),
            Some(Value::Object(map)) => map,
            Some(_) => {
                return Err(ApiError::invalid(format!(
                    "Value for parameter {name} is invalid. Reason: must be a map."
                )));
            }
        };
        let mut out = BTreeMap::new();
        for (key, value) in map {
            let value = Input(value.as_object().cloned().unwrap_or_default());
            let binary = match value.str("BinaryValue")? {
                Some(text) => Some(base64::engine::general_purpose::STANDARD.decode(text).map_err(|_| {
                    ApiError::invalid(format!(
                        "The message attribute '{key}' has an invalid binary value (not base64)."
                    ))
                })?),
                None => None,
            };
            out.insert(
                key.clone(),
                MessageAttributeValue {
                    data_type: value.str("DataType")?.unwrap_or_default().to_owned(),
                    string_value: value.str("StringValue")?.map(str::to_owned),
                    binary_value: binary,
                },
            );
        }
        Ok(out)
    }

    /// Batch `Entries`, each as its own members.
    pub fn entries(&self) -> Result<Vec<Input>, ApiError> {
        match self.0.get("Entries") {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => {
                Ok(items.iter().map(|v| Input(v.as_object().cloned().unwrap_or_default())).collect())
            }
            Some(_) => Err(ApiError::invalid("Value for parameter Entries is invalid. Reason: must be a list.")),
        }
    }
}

/// The members under `prefix` (`""`, or `SendMessageBatchRequestEntry.1.`), batch entries aside.
fn convert(get: &dyn Fn(&str) -> Option<String>, prefix: &str) -> Map<String, Value> {
    let mut out = Map::new();
    for name in SCALARS {
        if let Some(v) = get(&format!("{prefix}{name}")) {
            out.insert((*name).to_owned(), Value::String(v));
        }
    }
    for (query, json) in LISTS {
        let mut items: Vec<Value> =
            indexed(|i| get(&format!("{prefix}{query}.{i}"))).into_iter().map(Value::String).collect();
        items.extend(indexed(|i| get(&format!("{prefix}{json}.member.{i}"))).into_iter().map(Value::String));
        if !items.is_empty() {
            out.insert((*json).to_owned(), Value::Array(items));
        }
    }
    let attributes = pairs(get, &format!("{prefix}Attribute"), "Name", "Value");
    if !attributes.is_empty() {
        out.insert("Attributes".to_owned(), Value::Object(attributes));
    }
    let tags = pairs(get, &format!("{prefix}Tag"), "Key", "Value");
    if !tags.is_empty() {
        // CreateQueue's member is `tags`, TagQueue's `Tags`.
        out.insert("tags".to_owned(), Value::Object(tags.clone()));
        out.insert("Tags".to_owned(), Value::Object(tags));
    }
    for (query, json) in
        [("MessageAttribute", "MessageAttributes"), ("MessageSystemAttribute", "MessageSystemAttributes")]
    {
        let mut map = Map::new();
        for i in 1.. {
            let at = format!("{prefix}{query}.{i}");
            let Some(name) = get(&format!("{at}.Name")) else { break };
            let mut value = Map::new();
            for field in ["DataType", "StringValue", "BinaryValue"] {
                if let Some(v) = get(&format!("{at}.Value.{field}")) {
                    value.insert(field.to_owned(), Value::String(v));
                }
            }
            map.insert(name, Value::Object(value));
        }
        if !map.is_empty() {
            out.insert(json.to_owned(), Value::Object(map));
        }
    }
    out
}

/// `f(1)`, `f(2)`, … while they are present.
fn indexed(f: impl Fn(usize) -> Option<String>) -> Vec<String> {
    (1..).map_while(f).collect()
}

/// `NAME.N.KEY` / `NAME.N.VALUE` pairs as a map.
fn pairs(get: &dyn Fn(&str) -> Option<String>, name: &str, key: &str, value: &str) -> Map<String, Value> {
    let mut map = Map::new();
    for i in 1.. {
        let Some(k) = get(&format!("{name}.{i}.{key}")) else { break };
        let v = get(&format!("{name}.{i}.{value}")).unwrap_or_default();
        map.insert(k, Value::String(v));
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters_become_json_members() {
        let params = QueryParams::parse(
            "",
            b"Action=SendMessageBatch&QueueUrl=http%3A%2F%2Fh%2F1%2Fq&AttributeName.1=All&Attribute.1.Name=VisibilityTimeout&Attribute.1.Value=40\
&MessageAttribute.1.Name=k&MessageAttribute.1.Value.DataType=String&MessageAttribute.1.Value.StringValue=v\
&SendMessageBatchRequestEntry.1.Id=a&SendMessageBatchRequestEntry.1.MessageBody=one\
&SendMessageBatchRequestEntry.1.MessageAttribute.1.Name=n&SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.DataType=Number\
&SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.StringValue=5\
&SendMessageBatchRequestEntry.2.Id=b&SendMessageBatchRequestEntry.2.MessageBody=two&SendMessageBatchRequestEntry.2.DelaySeconds=3\
&Tag.1.Key=team&Tag.1.Value=x&TagKey.1=old",
        );
        let input = Input::from_query(&params);
        assert_eq!(input.required("QueueUrl").unwrap(), "http://h/1/q");
        assert_eq!(input.strings("AttributeNames").unwrap(), ["All"]);
        assert_eq!(input.string_map("Attributes").unwrap()["VisibilityTimeout"], "40");
        assert_eq!(input.message_attributes("MessageAttributes").unwrap()["k"], MessageAttributeValue::string("v"));
        assert_eq!(input.string_map("Tags").unwrap()["team"], "x");
        assert_eq!(input.strings("TagKeys").unwrap(), ["old"]);
        let entries = input.entries().unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].required("MessageBody").unwrap(), "one");
        assert_eq!(
            entries[0].message_attributes("MessageAttributes").unwrap()["n"],
            MessageAttributeValue::number("5")
        );
        assert_eq!(entries[1].int("DelaySeconds").unwrap(), Some(3));
    }

    #[test]
    fn getters_answer_sqs_errors() {
        let input = Input::from_json(
            br#"{"MaxNumberOfMessages": 11, "QueueUrl": 5, "B": {"k": {"DataType": "Binary", "BinaryValue": "AAE="}}}"#,
        )
        .unwrap();
        let err = input.int_in("MaxNumberOfMessages", 1, 10, "Must be between 1 and 10, if provided.").unwrap_err();
        assert_eq!(
            err.message,
            "Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided."
        );
        assert!(input.str("QueueUrl").is_err());
        assert_eq!(input.required("QueueName").unwrap_err().code, "MissingParameter");
        assert_eq!(input.message_attributes("B").unwrap()["k"].binary_value.as_deref(), Some(&[0u8, 1][..]));
        assert_eq!(Input::from_json(b"").unwrap(), Input::default());
        assert_eq!(Input::from_json(b"[1]").unwrap_err().code, "SerializationException");
    }
}
