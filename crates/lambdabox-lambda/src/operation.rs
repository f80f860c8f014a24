//! Which Lambda API operation a request is: the route it matched and its
//! method, named as IAM names the action (`GetFunction`, `InvokeFunction`
//! for Invoke, …), which is also how AWS's error messages name it.
//!
//! The name is known for the whole of the request's handling (a task-local
//! set by [`name_operation`]), so an error rendered deep inside can say, as
//! AWS does, which action was refused (`lambda:DeleteFunction`).

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;

tokio::task_local! {
    static OPERATION: &'static str;
}

/// The operation of the request being handled, if it matched a route.
pub fn current() -> Option<&'static str> {
    OPERATION.try_with(|op| *op).ok()
}

/// AWS's name for the operation a method on a route template is.
pub fn name(method: &Method, route: &str) -> Option<&'static str> {
    let route = route.trim_end_matches('/');
    let op = match (route, method.as_str()) {
        ("/2015-03-31/functions", "POST") => "CreateFunction",
        ("/2015-03-31/functions", "GET") => "ListFunctions",
        ("/2015-03-31/functions/{name}", "GET") => "GetFunction",
        ("/2015-03-31/functions/{name}", "DELETE") => "DeleteFunction",
        ("/2015-03-31/functions/{name}/configuration", "GET") => "GetFunctionConfiguration",
        ("/2015-03-31/functions/{name}/configuration", "PUT") => "UpdateFunctionConfiguration",
        ("/2015-03-31/functions/{name}/code", "PUT") => "UpdateFunctionCode",
        ("/2015-03-31/functions/{name}/invocations", "POST") => "InvokeFunction",
        ("/2015-03-31/functions/{name}/policy", "POST") => "AddPermission",
        ("/2015-03-31/functions/{name}/policy", "GET") => "GetPolicy",
        ("/2015-03-31/functions/{name}/policy/{sid}", "DELETE") => "RemovePermission",
        ("/2015-03-31/functions/{name}/versions", "POST") => "PublishVersion",
        ("/2015-03-31/functions/{name}/versions", "GET") => "ListVersionsByFunction",
        ("/2015-03-31/functions/{name}/aliases", "POST") => "CreateAlias",
        ("/2015-03-31/functions/{name}/aliases", "GET") => "ListAliases",
        ("/2015-03-31/functions/{name}/aliases/{alias}", "GET") => "GetAlias",
        ("/2015-03-31/functions/{name}/aliases/{alias}", "PUT") => "UpdateAlias",
        ("/2015-03-31/functions/{name}/aliases/{alias}", "DELETE") => "DeleteAlias",
        ("/2019-09-25/functions/{name}/event-invoke-config", "GET") => "GetFunctionEventInvokeConfig",
        ("/2019-09-25/functions/{name}/event-invoke-config", "PUT") => "PutFunctionEventInvokeConfig",
        ("/2019-09-25/functions/{name}/event-invoke-config", "POST") => "UpdateFunctionEventInvokeConfig",
        ("/2019-09-25/functions/{name}/event-invoke-config", "DELETE") => "DeleteFunctionEventInvokeConfig",
        ("/2019-09-25/functions/{name}/event-invoke-config/list", "GET") => "ListFunctionEventInvokeConfigs",
        ("/2015-03-31/event-source-mappings", "POST") => "CreateEventSourceMapping",
        ("/2015-03-31/event-source-mappings", "GET") => "ListEventSourceMappings",
        ("/2015-03-31/event-source-mappings/{uuid}", "GET") => "GetEventSourceMapping",
        ("/2015-03-31/event-source-mappings/{uuid}", "PUT") => "UpdateEventSourceMapping",
        ("/2015-03-31/event-source-mappings/{uuid}", "DELETE") => "DeleteEventSourceMapping",
        ("/2017-10-31/functions/{name}/concurrency", "PUT") => "PutFunctionConcurrency",
        ("/2017-10-31/functions/{name}/concurrency", "DELETE") => "DeleteFunctionConcurrency",
        ("/2019-09-30/functions/{name}/concurrency", "GET") => "GetFunctionConcurrency",
        ("/2019-09-30/functions/{name}/provisioned-concurrency", "PUT") => "PutProvisionedConcurrencyConfig",
        ("/2019-09-30/functions/{name}/provisioned-concurrency", "GET") => "GetProvisionedConcurrencyConfig",
        ("/2019-09-30/functions/{name}/provisioned-concurrency", "DELETE") => "DeleteProvisionedConcurrencyConfig",
        ("/2017-03-31/tags/{arn}", "GET") => "ListTags",
        ("/2017-03-31/tags/{arn}", "POST") => "TagResource",
        ("/2017-03-31/tags/{arn}", "DELETE") => "UntagResource",
        ("/2018-10-31/layers", "GET") => "ListLayers",
        ("/2018-10-31/layers/{name}/versions", "POST") => "PublishLayerVersion",
        ("/2018-10-31/layers/{name}/versions", "GET") => "ListLayerVersions",
        ("/2018-10-31/layers/{name}/versions/{version}", "GET") => "GetLayerVersion",
        ("/2018-10-31/layers/{name}/versions/{version}", "DELETE") => "DeleteLayerVersion",
        ("/2016-08-19/account-settings", "GET") => "GetAccountSettings",
        ("/2021-10-31/functions/{name}/url", "POST") => "CreateFunctionUrlConfig",
        ("/2021-10-31/functions/{name}/url", "GET") => "GetFunctionUrlConfig",
        ("/2021-10-31/functions/{name}/url", "PUT") => "UpdateFunctionUrlConfig",
        ("/2021-10-31/functions/{name}/url", "DELETE") => "DeleteFunctionUrlConfig",
        ("/2021-10-31/functions/{name}/urls", "GET") => "ListFunctionUrlConfigs",
        _ => return None,
    };
    Some(op)
}

/// Middleware (a route layer): authorises the request (`--auth iam`,
/// [`crate::access`]), then runs the rest of it with its operation's name
/// in [`current`], under its body limits ([`crate::limits`]).
pub async fn name_operation(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let op = request.extensions().get::<MatchedPath>().and_then(|route| name(request.method(), route.as_str()));
    let request = match op {
        Some(op) => {
            let (mut parts, body) = request.into_parts();
            let allowed = OPERATION.scope(op, crate::access::authorize_route(&state, op, &mut parts)).await;
            if let Err(denied) = allowed {
                return denied.into_response();
            }
            // The query's and headers' members against the model (the
            // body's are checked where it is parsed, `body::json`).
            let model_name = if op == "InvokeFunction" { "Invoke" } else { op };
            if let Err(invalid) = crate::validate::check(model_name, None, parts.uri.query(), &parts.headers) {
                return OPERATION.scope(op, async { invalid.into_response() }).await;
            }
            Request::from_parts(parts, body)
        }
        None => request,
    };
    let limited = crate::limits::apply(&state.body_budget, op, request, next);
    match op {
        Some(op) => OPERATION.scope(op, limited).await,
        None => limited.await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_name_their_operations() {
        assert_eq!(name(&Method::DELETE, "/2015-03-31/functions/{name}"), Some("DeleteFunction"));
        assert_eq!(name(&Method::GET, "/2015-03-31/functions/"), Some("ListFunctions"));
        assert_eq!(name(&Method::POST, "/2017-03-31/tags/{arn}"), Some("TagResource"));
        assert_eq!(name(&Method::PATCH, "/2015-03-31/functions/{name}"), None);
        assert_eq!(current(), None);
    }
}
