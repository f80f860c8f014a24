//! Each execution environment's own AWS endpoint: the same dispatcher as
//! the main port, served on a listener the engine bound inside the
//! environment's network namespace (`AWS_ENDPOINT_URL`). Which environment
//! calls is known from the listener alone; every request runs inside
//! [`lambdabox_aws::session::scope`] with it, so a service checking a
//! signature knows the environment's minted key, and only there.

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use lambdabox_aws::session::{self, Caller};
use lambdabox_engine::EndpointCaller;
use lambdabox_model::AccountId;

use crate::listener::HttpLimits;

/// Serves every environment's endpoint with `app`.
#[derive(Debug)]
pub struct InsideEndpoint {
    pub app: Router,
    pub account: AccountId,
    pub limits: HttpLimits,
}

impl lambdabox_engine::InsideEndpoint for InsideEndpoint {
    fn serve(&self, listener: tokio::net::TcpListener, caller: EndpointCaller) -> tokio::task::JoinHandle<()> {
        let EndpointCaller { function_name, role, version, region, credentials, depth } = caller;
        let caller = Arc::new(Caller {
            function_arn: format!(
                "arn:aws:lambda:{region}:{}:function:{function_name}:{version}",
                self.account.as_str()
            ),
            role_arn: role,
            credentials,
            depth,
        });
        let app = self.app.clone().layer(middleware::from_fn(move |request: Request, next: Next| {
            session::scope(caller.clone(), next.run(request))
        }));
        let limits = self.limits;
        tokio::spawn(async move {
            // Runs until the engine aborts it when the environment is retired.
            if let Err(error) = crate::listener::serve(listener, app, limits, std::future::pending()).await {
                tracing::warn!(%error, "an environment's endpoint failed");
            }
        })
    }
}
