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

/// A key's resolution, kept while the store's generation is unchanged
/// (and, for a session, until it expires).
#[derive(Debug, Clone)]
struct Resolved {
    generation: u64,
    secret: String,
    principal: Principal,
    /// A session's token, which every request must carry.
    token: Option<String>,
    /// A session's expiry (seconds since the epoch).
    expires: Option<i64>,
}

/// At most this many keys' resolutions are cached (then all are dropped).
const CACHE_MAX: usize = 10_000;

#[derive(Debug)]
pub struct Directory {
    pub store: Arc<IdentityStore>,
    bootstrap: Credentials,
    foreign: ForeignAccounts,
    /// IAM users' and STS sessions' keys, and role sessions
    /// (`role:ARN:SESSION`), as last read from the store: a request by a
    /// known key costs no database read until an IAM write.
    cache: std::sync::Mutex<std::collections::HashMap<String, Resolved>>,
}

impl Directory {
    pub fn new(store: Arc<IdentityStore>, bootstrap: Credentials) -> Self {
        Self { store, bootstrap, foreign: ForeignAccounts::default(), cache: Default::default() }
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
        self.resolve(access_key_id).ok().flatten().map(|r| r.secret)
    }

    fn cached(&self, key: &str, generation: u64) -> Option<Resolved> {
        let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        let hit = cache.get(key)?;
        let fresh = hit.generation == generation && hit.expires.is_none_or(|e| e >= chrono::Utc::now().timestamp());
        fresh.then(|| hit.clone())
    }

    fn remember(&self, key: &str, resolved: &Resolved) {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= CACHE_MAX {
            cache.clear();
        }
        cache.insert(key.to_owned(), resolved.clone());
    }

    /// An IAM user's active key or an unexpired STS session's, from the
    /// cache or the store.
    fn resolve(&self, access_key_id: &str) -> Result<Option<Resolved>, AuthnError> {
        // The generation is read before the store, so a write committed
        // meanwhile makes this resolution stale rather than wrong.
        let generation = self.store.generation();
        if let Some(hit) = self.cached(access_key_id, generation) {
            return Ok(Some(hit));
        }
        let account = self.account().to_owned();
        let resolved = if let Some(key) = self.store.access_key(access_key_id)? {
            if key.status != "Active" {
                return Ok(None);
            }
            let user = self.store.get_user(&key.user_name)?;
            let policies = self.store.policies_of(OwnerKind::User, &user.name)?;
            Resolved {
                generation,
                secret: key.secret,
                principal: Principal {
                    account,
                    kind: PrincipalKind::User { name: user.name, path: user.path, id: user.user_id },
                    policies,
                },
                token: None,
                expires: None,
            }
        } else if let Some(session) = self.store.session(access_key_id)? {
            let role = self.store.get_role(&session.role_name)?;
            Resolved {
                generation,
                principal: self.role_session(&role.arn, &session.session_name)?,
                secret: session.secret,
                token: Some(session.token),
                expires: Some(session.expiration),
            }
        } else {
            return Ok(None);
        };
        self.remember(access_key_id, &resolved);
        Ok(Some(resolved))
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
        match self.resolve(access_key_id)? {
            Some(resolved) if resolved.token.is_some() && token != resolved.token.as_deref() => {
                Err(AuthnError::InvalidToken)
            }
            Some(resolved) => Ok(resolved.principal),
            None => Err(AuthnError::UnknownKey),
        }
    }

    /// A session of the role an ARN names, with the role's policies (none
    /// if the role does not exist here).
    pub fn role_session(&self, role_arn: &str, session: &str) -> Result<Principal, AuthnError> {
        let generation = self.store.generation();
        let cache_key = format!("role:{role_arn}:{session}");
        if let Some(hit) = self.cached(&cache_key, generation) {
            return Ok(hit.principal);
        }
        let principal = self.read_role_session(role_arn, session)?;
        let resolved =
            Resolved { generation, secret: String::new(), principal: principal.clone(), token: None, expires: None };
        self.remember(&cache_key, &resolved);
        Ok(principal)
    }

    fn read_role_session(&self, role_arn: &str, session: &str) -> Result<Principal, AuthnError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::OwnerKind;

    #[test]
    fn a_cached_principal_follows_every_iam_write() {
        let store = Arc::new(IdentityStore::open_in_memory("123456789012").unwrap());
        let directory = Directory::new(store.clone(), Credentials::default());
        store.create_user("u", None, vec![]).unwrap();
        let key = store.create_access_key("u").unwrap();
        assert!(directory.principal(&key.access_key_id, None).unwrap().policies.is_empty());
        assert_eq!(directory.secret(&key.access_key_id).as_deref(), Some(key.secret.as_str()));
        let allow = r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
        store.put_inline_policy(OwnerKind::User, "u", "p", allow).unwrap();
        assert_eq!(directory.principal(&key.access_key_id, None).unwrap().policies.len(), 1);
        store.update_access_key("u", &key.access_key_id, "Inactive").unwrap();
        assert_eq!(directory.secret(&key.access_key_id), None);
        assert!(matches!(directory.principal(&key.access_key_id, None), Err(AuthnError::UnknownKey)));
    }
}
