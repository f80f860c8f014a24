//! How an invocation ended. A function that throws, times out or crashes is
//! data, not a platform error.

use bytes::Bytes;

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The function's response.
    Ok(Bytes),
    /// The runtime reported an error (`/runtime/invocation/{id}/error`).
    FunctionError { error_type: Option<String>, body: Bytes },
    /// The response exceeded 6 MB.
    ResponseTooLarge,
    /// The invocation (or INIT) ran past its time.
    Timeout { seconds: f64 },
    /// INIT failed (`/runtime/init/error`).
    InitError { error_type: String, body: Bytes },
    /// The runtime could not be started (`Runtime.InvalidEntrypoint`): no
    /// bootstrap, or one that cannot be executed.
    InvalidEntrypoint { message: String },
    /// The runtime process exited (or was killed) mid-invocation.
    RuntimeExit { status: String, out_of_memory: bool },
}

impl Outcome {
    /// Whether the environment can serve another invocation afterwards.
    pub fn keeps_environment(&self) -> bool {
        matches!(self, Self::Ok(_) | Self::FunctionError { .. } | Self::ResponseTooLarge)
    }

    pub fn is_error(&self) -> bool {
        !matches!(self, Self::Ok(_))
    }

    /// AWS's error type for a failed invocation.
    pub fn error_type(&self) -> Option<String> {
        match self {
            Self::Ok(_) => None,
            Self::FunctionError { error_type, .. } => Some(error_type.clone().unwrap_or_else(|| "Unhandled".into())),
            Self::ResponseTooLarge => Some("Function.ResponseSizeTooLarge".into()),
            Self::Timeout { .. } => Some("Sandbox.Timedout".into()),
            Self::InitError { error_type, .. } => Some(error_type.clone()),
            Self::InvalidEntrypoint { .. } => Some("Runtime.InvalidEntrypoint".into()),
            Self::RuntimeExit { out_of_memory: true, .. } => Some("Runtime.OutOfMemory".into()),
            Self::RuntimeExit { .. } => Some("Runtime.ExitError".into()),
        }
    }

    /// The body the caller receives.
    pub fn payload(&self, request_id: &str) -> Bytes {
        let error = |error_type: &str, message: String| {
            Bytes::from(serde_json::json!({ "errorType": error_type, "errorMessage": message }).to_string())
        };
        match self {
            Self::Ok(body) => body.clone(),
            Self::FunctionError { body, .. } | Self::InitError { body, .. } => body.clone(),
            Self::ResponseTooLarge => lambdabox_runtime_api::InvocationOutcome::response_too_large_body(),
            Self::Timeout { seconds } => error(
                "Sandbox.Timedout",
                format!("RequestId: {request_id} Error: Task timed out after {seconds:.2} seconds"),
            ),
            Self::InvalidEntrypoint { message } => {
                error("Runtime.InvalidEntrypoint", format!("RequestId: {request_id} Error: {message}"))
            }
            Self::RuntimeExit { status, out_of_memory } => error(
                if *out_of_memory { "Runtime.OutOfMemory" } else { "Runtime.ExitError" },
                format!("RequestId: {request_id} Error: Runtime exited with error: {status}"),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_like_aws() {
        let t = Outcome::Timeout { seconds: 3.0 };
        let body: serde_json::Value = serde_json::from_slice(&t.payload("abc")).unwrap();
        assert_eq!(body["errorType"], "Sandbox.Timedout");
        assert_eq!(body["errorMessage"], "RequestId: abc Error: Task timed out after 3.00 seconds");
        assert!(!t.keeps_environment());

        let e = Outcome::RuntimeExit { status: "exit status 1".into(), out_of_memory: false };
        let body: serde_json::Value = serde_json::from_slice(&e.payload("abc")).unwrap();
        assert_eq!(body["errorMessage"], "RequestId: abc Error: Runtime exited with error: exit status 1");
        assert_eq!(e.error_type().as_deref(), Some("Runtime.ExitError"));

        let oom = Outcome::RuntimeExit { status: "signal: killed".into(), out_of_memory: true };
        assert_eq!(oom.error_type().as_deref(), Some("Runtime.OutOfMemory"));
        assert!(Outcome::Ok(Bytes::new()).keeps_environment());
    }
}
