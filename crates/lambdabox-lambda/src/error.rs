//! The one API error type of the edge: each control-plane failure mapped to
//! AWS's status code, `x-amzn-ErrorType` and JSON body.

use axum::Json;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use lambdabox_control::ControlError;
use lambdabox_model::environment::EnvironmentError;
use lambdabox_model::runtime::HandlerError;
use lambdabox_proto::ErrorBody;

/// An error as the client sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    /// AWS's error type (`ResourceNotFoundException`).
    pub error_type: &'static str,
    pub body: ErrorBody,
}

impl ApiError {
    pub(crate) fn user(status: StatusCode, error_type: &'static str, message: impl Into<String>) -> Self {
        Self { status, error_type, body: ErrorBody::user(message) }
    }

    pub fn invalid_request_content(message: impl Into<String>) -> Self {
        Self::user(StatusCode::BAD_REQUEST, "InvalidRequestContentException", message)
    }

    /// A 400 `ValidationException` with AWS's message (`N validation errors detected: …`).
    pub fn validation(message: impl Into<String>) -> Self {
        Self::user(StatusCode::BAD_REQUEST, "ValidationException", message)
    }

    /// A 403 `AccessDeniedException` (a policy refused the request).
    pub fn access_denied(message: impl Into<String>) -> Self {
        Self::user(StatusCode::FORBIDDEN, "AccessDeniedException", message)
    }

    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        Self::user(StatusCode::BAD_REQUEST, "InvalidParameterValueException", message)
    }

    /// A body over its operation's limit (`limit` bytes).
    pub fn request_too_large(operation: &str, limit: usize) -> Self {
        Self::user(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLargeException",
            format!("Request must be smaller than {limit} bytes for the {operation} operation"),
        )
    }

    /// A body that stopped arriving (the server's body timeout).
    pub fn request_timeout() -> Self {
        Self::user(
            StatusCode::REQUEST_TIMEOUT,
            "RequestTimeoutException",
            "The request body was not received in time; send it again",
        )
    }

    /// An Invoke payload over its limit.
    pub fn payload_too_large(limit: usize) -> Self {
        Self::user(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestTooLargeException",
            format!("Request must be smaller than {limit} bytes for the InvokeFunction operation"),
        )
    }

    /// A 429 `TooManyRequestsException` with its `Reason`.
    pub fn throttled(message: &str, reason: &str) -> Self {
        Self {
            status: StatusCode::TOO_MANY_REQUESTS,
            error_type: "TooManyRequestsException",
            body: ErrorBody { reason: Some(reason.to_owned()), ..ErrorBody::user(message.to_owned()) },
        }
    }

    /// A failure of the platform, never of the request: a 500
    /// `ServiceException` whose message names no host path or internal
    /// detail (those go to the server's log).
    pub fn service(message: &str) -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            error_type: "ServiceException",
            body: ErrorBody::service(message.to_owned()),
        }
    }

    /// A 409 `ResourceConflictException`.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::user(StatusCode::CONFLICT, "ResourceConflictException", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::user(StatusCode::NOT_FOUND, "ResourceNotFoundException", message)
    }
}

impl From<ControlError> for ApiError {
    fn from(e: ControlError) -> Self {
        use ControlError as E;
        let message = e.to_string();
        let (status, error_type) = match &e {
            E::Validation(_)
            | E::Environment(EnvironmentError::Validation(_))
            | E::Handler(HandlerError::Validation(_)) => (StatusCode::BAD_REQUEST, "ValidationException"),
            E::FunctionNotFound { .. }
            | E::AliasNotFound { .. }
            | E::EventInvokeConfigNotFound { .. }
            | E::ProvisionedNotFound { .. }
            | E::ResourceNotFound
            | E::StatementNotFound { .. } => (StatusCode::NOT_FOUND, "ResourceNotFoundException"),
            E::FunctionAlreadyExists { .. }
            | E::AliasAlreadyExists { .. }
            | E::VersionInUse { .. }
            | E::StatementExists { .. }
            | E::MappingExists { .. }
            | E::UpdateInProgress { .. } => (StatusCode::CONFLICT, "ResourceConflictException"),
            E::RevisionMismatch => (StatusCode::PRECONDITION_FAILED, "PreconditionFailedException"),
            E::RequestTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "RequestEntityTooLargeException"),
            E::CodeStorageExceeded => (StatusCode::BAD_REQUEST, "CodeStorageExceededException"),
            E::RuntimeAndHandlerRequired
            | E::UnknownRuntime { .. }
            | E::Package(_)
            | E::Environment(_)
            | E::Handler(_)
            | E::S3CodeUnavailable
            | E::S3Fetch { .. }
            | E::CombinedSizeExceeded { .. }
            | E::DuplicateLayer { .. }
            | E::CodeMissing
            | E::CodeAmbiguous
            | E::LayerVersionNotFound { .. }
            | E::TooManyLayers
            | E::DeleteLatestQualifier
            | E::CodeSha256Mismatch { .. }
            | E::InvalidRouting(_)
            | E::UnsupportedDestination { .. }
            | E::InvalidMappingParameter { .. }
            | E::Mapping(_)
            | E::UnsupportedEventSource { .. }
            | E::EventSourceNotServed { .. }
            | E::EventSourceQueueNotFound
            | E::UnreservedBelowMinimum
            | E::ProvisionedAboveReserved
            | E::ProvisionedOnLatest
            | E::InvalidTags(_) => (StatusCode::BAD_REQUEST, "InvalidParameterValueException"),
            E::OtherAccount { caller, resource } => {
                let message = match crate::operation::current() {
                    Some(action) => format!(
                        "User: arn:aws:iam::{caller}:root is not authorized to perform: lambda:{action} on resource: {resource} because no resource-based policy allows the lambda:{action} action"
                    ),
                    None => message,
                };
                return Self::user(StatusCode::FORBIDDEN, "AccessDeniedException", message);
            }
            E::OtherRegion { .. } => (StatusCode::NOT_FOUND, "ResourceNotFoundException"),
            E::Store(source) => {
                // The detail (paths under the data dir among it) is the
                // operator's, not the caller's.
                tracing::error!(error = ?source, "store failure");
                return Self::service(
                    "The service could not read or write its state; the server's log has the details.",
                );
            }
        };
        Self::user(status, error_type, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body)).into_response();
        response.headers_mut().insert("x-amzn-ErrorType", HeaderValue::from_static(self.error_type));
        response
    }
}

/// The answer to a path or method the Lambda API does not have.
pub async fn unknown_operation() -> ApiError {
    ApiError::user(StatusCode::NOT_FOUND, "UnknownOperationException", "Unknown operation")
}

#[cfg(test)]
mod tests {
    use lambdabox_model::ValidationError;

    use super::*;

    #[test]
    fn maps_each_failure_to_its_aws_type() {
        let cases: Vec<(ControlError, u16, &str)> = vec![
            (ValidationError::max_value(901, "timeout", 900).into(), 400, "ValidationException"),
            (ControlError::FunctionNotFound { arn: "a".into() }, 404, "ResourceNotFoundException"),
            (ControlError::FunctionAlreadyExists { name: "f".into() }, 409, "ResourceConflictException"),
            (ControlError::RevisionMismatch, 412, "PreconditionFailedException"),
            (ControlError::RuntimeAndHandlerRequired, 400, "InvalidParameterValueException"),
            (ControlError::Package(lambdabox_model::PackageError::NotAZip), 400, "InvalidParameterValueException"),
            (
                ControlError::RequestTooLarge { limit: 1, operation: "CreateFunction" },
                413,
                "RequestEntityTooLargeException",
            ),
            (ControlError::CodeStorageExceeded, 400, "CodeStorageExceededException"),
        ];
        for (e, status, ty) in cases {
            let api = ApiError::from(e);
            assert_eq!((api.status.as_u16(), api.error_type), (status, ty));
            assert_eq!(api.body.kind, "User");
        }
    }
}
