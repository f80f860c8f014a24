//! Managed policies: `CreatePolicy`, `GetPolicy`, `GetPolicyVersion`,
//! `DeletePolicy` and `ListPolicies`, over the account's customer managed
//! policies and AWS's managed ones (`arn:aws:iam::aws:policy/…`), which
//! every account sees and none can delete.

use crate::page::paginate;
use crate::validate::{ARN, POLICY_DESCRIPTION, POLICY_DOCUMENT, POLICY_NAME, POLICY_PATH, VERSION_ID};
use crate::{Call, Outcome, xml};

pub(crate) fn create_policy(call: &Call<'_>) -> Outcome {
    let mut input = call.input();
    let name = input.required("PolicyName", &POLICY_NAME);
    let path = input.optional("Path", &POLICY_PATH);
    let document = input.required("PolicyDocument", &POLICY_DOCUMENT);
    let description = input.optional("Description", &POLICY_DESCRIPTION);
    // Checked as IAM checks them; the identity store keeps no tags on
    // policies, so they are not kept (nor echoed as if they were).
    input.tags();
    input.finish()?;
    call.authorize(&call.arn("policy", path.unwrap_or("/"), name))?;
    let policy = call.store.create_policy(name, path, document, description)?;
    Ok(Some(xml::wrap("Policy", &xml::policy(&policy, true))))
}

/// The `PolicyArn` of a request, checked.
fn policy_arn<'p>(input: &mut crate::validate::Input<'p>) -> &'p str {
    let arn = input.required("PolicyArn", &ARN);
    input.policy_arn(arn);
    arn
}

pub(crate) fn get_policy(call: &Call<'_>) -> Outcome {
    let mut input = call.input();
    let arn = policy_arn(&mut input);
    input.finish()?;
    call.authorize(arn)?;
    let policy = call.store.get_policy(arn)?;
    Ok(Some(xml::wrap("Policy", &xml::policy(&policy, true))))
}

pub(crate) fn get_policy_version(call: &Call<'_>) -> Outcome {
    let mut input = call.input();
    let arn = policy_arn(&mut input);
    let version = input.required("VersionId", &VERSION_ID);
    input.finish()?;
    call.authorize(arn)?;
    let version = call.store.get_policy_version(arn, version)?;
    Ok(Some(xml::policy_version(&version)))
}

pub(crate) fn delete_policy(call: &Call<'_>) -> Outcome {
    let mut input = call.input();
    let arn = policy_arn(&mut input);
    input.finish()?;
    call.authorize(arn)?;
    call.store.delete_policy(arn)?;
    Ok(None)
}

pub(crate) fn list_policies(call: &Call<'_>) -> Outcome {
    let mut input = call.input();
    let scope = input.enumeration("Scope", &["All", "AWS", "Local"], false);
    let only_attached = input.boolean("OnlyAttached").unwrap_or(false);
    let prefix = input.optional("PathPrefix", &POLICY_PATH);
    let usage = input.enumeration("PolicyUsageFilter", &["PermissionsPolicy", "PermissionsBoundary"], false);
    let page = input.page();
    input.finish()?;
    call.authorize(&call.arn("policy", "/", ""))?;
    let mut policies = call.store.list_policies(scope.unwrap_or("All"))?;
    policies.retain(|p| {
        (!only_attached || p.attachment_count > 0)
            && prefix.is_none_or(|prefix| p.path.starts_with(prefix))
            // No policy is used as a permissions boundary here.
            && usage != Some("PermissionsBoundary")
    });
    let policies = paginate(policies, &page, |p| p.arn.clone());
    Ok(Some(policies.render("Policies", |p| xml::policy(p, false))))
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use crate::testing::{Harness, between, decoded, form};

    const READ: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/*"}]}"#;

    #[tokio::test]
    async fn customer_policies_are_created_read_and_deleted() {
        let iam = Harness::new();
        let body = iam
            .ok(&form(&[
                ("Action", "CreatePolicy"),
                ("PolicyName", "read-bucket"),
                ("Path", "/app/"),
                ("PolicyDocument", READ),
                ("Description", "reads the bucket"),
            ]))
            .await;
        let arn = "arn:aws:iam::123456789012:policy/app/read-bucket";
        assert!(
            body.contains("<CreatePolicyResult><Policy><PolicyName>read-bucket</PolicyName><PolicyId>ANPA"),
            "{body}"
        );
        assert!(body.contains(&format!("<Arn>{arn}</Arn><Path>/app/</Path><DefaultVersionId>v1</DefaultVersionId><AttachmentCount>0</AttachmentCount>")), "{body}");
        assert!(body.contains("<IsAttachable>true</IsAttachable>"), "{body}");

        let body = iam.ok(&form(&[("Action", "GetPolicy"), ("PolicyArn", arn)])).await;
        assert!(body.contains("<Description>reads the bucket</Description>"), "{body}");
        let body = iam.ok(&form(&[("Action", "GetPolicyVersion"), ("PolicyArn", arn), ("VersionId", "v1")])).await;
        assert!(body.contains("<GetPolicyVersionResult><PolicyVersion><Document>%7B%22Version%22"), "{body}");
        assert!(
            body.contains("<VersionId>v1</VersionId><IsDefaultVersion>true</IsDefaultVersion><CreateDate>"),
            "{body}"
        );
        assert_eq!(decoded(between(&body, "<Document>", "</Document>")), READ);
        let (status, _) =
            iam.call(&form(&[("Action", "GetPolicyVersion"), ("PolicyArn", arn), ("VersionId", "v2")])).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (_, body) =
            iam.call(&form(&[("Action", "GetPolicyVersion"), ("PolicyArn", arn), ("VersionId", "1")])).await;
        assert!(body.contains(r"Value '1' at 'versionId' failed to satisfy constraint: Member must satisfy regular expression pattern: v[1-9][0-9]*(\.[A-Za-z0-9-]*)?"), "{body}");

        let (status, body) = iam
            .call(&form(&[("Action", "CreatePolicy"), ("PolicyName", "read-bucket"), ("PolicyDocument", READ)]))
            .await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(body.contains("<Code>EntityAlreadyExists</Code><Message>A policy called read-bucket already exists. Duplicate names are not allowed.</Message>"), "{body}");

        iam.ok("Action=CreateUser&UserName=alice&Version=2010-05-08").await;
        iam.ok(&form(&[("Action", "AttachUserPolicy"), ("UserName", "alice"), ("PolicyArn", arn)])).await;
        let body = iam.ok(&form(&[("Action", "GetPolicy"), ("PolicyArn", arn)])).await;
        assert!(body.contains("<AttachmentCount>1</AttachmentCount>"), "{body}");
        let (status, body) = iam.call(&form(&[("Action", "DeletePolicy"), ("PolicyArn", arn)])).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(body.contains("<Code>DeleteConflict</Code>"), "{body}");
        iam.ok(&form(&[("Action", "DetachUserPolicy"), ("UserName", "alice"), ("PolicyArn", arn)])).await;
        iam.ok(&form(&[("Action", "DeletePolicy"), ("PolicyArn", arn)])).await;
        let (status, body) = iam.call(&form(&[("Action", "GetPolicy"), ("PolicyArn", arn)])).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(body.contains("<Code>NoSuchEntity</Code>"), "{body}");
    }

    #[tokio::test]
    async fn aws_managed_policies_are_listed_and_read_but_not_deleted() {
        let iam = Harness::new();
        iam.ok(&form(&[("Action", "CreatePolicy"), ("PolicyName", "mine"), ("PolicyDocument", READ)])).await;
        let body = iam.ok("Action=ListPolicies&Scope=AWS&Version=2010-05-08").await;
        assert!(body.contains("<PolicyName>AWSLambdaBasicExecutionRole</PolicyName>"), "{body}");
        assert!(!body.contains("<PolicyName>mine</PolicyName>") && !body.contains("<Description>"), "{body}");
        let body = iam.ok("Action=ListPolicies&Scope=Local&Version=2010-05-08").await;
        assert_eq!(between(&body, "<Policies>", "</Policies>").matches("<member>").count(), 1, "{body}");
        let body = iam.ok("Action=ListPolicies&Version=2010-05-08").await;
        assert!(
            body.contains("<PolicyName>mine</PolicyName>")
                && body.contains("<PolicyName>AdministratorAccess</PolicyName>"),
            "{body}"
        );
        let body = iam.ok("Action=ListPolicies&PathPrefix=%2Fservice-role%2F&Version=2010-05-08").await;
        assert!(
            !body.contains("<PolicyName>AdministratorAccess</PolicyName>") && body.contains("AWSLambdaRole"),
            "{body}"
        );
        let body = iam.ok("Action=ListPolicies&OnlyAttached=true&Version=2010-05-08").await;
        assert!(body.contains("<Policies/>"), "{body}");
        let (_, body) = iam.call("Action=ListPolicies&Scope=Everything&Version=2010-05-08").await;
        assert!(body.contains("Member must satisfy enum value set: [All, AWS, Local]"), "{body}");

        let admin = "arn:aws:iam::aws:policy/AdministratorAccess";
        let body = iam.ok(&form(&[("Action", "GetPolicyVersion"), ("PolicyArn", admin), ("VersionId", "v1")])).await;
        assert_eq!(
            decoded(between(&body, "<Document>", "</Document>")),
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#
        );
        let (status, body) = iam.call(&form(&[("Action", "DeletePolicy"), ("PolicyArn", admin)])).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body.contains("<Code>InvalidInput</Code>"), "{body}");
    }

    #[tokio::test]
    async fn policy_lists_page() {
        let iam = Harness::new();
        let first = iam.ok("Action=ListPolicies&Scope=AWS&MaxItems=4&Version=2010-05-08").await;
        assert!(first.contains("<IsTruncated>true</IsTruncated>"), "{first}");
        let mut seen = between(&first, "<Policies>", "</Policies>").matches("<member>").count();
        let mut marker = between(&first, "<Marker>", "</Marker>").to_owned();
        loop {
            let body = iam
                .ok(&form(&[("Action", "ListPolicies"), ("Scope", "AWS"), ("MaxItems", "4"), ("Marker", &marker)]))
                .await;
            seen += between(&body, "<Policies>", "</Policies>").matches("<member>").count();
            if body.contains("<IsTruncated>false</IsTruncated>") {
                break;
            }
            marker = between(&body, "<Marker>", "</Marker>").to_owned();
        }
        assert_eq!(seen, lambdabox_identity::managed::ALL.len());
    }
}
