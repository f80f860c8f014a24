//! Identity and trust, shared by every service: IAM's entities stored
//! durably ([`store`]), the AWS managed policies ([`managed`]), the policy
//! language and its evaluation ([`policy`]), who signed a request
//! ([`directory`], [`principal`]) and the per-request check every service
//! makes before it acts ([`context::authorize`]).
//!
//! The IAM and STS service crates are this crate's APIs; Lambda, S3, Logs
//! and API Gateway call [`context::authorize`] with the action and resource
//! ARN AWS's service authorization reference gives each operation.

pub mod context;
pub mod directory;
pub mod managed;
pub mod policy;
pub mod principal;
pub mod store;

pub use context::{AccessDenied, RequestIdentity, authorize, authorize_with};
pub use directory::{AssumeRoleError, AuthnError, Directory, ForeignAccounts};
pub use principal::{Principal, PrincipalKind};
pub use store::{IdentityError, IdentityStore};
