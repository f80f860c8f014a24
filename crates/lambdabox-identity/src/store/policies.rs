//! Inline policies (a user's or role's own), customer managed policies
//! (stored, versioned) and AWS managed policies ([`crate::managed`]), and
//! which are attached to whom.

use std::sync::Arc;

use rusqlite::{OptionalExtension, params};

use super::{IdentityError, IdentityStore, check_path, now, unique_id};
use crate::managed;
use crate::policy::{PolicyDocument, PolicyKind};

/// Whose policy: a user's or a role's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerKind {
    User,
    Role,
}

impl OwnerKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Role => "role",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Role => "role",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedPolicy {
    pub arn: String,
    pub name: String,
    pub policy_id: String,
    pub path: String,
    pub description: Option<String>,
    pub default_version_id: String,
    pub attachment_count: u32,
    pub create_date: String,
    pub update_date: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyVersion {
    pub document: String,
    pub version_id: String,
    pub is_default: bool,
    pub create_date: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachedPolicy {
    pub name: String,
    pub arn: String,
}

fn not_attachable(arn: &str) -> IdentityError {
    IdentityError::NoSuchEntity(format!("Policy {arn} does not exist or is not attachable."))
}

impl IdentityStore {
    fn owner_exists(&self, kind: OwnerKind, owner: &str) -> Result<(), IdentityError> {
        match kind {
            OwnerKind::User => self.get_user(owner).map(drop),
            OwnerKind::Role => self.get_role(owner).map(drop),
        }
    }

    pub fn put_inline_policy(
        &self,
        kind: OwnerKind,
        owner: &str,
        policy_name: &str,
        document: &str,
    ) -> Result<(), IdentityError> {
        PolicyDocument::parse(document, PolicyKind::Identity)?;
        self.owner_exists(kind, owner)?;
        self.lock_write().execute(
            "INSERT INTO inline_policies (owner_kind, owner, policy_name, document) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (owner_kind, owner, policy_name) DO UPDATE SET document = excluded.document",
            params![kind.as_str(), owner, policy_name, document],
        )?;
        Ok(())
    }

    pub fn get_inline_policy(&self, kind: OwnerKind, owner: &str, policy_name: &str) -> Result<String, IdentityError> {
        self.owner_exists(kind, owner)?;
        self.lock()
            .query_row(
                "SELECT document FROM inline_policies WHERE owner_kind = ?1 AND owner = ?2 AND policy_name = ?3",
                params![kind.as_str(), owner, policy_name],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| {
                IdentityError::NoSuchEntity(format!(
                    "The {} policy with name {policy_name} cannot be found.",
                    kind.title()
                ))
            })
    }

    pub fn delete_inline_policy(&self, kind: OwnerKind, owner: &str, policy_name: &str) -> Result<(), IdentityError> {
        self.owner_exists(kind, owner)?;
        let n = self.lock_write().execute(
            "DELETE FROM inline_policies WHERE owner_kind = ?1 AND owner = ?2 AND policy_name = ?3",
            params![kind.as_str(), owner, policy_name],
        )?;
        if n == 0 {
            return Err(IdentityError::NoSuchEntity(format!(
                "The {} policy with name {policy_name} cannot be found.",
                kind.title()
            )));
        }
        Ok(())
    }

    pub fn list_inline_policies(&self, kind: OwnerKind, owner: &str) -> Result<Vec<String>, IdentityError> {
        self.owner_exists(kind, owner)?;
        let conn = self.lock();
        let mut stmt = conn.prepare(
            "SELECT policy_name FROM inline_policies WHERE owner_kind = ?1 AND owner = ?2 ORDER BY policy_name",
        )?;
        let names = stmt.query_map(params![kind.as_str(), owner], |r| r.get(0))?.collect::<Result<Vec<_>, _>>()?;
        Ok(names)
    }

    pub fn create_policy(
        &self,
        name: &str,
        path: Option<&str>,
        document: &str,
        description: Option<&str>,
    ) -> Result<ManagedPolicy, IdentityError> {
        let path = path.unwrap_or("/");
        check_path(path)?;
        PolicyDocument::parse(document, PolicyKind::Identity)?;
        let arn = format!("arn:aws:iam::{}:policy{path}{name}", self.account);
        let mut conn = self.lock_write();
        let tx = conn.transaction()?;
        let exists: Option<String> =
            tx.query_row("SELECT arn FROM managed_policies WHERE name = ?1", [name], |r| r.get(0)).optional()?;
        if exists.is_some() {
            return Err(IdentityError::EntityAlreadyExists(format!(
                "A policy called {name} already exists. Duplicate names are not allowed."
            )));
        }
        let created = now();
        let policy = ManagedPolicy {
            arn,
            name: name.to_owned(),
            policy_id: unique_id("ANPA", 21),
            path: path.to_owned(),
            description: description.map(str::to_owned),
            default_version_id: "v1".to_owned(),
            attachment_count: 0,
            create_date: created.clone(),
            update_date: created,
        };
        tx.execute(
            "INSERT INTO managed_policies (arn, name, policy_id, path, description, default_version, next_version, create_date, update_date)
             VALUES (?1, ?2, ?3, ?4, ?5, 'v1', 2, ?6, ?6)",
            params![policy.arn, policy.name, policy.policy_id, policy.path, policy.description, policy.create_date],
        )?;
        tx.execute(
            "INSERT INTO policy_versions (arn, version_id, document, create_date) VALUES (?1, 'v1', ?2, ?3)",
            params![policy.arn, document, policy.create_date],
        )?;
        tx.commit()?;
        Ok(policy)
    }

    fn attachment_count(&self, arn: &str) -> Result<u32, IdentityError> {
        let n: i64 =
            self.lock().query_row("SELECT COUNT(*) FROM attachments WHERE policy_arn = ?1", [arn], |r| r.get(0))?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// A customer managed policy of this account or an AWS managed one.
    pub fn get_policy(&self, arn: &str) -> Result<ManagedPolicy, IdentityError> {
        if let Some(aws) = managed::by_arn(arn) {
            let mut policy = aws.policy();
            policy.attachment_count = self.attachment_count(arn)?;
            return Ok(policy);
        }
        let row = self
            .lock()
            .query_row(
                "SELECT arn, name, policy_id, path, description, default_version, create_date, update_date FROM managed_policies WHERE arn = ?1",
                [arn],
                |r| {
                    Ok(ManagedPolicy {
                        arn: r.get(0)?,
                        name: r.get(1)?,
                        policy_id: r.get(2)?,
                        path: r.get(3)?,
                        description: r.get(4)?,
                        default_version_id: r.get(5)?,
                        attachment_count: 0,
                        create_date: r.get(6)?,
                        update_date: r.get(7)?,
                    })
                },
            )
            .optional()?;
        let mut policy = row.ok_or_else(|| IdentityError::NoSuchEntity(format!("Policy {arn} was not found.")))?;
        policy.attachment_count = self.attachment_count(arn)?;
        Ok(policy)
    }

    pub fn list_policies(&self, scope: &str) -> Result<Vec<ManagedPolicy>, IdentityError> {
        let mut out = Vec::new();
        if scope != "Local" {
            for aws in &managed::ALL {
                out.push(self.get_policy(&aws.arn())?);
            }
        }
        if scope != "AWS" {
            let arns: Vec<String> = {
                let conn = self.lock();
                let mut stmt = conn.prepare("SELECT arn FROM managed_policies ORDER BY name")?;
                stmt.query_map([], |r| r.get(0))?.collect::<Result<Vec<_>, _>>()?
            };
            for arn in arns {
                out.push(self.get_policy(&arn)?);
            }
        }
        Ok(out)
    }

    pub fn get_policy_version(&self, arn: &str, version_id: &str) -> Result<PolicyVersion, IdentityError> {
        let policy = self.get_policy(arn)?;
        if let Some(aws) = managed::by_arn(arn) {
            if version_id != aws.version {
                return Err(IdentityError::NoSuchEntity(format!(
                    "Policy {arn} version {version_id} does not exist or is not attachable."
                )));
            }
            return Ok(PolicyVersion {
                document: aws.document.to_owned(),
                version_id: version_id.to_owned(),
                is_default: true,
                create_date: aws.create_date.to_owned(),
            });
        }
        self.lock()
            .query_row(
                "SELECT document, create_date FROM policy_versions WHERE arn = ?1 AND version_id = ?2",
                params![arn, version_id],
                |r| {
                    Ok(PolicyVersion {
                        document: r.get(0)?,
                        version_id: version_id.to_owned(),
                        is_default: version_id == policy.default_version_id,
                        create_date: r.get(1)?,
                    })
                },
            )
            .optional()?
            .ok_or_else(|| {
                IdentityError::NoSuchEntity(format!(
                    "Policy {arn} version {version_id} does not exist or is not attachable."
                ))
            })
    }

    pub fn delete_policy(&self, arn: &str) -> Result<(), IdentityError> {
        if managed::by_arn(arn).is_some() {
            return Err(IdentityError::InvalidInput(format!("ARN {arn} is not valid.")));
        }
        self.get_policy(arn)?;
        let mut conn = self.lock_write();
        let tx = conn.transaction()?;
        let attached: i64 =
            tx.query_row("SELECT COUNT(*) FROM attachments WHERE policy_arn = ?1", [arn], |r| r.get(0))?;
        if attached > 0 {
            return Err(IdentityError::DeleteConflict("Cannot delete a policy attached to entities.".into()));
        }
        tx.execute("DELETE FROM policy_versions WHERE arn = ?1", [arn])?;
        tx.execute("DELETE FROM managed_policies WHERE arn = ?1", [arn])?;
        tx.commit()?;
        Ok(())
    }

    pub fn attach_policy(&self, kind: OwnerKind, owner: &str, arn: &str) -> Result<(), IdentityError> {
        self.owner_exists(kind, owner)?;
        self.get_policy(arn).map_err(|e| match e {
            IdentityError::NoSuchEntity(_) => not_attachable(arn),
            other => other,
        })?;
        self.lock_write().execute(
            "INSERT OR IGNORE INTO attachments (owner_kind, owner, policy_arn) VALUES (?1, ?2, ?3)",
            params![kind.as_str(), owner, arn],
        )?;
        Ok(())
    }

    pub fn detach_policy(&self, kind: OwnerKind, owner: &str, arn: &str) -> Result<(), IdentityError> {
        self.owner_exists(kind, owner)?;
        let n = self.lock_write().execute(
            "DELETE FROM attachments WHERE owner_kind = ?1 AND owner = ?2 AND policy_arn = ?3",
            params![kind.as_str(), owner, arn],
        )?;
        if n == 0 {
            return Err(IdentityError::NoSuchEntity(format!("Policy {arn} was not found.")));
        }
        Ok(())
    }

    pub fn list_attached_policies(&self, kind: OwnerKind, owner: &str) -> Result<Vec<AttachedPolicy>, IdentityError> {
        self.owner_exists(kind, owner)?;
        let arns: Vec<String> = {
            let conn = self.lock();
            let mut stmt = conn.prepare(
                "SELECT policy_arn FROM attachments WHERE owner_kind = ?1 AND owner = ?2 ORDER BY policy_arn",
            )?;
            stmt.query_map(params![kind.as_str(), owner], |r| r.get(0))?.collect::<Result<Vec<_>, _>>()?
        };
        Ok(arns
            .into_iter()
            .map(|arn| AttachedPolicy { name: arn.rsplit('/').next().unwrap_or(&arn).to_owned(), arn })
            .collect())
    }

    /// Every identity-based policy of a user or role: inline ones and the
    /// default versions of attached ones.
    pub fn policies_of(&self, kind: OwnerKind, owner: &str) -> Result<Vec<Arc<PolicyDocument>>, IdentityError> {
        let (inline, attached): (Vec<String>, Vec<(String, Option<String>)>) = {
            let conn = self.lock();
            let mut stmt = conn.prepare("SELECT document FROM inline_policies WHERE owner_kind = ?1 AND owner = ?2")?;
            let inline = stmt.query_map(params![kind.as_str(), owner], |r| r.get(0))?.collect::<Result<Vec<_>, _>>()?;
            let mut stmt = conn.prepare(
                "SELECT a.policy_arn, v.document FROM attachments a
                 LEFT JOIN managed_policies m ON m.arn = a.policy_arn
                 LEFT JOIN policy_versions v ON v.arn = m.arn AND v.version_id = m.default_version
                 WHERE a.owner_kind = ?1 AND a.owner = ?2",
            )?;
            let attached = stmt
                .query_map(params![kind.as_str(), owner], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<Vec<_>, _>>()?;
            (inline, attached)
        };
        let mut out = Vec::new();
        for text in inline {
            out.push(Arc::new(PolicyDocument::parse(&text, PolicyKind::Identity)?));
        }
        for (arn, document) in attached {
            if let Some(aws) = managed::by_arn(&arn) {
                out.push(aws.parsed());
            } else if let Some(text) = document {
                out.push(Arc::new(PolicyDocument::parse(&text, PolicyKind::Identity)?));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::NewRole;

    #[test]
    fn managed_and_inline_policies_apply_to_their_owners() {
        let store = IdentityStore::open_in_memory("123456789012").unwrap();
        store.create_user("bob", None, vec![]).unwrap();
        let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#;
        let p = store.create_policy("read-b", None, doc, Some("reads b")).unwrap();
        assert_eq!(p.arn, "arn:aws:iam::123456789012:policy/read-b");
        assert!(matches!(store.create_policy("read-b", None, doc, None), Err(IdentityError::EntityAlreadyExists(_))));
        store.attach_policy(OwnerKind::User, "bob", &p.arn).unwrap();
        store.attach_policy(OwnerKind::User, "bob", "arn:aws:iam::aws:policy/AdministratorAccess").unwrap();
        assert!(matches!(
            store.attach_policy(OwnerKind::User, "bob", "arn:aws:iam::aws:policy/NoSuchPolicy"),
            Err(IdentityError::NoSuchEntity(_))
        ));
        store.put_inline_policy(OwnerKind::User, "bob", "inline", doc).unwrap();
        assert_eq!(store.policies_of(OwnerKind::User, "bob").unwrap().len(), 3);
        assert_eq!(store.get_policy(&p.arn).unwrap().attachment_count, 1);
        assert!(matches!(store.delete_policy(&p.arn), Err(IdentityError::DeleteConflict(_))));
        store.detach_policy(OwnerKind::User, "bob", &p.arn).unwrap();
        store.delete_policy(&p.arn).unwrap();
        assert!(store.get_policy_version("arn:aws:iam::aws:policy/AdministratorAccess", "v1").unwrap().is_default);
        assert!(matches!(
            store.put_inline_policy(
                OwnerKind::User,
                "bob",
                "bad",
                r#"{"Statement":[{"Effect":"Allow","Action":"*"}]}"#
            ),
            Err(IdentityError::MalformedPolicyDocument(_))
        ));
        let trust = r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        store.create_role(NewRole { name: "r", assume_role_policy: trust, ..Default::default() }).unwrap();
        assert_eq!(
            store.get_inline_policy(OwnerKind::Role, "r", "x").unwrap_err().to_string(),
            "The role policy with name x cannot be found."
        );
    }
}
