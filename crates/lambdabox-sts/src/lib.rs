//! The STS API, the subset deployments call (query protocol, XML, as
//! `aws sts …` and boto3 send it): `GetCallerIdentity`, which deployment
//! tools (Terraform, the CDK, the SAM CLI) call at start-up to learn the
//! account, and `AssumeRole`, which hands out temporary credentials for a
//! role whose trust policy allows the caller. The caller is the key that
//! signed the request (checked by the dispatcher under `--auth iam`; read
//! from the credential scope under `--auth open`): a key from
//! `--credentials` is the account's root, an IAM user's key that user, a
//! session key (from `AssumeRole`, or an execution environment's) the
//! role session, as on AWS (`arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`).
//! Other STS operations get STS's `InvalidAction`.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use lambdabox_aws::query::{QueryParams, element, response_xml};
use lambdabox_aws::{CredentialScope, ErrorReply, Protocol};
use lambdabox_identity::policy::ConditionContext;
use lambdabox_identity::{AssumeRoleError, Directory, Principal};

const NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// The STS routes (`POST /` with a form body, or `GET /?Action=…`).
pub fn router(directory: Arc<Directory>) -> Router {
    Router::new().fallback(move |request: Request| {
        let directory = directory.clone();
        async move { serve(request, &directory).await }
    })
}

async fn serve(request: Request, directory: &Directory) -> Response {
    let (parts, body) = request.into_parts();
    let body: Bytes = match axum::body::to_bytes(body, 1 << 20).await {
        Ok(bytes) => bytes,
        Err(_) => return error(413, "RequestEntityTooLarge", "The request body is too large"),
    };
    let params = QueryParams::parse(parts.uri.query().unwrap_or(""), &body);
    let action = params.action();
    let (caller, context) = caller(&parts, directory);
    match action {
        "GetCallerIdentity" => xml(response_xml(
            action,
            NAMESPACE,
            Some(&format!(
                "{}{}{}",
                element("Arn", &caller.arn()),
                element("UserId", &caller.user_id()),
                element("Account", &caller.account)
            )),
        )),
        "AssumeRole" => assume_role(&params, directory, &caller, &context),
        "" => error(400, "MissingAction", "Missing Action"),
        other => error(400, "InvalidAction", &format!("Could not find operation {other} for version 2011-06-15")),
    }
}

/// Who is calling: the identity the dispatcher established (`--auth iam`),
/// else whoever the signing key names, else the account's root.
fn caller(parts: &http::request::Parts, directory: &Directory) -> (Principal, ConditionContext) {
    if let Some(identity) = lambdabox_identity::context::current() {
        return (identity.principal.clone(), identity.context());
    }
    let token = lambdabox_aws::sigv4::session_token(&parts.headers, parts.uri.query());
    let principal = CredentialScope::of(parts)
        .and_then(|scope| directory.principal(&scope.access_key, token.as_deref()).ok())
        .unwrap_or_else(|| Principal::root(directory.account()));
    (principal, ConditionContext::default())
}

fn validation(message: String) -> Response {
    error(400, "ValidationError", &format!("1 validation error detected: {message}"))
}

fn assume_role(
    params: &QueryParams,
    directory: &Directory,
    caller: &Principal,
    context: &ConditionContext,
) -> Response {
    let Some(role_arn) = params.get("RoleArn") else {
        return validation("Value null at 'roleArn' failed to satisfy constraint: Member must not be null".into());
    };
    let Some(session) = params.get("RoleSessionName") else {
        return validation(
            "Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null".into(),
        );
    };
    if !(20..=2048).contains(&role_arn.len()) {
        return validation(format!(
            "Value '{role_arn}' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20"
        ));
    }
    if !(2..=64).contains(&session.len())
        || !session.chars().all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
    {
        return validation(format!(
            "Value '{session}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*"
        ));
    }
    let duration = match params.get("DurationSeconds").map(str::parse::<u32>) {
        None => None,
        Some(Ok(d)) if (900..=43200).contains(&d) => Some(d),
        Some(_) => {
            return validation(format!(
                "Value '{}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900",
                params.get("DurationSeconds").unwrap_or("")
            ));
        }
    };
    match directory.assume_role(caller, context, role_arn, session, duration) {
        Ok((credentials, role)) => {
            let expiration = chrono::DateTime::from_timestamp(credentials.expiration, 0)
                .unwrap_or_default()
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string();
            let arn = format!("arn:aws:sts::{}:assumed-role/{}/{session}", directory.account(), role.name);
            let result = format!(
                "<AssumedRoleUser>{}{}</AssumedRoleUser><Credentials>{}{}{}{}</Credentials>",
                element("AssumedRoleId", &format!("{}:{session}", role.role_id)),
                element("Arn", &arn),
                element("AccessKeyId", &credentials.access_key_id),
                element("SecretAccessKey", &credentials.secret),
                element("SessionToken", &credentials.token),
                element("Expiration", &expiration),
            );
            xml(response_xml("AssumeRole", NAMESPACE, Some(&result)))
        }
        Err(AssumeRoleError::AccessDenied(message)) => error(403, "AccessDenied", &message),
        Err(AssumeRoleError::Validation(message)) => error(400, "ValidationError", &message),
        Err(AssumeRoleError::Store(e)) => {
            tracing::error!(error = %e, "AssumeRole failed");
            error(500, "InternalFailure", "An internal error occurred")
        }
    }
}

fn xml(body: String) -> Response {
    let mut response = (StatusCode::OK, Body::from(body)).into_response();
    response.headers_mut().insert("content-type", HeaderValue::from_static("text/xml"));
    response
}

fn error(status: u16, code: &str, message: &str) -> Response {
    ErrorReply::new(Protocol::Query, status, code, message).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambdabox_identity::IdentityStore;
    use lambdabox_identity::store::NewRole;
    use tower::ServiceExt;

    fn directory() -> Arc<Directory> {
        let store = IdentityStore::open_in_memory("123456789012").unwrap();
        Arc::new(Directory::new(Arc::new(store), lambdabox_model::Credentials::default()))
    }

    async fn call(directory: &Arc<Directory>, body: &str) -> (StatusCode, String) {
        let app = router(directory.clone());
        let request = axum::http::Request::post("/")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(body.to_owned()))
            .unwrap();
        let response = app.oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        (status, String::from_utf8(bytes.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn get_caller_identity_names_the_account_root() {
        let (status, body) = call(&directory(), "Action=GetCallerIdentity&Version=2011-06-15").await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("<Arn>arn:aws:iam::123456789012:root</Arn>"), "{body}");
        assert!(body.contains("<Account>123456789012</Account>"), "{body}");
    }

    #[tokio::test]
    async fn assume_role_honours_the_trust_policy() {
        let d = directory();
        let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#;
        d.store.create_role(NewRole { name: "deployer", assume_role_policy: trust, ..Default::default() }).unwrap();
        let (status, body) = call(
            &d,
            "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fdeployer&RoleSessionName=ci",
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.contains("<Arn>arn:aws:sts::123456789012:assumed-role/deployer/ci</Arn>"), "{body}");
        let key = body.split("<AccessKeyId>").nth(1).and_then(|s| s.split('<').next()).unwrap();
        assert!(key.starts_with("ASIA"));
        let lambda_only = r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        d.store.create_role(NewRole { name: "exec", assume_role_policy: lambda_only, ..Default::default() }).unwrap();
        let (status, body) =
            call(&d, "Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fexec&RoleSessionName=ci")
                .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert!(body.contains("<Code>AccessDenied</Code>"), "{body}");
        let (status, body) = call(&d, "Action=AssumeRole&RoleSessionName=ci").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body.contains("Value null at 'roleArn'"), "{body}");
    }

    #[tokio::test]
    async fn other_actions_are_stss_invalid_action() {
        let (status, body) = call(&directory(), "Action=AssumeRoleWithSAML&Version=2011-06-15").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body.contains("<Code>InvalidAction</Code>"), "{body}");
    }
}
