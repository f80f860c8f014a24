//! Aliases: named pointers to a function version, optionally splitting
//! traffic with a second version by weight.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::validation::ValidationError;

const ALIAS_PATTERN: &str = "(?!^[0-9]+$)([a-zA-Z0-9-_]+)";
const VERSION_PATTERN: &str = "(\\$LATEST|[0-9]+)";

/// An alias as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AliasConfig {
    pub name: String,
    pub function_version: String,
    pub description: String,
    /// Version → share of traffic (0.0 to 1.0) taken from the primary version.
    pub additional_version_weights: BTreeMap<String, f64>,
    pub revision_id: String,
}

/// Validates an alias name: 1–128 of `[a-zA-Z0-9-_]`, not all digits.
pub fn parse_alias_name(s: &str) -> Result<String, ValidationError> {
    if s.is_empty() {
        return Err(ValidationError::min_length(s, "name", 1));
    }
    if s.len() > 128 {
        return Err(ValidationError::max_length(s, "name", 128));
    }
    let chars_ok = s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !chars_ok || s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ValidationError::pattern(s, "name", ALIAS_PATTERN));
    }
    Ok(s.to_owned())
}

/// Validates a version reference: `$LATEST` or a number.
pub fn parse_version(s: &str, field: &str) -> Result<String, ValidationError> {
    let ok = s == "$LATEST" || (!s.is_empty() && s.len() <= 1024 && s.bytes().all(|b| b.is_ascii_digit()));
    if !ok {
        return Err(ValidationError::pattern(s, field, VERSION_PATTERN));
    }
    Ok(s.to_owned())
}

impl AliasConfig {
    /// Picks the version an invocation runs, given a uniform sample in [0, 1).
    pub fn pick_version(&self, sample: f64) -> &str {
        let mut acc = 0.0;
        for (version, weight) in &self.additional_version_weights {
            acc += weight;
            if sample < acc {
                return version;
            }
        }
        &self.function_version
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_versions() {
        assert!(parse_alias_name("prod").is_ok());
        assert!(parse_alias_name("123").is_err());
        assert!(parse_alias_name("a.b").is_err());
        assert!(parse_version("$LATEST", "functionVersion").is_ok());
        assert!(parse_version("12", "functionVersion").is_ok());
        assert!(parse_version("v1", "functionVersion").is_err());
    }

    #[test]
    fn weighted_pick() {
        let alias = AliasConfig {
            name: "live".into(),
            function_version: "1".into(),
            description: String::new(),
            additional_version_weights: [("2".to_string(), 0.25)].into(),
            revision_id: "r".into(),
        };
        assert_eq!(alias.pick_version(0.1), "2");
        assert_eq!(alias.pick_version(0.3), "1");
    }
}
