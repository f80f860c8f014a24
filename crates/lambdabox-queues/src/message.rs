//! Messages as SQS takes and gives them: the body, message attributes
//! (`String`, `Number`, `Binary`, each with an optional custom suffix),
//! the system attribute `AWSTraceHeader`, and the digests AWS computes
//! over them (`MD5OfMessageBody`, `MD5OfMessageAttributes`,
//! `MD5OfMessageSystemAttributes`), with SQS's checks of each.

use std::collections::BTreeMap;

use base64::Engine;
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};

use crate::QueueError;

/// The most message attributes one message carries.
pub const MAX_MESSAGE_ATTRIBUTES: usize = 10;

/// One message attribute's value (`MessageAttributeValue`).
/// `StringListValues` and `BinaryListValues` are reserved by AWS and unused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageAttributeValue {
    /// `String`, `Number` or `Binary`, optionally with a custom suffix
    /// (`Number.int`, `Binary.gif`).
    #[serde(rename = "DataType")]
    pub data_type: String,
    #[serde(rename = "StringValue", default, skip_serializing_if = "Option::is_none")]
    pub string_value: Option<String>,
    /// The raw bytes (base64 on the wire and in the database).
    #[serde(rename = "BinaryValue", default, skip_serializing_if = "Option::is_none", with = "base64_bytes")]
    pub binary_value: Option<Vec<u8>>,
}

impl MessageAttributeValue {
    /// A `String` attribute.
    pub fn string(value: impl Into<String>) -> Self {
        Self { data_type: "String".to_owned(), string_value: Some(value.into()), binary_value: None }
    }

    /// A `Number` attribute (its text, as sent).
    pub fn number(value: impl Into<String>) -> Self {
        Self { data_type: "Number".to_owned(), string_value: Some(value.into()), binary_value: None }
    }

    /// A `Binary` attribute.
    pub fn binary(value: impl Into<Vec<u8>>) -> Self {
        Self { data_type: "Binary".to_owned(), string_value: None, binary_value: Some(value.into()) }
    }

    /// Whether its type is `Binary` (or `Binary.…`).
    pub fn is_binary(&self) -> bool {
        base_type(&self.data_type) == Some("Binary")
    }

    /// The bytes its value counts for in the message's size.
    fn value_len(&self) -> usize {
        if self.is_binary() {
            self.binary_value.as_ref().map_or(0, Vec::len)
        } else {
            self.string_value.as_ref().map_or(0, String::len)
        }
    }
}

mod base64_bytes {
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(bytes) => s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        let text = Option::<String>::deserialize(d)?;
        text.map(|t| base64::engine::general_purpose::STANDARD.decode(t).map_err(serde::de::Error::custom)).transpose()
    }
}

/// `String`, `Number` or `Binary` for a data type with or without a custom suffix.
fn base_type(data_type: &str) -> Option<&'static str> {
    ["String", "Number", "Binary"].into_iter().find(|t| {
        data_type == *t || data_type.strip_prefix(t).is_some_and(|rest| rest.starts_with('.') && rest.len() > 1)
    })
}

/// A message to send.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewMessage {
    /// The body: 1 byte or more of XML's characters.
    pub body: String,
    /// Message attributes, by name (at most 10).
    pub attributes: BTreeMap<String, MessageAttributeValue>,
    /// Message system attributes: only `AWSTraceHeader` (a `String`).
    pub system: BTreeMap<String, MessageAttributeValue>,
    /// Overrides the queue's `DelaySeconds` (standard queues only; 0..=900).
    pub delay_seconds: Option<u32>,
    /// `MessageGroupId`: required on FIFO queues; on standard queues it is
    /// kept and reported (fair queues) but orders nothing.
    pub group_id: Option<String>,
    /// `MessageDeduplicationId` (FIFO only; else the body's SHA-256 under
    /// `ContentBasedDeduplication`).
    pub dedup_id: Option<String>,
    /// `SenderId` to record (the caller's IAM user id or role session);
    /// `None` records the account id.
    pub sender_id: Option<String>,
}

impl NewMessage {
    /// A message with only a body.
    pub fn body(body: impl Into<String>) -> Self {
        Self { body: body.into(), ..Self::default() }
    }

    /// Its size as SQS counts it against `MaximumMessageSize`: the body and
    /// each attribute's name, type and value.
    pub fn size(&self) -> usize {
        self.body.len()
            + self.attributes.iter().map(|(name, v)| name.len() + v.data_type.len() + v.value_len()).sum::<usize>()
    }

    /// Checks everything about the message that does not depend on the queue.
    pub(crate) fn check(&self) -> Result<(), QueueError> {
        if self.body.is_empty() {
            return Err(QueueError::missing("MessageBody"));
        }
        if !self.body.chars().all(allowed_char) {
            return Err(QueueError::InvalidMessageContents);
        }
        check_attributes(&self.attributes)?;
        for (name, value) in &self.system {
            if name != "AWSTraceHeader" {
                return Err(QueueError::invalid(format!("Message system attribute name '{name}' is invalid.")));
            }
            if value.data_type != "String" || value.string_value.as_deref().is_none_or(str::is_empty) {
                return Err(QueueError::invalid(format!(
                    "The message system attribute '{name}' must contain a non-empty String value."
                )));
            }
        }
        for (field, value) in [("MessageGroupId", &self.group_id), ("MessageDeduplicationId", &self.dedup_id)] {
            if let Some(v) = value
                && (v.is_empty() || v.len() > 128 || !v.bytes().all(|b| b.is_ascii_graphic()))
            {
                return Err(QueueError::invalid(format!(
                    "Value {v} for parameter {field} is invalid. Reason: {field} can only include alphanumeric and punctuation characters. 1 to 128 in length."
                )));
            }
        }
        if let Some(d) = self.delay_seconds
            && d > crate::attributes::MAX_DELAY_SECONDS
        {
            return Err(QueueError::invalid(format!(
                "Value {d} for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900."
            )));
        }
        Ok(())
    }
}

/// XML's characters, which SQS allows in bodies and attribute values:
/// `#x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF`.
pub fn allowed_char(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// SQS's checks of message attributes: how many, their names, types and values.
pub fn check_attributes(attributes: &BTreeMap<String, MessageAttributeValue>) -> Result<(), QueueError> {
    if attributes.len() > MAX_MESSAGE_ATTRIBUTES {
        return Err(QueueError::invalid(format!(
            "Number of message attributes [{}] exceeds the allowed maximum [{MAX_MESSAGE_ATTRIBUTES}].",
            attributes.len()
        )));
    }
    for (name, value) in attributes {
        let lower = name.to_ascii_lowercase();
        if name.is_empty()
            || name.len() > 256
            || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
            || name.starts_with('.')
            || name.ends_with('.')
            || name.contains("..")
            || lower.starts_with("aws.")
            || lower.starts_with("amazon.")
        {
            return Err(QueueError::invalid(format!(
                "Message (user) attribute name '{name}' is invalid. The attribute name can contain only alphanumeric characters, hyphens (-), underscores (_) and periods (.); it cannot start or end with a period, have two periods in a row, or start with AWS. or Amazon."
            )));
        }
        if value.data_type.is_empty() {
            return Err(QueueError::invalid(format!(
                "The message attribute '{name}' must contain a non-empty attribute type."
            )));
        }
        let Some(base) = base_type(&value.data_type).filter(|_| value.data_type.len() <= 256) else {
            return Err(QueueError::invalid(format!(
                "The type of message (user) attribute '{name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String."
            )));
        };
        let empty = || {
            QueueError::invalid(format!(
                "The message attribute '{name}' must contain non-empty message attribute value for message attribute type '{}'.",
                value.data_type
            ))
        };
        match base {
            "Binary" => {
                if value.binary_value.as_ref().is_none_or(Vec::is_empty) {
                    return Err(empty());
                }
            }
            _ => {
                let Some(text) = value.string_value.as_deref().filter(|s| !s.is_empty()) else { return Err(empty()) };
                if !text.chars().all(allowed_char) {
                    return Err(QueueError::InvalidMessageContents);
                }
                if base == "Number" && !is_number(text) {
                    return Err(QueueError::invalid(format!(
                        "Can't cast the value of message (user) attribute '{name}' to a number."
                    )));
                }
            }
        }
    }
    Ok(())
}

/// A decimal number as SQS's `Number` takes it (sign, digits, fraction, exponent).
fn is_number(text: &str) -> bool {
    let t = text.trim();
    !t.is_empty() && t.parse::<f64>().is_ok_and(f64::is_finite) && !t.contains(['i', 'I', 'n', 'N'])
}

/// The hex MD5 of a body (`MD5OfMessageBody`, `MD5OfBody`).
pub fn md5_of_body(body: &str) -> String {
    hex(&Md5::digest(body.as_bytes()))
}

/// The hex MD5 SQS computes over message attributes
/// (`MD5OfMessageAttributes`; over system attributes,
/// `MD5OfMessageSystemAttributes`), or `None` for no attributes. As AWS
/// documents it: the attributes sorted by name, each encoded as its name,
/// its data type (each a 4-byte big-endian length and UTF-8 bytes), one
/// transport byte (1 for `String` and `Number`, 2 for `Binary`) and its
/// value (a 4-byte length and the bytes).
pub fn md5_of_attributes(attributes: &BTreeMap<String, MessageAttributeValue>) -> Option<String> {
    if attributes.is_empty() {
        return None;
    }
    fn put(buffer: &mut Vec<u8>, bytes: &[u8]) {
        buffer.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        buffer.extend_from_slice(bytes);
    }
    let mut buffer = Vec::new();
    // A BTreeMap iterates in byte order of the names, as AWS sorts them.
    for (name, value) in attributes {
        put(&mut buffer, name.as_bytes());
        put(&mut buffer, value.data_type.as_bytes());
        if value.is_binary() {
            buffer.push(2);
            put(&mut buffer, value.binary_value.as_deref().unwrap_or_default());
        } else {
            buffer.push(1);
            put(&mut buffer, value.string_value.as_deref().unwrap_or_default().as_bytes());
        }
    }
    Some(hex(&Md5::digest(&buffer)))
}

/// The hex SHA-256 of a body: the deduplication id `ContentBasedDeduplication` uses.
pub(crate) fn content_dedup_id(body: &str) -> String {
    hex(&sha2::Sha256::digest(body.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Message attributes as the database keeps them (JSON, binary in base64).
pub(crate) fn encode_attributes(attributes: &BTreeMap<String, MessageAttributeValue>) -> String {
    serde_json::to_string(attributes).unwrap_or_else(|_| "{}".to_owned())
}

pub(crate) fn decode_attributes(text: &str) -> BTreeMap<String, MessageAttributeValue> {
    serde_json::from_str(text).unwrap_or_default()
}

/// Base64 as SQS's wire carries binary values.
pub fn base64_encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(pairs: &[(&str, MessageAttributeValue)]) -> BTreeMap<String, MessageAttributeValue> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
    }

    #[test]
    fn md5_of_attributes_is_awss() {
        // The buffer for {"a": String "b"}: 00000001 'a' 00000006 "String" 01 00000001 'b'.
        let mut expected = Vec::new();
        expected.extend_from_slice(&[0, 0, 0, 1, b'a', 0, 0, 0, 6]);
        expected.extend_from_slice(b"String");
        expected.extend_from_slice(&[1, 0, 0, 0, 1, b'b']);
        let one = attrs(&[("a", MessageAttributeValue::string("b"))]);
        assert_eq!(md5_of_attributes(&one).unwrap(), hex(&Md5::digest(&expected)));
        assert_eq!(md5_of_attributes(&BTreeMap::new()), None);
        // Binary values use transport type 2; names sort.
        let two = attrs(&[("z", MessageAttributeValue::binary(vec![1, 2])), ("m", MessageAttributeValue::number("1"))]);
        let mut buf = Vec::new();
        buf.extend_from_slice(&[0, 0, 0, 1, b'm', 0, 0, 0, 6]);
        buf.extend_from_slice(b"Number");
        buf.extend_from_slice(&[1, 0, 0, 0, 1, b'1', 0, 0, 0, 1, b'z', 0, 0, 0, 6]);
        buf.extend_from_slice(b"Binary");
        buf.extend_from_slice(&[2, 0, 0, 0, 2, 1, 2]);
        assert_eq!(md5_of_attributes(&two).unwrap(), hex(&Md5::digest(&buf)));
        assert_eq!(md5_of_body("hello"), "5d41402abc4b2a76b9719d911017c592");
    }

    #[test]
    fn messages_are_checked() {
        assert!(NewMessage::body("hi").check().is_ok());
        assert!(matches!(NewMessage::body("").check(), Err(QueueError::MissingParameter { .. })));
        assert!(matches!(NewMessage::body("a\u{1}b").check(), Err(QueueError::InvalidMessageContents)));
        let mut m = NewMessage::body("x");
        m.attributes = attrs(&[("n", MessageAttributeValue::number("abc"))]);
        assert!(m.check().is_err());
        m.attributes = attrs(&[("n", MessageAttributeValue::number("-1.5e3"))]);
        assert!(m.check().is_ok());
        m.attributes = attrs(&[("AWS.x", MessageAttributeValue::string("v"))]);
        assert!(m.check().is_err());
        m.attributes = attrs(&[("a..b", MessageAttributeValue::string("v"))]);
        assert!(m.check().is_err());
        m.attributes =
            attrs(&[("t", MessageAttributeValue { data_type: "Text".into(), ..MessageAttributeValue::string("v") })]);
        assert!(m.check().is_err());
        m.attributes = attrs(&[(
            "t",
            MessageAttributeValue { data_type: "String.custom".into(), ..MessageAttributeValue::string("v") },
        )]);
        assert!(m.check().is_ok());
        m.attributes = attrs(&[("t", MessageAttributeValue::string(""))]);
        assert!(m.check().is_err());
        m.attributes = (0..11).map(|i| (format!("a{i}"), MessageAttributeValue::string("v"))).collect();
        assert!(m.check().is_err());
        let mut m = NewMessage::body("x");
        m.delay_seconds = Some(901);
        assert!(m.check().is_err());
        m.delay_seconds = None;
        m.group_id = Some("has space".into());
        assert!(m.check().is_err());
        m.group_id = Some("g-1!".into());
        assert!(m.check().is_ok());
        m.system = attrs(&[("Other", MessageAttributeValue::string("v"))]);
        assert!(m.check().is_err());
    }

    #[test]
    fn sizes_and_storage() {
        let mut m = NewMessage::body("abc");
        m.attributes = attrs(&[("k", MessageAttributeValue::binary(vec![0; 5]))]);
        assert_eq!(m.size(), 3 + 1 + 6 + 5);
        let text = encode_attributes(&m.attributes);
        assert_eq!(decode_attributes(&text), m.attributes);
    }
}
