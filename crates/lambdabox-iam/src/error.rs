//! The one error type of the IAM API's edge: each variant maps to IAM's
//! HTTP status and error code, rendered as IAM's query-protocol
//! `<ErrorResponse xmlns=…><Error><Type>Sender</Type><Code>…` document.

use axum::response::Response;
use lambdabox_aws::{ErrorReply, Protocol};
use lambdabox_identity::{AccessDenied, IdentityError};

use crate::{NAMESPACE, VERSION};

/// Why an IAM request failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum IamError {
    #[error("Missing Action")]
    MissingAction,
    #[error("Could not find operation {0} for version {VERSION}")]
    InvalidAction(String),
    /// The input broke IAM's constraints (each entry one of them, as
    /// "Value … at '…' failed to satisfy constraint: …").
    #[error("{} validation error{} detected: {}", .0.len(), if .0.len() == 1 { "" } else { "s" }, .0.join("; "))]
    Validation(Vec<String>),
    /// An operation acting on the caller's own user was called by a
    /// principal that is not an IAM user.
    #[error("Must specify userName when calling with non-User credentials")]
    UserNameRequired,
    /// The input is well-formed but not acceptable (IAM's `InvalidInput`).
    #[error("{0}")]
    InvalidInput(String),
    #[error("{0}")]
    AccessDenied(AccessDenied),
    #[error("{0}")]
    Store(#[from] IdentityError),
    #[error("The request body is too large")]
    BodyTooLarge,
}

impl IamError {
    /// IAM's error code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingAction => "MissingAction",
            Self::InvalidAction(_) => "InvalidAction",
            Self::Validation(_) | Self::UserNameRequired => "ValidationError",
            Self::InvalidInput(_) => "InvalidInput",
            Self::AccessDenied(_) => "AccessDenied",
            Self::Store(e) => e.code(),
            Self::BodyTooLarge => "RequestEntityTooLarge",
        }
    }

    /// IAM's HTTP status for the code.
    pub fn status(&self) -> u16 {
        match self {
            Self::MissingAction
            | Self::InvalidAction(_)
            | Self::Validation(_)
            | Self::UserNameRequired
            | Self::InvalidInput(_) => 400,
            Self::AccessDenied(_) => 403,
            Self::Store(e) => e.status(),
            Self::BodyTooLarge => 413,
        }
    }

    /// The error as IAM answers it.
    pub fn into_response(self) -> Response {
        render(self.status(), self.code(), &self.to_string())
    }
}

/// An IAM error document: in IAM's namespace, of type `Receiver` when the
/// fault is the service's (5xx), else `Sender`.
fn render(status: u16, code: &str, message: &str) -> Response {
    let mut reply = ErrorReply::new(Protocol::Query, status, code, message);
    let body = String::from_utf8_lossy(&reply.body).into_owned();
    let body = body.replacen("<ErrorResponse>", &format!("<ErrorResponse xmlns=\"{NAMESPACE}\">"), 1);
    let body = if status >= 500 { body.replacen("<Type>Sender</Type>", "<Type>Receiver</Type>", 1) } else { body };
    reply.body = body.into_bytes();
    reply.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read(response: Response) -> (u16, String) {
        let status = response.status().as_u16();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        (status, String::from_utf8(bytes.to_vec()).unwrap())
    }

    #[test]
    fn validation_messages_count_their_errors() {
        let one = IamError::Validation(vec!["a".into()]);
        assert_eq!(one.to_string(), "1 validation error detected: a");
        let two = IamError::Validation(vec!["a".into(), "b".into()]);
        assert_eq!(two.to_string(), "2 validation errors detected: a; b");
    }

    #[tokio::test]
    async fn errors_are_iams_query_errors() {
        let (status, text) = read(
            IamError::Store(IdentityError::NoSuchEntity("The user with name x cannot be found.".into()))
                .into_response(),
        )
        .await;
        assert_eq!(status, 404);
        assert!(
            text.starts_with(
                "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type>\
                 <Code>NoSuchEntity</Code><Message>The user with name x cannot be found.</Message></Error><RequestId>"
            ),
            "{text}"
        );
        let denied = AccessDenied {
            message: "User: u is not authorized".into(),
            denial: lambdabox_identity::policy::Denial::NoIdentityAllow,
        };
        let (status, text) = read(IamError::AccessDenied(denied).into_response()).await;
        assert_eq!(status, 403);
        assert!(text.contains("<Code>AccessDenied</Code><Message>User: u is not authorized</Message>"), "{text}");
        let (status, text) = read(render(500, "ServiceFailure", "x")).await;
        assert_eq!(status, 500);
        assert!(text.contains("<Type>Receiver</Type><Code>ServiceFailure</Code>"), "{text}");
    }
}
