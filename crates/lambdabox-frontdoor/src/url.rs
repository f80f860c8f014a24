//! Serving a function URL: `AWS_IAM` signature checks, CORS preflights,
//! the payload 2.0 event with routeKey `$default`, and Lambda's answers
//! when the function fails (502 `Internal Server Error`).

use axum::body::Body;
use http::request::Parts;
use http::{Response, StatusCode};
use lambdabox_control::ControlError;
use lambdabox_invoker::InvokeError;
use lambdabox_model::Region;

use crate::event::{EventContext, EventV2, HttpRequest};
use crate::host::host_name;
use crate::response;
use crate::serve::{Invocation, build, host_of, set_header, text};
use crate::{Inner, json_body};
use lambdabox_aws::sigv4::{self, SigV4Error, SignedRequest};
use lambdabox_gateway::payload::PayloadVersion;
use lambdabox_identity::policy::{PolicyDocument, PolicyKind};
use lambdabox_identity::{Principal, RequestIdentity};

fn forbidden() -> Response<Body> {
    text(StatusCode::FORBIDDEN, "application/json", r#"{"Message":"Forbidden"}"#)
}

fn bad_gateway() -> Response<Body> {
    text(StatusCode::BAD_GATEWAY, "text/plain", "Internal Server Error")
}

impl Inner {
    /// Whether `principal` may call an `AWS_IAM` URL: `lambda:InvokeFunctionUrl`
    /// on its function, with `lambda:FunctionUrlAuthType` `AWS_IAM`, allowed
    /// by the caller's policies or the function's.
    async fn may_invoke_url(&self, url: &lambdabox_gateway::model::UrlConfig, principal: &Principal) -> bool {
        let region = Region::parse(&url.region).unwrap_or_default();
        let account = self.config.account.as_str();
        let base = format!("arn:aws:lambda:{region}:{account}:function:{}", url.function_name);
        let resource = url.qualifier.as_ref().map_or(base.clone(), |q| format!("{base}:{q}"));
        let identity = RequestIdentity {
            principal: principal.clone(),
            directory: self.config.directory.clone(),
            secure_transport: false,
            source_ip: None,
        };
        let extra = |cx: &mut lambdabox_identity::policy::ConditionContext| {
            cx.set("lambda:FunctionUrlAuthType", "AWS_IAM");
        };
        if identity.authorize_with("lambda:InvokeFunctionUrl", &resource, None, extra).is_ok() {
            return true;
        }
        let policy = self
            .invoker
            .control()
            .get_policy(&region, &url.function_name, url.qualifier.as_deref())
            .await
            .ok()
            .and_then(|view| PolicyDocument::parse(&view.policy, PolicyKind::Resource).ok());
        policy.is_some_and(|p| identity.authorize_with("lambda:InvokeFunctionUrl", &resource, Some(&p), extra).is_ok())
    }

    pub(crate) async fn serve_url(&self, url_id: &str, parts: &Parts, req: HttpRequest) -> Response<Body> {
        let Some(url) = self.store.url(url_id) else { return forbidden() };
        let mut authorizer = None;
        let mut account_id = "anonymous".to_owned();
        if url.auth_type == "AWS_IAM" {
            let headers = sigv4::header_pairs(parts);
            let signed = SignedRequest {
                method: parts.method.as_str(),
                path: parts.uri.path(),
                query: parts.uri.query().unwrap_or(""),
                headers: &headers,
                body: &req.body,
            };
            match sigv4::verify(&signed, &*self.config.directory, "lambda", chrono::Utc::now()) {
                Ok(caller) => {
                    let token = sigv4::session_token(&parts.headers, parts.uri.query());
                    let principal = match self.config.directory.principal(&caller.access_key, token.as_deref()) {
                        Ok(p) => p,
                        Err(_) => return forbidden(),
                    };
                    if self.config.enforce_policies && !self.may_invoke_url(&url, &principal).await {
                        return forbidden();
                    }
                    account_id = principal.account.clone();
                    authorizer = Some(serde_json::json!({ "iam": {
                        "accessKey": caller.access_key,
                        "accountId": principal.account,
                        "callerId": principal.user_id(),
                        "cognitoIdentity": null,
                        "principalOrgId": null,
                        "userArn": principal.arn(),
                        "userId": principal.user_id(),
                    }}));
                }
                Err(SigV4Error::Missing) => return forbidden(),
                Err(e) => {
                    return text(
                        StatusCode::FORBIDDEN,
                        "application/json",
                        json_body(&serde_json::json!({ "message": e.to_string() })),
                    );
                }
            }
        }
        let origin = req.header("origin").map(str::to_owned);
        if let Some(cors) = &url.cors
            && req.method == "OPTIONS"
            && let Some(origin) = &origin
            && req.header("access-control-request-method").is_some()
        {
            let mut response = build(200, &cors.preflight(origin), bytes::Bytes::new());
            set_header(&mut response, "x-amzn-RequestId", &req.request_id);
            return response;
        }
        let region = Region::parse(&url.region).unwrap_or_default();
        let view = match self.invoker.resolve(&region, &url.function_name, url.qualifier.as_deref()).await {
            Ok(v) => v,
            Err(InvokeError::Control(ControlError::FunctionNotFound { .. } | ControlError::AliasNotFound { .. })) => {
                return forbidden();
            }
            Err(e) => {
                tracing::error!(error = %e, url_id, "function URL cannot resolve its function");
                return bad_gateway();
            }
        };
        let domain_name = host_of(parts)
            .filter(|h| crate::host::url_host(h).is_some())
            .map_or_else(|| format!("{url_id}.lambda-url.{region}.localhost"), host_name);
        let ctx = EventContext {
            route_key: "$default".into(),
            path_parameters: Default::default(),
            stage_variables: None,
            stage: "$default".into(),
            account_id,
            api_id: url_id.to_owned(),
            domain_name,
            domain_prefix: url_id.to_owned(),
            authorizer,
        };
        let event = json_body(&EventV2::new(&req, &ctx));
        let mut response = match self.invoke(req.request_id.clone(), view, region, event, None).await {
            Invocation::Payload(payload) => match response::map(&payload, PayloadVersion::V2, "application/json") {
                Ok(mut mapped) => {
                    if let Some(cors) = &url.cors {
                        cors.apply(origin.as_deref(), &mut mapped.headers);
                    }
                    build(mapped.status, &mapped.headers, mapped.body)
                }
                Err(e) => {
                    tracing::info!(error = %e, url_id, "malformed function URL response");
                    bad_gateway()
                }
            },
            Invocation::Throttled => {
                text(StatusCode::TOO_MANY_REQUESTS, "application/json", r#"{"Message":"Rate Exceeded."}"#)
            }
            Invocation::FunctionFailed(_) | Invocation::IntegrationTimeout => bad_gateway(),
            Invocation::Failed(e) => {
                tracing::error!(error = %e, url_id, "function URL invocation failed");
                bad_gateway()
            }
        };
        set_header(&mut response, "x-amzn-RequestId", &req.request_id);
        response
    }
}
