//! The STS API, the subset tools call first (query protocol, XML, as
//! `aws sts …` and boto3 send it): `GetCallerIdentity`, which deployment
//! tools (Terraform, the CDK, the SAM CLI) call at start-up to learn the
//! account. The caller is the key that signed the request (checked by the
//! dispatcher under `--auth iam`; read from the credential scope under
//! `--auth open`): a key from `--credentials` is the account's root, an
//! execution environment's session key is its function's assumed role, as
//! on AWS (`arn:aws:sts::ACCOUNT:assumed-role/ROLE/FUNCTION`). Other STS
//! operations get STS's `InvalidAction`.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use lambdabox_aws::sigv4::SignedBy;
use lambdabox_aws::{CredentialScope, ErrorReply, Protocol};
use lambdabox_model::AccountId;

const NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// The STS routes (`POST /` with a form body, or `GET /?Action=…`).
pub fn router(account: AccountId) -> Router {
    Router::new().fallback(move |request: Request| {
        let account = account.clone();
        async move { serve(request, &account).await }
    })
}

async fn serve(request: Request, account: &AccountId) -> Response {
    let (parts, body) = request.into_parts();
    let body: Bytes = match axum::body::to_bytes(body, 1 << 20).await {
        Ok(bytes) => bytes,
        Err(_) => return error(413, "RequestEntityTooLarge", "The request body is too large"),
    };
    let mut params = form_pairs(parts.uri.query().unwrap_or(""));
    params.extend(form_pairs(&String::from_utf8_lossy(&body)));
    let action = params.iter().find(|(k, _)| k == "Action").map(|(_, v)| v.as_str()).unwrap_or("");
    match action {
        "GetCallerIdentity" => {
            let key = parts
                .extensions
                .get::<SignedBy>()
                .map(|s| s.0.clone())
                .or_else(|| CredentialScope::of(&parts).map(|s| s.access_key));
            let (arn, user_id) = identity(account, key.as_deref());
            let request_id = uuid::Uuid::new_v4();
            xml(format!(
                "<GetCallerIdentityResponse xmlns=\"{NAMESPACE}\"><GetCallerIdentityResult>\
                 <Arn>{arn}</Arn><UserId>{user_id}</UserId><Account>{account}</Account>\
                 </GetCallerIdentityResult><ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>\
                 </GetCallerIdentityResponse>",
                account = account.as_str()
            ))
        }
        "" => error(400, "MissingAction", "Missing Action"),
        other => error(400, "InvalidAction", &format!("Could not find operation {other} for version 2011-06-15")),
    }
}

/// The ARN and user id of whoever signed with `key`.
fn identity(account: &AccountId, key: Option<&str>) -> (String, String) {
    if let Some(caller) = lambdabox_aws::session::caller()
        && key.is_none_or(|k| k == caller.credentials.access_key_id)
    {
        let role = caller.role_arn.rsplit('/').next().unwrap_or("role");
        let function = caller.function_arn.split(":function:").nth(1).and_then(|f| f.split(':').next()).unwrap_or("");
        let role_id = role_id(&caller.role_arn);
        return (
            format!("arn:aws:sts::{}:assumed-role/{role}/{function}", account.as_str()),
            format!("{role_id}:{function}"),
        );
    }
    (format!("arn:aws:iam::{}:root", account.as_str()), account.as_str().to_owned())
}

/// A stable `AROA…` id for a role ARN (21 characters, as AWS's).
fn role_id(role_arn: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut state: u64 = 0xcbf2_9ce4_8422_2325;
    let mut out = String::from("AROA");
    for i in 0..17u64 {
        for b in role_arn.bytes().chain(i.to_le_bytes()) {
            state = (state ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
        out.push(char::from(ALPHABET[(state % 32) as usize]));
    }
    out
}

fn form_pairs(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// `application/x-www-form-urlencoded` decoding: `+` is a space, then `%XX`.
fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned()
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
    use tower::ServiceExt;

    async fn call(body: &str) -> (StatusCode, String) {
        let app = router(AccountId::parse("123456789012").unwrap());
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
        let (status, body) = call("Action=GetCallerIdentity&Version=2011-06-15").await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("<Arn>arn:aws:iam::123456789012:root</Arn>"), "{body}");
        assert!(body.contains("<Account>123456789012</Account>"), "{body}");
    }

    #[tokio::test]
    async fn other_actions_are_stss_invalid_action() {
        let (status, body) = call("Action=AssumeRoleWithSAML&Version=2011-06-15").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body.contains("<Code>InvalidAction</Code>"), "{body}");
    }

    #[test]
    fn role_ids_are_stable_and_shaped_like_awss() {
        let a = role_id("arn:aws:iam::1:role/a");
        assert_eq!(a, role_id("arn:aws:iam::1:role/a"));
        assert_ne!(a, role_id("arn:aws:iam::1:role/b"));
        assert_eq!(a.len(), 21);
        assert_eq!(decode("a%2Fb+c"), "a/b c");
    }
}
