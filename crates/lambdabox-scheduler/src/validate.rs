//! Checking a request's members against the botocore model's constraints
//! (lengths, patterns, enums, ranges, required members), every violation
//! reported in one `ValidationException` with AWS's wording, and the
//! model's patterns written as plain functions.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::SchedulerError;

/// The constraint violations of one request, reported together as AWS
/// does: `N validation error(s) detected: Value … at 'member' failed to
/// satisfy constraint: …; …`.
#[derive(Default)]
pub struct Violations(Vec<String>);

impl Violations {
    /// Records that `value` at `path` breaks `constraint`.
    pub fn push(&mut self, value: Option<&Value>, path: &str, constraint: impl std::fmt::Display) {
        let shown = match value {
            None | Some(Value::Null) => "null".to_owned(),
            Some(Value::String(s)) => format!("'{s}'"),
            Some(other) => format!("'{other}'"),
        };
        self.0.push(format!("Value {shown} at '{path}' failed to satisfy constraint: {constraint}"));
    }

    /// A string member; `None` (after recording why) when absent or broken.
    pub fn string(&mut self, v: Option<&Value>, path: &str, spec: &Str) -> Option<String> {
        match v {
            None | Some(Value::Null) => {
                if spec.required {
                    self.push(v, path, "Member must not be null");
                }
                None
            }
            Some(Value::String(s)) => {
                let chars = s.chars().count();
                if chars < spec.min {
                    self.push(v, path, format_args!("Member must have length greater than or equal to {}", spec.min));
                    return None;
                }
                if spec.max.is_some_and(|max| chars > max) {
                    let max = spec.max.unwrap_or_default();
                    self.push(v, path, format_args!("Member must have length less than or equal to {max}"));
                    return None;
                }
                if let Some((pattern, check)) = spec.pattern
                    && !check(s)
                {
                    self.push(v, path, format_args!("Member must satisfy regular expression pattern: {pattern}"));
                    return None;
                }
                if !spec.one_of.is_empty() && !spec.one_of.contains(&s.as_str()) {
                    let set = spec.one_of.join(", ");
                    self.push(v, path, format_args!("Member must satisfy enum value set: [{set}]"));
                    return None;
                }
                Some(s.clone())
            }
            Some(_) => {
                self.push(v, path, "Member must be a string");
                None
            }
        }
    }

    /// An integer member within `min..=max`.
    pub fn integer(&mut self, v: Option<&Value>, path: &str, min: i64, max: i64) -> Option<u32> {
        let n = v?.as_i64();
        match n {
            None if v.is_some_and(Value::is_null) => None,
            None => {
                self.push(v, path, "Member must be an integer");
                None
            }
            Some(n) if n < min => {
                self.push(v, path, format_args!("Member must have value greater than or equal to {min}"));
                None
            }
            Some(n) if n > max => {
                self.push(v, path, format_args!("Member must have value less than or equal to {max}"));
                None
            }
            Some(n) => u32::try_from(n).ok(),
        }
    }

    /// A structure member (`None` when absent, null, or not an object).
    pub fn object<'a>(&mut self, v: Option<&'a Value>, path: &str, required: bool) -> Option<&'a Map<String, Value>> {
        match v {
            None | Some(Value::Null) if required => {
                self.push(v, path, "Member must not be null");
                None
            }
            None | Some(Value::Null) => None,
            Some(Value::Object(m)) => Some(m),
            Some(_) => {
                self.push(v, path, "Member must be a structure");
                None
            }
        }
    }

    /// A timestamp member: epoch seconds (as botocore sends them) or ISO 8601.
    pub fn timestamp(&mut self, v: Option<&Value>, path: &str) -> Option<i64> {
        match v {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => match n.as_f64() {
                Some(s) if s.is_finite() && s.abs() < 1e13 => Some((s * 1000.0).round() as i64),
                _ => {
                    self.push(v, path, "Member must be a timestamp");
                    None
                }
            },
            Some(Value::String(s)) => match DateTime::parse_from_rfc3339(s) {
                Ok(t) => Some(t.with_timezone(&Utc).timestamp_millis()),
                Err(_) => {
                    self.push(v, path, "Member must be a timestamp");
                    None
                }
            },
            Some(_) => {
                self.push(v, path, "Member must be a timestamp");
                None
            }
        }
    }

    /// `Ok` when nothing was recorded, else one ValidationException naming every violation.
    pub fn finish(self) -> Result<(), SchedulerError> {
        match self.0.len() {
            0 => Ok(()),
            1 => Err(SchedulerError::validation(format!("1 validation error detected: {}", self.0[0]))),
            n => Err(SchedulerError::validation(format!("{n} validation errors detected: {}", self.0.join("; ")))),
        }
    }
}

/// A pattern's text (as the model writes it, for the message) and its check.
pub type Pattern = (&'static str, fn(&str) -> bool);

/// A string member's constraints (from the botocore model).
pub struct Str {
    pub required: bool,
    pub min: usize,
    pub max: Option<usize>,
    pub pattern: Option<Pattern>,
    pub one_of: &'static [&'static str],
}

impl Str {
    pub const fn new(required: bool, min: usize, max: Option<usize>) -> Self {
        Self { required, min, max, pattern: None, one_of: &[] }
    }

    pub const fn pattern(self, text: &'static str, check: fn(&str) -> bool) -> Self {
        Self { pattern: Some((text, check)), ..self }
    }

    pub const fn one_of(self, set: &'static [&'static str]) -> Self {
        Self { one_of: set, ..self }
    }
}

/// `[0-9a-zA-Z-_.]+`: schedule and group names and their prefixes.
pub fn is_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

pub const NAME_PATTERN: &str = "[0-9a-zA-Z-_.]+";
pub const NAME: Str = Str::new(true, 1, Some(64)).pattern(NAME_PATTERN, is_name);
pub const GROUP_NAME: Str = Str::new(false, 1, Some(64)).pattern(NAME_PATTERN, is_name);

/// `arn:aws[a-z-]*:SERVICE:` and the rest.
fn arn_rest<'a>(s: &'a str, service: &str) -> Option<&'a str> {
    let rest = s.strip_prefix("arn:aws")?;
    let colon = rest.find(':')?;
    if !rest[..colon].bytes().all(|b| b.is_ascii_lowercase() || b == b'-') {
        return None;
    }
    rest[colon + 1..].strip_prefix(service)?.strip_prefix(':')
}

fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_region(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// `arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@\/-]+`
pub(crate) fn is_role_arn(s: &str) -> bool {
    let Some(rest) = arn_rest(s, "iam").and_then(|r| r.strip_prefix(':')) else { return false };
    let Some((account, path)) = rest.split_once(":role/") else { return false };
    is_account(account)
        && !path.is_empty()
        && path.chars().all(|c| c.is_alphanumeric() || c == '_' || "+=,.@/-".contains(c))
}

/// `arn:aws[a-z-]*:sqs:[a-z0-9\-]+:\d{12}:[a-zA-Z0-9\-_]+`
pub(crate) fn is_queue_arn(s: &str) -> bool {
    let Some(rest) = arn_rest(s, "sqs") else { return false };
    let parts: Vec<&str> = rest.split(':').collect();
    matches!(parts[..], [region, account, name]
        if is_region(region) && is_account(account) && !name.is_empty()
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
}

/// `arn:aws[a-z-]*:kms:[a-z0-9\-]+:\d{12}:(key|alias)\/[0-9a-zA-Z-_]*`
pub(crate) fn is_kms_arn(s: &str) -> bool {
    let Some(rest) = arn_rest(s, "kms") else { return false };
    let parts: Vec<&str> = rest.splitn(3, ':').collect();
    let [region, account, resource] = parts[..] else { return false };
    let id = resource.strip_prefix("key/").or_else(|| resource.strip_prefix("alias/"));
    is_region(region)
        && is_account(account)
        && id.is_some_and(|id| id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
}

fn is_client_token(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub const CLIENT_TOKEN: Str = Str::new(false, 1, Some(64)).pattern("[a-zA-Z0-9-_]+", is_client_token);

/// Whether a target ARN names a Lambda function (whose input AWS requires
/// to be JSON).
pub fn is_lambda_arn(arn: &str) -> bool {
    arn_rest(arn, "lambda").is_some_and(|r| r.contains(":function:"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_patterns() {
        assert!(is_role_arn("arn:aws:iam::000000000000:role/service-role/x+y=z,a.b@c-d"));
        assert!(!is_role_arn("arn:aws:iam::000000000000:user/x"));
        assert!(!is_role_arn("arn:aws:iam:us-east-1:000000000000:role/x"));
        assert!(is_queue_arn("arn:aws:sqs:eu-west-1:123456789012:dead-letters_1"));
        assert!(!is_queue_arn("arn:aws:sqs:eu-west-1:123456789012:q.fifo"));
        assert!(is_kms_arn("arn:aws:kms:us-east-1:123456789012:key/abc-123"));
        assert!(is_kms_arn("arn:aws-cn:kms:cn-north-1:123456789012:alias/x"));
        assert!(!is_kms_arn("arn:aws:kms:us-east-1:123456789012:thing/x"));
        assert!(is_lambda_arn("arn:aws:lambda:us-east-1:000000000000:function:f:prod"));
        assert!(!is_lambda_arn("arn:aws:sqs:us-east-1:000000000000:q"));
        assert!(is_name("a.b-c_1") && !is_name("a/b") && !is_name(""));
    }
}
