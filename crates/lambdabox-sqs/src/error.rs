//! SQS's errors at the HTTP edge, in both of its protocols. Each error has
//! the code the query protocol names it by (`AWS.SimpleQueueService.NonExistentQueue`),
//! the shape the JSON protocol's `__type` names (`QueueDoesNotExist`;
//! botocore reads the query code from the `x-amzn-query-error` header AWS
//! sends with it), and AWS's status.

use axum::response::Response;
use lambdabox_aws::{ErrorReply, Protocol};
use lambdabox_queues::QueueError;

/// One SQS error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The query protocol's code (and `x-amzn-query-error`'s).
    pub code: &'static str,
    /// The JSON protocol's `__type`.
    pub shape: &'static str,
    pub status: u16,
    pub message: String,
    pub sender_fault: bool,
}

impl ApiError {
    fn new(code: &'static str, shape: &'static str, status: u16, message: impl Into<String>) -> Self {
        Self { code, shape, status, message: message.into(), sender_fault: status < 500 }
    }

    /// A queue-level error by its code alone (the same in both protocols).
    pub fn plain(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(code, code, 400, message)
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new("InvalidParameterValue", "InvalidParameterValue", 400, message)
    }

    pub fn missing(name: &str) -> Self {
        Self::new(
            "MissingParameter",
            "MissingParameter",
            400,
            format!("The request must contain the parameter {name}."),
        )
    }

    pub fn invalid_address(url: &str) -> Self {
        Self::new("InvalidAddress", "InvalidAddress", 400, format!("The address {url} is not valid for this endpoint."))
    }

    pub fn access_denied(message: impl Into<String>) -> Self {
        Self::new("AccessDenied", "AccessDeniedException", 403, message)
    }

    pub fn unknown_operation(protocol: Protocol, operation: &str) -> Self {
        match protocol {
            Protocol::Json => Self::new(
                "UnknownOperationException",
                "UnknownOperationException",
                400,
                format!("The operation {operation} is not an SQS operation."),
            ),
            _ => Self::new(
                "InvalidAction",
                "InvalidAction",
                400,
                format!("The action {operation} is not valid for this endpoint."),
            ),
        }
    }

    pub fn serialization(message: impl Into<String>) -> Self {
        Self::new("SerializationException", "SerializationException", 400, message)
    }

    pub fn empty_batch(entry: &str) -> Self {
        Self::new(
            "AWS.SimpleQueueService.EmptyBatchRequest",
            "EmptyBatchRequest",
            400,
            format!("There should be at least one {entry} in the request."),
        )
    }

    pub fn too_many_entries(count: usize) -> Self {
        Self::new(
            "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
            "TooManyEntriesInBatchRequest",
            400,
            format!("Maximum number of entries per request are 10. You have sent {count}."),
        )
    }

    pub fn ids_not_distinct(id: &str) -> Self {
        Self::new(
            "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
            "BatchEntryIdsNotDistinct",
            400,
            format!("Id {id} repeated."),
        )
    }

    pub fn invalid_batch_entry_id() -> Self {
        Self::new(
            "AWS.SimpleQueueService.InvalidBatchEntryId",
            "InvalidBatchEntryId",
            400,
            "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.",
        )
    }

    pub fn batch_too_long(limit: u32, sent: usize) -> Self {
        Self::new(
            "AWS.SimpleQueueService.BatchRequestTooLong",
            "BatchRequestTooLong",
            400,
            format!("Batch requests cannot be longer than {limit} bytes. You have sent {sent} bytes."),
        )
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new("ResourceNotFoundException", "ResourceNotFoundException", 400, message)
    }

    pub fn internal() -> Self {
        Self::new("InternalError", "InternalError", 500, "We encountered an internal error. Please try again.")
    }

    /// The error as `protocol` carries it.
    pub fn into_response(self, protocol: Protocol) -> Response {
        let code =
            if protocol == Protocol::Json { format!("com.amazonaws.sqs#{}", self.shape) } else { self.code.to_owned() };
        let mut reply = ErrorReply::new(protocol, self.status, &code, &self.message);
        if protocol == Protocol::Json {
            for (name, value) in &mut reply.headers {
                match *name {
                    "content-type" => *value = crate::JSON_CONTENT_TYPE.to_owned(),
                    "x-amzn-ErrorType" => *value = self.shape.to_owned(),
                    _ => {}
                }
            }
            let fault = if self.sender_fault { "Sender" } else { "Receiver" };
            reply.headers.push(("x-amzn-query-error", format!("{};{fault}", self.code)));
        }
        reply.into_response()
    }
}

impl From<QueueError> for ApiError {
    fn from(error: QueueError) -> Self {
        let message = error.to_string();
        let code = error.code();
        match &error {
            QueueError::NonExistentQueue => Self::new(code, "QueueDoesNotExist", 400, message),
            QueueError::QueueNameExists { .. } => Self::new(code, "QueueNameExists", 400, message),
            QueueError::MessageNotInflight => Self::new(code, "MessageNotInflight", 400, message),
            QueueError::PurgeQueueInProgress { .. } => Self::new(code, "PurgeQueueInProgress", 403, message),
            QueueError::InvalidAttributeName { .. }
            | QueueError::InvalidAttributeValue { .. }
            | QueueError::InvalidParameterValue { .. }
            | QueueError::MissingParameter { .. }
            | QueueError::InvalidMessageContents
            | QueueError::ReceiptHandleIsInvalid { .. } => Self::new(code, code, 400, message),
            QueueError::Open { .. }
            | QueueError::CreateDir { .. }
            | QueueError::Database { .. }
            | QueueError::Blocking { .. } => {
                tracing::error!(%error, "sqs: the queues failed");
                Self::internal()
            }
        }
    }
}

impl From<lambdabox_identity::AccessDenied> for ApiError {
    fn from(denied: lambdabox_identity::AccessDenied) -> Self {
        Self::access_denied(denied.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_errors_carry_the_query_code_in_a_header() {
        let response = ApiError::from(QueueError::NonExistentQueue).into_response(Protocol::Json);
        assert_eq!(response.status(), 400);
        assert_eq!(response.headers()["x-amzn-query-error"], "AWS.SimpleQueueService.NonExistentQueue;Sender");
        assert_eq!(response.headers()["content-type"], crate::JSON_CONTENT_TYPE);
        let response = ApiError::from(QueueError::NonExistentQueue).into_response(Protocol::Query);
        assert!(response.headers().get("x-amzn-query-error").is_none());
        assert_eq!(ApiError::internal().status, 500);
        assert!(!ApiError::internal().sender_fault);
    }
}
