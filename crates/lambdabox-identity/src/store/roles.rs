//! IAM roles and their trust policies.

use rusqlite::{OptionalExtension, params};

use super::{IdentityError, IdentityStore, Tags, check_path, now, tags_from_json, tags_to_json, unique_id};
use crate::policy::{PolicyDocument, PolicyKind};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub name: String,
    pub role_id: String,
    pub path: String,
    pub arn: String,
    /// The trust policy as it was given.
    pub assume_role_policy: String,
    pub description: Option<String>,
    pub max_session_duration: u32,
    pub create_date: String,
    pub tags: Tags,
}

/// A new role's settings.
#[derive(Debug, Clone, Default)]
pub struct NewRole<'a> {
    pub name: &'a str,
    pub path: Option<&'a str>,
    pub assume_role_policy: &'a str,
    pub description: Option<&'a str>,
    pub max_session_duration: Option<u32>,
    pub tags: Tags,
}

fn no_such_role(name: &str) -> IdentityError {
    IdentityError::NoSuchEntity(format!("The role with name {name} cannot be found."))
}

const COLUMNS: &str = "name, role_id, path, trust_policy, description, max_session_duration, create_date, tags";

impl IdentityStore {
    fn role_row(&self, r: &rusqlite::Row<'_>) -> rusqlite::Result<Role> {
        let (name, path): (String, String) = (r.get(0)?, r.get(2)?);
        Ok(Role {
            arn: format!("arn:aws:iam::{}:role{path}{name}", self.account),
            name,
            role_id: r.get(1)?,
            path,
            assume_role_policy: r.get(3)?,
            description: r.get(4)?,
            max_session_duration: r.get(5)?,
            create_date: r.get(6)?,
            tags: tags_from_json(&r.get::<_, String>(7)?),
        })
    }

    pub fn create_role(&self, new: NewRole<'_>) -> Result<Role, IdentityError> {
        let path = new.path.unwrap_or("/");
        check_path(path)?;
        PolicyDocument::parse(new.assume_role_policy, PolicyKind::Trust)?;
        let duration = new.max_session_duration.unwrap_or(3600);
        if !(3600..=43200).contains(&duration) {
            return Err(IdentityError::InvalidInput(format!(
                "The requested MaxSessionDuration {duration} is invalid. It must be between 3600 and 43200 seconds."
            )));
        }
        let conn = self.lock_write();
        let exists: Option<String> =
            conn.query_row("SELECT name FROM roles WHERE name = ?1", [new.name], |r| r.get(0)).optional()?;
        if exists.is_some() {
            return Err(IdentityError::EntityAlreadyExists(format!("Role with name {} already exists.", new.name)));
        }
        let role = Role {
            arn: format!("arn:aws:iam::{}:role{path}{}", self.account, new.name),
            name: new.name.to_owned(),
            role_id: unique_id("AROA", 21),
            path: path.to_owned(),
            assume_role_policy: new.assume_role_policy.to_owned(),
            description: new.description.map(str::to_owned),
            max_session_duration: duration,
            create_date: now(),
            tags: new.tags,
        };
        conn.execute(
            &format!("INSERT INTO roles ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
            params![
                role.name,
                role.role_id,
                role.path,
                role.assume_role_policy,
                role.description,
                role.max_session_duration,
                role.create_date,
                tags_to_json(&role.tags)
            ],
        )?;
        Ok(role)
    }

    pub fn get_role(&self, name: &str) -> Result<Role, IdentityError> {
        let conn = self.lock();
        conn.query_row(&format!("SELECT {COLUMNS} FROM roles WHERE name = ?1"), [name], |r| self.role_row(r))
            .optional()?
            .ok_or_else(|| no_such_role(name))
    }

    /// The role an ARN names in this account (`arn:aws:iam::ACCOUNT:role/PATH/NAME`).
    pub fn role_by_arn(&self, arn: &str) -> Result<Option<Role>, IdentityError> {
        let prefix = format!("arn:aws:iam::{}:role/", self.account);
        let Some(rest) = arn.strip_prefix(&prefix) else { return Ok(None) };
        let name = rest.rsplit('/').next().unwrap_or(rest);
        match self.get_role(name) {
            Ok(role) if role.arn == arn => Ok(Some(role)),
            Ok(_) | Err(IdentityError::NoSuchEntity(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub fn list_roles(&self, path_prefix: Option<&str>) -> Result<Vec<Role>, IdentityError> {
        let conn = self.lock();
        let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM roles ORDER BY name"))?;
        let roles = stmt.query_map([], |r| self.role_row(r))?.collect::<Result<Vec<_>, _>>()?;
        Ok(roles.into_iter().filter(|r| path_prefix.is_none_or(|p| r.path.starts_with(p))).collect())
    }

    pub fn delete_role(&self, name: &str) -> Result<(), IdentityError> {
        let mut conn = self.lock_write();
        let tx = conn.transaction()?;
        let exists: Option<String> =
            tx.query_row("SELECT name FROM roles WHERE name = ?1", [name], |r| r.get(0)).optional()?;
        if exists.is_none() {
            return Err(no_such_role(name));
        }
        let count = |sql: &str| -> Result<i64, rusqlite::Error> { tx.query_row(sql, [name], |r| r.get(0)) };
        if count("SELECT COUNT(*) FROM inline_policies WHERE owner_kind = 'role' AND owner = ?1")? > 0 {
            return Err(IdentityError::DeleteConflict("Cannot delete entity, must delete policies first.".into()));
        }
        if count("SELECT COUNT(*) FROM attachments WHERE owner_kind = 'role' AND owner = ?1")? > 0 {
            return Err(IdentityError::DeleteConflict("Cannot delete entity, must detach all policies first.".into()));
        }
        tx.execute("DELETE FROM roles WHERE name = ?1", [name])?;
        tx.commit()?;
        Ok(())
    }

    pub fn update_assume_role_policy(&self, name: &str, document: &str) -> Result<(), IdentityError> {
        PolicyDocument::parse(document, PolicyKind::Trust)?;
        let conn = self.lock_write();
        let n = conn.execute("UPDATE roles SET trust_policy = ?2 WHERE name = ?1", params![name, document])?;
        if n == 0 {
            return Err(no_such_role(name));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::OwnerKind;

    const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

    #[test]
    fn roles_follow_iam_rules() {
        let store = IdentityStore::open_in_memory("123456789012").unwrap();
        let role = store
            .create_role(NewRole {
                name: "exec",
                path: Some("/service-role/"),
                assume_role_policy: TRUST,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(role.arn, "arn:aws:iam::123456789012:role/service-role/exec");
        assert_eq!(role.max_session_duration, 3600);
        assert_eq!(store.role_by_arn(&role.arn).unwrap().unwrap().name, "exec");
        assert_eq!(store.role_by_arn("arn:aws:iam::123456789012:role/exec").unwrap(), None);
        assert!(matches!(
            store.create_role(NewRole { name: "bad", assume_role_policy: "{}", ..Default::default() }),
            Err(IdentityError::MalformedPolicyDocument(_))
        ));
        store
            .put_inline_policy(
                OwnerKind::Role,
                "exec",
                "p",
                r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#,
            )
            .unwrap();
        assert!(matches!(store.delete_role("exec"), Err(IdentityError::DeleteConflict(_))));
        store.delete_inline_policy(OwnerKind::Role, "exec", "p").unwrap();
        store.delete_role("exec").unwrap();
        assert!(matches!(store.get_role("exec"), Err(IdentityError::NoSuchEntity(_))));
    }
}
