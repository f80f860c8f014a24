//! Every Runtime API endpoint and error case over real HTTP/1.1 on a socket:
//! status lines, header names and values, and bodies byte for byte.

mod common;

use bytes::Bytes;
use common::{ACCEPTED, Conn, INVALID_REQUEST_ID, invocation, next, post_response, request, start};
use lambdabox_runtime_api::{InitFailure, InvocationOutcome, InvokeError, RuntimeApi, wire};
use std::future::Future;
use std::pin::Pin;

use tokio::task::JoinHandle;

fn spawn_invoke(
    api: &RuntimeApi,
    inv: lambdabox_runtime_api::Invocation,
) -> JoinHandle<Result<InvocationOutcome, InvokeError>> {
    let api = api.clone();
    tokio::spawn(async move { api.invoke(inv).await })
}

/// True if `future` is not ready on its first poll.
async fn is_pending<F: Future>(future: F) -> bool {
    tokio::select! {
        biased;
        _ = future => false,
        _ = std::future::ready(()) => true,
    }
}

type Pending = Pin<Box<dyn Future<Output = Result<InvocationOutcome, InvokeError>> + Send>>;

/// An `invoke` polled once, so its invocation is queued when this returns.
async fn queued(api: &RuntimeApi, inv: lambdabox_runtime_api::Invocation) -> Pending {
    let api = api.clone();
    let mut invoke: Pending = Box::pin(async move { api.invoke(inv).await });
    assert!(is_pending(invoke.as_mut()).await);
    invoke
}

#[tokio::test]
async fn next_serves_the_event_with_aws_headers() {
    let server = start().await;
    let mut inv = invocation("8476a536-e9f4-11e8-9739-2dfe598c3fcd", "{\"key\":\"value\"}");
    inv.client_context = Some("{\"custom\":{\"k\":\"v\"}}".to_owned());
    inv.cognito_identity = Some("{\"cognitoIdentityId\":\"id\",\"cognitoIdentityPoolId\":\"pool\"}".to_owned());
    let invoke = spawn_invoke(&server.api, inv);

    let event = next(server.addr).await;
    assert_eq!(event.status, 200);
    assert_eq!(event.body_str(), "{\"key\":\"value\"}");
    for line in [
        "Content-Type: application/json",
        "Lambda-Runtime-Aws-Request-Id: 8476a536-e9f4-11e8-9739-2dfe598c3fcd",
        "Lambda-Runtime-Deadline-Ms: 1542409706888",
        "Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:echo",
        "Lambda-Runtime-Trace-Id: Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1",
        "Lambda-Runtime-Client-Context: {\"custom\":{\"k\":\"v\"}}",
        "Lambda-Runtime-Cognito-Identity: {\"cognitoIdentityId\":\"id\",\"cognitoIdentityPoolId\":\"pool\"}",
        "Content-Length: 15",
    ] {
        assert!(
            event.header_lines.iter().any(|l| l == line),
            "missing header line {line:?} in {:?}",
            event.header_lines
        );
    }

    let reply = post_response(server.addr, "8476a536-e9f4-11e8-9739-2dfe598c3fcd", b"\"done\"").await;
    assert_eq!(reply.status, 202);
    assert_eq!(reply.body_str(), ACCEPTED);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(invoke.await.unwrap().unwrap(), InvocationOutcome::Response(Bytes::from_static(b"\"done\"")));
}

#[tokio::test]
async fn optional_headers_are_omitted_when_absent() {
    let server = start().await;
    let mut inv = invocation("id-1", "{}");
    inv.trace_id.clear();
    let invoke = spawn_invoke(&server.api, inv);
    let event = next(server.addr).await;
    for name in ["lambda-runtime-client-context", "lambda-runtime-cognito-identity", "lambda-runtime-trace-id"] {
        assert_eq!(event.header(name), None, "{name} should be absent");
    }
    assert_eq!(post_response(server.addr, "id-1", b"{}").await.status, 202);
    invoke.await.unwrap().unwrap();
}

#[tokio::test]
async fn next_long_polls_until_an_invocation_is_queued() {
    let server = start().await;
    let addr = server.addr;
    let poll = tokio::spawn(async move { next(addr).await });
    // The first /next ends INIT even though no invocation is queued yet.
    server.api.wait_ready().await.unwrap();
    assert!(!poll.is_finished());
    let invoke = spawn_invoke(&server.api, invocation("late", "{\"n\":1}"));
    let event = poll.await.unwrap();
    assert_eq!(event.header("lambda-runtime-aws-request-id"), Some("late"));
    assert_eq!(event.body_str(), "{\"n\":1}");
    assert_eq!(post_response(addr, "late", b"1").await.status, 202);
    assert_eq!(invoke.await.unwrap().unwrap(), InvocationOutcome::Response(Bytes::from_static(b"1")));
}

#[tokio::test]
async fn wait_ready_resolves_only_after_the_first_next() {
    let server = start().await;
    assert!(is_pending(server.api.wait_ready()).await);
    let invoke = spawn_invoke(&server.api, invocation("first", "{}"));
    let event = next(server.addr).await;
    assert_eq!(event.status, 200);
    server.api.wait_ready().await.unwrap();
    post_response(server.addr, "first", b"{}").await;
    invoke.await.unwrap().unwrap();
}

#[tokio::test]
async fn error_reports_a_function_error() {
    let server = start().await;
    let invoke = spawn_invoke(&server.api, invocation("err-1", "{}"));
    next(server.addr).await;
    let body = br#"{"errorMessage":"boom","errorType":"ValueError","stackTrace":["a","b"]}"#;
    let reply = request(
        server.addr,
        "POST",
        "/2018-06-01/runtime/invocation/err-1/error",
        &[
            ("Lambda-Runtime-Function-Error-Type", "Unhandled"),
            ("Content-Type", "application/vnd.aws.lambda.error+json"),
        ],
        body,
    )
    .await;
    assert_eq!(reply.status, 202);
    assert_eq!(reply.body_str(), ACCEPTED);
    assert_eq!(
        invoke.await.unwrap().unwrap(),
        InvocationOutcome::FunctionError { error_type: Some("Unhandled".to_owned()), body: Bytes::from_static(body) }
    );
}

#[tokio::test]
async fn unknown_stale_and_duplicate_ids_get_400() {
    let server = start().await;
    let addr = server.addr;

    // Nothing in flight at all.
    let reply = post_response(addr, "nope", b"{}").await;
    assert_eq!((reply.status, reply.body_str()), (400, INVALID_REQUEST_ID));
    assert_eq!(reply.header("content-type"), Some("application/json"));

    // An empty id.
    let empty = post_response(addr, "", b"{}").await;
    assert_eq!((empty.status, empty.body_str()), (400, INVALID_REQUEST_ID));

    // Another id than the one in flight.
    let invoke = spawn_invoke(&server.api, invocation("a", "{}"));
    next(addr).await;
    let wrong = post_response(addr, "b", b"{}").await;
    assert_eq!((wrong.status, wrong.body_str()), (400, INVALID_REQUEST_ID));
    let wrong = request(addr, "POST", "/2018-06-01/runtime/invocation/b/error", &[], b"{}").await;
    assert_eq!((wrong.status, wrong.body_str()), (400, INVALID_REQUEST_ID));

    assert_eq!(post_response(addr, "a", b"1").await.status, 202);
    invoke.await.unwrap().unwrap();

    // Already answered: both a second response and a late error are stale.
    let again = post_response(addr, "a", b"2").await;
    assert_eq!((again.status, again.body_str()), (400, INVALID_REQUEST_ID));
    let late = request(addr, "POST", "/2018-06-01/runtime/invocation/a/error", &[], b"{}").await;
    assert_eq!((late.status, late.body_str()), (400, INVALID_REQUEST_ID));
}

#[tokio::test]
async fn reply_before_next_is_rejected() {
    let server = start().await;
    let invoke = queued(&server.api, invocation("early", "{}")).await;
    let reply = post_response(server.addr, "early", b"{}").await;
    assert_eq!((reply.status, reply.body_str()), (400, INVALID_REQUEST_ID));
    next(server.addr).await;
    assert_eq!(post_response(server.addr, "early", b"{}").await.status, 202);
    invoke.await.unwrap();
}

#[tokio::test]
async fn a_second_invoke_while_busy_fails_fast() {
    let server = start().await;
    let first = spawn_invoke(&server.api, invocation("one", "{}"));
    let event = next(server.addr).await;
    assert_eq!(event.header("lambda-runtime-aws-request-id"), Some("one"));
    assert_eq!(server.api.invoke(invocation("two", "{}")).await, Err(InvokeError::Busy));
    post_response(server.addr, "one", b"{}").await;
    first.await.unwrap().unwrap();
}

#[tokio::test]
async fn next_again_before_replying_redelivers_the_same_invocation() {
    let server = start().await;
    let invoke = spawn_invoke(&server.api, invocation("same", "{\"x\":1}"));
    let first = next(server.addr).await;
    let second = next(server.addr).await;
    assert_eq!(first.header("lambda-runtime-aws-request-id"), Some("same"));
    assert_eq!(second.header("lambda-runtime-aws-request-id"), Some("same"));
    assert_eq!(first.body, second.body);
    post_response(server.addr, "same", b"{}").await;
    invoke.await.unwrap().unwrap();
}

#[tokio::test]
async fn cancelled_invoke_after_delivery_does_not_wedge() {
    let server = start().await;
    let addr = server.addr;
    let invoke = spawn_invoke(&server.api, invocation("doomed", "{}"));
    let event = next(addr).await;
    assert_eq!(event.header("lambda-runtime-aws-request-id"), Some("doomed"));

    // The engine times out: it drops the invoke future.
    invoke.abort();
    assert!(invoke.await.unwrap_err().is_cancelled());

    // The runtime's late reply is stale.
    let late = post_response(addr, "doomed", b"{}").await;
    assert_eq!((late.status, late.body_str()), (400, INVALID_REQUEST_ID));

    // The environment still works.
    let poll = tokio::spawn(async move { next(addr).await });
    let invoke = spawn_invoke(&server.api, invocation("fresh", "{}"));
    let event = poll.await.unwrap();
    assert_eq!(event.header("lambda-runtime-aws-request-id"), Some("fresh"));
    assert_eq!(post_response(addr, "fresh", b"ok").await.status, 202);
    assert_eq!(invoke.await.unwrap().unwrap(), InvocationOutcome::Response(Bytes::from_static(b"ok")));
}

#[tokio::test]
async fn cancelled_invoke_before_delivery_is_never_served() {
    let server = start().await;
    let addr = server.addr;
    let invoke = queued(&server.api, invocation("withdrawn", "{}")).await;
    drop(invoke);

    let poll = tokio::spawn(async move { next(addr).await });
    server.api.wait_ready().await.unwrap();
    let invoke = spawn_invoke(&server.api, invocation("kept", "{}"));
    let event = poll.await.unwrap();
    assert_eq!(event.header("lambda-runtime-aws-request-id"), Some("kept"));
    post_response(addr, "kept", b"{}").await;
    invoke.await.unwrap().unwrap();
}

#[tokio::test]
async fn response_at_the_limit_is_accepted_and_one_byte_more_is_413() {
    let server = start().await;
    let mut conn = Conn::open(server.addr).await;
    let limit = wire::MAX_RESPONSE_PAYLOAD_BYTES;
    assert_eq!(limit, 6_291_556);

    let invoke = spawn_invoke(&server.api, invocation("fits", "{}"));
    conn.request("GET", "/2018-06-01/runtime/invocation/next", &[], b"").await;
    let body = vec![b'a'; limit];
    let reply = conn.request("POST", "/2018-06-01/runtime/invocation/fits/response", &[], &body).await;
    assert_eq!(reply.status, 202);
    match invoke.await.unwrap().unwrap() {
        InvocationOutcome::Response(data) => assert_eq!(data.len(), limit),
        other => panic!("expected a response, got {other:?}"),
    }

    let invoke = spawn_invoke(&server.api, invocation("big", "{}"));
    conn.request("GET", "/2018-06-01/runtime/invocation/next", &[], b"").await;
    let body = vec![b'a'; limit + 1];
    let reply = conn.request("POST", "/2018-06-01/runtime/invocation/big/response", &[], &body).await;
    assert_eq!(reply.status, 413);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(
        reply.body_str(),
        "{\"errorMessage\":\"Exceeded maximum allowed payload size (6291556 bytes).\",\"errorType\":\"RequestEntityTooLarge\"}\n"
    );
    assert_eq!(invoke.await.unwrap().unwrap(), InvocationOutcome::ResponseTooLarge);
    assert_eq!(
        &InvocationOutcome::response_too_large_body()[..],
        b"{\"errorType\":\"Function.ResponseSizeTooLarge\",\"errorMessage\":\"Response payload size exceeded maximum allowed payload size (6291556 bytes).\"}"
    );

    // The same keep-alive connection carries the next invocation.
    let invoke = spawn_invoke(&server.api, invocation("after", "{}"));
    let event = conn.request("GET", "/2018-06-01/runtime/invocation/next", &[], b"").await;
    assert_eq!(event.header("lambda-runtime-aws-request-id"), Some("after"));
    let reply = conn.request("POST", "/2018-06-01/runtime/invocation/after/response", &[], b"{}").await;
    assert_eq!(reply.status, 202);
    invoke.await.unwrap().unwrap();
}

#[tokio::test]
async fn large_response_with_expect_continue_like_curl() {
    let server = start().await;
    let mut conn = Conn::open(server.addr).await;
    let invoke = spawn_invoke(&server.api, invocation("curl", "{}"));
    conn.request("GET", "/2018-06-01/runtime/invocation/next", &[], b"").await;
    let body = vec![b'z'; 2 * 1024 * 1024];
    conn.send_raw(
        format!(
            "POST /2018-06-01/runtime/invocation/curl/response HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    )
    .await;
    let interim = conn.read_response().await;
    assert_eq!(interim.status, 100);
    conn.send_raw(&body).await;
    let reply = conn.read_response().await;
    assert_eq!(reply.status, 202);
    match invoke.await.unwrap().unwrap() {
        InvocationOutcome::Response(data) => assert_eq!(data.len(), body.len()),
        other => panic!("expected a response, got {other:?}"),
    }
}

#[tokio::test]
async fn init_error_is_reported_and_final() {
    let server = start().await;
    let addr = server.addr;
    let body =
        br#"{"errorMessage":"Unable to import module 'app'","errorType":"Runtime.ImportModuleError","stackTrace":[]}"#;
    let reply = request(
        addr,
        "POST",
        "/2018-06-01/runtime/init/error",
        &[("Lambda-Runtime-Function-Error-Type", "Runtime.ImportModuleError")],
        body,
    )
    .await;
    assert_eq!((reply.status, reply.body_str()), (202, ACCEPTED));
    let failure = InitFailure { error_type: "Runtime.ImportModuleError".to_owned(), body: Bytes::from_static(body) };
    assert_eq!(server.api.wait_ready().await, Err(failure.clone()));
    assert_eq!(server.api.invoke(invocation("x", "{}")).await, Err(InvokeError::InitFailed(failure)));

    let next = next(addr).await;
    assert_eq!(next.status, 403);
    assert_eq!(
        next.body_str(),
        "{\"errorMessage\":\"State transition from InitError to Ready failed for runtime. Error: State transition is not allowed\",\"errorType\":\"InvalidStateTransition\"}\n"
    );
    let again = request(addr, "POST", "/2018-06-01/runtime/init/error", &[], b"{}").await;
    assert_eq!(again.status, 403);
}

#[tokio::test]
async fn init_error_fails_an_invocation_queued_during_init() {
    let server = start().await;
    let invoke = queued(&server.api, invocation("cold", "{}")).await;
    let reply = request(server.addr, "POST", "/2018-06-01/runtime/init/error", &[], b"not json").await;
    assert_eq!(reply.status, 202);
    let expected =
        InitFailure { error_type: wire::UNKNOWN_ERROR_TYPE.to_owned(), body: Bytes::from_static(b"not json") };
    assert_eq!(invoke.await, Err(InvokeError::InitFailed(expected)));
}

#[tokio::test]
async fn init_error_after_init_is_an_invalid_state_transition() {
    let server = start().await;
    let invoke = spawn_invoke(&server.api, invocation("run", "{}"));
    next(server.addr).await;
    let reply = request(server.addr, "POST", "/2018-06-01/runtime/init/error", &[], b"{}").await;
    assert_eq!(reply.status, 403);
    assert_eq!(
        reply.body_str(),
        "{\"errorMessage\":\"State transition from Running to InitError failed for runtime. Error: State transition is not allowed\",\"errorType\":\"InvalidStateTransition\"}\n"
    );
    post_response(server.addr, "run", b"{}").await;
    invoke.await.unwrap().unwrap();
    let reply = request(server.addr, "POST", "/2018-06-01/runtime/init/error", &[], b"{}").await;
    assert_eq!(reply.status, 403);
    assert!(reply.body_str().contains("from Ready to InitError"));
}

#[tokio::test]
async fn unknown_paths_are_404_like_rapid() {
    let server = start().await;
    for path in [
        "/",
        "/2018-06-01/runtime/invocation",
        "/2018-06-01/runtime/unknown",
        "/2018-06-01/runtime/invocation/id/unknown",
        "/2020-01-01/extension/register",
    ] {
        let reply = request(server.addr, "GET", path, &[], b"").await;
        assert_eq!(reply.status, 404, "{path}");
        assert_eq!(reply.body_str(), "404 page not found\n", "{path}");
        assert_eq!(reply.header("content-type"), Some("text/plain; charset=utf-8"));
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
    }
}

#[tokio::test]
async fn wrong_method_on_a_known_path_is_405_like_rapid() {
    let server = start().await;
    let reply = request(server.addr, "POST", "/2018-06-01/runtime/invocation/next", &[], b"").await;
    assert_eq!(reply.status, 405);
    assert_eq!(reply.header("allow"), Some("GET,HEAD"));
    let reply = request(server.addr, "GET", "/2018-06-01/runtime/invocation/id/response", &[], b"").await;
    assert_eq!(reply.status, 405);
}

#[tokio::test]
async fn streamed_response_is_buffered_and_error_trailers_become_a_function_error() {
    let server = start().await;
    let mut conn = Conn::open(server.addr).await;

    let invoke = spawn_invoke(&server.api, invocation("s1", "{}"));
    conn.request("GET", "/2018-06-01/runtime/invocation/next", &[], b"").await;
    conn.send_raw(
        b"POST /2018-06-01/runtime/invocation/s1/response HTTP/1.1\r\nHost: x\r\n\
          Lambda-Runtime-Function-Response-Mode: streaming\r\nTransfer-Encoding: chunked\r\n\
          Trailer: Lambda-Runtime-Function-Error-Type\r\nTrailer: Lambda-Runtime-Function-Error-Body\r\n\r\n\
          5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
    )
    .await;
    assert_eq!(conn.read_response().await.status, 202);
    assert_eq!(invoke.await.unwrap().unwrap(), InvocationOutcome::Response(Bytes::from_static(b"hello world")));

    let invoke = spawn_invoke(&server.api, invocation("s2", "{}"));
    conn.request("GET", "/2018-06-01/runtime/invocation/next", &[], b"").await;
    // base64 of {"errorMessage":"mid-stream"}
    conn.send_raw(
        b"POST /2018-06-01/runtime/invocation/s2/response HTTP/1.1\r\nHost: x\r\n\
          Lambda-Runtime-Function-Response-Mode: streaming\r\nTransfer-Encoding: chunked\r\n\
          Trailer: Lambda-Runtime-Function-Error-Type\r\nTrailer: Lambda-Runtime-Function-Error-Body\r\n\r\n\
          4\r\npart\r\n0\r\n\
          Lambda-Runtime-Function-Error-Type: Runtime.StreamError\r\n\
          Lambda-Runtime-Function-Error-Body: eyJlcnJvck1lc3NhZ2UiOiJtaWQtc3RyZWFtIn0=\r\n\r\n",
    )
    .await;
    assert_eq!(conn.read_response().await.status, 202);
    assert_eq!(
        invoke.await.unwrap().unwrap(),
        InvocationOutcome::FunctionError {
            error_type: Some("Runtime.StreamError".to_owned()),
            body: Bytes::from_static(b"{\"errorMessage\":\"mid-stream\"}"),
        }
    );
}

#[tokio::test]
async fn a_poll_abandoned_by_a_dropped_connection_does_not_swallow_the_invocation() {
    let server = start().await;
    // The runtime starts a long poll, then its connection goes away.
    let mut abandoned = Conn::open(server.addr).await;
    abandoned.send_raw(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n").await;
    server.api.wait_ready().await.unwrap();
    drop(abandoned);

    // It polls again on a new connection; the invocation must reach this poll.
    let addr = server.addr;
    let poll = tokio::spawn(async move { next(addr).await });
    let invoke = spawn_invoke(&server.api, invocation("reaches", "{}"));
    let event = poll.await.unwrap();
    assert_eq!(event.header("lambda-runtime-aws-request-id"), Some("reaches"));
    assert_eq!(post_response(addr, "reaches", b"{}").await.status, 202);
    invoke.await.unwrap().unwrap();
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_until_one_closes() {
    use lambdabox_runtime_api::MAX_CONNECTIONS;
    let server = start().await;
    // Every one of these is accepted and served (a request proves it).
    let mut held = Vec::new();
    for _ in 0..MAX_CONNECTIONS {
        let mut conn = Conn::open(server.addr).await;
        let reply = conn.request("GET", "/2018-06-01/runtime/invocation/nope/response", &[], b"").await;
        assert_ne!(reply.status, 0);
        held.push(conn);
    }
    // One more connects (the kernel's backlog) but is not served ...
    let mut waiting = Conn::open(server.addr).await;
    let served = tokio::time::timeout(
        std::time::Duration::from_millis(300),
        waiting.request("GET", "/2018-06-01/runtime/invocation/nope/response", &[], b""),
    )
    .await;
    assert!(served.is_err(), "a connection past the cap was served");
    // ... until one of the held ones closes.
    drop(held.pop());
    let reply = tokio::time::timeout(std::time::Duration::from_secs(10), waiting.read_response()).await.unwrap();
    assert_ne!(reply.status, 0);
}
