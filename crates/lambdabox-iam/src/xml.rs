//! IAM's XML shapes (`User`, `Role`, `AccessKey`, `Policy`,
//! `PolicyVersion`, `AttachedPolicy`, `Tags`), rendered from the identity
//! store's types. Policy documents are URL-encoded JSON, as IAM returns
//! them (boto3 decodes them back to dictionaries); dates are
//! `2026-12-06T12:00:00Z`.

use lambdabox_aws::query::element;
use lambdabox_identity::store::{AccessKey, AttachedPolicy, ManagedPolicy, PolicyVersion, Role, User};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// What IAM leaves unencoded in a policy document: RFC 3986's unreserved
/// characters (a space is `%20`, never `+`, which a client would keep).
const DOCUMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Now, as IAM writes dates.
pub(crate) fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A policy document as IAM returns it: URL-encoded.
pub(crate) fn document(text: &str) -> String {
    utf8_percent_encode(text, DOCUMENT).to_string()
}

/// `<Wrapper><member>…</member>…</Wrapper>` (`<Wrapper/>` when empty).
pub(crate) fn members(wrapper: &str, items: impl Iterator<Item = String>) -> String {
    let inner: String = items.map(|item| format!("<member>{item}</member>")).collect();
    if inner.is_empty() { format!("<{wrapper}/>") } else { format!("<{wrapper}>{inner}</{wrapper}>") }
}

/// `<Tags>…</Tags>`, or nothing when there are none (as IAM omits them).
pub(crate) fn tags(tags: &[(String, String)]) -> String {
    if tags.is_empty() {
        return String::new();
    }
    members("Tags", tags.iter().map(|(k, v)| format!("{}{}", element("Key", k), element("Value", v))))
}

/// Which attributes an answer carries: list operations leave out tags
/// (and a role's `RoleLastUsed`), as IAM's do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum View {
    /// `ListUsers`, `ListRoles`.
    Listed,
    /// `CreateUser`, `CreateRole`: with tags.
    Created,
    /// `GetUser`, `GetRole`: every attribute.
    Full,
}

/// `<Name>inner</Name>`: a structure around its members.
pub(crate) fn wrap(name: &str, inner: &str) -> String {
    format!("<{name}>{inner}</{name}>")
}

/// A `User`'s members.
pub(crate) fn user(user: &User, view: View) -> String {
    let mut out = String::new();
    out.push_str(&element("Path", &user.path));
    out.push_str(&element("UserName", &user.name));
    out.push_str(&element("UserId", &user.user_id));
    out.push_str(&element("Arn", &user.arn));
    out.push_str(&element("CreateDate", &user.create_date));
    if view != View::Listed {
        out.push_str(&tags(&user.tags));
    }
    out
}

/// The account's root as `GetUser` reports it (no name, no path).
pub(crate) fn root_user(account: &str, create_date: &str) -> String {
    format!(
        "<User>{}{}{}</User>",
        element("UserId", account),
        element("Arn", &format!("arn:aws:iam::{account}:root")),
        element("CreateDate", create_date)
    )
}

/// A `Role`'s members.
pub(crate) fn role(role: &Role, view: View) -> String {
    let mut out = String::new();
    out.push_str(&element("Path", &role.path));
    out.push_str(&element("RoleName", &role.name));
    out.push_str(&element("RoleId", &role.role_id));
    out.push_str(&element("Arn", &role.arn));
    out.push_str(&element("CreateDate", &role.create_date));
    out.push_str(&element("AssumeRolePolicyDocument", &document(&role.assume_role_policy)));
    if let Some(description) = &role.description {
        out.push_str(&element("Description", description));
    }
    out.push_str(&element("MaxSessionDuration", &role.max_session_duration.to_string()));
    if view != View::Listed {
        out.push_str(&tags(&role.tags));
    }
    if view == View::Full {
        out.push_str("<RoleLastUsed/>");
    }
    out
}

/// `<AccessKey>…</AccessKey>` with its secret (`CreateAccessKey` only).
pub(crate) fn access_key(key: &AccessKey) -> String {
    format!(
        "<AccessKey>{}{}{}{}{}</AccessKey>",
        element("UserName", &key.user_name),
        element("AccessKeyId", &key.access_key_id),
        element("Status", &key.status),
        element("SecretAccessKey", &key.secret),
        element("CreateDate", &key.create_date)
    )
}

/// An `AccessKeyMetadata` member: the key without its secret.
pub(crate) fn access_key_metadata(key: &AccessKey) -> String {
    format!(
        "{}{}{}{}",
        element("UserName", &key.user_name),
        element("AccessKeyId", &key.access_key_id),
        element("Status", &key.status),
        element("CreateDate", &key.create_date)
    )
}

/// A `Policy`'s members (`Description` only where IAM returns it: not in
/// `ListPolicies`).
pub(crate) fn policy(policy: &ManagedPolicy, with_description: bool) -> String {
    let mut out = String::new();
    out.push_str(&element("PolicyName", &policy.name));
    out.push_str(&element("PolicyId", &policy.policy_id));
    out.push_str(&element("Arn", &policy.arn));
    out.push_str(&element("Path", &policy.path));
    out.push_str(&element("DefaultVersionId", &policy.default_version_id));
    out.push_str(&element("AttachmentCount", &policy.attachment_count.to_string()));
    out.push_str("<PermissionsBoundaryUsageCount>0</PermissionsBoundaryUsageCount>");
    out.push_str("<IsAttachable>true</IsAttachable>");
    if with_description && let Some(description) = &policy.description {
        out.push_str(&element("Description", description));
    }
    out.push_str(&element("CreateDate", &policy.create_date));
    out.push_str(&element("UpdateDate", &policy.update_date));
    out
}

/// `<PolicyVersion>…</PolicyVersion>`.
pub(crate) fn policy_version(version: &PolicyVersion) -> String {
    format!(
        "<PolicyVersion>{}{}{}{}</PolicyVersion>",
        element("Document", &document(&version.document)),
        element("VersionId", &version.version_id),
        element("IsDefaultVersion", if version.is_default { "true" } else { "false" }),
        element("CreateDate", &version.create_date)
    )
}

/// An `AttachedPolicies` member.
pub(crate) fn attached_policy(policy: &AttachedPolicy) -> String {
    format!("{}{}", element("PolicyName", &policy.name), element("PolicyArn", &policy.arn))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_url_encoded_as_iam_encodes_them() {
        let text = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*+~"}]}"#;
        let encoded = document(text);
        assert!(encoded.starts_with("%7B%22Version%22%3A%20%222012-10-17%22%2C%20%22Statement"), "{encoded}");
        assert!(encoded.ends_with("%22%2A%2B~%22%7D%5D%7D"), "{encoded}");
        let decoded = percent_encoding::percent_decode_str(&encoded).decode_utf8().unwrap();
        assert_eq!(decoded, text);
        assert_eq!(document("é"), "%C3%A9");
    }

    #[test]
    fn users_carry_tags_except_in_lists() {
        let user = User {
            name: "alice".into(),
            user_id: "AIDAEXAMPLEEXAMPLE123".into(),
            path: "/".into(),
            arn: "arn:aws:iam::123456789012:user/alice".into(),
            create_date: "2026-12-06T12:00:00Z".into(),
            tags: vec![("team".into(), "a&b".into())],
        };
        assert_eq!(
            wrap("User", &super::user(&user, View::Full)),
            "<User><Path>/</Path><UserName>alice</UserName><UserId>AIDAEXAMPLEEXAMPLE123</UserId>\
             <Arn>arn:aws:iam::123456789012:user/alice</Arn><CreateDate>2026-12-06T12:00:00Z</CreateDate>\
             <Tags><member><Key>team</Key><Value>a&amp;b</Value></member></Tags></User>"
        );
        assert!(!super::user(&user, View::Listed).contains("<Tags>"));
        assert_eq!(members("Users", std::iter::empty()), "<Users/>");
    }
}
