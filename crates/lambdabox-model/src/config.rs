//! A function's configuration: the validated settings AWS keeps per version.

use serde::{Deserialize, Serialize};

pub use crate::code::{Architecture, CodeInfo};
use crate::environment::Environment;
use crate::limits::*;
use crate::name::FunctionName;
use crate::validation::ValidationError;

macro_rules! bounded {
    ($(#[$doc:meta])* $ty:ident, $field:literal, $min:expr, $max:expr, $default:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $ty(u32);

        impl $ty {
            pub fn parse(v: i64) -> Result<Self, ValidationError> {
                if v < i64::from($min) {
                    return Err(ValidationError::min_value(v, $field, i64::from($min)));
                }
                if v > i64::from($max) {
                    return Err(ValidationError::max_value(v, $field, i64::from($max)));
                }
                Ok(Self(v as u32))
            }

            pub fn get(self) -> u32 {
                self.0
            }
        }

        impl Default for $ty {
            fn default() -> Self {
                Self($default)
            }
        }
    };
}

bounded!(
    /// Seconds an invocation may run: 1 to 900, default 3.
    Timeout, "timeout", TIMEOUT_MIN, TIMEOUT_MAX, TIMEOUT_DEFAULT
);
bounded!(
    /// Memory in MB: 128 to 10240, default 128.
    MemorySize, "memorySize", MEMORY_MIN, MEMORY_MAX, MEMORY_DEFAULT
);
bounded!(
    /// Size of `/tmp` in MB: 512 to 10240, default 512.
    EphemeralStorage, "ephemeralStorage.size", EPHEMERAL_MIN, EPHEMERAL_MAX, EPHEMERAL_DEFAULT
);

/// Subnets and security groups a function is attached to (stored now,
/// enforced by the VPC work).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct VpcConfig {
    pub subnet_ids: Vec<String>,
    pub security_group_ids: Vec<String>,
    pub ipv6_allowed_for_dual_stack: bool,
}

/// Everything AWS keeps per function version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionConfig {
    pub name: FunctionName,
    pub version: String,
    pub runtime: String,
    pub handler: String,
    pub role: String,
    pub description: String,
    pub timeout: Timeout,
    pub memory_size: MemorySize,
    pub ephemeral_storage: EphemeralStorage,
    pub environment: Option<Environment>,
    /// The layers in order (later ones override earlier files under /opt).
    pub layers: Vec<crate::layer::FunctionLayer>,
    pub vpc: Option<VpcConfig>,
    pub architectures: Vec<Architecture>,
    pub dead_letter_target_arn: Option<String>,
    pub kms_key_arn: Option<String>,
    pub tracing_mode: String,
    pub code: CodeInfo,
    /// AWS's format: `2026-11-28T19:47:17.123+0000`.
    pub last_modified: String,
    pub revision_id: String,
}

/// Validates a description (at most 256 characters).
pub fn parse_description(s: &str) -> Result<String, ValidationError> {
    if s.chars().count() > DESCRIPTION_MAX {
        return Err(ValidationError::max_length(s, "description", DESCRIPTION_MAX));
    }
    Ok(s.to_owned())
}

/// Validates an execution role ARN against AWS's pattern.
pub fn parse_role(s: &str) -> Result<String, ValidationError> {
    let err = || ValidationError::pattern(s, "role", ROLE_PATTERN);
    let rest = s.strip_prefix("arn:").ok_or_else(err)?;
    let (partition, rest) = rest.split_once(':').ok_or_else(err)?;
    let rest = rest.strip_prefix("iam::").ok_or_else(err)?;
    let (account, rest) = rest.split_once(':').ok_or_else(err)?;
    let path = rest.strip_prefix("role").ok_or_else(err)?;
    let path = path.strip_prefix('/').unwrap_or(path);
    let valid_path = !path.is_empty() && path.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@-_/".contains(c));
    if !partition.starts_with("aws") || !crate::arn::is_account(account) || !valid_path {
        return Err(err());
    }
    Ok(s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_and_defaults() {
        assert_eq!(Timeout::default().get(), 3);
        assert_eq!(MemorySize::default().get(), 128);
        assert_eq!(EphemeralStorage::default().get(), 512);
        assert!(Timeout::parse(900).is_ok());
        assert_eq!(
            Timeout::parse(901).unwrap_err().to_string(),
            "1 validation error detected: Value '901' at 'timeout' failed to satisfy constraint: Member must have value less than or equal to 900"
        );
        assert!(Timeout::parse(0).unwrap_err().constraint.contains("greater than or equal to 1"));
        assert!(MemorySize::parse(10241).is_err());
        assert!(MemorySize::parse(127).is_err());
        assert!(EphemeralStorage::parse(10240).is_ok());
        assert!(EphemeralStorage::parse(511).is_err());
    }

    #[test]
    fn roles() {
        assert!(parse_role("arn:aws:iam::123456789012:role/lambda-role").is_ok());
        assert!(parse_role("arn:aws:iam::123456789012:role/service-role/x").is_ok());
        assert!(parse_role("role").is_err());
        assert!(parse_role("arn:aws:iam::12:role/x").is_err());
    }

    #[test]
    fn architectures() {
        assert_eq!(Architecture::parse("arm64").unwrap(), Architecture::Arm64);
        assert!(Architecture::parse("sparc").is_err());
    }
}
