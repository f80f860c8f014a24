//! What a Scheduler operation can fail with. Each variant is one of AWS's
//! error types (the `x-amzn-ErrorType` header) with its HTTP status; the
//! text is the `Message` of the body.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum SchedulerError {
    /// The request breaks a constraint (AWS's wording in the message).
    #[error("{message}")]
    Validation { message: String },
    #[error("{message}")]
    Conflict { message: String },
    #[error("{message}")]
    NotFound { message: String },
    #[error("{message}")]
    AccessDenied { message: String },
    /// A route this API does not serve.
    #[error("{message}")]
    UnknownOperation { message: String },
    /// The schedule's target refused an on-demand firing.
    #[error("{message}")]
    TargetFailed { message: String, retryable: bool },
    /// On-demand firing before the server started its firing loop.
    #[error("the firing loop has not started")]
    NotStarted,
    #[error("create {}: {source}", path.display())]
    CreateDir { path: PathBuf, source: std::io::Error },
    #[error("open the schedule store at {}: {source}", path.display())]
    Open { path: PathBuf, source: lambdabox_store::OpenError },
    #[error("read the schedule store: {source}")]
    Read { source: rusqlite::Error },
    #[error("write the schedule store: {source}")]
    Write { source: rusqlite::Error },
    #[error("decode the stored schedule {arn}: {source}")]
    Decode { arn: String, source: serde_json::Error },
    /// A server's answer to the client (`lambdabox schedule fire`).
    #[error("{error_type}: {message}")]
    Remote { status: u16, error_type: String, message: String },
    /// The server could not be reached or answered something else (the client).
    #[error("{endpoint}: {reason}")]
    Transport { endpoint: String, reason: String },
}

impl SchedulerError {
    pub fn validation(message: impl Into<String>) -> Self {
        Self::Validation { message: message.into() }
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict { message: message.into() }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::NotFound { message: message.into() }
    }

    /// AWS's error type.
    pub fn error_type(&self) -> &str {
        match self {
            Self::Validation { .. } => "ValidationException",
            Self::Conflict { .. } => "ConflictException",
            Self::NotFound { .. } => "ResourceNotFoundException",
            Self::AccessDenied { .. } => "AccessDeniedException",
            Self::UnknownOperation { .. } => "UnknownOperationException",
            Self::TargetFailed { .. } => "TargetInvocationException",
            Self::NotStarted => "ServiceUnavailableException",
            Self::CreateDir { .. }
            | Self::Open { .. }
            | Self::Read { .. }
            | Self::Write { .. }
            | Self::Decode { .. }
            | Self::Transport { .. } => "InternalServerException",
            Self::Remote { error_type, .. } => error_type,
        }
    }

    /// The HTTP status AWS answers it with.
    pub fn status(&self) -> u16 {
        match self {
            Self::Validation { .. } => 400,
            Self::Conflict { .. } => 409,
            Self::NotFound { .. } | Self::UnknownOperation { .. } => 404,
            Self::AccessDenied { .. } => 403,
            Self::TargetFailed { retryable: false, .. } => 400,
            Self::TargetFailed { retryable: true, .. } | Self::NotStarted => 503,
            Self::Remote { status, .. } => *status,
            _ => 500,
        }
    }

    /// Whether the server failed (logged, and answered without details).
    pub fn is_internal(&self) -> bool {
        self.status() == 500
    }

    /// The body's `Message`.
    pub fn message(&self) -> String {
        match self {
            Self::Remote { message, .. } => message.clone(),
            e if e.is_internal() => "Internal server error; the server's log has the details.".to_owned(),
            other => other.to_string(),
        }
    }
}

impl From<lambdabox_identity::AccessDenied> for SchedulerError {
    fn from(denied: lambdabox_identity::AccessDenied) -> Self {
        Self::AccessDenied { message: denied.message }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_types_are_aws() {
        let e = SchedulerError::not_found("Schedule s does not exist.");
        assert_eq!(
            (e.status(), e.error_type(), e.message().as_str()),
            (404, "ResourceNotFoundException", "Schedule s does not exist.")
        );
        assert_eq!(SchedulerError::conflict("x").status(), 409);
        assert_eq!(SchedulerError::validation("x").error_type(), "ValidationException");
        let internal = SchedulerError::Read { source: rusqlite::Error::InvalidQuery };
        assert!(internal.is_internal());
        assert!(!internal.message().contains("query"), "no internals in the message");
    }
}
