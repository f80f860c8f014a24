//! Failures of the gateway's control-plane operations and its store, and
//! how each reaches the client: the Lambda API's error shape for function
//! URL configs, API Gateway's (`{"message": …}` and `x-amzn-ErrorType`) for
//! `apigatewayv2`.

use std::path::PathBuf;

use axum::Json;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use lambdabox_control::ControlError;
use lambdabox_http::ApiError;
use lambdabox_model::ValidationError;

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("open the gateway database {path}")]
    Open { path: PathBuf, source: rusqlite::Error },
    #[error("migrate the gateway database")]
    Migrate { source: rusqlite::Error },
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

    fn is_store(&self) -> bool {
        matches!(
            self,
            Self::Open { .. } | Self::Migrate { .. } | Self::Write { .. } | Self::Read { .. } | Self::Decode { .. }
        )
    }

    /// The Lambda API's rendering (function URL config operations).
    pub fn lambda(self) -> Response {
        if self.is_store() {
            tracing::error!(error = ?self, "gateway store failure");
        }
        let api = match self {
            Self::Control(c) => c.into(),
            Self::Validation(v) => ControlError::from(v).into(),
            Self::UrlConfigNotFound => ApiError::not_found(self.to_string()),
            Self::UrlConfigExists { .. } => ApiError {
                status: StatusCode::CONFLICT,
                error_type: "ResourceConflictException",
                body: lambdabox_proto_body(self.to_string(), "User"),
            },
            Self::InvalidParameter { message } | Self::BadRequest { message } => ApiError::invalid_parameter(message),
            Self::NotFound { message } => ApiError::not_found(message),
            Self::Conflict { message } => ApiError {
                status: StatusCode::CONFLICT,
                error_type: "ResourceConflictException",
                body: lambdabox_proto_body(message, "User"),
            },
            other => ApiError {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                error_type: "ServiceException",
                body: lambdabox_proto_body(other.to_string(), "Service"),
            },
        };
        api.into_response()
    }

    /// API Gateway's rendering (`apigatewayv2`).
    pub fn apigateway(self) -> Response {
        if self.is_store() {
            tracing::error!(error = ?self, "gateway store failure");
        }
        let (status, error_type) = match &self {
            Self::NotFound { .. } | Self::UrlConfigNotFound => (StatusCode::NOT_FOUND, "NotFoundException"),
            Self::Conflict { .. } | Self::UrlConfigExists { .. } => (StatusCode::CONFLICT, "ConflictException"),
            Self::BadRequest { .. } | Self::InvalidParameter { .. } | Self::Validation(_) | Self::Control(_) => {
                (StatusCode::BAD_REQUEST, "BadRequestException")
            }
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "InternalServerErrorException"),
        };
        let mut response = (status, Json(serde_json::json!({ "message": self.to_string() }))).into_response();
        response.headers_mut().insert("x-amzn-ErrorType", HeaderValue::from_static(error_type));
        response
    }
}

fn lambdabox_proto_body(message: String, kind: &str) -> lambdabox_proto::ErrorBody {
    lambdabox_proto::ErrorBody { kind: kind.to_owned(), message, reason: None }
}
