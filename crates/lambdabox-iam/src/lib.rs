//! The IAM API as boto3, the AWS CLI, Terraform and the CDK speak it (query
//! protocol: form-encoded `Action=…&Version=2010-05-08` requests answered
//! with XML in IAM's namespace): users and their access keys, roles and
//! their trust policies, inline policies, customer managed policies and
//! attachments, over the durable [`IdentityStore`] of
//! `lambdabox-identity`.
//!
//! Every operation does the same three things in order: it checks its
//! input against IAM's constraints (botocore's model: required members,
//! lengths, patterns, ranges), answering IAM's `ValidationError`; it asks
//! [`lambdabox_identity::authorize`] whether the caller may perform
//! `iam:<Action>` on the resource AWS's service authorization reference
//! names (a `403 AccessDenied` otherwise); then it acts on the store, whose
//! errors carry IAM's codes and messages. Any other action of IAM's model
//! is IAM's `InvalidAction`.
//!
//! The store is SQLite behind a mutex; its calls are short and are made on
//! the request's task, so the caller's identity (a task-local) is in scope.

mod error;
mod managed;
mod page;
mod policies;
mod roles;
mod users;
mod validate;
mod xml;

#[cfg(test)]
mod testing;

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use lambdabox_aws::query::{QueryParams, response_xml};
use lambdabox_identity::{Directory, IdentityStore};

use error::IamError;
use validate::Input;

/// IAM's XML namespace.
pub const NAMESPACE: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

/// The API version IAM serves.
pub const VERSION: &str = "2010-05-08";

/// The largest request body read (IAM's documents are at most 128 KiB).
const BODY_LIMIT: usize = 1 << 20;

/// What an operation answers: the inner XML of its `…Result` element, or
/// `None` for operations without output (`DeleteUser`, `AttachRolePolicy`).
type Outcome = Result<Option<String>, IamError>;

/// An operation's handler.
type Operation = fn(&Call<'_>) -> Outcome;

/// The operations served, by action name.
const OPERATIONS: &[(&str, Operation)] = &[
    ("CreateUser", users::create_user),
    ("GetUser", users::get_user),
    ("ListUsers", users::list_users),
    ("DeleteUser", users::delete_user),
    ("CreateAccessKey", users::create_access_key),
    ("ListAccessKeys", users::list_access_keys),
    ("DeleteAccessKey", users::delete_access_key),
    ("UpdateAccessKey", users::update_access_key),
    ("CreateRole", roles::create_role),
    ("GetRole", roles::get_role),
    ("ListRoles", roles::list_roles),
    ("DeleteRole", roles::delete_role),
    ("UpdateAssumeRolePolicy", roles::update_assume_role_policy),
    ("PutRolePolicy", policies::put_role_policy),
    ("GetRolePolicy", policies::get_role_policy),
    ("DeleteRolePolicy", policies::delete_role_policy),
    ("ListRolePolicies", policies::list_role_policies),
    ("PutUserPolicy", policies::put_user_policy),
    ("GetUserPolicy", policies::get_user_policy),
    ("DeleteUserPolicy", policies::delete_user_policy),
    ("ListUserPolicies", policies::list_user_policies),
    ("AttachRolePolicy", policies::attach_role_policy),
    ("DetachRolePolicy", policies::detach_role_policy),
    ("ListAttachedRolePolicies", policies::list_attached_role_policies),
    ("AttachUserPolicy", policies::attach_user_policy),
    ("DetachUserPolicy", policies::detach_user_policy),
    ("ListAttachedUserPolicies", policies::list_attached_user_policies),
    ("CreatePolicy", managed::create_policy),
    ("GetPolicy", managed::get_policy),
    ("GetPolicyVersion", managed::get_policy_version),
    ("DeletePolicy", managed::delete_policy),
    ("ListPolicies", managed::list_policies),
];

/// The IAM routes (`POST /` with a form body, or `GET /?Action=…`) over
/// the account's identity store.
pub fn router(directory: Arc<Directory>) -> Router {
    let iam = Arc::new(Iam { directory, root_create_date: xml::now() });
    Router::new().fallback(move |request: Request| {
        let iam = Arc::clone(&iam);
        async move { iam.serve(request).await }
    })
}

/// The service's state.
struct Iam {
    directory: Arc<Directory>,
    /// The `CreateDate` reported for the account's root (`GetUser` without
    /// a user name): when this router was built, as the identity store
    /// keeps no creation date for the account.
    root_create_date: String,
}

impl Iam {
    async fn serve(&self, request: Request) -> Response {
        let (parts, body) = request.into_parts();
        let body: Bytes = match axum::body::to_bytes(body, BODY_LIMIT).await {
            Ok(bytes) => bytes,
            Err(_) => return IamError::BodyTooLarge.into_response(),
        };
        let params = QueryParams::parse(parts.uri.query().unwrap_or(""), &body);
        let action = params.action();
        let Some(&(_, operation)) = OPERATIONS.iter().find(|(name, _)| *name == action) else {
            let error =
                if action.is_empty() { IamError::MissingAction } else { IamError::InvalidAction(action.to_owned()) };
            return error.into_response();
        };
        let call = Call {
            action,
            params: &params,
            store: &self.directory.store,
            account: self.directory.account(),
            root_create_date: &self.root_create_date,
        };
        match operation(&call) {
            Ok(result) => xml_response(response_xml(action, NAMESPACE, result.as_deref())),
            Err(error) => {
                if let IamError::Store(e) = &error
                    && e.status() >= 500
                {
                    tracing::error!(action, error = %e, source = ?std::error::Error::source(e), "IAM store failure");
                }
                error.into_response()
            }
        }
    }
}

/// One request being handled: its action and parameters, and the store.
pub(crate) struct Call<'a> {
    pub action: &'a str,
    pub params: &'a QueryParams,
    pub store: &'a IdentityStore,
    pub account: &'a str,
    pub root_create_date: &'a str,
}

impl Call<'_> {
    /// A reader of this request's parameters that records IAM's
    /// validation errors.
    pub fn input(&self) -> Input<'_> {
        Input::new(self.params)
    }

    /// Whether the caller may perform this operation (`iam:<Action>`) on
    /// `resource`.
    pub fn authorize(&self, resource: &str) -> Result<(), IamError> {
        lambdabox_identity::authorize(&format!("iam:{}", self.action), resource).map_err(IamError::AccessDenied)
    }

    /// [`Self::authorize`] with one request-specific condition key (`iam:PolicyARN`).
    pub fn authorize_with(&self, resource: &str, key: &str, value: &str) -> Result<(), IamError> {
        lambdabox_identity::authorize_with(&format!("iam:{}", self.action), resource, None, |cx| cx.set(key, value))
            .map_err(IamError::AccessDenied)
    }

    /// `arn:aws:iam::ACCOUNT:<kind><path><name>`.
    pub fn arn(&self, kind: &str, path: &str, name: &str) -> String {
        format!("arn:aws:iam::{}:{kind}{path}{name}", self.account)
    }
}

fn xml_response(body: String) -> Response {
    let mut response = (StatusCode::OK, Body::from(body)).into_response();
    response.headers_mut().insert("content-type", HeaderValue::from_static("text/xml"));
    response
}

#[cfg(test)]
mod tests {
    use super::testing::{call, call_get};
    use super::*;

    #[tokio::test]
    async fn a_missing_action_and_actions_not_served_are_iams_errors() {
        let (status, body) = call("Version=2010-05-08").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body.contains("<Code>MissingAction</Code>"), "{body}");
        let (status, body) = call("Action=CreateGroup&GroupName=g&Version=2010-05-08").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            body.starts_with(&format!("<ErrorResponse xmlns=\"{NAMESPACE}\"><Error><Type>Sender</Type>")),
            "{body}"
        );
        assert!(body.contains("<Code>InvalidAction</Code>"), "{body}");
        assert!(
            body.contains("<Message>Could not find operation CreateGroup for version 2010-05-08</Message>"),
            "{body}"
        );
    }

    #[tokio::test]
    async fn get_requests_carry_the_action_in_the_query_string() {
        let (status, body) = call_get("Action=ListUsers&Version=2010-05-08").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.starts_with(&format!("<ListUsersResponse xmlns=\"{NAMESPACE}\"><ListUsersResult>")), "{body}");
    }

    #[test]
    fn every_operation_is_listed_once() {
        let mut names: Vec<&str> = OPERATIONS.iter().map(|(name, _)| *name).collect();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count);
        assert_eq!(count, 32);
    }
}
