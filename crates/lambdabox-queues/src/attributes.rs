//! Queue names and queue attributes: which names SQS knows, which a queue
//! of each type takes, the values each accepts (AWS's ranges and
//! messages), their defaults, and the one canonical text each value is
//! stored and compared in (CreateQueue is idempotent only for equal
//! values).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::QueueError;

/// `VisibilityTimeout`'s default and maximum, in seconds.
pub const DEFAULT_VISIBILITY_TIMEOUT: u32 = 30;
pub const MAX_VISIBILITY_TIMEOUT: u32 = 43_200;
/// `MessageRetentionPeriod`'s default, in seconds (4 days).
pub const DEFAULT_RETENTION: u32 = 345_600;
/// `MaximumMessageSize`'s default and maximum, in bytes (1 MiB since
/// August 2025; it was 256 KiB before).
pub const MAX_MESSAGE_SIZE: u32 = 1_048_576;
/// `DelaySeconds`' maximum (15 minutes).
pub const MAX_DELAY_SECONDS: u32 = 900;
/// `ReceiveMessageWaitTimeSeconds`' and `WaitTimeSeconds`' maximum.
pub const MAX_WAIT_SECONDS: u32 = 20;

/// The attributes a queue reports but no request sets.
pub const READ_ONLY: &[&str] = &[
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "QueueArn",
];

/// The attributes CreateQueue and SetQueueAttributes take on any queue.
const SETTABLE: &[&str] = &[
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "Policy",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "RedrivePolicy",
    "RedriveAllowPolicy",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "SqsManagedSseEnabled",
];

/// The attributes only FIFO queues take.
const FIFO_ONLY: &[&str] = &["ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"];

/// Every attribute name GetQueueAttributes knows (besides `All`).
pub fn known(name: &str) -> bool {
    READ_ONLY.contains(&name) || SETTABLE.contains(&name) || FIFO_ONLY.contains(&name) || name == "FifoQueue"
}

/// Checks a queue name: 1 to 80 of `[A-Za-z0-9_-]`, a FIFO queue's ending
/// in `.fifo` (counted in the 80).
pub fn check_name(name: &str, fifo: bool) -> Result<(), QueueError> {
    let stem = if fifo { name.strip_suffix(".fifo") } else { Some(name) };
    let ok = stem.is_some_and(|s| {
        !s.is_empty() && name.len() <= 80 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    });
    match (ok, fifo) {
        (true, _) => Ok(()),
        (false, false) => Err(QueueError::invalid(
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length",
        )),
        (false, true) => Err(QueueError::invalid(
            "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.",
        )),
    }
}

/// The settable attributes of a new queue before any is given.
pub fn defaults(fifo: bool) -> BTreeMap<String, String> {
    let mut map: BTreeMap<String, String> = [
        ("DelaySeconds", "0".to_owned()),
        ("MaximumMessageSize", MAX_MESSAGE_SIZE.to_string()),
        ("MessageRetentionPeriod", DEFAULT_RETENTION.to_string()),
        ("ReceiveMessageWaitTimeSeconds", "0".to_owned()),
        ("VisibilityTimeout", DEFAULT_VISIBILITY_TIMEOUT.to_string()),
        ("SqsManagedSseEnabled", "true".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    if fifo {
        for (k, v) in [
            ("FifoQueue", "true"),
            ("ContentBasedDeduplication", "false"),
            ("DeduplicationScope", "queue"),
            ("FifoThroughputLimit", "perQueue"),
        ] {
            map.insert(k.to_owned(), v.to_owned());
        }
    }
    map
}

/// What a change does to one attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Setting {
    /// The attribute takes this canonical value.
    Set(String),
    /// An empty value: the attribute is removed (policies, the KMS key).
    Clear,
}

/// When an attribute is given: `FifoQueue` is taken only at creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Given {
    /// CreateQueue.
    Creating,
    /// SetQueueAttributes.
    Changing,
}

/// Checks `value` for attribute `name` of a queue of the given type and
/// returns it in canonical form.
pub fn canonical(name: &str, value: &str, fifo: bool, given: Given) -> Result<Setting, QueueError> {
    let bad = || QueueError::InvalidAttributeValue { name: name.to_owned(), reason: None };
    let unknown = || QueueError::InvalidAttributeName { name: name.to_owned() };
    let int = |low: u32, high: u32| -> Result<Setting, QueueError> {
        match value.parse::<u32>() {
            Ok(n) if (low..=high).contains(&n) => Ok(Setting::Set(n.to_string())),
            _ => Err(bad()),
        }
    };
    let boolean = || match value.to_ascii_lowercase().as_str() {
        b @ ("true" | "false") => Ok(Setting::Set(b.to_owned())),
        _ => Err(bad()),
    };
    match name {
        "DelaySeconds" => int(0, MAX_DELAY_SECONDS),
        "MaximumMessageSize" => int(1024, MAX_MESSAGE_SIZE),
        "MessageRetentionPeriod" => int(60, 1_209_600),
        "ReceiveMessageWaitTimeSeconds" => int(0, MAX_WAIT_SECONDS),
        "VisibilityTimeout" => int(0, MAX_VISIBILITY_TIMEOUT),
        "KmsDataKeyReusePeriodSeconds" => int(60, 86_400),
        "SqsManagedSseEnabled" => boolean(),
        "KmsMasterKeyId" if value.is_empty() => Ok(Setting::Clear),
        "KmsMasterKeyId" => Ok(Setting::Set(value.to_owned())),
        "Policy" if value.is_empty() => Ok(Setting::Clear),
        "Policy" => match serde_json::from_str::<Value>(value) {
            Ok(Value::Object(_)) => Ok(Setting::Set(value.to_owned())),
            _ => Err(bad()),
        },
        "RedrivePolicy" if value.is_empty() => Ok(Setting::Clear),
        "RedrivePolicy" => RedrivePolicy::parse(value).map(|p| Setting::Set(p.to_json())),
        "RedriveAllowPolicy" if value.is_empty() => Ok(Setting::Clear),
        "RedriveAllowPolicy" => redrive_allow(value).map(Setting::Set),
        "FifoQueue" if given == Given::Creating => match value.to_ascii_lowercase().as_str() {
            "true" if fifo => Ok(Setting::Set("true".to_owned())),
            "false" if !fifo => Ok(Setting::Clear),
            _ => Err(bad()),
        },
        "FifoQueue" => Err(QueueError::InvalidAttributeValue {
            name: name.to_owned(),
            reason: Some("Modifying queue type is not supported.".to_owned()),
        }),
        "ContentBasedDeduplication" if fifo => boolean(),
        "DeduplicationScope" if fifo => match value {
            "messageGroup" | "queue" => Ok(Setting::Set(value.to_owned())),
            _ => Err(bad()),
        },
        "FifoThroughputLimit" if fifo => match value {
            "perQueue" | "perMessageGroupId" => Ok(Setting::Set(value.to_owned())),
            _ => Err(bad()),
        },
        _ => Err(unknown()),
    }
}

/// Applies `changes` (already checked one by one) to a queue's settable
/// attributes and checks the combination.
pub fn apply(
    current: &BTreeMap<String, String>,
    changes: &BTreeMap<String, Setting>,
) -> Result<BTreeMap<String, String>, QueueError> {
    let mut next = current.clone();
    for (name, setting) in changes {
        match setting {
            Setting::Set(v) => next.insert(name.clone(), v.clone()),
            Setting::Clear => next.remove(name),
        };
    }
    if changes.contains_key("KmsMasterKeyId") && next.contains_key("KmsMasterKeyId") {
        next.entry("KmsDataKeyReusePeriodSeconds".to_owned()).or_insert_with(|| "300".to_owned());
        if !changes.contains_key("SqsManagedSseEnabled") {
            next.insert("SqsManagedSseEnabled".to_owned(), "false".to_owned());
        }
    }
    if next.get("FifoThroughputLimit").map(String::as_str) == Some("perMessageGroupId")
        && next.get("DeduplicationScope").map(String::as_str) != Some("messageGroup")
    {
        return Err(QueueError::InvalidAttributeValue {
            name: "FifoThroughputLimit".to_owned(),
            reason: Some("perMessageGroupId is allowed only when DeduplicationScope is messageGroup.".to_owned()),
        });
    }
    Ok(next)
}

/// A queue's `RedrivePolicy`: where messages go after `max_receive_count`
/// receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedrivePolicy {
    pub dead_letter_target_arn: String,
    pub max_receive_count: u32,
}

impl RedrivePolicy {
    /// Parses the JSON SQS takes (`maxReceiveCount` a number or a numeric string).
    pub fn parse(text: &str) -> Result<Self, QueueError> {
        let invalid = |reason: &str| {
            QueueError::invalid(format!("Value {text} for parameter RedrivePolicy is invalid. Reason: {reason}"))
        };
        let Ok(Value::Object(map)) = serde_json::from_str::<Value>(text) else {
            return Err(invalid("Redrive policy is not a valid JSON map."));
        };
        let arn = match map.get("deadLetterTargetArn") {
            Some(Value::String(arn)) => arn.clone(),
            _ => return Err(invalid("Redrive policy does not contain mandatory attribute: deadLetterTargetArn.")),
        };
        if QueueArn::parse(&arn).is_none() {
            return Err(invalid("Invalid value for deadLetterTargetArn."));
        }
        let count = match map.get("maxReceiveCount") {
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(s)) => s.parse::<i64>().ok(),
            None => return Err(invalid("Redrive policy does not contain mandatory attribute: maxReceiveCount.")),
            _ => None,
        };
        let count = match count {
            Some(n @ 1..=1000) => n as u32,
            _ => {
                let shown = map.get("maxReceiveCount").map(|v| v.to_string()).unwrap_or_default();
                return Err(invalid(&format!(
                    "Invalid value for maxReceiveCount: {}, valid values are from 1 to 1000 both inclusive.",
                    shown.trim_matches('"')
                )));
            }
        };
        for key in map.keys() {
            if key != "deadLetterTargetArn" && key != "maxReceiveCount" {
                return Err(invalid(&format!(
                    "Only following attributes are supported: [deadLetterTargetArn, maxReceiveCount]. Got {key}."
                )));
            }
        }
        Ok(Self { dead_letter_target_arn: arn, max_receive_count: count })
    }

    /// The canonical JSON, as GetQueueAttributes answers it.
    pub fn to_json(&self) -> String {
        serde_json::json!({"deadLetterTargetArn": self.dead_letter_target_arn, "maxReceiveCount": self.max_receive_count})
            .to_string()
    }
}

/// Checks a `RedriveAllowPolicy` and returns its canonical JSON.
fn redrive_allow(text: &str) -> Result<String, QueueError> {
    let invalid = |reason: &str| {
        QueueError::invalid(format!("Value {text} for parameter RedriveAllowPolicy is invalid. Reason: {reason}"))
    };
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(text) else {
        return Err(invalid("Redrive allow policy is not a valid JSON map."));
    };
    let permission = map.get("redrivePermission").and_then(Value::as_str);
    let sources = map.get("sourceQueueArns");
    match (permission, sources) {
        (Some("allowAll" | "denyAll"), None) => {}
        (Some("byQueue"), Some(Value::Array(arns)))
            if (1..=10).contains(&arns.len())
                && arns.iter().all(|a| a.as_str().and_then(QueueArn::parse).is_some()) => {}
        (Some("byQueue"), _) => {
            return Err(invalid(
                "sourceQueueArns must be a list of 1 to 10 queue ARNs when redrivePermission is byQueue.",
            ));
        }
        (Some("allowAll" | "denyAll"), Some(_)) => {
            return Err(invalid("sourceQueueArns can be specified only when redrivePermission is byQueue."));
        }
        _ => return Err(invalid("redrivePermission must be one of allowAll, denyAll, byQueue.")),
    }
    Ok(Value::Object(map).to_string())
}

/// Whether a queue's `RedriveAllowPolicy` (if any) lets `source_arn` name
/// it as its dead-letter queue.
pub fn redrive_allowed(allow_policy: Option<&str>, source_arn: &str) -> bool {
    let Some(Ok(Value::Object(map))) = allow_policy.map(serde_json::from_str::<Value>) else { return true };
    match map.get("redrivePermission").and_then(Value::as_str) {
        Some("denyAll") => false,
        Some("byQueue") => map
            .get("sourceQueueArns")
            .and_then(Value::as_array)
            .is_some_and(|arns| arns.iter().any(|a| a.as_str() == Some(source_arn))),
        _ => true,
    }
}

/// The parts of a queue ARN, `arn:aws:sqs:REGION:ACCOUNT:NAME`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueArn {
    pub region: String,
    pub account: String,
    pub name: String,
}

impl QueueArn {
    pub fn parse(arn: &str) -> Option<Self> {
        let mut parts = arn.splitn(6, ':');
        let (arn_, _partition, service) = (parts.next()?, parts.next()?, parts.next()?);
        let (region, account, name) = (parts.next()?, parts.next()?, parts.next()?);
        (arn_ == "arn" && service == "sqs" && !region.is_empty() && !account.is_empty() && !name.is_empty())
            .then(|| Self { region: region.to_owned(), account: account.to_owned(), name: name.to_owned() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(check_name("orders", false).is_ok());
        assert!(check_name(&"a".repeat(80), false).is_ok());
        assert!(check_name(&"a".repeat(81), false).is_err());
        assert!(check_name("a.fifo", false).is_err());
        assert!(check_name("a.fifo", true).is_ok());
        assert!(check_name(".fifo", true).is_err());
        assert!(check_name("orders", true).is_err());
        assert!(check_name("", false).is_err());
        assert!(check_name("with space", false).is_err());
    }

    #[test]
    fn values_are_checked_and_canonical() {
        assert_eq!(canonical("VisibilityTimeout", "45", false, Given::Changing).unwrap(), Setting::Set("45".into()));
        assert!(matches!(
            canonical("VisibilityTimeout", "43201", false, Given::Changing),
            Err(QueueError::InvalidAttributeValue { .. })
        ));
        assert!(canonical("MessageRetentionPeriod", "59", false, Given::Changing).is_err());
        assert!(canonical("MaximumMessageSize", "1023", false, Given::Changing).is_err());
        assert!(canonical("DelaySeconds", "-1", false, Given::Changing).is_err());
        assert_eq!(
            canonical("SqsManagedSseEnabled", "True", false, Given::Changing).unwrap(),
            Setting::Set("true".into())
        );
        assert!(matches!(
            canonical("ContentBasedDeduplication", "true", false, Given::Creating),
            Err(QueueError::InvalidAttributeName { .. })
        ));
        assert!(canonical("ContentBasedDeduplication", "true", true, Given::Creating).is_ok());
        assert!(matches!(canonical("Nope", "1", false, Given::Creating), Err(QueueError::InvalidAttributeName { .. })));
        assert!(matches!(
            canonical("QueueArn", "x", false, Given::Changing),
            Err(QueueError::InvalidAttributeName { .. })
        ));
        assert!(canonical("FifoQueue", "true", true, Given::Changing).is_err(), "the type cannot change");
        assert_eq!(canonical("Policy", "", false, Given::Changing).unwrap(), Setting::Clear);
        assert!(canonical("Policy", "[1]", false, Given::Changing).is_err());
    }

    #[test]
    fn redrive_policies() {
        let p = RedrivePolicy::parse(
            r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":"3"}"#,
        )
        .unwrap();
        assert_eq!(p.max_receive_count, 3);
        assert_eq!(
            p.to_json(),
            r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":3}"#
        );
        for bad in [
            "nope",
            r#"{"maxReceiveCount":3}"#,
            r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":0}"#,
            r#"{"deadLetterTargetArn":"x","maxReceiveCount":1}"#,
        ] {
            assert!(matches!(RedrivePolicy::parse(bad), Err(QueueError::InvalidParameterValue { .. })), "{bad}");
        }
        assert!(redrive_allowed(None, "a"));
        assert!(!redrive_allowed(Some(r#"{"redrivePermission":"denyAll"}"#), "a"));
        let by = r#"{"redrivePermission":"byQueue","sourceQueueArns":["arn:aws:sqs:r:1:a"]}"#;
        assert!(redrive_allow(by).is_ok());
        assert!(redrive_allowed(Some(by), "arn:aws:sqs:r:1:a"));
        assert!(!redrive_allowed(Some(by), "arn:aws:sqs:r:1:b"));
        assert!(redrive_allow(r#"{"redrivePermission":"byQueue"}"#).is_err());
    }

    #[test]
    fn kms_and_fifo_combinations() {
        let mut changes = BTreeMap::new();
        changes.insert("KmsMasterKeyId".to_owned(), Setting::Set("alias/aws/sqs".into()));
        let next = apply(&defaults(false), &changes).unwrap();
        assert_eq!(next["KmsDataKeyReusePeriodSeconds"], "300");
        assert_eq!(next["SqsManagedSseEnabled"], "false");
        let mut changes = BTreeMap::new();
        changes.insert("FifoThroughputLimit".to_owned(), Setting::Set("perMessageGroupId".into()));
        assert!(apply(&defaults(true), &changes).is_err());
        changes.insert("DeduplicationScope".to_owned(), Setting::Set("messageGroup".into()));
        assert!(apply(&defaults(true), &changes).is_ok());
    }
}
