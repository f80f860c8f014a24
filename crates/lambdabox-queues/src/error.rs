//! What a queue operation can fail with. The variants an SQS client can
//! cause carry AWS's message as their text and name AWS's error code
//! ([`QueueError::code`]); the others are this server's own failures
//! (the database, a blocking task).

use std::path::PathBuf;

/// Why an operation on the queues failed.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The queue named does not exist (or was deleted).
    #[error("The specified queue does not exist.")]
    NonExistentQueue,
    /// CreateQueue named an existing queue with a different attribute value.
    #[error("A queue already exists with the same name and a different value for attribute {attribute}")]
    QueueNameExists { attribute: String },
    /// An attribute name that is not one of SQS's, or not one the queue's type takes.
    #[error("Unknown Attribute {name}.")]
    InvalidAttributeName { name: String },
    /// An attribute value outside what SQS accepts.
    #[error("Invalid value for the parameter {name}.{}", reason.as_ref().map(|r| format!(" Reason: {r}")).unwrap_or_default())]
    InvalidAttributeValue { name: String, reason: Option<String> },
    /// A parameter value SQS refuses, with AWS's whole message.
    #[error("{message}")]
    InvalidParameterValue { message: String },
    /// A required parameter is missing.
    #[error("The request must contain the parameter {name}.")]
    MissingParameter { name: String },
    /// A message body or attribute with characters outside XML's.
    #[error(
        "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF"
    )]
    InvalidMessageContents,
    /// A receipt handle this queue never handed out.
    #[error("The input receipt handle \"{handle}\" is not a valid receipt handle.")]
    ReceiptHandleIsInvalid { handle: String },
    /// ChangeMessageVisibility on a message that is not in flight.
    #[error("Message does not exist or is not available for visibility timeout change.")]
    MessageNotInflight,
    /// A second PurgeQueue within 60 seconds.
    #[error("Only one PurgeQueue operation on {name} is allowed every 60 seconds.")]
    PurgeQueueInProgress { name: String },
    /// The queue database could not be opened.
    #[error("open the queue database {}", path.display())]
    Open { path: PathBuf, source: lambdabox_store::OpenError },
    /// The directory of the queue database could not be made.
    #[error("create the queue directory {}", path.display())]
    CreateDir { path: PathBuf, source: std::io::Error },
    /// A statement on the queue database failed.
    #[error("{operation}: {source}")]
    Database { operation: &'static str, source: rusqlite::Error },
    /// The blocking task running an operation panicked or was cancelled.
    #[error("a queue operation's task failed: {source}")]
    Blocking { source: tokio::task::JoinError },
}

impl QueueError {
    /// SQS's error code, as the query protocol names it (and the JSON
    /// protocol's `x-amzn-query-error` header): `AWS.SimpleQueueService.NonExistentQueue`,
    /// `QueueAlreadyExists`, `InvalidParameterValue`, … `InternalError` for
    /// the server's own failures.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NonExistentQueue => "AWS.SimpleQueueService.NonExistentQueue",
            Self::QueueNameExists { .. } => "QueueAlreadyExists",
            Self::InvalidAttributeName { .. } => "InvalidAttributeName",
            Self::InvalidAttributeValue { .. } => "InvalidAttributeValue",
            Self::InvalidParameterValue { .. } => "InvalidParameterValue",
            Self::MissingParameter { .. } => "MissingParameter",
            Self::InvalidMessageContents => "InvalidMessageContents",
            Self::ReceiptHandleIsInvalid { .. } => "ReceiptHandleIsInvalid",
            Self::MessageNotInflight => "AWS.SimpleQueueService.MessageNotInflight",
            Self::PurgeQueueInProgress { .. } => "AWS.SimpleQueueService.PurgeQueueInProgress",
            Self::Open { .. } | Self::CreateDir { .. } | Self::Database { .. } | Self::Blocking { .. } => {
                "InternalError"
            }
        }
    }

    /// Whether the caller caused it (SQS's `SenderFault`).
    pub fn sender_fault(&self) -> bool {
        !matches!(self, Self::Open { .. } | Self::CreateDir { .. } | Self::Database { .. } | Self::Blocking { .. })
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::InvalidParameterValue { message: message.into() }
    }

    pub(crate) fn missing(name: &str) -> Self {
        Self::MissingParameter { name: name.to_owned() }
    }

    pub(crate) fn db(operation: &'static str) -> impl FnOnce(rusqlite::Error) -> Self {
        move |source| Self::Database { operation, source }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_codes_are_awss() {
        assert_eq!(QueueError::NonExistentQueue.to_string(), "The specified queue does not exist.");
        assert_eq!(QueueError::NonExistentQueue.code(), "AWS.SimpleQueueService.NonExistentQueue");
        let value = QueueError::InvalidAttributeValue { name: "VisibilityTimeout".into(), reason: None };
        assert_eq!(value.to_string(), "Invalid value for the parameter VisibilityTimeout.");
        let reason = QueueError::InvalidAttributeValue { name: "FifoQueue".into(), reason: Some("x".into()) };
        assert_eq!(reason.to_string(), "Invalid value for the parameter FifoQueue. Reason: x");
        assert_eq!(
            QueueError::missing("MessageBody").to_string(),
            "The request must contain the parameter MessageBody."
        );
        assert!(QueueError::MessageNotInflight.sender_fault());
    }
}
