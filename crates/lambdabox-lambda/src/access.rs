//! Who may call which Lambda operation, under `--auth iam`: each request
//! is authorised through the shared policy evaluation
//! ([`lambdabox_identity::authorize`]) with its operation's IAM action
//! (`lambda:` and the operation's name, which is IAM's: `InvokeFunction`,
//! `GetFunction`, …) and the resource ARN AWS's service authorization
//! reference gives it: the function (qualified when the request names a
//! version or alias), the layer (and version), the ARN a tag operation
//! names, or `*` for `ListFunctions`, `ListLayers`, `GetAccountSettings`.
//! When the caller's own policies do not allow it, the function's policy
//! (AddPermission's statements) is evaluated too, as AWS does; that is how
//! another account, or a service, gets in.
//!
//! `CreateFunction` names its function in the body, so its handler asks
//! ([`authorize_create`]); it and `UpdateFunctionConfiguration` also need
//! `iam:PassRole` on the execution role, which must exist and trust
//! `lambda.amazonaws.com` ([`pass_role`]). Under `--auth open` nothing is
//! checked.

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use lambdabox_identity::policy::{PolicyDocument, PolicyKind};
use lambdabox_identity::{AccessDenied, RequestIdentity};
use lambdabox_model::{FunctionRef, Region};

use crate::query::query_value;
use crate::target::RequestRegion;
use crate::{ApiError, AppState};

impl From<AccessDenied> for ApiError {
    fn from(denied: AccessDenied) -> Self {
        ApiError::access_denied(denied.message)
    }
}

/// What a request asks for: its IAM action and resource, and the function
/// whose policy may let the caller in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    pub action: String,
    pub resource: String,
    /// `(identifier, qualifier)` of the function a function route names.
    pub function: Option<(String, Option<String>)>,
}

/// The function ARN an identifier names (a name, partial or full ARN),
/// qualified by its own qualifier or `qualifier`.
fn function_arn(identifier: &str, qualifier: Option<&str>, region: &Region, account: &str) -> String {
    match FunctionRef::parse(identifier, "functionName") {
        Ok(r) => {
            let region = r.region.as_ref().unwrap_or(region);
            let account = r.account.as_ref().map_or(account, |a| a.as_str());
            let q = r.qualifier.as_ref().map(|q| q.as_str().to_owned()).or_else(|| qualifier.map(str::to_owned));
            let base = format!("arn:aws:lambda:{region}:{account}:function:{}", r.name.as_str());
            q.map_or(base.clone(), |q| format!("{base}:{q}"))
        }
        // Whatever it names, the caller must be allowed it: the handler
        // answers the validation error only to those who are.
        Err(_) => format!("arn:aws:lambda:{region}:{account}:function:{identifier}"),
    }
}

/// The action and resource of a named operation, from its route's
/// parameters and query.
pub fn access(
    operation: &str,
    params: &[(&str, &str)],
    query: Option<&str>,
    region: &Region,
    account: &str,
) -> Option<Access> {
    let param = |k: &str| params.iter().find(|(key, _)| *key == k).map(|(_, v)| *v);
    let action = format!("lambda:{operation}");
    let (resource, function) = match operation {
        "CreateFunction" => return None,
        "ListFunctions" | "ListLayers" | "GetAccountSettings" => ("*".to_owned(), None),
        "CreateEventSourceMapping" | "ListEventSourceMappings" => ("*".to_owned(), None),
        "GetEventSourceMapping" | "UpdateEventSourceMapping" | "DeleteEventSourceMapping" => {
            (format!("arn:aws:lambda:{region}:{account}:event-source-mapping:{}", param("uuid")?), None)
        }
        "ListTags" | "TagResource" | "UntagResource" => (param("arn")?.to_owned(), None),
        "PublishLayerVersion" | "ListLayerVersions" | "GetLayerVersion" | "DeleteLayerVersion" => {
            let name = param("name")?;
            let base = if name.starts_with("arn:") {
                name.to_owned()
            } else {
                format!("arn:aws:lambda:{region}:{account}:layer:{name}")
            };
            let resource = match param("version") {
                Some(v) => format!("{base}:{v}"),
                None => base,
            };
            (resource, None)
        }
        _ => {
            let name = param("name")?;
            // Alias and version-list operations act on the function itself.
            let qualifier = match operation {
                "CreateAlias"
                | "ListAliases"
                | "GetAlias"
                | "UpdateAlias"
                | "DeleteAlias"
                | "PublishVersion"
                | "ListVersionsByFunction"
                | "ListFunctionUrlConfigs"
                | "ListFunctionEventInvokeConfigs" => None,
                _ => query_value(query, "Qualifier"),
            };
            let arn = function_arn(name, qualifier.as_deref(), region, account);
            (arn, Some((name.to_owned(), qualifier)))
        }
    };
    Some(Access { action, resource, function })
}

/// Authorises a request on a named route (the route layer calls it before
/// the handler runs).
pub async fn authorize_route(state: &AppState, operation: &str, parts: &mut Parts) -> Result<(), ApiError> {
    let Some(identity) = lambdabox_identity::context::current() else { return Ok(()) };
    let RequestRegion(region) = RequestRegion::from_request_parts(parts, state).await.unwrap_or_else(|n| match n {});
    let params = RawPathParams::from_request_parts(parts, state).await.ok();
    let params: Vec<(&str, &str)> = params.iter().flat_map(|p| p.iter()).collect();
    let account = state.invoker.control().account().as_str().to_owned();
    let Some(access) = access(operation, &params, parts.uri.query(), &region, &account) else { return Ok(()) };
    authorize(state, &identity, &region, &access).await
}

async fn authorize(
    state: &AppState,
    identity: &RequestIdentity,
    region: &Region,
    access: &Access,
) -> Result<(), ApiError> {
    let denied = match identity.authorize_with(&access.action, &access.resource, None, |_| {}) {
        Ok(()) => return Ok(()),
        Err(denied) => denied,
    };
    // Only the function's policy can still let the caller in (an explicit
    // deny in its own policies cannot be overridden).
    let Some((name, qualifier)) = &access.function else { return Err(denied.into()) };
    if denied.is_explicit() {
        return Err(denied.into());
    }
    let policy = match state.invoker.control().get_policy(region, name, qualifier.as_deref()).await {
        Ok(view) => PolicyDocument::parse(&view.policy, PolicyKind::Resource).ok(),
        Err(_) => None,
    };
    match policy {
        Some(policy) => Ok(identity.authorize_with(&access.action, &access.resource, Some(&policy), |_| {})?),
        None => Err(denied.into()),
    }
}

/// `CreateFunction`'s authorisation, once its body names the function.
pub fn authorize_create(state: &AppState, region: &Region, function_name: &str) -> Result<(), ApiError> {
    let account = state.invoker.control().account().as_str().to_owned();
    let arn = function_arn(function_name, None, region, &account);
    Ok(lambdabox_identity::authorize("lambda:CreateFunction", &arn)?)
}

/// `iam:PassRole` on the execution role a request gives a function: the
/// caller must be allowed to pass it to Lambda, and the role must exist
/// and trust `lambda.amazonaws.com` (AWS's `InvalidParameterValueException`
/// otherwise). A value that is not a role ARN is left to validation.
pub fn pass_role(role: Option<&str>) -> Result<(), ApiError> {
    let (Some(identity), Some(role)) = (lambdabox_identity::context::current(), role) else { return Ok(()) };
    if !role.starts_with("arn:") || !role.contains(":role/") {
        return Ok(());
    }
    identity.authorize_with("iam:PassRole", role, None, |context| {
        context.set("iam:PassedToService", "lambda.amazonaws.com");
    })?;
    match identity.directory.trusts_service(role, "lambda.amazonaws.com") {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(ApiError::invalid_parameter("The role defined for the function cannot be assumed by Lambda.")),
        Err(e) => {
            tracing::error!(error = %e, "the identity store failed");
            Err(ApiError::service("The service could not read its identity store; the server's log has the details."))
        }
    }
}

/// Under `--auth iam`, whether a function's execution role may poll an SQS
/// queue: AWS refuses a mapping whose role lacks `sqs:ReceiveMessage`,
/// `sqs:DeleteMessage` or `sqs:GetQueueAttributes` on it
/// (`InvalidParameterValueException`). Only the role's own policies are
/// consulted (a queue policy granting the role is not seen here).
pub fn execution_role_may_poll(role: &str, queue_arn: &str) -> Result<(), ApiError> {
    let Some(caller) = lambdabox_identity::context::current() else { return Ok(()) };
    let principal = match caller.directory.role_session(role, "awslambda_event_source") {
        Ok(p) => p,
        Err(_) => {
            return Err(ApiError::invalid_parameter("The role defined for the function cannot be assumed by Lambda."));
        }
    };
    let role_identity =
        RequestIdentity { principal, directory: caller.directory.clone(), secure_transport: false, source_ip: None };
    for action in ["ReceiveMessage", "DeleteMessage", "GetQueueAttributes"] {
        if role_identity.authorize_with(&format!("sqs:{action}"), queue_arn, None, |_| {}).is_err() {
            return Err(ApiError::invalid_parameter(format!(
                "The provided execution role does not have permissions to call {action} on SQS"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_map_to_actions_and_resources() {
        let region = Region::parse("us-east-1").unwrap();
        let a = |op: &str, params: &[(&str, &str)], query: Option<&str>| {
            access(op, params, query, &region, "123456789012").map(|a| (a.action, a.resource))
        };
        let f = "arn:aws:lambda:us-east-1:123456789012:function:f";
        assert_eq!(a("InvokeFunction", &[("name", "f")], None), Some(("lambda:InvokeFunction".into(), f.into())));
        assert_eq!(a("InvokeFunction", &[("name", "f")], Some("Qualifier=prod")).unwrap().1, format!("{f}:prod"));
        assert_eq!(a("GetFunction", &[("name", f)], None).unwrap().1, f);
        assert_eq!(a("GetFunction", &[("name", "123456789012:function:f:3")], None).unwrap().1, format!("{f}:3"));
        assert_eq!(a("GetAlias", &[("name", "f"), ("alias", "prod")], Some("Qualifier=x")).unwrap().1, f);
        assert_eq!(a("ListFunctions", &[], None).unwrap().1, "*");
        assert_eq!(
            a("GetLayerVersion", &[("name", "l"), ("version", "2")], None).unwrap().1,
            "arn:aws:lambda:us-east-1:123456789012:layer:l:2"
        );
        assert_eq!(a("TagResource", &[("arn", f)], None).unwrap().1, f);
        assert_eq!(a("CreateFunction", &[], None), None);
    }
}
