//! The one dispatcher: every request on the shared listener is classified
//! once and handed to exactly one service, which knows nothing of the
//! others.
//!
//! | in this order | the request is for |
//! |---|---|
//! | `Host` `<id>.lambda-url.<region>.localhost`, `<id>.execute-api.localhost`, or a `/_lambda-url/`, `/_execute-api/` path | the front door (function URLs, HTTP APIs) |
//! | `Host` `s3.localhost`, `BUCKET.s3[.REGION].localhost` | S3 |
//! | `X-Amz-Target: Logs_20140328.*` | CloudWatch Logs |
//! | `X-Amz-Target: AmazonSQS.*` | SQS (JSON protocol) |
//! | SigV4 credential scope service `s3`, `lambda`, `logs`, `iam`, `sts`, `scheduler`, `sqs` (JSON or query protocol), `apigateway` (paths under `/v2/`) | that service |
//! | any other scope service (`ec2`, `sns`, …) | not served: an error in that service's own protocol |
//! | any other `X-Amz-Target` (unsigned) | not served (JSON protocol) |
//! | a path under `/v2/apis` (unsigned) | API Gateway v2 |
//! | a path under `/_lambdabox/schedules/` (unsigned; `lambdabox schedule fire`) | EventBridge Scheduler |
//! | a form-encoded body (unsigned) | not served (query protocol) |
//! | anything else | Lambda (whose fallback is `UnknownOperationException`) |
//!
//! Adding a service is a crate exposing a router over its own state, one
//! variant of [`Service`] and one line in [`classify`] and [`Dispatcher::route`].
//!
//! Under `--auth iam` the JSON and query services' requests are checked
//! here ([`crate::auth`]) before the service sees them, and the service
//! runs with the caller's identity in scope (each operation is authorised
//! against it); S3 checks its own signatures and policies, the front door
//! each function URL's.

use std::convert::Infallible;

use axum::Router;
use axum::extract::Request;
use axum::response::Response;
use http::request::Parts;
use lambdabox_aws::{CredentialScope, ErrorReply, Protocol};
use lambdabox_frontdoor::FrontDoor;
use lambdabox_s3::S3Endpoint;
use tower::ServiceExt;

/// Which service a request is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Service {
    FrontDoor,
    S3,
    Lambda,
    Logs,
    ApiGatewayV2,
    Iam,
    Sts,
    Scheduler,
    Sqs,
    /// A service Lambdabox does not serve, by its signing name or target
    /// prefix, and the protocol to answer in.
    NotServed {
        service: String,
        protocol: Protocol,
    },
}

/// Lambdabox's own fire-now path of EventBridge Scheduler.
const SCHEDULER_FIRE_PREFIX: &str = "/_lambdabox/schedules/";

/// Classifies a request (see the table above). `s3_host` says whether its
/// `Host` is one of S3's names.
pub fn classify(parts: &Parts, s3_host: bool) -> Service {
    if FrontDoor::wants(parts) {
        return Service::FrontDoor;
    }
    if s3_host {
        return Service::S3;
    }
    let target = parts.headers.get("x-amz-target").and_then(|v| v.to_str().ok());
    if target.is_some_and(|t| t.starts_with("Logs_20140328.")) {
        return Service::Logs;
    }
    if target.is_some_and(lambdabox_sqs::is_sqs_target) {
        return Service::Sqs;
    }
    if let Some(scope) = CredentialScope::of(parts) {
        return match scope.service.as_str() {
            "s3" => Service::S3,
            "lambda" => Service::Lambda,
            "logs" => Service::Logs,
            "iam" => Service::Iam,
            "sts" => Service::Sts,
            "scheduler" => Service::Scheduler,
            "sqs" => Service::Sqs,
            "apigateway" if parts.uri.path().starts_with("/v2/") => Service::ApiGatewayV2,
            other => {
                Service::NotServed { service: other.to_owned(), protocol: Protocol::of_request(parts, Some(other)) }
            }
        };
    }
    if let Some(target) = target {
        let service = target.split('.').next().unwrap_or(target).to_owned();
        return Service::NotServed { service, protocol: Protocol::Json };
    }
    let path = parts.uri.path();
    if path == "/v2/apis" || path.starts_with("/v2/apis/") {
        return Service::ApiGatewayV2;
    }
    if path.starts_with(SCHEDULER_FIRE_PREFIX) {
        return Service::Scheduler;
    }
    if Protocol::of_request(parts, None) == Protocol::Query {
        return Service::NotServed { service: "unknown".to_owned(), protocol: Protocol::Query };
    }
    Service::Lambda
}

/// The services sharing the listener.
#[derive(Clone)]
pub struct Dispatcher {
    pub front_door: FrontDoor,
    pub s3: S3Endpoint,
    pub lambda: Router,
    pub logs: Router,
    pub apigateway: Router,
    pub iam: Router,
    pub sts: Router,
    pub scheduler: Router,
    pub sqs: Router,
    /// Checks signatures (`--auth iam`); `None` under `--auth open`.
    pub auth: Option<crate::auth::Authenticator>,
}

impl Dispatcher {
    /// A router that sends every request through [`Dispatcher::route`].
    pub fn into_router(self) -> Router {
        Router::new().fallback_service(tower::service_fn(move |request: Request| {
            let dispatcher = self.clone();
            async move { Ok::<_, Infallible>(dispatcher.route(request).await) }
        }))
    }

    async fn route(self, request: Request) -> Response {
        let (parts, body) = request.into_parts();
        let service = classify(&parts, self.s3.addressed(&parts));
        let request = Request::from_parts(parts, body);
        match (&self.auth, signing(&service, &request)) {
            (Some(auth), Some((name, protocol))) => match auth.check(request, name, protocol).await {
                Ok((request, identity)) => {
                    lambdabox_identity::context::scope(identity, self.serve(service, request)).await
                }
                Err(refused) => refused,
            },
            _ => self.serve(service, request).await,
        }
    }

    async fn serve(self, service: Service, request: Request) -> Response {
        match service {
            Service::FrontDoor => self.front_door.serve(request).await,
            Service::S3 => self.s3.serve(request).await,
            Service::Lambda => oneshot(self.lambda, request).await,
            Service::Logs => oneshot(self.logs, request).await,
            Service::ApiGatewayV2 => oneshot(self.apigateway, request).await,
            Service::Iam => oneshot(self.iam, request).await,
            Service::Sts => oneshot(self.sts, request).await,
            Service::Scheduler => oneshot(self.scheduler, request).await,
            Service::Sqs => oneshot(self.sqs, request).await,
            Service::NotServed { service, protocol } => {
                tracing::info!(service, ?protocol, "a request for a service Lambdabox does not serve");
                ErrorReply::not_served(&service, protocol).into_response()
            }
        }
    }
}

/// The signing name and protocol a service's requests are checked with
/// under `--auth iam`; `None` for the services that check their own (S3,
/// the front door), those not served, and GetFunction's download links
/// (`Code.Location`, a capability by content hash, like AWS's presigned URL).
fn signing(service: &Service, request: &Request) -> Option<(&'static str, Protocol)> {
    match service {
        Service::Lambda if request.uri().path().starts_with("/_lambdabox/code/") => None,
        Service::Lambda => Some(("lambda", Protocol::RestJson)),
        Service::Logs => Some(("logs", Protocol::Json)),
        Service::ApiGatewayV2 => Some(("apigateway", Protocol::RestJson)),
        Service::Iam => Some(("iam", Protocol::Query)),
        Service::Sts => Some(("sts", Protocol::Query)),
        Service::Scheduler => Some(("scheduler", Protocol::RestJson)),
        Service::Sqs if request.headers().contains_key("x-amz-target") => Some(("sqs", Protocol::Json)),
        Service::Sqs => Some(("sqs", Protocol::Query)),
        Service::FrontDoor | Service::S3 | Service::NotServed { .. } => None,
    }
}

async fn oneshot(router: Router, request: Request) -> Response {
    match router.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(method: &str, uri: &str, headers: &[(&str, &str)]) -> Parts {
        let mut b = http::Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(()).unwrap().into_parts().0
    }

    fn signed(service: &str) -> String {
        format!(
            "AWS4-HMAC-SHA256 Credential=test/20261206/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0"
        )
    }

    #[test]
    fn each_request_goes_to_one_service() {
        let cases: Vec<(Parts, bool, Service)> = vec![
            (
                parts("GET", "/", &[("host", "abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.localhost:9070")]),
                false,
                Service::FrontDoor,
            ),
            (parts("GET", "/_execute-api/a1b2c3d4e5/$default/x", &[]), false, Service::FrontDoor),
            // A function URL with AWS_IAM is signed for `lambda`: the host wins.
            (
                parts(
                    "GET",
                    "/",
                    &[
                        ("host", "abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.localhost"),
                        ("authorization", &signed("lambda")),
                    ],
                ),
                false,
                Service::FrontDoor,
            ),
            (parts("GET", "/bucket/key", &[]), true, Service::S3),
            (parts("PUT", "/2015-03-31/x", &[("authorization", &signed("s3"))]), false, Service::S3),
            (parts("GET", "/2015-03-31/functions", &[("authorization", &signed("lambda"))]), false, Service::Lambda),
            (
                parts(
                    "POST",
                    "/",
                    &[("authorization", &signed("logs")), ("x-amz-target", "Logs_20140328.DescribeLogGroups")],
                ),
                false,
                Service::Logs,
            ),
            (parts("POST", "/", &[("x-amz-target", "Logs_20140328.DescribeLogGroups")]), false, Service::Logs),
            (parts("GET", "/v2/apis", &[("authorization", &signed("apigateway"))]), false, Service::ApiGatewayV2),
            (parts("GET", "/v2/apis/abc", &[]), false, Service::ApiGatewayV2),
            (parts("GET", "/2015-03-31/functions", &[]), false, Service::Lambda),
            (parts("GET", "/_lambdabox/code/abc", &[]), false, Service::Lambda),
            (parts("GET", "/schedules", &[("authorization", &signed("scheduler"))]), false, Service::Scheduler),
            (parts("POST", "/_lambdabox/schedules/default/s/fire", &[]), false, Service::Scheduler),
        ];
        for (p, s3_host, expected) in cases {
            assert_eq!(classify(&p, s3_host), expected, "{} {}", p.method, p.uri);
        }
    }

    #[test]
    fn unserved_services_get_their_own_protocol() {
        let form = ("content-type", "application/x-www-form-urlencoded; charset=utf-8");
        let not_served = |p: &Parts| match classify(p, false) {
            Service::NotServed { service, protocol } => (service, protocol),
            other => panic!("{other:?}"),
        };
        assert_eq!(classify(&parts("POST", "/", &[("authorization", &signed("sts")), form]), false), Service::Sts);
        assert_eq!(classify(&parts("POST", "/", &[("authorization", &signed("iam")), form]), false), Service::Iam);
        assert_eq!(
            not_served(&parts("POST", "/", &[("authorization", &signed("cloudformation")), form])),
            ("cloudformation".into(), Protocol::Query)
        );
        assert_eq!(
            not_served(&parts("POST", "/", &[("authorization", &signed("ec2")), form])),
            ("ec2".into(), Protocol::Ec2)
        );
        let dynamo = parts(
            "POST",
            "/",
            &[("authorization", &signed("dynamodb")), ("x-amz-target", "DynamoDB_20120810.ListTables")],
        );
        assert_eq!(not_served(&dynamo), ("dynamodb".into(), Protocol::Json));
        assert_eq!(
            not_served(&parts("GET", "/2013-04-01/hostedzone", &[("authorization", &signed("route53"))])).1,
            Protocol::RestXml
        );
        assert_eq!(
            not_served(&parts("POST", "/", &[("x-amz-target", "Kinesis_20131202.ListStreams")])),
            ("Kinesis_20131202".into(), Protocol::Json)
        );
        // SQS, signed or not, in either of its protocols.
        assert_eq!(classify(&parts("POST", "/", &[("x-amz-target", "AmazonSQS.ListQueues")]), false), Service::Sqs);
        assert_eq!(
            classify(
                &parts("POST", "/", &[("authorization", &signed("sqs")), ("x-amz-target", "AmazonSQS.SendMessage")]),
                false
            ),
            Service::Sqs
        );
        assert_eq!(
            classify(&parts("POST", "/000000000000/q", &[("authorization", &signed("sqs")), form]), false),
            Service::Sqs
        );
        assert_eq!(not_served(&parts("POST", "/", &[form])).1, Protocol::Query);
        // API Gateway v1 paths are not served.
        assert_eq!(
            not_served(&parts("GET", "/restapis", &[("authorization", &signed("apigateway"))])).1,
            Protocol::RestJson
        );
    }
}
