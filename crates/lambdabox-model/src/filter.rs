//! Event filtering (`FilterCriteria` of an event source mapping): AWS's
//! filter-pattern grammar, shared with EventBridge, as Lambda documents it.
//!
//! A pattern is a JSON object whose keys name fields of the event; a key's
//! value is either a nested pattern (an object) or a list of conditions,
//! one of which must hold (OR). All keys must hold (AND). A top-level
//! `"$or": [pattern, …]` holds when one of its patterns does. Conditions:
//! a string, number or `null` (equality); `{"prefix": s}`, `{"suffix": s}`
//! (each also with `{"equals-ignore-case": s}` inside); `{"equals-ignore-case": s}`;
//! `{"anything-but": value | [values] | {"prefix": s} | {"suffix": s} | {"equals-ignore-case": s|[s]}}`;
//! `{"numeric": [op, n (, op, n)]}` with `=`, `<`, `<=`, `>`, `>=`;
//! `{"exists": bool}`. An event field that is a list holds when any of its
//! elements does. A key absent from the event holds only under
//! `{"exists": false}`.

use serde_json::{Map, Value};

/// Why a pattern is refused (AWS: `InvalidParameterValueException`,
/// "Invalid filter pattern definition.").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid filter pattern definition.")]
pub struct InvalidPattern {
    /// What exactly is wrong, for the server's log.
    pub detail: String,
}

fn invalid(detail: impl Into<String>) -> InvalidPattern {
    InvalidPattern { detail: detail.into() }
}

/// A parsed, checked pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    root: Node,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    /// Every field's matcher must hold; `or` alternatives, if any, too.
    Object { fields: Vec<(String, Field)>, or: Vec<Node> },
}

#[derive(Debug, Clone, PartialEq)]
enum Field {
    Nested(Node),
    AnyOf(Vec<Condition>),
}

#[derive(Debug, Clone, PartialEq)]
enum Text {
    Exact(String),
    IgnoreCase(String),
}

impl Text {
    fn parse(v: &Value, what: &str) -> Result<Self, InvalidPattern> {
        match v {
            Value::String(s) => Ok(Self::Exact(s.clone())),
            Value::Object(m) if m.len() == 1 => match m.get("equals-ignore-case") {
                Some(Value::String(s)) => Ok(Self::IgnoreCase(s.to_lowercase())),
                _ => Err(invalid(format!("{what} takes a string or equals-ignore-case"))),
            },
            _ => Err(invalid(format!("{what} takes a string"))),
        }
    }

    fn prefix_of(&self, s: &str) -> bool {
        match self {
            Self::Exact(p) => s.starts_with(p.as_str()),
            Self::IgnoreCase(p) => s.to_lowercase().starts_with(p.as_str()),
        }
    }

    fn suffix_of(&self, s: &str) -> bool {
        match self {
            Self::Exact(p) => s.ends_with(p.as_str()),
            Self::IgnoreCase(p) => s.to_lowercase().ends_with(p.as_str()),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Condition {
    Equals(Value),
    EqualsIgnoreCase(String),
    Prefix(Text),
    Suffix(Text),
    AnythingBut(Box<Condition>),
    AnythingButOf(Vec<Value>),
    Numeric(Vec<(NumOp, f64)>),
    Exists(bool),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum NumOp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl NumOp {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "=" => Self::Eq,
            "<" => Self::Lt,
            "<=" => Self::Le,
            ">" => Self::Gt,
            ">=" => Self::Ge,
            _ => return None,
        })
    }

    fn holds(self, x: f64, n: f64) -> bool {
        match self {
            Self::Eq => x == n,
            Self::Lt => x < n,
            Self::Le => x <= n,
            Self::Gt => x > n,
            Self::Ge => x >= n,
        }
    }
}

/// The longest pattern AWS accepts, in characters.
pub const MAX_PATTERN_LENGTH: usize = 4096;

impl Pattern {
    /// Parses a pattern as `FilterCriteria.Filters[].Pattern` carries it (a JSON string).
    pub fn parse(text: &str) -> Result<Self, InvalidPattern> {
        if text.chars().count() > MAX_PATTERN_LENGTH {
            return Err(invalid("longer than 4096 characters"));
        }
        let value: Value = serde_json::from_str(text).map_err(|e| invalid(format!("not JSON: {e}")))?;
        match value {
            Value::Object(m) => Ok(Self { root: node(&m)? }),
            _ => Err(invalid("a pattern is a JSON object")),
        }
    }

    /// Whether the event holds the pattern.
    pub fn matches(&self, event: &Value) -> bool {
        node_matches(&self.root, event)
    }
}

fn node(m: &Map<String, Value>) -> Result<Node, InvalidPattern> {
    let mut fields = Vec::new();
    let mut or = Vec::new();
    for (key, v) in m {
        if key == "$or" {
            let Value::Array(alternatives) = v else { return Err(invalid("$or takes a list of patterns")) };
            if alternatives.len() < 2 {
                return Err(invalid("$or takes at least two patterns"));
            }
            for a in alternatives {
                let Value::Object(a) = a else { return Err(invalid("$or takes a list of patterns")) };
                or.push(node(a)?);
            }
            continue;
        }
        let field = match v {
            Value::Object(inner) => Field::Nested(node(inner)?),
            Value::Array(conditions) => {
                if conditions.is_empty() {
                    return Err(invalid(format!("{key}: an empty list matches nothing")));
                }
                Field::AnyOf(conditions.iter().map(condition).collect::<Result<_, _>>()?)
            }
            _ => return Err(invalid(format!("{key}: match values must be in a list"))),
        };
        fields.push((key.clone(), field));
    }
    if fields.is_empty() && or.is_empty() {
        return Err(invalid("an empty pattern"));
    }
    Ok(Node::Object { fields, or })
}

fn condition(v: &Value) -> Result<Condition, InvalidPattern> {
    match v {
        Value::String(_) | Value::Number(_) | Value::Null | Value::Bool(_) => Ok(Condition::Equals(v.clone())),
        Value::Array(_) => Err(invalid("a list inside a list")),
        Value::Object(m) => {
            if m.len() != 1 {
                return Err(invalid("a condition has one operator"));
            }
            let (op, arg) = m.iter().next().expect("one entry");
            match op.as_str() {
                "prefix" => Ok(Condition::Prefix(Text::parse(arg, "prefix")?)),
                "suffix" => Ok(Condition::Suffix(Text::parse(arg, "suffix")?)),
                "equals-ignore-case" => match arg {
                    Value::String(s) => Ok(Condition::EqualsIgnoreCase(s.to_lowercase())),
                    _ => Err(invalid("equals-ignore-case takes a string")),
                },
                "exists" => match arg {
                    Value::Bool(b) => Ok(Condition::Exists(*b)),
                    _ => Err(invalid("exists takes true or false")),
                },
                "numeric" => numeric(arg),
                "anything-but" => match arg {
                    Value::String(_) | Value::Number(_) => Ok(Condition::AnythingButOf(vec![arg.clone()])),
                    Value::Array(values) => {
                        if values.is_empty() || values.iter().any(|x| !(x.is_string() || x.is_number())) {
                            return Err(invalid("anything-but takes strings or numbers"));
                        }
                        Ok(Condition::AnythingButOf(values.clone()))
                    }
                    Value::Object(inner) if inner.len() == 1 => {
                        let (iop, iarg) = inner.iter().next().expect("one entry");
                        let c = match (iop.as_str(), iarg) {
                            ("prefix", Value::String(s)) => Condition::Prefix(Text::Exact(s.clone())),
                            ("suffix", Value::String(s)) => Condition::Suffix(Text::Exact(s.clone())),
                            ("equals-ignore-case", Value::String(s)) => Condition::EqualsIgnoreCase(s.to_lowercase()),
                            ("equals-ignore-case", Value::Array(list))
                                if !list.is_empty() && list.iter().all(Value::is_string) =>
                            {
                                return Ok(ignore_case_any_of(list));
                            }
                            _ => return Err(invalid("anything-but takes prefix, suffix or equals-ignore-case")),
                        };
                        Ok(Condition::AnythingBut(Box::new(c)))
                    }
                    _ => Err(invalid("anything-but takes a value, a list or one operator")),
                },
                other => Err(invalid(format!("unknown operator {other}"))),
            }
        }
    }
}

/// `anything-but: {equals-ignore-case: [..]}`: none of the strings, in any case.
fn ignore_case_any_of(list: &[Value]) -> Condition {
    let lowered = list.iter().filter_map(Value::as_str).map(|s| Value::String(s.to_lowercase())).collect();
    Condition::AnythingBut(Box::new(Condition::AnythingButOf(lowered)))
}

fn numeric(arg: &Value) -> Result<Condition, InvalidPattern> {
    let Value::Array(items) = arg else { return Err(invalid("numeric takes a list")) };
    if items.is_empty() || items.len() % 2 != 0 || items.len() > 4 {
        return Err(invalid("numeric takes one or two comparisons"));
    }
    let mut out = Vec::new();
    for pair in items.chunks(2) {
        let op = pair[0].as_str().and_then(NumOp::parse).ok_or_else(|| invalid("numeric: unknown comparison"))?;
        let n = pair[1].as_f64().ok_or_else(|| invalid("numeric compares with numbers"))?;
        out.push((op, n));
    }
    if out.len() == 2 {
        let lower = matches!(out[0].0, NumOp::Gt | NumOp::Ge);
        let upper = matches!(out[1].0, NumOp::Lt | NumOp::Le);
        if !(lower && upper && out[0].1 <= out[1].1) {
            return Err(invalid("numeric: a range is a lower bound then an upper bound"));
        }
    }
    Ok(Condition::Numeric(out))
}

fn node_matches(node: &Node, event: &Value) -> bool {
    let Node::Object { fields, or } = node;
    let object = event.as_object();
    let all = fields.iter().all(|(key, field)| {
        let value = object.and_then(|o| o.get(key));
        match field {
            Field::Nested(inner) => match value {
                Some(Value::Array(items)) => items.iter().any(|v| node_matches(inner, v)),
                Some(v) => node_matches(inner, v),
                None => nested_absent(inner),
            },
            Field::AnyOf(conditions) => conditions.iter().any(|c| holds(c, value)),
        }
    });
    all && (or.is_empty() || or.iter().any(|alt| node_matches(alt, event)))
}

/// A nested pattern over an absent object holds only if every leaf asks
/// for absence.
fn nested_absent(node: &Node) -> bool {
    let Node::Object { fields, or } = node;
    fields.iter().all(|(_, f)| match f {
        Field::Nested(n) => nested_absent(n),
        Field::AnyOf(cs) => cs.iter().any(|c| matches!(c, Condition::Exists(false))),
    }) && (or.is_empty() || or.iter().any(nested_absent))
}

fn holds(condition: &Condition, value: Option<&Value>) -> bool {
    match (condition, value) {
        (Condition::Exists(want), v) => {
            let present = matches!(v, Some(x) if !x.is_object() && !matches!(x, Value::Array(a) if a.is_empty()));
            present == *want
        }
        (_, None) => false,
        (c, Some(Value::Array(items))) => items.iter().any(|v| scalar_holds(c, v)),
        (c, Some(v)) => scalar_holds(c, v),
    }
}

fn scalar_holds(condition: &Condition, v: &Value) -> bool {
    match condition {
        Condition::Equals(expected) => match (expected, v) {
            (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
            (a, b) => a == b,
        },
        Condition::EqualsIgnoreCase(s) => v.as_str().is_some_and(|x| x.to_lowercase() == *s),
        Condition::Prefix(t) => v.as_str().is_some_and(|x| t.prefix_of(x)),
        Condition::Suffix(t) => v.as_str().is_some_and(|x| t.suffix_of(x)),
        Condition::AnythingBut(inner) => {
            if v.is_null() {
                return false;
            }
            match inner.as_ref() {
                Condition::AnythingButOf(list) => {
                    let lowered = v.as_str().map(|s| Value::String(s.to_lowercase()));
                    !list.iter().any(|x| Some(x) == lowered.as_ref())
                }
                c => v.is_string() && !scalar_holds(c, v),
            }
        }
        Condition::AnythingButOf(list) => {
            !v.is_null()
                && !list.iter().any(|x| match (x, v) {
                    (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
                    (a, b) => a == b,
                })
        }
        Condition::Numeric(checks) => v.as_f64().is_some_and(|x| checks.iter().all(|(op, n)| op.holds(x, *n))),
        Condition::Exists(want) => *want,
    }
}

/// The view of an SQS message that patterns are matched against: the
/// record Lambda would send, with `body` parsed when it is a JSON object.
pub fn sqs_view(record: &Value) -> Value {
    let mut view = record.clone();
    if let Some(body) = record.get("body").and_then(Value::as_str)
        && let Ok(parsed @ Value::Object(_)) = serde_json::from_str::<Value>(body)
    {
        view["body"] = parsed;
    }
    view
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn m(pattern: &str, event: Value) -> bool {
        Pattern::parse(pattern).unwrap().matches(&event)
    }

    #[test]
    fn equality_and_nesting() {
        assert!(m(r#"{"body":{"kind":["a","b"]}}"#, json!({"body":{"kind":"b"}})));
        assert!(!m(r#"{"body":{"kind":["a"]}}"#, json!({"body":{"kind":"c"}})));
        assert!(!m(r#"{"body":{"kind":["a"]}}"#, json!({"body":{}})));
        assert!(m(r#"{"n":[5]}"#, json!({"n":5.0})));
        assert!(m(r#"{"x":[null]}"#, json!({"x":null})));
        assert!(m(r#"{"x":[""]}"#, json!({"x":""})));
        assert!(m(r#"{"tags":["red"]}"#, json!({"tags":["blue","red"]})), "any element of a list");
        assert!(!m(r#"{"a":["1"],"b":["2"]}"#, json!({"a":"1","b":"3"})), "every key must hold");
    }

    #[test]
    fn operators() {
        assert!(m(r#"{"k":[{"prefix":"img/"}]}"#, json!({"k":"img/a.png"})));
        assert!(m(r#"{"k":[{"suffix":".png"}]}"#, json!({"k":"img/a.png"})));
        assert!(m(r#"{"k":[{"prefix":{"equals-ignore-case":"IMG"}}]}"#, json!({"k":"img/a"})));
        assert!(m(r#"{"k":[{"equals-ignore-case":"ABC"}]}"#, json!({"k":"aBc"})));
        assert!(m(r#"{"k":[{"anything-but":["a","b"]}]}"#, json!({"k":"c"})));
        assert!(!m(r#"{"k":[{"anything-but":["a","b"]}]}"#, json!({"k":"a"})));
        assert!(!m(r#"{"k":[{"anything-but":{"prefix":"x"}}]}"#, json!({"k":"xy"})));
        assert!(m(r#"{"k":[{"anything-but":{"prefix":"x"}}]}"#, json!({"k":"yx"})));
        assert!(!m(r#"{"k":[{"anything-but":{"equals-ignore-case":["A"]}}]}"#, json!({"k":"a"})));
        assert!(m(r#"{"n":[{"numeric":[">",0,"<=",5]}]}"#, json!({"n":5})));
        assert!(!m(r#"{"n":[{"numeric":[">",0,"<=",5]}]}"#, json!({"n":0})));
        assert!(m(r#"{"n":[{"numeric":["=",3]}]}"#, json!({"n":3})));
        assert!(m(r#"{"k":[{"exists":true}]}"#, json!({"k":"v"})));
        assert!(!m(r#"{"k":[{"exists":true}]}"#, json!({})));
        assert!(m(r#"{"k":[{"exists":false}]}"#, json!({})));
        assert!(m(r#"{"a":{"b":[{"exists":false}]}}"#, json!({})));
    }

    #[test]
    fn or_alternatives() {
        let p = r#"{"$or":[{"a":["1"]},{"b":["2"]}]}"#;
        assert!(m(p, json!({"a":"1"})));
        assert!(m(p, json!({"b":"2"})));
        assert!(!m(p, json!({"a":"2"})));
    }

    #[test]
    fn malformed_patterns_are_refused() {
        for bad in [
            "not json",
            "[1]",
            "{}",
            r#"{"a":"b"}"#,
            r#"{"a":[]}"#,
            r#"{"a":[{"nope":1}]}"#,
            r#"{"a":[{"numeric":["<",5,">",1]}]}"#,
            r#"{"a":[{"numeric":["~",5]}]}"#,
            r#"{"a":[{"prefix":5}]}"#,
            r#"{"$or":[{"a":["1"]}]}"#,
        ] {
            assert!(Pattern::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Pattern::parse("[]").unwrap_err().to_string(), "Invalid filter pattern definition.");
        assert!(Pattern::parse(&format!(r#"{{"a":["{}"]}}"#, "x".repeat(5000))).is_err());
    }

    #[test]
    fn sqs_bodies_are_parsed_when_json() {
        let record = json!({"messageId":"1","body":"{\"kind\":\"order\"}"});
        assert!(m(r#"{"body":{"kind":["order"]}}"#, sqs_view(&record)));
        let plain = json!({"messageId":"1","body":"hello"});
        assert!(m(r#"{"body":["hello"]}"#, sqs_view(&plain)));
    }
}
