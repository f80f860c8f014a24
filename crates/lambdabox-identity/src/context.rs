//! The identity of the request being handled, known for the whole of its
//! handling (a task-local the dispatcher sets under `--auth iam`), and
//! [`authorize`], which every service calls with the IAM action and
//! resource ARN of what it is about to do. Under `--auth open` there is no
//! identity and everything is allowed, as before.

use std::future::Future;
use std::sync::Arc;

use crate::directory::Directory;
use crate::policy::{ConditionContext, Decision, Denial, PolicyDocument, Request, evaluate};
use crate::principal::Principal;

/// Who is calling, and how.
#[derive(Debug)]
pub struct RequestIdentity {
    pub principal: Principal,
    pub directory: Arc<Directory>,
    /// Whether the request came over TLS (`aws:SecureTransport`).
    pub secure_transport: bool,
    /// The caller's address (`aws:SourceIp`), if known.
    pub source_ip: Option<String>,
}

tokio::task_local! {
    static IDENTITY: Arc<RequestIdentity>;
}

/// Runs `f` as a request from `identity`.
pub async fn scope<F: Future>(identity: Arc<RequestIdentity>, f: F) -> F::Output {
    IDENTITY.scope(identity, f).await
}

/// The identity of the request being handled (`None` under `--auth open`).
pub fn current() -> Option<Arc<RequestIdentity>> {
    IDENTITY.try_with(Arc::clone).ok()
}

/// A refusal, with AWS's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct AccessDenied {
    pub message: String,
    /// Why: an explicit deny cannot be overridden by another policy.
    pub denial: Denial,
}

impl AccessDenied {
    /// Whether an explicit `Deny` refused it (no other policy can allow it then).
    pub fn is_explicit(&self) -> bool {
        matches!(self.denial, Denial::ExplicitIdentity | Denial::ExplicitResource)
    }
}

impl RequestIdentity {
    /// The global condition keys of this request.
    pub fn context(&self) -> ConditionContext {
        let p = &self.principal;
        let mut cx = ConditionContext::default();
        cx.set("aws:PrincipalArn", p.principal_arn());
        cx.set("aws:PrincipalAccount", p.account.clone());
        cx.set("aws:PrincipalType", p.principal_type());
        cx.set("aws:userid", p.user_id());
        if let crate::principal::PrincipalKind::User { name, .. } = &p.kind {
            cx.set("aws:username", name.clone());
        }
        cx.set("aws:SecureTransport", self.secure_transport.to_string());
        let now = chrono::Utc::now();
        cx.set("aws:CurrentTime", now.format("%Y-%m-%dT%H:%M:%SZ").to_string());
        cx.set("aws:EpochTime", now.timestamp().to_string());
        if let Some(ip) = &self.source_ip {
            cx.set("aws:SourceIp", ip.clone());
        }
        cx
    }

    /// Whether this caller may perform `action` on `resource`.
    pub fn authorize_with(
        &self,
        action: &str,
        resource: &str,
        resource_policy: Option<&PolicyDocument>,
        extra: impl FnOnce(&mut ConditionContext),
    ) -> Result<(), AccessDenied> {
        let mut context = self.context();
        extra(&mut context);
        // The account an ARN names (12 digits); S3's ARNs, `*` and AWS's
        // own (`arn:aws:iam::aws:policy/…`) belong to no other account.
        let owner = resource
            .split(':')
            .nth(4)
            .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
            .unwrap_or(self.directory.account());
        let request =
            Request { principal: &self.principal, action, resource, resource_account: owner, context: &context };
        match evaluate(&request, resource_policy) {
            Decision::Allow => Ok(()),
            Decision::Deny(why) => {
                let message = why.message(&self.principal.arn(), action, resource);
                tracing::info!(%message, "access denied");
                Err(AccessDenied { message, denial: why })
            }
        }
    }
}

/// Whether the current caller may perform `action` on `resource` (always,
/// under `--auth open`).
pub fn authorize(action: &str, resource: &str) -> Result<(), AccessDenied> {
    authorize_with(action, resource, None, |_| {})
}

/// [`authorize`] with the resource's policy and request-specific condition keys.
pub fn authorize_with(
    action: &str,
    resource: &str,
    resource_policy: Option<&PolicyDocument>,
    extra: impl FnOnce(&mut ConditionContext),
) -> Result<(), AccessDenied> {
    match current() {
        Some(identity) => identity.authorize_with(action, resource, resource_policy, extra),
        None => Ok(()),
    }
}
