//! A function's environment variables and AWS's rules for them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::limits::ENVIRONMENT_MAX_BYTES;
use crate::validation::ValidationError;

/// Keys the Lambda runtime sets itself, which a function's configuration may
/// not set (AWS's "Reserved environment variables").
pub const RESERVED_KEYS: &[&str] = &[
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
];

const KEY_PATTERN: &str = "[a-zA-Z]([a-zA-Z0-9_])+";

/// Why a set of variables was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvironmentError {
    #[error(transparent)]
    Validation(#[from] ValidationError),
    #[error(
        "Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: {}",
        keys.join(",")
    )]
    ReservedKeys { keys: Vec<String> },
    #[error(
        "Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: {measured}"
    )]
    TooLarge { measured: String },
}

/// Validated environment variables, ordered by key.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Environment(BTreeMap<String, String>);

impl Environment {
    pub fn parse(vars: BTreeMap<String, String>) -> Result<Self, EnvironmentError> {
        for key in vars.keys() {
            let mut bytes = key.bytes();
            let first_ok = bytes.next().is_some_and(|b| b.is_ascii_alphabetic());
            let rest_ok = key.len() >= 2 && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !first_ok || !rest_ok {
                return Err(ValidationError::new(
                    "[sensitive]",
                    "environment.variables",
                    format!("Map keys must satisfy constraint: [Member must satisfy regular expression pattern: {KEY_PATTERN}]"),
                )
                .into());
            }
        }
        let reserved: Vec<String> = vars.keys().filter(|k| RESERVED_KEYS.contains(&k.as_str())).cloned().collect();
        if !reserved.is_empty() {
            return Err(EnvironmentError::ReservedKeys { keys: reserved });
        }
        let measured = serde_json::to_string(&vars).expect("a string map always serialises");
        if measured.len() > ENVIRONMENT_MAX_BYTES {
            return Err(EnvironmentError::TooLarge { measured });
        }
        Ok(Self(vars))
    }

    pub fn variables(&self) -> &BTreeMap<String, String> {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn accepts_ordinary_variables() {
        let e = Environment::parse(env(&[("STAGE", "prod"), ("PATH", "/x")])).unwrap();
        assert_eq!(e.variables().len(), 2);
    }

    #[test]
    fn refuses_reserved_keys_by_name() {
        let err = Environment::parse(env(&[("AWS_REGION", "x"), ("A1", "y")])).unwrap_err();
        assert!(matches!(err, EnvironmentError::ReservedKeys { .. }));
        assert!(err.to_string().ends_with("Reserved keys used in this request: AWS_REGION"));
    }

    #[test]
    fn refuses_bad_keys_and_oversize() {
        assert!(matches!(Environment::parse(env(&[("1A", "x")])), Err(EnvironmentError::Validation(_))));
        assert!(matches!(Environment::parse(env(&[("A", "x")])), Err(EnvironmentError::Validation(_))));
        let big = "x".repeat(5000);
        assert!(matches!(Environment::parse(env(&[("BIG", &big)])), Err(EnvironmentError::TooLarge { .. })));
    }
}
