//! Function names and the forms a function may be identified by.
//!
//! AWS accepts, wherever a function is named: the bare name (`my-function`),
//! a partial ARN (`123456789012:function:my-function`), a full ARN
//! (`arn:aws:lambda:us-west-2:123456789012:function:my-function`), each
//! optionally followed by `:QUALIFIER` (a version or an alias).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::arn::{AccountId, Region, is_account, is_region};
use crate::limits::{FUNCTION_IDENTIFIER_MAX, FUNCTION_NAME_MAX};
use crate::validation::ValidationError;

/// The regular expression AWS reports for a function identifier.
pub const FUNCTION_IDENTIFIER_PATTERN: &str = "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?";

/// A bare function name: 1 to 64 of `[a-zA-Z0-9-_]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FunctionName(String);

impl FunctionName {
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        if s.is_empty() {
            return Err(ValidationError::min_length(s, "functionName", 1));
        }
        if !s.bytes().all(is_name_byte) {
            return Err(ValidationError::pattern(s, "functionName", FUNCTION_IDENTIFIER_PATTERN));
        }
        if s.len() > FUNCTION_NAME_MAX {
            return Err(ValidationError::max_length(s, "functionName", FUNCTION_NAME_MAX));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for FunctionName {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<FunctionName> for String {
    fn from(n: FunctionName) -> String {
        n.0
    }
}

impl fmt::Display for FunctionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// A version (`$LATEST`, `1`, `2`, …) or an alias name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Qualifier(String);

impl Qualifier {
    pub const LATEST: &'static str = "$LATEST";

    pub fn parse(s: &str, field: &str) -> Result<Self, ValidationError> {
        let ok = s == Self::LATEST || (!s.is_empty() && s.bytes().all(is_name_byte));
        if !ok {
            return Err(ValidationError::pattern(s, field, "(|[a-zA-Z0-9$_-]+)"));
        }
        if s.len() > 128 {
            return Err(ValidationError::max_length(s, field, 128));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn latest() -> Self {
        Self(Self::LATEST.to_owned())
    }

    pub fn is_latest(&self) -> bool {
        self.0 == Self::LATEST
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Qualifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A function as a request names it: the name and whatever else the form carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionRef {
    pub name: FunctionName,
    pub region: Option<Region>,
    pub account: Option<AccountId>,
    pub qualifier: Option<Qualifier>,
}

impl FunctionRef {
    /// Parses any identifier form AWS accepts. `field` names the member in
    /// errors (`functionName`, `resource`).
    pub fn parse(s: &str, field: &str) -> Result<Self, ValidationError> {
        if s.is_empty() {
            return Err(ValidationError::min_length(s, field, 1));
        }
        let pattern_error = || ValidationError::pattern(s, field, FUNCTION_IDENTIFIER_PATTERN);
        let mut parts: Vec<&str> = s.split(':').collect();
        if parts[0] == "arn" {
            // arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]
            if parts.len() < 7 || !parts[1].starts_with("aws") || parts[2] != "lambda" {
                return Err(pattern_error());
            }
            parts.drain(..3);
            if !is_region(parts[0]) || !is_account(parts[1]) || parts[2] != "function" {
                return Err(pattern_error());
            }
        }
        let mut region = None;
        let mut account = None;
        let mut rest = parts.as_slice();
        if rest.len() > 1 && is_region(rest[0]) {
            region = Region::parse(rest[0]);
            rest = &rest[1..];
        }
        if rest.len() > 1 && is_account(rest[0]) {
            account = AccountId::parse(rest[0]);
            rest = &rest[1..];
        }
        if rest.len() > 1 && rest[0] == "function" {
            rest = &rest[1..];
        }
        let (name, qualifier) = match rest {
            [name] => (*name, None),
            [name, qualifier] => (*name, Some(*qualifier)),
            _ => return Err(pattern_error()),
        };
        if name.is_empty() || !name.bytes().all(is_name_byte) {
            return Err(pattern_error());
        }
        let qualifier = match qualifier {
            Some(q) if q == Qualifier::LATEST || (!q.is_empty() && q.bytes().all(is_name_byte)) => {
                Some(Qualifier(q.to_owned()))
            }
            Some(_) => return Err(pattern_error()),
            None => None,
        };
        if s.len() > FUNCTION_IDENTIFIER_MAX {
            return Err(ValidationError::max_length(s, field, FUNCTION_IDENTIFIER_MAX));
        }
        if name.len() > FUNCTION_NAME_MAX {
            return Err(ValidationError::max_length(s, field, FUNCTION_NAME_MAX));
        }
        Ok(Self { name: FunctionName(name.to_owned()), region, account, qualifier })
    }
}

/// Why an identifier names a function this server cannot act on for a
/// request served in one account and region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Foreign {
    /// The ARN names another account: AWS answers `AccessDeniedException`
    /// (no resource-based policy lets the caller in).
    Account { account: AccountId },
    /// The ARN names another region: AWS answers `ResourceNotFoundException`,
    /// `Functions from 'us-west-2' are not reachable in this region ('us-east-1')`.
    Region { function_region: Region },
}

impl FunctionRef {
    /// Whether the identifier names another account or region than the
    /// request's (a plain name names none).
    pub fn foreign(&self, account: &AccountId, region: &Region) -> Option<Foreign> {
        if let Some(named) = self.account.as_ref().filter(|a| *a != account) {
            return Some(Foreign::Account { account: named.clone() });
        }
        if let Some(named) = self.region.as_ref().filter(|r| *r != region) {
            return Some(Foreign::Region { function_region: named.clone() });
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foreign_accounts_and_regions() {
        let (ours, here) = (AccountId::parse("000000000000").unwrap(), Region::parse("us-east-1").unwrap());
        let other = |s: &str| FunctionRef::parse(s, "functionName").unwrap().foreign(&ours, &here);
        assert_eq!(other("f"), None);
        assert_eq!(other("arn:aws:lambda:us-east-1:000000000000:function:f:1"), None);
        assert_eq!(other("000000000000:function:f"), None);
        assert_eq!(
            other("arn:aws:lambda:us-east-1:222222222222:function:x"),
            Some(Foreign::Account { account: AccountId::parse("222222222222").unwrap() })
        );
        assert!(matches!(other("222222222222:function:x"), Some(Foreign::Account { .. })));
        // Another account wins over another region, as AWS checks access first.
        assert!(matches!(other("arn:aws:lambda:eu-west-1:222222222222:function:x"), Some(Foreign::Account { .. })));
        assert_eq!(
            other("arn:aws:lambda:eu-west-1:000000000000:function:x"),
            Some(Foreign::Region { function_region: Region::parse("eu-west-1").unwrap() })
        );
        assert!(matches!(other("eu-west-1:000000000000:function:x"), Some(Foreign::Region { .. })));
    }

    #[test]
    fn names() {
        assert!(FunctionName::parse("my-function_1").is_ok());
        assert!(FunctionName::parse(&"a".repeat(64)).is_ok());
        let e = FunctionName::parse(&"a".repeat(65)).unwrap_err();
        assert!(e.to_string().contains("less than or equal to 64"));
        assert!(FunctionName::parse("bad name").is_err());
        assert!(FunctionName::parse("").is_err());
        assert!(FunctionName::parse("a.b").is_err());
    }

    #[test]
    fn every_identifier_form() {
        let r = FunctionRef::parse("f", "functionName").unwrap();
        assert_eq!((r.name.as_str(), r.qualifier), ("f", None));

        let r = FunctionRef::parse("f:$LATEST", "functionName").unwrap();
        assert!(r.qualifier.unwrap().is_latest());

        let r = FunctionRef::parse("123456789012:function:f", "functionName").unwrap();
        assert_eq!(r.account.unwrap().as_str(), "123456789012");
        assert_eq!(r.name.as_str(), "f");

        let r =
            FunctionRef::parse("arn:aws:lambda:us-west-2:123456789012:function:my-fn:prod", "functionName").unwrap();
        assert_eq!(r.region.unwrap().as_str(), "us-west-2");
        assert_eq!(r.name.as_str(), "my-fn");
        assert_eq!(r.qualifier.unwrap().as_str(), "prod");

        let r = FunctionRef::parse("us-west-2:123456789012:function:f", "functionName").unwrap();
        assert_eq!(r.name.as_str(), "f");
    }

    #[test]
    fn malformed_identifiers() {
        for bad in [
            "",
            "arn:aws:lambda:us-west-2:123456789012:layer:x:1",
            "arn:aws:s3:us-west-2:123456789012:function:f",
            "a:b:c",
            "f:",
            "f:bad.q",
            "arn:aws:lambda:nowhere:123456789012:function:f",
        ] {
            assert!(FunctionRef::parse(bad, "functionName").is_err(), "{bad}");
        }
        let long = format!("arn:aws:lambda:us-east-1:123456789012:function:{}", "a".repeat(65));
        let e = FunctionRef::parse(&long, "functionName").unwrap_err();
        assert!(e.constraint.contains("64"), "{e}");
    }
}
