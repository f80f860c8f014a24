//! Regions, account ids and the ARNs built from them.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An AWS region name such as `us-east-1` (`[a-z]{2}(-gov)?-[a-z]+-\d`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Region(String);

impl Region {
    pub fn parse(s: &str) -> Option<Self> {
        is_region(s).then(|| Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Region {
    fn default() -> Self {
        Self("us-east-1".to_owned())
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A twelve-digit AWS account id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AccountId(String);

impl AccountId {
    pub fn parse(s: &str) -> Option<Self> {
        is_account(s).then(|| Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for AccountId {
    fn default() -> Self {
        Self("000000000000".to_owned())
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `[a-z]{2}((-gov)|(-iso[a-z]?))?-[a-z]+-\d{1}`
pub(crate) fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let lower = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase());
    let (first, middle, last) = match parts.as_slice() {
        [a, b, c] => (*a, vec![*b], *c),
        [a, q, b, c] if *q == "gov" || q.starts_with("iso") => (*a, vec![*b], *c),
        _ => return false,
    };
    first.len() == 2
        && lower(first)
        && middle.iter().all(|m| lower(m))
        && last.len() == 1
        && last.bytes().all(|b| b.is_ascii_digit())
}

pub(crate) fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// `arn:aws:lambda:REGION:ACCOUNT:function:NAME`
pub fn function_arn(region: &Region, account: &AccountId, name: &str) -> String {
    format!("arn:aws:lambda:{region}:{account}:function:{name}")
}

/// `arn:aws:lambda:REGION:ACCOUNT:function:NAME:QUALIFIER`
pub fn qualified_function_arn(region: &Region, account: &AccountId, name: &str, qualifier: &str) -> String {
    format!("arn:aws:lambda:{region}:{account}:function:{name}:{qualifier}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions() {
        for ok in ["us-east-1", "eu-west-3", "us-gov-west-1", "ap-southeast-2"] {
            assert!(is_region(ok), "{ok}");
        }
        for bad in ["us-east", "useast1", "US-east-1", "u-east-1", "us-east-12", ""] {
            assert!(!is_region(bad), "{bad}");
        }
    }

    #[test]
    fn arns() {
        let arn = function_arn(&Region::default(), &AccountId::default(), "f");
        assert_eq!(arn, "arn:aws:lambda:us-east-1:000000000000:function:f");
    }
}
