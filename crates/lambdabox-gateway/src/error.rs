//! Failures of the gateway's store and of the operations over it. Each
//! service renders them in its own protocol: `lambdabox-lambda` as the
//! Lambda API's errors (function URL configs), `lambdabox-apigateway` as API
//! Gateway's (`{"message": …}` and `x-amzn-ErrorType`).

use lambdabox_control::ControlError;
use lambdabox_model::ValidationError;

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error(transparent)]
    Open(#[from] lambdabox_store::OpenError),
    #[error("write the gateway database")]
    Write { source: rusqlite::Error },
    #[error("read the gateway database")]
    Read { source: rusqlite::Error },
    #[error("decode the stored {kind} {id}")]
    Decode { kind: &'static str, id: String, source: serde_json::Error },
    /// A member out of bounds (Lambda's `ValidationException`).
    #[error(transparent)]
    Validation(#[from] ValidationError),
    /// The function or alias behind a function URL config.
    #[error(transparent)]
    Control(#[from] ControlError),
    #[error("The resource you requested does not exist.")]
    UrlConfigNotFound,
    #[error(
        "Failed to create function url config for [functionArn = {arn}]. Error message:  FunctionUrlConfig exists for this Lambda function"
    )]
    UrlConfigExists { arn: String },
    #[error("{message}")]
    InvalidParameter { message: String },
    /// API Gateway's `NotFoundException`.
    #[error("{message}")]
    NotFound { message: String },
    /// API Gateway's `BadRequestException`.
    #[error("{message}")]
    BadRequest { message: String },
    /// API Gateway's `ConflictException`.
    #[error("{message}")]
    Conflict { message: String },
}

impl GatewayError {
    pub fn validation(value: String, field: String, constraint: String) -> Self {
        Self::Validation(ValidationError::new(value, field, constraint))
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest { message: message.into() }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::NotFound { message: message.into() }
    }

    /// Whether the failure is the store's (the server's fault).
    pub fn is_store(&self) -> bool {
        matches!(self, Self::Open(_) | Self::Write { .. } | Self::Read { .. } | Self::Decode { .. })
    }
}
