//! The front door of the one listener: each request goes to the first front
//! end that wants it (S3, by its SigV4 scope or host name), else to the
//! Lambda API router. A new front end (API Gateway, function URLs) is one
//! more field and one more branch in [`Dispatcher::route`].

use std::convert::Infallible;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use lambdabox_s3::S3Endpoint;
use tower::ServiceExt;

/// The front ends sharing the listener.
#[derive(Clone)]
pub struct Dispatcher {
    pub s3: S3Endpoint,
    /// Everything no other front end wants: the Lambda and CloudWatch Logs APIs.
    pub lambda: Router,
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
        if self.s3.wants(&parts) {
            return self.s3.serve(Request::from_parts(parts, body)).await;
        }
        match self.lambda.oneshot(Request::<Body>::from_parts(parts, body)).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }
}
