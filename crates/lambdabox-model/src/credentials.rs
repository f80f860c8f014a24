//! The AWS credentials Lambdabox knows: the access key ids and secret keys
//! that SigV4 signatures are checked against (function URLs with `AWS_IAM`,
//! the built-in S3 endpoint). LocalStack's users expect `test`/`test`, so
//! that is the default.

use std::collections::BTreeMap;
use std::fmt;

/// A set of access key id → secret access key pairs.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    keys: BTreeMap<String, String>,
}

/// Why a credentials list did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialsError {
    #[error("'{0}' is not ACCESS_KEY_ID:SECRET_ACCESS_KEY")]
    NotAPair(String),
    #[error("no credentials given")]
    Empty,
}

impl Credentials {
    /// Parses `KEY:SECRET[,KEY:SECRET…]` (the secret may itself contain `:`).
    pub fn parse(s: &str) -> Result<Self, CredentialsError> {
        let mut keys = BTreeMap::new();
        for pair in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (id, secret) = pair.split_once(':').ok_or_else(|| CredentialsError::NotAPair(pair.to_owned()))?;
            if id.is_empty() || secret.is_empty() {
                return Err(CredentialsError::NotAPair(pair.to_owned()));
            }
            keys.insert(id.to_owned(), secret.to_owned());
        }
        if keys.is_empty() {
            return Err(CredentialsError::Empty);
        }
        Ok(Self { keys })
    }

    /// The secret access key of an access key id, if it is known.
    pub fn secret(&self, access_key_id: &str) -> Option<&str> {
        self.keys.get(access_key_id).map(String::as_str)
    }

    /// Every (access key id, secret) pair.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.keys.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

impl Default for Credentials {
    fn default() -> Self {
        Self { keys: BTreeMap::from([("test".to_owned(), "test".to_owned())]) }
    }
}

impl fmt::Debug for Credentials {
    // Never print secrets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials").field("access_key_ids", &self.keys.keys().collect::<Vec<_>>()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pairs() {
        let c = Credentials::parse("AKID:sec:ret, test:test").unwrap();
        assert_eq!(c.secret("AKID"), Some("sec:ret"));
        assert_eq!(c.secret("test"), Some("test"));
        assert_eq!(c.secret("other"), None);
        assert_eq!(Credentials::parse("nocolon"), Err(CredentialsError::NotAPair("nocolon".into())));
        assert_eq!(Credentials::parse(":x"), Err(CredentialsError::NotAPair(":x".into())));
        assert_eq!(Credentials::parse(" , "), Err(CredentialsError::Empty));
        assert_eq!(Credentials::default().secret("test"), Some("test"));
        assert!(!format!("{c:?}").contains("ret"));
    }
}
