//! AWS's policy language: documents ([`document`]), wildcards
//! ([`wildcard`]), conditions ([`condition`]) and the evaluation logic
//! ([`eval`]).

pub mod condition;
pub mod document;
pub mod eval;
pub mod wildcard;

pub use condition::ConditionContext;
pub use document::{Effect, PolicyDocument, PolicyError, PolicyKind};
pub use eval::{Decision, Denial, Request, evaluate, resource_policy_allows};
