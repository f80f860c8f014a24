//! AWS's constraint-failure error (`ValidationException`), with its exact text.

use std::fmt;

/// One failed constraint, rendered as AWS renders it:
/// `1 validation error detected: Value 'x' at 'field' failed to satisfy constraint: ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    /// The offending value as AWS quotes it (`null` for a missing value).
    pub value: String,
    /// The member path in lower camel case, as AWS names it (`functionName`, `timeout`).
    pub field: String,
    /// The constraint, e.g. `Member must have value less than or equal to 900`.
    pub constraint: String,
}

impl ValidationError {
    pub fn new(value: impl Into<String>, field: impl Into<String>, constraint: impl Into<String>) -> Self {
        Self { value: value.into(), field: field.into(), constraint: constraint.into() }
    }

    pub fn max_length(value: &str, field: &str, max: usize) -> Self {
        Self::new(value, field, format!("Member must have length less than or equal to {max}"))
    }

    pub fn min_length(value: &str, field: &str, min: usize) -> Self {
        Self::new(value, field, format!("Member must have length greater than or equal to {min}"))
    }

    pub fn max_value(value: i64, field: &str, max: i64) -> Self {
        Self::new(value.to_string(), field, format!("Member must have value less than or equal to {max}"))
    }

    pub fn min_value(value: i64, field: &str, min: i64) -> Self {
        Self::new(value.to_string(), field, format!("Member must have value greater than or equal to {min}"))
    }

    pub fn pattern(value: &str, field: &str, pattern: &str) -> Self {
        Self::new(value, field, format!("Member must satisfy regular expression pattern: {pattern}"))
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "1 validation error detected: Value '{}' at '{}' failed to satisfy constraint: {}",
            self.value, self.field, self.constraint
        )
    }
}

impl std::error::Error for ValidationError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_aws() {
        let e = ValidationError::max_value(3000, "timeout", 900);
        assert_eq!(
            e.to_string(),
            "1 validation error detected: Value '3000' at 'timeout' failed to satisfy constraint: Member must have value less than or equal to 900"
        );
    }
}
