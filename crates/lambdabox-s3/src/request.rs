//! What the endpoint knows of the request being served beyond s3s's input:
//! its ids (`x-amz-request-id` and `x-amz-id-2`, answered on every response
//! as S3 does and named by the event records the request causes), the
//! client's address, and the arguments an `InvalidArgument` names
//! (`ArgumentName1`/`ArgumentValue1`, …), which s3s's error type cannot
//! carry: [`crate::S3Endpoint::serve`] writes them into the error's body.

use std::sync::{Arc, Mutex};

use base64::Engine as _;

tokio::task_local! {
    static CURRENT: Arc<Request>;
}

/// One request's context.
#[derive(Debug)]
pub struct Request {
    pub id: String,
    pub host_id: String,
    pub source_ip: String,
    arguments: Mutex<Option<Arguments>>,
}

/// The arguments an error names: one (`ArgumentName`, `ArgumentValue`) or
/// numbered ones (`ArgumentName1`, `ArgumentValue1`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arguments {
    One(String, String),
    Numbered(Vec<(String, String)>),
}

/// S3's request id: 16 upper-case hex digits.
pub fn new_request_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..16].to_ascii_uppercase()
}

/// S3's `x-amz-id-2`: base64 of random bytes.
pub fn new_host_id() -> String {
    let mut bytes = Vec::with_capacity(48);
    for _ in 0..3 {
        bytes.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

impl Request {
    pub fn new(source_ip: String) -> Arc<Self> {
        Arc::new(Self { id: new_request_id(), host_id: new_host_id(), source_ip, arguments: Mutex::new(None) })
    }

    pub fn take_arguments(&self) -> Option<Arguments> {
        self.arguments.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

/// Runs `f` (the request's handling) with `request` as the current one.
pub async fn scope<F: Future>(request: Arc<Request>, f: F) -> F::Output {
    CURRENT.scope(request, f).await
}

/// The request being served, if any.
pub fn current() -> Option<Arc<Request>> {
    CURRENT.try_with(Arc::clone).ok()
}

/// Names the arguments of the error the current request is about to return.
pub fn set_arguments(arguments: Arguments) {
    if let Some(request) = current() {
        *request.arguments.lock().unwrap_or_else(|p| p.into_inner()) = Some(arguments);
    }
}

/// The error body with the arguments after its `<Message>` (where S3 puts them).
pub fn with_arguments(body: &[u8], arguments: &Arguments) -> Vec<u8> {
    let mut elements = String::new();
    let mut push = |name: &str, value: &str| {
        elements.push_str(&format!("<{name}>{}</{name}>", escape(value)));
    };
    match arguments {
        Arguments::One(name, value) => {
            push("ArgumentName", name);
            push("ArgumentValue", value);
        }
        Arguments::Numbered(pairs) => {
            for (i, (name, value)) in pairs.iter().enumerate() {
                push(&format!("ArgumentName{}", i + 1), name);
                push(&format!("ArgumentValue{}", i + 1), value);
            }
        }
    }
    let find = |needle: &[u8]| body.windows(needle.len()).position(|w| w == needle);
    let at = match (find(b"</Message>"), find(b"</Error>")) {
        (Some(i), _) => i + "</Message>".len(),
        (None, Some(i)) => i,
        (None, None) => return body.to_vec(),
    };
    let mut out = Vec::with_capacity(body.len() + elements.len());
    out.extend_from_slice(&body[..at]);
    out.extend_from_slice(elements.as_bytes());
    out.extend_from_slice(&body[at..]);
    out
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_look_like_s3s() {
        let id = new_request_id();
        assert_eq!(id.len(), 16);
        assert!(id.bytes().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)), "{id}");
        assert_eq!(new_host_id().len(), 64);
    }

    #[test]
    fn arguments_follow_the_message() {
        let body = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>InvalidArgument</Code><Message>m</Message></Error>";
        let one = with_arguments(body, &Arguments::One("Queue".into(), "a<b".into()));
        assert_eq!(
            std::str::from_utf8(&one).unwrap(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>InvalidArgument</Code><Message>m</Message>\
             <ArgumentName>Queue</ArgumentName><ArgumentValue>a&lt;b</ArgumentValue></Error>"
        );
        let two =
            with_arguments(body, &Arguments::Numbered(vec![("a".into(), "1".into()), ("b, null".into(), "2".into())]));
        assert!(std::str::from_utf8(&two).unwrap().ends_with(
            "<ArgumentName1>a</ArgumentName1><ArgumentValue1>1</ArgumentValue1>\
                 <ArgumentName2>b, null</ArgumentName2><ArgumentValue2>2</ArgumentValue2></Error>"
        ));
    }

    #[tokio::test]
    async fn arguments_are_kept_per_request() {
        set_arguments(Arguments::One("x".into(), "y".into())); // outside a request: ignored
        let request = Request::new("10.0.0.1".into());
        let inner = request.clone();
        scope(request.clone(), async move {
            assert_eq!(current().unwrap().id, inner.id);
            set_arguments(Arguments::One("n".into(), "v".into()));
        })
        .await;
        assert_eq!(request.take_arguments(), Some(Arguments::One("n".into(), "v".into())));
        assert!(current().is_none());
    }
}
