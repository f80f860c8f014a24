//! A user's or role's own policies: inline ones (`Put`/`Get`/`Delete`/
//! `List` `RolePolicy`/`UserPolicy`) and the managed ones attached to it
//! (`Attach`/`Detach`/`ListAttached` `RolePolicies`/`UserPolicies`). The
//! user and role variants are one operation over an [`Owner`]; each is
//! authorized on the owner's ARN, attachments with `iam:PolicyARN` too.

use lambdabox_aws::protocol::xml_text;
use lambdabox_aws::query::element;
use lambdabox_identity::store::OwnerKind;

use crate::page::paginate;
use crate::validate::{ARN, EXISTING_USER_NAME, POLICY_DOCUMENT, POLICY_NAME, POLICY_PATH, ROLE_NAME, Rule, USER_NAME};
use crate::{Call, Outcome, roles, users, xml};

/// Whose policies an operation acts on, and how its request names it.
#[derive(Debug, Clone, Copy)]
struct Owner {
    kind: OwnerKind,
    /// `UserName` or `RoleName`.
    param: &'static str,
    rule: &'static Rule,
}

const ROLE: Owner = Owner { kind: OwnerKind::Role, param: "RoleName", rule: &ROLE_NAME };
/// Users of the inline-policy operations (`existingUserNameType`).
const USER: Owner = Owner { kind: OwnerKind::User, param: "UserName", rule: &EXISTING_USER_NAME };
/// Users of the attachment operations (`userNameType`).
const USER_ATTACHED: Owner = Owner { kind: OwnerKind::User, param: "UserName", rule: &USER_NAME };

impl Owner {
    fn arn(self, call: &Call<'_>, name: &str) -> String {
        match self.kind {
            OwnerKind::User => users::user_arn(call, name),
            OwnerKind::Role => roles::role_arn(call, name),
        }
    }
}

fn put_inline(call: &Call<'_>, owner: Owner) -> Outcome {
    let mut input = call.input();
    let name = input.required(owner.param, owner.rule);
    let policy_name = input.required("PolicyName", &POLICY_NAME);
    let document = input.required("PolicyDocument", &POLICY_DOCUMENT);
    input.finish()?;
    call.authorize(&owner.arn(call, name))?;
    call.store.put_inline_policy(owner.kind, name, policy_name, document)?;
    Ok(None)
}

fn get_inline(call: &Call<'_>, owner: Owner) -> Outcome {
    let mut input = call.input();
    let name = input.required(owner.param, owner.rule);
    let policy_name = input.required("PolicyName", &POLICY_NAME);
    input.finish()?;
    call.authorize(&owner.arn(call, name))?;
    let document = call.store.get_inline_policy(owner.kind, name, policy_name)?;
    Ok(Some(format!(
        "{}{}{}",
        element(owner.param, name),
        element("PolicyName", policy_name),
        element("PolicyDocument", &xml::document(&document))
    )))
}

fn delete_inline(call: &Call<'_>, owner: Owner) -> Outcome {
    let mut input = call.input();
    let name = input.required(owner.param, owner.rule);
    let policy_name = input.required("PolicyName", &POLICY_NAME);
    input.finish()?;
    call.authorize(&owner.arn(call, name))?;
    call.store.delete_inline_policy(owner.kind, name, policy_name)?;
    Ok(None)
}

fn list_inline(call: &Call<'_>, owner: Owner) -> Outcome {
    let mut input = call.input();
    let name = input.required(owner.param, owner.rule);
    let page = input.page();
    input.finish()?;
    call.authorize(&owner.arn(call, name))?;
    let names = paginate(call.store.list_inline_policies(owner.kind, name)?, &page, String::clone);
    Ok(Some(names.render("PolicyNames", |n| xml_text(n))))
}

/// The owner's name and the policy ARN of an attach or detach request.
fn attachment<'p>(call: &'p Call<'_>, owner: Owner) -> Result<(&'p str, &'p str), crate::error::IamError> {
    let mut input = call.input();
    let name = input.required(owner.param, owner.rule);
    let arn = input.required("PolicyArn", &ARN);
    input.policy_arn(arn);
    input.finish()?;
    call.authorize_with(&owner.arn(call, name), "iam:PolicyARN", arn)?;
    Ok((name, arn))
}

fn attach(call: &Call<'_>, owner: Owner) -> Outcome {
    let (name, arn) = attachment(call, owner)?;
    call.store.attach_policy(owner.kind, name, arn)?;
    Ok(None)
}

fn detach(call: &Call<'_>, owner: Owner) -> Outcome {
    let (name, arn) = attachment(call, owner)?;
    call.store.detach_policy(owner.kind, name, arn)?;
    Ok(None)
}

fn list_attached(call: &Call<'_>, owner: Owner) -> Outcome {
    let mut input = call.input();
    let name = input.required(owner.param, owner.rule);
    let prefix = input.optional("PathPrefix", &POLICY_PATH);
    let page = input.page();
    input.finish()?;
    call.authorize(&owner.arn(call, name))?;
    let mut attached = call.store.list_attached_policies(owner.kind, name)?;
    if let Some(prefix) = prefix {
        attached.retain(|p| policy_path(&p.arn).starts_with(prefix));
    }
    let attached = paginate(attached, &page, |p| p.arn.clone());
    Ok(Some(attached.render("AttachedPolicies", xml::attached_policy)))
}

/// A managed policy's path, read from its ARN (`…:policy/service-role/X` → `/service-role/`).
fn policy_path(arn: &str) -> &str {
    let rest = arn.split_once(":policy").map_or("/", |(_, rest)| rest);
    rest.rfind('/').map_or("/", |end| &rest[..=end])
}

pub(crate) fn put_role_policy(call: &Call<'_>) -> Outcome {
    put_inline(call, ROLE)
}

pub(crate) fn get_role_policy(call: &Call<'_>) -> Outcome {
    get_inline(call, ROLE)
}

pub(crate) fn delete_role_policy(call: &Call<'_>) -> Outcome {
    delete_inline(call, ROLE)
}

pub(crate) fn list_role_policies(call: &Call<'_>) -> Outcome {
    list_inline(call, ROLE)
}

pub(crate) fn put_user_policy(call: &Call<'_>) -> Outcome {
    put_inline(call, USER)
}

pub(crate) fn get_user_policy(call: &Call<'_>) -> Outcome {
    get_inline(call, USER)
}

pub(crate) fn delete_user_policy(call: &Call<'_>) -> Outcome {
    delete_inline(call, USER)
}

pub(crate) fn list_user_policies(call: &Call<'_>) -> Outcome {
    list_inline(call, USER)
}

pub(crate) fn attach_role_policy(call: &Call<'_>) -> Outcome {
    attach(call, ROLE)
}

pub(crate) fn detach_role_policy(call: &Call<'_>) -> Outcome {
    detach(call, ROLE)
}

pub(crate) fn list_attached_role_policies(call: &Call<'_>) -> Outcome {
    list_attached(call, ROLE)
}

pub(crate) fn attach_user_policy(call: &Call<'_>) -> Outcome {
    attach(call, USER_ATTACHED)
}

pub(crate) fn detach_user_policy(call: &Call<'_>) -> Outcome {
    detach(call, USER_ATTACHED)
}

pub(crate) fn list_attached_user_policies(call: &Call<'_>) -> Outcome {
    list_attached(call, USER_ATTACHED)
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;
    use lambdabox_identity::{Principal, PrincipalKind};

    use super::policy_path;
    use crate::testing::{Harness, TRUST, between, decoded, form};

    const LOGS: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "arn:aws:logs:*:*:log-group:/aws/lambda/*"}]}"#;

    async fn with_role_and_user() -> Harness {
        let iam = Harness::new();
        iam.ok(&form(&[("Action", "CreateRole"), ("RoleName", "exec"), ("AssumeRolePolicyDocument", TRUST)])).await;
        iam.ok("Action=CreateUser&UserName=alice&Version=2010-05-08").await;
        iam
    }

    #[tokio::test]
    async fn inline_policies_round_trip_url_encoded() {
        let iam = with_role_and_user().await;
        for (kind, owner) in [("Role", "RoleName"), ("User", "UserName")] {
            let name = if kind == "Role" { "exec" } else { "alice" };
            let put = format!("Put{kind}Policy");
            iam.ok(&form(&[("Action", &put), (owner, name), ("PolicyName", "logs"), ("PolicyDocument", LOGS)])).await;
            let body =
                iam.ok(&form(&[("Action", &format!("Get{kind}Policy")), (owner, name), ("PolicyName", "logs")])).await;
            assert!(body.contains(&format!("<Get{kind}PolicyResult><{owner}>{name}</{owner}><PolicyName>logs</PolicyName><PolicyDocument>%7B%22Version%22")), "{body}");
            assert_eq!(decoded(between(&body, "<PolicyDocument>", "</PolicyDocument>")), LOGS);
            let body = iam.ok(&form(&[("Action", &format!("List{kind}Policies")), (owner, name)])).await;
            assert!(
                body.contains("<PolicyNames><member>logs</member></PolicyNames><IsTruncated>false</IsTruncated>"),
                "{body}"
            );
            iam.ok(&form(&[("Action", &format!("Delete{kind}Policy")), (owner, name), ("PolicyName", "logs")])).await;
            let (status, body) = iam
                .call(&form(&[("Action", &format!("Get{kind}Policy")), (owner, name), ("PolicyName", "logs")]))
                .await;
            assert_eq!(status, StatusCode::NOT_FOUND);
            let lower = kind.to_lowercase();
            assert!(
                body.contains(&format!("<Message>The {lower} policy with name logs cannot be found.</Message>")),
                "{body}"
            );
            let body = iam.ok(&form(&[("Action", &format!("List{kind}Policies")), (owner, name)])).await;
            assert!(body.contains("<PolicyNames/><IsTruncated>false</IsTruncated>"), "{body}");
        }
        let (status, body) = iam
            .call(&form(&[
                ("Action", "PutRolePolicy"),
                ("RoleName", "exec"),
                ("PolicyName", "p"),
                ("PolicyDocument", TRUST),
            ]))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body.contains("<Code>MalformedPolicyDocument</Code>"), "{body}");
        let (status, body) = iam
            .call(&form(&[
                ("Action", "PutRolePolicy"),
                ("RoleName", "nobody"),
                ("PolicyName", "p"),
                ("PolicyDocument", LOGS),
            ]))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    }

    #[tokio::test]
    async fn a_role_with_policies_cannot_be_deleted() {
        let iam = with_role_and_user().await;
        iam.ok(&form(&[
            ("Action", "PutRolePolicy"),
            ("RoleName", "exec"),
            ("PolicyName", "logs"),
            ("PolicyDocument", LOGS),
        ]))
        .await;
        let (status, body) = iam.call("Action=DeleteRole&RoleName=exec&Version=2010-05-08").await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(
            body.contains(
                "<Code>DeleteConflict</Code><Message>Cannot delete entity, must delete policies first.</Message>"
            ),
            "{body}"
        );
    }

    #[tokio::test]
    async fn managed_policies_attach_list_and_detach() {
        let iam = with_role_and_user().await;
        let basic = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";
        iam.ok(&form(&[("Action", "AttachRolePolicy"), ("RoleName", "exec"), ("PolicyArn", basic)])).await;
        iam.ok(&form(&[
            ("Action", "AttachUserPolicy"),
            ("UserName", "alice"),
            ("PolicyArn", "arn:aws:iam::aws:policy/AdministratorAccess"),
        ]))
        .await;
        let body = iam.ok("Action=ListAttachedRolePolicies&RoleName=exec&Version=2010-05-08").await;
        assert!(body.contains(&format!("<AttachedPolicies><member><PolicyName>AWSLambdaBasicExecutionRole</PolicyName><PolicyArn>{basic}</PolicyArn></member></AttachedPolicies><IsTruncated>false</IsTruncated>")), "{body}");
        let body = iam
            .ok("Action=ListAttachedRolePolicies&RoleName=exec&PathPrefix=%2Fservice-role%2F&Version=2010-05-08")
            .await;
        assert!(body.contains("AWSLambdaBasicExecutionRole"), "{body}");
        let body = iam
            .ok("Action=ListAttachedUserPolicies&UserName=alice&PathPrefix=%2Fservice-role%2F&Version=2010-05-08")
            .await;
        assert!(body.contains("<AttachedPolicies/>"), "{body}");

        let (status, body) = iam.call("Action=DeleteRole&RoleName=exec&Version=2010-05-08").await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(body.contains("must detach all policies first"), "{body}");
        iam.ok(&form(&[("Action", "DetachRolePolicy"), ("RoleName", "exec"), ("PolicyArn", basic)])).await;
        let (status, body) =
            iam.call(&form(&[("Action", "DetachRolePolicy"), ("RoleName", "exec"), ("PolicyArn", basic)])).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(body.contains(&format!("<Message>Policy {basic} was not found.</Message>")), "{body}");
        iam.ok("Action=DeleteRole&RoleName=exec&Version=2010-05-08").await;

        let missing = "arn:aws:iam::aws:policy/NoSuchPolicy";
        let (status, body) =
            iam.call(&form(&[("Action", "AttachUserPolicy"), ("UserName", "alice"), ("PolicyArn", missing)])).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(
            body.contains(&format!("<Message>Policy {missing} does not exist or is not attachable.</Message>")),
            "{body}"
        );
        let (status, body) = iam
            .call(&form(&[
                ("Action", "AttachUserPolicy"),
                ("UserName", "alice"),
                ("PolicyArn", "arn:aws:iam::123456789012:role/exec"),
            ]))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            body.contains(
                "<Code>InvalidInput</Code><Message>ARN arn:aws:iam::123456789012:role/exec is not valid.</Message>"
            ),
            "{body}"
        );
        let (_, body) = iam.call("Action=AttachUserPolicy&UserName=alice&PolicyArn=short&Version=2010-05-08").await;
        assert!(body.contains("Value 'short' at 'policyArn' failed to satisfy constraint: Member must have length greater than or equal to 20"), "{body}");
    }

    #[tokio::test]
    async fn attachments_are_authorized_on_the_owner_with_the_policy_arn() {
        let iam = with_role_and_user().await;
        let allowed = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";
        let doc = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"iam:AttachRolePolicy","Resource":"arn:aws:iam::123456789012:role/exec","Condition":{{"ArnEquals":{{"iam:PolicyARN":"{allowed}"}}}}}}]}}"#
        );
        let store = &iam.directory.store;
        store.put_inline_policy(lambdabox_identity::store::OwnerKind::User, "alice", "attach", &doc).unwrap();
        let alice = store.get_user("alice").unwrap();
        let principal = || Principal {
            account: "123456789012".into(),
            kind: PrincipalKind::User { name: "alice".into(), path: "/".into(), id: alice.user_id.clone() },
            policies: store.policies_of(lambdabox_identity::store::OwnerKind::User, "alice").unwrap(),
        };
        iam.ok_as(principal(), &form(&[("Action", "AttachRolePolicy"), ("RoleName", "exec"), ("PolicyArn", allowed)]))
            .await;
        let admin = "arn:aws:iam::aws:policy/AdministratorAccess";
        let (status, body) = iam
            .call_as(principal(), &form(&[("Action", "AttachRolePolicy"), ("RoleName", "exec"), ("PolicyArn", admin)]))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(
            body.contains(
                "is not authorized to perform: iam:AttachRolePolicy on resource: arn:aws:iam::123456789012:role/exec"
            ),
            "{body}"
        );
        assert_eq!(store.list_attached_policies(lambdabox_identity::store::OwnerKind::Role, "exec").unwrap().len(), 1);
    }

    #[test]
    fn policy_paths_come_from_arns() {
        assert_eq!(policy_path("arn:aws:iam::aws:policy/service-role/AWSLambdaRole"), "/service-role/");
        assert_eq!(policy_path("arn:aws:iam::123456789012:policy/p"), "/");
        assert_eq!(policy_path("arn:aws:iam::123456789012:policy/a/b/p"), "/a/b/");
    }
}
