//! Roles and their trust policies: `CreateRole`, `GetRole`, `ListRoles`,
//! `DeleteRole` and `UpdateAssumeRolePolicy`. The trust policy is checked
//! by the store as a trust policy (a `Principal`, no `Resource`), with
//! IAM's `MalformedPolicyDocument` messages.

use lambdabox_identity::store::NewRole;

use crate::page::paginate;
use crate::users::NO_BOUNDARIES;
use crate::validate::{ARN, PATH, PATH_PREFIX, POLICY_DOCUMENT, ROLE_DESCRIPTION, ROLE_NAME};
use crate::xml::{self, View};
use crate::{Call, Outcome};

/// The ARN authorization checks for a role: with the role's path when the
/// role exists, else `/` (`arn:aws:iam::ACCOUNT:role/${RoleNameWithPath}`).
pub(crate) fn role_arn(call: &Call<'_>, name: &str) -> String {
    match call.store.get_role(name) {
        Ok(role) => role.arn,
        Err(_) => call.arn("role", "/", name),
    }
}

pub(crate) fn create_role(call: &Call<'_>) -> Outcome {
    let mut input = call.input();
    let path = input.optional("Path", &PATH);
    let name = input.required("RoleName", &ROLE_NAME);
    let trust = input.required("AssumeRolePolicyDocument", &POLICY_DOCUMENT);
    let description = input.optional("Description", &ROLE_DESCRIPTION);
    let duration = input.integer("MaxSessionDuration", 3600, 43200);
    // Console sign-in sessions: nothing here signs in to a console.
    input.integer("MaxSigninSessionDuration", 3600, 7_776_000);
    if input.optional("PermissionsBoundary", &ARN).is_some() {
        input.invalid(NO_BOUNDARIES);
    }
    let tags = input.tags();
    input.finish()?;
    call.authorize(&call.arn("role", path.unwrap_or("/"), name))?;
    let role = call.store.create_role(NewRole {
        name,
        path,
        assume_role_policy: trust,
        description,
        max_session_duration: duration.and_then(|d| u32::try_from(d).ok()),
        tags,
    })?;
    Ok(Some(xml::wrap("Role", &xml::role(&role, View::Created))))
}

pub(crate) fn get_role(call: &Call<'_>) -> Outcome {
    let mut input = call.input();
    let name = input.required("RoleName", &ROLE_NAME);
    input.finish()?;
    call.authorize(&role_arn(call, name))?;
    let role = call.store.get_role(name)?;
    Ok(Some(xml::wrap("Role", &xml::role(&role, View::Full))))
}

pub(crate) fn list_roles(call: &Call<'_>) -> Outcome {
    let mut input = call.input();
    let prefix = input.optional("PathPrefix", &PATH_PREFIX);
    let page = input.page();
    input.finish()?;
    call.authorize(&call.arn("role", prefix.unwrap_or("/"), ""))?;
    let roles = paginate(call.store.list_roles(prefix)?, &page, |r| r.name.clone());
    Ok(Some(roles.render("Roles", |r| xml::role(r, View::Listed))))
}

pub(crate) fn delete_role(call: &Call<'_>) -> Outcome {
    let mut input = call.input();
    let name = input.required("RoleName", &ROLE_NAME);
    input.finish()?;
    call.authorize(&role_arn(call, name))?;
    call.store.delete_role(name)?;
    Ok(None)
}

pub(crate) fn update_assume_role_policy(call: &Call<'_>) -> Outcome {
    let mut input = call.input();
    let name = input.required("RoleName", &ROLE_NAME);
    let document = input.required("PolicyDocument", &POLICY_DOCUMENT);
    input.finish()?;
    call.authorize(&role_arn(call, name))?;
    call.store.update_assume_role_policy(name, document)?;
    Ok(None)
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use crate::testing::{Harness, TRUST, between, decoded, form};

    #[tokio::test]
    async fn roles_are_created_read_listed_and_deleted_with_iams_xml() {
        let iam = Harness::new();
        let body = iam
            .ok(&form(&[
                ("Action", "CreateRole"),
                ("RoleName", "exec"),
                ("Path", "/service-role/"),
                ("AssumeRolePolicyDocument", TRUST),
                ("Description", "runs functions"),
                ("MaxSessionDuration", "7200"),
                ("Tags.member.1.Key", "app"),
                ("Tags.member.1.Value", "shop"),
            ]))
            .await;
        assert!(
            body.contains("<CreateRoleResult><Role><Path>/service-role/</Path><RoleName>exec</RoleName><RoleId>AROA"),
            "{body}"
        );
        assert!(body.contains("<Arn>arn:aws:iam::123456789012:role/service-role/exec</Arn>"), "{body}");
        assert_eq!(decoded(between(&body, "<AssumeRolePolicyDocument>", "</AssumeRolePolicyDocument>")), TRUST);
        assert!(
            body.contains("<Description>runs functions</Description><MaxSessionDuration>7200</MaxSessionDuration>"),
            "{body}"
        );
        assert!(body.contains("<Tags><member><Key>app</Key><Value>shop</Value></member></Tags>"), "{body}");

        let body = iam.ok("Action=GetRole&RoleName=exec&Version=2010-05-08").await;
        assert!(body.contains("<GetRoleResult><Role><Path>/service-role/</Path><RoleName>exec</RoleName>"), "{body}");
        assert!(body.contains("<RoleLastUsed/></Role></GetRoleResult>"), "{body}");
        let encoded = between(&body, "<AssumeRolePolicyDocument>", "</AssumeRolePolicyDocument>");
        assert!(encoded.starts_with("%7B%22Version%22%3A%20%222012-10-17%22"), "{encoded}");

        iam.ok(&form(&[("Action", "CreateRole"), ("RoleName", "other"), ("AssumeRolePolicyDocument", TRUST)])).await;
        let body = iam.ok("Action=ListRoles&Version=2010-05-08").await;
        let roles = between(&body, "<Roles>", "</Roles>");
        assert_eq!(roles.matches("<member>").count(), 2, "{body}");
        assert!(roles.contains("<MaxSessionDuration>3600</MaxSessionDuration>"), "{body}");
        assert!(!roles.contains("<Tags>") && !roles.contains("RoleLastUsed"), "{body}");
        let body = iam.ok("Action=ListRoles&PathPrefix=%2Fservice-role%2F&Version=2010-05-08").await;
        assert!(body.contains("exec") && !body.contains("other"), "{body}");

        let (status, body) = iam
            .call(&form(&[("Action", "CreateRole"), ("RoleName", "EXEC"), ("AssumeRolePolicyDocument", TRUST)]))
            .await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(
            body.contains("<Code>EntityAlreadyExists</Code><Message>Role with name EXEC already exists.</Message>"),
            "{body}"
        );

        iam.ok("Action=DeleteRole&RoleName=exec&Version=2010-05-08").await;
        let (status, body) = iam.call("Action=DeleteRole&RoleName=exec&Version=2010-05-08").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(body.contains("<Message>The role with name exec cannot be found.</Message>"), "{body}");
    }

    #[tokio::test]
    async fn trust_policies_are_replaced_and_checked() {
        let iam = Harness::new();
        iam.ok(&form(&[("Action", "CreateRole"), ("RoleName", "exec"), ("AssumeRolePolicyDocument", TRUST)])).await;
        let updated = TRUST.replace("lambda.amazonaws.com", "states.amazonaws.com");
        iam.ok(&form(&[("Action", "UpdateAssumeRolePolicy"), ("RoleName", "exec"), ("PolicyDocument", &updated)]))
            .await;
        let body = iam.ok("Action=GetRole&RoleName=exec&Version=2010-05-08").await;
        assert_eq!(decoded(between(&body, "<AssumeRolePolicyDocument>", "</AssumeRolePolicyDocument>")), updated);

        let no_principal = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}"#;
        let (status, body) = iam
            .call(&form(&[
                ("Action", "UpdateAssumeRolePolicy"),
                ("RoleName", "exec"),
                ("PolicyDocument", no_principal),
            ]))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            body.contains("<Code>MalformedPolicyDocument</Code><Message>Missing required field Principal</Message>"),
            "{body}"
        );
        let (status, body) = iam
            .call(&form(&[("Action", "CreateRole"), ("RoleName", "bad"), ("AssumeRolePolicyDocument", "{not json")]))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            body.contains("<Code>MalformedPolicyDocument</Code><Message>This policy contains invalid Json</Message>"),
            "{body}"
        );
    }

    #[tokio::test]
    async fn role_input_is_validated_before_anything_is_stored() {
        let iam = Harness::new();
        let (status, body) = iam.call("Action=CreateRole&Version=2010-05-08").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            body.contains(
                "<Code>ValidationError</Code><Message>2 validation errors detected: \
                 Value null at 'roleName' failed to satisfy constraint: Member must not be null; \
                 Value null at 'assumeRolePolicyDocument' failed to satisfy constraint: Member must not be null</Message>"
            ),
            "{body}"
        );
        let (_, body) = iam
            .call(&form(&[("Action", "CreateRole"), ("RoleName", "has space"), ("AssumeRolePolicyDocument", TRUST)]))
            .await;
        assert!(
            body.contains(r"<Message>1 validation error detected: Value 'has space' at 'roleName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+</Message>"),
            "{body}"
        );
        let long = "r".repeat(65);
        let (_, body) = iam
            .call(&form(&[("Action", "CreateRole"), ("RoleName", &long), ("AssumeRolePolicyDocument", TRUST)]))
            .await;
        assert!(body.contains(&format!("Value '{long}' at 'roleName' failed to satisfy constraint: Member must have length less than or equal to 64")), "{body}");
        let (_, body) = iam
            .call(&form(&[
                ("Action", "CreateRole"),
                ("RoleName", "r"),
                ("AssumeRolePolicyDocument", TRUST),
                ("Path", "service-role"),
                ("MaxSessionDuration", "60"),
            ]))
            .await;
        assert!(body.contains(r"Value 'service-role' at 'path' failed to satisfy constraint: Member must satisfy regular expression pattern: (\u002F)|(\u002F[\u0021-\u007E]+\u002F)"), "{body}");
        assert!(body.contains("Value '60' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to 3600"), "{body}");
        assert!(body.contains("2 validation errors detected"), "{body}");
        let (status, body) = iam
            .call(&form(&[
                ("Action", "CreateRole"),
                ("RoleName", "r"),
                ("AssumeRolePolicyDocument", TRUST),
                ("PermissionsBoundary", "arn:aws:iam::aws:policy/AdministratorAccess"),
            ]))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body.contains("<Code>InvalidInput</Code>"), "{body}");
        assert!(iam.directory.store.list_roles(None).unwrap().is_empty());
    }
}
