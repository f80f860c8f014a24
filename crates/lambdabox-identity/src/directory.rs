//! The directory every service asks who signed a request: the secret of an
//! access key (for SigV4) and the [`Principal`] behind it with its
//! identity-based policies. Keys come from four places: `--credentials`
//! (the account's root), IAM users' access keys, `AssumeRole` sessions, and
//! execution environments' own keys (their function's role session, known
//! only through that environment's endpoint).

use std::sync::Arc;

use lambdabox_model::Credentials;

use crate::policy::{
    ConditionContext, Decision, PolicyDocument, PolicyKind, Request, evaluate, resource_policy_allows,
};
use crate::principal::{Principal, PrincipalKind};
use crate::store::{IdentityError, IdentityStore, OwnerKind, Role, Session};

/// Why a key does not identify a principal.
#[derive(Debug, thiserror::Error)]
pub enum AuthnError {
    #[error("The security token included in the request is invalid.")]
    InvalidToken,
    #[error("The security token included in the request is invalid.")]
    UnknownKey,
    #[error("the identity store failed")]
    Store(#[from] IdentityError),
}

/// Why `AssumeRole` refused.
#[derive(Debug, thiserror::Error)]
pub enum AssumeRoleError {
    #[error("{0}")]
    AccessDenied(String),
    #[error("{0}")]
    Validation(String),
    #[error("the identity store failed")]
    Store(#[from] IdentityError),
}

/// The root keys of other accounts (`--foreign-credentials
/// ACCOUNT=KEY:SECRET,…`): callers from outside this server's account,
/// who get in only where a resource's policy lets their account in.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ForeignAccounts {
    keys: std::collections::BTreeMap<String, (String, String)>,
}

impl std::fmt::Debug for ForeignAccounts {
    // Never print secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.keys.iter().map(|(k, (a, _))| (a, k))).finish()
    }
}

impl ForeignAccounts {
    /// Parses `ACCOUNT=KEY:SECRET[,ACCOUNT=KEY:SECRET…]`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut keys = std::collections::BTreeMap::new();
        for entry in s.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let bad = || format!("'{entry}' is not ACCOUNT=ACCESS_KEY_ID:SECRET_ACCESS_KEY");
            let (account, pair) = entry.split_once('=').ok_or_else(bad)?;
            let (key, secret) = pair.split_once(':').ok_or_else(bad)?;
            if account.len() != 12
                || !account.bytes().all(|b| b.is_ascii_digit())
                || key.is_empty()
                || secret.is_empty()
            {
                return Err(bad());
            }
            keys.insert(key.to_owned(), (account.to_owned(), secret.to_owned()));
        }
        Ok(Self { keys })
    }
}

#[derive(Debug)]
pub struct Directory {
    pub store: Arc<IdentityStore>,
    bootstrap: Credentials,
    foreign: ForeignAccounts,
}

impl Directory {
    pub fn new(store: Arc<IdentityStore>, bootstrap: Credentials) -> Self {
        Self { store, bootstrap, foreign: ForeignAccounts::default() }
    }

    /// With other accounts' root keys.
    pub fn with_foreign(mut self, foreign: ForeignAccounts) -> Self {
        self.foreign = foreign;
        self
    }

    pub fn account(&self) -> &str {
        self.store.account()
    }

    /// The secret of an access key, wherever it comes from.
    pub fn secret(&self, access_key_id: &str) -> Option<String> {
        if let Some(secret) = self.bootstrap.secret(access_key_id) {
            return Some(secret.to_owned());
        }
        if let Some((_, secret)) = self.foreign.keys.get(access_key_id) {
            return Some(secret.clone());
        }
        if let Some(secret) = lambdabox_aws::session::session_secret(access_key_id) {
            return Some(secret);
        }
        if let Ok(Some(key)) = self.store.access_key(access_key_id)
            && key.status == "Active"
        {
            return Some(key.secret);
        }
        match self.store.session(access_key_id) {
            Ok(Some(session)) => Some(session.secret),
            _ => None,
        }
    }

    /// Who an access key (with the request's session token, if any) is.
    pub fn principal(&self, access_key_id: &str, token: Option<&str>) -> Result<Principal, AuthnError> {
        let account = self.account();
        if self.bootstrap.secret(access_key_id).is_some() {
            return Ok(Principal::root(account));
        }
        if let Some((foreign, _)) = self.foreign.keys.get(access_key_id) {
            return Ok(Principal::root(foreign));
        }
        if let Some(caller) = lambdabox_aws::session::caller()
            && caller.credentials.access_key_id == access_key_id
        {
            if token.is_some_and(|t| t != caller.credentials.session_token) {
                return Err(AuthnError::InvalidToken);
            }
            let function = caller.function_arn.split(":function:").nth(1).and_then(|f| f.split(':').next());
            return self.role_session(&caller.role_arn, function.unwrap_or("function"));
        }
        if let Some(key) = self.store.access_key(access_key_id)? {
            let user = self.store.get_user(&key.user_name)?;
            let policies = self.store.policies_of(OwnerKind::User, &user.name)?;
            return Ok(Principal {
                account: account.to_owned(),
                kind: PrincipalKind::User { name: user.name, path: user.path, id: user.user_id },
                policies,
            });
        }
        if let Some(session) = self.store.session(access_key_id)? {
            if token != Some(session.token.as_str()) {
                return Err(AuthnError::InvalidToken);
            }
            let role = self.store.get_role(&session.role_name)?;
            return self.role_session(&role.arn, &session.session_name);
        }
        Err(AuthnError::UnknownKey)
    }

    /// A session of the role an ARN names, with the role's policies (none
    /// if the role does not exist here).
    pub fn role_session(&self, role_arn: &str, session: &str) -> Result<Principal, AuthnError> {
        let account = self.account().to_owned();
        let role = self.store.role_by_arn(role_arn)?;
        let (role_name, role_path, role_id, policies) = match role {
            Some(role) => {
                let policies = self.store.policies_of(OwnerKind::Role, &role.name)?;
                (role.name, role.path, role.role_id, policies)
            }
            None => {
                let rest = role_arn.split(":role").nth(1).unwrap_or("/unknown");
                let name = rest.rsplit('/').next().unwrap_or(rest).to_owned();
                let path = rest[..rest.len() - name.len()].to_owned();
                (
                    name,
                    if path.is_empty() { "/".to_owned() } else { path },
                    crate::store::stable_id("AROA", role_arn),
                    Vec::new(),
                )
            }
        };
        Ok(Principal {
            account,
            kind: PrincipalKind::AssumedRole { role_name, role_path, role_id, session: session.to_owned() },
            policies,
        })
    }

    /// Whether `service` (`lambda.amazonaws.com`) may assume a role: it
    /// exists and its trust policy allows `sts:AssumeRole` to that service.
    pub fn trusts_service(&self, role_arn: &str, service: &str) -> Result<Option<Role>, IdentityError> {
        let Some(role) = self.store.role_by_arn(role_arn)? else { return Ok(None) };
        let trust = PolicyDocument::parse(&role.assume_role_policy, PolicyKind::Trust)?;
        let principal = Principal {
            account: self.account().to_owned(),
            kind: PrincipalKind::Service(service.to_owned()),
            policies: Vec::new(),
        };
        let context = ConditionContext::default();
        let request = Request {
            principal: &principal,
            action: "sts:AssumeRole",
            resource: &role.arn,
            resource_account: self.account(),
            context: &context,
        };
        Ok((evaluate(&request, Some(&trust)) == Decision::Allow).then_some(role))
    }

    /// `AssumeRole`: temporary credentials for `caller` as a session of the
    /// role, if the role's trust policy (and, for an IAM principal, its
    /// own policies) allow it.
    pub fn assume_role(
        &self,
        caller: &Principal,
        context: &ConditionContext,
        role_arn: &str,
        session_name: &str,
        duration: Option<u32>,
    ) -> Result<(Session, Role), AssumeRoleError> {
        let denied = || {
            AssumeRoleError::AccessDenied(format!(
                "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
                caller.arn()
            ))
        };
        let role = self.store.role_by_arn(role_arn)?.ok_or_else(denied)?;
        let trust = PolicyDocument::parse(&role.assume_role_policy, PolicyKind::Trust).map_err(IdentityError::from)?;
        let request = Request {
            principal: caller,
            action: "sts:AssumeRole",
            resource: &role.arn,
            resource_account: self.account(),
            context,
        };
        // The trust policy must allow the caller; naming only its account
        // delegates to the caller's own policies, naming the caller (or
        // the caller being that account's root) is enough by itself.
        if !resource_policy_allows(&request, &trust) || evaluate(&request, Some(&trust)) != Decision::Allow {
            return Err(denied());
        }
        let duration = duration.unwrap_or(3600);
        if duration < 900 || duration > role.max_session_duration {
            return Err(AssumeRoleError::Validation(
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.".to_owned(),
            ));
        }
        let session = self.store.create_session(&role.name, session_name, duration)?;
        Ok((session, role))
    }
}

impl lambdabox_aws::sigv4::SecretSource for Directory {
    fn secret(&self, access_key_id: &str) -> Option<String> {
        Directory::secret(self, access_key_id)
    }
}
