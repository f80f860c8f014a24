//! IAM users and their access keys.

use rusqlite::{OptionalExtension, params};

use super::{IdentityError, IdentityStore, Tags, check_path, now, secret_key, tags_from_json, tags_to_json, unique_id};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub user_id: String,
    pub path: String,
    pub arn: String,
    pub create_date: String,
    pub tags: Tags,
}

#[derive(Clone, PartialEq, Eq)]
pub struct AccessKey {
    pub access_key_id: String,
    pub secret: String,
    pub user_name: String,
    /// `Active` or `Inactive`.
    pub status: String,
    pub create_date: String,
}

impl std::fmt::Debug for AccessKey {
    // Never print secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessKey")
            .field("access_key_id", &self.access_key_id)
            .field("user_name", &self.user_name)
            .finish_non_exhaustive()
    }
}

/// IAM's quota of access keys per user.
pub const ACCESS_KEYS_PER_USER: usize = 2;

fn no_such_user(name: &str) -> IdentityError {
    IdentityError::NoSuchEntity(format!("The user with name {name} cannot be found."))
}

impl IdentityStore {
    fn user_row(&self, row: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
        let (name, path): (String, String) = (row.get(0)?, row.get(2)?);
        Ok(User {
            arn: format!("arn:aws:iam::{}:user{path}{name}", self.account),
            name,
            user_id: row.get(1)?,
            path,
            create_date: row.get(3)?,
            tags: tags_from_json(&row.get::<_, String>(4)?),
        })
    }

    pub fn create_user(&self, name: &str, path: Option<&str>, tags: Tags) -> Result<User, IdentityError> {
        let path = path.unwrap_or("/");
        check_path(path)?;
        let conn = self.lock_write();
        let exists: Option<String> =
            conn.query_row("SELECT name FROM users WHERE name = ?1", [name], |r| r.get(0)).optional()?;
        if exists.is_some() {
            return Err(IdentityError::EntityAlreadyExists(format!("User with name {name} already exists.")));
        }
        let user_id = unique_id("AIDA", 21);
        let created = now();
        conn.execute(
            "INSERT INTO users (name, user_id, path, create_date, tags) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![name, user_id, path, created, tags_to_json(&tags)],
        )?;
        Ok(User {
            arn: format!("arn:aws:iam::{}:user{path}{name}", self.account),
            name: name.to_owned(),
            user_id,
            path: path.to_owned(),
            create_date: created,
            tags,
        })
    }

    pub fn get_user(&self, name: &str) -> Result<User, IdentityError> {
        let conn = self.lock();
        conn.query_row("SELECT name, user_id, path, create_date, tags FROM users WHERE name = ?1", [name], |r| {
            self.user_row(r)
        })
        .optional()?
        .ok_or_else(|| no_such_user(name))
    }

    pub fn list_users(&self, path_prefix: Option<&str>) -> Result<Vec<User>, IdentityError> {
        let conn = self.lock();
        let mut stmt = conn.prepare("SELECT name, user_id, path, create_date, tags FROM users ORDER BY name")?;
        let users = stmt.query_map([], |r| self.user_row(r))?.collect::<Result<Vec<_>, _>>()?;
        Ok(users.into_iter().filter(|u| path_prefix.is_none_or(|p| u.path.starts_with(p))).collect())
    }

    /// Deletes a user that has no access keys, inline policies or
    /// attached policies left (IAM's `DeleteConflict` otherwise).
    pub fn delete_user(&self, name: &str) -> Result<(), IdentityError> {
        let mut conn = self.lock_write();
        let tx = conn.transaction()?;
        let exists: Option<String> =
            tx.query_row("SELECT name FROM users WHERE name = ?1", [name], |r| r.get(0)).optional()?;
        if exists.is_none() {
            return Err(no_such_user(name));
        }
        let count = |sql: &str| -> Result<i64, rusqlite::Error> { tx.query_row(sql, [name], |r| r.get(0)) };
        if count("SELECT COUNT(*) FROM access_keys WHERE user_name = ?1")? > 0 {
            return Err(IdentityError::DeleteConflict("Cannot delete entity, must delete access keys first.".into()));
        }
        if count("SELECT COUNT(*) FROM inline_policies WHERE owner_kind = 'user' AND owner = ?1")? > 0 {
            return Err(IdentityError::DeleteConflict("Cannot delete entity, must delete policies first.".into()));
        }
        if count("SELECT COUNT(*) FROM attachments WHERE owner_kind = 'user' AND owner = ?1")? > 0 {
            return Err(IdentityError::DeleteConflict("Cannot delete entity, must detach all policies first.".into()));
        }
        tx.execute("DELETE FROM users WHERE name = ?1", [name])?;
        tx.commit()?;
        Ok(())
    }

    /// A new active access key for a user (at most two per user).
    pub fn create_access_key(&self, user_name: &str) -> Result<AccessKey, IdentityError> {
        let mut conn = self.lock_write();
        let tx = conn.transaction()?;
        let user: Option<String> =
            tx.query_row("SELECT name FROM users WHERE name = ?1", [user_name], |r| r.get(0)).optional()?;
        let user = user.ok_or_else(|| no_such_user(user_name))?;
        let count: i64 =
            tx.query_row("SELECT COUNT(*) FROM access_keys WHERE user_name = ?1", [&user], |r| r.get(0))?;
        if usize::try_from(count).unwrap_or(usize::MAX) >= ACCESS_KEYS_PER_USER {
            return Err(IdentityError::LimitExceeded(format!(
                "Cannot exceed quota for AccessKeysPerUser: {ACCESS_KEYS_PER_USER}"
            )));
        }
        let key = AccessKey {
            access_key_id: unique_id("AKIA", 20),
            secret: secret_key(),
            user_name: user,
            status: "Active".to_owned(),
            create_date: now(),
        };
        tx.execute(
            "INSERT INTO access_keys (access_key_id, secret, user_name, status, create_date) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![key.access_key_id, key.secret, key.user_name, key.status, key.create_date],
        )?;
        tx.commit()?;
        Ok(key)
    }

    pub fn list_access_keys(&self, user_name: &str) -> Result<Vec<AccessKey>, IdentityError> {
        self.get_user(user_name)?;
        let conn = self.lock();
        let mut stmt = conn.prepare(
            "SELECT access_key_id, secret, user_name, status, create_date FROM access_keys WHERE user_name = ?1 ORDER BY create_date, access_key_id",
        )?;
        let keys = stmt.query_map([user_name], access_key_row)?.collect::<Result<Vec<_>, _>>()?;
        Ok(keys)
    }

    pub fn delete_access_key(&self, user_name: &str, access_key_id: &str) -> Result<(), IdentityError> {
        self.get_user(user_name)?;
        let conn = self.lock_write();
        let n = conn.execute(
            "DELETE FROM access_keys WHERE access_key_id = ?1 AND user_name = ?2",
            params![access_key_id, user_name],
        )?;
        if n == 0 {
            return Err(IdentityError::NoSuchEntity(format!(
                "The Access Key with id {access_key_id} cannot be found."
            )));
        }
        Ok(())
    }

    pub fn update_access_key(&self, user_name: &str, access_key_id: &str, status: &str) -> Result<(), IdentityError> {
        self.get_user(user_name)?;
        let conn = self.lock_write();
        let n = conn.execute(
            "UPDATE access_keys SET status = ?3 WHERE access_key_id = ?1 AND user_name = ?2",
            params![access_key_id, user_name, status],
        )?;
        if n == 0 {
            return Err(IdentityError::NoSuchEntity(format!(
                "The Access Key with id {access_key_id} cannot be found."
            )));
        }
        Ok(())
    }

    /// The access key with this id, active or not.
    pub fn access_key(&self, access_key_id: &str) -> Result<Option<AccessKey>, IdentityError> {
        let conn = self.lock();
        Ok(conn
            .query_row(
                "SELECT access_key_id, secret, user_name, status, create_date FROM access_keys WHERE access_key_id = ?1",
                [access_key_id],
                access_key_row,
            )
            .optional()?)
    }
}

fn access_key_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AccessKey> {
    Ok(AccessKey {
        access_key_id: r.get(0)?,
        secret: r.get(1)?,
        user_name: r.get(2)?,
        status: r.get(3)?,
        create_date: r.get(4)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_and_keys_follow_iam_rules() {
        let store = IdentityStore::open_in_memory("123456789012").unwrap();
        let alice = store.create_user("alice", None, vec![]).unwrap();
        assert_eq!(alice.arn, "arn:aws:iam::123456789012:user/alice");
        assert!(alice.user_id.starts_with("AIDA") && alice.user_id.len() == 21);
        assert!(matches!(store.create_user("ALICE", None, vec![]), Err(IdentityError::EntityAlreadyExists(_))));
        let k1 = store.create_access_key("alice").unwrap();
        assert!(k1.access_key_id.starts_with("AKIA") && k1.access_key_id.len() == 20);
        assert_eq!(k1.secret.len(), 40);
        store.create_access_key("alice").unwrap();
        assert!(matches!(store.create_access_key("alice"), Err(IdentityError::LimitExceeded(_))));
        let e = store.delete_user("alice").unwrap_err();
        assert_eq!(e.to_string(), "Cannot delete entity, must delete access keys first.");
        for k in store.list_access_keys("alice").unwrap() {
            store.delete_access_key("alice", &k.access_key_id).unwrap();
        }
        store.delete_user("alice").unwrap();
        assert_eq!(store.get_user("alice").unwrap_err().to_string(), "The user with name alice cannot be found.");
        assert_eq!(store.access_key(&k1.access_key_id).unwrap(), None);
    }
}
