//! Who signed a request: an account's root (the bootstrap keys of
//! `--credentials`), an IAM user (an access key from `CreateAccessKey`), a
//! role session (keys from `AssumeRole`, or an execution environment's
//! keys, which are its function's role session), or an AWS service acting
//! for a resource (an event source invoking a function).

use std::sync::Arc;

use crate::policy::PolicyDocument;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalKind {
    Root,
    User { name: String, path: String, id: String },
    AssumedRole { role_name: String, role_path: String, role_id: String, session: String },
    Service(String),
}

/// A caller and the identity-based policies that apply to it.
#[derive(Debug, Clone)]
pub struct Principal {
    pub account: String,
    pub kind: PrincipalKind,
    /// Inline and attached policies of the user or role.
    pub policies: Vec<Arc<PolicyDocument>>,
}

impl Principal {
    pub fn root(account: &str) -> Self {
        Self { account: account.to_owned(), kind: PrincipalKind::Root, policies: Vec::new() }
    }

    /// The ARN AWS reports for the caller (`GetCallerIdentity`, error
    /// messages): `…:root`, `…:user/PATH/NAME`, `arn:aws:sts::…:assumed-role/ROLE/SESSION`.
    pub fn arn(&self) -> String {
        let a = &self.account;
        match &self.kind {
            PrincipalKind::Root => format!("arn:aws:iam::{a}:root"),
            PrincipalKind::User { name, path, .. } => format!("arn:aws:iam::{a}:user{path}{name}"),
            PrincipalKind::AssumedRole { role_name, session, .. } => {
                format!("arn:aws:sts::{a}:assumed-role/{role_name}/{session}")
            }
            PrincipalKind::Service(service) => service.clone(),
        }
    }

    /// `aws:PrincipalArn`: the user's, the role's (not the session's), the root's.
    pub fn principal_arn(&self) -> String {
        match &self.kind {
            PrincipalKind::AssumedRole { role_name, role_path, .. } => {
                format!("arn:aws:iam::{}:role{role_path}{role_name}", self.account)
            }
            _ => self.arn(),
        }
    }

    /// `UserId` as GetCallerIdentity reports it.
    pub fn user_id(&self) -> String {
        match &self.kind {
            PrincipalKind::Root => self.account.clone(),
            PrincipalKind::User { id, .. } => id.clone(),
            PrincipalKind::AssumedRole { role_id, session, .. } => format!("{role_id}:{session}"),
            PrincipalKind::Service(s) => s.clone(),
        }
    }

    /// `aws:PrincipalType`.
    pub fn principal_type(&self) -> &'static str {
        match self.kind {
            PrincipalKind::Root => "Account",
            PrincipalKind::User { .. } => "User",
            PrincipalKind::AssumedRole { .. } => "AssumedRole",
            PrincipalKind::Service(_) => "Service",
        }
    }
}
