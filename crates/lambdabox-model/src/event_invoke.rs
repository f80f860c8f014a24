//! Asynchronous invocation settings of a function or version
//! (PutFunctionEventInvokeConfig): retries, maximum event age, destinations.

use serde::{Deserialize, Serialize};

use crate::validation::ValidationError;

pub const DEFAULT_RETRY_ATTEMPTS: u32 = 2;
pub const DEFAULT_MAXIMUM_EVENT_AGE_SECONDS: u32 = 21_600;

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EventInvokeConfig {
    pub maximum_retry_attempts: Option<u32>,
    pub maximum_event_age_in_seconds: Option<u32>,
    /// A function ARN invoked with a record of each successful event.
    pub on_success: Option<String>,
    /// A function ARN invoked with a record of each event that finally failed.
    pub on_failure: Option<String>,
    pub last_modified: String,
}

impl EventInvokeConfig {
    pub fn retries(&self) -> u32 {
        self.maximum_retry_attempts.unwrap_or(DEFAULT_RETRY_ATTEMPTS)
    }

    pub fn max_age_seconds(&self) -> u32 {
        self.maximum_event_age_in_seconds.unwrap_or(DEFAULT_MAXIMUM_EVENT_AGE_SECONDS)
    }
}

/// `MaximumRetryAttempts`: 0 to 2.
pub fn parse_retry_attempts(v: i64) -> Result<u32, ValidationError> {
    if v < 0 {
        return Err(ValidationError::min_value(v, "maximumRetryAttempts", 0));
    }
    if v > 2 {
        return Err(ValidationError::max_value(v, "maximumRetryAttempts", 2));
    }
    Ok(v as u32)
}

/// `MaximumEventAgeInSeconds`: 60 to 21600.
pub fn parse_event_age(v: i64) -> Result<u32, ValidationError> {
    if v < 60 {
        return Err(ValidationError::min_value(v, "maximumEventAgeInSeconds", 60));
    }
    if v > 21_600 {
        return Err(ValidationError::max_value(v, "maximumEventAgeInSeconds", 21_600));
    }
    Ok(v as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds() {
        assert_eq!(parse_retry_attempts(0).unwrap(), 0);
        assert!(parse_retry_attempts(3).is_err());
        assert!(parse_event_age(59).is_err());
        assert_eq!(parse_event_age(21_600).unwrap(), 21_600);
        assert_eq!(EventInvokeConfig::default().retries(), 2);
    }
}
