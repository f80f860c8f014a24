//! What a CloudWatch Logs operation can fail with. Each variant is one of
//! AWS's error types (`__type`), and its text is AWS's message.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum LogsError {
    #[error("The specified log group does not exist.")]
    LogGroupNotFound,
    #[error("The specified log stream does not exist.")]
    LogStreamNotFound,
    #[error("Either logGroupName or logGroupIdentifier must be specified.")]
    LogGroupMissing,
    #[error("LogGroup name and LogGroup ARN are mutually exclusive parameters.")]
    LogGroupTwice,
    #[error("logStreamName is required.")]
    LogStreamMissing,
    #[error("The specified nextToken is invalid.")]
    InvalidToken,
    #[error(
        "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: Member must have value {bound}"
    )]
    OutOfRange { field: &'static str, value: i64, bound: String },
    #[error(
        "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: Member must satisfy enum value set: [{allowed}]"
    )]
    NotInEnum { field: &'static str, value: String, allowed: &'static str },
    #[error("Cannot order by LastEventTime with a logStreamNamePrefix.")]
    PrefixWithLastEventTime,
    #[error("logStreamNames and logStreamNamePrefix are mutually exclusive parameters.")]
    NamesAndPrefix,
    #[error("logGroupNamePrefix and logGroupNamePattern are mutually exclusive parameters.")]
    GroupPrefixAndPattern,
    #[error("Invalid filter pattern: {pattern}. {reason}")]
    InvalidPattern { pattern: String, reason: &'static str },
    #[error("{source}")]
    Serialization { source: serde_json::Error },
    #[error("Operation {operation} is not supported by Lambdabox's CloudWatch Logs API.")]
    UnknownOperation { operation: String },
    #[error("reading the log files at {}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    /// An error a server answered with (for the client).
    #[error("{error_type}: {message}")]
    Remote { status: u16, error_type: String, message: String },
    /// The server could not be reached or answered something else than the API (for the client).
    #[error("{endpoint}: {reason}")]
    Transport { endpoint: String, reason: String },
}

impl LogsError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
    }

    pub(crate) fn at_least(field: &'static str, value: i64, min: i64) -> Self {
        Self::OutOfRange { field, value, bound: format!("greater than or equal to {min}") }
    }

    pub(crate) fn at_most(field: &'static str, value: i64, max: i64) -> Self {
        Self::OutOfRange { field, value, bound: format!("less than or equal to {max}") }
    }

    /// AWS's error type, the `__type` of the body.
    pub fn error_type(&self) -> &str {
        match self {
            Self::LogGroupNotFound | Self::LogStreamNotFound => "ResourceNotFoundException",
            Self::LogGroupMissing
            | Self::LogGroupTwice
            | Self::LogStreamMissing
            | Self::InvalidToken
            | Self::OutOfRange { .. }
            | Self::NotInEnum { .. }
            | Self::PrefixWithLastEventTime
            | Self::NamesAndPrefix
            | Self::GroupPrefixAndPattern
            | Self::InvalidPattern { .. } => "InvalidParameterException",
            Self::Serialization { .. } => "SerializationException",
            Self::UnknownOperation { .. } => "UnknownOperationException",
            Self::Io { .. } | Self::Transport { .. } => "ServiceUnavailableException",
            Self::Remote { error_type, .. } => error_type,
        }
    }

    /// The HTTP status AWS answers the error with.
    pub fn status(&self) -> u16 {
        match self {
            Self::Io { .. } | Self::Transport { .. } => 500,
            Self::Remote { status, .. } => *status,
            _ => 400,
        }
    }

    /// The error's `message`, as the body carries it.
    pub fn message(&self) -> String {
        match self {
            Self::Remote { message, .. } => message.clone(),
            other => other.to_string(),
        }
    }

    /// The JSON 1.1 body: `{"__type": "...", "message": "..."}`.
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({ "__type": self.error_type(), "message": self.message() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_carry_aws_types() {
        let body = LogsError::LogGroupNotFound.body();
        assert_eq!(body["__type"], "ResourceNotFoundException");
        assert_eq!(body["message"], "The specified log group does not exist.");
        assert_eq!(LogsError::LogGroupNotFound.status(), 400);
        let range = LogsError::at_least("limit", 0, 1);
        assert_eq!(range.error_type(), "InvalidParameterException");
        assert!(range.message().contains("Value '0' at 'limit'"), "{}", range.message());
    }
}
