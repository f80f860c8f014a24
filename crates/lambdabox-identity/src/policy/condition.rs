//! The `Condition` element: operators (`StringEquals`, `StringLike`,
//! `ArnLike`, `Bool`, `NumericLessThan`, `DateGreaterThan`, `IpAddress`,
//! `Null`, …), their `…IfExists` forms and the `ForAnyValue:` /
//! `ForAllValues:` set qualifiers, evaluated as AWS documents: every
//! operator in a block must hold, every key under an operator must hold,
//! and a key holds when any of its values matches (negated operators: when
//! none does).

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde_json::Value;

use super::wildcard;

/// The request's condition keys (names lower-cased; values as strings).
#[derive(Debug, Clone, Default)]
pub struct ConditionContext {
    keys: BTreeMap<String, Vec<String>>,
}

impl ConditionContext {
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        self.keys.insert(key.to_ascii_lowercase(), vec![value.into()]);
    }

    pub fn set_many(&mut self, key: &str, values: Vec<String>) {
        self.keys.insert(key.to_ascii_lowercase(), values);
    }

    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.keys.get(&key.to_ascii_lowercase()).map(Vec::as_slice)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Base {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

impl Base {
    fn parse(s: &str) -> Option<Self> {
        use Base::*;
        Some(match s {
            "StringEquals" => StringEquals,
            "StringNotEquals" => StringNotEquals,
            "StringEqualsIgnoreCase" => StringEqualsIgnoreCase,
            "StringNotEqualsIgnoreCase" => StringNotEqualsIgnoreCase,
            "StringLike" => StringLike,
            "StringNotLike" => StringNotLike,
            "NumericEquals" => NumericEquals,
            "NumericNotEquals" => NumericNotEquals,
            "NumericLessThan" => NumericLessThan,
            "NumericLessThanEquals" => NumericLessThanEquals,
            "NumericGreaterThan" => NumericGreaterThan,
            "NumericGreaterThanEquals" => NumericGreaterThanEquals,
            "DateEquals" => DateEquals,
            "DateNotEquals" => DateNotEquals,
            "DateLessThan" => DateLessThan,
            "DateLessThanEquals" => DateLessThanEquals,
            "DateGreaterThan" => DateGreaterThan,
            "DateGreaterThanEquals" => DateGreaterThanEquals,
            "Bool" => Bool,
            "BinaryEquals" => BinaryEquals,
            "IpAddress" => IpAddress,
            "NotIpAddress" => NotIpAddress,
            "ArnEquals" => ArnEquals,
            "ArnLike" => ArnLike,
            "ArnNotEquals" => ArnNotEquals,
            "ArnNotLike" => ArnNotLike,
            "Null" => Null,
            _ => return None,
        })
    }

    /// Negated operators hold when no value matches.
    fn negated(self) -> bool {
        use Base::*;
        matches!(
            self,
            StringNotEquals
                | StringNotEqualsIgnoreCase
                | StringNotLike
                | NumericNotEquals
                | DateNotEquals
                | NotIpAddress
                | ArnNotEquals
                | ArnNotLike
        )
    }

    /// Whether one request value matches one policy value (for negated
    /// operators: the positive form).
    fn matches(self, policy: &str, request: &str) -> bool {
        use Base::*;
        match self {
            StringEquals | StringNotEquals | BinaryEquals => policy == request,
            StringEqualsIgnoreCase | StringNotEqualsIgnoreCase => policy.eq_ignore_ascii_case(request),
            StringLike | StringNotLike => wildcard::matches(policy, request),
            ArnEquals | ArnNotEquals | ArnLike | ArnNotLike => wildcard::arn_matches(policy, request),
            Bool => policy.eq_ignore_ascii_case(request),
            NumericEquals | NumericNotEquals => compare_numbers(policy, request, |o| o.is_eq()),
            NumericLessThan => compare_numbers(policy, request, |o| o.is_lt()),
            NumericLessThanEquals => compare_numbers(policy, request, |o| o.is_le()),
            NumericGreaterThan => compare_numbers(policy, request, |o| o.is_gt()),
            NumericGreaterThanEquals => compare_numbers(policy, request, |o| o.is_ge()),
            DateEquals | DateNotEquals => compare_dates(policy, request, |o| o.is_eq()),
            DateLessThan => compare_dates(policy, request, |o| o.is_lt()),
            DateLessThanEquals => compare_dates(policy, request, |o| o.is_le()),
            DateGreaterThan => compare_dates(policy, request, |o| o.is_gt()),
            DateGreaterThanEquals => compare_dates(policy, request, |o| o.is_ge()),
            IpAddress | NotIpAddress => in_cidr(policy, request),
            Null => false,
        }
    }
}

/// `request OP policy`: the request's value is on the left, as AWS reads it
/// (`NumericLessThan {"s3:max-keys": "10"}` holds for 5).
fn compare_numbers(policy: &str, request: &str, holds: impl Fn(std::cmp::Ordering) -> bool) -> bool {
    match (request.parse::<f64>(), policy.parse::<f64>()) {
        (Ok(r), Ok(p)) => r.partial_cmp(&p).is_some_and(holds),
        _ => false,
    }
}

fn date(s: &str) -> Option<i64> {
    if let Ok(epoch) = s.parse::<i64>() {
        return Some(epoch);
    }
    chrono::DateTime::parse_from_rfc3339(s).ok().map(|d| d.timestamp()).or_else(|| {
        chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .map(|d| d.and_time(Default::default()).and_utc().timestamp())
    })
}

fn compare_dates(policy: &str, request: &str, holds: impl Fn(std::cmp::Ordering) -> bool) -> bool {
    match (date(request), date(policy)) {
        (Some(r), Some(p)) => holds(r.cmp(&p)),
        _ => false,
    }
}

fn in_cidr(policy: &str, request: &str) -> bool {
    let Ok(ip) = request.parse::<IpAddr>() else { return false };
    let (net, bits) = match policy.split_once('/') {
        Some((n, b)) => (n, b.parse::<u32>().ok()),
        None => (policy, None),
    };
    match (net.parse::<IpAddr>(), ip) {
        (Ok(IpAddr::V4(n)), IpAddr::V4(i)) => {
            let bits = bits.unwrap_or(32).min(32);
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
            u32::from(n) & mask == u32::from(i) & mask
        }
        (Ok(IpAddr::V6(n)), IpAddr::V6(i)) => {
            let bits = bits.unwrap_or(128).min(128);
            let mask = if bits == 0 { 0 } else { u128::MAX << (128 - bits) };
            u128::from(n) & mask == u128::from(i) & mask
        }
        _ => false,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetQualifier {
    None,
    ForAnyValue,
    ForAllValues,
}

/// One operator applied to one key with its policy values.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    operator: String,
    base: BaseOp,
    pub key: String,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct BaseOp {
    base: Base,
    if_exists: bool,
    set: SetQualifier,
}

/// Why a `Condition` block does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConditionParseError {
    #[error("Invalid Condition type : {0}")]
    UnknownOperator(String),
    #[error("Syntax errors in policy.")]
    Syntax,
}

fn value_strings(value: &Value) -> Result<Vec<String>, ConditionParseError> {
    let one = |v: &Value| match v {
        Value::String(s) => Ok(s.clone()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(ConditionParseError::Syntax),
    };
    match value {
        Value::Array(list) => list.iter().map(one).collect(),
        other => Ok(vec![one(other)?]),
    }
}

impl Condition {
    /// Parses a `Condition` block (`{"Operator": {"key": value(s)}}`).
    pub fn parse_block(block: &serde_json::Map<String, Value>) -> Result<Vec<Self>, ConditionParseError> {
        let mut out = Vec::new();
        for (operator, keys) in block {
            let (set, rest) = if let Some(r) = operator.strip_prefix("ForAnyValue:") {
                (SetQualifier::ForAnyValue, r)
            } else if let Some(r) = operator.strip_prefix("ForAllValues:") {
                (SetQualifier::ForAllValues, r)
            } else {
                (SetQualifier::None, operator.as_str())
            };
            let (if_exists, rest) = match rest.strip_suffix("IfExists") {
                Some(r) if r != "Null" => (true, r),
                _ => (false, rest),
            };
            let base = Base::parse(rest).ok_or_else(|| ConditionParseError::UnknownOperator(operator.clone()))?;
            let keys = keys.as_object().ok_or(ConditionParseError::Syntax)?;
            for (key, values) in keys {
                out.push(Self {
                    operator: operator.clone(),
                    base: BaseOp { base, if_exists, set },
                    key: key.clone(),
                    values: value_strings(values)?,
                });
            }
        }
        Ok(out)
    }

    /// Whether the condition holds for a request.
    pub fn holds(&self, context: &ConditionContext) -> bool {
        let BaseOp { base, if_exists, set } = self.base;
        let request = context.get(&self.key);
        if base == Base::Null {
            let absent = request.is_none_or(<[String]>::is_empty);
            return self.values.iter().any(|v| v.eq_ignore_ascii_case(&absent.to_string()));
        }
        let Some(request) = request.filter(|r| !r.is_empty()) else {
            // A missing key: IfExists and ForAllValues hold, the rest do not
            // (negated operators included, as AWS evaluates them).
            return if_exists || set == SetQualifier::ForAllValues;
        };
        let value_matches = |r: &String| self.values.iter().any(|p| base.matches(p, r));
        let negate = base.negated();
        match set {
            SetQualifier::None | SetQualifier::ForAnyValue => {
                let any = request.iter().any(value_matches);
                if negate { !any } else { any }
            }
            SetQualifier::ForAllValues => {
                if negate {
                    request.iter().all(|r| !value_matches(r))
                } else {
                    request.iter().all(value_matches)
                }
            }
        }
    }

    /// The operator as written (`StringLikeIfExists`).
    pub fn operator(&self) -> &str {
        &self.operator
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(json: &str) -> Vec<Condition> {
        let v: Value = serde_json::from_str(json).unwrap();
        Condition::parse_block(v.as_object().unwrap()).unwrap()
    }

    fn holds(json: &str, context: &ConditionContext) -> bool {
        cond(json).iter().all(|c| c.holds(context))
    }

    #[test]
    fn operators_hold_as_aws_documents() {
        let mut cx = ConditionContext::default();
        cx.set("aws:SourceArn", "arn:aws:s3:::my-bucket");
        cx.set("aws:SourceAccount", "123456789012");
        cx.set("aws:SecureTransport", "false");
        cx.set("s3:max-keys", "5");
        cx.set("aws:CurrentTime", "2026-12-06T12:00:00Z");
        cx.set("aws:SourceIp", "10.1.2.3");
        cx.set_many("aws:TagKeys", vec!["a".into(), "b".into()]);
        let cases = [
            (r#"{"StringEquals":{"aws:sourceaccount":"123456789012"}}"#, true),
            (r#"{"StringEquals":{"aws:SourceAccount":["1","123456789012"]}}"#, true),
            (r#"{"StringNotEquals":{"aws:SourceAccount":"123456789012"}}"#, false),
            (r#"{"StringLike":{"aws:SourceArn":"arn:aws:s3:::my-*"}}"#, true),
            (r#"{"ArnLike":{"aws:SourceArn":"arn:aws:s3:::other*"}}"#, false),
            (r#"{"ArnEquals":{"aws:SourceArn":"arn:aws:s3:::my-bucket"}}"#, true),
            (r#"{"Bool":{"aws:SecureTransport":false}}"#, true),
            (r#"{"Bool":{"aws:SecureTransport":"true"}}"#, false),
            (r#"{"NumericLessThan":{"s3:max-keys":"10"}}"#, true),
            (r#"{"NumericGreaterThan":{"s3:max-keys":10}}"#, false),
            (r#"{"DateLessThan":{"aws:CurrentTime":"2027-01-01T00:00:00Z"}}"#, true),
            (r#"{"DateGreaterThan":{"aws:CurrentTime":"2027-01-01"}}"#, false),
            (r#"{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#, true),
            (r#"{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#, false),
            (r#"{"Null":{"aws:MissingKey":"true"}}"#, true),
            (r#"{"Null":{"aws:SourceArn":"true"}}"#, false),
            (r#"{"StringEquals":{"aws:MissingKey":"x"}}"#, false),
            (r#"{"StringNotEquals":{"aws:MissingKey":"x"}}"#, false),
            (r#"{"StringEqualsIfExists":{"aws:MissingKey":"x"}}"#, true),
            (r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["a","b","c"]}}"#, true),
            (r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["a"]}}"#, false),
            (r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":["b"]}}"#, true),
            // Every operator and every key must hold.
            (r#"{"StringEquals":{"aws:SourceAccount":"123456789012"},"Bool":{"aws:SecureTransport":"true"}}"#, false),
        ];
        for (json, expected) in cases {
            assert_eq!(holds(json, &cx), expected, "{json}");
        }
    }

    #[test]
    fn unknown_operators_are_refused() {
        let v: Value = serde_json::from_str(r#"{"StringSoundsLike":{"a":"b"}}"#).unwrap();
        assert_eq!(
            Condition::parse_block(v.as_object().unwrap()),
            Err(ConditionParseError::UnknownOperator("StringSoundsLike".into()))
        );
    }
}
