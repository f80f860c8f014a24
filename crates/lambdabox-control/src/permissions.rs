//! Resource-based policies: AddPermission, GetPolicy and RemovePermission.
//!
//! Deployment scripts grant API Gateway, S3 or the public (`--principal "*"`
//! with `--function-url-auth-type NONE`) the right to invoke a function, and
//! read the policy back. Statements are rendered exactly as AWS renders
//! them and kept durably per version or alias. They are recorded, not
//! enforced: every caller of this server may invoke every function (see
//! docs; function URLs with `AWS_IAM` check signatures themselves).

use lambdabox_model::arn::{function_arn, qualified_function_arn};
use lambdabox_model::{FunctionName, Region, ValidationError};
use serde_json::{Map, Value, json};

use crate::plane::blocking;
use crate::{ControlError, ControlPlane};

/// AddPermission's settings as the client sent them.
#[derive(Debug, Clone, Default)]
pub struct AddPermission {
    pub statement_id: Option<String>,
    pub action: Option<String>,
    pub principal: Option<String>,
    pub source_arn: Option<String>,
    pub source_account: Option<String>,
    pub event_source_token: Option<String>,
    pub principal_org_id: Option<String>,
    pub function_url_auth_type: Option<String>,
    pub revision_id: Option<String>,
}

/// GetPolicy's answer: the policy document (JSON text) and the revision.
#[derive(Debug, Clone)]
pub struct PolicyView {
    pub policy: String,
    pub revision_id: String,
}

fn required<'a>(value: &'a Option<String>, field: &str) -> Result<&'a str, ControlError> {
    value.as_deref().ok_or_else(|| ValidationError::new("null", field, "Member must not be null").into())
}

fn check_pattern(value: &str, field: &str, pattern: &str, ok: bool) -> Result<(), ControlError> {
    if ok { Ok(()) } else { Err(ValidationError::pattern(value, field, pattern).into()) }
}

/// The `Principal` element: `*`, a service, an account or an ARN.
fn principal(p: &str) -> Value {
    if p == "*" {
        json!("*")
    } else if p.ends_with(".amazonaws.com") || p.ends_with(".amazonaws.com.cn") {
        json!({ "Service": p })
    } else if p.len() == 12 && p.bytes().all(|b| b.is_ascii_digit()) {
        json!({ "AWS": format!("arn:aws:iam::{p}:root") })
    } else {
        json!({ "AWS": p })
    }
}

impl ControlPlane {
    async fn policy_target(
        &self,
        region: &Region,
        function: &str,
        qualifier: Option<&str>,
    ) -> Result<(FunctionName, String, String, String), ControlError> {
        let view = self.resolve(region, function, qualifier, None).await?;
        let q = qualifier.map(str::to_owned).or_else(|| {
            lambdabox_model::FunctionRef::parse(function, "functionName").ok()?.qualifier.map(|q| q.to_string())
        });
        let resource = match q.as_deref() {
            None => function_arn(region, &self.config.account, view.config.name.as_str()),
            Some(q) => qualified_function_arn(region, &self.config.account, view.config.name.as_str(), q),
        };
        let revision = view.config.revision_id.clone();
        Ok((view.config.name, q.unwrap_or_else(|| "$LATEST".into()), resource, revision))
    }

    /// AddPermission: returns the statement as JSON text.
    pub async fn add_permission(
        &self,
        region: &Region,
        function: &str,
        qualifier: Option<&str>,
        req: AddPermission,
    ) -> Result<String, ControlError> {
        let sid = required(&req.statement_id, "statementId")?;
        let action = required(&req.action, "action")?;
        let who = required(&req.principal, "principal")?;
        check_pattern(
            sid,
            "statementId",
            "([a-zA-Z0-9-_.]+)",
            !sid.is_empty() && sid.len() <= 100 && sid.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)),
        )?;
        let action_ok = action == "*"
            || action == "lambda:*"
            || action
                .strip_prefix("lambda:")
                .is_some_and(|a| !a.is_empty() && a.chars().all(|c| c.is_ascii_alphabetic()));
        check_pattern(action, "action", "(lambda:[*]|lambda:[a-zA-Z]+|[*])", action_ok)?;
        check_pattern(who, "principal", "[^\\s]+", !who.is_empty() && !who.contains(char::is_whitespace))?;
        if let Some(t) = req.function_url_auth_type.as_deref().filter(|t| !matches!(*t, "NONE" | "AWS_IAM")) {
            return Err(ValidationError::new(
                t,
                "functionUrlAuthType",
                "Member must satisfy enum value set: [AWS_IAM, NONE]",
            )
            .into());
        }
        let (name, q, resource, revision) = self.policy_target(region, function, qualifier).await?;
        if req.revision_id.as_deref().is_some_and(|given| given != revision) {
            return Err(ControlError::RevisionMismatch);
        }
        let mut statement = Map::new();
        statement.insert("Sid".into(), json!(sid));
        statement.insert("Effect".into(), json!("Allow"));
        statement.insert("Principal".into(), principal(who));
        statement.insert("Action".into(), json!(action));
        statement.insert("Resource".into(), json!(resource));
        let mut condition = Map::new();
        let mut add = |op: &str, key: &str, value: &Option<String>| {
            if let Some(v) = value {
                let entry = condition.entry(op.to_owned()).or_insert_with(|| json!({}));
                entry[key] = json!(v);
            }
        };
        add("StringEquals", "AWS:SourceAccount", &req.source_account);
        add("StringEquals", "aws:PrincipalOrgID", &req.principal_org_id);
        add("StringEquals", "lambda:EventSourceToken", &req.event_source_token);
        add("StringEquals", "lambda:FunctionUrlAuthType", &req.function_url_auth_type);
        add("ArnLike", "AWS:SourceArn", &req.source_arn);
        if !condition.is_empty() {
            statement.insert("Condition".into(), Value::Object(condition));
        }
        let text = Value::Object(statement).to_string();

        let _guard = self.policy_lock.lock().await;
        let (n, qq) = (name.clone(), q.clone());
        let mut statements = blocking(&self.store, move |s| s.policy(&n, &qq)).await?;
        if statements.iter().any(|s| serde_json::from_str::<Value>(s).is_ok_and(|v| v["Sid"] == sid)) {
            return Err(ControlError::StatementExists { sid: sid.to_owned() });
        }
        statements.push(text.clone());
        blocking(&self.store, move |s| s.set_policy(&name, &q, &statements)).await?;
        Ok(text)
    }

    pub async fn get_policy(
        &self,
        region: &Region,
        function: &str,
        qualifier: Option<&str>,
    ) -> Result<PolicyView, ControlError> {
        let (name, q, _, revision) = self.policy_target(region, function, qualifier).await?;
        let statements = blocking(&self.store, move |s| s.policy(&name, &q)).await?;
        if statements.is_empty() {
            return Err(ControlError::ResourceNotFound);
        }
        let statements: Vec<Value> = statements.iter().filter_map(|s| serde_json::from_str(s).ok()).collect();
        let policy = json!({ "Version": "2012-10-17", "Id": "default", "Statement": statements }).to_string();
        Ok(PolicyView { policy, revision_id: revision })
    }

    pub async fn remove_permission(
        &self,
        region: &Region,
        function: &str,
        qualifier: Option<&str>,
        sid: &str,
        revision_id: Option<&str>,
    ) -> Result<(), ControlError> {
        let (name, q, _, revision) = self.policy_target(region, function, qualifier).await?;
        if revision_id.is_some_and(|r| r != revision) {
            return Err(ControlError::RevisionMismatch);
        }
        let _guard = self.policy_lock.lock().await;
        let (n, qq) = (name.clone(), q.clone());
        let mut statements = blocking(&self.store, move |s| s.policy(&n, &qq)).await?;
        let before = statements.len();
        statements.retain(|s| !serde_json::from_str::<Value>(s).is_ok_and(|v| v["Sid"] == sid));
        if statements.len() == before {
            return Err(ControlError::StatementNotFound { sid: sid.to_owned() });
        }
        blocking(&self.store, move |s| s.set_policy(&name, &q, &statements)).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AliasInput;
    use crate::test_support::*;

    fn grant(sid: &str, principal: &str) -> AddPermission {
        AddPermission {
            statement_id: Some(sid.into()),
            action: Some("lambda:InvokeFunction".into()),
            principal: Some(principal.into()),
            ..Default::default()
        }
    }

    fn statements(policy: &PolicyView) -> Vec<Value> {
        let doc: Value = serde_json::from_str(&policy.policy).unwrap();
        assert_eq!((doc["Version"].as_str(), doc["Id"].as_str()), (Some("2012-10-17"), Some("default")));
        doc["Statement"].as_array().unwrap().clone()
    }

    #[tokio::test]
    async fn add_permission_checks_its_members() {
        let h = Harness::new();
        h.create("f").await;
        for (req, field) in [
            (AddPermission { statement_id: None, ..grant("s", "*") }, "statementId"),
            (AddPermission { action: None, ..grant("s", "*") }, "action"),
            (AddPermission { principal: None, ..grant("s", "*") }, "principal"),
        ] {
            let e = h.plane.add_permission(&h.region, "f", None, req).await.unwrap_err();
            assert_validation(e, field, "Member must not be null");
        }
        for (req, field) in [
            (grant("bad sid", "*"), "statementId"),
            (grant("", "*"), "statementId"),
            (grant(&"s".repeat(101), "*"), "statementId"),
            (AddPermission { action: Some("s3:GetObject".into()), ..grant("s", "*") }, "action"),
            (AddPermission { action: Some("lambda:".into()), ..grant("s", "*") }, "action"),
            (grant("s", "two words"), "principal"),
            (grant("s", ""), "principal"),
            (AddPermission { function_url_auth_type: Some("OPEN".into()), ..grant("s", "*") }, "functionUrlAuthType"),
        ] {
            let e = h.plane.add_permission(&h.region, "f", None, req).await.unwrap_err();
            assert_eq!(validation(e).field, field);
        }
        for action in ["*", "lambda:*", "lambda:InvokeFunctionUrl"] {
            let req = AddPermission { action: Some(action.into()), ..grant(&format!("s{}", action.len()), "*") };
            h.plane.add_permission(&h.region, "f", None, req).await.unwrap();
        }
        let e = h.plane.add_permission(&h.region, "g", None, grant("s", "*")).await.unwrap_err();
        assert!(matches!(e, ControlError::FunctionNotFound { .. }), "{e:?}");
    }

    #[tokio::test]
    async fn statements_are_rendered_as_aws_renders_them() {
        let h = Harness::new();
        let f = h.create("f").await;
        let text =
            h.plane.add_permission(&h.region, "f", None, grant("apigw", "apigateway.amazonaws.com")).await.unwrap();
        let statement: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            statement,
            json!({
                "Sid": "apigw",
                "Effect": "Allow",
                "Principal": { "Service": "apigateway.amazonaws.com" },
                "Action": "lambda:InvokeFunction",
                "Resource": "arn:aws:lambda:us-east-1:000000000000:function:f",
            })
        );
        let req = AddPermission {
            source_arn: Some("arn:aws:s3:::bucket".into()),
            source_account: Some("111122223333".into()),
            function_url_auth_type: Some("NONE".into()),
            ..grant("conditions", "111122223333")
        };
        let text = h.plane.add_permission(&h.region, "f", None, req).await.unwrap();
        let statement: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(statement["Principal"], json!({ "AWS": "arn:aws:iam::111122223333:root" }));
        assert_eq!(
            statement["Condition"],
            json!({
                "StringEquals": { "AWS:SourceAccount": "111122223333", "lambda:FunctionUrlAuthType": "NONE" },
                "ArnLike": { "AWS:SourceArn": "arn:aws:s3:::bucket" },
            })
        );
        let text = h.plane.add_permission(&h.region, "f", None, grant("public", "*")).await.unwrap();
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap()["Principal"], json!("*"));
        let role = "arn:aws:iam::111122223333:role/caller";
        let text = h.plane.add_permission(&h.region, "f", None, grant("role", role)).await.unwrap();
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap()["Principal"], json!({ "AWS": role }));

        let policy = h.plane.get_policy(&h.region, "f", None).await.unwrap();
        let sids: Vec<String> = statements(&policy).iter().map(|s| s["Sid"].as_str().unwrap().to_owned()).collect();
        assert_eq!(sids, ["apigw", "conditions", "public", "role"]);
        assert_eq!(policy.revision_id, f.config.revision_id);
    }

    #[tokio::test]
    async fn a_statement_id_is_used_once_per_policy() {
        let h = Harness::new();
        h.create("f").await;
        h.publish_new("f", 10).await;
        let e = h.plane.get_policy(&h.region, "f", None).await.unwrap_err();
        assert!(matches!(e, ControlError::ResourceNotFound), "{e:?}");
        h.plane.add_permission(&h.region, "f", None, grant("s", "*")).await.unwrap();
        let e = h.plane.add_permission(&h.region, "f", None, grant("s", "s3.amazonaws.com")).await.unwrap_err();
        assert!(matches!(&e, ControlError::StatementExists { sid } if sid == "s"), "{e:?}");
        assert_eq!(
            e.to_string(),
            "The statement id (s) provided already exists. Please provide a new statement id, or remove the existing statement."
        );
        // Each version or alias has its own policy.
        h.plane.add_permission(&h.region, "f", Some("1"), grant("s", "*")).await.unwrap();
        let v1 = h.plane.get_policy(&h.region, "f:1", None).await.unwrap();
        assert_eq!(statements(&v1)[0]["Resource"], json!("arn:aws:lambda:us-east-1:000000000000:function:f:1"));
        assert_eq!(statements(&h.plane.get_policy(&h.region, "f", None).await.unwrap()).len(), 1);
        let e = h.plane.add_permission(&h.region, "f", Some("live"), grant("s", "*")).await.unwrap_err();
        assert!(matches!(e, ControlError::FunctionNotFound { .. }), "{e:?}");
        let alias = AliasInput { function_version: Some("1".into()), ..Default::default() };
        h.plane.create_alias(&h.region, "f", Some("live"), alias).await.unwrap();
        h.plane.add_permission(&h.region, "f:live", None, grant("s", "*")).await.unwrap();
        let e = h.plane.add_permission(&h.region, "f:live", Some("1"), grant("t", "*")).await.unwrap_err();
        assert_eq!(validation(e).field, "qualifier");
    }

    #[tokio::test]
    async fn remove_permission_needs_the_statement_and_the_revision() {
        let h = Harness::new();
        let f = h.create("f").await;
        h.plane.add_permission(&h.region, "f", None, grant("a", "*")).await.unwrap();
        h.plane.add_permission(&h.region, "f", None, grant("b", "*")).await.unwrap();

        let e = h.plane.remove_permission(&h.region, "f", None, "c", None).await.unwrap_err();
        assert!(matches!(&e, ControlError::StatementNotFound { sid } if sid == "c"), "{e:?}");
        assert_eq!(e.to_string(), "Statement c is not found in resource policy.");
        let e = h.plane.remove_permission(&h.region, "f", None, "a", Some("stale")).await.unwrap_err();
        assert!(matches!(e, ControlError::RevisionMismatch), "{e:?}");
        let e = h
            .plane
            .add_permission(
                &h.region,
                "f",
                None,
                AddPermission { revision_id: Some("stale".into()), ..grant("c", "*") },
            )
            .await
            .unwrap_err();
        assert!(matches!(e, ControlError::RevisionMismatch), "{e:?}");
        let e = h.plane.remove_permission(&h.region, "f", Some("1"), "a", None).await.unwrap_err();
        assert!(matches!(e, ControlError::FunctionNotFound { .. }), "{e:?}");

        h.plane.remove_permission(&h.region, "f", None, "a", Some(&f.config.revision_id)).await.unwrap();
        let left = h.plane.get_policy(&h.region, "f", None).await.unwrap();
        assert_eq!(statements(&left).len(), 1);
        assert_eq!(statements(&left)[0]["Sid"], json!("b"));
        let e = h.plane.remove_permission(&h.region, "f", None, "a", None).await.unwrap_err();
        assert!(matches!(e, ControlError::StatementNotFound { .. }), "{e:?}");
        h.plane.remove_permission(&h.region, "f", None, "b", None).await.unwrap();
        let e = h.plane.get_policy(&h.region, "f", None).await.unwrap_err();
        assert!(matches!(e, ControlError::ResourceNotFound), "{e:?}");
        assert_eq!(h.changes(), [], "policies announce nothing");
    }
}
