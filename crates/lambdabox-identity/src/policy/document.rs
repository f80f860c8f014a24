//! A policy document as IAM reads it: `Version`, `Id` and `Statement`
//! (one or a list), each statement's `Sid`, `Effect`, `Principal` or
//! `NotPrincipal`, `Action` or `NotAction`, `Resource` or `NotResource`,
//! and `Condition`. What IAM refuses is refused at parse time with IAM's
//! `MalformedPolicyDocument` messages, so a stored policy always evaluates.

use serde_json::Value;

use super::condition::{Condition, ConditionParseError};

/// Which kind of policy a document is: each allows different elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    /// Attached to a user or role: no `Principal`; `Resource` required.
    Identity,
    /// Attached to a resource (a function's, a bucket's): `Principal` required.
    Resource,
    /// A role's trust policy: `Principal` required, no `Resource`.
    Trust,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// `Action`/`Resource` (a list to match) or `NotAction`/`NotResource` (a
/// list that must not match).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matcher {
    Is(Vec<String>),
    Not(Vec<String>),
}

/// The principals a resource or trust policy statement names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Principals {
    /// `"*"` or `{"AWS": "*"}`: everyone.
    pub anyone: bool,
    /// Accounts (`123456789012`, `arn:aws:iam::123456789012:root`), users,
    /// roles and role sessions.
    pub aws: Vec<String>,
    /// Service principals (`lambda.amazonaws.com`).
    pub service: Vec<String>,
    /// Federated principals (kept; nothing here signs in through them).
    pub federated: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalMatcher {
    Is(Principals),
    Not(Principals),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    pub principal: Option<PrincipalMatcher>,
    pub action: Matcher,
    pub resource: Option<Matcher>,
    pub conditions: Vec<Condition>,
}

/// A parsed policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyDocument {
    pub version: Option<String>,
    pub statements: Vec<Statement>,
}

/// Why IAM refuses a document (`MalformedPolicyDocument`); the message is
/// IAM's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("This policy contains invalid Json")]
    InvalidJson,
    #[error("Syntax errors in policy.")]
    Syntax,
    #[error("The policy failed legacy parsing")]
    Version,
    #[error("Policy document should not specify a principal.")]
    PrincipalInIdentityPolicy,
    #[error("Missing required field Principal")]
    MissingPrincipal,
    #[error("Policy statement must contain actions.")]
    MissingAction,
    #[error("Policy statement must contain resources.")]
    MissingResource,
    #[error("Has prohibited field Resource")]
    ResourceInTrustPolicy,
    #[error("Invalid principal in policy: {0}")]
    InvalidPrincipal(String),
    #[error("Invalid Effect: {0}")]
    InvalidEffect(String),
    #[error("{0}")]
    Condition(#[from] ConditionParseError),
    #[error("Statement IDs (SID) in a single policy must be unique")]
    DuplicateSid,
}

impl PolicyDocument {
    /// Parses and checks a document of `kind`.
    pub fn parse(text: &str, kind: PolicyKind) -> Result<Self, PolicyError> {
        let value: Value = serde_json::from_str(text).map_err(|_| PolicyError::InvalidJson)?;
        Self::from_value(&value, kind)
    }

    pub fn from_value(value: &Value, kind: PolicyKind) -> Result<Self, PolicyError> {
        let object = value.as_object().ok_or(PolicyError::Syntax)?;
        for key in object.keys() {
            if !matches!(key.as_str(), "Version" | "Id" | "Statement") {
                return Err(PolicyError::Syntax);
            }
        }
        let version = match object.get("Version") {
            None => None,
            Some(Value::String(v)) if v == "2012-10-17" || v == "2008-10-17" => Some(v.clone()),
            Some(_) => return Err(PolicyError::Version),
        };
        let statements = match object.get("Statement") {
            Some(Value::Array(list)) => list.iter().map(|s| statement(s, kind)).collect::<Result<Vec<_>, _>>()?,
            Some(one @ Value::Object(_)) => vec![statement(one, kind)?],
            _ => return Err(PolicyError::Syntax),
        };
        let mut sids: Vec<&str> = statements.iter().filter_map(|s| s.sid.as_deref()).collect();
        let count = sids.len();
        sids.sort_unstable();
        sids.dedup();
        if sids.len() != count {
            return Err(PolicyError::DuplicateSid);
        }
        Ok(Self { version, statements })
    }
}

fn strings(value: &Value) -> Result<Vec<String>, PolicyError> {
    match value {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(list) if !list.is_empty() => {
            list.iter().map(|v| v.as_str().map(str::to_owned).ok_or(PolicyError::Syntax)).collect()
        }
        _ => Err(PolicyError::Syntax),
    }
}

fn matcher(object: &serde_json::Map<String, Value>, is: &str, not: &str) -> Result<Option<Matcher>, PolicyError> {
    match (object.get(is), object.get(not)) {
        (Some(_), Some(_)) => Err(PolicyError::Syntax),
        (Some(v), None) => Ok(Some(Matcher::Is(strings(v)?))),
        (None, Some(v)) => Ok(Some(Matcher::Not(strings(v)?))),
        (None, None) => Ok(None),
    }
}

fn principals(value: &Value) -> Result<Principals, PolicyError> {
    let mut out = Principals::default();
    match value {
        Value::String(s) if s == "*" => out.anyone = true,
        Value::Object(map) => {
            for (kind, v) in map {
                let list = strings(v)?;
                match kind.as_str() {
                    "AWS" => {
                        for p in list {
                            if p == "*" {
                                out.anyone = true;
                            } else if is_aws_principal(&p) {
                                out.aws.push(p);
                            } else {
                                return Err(PolicyError::InvalidPrincipal(format!("\"AWS\" : \"{p}\"")));
                            }
                        }
                    }
                    "Service" => out.service.extend(list),
                    "Federated" => out.federated.extend(list),
                    "CanonicalUser" => {}
                    _ => return Err(PolicyError::Syntax),
                }
            }
        }
        _ => return Err(PolicyError::Syntax),
    }
    Ok(out)
}

/// An account id or an IAM/STS ARN.
fn is_aws_principal(p: &str) -> bool {
    (p.len() == 12 && p.bytes().all(|b| b.is_ascii_digit()))
        || p.starts_with("arn:aws:iam::")
        || p.starts_with("arn:aws:sts::")
}

fn statement(value: &Value, kind: PolicyKind) -> Result<Statement, PolicyError> {
    let object = value.as_object().ok_or(PolicyError::Syntax)?;
    for key in object.keys() {
        if !matches!(
            key.as_str(),
            "Sid"
                | "Effect"
                | "Principal"
                | "NotPrincipal"
                | "Action"
                | "NotAction"
                | "Resource"
                | "NotResource"
                | "Condition"
        ) {
            return Err(PolicyError::Syntax);
        }
    }
    let sid = match object.get("Sid") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(PolicyError::Syntax),
    };
    let effect = match object.get("Effect") {
        Some(Value::String(e)) if e == "Allow" => Effect::Allow,
        Some(Value::String(e)) if e == "Deny" => Effect::Deny,
        Some(Value::String(e)) => return Err(PolicyError::InvalidEffect(e.clone())),
        _ => return Err(PolicyError::Syntax),
    };
    let principal = match (object.get("Principal"), object.get("NotPrincipal")) {
        (Some(_), Some(_)) => return Err(PolicyError::Syntax),
        (Some(p), None) => Some(PrincipalMatcher::Is(principals(p)?)),
        (None, Some(p)) => Some(PrincipalMatcher::Not(principals(p)?)),
        (None, None) => None,
    };
    match (kind, &principal) {
        (PolicyKind::Identity, Some(_)) => return Err(PolicyError::PrincipalInIdentityPolicy),
        (PolicyKind::Resource | PolicyKind::Trust, None) => return Err(PolicyError::MissingPrincipal),
        _ => {}
    }
    let action = matcher(object, "Action", "NotAction")?.ok_or(PolicyError::MissingAction)?;
    let resource = matcher(object, "Resource", "NotResource")?;
    match (kind, &resource) {
        (PolicyKind::Identity, None) => return Err(PolicyError::MissingResource),
        (PolicyKind::Trust, Some(_)) => return Err(PolicyError::ResourceInTrustPolicy),
        _ => {}
    }
    let conditions = match object.get("Condition") {
        None => Vec::new(),
        Some(Value::Object(block)) => Condition::parse_block(block)?,
        Some(_) => return Err(PolicyError::Syntax),
    };
    Ok(Statement { sid, effect, principal, action, resource, conditions })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_one_or_many() {
        let one = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}"#;
        let doc = PolicyDocument::parse(one, PolicyKind::Identity).unwrap();
        assert_eq!(doc.statements.len(), 1);
        assert_eq!(doc.statements[0].action, Matcher::Is(vec!["s3:GetObject".into()]));
        let many = r#"{"Statement":[{"Effect":"Deny","NotAction":["s3:*"],"NotResource":"arn:aws:s3:::b/*"},
            {"Sid":"x","Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}"#;
        let doc = PolicyDocument::parse(many, PolicyKind::Identity).unwrap();
        assert_eq!(doc.statements[0].effect, Effect::Deny);
        assert!(matches!(doc.statements[0].resource, Some(Matcher::Not(_))));
        assert_eq!(doc.statements[1].conditions.len(), 1);
    }

    #[test]
    fn iam_refuses_what_it_refuses() {
        let cases = [
            ("not json", PolicyKind::Identity, PolicyError::InvalidJson),
            (r#"{"Statement":[{"Effect":"Allow","Resource":"*"}]}"#, PolicyKind::Identity, PolicyError::MissingAction),
            (r#"{"Statement":[{"Effect":"Allow","Action":"*"}]}"#, PolicyKind::Identity, PolicyError::MissingResource),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#,
                PolicyKind::Identity,
                PolicyError::PrincipalInIdentityPolicy,
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}"#,
                PolicyKind::Trust,
                PolicyError::MissingPrincipal,
            ),
            (
                r#"{"Statement":[{"Effect":"Maybe","Action":"*","Resource":"*"}]}"#,
                PolicyKind::Identity,
                PolicyError::InvalidEffect("Maybe".into()),
            ),
            (r#"{"Version":"2020-01-01","Statement":[]}"#, PolicyKind::Identity, PolicyError::Version),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringSounds":{"a":"b"}}}]}"#,
                PolicyKind::Identity,
                PolicyError::Condition(ConditionParseError::UnknownOperator("StringSounds".into())),
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"alice"},"Action":"*"}]}"#,
                PolicyKind::Trust,
                PolicyError::InvalidPrincipal("\"AWS\" : \"alice\"".into()),
            ),
        ];
        for (text, kind, expected) in cases {
            assert_eq!(PolicyDocument::parse(text, kind), Err(expected), "{text}");
        }
    }

    #[test]
    fn trust_policies_name_principals() {
        let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
            "Principal":{"Service":["lambda.amazonaws.com"],"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#;
        let doc = PolicyDocument::parse(trust, PolicyKind::Trust).unwrap();
        let Some(PrincipalMatcher::Is(p)) = &doc.statements[0].principal else { panic!() };
        assert_eq!(p.service, ["lambda.amazonaws.com"]);
        assert_eq!(p.aws, ["arn:aws:iam::123456789012:root"]);
    }
}
