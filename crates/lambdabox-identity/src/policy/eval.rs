//! Policy evaluation as AWS documents it, for one account's and
//! cross-account requests:
//!
//! 1. An explicit `Deny` that applies, in any identity-based or
//!    resource-based policy, denies.
//! 2. Within one account, an `Allow` in the caller's identity-based
//!    policies, or in the resource's policy naming the caller itself
//!    (not merely its account), allows. The account's root is allowed
//!    everything its account owns.
//! 3. Across accounts, both must allow: the caller's identity policies (or
//!    it is its account's root) and the resource's policy (naming the
//!    caller or its account).
//! 4. Anything else is an implicit deny.

use super::condition::ConditionContext;
use super::document::{Effect, Matcher, PolicyDocument, PrincipalMatcher, Principals, Statement};
use super::wildcard;
use crate::principal::{Principal, PrincipalKind};

/// What is asked: `action` on `resource`, owned by `resource_account`.
#[derive(Debug)]
pub struct Request<'a> {
    pub principal: &'a Principal,
    pub action: &'a str,
    pub resource: &'a str,
    pub resource_account: &'a str,
    pub context: &'a ConditionContext,
}

/// Why a request was denied (AWS's messages end with it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    ExplicitIdentity,
    ExplicitResource,
    NoIdentityAllow,
    NoResourceAllow,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Deny(Denial),
}

impl Denial {
    /// AWS's message: `User: ARN is not authorized to perform: ACTION on
    /// resource: RESOURCE because no identity-based policy allows the ACTION action`.
    pub fn message(self, principal_arn: &str, action: &str, resource: &str) -> String {
        let why = match self {
            Denial::ExplicitIdentity => "with an explicit deny in an identity-based policy".to_owned(),
            Denial::ExplicitResource => "with an explicit deny in a resource-based policy".to_owned(),
            Denial::NoIdentityAllow => format!("because no identity-based policy allows the {action} action"),
            Denial::NoResourceAllow => format!("because no resource-based policy allows the {action} action"),
        };
        format!("User: {principal_arn} is not authorized to perform: {action} on resource: {resource} {why}")
    }
}

/// How a resource policy statement's principal matches the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum PrincipalMatch {
    No,
    /// The statement names the caller's account (or everyone): in one
    /// account the identity policies must still allow.
    Account,
    /// The statement names the caller itself (user, role, session, service).
    Caller,
}

fn account_of(p: &str) -> Option<&str> {
    if p.len() == 12 && p.bytes().all(|b| b.is_ascii_digit()) {
        return Some(p);
    }
    p.strip_prefix("arn:aws:iam::").and_then(|r| r.strip_suffix(":root"))
}

fn principal_match(principals: &Principals, caller: &Principal) -> PrincipalMatch {
    if let PrincipalKind::Service(service) = &caller.kind {
        return if principals.service.iter().any(|s| s == service) || principals.anyone {
            PrincipalMatch::Caller
        } else {
            PrincipalMatch::No
        };
    }
    let mut best = if principals.anyone { PrincipalMatch::Account } else { PrincipalMatch::No };
    let (arn, principal_arn) = (caller.arn(), caller.principal_arn());
    for p in &principals.aws {
        let m = if account_of(p) == Some(caller.account.as_str()) {
            if caller.kind == PrincipalKind::Root { PrincipalMatch::Caller } else { PrincipalMatch::Account }
        } else if *p == arn || *p == principal_arn {
            PrincipalMatch::Caller
        } else {
            PrincipalMatch::No
        };
        best = best.max(m);
    }
    best
}

fn statement_principal(statement: &Statement, caller: &Principal) -> PrincipalMatch {
    match &statement.principal {
        None => PrincipalMatch::Caller,
        Some(PrincipalMatcher::Is(p)) => principal_match(p, caller),
        Some(PrincipalMatcher::Not(p)) => {
            if principal_match(p, caller) == PrincipalMatch::No {
                PrincipalMatch::Caller
            } else {
                PrincipalMatch::No
            }
        }
    }
}

/// Replaces the policy variables AWS substitutes in `Resource`
/// (`${aws:username}`, `${aws:userid}`, `${aws:PrincipalAccount}`, …).
fn substitute(pattern: &str, request: &Request<'_>) -> String {
    if !pattern.contains("${") {
        return pattern.to_owned();
    }
    let mut out = String::new();
    let mut rest = pattern;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let name = &rest[start + 2..start + end];
        let value = match name {
            "*" => Some("*".to_owned()),
            "?" => Some("?".to_owned()),
            "$" => Some("$".to_owned()),
            _ => request.context.get(name).and_then(|v| v.first().cloned()),
        };
        // An unknown variable makes the element match nothing.
        out.push_str(&value.unwrap_or_else(|| "\u{0}".to_owned()));
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    out
}

fn applies(statement: &Statement, request: &Request<'_>) -> bool {
    let action = match &statement.action {
        Matcher::Is(list) => list.iter().any(|p| wildcard::matches_ignore_case(p, request.action)),
        Matcher::Not(list) => !list.iter().any(|p| wildcard::matches_ignore_case(p, request.action)),
    };
    if !action {
        return false;
    }
    let resource = match &statement.resource {
        None => true,
        Some(Matcher::Is(list)) => {
            list.iter().any(|p| wildcard::arn_matches(&substitute(p, request), request.resource))
        }
        Some(Matcher::Not(list)) => {
            !list.iter().any(|p| wildcard::arn_matches(&substitute(p, request), request.resource))
        }
    };
    resource && statement.conditions.iter().all(|c| c.holds(request.context))
}

/// Whether a resource policy has an `Allow` that applies to the request's
/// caller (naming it or its account). A role's trust policy must, whatever
/// the caller's own policies say.
pub fn resource_policy_allows(request: &Request<'_>, policy: &PolicyDocument) -> bool {
    policy.statements.iter().any(|s| {
        s.effect == Effect::Allow
            && statement_principal(s, request.principal) != PrincipalMatch::No
            && applies(s, request)
    })
}

/// Evaluates a request against the caller's identity-based policies and
/// the resource's policy, if it has one.
pub fn evaluate(request: &Request<'_>, resource_policy: Option<&PolicyDocument>) -> Decision {
    let caller = request.principal;
    let mut identity_allow = caller.kind == PrincipalKind::Root;
    for statement in caller.policies.iter().flat_map(|p| &p.statements) {
        if applies(statement, request) {
            match statement.effect {
                Effect::Deny => return Decision::Deny(Denial::ExplicitIdentity),
                Effect::Allow => identity_allow = true,
            }
        }
    }
    let mut resource_allow = PrincipalMatch::No;
    for statement in resource_policy.iter().flat_map(|p| &p.statements) {
        let who = statement_principal(statement, caller);
        if who == PrincipalMatch::No || !applies(statement, request) {
            continue;
        }
        match statement.effect {
            Effect::Deny => return Decision::Deny(Denial::ExplicitResource),
            Effect::Allow => resource_allow = resource_allow.max(who),
        }
    }
    let same_account = caller.account == request.resource_account;
    let service = matches!(caller.kind, PrincipalKind::Service(_));
    let allowed = if same_account && !service {
        identity_allow || resource_allow == PrincipalMatch::Caller
    } else if service {
        resource_allow != PrincipalMatch::No
    } else {
        identity_allow && resource_allow != PrincipalMatch::No
    };
    if allowed {
        Decision::Allow
    } else if !same_account && resource_allow == PrincipalMatch::No {
        Decision::Deny(Denial::NoResourceAllow)
    } else {
        Decision::Deny(Denial::NoIdentityAllow)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::policy::PolicyKind;

    const ACCOUNT: &str = "123456789012";

    fn user(policies: &[&str]) -> Principal {
        Principal {
            account: ACCOUNT.into(),
            kind: PrincipalKind::User { name: "alice".into(), path: "/".into(), id: "AIDAALICE".into() },
            policies: policies
                .iter()
                .map(|p| Arc::new(PolicyDocument::parse(p, PolicyKind::Identity).unwrap()))
                .collect(),
        }
    }

    fn decide(p: &Principal, action: &str, resource: &str, resource_policy: Option<&str>) -> Decision {
        let mut context = ConditionContext::default();
        context.set("aws:username", "alice");
        context.set("aws:SecureTransport", "false");
        let policy = resource_policy.map(|r| PolicyDocument::parse(r, PolicyKind::Resource).unwrap());
        let owner = resource.split(':').nth(4).filter(|a| !a.is_empty()).unwrap_or(ACCOUNT);
        evaluate(
            &Request { principal: p, action, resource, resource_account: owner, context: &context },
            policy.as_ref(),
        )
    }

    const F: &str = "arn:aws:lambda:us-east-1:123456789012:function:f";
    const G: &str = "arn:aws:lambda:us-east-1:123456789012:function:g";

    #[test]
    fn identity_policies_allow_and_explicit_deny_wins() {
        let invoke_f = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:123456789012:function:f"}]}"#;
        let alice = user(&[invoke_f]);
        assert_eq!(decide(&alice, "lambda:InvokeFunction", F, None), Decision::Allow);
        assert_eq!(decide(&alice, "lambda:InvokeFunction", G, None), Decision::Deny(Denial::NoIdentityAllow));
        assert_eq!(decide(&alice, "lambda:DeleteFunction", F, None), Decision::Deny(Denial::NoIdentityAllow));
        let deny = r#"{"Statement":[{"Effect":"Deny","Action":"lambda:*","Resource":"*"}]}"#;
        let admin = r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
        assert_eq!(decide(&user(&[admin]), "lambda:InvokeFunction", F, None), Decision::Allow);
        assert_eq!(
            decide(&user(&[admin, deny]), "lambda:InvokeFunction", F, None),
            Decision::Deny(Denial::ExplicitIdentity)
        );
        assert_eq!(decide(&user(&[admin, deny]), "s3:GetObject", "arn:aws:s3:::b/k", None), Decision::Allow);
        // NotAction / NotResource.
        let not =
            r#"{"Statement":[{"Effect":"Allow","NotAction":"iam:*","NotResource":"arn:aws:lambda:*:*:function:g"}]}"#;
        assert_eq!(decide(&user(&[not]), "lambda:GetFunction", F, None), Decision::Allow);
        assert_eq!(decide(&user(&[not]), "lambda:GetFunction", G, None), Decision::Deny(Denial::NoIdentityAllow));
        assert_eq!(decide(&user(&[not]), "iam:CreateUser", F, None), Decision::Deny(Denial::NoIdentityAllow));
        // Policy variables.
        let home =
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::home/${aws:username}/*"}]}"#;
        assert_eq!(decide(&user(&[home]), "s3:GetObject", "arn:aws:s3:::home/alice/x", None), Decision::Allow);
        assert_eq!(
            decide(&user(&[home]), "s3:GetObject", "arn:aws:s3:::home/bob/x", None),
            Decision::Deny(Denial::NoIdentityAllow)
        );
    }

    #[test]
    fn resource_policies_allow_the_principals_they_name() {
        let names_alice = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/alice"},"Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:123456789012:function:f"}]}"#;
        let names_account = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"lambda:InvokeFunction","Resource":"*"}]}"#;
        let alice = user(&[]);
        assert_eq!(decide(&alice, "lambda:InvokeFunction", F, Some(names_alice)), Decision::Allow);
        // Naming the account delegates to its identity policies.
        assert_eq!(
            decide(&alice, "lambda:InvokeFunction", F, Some(names_account)),
            Decision::Deny(Denial::NoIdentityAllow)
        );
        let deny_all = r#"{"Statement":[{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}]}"#;
        assert_eq!(
            decide(&Principal::root(ACCOUNT), "lambda:InvokeFunction", F, Some(deny_all)),
            Decision::Deny(Denial::ExplicitResource)
        );
        assert_eq!(decide(&Principal::root(ACCOUNT), "lambda:InvokeFunction", F, None), Decision::Allow);
    }

    #[test]
    fn other_accounts_need_both_policies() {
        let other_root = Principal::root("210987654321");
        assert_eq!(decide(&other_root, "lambda:InvokeFunction", F, None), Decision::Deny(Denial::NoResourceAllow));
        let grants_other = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:root"},"Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:123456789012:function:f"}]}"#;
        assert_eq!(decide(&other_root, "lambda:InvokeFunction", F, Some(grants_other)), Decision::Allow);
        assert_eq!(
            decide(&other_root, "lambda:InvokeFunction", G, Some(grants_other)),
            Decision::Deny(Denial::NoResourceAllow)
        );
        let mut other_user = user(&[]);
        other_user.account = "210987654321".into();
        assert_eq!(
            decide(&other_user, "lambda:InvokeFunction", F, Some(grants_other)),
            Decision::Deny(Denial::NoIdentityAllow)
        );
    }

    #[test]
    fn service_principals_with_conditions() {
        let s3 = Principal {
            account: ACCOUNT.into(),
            kind: PrincipalKind::Service("s3.amazonaws.com".into()),
            policies: vec![],
        };
        let policy = r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"*",
            "Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::my-bucket"}}}]}"#;
        let mut context = ConditionContext::default();
        context.set("aws:SourceArn", "arn:aws:s3:::my-bucket");
        let doc = PolicyDocument::parse(policy, PolicyKind::Resource).unwrap();
        let req = |context: &ConditionContext| {
            let r = Request {
                principal: &s3,
                action: "lambda:InvokeFunction",
                resource: F,
                resource_account: ACCOUNT,
                context,
            };
            evaluate(&r, Some(&doc))
        };
        assert_eq!(req(&context), Decision::Allow);
        let mut other = context.clone();
        other.set("aws:SourceArn", "arn:aws:s3:::other");
        assert_eq!(req(&other), Decision::Deny(Denial::NoIdentityAllow));
    }

    #[test]
    fn messages_are_aws_s() {
        assert_eq!(
            Denial::NoIdentityAllow.message("arn:aws:iam::123456789012:user/alice", "lambda:CreateFunction", F),
            "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: lambda:CreateFunction on resource: arn:aws:lambda:us-east-1:123456789012:function:f because no identity-based policy allows the lambda:CreateFunction action"
        );
    }
}
