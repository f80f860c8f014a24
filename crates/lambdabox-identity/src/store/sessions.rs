//! STS sessions: the temporary credentials `AssumeRole` hands out, kept
//! until they expire (so they survive a restart, as AWS's do).

use rusqlite::{OptionalExtension, params};

use super::{IdentityError, IdentityStore, unique_id};

#[derive(Clone, PartialEq, Eq)]
pub struct Session {
    pub access_key_id: String,
    pub secret: String,
    pub token: String,
    pub role_name: String,
    pub session_name: String,
    /// Seconds since the epoch.
    pub expiration: i64,
}

impl std::fmt::Debug for Session {
    // Never print secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("access_key_id", &self.access_key_id)
            .field("role_name", &self.role_name)
            .field("session_name", &self.session_name)
            .finish_non_exhaustive()
    }
}

impl IdentityStore {
    /// New temporary credentials for a role session lasting `seconds`.
    pub fn create_session(&self, role_name: &str, session_name: &str, seconds: u32) -> Result<Session, IdentityError> {
        let minted = lambdabox_aws::session::SessionCredentials::mint();
        let now = chrono::Utc::now().timestamp();
        let session = Session {
            access_key_id: unique_id("ASIA", 20),
            secret: minted.secret_access_key,
            token: minted.session_token,
            role_name: role_name.to_owned(),
            session_name: session_name.to_owned(),
            expiration: now + i64::from(seconds),
        };
        let conn = self.lock();
        conn.execute("DELETE FROM sessions WHERE expiration < ?1", [now])?;
        conn.execute(
            "INSERT INTO sessions (access_key_id, secret, token, role_name, session_name, expiration) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                session.access_key_id,
                session.secret,
                session.token,
                session.role_name,
                session.session_name,
                session.expiration
            ],
        )?;
        Ok(session)
    }

    /// The unexpired session of an access key.
    pub fn session(&self, access_key_id: &str) -> Result<Option<Session>, IdentityError> {
        let now = chrono::Utc::now().timestamp();
        let conn = self.lock();
        Ok(conn
            .query_row(
                "SELECT access_key_id, secret, token, role_name, session_name, expiration FROM sessions WHERE access_key_id = ?1 AND expiration >= ?2",
                params![access_key_id, now],
                |r| {
                    Ok(Session {
                        access_key_id: r.get(0)?,
                        secret: r.get(1)?,
                        token: r.get(2)?,
                        role_name: r.get(3)?,
                        session_name: r.get(4)?,
                        expiration: r.get(5)?,
                    })
                },
            )
            .optional()?)
    }
}
