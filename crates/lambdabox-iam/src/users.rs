//! Users and their access keys: `CreateUser`, `GetUser`, `ListUsers`,
//! `DeleteUser`, `CreateAccessKey`, `ListAccessKeys`, `DeleteAccessKey` and
//! `UpdateAccessKey`. Where IAM lets `UserName` be left out, it is the
//! calling user; `GetUser` from the account's root (or under `--auth
//! open`, where every caller is the root) answers the root itself.

use lambdabox_identity::{PrincipalKind, context};

use crate::error::IamError;
use crate::page::paginate;
use crate::validate::{ACCESS_KEY_ID, ARN, EXISTING_USER_NAME, PATH, PATH_PREFIX, USER_NAME};
use crate::xml::{self, View};
use crate::{Call, Outcome};

/// Why `PermissionsBoundary` is refused rather than ignored: a boundary
/// that is not enforced would grant more than its author meant.
pub(crate) const NO_BOUNDARIES: &str = "Lambdabox does not support permissions boundaries (PermissionsBoundary)";

/// The ARN authorization checks for a user: with the user's path when the
/// user exists, else `/`.
pub(crate) fn user_arn(call: &Call<'_>, name: &str) -> String {
    match call.store.get_user(name) {
        Ok(user) => user.arn,
        Err(_) => call.arn("user", "/", name),
    }
}

/// Who called, for operations that default to the calling user.
enum Caller {
    /// The account's root, or anyone under `--auth open`.
    Root,
    User(String),
    /// A role session or a service.
    Other,
}

fn caller() -> Caller {
    let Some(identity) = context::current() else { return Caller::Root };
    match &identity.principal.kind {
        PrincipalKind::Root => Caller::Root,
        PrincipalKind::User { name, .. } => Caller::User(name.clone()),
        PrincipalKind::AssumedRole { .. } | PrincipalKind::Service(_) => Caller::Other,
    }
}

/// The named user, else the calling IAM user. The root's own keys are
/// Lambdabox's `--credentials`, not IAM's, so the root names a user too.
fn named_or_caller(name: Option<&str>) -> Result<String, IamError> {
    match (name, caller()) {
        (Some(name), _) => Ok(name.to_owned()),
        (None, Caller::User(name)) => Ok(name),
        (None, Caller::Root | Caller::Other) => Err(IamError::UserNameRequired),
    }
}

pub(crate) fn create_user(call: &Call<'_>) -> Outcome {
    let mut input = call.input();
    let name = input.required("UserName", &USER_NAME);
    let path = input.optional("Path", &PATH);
    if input.optional("PermissionsBoundary", &ARN).is_some() {
        input.invalid(NO_BOUNDARIES);
    }
    let tags = input.tags();
    input.finish()?;
    call.authorize(&call.arn("user", path.unwrap_or("/"), name))?;
    let user = call.store.create_user(name, path, tags)?;
    Ok(Some(xml::wrap("User", &xml::user(&user, View::Created))))
}

pub(crate) fn get_user(call: &Call<'_>) -> Outcome {
    let mut input = call.input();
    let name = input.optional("UserName", &EXISTING_USER_NAME);
    input.finish()?;
    let name = match (name, caller()) {
        (Some(name), _) => name.to_owned(),
        (None, Caller::User(name)) => name,
        (None, Caller::Root) => {
            call.authorize(&format!("arn:aws:iam::{}:root", call.account))?;
            return Ok(Some(xml::root_user(call.account, call.root_create_date)));
        }
        (None, Caller::Other) => return Err(IamError::UserNameRequired),
    };
    call.authorize(&user_arn(call, &name))?;
    let user = call.store.get_user(&name)?;
    Ok(Some(xml::wrap("User", &xml::user(&user, View::Full))))
}

pub(crate) fn list_users(call: &Call<'_>) -> Outcome {
    let mut input = call.input();
    let prefix = input.optional("PathPrefix", &PATH_PREFIX);
    let page = input.page();
    input.finish()?;
    call.authorize(&call.arn("user", prefix.unwrap_or("/"), ""))?;
    let users = paginate(call.store.list_users(prefix)?, &page, |u| u.name.clone());
    Ok(Some(users.render("Users", |u| xml::user(u, View::Listed))))
}

pub(crate) fn delete_user(call: &Call<'_>) -> Outcome {
    let mut input = call.input();
    let name = input.required("UserName", &EXISTING_USER_NAME);
    input.finish()?;
    call.authorize(&user_arn(call, name))?;
    call.store.delete_user(name)?;
    Ok(None)
}

pub(crate) fn create_access_key(call: &Call<'_>) -> Outcome {
    let mut input = call.input();
    let name = input.optional("UserName", &EXISTING_USER_NAME);
    input.finish()?;
    let name = named_or_caller(name)?;
    call.authorize(&user_arn(call, &name))?;
    let key = call.store.create_access_key(&name)?;
    Ok(Some(xml::access_key(&key)))
}

pub(crate) fn list_access_keys(call: &Call<'_>) -> Outcome {
    let mut input = call.input();
    let name = input.optional("UserName", &EXISTING_USER_NAME);
    let page = input.page();
    input.finish()?;
    let name = named_or_caller(name)?;
    call.authorize(&user_arn(call, &name))?;
    let keys = paginate(call.store.list_access_keys(&name)?, &page, |k| k.access_key_id.clone());
    Ok(Some(keys.render("AccessKeyMetadata", xml::access_key_metadata)))
}

pub(crate) fn delete_access_key(call: &Call<'_>) -> Outcome {
    let mut input = call.input();
    let name = input.optional("UserName", &EXISTING_USER_NAME);
    let key = input.required("AccessKeyId", &ACCESS_KEY_ID);
    input.finish()?;
    let name = named_or_caller(name)?;
    call.authorize(&user_arn(call, &name))?;
    call.store.delete_access_key(&name, key)?;
    Ok(None)
}

pub(crate) fn update_access_key(call: &Call<'_>) -> Outcome {
    let mut input = call.input();
    let name = input.optional("UserName", &EXISTING_USER_NAME);
    let key = input.required("AccessKeyId", &ACCESS_KEY_ID);
    let status = input.enumeration("Status", &["Active", "Inactive", "Expired"], true);
    if status == Some("Expired") {
        input.invalid("The specified value for status is invalid. It must be Active or Inactive.");
    }
    input.finish()?;
    let name = named_or_caller(name)?;
    call.authorize(&user_arn(call, &name))?;
    call.store.update_access_key(&name, key, status.unwrap_or("Active"))?;
    Ok(None)
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;
    use lambdabox_identity::{Principal, PrincipalKind};

    use crate::testing::{Harness, between, form};

    #[tokio::test]
    async fn users_are_created_read_listed_and_deleted_with_iams_xml() {
        let iam = Harness::new();
        let body = iam
            .ok(&form(&[
                ("Action", "CreateUser"),
                ("UserName", "alice"),
                ("Path", "/team/"),
                ("Tags.member.1.Key", "owner"),
                ("Tags.member.1.Value", "ops team"),
            ]))
            .await;
        assert!(body.starts_with("<CreateUserResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><CreateUserResult><User><Path>/team/</Path><UserName>alice</UserName><UserId>AIDA"), "{body}");
        assert!(body.contains("<Arn>arn:aws:iam::123456789012:user/team/alice</Arn>"), "{body}");
        assert!(body.contains("<Tags><member><Key>owner</Key><Value>ops team</Value></member></Tags>"), "{body}");
        assert!(body.ends_with("</RequestId></ResponseMetadata></CreateUserResponse>"), "{body}");
        let date = between(&body, "<CreateDate>", "</CreateDate>");
        assert_eq!(date.len(), 20, "{date}");
        assert!(date.ends_with('Z') && date.as_bytes()[10] == b'T', "{date}");

        let body = iam.ok("Action=GetUser&UserName=alice&Version=2010-05-08").await;
        assert!(body.contains("<GetUserResult><User><Path>/team/</Path><UserName>alice</UserName>"), "{body}");
        assert!(body.contains("<Key>owner</Key>"), "{body}");

        iam.ok("Action=CreateUser&UserName=bob&Version=2010-05-08").await;
        let body = iam.ok("Action=ListUsers&Version=2010-05-08").await;
        let users = between(&body, "<Users>", "</Users>");
        assert_eq!(users.matches("<member>").count(), 2, "{body}");
        assert!(users.find("alice").unwrap() < users.find("bob").unwrap(), "{body}");
        assert!(!users.contains("<Tags>"), "{body}");
        assert!(body.contains("</Users><IsTruncated>false</IsTruncated></ListUsersResult>"), "{body}");
        let body = iam.ok("Action=ListUsers&PathPrefix=%2Fteam%2F&Version=2010-05-08").await;
        assert!(body.contains("alice") && !body.contains("bob"), "{body}");
        let body = iam.ok("Action=ListUsers&MaxItems=1&Version=2010-05-08").await;
        assert!(body.contains("<IsTruncated>true</IsTruncated><Marker>alice</Marker>"), "{body}");
        let body = iam.ok("Action=ListUsers&MaxItems=1&Marker=alice&Version=2010-05-08").await;
        assert!(
            body.contains("<UserName>bob</UserName>") && body.contains("<IsTruncated>false</IsTruncated>"),
            "{body}"
        );

        let body = iam.ok("Action=DeleteUser&UserName=bob&Version=2010-05-08").await;
        assert!(
            body.starts_with(
                "<DeleteUserResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><ResponseMetadata><RequestId>"
            ),
            "{body}"
        );
        let (status, body) = iam.call("Action=GetUser&UserName=bob&Version=2010-05-08").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(
            body.contains("<Code>NoSuchEntity</Code><Message>The user with name bob cannot be found.</Message>"),
            "{body}"
        );
    }

    #[tokio::test]
    async fn duplicate_users_and_users_with_keys_conflict() {
        let iam = Harness::new();
        iam.ok("Action=CreateUser&UserName=alice&Version=2010-05-08").await;
        let (status, body) = iam.call("Action=CreateUser&UserName=alice&Version=2010-05-08").await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(
            body.contains("<Code>EntityAlreadyExists</Code><Message>User with name alice already exists.</Message>"),
            "{body}"
        );
        iam.ok("Action=CreateAccessKey&UserName=alice&Version=2010-05-08").await;
        let (status, body) = iam.call("Action=DeleteUser&UserName=alice&Version=2010-05-08").await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(
            body.contains(
                "<Code>DeleteConflict</Code><Message>Cannot delete entity, must delete access keys first.</Message>"
            ),
            "{body}"
        );
    }

    #[tokio::test]
    async fn access_keys_show_their_secret_once() {
        let iam = Harness::new();
        iam.ok("Action=CreateUser&UserName=alice&Version=2010-05-08").await;
        let body = iam.ok("Action=CreateAccessKey&UserName=alice&Version=2010-05-08").await;
        assert!(
            body.contains("<CreateAccessKeyResult><AccessKey><UserName>alice</UserName><AccessKeyId>AKIA"),
            "{body}"
        );
        assert!(body.contains("<Status>Active</Status>"), "{body}");
        let id = between(&body, "<AccessKeyId>", "</AccessKeyId>").to_owned();
        let secret = between(&body, "<SecretAccessKey>", "</SecretAccessKey>").to_owned();
        assert_eq!(secret.len(), 40);

        let body = iam.ok("Action=ListAccessKeys&UserName=alice&Version=2010-05-08").await;
        assert!(body.contains(&format!("<AccessKeyMetadata><member><UserName>alice</UserName><AccessKeyId>{id}</AccessKeyId><Status>Active</Status><CreateDate>")), "{body}");
        assert!(!body.contains(&secret) && !body.contains("SecretAccessKey"), "{body}");

        iam.ok(&format!("Action=UpdateAccessKey&UserName=alice&AccessKeyId={id}&Status=Inactive&Version=2010-05-08"))
            .await;
        let body = iam.ok("Action=ListAccessKeys&UserName=alice&Version=2010-05-08").await;
        assert!(body.contains("<Status>Inactive</Status>"), "{body}");
        let (status, body) = iam
            .call(&format!("Action=UpdateAccessKey&UserName=alice&AccessKeyId={id}&Status=Paused&Version=2010-05-08"))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            body.contains("<Message>1 validation error detected: Value 'Paused' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive, Expired]</Message>"),
            "{body}"
        );

        iam.ok(&format!("Action=DeleteAccessKey&UserName=alice&AccessKeyId={id}&Version=2010-05-08")).await;
        let (status, body) =
            iam.call(&format!("Action=DeleteAccessKey&UserName=alice&AccessKeyId={id}&Version=2010-05-08")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(body.contains(&format!("<Message>The Access Key with id {id} cannot be found.</Message>")), "{body}");
        iam.ok("Action=DeleteUser&UserName=alice&Version=2010-05-08").await;
    }

    #[tokio::test]
    async fn the_root_is_get_users_answer_without_a_name() {
        let iam = Harness::new();
        let body = iam.ok("Action=GetUser&Version=2010-05-08").await;
        assert!(
            body.contains("<User><UserId>123456789012</UserId><Arn>arn:aws:iam::123456789012:root</Arn><CreateDate>"),
            "{body}"
        );
        let (status, body) = iam.call("Action=CreateAccessKey&Version=2010-05-08").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body.contains("<Code>ValidationError</Code><Message>Must specify userName when calling with non-User credentials</Message>"), "{body}");
    }

    #[tokio::test]
    async fn a_user_without_policies_is_denied_and_one_with_them_acts_as_itself() {
        let iam = Harness::new();
        let alice = iam.directory.store.create_user("alice", Some("/team/"), vec![]).unwrap();
        let as_alice = || Principal {
            account: "123456789012".into(),
            kind: PrincipalKind::User { name: "alice".into(), path: "/team/".into(), id: alice.user_id.clone() },
            policies: iam.directory.store.policies_of(lambdabox_identity::store::OwnerKind::User, "alice").unwrap(),
        };
        let (status, body) = iam.call_as(as_alice(), "Action=CreateUser&UserName=mallory&Version=2010-05-08").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(body.contains("<Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/team/alice is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::123456789012:user/mallory"), "{body}");
        assert!(iam.directory.store.get_user("mallory").is_err());

        let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GetUser","iam:CreateAccessKey"],"Resource":"arn:aws:iam::123456789012:user/team/${aws:username}"}]}"#;
        let own_only = doc.replace("${aws:username}", "alice");
        iam.directory
            .store
            .put_inline_policy(lambdabox_identity::store::OwnerKind::User, "alice", "self", &own_only)
            .unwrap();
        let body = iam.ok_as(as_alice(), "Action=GetUser&Version=2010-05-08").await;
        assert!(body.contains("<UserName>alice</UserName>") && body.contains("<Path>/team/</Path>"), "{body}");
        let body = iam.ok_as(as_alice(), "Action=CreateAccessKey&Version=2010-05-08").await;
        assert!(body.contains("<UserName>alice</UserName>"), "{body}");
        let (status, _) = iam.call_as(as_alice(), "Action=ListUsers&Version=2010-05-08").await;
        assert_eq!(status, StatusCode::FORBIDDEN);

        let role = Principal {
            account: "123456789012".into(),
            kind: PrincipalKind::AssumedRole {
                role_name: "r".into(),
                role_path: "/".into(),
                role_id: "AROAEXAMPLE".into(),
                session: "s".into(),
            },
            policies: Vec::new(),
        };
        let (status, body) = iam.call_as(role, "Action=GetUser&Version=2010-05-08").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(
            body.contains("<Message>Must specify userName when calling with non-User credentials</Message>"),
            "{body}"
        );
    }
}
