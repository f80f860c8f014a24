//! The JSON body of a Lambda API error.

use serde::{Deserialize, Serialize};

/// `{"Type": "User", "message": "..."}`, beside the `x-amzn-ErrorType` header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    #[serde(rename = "Type")]
    pub kind: String,
    pub message: String,
    /// Why a request was throttled (`TooManyRequestsException` only).
    #[serde(rename = "Reason", skip_serializing_if = "Option::is_none", default)]
    pub reason: Option<String>,
}

impl ErrorBody {
    /// An error caused by the request (`Type: User`).
    pub fn user(message: impl Into<String>) -> Self {
        Self { kind: "User".into(), message: message.into(), reason: None }
    }

    /// An error on the server's side (`Type: Service`).
    pub fn service(message: impl Into<String>) -> Self {
        Self { kind: "Service".into(), message: message.into(), reason: None }
    }
}
