//! IAM's entities, stored durably in SQLite (`identity.db` in the data
//! dir): users and their access keys, roles and their trust policies,
//! inline and customer managed policies, attachments, and the STS sessions
//! `AssumeRole` handed out. Every write is one transaction, acknowledged
//! only once committed (`synchronous = FULL`).

mod policies;
mod roles;
mod sessions;
mod users;

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use rusqlite::Connection;

pub use policies::{AttachedPolicy, ManagedPolicy, OwnerKind, PolicyVersion};
pub use roles::NewRole;
pub use roles::Role;
pub use sessions::Session;
pub use users::{AccessKey, User};

use crate::policy::PolicyError;

const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE users (
    name        TEXT PRIMARY KEY COLLATE NOCASE,
    user_id     TEXT NOT NULL,
    path        TEXT NOT NULL,
    create_date TEXT NOT NULL,
    tags        TEXT NOT NULL
);
CREATE TABLE access_keys (
    access_key_id TEXT PRIMARY KEY,
    secret        TEXT NOT NULL,
    user_name     TEXT NOT NULL,
    status        TEXT NOT NULL,
    create_date   TEXT NOT NULL
);
CREATE TABLE roles (
    name                 TEXT PRIMARY KEY COLLATE NOCASE,
    role_id              TEXT NOT NULL,
    path                 TEXT NOT NULL,
    trust_policy         TEXT NOT NULL,
    description          TEXT,
    max_session_duration INTEGER NOT NULL,
    create_date          TEXT NOT NULL,
    tags                 TEXT NOT NULL
);
CREATE TABLE inline_policies (
    owner_kind  TEXT NOT NULL,
    owner       TEXT NOT NULL COLLATE NOCASE,
    policy_name TEXT NOT NULL,
    document    TEXT NOT NULL,
    PRIMARY KEY (owner_kind, owner, policy_name)
);
CREATE TABLE managed_policies (
    arn             TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    policy_id       TEXT NOT NULL,
    path            TEXT NOT NULL,
    description     TEXT,
    default_version TEXT NOT NULL,
    next_version    INTEGER NOT NULL,
    create_date     TEXT NOT NULL,
    update_date     TEXT NOT NULL
);
CREATE TABLE policy_versions (
    arn         TEXT NOT NULL,
    version_id  TEXT NOT NULL,
    document    TEXT NOT NULL,
    create_date TEXT NOT NULL,
    PRIMARY KEY (arn, version_id)
);
CREATE TABLE attachments (
    owner_kind TEXT NOT NULL,
    owner      TEXT NOT NULL COLLATE NOCASE,
    policy_arn TEXT NOT NULL,
    PRIMARY KEY (owner_kind, owner, policy_arn)
);
CREATE TABLE sessions (
    access_key_id TEXT PRIMARY KEY,
    secret        TEXT NOT NULL,
    token         TEXT NOT NULL,
    role_name     TEXT NOT NULL,
    session_name  TEXT NOT NULL,
    expiration    INTEGER NOT NULL
);
"#];

/// Why an IAM operation failed; each variant is one of IAM's error codes
/// and carries IAM's message.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("{0}")]
    NoSuchEntity(String),
    #[error("{0}")]
    EntityAlreadyExists(String),
    #[error("{0}")]
    DeleteConflict(String),
    #[error("{0}")]
    LimitExceeded(String),
    #[error("{0}")]
    InvalidInput(String),
    #[error("{0}")]
    MalformedPolicyDocument(#[from] PolicyError),
    #[error("open the identity store")]
    Open(#[from] lambdabox_store::OpenError),
    #[error("read or write the identity store")]
    Storage(#[from] rusqlite::Error),
}

impl IdentityError {
    /// IAM's error code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoSuchEntity(_) => "NoSuchEntity",
            Self::EntityAlreadyExists(_) => "EntityAlreadyExists",
            Self::DeleteConflict(_) => "DeleteConflict",
            Self::LimitExceeded(_) => "LimitExceeded",
            Self::InvalidInput(_) => "InvalidInput",
            Self::MalformedPolicyDocument(_) => "MalformedPolicyDocument",
            Self::Open(_) | Self::Storage(_) => "ServiceFailure",
        }
    }

    /// IAM's HTTP status for the code.
    pub fn status(&self) -> u16 {
        match self {
            Self::NoSuchEntity(_) => 404,
            Self::EntityAlreadyExists(_) | Self::DeleteConflict(_) | Self::LimitExceeded(_) => 409,
            Self::InvalidInput(_) | Self::MalformedPolicyDocument(_) => 400,
            Self::Open(_) | Self::Storage(_) => 500,
        }
    }
}

/// The durable identity store of one account.
pub struct IdentityStore {
    conn: Mutex<Connection>,
    account: String,
    /// Bumped after every write that can change who a key is or what its
    /// policies say (not for new STS sessions), so caches of principals
    /// know when to read again.
    generation: AtomicU64,
}

/// The connection, held for a write; dropping it (after the write
/// committed) bumps the store's generation.
pub(crate) struct WriteGuard<'a> {
    conn: MutexGuard<'a, Connection>,
    generation: &'a AtomicU64,
}

impl std::ops::Deref for WriteGuard<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.conn
    }
}

impl std::ops::DerefMut for WriteGuard<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }
}

impl Drop for WriteGuard<'_> {
    fn drop(&mut self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }
}

impl std::fmt::Debug for IdentityStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityStore").field("account", &self.account).finish_non_exhaustive()
    }
}

impl IdentityStore {
    /// Opens (creating and migrating) the database at `path`.
    pub fn open(path: &Path, account: &str) -> Result<Self, IdentityError> {
        let conn = lambdabox_store::open_migrated(path, MIGRATIONS)?;
        Ok(Self { conn: Mutex::new(conn), account: account.to_owned(), generation: AtomicU64::new(0) })
    }

    /// An in-memory store (tests).
    pub fn open_in_memory(account: &str) -> Result<Self, IdentityError> {
        let conn = lambdabox_store::open_migrated_in_memory(MIGRATIONS)?;
        Ok(Self { conn: Mutex::new(conn), account: account.to_owned(), generation: AtomicU64::new(0) })
    }

    pub fn account(&self) -> &str {
        &self.account
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A transaction rolls back when a panic unwinds through it, so a
        // poisoned lock still guards a consistent database.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The connection for a write that may change principals or policies.
    pub(crate) fn lock_write(&self) -> WriteGuard<'_> {
        WriteGuard { conn: self.lock(), generation: &self.generation }
    }

    /// How many writes have changed principals or policies so far; read it
    /// before reading what it guards.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }
}

/// Now, as IAM writes dates (`2026-12-06T12:00:00Z`).
pub(crate) fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// An IAM unique id: a prefix (`AIDA` users, `AROA` roles, `ANPA`
/// policies, `AKIA` access keys, `ASIA` session keys) and upper-case base32.
pub(crate) fn unique_id(prefix: &str, len: usize) -> String {
    const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = prefix.to_owned();
    while out.len() < len {
        for b in uuid::Uuid::new_v4().as_bytes() {
            if out.len() < len {
                out.push(char::from(BASE32[usize::from(b & 31)]));
            }
        }
    }
    out
}

/// A 40-character secret access key.
pub(crate) fn secret_key() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(40);
    while out.len() < 40 {
        for b in uuid::Uuid::new_v4().as_bytes() {
            if out.len() < 40 {
                out.push(char::from(ALPHABET[usize::from(b & 63)]));
            }
        }
    }
    out
}

/// Checks an IAM path (`/`, `/division/team/`).
pub(crate) fn check_path(path: &str) -> Result<(), IdentityError> {
    let ok = path.starts_with('/')
        && path.ends_with('/')
        && path.len() <= 512
        && path.bytes().all(|b| (0x21..=0x7e).contains(&b));
    if ok {
        Ok(())
    } else {
        Err(IdentityError::InvalidInput(format!(
            "The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters. (value: {path})"
        )))
    }
}

/// Tags as stored (a JSON list of `[key, value]`).
pub(crate) type Tags = Vec<(String, String)>;

pub(crate) fn tags_to_json(tags: &Tags) -> String {
    serde_json::to_string(&tags.iter().map(|(k, v)| vec![k.as_str(), v.as_str()]).collect::<Vec<_>>())
        .unwrap_or_else(|_| "[]".to_owned())
}

pub(crate) fn tags_from_json(text: &str) -> Tags {
    serde_json::from_str::<Vec<(String, String)>>(text).unwrap_or_default()
}

/// A stable id derived from a name (AWS managed policies' ids).
pub(crate) fn stable_id(prefix: &str, name: &str) -> String {
    const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut state: u64 = 0xcbf2_9ce4_8422_2325;
    let mut out = prefix.to_owned();
    while out.len() < 21 {
        for b in name.bytes() {
            state = (state ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        state = state.rotate_left(17) ^ out.len() as u64;
        out.push(char::from(BASE32[(state % 32) as usize]));
    }
    out
}
