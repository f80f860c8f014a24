//! The temporary credentials of one execution environment, and who is
//! calling through that environment's own endpoint.
//!
//! As on AWS, every environment gets `AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`: here they are minted
//! for the environment alone ([`SessionCredentials::mint`]) and known only
//! to the endpoint that serves it. That endpoint runs each request inside
//! [`scope`] with the [`Caller`] it knows from the connection (never from
//! what the request claims); a service checking a signature asks
//! [`session_secret`] for the secret of an access key, which answers only
//! for the calling environment's own key. On any other listener the key is
//! unknown.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use base64::Engine as _;

/// An environment's temporary credentials (an STS-style session).
#[derive(Clone, PartialEq, Eq)]
pub struct SessionCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
}

impl SessionCredentials {
    /// New random credentials in AWS's forms: an `ASIA…` access key id of 20
    /// characters, a 40-character secret, a long opaque session token.
    pub fn mint() -> Self {
        const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let bytes = random::<16>();
        let access_key_id =
            "ASIA".chars().chain(bytes.iter().map(|b| char::from(BASE32[usize::from(b & 31)]))).collect::<String>();
        let b64 = base64::engine::general_purpose::STANDARD;
        let secret_access_key = b64.encode(random::<30>());
        let mut token = b"IQoJb3JpZ2luX2VjEL".to_vec();
        token.extend_from_slice(&random::<192>());
        let session_token = b64.encode(token);
        Self { access_key_id, secret_access_key, session_token }
    }
}

impl fmt::Debug for SessionCredentials {
    // Never print secrets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionCredentials").field("access_key_id", &self.access_key_id).finish_non_exhaustive()
    }
}

fn random<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    for chunk in out.chunks_mut(16) {
        let id = uuid::Uuid::new_v4();
        chunk.copy_from_slice(&id.as_bytes()[..chunk.len()]);
    }
    out
}

/// Who is calling through an environment's endpoint.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The function's ARN, with its version (`…:function:NAME:VERSION`).
    pub function_arn: String,
    /// The function's execution role (its `Role`).
    pub role_arn: String,
    pub credentials: SessionCredentials,
    /// How deep in a chain of invocations the environment's current
    /// invocation is (1: invoked from outside), kept by the engine.
    pub depth: Arc<std::sync::atomic::AtomicU32>,
}

impl Caller {
    pub fn depth(&self) -> u32 {
        self.depth.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// AWS's recursive loop detection: the invocation after this many in one
/// chain of requests is stopped.
pub const RECURSION_LIMIT: u32 = 16;

/// The depth of an invocation made now: one more than the calling
/// environment's, 1 when it does not come from an environment.
pub fn chain_depth() -> u32 {
    caller().map_or(1, |c| c.depth().saturating_add(1))
}

tokio::task_local! {
    static CALLER: Arc<Caller>;
}

/// Runs `f` as a request from `caller`'s environment.
pub async fn scope<F: Future>(caller: Arc<Caller>, f: F) -> F::Output {
    CALLER.scope(caller, f).await
}

/// The calling environment, when the request came through its endpoint.
pub fn caller() -> Option<Arc<Caller>> {
    CALLER.try_with(Arc::clone).ok()
}

/// The secret of `access_key_id` if it is the calling environment's own key.
pub fn session_secret(access_key_id: &str) -> Option<String> {
    CALLER
        .try_with(|c| (c.credentials.access_key_id == access_key_id).then(|| c.credentials.secret_access_key.clone()))
        .ok()
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_credentials_have_aws_forms_and_differ() {
        let a = SessionCredentials::mint();
        let b = SessionCredentials::mint();
        assert!(a.access_key_id.starts_with("ASIA") && a.access_key_id.len() == 20, "{}", a.access_key_id);
        assert!(a.access_key_id.bytes().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
        assert_eq!(a.secret_access_key.len(), 40);
        assert!(a.session_token.len() > 200);
        assert_ne!(a.access_key_id, b.access_key_id);
        assert_ne!(a.secret_access_key, b.secret_access_key);
        assert!(!format!("{a:?}").contains(&a.secret_access_key));
    }

    #[tokio::test]
    async fn only_the_calling_environments_key_is_known() {
        let creds = SessionCredentials::mint();
        let key = creds.access_key_id.clone();
        assert_eq!(session_secret(&key), None, "outside any endpoint");
        let caller = Arc::new(Caller {
            function_arn: "arn:aws:lambda:us-east-1:0:function:f:$LATEST".into(),
            role_arn: "arn:aws:iam::0:role/r".into(),
            credentials: creds.clone(),
            depth: Arc::new(3.into()),
        });
        let inside = scope(caller, async { (session_secret(&key), session_secret("ASIAOTHER"), chain_depth()) }).await;
        assert_eq!(inside, (Some(creds.secret_access_key), None, 4));
        assert_eq!(chain_depth(), 1);
    }
}
